// SPDX-License-Identifier: MIT
/*
 * ww_mutex, after the kernel's kernel/locking/test-ww_mutex.c, run for
 * both classes (wound-wait and wait-die) on real threads: mutual
 * exclusion, AA, ABBA with and without resolution, cycles, stress in
 * order / reordering / 2046 locks; plus the difference between the two
 * classes and every misuse rule.
 */
#include "helpers.h"

#include <pthread.h>
#include <semaphore.h>
#include <time.h>

#include "sync/sync.h"

static struct ccmm_ww_class ww_class = CCMM_WW_CLASS_INIT("test_ww_class", false);
static struct ccmm_ww_class wd_class = CCMM_WW_CLASS_INIT("test_wd_class", true);

/* cmocka's asserts must stay on the main thread: workers count failures here. */
static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* ---- mutual exclusion ------------------------------------------------------- */

#define MTX_TRY 1
#define MTX_CTX 2

struct mtx_work {
	struct ccmm_ww_mutex *m;
	struct ccmm_ww_class *c;
	unsigned flags;
	sem_t ready;
	atomic_int done;
};

static void *mtx_thread(void *arg)
{
	struct mtx_work *w = arg;
	struct ccmm_ww_acquire_ctx acq;

	ccmm_ww_acquire_init(&acq, w->c);
	sem_post(&w->ready);
	if (w->flags & MTX_TRY) {
		while (!ccmm_ww_mutex_trylock(NULL, w->m, (w->flags & MTX_CTX) ? &acq : NULL))
			sleep_ms(1);
	} else {
		TCHECK(ccmm_ww_mutex_lock(NULL, w->m, (w->flags & MTX_CTX) ? &acq : NULL) == 0);
	}
	atomic_store(&w->done, 1);
	ccmm_ww_mutex_unlock(NULL, w->m);
	TCHECK(ccmm_ww_acquire_fini(NULL, &acq) == 0);
	return NULL;
}

/* While the main thread holds the mutex, the worker cannot have it. */
static void mutex_case(struct ccmm_ww_class *c, unsigned flags)
{
	struct ccmm_ww_mutex m;
	struct ccmm_ww_acquire_ctx acq;
	struct mtx_work w = { &m, c, flags };
	pthread_t t;

	ccmm_ww_mutex_init(&m, c);
	ccmm_ww_acquire_init(&acq, c);
	sem_init(&w.ready, 0, 0);
	atomic_init(&w.done, 0);
	assert_int_equal(ccmm_ww_mutex_lock(NULL, &m, (flags & MTX_CTX) ? &acq : NULL), 0);
	assert_int_equal(pthread_create(&t, NULL, mtx_thread, &w), 0);
	sem_wait(&w.ready);
	sleep_ms(20);
	assert_int_equal(atomic_load(&w.done), 0); /* mutual exclusion */
	assert_int_equal(ccmm_ww_mutex_unlock(NULL, &m), 0);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&w.done), 1);
	assert_int_equal(ccmm_ww_acquire_fini(NULL, &acq), 0);
	assert_false(ccmm_ww_mutex_is_locked(&m));
	sem_destroy(&w.ready);
}

static void test_mutex(void **state)
{
	struct ccmm_ww_class *classes[] = { &ww_class, &wd_class };

	for (int i = 0; i < 2; i++)
		for (unsigned flags = 0; flags < 4; flags++)
			mutex_case(classes[i], flags);
}

/* ---- AA ------------------------------------------------------------------------- */

