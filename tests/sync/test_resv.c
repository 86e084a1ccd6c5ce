// SPDX-License-Identifier: MIT
/*
 * dma_resv beyond the kernel's own cases (ported in
 * tests/kernel/st-dma-resv.c): what the usages mean (a query up to READ
 * sees KERNEL, WRITE and READ fences), same-context replacement, the slot
 * and lock rules, waits per usage, unlocked readers racing a writer on
 * real threads, and one regression test per divergence from
 * drivers/dma-buf/dma-resv.c that the port found.
 */
#include "helpers.h"

#include <pthread.h>
#include <time.h>

#include "sync/sync.h"

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_dma_resv resv;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->m = test_boot("mode=none");
	ccmm_ctx_init(&f->ctx, f->m, 0, "resv-test");
	ccmm_dma_resv_init(&f->resv);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ccmm_dma_resv_fini(&f->ctx, &f->resv);
	ccmm_shutdown(f->m);
	free(f);
	return 0;
}

static struct ccmm_dma_fence *fence(struct fx *f, uint64_t context, uint64_t seqno)
{
	struct ccmm_dma_fence *fe;

	assert_int_equal(ccmm_dma_fence_create(f->m, NULL, context, seqno, &fe), 0);
	return fe;
}

/* Lock, reserve one slot, add @fe with @usage, unlock. */
static void add(struct fx *f, struct ccmm_dma_fence *fe, enum ccmm_dma_resv_usage usage)
{
	assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &f->resv, NULL), 0);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 1), 0);
	assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe, usage), 0);
	assert_int_equal(ccmm_dma_resv_unlock(&f->ctx, &f->resv), 0);
}

/* KERNEL < WRITE < READ < BOOKKEEP: a query sees the fences at or below its usage. */
static void test_usage_order(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe[CCMM_RESV_USAGE_NR];
	struct ccmm_dma_fence **arr;
	unsigned n;
	FILE *out;
	char buf[1024] = "";

	for (int u = 0; u < CCMM_RESV_USAGE_NR; u++) {
		fe[u] = fence(f, ccmm_dma_fence_context_alloc(1), 1);
		add(f, fe[u], u);
	}
	for (int u = 0; u < CCMM_RESV_USAGE_NR; u++) {
		assert_int_equal(ccmm_dma_resv_get_fences(&f->ctx, &f->resv, u, &n, &arr), 0);
		assert_int_equal(n, u + 1);
		for (unsigned i = 0; i < n; i++)
			ccmm_dma_fence_put(&f->ctx, arr[i]);
		free(arr);
	}
	/* readers wait for writers; writers wait for readers too */
	assert_int_equal(ccmm_dma_resv_usage_rw(false), CCMM_RESV_USAGE_WRITE);
	assert_int_equal(ccmm_dma_resv_usage_rw(true), CCMM_RESV_USAGE_READ);
	/* signalling the READ fence: a READ query is still blocked by KERNEL and WRITE */
	ccmm_dma_fence_signal(&f->ctx, fe[CCMM_RESV_USAGE_READ]);
	assert_false(ccmm_dma_resv_test_signaled(&f->ctx, &f->resv, CCMM_RESV_USAGE_READ));
	ccmm_dma_fence_signal(&f->ctx, fe[CCMM_RESV_USAGE_KERNEL]);
	ccmm_dma_fence_signal(&f->ctx, fe[CCMM_RESV_USAGE_WRITE]);
	assert_true(ccmm_dma_resv_test_signaled(&f->ctx, &f->resv, CCMM_RESV_USAGE_READ));
	/* only memory management waits for bookkeeping work */
	assert_false(ccmm_dma_resv_test_signaled(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP));
	assert_int_equal(ccmm_dma_resv_wait_timeout(&f->ctx, &f->resv, CCMM_RESV_USAGE_READ, 1000000) > 0, 1);
	assert_int_equal(ccmm_dma_resv_wait_timeout(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP, 1000000), 0);
	/* bufinfo shows fences up to READ, as dma_resv_describe does */
	out = fmemopen(buf, sizeof(buf), "w");
	ccmm_dma_resv_describe(&f->resv, out);
	fclose(out);
	assert_non_null(strstr(buf, "\tkernel fence:ccmm ccmm seq 1 signalled\n"));
	assert_non_null(strstr(buf, "\tread fence:ccmm ccmm seq 1 signalled\n"));
	assert_null(strstr(buf, "bookkeep"));
	ccmm_dma_fence_signal(&f->ctx, fe[CCMM_RESV_USAGE_BOOKKEEP]);
	assert_true(ccmm_dma_resv_test_signaled(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP));
	for (int u = 0; u < CCMM_RESV_USAGE_NR; u++)
		ccmm_dma_fence_put(&f->ctx, fe[u]);
}

