// SPDX-License-Identifier: MIT
/*
 * Wound/wait mutexes (kernel/locking/ww_mutex.h semantics). Uncontended:
 * one compare-and-swap on the owner word. Contended: the class's wait
 * queue lock is taken, the waiter is queued in stamp order and sleeps on
 * the class's wait queue (sched/: a real condition wait on plain threads,
 * a suspended actor under the engine); every release, wound and new owner
 * wakes it so waiters re-check whether they must back off. The owner is
 * current (an actor or kernel thread), or the calling thread outside any.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "sync/internal.h"

#define WW_MAGIC 0x77776d78u  /* "wwmx" */
#define ACQ_MAGIC 0x61637178u /* "acqx" */

struct ccmm_ww_waiter {
	struct ccmm_ww_waiter *next;
	struct ccmm_ww_acquire_ctx *acq; /* NULL: a plain mutex_lock */
};

/* The owner word holds current (sched/): the entity running, or the calling thread. */
static const void *self(void)
{
	return ccmm_current_owner();
}

void ccmm_ww_class_init(struct ccmm_ww_class *c, const char *name, bool wait_die)
{
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->is_wait_die = wait_die;
	atomic_init(&c->stamp, 1);
	ccmm_init_waitqueue_head(&c->wq, NULL);
}

void ccmm_ww_class_destroy(struct ccmm_ww_class *c)
{
	ccmm_destroy_waitqueue_head(&c->wq);
}

/* Wake every sleeper of the class so each re-checks its lock. */
static void broadcast(struct ccmm_ww_class *c)
{
	ccmm_wq_lock(&c->wq);
	ccmm_wake_up_locked(NULL, &c->wq, 0);
	ccmm_wq_unlock(&c->wq);
}

/* The engine gave up on the holder (it can never run again): the lock is free; its context is not touched. */
static void ww_force_unlock(struct ccmm_lock_dep *dep)
{
	struct ccmm_ww_mutex *lock = (struct ccmm_ww_mutex *)((char *)dep - offsetof(struct ccmm_ww_mutex, dep));

	atomic_store_explicit(&dep->holder, NULL, memory_order_relaxed);
	dep->held_next = NULL;
	atomic_store(&lock->ctx, NULL);
	atomic_store(&lock->owner, NULL);
	broadcast(lock->ww_class);
}

void ccmm_ww_mutex_init(struct ccmm_ww_mutex *lock, struct ccmm_ww_class *c)
{
	atomic_init(&lock->owner, NULL);
	atomic_init(&lock->ctx, NULL);
	atomic_init(&lock->waiters, 0);
	lock->ww_class = c;
	lock->wait_list = NULL;
	memset(&lock->dep, 0, sizeof(lock->dep));
	lock->dep.name = c->name;
	lock->dep.force_unlock = ww_force_unlock;
	lock->magic = WW_MAGIC;
}

int ccmm_ww_mutex_destroy(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock)
{
	if (atomic_load(&lock->owner)) {
		sync_violation(ctx, &ccmm_rule_mutex_not_owner, "ww_mutex of class %s destroyed while held",
			       lock->ww_class ? lock->ww_class->name : "?");
		return -EBUSY;
	}
	lock->magic = 0;
	return 0;
}

void ccmm_ww_acquire_init(struct ccmm_ww_acquire_ctx *acq, struct ccmm_ww_class *c)
{
	acq->ww_class = c;
	acq->stamp = atomic_fetch_add(&c->stamp, 1);
	acq->acquired = 0;
	atomic_init(&acq->wounded, false);
	acq->done_acquire = false;
	acq->contending_lock = NULL;
	acq->magic = ACQ_MAGIC;
}

void ccmm_ww_acquire_done(struct ccmm_ctx *ctx, struct ccmm_ww_acquire_ctx *acq)
{
	(void)ctx;
	acq->done_acquire = true;
}

int ccmm_ww_acquire_fini(struct ccmm_ctx *ctx, struct ccmm_ww_acquire_ctx *acq)
{
	if (acq->acquired) {
		sync_violation(ctx, &ccmm_rule_ww_fini_held,
			       "ww_acquire_fini with %u lock(s) of class %s still held through the context", acq->acquired,
			       acq->ww_class->name);
		return -EBUSY;
	}
	acq->magic = 0;
	return 0;
}

/* Queue @w: context waiters in stamp order (oldest first), plain waiters at the tail. */
static void enqueue(struct ccmm_ww_mutex *lock, struct ccmm_ww_waiter *w)
{
	struct ccmm_ww_waiter **pp = &lock->wait_list;

	while (*pp) {
		struct ccmm_ww_waiter *cur = *pp;

		if (w->acq && (!cur->acq || cur->acq->stamp > w->acq->stamp))
			break;
		pp = &cur->next;
	}
	w->next = *pp;
	*pp = w;
}

