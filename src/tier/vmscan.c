// SPDX-License-Identifier: MIT
/*
 * Node LRUs, page references of tasks, allocation with watermarks, kswapd
 * and direct reclaim with demotion in lieu of discard, memory hotplug and
 * /proc/vmstat.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "tier/tier.h"

CCMM_COST_BLOCK_DEFINE(tier, CCMM_TIER_COSTS, CCMM_TIER_COUNTERS);

const char *const ccmm_vmstat_names[CCMM_VM_NR] = {
#define CCMM_VMSTAT_NAME(name) #name,
	CCMM_VMSTATS(CCMM_VMSTAT_NAME)
#undef CCMM_VMSTAT_NAME
};

enum { LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE, NR_LRU };

struct tpage {
	struct ccmm_lru_node lru;
	uint64_t pa;
	struct ccmm_tier_task *owner;
	uint64_t vpn;
	int node;
	int list;          /* which LRU it is on */
	bool anon, dirty, referenced;
	unsigned hint_refs; /* references since it landed on a slower tier */
};

enum vstate { V_NONE, V_RESIDENT, V_SWAPPED, V_EVICTED };

struct ventry {
	uint64_t key; /* vpn + 1; 0: empty */
	uint8_t state;
	struct tpage *page;
};

struct ccmm_tier_task {
	struct ccmm_machine *m;
	int node;
	bool anon, bind;
	struct ccmm_cgroup *memcg; /* charged for every resident page (a reference), or NULL */
	struct ccmm_task *proc;    /* the process, for the memcg OOM killer, or NULL */
	uint64_t charged;          /* pages charged to memcg now */
	struct ventry *map;
	size_t cap, used;
	struct ccmm_tier_task_stats st;
};

struct ccmm_tier {
	pthread_mutex_t lock;
	struct ccmm_tier_config cfg;
	struct ccmm_demotion dem;
	struct ccmm_lru lru[CCMM_MAX_NODES][NR_LRU];
	uint64_t swap_used;
	uint64_t vm[CCMM_VM_NR];
	struct ccmm_ctx kswapd[CCMM_MAX_NODES];
	char kswapd_name[CCMM_MAX_NODES][16];
	struct ccmm_rng rng;
	bool online[CCMM_MAX_NODES];
};

static uint64_t tier_memcg_reclaim(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr, void *arg);

static struct ccmm_tier *tier_of(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_tier);
}

static int tier_init(struct ccmm_machine *m)
{
	struct ccmm_tier *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	pthread_mutex_init(&t->lock, NULL);
	for (int n = 0; n < CCMM_MAX_NODES; n++) {
		for (int l = 0; l < NR_LRU; l++)
			ccmm_lru_init(&t->lru[n][l]);
		snprintf(t->kswapd_name[n], sizeof(t->kswapd_name[n]), "kswapd%d", n);
		ccmm_ctx_init(&t->kswapd[n], m, -1, t->kswapd_name[n]);
		t->online[n] = n < (int)m->plat->nr_nodes && m->plat->node[n].online;
	}
	ccmm_rng_seed(&t->rng, m->seed, 0x7e1e);
	t->cfg.batch = 32;
	t->cfg.order = CCMM_DEMOTE_TIERS;
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
	pthread_mutex_destroy(&t->lock);
	free(t);
	ccmm_subsys_set_data(m, &ccmm_subsys_tier, NULL);
}

int ccmm_tier_configure(struct ccmm_machine *m, const struct ccmm_tier_config *cfg)
{
	struct ccmm_tier *t = tier_of(m);
	struct ccmm_demotion d = t->dem;
	int ret;

	pthread_mutex_lock(&t->lock);
	ret = ccmm_demotion_compute(m->plat, t->online, cfg->order, &d);
	if (!ret) {
		t->cfg = *cfg;
		if (!t->cfg.batch)
			t->cfg.batch = 32;
		t->dem = d;
	}
	pthread_mutex_unlock(&t->lock);
	return ret;
}