/* A later fence of the same context replaces the earlier one when its usage allows. */
static void test_replacement(void **state)
{
	struct fx *f = *state;
	uint64_t c = ccmm_dma_fence_context_alloc(1);
	struct ccmm_dma_fence *f1 = fence(f, c, 1), *f2 = fence(f, c, 2), *f3 = fence(f, c, 3), *f4 = fence(f, c, 4);
	struct ccmm_dma_fence *other = fence(f, ccmm_dma_fence_context_alloc(1), 1), *got;
	enum ccmm_dma_resv_usage gu;

	add(f, f1, CCMM_RESV_USAGE_READ);
	add(f, f2, CCMM_RESV_USAGE_READ); /* later, same usage: replaces f1 */
	assert_int_equal(f->resv.num_fences, 1);
	assert_int_equal(atomic_load(&f1->refcount), 1); /* the resv let go of f1 */
	add(f, f2, CCMM_RESV_USAGE_READ); /* the same fence again needs no new slot */
	assert_int_equal(f->resv.num_fences, 1);
	add(f, f3, CCMM_RESV_USAGE_BOOKKEEP); /* old usage READ < BOOKKEEP: kept apart */
	assert_int_equal(f->resv.num_fences, 2);
	add(f, f4, CCMM_RESV_USAGE_WRITE); /* replaces the first entry of the context it may */
	assert_int_equal(f->resv.num_fences, 2);
	assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &f->resv, NULL), 0);
	assert_int_equal(ccmm_dma_resv_fence_at(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP, 0, &got, &gu), 0);
	assert_ptr_equal(got, f4);
	assert_int_equal(gu, CCMM_RESV_USAGE_WRITE);
	ccmm_dma_resv_unlock(&f->ctx, &f->resv);
	/* an older fence of the context does not replace a newer one */
	add(f, f1, CCMM_RESV_USAGE_WRITE);
	assert_int_equal(f->resv.num_fences, 3);
	/* any signalled fence is replaced by whatever comes next */
	ccmm_dma_fence_signal(&f->ctx, f3);
	add(f, other, CCMM_RESV_USAGE_KERNEL);
	assert_int_equal(f->resv.num_fences, 3);
	/* replace_fences: every fence of the context becomes the replacement */
	assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &f->resv, NULL), 0);
	assert_int_equal(ccmm_dma_resv_replace_fences(&f->ctx, &f->resv, c, other, CCMM_RESV_USAGE_BOOKKEEP), 0);
	for (unsigned i = 0; ccmm_dma_resv_fence_at(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP, i, &got, &gu) == 0; i++)
		assert_ptr_equal(got, other);
	ccmm_dma_resv_unlock(&f->ctx, &f->resv);
	assert_int_equal(ccmm_events_count(f->m), 0);
	ccmm_dma_fence_put(&f->ctx, f1);
	ccmm_dma_fence_put(&f->ctx, f2);
	ccmm_dma_fence_put(&f->ctx, f3);
	ccmm_dma_fence_put(&f->ctx, f4);
	ccmm_dma_fence_put(&f->ctx, other);
}

