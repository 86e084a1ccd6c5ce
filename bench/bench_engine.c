// SPDX-License-Identifier: MIT
/*
 * The engine's own speed, in wall time:
 *  1. sim mode's context switch (an entity giving way to the scheduler and
 *     being chosen again: two swapcontext calls and a choice), and an
 *     entity sleeping on a wait queue and woken by another, against a
 *     plain function call and a scheduling point outside any engine;
 *  2. ccmm explore's schedules per second for a job of each subsystem,
 *     against plain runs of the same job per second, in the same run.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <ucontext.h>

#include "boot/boot.h"
#include "scenario/scenario.h"

#define SWITCHES 2000000L
#define CALLS 200000000L

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long counter;

__attribute__((noinline)) static void plain(long i)
{
	counter += i;
}

static void (*volatile plain_fn)(long) = plain;

/* An entity that reaches a step point @SWITCHES times: each gives way to the scheduler and is chosen again. */
static int yielder(void *arg)
{
	(void)arg;
	for (long i = 0; i < SWITCHES; i++)
		ccmm_sched_point(CCMM_SP_STEP, NULL);
	return 0;
}

struct pingpong {
	struct ccmm_wait_queue_head wq;
	long turn; /* even: a's turn, odd: b's */
};

static struct pingpong pp;

/* Two entities that take turns through a wait queue: every turn is a sleep and a wake-up. */
static int pinger(void *arg)
{
	long me = (long)(intptr_t)arg;

	for (long i = 0; i < SWITCHES / 2; i++) {
		int ret;

		ccmm_wq_lock(&pp.wq);
		ccmm_wait_event_locked(NULL, &pp.wq, (pp.turn & 1) == me, NULL, 0, ret);
		(void)ret;
		pp.turn++;
		ccmm_wake_up_locked(NULL, &pp.wq, 0);
		ccmm_wq_unlock(&pp.wq);
	}
	return 0;
}

/* glibc's swapcontext, for comparison: a round trip between two contexts (2 switches). */
static ucontext_t uc_main, uc_other;
static char uc_stack[64 * 1024];

static void uc_loop(void)
{
	for (;;)
		swapcontext(&uc_other, &uc_main);
}

static double glibc_round_trip(long n)
{
	double t0;

	getcontext(&uc_other);
	uc_other.uc_stack.ss_sp = uc_stack;
	uc_other.uc_stack.ss_size = sizeof(uc_stack);
	uc_other.uc_link = NULL;
	makecontext(&uc_other, uc_loop, 0);
	t0 = now_s();
	for (long i = 0; i < n; i++)
		swapcontext(&uc_main, &uc_other);
	return (now_s() - t0) / n;
}

static struct ccmm_machine *tiny_machine(void)
{
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	if (ccmm_platform_parse("bench.ini", "[platform]\nmode=none\ncpus=1\n[node:0]\nmem=64m\n", &p, &err) ||
	    ccmm_boot(p, 1, &m)) {
		fprintf(stderr, "cannot boot\n");
		exit(1);
	}
	return m;
}

static void switches(void)
{
	struct ccmm_machine *m = tiny_machine();
	struct ccmm_sched_entity a, b;
	struct ccmm_ctx ca, cb;
	struct ccmm_sim *sim;
	double t0, t_call, t_point, t_switch, t_sleep, t_glibc;

	t0 = now_s();
	for (long i = 0; i < CALLS; i++)
		plain_fn(i);
	t_call = (now_s() - t0) / CALLS;
	t0 = now_s();
	for (long i = 0; i < CALLS; i++)
		ccmm_sched_point(CCMM_SP_STEP, NULL);
	t_point = (now_s() - t0) / CALLS;
	t_glibc = glibc_round_trip(20000);

	ccmm_ctx_init(&ca, m, 0, "a");
	ccmm_ctx_init(&cb, m, 1, "b");
	ccmm_sched_entity_init(&a, "a", 0, &ca);
	ccmm_sched_entity_init(&b, "b", 1, &cb);
	if (ccmm_sim_create(m, CCMM_SIM_FIBERS, NULL, &sim) || ccmm_sim_spawn(sim, &a, yielder, NULL))
		exit(1);
	t0 = now_s();
	ccmm_sim_run(sim);
	t_switch = (now_s() - t0) / SWITCHES;
	ccmm_sim_destroy(sim);

	ccmm_init_waitqueue_head(&pp.wq, NULL);
	pp.turn = 0;
	if (ccmm_sim_create(m, CCMM_SIM_FIBERS, NULL, &sim) || ccmm_sim_spawn(sim, &a, pinger, (void *)0) ||
	    ccmm_sim_spawn(sim, &b, pinger, (void *)1))
		exit(1);
	t0 = now_s();
	ccmm_sim_run(sim);
	t_sleep = (now_s() - t0) / SWITCHES;
	ccmm_sim_destroy(sim);
	ccmm_destroy_waitqueue_head(&pp.wq);
	ccmm_sched_entity_fini(&a);
	ccmm_sched_entity_fini(&b);
	ccmm_shutdown(m);

	printf("sim mode's context switch (wall time per event)\n");
	printf("  %-58s %8.1f ns   (baseline)\n", "a plain (indirect) function call", t_call * 1e9);
	printf("  %-58s %8.1f ns   (%.1fx)\n", "a scheduling point on a plain thread (no engine)", t_point * 1e9,
	       t_point / t_call);
	printf("  %-58s %8.1f ns   (%.0fx)\n", "a step point: to the scheduler and back (2 fiber switches)",
	       t_switch * 1e9, t_switch / t_call);
	printf("  %-58s %8.1f ns   (%.0fx)\n", "a sleep woken by another entity (wait queue, 2 switches)",
	       t_sleep * 1e9, t_sleep / t_call);
	printf("  %-58s %8.1f ns   (%.0fx)\n", "for comparison: a glibc swapcontext round trip (2 switches)",
	       t_glibc * 1e9, t_glibc / t_call);
}

