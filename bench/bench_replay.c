// SPDX-License-Identifier: MIT
/*
 * Trace replay against a plain cache simulator, and scale (issue 15).
 * ccmm's own speed, never modeled time; figures only, no assertions.
 *
 * 1. The same reference stream through ccmm and through a minimal CLOCK
 *    cache simulator written here (an open-addressing hash of pages and a
 *    clock hand) at the same capacity. The stream is a trace file, decoded
 *    for both by ccmm's streaming reader (src/trace): every shipped real
 *    trace whole, and a synthetic one (skewed, 30% writes). ccmm's side is
 *    a job as a user runs it: the load (which checks and decodes the trace
 *    once) and the run of one enclave with the full model on (page-table
 *    walks, EPCM checks, the data through the memory-encryption engine at
 *    each fault, EAUG, cgroup-limit reclaim with EWB/ELDU and their real
 *    crypto). Each trace runs twice: with room for its whole footprint
 *    (cold misses only) and with its cgroup held to about half of it
 *    (paging), each side 4 times in turn, the run with the least CPU time
 *    kept (the first run in the process pays for its warm-up). Printed:
 *    references/s of both, the ratio ccmm/CLOCK, both
 *    miss counts (ccmm's: EAUG + ELDU), and the CLOCK simulator alone on
 *    the references already in memory (how much of the time is decoding).
 *    Rates are per CPU second of the process (the machine is shared);
 *    wall-clock rates are printed beside them.
 *
 * 2. Scale, each point in a child process (its peak RSS is its own):
 *    replay in a 1M-page EPC (4 GiB) with 16k, 64k and 256k pages touched
 *    8 times each in random order; reclaim in the same EPC, a cgroup held
 *    to 2k, 8k and 32k pages making 8 x limit random references over twice
 *    its limit (about one EWB every other reference); an fio
 *    iolog replay (virtio-blk in a TDX guest, every request bounced) of
 *    62 500, 250 000 and 1 000 000 I/Os. Time per page / per I/O, the
 *    exponent of time against work fitted over 1x, 4x and 16x (1.0 is
 *    linear), and peak RSS. The boot of the same platform with no work is
 *    measured apart and taken off.
 *
 * CCMM_BENCH_QUICK=1 divides the scale work by 16 (a smoke run);
 * CCMM_BENCH_RUNS=N runs each side N times instead of 4 (the side that
 * goes first alternates; CCMM_BENCH_ORDER=fixed: ccmm first every time, and
 * the CLOCK core between runs, as before); CCMM_BENCH_ONLY=ccmm
 * or =clock runs only that side, once (N times with CCMM_BENCH_RUNS), with
 * room for the trace, =ccmm-paging or =clock-paging that side of the paging
 * row (to profile it: valgrind --tool=callgrind --toggle-collect=ccmm_job or
 * =clock_trace); the comparison ends with the lowest ratio over the large
 * real traces and over all real traces, beside the targets; an
 * argument "compare" or "scale" runs one part; "compare LABEL..." only the
 * traces named (sort, gzip, ..., synthetic), for a profile of one.
 */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scenario/scenario.h"
#include "sgx/sgx.h"
#include "trace/trace.h"

#ifndef CCMM_SOURCE_DIR
#define CCMM_SOURCE_DIR "."
#endif

static char tmpdir[256];

static double wall_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "bench_replay: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* ---- the baseline: a minimal CLOCK cache simulator ---------------------------------------------- */

struct clk {
	uint64_t *key;   /* hash: vpn + 1, 0 empty */
	uint32_t *frame; /* hash: the frame holding it */
	size_t mask;
	uint64_t *vpn;   /* per frame */
	uint8_t *ref;    /* per frame: the reference bit */
	size_t cap, used, hand;
	uint64_t hits, misses;
};

