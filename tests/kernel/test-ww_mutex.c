// SPDX-License-Identifier: MIT
/*
 * The kernel's kernel/locking/test-ww_mutex.c, ported case by case to
 * ccmm's ww_mutex. Mainline runs every case for both classes, wound-wait
 * (DEFINE_WW_CLASS) and wait-die (DEFINE_WD_CLASS) (commit 34d80c93a5bb,
 * "test-ww_mutex: Extend ww_mutex tests to test both classes"); 6.12 runs
 * them for wait-die only. Each TAP case is named "kernel case(class)".
 *
 * The kernel's work items become threads, its completions a mutex and a
 * condvar. Where the kernel only logs (the stress cases never fail), the
 * port asserts what the log line checks: no errors, every lock free at the
 * end, and mutual exclusion (per-lock counters that only a holder touches,
 * which ThreadSanitizer watches too).
 *
 * The stress cases run for CCMM_STRESS_MS milliseconds each (default
 * 1000; the kernel runs 2 s).
 */
#include "port.h"

#include <pthread.h>
#include <sched.h>
#include <unistd.h>

#include "sync/sync.h"

static struct ccmm_ww_class ww_class = CCMM_WW_CLASS_INIT("ww_class", false); /* DEFINE_WW_CLASS */
static struct ccmm_ww_class wd_class = CCMM_WW_CLASS_INIT("wd_class", true);  /* DEFINE_WD_CLASS */

#define now_ns port_now_ns

/* ---- struct completion --------------------------------------------------------- */

struct completion {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
};

static void init_completion(struct completion *c)
{
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->done = false;
}

static void destroy_completion(struct completion *c)
{
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
}

static void complete(struct completion *c)
{
	pthread_mutex_lock(&c->lock);
	c->done = true;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
}

static void wait_for_completion(struct completion *c)
{
	pthread_mutex_lock(&c->lock);
	while (!c->done)
		pthread_cond_wait(&c->cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

/* True if it completed within @ns (the kernel returns the jiffies left, 0 on timeout). */
static bool wait_for_completion_timeout(struct completion *c, int64_t ns)
{
	int64_t deadline = now_ns() + ns;
	bool done;

	pthread_mutex_lock(&c->lock);
	while (!c->done && now_ns() < deadline) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&c->cond, &c->lock, &ts);
	}
	done = c->done;
	pthread_mutex_unlock(&c->lock);
	return done;
}

static bool completion_done(struct completion *c)
{
	bool done;

	pthread_mutex_lock(&c->lock);
	done = c->done;
	pthread_mutex_unlock(&c->lock);
	return done;
}

/* ---- test_mutex ------------------------------------------------------------------ */

#define TEST_MTX_SPIN 1
#define TEST_MTX_TRY 2
#define TEST_MTX_CTX 4
#define TEST_MTX_LAST 8
#define TEST_MTX_TIMEOUT_NS (1000000000LL / 16) /* HZ / 16 */

struct test_mutex {
	struct ccmm_ww_mutex mutex;
	struct completion ready, go, done;
	unsigned flags;
};

static void *test_mutex_work(void *arg)
{
	struct test_mutex *mtx = arg;

	complete(&mtx->ready);
	wait_for_completion(&mtx->go);
	if (mtx->flags & TEST_MTX_TRY) {
		while (!ccmm_ww_mutex_trylock(NULL, &mtx->mutex, NULL))
			sched_yield();
	} else {
		TCHECK(ccmm_ww_mutex_lock(NULL, &mtx->mutex, NULL) == 0);
	}
	complete(&mtx->done);
	TCHECK(ccmm_ww_mutex_unlock(NULL, &mtx->mutex) == 0);
	return NULL;
}

