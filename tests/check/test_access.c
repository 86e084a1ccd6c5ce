// SPDX-License-Identifier: MIT
/*
 * The access checker, mode by mode, through the real path: page tables,
 * page state, the encryption engine. Each case asserts the outcome, the
 * bytes, and the rule recorded (or that none was).
 */
#include <pthread.h>

#include "helpers.h"

#include "cc/cc.h"

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_mm *user, *vmm;
};

static void fx_init(struct fx *f, const char *lines)
{
	f->m = test_boot(lines);
	ccmm_ctx_init(&f->ctx, f->m, 0, "test");
	assert_int_equal(ccmm_mm_create(f->m, CCMM_INIT_USER, "task", &f->user), 0);
	assert_int_equal(ccmm_mm_create(f->m, CCMM_INIT_HOST, "vmm", &f->vmm), 0);
}

static void fx_fini(struct fx *f)
{
	ccmm_mm_destroy(&f->ctx, f->user);
	ccmm_mm_destroy(&f->ctx, f->vmm);
	ccmm_shutdown(f->m);
}

static uint64_t page(struct fx *f)
{
	uint64_t pa;

	assert_int_equal(ccmm_alloc_pages(&f->ctx, 0, 0, 0, &pa), 0);
	return pa;
}

/* Map @size bytes at @pa into @mm with the given attributes; returns the VA. */
static uint64_t map_into(struct fx *f, struct ccmm_mm *mm, uint64_t pa, uint64_t size, uint64_t pgsize, bool priv,
			 enum ccmm_cache_mode cache)
{
	struct ccmm_vma *vma;
	uint64_t prot = ccmm_pte_mkprivate(f->m, CCMM_PTE_RW | ccmm_pte_cache_bits(cache, 1), priv);

	assert_int_equal(ccmm_mmap(&f->ctx, mm, 0, size, CCMM_VM_READ | CCMM_VM_WRITE | CCMM_VM_SHARED, prot, NULL,
				   NULL, &vma),
			 0);
	assert_int_equal(ccmm_remap_pfn_range(&f->ctx, vma, vma->start, pa, size, pgsize, prot), 0);
	return vma->start;
}

static enum ccmm_outcome kread(struct fx *f, uint64_t va, void *buf, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_READ, va, buf, len, &r), 0);
	return r.outcome;
}

static enum ccmm_outcome kwrite(struct fx *f, uint64_t va, const void *buf, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_WRITE, va, (void *)buf, len, &r), 0);
	return r.outcome;
}

static enum ccmm_outcome mread(struct fx *f, struct ccmm_mm *mm, uint64_t va, void *buf, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_mm_access(&f->ctx, mm, CCMM_READ, va, buf, len, &r), 0);
	return r.outcome;
}

static enum ccmm_outcome mwrite(struct fx *f, struct ccmm_mm *mm, uint64_t va, const void *buf, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_mm_access(&f->ctx, mm, CCMM_WRITE, va, (void *)buf, len, &r), 0);
	return r.outcome;
}

static enum ccmm_outcome dma(struct fx *f, int dev, enum ccmm_rw rw, uint64_t bus, void *buf, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_dma_access(&f->ctx, dev, NULL, rw, bus, buf, len, &r), 0);
	return r.outcome;
}

static enum ccmm_page_state state_of(struct fx *f, uint64_t pa)
{
	struct ccmm_page pg;

	assert_int_equal(ccmm_phys_peek(f->m, pa, &pg), 0);
	return (enum ccmm_page_state)pg.state;
}

static const char secret[64] = "the guest's secret, 64 bytes long.............................";

/* ---------------------------------------------------------------- TDX */

static void test_tdx_private_and_host(void **state)
{
	struct fx f;
	char buf[64];
	uint64_t pa, hva;

	fx_init(&f, "mode=tdx");
	pa = page(&f);
	assert_int_equal(state_of(&f, pa), CCMM_PS_PRIVATE);
	/* the TD reads back what it wrote */
	assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa), secret, 64), CCMM_OK);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);
	assert_int_equal(ccmm_events_count(f.m), 0);

	/* the VMM maps guest memory: a read of private memory returns zeros */
	hva = map_into(&f, f.vmm, pa, 4096, 4096, false, CCMM_CACHE_WB);
	memset(buf, 0x55, sizeof(buf));
	assert_int_equal(mread(&f, f.vmm, hva, buf, 64), CCMM_ZEROS);
	for (int i = 0; i < 64; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(nviol(f.m, "host_access_private"), 1);
	{
		struct ccmm_event e = last_event(f.m);

		assert_true(e.has_access && e.has_page);
		assert_int_equal(e.who, CCMM_INIT_HOST);
		assert_int_equal(e.pa, pa);
		assert_int_equal(e.page.state, CCMM_PS_PRIVATE);
		assert_int_equal(e.outcome, CCMM_ZEROS);
		assert_string_equal(e.pgt, "vmm");
	}

	/* a host write poisons the line; the TD's next read of it takes #MC */
	assert_int_equal(mwrite(&f, f.vmm, hva, "evil", 4), CCMM_OK);
	assert_int_equal(nviol(f.m, "host_write_private"), 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_poisoned_lines], 1);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 8), CCMM_MCE);
	assert_int_equal(nviol(f.m, "poison_consumed"), 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_machine_checks], 1);
	/* poison is per line: the next line is intact */
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa) + 64, buf, 8), CCMM_OK);
	/* the TD rewrites the line: its MAC is good again */
	assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa), secret, 64), CCMM_OK);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);
	fx_fini(&f);
}

static void test_tdx_shared_and_conversion(void **state)
{
	struct fx f;
	char buf[64];
	uint64_t pa, uva_shared, uva_priv, hva, kva;

	fx_init(&f, "mode=tdx");
	pa = page(&f);
	kva = ccmm_phys_to_virt(pa);
	/* a shared-bit mapping of private memory: the shared EPT has nothing, #VE */
	uva_shared = map_into(&f, f.user, pa, 4096, 4096, false, CCMM_CACHE_WB);
	assert_int_equal(mread(&f, f.user, uva_shared, buf, 8), CCMM_VE);
	assert_int_equal(nviol(f.m, "enc_mismatch"), 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_ve_exceptions], 1);

	/* convert: MapGPA(shared); the private contents are gone */
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, kva, 1), 0);
	assert_int_equal(state_of(&f, pa), CCMM_PS_SHARED);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_mapgpa_calls], 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_cache_flushes], 0); /* TDX leaves flushing to MapGPA */
	assert_int_equal(kread(&f, kva, buf, 64), CCMM_OK);
	for (int i = 0; i < 64; i++)
		assert_int_equal(buf[i], 0);

	/* shared memory: the guest writes plaintext the VMM and the user mapping read */
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	hva = map_into(&f, f.vmm, pa, 4096, 4096, false, CCMM_CACHE_WB);
	assert_int_equal(mread(&f, f.vmm, hva, buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);
	assert_int_equal(mread(&f, f.user, uva_shared, buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);

	/* a private mapping of the converted page: the S-EPT entry is gone */
	uva_priv = map_into(&f, f.user, pa, 4096, 4096, true, CCMM_CACHE_WB);
	assert_int_equal(mread(&f, f.user, uva_priv, buf, 8), CCMM_VE);
	assert_int_equal(nviol(f.m, "private_access_shared"), 1);

	/* devices reach the shared page, not private ones */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(dma(&f, 0, CCMM_READ, pa, buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);
	assert_int_equal(dma(&f, 0, CCMM_READ, page(&f), buf, 64), CCMM_BLOCKED);
	assert_int_equal(nviol(f.m, "dma_private"), 1);
	for (int i = 0; i < 64; i++)
		assert_int_equal((uint8_t)buf[i], 0xff);

	/* and back: private again, pending until accepted (set_memory_encrypted accepts) */
	assert_int_equal(ccmm_set_memory_encrypted(&f.ctx, kva, 1), 0);
	assert_int_equal(state_of(&f, pa), CCMM_PS_PRIVATE);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_tdx_accepts], 1);
	/* the VMM still maps it: seed 004 wants host mappings gone first */
	assert_int_equal(nviol(f.m, "private_mapped_by_host"), 1);
	fx_fini(&f);
}

