// SPDX-License-Identifier: MIT
/*
 * Answers people compare and look at (issue 13): --set settings into the
 * job and the platform with the files' own checks, JSON paths into reports,
 * sweeps (value lists, ranges, the grid, rows in child processes, tables
 * whatever the number of workers, failed points as rows), diffs of two
 * runs and of two sweeps, time series at modeled-time boundaries,
 * attribution of modeled time to a device by kind, per-I/O latency
 * percentiles of a replay, and the non-confidential twin of every shipped
 * confidential platform.
 */
#include "helpers.h"

#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <unistd.h>

#include "dma/dma.h"
#include "report/report.h"
#include "scenario/scenario.h"
#include "swiotlb/swiotlb.h"
#include "sweep/sweep.h"

#define SRC CCMM_SOURCE_DIR

static const char guest_job[] = "[global]\n"
				"seed = 1\n"
				"[a]\n"
				"actor = guest_task\n"
				"op = alloc buf 64k\n"
				"op = set_memory_decrypted buf\n"
				"op = sleep 10us\n"
				"op = set_memory_encrypted buf\n"
				"op = sleep 10us\n"
				"op = free buf\n";

static void set(struct ccmm_setting *s, const char *arg)
{
	struct ccmm_error err;

	if (ccmm_setting_parse(arg, "--set", s, &err))
		fail_msg("%s: %s", err.file, err.msg);
}

static int load_set(const char *text, const char *const *args, size_t n, struct ccmm_job **job, struct ccmm_error *err)
{
	struct ccmm_setting s[8];

	for (size_t i = 0; i < n; i++)
		set(&s[i], args[i]);
	return ccmm_job_load_set("t.job", text, NULL, s, n, job, err);
}

/* ---- settings ------------------------------------------------------------------------ */

/* KEY=VALUE names [global]; SECTION.KEY an actor; platform.* and cost.* the platform; errors name the setting. */
static void test_setting_parse_forms(void **state)
{
	struct ccmm_setting s;
	struct ccmm_error err;

	set(&s, "seed=3");
	assert_int_equal(s.target, CCMM_SET_JOB);
	assert_string_equal(s.section, "global");
	assert_string_equal(s.key, "seed");
	assert_string_equal(s.value, "3");
	set(&s, "disk.queue_depth=4");
	assert_int_equal(s.target, CCMM_SET_JOB);
	assert_string_equal(s.section, "disk");
	assert_string_equal(s.key, "queue_depth");
	set(&s, "platform.mode=none");
	assert_int_equal(s.target, CCMM_SET_PLATFORM);
	assert_string_equal(s.section, "platform");
	assert_string_equal(s.key, "mode");
	set(&s, "platform.node:0.mem=2g");
	assert_int_equal(s.target, CCMM_SET_PLATFORM);
	assert_string_equal(s.section, "node:0");
	assert_string_equal(s.key, "mem");
	assert_string_equal(s.value, "2g");
	set(&s, "cost.ve_ns=9");
	assert_int_equal(s.target, CCMM_SET_PLATFORM);
	assert_string_equal(s.section, "cost");
	assert_string_equal(s.key, "ve_ns");
	set(&s, "platform=a=b.ini");
	assert_string_equal(s.key, "platform");
	assert_string_equal(s.value, "a=b.ini");

	assert_int_equal(ccmm_setting_parse("seed", "--set", &s, &err), -EINVAL);
	assert_string_equal(err.file, "--set seed");
	assert_non_null(strstr(err.msg, "KEY=VALUE"));
	assert_int_equal(ccmm_setting_parse("seed=", "--set", &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "no value"));
	assert_int_equal(ccmm_setting_parse("=3", "--set", &s, &err), -EINVAL);
	assert_int_equal(ccmm_setting_parse("platform.node.mem=1g", "--set", &s, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "not a platform section"));
}