/* __test_mutex: while the test holds the mutex (with or without a context), the worker cannot have it. */
static void do_test_mutex(struct ccmm_ww_class *class, unsigned flags)
{
	struct test_mutex mtx;
	struct ccmm_ww_acquire_ctx ctx;
	pthread_t work;
	int ret = 0;

	ccmm_ww_mutex_init(&mtx.mutex, class);
	ccmm_ww_acquire_init(&ctx, class);
	init_completion(&mtx.ready);
	init_completion(&mtx.go);
	init_completion(&mtx.done);
	mtx.flags = flags;
	assert_int_equal(pthread_create(&work, NULL, test_mutex_work, &mtx), 0);
	wait_for_completion(&mtx.ready);
	assert_int_equal(ccmm_ww_mutex_lock(NULL, &mtx.mutex, (flags & TEST_MTX_CTX) ? &ctx : NULL), 0);
	complete(&mtx.go);
	if (flags & TEST_MTX_SPIN) {
		int64_t timeout = now_ns() + TEST_MTX_TIMEOUT_NS;

		do {
			if (completion_done(&mtx.done)) {
				ret = -EINVAL;
				break;
			}
			sched_yield();
		} while (now_ns() < timeout);
	} else if (wait_for_completion_timeout(&mtx.done, TEST_MTX_TIMEOUT_NS)) {
		ret = -EINVAL;
	}
	assert_int_equal(ccmm_ww_mutex_unlock(NULL, &mtx.mutex), 0);
	assert_int_equal(ccmm_ww_acquire_fini(NULL, &ctx), 0);
	if (ret)
		fail_msg("__test_mutex(flags=%x): mutual exclusion failure", flags);
	pthread_join(work, NULL);
	assert_true(completion_done(&mtx.done)); /* and the worker got it once it was free */
	assert_false(ccmm_ww_mutex_is_locked(&mtx.mutex));
	destroy_completion(&mtx.ready);
	destroy_completion(&mtx.go);
	destroy_completion(&mtx.done);
}

static void test_mutex(void **state)
{
	TCHECK_CASE();
	for (unsigned flags = 0; flags < TEST_MTX_LAST; flags++)
		do_test_mutex(*state, flags);
	TCHECK_DONE();
}

/* ---- test_aa ----------------------------------------------------------------------- */

/* A context cannot take a mutex it holds again: trylocks fail, a lock is -EALREADY. */
static void do_test_aa(struct ccmm_ww_class *class, bool trylock)
{
	struct ccmm_ww_mutex mutex;
	struct ccmm_ww_acquire_ctx ctx;

	ccmm_ww_mutex_init(&mutex, class);
	ccmm_ww_acquire_init(&ctx, class);
	if (!trylock)
		assert_int_equal(ccmm_ww_mutex_lock(NULL, &mutex, &ctx), 0);
	else
		assert_int_equal(ccmm_ww_mutex_trylock(NULL, &mutex, &ctx), 1);
	/* "trylocked itself without context" */
	assert_int_equal(ccmm_ww_mutex_trylock(NULL, &mutex, NULL), 0);
	/* "trylocked itself with context" */
	assert_int_equal(ccmm_ww_mutex_trylock(NULL, &mutex, &ctx), 0);
	/* "missed deadlock for recursing" */
	assert_int_equal(ccmm_ww_mutex_lock(NULL, &mutex, &ctx), -EALREADY);
	assert_int_equal(ctx.acquired, 1);
	assert_int_equal(ccmm_ww_mutex_unlock(NULL, &mutex), 0);
	assert_int_equal(ccmm_ww_acquire_fini(NULL, &ctx), 0);
}

static void test_aa_lock(void **state)
{
	do_test_aa(*state, false);
}

static void test_aa_trylock(void **state)
{
	do_test_aa(*state, true);
}

/* ---- test_abba ---------------------------------------------------------------------- */

struct test_abba {
	struct ccmm_ww_class *class;
	struct ccmm_ww_mutex a_mutex, b_mutex;
	struct completion a_ready, b_ready;
	bool resolve, trylock;
	int result;
	uint64_t stamp;
};

