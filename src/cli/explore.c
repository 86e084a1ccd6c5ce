// SPDX-License-Identifier: MIT
/*
 * ccmm explore JOB: the job under many schedules (scenario/explore.c);
 * stops at the first that breaks it, prints its report and interleaving
 * and writes the schedule file that ccmm run --schedule replays.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cli/internal.h"
#include "report/report.h"
#include "scenario/scenario.h"

enum {
	OPT_SCHEDULES = 256,
	OPT_STRATEGY,
	OPT_DEPTH,
	OPT_SEED,
	OPT_MAX_STEPS,
	OPT_JOBS,
	OPT_SCHEDULE_OUT,
	OPT_VERBOSE = 'v',
};

static const struct cli_option explore_opts[] = {
	{ "schedules", OPT_SCHEDULES, "N", "at most N schedules (default 100; the first is the default schedule)", NULL },
	{ "strategy", OPT_STRATEGY, "S", "pct (default: probabilistic concurrency testing) or random (a random walk)", "pct|random" },
	{ "depth", OPT_DEPTH, "D", "PCT's bug depth, 1 to 64: D - 1 priority change points (default 3)", NULL },
	{ "seed", OPT_SEED, "S", "the choices' seed (default 1; the job's own seed is kept)", NULL },
	{ "max-steps", OPT_MAX_STEPS, "N", "cut a schedule after N scheduling decisions (default 1000000; a cut run is not a failure)", NULL },
	{ "jobs", OPT_JOBS, "J", "schedules in J processes at once, 1 to 256 (default: the CPUs online)", NULL },
	{ "schedule-out", OPT_SCHEDULE_OUT, "FILE", "where the breaking schedule goes (default: the job's name with .schedule, in the current folder)", "file" },
	{ "verbose", OPT_VERBOSE, NULL, "print every violation of the breaking run", NULL },
	{ NULL },
};

struct explore_args {
	const struct cli_command *cmd;
	struct ccmm_explore_opts o;
	const char *out;
	unsigned flags;
};

static int number(const struct explore_args *ea, const char *opt, const char *arg, uint64_t min, uint64_t max,
		  uint64_t *out)
{
	if (ccmm_parse_u64(arg, false, out) || *out < min || *out > max)
		return _ccmm_cli_bad(ea->cmd, "--%s '%s' is not a number from %" PRIu64 " to %" PRIu64, opt, arg, min, max);
	return 0;
}

static int explore_opt(void *ctx, int key, const char *arg)
{
	struct explore_args *ea = ctx;
	uint64_t v;

	switch (key) {
	case OPT_SCHEDULES:
		return number(ea, "schedules", arg, 1, UINT64_MAX, &ea->o.schedules);
	case OPT_STRATEGY:
		if (!strcmp(arg, "pct"))
			ea->o.strategy = CCMM_PLAN_PCT;
		else if (!strcmp(arg, "random"))
			ea->o.strategy = CCMM_PLAN_RANDOM;
		else
			return _ccmm_cli_bad(ea->cmd, "--strategy '%s' is not pct or random", arg);
		return 0;
	case OPT_DEPTH:
		if (number(ea, "depth", arg, 1, 64, &v))
			return CLI_EXIT_BAD_INPUT;
		ea->o.depth = (unsigned)v;
		return 0;
	case OPT_SEED:
		return number(ea, "seed", arg, 0, UINT64_MAX, &ea->o.seed);
	case OPT_MAX_STEPS:
		return number(ea, "max-steps", arg, 1, UINT64_MAX, &ea->o.max_steps);
	case OPT_JOBS:
		if (number(ea, "jobs", arg, 1, 256, &v))
			return CLI_EXIT_BAD_INPUT;
		ea->o.jobs = (unsigned)v;
		return 0;
	case OPT_SCHEDULE_OUT:
		ea->out = arg;
		return 0;
	case OPT_VERBOSE:
		ea->flags |= CCMM_REPORT_VERBOSE;
		return 0;
	}
	return 0;
}

/* A job's base name with .schedule instead of .job, in the current folder. */
static void default_schedule_path(const char *job, char *buf, size_t len)
{
	const char *base = strrchr(job, '/');
	size_t n;

	base = base ? base + 1 : job;
	n = strlen(base);
	if (n > 4 && !strcmp(base + n - 4, ".job"))
		n -= 4;
	snprintf(buf, len, "%.*s.schedule", (int)n, base);
}

