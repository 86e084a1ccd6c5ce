// SPDX-License-Identifier: MIT
/*
 * dma_fence beyond the kernel's own cases (ported in
 * tests/kernel/st-dma-fence.c): the default wait's results and the
 * waiter's modeled clock, reference counting (use after the last put and
 * release with callbacks pending are detected), and one regression test
 * per divergence from drivers/dma-buf/dma-fence.c and
 * include/linux/dma-fence.h that the port found.
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

/*
 * dma_fence_set_error() WARNs after the signal or for a value that is not
 * a negative errno, and stores it all the same (include/linux/dma-fence.h):
 * ccmm records fence_bad_error each time and stores it too, so
 * dma_fence_get_status() reports what a kernel would.
 */
static void test_set_error_misuse(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = mock_fence(f), *fe2 = mock_fence(f);

	assert_int_equal(ccmm_dma_fence_set_error(&f->ctx, fe, -EIO), 0);
	ccmm_dma_fence_signal(&f->ctx, fe);
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe), -EIO);
	assert_int_equal(nviol(f->m, "fence_bad_error"), 0);
	/* after the signal: recorded, and the kernel's fence->error = error happens anyway */
	assert_int_equal(ccmm_dma_fence_set_error(&f->ctx, fe, -ENOMEM), 0);
	assert_int_equal(nviol(f->m, "fence_bad_error"), 1);
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe), -ENOMEM);
	/* not an errno: recorded and stored (get_status then passes it on, as the kernel's does) */
	assert_int_equal(ccmm_dma_fence_set_error(&f->ctx, fe2, 5), 0);
	assert_int_equal(nviol(f->m, "fence_bad_error"), 2);
	ccmm_dma_fence_signal(&f->ctx, fe2);
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe2), 5);
	/* both at once: two WARN_ONs, two records */
	assert_int_equal(ccmm_dma_fence_set_error(&f->ctx, fe2, 0), 0);
	assert_int_equal(nviol(f->m, "fence_bad_error"), 4);
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, fe2), 1);
	ccmm_dma_fence_put(&f->ctx, fe);
	ccmm_dma_fence_put(&f->ctx, fe2);
}

/* dma_fence_default_wait: a zero timeout only tests (0 pending, 1 signalled); otherwise the time left. */
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
	/* dma_fence_wait_timeout: WARN_ON(timeout < 0) and -EINVAL, signalled or not */
	assert_int_equal(ccmm_dma_fence_wait_timeout(&f->ctx, fe, -1), -EINVAL);
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
	pthread_join(t, NULL);
	/*
	 * Time is left over. All of it when the signaller ran before the wait
	 * began (a loaded machine): dma_fence_default_wait returns the whole
	 * timeout for a fence already signalled.
	 */
	assert_true(left > 0 && left <= 5LL * 1000000000);
	/* the waiter's modeled clock cannot be earlier than the signal */
	assert_int_equal(f->ctx.now_ns, 777777);
	ccmm_dma_fence_put(&f->ctx, s.fe);
	TCHECK_DONE();
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

struct hw_fence {
	struct ccmm_dma_fence base;
	atomic_int enable_calls;
	atomic_bool completed; /* what the "hardware" says */
	bool enable_ok;        /* what enable_signaling answers */
};

static const char *hw_name(struct ccmm_dma_fence *f)
{
	(void)f;
	return "hw";
}

static bool hw_enable_signaling(struct ccmm_dma_fence *f)
{
	struct hw_fence *h = ccmm_container_of(f, struct hw_fence, base);

	atomic_fetch_add(&h->enable_calls, 1);
	return h->enable_ok;
}

static bool hw_signaled(struct ccmm_dma_fence *f)
{
	return atomic_load(&ccmm_container_of(f, struct hw_fence, base)->completed);
}

static void hw_release(struct ccmm_dma_fence *f)
{
	(void)f; /* on the stack */
}

static const struct ccmm_dma_fence_ops hw_ops = {
	.get_driver_name = hw_name,
	.get_timeline_name = hw_name,
	.enable_signaling = hw_enable_signaling,
	.signaled = hw_signaled,
	.release = hw_release,
};

static void hw_init(struct hw_fence *h, bool enable_ok)
{
	memset(h, 0, sizeof(*h));
	h->enable_ok = enable_ok;
	ccmm_dma_fence_init(&h->base, &hw_ops, ccmm_dma_fence_context_alloc(1), 1);
}

/*
 * __dma_fence_enable_signaling (drivers/dma-buf/dma-fence.c): the first
 * dma_fence_enable_sw_signaling(), dma_fence_add_callback() or wait calls
 * ops->enable_signaling once, dma_fence_is_signaled() does not; a false
 * answer means the fence has completed, and it is signalled on the spot.
 * dma_fence_add_callback() tests the signalled flag only, not
 * ops->signaled: a completed but unsignalled fence takes the callback,
 * which runs once dma_fence_is_signaled() polls and signals it.
 */
