// SPDX-License-Identifier: MIT
/*
 * drivers/gpu/drm/ttm/tests/ttm_tt_test.c of Linux 6.12, ported: tt init
 * and fini, ttm_tt_create (its errnos, an existing tt kept, a driver whose
 * create fails), populate, unpopulate, swapout and swapin. ccmm's tt is
 * part of its BO (bo->tt), so "a tt" is the BO's; ccmm keeps a DMA
 * address for every tt page (its DMA API maps them all), so ttm_tt_init's
 * "no dma_address array" is not checked; ccmm_ttm_tt_populate swaps in
 * itself (ttm_pool_alloc, then ttm_tt_swapin, as ttm_tt_populate does).
 * Populate needs the reservation in ccmm: the ports take it.
 */
#include "ttm_kunit.h"

#define BO_SIZE 4096ULL

static void ttm_tt_init_basic(void **state)
{
	size_t extra_pages = (uintptr_t)*state;
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_BO);

	assert_int_equal(ccmm_ttm_tt_init(bo, CCMM_TTM_TT_FLAG_ZERO_ALLOC, CCMM_CACHE_WB, extra_pages), 0);
	assert_int_equal(bo->tt.num_pages, 1 + extra_pages);
	assert_int_equal(bo->tt.page_flags, CCMM_TTM_TT_FLAG_ZERO_ALLOC);
	assert_int_equal(bo->tt.caching, CCMM_CACHE_WB);
	assert_null(bo->tt.swap_storage);
	kt_bo_done(bo, false);
}

static void ttm_tt_init_misaligned(void **state)
{
	/* the object size made misaligned: one page more */
	struct ccmm_ttm_bo *bo = kt_tt_bo(8192 + 1, KT_TT);

	(void)state;
	assert_int_equal(bo->tt.num_pages, (8192 + 4096) >> 12);
	kt_bo_done(bo, false);
}

static void ttm_tt_fini_basic(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_TT);

	(void)state;
	assert_non_null(bo->tt.pages);
	ccmm_ttm_tt_destroy(&kt.ctx, bo);
	assert_null(bo->tt.pages);
	kt_bo_done(bo, false);
}

static void ttm_tt_fini_sg(void **state)
{
	/* ttm_sg_tt_init: the DMA address array */
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_TT);

	(void)state;
	assert_non_null(bo->tt.dma_address);
	ccmm_ttm_tt_destroy(&kt.ctx, bo);
	assert_null(bo->tt.dma_address);
	kt_bo_done(bo, false);
}

/* Kernel: a shmem file as swap storage is released by ttm_tt_fini. Port: the storage of a swapout. */
static void ttm_tt_fini_shmem(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_POPULATED);

	(void)state;
	assert_int_equal(ccmm_ttm_tt_swapout(&kt.ctx, bo), 1);
	assert_non_null(bo->tt.swap_storage);
	ccmm_ttm_tt_destroy(&kt.ctx, bo);
	assert_null(bo->tt.swap_storage);
	kt_bo_done(bo, true);
}

static void ttm_tt_create_basic(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_RESERVED);

	(void)state;
	assert_int_equal(ccmm_ttm_tt_create(&kt.ctx, bo, false), 0);
	assert_true(bo->tt.created);
	kt_bo_done(bo, true);
}

static void ttm_tt_create_invalid_bo_type(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_RESERVED);

	(void)state;
	bo->type = (enum ccmm_ttm_bo_type)(CCMM_TTM_BO_SG + 1);
	assert_int_equal(ccmm_ttm_tt_create(&kt.ctx, bo, false), -EINVAL);
	assert_false(bo->tt.created);
	bo->type = CCMM_TTM_BO_DEVICE;
	kt_bo_done(bo, true);
}

static void ttm_tt_create_ttm_exists(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_RESERVED | KT_TT);
	uint64_t *pages = bo->tt.pages;

	(void)state;
	assert_int_equal(ccmm_ttm_tt_create(&kt.ctx, bo, false), 0);
	/* expect to keep the previous TTM */
	assert_ptr_equal(bo->tt.pages, pages);
	kt_bo_done(bo, true);
}

/* ttm_tt_null_create: a driver whose tt allocation fails. */
static int null_create(struct ccmm_ttm_bo *bo, uint32_t page_flags)
{
	(void)bo, (void)page_flags;
	return -ENOMEM;
}

