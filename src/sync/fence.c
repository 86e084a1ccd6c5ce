// SPDX-License-Identifier: MIT
/*
 * dma_fence: signal once, callbacks run by the signaller under the fence
 * lock, status and error, waits with a timeout, reference counting with
 * use-after-put and release-with-pending-callbacks detection.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sync/internal.h"

#define FENCE_MAGIC 0x66656e63u /* "fenc" */
#define STUB_REFS (1 << 30)

static atomic_uint_fast64_t next_context = 1;

uint64_t ccmm_dma_fence_context_alloc(unsigned num)
{
	/* num 0: the kernel WARNs and hands out a context it does not take */
	return atomic_fetch_add(&next_context, num);
}

static const char *ccmm_name(struct ccmm_dma_fence *f)
{
	(void)f;
	return "ccmm";
}

static const struct ccmm_dma_fence_ops default_ops = {
	.use_64bit_seqno = true,
	.get_driver_name = ccmm_name,
	.get_timeline_name = ccmm_name,
};

void ccmm_dma_fence_init(struct ccmm_dma_fence *f, const struct ccmm_dma_fence_ops *ops, uint64_t context,
			 uint64_t seqno)
{
	memset(f, 0, sizeof(*f));
	f->ops = ops ? ops : &default_ops;
	pthread_mutex_init(&f->lock, NULL);
	ccmm_init_waitqueue_head(&f->wq, "dma_fence");
	f->context = context;
	f->seqno = seqno;
	atomic_init(&f->flags, 0);
	atomic_init(&f->refcount, 1);
	f->cb_list.next = f->cb_list.prev = &f->cb_list;
	f->magic = FENCE_MAGIC;
}

int ccmm_dma_fence_create(struct ccmm_machine *m, const struct ccmm_dma_fence_ops *ops, uint64_t context,
			  uint64_t seqno, struct ccmm_dma_fence **out)
{
	struct ccmm_dma_fence *f = malloc(sizeof(*f));

	if (!f)
		return -ENOMEM;
	ccmm_dma_fence_init(f, ops, context, seqno);
	f->m = m;
	f->created = true;
	*out = f;
	return 0;
}

static const char *drv(struct ccmm_dma_fence *f)
{
	return f->ops && f->ops->get_driver_name ? f->ops->get_driver_name(f) : "?";
}

static const char *tl(struct ccmm_dma_fence *f)
{
	return f->ops && f->ops->get_timeline_name ? f->ops->get_timeline_name(f) : "?";
}

/* A fence whose last reference is gone (or never initialised): report and refuse. */
static bool dead(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, const char *what)
{
	if (f->magic == FENCE_MAGIC && !(atomic_load(&f->flags) & CCMM_FENCE_DEAD))
		return false;
	sync_violation(ctx, &ccmm_rule_fence_use_after_put,
		       "%s on fence %s:%s context %" PRIu64 " seq %" PRIu64 " after its last reference was dropped", what,
		       f->magic == FENCE_MAGIC ? drv(f) : "?", f->magic == FENCE_MAGIC ? tl(f) : "?", f->context,
		       f->seqno);
	return true;
}

static bool list_empty(const struct ccmm_dma_fence_cb *head)
{
	return head->next == head;
}

/* Signal with the fence lock held: run the callbacks in order, wake waiters (at the signaller's time). */
static void signal_locked(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	struct ccmm_dma_fence_cb *cb = f->cb_list.next;

	f->timestamp_ns = ctx ? ctx->now_ns : 0;
	atomic_fetch_or(&f->flags, CCMM_FENCE_SIGNALED | CCMM_FENCE_TIMESTAMP);
	f->cb_list.next = f->cb_list.prev = &f->cb_list;
	while (cb != &f->cb_list) {
		struct ccmm_dma_fence_cb *next = cb->next;

		cb->next = cb->prev = NULL;
		cb->queued = false;
		cb->func(f, cb);
		cb = next;
	}
	/* the waiters check the flag under the queue's lock: taking it here loses no wake-up */
	ccmm_wake_up_all(ctx, &f->wq);
}