static void *test_abba_work(void *arg)
{
	struct test_abba *abba = arg;
	struct ccmm_ww_acquire_ctx ctx;
	int err;

	ccmm_ww_acquire_init(&ctx, abba->class);
	abba->stamp = ctx.stamp;
	if (!abba->trylock)
		TCHECK(ccmm_ww_mutex_lock(NULL, &abba->b_mutex, &ctx) == 0);
	else
		TCHECK(ccmm_ww_mutex_trylock(NULL, &abba->b_mutex, &ctx) == 1);
	TCHECK(atomic_load(&abba->b_mutex.ctx) == &ctx);
	complete(&abba->b_ready);
	wait_for_completion(&abba->a_ready);
	err = ccmm_ww_mutex_lock(NULL, &abba->a_mutex, &ctx);
	if (abba->resolve && err == -EDEADLK) {
		ccmm_ww_mutex_unlock(NULL, &abba->b_mutex);
		TCHECK(ccmm_ww_mutex_lock_slow(NULL, &abba->a_mutex, &ctx) == 0);
		err = ccmm_ww_mutex_lock(NULL, &abba->b_mutex, &ctx);
	}
	if (!err)
		ccmm_ww_mutex_unlock(NULL, &abba->a_mutex);
	ccmm_ww_mutex_unlock(NULL, &abba->b_mutex);
	TCHECK(ccmm_ww_acquire_fini(NULL, &ctx) == 0);
	abba->result = err;
	return NULL;
}

/*
 * Two contexts take A then B and B then A. Unresolved, one of them must be
 * told -EDEADLK; resolved (back off, lock_slow, retry), both finish.
 */
static void do_test_abba(struct ccmm_ww_class *class, bool trylock, bool resolve)
{
	struct test_abba abba;
	struct ccmm_ww_acquire_ctx ctx;
	pthread_t work;
	uint64_t stamp;
	int err;

	TCHECK_CASE();
	memset(&abba, 0, sizeof(abba));
	abba.class = class;
	ccmm_ww_mutex_init(&abba.a_mutex, class);
	ccmm_ww_mutex_init(&abba.b_mutex, class);
	init_completion(&abba.a_ready);
	init_completion(&abba.b_ready);
	abba.trylock = trylock;
	abba.resolve = resolve;
	assert_int_equal(pthread_create(&work, NULL, test_abba_work, &abba), 0);

	ccmm_ww_acquire_init(&ctx, class);
	stamp = ctx.stamp;
	if (!trylock)
		assert_int_equal(ccmm_ww_mutex_lock(NULL, &abba.a_mutex, &ctx), 0);
	else
		assert_int_equal(ccmm_ww_mutex_trylock(NULL, &abba.a_mutex, &ctx), 1);
	assert_ptr_equal(atomic_load(&abba.a_mutex.ctx), &ctx);
	complete(&abba.a_ready);
	wait_for_completion(&abba.b_ready);
	err = ccmm_ww_mutex_lock(NULL, &abba.b_mutex, &ctx);
	if (resolve && err == -EDEADLK) {
		ccmm_ww_mutex_unlock(NULL, &abba.a_mutex);
		assert_int_equal(ccmm_ww_mutex_lock_slow(NULL, &abba.b_mutex, &ctx), 0);
		err = ccmm_ww_mutex_lock(NULL, &abba.a_mutex, &ctx);
	}
	if (!err)
		ccmm_ww_mutex_unlock(NULL, &abba.b_mutex);
	ccmm_ww_mutex_unlock(NULL, &abba.a_mutex);
	assert_int_equal(ccmm_ww_acquire_fini(NULL, &ctx), 0);
	pthread_join(work, NULL);
	TCHECK_DONE();

	if (resolve) {
		if (err || abba.result)
			fail_msg("failed to resolve ABBA deadlock, A err=%d, B err=%d", err, abba.result);
	} else {
		if (err != -EDEADLK && abba.result != -EDEADLK)
			fail_msg("missed ABBA deadlock, A err=%d, B err=%d", err, abba.result);
		/* beyond the kernel's check: both classes make the younger transaction back off */
		assert_int_equal(stamp > abba.stamp ? err : abba.result, -EDEADLK);
		assert_int_equal(stamp > abba.stamp ? abba.result : err, 0);
	}
	assert_false(ccmm_ww_mutex_is_locked(&abba.a_mutex));
	assert_false(ccmm_ww_mutex_is_locked(&abba.b_mutex));
	destroy_completion(&abba.a_ready);
	destroy_completion(&abba.b_ready);
}

