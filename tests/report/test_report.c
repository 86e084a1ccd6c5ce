// SPDX-License-Identifier: MIT
/*
 * Reports that describe themselves (issue 14): the JSON holds every option
 * in effect, defaults included, for [global] (the engine's table and every
 * run extension's), each actor (its kind's table, loops, expect, its op
 * program) and the platform (every key of the platform reader's tables,
 * every registered cost); rules cite their seed thread; several runs in one
 * JSON; the figures as CSV.
 */
#include "helpers.h"

#include <jansson.h>
#include <unistd.h>

#include "report/report.h"
#include "scenario/scenario.h"

static struct ccmm_run *run_job(const char *name, const char *text, struct ccmm_job **jobp)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;

	if (ccmm_job_load(name, text, NULL, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	*jobp = job;
	return run;
}

static json_t *json_of(struct ccmm_run *const *runs, size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_error_t jerr;
	json_t *root;

	assert_non_null(f);
	assert_int_equal(ccmm_report_json_runs(runs, n, f), 0);
	fclose(f);
	root = json_loads(text, 0, &jerr);
	if (!root)
		fail_msg("the JSON report does not parse: %s at line %d", jerr.text, jerr.line);
	free(text);
	return root;
}

/* A table's default, as the JSON must show it when nothing set the option. */
static void assert_default(const struct ccmm_option *o, json_t *v, const char *where)
{
	if (!v)
		fail_msg("%s: option '%s' is missing from the JSON", where, o->name);
	if (!o->def) {
		return; /* no default in the table: whatever the reader leaves (0, "", false) */
	}
	switch (o->type) {
	case CCMM_OPT_U64: {
		uint64_t want;

		if (!strcmp(o->def, "none")) {
			assert_true(json_is_null(v));
			break;
		}
		assert_int_equal(ccmm_parse_u64(o->def, o->size, &want), 0);
		if (!json_is_integer(v) || (uint64_t)json_integer_value(v) != want)
			fail_msg("%s: %s is not its default %s", where, o->name, o->def);
		break;
	}
	case CCMM_OPT_BOOL: {
		bool want;

		assert_int_equal(ccmm_parse_bool(o->def, &want), 0);
		if (json_is_true(v) != want)
			fail_msg("%s: %s is not its default %s", where, o->name, o->def);
		break;
	}
	case CCMM_OPT_STR:
	case CCMM_OPT_ENUM:
		if (!json_is_string(v) || strcasecmp(json_string_value(v), o->def))
			fail_msg("%s: %s is '%s', not its default '%s'", where, o->name,
				 json_is_string(v) ? json_string_value(v) : "(not a string)", o->def);
		break;
	case CCMM_OPT_RANGE:
		assert_true(json_is_array(v) && json_array_size(v) == 2);
		break;
	}
}

/* The default job: every table entry is in the JSON with its default, every platform key and cost too. */
static void test_json_every_option_in_effect(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	json_t *root, *g, *plat, *costs;
	const struct ccmm_run_ext *x;
	const struct ccmm_cost_info *c;
	const struct ccmm_platform_section *sec;
	size_t ngopts = 0;

	assert_int_equal(ccmm_job_default(&job, &(struct ccmm_error){ 0 }), 0);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	root = json_of(&run, 1);
	g = json_object_get(root, "global options");
	assert_non_null(g);
	/* [global]: the engine's table (platform is set by the default job) and every run extension's */
	for (const struct ccmm_option *o = ccmm_job_global_options(); o->name; o++, ngopts++)
		if (strcmp(o->name, "platform"))
			assert_default(o, json_object_get(g, o->name), "[global]");
	assert_string_equal(json_string_value(json_object_get(g, "platform")), "default");
	for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++)
		for (const struct ccmm_option *o = x->options; o && o->name; o++, ngopts++)
			assert_default(o, json_object_get(g, o->name), x->name);
	assert_true(json_is_array(json_object_get(g, "expect")));
	assert_int_equal(json_object_size(g), ngopts + 1);
	/* each actor: its kind's options, loops, expect and the program */
	for (size_t a = 0; a < job->nr_actors; a++) {
		json_t *ja = json_array_get(json_object_get(root, "jobs"), a), *jo = json_object_get(ja, "job options");
		const struct ccmm_actor *actor = job->actors[a];

		assert_non_null(jo);
		assert_string_equal(json_string_value(json_object_get(jo, "actor")), actor->kind->name);
		for (const struct ccmm_option *o = actor->kind->options; o && o->name; o++)
			if (!json_object_get(jo, o->name))
				fail_msg("[%s]: option %s missing", actor->name, o->name);
		assert_int_equal(json_integer_value(json_object_get(jo, "loops")), 1);
		assert_int_equal(json_array_size(json_object_get(jo, "op")), actor->nr_ops);
		assert_int_equal(json_array_size(json_object_get(jo, "expect")), actor->nr_expect);
	}
	/* the platform: every key of [platform], [device:], [iommu:] under its name; every cost */
	plat = json_object_get(root, "platform");
	assert_non_null(plat);
	for (size_t i = 0; (sec = ccmm_platform_section_at(i)); i++) {
		json_t *holder = NULL;

		if (!strcmp(sec->name, "platform"))
			holder = plat;
		else if (!strcmp(sec->name, "device:NAME"))
			holder = json_array_get(json_object_get(plat, "devices"), 0);
		else if (!strcmp(sec->name, "node:N"))
			holder = json_array_get(json_object_get(plat, "nodes"), 0);
		if (!holder)
			continue; /* ranges, EPC, IOMMUs: the default platform has none to show; [cost] below */
		for (const struct ccmm_option *o = sec->options; o->name; o++) {
			/* bases are where the layout put them (the "ranges" list), BARs are the "bars" list */
			if (!strcmp(o->name, "base") || !strncmp(o->name, "bar", 3))
				continue;
			if (!json_object_get(holder, o->name))
				fail_msg("platform [%s]: key %s missing from the JSON", sec->name, o->name);
		}
	}
	assert_string_equal(json_string_value(json_object_get(plat, "mode")), "tdx");
	assert_true(json_array_size(json_object_get(plat, "ranges")) >= 3);
	costs = json_object_get(plat, "cost");
	for (unsigned i = 0; (c = ccmm_cost_at(i, NULL)); i++) {
		json_t *v = json_object_get(costs, c->name);

		if (!v)
			fail_msg("cost %s missing from the platform's JSON", c->name);
		assert_int_equal(json_integer_value(v), run->m->cost[i]);
	}
	assert_int_equal(json_object_size(costs), ccmm_cost_nr());
	json_decref(root);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/* What a job sets is what the JSON says: [global] of the engine and of a run extension, actor options, costs. */
static void test_json_options_set(void **state)
{
	static const char text[] = "[global]\n"
				   "seed = 9\n"
				   "sgx_reclaim = global\n"
				   "skip_tlb_flush = yes\n"
				   "swap = 8k\n"
				   "expect = access_hole:0\n"
				   "[t]\n"
				   "actor = guest_task\n"
				   "node = 1\n"
				   "loops = 2\n"
				   "op = alloc b 4k-8k\n"
				   "op = free b\n";
	struct ccmm_job *job;
	struct ccmm_run *run = run_job("set.job", text, &job);
	json_t *root = json_of(&run, 1), *g = json_object_get(root, "global options");
	json_t *jo = json_object_get(json_array_get(json_object_get(root, "jobs"), 0), "job options");

	assert_int_equal(json_integer_value(json_object_get(g, "seed")), 9);
	assert_string_equal(json_string_value(json_object_get(g, "sgx_reclaim")), "global");
	assert_true(json_is_true(json_object_get(g, "skip_tlb_flush")));
	assert_int_equal(json_integer_value(json_object_get(g, "swap")), 8192);
	assert_string_equal(json_string_value(json_array_get(json_object_get(g, "expect"), 0)), "access_hole:0");
	assert_int_equal(json_integer_value(json_object_get(jo, "node")), 1);
	assert_int_equal(json_integer_value(json_object_get(jo, "loops")), 2);
	assert_string_equal(json_string_value(json_array_get(json_object_get(jo, "op"), 0)), "alloc name=b size=4k-8k zero=no");
	assert_string_equal(json_string_value(json_array_get(json_object_get(jo, "op"), 1)), "free obj=b");
	json_decref(root);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/* A platform's [cost] line is the value the JSON shows, beside the defaults of the others. */
static void test_json_platform_costs(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	json_t *root, *costs;
	char dir[] = "/tmp/ccmm-report-XXXXXX", path[128];
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.ini", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[platform]\nmode = sev\n[node:0]\nmem = 1g\n[cost]\ntlb_flush_ns = 777\n", f);
	fclose(f);
	if (ccmm_job_load("c.job", "[t]\nactor = guest_task\nop = alloc b 4k\n", path, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	root = json_of(&run, 1);
	costs = json_object_get(json_object_get(root, "platform"), "cost");
	assert_int_equal(json_integer_value(json_object_get(costs, "tlb_flush_ns")), 777);
	assert_int_equal(json_integer_value(json_object_get(costs, "page_fault_ns")), ccmm_cost_info[CCMM_COST_page_fault_ns].def);
	assert_string_equal(json_string_value(json_object_get(json_object_get(root, "platform"), "mode")), "sev");
	json_decref(root);
	ccmm_run_free(run);
	ccmm_job_free(job);
	unlink(path);
	rmdir(dir);
}

/* Rules cite their seed thread by number and subject; no bare "seed" key that reads like the random seed. */
static void test_seed_threads(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	json_t *root, *v, *ev = NULL;
	char *text = NULL;
	size_t len = 0, i;
	FILE *f;

	assert_non_null(ccmm_seed_thread_subject("004"));
	assert_non_null(strstr(ccmm_seed_thread_subject("000"), "TTM"));
	assert_null(ccmm_seed_thread_subject("005"));
	assert_null(ccmm_seed_thread_subject(""));
	/* every rule's seed thread is one of them */
	for (i = 0; ccmm_rule_at(i); i++)
		if (ccmm_rule_at(i)->seed[0])
			assert_non_null(ccmm_seed_thread_subject(ccmm_rule_at(i)->seed));
	assert_int_equal(ccmm_job_default(&job, &(struct ccmm_error){ 0 }), 0);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	root = json_of(&run, 1);
	json_array_foreach(json_object_get(root, "jobs"), i, v)
		if (!ev)
			ev = json_array_get(json_object_get(v, "violations"), 0);
	assert_non_null(ev);
	assert_null(json_object_get(ev, "seed"));
	assert_string_equal(json_string_value(json_object_get(ev, "seed_thread")), "004");
	assert_string_equal(json_string_value(json_object_get(ev, "seed_thread_subject")), ccmm_seed_thread_subject("004"));
	json_decref(root);
	f = open_memstream(&text, &len);
	assert_int_equal(ccmm_report_text(run, f, 0), 0);
	fclose(f);
	assert_non_null(strstr(text, "from: seed thread 004 (\""));
	assert_null(strstr(text, "[seed "));
	free(text);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/* Several runs: one JSON with "runs" in order and the worst exit status; one run keeps the single shape. */
static void test_json_runs(void **state)
{
	struct ccmm_job *jobs[2];
	struct ccmm_run *runs[2];
	json_t *root;

	runs[0] = run_job("ok.job", "[t]\nactor = guest_task\nop = alloc b 4k\n", &jobs[0]);
	runs[1] = run_job("bad.job", "[t]\nactor = guest_task\nop = alloc b 4k\nop = read b verify=0x11\n", &jobs[1]);
	root = json_of(runs, 2);
	assert_int_equal(json_array_size(json_object_get(root, "runs")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(root, "runs"), 0), "job file")),
			    "ok.job");
	assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(root, "runs"), 1), "job file")),
			    "bad.job");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(root, "result"), "exit_status")), 1);
	assert_non_null(json_object_get(root, "ccmm version"));
	json_decref(root);
	root = json_of(runs, 1);
	assert_null(json_object_get(root, "runs"));
	assert_string_equal(json_string_value(json_object_get(root, "job file")), "ok.job");
	json_decref(root);
	for (int i = 0; i < 2; i++) {
		ccmm_run_free(runs[i]);
		ccmm_job_free(jobs[i]);
	}
}

