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

/*
 * A subsystem's machine-wide figure for reports, in the kernel's own names
 * where it has them (debugfs, sysfs): @group ("swiotlb", "dma.virtio-blk0",
 * "iommu.phb0-ddw"), @name ("io_tlb_used_hiwater"), and a number, or a
 * string in @text when that is not NULL.
 */
struct ccmm_stat {
	char group[48];
	char name[48];
	uint64_t value;
	const char *text; /* static storage */
};

/* A subsystem's stats function: fill up to @max figures, return how many. */
typedef size_t (*ccmm_stats_fn)(struct ccmm_machine *m, struct ccmm_stat *out, size_t max);

/*
 * ccmm_machine_stats - every subsystem's figures, in initcall order (each
 * initcall may name a stats function). Returns the number written, at most
 * @max. Locking: as the subsystems' own.
 */
size_t ccmm_machine_stats(struct ccmm_machine *m, struct ccmm_stat *out, size_t max);

/* For stats functions: append one figure if there is room (*@n counts them). */
static inline void ccmm_stat_add(struct ccmm_stat *out, size_t max, size_t *n, const char *group, const char *name,
				 uint64_t value, const char *text)
{
	if (*n >= max)
		return;
	snprintf(out[*n].group, sizeof(out[*n].group), "%s", group);
	snprintf(out[*n].name, sizeof(out[*n].name), "%s", name);
	out[*n].value = value;
	out[*n].text = text;
	(*n)++;
}

#endif
