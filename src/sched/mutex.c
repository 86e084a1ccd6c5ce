// SPDX-License-Identifier: MIT
/* struct mutex on a wait queue: sleeping, owned by current, counted by lockstat. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sched/sched.h"

static void mutex_force_unlock(struct ccmm_lock_dep *dep)
{
	struct ccmm_mutex *m = (struct ccmm_mutex *)((char *)dep - offsetof(struct ccmm_mutex, dep));

	pthread_mutex_lock(&m->wq.lock);
	atomic_store_explicit(&dep->holder, NULL, memory_order_relaxed);
	dep->held_next = NULL;
	m->owner = NULL;
	ccmm_wake_up_locked(NULL, &m->wq, 0);
	pthread_mutex_unlock(&m->wq.lock);
}

void ccmm_mutex_init(struct ccmm_mutex *m, const char *name)
{
	ccmm_init_waitqueue_head(&m->wq, NULL);
	m->owner = NULL;
	memset(&m->dep, 0, sizeof(m->dep));
	m->dep.name = name;
	m->dep.force_unlock = mutex_force_unlock;
}

int ccmm_mutex_destroy(struct ccmm_mutex *m)
{
	if (m->owner)
		return -EBUSY;
	ccmm_destroy_waitqueue_head(&m->wq);
	return 0;
}

int ccmm_mutex_lock(struct ccmm_ctx *ctx, struct ccmm_mutex *m)
{
	const void *me = ccmm_current_owner();
	struct ccmm_ctx *clk = ccmm_sched_clock(ctx);
	struct ccmm_sched_entity *se = ccmm_current();
	uint64_t t0;
	bool slept = false;

	ccmm_sched_point(CCMM_SP_LOCK, m->dep.name);
	t0 = clk ? clk->now_ns : 0;
	pthread_mutex_lock(&m->wq.lock);
	if (m->owner == me) {
		pthread_mutex_unlock(&m->wq.lock);
		return -EDEADLK;
	}
	while (m->owner) {
		slept = true;
		if (se)
			snprintf(se->blocked_on, sizeof(se->blocked_on), "mutex %s held by %s", m->dep.name ? m->dep.name : "?",
				 ccmm_lock_holder_name(&m->dep));
		ccmm_wait_locked(ctx, &m->wq, NULL, 0);
	}
	m->owner = me;
	ccmm_lock_acquired(ctx, &m->dep, t0, slept);
	pthread_mutex_unlock(&m->wq.lock);
	return 0;
}

bool ccmm_mutex_trylock(struct ccmm_ctx *ctx, struct ccmm_mutex *m)
{
	struct ccmm_ctx *clk;
	bool got = false;

	clk = ccmm_sched_clock(ctx);
	pthread_mutex_lock(&m->wq.lock);
	/* free now: taken (the clock moves up to its release, as for a lock) */
	if (!m->owner) {
		m->owner = ccmm_current_owner();
		ccmm_lock_acquired(ctx, &m->dep, clk ? clk->now_ns : 0, false);
		got = true;
	}
	pthread_mutex_unlock(&m->wq.lock);
	return got;
}

int ccmm_mutex_unlock(struct ccmm_ctx *ctx, struct ccmm_mutex *m)
{
	pthread_mutex_lock(&m->wq.lock);
	if (m->owner != ccmm_current_owner()) {
		pthread_mutex_unlock(&m->wq.lock);
		return -EPERM;
	}
	ccmm_lock_released(ctx, &m->dep);
	m->owner = NULL;
	ccmm_wake_up_locked(ctx, &m->wq, 1);
	pthread_mutex_unlock(&m->wq.lock);
	return 0;
}

bool ccmm_mutex_is_locked(struct ccmm_mutex *m)
{
	bool r;

	pthread_mutex_lock(&m->wq.lock);
	r = m->owner != NULL;
	pthread_mutex_unlock(&m->wq.lock);
	return r;
}

bool ccmm_mutex_held(struct ccmm_mutex *m)
{
	bool r;

	pthread_mutex_lock(&m->wq.lock);
	r = m->owner == ccmm_current_owner();
	pthread_mutex_unlock(&m->wq.lock);
	return r;
}