/* Adding needs the lock and a reserved slot, in the same locked section. */
static void test_rules(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe = fence(f, ccmm_dma_fence_context_alloc(1), 1);
	struct ccmm_dma_fence *fe2 = fence(f, ccmm_dma_fence_context_alloc(1), 1);

	assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe, CCMM_RESV_USAGE_WRITE), -EINVAL);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 1), -EINVAL);
	assert_int_equal(nviol(f->m, "resv_not_locked"), 2);
	assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &f->resv, NULL), 0);
	assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe, CCMM_RESV_USAGE_WRITE), -ENOSPC);
	assert_int_equal(nviol(f->m, "resv_no_slot"), 1);
	assert_int_equal(f->resv.num_fences, 0);
	assert_int_equal(atomic_load(&fe->refcount), 1); /* no reference leaked */
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 1), 0);
	ccmm_dma_resv_unlock(&f->ctx, &f->resv);
	/* the reservation does not survive the unlock */
	assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &f->resv, NULL), 0);
	assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe, CCMM_RESV_USAGE_WRITE), -ENOSPC);
	assert_int_equal(nviol(f->m, "resv_no_slot"), 2);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 2), 0);
	assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe, CCMM_RESV_USAGE_WRITE), 0);
	assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe2, CCMM_RESV_USAGE_WRITE), 0);
	ccmm_dma_fence_signal(&f->ctx, fe2);
	ccmm_dma_fence_put(&f->ctx, fe2);
	ccmm_dma_resv_unlock(&f->ctx, &f->resv);
	assert_int_equal(ccmm_dma_resv_unlock(&f->ctx, &f->resv), -EPERM);
	assert_int_equal(nviol(f->m, "mutex_not_owner"), 1);
	ccmm_dma_fence_signal(&f->ctx, fe);
	ccmm_dma_fence_put(&f->ctx, fe);
}

struct writer {
	struct ccmm_machine *m;
	struct ccmm_dma_resv *resv;
	unsigned n;
};

/* Adds fences and signals them while readers take snapshots without the lock. */
static void *writer_thread(void *arg)
{
	struct writer *w = arg;
	struct ccmm_ctx ctx;
	uint64_t c = ccmm_dma_fence_context_alloc(1);

	ccmm_ctx_init(&ctx, w->m, 1, "writer");
	for (unsigned i = 1; i <= w->n; i++) {
		struct ccmm_dma_fence *fe;

		TCHECK(ccmm_dma_fence_create(w->m, NULL, c, i, &fe) == 0);
		TCHECK(ccmm_dma_resv_lock(&ctx, w->resv, NULL) == 0);
		TCHECK(ccmm_dma_resv_reserve_fences(&ctx, w->resv, 1) == 0);
		TCHECK(ccmm_dma_resv_add_fence(&ctx, w->resv, fe, (enum ccmm_dma_resv_usage)(i % 4)) == 0);
		ccmm_dma_resv_unlock(&ctx, w->resv);
		ccmm_dma_fence_signal(&ctx, fe);
		ccmm_dma_fence_put(&ctx, fe);
	}
	return NULL;
}

struct reader {
	struct ccmm_machine *m;
	struct ccmm_dma_resv *resv;
	atomic_bool *stop;
	unsigned long snapshots;
};

static void *reader_thread(void *arg)
{
	struct reader *r = arg;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, r->m, 2, "reader");
	while (!atomic_load(r->stop)) {
		struct ccmm_dma_fence **arr;
		unsigned n;

		TCHECK(ccmm_dma_resv_get_fences(&ctx, r->resv, CCMM_RESV_USAGE_BOOKKEEP, &n, &arr) == 0);
		for (unsigned i = 0; i < n; i++) {
			TCHECK(arr[i]->magic != 0);
			ccmm_dma_fence_put(&ctx, arr[i]);
		}
		free(arr);
		ccmm_dma_resv_wait_timeout(&ctx, r->resv, CCMM_RESV_USAGE_READ, 1000000);
		r->snapshots++;
	}
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	struct fx *f = *state;
	atomic_bool stop = false;
	struct writer w = { f->m, &f->resv, 3000 };
	struct reader rd[2] = { { f->m, &f->resv, &stop }, { f->m, &f->resv, &stop } };
	pthread_t tw, tr[2];

	TCHECK_CASE();
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&tr[i], NULL, reader_thread, &rd[i]), 0);
	assert_int_equal(pthread_create(&tw, NULL, writer_thread, &w), 0);
	pthread_join(tw, NULL);
	atomic_store(&stop, true);
	for (int i = 0; i < 2; i++)
		pthread_join(tr[i], NULL);
	TCHECK_DONE();
	/* every fence of the one context replaced its predecessor (or a signalled one) */
	assert_true(f->resv.num_fences <= 4);
	assert_true(ccmm_dma_resv_test_signaled(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP));
	assert_int_equal(ccmm_events_count(f->m), 0);
}