static void test_tdx_pending_and_mmio(void **state)
{
	struct fx f;
	char buf[8];
	uint64_t pa, va, bar;
	int err;

	fx_init(&f, "mode=tdx");
	pa = page(&f);
	assert_int_equal(ccmm_tdx_map_gpa(&f.ctx, pa, 1, CCMM_TDX_MAP_SHARED, NULL), 0);
	assert_int_equal(ccmm_tdx_map_gpa(&f.ctx, pa, 1, CCMM_TDX_MAP_PRIVATE, NULL), 0);
	assert_int_equal(state_of(&f, pa), CCMM_PS_PENDING);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 8), CCMM_VE);
	assert_int_equal(nviol(f.m, "unaccepted_access"), 1);

	/* MMIO through #VE: the access completes, emulated */
	bar = f.m->plat->devices[0].bar[0].base;
	va = ccmm_ioremap(&f.ctx, bar, 16384, CCMM_CACHE_UC, &err);
	assert_int_equal(err, 0);
	{
		struct ccmm_result r;
		uint32_t v = 0x12345678, got = 0;

		assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_WRITE, va + 8, &v, 4, &r), 0);
		assert_int_equal(r.outcome, CCMM_VE);
		assert_true(r.handled);
		assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_READ, va + 8, &got, 4, &r), 0);
		assert_int_equal(got, 0x12345678);
		assert_int_equal(f.ctx.ctr[CCMM_CTR_mmio_accesses], 2);
		assert_int_equal(r.violations, 0);
	}
	/* ioremap of RAM is refused */
	assert_int_equal(ccmm_ioremap(&f.ctx, pa, 4096, CCMM_CACHE_UC, &err), 0);
	assert_int_equal(err, -EINVAL);
	fx_fini(&f);
}

static void test_tdx_paravirt_mmio(void **state)
{
	struct fx f;
	uint64_t va;
	uint32_t v = 1;
	int err;
	struct ccmm_result r;

	fx_init(&f, "mode=tdx\nmmio=paravirt");
	va = ccmm_ioremap(&f.ctx, f.m->plat->devices[0].bar[0].base, 16384, CCMM_CACHE_UC, &err);
	assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_WRITE, va, &v, 4, &r), 0);
	assert_int_equal(r.outcome, CCMM_VE);
	assert_int_equal(nviol(f.m, "mmio_ve"), 1);
	fx_fini(&f);

	/* the pre-fix ioremap that mapped MMIO private */
	fx_init(&f, "mode=tdx");
	ccmm_kernel(f.m)->knobs.ioremap_private = true;
	va = ccmm_ioremap(&f.ctx, f.m->plat->devices[0].bar[0].base, 16384, CCMM_CACHE_UC, &err);
	assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_READ, va, &v, 4, &r), 0);
	assert_int_equal(r.outcome, CCMM_VE);
	assert_false(r.handled);
	assert_int_equal(nviol(f.m, "mmio_private"), 1);
	fx_fini(&f);
}

/* ---------------------------------------------------------------- SEV */

static void test_sev(void **state)
{
	struct fx f;
	char buf[64];
	uint64_t pa, kva, hva, uva;

	fx_init(&f, "mode=sev");
	pa = page(&f);
	kva = ccmm_phys_to_virt(pa);
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	/* the host reads ciphertext */
	hva = map_into(&f, f.vmm, pa, 4096, 4096, false, CCMM_CACHE_WB);
	assert_int_equal(mread(&f, f.vmm, hva, buf, 64), CCMM_SCRAMBLED);
	assert_memory_not_equal(buf, secret, 64);
	assert_int_equal(nviol(f.m, "host_access_private"), 1);
	/* so does a device */
	assert_int_equal(dma(&f, 0, CCMM_READ, pa, buf, 64), CCMM_SCRAMBLED);
	assert_memory_not_equal(buf, secret, 64);
	assert_int_equal(nviol(f.m, "dma_private"), 1);
	/* the host can write (no integrity): the guest then reads garbage */
	assert_int_equal(mwrite(&f, f.vmm, hva, "host data", 9), CCMM_OK);
	assert_int_equal(nviol(f.m, "host_write_private"), 1);
	assert_int_equal(kread(&f, kva, buf, 64), CCMM_SCRAMBLED);
	assert_memory_not_equal(buf, secret, 64);

	/* decrypt: flush (no SME_COHERENT), C-bit off; old ciphertext now reads raw */
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, kva, 1), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_cache_flushes], 1);
	assert_int_equal(state_of(&f, pa), CCMM_PS_SHARED);
	assert_int_equal(kread(&f, kva, buf, 64), CCMM_SCRAMBLED);
	/* fresh plaintext is readable by host and device */
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	assert_int_equal(mread(&f, f.vmm, hva, buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);
	assert_int_equal(dma(&f, 0, CCMM_READ, pa, buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);

	/* seed 000: a user PTE with the C-bit over decrypted pages */
	uva = map_into(&f, f.user, pa, 4096, 4096, true, CCMM_CACHE_WB);
	assert_int_equal(mread(&f, f.user, uva, buf, 64), CCMM_SCRAMBLED);
	assert_memory_not_equal(buf, secret, 64);
	assert_int_equal(nviol(f.m, "enc_mismatch"), 1);
	fx_fini(&f);
}

static void test_sev_cache_flush_rules(void **state)
{
	struct fx f;
	char buf[8];
	uint64_t pa;

	/* skipping the flush leaves dirty lines under the old key */
	fx_init(&f, "mode=sev");
	ccmm_kernel(f.m)->knobs.skip_cache_flush = true;
	pa = page(&f);
	assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa), secret, 64), CCMM_OK);
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, ccmm_phys_to_virt(pa), 1), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_cache_flushes], 0);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 8), CCMM_SCRAMBLED);
	assert_int_equal(nviol(f.m, "stale_cache_lines"), 1);
	/* reported once: the lines have been written back */
	assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa), secret, 8), CCMM_OK);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 8), CCMM_OK);
	assert_int_equal(nviol(f.m, "stale_cache_lines"), 1);
	fx_fini(&f);

	/* with SME_COHERENT there is nothing to flush and nothing stale */
	fx_init(&f, "mode=sev\nsme_coherent=yes");
	ccmm_kernel(f.m)->knobs.skip_cache_flush = true;
	pa = page(&f);
	assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa), secret, 64), CCMM_OK);
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, ccmm_phys_to_virt(pa), 1), 0);
	assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa), secret, 8), CCMM_OK);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 8), CCMM_OK);
	assert_int_equal(nviol(f.m, "stale_cache_lines"), 0);
	fx_fini(&f);
}

static void test_stale_tlb(void **state)
{
	struct fx f;
	char buf[8];
	uint64_t pa;

	fx_init(&f, "mode=sev");
	ccmm_kernel(f.m)->knobs.skip_tlb_flush = true;
	pa = page(&f);
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, ccmm_phys_to_virt(pa), 1), 0);
	/* the TLB still holds the 1 GiB encrypted translation */
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 8), CCMM_SCRAMBLED);
	assert_int_equal(nviol(f.m, "stale_tlb"), 1);
	assert_int_equal(nviol(f.m, "enc_mismatch"), 1);
	ccmm_pgt_flush_tlb(&f.ctx, ccmm_kernel(f.m)->init_mm, 0, 0);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa), buf, 8), CCMM_OK);
	assert_int_equal(nviol(f.m, "stale_tlb"), 1);
	fx_fini(&f);
}

/* ------------------------------------------------------------ SEV-SNP */