static const struct {
	const char *subsystem, *job;
} jobs[] = {
	{ "sync (two importers on one reservation)", "tests/jobs/dmabuf-resv-contention.job" },
	{ "ttm (fault vs move, fixed)", "tests/explore/ttm-fault-race-fixed.job" },
	{ "dma-buf (revoke vs PFN map, fixed)", "tests/explore/dmabuf-revoke-race-fixed.job" },
	{ "dma-buf (move_notify vs DMA, fixed)", "tests/explore/dmabuf-move-notify-race-fixed.job" },
	{ "sgx (PCMD truncation, fixed)", "tests/explore/sgx-pcmd-race-fixed.job" },
	{ "dma (the DMA API in a TDX guest)", "tests/jobs/tdx-dma-api.job" },
	{ "mm/cc (conversions)", "tests/jobs/conversion-rules.job" },
	{ "cgroup (misc files)", "tests/jobs/sgx-misc-formats.job" },
};

static void explore_rates(void)
{
	printf("\nccmm explore, one process (PCT, depth 3, seed 1), against plain runs of the same job\n");
	printf("  %-44s %10s %12s %12s %8s\n", "job", "steps/run", "schedules/s", "runs/s", "ratio");
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		char path[1024];
		struct ccmm_job *job;
		struct ccmm_error err;
		struct ccmm_explore_opts o = { .strategy = CCMM_PLAN_PCT, .schedules = 40, .depth = 3, .seed = 1, .jobs = 1 };
		struct ccmm_explore_result res;
		struct ccmm_run *failed = NULL;
		double t0, plain_rate, rate;
		int n = 0;

		snprintf(path, sizeof(path), "%s/%s", CCMM_SOURCE_DIR, jobs[i].job);
		if (ccmm_job_load(path, NULL, NULL, &job, &err)) {
			fprintf(stderr, "%s:%d: %s\n", err.file, err.line, err.msg);
			exit(1);
		}
		for (int w = 0; w < 3; w++) { /* warm up: caches, the allocator, the stack cache */
			struct ccmm_run *run;

			if (ccmm_job_run(job, &run))
				exit(1);
			ccmm_run_free(run);
		}
		t0 = now_s();
		while (n < 3 || now_s() - t0 < 1.0) {
			struct ccmm_run *run;

			if (ccmm_job_run(job, &run))
				exit(1);
			ccmm_run_free(run);
			n++;
		}
		plain_rate = n / (now_s() - t0);
		/* about a second of exploring */
		o.schedules = plain_rate < 40 ? 40 : plain_rate > 2000 ? 2000 : (uint64_t)plain_rate;
		if (ccmm_explore(job, &o, &res, &failed) < 0)
			exit(1);
		if (failed) {
			fprintf(stderr, "%s: schedule #%" PRId64 " broke it\n", path, res.failed_at);
			ccmm_run_free(failed);
		}
		rate = (double)res.tried / res.wall_s;
		printf("  %-44s %10" PRIu64 " %12.1f %12.1f %7.2fx\n", jobs[i].subsystem, res.pct_steps, rate, plain_rate,
		       rate / plain_rate);
		ccmm_job_free(job);
	}
}

int main(void)
{
	switches();
	explore_rates();
	return counter == 42 ? 1 : 0;
}
