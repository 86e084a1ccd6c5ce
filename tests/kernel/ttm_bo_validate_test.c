// SPDX-License-Identifier: MIT
/*
 * drivers/gpu/drm/ttm/tests/ttm_bo_validate_test.c of Linux 6.12, ported:
 * ttm_bo_init_reserved and ttm_bo_validate -- placements, the errnos
 * (-ENOMEM for nothing that fits, -EINVAL for a pinned BO), multihop,
 * no placement (pipeline gutting), move fences, swapout under the page
 * limit, and eviction (happy, all pinned, only the allowed, deleted BOs, a
 * busy eviction domain, gutting, recursion). One ccmm case per kernel case
 * and parameter, named "case(parameter description)".
 */
#include "ttm_kunit.h"

#include <pthread.h>
#include <unistd.h>

#define BO_SIZE      4096ULL
#define MANAGER_SIZE (1024 * 1024ULL)

static enum ccmm_ttm_bo_type param(void **state)
{
	return (enum ccmm_ttm_bo_type)(uintptr_t)*state;
}

/* ttm_bo_init_reserved into @placement; the BO comes back reserved. */
static struct ccmm_ttm_bo *init_reserved(enum ccmm_ttm_bo_type type, uint64_t size,
					 const struct ccmm_ttm_placement *pl, struct ccmm_ttm_operation_ctx *op)
{
	struct ccmm_ttm_bo *bo = NULL;

	assert_int_equal(ccmm_ttm_bo_init_reserved(&kt.ctx, kt.ttm_dev, size, type, pl, op, "bo", NULL, &bo), 0);
	return bo;
}

static void ttm_bo_init_reserved_sys_man(void **state)
{
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_SYSTEM, 0);
	struct ccmm_ttm_bo *bo = init_reserved(param(state), BO_SIZE, &pl, &ctx);

	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(atomic_load(&bo->refcount), 1);
	assert_ptr_equal(bo->tdev, kt.ttm_dev);
	assert_int_equal(bo->type, param(state));
	assert_int_equal(bo->pin_count, 0);
	assert_true(bo->tt.created);                                     /* bo->ttm */
	assert_false(bo->tt.page_flags & CCMM_TTM_TT_FLAG_PRIV_POPULATED); /* !ttm_tt_is_populated */
	assert_int_equal(ctx.bytes_moved, BO_SIZE);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_bo_init_reserved_mock_man(void **state)
{
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_VRAM, 0);
	struct ccmm_ttm_bo *bo;

	ttm_mock_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	bo = init_reserved(param(state), BO_SIZE, &pl, &ctx);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(atomic_load(&bo->refcount), 1);
	assert_ptr_equal(bo->tdev, kt.ttm_dev);
	assert_int_equal(bo->type, param(state));
	assert_int_equal(ctx.bytes_moved, BO_SIZE);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ttm_mock_manager_fini(CCMM_TTM_PL_VRAM);
}

static void ttm_bo_init_reserved_resv(void **state)
{
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_SYSTEM, 0);
	struct ccmm_dma_resv resv;
	struct ccmm_ttm_bo *bo;

	(void)state;
	ccmm_dma_resv_init(&resv);
	assert_int_equal(ccmm_dma_resv_lock(&kt.ctx, &resv, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_init_reserved(&kt.ctx, kt.ttm_dev, BO_SIZE, CCMM_TTM_BO_DEVICE, &pl, &ctx, "bo",
						   &resv, &bo),
			 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_ptr_equal(bo->resv, &resv);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ccmm_dma_resv_fini(&kt.ctx, &resv);
}

static void ttm_bo_validate_basic(void **state)
{
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement fst = kt_placement(CCMM_TTM_PL_SYSTEM, 0);
	struct ccmm_ttm_placement snd = kt_placement(CCMM_TTM_PL_VRAM, CCMM_TTM_PL_FLAG_TOPDOWN);
	struct ccmm_ttm_bo *bo;

	ttm_mock_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	bo = init_reserved(param(state), 8192, &fst, &ctx_init);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &snd, &ctx_val), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(ctx_val.bytes_moved, bo->size);
	assert_true(bo->tt.created);
	assert_true(bo->tt.populated);
	assert_int_equal(bo->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(bo->res.placement, CCMM_TTM_PL_FLAG_TOPDOWN);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ttm_mock_manager_fini(CCMM_TTM_PL_VRAM);
}

static void ttm_bo_validate_invalid_placement(void **state)
{
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_PRIV + 1, 0); /* no manager */
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &pl, &ctx), -ENOMEM);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_bo_validate_failed_alloc(void **state)
{
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_VRAM, 0);
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	ttm_bad_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &pl, &ctx), -ENOMEM);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ttm_bad_manager_fini(CCMM_TTM_PL_VRAM);
}

