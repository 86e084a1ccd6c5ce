// SPDX-License-Identifier: MIT
/* mmu: leaves of every size, overlap refusal, splits, protection changes, enc-bit polarity, the stale TLB, the software TLB. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mmu/mmu.h"

static struct ccmm_machine *machine(const char *mode_lines)
{
	char text[512];
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	snprintf(text, sizeof(text), "[platform]\n%s\n[node:0]\nmem=8g\n", mode_lines);
	if (ccmm_platform_parse("t.ini", text, &p, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(ccmm_machine_create(p, 1, &m), 0);
	return m;
}

struct hook_log {
	int maps, unmaps;
	uint64_t last_va, last_size;
};

static struct hook_log hlog;

static void hook(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t pa, uint64_t size, uint64_t pte,
		 bool map)
{
	if (map)
		hlog.maps++;
	else
		hlog.unmaps++;
	hlog.last_va = va;
	hlog.last_size = size;
}

static void test_map_sizes(void **state)
{
	struct ccmm_machine *m = machine("mode=none");
	struct ccmm_pgtable *pt;
	struct ccmm_walk w;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_USER, "u", false, &pt), 0);
	assert_int_equal(ccmm_pgt_map(&ctx, pt, 0x400000, 0x10000, 8192, 4096, CCMM_PTE_RW | CCMM_PTE_USER), 0);
	assert_int_equal(ccmm_pgt_map(&ctx, pt, 0x40000000, 0x200000, 2 << 20, 2 << 20, CCMM_PTE_RW), 0);
	assert_int_equal(ccmm_pgt_map(&ctx, pt, 0x80000000, 0x40000000, 1 << 30, 1 << 30, 0), 0);

	assert_int_equal(ccmm_pgt_walk(pt, 0x401234, &w), 0);
	assert_int_equal(w.level, 1);
	assert_int_equal(w.pa, 0x11234);
	assert_true(w.pte & CCMM_PTE_USER);
	assert_int_equal(ccmm_pgt_walk(pt, 0x40123456, &w), 0);
	assert_int_equal(w.level, 2);
	assert_int_equal(w.pa, 0x200000 + 0x123456);
	assert_int_equal(ccmm_pgt_walk(pt, 0x80000000 + 0x2345678, &w), 0);
	assert_int_equal(w.level, 3);
	assert_int_equal(w.pa, 0x40000000 + 0x2345678);
	assert_false(w.pte & CCMM_PTE_RW);
	assert_int_equal(ccmm_pgt_walk(pt, 0x402000, &w), -EFAULT);
	assert_int_equal(pt->nr_leaves[1], 2);
	assert_int_equal(pt->nr_leaves[2], 1);
	assert_int_equal(pt->nr_leaves[3], 1);
	assert_int_equal(ccmm_pgt_is_valid(pt), 0);
	/* 4 PTE updates charged */
	assert_int_equal(ctx.cost_n[CCMM_COST_pte_update_ns], 4);
	ccmm_pgt_destroy(&ctx, pt);
	ccmm_machine_destroy(m);
}

static void test_map_refusals(void **state)
{
	struct ccmm_machine *m = machine("mode=none");
	struct ccmm_pgtable *pt;
	struct ccmm_walk w;

	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_USER, "u", false, &pt), 0);
	assert_int_equal(ccmm_pgt_map(NULL, pt, 0x200000, 0x200000, 2 << 20, 2 << 20, 0), 0);
	/* any overlap is refused and changes nothing */
	assert_int_equal(ccmm_pgt_map(NULL, pt, 0x1ff000, 0x5000, 8192, 4096, 0), -EEXIST);
	assert_int_equal(ccmm_pgt_walk(pt, 0x1ff000, &w), -EFAULT);
	assert_int_equal(ccmm_pgt_map(NULL, pt, 0x300000, 0x5000, 4096, 4096, 0), -EEXIST);
	/* misaligned or empty */
	assert_int_equal(ccmm_pgt_map(NULL, pt, 0x1000, 0x200000, 2 << 20, 2 << 20, 0), -EINVAL);
	assert_int_equal(ccmm_pgt_map(NULL, pt, 0x1000, 0x1000, 0, 4096, 0), -EINVAL);
	assert_int_equal(ccmm_pgt_map(NULL, pt, 0x1000, 0x1000, 4096, 8192, 0), -EINVAL);
	/* beyond the physical address space */
	assert_int_equal(ccmm_pgt_map(NULL, pt, 0x1000, 1ULL << 48, 4096, 4096, 0), -EINVAL);
	assert_int_equal(ccmm_pgt_is_valid(pt), 0);
	ccmm_pgt_destroy(NULL, pt);
	ccmm_machine_destroy(m);
}