static const struct ccmm_ttm_device_funcs empty_funcs = { .ttm_tt_create = null_create };

static void ttm_tt_create_failed(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_RESERVED);

	(void)state;
	/* update the device funcs so we don't alloc a tt */
	ccmm_ttm_device_set_funcs(kt.ttm_dev, &empty_funcs);
	assert_int_equal(ccmm_ttm_tt_create(&kt.ctx, bo, false), -ENOMEM);
	assert_false(bo->tt.created);
	kt_bo_done(bo, true);
}

static void ttm_tt_destroy_basic(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_RESERVED);

	(void)state;
	assert_int_equal(ccmm_ttm_tt_create(&kt.ctx, bo, false), 0);
	assert_true(bo->tt.created);
	ccmm_ttm_tt_destroy(&kt.ctx, bo);
	assert_false(bo->tt.created);
	kt_bo_done(bo, true);
}

static void ttm_tt_populate_null_ttm(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_RESERVED);

	(void)state;
	assert_int_equal(ccmm_ttm_tt_populate(&kt.ctx, bo), -EINVAL); /* no tt */
	kt_bo_done(bo, true);
}

static void ttm_tt_populate_populated_ttm(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_POPULATED);
	uint64_t populated_page = bo->tt.pages[0];

	(void)state;
	assert_int_equal(ccmm_ttm_tt_populate(&kt.ctx, bo), 0);
	assert_int_equal(bo->tt.pages[0], populated_page);
	kt_bo_done(bo, true);
}

static void ttm_tt_unpopulate_basic(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_POPULATED);

	(void)state;
	assert_true(bo->tt.page_flags & CCMM_TTM_TT_FLAG_PRIV_POPULATED);
	ccmm_ttm_tt_unpopulate(&kt.ctx, bo);
	assert_false(bo->tt.page_flags & CCMM_TTM_TT_FLAG_PRIV_POPULATED);
	kt_bo_done(bo, true);
}

static void ttm_tt_unpopulate_empty_ttm(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_RESERVED | KT_TT);

	(void)state;
	/* expect graceful handling of unpopulated tts */
	ccmm_ttm_tt_unpopulate(&kt.ctx, bo);
	assert_false(bo->tt.populated);
	kt_bo_done(bo, true);
}

static void ttm_tt_swapin_basic(void **state)
{
	struct ccmm_ttm_bo *bo = kt_tt_bo(BO_SIZE, KT_POPULATED);

	(void)state;
	assert_true(bo->tt.populated);
	assert_int_equal(ccmm_ttm_tt_swapout(&kt.ctx, bo), BO_SIZE >> 12);
	assert_non_null(bo->tt.swap_storage);
	assert_true(bo->tt.page_flags & CCMM_TTM_TT_FLAG_SWAPPED);
	/* swapout depopulates the tt: allocate pages and swap them in */
	assert_false(bo->tt.populated);
	assert_int_equal(ccmm_ttm_tt_populate(&kt.ctx, bo), 0);
	assert_null(bo->tt.swap_storage);
	assert_false(bo->tt.page_flags & CCMM_TTM_TT_FLAG_SWAPPED);
	kt_bo_done(bo, true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		KT_PARAM(ttm_tt_init_basic, "Page-aligned size", 0),
		KT_PARAM(ttm_tt_init_basic, "Extra pages requested", 1),
		KT_CASE(ttm_tt_init_misaligned),
		KT_CASE(ttm_tt_fini_basic),
		KT_CASE(ttm_tt_fini_sg),
		KT_CASE(ttm_tt_fini_shmem),
		KT_CASE(ttm_tt_create_basic),
		KT_CASE(ttm_tt_create_invalid_bo_type),
		KT_CASE(ttm_tt_create_ttm_exists),
		KT_CASE(ttm_tt_create_failed),
		KT_CASE(ttm_tt_destroy_basic),
		KT_CASE(ttm_tt_populate_null_ttm),
		KT_CASE(ttm_tt_populate_populated_ttm),
		KT_CASE(ttm_tt_unpopulate_basic),
		KT_CASE(ttm_tt_unpopulate_empty_ttm),
		KT_CASE(ttm_tt_swapin_basic),
	};

	return cmocka_run_group_tests_name("ttm_tt", tests, NULL, NULL);
}
