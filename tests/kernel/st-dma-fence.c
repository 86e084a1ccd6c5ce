// SPDX-License-Identifier: MIT
/*
 * The kernel's drivers/dma-buf/st-dma-fence.c, ported case by case to
 * ccmm's dma_fence. Each TAP case carries the kernel case's name.
 *
 * The mock fence is the kernel's: driver and timeline "mock", a custom
 * wait (dma_fence_ops.wait) that sleeps on a callback and reports a
 * timeout as -ETIME, and a release that frees it. Every case also checks
 * that no rule was broken on the way (a correct user of the API).
 *
 * Where the kernel uses RCU (race_signal_callback reads the other
 * thread's fence with dma_fence_get_rcu_safe), a mutex around the two
 * fence slots does the same job. Timers become threads.
 */
#include "port.h"

#include <pthread.h>
#include <sched.h>

#include "sync/sync.h"

#define JIFFY_NS (1000000000LL / 250) /* Debian's kernels: CONFIG_HZ=250 */
#define now_ns port_now_ns

/* ---- the mock fence -------------------------------------------------------------- */

struct mock_fence {
	struct ccmm_dma_fence base;
};

static const char *mock_name(struct ccmm_dma_fence *f)
{
	(void)f;
	return "mock";
}

static void mock_fence_release(struct ccmm_dma_fence *f)
{
	free(ccmm_container_of(f, struct mock_fence, base));
}

struct wait_cb {
	struct ccmm_dma_fence_cb cb;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool woken;
};

