// SPDX-License-Identifier: MIT
/*
 * sgx on real threads: enclave threads fault, write and read their pages
 * while ksgxd and the cgroup workqueue reclaim on their own threads, with
 * cgroup limits and an over-committed EPC; a guest faults in vEPC at the
 * same time. Nothing may be lost or leaked: every byte read back is the
 * last one written, every enclave stays consistent, and when everyone has
 * exited every page and charge is back. (Run under ThreadSanitizer too.)
 * An enclave may take SIGBUS only from the kernel's own empty-LRU race.
 */
#include <pthread.h>

#include "sgx_helpers.h"

#define BASE 0x20000000ULL
#define NTHREADS 4
#define ENCL_PAGES 128
#define ACCESSES 1500

static struct ccmm_machine *m;

struct worker {
	struct proc p;
	struct ccmm_sgx_encl *e;
	int id, ret;
	uint64_t faults;
};

static void *enclave_thread(void *arg)
{
	struct worker *w = arg;
	struct ccmm_sgx_thread t = { 0 };
	struct ccmm_rng rng;
	int err;

	ccmm_rng_seed(&rng, 99, (uint64_t)w->id);
	if (ccmm_sgx_encl_create(&w->p.cur, BASE, ENCL_PAGES * CCMM_PAGE_SIZE, w->p.task->comm, &w->e)) {
		w->ret = -1;
		return NULL;
	}
	/* half the pages at build time, the rest EAUGed on first touch */
	if (ccmm_sgx_encl_add_pages(&w->p.cur, w->e, 0, 1, CCMM_PT_TCS, CCMM_EPCM_R | CCMM_EPCM_W, NULL, false, &err) != 1 ||
	    ccmm_sgx_encl_add_pages(&w->p.cur, w->e, 1, ENCL_PAGES / 2 - 1, CCMM_PT_REG, CCMM_EPCM_R | CCMM_EPCM_W, NULL,
				    false, &err) != ENCL_PAGES / 2 - 1 ||
	    ccmm_sgx_encl_init(&w->p.cur, w->e)) {
		w->ret = -2;
		return NULL;
	}
	ccmm_sgx_enter(&t, w->e);
	for (int i = 0; i < ACCESSES && !w->ret; i++) {
		uint64_t page = 1 + ccmm_rng_range(&rng, 0, ENCL_PAGES - 2);

		int r = ccmm_sgx_encl_access(&w->p.cur, &t, BASE + page * CCMM_PAGE_SIZE, ccmm_rng_range(&rng, 0, 2) == 0);

		if (r)
			w->ret = r;
		if (i % 32 == 31) { /* EEXIT / EENTER now and then */
			ccmm_sgx_exit(&t);
			ccmm_sgx_enter(&t, w->e);
		}
	}
	ccmm_sgx_exit(&t);
	w->faults = atomic_load(&w->e->nr_faults);
	return NULL;
}

struct guest {
	struct proc p;
	int ret;
	uint64_t sigbus;
};

static void *guest_thread(void *arg)
{
	struct guest *g = arg;

	for (int round = 0; round < 6 && !g->ret; round++) {
		struct ccmm_sgx_vepc *v;

		if (ccmm_sgx_vepc_open(&g->p.cur, 16 * CCMM_PAGE_SIZE, &v)) {
			g->ret = -1;
			break;
		}
		for (uint64_t i = 0; i < 16; i++)
			if (ccmm_sgx_vepc_fault(&g->p.cur, v, i))
				g->sigbus++;
		ccmm_sgx_vepc_release(&g->p.ctx, v);
	}
	return NULL;
}

static void test_threads(void **state)
{
	struct worker w[NTHREADS];
	struct guest g;
	pthread_t tid[NTHREADS + 1];
	struct ccmm_sgx *sgx;

	m = sgx_boot("1m");
	sgx = ccmm_sgx_of(m);
	assert_int_equal(ccmm_kthreads_start(m), 0); /* ksgxd and the work queue on threads of their own */
	for (int i = 0; i < NTHREADS; i++) {
		char name[16], path[32];

		snprintf(name, sizeof(name), "encl%d", i);
		snprintf(path, sizeof(path), "/st/t%d", i);
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		proc_init(m, &w[i].p, name, path, i + 1);
	}
	set_file(m, "/st/t0/misc.max", "sgx_epc 163840"); /* 40 pages */
	set_file(m, "/st/t1/misc.max", "sgx_epc 204800"); /* 50 pages */
	memset(&g, 0, sizeof(g));
	proc_init(m, &g.p, "qemu", "/st/vm", NTHREADS + 1);
	set_file(m, "/st/vm/misc.max", "sgx_epc 32768"); /* 8 pages: half its vEPC faults are SIGBUS */
	for (int i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, enclave_thread, &w[i]), 0);
	assert_int_equal(pthread_create(&tid[NTHREADS], NULL, guest_thread, &g), 0);
	for (int i = 0; i <= NTHREADS; i++)
		pthread_join(tid[i], NULL);
	if (ccmm_violations_count(m, NULL, CCMM_ANY_ACTOR)) {
		struct ccmm_event e = last_event(m);

		fail_msg("violation %s: %s", e.rule->name, e.msg);
	}
	for (int i = 0, ran = 0; i < NTHREADS; i++) {
		char path[32];

		snprintf(path, sizeof(path), "/st/t%d", i);
		/*
		 * Every enclave runs to its end, but for one race that the
		 * kernel has too: a fault that finds no free page and the
		 * active list (its cgroup's LRU) empty, because ksgxd or the
		 * cgroup work has isolated every page of it for reclaim at that
		 * instant, gets -ENOMEM from the allocation and the enclave
		 * SIGBUS (sgx_alloc_epc_page's list_empty() check, the series'
		 * sgx_cgroup_try_charge's). Then the cgroup counted that OOM.
		 */
		if (w[i].ret) {
			assert_int_equal(w[i].ret, -EFAULT);
			assert_int_equal(ccmm_task_signal_pending(w[i].p.task), SIGBUS);
			assert_true(cg_stats(m, path).oom > 0);
		} else {
			ran++;
		}
		assert_int_equal(ccmm_sgx_encl_is_valid(w[i].e), 0);
		assert_true(w[i].faults > 0);
		if (i == NTHREADS - 1)
			assert_true(ran >= NTHREADS - 1);
	}
	assert_int_equal(g.ret, 0);
	assert_true(g.sigbus >= 6 * 8);
	/* nothing lost, no EPCM fault, no livelock */
	if (ccmm_violations_count(m, NULL, CCMM_ANY_ACTOR)) {
		struct ccmm_event e = last_event(m);

		fail_msg("violation %s: %s", e.rule->name, e.msg);
	}
	assert_true(misc_pages(m, "/st/t0") <= 40);
	assert_true(misc_pages(m, "/st/t1") <= 50);
	assert_true(atomic_load(&sgx->ksgxd.rounds) > 0);
	ccmm_kthreads_stop(m);
	for (int i = 0; i < NTHREADS; i++) {
		ccmm_sgx_encl_put(&w[i].p.ctx, w[i].e);
		proc_exit(m, &w[i].p);
	}
	proc_exit(m, &g.p);
	assert_int_equal(misc_pages(m, "/"), 0);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
	{
		struct ccmm_cgroup *st = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), "/st");

		assert_int_equal(ccmm_memcg_usage(st), 0);
		ccmm_cgroup_put(st);
	}
	ccmm_shutdown(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
