// SPDX-License-Identifier: MIT
/*
 * dma_fence, after the kernel's drivers/dma-buf/st-dma-fence.c: signal
 * once, callbacks (early, late, removed), status and error, waits with and
 * without a timeout, the stub fence, the signal/add-callback race on real
 * threads; plus reference counting: use after the last put and release
 * with callbacks pending are detected.
 */
#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "sync/sync.h"

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->m = test_boot("mode=none");
	ccmm_ctx_init(&f->ctx, f->m, 0, "fence-test");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ccmm_shutdown(f->m);
	free(f);
	return 0;
}

static struct ccmm_dma_fence *mock_fence(struct fx *f)
{
	struct ccmm_dma_fence *fe;

	assert_int_equal(ccmm_dma_fence_create(f->m, NULL, ccmm_dma_fence_context_alloc(1), 1, &fe), 0);
	return fe;
}

struct simple_cb {
	struct ccmm_dma_fence_cb cb;
	atomic_int seen;
};

static void simple_callback(struct ccmm_dma_fence *fe, struct ccmm_dma_fence_cb *cb)
{
	atomic_fetch_add(&ccmm_container_of(cb, struct simple_cb, cb)->seen, 1);
}

static void test_signaling(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f);

	assert_false(ccmm_dma_fence_is_signaled(&f->ctx, fe));
	assert_int_equal(ccmm_dma_fence_signal(&f->ctx, fe), 0);
	assert_true(ccmm_dma_fence_is_signaled(&f->ctx, fe));
	/* a fence signals once */
	assert_int_equal(ccmm_dma_fence_signal(&f->ctx, fe), -EINVAL);
	ccmm_dma_fence_put(&f->ctx, fe);
	assert_int_equal(ccmm_events_count(f->m), 0);
}

static void test_add_callback(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f);
	struct simple_cb cb = { 0 };

	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, fe, &cb.cb, simple_callback), 0);
	assert_int_equal(atomic_load(&cb.seen), 0);
	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(atomic_load(&cb.seen), 1);
	/* a second signal does not run it again */
	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(atomic_load(&cb.seen), 1);
	ccmm_dma_fence_put(&f->ctx, fe);
}

static void test_late_add_callback(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f);
	struct simple_cb cb = { 0 };

	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, fe, &cb.cb, simple_callback), -ENOENT);
	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(atomic_load(&cb.seen), 0);
	ccmm_dma_fence_put(&f->ctx, fe);
}

static void test_rm_callback(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f);
	struct simple_cb cb = { 0 }, cb2 = { 0 };

	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, fe, &cb.cb, simple_callback), 0);
	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, fe, &cb2.cb, simple_callback), 0);
	assert_true(ccmm_dma_fence_remove_callback(&f->ctx, fe, &cb.cb));
	assert_false(ccmm_dma_fence_remove_callback(&f->ctx, fe, &cb.cb));
	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(atomic_load(&cb.seen), 0);
	assert_int_equal(atomic_load(&cb2.seen), 1);
	ccmm_dma_fence_put(&f->ctx, fe);
}

static void test_late_rm_callback(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f);
	struct simple_cb cb = { 0 };

	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, fe, &cb.cb, simple_callback), 0);
	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(atomic_load(&cb.seen), 1);
	assert_false(ccmm_dma_fence_remove_callback(&f->ctx, fe, &cb.cb));
	ccmm_dma_fence_put(&f->ctx, fe);
}

static void test_status_and_error(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f), *fe2 = mock_fence(f);

	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe), 0);
	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe), 1);

	assert_int_equal(ccmm_dma_fence_set_error(&f->ctx, fe2, -EIO), 0);
	/* the error shows only once the fence has signalled */
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe2), 0);
	ccmm_dma_fence_signal(&f->ctx, fe2);
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe2), -EIO);
	/* an error after the signal, or a non-errno, is a misuse */
	assert_int_equal(ccmm_dma_fence_set_error(&f->ctx, fe2, -ENOMEM), -EINVAL);
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe2), -EIO);
	assert_int_equal(ccmm_dma_fence_set_error(&f->ctx, fe, 5), -EINVAL);
	assert_int_equal(nviol(f->m, "fence_bad_error"), 2);
	ccmm_dma_fence_put(&f->ctx, fe);
	ccmm_dma_fence_put(&f->ctx, fe2);
}

