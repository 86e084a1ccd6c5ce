// SPDX-License-Identifier: MIT
/*
 * dma_resv: the reservation lock (a wait-die ww_mutex, as the kernel's
 * reservation_ww_class) and the fences of one buffer, each with a usage.
 * Writers hold the lock; unlocked readers walk the list under the list
 * mutex, one entry at a time, and restart when a reserve reallocated it
 * (the kernel uses RCU and compares the list pointer).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

/* DEFINE_WD_CLASS(reservation_ww_class) */
struct ccmm_ww_class ccmm_reservation_ww_class = CCMM_WW_CLASS_INIT("reservation_ww_class", true);

const char *ccmm_dma_resv_usage_name(enum ccmm_dma_resv_usage u)
{
	static const char *const n[] = { "kernel", "write", "read", "bookkeep" };

	return (unsigned)u < CCMM_ARRAY_SIZE(n) ? n[u] : "?";
}

enum ccmm_dma_resv_usage ccmm_dma_resv_usage_rw(bool write)
{
	/* a writer waits for readers and writers, a reader only for writers */
	return write ? CCMM_RESV_USAGE_READ : CCMM_RESV_USAGE_WRITE;
}

void ccmm_dma_resv_init(struct ccmm_dma_resv *obj)
{
	memset(obj, 0, sizeof(*obj));
	ccmm_ww_mutex_init(&obj->lock, &ccmm_reservation_ww_class);
	pthread_mutex_init(&obj->list_lock, NULL);
}

void ccmm_dma_resv_fini(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj)
{
	for (unsigned i = 0; i < obj->num_fences; i++)
		ccmm_dma_fence_put(ctx, obj->fences[i].fence);
	free(obj->fences);
	obj->fences = NULL;
	obj->num_fences = obj->max_fences = 0;
	obj->cap_fences = 0;
	pthread_mutex_destroy(&obj->list_lock);
	ccmm_ww_mutex_destroy(ctx, &obj->lock);
}

int ccmm_dma_resv_lock(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, struct ccmm_ww_acquire_ctx *acq)
{
	return ccmm_ww_mutex_lock(ctx, &obj->lock, acq);
}

int ccmm_dma_resv_lock_slow(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, struct ccmm_ww_acquire_ctx *acq)
{
	return ccmm_ww_mutex_lock_slow(ctx, &obj->lock, acq);
}

bool ccmm_dma_resv_trylock(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj)
{
	return ccmm_ww_mutex_trylock(ctx, &obj->lock, NULL) == 1;
}

int ccmm_dma_resv_unlock(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj)
{
	if (ccmm_ww_mutex_held(&obj->lock)) {
		pthread_mutex_lock(&obj->list_lock);
		obj->max_fences = obj->num_fences;
		pthread_mutex_unlock(&obj->list_lock);
	}
	return ccmm_ww_mutex_unlock(ctx, &obj->lock);
}

bool ccmm_dma_resv_held(struct ccmm_dma_resv *obj)
{
	return ccmm_ww_mutex_held(&obj->lock);
}

struct ccmm_ww_acquire_ctx *ccmm_dma_resv_locking_ctx(struct ccmm_dma_resv *obj)
{
	return atomic_load(&obj->lock.ctx);
}

bool ccmm_dma_resv_assert_held(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, const char *what)
{
	if (ccmm_ww_mutex_held(&obj->lock))
		return true;
	sync_violation(ctx, &ccmm_rule_resv_not_locked, "%s without the reservation lock held (%s)", what,
		       ccmm_ww_mutex_is_locked(&obj->lock) ? "another thread holds it" : "nobody holds it");
	return false;
}

/*
 * The slots a fence list made for @max really has: dma_resv_list_alloc
 * asks kmalloc for a 24-byte header (rcu_head, num_fences, max_fences)
 * plus 8 bytes a slot, and makes the whole bucket usable. The buckets are
 * x86-64 SLUB's: powers of two from 8 to 8 KiB with 96 and 192 between,
 * whole pages (a power-of-two order) above, up to KMALLOC_MAX_SIZE (4 MiB:
 * MAX_PAGE_ORDER 10); 0 beyond, where kmalloc fails.
 */
