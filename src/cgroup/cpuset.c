// SPDX-License-Identifier: MIT
/*
 * The cpuset controller's memory side (kernel/cgroup/cpuset.c, cgroup v2):
 * cpuset.mems and cpuset.mems.effective, node lists in the kernel's
 * "%*pbl" format. CPUs are not modeled.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"

#define MAX_NUMNODES 1024 /* nodelist_parse's width (CONFIG_NODES_SHIFT=10): beyond it, -ERANGE */

int ccmm_nodelist_parse(const char *text, unsigned nr_nodes, uint32_t *mask)
{
	const char *p = text;
	uint32_t m = 0;
	bool far = false;

	while (isspace((unsigned char)*p))
		p++;
	while (*p && !isspace((unsigned char)*p)) {
		unsigned long lo, hi;
		char *end;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		lo = strtoul(p, &end, 10);
		hi = lo;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return -EINVAL;
			hi = strtoul(p + 1, &end, 10);
			p = end;
		}
		if (lo > hi)
			return -EINVAL; /* bitmap_parselist: a reversed range */
		if (hi >= MAX_NUMNODES)
			return -ERANGE;
		for (unsigned long n = lo; n <= hi; n++) {
			if (n >= nr_nodes || n >= 32)
				far = true;
			else
				m |= 1u << n;
		}
		if (*p == ',') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
		} else if (*p && !isspace((unsigned char)*p)) {
			return -EINVAL;
		}
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p)
		return -EINVAL;
	*mask = m;
	/* a node the machine does not have is not in top_cpuset.mems_allowed: the caller's -EINVAL */
	return far ? -ENODEV : 0;
}

char *ccmm_nodelist_format(uint32_t mask, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (int n = 0; n < 32; n++) {
		int end = n;

		if (!(mask & (1u << n)))
			continue;
		while (end + 1 < 32 && (mask & (1u << (end + 1))))
			end++;
		if (end == n)
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%d", used ? "," : "", n);
		else
			used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%d-%d", used ? "," : "", n, end);
		n = end;
	}
	return buf;
}

void ccmm_cpuset_set_memory_nodes(struct ccmm_cgroup_root *root, uint32_t mask)
{
	atomic_store(&root->mems_online, mask);
}

/* The effective mems of @cg, which has the cpuset controller or is the root. Tree lock held. */
static uint32_t effective_locked(struct ccmm_cgroup *cg)
{
	uint32_t parent, mine;

	if (!cg->parent)
		return atomic_load(&cg->root->mems_online);
	parent = effective_locked(ccmm_cpuset_css(cg->parent));
	mine = atomic_load(&cg->cpuset_mems) & parent;
	/* v2: an empty result (or nothing written) inherits the parent's */
	return mine ? mine : parent;
}

struct ccmm_cgroup *ccmm_cpuset_css(struct ccmm_cgroup *cg)
{
	while (cg->parent && !ccmm_cgroup_has_ctrl(cg, CCMM_CGRP_CPUSET))
		cg = cg->parent;
	return cg;
}

uint32_t ccmm_cpuset_mems_effective(struct ccmm_cgroup *cg)
{
	struct ccmm_cgroup_root *root = cg->root;
	uint32_t m;

	pthread_rwlock_rdlock(&root->tree_lock);
	m = effective_locked(ccmm_cpuset_css(cg));
	pthread_rwlock_unlock(&root->tree_lock);
	return m;
}

/* cpuset.mems: "%*pbl\n" of mems_allowed (cpuset_common_seq_show, FILE_MEMLIST). */
void _ccmm_cpuset_mems_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	char list[160];

	_ccmm_cgb_printf(b, "%s\n", ccmm_nodelist_format(atomic_load(&cg->cpuset_mems), list, sizeof(list)));
}

/* cpuset.mems.effective (FILE_EFFECTIVE_MEMLIST). Tree lock held. */
void _ccmm_cpuset_mems_effective_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	char list[160];

	_ccmm_cgb_printf(b, "%s\n", ccmm_nodelist_format(effective_locked(cg), list, sizeof(list)));
}

/* update_nodemask: a node list of nodes with memory, or nothing. */
int _ccmm_cpuset_mems_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	uint32_t mask = 0, online;
	int ret = ccmm_nodelist_parse(text, 32, &mask);

	if (ret == -EINVAL)
		return _ccmm_cg_why(why, why_len, -EINVAL, "'%s' is not a node list (\"0-1,3\")", text);
	if (ret == -ERANGE)
		return _ccmm_cg_why(why, why_len, -ERANGE, "'%s': a node number past the kernel's %d", text, MAX_NUMNODES);
	if (!cg)
		return 0;
	online = atomic_load(&cg->root->mems_online);
	if (ret == -ENODEV || (mask & ~online))
		return _ccmm_cg_why(why, why_len, -EINVAL, "'%s': not every node has memory (top_cpuset.mems_allowed)", text);
	atomic_store(&cg->cpuset_mems, mask);
	return 0;
}