static int cmd_explore(const struct cli_command *cmd, int argc, char **argv)
{
	struct explore_args ea = { .cmd = cmd, .o = { .strategy = CCMM_PLAN_PCT, .schedules = 100, .depth = 3, .seed = 1 } };
	struct ccmm_explore_result res;
	struct ccmm_run *failed = NULL;
	struct ccmm_job *job;
	struct ccmm_error err;
	char path[4096], def_out[600];
	const char *name;
	int first, ret;

	if (_ccmm_cli_g.verbose)
		ea.flags |= CCMM_REPORT_VERBOSE;
	ret = _ccmm_cli_parse(cmd, argc, argv, explore_opt, &ea, &first);
	if (ret)
		return ret;
	if (first == argc)
		return _ccmm_cli_bad(cmd, "which job? (ccmm explore JOB)");
	if (argc - first > 1)
		return _ccmm_cli_bad(cmd, "one job file at a time ('%s' and '%s')", argv[first], argv[first + 1]);
	name = argv[first];
	ret = _ccmm_cli_find_job(cmd, name, path, sizeof(path));
	if (ret)
		return ret;
	if (ccmm_job_load(path, NULL, NULL, &job, &err))
		return _ccmm_cli_error(&err);
	if (job->g.mode == CCMM_RUN_THREADS) {
		ccmm_job_free(job);
		return _ccmm_cli_bad(cmd, "%s runs in threads mode; exploring schedules needs mode = sim", path);
	}
	if (!ea.out) {
		default_schedule_path(path, def_out, sizeof(def_out));
		ea.out = def_out;
	}
	ret = ccmm_explore(job, &ea.o, &res, &failed);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot explore: %s\n", path, strerror(-ret));
		ccmm_job_free(job);
		return CLI_EXIT_BAD_INPUT;
	}
	printf("explore %s: strategy %s", name, ea.o.strategy == CCMM_PLAN_PCT ? "pct" : "random");
	if (ea.o.strategy == CCMM_PLAN_PCT)
		printf(" (depth %u, k = %" PRIu64 " steps)", ea.o.depth, res.pct_steps);
	printf(", seed %" PRIu64 "\n", ea.o.seed);
	printf("  %" PRIu64 " schedule(s) tried, %" PRIu64 " distinct interleaving(s), %" PRIu64
	       " cut at the step bound; %.2fs (%.1f schedules/s)\n",
	       res.tried, res.distinct, res.cut, res.wall_s, res.wall_s > 0 ? (double)res.tried / res.wall_s : 0.0);
	if (!failed) {
		printf("  no schedule broke the job\n");
		ccmm_job_free(job);
		return CLI_EXIT_OK;
	}
	printf("  schedule #%" PRId64 " broke the job:\n\n", res.failed_at);
	ccmm_report_text(failed, stdout, ea.flags);
	if (failed->error[0])
		fprintf(stderr, "%s\n", failed->error);
	printf("\n");
	ccmm_run_interleaving(failed, stdout);
	ret = ccmm_schedule_write(failed, ea.out);
	if (ret)
		fprintf(stderr, "%s: cannot write the schedule: %s\n", ea.out, strerror(-ret));
	else
		printf("\nschedule written to %s: ccmm run %s --schedule %s replays it\n", ea.out, name, ea.out);
	ccmm_run_free(failed);
	ccmm_job_free(job);
	return ret ? CLI_EXIT_BAD_INPUT : CLI_EXIT_UNEXPECTED;
}

const struct cli_command _ccmm_cmd_explore = {
	"explore",
	"JOB",
	"run a job under many schedules and stop at the first that breaks it",
	"Runs JOB (sim mode) again and again, each time under another schedule: at every scheduling point (a "
	"sleeping lock about to be taken, a sleep, a fault, a device starting DMA, an actor's step) the entity to "
	"run next is drawn from a seeded stream, by PCT (probabilistic concurrency testing, Burckhardt et al., "
	"ASPLOS 2010) or a random walk. Schedule 0 is the default schedule. It stops at the lowest-numbered "
	"schedule that breaks the job (an unexpected violation, an unmet expectation, an op error, a deadlock), "
	"whatever the number of processes, so the answer is the same for a seed everywhere.\n\n"
	"It prints the schedules tried, the distinct interleavings and the time, then the breaking run's report "
	"and interleaving (which entity ran from which op to where it gave way or what it slept on), and writes "
	"the schedule file that ccmm run JOB --schedule FILE replays exactly.\n\n"
	"The exit status is 0 when no schedule broke the job, 1 when one did, 2 on bad input.",
	explore_opts,
	"job",
	cmd_explore,
};