static void test_snp(void **state)
{
	struct fx f;
	char buf[64];
	uint64_t pa, kva, hva, hva2m, uva, base2m;

	fx_init(&f, "mode=sev-snp");
	pa = page(&f);
	kva = ccmm_phys_to_virt(pa);
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	/* the host may read ciphertext but not write: RMP #PF */
	hva = map_into(&f, f.vmm, pa, 4096, 4096, false, CCMM_CACHE_WB);
	assert_int_equal(mread(&f, f.vmm, hva, buf, 64), CCMM_SCRAMBLED);
	assert_int_equal(nviol(f.m, "host_access_private"), 1);
	assert_int_equal(mwrite(&f, f.vmm, hva, "x", 1), CCMM_PF);
	assert_int_equal(nviol(f.m, "host_write_private"), 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_rmp_faults], 1);
	assert_int_equal(kread(&f, kva, buf, 64), CCMM_OK); /* the write never landed */
	assert_memory_equal(buf, secret, 64);
	/* devices are blocked by the IOMMU's RMP check */
	assert_int_equal(dma(&f, 0, CCMM_WRITE, pa, buf, 8), CCMM_BLOCKED);
	assert_int_equal(nviol(f.m, "dma_private"), 1);

	/* share one 4 KiB page inside a 2 MiB region; the host maps the region with one 2 MiB entry */
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, kva, 1), 0);
	assert_int_equal(state_of(&f, pa), CCMM_PS_SHARED);
	base2m = CCMM_ALIGN_DOWN(pa, CCMM_PMD_SIZE);
	hva2m = map_into(&f, f.vmm, base2m, CCMM_PMD_SIZE, CCMM_PMD_SIZE, false, CCMM_CACHE_WB);
	assert_int_equal(mwrite(&f, f.vmm, hva2m + (pa - base2m), "x", 1), CCMM_PF);
	assert_int_equal(nviol(f.m, "rmp_page_size"), 1);
	/* through the 4 KiB mapping the same write is fine */
	assert_int_equal(mwrite(&f, f.vmm, hva, "x", 1), CCMM_OK);

	/* guest side: a private access to the shared page, and to an unvalidated one */
	uva = map_into(&f, f.user, pa, 4096, 4096, true, CCMM_CACHE_WB);
	assert_int_equal(mread(&f, f.user, uva, buf, 8), CCMM_NPF);
	assert_int_equal(nviol(f.m, "private_access_shared"), 1);
	{
		uint64_t pb = page(&f);

		assert_int_equal(ccmm_snp_pvalidate(&f.ctx, pb, false, false), 0);
		assert_int_equal(state_of(&f, pb), CCMM_PS_PENDING);
		assert_int_equal(kread(&f, ccmm_phys_to_virt(pb), buf, 8), CCMM_VC);
		assert_int_equal(nviol(f.m, "unaccepted_access"), 1);
	}
	fx_fini(&f);
}

/* ---------------------------------------------------------------- SME */

static void test_sme(void **state)
{
	struct fx f;
	char buf[64];
	uint64_t pa, kva, cbit;

	fx_init(&f, "mode=sme\nc_bit=47\nphys_bits=47");
	cbit = 1ULL << 47;
	pa = page(&f);
	kva = ccmm_phys_to_virt(pa);
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	/* a device that can address the C-bit gets plaintext */
	assert_int_equal(dma(&f, 0, CCMM_READ, pa | cbit, buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);
	/* without the C-bit it sees ciphertext */
	assert_int_equal(dma(&f, 0, CCMM_READ, pa, buf, 64), CCMM_SCRAMBLED);
	assert_int_equal(nviol(f.m, "dma_private"), 1);
	/* a 32-bit device cannot emit the C-bit: the address is truncated */
	assert_int_equal(dma(&f, 1, CCMM_READ, pa | cbit, buf, 64), CCMM_SCRAMBLED);
	assert_int_equal(nviol(f.m, "dma_mask_exceeded"), 1);
	/* decrypted memory is what such a device needs */
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, kva, 1), 0);
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	assert_int_equal(dma(&f, 1, CCMM_READ, pa, buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);
	fx_fini(&f);
}

/* -------------------------------------------------------- pSeries SVM */

static void test_pseries(void **state)
{
	struct fx f;
	char buf[64];
	uint64_t pa, kva, hva;

	fx_init(&f, "mode=pseries-svm");
	pa = page(&f);
	kva = ccmm_phys_to_virt(pa);
	assert_int_equal(kwrite(&f, kva, secret, 64), CCMM_OK);
	hva = map_into(&f, f.vmm, pa, 4096, 4096, false, CCMM_CACHE_WB);
	assert_int_equal(mread(&f, f.vmm, hva, buf, 64), CCMM_BLOCKED);
	assert_int_equal(nviol(f.m, "host_access_private"), 1);
	assert_int_equal(dma(&f, 0, CCMM_READ, pa, buf, 64), CCMM_BLOCKED);
	/* shared with UV_SHARE_PAGE: contents stay, the hypervisor and devices see them */
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, kva, 1), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_uv_calls], 1);
	assert_int_equal(mread(&f, f.vmm, hva, buf, 64), CCMM_OK);
	assert_memory_equal(buf, secret, 64);
	assert_int_equal(dma(&f, 0, CCMM_READ, pa, buf, 64), CCMM_OK);
	/* the guest reads its memory either way */
	assert_int_equal(kread(&f, kva, buf, 64), CCMM_OK);
	fx_fini(&f);
}

/* --------------------------------------------------------------- none */

static void test_none_and_holes(void **state)
{
	struct fx f;
	char buf[16];
	uint64_t pa, hole = 0xa0000000; /* in the PCI hole, below the 32-bit BARs */
	struct ccmm_result r;

	fx_init(&f, "mode=none");
	pa = page(&f);
	assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa), secret, 16), CCMM_OK);
	assert_int_equal(dma(&f, 0, CCMM_READ, pa, buf, 16), CCMM_OK);
	assert_memory_equal(buf, secret, 16);
	/* nothing at the address: all-ones */
	assert_int_equal(dma(&f, 0, CCMM_READ, hole, buf, 16), CCMM_ABORT);
	assert_int_equal((uint8_t)buf[0], 0xff);
	assert_int_equal(nviol(f.m, "dma_hole"), 1);
	{
		uint64_t va = map_into(&f, f.user, hole, 4096, 4096, false, CCMM_CACHE_UC);

		assert_int_equal(mread(&f, f.user, va, buf, 16), CCMM_ABORT);
		assert_int_equal(nviol(f.m, "access_hole"), 1);
	}
	/* a fault with no VMA: #PF */
	assert_int_equal(ccmm_mm_access(&f.ctx, f.user, CCMM_READ, 0x1000, buf, 8, &r), 0);
	assert_int_equal(r.outcome, CCMM_PF);
	assert_int_equal(r.done, 0);
	/* a write to a read-only mapping: #PF */
	{
		struct ccmm_vma *vma;

		assert_int_equal(ccmm_mmap(&f.ctx, f.user, 0, 4096, CCMM_VM_READ, 0, NULL, NULL, &vma), 0);
		assert_int_equal(ccmm_remap_pfn_range(&f.ctx, vma, vma->start, pa, 4096, 4096, 0), 0);
		assert_int_equal(mwrite(&f, f.user, vma->start, "x", 1), CCMM_PF);
		assert_int_equal(mread(&f, f.user, vma->start, buf, 1), CCMM_OK);
	}
	/* a kernel page is not reachable from user mode */
	{
		struct ccmm_access a = { CCMM_INIT_USER, CCMM_READ, ccmm_phys_to_virt(pa), 8, ccmm_kernel(f.m)->init_mm, -1, buf };

		assert_int_equal(ccmm_access(&f.ctx, &a, &r), 0);
		assert_int_equal(r.outcome, CCMM_PF);
	}
	/* malformed accesses */
	{
		struct ccmm_access a = { CCMM_INIT_KERNEL, CCMM_READ, 0, 0, ccmm_kernel(f.m)->init_mm, -1, buf };

		assert_int_equal(ccmm_access(&f.ctx, &a, &r), -EINVAL);
		a.len = 8;
		a.pgt = NULL;
		assert_int_equal(ccmm_access(&f.ctx, &a, &r), -EINVAL);
		assert_int_equal(ccmm_dma_access(&f.ctx, 9, NULL, CCMM_READ, 0, buf, 8, &r), -EINVAL);
	}
	assert_int_equal(nviol(f.m, "enc_mismatch"), 0);
	fx_fini(&f);
}