static void test_unmap_splits(void **state)
{
	struct ccmm_machine *m = machine("mode=none");
	struct ccmm_pgtable *pt;
	struct ccmm_walk w;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_USER, "u", false, &pt), 0);
	assert_int_equal(ccmm_pgt_map(&ctx, pt, 0, 0, 1 << 30, 1 << 30, CCMM_PTE_RW), 0);
	/* unmapping one 4 KiB page of a 1 GiB leaf splits it twice */
	assert_int_equal(ccmm_pgt_unmap(&ctx, pt, 0x203000, 4096, true), 1);
	assert_int_equal(ctx.ctr[CCMM_CTR_cpa_splits], 2);
	assert_int_equal(ccmm_pgt_walk(pt, 0x203000, &w), -EFAULT);
	assert_int_equal(ccmm_pgt_walk(pt, 0x204000, &w), 0);
	assert_int_equal(w.level, 1);
	assert_int_equal(w.pa, 0x204000);
	assert_int_equal(ccmm_pgt_walk(pt, 0x400000, &w), 0);
	assert_int_equal(w.level, 2);
	assert_int_equal(pt->nr_leaves[3], 0);
	assert_int_equal(pt->nr_leaves[2], 511);
	assert_int_equal(pt->nr_leaves[1], 511);
	assert_int_equal(ccmm_pgt_is_valid(pt), 0);
	/* unmapping a range counts the pages that were mapped */
	assert_int_equal(ccmm_pgt_unmap(&ctx, pt, 0x200000, 0x200000, true), 511);
	assert_int_equal(ccmm_pgt_unmap(&ctx, pt, 0x200000, 0x200000, true), 0);
	assert_int_equal(ccmm_pgt_unmap(&ctx, pt, 0, 1 << 30, true), 511 * 512);
	/* an empty tree frees its tables */
	assert_int_equal(pt->nr_tables, 1);
	assert_int_equal(ccmm_pgt_is_valid(pt), 0);
	ccmm_pgt_destroy(&ctx, pt);
	ccmm_machine_destroy(m);
}

static void test_protect(void **state)
{
	struct ccmm_machine *m = machine("mode=none");
	struct ccmm_pgtable *pt;
	struct ccmm_walk w;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_KERNEL, "k", false, &pt), 0);
	assert_int_equal(ccmm_pgt_map(&ctx, pt, CCMM_PAGE_OFFSET, 0, 2 << 20, 2 << 20, CCMM_PTE_RW), 0);
	/* set_memory_wc on one page: the 2 MiB leaf splits, only that page changes */
	assert_int_equal(ccmm_pgt_protect(&ctx, pt, CCMM_PAGE_OFFSET + 0x5000, 4096, ccmm_pte_cache_bits(CCMM_CACHE_WC, 1),
					  CCMM_PTE_PCD | CCMM_PTE_PWT, true),
			 1);
	assert_int_equal(ctx.ctr[CCMM_CTR_cpa_splits], 1);
	assert_int_equal(ccmm_pgt_walk(pt, CCMM_PAGE_OFFSET + 0x5000, &w), 0);
	assert_int_equal(ccmm_pte_cache_mode(w.pte, w.level), CCMM_CACHE_WC);
	assert_int_equal(ccmm_pgt_walk(pt, CCMM_PAGE_OFFSET + 0x6000, &w), 0);
	assert_int_equal(ccmm_pte_cache_mode(w.pte, w.level), CCMM_CACHE_WB);
	/* a hole in the range: -EFAULT and nothing changes */
	assert_int_equal(ccmm_pgt_protect(&ctx, pt, CCMM_PAGE_OFFSET + 0x1ff000, 0x2000, CCMM_PTE_NX, 0, true), -EFAULT);
	assert_int_equal(ccmm_pgt_walk(pt, CCMM_PAGE_OFFSET + 0x1ff000, &w), 0);
	assert_false(w.pte & CCMM_PTE_NX);
	assert_int_equal(ccmm_pgt_is_valid(pt), 0);
	ccmm_pgt_destroy(&ctx, pt);
	ccmm_machine_destroy(m);
}

