// SPDX-License-Identifier: MIT
/*
 * Node LRUs, page references of tasks, allocation with watermarks, kswapd,
 * direct and memcg reclaim with demotion in lieu of discard, NUMA-balancing
 * promotion and memory hotplug (mm/vmscan.c, mm/memory-tiers.c,
 * mm/migrate.c, mm/page_alloc.c, kernel/sched/fair.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "tier/internal.h"

CCMM_COST_BLOCK_DEFINE(tier, CCMM_TIER_COSTS, CCMM_TIER_COUNTERS);

#define SWAP_CLUSTER_MAX 32
#define RECLAIM_DISTANCE 30 /* node_reclaim only reclaims nodes this close */

struct tpage {
	struct ccmm_lru_node lru;
	uint64_t pa;
	struct ccmm_tier_task *owner;
	uint64_t vpn;
	uint64_t numa_scan_ns; /* when a NUMA-balancing scan made its PTE PROT_NONE (+1); 0: not marked */
	int node;
	uint8_t list;          /* which LRU it is on */
	bool anon, dirty, referenced;
};

enum vstate { V_NONE, V_RESIDENT, V_SWAPPED, V_EVICTED };

struct ventry {
	uint64_t key; /* vpn + 1; 0: empty */
	uint8_t state;
	struct tpage *page;
};

struct ccmm_tier_task {
	struct ccmm_machine *m;
	int node;                  /* the preferred (or bound) node */
	int cpu_node;              /* where it runs: numa_node_id() */
	bool anon, bind, mlocked;
	struct ccmm_cgroup *memcg; /* charged for every resident page (a reference), or NULL */
	struct ccmm_task *proc;    /* the process: OOM killer, mm counters, cpuset; or NULL */
	uint64_t charged;          /* pages charged to memcg now */
	struct ventry *map;
	size_t cap, used;
	uint64_t *pt;              /* page tables present: (level << 56 | index) + 1, open addressing */
	size_t pt_cap, pt_used;
	bool started;
	uint64_t numa_next_scan_ns;
	size_t numa_scan_pos;
	struct ccmm_tier_task_stats st;
};

static uint64_t tier_memcg_reclaim(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr, void *arg);

struct ccmm_tier *_ccmm_tier_of(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_tier);
}

#define tier_of _ccmm_tier_of

void _ccmm_vm_count(struct ccmm_tier *T, const struct ccmm_ctx *ctx, enum ccmm_vmstat item, uint64_t n)
{
	if (!n)
		return;
	if (T->first_ns[item] == UINT64_MAX)
		T->first_ns[item] = ctx ? ctx->now_ns : 0;
	T->vm[item] += n;
}

#define vm_count _ccmm_vm_count

static uint64_t node_pages(struct ccmm_machine *m, int node)
{
	return ccmm_platform_ram(m->plat, node) >> CCMM_PAGE_SHIFT;
}

/* int_sqrt */
static uint64_t isqrt(uint64_t x)
{
	uint64_t r = 0, b = 1ull << 62;

	while (b > x)
		b >>= 2;
	while (b) {
		if (x >= r + b) {
			x -= r + b;
			r = (r >> 1) + b;
		} else {
			r >>= 1;
		}
		b >>= 2;
	}
	return r;
}

/*
 * calculate_min_free_kbytes and __setup_per_zone_wmarks, one zone per
 * online node with memory; the lowmem pages are every such node's RAM
 * (nr_free_buffer_pages counts managed pages less their high watermark:
 * a difference the square root hides). T->lock held or not yet shared.
 */
static void setup_watermarks(struct ccmm_machine *m, struct ccmm_tier *T)
{
	uint64_t lowmem = 0, pages_min, wsf = T->cfg.watermark_scale_factor ? T->cfg.watermark_scale_factor : 10;

	for (int n = 0; n < (int)m->plat->nr_nodes; n++)
		if (T->online[n])
			lowmem += node_pages(m, n);
	if (T->cfg.min_free_kbytes) {
		T->min_free_kbytes = T->cfg.min_free_kbytes;
	} else {
		T->min_free_kbytes = isqrt(lowmem * (CCMM_PAGE_SIZE >> 10) * 16);
		T->min_free_kbytes = CCMM_MAX(T->min_free_kbytes, 128);
		T->min_free_kbytes = CCMM_MIN(T->min_free_kbytes, 262144);
	}
	pages_min = T->min_free_kbytes >> (CCMM_PAGE_SHIFT - 10);
	for (int n = 0; n < CCMM_MAX_NODES; n++) {
		struct ccmm_watermarks *w = &T->wmark[n];
		uint64_t managed = n < (int)m->plat->nr_nodes && T->online[n] ? node_pages(m, n) : 0, tmp;

		memset(w, 0, sizeof(*w));
		if (!managed || !lowmem)
			continue;
		w->min = pages_min * managed / lowmem;
		/* the kswapd gaps: a quarter of min, or watermark_scale_factor of the node */
		tmp = CCMM_MAX(w->min >> 2, managed * wsf / 10000);
		w->low = w->min + tmp;
		w->high = w->low + tmp;
		w->promo = w->high + tmp;
	}
}

static int kswapd_fn(struct ccmm_kthread *k, void *data);

static int tier_init(struct ccmm_machine *m)
{
	struct ccmm_tier *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	for (int n = 0; n < CCMM_MAX_NODES; n++) {
		for (int l = 0; l < NR_LRU; l++)
			ccmm_lru_init(&t->lru[n][l]);
		t->online[n] = n < (int)m->plat->nr_nodes && m->plat->node[n].online;
	}
	for (int i = 0; i < CCMM_VM_NR; i++)
		t->first_ns[i] = UINT64_MAX;
	ccmm_rng_seed(&t->rng, m->seed, 0x7e1e);
	t->cfg.batch = SWAP_CLUSTER_MAX;
	t->cfg.order = CCMM_DEMOTE_TIERS;
	setup_watermarks(m, t);
	/* kswapd_init: a kswapd for every node with memory (one onlined later by hotplug has its own already) */
	for (int n = 0; n < (int)m->plat->nr_nodes && n < CCMM_MAX_NODES; n++) {
		char name[16];

		if (!node_pages(m, n))
			continue;
		snprintf(name, sizeof(name), "kswapd%d", n);
		ccmm_kthread_create(m, &t->kswapd[n], name, kswapd_fn, t);
		t->kswapd_made[n] = true;
	}
	ccmm_subsys_set_data(m, &ccmm_subsys_tier, t);
	if (ccmm_cgroup_root_of(m))
		ccmm_memcg_set_reclaim(ccmm_cgroup_root_of(m), tier_memcg_reclaim, m);
	/* a platform whose explicit targets point up the tiers computes none */
	if (ccmm_demotion_compute(m->plat, t->online, t->cfg.order, &t->dem))
		memset(t->dem.preferred, 0, sizeof(t->dem.preferred));
	return 0;
}

static void tier_exit(struct ccmm_machine *m)
{
	struct ccmm_tier *t = tier_of(m);

	if (!t)
		return;
	if (ccmm_cgroup_root_of(m))
		ccmm_memcg_set_reclaim(ccmm_cgroup_root_of(m), NULL, NULL);
	for (int n = 0; n < CCMM_MAX_NODES; n++)
		if (t->kswapd_made[n])
			ccmm_kthread_destroy(&t->kswapd[n]);
	pthread_mutex_destroy(&t->lock);
	free(t);
	ccmm_subsys_set_data(m, &ccmm_subsys_tier, NULL);
}

int ccmm_tier_configure(struct ccmm_machine *m, const struct ccmm_tier_config *cfg)
{
	struct ccmm_tier *t = tier_of(m);
	struct ccmm_demotion d = t->dem;
	int ret;

	if (cfg->watermark_scale_factor > 3000)
		return -EINVAL;
	pthread_mutex_lock(&t->lock);
	ret = ccmm_demotion_compute(m->plat, t->online, cfg->order, &d);
	if (!ret) {
		t->cfg = *cfg;
		if (!t->cfg.batch)
			t->cfg.batch = SWAP_CLUSTER_MAX;
		t->dem = d;
		setup_watermarks(m, t);
	}
	pthread_mutex_unlock(&t->lock);
	if (!ret && ccmm_cgroup_root_of(m))
		ccmm_memcg_set_total_swap(ccmm_cgroup_root_of(m), cfg->swap_pages);
	return ret;
}

