// SPDX-License-Identifier: MIT
/*
 * Memory tiers: demotion targets for the seed's examples under both
 * orders, explicit targets and their rules, hotplug, the anonymous-reclaim
 * table under both policies, memcg reclaim (never demoting in the 2021
 * series, demoting in mainline), can_demote with cpuset.mems,
 * alloc_demote_folio's fallback, kswapd/direct counters, NUMA-balancing
 * promotion and node_is_toptier, and the watermarks.
 */
#include <inttypes.h>

#include "helpers.h"
#include "sim_call.h"

#include "cgroup/cgroup.h"
#include "tier/tier.h"

static struct ccmm_platform *plat(const char *text)
{
	struct ccmm_platform *p;
	struct ccmm_error err;

	if (ccmm_platform_parse("t.ini", text, &p, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	return p;
}

/* The seed's example: two sockets, each with fast (CPUs), medium and slow memory. */
static const char two_socket[] =
	"[platform]\n"
	"[node:0]\nmem=64m\nkind=dram\ndistance=10,15,20,21,25,30\n"
	"[node:1]\nmem=64m\nkind=cxl\ncpus=no\ndistance=15,10,15,25,21,25\n"
	"[node:2]\nmem=64m\nkind=pmem\ncpus=no\ndistance=20,15,10,30,25,21\n"
	"[node:3]\nmem=64m\nkind=dram\ndistance=21,25,30,10,15,20\n"
	"[node:4]\nmem=64m\nkind=cxl\ncpus=no\ndistance=25,21,25,15,10,15\n"
	"[node:5]\nmem=64m\nkind=pmem\ncpus=no\ndistance=30,25,21,20,15,10\n";

static void expect_targets(const struct ccmm_demotion *d, const int *want, int n)
{
	for (int i = 0; i < n; i++) {
		int got = ccmm_next_demotion_node(d, i, NULL);

		if (got != want[i])
			fail_msg("node %d demotes to %d, expected %d", i, got, want[i]);
	}
}

static void test_seed_two_socket_example(void **state)
{
	struct ccmm_platform *p = plat(two_socket);
	struct ccmm_demotion d;
	/* 0 -> 1 -> 2 -> stop, 3 -> 4 -> 5 -> stop (seed 004, node_demotion[] example) */
	static const int want[] = { 1, 2, CCMM_NO_NODE, 4, 5, CCMM_NO_NODE };

	memset(&d, 0, sizeof(d));
	assert_int_equal(ccmm_demotion_compute(p, NULL, CCMM_DEMOTE_PASSES, &d), 0);
	expect_targets(&d, want, 6);
	assert_int_equal(ccmm_demotion_compute(p, NULL, CCMM_DEMOTE_TIERS, &d), 0);
	expect_targets(&d, want, 6);
	/* three tiers, DRAM first; the lower tiers are the fallback */
	assert_int_equal(d.nr_tiers, 3);
	assert_int_equal(d.adist[0], CCMM_MEMTIER_ADISTANCE_DRAM);
	assert_int_equal(d.tier_nodes[0], (1u << 0) | (1u << 3));
	assert_int_equal(d.tier_nodes[2], (1u << 2) | (1u << 5));
	assert_int_equal(d.allowed[0], (1u << 1) | (1u << 2) | (1u << 4) | (1u << 5));
	assert_int_equal(d.allowed[1], (1u << 2) | (1u << 5));
	assert_int_equal(d.allowed[2], 0);
	ccmm_platform_free(p);
}

static void test_hocko_uniform_example(void **state)
{
	/* Michal Hocko's question: four uniform nodes, each with CPUs */
	struct ccmm_platform *p = plat("[platform]\n"
				       "[node:0]\nmem=64m\ndistance=10,20,20,20\n"
				       "[node:1]\nmem=64m\ndistance=20,10,20,20\n"
				       "[node:2]\nmem=64m\ndistance=20,20,10,20\n"
				       "[node:3]\nmem=64m\ndistance=20,20,20,10\n");
	struct ccmm_demotion d;
	static const int terminal[] = { CCMM_NO_NODE, CCMM_NO_NODE, CCMM_NO_NODE, CCMM_NO_NODE };

	memset(&d, 0, sizeof(d));
	/* node 3 is terminal, as Dave Hansen answers; so are the others: the
	 * posted passes put every CPU node in the first pass, and memory
	 * tiers put them all in one tier */
	assert_int_equal(ccmm_demotion_compute(p, NULL, CCMM_DEMOTE_PASSES, &d), 0);
	expect_targets(&d, terminal, 4);
	assert_int_equal(ccmm_demotion_compute(p, NULL, CCMM_DEMOTE_TIERS, &d), 0);
	expect_targets(&d, terminal, 4);
	assert_int_equal(d.nr_tiers, 1);
	ccmm_platform_free(p);
}

static void test_preferred_ties_and_perf(void **state)
{
	/* a DRAM node equidistant from two PMEM nodes prefers both; perf figures set the tier */
	struct ccmm_platform *p = plat("[platform]\n"
				       "[node:0]\nmem=64m\nlatency_ns=80\nbandwidth_mbps=20000\ndistance=10,17,17,20\n"
				       "[node:1]\nmem=64m\nkind=pmem\ncpus=no\ndistance=17,10,20,20\n"
				       "[node:2]\nmem=64m\nkind=pmem\ncpus=no\ndistance=17,20,10,20\n"
				       "[node:3]\nmem=64m\nkind=cxl\ncpus=no\nlatency_ns=160\nbandwidth_mbps=10000\n"
				       "distance=20,20,20,10\n");
	struct ccmm_demotion d;
	struct ccmm_rng rng;
	int seen[CCMM_MAX_NODES] = { 0 };

	memset(&d, 0, sizeof(d));
	assert_int_equal(ccmm_demotion_compute(p, NULL, CCMM_DEMOTE_TIERS, &d), 0);
	/* 576 * (160/80) * (20000/10000) = 2304: tier 18, between DRAM and PMEM */
	assert_int_equal(d.adist[3], 2304);
	assert_int_equal(ccmm_next_demotion_node(&d, 0, NULL), 3);
	assert_int_equal(d.preferred[3], (1u << 1) | (1u << 2));
	ccmm_rng_seed(&rng, 1, 1);
	for (int i = 0; i < 200; i++)
		seen[ccmm_next_demotion_node(&d, 3, &rng)]++;
	assert_true(seen[1] > 50 && seen[2] > 50); /* random among the preferred */
	ccmm_platform_free(p);
}

static void test_explicit_targets(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_demotion d;

	/* explicit targets win */
	p = plat("[platform]\n[node:0]\nmem=64m\ndistance=10,20,30\ndemote_to=2\n"
		 "[node:1]\nmem=64m\nkind=cxl\ncpus=no\ndistance=20,10,20\n"
		 "[node:2]\nmem=64m\nkind=pmem\ncpus=no\ndistance=30,20,10\ndemote_to=none\n");
	memset(&d, 0, sizeof(d));
	assert_int_equal(ccmm_demotion_compute(p, NULL, CCMM_DEMOTE_TIERS, &d), 0);
	assert_int_equal(ccmm_next_demotion_node(&d, 0, NULL), 2);
	assert_int_equal(ccmm_next_demotion_node(&d, 1, NULL), 2);
	ccmm_platform_free(p);
	/* a cycle is refused when the platform is read */
	assert_int_equal(ccmm_platform_parse("t.ini",
					     "[platform]\n[node:0]\nmem=64m\ndemote_to=1\n[node:1]\nmem=64m\nkind=pmem\ndemote_to=0\n",
					     &p, &err),
			 -ELOOP);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "cycle (0 -> 1 -> 0)"));
	assert_int_equal(ccmm_platform_parse("t.ini", "[platform]\n[node:0]\nmem=64m\ndemote_to=4\n", &p, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "node 4 does not exist"));
	/* up the tiers is against the rules */
	p = plat("[platform]\n[node:0]\nmem=64m\n[node:1]\nmem=64m\nkind=pmem\ncpus=no\ndemote_to=0\n");
	assert_int_equal(ccmm_demotion_compute(p, NULL, CCMM_DEMOTE_TIERS, &d), -EINVAL);
	ccmm_platform_free(p);
}