static void test_enc_polarity(void **state)
{
	struct ccmm_machine *sev = machine("mode=sev\nc_bit=51");
	struct ccmm_machine *tdx = machine("mode=tdx\ngpa_width=48");
	struct ccmm_machine *none = machine("mode=none");
	struct ccmm_machine *svm = machine("mode=pseries-svm");
	uint64_t pte = 0x1000 | CCMM_PTE_PRESENT;

	/* SEV: C-bit set means private */
	assert_int_equal(ccmm_pte_mkprivate(sev, pte, true), pte | (1ULL << 51));
	assert_int_equal(ccmm_pte_mkprivate(sev, pte | (1ULL << 51), false), pte);
	assert_true(ccmm_pte_is_private(sev, pte | (1ULL << 51)));
	assert_false(ccmm_pte_is_private(sev, pte));
	/* TDX: shared bit set means shared */
	assert_int_equal(ccmm_pte_mkprivate(tdx, pte, false), pte | (1ULL << 47));
	assert_int_equal(ccmm_pte_mkprivate(tdx, pte | (1ULL << 47), true), pte);
	assert_true(ccmm_pte_is_private(tdx, pte));
	assert_false(ccmm_pte_is_private(tdx, pte | (1ULL << 47)));
	/* the PA never includes the bit */
	assert_int_equal(ccmm_pte_pa(tdx, pte | (1ULL << 47), 1, 0x123), 0x1123);
	assert_int_equal(ccmm_pte_pa(sev, pte | (1ULL << 51), 1, 0), 0x1000);
	/* no bit: unchanged */
	assert_int_equal(ccmm_pte_mkprivate(none, pte, true), pte);
	assert_false(ccmm_pte_is_private(none, pte));
	assert_int_equal(ccmm_pte_mkprivate(svm, pte, false), pte);
	assert_true(ccmm_pte_is_private(svm, pte));
	ccmm_machine_destroy(sev);
	ccmm_machine_destroy(tdx);
	ccmm_machine_destroy(none);
	ccmm_machine_destroy(svm);
}

static void test_enc_bit_survives_split(void **state)
{
	struct ccmm_machine *m = machine("mode=sev");
	struct ccmm_pgtable *pt;
	struct ccmm_walk w;

	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_KERNEL, "k", false, &pt), 0);
	assert_int_equal(ccmm_pgt_map(NULL, pt, CCMM_PAGE_OFFSET, 0, 2 << 20, 2 << 20, ccmm_pte_mkprivate(m, CCMM_PTE_RW, true)), 0);
	/* set_memory_decrypted of one page */
	assert_int_equal(ccmm_pgt_protect(NULL, pt, CCMM_PAGE_OFFSET + 0x3000, 4096, 0, m->enc_mask, true), 1);
	assert_int_equal(ccmm_pgt_walk(pt, CCMM_PAGE_OFFSET + 0x3000, &w), 0);
	assert_false(ccmm_pte_is_private(m, w.pte));
	assert_int_equal(ccmm_pgt_walk(pt, CCMM_PAGE_OFFSET + 0x4000, &w), 0);
	assert_true(ccmm_pte_is_private(m, w.pte)); /* the rest of the split leaf keeps the C-bit */
	assert_int_equal(w.pa, 0x4000);
	ccmm_pgt_destroy(NULL, pt);
	ccmm_machine_destroy(m);
}