void ccmm_tier_demotion(struct ccmm_machine *m, struct ccmm_demotion *out)
{
	struct ccmm_tier *t = tier_of(m);

	pthread_mutex_lock(&t->lock);
	*out = t->dem;
	pthread_mutex_unlock(&t->lock);
}

uint64_t ccmm_vmstat_get(struct ccmm_machine *m, enum ccmm_vmstat item)
{
	struct ccmm_tier *t = tier_of(m);
	uint64_t v;

	pthread_mutex_lock(&t->lock);
	v = t->vm[item];
	pthread_mutex_unlock(&t->lock);
	return v;
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

static uint64_t node_pages(struct ccmm_machine *m, int node)
{
	return ccmm_platform_ram(m->plat, node) >> CCMM_PAGE_SHIFT;
}

void ccmm_node_watermarks(struct ccmm_machine *m, int node, uint64_t *min, uint64_t *low, uint64_t *high)
{
	uint64_t pages = node_pages(m, node);
	uint64_t mn = CCMM_MAX(pages / 100, 8), gap = CCMM_MAX(mn / 4, pages / 1000);

	/* min ~1% (at least 8 pages); low and high a quarter of min (or 0.1%) apart, as watermark_scale_factor */
	*min = mn;
	*low = mn + gap;
	*high = mn + 2 * gap;
}

/* ---- task maps --------------------------------------------------------- */

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
			for (h = (t->map[i].key * 0x9e3779b97f4a7c15ULL) & (ncap - 1); nm[h].key; h = (h + 1) & (ncap - 1))
				;
			nm[h] = t->map[i];
			if (nm[h].page)
				nm[h].page->owner = t; /* unchanged, but keep the invariant visible */
		}
		free(t->map);
		t->map = nm;
		t->cap = ncap;
	}
	if (!t->cap)
		return NULL;
	for (h = (key * 0x9e3779b97f4a7c15ULL) & (t->cap - 1); t->map[h].key; h = (h + 1) & (t->cap - 1))
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

static void lru_add(struct ccmm_tier *T, struct tpage *p, bool active)
{
	p->list = (p->anon ? LRU_INACTIVE_ANON : LRU_INACTIVE_FILE) + (active ? 1 : 0);
	p->lru.next = NULL;
	ccmm_lru_add_tail(&T->lru[p->node][p->list], &p->lru);
}

static void lru_remove(struct ccmm_tier *T, struct tpage *p)
{
	ccmm_lru_del(&T->lru[p->node][p->list], &p->lru);
}

static struct ventry *entry_of(struct tpage *p)
{
	return lookup(p->owner, p->vpn, false);
}

void ccmm_tier_task_destroy(struct ccmm_tier_task *t)
{
	struct ccmm_tier *T;
	struct ccmm_ctx ctx;

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
			lru_remove(T, e->page);
			ccmm_free_pages(&ctx, e->page->pa, 0);
			free(e->page);
		} else if (e->state == V_SWAPPED) {
			T->swap_used--;
		}
	}
	pthread_mutex_unlock(&T->lock);
	if (t->memcg) {
		ccmm_memcg_uncharge(t->memcg, t->charged);
		ccmm_cgroup_put(t->memcg);
	}
	free(t->map);
	free(t);
}

void ccmm_tier_task_stats(struct ccmm_tier_task *t, struct ccmm_tier_task_stats *s)
{
	struct ccmm_tier *T = tier_of(t->m);

	pthread_mutex_lock(&T->lock);
	*s = t->st;
	pthread_mutex_unlock(&T->lock);
}

/* ---- reclaim ------------------------------------------------------------- */

static bool demotion_on(struct ccmm_tier *T)
{
	return (T->cfg.node_reclaim_mode & CCMM_RECLAIM_MIGRATE) != 0;
}

static bool can_reclaim_anon_locked(struct ccmm_tier *T, int node, bool memcg_reclaim)
{
	if (T->swap_used < T->cfg.swap_pages)
		return true;
	/* memcg reclaim never demotes: swap is its only way out for anon pages */
	if (memcg_reclaim)
		return false;
	return demotion_on(T) && T->dem.preferred[node] != 0;
}

