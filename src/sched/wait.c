// SPDX-License-Identifier: MIT
/*
 * current, wait queues, scheduling points and lockstat: the one way
 * mechanism code blocks. Sleepers that belong to a scheduler sleep
 * through its hooks; plain threads sleep on a condition variable.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sched/sched.h"

/* The kernel's current: per thread, set by whoever runs entities on it. */
static _Thread_local struct ccmm_sched_entity *current_se;
/* A plain thread owns its locks as itself: the address of this byte. */
static _Thread_local char thread_token;

struct ccmm_sched_entity *ccmm_current(void)
{
	return current_se;
}

void ccmm_set_current(struct ccmm_sched_entity *se)
{
	current_se = se;
}

const void *ccmm_current_owner(void)
{
	return current_se ? (const void *)current_se : (const void *)&thread_token;
}

struct ccmm_ctx *ccmm_sched_clock(struct ccmm_ctx *ctx)
{
	if (ctx)
		return ctx;
	return current_se ? current_se->ctx : NULL;
}

int64_t ccmm_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- entities and lockstat ------------------------------------------------------ */

void ccmm_sched_entity_init(struct ccmm_sched_entity *se, const char *name, int id, struct ccmm_ctx *ctx)
{
	memset(se, 0, sizeof(*se));
	se->name = name;
	se->id = id;
	se->ctx = ctx;
	atomic_init(&se->killed, false);
}

void ccmm_sched_entity_fini(struct ccmm_sched_entity *se)
{
	free(se->stats);
	se->stats = NULL;
	se->nr_stats = se->cap_stats = 0;
}

struct ccmm_lock_stat *ccmm_lock_stat_of(struct ccmm_sched_entity *se, const char *name, bool is_wait)
{
	struct ccmm_lock_stat *st;

	for (size_t i = 0; i < se->nr_stats; i++)
		if (se->stats[i].is_wait == is_wait &&
		    (se->stats[i].name == name || !strcmp(se->stats[i].name, name)))
			return &se->stats[i];
	if (se->nr_stats == se->cap_stats) {
		size_t cap = se->cap_stats ? se->cap_stats * 2 : 8;
		struct ccmm_lock_stat *n = realloc(se->stats, cap * sizeof(*n));

		if (!n)
			return NULL;
		se->stats = n;
		se->cap_stats = cap;
	}
	st = &se->stats[se->nr_stats++];
	memset(st, 0, sizeof(*st));
	st->name = name;
	st->is_wait = is_wait;
	return st;
}

static void held_remove(struct ccmm_sched_entity *se, struct ccmm_lock_dep *dep)
{
	for (struct ccmm_lock_dep **pp = &se->held; *pp; pp = &(*pp)->held_next) {
		if (*pp == dep) {
			*pp = dep->held_next;
			break;
		}
	}
	dep->held_next = NULL;
}

void ccmm_lock_acquired(struct ccmm_ctx *ctx, struct ccmm_lock_dep *dep, uint64_t t_request, bool slept)
{
	struct ccmm_sched_entity *se = current_se;
	struct ccmm_ctx *clk = ccmm_sched_clock(ctx);
	uint64_t wait = 0;

	if (clk) {
		if (slept) {
			/* woken by the release that let it go: nobody gets it earlier */
			if (clk->now_ns < dep->released_ns)
				clk->now_ns = dep->released_ns;
		} else {
			/* free now; in modeled time it may have been held when we came: wait for the end of that hold */
			bool moved = true;

			for (unsigned pass = 0; moved && pass < CCMM_LOCK_HOLDS; pass++) {
				moved = false;
				for (unsigned i = 0; i < CCMM_LOCK_HOLDS; i++)
					if (dep->holds[i].from <= clk->now_ns && clk->now_ns < dep->holds[i].to) {
						clk->now_ns = dep->holds[i].to;
						moved = true;
					}
			}
		}
		wait = clk->now_ns > t_request ? clk->now_ns - t_request : 0;
		dep->acquired_ns = clk->now_ns;
	}
	atomic_store_explicit(&dep->holder, se, memory_order_relaxed);
	if (!se)
		return;
	dep->held_next = se->held;
	se->held = dep;
	if (dep->name) {
		struct ccmm_lock_stat *st = ccmm_lock_stat_of(se, dep->name, false);

		if (st) {
			st->acquisitions++;
			if (slept || wait) {
				st->contentions++;
				st->wait_total_ns += wait;
				if (wait > st->wait_max_ns)
					st->wait_max_ns = wait;
			}
		}
	}
}