static void test_abba_lock(void **state)
{
	do_test_abba(*state, false, false);
}

static void test_abba_trylock(void **state)
{
	do_test_abba(*state, true, false);
}

static void test_abba_lock_resolve(void **state)
{
	do_test_abba(*state, false, true);
}

static void test_abba_trylock_resolve(void **state)
{
	do_test_abba(*state, true, true);
}

/* ---- test_cycle ---------------------------------------------------------------------- */

struct test_cycle {
	struct ccmm_ww_class *class;
	struct ccmm_ww_mutex a_mutex;
	struct ccmm_ww_mutex *b_mutex;
	struct completion *a_signal;
	struct completion b_signal;
	int result;
};

static void *test_cycle_work(void *arg)
{
	struct test_cycle *cycle = arg;
	struct ccmm_ww_acquire_ctx ctx;
	int err, erra = 0;

	ccmm_ww_acquire_init(&ctx, cycle->class);
	TCHECK(ccmm_ww_mutex_lock(NULL, &cycle->a_mutex, &ctx) == 0);
	complete(cycle->a_signal);
	wait_for_completion(&cycle->b_signal);
	err = ccmm_ww_mutex_lock(NULL, cycle->b_mutex, &ctx);
	if (err == -EDEADLK) {
		err = 0;
		ccmm_ww_mutex_unlock(NULL, &cycle->a_mutex);
		TCHECK(ccmm_ww_mutex_lock_slow(NULL, cycle->b_mutex, &ctx) == 0);
		erra = ccmm_ww_mutex_lock(NULL, &cycle->a_mutex, &ctx);
	}
	if (!err)
		ccmm_ww_mutex_unlock(NULL, cycle->b_mutex);
	if (!erra)
		ccmm_ww_mutex_unlock(NULL, &cycle->a_mutex);
	TCHECK(ccmm_ww_acquire_fini(NULL, &ctx) == 0);
	cycle->result = err ? err : erra;
	return NULL;
}

/* __test_cycle: @nthreads contexts, each holding its lock and wanting the next one's: one back-off resolves it. */
static void do_test_cycle(struct ccmm_ww_class *class, unsigned nthreads)
{
	struct test_cycle *cycles = calloc(nthreads, sizeof(*cycles));
	pthread_t *work = calloc(nthreads, sizeof(*work));
	unsigned last = nthreads - 1;

	TCHECK_CASE();
	assert_non_null(cycles);
	assert_non_null(work);
	for (unsigned n = 0; n < nthreads; n++) {
		struct test_cycle *cycle = &cycles[n];

		cycle->class = class;
		ccmm_ww_mutex_init(&cycle->a_mutex, class);
		cycle->b_mutex = n == last ? &cycles[0].a_mutex : &cycles[n + 1].a_mutex;
		cycle->a_signal = n == 0 ? &cycles[last].b_signal : &cycles[n - 1].b_signal;
		init_completion(&cycle->b_signal);
		cycle->result = 0;
	}
	for (unsigned n = 0; n < nthreads; n++)
		assert_int_equal(pthread_create(&work[n], NULL, test_cycle_work, &cycles[n]), 0);
	for (unsigned n = 0; n < nthreads; n++)
		pthread_join(work[n], NULL);
	TCHECK_DONE();
	for (unsigned n = 0; n < nthreads; n++)
		if (cycles[n].result)
			fail_msg("cyclic deadlock not resolved, ret[%u/%u] = %d", n, nthreads, cycles[n].result);
	for (unsigned n = 0; n < nthreads; n++) {
		assert_int_equal(ccmm_ww_mutex_destroy(NULL, &cycles[n].a_mutex), 0);
		destroy_completion(&cycles[n].b_signal);
	}
	free(cycles);
	free(work);
}

static unsigned num_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned)n : 1;
}

static void test_cycle(void **state)
{
	unsigned ncpus = num_online_cpus();

	for (unsigned n = 2; n <= ncpus + 1; n++)
		do_test_cycle(*state, n);
}

