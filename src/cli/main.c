// SPDX-License-Identifier: MIT
/*
 * ccmm - the command line.
 *
 *   ccmm run [JOB] [--json FILE] [--platform P] [--seed N] [--threads] [--schedule FILE] [--quiet|--verbose]
 *   ccmm explore JOB [--schedules N] [--strategy pct|random] [--depth D] [--seed S] [--max-steps N]
 *                    [--jobs J] [--schedule-out FILE] [--verbose]
 *   ccmm states --mode M [--json] [--mmio ve|paravirt]
 *   ccmm rules | ccmm kinds | ccmm ops KIND | ccmm platform [FILE|default|host]
 *
 * Exit status: 0 every violation expected and every expectation met;
 * 1 otherwise; 2 bad input (one "FILE:LINE: what is wrong" line, no report
 * file left behind).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ccmm_config.h"
#include "check/check.h"
#include "cli/internal.h"
#include "report/report.h"
#include "scenario/scenario.h"
#include "trace/trace.h"

#define EXIT_BAD_INPUT 2

static const char *const commands[] = { "run", "explore", "states", "rules", "kinds", "ops", "platform", "trace", "help", NULL };

static void usage(FILE *out)
{
	fprintf(out,
		"usage: ccmm COMMAND [OPTIONS]\n"
		"\n"
		"  run [JOB]              run a job file (default: the built-in default job)\n"
		"      --json FILE        also write a JSON report (fio-style), complete or not at all\n"
		"      --platform P       use platform P instead of the job's: a file, 'default' or 'host'\n"
		"      --seed N           override the job's seed\n"
		"      --threads          run each actor on a real thread (stress mode)\n"
		"      --schedule FILE    replay the schedule ccmm explore wrote (sim mode), and print its interleaving\n"
		"      --quiet            print only the result line\n"
		"      --verbose          print every violation\n"
		"  explore JOB            run the job under many schedules; stop at the first that breaks it\n"
		"      --schedules N      at most N schedules (default 100; the first is the default one)\n"
		"      --strategy S       pct (default: probabilistic concurrency testing) or random (a random walk)\n"
		"      --depth D          PCT's bug depth: D - 1 priority change points (default 3)\n"
		"      --seed S           the choices' seed (default 1; the job's own seed is kept)\n"
		"      --max-steps N      cut a schedule after N scheduling decisions (default 1000000)\n"
		"      --jobs J           schedules in J processes at once (default: the CPUs online)\n"
		"      --schedule-out F   where the breaking schedule goes (default JOB's name with .schedule, here)\n"
		"      --verbose          print every violation of the breaking run\n"
		"  states --mode M        the memory-state table of a mode (none, sme, sev, sev-snp, tdx, pseries-svm)\n"
		"      --json             as JSON\n"
		"      --mmio ve|paravirt TDX: how MMIO is reached (default ve)\n"
		"  rules                  every rule the checker enforces\n"
		"  kinds                  the actor kinds a job can use\n"
		"  ops KIND               the ops of an actor kind, with their arguments\n"
		"  platform [P]           a platform laid out: a file, 'default' (the default) or 'host'\n"
		"  trace stat FILE        a page-reference trace (lackey or l|s, plain/gz/zst): references, pages, writes;\n"
		"                         ftrace text of the dma/swiotlb events: events by kind, skipped, lost\n"
		"  trace reduce IN OUT    write IN's page references as an address trace\n"
		"  trace agree RECORDING  replay a recorded kernel's DMA trace on its platform: every bounce on the kernel's slot?\n"
		"  trace whatif RECORDING the same trace on the machine made a TDX, SEV-SNP, pSeries secure guest: what it costs\n"
		"      --zstd             compress OUT with zstd\n"
		"      --instructions     keep instruction fetches\n"
		"  --version              print the version\n"
		"\n"
		"exit status: 0 as expected, 1 unexpected violations / unmet expectations / op errors\n"
		"(explore: a schedule broke the job), 2 bad input\n");
}

static int bad(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "ccmm: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return EXIT_BAD_INPUT;
}

static int unknown_option(const char *cmd, const char *opt, const char *const *known)
{
	size_t n = 0;
	const char *near;

	while (known[n])
		n++;
	near = ccmm_suggest(opt, known, n);
	if (near)
		fprintf(stderr, "ccmm %s: unknown option '%s'; did you mean '%s'?\n", cmd, opt, near);
	else
		fprintf(stderr, "ccmm %s: unknown option '%s' (ccmm help lists them)\n", cmd, opt);
	return EXIT_BAD_INPUT;
}

static int print_error(const struct ccmm_error *err)
{
	char msg[1024];

	ccmm_error_format(err, msg, sizeof(msg));
	fprintf(stderr, "%s\n", msg);
	return EXIT_BAD_INPUT;
}

static int cmd_run(int argc, char **argv)
{
	static const char *const opts[] = { "--json", "--platform", "--seed", "--threads", "--schedule", "--quiet",
					    "--verbose", NULL };
	const char *job_path = NULL, *json = NULL, *platform = NULL, *schedule = NULL;
	struct ccmm_sched_plan plan;
	bool threads = false, have_seed = false;
	unsigned flags = 0;
	uint64_t seed = 0;
	struct ccmm_job *job = NULL;
	struct ccmm_run *run = NULL;
	struct ccmm_error err;
	struct ccmm_run_summary s;
	struct ccmm_outfile of;
	int ret;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--json") || !strcmp(a, "--platform") || !strcmp(a, "--seed") || !strcmp(a, "--schedule")) {
			if (i + 1 >= argc)
				return bad("run: %s needs a value%s", a, "");
			if (!strcmp(a, "--json"))
				json = argv[++i];
			else if (!strcmp(a, "--schedule"))
				schedule = argv[++i];
			else if (!strcmp(a, "--platform"))
				platform = argv[++i];
			else if (ccmm_parse_u64(argv[++i], false, &seed))
				return bad("run: --seed '%s' is not a number%s", argv[i], "");
			else
				have_seed = true;
		} else if (!strcmp(a, "--threads")) {
			threads = true;
		} else if (!strcmp(a, "--quiet")) {
			flags |= CCMM_REPORT_QUIET;
		} else if (!strcmp(a, "--verbose")) {
			flags |= CCMM_REPORT_VERBOSE;
		} else if (a[0] == '-' && a[1]) {
			return unknown_option("run", a, opts);
		} else if (job_path) {
			return bad("run: one job file at a time ('%s' and '%s')", job_path, a);
		} else {
			job_path = a;
		}
	}
	ret = job_path ? ccmm_job_load(job_path, NULL, platform, &job, &err) : ccmm_job_default(&job, &err);
	if (!ret && platform && !job_path) {
		/* the default job on another platform */
		ccmm_job_free(job);
		ret = ccmm_job_load("built-in default job", ccmm_default_job_text, platform, &job, &err);
	}
	if (ret)
		return print_error(&err);
	if (have_seed)
		job->g.seed = seed;
	if (threads)
		job->g.mode = CCMM_RUN_THREADS;
	memset(&plan, 0, sizeof(plan));
	if (schedule) {
		if (job->g.mode == CCMM_RUN_THREADS) {
			ccmm_job_free(job);
			return bad("run: --schedule replays sim mode; %s runs in threads mode%s", job_path ? job_path : "the job", "");
		}
		ret = ccmm_schedule_read(schedule, job, &plan, &err);
		if (ret) {
			ccmm_job_free(job);
			return print_error(&err);
		}
	}
	ret = ccmm_job_run_plan(job, schedule ? &plan : NULL, &run);
	if (ret) {
		fprintf(stderr, "%s: cannot start the run: %s\n", job->path, strerror(-ret));
		ccmm_job_free(job);
		return EXIT_BAD_INPUT;
	}
	ccmm_run_summarize(run, &s);
	ret = ccmm_report_text(run, stdout, flags);
	if (!ret && schedule && !(flags & CCMM_REPORT_QUIET))
		ret = ccmm_run_interleaving(run, stdout);
	if (run->error[0])
		fprintf(stderr, "%s\n", run->error);
	if (!ret && json && s.status != 2) {
		ret = ccmm_outfile_open(&of, json);
		if (!ret) {
			ret = ccmm_report_json(run, of.fp);
			if (ret)
				ccmm_outfile_abort(&of);
			else
				ret = ccmm_outfile_commit(&of);
		}
		if (ret)
			fprintf(stderr, "%s: cannot write the JSON report: %s\n", json, strerror(-ret));
	}
	ccmm_run_free(run);
	ccmm_schedule_free(&plan);
	ccmm_job_free(job);
	if (ret)
		return EXIT_BAD_INPUT;
	return s.status;
}

