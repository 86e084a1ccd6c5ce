// SPDX-License-Identifier: MIT
/*
 * The memory controller, as much of mm/memcontrol.c as charging backing
 * storage needs: page counters, try-charge with reclaim through a hook,
 * events, the memcg OOM killer's choice, and the memory.* files.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>

#include "cgroup/internal.h"

#define MAX_RECLAIM_RETRIES 16

static const char *const event_names[CCMM_MEMCG_NR_EVENTS] = { "low", "high", "max", "oom", "oom_kill", "oom_group_kill" };

const char *ccmm_memcg_event_name(enum ccmm_memcg_event e)
{
	return (unsigned)e < CCMM_MEMCG_NR_EVENTS ? event_names[e] : "?";
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

void ccmm_memcg_event(struct ccmm_cgroup *memcg, enum ccmm_memcg_event ev)
{
	atomic_fetch_add(&memcg->mem.events_local[ev], 1);
	/* memcg_memory_event: up the tree, but not into the root */
	for (; memcg && memcg->parent; memcg = memcg->parent)
		atomic_fetch_add(&memcg->mem.events[ev], 1);
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

bool _ccmm_memcg_oom_kill(struct ccmm_cgroup *memcg, struct ccmm_task *current)
{
	struct ccmm_cgroup_root *root = memcg->root;
	struct ccmm_cgroup *victim_cg = NULL;
	struct ccmm_task *victim;

	pthread_rwlock_rdlock(&root->tree_lock);
	victim = _ccmm_cgroup_pick_task_locked(memcg, current);
	if (victim) {
		ccmm_task_signal(victim, SIGKILL);
		victim_cg = ccmm_mem_cgroup_css(victim->cgrp);
		ccmm_cgroup_get(victim_cg);
	}
	pthread_rwlock_unlock(&root->tree_lock);
	if (!victim_cg)
		return false;
	ccmm_memcg_event(victim_cg, CCMM_MEMCG_OOM_KILL);
	ccmm_cgroup_put(victim_cg);
	return true;
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
	return fn ? fn(ctx, memcg, nr, arg) : 0;
}

int ccmm_memcg_try_charge(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr_pages,
			  struct ccmm_task *current)
{
	int retries = MAX_RECLAIM_RETRIES;
	struct ccmm_cgroup *over = NULL;

	if (!nr_pages)
		return 0;
	for (;;) {
		uint64_t got;

		if (counter_try_charge(memcg, nr_pages, &over))
			return 0;
		ccmm_memcg_event(over, CCMM_MEMCG_MAX);
		got = call_reclaim(ctx, over, nr_pages);
		if (ccmm_memcg_margin(over) >= nr_pages)
			continue;
		if (got && nr_pages <= 8) /* PAGE_ALLOC_COSTLY_ORDER: progress retries for free */
			continue;
		if (retries-- > 0)
			continue;
		break;
	}
	ccmm_memcg_event(over, CCMM_MEMCG_OOM);
	_ccmm_memcg_oom_kill(over, current);
	return -ENOMEM;
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
	unsigned base = 10, shift = 0;
	uint64_t v = 0;
	bool overflow = false;

	if (!strcmp(s, "max")) {
		*pages = (uint64_t)CCMM_PAGE_COUNTER_MAX;
		return 0;
	}
	/* simple_strtoull(s, &end, 0): stops at the first character that is not a digit */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (;; s++) {
		unsigned d;

		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			break;
		if (d >= base)
			break;
		if (v > (UINT64_MAX - d) / base)
			overflow = true;
		v = v * base + d;
	}
	switch (*s) {
	case 'E': case 'e': shift += 10; /* fall through */
	case 'P': case 'p': shift += 10; /* fall through */
	case 'T': case 't': shift += 10; /* fall through */
	case 'G': case 'g': shift += 10; /* fall through */
	case 'M': case 'm': shift += 10; /* fall through */
	case 'K': case 'k': shift += 10; s++; break;
	default: break;
	}
	if (*s)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		overflow = true;
	v = overflow ? UINT64_MAX : v << shift;
	*pages = CCMM_MIN(v / CCMM_PAGE_SIZE, (uint64_t)CCMM_PAGE_COUNTER_MAX);
	return 0;
}

int _ccmm_memory_max_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	uint64_t max;
	int reclaims = MAX_RECLAIM_RETRIES;

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
		if (reclaims) {
			if (!call_reclaim(ctx, cg, usage - max))
				reclaims--;
			continue;
		}
		ccmm_memcg_event(cg, CCMM_MEMCG_OOM);
		/* victims free their memory when they exit, not here: one kill per write */
		_ccmm_memcg_oom_kill(cg, NULL);
		break;
	}
	return 0;
}

void _ccmm_memory_max_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	uint64_t max = atomic_load(&cg->mem.max);

	if (max == (uint64_t)CCMM_PAGE_COUNTER_MAX)
		_ccmm_cgb_printf(b, "max\n");
	else
		_ccmm_cgb_printf(b, "%" PRIu64 "\n", max * (uint64_t)CCMM_PAGE_SIZE);
}

void _ccmm_memory_current_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	_ccmm_cgb_printf(b, "%" PRIu64 "\n", atomic_load(&cg->mem.usage) * (uint64_t)CCMM_PAGE_SIZE);
}

void _ccmm_memory_peak_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	_ccmm_cgb_printf(b, "%" PRIu64 "\n", atomic_load(&cg->mem.watermark) * (uint64_t)CCMM_PAGE_SIZE);
}

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
