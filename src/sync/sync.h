/* SPDX-License-Identifier: MIT */
/*
 * sync.h - wound/wait mutexes, fences and reservation objects (layer 3),
 * the synchronisation dma-buf and TTM are built on (seed 001: "we have
 * defined what lock you need to hold when calling functions, what a DMA
 * fence is, when exchanged addresses are valid").
 *
 *   ww_class  (wound-wait or wait-die, a stamp counter)
 *      |
 *   ww_acquire_ctx  stamp = age of the transaction; acquired = locks held
 *      |
 *      |  lock A, lock B ...  contended by an older transaction?
 *      |     wound-wait: the older one wounds the younger holder, which
 *      |                 backs off (-EDEADLK) at its next contended lock
 *      |     wait-die:   a younger requester dies (-EDEADLK) at once
 *      |  -EDEADLK: unlock everything, ww_mutex_lock_slow(contended), retry
 *      v
 *   ww_mutex  --embedded in-->  dma_resv  (the buffer's reservation lock,
 *                                  |        of reservation_ww_class: wait-die)
 *                                  +-- fences[]: {fence, usage}, usage in
 *                                      KERNEL < WRITE < READ < BOOKKEEP;
 *                                      a query "up to READ" sees KERNEL,
 *                                      WRITE and READ fences; unlocked
 *                                      queries see only unsignalled ones
 *   dma_fence: context + seqno, signals once, callbacks, error, refcount
 *
 * The mutex sleeps through sched/ (a wait queue per class): a real
 * condition wait on plain threads, a suspended actor under the engine's
 * scheduler, with the same code. An atomic owner word serves the
 * uncontended path; waiters sleep on the class's wait queue (wounds and
 * releases wake it). Locks are owned by current (sched/: an actor, a
 * kernel thread, or the calling thread when it runs none). Every lock
 * (not a trylock, not an unlock) is a scheduling point; lockstat counts them under
 * the class's name, and an acquirer's modeled clock moves up to the
 * previous holder's release.
 *
 * Misuse is detected, returned as the kernel's errno and recorded as a
 * violation of a rule below through @ctx (which may be NULL: then only the
 * errno tells). Where the kernel merely WARNs and goes on, ccmm goes on too,
 * unless going on would deadlock a real thread, in which case it refuses.
 *
 * Fences created with ccmm_dma_fence_create() are parked in a quarantine
 * after their last put (as KASAN does) and freed when the machine shuts
 * down, so a use after the last put is detected rather than undefined.
 *
 * Locking: ww_mutex internals lock themselves; a fence has a mutex that
 * is held while its callbacks run (callbacks must not call back into that
 * fence); a dma_resv's fence list is protected by its ww_mutex for
 * writers and by an internal mutex for unlocked readers. Lock order:
 * mmap_lock, dma_resv (ww_mutex), fence lock.
 */
#ifndef CCMM_SYNC_H
#define CCMM_SYNC_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "check/check.h"
#include "platform/platform.h"
#include "sched/sched.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/* The rules of this subsystem: X(name, seed thread, summary). */
#define CCMM_SYNC_RULES(X) \
	X(ww_lock_after_done, "001", "a ww_mutex was locked after ww_acquire_done() on its acquire context") \
	X(ww_class_mismatch, "001", "a ww_mutex was locked with an acquire context of another ww_class") \
	X(ww_edeadlk_ignored, "001", "after -EDEADLK a context did not back off: it took another lock, or kept locks while taking the contended one") \
	X(ww_fini_held, "001", "ww_acquire_fini() with locks still held through the context") \
	X(mutex_not_owner, "001", "a mutex was unlocked (or destroyed) by a thread that does not hold it") \
	X(mutex_self_deadlock, "001", "a thread locked a mutex it already holds (it would wait for itself forever)") \
	X(fence_use_after_put, "001", "a dma_fence was used after its last reference was dropped") \
	X(fence_release_pending, "001", "a dma_fence was released unsignalled with callbacks still pending") \
	X(fence_bad_error, "001", "dma_fence_set_error() after the fence signalled, or with a value that is not an errno") \
	X(resv_not_locked, "001", "a call that needs the reservation lock (dma_resv_assert_held) was made without holding it") \
	X(resv_no_slot, "001", "dma_resv_add_fence() without a slot reserved by dma_resv_reserve_fences()") \
	X(resv_reserve_zero, "001", "dma_resv_reserve_fences() for zero fences (the number of fences to add was miscounted)")