static void test_access_spanning_pages(void **state)
{
	struct fx f;
	uint64_t pa;
	char big[6000], back[6000];
	struct ccmm_result r;

	fx_init(&f, "mode=tdx");
	assert_int_equal(ccmm_alloc_pages(&f.ctx, 0, 1, 0, &pa), 0);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)(i * 7);
	assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa) + 1000, big, sizeof(big)), CCMM_OK);
	assert_int_equal(kread(&f, ccmm_phys_to_virt(pa) + 1000, back, sizeof(back)), CCMM_OK);
	assert_memory_equal(big, back, sizeof(big));
	/* convert the second page: the access stops there with #VE, half done */
	assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, ccmm_phys_to_virt(pa + 4096), 1), 0);
	{
		struct ccmm_access a = { CCMM_INIT_USER, CCMM_READ, 0, sizeof(back), NULL, -1, back };
		uint64_t uva = map_into(&f, f.user, pa, 8192, 4096, true, CCMM_CACHE_WB);

		a.addr = uva + 1000;
		a.pgt = f.user->pgt;
		assert_int_equal(ccmm_access(&f.ctx, &a, &r), 0);
		assert_int_equal(r.outcome, CCMM_VE);
		assert_int_equal(r.done, 4096 - 1000);
		assert_int_equal(r.pa, pa + 4096);
	}
	fx_fini(&f);
}

/* -------------------------------------------------------- cache modes */

static void test_cache_alias(void **state)
{
	struct fx f;
	uint64_t pa, bar;

	fx_init(&f, "mode=none");
	pa = page(&f);
	/* a WC user mapping of RAM the direct map holds WB */
	map_into(&f, f.user, pa, 4096, 4096, false, CCMM_CACHE_WC);
	assert_int_equal(nviol(f.m, "cache_alias"), 1);
	{
		struct ccmm_event e = last_event(f.m);

		assert_int_equal(e.pa, pa);
		assert_non_null(strstr(e.msg, "direct map"));
	}
	/* set_memory_wc first (as TTM's pools do): no alias */
	pa = page(&f);
	assert_int_equal(ccmm_set_memory_cache(&f.ctx, ccmm_phys_to_virt(pa), 1, CCMM_CACHE_WC), 0);
	map_into(&f, f.user, pa, 4096, 4096, false, CCMM_CACHE_WC);
	assert_int_equal(nviol(f.m, "cache_alias"), 1);
	/* seed 003: the host maps a BAR WC, the guest maps it WB */
	bar = f.m->plat->devices[0].bar[0].base;
	map_into(&f, f.vmm, bar, 4096, 4096, false, CCMM_CACHE_WC);
	assert_int_equal(nviol(f.m, "cache_alias"), 1);
	map_into(&f, f.user, bar, 4096, 4096, false, CCMM_CACHE_WB);
	assert_int_equal(nviol(f.m, "cache_alias"), 2);
	/* counts drop when mappings go: a WB mapping after the mm is gone is fine */
	{
		struct ccmm_mm *other;
		struct ccmm_page pg;

		assert_int_equal(ccmm_phys_peek(f.m, bar, &pg), 0);
		assert_int_equal(pg.map[CCMM_CACHE_WC], 1);
		assert_int_equal(pg.map[CCMM_CACHE_WB], 1);
		assert_int_equal(pg.map_host, 1);
		ccmm_mm_destroy(&f.ctx, f.vmm);
		assert_int_equal(ccmm_mm_create(f.m, CCMM_INIT_HOST, "vmm2", &f.vmm), 0);
		assert_int_equal(ccmm_mm_create(f.m, CCMM_INIT_USER, "other", &other), 0);
		map_into(&f, other, bar, 4096, 4096, false, CCMM_CACHE_WB);
		assert_int_equal(nviol(f.m, "cache_alias"), 2);
		ccmm_mm_destroy(&f.ctx, other);
	}
	fx_fini(&f);
}

static void test_p2p_and_mask(void **state)
{
	struct fx f;
	char buf[8];

	fx_init(&f, "mode=none");
	/* no P2P group: the disk cannot reach the NIC's BAR */
	assert_int_equal(dma(&f, 0, CCMM_READ, f.m->plat->devices[1].bar[0].base, buf, 8), CCMM_BLOCKED);
	assert_int_equal(nviol(f.m, "p2p_unreachable"), 1);
	/* a device reaches its own BAR */
	assert_int_equal(dma(&f, 1, CCMM_READ, f.m->plat->devices[1].bar[0].base, buf, 8), CCMM_OK);
	/* the 32-bit NIC given the disk's 64-bit BAR address emits only the low
	 * 32 bits: the read lands in RAM at the truncated address */
	assert_int_equal(dma(&f, 1, CCMM_READ, f.m->plat->devices[0].bar[0].base, buf, 8), CCMM_OK);
	assert_int_equal(nviol(f.m, "dma_mask_exceeded"), 1);
	{
		struct ccmm_event e = last_event(f.m);

		assert_int_equal(e.pa, f.m->plat->devices[0].bar[0].base & 0xffffffffULL);
	}
	fx_fini(&f);
}

static void test_states_tables(void **state)
{
	for (int mode = 0; mode < CCMM_CC_NR; mode++) {
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);

		assert_int_equal(ccmm_states_table((enum ccmm_cc_mode)mode, CCMM_MMIO_VE, false, f), 0);
		fclose(f);
		assert_non_null(strstr(text, "selected by"));
		assert_non_null(strstr(text, "enforced by"));
		if (mode == CCMM_CC_TDX) {
			/* cells are the rule book's: host read of private -> zeros, write -> poison */
			assert_non_null(strstr(text, "TD-private"));
			assert_non_null(strstr(text, "zeros"));
			assert_non_null(strstr(text, "poison"));
			assert_non_null(strstr(text, "#VE,emul"));
		}
		if (mode == CCMM_CC_SEV_SNP) {
			assert_non_null(strstr(text, "host via 2M map"));
			assert_non_null(strstr(text, "rmp_page_size"));
		}
		free(text);
		f = open_memstream(&text, &len);
		assert_int_equal(ccmm_states_table((enum ccmm_cc_mode)mode, CCMM_MMIO_VE, true, f), 0);
		fclose(f);
		assert_non_null(strstr(text, "\"classes\""));
		free(text);
	}
}

/* ------------------------------------------------------ the software TLB */

/*
 * The checker translates through the per-thread software TLB: a mapping
 * changed after a thread's access (the direct map's page converted to
 * shared by set_memory_decrypted, a user page zapped and another put in its
 * place) is seen by the thread's next access, in the thread that changed it
 * and in another one that had the old translation cached. A stale cached
 * translation would show as a private access to a shared page (#VE,
 * private_access_shared) and as the old page's bytes.
 */
struct tlb_side {
	struct fx *f;
	struct ccmm_ctx ctx;
	uint64_t kva, uva;
	pthread_barrier_t *bar; /* NULL: no other thread (the changing thread itself) */
	struct ccmm_result kr[2], ur[2];
	char ubuf[2][8];
	uint64_t hits;          /* TLB hits of the accesses before the change */
};

static void tlb_side_access(struct tlb_side *s, int i)
{
	TCHECK(ccmm_kernel_access(&s->ctx, CCMM_READ, s->kva, NULL, 8, &s->kr[i]) == 0);
	TCHECK(ccmm_mm_access(&s->ctx, s->f->user, CCMM_READ, s->uva, s->ubuf[i], 8, &s->ur[i]) == 0);
}