static int parse_count(const char *opt, const char *v, uint64_t min, uint64_t *out)
{
	if (ccmm_parse_u64(v, false, out) || *out < min)
		return bad("explore: %s '%s' is not a number in range", opt, v);
	return 0;
}

/* A job's base name with .schedule instead of .job, in the current directory. */
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

static int cmd_explore(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "schedules", required_argument, NULL, 'n' }, { "strategy", required_argument, NULL, 's' },
		{ "depth", required_argument, NULL, 'd' },     { "seed", required_argument, NULL, 'S' },
		{ "max-steps", required_argument, NULL, 'm' }, { "jobs", required_argument, NULL, 'j' },
		{ "schedule-out", required_argument, NULL, 'o' }, { "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	static const char *const opts[] = { "--schedules", "--strategy", "--depth", "--seed", "--max-steps", "--jobs",
					    "--schedule-out", "--verbose", NULL };
	struct ccmm_explore_opts o = { .strategy = CCMM_PLAN_PCT, .schedules = 100, .depth = 3, .seed = 1 };
	struct ccmm_explore_result res;
	const char *out_path = NULL, *job_path;
	char def_out[600];
	struct ccmm_run *failed = NULL;
	struct ccmm_job *job;
	struct ccmm_error err;
	unsigned flags = 0;
	uint64_t v;
	int c, ret;

	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc + 1, argv - 1, ":", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (parse_count("--schedules", optarg, 1, &o.schedules))
				return EXIT_BAD_INPUT;
			break;
		case 's':
			if (!strcmp(optarg, "pct"))
				o.strategy = CCMM_PLAN_PCT;
			else if (!strcmp(optarg, "random"))
				o.strategy = CCMM_PLAN_RANDOM;
			else
				return bad("explore: --strategy '%s' is not pct or random%s", optarg, "");
			break;
		case 'd':
			if (parse_count("--depth", optarg, 1, &v) || v > 64)
				return v > 64 ? bad("explore: --depth '%s' is more than 64%s", optarg, "") : EXIT_BAD_INPUT;
			o.depth = (unsigned)v;
			break;
		case 'S':
			if (parse_count("--seed", optarg, 0, &o.seed))
				return EXIT_BAD_INPUT;
			break;
		case 'm':
			if (parse_count("--max-steps", optarg, 1, &o.max_steps))
				return EXIT_BAD_INPUT;
			break;
		case 'j':
			if (parse_count("--jobs", optarg, 1, &v) || v > 256)
				return v > 256 ? bad("explore: --jobs '%s' is more than 256%s", optarg, "") : EXIT_BAD_INPUT;
			o.jobs = (unsigned)v;
			break;
		case 'o':
			out_path = optarg;
			break;
		case 'v':
			flags |= CCMM_REPORT_VERBOSE;
			break;
		case ':':
			return bad("explore: %s needs a value%s", argv[optind - 2], "");
		default:
			return unknown_option("explore", argv[optind - 2], opts);
		}
	}
	if (optind - 1 >= argc)
		return bad("explore: which job? (ccmm explore JOB)%s%s", "", "");
	if (optind < argc)
		return bad("explore: one job file at a time ('%s' and '%s')", argv[optind - 1], argv[optind]);
	job_path = argv[optind - 1];
	if (ccmm_job_load(job_path, NULL, NULL, &job, &err))
		return print_error(&err);
	if (job->g.mode == CCMM_RUN_THREADS) {
		ccmm_job_free(job);
		return bad("explore: %s runs in threads mode; exploring schedules needs mode = sim%s", job_path, "");
	}
	if (!out_path) {
		default_schedule_path(job_path, def_out, sizeof(def_out));
		out_path = def_out;
	}
	ret = ccmm_explore(job, &o, &res, &failed);
	if (ret < 0) {
		fprintf(stderr, "%s: cannot explore: %s\n", job_path, strerror(-ret));
		ccmm_job_free(job);
		return EXIT_BAD_INPUT;
	}
	printf("explore %s: strategy %s", job_path, o.strategy == CCMM_PLAN_PCT ? "pct" : "random");
	if (o.strategy == CCMM_PLAN_PCT)
		printf(" (depth %u, k = %" PRIu64 " steps)", o.depth, res.pct_steps);
	printf(", seed %" PRIu64 "\n", o.seed);
	printf("  %" PRIu64 " schedule(s) tried, %" PRIu64 " distinct interleaving(s), %" PRIu64
	       " cut at the step bound; %.2fs (%.1f schedules/s)\n",
	       res.tried, res.distinct, res.cut, res.wall_s, res.wall_s > 0 ? (double)res.tried / res.wall_s : 0.0);
	if (!failed) {
		printf("  no schedule broke the job\n");
		ccmm_job_free(job);
		return 0;
	}
	printf("  schedule #%" PRId64 " broke the job:\n\n", res.failed_at);
	ccmm_report_text(failed, stdout, flags);
	if (failed->error[0])
		fprintf(stderr, "%s\n", failed->error);
	printf("\n");
	ccmm_run_interleaving(failed, stdout);
	ret = ccmm_schedule_write(failed, out_path);
	if (ret)
		fprintf(stderr, "%s: cannot write the schedule: %s\n", out_path, strerror(-ret));
	else
		printf("\nschedule written to %s: ccmm run %s --schedule %s replays it\n", out_path, job_path, out_path);
	ccmm_run_free(failed);
	ccmm_job_free(job);
	return ret ? EXIT_BAD_INPUT : 1;
}

