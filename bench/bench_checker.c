// SPDX-License-Identifier: MIT
/*
 * bench_checker - ccmm's own speed: modeled accesses per second through
 * the checker, and bytes of metadata per modeled page.
 *
 * Accesses: 64-byte kernel reads and writes through the direct map to
 * random pages of the default platform (a TDX guest, 64 GiB), in three
 * forms: state only (no buffer: translate, look up the page, decide),
 * with data (the line moves through the memory-encryption engine: in the
 * default on-demand mode a copy when the keys match), and device DMA to
 * shared pages. One thread; the thread's CPU time, best of 5 runs of each
 * form (runs of the three forms alternate).
 *
 * Metadata: bytes allocated for page metadata (chunks of 512 x 32-byte
 * struct ccmm_page plus their lock, and the per-range chunk pointers)
 * divided by the pages touched, and by all modeled pages.
 *
 * usage: bench_checker [ACCESSES [FORM]]   (per run; default 1000000; FORM 0,
 * 1 or 2 runs that form only, for a profiler)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "boot/boot.h"
#include "check/check.h"
#include "mm/mm.h"

#define RUNS 5

/* The thread's CPU time: a busy host's other work does not count. */
static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 1000000;
	int only = argc > 2 ? atoi(argv[2]) : -1;
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;
	struct ccmm_ctx ctx;
	struct ccmm_result r;
	uint64_t *pages, npages = 4096, ram, touched;
	size_t meta;
	uint8_t buf[64] = { 1 };
	int ret;

	if (ccmm_platform_default(&p, &err) || ccmm_boot(p, 1, &m)) {
		fprintf(stderr, "bench_checker: boot failed\n");
		return 1;
	}
	ccmm_ctx_init(&ctx, m, 0, "bench");
	pages = calloc(npages, sizeof(*pages));
	for (uint64_t i = 0; i < npages; i++) {
		/* spread over both nodes */
		ret = ccmm_alloc_pages(&ctx, (int)(i & 1), 0, 0, &pages[i]);
		if (ret) {
			fprintf(stderr, "bench_checker: alloc failed\n");
			return 1;
		}
	}
	/* half the pages shared, for the DMA run */
	for (uint64_t i = 0; i < npages; i += 2)
		ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pages[i]), 1);

	printf("ccmm checker benchmark: %" PRIu64 " accesses per run, %" PRIu64 " pages, TDX guest, one thread; "
	       "CPU time, best of %d runs\n", n, npages, RUNS);
	for (int form = 0; form < 3; form++) {
		static const char *const what[] = { "state only (translate, page state, decide):",
						    "with data (one 64-byte line moved):        ",
						    "device DMA to shared pages, with data:     " };
		double best = 0;

		if (only >= 0 && form != only)
			continue;
		for (int run = 0; run < RUNS; run++) {
			double t0 = cpu_s(), rate;

			for (uint64_t i = 0; i < n; i++) {
				enum ccmm_rw rw = (i & 1) ? CCMM_WRITE : CCMM_READ;
				uint64_t pa;

				if (form == 2) {
					pa = pages[(ccmm_rng_next(&ctx.rng) % (npages / 2)) * 2] + (i & 63) * 64;
					ccmm_dma_access(&ctx, 0, NULL, rw, pa, buf, 64, &r);
				} else {
					pa = pages[ccmm_rng_next(&ctx.rng) % npages] + (i & 63) * 64;
					ccmm_kernel_access(&ctx, rw, ccmm_phys_to_virt(pa), form ? buf : NULL, 64, &r);
				}
			}
			rate = (double)n / (cpu_s() - t0);
			best = rate > best ? rate : best;
		}
		printf("  %s %10.0f accesses/s  (%.1f ns each)\n", what[form], best, 1e9 / best);
	}

	ram = ccmm_platform_ram(m->plat, -1) >> CCMM_PAGE_SHIFT;
	meta = ccmm_phys_metadata_bytes(m);
	touched = atomic_load(&m->phys.chunks_allocated) * CCMM_CHUNK_PAGES;
	printf("metadata per modeled page: %zu bytes of struct ccmm_page; touched (in an allocated 2 MiB chunk): %.2f bytes "
	       "(with the chunk's lock and counters); untouched: %.4f bytes (a directory pointer per GiB)\n",
	       sizeof(struct ccmm_page), (double)sizeof(struct ccmm_chunk) / CCMM_CHUNK_PAGES,
	       (double)sizeof(void *) / (CCMM_GiB >> CCMM_PAGE_SHIFT));
	printf("  this run: %" PRIu64 " GiB modeled (%" PRIu64 " pages), %zu chunks touched (%" PRIu64 " pages): %zu"
	       " bytes of metadata in all, %.3f bytes per modeled page\n",
	       ram >> 18, ram, (size_t)atomic_load(&m->phys.chunks_allocated), touched, meta, (double)meta / (double)ram);
	printf("  page data: %zu pages hold bytes, %zu bytes each (4 KiB + poison bits + line keys)\n",
	       (size_t)atomic_load(&m->phys.pages_with_data), sizeof(struct ccmm_page_data));
	free(pages);
	ccmm_shutdown(m);
	return 0;
}
