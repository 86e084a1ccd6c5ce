/* SPDX-License-Identifier: MIT */
/*
 * subsys.h - how a subsystem registers itself, once, beside its code
 * (the kernel's initcalls: a subsystem's init is listed by the build, not
 * by the code that boots the machine).
 *
 *   src/NAME/...c        struct ccmm_subsys ccmm_subsys_NAME (name,
 *                        init/exit, its rules, its costs and counters,
 *                        its machine-wide figures)
 *   meson.build          one line: NAME in ccmm_subsystems, in init order
 *   src/boot/            the build generates the table of every subsystem
 *                        and boots them in that order (boot/boot.h)
 *   src/scenario/kinds/  NAME.c: the subsystem's actor kinds and its part
 *                        in every run (scenario/scenario.h), if it has any
 *
 * A subsystem keeps its per-machine state in m->sub[], at the slot the
 * registry gave it (ccmm_subsys_data / ccmm_subsys_set_data).
 *
 * Locking: registration data is constant once the first machine booted.
 */
#ifndef CCMM_SUBSYS_H
#define CCMM_SUBSYS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "platform/platform.h"

struct ccmm_rule;

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

/* A subsystem's figures: fill up to @max of them, return how many. */
typedef size_t (*ccmm_stats_fn)(struct ccmm_machine *m, struct ccmm_stat *out, size_t max);

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

/*
 * struct ccmm_subsys - one subsystem of layers 2 and 3, as it registers
 * itself. Every member but @name may be NULL.
 */
struct ccmm_subsys {
	const char *name;                      /* the folder's name: "swiotlb", "dma-buf" */
	/* bring the subsystem up on a new machine: 0 or a negative errno (-ENOMEM ...) */
	int (*init)(struct ccmm_machine *m);
	/* tear it down; called in reverse init order, also after a later init failed */
	void (*exit)(struct ccmm_machine *m);
	const struct ccmm_rule *const *rules;  /* its rules, NULL-terminated (CCMM_RULES_DEFINE) */
	struct ccmm_cost_block *block;         /* its costs and counters (CCMM_COST_BLOCK_DEFINE) */
	ccmm_stats_fn stats;                   /* its machine-wide figures for reports */
	unsigned id;                           /* its slot in m->sub[]: set by the registry */
};

/* Per-machine state of subsystem @s (NULL before its init). */
static inline void *ccmm_subsys_data(const struct ccmm_machine *m, const struct ccmm_subsys *s)
{
	return m->sub[s->id];
}

static inline void ccmm_subsys_set_data(struct ccmm_machine *m, const struct ccmm_subsys *s, void *data)
{
	m->sub[s->id] = data;
}

#endif /* CCMM_SUBSYS_H */