static void test_cache_bits(void **state)
{
	for (int c = 0; c < CCMM_CACHE_NR; c++)
		for (unsigned l = 1; l <= 3; l++)
			assert_int_equal(ccmm_pte_cache_mode(ccmm_pte_cache_bits(c, l), l), c);
	assert_int_equal(ccmm_pte_cache_bits(CCMM_CACHE_WC, 1), CCMM_PTE_PWT);
	assert_int_equal(ccmm_pte_cache_bits(CCMM_CACHE_UC, 1), CCMM_PTE_PWT | CCMM_PTE_PCD);
	assert_int_equal(ccmm_pte_cache_mode(CCMM_PTE_PCD, 1), CCMM_CACHE_UC); /* UC- */
}

static void test_stale_tlb(void **state)
{
	struct ccmm_machine *m = machine("mode=none\ncpus=2");
	struct ccmm_pgtable *pt;
	struct ccmm_walk w;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_KERNEL, "k", false, &pt), 0);
	assert_int_equal(ccmm_pgt_map(&ctx, pt, CCMM_PAGE_OFFSET, 0x7000, 4096, 4096, CCMM_PTE_RW), 0);
	/* unmap without a flush: the tables say no, the TLB still says yes */
	assert_int_equal(ccmm_pgt_unmap(&ctx, pt, CCMM_PAGE_OFFSET, 4096, false), 1);
	assert_int_equal(ccmm_pgt_walk(pt, CCMM_PAGE_OFFSET, &w), -EFAULT);
	assert_int_equal(ccmm_pgt_translate(pt, CCMM_PAGE_OFFSET + 8, &w), 0);
	assert_true(w.stale);
	assert_int_equal(w.pa, 0x7008);
	assert_int_equal(ctx.ctr[CCMM_CTR_tlb_flushes], 0);
	ccmm_pgt_flush_tlb(&ctx, pt, CCMM_PAGE_OFFSET, 4096);
	assert_int_equal(ccmm_pgt_translate(pt, CCMM_PAGE_OFFSET, &w), -EFAULT);
	/* a flush on a 2-CPU machine costs a shootdown */
	assert_int_equal(ctx.ctr[CCMM_CTR_tlb_flushes], 1);
	assert_int_equal(ctx.cost_n[CCMM_COST_tlb_shootdown_ns], 1);
	/* a protection change without flush: the old attributes stay visible */
	assert_int_equal(ccmm_pgt_map(&ctx, pt, CCMM_PAGE_OFFSET, 0x7000, 4096, 4096, CCMM_PTE_RW), 0);
	assert_int_equal(ccmm_pgt_protect(&ctx, pt, CCMM_PAGE_OFFSET, 4096, 0, CCMM_PTE_RW, false), 1);
	assert_int_equal(ccmm_pgt_translate(pt, CCMM_PAGE_OFFSET, &w), 0);
	assert_true(w.stale && (w.pte & CCMM_PTE_RW));
	assert_int_equal(ccmm_pgt_walk(pt, CCMM_PAGE_OFFSET, &w), 0);
	assert_false(w.pte & CCMM_PTE_RW);
	ccmm_pgt_destroy(&ctx, pt);
	ccmm_machine_destroy(m);
}