static int cmd_states(int argc, char **argv)
{
	static const char *const opts[] = { "--mode", "--json", "--mmio", NULL };
	static const char *const mmios[] = { "ve", "paravirt", NULL };
	int mode = -1, mmio = 0;
	bool json = false;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--mode") && i + 1 < argc) {
			mode = ccmm_cc_mode_parse(argv[++i]);
			if (mode < 0) {
				const char *near = ccmm_suggest(argv[i], ccmm_cc_mode_names, CCMM_CC_NR);

				if (near)
					return bad("states: unknown mode '%s'; did you mean '%s'?", argv[i], near);
				return bad("states: unknown mode '%s' (none, sme, sev, sev-snp, tdx, pseries-svm)%s", argv[i], "");
			}
		} else if (!strcmp(argv[i], "--mmio") && i + 1 < argc) {
			mmio = ccmm_choice_index(mmios, argv[++i]);
			if (mmio < 0)
				return bad("states: --mmio is ve or paravirt, not '%s'%s", argv[i], "");
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--mode") || !strcmp(argv[i], "--mmio")) {
			return bad("states: %s needs a value%s", argv[i], "");
		} else {
			return unknown_option("states", argv[i], opts);
		}
	}
	if (mode < 0)
		return bad("states: which mode? --mode none|sme|sev|sev-snp|tdx|pseries-svm%s%s", "", "");
	return ccmm_states_table((enum ccmm_cc_mode)mode, (enum ccmm_mmio_mode)mmio, json, stdout) ? 1 : 0;
}