void ccmm_lock_released(struct ccmm_ctx *ctx, struct ccmm_lock_dep *dep)
{
	struct ccmm_sched_entity *se = atomic_load_explicit(&dep->holder, memory_order_relaxed);
	struct ccmm_ctx *clk = ccmm_sched_clock(ctx);
	uint64_t now = clk ? clk->now_ns : dep->acquired_ns;

	if (now > dep->released_ns)
		dep->released_ns = now;
	if (now > dep->acquired_ns) {
		dep->holds[dep->next_hold].from = dep->acquired_ns;
		dep->holds[dep->next_hold].to = now;
		dep->next_hold = (dep->next_hold + 1) % CCMM_LOCK_HOLDS;
	}
	if (se) {
		held_remove(se, dep);
		/* the holder's own figures (a release by somebody else is a misuse the lock reports) */
		if (se == current_se && dep->name) {
			struct ccmm_lock_stat *st = ccmm_lock_stat_of(se, dep->name, false);
			uint64_t hold = now > dep->acquired_ns ? now - dep->acquired_ns : 0;

			if (st) {
				st->hold_total_ns += hold;
				if (hold > st->hold_max_ns)
					st->hold_max_ns = hold;
			}
		}
	}
	atomic_store_explicit(&dep->holder, NULL, memory_order_relaxed);
}

const char *ccmm_lock_holder_name(const struct ccmm_lock_dep *dep)
{
	struct ccmm_sched_entity *se = atomic_load_explicit(&dep->holder, memory_order_relaxed);

	return se ? se->name : "another thread";
}

/* ---- scheduling points -------------------------------------------------------------- */

static const char *const point_names[CCMM_SP_NR] = { "step", "lock", "fault", "io" };

const char *ccmm_sched_point_name(enum ccmm_sched_point p)
{
	return (unsigned)p < CCMM_SP_NR ? point_names[p] : "?";
}

void ccmm_sched_point(enum ccmm_sched_point what, const char *name)
{
	struct ccmm_sched_entity *se = current_se;

	if (se && se->sched && se->sched->ops->point)
		se->sched->ops->point(se->sched, se, what, name);
}

void ccmm_cond_resched(void)
{
	ccmm_sched_point(CCMM_SP_STEP, NULL);
}

/* ---- wait queues ---------------------------------------------------------------------- */

void ccmm_init_waitqueue_head(struct ccmm_wait_queue_head *wq, const char *name)
{
	pthread_mutex_init(&wq->lock, NULL);
	wq->first = wq->last = NULL;
	wq->name = name;
}

void ccmm_destroy_waitqueue_head(struct ccmm_wait_queue_head *wq)
{
	pthread_mutex_destroy(&wq->lock);
}

void ccmm_wq_lock(struct ccmm_wait_queue_head *wq)
{
	pthread_mutex_lock(&wq->lock);
}

void ccmm_wq_unlock(struct ccmm_wait_queue_head *wq)
{
	pthread_mutex_unlock(&wq->lock);
}

bool ccmm_waitqueue_active(const struct ccmm_wait_queue_head *wq)
{
	return wq->first != NULL;
}

static void enqueue(struct ccmm_wait_queue_head *wq, struct ccmm_wait_queue_entry *w)
{
	w->wq = wq;
	w->next = NULL;
	w->prev = wq->last;
	if (wq->last)
		wq->last->next = w;
	else
		wq->first = w;
	wq->last = w;
}

bool ccmm_wait_dequeue(struct ccmm_wait_queue_entry *w)
{
	struct ccmm_wait_queue_head *wq = w->wq;

	if (!wq)
		return false;
	if (w->prev)
		w->prev->next = w->next;
	else
		wq->first = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		wq->last = w->prev;
	w->next = w->prev = NULL;
	w->wq = NULL;
	return true;
}

static void cond_setup(struct ccmm_wait_queue_entry *w)
{
	pthread_condattr_t attr;

	if (w->cond_init)
		return;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&w->cond, &attr);
	pthread_condattr_destroy(&attr);
	w->cond_init = true;
}