static unsigned list_capacity(unsigned max)
{
	static const size_t buckets[] = { 8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192 };
	size_t size = 24 + 8 * (size_t)max, got = 0;

	for (size_t i = 0; i < CCMM_ARRAY_SIZE(buckets) && !got; i++)
		if (size <= buckets[i])
			got = buckets[i];
	if (size > ((size_t)CCMM_PAGE_SIZE << 10))
		return 0;
	if (!got)
		for (got = CCMM_PAGE_SIZE; got < size; got <<= 1)
			;
	return (unsigned)((got - 24) / 8);
}

static unsigned roundup_pow_of_two(unsigned n)
{
	unsigned p = 1;

	while (p < n && p < (1u << 31))
		p <<= 1;
	return p;
}

int ccmm_dma_resv_reserve_fences(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, unsigned num)
{
	struct ccmm_dma_resv_entry *old = obj->fences, *nl;
	struct ccmm_dma_fence **drop = NULL;
	unsigned max, cap, j = 0, k = 0;

	if (!ccmm_dma_resv_assert_held(ctx, obj, "dma_resv_reserve_fences"))
		return -EINVAL;
	if (!num) {
		sync_violation(ctx, &ccmm_rule_resv_reserve_zero,
			       "dma_resv_reserve_fences(0): the number of fences to add was miscounted");
		return -EINVAL;
	}
	if (num > (1u << 28))
		return -ENOMEM; /* far more than a kmalloc can hold (and max below cannot overflow) */
	/* only the lock holder changes the list: it is read here without the list mutex */
	if (old && obj->max_fences) {
		if ((uint64_t)obj->num_fences + num <= obj->max_fences)
			return 0;
		max = CCMM_MAX(obj->num_fences + num, obj->max_fences * 2);
	} else {
		max = CCMM_MAX(4u, roundup_pow_of_two(num));
	}
	cap = list_capacity(max);
	if (!cap)
		return -ENOMEM;
	nl = calloc(cap, sizeof(*nl));
	if (obj->num_fences)
		drop = calloc(obj->num_fences, sizeof(*drop));
	if (!nl || (obj->num_fences && !drop)) {
		free(nl);
		free(drop);
		return -ENOMEM;
	}
	/* the unsignalled fences carry over in order; the signalled ones are dropped */
	for (unsigned i = 0; i < obj->num_fences; i++) {
		if (ccmm_dma_fence_is_signaled(ctx, old[i].fence))
			drop[k++] = old[i].fence;
		else
			nl[j++] = old[i];
	}
	pthread_mutex_lock(&obj->list_lock);
	obj->fences = nl;
	obj->num_fences = j;
	obj->max_fences = cap;
	obj->cap_fences = cap;
	obj->gen++;
	obj->seq++;
	pthread_mutex_unlock(&obj->list_lock);
	while (k--)
		ccmm_dma_fence_put(ctx, drop[k]);
	free(drop);
	free(old);
	return 0;
}

static bool replaceable(struct ccmm_ctx *ctx, const struct ccmm_dma_resv_entry *old, struct ccmm_dma_fence *fence,
			enum ccmm_dma_resv_usage usage)
{
	/* dma_fence_is_later_or_same */
	if (old->fence->context == fence->context && old->usage >= usage &&
	    (old->fence == fence || ccmm_dma_fence_is_later(fence, old->fence)))
		return true;
	return ccmm_dma_fence_is_signaled(ctx, old->fence);
}

int ccmm_dma_resv_add_fence(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, struct ccmm_dma_fence *fence,
			    enum ccmm_dma_resv_usage usage)
{
	struct ccmm_dma_fence *old = NULL;
	int ret = 0;

