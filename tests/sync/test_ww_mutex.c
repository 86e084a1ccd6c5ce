// SPDX-License-Identifier: MIT
/*
 * ww_mutex beyond the kernel's own cases (ported in
 * tests/kernel/test-ww_mutex.c): how the two classes differ when an older
 * transaction meets a younger one, that the reservation class is the
 * kernel's wait-die, every misuse rule, and entities of the engine's sim
 * mode sharing one thread (each owns its locks, sleeps while another
 * holds them, and waits in modeled time).
 */
#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <time.h>

#include "scenario/scenario.h"
#include "sync/sync.h"

static struct ccmm_ww_class ww_class = CCMM_WW_CLASS_INIT("test_ww_class", false);
static struct ccmm_ww_class wd_class = CCMM_WW_CLASS_INIT("test_wd_class", true);

/* cmocka's asserts must stay on the main thread: workers count failures here. */
static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
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

/* ---- the reservation class ---------------------------------------------------- */

struct resv_young {
	struct ccmm_dma_resv *held, *wanted;
	struct ccmm_ww_acquire_ctx acq;
	uint64_t older_stamp;
	sem_t holds, asked;
	atomic_int result;
	atomic_bool release;
};

/* A younger transaction: holds @held, then asks for @wanted (NULL: only holds until told to release). */
static void *resv_young_thread(void *arg)
{
	struct resv_young *y = arg;
	int err = 0;

	ccmm_ww_acquire_init(&y->acq, &ccmm_reservation_ww_class);
	TCHECK(y->acq.stamp > y->older_stamp);
	TCHECK(ccmm_dma_resv_lock(NULL, y->held, &y->acq) == 0);
	sem_post(&y->holds);
	if (y->wanted) {
		err = ccmm_dma_resv_lock(NULL, y->wanted, &y->acq);
		sem_post(&y->asked);
		if (!err)
			ccmm_dma_resv_unlock(NULL, y->wanted);
	} else {
		while (!atomic_load(&y->release))
			sched_yield();
		sleep_ms(20);
	}
	atomic_store(&y->result, err);
	ccmm_dma_resv_unlock(NULL, y->held);
	TCHECK(ccmm_ww_acquire_fini(NULL, &y->acq) == 0);
	return NULL;
}

/*
 * reservation_ww_class is wait-die, as DEFINE_WD_CLASS(reservation_ww_class)
 * in drivers/dma-buf/dma-resv.c: a younger transaction holding a
 * reservation that asks for one an older transaction holds gets -EDEADLK
 * at once (the older one does nothing meanwhile); an older one asking for
 * a younger one's reservation waits for it, and the younger one is never
 * wounded.
 */
static void test_reservation_class_is_wait_die(void **state)
{
	struct ccmm_dma_resv a, b;
	struct ccmm_ww_acquire_ctx older;
	struct resv_young y = { .held = &b, .wanted = &a };
	struct timespec ts;
	pthread_t t;
	int waited;

	TCHECK_CASE();
	assert_true(ccmm_reservation_ww_class.is_wait_die);
	ccmm_dma_resv_init(&a);
	ccmm_dma_resv_init(&b);
	sem_init(&y.holds, 0, 0);
	sem_init(&y.asked, 0, 0);

	/* the younger one dies at once */
	ccmm_ww_acquire_init(&older, &ccmm_reservation_ww_class);
	y.older_stamp = older.stamp;
	assert_int_equal(ccmm_dma_resv_lock(NULL, &a, &older), 0);
	assert_int_equal(pthread_create(&t, NULL, resv_young_thread, &y), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 5;
	/* it answers while the older one still holds a (a wound-wait class would make it wait) */
	waited = sem_timedwait(&y.asked, &ts);
	if (waited)
		ccmm_dma_resv_unlock(NULL, &a); /* let it finish, then fail */
	pthread_join(t, NULL);
	assert_int_equal(waited, 0);
	assert_int_equal(atomic_load(&y.result), -EDEADLK);
	assert_true(ccmm_dma_resv_held(&a));
	assert_false(ccmm_ww_mutex_is_locked(&b.lock));

	/* the older one waits; the younger one finishes unharmed */
	sem_destroy(&y.holds);
	sem_destroy(&y.asked);
	y = (struct resv_young){ .held = &b, .wanted = NULL, .older_stamp = older.stamp };
	sem_init(&y.holds, 0, 0);
	sem_init(&y.asked, 0, 0);
	assert_int_equal(pthread_create(&t, NULL, resv_young_thread, &y), 0);
	sem_wait(&y.holds);
	atomic_store(&y.release, true);
	assert_int_equal(ccmm_dma_resv_lock(NULL, &b, &older), 0);
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&y.result), 0);
	assert_false(atomic_load(&y.acq.wounded));
	assert_int_equal(older.acquired, 2);
	ccmm_dma_resv_unlock(NULL, &b);
	ccmm_dma_resv_unlock(NULL, &a);
	assert_int_equal(ccmm_ww_acquire_fini(NULL, &older), 0);
	TCHECK_DONE();
	sem_destroy(&y.holds);
	sem_destroy(&y.asked);
	ccmm_dma_resv_fini(NULL, &a);
	ccmm_dma_resv_fini(NULL, &b);
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

