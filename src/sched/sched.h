/* SPDX-License-Identifier: MIT */
/*
 * sched.h - waiting, sleeping locks and kernel threads (layer 1), the one
 * primitive every mechanism blocks through, in the kernel's vocabulary:
 * wait queues (wait_event / wake_up), a sleeping mutex, kernel threads and
 * work queues, "current", lockstat.
 *
 *   mechanism code (sync/, mm/, sgx/, ttm/ ...)
 *        |  ccmm_wait_locked / ccmm_wake_up / ccmm_mutex_lock / ccmm_sched_point
 *        v
 *   struct ccmm_sched_entity (the running task: an actor or a kernel thread)
 *        |  se->sched: the scheduler that runs it (a hook table)
 *        v
 *   ops->sleep / wakeup / point / kthread_start  -- plugged in at run time
 *        by the scenario engine (sim mode: each entity on its own stack,
 *        suspended while it sleeps; threads mode: real threads)
 *
 *   no entity (a plain thread, e.g. a unit test): a real condition wait.
 *
 * The same mechanism code runs under every scheduler: nothing here or above
 * asks which one it is.
 *
 * Modeled time: a woken entity's clock moves up to the waker's time; a lock
 * taken after its previous holder let go moves the taker's clock up to that
 * release (the wait it would have had). Every acquisition, contention, wait
 * and hold is counted per lock class and per entity (lockstat).
 *
 * Timeouts: under an engine scheduler they are modeled (a sleeper times
 * out when nothing else can run before its deadline: under the default
 * plan once every runnable entity's clock is past it, under an exploring
 * plan when nothing can run at all); on plain threads they are wall time.
 *
 * Locking: a wait queue's lock (a short, non-sleeping mutex) protects its
 * list and whatever condition its users put under it; it is never held
 * across a sleep, a scheduling point or another sleeping lock. Nothing
 * that can sleep (or is a scheduling point) may be called with a
 * non-sleeping lock (pthread mutex, a wait queue's lock) held, except
 * ccmm_wait_locked itself, which drops the queue's lock while asleep.
 */
#ifndef CCMM_SCHED_H
#define CCMM_SCHED_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

struct ccmm_sched;
struct ccmm_sched_entity;
struct ccmm_wait_queue_head;
struct ccmm_wait_queue_entry;
struct ccmm_kthread;

/* ------------------------------------------------------------------ */
/* lockstat                                                            */
/* ------------------------------------------------------------------ */

/*
 * One class's figures (for one entity, or summed), as
 * /proc/lock_stat: acquisitions, contentions, waittime-total/max and
 * holdtime-total/max, in modeled ns. For a wait queue (@is_wait) only
 * the waits count: waits, their total and maximum.
 */
struct ccmm_lock_stat {
	const char *name;        /* the class: a lock's, or a wait queue's name */
	bool is_wait;            /* a wait (fence, reclaim, event) rather than a lock */
	uint64_t acquisitions;   /* locks taken, or waits that slept */
	uint64_t contentions;    /* acquisitions that waited (slept, or found it released later in modeled time) */
	uint64_t wait_total_ns, wait_max_ns;
	uint64_t hold_total_ns, hold_max_ns;
};

#define CCMM_LOCK_HOLDS 8 /* the last holds a lock remembers, in modeled time */

/*
 * struct ccmm_lock_dep - what every sleeping lock carries for lockdep and
 * lockstat: its class name, the holder, when it was taken and last let go
 * (modeled), the last CCMM_LOCK_HOLDS holds ([from, to) in modeled time,
 * a ring), its place on the holder's list of held locks, and how an engine
 * releases it when the holder can never run again (a run that ended in a
 * deadlock). The lock's own internal lock protects it.
 */
struct ccmm_lock_dep {
	const char *name;
	_Atomic(struct ccmm_sched_entity *) holder; /* read by waiters for their reports (relaxed) */
	struct ccmm_lock_dep *held_next;
	uint64_t acquired_ns, released_ns;
	struct {
		uint64_t from, to;
	} holds[CCMM_LOCK_HOLDS];
	unsigned next_hold;
	void (*force_unlock)(struct ccmm_lock_dep *dep);
};

/* ------------------------------------------------------------------ */
/* Entities and current                                                */
/* ------------------------------------------------------------------ */

/*
 * struct ccmm_sched_entity - what a scheduler runs: an actor or a kernel
 * thread (the scheduling part of a task_struct). Its clock is @ctx's.
 */
