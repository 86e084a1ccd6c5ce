/* SPDX-License-Identifier: MIT */
/* mm/ internals shared between page_alloc.c, kernel.c and vma.c. */
#ifndef CCMM_MM_INTERNAL_H
#define CCMM_MM_INTERNAL_H

#include "mm/mm.h"

/* A zone over [base_pfn, base_pfn + nr_pages), all free. 0 or -ENOMEM. */
int _ccmm_zone_init(struct ccmm_zone *z, int node, uint64_t base_pfn, uint64_t nr_pages);
void _ccmm_zone_fini(struct ccmm_zone *z);

/* Reserve @size bytes of kernel virtual space in the vmalloc area, aligned to @align; 0 when full. */
uint64_t _ccmm_vmalloc_va(struct ccmm_machine *m, uint64_t size, uint64_t align);

#endif
