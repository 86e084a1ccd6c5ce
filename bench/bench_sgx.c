// SPDX-License-Identifier: MIT
/*
 * SGX benchmarks, ccmm's own speed in wall time (never modeled time):
 *
 * 1. Page references replayed per second on one core, with the full model
 *    (page-table walk, EPCM check, 8 bytes through the memory-encryption
 *    engine per reference; faults with ELDU/EAUG, reclaim with EWB's real
 *    crypto), from a shipped trace (traces/sort.trace.zst): an enclave
 *    alone, and an enclave held to 64 pages by its cgroup so it pages all
 *    the time. Then the paging replay again with 60 000 pages of another
 *    cgroup on the EPC, under per-cgroup LRUs (the series) and under one
 *    global LRU scanned for the cgroup's pages, side by side.
 *
 * 2. Reclaim cost per reclaimed page from one cgroup, with 64k and with 1M
 *    EPC pages (all but the test cgroup's held by a bulk cgroup), in the
 *    same run, per-cgroup LRUs against one global LRU: wall time and LRU
 *    nodes looked at per reclaimed page. Dave Hansen's point in seed 004:
 *    with per-cgroup LRUs the cost does not grow with the EPC; scanning one
 *    global list for a cgroup's pages does.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/boot.h"
#include "cgroup/cgroup.h"
#include "sgx/sgx.h"
#include "trace/trace.h"

#ifndef CCMM_SOURCE_DIR
#define CCMM_SOURCE_DIR "."
#endif

#define RW (CCMM_EPCM_R | CCMM_EPCM_W)

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_sgx: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

static struct ccmm_machine *boot(const char *epc, enum ccmm_sgx_policy policy)
{
	char text[512];
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	snprintf(text, sizeof(text), "[platform]\nmode=none\ncpus=4\n[node:0]\nmem=2g\n[epc:epc0]\nnode=0\nsize=%s\n", epc);
	if (ccmm_platform_parse("bench.ini", text, &p, &err) || ccmm_boot(p, 1, &m)) {
		fprintf(stderr, "bench_sgx: cannot boot: %s\n", err.msg);
		exit(1);
	}
	if (ccmm_sgx_set_policy(m, policy))
		die("policy", EBUSY);
	return m;
}

struct proc {
	struct ccmm_ctx ctx;
	struct ccmm_mm *mm;
	struct ccmm_task *task;
	struct ccmm_sgx_current cur;
	struct ccmm_sgx_encl *e;
};

static void proc_init(struct ccmm_machine *m, struct proc *p, const char *path, int actor)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(m);
	struct ccmm_cgroup *cg;
	int ret;

	ccmm_ctx_init(&p->ctx, m, actor, path);
	if ((ret = ccmm_mm_create(m, CCMM_INIT_USER, path, &p->mm)))
		die("mm", ret);
	if ((ret = ccmm_cgroup_mkdir(root, path, true, CCMM_CGRP_MASK_ALL, &cg)))
		die("mkdir", ret);
	if ((ret = ccmm_task_create(root, path, p->mm, cg, &p->task)))
		die("task", ret);
	ccmm_cgroup_put(cg);
	p->cur.ctx = &p->ctx;
	p->cur.task = p->task;
	p->cur.mm = p->mm;
}

/* An enclave at @base with @pages pages EADDed (a TCS and regular pages) in the smallest ELRANGE that holds them. */
static void build(struct proc *p, uint64_t base, uint64_t pages)
{
	uint64_t elrange = 2;
	int err;

	while (elrange < pages)
		elrange <<= 1;
	if ((err = ccmm_sgx_encl_create(&p->cur, base, elrange * CCMM_PAGE_SIZE, "bench", &p->e)))
		die("ECREATE", err);
	if (ccmm_sgx_encl_add_pages(&p->cur, p->e, 0, 1, CCMM_PT_TCS, RW, NULL, false, &err) != 1)
		die("EADD", err);
	if (ccmm_sgx_encl_add_pages(&p->cur, p->e, 1, pages - 1, CCMM_PT_REG, RW, NULL, false, &err) != (long)(pages - 1))
		die("EADD", err);
	if ((err = ccmm_sgx_encl_init(&p->cur, p->e)))
		die("EINIT", err);
}

static void proc_exit(struct ccmm_machine *m, struct proc *p)
{
	if (p->e)
		ccmm_sgx_encl_put(&p->ctx, p->e);
	ccmm_mm_destroy(&p->ctx, p->mm);
	ccmm_task_exit(ccmm_cgroup_root_of(m), p->task);
}

