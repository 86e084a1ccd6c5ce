// SPDX-License-Identifier: MIT
/*
 * TTM page pools: one free list per caching mode and encryption state.
 * A page leaves the page allocator once, is flipped (set_memory_decrypted
 * where DMA must be unencrypted, set_memory_wc/uc so the direct map agrees
 * with the user mappings), and then circulates through its pool; it is
 * only restored (WB, encrypted) and freed when the pool is full or shrunk.
 * Pages are cleared on their way into the pool, as ttm_pool does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

static const uint8_t zero_page[CCMM_PAGE_SIZE];

void ttm_pool_init(struct ttm_pool *pool, uint64_t max_pages)
{
	memset(pool, 0, sizeof(*pool));
	pthread_mutex_init(&pool->lock, NULL);
	pool->max_pages = max_pages;
}

/* clear_page through the direct map, whose attributes now match the page. */
static void clear_page(struct ccmm_ctx *ctx, uint64_t pa)
{
	struct ccmm_result r;

	ccmm_kernel_access(ctx, CCMM_WRITE, ccmm_phys_to_virt(pa), (void *)zero_page, CCMM_PAGE_SIZE, &r);
}

int ttm_pool_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, bool decrypted,
		   uint64_t *pa)
{
	struct ttm_pool *pool = &tdev->pool;
	struct ttm_pool_list *l = &pool->list[caching][decrypted];
	uint64_t va;
	int ret;

	pthread_mutex_lock(&pool->lock);
	if (l->nr) {
		*pa = l->pa[--l->nr];
		pool->hits++;
		pthread_mutex_unlock(&pool->lock);
		ccmm_count(ctx, CCMM_CTR_ttm_pool_hits, 1);
		return 0;
	}
	pool->misses++;
	pthread_mutex_unlock(&pool->lock);
	ccmm_count(ctx, CCMM_CTR_ttm_pool_misses, 1);

	ret = ccmm_alloc_pages(ctx, tdev->node, 0, 0, pa);
	if (ret)
		return ret;
	va = ccmm_phys_to_virt(*pa);
	if (decrypted) {
		/* the slow flip the pool exists to amortise */
		ret = ccmm_set_memory_decrypted(ctx, va, 1);
		if (ret) {
			ccmm_free_pages(ctx, *pa, 0); /* a half-done conversion is leaked by mm/ */
			return ret;
		}
		pthread_mutex_lock(&pool->lock);
		pool->conversions++;
		pthread_mutex_unlock(&pool->lock);
	}
	if (caching != CCMM_CACHE_WB) {
		ret = ccmm_set_memory_cache(ctx, va, 1, caching);
		if (ret) {
			if (decrypted)
				ccmm_set_memory_encrypted(ctx, va, 1);
			ccmm_free_pages(ctx, *pa, 0);
			return ret;
		}
		pthread_mutex_lock(&pool->lock);
		pool->conversions++;
		pthread_mutex_unlock(&pool->lock);
	}
	clear_page(ctx, *pa); /* after the flips, so the zeros read back as zeros */
	return 0;
}

/* Back to WB and encrypted, then to the page allocator. */
static void restore_and_free(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pa,
			     enum ccmm_cache_mode caching, bool decrypted)
{
	uint64_t va = ccmm_phys_to_virt(pa);

	if (caching != CCMM_CACHE_WB)
		ccmm_set_memory_cache(ctx, va, 1, CCMM_CACHE_WB);
	if (decrypted && ccmm_set_memory_encrypted(ctx, va, 1))
		return; /* the secure world refused: mm/ has leaked the page, as the kernel does */
	pthread_mutex_lock(&tdev->pool.lock);
	tdev->pool.restores++;
	pthread_mutex_unlock(&tdev->pool.lock);
	ccmm_free_pages(ctx, pa, 0);
}

void ttm_pool_free(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pa, enum ccmm_cache_mode caching,
		   bool decrypted)
{
	struct ttm_pool *pool = &tdev->pool;
	struct ttm_pool_list *l = &pool->list[caching][decrypted];
	bool kept = false;

	clear_page(ctx, pa);
	pthread_mutex_lock(&pool->lock);
	if (l->nr < pool->max_pages && !ccmm_grow((void **)&l->pa, &l->cap, l->nr + 1, sizeof(*l->pa))) {
		l->pa[l->nr++] = pa;
		kept = true;
	}
	pthread_mutex_unlock(&pool->lock);
	if (!kept)
		restore_and_free(ctx, tdev, pa, caching, decrypted);
}

uint64_t ccmm_ttm_pool_shrink(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pages)
{
	uint64_t freed = 0;

	for (int c = 0; c < CCMM_CACHE_NR; c++) {
		for (int d = 0; d < 2; d++) {
			for (;;) {
				uint64_t pa;

				if (freed >= pages)
					return freed;
				pthread_mutex_lock(&tdev->pool.lock);
				if (!tdev->pool.list[c][d].nr) {
					pthread_mutex_unlock(&tdev->pool.lock);
					break;
				}
				pa = tdev->pool.list[c][d].pa[--tdev->pool.list[c][d].nr];
				pthread_mutex_unlock(&tdev->pool.lock);
				restore_and_free(ctx, tdev, pa, (enum ccmm_cache_mode)c, d);
				freed++;
			}
		}
	}
	return freed;
}

void ttm_pool_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev)
{
	ccmm_ttm_pool_shrink(ctx, tdev, UINT64_MAX);
	for (int c = 0; c < CCMM_CACHE_NR; c++)
		for (int d = 0; d < 2; d++)
			free(tdev->pool.list[c][d].pa);
	pthread_mutex_destroy(&tdev->pool.lock);
}
