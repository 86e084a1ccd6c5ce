// SPDX-License-Identifier: MIT
/*
 * The model's /proc/vmstat and per-node meminfo, in the kernel's names,
 * order and layout (mm/vmstat.c vmstat_text[] and vmstat_show();
 * drivers/base/node.c node_read_meminfo()).
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "tier/internal.h"

const char *const ccmm_vmstat_names[CCMM_VM_NR] = {
#define CCMM_VMSTAT_NAME(name) #name,
	CCMM_VMSTATS(CCMM_VMSTAT_NAME, CCMM_VMSTAT_NAME)
#undef CCMM_VMSTAT_NAME
};

static const bool is_state[CCMM_VM_NR] = {
#define STATE_TRUE(name) true,
#define STATE_FALSE(name) false,
	CCMM_VMSTATS(STATE_TRUE, STATE_FALSE)
#undef STATE_TRUE
#undef STATE_FALSE
};

bool ccmm_vmstat_is_state(enum ccmm_vmstat item)
{
	return (unsigned)item < CCMM_VM_NR && is_state[item];
}

static uint64_t lru_total(struct ccmm_machine *m, struct ccmm_tier *T, int list)
{
	uint64_t v = 0;

	for (int n = 0; n < (int)m->plat->nr_nodes; n++)
		v += T->lru[n][list].nr;
	return v;
}

static uint64_t node_sum(struct ccmm_machine *m, const uint64_t *per_node)
{
	uint64_t v = 0;

	for (int n = 0; n < (int)m->plat->nr_nodes; n++)
		v += per_node[n];
	return v;
}

uint64_t _ccmm_vmstat_locked(struct ccmm_machine *m, struct ccmm_tier *T, enum ccmm_vmstat item)
{
	switch (item) {
	case CCMM_VM_nr_free_pages:
		return ccmm_node_free_pages(m, -1);
	case CCMM_VM_nr_zone_inactive_anon: /* one zone per node: the zone counts are the node's */
	case CCMM_VM_nr_inactive_anon:
		return lru_total(m, T, LRU_INACTIVE_ANON);
	case CCMM_VM_nr_zone_active_anon:
	case CCMM_VM_nr_active_anon:
		return lru_total(m, T, LRU_ACTIVE_ANON);
	case CCMM_VM_nr_zone_inactive_file:
	case CCMM_VM_nr_inactive_file:
		return lru_total(m, T, LRU_INACTIVE_FILE);
	case CCMM_VM_nr_zone_active_file:
	case CCMM_VM_nr_active_file:
		return lru_total(m, T, LRU_ACTIVE_FILE);
	case CCMM_VM_nr_zone_unevictable:
	case CCMM_VM_nr_unevictable:
	case CCMM_VM_nr_mlock: /* the only unevictable pages are mlocked ones */
		return lru_total(m, T, LRU_UNEVICTABLE);
	case CCMM_VM_nr_anon_pages:
		return node_sum(m, T->nr_anon);
	case CCMM_VM_nr_mapped: /* every file page of a task is mapped */
	case CCMM_VM_nr_file_pages:
		return node_sum(m, T->nr_file);
	case CCMM_VM_nr_dirty:
		return node_sum(m, T->nr_dirty);
	case CCMM_VM_nr_page_table_pages:
		return node_sum(m, T->nr_pgtables);
	case CCMM_VM_oom_kill:
		/* the OOM killers live in the memory controller; it counts every kill */
		return ccmm_cgroup_root_of(m) ? ccmm_memcg_oom_kills(ccmm_cgroup_root_of(m)) : T->vm[item];
	default:
		return (unsigned)item < CCMM_VM_NR ? T->vm[item] : 0;
	}
}

uint64_t ccmm_vmstat_get(struct ccmm_machine *m, enum ccmm_vmstat item)
{
	struct ccmm_tier *T = _ccmm_tier_of(m);
	uint64_t v;

	pthread_mutex_lock(&T->lock);
	v = _ccmm_vmstat_locked(m, T, item);
	pthread_mutex_unlock(&T->lock);
	return v;
}

