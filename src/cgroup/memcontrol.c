// SPDX-License-Identifier: MIT
/*
 * The memory controller, as much of mm/memcontrol.c as charging backing
 * storage needs: page counters, try-charge with reclaim through a hook,
 * events, the memcg OOM killer's choice, and the memory.* files.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <string.h>

#include "cgroup/internal.h"

#define MAX_RECLAIM_RETRIES 16
#define SWAP_CLUSTER_MAX 32
#define PAGE_ALLOC_COSTLY_PAGES 8  /* 1 << PAGE_ALLOC_COSTLY_ORDER */
#define MEMCG_CHARGE_BATCH 64
#define MEMCG_DELAY_PRECISION_SHIFT 20
#define MEMCG_DELAY_SCALING_SHIFT 14
#define MEMCG_MAX_HIGH_DELAY_JIFFIES(hz) (2 * (hz))

CCMM_COST_BLOCK_DEFINE(cgroup, CCMM_CGROUP_COSTS, CCMM_CGROUP_COUNTERS);

static const char *const event_names[CCMM_MEMCG_NR_EVENTS] = { "low",	   "high",	     "max",	    "oom",
								 "oom_kill", "oom_group_kill", "sock_throttled" };

static const char *const stat_names[CCMM_MEMCG_NR_STATS] = {
#define STAT_NAME(e, key, bytes) key,
	CCMM_MEMCG_STATS(STAT_NAME)
#undef STAT_NAME
};

static const bool stat_bytes[CCMM_MEMCG_NR_STATS] = {
#define STAT_BYTES(e, key, bytes) bytes,
	CCMM_MEMCG_STATS(STAT_BYTES)
#undef STAT_BYTES
};

const char *ccmm_memcg_event_name(enum ccmm_memcg_event e)
{
	return (unsigned)e < CCMM_MEMCG_NR_EVENTS ? event_names[e] : "?";
}

const char *ccmm_memcg_stat_name(enum ccmm_memcg_stat item)
{
	return (unsigned)item < CCMM_MEMCG_NR_STATS ? stat_names[item] : "?";
}

struct ccmm_cgroup *ccmm_mem_cgroup_css(struct ccmm_cgroup *cg)
{
	while (cg->parent && !ccmm_cgroup_has_ctrl(cg, CCMM_CGRP_MEMORY))
		cg = cg->parent;
	return cg;
}

struct ccmm_cgroup *ccmm_get_mem_cgroup_from_mm(struct ccmm_cgroup_root *root, const void *mm)
{
	struct ccmm_cgroup *cg = root->top;

	pthread_rwlock_rdlock(&root->tree_lock);
	for (struct ccmm_task *t = root->tasks; mm && t; t = t->next) {
		if (t->mm == mm) {
			cg = ccmm_mem_cgroup_css(t->cgrp);
			break;
		}
	}
	ccmm_cgroup_get(cg);
	pthread_rwlock_unlock(&root->tree_lock);
	return cg;
}

void ccmm_memcg_set_reclaim(struct ccmm_cgroup_root *root, ccmm_memcg_reclaim_fn fn, void *arg)
{
	pthread_rwlock_wrlock(&root->tree_lock);
	root->reclaim = fn;
	root->reclaim_arg = arg;
	pthread_rwlock_unlock(&root->tree_lock);
}

void ccmm_memcg_set_total_swap(struct ccmm_cgroup_root *root, uint64_t pages)
{
	atomic_store(&root->total_swap_pages, pages);
}

void ccmm_memcg_event(struct ccmm_cgroup *memcg, enum ccmm_memcg_event ev)
{
	atomic_fetch_add(&memcg->mem.events_local[ev], 1);
	/* memcg_memory_event: up the tree, but not into the root */
	for (; memcg && memcg->parent; memcg = memcg->parent)
		atomic_fetch_add(&memcg->mem.events[ev], 1);
}

int64_t ccmm_memcg_stat(struct ccmm_cgroup *memcg, enum ccmm_memcg_stat item)
{
	struct ccmm_cgroup_root *root = memcg->root;
	struct ccmm_cgroup *pos = NULL;
	int64_t sum = 0;

	pthread_rwlock_rdlock(&root->tree_lock);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, memcg)))
		sum += atomic_load(&pos->mem.stat[item]);
	pthread_rwlock_unlock(&root->tree_lock);
	return sum;
}

