/* SPDX-License-Identifier: MIT */
/*
 * boot.h - bring a modeled machine up and down, layer by layer, as the
 * kernel's start_kernel() and initcalls do:
 *
 *   ccmm_machine_create   platform: sparse memory, encryption engine
 *   ccmm_check_init       checker: event log, map hook
 *   ccmm_cc_init          secure world: history, fault injection
 *   ccmm_mm_init          page allocator, direct map
 *   (layer-3 subsystems register their init and exit here, in order)
 *
 * Every layer below the scenario engine is usable after ccmm_boot().
 */
#ifndef CCMM_BOOT_H
#define CCMM_BOOT_H

#include "platform/platform.h"

/*
 * ccmm_boot - instantiate @plat (ownership passes, also on error) with
 * encryption keys and per-actor random streams derived from @seed.
 * Returns 0 and the machine in *@out, or a negative errno (-ENOMEM, -EIO).
 */
int ccmm_boot(struct ccmm_platform *plat, uint64_t seed, struct ccmm_machine **out);

/* Tear everything down in reverse order. NULL is a no-op. */
void ccmm_shutdown(struct ccmm_machine *m);

#endif