void ccmm_tier_node_stats(struct ccmm_machine *m, int node, uint64_t *demoted, uint64_t *promoted)
{
	struct ccmm_tier *T = _ccmm_tier_of(m);

	*demoted = *promoted = 0;
	if (!T || node < 0 || node >= CCMM_MAX_NODES)
		return;
	pthread_mutex_lock(&T->lock);
	*demoted = T->node_demoted[node];
	*promoted = T->node_promoted[node];
	pthread_mutex_unlock(&T->lock);
}

uint64_t ccmm_vmstat_first_ns(struct ccmm_machine *m, enum ccmm_vmstat item)
{
	struct ccmm_tier *T = _ccmm_tier_of(m);
	uint64_t v;

	if ((unsigned)item >= CCMM_VM_NR || is_state[item])
		return UINT64_MAX;
	/* oom_kill: counted by the memory controller, timed by the fault that triggered it */
	pthread_mutex_lock(&T->lock);
	v = T->first_ns[item];
	pthread_mutex_unlock(&T->lock);
	return v;
}

int ccmm_vmstat_write(struct ccmm_machine *m, FILE *out)
{
	struct ccmm_tier *T = _ccmm_tier_of(m);
	uint64_t v[CCMM_VM_NR];

	pthread_mutex_lock(&T->lock);
	for (int i = 0; i < CCMM_VM_NR; i++)
		v[i] = _ccmm_vmstat_locked(m, T, (enum ccmm_vmstat)i);
	pthread_mutex_unlock(&T->lock);
	/* vmstat_show: seq_puts(name); seq_put_decimal_ull(" ", value); seq_putc('\n') */
	for (int i = 0; i < CCMM_VM_NR; i++)
		fprintf(out, "%s %" PRIu64 "\n", ccmm_vmstat_names[i], v[i]);
	return ferror(out) ? -EIO : 0;
}

int ccmm_node_meminfo_write(struct ccmm_machine *m, int node, FILE *out)
{
	struct ccmm_tier *T = _ccmm_tier_of(m);
	uint64_t total, free_pages, lru[NR_LRU], file, anon, dirty, pgtables;
	const uint64_t kb = CCMM_PAGE_SIZE >> 10;

	if (node < 0 || node >= (int)m->plat->nr_nodes)
		return -EINVAL;
	pthread_mutex_lock(&T->lock);
	total = T->online[node] ? ccmm_platform_ram(m->plat, node) >> CCMM_PAGE_SHIFT : 0;
	free_pages = T->online[node] ? ccmm_node_free_pages(m, node) : 0;
	for (int l = 0; l < NR_LRU; l++)
		lru[l] = T->lru[node][l].nr;
	file = T->nr_file[node];
	anon = T->nr_anon[node];
	dirty = T->nr_dirty[node];
	pgtables = T->nr_pgtables[node];
	pthread_mutex_unlock(&T->lock);
	/* node_read_meminfo: "Node %d %-16s%8lu kB\n" with the key's colon, for the lines the model has */
#define LINE(key, pages) fprintf(out, "Node %d %-16s%8" PRIu64 " kB\n", node, key ":", (uint64_t)(pages) * kb)
	LINE("MemTotal", total);
	LINE("MemFree", free_pages);
	LINE("MemUsed", total - free_pages);
	LINE("Active", lru[LRU_ACTIVE_ANON] + lru[LRU_ACTIVE_FILE]);
	LINE("Inactive", lru[LRU_INACTIVE_ANON] + lru[LRU_INACTIVE_FILE]);
	LINE("Active(anon)", lru[LRU_ACTIVE_ANON]);
	LINE("Inactive(anon)", lru[LRU_INACTIVE_ANON]);
	LINE("Active(file)", lru[LRU_ACTIVE_FILE]);
	LINE("Inactive(file)", lru[LRU_INACTIVE_FILE]);
	LINE("Unevictable", lru[LRU_UNEVICTABLE]);
	LINE("Mlocked", lru[LRU_UNEVICTABLE]);
	LINE("Dirty", dirty);
	LINE("FilePages", file);
	LINE("Mapped", file);
	LINE("AnonPages", anon);
	LINE("PageTables", pgtables);
#undef LINE
	return ferror(out) ? -EIO : 0;
}
