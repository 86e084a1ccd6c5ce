// SPDX-License-Identifier: MIT
/*
 * sgx: the EPC and its page states, enclaves and the paging cycle (EWB
 * with version slots, ELDU, the SECS after its children, the EAUG race),
 * reclaim order and second chance, round-robin cgroup reclaim in batches
 * of 16, cgroup vs. global reclaim, ksgxd's watermarks, charge_mm, OOM,
 * virtual EPC and the alternative policies; the reference fast path (the
 * thread's TLB, data checked after aging) and batched accesses.
 */
#include "sgx_helpers.h"

#define BASE 0x10000000ULL
#define RW (CCMM_EPCM_R | CCMM_EPCM_W)

static struct ccmm_machine *m;
static struct ccmm_sgx *sgx;

static int setup(void **state)
{
	m = sgx_boot("1m"); /* 256 EPC pages */
	sgx = ccmm_sgx_of(m);
	return sgx ? 0 : -1;
}

static int teardown(void **state)
{
	ccmm_shutdown(m);
	return 0;
}

static void no_violations(void)
{
	if (ccmm_violations_count(m, NULL, CCMM_ANY_ACTOR)) {
		struct ccmm_event e = last_event(m);

		fail_msg("violation %s: %s", e.rule->name, e.msg);
	}
}

static void test_epc_init(void **state)
{
	char buf[64];
	struct ccmm_epc_page *p;

	assert_int_equal(sgx->nr_pages, 256);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
	assert_int_equal(ccmm_cgroup_read(ccmm_cgroup_root_of(m), "/misc.capacity", buf, sizeof(buf)), 16);
	assert_string_equal(buf, "sgx_epc 1048576\n");
	p = ccmm_sgx_epc_page(sgx, sgx->sections[0].base + 5 * CCMM_PAGE_SIZE);
	assert_non_null(p);
	assert_int_equal(p->pa, sgx->sections[0].base + 5 * CCMM_PAGE_SIZE);
	assert_int_equal(atomic_load(&p->state), CCMM_EPC_FREE);
	assert_null(ccmm_sgx_epc_page(sgx, 0x1000)); /* RAM */
	/* a platform without EPC: enclaves get -ENODEV */
	{
		struct ccmm_machine *m2 = test_boot("mode=none");
		struct proc p2;
		struct ccmm_sgx_encl *e;

		proc_init(m2, &p2, "p", "/", 0);
		assert_int_equal(ccmm_sgx_encl_create(&p2.cur, BASE, 8 * CCMM_PAGE_SIZE, "e", &e), -ENODEV);
		proc_exit(m2, &p2);
		ccmm_shutdown(m2);
	}
}

static void test_build_charge_release(void **state)
{
	struct proc p;
	struct ccmm_sgx_encl *e;
	struct ccmm_epc_page *reg;

	proc_init(m, &p, "a", "/a", 1);
	/* ELRANGE must be a power of two, aligned */
	assert_int_equal(ccmm_sgx_encl_create(&p.cur, BASE, 12 * CCMM_PAGE_SIZE, "bad", &e), -EINVAL);
	assert_int_equal(ccmm_sgx_encl_create(&p.cur, BASE + CCMM_PAGE_SIZE, 16 * CCMM_PAGE_SIZE, "bad", &e), -EINVAL);
	e = encl_build(&p, BASE, 16, 16);
	assert_int_equal(ccmm_sgx_encl_is_valid(e), 0);
	/* one VA page, the SECS, 16 pages: all charged to /a, a page at a time, in bytes */
	assert_int_equal(misc_pages(m, "/a"), 18);
	assert_int_equal(misc_pages(m, "/"), 18);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256 - 18);
	assert_int_equal(ccmm_sgx_encl_epc_pages(e), 18);
	assert_int_equal(e->nr_va, 1);
	assert_int_equal(e->page_cnt, 17);
	assert_int_equal(atomic_load(&e->secs.epc_page->state), CCMM_EPC_UNRECLAIMABLE);
	assert_int_equal(atomic_load(&e->va_pages[0]->epc_page->state), CCMM_EPC_UNRECLAIMABLE);
	reg = e->pages[3].epc_page;
	assert_int_equal(atomic_load(&reg->state), CCMM_EPC_RECLAIMABLE);
	assert_true(atomic_load(&reg->epcm_valid));
	assert_int_equal(atomic_load(&reg->epcm_encl), e->id);
	assert_int_equal(atomic_load(&reg->epcm_linaddr), BASE + 3 * CCMM_PAGE_SIZE);
	assert_int_equal(reg->epcm_type, CCMM_PT_REG);
	assert_int_equal(e->pages[0].epc_page->epcm_type, CCMM_PT_TCS);
	/* adding twice, after EINIT, or outside ELRANGE is refused */
	assert_int_equal(ccmm_sgx_encl_add_pages(&p.cur, e, 3, 1, CCMM_PT_REG, RW, NULL, false, NULL), -EINVAL);
	/* enclave accesses: written values read back */
	for (int i = 1; i < 16; i++)
		assert_int_equal(encl_touch(&p, e, (uint64_t)i, true), 0);
	for (int i = 1; i < 16; i++)
		assert_int_equal(encl_touch(&p, e, (uint64_t)i, false), 0);
	assert_int_equal(p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_refs)], 30);
	/* the TCS is not data: an access to it is an EPCM fault */
	assert_int_equal(encl_touch(&p, e, 0, false), -EFAULT);
	assert_int_equal(nviol(m, "epcm_fault"), 1);
	/* a non-enclave access through the same mapping gets abort-page semantics */
	{
		struct ccmm_result r;
		uint8_t b[8];

		assert_int_equal(ccmm_mm_access(&p.ctx, p.mm, CCMM_READ, BASE + 2 * CCMM_PAGE_SIZE, b, sizeof(b), &r), 0);
		assert_int_equal(r.outcome, CCMM_ABORT);
		assert_int_equal(nviol(m, "epc_access"), 1);
	}
	/* the process exits: every page, charge and mapping goes */
	proc_exit(m, &p);
	assert_int_equal(misc_pages(m, "/a"), 0);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
	assert_int_equal(sgx->nr_encls, 0);
}

/* A cgroup limit forces EWB while building and ELDU while running; the data survives. */
static void test_paging_cycle(void **state)
{
	struct proc p;
	struct ccmm_sgx_encl *e;
	struct ccmm_cgroup *cg;

	proc_init(m, &p, "pg", "/pg", 1);
	set_file(m, "/pg/misc.max", "sgx_epc 32768"); /* 8 pages */
	e = encl_build(&p, BASE, 32, 32);
	assert_true(misc_pages(m, "/pg") <= 8);
	assert_int_equal(ccmm_sgx_encl_is_valid(e), 0);
	assert_true(atomic_load(&e->nr_ewb) >= 32 - 6);
	/* every swapped page has a version slot and a backing page charged to /pg's memcg (direct reclaim) */
	cg = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), "/pg");
	assert_int_equal(ccmm_memcg_usage(cg), e->backing_pages);
	assert_true(e->backing_pages >= 32 - 6 + 1); /* data pages and a PCMD page */
	assert_int_equal(e->va_pages[0]->used, 32 - resident(e));
	/* write every page, then read it back: each comes back through ELDU */
	for (uint64_t i = 1; i < 32; i++)
		assert_int_equal(encl_touch(&p, e, i, true), 0);
	for (uint64_t i = 1; i < 32; i++)
		assert_int_equal(encl_touch(&p, e, i, false), 0);
	no_violations();
	assert_true(atomic_load(&e->nr_eldu) >= 31);
	assert_true(misc_pages(m, "/pg") <= 8);
	assert_int_equal(ccmm_sgx_encl_is_valid(e), 0);
	{
		struct ccmm_sgx_cg_stats st = cg_stats(m, "/pg");

		assert_true(st.evicted[CCMM_SGX_CAUSE_LIMIT] > 0);
		assert_int_equal(st.evicted[CCMM_SGX_CAUSE_GLOBAL], 0);
		assert_true(st.faults >= 31);
		assert_true(st.stalls > 0);
		assert_true(st.charge_fail > 0);
	}
	/* ETRACK ran; in one thread no IPI was ever needed */
	assert_true(atomic_load(&e->nr_etrack) > 0);
	assert_int_equal(atomic_load(&e->nr_ipi), 0);
	proc_exit(m, &p);
	assert_int_equal(ccmm_memcg_usage(cg), 0);
	assert_int_equal(misc_pages(m, "/pg"), 0);
	ccmm_cgroup_put(cg);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

