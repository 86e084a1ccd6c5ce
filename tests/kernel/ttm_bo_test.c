// SPDX-License-Identifier: MIT
/*
 * drivers/gpu/drm/ttm/tests/ttm_bo_test.c of Linux 6.12, ported:
 * ttm_bo_reserve (optimistic, locked, a ticket with no_wait, twice with a
 * ticket, a deadlock under wait-die), ttm_bo_unreserve and the LRU or
 * pinned list, ttm_bo_put (plain and with a shared reservation), pinning.
 * ccmm keeps a BO (not each resource) on an LRU, and has no bulk moves:
 * the LRU cases check the BO's place on its list; where the kernel case
 * looks at a bulk-move position, the port checks the LRU itself (said at
 * each case).
 */
#include "ttm_kunit.h"

#include <pthread.h>

#define BO_SIZE 8192ULL

static void ttm_bo_reserve_optimistic_no_ticket(void **state)
{
	bool no_wait = (uintptr_t)*state & 1;
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	/* interruptible is accepted and ignored: nothing interrupts a model */
	assert_int_equal(ccmm_ttm_bo_reserve(&kt.ctx, bo, no_wait, NULL), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_bo_reserve_locked_no_sleep(void **state)
{
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	/* lock it beforehand */
	assert_int_equal(ccmm_dma_resv_lock(&kt.ctx, bo->resv, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_reserve(&kt.ctx, bo, true, NULL), -EBUSY);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_bo_reserve_no_wait_ticket(void **state)
{
	struct ccmm_ww_acquire_ctx acq;
	struct ccmm_ttm_bo *bo;

	(void)state;
	ccmm_ww_acquire_init(&acq, &ccmm_reservation_ww_class);
	bo = ttm_bo_kunit_init(BO_SIZE, NULL);
	assert_int_equal(ccmm_ttm_bo_reserve(&kt.ctx, bo, true, &acq), -EBUSY);
	assert_int_equal(ccmm_ww_acquire_fini(&kt.ctx, &acq), 0);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_bo_reserve_double_resv(void **state)
{
	struct ccmm_ww_acquire_ctx acq;
	struct ccmm_ttm_bo *bo;
	int err;

	(void)state;
	ccmm_ww_acquire_init(&acq, &ccmm_reservation_ww_class);
	bo = ttm_bo_kunit_init(BO_SIZE, NULL);
	assert_int_equal(ccmm_ttm_bo_reserve(&kt.ctx, bo, false, &acq), 0);
	err = ccmm_ttm_bo_reserve(&kt.ctx, bo, false, &acq);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(ccmm_ww_acquire_fini(&kt.ctx, &acq), 0);
	assert_int_equal(err, -EALREADY);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

/*
 * The kernel case makes bo2's holder an older transaction by copying ctx1
 * and decrementing its stamp, in the same task; here ctx2 is initialised
 * first and holds bo2 from another thread (ccmm refuses to sleep on a lock
 * its own thread holds). The younger ctx1 meets the older holder: under
 * wait-die it must back off at once.
 */
struct holder {
	struct ccmm_ttm_bo *bo;
	struct ccmm_ww_acquire_ctx *acq;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int stage; /* 1: it holds bo2; 2: it may let go */
};

static void *holder_thread(void *arg)
{
	struct holder *h = arg;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, kt.m, 1, "holder");
	TCHECK(ccmm_dma_resv_lock(&ctx, h->bo->resv, h->acq) == 0);
	pthread_mutex_lock(&h->lock);
	h->stage = 1;
	pthread_cond_broadcast(&h->cond);
	while (h->stage != 2)
		pthread_cond_wait(&h->cond, &h->lock);
	pthread_mutex_unlock(&h->lock);
	ccmm_dma_resv_unlock(&ctx, h->bo->resv);
	TCHECK(ccmm_ww_acquire_fini(&ctx, h->acq) == 0);
	return NULL;
}

static void ttm_bo_reserve_deadlock(void **state)
{
	struct ccmm_ww_acquire_ctx ctx1, ctx2;
	struct ccmm_ttm_bo *bo1, *bo2;
	struct holder h = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };
	pthread_t t;

	(void)state;
	bo1 = ttm_bo_kunit_init(BO_SIZE, NULL);
	bo2 = ttm_bo_kunit_init(BO_SIZE, NULL);
	ccmm_ww_acquire_init(&ctx2, &ccmm_reservation_ww_class);
	ccmm_ww_acquire_init(&ctx1, &ccmm_reservation_ww_class);
	h.bo = bo2;
	h.acq = &ctx2;
	assert_int_equal(pthread_create(&t, NULL, holder_thread, &h), 0);
	pthread_mutex_lock(&h.lock);
	while (h.stage != 1)
		pthread_cond_wait(&h.cond, &h.lock);
	pthread_mutex_unlock(&h.lock);
	assert_int_equal(ccmm_ttm_bo_reserve(&kt.ctx, bo1, false, &ctx1), 0);
	assert_int_equal(ccmm_ttm_bo_reserve(&kt.ctx, bo2, false, &ctx1), -EDEADLK);
	ccmm_dma_resv_unlock(&kt.ctx, bo1->resv);
	assert_int_equal(ccmm_ww_acquire_fini(&kt.ctx, &ctx1), 0);
	pthread_mutex_lock(&h.lock);
	h.stage = 2;
	pthread_cond_broadcast(&h.cond);
	pthread_mutex_unlock(&h.lock);
	pthread_join(t, NULL);
	TCHECK_DONE();
	ccmm_ttm_bo_put(&kt.ctx, bo1);
	ccmm_ttm_bo_put(&kt.ctx, bo2);
}

/* A SYSTEM resource for @bo (ttm_resource_alloc into bo->resource, on its LRU). */
static void give_resource(struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_place place = { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, 0 };
	struct ccmm_ttm_resource res;

	assert_int_equal(ccmm_ttm_resource_alloc(&kt.ctx, bo, &place, &res, NULL), 0);
	kt_reserve(bo);
	ccmm_ttm_bo_move_null(&kt.ctx, bo, &res);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
}

/* Kernel: res1 is last on the LRU after unreserve although res2 was added after it. Port: BO1 after BO2. */
static void ttm_bo_unreserve_basic(void **state)
{
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL), *dummy = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	give_resource(bo);
	give_resource(dummy); /* populates the LRU after it */
	assert_ptr_equal(ccmm_ttm_lru_last(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), dummy);
	assert_int_equal(ccmm_dma_resv_lock(&kt.ctx, bo->resv, NULL), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	assert_ptr_equal(ccmm_ttm_lru_last(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), bo);
	ccmm_ttm_bo_put(&kt.ctx, dummy);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

/* Kernel: a pinned BO's resource goes to the device's pinned list, last after unreserve. Port: per BO. */
static void ttm_bo_unreserve_pinned(void **state)
{
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL), *dummy = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	kt_reserve(dummy);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, dummy), 0);
	ccmm_dma_resv_unlock(&kt.ctx, dummy->resv);
	give_resource(bo);
	give_resource(dummy); /* the dummy on the pinned list after it */
	assert_ptr_equal(ccmm_ttm_pinned_last(kt.ttm_dev), dummy);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), 0);
	kt_reserve(bo);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	assert_ptr_equal(ccmm_ttm_pinned_last(kt.ttm_dev), bo);
	ccmm_ttm_bo_put(&kt.ctx, dummy);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_bo_put_basic(void **state)
{
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	give_resource(bo);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_tt_create(&kt.ctx, bo, false), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo); /* resource and tt go with it (ASan checks nothing leaks) */
	assert_int_equal(ccmm_ttm_resource_manager_usage(ccmm_ttm_manager_type(kt.ttm_dev, CCMM_TTM_PL_SYSTEM)), 0);
}

