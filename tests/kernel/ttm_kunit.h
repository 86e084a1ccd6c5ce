/* SPDX-License-Identifier: MIT */
/*
 * What the ported TTM KUnit files share (drivers/gpu/drm/ttm/tests/
 * ttm_kunit_helpers.c and ttm_mock_manager.c of 6.12, rewritten for
 * ccmm): a machine with one GPU whose TTM device has only the SYSTEM
 * manager (the KUnit device: no TT, no VRAM), the mock driver's
 * callbacks (mock_move, mock_evict_flags), mock managers (a range manager
 * whose resources are tt pages, as ttm_mock_manager's buddy is), and the
 * bad and busy managers.
 */
#ifndef CCMM_TEST_KERNEL_TTM_KUNIT_H
#define CCMM_TEST_KERNEL_TTM_KUNIT_H

#include "port.h"

#include "ttm/ttm.h"

#define TTM_PL_MOCK1 (CCMM_TTM_PL_PRIV + 1)
#define TTM_PL_MOCK2 (CCMM_TTM_PL_PRIV + 2)

struct ttm_test_devices {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_ttm_device *ttm_dev;
};

static struct ttm_test_devices kt;

/* mock_evict_flags: VRAM and SYSTEM go to SYSTEM, TT to MOCK2 (both FALLBACK), MOCK1 is purged. */
static void kt_mock_evict_flags(struct ccmm_ttm_bo *bo, struct ccmm_ttm_placement *pl)
{
	switch (bo->res.mem_type) {
	case CCMM_TTM_PL_VRAM:
	case CCMM_TTM_PL_SYSTEM:
		*pl = (struct ccmm_ttm_placement){ 1, { { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_FALLBACK } } };
		break;
	case CCMM_TTM_PL_TT:
		*pl = (struct ccmm_ttm_placement){ 1, { { TTM_PL_MOCK2, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_FALLBACK } } };
		break;
	default:
		break;
	}
}

/* bad_evict_flags: everything to MOCK1. */
static void kt_bad_evict_flags(struct ccmm_ttm_bo *bo, struct ccmm_ttm_placement *pl)
{
	(void)bo;
	*pl = (struct ccmm_ttm_placement){ 1, { { TTM_PL_MOCK1, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_FALLBACK } } };
}

/* mock_move: a new BO takes its resource, VRAM -> SYSTEM bounces through TT, SYSTEM <-> TT rebinds, else memcpy. */
static int kt_mock_move(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool evict, struct ccmm_ttm_operation_ctx *op,
			struct ccmm_ttm_resource *new_mem, struct ccmm_ttm_place *hop)
{
	(void)evict;
	if (!bo->has_res || (bo->res.mem_type == CCMM_TTM_PL_SYSTEM && !bo->tt.created)) {
		ccmm_ttm_bo_move_null(ctx, bo, new_mem);
		return 0;
	}
	if (bo->res.mem_type == CCMM_TTM_PL_VRAM && new_mem->mem_type == CCMM_TTM_PL_SYSTEM) {
		*hop = (struct ccmm_ttm_place){ CCMM_TTM_PL_TT, CCMM_CACHE_WB, CCMM_TTM_PL_FLAG_TEMPORARY };
		return -EMULTIHOP;
	}
	if ((bo->res.mem_type == CCMM_TTM_PL_SYSTEM && new_mem->mem_type == CCMM_TTM_PL_TT) ||
	    (bo->res.mem_type == CCMM_TTM_PL_TT && new_mem->mem_type == CCMM_TTM_PL_SYSTEM)) {
		ccmm_ttm_bo_move_null(ctx, bo, new_mem);
		return 0;
	}
	return ccmm_ttm_bo_move_memcpy(ctx, bo, op, new_mem);
}

static const struct ccmm_ttm_device_funcs kt_mock_funcs = {
	.evict_flags = kt_mock_evict_flags,
	.move = kt_mock_move,
	.eviction_valuable = ccmm_ttm_bo_eviction_valuable,
};

static const struct ccmm_ttm_device_funcs kt_bad_evict_funcs = {
	.evict_flags = kt_bad_evict_flags,
	.move = kt_mock_move,
	.eviction_valuable = ccmm_ttm_bo_eviction_valuable,
};

