/* SPDX-License-Identifier: MIT */
/* ttm/ internals: the device, the machine's TTM state, the pools and the helpers shared by the files. */
#ifndef CCMM_TTM_INTERNAL_H
#define CCMM_TTM_INTERNAL_H

#include "cgroup/cgroup.h"
#include "ttm/ttm.h"

/* A pooled block of 2^order pages: its physical address and, from dma_alloc_attrs, its DMA address. */
struct ttm_pool_block {
	uint64_t pa;
	uint64_t dma;                    /* CCMM_DMA_MAPPING_ERROR: plain pages, mapped at populate */
};

/* struct ttm_pool_type: free blocks of one caching and order, of a device's pool or a global one. */
struct ttm_pool_type {
	struct ccmm_ttm_device *tdev;    /* NULL: a global pool */
	enum ccmm_cache_mode caching;
	unsigned order;
	bool dma32;                      /* global: the dma32 pool */
	bool used;                       /* initialised (ttm_pool_select_type picks it) */
	struct ttm_pool_block *b;
	size_t nr, cap;
	struct ttm_pool_type *shrink_next; /* the machine's shrinker list */
};

/* struct ttm_pool of a device. */
struct ttm_pool {
	int nid;                          /* NUMA_NO_NODE (-1) or the GPU's node */
	bool use_dma_alloc, use_dma32;
	struct ttm_pool_type caching[CCMM_CACHE_NR][CCMM_TTM_POOL_ORDERS];
	uint64_t hits, misses, conversions, restores;
};

struct ccmm_ttm_device {
	struct ccmm_machine *m;
	struct ccmm_ttm_params p;
	struct ccmm_ttm_device_funcs funcs; /* resolved: the default's where p.funcs gave NULL */
	struct ccmm_dma_dev *dma;     /* the GPU, bound for DMA (the bdev->dev of ttm_device_init) */
	uint64_t vram_base;           /* physical address of VRAM (the BAR) */
	pthread_mutex_t lru_lock;
	struct ccmm_ttm_resource_manager *man_drv[CCMM_TTM_PL_NR];
	struct ccmm_ttm_resource_manager sysman, ttman, vramman;
	struct ccmm_lru pinned;
	struct ccmm_ttm_bo *deleted;  /* the delayed-delete list (lru_lock) */
	struct ttm_pool pool;
	struct ccmm_dmem_region *dmem;
	uint64_t evictions, moves, bytes_copied, swapouts, dmem_limit_hits;
	atomic_long live_bos;
	struct ccmm_ttm_device *next;
};

/* The machine's TTM state (ttm_glob and the pools' globals). */
struct ttm_state {
	pthread_mutex_t lock;             /* ttm_global_mutex: the device list */
	struct ccmm_ttm_device *devs;
	struct ccmm_ttm_device *dead;     /* devices after ccmm_ttm_device_fini, freed with the machine */
	pthread_mutex_t pool_lock;        /* the pool types, the shrinker list, allocated_pages */
	struct ttm_pool_type global_wc[CCMM_TTM_POOL_ORDERS], global_uc[CCMM_TTM_POOL_ORDERS];
	struct ttm_pool_type global_dma32_wc[CCMM_TTM_POOL_ORDERS], global_dma32_uc[CCMM_TTM_POOL_ORDERS];
	struct ttm_pool_type *shrink_head; /* the shrinker list, rotated by each ttm_pool_shrink */
	uint64_t allocated_pages;         /* pages in every pool */
	uint64_t page_pool_size;          /* the limit on them (module parameter page_pool_size) */
	_Atomic uint64_t pages_allocated, dma32_pages_allocated; /* ttm_pages_allocated, populated tts */
	uint64_t pages_limit, dma32_pages_limit;
};

struct ttm_state *_ccmm_ttm_state(struct ccmm_machine *m);

/* pool.c */
void _ccmm_ttm_pool_init(struct ccmm_ttm_device *tdev);
void _ccmm_ttm_pool_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev);
void _ccmm_ttm_pool_globals_init(struct ttm_state *st);
void _ccmm_ttm_pool_globals_fini(struct ccmm_ctx *ctx, struct ttm_state *st);
/*
 * ttm_pool_alloc: fill @tt (its page directory allocated) with pages (blocks of the highest
 * orders that fit, from the pool types first, the page allocator or
 * dma_alloc_attrs next, flipped to the tt's caching per run of new pages)
 * and their DMA addresses (dma_map_page of each block without
 * use_dma_alloc). 0, -ENOMEM, -EFAULT (a mapping failed); nothing is held
 * on error.
 */
int _ccmm_ttm_pool_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, struct ccmm_ttm_tt *tt);
/* ttm_pool_free: the tt's blocks back to their pool types (or freed), then shrink to page_pool_size. */
void _ccmm_ttm_pool_free(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, struct ccmm_ttm_tt *tt);

/* tt.c */
/* What the DMA API decides for the GPU's coherent pages now: decrypted (TTM_TT_FLAG_DECRYPTED) under the rule. */
bool _ccmm_ttm_want_decrypted(const struct ccmm_ttm_device *tdev);
/* Move a populated tt's pages to new ones of @caching, copying the bytes (ccmm's caching change). 0 or errno. */
int _ccmm_ttm_tt_recache(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_cache_mode caching);

/* bo_util.c: copies through kernel mappings */
/* Copy (or, with @src_res NULL, clear) the BO's bytes from one backing to another, as ttm_move_memcpy. */
int _ccmm_ttm_copy(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_resource *src_res,
		   const struct ccmm_ttm_resource *dst_res, const uint64_t *src_pages, const uint64_t *dst_pages,
		   bool src_decrypted, bool dst_decrypted, enum ccmm_cache_mode src_caching,
		   enum ccmm_cache_mode dst_caching);
/* Record what a move did: counters of the device, the BO and @ctx. */
void _ccmm_ttm_count_move(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool evict);

/* resource.c */
void _ccmm_ttm_managers_init(struct ccmm_ttm_device *tdev);
void _ccmm_ttm_managers_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev);
/* Whether the manager of @type holds CPU-visible memory: use_tt pages, or VRAM. */
bool _ccmm_ttm_man_has_memory(struct ccmm_ttm_device *tdev, enum ccmm_ttm_mem_type type);
/* ttm_resource_move_to_lru_tail for @bo (lru_lock held): the pinned list if pinned, else its manager's LRU. */
void _ccmm_ttm_lru_tail_locked(struct ccmm_ttm_bo *bo);
/* Off whatever list it is on (lru_lock held). */
void _ccmm_ttm_lru_del_locked(struct ccmm_ttm_bo *bo);

/* bo.c */
/* Run the delayed deletes whose fences have signalled (@wait: wait for them, bounded). Returns BOs destroyed. */
size_t _ccmm_ttm_delayed_delete(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, bool wait);
/* ttm_bo_cleanup_memtype_use: drop the tt and the resource. Reserved. */
void _ccmm_ttm_bo_cleanup_memtype_use(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);
/* A reference unless the BO is on its way out (kref_get_unless_zero). */
bool _ccmm_ttm_bo_get_unless_zero(struct ccmm_ttm_bo *bo);
/* A ctx for work done outside any actor (teardown). */
void _ccmm_ttm_internal_ctx(struct ccmm_ctx *ctx, struct ccmm_machine *m);
/* Whether the machine is x86 (CONFIG_X86: caching flips, pooling without use_dma_alloc) rather than POWER. */
bool _ccmm_ttm_x86(const struct ccmm_machine *m);

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

#endif
