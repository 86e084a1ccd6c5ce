// SPDX-License-Identifier: MIT
/*
 * SWIOTLB benchmarks, ccmm's own speed in wall time (never modeled time):
 *
 * 1. map+unmap operations per second with 2 threads on two CPUs, in a pool
 *    with one area (both threads take the same lock) and in a pool with one
 *    area per CPU, in the same run. Each thread keeps 8 mappings in flight.
 *    a) swiotlb_tbl_map_single + unmap of 64 B - 1 KiB TO_DEVICE buffers:
 *       the slot search, the area locks, the counters and the copy in
 *       (which the kernel makes whatever the attributes);
 *    b) swiotlb_alloc + swiotlb_free of 2-16 KiB: the slot search and the
 *       locks alone, where the areas matter most.
 *
 * 2. bounce copy throughput (map + unmap of a BIDIRECTIONAL buffer: a copy
 *    in and a copy out, through the access checker and the memory-
 *    encryption engine, from private memory to the shared pool in a TDX
 *    guest) against plain memcpy of the same bytes, in the same run.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/boot.h"
#include "mm/mm.h"
#include "swiotlb/swiotlb.h"

#define SECONDS 0.4
#define INFLIGHT 8

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static struct ccmm_machine *boot(const char *text)
{
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	if (ccmm_platform_parse("bench.ini", text, &p, &err) || ccmm_boot(p, 1, &m)) {
		fprintf(stderr, "bench: cannot boot: %s\n", err.msg);
		exit(1);
	}
	return m;
}

/* ---- how much parallelism the host really gives us now --------------------------------------------- */

static void *spin(void *arg)
{
	volatile uint64_t x = 0;

	for (uint64_t i = 0; i < 50000000; i++)
		x += i;
	(void)arg;
	return NULL;
}

/* Speedup of 2 spinning threads over 1: about 2 on two free cores, about 1 when only one is free. */
static double parallel_speedup(void)
{
	pthread_t t[2];
	double t0 = now_s(), one, two;

	spin(NULL);
	one = now_s() - t0;
	t0 = now_s();
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, spin, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	two = now_s() - t0;
	return 2 * one / two;
}

/* ---- 1. map+unmap with 2 threads --------------------------------------------------------------- */

struct worker {
	struct ccmm_machine *m;
	struct ccmm_io_tlb_mem *mem;
	bool alloc_only;
	int cpu;
	pthread_barrier_t *start;
	double seconds;
	uint64_t ops, full;
};

static void *mapper(void *arg)
{
	struct worker *w = arg;
	struct ccmm_ctx ctx;
	struct ccmm_swiotlb_dev dev = { .seg_boundary_mask = UINT32_MAX, .cpu = w->cpu };
	uint64_t tlb[INFLIGHT] = { 0 }, len[INFLIGHT] = { 0 }, seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(w->cpu + 1);
	double t0, end;
	unsigned k = 0;

	ccmm_ctx_init(&ctx, w->m, w->cpu, "bench");
	pthread_barrier_wait(w->start);
	t0 = now_s();
	end = t0 + SECONDS;
	while (now_s() < end) {
		for (int burst = 0; burst < 256; burst++, k = (k + 1) % INFLIGHT) {
			if (len[k]) {
				if (w->alloc_only)
					ccmm_swiotlb_free(w->mem, tlb[k]);
				else
					ccmm_swiotlb_tbl_unmap_single(&ctx, w->mem, &dev, tlb[k], len[k], CCMM_DMA_TO_DEVICE,
								      CCMM_DMA_ATTR_SKIP_CPU_SYNC);
				len[k] = 0;
				w->ops++;
			}
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			if (w->alloc_only) {
				len[k] = 2048 + (seed >> 33) % (14 * 1024);
				if (ccmm_swiotlb_alloc(w->mem, &dev, len[k], &tlb[k])) {
					len[k] = 0;
					w->full++;
				}
				continue;
			}
			len[k] = 64 + (seed >> 33) % 960;
			if (ccmm_swiotlb_tbl_map_single(&ctx, w->mem, &dev, 0x100000 + (seed >> 50) * 4096, len[k], 0,
							CCMM_DMA_TO_DEVICE, 0, &tlb[k])) {
				len[k] = 0;
				w->full++;
			}
		}
	}
	for (k = 0; k < INFLIGHT; k++) {
		if (!len[k])
			continue;
		if (w->alloc_only)
			ccmm_swiotlb_free(w->mem, tlb[k]);
		else
			ccmm_swiotlb_tbl_unmap_single(&ctx, w->mem, &dev, tlb[k], len[k], CCMM_DMA_TO_DEVICE,
						      CCMM_DMA_ATTR_SKIP_CPU_SYNC);
	}
	w->seconds = now_s() - t0;
	return NULL;
}

/* map+unmap pairs per second over @nthreads threads, in a pool of 2048 slots with @nareas areas. */
static double run_mappers(struct ccmm_machine *m, int nthreads, unsigned nareas, bool alloc_only, uint64_t *full)
{
	struct ccmm_ctx ctx;
	struct ccmm_io_tlb_mem mem;
	struct worker w[2];
	pthread_t t[2];
	pthread_barrier_t start;
	uint64_t pool, ops = 0;
	double secs = 0;

	ccmm_ctx_init(&ctx, m, 0, "bench");
	if (ccmm_alloc_pages(&ctx, 0, 10, 0, &pool) || ccmm_io_tlb_mem_init(&mem, m, "bench", pool, 2048, nareas, false)) {
		fprintf(stderr, "bench: no pool\n");
		exit(1);
	}
	pthread_barrier_init(&start, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ m, &mem, alloc_only, i, &start, 0, 0, 0 };
		pthread_create(&t[i], NULL, mapper, &w[i]);
	}
	*full = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		ops += w[i].ops;
		*full += w[i].full;
		secs = secs > w[i].seconds ? secs : w[i].seconds;
	}
	if (ccmm_swiotlb_is_valid(&mem)) {
		fprintf(stderr, "bench: the pool is inconsistent\n");
		exit(1);
	}
	pthread_barrier_destroy(&start);
	ccmm_io_tlb_mem_fini(&mem);
	ccmm_free_pages(&ctx, pool, 10);
	return (double)ops / secs;
}