/* ttm_device_kunit_init_with_funcs: a device for GPU @dev with the SYSTEM manager only. */
static int kt_device_init_on(int dev, const struct ccmm_ttm_device_funcs *funcs, bool use_dma_alloc, bool use_dma32,
			     struct ccmm_ttm_device **out)
{
	struct ccmm_ttm_params p;
	int ret;

	ccmm_ttm_params_default(&p, dev);
	p.no_vram = true;
	p.funcs = funcs;
	p.use_dma_alloc = use_dma_alloc;
	p.use_dma32 = use_dma32;
	p.tt_caching = CCMM_CACHE_WB;
	ret = ccmm_ttm_device_init(&kt.ctx, &p, out);
	if (!ret)
		ccmm_ttm_clear_driver_manager(*out, CCMM_TTM_PL_TT);
	return ret;
}

/* The same for the fixture's device on GPU 0. */
static int kt_device_init(const struct ccmm_ttm_device_funcs *funcs, bool use_dma_alloc, bool use_dma32)
{
	return kt_device_init_on(0, funcs, use_dma_alloc, use_dma32, &kt.ttm_dev);
}

/* ttm_test_devices_init: a fresh machine and device per case. */
static int kt_case_setup(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	const char *text = "[platform]\ncpus=2\nmode=none\nswiotlb_size=1m\n[node:0]\nmem=128m\n"
			   "[device:gpu0]\nclass=gpu\ndma_mask=48\nbar0=1m pref\n"
			   "[device:gpu1]\nclass=gpu\ndma_mask=48\nbar0=1m pref\n"
			   "[device:gpu2]\nclass=gpu\ndma_mask=48\nbar0=1m pref\n"
			   "[device:gpu3]\nclass=gpu\ndma_mask=48\nbar0=1m pref\n";

	(void)state;
	if (ccmm_platform_parse("ttm-kunit.ini", text, &p, &err) || ccmm_boot(p, 1, &kt.m))
		return -1;
	ccmm_ctx_init(&kt.ctx, kt.m, 0, "kunit");
	return kt_device_init(&kt_mock_funcs, false, false);
}

/* ttm_test_devices_fini, after checking that nothing was recorded: the kernel's tests use TTM correctly. */
static int kt_case_teardown(void **state)
{
	size_t events = ccmm_events_count(kt.m);

	(void)state;
	if (kt.ttm_dev)
		ccmm_ttm_device_fini(&kt.ctx, kt.ttm_dev);
	ccmm_shutdown(kt.m);
	kt.m = NULL;
	kt.ttm_dev = NULL;
	assert_int_equal(events, 0);
	return 0;
}

/* ttm_mock_manager_init / _fini: a manager of @size bytes whose resources are tt pages. */
static __attribute__((unused)) void ttm_mock_manager_init(int mem_type, uint64_t size)
{
	assert_int_equal(ccmm_ttm_range_man_init(kt.ttm_dev, mem_type, true, size), 0);
}

static __attribute__((unused)) void ttm_mock_manager_fini(int mem_type)
{
	assert_int_equal(ccmm_ttm_range_man_fini(&kt.ctx, kt.ttm_dev, mem_type), 0);
}

/* ttm_bad_manager / ttm_busy_manager: allocations fail with -ENOSPC / -EBUSY; nothing is compatible. */
static int kt_bad_alloc(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_bo *bo,
			const struct ccmm_ttm_place *place, struct ccmm_ttm_resource *res)
{
	(void)man, (void)bo, (void)place, (void)res;
	return -ENOSPC;
}

static int kt_busy_alloc(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_bo *bo,
			 const struct ccmm_ttm_place *place, struct ccmm_ttm_resource *res)
{
	(void)man, (void)bo, (void)place, (void)res;
	return -EBUSY;
}

static void kt_bad_free(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_resource *res)
{
	(void)man, (void)res;
}

static bool kt_bad_compatible(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_resource *res,
			      const struct ccmm_ttm_place *place, uint64_t size)
{
	(void)man, (void)res, (void)place, (void)size;
	return false;
}