/* A DRAM node with CPUs and a PMEM node, small. */
static struct ccmm_machine *tiny(bool pmem_online)
{
	char text[256];
	struct ccmm_platform *p;
	struct ccmm_machine *m;

	snprintf(text, sizeof(text),
		 "[platform]\n[node:0]\nmem=512k\ndistance=10,17\n[node:1]\nmem=2m\nkind=pmem\ncpus=no\nonline=%s\n"
		 "distance=17,10\n",
		 pmem_online ? "yes" : "no");
	p = plat(text);
	assert_int_equal(ccmm_boot(p, 3, &m), 0);
	return m;
}

/*
 * Mainline knobs: demotion_enabled (@demote), swap, promotion with NUMA
 * scans that start at once and repeat every millisecond of modeled time.
 */
static void configure(struct ccmm_machine *m, bool demote, uint64_t swap_pages, bool promotion)
{
	struct ccmm_tier_config c = { .policy = CCMM_DEMOTION_MAINLINE, .demotion_enabled = demote,
				      .promotion = promotion, .swap_pages = swap_pages, .order = CCMM_DEMOTE_TIERS,
				      .batch = 32, .numa_scan_delay_ms = 1, .numa_scan_period_ms = 1 };

	assert_int_equal(ccmm_tier_configure(m, &c), 0);
}

/*
 * The fixture of the reclaim tests: tiny(true) under the mainline knobs
 * (configure), a context "app" and one task bound to @node, of anonymous
 * pages (@anon) or file pages, in no cgroup.
 */
struct tiny_fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
};

static void tiny_fx_init(struct tiny_fx *f, bool demote, uint64_t swap_pages, bool promotion, int node, bool anon)
{
	f->m = tiny(true);
	configure(f->m, demote, swap_pages, promotion);
	ccmm_ctx_init(&f->ctx, f->m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(f->m, node, anon, true, NULL, NULL, &f->t), 0);
}

static void tiny_fx_fini(struct tiny_fx *f)
{
	ccmm_tier_task_destroy(f->t);
	ccmm_shutdown(f->m);
}

/* The 2021 series' knobs: node_reclaim_mode RECLAIM_MIGRATE (@demote), passes order. */
static void configure_2021(struct ccmm_machine *m, bool demote, uint64_t swap_pages, bool promotion)
{
	struct ccmm_tier_config c = { .policy = CCMM_DEMOTION_RECLAIM_MIGRATE,
				      .node_reclaim_mode = demote ? CCMM_RECLAIM_MIGRATE : 0, .promotion = promotion,
				      .swap_pages = swap_pages, .order = CCMM_DEMOTE_PASSES, .batch = 32,
				      .numa_scan_delay_ms = 1, .numa_scan_period_ms = 1 };

	assert_int_equal(ccmm_tier_configure(m, &c), 0);
}