struct ccmm_sched_entity {
	const char *name;
	int id;                        /* the actor's index in its job; -1: a kernel thread */
	struct ccmm_ctx *ctx;          /* its modeled clock, costs and counters */
	struct ccmm_sched *sched;      /* who runs it; NULL: a plain thread */
	void *priv;                    /* the scheduler's */
	struct ccmm_lock_dep *held;    /* sleeping locks it holds, latest first */
	struct ccmm_lock_stat *stats;  /* per class; written only by the entity itself */
	size_t nr_stats, cap_stats;
	char blocked_on[96];           /* while it sleeps: what for ("mutex mmap_lock held by [a]") */
	_Atomic bool killed;           /* set by a scheduler: its killable sleep ends with -EDEADLK */
};

/* Set up @se (@name is kept, not copied). */
void ccmm_sched_entity_init(struct ccmm_sched_entity *se, const char *name, int id, struct ccmm_ctx *ctx);
/* Free its lockstat table. */
void ccmm_sched_entity_fini(struct ccmm_sched_entity *se);

/* The entity running on this thread (the kernel's current), or NULL on a plain thread. */
struct ccmm_sched_entity *ccmm_current(void);
/* For schedulers: the entity this thread runs from now on (NULL: none). */
void ccmm_set_current(struct ccmm_sched_entity *se);
/*
 * Who owns what a lock taken now is taken by: current, or the calling
 * thread when it runs no entity. Never NULL.
 */
const void *ccmm_current_owner(void);

/* The clock a call charges: @ctx, else current's, else NULL. */
struct ccmm_ctx *ccmm_sched_clock(struct ccmm_ctx *ctx);

/* @se's figures for class @name (created zeroed; NULL when out of memory). For the lock code. */
struct ccmm_lock_stat *ccmm_lock_stat_of(struct ccmm_sched_entity *se, const char *name, bool is_wait);

/*
 * The lock code's bookkeeping, called with the lock's internal lock held:
 * acquired (by current, at the clock of @ctx; @t_request is the clock when
 * it asked, @slept whether it had to sleep) and released (the hold time is
 * counted). The taker's clock moves up to when it could have had the lock
 * in modeled time: after the release that woke it when it slept; else,
 * when its clock falls inside one of the remembered holds (the lock was
 * free when it came, but an entity ahead of it in modeled time held it
 * then), to that hold's end. A lock free at the taker's time costs no wait
 * however late another entity held it afterwards.
 */
void ccmm_lock_acquired(struct ccmm_ctx *ctx, struct ccmm_lock_dep *dep, uint64_t t_request, bool slept);
void ccmm_lock_released(struct ccmm_ctx *ctx, struct ccmm_lock_dep *dep);

/* The name of the entity holding @dep ("[a]", "ksgxd"), or "another thread" / "nobody". */
const char *ccmm_lock_holder_name(const struct ccmm_lock_dep *dep);

/* ------------------------------------------------------------------ */
/* Schedulers                                                          */
/* ------------------------------------------------------------------ */

/*
 * Where an entity may be switched for another (ccmm_sched_point): only
 * where the kernel may sleep or be preempted. Sleeping itself (a lock
 * found held, a wait) always switches. A trylock, an unlock or a wake_up
 * is no point: the kernel does them in atomic context too.
 */
enum ccmm_sched_point {
	CCMM_SP_STEP,    /* an actor's next op, a kernel thread's next round (cond_resched) */
	CCMM_SP_LOCK,    /* before a sleeping lock is taken (mutex_lock, ww_mutex_lock) */
	CCMM_SP_FAULT,   /* a page fault starts */
	CCMM_SP_IO,      /* a device starts work the CPU handed it */
	CCMM_SP_NR
};

/* "step", "lock", "fault", "io". */
const char *ccmm_sched_point_name(enum ccmm_sched_point p);

/*
 * struct ccmm_sched_ops - the hook table a scheduler plugs in. Every
 * hook is called by the entity itself (on its own stack / thread).
 */