void ccmm_tier_demotion(struct ccmm_machine *m, struct ccmm_demotion *out)
{
	struct ccmm_tier *t = tier_of(m);

	pthread_mutex_lock(&t->lock);
	*out = t->dem;
	pthread_mutex_unlock(&t->lock);
}

void ccmm_node_watermarks(struct ccmm_machine *m, int node, struct ccmm_watermarks *w)
{
	struct ccmm_tier *t = tier_of(m);

	pthread_mutex_lock(&t->lock);
	*w = node >= 0 && node < CCMM_MAX_NODES ? t->wmark[node] : (struct ccmm_watermarks){ 0 };
	pthread_mutex_unlock(&t->lock);
}

uint64_t ccmm_tier_min_free_kbytes(struct ccmm_machine *m)
{
	struct ccmm_tier *t = tier_of(m);
	uint64_t v;

	pthread_mutex_lock(&t->lock);
	v = t->min_free_kbytes;
	pthread_mutex_unlock(&t->lock);
	return v;
}

bool ccmm_tier_demotion_enabled(struct ccmm_machine *m)
{
	struct ccmm_tier *t = tier_of(m);
	bool on;

	pthread_mutex_lock(&t->lock);
	on = t->cfg.demotion_enabled;
	pthread_mutex_unlock(&t->lock);
	return on;
}

uint64_t ccmm_node_access_ns(const struct ccmm_platform *p, int node)
{
	const struct ccmm_node_desc *n = &p->node[node];

	if (n->read_latency_ns)
		return n->read_latency_ns;
	switch (n->kind) {
	case CCMM_MEM_PMEM:
		return p->costs.pmem_access_ns;
	case CCMM_MEM_CXL:
		return p->costs.cxl_access_ns;
	case CCMM_MEM_HBM:
		return p->costs.hbm_access_ns;
	default:
		return p->costs.dram_access_ns;
	}
}

/* One reference served by @node: its latency, booked under the cost item of its kind. */
static void charge_access(struct ccmm_ctx *ctx, int node)
{
	const struct ccmm_platform *p = ctx->m->plat;
	uint64_t ns = ccmm_node_access_ns(p, node);
	unsigned c;

	switch (p->node[node].kind) {
	case CCMM_MEM_PMEM:
		c = CCMM_COST_pmem_access_ns;
		break;
	case CCMM_MEM_CXL:
		c = CCMM_COST_cxl_access_ns;
		break;
	case CCMM_MEM_HBM:
		c = CCMM_COST_hbm_access_ns;
		break;
	default:
		c = CCMM_COST_dram_access_ns;
		break;
	}
	ctx->now_ns += ns;
	ctx->cost_ns[c] += ns;
	ctx->cost_n[c]++;
}

/* Whether @node counts as a top tier: node_is_toptier (mainline), the fastest tier (2021 policy). T->lock held. */
static bool toptier(struct ccmm_tier *T, int node)
{
	if (T->cfg.policy == CCMM_DEMOTION_RECLAIM_MIGRATE)
		return T->dem.nr_tiers && (T->dem.tier_nodes[0] & (1u << node));
	return ccmm_node_is_toptier(&T->dem, node);
}

/* ---- task maps --------------------------------------------------------- */

static uint64_t hash64(uint64_t k)
{
	return k * 0x9e3779b97f4a7c15ULL;
}

static struct ventry *lookup(struct ccmm_tier_task *t, uint64_t vpn, bool create)
{
	uint64_t key = vpn + 1;
	size_t h;

	if (create && (t->used + 1) * 2 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 1024;
		struct ventry *nm = calloc(ncap, sizeof(*nm));

		if (!nm)
			return NULL;
		for (size_t i = 0; i < t->cap; i++) {
			if (!t->map[i].key)
				continue;
			for (h = hash64(t->map[i].key) & (ncap - 1); nm[h].key; h = (h + 1) & (ncap - 1))
				;
			nm[h] = t->map[i];
		}
		free(t->map);
		t->map = nm;
		t->cap = ncap;
		t->numa_scan_pos = 0;
	}
	if (!t->cap)
		return NULL;
	for (h = hash64(key) & (t->cap - 1); t->map[h].key; h = (h + 1) & (t->cap - 1))
		if (t->map[h].key == key)
			return &t->map[h];
	if (!create)
		return NULL;
	t->map[h].key = key;
	t->map[h].state = V_NONE;
	t->map[h].page = NULL;
	t->used++;
	return &t->map[h];
}

/* Insert @key into the page-table set; true if it was not there (a new table). -1 on no memory. */
static int pt_insert(struct ccmm_tier_task *t, uint64_t key)
{
	size_t h;

	key++;
	if ((t->pt_used + 1) * 2 > t->pt_cap) {
		size_t ncap = t->pt_cap ? t->pt_cap * 2 : 64;
		uint64_t *n = calloc(ncap, sizeof(*n));

		if (!n)
			return -1;
		for (size_t i = 0; i < t->pt_cap; i++) {
			if (!t->pt[i])
				continue;
			for (h = hash64(t->pt[i]) & (ncap - 1); n[h]; h = (h + 1) & (ncap - 1))
				;
			n[h] = t->pt[i];
		}
		free(t->pt);
		t->pt = n;
		t->pt_cap = ncap;
	}
	for (h = hash64(key) & (t->pt_cap - 1); t->pt[h]; h = (h + 1) & (t->pt_cap - 1))
		if (t->pt[h] == key)
			return 0;
	t->pt[h] = key;
	t->pt_used++;
	return 1;
}

/*
 * The page tables a first touch of @vpn needs: a PTE table per 2 MiB, a
 * PMD table per 1 GiB, a PUD table per 512 GiB (mm_inc_nr_ptes/pmds/puds;
 * the PGD is not counted in mm_pgtables_bytes). Returns the new tables.
 */
static uint64_t pgtables_for(struct ccmm_tier_task *t, uint64_t vpn)
{
	uint64_t added = 0;

	for (uint64_t level = 1; level <= 3; level++) {
		int r = pt_insert(t, level << 56 | (vpn >> (9 * level)));

		if (r <= 0)
			break; /* present (so are the upper ones), or no memory: not counted */
		added++;
	}
	return added;
}

static int nearest_cpu_node(const struct ccmm_platform *p, int node)
{
	int best = -1;

	if (p->node[node].has_cpus)
		return node;
	for (int n = 0; n < (int)p->nr_nodes; n++)
		if (p->node[n].has_cpus && (best < 0 || p->distance[node][n] < p->distance[node][best]))
			best = n;
	return best < 0 ? node : best;
}

int ccmm_tier_task_create(struct ccmm_machine *m, int node, bool anon, bool bind, struct ccmm_cgroup *memcg,
			  struct ccmm_task *proc, struct ccmm_tier_task **out)
{
	struct ccmm_tier_task *t;

	if (node < 0 || node >= (int)m->plat->nr_nodes)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->m = m;
	t->node = node;
	t->cpu_node = nearest_cpu_node(m->plat, node);
	t->anon = anon;
	t->bind = bind;
	if (memcg) {
		ccmm_cgroup_get(memcg);
		t->memcg = memcg;
	}
	t->proc = proc;
	*out = t;
	return 0;
}

int ccmm_tier_task_set_policy(struct ccmm_tier_task *t, int node, bool bind)
{
	struct ccmm_tier *T = tier_of(t->m);

	if (node >= (int)t->m->plat->nr_nodes || (node < 0 && bind))
		return -EINVAL;
	pthread_mutex_lock(&T->lock);
	t->node = node < 0 ? t->cpu_node : node; /* MPOL_DEFAULT: the local node */
	t->bind = bind;
	pthread_mutex_unlock(&T->lock);
	return 0;
}

/* memory.stat's LRU item of list @l. */
static const enum ccmm_memcg_stat lru_stat[NR_LRU] = {
	CCMM_MEMCG_STAT_INACTIVE_ANON, CCMM_MEMCG_STAT_ACTIVE_ANON, CCMM_MEMCG_STAT_INACTIVE_FILE,
	CCMM_MEMCG_STAT_ACTIVE_FILE, CCMM_MEMCG_STAT_UNEVICTABLE,
};