static void test_hotplug(void **state)
{
	struct ccmm_machine *m = tiny(false);
	struct ccmm_demotion d;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
	struct ccmm_watermarks w;
	uint64_t pa;

	ccmm_ctx_init(&ctx, m, 0, "admin");
	ccmm_tier_demotion(m, &d);
	assert_int_equal(ccmm_next_demotion_node(&d, 0, NULL), CCMM_NO_NODE);
	/* the allocator does not use an offline node */
	assert_int_equal(ccmm_alloc_pages(&ctx, 1, 0, CCMM_GFP_THISNODE, &pa), -ENOMEM);
	assert_int_equal(ccmm_node_hotplug(&ctx, 1, true), 0);
	ccmm_tier_demotion(m, &d);
	assert_int_equal(ccmm_next_demotion_node(&d, 0, NULL), 1);
	assert_int_equal(ccmm_node_hotplug(&ctx, 1, true), -EALREADY);
	/* the new node has watermarks, and the root cpuset's mems grew (cpuset_hotplug_update_tasks) */
	ccmm_node_watermarks(m, 1, &w);
	assert_true(w.min > 0 && w.low > w.min && w.high > w.low);
	{
		char buf[32];

		assert_true(ccmm_cgroup_read(ccmm_cgroup_root_of(m), "/cpuset.mems.effective", buf, sizeof(buf)) > 0);
		assert_string_equal(buf, "0-1\n");
	}
	/* pages on node 1 move back to node 0 when it goes offline */
	assert_int_equal(ccmm_tier_task_create(m, 1, true, true, NULL, NULL, &t), 0);
	for (uint64_t v = 0; v < 20; v++)
		assert_int_equal(ccmm_tier_access(&ctx, t, v, false), 0);
	assert_int_equal(ccmm_node_free_pages(m, 1), 512 - 20);
	assert_int_equal(ccmm_node_hotplug(&ctx, 1, false), 0);
	assert_int_equal(ccmm_node_free_pages(m, 0), 128 - 20);
	ccmm_tier_demotion(m, &d);
	assert_int_equal(ccmm_next_demotion_node(&d, 0, NULL), CCMM_NO_NODE);
	/* node 0 cannot go: its pages have nowhere to go */
	assert_int_equal(ccmm_node_hotplug(&ctx, 0, false), -EBUSY);
	/* pages the tier does not track (kernel allocations) block offlining */
	assert_int_equal(ccmm_node_hotplug(&ctx, 1, true), 0);
	assert_int_equal(ccmm_alloc_pages(&ctx, 1, 0, CCMM_GFP_THISNODE, &pa), 0);
	assert_int_equal(ccmm_node_hotplug(&ctx, 1, false), -EBUSY);
	assert_int_equal(ccmm_node_hotplug(&ctx, 7, false), -EINVAL);
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);
}

/* Seed 004's table, can_reclaim_anon_pages() under both policies. */
static void test_anon_reclaim_table(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_cgroup *root_cg = ccmm_cgroup_root_of(m)->top;

	for (int policy = 0; policy < 2; policy++) {
		void (*conf)(struct ccmm_machine *, bool, uint64_t, bool) = policy ? configure_2021 : configure;

		/* swap space / demotion OK -> can reclaim */
		conf(m, true, 100, false);
		assert_true(ccmm_can_reclaim_anon(m, 0, NULL, false));
		/* swap space / demotion off -> can reclaim */
		conf(m, false, 100, false);
		assert_true(ccmm_can_reclaim_anon(m, 0, NULL, false));
		/* swap full / demotion OK -> can reclaim */
		conf(m, true, 0, false);
		assert_true(ccmm_can_reclaim_anon(m, 0, NULL, false));
		/* swap full / demotion off -> no reclaim */
		conf(m, false, 0, false);
		assert_false(ccmm_can_reclaim_anon(m, 0, NULL, false));
		/* a terminal node with demotion on and no swap: no reclaim */
		conf(m, true, 0, false);
		assert_false(ccmm_can_reclaim_anon(m, 1, NULL, false));
	}
	/* memcg reclaim: mainline demotes there too (since 6.1), the series never did */
	configure(m, true, 0, false);
	assert_true(ccmm_can_reclaim_anon(m, 0, root_cg, true));
	assert_true(ccmm_can_demote(m, 0, root_cg, true));
	configure_2021(m, true, 0, false);
	assert_false(ccmm_can_reclaim_anon(m, 0, root_cg, true));
	assert_false(ccmm_can_demote(m, 0, root_cg, true));
	assert_true(ccmm_can_demote(m, 0, NULL, false));
	ccmm_shutdown(m);
}

struct touch_args {
	struct ccmm_ctx *ctx;
	struct ccmm_tier_task *t;
	uint64_t n;
	uint64_t failed_at;
};

/* One reference per step: kswapd, woken below the low watermark, runs between them by the smallest clock. */
static int touch_task(void *arg)
{
	struct touch_args *a = arg;

	for (int pass = 0; pass < 2; pass++)
		for (uint64_t v = 0; v < a->n; v++) {
			int ret = ccmm_tier_access(a->ctx, a->t, v, v & 1);

			if (ret) {
				a->failed_at = v;
				return ret;
			}
			ccmm_cond_resched();
		}
	return 0;
}

/* Touch @n pages of @t, twice over, as a task beside the machine's kernel threads (kswapd). */
static void touch(struct ccmm_ctx *ctx, struct ccmm_tier_task *t, uint64_t n)
{
	struct touch_args a = { ctx, t, n, 0 };
	int ret = sim_call(ctx->m, ctx, touch_task, &a);

	if (ret)
		fail_msg("touch: page %" PRIu64 ": %d", a.failed_at, ret);
}