CCMM_RULES_DECLARE(CCMM_SYNC_RULES)

/* The counters of this subsystem (X(name, help)); it charges no cost of its own. */
#define CCMM_SYNC_COSTS(X)
#define CCMM_SYNC_COUNTERS(X) \
	X(fence_waits, "dma_fence_wait calls") \
	X(fence_waits_blocked, "dma_fence_wait calls on a fence not yet signalled: the caller had to wait")

CCMM_COST_BLOCK_DECLARE(sync, CCMM_SYNC_COSTS, CCMM_SYNC_COUNTERS)

/* ------------------------------------------------------------------ */
/* ww_mutex                                                            */
/* ------------------------------------------------------------------ */

struct ccmm_ww_waiter;

struct ccmm_ww_class {
	const char *name;          /* also its lockstat class */
	bool is_wait_die;          /* wait-die; false: wound-wait */
	atomic_uint_fast64_t stamp; /* next transaction stamp (smaller = older) */
	struct ccmm_wait_queue_head wq; /* every sleeper of the class; its lock guards the slow paths */
	atomic_ulong deadlocks;    /* -EDEADLK returned (statistics) */
	atomic_ulong wounds;       /* wound-wait: holders wounded */
};

/* Static initializer: DEFINE_WW_CLASS / DEFINE_WD_CLASS. */
#define CCMM_WW_CLASS_INIT(n, wait_die)                                                                     \
	{                                                                                                   \
		.name = (n), .is_wait_die = (wait_die), .stamp = 1, .wq = CCMM_WAIT_QUEUE_HEAD_INIT(NULL),   \
		.deadlocks = 0, .wounds = 0                                                                 \
	}

/* Runtime init / teardown of a class (for classes not statically defined). */
void ccmm_ww_class_init(struct ccmm_ww_class *c, const char *name, bool wait_die);
void ccmm_ww_class_destroy(struct ccmm_ww_class *c);

struct ccmm_ww_acquire_ctx {
	struct ccmm_ww_class *ww_class;
	uint64_t stamp;
	unsigned acquired;                       /* ww_mutexes held through this context */
	atomic_bool wounded;                     /* wound-wait: an older transaction wants a lock we hold */
	bool done_acquire;                       /* ww_acquire_done() called */
	struct ccmm_ww_mutex *contending_lock;   /* the lock that returned -EDEADLK */
	uint32_t magic;
};

struct ccmm_ww_mutex {
	_Atomic(const void *) owner;                      /* current of the holder (sched/); NULL: free */
	_Atomic(struct ccmm_ww_acquire_ctx *) ctx;        /* the acquire context holding it, if any */
	struct ccmm_ww_class *ww_class;
	atomic_uint waiters;                              /* sleepers in the slow path */
	struct ccmm_ww_waiter *wait_list;                 /* sorted by stamp; the class's queue lock */
	struct ccmm_lock_dep dep;                         /* holder, lockstat; written by the owner */
	uint32_t magic;
};

/* ww_mutex_init. */
void ccmm_ww_mutex_init(struct ccmm_ww_mutex *lock, struct ccmm_ww_class *c);

/*
 * ww_mutex_destroy: -EBUSY (and mutex_not_owner) if it is still held;
 * nothing is freed then.
 */
int ccmm_ww_mutex_destroy(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock);

/* ww_acquire_init: a new transaction, stamped younger than every earlier one. */
void ccmm_ww_acquire_init(struct ccmm_ww_acquire_ctx *acq, struct ccmm_ww_class *c);

/* ww_acquire_done: no more locks will be taken (a later lock records ww_lock_after_done). */
void ccmm_ww_acquire_done(struct ccmm_ctx *ctx, struct ccmm_ww_acquire_ctx *acq);

/*
 * ww_acquire_fini. Returns 0, or -EBUSY with ww_fini_held when locks are
 * still held through @acq (the context stays usable so they can be dropped).
 */
int ccmm_ww_acquire_fini(struct ccmm_ctx *ctx, struct ccmm_ww_acquire_ctx *acq);

