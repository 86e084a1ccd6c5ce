// SPDX-License-Identifier: MIT
/*
 * IOMMU windows and domains, and the pSeries rules of seed 002: the
 * I/O-space allocator, entries and their permissions, the bypass through a
 * dynamic window with a 64-bit mask, and a secure guest's bounce buffers
 * mapped through the DDW (only the pool, truncated down to 256 MiB) or
 * through the default 32-bit window, with the mask failures each choice
 * brings.
 */
#include "helpers.h"

#include "dma/dma.h"

#define DDW_TCE (64 * 1024)

static struct ccmm_machine *boot_text(const char *text)
{
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	if (ccmm_platform_parse("t.ini", text, &p, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	if (ccmm_boot(p, 3, &m))
		fail_msg("boot");
	return m;
}

/* A pSeries guest (secure or not) of 1 GiB: a 64-bit virtio-blk and a 32-bit NIC behind phb0. */
static struct ccmm_machine *pseries(const char *mode, const char *iommu_extra)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "[platform]\nmode=%s\ncpus=2\n[node:0]\nmem=1g\n"
		 "[iommu:phb0]\nkind=pseries-tce\npage_shift=12\ndma32_window=1g\nddw_page_shift=16\nddw_align=256m\n%s\n"
		 "[device:blk]\nclass=virtio-blk\npci_id=1af4:1042\niommu=phb0\nbar0=16k\n"
		 "[device:nic32]\nclass=nic\ndma_mask=32\niommu=phb0\n",
		 mode, iommu_extra);
	return boot_text(text);
}

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_dma_dev *blk, *nic;
	struct ccmm_iommu_unit *u;
};

static void fx_init(struct fx *f, struct ccmm_machine *m)
{
	f->m = m;
	ccmm_ctx_init(&f->ctx, m, 0, "drv");
	f->blk = ccmm_dma_dev(m, 0);
	f->nic = ccmm_dma_dev(m, 1);
	f->u = ccmm_iommu_unit_of(m, 0);
}

static uint64_t page(struct fx *f)
{
	uint64_t pa;

	assert_int_equal(ccmm_alloc_pages(&f->ctx, 0, 0, 0, &pa), 0);
	return pa;
}

static enum ccmm_outcome dev_rw(struct fx *f, struct ccmm_dma_dev *d, enum ccmm_rw rw, uint64_t dma, void *buf,
				size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_dma_device_access(&f->ctx, d, rw, dma, buf, len, &r), 0);
	return r.outcome;
}

static void kw(struct fx *f, uint64_t pa, const void *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_WRITE, ccmm_phys_to_virt(pa), (void *)data, len, &r), 0);
}

/* ---- the allocator ------------------------------------------------------------------ */

/* Bottom-up next fit with a wrap; limits, alignment, exhaustion, exact frees. */
static void test_window_alloc(void **state)
{
	struct fx f;
	struct ccmm_iommu_window *w;
	uint64_t a, b, c, d;

	fx_init(&f, pseries("none", "dma32_window=64k"));
	w = f.u->dma32;
	assert_non_null(w);
	assert_int_equal(w->size, 64 * 1024);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, UINT64_MAX, &a), 0);
	assert_int_equal(ccmm_iommu_alloc(w, 5000, 0, UINT64_MAX, &b), 0); /* two entries */
	assert_int_equal(a, 0);
	assert_int_equal(b, 4096);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 16384, UINT64_MAX, &c), 0); /* aligned */
	assert_int_equal(c, 16384);
	assert_int_equal(ccmm_iommu_free(w, a, 4096), 0);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, UINT64_MAX, &d), 0);
	assert_int_equal(d, 20480); /* next fit: after the last allocation, not the freed hole */
	assert_int_equal(ccmm_iommu_alloc(w, 40 * 1024, 0, UINT64_MAX, &d), 0);
	assert_int_equal(d, 24576);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, UINT64_MAX, &d), 0);
	assert_int_equal(d, 0); /* wrapped into the hole */
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, UINT64_MAX, &d), 0);
	assert_int_equal(d, 12288);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, UINT64_MAX, &d), -ENOSPC);
	assert_int_equal(ccmm_iommu_free(w, b, 8192), 0);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, 4095, &d), -ENOSPC); /* only [0, 4 KiB) is below the limit */
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, 8191, &d), 0);
	assert_int_equal(d, 4096);
	assert_int_equal(ccmm_iommu_free(w, d, 4096), 0);
	assert_int_equal(ccmm_iommu_free(w, d, 4096), -EINVAL);
	ccmm_shutdown(f.m);
}