bool ccmm_can_reclaim_anon(struct ccmm_machine *m, int node, bool memcg_reclaim)
{
	struct ccmm_tier *T = tier_of(m);
	bool ok;

	pthread_mutex_lock(&T->lock);
	ok = can_reclaim_anon_locked(T, node, memcg_reclaim);
	pthread_mutex_unlock(&T->lock);
	return ok;
}

/* Allocate one page on exactly @node if it is above @wmark free pages. */
static int alloc_on(struct ccmm_ctx *ctx, int node, uint64_t wmark, uint64_t *pa)
{
	if (!tier_of(ctx->m)->online[node] || ccmm_node_free_pages(ctx->m, node) <= wmark)
		return -ENOMEM;
	return ccmm_alloc_pages(ctx, node, 0, CCMM_GFP_THISNODE, pa);
}

/* Move @p to @target: the copy, the new page on the target's inactive list. T->lock held. */
static int migrate_page(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct tpage *p, int target)
{
	uint64_t min, low, high, pa;

	ccmm_node_watermarks(ctx->m, target, &min, &low, &high);
	/* the demotion allocation never reclaims on the target (GFP_NOWAIT-like) */
	if (alloc_on(ctx, target, min, &pa))
		return -ENOMEM;
	ccmm_free_pages(ctx, p->pa, 0);
	p->pa = pa;
	p->node = target;
	p->referenced = false;
	p->hint_refs = 0;
	lru_add(T, p, false);
	ccmm_charge(ctx, CCMM_COST_AT(tier, migrate_page_ns), 1);
	ccmm_charge_copy(ctx, CCMM_PAGE_SIZE);
	return 0;
}

/* Refill an inactive list from its active list when it is the smaller (shrink_active_list). */
static void deactivate(struct ccmm_tier *T, int node, int inactive, uint64_t nr)
{
	struct ccmm_lru *act = &T->lru[node][inactive + 1], *inact = &T->lru[node][inactive];

	while (nr-- && act->nr && inact->nr < act->nr) {
		struct tpage *p = ccmm_container_of(ccmm_lru_oldest(act), struct tpage, lru);

		ccmm_lru_del(act, &p->lru);
		p->referenced = false;
		p->list = inactive;
		ccmm_lru_add_tail(inact, &p->lru);
	}
}

static bool charged_below(const struct tpage *p, const struct ccmm_cgroup *memcg)
{
	return p->owner->memcg && ccmm_cgroup_is_descendant(p->owner->memcg, memcg);
}

/*
 * The same for memcg reclaim, which in the kernel works on the memcg's own
 * lruvec: balance only the pages charged to @memcg or below.
 */
static void deactivate_memcg(struct ccmm_tier *T, int node, int inactive, uint64_t nr, const struct ccmm_cgroup *memcg)
{
	struct ccmm_lru *act = &T->lru[node][inactive + 1], *inact = &T->lru[node][inactive];
	struct ccmm_lru_node *n;
	uint64_t nr_act = 0, nr_inact = 0;

	for (n = act->head.next; n != &act->head; n = n->next)
		nr_act += charged_below(ccmm_container_of(n, struct tpage, lru), memcg);
	for (n = inact->head.next; n != &inact->head; n = n->next)
		nr_inact += charged_below(ccmm_container_of(n, struct tpage, lru), memcg);
	for (n = act->head.next; n != &act->head && nr && nr_inact < nr_act;) {
		struct tpage *p = ccmm_container_of(n, struct tpage, lru);

		n = n->next;
		if (!charged_below(p, memcg))
			continue;
		ccmm_lru_del(act, &p->lru);
		p->referenced = false;
		p->list = inactive;
		ccmm_lru_add_tail(inact, &p->lru);
		nr--;
		nr_act--;
		nr_inact++;
	}
}

/*
 * Take up to @nr victims from @node's inactive list @list (second chance:
 * referenced pages are activated). For memcg reclaim, only the pages
 * charged to @memcg or below it.
 */