struct ccmm_sched_ops {
	/*
	 * @se sleeps: @w is queued on @wq, whose lock the caller holds. Drop
	 * the lock, sleep until @w->woken (or the deadline @*timeout_ns from
	 * now, if @timeout_ns, in modeled time on @clk when there is one),
	 * take the lock again and return 0, -ETIMEDOUT (with @w dequeued and
	 * @clk at the deadline), or -EDEADLK when the scheduler found that
	 * nothing can ever wake a killable sleeper (@w dequeued). Update
	 * *@timeout_ns to what is left.
	 */
	int (*sleep)(struct ccmm_sched *s, struct ccmm_sched_entity *se, struct ccmm_wait_queue_head *wq,
		     struct ccmm_wait_queue_entry *w, struct ccmm_ctx *clk, int64_t *timeout_ns);
	/* @w (of an entity of this scheduler) was woken, @w's queue lock held: make it runnable. */
	void (*wakeup)(struct ccmm_sched *s, struct ccmm_wait_queue_entry *w);
	/* A scheduling point of @se (@name: the lock or what happens, may be NULL). */
	void (*point)(struct ccmm_sched *s, struct ccmm_sched_entity *se, enum ccmm_sched_point what,
		      const char *name);
	/* Run kernel thread @k from now on (0, or -errno). */
	int (*kthread_start)(struct ccmm_sched *s, struct ccmm_kthread *k);
	/* Stop kernel thread @k: it was asked to (ccmm_kthread_should_stop) and woken; wait until its function returned. */
	void (*kthread_stop)(struct ccmm_sched *s, struct ccmm_kthread *k);
};

struct ccmm_sched {
	const struct ccmm_sched_ops *ops;
};

/*
 * ccmm_sched_point - a place where the running entity may give way to
 * another (lock, wake, fault, an actor's step): the scheduler decides.
 * Nothing on plain threads. Must not be called with a non-sleeping lock
 * held.
 */
void ccmm_sched_point(enum ccmm_sched_point what, const char *name);

/* cond_resched(): a kernel thread's round is done; ccmm_sched_point(CCMM_SP_STEP). */
void ccmm_cond_resched(void);

/* ------------------------------------------------------------------ */
/* Wait queues                                                         */
/* ------------------------------------------------------------------ */

struct ccmm_wait_queue_entry {
	struct ccmm_wait_queue_entry *next, *prev;
	struct ccmm_wait_queue_head *wq; /* queued on (NULL: not queued) */
	struct ccmm_sched_entity *se;    /* the sleeper, or NULL (a plain thread) */
	struct ccmm_sched *sched;        /* its scheduler when it slept (NULL: plain) */
	pthread_cond_t cond;             /* plain and real-thread sleepers wait here */
	bool cond_init;
	bool killable;
	bool woken;
	uint64_t wake_ns;                /* the waker's modeled time */
	void *priv;                      /* the scheduler's */
};

struct ccmm_wait_queue_head {
	pthread_mutex_t lock;            /* the queue's lock (spin_lock(&wq->lock)) */
	struct ccmm_wait_queue_entry *first, *last;
	const char *name;                /* for lockstat's waits and deadlock reports; NULL: a lock's own queue */
};

/* DECLARE_WAIT_QUEUE_HEAD: a static initializer. */
#define CCMM_WAIT_QUEUE_HEAD_INIT(n) { .lock = PTHREAD_MUTEX_INITIALIZER, .first = NULL, .last = NULL, .name = (n) }

/* init_waitqueue_head. @name (kept, not copied) names its waits in lockstat; NULL: not counted. */
void ccmm_init_waitqueue_head(struct ccmm_wait_queue_head *wq, const char *name);
/* Its lock must be free and nobody queued. */
void ccmm_destroy_waitqueue_head(struct ccmm_wait_queue_head *wq);

/* spin_lock(&wq->lock) / spin_unlock. */
void ccmm_wq_lock(struct ccmm_wait_queue_head *wq);
void ccmm_wq_unlock(struct ccmm_wait_queue_head *wq);

/*
 * waitqueue_active: somebody sleeps on @wq (a waker that finds nobody may
 * skip its wake-up, the sleeper re-checking its condition before it
 * sleeps). @wq's lock held.
 */
bool ccmm_waitqueue_active(const struct ccmm_wait_queue_head *wq);

#define CCMM_WAIT_KILLABLE 0x1 /* when nothing else can run, a scheduler may end the sleep with -EDEADLK */

/*
 * ccmm_wait_locked - one sleep of wait_event_*_locked: the caller holds
 * @wq's lock and found its condition false; sleep until woken, then
 * return with the lock held again (the caller checks the condition once
 * more). @timeout_ns (NULL: forever) is what is left of the wait, updated.
 * The sleeper's clock (@ctx, else current's) moves up to the waker's.
 * Returns 0 (woken), -ETIMEDOUT, or -EDEADLK (a killable sleep ended by
 * the scheduler: nothing could ever wake it).
 */
int ccmm_wait_locked(struct ccmm_ctx *ctx, struct ccmm_wait_queue_head *wq, int64_t *timeout_ns, unsigned flags);

