/* SPDX-License-Identifier: MIT */
/* sync/ internals shared by the ww_mutex, fence and reservation code. */
#ifndef CCMM_SYNC_INTERNAL_H
#define CCMM_SYNC_INTERNAL_H

#include "sync/sync.h"

/* Record a violation of @rule through @ctx; nothing when @ctx is NULL. */
#define sync_violation(ctx, rule, ...)                                 \
	do {                                                           \
		struct ccmm_ctx *ctx_ = (ctx);                         \
		if (ctx_ && ctx_->m)                                   \
			ccmm_violation(ctx_, (rule), ~0ULL, __VA_ARGS__); \
	} while (0)

/* The quarantine of released fences (the subsystem's per-machine state). */
void _ccmm_sync_quarantine(struct ccmm_machine *m, struct ccmm_dma_fence *f);

#endif
