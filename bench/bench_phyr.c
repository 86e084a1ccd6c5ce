// SPDX-License-Identifier: MIT
/*
 * Physical-range list versus sg_table (seed 001: "This will save *huge*
 * amounts of memory"): bytes and build time for a 1 GiB buffer made of
 * scattered 4 KiB pages, and of scattered 2 MiB folios, side by side.
 *
 *   phyr      ccmm_phyr_append() page by page: one pass, contiguous pages
 *             coalesce into 16-byte ranges, metadata once per group
 *   phyr (pages)  ccmm_phyr_append_pages() over the page array: two
 *             passes like the sg_table builder, the same list
 *   sg_table  ccmm_sg_alloc_table_from_pages(): two passes (count, fill),
 *             one 32-byte entry per contiguous segment
 *
 * Times are ccmm's own wall time (best of several runs), per 4 KiB page.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sg/sg.h"

#define NPAGES (1u << 18) /* 1 GiB of 4 KiB pages */
#define RUNS 5

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A deterministic shuffle. */
static void shuffle(uint64_t *a, size_t n, struct ccmm_rng *r)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = (size_t)ccmm_rng_range(r, 0, i);
		uint64_t t = a[i];

		a[i] = a[j];
		a[j] = t;
	}
}

/* 4 KiB pages, no two neighbours in the list physically adjacent. */
static void scattered_pages(uint64_t *pas, struct ccmm_rng *r)
{
	for (size_t i = 0; i < NPAGES; i++)
		pas[i] = (uint64_t)i * 8192; /* every other frame */
	shuffle(pas, NPAGES, r);
}

/* 2 MiB folios, each contiguous, the folios scattered. */
static void folios(uint64_t *pas, struct ccmm_rng *r)
{
	size_t nf = NPAGES / 512;
	uint64_t *base = malloc(nf * sizeof(*base));

	for (size_t f = 0; f < nf; f++)
		base[f] = (uint64_t)f * 4 * CCMM_MiB; /* 2 MiB apart */
	shuffle(base, nf, r);
	for (size_t f = 0; f < nf; f++)
		for (size_t p = 0; p < 512; p++)
			pas[f * 512 + p] = base[f] + p * 4096;
	free(base);
}

struct result {
	size_t bytes, entries;
	double ns;
};

static void run(const char *what, const uint64_t *pas)
{
	static const struct ccmm_phyr_meta meta = { -1, false, true, CCMM_CACHE_WB, true, false };
	struct result ph = { 0, 0, 1e30 }, pp = { 0, 0, 1e30 }, sg = { 0, 0, 1e30 };

	for (int r = 0; r < RUNS; r++) {
		struct ccmm_phyr p;
		struct ccmm_sg_table t;
		double t0, t1;

		t0 = now_ns();
		ccmm_phyr_init(&p);
		for (size_t i = 0; i < NPAGES; i++)
			if (ccmm_phyr_append(&p, &meta, pas[i], 4096)) {
				fprintf(stderr, "phyr: out of memory\n");
				exit(1);
			}
		t1 = now_ns();
		if (t1 - t0 < ph.ns)
			ph.ns = t1 - t0;
		ph.bytes = ccmm_phyr_bytes(&p);
		ph.entries = p.nr;
		ccmm_phyr_free(&p);

		t0 = now_ns();
		ccmm_phyr_init(&p);
		if (ccmm_phyr_append_pages(&p, &meta, pas, NPAGES, 4096)) {
			fprintf(stderr, "phyr: out of memory\n");
			exit(1);
		}
		t1 = now_ns();
		if (t1 - t0 < pp.ns)
			pp.ns = t1 - t0;
		pp.bytes = ccmm_phyr_bytes(&p);
		pp.entries = p.nr;
		ccmm_phyr_free(&p);

		t0 = now_ns();
		if (ccmm_sg_alloc_table_from_pages(&t, pas, NPAGES, 0, (uint64_t)NPAGES * 4096, 0)) {
			fprintf(stderr, "sg_table: out of memory\n");
			exit(1);
		}
		t1 = now_ns();
		if (t1 - t0 < sg.ns)
			sg.ns = t1 - t0;
		sg.bytes = ccmm_sg_table_bytes(&t);
		sg.entries = t.orig_nents;
		ccmm_sg_free_table(&t);
	}
	printf("%-30s %12s %14s %12s %10s %12s\n", what, "phyr", "phyr (pages)", "sg_table", "phyr/sg", "(pages)/sg");
	printf("  %-28s %12zu %14zu %12zu\n", "entries", ph.entries, pp.entries, sg.entries);
	printf("  %-28s %12zu %14zu %12zu %9.2fx %11.2fx\n", "bytes", ph.bytes, pp.bytes, sg.bytes,
	       (double)ph.bytes / (double)sg.bytes, (double)pp.bytes / (double)sg.bytes);
	printf("  %-28s %12.2f %14.2f %12.2f %9.2fx %11.2fx\n", "build ns per 4 KiB page", ph.ns / NPAGES, pp.ns / NPAGES,
	       sg.ns / NPAGES, ph.ns / sg.ns, pp.ns / sg.ns);
	printf("  %-28s %12.2f %14.2f %12.2f\n\n", "build ms (1 GiB)", ph.ns / 1e6, pp.ns / 1e6, sg.ns / 1e6);
}

int main(void)
{
	uint64_t *pas = malloc(NPAGES * sizeof(*pas));
	struct ccmm_rng r;

	if (!pas)
		return 1;
	ccmm_rng_seed(&r, 1, 1);
	printf("physical-range list vs sg_table, 1 GiB buffer, best of %d runs\n\n", RUNS);
	scattered_pages(pas, &r);
	run("scattered 4 KiB pages", pas);
	folios(pas, &r);
	run("scattered 2 MiB folios", pas);
	free(pas);
	return 0;
}