static void test_demotion_instead_of_discard(void **state)
{
	struct tiny_fx f;
	struct ccmm_tier_task_stats st;

	/* demotion on: DRAM's cold pages move to PMEM, nothing is swapped */
	tiny_fx_init(&f, true, 1000, false, 0, true);
	touch(&f.ctx, f.t, 300); /* node 0 has 128 pages */
	ccmm_tier_task_stats(f.t, &st);
	assert_int_equal(st.refaults, 0);
	assert_int_equal(st.resident, 300);
	assert_int_equal(st.node_pages[0] + st.node_pages[1], 300);
	assert_true(st.node_pages[1] > 0);
	assert_true(st.hits_slow > 0);
	assert_true(ccmm_vmstat_get(f.m, CCMM_VM_pgdemote_kswapd) > 0);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pswpout), 0);
	/* pgsteal counts what was demoted too (shrink_folio_list: nr_reclaimed += nr_demoted) */
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgsteal_kswapd) + ccmm_vmstat_get(f.m, CCMM_VM_pgsteal_direct),
			 ccmm_vmstat_get(f.m, CCMM_VM_pgdemote_kswapd) + ccmm_vmstat_get(f.m, CCMM_VM_pgdemote_direct));
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgsteal_anon),
			 ccmm_vmstat_get(f.m, CCMM_VM_pgsteal_kswapd) + ccmm_vmstat_get(f.m, CCMM_VM_pgsteal_direct));
	assert_true(ccmm_vmstat_get(f.m, CCMM_VM_pgscan_kswapd) >= ccmm_vmstat_get(f.m, CCMM_VM_pgsteal_kswapd));
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgdemote_kswapd) + ccmm_vmstat_get(f.m, CCMM_VM_pgdemote_direct),
			 ccmm_vmstat_get(f.m, CCMM_VM_pgmigrate_success));
	assert_true(ccmm_vmstat_get(f.m, CCMM_VM_pageoutrun) > 0);
	/* the residency counters follow the pages */
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_nr_anon_pages), 300);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_nr_inactive_anon) + ccmm_vmstat_get(f.m, CCMM_VM_nr_active_anon), 300);
	assert_true(ccmm_vmstat_get(f.m, CCMM_VM_nr_page_table_pages) >= 3); /* a PTE, a PMD and a PUD table */
	ccmm_tier_task_destroy(f.t);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_nr_anon_pages), 0);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_nr_page_table_pages), 0);
	ccmm_shutdown(f.m);

	/* demotion off: the same pages are swapped and come back as refaults */
	tiny_fx_init(&f, false, 1000, false, 0, true);
	touch(&f.ctx, f.t, 300);
	ccmm_tier_task_stats(f.t, &st);
	assert_true(st.refaults > 0);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgdemote_kswapd), 0);
	assert_true(ccmm_vmstat_get(f.m, CCMM_VM_pswpout) > 0);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pswpin), st.refaults);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_workingset_refault_anon), st.refaults);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgmajfault), st.refaults);
	assert_int_equal(st.hits_slow, 0);
	tiny_fx_fini(&f);
}

static void test_demotion_fails_over_to_reclaim(void **state)
{
	struct tiny_fx f;
	struct ccmm_tier_task_stats st;

	/* PMEM fills too: demotions that find no room fall back to swap (pass 2) */
	tiny_fx_init(&f, true, 1000, false, 0, true);
	touch(&f.ctx, f.t, 900); /* 128 + 512 pages of memory in all */
	ccmm_tier_task_stats(f.t, &st);
	assert_true(ccmm_vmstat_get(f.m, CCMM_VM_pgdemote_kswapd) > 0);
	assert_true(ccmm_vmstat_get(f.m, CCMM_VM_pgmigrate_fail) > 0);
	assert_true(ccmm_vmstat_get(f.m, CCMM_VM_pswpout) > 0);
	assert_int_equal(st.resident + st.swapped, 900);
	tiny_fx_fini(&f);
}

/* The machine's kernel thread called @name, or NULL. */
static struct ccmm_kthread *kthread_named(struct ccmm_machine *m, const char *name)
{
	for (struct ccmm_kthread *k = m->kthreads; k; k = k->next)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}

/*
 * kswapd is a kernel thread per node (kswapd_run), not work done inline:
 * with nothing to run it (a plain thread) the allocating task reclaims
 * directly (allocstall) and kswapd0 never runs; under a simulator
 * kswapd0, woken below the low watermark, reclaims to the high watermark
 * on its own clock (pgscan_kswapd, pageoutrun) and sleeps again; and its
 * clock moved up to the waker's when it was woken, not back to 0.
 */
static void test_kswapd_kernel_thread(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_kthread *k0 = NULL;
	struct ccmm_watermarks w;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;

	k0 = kthread_named(m, "kswapd0");
	assert_non_null(k0);
	/* no scheduler: the task outruns a kswapd that never runs */
	configure(m, true, 1000, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &t), 0);
	for (uint64_t v = 0; v < 300; v++)
		assert_int_equal(ccmm_tier_access(&ctx, t, v, false), 0);
	assert_int_equal(atomic_load(&k0->rounds), 0);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgscan_kswapd), 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_allocstall_movable) > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgdemote_direct) > 0);
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);

	/* a simulator runs it beside the task */
	m = tiny(true);
	k0 = kthread_named(m, "kswapd0");
	configure(m, true, 1000, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &t), 0);
	touch(&ctx, t, 300);
	assert_true(atomic_load(&k0->rounds) > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgscan_kswapd) > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgdemote_kswapd) > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pageoutrun) > 0);
	/* its last round left node 0 balanced: above the high watermark, strictly (zone_watermark_ok) */
	ccmm_node_watermarks(m, 0, &w);
	assert_true(ccmm_node_free_pages(m, 0) > w.high);
	/* it ran in modeled time after the task woke it: its clock is past 0, within the task's run */
	assert_true(k0->ctx.now_ns > 0);
	assert_true(k0->ctx.now_ns <= ctx.now_ns + 1000000000ull);
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);
}

/* The task's references until one fails; kswapd runs beside it. Returns how many pages it touched. */
static int touch_until_task(void *arg)
{
	struct touch_args *a = arg;

	for (uint64_t v = 0; v < a->n; v++) {
		if (ccmm_tier_access(a->ctx, a->t, v, true)) {
			a->failed_at = v;
			return 0;
		}
		ccmm_cond_resched();
	}
	a->failed_at = a->n;
	return 0;
}

/*
 * wakeup_kswapd and kswapd_try_to_sleep on a node kswapd cannot help:
 * node 0 holds only anonymous pages of a task bound to it, with no swap
 * and demotion off. Woken below the low watermark, kswapd reclaims
 * nothing; it does not sleep while the node is unbalanced, so it runs
 * again at once, until MAX_RECLAIM_RETRIES (16) fruitless runs make the
 * node hopeless (kswapd_failures). Then it sleeps and the task's further
 * allocations below the low watermark do not wake it again: 16 rounds,
 * 16 pageoutruns, however many allocations followed.
 */
static void test_kswapd_hopeless_node(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_kthread *k0 = NULL;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
	struct touch_args a;

	(void)state;
	k0 = kthread_named(m, "kswapd0");
	assert_non_null(k0);
	configure(m, false, 0, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &t), 0);
	a = (struct touch_args){ &ctx, t, 256, 0 };
	assert_int_equal(sim_call(m, &ctx, touch_until_task, &a), 0);
	assert_true(a.failed_at > 64 && a.failed_at <= 128); /* node 0 (128 pages) ran out */
	assert_int_equal(atomic_load(&k0->rounds), 16);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pageoutrun), 16);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgsteal_kswapd), 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_allocstall_movable) > 0);
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);
}

