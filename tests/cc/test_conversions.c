// SPDX-License-Identifier: MIT
/* Every conversion rule: alignment, flushes, per-mode secure-world steps, errors, refusals, history, costs. */
#include "helpers.h"

#include "cc/cc.h"

static struct ccmm_machine *m;
static struct ccmm_ctx ctx;

static void up(const char *lines)
{
	m = test_boot(lines);
	ccmm_ctx_init(&ctx, m, 3, "converter");
}

static void down(void)
{
	ccmm_shutdown(m);
	m = NULL;
}

static uint64_t pages(unsigned order)
{
	uint64_t pa;

	assert_int_equal(ccmm_alloc_pages(&ctx, 0, order, 0, &pa), 0);
	return pa;
}

static enum ccmm_page_state st(uint64_t pa)
{
	struct ccmm_page pg;

	assert_int_equal(ccmm_phys_peek(m, pa, &pg), 0);
	return (enum ccmm_page_state)pg.state;
}

static uint64_t pte_of(uint64_t va, unsigned *level)
{
	struct ccmm_walk w;

	assert_int_equal(ccmm_pgt_walk(ccmm_kernel(m)->init_mm, va, &w), 0);
	if (level)
		*level = w.level;
	return w.pte;
}

static void test_alignment_and_range(void **state)
{
	up("mode=tdx");
	/* misaligned: the kernel's WARN, -EINVAL, nothing changes */
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pages(0)) + 8, 1), -EINVAL);
	assert_int_equal(nviol(m, "conversion_unaligned"), 1);
	assert_int_equal(ctx.ctr[CCMM_CTR_mapgpa_calls], 0);
	/* not in the direct map, or not RAM */
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, 0x400000, 1), -EFAULT);
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(3ULL << 30), 1), -EFAULT);
	assert_int_equal(ccmm_cc_convert(&ctx, m->plat->devices[0].bar[0].base, 1, false, NULL), -EINVAL);
	assert_int_equal(ccmm_cc_convert(&ctx, 4096 + 1, 1, false, NULL), -EINVAL);
	/* past the end of RAM */
	assert_int_equal(ccmm_cc_convert(&ctx, (1ULL << 30) - 4096, 2, false, NULL), -EINVAL);
	/* zero pages: nothing to do */
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pages(0)), 0), 0);
	down();
}

static void test_none_is_a_noop(void **state)
{
	uint64_t pa;

	up("mode=none");
	pa = pages(0);
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pa), 1), 0);
	assert_int_equal(st(pa), CCMM_PS_SHARED);
	assert_int_equal(ctx.now_ns, 0);
	assert_int_equal(ctx.ctr[CCMM_CTR_conversion_calls], 0);
	down();
}

static void test_sev_direct_map_split_and_flush(void **state)
{
	uint64_t pa, va;
	unsigned level;
	struct ccmm_hist_rec h[4];
	struct ccmm_page pg;

	up("mode=sev");
	pa = pages(0);
	va = ccmm_phys_to_virt(pa);
	pte_of(va, &level);
	assert_int_equal(level, 3); /* the direct map starts with 1 GiB pages */
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, va, 1), 0);
	/* split 1G -> 2M -> 4K; only this page lost the C-bit */
	assert_int_equal(ctx.ctr[CCMM_CTR_cpa_splits], 2);
	assert_false(ccmm_pte_is_private(m, pte_of(va, &level)));
	assert_int_equal(level, 1);
	assert_true(ccmm_pte_is_private(m, pte_of(va + 4096, NULL)));
	assert_int_equal(st(pa), CCMM_PS_SHARED);
	assert_int_equal(st(pa + 4096), CCMM_PS_PRIVATE);
	/* SEV without SME_COHERENT flushes the page's lines first, and the TLB after */
	assert_int_equal(ctx.ctr[CCMM_CTR_cache_flushes], 1);
	assert_int_equal(ctx.cost_n[CCMM_COST_clflush_line_ns], 64);
	assert_true(ctx.ctr[CCMM_CTR_tlb_flushes] >= 1);
	assert_int_equal(ctx.ctr[CCMM_CTR_to_shared], 1);
	/* history: one record, by this actor */
	assert_int_equal(ccmm_phys_peek(m, pa, &pg), 0);
	assert_int_equal(ccmm_cc_history(m, pg.hist, h, 4), 1);
	assert_int_equal(h[0].op, CCMM_CONV_TO_SHARED);
	assert_int_equal(h[0].from, CCMM_PS_PRIVATE);
	assert_int_equal(h[0].to, CCMM_PS_SHARED);
	assert_int_equal(h[0].actor, 3);
	assert_int_equal(ccmm_set_memory_encrypted(&ctx, va, 1), 0);
	assert_int_equal(ccmm_phys_peek(m, pa, &pg), 0);
	assert_int_equal(ccmm_cc_history(m, pg.hist, h, 4), 2);
	assert_int_equal(h[0].op, CCMM_CONV_TO_PRIVATE); /* newest first */
	assert_true(ccmm_pte_is_private(m, pte_of(va, NULL)));
	/* a large conversion flushes with WBINVD when that is cheaper */
	{
		uint64_t big = pages(10);

		assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(big), 1024), 0);
		assert_int_equal(ctx.cost_n[CCMM_COST_wbinvd_ns], 1);
	}
	down();
}