/* Generic domains: top-down below the mask, never IOVA 0; a window starting above the limit is -ERANGE. */
static void test_domain_alloc(void **state)
{
	struct fx f;
	struct ccmm_iommu_window *w;
	uint64_t a, b;

	fx_init(&f, boot_text("[platform]\nmode=none\ncpus=2\n[node:0]\nmem=1g\n[iommu:vtd]\nkind=generic\n"
			      "[device:blk]\npci_id=1af4:1042\niommu=vtd\n[device:nic]\ndma_mask=32\niommu=vtd\n"));
	w = ccmm_iommu_domain(f.u, 1);
	assert_non_null(w);
	assert_ptr_equal(w, ccmm_iommu_domain(f.u, 1));
	assert_ptr_not_equal(w, ccmm_iommu_domain(f.u, 0));
	assert_int_equal(ccmm_iommu_alloc(w, 8192, 0, CCMM_DMA_BIT_MASK(32), &a), 0);
	assert_int_equal(a, 4 * CCMM_GiB - 8192);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, CCMM_DMA_BIT_MASK(32), &b), 0);
	assert_int_equal(b, a - 4096);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, 4095, &b), -ENOSPC); /* page 0 is never used */
	ccmm_shutdown(f.m);

	fx_init(&f, pseries("none", ""));
	assert_int_equal(ccmm_iommu_enable_ddw(&f.ctx, f.u, 0, 0, &w), 0);
	assert_int_equal(ccmm_iommu_alloc(w, 4096, 0, CCMM_DMA_BIT_MASK(32), &a), -ERANGE);
	ccmm_shutdown(f.m);
}

/* ---- generic IOMMU through the DMA API ----------------------------------------------------- */

/* Each mapping gets IOVA below the mask; TO_DEVICE entries are read-only for the device. */
static void test_generic_iommu_path(void **state)
{
	struct fx f;
	uint64_t pa, dma;
	char got[8];

	fx_init(&f, boot_text("[platform]\nmode=none\ncpus=2\n[node:0]\nmem=1g\n[iommu:vtd]\nkind=generic\n"
			      "[device:blk]\npci_id=1af4:1042\niommu=vtd\n[device:nic]\ndma_mask=32\niommu=vtd\n"));
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, NULL), 0);
	assert_int_equal(f.nic->path, CCMM_DMA_PATH_IOMMU);
	pa = page(&f);
	kw(&f, pa + 16, "via vt-d", 8);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, pa + 16, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	ccmm_dma_mapping_error(f.nic, dma);
	assert_int_equal(dma, 4 * CCMM_GiB - 4096 + 16);
	assert_int_equal(dev_rw(&f, f.nic, CCMM_READ, dma, got, 8), CCMM_OK);
	assert_memory_equal(got, "via vt-d", 8);
	assert_int_equal(dev_rw(&f, f.nic, CCMM_WRITE, dma, got, 8), CCMM_BLOCKED); /* read-only entry */
	assert_int_equal(nviol(f.m, "iommu_fault"), 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(iommu, tce_entries)], 1);
	assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.nic, dma, 8, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_iommu_domain(f.u, 1)->entries, 0);
	assert_int_equal(dev_rw(&f, f.nic, CCMM_READ, dma, got, 8), CCMM_BLOCKED); /* gone from the IOMMU */
	assert_int_equal(nviol(f.m, "iommu_fault"), 2);
	assert_int_equal(nviol(f.m, "dma_device_unmapped"), 1);
	ccmm_shutdown(f.m);
}