static int cmd_rules(void)
{
	const struct ccmm_rule *r;

	for (size_t i = 0; (r = ccmm_rule_at(i)); i++)
		printf("%-24s %-5s %s\n", r->name, r->seed[0] ? r->seed : "-", r->summary);
	return 0;
}

static int cmd_kinds(void)
{
	const struct ccmm_actor_kind *k;

	for (size_t i = 0; (k = ccmm_actor_kind_at(i)); i++)
		printf("%-16s %s\n", k->name, k->help);
	return 0;
}

static void print_verb(const struct ccmm_verb *v)
{
	printf("  %s", v->name);
	for (const struct ccmm_arg_spec *a = v->args; a && a->name; a++) {
		if (a->positional && a->required)
			printf(" %s", a->name);
		else if (a->positional)
			printf(" [%s]", a->name);
		else
			printf(" [%s=%s]", a->name, a->def ? a->def : "...");
	}
	printf(" [ret=ERRNO]\n      %s\n", v->help);
}

static int cmd_ops(int argc, char **argv)
{
	const struct ccmm_actor_kind *k;

	if (argc != 1)
		return bad("ops: which kind? (ccmm kinds lists them)%s%s", "", "");
	k = ccmm_actor_kind_find(argv[0]);
	if (!k) {
		const char *names[64];
		size_t n = 0;
		const char *near;

		while (n < 64 && (names[n] = ccmm_actor_kind_at(n) ? ccmm_actor_kind_at(n)->name : NULL))
			n++;
		near = ccmm_suggest(argv[0], names, n);
		if (near)
			return bad("ops: no actor kind '%s'; did you mean '%s'?", argv[0], near);
		return bad("ops: no actor kind '%s'%s", argv[0], "");
	}
	printf("%s: %s\noptions:\n", k->name, k->help);
	for (const struct ccmm_option *o = k->options; o && o->name; o++)
		printf("  %-16s %s%s%s%s\n", o->name, o->help, o->def ? " (default " : "", o->def ? o->def : "", o->def ? ")" : "");
	printf("  %-16s %s\n  %-16s %s\n  %-16s %s\nops:\n", "expect", "RULE[:COUNT] a violation this actor should cause",
	       "loops", "run the op list N times", "op", "VERB ARGS... (below)");
	for (const struct ccmm_verb *v = k->verbs; v && v->name; v++)
		print_verb(v);
	for (const struct ccmm_verb *v = ccmm_common_verbs; v->name; v++)
		print_verb(v);
	return 0;
}

