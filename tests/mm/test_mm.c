// SPDX-License-Identifier: MIT
/* mm: the buddy allocator, the direct map, ioremap/vmap, VMAs and fault handling. */
#include "helpers.h"

static struct ccmm_machine *m;
static struct ccmm_ctx ctx;

static int setup(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_error err;

	/* two nodes of 64 MiB, distance 20: small enough to exhaust */
	if (ccmm_platform_parse("t.ini",
				"[platform]\nmode=none\n[node:0]\nmem=64m\ndistance=10,20\n[node:1]\nmem=64m\ndistance=20,10\n"
				"[device:d]\nbar0=64k\n",
				&p, &err))
		return -1;
	if (ccmm_boot(p, 1, &m))
		return -1;
	ccmm_ctx_init(&ctx, m, 0, "t");
	return 0;
}

static int teardown(void **state)
{
	ccmm_shutdown(m);
	return 0;
}

static void test_alloc_free_merge(void **state)
{
	uint64_t before = ccmm_node_free_pages(m, 0), blocks[16];
	int err;

	assert_int_equal(before, 16384);
	for (unsigned order = 0; order <= CCMM_MAX_ORDER; order++) {
		uint64_t pa;

		err = ccmm_alloc_pages(&ctx, 0, order, 0, &pa);
		assert_int_equal(err, 0);
		assert_true(CCMM_IS_ALIGNED(pa, CCMM_PAGE_SIZE << order)); /* naturally aligned */
		assert_int_equal(ccmm_platform_range(m->plat, pa)->node, 0);
		blocks[order] = pa;
	}
	assert_int_equal(ccmm_node_free_pages(m, 0), before - ((1u << (CCMM_MAX_ORDER + 1)) - 1));
	for (unsigned order = 0; order <= CCMM_MAX_ORDER; order++)
		assert_int_equal(ccmm_free_pages(&ctx, blocks[order], order), 0);
	/* everything merged back: the whole node can be taken again in top-order blocks */
	assert_int_equal(ccmm_node_free_pages(m, 0), before);
	for (int i = 0; i < 16; i++) {
		err = ccmm_alloc_pages(&ctx, 0, CCMM_MAX_ORDER, CCMM_GFP_THISNODE, &blocks[i]);
		assert_int_equal(err, 0);
	}
	assert_int_equal(ccmm_node_free_pages(m, 0), 0);
	{
		uint64_t none;

		assert_int_equal(ccmm_alloc_pages(&ctx, 0, 0, CCMM_GFP_THISNODE, &none), -ENOMEM);
	}
	/* without THISNODE it falls back to node 1 */
	{
		uint64_t pa;

		assert_int_equal(ccmm_alloc_pages(&ctx, 0, 0, 0, &pa), 0);
		assert_int_equal(ccmm_platform_range(m->plat, pa)->node, 1);
		assert_int_equal(ccmm_free_pages(&ctx, pa, 0), 0);
	}
	for (int i = 0; i < 16; i++)
		assert_int_equal(ccmm_free_pages(&ctx, blocks[i], CCMM_MAX_ORDER), 0);
	assert_int_equal(ccmm_node_free_pages(m, 0), before);
	assert_int_equal(ctx.ctr[CCMM_CTR_pages_allocated], ctx.ctr[CCMM_CTR_pages_freed]);
}

static void test_bad_frees(void **state)
{
	uint64_t pa, x;

	assert_int_equal(ccmm_alloc_pages(&ctx, 1, 2, 0, &pa), 0);

	assert_int_equal(ccmm_free_pages(&ctx, pa, 1), -EINVAL);        /* wrong order */
	assert_int_equal(ccmm_free_pages(&ctx, pa + 4096, 0), -EINVAL); /* not a head */
	assert_int_equal(ccmm_free_pages(&ctx, pa, 2), 0);
	assert_int_equal(ccmm_free_pages(&ctx, pa, 2), -EINVAL); /* double free */
	assert_int_equal(ccmm_free_pages(&ctx, 3ULL << 30, 0), -EINVAL); /* not RAM */
	assert_int_equal(ccmm_alloc_pages(&ctx, 0, CCMM_MAX_ORDER + 1, 0, &x), -EINVAL);
	assert_int_equal(ccmm_alloc_pages(&ctx, 5, 0, 0, &x), -EINVAL);
}

