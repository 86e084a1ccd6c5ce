// SPDX-License-Identifier: MIT
/* The sync subsystem's rules and per-machine state: the quarantine of released fences. */
#include <errno.h>
#include <stdlib.h>

#include "sync/internal.h"

#define RULE(id, seedno, text) const struct ccmm_rule ccmm_rule_##id = { #id, seedno, text }

RULE(ww_lock_after_done, "001", "a ww_mutex was locked after ww_acquire_done() on its acquire context");
RULE(ww_class_mismatch, "001", "a ww_mutex was locked with an acquire context of another ww_class");
RULE(ww_edeadlk_ignored, "001",
     "after -EDEADLK a context did not back off: it took another lock, or kept locks while taking the contended one");
RULE(ww_fini_held, "001", "ww_acquire_fini() with locks still held through the context");
RULE(mutex_not_owner, "001", "a mutex was unlocked (or destroyed) by a thread that does not hold it");
RULE(mutex_self_deadlock, "001", "a thread locked a mutex it already holds (it would wait for itself forever)");
RULE(fence_use_after_put, "001", "a dma_fence was used after its last reference was dropped");
RULE(fence_release_pending, "001", "a dma_fence was released unsignalled with callbacks still pending");
RULE(fence_bad_error, "001", "dma_fence_set_error() after the fence signalled, or with a value that is not an errno");
RULE(resv_not_locked, "001",
     "a call that needs the reservation lock (dma_resv_assert_held) was made without holding it");
RULE(resv_no_slot, "001", "dma_resv_add_fence() without a slot reserved by dma_resv_reserve_fences()");
RULE(resv_reserve_zero, "001", "dma_resv_reserve_fences() for zero fences (the number of fences to add was miscounted)");

const struct ccmm_rule *const ccmm_sync_rules[] = {
	&ccmm_rule_ww_lock_after_done,
	&ccmm_rule_ww_class_mismatch,
	&ccmm_rule_ww_edeadlk_ignored,
	&ccmm_rule_ww_fini_held,
	&ccmm_rule_mutex_not_owner,
	&ccmm_rule_mutex_self_deadlock,
	&ccmm_rule_fence_use_after_put,
	&ccmm_rule_fence_release_pending,
	&ccmm_rule_fence_bad_error,
	&ccmm_rule_resv_not_locked,
	&ccmm_rule_resv_no_slot,
	&ccmm_rule_resv_reserve_zero,
	NULL,
};

/* Released fences kept so a later use is caught; the oldest is freed beyond this many. */
#define QUARANTINE 4096

struct sync_state {
	pthread_mutex_t lock;
	struct ccmm_dma_fence *q[QUARANTINE];
	size_t head, nr;
};

static void fence_free(struct ccmm_dma_fence *f)
{
	pthread_mutex_destroy(&f->lock);
	pthread_cond_destroy(&f->cond);
	free(f);
}

void sync_quarantine(struct ccmm_machine *m, struct ccmm_dma_fence *f)
{
	struct sync_state *s = m->sub[CCMM_SUB_SYNC];
	struct ccmm_dma_fence *victim = NULL;

	if (!s) {
		fence_free(f);
		return;
	}
	pthread_mutex_lock(&s->lock);
	if (s->nr == QUARANTINE) {
		victim = s->q[s->head];
		s->q[s->head] = f;
		s->head = (s->head + 1) % QUARANTINE;
	} else {
		s->q[(s->head + s->nr++) % QUARANTINE] = f;
	}
	pthread_mutex_unlock(&s->lock);
	if (victim)
		fence_free(victim);
}

int ccmm_sync_init(struct ccmm_machine *m)
{
	struct sync_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	m->sub[CCMM_SUB_SYNC] = s;
	return 0;
}

void ccmm_sync_fini(struct ccmm_machine *m)
{
	struct sync_state *s = m->sub[CCMM_SUB_SYNC];

	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		fence_free(s->q[(s->head + i) % QUARANTINE]);
	pthread_mutex_destroy(&s->lock);
	free(s);
	m->sub[CCMM_SUB_SYNC] = NULL;
}