static void mock_wakeup(struct ccmm_dma_fence *f, struct ccmm_dma_fence_cb *cb)
{
	struct wait_cb *w = ccmm_container_of(cb, struct wait_cb, cb);

	(void)f;
	pthread_mutex_lock(&w->lock);
	w->woken = true;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* mock_wait: sleep until the callback runs or the time is up; a timeout is -ETIME. */
static int64_t mock_wait(struct ccmm_ctx *ctx, struct ccmm_dma_fence *f, int64_t timeout)
{
	struct wait_cb cb = { .woken = false };
	int64_t deadline = timeout == CCMM_MAX_SCHEDULE_TIMEOUT ? INT64_MAX : now_ns() + timeout;
	pthread_condattr_t attr;
	bool removed;

	pthread_mutex_init(&cb.lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&cb.cond, &attr);
	pthread_condattr_destroy(&attr);
	if (ccmm_dma_fence_add_callback(ctx, f, &cb.cb, mock_wakeup)) {
		pthread_mutex_destroy(&cb.lock);
		pthread_cond_destroy(&cb.cond);
		return timeout;
	}
	pthread_mutex_lock(&cb.lock);
	while (timeout) {
		if (atomic_load(&f->flags) & CCMM_FENCE_SIGNALED)
			break;
		if (deadline == INT64_MAX) {
			if (!cb.woken)
				pthread_cond_wait(&cb.cond, &cb.lock);
		} else {
			struct timespec ts = { (time_t)(deadline / 1000000000), (long)(deadline % 1000000000) };

			if (!cb.woken)
				pthread_cond_timedwait(&cb.cond, &cb.lock, &ts);
			timeout = deadline - now_ns() > 0 ? deadline - now_ns() : 0;
		}
	}
	pthread_mutex_unlock(&cb.lock);
	/* false: the callback ran (under the fence lock, now released): nothing touches cb any more */
	removed = ccmm_dma_fence_remove_callback(ctx, f, &cb.cb);
	pthread_mutex_destroy(&cb.lock);
	pthread_cond_destroy(&cb.cond);
	if (!removed)
		return timeout;
	return -ETIME;
}

static const struct ccmm_dma_fence_ops mock_ops = {
	.get_driver_name = mock_name,
	.get_timeline_name = mock_name,
	.wait = mock_wait,
	.release = mock_fence_release,
};

static struct ccmm_dma_fence *mock_fence(void)
{
	struct mock_fence *f = malloc(sizeof(*f));

	assert_non_null(f);
	ccmm_dma_fence_init(&f->base, &mock_ops, 0, 0);
	return &f->base;
}

struct simple_cb {
	struct ccmm_dma_fence_cb cb;
	atomic_bool seen;
};

static void simple_callback(struct ccmm_dma_fence *f, struct ccmm_dma_fence_cb *cb)
{
	(void)f;
	atomic_store(&ccmm_container_of(cb, struct simple_cb, cb)->seen, true);
}

/* ---- the cases -------------------------------------------------------------------- */

static void sanitycheck(void **state)
{
	struct ccmm_dma_fence *f = mock_fence();

	(void)state;
	ccmm_dma_fence_enable_sw_signaling(NULL, f);
	assert_int_equal(ccmm_dma_fence_signal(NULL, f), 0);
	ccmm_dma_fence_put(NULL, f);
}

static void test_signaling(void **state)
{
	struct ccmm_dma_fence *f = mock_fence();

	(void)state;
	ccmm_dma_fence_enable_sw_signaling(NULL, f);
	/* "Fence unexpectedly signaled on creation" */
	assert_false(ccmm_dma_fence_is_signaled(NULL, f));
	/* "Fence reported being already signaled" */
	assert_int_equal(ccmm_dma_fence_signal(NULL, f), 0);
	/* "Fence not reporting signaled" */
	assert_true(ccmm_dma_fence_is_signaled(NULL, f));
	/* "Fence reported not being already signaled" */
	assert_int_equal(ccmm_dma_fence_signal(NULL, f), -EINVAL);
	ccmm_dma_fence_put(NULL, f);
}

static void test_add_callback(void **state)
{
	struct simple_cb cb = { .seen = false };
	struct ccmm_dma_fence *f = mock_fence();

	(void)state;
	/* "Failed to add callback, fence already signaled!" */
	assert_int_equal(ccmm_dma_fence_add_callback(NULL, f, &cb.cb, simple_callback), 0);
	ccmm_dma_fence_signal(NULL, f);
	/* "Callback failed!" */
	assert_true(atomic_load(&cb.seen));
	ccmm_dma_fence_put(NULL, f);
}

static void test_late_add_callback(void **state)
{
	struct simple_cb cb = { .seen = false };
	struct ccmm_dma_fence *f = mock_fence();

	(void)state;
	ccmm_dma_fence_enable_sw_signaling(NULL, f);
	ccmm_dma_fence_signal(NULL, f);
	/* "Added callback, but fence was already signaled!" */
	assert_int_equal(ccmm_dma_fence_add_callback(NULL, f, &cb.cb, simple_callback), -ENOENT);
	ccmm_dma_fence_signal(NULL, f);
	/* "Callback called after failed attachment!" */
	assert_false(atomic_load(&cb.seen));
	ccmm_dma_fence_put(NULL, f);
}

static void test_rm_callback(void **state)
{
	struct simple_cb cb = { .seen = false };
	struct ccmm_dma_fence *f = mock_fence();

	(void)state;
	assert_int_equal(ccmm_dma_fence_add_callback(NULL, f, &cb.cb, simple_callback), 0);
	/* "Failed to remove callback!" */
	assert_true(ccmm_dma_fence_remove_callback(NULL, f, &cb.cb));
	ccmm_dma_fence_signal(NULL, f);
	/* "Callback still signaled after removal!" */
	assert_false(atomic_load(&cb.seen));
	ccmm_dma_fence_put(NULL, f);
}

static void test_late_rm_callback(void **state)
{
	struct simple_cb cb = { .seen = false };
	struct ccmm_dma_fence *f = mock_fence();

	(void)state;
	assert_int_equal(ccmm_dma_fence_add_callback(NULL, f, &cb.cb, simple_callback), 0);
	ccmm_dma_fence_signal(NULL, f);
	assert_true(atomic_load(&cb.seen));
	/* "Callback removal succeed after being executed!" */
	assert_false(ccmm_dma_fence_remove_callback(NULL, f, &cb.cb));
	ccmm_dma_fence_put(NULL, f);
}

static void test_status(void **state)
{
	struct ccmm_dma_fence *f = mock_fence();

	(void)state;
	ccmm_dma_fence_enable_sw_signaling(NULL, f);
	/* "Fence unexpectedly has signaled status on creation" */
	assert_int_equal(ccmm_dma_fence_get_status(NULL, f), 0);
	ccmm_dma_fence_signal(NULL, f);
	/* "Fence not reporting signaled status" (1: signalled without an error) */
	assert_int_equal(ccmm_dma_fence_get_status(NULL, f), 1);
	ccmm_dma_fence_put(NULL, f);
}

static void test_error(void **state)
{
	struct ccmm_dma_fence *f = mock_fence();
	struct ccmm_ctx ctx;

	(void)state;
	ccmm_ctx_init(&ctx, port_machine, 0, "st-dma-fence");
	ccmm_dma_fence_enable_sw_signaling(&ctx, f);
	assert_int_equal(ccmm_dma_fence_set_error(&ctx, f, -EIO), 0);
	/* "Fence unexpectedly has error status before signal" */
	assert_int_equal(ccmm_dma_fence_get_status(&ctx, f), 0);
	ccmm_dma_fence_signal(&ctx, f);
	/* "Fence not reporting error status" */
	assert_int_equal(ccmm_dma_fence_get_status(&ctx, f), -EIO);
	ccmm_dma_fence_put(&ctx, f);
}

static void test_wait(void **state)
{
	struct ccmm_dma_fence *f = mock_fence();

	(void)state;
	ccmm_dma_fence_enable_sw_signaling(NULL, f);
	/* "Wait reported complete before being signaled" */
	assert_int_equal(ccmm_dma_fence_wait_timeout(NULL, f, 0), -ETIME);
	ccmm_dma_fence_signal(NULL, f);
	/* "Wait reported incomplete after being signaled" (the mock returns the 0 it was given) */
	assert_int_equal(ccmm_dma_fence_wait_timeout(NULL, f, 0), 0);
	ccmm_dma_fence_signal(NULL, f);
	ccmm_dma_fence_put(NULL, f);
}

struct wait_timer {
	struct ccmm_dma_fence *f;
	int64_t expires_ns;
	atomic_bool fired;
};

/* The timer: signal the fence once it expires. */
static void *wait_timer(void *arg)
{
	struct wait_timer *wt = arg;
	int64_t left = wt->expires_ns - now_ns();

	if (left > 0) {
		struct timespec ts = { (time_t)(left / 1000000000), (long)(left % 1000000000) };

		nanosleep(&ts, NULL);
	}
	ccmm_dma_fence_signal(NULL, wt->f);
	atomic_store(&wt->fired, true);
	return NULL;
}

static void test_wait_timeout(void **state)
{
	struct wait_timer wt = { .fired = false };
	pthread_t timer;
	int64_t ret;

	(void)state;
	wt.f = mock_fence();
	ccmm_dma_fence_enable_sw_signaling(NULL, wt.f);
	/* "Wait reported complete before being signaled" */
	assert_int_equal(ccmm_dma_fence_wait_timeout(NULL, wt.f, JIFFY_NS), -ETIME);
	wt.expires_ns = now_ns() + JIFFY_NS; /* mod_timer(jiffies + 1) */
	assert_int_equal(pthread_create(&timer, NULL, wait_timer, &wt), 0);
	/*
	 * The kernel waits 2 jiffies and forgives a timer that has not fired
	 * by then; here the wait may last 250 jiffies, so only a missed wake
	 * fails (the forgiveness stays for a machine stalled that long).
	 */
	ret = ccmm_dma_fence_wait_timeout(NULL, wt.f, 250 * JIFFY_NS);
	if (ret == -ETIME && atomic_load(&wt.fired))
		fail_msg("Wait reported incomplete after timeout");
	if (ret == -ETIME)
		print_message("# Timer did not fire within the jiffy!\n");
	else
		assert_true(ret > 0 && ret <= 250 * JIFFY_NS);
	pthread_join(timer, NULL); /* del_timer_sync */
	ccmm_dma_fence_signal(NULL, wt.f);
	ccmm_dma_fence_put(NULL, wt.f);
}

static void test_stub(void **state)
{
	struct ccmm_dma_fence *f[64];
	int i;

	(void)state;
	for (i = 0; i < 64; i++) {
		f[i] = ccmm_dma_fence_get_stub();
		/* "Obtained unsignaled stub fence!" */
		assert_true(ccmm_dma_fence_is_signaled(NULL, f[i]));
	}
	while (i--)
		ccmm_dma_fence_put(NULL, f[i]);
}

/* ---- race_signal_callback ------------------------------------------------------------- */

struct race_slots {
	pthread_mutex_t lock; /* stands for RCU: a fence is read and referenced under it */
	struct ccmm_dma_fence *fences[2];
};

struct race_thread {
	struct race_slots *slots;
	atomic_bool *stop;
	bool before;
	int id;
	int err;
	unsigned long pass, miss;
};

/* dma_fence_get_rcu_safe on a slot. */
static struct ccmm_dma_fence *get_slot(struct race_slots *s, int id)
{
	struct ccmm_dma_fence *f;

	pthread_mutex_lock(&s->lock);
	f = ccmm_dma_fence_get(NULL, s->fences[id]);
	pthread_mutex_unlock(&s->lock);
	return f;
}

static void set_slot(struct race_slots *s, int id, struct ccmm_dma_fence *f)
{
	pthread_mutex_lock(&s->lock);
	s->fences[id] = f;
	pthread_mutex_unlock(&s->lock);
}

/* __wait_for_callbacks: callbacks run under the fence lock; taking it waits for them. */
static void wait_for_callbacks(struct ccmm_dma_fence *f)
{
	pthread_mutex_lock(&f->lock);
	pthread_mutex_unlock(&f->lock);
}

static void *thread_signal_callback(void *arg)
{
	struct race_thread *t = arg;

	/* at least one pass each, however late the thread starts (the kernel's loop tests first) */
	do {
		struct ccmm_dma_fence *f1 = mock_fence(), *f2;
		struct simple_cb cb;

		ccmm_dma_fence_enable_sw_signaling(NULL, f1);
		set_slot(t->slots, t->id, f1);
		do {
			f2 = get_slot(t->slots, !t->id);
		} while (!f2 && !atomic_load(t->stop));
		if (t->before)
			ccmm_dma_fence_signal(NULL, f1);
		atomic_store(&cb.seen, false);
		if (!f2 || ccmm_dma_fence_add_callback(NULL, f2, &cb.cb, simple_callback)) {
			t->miss++;
			atomic_store(&cb.seen, true);
		}
		if (!t->before)
			ccmm_dma_fence_signal(NULL, f1);
		if (!atomic_load(&cb.seen)) {
			ccmm_dma_fence_wait_timeout(NULL, f2, CCMM_MAX_SCHEDULE_TIMEOUT);
			wait_for_callbacks(f2);
		}
		if (!atomic_load(&cb.seen)) {
			fprintf(stderr,
				"Callback not seen on thread %d, pass %lu (%lu misses), signaling %s add_callback; "
				"fence signaled? %s\n",
				t->id, t->pass, t->miss, t->before ? "before" : "after",
				ccmm_dma_fence_is_signaled(NULL, f2) ? "yes" : "no");
			t->err = -EINVAL;
		}
		ccmm_dma_fence_put(NULL, f2);
		set_slot(t->slots, t->id, NULL);
		ccmm_dma_fence_put(NULL, f1);
		t->pass++;
	} while (!t->err && !atomic_load(t->stop));
	return NULL;
}

static void race_signal_callback(void **state)
{
	(void)state;
	for (int pass = 0; pass <= 1; pass++) {
		struct race_slots slots = { .fences = { NULL, NULL } };
		struct race_thread t[2];
		pthread_t task[2];
		atomic_bool stop = false;
		struct timespec ms50 = { 0, 50 * 1000000L };

		pthread_mutex_init(&slots.lock, NULL);
		for (int i = 0; i < 2; i++) {
			t[i] = (struct race_thread){ &slots, &stop, pass == 1, i, 0, 0, 0 };
			assert_int_equal(pthread_create(&task[i], NULL, thread_signal_callback, &t[i]), 0);
		}
		nanosleep(&ms50, NULL); /* msleep(50) */
		atomic_store(&stop, true);
		for (int i = 0; i < 2; i++) {
			pthread_join(task[i], NULL); /* kthread_stop_put */
			print_message("# thread_signal_callback[%d] completed %lu passes, %lu misses\n", i, t[i].pass,
				      t[i].miss);
			assert_int_equal(t[i].err, 0);
		}
		assert_null(slots.fences[0]);
		assert_null(slots.fences[1]);
		pthread_mutex_destroy(&slots.lock);
	}
}

#define CASE(fn) cmocka_unit_test_teardown(fn, port_case_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(sanitycheck),
		CASE(test_signaling),
		CASE(test_add_callback),
		CASE(test_late_add_callback),
		CASE(test_rm_callback),
		CASE(test_late_rm_callback),
		CASE(test_status),
		CASE(test_error),
		CASE(test_wait),
		CASE(test_wait_timeout),
		CASE(test_stub),
		CASE(race_signal_callback),
	};

	return cmocka_run_group_tests_name("st-dma-fence", tests, port_group_setup, port_group_teardown);
}
