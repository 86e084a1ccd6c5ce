// SPDX-License-Identifier: MIT
/*
 * ccmm run [JOB...] and ccmm check JOB...: load every job file first (bad
 * input stops everything before anything runs or is written), open the
 * outputs (so an output that cannot be written is known before the runs),
 * run the jobs in turn as fio runs several job files (one after the other),
 * then write the reports: complete, or not at all.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "report/report.h"
#include "scenario/scenario.h"

#define MAX_JOBS 64
#define MAX_SECTIONS 32

enum {
	OPT_JSON = 256,
	OPT_CSV,
	OPT_PLATFORM,
	OPT_SEED,
	OPT_THREADS,
	OPT_SECTION,
	OPT_PARSE_ONLY,
	OPT_SCHEDULE,
	OPT_SET,
	OPT_INTERVAL,
	OPT_SERIES,
	OPT_PLOT,
	OPT_QUIET = 'q',
	OPT_VERBOSE = 'v',
};

static const struct cli_option run_opts[] = {
	{ "json", OPT_JSON, "FILE", "also write the JSON report (fio's shape, every option in effect) to FILE; '-' is standard output", "file" },
	{ "csv", OPT_CSV, "FILE", "also write every figure as CSV rows (job,actor,kind,figure,value) to FILE; '-' is standard output", "file" },
	{ "platform", OPT_PLATFORM, "P", "use platform P instead of the job's: a file (found on the search path), 'default' or 'host'", "platform" },
	{ "seed", OPT_SEED, "N", "override the job's seed (keys and every actor's random stream)", NULL },
	{ "threads", OPT_THREADS, NULL, "run each actor on a real thread (stress: mode = threads)", NULL },
	{ "section", OPT_SECTION, "NAME", "run only actor section NAME ([global] always applies); repeatable, as fio's --section", NULL },
	{ "parse-only", OPT_PARSE_ONLY, NULL, "load and validate the job files and their platforms, run nothing (as ccmm check)", NULL },
	{ "schedule", OPT_SCHEDULE, "FILE", "replay the schedule ccmm explore wrote (one job, sim mode) and print its interleaving", "file" },
	{ "set", OPT_SET, "KEY=VALUE", "a [global] option, SECTION.KEY, platform.KEY, platform.SECT:NAME.KEY or cost.NAME, as the file's line would be; repeatable", NULL },
	{ "interval", OPT_INTERVAL, "T", "sample time series every T of modeled time (10us, 1ms) into the JSON report (sim mode)", NULL },
	{ "series", OPT_SERIES, "FILE", "also write the time series as CSV (needs --interval; one job file)", "file" },
	{ "plot", OPT_PLOT, "DIR", "draw the time series as PNG and SVG into DIR with gnuplot (needs --interval; one job file)", "dir" },
	{ "quiet", OPT_QUIET, NULL, "print only each run's result line", NULL },
	{ "verbose", OPT_VERBOSE, NULL, "print every violation, not the first 20 per actor", NULL },
	{ NULL },
};

static const struct cli_option check_opts[] = {
	{ "platform", OPT_PLATFORM, "P", "check against platform P instead of the job's: a file, 'default' or 'host'", "platform" },
	{ "section", OPT_SECTION, "NAME", "check only actor section NAME ([global] always); repeatable", NULL },
	{ "set", OPT_SET, "KEY=VALUE", "a setting as ccmm run --set takes it; repeatable", NULL },
	{ "quiet", OPT_QUIET, NULL, "print nothing; the exit status says it", NULL },
	{ NULL },
};

struct run_args {
	const struct cli_command *cmd;
	const char *json, *csv, *platform, *schedule;
	const char *sections[MAX_SECTIONS + 1];
	size_t nr_sections;
	uint64_t seed;
	bool have_seed, threads, parse_only;
	unsigned flags;
	struct run_answers ans; /* --set, --interval, --series, --plot (run-answers.c) */
};

static int run_opt(void *ctx, int key, const char *arg)
{
	struct run_args *ra = ctx;

	switch (key) {
	case OPT_JSON:
		ra->json = arg;
		break;
	case OPT_CSV:
		ra->csv = arg;
		break;
	case OPT_PLATFORM:
		ra->platform = arg;
		break;
	case OPT_SEED:
		if (ccmm_parse_u64(arg, false, &ra->seed))
			return _ccmm_cli_bad(ra->cmd, "--seed '%s' is not a number", arg);
		ra->have_seed = true;
		break;
	case OPT_THREADS:
		ra->threads = true;
		break;
	case OPT_SECTION:
		if (ra->nr_sections == MAX_SECTIONS)
			return _ccmm_cli_bad(ra->cmd, "more than %d --section options", MAX_SECTIONS);
		ra->sections[ra->nr_sections++] = arg;
		break;
	case OPT_PARSE_ONLY:
		ra->parse_only = true;
		break;
	case OPT_SCHEDULE:
		ra->schedule = arg;
		break;
	case OPT_SET:
	case OPT_INTERVAL:
	case OPT_SERIES:
	case OPT_PLOT:
		return run_answers_opt(&ra->ans, key == OPT_SET ? "--set" : key == OPT_INTERVAL ? "--interval"
								      : key == OPT_SERIES ? "--series" : "--plot", arg);
	case OPT_QUIET:
		ra->flags |= CCMM_REPORT_QUIET;
		break;
	case OPT_VERBOSE:
		ra->flags |= CCMM_REPORT_VERBOSE;
		break;
	}
	return 0;
}