static void counter_cancel(struct ccmm_cgroup *c, uint64_t nr)
{
	uint64_t old = atomic_fetch_sub(&c->mem.usage, nr);

	if (old < nr) /* page_counter_cancel WARNs and clamps; never happens here */
		atomic_store(&c->mem.usage, 0);
}

/* page_counter_try_charge: true, or false with the level that refused in *@fail. */
static bool counter_try_charge(struct ccmm_cgroup *memcg, uint64_t nr, struct ccmm_cgroup **fail)
{
	struct ccmm_cgroup *c;

	for (c = memcg; c; c = c->parent) {
		uint64_t new_usage = atomic_fetch_add(&c->mem.usage, nr) + nr;
		uint64_t old;

		if (new_usage > atomic_load(&c->mem.max)) {
			counter_cancel(c, nr);
			atomic_fetch_add(&c->mem.failcnt, 1);
			*fail = c;
			for (struct ccmm_cgroup *u = memcg; u != c; u = u->parent)
				counter_cancel(u, nr);
			return false;
		}
		old = atomic_load(&c->mem.watermark);
		while (new_usage > old && !atomic_compare_exchange_weak(&c->mem.watermark, &old, new_usage))
			;
	}
	return true;
}

uint64_t ccmm_memcg_margin(const struct ccmm_cgroup *memcg)
{
	uint64_t margin = UINT64_MAX;

	for (const struct ccmm_cgroup *c = memcg; c; c = c->parent) {
		uint64_t usage = atomic_load(&c->mem.usage), max = atomic_load(&c->mem.max);

		margin = CCMM_MIN(margin, max > usage ? max - usage : 0);
	}
	return margin;
}

uint64_t ccmm_mem_cgroup_get_max(const struct ccmm_cgroup *memcg)
{
	/* no swap.max: mem_cgroup_get_max adds min(swap.max, total_swap_pages) = total_swap_pages */
	uint64_t max = atomic_load(&memcg->mem.max), swap = atomic_load(&memcg->root->total_swap_pages);

	return max > UINT64_MAX - swap ? UINT64_MAX : max + swap;
}

long ccmm_oom_badness(const struct ccmm_task *t, uint64_t totalpages)
{
	long points, adj = atomic_load(&t->oom_score_adj);

	if (adj == CCMM_OOM_SCORE_ADJ_MIN)
		return LONG_MIN;
	/* the baseline: the proportion of RAM the task's rss, page tables and swap use */
	points = (long)atomic_load(&t->mm_rss) + (long)atomic_load(&t->mm_swapents) + (long)atomic_load(&t->mm_pgtables);
	/* normalised to oom_score_adj units */
	adj *= (long)(totalpages / 1000);
	return points + adj;
}

/* task_is_dying(): an OOM victim, or a fatal signal pending. NULL (a kernel thread): no. */
static bool task_is_dying(const struct ccmm_task *t)
{
	return t && (atomic_load(&t->oom_victim) || ccmm_task_signal_pending(t));
}

enum oom_result {
	OOM_NONE,           /* nothing killable: the charge fails */
	OOM_KILLED_CURRENT, /* the charging task is the victim (or was dying already) */
	OOM_OTHER,          /* another task was killed now, or is a victim that has not exited */
	OOM_MARGIN,         /* room appeared meanwhile: retry */
};

/*
 * select_bad_process over the tasks of @memcg's subtree (mem_cgroup_scan_tasks:
 * cgroups in pre-order, a cgroup's tasks by pid) with oom_evaluate_task's
 * rules. Tree lock held. Returns the victim, or NULL; *@abort when a
 * previous victim in the subtree has not exited yet.
 */
static struct ccmm_task *select_bad_process(struct ccmm_cgroup *memcg, uint64_t totalpages, bool *abort)
{
	struct ccmm_cgroup_root *root = memcg->root;
	struct ccmm_cgroup *pos = NULL;
	struct ccmm_task *chosen = NULL;
	long chosen_points = LONG_MIN;