/*
 * ccmm_ww_mutex_lock - ww_mutex_lock(). With @acq NULL it is a plain
 * mutex. Returns:
 *   0          locked
 *   -EALREADY  @acq already holds it (no state change)
 *   -EDEADLK   back off: unlock every lock held through @acq, then
 *              ccmm_ww_mutex_lock_slow() on this one (only when @acq
 *              holds at least one lock; a context holding none waits)
 *   -EINVAL    @acq is of another class (ww_class_mismatch)
 * Misuse: locking after ww_acquire_done records ww_lock_after_done and
 * goes on; after -EDEADLK, taking another lock or keeping locks records
 * ww_edeadlk_ignored and returns -EDEADLK again; current locking, without
 * a context, a mutex it holds records mutex_self_deadlock and returns
 * -EDEADLK instead of hanging.
 * Locking: may sleep (sched/); a scheduling point. No non-sleeping lock
 * may be held.
 */
int ccmm_ww_mutex_lock(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq);

/*
 * ww_mutex_lock_slow: after -EDEADLK, with nothing held through @acq,
 * sleep until @lock is ours. Cannot return -EDEADLK. Misuse as above.
 */
int ccmm_ww_mutex_lock_slow(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq);

/* ww_mutex_trylock: 1 if taken, 0 if not (also when @acq already holds it). */
int ccmm_ww_mutex_trylock(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock, struct ccmm_ww_acquire_ctx *acq);

/* ww_mutex_unlock: 0, or -EPERM with mutex_not_owner when current does not hold it. */
int ccmm_ww_mutex_unlock(struct ccmm_ctx *ctx, struct ccmm_ww_mutex *lock);

/* ww_mutex_is_locked(): held by anyone. */
bool ccmm_ww_mutex_is_locked(struct ccmm_ww_mutex *lock);
/* Whether current holds @lock (lockdep_is_held). */
bool ccmm_ww_mutex_held(struct ccmm_ww_mutex *lock);

/* ------------------------------------------------------------------ */
/* dma_fence                                                           */
/* ------------------------------------------------------------------ */

struct ccmm_dma_fence;
struct ccmm_dma_fence_cb;

typedef void (*ccmm_dma_fence_func_t)(struct ccmm_dma_fence *f, struct ccmm_dma_fence_cb *cb);

/* A callback slot, embedded in the caller's structure (struct dma_fence_cb). */
struct ccmm_dma_fence_cb {
	struct ccmm_dma_fence_cb *next, *prev;
	ccmm_dma_fence_func_t func;
	bool queued;
};

/* struct dma_fence_ops. */
struct ccmm_dma_fence_ops {
	/*
	 * Seqnos are 64-bit. False (the kernel's default): dma_fence_is_later
	 * compares the low 32 bits, with wrap-around.
	 */
	bool use_64bit_seqno;
	const char *(*get_driver_name)(struct ccmm_dma_fence *f);
	const char *(*get_timeline_name)(struct ccmm_dma_fence *f);
	/*
	 * Optional: called once, with the fence lock held, the first time a
	 * waiter or a callback needs the fence to signal in software
	 * (dma_fence_enable_sw_signaling). False: the fence has completed
	 * already, and it is signalled at once. Must not call back into @f.
	 */
	bool (*enable_signaling)(struct ccmm_dma_fence *f);
	/* Optional: poll the hardware; true once the fence has completed. */
	bool (*signaled)(struct ccmm_dma_fence *f);
	/*
	 * Optional (deprecated in the kernel, kept for drivers with their own
	 * reset handling): a custom wait replacing the default one. Called
	 * without the fence lock, after signalling was enabled, with a
	 * timeout >= 0 in ns. Returns the time left (ns), 0 on timeout, or a
	 * negative errno of its own (the kernel's mock fences return -ETIME).
	 */
	int64_t (*wait)(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, int64_t timeout_ns);
	/* Optional: free a fence initialised by ccmm_dma_fence_init(). */
	void (*release)(struct ccmm_dma_fence *f);
};

#define CCMM_FENCE_SIGNALED      0x1 /* DMA_FENCE_FLAG_SIGNALED_BIT */
#define CCMM_FENCE_TIMESTAMP     0x2 /* DMA_FENCE_FLAG_TIMESTAMP_BIT */
#define CCMM_FENCE_DEAD          0x4 /* last reference dropped */
#define CCMM_FENCE_ENABLE_SIGNAL 0x8 /* DMA_FENCE_FLAG_ENABLE_SIGNAL_BIT */

