// SPDX-License-Identifier: MIT
/*
 * The job reader's syntax, as fio's (issue 14): ${VAR} from the
 * environment, inline comments, LO:HI ranges and reversed ranges swapped,
 * kb_base, --section, the search path for the platform, and kind sets a
 * program registers at run time. Bad input stays "FILE:LINE: what is wrong".
 */
#include "helpers.h"

#include <sys/stat.h>
#include <unistd.h>

#include "scenario/scenario.h"

static struct ccmm_job *load(const char *text)
{
	struct ccmm_job *job;
	struct ccmm_error err;

	if (ccmm_job_load("t.job", text, NULL, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	return job;
}

static void load_fails(const char *text, int ret, const char *msg)
{
	struct ccmm_job *job = NULL;
	struct ccmm_error err;
	char full[800];

	assert_int_equal(ccmm_job_load("t.job", text, NULL, &job, &err), ret);
	assert_null(job);
	ccmm_error_format(&err, full, sizeof(full));
	if (!strstr(full, msg))
		fail_msg("expected '%s', got '%s'", msg, full);
}

static const struct ccmm_range *size_arg(const struct ccmm_job *job, size_t actor, size_t op)
{
	return &job->actors[actor]->ops[op].arg[1].range; /* alloc NAME SIZE */
}

/* ${VAR} anywhere in a line; unset is an error naming it at its line. */
static void test_env(void **state)
{
	struct ccmm_job *job;

	setenv("CCMM_T_SEED", "42", 1);
	setenv("CCMM_T_KIND", "guest_task", 1);
	setenv("CCMM_T_SIZE", "16k", 1);
	job = load("[global]\nseed = ${CCMM_T_SEED}\n[t]\nactor = ${CCMM_T_KIND}\nop = alloc b ${CCMM_T_SIZE}\n");
	assert_int_equal(job->g.seed, 42);
	assert_string_equal(job->actors[0]->kind->name, "guest_task");
	assert_int_equal(size_arg(job, 0, 0)->lo, 16384);
	ccmm_job_free(job);
	unsetenv("CCMM_T_NOPE");
	load_fails("[t]\nactor = guest_task\nop = alloc b ${CCMM_T_NOPE}\n", -ENOENT,
		   "t.job:3: environment variable 'CCMM_T_NOPE' is not set");
}

/* fio's comments: from the first ';' or '#', inline, with or without a space. */
static void test_inline_comments(void **state)
{
	struct ccmm_job *job = load("[global] # the global section\n"
				    "seed = 3;three\n"
				    "[t]   ; an actor\n"
				    "actor = guest_task # a kind\n"
				    "op = alloc b 8k#eight\n"
				    "expect = access_hole:0 ; none\n");

	assert_int_equal(job->g.seed, 3);
	assert_int_equal(size_arg(job, 0, 0)->lo, 8192);
	assert_int_equal(job->actors[0]->expect[0].count, 0);
	ccmm_job_free(job);
}

/* LO-HI and LO:HI ranges in op arguments; a reversed one is swapped, as fio does. */
static void test_ranges(void **state)
{
	struct ccmm_job *job = load("[t]\nactor = guest_task\n"
				    "op = alloc a 4k-64k\nop = alloc b 4k:64k\nop = alloc c 64k-4k\nop = alloc d 64k:4k\n");

	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(size_arg(job, 0, i)->lo, 4096);
		assert_int_equal(size_arg(job, 0, i)->hi, 65536);
	}
	ccmm_job_free(job);
	load_fails("[t]\nactor = guest_task\nop = alloc a 4k:\n", -EINVAL, "t.job:3: size: '4k:' is not a size or a LO-HI range");
}

/* kb_base: 1024 by default for k and KiB alike; 1000 makes k SI and KiB IEC for the whole job, wherever it is. */
static void test_kb_base(void **state)
{
	struct ccmm_job *job = load("[t]\nactor = guest_task\nop = alloc a 4k\nop = alloc b 4KiB\n");
	const void *tier;

	assert_int_equal(job->g.kb_base, 1024);
	assert_int_equal(size_arg(job, 0, 0)->lo, 4096);
	assert_int_equal(size_arg(job, 0, 1)->lo, 4096);
	ccmm_job_free(job);

	/* after the [global] size it changes, and before the sections it reads */
	job = load("[global]\nswap = 2k\nkb_base = 1000\n[t]\nactor = guest_task\nop = alloc a 4k\nop = alloc b 4KiB\n"
		   "op = alloc c 1m-2m\n");
	assert_int_equal(job->g.kb_base, 1000);
	assert_int_equal(size_arg(job, 0, 0)->lo, 4000);
	assert_int_equal(size_arg(job, 0, 1)->lo, 4096);
	assert_int_equal(size_arg(job, 0, 2)->lo, 1000000);
	assert_int_equal(size_arg(job, 0, 2)->hi, 2000000);
	tier = ccmm_job_ext_opts(job, "vmstat"); /* the tier kind set's run extension */
	assert_non_null(tier);
	/* the run extension's size option read with it too: swap is the tier options' first size */
	{
		const struct ccmm_run_ext *x;
		const struct ccmm_option *swap = NULL;

		for (size_t i = 0; (x = ccmm_run_ext_at(i)) && !swap; i++)
			if (!strcmp(x->name, "vmstat"))
				swap = ccmm_option_find(x->options, "swap");
		assert_non_null(swap);
		assert_int_equal(*(const uint64_t *)((const char *)tier + swap->off), 2000);
	}
	/* the platform file keeps its own: the default platform's 32 GiB nodes */
	assert_int_equal(ccmm_platform_ram(job->plat, 0), 32ULL << 30);
	/* the loader leaves the caller's kb_base as it was */
	assert_int_equal(ccmm_kb_base(), 1024);
	ccmm_job_free(job);

	load_fails("[global]\nkb_base = 1010\n[t]\nactor = guest_task\nop = alloc a 4k\n", -EINVAL,
		   "t.job:2: kb_base is 1024 or 1000, not 1010");
	load_fails("[global]\nkb_base = 2000\n[t]\nactor = guest_task\nop = alloc a 4k\n", -ERANGE, "t.job:2: kb_base=2000 is out of range");
	assert_int_equal(ccmm_kb_base(), 1024);
}

/* fio's --section: only the named actor sections; [global] always; none selected is an error listing them. */
static void test_sections(void **state)
{
	static const char text[] = "[global]\nseed = 5\n"
				   "[a]\nactor = guest_task\nop = alloc x 4k\n"
				   "[b]\nactor = guest_task\nop = alloc y 4k\n"
				   "[c]\nactor = vmm\n";
	const char *const only_b[] = { "b", NULL };
	const char *const b_and_c[] = { "c", "b", NULL };
	const char *const typo[] = { "bb", NULL };
	struct ccmm_job_load_opts o = { .sections = only_b };
	struct ccmm_job *job;
	struct ccmm_error err;

	assert_int_equal(ccmm_job_load_with("s.job", text, &o, &job, &err), 0);
	assert_int_equal(job->nr_actors, 1);
	assert_string_equal(job->actors[0]->name, "b");
	assert_int_equal(job->g.seed, 5);
	ccmm_job_free(job);
	o.sections = b_and_c;
	assert_int_equal(ccmm_job_load_with("s.job", text, &o, &job, &err), 0);
	assert_int_equal(job->nr_actors, 2);
	assert_string_equal(job->actors[0]->name, "b"); /* the file's order, not the option's */
	ccmm_job_free(job);
	o.sections = typo;
	assert_int_equal(ccmm_job_load_with("s.job", text, &o, &job, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "(its sections: a, b, c); did you mean 'b'?"));
}

/* platform = NAME: beside the job, then CCMM_PATH (and its platforms/), with .ini added. */
static void test_platform_search(void **state)
{
	char dir[] = "/tmp/ccmm-jobfile-XXXXXX", sub[128], cmd[256];
	struct ccmm_job *job;
	struct ccmm_error err;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/platforms", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(cmd, sizeof(cmd), "cp %s/platforms/snp-guest.ini %s/found-me.ini", CCMM_SOURCE_DIR, sub);
	assert_int_equal(system(cmd), 0);
	unsetenv("CCMM_PATH");
	assert_int_equal(ccmm_job_load("p.job", "[global]\nplatform = found-me\n[t]\nactor = guest_task\n", NULL, &job, &err),
			 -ENOENT);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "cannot be found (beside the job, on CCMM_PATH"));
	setenv("CCMM_PATH", dir, 1);
	if (ccmm_job_load("p.job", "[global]\nplatform = found-me\n[t]\nactor = guest_task\n", NULL, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(job->plat->mode, CCMM_CC_SEV_SNP);
	ccmm_job_free(job);
	unsetenv("CCMM_PATH");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* A kind set registered at run time: its kinds load and run; names are not taken twice. */
static int hello_run(struct ccmm_actor *a, const struct ccmm_op *op)
{
	ccmm_count(&a->ctx, CCMM_CTR_accesses, ccmm_arg_u64(a, op, 0));
	return 0;
}

static const struct ccmm_arg_spec hello_args[] = { { "times", CCMM_ARG_U64, true, true, NULL, NULL, "how often" }, { NULL } };
static const struct ccmm_verb hello_verbs[] = { { "hello", "count", hello_args, hello_run }, { NULL } };
static const struct ccmm_actor_kind hello_kind = { "hello_test", "a test kind", NULL, 0, hello_verbs };
static const struct ccmm_actor_kind *const hello_kinds[] = { &hello_kind, NULL };
static const struct ccmm_kind_set hello_set = { "hello-test", hello_kinds, NULL };
static const struct ccmm_kind_set clash_set = { "core", NULL, NULL };
static const struct ccmm_actor_kind *const clash_kinds[] = { &hello_kind, NULL };
static const struct ccmm_kind_set clash_kind_set = { "other-name", clash_kinds, NULL };

static void test_kind_set_register(void **state)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	size_t n = 0;

	load_fails("[h]\nactor = hello_test\n", -EINVAL, "unknown actor kind 'hello_test'");
	while (ccmm_kind_set_at(n))
		n++;
	assert_int_equal(ccmm_kind_set_register(&hello_set), 0);
	assert_ptr_equal(ccmm_kind_set_at(n), &hello_set);
	assert_ptr_equal(ccmm_actor_kind_find("hello_test"), &hello_kind);
	assert_int_equal(ccmm_kind_set_register(&hello_set), -EEXIST);
	assert_int_equal(ccmm_kind_set_register(&clash_set), -EEXIST);
	assert_int_equal(ccmm_kind_set_register(&clash_kind_set), -EEXIST);
	assert_int_equal(ccmm_kind_set_register(NULL), -EINVAL);
	job = load("[h]\nactor = hello_test\nop = hello 3\nop = hello 4\n");
	assert_int_equal(ccmm_job_run(job, &run), 0);
	assert_int_equal(job->actors[0]->ctx.ctr[CCMM_CTR_accesses], 7);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_inline_comments),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_kb_base),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_platform_search),
		cmocka_unit_test(test_kind_set_register),
	};

	return cmocka_run_group_tests_name("jobfile", tests, NULL, NULL);
}