/* Thousands of stale entries: each page keeps its own oldest translation; a flush takes exactly its range. */
static void test_stale_tlb_many(void **state)
{
	struct ccmm_machine *m = machine("mode=none\ncpus=2");
	const uint64_t n = 4096, base = CCMM_PAGE_OFFSET;
	struct ccmm_pgtable *pt;
	struct ccmm_walk w;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_KERNEL, "k", false, &pt), 0);
	assert_int_equal(ccmm_pgt_map(&ctx, pt, base, 0x100000, n * 4096, 4096, CCMM_PTE_RW), 0);
	/* every page loses RW without a flush, then gains ACCESSED: the TLB keeps the first (RW, not accessed) */
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(ccmm_pgt_protect(&ctx, pt, base + i * 4096, 4096, 0, CCMM_PTE_RW, false), 1);
	for (uint64_t i = 0; i < n; i++)
		assert_int_equal(ccmm_pgt_protect(&ctx, pt, base + i * 4096, 4096, CCMM_PTE_ACCESSED, 0, false), 1);
	assert_int_equal(pt->nr_stale, n);
	for (uint64_t i = 0; i < n; i += 97) {
		assert_int_equal(ccmm_pgt_translate(pt, base + i * 4096 + 8, &w), 0);
		assert_true(w.stale && (w.pte & CCMM_PTE_RW) && !(w.pte & CCMM_PTE_ACCESSED));
		assert_int_equal(w.pa, 0x100000 + i * 4096 + 8);
	}
	/* one page flushed: it translates from the tables, its neighbours stay stale */
	ccmm_pgt_flush_tlb(&ctx, pt, base + 1000 * 4096, 4096);
	assert_int_equal(pt->nr_stale, n - 1);
	assert_int_equal(ccmm_pgt_translate(pt, base + 1000 * 4096, &w), 0);
	assert_true(!w.stale && !(w.pte & CCMM_PTE_RW) && (w.pte & CCMM_PTE_ACCESSED));
	assert_int_equal(ccmm_pgt_translate(pt, base + 999 * 4096, &w), 0);
	assert_true(w.stale);
	assert_int_equal(ccmm_pgt_translate(pt, base + 1001 * 4096, &w), 0);
	assert_true(w.stale);
	/* a new change to the flushed page is stale again, with the current attributes as the old ones */
	assert_int_equal(ccmm_pgt_protect(&ctx, pt, base + 1000 * 4096, 4096, CCMM_PTE_RW, 0, false), 1);
	assert_int_equal(ccmm_pgt_translate(pt, base + 1000 * 4096, &w), 0);
	assert_true(w.stale && !(w.pte & CCMM_PTE_RW));
	/* a larger range: exactly its 200 pages go */
	ccmm_pgt_flush_tlb(&ctx, pt, base + 2000 * 4096, 200 * 4096);
	assert_int_equal(pt->nr_stale, n - 200);
	assert_int_equal(ccmm_pgt_translate(pt, base + 2199 * 4096, &w), 0);
	assert_false(w.stale);
	assert_int_equal(ccmm_pgt_translate(pt, base + 2200 * 4096, &w), 0);
	assert_true(w.stale);
	/* a whole flush: nothing stale */
	ccmm_pgt_flush_tlb(&ctx, pt, 0, 0);
	assert_int_equal(pt->nr_stale, 0);
	assert_int_equal(ccmm_pgt_translate(pt, base + 2200 * 4096, &w), 0);
	assert_false(w.stale);
	ccmm_pgt_destroy(&ctx, pt);
	ccmm_machine_destroy(m);
}

static void test_hook(void **state)
{
	struct ccmm_machine *m = machine("mode=none");
	struct ccmm_pgtable *pt, *untracked;

	ccmm_mmu_set_map_hook(m, hook);
	memset(&hlog, 0, sizeof(hlog));
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_HOST, "vmm", true, &pt), 0);
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_KERNEL, "k", false, &untracked), 0);
	assert_int_equal(ccmm_pgt_map(NULL, pt, CCMM_PAGE_OFFSET, 0, 2 << 20, 2 << 20, 0), 0);
	assert_int_equal(hlog.maps, 1);
	assert_int_equal(hlog.last_va, CCMM_PAGE_OFFSET); /* canonical kernel address */
	assert_int_equal(hlog.last_size, 2 << 20);
	/* protection change: one unmap and one map per leaf */
	assert_int_equal(ccmm_pgt_protect(NULL, pt, CCMM_PAGE_OFFSET, 2 << 20, CCMM_PTE_NX, 0, true), 512);
	assert_int_equal(hlog.maps, 2);
	assert_int_equal(hlog.unmaps, 1);
	assert_int_equal(ccmm_pgt_map(NULL, untracked, 0, 0, 4096, 4096, 0), 0);
	assert_int_equal(hlog.maps, 2);
	ccmm_pgt_destroy(NULL, pt);
	assert_int_equal(hlog.unmaps, 2); /* teardown reports it */
	ccmm_pgt_destroy(NULL, untracked);
	ccmm_machine_destroy(m);
}

