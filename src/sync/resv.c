// SPDX-License-Identifier: MIT
/*
 * dma_resv: the reservation lock (a wound-wait ww_mutex) and the fences
 * of one buffer, each with a usage. Writers hold the lock; unlocked
 * readers take a snapshot under the list mutex (the kernel uses RCU).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

struct ccmm_ww_class ccmm_reservation_ww_class = CCMM_WW_CLASS_INIT("reservation_ww_class", false);

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

bool ccmm_dma_resv_assert_held(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, const char *what)
{
	if (ccmm_ww_mutex_held(&obj->lock))
		return true;
	sync_violation(ctx, &ccmm_rule_resv_not_locked, "%s without the reservation lock held (%s)", what,
		       ccmm_ww_mutex_is_locked(&obj->lock) ? "another thread holds it" : "nobody holds it");
	return false;
}

int ccmm_dma_resv_reserve_fences(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, unsigned num)
{
	int ret = 0;

	if (!ccmm_dma_resv_assert_held(ctx, obj, "dma_resv_reserve_fences"))
		return -EINVAL;
	pthread_mutex_lock(&obj->list_lock);
	if (obj->max_fences - obj->num_fences < num) {
		/* the capacity is the allocation; max_fences is what is reserved */
		if (ccmm_grow((void **)&obj->fences, &obj->cap_fences, (size_t)obj->num_fences + num, sizeof(*obj->fences)))
			ret = -ENOMEM;
		else
			obj->max_fences = obj->num_fences + num;
	}
	pthread_mutex_unlock(&obj->list_lock);
	return ret;
}

static bool replaceable(struct ccmm_ctx *ctx, const struct ccmm_dma_resv_entry *old, struct ccmm_dma_fence *fence,
			enum ccmm_dma_resv_usage usage)
{
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

int ccmm_dma_resv_get_fences(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage,
			     unsigned *num, struct ccmm_dma_fence ***fences)
{
	struct ccmm_dma_fence **arr = NULL;
	unsigned n = 0;

	*num = 0;
	*fences = NULL;
	pthread_mutex_lock(&obj->list_lock);
	for (unsigned i = 0; i < obj->num_fences; i++)
		n += obj->fences[i].usage <= usage;
	if (n) {
		arr = calloc(n, sizeof(*arr));
		if (!arr) {
			pthread_mutex_unlock(&obj->list_lock);
			return -ENOMEM;
		}
		n = 0;
		for (unsigned i = 0; i < obj->num_fences; i++)
			if (obj->fences[i].usage <= usage)
				arr[n++] = ccmm_dma_fence_get(ctx, obj->fences[i].fence);
	}
	pthread_mutex_unlock(&obj->list_lock);
	*num = n;
	*fences = arr;
	return 0;
}

static void put_all(struct ccmm_ctx *ctx, struct ccmm_dma_fence **arr, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ccmm_dma_fence_put(ctx, arr[i]);
	free(arr);
}

bool ccmm_dma_resv_test_signaled(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage)
{
	struct ccmm_dma_fence **arr;
	unsigned n;
	bool all = true;

	if (ccmm_dma_resv_get_fences(ctx, obj, usage, &n, &arr))
		return false;
	for (unsigned i = 0; i < n && all; i++)
		all = ccmm_dma_fence_is_signaled(ctx, arr[i]);
	put_all(ctx, arr, n);
	return all;
}

int64_t ccmm_dma_resv_wait_timeout(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage,
				   int64_t timeout_ns)
{
	struct ccmm_dma_fence **arr;
	int64_t left = timeout_ns < 0 ? 0 : timeout_ns;
	unsigned n;

	if (ccmm_dma_resv_get_fences(ctx, obj, usage, &n, &arr))
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		int64_t r = ccmm_dma_fence_wait_timeout(ctx, arr[i], left);

		if (r <= 0) {
			put_all(ctx, arr, n);
			return r;
		}
		if (left)
			left = r;
	}
	put_all(ctx, arr, n);
	return left ? left : 1;
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
	pthread_mutex_lock(&obj->list_lock);
	/* as the kernel: fences up to READ; bookkeeping ones are not shown */
	for (unsigned i = 0; i < obj->num_fences; i++) {
		if (obj->fences[i].usage > CCMM_RESV_USAGE_READ)
			continue;
		fprintf(out, "\t%s fence: ", ccmm_dma_resv_usage_name(obj->fences[i].usage));
		ccmm_dma_fence_describe(obj->fences[i].fence, out);
	}
	pthread_mutex_unlock(&obj->list_lock);
}