/* A setting replaces the file's line or adds one, and is checked as the line would be. */
static void test_job_settings_apply(void **state)
{
	static const char *const args[] = { "seed=7", "a.loops=3", "platform.node:0.mem=2g", "cost.ve_ns=9",
					    "cost.swiotlb_map_ns=11" };
	struct ccmm_job *job;
	struct ccmm_error err;

	if (load_set(guest_job, args, 5, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(job->g.seed, 7);
	assert_int_equal(job->actors[0]->loops, 3);
	assert_int_equal(ccmm_platform_ram(job->plat, 0), 2 * CCMM_GiB);
	assert_int_equal(job->plat->costs.ve_ns, 9);
	assert_int_equal(job->plat->nr_cost_more, 1);
	assert_string_equal(job->plat->cost_more[0].name, "swiotlb_map_ns");
	assert_int_equal(job->plat->cost_more[0].value, 11);
	ccmm_job_free(job);
}

/*
 * check= may be given many times in a section: a check= setting is added
 * beside the job's own (which it must never silently replace), placed at
 * the setting; the failing one of the file still fails the run, and a
 * failing setting is named as a setting's errors are.
 */
static void test_job_settings_add_checks(void **state)
{
	static const char *const args[] = { "a.check=.modeled_time_ns > 0", "check=modeled_time_ns > 0",
					    "a.check=.modeled_time_ns > 1s" };
	static const char *const text = "[a]\nactor = guest_task\nop = alloc b 4k\nop = write b\ncheck = .modeled_time_ns < 1\n";
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_run_summary sum;
	struct ccmm_error err;
	int file = -1, actor = -1, global = -1, late = -1;

	if (load_set(text, args, 3, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(job->nr_checks, 4);
	for (size_t i = 0; i < job->nr_checks; i++) {
		const struct ccmm_check *c = &job->checks[i];

		if (!strcmp(c->where.file, "t.job") && c->where.line == 5 && c->actor == 0)
			file = (int)i;
		else if (!strcmp(c->where.file, "--set a.check=.modeled_time_ns > 0") && c->actor == 0)
			actor = (int)i;
		else if (!strcmp(c->where.file, "--set check=modeled_time_ns > 0") && c->actor == -1)
			global = (int)i;
		else if (!strcmp(c->where.file, "--set a.check=.modeled_time_ns > 1s") && c->actor == 0)
			late = (int)i;
	}
	assert_true(file >= 0 && actor >= 0 && global >= 0 && late >= 0);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	assert_int_equal(ccmm_report_checks(run), 0);
	ccmm_run_summarize(run, &sum);
	assert_int_equal(sum.checks_failed, 2);
	assert_false(run->check_results[file].passed);
	assert_false(run->check_results[late].passed);
	assert_true(run->check_results[actor].passed);
	assert_true(run->check_results[global].passed);
	assert_int_equal(sum.status, 1);
	/* a message names the file's line, or the setting, as a setting's errors do (no line) */
	assert_ptr_equal(strstr(run->check_results[file].msg, "t.job:5: check .modeled_time_ns < 1 failed: got "),
			 run->check_results[file].msg);
	assert_ptr_equal(strstr(run->check_results[late].msg, "--set a.check=.modeled_time_ns > 1s: check .modeled_time_ns > 1s failed: got "),
			 run->check_results[late].msg);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

static void expect_error(const char *arg, int ret, const char *file, const char *text)
{
	const char *args[1] = { arg };
	struct ccmm_job *job = NULL;
	struct ccmm_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(load_set(guest_job, args, 1, &job, &err), ret);
	assert_null(job);
	assert_string_equal(err.file, file);
	assert_int_equal(err.line, 0);
	if (!strstr(err.msg, text))
		fail_msg("'%s': expected '%s' in '%s'", arg, text, err.msg);
}

/* Unknown keys get the file's suggestions; the error is placed at the setting, and nothing is loaded. */
static void test_job_settings_errors(void **state)
{
	expect_error("sed=3", -ENOENT, "--set sed=3", "did you mean 'seed'?");
	expect_error("sgx_reclam=global", -ENOENT, "--set sgx_reclam=global", "did you mean 'sgx_reclaim'?");
	expect_error("seed=x", -EINVAL, "--set seed=x", "seed");
	expect_error("b.loops=2", -ENOENT, "--set b.loops=2", "no section [b]; did you mean [a]?");
	expect_error("a.loop=2", -ENOENT, "--set a.loop=2", "did you mean 'loops'?");
	expect_error("a.op=sleep 1us", -EINVAL, "--set a.op=sleep 1us", "program");
	expect_error("platform.node:0.mem=abc", -EINVAL, "--set platform.node:0.mem=abc", "not a size");
	expect_error("platform.nod:0.mem=1g", -EINVAL, "--set platform.nod:0.mem=1g", "did you mean 'node'?");
	expect_error("cost.ve_nss=3", -ENOENT, "--set cost.ve_nss=3", "did you mean 've_ns'?");
	/* a platform the setting makes impossible fails validation as a file would */
	expect_error("platform.mode=bogus", -EINVAL, "--set platform.mode=bogus", "mode");
}

/* platform=FILE on the command line names a file as --platform does; both at once is an error. */
static void test_job_settings_platform(void **state)
{
	struct ccmm_setting s;
	struct ccmm_job *job;
	struct ccmm_error err;
	char arg[512];

	snprintf(arg, sizeof(arg), "platform=%s/platforms/tdx-guest-baseline.ini", SRC);
	set(&s, arg);
	if (ccmm_job_load_set("t.job", guest_job, NULL, &s, 1, &job, &err))
		fail_msg("%s: %s", err.file, err.msg);
	assert_string_equal(job->plat->name, "tdx-guest-baseline");
	assert_int_equal(job->plat->mode, CCMM_CC_NONE);
	ccmm_job_free(job);
	assert_int_equal(ccmm_job_load_set("t.job", guest_job, "default", &s, 1, &job, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "given twice"));
}

/* ---- JSON paths ------------------------------------------------------------------------ */

static const char doc[] = "{\"jobs\": [{\"jobname\": \"disk\", \"costs\": {\"ve_ns\": {\"ns\": 5}}},"
			  "           {\"jobname\": \"x.y\", \"n\": 2}],"
			  " \"subsystems\": {\"dma.virtio-blk0\": {\"maps\": 3}, \"dma\": {\"maps\": 4}},"
			  " \"p\": {\"99.000000\": 7, \"99.900000\": 8},"
			  " \"arr\": [10, 20], \"cgroups\": [{\"path\": \"/a/b\", \"oom\": 1}]}";

static void roundtrip(void *user, const char *path, json_t *v)
{
	json_t *root = user;

	if (ccmm_jpath_get(root, path) != v)
		fail_msg("the flattened path '%s' does not lead back to its value", path);
}

struct names {
	char p[16][128];
	size_t n;
};

static void keep(void *user, const char *path, json_t *v)
{
	struct names *n = user;

	(void)v;
	if (n->n < 16)
		snprintf(n->p[n->n++], sizeof(n->p[0]), "%s", path);
}

/* Keys with dots, arrays by name, [K=V] and [N], wildcards; every flattened path resolves back. */
static void test_jpath(void **state)
{
	json_t *j = json_loads(doc, 0, NULL);
	struct names nm = { .n = 0 };

	assert_non_null(j);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "jobs.disk.costs.ve_ns.ns")), 5);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "subsystems.dma.virtio-blk0.maps")), 3);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "subsystems.dma.maps")), 4);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "p.99.900000")), 8);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "jobs[jobname=x.y].n")), 2);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "jobs[1].n")), 2);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "arr[1]")), 20);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "cgroups./a/b.oom")), 1);
	assert_null(ccmm_jpath_get(j, "jobs.nope.n"));
	assert_null(ccmm_jpath_get(j, "p.98.000000"));
	assert_null(ccmm_jpath_get(j, "arr[5]"));
	assert_true(ccmm_jpath_is_pattern("jobs.*.n"));
	assert_false(ccmm_jpath_is_pattern("jobs.disk.n"));

	assert_int_equal(ccmm_jpath_flatten(j, roundtrip, j), 12); /* every scalar, names included */
	assert_int_equal(ccmm_jpath_expand(j, "jobs.*.n", keep, &nm), 1);
	assert_string_equal(nm.p[0], "jobs[jobname=x.y].n");
	nm.n = 0;
	assert_int_equal(ccmm_jpath_expand(j, "p.*", keep, &nm), 2);
	assert_string_equal(nm.p[0], "p.99.000000");
	nm.n = 0;
	assert_int_equal(ccmm_jpath_expand(j, "arr[*]", keep, &nm), 2);
	assert_string_equal(nm.p[1], "arr[1]");
	json_decref(j);
}

