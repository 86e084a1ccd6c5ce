/* SPDX-License-Identifier: MIT */
/* ttm/ internals: the device, its managers, pools and the helpers shared by the files. */
#ifndef CCMM_TTM_INTERNAL_H
#define CCMM_TTM_INTERNAL_H

#include "ttm/ttm.h"

struct ttm_pool_list {
	uint64_t *pa;
	size_t nr, cap;
};

struct ttm_pool {
	pthread_mutex_t lock;
	struct ttm_pool_list list[CCMM_CACHE_NR][2]; /* [caching][decrypted] */
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
void ttm_pool_init(struct ttm_pool *pool, uint64_t max_pages);
int ttm_pool_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, bool decrypted,
		   uint64_t *pa);
void ttm_pool_free(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pa, enum ccmm_cache_mode caching,
		   bool decrypted);
void ttm_pool_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev);

/* vm.c */
/* The PTE bits for a kernel or user mapping of tt pages / io memory with these attributes. */
uint64_t ttm_tt_prot(const struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, bool decrypted,
		     uint64_t base);
uint64_t ttm_iomem_prot(const struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, uint64_t base);
/* Whether RAM of this mode is encrypted unless decrypted (CC guests, SME). */
bool ttm_mode_encrypts(const struct ccmm_machine *m);

/* A ctx for work done outside any actor (teardown). */
void ttm_internal_ctx(struct ccmm_ctx *ctx, struct ccmm_machine *m);

#endif