struct ccmm_dma_fence {
	const struct ccmm_dma_fence_ops *ops;
	struct ccmm_machine *m;             /* where a created fence is quarantined; may be NULL */
	pthread_mutex_t lock;               /* the fence lock (held while callbacks run) */
	struct ccmm_wait_queue_head wq;     /* waiters sleep here (sched/) */
	uint64_t context, seqno;
	atomic_uint flags;                  /* CCMM_FENCE_* */
	int error;                          /* 0, or a negative errno set before signalling */
	atomic_int refcount;
	uint64_t timestamp_ns;              /* the signaller's modeled time */
	struct ccmm_dma_fence_cb cb_list;   /* list head */
	bool created;                       /* by ccmm_dma_fence_create (quarantined on release) */
	uint32_t magic;
};

/*
 * dma_fence_context_alloc: @num consecutive fence contexts; returns the
 * first. With @num 0 the kernel WARNs and returns the next context without
 * taking it (the next caller gets it too); so does ccmm.
 */
uint64_t ccmm_dma_fence_context_alloc(unsigned num);

/*
 * dma_fence_init on caller storage: one reference, unsignaled. @ops must
 * name the driver and timeline. When the last reference goes, ops->release
 * (if any) is called; the storage must stay valid until then.
 */
void ccmm_dma_fence_init(struct ccmm_dma_fence *f, const struct ccmm_dma_fence_ops *ops, uint64_t context,
			 uint64_t seqno);

/*
 * A fence allocated by ccmm: on the last put it goes to @m's quarantine
 * (freed at shutdown), so later uses are detected. @ops may be NULL (a
 * "ccmm" driver, with 64-bit seqnos). Returns 0 or -ENOMEM.
 */
int ccmm_dma_fence_create(struct ccmm_machine *m, const struct ccmm_dma_fence_ops *ops, uint64_t context,
			  uint64_t seqno, struct ccmm_dma_fence **out);

/*
 * dma_fence_get / dma_fence_put. A get or put on a fence whose last
 * reference is gone records fence_use_after_put and does nothing (get
 * returns NULL). The last put of an unsignaled fence with callbacks still
 * queued records fence_release_pending, sets -EDEADLK and signals it so
 * nothing dangles, as dma_fence_release() does. NULL is a no-op.
 */
struct ccmm_dma_fence *ccmm_dma_fence_get(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f);
void ccmm_dma_fence_put(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f);

/*
 * dma_fence_signal: mark signalled (timestamped with @ctx's modeled
 * time), run the callbacks in order with the fence lock held (they must
 * not sleep), wake the waiters. Returns 0, -EINVAL if it was already signalled (the callbacks
 * are not run twice) or @f is NULL, -EINVAL with fence_use_after_put on a
 * dead fence.
 */
int ccmm_dma_fence_signal(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f);

/* dma_fence_is_signaled: also polls ops->signaled and signals if it says so. */
bool ccmm_dma_fence_is_signaled(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f);

/*
 * dma_fence_enable_sw_signaling: ask for a software signal. The first
 * call calls ops->enable_signaling (if any) with the fence lock held; if
 * that says the fence has completed, the fence is signalled. Waits and
 * dma_fence_add_callback() do this themselves. A dead fence: recorded,
 * nothing done.
 */
void ccmm_dma_fence_enable_sw_signaling(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f);

/*
 * dma_fence_add_callback: 0 (queued), -ENOENT if already signalled (the
 * callback is not called), -EINVAL for a dead fence, a NULL @func or a
 * queued @cb. Like the kernel it tests the signalled flag, not
 * ops->signaled, then enables software signalling (which may signal).
 */
int ccmm_dma_fence_add_callback(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, struct ccmm_dma_fence_cb *cb,
				ccmm_dma_fence_func_t func);

/* dma_fence_remove_callback: true if @cb was still queued (it will not run). */
bool ccmm_dma_fence_remove_callback(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, struct ccmm_dma_fence_cb *cb);

/* dma_fence_get_status: 0 pending, 1 signalled, or the error it signalled with (< 0). */
int ccmm_dma_fence_get_status(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f);