/* ---- pSeries, not secure ----------------------------------------------------------------------- */

/* TCEs per mapping in the 32-bit window; a 64-bit mask bypasses through a DDW over all RAM. */
static void test_pseries_bypass(void **state)
{
	struct fx f;
	struct ccmm_iommu_window_stats ws;
	uint64_t pa, dma;
	char got[8];

	fx_init(&f, pseries("none", ""));
	assert_null(ccmm_swiotlb_default(f.m)); /* pSeries hosts do not bounce */
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), 0);
	assert_int_equal(f.blk->path, CCMM_DMA_PATH_IOMMU);
	pa = page(&f);
	kw(&f, pa, "tce path", 8);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, pa, 8, CCMM_DMA_BIDIRECTIONAL, 0, &dma), 0);
	ccmm_dma_mapping_error(f.blk, dma);
	assert_true(dma < CCMM_GiB);
	assert_int_equal(f.u->dma32->entries, 1);
	assert_int_equal(f.ctx.cost_n[CCMM_COST_hypercall_ns], 1); /* one H_PUT_TCE */
	assert_int_equal(dev_rw(&f, f.blk, CCMM_READ, dma, got, 8), CCMM_OK);
	assert_memory_equal(got, "tce path", 8);
	ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 8, CCMM_DMA_BIDIRECTIONAL, 0);
	assert_int_equal(f.u->dma32->entries, 0);

	/* 64-bit: bypass; the DDW maps all of RAM at 2^59 */
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64), 0);
	assert_int_equal(f.blk->path, CCMM_DMA_PATH_BYPASS);
	ccmm_iommu_window_stats(f.u->ddw, &ws);
	assert_int_equal(ws.bus_base, CCMM_DDW_BUS_BASE);
	assert_int_equal(ws.fixed_lo, 0);
	assert_int_equal(ws.fixed_hi, CCMM_GiB);
	assert_int_equal(ws.entries, CCMM_GiB / DDW_TCE);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, pa, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(dma, pa + CCMM_DDW_BUS_BASE);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_READ, dma, got, 8), CCMM_OK);
	assert_memory_equal(got, "tce path", 8);
	ccmm_dma_mapping_error(f.blk, dma);
	ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 8, CCMM_DMA_TO_DEVICE, 0);
	/* the 32-bit NIC stays on TCEs */
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.nic, 32), 0);
	assert_int_equal(f.nic->path, CCMM_DMA_PATH_IOMMU);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);

	/* no 32-bit window and no DDW: no mask is supported */
	fx_init(&f, pseries("none", "dma32_window=0\nddw=no"));
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 64), -EIO);
	ccmm_shutdown(f.m);
}

/* ---- pSeries secure guest, bounce buffers in the DDW (seed 002, the merged approach) ------------- */