struct late_signal {
	struct ccmm_machine *m;
	struct ccmm_dma_fence *fe;
};

static void *late_signal_thread(void *arg)
{
	struct late_signal *l = arg;
	struct ccmm_ctx ctx;
	struct timespec ts = { 0, 10 * 1000000L };

	ccmm_ctx_init(&ctx, l->m, 1, "gpu");
	nanosleep(&ts, NULL);
	TCHECK(ccmm_dma_fence_signal(&ctx, l->fe) == 0);
	return NULL;
}

/* A wait for WRITE fences returns when another thread signals the writer's fence. */
static void test_wait_threads(void **state)
{
	struct fx *f = *state;
	struct late_signal l = { f->m, fence(f, ccmm_dma_fence_context_alloc(1), 1) };
	struct ccmm_dma_fence *rd = fence(f, ccmm_dma_fence_context_alloc(1), 1);
	pthread_t t;

	TCHECK_CASE();
	add(f, l.fe, CCMM_RESV_USAGE_WRITE);
	add(f, rd, CCMM_RESV_USAGE_READ); /* never signalled; a reader's wait ignores it */
	assert_int_equal(pthread_create(&t, NULL, late_signal_thread, &l), 0);
	assert_true(ccmm_dma_resv_wait_timeout(&f->ctx, &f->resv, CCMM_RESV_USAGE_WRITE, 5LL * 1000000000) > 0);
	pthread_join(t, NULL);
	assert_int_equal(ccmm_dma_resv_wait_timeout(&f->ctx, &f->resv, CCMM_RESV_USAGE_READ, 1000000), 0);
	ccmm_dma_fence_signal(&f->ctx, rd);
	ccmm_dma_fence_put(&f->ctx, rd);
	ccmm_dma_fence_put(&f->ctx, l.fe);
	TCHECK_DONE();
}

/*
 * The unlocked walk (dma_resv_iter_walk_unlocked in drivers/dma-buf/
 * dma-resv.c) returns only fences not yet signalled, so
 * dma_resv_get_fences(), dma_resv_test_signaled() and
 * dma_resv_wait_timeout() never see a signalled one; the locked walk
 * (dma_resv_iter_next) and dma_resv_describe() see them all.
 */
static void test_unlocked_queries_skip_signalled(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *done = fence(f, ccmm_dma_fence_context_alloc(1), 1);
	struct ccmm_dma_fence *busy = fence(f, ccmm_dma_fence_context_alloc(1), 1);
	struct ccmm_dma_fence **arr, *it;
	struct ccmm_dma_resv_iter cursor;
	unsigned n = 0;
	char buf[512] = "";
	FILE *out;

	add(f, done, CCMM_RESV_USAGE_WRITE);
	add(f, busy, CCMM_RESV_USAGE_READ);
	ccmm_dma_fence_signal(&f->ctx, done);
	assert_int_equal(ccmm_dma_resv_get_fences(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP, &n, &arr), 0);
	assert_int_equal(n, 1);
	assert_ptr_equal(arr[0], busy);
	ccmm_dma_fence_put(&f->ctx, arr[0]);
	free(arr);
	assert_true(ccmm_dma_resv_test_signaled(&f->ctx, &f->resv, CCMM_RESV_USAGE_WRITE));
	assert_false(ccmm_dma_resv_test_signaled(&f->ctx, &f->resv, CCMM_RESV_USAGE_READ));
	assert_int_equal(ccmm_dma_resv_wait_timeout(&f->ctx, &f->resv, CCMM_RESV_USAGE_READ, 0), 0);
	/* locked: both */
	assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &f->resv, NULL), 0);
	n = 0;
	ccmm_dma_resv_for_each_fence(&f->ctx, &cursor, &f->resv, CCMM_RESV_USAGE_BOOKKEEP, it)
		n++;
	assert_int_equal(n, 2);
	ccmm_dma_resv_unlock(&f->ctx, &f->resv);
	out = fmemopen(buf, sizeof(buf), "w");
	ccmm_dma_resv_describe(&f->resv, out);
	fclose(out);
	assert_string_equal(buf, "\twrite fence:ccmm ccmm seq 1 signalled\n\tread fence:ccmm ccmm seq 1 unsignalled\n");
	ccmm_dma_fence_signal(&f->ctx, busy);
	/* all signalled: a zero timeout still answers 1 */
	assert_int_equal(ccmm_dma_resv_wait_timeout(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP, 0), 1);
	assert_int_equal(ccmm_dma_resv_get_fences(&f->ctx, &f->resv, CCMM_RESV_USAGE_BOOKKEEP, &n, &arr), 0);
	assert_int_equal(n, 0);
	assert_null(arr);
	ccmm_dma_fence_put(&f->ctx, done);
	ccmm_dma_fence_put(&f->ctx, busy);
	assert_int_equal(ccmm_events_count(f->m), 0);
}