/* ---- stress --------------------------------------------------------------------------- */

#define STRESS_INORDER 1
#define STRESS_REORDER 2
#define STRESS_ONE 4
#define STRESS_ALL (STRESS_INORDER | STRESS_REORDER | STRESS_ONE)

struct stress {
	struct ccmm_ww_class *class;
	struct ccmm_ww_mutex *locks;
	long *held;          /* per lock: bumped only by its holder */
	int nlocks;
	int64_t timeout;     /* CLOCK_MONOTONIC ns */
	uint64_t seed;
	long transactions;   /* completed: every wanted lock held at once */
	long backoffs;       /* -EDEADLK answered by backing off */
	int err;             /* an error the kernel would log as "stress (...) failed" */
};

static bool time_after_timeout(const struct stress *stress)
{
	return now_ns() > stress->timeout;
}

/* get_random_order: a random permutation of 0..count-1. */
static int *get_random_order(struct ccmm_rng *rng, int count)
{
	int *order = malloc((size_t)count * sizeof(*order));

	if (!order)
		return NULL;
	for (int n = 0; n < count; n++)
		order[n] = n;
	for (int n = count - 1; n > 1; n--) {
		int r = (int)ccmm_rng_range(rng, 0, (uint64_t)n), t = order[n];

		order[n] = order[r];
		order[r] = t;
	}
	return order;
}

/* dummy_load: usleep_range(1000, 2000) with every lock held, after touching each lock's counter. */
static void dummy_load(struct stress *stress, struct ccmm_rng *rng, const int *order, int n)
{
	struct timespec ts = { 0, (long)ccmm_rng_range(rng, 1000000, 2000000) };

	for (int i = 0; i < n; i++)
		stress->held[order[i]]++;
	nanosleep(&ts, NULL);
}

/* stress_inorder_work: every lock, in one random order per worker, with -EDEADLK back-off. */
static void stress_inorder_work(struct stress *stress, struct ccmm_rng *rng)
{
	const int nlocks = stress->nlocks;
	struct ccmm_ww_mutex *locks = stress->locks;
	struct ccmm_ww_acquire_ctx ctx;
	int *order = get_random_order(rng, nlocks);

	if (!order) {
		stress->err = -ENOMEM;
		return;
	}
	do {
		int contended = -1;
		int n, err;

		ccmm_ww_acquire_init(&ctx, stress->class);
retry:
		err = 0;
		for (n = 0; n < nlocks; n++) {
			if (n == contended)
				continue;
			err = ccmm_ww_mutex_lock(NULL, &locks[order[n]], &ctx);
			if (err < 0)
				break;
		}
		if (!err) {
			dummy_load(stress, rng, order, nlocks);
			stress->transactions++;
		}
		if (contended > n)
			ccmm_ww_mutex_unlock(NULL, &locks[order[contended]]);
		contended = n;
		while (n--)
			ccmm_ww_mutex_unlock(NULL, &locks[order[n]]);
		if (err == -EDEADLK) {
			stress->backoffs++;
			if (!time_after_timeout(stress)) {
				if (ccmm_ww_mutex_lock_slow(NULL, &locks[order[contended]], &ctx))
					stress->err = -EINVAL;
				else
					goto retry;
			}
		}
		if (ccmm_ww_acquire_fini(NULL, &ctx))
			stress->err = -EBUSY;
		/*
		 * The kernel logs any err here as a failure, -EDEADLK at the
		 * deadline included; that one is only the end of the run.
		 */
		if (err && err != -EDEADLK)
			stress->err = err;
		if (err || stress->err)
			break;
	} while (!time_after_timeout(stress));
	free(order);
}