static void test_svm_ddw(void **state)
{
	struct fx f;
	struct ccmm_io_tlb_mem *mem;
	struct ccmm_iommu_window_stats ws;
	uint64_t pa, dma, cdma, cva, outside;
	char got[8];

	fx_init(&f, pseries("pseries-svm", ""));
	mem = ccmm_swiotlb_default(f.m);
	/* the pool: 64 MiB at the top of the 1 GiB guest */
	assert_int_equal(mem->start, CCMM_GiB - 64 * CCMM_MiB);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), 0);
	assert_int_equal(f.blk->svm_window, CCMM_SVM_WINDOW_DDW);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64), 0);
	assert_int_equal(f.blk->path, CCMM_DMA_PATH_BYPASS);
	/* only the bounce range, truncated down to 256 MiB: [768 MiB, 1 GiB) */
	ccmm_iommu_window_stats(f.u->ddw, &ws);
	assert_int_equal(ws.fixed_lo, 768 * CCMM_MiB);
	assert_int_equal(ws.fixed_hi, CCMM_GiB);
	assert_int_equal(ws.entries, 256 * CCMM_MiB / DDW_TCE);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(iommu, tce_entries)], 4096);
	assert_int_equal(f.ctx.cost_n[CCMM_COST_hypercall_ns], 8); /* 4096 TCEs, 512 per H_PUT_TCE_INDIRECT */

	pa = page(&f);
	kw(&f, pa, "svm data", 8);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, pa, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	ccmm_dma_mapping_error(f.blk, dma);
	assert_true(dma >= CCMM_DDW_BUS_BASE + mem->start && dma < CCMM_DDW_BUS_BASE + mem->end);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_READ, dma, got, 8), CCMM_OK);
	assert_memory_equal(got, "svm data", 8);
	ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 8, CCMM_DMA_TO_DEVICE, 0);
	/* memory outside the mapped range is unreachable through the DDW, even shared */
	outside = page(&f);
	assert_true(outside < ws.fixed_lo);
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, ccmm_phys_to_virt(outside), 1), 0);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_READ, outside + CCMM_DDW_BUS_BASE, got, 8), CCMM_BLOCKED);
	assert_int_equal(nviol(f.m, "iommu_fault"), 1);

	/* a coherent buffer gets its own DDW entries, released at free */
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.blk, 4096, &cdma, &cva), 0);
	assert_int_equal(cdma, ccmm_virt_to_phys(cva) + CCMM_DDW_BUS_BASE);
	assert_int_equal(f.u->ddw->entries, 4096 + 1);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_WRITE, cdma, "shared!", 8), CCMM_OK);
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 4096, cva, cdma), 0);
	assert_int_equal(f.u->ddw->entries, 4096);

	/* the 32-bit NIC: no window its mask reaches; failed cleanly, never silently */
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.nic, 32), 0);
	assert_int_equal(f.nic->path, CCMM_DMA_PATH_IOMMU);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, pa, 8, CCMM_DMA_TO_DEVICE, 0, &dma), -EIO);
	assert_int_equal(dma, CCMM_DMA_MAPPING_ERROR);
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.nic, 4096, &cdma, &cva), -EIO);
	assert_int_equal(nviol(f.m, "dma_window_unreachable"), 2);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, dma_map_fail_window)], 2);
	assert_int_equal(f.nic->fail[CCMM_DMA_FAIL_WINDOW], 2);
	assert_non_null(strstr(last_event(f.m).msg, "64-bit dynamic window"));
	ccmm_shutdown(f.m);
}

/* ---- pSeries secure guest, bounce buffers in the 32-bit window (the seed's alternative) ------------ */

