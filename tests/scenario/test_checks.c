// SPDX-License-Identifier: MIT
/*
 * check = PATH OP VALUE lines: every operator passing and failing on a
 * known figure, units (sizes, times, percentages of a ratio, a figure
 * whose name carries its unit), strings and booleans, [NAME] and [N]
 * selectors, paths relative to an actor's entry, a path the report lacks
 * (failed, with the nearest keys named) and one that can be refused
 * before the run (an error at its line), syntax errors, the verdict and
 * both reports, and the report's top-level keys against the list the job
 * reader validates with.
 */
#include "helpers.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>

#include "report/report.h"
#include "scenario/scenario.h"

/* The default job (its figures are known: see test_figures_known) plus an actor holding @checks. */
static int load_with(const char *checks, struct ccmm_job **job, struct ccmm_error *err)
{
	char *text;
	int ret;

	if (asprintf(&text, "%s\n[checker]\nactor = guest_task\n%s\n", ccmm_default_job_text, checks) < 0)
		return -ENOMEM;
	ret = ccmm_job_load("t.job", text, NULL, job, err);
	free(text);
	return ret;
}

/* Run the default job with @checks; the results are in run->check_results. */
static struct ccmm_run *run_with(const char *checks, struct ccmm_job **jobp)
{
	struct ccmm_error err;
	struct ccmm_run *run;