/* ---- sweeps ------------------------------------------------------------------------------- */

static void sweep_job_file(char *path, size_t len, const char *text)
{
	FILE *f;

	snprintf(path, len, "/tmp/ccmm-test-sweep-%d.job", (int)getpid());
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void vary_ok(struct ccmm_sweep *sw, const char *arg, size_t n, const char *first, const char *last)
{
	struct ccmm_error err;
	struct ccmm_sweep_axis *ax;

	if (ccmm_sweep_add_vary(sw, arg, "--vary", &err))
		fail_msg("%s: %s", err.file, err.msg);
	ax = &sw->axes[sw->nr_axes - 1];
	for (size_t i = 0; i < sw->nr_axes; i++)
		if (!strncmp(arg, sw->axes[i].key, strlen(sw->axes[i].key)) && arg[strlen(sw->axes[i].key)] == '=')
			ax = &sw->axes[i];
	assert_int_equal(ax->nr, n);
	assert_string_equal(ax->values[0], first);
	assert_string_equal(ax->values[n - 1], last);
}

static void vary_bad(struct ccmm_sweep *sw, const char *arg, const char *text)
{
	struct ccmm_error err;

	assert_int_equal(ccmm_sweep_add_vary(sw, arg, "--vary", &err), -EINVAL);
	if (!strstr(err.msg, text))
		fail_msg("'%s': expected '%s' in '%s'", arg, text, err.msg);
	assert_int_equal(strncmp(err.file, "--vary ", 7), 0);
}

/* Value lists, ranges with steps and factors, the grid's size; malformed lists are errors naming the --vary. */
static void test_vary(void **state)
{
	struct ccmm_sweep sw;
	struct ccmm_error err;
	char path[256];

	sweep_job_file(path, sizeof(path), guest_job);
	assert_int_equal(ccmm_sweep_init(&sw, path, &err), 0);
	vary_ok(&sw, "seed=1..4", 4, "1", "4");
	vary_ok(&sw, "a.loops=1k..4k:1k", 4, "1024", "4096");
	vary_ok(&sw, "cost.ve_ns=1..16*2", 5, "1", "16");
	vary_ok(&sw, "platform=../x.ini,default", 2, "../x.ini", "default");
	assert_int_equal(ccmm_sweep_points(&sw), 4 * 4 * 5 * 2);
	vary_ok(&sw, "seed=5,6", 2, "5", "6"); /* a key again replaces its axis */
	assert_int_equal(sw.nr_axes, 4);
	assert_int_equal(ccmm_sweep_points(&sw), 2 * 4 * 5 * 2);
	vary_bad(&sw, "seed", "KEY=V1,V2");
	vary_bad(&sw, "seed=", "no values");
	vary_bad(&sw, "seed=1,,2", "empty value");
	vary_bad(&sw, "seed=4..1", "backwards");
	vary_bad(&sw, "seed=1..4:0", "step is 0");
	vary_bad(&sw, "seed=1..8*1", "factor");
	vary_bad(&sw, "seed=1,1", "twice");
	vary_bad(&sw, "seed=0..10000000", "more than");
	vary_bad(&sw, "seed=0..18446744073709551615", "more than"); /* the count does not wrap */
	vary_bad(&sw, "seed=1..100000", "more than 1000000 points"); /* replacing seed=5,6: 100000 x 4 x 5 x 2 */
	assert_int_equal(ccmm_sweep_points(&sw), 2 * 4 * 5 * 2); /* the axis it would replace stays */
	assert_int_equal(ccmm_sweep_add_set(&sw, "seed=3", &err), -EINVAL);
	assert_non_null(strstr(err.msg, "also varied"));
	ccmm_sweep_free(&sw);

	/* a million values on one axis: made, and a value given twice found, without quadratic time */
	assert_int_equal(ccmm_sweep_init(&sw, path, &err), 0);
	vary_ok(&sw, "seed=1..1000000", 1000000, "1", "1000000");
	vary_bad(&sw, "seed=1..999999,77", "'77' is given twice");
	vary_ok(&sw, "seed=1..4096*2", 13, "1", "4096");
	ccmm_sweep_free(&sw);
	unlink(path);
}

/* A sweep's rows: the same whatever the number of workers; a point that fails is a row with its error. */
static void test_sweep_rows(void **state)
{
	static const char job[] = "[global]\nseed = 1\n"
				  "[a]\nactor = guest_task\nop = alloc buf 64k\nop = set_memory_decrypted buf\n"
				  "op = wait go\nop = wait go\nop = free buf\n"
				  "[b]\nactor = guest_task\nloops = 1\nop = sleep 5us\nop = signal go\n";
	struct ccmm_sweep sw;
	struct ccmm_error err;
	char path[256], *rows1[4] = { 0 }, *rows3[4] = { 0 };
	json_t *t1, *t3;

	sweep_job_file(path, sizeof(path), job);
	assert_int_equal(ccmm_sweep_init(&sw, path, &err), 0);
	assert_int_equal(ccmm_sweep_add_vary(&sw, "b.loops=1,2", "--vary", &err), 0);
	assert_int_equal(ccmm_sweep_add_vary(&sw, "cost.cpa_split_ns=3000,6000", "--vary", &err), 0);
	if (ccmm_sweep_check(&sw, &err))
		fail_msg("%s: %s", err.file, err.msg);
	assert_int_equal(sw.nr_metrics, 3); /* the defaults of a job of guest tasks */
	assert_int_equal(ccmm_sweep_run_local(&sw, 1, 0, 1, true, rows1, NULL, &err), 0);
	assert_int_equal(ccmm_sweep_run_local(&sw, 3, 0, 1, false, rows3, NULL, &err), 0);
	assert_int_equal(ccmm_sweep_table(&sw, rows1, 1.0, &t1, &err), 0);
	assert_int_equal(ccmm_sweep_table(&sw, rows3, 2.0, &t3, &err), 0);
	for (size_t p = 0; p < 4; p++) {
		json_t *r1 = json_array_get(json_object_get(t1, "rows"), p), *r3 = json_array_get(json_object_get(t3, "rows"), p);

		json_object_del(r1, "wall_s");
		json_object_del(r3, "wall_s");
		assert_true(json_equal(r1, r3));
		/* b.loops=1 signals once: a waits forever, a run error in its row; 2 runs clean */
		if (p < 2) {
			assert_int_equal(json_integer_value(json_object_get(r1, "status")), 2);
			assert_non_null(strstr(json_string_value(json_object_get(r1, "error")), "deadlock"));
		} else {
			assert_int_equal(json_integer_value(json_object_get(r1, "status")), 0);
			assert_true(json_is_null(json_object_get(r1, "error")));
			assert_true(json_integer_value(json_object_get(json_object_get(r1, "metrics"), "modeled_time_ns")) > 0);
		}
	}
	/* the split cost doubled: the decrypted run takes longer */
	assert_true(json_integer_value(ccmm_jpath_get(t1, "rows[3].metrics.modeled_time_ns")) >
		    json_integer_value(ccmm_jpath_get(t1, "rows[2].metrics.modeled_time_ns")));
	assert_string_equal(json_string_value(ccmm_jpath_get(t1, "rows[3].keys.cost.cpa_split_ns")), "6000");
	json_decref(t1);
	json_decref(t3);
	for (size_t p = 0; p < 4; p++) {
		free(rows1[p]);
		free(rows3[p]);
	}
	ccmm_sweep_free(&sw);
	unlink(path);
}

/* A metric asked for that no point has stops the sweep after its first point, with the closest path as a suggestion. */
static void test_sweep_metric_typo(void **state)
{
	struct ccmm_sweep sw;
	struct ccmm_error err;
	char path[256], *rows[2] = { 0 };
	json_t *t;

	sweep_job_file(path, sizeof(path), guest_job);
	assert_int_equal(ccmm_sweep_init(&sw, path, &err), 0);
	assert_int_equal(ccmm_sweep_add_vary(&sw, "seed=1,2", "--vary", &err), 0);
	assert_int_equal(ccmm_sweep_add_metric(&sw, "modeled_time_nss", &err), 0);
	assert_int_equal(ccmm_sweep_check(&sw, &err), 0);
	assert_int_equal(ccmm_sweep_run_local(&sw, 2, 0, 1, true, rows, NULL, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "did you mean 'modeled_time_ns'?"));
	assert_non_null(rows[0]);
	assert_null(rows[1]); /* nothing else ran */
	free(rows[0]);
	rows[0] = NULL;
	/* the table refuses it too (an MPI sweep checks there) ... */
	assert_int_equal(ccmm_sweep_run_local(&sw, 2, 0, 1, false, rows, NULL, &err), 0);
	assert_int_equal(ccmm_sweep_table(&sw, rows, 1.0, &t, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "--metric modeled_time_nss: no point's report has such a figure"));
	/* ... unless it is a default (a subsystem's figure this job's runs lack): then it makes no column */
	sw.metrics_given = false;
	assert_int_equal(ccmm_sweep_table(&sw, rows, 1.0, &t, &err), 0);
	assert_int_equal(json_array_size(json_object_get(t, "metrics")), 0);
	assert_int_equal(json_array_size(json_object_get(t, "rows")), 2);
	json_decref(t);
	for (size_t p = 0; p < 2; p++)
		free(rows[p]);
	ccmm_sweep_free(&sw);
	unlink(path);
}

/* The [sweep] section of a job file: vary, metric and set lines; an unknown key is an error at its line. */
static void test_sweep_section(void **state)
{
	static const char job[] = "[global]\nseed = 1\n[sweep]\nvary = seed=1..3\nmetric = result.violations\n"
				  "set = a.loops=2\n[a]\nactor = guest_task\nop = sleep 1us\n";
	static const char bad[] = "[global]\n[sweep]\nvary = seed=1,2\nvar = seed=3\n[a]\nactor = guest_task\n";
	struct ccmm_sweep sw;
	struct ccmm_error err;
	char path[256];

	sweep_job_file(path, sizeof(path), job);
	assert_int_equal(ccmm_sweep_init(&sw, path, &err), 0);
	assert_int_equal(sw.nr_axes, 1);
	assert_int_equal(sw.axes[0].nr, 3);
	assert_int_equal(sw.nr_metrics, 1);
	assert_int_equal(sw.nr_sets, 1);
	/* --metric on the command line replaces the file's */
	assert_int_equal(ccmm_sweep_add_metric(&sw, "modeled_time_ns", &err), 0);
	assert_int_equal(sw.nr_metrics, 1);
	assert_string_equal(sw.metrics[0], "modeled_time_ns");
	assert_int_equal(ccmm_sweep_check(&sw, &err), 0);
	ccmm_sweep_free(&sw);
	sweep_job_file(path, sizeof(path), bad);
	assert_int_equal(ccmm_sweep_init(&sw, path, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.msg, "did you mean 'vary'?"));
	unlink(path);
}

/* ---- diffs ------------------------------------------------------------------------------------- */

static json_t *report_of(const char *const *args, size_t n)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *j;

	if (load_set(guest_job, args, n, &job, &err))
		fail_msg("%s: %s", err.file, err.msg);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	assert_int_equal(ccmm_report_json(run, f), 0);
	fclose(f);
	j = json_loads(buf, 0, NULL);
	free(buf);
	ccmm_run_free(run);
	ccmm_job_free(job);
	assert_non_null(j);
	return j;
}