/* The SECS is written back only after its last child, and comes back first. */
static void test_secs_after_children(void **state)
{
	struct proc p;
	struct ccmm_sgx_encl *e;
	struct ccmm_sgx_cgroup *s;

	proc_init(m, &p, "sx", "/sx", 1);
	e = encl_build(&p, BASE, 8, 8);
	s = sgx_cg(m, "/sx");
	for (uint64_t i = 1; i < 8; i++)
		assert_int_equal(encl_touch(&p, e, i, true), 0);
	/* page 5 was just used again: young, it survives the first pass */
	assert_int_equal(encl_touch(&p, e, 5, false), 0);
	{
		struct ccmm_walk w;

		/* clear the A bits of the others the way the reclaimer will see them: only 5 stays young */
		for (uint64_t i = 1; i < 8; i++)
			if (i != 5)
				ccmm_pgt_protect(&p.ctx, p.mm->pgt, BASE + i * CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, 0, CCMM_PTE_ACCESSED,
						 false);
		assert_int_equal(ccmm_pgt_walk(p.mm->pgt, BASE + 5 * CCMM_PAGE_SIZE, &w), 0);
		assert_true(w.pte & CCMM_PTE_ACCESSED);
	}
	assert_int_equal(ccmm_sgx_reclaim_pages(sgx, &p.ctx, s, NULL, CCMM_SGX_CAUSE_LIMIT), 8);
	assert_int_equal(resident(e), 1);
	assert_non_null(e->pages[5].epc_page);
	assert_non_null(e->secs.epc_page); /* a child is still there */
	assert_int_equal(e->secs_child_cnt, 1);
	/* the second pass takes page 5 (its A bit was cleared) and then the SECS */
	assert_int_equal(ccmm_sgx_reclaim_pages(sgx, &p.ctx, s, NULL, CCMM_SGX_CAUSE_LIMIT), 1);
	assert_int_equal(resident(e), 0);
	assert_null(e->secs.epc_page);
	assert_int_equal(misc_pages(m, "/sx"), 1); /* only the VA page */
	assert_int_equal(ccmm_sgx_encl_is_valid(e), 0);
	/* a fault loads the SECS, then the page; the data is intact */
	assert_int_equal(encl_touch(&p, e, 3, false), 0);
	assert_non_null(e->secs.epc_page);
	assert_int_equal(atomic_load(&e->secs.epc_page->state), CCMM_EPC_UNRECLAIMABLE);
	assert_int_equal(e->secs_child_cnt, 1);
	for (uint64_t i = 1; i < 8; i++)
		assert_int_equal(encl_touch(&p, e, i, false), 0);
	no_violations();
	assert_int_equal(ccmm_sgx_encl_is_valid(e), 0);
	proc_exit(m, &p);
	assert_int_equal(misc_pages(m, "/sx"), 0);
}

