/* SPDX-License-Identifier: MIT */
/* ttm/ internals: the device, its managers, pools and the helpers shared by the files. */
#ifndef CCMM_TTM_INTERNAL_H
#define CCMM_TTM_INTERNAL_H

#include "ttm/ttm.h"

/* A pooled page: its physical address and, from dma_alloc_attrs, its DMA address. */
struct ttm_pool_page {
	uint64_t pa;
	uint64_t dma;                                /* CCMM_DMA_MAPPING_ERROR: plain pages, mapped at populate */
};

struct ttm_pool_list {
	struct ttm_pool_page *p;
	size_t nr, cap;
};

struct ttm_pool {
	pthread_mutex_t lock;
	struct ttm_pool_list list[CCMM_CACHE_NR][2]; /* [caching][decrypted by the DMA API] */
	uint64_t max_pages;                          /* per list */
	uint64_t hits, misses, conversions, restores;
};

struct ttm_manager {
	uint64_t size;          /* bytes; 0 = unlimited (SYSTEM) */
	uint64_t usage;
	struct ccmm_lru lru;
};

struct vram_range {
	uint64_t start, size;   /* bytes from the start of VRAM */
};

struct ccmm_ttm_device {
	struct ccmm_machine *m;
	struct ccmm_ttm_params p;
	struct ccmm_dma_dev *dma;     /* the GPU, bound for DMA (the bdev->dev of ttm_device_init) */
	int node;                     /* the GPU's NUMA node for page allocations */
	uint64_t vram_base;           /* physical address of VRAM (the BAR) */
	pthread_mutex_t lru_lock;
	struct ttm_manager man[CCMM_TTM_PL_NR];
	struct vram_range *vr;        /* allocated VRAM ranges, sorted */
	size_t nr_vr, cap_vr;
	struct ttm_pool pool;
	uint64_t dmem_current, dmem_failures;
	uint64_t evictions, moves, bytes_copied;
	atomic_long live_bos;
	struct ccmm_ttm_device *next;
};

/* pool.c */
void _ccmm_ttm_pool_init(struct ttm_pool *pool, uint64_t max_pages);
/*
 * One page for a tt of @caching: from the pool, else new -- from
 * dma_alloc_attrs (ccmm_dma_alloc_coherent, which decrypts it where the
 * GPU's DMA must be unencrypted; *@dma its DMA address) with use_dma_alloc,
 * else from the page allocator (*@dma = CCMM_DMA_MAPPING_ERROR: mapped
 * later) -- then flipped to @caching and cleared. @decrypted picks the list:
 * what the DMA API decides for the GPU now. 0 or -ENOMEM / the flip's errno.
 */
int _ccmm_ttm_pool_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, bool decrypted,
		   uint64_t *pa, uint64_t *dma);
/* Back to the pool (cleared), or WB again and to dma_free_attrs / the page allocator when the list is full. */
void _ccmm_ttm_pool_free(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pa, uint64_t dma,
		   enum ccmm_cache_mode caching, bool decrypted);
void _ccmm_ttm_pool_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev);

/* bo.c */
/* What the DMA API decides for the GPU's coherent pages now: decrypted (TTM_TT_FLAG_DECRYPTED with use_dma_alloc). */
bool _ccmm_ttm_want_decrypted(const struct ccmm_ttm_device *tdev);

/* vm.c */
/* The PTE bits for a kernel or user mapping of tt pages / io memory with these attributes. */
uint64_t _ccmm_ttm_tt_prot(const struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, bool decrypted,
		     uint64_t base);
uint64_t _ccmm_ttm_iomem_prot(const struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, uint64_t base);
/* Whether RAM of this mode is encrypted unless decrypted (CC guests, SME). */
bool _ccmm_ttm_mode_encrypts(const struct ccmm_machine *m);
/*
 * The CPU touches tt pages [@first, @first + @n) of @bo (reservation held):
 * one dma_cpu_unsynced at most when they are streaming-mapped through
 * SWIOTLB (TTM never syncs). Returns the violations recorded.
 */
int _ccmm_ttm_tt_cpu_check(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, uint64_t first, uint64_t n, enum ccmm_rw rw);

/* A ctx for work done outside any actor (teardown). */
void _ccmm_ttm_internal_ctx(struct ccmm_ctx *ctx, struct ccmm_machine *m);

#endif
