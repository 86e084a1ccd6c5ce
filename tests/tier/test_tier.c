// SPDX-License-Identifier: MIT
/*
 * Memory tiers: demotion targets for the seed's examples under both
 * orders, explicit targets and their rules, hotplug, the anonymous-reclaim
 * table, memcg reclaim never demoting, kswapd/direct counters, promotion,
 * and the vmstat format.
 */
#include "helpers.h"

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

static void configure(struct ccmm_machine *m, unsigned mode, uint64_t swap_pages, bool promotion)
{
	struct ccmm_tier_config c = { mode, promotion, swap_pages, CCMM_DEMOTE_TIERS, 32 };

	assert_int_equal(ccmm_tier_configure(m, &c), 0);
}

static void test_hotplug(void **state)
{
	struct ccmm_machine *m = tiny(false);
	struct ccmm_demotion d;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
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

static void test_anon_reclaim_table(void **state)
{
	struct ccmm_machine *m = tiny(true);

	/* swap space / demotion OK -> can reclaim */
	configure(m, CCMM_RECLAIM_MIGRATE, 100, false);
	assert_true(ccmm_can_reclaim_anon(m, 0, false));
	/* swap space / demotion off -> can reclaim */
	configure(m, 0, 100, false);
	assert_true(ccmm_can_reclaim_anon(m, 0, false));
	/* swap full / demotion OK -> can reclaim */
	configure(m, CCMM_RECLAIM_MIGRATE, 0, false);
	assert_true(ccmm_can_reclaim_anon(m, 0, false));
	/* swap full / demotion off -> no reclaim */
	configure(m, 0, 0, false);
	assert_false(ccmm_can_reclaim_anon(m, 0, false));
	/* a terminal node with demotion on and no swap: no reclaim */
	configure(m, CCMM_RECLAIM_MIGRATE, 0, false);
	assert_false(ccmm_can_reclaim_anon(m, 1, false));
	/* memcg reclaim never demotes: no swap, no anon reclaim */
	assert_false(ccmm_can_reclaim_anon(m, 0, true));
	ccmm_shutdown(m);
}

/* Touch @n pages of @t, twice over. */
static void touch(struct ccmm_ctx *ctx, struct ccmm_tier_task *t, uint64_t n)
{
	for (int pass = 0; pass < 2; pass++)
		for (uint64_t v = 0; v < n; v++)
			assert_int_equal(ccmm_tier_access(ctx, t, v, v & 1), 0);
}

static void test_demotion_instead_of_discard(void **state)
{
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
	struct ccmm_tier_task_stats st;

	/* demotion on: DRAM's cold pages move to PMEM, nothing is swapped */
	m = tiny(true);
	configure(m, CCMM_RECLAIM_MIGRATE, 1000, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &t), 0);
	touch(&ctx, t, 300); /* node 0 has 128 pages */
	ccmm_tier_task_stats(t, &st);
	assert_int_equal(st.refaults, 0);
	assert_int_equal(st.resident, 300);
	assert_true(st.hits_slow > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgdemote_kswapd) > 0);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pswpout), 0);
	/* pgsteal counts what was demoted too, as in the series */
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgsteal_kswapd), ccmm_vmstat_get(m, CCMM_VM_pgdemote_kswapd));
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgscan_kswapd) >= ccmm_vmstat_get(m, CCMM_VM_pgsteal_kswapd));
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgdemote_kswapd), ccmm_vmstat_get(m, CCMM_VM_pgmigrate_success));
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);

	/* demotion off: the same pages are swapped and come back as refaults */
	m = tiny(true);
	configure(m, 0, 1000, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &t), 0);
	touch(&ctx, t, 300);
	ccmm_tier_task_stats(t, &st);
	assert_true(st.refaults > 0);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgdemote_kswapd), 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pswpout) > 0);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pswpin), st.refaults);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_workingset_refault_anon), st.refaults);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgmajfault), st.refaults);
	assert_int_equal(st.hits_slow, 0);
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);
}