static size_t isolate(struct ccmm_tier *T, struct ccmm_ctx *ctx, int node, int list, size_t nr,
		      struct ccmm_cgroup *memcg, bool kswapd, struct tpage **out)
{
	struct ccmm_lru *l = &T->lru[node][list];
	struct ccmm_lru_node *n = l->head.next;
	size_t taken = 0, scanned = 0, budget = l->nr;

	if (memcg)
		deactivate_memcg(T, node, list, nr * 2, memcg);
	else
		deactivate(T, node, list, nr * 2);
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
		if (p->referenced) {
			/* used since it was last looked at: activate it */
			p->referenced = false;
			ccmm_lru_del(l, n);
			lru_add(T, p, true);
			T->vm[CCMM_VM_pgactivate]++;
		} else {
			ccmm_lru_del(l, n);
			out[taken++] = p;
		}
		n = next;
	}
	T->vm[kswapd ? CCMM_VM_pgscan_kswapd : CCMM_VM_pgscan_direct] += scanned;
	ccmm_charge(ctx, CCMM_COST_AT(tier, lru_scan_ns), scanned);
	return taken;
}

static void release_to(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct tpage *p, enum vstate state)
{
	struct ventry *e = entry_of(p);

	if (e) {
		e->state = (uint8_t)state;
		e->page = NULL;
	}
	if (p->owner->memcg) {
		/* the page is gone: its charge goes (a swapped page's swap charge is not modeled) */
		ccmm_memcg_uncharge(p->owner->memcg, 1);
		p->owner->charged--;
	}
	p->owner->st.resident--;
	ccmm_free_pages(ctx, p->pa, 0);
	free(p);
}

/* shrink_page_list with demotion: T->lock held. Returns pages freed on @node. */
static uint64_t shrink_node_locked(struct ccmm_tier *T, struct ccmm_ctx *ctx, int node, uint64_t nr, bool kswapd,
				   struct ccmm_cgroup *memcg)
{
	struct tpage *victims[64];
	uint64_t freed = 0;
	bool anon_ok = can_reclaim_anon_locked(T, node, memcg != NULL);
	bool demote = !memcg && demotion_on(T) && T->dem.preferred[node];
	int idle_rounds = 0;

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

			/* pass 1: migrate instead of discard */
			if (demote) {
				int target = ccmm_next_demotion_node(&T->dem, node, &T->rng);

				if (target != CCMM_NO_NODE && !migrate_page(T, ctx, p, target)) {
					T->vm[kswapd ? CCMM_VM_pgdemote_kswapd : CCMM_VM_pgdemote_direct]++;
					T->vm[CCMM_VM_pgmigrate_success]++;
					ccmm_count(ctx, CCMM_CTR_AT(tier, demotions), 1);
					freed++;
					continue;
				}
				T->vm[CCMM_VM_pgmigrate_fail]++;
			}
			/* pass 2: the pages that did not move are reclaimed normally */
			if (!p->anon) {
				if (p->dirty)
					ccmm_charge(ctx, CCMM_COST_AT(tier, writeback_ns), 1);
				p->owner->st.evicted++;
				release_to(T, ctx, p, V_EVICTED);
			} else if (T->swap_used < T->cfg.swap_pages) {
				T->swap_used++;
				T->vm[CCMM_VM_pswpout]++;
				ccmm_charge(ctx, CCMM_COST_AT(tier, swap_out_ns), 1);
				p->owner->st.swapped++;
				release_to(T, ctx, p, V_SWAPPED);
			} else {
				/* swap full and no demotion: it cannot be reclaimed */
				lru_add(T, p, true);
				continue;
			}
			ccmm_count(ctx, CCMM_CTR_AT(tier, reclaimed), 1);
			freed++;
		}
		/* everything referenced (now active) or unreclaimable: give up after two idle rounds */
		idle_rounds = freed == before ? idle_rounds + 1 : 0;
		anon_ok = can_reclaim_anon_locked(T, node, memcg != NULL);
	}
	T->vm[kswapd ? CCMM_VM_pgsteal_kswapd : CCMM_VM_pgsteal_direct] += freed;
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
 * memcg reclaim over every node, which never demotes. Returns the pages
 * freed, each of which uncharged one page.
 */