static int cmd_platform(int argc, char **argv)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	const char *spec = argc ? argv[0] : "default";
	char sz[32];
	int ret;

	if (!strcmp(spec, "default"))
		ret = ccmm_platform_default(&p, &err);
	else if (!strcmp(spec, "host"))
		ret = ccmm_platform_host(&p, &err);
	else
		ret = ccmm_platform_load(spec, &p, &err);
	if (!ret && (ret = ccmm_costs_check(p, &err))) {
		ccmm_platform_free(p);
		p = NULL;
	}
	if (ret)
		return print_error(&err);
	printf("%s (%s): mode %s, %u CPUs, %u-bit physical addresses", p->name, p->source, ccmm_cc_mode_name(p->mode),
	       p->cpus, p->phys_bits);
	if (ccmm_platform_enc_mask(p))
		printf(", %s bit %u", p->mode == CCMM_CC_TDX ? "shared" : "C-", p->mode == CCMM_CC_TDX ? p->gpa_width - 1 : p->c_bit);
	printf("\n");
	for (unsigned n = 0; n < p->nr_nodes; n++) {
		printf("node %u: %s%s, distances", n, ccmm_format_size(ccmm_platform_ram(p, (int)n), sz, sizeof(sz)),
		       p->node[n].has_cpus ? "" : " (no CPUs)");
		for (unsigned k = 0; k < p->nr_nodes; k++)
			printf(" %u", p->distance[n][k]);
		printf("\n");
	}
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];

		printf("  [0x%012" PRIx64 ", 0x%012" PRIx64 ") %-8s %-20s %s\n", r->base, r->base + r->size,
		       ccmm_range_kind_name(r->kind), r->name, ccmm_format_size(r->size, sz, sizeof(sz)));
	}
	for (size_t i = 0; i < p->nr_devices; i++) {
		const struct ccmm_device_desc *d = &p->devices[i];

		printf("device %s: %s %04x:%04x, DMA mask %u bits, %s\n", d->name, ccmm_dev_class_names[d->cls], d->vendor,
		       d->device_id, d->dma_mask_bits, d->iommu >= 0 ? p->iommus[d->iommu].name : "no IOMMU");
	}
	ccmm_platform_free(p);
	return 0;
}

