// SPDX-License-Identifier: MIT
/* Four-level page tables with 4 KiB / 2 MiB / 1 GiB leaves and a stale-TLB model. */
#include "mmu/mmu.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define ENTRIES 512
#define TABLE_MASK 0x000ffffffffff000ULL /* host pointer of a child table */
#define VA_MASK ((1ULL << 48) - 1)

const char *ccmm_pgt_kind_name(enum ccmm_pgt_kind kind)
{
	static const char *const n[] = { "guest-kernel", "guest-user", "host", "iommu" };

	return (unsigned)kind < CCMM_ARRAY_SIZE(n) ? n[kind] : "?";
}

void ccmm_mmu_set_map_hook(struct ccmm_machine *m, ccmm_map_hook hook)
{
	m->map_hook = hook;
}

/* ---- PTE helpers ---------------------------------------------------- */

uint64_t ccmm_pte_cache_bits(enum ccmm_cache_mode c, unsigned level)
{
	(void)level; /* WB/WC/UC sit at PAT indexes 0, 1 and 3: PWT/PCD only */
	switch (c) {
	case CCMM_CACHE_WC:
		return CCMM_PTE_PWT;
	case CCMM_CACHE_UC:
		return CCMM_PTE_PCD | CCMM_PTE_PWT;
	default:
		return 0;
	}
}

enum ccmm_cache_mode ccmm_pte_cache_mode(uint64_t pte, unsigned level)
{
	(void)level;
	if (pte & CCMM_PTE_PCD)
		return CCMM_CACHE_UC; /* UC- and UC */
	if (pte & CCMM_PTE_PWT)
		return CCMM_CACHE_WC;
	return CCMM_CACHE_WB;
}

uint64_t ccmm_pte_mkprivate(const struct ccmm_machine *m, uint64_t pte, bool priv)
{
	switch (m->plat->mode) {
	case CCMM_CC_SME:
	case CCMM_CC_SEV:
	case CCMM_CC_SEV_SNP:
		return priv ? pte | m->enc_mask : pte & ~m->enc_mask;
	case CCMM_CC_TDX:
		return priv ? pte & ~m->enc_mask : pte | m->enc_mask;
	default:
		return pte;
	}
}

uint64_t ccmm_pte_pa(const struct ccmm_machine *m, uint64_t pte, unsigned level, uint64_t va)
{
	uint64_t size = ccmm_level_size(level);

	return (pte & m->pa_mask & ~(size - 1)) | (va & (size - 1));
}

void ccmm_pte_format(const struct ccmm_machine *m, uint64_t pte, unsigned level, char *buf, size_t len)
{
	const char *enc = "";

	if (m->enc_mask && m->plat->mode != CCMM_CC_NONE)
		enc = ccmm_pte_is_private(m, pte) ? " private" : " shared";
	snprintf(buf, len, "0x%016" PRIx64 " (%s%s%s %s%s%s%s, %s)", pte, pte & CCMM_PTE_PRESENT ? "P" : "-",
		 pte & CCMM_PTE_RW ? " RW" : " RO", pte & CCMM_PTE_USER ? " US" : "",
		 ccmm_cache_mode_name(ccmm_pte_cache_mode(pte, level)), enc, pte & CCMM_PTE_SPECIAL ? " special" : "",
		 pte & CCMM_PTE_NX ? " NX" : "", level == 3 ? "1G" : level == 2 ? "2M" : "4K");
}

/* ---- tables ---------------------------------------------------------- */

/* Sign-extend a 48-bit address: kernel addresses have bits 63:48 set. */
static inline uint64_t canonical(uint64_t va)
{
	return (va & (1ULL << 47)) ? va | ~VA_MASK : va;
}

static inline unsigned pt_index(uint64_t va, unsigned level)
{
	return (unsigned)(((va & VA_MASK) >> (CCMM_PAGE_SHIFT + 9 * (level - 1))) & (ENTRIES - 1));
}

static inline bool is_leaf(uint64_t e, unsigned level)
{
	return level == 1 || (e & CCMM_PTE_PSE);
}

static inline uint64_t *child(uint64_t e)
{
	return (uint64_t *)(uintptr_t)(e & TABLE_MASK);
}