/*
 * dma_fence_set_error: before signalling, with a negative errno. After
 * signalling, or with @error not in [-4095, -1], records fence_bad_error
 * and, as the kernel (which WARNs and goes on), stores @error anyway: a
 * later dma_fence_get_status() reports it. Returns 0; -EINVAL only for a
 * dead fence (fence_use_after_put).
 */
int ccmm_dma_fence_set_error(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, int error);

#define CCMM_MAX_SCHEDULE_TIMEOUT INT64_MAX

/*
 * dma_fence_wait_timeout: enable software signalling, then wait up to
 * @timeout_ns (CCMM_MAX_SCHEDULE_TIMEOUT: forever) with ops->wait if the
 * fence has one, else the default wait, which sleeps on the fence's wait
 * queue (sched/: wall time on plain threads, modeled time under the
 * engine's scheduler) and returns the time left (at least 1) when
 * signalled, 0 on timeout (a timeout of 0 only tests). -EINVAL for a
 * negative timeout (the kernel WARNs) or a dead fence. A waiter that saw
 * the signal moves @ctx's modeled clock up to the signaller's time.
 * Sleeps: no non-sleeping lock may be held.
 */
int64_t ccmm_dma_fence_wait_timeout(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, int64_t timeout_ns);

/* dma_fence_get_stub: an always-signalled fence (a new reference). */
struct ccmm_dma_fence *ccmm_dma_fence_get_stub(void);

/*
 * dma_fence_is_later: @a's seqno after @b's, both of one context (false
 * for different contexts, where the kernel WARNs). 32-bit seqnos wrap
 * unless @a's ops say use_64bit_seqno.
 */
bool ccmm_dma_fence_is_later(const struct ccmm_dma_fence *a, const struct ccmm_dma_fence *b);

/* dma_fence_describe: "DRIVER TIMELINE seq N [un]signalled" (polls ops->signaled as the kernel does). */
void ccmm_dma_fence_describe(struct ccmm_dma_fence *f, FILE *out);

/* ------------------------------------------------------------------ */
/* dma_resv                                                            */
/* ------------------------------------------------------------------ */

enum ccmm_dma_resv_usage {
	CCMM_RESV_USAGE_KERNEL,   /* memory management: moves, clears; everyone waits */
	CCMM_RESV_USAGE_WRITE,    /* implicit-sync writers */
	CCMM_RESV_USAGE_READ,     /* implicit-sync readers */
	CCMM_RESV_USAGE_BOOKKEEP, /* explicitly synced work: only memory management waits */
	CCMM_RESV_USAGE_NR
};

/* "kernel", "write", "read", "bookkeep". */
const char *ccmm_dma_resv_usage_name(enum ccmm_dma_resv_usage u);
/* dma_resv_usage_rw: what a CPU/device access must wait for: writers wait for readers too. */
enum ccmm_dma_resv_usage ccmm_dma_resv_usage_rw(bool write);

/*
 * The kernel's reservation_ww_class: wait-die, as DEFINE_WD_CLASS in
 * drivers/dma-buf/dma-resv.c (since 2018). A younger transaction that
 * meets a reservation held or awaited by an older one gets -EDEADLK at
 * once, if it holds any reservation; an older one waits.
 */
extern struct ccmm_ww_class ccmm_reservation_ww_class;

struct ccmm_dma_resv_entry {
	struct ccmm_dma_fence *fence;
	enum ccmm_dma_resv_usage usage;
};

struct ccmm_dma_resv {
	struct ccmm_ww_mutex lock;
	pthread_mutex_t list_lock;          /* for unlocked readers */
	struct ccmm_dma_resv_entry *fences; /* the fence list (NULL until the first reserve) */
	unsigned num_fences;
	unsigned max_fences;                /* slots usable (dma_resv_list.max_fences) */
	size_t cap_fences;                  /* entries allocated */
	uint64_t gen;                       /* bumped whenever the list is reallocated (unlocked walks restart) */
	uint64_t seq;                       /* bumped on every change (the kernel's seqcount) */
};

/* dma_resv_init(): an unlocked object with no fences; ccmm_dma_resv_fini drops its fences. */
void ccmm_dma_resv_init(struct ccmm_dma_resv *obj);
/* dma_resv_fini: drop every fence reference. */
void ccmm_dma_resv_fini(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj);

