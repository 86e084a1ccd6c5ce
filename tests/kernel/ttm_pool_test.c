// SPDX-License-Identifier: MIT
/*
 * drivers/gpu/drm/ttm/tests/ttm_pool_test.c of Linux 6.12, ported: pool
 * allocations (orders up to MAX_PAGE_ORDER and above, with and without
 * coherent DMA allocations), DMA addresses, pool types matched by order
 * and caching, freeing to the pool, pool fini. A ccmm pool is a TTM
 * device's (ttm_pool_init(pool, dev, NUMA_NO_NODE, use_dma_alloc, false)
 * is a device on a GPU without a NUMA node); a tt is its BO's, populated
 * (ttm_pool_alloc) and unpopulated (ttm_pool_free) under the reservation.
 * A page's "private" (the order at a block's head page, 0 elsewhere) is
 * ccmm_ttm_tt_block_order (-1 where no block starts).
 */
#include "ttm_kunit.h"

/* The pool of the test: the fixture's device (no DMA allocations), or one on GPU 1 with them. */
static struct ccmm_ttm_device *pool_dev(bool use_dma_alloc)
{
	struct ccmm_ttm_device *dev;

	if (!use_dma_alloc)
		return kt.ttm_dev;
	assert_int_equal(kt_device_init_on(1, &kt_mock_funcs, true, false, &dev), 0);
	return dev;
}

static void pool_fini(struct ccmm_ttm_device *dev)
{
	if (dev != kt.ttm_dev)
		ccmm_ttm_device_fini(&kt.ctx, dev);
}

/* ttm_tt_kunit_init + ttm_pool_alloc: a BO of @dev with a populated tt of @caching; reserved. */
static struct ccmm_ttm_bo *tt_alloc(struct ccmm_ttm_device *dev, enum ccmm_cache_mode caching, size_t size)
{
	struct ccmm_ttm_bo *bo;

	assert_int_equal(ccmm_ttm_bo_alloc(dev, size, CCMM_TTM_BO_DEVICE, "pool", NULL, &bo), 0);
	kt_reserve(bo);
	assert_int_equal(ccmm_ttm_tt_init(bo, 0, caching, 0), 0);
	assert_int_equal(ccmm_ttm_tt_populate(&kt.ctx, bo), 0);
	return bo;
}

/* ttm_pool_free + ttm_tt_fini */
static void tt_free(struct ccmm_ttm_bo *bo)
{
	ccmm_ttm_tt_unpopulate(&kt.ctx, bo);
	ccmm_ttm_tt_destroy(&kt.ctx, bo);
	kt_bo_done(bo, true);
}

/* ttm_pool_pre_populated: a coherent-DMA pool that holds one freed block of @size and @caching. */
static struct ccmm_ttm_device *pre_populated(size_t size, enum ccmm_cache_mode caching)
{
	struct ccmm_ttm_device *dev = pool_dev(true);

	tt_free(tt_alloc(dev, caching, size));
	return dev;
}

struct basic_case {
	unsigned order;
	bool use_dma_alloc;
};

static const struct basic_case basic_cases[] = {
	{ 0, false },
	{ 2, false },
	{ CCMM_MAX_ORDER + 1, false },
	{ 0, true },
	{ CCMM_MAX_ORDER + 1, true },
};

static void ttm_pool_alloc_basic(void **state)
{
	const struct basic_case *c = &basic_cases[(uintptr_t)*state];
	struct ccmm_ttm_device *dev = pool_dev(c->use_dma_alloc);
	size_t expected_num_pages = (size_t)1 << c->order;
	struct ccmm_ttm_bo *bo;

	assert_int_equal(ccmm_ttm_device_params(dev)->use_dma_alloc, c->use_dma_alloc);
	bo = tt_alloc(dev, CCMM_CACHE_UC, expected_num_pages * CCMM_PAGE_SIZE);
	assert_int_equal(bo->tt.num_pages, expected_num_pages);
	if (c->order <= CCMM_MAX_ORDER) {
		assert_int_equal(ccmm_ttm_tt_block_order(bo, 0), c->order);
		if (c->use_dma_alloc) /* the page's DMA address from dma_alloc_attrs */
			assert_int_equal(bo->tt.dma_address[bo->tt.num_pages - 1], bo->tt.pages[bo->tt.num_pages - 1]);
	} else {
		/* one big block (MAX_PAGE_ORDER) first; the last page heads no higher-order block */
		assert_int_equal(ccmm_ttm_tt_block_order(bo, 0), CCMM_MAX_ORDER);
		assert_true(ccmm_ttm_tt_block_order(bo, bo->tt.num_pages - 1) <= 0);
	}
	tt_free(bo);
	pool_fini(dev);
}

static void ttm_pool_alloc_basic_dma_addr(void **state)
{
	const struct basic_case *c = &basic_cases[(uintptr_t)*state];
	struct ccmm_ttm_device *dev = pool_dev(true);
	size_t expected_num_pages = (size_t)1 << c->order;
	struct ccmm_ttm_bo *bo;

	bo = tt_alloc(dev, CCMM_CACHE_UC, expected_num_pages * CCMM_PAGE_SIZE);
	assert_int_equal(bo->tt.num_pages, expected_num_pages);
	/*
	 * KUNIT_ASSERT_NOT_NULL(dma1 / dma2): the pages have DMA addresses.
	 * ccmm's RAM starts at physical 0 and its page allocator may hand out
	 * page 0 (x86 firmware keeps it), so the port checks the addresses
	 * themselves: the direct path's, the pages' physical addresses.
	 */
	assert_int_not_equal(bo->tt.dma_address[0], CCMM_DMA_MAPPING_ERROR);
	assert_int_equal(bo->tt.dma_address[0], bo->tt.pages[0]);
	assert_int_equal(bo->tt.dma_address[bo->tt.num_pages - 1], bo->tt.pages[bo->tt.num_pages - 1]);
	tt_free(bo);
	pool_fini(dev);
}