static void *tlb_side_run(void *arg)
{
	struct tlb_side *s = arg;
	struct ccmm_tlb_stats st;
	struct ccmm_result r;

	TCHECK(ccmm_kernel_access(&s->ctx, CCMM_READ, s->kva, NULL, 8, &r) == 0); /* fill this thread's TLB */
	TCHECK(ccmm_mm_access(&s->ctx, s->f->user, CCMM_READ, s->uva, NULL, 8, &r) == 0);
	ccmm_tlb_stats_get(&st);
	tlb_side_access(s, 0);
	{
		struct ccmm_tlb_stats now;

		ccmm_tlb_stats_get(&now);
		s->hits = now.hits - st.hits;
	}
	pthread_barrier_wait(s->bar); /* the main thread changes both mappings */
	pthread_barrier_wait(s->bar);
	tlb_side_access(s, 1);
	return NULL;
}

/* Convert the page at @kva's direct map to shared and put @pb in place of the user page at @uva. */
static void tlb_change(struct fx *f, uint64_t kva, uint64_t uva, uint64_t pb)
{
	struct ccmm_vma *vma = ccmm_find_vma(f->user, uva);

	assert_non_null(vma);
	assert_int_equal(ccmm_set_memory_decrypted(&f->ctx, kva, 1), 0);
	assert_int_equal(ccmm_zap_vma_range(&f->ctx, vma, uva, 4096), 1);
	assert_int_equal(ccmm_vmf_insert_pfn_prot(&f->ctx, vma, uva, pb, ccmm_pte_mkprivate(f->m, CCMM_PTE_RW, true)), 0);
}

static void tlb_side_assert(struct fx *f, const struct tlb_side *s)
{
	assert_int_equal(s->hits, 2);
	/* before: a private access to private memory, page A's bytes */
	assert_int_equal(s->kr[0].outcome, CCMM_OK);
	assert_true(ccmm_pte_is_private(f->m, s->kr[0].pte));
	assert_int_equal(s->ur[0].outcome, CCMM_OK);
	assert_memory_equal(s->ubuf[0], "page A.", 8);
	/* after: the shared PTE the conversion installed, page B's bytes */
	assert_int_equal(s->kr[1].outcome, CCMM_OK);
	assert_false(ccmm_pte_is_private(f->m, s->kr[1].pte));
	assert_int_equal(s->kr[1].violations, 0);
	assert_int_equal(s->ur[1].outcome, CCMM_OK);
	assert_memory_equal(s->ubuf[1], "page B.", 8);
}

static void test_tlb_mapping_changes(void **state)
{
	TCHECK_CASE();
	for (int other = 0; other < 2; other++) {
		struct fx f;
		struct tlb_side s;
		pthread_barrier_t bar;
		pthread_t th;
		uint64_t pa, pb, pk;

		fx_init(&f, "mode=tdx");
		pa = page(&f);
		pb = page(&f);
		pk = page(&f);
		assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pa), "page A.", 8), CCMM_OK);
		assert_int_equal(kwrite(&f, ccmm_phys_to_virt(pb), "page B.", 8), CCMM_OK);
		memset(&s, 0, sizeof(s));
		s.f = &f;
		s.kva = ccmm_phys_to_virt(pk);
		s.uva = map_into(&f, f.user, pa, 4096, 4096, true, CCMM_CACHE_WB);
		if (!other) {
			/* the thread that changes the mappings */
			struct ccmm_tlb_stats st, now;

			s.ctx = f.ctx;
			kread(&f, s.kva, NULL, 8);
			mread(&f, f.user, s.uva, NULL, 8);
			ccmm_tlb_stats_get(&st);
			tlb_side_access(&s, 0);
			ccmm_tlb_stats_get(&now);
			s.hits = now.hits - st.hits;
			f.ctx = s.ctx;
			tlb_change(&f, s.kva, s.uva, pb);
			s.ctx = f.ctx;
			tlb_side_access(&s, 1);
			f.ctx = s.ctx;
		} else {
			ccmm_ctx_init(&s.ctx, f.m, 1, "other");
			s.bar = &bar;
			pthread_barrier_init(&bar, NULL, 2);
			assert_int_equal(pthread_create(&th, NULL, tlb_side_run, &s), 0);
			pthread_barrier_wait(&bar);
			tlb_change(&f, s.kva, s.uva, pb);
			pthread_barrier_wait(&bar);
			pthread_join(th, NULL);
			pthread_barrier_destroy(&bar);
		}
		TCHECK_DONE();
		tlb_side_assert(&f, &s);
		assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
		fx_fini(&f);
	}
}

/* ------------------------------------------------ fast path = general path */

#define FP_PAGES 24
#define FP_ACCESSES 3000

/* What one access returned: its result and the bytes a read brought. */
struct fp_rec {
	int ret;
	struct ccmm_result r;
	uint8_t bytes[64];
};

/* What a run leaves in its context and machine: counters, costs, modeled time, events, the read digest. */
struct run_figures {
	uint64_t ctr[CCMM_CTR_MAX], cost_ns[CCMM_COST_MAX], cost_n[CCMM_COST_MAX], now_ns;
	size_t events;
	struct ccmm_read_digest digest;
};

static void run_figures_get(struct fx *f, struct run_figures *out)
{
	memcpy(out->ctr, f->ctx.ctr, sizeof(out->ctr));
	memcpy(out->cost_ns, f->ctx.cost_ns, sizeof(out->cost_ns));
	memcpy(out->cost_n, f->ctx.cost_n, sizeof(out->cost_n));
	out->now_ns = f->ctx.now_ns;
	out->events = ccmm_events_count(f->m);
	ccmm_phys_digest(f->m, &out->digest);
}

/* The same figures (the digest's bytes only when !@whole_digest). */
static void assert_run_figures_equal(const struct run_figures *a, const struct run_figures *b, bool whole_digest)
{
	assert_memory_equal(a->ctr, b->ctr, sizeof(a->ctr));
	assert_memory_equal(a->cost_ns, b->cost_ns, sizeof(a->cost_ns));
	assert_memory_equal(a->cost_n, b->cost_n, sizeof(a->cost_n));
	assert_int_equal(a->now_ns, b->now_ns);
	assert_int_equal(a->events, b->events);
	if (whole_digest)
		assert_memory_equal(&a->digest, &b->digest, sizeof(a->digest));
	else
		assert_int_equal(a->digest.bytes, b->digest.bytes);
}

/* One run of the same accesses, with the fast path on or off: every result, then the context's figures. */
struct fp_run {
	struct fp_rec rec[FP_ACCESSES];
	struct run_figures fig;
};

static uint64_t fp_rand(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 33;
}

/*
 * Pages in every state the mode's rule book tells apart (private, shared,
 * stale cache lines, poisoned lines), mapped by the kernel's direct map, a
 * user process and the host/VMM with either attribute, then random
 * accesses of every initiator, direction, length and offset, with and
 * without a buffer.
 */