/* ---- entities sharing one thread (the engine's sim mode) ------------------------- */

struct pair {
	struct ccmm_machine *m;
	struct ccmm_ww_mutex mx, my;
	struct ccmm_ctx ca, cb;
	struct ccmm_sched_entity a, b;
	int b_trylock, b_lock, b_held_before;
	uint64_t b_asked_ns, b_got_ns;
};

/* a: takes mx, holds it 1000 modeled ns across a step (b runs meanwhile), lets go. */
static int pair_a(void *arg)
{
	struct pair *p = arg;

	if (ccmm_ww_mutex_lock(&p->ca, &p->mx, NULL))
		return -1;
	p->ca.now_ns += 1000;
	ccmm_sched_point(CCMM_SP_STEP, NULL); /* b (clock 0) runs now */
	return ccmm_ww_mutex_unlock(&p->ca, &p->mx);
}

/* b: finds mx held by a; its lock sleeps until a lets go, then its clock is a's. */
static int pair_b(void *arg)
{
	struct pair *p = arg;

	ccmm_sched_point(CCMM_SP_STEP, NULL);
	p->b_held_before = ccmm_ww_mutex_held(&p->mx);
	p->b_trylock = ccmm_ww_mutex_trylock(&p->cb, &p->mx, NULL);
	p->cb.now_ns = 200;
	p->b_asked_ns = p->cb.now_ns;
	p->b_lock = ccmm_ww_mutex_lock(&p->cb, &p->mx, NULL);
	p->b_got_ns = p->cb.now_ns;
	return p->b_lock ? -1 : ccmm_ww_mutex_unlock(&p->cb, &p->mx);
}

static void pair_setup(struct pair *p)
{
	memset(p, 0, sizeof(*p));
	p->m = test_boot("");
	ccmm_ww_mutex_init(&p->mx, &ww_class);
	ccmm_ww_mutex_init(&p->my, &ww_class);
	ccmm_ctx_init(&p->ca, p->m, 0, "a");
	ccmm_ctx_init(&p->cb, p->m, 1, "b");
	ccmm_sched_entity_init(&p->a, "a", 0, &p->ca);
	ccmm_sched_entity_init(&p->b, "b", 1, &p->cb);
}

static void pair_teardown(struct pair *p)
{
	ccmm_sched_entity_fini(&p->a);
	ccmm_sched_entity_fini(&p->b);
	ccmm_shutdown(p->m);
}

/*
 * Two entities on one thread (sim mode): each owns its own locks; one that
 * finds the lock held sleeps (suspended) while the holder runs, and its
 * modeled clock moves up to the holder's release. lockstat counts the
 * contention and the wait (800 ns: asked at 200, released at 1000).
 */
static void test_entities_sleep_on_one_thread(void **state)
{
	struct pair p;
	struct ccmm_sim *sim;
	const struct ccmm_lock_stat *st = NULL;

	pair_setup(&p);
	assert_int_equal(ccmm_sim_create(p.m, CCMM_SIM_FIBERS, NULL, &sim), 0);
	assert_int_equal(ccmm_sim_spawn(sim, &p.a, pair_a, &p), 0);
	assert_int_equal(ccmm_sim_spawn(sim, &p.b, pair_b, &p), 0);
	assert_int_equal(ccmm_sim_run(sim), 0);
	ccmm_sim_destroy(sim);
	assert_false(p.b_held_before);
	assert_int_equal(p.b_trylock, 0);
	assert_int_equal(p.b_lock, 0);
	assert_int_equal(p.b_got_ns, 1000);
	assert_false(ccmm_ww_mutex_is_locked(&p.mx));
	for (size_t i = 0; i < p.b.nr_stats; i++)
		if (!strcmp(p.b.stats[i].name, "test_ww_class") && !p.b.stats[i].is_wait)
			st = &p.b.stats[i];
	assert_non_null(st);
	assert_int_equal(st->acquisitions, 1);
	assert_int_equal(st->contentions, 1);
	assert_int_equal(st->wait_total_ns, 800);
	assert_int_equal(st->wait_max_ns, 800);
	assert_int_equal(p.a.stats[0].hold_total_ns, 1000);
	pair_teardown(&p);
}

/* a: mx then my; b: my then mx; each holds its first across a step. */
static int abba_a(void *arg)
{
	struct pair *p = arg;

	ccmm_ww_mutex_lock(&p->ca, &p->mx, NULL);
	p->ca.now_ns += 10; /* b (at 0) goes next */
	ccmm_sched_point(CCMM_SP_STEP, NULL);
	ccmm_ww_mutex_lock(&p->ca, &p->my, NULL);
	return 0;
}