/* stress_reorder_work: every lock; a contended one moves to the front of this worker's list. */
static void stress_reorder_work(struct stress *stress, struct ccmm_rng *rng)
{
	int nlocks = stress->nlocks;
	int *order = get_random_order(rng, nlocks);

	if (!order) {
		stress->err = -ENOMEM;
		return;
	}
	do {
		struct ccmm_ww_acquire_ctx ctx;

		ccmm_ww_acquire_init(&ctx, stress->class);
		for (int n = 0; n < nlocks; n++) {
			int err = ccmm_ww_mutex_lock(NULL, &stress->locks[order[n]], &ctx), c;

			if (!err)
				continue;
			for (int k = n - 1; k >= 0; k--)
				ccmm_ww_mutex_unlock(NULL, &stress->locks[order[k]]);
			if (err != -EDEADLK) {
				stress->err = err;
				break;
			}
			stress->backoffs++;
			c = order[n];
			if (ccmm_ww_mutex_lock_slow(NULL, &stress->locks[c], &ctx)) {
				stress->err = -EINVAL;
				break;
			}
			/* list_move to the head: the walk goes on from the old head */
			memmove(&order[1], &order[0], (size_t)n * sizeof(*order));
			order[0] = c;
			n = 0;
		}
		if (stress->err) {
			ccmm_ww_acquire_fini(NULL, &ctx);
			break;
		}
		dummy_load(stress, rng, order, nlocks);
		stress->transactions++;
		for (int n = 0; n < nlocks; n++)
			ccmm_ww_mutex_unlock(NULL, &stress->locks[order[n]]);
		if (ccmm_ww_acquire_fini(NULL, &ctx))
			stress->err = -EBUSY;
	} while (!stress->err && !time_after_timeout(stress));
	free(order);
}

/* stress_one_work: one random lock, without a context, again and again. */
static void stress_one_work(struct stress *stress, struct ccmm_rng *rng)
{
	int i = (int)ccmm_rng_range(rng, 0, (uint64_t)stress->nlocks - 1);
	struct ccmm_ww_mutex *lock = &stress->locks[i];

	do {
		int err = ccmm_ww_mutex_lock(NULL, lock, NULL);

		if (err) {
			stress->err = err;
			break;
		}
		dummy_load(stress, rng, &i, 1);
		stress->transactions++;
		ccmm_ww_mutex_unlock(NULL, lock);
	} while (!time_after_timeout(stress));
}

struct stress_thread {
	struct stress stress;
	void (*fn)(struct stress *stress, struct ccmm_rng *rng);
};

static void *stress_work(void *arg)
{
	struct stress_thread *t = arg;
	struct ccmm_rng rng;

	ccmm_rng_seed(&rng, t->stress.seed, 1);
	t->fn(&t->stress, &rng);
	return NULL;
}

static int64_t stress_ns(void)
{
	const char *e = getenv("CCMM_STRESS_MS");
	long ms = e ? atol(e) : 0;

	return (ms > 0 ? ms : 1000) * 1000000LL;
}

/*
 * stress(): @nthreads workers of the kinds in @flags, assigned in turn
 * (inorder, reorder, one, none) as the kernel does, over @nlocks locks.
 */