static void fp_run(const char *mode, bool fast, struct fp_run *out)
{
	struct fx f;
	uint64_t pa[FP_PAGES], uva[FP_PAGES], hva[FP_PAGES], seed = 7;
	uint8_t buf[64];

	ccmm_check_fast_path = fast;
	fx_init(&f, mode);
	ccmm_phys_digest_start(f.m);
	ccmm_kernel(f.m)->knobs.skip_cache_flush = true;
	for (int i = 0; i < FP_PAGES; i++) {
		/* every fourth page the first of a 2 MiB block: user mappings next to each other then reach other chunks */
		if (i % 4 == 3)
			assert_int_equal(ccmm_alloc_pages(&f.ctx, 0, 9, 0, &pa[i]), 0);
		else
			pa[i] = page(&f);
		memset(buf, 'a' + i, sizeof(buf));
		kwrite(&f, ccmm_phys_to_virt(pa[i]), buf, sizeof(buf));
		if (i % 3 == 1)
			assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, ccmm_phys_to_virt(pa[i]), 1), 0);
		uva[i] = map_into(&f, f.user, pa[i], 4096, 4096, i % 2 == 0, CCMM_CACHE_WB);
		hva[i] = map_into(&f, f.vmm, pa[i], 4096, 4096, false, CCMM_CACHE_WB);
	}
	/* a host write to a private page: its lines poisoned (TDX) */
	mwrite(&f, f.vmm, hva[3], "host", 4);
	for (int i = 0; i < FP_ACCESSES; i++) {
		struct fp_rec *rec = &out->rec[i];
		int pg = (int)(fp_rand(&seed) % FP_PAGES), who = (int)(fp_rand(&seed) % 3);
		enum ccmm_rw rw = fp_rand(&seed) & 1 ? CCMM_WRITE : CCMM_READ;
		size_t len = 1 + fp_rand(&seed) % 64, off = fp_rand(&seed) % (4096 - len + 1);
		bool data = fp_rand(&seed) % 4 != 0;
		struct ccmm_access a = { CCMM_INIT_KERNEL, rw, ccmm_phys_to_virt(pa[pg]) + off, len,
					 ccmm_kernel(f.m)->init_mm, -1, data ? rec->bytes : NULL };

		if (who == 1) {
			a.who = CCMM_INIT_USER;
			a.addr = uva[pg] + off;
			a.pgt = f.user->pgt;
		} else if (who == 2) {
			a.who = CCMM_INIT_HOST;
			a.addr = hva[pg] + off;
			a.pgt = f.vmm->pgt;
		}
		memset(rec->bytes, rw == CCMM_WRITE ? 'A' + i % 26 : 0, sizeof(rec->bytes));
		rec->ret = ccmm_access(&f.ctx, &a, &rec->r);
	}
	run_figures_get(&f, &out->fig);
	fx_fini(&f);
	ccmm_check_fast_path = true;
}

/*
 * ccmm_access's fast path (one-page CPU accesses the rule book lets
 * through plainly, with its verdicts kept per thread) does exactly what the
 * general path does: in every mode, the same accesses with it on and off
 * give the same results (outcome, address, PTE, level, reason, bytes done,
 * violations), the same bytes read, the same counters and costs, the same
 * events and the same read digest. The fast path must have served some of
 * them (its TLB hits), so the case cannot pass with it unused.
 */
static void test_fast_path_is_general_path(void **state)
{
	static const char *const modes[] = { "mode=tdx", "mode=sev", "mode=sev-snp", "mode=sme", "mode=none",
					     "mode=pseries-svm" };
	struct fp_run *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	assert_non_null(a);
	assert_non_null(b);
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		size_t ok = 0;

		fp_run(modes[k], true, a);
		fp_run(modes[k], false, b);
		for (int i = 0; i < FP_ACCESSES; i++) {
			const struct fp_rec *x = &a->rec[i], *y = &b->rec[i];

			assert_int_equal(x->ret, y->ret);
			assert_int_equal(x->r.outcome, y->r.outcome);
			assert_int_equal(x->r.handled, y->r.handled);
			assert_int_equal(x->r.pa, y->r.pa);
			assert_int_equal(x->r.pte, y->r.pte);
			assert_int_equal(x->r.level, y->r.level);
			assert_int_equal(x->r.done, y->r.done);
			assert_int_equal(x->r.violations, y->r.violations);
			assert_string_equal(x->r.why ? x->r.why : "(null)", y->r.why ? y->r.why : "(null)");
			assert_memory_equal(x->bytes, y->bytes, sizeof(x->bytes));
			ok += x->r.outcome == CCMM_OK && !x->r.violations;
		}
		assert_run_figures_equal(&a->fig, &b->fig, true);
		/* plain accesses (the fast path's) and others (the general path's) both occurred */
		assert_true(ok > FP_ACCESSES / 10);
		assert_true(a->fig.ctr[CCMM_CTR_violations] > 0 || strcmp(modes[k], "mode=none") == 0);
	}
	free(a);
	free(b);
}

/* ------------------------------------------------ the copy's fast path = its general path */

#define CP_ORDER 4 /* 16 contiguous pages */
#define CP_PAGES (1 << CP_ORDER)
#define CP_COPIES 1200

/* What one copy returned. */
struct cp_rec {
	int ret;
	struct ccmm_result rr, wr;
};

/* One run of the same copies, with the fast path on or off: every result, the context's figures, then the pages' bytes. */
struct cp_run {
	struct cp_rec rec[CP_COPIES];
	struct run_figures fig;
	uint8_t mem[CP_PAGES + 1][CCMM_PAGE_SIZE]; /* the 16 pages, then the page in another chunk */
};

/*
 * 16 contiguous pages, every third shared, one with poisoned lines (a host
 * write, TDX), mapped by the kernel's direct map, a user process (the
 * first half with the private attribute, the second without, and the
 * first page again next to a page in another chunk) and the host/VMM; then random copies between any two of those views, of any
 * length up to two pages and more and at any offset (some run off the
 * user's mappings: a fault part way), and at the end every page read back
 * through the direct map.
 */
static void cp_run(const char *mode, bool fast, struct cp_run *out)
{
	struct fx f;
	uint64_t pa, far, uva[3], hva, seed = 11;
	uint8_t buf[64];

	ccmm_check_fast_path = fast;
	fx_init(&f, mode);
	ccmm_phys_digest_start(f.m);
	ccmm_kernel(f.m)->knobs.skip_cache_flush = true;
	assert_int_equal(ccmm_alloc_pages(&f.ctx, 0, CP_ORDER, 0, &pa), 0);
	for (int i = 0; i < CP_PAGES; i++) {
		uint64_t kva = ccmm_phys_to_virt(pa + (uint64_t)i * CCMM_PAGE_SIZE);

		for (int l = 0; l < (int)(CCMM_PAGE_SIZE / 64); l += 5) {
			memset(buf, 'a' + (i + l) % 26, sizeof(buf));
			kwrite(&f, kva + (uint64_t)l * 64, buf, sizeof(buf));
		}
		if (i % 3 == 1)
			assert_int_equal(ccmm_set_memory_decrypted(&f.ctx, kva, 1), 0);
	}
	uva[0] = map_into(&f, f.user, pa, CP_PAGES / 2 * CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, true, CCMM_CACHE_WB);
	uva[1] = map_into(&f, f.user, pa + CP_PAGES / 2 * CCMM_PAGE_SIZE, CP_PAGES / 2 * CCMM_PAGE_SIZE, CCMM_PAGE_SIZE,
			  false, CCMM_CACHE_WB);
	hva = map_into(&f, f.vmm, pa, CP_PAGES * CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, false, CCMM_CACHE_WB);
	/* two user pages next to each other in two chunks: the block's first page and a page 2 MiB away */
	{
		struct ccmm_vma *vma;
		uint64_t prot = ccmm_pte_mkprivate(f.m, CCMM_PTE_RW | ccmm_pte_cache_bits(CCMM_CACHE_WB, 1), true);

		assert_int_equal(ccmm_alloc_pages(&f.ctx, 0, 9, 0, &far), 0);
		assert_int_equal(ccmm_mmap(&f.ctx, f.user, 0, 2 * CCMM_PAGE_SIZE, CCMM_VM_READ | CCMM_VM_WRITE | CCMM_VM_SHARED,
					   prot, NULL, NULL, &vma),
				 0);
		assert_int_equal(ccmm_remap_pfn_range(&f.ctx, vma, vma->start, pa, CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, prot), 0);
		assert_int_equal(ccmm_remap_pfn_range(&f.ctx, vma, vma->start + CCMM_PAGE_SIZE, far, CCMM_PAGE_SIZE,
						      CCMM_PAGE_SIZE, prot),
				 0);
		uva[2] = vma->start;
	}
	/* a host write to a private page: its lines poisoned (TDX) */
	mwrite(&f, f.vmm, hva + 3 * CCMM_PAGE_SIZE + 128, "host", 4);
	for (int i = 0; i < CP_COPIES; i++) {
		struct ccmm_access side[2];
		size_t len = fp_rand(&seed) % 4 == 0 ? CCMM_PAGE_SIZE : 1 + fp_rand(&seed) % (2 * CCMM_PAGE_SIZE + 512);

		for (int k = 0; k < 2; k++) {
			int who = (int)(fp_rand(&seed) % 3);
			int half = who == 1 ? (int)(fp_rand(&seed) % 3) : 0;
			uint64_t span = who == 1 ? (half == 2 ? 2 : CP_PAGES / 2) * CCMM_PAGE_SIZE : CP_PAGES * CCMM_PAGE_SIZE;
			uint64_t off = fp_rand(&seed) % 3 == 0 ? (fp_rand(&seed) % CP_PAGES) * CCMM_PAGE_SIZE % span
							       : fp_rand(&seed) % span;
			struct ccmm_access *a = &side[k];

			if (who != 1 && off + len > span)
				off = span - len; /* the kernel's and the host's views end in other pages */
			*a = (struct ccmm_access){ CCMM_INIT_KERNEL, k ? CCMM_WRITE : CCMM_READ,
						   ccmm_phys_to_virt(pa) + off, len, ccmm_kernel(f.m)->init_mm, -1, NULL };
			if (who == 1) {
				a->who = CCMM_INIT_USER;
				a->addr = uva[half] + off;
				a->pgt = f.user->pgt;
			} else if (who == 2) {
				a->who = CCMM_INIT_HOST;
				a->addr = hva + off;
				a->pgt = f.vmm->pgt;
			}
		}
		out->rec[i].ret = ccmm_copy(&f.ctx, &side[1], &side[0], &out->rec[i].rr, &out->rec[i].wr);
	}
	run_figures_get(&f, &out->fig);
	ccmm_check_fast_path = false; /* the same reads in both runs */
	for (int i = 0; i < CP_PAGES; i++)
		kread(&f, ccmm_phys_to_virt(pa + (uint64_t)i * CCMM_PAGE_SIZE), out->mem[i], CCMM_PAGE_SIZE);
	kread(&f, ccmm_phys_to_virt(far), out->mem[CP_PAGES], CCMM_PAGE_SIZE);
	fx_fini(&f);
	ccmm_check_fast_path = true;
}