static void test_wait(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f);

	/* a zero timeout only tests: 0 pending, 1 signalled */
	assert_int_equal(ccmm_dma_fence_wait_timeout(&f->ctx, fe, 0), 0);
	/* a short wait times out */
	assert_int_equal(ccmm_dma_fence_wait_timeout(&f->ctx, fe, 2000000), 0);
	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(ccmm_dma_fence_wait_timeout(&f->ctx, fe, 0), 1);
	assert_int_equal(ccmm_dma_fence_wait_timeout(&f->ctx, fe, 5000), 5000);
	ccmm_dma_fence_put(&f->ctx, fe);
}

struct signaller {
	struct ccmm_machine *m;
	struct ccmm_dma_fence *fe;
	int delay_ms;
};

static void *signal_later(void *arg)
{
	struct signaller *s = arg;
	struct ccmm_ctx ctx;
	struct timespec ts = { 0, s->delay_ms * 1000000L };

	ccmm_ctx_init(&ctx, s->m, 1, "signaller");
	ctx.now_ns = 777777;
	nanosleep(&ts, NULL);
	TCHECK(ccmm_dma_fence_signal(&ctx, s->fe) == 0);
	return NULL;
}

static void test_wait_timeout(void **state)
{
	struct fx *f = *state;
	struct signaller s = { f->m, mock_fence(f), 10 };
	pthread_t t;
	int64_t left;

	TCHECK_CASE();
	assert_int_equal(pthread_create(&t, NULL, signal_later, &s), 0);
	/* signalled by another thread while we wait: time is left over */
	left = ccmm_dma_fence_wait_timeout(&f->ctx, s.fe, 5LL * 1000000000);
	assert_true(left > 0 && left < 5LL * 1000000000);
	/* the waiter's modeled clock cannot be earlier than the signal */
	assert_int_equal(f->ctx.now_ns, 777777);
	pthread_join(t, NULL);
	ccmm_dma_fence_put(&f->ctx, s.fe);
	TCHECK_DONE();
}

static void test_stub(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *st[64];

	for (int i = 0; i < 64; i++) {
		st[i] = ccmm_dma_fence_get_stub();
		assert_true(ccmm_dma_fence_is_signaled(&f->ctx, st[i]));
	}
	for (int i = 0; i < 64; i++)
		ccmm_dma_fence_put(&f->ctx, st[i]);
	assert_true(ccmm_dma_fence_is_signaled(&f->ctx, ccmm_dma_fence_get_stub()));
	assert_int_equal(ccmm_events_count(f->m), 0);
}

static void test_refcount(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f), *fe2 = mock_fence(f);
	struct simple_cb cb = { 0 };

	assert_ptr_equal(ccmm_dma_fence_get(&f->ctx, fe), fe);
	ccmm_dma_fence_put(&f->ctx, fe);
	ccmm_dma_fence_signal(&f->ctx, fe);
	ccmm_dma_fence_put(&f->ctx, fe); /* the last reference */
	assert_int_equal(ccmm_events_count(f->m), 0);
	/* every later use is caught, and refused */
	assert_null(ccmm_dma_fence_get(&f->ctx, fe));
	assert_int_equal(ccmm_dma_fence_signal(&f->ctx, fe), -EINVAL);
	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, fe, &cb.cb, simple_callback), -EINVAL);
	assert_int_equal(ccmm_dma_fence_wait_timeout(&f->ctx, fe, 0), -EINVAL);
	ccmm_dma_fence_put(&f->ctx, fe);
	assert_int_equal(nviol(f->m, "fence_use_after_put"), 5);

	/* released with a callback pending: recorded, signalled with -EDEADLK so nothing dangles */
	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, fe2, &cb.cb, simple_callback), 0);
	ccmm_dma_fence_put(&f->ctx, fe2);
	assert_int_equal(nviol(f->m, "fence_release_pending"), 1);
	assert_int_equal(atomic_load(&cb.seen), 1);
	assert_int_equal(fe2->error, -EDEADLK);
}

