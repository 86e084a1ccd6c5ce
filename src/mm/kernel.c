// SPDX-License-Identifier: MIT
/* init_mm: the direct map, change_page_attr for encryption and cache mode, ioremap and vmap. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mm/internal.h"

#define DIRECT_MAP_SIZE (1ULL << 46) /* the 64 TiB direct-map window of 4-level x86-64 */

uint64_t ccmm_page_kernel(const struct ccmm_machine *m)
{
	uint64_t prot = CCMM_PTE_RW | CCMM_PTE_NX | CCMM_PTE_GLOBAL;
	enum ccmm_cc_mode mode = m->plat->mode;

	/* the kernel's own memory is private in a guest and encrypted under SME */
	return ccmm_pte_mkprivate(m, prot, ccmm_cc_private_by_default(mode) || mode == CCMM_CC_SME);
}

/* Largest leaf that fits at @va/@pa for @left bytes. */
static uint64_t best_leaf(uint64_t va, uint64_t pa, uint64_t left)
{
	if (CCMM_IS_ALIGNED(va | pa, CCMM_PUD_SIZE) && left >= CCMM_PUD_SIZE)
		return CCMM_PUD_SIZE;
	if (CCMM_IS_ALIGNED(va | pa, CCMM_PMD_SIZE) && left >= CCMM_PMD_SIZE)
		return CCMM_PMD_SIZE;
	return CCMM_PAGE_SIZE;
}

/* Map [pa, pa+size) at va with the largest leaves that fit. */
static int map_largest(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t pa, uint64_t size,
		       uint64_t prot)
{
	while (size) {
		uint64_t leaf = best_leaf(va, pa, size);
		uint64_t run = leaf;
		int ret;

		/* batch runs of the same leaf size */
		while (run + leaf <= size && best_leaf(va + run, pa + run, size - run) == leaf)
			run += leaf;
		ret = ccmm_pgt_map(ctx, pt, va, pa, run, leaf, prot);
		if (ret)
			return ret;
		va += run;
		pa += run;
		size -= run;
	}
	return 0;
}

static void mm_exit(struct ccmm_machine *m);

static int mm_init(struct ccmm_machine *m)
{
	const struct ccmm_platform *p = m->plat;
	struct ccmm_kernel *k = calloc(1, sizeof(*k));
	int ret;

	if (!k)
		return -ENOMEM;
	ccmm_subsys_set_data(m, &ccmm_subsys_mm, k);
	for (unsigned n = 0; n < p->nr_nodes; n++)
		k->node_offline[n] = !p->node[n].online;
	pthread_mutex_init(&k->vmalloc_lock, NULL);
	k->vmalloc_next = CCMM_VMALLOC_START;
	ret = ccmm_pgt_create(m, CCMM_PGT_GUEST_KERNEL, "init_mm", true, &k->init_mm);
	if (ret)
		goto fail;
	k->init_mm->untracked_start = CCMM_PAGE_OFFSET;
	k->init_mm->untracked_end = CCMM_PAGE_OFFSET + DIRECT_MAP_SIZE;
	m->direct_map = k->init_mm;

	for (size_t i = 0; i < p->nr_ranges; i++)
		if (p->ranges[i].kind == CCMM_RANGE_RAM)
			k->nr_zones++;
	k->zones = calloc(k->nr_zones ? k->nr_zones : 1, sizeof(*k->zones));
	if (!k->zones) {
		ret = -ENOMEM;
		goto fail;
	}
	k->nr_zones = 0;
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];

		if (r->kind != CCMM_RANGE_RAM)
			continue;
		ret = _ccmm_zone_init(&k->zones[k->nr_zones], r->node, r->base >> CCMM_PAGE_SHIFT,
				     r->size >> CCMM_PAGE_SHIFT);
		if (ret)
			goto fail;
		k->nr_zones++;
		ret = map_largest(NULL, k->init_mm, ccmm_phys_to_virt(r->base), r->base, r->size, ccmm_page_kernel(m));
		if (ret)
			goto fail;
	}
	return 0;
fail:
	mm_exit(m);
	return ret;
}

static void mm_exit(struct ccmm_machine *m)
{
	struct ccmm_kernel *k = ccmm_kernel(m);

	if (!k)
		return;
	if (k->init_mm)
		ccmm_pgt_destroy(NULL, k->init_mm);
	m->direct_map = NULL;
	for (size_t i = 0; i < k->nr_zones; i++)
		_ccmm_zone_fini(&k->zones[i]);
	free(k->zones);
	pthread_mutex_destroy(&k->vmalloc_lock);
	free(k);
	ccmm_subsys_set_data(m, &ccmm_subsys_mm, NULL);
}

struct ccmm_subsys ccmm_subsys_mm = {
	.name = "mm",
	.init = mm_init,
	.exit = mm_exit,
};

struct ccmm_kernel *ccmm_kernel(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_mm);
}

/* ---- change_page_attr ---------------------------------------------- */