static void clk_init(struct clk *c, size_t cap)
{
	size_t n = 16;

	while (n < cap * 2)
		n <<= 1;
	memset(c, 0, sizeof(*c));
	c->key = calloc(n, sizeof(*c->key));
	c->frame = calloc(n, sizeof(*c->frame));
	c->vpn = calloc(cap, sizeof(*c->vpn));
	c->ref = calloc(cap, 1);
	if (!c->key || !c->frame || !c->vpn || !c->ref)
		die("%s", "out of memory");
	c->mask = n - 1;
	c->cap = cap;
}

static void clk_free(struct clk *c)
{
	free(c->key);
	free(c->frame);
	free(c->vpn);
	free(c->ref);
}

static size_t clk_slot(const struct clk *c, uint64_t vpn)
{
	size_t i = (size_t)(((vpn + 1) * 0x9e3779b97f4a7c15ULL) >> 20) & c->mask;

	while (c->key[i] && c->key[i] != vpn + 1)
		i = (i + 1) & c->mask;
	return i;
}

/* Remove @vpn from the hash (linear probing: shift the cluster back). */
static void clk_del(struct clk *c, uint64_t vpn)
{
	size_t i = clk_slot(c, vpn), j = i;

	c->key[i] = 0;
	for (;;) {
		size_t home;

		j = (j + 1) & c->mask;
		if (!c->key[j])
			return;
		home = (size_t)((c->key[j] * 0x9e3779b97f4a7c15ULL) >> 20) & c->mask;
		/* move j back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			c->key[i] = c->key[j];
			c->frame[i] = c->frame[j];
			c->key[j] = 0;
			i = j;
		}
	}
}

static inline void clk_access(struct clk *c, uint64_t vpn)
{
	size_t i = clk_slot(c, vpn), f;

	if (c->key[i]) {
		c->ref[c->frame[i]] = 1;
		c->hits++;
		return;
	}
	c->misses++;
	if (c->used < c->cap) {
		f = c->used++;
	} else {
		while (c->ref[c->hand]) {
			c->ref[c->hand] = 0;
			c->hand = (c->hand + 1) % c->cap;
		}
		f = c->hand;
		c->hand = (c->hand + 1) % c->cap;
		clk_del(c, c->vpn[f]);
		i = clk_slot(c, vpn);
	}
	c->key[i] = vpn + 1;
	c->frame[i] = (uint32_t)f;
	c->vpn[f] = vpn;
	c->ref[f] = 1;
}

struct figures {
	uint64_t refs, misses, evictions;
	double cpu, wall;
	long faults; /* host page faults (minor and major) of the process in the timed part */
};

static long host_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

/*
 * The baseline end to end: the trace decoded by ccmm's reader, each page
 * through CLOCK. It reads blocks of references as ccmm's load-time check
 * does (ccmm_trace_read), so that both sides decode the same way.
 */
static __attribute__((noinline)) void clock_trace(const char *path, size_t cap, struct figures *f)
{
	struct ccmm_trace *t;
	struct ccmm_page_ref r[256];
	struct ccmm_error err;
	struct clk c;
	double c0, w0;
	long got;

	clk_init(&c, cap);
	f->faults = host_faults();
	c0 = cpu_s();
	w0 = wall_s();
	if (ccmm_trace_open(path, NULL, &t, &err))
		die("%s", err.msg);
	while ((got = ccmm_trace_read(t, r, 256, &err)) > 0)
		for (long k = 0; k < got; k++)
			clk_access(&c, r[k].vpn);
	if (got < 0)
		die("%s", err.msg);
	ccmm_trace_close(t);
	f->cpu = cpu_s() - c0;
	f->wall = wall_s() - w0;
	f->faults = host_faults() - f->faults;
	f->refs = c.hits + c.misses;
	f->misses = c.misses;
	f->evictions = c.misses > cap ? c.misses - cap : 0;
	clk_free(&c);
}

/* The CLOCK simulator alone, on the references already decoded into memory. */
static double clock_core(const char *path, size_t cap)
{
	struct ccmm_trace *t;
	struct ccmm_page_ref r;
	struct ccmm_error err;
	uint64_t *v = NULL;
	size_t n = 0, capv = 0;
	struct clk c;
	double c0, dt;

	if (ccmm_trace_open(path, NULL, &t, &err))
		die("%s", err.msg);
	while (ccmm_trace_next(t, &r, &err) == 1) {
		if (n == capv) {
			capv = capv ? capv * 2 : 1 << 16;
			v = realloc(v, capv * sizeof(*v));
			if (!v)
				die("%s", "out of memory");
		}
		v[n++] = r.vpn;
	}
	ccmm_trace_close(t);
	clk_init(&c, cap);
	c0 = cpu_s();
	for (size_t i = 0; i < n; i++)
		clk_access(&c, v[i]);
	dt = cpu_s() - c0;
	clk_free(&c);
	free(v);
	return (double)n / dt;
}

/* ---- ccmm: a job as a user runs it ------------------------------------------------------------------ */

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) == EOF || fclose(f))
		die("cannot write %s", path);
}