/* ---- 2. bounce copies against memcpy ------------------------------------------------------------ */

static double bounce_mbps(struct ccmm_machine *m, struct ccmm_io_tlb_mem *mem, uint64_t buf, size_t size)
{
	struct ccmm_ctx ctx;
	struct ccmm_swiotlb_dev dev = { .seg_boundary_mask = UINT32_MAX };
	uint64_t bytes = 0, tlb;
	double t0 = now_s(), t;

	ccmm_ctx_init(&ctx, m, 0, "bench");
	do {
		for (int i = 0; i < 8; i++) {
			if (ccmm_swiotlb_tbl_map_single(&ctx, mem, &dev, buf, size, 0, CCMM_DMA_BIDIRECTIONAL, 0, &tlb) ||
			    ccmm_swiotlb_tbl_unmap_single(&ctx, mem, &dev, tlb, size, CCMM_DMA_BIDIRECTIONAL, 0)) {
				fprintf(stderr, "bench: bounce failed\n");
				exit(1);
			}
			bytes += 2 * size;
		}
		t = now_s() - t0;
	} while (t < SECONDS / 2);
	return (double)bytes / t / 1e6;
}

static volatile uint8_t sink;

static double memcpy_mbps(size_t size)
{
	uint8_t *a = malloc(size), *b = malloc(size);
	uint64_t bytes = 0;
	double t0 = now_s(), t;

	memset(a, 1, size);
	memset(b, 2, size);
	do {
		for (int i = 0; i < 64; i++) {
			memcpy(b, a, size); /* in */
			memcpy(a, b, size); /* and out, as a bounce */
			a[i % size] ^= 1;
			bytes += 2 * size;
		}
		t = now_s() - t0;
	} while (t < SECONDS / 2);
	sink = b[size - 1];
	free(a);
	free(b);
	return (double)bytes / t / 1e6;
}

int main(void)
{
	struct ccmm_machine *m;
	uint64_t full0, full1, full2, buf;
	double single, one, per_cpu;
	static const size_t sizes[] = { 512, 4096, 65536, 262144 };
	struct ccmm_io_tlb_mem *mem;
	struct ccmm_ctx ctx;

	printf("ccmm SWIOTLB benchmarks (wall time of ccmm itself, not modeled time)\n\n");
	m = boot("[platform]\nmode=none\ncpus=2\n[node:0]\nmem=1g\n");
	printf("1. swiotlb, 2 threads on 2 CPUs, a pool of 2048 slots, 8 allocations in flight per thread\n");
	printf("   %-44s %14s %10s\n", "", "ops/s", "pool full");
	for (int alloc_only = 0; alloc_only < 2; alloc_only++) {
		single = run_mappers(m, 1, 1, alloc_only, &full0);
		one = run_mappers(m, 2, 1, alloc_only, &full1);
		per_cpu = run_mappers(m, 2, 2, alloc_only, &full2);
		printf("   %s\n", alloc_only ? "b) swiotlb_alloc + swiotlb_free, 2-16 KiB (slots and locks only)"
					  : "a) map + unmap, 64 B-1 KiB TO_DEVICE (with the copy in)");
		printf("      %-41s %14.0f %10" PRIu64 "\n", "2 threads, one area (one lock)", one, full1);
		printf("      %-41s %14.0f %10" PRIu64 "\n", "2 threads, one area per CPU", per_cpu, full2);
		printf("      %-41s %14.0f %10" PRIu64 "\n", "(reference: 1 thread, one area)", single, full0);
		printf("      one area per CPU / one area: %.2fx\n", per_cpu / one);
	}
	ccmm_shutdown(m);
	printf("   (host check: 2 spinning threads got %.2fx the throughput of 1 during this run; 2.00x = two free cores)\n\n",
	       parallel_speedup());

	m = boot("[platform]\nmode=tdx\ncpus=2\nswiotlb_size=2m\n[node:0]\nmem=1g\n");
	mem = ccmm_swiotlb_default(m);
	ccmm_ctx_init(&ctx, m, 0, "bench");
	if (ccmm_alloc_pages(&ctx, 0, 6, 0, &buf)) {
		fprintf(stderr, "bench: no buffer\n");
		return 1;
	}
	{
		/* fill the private buffer so the copies move real ciphertext */
		uint8_t *fill = malloc(262144);
		struct ccmm_result r;

		memset(fill, 0xa5, 262144);
		ccmm_kernel_access(&ctx, CCMM_WRITE, ccmm_phys_to_virt(buf), fill, 262144, &r);
		free(fill);
	}
	printf("2. bounce copy throughput (TDX guest: private buffer <-> shared pool, in and out) vs memcpy\n");
	printf("   %-10s %16s %16s %10s\n", "size", "bounce MB/s", "memcpy MB/s", "ratio");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		double b = bounce_mbps(m, mem, buf, sizes[i]);
		double c = memcpy_mbps(sizes[i]);
		char s[32];

		printf("   %-10s %16.1f %16.1f %9.1fx\n", ccmm_format_size(sizes[i], s, sizeof(s)), b, c, c / b);
	}
	ccmm_shutdown(m);
	return 0;
}
