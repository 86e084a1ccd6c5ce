// SPDX-License-Identifier: MIT
/*
 * sched/'s sleeping mutex in modeled time, on a plain thread (no engine):
 * a taker whose clock falls inside a hold that an entity ahead of it in
 * modeled time already let go waits for that hold's end, and one whose
 * clock falls between holds waits for nothing, however late the lock was
 * held afterwards; lockstat counts the waits and holds of each entity.
 */
#include "helpers.h"

#include "sched/sched.h"

/* Take @m at @at on @se's clock and let it go @hold later; returns the clock when it got the lock. */
static uint64_t hold(struct ccmm_sched_entity *se, struct ccmm_ctx *c, struct ccmm_mutex *m, uint64_t at, uint64_t len)
{
	uint64_t got;

	ccmm_set_current(se);
	if (c->now_ns < at)
		c->now_ns = at;
	assert_int_equal(ccmm_mutex_lock(c, m), 0);
	got = c->now_ns;
	c->now_ns += len;
	assert_int_equal(ccmm_mutex_unlock(c, m), 0);
	ccmm_set_current(NULL);
	return got;
}

static void test_mutex_holds_in_modeled_time(void **state)
{
	struct ccmm_ctx ca = { .actor = 0, .now_ns = 0 }, cb = { .actor = 1, .now_ns = 0 };
	struct ccmm_sched_entity a, b;
	struct ccmm_lock_stat *sa, *sb;
	struct ccmm_mutex m;

	(void)state;
	ccmm_sched_entity_init(&a, "a", 0, &ca);
	ccmm_sched_entity_init(&b, "b", 1, &cb);
	ccmm_mutex_init(&m, "test_lock");
	/* b runs ahead: it holds the lock over [100, 150), [300, 400) and [400, 450) */
	assert_int_equal(hold(&b, &cb, &m, 100, 50), 100);
	assert_int_equal(hold(&b, &cb, &m, 300, 100), 300);
	assert_int_equal(hold(&b, &cb, &m, 400, 50), 400);
	/* a, behind it, comes at 200: the lock was free then */
	assert_int_equal(hold(&a, &ca, &m, 200, 10), 200);
	/* at 120, inside b's first hold: it gets the lock at 150 */
	ca.now_ns = 0;
	assert_int_equal(hold(&a, &ca, &m, 120, 0), 150);
	/* at 350: b's second hold, then its third right after: 450 */
	ca.now_ns = 0;
	assert_int_equal(hold(&a, &ca, &m, 350, 5), 450);
	/* after everything: no wait */
	assert_int_equal(hold(&a, &ca, &m, 1000, 0), 1000);
	sa = ccmm_lock_stat_of(&a, "test_lock", false);
	sb = ccmm_lock_stat_of(&b, "test_lock", false);
	assert_non_null(sa);
	assert_non_null(sb);
	assert_int_equal(sa->acquisitions, 4);
	assert_int_equal(sa->contentions, 2);
	assert_int_equal(sa->wait_total_ns, 30 + 100);
	assert_int_equal(sa->wait_max_ns, 100);
	assert_int_equal(sa->hold_total_ns, 15);
	assert_int_equal(sb->acquisitions, 3);
	assert_int_equal(sb->contentions, 0);
	assert_int_equal(sb->hold_total_ns, 200);
	assert_int_equal(sb->hold_max_ns, 100);
	assert_int_equal(ccmm_mutex_destroy(&m), 0);
	ccmm_sched_entity_fini(&a);
	ccmm_sched_entity_fini(&b);
}

/* A lock taken while it is held (in execution order) is a sleep; on a plain thread a second take by the holder is -EDEADLK. */
static void test_mutex_self_deadlock(void **state)
{
	struct ccmm_ctx c = { .actor = -1 };
	struct ccmm_mutex m;

	(void)state;
	ccmm_mutex_init(&m, "self");
	assert_int_equal(ccmm_mutex_lock(&c, &m), 0);
	assert_true(ccmm_mutex_is_locked(&m));
	assert_int_equal(ccmm_mutex_lock(&c, &m), -EDEADLK);
	assert_false(ccmm_mutex_trylock(&c, &m));
	assert_int_equal(ccmm_mutex_unlock(&c, &m), 0);
	assert_int_equal(ccmm_mutex_unlock(&c, &m), -EPERM);
	assert_int_equal(ccmm_mutex_destroy(&m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mutex_holds_in_modeled_time),
		cmocka_unit_test(test_mutex_self_deadlock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