static void aa_case(struct ccmm_ww_class *c)
{
	struct ccmm_machine *m = test_boot("mode=none");
	struct ccmm_ctx ctx;
	struct ccmm_ww_mutex mx;
	struct ccmm_ww_acquire_ctx acq;

	ccmm_ctx_init(&ctx, m, 0, "aa");
	ccmm_ww_mutex_init(&mx, c);
	ccmm_ww_acquire_init(&acq, c);
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &mx, &acq), 0);
	assert_int_equal(acq.acquired, 1);
	/* it cannot trylock itself, with or without the context */
	assert_int_equal(ccmm_ww_mutex_trylock(&ctx, &mx, NULL), 0);
	assert_int_equal(ccmm_ww_mutex_trylock(&ctx, &mx, &acq), 0);
	/* relocking through the same context is -EALREADY, and changes nothing */
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &mx, &acq), -EALREADY);
	assert_int_equal(acq.acquired, 1);
	/* without a context it would wait for itself: refused and recorded */
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &mx, NULL), -EDEADLK);
	assert_int_equal(nviol(m, "mutex_self_deadlock"), 1);
	assert_int_equal(ccmm_ww_mutex_unlock(&ctx, &mx), 0);
	assert_int_equal(acq.acquired, 0);
	assert_int_equal(ccmm_ww_acquire_fini(&ctx, &acq), 0);
	assert_int_equal(ccmm_events_count(m), 1);
	ccmm_shutdown(m);
}

static void test_aa(void **state)
{
	aa_case(&ww_class);
	aa_case(&wd_class);
}

/* ---- ABBA ----------------------------------------------------------------------- */

struct abba {
	struct ccmm_ww_class *c;
	struct ccmm_ww_mutex a, b;
	pthread_barrier_t bar;
	bool trylock, resolve;
	int result[2];
};

static void abba_side(struct abba *x, int side)
{
	struct ccmm_ww_mutex *first = side ? &x->b : &x->a, *second = side ? &x->a : &x->b;
	struct ccmm_ww_acquire_ctx acq;
	int err;

	ccmm_ww_acquire_init(&acq, x->c);
	if (x->trylock) {
		while (!ccmm_ww_mutex_trylock(NULL, first, &acq))
			sleep_ms(1);
	} else {
		TCHECK(ccmm_ww_mutex_lock(NULL, first, &acq) == 0);
	}
	pthread_barrier_wait(&x->bar); /* both hold their first lock: a deadlock is certain */
	err = ccmm_ww_mutex_lock(NULL, second, &acq);
	if (x->resolve && err == -EDEADLK) {
		ccmm_ww_mutex_unlock(NULL, first);
		TCHECK(ccmm_ww_mutex_lock_slow(NULL, second, &acq) == 0);
		err = ccmm_ww_mutex_lock(NULL, first, &acq);
	}
	x->result[side] = err;
	if (!err)
		ccmm_ww_mutex_unlock(NULL, second);
	if (!err || !x->resolve)
		ccmm_ww_mutex_unlock(NULL, first);
	TCHECK(ccmm_ww_acquire_fini(NULL, &acq) == 0);
}

static void *abba_thread(void *arg)
{
	abba_side(arg, 1);
	return NULL;
}

static void abba_case(struct ccmm_ww_class *c, bool trylock, bool resolve)
{
	struct abba x = { .c = c, .trylock = trylock, .resolve = resolve };
	pthread_t t;

	ccmm_ww_mutex_init(&x.a, c);
	ccmm_ww_mutex_init(&x.b, c);
	pthread_barrier_init(&x.bar, NULL, 2);
	assert_int_equal(pthread_create(&t, NULL, abba_thread, &x), 0);
	abba_side(&x, 0);
	pthread_join(t, NULL);
	pthread_barrier_destroy(&x.bar);
	if (resolve) {
		/* resolution: both transactions complete */
		assert_int_equal(x.result[0], 0);
		assert_int_equal(x.result[1], 0);
	} else {
		/* exactly one of them was told to back off, the other got both locks */
		assert_true((x.result[0] == -EDEADLK) != (x.result[1] == -EDEADLK));
		assert_true(x.result[0] == 0 || x.result[1] == 0);
	}
	assert_false(ccmm_ww_mutex_is_locked(&x.a));
	assert_false(ccmm_ww_mutex_is_locked(&x.b));
}

static void test_abba(void **state)
{
	struct ccmm_ww_class *classes[] = { &ww_class, &wd_class };

	for (int i = 0; i < 2; i++)
		for (int k = 0; k < 4; k++)
			abba_case(classes[i], k & 1, k & 2);
}