/* A host with @epc_pages of EPC and enough RAM for the backing store. */
static void write_platform(const char *path, uint64_t epc_pages, uint64_t ram_mib)
{
	char text[512];

	snprintf(text, sizeof(text),
		 "[platform]\nname = bench-epc\nmode = none\ncpus = 4\n[node:0]\nmem = %" PRIu64 "m\n"
		 "[epc:epc0]\nnode = 0\nsize = %" PRIu64 "k\n",
		 ram_mib, epc_pages * 4);
	write_file(path, text);
}

static uint64_t ctr_sum(struct ccmm_run *run, unsigned idx)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(run->m);
	uint64_t n = 0;

	for (size_t i = 0; i < run->job->nr_actors; i++)
		n += run->job->actors[i]->ctx.ctr[idx];
	if (sgx)
		n += sgx->ksgxd.ctx.ctr[idx] + sgx->cg_wq.worker.ctx.ctr[idx];
	return n;
}

/*
 * Run a job: load (the check decodes the trace) and run, timed together.
 * Fills refs (sgx_refs), misses (EAUG + ELDU) and evictions (EWB).
 */
static __attribute__((noinline)) void ccmm_job(const char *name, const char *text, struct figures *f)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	struct ccmm_run_summary s;
	long f0 = host_faults();
	double c0 = cpu_s(), w0 = wall_s();

	if (ccmm_job_load(name, text, NULL, &job, &err))
		die("%s", err.msg);
	if (ccmm_job_run(job, &run))
		die("%s: the run did not start", name);
	f->cpu = cpu_s() - c0;
	f->wall = wall_s() - w0;
	f->faults = host_faults() - f0;
	ccmm_run_summarize(run, &s);
	if (run->error[0] || s.status)
		die("%s: the run failed", run->error[0] ? run->error : name);
	f->refs = ctr_sum(run, CCMM_CTR_AT(sgx, sgx_refs));
	f->misses = ctr_sum(run, CCMM_CTR_AT(sgx, sgx_eaug)) + ctr_sum(run, CCMM_CTR_AT(sgx, sgx_eldu));
	f->evictions = ctr_sum(run, CCMM_CTR_AT(sgx, sgx_ewb));
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/*
 * One enclave replaying @trace in cgroup /b (held to @limit pages when
 * non-zero), on @platform. Only the TCS is EADDed at build: every other
 * page comes in on first touch (EAUG), as a cache fills on a cold miss.
 */
static void enclave_job(char *buf, size_t len, const char *platform, const char *trace, uint64_t limit,
			uint64_t size_pages)
{
	char lim[96] = "", size[64] = "";

	if (limit)
		snprintf(lim, sizeof(lim), "op = write /b/misc.max sgx_epc %" PRIu64 "\n", limit * 4096);
	if (size_pages)
		snprintf(size, sizeof(size), "size = %" PRIu64 "\n", size_pages * 4096);
	snprintf(buf, len,
		 "[global]\nplatform = %s\n\n[sh]\nactor = cgroup\nop = mkdir /b\n%sop = signal go\nop = wait done\n"
		 "op = exits * passed=1\n\n[e]\nactor = enclave\ncgroup = /b\ntrace = %s\n%seadd = 4096\nmeasure = no\n"
		 "done = done\nop = wait go\n",
		 platform, lim, trace, size);
}

