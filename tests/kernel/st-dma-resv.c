// SPDX-License-Identifier: MIT
/*
 * The kernel's drivers/dma-buf/st-dma-resv.c, ported case by case to
 * ccmm's dma_resv. The kernel runs its five subtests once per usage
 * (KERNEL, WRITE, READ, BOOKKEEP); so does the port, each TAP case named
 * "subtest(usage)". Every case also checks that no rule was broken.
 */
#include "port.h"

#include "sync/sync.h"

static struct ccmm_ctx ctx;

static int group_setup(void **state)
{
	port_group_setup(state);
	ccmm_ctx_init(&ctx, port_machine, 0, "st-dma-resv");
	return 0;
}

static const char *fence_name(struct ccmm_dma_fence *f)
{
	(void)f;
	return "selftest";
}

static const struct ccmm_dma_fence_ops fence_ops = {
	.get_driver_name = fence_name,
	.get_timeline_name = fence_name,
};

/* alloc_fence: context 0, seqno 0, freed (here: quarantined) on the last put. */
static struct ccmm_dma_fence *alloc_fence(void)
{
	struct ccmm_dma_fence *f;

	assert_int_equal(ccmm_dma_fence_create(port_machine, &fence_ops, 0, 0, &f), 0);
	return f;
}

static enum ccmm_dma_resv_usage usage_of(void **state)
{
	return (enum ccmm_dma_resv_usage)(uintptr_t) * state;
}

/* dma_resv_init, lock, reserve one slot, add @f with @usage: every case but sanitycheck starts so. */
static void resv_with_fence(struct ccmm_dma_resv *resv, struct ccmm_dma_fence *f, enum ccmm_dma_resv_usage usage)
{
	ccmm_dma_fence_enable_sw_signaling(&ctx, f);
	ccmm_dma_resv_init(resv);
	/* "Resv locking failed" */
	assert_int_equal(ccmm_dma_resv_lock(&ctx, resv, NULL), 0);
	/* "Resv shared slot allocation failed" */
	assert_int_equal(ccmm_dma_resv_reserve_fences(&ctx, resv, 1), 0);
	assert_int_equal(ccmm_dma_resv_add_fence(&ctx, resv, f, usage), 0);
}

static void sanitycheck(void **state)
{
	struct ccmm_dma_resv resv;
	struct ccmm_dma_fence *f = alloc_fence();

	(void)state;
	ccmm_dma_fence_enable_sw_signaling(&ctx, f);
	ccmm_dma_fence_signal(&ctx, f);
	ccmm_dma_fence_put(&ctx, f);
	ccmm_dma_resv_init(&resv);
	/* "Resv locking failed" */
	assert_int_equal(ccmm_dma_resv_lock(&ctx, &resv, NULL), 0);
	assert_int_equal(ccmm_dma_resv_unlock(&ctx, &resv), 0);
	ccmm_dma_resv_fini(&ctx, &resv);
}

static void test_signaling(void **state)
{
	enum ccmm_dma_resv_usage usage = usage_of(state);
	struct ccmm_dma_resv resv;
	struct ccmm_dma_fence *f = alloc_fence();

	resv_with_fence(&resv, f, usage);
	/* "Resv unexpectedly signaled" */
	assert_false(ccmm_dma_resv_test_signaled(&ctx, &resv, usage));
	ccmm_dma_fence_signal(&ctx, f);
	/* "Resv not reporting signaled" */
	assert_true(ccmm_dma_resv_test_signaled(&ctx, &resv, usage));
	assert_int_equal(ccmm_dma_resv_unlock(&ctx, &resv), 0);
	ccmm_dma_resv_fini(&ctx, &resv);
	ccmm_dma_fence_put(&ctx, f);
}