/* ---- cycles ---------------------------------------------------------------------- */

struct cycle {
	struct ccmm_ww_class *c;
	struct ccmm_ww_mutex *a_mutex, *b_mutex;
	pthread_barrier_t *bar;
	int result;
	unsigned backoffs;
};

static void *cycle_thread(void *arg)
{
	struct cycle *cy = arg;
	struct ccmm_ww_acquire_ctx acq;
	int err;

	ccmm_ww_acquire_init(&acq, cy->c);
	TCHECK(ccmm_ww_mutex_lock(NULL, cy->a_mutex, &acq) == 0);
	pthread_barrier_wait(cy->bar); /* every thread holds its a: the cycle is closed */
	err = ccmm_ww_mutex_lock(NULL, cy->b_mutex, &acq);
	while (err == -EDEADLK) {
		/* back off: drop everything, sleep on the contended lock, take the other again */
		cy->backoffs++;
		if (ccmm_ww_mutex_held(cy->a_mutex))
			ccmm_ww_mutex_unlock(NULL, cy->a_mutex);
		else
			ccmm_ww_mutex_unlock(NULL, cy->b_mutex);
		TCHECK(ccmm_ww_mutex_lock_slow(NULL, acq.contending_lock, &acq) == 0);
		err = ccmm_ww_mutex_lock(NULL, ccmm_ww_mutex_held(cy->a_mutex) ? cy->b_mutex : cy->a_mutex, &acq);
	}
	cy->result = err;
	if (!err) {
		ccmm_ww_mutex_unlock(NULL, cy->b_mutex);
		ccmm_ww_mutex_unlock(NULL, cy->a_mutex);
	}
	cy->result |= ccmm_ww_acquire_fini(NULL, &acq);
	return NULL;
}

static void cycle_case(struct ccmm_ww_class *c, unsigned n)
{
	struct ccmm_ww_mutex *locks = calloc(n, sizeof(*locks));
	struct cycle *cy = calloc(n, sizeof(*cy));
	pthread_t *t = calloc(n, sizeof(*t));
	pthread_barrier_t bar;
	unsigned backoffs = 0;

	pthread_barrier_init(&bar, NULL, n);
	for (unsigned i = 0; i < n; i++)
		ccmm_ww_mutex_init(&locks[i], c);
	for (unsigned i = 0; i < n; i++) {
		cy[i] = (struct cycle){ c, &locks[i], &locks[(i + 1) % n], &bar, -1, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, cycle_thread, &cy[i]), 0);
	}
	for (unsigned i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(cy[i].result, 0);
		backoffs += cy[i].backoffs;
	}
	/* a closed cycle cannot resolve without somebody backing off */
	assert_true(backoffs >= 1);
	for (unsigned i = 0; i < n; i++)
		assert_false(ccmm_ww_mutex_is_locked(&locks[i]));
	pthread_barrier_destroy(&bar);
	free(locks);
	free(cy);
	free(t);
}

static void test_cycle(void **state)
{
	for (unsigned n = 2; n <= 5; n++) {
		cycle_case(&ww_class, n);
		cycle_case(&wd_class, n);
	}
}

/* ---- wound-wait versus wait-die ------------------------------------------------- */

struct ww_vs_wd {
	struct ccmm_ww_class *c;
	struct ccmm_ww_mutex l1, l2;
	struct ccmm_ww_acquire_ctx old_acq;
	sem_t young_holds, young_asked;
	atomic_int young_result;
};

static void *young_thread(void *arg)
{
	struct ww_vs_wd *x = arg;
	struct ccmm_ww_acquire_ctx acq;
	int err;

	ccmm_ww_acquire_init(&acq, x->c); /* younger than old_acq */
	TCHECK(acq.stamp > x->old_acq.stamp);
	TCHECK(ccmm_ww_mutex_lock(NULL, &x->l2, &acq) == 0);
	sem_post(&x->young_holds);
	sem_post(&x->young_asked);
	err = ccmm_ww_mutex_lock(NULL, &x->l1, &acq); /* held by the older transaction */
	atomic_store(&x->young_result, err);
	if (!err)
		ccmm_ww_mutex_unlock(NULL, &x->l1);
	ccmm_ww_mutex_unlock(NULL, &x->l2);
	ccmm_ww_acquire_fini(NULL, &acq);
	return NULL;
}

