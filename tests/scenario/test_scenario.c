// SPDX-License-Identifier: MIT
/*
 * The scenario engine: determinism for a seed, ranges, the modeled clock
 * across signal/wait, expectations (per actor, exact counts, [global]), op
 * errors and run errors as the verdict sees them, and both reports.
 */
#include "helpers.h"

#include <jansson.h>
#include <unistd.h>

#include "report/report.h"
#include "scenario/scenario.h"

static struct ccmm_job *load(const char *text)
{
	struct ccmm_job *job;
	struct ccmm_error err;

	if (ccmm_job_load("t.job", text, NULL, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	return job;
}

static struct ccmm_run *run_text(const char *text, struct ccmm_job **jobp, struct ccmm_run_summary *s)
{
	struct ccmm_job *job = load(text);
	struct ccmm_run *run;

	assert_int_equal(ccmm_job_run(job, &run), 0);
	ccmm_run_summarize(run, s);
	*jobp = job;
	return run;
}

static void done(struct ccmm_run *run, struct ccmm_job *job)
{
	ccmm_run_free(run);
	ccmm_job_free(job);
}

static void test_default_job_is_deterministic(void **state)
{
	struct ccmm_job *a, *b;
	struct ccmm_run *ra, *rb;
	struct ccmm_error err;
	struct ccmm_run_summary s;

	assert_int_equal(ccmm_job_default(&a, &err), 0);
	assert_int_equal(ccmm_job_default(&b, &err), 0);
	assert_int_equal(ccmm_job_run(a, &ra), 0);
	assert_int_equal(ccmm_job_run(b, &rb), 0);
	ccmm_run_summarize(ra, &s);
	assert_int_equal(s.status, 0);
	assert_true(s.violations >= 3);
	assert_int_equal(s.unexpected, 0);
	assert_int_equal(ra->end_ns, rb->end_ns);
	assert_int_equal(ccmm_events_count(ra->m), ccmm_events_count(rb->m));
	for (size_t i = 0; i < ccmm_events_count(ra->m); i++) {
		struct ccmm_event x, y;

		assert_int_equal(ccmm_event_get(ra->m, i, &x), 0);
		assert_int_equal(ccmm_event_get(rb->m, i, &y), 0);
		assert_ptr_equal(x.rule, y.rule);
		assert_int_equal(x.pa, y.pa);
		assert_int_equal(x.time_ns, y.time_ns);
		assert_int_equal(x.actor, y.actor);
	}
	done(ra, a);
	done(rb, b);
}

static const char ranged[] = "[global]\nplatform=default\nseed=%d\n"
			     "[t]\nactor=guest_task\nloops=20\n"
			     "op=alloc b 16k\nop=write b len=1k-16k\nop=free b\n";

static uint64_t ranged_time(int seed)
{
	char text[256];
	struct ccmm_job *job;
	struct ccmm_run_summary s;
	struct ccmm_run *run;
	uint64_t t;

	snprintf(text, sizeof(text), ranged, seed);
	run = run_text(text, &job, &s);
	assert_int_equal(s.status, 0);
	t = run->end_ns;
	assert_int_equal(job->actors[0]->ops_done, 60);
	done(run, job);
	return t;
}

static void test_ranges_follow_the_seed(void **state)
{
	/* the write length is drawn per use: same seed, same modeled time; another seed, another */
	assert_int_equal(ranged_time(5), ranged_time(5));
	assert_int_not_equal(ranged_time(5), ranged_time(6));
}

static void test_clock_through_signal_wait(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run_summary s;
	struct ccmm_run *run = run_text("[global]\nplatform=default\n"
					"[a]\nactor=guest_task\nop=sleep 5ms\nop=signal go\n"
					"[b]\nactor=guest_task\nop=wait go\nop=sleep 1us\n",
					&job, &s);

	assert_int_equal(s.status, 0);
	/* b cannot go on before a signalled at 5 ms */
	assert_int_equal(job->actors[0]->ctx.now_ns, 5000000);
	assert_int_equal(job->actors[1]->ctx.now_ns, 5001000);
	assert_int_equal(run->end_ns, 5001000);
	done(run, job);
}

static void test_verdicts(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run_summary s;
	struct ccmm_run *run;

	/* an expected violation that happens: 0 */
	run = run_text("[global]\nplatform=default\n[t]\nactor=guest_task\nop=alloc b 4k\n"
		       "op=set_memory_decrypted b off=1 ret=EINVAL\nexpect=conversion_unaligned\n",
		       &job, &s);
	assert_int_equal(s.status, 0);
	assert_int_equal(s.expected, 1);
	done(run, job);
	/* the wrong count: 1, one expectation not met */
	run = run_text("[global]\nplatform=default\n[t]\nactor=guest_task\nop=alloc b 4k\n"
		       "op=set_memory_decrypted b off=1 ret=EINVAL\nexpect=conversion_unaligned:2\n",
		       &job, &s);
	assert_int_equal(s.status, 1);
	assert_int_equal(s.missing, 1);
	done(run, job);
	/* not expected at all: 1 */
	run = run_text("[global]\nplatform=default\n[t]\nactor=guest_task\nop=alloc b 4k\n"
		       "op=set_memory_decrypted b off=1 ret=EINVAL\n",
		       &job, &s);
	assert_int_equal(s.status, 1);
	assert_int_equal(s.unexpected, 1);
	done(run, job);
	/* expected in [global]: 0; and an expectation nobody meets: 1 */
	run = run_text("[global]\nplatform=default\nexpect=conversion_unaligned\n[t]\nactor=guest_task\nop=alloc b 4k\n"
		       "op=set_memory_decrypted b off=1 ret=EINVAL\n",
		       &job, &s);
	assert_int_equal(s.status, 0);
	done(run, job);
	run = run_text("[global]\nplatform=default\n[t]\nactor=guest_task\nop=alloc b 4k\nexpect=cache_alias\n", &job, &s);
	assert_int_equal(s.status, 1);
	assert_int_equal(s.missing, 1);
	done(run, job);
	/* an op that returns what ret= did not announce: an op error, 1 */
	run = run_text("[global]\nplatform=default\n[t]\nactor=guest_task\nop=alloc b 4k\nop=free b\nop=alloc c 4k ret=ENOMEM\n",
		       &job, &s);
	assert_int_equal(s.status, 1);
	assert_int_equal(s.op_errors, 1);
	assert_int_equal(job->actors[0]->op_errors, 1);
	done(run, job);
	/* a run error: 2 */
	run = run_text("[global]\nplatform=default\n[t]\nactor=guest_task\nop=wait never\n", &job, &s);
	assert_int_equal(s.status, 2);
	assert_non_null(strstr(run->error, "deadlock"));
	done(run, job);
}

static void test_threads_mode_runs(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run_summary s;
	struct ccmm_run *run = run_text("[global]\nplatform=default\nmode=threads\n"
					"[a]\nactor=guest_task\nloops=10\nop=alloc x 8k\nop=set_memory_decrypted x\nop=signal s\n"
					"op=set_memory_encrypted x\nop=free x\n"
					"[b]\nactor=guest_task\nloops=10\nop=wait s\nop=alloc y 4k\nop=free y\n",
					&job, &s);

	assert_int_equal(s.status, 0);
	assert_int_equal(job->actors[0]->ops_done, 50);
	assert_int_equal(job->actors[1]->ops_done, 30);
	done(run, job);
}

static void test_reports(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	char *text = NULL;
	size_t len = 0;
	FILE *f;
	json_t *root, *jobs, *res;
	json_error_t jerr;

	assert_int_equal(ccmm_job_default(&job, &err), 0);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	/* text: every actor, the violations with their rule and job line, the verdict */
	f = open_memstream(&text, &len);
	assert_int_equal(ccmm_report_text(run, f, 0), 0);
	fclose(f);
	assert_non_null(strstr(text, "[guest] guest_task"));
	assert_non_null(strstr(text, "[vmm] vmm"));
	assert_non_null(strstr(text, "host_write_private (expected)"));
	assert_non_null(strstr(text, "history (newest first)"));
	assert_non_null(strstr(text, "-> as expected"));
	free(text);
	/* JSON: fio's shape, parsable, with the same content */
	f = open_memstream(&text, &len);
	assert_int_equal(ccmm_report_json(run, f), 0);
	fclose(f);
	root = json_loads(text, 0, &jerr);
	if (!root)
		fail_msg("JSON report does not parse: %s at line %d", jerr.text, jerr.line);
	assert_non_null(json_object_get(root, "ccmm version"));
	assert_non_null(json_object_get(root, "timestamp"));
	assert_non_null(json_object_get(root, "global options"));
	jobs = json_object_get(root, "jobs");
	assert_true(json_is_array(jobs));
	assert_true(json_array_size(jobs) >= 3);
	assert_string_equal(json_string_value(json_object_get(json_array_get(jobs, 0), "jobname")), "guest");
	{
		json_t *vmm = NULL, *v;
		size_t i;

		json_array_foreach(jobs, i, v) if (!strcmp(json_string_value(json_object_get(v, "jobname")), "vmm")) vmm = v;
		assert_non_null(vmm);
		v = json_array_get(json_object_get(vmm, "violations"), 0);
		assert_string_equal(json_string_value(json_object_get(v, "rule")), "host_access_private");
		assert_true(json_is_true(json_object_get(v, "expected")));
		assert_non_null(json_object_get(v, "access"));
		assert_non_null(json_object_get(v, "page"));
		assert_true(json_array_size(json_object_get(v, "history")) > 0);
		assert_non_null(json_object_get(json_object_get(vmm, "counters"), "poisoned_lines"));
	}
	res = json_object_get(root, "result");
	assert_int_equal(json_integer_value(json_object_get(res, "exit_status")), 0);
	assert_int_equal(json_integer_value(json_object_get(res, "unexpected")), 0);
	json_decref(root);
	free(text);
	done(run, job);
}

static void test_platform_override(void **state)
{
	struct ccmm_job *job;
	struct ccmm_error err;

	/* the same workload on another platform file */
	assert_int_equal(ccmm_job_load("t.job", "[t]\nactor=guest_task\nop=alloc b 4k\n",
				       CCMM_SOURCE_DIR "/platforms/sev-guest.ini", &job, &err),
			 0);
	assert_int_equal(job->plat->mode, CCMM_CC_SEV);
	ccmm_job_free(job);
	assert_int_equal(ccmm_job_load("t.job", "[t]\nactor=guest_task\nop=alloc b 4k\n", "/no/such.ini", &job, &err),
			 -ENOENT);
}

/* The lockstat line of @entity for @class (lock or wait), or NULL. */
static bool lockstat_of(struct ccmm_run *run, const char *entity, const char *class, bool wait,
			struct ccmm_lock_stat *out)
{
	struct ccmm_run_lockstat l;

	for (size_t i = 0; ccmm_run_lockstat(run, i, &l); i++)
		if (!strcmp(l.entity, entity) && !strcmp(l.st.name, class) && l.st.is_wait == wait) {
			*out = l.st;
			return true;
		}
	return false;
}

static struct ccmm_job *load_file(const char *path)
{
	struct ccmm_job *job;
	struct ccmm_error err;

	if (ccmm_job_load(path, NULL, NULL, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	return job;
}

/*
 * Two importers contend on one reservation (tests/jobs/dmabuf-resv-contention):
 * b asks right after a took it, sleeps until a lets go, and its modeled
 * wait is exactly a's hold; the JSON report carries the same figures.
 */
static void test_contention_in_modeled_time(void **state)
{
	struct ccmm_job *job = load_file(CCMM_SOURCE_DIR "/tests/jobs/dmabuf-resv-contention.job");
	struct ccmm_lock_stat a, b;
	struct ccmm_run_summary s;
	struct ccmm_run *run;
	char *text = NULL;
	size_t len = 0;
	json_t *root, *cls, *c;
	json_error_t jerr;
	size_t i;
	bool found = false;
	FILE *f;

	assert_int_equal(ccmm_job_run(job, &run), 0);
	ccmm_run_summarize(run, &s);
	assert_int_equal(s.status, 0);
	assert_true(lockstat_of(run, "a", "reservation_ww_class", false, &a));
	assert_true(lockstat_of(run, "b", "reservation_ww_class", false, &b));
	assert_int_equal(a.contentions, 0);
	assert_int_equal(b.contentions, 1);
	assert_true(a.hold_max_ns >= 10000); /* it held it across the 10us sleep */
	assert_int_equal(b.wait_total_ns, a.hold_max_ns);
	assert_int_equal(b.wait_max_ns, b.wait_total_ns);
	f = open_memstream(&text, &len);
	assert_int_equal(ccmm_report_json(run, f), 0);
	fclose(f);
	root = json_loads(text, 0, &jerr);
	assert_non_null(root);
	cls = json_object_get(root, "lockstat");
	json_array_foreach(cls, i, c) {
		if (strcmp(json_string_value(json_object_get(c, "class")), "reservation_ww_class"))
			continue;
		found = true;
		assert_int_equal(json_integer_value(json_object_get(c, "contentions")), 1);
		assert_int_equal(json_integer_value(json_object_get(c, "waittime_max_ns")), (json_int_t)b.wait_max_ns);
		assert_true(json_array_size(json_object_get(c, "entities")) >= 3);
	}
	assert_true(found);
	json_decref(root);
	free(text);
	done(run, job);
}

/* A run's choices, kept past the run (a job runs once at a time). */
static uint32_t *choices_of(struct ccmm_run *run, size_t *n, uint64_t *end_ns)
{
	const uint32_t *c;
	const char *const *names;
	size_t nn;
	uint32_t *copy;

	assert_true(ccmm_run_schedule(run, &c, n, &names, &nn));
	assert_string_equal(names[0], "gpu");
	copy = malloc(*n * sizeof(*copy) + 1);
	memcpy(copy, c, *n * sizeof(*copy));
	*end_ns = run->end_ns;
	return copy;
}

/* The same plan gives the same run; a recorded schedule replays to the same interleaving. */
static void test_schedules_replay(void **state)
{
	struct ccmm_job *job = load_file(CCMM_SOURCE_DIR "/tests/jobs/dmabuf-resv-contention.job");
	struct ccmm_sched_plan p = { .kind = CCMM_PLAN_RANDOM, .seed = 5, .max_steps = 100000, .record = true };
	struct ccmm_sched_plan r;
	struct ccmm_run *run;
	uint32_t *c1, *c2, *c3;
	size_t n1, n2, n3;
	uint64_t e1, e2, e3;
	char path[] = "/tmp/ccmm-schedule-XXXXXX";
	struct ccmm_error err;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ccmm_job_run_plan(job, &p, &run), 0);
	c1 = choices_of(run, &n1, &e1);
	assert_int_equal(ccmm_schedule_write(run, path), 0);
	ccmm_run_free(run);
	assert_int_equal(ccmm_job_run_plan(job, &p, &run), 0);
	c2 = choices_of(run, &n2, &e2);
	ccmm_run_free(run);
	assert_true(n1 > 10);
	assert_int_equal(n1, n2);
	assert_memory_equal(c1, c2, n1 * sizeof(*c1));
	assert_int_equal(e1, e2);
	/* through the schedule file */
	assert_int_equal(ccmm_schedule_read(path, job, &r, &err), 0);
	assert_int_equal(r.nr_choices, n1);
	assert_int_equal(ccmm_job_run_plan(job, &r, &run), 0);
	assert_string_equal(run->error, "");
	c3 = choices_of(run, &n3, &e3);
	ccmm_run_free(run);
	assert_int_equal(n3, n1);
	assert_memory_equal(c1, c3, n1 * sizeof(*c1));
	assert_int_equal(e3, e1);
	ccmm_schedule_free(&r);
	free(c1);
	free(c2);
	free(c3);
	unlink(path);
	ccmm_job_free(job);
}

/* A schedule file that does not fit: refused at its line, or a run error when the job diverges. */
static void test_schedule_mismatch(void **state)
{
	struct ccmm_job *job = load_file(CCMM_SOURCE_DIR "/tests/jobs/dmabuf-resv-contention.job");
	char path[] = "/tmp/ccmm-schedule-XXXXXX";
	struct ccmm_sched_plan r;
	struct ccmm_error err;
	struct ccmm_run *run;
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fprintf(f, "ccmm-schedule 1\nentities gpu x b\nchoices 0\n");
	fclose(f);
	assert_int_equal(ccmm_schedule_read(path, job, &r, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	f = fopen(path, "w");
	fprintf(f, "ccmm-schedule 1\nentities gpu a b\nsteps 3\nchoices 2*3\n");
	fclose(f);
	assert_int_equal(ccmm_schedule_read(path, job, &r, &err), 0);
	/* b cannot run third: it waits for the export */
	assert_int_equal(ccmm_job_run_plan(job, &r, &run), 0);
	assert_non_null(strstr(run->error, "does not fit"));
	ccmm_run_free(run);
	ccmm_schedule_free(&r);
	f = fopen(path, "w");
	fprintf(f, "ccmm-schedule 1\nentities gpu a b\nsteps 4\nchoices 2*3\n");
	fclose(f);
	assert_int_equal(ccmm_schedule_read(path, job, &r, &err), -EINVAL); /* truncated */
	unlink(path);
	ccmm_job_free(job);
}

/* A deadlock between two actors' sleeping locks: the engine says who waits for what. */
static void test_lock_deadlock_found(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run_summary s;
	struct ccmm_run *run = run_text("[global]\nplatform=" CCMM_SOURCE_DIR "/tests/jobs/p2p-host.ini\n"
					"[gpu]\nactor=gpu\ndevice=gpu0\nvram=1m\nop=bo_create x 64k place=vram\n"
					"op=bo_create y 64k place=vram\nop=signal made\n"
					"op=lock x\nop=signal gx\nop=wait gy\nop=lock y\n"
					"[imp]\nactor=importer\nrole=rdma\ndevice=rnic0\nop=wait made\nop=wait gx\n"
					"op=lock y\nop=signal gy\nop=lock x\n",
					&job, &s);

	assert_int_equal(s.status, 2);
	assert_non_null(strstr(run->error, "deadlock: every remaining actor waits:"));
	assert_non_null(strstr(run->error, "[gpu] at line"));
	assert_non_null(strstr(run->error, "reservation_ww_class held by imp"));
	assert_non_null(strstr(run->error, "reservation_ww_class held by gpu"));
	done(run, job);
}

/*
 * A page count whose size in bytes wraps 64 bits used to pass the range
 * checks as a small range while the op looped over the full count. On every
 * confidential platform and for every op that takes pages=: refused at load
 * time at its line; a count that fits but whose range wraps past the end of
 * the address space (from the object, or with off=) is an op error (-EINVAL)
 * and the run ends normally.
 */
static void test_page_counts_never_wrap(void **state)
{
	static const char *const platforms[] = { "tdx-guest", "sev-guest", "sme-host", "snp-guest", "pseries-svm" };
	static const char *const verbs[] = {
		"set_memory_decrypted", "set_memory_encrypted", "set_memory_wc", "set_memory_uc", "set_memory_wb",
		"tdx_map_gpa @0x10000 shared", "tdx_accept", "snp_psc @0x10000 shared", "uv_share", "uv_unshare",
	};

	for (size_t p = 0; p < CCMM_ARRAY_SIZE(platforms); p++) {
		char plat[512];

		snprintf(plat, sizeof(plat), "%s/platforms/%s.ini", CCMM_SOURCE_DIR, platforms[p]);
		for (size_t v = 0; v < CCMM_ARRAY_SIZE(verbs); v++) {
			char text[512], verb[64], *sp;
			const char *args;
			struct ccmm_job *job;
			struct ccmm_run *run;
			struct ccmm_error err;
			struct ccmm_run_summary s;

			snprintf(verb, sizeof(verb), "%s", verbs[v]);
			sp = strchr(verb, ' ');
			args = sp ? strchr(verbs[v], ' ') + 1 : "buf";
			if (sp)
				*sp = '\0';
			/* 2^52 + 1 pages: 4 KiB once wrapped */
			snprintf(text, sizeof(text), "[t]\nactor=guest_task\nop=alloc buf 8k\nop=%s %s pages=4503599627370497\n", verb,
				 args);
			assert_int_equal(ccmm_job_load("t.job", text, plat, &job, &err), -EOVERFLOW);
			assert_int_equal(err.line, 4);
			if (!strstr(err.msg, "pages=4503599627370497: 4503599627370497 pages of 4 KiB do not fit"))
				fail_msg("%s on %s: %s", verbs[v], platforms[p], err.msg);
			/* a count that fits, from 64 KiB (or with off=): the range wraps, an op error */
			snprintf(text, sizeof(text), "[t]\nactor=guest_task\nop=alloc buf 8k\nop=%s %s pages=%s ret=EINVAL\n", verb,
				 v < 5 ? "buf" : sp ? strchr(verbs[v], ' ') + 1 : "@0x10000",
				 v < 5 ? "2 off=0xfffffffffffff000" : "4503599627370495");
			if (ccmm_job_load("t.job", text, plat, &job, &err))
				fail_msg("%s:%d: %s", err.file, err.line, err.msg);
			assert_int_equal(ccmm_job_run(job, &run), 0);
			ccmm_run_summarize(run, &s);
			if (s.status != 0 || s.op_errors)
				fail_msg("%s on %s: status %d, %zu op errors (%s)", verbs[v], platforms[p], s.status, s.op_errors,
					 run->error);
			done(run, job);
		}
	}
}

/*
 * Byte ranges from ops whose end wraps 64 bits are op errors (-EINVAL), never
 * ranges that pass their checks as small ones: a VFIO export of a BAR range,
 * a user mapping's size, a DMA sync's offset, a read's offset and length.
 */
static void test_byte_ranges_never_wrap(void **state)
{
	static const char *const jobs[] = {
		"[global]\nplatform=" CCMM_SOURCE_DIR "/tests/jobs/p2p-host.ini\n[v]\nactor=vfio\ndevice=vf0\n"
		"op=export b off=0xfffffffffffff000 size=8k ret=EINVAL\nop=export c off=4k size=0xfffffffffffff000 ret=EINVAL\n",
		"[t]\nactor=guest_task\nop=alloc buf 8k\nop=mmap m buf size=0xffffffffffffff00 ret=EINVAL\n"
		"op=read buf off=0xfffffffffffff000 len=8k ret=EINVAL\nop=write buf off=4k len=0xfffffffffffff001 ret=EINVAL\n",
		"[d]\nactor=dma_driver\ndevice=virtio-blk0\nop=probe\nop=dma_set_mask_and_coherent\nop=alloc buf 64k\n"
		"op=dma_map_single a buf len=4k dir=to_device\nop=dma_sync_single_for_cpu a off=0xffffffffffffffff len=2 ret=EINVAL\n"
		"op=dma_unmap_single a\n",
	};

	for (size_t i = 0; i < CCMM_ARRAY_SIZE(jobs); i++) {
		struct ccmm_job *job;
		struct ccmm_run_summary s;
		struct ccmm_run *run = run_text(jobs[i], &job, &s);

		if (s.status != 0)
			fail_msg("job %zu: status %d, %zu op errors, %zu violations (%s)", i, s.status, s.op_errors, s.violations,
				 run->error);
		done(run, job);
	}
}

/* [global] max_steps bounds a run (ops and program steps over all actors); the modeled clock never wraps. */
static void test_step_bound(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run_summary s;
	struct ccmm_run *run;

	/* 10 loops of 2 ops: 20 steps; a bound of 20 lets the run finish, 19 stops it at the op past the bound */
	run = run_text("[global]\nmax_steps=20\n[a]\nactor=guest_task\nloops=10\nop=sleep 1us\nop=signal x\n", &job, &s);
	assert_int_equal(s.status, 0);
	assert_string_equal(run->error, "");
	done(run, job);
	run = run_text("[global]\nmax_steps=19\n[a]\nactor=guest_task\nloops=10\nop=sleep 1us\nop=signal x\n", &job, &s);
	assert_int_equal(s.status, 2);
	assert_int_equal(run->error_ret, -ETIME);
	assert_string_equal(run->error, "t.job:7: the run reached its bound of 19 steps (max_steps) before every actor finished");
	assert_int_equal(job->actors[0]->ops_done, 19);
	done(run, job);
	/* threads mode counts the same way */
	run = run_text("[global]\nmode=threads\nmax_steps=3\n[a]\nactor=guest_task\nloops=10\nop=sleep 1us\n", &job, &s);
	assert_int_equal(s.status, 2);
	assert_non_null(strstr(run->error, "bound of 3 steps"));
	done(run, job);
	/* a sleep past 2^64 ns is a run error at its line, not a clock that wraps */
	run = run_text("[a]\nactor=guest_task\nop=sleep 18446744073709551615ns\nop=sleep 1ns\n", &job, &s);
	assert_int_equal(s.status, 2);
	assert_int_equal(run->error_ret, -EOVERFLOW);
	assert_non_null(strstr(run->error, "t.job:4: sleep: 1ns from 18446744073709551615 ns goes past the end"));
	done(run, job);
}

/* ---- modeled timeouts under the default plan -------------------------------------------- */

struct nap {
	struct ccmm_sched_entity se;
	struct ccmm_ctx ctx;
	uint64_t start_ns, timeout_ns, steps; /* steps: a busy entity's steps of 1 ms */
	int ret;
	int64_t left;
	uint64_t woke_ns;
	uint64_t *order;                      /* shared: the next slot's number */
	uint64_t slot;
};

static int nap_fn(void *arg)
{
	struct nap *n = arg;

	n->ctx.now_ns = n->start_ns;
	if (n->steps) {
		for (uint64_t i = 0; i < n->steps; i++) {
			n->ctx.now_ns += 1000000;
			ccmm_cond_resched();
		}
	} else {
		struct ccmm_wait_queue_head wq;

		n->left = (int64_t)n->timeout_ns;
		ccmm_init_waitqueue_head(&wq, NULL);
		ccmm_wait_event(&n->ctx, &wq, false, &n->left, 0, n->ret);
		ccmm_destroy_waitqueue_head(&wq);
	}
	n->woke_ns = n->ctx.now_ns;
	n->slot = (*n->order)++;
	return 0;
}

/*
 * Modeled timeouts (schedule_timeout) under the default plan: a sleeper
 * times out at its deadline in modeled time, its clock moved there, and
 * in time order: before a busy entity's clock passes the deadline, not
 * when nothing else can run. Three entities: one sleeps 300 ms from 5 ms
 * (its deadline 305 ms), one 100 ms from 7 ms (107 ms), one busy for a
 * second in steps of 1 ms. The 107 ms sleeper ends first, then 305 ms,
 * then the busy one at 1005 ms. (A deadline computed from a clock that is
 * not 0 once overflowed to "never".)
 */
static void test_timeouts_in_time_order(void **state)
{
	struct ccmm_machine *m = test_boot("mode=none");
	uint64_t order = 0;
	struct nap n[3] = {
		{ .start_ns = 5000000, .timeout_ns = 300000000, .order = &order },
		{ .start_ns = 7000000, .timeout_ns = 100000000, .order = &order },
		{ .start_ns = 5000000, .steps = 1000, .order = &order },
	};
	struct ccmm_sim *sim;

	(void)state;
	assert_int_equal(ccmm_sim_create(m, CCMM_SIM_FIBERS, NULL, &sim), 0);
	for (int i = 0; i < 3; i++) {
		ccmm_ctx_init(&n[i].ctx, m, i, "nap");
		ccmm_sched_entity_init(&n[i].se, "nap", i, &n[i].ctx);
		assert_int_equal(ccmm_sim_spawn(sim, &n[i].se, nap_fn, &n[i]), 0);
	}
	assert_int_equal(ccmm_sim_run(sim), 0);
	ccmm_sim_destroy(sim);
	assert_int_equal(n[0].ret, -ETIMEDOUT);
	assert_int_equal(n[1].ret, -ETIMEDOUT);
	assert_int_equal(n[0].woke_ns, 305000000);
	assert_int_equal(n[1].woke_ns, 107000000);
	assert_int_equal(n[0].left, 0);
	assert_int_equal(n[2].woke_ns, 1005000000);
	assert_int_equal(n[1].slot, 0);
	assert_int_equal(n[0].slot, 1);
	assert_int_equal(n[2].slot, 2);
	for (int i = 0; i < 3; i++)
		ccmm_sched_entity_fini(&n[i].se);
	ccmm_shutdown(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_job_is_deterministic),
		cmocka_unit_test(test_ranges_follow_the_seed),
		cmocka_unit_test(test_clock_through_signal_wait),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_threads_mode_runs),
		cmocka_unit_test(test_reports),
		cmocka_unit_test(test_platform_override),
		cmocka_unit_test(test_contention_in_modeled_time),
		cmocka_unit_test(test_schedules_replay),
		cmocka_unit_test(test_schedule_mismatch),
		cmocka_unit_test(test_lock_deadlock_found),
		cmocka_unit_test(test_page_counts_never_wrap),
		cmocka_unit_test(test_byte_ranges_never_wrap),
		cmocka_unit_test(test_step_bound),
		cmocka_unit_test(test_timeouts_in_time_order),
	};

	return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