static void ttm_bo_validate_pinned(void **state)
{
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_SYSTEM, 0);
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	(void)state;
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo), 0);
	/* "Moving of pinned BOs is forbidden" */
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &pl, &ctx), -EINVAL);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_unpin(&kt.ctx, bo), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_bo_validate_same_placement(void **state)
{
	int mem_type = (int)(uintptr_t)*state;
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(mem_type, 0);
	struct ccmm_ttm_bo *bo;

	if (mem_type != CCMM_TTM_PL_SYSTEM)
		ttm_mock_manager_init(mem_type, MANAGER_SIZE);
	bo = init_reserved(CCMM_TTM_BO_DEVICE, BO_SIZE, &pl, &ctx_init);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &pl, &ctx_val), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(ctx_val.bytes_moved, 0);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	if (mem_type != CCMM_TTM_PL_SYSTEM)
		ttm_mock_manager_fini(mem_type);
}

static void ttm_bo_validate_busy_placement(void **state)
{
	int fst_mem = CCMM_TTM_PL_VRAM, snd_mem = CCMM_TTM_PL_VRAM + 1;
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement init = kt_placement(CCMM_TTM_PL_SYSTEM, 0);
	struct ccmm_ttm_placement val = { 2, { { fst_mem, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_DESIRED },
					       { snd_mem, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_FALLBACK } } };
	struct ccmm_ttm_bo *bo;

	(void)state;
	ttm_bad_manager_init(fst_mem, MANAGER_SIZE);
	ttm_mock_manager_init(snd_mem, MANAGER_SIZE);
	bo = init_reserved(CCMM_TTM_BO_DEVICE, BO_SIZE, &init, &ctx_init);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &val, &ctx_val), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(ctx_val.bytes_moved, bo->size);
	assert_int_equal(bo->res.mem_type, snd_mem);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, snd_mem), 1); /* list_is_singular(&man->lru[...]) */
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ttm_bad_manager_fini(fst_mem);
	ttm_mock_manager_fini(snd_mem);
}

static void ttm_bo_validate_multihop(void **state)
{
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement init = kt_placement(CCMM_TTM_PL_VRAM, 0);
	struct ccmm_ttm_placement final = kt_placement(CCMM_TTM_PL_SYSTEM, 0);
	struct ccmm_ttm_bo *bo;

	ttm_mock_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	ttm_mock_manager_init(CCMM_TTM_PL_TT, MANAGER_SIZE);
	bo = init_reserved(param(state), BO_SIZE, &init, &ctx_init);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &final, &ctx_val), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_int_equal(ctx_val.bytes_moved, BO_SIZE * 2); /* VRAM -> TT -> SYSTEM */
	assert_int_equal(bo->res.mem_type, CCMM_TTM_PL_SYSTEM);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ttm_mock_manager_fini(CCMM_TTM_PL_VRAM);
	ttm_mock_manager_fini(CCMM_TTM_PL_TT);
}

/* The BO gets a SYSTEM resource directly (ttm_resource_alloc into bo->resource). */
static void give_system_resource(struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_place place = { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, 0 };
	struct ccmm_ttm_resource res;

	assert_int_equal(ccmm_ttm_resource_alloc(&kt.ctx, bo, &place, &res, NULL), 0);
	ccmm_ttm_bo_move_null(&kt.ctx, bo, &res);
}