/* dma_resv_lock / _slow / _trylock / _unlock: the ww_mutex, as above. */
int ccmm_dma_resv_lock(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, struct ccmm_ww_acquire_ctx *acq);
int ccmm_dma_resv_lock_slow(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, struct ccmm_ww_acquire_ctx *acq);
bool ccmm_dma_resv_trylock(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj);
/*
 * dma_resv_unlock. Unused reserved slots are forgotten, as debug kernels
 * (CONFIG_DEBUG_MUTEXES: dma_resv_reset_max_fences) do, so every locked
 * section must reserve what it adds. Returns as ccmm_ww_mutex_unlock.
 */
int ccmm_dma_resv_unlock(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj);
/* dma_resv_held by the calling thread. */
bool ccmm_dma_resv_held(struct ccmm_dma_resv *obj);

/*
 * dma_resv_locking_ctx: the acquire context @obj is locked with, or NULL
 * (locked without one, or not locked). TTM's eviction uses it as the
 * ticket of the BO it makes room for.
 */
struct ccmm_ww_acquire_ctx *ccmm_dma_resv_locking_ctx(struct ccmm_dma_resv *obj);

/*
 * dma_resv_assert_held: true if the calling thread holds @obj; otherwise
 * records resv_not_locked naming @what and returns false.
 */
bool ccmm_dma_resv_assert_held(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, const char *what);

/*
 * dma_resv_reserve_fences: make room for @num more fences. Lock held
 * (else resv_not_locked, -EINVAL); @num 0 is a miscount (the kernel
 * WARNs): resv_reserve_zero, -EINVAL. As the kernel: nothing is done if
 * the list has room; otherwise a new list of max(4, roundup_pow_of_two(
 * @num)) slots (first time) or max(num_fences + @num, 2 * max_fences)
 * slots, rounded up to what its kmalloc bucket holds, replaces the old
 * one, and signalled fences are dropped on the way (unlocked walks then
 * restart). 0, or -ENOMEM (also for a list beyond KMALLOC_MAX_SIZE, 4 MiB,
 * where kmalloc fails); the list is unchanged then.
 */
int ccmm_dma_resv_reserve_fences(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, unsigned num);

/*
 * dma_resv_add_fence: add @fence (a reference is taken) with @usage. It
 * replaces an earlier fence of the same context whose usage is at least
 * @usage and which @fence is later than or the same as, or any signalled
 * fence; otherwise it takes a reserved slot. Lock held (else
 * resv_not_locked, -EINVAL); no slot reserved: resv_no_slot, -ENOSPC (the
 * kernel BUG()s). A dead fence: fence_use_after_put, -EINVAL.
 */
int ccmm_dma_resv_add_fence(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, struct ccmm_dma_fence *fence,
			    enum ccmm_dma_resv_usage usage);

/* dma_resv_replace_fences: every fence of @context becomes @replacement with @usage. Lock held. */
int ccmm_dma_resv_replace_fences(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, uint64_t context,
				 struct ccmm_dma_fence *replacement, enum ccmm_dma_resv_usage usage);

/*
 * struct dma_resv_iter: a cursor over the fences of @obj with usage <=
 * @usage. Two walks, as the kernel's:
 *  - locked (ccmm_dma_resv_iter_first/_next, ccmm_dma_resv_for_each_fence):
 *    the reservation lock held (else resv_not_locked and no fence), every
 *    fence, signalled or not, no reference taken;
 *  - unlocked (ccmm_dma_resv_iter_first_unlocked/_next_unlocked,
 *    ccmm_dma_resv_for_each_fence_unlocked): no lock needed, only the
 *    fences not yet signalled, each held by a reference the cursor drops
 *    on the next step or at ccmm_dma_resv_iter_end(). When the list was
 *    reallocated meanwhile the walk restarts from the first fence and
 *    is_restarted says so: callers that accumulate start over.
 */
struct ccmm_dma_resv_iter {
	struct ccmm_dma_resv *obj;
	enum ccmm_dma_resv_usage usage;
	struct ccmm_dma_fence *fence;          /* the current fence */
	enum ccmm_dma_resv_usage fence_usage;  /* its usage */
	unsigned index;                        /* private: next entry */
	uint64_t fences_gen;                   /* private: the list generation walked */
	unsigned num_fences;                   /* entries of that list when the walk (re)started */
	bool is_restarted;                     /* the current fence is the first of a (re)started walk */
};

