// SPDX-License-Identifier: MIT
/*
 * SWIOTLB areas, ccmm's own speed (never modeled time): map+unmap
 * operations per second with 1, 2, ... all of this host's CPUs, each
 * thread on its own modeled CPU, in a pool with one area (every thread
 * takes the same lock) and in a pool with one area per CPU, in the same
 * run. Each thread keeps 8 mappings in flight.
 *   a) swiotlb_tbl_map_single + unmap of 64 B - 1 KiB TO_DEVICE buffers:
 *      the slot search, the area locks, the accounting and the copy in
 *      (which the kernel makes whatever the attributes), through the
 *      checker;
 *   b) swiotlb_alloc + swiotlb_free of 2-16 KiB: the slot search and the
 *      locks alone, where the areas matter most.
 *
 * For each row: operations per second of wall time, and per second of the
 * threads' CPU time. A host whose other work leaves fewer free cores than
 * threads shows in the wall figure, not in the CPU one; a shared lock,
 * counter or cache line shows in both (more CPU per operation, or time
 * spent asleep on a lock). So beside each thread count stands the host
 * check: how much more N spinning threads got done than one, just before.
 *
 * The bounce copy's throughput against memcpy and AES-XTS is bench_bounce.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "mm/mm.h"
#include "swiotlb/swiotlb.h"

#define SECONDS 0.3
#define INFLIGHT 8
#define MAX_THREADS 16
#define POOL_SLOTS 2048

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double thread_cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
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

	for (uint64_t i = 0; i < 30000000; i++)
		x += i;
	(void)arg;
	return NULL;
}

/* Work done by @n spinning threads over the time one takes for its share: about @n on @n free cores. */
static double parallel_speedup(int n)
{
	pthread_t t[MAX_THREADS];
	double t0 = now_s(), one, all;

	spin(NULL);
	one = now_s() - t0;
	t0 = now_s();
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, spin, NULL);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	all = now_s() - t0;
	return n * one / all;
}

/* ---- map+unmap on N threads ---------------------------------------------------------------------- */

struct worker {
	struct ccmm_machine *m;
	struct ccmm_io_tlb_mem *mem;
	bool alloc_only;
	int cpu;
	pthread_barrier_t *start;
	double seconds, cpu_seconds;
	uint64_t ops, full;
};

static void *mapper(void *arg)
{
	struct worker *w = arg;
	struct ccmm_ctx ctx;
	struct ccmm_swiotlb_dev dev = { .seg_boundary_mask = UINT32_MAX, .cpu = w->cpu };
	uint64_t tlb[INFLIGHT] = { 0 }, len[INFLIGHT] = { 0 }, seed = 0x9e3779b97f4a7c15ULL * (uint64_t)(w->cpu + 1);
	double t0, c0, end;
	unsigned k = 0;

	ccmm_ctx_init(&ctx, w->m, w->cpu, "bench");
	pthread_barrier_wait(w->start);
	t0 = now_s();
	c0 = thread_cpu_s();
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
	w->cpu_seconds = thread_cpu_s() - c0;
	return NULL;
}

struct rate {
	double wall, cpu; /* operations per second of wall time, and of the threads' CPU time */
	uint64_t full;
};

/* map+unmap pairs per second over @nthreads threads, in a pool of POOL_SLOTS slots with @nareas areas. */
static struct rate run_mappers(struct ccmm_machine *m, int nthreads, unsigned nareas, bool alloc_only)
{
	struct ccmm_ctx ctx;
	struct ccmm_io_tlb_mem mem;
	struct worker w[MAX_THREADS];
	pthread_t t[MAX_THREADS];
	pthread_barrier_t start;
	uint64_t pool, ops = 0;
	double secs = 0, cpu = 0;
	struct rate r = { 0, 0, 0 };

	ccmm_ctx_init(&ctx, m, 0, "bench");
	if (ccmm_alloc_pages(&ctx, 0, 10, 0, &pool) ||
	    ccmm_io_tlb_mem_init(&mem, m, "bench", pool, POOL_SLOTS, nareas, false)) {
		fprintf(stderr, "bench: no pool\n");
		exit(1);
	}
	pthread_barrier_init(&start, NULL, (unsigned)nthreads);
	for (int i = 0; i < nthreads; i++) {
		w[i] = (struct worker){ m, &mem, alloc_only, i, &start, 0, 0, 0, 0 };
		pthread_create(&t[i], NULL, mapper, &w[i]);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		ops += w[i].ops;
		r.full += w[i].full;
		cpu += w[i].cpu_seconds;
		secs = secs > w[i].seconds ? secs : w[i].seconds;
	}
	if (ccmm_swiotlb_is_valid(&mem)) {
		fprintf(stderr, "bench: the pool is inconsistent\n");
		exit(1);
	}
	pthread_barrier_destroy(&start);
	ccmm_io_tlb_mem_fini(&mem);
	ccmm_free_pages(&ctx, pool, 10);
	r.wall = (double)ops / secs;
	r.cpu = (double)ops / cpu;
	return r;
}

static unsigned roundup_pow2(unsigned x)
{
	unsigned r = 1;

	while (r < x)
		r <<= 1;
	return r;
}

int main(void)
{
	long online = sysconf(_SC_NPROCESSORS_ONLN);
	int cores = online < 1 ? 1 : online > MAX_THREADS ? MAX_THREADS : (int)online;
	unsigned per_cpu = roundup_pow2((unsigned)cores);
	struct ccmm_machine *m;
	char text[256];

	snprintf(text, sizeof(text), "[platform]\nmode=none\ncpus=%d\n[node:0]\nmem=1g\n", cores);
	m = boot(text);
	printf("ccmm SWIOTLB areas: map+unmap with 1 to %d threads (this host's CPUs), a pool of %d slots, %d allocations "
	       "in flight per thread;\none area against one area per CPU (%u), in the same run\n\n",
	       cores, POOL_SLOTS, INFLIGHT, per_cpu);
	for (int alloc_only = 0; alloc_only < 2; alloc_only++) {
		struct rate base[2] = { { 0, 0, 0 }, { 0, 0, 0 } };

		printf("%s\n", alloc_only ? "b) swiotlb_alloc + swiotlb_free, 2-16 KiB (slots and locks only)"
					  : "a) map + unmap, 64 B-1 KiB TO_DEVICE (with the copy in, through the checker)");
		printf("   %-8s %-14s %13s %14s %10s %11s %10s\n", "threads", "areas", "ops/s (wall)", "ops/CPU-s", "x 1 thread",
		       "pool full", "host check");
		for (int n = 1; n <= cores; n = n < cores && n * 2 > cores ? cores : n * 2) {
			double host = n > 1 ? parallel_speedup(n) : 1.0;

			for (int per = 0; per < 2; per++) {
				struct rate r = run_mappers(m, n, per ? per_cpu : 1, alloc_only);

				if (n == 1)
					base[per] = r;
				printf("   %-8d %-14s %13.0f %14.0f %9.2fx %11" PRIu64, n, per ? "one per CPU" : "one", r.wall,
				       r.cpu, r.wall / base[per].wall, r.full);
				if (per)
					printf("\n");
				else
					printf(" %9.2fx\n", host);
			}
		}
		printf("\n");
	}
	printf("(x 1 thread: wall-clock throughput against one thread on the same pool; host check: N spinning threads "
	       "against one just before the row, N.00x = N free cores)\n");
	ccmm_shutdown(m);
	return 0;
}