/* ccmm trace stat on ftrace text: events by kind, skipped, lost. */
static int ftrace_stat(const char *path)
{
	struct ccmm_ftrace *ft;
	struct ccmm_ftrace_event ev;
	struct ccmm_ftrace_stats st;
	struct ccmm_error err;
	int ret;

	if (ccmm_ftrace_open(path, &ft, &err))
		return print_error(&err);
	while ((ret = ccmm_ftrace_next(ft, &ev, &err)) == 1)
		;
	if (ret < 0) {
		ccmm_ftrace_close(ft);
		return print_error(&err);
	}
	ccmm_ftrace_stats(ft, &st);
	ccmm_ftrace_close(ft);
	printf("%s: ftrace text (%s), %" PRIu64 " lines, %" PRIu64 " DMA/SWIOTLB events on CPUs 0..%d, %" PRIu64
	       " other events skipped%s%s%s, %" PRIu64 " lost\n",
	       path, st.trace_cmd ? "trace-cmd report" : "tracefs", st.lines, st.events, st.max_cpu, st.skipped,
	       st.skipped ? " (first: " : "", st.first_skipped, st.skipped ? ")" : "", st.lost);
	for (int k = 0; k < CCMM_FT_NR; k++)
		if (st.by_kind[k])
			printf("  %-28s %" PRIu64 "\n", ccmm_ftrace_kind_name((enum ccmm_ftrace_kind)k), st.by_kind[k]);
	return 0;
}