struct nap_args {
	struct ccmm_ctx *ctx;
	struct ccmm_tier_task *t;
	struct ccmm_kthread *k0;
	uint64_t rounds_a, low_a, rounds_c, low_c, high;
};

/* @n new pages from @from, a step each. */
static int touch_range(struct ccmm_ctx *ctx, struct ccmm_tier_task *t, uint64_t from, uint64_t n)
{
	for (uint64_t v = from; v < from + n; v++) {
		int ret = ccmm_tier_access(ctx, t, v, true);

		if (ret)
			return ret;
		ccmm_cond_resched();
	}
	return 0;
}

static int nap_task(void *arg)
{
	struct nap_args *a = arg;
	struct ccmm_machine *m = a->ctx->m;
	struct ccmm_wait_queue_head nap;
	int64_t left = 300000000; /* 300 ms, modeled: past kswapd's HZ/10 nap */
	int ret;

	if (touch_range(a->ctx, a->t, 0, 200))
		return -1;
	a->rounds_a = atomic_load(&a->k0->rounds);
	a->low_a = ccmm_vmstat_get(m, CCMM_VM_kswapd_low_wmark_hit_quickly);
	ccmm_init_waitqueue_head(&nap, NULL);
	ccmm_wait_event(a->ctx, &nap, false, &left, 0, ret);
	ccmm_destroy_waitqueue_head(&nap);
	if (ret != -ETIMEDOUT || touch_range(a->ctx, a->t, 200, 200))
		return -1;
	a->rounds_c = atomic_load(&a->k0->rounds);
	a->low_c = ccmm_vmstat_get(m, CCMM_VM_kswapd_low_wmark_hit_quickly);
	a->high = ccmm_vmstat_get(m, CCMM_VM_kswapd_high_wmark_hit_quickly);
	return 0;
}

/*
 * kswapd_try_to_sleep's nap: once its node is balanced kswapd naps for
 * HZ/10 (100 ms) before it sleeps for good, and a wake-up during the nap
 * counts kswapd_low_wmark_hit_quickly. kswapd started at boot, so the
 * job's first wake-up finds it fully asleep (the tier-kswapd recording:
 * 0). The task touches 200 pages (node 0 has 128; demotion makes room):
 * every wake after the first comes within the nap. It then sleeps 300 ms,
 * and the first wake of its next 200 pages finds kswapd fully asleep
 * again: not counted.
 */
static void test_kswapd_nap(void **state)
{
	struct tiny_fx f;
	struct nap_args a = { 0 };

	(void)state;
	tiny_fx_init(&f, true, 0, false, 0, true);
	a = (struct nap_args){ .ctx = &f.ctx, .t = f.t, .k0 = kthread_named(f.m, "kswapd0") };
	assert_non_null(a.k0);
	assert_int_equal(sim_call(f.m, &f.ctx, nap_task, &a), 0);
	assert_true(a.rounds_a >= 2);
	assert_int_equal(a.low_a, a.rounds_a - 1);
	assert_true(a.rounds_c >= a.rounds_a + 2);
	assert_int_equal(a.low_c - a.low_a, a.rounds_c - a.rounds_a - 1);
	assert_int_equal(a.high, 0);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pageoutrun), a.rounds_c);
	tiny_fx_fini(&f);
}

/* A cgroup /app (memory, and cpuset when @mems) with memory.max @max and a process in it. */
static struct ccmm_cgroup *app_cgroup(struct ccmm_machine *m, const char *max, const char *mems, struct ccmm_task **proc)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(m);
	struct ccmm_cgroup *cg;

	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", mems ? "+memory +cpuset" : "+memory"), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/app", false, 0, &cg), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/app/memory.max", max), 0);
	if (mems)
		assert_int_equal(ccmm_cgroup_write(root, NULL, "/app/cpuset.mems", mems), 0);
	assert_int_equal(ccmm_task_create(root, "app", proc, cg, proc), 0);
	return cg;
}

/* The 2021 series: memcg reclaim is not NUMA aware, it never demotes (seed 004). */
static void test_memcg_never_demotes_2021(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(m);
	struct ccmm_cgroup *cg;
	struct ccmm_task *proc;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
	struct ccmm_tier_task_stats st;
	char buf[256];

	configure_2021(m, true, 1000, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	/* a memory cgroup of 40 pages: node 0 never fills, memcg reclaim does the work */
	cg = app_cgroup(m, "160K", NULL, &proc);
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, cg, proc, &t), 0);
	touch(&ctx, t, 60);
	ccmm_tier_task_stats(t, &st);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgdemote_direct) + ccmm_vmstat_get(m, CCMM_VM_pgdemote_kswapd), 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pswpout) > 0);
	assert_true(st.resident <= 40);
	assert_true(st.refaults > 0);
	/* the controller saw the limit, charged exactly the resident pages, and killed nobody */
	assert_int_equal(ccmm_memcg_usage(cg), st.resident);
	assert_true(ccmm_cgroup_read(root, "/app/memory.events", buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "max 0\n"));
	assert_non_null(strstr(buf, "oom_kill 0\n"));
	/* memcg reclaim counts in the memcg's pgscan/pgsteal, not in the global ones */
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgsteal_direct), 0);
	assert_true(ccmm_memcg_stat(cg, CCMM_MEMCG_STAT_PGSTEAL_DIRECT) > 0);
	ccmm_tier_task_destroy(t);
	assert_int_equal(ccmm_memcg_usage(cg), 0);
	/* no swap: memcg reclaim cannot reclaim anon pages (it never demotes): the memcg OOM killer takes the task */
	configure_2021(m, true, 0, false);
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, cg, proc, &t), 0);
	for (uint64_t v = 0; v < 40; v++)
		assert_int_equal(ccmm_tier_access(&ctx, t, v, false), 0);
	assert_int_equal(ccmm_tier_access(&ctx, t, 40, false), -ENOMEM);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_oom_kill), 1);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgdemote_direct) + ccmm_vmstat_get(m, CCMM_VM_pgdemote_kswapd), 0);
	assert_int_equal(ccmm_task_signal_pending(proc), 9);
	assert_true(ccmm_cgroup_read(root, "/app/memory.events", buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "oom_kill 1\n"));
	ccmm_tier_task_destroy(t);
	assert_int_equal(ccmm_memcg_usage(cg), 0);
	ccmm_task_exit(root, proc);
	ccmm_cgroup_put(cg);
	ccmm_shutdown(m);
}