static void test_for_each(void **state)
{
	enum ccmm_dma_resv_usage usage = usage_of(state);
	struct ccmm_dma_resv_iter cursor;
	struct ccmm_dma_fence *f = alloc_fence(), *fence;
	struct ccmm_dma_resv resv;
	int r;

	resv_with_fence(&resv, f, usage);
	r = -ENOENT;
	ccmm_dma_resv_for_each_fence(&ctx, &cursor, &resv, usage, fence) {
		/* "More than one fence found" */
		assert_int_not_equal(r, 0);
		/* "Unexpected fence" */
		assert_ptr_equal(fence, f);
		/* "Unexpected fence usage" */
		assert_int_equal(ccmm_dma_resv_iter_usage(&cursor), usage);
		r = 0;
	}
	/* "No fence found" */
	assert_int_equal(r, 0);
	ccmm_dma_fence_signal(&ctx, f);
	assert_int_equal(ccmm_dma_resv_unlock(&ctx, &resv), 0);
	ccmm_dma_resv_fini(&ctx, &resv);
	ccmm_dma_fence_put(&ctx, f);
}

static void test_for_each_unlocked(void **state)
{
	enum ccmm_dma_resv_usage usage = usage_of(state);
	struct ccmm_dma_resv_iter cursor;
	struct ccmm_dma_fence *f = alloc_fence(), *fence;
	struct ccmm_dma_resv resv;
	int r;

	resv_with_fence(&resv, f, usage);
	assert_int_equal(ccmm_dma_resv_unlock(&ctx, &resv), 0);

	r = -ENOENT;
	ccmm_dma_resv_iter_begin(&cursor, &resv, usage);
	ccmm_dma_resv_for_each_fence_unlocked(&ctx, &cursor, fence) {
		/* "More than one fence found" */
		assert_int_not_equal(r, 0);
		/* "No restart flag" */
		assert_true(ccmm_dma_resv_iter_is_restarted(&cursor));
		/* "Unexpected fence" */
		assert_ptr_equal(fence, f);
		/* "Unexpected fence usage" */
		assert_int_equal(ccmm_dma_resv_iter_usage(&cursor), usage);
		/* We use r as state here */
		if (r == -ENOENT) {
			r = -EINVAL;
			/* That should trigger an restart */
			cursor.fences_gen = ~(uint64_t)0;
		} else if (r == -EINVAL) {
			r = 0;
		}
	}
	/* "No fence found" */
	assert_int_equal(r, 0);
	ccmm_dma_resv_iter_end(&ctx, &cursor);
	ccmm_dma_fence_signal(&ctx, f);
	ccmm_dma_resv_fini(&ctx, &resv);
	ccmm_dma_fence_put(&ctx, f);
}

static void test_get_fences(void **state)
{
	enum ccmm_dma_resv_usage usage = usage_of(state);
	struct ccmm_dma_fence *f = alloc_fence(), **fences = NULL;
	struct ccmm_dma_resv resv;
	unsigned i;

	resv_with_fence(&resv, f, usage);
	assert_int_equal(ccmm_dma_resv_unlock(&ctx, &resv), 0);
	/* "get_fences failed" */
	assert_int_equal(ccmm_dma_resv_get_fences(&ctx, &resv, usage, &i, &fences), 0);
	/* "get_fences returned unexpected fence" */
	assert_int_equal(i, 1);
	assert_ptr_equal(fences[0], f);
	ccmm_dma_fence_signal(&ctx, f);
	while (i--)
		ccmm_dma_fence_put(&ctx, fences[i]);
	free(fences);
	ccmm_dma_resv_fini(&ctx, &resv);
	ccmm_dma_fence_put(&ctx, f);
}

#define CASE(fn, u, uname) { #fn "(" uname ")", fn, NULL, port_case_teardown, (void *)(uintptr_t)(u) }
#define USAGE_CASES(u, uname)                                                                    \
	CASE(sanitycheck, u, uname), CASE(test_signaling, u, uname), CASE(test_for_each, u, uname), \
		CASE(test_for_each_unlocked, u, uname), CASE(test_get_fences, u, uname)

int main(void)
{
	/* dma_resv(): every subtest for each usage, KERNEL to BOOKKEEP */
	const struct CMUnitTest tests[] = {
		USAGE_CASES(CCMM_RESV_USAGE_KERNEL, "kernel"),
		USAGE_CASES(CCMM_RESV_USAGE_WRITE, "write"),
		USAGE_CASES(CCMM_RESV_USAGE_READ, "read"),
		USAGE_CASES(CCMM_RESV_USAGE_BOOKKEEP, "bookkeep"),
	};

	return cmocka_run_group_tests_name("st-dma-resv", tests, group_setup, port_group_teardown);
}