	if ((unsigned)usage >= CCMM_RESV_USAGE_NR || !fence)
		return -EINVAL;
	if (!ccmm_dma_resv_assert_held(ctx, obj, "dma_resv_add_fence"))
		return -EINVAL;
	if (!ccmm_dma_fence_get(ctx, fence))
		return -EINVAL; /* dead: recorded by the get */
	pthread_mutex_lock(&obj->list_lock);
	for (unsigned i = 0; i < obj->num_fences; i++) {
		if (replaceable(ctx, &obj->fences[i], fence, usage)) {
			old = obj->fences[i].fence;
			obj->fences[i].fence = fence;
			obj->fences[i].usage = usage;
			obj->seq++;
			goto out;
		}
	}
	if (obj->num_fences >= obj->max_fences) {
		ret = -ENOSPC;
		old = fence;
		goto out;
	}
	obj->fences[obj->num_fences].fence = fence;
	obj->fences[obj->num_fences].usage = usage;
	obj->num_fences++;
	obj->seq++;
out:
	pthread_mutex_unlock(&obj->list_lock);
	if (ret == -ENOSPC)
		sync_violation(ctx, &ccmm_rule_resv_no_slot,
			       "dma_resv_add_fence (%s) with no slot reserved: %u fences, %u reserved "
			       "(dma_resv_reserve_fences must come first, in the same locked section)",
			       ccmm_dma_resv_usage_name(usage), obj->num_fences, obj->max_fences);
	ccmm_dma_fence_put(ctx, old);
	return ret;
}

int ccmm_dma_resv_replace_fences(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, uint64_t context,
				 struct ccmm_dma_fence *replacement, enum ccmm_dma_resv_usage usage)
{
	struct ccmm_dma_fence **olds;
	unsigned n = 0;

	if (!ccmm_dma_resv_assert_held(ctx, obj, "dma_resv_replace_fences"))
		return -EINVAL;
	pthread_mutex_lock(&obj->list_lock);
	olds = calloc(obj->num_fences ? obj->num_fences : 1, sizeof(*olds));
	if (!olds) {
		pthread_mutex_unlock(&obj->list_lock);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < obj->num_fences; i++) {
		if (obj->fences[i].fence->context != context)
			continue;
		if (!ccmm_dma_fence_get(ctx, replacement)) {
			pthread_mutex_unlock(&obj->list_lock);
			free(olds);
			return -EINVAL;
		}
		olds[n++] = obj->fences[i].fence;
		obj->fences[i].fence = replacement;
		obj->fences[i].usage = usage;
		obj->seq++;
	}
	pthread_mutex_unlock(&obj->list_lock);
	while (n--)
		ccmm_dma_fence_put(ctx, olds[n]);
	free(olds);
	return 0;
}

void ccmm_dma_resv_iter_begin(struct ccmm_dma_resv_iter *cursor, struct ccmm_dma_resv *obj,
			      enum ccmm_dma_resv_usage usage)
{
	memset(cursor, 0, sizeof(*cursor));
	cursor->obj = obj;
	cursor->usage = usage;
}

void ccmm_dma_resv_iter_end(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor)
{
	ccmm_dma_fence_put(ctx, cursor->fence);
	cursor->fence = NULL;
}

static uint64_t list_gen(struct ccmm_dma_resv *obj)
{
	uint64_t g;

	pthread_mutex_lock(&obj->list_lock);
	g = obj->gen;
	pthread_mutex_unlock(&obj->list_lock);
	return g;
}

/* dma_resv_iter_restart_unlocked: from the first entry of the list as it is now. */
static void iter_restart_unlocked(struct ccmm_dma_resv_iter *cursor)
{
	pthread_mutex_lock(&cursor->obj->list_lock);
	cursor->index = 0;
	cursor->fences_gen = cursor->obj->gen;
	cursor->num_fences = cursor->obj->num_fences;
	pthread_mutex_unlock(&cursor->obj->list_lock);
	cursor->is_restarted = true;
}

