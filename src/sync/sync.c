// SPDX-License-Identifier: MIT
/* The sync subsystem's rules and per-machine state: the quarantine of released fences. */
#include <errno.h>
#include <stdlib.h>

#include "sync/internal.h"

CCMM_RULES_DEFINE(sync_rules, CCMM_SYNC_RULES);
CCMM_COST_BLOCK_DEFINE(sync, CCMM_SYNC_COSTS, CCMM_SYNC_COUNTERS);


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
	ccmm_destroy_waitqueue_head(&f->wq);
	free(f);
}

void _ccmm_sync_quarantine(struct ccmm_machine *m, struct ccmm_dma_fence *f)
{
	struct sync_state *s = ccmm_subsys_data(m, &ccmm_subsys_sync);
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

static int sync_init(struct ccmm_machine *m)
{
	struct sync_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	pthread_mutex_init(&s->lock, NULL);
	ccmm_subsys_set_data(m, &ccmm_subsys_sync, s);
	return 0;
}

static void sync_exit(struct ccmm_machine *m)
{
	struct sync_state *s = ccmm_subsys_data(m, &ccmm_subsys_sync);

	if (!s)
		return;
	for (size_t i = 0; i < s->nr; i++)
		fence_free(s->q[(s->head + i) % QUARANTINE]);
	pthread_mutex_destroy(&s->lock);
	free(s);
	ccmm_subsys_set_data(m, &ccmm_subsys_sync, NULL);
}

struct ccmm_subsys ccmm_subsys_sync = {
	.name = "sync",
	.init = sync_init,
	.exit = sync_exit,
	.rules = sync_rules,
	.block = &ccmm_sync_block,
};
