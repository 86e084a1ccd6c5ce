// SPDX-License-Identifier: MIT
/*
 * The encryption engine's two modes show every reader the same bytes: each
 * shipped job (every .job file in jobs/ and tests/jobs/; one test case per job) runs
 * with mee=eager (every access through the cipher) and mee=on-demand
 * (plaintext tagged with the writer's key, the cipher only when another key
 * observes a line), with the read digest on. The digests (every byte read
 * out of modeled memory, with its address and key) and the JSON reports
 * (every figure: modeled time, costs, counters, events, subsystem
 * statistics, the verdict; less the wall-clock fields) must be equal.
 *
 * Jobs written for threads mode run in sim mode here: on real threads the
 * interleaving, and so what is read, differs from run to run whatever the
 * engine does. The suite runs the jobs in two shards (two test programs),
 * so that two cores share the work.
 */
#include "helpers.h"

#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>
#include <inttypes.h>
#include <jansson.h>

#include "report/report.h"
#include "scenario/scenario.h"

#ifndef CCMM_SOURCE_DIR
#define CCMM_SOURCE_DIR "."
#endif

struct outcome {
	json_t *report;
	const char *digest;
	uint64_t reads, bytes, mismatched;
};

/* In a child process: run the job at @path in engine mode @mee, its JSON report to @fd. */
static void child_run(const char *path, enum ccmm_mee_mode mee, int fd)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	FILE *f;

	if (ccmm_job_load(path, NULL, NULL, &job, &err) || ccmm_job_set_global(job, "mee", ccmm_mee_mode_name(mee), &err) ||
	    ccmm_job_set_global(job, "read_digest", "yes", &err) ||
	    ccmm_job_set_global(job, "mode", "sim", &err) /* see the header */) {
		fprintf(stderr, "%s:%d: %s\n", err.file, err.line, err.msg);
		_exit(2);
	}
	if (ccmm_job_run(job, &run))
		_exit(3);
	run->wall_s = 0;
	f = fdopen(fd, "w");
	if (!f || ccmm_report_json(run, f) || fclose(f))
		_exit(4);
	ccmm_run_free(run);
	ccmm_job_free(job);
	_exit(0);
}

/*
 * Run the job at @path in engine mode @mee, each run in a process of its
 * own (some subsystems number things process-wide, as the kernel numbers
 * fence contexts, so a second run in one process would not be the same
 * run); its report, wall-clock fields removed, and read digest.
 */
static void run_job(const char *path, enum ccmm_mee_mode mee, struct outcome *o)
{
	json_error_t jerr;
	json_t *kernel, *dg, *gopt;
	int fds[2], status;
	pid_t pid;
	FILE *f;

	fflush(NULL);
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		close(fds[0]);
		child_run(path, mee, fds[1]);
	}
	close(fds[1]);
	f = fdopen(fds[0], "r");
	assert_non_null(f);
	o->report = json_loadf(f, 0, &jerr);
	fclose(f);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		fail_msg("%s (mee=%s): the run failed (status 0x%x)", path, ccmm_mee_mode_name(mee), status);
	if (!o->report)
		fail_msg("%s: the JSON report does not parse: %s", path, jerr.text);
	json_object_del(o->report, "timestamp");
	json_object_del(o->report, "timestamp_ms");
	json_object_del(o->report, "time");
	kernel = json_object_get(o->report, "kernel");
	assert_non_null(kernel);
	assert_string_equal(json_string_value(json_object_get(kernel, "mee")), ccmm_mee_mode_name(mee));
	json_object_del(kernel, "mee");
	/* the report's "global options" list every option in effect, the mode among them */
	gopt = json_object_get(o->report, "global options");
	assert_non_null(gopt);
	assert_string_equal(json_string_value(json_object_get(gopt, "mee")), ccmm_mee_mode_name(mee));
	json_object_del(gopt, "mee");
	dg = json_object_get(kernel, "read_digest");
	assert_non_null(dg);
	o->digest = json_string_value(json_object_get(dg, "digest"));
	assert_non_null(o->digest);
	o->reads = (uint64_t)json_integer_value(json_object_get(dg, "reads"));
	o->bytes = (uint64_t)json_integer_value(json_object_get(dg, "bytes"));
	o->mismatched = (uint64_t)json_integer_value(json_object_get(dg, "mismatched"));
}