static void ttm_bo_validate_no_placement_signaled(void **state)
{
	bool with_ttm = (uintptr_t)*state;
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement none = { 0 };
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(kt.ttm_dev, CCMM_TTM_PL_SYSTEM);
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(BO_SIZE, NULL);

	kt_reserve(bo);
	if (with_ttm) {
		assert_int_equal(ccmm_ttm_tt_create(&kt.ctx, bo, false), 0);
		assert_int_equal(ccmm_ttm_tt_populate(&kt.ctx, bo), 0);
	}
	give_system_resource(bo);
	assert_int_equal(ccmm_ttm_resource_manager_usage(man), BO_SIZE);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &none, &ctx), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	assert_int_equal(ccmm_ttm_resource_manager_usage(man), 0);
	assert_true(bo->tt.created);
	assert_int_equal(ctx.bytes_moved, 0);
	if (with_ttm) {
		assert_false(bo->tt.page_flags & CCMM_TTM_TT_FLAG_PRIV_POPULATED);
		assert_true(bo->tt.page_flags & CCMM_TTM_TT_FLAG_ZERO_ALLOC); /* ttm_tt_mark_for_clear */
	}
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

/* threaded_dma_resv_signal: signal every fence of the BO's reservation. */
static void *resv_signal_thread(void *arg)
{
	struct ccmm_ttm_bo *bo = arg;
	struct ccmm_dma_resv_iter cur;
	struct ccmm_dma_fence *f;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, kt.m, 1, "dma-resv-signal");
	ccmm_dma_resv_iter_begin(&cur, bo->resv, CCMM_RESV_USAGE_BOOKKEEP);
	ccmm_dma_resv_for_each_fence_unlocked(&ctx, &cur, f)
		ccmm_dma_fence_signal(&ctx, f);
	ccmm_dma_resv_iter_end(&ctx, &cur);
	return NULL;
}

/* dma_resv_kunit_active_fence_init: an unsignalled fence in @resv; the caller drops its reference. */
static struct ccmm_dma_fence *active_fence(struct ccmm_dma_resv *resv, enum ccmm_dma_resv_usage usage)
{
	struct ccmm_dma_fence *f;

	assert_int_equal(ccmm_dma_fence_create(kt.m, NULL, ccmm_dma_fence_context_alloc(1), 0, &f), 0);
	assert_int_equal(ccmm_dma_resv_lock(&kt.ctx, resv, NULL), 0);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&kt.ctx, resv, 1), 0);
	ccmm_dma_resv_add_fence(&kt.ctx, resv, f, usage);
	ccmm_dma_resv_unlock(&kt.ctx, resv);
	return f;
}

static void ttm_bo_validate_no_placement_not_signaled(void **state)
{
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement none = { 0 };
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_fence *f;
	pthread_t task;

	assert_int_equal(ccmm_ttm_bo_alloc(kt.ttm_dev, BO_SIZE, param(state), "kunit", NULL, &bo), 0);
	kt_reserve(bo);
	give_system_resource(bo);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	/* an active fence: a non-idle reservation, signalled by another thread */
	f = active_fence(bo->resv, CCMM_RESV_USAGE_BOOKKEEP);
	assert_int_equal(pthread_create(&task, NULL, resv_signal_thread, bo), 0);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &none, &ctx), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	pthread_join(task, NULL);
	assert_true(bo->tt.created);
	assert_false(bo->has_res);
	assert_int_equal(ctx.bytes_moved, 0);
	if (bo->type != CCMM_TTM_BO_SG)
		assert_ptr_equal(bo->resv, &bo->base_resv);
	/* make sure we have an idle object at this point */
	assert_true(ccmm_dma_resv_wait_timeout(&kt.ctx, bo->resv, CCMM_RESV_USAGE_BOOKKEEP, 1000000000LL) > 0);
	ccmm_dma_fence_put(&kt.ctx, f);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ccmm_ttm_device_flush(&kt.ctx, kt.ttm_dev); /* the ghost of a busy gutting, if there was one */
}

static void ttm_bo_validate_move_fence_signaled(void **state)
{
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(kt.ttm_dev, CCMM_TTM_PL_SYSTEM);
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_SYSTEM, 0);
	struct ccmm_dma_fence *stub;
	struct ccmm_ttm_bo *bo;

	(void)state;
	assert_int_equal(ccmm_dma_fence_create(kt.m, NULL, ccmm_dma_fence_context_alloc(1), 0, &stub), 0);
	ccmm_dma_fence_signal(&kt.ctx, stub); /* dma_fence_get_stub() */
	ccmm_ttm_manager_set_move(man, stub);
	bo = ttm_bo_kunit_init(BO_SIZE, NULL);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &pl, &ctx), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	assert_int_equal(bo->res.mem_type, CCMM_TTM_PL_SYSTEM);
	assert_int_equal(ctx.bytes_moved, BO_SIZE);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ccmm_ttm_manager_set_move(man, NULL);
	ccmm_dma_fence_put(&kt.ctx, stub);
}