/*
 * Every store into a table is a release store (a plain store on x86): the
 * checker's fast path reads last-level entries through its TLB without
 * the lock (ccmm_tlb_hit), and a change stores the table's new generation
 * before its first entry (pgt_lock_all), so a reader that sees any entry
 * of a change sees the generation it moved to and drops what it read.
 */
static inline void pte_set(uint64_t *e, uint64_t v)
{
	__atomic_store_n(e, v, __ATOMIC_RELEASE);
}

/*
 * A table: from the table's own free list, else new. Tables are given
 * back to malloc only when the whole table goes (ccmm_pgt_destroy), so a
 * TLB entry read without the lock never reaches freed memory; it may
 * reach a table reused since, which the generation then tells.
 */
static uint64_t *table_alloc(struct ccmm_pgtable *pt)
{
	uint64_t *t = pt->free_tables;

	if (t) {
		pt->free_tables = (uint64_t *)(uintptr_t)t[0];
		for (unsigned i = 0; i < ENTRIES; i++)
			pte_set(&t[i], 0);
	} else {
		t = aligned_alloc(CCMM_PAGE_SIZE, ENTRIES * sizeof(uint64_t));
		if (!t)
			return NULL;
		memset(t, 0, ENTRIES * sizeof(uint64_t));
	}
	pt->nr_tables++;
	return t;
}

/* Give table @t back to the table's free list (its first entry links it). */
static void table_free(struct ccmm_pgtable *pt, uint64_t *t)
{
	pte_set(&t[0], (uint64_t)(uintptr_t)pt->free_tables);
	pt->free_tables = t;
	pt->nr_tables--;
}

static uint64_t table_entry(uint64_t *t)
{
	uintptr_t p = (uintptr_t)t;

	return (uint64_t)p | CCMM_PTE_PRESENT | CCMM_PTE_RW | CCMM_PTE_USER;
}

/* ---- the page-table lock: one lock (struct ccmm_lock) per shard ---------------------------------------- */

static atomic_uint next_shard;
_Thread_local unsigned ccmm_pgt_shard = UINT32_MAX;

unsigned ccmm_pgt_shard_assign(void)
{
	ccmm_pgt_shard = atomic_fetch_add(&next_shard, 1) % CCMM_PGT_LOCK_SHARDS;
	return ccmm_pgt_shard;
}

/*
 * Generations (see struct ccmm_pgtable): one counter for every table of
 * every machine in the process, so that a (table, version) pair never
 * comes back, not even for a table allocated where a freed one was. 0 is
 * never handed out (an empty TLB entry holds 0).
 */
static _Atomic uint64_t next_gen = 1;

static uint64_t gen_next(void)
{
	return atomic_fetch_add_explicit(&next_gen, 1, memory_order_relaxed);
}

/* The writer side for a look at the whole tree: every shard, in order, so no access holding one is in flight. */
static void pgt_lock_all_unchanged(struct ccmm_pgtable *pt)
{
	for (unsigned i = 0; i < CCMM_PGT_LOCK_SHARDS; i++)
		ccmm_lock_acquire(&pt->lock[i].m);
}

/*
 * The writer side for a change: every shard, then a new generation
 * before the first entry changes (and another at pgt_unlock_all), so that
 * an access that read an entry without the lock (ccmm_tlb_hit from the
 * checker's fast path) and finds the generation it started from
 * unchanged afterwards read none of the change. The entries' release
 * stores (pte_set) order this store before them.
 */
static void pgt_lock_all(struct ccmm_pgtable *pt)
{
	pgt_lock_all_unchanged(pt);
	atomic_store_explicit(&pt->gen, gen_next(), memory_order_relaxed);
}

/* Release the writer side without a change made (a walk of the whole tree). */
static void pgt_unlock_all_unchanged(struct ccmm_pgtable *pt)
{
	for (unsigned i = CCMM_PGT_LOCK_SHARDS; i--;)
		ccmm_lock_release(&pt->lock[i].m);
}

/*
 * Release the writer side after a change of entries or of the stale TLB
 * entries: the table's generation moves, so every thread's TLB entries
 * for it stop matching (the flush points of the software TLB).
 */
static void pgt_unlock_all(struct ccmm_pgtable *pt)
{
	atomic_store_explicit(&pt->gen, gen_next(), memory_order_release);
	pgt_unlock_all_unchanged(pt);
}