static void lru_add_list(struct ccmm_tier *T, struct tpage *p, int list)
{
	p->list = (uint8_t)list;
	p->lru.next = NULL;
	ccmm_lru_add_tail(&T->lru[p->node][list], &p->lru);
	ccmm_memcg_mod_stat(p->owner->memcg, lru_stat[list], 1);
}

/* Put @p on its evictable list (active or not), or the unevictable one when its task is mlocked. */
static void lru_add(struct ccmm_tier *T, struct tpage *p, bool active)
{
	if (p->owner->mlocked)
		lru_add_list(T, p, LRU_UNEVICTABLE);
	else
		lru_add_list(T, p, (p->anon ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE) + (active ? 1 : 0));
}

static void lru_remove(struct ccmm_tier *T, struct tpage *p)
{
	ccmm_lru_del(&T->lru[p->node][p->list], &p->lru);
	ccmm_memcg_mod_stat(p->owner->memcg, lru_stat[p->list], -1);
}

/* A resident page appears on (+1) or leaves (-1) node p->node: the counts that follow residency. */
static void account_resident(struct ccmm_tier *T, struct tpage *p, int delta)
{
	struct ccmm_tier_task *t = p->owner;

	if (p->anon)
		T->nr_anon[p->node] += (uint64_t)(int64_t)delta;
	else
		T->nr_file[p->node] += (uint64_t)(int64_t)delta;
	if (!p->anon && p->dirty) {
		T->nr_dirty[p->node] += (uint64_t)(int64_t)delta;
		ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_FILE_DIRTY, delta);
	}
	t->st.resident += (uint64_t)(int64_t)delta;
	t->st.node_pages[p->node] += (uint64_t)(int64_t)delta;
}

/* The memcg and mm side of a page becoming resident (+1) or going (-1). */
static void account_mapped(struct tpage *p, int delta)
{
	struct ccmm_tier_task *t = p->owner;

	ccmm_memcg_mod_stat(t->memcg, p->anon ? CCMM_MEMCG_STAT_ANON : CCMM_MEMCG_STAT_FILE, delta);
	if (t->proc)
		atomic_fetch_add(&t->proc->mm_rss, delta);
}

void ccmm_tier_task_mlock(struct ccmm_tier_task *t, bool on)
{
	struct ccmm_tier *T = tier_of(t->m);

	pthread_mutex_lock(&T->lock);
	if (t->mlocked != on) {
		t->mlocked = on;
		for (size_t i = 0; i < t->cap; i++) {
			struct tpage *p = t->map[i].key && t->map[i].state == V_RESIDENT ? t->map[i].page : NULL;

			if (!p)
				continue;
			lru_remove(T, p);
			lru_add(T, p, true);
		}
	}
	pthread_mutex_unlock(&T->lock);
}

static struct ventry *entry_of(struct tpage *p)
{
	return lookup(p->owner, p->vpn, false);
}

void ccmm_tier_task_destroy(struct ccmm_tier_task *t)
{
	struct ccmm_tier *T;
	struct ccmm_ctx ctx;
	uint64_t freed = 0;

	if (!t)
		return;
	T = tier_of(t->m);
	ccmm_ctx_init(&ctx, t->m, -1, "exit");
	pthread_mutex_lock(&T->lock);
	for (size_t i = 0; i < t->cap; i++) {
		struct ventry *e = &t->map[i];

		if (!e->key)
			continue;
		if (e->state == V_RESIDENT && e->page) {
			struct tpage *p = e->page;

			lru_remove(T, p);
			account_resident(T, p, -1);
			account_mapped(p, -1);
			ccmm_free_pages(&ctx, p->pa, 0);
			freed++;
			free(p);
		} else if (e->state == V_SWAPPED) {
			T->swap_used--;
			if (t->proc)
				atomic_fetch_sub(&t->proc->mm_swapents, 1);
		}
	}
	vm_count(T, NULL, CCMM_VM_pgfree, freed);
	/* exit_mmap frees the page tables */
	T->nr_pgtables[t->cpu_node] -= t->st.pgtables;
	ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_PAGETABLES, -(int64_t)t->st.pgtables);
	if (t->proc)
		atomic_fetch_sub(&t->proc->mm_pgtables, (int64_t)t->st.pgtables);
	pthread_mutex_unlock(&T->lock);
	if (t->memcg) {
		ccmm_memcg_uncharge(t->memcg, t->charged);
		ccmm_cgroup_put(t->memcg);
	}
	free(t->map);
	free(t->pt);
	free(t);
}

void ccmm_tier_task_stats(struct ccmm_tier_task *t, struct ccmm_tier_task_stats *s)
{
	struct ccmm_tier *T = tier_of(t->m);

	pthread_mutex_lock(&T->lock);
	*s = t->st;
	pthread_mutex_unlock(&T->lock);
}

/* ---- demotion switches ------------------------------------------------- */

static bool demotion_on(struct ccmm_tier *T)
{
	if (T->cfg.policy == CCMM_DEMOTION_RECLAIM_MIGRATE)
		return (T->cfg.node_reclaim_mode & CCMM_RECLAIM_MIGRATE) != 0;
	return T->cfg.demotion_enabled;
}

/*
 * The nodes a page of @node charged to @memcg may be demoted to: the
 * lower tiers (node_get_allowed_targets) in the memcg's cpuset.mems
 * (mem_cgroup_node_filter_allowed), or under the 2021 policy the one
 * target. 0 when demotion is off here. T->lock held.
 */
static uint32_t demote_mask(struct ccmm_tier *T, int node, struct ccmm_cgroup *memcg, bool memcg_reclaim)
{
	uint32_t mask;

	if (!demotion_on(T))
		return 0;
	if (T->cfg.policy == CCMM_DEMOTION_RECLAIM_MIGRATE)
		/* memcg reclaim is not NUMA aware: the series leaves it out; targets ignore cpusets */
		return memcg_reclaim ? 0 : T->dem.preferred[node];
	mask = T->dem.allowed[node];
	if (mask && memcg)
		mask &= ccmm_cpuset_mems_effective(memcg);
	return mask;
}

static bool can_demote_locked(struct ccmm_tier *T, int node, struct ccmm_cgroup *memcg, bool memcg_reclaim)
{
	return demote_mask(T, node, memcg, memcg_reclaim) != 0;
}

static bool can_reclaim_anon_locked(struct ccmm_tier *T, int node, struct ccmm_cgroup *memcg, bool memcg_reclaim)
{
	if (T->swap_used < T->cfg.swap_pages)
		return true;
	return can_demote_locked(T, node, memcg, memcg_reclaim);
}

bool ccmm_can_demote(struct ccmm_machine *m, int node, struct ccmm_cgroup *memcg, bool memcg_reclaim)
{
	struct ccmm_tier *T = tier_of(m);
	bool ok;

	pthread_mutex_lock(&T->lock);
	ok = node >= 0 && node < CCMM_MAX_NODES && can_demote_locked(T, node, memcg, memcg_reclaim);
	pthread_mutex_unlock(&T->lock);
	return ok;
}

bool ccmm_can_reclaim_anon(struct ccmm_machine *m, int node, struct ccmm_cgroup *memcg, bool memcg_reclaim)
{
	struct ccmm_tier *T = tier_of(m);
	bool ok;

	pthread_mutex_lock(&T->lock);
	ok = node >= 0 && node < CCMM_MAX_NODES && can_reclaim_anon_locked(T, node, memcg, memcg_reclaim);
	pthread_mutex_unlock(&T->lock);
	return ok;
}

/* ---- allocation ---------------------------------------------------------- */

/* The model's zone of a physical address: DMA below 16 MiB, DMA32 below 4 GiB, NORMAL above. */
static enum ccmm_vmstat pgalloc_item(uint64_t pa)
{
	if (pa < (16ull << 20))
		return CCMM_VM_pgalloc_dma;
	if (pa < (4ull << 30))
		return CCMM_VM_pgalloc_dma32;
	return CCMM_VM_pgalloc_normal;
}

/* Allocate one page on exactly @node if it is above @wmark free pages. */
static int alloc_on(struct ccmm_tier *T, struct ccmm_ctx *ctx, int node, uint64_t wmark, uint64_t *pa)
{
	int ret;

	if (!T->online[node] || ccmm_node_free_pages(ctx->m, node) <= wmark)
		return -ENOMEM;
	ret = ccmm_alloc_pages(ctx, node, 0, CCMM_GFP_THISNODE, pa);
	if (!ret)
		vm_count(T, ctx, pgalloc_item(*pa), 1);
	return ret;
}

