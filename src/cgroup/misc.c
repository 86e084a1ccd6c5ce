// SPDX-License-Identifier: MIT
/*
 * The misc controller (kernel/cgroup/misc.c): mainline's resources (sev,
 * sev_es, and tdx since KVM TDX, 6.16), with the sgx_epc resource and the
 * per-resource ops of the EPC cgroup series (never merged).
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cgroup/internal.h"

/* misc_res_name[]: mainline's (sev, sev_es, tdx), then the EPC cgroup series' sgx_epc */
static const char *const res_names[CCMM_MISC_NR] = { "sev", "sev_es", "tdx", "sgx_epc" };

const char *ccmm_misc_res_name(enum ccmm_misc_res_type r)
{
	return (unsigned)r < CCMM_MISC_NR ? res_names[r] : "?";
}

void ccmm_misc_cg_set_capacity(struct ccmm_cgroup_root *root, enum ccmm_misc_res_type res, uint64_t amount)
{
	atomic_store(&root->misc_capacity[res], amount);
}

uint64_t ccmm_misc_cg_capacity(struct ccmm_cgroup_root *root, enum ccmm_misc_res_type res)
{
	return atomic_load(&root->misc_capacity[res]);
}

int ccmm_misc_cg_set_ops(struct ccmm_cgroup_root *root, enum ccmm_misc_res_type res, const struct ccmm_misc_res_ops *ops,
			 void *arg)
{
	struct ccmm_cgroup *pos = NULL;
	int ret = 0;

	pthread_rwlock_wrlock(&root->tree_lock);
	root->misc_ops[res] = ops;
	root->misc_ops_arg[res] = arg;
	while (ops && ops->alloc && !ret && (pos = ccmm_cgroup_next_descendant_pre(pos, root->top)))
		if (!pos->misc[res].priv)
			ret = ops->alloc(pos, arg);
	pthread_rwlock_unlock(&root->tree_lock);
	return ret;
}

struct ccmm_cgroup *ccmm_misc_cg_css(struct ccmm_cgroup *cg)
{
	while (cg->parent && !ccmm_cgroup_has_ctrl(cg, CCMM_CGRP_MISC))
		cg = cg->parent;
	return cg;
}

static void cancel_charge(enum ccmm_misc_res_type res, struct ccmm_cgroup *cg, uint64_t amount)
{
	uint64_t old = atomic_fetch_sub(&cg->misc[res].usage, amount);

	/* the kernel WARNs on a negative usage and clamps it; it never happens here */
	if (old < amount)
		atomic_store(&cg->misc[res].usage, 0);
}

static void update_watermark(struct ccmm_misc_res *r, uint64_t new_usage)
{
	uint64_t old = atomic_load(&r->watermark);

	while (new_usage > old && !atomic_compare_exchange_weak(&r->watermark, &old, new_usage))
		;
}

int ccmm_misc_cg_try_charge(enum ccmm_misc_res_type res, struct ccmm_cgroup *cg, uint64_t amount)
{
	struct ccmm_cgroup_root *root;
	struct ccmm_cgroup *i, *j;
	uint64_t cap;

	if ((unsigned)res >= CCMM_MISC_NR || !cg)
		return -EINVAL;
	root = cg->root;
	cap = atomic_load(&root->misc_capacity[res]);
	if (!cap)
		return -EINVAL;
	if (!amount)
		return 0;
	for (i = cg; i; i = i->parent) {
		struct ccmm_misc_res *r = &i->misc[res];
		uint64_t new_usage = atomic_fetch_add(&r->usage, amount) + amount;

		if (new_usage > atomic_load(&r->max) || new_usage > cap)
			goto fail;
		update_watermark(r, new_usage);
	}
	return 0;
fail:
	atomic_fetch_add(&i->misc[res].events_local, 1);
	for (j = i; j; j = j->parent)
		atomic_fetch_add(&j->misc[res].events, 1);
	for (j = cg; j != i; j = j->parent)
		cancel_charge(res, j, amount);
	cancel_charge(res, i, amount);
	return -EBUSY;
}

void ccmm_misc_cg_uncharge(enum ccmm_misc_res_type res, struct ccmm_cgroup *cg, uint64_t amount)
{
	if ((unsigned)res >= CCMM_MISC_NR || !amount)
		return;
	for (; cg; cg = cg->parent)
		cancel_charge(res, cg, amount);
}

/* kstrtoull(s, 0): the whole string must be a number (optional '+'). */
static int kstrtoull0(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;

	if (*s == '+')
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && s[1]) {
		base = 8;
		s++;
	}
	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d;

		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			return -EINVAL;
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