/* threaded_fence_signal: 20 ms later. */
static void *fence_signal_thread(void *arg)
{
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, kt.m, 1, "move-fence-signal");
	usleep(20000);
	ccmm_dma_fence_signal(&ctx, arg);
	return NULL;
}

static void ttm_bo_validate_move_fence_not_signaled(void **state)
{
	bool no_gpu_wait = (uintptr_t)*state;
	int fst_mem = CCMM_TTM_PL_VRAM, snd_mem = CCMM_TTM_PL_VRAM + 1;
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { .no_wait_gpu = no_gpu_wait };
	struct ccmm_ttm_placement init = kt_placement(CCMM_TTM_PL_SYSTEM, 0);
	struct ccmm_ttm_placement val = { 2, { { fst_mem, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_DESIRED },
					       { snd_mem, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_FALLBACK } } };
	struct ccmm_ttm_resource_manager *man;
	struct ccmm_dma_fence *move;
	struct ccmm_ttm_bo *bo;
	pthread_t task;

	bo = init_reserved(CCMM_TTM_BO_DEVICE, BO_SIZE, &init, &ctx_init);
	ttm_mock_manager_init(fst_mem, MANAGER_SIZE);
	ttm_mock_manager_init(snd_mem, MANAGER_SIZE);
	man = ccmm_ttm_manager_type(kt.ttm_dev, fst_mem);
	assert_int_equal(ccmm_dma_fence_create(kt.m, NULL, ccmm_dma_fence_context_alloc(1), 0, &move), 0);
	ccmm_ttm_manager_set_move(man, move);
	assert_int_equal(pthread_create(&task, NULL, fence_signal_thread, move), 0);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &val, &ctx_val), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	assert_true(ccmm_dma_fence_wait_timeout(&kt.ctx, move, 2000000000LL) > 0);
	pthread_join(task, NULL);
	assert_int_equal(ctx_val.bytes_moved, BO_SIZE);
	/* no_wait_gpu skips the place whose move fence is pending */
	assert_int_equal(bo->res.mem_type, no_gpu_wait ? snd_mem : fst_mem);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ttm_mock_manager_fini(fst_mem);
	ttm_mock_manager_fini(snd_mem);
	ccmm_dma_fence_put(&kt.ctx, move);
}

static void ttm_bo_validate_swapout(void **state)
{
	uint64_t size = BO_SIZE, size_big = ccmm_platform_ram(kt.m->plat, -1) / 2;
	struct ccmm_ttm_operation_ctx ctx = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_TT, 0);
	struct ccmm_ttm_bo *bo_small, *bo_big;

	(void)state;
	ttm_mock_manager_init(CCMM_TTM_PL_TT, size_big + size);
	bo_small = init_reserved(CCMM_TTM_BO_DEVICE, size, &pl, &ctx);
	ccmm_dma_resv_unlock(&kt.ctx, bo_small->resv);
	bo_big = ttm_bo_kunit_init(size_big, NULL);
	kt_reserve(bo_big);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo_big, &pl, &ctx), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo_big->resv);
	assert_true(bo_big->has_res);
	assert_int_equal(bo_big->res.mem_type, CCMM_TTM_PL_TT);
	/* over ttm_pages_limit (half the RAM): the small one was swapped out (ttm_global_swapout) */
	assert_int_equal(bo_small->res.mem_type, CCMM_TTM_PL_SYSTEM);
	assert_true(bo_small->tt.page_flags & CCMM_TTM_TT_FLAG_SWAPPED);
	ccmm_ttm_bo_put(&kt.ctx, bo_big);
	ccmm_ttm_bo_put(&kt.ctx, bo_small);
	ttm_mock_manager_fini(CCMM_TTM_PL_TT);
}