/* Seed 004: SECS reclaim vs. a page fault for EAUG. */
static void test_eaug_secs_race(void **state)
{
	struct proc p;
	struct ccmm_sgx_encl *e;
	struct ccmm_sgx_cgroup *s;

	proc_init(m, &p, "au", "/au", 1);
	e = encl_build(&p, BASE, 16, 4); /* pages 4..15 are not added: SGX2 adds them on first touch */
	s = sgx_cg(m, "/au");
	while (e->secs.epc_page)
		assert_true(ccmm_sgx_reclaim_pages(sgx, &p.ctx, s, NULL, CCMM_SGX_CAUSE_LIMIT) > 0);
	/* fixed kernel: the EAUG fault reloads the SECS first */
	assert_int_equal(encl_touch(&p, e, 9, true), 0);
	assert_non_null(e->secs.epc_page);
	assert_int_equal(atomic_load(&e->nr_eaug), 1);
	assert_true(e->pages[9].added);
	assert_int_equal(atomic_load(&e->pages[9].epc_page->epcm_pending), 0); /* EACCEPTed */
	assert_int_equal(encl_touch(&p, e, 9, false), 0);
	no_violations();
	/* the buggy kernel EAUGs with the SECS gone: the hardware faults, the task gets SIGBUS */
	while (e->secs.epc_page)
		assert_true(ccmm_sgx_reclaim_pages(sgx, &p.ctx, s, NULL, CCMM_SGX_CAUSE_LIMIT) > 0);
	sgx->eaug_race_bug = true;
	assert_int_equal(encl_touch(&p, e, 10, true), -EFAULT);
	sgx->eaug_race_bug = false;
	assert_int_equal(nviol(m, "sgx_secs_evicted"), 1);
	assert_int_equal(ccmm_task_signal_pending(p.task), SIGBUS);
	assert_false(e->pages[10].added);
	assert_int_equal(ccmm_sgx_encl_is_valid(e), 0);
	proc_exit(m, &p);
	assert_int_equal(misc_pages(m, "/au"), 0);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

/* Oldest first; recently accessed pages move to the tail (second chance). */
static void test_reclaim_order(void **state)
{
	struct proc p;
	struct ccmm_sgx_encl *e;
	struct ccmm_sgx_cgroup *s;

	proc_init(m, &p, "ro", "/ro", 1);
	e = encl_build(&p, BASE, 32, 20);
	s = sgx_cg(m, "/ro");
	for (uint64_t i = 1; i <= 4; i++)
		assert_int_equal(encl_touch(&p, e, i, false), 0);
	assert_int_equal(ccmm_sgx_reclaim_pages(sgx, &p.ctx, s, NULL, CCMM_SGX_CAUSE_LIMIT), 16);
	/* the 16 oldest were 0..15: 1..4 were young and stay, 0 and 5..15 are gone, 16..19 untouched */
	for (uint64_t i = 0; i < 20; i++)
		assert_int_equal(e->pages[i].epc_page != NULL, (i >= 1 && i <= 4) || i >= 16);
	assert_int_equal(cg_stats(m, "/ro").second_chance, 4);
	/* 16..19 are the oldest now, then 1..4, whose A bits were cleared */
	assert_int_equal(ccmm_sgx_reclaim_pages(sgx, &p.ctx, s, NULL, CCMM_SGX_CAUSE_LIMIT), 8);
	assert_int_equal(resident(e), 0);
	assert_int_equal(cg_stats(m, "/ro").evicted[CCMM_SGX_CAUSE_LIMIT], 20 + 1); /* and the SECS */
	proc_exit(m, &p);
}

/* Cgroup reclaim walks the subtree round-robin, 16 pages from one cgroup at a time. */
static void test_round_robin(void **state)
{
	struct proc x, y, z;
	struct ccmm_sgx_cgroup *root;
	const char *const paths[] = { "/rr/x", "/rr/y", "/rr/z" };
	uint64_t want[3] = { 0 };

	proc_init(m, &x, "x", "/rr/x", 1);
	proc_init(m, &y, "y", "/rr/y", 2);
	proc_init(m, &z, "z", "/rr/z", 3);
	encl_build(&x, BASE, 64, 40);
	encl_build(&y, BASE, 64, 40);
	encl_build(&z, BASE, 64, 40);
	root = sgx_cg(m, "/rr");
	/* /rr has no pages itself: each call takes one batch from the next child in order */
	for (int round = 0; round < 6; round++) {
		assert_int_equal(ccmm_sgx_cgroup_reclaim(sgx, &x.ctx, root, NULL, 16, CCMM_SGX_CAUSE_LIMIT), 16);
		want[round % 3] += 16;
		for (int i = 0; i < 3; i++)
			assert_int_equal(cg_stats(m, paths[i]).evicted[CCMM_SGX_CAUSE_LIMIT], want[i]);
	}
	/* nothing was taken from anyone outside the subtree's own cgroups, nothing counted as global */
	assert_int_equal(cg_stats(m, "/rr/x").evicted[CCMM_SGX_CAUSE_GLOBAL], 0);
	proc_exit(m, &x);
	proc_exit(m, &y);
	proc_exit(m, &z);
	assert_int_equal(misc_pages(m, "/rr"), 0);
}

/* Seed 004: hitting the cgroup limit induces cgroup reclaim; hitting the physical limit, global reclaim. */
static void test_limit_vs_global(void **state)
{
	struct proc big, small, other;

	proc_init(m, &big, "big", "/lg/big", 1);
	proc_init(m, &small, "small", "/lg/small", 2);
	proc_init(m, &other, "other", "/lg/other", 3);
	set_file(m, "/lg/small/misc.max", "sgx_epc 163840"); /* 40 pages */
	encl_build(&big, BASE, 256, 150);
	encl_build(&small, BASE, 128, 100);
	/* the small cgroup paid for its own limit, nobody else */
	assert_true(cg_stats(m, "/lg/small").evicted[CCMM_SGX_CAUSE_LIMIT] >= 60);
	assert_int_equal(cg_stats(m, "/lg/big").evicted[CCMM_SGX_CAUSE_LIMIT], 0);
	assert_int_equal(cg_stats(m, "/lg/big").evicted[CCMM_SGX_CAUSE_GLOBAL], 0);
	assert_true(misc_pages(m, "/lg/small") <= 40);
	/* the EPC runs out: global reclaim takes from every cgroup, round-robin from the root */
	encl_build(&other, BASE, 128, 120);
	assert_true(cg_stats(m, "/lg/big").evicted[CCMM_SGX_CAUSE_GLOBAL] > 0);
	assert_true(cg_stats(m, "/lg/other").evicted[CCMM_SGX_CAUSE_GLOBAL] +
			    cg_stats(m, "/lg/small").evicted[CCMM_SGX_CAUSE_GLOBAL] > 0);
	{
		double f = ccmm_sgx_fairness(m);

		assert_true(f > 0.34 && f <= 1.0);
	}
	no_violations();
	proc_exit(m, &big);
	proc_exit(m, &small);
	proc_exit(m, &other);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

/* What the task saw in test_ksgxd_watermarks, checked afterwards. */
struct watermarks {
	struct proc *p;
	struct ccmm_sgx_encl *e;
	long added, free_at_32, free_after_kick, free_after_step, free_after_nap;
	uint64_t rounds_before, rounds_after_kick, rounds_after_step, task_ns_at_kick;
};

static int watermarks_task(void *arg)
{
	struct watermarks *w = arg;
	int err;

	if (ccmm_sgx_encl_create(&w->p->cur, BASE, 256 * CCMM_PAGE_SIZE, "k", &w->e))
		return -1;
	w->added = ccmm_sgx_encl_add_pages(&w->p->cur, w->e, 0, 1, CCMM_PT_TCS, RW, NULL, false, &err);
	/* VA + SECS + 1 + 221 = 224 used, 32 free: not below the low watermark */
	w->added += ccmm_sgx_encl_add_pages(&w->p->cur, w->e, 1, 221, CCMM_PT_REG, RW, NULL, false, &err);
	w->free_at_32 = ccmm_sgx_nr_free(sgx);
	w->rounds_before = atomic_load(&sgx->ksgxd.rounds);
	/* one more page: 31 free, the allocation wakes ksgxd (it does not run it) */
	w->added += ccmm_sgx_encl_add_pages(&w->p->cur, w->e, 222, 1, CCMM_PT_REG, RW, NULL, false, &err);
	w->task_ns_at_kick = w->p->ctx.now_ns;
	w->free_after_kick = ccmm_sgx_nr_free(sgx);
	w->rounds_after_kick = atomic_load(&sgx->ksgxd.rounds);
	/* the task's next step: ksgxd, woken at the task's time, runs first, one batch and cond_resched() */
	ccmm_cond_resched();
	w->free_after_step = ccmm_sgx_nr_free(sgx);
	w->rounds_after_step = atomic_load(&sgx->ksgxd.rounds);
	/* the task sleeps 10 ms (modeled): ksgxd's round goes on, batch by batch, to the high watermark */
	{
		struct ccmm_wait_queue_head nap;
		int64_t left = 10000000;
		int ret;

		ccmm_init_waitqueue_head(&nap, NULL);
		ccmm_wait_event(&w->p->ctx, &nap, false, &left, 0, ret);
		ccmm_destroy_waitqueue_head(&nap);
		if (ret != -ETIMEDOUT)
			return -1;
	}
	w->free_after_nap = ccmm_sgx_nr_free(sgx);
	return 0;
}

/*
 * ksgxd wakes below 32 free pages and reclaims until 64 are free: a
 * kernel thread the scheduler runs beside the task, on its own clock that
 * starts at the task's time of the wake-up, yielding (cond_resched) after
 * each batch of 16 as the kernel's ksgxd loop does.
 */
static void test_ksgxd_watermarks(void **state)
{
	struct proc p;
	struct watermarks w = { &p };

	proc_init(m, &p, "k", "/k", 1);
	assert_int_equal(sim_call(m, &p.ctx, watermarks_task, &w), 0);
	assert_int_equal(w.added, 223);
	assert_int_equal(w.free_at_32, 32);
	assert_int_equal(w.rounds_before, 0);
	assert_int_equal(w.free_after_kick, 31);
	assert_int_equal(w.rounds_after_kick, 0);
	assert_int_equal(w.rounds_after_step, 1);
	/* one batch of 16, then cond_resched(): the task runs again at its earlier time */
	assert_int_equal(w.free_after_step, 31 + 16);
	/* the round goes on while the task sleeps: reclaims to 64 (in batches of 16), one round */
	assert_true(w.free_after_nap >= 64 && w.free_after_nap < 64 + 16);
	assert_int_equal(w.free_after_nap, 31 + 48);
	assert_int_equal(atomic_load(&sgx->ksgxd.rounds), 1);
	assert_int_equal(sgx->ksgxd.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)], 48);
	assert_int_equal(p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)], 0); /* the task itself never reclaimed */
	assert_int_equal(cg_stats(m, "/k").evicted[CCMM_SGX_CAUSE_GLOBAL], 48);
	/*
	 * On its own clock: it started when the task woke it (inside the
	 * allocation, before the EADD), waited for the enclave's lock while the
	 * task finished the EADD (up to 2.5us, lockstat), and ran for what it
	 * charged.
	 */
	{
		uint64_t spent = 0, waited = 0;

		for (int c = 0; c < CCMM_COST_MAX; c++)
			spent += sgx->ksgxd.ctx.cost_ns[c];
		for (size_t i = 0; i < sgx->ksgxd.se.nr_stats; i++)
			waited += sgx->ksgxd.se.stats[i].wait_total_ns;
		assert_true(spent > 48 * 7000);
		assert_int_equal(atomic_load(&sgx->ksgxd_kick_ns), w.task_ns_at_kick - 2500);
		assert_true(waited > 0 && waited <= 2500); /* less what it scanned before it asked for the lock */
		assert_int_equal(atomic_load(&sgx->ksgxd_done_ns), atomic_load(&sgx->ksgxd_kick_ns) + waited + spent);
	}
	ccmm_sgx_encl_put(&p.ctx, w.e);
	proc_exit(m, &p);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