static void dequeue(struct ccmm_ww_mutex *lock, struct ccmm_ww_waiter *w)
{
	for (struct ccmm_ww_waiter **pp = &lock->wait_list; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			return;
		}
	}
}

/*
 * Must @acq back off instead of waiting for @lock? Class lock held. A
 * context holding nothing can never be part of a deadlock: it waits.
 *   wound-wait: back off once an older transaction has wounded us
 *   wait-die:   die if the holder, or a waiter queued ahead, is older
 */
static bool must_back_off(struct ccmm_ww_mutex *lock, struct ccmm_ww_waiter *w, struct ccmm_ww_acquire_ctx *acq)
{
	struct ccmm_ww_acquire_ctx *holder;

	if (!acq->acquired)
		return false;
	if (!acq->ww_class->is_wait_die)
		return atomic_load(&acq->wounded);
	/*
	 * The holder cannot finish unlocking (and free its context) while we
	 * hold the class lock: it saw our waiter count and takes this lock to
	 * broadcast.
	 */
	holder = atomic_load(&lock->ctx);
	if (holder && holder != acq && holder->stamp < acq->stamp)
		return true;
	for (struct ccmm_ww_waiter *cur = lock->wait_list; cur && cur != w; cur = cur->next)
		if (cur->acq && cur->acq->stamp < acq->stamp)
			return true;
	return false;
}

/* wound-wait: an older requester holding locks wounds a younger holder. Class lock held. */
static void wound_holder(struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq)
{
	struct ccmm_ww_acquire_ctx *holder;

	if (acq->ww_class->is_wait_die || !acq->acquired)
		return;
	holder = atomic_load(&lock->ctx);
	if (holder && holder != acq && holder->stamp > acq->stamp && !atomic_exchange(&holder->wounded, true)) {
		atomic_fetch_add(&acq->ww_class->wounds, 1);
		/* the holder may sleep on another lock of the class: wake it to notice */
		ccmm_wake_up_locked(NULL, &acq->ww_class->wq, 0);
	}
}

/*
 * The owner word is ours: lockstat, the modeled wait (the clock moves up to
 * the release that woke us, or past a hold it came in the middle of) and
 * the acquire context. The previous holder wrote dep's release before it
 * cleared the owner word.
 */
static void set_acquired(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq,
			 uint64_t t0, bool slept)
{
	ccmm_lock_acquired(ctx, &lock->dep, t0, slept);
	if (acq) {
		/* ordered against the waiter count: sleepers read it to wound or die */
		atomic_store(&lock->ctx, acq);
		acq->acquired++;
		acq->contending_lock = NULL;
	}
}

/* The checks the kernel's DEBUG_WW_MUTEXES makes before a lock. 0, or the errno to return. */
static int pre_checks(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq, bool slow)
{
	if (lock->magic != WW_MAGIC)
		return -EINVAL;
	if (!acq) {
		if (atomic_load(&lock->owner) == self()) {
			sync_violation(ctx, &ccmm_rule_mutex_self_deadlock,
				       "a thread locked a ww_mutex of class %s it already holds, without an acquire context: "
				       "it would wait for itself forever",
				       lock->ww_class->name);
			return -EDEADLK;
		}
		return 0;
	}
	if (acq->magic != ACQ_MAGIC)
		return -EINVAL;
	if (acq->ww_class != lock->ww_class) {
		sync_violation(ctx, &ccmm_rule_ww_class_mismatch,
			       "a ww_mutex of class %s locked with an acquire context of class %s", lock->ww_class->name,
			       acq->ww_class->name);
		return -EINVAL;
	}
	if (atomic_load(&lock->ctx) == acq)
		return -EALREADY;
	if (acq->done_acquire)
		sync_violation(ctx, &ccmm_rule_ww_lock_after_done,
			       "a ww_mutex of class %s locked after ww_acquire_done() on its context", acq->ww_class->name);
	if (acq->contending_lock && (acq->contending_lock != lock || acq->acquired)) {
		sync_violation(ctx, &ccmm_rule_ww_edeadlk_ignored,
			       acq->contending_lock != lock
				       ? "after -EDEADLK the context locked a different ww_mutex instead of the contended one"
				       : "after -EDEADLK the context relocked the contended ww_mutex with %u lock(s) still held",
			       acq->acquired);
		return -EDEADLK;
	}
	if (slow && acq->acquired) {
		sync_violation(ctx, &ccmm_rule_ww_edeadlk_ignored,
			       "ww_mutex_lock_slow with %u lock(s) still held through the context: it could deadlock",
			       acq->acquired);
		return -EDEADLK;
	}
	if (!acq->acquired)
		atomic_store(&acq->wounded, false); /* nothing held: nothing to give back */
	return 0;
}