static void test_wound_vs_die(void **state)
{
	struct ccmm_ww_class *classes[] = { &ww_class, &wd_class };

	for (int i = 0; i < 2; i++) {
		struct ww_vs_wd x = { .c = classes[i] };
		pthread_t t;

		ccmm_ww_mutex_init(&x.l1, x.c);
		ccmm_ww_mutex_init(&x.l2, x.c);
		sem_init(&x.young_holds, 0, 0);
		sem_init(&x.young_asked, 0, 0);
		atomic_init(&x.young_result, 1);
		ccmm_ww_acquire_init(&x.old_acq, x.c);
		assert_int_equal(ccmm_ww_mutex_lock(NULL, &x.l1, &x.old_acq), 0);
		assert_int_equal(pthread_create(&t, NULL, young_thread, &x), 0);
		sem_wait(&x.young_holds);
		sem_wait(&x.young_asked);
		sleep_ms(30);
		if (x.c->is_wait_die) {
			/* wait-die: the younger requester dies at once, the older did nothing */
			pthread_join(t, NULL);
			assert_int_equal(atomic_load(&x.young_result), -EDEADLK);
			assert_int_equal(ccmm_ww_mutex_lock(NULL, &x.l2, &x.old_acq), 0);
		} else {
			/* wound-wait: the younger waits for the older ... */
			assert_int_equal(atomic_load(&x.young_result), 1);
			/* ... until the older asks for its lock and wounds it */
			assert_int_equal(ccmm_ww_mutex_lock(NULL, &x.l2, &x.old_acq), 0);
			pthread_join(t, NULL);
			assert_int_equal(atomic_load(&x.young_result), -EDEADLK);
		}
		assert_int_equal(x.old_acq.acquired, 2);
		ccmm_ww_mutex_unlock(NULL, &x.l2);
		ccmm_ww_mutex_unlock(NULL, &x.l1);
		assert_int_equal(ccmm_ww_acquire_fini(NULL, &x.old_acq), 0);
		sem_destroy(&x.young_holds);
		sem_destroy(&x.young_asked);
	}
}

/* ---- stress ----------------------------------------------------------------------- */

enum { STRESS_INORDER = 1, STRESS_REORDER = 2, STRESS_ONE = 4, STRESS_ALL = 7 };

struct stress_shared {
	struct ccmm_ww_class *c;
	struct ccmm_ww_mutex *locks;
	long *held_count;  /* per lock, written only under that lock */
	unsigned nlocks;
};

struct stress_work {
	struct stress_shared *s;
	int kind;
	unsigned loops;
	uint64_t seed;
	long done;         /* transactions that held every lock they wanted */
	unsigned long backoffs;
	int err;
};

static unsigned *random_order(unsigned n, struct ccmm_rng *r)
{
	unsigned *o = malloc(n * sizeof(*o));

	for (unsigned i = 0; i < n; i++)
		o[i] = i;
	for (unsigned i = n - 1; i > 0; i--) {
		unsigned j = (unsigned)ccmm_rng_range(r, 0, i), t = o[i];

		o[i] = o[j];
		o[j] = t;
	}
	return o;
}

/* Every lock of @order held: touch each lock's counter (a data race if exclusion failed). */
static void touch_all(struct stress_shared *s, const unsigned *order, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		s->held_count[order[i]]++;
}