/*
 * dma_resv_reserve_fences (drivers/dma-buf/dma-resv.c): zero is a WARN and
 * -EINVAL; room left: nothing happens; otherwise a new list of max(4,
 * roundup_pow_of_two(n)) or max(num + n, 2 * max) slots, and
 * dma_resv_list_alloc makes its whole kmalloc bucket usable (24-byte
 * header, 8 bytes a slot: 1 asked gives kmalloc-64, 5 slots); the
 * signalled fences are dropped on the way. dma_resv_add_fence may use
 * every slot of the bucket in the same locked section.
 */
static void test_reserve_semantics(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *fe[6];
	uint64_t gen;

	for (int i = 0; i < 6; i++)
		fe[i] = fence(f, ccmm_dma_fence_context_alloc(1), 1);
	assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &f->resv, NULL), 0);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 0), -EINVAL);
	assert_int_equal(nviol(f->m, "resv_reserve_zero"), 1);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 1), 0);
	assert_int_equal(f->resv.max_fences, 5);
	for (int i = 0; i < 5; i++)
		assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe[i], CCMM_RESV_USAGE_READ), 0);
	assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe[5], CCMM_RESV_USAGE_READ), -ENOSPC);
	assert_int_equal(nviol(f->m, "resv_no_slot"), 1);
	/* a full list grows to max(5 + 1, 2 * 5) = 10 slots, kmalloc-128: 13; signalled fences go */
	ccmm_dma_fence_signal(&f->ctx, fe[1]);
	ccmm_dma_fence_signal(&f->ctx, fe[3]);
	gen = f->resv.gen;
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 1), 0);
	assert_int_equal(f->resv.max_fences, 13);
	assert_int_equal(f->resv.num_fences, 3);
	assert_int_equal(f->resv.gen, gen + 1);
	assert_int_equal(atomic_load(&fe[1]->refcount), 1); /* the list let go of them */
	assert_int_equal(atomic_load(&fe[3]->refcount), 1);
	/* room left: nothing changes */
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 10), 0);
	assert_int_equal(f->resv.gen, gen + 1);
	assert_int_equal(ccmm_dma_resv_add_fence(&f->ctx, &f->resv, fe[5], CCMM_RESV_USAGE_READ), 0);
	/* 3 + 1 + 10 > 13: max(14, 26), kmalloc-256: 29 */
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 10), 0);
	assert_int_equal(f->resv.max_fences, 29);
	ccmm_dma_resv_unlock(&f->ctx, &f->resv);
	/* a debug kernel forgets the unused slots at the unlock */
	assert_int_equal(f->resv.max_fences, f->resv.num_fences);
	for (int i = 0; i < 6; i++) {
		ccmm_dma_fence_signal(&f->ctx, fe[i]);
		ccmm_dma_fence_put(&f->ctx, fe[i]);
	}
	/* a first reservation of 9: 16 slots, 152 bytes, kmalloc-192: 21 */
	{
		struct ccmm_dma_resv r;

		ccmm_dma_resv_init(&r);
		assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &r, NULL), 0);
		assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &r, 9), 0);
		assert_int_equal(r.max_fences, 21);
		ccmm_dma_resv_unlock(&f->ctx, &r);
		assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &r, NULL), 0);
		/* 1000: 8216 bytes, past kmalloc-8k: a 16 KiB page allocation, 2045 slots */
		assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &r, 1000), 0);
		assert_int_equal(r.max_fences, 2045);
		/* past KMALLOC_MAX_SIZE (4 MiB) kmalloc fails: -ENOMEM, the list unchanged */
		assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &r, 600000), -ENOMEM);
		assert_int_equal(r.max_fences, 2045);
		ccmm_dma_resv_unlock(&f->ctx, &r);
		ccmm_dma_resv_fini(&f->ctx, &r);
	}
}