/* EPC pages of an enclave beside its data pages: the SECS, the TCS and a VA page per 512. */
static uint64_t encl_overhead(uint64_t pages)
{
	return 2 + (pages + 1 + CCMM_SGX_VA_SLOT_COUNT - 1) / CCMM_SGX_VA_SLOT_COUNT;
}

static uint64_t distinct_pages(const char *path)
{
	struct ccmm_trace *t;
	struct ccmm_page_ref r;
	struct ccmm_error err;
	struct clk c;
	uint64_t n;

	clk_init(&c, 1 << 22);
	if (ccmm_trace_open(path, NULL, &t, &err))
		die("%s", err.msg);
	while (ccmm_trace_next(t, &r, &err) == 1)
		clk_access(&c, r.vpn);
	ccmm_trace_close(t);
	n = c.misses;
	clk_free(&c);
	return n;
}

#define RUNS 4 /* per side and trace, each side first in half of them (CCMM_BENCH_RUNS=N: N, for a profile) */

static int runs(void)
{
	const char *e = getenv("CCMM_BENCH_RUNS");
	int n = e ? atoi(e) : 0;

	return n > 0 ? n : RUNS;
}

/*
 * CCMM_BENCH_ONLY=ccmm or =clock: one side with room for the whole trace;
 * =ccmm-paging or =clock-paging: one side of the paging row (the cgroup, or
 * the CLOCK frames, held to about half the pages). The side runs
 * CCMM_BENCH_RUNS times (once by default), for a profile of that side
 * (callgrind's --toggle-collect=ccmm_job or =clock_trace; the difference of
 * two counts with CCMM_BENCH_RUNS=1 and =2 is the cost of a run past the
 * process's first).
 */
static bool one_side(const char *label, const char *trace, uint64_t pages)
{
	const char *only = getenv("CCMM_BENCH_ONLY"), *e = getenv("CCMM_BENCH_RUNS");
	char plat[300], job[2048];
	struct figures f;
	bool paging, clock;
	int nr = e && atoi(e) > 0 ? atoi(e) : 1;

	if (!only || !*only)
		return false;
	paging = strstr(only, "-paging") != NULL;
	clock = !strncmp(only, "clock", 5);
	snprintf(plat, sizeof(plat), "%s/replay-epc.ini", tmpdir);
	write_platform(plat, 4 * pages + 1024, 256);
	enclave_job(job, sizeof(job), plat, trace, paging ? pages / 2 + encl_overhead(pages) : 0, 0);
	for (int run = 0; run < nr; run++) {
		struct rusage r0, r1;

		getrusage(RUSAGE_SELF, &r0);
		if (clock)
			clock_trace(trace, paging ? pages / 2 : pages + 64, &f);
		else
			ccmm_job(label, job, &f);
		getrusage(RUSAGE_SELF, &r1);
		printf("  %-14s %s alone: %" PRIu64 " refs, %" PRIu64 " misses, %.5f s CPU, %ld host page faults\n", label, only,
		       f.refs, f.misses, f.cpu, r1.ru_minflt - r0.ru_minflt);
	}
	return true;
}

/* The lowest ccmm/CLOCK ratio (CPU) over the large real traces and over all real traces, for the closing line. */
static double low_large = INFINITY, low_real = INFINITY;
static const char *low_large_at = "", *low_real_at = "";