static uint64_t tier_memcg_reclaim(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr, void *arg)
{
	struct ccmm_machine *m = arg;
	struct ccmm_tier *T = tier_of(m);
	struct ccmm_ctx own;
	uint64_t freed = 0;

	if (!ctx) {
		ccmm_ctx_init(&own, m, -1, "memcg-reclaim");
		ctx = &own;
	}
	pthread_mutex_lock(&T->lock);
	for (int n = 0; n < (int)m->plat->nr_nodes && freed < nr; n++) {
		uint64_t got = shrink_node_locked(T, ctx, n, CCMM_MAX(nr - freed, T->cfg.batch), false, memcg);

		freed += got;
	}
	pthread_mutex_unlock(&T->lock);
	return freed;
}

/* kswapd for @node: reclaim until the high watermark. T->lock held. */
static void wake_kswapd(struct ccmm_tier *T, struct ccmm_ctx *waker, int node)
{
	struct ccmm_ctx *k = &T->kswapd[node];
	uint64_t min, low, high;

	ccmm_node_watermarks(waker->m, node, &min, &low, &high);
	if (ccmm_node_free_pages(waker->m, node) > low)
		return;
	T->vm[CCMM_VM_kswapd_wakeups]++;
	/* background: it starts when woken, and does not stall the waker */
	if (k->now_ns < waker->now_ns)
		k->now_ns = waker->now_ns;
	while (ccmm_node_free_pages(waker->m, node) < high) {
		if (!shrink_node_locked(T, k, node, T->cfg.batch, true, NULL))
			break;
	}
}

/* The allocator's node order: @node, then the others nearest first. */
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

#define RECLAIM_DISTANCE 30 /* node_reclaim only reclaims nodes this close */

/*
 * __alloc_pages: the fast path takes a node above its low watermark, in
 * zonelist order, running node_reclaim on a node that fails it when
 * node_reclaim_mode is on (mapped pages only with RECLAIM_UNMAP); the slow
 * path wakes kswapd, takes a node above min, reclaims directly and
 * retries. @bind: MPOL_BIND to @node (no fallback). T->lock held.
 */
static int alloc_page_locked(struct ccmm_tier *T, struct ccmm_ctx *ctx, int node, bool bind, uint64_t *pa)
{
	int order[CCMM_MAX_NODES], n = bind ? 1 : zonelist(ctx->m, node, order);
	unsigned mode = T->cfg.node_reclaim_mode;
	uint64_t min, low, high;

	order[0] = node;
	for (int i = 0; i < n; i++) {
		ccmm_node_watermarks(ctx->m, order[i], &min, &low, &high);
		if (!alloc_on(ctx, order[i], low, pa))
			return 0;
		if (mode && T->online[order[i]] && ctx->m->plat->distance[node][order[i]] <= RECLAIM_DISTANCE &&
		    (mode & CCMM_RECLAIM_UNMAP)) {
			/* node_reclaim: our pages are all mapped, so it needs RECLAIM_UNMAP */
			shrink_node_locked(T, ctx, order[i], T->cfg.batch, false, NULL);
			if (!alloc_on(ctx, order[i], low, pa))
				return 0;
		}
	}
	for (int i = 0; i < n; i++)
		if (T->online[order[i]])
			wake_kswapd(T, ctx, order[i]);
	for (int attempt = 0; attempt < 2; attempt++) {
		bool progress = false;

		for (int i = 0; i < n; i++) {
			ccmm_node_watermarks(ctx->m, order[i], &min, &low, &high);
			if (!alloc_on(ctx, order[i], min, pa))
				return 0;
		}
		/* direct reclaim, the preferred node first: the allocation stalls */
		T->vm[CCMM_VM_allocstall]++;
		for (int i = 0; i < n && !progress; i++)
			progress = shrink_node_locked(T, ctx, order[i], T->cfg.batch, false, NULL) > 0;
		if (!progress)
			break;
	}
	/* below min everywhere: the last reserves */
	for (int i = 0; i < n; i++)
		if (!alloc_on(ctx, order[i], 0, pa))
			return 0;
	return -ENOMEM;
}