static int count_leaf(void *arg, uint64_t va, uint64_t pte, unsigned level)
{
	(*(int *)arg)++;
	return 0;
}

static void test_iterate(void **state)
{
	struct ccmm_machine *m = machine("mode=none");
	struct ccmm_pgtable *pt;
	int n = 0;

	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_USER, "u", false, &pt), 0);
	assert_int_equal(ccmm_pgt_map(NULL, pt, 0x10000, 0x10000, 16 * 4096, 4096, 0), 0);
	assert_int_equal(ccmm_pgt_for_each_leaf(pt, 0x12000, 3 * 4096, count_leaf, &n), 0);
	assert_int_equal(n, 3);
	ccmm_pgt_destroy(NULL, pt);
	ccmm_machine_destroy(m);
}

/* The TLB hits since @before (this thread's). */
static uint64_t tlb_hits_since(const struct ccmm_tlb_stats *before)
{
	struct ccmm_tlb_stats now;

	ccmm_tlb_stats_get(&now);
	return now.hits - before->hits;
}

/*
 * The software TLB (a translation cache per thread) never answers with a
 * translation a change of the table took away: after every kind of change
 * (unmap, map again elsewhere, protect, split, unmap without a flush, a
 * table destroyed and another made) the next translation of the same
 * address, in the same thread, is what the tables (and the model's stale
 * entries) say. Each translation before a change is asserted to have come
 * from the TLB, so the case cannot pass with the TLB unused.
 */