/*
 * Mainline (since 6.1, shrink_folio_list -> can_demote in memcg reclaim):
 * a cgroup over memory.max demotes its pages, which stay charged, so it
 * stays over the limit and, once nothing is left to demote and there is
 * no swap, the memcg OOM killer ends it: demotion before OOM.
 */
static void test_memcg_reclaim_demotes(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(m);
	struct ccmm_cgroup *cg;
	struct ccmm_task *proc;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
	struct ccmm_tier_task_stats st;
	uint64_t v;
	int ret = 0;
	char buf[2048];

	configure(m, true, 0, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	cg = app_cgroup(m, "160K", NULL, &proc);
	assert_int_equal(ccmm_tier_task_create(m, 0, true, false, cg, proc, &t), 0);
	for (v = 0; v < 100 && !(ret = ccmm_tier_access(&ctx, t, v, true)); v++)
		;
	/* the 41st page needed room: memcg reclaim demoted the 40 charged pages, then nothing was left */
	assert_int_equal(v, 40);
	assert_int_equal(ret, -ENOMEM);
	assert_int_equal(ccmm_task_signal_pending(proc), 9);
	ccmm_tier_task_stats(t, &st);
	assert_int_equal(st.node_pages[1], 40); /* demoted, not freed */
	assert_int_equal(ccmm_memcg_usage(cg), 40); /* ... and still charged */
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgdemote_direct), 40);
	assert_int_equal(ccmm_memcg_stat(cg, CCMM_MEMCG_STAT_PGDEMOTE_DIRECT), 40);
	/* memcg reclaim: pgsteal_direct is the memcg's, not the machine's; pgsteal_anon is both's */
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgsteal_direct), 0);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgsteal_anon), 40);
	assert_int_equal(ccmm_memcg_stat(cg, CCMM_MEMCG_STAT_PGSTEAL_DIRECT), 40);
	/* demotion before OOM */
	assert_true(ccmm_vmstat_first_ns(m, CCMM_VM_pgdemote_direct) < ccmm_vmstat_first_ns(m, CCMM_VM_oom_kill));
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_oom_kill), 1);
	assert_true(ccmm_cgroup_read(root, "/app/memory.events", buf, sizeof(buf)) > 0);
	assert_null(strstr(buf, "max 0\n"));
	assert_non_null(strstr(buf, "oom 1\noom_kill 1\n"));
	assert_true(ccmm_cgroup_read(root, "/app/memory.stat", buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "\npgdemote_direct 40\n"));
	assert_non_null(strstr(buf, "anon 163840\n"));
	ccmm_tier_task_destroy(t);
	assert_int_equal(ccmm_memcg_usage(cg), 0);
	assert_int_equal(ccmm_memcg_stat(cg, CCMM_MEMCG_STAT_ANON), 0);
	ccmm_task_exit(root, proc);
	ccmm_cgroup_put(cg);
	ccmm_shutdown(m);
}

/* DRAM (CPUs), CXL and PMEM, in three tiers: node 0 -> 1 -> 2. */
static struct ccmm_machine *three_tiers(void)
{
	struct ccmm_platform *p = plat("[platform]\n"
				       "[node:0]\nmem=512k\ndistance=10,15,20\n"
				       "[node:1]\nmem=512k\nkind=cxl\ncpus=no\ndistance=15,10,15\n"
				       "[node:2]\nmem=2m\nkind=pmem\ncpus=no\ndistance=20,15,10\n");
	struct ccmm_machine *m;

	assert_int_equal(ccmm_boot(p, 3, &m), 0);
	return m;
}

/*
 * can_demote() and demote_folio_list() with the memcg's cpuset.mems
 * (mem_cgroup_node_filter_allowed, "mm/vmscan: fix demotion targets
 * checks in reclaim/demotion"): the preferred target outside the cpuset
 * is replaced by an allowed lower tier; none allowed, no demotion.
 */
static void test_can_demote_cpuset(void **state)
{
	/*
	 * The cgroup stays over memory.max (demoted pages keep their charge),
	 * so memcg reclaim goes on down the tiers until nothing is left.
	 */
	static const struct {
		const char *mems;
		uint64_t on0, on2, demoted;
	} cases[] = {
		{ "0-2", 0, 40, 80 }, /* to the preferred target, node 1, then on from node 1 to node 2 */
		{ "0,2", 0, 40, 40 }, /* node 1 not allowed: straight to the lower tier that is */
		{ "0", 40, 0, 0 },    /* no lower tier allowed: can_demote is false, the OOM killer comes */
	};

	for (size_t i = 0; i < CCMM_ARRAY_SIZE(cases); i++) {
		struct ccmm_machine *m = three_tiers();
		struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(m);
		struct ccmm_task *proc;
		struct ccmm_cgroup *cg;
		struct ccmm_ctx ctx;
		struct ccmm_tier_task *t;
		struct ccmm_tier_task_stats st;

		configure(m, true, 0, false);
		ccmm_ctx_init(&ctx, m, 0, "app");
		cg = app_cgroup(m, "160K", cases[i].mems, &proc);
		assert_int_equal(ccmm_can_demote(m, 0, cg, true), cases[i].demoted > 0);
		assert_int_equal(ccmm_tier_task_create(m, 0, true, false, cg, proc, &t), 0);
		for (uint64_t v = 0; v < 41; v++)
			if (ccmm_tier_access(&ctx, t, v, true))
				break;
		ccmm_tier_task_stats(t, &st);
		if (st.node_pages[0] != cases[i].on0 || st.node_pages[2] != cases[i].on2 ||
		    ccmm_vmstat_get(m, CCMM_VM_pgdemote_direct) != cases[i].demoted)
			fail_msg("cpuset.mems %s: %" PRIu64 " pages on node 0, %" PRIu64 " on node 2, %" PRIu64
				 " demotions; expected %" PRIu64 ", %" PRIu64 ", %" PRIu64,
				 cases[i].mems, st.node_pages[0], st.node_pages[2], ccmm_vmstat_get(m, CCMM_VM_pgdemote_direct),
				 cases[i].on0, cases[i].on2, cases[i].demoted);
		assert_int_equal(st.node_pages[1], 0);
		assert_int_equal(ccmm_task_signal_pending(proc), 9); /* every case ends in the memcg OOM killer */
		ccmm_tier_task_destroy(t);
		ccmm_task_exit(root, proc);
		ccmm_cgroup_put(cg);
		ccmm_shutdown(m);
	}
}