/* @kind: 2 a large real trace, 1 another real trace (true), 0 synthetic. */
static void compare(const char *label, const char *trace, int kind)
{
	char plat[300], job[2048];
	uint64_t pages = distinct_pages(trace);

	if (one_side(label, trace, pages))
		return;

	snprintf(plat, sizeof(plat), "%s/replay-epc.ini", tmpdir);
	write_platform(plat, 4 * pages + 1024, 256);
	for (int paging = 0; paging < 2; paging++) {
		/* room for all of it, or about half (a cgroup limit; the same data frames for CLOCK) */
		uint64_t frames = paging ? pages / 2 : pages + 64;
		uint64_t limit = paging ? frames + encl_overhead(pages) : 0;
		struct figures cm = { 0 }, ck = { 0 };
		double core = 0;

		enclave_job(job, sizeof(job), plat, trace, limit, 0);
		/*
		 * Each side the best (least CPU) of RUNS, interleaved: the first
		 * run of a process pays for its warm-up. The side that goes
		 * first alternates from run to run, and the CLOCK core (which
		 * streams the decoded references through the caches) runs after
		 * them, so that neither side always starts on caches the other
		 * or the core left; CCMM_BENCH_ORDER=fixed keeps the earlier
		 * order (ccmm, CLOCK, core in every run).
		 */
		for (int run = 0, nr = runs(); run < nr; run++) {
			const char *order = getenv("CCMM_BENCH_ORDER");
			bool fixed = order && !strcmp(order, "fixed");
			struct figures a, b;

			if (fixed || run % 2 == 0) {
				ccmm_job(label, job, &a);
				clock_trace(trace, frames, &b);
			} else {
				clock_trace(trace, frames, &b);
				ccmm_job(label, job, &a);
			}
			if (fixed) {
				double k = clock_core(trace, frames);

				core = run ? CCMM_MAX(core, k) : k;
			}
			if (!run || a.cpu < cm.cpu)
				cm = a;
			if (!run || b.cpu < ck.cpu)
				ck = b;
		}
		{
			const char *order = getenv("CCMM_BENCH_ORDER");

			if (!order || strcmp(order, "fixed"))
				for (int run = 0, nr = runs(); run < nr; run++) {
					double k = clock_core(trace, frames);

					core = run ? CCMM_MAX(core, k) : k;
				}
		}
		printf("  %-14s %-7s %9" PRIu64 " %6" PRIu64 " %6" PRIu64 " | %7.2f %7.2f %8" PRIu64 " | %7.2f %7.2f %8" PRIu64
		       " | %5.2fx %5.2fx | %7.1f | %5ld %5ld\n",
		       label, paging ? "paging" : "fits", ck.refs, pages, frames, cm.refs / cm.cpu / 1e6, cm.refs / cm.wall / 1e6,
		       cm.misses, ck.refs / ck.cpu / 1e6, ck.refs / ck.wall / 1e6, ck.misses, (cm.refs / cm.cpu) / (ck.refs / ck.cpu),
		       (cm.refs / cm.wall) / (ck.refs / ck.wall), core / 1e6, cm.faults, ck.faults);
		{
			double r = (cm.refs / cm.cpu) / (ck.refs / ck.cpu);
			static char at[2][64];

			if (kind == 2 && r < low_large) {
				low_large = r;
				snprintf(at[0], sizeof(at[0]), "%s %s", label, paging ? "paging" : "fits");
				low_large_at = at[0];
			}
			if (kind && r < low_real) {
				low_real = r;
				snprintf(at[1], sizeof(at[1]), "%s %s", label, paging ? "paging" : "fits");
				low_real_at = at[1];
			}
		}
		if (cm.refs != ck.refs)
			printf("  (!) %s: ccmm replayed %" PRIu64 " references, the trace has %" PRIu64 "\n", label, cm.refs, ck.refs);
		fflush(stdout);
	}
}

/* ---- synthetic traces ------------------------------------------------------------------------------------ */

static uint64_t rng_state = 0x243f6a8885a308d3ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* @n references: with @hot_pct of them to a fifth of the @pages, 30% writes (an address trace). */
static void write_skewed(const char *path, uint64_t pages, uint64_t n, unsigned hot_pct)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write %s", path);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t hot = pages / 5 ? pages / 5 : 1;
		uint64_t p = rng() % 100 < hot_pct ? rng() % hot : rng() % pages;

		fprintf(f, "%c 0x%" PRIx64 " 8\n", rng() % 100 < 30 ? 's' : 'l', (uint64_t)((0x10000ULL + p) << 12 | (rng() & 0xff8)));
	}
	if (fclose(f))
		die("cannot write %s", path);
}

