// SPDX-License-Identifier: MIT
/*
 * bench_tier - the seed's claim, measured under both demotion policies:
 * the same traced workload with demotion off (reclaim swaps), on (reclaim
 * demotes to PMEM), and on with promotion of hot pages (NUMA balancing in
 * tiering mode), under mainline's rules (demotion_enabled, memcg reclaim
 * demotes, node_is_toptier) and the 2021 series' (node_reclaim_mode
 * RECLAIM_MIGRATE); then a memory cgroup over memory.max next to node
 * pressure (tests/jobs/tier-memcg.job), where the two differ most: memcg
 * reclaim demotes in mainline and swaps in the series. Prints refaults,
 * demotions, promotions, slow-tier hits and modeled time (from the cost
 * table), and ccmm's own wall time for each run, in one run.
 *
 * usage: bench_tier JOBDIR [TESTJOBDIR]   (the directories of tiering-*.job and tier-memcg.job)
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "scenario/scenario.h"
#include "tier/tier.h"

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Set a [global] option of a loaded job, or say why not. */
static int set(struct ccmm_job *job, const char *key, const char *value)
{
	struct ccmm_error err;

	if (ccmm_job_set_global(job, key, value, &err)) {
		fprintf(stderr, "%s: %s = %s: %s\n", job->path, key, value, err.msg);
		return -1;
	}
	return 0;
}

/*
 * Run @path under @policy (0 mainline, 1 reclaim_migrate) with demotion
 * @demote; print its line. Returns the run's modeled time, 0 on failure.
 */
static uint64_t one(const char *path, const char *what, int policy, bool demote, uint64_t base)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	uint64_t slow = 0, end, swapped;
	double t0, t1;

	if (ccmm_job_load(path, NULL, NULL, &job, &err)) {
		fprintf(stderr, "%s:%d: %s\n", err.file, err.line, err.msg);
		return 0;
	}
	if (set(job, "vmstat", "") ||
	    (policy ? set(job, "demotion_enabled", "no") || set(job, "demotion_policy", "reclaim_migrate") ||
			      set(job, "node_reclaim_mode", demote ? "8" : "0")
		    : set(job, "demotion_policy", "mainline") || set(job, "node_reclaim_mode", "0") ||
			      set(job, "demotion_enabled", demote ? "yes" : "no"))) {
		ccmm_job_free(job);
		return 0;
	}
	t0 = now_s();
	if (ccmm_job_run(job, &run)) {
		fprintf(stderr, "%s: cannot run\n", path);
		ccmm_job_free(job);
		return 0;
	}
	t1 = now_s();
	for (size_t a = 0; a < job->nr_actors; a++)
		slow += job->actors[a]->ctx.ctr[CCMM_CTR_AT(tier, slow_tier_hits)];
	end = run->end_ns;
	swapped = ccmm_vmstat_get(run->m, CCMM_VM_pswpout);
	char ratio[16] = "";

	if (base)
		snprintf(ratio, sizeof(ratio), "%.2fx", (double)end / (double)base);
	else if (!strcmp(what, "demotion off (swap)"))
		snprintf(ratio, sizeof(ratio), "1.00x");
	printf("  %-24s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %10" PRIu64 " %11.2f ms %8s %8.3f\n", what,
	       ccmm_vmstat_get(run->m, CCMM_VM_pgmajfault), swapped,
	       ccmm_vmstat_get(run->m, CCMM_VM_pgdemote_kswapd) + ccmm_vmstat_get(run->m, CCMM_VM_pgdemote_direct),
	       ccmm_vmstat_get(run->m, CCMM_VM_pgpromote_success), slow, (double)end / 1e6, ratio, t1 - t0);
	ccmm_run_free(run);
	ccmm_job_free(job);
	return end ? end : 1;
}

int main(int argc, char **argv)
{
	static const char *const names[] = { "tiering-off", "tiering-on", "tiering-promote" };
	static const char *const what[] = { "demotion off (swap)", "demotion on", "demotion + promotion" };
	static const char *const policies[] = { "mainline (demotion_enabled)", "2021 series (node_reclaim_mode 8)" };
	const char *dir = argc > 1 ? argv[1] : "jobs", *tdir = argc > 2 ? argv[2] : "tests/jobs";
	char path[512];

	printf("memory tiering: 4 traced programs bound to a 1 MiB DRAM node, 8 MiB PMEM, 64 MiB swap\n");
	for (int policy = 0; policy < 2; policy++) {
		uint64_t base = 0;

		printf("%s\n  %-24s %9s %9s %9s %9s %10s %14s %8s %8s\n", policies[policy], "", "refaults", "swapped", "demoted",
		       "promoted", "slow hits", "modeled time", "vs off", "wall s");
		for (int i = 0; i < 3; i++) {
			uint64_t t;

			snprintf(path, sizeof(path), "%s/%s.job", dir, names[i]);
			t = one(path, what[i], policy, i > 0, base);
			if (!t)
				return 1;
			if (!i)
				base = t;
		}
	}
	printf("a 64-page memory.max cgroup (sort) beside two tasks filling DRAM (tests/jobs/tier-memcg.job)\n");
	printf("  %-24s %9s %9s %9s %9s %10s %14s %8s %8s\n", "", "refaults", "swapped", "demoted", "promoted", "slow hits",
	       "modeled time", "", "wall s");
	snprintf(path, sizeof(path), "%s/tier-memcg.job", tdir);
	for (int policy = 0; policy < 2; policy++)
		if (!one(path, policy ? "2021 series" : "mainline", policy, true, 0))
			return 1;
	return 0;
}