/* Two threads each signal their fence and add a callback to the other's, before or after. */
struct race_thread {
	struct ccmm_machine *m;
	_Atomic(struct ccmm_dma_fence *) *fences;
	int id;
	bool before;
	unsigned passes;
	atomic_bool *stop;
	unsigned done, missed;
};

static void *thread_signal_callback(void *arg)
{
	struct race_thread *t = arg;
	struct ccmm_ctx ctx;
	unsigned miss = 0;

	ccmm_ctx_init(&ctx, t->m, t->id + 1, "race");
	for (unsigned pass = 0; pass < t->passes; pass++) {
		struct ccmm_dma_fence *f1, *f2 = NULL;
		struct simple_cb cb = { 0 };

		if (ccmm_dma_fence_create(t->m, NULL, 1, pass, &f1)) {
			TCHECK(0);
			break;
		}
		ccmm_dma_fence_get(&ctx, f1); /* the other thread's reference */
		atomic_store(&t->fences[t->id], f1);
		/* take the other thread's fence (it holds an extra reference for us) */
		while (!(f2 = atomic_exchange(&t->fences[!t->id], NULL)) && !atomic_load(t->stop))
			sched_yield();
		if (t->before)
			ccmm_dma_fence_signal(&ctx, f1);
		if (!f2 || ccmm_dma_fence_add_callback(&ctx, f2, &cb.cb, simple_callback)) {
			miss++;
			atomic_store(&cb.seen, 1);
		}
		if (!t->before)
			ccmm_dma_fence_signal(&ctx, f1);
		if (!atomic_load(&cb.seen))
			ccmm_dma_fence_wait_timeout(&ctx, f2, CCMM_MAX_SCHEDULE_TIMEOUT);
		/* the callback ran exactly once, or was refused because the fence had signalled */
		TCHECK(atomic_load(&cb.seen) == 1);
		ccmm_dma_fence_put(&ctx, f2);
		/* our fence: if the other thread never took it, drop its reference too */
		if (atomic_exchange(&t->fences[t->id], NULL) == f1)
			ccmm_dma_fence_put(&ctx, f1);
		ccmm_dma_fence_put(&ctx, f1);
		t->done++;
		if (atomic_load(t->stop))
			break;
	}
	atomic_store(t->stop, true);
	t->missed = miss;
	return NULL;
}

static void test_race_signal_callback(void **state)
{
	struct fx *f = *state;

	TCHECK_CASE();
	for (int pass = 0; pass <= 1; pass++) {
		_Atomic(struct ccmm_dma_fence *) fences[2] = { NULL, NULL };
		atomic_bool stop = false;
		struct race_thread t[2];
		pthread_t tid[2];

		for (int i = 0; i < 2; i++) {
			t[i] = (struct race_thread){ f->m, fences, i, pass == 1, 500, &stop };
			assert_int_equal(pthread_create(&tid[i], NULL, thread_signal_callback, &t[i]), 0);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(tid[i], NULL);
		/* the threads ran in lockstep: neither could finish without the other */
		assert_true(t[0].done + t[1].done >= 2 * 500 - 2);
		for (int i = 0; i < 2; i++) {
			struct ccmm_dma_fence *left = atomic_load(&fences[i]);

			if (left)
				ccmm_dma_fence_put(&f->ctx, left);
		}
	}
	TCHECK_DONE();
	/* no fence was used after its last put, none released with callbacks pending */
	assert_int_equal(ccmm_events_count(f->m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_signaling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_add_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rm_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_rm_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_and_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stub, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_signal_callback, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