	*abort = false;
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, memcg))) {
		int last_pid = -1;

		for (;;) {
			struct ccmm_task *next = NULL;
			long points;

			/* the task of @pos with the next higher pid */
			for (struct ccmm_task *t = root->tasks; t; t = t->next)
				if (t->cgrp == pos && t->pid > last_pid && (!next || t->pid < next->pid))
					next = t;
			if (!next)
				break;
			last_pid = next->pid;
			if (!next->mm)
				continue; /* no mm (find_lock_task_mm fails): unkillable */
			if (atomic_load(&next->oom_victim)) {
				*abort = true; /* tsk_is_oom_victim: wait for it */
				return NULL;
			}
			points = ccmm_oom_badness(next, totalpages);
			if (points == LONG_MIN || points < chosen_points)
				continue;
			chosen = next;
			chosen_points = points;
		}
	}
	return chosen;
}

/*
 * out_of_memory's choice and kill among the tasks of @scope's subtree
 * with @totalpages for oom_badness, on behalf of @current (may be NULL).
 */
static enum oom_result oom_kill(struct ccmm_cgroup *scope, struct ccmm_task *current, uint64_t totalpages)
{
	struct ccmm_cgroup_root *root = scope->root;
	struct ccmm_cgroup *victim_cg = NULL;
	struct ccmm_task *victim;
	enum oom_result res;
	bool abort;

	/* task_is_dying(current): it will free its memory, nobody else is killed */
	if (task_is_dying(current)) {
		atomic_store(&current->oom_victim, true);
		return OOM_KILLED_CURRENT;
	}
	pthread_rwlock_rdlock(&root->tree_lock);
	victim = select_bad_process(scope, totalpages ? totalpages : 1, &abort);
	if (abort) {
		res = current && atomic_load(&current->oom_victim) ? OOM_KILLED_CURRENT : OOM_OTHER;
	} else if (!victim) {
		res = OOM_NONE;
	} else {
		res = victim == current ? OOM_KILLED_CURRENT : OOM_OTHER;
		atomic_store(&victim->oom_victim, true);
		/* oom_kill_process: one already dying (task_will_free_mem) is only marked */
		if (!ccmm_task_signal_pending(victim)) {
			ccmm_task_signal(victim, SIGKILL);
			victim_cg = ccmm_mem_cgroup_css(victim->cgrp);
			ccmm_cgroup_get(victim_cg);
		}
	}
	pthread_rwlock_unlock(&root->tree_lock);
	if (victim_cg) {
		/* __oom_kill_process: count_vm_event(OOM_KILL), memcg_memory_event_mm(mm, MEMCG_OOM_KILL) */
		atomic_fetch_add(&root->oom_kills, 1);
		ccmm_memcg_event(victim_cg, CCMM_MEMCG_OOM_KILL);
		ccmm_cgroup_put(victim_cg);
	}
	return res;
}

/* mem_cgroup_oom + mem_cgroup_out_of_memory for a memcg OOM at @memcg on behalf of @current. */
static enum oom_result mem_cgroup_out_of_memory(struct ccmm_cgroup *memcg, struct ccmm_task *current, uint64_t nr_pages)
{
	ccmm_memcg_event(memcg, CCMM_MEMCG_OOM);
	if (ccmm_memcg_margin(memcg) >= nr_pages)
		return OOM_MARGIN;
	return oom_kill(memcg, current, ccmm_mem_cgroup_get_max(memcg));
}

/* out_of_memory gives a victim a jiffy to exit before the allocation is tried again. */
static void oom_wait(struct ccmm_ctx *ctx)
{
	if (ctx)
		ccmm_charge(ctx, CCMM_COST_AT(cgroup, jiffy_ns), 1);
}

int ccmm_out_of_memory(struct ccmm_ctx *ctx, struct ccmm_cgroup_root *root, struct ccmm_task *current,
		       uint64_t totalpages)
{
	switch (oom_kill(root->top, current, totalpages)) {
	case OOM_OTHER:
		oom_wait(ctx);
		return -EAGAIN;
	default:
		return -ENOMEM;
	}
}

static uint64_t call_reclaim(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr)
{
	struct ccmm_cgroup_root *root = memcg->root;
	ccmm_memcg_reclaim_fn fn;
	void *arg;

	pthread_rwlock_rdlock(&root->tree_lock);
	fn = root->reclaim;
	arg = root->reclaim_arg;
	pthread_rwlock_unlock(&root->tree_lock);
	/* try_to_free_mem_cgroup_pages: nr_to_reclaim = max(nr_pages, SWAP_CLUSTER_MAX) */
	return fn ? fn(ctx, memcg, CCMM_MAX(nr, (uint64_t)SWAP_CLUSTER_MAX), arg) : 0;
}