/*
 * alloc_demote_folio(): when the preferred target is full, mainline falls
 * back to the other lower tiers (the allowed mask); the 2021 series only
 * tried the target ("fail quickly and quietly") and reclaimed the page.
 */
static void test_alloc_demote_fallback(void **state)
{
	for (int policy = 0; policy < 2; policy++) {
		struct ccmm_machine *m = three_tiers();
		struct ccmm_ctx ctx;
		struct ccmm_tier_task *filler, *t;
		struct ccmm_tier_task_stats st;

		(policy ? configure_2021 : configure)(m, true, 1000, false);
		ccmm_ctx_init(&ctx, m, 0, "app");
		/* node 1 (the CXL target) is full of pages nobody may take (mlocked) */
		assert_int_equal(ccmm_tier_task_create(m, 1, true, true, NULL, NULL, &filler), 0);
		ccmm_tier_task_mlock(filler, true);
		for (uint64_t v = 0; v < 128; v++)
			if (ccmm_tier_access(&ctx, filler, v, true))
				break;
		assert_true(ccmm_vmstat_get(m, CCMM_VM_nr_mlock) > 100);
		assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &t), 0);
		touch(&ctx, t, 200);
		ccmm_tier_task_stats(t, &st);
		if (!policy) {
			/* mainline: the PMEM node took what node 1 could not, nothing was swapped */
			assert_true(st.node_pages[2] > 0);
			assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pswpout), 0);
		} else {
			/* the series: the demotions failed, the pages were swapped */
			assert_int_equal(st.node_pages[2], 0);
			assert_true(ccmm_vmstat_get(m, CCMM_VM_pgmigrate_fail) > 0);
			assert_true(ccmm_vmstat_get(m, CCMM_VM_pswpout) > 0);
		}
		ccmm_tier_task_destroy(t);
		ccmm_tier_task_destroy(filler);
		ccmm_shutdown(m);
	}
}

static void test_direct_reclaim_counters(void **state)
{
	struct tiny_fx f;
	uint64_t freed;

	tiny_fx_init(&f, true, 0, false, 0, false); /* file pages */
	for (uint64_t v = 0; v < 100; v++)
		assert_int_equal(ccmm_tier_access(&f.ctx, f.t, v, false), 0);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_nr_file_pages), 100);
	/* direct reclaim: the pages were referenced once, so the first look activates them */
	freed = ccmm_tier_reclaim(&f.ctx, 0, 32, false, NULL);
	assert_true(freed > 0);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgdemote_direct), freed);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgsteal_direct), freed);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgsteal_file), freed);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(tier, demotions)], freed);
	/* file pages on the terminal node are dropped (evicted), and refault later */
	freed = ccmm_tier_reclaim(&f.ctx, 1, 8, false, NULL);
	assert_int_equal(freed, 8);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(tier, reclaimed)], 8);
	tiny_fx_fini(&f);
}

/* A task bound to the slow node at first touch, then back to MPOL_DEFAULT: its pages move up. */
static void test_promotion(void **state)
{
	struct tiny_fx f;
	struct ccmm_tier_task_stats st;

	tiny_fx_init(&f, true, 1000, true, 1, true);
	for (uint64_t v = 0; v < 60; v++)
		assert_int_equal(ccmm_tier_access(&f.ctx, f.t, v, true), 0);
	assert_int_equal(ccmm_tier_task_set_policy(f.t, -1, false), 0);
	ccmm_tier_task_stats(f.t, &st);
	assert_int_equal(st.node_pages[1], 60);
	for (int pass = 0; pass < 4; pass++) {
		f.ctx.now_ns += 2000000; /* a scan between passes */
		for (uint64_t v = 0; v < 60; v++)
			assert_int_equal(ccmm_tier_access(&f.ctx, f.t, v, false), 0);
	}
	ccmm_tier_task_stats(f.t, &st);
	assert_int_equal(st.node_pages[0], 60);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgpromote_success), 60);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_pgpromote_candidate), 60);
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_numa_pages_migrated), 60);
	/* the scans marked only the slow-tier pages, each hint fault was one */
	assert_int_equal(ccmm_vmstat_get(f.m, CCMM_VM_numa_pte_updates), ccmm_vmstat_get(f.m, CCMM_VM_numa_hint_faults));
	assert_true(ccmm_vmstat_first_ns(f.m, CCMM_VM_numa_hint_faults) <= ccmm_vmstat_first_ns(f.m, CCMM_VM_pgpromote_success));
	tiny_fx_fini(&f);
}

/*
 * node_is_toptier(): every tier down to the lowest that holds a CPU node
 * is a top tier. With a CPU-less HBM node above DRAM, mainline promotes
 * PMEM pages into DRAM (a top tier) and never scans the HBM pages; ccmm's
 * earlier model, kept with the 2021 policy, promoted into the fastest
 * tier only and so never into DRAM here.
 */