static int ksgxd_wake_task(void *arg)
{
	struct proc *p = arg;

	ccmm_sgx_ksgxd_wake(sgx, &p->ctx);
	ccmm_cond_resched();
	return 0;
}

/* Seed 004: backing storage is charged to current->mm's memcg in direct reclaim, to an mm of the enclave for ksgxd. */
static void test_charge_mm(void **state)
{
	struct proc p1, p2;
	struct ccmm_sgx_encl *e;
	struct ccmm_cgroup *m1, *m2;
	struct ccmm_sgx_cgroup *s;
	struct ccmm_sgx_vepc *v;

	proc_init(m, &p1, "owner", "/cm/m1", 1);
	proc_init(m, &p2, "other", "/cm/m2", 2);
	m1 = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), "/cm/m1");
	m2 = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), "/cm/m2");
	e = encl_build(&p1, BASE, 64, 40);
	assert_int_equal(ccmm_sgx_encl_mm_add(&p2.ctx, e, p2.mm), 0); /* mm_list: p1, p2 */
	assert_int_equal(ccmm_sgx_vepc_open(&p2.cur, 256 * CCMM_PAGE_SIZE, &v), 0);
	s = sgx_cg(m, "/cm/m1");
	/* direct reclaim by p2: charged to p2's memcg */
	ccmm_sgx_reclaim_pages(sgx, &p2.ctx, s, p2.mm, CCMM_SGX_CAUSE_GLOBAL);
	assert_int_equal(ccmm_memcg_usage(m2), 16 + 1); /* 16 data pages, one PCMD page */
	assert_int_equal(ccmm_memcg_usage(m1), 0);
	/* indirect reclaim (NULL): the first live mm on the enclave's list, p1 */
	ccmm_sgx_reclaim_pages(sgx, &p2.ctx, s, NULL, CCMM_SGX_CAUSE_GLOBAL);
	assert_int_equal(ccmm_memcg_usage(m1), 16);
	/* with p1's task gone, p2 is the first live one */
	ccmm_task_exit(ccmm_cgroup_root_of(m), p1.task);
	p1.task = NULL;
	p1.cur.task = NULL;
	ccmm_sgx_reclaim_pages(sgx, &p2.ctx, s, NULL, CCMM_SGX_CAUSE_GLOBAL);
	/* the last 8 pages and their PCMD page, then the SECS (its page and a PCMD page for it) */
	assert_null(e->secs.epc_page);
	assert_int_equal(ccmm_memcg_usage(m2), 17 + 8 + 1 + 1 + 1);
	/* ELDU truncates backing pages: the SECS's two, then page 1's */
	{
		uint64_t before = ccmm_memcg_usage(m2) + ccmm_memcg_usage(m1);

		assert_int_equal(encl_touch(&p2, e, 1, false), 0);
		assert_int_equal(ccmm_memcg_usage(m2) + ccmm_memcg_usage(m1), before - 3);
	}
	/* ksgxd charges the same way: an mm from the list, p2's */
	{
		uint64_t before = ccmm_memcg_usage(m2);

		while (ccmm_sgx_nr_free(sgx) >= 32)
			assert_int_equal(ccmm_sgx_vepc_fault(&p2.cur, v, (uint64_t)(256 - ccmm_sgx_nr_free(sgx))), 0);
		/* the wake-up from a task; ksgxd runs under the simulator */
		assert_int_equal(sim_call(m, &p2.ctx, ksgxd_wake_task, &p2), 0);
		assert_true(atomic_load(&sgx->ksgxd.rounds) >= 1);
		/* page 1 (its PCMD page exists) and the SECS again (page and PCMD page): all to p2's memcg */
		assert_int_equal(ccmm_memcg_usage(m2), before + 3);
		assert_int_equal(ccmm_memcg_usage(m1), 16);
	}
	ccmm_sgx_vepc_release(&p2.ctx, v);
	ccmm_mm_destroy(&p1.ctx, p1.mm);
	proc_exit(m, &p2);
	assert_int_equal(ccmm_memcg_usage(m1), 0);
	assert_int_equal(ccmm_memcg_usage(m2), 0);
	ccmm_cgroup_put(m1);
	ccmm_cgroup_put(m2);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

/* Nothing reclaimable: -ENOMEM at the ioctl, SIGBUS at a fault; the enclave's release frees everything. */
static void test_oom(void **state)
{
	struct proc p, q;
	struct ccmm_sgx_encl *e;
	int err;

	proc_init(m, &p, "o", "/oom/a", 1);
	set_file(m, "/oom/a/misc.max", "sgx_epc 8192"); /* VA + SECS, nothing more */
	assert_int_equal(ccmm_sgx_encl_create(&p.cur, BASE, 16 * CCMM_PAGE_SIZE, "o", &e), 0);
	assert_int_equal(ccmm_sgx_encl_add_pages(&p.cur, e, 0, 1, CCMM_PT_TCS, RW, NULL, false, &err), -ENOMEM);
	assert_int_equal(cg_stats(m, "/oom/a").oom, 1);
	ccmm_sgx_encl_put(&p.ctx, e);
	proc_exit(m, &p);
	assert_int_equal(misc_pages(m, "/oom/a"), 0);

	/* a fault with nothing reclaimable: the SECS cannot come back under a limit lowered to the VA page */
	proc_init(m, &q, "f", "/oom/b", 1);
	e = encl_build(&q, BASE, 8, 8);
	while (e->secs.epc_page)
		ccmm_sgx_reclaim_pages(sgx, &q.ctx, sgx_cg(m, "/oom/b"), NULL, CCMM_SGX_CAUSE_LIMIT);
	assert_int_equal(misc_pages(m, "/oom/b"), 1);
	set_file(m, "/oom/b/misc.max", "sgx_epc 4096");
	assert_int_equal(encl_touch(&q, e, 2, false), -EFAULT);
	assert_int_equal(ccmm_task_signal_pending(q.task), SIGBUS);
	assert_int_equal(cg_stats(m, "/oom/b").sigbus, 1);
	assert_true(cg_stats(m, "/oom/b").oom >= 1);
	{
		struct ccmm_cgroup *cg = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), "/oom/b");

		assert_true(ccmm_memcg_usage(cg) > 0); /* backing storage held */
		proc_exit(m, &q);
		assert_int_equal(ccmm_memcg_usage(cg), 0);
		ccmm_cgroup_put(cg);
	}
	assert_int_equal(misc_pages(m, "/oom/b"), 0);
	assert_int_equal(misc_pages(m, "/"), 0);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