/* calculate_overage: (usage - high) / high in 2^-20 units. */
static uint64_t calculate_overage(uint64_t usage, uint64_t high)
{
	if (usage <= high)
		return 0;
	high = CCMM_MAX(high, 1);
	return ((usage - high) << MEMCG_DELAY_PRECISION_SHIFT) / high;
}

/* mem_find_max_overage: the largest overage from @memcg up to (not including) the root. */
static uint64_t mem_find_max_overage(struct ccmm_cgroup *memcg)
{
	uint64_t max_overage = 0;

	for (; memcg && memcg->parent; memcg = memcg->parent)
		max_overage = CCMM_MAX(max_overage, calculate_overage(atomic_load(&memcg->mem.usage),
								      atomic_load(&memcg->mem.high)));
	return max_overage;
}

/* calculate_high_delay: jiffies, growing with the square of the overage. */
static uint64_t calculate_high_delay(uint64_t nr_pages, uint64_t max_overage, uint64_t hz)
{
	uint64_t penalty;

	if (!max_overage)
		return 0;
	/* overage < 2^20 * (max / high): the product stays far from 2^64 for any sane limit */
	if (max_overage > (1ull << 26))
		max_overage = 1ull << 26;
	penalty = max_overage * max_overage * hz;
	penalty >>= MEMCG_DELAY_PRECISION_SHIFT;
	penalty >>= MEMCG_DELAY_SCALING_SHIFT;
	return penalty * nr_pages / MEMCG_CHARGE_BATCH;
}

/* reclaim_high: a "high" event and reclaim at every level from @memcg up that is over its high. */
static uint64_t reclaim_high(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr_pages)
{
	uint64_t nr_reclaimed = 0;

	for (; memcg && memcg->parent; memcg = memcg->parent) {
		if (atomic_load(&memcg->mem.usage) <= atomic_load(&memcg->mem.high))
			continue;
		ccmm_memcg_event(memcg, CCMM_MEMCG_HIGH);
		nr_reclaimed += call_reclaim(ctx, memcg, nr_pages);
	}
	return nr_reclaimed;
}

/*
 * mem_cgroup_handle_over_high for @current, whose pages are charged to
 * @memcg: reclaim, and throttle while reclaim does not keep up.
 */
static void handle_over_high(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, struct ccmm_task *current)
{
	uint64_t nr_pages = atomic_exchange(&current->nr_pages_over_high, 0), jiffy_ns, hz, penalty;
	int nr_retries = MAX_RECLAIM_RETRIES;
	bool in_retry = false;

	if (!nr_pages || !ctx)
		return;
	jiffy_ns = ctx->m->cost[CCMM_COST_AT(cgroup, jiffy_ns)];
	hz = jiffy_ns ? 1000000000ull / jiffy_ns : 250;
	for (;;) {
		uint64_t nr_reclaimed;

		/* memory.high is not strict: a dying task does not reclaim on */
		if (task_is_dying(current))
			return;
		nr_reclaimed = reclaim_high(ctx, memcg, in_retry ? SWAP_CLUSTER_MAX : nr_pages);
		penalty = calculate_high_delay(nr_pages, mem_find_max_overage(memcg), hz);
		penalty = CCMM_MIN(penalty, MEMCG_MAX_HIGH_DELAY_JIFFIES(hz));
		if (penalty <= hz / 100)
			return;
		/* reclaim makes progress but usage is still over high: reclaim rather than throttle */
		if (nr_reclaimed || nr_retries--) {
			in_retry = true;
			continue;
		}
		break;
	}
	/* reclaim did not push usage under high: slow this allocating task down */
	ccmm_charge(ctx, CCMM_COST_AT(cgroup, jiffy_ns), penalty);
	ccmm_count(ctx, CCMM_CTR_AT(cgroup, memcg_high_throttles), 1);
}

int ccmm_mem_cgroup_charge(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr_pages,
			   struct ccmm_task *current)
{
	int nr_retries = MAX_RECLAIM_RETRIES;
	struct ccmm_cgroup *over = NULL;
	bool drained = false, passed_oom = false;