static void test_tdx_rules(void **state)
{
	uint64_t pa;
	char buf[16];
	struct ccmm_result r;

	up("mode=tdx");
	pa = pages(0);
	assert_int_equal(ccmm_kernel_access(&ctx, CCMM_WRITE, ccmm_phys_to_virt(pa), "private data", 12, &r), 0);
	/* MapGPA(shared): out of the S-EPT, contents lost; one TDVMCALL */
	assert_int_equal(ccmm_tdx_map_gpa(&ctx, pa, 1, CCMM_TDX_MAP_SHARED, NULL), 0);
	assert_int_equal(st(pa), CCMM_PS_SHARED);
	assert_int_equal(ctx.cost_n[CCMM_COST_tdvmcall_ns], 1);
	assert_int_equal(ctx.cost_n[CCMM_COST_tdx_mapgpa_page_ns], 1);
	/* accepting a page nobody added fails */
	assert_int_equal(ccmm_tdx_accept_page(&ctx, pa), -EINVAL);
	/* MapGPA(private): pending until accepted */
	assert_int_equal(ccmm_tdx_map_gpa(&ctx, pa, 1, CCMM_TDX_MAP_PRIVATE, NULL), 0);
	assert_int_equal(st(pa), CCMM_PS_PENDING);
	assert_int_equal(ccmm_tdx_accept_page(&ctx, pa), 0);
	assert_int_equal(st(pa), CCMM_PS_PRIVATE);
	/* accepting twice is the TDX module's TDX_PAGE_ALREADY_ACCEPTED */
	assert_int_equal(ccmm_tdx_accept_page(&ctx, pa), -EEXIST);
	/* an accepted page reads as zeros */
	assert_int_equal(ccmm_kernel_access(&ctx, CCMM_READ, ccmm_phys_to_virt(pa), buf, 12, &r), 0);
	for (int i = 0; i < 12; i++)
		assert_int_equal(buf[i], 0);
	/* the shared bit in the GPA is ignored by MapGPA; misaligned and non-RAM GPAs are not */
	assert_int_equal(ccmm_tdx_map_gpa(&ctx, pa | m->enc_mask, 1, CCMM_TDX_MAP_SHARED, NULL), 0);
	assert_int_equal(st(pa), CCMM_PS_SHARED);
	assert_int_equal(ccmm_tdx_map_gpa(&ctx, pa + 1, 1, CCMM_TDX_MAP_SHARED, NULL), -EINVAL);
	assert_int_equal(ccmm_tdx_map_gpa(&ctx, m->plat->devices[0].bar[0].base, 1, CCMM_TDX_MAP_SHARED, NULL), -EINVAL);
	/* TDX primitives refuse other modes */
	down();
	up("mode=sev");
	assert_int_equal(ccmm_tdx_map_gpa(&ctx, 0, 1, CCMM_TDX_MAP_SHARED, NULL), -EINVAL);
	assert_int_equal(ccmm_snp_psmash(&ctx, 0), -EINVAL);
	down();
}