struct add_run {
	struct proc *p;
	struct ccmm_sgx_encl *e;
	long added;
	int err;
};

static int add_task(void *arg)
{
	struct add_run *r = arg;

	r->added = ccmm_sgx_encl_add_pages(&r->p->cur, r->e, 1, 31, CCMM_PT_REG, RW, NULL, false, &r->err);
	return 0;
}

/*
 * An EADD over the cgroup's EPC limit reclaims directly, but no page can
 * be written back: the backing storage's memcg is at memory.max and the
 * only task in it is unkillable (oom_score_adj -1000), so the memcg OOM
 * killer finds nobody and the charge fails. The kernel's loop would retry
 * forever; ccmm's waits for a page to be freed anywhere, and the engine,
 * finding nothing that could run and free one, ends the wait: the ioctl
 * fails with -ENOMEM and sgx_reclaim_livelock is recorded, once.
 */
static void test_reclaim_livelock_unkillable(void **state)
{
	struct proc p;
	struct ccmm_sgx_encl *e;
	struct add_run r;
	int err;

	(void)state;
	proc_init(m, &p, "lv", "/lv", 1);
	set_file(m, "/lv/misc.max", "sgx_epc 81920"); /* 20 pages */
	set_file(m, "/lv/memory.max", "0");
	atomic_store(&p.task->oom_score_adj, -1000);
	assert_int_equal(ccmm_sgx_encl_create(&p.cur, BASE, 32 * CCMM_PAGE_SIZE, "lv", &e), 0);
	assert_int_equal(ccmm_sgx_encl_add_pages(&p.cur, e, 0, 1, CCMM_PT_TCS, RW, NULL, false, &err), 1);
	r = (struct add_run){ &p, e, 0, 0 };
	assert_int_equal(sim_call(m, &p.ctx, add_task, &r), 0);
	assert_int_equal(r.added, 17); /* VA, SECS, TCS and 17 pages: the limit */
	assert_int_equal(r.err, -ENOMEM);
	assert_int_equal(ccmm_violations_count(m, &ccmm_rule_sgx_reclaim_livelock, CCMM_ANY_ACTOR), 1);
	assert_int_equal(misc_pages(m, "/lv"), 20);
	assert_int_equal(ccmm_task_signal_pending(p.task), 0);
	ccmm_sgx_encl_put(&p.ctx, e);
	proc_exit(m, &p);
	assert_int_equal(misc_pages(m, "/lv"), 0);
}

/* Virtual EPC: charged, never reclaimable, SIGBUS when it cannot be had. */
static void test_vepc(void **state)
{
	struct proc vmm, p;
	struct ccmm_sgx_vepc *v, *w;
	struct ccmm_sgx_encl *e;
	int err;

	proc_init(m, &vmm, "qemu", "/vm", 1);
	set_file(m, "/vm/misc.max", "sgx_epc 16384"); /* 4 pages */
	assert_int_equal(ccmm_sgx_vepc_open(&vmm.cur, 8 * CCMM_PAGE_SIZE, &v), 0);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(ccmm_sgx_vepc_fault(&vmm.cur, v, i), 0);
	assert_int_equal(atomic_load(&v->pages[2]->state), CCMM_EPC_UNRECLAIMABLE);
	assert_int_equal(misc_pages(m, "/vm"), 4);
	assert_int_equal(ccmm_sgx_vepc_fault(&vmm.cur, v, 4), -EFAULT);
	assert_int_equal(ccmm_task_signal_pending(vmm.task), SIGBUS);
	assert_int_equal(cg_stats(m, "/vm").sigbus, 1);
	assert_false(ccmm_sgx_cgroup_can_reclaim(sgx, sgx_cg(m, "/vm")));
	/* a guest access through the VMM's mapping faults the page in */
	set_file(m, "/vm/misc.max", "sgx_epc max");
	{
		struct ccmm_result r;
		uint8_t b[8];

		assert_int_equal(ccmm_mm_access(&vmm.ctx, vmm.mm, CCMM_READ, v->base + 5 * CCMM_PAGE_SIZE, b, 8, &r), 0);
		assert_non_null(v->pages[5]);
	}
	ccmm_sgx_vepc_release(&vmm.ctx, v);
	assert_int_equal(misc_pages(m, "/vm"), 0);
	proc_exit(m, &vmm); /* it had SIGBUS */

	/* under global pressure vEPC pages are never taken: an enclave cannot get them back */
	proc_init(m, &vmm, "qemu2", "/vm", 3);
	assert_int_equal(ccmm_sgx_vepc_open(&vmm.cur, 256 * CCMM_PAGE_SIZE, &w), 0);
	for (uint64_t i = 0; i < 250; i++)
		assert_int_equal(ccmm_sgx_vepc_fault(&vmm.cur, w, i), 0);
	proc_init(m, &p, "late", "/late", 2);
	assert_int_equal(ccmm_sgx_encl_create(&p.cur, BASE, 16 * CCMM_PAGE_SIZE, "late", &e), 0);
	/* 6 pages left: the enclave gets its 16 by evicting its own pages, never the guest's */
	assert_int_equal(ccmm_sgx_encl_add_pages(&p.cur, e, 0, 16, CCMM_PT_TCS, RW, NULL, false, &err), 16);
	assert_int_equal(w->nr_present, 250);
	assert_true(cg_stats(m, "/late").evicted[CCMM_SGX_CAUSE_GLOBAL] >= 12);
	assert_int_equal(cg_stats(m, "/vm").evicted[CCMM_SGX_CAUSE_GLOBAL], 0);
	ccmm_sgx_encl_put(&p.ctx, e);
	proc_exit(m, &p);
	proc_init(m, &p, "later", "/late", 2);
	/* all of the EPC in the guest's hands: nothing is reclaimable, an enclave cannot even start */
	for (uint64_t i = 250; i < 256; i++)
		assert_int_equal(ccmm_sgx_vepc_fault(&vmm.cur, w, i), 0);
	assert_int_equal(ccmm_sgx_encl_create(&p.cur, BASE, 16 * CCMM_PAGE_SIZE, "late", &e), -ENOMEM);
	assert_int_equal(cg_stats(m, "/late").oom, 1);
	proc_exit(m, &p);
	ccmm_sgx_vepc_release(&vmm.ctx, w);
	proc_exit(m, &vmm);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
	assert_int_equal(misc_pages(m, "/"), 0);
}