static void assert_result_equal(const struct ccmm_result *x, const struct ccmm_result *y)
{
	assert_int_equal(x->outcome, y->outcome);
	assert_int_equal(x->handled, y->handled);
	assert_int_equal(x->pa, y->pa);
	assert_int_equal(x->pte, y->pte);
	assert_int_equal(x->level, y->level);
	assert_int_equal(x->done, y->done);
	assert_int_equal(x->violations, y->violations);
	assert_string_equal(x->why ? x->why : "(null)", y->why ? y->why : "(null)");
}

/*
 * ccmm_copy's fast path (plain pieces moved page to page under the
 * checker's memo and TLB) does exactly what its general path (a checked
 * read into a buffer, then a checked write) does: in every mode, the same
 * copies with it on and off give the same results of both sides, the same
 * counters, costs and events, the same read digest and the same bytes in
 * every page. The fast path must have moved some copies whole and the
 * general one taken others (faults, violations), so the case cannot pass
 * with either unused.
 */
static void test_copy_fast_path_is_general_path(void **state)
{
	static const char *const modes[] = { "mode=tdx", "mode=sev", "mode=sev-snp", "mode=sme", "mode=none",
					     "mode=pseries-svm" };
	struct cp_run *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++) {
		size_t plain = 0, other = 0;

		cp_run(modes[k], true, a);
		cp_run(modes[k], false, b);
		for (int i = 0; i < CP_COPIES; i++) {
			const struct cp_rec *x = &a->rec[i], *y = &b->rec[i];

			assert_int_equal(x->ret, y->ret);
			assert_result_equal(&x->rr, &y->rr);
			assert_result_equal(&x->wr, &y->wr);
			if (x->rr.outcome == CCMM_OK && x->wr.outcome == CCMM_OK && !x->rr.violations && !x->wr.violations &&
			    x->wr.done == x->rr.done && x->rr.done)
				plain++;
			else
				other++;
		}
		/*
		 * The bytes the reads brought; not the digest's sum and count of
		 * reads: ccmm_page_copy digests a piece that starts or ends inside
		 * a line as up to three reads (part line, whole lines, part line),
		 * a read into a buffer as one.
		 */
		assert_run_figures_equal(&a->fig, &b->fig, false);
		assert_memory_equal(a->mem, b->mem, sizeof(a->mem));
		assert_true(plain > CP_COPIES / 20);
		assert_true(other > 0);
		assert_true(a->fig.ctr[CCMM_CTR_violations] > 0 || strcmp(modes[k], "mode=none") == 0);
	}
	free(a);
	free(b);
}

/* ------------------------------------------------ runs of whole pages (copy_run) = the general path */

#define CR_PAGES 512 /* one 2 MiB block: one direct-map leaf, one chunk */
#define CR_COPIES 300

/* One run of the same copies and writes, with the fast path on or off. */
struct cr_run {
	struct cp_rec rec[CR_COPIES];
	struct run_figures fig;
	uint8_t mem[CR_PAGES][CCMM_PAGE_SIZE];
};

/*
 * A 2 MiB block mapped by one leaf of the direct map (nothing in it made
 * shared, so the leaf stays whole): three quarters of its pages written
 * whole by the kernel, some lines of a few written by the host (poisoned
 * under TDX; another key elsewhere), the last quarter never written (no
 * data); then copies through the direct map of whole pages (runs of up to
 * 24 pages, mostly page-aligned on both sides, some not, some
 * overlapping), with kernel and host writes between them changing pages'
 * keys and poison in the middle of later runs; at the end every page read
 * back. @eager: the engine's eager mode; @digest: the read digest on.
 */
static void cr_run(const char *mode, bool eager, bool digest, bool fast, struct cr_run *out)
{
	struct fx f;
	uint64_t pa, kva, hva, seed = 29;
	static uint8_t page_buf[CCMM_PAGE_SIZE];

	ccmm_check_fast_path = fast;
	fx_init(&f, mode);
	if (eager)
		assert_int_equal(ccmm_phys_set_mee_mode(f.m, CCMM_MEE_EAGER), 0);
	if (digest)
		ccmm_phys_digest_start(f.m);
	ccmm_kernel(f.m)->knobs.skip_cache_flush = true;
	assert_int_equal(ccmm_alloc_pages(&f.ctx, 0, 9, 0, &pa), 0);
	kva = ccmm_phys_to_virt(pa);
	for (int i = 0; i < CR_PAGES * 3 / 4; i++) {
		memset(page_buf, 'A' + i % 50, sizeof(page_buf));
		kwrite(&f, kva + (uint64_t)i * CCMM_PAGE_SIZE, page_buf, sizeof(page_buf));
	}
	hva = map_into(&f, f.vmm, pa, CR_PAGES * CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, false, CCMM_CACHE_WB);
	for (int i = 0; i < 6; i++)
		mwrite(&f, f.vmm, hva + (uint64_t)(17 + 61 * i) * CCMM_PAGE_SIZE + 64 * (uint64_t)i, "host", 4);
	for (int i = 0; i < CR_COPIES; i++) {
		uint64_t pages = 1 + fp_rand(&seed) % 24, len, so, dof;
		struct ccmm_access src, dst;

		len = fp_rand(&seed) % 4 == 0 ? 1 + fp_rand(&seed) % (pages * CCMM_PAGE_SIZE) : pages * CCMM_PAGE_SIZE;
		so = fp_rand(&seed) % (CR_PAGES * CCMM_PAGE_SIZE - len);
		dof = fp_rand(&seed) % (CR_PAGES * CCMM_PAGE_SIZE - len);
		if (fp_rand(&seed) % 4) { /* both sides on page boundaries */
			so &= ~(uint64_t)(CCMM_PAGE_SIZE - 1);
			dof &= ~(uint64_t)(CCMM_PAGE_SIZE - 1);
		}
		src = (struct ccmm_access){ CCMM_INIT_KERNEL, CCMM_READ, kva + so, len, ccmm_kernel(f.m)->init_mm, -1, NULL };
		dst = (struct ccmm_access){ CCMM_INIT_KERNEL, CCMM_WRITE, kva + dof, len, ccmm_kernel(f.m)->init_mm, -1, NULL };
		out->rec[i].ret = ccmm_copy(&f.ctx, &dst, &src, &out->rec[i].rr, &out->rec[i].wr);
		if (i % 20 == 19) {
			/* a host write (poison or another key) and a kernel rewrite of one line, inside later runs */
			uint64_t hp = fp_rand(&seed) % CR_PAGES, kp = fp_rand(&seed) % CR_PAGES;

			mwrite(&f, f.vmm, hva + hp * CCMM_PAGE_SIZE + 64 * (fp_rand(&seed) % 64), "HOST", 4);
			kwrite(&f, kva + kp * CCMM_PAGE_SIZE + 64 * (fp_rand(&seed) % 64), "kern", 4);
		}
	}
	run_figures_get(&f, &out->fig);
	ccmm_check_fast_path = false; /* the same reads in both runs */
	for (int i = 0; i < CR_PAGES; i++)
		kread(&f, kva + (uint64_t)i * CCMM_PAGE_SIZE, out->mem[i], CCMM_PAGE_SIZE);
	fx_fini(&f);
	ccmm_check_fast_path = true;
}