static void ttm_bo_put_shared_resv(void **state)
{
	struct ccmm_dma_resv external;
	struct ccmm_dma_fence *fence;
	struct ccmm_ttm_bo *bo;

	(void)state;
	ccmm_dma_resv_init(&external);
	assert_int_equal(ccmm_dma_fence_create(kt.m, NULL, ccmm_dma_fence_context_alloc(1), 0, &fence), 0);
	assert_int_equal(ccmm_dma_resv_lock(&kt.ctx, &external, NULL), 0);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&kt.ctx, &external, 1), 0);
	ccmm_dma_resv_add_fence(&kt.ctx, &external, fence, CCMM_RESV_USAGE_BOOKKEEP);
	ccmm_dma_resv_unlock(&kt.ctx, &external);
	ccmm_dma_fence_signal(&kt.ctx, fence);
	bo = ttm_bo_kunit_init(BO_SIZE, &external);
	ccmm_ttm_bo_put(&kt.ctx, bo); /* idle: released at once */
	assert_int_equal(ccmm_ttm_device_flush(&kt.ctx, kt.ttm_dev), 0);
	ccmm_dma_fence_put(&kt.ctx, fence);
	ccmm_dma_resv_fini(&kt.ctx, &external);
}

static void ttm_bo_pin_basic(void **state)
{
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	for (int i = 0; i < 3; i++) {
		kt_reserve(bo);
		assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo), 0);
		ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	}
	assert_int_equal(bo->pin_count, 3);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

/* Kernel: pinning takes the resource out of the bulk move, unpinning puts it last there. Port: the LRU. */
static void ttm_bo_pin_unpin_resource(void **state)
{
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL), *other = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	give_resource(bo);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	assert_int_equal(bo->pin_count, 1);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), 0);
	give_resource(other);
	assert_ptr_equal(ccmm_ttm_lru_last(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), other);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_unpin(&kt.ctx, bo), 0);
	/* ttm_bo_unpin: back at the tail of the LRU at once, before any unreserve */
	assert_ptr_equal(ccmm_ttm_lru_last(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), bo);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(bo->pin_count, 0);
	ccmm_ttm_bo_put(&kt.ctx, other);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_bo_multiple_pin_one_unpin(void **state)
{
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	give_resource(bo);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo), 0);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	assert_int_equal(bo->pin_count, 2);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), 0);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_unpin(&kt.ctx, bo), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	/* still pinned once: not back on the LRU */
	assert_int_equal(bo->pin_count, 1);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), 0);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_unpin(&kt.ctx, bo), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), 1);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		KT_PARAM(ttm_bo_reserve_optimistic_no_ticket, "Cannot be interrupted and sleeps", 0),
		KT_PARAM(ttm_bo_reserve_optimistic_no_ticket, "Cannot be interrupted, locks straight away", 1),
		KT_PARAM(ttm_bo_reserve_optimistic_no_ticket, "Can be interrupted, sleeps", 2),
		KT_CASE(ttm_bo_reserve_locked_no_sleep),
		KT_CASE(ttm_bo_reserve_no_wait_ticket),
		KT_CASE(ttm_bo_reserve_double_resv),
		KT_CASE(ttm_bo_reserve_deadlock),
		KT_CASE(ttm_bo_unreserve_basic),
		KT_CASE(ttm_bo_unreserve_pinned),
		KT_CASE(ttm_bo_put_basic),
		KT_CASE(ttm_bo_put_shared_resv),
		KT_CASE(ttm_bo_pin_basic),
		KT_CASE(ttm_bo_pin_unpin_resource),
		KT_CASE(ttm_bo_multiple_pin_one_unpin),
	};

	return cmocka_run_group_tests_name("ttm_bo", tests, NULL, NULL);
}