#define MAX_RECLAIM_RETRIES 16 /* kswapd runs that reclaimed nothing before a node is hopeless */

/*
 * pgdat_balanced for order 0: free pages above the high watermark (the
 * promotion watermark in NUMA balancing's tiering mode, which keeps room
 * for promotions). Strictly above, as zone_watermark_ok: a node at its
 * mark exactly is not balanced, and alloc_on refuses at the mark too.
 */
static bool node_balanced(struct ccmm_tier *T, struct ccmm_machine *m, int node)
{
	return ccmm_node_free_pages(m, node) > (T->cfg.promotion ? T->wmark[node].promo : T->wmark[node].high);
}

/* prepare_kswapd_sleep: kswapd may sleep once its node is balanced or hopeless. */
static bool kswapd_may_sleep(struct ccmm_tier *T, struct ccmm_machine *m, int node)
{
	return atomic_load(&T->kswapd_failures[node]) >= MAX_RECLAIM_RETRIES || node_balanced(T, m, node);
}

/*
 * wakeup_kswapd: wake @node's kswapd at the waker's modeled time (its clock
 * moves up to it; background work, it does not stall the waker). As the
 * kernel's, it does nothing when kswapd is not asleep (it looks at the
 * node again before it sleeps), nor for a balanced or hopeless node.
 * Callable with T->lock held (waking never sleeps).
 */
static void wake_kswapd(struct ccmm_tier *T, struct ccmm_ctx *waker, int node)
{
	struct ccmm_kthread *k = &T->kswapd[node];

	if (!T->online[node] || !T->kswapd_made[node])
		return;
	ccmm_wq_lock(&k->wq);
	if (ccmm_waitqueue_active(&k->wq) && !kswapd_may_sleep(T, waker->m, node)) {
		T->kswapd_woken[node] = true;
		ccmm_wake_up_locked(waker, &k->wq, 0);
	}
	ccmm_wq_unlock(&k->wq);
}

static uint64_t shrink_node_locked(struct ccmm_tier *T, struct ccmm_ctx *ctx, int node, uint64_t nr, bool kswapd,
				   struct ccmm_cgroup *memcg);

/*
 * balance_pgdat: reclaim @node until it is above its high watermark (the
 * promotion watermark in NUMA balancing's tiering mode), a batch at a
 * time, giving way between batches (cond_resched): the tasks allocating
 * meanwhile run beside it. Stops when a batch frees nothing. Demotion may
 * wake other nodes' kswapds.
 */
static void balance_pgdat(struct ccmm_tier *T, struct ccmm_kthread *k, int node)
{
	struct ccmm_machine *m = k->m;
	bool counted = false;
	uint64_t reclaimed = 0, got;

	pthread_mutex_lock(&T->lock);
	while (T->online[node] && !node_balanced(T, m, node)) {
		if (!counted) {
			vm_count(T, &k->ctx, CCMM_VM_pageoutrun, 1);
			counted = true;
		}
		got = shrink_node_locked(T, &k->ctx, node, T->cfg.batch, true, NULL);
		reclaimed += got;
		if (!got)
			break;
		pthread_mutex_unlock(&T->lock);
		ccmm_cond_resched();
		pthread_mutex_lock(&T->lock);
	}
	/* a run that tried and reclaimed nothing: one step closer to a hopeless node */
	if (counted && !reclaimed)
		atomic_fetch_add(&T->kswapd_failures[node], 1);
	pthread_mutex_unlock(&T->lock);
}

/*
 * kswapd_try_to_sleep: once the node is balanced or hopeless
 * (prepare_kswapd_sleep), a nap of HZ/10 first; woken during it (an
 * allocation below the low watermark), no sleep: kswapd_low_wmark_hit_quickly.
 * After the nap, a full sleep until woken if the node is still balanced,
 * otherwise none: kswapd_high_wmark_hit_quickly (also when it could not
 * nap at all). @booted: kswapd's first sleep, which is the full one (it
 * started at boot, long before the job, and its nap is long over).
 * Returns with nothing held.
 */
static void kswapd_try_to_sleep(struct ccmm_tier *T, struct ccmm_kthread *k, int node, bool booted)
{
	struct ccmm_machine *m = k->m;
	enum ccmm_vmstat quick = CCMM_VM_NR;
	bool remaining = false;
	int ret;

	ccmm_wq_lock(&k->wq);
	if (ccmm_kthread_should_stop(k)) {
		ccmm_wq_unlock(&k->wq);
		return;
	}
	snprintf(k->se.blocked_on, sizeof(k->se.blocked_on), "kswapd_wait");
	if (!booted && kswapd_may_sleep(T, m, node)) {
		uint64_t jiffy_ns = m->cost[CCMM_COST_AT(cgroup, jiffy_ns)];
		int64_t nap = jiffy_ns ? (int64_t)(jiffy_ns * (1000000000ull / jiffy_ns / 10)) : 100000000; /* HZ/10 jiffies */

		T->kswapd_woken[node] = false;
		ccmm_wait_event_locked(&k->ctx, &k->wq, ccmm_kthread_should_stop(k) || T->kswapd_woken[node], &nap, 0,
				       ret);
		remaining = ret == 0 && T->kswapd_woken[node];
	}
	if (!remaining && !ccmm_kthread_should_stop(k) && kswapd_may_sleep(T, m, node)) {
		T->kswapd_woken[node] = false;
		ccmm_wait_event_locked(&k->ctx, &k->wq,
				       ccmm_kthread_should_stop(k) || T->kswapd_woken[node] ||
					       !kswapd_may_sleep(T, m, node),
				       NULL, 0, ret);
	} else if (!ccmm_kthread_should_stop(k)) {
		quick = remaining ? CCMM_VM_kswapd_low_wmark_hit_quickly : CCMM_VM_kswapd_high_wmark_hit_quickly;
	}
	(void)ret;
	k->se.blocked_on[0] = '\0';
	T->kswapd_woken[node] = false;
	ccmm_wq_unlock(&k->wq);
	if (quick != CCMM_VM_NR) {
		pthread_mutex_lock(&T->lock);
		vm_count(T, &k->ctx, quick, 1);
		pthread_mutex_unlock(&T->lock);
	}
}

/* kswapd: try to sleep, balance the node, again; a scheduling point between rounds. */
static int kswapd_fn(struct ccmm_kthread *k, void *data)
{
	struct ccmm_tier *T = data;
	int node = (int)(k - T->kswapd);
	bool booted = true;

	for (;;) {
		kswapd_try_to_sleep(T, k, node, booted);
		booted = false;
		if (ccmm_kthread_should_stop(k))
			break;
		atomic_fetch_add(&k->rounds, 1);
		balance_pgdat(T, k, node);
		ccmm_cond_resched();
	}
	return 0;
}

/* The allocator's node order: @node, then the others nearest first (build_zonelists). */
static int zonelist(struct ccmm_machine *m, int node, int *order)
{
	int n = 0;
	bool used[CCMM_MAX_NODES] = { false };

	order[n++] = node;
	used[node] = true;
	for (;;) {
		int best = -1;

		for (int c = 0; c < (int)m->plat->nr_nodes; c++)
			if (!used[c] && (best < 0 || m->plat->distance[node][c] < m->plat->distance[node][best]))
				best = c;
		if (best < 0)
			break;
		used[best] = true;
		order[n++] = best;
	}
	return n;
}

/* The NUMA allocation statistics of a page got on @got for a task preferring @pref running on @local. */
static void numa_alloc_stats(struct ccmm_tier *T, struct ccmm_ctx *ctx, int pref, int got, int local)
{
	/* zone_statistics: hit/miss on the node it came from, foreign on the one preferred; local/other to the CPU */
	vm_count(T, ctx, got == pref ? CCMM_VM_numa_hit : CCMM_VM_numa_miss, 1);
	if (got != pref)
		vm_count(T, ctx, CCMM_VM_numa_foreign, 1);
	vm_count(T, ctx, got == local ? CCMM_VM_numa_local : CCMM_VM_numa_other, 1);
}

