// SPDX-License-Identifier: MIT
/*
 * Milestones: "milestone = NAME EVENT" signals EVENT when the actor gets
 * there, at its modeled time: the common started and done, an enclave
 * built, a driver probed (and not when the probe fails), a tier_task's
 * memory charged; an unknown milestone is an error at its line.
 */
#include "helpers.h"

#include "scenario/scenario.h"

#define SRC CCMM_SOURCE_DIR

static struct ccmm_run *run_text(const char *text, struct ccmm_job **jobp)
{
	struct ccmm_error err;
	struct ccmm_run *run;

	if (ccmm_job_load(SRC "/tests/jobs/t.job", text, NULL, jobp, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_job_run(*jobp, &run), 0);
	return run;
}

static struct ccmm_actor *actor(struct ccmm_job *job, const char *name)
{
	for (size_t i = 0; i < job->nr_actors; i++)
		if (!strcmp(job->actors[i]->name, name))
			return job->actors[i];
	fail_msg("no actor %s", name);
	return NULL;
}

/* The run's exit status (0 as expected, 1 not, 2 run error). */
static int status(struct ccmm_run *run)
{
	struct ccmm_run_summary s;

	ccmm_run_summarize(run, &s);
	return s.status;
}

static void done(struct ccmm_run *run, struct ccmm_job *job)
{
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/* started fires before the first op, done after the last: the waiter's clock follows. */
static void test_started_and_done(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run = run_text("[a]\nactor = guest_task\nmilestone = started a_go\nmilestone = done a_end\n"
					"op = sleep 5us\nop = sleep 5us\n"
					"[b]\nactor = guest_task\nop = wait a_go\nop = sleep 1us\nop = signal b_mid\nop = wait a_end\n",
					&job);

	(void)state;
	assert_int_equal(status(run), 0);
	assert_int_equal(actor(job, "a")->ctx.now_ns, 10000);
	assert_int_equal(actor(job, "b")->ctx.now_ns, 10000); /* waited for a's done at 10 us */
	done(run, job);
}

/*
 * Runs @text, in which [w] waits for a milestone of actor @who: the run
 * passes, w's wait ends, and it ends inside @who's run -- after modeled
 * time went by and before @who finished.
 */
static void assert_woken_inside(const char *text, const char *who)
{
	struct ccmm_job *job;
	struct ccmm_run *run = run_text(text, &job);
	uint64_t at = actor(job, "w")->ctx.now_ns;

	assert_int_equal(status(run), 0);
	assert_int_equal(actor(job, "w")->ops_done, 1);
	assert_true(at > 0);
	assert_true(at < actor(job, who)->ctx.now_ns);
	done(run, job);
}

/* An enclave's built: after EINIT (the build took modeled time), before its references; the waiter starts then. */
static void test_enclave_built(void **state)
{
	(void)state;
	assert_woken_inside("[global]\nplatform = " SRC "/tests/jobs/sgx-small.ini\n"
			    "[e]\nactor = enclave\nsize = 256k\nrefs = 2000\nmilestone = built e_built\n"
			    "[w]\nactor = guest_task\nop = wait e_built\n",
			    "e");
}

/* probed fires on a probe that succeeds, and not on one the TDX allow-list refuses (-EPERM). */
static void test_driver_probed(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run = run_text("[drv]\nactor = dma_driver\ndevice = virtio-blk0\nmilestone = probed up\nop = sleep 3us\nop = probe\n"
					"[w]\nactor = guest_task\nop = wait up\n",
					&job);

	(void)state;
	assert_int_equal(status(run), 0);
	assert_true(actor(job, "w")->ctx.now_ns >= 3000);
	done(run, job);
	run = run_text("[drv]\nactor = dma_driver\ndevice = gpu0\nmilestone = probed up\nop = probe ret=EPERM\n"
		       "[w]\nactor = guest_task\nop = wait up\n",
		       &job);
	assert_int_equal(status(run), 2); /* nobody signals: the waiter is left alone */
	assert_non_null(strstr(run->error, "deadlock"));
	assert_int_equal(actor(job, "drv")->op_errors, 0);
	done(run, job);
}

/* A tier_task's memory is charged at the end of its first pass over the trace (of 3). */
static void test_task_charged(void **state)
{
	(void)state;
	assert_woken_inside("[global]\nplatform = " SRC "/platforms/dram-pmem.ini\n"
			    "[t]\nactor = tier_task\ntrace = " SRC "/traces/true.lackey.gz\npasses = 3\n"
			    "milestone = charged t_charged\n"
			    "[w]\nactor = guest_task\nop = wait t_charged\n",
			    "t");
}

static void test_unknown_milestone(void **state)
{
	struct ccmm_job *job;
	struct ccmm_error err;

	(void)state;
	assert_int_equal(ccmm_job_load("m.job", "[e]\nactor = enclave\nsize = 64k\nmilestone = biult x\n", NULL, &job, &err),
			 -EINVAL);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.msg, "enclave actors have no milestone 'biult'; did you mean 'built'?"));
	assert_int_equal(ccmm_job_load("m.job", "[a]\nactor = guest_task\nmilestone = done\n", NULL, &job, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "milestone = NAME EVENT"));
	assert_int_equal(ccmm_job_load("m.job", "[a]\nactor = guest_task\nmilestone = probed x\n", NULL, &job, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "guest_task actors have no milestone 'probed'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_started_and_done),
		cmocka_unit_test(test_enclave_built),
		cmocka_unit_test(test_driver_probed),
		cmocka_unit_test(test_task_charged),
		cmocka_unit_test(test_unknown_milestone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