/* ---- 1. replay ------------------------------------------------------------------------ */

struct replay {
	double refs_per_s;
	uint64_t refs, ewb, eldu, scanned;
};

static void set_max(struct ccmm_machine *m, const char *file, const char *val)
{
	int ret = ccmm_cgroup_write(ccmm_cgroup_root_of(m), NULL, file, val);

	if (ret)
		die(file, ret);
}

/*
 * Replay @refs references of the sort trace in an enclave in /t (limited
 * to @limit pages when @limit), after @bulk pages of /bulk filled the EPC.
 */
static struct replay replay(const char *epc, enum ccmm_sgx_policy policy, uint64_t limit, uint64_t bulk, uint64_t refs)
{
	struct ccmm_machine *m = boot(epc, policy);
	struct ccmm_sgx *sgx = ccmm_sgx_of(m);
	struct proc b = { 0 }, t = { 0 };
	struct ccmm_trace *tr;
	struct ccmm_error err;
	struct ccmm_sgx_thread th = { 0 };
	struct ccmm_page_ref r;
	uint64_t map_n = 0, *vpns, n = 0;
	struct replay out = { 0 };
	double t0, t1;
	char path[600];

	if (bulk) {
		proc_init(m, &b, "/bulk", 1);
		build(&b, 1ULL << 40, bulk);
	}
	proc_init(m, &t, "/t", 2);
	if (limit) {
		char v[64];

		snprintf(v, sizeof(v), "sgx_epc %" PRIu64, limit * (uint64_t)CCMM_PAGE_SIZE);
		set_max(m, "/t/misc.max", v);
	}
	build(&t, 1ULL << 41, 256);
	snprintf(path, sizeof(path), "%s/traces/sort.trace.zst", CCMM_SOURCE_DIR);
	if (ccmm_trace_open(path, NULL, &tr, &err)) {
		fprintf(stderr, "bench_sgx: %s\n", err.msg);
		exit(1);
	}
	/* first-touch mapping, as the enclave actor does (a tiny table: the trace has < 255 pages) */
	vpns = calloc(255, sizeof(*vpns));
	atomic_store(&sgx->scanned, 0);
	t0 = now_s();
	ccmm_sgx_enter(&th, t.e);
	while (n < refs && ccmm_trace_next(tr, &r, &err) == 1) {
		uint64_t page = 0;

		for (uint64_t i = 0; i < map_n; i++)
			if (vpns[i] == r.vpn) {
				page = i + 1;
				break;
			}
		if (!page) {
			if (map_n == 255)
				die("trace too big", E2BIG);
			vpns[map_n++] = r.vpn;
			page = map_n;
		}
		if (ccmm_sgx_encl_access(&t.cur, &th, t.e->base + page * CCMM_PAGE_SIZE, r.write))
			die("access", EFAULT);
		n++;
	}
	ccmm_sgx_exit(&th);
	t1 = now_s();
	out.refs = n;
	out.refs_per_s = (double)n / (t1 - t0);
	out.ewb = t.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)] + sgx->cg_wq.worker.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)] + sgx->ksgxd.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)];
	out.eldu = t.ctx.ctr[CCMM_CTR_AT(sgx, sgx_eldu)];
	out.scanned = atomic_load(&sgx->scanned);
	if (ccmm_violations_count(m, NULL, CCMM_ANY_ACTOR))
		die("violations during the replay", EIO);
	free(vpns);
	ccmm_trace_close(tr);
	proc_exit(m, &t);
	if (bulk)
		proc_exit(m, &b);
	ccmm_shutdown(m);
	return out;
}

/* ---- 2. reclaim cost --------------------------------------------------------------------- */

struct reclaim_cost {
	double us_per_page;
	double scanned_per_page;
	uint64_t pages;
};

/* Reclaim @target pages from /t (which holds 4096) with @total EPC pages, the rest held by /bulk. */
static struct reclaim_cost reclaim_cost(uint64_t total, enum ccmm_sgx_policy policy, uint64_t target)
{
	char epc[32];
	struct ccmm_machine *m;
	struct ccmm_sgx *sgx;
	struct proc b = { 0 }, t = { 0 };
	struct ccmm_sgx_cgroup *s;
	struct ccmm_cgroup *cg;
	struct reclaim_cost out = { 0 };
	uint64_t before;
	double t0, t1;