static int cmd_trace(int argc, char **argv)
{
	static const char *const opts[] = { "--zstd", "--instructions", NULL };
	struct ccmm_trace_opts o = { CCMM_TRACE_AUTO, false, false };
	const char *files[2] = { NULL, NULL };
	struct ccmm_error err;
	bool zstd = false;
	int nfiles = 0;

	if (argc >= 1 && !strcmp(argv[0], "agree"))
		return _ccmm_cmd_trace_agree(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "whatif"))
		return _ccmm_cmd_trace_whatif(argc - 1, argv + 1);
	if (argc < 1 || (strcmp(argv[0], "stat") && strcmp(argv[0], "reduce")))
		return bad("trace: stat FILE | reduce IN OUT | agree RECORDING | whatif RECORDING%s%s", "", "");
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--zstd"))
			zstd = true;
		else if (!strcmp(argv[i], "--instructions"))
			o.instructions = true;
		else if (argv[i][0] == '-' && argv[i][1])
			return unknown_option("trace", argv[i], opts);
		else if (nfiles < 2)
			files[nfiles++] = argv[i];
		else
			return bad("trace: too many files ('%s')%s", argv[i], "");
	}
	if (!strcmp(argv[0], "stat")) {
		struct ccmm_trace *t;
		struct ccmm_page_ref r;
		struct ccmm_trace_stats st;
		uint64_t lo = UINT64_MAX, hi = 0;
		int ret;

		if (nfiles != 1)
			return bad("trace stat: one trace file%s%s", "", "");
		if (ccmm_ftrace_probe(files[0], &err) == 1)
			return ftrace_stat(files[0]);
		if (ccmm_trace_open(files[0], &o, &t, &err))
			return print_error(&err);
		uint64_t *set = NULL, cap = 0, distinct = 0;

		while ((ret = ccmm_trace_next(t, &r, &err)) == 1) {
			uint64_t h;

			lo = CCMM_MIN(lo, r.vpn);
			hi = CCMM_MAX(hi, r.vpn);
			/* distinct pages: an open-addressing set of vpn+1 */
			if (distinct * 2 >= cap) {
				uint64_t ncap = cap ? cap * 2 : 1024, *ns = calloc(ncap, sizeof(*ns));

				if (!ns) {
					free(set);
					ccmm_trace_close(t);
					return bad("trace stat: out of memory%s%s", "", "");
				}
				for (uint64_t i = 0; i < cap; i++) {
					if (!set[i])
						continue;
					for (h = (set[i] * 0x9e3779b97f4a7c15ULL) & (ncap - 1); ns[h]; h = (h + 1) & (ncap - 1))
						;
					ns[h] = set[i];
				}
				free(set);
				set = ns;
				cap = ncap;
			}
			for (h = ((r.vpn + 1) * 0x9e3779b97f4a7c15ULL) & (cap - 1); set[h] && set[h] != r.vpn + 1;
			     h = (h + 1) & (cap - 1))
				;
			if (!set[h]) {
				set[h] = r.vpn + 1;
				distinct++;
			}
		}
		free(set);
		if (ret < 0) {
			ccmm_trace_close(t);
			return print_error(&err);
		}
		ccmm_trace_stats(t, &st);
		printf("%s: %s trace, %" PRIu64 " accesses -> %" PRIu64 " page references (%" PRIu64 " dirtying), "
		       "%" PRIu64 " instruction fetches dropped",
		       files[0], ccmm_trace_format(t) == CCMM_TRACE_LACKEY ? "lackey" : "address", st.lines, st.refs,
		       st.writes, st.instr_dropped);
		if (st.refs)
			printf(", %" PRIu64 " distinct pages (%" PRIu64 " KiB) in 0x%" PRIx64 "..0x%" PRIx64, distinct, distinct * 4,
			       lo, hi);
		printf("\n");
		ccmm_trace_close(t);
		return 0;
	}
	if (nfiles != 2)
		return bad("trace reduce: IN and OUT%s%s", "", "");
	{
		long n = ccmm_trace_reduce(files[0], &o, files[1], zstd, &err);

		if (n < 0)
			return print_error(&err);
		printf("%s: %ld page references\n", files[1], n);
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
		printf("ccmm %s\n", CCMM_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(cmd, "explore"))
		return cmd_explore(argc - 2, argv + 2);
	if (!strcmp(cmd, "states"))
		return cmd_states(argc - 2, argv + 2);
	if (!strcmp(cmd, "rules"))
		return cmd_rules();
	if (!strcmp(cmd, "kinds"))
		return cmd_kinds();
	if (!strcmp(cmd, "ops"))
		return cmd_ops(argc - 2, argv + 2);
	if (!strcmp(cmd, "platform"))
		return cmd_platform(argc - 2, argv + 2);
	if (!strcmp(cmd, "trace"))
		return cmd_trace(argc - 2, argv + 2);
	{
		const char *near = ccmm_suggest(cmd, commands, CCMM_ARRAY_SIZE(commands) - 1);

		if (near)
			return bad("unknown command '%s'; did you mean '%s'?", cmd, near);
		return bad("unknown command '%s'%s (ccmm help)", cmd, "");
	}
}