static void test_gfp_zero(void **state)
{
	uint64_t pa, again;
	char buf[8];
	struct ccmm_result r;

	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 0, 0, &pa), 0);
	assert_int_equal(ccmm_kernel_access(&ctx, CCMM_WRITE, ccmm_phys_to_virt(pa), "dirty!!", 8, &r), 0);
	assert_int_equal(ccmm_free_pages(&ctx, pa, 0), 0);
	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 0, CCMM_GFP_ZERO, &again), 0);
	assert_int_equal(again, pa); /* next fit gives it back */
	assert_int_equal(ccmm_kernel_access(&ctx, CCMM_READ, ccmm_phys_to_virt(pa), buf, 8, &r), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(ccmm_free_pages(&ctx, pa, 0), 0);
}

static void test_direct_map_and_ioremap(void **state)
{
	struct ccmm_walk w;
	uint64_t bar = m->plat->devices[0].bar[0].base, va, va2;
	int err;

	assert_int_equal(ccmm_pgt_walk(ccmm_kernel(m)->init_mm, ccmm_phys_to_virt(0x1000), &w), 0);
	assert_int_equal(w.pa, 0x1000);
	assert_int_equal(ccmm_pte_cache_mode(w.pte, w.level), CCMM_CACHE_WB);
	assert_true(w.pte & CCMM_PTE_NX);
	/* no direct map over BARs */
	assert_int_equal(ccmm_pgt_walk(ccmm_kernel(m)->init_mm, ccmm_phys_to_virt(bar), &w), -EFAULT);
	va = ccmm_ioremap(&ctx, bar, 65536, CCMM_CACHE_UC, &err);
	assert_int_equal(err, 0);
	assert_true(va >= CCMM_VMALLOC_START && va < CCMM_VMALLOC_END);
	assert_int_equal(ccmm_pgt_walk(ccmm_kernel(m)->init_mm, va + 4096, &w), 0);
	assert_int_equal(w.pa, bar + 4096);
	assert_int_equal(ccmm_pte_cache_mode(w.pte, w.level), CCMM_CACHE_UC);
	/* a second ioremap gets another range; ioremap mappings are tracked */
	va2 = ccmm_ioremap(&ctx, bar, 4096, CCMM_CACHE_UC, &err);
	assert_true(va2 > va);
	{
		struct ccmm_page pg;

		assert_int_equal(ccmm_phys_peek(m, bar, &pg), 0);
		assert_int_equal(pg.map[CCMM_CACHE_UC], 2);
	}
	/* ioremap_wc of the same BAR aliases the UC mappings */
	assert_int_not_equal(ccmm_ioremap(&ctx, bar, 4096, CCMM_CACHE_WC, &err), 0);
	assert_int_equal(nviol(m, "cache_alias"), 1);
	assert_int_equal(ccmm_iounmap(&ctx, va2, 4096), 0);
	assert_int_equal(ccmm_iounmap(&ctx, va, 65536), 0);
	assert_int_equal(ccmm_ioremap(&ctx, bar + 1, 4096, CCMM_CACHE_UC, &err), 0);
	assert_int_equal(err, -EINVAL);
}

static void test_vmap(void **state)
{
	int err;
	uint64_t pas[3], va;
	char buf[16];
	struct ccmm_result r;

	for (int i = 0; i < 3; i++)
		assert_int_equal(ccmm_alloc_pages(&ctx, i % 2, 0, 0, &pas[i]), 0);
	va = ccmm_vmap(&ctx, pas, 3, ccmm_page_kernel(m), &err);
	assert_int_equal(err, 0);
	/* a write through the vmap is visible through the direct map of the 3rd page */
	assert_int_equal(ccmm_kernel_access(&ctx, CCMM_WRITE, va + 2 * 4096 + 10, "vmapped", 8, &r), 0);
	assert_int_equal(ccmm_kernel_access(&ctx, CCMM_READ, ccmm_phys_to_virt(pas[2]) + 10, buf, 8, &r), 0);
	assert_string_equal(buf, "vmapped");
	assert_int_equal(ccmm_vunmap(&ctx, va, 3), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ccmm_free_pages(&ctx, pas[i], 0), 0);
}

/* A fault handler that backs the VMA with one page, refusing the first try. */
struct demo {
	uint64_t pa;
	int faults, retries_left;
	unsigned flags[8];             /* the vmf flags of each fault */
	bool closed;
};

