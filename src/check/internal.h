/* SPDX-License-Identifier: MIT */
/* check/ internals shared between checker.c, events.c and states.c. */
#ifndef CCMM_CHECK_INTERNAL_H
#define CCMM_CHECK_INTERNAL_H

#include "check/check.h"

/*
 * Record a violation of @rule for access @a (may be NULL) at @addr, with
 * the accessor's walk @w (may be NULL) and physical address @pa (~0: none).
 * Must be called without the page's chunk lock held.
 */
void _ccmm_check_record(struct ccmm_ctx *ctx, const struct ccmm_rule *rule, const struct ccmm_access *a,
		       uint64_t addr, const struct ccmm_walk *w, uint64_t pa, enum ccmm_outcome outcome,
		       const char *fmt, ...) CCMM_PRINTF(8, 9);

/* Whether any page in [base, base+size) other than @except is private or pending (SNP 1 GiB host leaves). */
bool _ccmm_check_private_in(struct ccmm_machine *m, uint64_t base, uint64_t size, uint64_t except);

/* The subsystem's init and exit (events.c): attach a checker and install the map hook; undo it. */
int _ccmm_check_init(struct ccmm_machine *m);
void _ccmm_check_fini(struct ccmm_machine *m);

#endif