struct ccmm_dma_fence *ccmm_dma_fence_get(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	if (!f)
		return NULL;
	if (dead(ctx, f, "dma_fence_get"))
		return NULL;
	atomic_fetch_add(&f->refcount, 1);
	return f;
}

static void release(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	pthread_mutex_lock(&f->lock);
	if (!(atomic_load(&f->flags) & CCMM_FENCE_SIGNALED) && !list_empty(&f->cb_list)) {
		sync_violation(ctx, &ccmm_rule_fence_release_pending,
			       "fence %s:%s context %" PRIu64 " seq %" PRIu64
			       " released unsignalled with callbacks pending (a refcounting bug); signalled with -EDEADLK",
			       drv(f), tl(f), f->context, f->seqno);
		f->error = -EDEADLK;
		signal_locked(ctx, f);
	}
	atomic_fetch_or(&f->flags, CCMM_FENCE_DEAD);
	pthread_mutex_unlock(&f->lock);
	if (f->created) {
		if (f->m) {
			_ccmm_sync_quarantine(f->m, f);
		} else {
			pthread_mutex_destroy(&f->lock);
			ccmm_destroy_waitqueue_head(&f->wq);
			free(f);
		}
	} else if (f->ops && f->ops->release) {
		pthread_mutex_destroy(&f->lock);
		ccmm_destroy_waitqueue_head(&f->wq);
		f->ops->release(f);
	}
}

void ccmm_dma_fence_put(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	if (!f)
		return;
	if (dead(ctx, f, "dma_fence_put"))
		return;
	if (atomic_fetch_sub(&f->refcount, 1) == 1)
		release(ctx, f);
}

/* dma_fence_signal. */
static int fence_signal(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	if (!f || dead(ctx, f, "dma_fence_signal"))
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	if (atomic_load(&f->flags) & CCMM_FENCE_SIGNALED) {
		pthread_mutex_unlock(&f->lock);
		return -EINVAL;
	}
	signal_locked(ctx, f);
	pthread_mutex_unlock(&f->lock);
	return 0;
}

int ccmm_dma_fence_signal(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	return fence_signal(ctx, f);
}

bool ccmm_dma_fence_is_signaled(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	if (dead(ctx, f, "dma_fence_is_signaled"))
		return false;
	if (atomic_load(&f->flags) & CCMM_FENCE_SIGNALED)
		return true;
	if (f->ops && f->ops->signaled && f->ops->signaled(f)) {
		fence_signal(ctx, f);
		return true;
	}
	return false;
}

/*
 * __dma_fence_enable_signaling, fence lock held: true if the fence is
 * still to signal (a callback may be queued), false if it has signalled.
 */
static bool enable_signaling_locked(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	bool was_set = atomic_fetch_or(&f->flags, CCMM_FENCE_ENABLE_SIGNAL) & CCMM_FENCE_ENABLE_SIGNAL;

	if (atomic_load(&f->flags) & CCMM_FENCE_SIGNALED)
		return false;
	if (!was_set && f->ops && f->ops->enable_signaling && !f->ops->enable_signaling(f)) {
		signal_locked(ctx, f);
		return false;
	}
	return true;
}

void ccmm_dma_fence_enable_sw_signaling(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	if (dead(ctx, f, "dma_fence_enable_sw_signaling"))
		return;
	pthread_mutex_lock(&f->lock);
	enable_signaling_locked(ctx, f);
	pthread_mutex_unlock(&f->lock);
}