/* ELDU verifies the MAC: tampered backing storage is detected, the task gets SIGBUS. */
static void test_tampered_backing(void **state)
{
	struct proc p;
	struct ccmm_sgx_encl *e;
	uint8_t junk[16];

	proc_init(m, &p, "t", "/t", 1);
	e = encl_build(&p, BASE, 8, 8);
	assert_int_equal(encl_touch(&p, e, 4, true), 0);
	while (e->pages[4].epc_page)
		ccmm_sgx_reclaim_pages(sgx, &p.ctx, sgx_cg(m, "/t"), NULL, CCMM_SGX_CAUSE_LIMIT);
	/* the host flips bytes of the ciphertext */
	memset(junk, 0xa5, sizeof(junk));
	{
		struct ccmm_page *pg = ccmm_phys_lock(m, e->backing[4]);

		assert_non_null(pg);
		assert_int_equal(ccmm_phys_rw(m, e->backing[4] + 64, junk, sizeof(junk), true, CCMM_KEYID_NONE, NULL), 0);
		ccmm_phys_unlock(m, e->backing[4]);
	}
	assert_int_equal(encl_touch(&p, e, 4, false), -EFAULT);
	assert_int_equal(nviol(m, "sgx_eldu_mac"), 1);
	assert_int_equal(ccmm_task_signal_pending(p.task), SIGBUS);
	proc_exit(m, &p);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

/* The policies the thread argued about: a cgroup at its limit under "global" scans everyone's pages. */
static void test_policy_global_scans(void **state)
{
	struct ccmm_machine *saved = m;
	uint64_t scanned[2], evicted[2];

	for (int pol = 0; pol < 2; pol++) {
		struct proc a, b;
		struct ccmm_sgx_encl *eb;

		m = sgx_boot("1m");
		sgx = ccmm_sgx_of(m);
		assert_int_equal(ccmm_sgx_set_policy(m, pol ? CCMM_SGX_POLICY_GLOBAL : CCMM_SGX_POLICY_SERIES), 0);
		proc_init(m, &a, "a", "/g/a", 1);
		proc_init(m, &b, "b", "/g/b", 2);
		encl_build(&a, BASE, 256, 150); /* the bulk of the EPC, oldest on a global LRU */
		set_file(m, "/g/b/misc.max", "sgx_epc 65536"); /* 16 pages */
		atomic_store(&sgx->scanned, 0);
		eb = encl_build(&b, BASE, 64, 40);
		for (uint64_t i = 1; i < 40; i++)
			assert_int_equal(encl_touch(&b, eb, i, true), 0);
		/* either way b's limit reclaimed b's pages only */
		assert_int_equal(cg_stats(m, "/g/a").evicted[CCMM_SGX_CAUSE_LIMIT], 0);
		evicted[pol] = cg_stats(m, "/g/b").evicted[CCMM_SGX_CAUSE_LIMIT];
		scanned[pol] = atomic_load(&sgx->scanned);
		assert_true(evicted[pol] >= 24);
		if (pol)
			assert_int_equal(ccmm_sgx_set_policy(m, CCMM_SGX_POLICY_SERIES), -EBUSY); /* not once pages are out */
		no_violations();
		proc_exit(m, &a);
		proc_exit(m, &b);
		assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
		ccmm_shutdown(m);
	}
	/* per-cgroup LRUs look at about one page per page reclaimed; the global LRU walks past a's 150 each time */
	assert_true(scanned[0] < 2 * evicted[0]);
	assert_true(scanned[1] > 20 * evicted[1]);
	m = saved;
	sgx = ccmm_sgx_of(m);
}

/* Policy "cgroup": running out of EPC reclaims only from the faulting cgroup (Hansen's counter-example). */
static void test_policy_cgroup_only(void **state)
{
	for (int pol = 0; pol < 2; pol++) {
		struct ccmm_machine *mm = sgx_boot("1m");
		struct ccmm_machine *saved = m;
		struct proc a, b;

		m = mm;
		assert_int_equal(ccmm_sgx_set_policy(m, pol ? CCMM_SGX_POLICY_CGROUP : CCMM_SGX_POLICY_SERIES), 0);
		proc_init(m, &a, "hog", "/c/hog", 1);
		proc_init(m, &b, "late", "/c/late", 2);
		encl_build(&a, BASE, 256, 200);
		encl_build(&b, BASE, 128, 100);
		if (pol) {
			/* the late cgroup paid for all of it */
			assert_int_equal(cg_stats(m, "/c/hog").evicted[CCMM_SGX_CAUSE_GLOBAL], 0);
			assert_true(cg_stats(m, "/c/late").evicted[CCMM_SGX_CAUSE_GLOBAL] > 0);
			assert_int_equal(atomic_load(&ccmm_sgx_of(m)->ksgxd.rounds), 0);
		} else {
			assert_true(cg_stats(m, "/c/hog").evicted[CCMM_SGX_CAUSE_GLOBAL] > 0);
		}
		proc_exit(m, &a);
		proc_exit(m, &b);
		assert_int_equal(ccmm_sgx_nr_free(ccmm_sgx_of(m)), 256);
		ccmm_shutdown(m);
		m = saved;
	}
}

/* Removing a cgroup while its pages are charged: it lives on offline; the round-robin cursor moves on. */
static void test_rmdir_charged(void **state)
{
	struct proc p;
	struct ccmm_sgx_cgroup *parent;

	proc_init(m, &p, "r", "/rm/child", 1);
	encl_build(&p, BASE, 16, 16);
	parent = sgx_cg(m, "/rm");
	assert_int_equal(ccmm_sgx_cgroup_reclaim(sgx, &p.ctx, parent, NULL, 16, CCMM_SGX_CAUSE_LIMIT), 16);
	/* move the task out, remove the cgroup; its pages stay charged to it */
	{
		char buf[16];

		snprintf(buf, sizeof(buf), "%d", p.task->pid);
		set_file(m, "/cgroup.procs", buf);
	}
	assert_int_equal(ccmm_cgroup_rmdir(ccmm_cgroup_root_of(m), "/rm/child"), 0);
	assert_true(misc_pages(m, "/rm") > 0);
	assert_int_equal(ccmm_sgx_cgroup_reclaim(sgx, &p.ctx, parent, NULL, 16, CCMM_SGX_CAUSE_LIMIT), 0);
	proc_exit(m, &p);
	assert_int_equal(misc_pages(m, "/rm"), 0);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

/* sgx_reclaim_direct: the current cgroup's preemptive reclaim near its limit, then global reclaim below 32 free pages. */
/*
 * The reference fast path: once a resident page's PTE has its accessed
 * bit, references charge sgx_epc_ref and count sgx_refs without moving
 * data; the data check runs again at the first access after the bit is
 * cleared (aging), which is where lost data shows.
 */
static void test_reference_fast_path(void **state)
{
	struct proc p;
	struct ccmm_sgx_encl *e;
	struct ccmm_sgx_thread t = { 0 };
	struct ccmm_walk w;
	uint64_t va, junk = 0x5eed, refs0;

	proc_init(m, &p, "fp", "/fp", 1);
	e = encl_build(&p, BASE, 8, 8);
	va = e->base + 3 * CCMM_PAGE_SIZE;
	ccmm_sgx_enter(&t, e);
	assert_int_equal(ccmm_sgx_encl_access(&p.cur, &t, va, true), 0); /* fault, then the full path: stores ++shadow */
	assert_int_equal(ccmm_pgt_walk(p.mm->pgt, va, &w), 0);
	assert_true((w.pte & CCMM_PTE_ACCESSED) && (w.pte & CCMM_PTE_DIRTY));
	refs0 = p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_refs)];
	/* the page's bytes change behind the enclave's back: hits do not look */
	assert_int_equal(ccmm_phys_rw(m, w.pa & ~(CCMM_PAGE_SIZE - 1), &junk, sizeof(junk), true, CCMM_KEYID_EPC, NULL), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(ccmm_sgx_encl_access(&p.cur, &t, va, i & 1), 0);
	ccmm_sgx_exit(&t);
	ccmm_sgx_enter(&t, e); /* the TLB is flushed: a walk that finds A and D set, still no data */
	assert_int_equal(ccmm_sgx_encl_access(&p.cur, &t, va, false), 0);
	assert_int_equal(p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_refs)], refs0 + 11);
	assert_int_equal(p.ctx.cost_n[CCMM_COST_AT(sgx, sgx_epc_ref_ns)], refs0 + 11);
	no_violations();
	/* aging clears the accessed bit: the next access moves the data and finds it changed */
	ccmm_sgx_exit(&t);
	assert_int_equal(ccmm_pgt_protect(&p.ctx, p.mm->pgt, va, CCMM_PAGE_SIZE, 0, CCMM_PTE_ACCESSED, false), 1);
	ccmm_sgx_enter(&t, e);
	assert_int_equal(ccmm_sgx_encl_access(&p.cur, &t, va, false), 0);
	ccmm_sgx_exit(&t);
	assert_int_equal(ccmm_violations_count(m, &ccmm_rule_enclave_data_lost, CCMM_ANY_ACTOR), 1);
	proc_exit(m, &p);
}