	if (!nr_pages)
		return 0;
	for (;;) {
		uint64_t got;

		if (counter_try_charge(memcg, nr_pages, &over))
			break;
		ccmm_memcg_event(over, CCMM_MEMCG_MAX);
		got = call_reclaim(ctx, over, nr_pages);
		if (ccmm_memcg_margin(over) >= nr_pages)
			continue;
		if (!drained) { /* drain_all_stock: the model has no per-CPU stocks, but the kernel retries here */
			drained = true;
			continue;
		}
		if (got && nr_pages <= PAGE_ALLOC_COSTLY_PAGES)
			continue;
		if (nr_retries--)
			continue;
		/* avoid an endless loop for a task the OOM killer bypassed */
		if (passed_oom && task_is_dying(current))
			return -ENOMEM;
		switch (mem_cgroup_out_of_memory(over, current, nr_pages)) {
		case OOM_MARGIN:
			continue;
		case OOM_KILLED_CURRENT:
			passed_oom = true;
			nr_retries = MAX_RECLAIM_RETRIES;
			continue;
		case OOM_OTHER:
			/* the kernel retries until the victim's memory is gone: the caller waits for its exit */
			oom_wait(ctx);
			return -EAGAIN;
		case OOM_NONE:
		default:
			return -ENOMEM;
		}
	}
	/* over memory.high somewhere: reclaim and throttle on the way back to user space */
	if (current) {
		for (struct ccmm_cgroup *c = memcg; c && c->parent; c = c->parent) {
			if (atomic_load(&c->mem.usage) > atomic_load(&c->mem.high)) {
				if (atomic_fetch_add(&current->nr_pages_over_high, nr_pages) + nr_pages >= MEMCG_CHARGE_BATCH)
					handle_over_high(ctx, memcg, current);
				break;
			}
		}
	}
	return 0;
}

int ccmm_memcg_try_charge(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr_pages,
			  struct ccmm_task *current)
{
	int ret = ccmm_mem_cgroup_charge(ctx, memcg, nr_pages, current);

	return ret == -EAGAIN ? -ENOMEM : ret;
}

void ccmm_memcg_uncharge(struct ccmm_cgroup *memcg, uint64_t nr_pages)
{
	for (; memcg && nr_pages; memcg = memcg->parent)
		counter_cancel(memcg, nr_pages);
}

/* ---- files ----------------------------------------------------------------------- */

/* memparse + page_counter_memparse: "max", or a number with an optional K/M/G/T/P/E suffix. */
static int memparse_pages(const char *s, uint64_t *pages)
{
	bool overflow;
	uint64_t v;

	if (!strcmp(s, "max")) {
		*pages = (uint64_t)CCMM_PAGE_COUNTER_MAX;
		return 0;
	}
	v = _ccmm_memparse(s, &s, &overflow);
	if (*s)
		return -EINVAL;
	if (overflow)
		v = UINT64_MAX;
	*pages = CCMM_MIN(v / CCMM_PAGE_SIZE, (uint64_t)CCMM_PAGE_COUNTER_MAX);
	return 0;
}

int _ccmm_memory_max_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	uint64_t max;
	int reclaims = MAX_RECLAIM_RETRIES;
	bool drained = false;

	if (memparse_pages(text, &max))
		return _ccmm_cg_why(why, why_len, -EINVAL, "'%s' is neither 'max' nor a size (bytes, with an optional K/M/G/T suffix)",
			      text);
	if (!cg)
		return 0;
	atomic_store(&cg->mem.max, max);
	/* memory_max_write: reclaim down to the new limit, then OOM (bounded: a model never spins) */
	for (int iter = 0; iter < 4096; iter++) {
		uint64_t usage = atomic_load(&cg->mem.usage);

		if (usage <= max)
			break;
		if (!drained) {
			drained = true;
			continue;
		}
		if (reclaims) {
			if (!call_reclaim(ctx, cg, usage - max))
				reclaims--;
			continue;
		}
		/* victims free their memory when they exit, not here: one kill per write */
		mem_cgroup_out_of_memory(cg, NULL, 1);
		break;
	}
	return 0;
}