/*
 * wait_event_locked(wq, condition): @ret (an int lvalue) gets 0 once
 * @condition holds, or ccmm_wait_locked's error. @wq's lock is held
 * around it by the caller, and the condition is evaluated under it.
 */
#define ccmm_wait_event_locked(ctx, wq, condition, timeout, flags, ret)                          \
	do {                                                                                     \
		(ret) = 0;                                                                       \
		while (!(condition))                                                             \
			if (((ret) = ccmm_wait_locked((ctx), (wq), (timeout), (flags))) != 0)   \
				break;                                                           \
	} while (0)

/* wait_event(wq, condition): the same, taking and dropping @wq's lock around it. */
#define ccmm_wait_event(ctx, wq, condition, timeout, flags, ret)                                  \
	do {                                                                                     \
		ccmm_wq_lock(wq);                                                                \
		ccmm_wait_event_locked((ctx), (wq), condition, (timeout), (flags), (ret));       \
		ccmm_wq_unlock(wq);                                                              \
	} while (0)

/*
 * wake_up_all: wake every sleeper of @wq at the waker's time (@ctx, else
 * current's clock). Returns how many were woken. _locked: @wq's lock
 * held, waking at most @nr (0: all). Neither sleeps nor is a scheduling
 * point: callable with non-sleeping locks held.
 */
unsigned ccmm_wake_up_all(struct ccmm_ctx *ctx, struct ccmm_wait_queue_head *wq);
unsigned ccmm_wake_up_locked(struct ccmm_ctx *ctx, struct ccmm_wait_queue_head *wq, unsigned nr);

/* For schedulers: take @w off its queue (its queue's lock held); false if it was not queued. */
bool ccmm_wait_dequeue(struct ccmm_wait_queue_entry *w);

/*
 * For schedulers on real threads: sleep on @w->cond (its queue's lock
 * held) until woken, until the wall-clock @deadline (CLOCK_MONOTONIC ns,
 * 0: none), or, when @poll_ns is not 0, until @poll returns true (checked
 * every @poll_ns). Returns 0, -ETIMEDOUT or -EDEADLK (polled) with @w
 * dequeued in the last two cases.
 */
int ccmm_wait_sleep_thread(struct ccmm_wait_queue_head *wq, struct ccmm_wait_queue_entry *w, int64_t deadline,
			   int64_t poll_ns, bool (*poll)(void *arg), void *arg);

/* CLOCK_MONOTONIC in ns. */
int64_t ccmm_mono_ns(void);

/* ------------------------------------------------------------------ */
/* struct mutex                                                        */
/* ------------------------------------------------------------------ */

/*
 * A sleeping mutex (kernel/locking/mutex.c): its waiters sleep through
 * the scheduler; every lock is a scheduling point. No recursion, no
 * handoff; released in the order it is found free.
 */
struct ccmm_mutex {
	struct ccmm_wait_queue_head wq;  /* its lock protects @owner and @dep */
	const void *owner;               /* ccmm_current_owner() of the holder; NULL: free */
	struct ccmm_lock_dep dep;
};

/* mutex_init: @name is its lock class (kept, not copied). */
void ccmm_mutex_init(struct ccmm_mutex *m, const char *name);
/* mutex_destroy: -EBUSY when it is held (nothing done then). */
int ccmm_mutex_destroy(struct ccmm_mutex *m);
/*
 * mutex_lock. 0, or -EDEADLK when the caller holds it already (the
 * kernel would hang; lockdep would report it).
 */
int ccmm_mutex_lock(struct ccmm_ctx *ctx, struct ccmm_mutex *m);
/* mutex_trylock: true if taken. */
bool ccmm_mutex_trylock(struct ccmm_ctx *ctx, struct ccmm_mutex *m);
/* mutex_unlock: 0, or -EPERM when the caller does not hold it (nothing done). */
int ccmm_mutex_unlock(struct ccmm_ctx *ctx, struct ccmm_mutex *m);
/* mutex_is_locked, and held by the caller (lockdep_is_held). */
bool ccmm_mutex_is_locked(struct ccmm_mutex *m);
bool ccmm_mutex_held(struct ccmm_mutex *m);

/* ------------------------------------------------------------------ */
/* Kernel threads and work queues                                      */
/* ------------------------------------------------------------------ */