/*
 * __alloc_pages for a user page of @t: the fast path takes a node above its
 * low watermark, in zonelist order within the allowed nodes (MPOL_BIND,
 * cpuset.mems), running node_reclaim on a node that fails it when
 * node_reclaim_mode is on (mapped pages only with RECLAIM_UNMAP); the slow
 * path wakes kswapd, takes a node above min, reclaims directly and
 * retries. T->lock held.
 */
static int alloc_user_page_locked(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct ccmm_tier_task *t, uint32_t mems,
				  uint64_t *pa)
{
	int order[CCMM_MAX_NODES], all = zonelist(ctx->m, t->node, order), n = 0;
	uint32_t allowed = t->bind ? 1u << t->node : UINT32_MAX;
	unsigned mode = T->cfg.node_reclaim_mode;

	/* a policy's nodes outside the cpuset are not allowed; none left: the cpuset's */
	if (mems && (allowed & mems))
		allowed &= mems;
	else if (mems)
		allowed = mems;
	for (int i = 0; i < all; i++)
		if ((allowed & (1u << order[i])) && T->online[order[i]])
			order[n++] = order[i];
	for (int i = 0; i < n; i++) {
		int nid = order[i];

		if (!alloc_on(T, ctx, nid, T->wmark[nid].low, pa))
			goto got;
		/* node_reclaim: enabled by any of its bits (RECLAIM_MIGRATE too in the series); ours are mapped pages */
		if (mode && ctx->m->plat->distance[t->node][nid] <= RECLAIM_DISTANCE &&
		    (mode & (CCMM_RECLAIM_ZONE | CCMM_RECLAIM_WRITE | CCMM_RECLAIM_UNMAP |
			     (T->cfg.policy == CCMM_DEMOTION_RECLAIM_MIGRATE ? CCMM_RECLAIM_MIGRATE : 0)))) {
			/* without RECLAIM_UNMAP only unmapped page cache counts: none here (NODE_RECLAIM_FULL, no counter) */
			if (mode & CCMM_RECLAIM_UNMAP) {
				uint64_t got = shrink_node_locked(T, ctx, nid, T->cfg.batch, false, NULL);

				vm_count(T, ctx, got ? CCMM_VM_zone_reclaim_success : CCMM_VM_zone_reclaim_failed, 1);
				if (!alloc_on(T, ctx, nid, T->wmark[nid].low, pa))
					goto got;
			}
		}
	}
	for (int i = 0; i < n; i++)
		wake_kswapd(T, ctx, order[i]);
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t progress = 0;

		for (int i = 0; i < n; i++)
			if (!alloc_on(T, ctx, order[i], T->wmark[order[i]].min, pa))
				goto got;
		/* try_to_free_pages: an allocation stall, counted in the request's highest zone */
		vm_count(T, ctx, CCMM_VM_allocstall_movable, 1);
		for (int i = 0; i < n && progress < T->cfg.batch; i++)
			progress += shrink_node_locked(T, ctx, order[i], T->cfg.batch - progress, false, NULL);
		if (!progress)
			break;
	}
	/* below min everywhere: the last reserves */
	for (int i = 0; i < n; i++)
		if (!alloc_on(T, ctx, order[i], 0, pa))
			goto got;
	return -ENOMEM;
got:
	numa_alloc_stats(T, ctx, order[0], ccmm_platform_range(ctx->m->plat, *pa)->node, t->cpu_node);
	return 0;
}

/* ---- migration ------------------------------------------------------------- */

/*
 * Move @p (off its LRU) to @target: the copy, the new page on the target's
 * inactive list. The allocation never reclaims; @wmark is the watermark
 * it needs. T->lock held.
 */
static int migrate_page(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct tpage *p, int target, uint64_t wmark)
{
	uint64_t pa;

	if (alloc_on(T, ctx, target, wmark, &pa))
		return -ENOMEM;
	numa_alloc_stats(T, ctx, target, target, p->owner->cpu_node);
	ccmm_free_pages(ctx, p->pa, 0);
	vm_count(T, ctx, CCMM_VM_pgfree, 1);
	account_resident(T, p, -1);
	p->pa = pa;
	p->node = target;
	p->referenced = false;
	p->numa_scan_ns = 0;
	account_resident(T, p, 1);
	lru_add(T, p, false);
	ccmm_charge(ctx, CCMM_COST_AT(tier, migrate_page_ns), 1);
	ccmm_charge_copy(ctx, CCMM_PAGE_SIZE);
	return 0;
}

/*
 * alloc_demote_folio: try the preferred target alone (__GFP_THISNODE,
 * GFP_NOWAIT: above the low watermark, else wake its kswapd and take it
 * above min), then (mainline) the allowed lower tiers in the target's
 * zonelist order. T->lock held.
 */
static int demote_page(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct tpage *p, int target, uint32_t allowed)
{
	int order[CCMM_MAX_NODES], n;

	if (!migrate_page(T, ctx, p, target, T->wmark[target].low))
		return 0;
	wake_kswapd(T, ctx, target);
	if (!migrate_page(T, ctx, p, target, T->wmark[target].min))
		return 0;
	if (T->cfg.policy == CCMM_DEMOTION_RECLAIM_MIGRATE)
		return -ENOMEM; /* the series: "allocate from 'node', or fail quickly and quietly" */
	n = zonelist(ctx->m, target, order);
	for (int i = 1; i < n; i++) {
		int nid = order[i];

		if (!(allowed & (1u << nid)))
			continue;
		if (!migrate_page(T, ctx, p, nid, T->wmark[nid].low))
			return 0;
		wake_kswapd(T, ctx, nid);
		if (!migrate_page(T, ctx, p, nid, T->wmark[nid].min))
			return 0;
	}
	return -ENOMEM;
}

/* A random node of @mask (node_random), with the machine's stream. */
static int node_random(struct ccmm_tier *T, uint32_t mask)
{
	int count = __builtin_popcount(mask), pick;

	if (!count)
		return CCMM_NO_NODE;
	pick = count > 1 ? (int)ccmm_rng_range(&T->rng, 0, (uint64_t)count - 1) : 0;
	for (int n = 0; n < CCMM_MAX_NODES; n++)
		if ((mask & (1u << n)) && !pick--)
			return n;
	return CCMM_NO_NODE;
}

/* ---- reclaim --------------------------------------------------------------- */

static bool charged_below(const struct tpage *p, const struct ccmm_cgroup *memcg)
{
	return p->owner->memcg && ccmm_cgroup_is_descendant(p->owner->memcg, memcg);
}

/*
 * shrink_active_list: refill an inactive list from its active list while it
 * is the smaller, looking at up to @nr active pages; memcg reclaim balances
 * only the pages charged to @memcg or below (the memcg's own lruvec).
 */
static void shrink_active(struct ccmm_tier *T, struct ccmm_ctx *ctx, int node, int inactive, uint64_t nr,
			  const struct ccmm_cgroup *memcg)
{
	struct ccmm_lru *act = &T->lru[node][inactive + 1], *inact = &T->lru[node][inactive];
	struct ccmm_lru_node *n;
	uint64_t nr_act = act->nr, nr_inact = inact->nr, moved = 0, scanned = 0;

	if (memcg) {
		nr_act = nr_inact = 0;
		for (n = act->head.next; n != &act->head; n = n->next)
			nr_act += charged_below(ccmm_container_of(n, struct tpage, lru), memcg);
		for (n = inact->head.next; n != &inact->head; n = n->next)
			nr_inact += charged_below(ccmm_container_of(n, struct tpage, lru), memcg);
	}
	for (n = act->head.next; n != &act->head && nr && nr_inact < nr_act;) {
		struct tpage *p = ccmm_container_of(n, struct tpage, lru);

		n = n->next;
		if (memcg && !charged_below(p, memcg))
			continue;
		lru_remove(T, p);
		p->referenced = false;
		lru_add_list(T, p, inactive);
		ccmm_memcg_mod_stat(p->owner->memcg, CCMM_MEMCG_STAT_PGREFILL, 1);
		ccmm_memcg_mod_stat(p->owner->memcg, CCMM_MEMCG_STAT_PGDEACTIVATE, 1);
		scanned++;
		moved++;
		nr--;
		nr_act--;
		nr_inact++;
	}
	vm_count(T, ctx, CCMM_VM_pgrefill, scanned);
	vm_count(T, ctx, CCMM_VM_pgdeactivate, moved);
}

