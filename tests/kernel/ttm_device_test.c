// SPDX-License-Identifier: MIT
/*
 * drivers/gpu/drm/ttm/tests/ttm_device_test.c of Linux 6.12, ported:
 * ttm_device_init (one device, several, with and without DMA allocations
 * and DMA32 pools) and ttm_device_fini. ccmm has one TTM device per GPU
 * (the KUnit cases make several on one DRM device): the ports make them
 * on several GPUs of the machine.
 */
#include "ttm_kunit.h"

static void ttm_device_init_basic(void **state)
{
	struct ccmm_ttm_device *dev;
	struct ccmm_ttm_resource_manager *sys;

	(void)state;
	assert_int_equal(kt_device_init_on(1, &kt_mock_funcs, false, false, &dev), 0);
	assert_ptr_equal(ccmm_ttm_device_funcs(dev)->move, kt_mock_move);
	sys = ccmm_ttm_manager_type(dev, CCMM_TTM_PL_SYSTEM);
	assert_non_null(sys);
	assert_true(sys->use_tt);
	assert_true(sys->use_type);
	assert_non_null(sys->func);
	ccmm_ttm_device_fini(&kt.ctx, dev);
}

static void ttm_device_init_multiple(void **state)
{
	struct ccmm_ttm_device *devs[3];

	(void)state;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(kt_device_init_on(i + 1, &kt_mock_funcs, false, false, &devs[i]), 0);
		assert_ptr_equal(ccmm_ttm_device_funcs(devs[i])->move, kt_mock_move);
		assert_non_null(ccmm_ttm_manager_type(devs[i], CCMM_TTM_PL_SYSTEM));
	}
	/* list_count_nodes(&device_list): the three and the fixture's */
	assert_int_equal(ccmm_ttm_device_count(kt.m), 3 + 1);
	for (int i = 0; i < 3; i++)
		ccmm_ttm_device_fini(&kt.ctx, devs[i]);
	assert_int_equal(ccmm_ttm_device_count(kt.m), 1);
}

static void ttm_device_fini_basic(void **state)
{
	struct ccmm_ttm_device *dev;
	struct ccmm_ttm_resource_manager *man;

	(void)state;
	assert_int_equal(kt_device_init_on(1, &kt_mock_funcs, false, false, &dev), 0);
	man = ccmm_ttm_manager_type(dev, CCMM_TTM_PL_SYSTEM);
	assert_non_null(man);
	ccmm_ttm_device_fini(&kt.ctx, dev);
	assert_false(ccmm_ttm_resource_manager_used(man));
	assert_int_equal(man->lru.nr, 0);
	assert_null(ccmm_ttm_manager_type(dev, CCMM_TTM_PL_SYSTEM));
}

struct pools_case {
	bool use_dma_alloc, use_dma32, pools_init_expected;
};

static const struct pools_case pools_cases[] = {
	{ false, false, false },
	{ true, true, true },
	{ false, true, false },
	{ true, false, true },
};

static void ttm_device_init_pools(void **state)
{
	const struct pools_case *c = &pools_cases[(uintptr_t)*state];
	struct ccmm_ttm_device *dev;

	assert_int_equal(kt_device_init_on(1, &kt_mock_funcs, c->use_dma_alloc, c->use_dma32, &dev), 0);
	assert_int_equal(ccmm_ttm_device_params(dev)->use_dma_alloc, c->use_dma_alloc);
	assert_int_equal(ccmm_ttm_device_params(dev)->use_dma32, c->use_dma32);
	if (c->pools_init_expected) {
		/* every caching and order has its pool type (empty: nothing freed yet) */
		for (int i = 0; i < CCMM_CACHE_NR; i++)
			for (unsigned j = 0; j < CCMM_TTM_POOL_ORDERS; j++)
				assert_int_equal(ccmm_ttm_pool_type_count(dev, (enum ccmm_cache_mode)i, j), 0);
	}
	ccmm_ttm_device_fini(&kt.ctx, dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		KT_CASE(ttm_device_init_basic),
		KT_CASE(ttm_device_init_multiple),
		KT_CASE(ttm_device_fini_basic),
		KT_PARAM(ttm_device_init_pools, "No DMA allocations, no DMA32 required", 0),
		KT_PARAM(ttm_device_init_pools, "DMA allocations, DMA32 required", 1),
		KT_PARAM(ttm_device_init_pools, "No DMA allocations, DMA32 required", 2),
		KT_PARAM(ttm_device_init_pools, "DMA allocations, no DMA32 required", 3),
	};

	return cmocka_run_group_tests_name("ttm_device", tests, NULL, NULL);
}