/* memory_high_write: the new high, then reclaim down to it (never an OOM kill). */
int _ccmm_memory_high_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	uint64_t high;
	int nr_retries = MAX_RECLAIM_RETRIES;
	bool drained = false;

	if (memparse_pages(text, &high))
		return _ccmm_cg_why(why, why_len, -EINVAL, "'%s' is neither 'max' nor a size (bytes, with an optional K/M/G/T suffix)",
			      text);
	if (!cg)
		return 0;
	atomic_store(&cg->mem.high, high);
	for (;;) {
		uint64_t usage = atomic_load(&cg->mem.usage);

		if (usage <= high)
			break;
		if (!drained) {
			drained = true;
			continue;
		}
		if (!call_reclaim(ctx, cg, usage - high) && !nr_retries--)
			break;
	}
	return 0;
}

static void show_limit(struct cg_buf *b, uint64_t pages)
{
	if (pages == (uint64_t)CCMM_PAGE_COUNTER_MAX)
		_ccmm_cgb_printf(b, "max\n");
	else
		_ccmm_cgb_printf(b, "%" PRIu64 "\n", pages * (uint64_t)CCMM_PAGE_SIZE);
}

void _ccmm_memory_max_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	show_limit(b, atomic_load(&cg->mem.max));
}

void _ccmm_memory_high_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	show_limit(b, atomic_load(&cg->mem.high));
}

void _ccmm_memory_current_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	_ccmm_cgb_printf(b, "%" PRIu64 "\n", atomic_load(&cg->mem.usage) * (uint64_t)CCMM_PAGE_SIZE);
}

void _ccmm_memory_peak_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	_ccmm_cgb_printf(b, "%" PRIu64 "\n", atomic_load(&cg->mem.watermark) * (uint64_t)CCMM_PAGE_SIZE);
}

/*
 * memory.stat: memcg_stat_format() ("%s %llu\n" per item) for the keys the
 * model has, in its order: the page states in bytes (memory_stats[], with
 * "slab" after slab_unreclaimable -- the model has no slab), the node
 * events, then "pgscan" and "pgsteal" (the sums of their reclaimers) and
 * the vm events of memcg_vm_event_stat[]. Hierarchical, as rstat makes it.
 * Tree lock held.
 */
void _ccmm_memory_stat_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	int64_t v[CCMM_MEMCG_NR_STATS] = { 0 };
	struct ccmm_cgroup *pos = NULL;

	while ((pos = ccmm_cgroup_next_descendant_pre(pos, cg)))
		for (int i = 0; i < CCMM_MEMCG_NR_STATS; i++)
			v[i] += atomic_load(&pos->mem.stat[i]);
	for (int i = 0; i < CCMM_MEMCG_NR_STATS; i++) {
		uint64_t x = v[i] > 0 ? (uint64_t)v[i] : 0;

		if (i == CCMM_MEMCG_STAT_PGSCAN_KSWAPD) {
			/* the accumulated events begin with the two sums */
			_ccmm_cgb_printf(b, "pgscan %" PRIu64 "\n",
					 (uint64_t)(v[CCMM_MEMCG_STAT_PGSCAN_KSWAPD] + v[CCMM_MEMCG_STAT_PGSCAN_DIRECT] +
						    v[CCMM_MEMCG_STAT_PGSCAN_KHUGEPAGED]));
			_ccmm_cgb_printf(b, "pgsteal %" PRIu64 "\n",
					 (uint64_t)(v[CCMM_MEMCG_STAT_PGSTEAL_KSWAPD] + v[CCMM_MEMCG_STAT_PGSTEAL_DIRECT] +
						    v[CCMM_MEMCG_STAT_PGSTEAL_KHUGEPAGED]));
		}
		_ccmm_cgb_printf(b, "%s %" PRIu64 "\n", stat_names[i], stat_bytes[i] ? x * (uint64_t)CCMM_PAGE_SIZE : x);
	}
}

/* __memory_events_show: "%s %lu\n" per event, mainline's keys in its order. */
static void events(struct ccmm_cgroup *cg, struct cg_buf *b, bool local)
{
	for (int e = 0; e < CCMM_MEMCG_NR_EVENTS; e++)
		_ccmm_cgb_printf(b, "%s %" PRIu64 "\n", event_names[e],
			   atomic_load(local ? &cg->mem.events_local[e] : &cg->mem.events[e]));
}

void _ccmm_memory_events_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	events(cg, b, false);
}

void _ccmm_memory_events_local_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	events(cg, b, true);
}
