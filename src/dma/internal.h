/* SPDX-License-Identifier: MIT */
/* dma/ internals shared by the DMA API (dma.c), its records and checks (debug.c) and the actors. */
#ifndef CCMM_DMA_INTERNAL_H
#define CCMM_DMA_INTERNAL_H

#include "dma/dma.h"

/* ---- debug.c: records (the device's lock held unless said) ---- */

/* Add a record (seq, op and job line from @ctx). 0 or -ENOMEM. */
int _ccmm_dma_rec_add(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_rec *rec);
/*
 * Index of the live record at @dma that fits a reference best (size, type
 * and direction; the first perfect fit), or -1. Without an IOMMU one address
 * can be mapped several times (the same page, a P2P BAR): dma-debug's
 * best-fit lookup, so an unmap takes its own mapping, not a twin.
 */
long _ccmm_dma_rec_find_best(struct ccmm_dma_dev *d, uint64_t dma, uint64_t size, enum ccmm_dma_map_type type,
			    enum ccmm_dma_dir dir);
/* Index of a live record containing [@dma, @dma + @size), or -1. */
long _ccmm_dma_rec_find_containing(struct ccmm_dma_dev *d, uint64_t dma, uint64_t size);
/* Remove record @i, remembering it as recently unmapped. */
void _ccmm_dma_rec_del(struct ccmm_dma_dev *d, long i);
/* Whether @dma was unmapped recently (a second unmap). */
bool _ccmm_dma_rec_gone(struct ccmm_dma_dev *d, uint64_t dma);

/* Count a failed mapping on the device, the machine and the context (not pool-full on the context: SWIOTLB did). */
void _ccmm_dma_count_fail(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_dma_fail why);

#endif
