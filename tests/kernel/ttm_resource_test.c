// SPDX-License-Identifier: MIT
/*
 * drivers/gpu/drm/ttm/tests/ttm_resource_test.c of Linux 6.12, ported:
 * resources in the SYSTEM manager, a driver's manager and a private
 * placement, pinned resources, manager init, usage and use, the SYSTEM
 * manager's alloc and free. ccmm's ccmm_ttm_resource_alloc is
 * ttm_resource_init plus the manager's alloc, and a resource joins an LRU
 * (or the pinned list) when its BO takes it (ccmm_ttm_bo_move_null); a
 * BO's resource is given back by validating to no placement (gutting) or
 * with ccmm_ttm_resource_free when no BO took it.
 */
#include "ttm_kunit.h"

#define RES_SIZE 4096ULL
#define TTM_PRIV_DUMMY_REG (CCMM_TTM_PL_NR - 1)

/* ttm_resource_manager_mock_funcs: every allocation fits (the kernel's mock has none: init does not call it). */
static int mock_alloc(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place,
		      struct ccmm_ttm_resource *res)
{
	(void)man, (void)bo, (void)place, (void)res;
	return 0;
}

static void mock_free(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_resource *res)
{
	(void)man, (void)res;
}

static const struct ccmm_ttm_resource_manager_func mock_funcs = { mock_alloc, mock_free, NULL };
static struct ccmm_ttm_resource_manager test_man;

/* ttm_init_test_manager: a manager of 16 KiB without tt pages. */
static void init_test_manager(int mem_type)
{
	memset(&test_man, 0, sizeof(test_man));
	test_man.func = &mock_funcs;
	test_man.use_tt = false;
	assert_int_equal(ccmm_ttm_set_driver_manager(kt.ttm_dev, mem_type, &test_man, 16384), 0);
}

/* ttm_resource_init(bo, place, res), the resource then being the BO's. */
static void resource_init(struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place, struct ccmm_ttm_resource *res)
{
	assert_int_equal(ccmm_ttm_resource_alloc(&kt.ctx, bo, place, res, NULL), 0);
	kt_reserve(bo);
	ccmm_ttm_bo_move_null(&kt.ctx, bo, res);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
}

/* ttm_resource_fini of the BO's resource. */
static void resource_fini(struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_placement none = { 0 };

	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_validate(&kt.ctx, bo, &none), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
}

struct init_case {
	int mem_type;
	uint32_t flags;
};

static const struct init_case init_cases[] = {
	{ CCMM_TTM_PL_SYSTEM, 0 },
	{ CCMM_TTM_PL_VRAM, 0 },
	{ TTM_PRIV_DUMMY_REG, 0 },
	{ CCMM_TTM_PL_SYSTEM, CCMM_TTM_PL_FLAG_TOPDOWN },
};

static void ttm_resource_init_basic(void **state)
{
	const struct init_case *c = &init_cases[(uintptr_t)*state];
	struct ccmm_ttm_place place = { c->mem_type, CCMM_CACHE_WB, c->flags };
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(RES_SIZE, NULL);
	struct ccmm_ttm_resource_manager *man;
	struct ccmm_ttm_resource res;
	uint64_t expected_usage;

	if (c->mem_type > CCMM_TTM_PL_SYSTEM)
		init_test_manager(c->mem_type);
	man = ccmm_ttm_manager_type(kt.ttm_dev, c->mem_type);
	expected_usage = ccmm_ttm_resource_manager_usage(man) + RES_SIZE;
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, c->mem_type), 0);
	resource_init(bo, &place, &res);
	assert_int_equal(bo->res.start, 0);
	assert_int_equal(bo->res.size, RES_SIZE);
	assert_int_equal(bo->res.mem_type, c->mem_type);
	assert_int_equal(bo->res.placement, c->flags);
	assert_int_equal(bo->res.bus_base, 0);
	assert_false(bo->res.is_iomem);
	assert_int_equal(bo->res.caching, CCMM_CACHE_WB);
	assert_int_equal(ccmm_ttm_resource_manager_usage(man), expected_usage);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, c->mem_type), 1);
	resource_fini(bo);
	ccmm_ttm_bo_put(&kt.ctx, bo);
	if (c->mem_type > CCMM_TTM_PL_SYSTEM)
		ccmm_ttm_clear_driver_manager(kt.ttm_dev, c->mem_type);
}