static int direct_map_range(struct ccmm_machine *m, uint64_t addr, uint64_t numpages, uint64_t *pa)
{
	uint64_t end;

	if (addr < CCMM_PAGE_OFFSET || addr >= CCMM_PAGE_OFFSET + DIRECT_MAP_SIZE)
		return -EFAULT;
	*pa = ccmm_virt_to_phys(addr);
	if (ccmm_range_end(*pa, numpages, CCMM_PAGE_SHIFT, &end))
		return -EFAULT;
	for (uint64_t a = *pa; a < end;) {
		const struct ccmm_mem_range *r = ccmm_platform_range(m->plat, a);

		if (!r || r->kind != CCMM_RANGE_RAM)
			return -EFAULT;
		a = r->base + r->size;
	}
	return 0;
}

static int set_memory_enc_dec(struct ccmm_ctx *ctx, uint64_t addr, uint64_t numpages, bool enc)
{
	struct ccmm_machine *m = ctx->m;
	struct ccmm_kernel *k = ccmm_kernel(m);
	const char *saved_op = ctx->op;
	uint64_t pa, done = 0, size = numpages << CCMM_PAGE_SHIFT;
	/* what "encrypted" and "plain" mean in a PTE, whatever the polarity (seed 004) */
	uint64_t mem_enc_bits = ccmm_pte_mkprivate(m, 0, true);
	uint64_t mem_plain_bits = ccmm_pte_mkprivate(m, 0, false);
	bool flush_needed = ccmm_cc_needs_cache_flush(m);
	long changed;
	int ret;

	/* Nothing to do if memory encryption is not active. */
	if (m->plat->mode == CCMM_CC_NONE)
		return 0;
	if (!CCMM_IS_ALIGNED(addr, CCMM_PAGE_SIZE)) {
		ccmm_violation(ctx, &ccmm_rule_conversion_unaligned, ~0ULL,
			       "set_memory_%s(0x%" PRIx64 ", %" PRIu64 "): misaligned address", enc ? "encrypted" : "decrypted",
			       addr, numpages);
		return -EINVAL;
	}
	if (!numpages)
		return 0;
	ret = direct_map_range(m, addr, numpages, &pa);
	if (ret)
		return ret;
	ctx->op = enc ? "set_memory_encrypted" : "set_memory_decrypted";

	/* Before changing the encryption attribute, flush the caches. */
	if (flush_needed && !k->knobs.skip_cache_flush)
		ccmm_cc_flush_cache(ctx, pa, numpages);

	/* pSeries has no PTE bit: sharing is the ultravisor's business */
	changed = mem_enc_bits == mem_plain_bits ? 0
						 : ccmm_pgt_protect(ctx, k->init_mm, addr, size, enc ? mem_enc_bits : mem_plain_bits,
								    enc ? mem_plain_bits : mem_enc_bits, !k->knobs.skip_tlb_flush);
	if (changed < 0) {
		ctx->op = saved_op;
		return (int)changed;
	}

	ret = ccmm_cc_convert(ctx, pa, numpages, enc, &done);
	if (ret) {
		/* put back the PTEs of the pages the secure world did not convert */
		if (done < numpages && mem_enc_bits != mem_plain_bits)
			ccmm_pgt_protect(ctx, k->init_mm, addr + (done << CCMM_PAGE_SHIFT), size - (done << CCMM_PAGE_SHIFT),
					 enc ? mem_plain_bits : mem_enc_bits, enc ? mem_enc_bits : mem_plain_bits,
					 !k->knobs.skip_tlb_flush);
		/* the kernel cannot know the state of the range any more: leak it */
		for (uint64_t i = 0; i < numpages; i++) {
			struct ccmm_page *pg = ccmm_phys_lock(m, pa + (i << CCMM_PAGE_SHIFT));

			if (pg) {
				pg->flags |= CCMM_PG_LEAKED;
				ccmm_phys_unlock(m, pa + (i << CCMM_PAGE_SHIFT));
			}
		}
		ctx->op = saved_op;
		return ret;
	}
	if (flush_needed && k->knobs.skip_cache_flush)
		ccmm_cc_mark_unflushed(ctx, pa, numpages);
	ctx->op = saved_op;
	return 0;
}

/* Everything a conversion charges (flushes, splits, the secure world's calls) is attributed to conversions. */
static int set_memory_conv(struct ccmm_ctx *ctx, uint64_t addr, uint64_t numpages, bool enc)
{
	struct ccmm_ctx_scope scope = ccmm_ctx_scope_enter(ctx, CCMM_ATTR_CONVERSION, 0);
	int ret = set_memory_enc_dec(ctx, addr, numpages, enc);

	ccmm_ctx_scope_leave(ctx, scope);
	return ret;
}

int ccmm_set_memory_decrypted(struct ccmm_ctx *ctx, uint64_t addr, uint64_t numpages)
{
	return set_memory_conv(ctx, addr, numpages, false);
}

int ccmm_set_memory_encrypted(struct ccmm_ctx *ctx, uint64_t addr, uint64_t numpages)
{
	return set_memory_conv(ctx, addr, numpages, true);
}

