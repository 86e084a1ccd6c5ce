/* SPDX-License-Identifier: MIT */
/*
 * boot.h - bring a modeled machine up and down, subsystem by subsystem, as
 * the kernel's start_kernel() runs its initcalls, and the registry of every
 * subsystem (the top of layer 3).
 *
 *   ccmm_machine_create   platform: sparse memory, encryption engine
 *   then, in the order of ccmm_subsystems in meson.build, each registered
 *   subsystem's init (check, cc, mm, cgroup, sgx, tier, swiotlb, iommu,
 *   dma, sync, ttm, dma-buf); exits run in reverse.
 *
 * A subsystem registers itself with one struct ccmm_subsys beside its code
 * (platform/subsys.h) and one line in meson.build; the build generates the
 * table this file walks. Every layer below the scenario engine is usable
 * after ccmm_boot().
 */
#ifndef CCMM_BOOT_H
#define CCMM_BOOT_H

#include "check/check.h"
#include "platform/platform.h"
#include "platform/subsys.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/*
 * ccmm_boot - instantiate @plat (ownership passes, also on error) with
 * encryption keys and per-actor random streams derived from @seed, then
 * run every registered subsystem's init. Returns 0 and the machine in
 * *@out, or a negative errno (-ENOMEM, -EIO, or the failing init's); on
 * failure the subsystems already up are torn down again.
 */
int ccmm_boot(struct ccmm_platform *plat, uint64_t seed, struct ccmm_machine **out);

/* Run every subsystem's exit in reverse order and free the machine. NULL is a no-op. */
void ccmm_shutdown(struct ccmm_machine *m);

/* The @i-th registered subsystem in init order, or NULL past the end. */
const struct ccmm_subsys *ccmm_subsys_at(size_t i);

/*
 * ccmm_machine_stats - every subsystem's figures, in init order. Returns
 * the number written, at most @max. Locking: as the subsystems' own.
 */
size_t ccmm_machine_stats(struct ccmm_machine *m, struct ccmm_stat *out, size_t max);

/*
 * Costs and counters of every registered block, by global index: the
 * machine's own first (platform/costs.h), then each subsystem's in init
 * order. ccmm_cost_nr()/ccmm_counter_nr() count them; ccmm_cost_at() and
 * ccmm_counter_at() give one (with its subsystem's name in *@subsys when
 * not NULL), or NULL past the end.
 */
unsigned ccmm_cost_nr(void);
unsigned ccmm_counter_nr(void);
const struct ccmm_cost_info *ccmm_cost_at(unsigned i, const char **subsys);
const struct ccmm_counter_info *ccmm_counter_at(unsigned i, const char **subsys);

/*
 * ccmm_costs_check - whether every [cost] line of @p names a registered
 * cost. 0, or -ENOENT with @err (when not NULL) at the line, with the
 * closest name as a suggestion. ccmm_boot() refuses such a platform
 * (-EINVAL); job loading reports it first.
 */
int ccmm_costs_check(const struct ccmm_platform *p, struct ccmm_error *err);

/* Every registered rule, by name; NULL when unknown. */
const struct ccmm_rule *ccmm_rule_find(const char *name);

/* Iterate every registered rule, subsystem by subsystem in init order: the @i-th, or NULL past the end. */
const struct ccmm_rule *ccmm_rule_at(size_t i);

#pragma GCC visibility pop

#endif