int ccmm_wait_sleep_thread(struct ccmm_wait_queue_head *wq, struct ccmm_wait_queue_entry *w, int64_t deadline,
			   int64_t poll_ns, bool (*poll)(void *arg), void *arg)
{
	cond_setup(w);
	while (!w->woken) {
		int64_t now = ccmm_mono_ns(), until = deadline;
		struct timespec ts;

		if (deadline && now >= deadline) {
			ccmm_wait_dequeue(w);
			return -ETIMEDOUT;
		}
		if (poll_ns && poll && poll(arg)) {
			ccmm_wait_dequeue(w);
			return -EDEADLK;
		}
		if (poll_ns && (!until || until > now + poll_ns))
			until = now + poll_ns;
		if (!until) {
			pthread_cond_wait(&w->cond, &wq->lock);
			continue;
		}
		ts.tv_sec = (time_t)(until / 1000000000);
		ts.tv_nsec = (long)(until % 1000000000);
		pthread_cond_timedwait(&w->cond, &wq->lock, &ts);
	}
	return 0;
}

/* A plain thread's sleep: wall-time timeouts. */
static int plain_sleep(struct ccmm_wait_queue_head *wq, struct ccmm_wait_queue_entry *w, int64_t *timeout_ns)
{
	int64_t start = ccmm_mono_ns(), deadline = 0;
	int ret;

	if (timeout_ns)
		deadline = *timeout_ns > INT64_MAX - start ? INT64_MAX : start + *timeout_ns;
	ret = ccmm_wait_sleep_thread(wq, w, deadline, 0, NULL, NULL);
	if (timeout_ns) {
		int64_t left = deadline - ccmm_mono_ns();

		*timeout_ns = ret ? 0 : left > 0 ? left : 0;
	}
	return ret;
}

int ccmm_wait_locked(struct ccmm_ctx *ctx, struct ccmm_wait_queue_head *wq, int64_t *timeout_ns, unsigned flags)
{
	struct ccmm_sched_entity *se = current_se;
	struct ccmm_ctx *clk = ccmm_sched_clock(ctx);
	struct ccmm_wait_queue_entry w;
	uint64_t t0 = clk ? clk->now_ns : 0;
	int ret;

	if (timeout_ns && *timeout_ns <= 0)
		return -ETIMEDOUT;
	memset(&w, 0, sizeof(w));
	w.se = se;
	w.sched = se ? se->sched : NULL;
	w.killable = flags & CCMM_WAIT_KILLABLE;
	if (se && wq->name && !se->blocked_on[0])
		snprintf(se->blocked_on, sizeof(se->blocked_on), "%s", wq->name);
	enqueue(wq, &w);
	if (w.sched)
		ret = w.sched->ops->sleep(w.sched, se, wq, &w, clk, timeout_ns);
	else
		ret = plain_sleep(wq, &w, timeout_ns);
	ccmm_wait_dequeue(&w); /* a waker dequeued it already unless it timed out or was killed */
	if (w.cond_init)
		pthread_cond_destroy(&w.cond);
	if (se)
		se->blocked_on[0] = '\0';
	if (w.woken && clk && clk->now_ns < w.wake_ns)
		clk->now_ns = w.wake_ns; /* it cannot go on before it was woken */
	if (se && wq->name) {
		struct ccmm_lock_stat *st = ccmm_lock_stat_of(se, wq->name, true);
		uint64_t waited = clk && clk->now_ns > t0 ? clk->now_ns - t0 : 0;

		if (st) {
			st->acquisitions++;
			st->contentions++;
			st->wait_total_ns += waited;
			if (waited > st->wait_max_ns)
				st->wait_max_ns = waited;
		}
	}
	return ret;
}

unsigned ccmm_wake_up_locked(struct ccmm_ctx *ctx, struct ccmm_wait_queue_head *wq, unsigned nr)
{
	struct ccmm_ctx *clk = ccmm_sched_clock(ctx);
	uint64_t now = clk ? clk->now_ns : 0;
	unsigned n = 0;

	while (wq->first && (!nr || n < nr)) {
		struct ccmm_wait_queue_entry *w = wq->first;

		ccmm_wait_dequeue(w);
		w->woken = true;
		if (now > w->wake_ns)
			w->wake_ns = now;
		if (w->sched)
			w->sched->ops->wakeup(w->sched, w);
		else if (w->cond_init)
			pthread_cond_signal(&w->cond);
		n++;
	}
	return n;
}

unsigned ccmm_wake_up_all(struct ccmm_ctx *ctx, struct ccmm_wait_queue_head *wq)
{
	unsigned n;

	pthread_mutex_lock(&wq->lock);
	n = ccmm_wake_up_locked(ctx, wq, 0);
	pthread_mutex_unlock(&wq->lock);
	return n;
}