static void test_tlb_follows_changes(void **state)
{
	struct ccmm_machine *m = machine("mode=none");
	struct ccmm_pgtable *pt, *pt2;
	struct ccmm_tlb_stats st;
	struct ccmm_walk w;
	struct ccmm_ctx ctx;
	const uint64_t va = 0x400000, va2 = 0x40000000, va3 = 0x80000000;

	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_USER, "u", false, &pt), 0);
	/* 4 KiB: filled by the first translation, hit by the second */
	assert_int_equal(ccmm_pgt_map(&ctx, pt, va, 0x10000, 4096, 4096, CCMM_PTE_RW | CCMM_PTE_USER), 0);
	assert_int_equal(ccmm_pgt_translate(pt, va + 8, &w), 0);
	ccmm_tlb_stats_get(&st);
	assert_int_equal(ccmm_pgt_translate(pt, va + 16, &w), 0);
	assert_int_equal(tlb_hits_since(&st), 1);
	assert_int_equal(w.pa, 0x10010);
	assert_int_equal(w.level, 1);
	/* unmapped (and flushed): gone */
	assert_int_equal(ccmm_pgt_unmap(&ctx, pt, va, 4096, true), 1);
	assert_int_equal(ccmm_pgt_translate(pt, va + 16, &w), -EFAULT);
	/* mapped again to another page: the new page, then from the TLB */
	assert_int_equal(ccmm_pgt_map(&ctx, pt, va, 0x20000, 4096, 4096, CCMM_PTE_RW | CCMM_PTE_USER), 0);
	assert_int_equal(ccmm_pgt_translate(pt, va + 16, &w), 0);
	assert_int_equal(w.pa, 0x20010);
	ccmm_tlb_stats_get(&st);
	assert_int_equal(ccmm_pgt_translate(pt, va + 16, &w), 0);
	assert_int_equal(tlb_hits_since(&st), 1);
	assert_int_equal(w.pa, 0x20010);
	/* made read-only (flushed): the next translation has no RW */
	assert_int_equal(ccmm_pgt_protect(&ctx, pt, va, 4096, 0, CCMM_PTE_RW, true), 1);
	assert_int_equal(ccmm_pgt_translate(pt, va, &w), 0);
	assert_false(w.pte & CCMM_PTE_RW);
	/* unmapped without a flush: the model's stale TLB entry, not the cached translation */
	assert_int_equal(ccmm_pgt_translate(pt, va, &w), 0);
	assert_int_equal(ccmm_pgt_unmap(&ctx, pt, va, 4096, false), 1);
	assert_int_equal(ccmm_pgt_translate(pt, va, &w), 0);
	assert_true(w.stale);
	assert_false(w.pte & CCMM_PTE_RW);
	ccmm_pgt_flush_tlb(&ctx, pt, va, 4096);
	assert_int_equal(ccmm_pgt_translate(pt, va, &w), -EFAULT);

	/* 2 MiB: a leaf entry; a split by a protection change of one page inside it */
	assert_int_equal(ccmm_pgt_map(&ctx, pt, va2, 0x200000, 2 << 20, 2 << 20, CCMM_PTE_RW), 0);
	assert_int_equal(ccmm_pgt_translate(pt, va2 + 0x1234, &w), 0);
	ccmm_tlb_stats_get(&st);
	assert_int_equal(ccmm_pgt_translate(pt, va2 + 0x5678, &w), 0);
	assert_int_equal(tlb_hits_since(&st), 1);
	assert_int_equal(w.level, 2);
	assert_int_equal(w.pa, 0x205678);
	assert_int_equal(ccmm_pgt_protect(&ctx, pt, va2 + 0x5000, 4096, 0, CCMM_PTE_RW, true), 1);
	assert_int_equal(ccmm_pgt_translate(pt, va2 + 0x5678, &w), 0);
	assert_int_equal(w.level, 1);
	assert_false(w.pte & CCMM_PTE_RW);
	assert_int_equal(ccmm_pgt_translate(pt, va2 + 0x1234, &w), 0);
	assert_int_equal(w.level, 1);
	assert_true(w.pte & CCMM_PTE_RW);
	assert_int_equal(w.pa, 0x201234);

	/* 1 GiB: the offset within the leaf; then unmapped */
	assert_int_equal(ccmm_pgt_map(&ctx, pt, va3, 0x40000000, 1 << 30, 1 << 30, 0), 0);
	assert_int_equal(ccmm_pgt_translate(pt, va3 + 0x2345678, &w), 0);
	ccmm_tlb_stats_get(&st);
	assert_int_equal(ccmm_pgt_translate(pt, va3 + 0x2345678, &w), 0);
	assert_int_equal(tlb_hits_since(&st), 1);
	assert_int_equal(w.level, 3);
	assert_int_equal(w.pa, 0x40000000 + 0x2345678);
	assert_int_equal(ccmm_pgt_unmap(&ctx, pt, va3, 1 << 30, true), 1 << 18);
	assert_int_equal(ccmm_pgt_translate(pt, va3 + 0x2345678, &w), -EFAULT);

	/* a table destroyed, another made (perhaps at the same host address): its own translations */
	assert_int_equal(ccmm_pgt_translate(pt, va2 + 0x1234, &w), 0);
	ccmm_pgt_destroy(&ctx, pt);
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_USER, "u2", false, &pt2), 0);
	assert_int_equal(ccmm_pgt_translate(pt2, va2 + 0x1234, &w), -EFAULT);
	assert_int_equal(ccmm_pgt_map(&ctx, pt2, va2, 0x600000, 2 << 20, 2 << 20, 0), 0);
	assert_int_equal(ccmm_pgt_translate(pt2, va2 + 0x1234, &w), 0);
	assert_int_equal(w.pa, 0x601234);
	ccmm_pgt_destroy(&ctx, pt2);
	ccmm_machine_destroy(m);
}