/* Two runs: every figure both have, the changed first; a threshold; two JSONs of different kinds refused. */
static void test_diff_reports(void **state)
{
	static const char *const slow[] = { "cost.cpa_split_ns=30000" };
	json_t *a = report_of(NULL, 0), *b = report_of(slow, 1), *d, *r, *tbl;
	struct ccmm_diff_opts o = { 0, false };
	struct ccmm_error err;
	size_t i;
	bool seen_time = false, seen_unchanged = false;

	assert_int_equal(ccmm_diff(a, "a.json", a, "a.json", &o, &d, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(d, "changed")), 0);
	assert_true(json_integer_value(json_object_get(d, "same")) > 10);
	json_decref(d);
	assert_int_equal(ccmm_diff(a, "a.json", b, "b.json", &o, &d, &err), 0);
	assert_true(json_integer_value(json_object_get(d, "changed")) > 0);
	json_array_foreach(json_object_get(d, "rows"), i, r) {
		assert_true(json_is_true(json_object_get(r, "changed"))); /* unchanged rows only with --all */
		if (!strcmp(json_string_value(json_object_get(r, "figure")), "modeled_time_ns")) {
			seen_time = true;
			assert_true(json_integer_value(json_object_get(r, "diff")) > 0);
			assert_true(json_real_value(json_object_get(r, "ratio")) > 1);
		}
	}
	assert_true(seen_time);
	json_decref(d);
	o.all = true;
	assert_int_equal(ccmm_diff(a, "a.json", b, "b.json", &o, &d, &err), 0);
	json_array_foreach(json_object_get(d, "rows"), i, r) {
		/* changed rows first */
		if (!json_is_true(json_object_get(r, "changed")))
			seen_unchanged = true;
		else
			assert_false(seen_unchanged);
	}
	assert_true(seen_unchanged);
	json_decref(d);
	o.all = false;
	o.min_change = 1000; /* 100000%: nothing changed that much */
	assert_int_equal(ccmm_diff(a, "a.json", b, "b.json", &o, &d, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(d, "changed")), 0);
	json_decref(d);

	tbl = json_loads("{\"kind\": \"ccmm-sweep\", \"keys\": [], \"metrics\": [], \"rows\": []}", 0, NULL);
	assert_int_equal(ccmm_diff(a, "run.json", tbl, "sweep.json", &o, &d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "run.json is a run report and sweep.json a sweep table"));
	json_decref(tbl);
	tbl = json_loads("{\"x\": 1}", 0, NULL);
	assert_int_equal(ccmm_diff(tbl, "x.json", a, "a.json", &o, &d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "x.json: not a ccmm run report"));
	json_decref(tbl);
	json_decref(a);
	json_decref(b);
}