static void stress_inorder(struct stress_work *w, struct ccmm_rng *r)
{
	struct stress_shared *s = w->s;
	unsigned *order = random_order(s->nlocks, r);

	for (unsigned loop = 0; loop < w->loops && !w->err; loop++) {
		struct ccmm_ww_acquire_ctx acq;
		int contended = -1, err;
		unsigned n;

		ccmm_ww_acquire_init(&acq, s->c);
retry:
		err = 0;
		for (n = 0; n < s->nlocks; n++) {
			if ((int)n == contended)
				continue;
			err = ccmm_ww_mutex_lock(NULL, &s->locks[order[n]], &acq);
			if (err < 0)
				break;
		}
		if (!err) {
			touch_all(s, order, s->nlocks);
			w->done++;
		}
		if (contended > (int)n)
			ccmm_ww_mutex_unlock(NULL, &s->locks[order[contended]]);
		contended = (int)n;
		while (n--)
			ccmm_ww_mutex_unlock(NULL, &s->locks[order[n]]);
		if (err == -EDEADLK) {
			w->backoffs++;
			if (ccmm_ww_mutex_lock_slow(NULL, &s->locks[order[contended]], &acq))
				w->err = -EINVAL;
			else
				goto retry;
		} else if (err) {
			w->err = err;
		}
		if (ccmm_ww_acquire_fini(NULL, &acq))
			w->err = -EBUSY;
	}
	free(order);
}

static void stress_reorder(struct stress_work *w, struct ccmm_rng *r)
{
	struct stress_shared *s = w->s;
	unsigned nr = s->nlocks < 16 ? s->nlocks : 16;
	unsigned *all = random_order(s->nlocks, r), *order = malloc(nr * sizeof(*order));

	memcpy(order, all, nr * sizeof(*order)); /* a random subset, in a random order */
	for (unsigned loop = 0; loop < w->loops && !w->err; loop++) {
		struct ccmm_ww_acquire_ctx acq;
		unsigned n;
		int err;

		ccmm_ww_acquire_init(&acq, s->c);
		for (n = 0; n < nr;) {
			err = ccmm_ww_mutex_lock(NULL, &s->locks[order[n]], &acq);
			if (err == -EALREADY) {
				n++;
				continue;
			}
			if (err == -EDEADLK) {
				unsigned c = order[n];

				w->backoffs++;
				for (unsigned k = 0; k < nr; k++)
					if (ccmm_ww_mutex_held(&s->locks[order[k]]))
						ccmm_ww_mutex_unlock(NULL, &s->locks[order[k]]);
				if (ccmm_ww_mutex_lock_slow(NULL, &s->locks[c], &acq)) {
					w->err = -EINVAL;
					break;
				}
				/* the contended lock goes to the front; start again */
				memmove(&order[1], &order[0], n * sizeof(*order));
				order[0] = c;
				n = 1;
				continue;
			}
			if (err) {
				w->err = err;
				break;
			}
			n++;
		}
		if (!w->err) {
			touch_all(s, order, nr);
			w->done++;
		}
		for (unsigned k = 0; k < nr; k++)
			if (ccmm_ww_mutex_held(&s->locks[order[k]]))
				ccmm_ww_mutex_unlock(NULL, &s->locks[order[k]]);
		if (ccmm_ww_acquire_fini(NULL, &acq))
			w->err = -EBUSY;
	}
	free(order);
	free(all);
}

static void stress_one(struct stress_work *w, struct ccmm_rng *r)
{
	struct stress_shared *s = w->s;

	for (unsigned loop = 0; loop < w->loops * 4 && !w->err; loop++) {
		unsigned i = (unsigned)ccmm_rng_range(r, 0, s->nlocks - 1);

		w->err = ccmm_ww_mutex_lock(NULL, &s->locks[i], NULL);
		if (w->err)
			break;
		s->held_count[i]++;
		w->done++;
		ccmm_ww_mutex_unlock(NULL, &s->locks[i]);
	}
}

static void *stress_thread(void *arg)
{
	struct stress_work *w = arg;
	struct ccmm_rng r;

	ccmm_rng_seed(&r, w->seed, 1);
	if (w->kind == STRESS_INORDER)
		stress_inorder(w, &r);
	else if (w->kind == STRESS_REORDER)
		stress_reorder(w, &r);
	else
		stress_one(w, &r);
	return NULL;
}

