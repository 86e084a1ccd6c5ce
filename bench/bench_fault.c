// SPDX-License-Identifier: MIT
/*
 * TTM fault cost with the protection resolved once per BO versus per
 * page (seed 000: Daniel's "repeated (per-pfn/pte) lookup of the PAT
 * tables, which are dead slow. If you have a struct io_mapping then that
 * can be done once"). A 16 MiB BO in TT (decrypted pool pages, TDX guest)
 * and one in VRAM are mapped into a process; every page is touched, the
 * mapping zapped (as a move does), and again. The same access with every
 * PTE present is the baseline that the fault handling adds to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "boot/boot.h"
#include "ttm/ttm.h"

#define BO_SIZE (16 * CCMM_MiB)
#define ROUNDS 5

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* Touch one byte of every page; with @zap, zap the PTEs first so each touch faults. */
static double touch_all(struct ccmm_ctx *ctx, struct ccmm_mm *mm, struct ccmm_ttm_bo *bo, struct ccmm_vma *vma, bool zap)
{
	double best = 1e30;

	for (int r = 0; r < ROUNDS; r++) {
		double t0, t1;

		if (zap)
			ccmm_ttm_bo_unmap_virtual(ctx, bo);
		t0 = now_ns();
		for (uint64_t off = 0; off < BO_SIZE; off += CCMM_PAGE_SIZE) {
			struct ccmm_result res;
			uint8_t b;

			if (ccmm_mm_access(ctx, mm, CCMM_READ, vma->start + off, &b, 1, &res) ||
			    (res.outcome != CCMM_OK && !res.handled)) {
				fprintf(stderr, "access failed at +%llu: %s\n", (unsigned long long)off, ccmm_outcome_name(res.outcome));
				exit(1);
			}
		}
		t1 = now_ns();
		if (t1 - t0 < best)
			best = t1 - t0;
	}
	return best / (BO_SIZE / CCMM_PAGE_SIZE);
}

int main(void)
{
	const char *text = "[platform]\ncpus=4\nmode=tdx\n[node:0]\nmem=1g\n"
			   "[device:gpu0]\nclass=gpu\ndma_mask=46\nbar0=64m pref\n";
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_ttm_params tp;
	struct ccmm_ttm_device *tdev;
	struct ccmm_mm *mm;
	const enum ccmm_ttm_mem_type types[2] = { CCMM_TTM_PL_TT, CCMM_TTM_PL_VRAM };

	if (ccmm_platform_parse("bench", text, &p, &err) || ccmm_boot(p, 1, &m)) {
		fprintf(stderr, "cannot boot\n");
		return 1;
	}
	ccmm_ctx_init(&ctx, m, 0, "bench");
	ccmm_ttm_params_default(&tp, 0);
	tp.dma_no_filter = true; /* a GPU is not on the TDX allow-list: authorized, as the kernel's override does */
	if (ccmm_ttm_device_init(&ctx, &tp, &tdev) || ccmm_mm_create(m, CCMM_INIT_USER, "app", &mm))
		return 1;
	printf("TTM fault-in cost, 16 MiB BO, %u PTEs per fault, TDX guest, best of %d rounds (wall time per 4 KiB page)\n\n",
	       tp.prefault, ROUNDS);
	printf("  %-6s %-22s %12s %14s %14s\n", "where", "protection resolved", "fault-in ns", "present ns", "fault part ns");
	for (int t = 0; t < 2; t++) {
		struct ccmm_ttm_placement pl = { 1, { { types[t], CCMM_CACHE_WC } } };
		struct ccmm_ttm_bo *bo;
		struct ccmm_vma *vma;
		double per[2], present;

		if (ccmm_ttm_bo_create(&ctx, tdev, BO_SIZE, &pl, "bench", NULL, &bo) ||
		    ccmm_ttm_bo_mmap(&ctx, bo, mm, 0, BO_SIZE / CCMM_PAGE_SIZE, true, &vma))
			return 1;
		for (int r = 0; r < 2; r++) {
			ccmm_ttm_device_set_policy(tdev, CCMM_TTM_PROT_BACKING,
						   r ? CCMM_TTM_RESOLVE_PER_PAGE : CCMM_TTM_RESOLVE_PER_BO);
			per[r] = touch_all(&ctx, mm, bo, vma, true);
		}
		present = touch_all(&ctx, mm, bo, vma, false);
		for (int r = 0; r < 2; r++)
			printf("  %-6s %-22s %12.1f %14.1f %14.1f\n", t ? "vram" : "tt", r ? "per page (PAT-style)" : "once per BO",
			       per[r], present, per[r] - present);
		printf("  %-6s %-22s %12.2fx %14s %13.2fx\n\n", "", "per page / per BO", per[1] / per[0], "",
		       (per[1] - present) / (per[0] - present));
		ccmm_munmap(&ctx, mm, vma->start, vma->end - vma->start);
		ccmm_ttm_bo_put(&ctx, bo);
	}
	if (ccmm_events_count(m))
		printf("warning: %zu violation(s) recorded\n", ccmm_events_count(m));
	ccmm_mm_destroy(&ctx, mm);
	ccmm_shutdown(m);
	return 0;
}