static int lock_common(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq, bool slow)
{
	struct ccmm_ww_class *c = lock->ww_class;
	struct ccmm_ww_waiter w = { NULL, acq };
	struct ccmm_sched_entity *se = ccmm_current();
	const void *expected = NULL;
	struct ccmm_ctx *clk;
	bool slept = false;
	uint64_t t0;
	int ret = pre_checks(ctx, lock, acq, slow);

	if (ret)
		return ret;
	ccmm_sched_point(CCMM_SP_LOCK, c->name);
	clk = ccmm_sched_clock(ctx);
	t0 = clk ? clk->now_ns : 0;
	/* no queue jumping: with sleepers queued, newcomers queue too (the kernel's handoff) */
	if (!atomic_load(&lock->waiters) && atomic_compare_exchange_strong(&lock->owner, &expected, self())) {
		set_acquired(ctx, lock, acq, t0, false);
		/* waiters re-check die/wound against their new holder */
		if (acq && atomic_load(&lock->waiters))
			broadcast(c);
		return 0;
	}

	ccmm_wq_lock(&c->wq);
	enqueue(lock, &w);
	atomic_fetch_add(&lock->waiters, 1);
	for (;;) {
		expected = NULL;
		/* the lock goes to the head of the queue: the oldest transaction, or the first plain waiter */
		if (lock->wait_list == &w && atomic_compare_exchange_strong(&lock->owner, &expected, self()))
			break;
		if (acq) {
			if (must_back_off(lock, &w, acq)) {
				ret = -EDEADLK;
				break;
			}
			wound_holder(lock, acq);
		}
		if (se)
			snprintf(se->blocked_on, sizeof(se->blocked_on), "%s held by %s", c->name,
				 ccmm_lock_holder_name(&lock->dep));
		slept = true;
		ccmm_wait_locked(ctx, &c->wq, NULL, 0);
	}
	dequeue(lock, &w);
	atomic_fetch_sub(&lock->waiters, 1);
	if (ret == -EDEADLK) {
		acq->contending_lock = lock;
		atomic_fetch_add(&c->deadlocks, 1);
	} else if (!ret) {
		set_acquired(ctx, lock, acq, t0, slept);
	}
	/* a new head of the queue (and waiters checking die/wound against a new holder) */
	if (lock->wait_list)
		ccmm_wake_up_locked(NULL, &c->wq, 0);
	ccmm_wq_unlock(&c->wq);
	return ret;
}

int ccmm_ww_mutex_lock(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq)
{
	return lock_common(ctx, lock, acq, false);
}

int ccmm_ww_mutex_lock_slow(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq)
{
	int ret = lock_common(ctx, lock, acq, true);

	/* with nothing held a context never backs off, so this is 0 or a misuse errno */
	return ret;
}

int ccmm_ww_mutex_trylock(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq)
{
	const void *expected = NULL;

	if (lock->magic != WW_MAGIC)
		return 0;
	if (acq) {
		if (acq->magic != ACQ_MAGIC)
			return 0;
		if (acq->ww_class != lock->ww_class) {
			sync_violation(ctx, &ccmm_rule_ww_class_mismatch,
				       "a ww_mutex of class %s trylocked with an acquire context of class %s",
				       lock->ww_class->name, acq->ww_class->name);
			return 0;
		}
		if (!acq->acquired)
			atomic_store(&acq->wounded, false);
	}
	if (!atomic_compare_exchange_strong(&lock->owner, &expected, self()))
		return 0;
	{
		struct ccmm_ctx *clk = ccmm_sched_clock(ctx);

		set_acquired(ctx, lock, acq, clk ? clk->now_ns : 0, false);
	}
	if (acq && atomic_load(&lock->waiters))
		broadcast(lock->ww_class);
	return 1;
}

int ccmm_ww_mutex_unlock(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock)
{
	struct ccmm_ww_acquire_ctx *acq;

	if (lock->magic != WW_MAGIC)
		return -EINVAL;
	if (atomic_load(&lock->owner) != self()) {
		sync_violation(ctx, &ccmm_rule_mutex_not_owner, "a thread unlocked a ww_mutex of class %s it does not hold (%s)",
			       lock->ww_class->name, atomic_load(&lock->owner) ? "another thread holds it" : "it is free");
		return -EPERM;
	}
	acq = atomic_load_explicit(&lock->ctx, memory_order_relaxed);
	if (acq) {
		acq->acquired--;
		atomic_store(&lock->ctx, NULL);
	}
	ccmm_lock_released(ctx, &lock->dep);
	/* sequentially consistent with the waiter count a sleeper increments before it checks */
	atomic_store(&lock->owner, NULL);
	if (atomic_load(&lock->waiters))
		broadcast(lock->ww_class);
	return 0;
}

bool ccmm_ww_mutex_is_locked(struct ccmm_ww_mutex *lock)
{
	return atomic_load(&lock->owner) != NULL;
}

bool ccmm_ww_mutex_held(struct ccmm_ww_mutex *lock)
{
	return atomic_load(&lock->owner) == self();
}