/* @sweeps passes over @pages in order (each page touched once per pass). */
static void write_sweeps(const char *path, uint64_t pages, unsigned sweeps)
{
	FILE *f = fopen(path, "w");

	if (!f)
		die("cannot write %s", path);
	for (unsigned s = 0; s < sweeps; s++)
		for (uint64_t p = 0; p < pages; p++)
			fprintf(f, "%c 0x%" PRIx64 " 8\n", p % 3 ? 'l' : 's', (uint64_t)((0x10000ULL + p) << 12));
	if (fclose(f))
		die("cannot write %s", path);
}

/* ---- scale: a child per point ------------------------------------------------------------------------------- */

struct point {
	double cpu, wall;
	uint64_t units, evictions;
	long rss_kb;
};

/* Run @fn(@arg) in a child; its CPU and wall time, the units of work it reports, its peak RSS. */
static struct point in_child(void (*fn)(uint64_t, struct figures *), uint64_t arg)
{
	int fd[2];
	pid_t pid;
	struct point p = { 0 };
	struct figures f = { 0 };
	struct rusage ru;
	int status;

	if (pipe(fd))
		die("%s", "pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("%s", "fork");
	if (!pid) {
		close(fd[0]);
		fn(arg, &f);
		if (write(fd[1], &f, sizeof(f)) != sizeof(f))
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], &f, sizeof(f)) != sizeof(f))
		die("%s", "a benchmark child failed");
	close(fd[0]);
	if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("%s", "a benchmark child failed");
	p.cpu = f.cpu;
	p.wall = f.wall;
	p.units = f.refs;
	p.evictions = f.evictions;
	p.rss_kb = ru.ru_maxrss;
	return p;
}

#define SCALE_EPC_PAGES (1ULL << 20) /* 4 GiB of EPC */

static void replay_point(uint64_t pages, struct figures *f)
{
	char plat[300], trace[300], job[2048];

	snprintf(plat, sizeof(plat), "%s/scale-epc.ini", tmpdir);
	snprintf(trace, sizeof(trace), "%s/replay-%" PRIu64 ".trace", tmpdir, pages);
	if (pages) {
		rng_state = 0x9e3779b97f4a7c15ULL ^ pages;
		write_skewed(trace, pages, 8 * pages, 0); /* uniform: 8 references per page, random order */
	} else {
		write_sweeps(trace, 1, 1);
	}
	enclave_job(job, sizeof(job), plat, trace, 0, SCALE_EPC_PAGES / 2);
	ccmm_job("replay", job, f);
	remove(trace);
}

static void reclaim_point(uint64_t limit, struct figures *f)
{
	char plat[300], trace[300], job[2048];
	uint64_t pages = limit ? 2 * limit : 1;

	snprintf(plat, sizeof(plat), "%s/scale-epc.ini", tmpdir);
	snprintf(trace, sizeof(trace), "%s/reclaim-%" PRIu64 ".trace", tmpdir, limit);
	/*
	 * Random references over twice the limit: about every other one
	 * faults and evicts. (Sweeps would make the whole working set young
	 * at once: the cgroup work's 16-page scans would mostly age pages
	 * rather than evict them, which measures second chance, not EWB.)
	 */
	rng_state = 0x6a09e667f3bcc909ULL ^ limit;
	if (limit)
		write_skewed(trace, pages, 8 * limit, 0);
	else
		write_sweeps(trace, 1, 1);
	enclave_job(job, sizeof(job), plat, trace, limit ? limit + encl_overhead(pages) : 0, SCALE_EPC_PAGES / 2);
	ccmm_job("reclaim", job, f);
	remove(trace);
	f->refs = f->evictions; /* the work: pages written back */
}