static void ttm_resource_init_pinned(void **state)
{
	struct ccmm_ttm_place place = { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, 0 };
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(RES_SIZE, NULL);
	struct ccmm_ttm_resource res;

	(void)state;
	assert_int_equal(ccmm_ttm_pinned_count(kt.ttm_dev), 0);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_pin(&kt.ctx, bo), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	resource_init(bo, &place, &res);
	assert_int_equal(ccmm_ttm_pinned_count(kt.ttm_dev), 1);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_bo_unpin(&kt.ctx, bo), 0);
	ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	resource_fini(bo);
	assert_int_equal(ccmm_ttm_pinned_count(kt.ttm_dev), 0);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_resource_fini_basic(void **state)
{
	struct ccmm_ttm_place place = { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, 0 };
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(RES_SIZE, NULL);
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(kt.ttm_dev, CCMM_TTM_PL_SYSTEM);
	struct ccmm_ttm_resource res;

	(void)state;
	resource_init(bo, &place, &res);
	resource_fini(bo);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), 0);
	assert_int_equal(ccmm_ttm_resource_manager_usage(man), 0);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_resource_manager_init_basic(void **state)
{
	(void)state;
	init_test_manager(CCMM_TTM_PL_VRAM);
	assert_ptr_equal(test_man.tdev, kt.ttm_dev);
	assert_int_equal(test_man.size, 16384);
	assert_int_equal(test_man.usage, 0);
	assert_null(test_man.move);
	assert_int_equal(test_man.lru.nr, 0);
	ccmm_ttm_clear_driver_manager(kt.ttm_dev, CCMM_TTM_PL_VRAM);
}

static void ttm_resource_manager_usage_basic(void **state)
{
	struct ccmm_ttm_place place = { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_TOPDOWN };
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(RES_SIZE, NULL);
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(kt.ttm_dev, CCMM_TTM_PL_SYSTEM);
	struct ccmm_ttm_resource res;

	(void)state;
	resource_init(bo, &place, &res);
	assert_int_equal(ccmm_ttm_resource_manager_usage(man), RES_SIZE);
	resource_fini(bo);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_resource_manager_set_used_basic(void **state)
{
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(kt.ttm_dev, CCMM_TTM_PL_SYSTEM);

	(void)state;
	assert_true(ccmm_ttm_resource_manager_used(man));
	ccmm_ttm_resource_manager_set_used(man, false);
	assert_false(ccmm_ttm_resource_manager_used(man));
}

static void ttm_sys_man_alloc_basic(void **state)
{
	struct ccmm_ttm_place place = { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, 0 };
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(RES_SIZE, NULL);
	struct ccmm_ttm_resource res;

	(void)state;
	assert_int_equal(ccmm_ttm_resource_alloc(&kt.ctx, bo, &place, &res, NULL), 0);
	assert_int_equal(res.size, RES_SIZE);
	assert_int_equal(res.mem_type, CCMM_TTM_PL_SYSTEM);
	ccmm_ttm_resource_free(bo, &res);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

static void ttm_sys_man_free_basic(void **state)
{
	struct ccmm_ttm_place place = { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, 0 };
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(RES_SIZE, NULL);
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(kt.ttm_dev, CCMM_TTM_PL_SYSTEM);
	struct ccmm_ttm_resource res;

	(void)state;
	assert_int_equal(ccmm_ttm_resource_alloc(&kt.ctx, bo, &place, &res, NULL), 0);
	ccmm_ttm_resource_free(bo, &res);
	assert_int_equal(ccmm_ttm_lru_count(kt.ttm_dev, CCMM_TTM_PL_SYSTEM), 0);
	assert_int_equal(ccmm_ttm_resource_manager_usage(man), 0);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		KT_PARAM(ttm_resource_init_basic, "Init resource in TTM_PL_SYSTEM", 0),
		KT_PARAM(ttm_resource_init_basic, "Init resource in TTM_PL_VRAM", 1),
		KT_PARAM(ttm_resource_init_basic, "Init resource in a private placement", 2),
		KT_PARAM(ttm_resource_init_basic, "Init resource in TTM_PL_SYSTEM, set placement flags", 3),
		KT_CASE(ttm_resource_init_pinned),
		KT_CASE(ttm_resource_fini_basic),
		KT_CASE(ttm_resource_manager_init_basic),
		KT_CASE(ttm_resource_manager_usage_basic),
		KT_CASE(ttm_resource_manager_set_used_basic),
		KT_CASE(ttm_sys_man_alloc_basic),
		KT_CASE(ttm_sys_man_free_basic),
	};

	return cmocka_run_group_tests_name("ttm_resource", tests, NULL, NULL);
}