/* dma_resv_iter_begin. */
void ccmm_dma_resv_iter_begin(struct ccmm_dma_resv_iter *cursor, struct ccmm_dma_resv *obj,
			      enum ccmm_dma_resv_usage usage);
/* dma_resv_iter_first_unlocked / _next_unlocked: the next unsignalled fence, or NULL at the end. */
struct ccmm_dma_fence *ccmm_dma_resv_iter_first_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor);
struct ccmm_dma_fence *ccmm_dma_resv_iter_next_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor);
/* dma_resv_iter_first / _next (lock held): the next fence, or NULL at the end. */
struct ccmm_dma_fence *ccmm_dma_resv_iter_first(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor);
struct ccmm_dma_fence *ccmm_dma_resv_iter_next(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor);
/* dma_resv_iter_end: drop the unlocked walk's reference. */
void ccmm_dma_resv_iter_end(struct ccmm_ctx *ctx, struct ccmm_dma_resv_iter *cursor);

/* dma_resv_iter_usage / dma_resv_iter_is_restarted. */
static inline enum ccmm_dma_resv_usage ccmm_dma_resv_iter_usage(const struct ccmm_dma_resv_iter *cursor)
{
	return cursor->fence_usage;
}

static inline bool ccmm_dma_resv_iter_is_restarted(const struct ccmm_dma_resv_iter *cursor)
{
	return cursor->is_restarted;
}

/* dma_resv_for_each_fence_unlocked: between ccmm_dma_resv_iter_begin() and ccmm_dma_resv_iter_end(). */
#define ccmm_dma_resv_for_each_fence_unlocked(ctx, cursor, fence)                                  \
	for ((fence) = ccmm_dma_resv_iter_first_unlocked((ctx), (cursor)); (fence);              \
	     (fence) = ccmm_dma_resv_iter_next_unlocked((ctx), (cursor)))

/* dma_resv_for_each_fence: the locked walk (needs no ccmm_dma_resv_iter_end()). */
#define ccmm_dma_resv_for_each_fence(ctx, cursor, obj, usage, fence)                                \
	for (ccmm_dma_resv_iter_begin((cursor), (obj), (usage)),                                    \
	     (fence) = ccmm_dma_resv_iter_first((ctx), (cursor));                                   \
	     (fence); (fence) = ccmm_dma_resv_iter_next((ctx), (cursor)))

/*
 * dma_resv_get_fences: a snapshot of the unsignalled fences with usage <=
 * @usage (the unlocked walk), each with a reference (put them, then
 * free() the array). Lock not needed. 0, -ENOMEM. *@num may be 0 (then
 * *@fences is NULL).
 */
int ccmm_dma_resv_get_fences(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage,
			     unsigned *num, struct ccmm_dma_fence ***fences);

/* dma_resv_test_signaled: every fence with usage <= @usage has signalled. Lock not needed. */
bool ccmm_dma_resv_test_signaled(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage);

/*
 * dma_resv_wait_timeout: wait for every unsignalled fence with usage <=
 * @usage, up to @timeout_ns in all. Returns the time left (>= 1, 1 for a
 * zero timeout when all have signalled), 0 on timeout, or a fence wait's
 * negative errno.
 */
int64_t ccmm_dma_resv_wait_timeout(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage,
				   int64_t timeout_ns);

/*
 * The @i-th fence with usage <= @usage, with its usage (the locked walk by
 * index); 0, -ENOENT past the end. Lock held (else resv_not_locked,
 * -EINVAL). No reference is taken.
 */
int ccmm_dma_resv_fence_at(struct ccmm_ctx *ctx, struct ccmm_dma_resv *obj, enum ccmm_dma_resv_usage usage,
			   unsigned i, struct ccmm_dma_fence **fence, enum ccmm_dma_resv_usage *fence_usage);

/* dma_resv_describe: one "\t<usage> fence:DRIVER TIMELINE seq N [un]signalled" line per fence up to READ. */
void ccmm_dma_resv_describe(struct ccmm_dma_resv *obj, FILE *out);

/* ------------------------------------------------------------------ */
/* Per-machine state                                                   */
/* ------------------------------------------------------------------ */

/* The registration of sync/: its init sets up the machine's quarantine of released fences. */
extern struct ccmm_subsys ccmm_subsys_sync;

#pragma GCC visibility pop

#endif /* CCMM_SYNC_H */