/* Another thread's TLB: it translated before the change; after the change (made here) it sees the new mapping. */
struct tlb_peer {
	struct ccmm_pgtable *pt;
	uint64_t va;
	pthread_barrier_t *bar;
	struct ccmm_walk before, after;
	int ret_before, ret_after;
	uint64_t hits;     /* TLB hits of its translations before the change */
};

static void *tlb_peer_run(void *arg)
{
	struct tlb_peer *p = arg;
	struct ccmm_tlb_stats st;

	ccmm_pgt_translate(p->pt, p->va, &p->before); /* fills this thread's TLB */
	ccmm_tlb_stats_get(&st);
	p->ret_before = ccmm_pgt_translate(p->pt, p->va, &p->before);
	p->hits = tlb_hits_since(&st);
	pthread_barrier_wait(p->bar); /* the main thread changes the mapping */
	pthread_barrier_wait(p->bar);
	p->ret_after = ccmm_pgt_translate(p->pt, p->va, &p->after);
	return NULL;
}

/* One remap of @size at @va (from @pa to @pa2, made read-only) while the peer thread holds the old translation. */
static void tlb_peer_case(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t size, uint64_t pa,
			  uint64_t pa2)
{
	pthread_barrier_t bar;
	pthread_t th;
	uint64_t off = size > 4096 ? 0x1010 : 0x10;
	struct tlb_peer p = { .pt = pt, .va = va + off, .bar = &bar };

	assert_int_equal(ccmm_pgt_map(ctx, pt, va, pa, size, size, CCMM_PTE_RW | CCMM_PTE_USER), 0);
	pthread_barrier_init(&bar, NULL, 2);
	assert_int_equal(pthread_create(&th, NULL, tlb_peer_run, &p), 0);
	pthread_barrier_wait(&bar);
	assert_int_equal(ccmm_pgt_unmap(ctx, pt, va, size, true), (long)(size >> 12));
	assert_int_equal(ccmm_pgt_map(ctx, pt, va, pa2, size, size, CCMM_PTE_USER), 0);
	pthread_barrier_wait(&bar);
	pthread_join(th, NULL);
	pthread_barrier_destroy(&bar);
	assert_int_equal(p.ret_before, 0);
	assert_int_equal(p.hits, 1);
	assert_int_equal(p.before.pa, pa + off);
	assert_true(p.before.pte & CCMM_PTE_RW);
	assert_int_equal(p.ret_after, 0);
	assert_int_equal(p.after.pa, pa2 + off);
	assert_false(p.after.pte & CCMM_PTE_RW);
}

static void test_tlb_other_thread(void **state)
{
	struct ccmm_machine *m = machine("mode=none");
	struct ccmm_pgtable *pt;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_GUEST_USER, "u", false, &pt), 0);
	/* a 4 KiB page (its neighbour keeps the last-level table alive), a 2 MiB leaf, a 1 GiB leaf */
	assert_int_equal(ccmm_pgt_map(&ctx, pt, 0x402000, 0x50000, 4096, 4096, CCMM_PTE_USER), 0);
	tlb_peer_case(&ctx, pt, 0x400000, 4096, 0x10000, 0x30000);
	tlb_peer_case(&ctx, pt, 0x40000000, 2 << 20, 0x200000, 0x800000);
	tlb_peer_case(&ctx, pt, 0x80000000, 1 << 30, 0x40000000, 0x80000000);
	ccmm_pgt_destroy(&ctx, pt);
	ccmm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_sizes),      cmocka_unit_test(test_map_refusals),
		cmocka_unit_test(test_unmap_splits),   cmocka_unit_test(test_protect),
		cmocka_unit_test(test_enc_polarity),   cmocka_unit_test(test_enc_bit_survives_split),
		cmocka_unit_test(test_cache_bits),     cmocka_unit_test(test_stale_tlb), cmocka_unit_test(test_stale_tlb_many),
		cmocka_unit_test(test_hook),           cmocka_unit_test(test_iterate),
		cmocka_unit_test(test_tlb_follows_changes), cmocka_unit_test(test_tlb_other_thread),
	};

	return cmocka_run_group_tests_name("mmu", tests, NULL, NULL);
}