static void ttm_pool_alloc_order_caching_match(void **state)
{
	struct ccmm_ttm_device *dev = pre_populated(CCMM_PAGE_SIZE, CCMM_CACHE_UC);
	struct ccmm_ttm_bo *bo;

	(void)state;
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 0), 1);
	bo = tt_alloc(dev, CCMM_CACHE_UC, CCMM_PAGE_SIZE);
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 0), 0); /* taken from the pool */
	tt_free(bo);
	pool_fini(dev);
}

/*
 * The two mismatch cases: a pool holding one freed block of @pre_size and
 * @pre_caching (order @pre_order) does not serve a one-page uncached
 * allocation, which is another pool type; that page is freed to its own
 * type, and both types hold one block after.
 */
static void alloc_mismatch(size_t pre_size, enum ccmm_cache_mode pre_caching, unsigned pre_order)
{
	struct ccmm_ttm_device *dev = pre_populated(pre_size, pre_caching);

	assert_int_equal(ccmm_ttm_pool_type_count(dev, pre_caching, pre_order), 1);
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 0), 0);
	tt_free(tt_alloc(dev, CCMM_CACHE_UC, CCMM_PAGE_SIZE));
	assert_int_equal(ccmm_ttm_pool_type_count(dev, pre_caching, pre_order), 1);
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 0), 1);
	pool_fini(dev);
}

static void ttm_pool_alloc_caching_mismatch(void **state)
{
	(void)state;
	alloc_mismatch(CCMM_PAGE_SIZE, CCMM_CACHE_WB, 0);
}

static void ttm_pool_alloc_order_mismatch(void **state)
{
	(void)state;
	alloc_mismatch(4 * CCMM_PAGE_SIZE, CCMM_CACHE_UC, 2);
}

static void ttm_pool_free_dma_alloc(void **state)
{
	struct ccmm_ttm_device *dev = pool_dev(true);
	struct ccmm_ttm_bo *bo;

	(void)state;
	bo = tt_alloc(dev, CCMM_CACHE_UC, 4 * CCMM_PAGE_SIZE);
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 2), 0);
	tt_free(bo);
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 2), 1);
	pool_fini(dev);
}

/*
 * Without coherent DMA allocations and without a NUMA node, the kernel's
 * ttm_pool_init sets up no pool type of the device, and uncached pages go
 * to the global uncached pool (ttm_pool_select_type). The kernel case's
 * list_is_singular() on the device's never-initialised (zeroed) list head
 * holds by accident; the port checks where the block really goes.
 */
static void ttm_pool_free_no_dma_alloc(void **state)
{
	struct ccmm_ttm_device *dev = pool_dev(false);
	long before = ccmm_ttm_global_pool_count(kt.m, CCMM_CACHE_UC, false, 2);
	struct ccmm_ttm_bo *bo;

	(void)state;
	bo = tt_alloc(dev, CCMM_CACHE_UC, 4 * CCMM_PAGE_SIZE);
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 2), -1);
	tt_free(bo);
	assert_int_equal(ccmm_ttm_global_pool_count(kt.m, CCMM_CACHE_UC, false, 2), before + 1);
	pool_fini(dev);
}

static void ttm_pool_fini_basic(void **state)
{
	struct ccmm_ttm_device *dev = pre_populated(CCMM_PAGE_SIZE, CCMM_CACHE_UC);

	(void)state;
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 0), 1);
	assert_int_equal(ccmm_ttm_pool_count_all(kt.m), 1);
	pool_fini(dev); /* ttm_pool_fini: every pooled block freed */
	assert_int_equal(ccmm_ttm_pool_type_count(dev, CCMM_CACHE_UC, 0), -1);
	assert_int_equal(ccmm_ttm_pool_count_all(kt.m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		KT_PARAM(ttm_pool_alloc_basic, "One page", 0),
		KT_PARAM(ttm_pool_alloc_basic, "More than one page", 1),
		KT_PARAM(ttm_pool_alloc_basic, "Above the allocation limit", 2),
		KT_PARAM(ttm_pool_alloc_basic, "One page, with coherent DMA mappings enabled", 3),
		KT_PARAM(ttm_pool_alloc_basic, "Above the allocation limit, with coherent DMA mappings enabled", 4),
		KT_PARAM(ttm_pool_alloc_basic_dma_addr, "One page", 0),
		KT_PARAM(ttm_pool_alloc_basic_dma_addr, "More than one page", 1),
		KT_PARAM(ttm_pool_alloc_basic_dma_addr, "Above the allocation limit", 2),
		KT_PARAM(ttm_pool_alloc_basic_dma_addr, "One page, with coherent DMA mappings enabled", 3),
		KT_PARAM(ttm_pool_alloc_basic_dma_addr, "Above the allocation limit, with coherent DMA mappings enabled",
			 4),
		KT_CASE(ttm_pool_alloc_order_caching_match),
		KT_CASE(ttm_pool_alloc_caching_mismatch),
		KT_CASE(ttm_pool_alloc_order_mismatch),
		KT_CASE(ttm_pool_free_dma_alloc),
		KT_CASE(ttm_pool_free_no_dma_alloc),
		KT_CASE(ttm_pool_fini_basic),
	};

	return cmocka_run_group_tests_name("ttm_pool", tests, NULL, NULL);
}