/* The software TLB (mmu.h): its hit is inline there, its fill in ccmm_pgt_translate_slow. */
_Thread_local struct ccmm_tlb_entry ccmm_tlb[CCMM_TLB_SETS] __attribute__((aligned(64)));
_Thread_local struct ccmm_tlb_stats ccmm_tlb_stats;

void ccmm_tlb_stats_get(struct ccmm_tlb_stats *out)
{
	*out = ccmm_tlb_stats;
}

int ccmm_pgt_create(struct ccmm_machine *m, enum ccmm_pgt_kind kind, const char *name, bool track,
		    struct ccmm_pgtable **out)
{
	struct ccmm_pgtable *pt = aligned_alloc(64, CCMM_ALIGN_UP(sizeof(*pt), 64));

	if (!pt)
		return -ENOMEM;
	memset(pt, 0, sizeof(*pt));
	pt->m = m;
	pt->kind = kind;
	pt->track = track;
	pt->id = atomic_fetch_add(&m->next_pgt_id, 1) + 1;
	atomic_init(&pt->gen, gen_next());
	snprintf(pt->name, sizeof(pt->name), "%s", name ? name : ccmm_pgt_kind_name(kind));
	pt->root = table_alloc(pt);
	if (!pt->root) {
		free(pt);
		return -ENOMEM;
	}
	*out = pt;
	return 0;
}

static void leaf_changed(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t pte, unsigned level,
			 bool map)
{
	uint64_t size = ccmm_level_size(level);

	if (map)
		pt->nr_leaves[level]++;
	else
		pt->nr_leaves[level]--;
	if (pt->track && pt->m->map_hook && !(va >= pt->untracked_start && va < pt->untracked_end))
		pt->m->map_hook(ctx, pt, va, ccmm_pte_pa(pt->m, pte, level, va), size, pte, map);
}

/*
 * The stale entries are an array (in the order they were made) with a hash
 * index by (va, level), so that adding, finding and flushing one page do
 * not scan every stale entry: a table whose pages are all made young or
 * dirty without a flush holds one per page.
 */
static size_t stale_home(const struct ccmm_pgtable *pt, uint64_t va, unsigned level)
{
	return (size_t)(((va >> CCMM_PAGE_SHIFT ^ (uint64_t)level << 60) * 0x9e3779b97f4a7c15ULL) >> 24) & pt->stale_mask;
}

/* The slot of (va, level) in the index, or of the empty slot where it would go. */
static size_t stale_slot(const struct ccmm_pgtable *pt, uint64_t va, unsigned level)
{
	size_t i = stale_home(pt, va, level);

	while (pt->stale_idx[i]) {
		const struct ccmm_tlb_stale *s = &pt->stale[pt->stale_idx[i] - 1];

		if (s->va == va && s->level == level)
			break;
		i = (i + 1) & pt->stale_mask;
	}
	return i;
}

/* Rebuild the index for at least @n entries (load <= 1/2). 0 or -ENOMEM. */
static int stale_reindex(struct ccmm_pgtable *pt, size_t n)
{
	size_t slots = 64;
	uint32_t *idx;

	while (slots < 2 * n)
		slots <<= 1;
	idx = calloc(slots, sizeof(*idx));
	if (!idx)
		return -ENOMEM;
	free(pt->stale_idx);
	pt->stale_idx = idx;
	pt->stale_mask = slots - 1;
	for (size_t i = 0; i < pt->nr_stale; i++)
		pt->stale_idx[stale_slot(pt, pt->stale[i].va, pt->stale[i].level)] = (uint32_t)(i + 1);
	return 0;
}

/* Index of the stale entry for (va, level), or -1. */
static long stale_find(const struct ccmm_pgtable *pt, uint64_t va, unsigned level)
{
	size_t i;

	if (!pt->nr_stale)
		return -1;
	i = stale_slot(pt, va, level);
	return pt->stale_idx[i] ? (long)pt->stale_idx[i] - 1 : -1;
}