static void fio_point(uint64_t ios, struct figures *f)
{
	char log[300], job[1024];
	FILE *fp;
	struct ccmm_job *j;
	struct ccmm_run *run;
	struct ccmm_error err;
	struct ccmm_run_summary s;
	double c0, w0;

	if (!ios)
		ios = 1; /* the setup point: one I/O */
	snprintf(log, sizeof(log), "%s/fio-%" PRIu64 ".v3.log", tmpdir, ios);
	fp = fopen(log, "w");
	if (!fp)
		die("cannot write %s", log);
	/* fio's randrw at 4 KiB over the first 64 MiB of the disk: 60% reads */
	fprintf(fp, "fio version 3 iolog\n1 disk.img add\n2 disk.img open\n");
	rng_state = 0x2545f4914f6cdd1dULL;
	for (uint64_t i = 0; i < ios; i++)
		fprintf(fp, "%" PRIu64 " disk.img %s %" PRIu64 " 4096\n", 10 + 3 * i, rng() % 100 < 60 ? "read" : "write",
			(rng() % 16384) * 4096);
	fprintf(fp, "%" PRIu64 " disk.img close\n", 11 + 3 * ios);
	if (fclose(fp))
		die("cannot write %s", log);
	snprintf(job, sizeof(job),
		 "[global]\nplatform = default\n\n[disk]\nactor = virtio_blk_replay\ndevice = virtio-blk0\niolog = %s\n"
		 "queue_depth = 16\n",
		 log);
	c0 = cpu_s();
	w0 = wall_s();
	if (ccmm_job_load("fio", job, NULL, &j, &err))
		die("%s", err.msg);
	if (ccmm_job_run(j, &run))
		die("%s", "fio: the run did not start");
	f->cpu = cpu_s() - c0;
	f->wall = wall_s() - w0;
	ccmm_run_summarize(run, &s);
	if (run->error[0] || s.status)
		die("%s", "fio: the run failed");
	f->refs = ios;
	ccmm_run_free(run);
	ccmm_job_free(j);
	remove(log);
}