static const struct ccmm_ttm_resource_manager_func kt_bad_func = { kt_bad_alloc, kt_bad_free, kt_bad_compatible };
static const struct ccmm_ttm_resource_manager_func kt_busy_func = { kt_busy_alloc, kt_bad_free, kt_bad_compatible };
static struct ccmm_ttm_resource_manager kt_bad_man[CCMM_TTM_PL_NR];

static void kt_bad_init(int mem_type, uint64_t size, bool busy)
{
	struct ccmm_ttm_resource_manager *man = &kt_bad_man[mem_type];

	memset(man, 0, sizeof(*man));
	man->func = busy ? &kt_busy_func : &kt_bad_func;
	assert_int_equal(ccmm_ttm_set_driver_manager(kt.ttm_dev, mem_type, man, size), 0);
}

static __attribute__((unused)) void ttm_bad_manager_init(int mem_type, uint64_t size)
{
	kt_bad_init(mem_type, size, false);
}

static __attribute__((unused)) void ttm_busy_manager_init(int mem_type, uint64_t size)
{
	kt_bad_init(mem_type, size, true);
}

static __attribute__((unused)) void ttm_bad_manager_fini(int mem_type)
{
	ccmm_ttm_clear_driver_manager(kt.ttm_dev, mem_type);
}

/* ttm_bo_kunit_init: a BO with no resource, its own reservation (or @resv). */
static __attribute__((unused)) struct ccmm_ttm_bo *ttm_bo_kunit_init(uint64_t size, struct ccmm_dma_resv *resv)
{
	struct ccmm_ttm_bo *bo;

	assert_int_equal(ccmm_ttm_bo_alloc(kt.ttm_dev, size, CCMM_TTM_BO_DEVICE, "kunit", resv, &bo), 0);
	return bo;
}

/* ttm_place_kunit_init + ttm_placement_kunit_init of one place. */
static __attribute__((unused)) struct ccmm_ttm_placement kt_placement(int mem_type, uint32_t flags)
{
	return (struct ccmm_ttm_placement){ 1, { { (enum ccmm_ttm_mem_type)mem_type, CCMM_CACHE_WB, flags } } };
}

/* ttm_bo_reserve(bo, false, false, NULL) */
static __attribute__((unused)) void kt_reserve(struct ccmm_ttm_bo *bo)
{
	assert_int_equal(ccmm_ttm_bo_reserve(&kt.ctx, bo, false, NULL), 0);
}

/* What kt_tt_bo sets up beyond the BO: its reservation taken, its tt initialised, the tt populated. */
enum kt_tt_setup {
	KT_BO = 0,
	KT_RESERVED = 1,
	KT_TT = 2,			      /* ttm_tt_init(tt, bo, 0, ttm_cached, 0) */
	KT_POPULATED = KT_RESERVED | KT_TT | 4, /* ttm_tt_populate: needs the reservation in ccmm */
};

/* The ttm_tt KUnit cases' setup: a BO of @size (ttm_bo_kunit_init) taken as far as @setup says. */
static __attribute__((unused)) struct ccmm_ttm_bo *kt_tt_bo(uint64_t size, enum kt_tt_setup setup)
{
	struct ccmm_ttm_bo *bo = ttm_bo_kunit_init(size, NULL);

	if (setup & KT_RESERVED)
		kt_reserve(bo);
	if (setup & KT_TT)
		assert_int_equal(ccmm_ttm_tt_init(bo, 0, CCMM_CACHE_WB, 0), 0);
	if ((setup & KT_POPULATED) == KT_POPULATED)
		assert_int_equal(ccmm_ttm_tt_populate(&kt.ctx, bo), 0);
	return bo;
}

/* The end of a case: the reservation dropped if @reserved, the BO put (ttm_bo_put). */
static __attribute__((unused)) void kt_bo_done(struct ccmm_ttm_bo *bo, bool reserved)
{
	if (reserved)
		ccmm_dma_resv_unlock(&kt.ctx, bo->resv);
	ccmm_ttm_bo_put(&kt.ctx, bo);
}

#define KT_CASE(fn) cmocka_unit_test_setup_teardown(fn, kt_case_setup, kt_case_teardown)
#define KT_PARAM(fn, desc, param) \
	{ #fn "(" desc ")", fn, kt_case_setup, kt_case_teardown, (void *)(uintptr_t)(param) }

#endif