	if (load_with(checks, jobp, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_job_run(*jobp, &run), 0);
	assert_int_equal(run->error[0], 0);
	assert_int_equal(ccmm_report_checks(run), 0);
	assert_true(run->checks_done);
	return run;
}

static void done(struct ccmm_run *run, struct ccmm_job *job)
{
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/* run_with() of a formatted text. */
static struct ccmm_run *run_withf(struct ccmm_job **jobp, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static struct ccmm_run *run_withf(struct ccmm_job **jobp, const char *fmt, ...)
{
	struct ccmm_run *run;
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		fail_msg("out of memory");
	va_end(ap);
	run = run_with(text, jobp);
	free(text);
	return run;
}

/*
 * The default job's figures the tests compare with, read from its JSON
 * report once (so a change to the default job or the costs moves them
 * together): the guest's ops and modeled time, the EPC's pages, fairness.
 */
static struct {
	long ops;
	uint64_t guest_ns;
	long epc_pages;
	double fairness;
} fig;

static int read_figures(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run = run_with("", &job);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *root, *guest = NULL, *v;
	size_t i;

	(void)state;
	assert_int_equal(ccmm_report_json(run, f), 0);
	fclose(f);
	root = json_loads(text, 0, NULL);
	assert_non_null(root);
	json_array_foreach(json_object_get(root, "jobs"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "jobname")), "guest"))
			guest = v;
	assert_non_null(guest);
	fig.ops = (long)json_integer_value(json_object_get(guest, "ops"));
	fig.guest_ns = (uint64_t)json_integer_value(json_object_get(guest, "modeled_time_ns"));
	fig.epc_pages = (long)json_integer_value(json_object_get(json_object_get(root, "sgx"), "epc_pages"));
	fig.fairness = json_real_value(json_object_get(json_object_get(root, "sgx"), "fairness"));
	assert_true(fig.ops > 2 && fig.guest_ns > 2000 && fig.epc_pages > 100 && fig.fairness > 0.0 && fig.fairness < 1.0);
	json_decref(root);
	free(text);
	done(run, job);
	return 0;
}

/* Each result's pass/fail as a string of 'p' and 'f', in line order. */
static void expect_results(struct ccmm_run *run, const char *want)
{
	char got[64] = "";

	assert_int_equal(run->job->nr_checks, strlen(want));
	for (size_t i = 0; i < run->job->nr_checks; i++)
		got[i] = run->check_results[i].passed ? 'p' : 'f';
	assert_string_equal(got, want);
}

/* Every operator on both sides of the guest's op count N. */
static void test_operators(void **state)
{
	long n = fig.ops;
	struct ccmm_job *job;
	struct ccmm_run *run = run_withf(&job,
					 "check = jobs[guest].ops == %ld\ncheck = jobs[guest].ops == %ld\n"
					 "check = jobs[guest].ops != %ld\ncheck = jobs[guest].ops != %ld\n"
					 "check = jobs[guest].ops < %ld\ncheck = jobs[guest].ops < %ld\n"
					 "check = jobs[guest].ops <= %ld\ncheck = jobs[guest].ops <= %ld\n"
					 "check = jobs[guest].ops > %ld\ncheck = jobs[guest].ops > %ld\n"
					 "check = jobs[guest].ops >= %ld\ncheck = jobs[guest].ops >= %ld\n",
					 n, n + 1, n - 1, n, n + 1, n, n, n - 1, n - 1, n, n, n + 1);
	struct ccmm_run_summary s;
	char want[128], nstr[32];

	(void)state;
	expect_results(run, "pfpfpfpfpfpf");
	snprintf(nstr, sizeof(nstr), "%ld", n);
	for (size_t i = 0; i < job->nr_checks; i++) {
		assert_true(run->check_results[i].found);
		assert_true(run->check_results[i].got == (double)n);
		assert_string_equal(run->check_results[i].got_text, nstr);
	}
	/* the message: FILE:LINE: check PATH OP VALUE failed: got X (off by D) */
	snprintf(want, sizeof(want), ": check jobs[guest].ops == %ld failed: got %ld (off by 1)", n + 1, n);
	assert_non_null(strstr(run->check_results[1].msg, want));
	snprintf(want, sizeof(want), ": check jobs[guest].ops >= %ld failed: got %ld (off by 1)", n + 1, n);
	assert_non_null(strstr(run->check_results[11].msg, want));
	assert_int_equal(strncmp(run->check_results[1].msg, "t.job:", 6), 0);
	assert_int_equal(run->check_results[1].c->where.line, run->check_results[0].c->where.line + 1);
	ccmm_run_summarize(run, &s);
	assert_int_equal(s.checks_failed, 6);
	assert_int_equal(s.status, 1);
	done(run, job);
}

/* Units: sizes against bytes, times against ns and seconds, a percentage against a ratio. */
static void test_units(void **state)
{
	uint64_t t = fig.guest_ns;
	double pct = fig.fairness * 100.0;
	struct ccmm_job *job;
	struct ccmm_run *run = run_withf(&job,
					 "check = platform.nodes[0].ram_bytes == 32GiB\n" /* 34359738368 */
					 "check = platform.nodes[1].ram_bytes == 32g\n"
					 "check = platform.nodes[0].ram_bytes > 32768MiB\n"
					 "check = platform.nodes[0].ram_bytes == 34359738368\n"
					 "check = platform.nodes[0].ram_bytes < 4KiB\n"
					 "check = jobs[guest].modeled_time_ns < 1s\n"
					 "check = jobs[guest].modeled_time_ns > %" PRIu64 "ns\n"
					 "check = jobs[guest].modeled_time_ns < %" PRIu64 "ns\n"
					 "check = wall_time_s < 600s\n" /* seconds: the name says */
					 "check = wall_time_s > 600s\n"
					 "check = sgx.fairness > %.3f%%\n"
					 "check = sgx.fairness < %.3f%%\n"
					 "check = sgx.fairness <= %.6f\n"
					 "check = jobs[guest].modeled_time_ns == %.6fus\n",
					 t - 1000, t - 1000, pct - 1.0, pct - 1.0, fig.fairness + 0.01, (double)t / 1000.0);
	char want[128], tt[32], off[32];

	(void)state;
	expect_results(run, "ppfpfppfpfpfpp");
	assert_string_equal(run->check_results[0].got_text, "32GiB");
	assert_non_null(strstr(run->check_results[2].msg, "got 32GiB (off by 0B)"));
	assert_non_null(strstr(run->check_results[4].msg, "got 32GiB (off by"));
	snprintf(want, sizeof(want), "got %s (off by %s)", ccmm_format_ns(t, tt, sizeof(tt)), ccmm_format_ns(1000, off, sizeof(off)));
	assert_non_null(strstr(run->check_results[7].msg, want));
	assert_true(fabs(run->check_results[10].got - pct) < 1e-6); /* the ratio read as percent */
	assert_non_null(strstr(run->check_results[11].msg, "% (off by ")); /* about 1%: the value was rounded to 3 decimals */
	done(run, job);
}

/* Strings, booleans, [N] and [NAME] by each naming member, and paths relative to the actor. */
static void test_selectors_and_words(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run = run_with("check = platform.mode == tdx\n"
					"check = platform.mode != tdx\n"
					"check = jobs[0].jobname == guest\n"
					"check = sgx.cgroups[/enclaves/small].stalls >= 0\n"    /* path */
					"check = sgx.enclaves[enclave_big].exit_status == 0\n"  /* actor */
					"check = jobs[vmm].violations[0].expected == true\n"
					"check = jobs[vmm].violations[0].expected == false\n"
					"check = .ops == 0\n"                                   /* [checker] itself */
					"check = .jobname == checker\n"
					"check = global options.seed == 1\n",
					&job);

	(void)state;
	expect_results(run, "pfppppfppp");
	assert_non_null(strstr(run->check_results[1].msg, "failed: got tdx"));
	assert_string_equal(run->check_results[6].got_text, "true");
	assert_int_equal(run->check_results[7].c->actor, (int)job->nr_actors - 1);
	done(run, job);
}

/* A path the run's report lacks fails its check, naming what is there. */
static void test_missing_path(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run = run_with("check = jobs[guest].opps > 0\n"
					"check = sgx.cgroups[/enclaves/smal].stalls > 0\n"
					"check = sgx.ksgxd > 0\n"
					"check = platform.cpus.count > 0\n"
					"check = jobs[99].ops > 0\n"
					"check = .counterz.x > 0\n",
					&job);
	struct ccmm_run_summary s;

	(void)state;
	expect_results(run, "ffffff");
	for (size_t i = 0; i < job->nr_checks; i++)
		assert_int_equal(run->check_results[i].found, i == 2); /* sgx.ksgxd: there, but not a figure */
	assert_non_null(strstr(run->check_results[0].msg, "no key 'opps' under 'jobs[guest]'; did you mean 'ops'?"));
	assert_non_null(strstr(run->check_results[1].msg, "no element [/enclaves/smal] in 'sgx.cgroups'; did you mean '/enclaves/small'?"));
	assert_non_null(strstr(run->check_results[2].msg, "'sgx.ksgxd' is an object, not a figure (keys: runs, ewb, modeled_ns)"));
	assert_non_null(strstr(run->check_results[3].msg, "'platform.cpus' is a figure"));
	assert_non_null(strstr(run->check_results[4].msg, "no element [99] in 'jobs'"));
	assert_non_null(strstr(run->check_results[5].msg, "under 'jobs[checker]'; did you mean 'counters'?"));
	ccmm_run_summarize(run, &s);
	assert_int_equal(s.checks_failed, 6);
	assert_int_equal(s.status, 1);
	done(run, job);
}

/* What can be known before the run is an error at the check's line. */
static void test_refused_when_read(void **state)
{
	static const struct {
		const char *line, *msg;
	} cases[] = {
		{ "check = sgxx.fairness > 0", "check: the report has no section 'sgxx'; did you mean 'sgx'?" },
		{ "check = jobs[gest].ops > 0", "check: the job has no actor [gest]; did you mean 'guest'?" },
		{ "check = jobs[guest].ops = 1", "'=' compares nothing" },
		{ "check = jobs[guest].ops", "needs PATH OP VALUE" },
		{ "check = jobs[guest].ops >", "no VALUE after '>'" },
		{ "check = > 1", "no PATH before '>'" },
		{ "check = platform.mode < tdx", "'tdx' is not a number: only == and != compare it" },
		{ "check = jobs[guest].ops > 4 parsecs", "unknown unit 'parsecs'" },
		{ "check = jobs[guest].ops => 4", "'=' compares nothing" },
		{ "check = jobs[guest].ops >> 4", "'>>' is not an operator" },
		{ "check = jobs[guest]..ops > 4", "an empty key" },
		{ "check = jobs[guest.ops > 4", "a '[' without its ']'" },
		{ "check = jobs[].ops > 4", "needs [NAME] or [N]" },
		{ "check = jobs[guest]ops > 4", "'.' or '[' must follow ']'" },
		{ "check = jobs[guest]. > 4", "the path ends without a key" },
		{ "check = jobs[guest].ops > 4 5", "unknown unit '5' in '4 5'" },
		{ "check = jobs[guest].ops > (4)", "'(4)' is not a value" },
		{ "check = jobs[guest].ops == .ops", "'.ops' is not a value" },
	};
	struct ccmm_error err;
	struct ccmm_job *job;
	char text[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s\n", cases[i].line);
		memset(&err, 0, sizeof(err));
		if (load_with(text, &job, &err) != -EINVAL)
			fail_msg("'%s' was accepted", cases[i].line);
		if (!strstr(err.msg, cases[i].msg))
			fail_msg("'%s': got '%s', want '%s'", cases[i].line, err.msg, cases[i].msg);
		assert_string_equal(err.file, "t.job");
		assert_true(err.line > 0);
	}
	/* a relative path only where there is an actor: [global] has none */
	assert_int_equal(ccmm_job_load("g.job", "[global]\ncheck = .ops > 0\n[a]\nactor = guest_task\n", NULL, &job, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "is relative"));
	assert_int_equal(err.line, 2);
}

/* A failed check: the text report says so, the JSON has every check's result, the verdict is 1. */
static void test_reports_carry_checks(void **state)
{
	char want[160];
	struct ccmm_job *job;
	struct ccmm_run *run = run_withf(&job, "check = jobs[guest].ops == %ld\ncheck = sgx.epc_pages < 100\n", fig.ops);
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_t *root, *checks, *c;
	json_error_t jerr;

	(void)state;
	f = open_memstream(&text, &len);
	assert_int_equal(ccmm_report_text(run, f, 0), 0);
	fclose(f);
	snprintf(want, sizeof(want), "  check jobs[guest].ops == %ld -> got %ld: ok\n", fig.ops, fig.ops);
	assert_non_null(strstr(text, want));
	snprintf(want, sizeof(want), "  check sgx.epc_pages < 100 -> FAILED: got %ld (off by %ld)\n", fig.epc_pages, fig.epc_pages - 100);
	assert_non_null(strstr(text, want));
	assert_non_null(strstr(text, "; 1 check(s) failed -> NOT as expected"));
	free(text);
	f = open_memstream(&text, &len);
	assert_int_equal(ccmm_report_json(run, f), 0);
	fclose(f);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	checks = json_object_get(root, "checks");
	assert_int_equal(json_array_size(checks), 2);
	c = json_array_get(checks, 0);
	assert_true(json_is_true(json_object_get(c, "passed")));
	assert_string_equal(json_string_value(json_object_get(c, "actor")), "checker");
	assert_null(json_object_get(c, "message"));
	c = json_array_get(checks, 1);
	assert_true(json_is_false(json_object_get(c, "passed")));
	assert_string_equal(json_string_value(json_object_get(c, "check")), "sgx.epc_pages < 100");
	assert_true(json_real_value(json_object_get(c, "got_value")) == (double)fig.epc_pages);
	snprintf(want, sizeof(want), "failed: got %ld (off by %ld)", fig.epc_pages, fig.epc_pages - 100);
	assert_non_null(strstr(json_string_value(json_object_get(c, "message")), want));
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "result"), "checks_failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "result"), "exit_status")), 1);
	json_decref(root);
	free(text);
	done(run, job);
}