/*
 * The copy's runs of whole pages under one direct-map leaf and chunk
 * (copy_run: the piece before's translation, chunk and verdict carried
 * over while each page's state, flags and poison match;
 * ccmm_page_copy_same_key inline when every line has the reader's key)
 * do what the general path does: in four modes, both engine modes, with
 * the read digest on and off, the same copies with the fast path on and
 * off give the same results, counters, costs, events, digested bytes and
 * page bytes. Some copies must have gone through whole and others not.
 */
static void test_copy_run_is_general_path(void **state)
{
	static const char *const modes[] = { "mode=tdx", "mode=sev", "mode=sev-snp", "mode=none" };
	struct cr_run *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	for (size_t k = 0; k < sizeof(modes) / sizeof(modes[0]); k++)
		for (int v = 0; v < 4; v++) {
			size_t whole = 0, other = 0;

			cr_run(modes[k], v & 1, v & 2, true, a);
			cr_run(modes[k], v & 1, v & 2, false, b);
			for (int i = 0; i < CR_COPIES; i++) {
				const struct cp_rec *x = &a->rec[i], *y = &b->rec[i];

				assert_int_equal(x->ret, y->ret);
				assert_result_equal(&x->rr, &y->rr);
				assert_result_equal(&x->wr, &y->wr);
				if (x->rr.outcome == CCMM_OK && x->wr.outcome == CCMM_OK && x->rr.done >= 2 * CCMM_PAGE_SIZE)
					whole++;
				else
					other++;
			}
			assert_run_figures_equal(&a->fig, &b->fig, false);
			assert_memory_equal(a->mem, b->mem, sizeof(a->mem));
			assert_true(whole > CR_COPIES / 4);
			assert_true(other > 0);
		}
	free(a);
	free(b);
}

/* ------------------------------------------------ the fast path against changes on another thread */

#define RACE_ROUNDS 400
#define RACE_VA 0x40000000ULL

struct race_side {
	struct fx *f;
	struct ccmm_ctx ctx;
	uint64_t pa[2];
	atomic_bool done;
};

/* Map page pa[k] at RACE_VA, then take it away again (its tables freed and reused), then map it read-only and write-enable it. */
static void *race_changer(void *arg)
{
	struct race_side *r = arg;
	struct ccmm_pgtable *pt = r->f->user->pgt;
	uint64_t prot = ccmm_pte_mkprivate(r->f->m, CCMM_PTE_USER | ccmm_pte_cache_bits(CCMM_CACHE_WB, 1), true);

	for (int i = 0; i < RACE_ROUNDS; i++) {
		uint64_t pa = r->pa[i & 1];

		TCHECK(ccmm_pgt_map(&r->ctx, pt, RACE_VA, pa, CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, prot | CCMM_PTE_RW) == 0);
		TCHECK(ccmm_pgt_unmap(&r->ctx, pt, RACE_VA, CCMM_PAGE_SIZE, true) == 1);
		TCHECK(ccmm_pgt_map(&r->ctx, pt, RACE_VA, pa, CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, prot) == 0);
		TCHECK(ccmm_pgt_protect(&r->ctx, pt, RACE_VA, CCMM_PAGE_SIZE, CCMM_PTE_RW, 0, true) == 1);
		TCHECK(ccmm_pgt_unmap(&r->ctx, pt, RACE_VA, CCMM_PAGE_SIZE, true) == 1);
	}
	atomic_store(&r->done, true);
	return NULL;
}

/*
 * The fast path reads the TLB's entry without the page-table lock while
 * another thread maps, unmaps (freeing the tables, which the next map
 * reuses), maps read-only and write-enables the page under it: every
 * access sees one whole state of the tables, before or after a change,
 * never a mix: a write succeeds only through a writable translation of
 * one of the two pages (the PTE and address it reports are those), fails
 * with #PF otherwise, and nothing else is recorded. The tables are whole
 * at the end. Under TSan (the stress suite), no data race.
 */
static void test_fast_path_races_changes(void **state)
{
	struct fx f;
	struct race_side r;
	pthread_t th;
	size_t ok = 0, pf = 0;

	(void)state;
	TCHECK_CASE();
	fx_init(&f, "mode=tdx");
	memset(&r, 0, sizeof(r));
	r.f = &f;
	r.pa[0] = page(&f);
	assert_int_equal(ccmm_alloc_pages(&f.ctx, 0, 9, 0, &r.pa[1]), 0); /* another chunk */
	ccmm_ctx_init(&r.ctx, f.m, 1, "changer");
	atomic_init(&r.done, false);
	assert_int_equal(pthread_create(&th, NULL, race_changer, &r), 0);
	while (!atomic_load(&r.done)) {
		struct ccmm_result res;
		uint8_t buf[8] = "written";
		struct ccmm_access a = { CCMM_INIT_USER, CCMM_WRITE, RACE_VA + 64, sizeof(buf), f.user->pgt, -1, buf };

		assert_int_equal(ccmm_access(&f.ctx, &a, &res), 0);
		if (res.outcome == CCMM_OK) {
			assert_true(res.pa == r.pa[0] + 64 || res.pa == r.pa[1] + 64);
			assert_true(res.pte & CCMM_PTE_RW);
			assert_int_equal(res.pte & f.m->pa_mask & ~(CCMM_PAGE_SIZE - 1), res.pa - 64);
			assert_int_equal(res.violations, 0);
			ok++;
		} else {
			assert_int_equal(res.outcome, CCMM_PF);
			pf++;
		}
	}
	pthread_join(th, NULL);
	TCHECK_DONE();
	assert_int_equal(ccmm_pgt_is_valid(f.user->pgt), 0);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	assert_true(ok + pf > 0);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tdx_private_and_host),
		cmocka_unit_test(test_tdx_shared_and_conversion),
		cmocka_unit_test(test_tdx_pending_and_mmio),
		cmocka_unit_test(test_tdx_paravirt_mmio),
		cmocka_unit_test(test_sev),
		cmocka_unit_test(test_sev_cache_flush_rules),
		cmocka_unit_test(test_stale_tlb),
		cmocka_unit_test(test_snp),
		cmocka_unit_test(test_sme),
		cmocka_unit_test(test_pseries),
		cmocka_unit_test(test_none_and_holes),
		cmocka_unit_test(test_access_spanning_pages),
		cmocka_unit_test(test_cache_alias),
		cmocka_unit_test(test_p2p_and_mask),
		cmocka_unit_test(test_states_tables),
		cmocka_unit_test(test_tlb_mapping_changes),
		cmocka_unit_test(test_fast_path_is_general_path),
		cmocka_unit_test(test_copy_fast_path_is_general_path),
		cmocka_unit_test(test_copy_run_is_general_path),
		cmocka_unit_test(test_fast_path_races_changes),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