static void test_svm_dma32(void **state)
{
	struct fx f;
	struct ccmm_io_tlb_mem *mem;
	struct ccmm_dma_probe_opts o = { .window = CCMM_SVM_WINDOW_DMA32 };
	uint64_t pa, dma, cdma, cva;
	char got[8];

	fx_init(&f, pseries("pseries-svm", ""));
	mem = ccmm_swiotlb_default(f.m);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, &o), 0);
	/* the pool is mapped once, whole, into the 32-bit window */
	assert_int_equal(f.u->dma32->entries, (mem->end - mem->start) / 4096);
	assert_null(f.u->ddw);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, &o), 0);
	assert_int_equal(f.u->dma32->entries, (mem->end - mem->start) / 4096);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64), 0);
	assert_int_equal(f.blk->path, CCMM_DMA_PATH_IOMMU); /* no bypass with this choice */
	assert_null(f.u->ddw);

	pa = page(&f);
	kw(&f, pa, "32bit ok", 8);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, pa, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	ccmm_dma_mapping_error(f.nic, dma);
	assert_true(dma < CCMM_GiB);
	assert_int_equal(dev_rw(&f, f.nic, CCMM_READ, dma, got, 8), CCMM_OK);
	assert_memory_equal(got, "32bit ok", 8);
	ccmm_dma_unmap_page(&f.ctx, f.nic, dma, 8, CCMM_DMA_TO_DEVICE, 0);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, pa, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	ccmm_dma_mapping_error(f.blk, dma);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_READ, dma, got, 8), CCMM_OK);
	ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 8, CCMM_DMA_TO_DEVICE, 0);

	/* coherent memory: shared pages with a TCE each in the window */
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.nic, 8192, &cdma, &cva), 0);
	assert_true(cdma < CCMM_GiB);
	assert_int_equal(f.u->dma32->entries, (mem->end - mem->start) / 4096 + 2);
	assert_int_equal(dev_rw(&f, f.nic, CCMM_WRITE, cdma + 4096, "ring!!!", 8), CCMM_OK);
	{
		struct ccmm_result r;

		assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_READ, cva + 4096, got, 8, &r), 0);
		assert_memory_equal(got, "ring!!!", 8);
	}
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.nic, 8192, cva, cdma), 0);
	assert_int_equal(f.u->dma32->entries, (mem->end - mem->start) / 4096);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);
}

/* The 32-bit window choice fails cleanly when the pool does not fit, or lies beyond a small mask. */
static void test_svm_dma32_failures(void **state)
{
	struct fx f;
	struct ccmm_dma_probe_opts o = { .window = CCMM_SVM_WINDOW_DMA32 };
	uint64_t used, pa, dma;

	/* a 32 MiB window cannot hold the 64 MiB pool: probe refused */
	fx_init(&f, pseries("pseries-svm", "dma32_window=32m"));
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, &o), -EIO);
	assert_int_equal(nviol(f.m, "dma_window_unreachable"), 1);
	assert_false(f.nic->probed);
	ccmm_shutdown(f.m);

	/* the window's first 512 MiB are taken: the pool lands at 512 MiB, beyond a 29-bit mask */
	fx_init(&f, pseries("pseries-svm", ""));
	assert_int_equal(ccmm_iommu_alloc(f.u->dma32, 512 * CCMM_MiB, 0, UINT64_MAX, &used), 0);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, &o), 0);
	assert_int_equal(f.nic->pool_iova, 512 * CCMM_MiB);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.nic, 29), 0);
	pa = page(&f);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, pa, 8, CCMM_DMA_TO_DEVICE, 0, &dma), -EIO);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, dma_map_fail_mask)], 1);
	assert_int_equal(ccmm_swiotlb_default(f.m)->total_used, 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.nic, 30), 0);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, pa, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	ccmm_dma_mapping_error(f.nic, dma);
	ccmm_dma_unmap_page(&f.ctx, f.nic, dma, 8, CCMM_DMA_TO_DEVICE, 0);
	ccmm_shutdown(f.m);

	/* asking for the DDW on a unit without one leaves no window at all */
	fx_init(&f, pseries("pseries-svm", "ddw=no"));
	{
		struct ccmm_dma_probe_opts ddw = { .window = CCMM_SVM_WINDOW_DDW };

		assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, &ddw), 0);
		assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 64), 0);
		assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, page(&f), 8, CCMM_DMA_TO_DEVICE, 0, &dma), -EIO);
		assert_int_equal(nviol(f.m, "dma_window_unreachable"), 1);
	}
	ccmm_shutdown(f.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_alloc),
		cmocka_unit_test(test_domain_alloc),
		cmocka_unit_test(test_generic_iommu_path),
		cmocka_unit_test(test_pseries_bypass),
		cmocka_unit_test(test_svm_ddw),
		cmocka_unit_test(test_svm_dma32),
		cmocka_unit_test(test_svm_dma32_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