/*
 * The replay's walk memo (ccmm_sgx_encl_access_batch): once a walk found a
 * page resident with its accessed and dirty bits, batched references to it
 * are counted and charged without a walk or a TLB fill, and do not look at
 * the data; a change of any EPCM entry (another enclave's EADD) sends the
 * next one through the walk again (the TLB is filled, the memo renewed);
 * a change of the page table (aging clears the accessed bit) sends it
 * through the full path, where the data check finds the change.
 */
static void test_walk_memo(void **state)
{
	struct proc p, q;
	struct ccmm_sgx_encl *e;
	struct ccmm_sgx_thread t = { 0 };
	struct ccmm_walk w;
	uint32_t first[3] = { 3 << 1 | 1, 3 << 1 | 1, 3 << 1 }, hits[10], one = 3 << 1;
	uint64_t va, junk = 0x5eed, refs0, stamp;
	int err;

	for (int i = 0; i < 10; i++)
		hits[i] = 3 << 1 | (i & 1);
	proc_init(m, &p, "wm", "/wm", 1);
	e = encl_build(&p, BASE, 8, 8);
	va = e->base + 3 * CCMM_PAGE_SIZE;
	ccmm_sgx_enter(&t, e);
	/* the fault and the full path, then a walk that finds A and D and is remembered */
	assert_int_equal(ccmm_sgx_encl_access_batch(&p.cur, &t, first, 3, &err), 3);
	assert_int_equal(err, 0);
	ccmm_sgx_exit(&t);
	stamp = atomic_load(&e->walked[3]);
	assert_true(stamp & 1); /* dirty */
	assert_int_equal(ccmm_pgt_walk(p.mm->pgt, va, &w), 0);
	refs0 = p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_refs)];
	/* the page's bytes change behind the enclave's back: memo hits neither walk nor look */
	assert_int_equal(ccmm_phys_rw(m, w.pa & ~(CCMM_PAGE_SIZE - 1), &junk, sizeof(junk), true, CCMM_KEYID_EPC, NULL), 0);
	ccmm_sgx_enter(&t, e);
	assert_int_equal(ccmm_sgx_encl_access_batch(&p.cur, &t, hits, 10, &err), 10);
	assert_int_equal(t.tlb[3].tag, 0); /* no walk filled the TLB */
	ccmm_sgx_exit(&t);
	assert_int_equal(p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_refs)], refs0 + 10);
	assert_int_equal(p.ctx.cost_n[CCMM_COST_AT(sgx, sgx_epc_ref_ns)], refs0 + 10);
	assert_int_equal(atomic_load(&e->walked[3]), stamp);
	no_violations();
	/* an EPCM change anywhere: the next reference walks again (fast: A and D are set) */
	proc_init(m, &q, "wm2", "/wm2", 2);
	encl_build(&q, BASE, 2, 2);
	ccmm_sgx_enter(&t, e);
	assert_int_equal(ccmm_sgx_encl_access_batch16(&p.cur, &t, (const uint16_t[]){ 3 << 1 }, 1, &err), 1);
	assert_int_equal(t.tlb[3].tag, 4);
	ccmm_sgx_exit(&t);
	assert_true(atomic_load(&e->walked[3]) > stamp);
	assert_int_equal(p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_refs)], refs0 + 11);
	no_violations();
	/* aging clears the accessed bit (the page table changes): the full path, which finds the bytes changed */
	assert_int_equal(ccmm_pgt_protect(&p.ctx, p.mm->pgt, va, CCMM_PAGE_SIZE, 0, CCMM_PTE_ACCESSED, false), 1);
	ccmm_sgx_enter(&t, e);
	assert_int_equal(ccmm_sgx_encl_access_batch(&p.cur, &t, &one, 1, &err), 1);
	ccmm_sgx_exit(&t);
	assert_int_equal(ccmm_violations_count(m, &ccmm_rule_enclave_data_lost, CCMM_ANY_ACTOR), 1);
	proc_exit(m, &q);
	proc_exit(m, &p);
}

struct replay_figures {
	uint64_t now_ns, refs, faults, ewb, eldu;
	long done;
};

enum replay_mode { ONE_BY_ONE, BATCHED, BATCHED_CODES };

struct replay_run {
	struct proc *p;
	struct ccmm_sgx_encl *e;
	const uint32_t *refs;
	enum replay_mode mode;
	long done;
};

static int replay_task(void *arg)
{
	struct replay_run *r = arg;
	struct ccmm_sgx_thread t = { 0 };
	int err = 0;

	ccmm_sgx_enter(&t, r->e);
	if (r->mode == BATCHED) {
		for (size_t i = 0; i < 3000 && !err; i += 100)
			r->done += ccmm_sgx_encl_access_batch(&r->p->cur, &t, r->refs + i, 100, &err);
	} else if (r->mode == BATCHED_CODES) {
		/* a byte a reference: codes into a table of the values in the order they first come (as ccmm_trace_keep) */
		static uint8_t codes[3000];
		uint16_t dict[256];
		unsigned nd = 0;

		for (size_t i = 0; i < 3000; i++) {
			unsigned c = 0;

			while (c < nd && dict[c] != r->refs[i])
				c++;
			if (c == nd)
				dict[nd++] = (uint16_t)r->refs[i];
			codes[i] = (uint8_t)c;
		}
		for (size_t i = 0; i < 3000 && !err; i += 100)
			r->done += ccmm_sgx_encl_access_batch8(&r->p->cur, &t, codes + i, dict, 100, &err);
	} else {
		for (size_t i = 0; i < 3000 && !err; i++) {
			err = ccmm_sgx_encl_access(&r->p->cur, &t, r->e->base + (r->refs[i] >> 1) * CCMM_PAGE_SIZE,
						   r->refs[i] & 1);
			r->done += !err;
		}
	}
	ccmm_sgx_exit(&t);
	return err;
}

/*
 * 3000 references over 64 pages held to 16 by the cgroup, one by one or
 * batched, on a fresh machine. Faults over the limit wait for the cgroup's
 * reclaim work, a kernel thread: the references run as a task under a
 * simulator beside it.
 */
static struct replay_figures replay_seq(enum replay_mode mode)
{
	struct ccmm_machine *mm = sgx_boot("1m");
	struct replay_figures f = { 0 };
	struct ccmm_sgx_encl *e;
	struct proc p;
	uint32_t refs[3000];
	uint64_t x = 12345;
	struct replay_run r;

