// SPDX-License-Identifier: MIT
/*
 * The enclave actor replays the references its load-time check kept
 * (struct ccmm_trace_keep) in every form the store has: a byte each (codes),
 * a block of 2-byte values (more than 255 pages in 64k references), and
 * 4-byte values after the first page past 32767. Each run must replay as
 * many references as the trace has, EAUG each page once (room for all) and
 * exit as expected. (That the values read back are the ones kept, in
 * order, piece by piece, is test_keep's, in tests/trace.)
 */
#include "helpers.h"

#include <inttypes.h>
#include <unistd.h>

#include "scenario/scenario.h"
#include "sgx/sgx.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ccmm-test-keep-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

struct gen {
	FILE *f;
	uint64_t last, refs, x;
	bool any;
};

/* One reference to page @p (an address trace line); consecutive ones to a page count once. */
static void ref(struct gen *g, uint64_t p, bool write)
{
	fprintf(g->f, "%c 0x%" PRIx64 " 8\n", write ? 's' : 'l', (0x100000 + p) << 12 | 0x40);
	g->refs += !g->any || g->last != p;
	g->last = p;
	g->any = true;
}

static uint64_t rnd(struct gen *g, uint64_t n)
{
	g->x ^= g->x << 13, g->x ^= g->x >> 7, g->x ^= g->x << 17;
	return g->x % n;
}

/* Run one enclave on trace @name (room for all of it): its references and EAUGs, and the run must pass. */
static void replay(const char *name, uint64_t refs, uint64_t pages)
{
	char plat[128], job[1024];
	struct ccmm_error err;
	struct ccmm_job *j;
	struct ccmm_run *run;
	struct ccmm_run_summary s;
	FILE *f;

	snprintf(plat, sizeof(plat), "%s/p.ini", dir);
	f = fopen(plat, "w");
	assert_non_null(f);
	fprintf(f, "[platform]\nname = keep\nmode = none\ncpus = 2\n[node:0]\nmem = 1024m\n[epc:epc0]\nnode = 0\nsize = 400m\n");
	fclose(f);
	snprintf(job, sizeof(job),
		 "[global]\nplatform = %s\n\n[e]\nactor = enclave\ntrace = %s/%s\neadd = 4096\nmeasure = no\nbatch = 1000\n", plat,
		 dir, name);
	if (ccmm_job_load("keep.job", job, NULL, &j, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_job_run(j, &run), 0);
	ccmm_run_summarize(run, &s);
	assert_int_equal(s.status, 0);
	assert_string_equal(run->error, "");
	assert_int_equal(j->actors[0]->ctx.ctr[CCMM_CTR_AT(sgx, sgx_refs)], refs);
	assert_int_equal(j->actors[0]->ctx.ctr[CCMM_CTR_AT(sgx, sgx_eaug)], pages);
	assert_int_equal(j->actors[0]->ctx.ctr[CCMM_CTR_AT(sgx, sgx_faults)], pages); /* room for all: one fault a page */
	assert_int_equal(j->actors[0]->exit_status, 0);
	ccmm_run_free(run);
	ccmm_job_free(j);
}

static struct gen open_trace(const char *name)
{
	char path[128];
	struct gen g = { .x = 0x9e3779b97f4a7c15ULL };

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	g.f = fopen(path, "w");
	assert_non_null(g.f);
	return g;
}

/* A byte a reference, then a block with 300 pages (2 bytes each), then codes again, pieces across blocks (batch 1000). */
static void test_codes_and_raw_block(void **state)
{
	struct gen g = open_trace("a.trace");

	(void)state;
	for (int i = 0; i < 70000; i++)
		ref(&g, rnd(&g, 50), i % 3 == 0);
	for (int i = 0; i < 70000; i++)
		ref(&g, rnd(&g, 300), i % 5 == 0);
	for (int i = 0; i < 20000; i++)
		ref(&g, rnd(&g, 40), false);
	fclose(g.f);
	replay("a.trace", g.refs, 300);
}

/* Pages past 32767: everything kept 4 bytes each, the references before the first of them too. */
static void test_wide(void **state)
{
	struct gen g = open_trace("w.trace");

	(void)state;
	for (int i = 0; i < 80000; i++)
		ref(&g, rnd(&g, 300), i % 4 == 0);
	for (uint64_t p = 300; p < 40000; p++)
		ref(&g, p, p % 7 == 0);
	for (int i = 0; i < 10000; i++)
		ref(&g, rnd(&g, 40000), true);
	fclose(g.f);
	replay("w.trace", g.refs, 40000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codes_and_raw_block),
		cmocka_unit_test(test_wide),
	};

	return cmocka_run_group_tests_name("replay-keep", tests, setup, teardown);
}
