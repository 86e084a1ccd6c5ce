/* SPDX-License-Identifier: MIT */
/* platform/ internals shared between machine.c and phys.c. */
#ifndef CCMM_PLATFORM_INTERNAL_H
#define CCMM_PLATFORM_INTERNAL_H

#include "platform/platform.h"

/* A range's empty chunk directory (a pointer per GiB), and its teardown with every chunk in it. 0 or -ENOMEM. */
int _ccmm_phys_range_init(struct ccmm_phys_range *r, const struct ccmm_mem_range *desc);
void _ccmm_phys_range_fini(struct ccmm_phys_range *r);

/* The table of ranges per GiB of address space (struct ccmm_phys.granule). 0 or -ENOMEM. */
int _ccmm_phys_granules_init(struct ccmm_machine *m);

#endif