/*
 * Take up to @nr victims from @node's inactive list @list (second chance:
 * referenced pages are activated). For memcg reclaim, only the pages
 * charged to @memcg or below it. The scan counters: pgscan_kswapd/direct
 * for global reclaim only, the memcg's always, pgscan_anon/file always.
 */
static size_t isolate(struct ccmm_tier *T, struct ccmm_ctx *ctx, int node, int list, size_t nr,
		      struct ccmm_cgroup *memcg, bool kswapd, struct tpage **out)
{
	struct ccmm_lru *l = &T->lru[node][list];
	struct ccmm_lru_node *n;
	size_t taken = 0, scanned = 0, budget;

	shrink_active(T, ctx, node, list, nr * 2, memcg);
	n = l->head.next;
	budget = l->nr;
	while (n != &l->head && taken < nr && budget--) {
		struct tpage *p = ccmm_container_of(n, struct tpage, lru);
		struct ccmm_lru_node *next = n->next;

		if (memcg && !charged_below(p, memcg)) {
			n = next;
			continue;
		}
		scanned++;
		ccmm_memcg_mod_stat(p->owner->memcg, kswapd ? CCMM_MEMCG_STAT_PGSCAN_KSWAPD : CCMM_MEMCG_STAT_PGSCAN_DIRECT, 1);
		lru_remove(T, p);
		if (p->referenced) {
			/* used since it was last looked at: activate it */
			p->referenced = false;
			lru_add(T, p, true);
			vm_count(T, ctx, CCMM_VM_pgactivate, 1);
			ccmm_memcg_mod_stat(p->owner->memcg, CCMM_MEMCG_STAT_PGACTIVATE, 1);
		} else {
			out[taken++] = p;
		}
		n = next;
	}
	if (!memcg)
		vm_count(T, ctx, kswapd ? CCMM_VM_pgscan_kswapd : CCMM_VM_pgscan_direct, scanned);
	vm_count(T, ctx, list == LRU_INACTIVE_ANON ? CCMM_VM_pgscan_anon : CCMM_VM_pgscan_file, scanned);
	ccmm_charge(ctx, CCMM_COST_AT(tier, lru_scan_ns), scanned);
	return taken;
}

/* The page leaves memory for @state (swapped out or evicted): its map entry, charge and counts. */
static void release_to(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct tpage *p, enum vstate state)
{
	struct ventry *e = entry_of(p);
	struct ccmm_tier_task *t = p->owner;

	if (e) {
		e->state = (uint8_t)state;
		e->page = NULL;
	}
	account_resident(T, p, -1);
	account_mapped(p, -1);
	if (state == V_SWAPPED && t->proc)
		atomic_fetch_add(&t->proc->mm_swapents, 1);
	if (t->memcg) {
		/* the page is gone: its charge goes (a swapped page's swap charge is not modeled) */
		ccmm_memcg_uncharge(t->memcg, 1);
		t->charged--;
	}
	ccmm_free_pages(ctx, p->pa, 0);
	vm_count(T, ctx, CCMM_VM_pgfree, 1);
	free(p);
}

/*
 * shrink_folio_list with demotion (T->lock held): pass 1 migrates each
 * victim whose memcg may demote it, pass 2 reclaims the rest normally.
 * Returns nr_reclaimed: the pages freed on @node, demoted ones included.
 */
static uint64_t shrink_node_locked(struct ccmm_tier *T, struct ccmm_ctx *ctx, int node, uint64_t nr, bool kswapd,
				   struct ccmm_cgroup *memcg)
{
	struct tpage *victims[64];
	uint64_t freed = 0;
	bool anon_ok = can_reclaim_anon_locked(T, node, memcg, memcg != NULL);
	int idle_rounds = 0;
	struct ccmm_cgroup *last_memcg = NULL;
	uint32_t last_mask = 0;
	bool have_last = false;

	while (freed < nr && idle_rounds < 2) {
		size_t want = (size_t)CCMM_MIN(nr - freed, CCMM_ARRAY_SIZE(victims)), got = 0, want_file;
		uint64_t file = T->lru[node][LRU_INACTIVE_FILE].nr + T->lru[node][LRU_ACTIVE_FILE].nr;
		uint64_t anon = anon_ok ? T->lru[node][LRU_INACTIVE_ANON].nr + T->lru[node][LRU_ACTIVE_ANON].nr : 0;
		uint64_t before = freed;

		if (!file && !anon)
			break;
		/* scan the two types in proportion to their sizes (get_scan_count, simplified) */
		want_file = (size_t)CCMM_MIN(want, (want * file + file + anon - 1) / (file + anon));
		if (file)
			got += isolate(T, ctx, node, LRU_INACTIVE_FILE, want_file, memcg, kswapd, victims);
		if (anon)
			got += isolate(T, ctx, node, LRU_INACTIVE_ANON, want - got, memcg, kswapd, victims + got);
		if (got < want && file)
			got += isolate(T, ctx, node, LRU_INACTIVE_FILE, want - got, memcg, kswapd, victims + got);

		for (size_t i = 0; i < got; i++) {
			struct tpage *p = victims[i];
			struct ccmm_cgroup *pm = p->owner->memcg;
			bool is_anon = p->anon; /* p may be freed below */
			uint32_t allowed;

			if (!have_last || pm != last_memcg) {
				last_memcg = pm;
				last_mask = demote_mask(T, node, pm, memcg != NULL);
				have_last = true;
			}
			allowed = last_mask;
			/* pass 1: migrate instead of discard (demote_folio_list) */
			if (allowed) {
				int target = ccmm_next_demotion_node(&T->dem, node, &T->rng);

				/* a preferred target outside the cpuset: a random allowed node instead */
				if (target == CCMM_NO_NODE || !(allowed & (1u << target)))
					target = node_random(T, allowed);
				if (target != CCMM_NO_NODE && !demote_page(T, ctx, p, target, allowed)) {
					vm_count(T, ctx, kswapd ? CCMM_VM_pgdemote_kswapd : CCMM_VM_pgdemote_direct, 1);
					T->node_demoted[node]++;
					vm_count(T, ctx, CCMM_VM_pgmigrate_success, 1);
					ccmm_memcg_mod_stat(pm, kswapd ? CCMM_MEMCG_STAT_PGDEMOTE_KSWAPD : CCMM_MEMCG_STAT_PGDEMOTE_DIRECT, 1);
					ccmm_count(ctx, CCMM_CTR_AT(tier, demotions), 1);
					goto reclaimed;
				}
				vm_count(T, ctx, CCMM_VM_pgmigrate_fail, 1);
			}
			/* pass 2: the pages that did not move are reclaimed normally */
			if (!p->anon) {
				if (p->dirty)
					ccmm_charge(ctx, CCMM_COST_AT(tier, writeback_ns), 1);
				p->owner->st.evicted++;
				release_to(T, ctx, p, V_EVICTED);
			} else if (T->swap_used < T->cfg.swap_pages) {
				T->swap_used++;
				vm_count(T, ctx, CCMM_VM_pswpout, 1);
				ccmm_charge(ctx, CCMM_COST_AT(tier, swap_out_ns), 1);
				p->owner->st.swapped++;
				release_to(T, ctx, p, V_SWAPPED);
			} else {
				/* swap full and no demotion: it cannot be reclaimed */
				lru_add(T, p, true);
				continue;
			}
			ccmm_count(ctx, CCMM_CTR_AT(tier, reclaimed), 1);
reclaimed:
			/* pgsteal: the global counters for global reclaim only, the memcg's always */
			if (!memcg)
				vm_count(T, ctx, kswapd ? CCMM_VM_pgsteal_kswapd : CCMM_VM_pgsteal_direct, 1);
			ccmm_memcg_mod_stat(pm, kswapd ? CCMM_MEMCG_STAT_PGSTEAL_KSWAPD : CCMM_MEMCG_STAT_PGSTEAL_DIRECT, 1);
			vm_count(T, ctx, is_anon ? CCMM_VM_pgsteal_anon : CCMM_VM_pgsteal_file, 1);
			freed++;
		}
		/* everything referenced (now active) or unreclaimable: give up after two idle rounds */
		idle_rounds = freed == before ? idle_rounds + 1 : 0;
	}
	/* shrink_node: reclaim progress by anybody revives a hopeless node's kswapd */
	if (freed)
		atomic_store(&T->kswapd_failures[node], 0);
	return freed;
}