/*
 * NUMA balancing in tiering mode: a page on a slow tier referenced again
 * takes a hint fault and is promoted to the task's node if that is in the
 * top tier and has room above its high watermark; if not, kswapd is woken
 * there to make room (demoting colder pages). T->lock held.
 */
static void promote(struct ccmm_tier *T, struct ccmm_ctx *ctx, struct ccmm_tier_task *t, struct tpage *p)
{
	int target = t->node;
	uint64_t min, low, high;

	T->vm[CCMM_VM_numa_hint_faults]++;
	ccmm_charge(ctx, CCMM_COST_page_fault_ns, 1);
	p->hint_refs = 0;
	if (!T->online[target] || T->dem.adist[target] >> CCMM_MEMTIER_CHUNK_BITS != T->dem.tier_id[0])
		return;
	T->vm[CCMM_VM_pgpromote_candidate]++;
	ccmm_node_watermarks(ctx->m, target, &min, &low, &high);
	if (ccmm_node_free_pages(ctx->m, target) <= high) {
		/* make room for promotions, as kswapd does for the top tier */
		struct ccmm_ctx *k = &T->kswapd[target];

		if (k->now_ns < ctx->now_ns)
			k->now_ns = ctx->now_ns;
		T->vm[CCMM_VM_kswapd_wakeups]++;
		shrink_node_locked(T, k, target, T->cfg.batch, true, NULL);
		return;
	}
	lru_remove(T, p);
	if (migrate_page(T, ctx, p, target)) {
		lru_add(T, p, false);
		return;
	}
	T->vm[CCMM_VM_pgpromote_success]++;
	T->vm[CCMM_VM_pgmigrate_success]++;
}