static int abba_b(void *arg)
{
	struct pair *p = arg;

	ccmm_ww_mutex_lock(&p->cb, &p->my, NULL);
	p->cb.now_ns += 20; /* then a (at 10) */
	ccmm_sched_point(CCMM_SP_STEP, NULL);
	ccmm_ww_mutex_lock(&p->cb, &p->mx, NULL);
	return 0;
}

/*
 * ABBA without acquire contexts between two entities of one thread: the
 * simulator finds nobody can run and reports who sleeps on what; giving
 * them up releases their locks, so nothing hangs at teardown.
 */
static void test_entities_abba_deadlock(void **state)
{
	struct pair p;
	struct ccmm_sim *sim;
	struct ccmm_sched_entity *se;
	const char *what;
	size_t n = 0;

	pair_setup(&p);
	assert_int_equal(ccmm_sim_create(p.m, CCMM_SIM_FIBERS, NULL, &sim), 0);
	assert_int_equal(ccmm_sim_spawn(sim, &p.a, abba_a, &p), 0);
	assert_int_equal(ccmm_sim_spawn(sim, &p.b, abba_b, &p), 0);
	assert_int_equal(ccmm_sim_run(sim), -EDEADLK);
	while ((se = ccmm_sim_sleeper(sim, n, &what))) {
		assert_non_null(what);
		assert_non_null(strstr(what, "test_ww_class held by"));
		assert_non_null(strstr(what, se == &p.a ? "held by b" : "held by a"));
		n++;
	}
	assert_int_equal(n, 2);
	ccmm_sim_destroy(sim);
	assert_false(ccmm_ww_mutex_is_locked(&p.mx));
	assert_false(ccmm_ww_mutex_is_locked(&p.my));
	pair_teardown(&p);
}

/* The same ABBA with wait-die contexts: the younger dies (-EDEADLK), backs off, and both finish. */
static int wd_worker(struct pair *p, struct ccmm_ctx *ctx, struct ccmm_ww_mutex *first, struct ccmm_ww_mutex *second,
		     int *backoffs)
{
	struct ccmm_ww_acquire_ctx acq;
	int err;

	ccmm_ww_acquire_init(&acq, &wd_class);
	if (ccmm_ww_mutex_lock(ctx, first, &acq))
		return -1;
	ctx->now_ns += ctx == &p->ca ? 10 : 20; /* both hold their first lock before either asks for the second */
	ccmm_sched_point(CCMM_SP_STEP, NULL);
	while ((err = ccmm_ww_mutex_lock(ctx, second, &acq)) == -EDEADLK) {
		struct ccmm_ww_mutex *t;

		(*backoffs)++;
		ccmm_ww_mutex_unlock(ctx, first);
		if (ccmm_ww_mutex_lock_slow(ctx, second, &acq))
			return -1;
		t = first;
		first = second;
		second = t;
	}
	if (err)
		return -1;
	ccmm_ww_mutex_unlock(ctx, second);
	ccmm_ww_mutex_unlock(ctx, first);
	return ccmm_ww_acquire_fini(ctx, &acq);
}

static int backoffs_a, backoffs_b;

static int wd_a(void *arg)
{
	struct pair *p = arg;

	return wd_worker(p, &p->ca, &p->mx, &p->my, &backoffs_a);
}

static int wd_b(void *arg)
{
	struct pair *p = arg;

	return wd_worker(p, &p->cb, &p->my, &p->mx, &backoffs_b);
}

static void test_entities_wait_die(void **state)
{
	struct pair p;
	struct ccmm_sim *sim;

	pair_setup(&p);
	ccmm_ww_mutex_init(&p.mx, &wd_class);
	ccmm_ww_mutex_init(&p.my, &wd_class);
	backoffs_a = backoffs_b = 0;
	assert_int_equal(ccmm_sim_create(p.m, CCMM_SIM_FIBERS, NULL, &sim), 0);
	assert_int_equal(ccmm_sim_spawn(sim, &p.a, wd_a, &p), 0);
	assert_int_equal(ccmm_sim_spawn(sim, &p.b, wd_b, &p), 0);
	assert_int_equal(ccmm_sim_run(sim), 0);
	ccmm_sim_destroy(sim);
	/* a's transaction is older: only b backs off */
	assert_int_equal(backoffs_a, 0);
	assert_int_equal(backoffs_b, 1);
	assert_false(ccmm_ww_mutex_is_locked(&p.mx));
	pair_teardown(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wound_vs_die),
		cmocka_unit_test(test_reservation_class_is_wait_die),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_entities_sleep_on_one_thread),
		cmocka_unit_test(test_entities_abba_deadlock),
		cmocka_unit_test(test_entities_wait_die),
	};

	int ret = cmocka_run_group_tests(tests, NULL, NULL);

	return ret ? ret : atomic_load(&tcheck_failures) != 0;
}