int ccmm_misc_parse_max(const char *text, enum ccmm_misc_res_type *res, uint64_t *max)
{
	const char *sp = strchr(text, ' ');
	size_t n;
	int r;

	/* strsep(&buf, " "): the resource name, then everything after the first space */
	if (!sp)
		return -EINVAL;
	n = (size_t)(sp - text);
	for (r = 0; r < CCMM_MISC_NR; r++)
		if (strlen(res_names[r]) == n && !strncmp(text, res_names[r], n))
			break;
	if (r == CCMM_MISC_NR)
		return -EINVAL;
	*res = (enum ccmm_misc_res_type)r;
	if (!strcmp(sp + 1, "max")) {
		*max = CCMM_MISC_MAX;
		return 0;
	}
	return kstrtoull0(sp + 1, max);
}

int _ccmm_misc_max_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	enum ccmm_misc_res_type res;
	uint64_t max;
	int ret = ccmm_misc_parse_max(text, &res, &max);

	if (ret == -ERANGE)
		return _ccmm_cg_why(why, why_len, ret, "'%s': the number does not fit in 64 bits", text);
	if (ret) {
		const char *sp = strchr(text, ' ');

		if (!sp)
			return _ccmm_cg_why(why, why_len, ret, "'%s': expected 'RESOURCE max' or 'RESOURCE NUMBER'", text);
		for (int r = 0; r < CCMM_MISC_NR; r++)
			if ((size_t)(sp - text) == strlen(res_names[r]) && !strncmp(text, res_names[r], strlen(res_names[r])))
				return _ccmm_cg_why(why, why_len, ret, "'%s': '%s' is neither 'max' nor a number", text, sp + 1);
		return _ccmm_cg_why(why, why_len, ret, "'%s': unknown misc resource '%.*s' (sev, sev_es, tdx, sgx_epc)", text,
			      (int)(sp - text), text);
	}
	if (!cg)
		return 0;
	if (!atomic_load(&cg->root->misc_capacity[res]))
		return _ccmm_cg_why(why, why_len, -EINVAL, "%s has no capacity on this machine", res_names[res]);
	/* no reclaim: lowering max below usage only refuses new charges (the series' semantics) */
	atomic_store(&cg->misc[res].max, max);
	return 0;
}

void _ccmm_misc_max_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	for (int r = 0; r < CCMM_MISC_NR; r++) {
		uint64_t max;

		if (!atomic_load(&cg->root->misc_capacity[r]))
			continue;
		max = atomic_load(&cg->misc[r].max);
		if (max == CCMM_MISC_MAX)
			_ccmm_cgb_printf(b, "%s max\n", res_names[r]);
		else
			_ccmm_cgb_printf(b, "%s %" PRIu64 "\n", res_names[r], max);
	}
}

void _ccmm_misc_current_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	for (int r = 0; r < CCMM_MISC_NR; r++) {
		uint64_t usage = atomic_load(&cg->misc[r].usage);

		if (atomic_load(&cg->root->misc_capacity[r]) || usage)
			_ccmm_cgb_printf(b, "%s %" PRIu64 "\n", res_names[r], usage);
	}
}

void _ccmm_misc_peak_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	for (int r = 0; r < CCMM_MISC_NR; r++) {
		uint64_t w = atomic_load(&cg->misc[r].watermark);

		if (atomic_load(&cg->root->misc_capacity[r]) || w)
			_ccmm_cgb_printf(b, "%s %" PRIu64 "\n", res_names[r], w);
	}
}

void _ccmm_misc_capacity_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	for (int r = 0; r < CCMM_MISC_NR; r++) {
		uint64_t cap = atomic_load(&cg->root->misc_capacity[r]);

		if (cap)
			_ccmm_cgb_printf(b, "%s %" PRIu64 "\n", res_names[r], cap);
	}
}

static void events(struct ccmm_cgroup *cg, struct cg_buf *b, bool local)
{
	for (int r = 0; r < CCMM_MISC_NR; r++) {
		uint64_t ev = atomic_load(local ? &cg->misc[r].events_local : &cg->misc[r].events);

		if (atomic_load(&cg->root->misc_capacity[r]) || ev)
			_ccmm_cgb_printf(b, "%s.max %" PRIu64 "\n", res_names[r], ev);
	}
}

void _ccmm_misc_events_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	events(cg, b, false);
}

void _ccmm_misc_events_local_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	events(cg, b, true);
}