static void stale_add(struct ccmm_pgtable *pt, uint64_t va, uint64_t pte, unsigned level)
{
	if (stale_find(pt, va, level) >= 0)
		return; /* the TLB still holds the oldest translation */
	if (pt->nr_stale >= UINT32_MAX - 1 ||
	    ccmm_grow((void **)&pt->stale, &pt->cap_stale, pt->nr_stale + 1, sizeof(*pt->stale)))
		return; /* out of memory: model a flush rather than fail */
	if (2 * (pt->nr_stale + 1) > pt->stale_mask + 1 && stale_reindex(pt, pt->nr_stale + 1))
		return;
	pt->stale[pt->nr_stale].va = va;
	pt->stale[pt->nr_stale].pte = pte;
	pt->stale[pt->nr_stale].level = level;
	pt->stale[pt->nr_stale].seq = pt->stale_seq++;
	pt->stale_idx[stale_slot(pt, va, level)] = (uint32_t)(pt->nr_stale + 1);
	pt->nr_stale++;
}

/* Take index slot @i out (linear probing: shift the rest of the cluster back). */
static void stale_unindex(struct ccmm_pgtable *pt, size_t i)
{
	size_t j = i;

	pt->stale_idx[i] = 0;
	for (;;) {
		const struct ccmm_tlb_stale *s;
		size_t home;

		j = (j + 1) & pt->stale_mask;
		if (!pt->stale_idx[j])
			return;
		s = &pt->stale[pt->stale_idx[j] - 1];
		home = stale_home(pt, s->va, s->level);
		/* move j back to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			pt->stale_idx[i] = pt->stale_idx[j];
			pt->stale_idx[j] = 0;
			i = j;
		}
	}
}

/* Remove stale entry @k: the last one takes its place. */
static void stale_remove(struct ccmm_pgtable *pt, size_t k)
{
	size_t last = pt->nr_stale - 1;

	stale_unindex(pt, stale_slot(pt, pt->stale[k].va, pt->stale[k].level));
	if (k != last) {
		pt->stale[k] = pt->stale[last];
		pt->stale_idx[stale_slot(pt, pt->stale[k].va, pt->stale[k].level)] = (uint32_t)(k + 1);
	}
	pt->nr_stale--;
}

static void flush_charge(struct ccmm_ctx *ctx, uint64_t pages)
{
	if (!ctx || !pages)
		return;
	ccmm_charge(ctx, CCMM_COST_tlb_flush_ns, CCMM_MIN(pages, 32));
	if (ctx->m->plat->cpus > 1)
		ccmm_charge(ctx, CCMM_COST_tlb_shootdown_ns, 1);
	ccmm_count(ctx, CCMM_CTR_tlb_flushes, 1);
}

static void stale_flush(struct ccmm_pgtable *pt, uint64_t va, uint64_t size)
{
	size_t j = 0, n = pt->nr_stale;

	if (!n)
		return;
	if (size && size >> CCMM_PAGE_SHIFT <= 64 && size >> CCMM_PAGE_SHIFT < n) {
		/* a few pages: find the entries that cover them instead of looking at every one */
		for (unsigned level = 1; level <= CCMM_PGT_LEVELS; level++) {
			uint64_t ls = ccmm_level_size(level);

			for (uint64_t a = CCMM_ALIGN_DOWN(va, ls); a < va + size; a += ls) {
				long k = stale_find(pt, a, level);

				if (k >= 0)
					stale_remove(pt, (size_t)k);
			}
		}
		return;
	}
	/* remove what the range covers */
	for (size_t i = 0; i < n; i++) {
		struct ccmm_tlb_stale *s = &pt->stale[i];
		uint64_t end = s->va + ccmm_level_size(s->level);

		if (size && (end <= va || s->va >= va + size))
			pt->stale[j++] = *s;
	}
	pt->nr_stale = j;
	if (j != n && stale_reindex(pt, j)) {
		/* no memory for the index: forget every stale entry (a full flush) */
		pt->nr_stale = 0;
		memset(pt->stale_idx, 0, (pt->stale_mask + 1) * sizeof(*pt->stale_idx));
	}
}

void ccmm_pgt_flush_tlb(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t size)
{
	pgt_lock_all(pt);
	stale_flush(pt, va & VA_MASK, size);
	pgt_unlock_all(pt);
	flush_charge(ctx, size ? size >> CCMM_PAGE_SHIFT : 33);
}

/* Replace the large leaf at t[idx] (level @level) by a table of level-1 leaves. */
static int split_entry(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t *t, unsigned idx, unsigned level)
{
	uint64_t e = t[idx], sub = ccmm_level_size(level - 1);
	uint64_t *n = table_alloc(pt);
	uint64_t flags = e & ~(pt->m->pa_mask) & ~CCMM_PTE_PSE & ~CCMM_PTE_PAT_LARGE;
	uint64_t base = e & pt->m->pa_mask & ~(ccmm_level_size(level) - 1);

	if (!n)
		return -ENOMEM;
	/* keep the enc bit, which pa_mask excludes */
	for (unsigned i = 0; i < ENTRIES; i++)
		pte_set(&n[i], (base + i * sub) | flags | (level - 1 > 1 ? CCMM_PTE_PSE : 0));
	pte_set(&t[idx], table_entry(n));
	pt->nr_leaves[level]--;
	pt->nr_leaves[level - 1] += ENTRIES;
	if (ctx) {
		ccmm_charge(ctx, CCMM_COST_cpa_split_ns, 1);
		ccmm_count(ctx, CCMM_CTR_cpa_splits, 1);
	}
	return 0;
}

static bool subtree_empty(uint64_t *t, unsigned level)
{
	for (unsigned i = 0; i < ENTRIES; i++) {
		if (!(t[i] & CCMM_PTE_PRESENT))
			continue;
		if (is_leaf(t[i], level))
			return false;
		if (!subtree_empty(child(t[i]), level - 1))
			return false;
	}
	return true;
}

static void free_subtree(struct ccmm_pgtable *pt, uint64_t *t, unsigned level)
{
	for (unsigned i = 0; level > 1 && i < ENTRIES; i++)
		if ((t[i] & CCMM_PTE_PRESENT) && !is_leaf(t[i], level))
			free_subtree(pt, child(t[i]), level - 1);
	table_free(pt, t);
}

/* Is any page of [va, va+size) mapped? (one leaf-sized step at @target) */
static bool range_busy(struct ccmm_pgtable *pt, uint64_t va, unsigned target)
{
	uint64_t *t = pt->root;

	for (unsigned level = CCMM_PGT_LEVELS; level >= target; level--) {
		uint64_t e = t[pt_index(va, level)];

		if (!(e & CCMM_PTE_PRESENT))
			return false;
		if (is_leaf(e, level))
			return true;
		if (level == target)
			return !subtree_empty(child(e), level - 1);
		t = child(e);
	}
	return false;
}

static unsigned size_level(uint64_t pgsize)
{
	switch (pgsize) {
	case 1ULL << 12: return 1;
	case 1ULL << 21: return 2;
	case 1ULL << 30: return 3;
	default: return 0;
	}
}

int ccmm_pgt_map(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t pa, uint64_t size,
		 uint64_t pgsize, uint64_t flags)
{
	unsigned target = size_level(pgsize);
	uint64_t limit = (pt->m->pa_mask | (CCMM_PAGE_SIZE - 1)) + 1;
	int ret = 0;

	if (!target || !size || !CCMM_IS_ALIGNED(va, pgsize) || !CCMM_IS_ALIGNED(pa, pgsize) ||
	    !CCMM_IS_ALIGNED(size, pgsize) || pa + size > limit || pa + size < pa)
		return -EINVAL;
	flags &= ~(pt->m->pa_mask | CCMM_PTE_PSE);
	pgt_lock_all(pt);
	for (uint64_t off = 0; off < size; off += pgsize) {
		if (range_busy(pt, va + off, target)) {
			ret = -EEXIST;
			goto out;
		}
	}
	for (uint64_t off = 0; off < size; off += pgsize) {
		uint64_t *t = pt->root, e;
		unsigned level;

		for (level = CCMM_PGT_LEVELS; level > target; level--) {
			unsigned idx = pt_index(va + off, level);

			if (!(t[idx] & CCMM_PTE_PRESENT)) {
				uint64_t *n = table_alloc(pt);

				if (!n) {
					ret = -ENOMEM;
					/* unwind what this call mapped */
					pgt_unlock_all(pt);
					if (off)
						ccmm_pgt_unmap(ctx, pt, va, off, true);
					return ret;
				}
				pte_set(&t[idx], table_entry(n));
			}
			t = child(t[idx]);
		}
		{
			unsigned idx = pt_index(va + off, target);

			if (t[idx] & CCMM_PTE_PRESENT) /* an empty table left behind by unmaps */
				free_subtree(pt, child(t[idx]), target - 1);
			e = (pa + off) | flags | CCMM_PTE_PRESENT | (target > 1 ? CCMM_PTE_PSE : 0);
			pte_set(&t[idx], e);
			leaf_changed(ctx, pt, canonical((va + off) & VA_MASK), e, target, true);
		}
		if (ctx)
			ccmm_charge(ctx, CCMM_COST_pte_update_ns, 1);
	}
out:
	pgt_unlock_all(pt);
	return ret;
}

struct range_op {
	struct ccmm_ctx *ctx;
	struct ccmm_pgtable *pt;
	uint64_t start, end;
	uint64_t set, clear;
	bool unmap, flush;
	long pages;
	int err;
};

/* The entries of a table at @base with entries of @size that overlap [@start, @end): [*first, *last). */
static void entry_span(uint64_t base, uint64_t size, uint64_t start, uint64_t end, unsigned *first, unsigned *last)
{
	*first = start > base ? (unsigned)CCMM_MIN((start - base) / size, (uint64_t)ENTRIES) : 0;
	*last = end > base ? (unsigned)CCMM_MIN((end - base + size - 1) / size, (uint64_t)ENTRIES) : 0;
}

static void range_walk(struct range_op *op, uint64_t *t, unsigned level, uint64_t base)
{
	uint64_t size = ccmm_level_size(level);
	unsigned first, last;

	entry_span(base, size, op->start, op->end, &first, &last);
	for (unsigned i = first; i < last && !op->err; i++) {
		uint64_t eva = base + i * size, eend = eva + size;
		uint64_t e = t[i];

		if (eend <= op->start || eva >= op->end)
			continue;
		if (!(e & CCMM_PTE_PRESENT))
			continue;
		if (is_leaf(e, level)) {
			if (op->start <= eva && eend <= op->end) {
				uint64_t sva = canonical(eva);

				leaf_changed(op->ctx, op->pt, sva, e, level, false);
				if (!op->flush)
					stale_add(op->pt, eva, e, level);
				if (op->unmap) {
					pte_set(&t[i], 0);
				} else {
					pte_set(&t[i], (e & ~op->clear) | op->set); /* clear, then set, as cpa does */
					leaf_changed(op->ctx, op->pt, sva, t[i], level, true);
				}
				if (op->ctx)
					ccmm_charge(op->ctx, CCMM_COST_pte_update_ns, 1);
				op->pages += (long)(size >> CCMM_PAGE_SHIFT);
				continue;
			}
			if (split_entry(op->ctx, op->pt, t, i, level)) {
				op->err = -ENOMEM;
				return;
			}
			e = t[i];
		}
		range_walk(op, child(e), level - 1, eva);
		if (op->unmap && subtree_empty(child(e), level - 1)) {
			free_subtree(op->pt, child(e), level - 1);
			pte_set(&t[i], 0);
		}
	}
}

static bool range_fully_mapped(struct ccmm_pgtable *pt, uint64_t va, uint64_t size)
{
	for (uint64_t a = va; a < va + size;) {
		uint64_t *t = pt->root;
		unsigned level;
		bool found = false;

		for (level = CCMM_PGT_LEVELS; level >= 1; level--) {
			uint64_t e = t[pt_index(a, level)];

			if (!(e & CCMM_PTE_PRESENT))
				return false;
			if (is_leaf(e, level)) {
				a = CCMM_ALIGN_DOWN(a, ccmm_level_size(level)) + ccmm_level_size(level);
				found = true;
				break;
			}
			t = child(e);
		}
		if (!found)
			return false;
	}
	return true;
}

/* Walk @op over [@va, @va+@size) under the table lock, then flush as asked. */
static long range_run(struct range_op *op, uint64_t va, uint64_t size, bool must_be_mapped)
{
	struct ccmm_pgtable *pt = op->pt;
	long ret;

	pgt_lock_all(pt);
	if (must_be_mapped && !range_fully_mapped(pt, va & VA_MASK, size)) {
		pgt_unlock_all(pt);
		return -EFAULT;
	}
	range_walk(op, pt->root, CCMM_PGT_LEVELS, 0);
	ret = op->err ? op->err : op->pages;
	if (op->flush && ret > 0)
		stale_flush(pt, va & VA_MASK, size);
	pgt_unlock_all(pt);
	if (op->flush && ret > 0)
		flush_charge(op->ctx, (uint64_t)ret);
	return ret;
}

long ccmm_pgt_unmap(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t size, bool flush)
{
	struct range_op op = { ctx, pt, va & VA_MASK, (va & VA_MASK) + size, 0, 0, true, flush, 0, 0 };

	if (!size || !CCMM_IS_ALIGNED(va, CCMM_PAGE_SIZE) || !CCMM_IS_ALIGNED(size, CCMM_PAGE_SIZE))
		return -EINVAL;
	return range_run(&op, va, size, false);
}

long ccmm_pgt_protect(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t size, uint64_t set,
		      uint64_t clear, bool flush)
{
	struct range_op op = { ctx, pt, va & VA_MASK, (va & VA_MASK) + size, set, clear, false, flush, 0, 0 };

	if (!size || !CCMM_IS_ALIGNED(va, CCMM_PAGE_SIZE) || !CCMM_IS_ALIGNED(size, CCMM_PAGE_SIZE))
		return -EINVAL;
	/* PRESENT and PSE are the table's business */
	op.set &= ~(CCMM_PTE_PRESENT | CCMM_PTE_PSE);
	op.clear &= ~(CCMM_PTE_PRESENT | CCMM_PTE_PSE);
	return range_run(&op, va, size, true);
}

int ccmm_pgt_split(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, unsigned target)
{
	uint64_t *t;
	int ret = 0;

	if (target < 1 || target > 2)
		return -EINVAL;
	pgt_lock_all(pt);
	t = pt->root;
	for (unsigned level = CCMM_PGT_LEVELS; level > target; level--) {
		unsigned idx = pt_index(va, level);
		uint64_t e = t[idx];

		if (!(e & CCMM_PTE_PRESENT)) {
			ret = -EFAULT;
			break;
		}
		if (is_leaf(e, level)) {
			ret = split_entry(ctx, pt, t, idx, level);
			if (ret)
				break;
		}
		t = child(t[idx]);
	}
	pgt_unlock_all(pt);
	return ret;
}

/* The walk, inline in both callers (translation runs on every modeled access). */
static inline __attribute__((always_inline)) int walk_tables(struct ccmm_pgtable *pt, uint64_t va,
							      struct ccmm_walk *w, uint64_t **last)
{
	uint64_t *t = pt->root;

	for (unsigned level = CCMM_PGT_LEVELS; level >= 1; level--) {
		*last = t;
		uint64_t e = t[pt_index(va, level)];

		if (!(e & CCMM_PTE_PRESENT))
			break;
		if (is_leaf(e, level)) {
			uint64_t size = ccmm_level_size(level);

			w->pte = e;
			w->level = level;
			w->pa = (e & pt->m->pa_mask & ~(size - 1)) | (va & (size - 1)); /* ccmm_pte_pa */
			w->stale = false;
			return 0;
		}
		t = child(e);
	}
	memset(w, 0, sizeof(*w));
	return -EFAULT;
}

int ccmm_pgt_walk_locked(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w)
{
	uint64_t *last;

	return walk_tables(pt, va, w, &last);
}

int ccmm_pgt_walk(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w)
{
	unsigned shard;
	int ret;

	shard = ccmm_pgt_lock_access(pt);
	ret = ccmm_pgt_walk_locked(pt, va, w);
	ccmm_pgt_unlock_access(pt, shard);
	return ret;
}

/* A translation the TLB does not hold: the stale entries, then the walk, whose result it then holds. */
int ccmm_pgt_translate_slow(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w)
{
	uint64_t v = va & VA_MASK;
	long first = -1;
	struct ccmm_tlb_entry e;
	int ret;

	ccmm_tlb_stats.misses++;
	/* the oldest stale entry covering v, at any level */
	for (unsigned level = 1; level <= CCMM_PGT_LEVELS && pt->nr_stale; level++) {
		long i = stale_find(pt, CCMM_ALIGN_DOWN(v, ccmm_level_size(level)), level);

		if (i >= 0 && (first < 0 || pt->stale[i].seq < pt->stale[first].seq))
			first = i;
	}
	if (first >= 0) {
		struct ccmm_tlb_stale *s = &pt->stale[first];

		memset(w, 0, sizeof(*w));
		w->pte = s->pte;
		w->level = s->level;
		w->pa = ccmm_pte_pa(pt->m, s->pte, s->level, v);
		w->stale = true;
		return 0;
	}
	ret = walk_tables(pt, va, w, &e.table);
	if (!ret && !pt->nr_stale) {
		uint64_t tag = v >> CCMM_PMD_SHIFT;

		e.gen = atomic_load_explicit(&pt->gen, memory_order_relaxed);
		e.tag = tag;
		e.pte = w->level > 1 ? w->pte : 0;
		e.mask = ccmm_level_size(w->level) - 1;
		e.level = w->level;
		if (w->level > 1)
			e.table = NULL;
		e.aux_base = 0;
		e.aux = NULL;
		e.aux_len = 0;
		ccmm_tlb[ccmm_tlb_set(tag)] = e;
	}
	return ret;
}

int ccmm_pgt_translate(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w)
{
	unsigned shard;
	int ret;

	shard = ccmm_pgt_lock_access(pt);
	ret = ccmm_pgt_translate_locked(pt, va, w);
	ccmm_pgt_unlock_access(pt, shard);
	return ret;
}

struct leaf_iter {
	uint64_t start, end;
	int (*fn)(void *arg, uint64_t va, uint64_t pte, unsigned level);
	void *arg;
};

static int iter_walk(struct leaf_iter *it, uint64_t *t, unsigned level, uint64_t base)
{
	uint64_t size = ccmm_level_size(level);
	unsigned first, last;

	entry_span(base, size, it->start, it->end, &first, &last);
	for (unsigned i = first; i < last; i++) {
		uint64_t eva = base + i * size;
		uint64_t e = t[i];
		int ret;

		if (eva + size <= it->start || eva >= it->end || !(e & CCMM_PTE_PRESENT))
			continue;
		if (is_leaf(e, level))
			ret = it->fn(it->arg, canonical(eva), e, level);
		else
			ret = iter_walk(it, child(e), level - 1, eva);
		if (ret)
			return ret;
	}
	return 0;
}

int ccmm_pgt_for_each_leaf(struct ccmm_pgtable *pt, uint64_t va, uint64_t size,
			   int (*fn)(void *arg, uint64_t va, uint64_t pte, unsigned level), void *arg)
{
	struct leaf_iter it = { va & VA_MASK, (va & VA_MASK) + size, fn, arg };
	int ret;

	pgt_lock_all_unchanged(pt);
	ret = iter_walk(&it, pt->root, CCMM_PGT_LEVELS, 0);
	pgt_unlock_all_unchanged(pt);
	return ret;
}

static int check_tree(struct ccmm_pgtable *pt, uint64_t *t, unsigned level, size_t *leaves, size_t *tables)
{
	(*tables)++;
	for (unsigned i = 0; i < ENTRIES; i++) {
		uint64_t e = t[i];

		if (!(e & CCMM_PTE_PRESENT))
			continue;
		if (is_leaf(e, level)) {
			if (level > 3)
				return -EUCLEAN; /* no 512 GiB leaves */
			if (e & pt->m->pa_mask & (ccmm_level_size(level) - 1))
				return -EUCLEAN;
			leaves[level]++;
		} else if (!child(e) || check_tree(pt, child(e), level - 1, leaves, tables)) {
			return -EUCLEAN;
		}
	}
	return 0;
}

int ccmm_pgt_is_valid(struct ccmm_pgtable *pt)
{
	size_t leaves[CCMM_PGT_LEVELS + 1] = { 0 }, tables = 0;
	int ret;

	pgt_lock_all_unchanged(pt);
	ret = check_tree(pt, pt->root, CCMM_PGT_LEVELS, leaves, &tables);
	if (!ret && tables != pt->nr_tables)
		ret = -EUCLEAN;
	for (unsigned l = 1; !ret && l <= 3; l++)
		if (leaves[l] != pt->nr_leaves[l])
			ret = -EUCLEAN;
	pgt_unlock_all_unchanged(pt);
	return ret;
}

void ccmm_pgt_destroy(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt)
{
	struct range_op op = { ctx, pt, 0, 1ULL << 48, 0, 0, true, true, 0, 0 };

	if (!pt)
		return;
	pgt_lock_all(pt);
	range_walk(&op, pt->root, CCMM_PGT_LEVELS, 0);
	pgt_unlock_all(pt);
	free_subtree(pt, pt->root, CCMM_PGT_LEVELS);
	while (pt->free_tables) {
		uint64_t *t = pt->free_tables;

		pt->free_tables = (uint64_t *)(uintptr_t)t[0];
		free(t);
	}
	free(pt->stale);
	free(pt->stale_idx);
	free(pt);
}