int ccmm_dma_fence_add_callback(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, struct ccmm_dma_fence_cb *cb,
				ccmm_dma_fence_func_t func)
{
	if (!f || !cb || !func || dead(ctx, f, "dma_fence_add_callback"))
		return -EINVAL;
	/* the kernel tests the flag only, not ops->signaled */
	if (atomic_load(&f->flags) & CCMM_FENCE_SIGNALED) {
		cb->queued = false;
		return -ENOENT;
	}
	pthread_mutex_lock(&f->lock);
	if (!enable_signaling_locked(ctx, f)) {
		pthread_mutex_unlock(&f->lock);
		cb->queued = false;
		return -ENOENT;
	}
	cb->func = func;
	cb->next = &f->cb_list;
	cb->prev = f->cb_list.prev;
	f->cb_list.prev->next = cb;
	f->cb_list.prev = cb;
	cb->queued = true;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

bool ccmm_dma_fence_remove_callback(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, struct ccmm_dma_fence_cb *cb)
{
	bool was = false;

	if (!cb || dead(ctx, f, "dma_fence_remove_callback"))
		return false;
	pthread_mutex_lock(&f->lock);
	if (cb->queued) {
		cb->prev->next = cb->next;
		cb->next->prev = cb->prev;
		cb->next = cb->prev = NULL;
		cb->queued = false;
		was = true;
	}
	pthread_mutex_unlock(&f->lock);
	return was;
}

int ccmm_dma_fence_get_status(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	int st = 0;

	if (dead(ctx, f, "dma_fence_get_status"))
		return -EINVAL;
	if (!ccmm_dma_fence_is_signaled(ctx, f))
		return 0;
	pthread_mutex_lock(&f->lock);
	st = f->error ? f->error : 1;
	pthread_mutex_unlock(&f->lock);
	return st;
}

int ccmm_dma_fence_set_error(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, int error)
{
	if (dead(ctx, f, "dma_fence_set_error"))
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	/* two WARN_ONs in the kernel, which stores the error all the same */
	if (atomic_load(&f->flags) & CCMM_FENCE_SIGNALED)
		sync_violation(ctx, &ccmm_rule_fence_bad_error,
			       "dma_fence_set_error(%d) on fence %s:%s seq %" PRIu64 " after it signalled", error, drv(f),
			       tl(f), f->seqno);
	if (error >= 0 || error < -4095)
		sync_violation(ctx, &ccmm_rule_fence_bad_error,
			       "dma_fence_set_error(%d) on fence %s:%s seq %" PRIu64 ": not a negative errno", error, drv(f),
			       tl(f), f->seqno);
	f->error = error;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

/* The waiter cannot go on before the signal: its modeled clock moves up to the signaller's. Fence lock held. */
static void catch_up_locked(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f)
{
	ctx = ccmm_sched_clock(ctx);
	if (ctx && (atomic_load(&f->flags) & CCMM_FENCE_SIGNALED) && ctx->now_ns < f->timestamp_ns)
		ctx->now_ns = f->timestamp_ns;
}

#define POLL_NS 1000000 /* a fence that signals by polling its hardware is polled every millisecond */

/*
 * dma_fence_default_wait: sleep on the fence's wait queue (sched/: wall
 * time on plain threads, modeled time under the engine), polling
 * ops->signaled (ccmm's stand-in for a hardware interrupt). The signalled
 * flag is set under the fence lock and the waiters woken under the queue's
 * lock after it, so checking the flag under the queue's lock loses nothing.
 */
static int64_t default_wait(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, int64_t timeout_ns)
{
	bool forever = timeout_ns == CCMM_MAX_SCHEDULE_TIMEOUT, polls = f->ops && f->ops->signaled, ok;
	int64_t left = timeout_ns;

	if (ccmm_dma_fence_is_signaled(ctx, f)) {
		/* already done: the whole timeout is left, as dma_fence_default_wait says */
		pthread_mutex_lock(&f->lock);
		catch_up_locked(ctx, f);
		pthread_mutex_unlock(&f->lock);
		return timeout_ns ? timeout_ns : 1;
	}
	if (timeout_ns == 0)
		return 0;
	for (;;) {
		int64_t slice = left, before;
		int ret;

		ccmm_wq_lock(&f->wq);
		ok = atomic_load(&f->flags) & CCMM_FENCE_SIGNALED;
		if (ok || (!forever && left <= 0)) {
			ccmm_wq_unlock(&f->wq);
			break;
		}
		if (polls && (forever || slice > POLL_NS))
			slice = POLL_NS;
		before = slice;
		ret = ccmm_wait_locked(ctx, &f->wq, forever && !polls ? NULL : &slice, 0);
		ccmm_wq_unlock(&f->wq);
		if (!forever)
			left -= before - slice;
		if (polls && !(atomic_load(&f->flags) & CCMM_FENCE_SIGNALED) && f->ops->signaled(f))
			fence_signal(ctx, f);
		if (ret && ret != -ETIMEDOUT)
			break;
	}
	pthread_mutex_lock(&f->lock);
	catch_up_locked(ctx, f);
	pthread_mutex_unlock(&f->lock);
	if (!ok)
		return 0;
	if (forever)
		return timeout_ns;
	return left > 0 ? left : 1;
}

int64_t ccmm_dma_fence_wait_timeout(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, int64_t timeout_ns)
{
	int64_t ret;

	if (!f || dead(ctx, f, "dma_fence_wait"))
		return -EINVAL;
	if (timeout_ns < 0)
		return -EINVAL; /* WARN_ON(timeout < 0) */
	if (ctx) {
		ccmm_count(ctx, CCMM_CTR_AT(sync, fence_waits), 1);
		if (!(atomic_load(&f->flags) & CCMM_FENCE_SIGNALED))
			ccmm_count(ctx, CCMM_CTR_AT(sync, fence_waits_blocked), 1);
	}
	ccmm_dma_fence_enable_sw_signaling(ctx, f);
	if (!f->ops || !f->ops->wait)
		return default_wait(ctx, f, timeout_ns);
	ret = f->ops->wait(ctx, f, timeout_ns);
	pthread_mutex_lock(&f->lock);
	catch_up_locked(ctx, f);
	pthread_mutex_unlock(&f->lock);
	return ret;
}

static struct ccmm_dma_fence stub;
static pthread_once_t stub_once = PTHREAD_ONCE_INIT;

static const char *stub_name(struct ccmm_dma_fence *f)
{
	(void)f;
	return "stub";
}

static const struct ccmm_dma_fence_ops stub_ops = {
	.get_driver_name = stub_name,
	.get_timeline_name = stub_name,
};

static void stub_init(void)
{
	ccmm_dma_fence_init(&stub, &stub_ops, 0, 0);
	atomic_store(&stub.refcount, STUB_REFS);
	atomic_fetch_or(&stub.flags, CCMM_FENCE_SIGNALED | CCMM_FENCE_TIMESTAMP | CCMM_FENCE_ENABLE_SIGNAL);
}

struct ccmm_dma_fence *ccmm_dma_fence_get_stub(void)
{
	pthread_once(&stub_once, stub_init);
	atomic_fetch_add(&stub.refcount, 1);
	return &stub;
}

bool ccmm_dma_fence_is_later(const struct ccmm_dma_fence *a, const struct ccmm_dma_fence *b)
{
	if (a->context != b->context)
		return false; /* WARN_ON: seqnos of different contexts do not compare */
	if (a->ops && a->ops->use_64bit_seqno)
		return a->seqno > b->seqno;
	/* __dma_fence_is_later: the low 32 bits, with wrap-around */
	return (int32_t)((uint32_t)a->seqno - (uint32_t)b->seqno) > 0;
}

void ccmm_dma_fence_describe(struct ccmm_dma_fence *f, FILE *out)
{
	bool sig = ccmm_dma_fence_is_signaled(NULL, f);

	fprintf(out, "%s %s seq %" PRIu64 " %ssignalled\n", drv(f), tl(f), f->seqno, sig ? "" : "un");
}