static void stress(struct ccmm_ww_class *class, int nlocks, int nthreads, unsigned flags)
{
	struct ccmm_ww_mutex *locks = calloc((size_t)nlocks, sizeof(*locks));
	long *held = calloc((size_t)nlocks, sizeof(*held));
	struct stress_thread *stress_array = calloc((size_t)nthreads, sizeof(*stress_array));
	pthread_t *work = calloc((size_t)nthreads, sizeof(*work));
	int64_t timeout = now_ns() + stress_ns();
	long total = 0, expect = 0, transactions = 0;
	int count = 0;

	assert_true(locks && held && stress_array && work);
	for (int n = 0; n < nlocks; n++)
		ccmm_ww_mutex_init(&locks[n], class);
	for (int n = 0; nthreads; n++) {
		void (*fn)(struct stress *, struct ccmm_rng *) = NULL;
		struct stress_thread *t;

		switch (n & 3) {
		case 0:
			if (flags & STRESS_INORDER)
				fn = stress_inorder_work;
			break;
		case 1:
			if (flags & STRESS_REORDER)
				fn = stress_reorder_work;
			break;
		case 2:
			if (flags & STRESS_ONE)
				fn = stress_one_work;
			break;
		}
		if (!fn)
			continue;
		t = &stress_array[count];
		t->fn = fn;
		t->stress = (struct stress){ class, locks, held, nlocks, timeout, 0x5eed0000u + (uint64_t)count };
		assert_int_equal(pthread_create(&work[count], NULL, stress_work, t), 0);
		count++;
		nthreads--;
	}
	for (int n = 0; n < count; n++) {
		struct stress *s = &stress_array[n].stress;

		pthread_join(work[n], NULL);
		if (s->err)
			fail_msg("stress (%s) failed with %d",
				 stress_array[n].fn == stress_inorder_work   ? "stress_inorder_work"
				 : stress_array[n].fn == stress_reorder_work ? "stress_reorder_work"
									     : "stress_one_work",
				 s->err);
		expect += s->transactions * (stress_array[n].fn == stress_one_work ? 1 : nlocks);
		transactions += s->transactions;
		print_message("# %s worker %d: %ld transactions, %ld back-offs\n",
			      stress_array[n].fn == stress_inorder_work   ? "inorder"
			      : stress_array[n].fn == stress_reorder_work ? "reorder"
									  : "one",
			      n, s->transactions, s->backoffs);
	}
	for (int n = 0; n < nlocks; n++) {
		assert_false(ccmm_ww_mutex_is_locked(&locks[n]));
		assert_int_equal(ccmm_ww_mutex_destroy(NULL, &locks[n]), 0);
		total += held[n];
	}
	/* mutual exclusion: every counter bump of a completed transaction is there */
	assert_int_equal(total, expect);
	/* forward progress: the oldest transaction always gets through */
	assert_true(transactions > 0);
	free(locks);
	free(held);
	free(stress_array);
	free(work);
}

static void stress_inorder(void **state)
{
	stress(*state, 16, 2 * (int)num_online_cpus(), STRESS_INORDER);
}

static void stress_reorder(void **state)
{
	stress(*state, 16, 2 * (int)num_online_cpus(), STRESS_REORDER);
}

/* 2046 locks as mainline (6.12: 2047), 3 * ncpus workers of all three kinds. */
static void stress_all(void **state)
{
	stress(*state, 2046, 3 * (int)num_online_cpus(), STRESS_ALL);
}

/* Named as run_tests() calls them, with the class first (mainline's signatures). */
#define CLASS_CASES(cls)                                                                                   \
	{ "test_mutex(" #cls ")", test_mutex, NULL, NULL, &cls },                                          \
		{ "test_aa(" #cls ", false)", test_aa_lock, NULL, NULL, &cls },                            \
		{ "test_aa(" #cls ", true)", test_aa_trylock, NULL, NULL, &cls },                          \
		{ "test_abba(" #cls ", false, false)", test_abba_lock, NULL, NULL, &cls },                 \
		{ "test_abba(" #cls ", true, false)", test_abba_trylock, NULL, NULL, &cls },               \
		{ "test_abba(" #cls ", false, true)", test_abba_lock_resolve, NULL, NULL, &cls },          \
		{ "test_abba(" #cls ", true, true)", test_abba_trylock_resolve, NULL, NULL, &cls },        \
		{ "test_cycle(" #cls ", ncpus)", test_cycle, NULL, NULL, &cls },                           \
		{ "stress(" #cls ", 16, 2 * ncpus, STRESS_INORDER)", stress_inorder, NULL, NULL, &cls },   \
		{ "stress(" #cls ", 16, 2 * ncpus, STRESS_REORDER)", stress_reorder, NULL, NULL, &cls },   \
		{ "stress(" #cls ", 2046, 3 * ncpus, STRESS_ALL)", stress_all, NULL, NULL, &cls }

int main(void)
{
	/* run_test_classes(): wound-wait first, then wait-die */
	const struct CMUnitTest tests[] = { CLASS_CASES(ww_class), CLASS_CASES(wd_class) };
	int ret = cmocka_run_group_tests_name("test-ww_mutex", tests, NULL, NULL);

	return ret ? ret : atomic_load(&tcheck_failures) != 0;
}