/* Two sweeps joined on their keys; points of one only are listed; sweeps over different keys refused. */
static void test_diff_sweeps(void **state)
{
	static const char ta[] =
		"{\"kind\":\"ccmm-sweep\",\"keys\":[\"k\"],\"metrics\":[\"m\"],\"rows\":["
		"{\"point\":0,\"keys\":{\"k\":\"1\"},\"status\":0,\"metrics\":{\"m\":10}},"
		"{\"point\":1,\"keys\":{\"k\":\"2\"},\"status\":0,\"metrics\":{\"m\":20}},"
		"{\"point\":2,\"keys\":{\"k\":\"3\"},\"status\":0,\"metrics\":{\"m\":30}}]}";
	static const char tb[] =
		"{\"kind\":\"ccmm-sweep\",\"keys\":[\"k\"],\"metrics\":[\"m\"],\"rows\":["
		"{\"point\":0,\"keys\":{\"k\":\"2\"},\"status\":0,\"metrics\":{\"m\":21}},"
		"{\"point\":1,\"keys\":{\"k\":\"1\"},\"status\":0,\"metrics\":{\"m\":10}},"
		"{\"point\":2,\"keys\":{\"k\":\"4\"},\"status\":0,\"metrics\":{\"m\":40}}]}";
	static const char tc[] = "{\"kind\":\"ccmm-sweep\",\"keys\":[\"j\"],\"metrics\":[\"m\"],\"rows\":[]}";
	json_t *a = json_loads(ta, 0, NULL), *b = json_loads(tb, 0, NULL), *c = json_loads(tc, 0, NULL), *d, *r;
	struct ccmm_diff_opts o = { 0.04, false };
	struct ccmm_error err;

	assert_int_equal(ccmm_diff(a, "a", b, "b", &o, &d, &err), 0);
	/* k=2: 20 -> 21 is 5%, above 4% */
	assert_int_equal(json_integer_value(json_object_get(d, "changed")), 1);
	r = json_array_get(json_object_get(d, "rows"), 0);
	assert_string_equal(json_string_value(json_object_get(r, "key")), "k=2");
	assert_string_equal(json_string_value(json_object_get(r, "figure")), "m");
	assert_int_equal(json_integer_value(json_object_get(r, "diff")), 1);
	assert_string_equal(json_string_value(json_array_get(json_object_get(d, "only_a"), 0)), "k=3");
	assert_string_equal(json_string_value(json_array_get(json_object_get(d, "only_b"), 0)), "k=4");
	json_decref(d);
	o.min_change = 0.10;
	assert_int_equal(ccmm_diff(a, "a", b, "b", &o, &d, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(d, "changed")), 0);
	json_decref(d);
	assert_int_equal(ccmm_diff(a, "a", c, "c", &o, &d, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "vary different keys"));
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* ---- time series -------------------------------------------------------------------------------- */

/* A sample at every multiple of the interval and one at the end; the conversions counted as they happen. */
static void test_series(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	const struct ccmm_series *s;
	size_t n, conv = SIZE_MAX;

	if (ccmm_job_load("t.job", guest_job, NULL, &job, &err))
		fail_msg("%s", err.msg);
	job->interval_ns = 5000;
	assert_int_equal(ccmm_job_run(job, &run), 0);
	s = run->series;
	assert_non_null(s);
	n = ccmm_series_samples(s);
	assert_int_equal(n, run->end_ns / 5000 + 1 + (run->end_ns % 5000 ? 1 : 0));
	for (size_t i = 0; i + 1 < n; i++)
		assert_int_equal(ccmm_series_time(s, i), i * 5000);
	assert_int_equal(ccmm_series_time(s, n - 1), run->end_ns);
	for (size_t k = 0; k < ccmm_series_count_nr(s); k++) {
		struct ccmm_series_info in;

		ccmm_series_info(s, k, &in);
		if (!strcmp(in.name, "cc.conversions")) {
			conv = k;
			assert_true(in.counter);
			assert_int_equal(in.mark, CCMM_MARK_CONVERSION);
		}
	}
	assert_true(conv != SIZE_MAX);
	/* 16 pages decrypted, then encrypted: 0 at the start, 32 at the end, never going down */
	assert_int_equal((int)ccmm_series_value(s, conv, 0), 0);
	assert_int_equal((int)ccmm_series_value(s, conv, n - 1), 32);
	for (size_t i = 1; i < n; i++)
		assert_true(ccmm_series_value(s, conv, i) >= ccmm_series_value(s, conv, i - 1));
	ccmm_run_free(run);
	/* threads mode samples nothing */
	job->g.mode = CCMM_RUN_THREADS;
	assert_int_equal(ccmm_job_run(job, &run), 0);
	assert_null(run->series);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/* ---- attribution and latency -------------------------------------------------------------------- */

static const char dma_job[] = "[global]\nplatform = default\n"
			      "[driver]\nactor = dma_driver\ndevice = virtio-blk0\nop = probe\n"
			      "op = dma_set_mask_and_coherent 64\nop = alloc buf 16k\nop = write buf pattern=0x11\n"
			      "op = dma_map_single out buf len=8k dir=to_device\nop = mmio_write 0x10 len=4 pattern=0x1\n"
			      "op = dma_unmap_single out\nop = remove\n";

/* Bounce bytes, exits and conversions land on the device the actor drives; its twin bounces nothing. */
static void test_attribution(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	struct ccmm_ctx *c;
	char arg[512];
	struct ccmm_setting s;

	if (ccmm_job_load("t.job", dma_job, NULL, &job, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	c = &job->actors[0]->ctx;
	assert_int_equal(c->attr_dev, 1); /* virtio-blk0 is the platform's first device */
	assert_int_equal(c->attr_n[0][CCMM_ATTR_BOUNCE], c->ctr[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)]);
	assert_int_equal(c->attr_n[0][CCMM_ATTR_BOUNCE], 8192);
	assert_int_equal(c->attr_ns[0][CCMM_ATTR_BOUNCE], c->cost_ns[CCMM_COST_AT(swiotlb, swiotlb_bounce_mbps)]);
	assert_true(c->attr_ns[0][CCMM_ATTR_EXIT] >= run->m->cost[CCMM_COST_ve_ns]); /* the MMIO write's #VE */
	for (int d = 1; d < CCMM_ATTR_DEVS; d++)
		for (int k = 0; k < CCMM_ATTR_NR; k++)
			assert_int_equal(c->attr_ns[d][k], 0);
	ccmm_run_free(run);
	ccmm_job_free(job);

	snprintf(arg, sizeof(arg), "platform=%s/platforms/tdx-guest-baseline.ini", SRC);
	set(&s, arg);
	if (ccmm_job_load_set("t.job", dma_job, NULL, &s, 1, &job, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	c = &job->actors[0]->ctx;
	assert_int_equal(c->attr_n[0][CCMM_ATTR_BOUNCE], 0);
	assert_int_equal(c->attr_ns[0][CCMM_ATTR_EXIT], 0);
	assert_int_equal(c->attr_ns[0][CCMM_ATTR_CONVERSION], 0);
	assert_true(c->attr_ns[0][CCMM_ATTR_OTHER] > 0);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/* A replay's per-I/O latency: fio's clat_ns shape, N and the percentiles in order. */
static void test_replay_latency(void **state)
{
	char text[1024];
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *j, *clat;
	json_int_t prev = 0;
	static const char *const keys[] = { "1.000000", "50.000000", "90.000000", "99.000000", "99.900000", "99.990000" };

	snprintf(text, sizeof(text),
		 "[global]\nplatform = default\n[disk]\nactor = virtio_blk_replay\ndevice = virtio-blk0\n"
		 "iolog = %s/iologs/fio-randrw.v3.log\nqueue_depth = 16\n",
		 SRC);
	if (ccmm_job_load("t.job", text, NULL, &job, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	assert_int_equal(ccmm_report_json(run, f), 0);
	fclose(f);
	j = json_loads(buf, 0, NULL);
	free(buf);
	assert_non_null(j);
	clat = ccmm_jpath_get(j, "jobs.disk.read.clat_ns");
	assert_non_null(clat);
	assert_int_equal(json_integer_value(json_object_get(clat, "N")), 79);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "jobs.disk.read.total_ios")), 79);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "jobs.disk.write.clat_ns.N")), 50);
	assert_int_equal(json_integer_value(ccmm_jpath_get(j, "jobs.disk.sync.lat_ns.N")), 3);
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(keys); i++) {
		json_int_t v = json_integer_value(json_object_get(json_object_get(clat, "percentile"), keys[i]));

		assert_true(v >= prev);
		assert_true(v >= json_integer_value(json_object_get(clat, "min")));
		assert_true(v <= json_integer_value(json_object_get(clat, "max")));
		prev = v;
	}
	/* the nearest rank of 79: p1 is the smallest, p99.9 the largest */
	assert_int_equal(json_integer_value(ccmm_jpath_get(clat, "percentile.1.000000")),
			 json_integer_value(json_object_get(clat, "min")));
	assert_int_equal(json_integer_value(ccmm_jpath_get(clat, "percentile.99.900000")),
			 json_integer_value(json_object_get(clat, "max")));
	json_decref(j);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/* ---- baselines ------------------------------------------------------------------------------------ */

static struct ccmm_platform *plat(const char *name)
{
	char path[512];
	struct ccmm_platform *p;
	struct ccmm_error err;

	snprintf(path, sizeof(path), "%s/platforms/%s", SRC, name);
	if (ccmm_platform_load(path, &p, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	return p;
}

/* Every shipped confidential platform has a twin in mode none with the same CPUs, memory, devices and IOMMUs. */
static void test_baselines(void **state)
{
	DIR *d;
	struct dirent *e;
	size_t twins = 0;
	char dir[512];

	snprintf(dir, sizeof(dir), "%s/platforms", SRC);
	d = opendir(dir);
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t n = strlen(e->d_name);
		char twin[300];
		struct ccmm_platform *p, *b;
		bool epc = false;

		if (n < 5 || strcmp(e->d_name + n - 4, ".ini") || strstr(e->d_name, "-baseline"))
			continue;
		p = plat(e->d_name);
		for (size_t i = 0; i < p->nr_ranges; i++)
			epc |= p->ranges[i].kind == CCMM_RANGE_EPC;
		if (p->mode == CCMM_CC_NONE && !epc) {
			ccmm_platform_free(p);
			continue;
		}
		snprintf(twin, sizeof(twin), "%.*s-baseline.ini", (int)(n - 4), e->d_name);
		b = plat(twin);
		twins++;
		assert_int_equal(b->mode, CCMM_CC_NONE);
		assert_int_equal(b->cpus, p->cpus);
		assert_int_equal(b->nr_nodes, p->nr_nodes);
		for (unsigned k = 0; k < p->nr_nodes; k++)
			assert_int_equal(ccmm_platform_ram(b, (int)k), ccmm_platform_ram(p, (int)k));
		assert_int_equal(b->nr_devices, p->nr_devices);
		for (size_t k = 0; k < p->nr_devices; k++) {
			assert_string_equal(b->devices[k].name, p->devices[k].name);
			assert_int_equal(b->devices[k].cls, p->devices[k].cls);
			assert_int_equal(b->devices[k].vendor, p->devices[k].vendor);
			assert_int_equal(b->devices[k].device_id, p->devices[k].device_id);
			assert_int_equal(b->devices[k].dma_mask_bits, p->devices[k].dma_mask_bits);
			assert_int_equal(b->devices[k].iommu, p->devices[k].iommu);
			for (int bar = 0; bar < CCMM_MAX_BARS; bar++)
				assert_int_equal(b->devices[k].bar[bar].size, p->devices[k].bar[bar].size);
		}
		assert_int_equal(b->nr_iommus, p->nr_iommus);
		/* the SGX host's twin is the same machine without EPC; the others keep what they have */
		if (p->mode != CCMM_CC_NONE) {
			size_t pe = 0, be = 0;

			for (size_t i = 0; i < p->nr_ranges; i++)
				pe += p->ranges[i].kind == CCMM_RANGE_EPC ? p->ranges[i].size : 0;
			for (size_t i = 0; i < b->nr_ranges; i++)
				be += b->ranges[i].kind == CCMM_RANGE_EPC ? b->ranges[i].size : 0;
			assert_int_equal(be, pe);
		}
		ccmm_platform_free(p);
		ccmm_platform_free(b);
	}
	closedir(d);
	assert_true(twins >= 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_setting_parse_forms),
		cmocka_unit_test(test_job_settings_apply),
		cmocka_unit_test(test_job_settings_errors),
		cmocka_unit_test(test_job_settings_add_checks),
		cmocka_unit_test(test_job_settings_platform),
		cmocka_unit_test(test_jpath),
		cmocka_unit_test(test_vary),
		cmocka_unit_test(test_sweep_rows),
		cmocka_unit_test(test_sweep_metric_typo),
		cmocka_unit_test(test_sweep_section),
		cmocka_unit_test(test_diff_reports),
		cmocka_unit_test(test_diff_sweeps),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_attribution),
		cmocka_unit_test(test_replay_latency),
		cmocka_unit_test(test_baselines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