static void test_refusal_leaks(void **state)
{
	uint64_t pa, va, done = 99;

	up("mode=tdx");
	pa = pages(2); /* 4 pages */
	va = ccmm_phys_to_virt(pa);
	/* the VMM converts two pages and refuses the third */
	ccmm_cc_fail_after(m, 2);
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, va, 4), -EIO);
	assert_int_equal(st(pa), CCMM_PS_SHARED);
	assert_int_equal(st(pa + 4096), CCMM_PS_SHARED);
	assert_int_equal(st(pa + 2 * 4096), CCMM_PS_PRIVATE);
	/* the PTEs of the pages not converted are back to private */
	assert_false(ccmm_pte_is_private(m, pte_of(va, NULL)));
	assert_true(ccmm_pte_is_private(m, pte_of(va + 2 * 4096, NULL)));
	/* the kernel leaks the whole range: freeing it keeps it out of the allocator */
	{
		uint64_t before = ccmm_node_free_pages(m, 0);

		assert_int_equal(ccmm_free_pages(&ctx, pa, 2), -EBUSY);
		assert_int_equal(ccmm_node_free_pages(m, 0), before);
		assert_int_equal(nviol(m, "conversion_failed"), 0);
	}
	/* one refusal only */
	assert_int_equal(ccmm_cc_convert(&ctx, pages(0), 1, false, &done), 0);
	assert_int_equal(done, 1);
	down();

	/* a kernel that frees such pages anyway */
	up("mode=tdx");
	ccmm_kernel(m)->knobs.no_leak_on_error = true;
	pa = pages(0);
	ccmm_cc_fail_after(m, 0);
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pa), 1), -EIO);
	assert_int_equal(ccmm_free_pages(&ctx, pa, 0), 0);
	assert_int_equal(nviol(m, "conversion_failed"), 1);
	down();
}

static void test_snp_rmp_rules(void **state)
{
	uint64_t base;

	up("mode=sev-snp");
	base = pages(9); /* a 2 MiB block */
	assert_true(CCMM_IS_ALIGNED(base, CCMM_PMD_SIZE));
	/* the hypervisor makes it one 2 MiB RMP entry, assigned and not validated */
	assert_int_equal(ccmm_snp_rmpupdate(&ctx, base, true, true), 0);
	assert_int_equal(st(base + 4096), CCMM_PS_PENDING);
	/* 4 KiB PVALIDATE inside a 2 MiB entry: FAIL_SIZEMISMATCH */
	assert_int_equal(ccmm_snp_pvalidate(&ctx, base + 4096, false, true), -ERANGE);
	/* 4 KiB RMPUPDATE inside it: PSMASH first */
	assert_int_equal(ccmm_snp_rmpupdate(&ctx, base + 4096, false, false), -EBUSY);
	/* 2 MiB PVALIDATE validates the whole entry */
	assert_int_equal(ccmm_snp_pvalidate(&ctx, base, true, true), 0);
	assert_int_equal(st(base + 511 * 4096), CCMM_PS_PRIVATE);
	assert_int_equal(ccmm_snp_pvalidate(&ctx, base, true, true), -EALREADY);
	/* PSMASH keeps validation, then 4 KiB operations work */
	assert_int_equal(ccmm_snp_psmash(&ctx, base + 4096), -EINVAL); /* not 2 MiB aligned */
	assert_int_equal(ccmm_snp_psmash(&ctx, base), 0);
	assert_int_equal(ccmm_snp_psmash(&ctx, base), -EINVAL); /* no longer a 2 MiB entry */
	assert_int_equal(st(base + 4096), CCMM_PS_PRIVATE);
	assert_int_equal(ccmm_snp_pvalidate(&ctx, base + 4096, false, false), 0);
	assert_int_equal(st(base + 4096), CCMM_PS_PENDING);
	assert_int_equal(ccmm_snp_pvalidate(&ctx, base + 4096, true, true), -EINVAL); /* misaligned */
	assert_int_equal(ccmm_snp_pvalidate(&ctx, base, true, true), -ERANGE); /* entries are 4 KiB now */
	/* PVALIDATE of a hypervisor-owned page: FAIL_INPUT */
	assert_int_equal(ccmm_snp_rmpupdate(&ctx, base + 8192, false, false), 0);
	assert_int_equal(ccmm_snp_pvalidate(&ctx, base + 8192, false, true), -EINVAL);
	assert_int_equal(ctx.ctr[CCMM_CTR_psmashes], 1);
	down();
}

static void test_snp_set_memory(void **state)
{
	uint64_t base;

	up("mode=sev-snp");
	base = pages(9);
	assert_int_equal(ccmm_snp_rmpupdate(&ctx, base, true, true), 0);
	assert_int_equal(ccmm_snp_pvalidate(&ctx, base, true, true), 0);
	/* sharing one page of a 2 MiB entry: the hypervisor PSMASHes, the guest
	 * rescinds that page, one page-state change, a flush before */
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(base + 4096), 1), 0);
	assert_int_equal(st(base + 4096), CCMM_PS_SHARED);
	assert_int_equal(st(base), CCMM_PS_PRIVATE);
	assert_int_equal(ctx.ctr[CCMM_CTR_psmashes], 1);
	assert_int_equal(ctx.ctr[CCMM_CTR_psc_requests], 1);
	assert_int_equal(ctx.ctr[CCMM_CTR_cache_flushes], 1);
	/* and back: page-state change, then PVALIDATE */
	assert_int_equal(ccmm_set_memory_encrypted(&ctx, ccmm_phys_to_virt(base + 4096), 1), 0);
	assert_int_equal(st(base + 4096), CCMM_PS_PRIVATE);
	assert_int_equal(ctx.ctr[CCMM_CTR_psc_requests], 2);
	down();
}