static void test_enable_signaling(void **state)
{
	struct fx *f = *state;
	struct simple_cb cb = { 0 }, cb2 = { 0 };
	struct hw_fence h;

	hw_init(&h, true);
	assert_false(ccmm_dma_fence_is_signaled(&f->ctx, &h.base));
	assert_int_equal(atomic_load(&h.enable_calls), 0);
	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, &h.base, &cb.cb, simple_callback), 0);
	assert_int_equal(atomic_load(&h.enable_calls), 1);
	assert_true(atomic_load(&h.base.flags) & CCMM_FENCE_ENABLE_SIGNAL);
	ccmm_dma_fence_enable_sw_signaling(&f->ctx, &h.base);
	assert_int_equal(atomic_load(&h.enable_calls), 1); /* once */
	/* the hardware completes: add_callback does not poll, is_signaled does */
	atomic_store(&h.completed, true);
	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, &h.base, &cb2.cb, simple_callback), 0);
	assert_int_equal(atomic_load(&cb.seen), 0);
	assert_true(ccmm_dma_fence_is_signaled(&f->ctx, &h.base));
	assert_int_equal(atomic_load(&cb.seen), 1);
	assert_int_equal(atomic_load(&cb2.seen), 1);
	ccmm_dma_fence_put(&f->ctx, &h.base);

	/* enable_signaling says it is done already: signalled at once, the callback refused */
	hw_init(&h, false);
	assert_int_equal(ccmm_dma_fence_add_callback(&f->ctx, &h.base, &cb.cb, simple_callback), -ENOENT);
	assert_true(atomic_load(&h.base.flags) & CCMM_FENCE_SIGNALED);
	assert_int_equal(ccmm_dma_fence_get_status(&f->ctx, &h.base), 1);
	ccmm_dma_fence_put(&f->ctx, &h.base);

	/* a wait enables signalling too */
	hw_init(&h, false);
	assert_int_equal(ccmm_dma_fence_wait_timeout(&f->ctx, &h.base, 0), 1);
	assert_int_equal(atomic_load(&h.enable_calls), 1);
	ccmm_dma_fence_put(&f->ctx, &h.base);
	assert_int_equal(ccmm_events_count(f->m), 0);
}

static const struct ccmm_dma_fence_ops ops32 = {
	.get_driver_name = hw_name,
	.get_timeline_name = hw_name,
};

/*
 * __dma_fence_is_later (include/linux/dma-fence.h): without
 * use_64bit_seqno only the low 32 bits count, with wrap-around; fences of
 * different contexts are never later than each other (WARN_ON). And
 * dma_fence_context_alloc(0) WARNs and returns the next context without
 * taking it; dma_fence_signal(NULL) is -EINVAL.
 */
static void test_is_later_and_contexts(void **state)
{
	struct fx *f = *state;
	uint64_t c = ccmm_dma_fence_context_alloc(1);
	struct ccmm_dma_fence a32, b32, *a64, *b64, *other;

	ccmm_dma_fence_init(&a32, &ops32, c, 0x100000001ULL); /* low bits 1 */
	ccmm_dma_fence_init(&b32, &ops32, c, 0xfffffffeULL);
	assert_true(ccmm_dma_fence_is_later(&a32, &b32)); /* 1 comes after 0xfffffffe once wrapped */
	assert_false(ccmm_dma_fence_is_later(&b32, &a32));
	assert_int_equal(ccmm_dma_fence_create(f->m, NULL, c, 0x100000001ULL, &a64), 0);
	assert_int_equal(ccmm_dma_fence_create(f->m, NULL, c, 0xfffffffeULL, &b64), 0);
	assert_true(ccmm_dma_fence_is_later(a64, b64)); /* ccmm's own fences have 64-bit seqnos */
	assert_int_equal(ccmm_dma_fence_create(f->m, NULL, c + 1, 5, &other), 0);
	assert_false(ccmm_dma_fence_is_later(other, b64));
	assert_false(ccmm_dma_fence_is_later(b64, other));
	/* context_alloc(0) takes nothing: the next caller gets the same context */
	c = ccmm_dma_fence_context_alloc(0);
	assert_int_equal(ccmm_dma_fence_context_alloc(1), c);
	assert_int_equal(ccmm_dma_fence_context_alloc(1), c + 1);
	assert_int_equal(ccmm_dma_fence_signal(&f->ctx, NULL), -EINVAL);
	ccmm_dma_fence_signal(&f->ctx, a64);
	ccmm_dma_fence_signal(&f->ctx, b64);
	ccmm_dma_fence_signal(&f->ctx, other);
	ccmm_dma_fence_put(&f->ctx, a64);
	ccmm_dma_fence_put(&f->ctx, b64);
	ccmm_dma_fence_put(&f->ctx, other);
	assert_int_equal(ccmm_events_count(f->m), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_set_error_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_signaling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_is_later_and_contexts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
