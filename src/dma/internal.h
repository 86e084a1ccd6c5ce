/* SPDX-License-Identifier: MIT */
/* dma/ internals shared by the DMA API (dma.c), dma-debug (debug.c), the atomic pools (pool.c). */
#ifndef CCMM_DMA_INTERNAL_H
#define CCMM_DMA_INTERNAL_H

#include "dma/dma.h"

/* The machine's DMA state. */
struct ccmm_dma *_ccmm_dma_of(struct ccmm_machine *m);

/* A POWER machine (ppc64): a pSeries secure guest, or a platform whose IOMMU is a pSeries TCE unit. */
static inline bool _ccmm_dma_ppc64(const struct ccmm_machine *m)
{
	if (m->plat->mode == CCMM_CC_PSERIES_SVM)
		return true;
	for (size_t i = 0; i < m->plat->nr_iommus; i++)
		if (m->plat->iommus[i].kind == CCMM_IOMMU_PSERIES_TCE)
			return true;
	return false;
}

/* ---- debug.c: records (the device's lock held unless said) ---- */

/* What a call says about the mapping it undoes or syncs (dma-debug's reference entry). */
struct ccmm_dma_ref {
	uint64_t dma, size;
	enum ccmm_dma_dir dir;
	enum ccmm_dma_map_type type;
	uint64_t pa;      /* dma_free_coherent: the physical address of the CPU address given; UINT64_MAX: none */
	int sg_call_ents; /* sg calls: the nents the caller passes; 0 otherwise */
};

/* Add a record (seq, op and job line from @ctx). 0 or -ENOMEM. */
int _ccmm_dma_rec_add(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_rec *rec);
/*
 * dma-debug's lookups (__hash_bucket_find): among the live records at
 * exactly @ref's address (_exact) or containing [dma, dma + size)
 * (_contain), the one that fits best -- size, type, direction and sg entry
 * count -- the first perfect fit winning. *@ambiguous: several matched and
 * none perfectly, where dma-debug itself finds none. Index or -1.
 */
long _ccmm_dma_rec_find_exact(struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, bool *ambiguous);
long _ccmm_dma_rec_find_contain(struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, bool *ambiguous);
/* Index of a live record containing [@dma, @dma + @size), or -1. */
long _ccmm_dma_rec_find_containing(struct ccmm_dma_dev *d, uint64_t dma, uint64_t size);
/* Remove record @i, remembering it as recently unmapped. */
void _ccmm_dma_rec_del(struct ccmm_dma_dev *d, long i);
/* Whether @dma was unmapped recently (a second unmap). */
bool _ccmm_dma_rec_gone(struct ccmm_dma_dev *d, uint64_t dma);

/* Count a failed mapping on the device, the machine and the context (not pool-full on the context: SWIOTLB did). */
void _ccmm_dma_count_fail(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_dma_fail why);

/* dma-debug's type of an entry: dma_map_single and dma_map_page both make a "single" entry. */
enum ccmm_dma_map_type _ccmm_dma_debug_type(enum ccmm_dma_map_type t);

/*
 * check_unmap() for @ref from @fn (device lock not held): finds the record
 * the call undoes, reports every mismatch on its own and takes the record
 * out of the live set (and the cacheline set) into *@out, *@found true.
 * Returns 0, or -EINVAL when dma-debug reported (a found record is taken
 * all the same: the unmap happens).
 */
int _ccmm_dma_check_unmap(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, const char *fn,
			  struct ccmm_dma_rec *out, bool *found);

/*
 * check_sync() for @ref from @fn (device lock not held): the live record
 * containing the range into *@out (*@found), ownership handed to the CPU
 * (@for_cpu) or the device, every mismatch reported. Returns 0 or -EINVAL
 * (reported).
 */
int _ccmm_dma_check_sync(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, bool for_cpu,
			 const char *fn, struct ccmm_dma_rec *out, bool *found);

/*
 * debug_dma_map_page()'s checks of the CPU side of a new mapping (no lock
 * held): check_for_stack on its first page, check_for_illegal_area on
 * [@pa, @pa + @size). Reports only.
 */
void _ccmm_dma_debug_map_area(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t pa, uint64_t size, const char *fn);

/* check_sg_segment() of one mapped entry (no lock held). Reports only. */
void _ccmm_dma_debug_sg_segment(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint32_t length, uint64_t dma,
				uint64_t dma_len);

/*
 * add_dma_entry()'s active_cacheline_insert for a record just added (no
 * lock held): tracked unless TO_DEVICE; a first cacheline already tracked
 * is dma_cacheline_overlap unless @attrs has DMA_ATTR_SKIP_CPU_SYNC.
 */
void _ccmm_dma_cacheline_insert(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_rec *rec,
				unsigned long attrs);
/* active_cacheline_remove() for a record leaving the live set. */
void _ccmm_dma_cacheline_remove(struct ccmm_machine *m, const struct ccmm_dma_rec *rec);

/* dma-debug's kernel memory (stacks, image): set up and torn down with the machine's DMA state. */
void _ccmm_dma_kmem_init(struct ccmm_dma *dma);
void _ccmm_dma_kmem_fini(struct ccmm_dma *dma);

/* ---- pool.c: the atomic pools ---- */

void _ccmm_dma_pools_init(struct ccmm_dma *dma);
void _ccmm_dma_pools_fini(struct ccmm_dma *dma);
/* dma_atomic_pool_init(), once per machine (at the first probe). 0 or the error it had. */
int _ccmm_dma_pools_make(struct ccmm_machine *m);
/*
 * dma_alloc_from_pool(): @size bytes (page multiple) from the pool of
 * @zone's choice and the lower ones, the block ending at or below
 * @max_pa; zeroed. Queues (and, unless held, runs) the worker when a pool
 * drops below its initial size. 0 with *@pa, or -ENOMEM.
 */
int _ccmm_dma_pool_alloc(struct ccmm_ctx *ctx, struct ccmm_machine *m, uint64_t size, uint64_t max_pa,
			 enum ccmm_dma_pool_zone zone, uint64_t *pa);
/* dma_free_from_pool(): true when [@pa, +@size) was an atomic pool's block (now free). */
bool _ccmm_dma_pool_free(struct ccmm_machine *m, uint64_t pa, uint64_t size);
/* Figures of the pools into @out (the pools' fields). */
void _ccmm_dma_pools_stats(struct ccmm_machine *m, struct ccmm_dma_pool_stats *out);

#endif