static void test_demotion_fails_over_to_reclaim(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
	struct ccmm_tier_task_stats st;

	/* PMEM fills too: demotions that find no room fall back to swap (pass 2) */
	configure(m, CCMM_RECLAIM_MIGRATE, 1000, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &t), 0);
	touch(&ctx, t, 900); /* 128 + 512 pages of memory in all */
	ccmm_tier_task_stats(t, &st);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgdemote_kswapd) > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgmigrate_fail) > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pswpout) > 0);
	assert_int_equal(st.resident + st.swapped, 900);
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);
}

static void test_memcg_never_demotes(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(m);
	struct ccmm_cgroup *cg;
	struct ccmm_task *proc;
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
	struct ccmm_tier_task_stats st;
	char buf[256];

	configure(m, CCMM_RECLAIM_MIGRATE, 1000, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	/* a memory cgroup of 40 pages: node 0 never fills, memcg reclaim does the work */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "+memory"), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/app", false, 0, &cg), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/app/memory.max", "160K"), 0);
	assert_int_equal(ccmm_task_create(root, "app", &proc, cg, &proc), 0);
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
	ccmm_tier_task_destroy(t);
	assert_int_equal(ccmm_memcg_usage(cg), 0);
	/* no swap: memcg reclaim cannot reclaim anon pages (it never demotes): the memcg OOM killer takes the task */
	configure(m, CCMM_RECLAIM_MIGRATE, 0, false);
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

static void test_direct_reclaim_counters(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;
	uint64_t freed;

	configure(m, CCMM_RECLAIM_MIGRATE, 0, false);
	ccmm_ctx_init(&ctx, m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(m, 0, false, true, NULL, NULL, &t), 0); /* file pages */
	for (uint64_t v = 0; v < 100; v++)
		assert_int_equal(ccmm_tier_access(&ctx, t, v, false), 0);
	/* direct reclaim: the pages were referenced once, so the first look activates them */
	freed = ccmm_tier_reclaim(&ctx, 0, 32, false, NULL);
	assert_true(freed > 0);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgdemote_direct), freed);
	assert_int_equal(ccmm_vmstat_get(m, CCMM_VM_pgsteal_direct), freed);
	assert_int_equal(ctx.ctr[CCMM_CTR_AT(tier, demotions)], freed);
	/* file pages on the terminal node are dropped (evicted), and refault later */
	freed = ccmm_tier_reclaim(&ctx, 1, 8, false, NULL);
	assert_int_equal(freed, 8);
	assert_int_equal(ctx.ctr[CCMM_CTR_AT(tier, reclaimed)], 8);
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);
}

static void test_promotion(void **state)
{
	struct ccmm_machine *m = tiny(true);
	struct ccmm_ctx ctx;
	struct ccmm_tier_task *t;

	configure(m, CCMM_RECLAIM_MIGRATE, 1000, true);
	ccmm_ctx_init(&ctx, m, 0, "app");
	assert_int_equal(ccmm_tier_task_create(m, 0, true, true, NULL, NULL, &t), 0);
	for (int pass = 0; pass < 4; pass++)
		for (uint64_t v = 0; v < 200; v++)
			assert_int_equal(ccmm_tier_access(&ctx, t, v, false), 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_numa_hint_faults) > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgpromote_success) > 0);
	assert_true(ccmm_vmstat_get(m, CCMM_VM_pgpromote_success) <= ccmm_vmstat_get(m, CCMM_VM_pgpromote_candidate));
	ccmm_tier_task_destroy(t);
	ccmm_shutdown(m);
}

static void test_vmstat_format(void **state)
{
	struct ccmm_machine *m = tiny(true);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int lines = 0;

	assert_int_equal(ccmm_vmstat_write(m, f), 0);
	fclose(f);
	for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n")) {
		char name[64];
		unsigned long long v;
		char extra;

		if (sscanf(l, "%63s %llu%c", name, &v, &extra) != 2)
			fail_msg("not a vmstat line: '%s'", l);
		lines++;
	}
	assert_int_equal(lines, 6 + CCMM_VM_NR);
	free(text);
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
		cmocka_unit_test(test_memcg_never_demotes),
		cmocka_unit_test(test_direct_reclaim_counters),
		cmocka_unit_test(test_promotion),
		cmocka_unit_test(test_vmstat_format),
	};

	return cmocka_run_group_tests_name("tier", tests, NULL, NULL);
}