static void ttm_bo_validate_happy_evict(void **state)
{
	uint64_t small = 8192, medium = 512 * 1024, big = MANAGER_SIZE - (small + medium);
	uint64_t sizes[3] = { small, medium, big };
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_VRAM, 0);
	struct ccmm_ttm_bo *bos[3], *bo_val;

	(void)state;
	ttm_mock_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	ttm_mock_manager_init(CCMM_TTM_PL_TT, MANAGER_SIZE);
	for (int i = 0; i < 3; i++) {
		bos[i] = init_reserved(CCMM_TTM_BO_DEVICE, sizes[i], &pl, &ctx_init);
		ccmm_dma_resv_unlock(&kt.ctx, bos[i]->resv);
	}
	bo_val = ttm_bo_kunit_init(BO_SIZE, NULL);
	kt_reserve(bo_val);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo_val, &pl, &ctx_val), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo_val);
	assert_int_equal(bos[0]->res.mem_type, CCMM_TTM_PL_SYSTEM);
	assert_true(bos[0]->tt.page_flags & CCMM_TTM_TT_FLAG_ZERO_ALLOC);
	assert_true(bos[0]->tt.page_flags & CCMM_TTM_TT_FLAG_PRIV_POPULATED);
	assert_int_equal(ctx_val.bytes_moved, small * 2 + BO_SIZE); /* two hops of the victim, then the BO */
	assert_int_equal(bos[1]->res.mem_type, CCMM_TTM_PL_VRAM);
	for (int i = 0; i < 3; i++)
		ccmm_ttm_bo_put(&kt.ctx, bos[i]);
	ccmm_ttm_bo_put(&kt.ctx, bo_val);
	ttm_mock_manager_fini(CCMM_TTM_PL_VRAM);
	ttm_mock_manager_fini(CCMM_TTM_PL_TT);
}

static void ttm_bo_validate_all_pinned_evict(void **state)
{
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_VRAM, 0);
	struct ccmm_ttm_bo *bo_big, *bo_small;

	(void)state;
	ttm_mock_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	ttm_mock_manager_init(CCMM_TTM_PL_TT, MANAGER_SIZE);
	bo_big = init_reserved(CCMM_TTM_BO_DEVICE, MANAGER_SIZE, &pl, &ctx_init);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo_big), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo_big->resv);
	bo_small = ttm_bo_kunit_init(BO_SIZE, NULL);
	kt_reserve(bo_small);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo_small, &pl, &ctx_val), -ENOMEM);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo_small);
	ccmm_ttm_bo_put(&kt.ctx, bo_small);
	kt_reserve(bo_big);
	assert_int_equal(ccmm_ttm_bo_unpin(&kt.ctx, bo_big), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo_big->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo_big);
	ttm_mock_manager_fini(CCMM_TTM_PL_VRAM);
	ttm_mock_manager_fini(CCMM_TTM_PL_TT);
}