	snprintf(epc, sizeof(epc), "%" PRIu64 "k", total * 4);
	m = boot(epc, policy);
	sgx = ccmm_sgx_of(m);
	proc_init(m, &b, "/bulk", 1);
	proc_init(m, &t, "/t", 2);
	/* the bulk cgroup first (oldest on a global LRU), leaving room for /t and the watermarks */
	build(&b, 1ULL << 40, total - 4096 - 256);
	build(&t, 1ULL << 41, 4096);
	cg = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), "/t");
	s = ccmm_sgx_cgroup_of(cg);
	atomic_store(&sgx->scanned, 0);
	before = atomic_load(&sgx->reclaimed);
	t0 = now_s();
	while (atomic_load(&sgx->reclaimed) - before < target)
		if (!ccmm_sgx_cgroup_reclaim(sgx, &t.ctx, s, NULL, CCMM_SGX_NR_TO_SCAN, CCMM_SGX_CAUSE_LIMIT))
			die("nothing to reclaim", ENOENT);
	t1 = now_s();
	out.pages = atomic_load(&sgx->reclaimed) - before;
	out.us_per_page = (t1 - t0) * 1e6 / (double)out.pages;
	out.scanned_per_page = (double)atomic_load(&sgx->scanned) / (double)out.pages;
	ccmm_cgroup_put(cg);
	proc_exit(m, &t);
	proc_exit(m, &b);
	ccmm_shutdown(m);
	return out;
}

int main(void)
{
	struct replay alone, paging, series, global;
	struct reclaim_cost rc[2][2];
	const uint64_t sizes[2] = { 65536, 1048576 };

	printf("bench_sgx: ccmm's own speed (wall time), one core\n\n");
	printf("1. trace replay, traces/sort.trace.zst (200000 references), full model\n");
	alone = replay("2m", CCMM_SGX_POLICY_SERIES, 0, 0, 200000);
	paging = replay("2m", CCMM_SGX_POLICY_SERIES, 64, 0, 200000);
	series = replay("256m", CCMM_SGX_POLICY_SERIES, 64, 60000, 200000);
	global = replay("256m", CCMM_SGX_POLICY_GLOBAL, 64, 60000, 200000);
	printf("  %-58s %14s %8s %8s %14s\n", "", "refs/s", "EWB", "ELDU", "LRU nodes seen");
	printf("  %-58s %14.0f %8" PRIu64 " %8" PRIu64 " %14" PRIu64 "\n", "enclave alone (no paging)", alone.refs_per_s,
	       alone.ewb, alone.eldu, alone.scanned);
	printf("  %-58s %14.0f %8" PRIu64 " %8" PRIu64 " %14" PRIu64 "\n", "cgroup limit 64 pages (pages all the time)",
	       paging.refs_per_s, paging.ewb, paging.eldu, paging.scanned);
	printf("  %-58s %14.0f %8" PRIu64 " %8" PRIu64 " %14" PRIu64 "\n",
	       "same, 60000 pages of another cgroup, per-cgroup LRUs", series.refs_per_s, series.ewb, series.eldu,
	       series.scanned);
	printf("  %-58s %14.0f %8" PRIu64 " %8" PRIu64 " %14" PRIu64 "\n",
	       "same, one global LRU scanned for the cgroup's pages", global.refs_per_s, global.ewb, global.eldu,
	       global.scanned);
	printf("  per-cgroup LRUs replay %.1fx faster than the global-LRU scan\n\n", series.refs_per_s / global.refs_per_s);

	printf("2. reclaim cost per reclaimed page from one cgroup (4096 pages there, the rest of the EPC in another)\n");
	for (int i = 0; i < 2; i++) {
		rc[i][0] = reclaim_cost(sizes[i], CCMM_SGX_POLICY_SERIES, 2048);
		rc[i][1] = reclaim_cost(sizes[i], CCMM_SGX_POLICY_GLOBAL, i ? 256 : 2048);
	}
	printf("  %-24s %22s %22s %22s %22s\n", "", "per-cgroup us/page", "nodes seen/page", "global-LRU us/page",
	       "nodes seen/page");
	for (int i = 0; i < 2; i++)
		printf("  %-24s %22.2f %22.1f %22.2f %22.1f\n", i ? "1M EPC pages (4 GiB)" : "64k EPC pages (256 MiB)",
		       rc[i][0].us_per_page, rc[i][0].scanned_per_page, rc[i][1].us_per_page, rc[i][1].scanned_per_page);
	printf("  growth from 64k to 1M pages: per-cgroup LRUs x%.2f, one global LRU x%.2f\n",
	       rc[1][0].us_per_page / rc[0][0].us_per_page, rc[1][1].us_per_page / rc[0][1].us_per_page);
	return 0;
}