static void stress(struct ccmm_ww_class *c, unsigned nlocks, unsigned nthreads, int kinds, unsigned loops)
{
	struct stress_shared s = { c, calloc(nlocks, sizeof(*s.locks)), calloc(nlocks, sizeof(long)), nlocks };
	struct stress_work *w = calloc(nthreads, sizeof(*w));
	pthread_t *t = calloc(nthreads, sizeof(*t));
	long expect = 0, total = 0;
	int kind_list[3], nk = 0;

	for (int k = 1; k <= 4; k <<= 1)
		if (kinds & k)
			kind_list[nk++] = k;
	for (unsigned i = 0; i < nlocks; i++)
		ccmm_ww_mutex_init(&s.locks[i], c);
	for (unsigned i = 0; i < nthreads; i++) {
		w[i] = (struct stress_work){ &s, kind_list[i % nk], loops, 1000 + i };
		assert_int_equal(pthread_create(&t[i], NULL, stress_thread, &w[i]), 0);
	}
	for (unsigned i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].err, 0);
		/* in order and reorder: every loop ends with all its locks held once */
		if (w[i].kind != STRESS_ONE)
			assert_int_equal(w[i].done, (long)loops);
		expect += w[i].kind == STRESS_INORDER ? w[i].done * nlocks
			  : w[i].kind == STRESS_REORDER ? w[i].done * (nlocks < 16 ? nlocks : 16)
							 : w[i].done;
	}
	for (unsigned i = 0; i < nlocks; i++) {
		assert_false(ccmm_ww_mutex_is_locked(&s.locks[i]));
		total += s.held_count[i];
	}
	/* every increment happened under the lock: none lost */
	assert_int_equal(total, expect);
	free(s.locks);
	free(s.held_count);
	free(w);
	free(t);
}

static void test_stress_inorder(void **state)
{
	stress(&ww_class, 16, 4, STRESS_INORDER, 200);
	stress(&wd_class, 16, 4, STRESS_INORDER, 200);
}

static void test_stress_reorder(void **state)
{
	stress(&ww_class, 16, 4, STRESS_REORDER, 200);
	stress(&wd_class, 16, 4, STRESS_REORDER, 200);
}

static void test_stress_2046(void **state)
{
	stress(&ww_class, 2046, 6, STRESS_ALL, 6);
	stress(&wd_class, 2046, 6, STRESS_ALL, 6);
}

/* ---- misuse ---------------------------------------------------------------------- */

static void test_misuse(void **state)
{
	struct ccmm_machine *m = test_boot("mode=none");
	struct ccmm_ctx ctx;
	struct ccmm_ww_mutex a, b, other;
	struct ccmm_ww_acquire_ctx acq;

	ccmm_ctx_init(&ctx, m, 0, "misuse");
	ccmm_ww_mutex_init(&a, &ww_class);
	ccmm_ww_mutex_init(&b, &ww_class);
	ccmm_ww_mutex_init(&other, &wd_class);

	/* unlocking what one does not hold: refused, state intact */
	assert_int_equal(ccmm_ww_mutex_unlock(&ctx, &a), -EPERM);
	assert_int_equal(nviol(m, "mutex_not_owner"), 1);
	assert_false(ccmm_ww_mutex_is_locked(&a));

	/* a context of another class */
	ccmm_ww_acquire_init(&acq, &ww_class);
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &other, &acq), -EINVAL);
	assert_int_equal(nviol(m, "ww_class_mismatch"), 1);
	assert_false(ccmm_ww_mutex_is_locked(&other));

	/* locking after ww_acquire_done: recorded, and the kernel goes on */
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &a, &acq), 0);
	ccmm_ww_acquire_done(&ctx, &acq);
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &b, &acq), 0);
	assert_int_equal(nviol(m, "ww_lock_after_done"), 1);

	/* fini with locks held: refused until they are dropped */
	assert_int_equal(ccmm_ww_acquire_fini(&ctx, &acq), -EBUSY);
	assert_int_equal(nviol(m, "ww_fini_held"), 1);
	assert_int_equal(ccmm_ww_mutex_destroy(&ctx, &a), -EBUSY);
	assert_int_equal(nviol(m, "mutex_not_owner"), 2);
	ccmm_ww_mutex_unlock(&ctx, &b);
	ccmm_ww_mutex_unlock(&ctx, &a);
	assert_int_equal(ccmm_ww_acquire_fini(&ctx, &acq), 0);

	/* after -EDEADLK: another lock, or the contended one with locks held */
	ccmm_ww_acquire_init(&acq, &ww_class);
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &a, &acq), 0);
	acq.contending_lock = &b; /* as if b had just returned -EDEADLK */
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &other, &acq), -EINVAL); /* class first */
	{
		struct ccmm_ww_mutex c2;

		ccmm_ww_mutex_init(&c2, &ww_class);
		assert_int_equal(ccmm_ww_mutex_lock(&ctx, &c2, &acq), -EDEADLK);
		assert_int_equal(ccmm_ww_mutex_lock_slow(&ctx, &b, &acq), -EDEADLK);
		assert_int_equal(nviol(m, "ww_edeadlk_ignored"), 2);
		assert_false(ccmm_ww_mutex_is_locked(&c2));
	}
	/* backing off properly works */
	ccmm_ww_mutex_unlock(&ctx, &a);
	assert_int_equal(ccmm_ww_mutex_lock_slow(&ctx, &b, &acq), 0);
	assert_null(acq.contending_lock);
	assert_int_equal(ccmm_ww_mutex_lock(&ctx, &a, &acq), 0);
	ccmm_ww_mutex_unlock(&ctx, &a);
	ccmm_ww_mutex_unlock(&ctx, &b);
	assert_int_equal(ccmm_ww_acquire_fini(&ctx, &acq), 0);
	assert_int_equal(ccmm_ww_mutex_destroy(&ctx, &a), 0);
	ccmm_shutdown(m);
}