int ccmm_tier_access(struct ccmm_ctx *ctx, struct ccmm_tier_task *t, uint64_t vpn, bool write)
{
	struct ccmm_tier *T = tier_of(ctx->m);
	struct ventry *e;
	struct tpage *p;
	bool major;
	uint64_t pa;
	int ret;

	pthread_mutex_lock(&T->lock);
	t->st.refs++;
	ccmm_count(ctx, CCMM_CTR_AT(tier, page_refs), 1);
	e = lookup(t, vpn, true);
	if (!e) {
		pthread_mutex_unlock(&T->lock);
		return -ENOMEM;
	}
	if (e->state == V_RESIDENT) {
		p = e->page;
		p->referenced = true;
		p->dirty |= write;
		goto hit;
	}
	/* a fault */
	major = e->state == V_SWAPPED || e->state == V_EVICTED;
	T->vm[CCMM_VM_pgfault]++;
	ccmm_charge(ctx, CCMM_COST_page_fault_ns, 1);
	if (t->memcg) {
		/*
		 * mem_cgroup_charge before the page is mapped: over the limit the
		 * memory controller calls memcg reclaim (tier_memcg_reclaim, which
		 * takes T->lock) and at last its OOM killer. The entry cannot change
		 * meanwhile: reclaim only touches resident pages, this one is not.
		 */
		pthread_mutex_unlock(&T->lock);
		ret = ccmm_memcg_try_charge(ctx, t->memcg, 1, t->proc);
		pthread_mutex_lock(&T->lock);
		if (ret) {
			T->vm[CCMM_VM_oom_kill]++;
			pthread_mutex_unlock(&T->lock);
			return -ENOMEM;
		}
		t->charged++;
	}
	ret = alloc_page_locked(T, ctx, t->node, t->bind, &pa);
	if (ret) {
		if (t->memcg) {
			ccmm_memcg_uncharge(t->memcg, 1);
			t->charged--;
		}
		T->vm[CCMM_VM_oom_kill]++;
		pthread_mutex_unlock(&T->lock);
		return ret;
	}
	if (major) {
		T->vm[CCMM_VM_pgmajfault]++;
		t->st.refaults++;
		ccmm_count(ctx, CCMM_CTR_AT(tier, refaults), 1);
		if (e->state == V_SWAPPED) {
			T->swap_used--;
			T->vm[CCMM_VM_pswpin]++;
			T->vm[CCMM_VM_workingset_refault_anon]++;
			ccmm_charge(ctx, CCMM_COST_AT(tier, swap_in_ns), 1);
			t->st.swapped--;
		} else {
			T->vm[CCMM_VM_workingset_refault_file]++;
			ccmm_charge(ctx, CCMM_COST_AT(tier, file_read_ns), 1);
			t->st.evicted--;
		}
	} else {
		t->st.minor_faults++;
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
	lru_add(T, p, false);
	e->state = V_RESIDENT;
	e->page = p;
	t->st.resident++;
hit:
	if (T->cfg.promotion && T->dem.adist[p->node] >> CCMM_MEMTIER_CHUNK_BITS != T->dem.tier_id[0] &&
	    ++p->hint_refs >= 2)
		promote(T, ctx, t, p);
	if (T->dem.adist[p->node] >> CCMM_MEMTIER_CHUNK_BITS == T->dem.tier_id[0]) {
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
			uint64_t min, low, high, f;

			if (n == node || !T->online[n])
				continue;
			ccmm_node_watermarks(m, n, &min, &low, &high);
			f = ccmm_node_free_pages(m, n);
			room += f > min ? f - min : 0;
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
				for (int i = 1; i < nn && moved; i++) {
					uint64_t min, low, high;

					ccmm_node_watermarks(m, order[i], &min, &low, &high);
					if (T->online[order[i]] && ccmm_node_free_pages(m, order[i]) > min)
						moved = migrate_page(T, ctx, p, order[i]);
				}
				if (moved) { /* counted above: cannot happen */
					lru_add(T, p, false);
					ret = -EBUSY;
					goto out;
				}
				T->vm[CCMM_VM_pgmigrate_success]++;
			}
		}
	} else {
		T->online[node] = true;
		ccmm_kernel(m)->node_offline[node] = false;
	}
	T->dem = d;
out:
	pthread_mutex_unlock(&T->lock);
	return ret;
}

/* ---- /proc/vmstat ------------------------------------------------------------- */

int ccmm_vmstat_write(struct ccmm_machine *m, FILE *out)
{
	struct ccmm_tier *T = tier_of(m);
	uint64_t lru[NR_LRU] = { 0 }, free_pages = ccmm_node_free_pages(m, -1);

	pthread_mutex_lock(&T->lock);
	for (int n = 0; n < (int)m->plat->nr_nodes; n++)
		for (int l = 0; l < NR_LRU; l++)
			lru[l] += T->lru[n][l].nr;
	fprintf(out, "nr_free_pages %" PRIu64 "\n", free_pages);
	fprintf(out, "nr_inactive_anon %" PRIu64 "\nnr_active_anon %" PRIu64 "\n", lru[LRU_INACTIVE_ANON], lru[LRU_ACTIVE_ANON]);
	fprintf(out, "nr_inactive_file %" PRIu64 "\nnr_active_file %" PRIu64 "\n", lru[LRU_INACTIVE_FILE], lru[LRU_ACTIVE_FILE]);
	fprintf(out, "nr_swap_used %" PRIu64 "\n", T->swap_used);
	for (int i = 0; i < CCMM_VM_NR; i++)
		fprintf(out, "%s %" PRIu64 "\n", ccmm_vmstat_names[i], T->vm[i]);
	pthread_mutex_unlock(&T->lock);
	return ferror(out) ? -EIO : 0;
}

struct ccmm_subsys ccmm_subsys_tier = {
	.name = "tier",
	.init = tier_init,
	.exit = tier_exit,
	.block = &ccmm_tier_block,
};