/* Every --section NAME is a section of some job (with the nearest one when it is not). */
static int check_sections(const struct run_args *ra, struct ccmm_job *const *jobs, size_t n)
{
	for (size_t s = 0; s < ra->nr_sections; s++) {
		const char *names[256];
		size_t nn = 0;
		bool found = false;
		const char *near;

		for (size_t j = 0; j < n && !found; j++)
			for (size_t a = 0; a < jobs[j]->nr_actors && !found; a++)
				found = !strcmp(jobs[j]->actors[a]->name, ra->sections[s]);
		if (found)
			continue;
		for (size_t j = 0; j < n; j++)
			for (size_t a = 0; a < jobs[j]->nr_actors && nn < CCMM_ARRAY_SIZE(names); a++)
				names[nn++] = jobs[j]->actors[a]->name;
		near = ccmm_suggest(ra->sections[s], names, nn);
		if (near)
			return _ccmm_cli_bad(ra->cmd, "--section '%s': no such section in the job; did you mean '%s'?",
					     ra->sections[s], near);
		return _ccmm_cli_bad(ra->cmd, "--section '%s': no such section in the job", ra->sections[s]);
	}
	return 0;
}

/* Load @names (or the built-in default job when there are none) into @jobs. */
static int load_jobs(const struct run_args *ra, char **names, size_t n, struct ccmm_job **jobs, size_t *nr)
{
	struct ccmm_job_load_opts lo = { .platform = ra->platform, .sections = ra->nr_sections ? ra->sections : NULL,
					 .sets = ra->ans.sets, .nr_sets = ra->ans.nr_sets };
	struct ccmm_error err;
	char path[4096];
	int ret;

	*nr = 0;
	if (!n) {
		ret = ccmm_job_load_with("built-in default job", ccmm_default_job_text, &lo, &jobs[0], &err);
		if (ret)
			return _ccmm_cli_error(&err);
		*nr = 1;
		return 0;
	}
	if (n > MAX_JOBS)
		return _ccmm_cli_bad(ra->cmd, "more than %d job files", MAX_JOBS);
	for (size_t i = 0; i < n; i++) {
		ret = _ccmm_cli_find_job(ra->cmd, names[i], path, sizeof(path));
		if (!ret && ccmm_job_load_with(path, NULL, &lo, &jobs[i], &err))
			ret = _ccmm_cli_error(&err);
		if (ret)
			return ret;
		*nr = i + 1;
	}
	return 0;
}

static void free_all(struct ccmm_job **jobs, struct ccmm_run **runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ccmm_run_free(runs ? runs[i] : NULL);
		ccmm_job_free(jobs[i]);
	}
}

/* ccmm check / --parse-only: what was loaded, one line per job. */
static void describe(const struct ccmm_job *job, FILE *out)
{
	size_t ops = 0, expects = job->nr_expect;

	for (size_t i = 0; i < job->nr_actors; i++) {
		ops += job->actors[i]->nr_ops;
		expects += job->actors[i]->nr_expect;
	}
	fprintf(out, "%s: ok: %zu actor(s) (", job->path, job->nr_actors);
	for (size_t i = 0; i < job->nr_actors; i++)
		fprintf(out, "%s%s", i ? ", " : "", job->actors[i]->name);
	fprintf(out, "), %zu op(s), %zu expect= line(s), platform %s (%s, mode %s)\n", ops, expects, job->plat->name,
		job->plat->source, ccmm_cc_mode_name(job->plat->mode));
}

static int write_outputs(const struct run_args *ra, struct ccmm_outfile *json, struct ccmm_outfile *csv,
			 struct ccmm_run *const *runs, size_t n)
{
	int ret = 0, r;