/*
 * dma_resv_iter_walk_unlocked: on to the next unsignalled fence of the
 * walk's usage, holding a reference to it. The entries are read under the
 * list mutex; a list replaced meanwhile ends the walk (the caller sees the
 * new generation and restarts), since its memory is gone.
 */
static void iter_walk_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor)
{
	struct ccmm_dma_resv *obj = cursor->obj;

	for (;;) {
		struct ccmm_dma_fence *f = NULL;

		ccmm_dma_fence_put(ctx, cursor->fence);
		cursor->fence = NULL;
		pthread_mutex_lock(&obj->list_lock);
		if (obj->gen == cursor->fences_gen && cursor->index < cursor->num_fences &&
		    cursor->index < obj->num_fences) {
			const struct ccmm_dma_resv_entry *e = &obj->fences[cursor->index++];

			/* the list's own reference keeps it alive: this get cannot fail */
			f = ccmm_dma_fence_get(ctx, e->fence);
			cursor->fence_usage = e->usage;
		}
		pthread_mutex_unlock(&obj->list_lock);
		if (!f)
			return;
		cursor->fence = f;
		if (cursor->usage >= cursor->fence_usage && !ccmm_dma_fence_is_signaled(ctx, f))
			return;
	}
}

struct ccmm_dma_fence *ccmm_dma_resv_iter_first_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor)
{
	do {
		iter_restart_unlocked(cursor);
		iter_walk_unlocked(ctx, cursor);
	} while (list_gen(cursor->obj) != cursor->fences_gen);
	return cursor->fence;
}

struct ccmm_dma_fence *ccmm_dma_resv_iter_next_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor)
{
	bool restart;

	cursor->is_restarted = false;
	restart = list_gen(cursor->obj) != cursor->fences_gen;
	do {
		if (restart)
			iter_restart_unlocked(cursor);
		iter_walk_unlocked(ctx, cursor);
		restart = true;
	} while (list_gen(cursor->obj) != cursor->fences_gen);
	return cursor->fence;
}

struct ccmm_dma_fence *ccmm_dma_resv_iter_next(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor)
{
	struct ccmm_dma_resv *obj = cursor->obj;

	if (!ccmm_dma_resv_assert_held(ctx, obj, "dma_resv_iter_next"))
		return NULL;
	cursor->is_restarted = false;
	/* the lock holder is the only writer: the list is read as it is */
	while (cursor->index < obj->num_fences) {
		const struct ccmm_dma_resv_entry *e = &obj->fences[cursor->index++];

		cursor->fence_usage = e->usage;
		if (e->usage <= cursor->usage)
			return e->fence;
	}
	return NULL;
}

struct ccmm_dma_fence *ccmm_dma_resv_iter_first(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor)
{
	struct ccmm_dma_fence *f;

	if (!ccmm_dma_resv_assert_held(ctx, cursor->obj, "dma_resv_iter_first"))
		return NULL;
	cursor->index = 0;
	cursor->fences_gen = cursor->obj->gen;
	f = ccmm_dma_resv_iter_next(ctx, cursor);
	cursor->is_restarted = true;
	return f;
}

int ccmm_dma_resv_get_fences(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage,
			     unsigned *num, struct ccmm_dma_fence ***fences)
{
	struct ccmm_dma_resv_iter cursor;
	struct ccmm_dma_fence *f;

	*num = 0;
	*fences = NULL;
	ccmm_dma_resv_iter_begin(&cursor, obj, usage);
	ccmm_dma_resv_for_each_fence_unlocked(ctx, &cursor, f) {
		if (ccmm_dma_resv_iter_is_restarted(&cursor)) {
			/* a (re)started walk: start over with room for the whole list */
			struct ccmm_dma_fence **arr;

			while (*num)
				ccmm_dma_fence_put(ctx, (*fences)[--*num]);
			arr = realloc(*fences, ((size_t)cursor.num_fences + 1) * sizeof(*arr));
			if (!arr) {
				free(*fences);
				*fences = NULL;
				ccmm_dma_resv_iter_end(ctx, &cursor);
				return -ENOMEM;
			}
			*fences = arr;
		}
		(*fences)[(*num)++] = ccmm_dma_fence_get(ctx, f);
	}
	ccmm_dma_resv_iter_end(ctx, &cursor);
	if (!*num) {
		free(*fences);
		*fences = NULL;
	}
	return 0;
}