/*
 * A handler that asks for a retry while it may (a trylock that failed):
 * as the kernel's, it lets the mmap_lock go before VM_FAULT_RETRY.
 */
static int demo_fault(struct ccmm_ctx *c, struct ccmm_vm_fault *vmf)
{
	struct ccmm_vma *vma = vmf->vma;
	struct demo *d = vma->priv;

	if (d->faults < 8)
		d->flags[d->faults] = vmf->flags;
	d->faults++;
	if (d->retries_left && ccmm_fault_flag_allow_retry_first(vmf->flags)) {
		d->retries_left--;
		ccmm_mutex_unlock(c, &vma->mm->mmap_lock);
		return -EAGAIN; /* VM_FAULT_RETRY: a trylock failed */
	}
	if (vmf->address >= vma->start + 4096)
		return -EFAULT; /* SIGBUS past the object */
	return ccmm_vmf_insert_pfn_prot(c, vma, vmf->address, d->pa, vma->vm_page_prot);
}

static void demo_close(struct ccmm_vma *vma)
{
	((struct demo *)vma->priv)->closed = true;
}

static const struct ccmm_vm_ops demo_ops = { "demo", demo_fault, demo_close };

static void test_vma_faults(void **state)
{
	struct ccmm_mm *mm;
	struct ccmm_vma *vma, *other;
	struct demo d = { 0 };
	struct ccmm_result r;
	char buf[8];

	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 0, 0, &d.pa), 0);
	d.retries_left = 2;
	assert_int_equal(ccmm_mm_create(m, CCMM_INIT_USER, "app", &mm), 0);
	assert_int_equal(ccmm_mmap(&ctx, mm, 0, 8192, CCMM_VM_READ | CCMM_VM_WRITE | CCMM_VM_SHARED, CCMM_PTE_RW,
				   &demo_ops, &d, &vma),
			 0);
	assert_true(CCMM_IS_ALIGNED(vma->start, CCMM_PMD_SIZE));
	assert_true(vma->vm_page_prot & CCMM_PTE_USER);
	/* overlapping and misaligned mmaps */
	assert_int_equal(ccmm_mmap(&ctx, mm, vma->start + 4096, 4096, 0, 0, NULL, NULL, &other), -EEXIST);
	assert_int_equal(ccmm_mmap(&ctx, mm, 0, 100, 0, 0, NULL, NULL, &other), -EINVAL);
	/* first touch: one retry (the retry state travels with the fault: TRIED), then the handler maps it */
	assert_int_equal(ccmm_mm_access(&ctx, mm, CCMM_WRITE, vma->start + 8, "abc", 4, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_int_equal(d.faults, 2);
	assert_int_equal(d.flags[0], CCMM_FAULT_FLAG_ALLOW_RETRY | CCMM_FAULT_FLAG_KILLABLE | CCMM_FAULT_FLAG_WRITE);
	assert_int_equal(d.flags[1], d.flags[0] | CCMM_FAULT_FLAG_TRIED);
	assert_int_equal(d.retries_left, 1); /* a retried fault may not ask again */
	assert_false(ccmm_mutex_is_locked(&mm->mmap_lock));
	assert_int_equal(ccmm_mm_access(&ctx, mm, CCMM_READ, vma->start + 8, buf, 4, &r), 0);
	assert_string_equal(buf, "abc");
	assert_int_equal(d.faults, 2); /* mapped now: no fault */
	/* beyond the object: the handler says SIGBUS, the access ends in #PF */
	assert_int_equal(ccmm_mm_access(&ctx, mm, CCMM_READ, vma->start + 4096, buf, 4, &r), 0);
	assert_int_equal(r.outcome, CCMM_PF);
	assert_int_equal(d.faults, 4); /* a new fault starts untried: it retried once more (the last retry) */
	assert_false(d.flags[2] & CCMM_FAULT_FLAG_TRIED);
	assert_int_equal(d.flags[3], d.flags[2] | CCMM_FAULT_FLAG_TRIED);
	/* zap: the PTE goes, the next access faults in again */
	assert_int_equal(ccmm_zap_vma_range(&ctx, vma, vma->start, 8192), 1);
	assert_int_equal(ccmm_mm_access(&ctx, mm, CCMM_READ, vma->start + 8, buf, 4, &r), 0);
	assert_int_equal(d.faults, 5); /* no retries left: mapped at once */
	assert_true(vma->vm_flags & CCMM_VM_SHARED);
	/* munmap of part of a VMA is refused; of all of it, closes it */
	assert_int_equal(ccmm_munmap(&ctx, mm, vma->start, 4096), -EINVAL);
	assert_int_equal(ccmm_munmap(&ctx, mm, vma->start, 8192), 0);
	assert_true(d.closed);
	assert_int_equal(mm->nr_vmas, 0);
	assert_int_equal(ccmm_pgt_is_valid(mm->pgt), 0);
	ccmm_mm_destroy(&ctx, mm);
	assert_int_equal(ccmm_free_pages(&ctx, d.pa, 0), 0);
}

struct item {
	struct ccmm_lru_node node;
	int id;
	bool accessed;
};

static bool item_referenced(struct ccmm_lru_node *n, void *arg)
{
	struct item *it = ccmm_container_of(n, struct item, node);
	bool was = it->accessed;

	it->accessed = false; /* test and clear, as the accessed bit */
	(*(int *)arg)++;
	return was;
}

static void test_lru_second_chance(void **state)
{
	struct ccmm_lru l;
	struct item it[6];
	struct ccmm_lru_node *out[6];
	int scanned = 0;

	ccmm_lru_init(&l);
	for (int i = 0; i < 6; i++) {
		it[i].id = i;
		it[i].accessed = i == 0 || i == 2;
		it[i].node.next = NULL;
		ccmm_lru_add_tail(&l, &it[i].node);
	}
	/* 0 and 2 were used: they move to the tail, 1 and 3 are taken */
	assert_int_equal(ccmm_lru_isolate(&l, 2, 16, item_referenced, &scanned, out), 2);
	assert_int_equal(ccmm_container_of(out[0], struct item, node)->id, 1);
	assert_int_equal(ccmm_container_of(out[1], struct item, node)->id, 3);
	assert_int_equal(scanned, 4);
	assert_int_equal(l.nr, 4);
	assert_false(ccmm_lru_on_list(&it[1].node));
	/* order now: 4 5 0 2 (0 and 2 lost their accessed bit) */
	assert_int_equal(ccmm_container_of(ccmm_lru_oldest(&l), struct item, node)->id, 4);
	/* the scan budget bounds the work */
	it[4].accessed = it[5].accessed = true;
	assert_int_equal(ccmm_lru_isolate(&l, 4, 2, item_referenced, &scanned, out), 0);
	assert_int_equal(ccmm_lru_isolate(&l, 4, 8, NULL, NULL, out), 4);
	assert_int_equal(l.nr, 0);
	assert_null(ccmm_lru_oldest(&l));
}


/*
 * memblock: a boot-time reservation comes out of the buddy allocator for
 * good, top-down or bottom-up, aligned, under a limit; the allocator never
 * hands out a reserved page afterwards.
 */
static void test_memblock(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_machine *mb;
	struct ccmm_ctx c;
	struct ccmm_error err;
	uint64_t top, low, mid, pa, free0;
	uint64_t got[64];
	size_t n = 0;

	assert_int_equal(ccmm_platform_parse("mb.ini", "[platform]\nmode=none\n[node:0]\nmem=16m\n", &p, &err), 0);
	assert_int_equal(ccmm_boot(p, 1, &mb), 0);
	ccmm_ctx_init(&c, mb, 0, "t");
	free0 = ccmm_node_free_pages(mb, 0);
	assert_int_equal(free0, 4096);

	/* top-down: the last 4 MiB; bottom-up with 64 KiB alignment: the first pages */
	assert_int_equal(ccmm_memblock_alloc(mb, 4 * CCMM_MiB, CCMM_PAGE_SIZE, 0, true, &top), 0);
	assert_int_equal(top, 12 * CCMM_MiB);
	assert_int_equal(ccmm_memblock_alloc(mb, 3 * CCMM_PAGE_SIZE, 64 * CCMM_KiB, 0, false, &low), 0);
	assert_int_equal(low, 0);
	/* the next bottom-up one with that alignment skips the partly used first 64 KiB */
	assert_int_equal(ccmm_memblock_alloc(mb, CCMM_PAGE_SIZE, 64 * CCMM_KiB, 0, false, &mid), 0);
	assert_int_equal(mid, 64 * CCMM_KiB);
	/* a limit: top-down below 1 MiB, 8 KiB aligned */
	assert_int_equal(ccmm_memblock_alloc(mb, 2 * CCMM_PAGE_SIZE, 8 * CCMM_KiB, CCMM_MiB, true, &pa), 0);
	assert_int_equal(pa, CCMM_MiB - 8 * CCMM_KiB);
	assert_int_equal(ccmm_node_free_pages(mb, 0), free0 - 1024 - 3 - 1 - 2);

	/* errors */
	assert_int_equal(ccmm_memblock_alloc(mb, 16 * CCMM_MiB, CCMM_PAGE_SIZE, 0, true, &pa), -ENOMEM);
	assert_int_equal(ccmm_memblock_alloc(mb, 100, CCMM_PAGE_SIZE, 0, true, &pa), -EINVAL);
	assert_int_equal(ccmm_memblock_alloc(mb, CCMM_PAGE_SIZE, 3 * CCMM_PAGE_SIZE, 0, true, &pa), -EINVAL);
	assert_int_equal(ccmm_memblock_alloc(mb, CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, 4096, true, &pa), -ENOMEM);

	/* the buddy allocator hands out everything else and nothing reserved */
	for (unsigned order = CCMM_MAX_ORDER + 1; order--;) {
		while (n < CCMM_ARRAY_SIZE(got) && !ccmm_alloc_pages(&c, 0, order, 0, &got[n])) {
			uint64_t end = got[n] + (CCMM_PAGE_SIZE << order);

			assert_false(got[n] < top + 4 * CCMM_MiB && end > top);
			assert_false(got[n] < low + 3 * CCMM_PAGE_SIZE && end > low);
			assert_false(got[n] < mid + CCMM_PAGE_SIZE && end > mid);
			assert_false(got[n] < CCMM_MiB && end > CCMM_MiB - 8 * CCMM_KiB);
			n++;
		}
	}
	assert_int_equal(ccmm_node_free_pages(mb, 0), 0);
	/* a reserved page cannot be freed into the allocator */
	assert_int_equal(ccmm_free_pages(&c, top, 0), -EINVAL);
	ccmm_shutdown(mb);
}

/* CCMM_GFP_DMA32: only RAM below 4 GiB, even when the preferred range is above. */
static void test_gfp_dma32(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_machine *mb;
	struct ccmm_ctx c;
	struct ccmm_error err;
	uint64_t pa;

	/* 6 GiB laid out as 0-2 GiB and 4-8 GiB around the PCI hole */
	assert_int_equal(ccmm_platform_parse("d32.ini", "[platform]\nmode=none\n[node:0]\nmem=6g\n", &p, &err), 0);
	assert_int_equal(ccmm_boot(p, 1, &mb), 0);
	ccmm_ctx_init(&c, mb, 0, "t");
	for (int i = 0; i < 4; i++) {
		assert_int_equal(ccmm_alloc_pages(&c, 0, CCMM_MAX_ORDER, CCMM_GFP_DMA32, &pa), 0);
		assert_true(pa + (CCMM_PAGE_SIZE << CCMM_MAX_ORDER) <= 4 * CCMM_GiB);
	}
	/* take all of the low range: DMA32 then fails although high memory is free */
	while (!ccmm_alloc_pages(&c, 0, CCMM_MAX_ORDER, CCMM_GFP_DMA32, &pa))
		;
	assert_int_equal(ccmm_alloc_pages(&c, 0, 0, CCMM_GFP_DMA32, &pa), -ENOMEM);
	assert_int_equal(ccmm_alloc_pages(&c, 0, 0, 0, &pa), 0);
	assert_true(pa >= 4 * CCMM_GiB);
	ccmm_shutdown(mb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_free_merge),
		cmocka_unit_test(test_bad_frees),
		cmocka_unit_test(test_gfp_zero),
		cmocka_unit_test(test_direct_map_and_ioremap),
		cmocka_unit_test(test_vmap),
		cmocka_unit_test(test_vma_faults),
		cmocka_unit_test(test_lru_second_chance),
		cmocka_unit_test(test_memblock),
		cmocka_unit_test(test_gfp_dma32),
	};

	return cmocka_run_group_tests_name("mm", tests, setup, teardown);
}