/* The top-level keys the job reader accepts are the report's own (a run with a time series writes them all). */
static void test_root_keys_are_the_reports(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	char *text = NULL;
	size_t len = 0, n = 0;
	FILE *f;
	json_t *root, *v;
	const char *k;

	(void)state;
	if (load_with("", &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	job->interval_ns = 1000000; /* ccmm run --interval 1ms: the report's "series" */
	assert_int_equal(ccmm_job_run(job, &run), 0);
	assert_int_equal(run->error[0], 0);
	f = open_memstream(&text, &len);
	assert_int_equal(ccmm_report_json(run, f), 0);
	fclose(f);
	root = json_loads(text, 0, NULL);
	assert_non_null(root);
	json_object_foreach(root, k, v) {
		bool listed = !strcmp(k, "checks");

		for (size_t i = 0; ccmm_report_root_keys[i]; i++)
			listed |= !strcmp(ccmm_report_root_keys[i], k);
		for (size_t i = 0; ccmm_run_ext_at(i); i++)
			listed |= ccmm_run_ext_at(i)->report_json && !strcmp(ccmm_run_ext_at(i)->name, k);
		if (!listed)
			fail_msg("the report's key '%s' is not in ccmm_report_root_keys", k);
	}
	for (size_t i = 0; ccmm_report_root_keys[i]; i++, n++)
		if (!json_object_get(root, ccmm_report_root_keys[i]))
			fail_msg("ccmm_report_root_keys has '%s', which the report does not write", ccmm_report_root_keys[i]);
	assert_true(n > 10);
	json_decref(root);
	free(text);
	done(run, job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_selectors_and_words),
		cmocka_unit_test(test_missing_path),
		cmocka_unit_test(test_refused_when_read),
		cmocka_unit_test(test_reports_carry_checks),
		cmocka_unit_test(test_root_keys_are_the_reports),
	};

	return cmocka_run_group_tests(tests, read_figures, NULL);
}