/* Two actors on one thread (the engine's sim mode): each owns its own locks, and never waits for the other. */
static void test_owner_tokens(void **state)
{
	struct ccmm_ww_mutex mx;
	struct ccmm_ww_acquire_ctx acq;
	static const char actor_a = 'a', actor_b = 'b';

	ccmm_ww_mutex_init(&mx, &ww_class);
	ccmm_ww_set_owner(&actor_a);
	assert_int_equal(ccmm_ww_mutex_lock(NULL, &mx, NULL), 0);
	assert_true(ccmm_ww_mutex_held(&mx));
	ccmm_ww_set_owner(&actor_b);
	assert_false(ccmm_ww_mutex_held(&mx));
	assert_int_equal(ccmm_ww_mutex_trylock(NULL, &mx, NULL), 0);
	/* waiting for actor a on this thread would hang: refused */
	assert_int_equal(ccmm_ww_mutex_lock(NULL, &mx, NULL), -EBUSY);
	ccmm_ww_acquire_init(&acq, &ww_class);
	assert_int_equal(ccmm_ww_mutex_lock(NULL, &mx, &acq), -EBUSY);
	assert_null(acq.contending_lock); /* not a -EDEADLK back-off */
	assert_int_equal(ccmm_ww_acquire_fini(NULL, &acq), 0);
	assert_int_equal(ccmm_ww_mutex_unlock(NULL, &mx), -EPERM); /* b does not hold it */
	ccmm_ww_set_owner(&actor_a);
	assert_int_equal(ccmm_ww_mutex_unlock(NULL, &mx), 0);
	ccmm_ww_set_owner(&actor_b);
	assert_int_equal(ccmm_ww_mutex_lock(NULL, &mx, NULL), 0);
	assert_int_equal(ccmm_ww_mutex_unlock(NULL, &mx), 0);
	ccmm_ww_set_owner(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex),
		cmocka_unit_test(test_aa),
		cmocka_unit_test(test_abba),
		cmocka_unit_test(test_cycle),
		cmocka_unit_test(test_wound_vs_die),
		cmocka_unit_test(test_stress_inorder),
		cmocka_unit_test(test_stress_reorder),
		cmocka_unit_test(test_stress_2046),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_owner_tokens),
	};

	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	return ret ? ret : atomic_load(&tcheck_failures) != 0;
}
