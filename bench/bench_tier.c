// SPDX-License-Identifier: MIT
/*
 * bench_tier - the seed's claim, measured: the same traced workload with
 * demotion off (reclaim swaps), on (reclaim demotes to PMEM), and on with
 * promotion of hot pages (NUMA balancing in tiering mode), in one run.
 * Prints refaults, demotions, promotions, slow-tier hits and modeled time
 * (from the cost table), and ccmm's own wall time for each run.
 *
 * usage: bench_tier JOBDIR   (the directory holding tiering-*.job)
 */
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "scenario/scenario.h"
#include "tier/tier.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "tiering-off", "tiering-on", "tiering-promote" };
	static const char *const what[] = { "demotion off (swap)", "demotion on", "demotion + promotion" };
	const char *dir = argc > 1 ? argv[1] : "jobs";
	uint64_t base_time = 0;

	printf("memory tiering: 4 traced programs bound to a 1 MiB DRAM node, 8 MiB PMEM, 64 MiB swap\n");
	printf("%-22s %10s %10s %10s %12s %14s %10s %9s\n", "", "refaults", "demoted", "promoted", "slow hits",
	       "modeled time", "vs off", "wall s");
	for (int i = 0; i < 3; i++) {
		char path[512];
		struct ccmm_job *job;
		struct ccmm_run *run;
		struct ccmm_error err;
		uint64_t slow = 0;
		double t0, t1;

		snprintf(path, sizeof(path), "%s/%s.job", dir, names[i]);
		if (ccmm_job_load(path, NULL, NULL, &job, &err)) {
			fprintf(stderr, "%s:%d: %s\n", err.file, err.line, err.msg);
			return 1;
		}
		if (ccmm_job_set_global(job, "vmstat", "", &err)) {
			fprintf(stderr, "%s: %s\n", path, err.msg);
			return 1;
		}
		t0 = now_s();
		if (ccmm_job_run(job, &run)) {
			fprintf(stderr, "%s: cannot run\n", path);
			return 1;
		}
		t1 = now_s();
		for (size_t a = 0; a < job->nr_actors; a++)
			slow += job->actors[a]->ctx.ctr[CCMM_CTR_AT(tier, slow_tier_hits)];
		if (!i)
			base_time = run->end_ns;
		printf("%-22s %10" PRIu64 " %10" PRIu64 " %10" PRIu64 " %12" PRIu64 " %11.2f ms %9.2fx %9.3f\n", what[i],
		       ccmm_vmstat_get(run->m, CCMM_VM_pgmajfault),
		       ccmm_vmstat_get(run->m, CCMM_VM_pgdemote_kswapd) + ccmm_vmstat_get(run->m, CCMM_VM_pgdemote_direct),
		       ccmm_vmstat_get(run->m, CCMM_VM_pgpromote_success), slow, (double)run->end_ns / 1e6,
		       (double)run->end_ns / (double)base_time, t1 - t0);
		ccmm_run_free(run);
		ccmm_job_free(job);
	}
	return 0;
}