static void ttm_bo_validate_allowed_only_evict(void **state)
{
	uint64_t size = 512 * 1024;
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_VRAM, 0);
	struct ccmm_ttm_bo *bo, *bo_evictable, *bo_pinned;

	(void)state;
	ttm_mock_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	ttm_mock_manager_init(CCMM_TTM_PL_TT, MANAGER_SIZE);
	bo_pinned = init_reserved(CCMM_TTM_BO_DEVICE, size, &pl, &ctx_init);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo_pinned), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo_pinned->resv);
	bo_evictable = init_reserved(CCMM_TTM_BO_DEVICE, size, &pl, &ctx_init);
	ccmm_dma_resv_unlock(&kt.ctx, bo_evictable->resv);
	bo = ttm_bo_kunit_init(BO_SIZE, NULL);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &pl, &ctx_val), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	assert_int_equal(bo->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(bo_pinned->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(bo_evictable->res.mem_type, CCMM_TTM_PL_SYSTEM);
	assert_int_equal(ctx_val.bytes_moved, size * 2 + BO_SIZE);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ccmm_ttm_bo_put(&kt.ctx, bo_evictable);
	kt_reserve(bo_pinned);
	assert_int_equal(ccmm_ttm_bo_unpin(&kt.ctx, bo_pinned), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo_pinned->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo_pinned);
	ttm_mock_manager_fini(CCMM_TTM_PL_VRAM);
	ttm_mock_manager_fini(CCMM_TTM_PL_TT);
}

static void ttm_bo_validate_deleted_evict(void **state)
{
	uint64_t small = 8192, big = MANAGER_SIZE - BO_SIZE;
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_VRAM, 0);
	struct ccmm_ttm_resource_manager *man;
	struct ccmm_ttm_bo *bo_big, *bo_small;

	(void)state;
	ttm_mock_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	man = ccmm_ttm_manager_type(kt.ttm_dev, CCMM_TTM_PL_VRAM);
	bo_big = init_reserved(CCMM_TTM_BO_DEVICE, big, &pl, &ctx_init);
	assert_int_equal(ccmm_ttm_resource_manager_usage(man), big);
	ccmm_dma_resv_unlock(&kt.ctx, bo_big->resv);
	bo_big->deleted = true;
	bo_small = ttm_bo_kunit_init(small, NULL);
	kt_reserve(bo_small);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo_small, &pl, &ctx_val), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo_small);
	assert_int_equal(bo_small->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(ccmm_ttm_resource_manager_usage(man), small);
	/* a deleted BO is cleaned up rather than moved */
	assert_false(bo_big->tt.created);
	assert_false(bo_big->has_res);
	ccmm_ttm_bo_put(&kt.ctx, bo_small);
	ccmm_ttm_bo_put(&kt.ctx, bo_big);
	ttm_mock_manager_fini(CCMM_TTM_PL_VRAM);
}

static void ttm_bo_validate_busy_domain_evict(void **state)
{
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(CCMM_TTM_PL_VRAM, 0);
	struct ccmm_ttm_bo *bo_init, *bo_val;

	(void)state;
	/* drop the default device and set up one that evicts to a busy, thus unsuitable, domain */
	ccmm_ttm_device_fini(&kt.ctx, kt.ttm_dev);
	kt.ttm_dev = NULL;
	assert_int_equal(kt_device_init(&kt_bad_evict_funcs, false, false), 0);
	ttm_mock_manager_init(CCMM_TTM_PL_VRAM, MANAGER_SIZE);
	ttm_busy_manager_init(TTM_PL_MOCK1, MANAGER_SIZE);
	bo_init = init_reserved(CCMM_TTM_BO_DEVICE, MANAGER_SIZE, &pl, &ctx_init);
	ccmm_dma_resv_unlock(&kt.ctx, bo_init->resv);
	bo_val = ttm_bo_kunit_init(BO_SIZE, NULL);
	kt_reserve(bo_val);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo_val, &pl, &ctx_val), -ENOMEM);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo_val);
	assert_int_equal(bo_init->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_false(bo_val->has_res);
	ccmm_ttm_bo_put(&kt.ctx, bo_init);
	ccmm_ttm_bo_put(&kt.ctx, bo_val);
	ttm_mock_manager_fini(CCMM_TTM_PL_VRAM);
	ttm_bad_manager_fini(TTM_PL_MOCK1);
}

static void ttm_bo_validate_evict_gutting(void **state)
{
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement pl = kt_placement(TTM_PL_MOCK1, 0);
	struct ccmm_ttm_bo *bo, *bo_evict;

	(void)state;
	ttm_mock_manager_init(TTM_PL_MOCK1, MANAGER_SIZE);
	bo_evict = init_reserved(CCMM_TTM_BO_DEVICE, MANAGER_SIZE, &pl, &ctx_init);
	ccmm_dma_resv_unlock(&kt.ctx, bo_evict->resv);
	bo = ttm_bo_kunit_init(BO_SIZE, NULL);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo, &pl, &ctx_val), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo);
	assert_int_equal(bo->res.mem_type, TTM_PL_MOCK1);
	/* MOCK1 has no eviction placement: its BO is purged */
	assert_false(bo_evict->has_res);
	assert_true(bo_evict->tt.page_flags & CCMM_TTM_TT_FLAG_ZERO_ALLOC);
	ccmm_ttm_bo_put(&kt.ctx, bo_evict);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	ttm_mock_manager_fini(TTM_PL_MOCK1);
}