bool ccmm_dma_resv_test_signaled(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage)
{
	struct ccmm_dma_resv_iter cursor;
	struct ccmm_dma_fence *f;

	ccmm_dma_resv_iter_begin(&cursor, obj, usage);
	ccmm_dma_resv_for_each_fence_unlocked(ctx, &cursor, f) {
		ccmm_dma_resv_iter_end(ctx, &cursor);
		return false;
	}
	ccmm_dma_resv_iter_end(ctx, &cursor);
	return true;
}

int64_t ccmm_dma_resv_wait_timeout(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage,
				   int64_t timeout_ns)
{
	int64_t timeout = timeout_ns < 0 ? 0 : timeout_ns, ret = timeout ? timeout : 1;
	struct ccmm_dma_resv_iter cursor;
	struct ccmm_dma_fence *f;

	ccmm_dma_resv_iter_begin(&cursor, obj, usage);
	ccmm_dma_resv_for_each_fence_unlocked(ctx, &cursor, f) {
		ret = ccmm_dma_fence_wait_timeout(ctx, f, timeout);
		if (ret <= 0)
			break;
		/* even for a zero timeout the result is 1 */
		if (timeout)
			timeout = ret;
	}
	ccmm_dma_resv_iter_end(ctx, &cursor);
	return ret;
}

int ccmm_dma_resv_fence_at(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage,
			   unsigned i, struct ccmm_dma_fence **fence, enum ccmm_dma_resv_usage *fence_usage)
{
	int ret = -ENOENT;

	if (!ccmm_dma_resv_assert_held(ctx, obj, "dma_resv_for_each_fence"))
		return -EINVAL;
	pthread_mutex_lock(&obj->list_lock);
	for (unsigned k = 0; k < obj->num_fences; k++) {
		if (obj->fences[k].usage > usage)
			continue;
		if (i--)
			continue;
		*fence = obj->fences[k].fence;
		if (fence_usage)
			*fence_usage = obj->fences[k].usage;
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&obj->list_lock);
	return ret;
}

void ccmm_dma_resv_describe(struct ccmm_dma_resv *obj, FILE *out)
{
	struct ccmm_dma_resv_entry *snap = NULL;
	unsigned n = 0;

	/* a snapshot first: describing a fence polls it, which may signal it and run callbacks */
	pthread_mutex_lock(&obj->list_lock);
	if (obj->num_fences)
		snap = calloc(obj->num_fences, sizeof(*snap));
	for (unsigned i = 0; snap && i < obj->num_fences; i++) {
		/* as the kernel: fences up to READ; bookkeeping ones are not shown */
		if (obj->fences[i].usage > CCMM_RESV_USAGE_READ)
			continue;
		snap[n].fence = ccmm_dma_fence_get(NULL, obj->fences[i].fence);
		snap[n++].usage = obj->fences[i].usage;
	}
	pthread_mutex_unlock(&obj->list_lock);
	for (unsigned i = 0; i < n; i++) {
		/* dma_resv_describe prints no space after the colon: dma_fence_describe's text follows at once */
		fprintf(out, "\t%s fence:", ccmm_dma_resv_usage_name(snap[i].usage));
		ccmm_dma_fence_describe(snap[i].fence, out);
		ccmm_dma_fence_put(NULL, snap[i].fence);
	}
	free(snap);
}