/*
 * struct ccmm_kthread - a kernel thread of a machine (ksgxd, a work
 * queue's worker). Its function loops: sleep on @wq until there is work
 * or ccmm_kthread_should_stop(), do a round, ccmm_cond_resched(). It is
 * created with the machine (ccmm_kthread_create, in a subsystem's init)
 * and runs once a scheduler is attached (ccmm_sched_attach) or
 * ccmm_kthreads_start() gave it a thread.
 */
struct ccmm_kthread {
	char name[32];
	struct ccmm_machine *m;
	int (*threadfn)(struct ccmm_kthread *k, void *data);
	void *data;
	struct ccmm_ctx ctx;             /* its modeled clock, costs and counters */
	struct ccmm_sched_entity se;
	struct ccmm_wait_queue_head wq;  /* where it sleeps (ksgxd_waitq); ccmm_kthread_stop wakes it */
	_Atomic bool should_stop;
	_Atomic bool running;            /* started and not yet stopped */
	_Atomic uint64_t rounds;         /* wake-ups it acted on (for reports) */
	struct ccmm_kthread *next;       /* on m->kthreads */
	pthread_t thread;                /* on its own thread (ccmm_kthreads_start) */
	bool on_thread;
};

/*
 * ccmm_kthread_create - kthread_create(): register @k on @m, not running
 * yet. @name is copied. Called with the machine single-threaded (init).
 */
void ccmm_kthread_create(struct ccmm_machine *m, struct ccmm_kthread *k, const char *name,
			 int (*threadfn)(struct ccmm_kthread *k, void *data), void *data);
/*
 * Unregister @k (a subsystem's exit), stopping it first if it runs (as
 * kthread_stop: ask, wake, wait for its function to return).
 */
void ccmm_kthread_destroy(struct ccmm_kthread *k);
/* kthread_should_stop(). */
bool ccmm_kthread_should_stop(struct ccmm_kthread *k);
/* kthread_stop(): ask @k to stop, wake it, wait until it returned. Nothing if it does not run. */
void ccmm_kthread_stop(struct ccmm_kthread *k);

/*
 * ccmm_sched_attach - @s runs @m's kernel threads from now on: each is
 * started as one of its entities. 0, or the first start's -errno (the
 * ones started are stopped again). -EBUSY when another scheduler is
 * attached. ccmm_sched_detach stops them and detaches.
 */
int ccmm_sched_attach(struct ccmm_machine *m, struct ccmm_sched *s);
void ccmm_sched_detach(struct ccmm_machine *m);

/*
 * ccmm_kthreads_start - without an engine: run every kernel thread of @m
 * on a real thread of its own (the kernel's way; wall-time timeouts).
 * 0 or -errno. ccmm_kthreads_stop stops and joins them.
 */
int ccmm_kthreads_start(struct ccmm_machine *m);
void ccmm_kthreads_stop(struct ccmm_machine *m);

/* The kernel threads' function body for schedulers: runs @k's function with @k's entity current. */
int ccmm_kthread_run_fn(struct ccmm_kthread *k);

struct ccmm_work;
typedef void (*ccmm_work_func_t)(struct ccmm_ctx *ctx, struct ccmm_work *work);

/* struct work_struct. */
struct ccmm_work {
	ccmm_work_func_t func;
	void (*cancel)(struct ccmm_work *work); /* optional: it was queued and will never run */
	struct ccmm_work *next;
	bool pending;
	uint64_t queued_ns;                     /* the queuer's modeled time */
};

/* INIT_WORK. */
void ccmm_init_work(struct ccmm_work *work, ccmm_work_func_t func, void (*cancel)(struct ccmm_work *work));

/* An ordered work queue with one worker thread (alloc_ordered_workqueue). */
struct ccmm_workqueue {
	struct ccmm_kthread worker;
	struct ccmm_work *head, *tail;   /* worker.wq's lock */
	_Atomic uint64_t executed;
};

/* alloc_workqueue on @m: its worker is a kernel thread named @name. */
void ccmm_workqueue_create(struct ccmm_machine *m, struct ccmm_workqueue *wq, const char *name);
/* destroy_workqueue: stop the worker; work still queued is cancelled (work->cancel). */
void ccmm_workqueue_destroy(struct ccmm_workqueue *wq);
/*
 * queue_work: false if @work is pending already, else queue it and wake
 * the worker at the queuer's time (@ctx, else current's clock); the
 * worker's clock moves up to it.
 */
bool ccmm_queue_work(struct ccmm_ctx *ctx, struct ccmm_workqueue *wq, struct ccmm_work *work);

#pragma GCC visibility pop

#endif /* CCMM_SCHED_H */
