// SPDX-License-Identifier: MIT
/*
 * TTM page pools (ttm_pool): one free list per caching mode and encryption
 * state. A page enters the pool once -- from dma_alloc_attrs when the
 * device uses dma_alloc (the DMA API decrypts it where the GPU's DMA must
 * be unencrypted, and hands back its DMA address, which the pool keeps), or
 * from the page allocator otherwise (mapped with dma_map_page when a tt is
 * populated) -- is flipped to WC/UC (set_memory_wc/uc, so the direct map
 * agrees with the user mappings), and then circulates through its pool; it
 * is only restored to WB and given back (dma_free_attrs / free_pages) when
 * the pool is full or shrunk. Flipping is slow (seed 000, patch 4), hence
 * the pool. Pages are cleared on their way into the pool, as ttm_pool does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

static const uint8_t zero_page[CCMM_PAGE_SIZE];

void _ccmm_ttm_pool_init(struct ttm_pool *pool, uint64_t max_pages)
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

/* Give a WB page back to where it came from: dma_free_attrs or the page allocator. */
static void give_back(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pa, uint64_t dma)
{
	if (tdev->p.use_dma_alloc)
		ccmm_dma_free_coherent(ctx, tdev->dma, CCMM_PAGE_SIZE, ccmm_phys_to_virt(pa), dma);
	else
		ccmm_free_pages(ctx, pa, 0);
}

int _ccmm_ttm_pool_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, bool decrypted,
		   uint64_t *pa, uint64_t *dma)
{
	struct ttm_pool *pool = &tdev->pool;
	struct ttm_pool_list *l = &pool->list[caching][decrypted];
	uint64_t va;
	int ret;

	pthread_mutex_lock(&pool->lock);
	if (l->nr) {
		l->nr--;
		*pa = l->p[l->nr].pa;
		*dma = l->p[l->nr].dma;
		pool->hits++;
		pthread_mutex_unlock(&pool->lock);
		ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_pool_hits), 1);
		return 0;
	}
	pool->misses++;
	pthread_mutex_unlock(&pool->lock);
	ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_pool_misses), 1);

	*dma = CCMM_DMA_MAPPING_ERROR;
	if (tdev->p.use_dma_alloc) {
		/* dma_alloc_attrs: the DMA API converts (and pools) what must be shared */
		ret = ccmm_dma_alloc_coherent(ctx, tdev->dma, CCMM_PAGE_SIZE, dma, &va);
		if (ret)
			return ret;
		*pa = ccmm_virt_to_phys(va);
	} else {
		ret = ccmm_alloc_pages(ctx, tdev->node, 0, 0, pa);
		if (ret)
			return ret;
		va = ccmm_phys_to_virt(*pa);
	}
	if (caching != CCMM_CACHE_WB) {
		ret = ccmm_set_memory_cache(ctx, va, 1, caching);
		if (ret) {
			give_back(ctx, tdev, *pa, *dma);
			return ret;
		}
		pthread_mutex_lock(&pool->lock);
		pool->conversions++;
		pthread_mutex_unlock(&pool->lock);
	}
	clear_page(ctx, *pa); /* after the flips, so the zeros read back as zeros */
	return 0;
}

/* Back to WB, then to dma_free_attrs or the page allocator. */
static void restore_and_free(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pa, uint64_t dma,
			     enum ccmm_cache_mode caching)
{
	if (caching != CCMM_CACHE_WB)
		ccmm_set_memory_cache(ctx, ccmm_phys_to_virt(pa), 1, CCMM_CACHE_WB);
	pthread_mutex_lock(&tdev->pool.lock);
	tdev->pool.restores++;
	pthread_mutex_unlock(&tdev->pool.lock);
	give_back(ctx, tdev, pa, dma);
}

void _ccmm_ttm_pool_free(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pa, uint64_t dma,
		   enum ccmm_cache_mode caching, bool decrypted)
{
	struct ttm_pool *pool = &tdev->pool;
	struct ttm_pool_list *l = &pool->list[caching][decrypted];
	bool kept = false;

	clear_page(ctx, pa);
	pthread_mutex_lock(&pool->lock);
	if (l->nr < pool->max_pages && !ccmm_grow((void **)&l->p, &l->cap, l->nr + 1, sizeof(*l->p))) {
		l->p[l->nr].pa = pa;
		l->p[l->nr].dma = dma;
		l->nr++;
		kept = true;
	}
	pthread_mutex_unlock(&pool->lock);
	if (!kept)
		restore_and_free(ctx, tdev, pa, dma, caching);
}

uint64_t ccmm_ttm_pool_shrink(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pages)
{
	uint64_t freed = 0;

	for (int c = 0; c < CCMM_CACHE_NR; c++) {
		for (int d = 0; d < 2; d++) {
			for (;;) {
				struct ttm_pool_page pg;

				if (freed >= pages)
					return freed;
				pthread_mutex_lock(&tdev->pool.lock);
				if (!tdev->pool.list[c][d].nr) {
					pthread_mutex_unlock(&tdev->pool.lock);
					break;
				}
				pg = tdev->pool.list[c][d].p[--tdev->pool.list[c][d].nr];
				pthread_mutex_unlock(&tdev->pool.lock);
				restore_and_free(ctx, tdev, pg.pa, pg.dma, (enum ccmm_cache_mode)c);
				freed++;
			}
		}
	}
	return freed;
}

void _ccmm_ttm_pool_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev)
{
	ccmm_ttm_pool_shrink(ctx, tdev, UINT64_MAX);
	for (int c = 0; c < CCMM_CACHE_NR; c++)
		for (int d = 0; d < 2; d++)
			free(tdev->pool.list[c][d].p);
	pthread_mutex_destroy(&tdev->pool.lock);
}