int ccmm_set_memory_cache(struct ccmm_ctx *ctx, uint64_t addr, uint64_t numpages, enum ccmm_cache_mode mode)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t pa;
	long ret;
	char what[64];

	if (!CCMM_IS_ALIGNED(addr, CCMM_PAGE_SIZE) || !numpages || (unsigned)mode >= CCMM_CACHE_NR)
		return -EINVAL;
	if (direct_map_range(m, addr, numpages, &pa))
		return -EFAULT;
	ret = ccmm_pgt_protect(ctx, ccmm_kernel(m)->init_mm, addr, numpages << CCMM_PAGE_SHIFT, ccmm_pte_cache_bits(mode, 1),
			       CCMM_PTE_PCD | CCMM_PTE_PWT, true);
	if (ret < 0)
		return (int)ret;
	snprintf(what, sizeof(what), "set_memory_%s on the direct map", ccmm_cache_mode_name(mode));
	ccmm_check_cache_conflict(ctx, pa, numpages << CCMM_PAGE_SHIFT, mode, what);
	return 0;
}

/* ---- the vmalloc area ---------------------------------------------- */

uint64_t _ccmm_vmalloc_va(struct ccmm_machine *m, uint64_t size, uint64_t align)
{
	struct ccmm_kernel *k = ccmm_kernel(m);
	uint64_t va;

	pthread_mutex_lock(&k->vmalloc_lock);
	va = CCMM_ALIGN_UP(k->vmalloc_next, align);
	if (va + size + CCMM_PAGE_SIZE > CCMM_VMALLOC_END || va + size < va) {
		va = 0;
	} else {
		k->vmalloc_next = va + size + CCMM_PAGE_SIZE; /* a guard page, as vmalloc leaves */
	}
	pthread_mutex_unlock(&k->vmalloc_lock);
	return va;
}

uint64_t ccmm_ioremap(struct ccmm_ctx *ctx, uint64_t pa, uint64_t size, enum ccmm_cache_mode cache, int *err)
{
	struct ccmm_machine *m = ctx->m;
	const struct ccmm_mem_range *r = ccmm_platform_range(m->plat, pa);
	uint64_t prot, va, align;
	int ret;

	if (!size || !CCMM_IS_ALIGNED(pa | size, CCMM_PAGE_SIZE) || (r && r->kind == CCMM_RANGE_RAM)) {
		*err = -EINVAL; /* ioremap refuses system RAM */
		return 0;
	}
	prot = CCMM_PTE_RW | CCMM_PTE_NX | CCMM_PTE_GLOBAL | ccmm_pte_cache_bits(cache, 1);
	/* In a confidential guest device memory is shared (pgprot_decrypted), seed 004 */
	prot = ccmm_pte_mkprivate(m, prot, ccmm_kernel(m)->knobs.ioremap_private);
	align = best_leaf(0, pa, size);
	va = _ccmm_vmalloc_va(m, size, align);
	if (!va) {
		*err = -ENOMEM;
		return 0;
	}
	ret = map_largest(ctx, ccmm_kernel(m)->init_mm, va, pa, size, prot);
	if (ret) {
		*err = ret;
		return 0;
	}
	*err = 0;
	return va;
}

int ccmm_iounmap(struct ccmm_ctx *ctx, uint64_t va, uint64_t size)
{
	long ret = ccmm_pgt_unmap(ctx, ccmm_kernel(ctx->m)->init_mm, va, size, true);

	return ret < 0 ? (int)ret : 0;
}

uint64_t ccmm_vmap(struct ccmm_ctx *ctx, const uint64_t *pas, size_t npages, uint64_t prot, int *err)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t va;

	if (!npages) {
		*err = -EINVAL;
		return 0;
	}
	va = _ccmm_vmalloc_va(m, npages << CCMM_PAGE_SHIFT, CCMM_PAGE_SIZE);
	if (!va) {
		*err = -ENOMEM;
		return 0;
	}
	for (size_t i = 0; i < npages; i++) {
		int ret = ccmm_pgt_map(ctx, ccmm_kernel(m)->init_mm, va + (i << CCMM_PAGE_SHIFT), pas[i], CCMM_PAGE_SIZE,
				       CCMM_PAGE_SIZE, prot);

		if (ret) {
			if (i)
				ccmm_pgt_unmap(ctx, ccmm_kernel(m)->init_mm, va, i << CCMM_PAGE_SHIFT, true);
			*err = ret;
			return 0;
		}
	}
	*err = 0;
	return va;
}

int ccmm_vunmap(struct ccmm_ctx *ctx, uint64_t va, size_t npages)
{
	long ret = ccmm_pgt_unmap(ctx, ccmm_kernel(ctx->m)->init_mm, va, npages << CCMM_PAGE_SHIFT, true);

	return ret < 0 ? (int)ret : 0;
}

int ccmm_kernel_access(struct ccmm_ctx *ctx, enum ccmm_rw rw, uint64_t va, void *buf, size_t len,
		       struct ccmm_result *r)
{
	/* init_mm, as the machine's direct_map names it (no subsystem lookup: every kernel access comes here) */
	struct ccmm_access a = { CCMM_INIT_KERNEL, rw, va, len, ctx->m->direct_map, -1, buf };

	return ccmm_access(ctx, &a, r);
}