	if (ra->json) {
		r = ccmm_report_json_runs(runs, n, json->fp);
		if (r)
			_ccmm_cli_output_done(json, false);
		else
			r = _ccmm_cli_output_done(json, true);
		if (r) {
			fprintf(stderr, "%s: cannot write the JSON report: %s\n", ra->json, strerror(-r));
			ret = r;
		}
	}
	if (ra->csv) {
		r = ccmm_report_csv(runs, n, csv->fp);
		if (r)
			_ccmm_cli_output_done(csv, false);
		else
			r = _ccmm_cli_output_done(csv, true);
		if (r) {
			fprintf(stderr, "%s: cannot write the CSV figures: %s\n", ra->csv, strerror(-r));
			ret = r;
		}
	}
	return ret;
}

static int open_output(const struct run_args *ra, struct ccmm_outfile *o, const char *path, const char *what)
{
	int ret = _ccmm_cli_output_open(o, path);

	if (ret)
		return _ccmm_cli_bad(ra->cmd, "cannot write the %s to '%s': %s", what, path, strerror(-ret));
	return 0;
}

/*
 * --schedule FILE: one job, in sim mode (with --seed and --threads applied
 * first, as the run will have them), and a schedule file whose entities
 * are that job's.
 */
static int read_schedule(struct run_args *ra, struct ccmm_job *const *jobs, size_t nr, struct ccmm_sched_plan *plan)
{
	struct ccmm_error err;

	if (nr != 1)
		return _ccmm_cli_bad(ra->cmd, "--schedule replays one job, not %zu", nr);
	if (ra->have_seed)
		jobs[0]->g.seed = ra->seed;
	if (ra->threads)
		jobs[0]->g.mode = CCMM_RUN_THREADS;
	if (jobs[0]->g.mode == CCMM_RUN_THREADS)
		return _ccmm_cli_bad(ra->cmd, "--schedule replays sim mode; %s runs in threads mode", jobs[0]->path);
	if (ccmm_schedule_read(ra->schedule, jobs[0], plan, &err))
		return _ccmm_cli_error(&err);
	return 0;
}

static int run_jobs(const struct cli_command *cmd, int argc, char **argv, struct run_args *rap);

static int cmd_run(const struct cli_command *cmd, int argc, char **argv)
{
	struct run_args ra = { .cmd = cmd };
	int ret = run_jobs(cmd, argc, argv, &ra);

	run_answers_free(&ra.ans);
	return ret;
}