uint64_t ccmm_tier_reclaim(struct ccmm_ctx *ctx, int node, uint64_t nr, bool kswapd, struct ccmm_cgroup *memcg)
{
	struct ccmm_tier *T = tier_of(ctx->m);
	uint64_t freed;

	if (node < 0 || node >= (int)ctx->m->plat->nr_nodes)
		return 0;
	pthread_mutex_lock(&T->lock);
	freed = shrink_node_locked(T, ctx, node, nr, kswapd, memcg);
	pthread_mutex_unlock(&T->lock);
	return freed;
}

/*
 * The memory controller's reclaim hook (try_to_free_mem_cgroup_pages):
 * memcg reclaim over the nodes in the zonelist of the first CPU node (the
 * kernel's is the reclaiming CPU's), until @nr are reclaimed. Returns
 * nr_reclaimed: demoted pages count though they stay charged.
 */
static uint64_t tier_memcg_reclaim(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr, void *arg)
{
	struct ccmm_machine *m = arg;
	struct ccmm_tier *T = tier_of(m);
	struct ccmm_ctx own;
	uint64_t freed = 0;
	int order[CCMM_MAX_NODES], n;

	if (!ctx) {
		ccmm_ctx_init(&own, m, -1, "memcg-reclaim");
		ctx = &own;
	}
	n = zonelist(m, nearest_cpu_node(m->plat, 0), order);
	pthread_mutex_lock(&T->lock);
	for (int i = 0; i < n && freed < nr; i++)
		if (T->online[order[i]])
			freed += shrink_node_locked(T, ctx, order[i], nr - freed, false, memcg);
	pthread_mutex_unlock(&T->lock);
	return freed;
}

/* ---- NUMA balancing ---------------------------------------------------------- */

/*
 * task_numa_work in tiering mode: mark up to numa_scan_size of the task's
 * resident pages that are not on a top tier PROT_NONE (change_prot_numa
 * skips top-tier pages when only NUMA_BALANCING_MEMORY_TIERING is set),
 * continuing where the last scan stopped. T->lock held.
 */
static void task_numa_work(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct ccmm_tier_task *t)
{
	uint64_t size = (T->cfg.numa_scan_size_mb ? T->cfg.numa_scan_size_mb : 256) << (20 - CCMM_PAGE_SHIFT);
	uint64_t period = (T->cfg.numa_scan_period_ms ? T->cfg.numa_scan_period_ms : 1000) * 1000000ull;
	uint64_t looked = 0, marked = 0;

	t->numa_next_scan_ns = ctx->now_ns + period;
	for (size_t i = 0; i < t->cap && looked < size; i++) {
		struct ventry *e = &t->map[(t->numa_scan_pos + i) & (t->cap - 1)];
		struct tpage *p = e->key && e->state == V_RESIDENT ? e->page : NULL;

		if (!p)
			continue;
		looked++;
		if (p->numa_scan_ns || toptier(T, p->node))
			continue;
		p->numa_scan_ns = ctx->now_ns + 1;
		marked++;
	}
	if (t->cap)
		t->numa_scan_pos = (t->numa_scan_pos + (size_t)CCMM_MIN(looked, (uint64_t)t->cap)) & (t->cap - 1);
	vm_count(T, ctx, CCMM_VM_numa_pte_updates, marked);
	ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_NUMA_PTE_UPDATES, (int64_t)marked);
	ccmm_charge(ctx, CCMM_COST_AT(tier, numa_scan_pte_ns), looked);
}

/*
 * do_numa_page on a page a scan marked: a hint fault; a page on a slower
 * tier than the task's CPU node that was referenced within the hot
 * threshold of its scan is a promotion candidate, and moves to that node
 * when it is above its high watermark (migrate_balanced_pgdat); otherwise
 * kswapd is woken there to make room. T->lock held.
 */
static void do_numa_page(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct ccmm_tier_task *t, struct tpage *p)
{
	uint64_t latency = ctx->now_ns - (p->numa_scan_ns - 1);
	uint64_t hot = (T->cfg.numa_hot_threshold_ms ? T->cfg.numa_hot_threshold_ms : 1000) * 1000000ull;
	int src = p->node, dst = t->cpu_node;

	p->numa_scan_ns = 0;
	/* a fault like any other to handle_mm_fault, which counts it */
	vm_count(T, ctx, CCMM_VM_pgfault, 1);
	ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_PGFAULT, 1);
	vm_count(T, ctx, CCMM_VM_numa_hint_faults, 1);
	ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_NUMA_HINT_FAULTS, 1);
	ccmm_charge(ctx, CCMM_COST_page_fault_ns, 1);
	if (src == dst) {
		vm_count(T, ctx, CCMM_VM_numa_hint_faults_local, 1);
		return;
	}
	/* folio_use_access_time: slow-tier pages move by hotness; only into a top tier */
	if (toptier(T, src) || !toptier(T, dst) || !T->online[dst])
		return;
	if (latency >= hot)
		return;
	vm_count(T, ctx, CCMM_VM_pgpromote_candidate, 1);
	if (ccmm_node_free_pages(ctx->m, dst) <= T->wmark[dst].high + 1) {
		/* migrate_misplaced_folio_prepare: a nearly full node; make room for promotions */
		wake_kswapd(T, ctx, dst);
		return;
	}
	lru_remove(T, p);
	if (migrate_page(T, ctx, p, dst, T->wmark[dst].min)) {
		lru_add(T, p, false);
		vm_count(T, ctx, CCMM_VM_pgmigrate_fail, 1);
		return;
	}
	vm_count(T, ctx, CCMM_VM_numa_pages_migrated, 1);
	vm_count(T, ctx, CCMM_VM_pgmigrate_success, 1);
	vm_count(T, ctx, CCMM_VM_pgpromote_success, 1);
	T->node_promoted[dst]++;
	ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_NUMA_PAGES_MIGRATED, 1);
	ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_PGPROMOTE_SUCCESS, 1);
}

/* ---- page references ---------------------------------------------------------- */

static uint64_t oom_kills(struct ccmm_machine *m)
{
	return ccmm_cgroup_root_of(m) ? ccmm_memcg_oom_kills(ccmm_cgroup_root_of(m)) : 0;
}

/* The OOM killers count their kills in the memory controller; the tier keeps when the first came. */
static void note_oom_kills(struct ccmm_tier *T, const struct ccmm_ctx *ctx, uint64_t before)
{
	if (oom_kills(ctx->m) != before && T->first_ns[CCMM_VM_oom_kill] == UINT64_MAX)
		T->first_ns[CCMM_VM_oom_kill] = ctx->now_ns;
}

/* The memory nodes @t may allocate from: its cgroup's cpuset (0: no process, no limit). */
static uint32_t task_mems(struct ccmm_tier_task *t)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(t->m);
	struct ccmm_cgroup *cg;
	uint32_t mems;

	if (!t->proc || !root)
		return 0;
	cg = ccmm_task_cgroup(root, t->proc);
	mems = ccmm_cpuset_mems_effective(cg);
	ccmm_cgroup_put(cg);
	return mems;
}