static void test_pseries_uv(void **state)
{
	uint64_t pa;

	up("mode=pseries-svm");
	pa = pages(1);
	assert_int_equal(ccmm_uv_share_page(&ctx, pa >> 12, 2, NULL), 0);
	assert_int_equal(st(pa + 4096), CCMM_PS_SHARED);
	assert_int_equal(ctx.cost_n[CCMM_COST_uv_call_ns], 2);
	assert_int_equal(ccmm_uv_unshare_page(&ctx, pa >> 12, 1, NULL), 0);
	assert_int_equal(st(pa), CCMM_PS_PRIVATE);
	assert_int_equal(ccmm_uv_share_page(&ctx, m->plat->devices[0].bar[0].base >> 12, 1, NULL), -EINVAL);
	/* no PTE bit: set_memory_decrypted leaves the direct map alone */
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pa), 1), 0);
	assert_int_equal(ctx.ctr[CCMM_CTR_cpa_splits], 0);
	assert_int_equal(ctx.ctr[CCMM_CTR_cache_flushes], 0);
	down();
}

static void test_private_mapped_by_host(void **state)
{
	struct ccmm_mm *vmm;
	struct ccmm_vma *vma;
	uint64_t pa;

	up("mode=sev-snp");
	assert_int_equal(ccmm_mm_create(m, CCMM_INIT_HOST, "qemu", &vmm), 0);
	pa = pages(0);
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pa), 1), 0);
	assert_int_equal(ccmm_mmap(&ctx, vmm, 0, 4096, CCMM_VM_READ | CCMM_VM_WRITE, CCMM_PTE_RW, NULL, NULL, &vma), 0);
	assert_int_equal(ccmm_remap_pfn_range(&ctx, vma, vma->start, pa, 4096, 4096, CCMM_PTE_RW), 0);
	assert_int_equal(ccmm_set_memory_encrypted(&ctx, ccmm_phys_to_virt(pa), 1), 0);
	assert_int_equal(nviol(m, "private_mapped_by_host"), 1);
	/* unmapped first: fine */
	assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pa), 1), 0);
	assert_int_equal(ccmm_munmap(&ctx, vmm, vma->start, 4096), 0);
	assert_int_equal(ccmm_set_memory_encrypted(&ctx, ccmm_phys_to_virt(pa), 1), 0);
	assert_int_equal(nviol(m, "private_mapped_by_host"), 1);
	ccmm_mm_destroy(&ctx, vmm);
	down();
}

static void test_conversion_costs_by_mode(void **state)
{
	static const char *const modes[] = { "mode=sev", "mode=sev-snp", "mode=tdx", "mode=pseries-svm" };
	uint64_t t[4];

	/* converting 16 pages charges modeled time in every CC mode, and the
	 * secure-world round trips make SNP and TDX dearer than SEV */
	for (int i = 0; i < 4; i++) {
		up(modes[i]);
		assert_int_equal(ccmm_set_memory_decrypted(&ctx, ccmm_phys_to_virt(pages(4)), 16), 0);
		t[i] = ctx.now_ns;
		assert_true(t[i] > 0);
		down();
	}
	assert_true(t[1] > t[0]);
	assert_true(t[2] > t[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alignment_and_range),
		cmocka_unit_test(test_none_is_a_noop),
		cmocka_unit_test(test_sev_direct_map_split_and_flush),
		cmocka_unit_test(test_tdx_rules),
		cmocka_unit_test(test_refusal_leaks),
		cmocka_unit_test(test_snp_rmp_rules),
		cmocka_unit_test(test_snp_set_memory),
		cmocka_unit_test(test_pseries_uv),
		cmocka_unit_test(test_private_mapped_by_host),
		cmocka_unit_test(test_conversion_costs_by_mode),
	};

	return cmocka_run_group_tests_name("cc", tests, NULL, NULL);
}