static void ttm_bo_validate_recrusive_evict(void **state)
{
	struct ccmm_ttm_operation_ctx ctx_init = { 0 }, ctx_val = { 0 };
	struct ccmm_ttm_placement pl_tt = kt_placement(CCMM_TTM_PL_TT, 0), pl_mock = kt_placement(TTM_PL_MOCK2, 0);
	struct ccmm_ttm_bo *bo_tt, *bo_mock, *bo_val;

	(void)state;
	ttm_mock_manager_init(CCMM_TTM_PL_TT, MANAGER_SIZE);
	ttm_mock_manager_init(TTM_PL_MOCK2, MANAGER_SIZE);
	bo_tt = init_reserved(CCMM_TTM_BO_DEVICE, MANAGER_SIZE, &pl_tt, &ctx_init);
	ccmm_dma_resv_unlock(&kt.ctx, bo_tt->resv);
	bo_mock = init_reserved(CCMM_TTM_BO_DEVICE, MANAGER_SIZE, &pl_mock, &ctx_init);
	ccmm_dma_resv_unlock(&kt.ctx, bo_mock->resv);
	bo_val = ttm_bo_kunit_init(BO_SIZE, NULL);
	kt_reserve(bo_val);
	/* TT evicts to MOCK2, which evicts (purges) its own BO to make room */
	assert_int_equal(ccmm_ttm_bo_validate_ctx(&kt.ctx, bo_val, &pl_tt, &ctx_val), 0);
	ccmm_ttm_bo_unreserve(&kt.ctx, bo_val);
	ttm_mock_manager_fini(CCMM_TTM_PL_TT);
	ttm_mock_manager_fini(TTM_PL_MOCK2);
	ccmm_ttm_bo_put(&kt.ctx, bo_val);
	ccmm_ttm_bo_put(&kt.ctx, bo_tt);
	ccmm_ttm_bo_put(&kt.ctx, bo_mock);
}

#define TYPES(fn)                                                                   \
	KT_PARAM(fn, "Buffer object for userspace", CCMM_TTM_BO_DEVICE),            \
		KT_PARAM(fn, "Kernel buffer object", CCMM_TTM_BO_KERNEL),           \
		KT_PARAM(fn, "Shared buffer object", CCMM_TTM_BO_SG)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TYPES(ttm_bo_init_reserved_sys_man),
		TYPES(ttm_bo_init_reserved_mock_man),
		KT_CASE(ttm_bo_init_reserved_resv),
		TYPES(ttm_bo_validate_basic),
		KT_CASE(ttm_bo_validate_invalid_placement),
		KT_PARAM(ttm_bo_validate_same_placement, "System manager", CCMM_TTM_PL_SYSTEM),
		KT_PARAM(ttm_bo_validate_same_placement, "VRAM manager", CCMM_TTM_PL_VRAM),
		KT_CASE(ttm_bo_validate_failed_alloc),
		KT_CASE(ttm_bo_validate_pinned),
		KT_CASE(ttm_bo_validate_busy_placement),
		TYPES(ttm_bo_validate_multihop),
		KT_PARAM(ttm_bo_validate_no_placement_signaled, "Buffer object in system domain, no page vector", 0),
		KT_PARAM(ttm_bo_validate_no_placement_signaled,
			 "Buffer object in system domain with an existing page vector", 1),
		TYPES(ttm_bo_validate_no_placement_not_signaled),
		KT_CASE(ttm_bo_validate_move_fence_signaled),
		KT_PARAM(ttm_bo_validate_move_fence_not_signaled, "Waits for GPU", 0),
		KT_PARAM(ttm_bo_validate_move_fence_not_signaled, "Tries to lock straight away", 1),
		KT_CASE(ttm_bo_validate_swapout),
		KT_CASE(ttm_bo_validate_happy_evict),
		KT_CASE(ttm_bo_validate_all_pinned_evict),
		KT_CASE(ttm_bo_validate_allowed_only_evict),
		KT_CASE(ttm_bo_validate_deleted_evict),
		KT_CASE(ttm_bo_validate_busy_domain_evict),
		KT_CASE(ttm_bo_validate_evict_gutting),
		KT_CASE(ttm_bo_validate_recrusive_evict),
	};

	return cmocka_run_group_tests_name("ttm_bo_validate", tests, NULL, NULL);
}