int ccmm_tier_access(struct ccmm_ctx *ctx, struct ccmm_tier_task *t, uint64_t vpn, bool write)
{
	struct ccmm_tier *T = tier_of(ctx->m);
	struct ventry *e;
	struct tpage *p;
	bool major;
	uint64_t pa, tables;
	uint32_t mems = 0;
	int ret;

	pthread_mutex_lock(&T->lock);
	if (!t->started) {
		t->started = true;
		t->numa_next_scan_ns = ctx->now_ns + (T->cfg.numa_scan_delay_ms ? T->cfg.numa_scan_delay_ms : 1000) * 1000000ull;
	}
	if (T->cfg.promotion && ctx->now_ns >= t->numa_next_scan_ns)
		task_numa_work(T, ctx, t);
	e = lookup(t, vpn, true);
	if (!e) {
		pthread_mutex_unlock(&T->lock);
		return -ENOMEM;
	}
	if (e->state == V_RESIDENT) {
		p = e->page;
		p->referenced = true;
		if (write && !p->dirty && !p->anon) {
			T->nr_dirty[p->node]++;
			ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_FILE_DIRTY, 1);
		}
		p->dirty |= write;
		goto hit;
	}
	/* a fault: the charge first (mem_cgroup_charge, before the page is mapped) */
	major = e->state == V_SWAPPED || e->state == V_EVICTED;
	if (t->memcg) {
		/*
		 * Over the limit the memory controller calls memcg reclaim
		 * (tier_memcg_reclaim, which takes T->lock) and at last its OOM
		 * killer. The entry cannot change meanwhile: reclaim only touches
		 * resident pages, this one is not.
		 */
		uint64_t kills = oom_kills(ctx->m);

		pthread_mutex_unlock(&T->lock);
		ret = ccmm_mem_cgroup_charge(ctx, t->memcg, 1, t->proc);
		pthread_mutex_lock(&T->lock);
		note_oom_kills(T, ctx, kills);
		if (ret) {
			pthread_mutex_unlock(&T->lock);
			return ret;
		}
		t->charged++;
	}
	vm_count(T, ctx, CCMM_VM_pgfault, 1);
	ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_PGFAULT, 1);
	ccmm_charge(ctx, CCMM_COST_page_fault_ns, 1);
	pthread_mutex_unlock(&T->lock);
	mems = task_mems(t); /* the cgroup tree lock is taken after T->lock, never inside it here */
	pthread_mutex_lock(&T->lock);
	ret = alloc_user_page_locked(T, ctx, t, mems, &pa);
	if (ret) {
		uint64_t totalpages = T->cfg.swap_pages;

		if (t->memcg) {
			ccmm_memcg_uncharge(t->memcg, 1);
			t->charged--;
		}
		for (int n = 0; n < (int)ctx->m->plat->nr_nodes; n++)
			totalpages += T->online[n] ? node_pages(ctx->m, n) : 0;
		/* __alloc_pages_may_oom: the global OOM killer (no memcg limit was hit) */
		if (ccmm_cgroup_root_of(ctx->m)) {
			uint64_t kills = oom_kills(ctx->m);

			pthread_mutex_unlock(&T->lock);
			ret = ccmm_out_of_memory(ctx, ccmm_cgroup_root_of(ctx->m), t->proc, totalpages);
			pthread_mutex_lock(&T->lock);
			note_oom_kills(T, ctx, kills);
		}
		pthread_mutex_unlock(&T->lock);
		return ret;
	}
	if (major) {
		vm_count(T, ctx, CCMM_VM_pgmajfault, 1);
		ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_PGMAJFAULT, 1);
		t->st.refaults++;
		ccmm_count(ctx, CCMM_CTR_AT(tier, refaults), 1);
		if (e->state == V_SWAPPED) {
			T->swap_used--;
			if (t->proc)
				atomic_fetch_sub(&t->proc->mm_swapents, 1);
			vm_count(T, ctx, CCMM_VM_pswpin, 1);
			vm_count(T, ctx, CCMM_VM_workingset_refault_anon, 1);
			ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_WORKINGSET_REFAULT_ANON, 1);
			ccmm_charge(ctx, CCMM_COST_AT(tier, swap_in_ns), 1);
			t->st.swapped--;
		} else {
			vm_count(T, ctx, CCMM_VM_workingset_refault_file, 1);
			ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_WORKINGSET_REFAULT_FILE, 1);
			ccmm_charge(ctx, CCMM_COST_AT(tier, file_read_ns), 1);
			t->st.evicted--;
		}
	} else {
		t->st.minor_faults++;
		/* a first touch may need page tables */
		tables = pgtables_for(t, vpn);
		if (tables) {
			t->st.pgtables += tables;
			T->nr_pgtables[t->cpu_node] += tables;
			ccmm_memcg_mod_stat(t->memcg, CCMM_MEMCG_STAT_PAGETABLES, (int64_t)tables);
			if (t->proc)
				atomic_fetch_add(&t->proc->mm_pgtables, (int64_t)tables);
		}
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		ccmm_free_pages(ctx, pa, 0);
		pthread_mutex_unlock(&T->lock);
		return -ENOMEM;
	}
	p->pa = pa;
	p->owner = t;
	p->vpn = vpn;
	p->node = ccmm_platform_range(ctx->m->plat, pa)->node;
	p->anon = t->anon;
	p->dirty = write;
	p->referenced = true;
	account_resident(T, p, 1);
	account_mapped(p, 1);
	lru_add(T, p, false);
	e->state = V_RESIDENT;
	e->page = p;
hit:
	t->st.refs++;
	ccmm_count(ctx, CCMM_CTR_AT(tier, page_refs), 1);
	if (p->numa_scan_ns) {
		do_numa_page(T, ctx, t, p);
	}
	if (toptier(T, p->node)) {
		t->st.hits_fast++;
	} else {
		t->st.hits_slow++;
		ccmm_count(ctx, CCMM_CTR_AT(tier, slow_tier_hits), 1);
	}
	charge_access(ctx, p->node);
	pthread_mutex_unlock(&T->lock);
	return 0;
}

/* ---- memory hotplug --------------------------------------------------------- */

int ccmm_node_hotplug(struct ccmm_ctx *ctx, int node, bool online)
{
	struct ccmm_machine *m = ctx->m;
	struct ccmm_tier *T = tier_of(m);
	bool next[CCMM_MAX_NODES];
	struct ccmm_demotion d;
	uint32_t mems = 0;
	int ret = 0;

	if (node < 0 || node >= (int)m->plat->nr_nodes)
		return -EINVAL;
	pthread_mutex_lock(&T->lock);
	if (T->online[node] == online) {
		pthread_mutex_unlock(&T->lock);
		return -EALREADY;
	}
	memcpy(next, T->online, sizeof(next));
	next[node] = online;
	d = T->dem;
	ret = ccmm_demotion_compute(m->plat, next, T->cfg.order, &d);
	if (ret)
		goto out;
	if (!online) {
		uint64_t in_use = node_pages(m, node) - ccmm_node_free_pages(m, node), tracked = 0, room = 0;

		for (int l = 0; l < NR_LRU; l++)
			tracked += T->lru[node][l].nr;
		/* pages the tier does not track (kernel allocations) cannot be migrated */
		if (in_use != tracked) {
			ret = -EBUSY;
			goto out;
		}
		for (int n = 0; n < (int)m->plat->nr_nodes; n++) {
			uint64_t f;

			if (n == node || !T->online[n])
				continue;
			f = ccmm_node_free_pages(m, n);
			room += f > T->wmark[n].min ? f - T->wmark[n].min : 0;
		}
		if (room < tracked) {
			ret = -EBUSY;
			goto out;
		}
		/* offline_pages: migrate everything off, nearest node first */
		T->online[node] = false;
		ccmm_kernel(m)->node_offline[node] = true;
		for (int l = 0; l < NR_LRU; l++) {
			while (T->lru[node][l].nr) {
				struct tpage *p = ccmm_container_of(ccmm_lru_oldest(&T->lru[node][l]), struct tpage, lru);
				int order[CCMM_MAX_NODES], nn = zonelist(m, node, order), moved = -ENOMEM;

				lru_remove(T, p);
				for (int i = 1; i < nn && moved; i++)
					if (T->online[order[i]])
						moved = migrate_page(T, ctx, p, order[i], T->wmark[order[i]].min);
				if (moved) { /* counted above: cannot happen */
					lru_add(T, p, false);
					ret = -EBUSY;
					goto out;
				}
				vm_count(T, ctx, CCMM_VM_pgmigrate_success, 1);
			}
		}
	} else {
		T->online[node] = true;
		ccmm_kernel(m)->node_offline[node] = false;
	}
	T->dem = d;
	setup_watermarks(m, T);
	for (int n = 0; n < (int)m->plat->nr_nodes && n < 32; n++)
		if (T->online[n] && node_pages(m, n))
			mems |= 1u << n;
out:
	pthread_mutex_unlock(&T->lock);
	if (!ret && ccmm_cgroup_root_of(m))
		ccmm_cpuset_set_memory_nodes(ccmm_cgroup_root_of(m), mems);
	return ret;
}

struct ccmm_subsys ccmm_subsys_tier = {
	.name = "tier",
	.init = tier_init,
	.exit = tier_exit,
	.block = &ccmm_tier_block,
};