/* CSV: the header, one figure a row, RFC 4180 quoting, the figures the run counted. */
static void test_csv(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run = run_job("a,\"b\".job", "[t]\nactor = guest_task\nop = alloc b 8k\nop = write b\n", &job);
	char *text = NULL, line[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int rows = 0, ops = 0, bytes = 0, status = 0;

	assert_int_equal(ccmm_report_csv(&run, 1, f), 0);
	fclose(f);
	f = fmemopen(text, len, "r");
	assert_non_null(fgets(line, sizeof(line), f));
	assert_string_equal(line, "job,actor,kind,figure,value\n");
	while (fgets(line, sizeof(line), f)) {
		rows++;
		if (strncmp(line, "\"a,\"\"b\"\".job\",", 14))
			fail_msg("job name not quoted as RFC 4180 says: %s", line);
		ops += !strcmp(line + 14, "t,guest_task,ops,2\n");
		bytes += !strcmp(line + 14, "t,guest_task,counter.bytes_written,8192\n");
		status += !strcmp(line + 14, ",,result.exit_status,0\n");
	}
	fclose(f);
	free(text);
	assert_true(rows > 8);
	assert_int_equal(ops, 1);
	assert_int_equal(bytes, 1);
	assert_int_equal(status, 1);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/*
 * CSV: the check= lines' results (a CSV reader sees why a run exits 1):
 * result.checks_failed, and per check, in the job's order, its .passed (1
 * or 0) and the figure it compared (.got), under its actor.
 */
static void test_csv_checks(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run = run_job("c.job",
				       "[t]\nactor = guest_task\nop = alloc b 8k\nop = write b\n"
				       "check = .counters.bytes_written == 4k\ncheck = .counters.bytes_written >= 8k\n",
				       &job);
	char *text = NULL, line[256];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	const char *want[] = {
		"c.job,,,result.checks_failed,1\n",
		"c.job,t,guest_task,check[c.job:5].passed,0\n",
		"c.job,t,guest_task,check[c.job:5].got,8192\n",
		"c.job,t,guest_task,check[c.job:6].passed,1\n",
		"c.job,t,guest_task,check[c.job:6].got,8192\n",
	};
	size_t next = 0;
	int status = 0;

	(void)state;
	assert_int_equal(ccmm_report_csv(&run, 1, f), 0);
	fclose(f);
	f = fmemopen(text, len, "r");
	while (fgets(line, sizeof(line), f)) {
		if (next < sizeof(want) / sizeof(want[0]) && !strcmp(line, want[next]))
			next++;
		status += !strcmp(line, "c.job,,,result.exit_status,1\n");
	}
	fclose(f);
	if (next != sizeof(want) / sizeof(want[0]))
		fail_msg("row %zu not found in order: %s", next, want[next]);
	assert_int_equal(status, 1);
	free(text);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_every_option_in_effect),
		cmocka_unit_test(test_json_options_set),
		cmocka_unit_test(test_json_platform_costs),
		cmocka_unit_test(test_seed_threads),
		cmocka_unit_test(test_json_runs),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_csv_checks),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