/* The first top-level key whose values differ, for the failure message. */
static const char *first_difference(json_t *a, json_t *b)
{
	const char *key;
	json_t *v;

	json_object_foreach(a, key, v) {
		if (!json_equal(v, json_object_get(b, key)))
			return key;
	}
	return "(a key only in the on-demand report)";
}

/* Totals over every job, checked at the end: the comparison was not vacuous. */
static uint64_t total_reads, total_bytes, total_mismatched;

static void test_job_both_modes(void **state)
{
	const char *path = *state;
	struct outcome eager, lazy;

	run_job(path, CCMM_MEE_EAGER, &eager);
	run_job(path, CCMM_MEE_ON_DEMAND, &lazy);
	if (strcmp(eager.digest, lazy.digest) || eager.reads != lazy.reads || eager.bytes != lazy.bytes)
		fail_msg("%s: the readers saw different bytes: eager %s (%" PRIu64 " reads, %" PRIu64 " bytes), on-demand %s (%" PRIu64
			 " reads, %" PRIu64 " bytes)",
			 path, eager.digest, eager.reads, eager.bytes, lazy.digest, lazy.reads, lazy.bytes);
	if (!json_equal(eager.report, lazy.report))
		fail_msg("%s: the reports differ, first in \"%s\"", path, first_difference(eager.report, lazy.report));
	total_reads += eager.reads;
	total_bytes += eager.bytes;
	total_mismatched += eager.mismatched;
	json_decref(eager.report);
	json_decref(lazy.report);
}

static unsigned shard, shards = 1;

static void test_the_jobs_read_data(void **state)
{
	(void)state;
	/* the shipped jobs move real data, and (all of them) read lines under another key than the writer's */
	print_message("# %" PRIu64 " reads, %" PRIu64 " bytes, %" PRIu64 " of them under another key, equal in both modes\n",
		      total_reads, total_bytes, total_mismatched);
	assert_true(total_reads > 10000);
	assert_true(total_bytes > 10 * 1024 * 1024);
	if (shards == 1)
		assert_true(total_mismatched > 0);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.job in @dir, appended to *@paths. */
static void list_jobs(const char *dir, char ***paths, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (!d) {
		fprintf(stderr, "cannot open %s\n", dir);
		exit(1);
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);

		if (len < 5 || strcmp(e->d_name + len - 4, ".job"))
			continue;
		*paths = realloc(*paths, (*n + 1) * sizeof(**paths));
		if (!*paths || asprintf(&(*paths)[*n], "%s/%s", dir, e->d_name) < 0)
			exit(1);
		(*n)++;
	}
	closedir(d);
}

/* usage: test_mee-differential [SHARD/SHARDS]: the jobs whose index in name order is SHARD modulo SHARDS */
int main(int argc, char **argv)
{
	char **paths = NULL;
	size_t n = 0, nt = 0;
	struct CMUnitTest *tests;
	int ret;

	if (argc > 1 && (sscanf(argv[1], "%u/%u", &shard, &shards) != 2 || !shards || shard >= shards)) {
		fprintf(stderr, "usage: %s [SHARD/SHARDS]\n", argv[0]);
		return 2;
	}
	list_jobs(CCMM_SOURCE_DIR "/jobs", &paths, &n);
	list_jobs(CCMM_SOURCE_DIR "/tests/jobs", &paths, &n);
	qsort(paths, n, sizeof(*paths), cmp_str);
	tests = calloc(n + 1, sizeof(*tests));
	if (!tests)
		return 1;
	for (size_t i = 0; i < n; i++) {
		if (i % shards != shard)
			continue;
		/* "jobs/x.job" or "tests/jobs/x.job" */
		tests[nt].name = paths[i] + strlen(CCMM_SOURCE_DIR) + 1;
		tests[nt].test_func = test_job_both_modes;
		tests[nt].initial_state = paths[i];
		nt++;
	}
	tests[nt].name = "test_the_jobs_read_data";
	tests[nt].test_func = test_the_jobs_read_data;
	ret = _cmocka_run_group_tests("mee-differential", tests, nt + 1, NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	free(tests);
	return ret;
}