static void test_node_is_toptier(void **state)
{
	struct ccmm_platform *p = plat("[platform]\n"
				       "[node:0]\nmem=512k\nkind=hbm\ncpus=no\ndistance=10,15,20\n"
				       "[node:1]\nmem=512k\ndistance=15,10,17\n"
				       "[node:2]\nmem=2m\nkind=pmem\ncpus=no\ndistance=20,17,10\n");
	struct ccmm_demotion d;

	memset(&d, 0, sizeof(d));
	assert_int_equal(ccmm_demotion_compute(p, NULL, CCMM_DEMOTE_TIERS, &d), 0);
	assert_true(ccmm_node_is_toptier(&d, 0));
	assert_true(ccmm_node_is_toptier(&d, 1));
	assert_false(ccmm_node_is_toptier(&d, 2));
	ccmm_platform_free(p);

	for (int policy = 0; policy < 2; policy++) {
		struct ccmm_machine *m;
		struct ccmm_ctx ctx;
		struct ccmm_tier_task *t, *h;

		p = plat("[platform]\n"
			 "[node:0]\nmem=512k\nkind=hbm\ncpus=no\ndistance=10,15,20\n"
			 "[node:1]\nmem=512k\ndistance=15,10,17\n"
			 "[node:2]\nmem=2m\nkind=pmem\ncpus=no\ndistance=20,17,10\n");
		assert_int_equal(ccmm_boot(p, 3, &m), 0);
		(policy ? configure_2021 : configure)(m, false, 1000, true);
		ccmm_ctx_init(&ctx, m, 0, "app");
		assert_int_equal(ccmm_tier_task_create(m, 2, true, true, NULL, NULL, &t), 0);
		assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &h), 0);
		for (uint64_t v = 0; v < 20; v++) {
			assert_int_equal(ccmm_tier_access(&ctx, t, v, true), 0);
			assert_int_equal(ccmm_tier_access(&ctx, h, v, true), 0);
		}
		assert_int_equal(ccmm_tier_task_set_policy(t, -1, false), 0);
		assert_int_equal(ccmm_tier_task_set_policy(h, -1, false), 0);
		for (int pass = 0; pass < 3; pass++) {
			ctx.now_ns += 2000000;
			for (uint64_t v = 0; v < 20; v++) {
				assert_int_equal(ccmm_tier_access(&ctx, t, v, false), 0);
				assert_int_equal(ccmm_tier_access(&ctx, h, v, false), 0);
			}
		}
		if (!policy) {
			/* PMEM -> DRAM; HBM pages are in a top tier: not scanned */
			assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgpromote_success), 20);
			assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_numa_pte_updates), 20);
		} else {
			/* the fastest tier (HBM) only: DRAM, the task's node, is no promotion target */
			assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgpromote_success), 0);
		}
		ccmm_tier_task_destroy(t);
		ccmm_tier_task_destroy(h);
		ccmm_shutdown(m);
	}
}

/*
 * __setup_per_zone_wmarks() from calculate_min_free_kbytes(): 1 GiB and
 * 3 GiB nodes: min_free_kbytes = int_sqrt(4 GiB in kB * 16) = 8192 kB,
 * 2048 pages split by size; the gaps max(min / 4, managed * 10 / 10000).
 */
static void test_watermarks(void **state)
{
	struct ccmm_platform *p = plat("[platform]\n[node:0]\nmem=1g\ndistance=10,20\n"
				       "[node:1]\nmem=3g\nkind=cxl\ncpus=no\ndistance=20,10\n");
	struct ccmm_tier_config c = { .batch = 32 };
	struct ccmm_watermarks w;
	struct ccmm_machine *m;

	assert_int_equal(ccmm_boot(p, 3, &m), 0);
	assert_int_equal(ccmm_tier_min_free_kbytes(m), 8192);
	ccmm_node_watermarks(m, 0, &w);
	assert_int_equal(w.min, 512);
	assert_int_equal(w.low, 512 + 262);
	assert_int_equal(w.high, 512 + 2 * 262);
	assert_int_equal(w.promo, 512 + 3 * 262);
	ccmm_node_watermarks(m, 1, &w);
	assert_int_equal(w.min, 1536);
	assert_int_equal(w.low, 1536 + 786);
	/* vm.min_free_kbytes and vm.watermark_scale_factor */
	c.min_free_kbytes = 54928; /* what khugepaged's set_recommended_min_free_kbytes raised it to in the recordings */
	c.watermark_scale_factor = 100;
	assert_int_equal(ccmm_tier_configure(m, &c), 0);
	ccmm_node_watermarks(m, 0, &w);
	assert_int_equal(w.min, 54928ull / 4 * 262144 / 1048576);
	assert_int_equal(w.low - w.min, 2621);
	c.watermark_scale_factor = 3001;
	assert_int_equal(ccmm_tier_configure(m, &c), -EINVAL);
	ccmm_shutdown(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_two_socket_example),
		cmocka_unit_test(test_hocko_uniform_example),
		cmocka_unit_test(test_preferred_ties_and_perf),
		cmocka_unit_test(test_explicit_targets),
		cmocka_unit_test(test_hotplug),
		cmocka_unit_test(test_anon_reclaim_table),
		cmocka_unit_test(test_demotion_instead_of_discard),
		cmocka_unit_test(test_demotion_fails_over_to_reclaim),
		cmocka_unit_test(test_kswapd_kernel_thread),
		cmocka_unit_test(test_kswapd_hopeless_node),
		cmocka_unit_test(test_kswapd_nap),
		cmocka_unit_test(test_memcg_never_demotes_2021),
		cmocka_unit_test(test_memcg_reclaim_demotes),
		cmocka_unit_test(test_can_demote_cpuset),
		cmocka_unit_test(test_alloc_demote_fallback),
		cmocka_unit_test(test_direct_reclaim_counters),
		cmocka_unit_test(test_promotion),
		cmocka_unit_test(test_node_is_toptier),
		cmocka_unit_test(test_watermarks),
	};

	return cmocka_run_group_tests_name("tier", tests, NULL, NULL);
}