/* Least-squares slope of log(time) against log(work). */
static double exponent(const double *work, const double *t, int n)
{
	double sx = 0, sy = 0, sxx = 0, sxy = 0;

	for (int i = 0; i < n; i++) {
		double x = log(work[i]), y = log(t[i]);

		sx += x;
		sy += y;
		sxx += x * x;
		sxy += x * y;
	}
	return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

static void scale(const char *what, const char *unit, void (*fn)(uint64_t, struct figures *), const uint64_t *sizes,
		  const char *size_unit)
{
	struct point zero = in_child(fn, 0), p[3];
	double work[3], cpu[3], wall[3];

	printf("  %s: setup alone (same platform, no work) %.3f s CPU, %.3f s wall, peak RSS %ld MiB\n", what, zero.cpu,
	       zero.wall, zero.rss_kb / 1024);
	for (int i = 0; i < 3; i++) {
		p[i] = in_child(fn, sizes[i]);
		work[i] = (double)p[i].units;
		cpu[i] = CCMM_MAX(p[i].cpu - zero.cpu, 1e-6);
		wall[i] = CCMM_MAX(p[i].wall - zero.wall, 1e-6);
		printf("  %-8s %2dx  %8" PRIu64 " %-6s %9" PRIu64 " %-6s %8.3f s CPU %8.3f s wall  %8.2f us/%s CPU  peak RSS %5ld MiB\n",
		       what, 1 << (2 * i), sizes[i], size_unit, p[i].units, unit, p[i].cpu, p[i].wall, cpu[i] / work[i] * 1e6, unit,
		       p[i].rss_kb / 1024);
		fflush(stdout);
	}
	printf("  %-8s time against work, 1x..16x: exponent %.3f (CPU), %.3f (wall); target <= 1.1\n", what,
	       exponent(work, cpu, 3), exponent(work, wall, 3));
}

/* "compare" with no more arguments runs every trace; "compare gzip sort" those two. */
static bool wanted(int argc, char **argv, const char *label)
{
	if (argc < 3)
		return true;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], label))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	bool do_compare = argc < 2 || !strcmp(argv[1], "compare"), do_scale = argc < 2 || !strcmp(argv[1], "scale");
	static const char *const real[] = { "sort.trace.zst", "gzip.trace.zst", "md5sum.trace.zst", "awk-wordfreq.trace.zst",
					    "sort-n-150k.trace.zst", "true.lackey.gz", NULL };
	const char *quick = getenv("CCMM_BENCH_QUICK");
	uint64_t div = quick && *quick && strcmp(quick, "0") ? 16 : 1;
	char path[600], plat[300];

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ccmm-bench-replay-XXXXXX");
	if (!mkdtemp(tmpdir))
		die("%s", "cannot make a temporary directory");

	if (!do_compare)
		goto scale_part;
	printf("bench_replay: trace replay through an enclave (full model) against a minimal CLOCK simulator\n");
	printf("  the same trace file, decoded by ccmm's streaming reader for both; M refs/s per CPU second and per wall second\n");
	printf("  ccmm: job load (check + decode once) and run; misses = EAUG + ELDU. CLOCK: same data frames; core = CLOCK alone on\n");
	printf("  the decoded references in memory; host faults: the process's page faults in the kept (best) run of each side\n");
	printf("  %-14s %-7s %9s %6s %6s | %-24s | %-24s | %-13s | %7s | %s\n", "trace", "room", "refs", "pages", "frames",
	       "ccmm: cpu   wall   misses", "CLOCK: cpu  wall   misses", "ratio cpu/wall", "core", "host faults ccmm/CLOCK");
	for (int i = 0; real[i]; i++) {
		char label[64];

		snprintf(path, sizeof(path), "%s/traces/%s", CCMM_SOURCE_DIR, real[i]);
		snprintf(label, sizeof(label), "%.*s", (int)strcspn(real[i], "."), real[i]);
		if (wanted(argc, argv, label))
			compare(label, path, strstr(real[i], "lackey") ? 1 : 2);
	}
	if (wanted(argc, argv, "synthetic")) {
		snprintf(path, sizeof(path), "%s/synthetic.trace", tmpdir);
		write_skewed(path, 2048, 4000000, 80);
		compare("synthetic", path, 0);
		remove(path);
	}
	if (isfinite(low_real))
		printf("  lowest ratio (cpu): large real traces %.2fx (%s), target >= 1.0x; all real traces %.2fx (%s), target >= 0.5x\n",
		       low_large, isfinite(low_large) ? low_large_at : "none run", low_real, low_real_at);
	if (!do_scale)
		goto out;
scale_part:
	printf("\nbench_replay: scale (each point in its own process; setup time taken off; peak RSS includes it)\n");
	snprintf(plat, sizeof(plat), "%s/scale-epc.ini", tmpdir);
	write_platform(plat, SCALE_EPC_PAGES, 4096);
	{
		const uint64_t replay_sizes[3] = { 16384 / div, 65536 / div, 262144 / div };
		const uint64_t reclaim_sizes[3] = { 2048 / div, 8192 / div, 32768 / div };
		const uint64_t fio_sizes[3] = { 62500 / div, 250000 / div, 1000000 / div };

		printf("  replay in a %llu-page EPC: pages touched 8 times each in random order (refs = work)\n", SCALE_EPC_PAGES);
		scale("replay", "ref", replay_point, replay_sizes, "pages");
		printf("  reclaim in a %llu-page EPC: a cgroup limit of N pages, 8N random references over 2N (pages written back = work)\n",
		       SCALE_EPC_PAGES);
		scale("reclaim", "EWB", reclaim_point, reclaim_sizes, "limit");
		printf("  fio iolog replay, virtio-blk in the default TDX guest, 4 KiB randrw, queue depth 16 (I/Os = work)\n");
		scale("fio", "I/O", fio_point, fio_sizes, "I/Os");
	}
	remove(plat);
out:
	snprintf(plat, sizeof(plat), "%s/replay-epc.ini", tmpdir);
	remove(plat);
	rmdir(tmpdir);
	return 0;
}