/*
 * An unlocked walk restarts when the list it walks was replaced
 * (dma_resv_iter_next_unlocked compares the list pointer; ccmm its
 * generation): the fence it returns then is the first again, flagged
 * dma_resv_iter_is_restarted.
 */
static void test_unlocked_walk_restarts(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_fence *a = fence(f, ccmm_dma_fence_context_alloc(1), 1);
	struct ccmm_dma_fence *b = fence(f, ccmm_dma_fence_context_alloc(1), 1);
	struct ccmm_dma_resv_iter cursor;
	struct ccmm_ww_acquire_ctx acq;

	add(f, a, CCMM_RESV_USAGE_WRITE);
	add(f, b, CCMM_RESV_USAGE_WRITE);
	ccmm_dma_resv_iter_begin(&cursor, &f->resv, CCMM_RESV_USAGE_READ);
	assert_ptr_equal(ccmm_dma_resv_iter_first_unlocked(&f->ctx, &cursor), a);
	assert_true(ccmm_dma_resv_iter_is_restarted(&cursor));
	assert_int_equal(atomic_load(&a->refcount), 3); /* ours, the list's, the cursor's */
	/* a writer replaces the list meanwhile */
	ccmm_ww_acquire_init(&acq, &ccmm_reservation_ww_class);
	assert_int_equal(ccmm_dma_resv_lock(&f->ctx, &f->resv, &acq), 0);
	assert_ptr_equal(ccmm_dma_resv_locking_ctx(&f->resv), &acq);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f->ctx, &f->resv, 8), 0);
	ccmm_dma_resv_unlock(&f->ctx, &f->resv);
	assert_int_equal(ccmm_ww_acquire_fini(&f->ctx, &acq), 0);
	assert_null(ccmm_dma_resv_locking_ctx(&f->resv));
	assert_ptr_equal(ccmm_dma_resv_iter_next_unlocked(&f->ctx, &cursor), a);
	assert_true(ccmm_dma_resv_iter_is_restarted(&cursor));
	assert_ptr_equal(ccmm_dma_resv_iter_next_unlocked(&f->ctx, &cursor), b);
	assert_false(ccmm_dma_resv_iter_is_restarted(&cursor));
	assert_null(ccmm_dma_resv_iter_next_unlocked(&f->ctx, &cursor));
	ccmm_dma_resv_iter_end(&f->ctx, &cursor);
	assert_int_equal(atomic_load(&a->refcount), 2);
	assert_int_equal(atomic_load(&b->refcount), 2);
	/* the locked walk needs the lock */
	ccmm_dma_resv_iter_begin(&cursor, &f->resv, CCMM_RESV_USAGE_READ);
	assert_null(ccmm_dma_resv_iter_first(&f->ctx, &cursor));
	assert_int_equal(nviol(f->m, "resv_not_locked"), 1);
	ccmm_dma_fence_signal(&f->ctx, a);
	ccmm_dma_fence_signal(&f->ctx, b);
	ccmm_dma_fence_put(&f->ctx, a);
	ccmm_dma_fence_put(&f->ctx, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_usage_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replacement, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_threads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlocked_queries_skip_signalled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reserve_semantics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlocked_walk_restarts, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