static int run_jobs(const struct cli_command *cmd, int argc, char **argv, struct run_args *rap)
{
	struct run_args ra = *rap;
	struct ccmm_job *jobs[MAX_JOBS] = { 0 };
	struct ccmm_run *runs[MAX_JOBS] = { 0 };
	struct ccmm_outfile json, csv;
	struct ccmm_sched_plan plan = { 0 };
	size_t nr = 0;
	FILE *text;
	int first, ret, status = CLI_EXIT_OK;
	bool broken = false;

	if (_ccmm_cli_g.quiet)
		ra.flags |= CCMM_REPORT_QUIET;
	if (_ccmm_cli_g.verbose)
		ra.flags |= CCMM_REPORT_VERBOSE;
	ret = _ccmm_cli_parse(cmd, argc, argv, run_opt, &ra, &first);
	*rap = ra; /* what the options allocated is freed by the caller */
	if (ret)
		return ret;
	if ((ra.ans.series || ra.ans.plot) && argc - first > 1)
		return _ccmm_cli_bad(cmd, "%s takes the time series of one job file", ra.ans.series ? "--series" : "--plot");
	if (!strcmp(cmd->name, "check")) {
		ra.parse_only = true;
		if (first == argc)
			return _ccmm_cli_bad(cmd, "which job files? (ccmm check JOB...)");
	}
	ret = load_jobs(&ra, argv + first, (size_t)(argc - first), jobs, &nr);
	if (!ret)
		ret = check_sections(&ra, jobs, nr);
	if (ret || ra.parse_only) {
		for (size_t i = 0; !ret && i < nr && !(ra.flags & CCMM_REPORT_QUIET); i++)
			describe(jobs[i], stdout);
		free_all(jobs, NULL, nr);
		return ret;
	}
	if (ra.schedule && (ret = read_schedule(&ra, jobs, nr, &plan))) {
		free_all(jobs, NULL, nr);
		return ret;
	}
	/* outputs first: one that cannot be written is bad input, found before any run */
	if (ra.json && (ret = open_output(&ra, &json, ra.json, "JSON report"))) {
		free_all(jobs, NULL, nr);
		ccmm_schedule_free(&plan);
		return ret;
	}
	if (ra.csv && (ret = open_output(&ra, &csv, ra.csv, "CSV figures"))) {
		if (ra.json)
			_ccmm_cli_output_done(&json, false);
		free_all(jobs, NULL, nr);
		ccmm_schedule_free(&plan);
		return ret;
	}
	/* a report on standard output keeps it clean: the text goes to stderr */
	text = (ra.json && _ccmm_cli_output_is_stdout(&json)) || (ra.csv && _ccmm_cli_output_is_stdout(&csv)) ? stderr
														 : stdout;
	for (size_t i = 0; i < nr; i++) {
		struct ccmm_run_summary s;

		if (ra.have_seed)
			jobs[i]->g.seed = ra.seed;
		if (ra.threads)
			jobs[i]->g.mode = CCMM_RUN_THREADS;
		if (run_answers_start(&ra.ans, jobs[i])) {
			broken = true;
			break;
		}
		if (nr > 1 && i && !(ra.flags & CCMM_REPORT_QUIET))
			fputc('\n', text);
		ret = ra.schedule ? ccmm_job_run_plan(jobs[i], &plan, &runs[i]) : ccmm_job_run(jobs[i], &runs[i]);
		if (ret) {
			fprintf(stderr, "%s: cannot start the run: %s\n", jobs[i]->path, strerror(-ret));
			broken = true;
			break;
		}
		if (ccmm_report_checks(runs[i]))
			fprintf(stderr, "%s: the checks could not be evaluated: out of memory\n", jobs[i]->path);
		ccmm_run_summarize(runs[i], &s);
		if (ccmm_report_text(runs[i], text, ra.flags))
			broken = true;
		else if (ra.schedule && !(ra.flags & CCMM_REPORT_QUIET) && ccmm_run_interleaving(runs[i], text))
			broken = true;
		if (runs[i]->error[0])
			fprintf(stderr, "%s\n", runs[i]->error);
		for (size_t k = 0; ccmm_run_op_error(runs[i], k); k++) {
			const struct ccmm_op_error *oe = ccmm_run_op_error(runs[i], k);

			if (oe->dependent)
				fprintf(stderr, "%s:%d: %s: %s\n", oe->where.file, oe->where.line, oe->verb, oe->note);
		}
		for (size_t k = 0; runs[i]->checks_done && k < jobs[i]->nr_checks; k++)
			if (!runs[i]->check_results[k].passed)
				fprintf(stderr, "%s\n", runs[i]->check_results[k].msg);
		if (s.status > status)
			status = s.status;
		if (s.status != CLI_EXIT_BAD_INPUT && run_answers_finish(&ra.ans, runs[i]))
			broken = true;
	}
	fflush(text);
	if (broken || status == CLI_EXIT_BAD_INPUT) {
		/* a run that could not go on: no report at all */
		if (ra.json)
			_ccmm_cli_output_done(&json, false);
		if (ra.csv)
			_ccmm_cli_output_done(&csv, false);
		free_all(jobs, runs, nr);
		ccmm_schedule_free(&plan);
		return CLI_EXIT_BAD_INPUT;
	}
	ret = write_outputs(&ra, &json, &csv, runs, nr);
	free_all(jobs, runs, nr);
	ccmm_schedule_free(&plan);
	return ret ? CLI_EXIT_BAD_INPUT : status;
}

const struct cli_command _ccmm_cmd_run = {
	"run",
	"[JOB...]",
	"run job files (default: the built-in default job) and report every violation",
	"Each JOB is a job file (ccmm-job(5)): a path, or a name found on the search path (the current folder, "
	"each folder of CCMM_PATH and its jobs/, the installed share folder's jobs/; '.job' is added to a name "
	"without one). Every job file is loaded and checked before any runs; then they run one after the other, "
	"each on its own platform, and the text report of each goes to standard output (to standard error when "
	"--json or --csv writes to standard output).\n\n"
	"--json and --csv write complete files or nothing: a regular file or a new name is written beside itself "
	"and renamed at the end, a device, a FIFO, '-' and /dev/stdout are written in place, and a run that fails "
	"leaves no report and never removes or truncates an existing file. With several job files the JSON report "
	"holds one report per job under \"runs\".\n\n"
	"--schedule replays, exactly, a schedule file that ccmm explore wrote for the job (the entities and one "
	"choice per scheduling point) and prints the run's interleaving after its report; a file that does not fit "
	"the job is bad input, and a run that no longer follows it says where.\n\n"
	"The exit status is the worst of the runs: 0 when every violation was expected and every expectation met, "
	"1 otherwise, 2 on bad input or a run that could not go on.",
	run_opts,
	"job",
	cmd_run,
};

const struct cli_command _ccmm_cmd_check = {
	"check",
	"JOB...",
	"load and validate job files and their platforms without running them",
	"Reads every JOB as ccmm run would (includes, ${VAR}, every option, op, object reference and expect= "
	"checked, the platform laid out and validated) and prints one line per job: its actors, ops, "
	"expectations and platform. The same as ccmm run --parse-only. Bad input gets its \"FILE:LINE: what is "
	"wrong\" and exit status 2.",
	check_opts,
	"job",
	cmd_run,
};