	proc_init(mm, &p, "rs", "/rs", 1);
	set_file(mm, "/rs/misc.max", "sgx_epc 65536");
	e = encl_build(&p, BASE, 64, 2); /* the rest EAUGed on first touch */
	for (size_t i = 0; i < 3000; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		refs[i] = (uint32_t)((1 + (x >> 33) % (i % 7 ? 12 : 63)) << 1 | ((x >> 20) & 1));
	}
	r = (struct replay_run){ &p, e, refs, mode, 0 };
	assert_int_equal(sim_call(mm, &p.ctx, replay_task, &r), 0);
	f.done = r.done;
	f.now_ns = p.ctx.now_ns;
	f.refs = p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_refs)];
	f.faults = p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_faults)];
	f.ewb = atomic_load(&e->nr_ewb);
	f.eldu = atomic_load(&e->nr_eldu);
	assert_int_equal(ccmm_sgx_encl_is_valid(e), 0);
	assert_int_equal(ccmm_violations_count(mm, NULL, CCMM_ANY_ACTOR), 0);
	proc_exit(mm, &p);
	ccmm_shutdown(mm);
	return f;
}

/* ccmm_sgx_encl_access_batch (and _batch8 on codes) is n single accesses: the same clock, counts and paging. */
static void test_access_batch_equivalent(void **state)
{
	struct replay_figures one = replay_seq(ONE_BY_ONE), batch = replay_seq(BATCHED), coded = replay_seq(BATCHED_CODES);

	assert_int_equal(one.done, 3000);
	assert_int_equal(batch.done, 3000);
	assert_true(one.eldu > 100); /* the sequence pages */
	assert_int_equal(one.now_ns, batch.now_ns);
	assert_int_equal(one.refs, batch.refs);
	assert_int_equal(one.faults, batch.faults);
	assert_int_equal(one.ewb, batch.ewb);
	assert_int_equal(one.eldu, batch.eldu);
	assert_int_equal(coded.done, 3000);
	assert_int_equal(one.now_ns, coded.now_ns);
	assert_int_equal(one.refs, coded.refs);
	assert_int_equal(one.faults, coded.faults);
	assert_int_equal(one.ewb, coded.ewb);
	assert_int_equal(one.eldu, coded.eldu);
}

static void test_reclaim_direct(void **state)
{
	struct proc p, q;
	struct ccmm_sgx_encl *e;

	/* a limit of 160 pages (above the 128-page low limit: a 32-page margin is kept) */
	proc_init(m, &p, "d", "/d", 1);
	set_file(m, "/d/misc.max", "sgx_epc 655360");
	e = encl_build(&p, BASE, 256, 140);
	assert_int_equal(misc_pages(m, "/d"), 142); /* VA + SECS + 140: at least 160 - 32, reclaim is due */
	ccmm_sgx_reclaim_direct(&p.cur);
	assert_int_equal(cg_stats(m, "/d").evicted[CCMM_SGX_CAUSE_LIMIT], 16);
	assert_int_equal(misc_pages(m, "/d"), 126);
	/* below the margin now: nothing more */
	ccmm_sgx_reclaim_direct(&p.cur);
	assert_int_equal(cg_stats(m, "/d").evicted[CCMM_SGX_CAUSE_LIMIT], 16);
	/* a guest's vEPC takes the EPC down to 20 free pages (faults wake ksgxd; no scheduler runs it here) */
	proc_init(m, &q, "g", "/dg", 2);
	{
		struct ccmm_sgx_vepc *v;
		struct ccmm_cgroup *dg = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), "/dg");

		assert_int_equal(ccmm_sgx_vepc_open(&q.cur, 256 * CCMM_PAGE_SIZE, &v), 0);
		for (uint64_t i = 0; ccmm_sgx_nr_free(sgx) > 20; i++)
			assert_int_equal(ccmm_sgx_vepc_fault(&q.cur, v, i), 0);
		assert_int_equal(atomic_load(&sgx->ksgxd.rounds), 0);
		/* direct reclaim by the guest's VMM: global, from whoever holds reclaimable pages, backing charged to it */
		ccmm_sgx_reclaim_direct(&q.cur);
		assert_int_equal(cg_stats(m, "/d").evicted[CCMM_SGX_CAUSE_GLOBAL], 16);
		assert_int_equal(ccmm_sgx_nr_free(sgx), 20 + 16);
		assert_int_equal(q.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)], 16);
		assert_int_equal(ccmm_memcg_usage(dg), 16); /* data pages; their PCMD page already existed */
		ccmm_cgroup_put(dg);
		ccmm_sgx_vepc_release(&q.ctx, v);
	}
	(void)e;
	proc_exit(m, &p);
	proc_exit(m, &q);
	assert_int_equal(ccmm_sgx_nr_free(sgx), 256);
}

/*
 * sgx_encl_eaug_page at a VA boundary with one page left under the limit:
 * the grow takes the last page for a VA page, the data page's charge
 * fails (-EBUSY, the cgroup's work queued), the grow is undone and its
 * VA page freed. That free makes no room: the fault must sleep until the
 * cgroup work frees a page, not take its own free for progress and retry
 * at once (which, with nothing else scheduled in between, retried forever).
 */
static void test_eaug_va_grow_undone(void **state)
{
	struct ccmm_machine *mm = sgx_boot("4m");
	struct ccmm_sgx_encl *e;
	struct proc p;
	uint64_t faults0, stalls0;

	(void)state;
	proc_init(mm, &p, "u", "/u", 1);
	set_file(mm, "/u/misc.max", "sgx_epc 2105344"); /* 514 pages */
	e = encl_build(&p, BASE, 1024, 2); /* SECS, VA, TCS and one page; page_cnt 3 (the SECS counts) */
	for (uint64_t i = 2; i < 511; i++)
		assert_int_equal(encl_touch(&p, e, i, true), 0);
	assert_int_equal(e->page_cnt, 512);
	assert_int_equal(e->nr_va, 1);
	assert_int_equal(misc_pages(mm, "/u"), 513); /* one under the limit, nothing reclaimed yet */
	assert_int_equal(cg_stats(mm, "/u").evicted[CCMM_SGX_CAUSE_LIMIT], 0);
	faults0 = p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_faults)];
	stalls0 = p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_stalls)];
	/* page 511 needs a second VA page: the attempt fails and undoes its grow, the retry maps it */
	assert_int_equal(encl_touch(&p, e, 511, true), 0);
	assert_int_equal(p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_faults)] - faults0, 2);
	assert_int_equal(p.ctx.ctr[CCMM_CTR_AT(sgx, sgx_stalls)] - stalls0, 1);
	assert_true(cg_stats(mm, "/u").evicted[CCMM_SGX_CAUSE_LIMIT] > 0);
	assert_int_equal(e->nr_va, 2);
	assert_int_equal(e->page_cnt, 513);
	assert_true(misc_pages(mm, "/u") <= 514);
	assert_int_equal(ccmm_sgx_encl_is_valid(e), 0);
	assert_int_equal(ccmm_violations_count(mm, NULL, CCMM_ANY_ACTOR), 0);
	proc_exit(mm, &p);
	ccmm_shutdown(mm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_epc_init, setup, teardown),
		cmocka_unit_test_setup_teardown(test_build_charge_release, setup, teardown),
		cmocka_unit_test_setup_teardown(test_paging_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secs_after_children, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eaug_secs_race, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_round_robin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limit_vs_global, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ksgxd_watermarks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_charge_mm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_livelock_unkillable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vepc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tampered_backing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_global_scans, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_cgroup_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rmdir_charged, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reclaim_direct, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reference_fast_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_walk_memo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_batch_equivalent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_eaug_va_grow_undone, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
