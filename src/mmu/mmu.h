/* SPDX-License-Identifier: MIT */
/*
 * mmu.h - page tables as the hardware walks them (layer 1).
 *
 *   va[47:39]   va[38:30]   va[29:21]   va[20:12]   va[11:0]
 *     PGD   -->   PUD   -->   PMD   -->   PTE   -->  offset
 *               1 GiB leaf  2 MiB leaf  4 KiB leaf
 *
 * Entries use the x86-64 format for every platform (the pSeries radix
 * tree maps onto it): P, RW, US, PWT/PCD/PAT, A, D, PS, G, NX, the Linux
 * software bit _PAGE_SPECIAL (bit 9, "no struct page behind this PFN"), and
 * the confidential-computing bit of the mode:
 *
 *   SME / SEV / SEV-SNP  C-bit at platform c_bit:      set   = private
 *   TDX                  shared bit at gpa_width - 1:  set   = shared
 *   none / pSeries SVM   no bit (pSeries sharing is per page, in the UV)
 *
 * Cache modes use Linux's PAT layout: WB = PAT index 0, WC = index 1
 * (PWT), UC = index 3 (PCD|PWT).
 *
 * A page table may track its mappings in the page metadata (map counts per
 * cache mode, encrypted, host, I/O); the guest kernel's direct map does not
 * (it covers all RAM) and is walked instead. Tracking calls the machine's
 * map hook (installed by the checker) on every leaf installed or removed.
 *
 * TLB model: a change made without a flush leaves the old translation
 * "stale" for the changed range until ccmm_pgt_flush_tlb(); lookups through
 * ccmm_pgt_translate() see the stale entry, as a CPU would.
 *
 * Locking: each page table has a lock (the page_table_lock), sharded so
 * that accesses on different threads (readers: walks, translations, the
 * checker's accesses) do not contend, while changes take every shard; all
 * functions take it. The map hook runs with it held and may take chunk
 * locks (lock order: page table, then chunk).
 */
#ifndef CCMM_MMU_H
#define CCMM_MMU_H

#include "platform/platform.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

#define CCMM_PTE_PRESENT   (1ULL << 0)
#define CCMM_PTE_RW        (1ULL << 1)
#define CCMM_PTE_USER      (1ULL << 2)
#define CCMM_PTE_PWT       (1ULL << 3)
#define CCMM_PTE_PCD       (1ULL << 4)
#define CCMM_PTE_ACCESSED  (1ULL << 5)
#define CCMM_PTE_DIRTY     (1ULL << 6)
#define CCMM_PTE_PSE       (1ULL << 7) /* large leaf at PUD/PMD level */
#define CCMM_PTE_PAT_4K    (1ULL << 7) /* PAT bit in a 4 KiB entry */
#define CCMM_PTE_GLOBAL    (1ULL << 8)
#define CCMM_PTE_SPECIAL   (1ULL << 9) /* Linux _PAGE_SPECIAL: PFN map, no struct page */
#define CCMM_PTE_PAT_LARGE (1ULL << 12)
#define CCMM_PTE_NX        (1ULL << 63)

#define CCMM_PGT_LEVELS 4

/* Leaf page sizes by level: 1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB. */
static inline uint64_t ccmm_level_size(unsigned level)
{
	return 1ULL << (CCMM_PAGE_SHIFT + 9 * (level - 1));
}

/* Guest kernel direct map: VA = PAGE_OFFSET + PA, as x86-64 Linux with 4-level paging. */
#define CCMM_PAGE_OFFSET 0xffff888000000000ULL

enum ccmm_pgt_kind {
	CCMM_PGT_GUEST_KERNEL, /* the (guest) kernel's init_mm: direct map, vmap, ioremap */
	CCMM_PGT_GUEST_USER,   /* a (guest) user process */
	CCMM_PGT_HOST,         /* the host kernel or VMM process, outside the guest */
	CCMM_PGT_IOMMU,        /* an I/O page table (IOVA -> PA) */
};

/* The table kind's name as reports print it. */
const char *ccmm_pgt_kind_name(enum ccmm_pgt_kind kind);

#define CCMM_PGT_LOCK_SHARDS 8

struct ccmm_tlb_stale {
	uint64_t va;    /* aligned to the leaf size */
	uint64_t pte;   /* the translation the TLB still holds */
	unsigned level;
	uint64_t seq;   /* the order they were made in (the oldest serves a lookup) */
};

struct ccmm_pgtable {
	struct ccmm_machine *m;
	enum ccmm_pgt_kind kind;
	char name[CCMM_NAME_MAX];
	uint32_t id;
	bool track;                 /* count mappings in page metadata */
	uint64_t untracked_start;   /* leaves in [start, end) are not tracked (the direct map) */
	uint64_t untracked_end;
	/*
	 * The page_table_lock, as a reader-writer lock that accesses on
	 * different threads do not contend on: an access in flight holds its
	 * thread's shard (ccmm_pgt_lock_access), a change of the tables holds
	 * every shard, so it waits for the accesses in flight (the checker's
	 * fast path holds none: it reads through the TLB and checks the
	 * generation instead, see ccmm_tlb_hit_gen).
	 */
	struct {
		struct ccmm_lock m;
	} __attribute__((aligned(64))) lock[CCMM_PGT_LOCK_SHARDS];
	uint64_t *root;             /* 512 entries */
	uint64_t *free_tables;      /* tables given back, linked by their first entry (freed at destroy) */
	size_t nr_tables;           /* page-table pages, root included */
	size_t nr_leaves[CCMM_PGT_LEVELS + 1];
	struct ccmm_tlb_stale *stale;
	size_t nr_stale, cap_stale;
	/* stale[] indexed by (va, level): open addressing, index + 1 (0 empty); mask + 1 slots */
	uint32_t *stale_idx;
	size_t stale_mask;
	uint64_t stale_seq;
	/*
	 * The generation: drawn from one process-wide counter when the table
	 * is created and by each change of it (map, unmap, protect, split,
	 * TLB flush) twice: when it takes the writer side of the lock, before
	 * its first entry changes, and when it releases it, so no two versions
	 * of any tables share one and a change in progress has one of its own.
	 * The software TLB of ccmm_pgt_translate_locked tags its entries with
	 * it (read under any shard, written under all);
	 * a caller that remembers a walk's result with the value it read
	 * before the walk may reuse it while the value has not moved
	 * (ccmm_pgt_gen, lock-free).
	 */
	_Atomic uint64_t gen;
};

/*
 * Install the machine's map hook (ccmm_map_hook in platform.h): called for
 * every leaf installed or removed in a tracking page table, with the table
 * lock held; @pa and @size cover the leaf. check/ installs it at boot.
 */
void ccmm_mmu_set_map_hook(struct ccmm_machine *m, ccmm_map_hook hook);

/* ---- PTE helpers -------------------------------------------------- */

/* PTE flags for a cache mode (Linux PAT layout); @level selects the PAT bit. */
uint64_t ccmm_pte_cache_bits(enum ccmm_cache_mode c, unsigned level);
/* The cache mode a leaf PTE at @level selects (the inverse of ccmm_pte_cache_bits). */
enum ccmm_cache_mode ccmm_pte_cache_mode(uint64_t pte, unsigned level);

/*
 * ccmm_pte_mkprivate - set the encrypted/private attribute (@priv) or the
 * decrypted/shared one in @pte, with the mode's polarity: SEV sets the
 * C-bit for private, TDX sets the shared bit for shared. Modes without a
 * bit return @pte unchanged (pgprot_encrypted / pgprot_decrypted).
 */
uint64_t ccmm_pte_mkprivate(const struct ccmm_machine *m, uint64_t pte, bool priv);

/*
 * ccmm_pte_is_private - whether @pte maps with the private attribute. For
 * modes without a bit: true for pSeries SVM (all guest accesses are to its
 * own memory, sharing is the UV's business), false for none.
 */
static inline bool ccmm_pte_is_private(const struct ccmm_machine *m, uint64_t pte)
{
	switch (m->plat->mode) {
	case CCMM_CC_SME:
	case CCMM_CC_SEV:
	case CCMM_CC_SEV_SNP:
		return (pte & m->enc_mask) != 0;
	case CCMM_CC_TDX:
		return (pte & m->enc_mask) == 0;
	case CCMM_CC_PSERIES_SVM:
		return true;
	default:
		return false;
	}
}

/* Physical address of a leaf @pte at @level for @va (offset within the leaf added). */
uint64_t ccmm_pte_pa(const struct ccmm_machine *m, uint64_t pte, unsigned level, uint64_t va);

/* Format @pte as "P RW US NX WB enc special 0x...", for event views. */
void ccmm_pte_format(const struct ccmm_machine *m, uint64_t pte, unsigned level, char *buf, size_t len);

/* ---- page tables -------------------------------------------------- */

/* Create an empty page table; @track as described above. 0, -ENOMEM. */
int ccmm_pgt_create(struct ccmm_machine *m, enum ccmm_pgt_kind kind, const char *name, bool track,
		    struct ccmm_pgtable **out);

/*
 * Unmap everything (tracking counts drop) and free. @ctx may be NULL (no
 * costs, no hook). No access through @pt may be in flight or begin: the
 * checker's fast path reads the tables without the lock (ccmm_tlb_hit_gen),
 * so, unlike a change, the destroy cannot wait for it.
 */
void ccmm_pgt_destroy(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt);

/*
 * ccmm_pgt_map - map [@va, @va+@size) to [@pa, ...) with leaves of
 * @pgsize (4 KiB, 2 MiB or 1 GiB); @flags are the leaf bits (PRESENT is
 * added, PSE added for large leaves; the cache bits must come from
 * ccmm_pte_cache_bits for level 1 and are moved for large leaves).
 * Charges pte_update_ns per leaf. Models vmf_insert_pfn_prot /
 * remap_pfn_range / iommu_map.
 * Returns 0; -EINVAL for misaligned or empty arguments or a PA beyond
 * the machine; -EEXIST when any page in the range is already mapped
 * (nothing is changed); -ENOMEM.
 */
int ccmm_pgt_map(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t pa, uint64_t size,
		 uint64_t pgsize, uint64_t flags);

/*
 * ccmm_pgt_unmap - remove the translations in [@va, @va+@size), splitting
 * large leaves that straddle the edges. With @flush the TLB is flushed
 * (tlb_flush_ns per page, or one tlb_shootdown_ns for more than 32 pages);
 * without it the old translations stay stale. Returns the number of
 * 4 KiB pages that were mapped, or -EINVAL / -ENOMEM.
 * Models zap_page_range / unmap_mapping_range / iommu_unmap.
 */
long ccmm_pgt_unmap(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t size, bool flush);

/*
 * ccmm_pgt_protect - clear @clear, then set @set, in every leaf mapping
 * [@va, @va+@size), splitting large leaves that the range covers only in
 * part (cpa_split_ns each; counted in cpa_splits), as change_page_attr
 * does. Cache bits in @set/@clear are given in 4 KiB form and moved for
 * large leaves. Unmapped holes in the range are -EFAULT (nothing changed).
 * @flush as for ccmm_pgt_unmap. Returns the number of 4 KiB pages changed.
 */
long ccmm_pgt_protect(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t size,
		      uint64_t set, uint64_t clear, bool flush);

/*
 * ccmm_pgt_split - split the large leaf covering @va down to @level
 * leaves (1 or 2). No-op when already that small. Charges cpa_split_ns
 * per split. Returns 0, -EFAULT (not mapped), -ENOMEM.
 */
int ccmm_pgt_split(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, unsigned level);

/* Result of a walk. */
struct ccmm_walk {
	uint64_t pte;     /* leaf entry, 0 if not present */
	unsigned level;   /* 1..3, 0 if not present */
	uint64_t pa;      /* translated physical address */
	bool stale;       /* the TLB served a translation the tables no longer have */
};

/* Walk the tables (not the TLB). Returns 0, or -EFAULT when not present. */
int ccmm_pgt_walk(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w);

/* As ccmm_pgt_walk, for a caller that already holds @pt's lock (a map hook walking its own table). */
int ccmm_pgt_walk_locked(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w);

/*
 * ccmm_pgt_lock_access / ccmm_pgt_unlock_access - hold @pt's lock as an
 * access in flight does (the reader side: this thread's shard). Changes
 * of the tables (map, unmap, protect, split, TLB flush) wait until it is
 * dropped. Returns the shard to give back to the unlock.
 */
/* This thread's shard of every page table's lock; UINT32_MAX until ccmm_pgt_shard_assign. */
extern _Thread_local unsigned ccmm_pgt_shard;
/* Give the calling thread its shard (round robin over the threads) and return it. */
unsigned ccmm_pgt_shard_assign(void);

/* (inline: every modeled CPU access takes and drops it) */
static inline unsigned ccmm_pgt_lock_access(struct ccmm_pgtable *pt)
{
	unsigned s = ccmm_pgt_shard;

	if (__builtin_expect(s == UINT32_MAX, 0))
		s = ccmm_pgt_shard_assign();
	ccmm_lock_acquire(&pt->lock[s].m);
	return s;
}

static inline void ccmm_pgt_unlock_access(struct ccmm_pgtable *pt, unsigned shard)
{
	ccmm_lock_release(&pt->lock[shard].m);
}

/*
 * ccmm_pgt_gen - @pt's change count: it moves with every change of the
 * tables (before its first entry and after its last, with the lock held),
 * never goes back. A walk made after reading the value N still holds
 * while ccmm_pgt_gen() returns N.
 * The values come from one process-wide counter, so a value read from one
 * table is never another's. Lock-free (an acquire load).
 */
static inline uint64_t ccmm_pgt_gen(struct ccmm_pgtable *pt)
{
	return atomic_load_explicit(&pt->gen, memory_order_acquire);
}

/* Translate as the CPU does: a stale TLB entry wins over the tables. 0 or -EFAULT. */
int ccmm_pgt_translate(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w);

/*
 * The software TLB: per thread, for ccmm_pgt_translate_locked, in the
 * manner of a CPU's paging-structure caches (Intel SDM 4.10.3: a PDE-cache
 * entry lets a walk skip to the last level). One direct-mapped array by
 * 2 MiB of virtual address (the set hashed, as NUMA nodes' direct maps lie
 * a power of two apart): an entry holds either the 2 MiB or 1 GiB leaf
 * that covers it, or the last-level table the walk reached there (whose
 * entry is then read, as the walk would read it). Each entry is tagged
 * with the table's generation at the time; any change of the table (map,
 * unmap, protect, split, TLB flush, destroy) gives the table a new one, so
 * an entry never outlives what it holds (a table is freed only by a
 * change). A table that holds stale translations (the model's
 * missing-flush TLB entries) always takes the full lookup. It is a cache
 * that cannot answer anything the lookup would not: it changes how fast a
 * translation is, never what it is.
 */
#define CCMM_TLB_SETS 64 /* 1 << (64 - 58): see ccmm_tlb_set */

struct ccmm_tlb_entry {
	uint64_t gen;    /* the table's generation; 0: empty */
	uint64_t tag;    /* (va & 48-bit mask) >> CCMM_PMD_SHIFT */
	uint64_t *table; /* the last-level table, or NULL: */
	uint64_t pte;    /* the 2 MiB or 1 GiB leaf */
	uint64_t mask;   /* the leaf's size - 1 */
	/*
	 * The caller's cache of what lies behind the translations of this
	 * entry, emptied with every fill (so it lives no longer than the
	 * entry, i.e. than the table's generation): @aux for the physical
	 * addresses [@aux_base, @aux_base + @aux_len). The checker keeps there
	 * the chunk of page metadata of the last access through the entry
	 * (chunks live as long as the machine).
	 */
	uint64_t aux_base;
	void *aux;
	uint32_t aux_len;
	uint32_t level;  /* the leaf's level: 1 (through @table), 2 or 3 */
};

_Static_assert(sizeof(struct ccmm_tlb_entry) == 64, "a TLB entry is one cache line");

/* The calling thread's TLB and its statistics: translations answered from it (hits) and by a lookup (misses). */
extern _Thread_local struct ccmm_tlb_entry ccmm_tlb[CCMM_TLB_SETS] __attribute__((aligned(64)));
struct ccmm_tlb_stats {
	uint64_t hits, misses;
};
extern _Thread_local struct ccmm_tlb_stats ccmm_tlb_stats;

/* A copy of the calling thread's TLB statistics. */
void ccmm_tlb_stats_get(struct ccmm_tlb_stats *out);

/* The TLB set of a tag. */
static inline size_t ccmm_tlb_set(uint64_t tag)
{
	return (size_t)((tag * 0x9e3779b97f4a7c15ULL) >> 58);
}

/* ccmm_pgt_translate_locked without the TLB: the stale entries, then the walk, whose result the TLB then holds. */
int ccmm_pgt_translate_slow(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w);

/*
 * ccmm_tlb_hit_gen - the TLB's part of a translation: when the calling
 * thread's TLB holds @va for @pt at generation @gen, fill @w as the
 * lookup would and return the entry that answered (the caller may use its
 * aux fields); else NULL, and @w is untouched. A hit needs the entry's
 * generation to be @gen (a TLB entry is filled only while the table holds
 * no stale translation, and any change of them moves the generation, so
 * a hit never passes over a stale one).
 *
 * Locking: under @pt's lock (ccmm_tlb_hit), or without it: @gen read by
 * ccmm_pgt_gen() before, and the translation used only if
 * ccmm_pgt_gen_is() finds @gen still there after everything it decided
 * was read (a change moves the generation before its first entry, and the
 * entry here is read with acquire, so a read of any part of a change is
 * then caught). The table it reads is never freed while @pt lives (a
 * table given back is kept for reuse), so the read is always of memory
 * of the table's.
 */
static inline struct ccmm_tlb_entry *ccmm_tlb_hit_gen(struct ccmm_pgtable *pt, uint64_t gen, uint64_t va,
							struct ccmm_walk *w)
{
	uint64_t v = va & ((1ULL << 48) - 1), tag = v >> CCMM_PMD_SHIFT;
	struct ccmm_tlb_entry *c = &ccmm_tlb[ccmm_tlb_set(tag)];

	if (c->gen == gen && c->tag == tag) {
		uint64_t pte = c->table ? __atomic_load_n(&c->table[(v >> CCMM_PAGE_SHIFT) & 511], __ATOMIC_ACQUIRE)
					: c->pte;

		if (pte & CCMM_PTE_PRESENT) {
			w->pte = pte;
			w->level = c->level;
			w->pa = (pte & pt->m->pa_mask & ~c->mask) | (va & c->mask); /* ccmm_pte_pa */
			w->stale = false;
			ccmm_tlb_stats.hits++;
			return c;
		}
	}
	return NULL;
}

/* ccmm_tlb_hit_gen at @pt's generation now, for a caller that holds @pt's lock. */
static inline struct ccmm_tlb_entry *ccmm_tlb_hit(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w)
{
	return ccmm_tlb_hit_gen(pt, atomic_load_explicit(&pt->gen, memory_order_relaxed), va, w);
}

/* Whether @pt's generation is still @gen (after a lock-free ccmm_tlb_hit_gen and what it decided). */
static inline bool ccmm_pgt_gen_is(struct ccmm_pgtable *pt, uint64_t gen)
{
	return atomic_load_explicit(&pt->gen, memory_order_acquire) == gen;
}

/*
 * As ccmm_pgt_translate, for a caller that holds @pt's lock: the checker's
 * general path holds it from the translation to the end of the access, so
 * a change of the mapping (and the TLB flush that follows it) waits for
 * accesses in flight, as a shootdown IPI waits for the CPU's instruction
 * to retire (its fast path instead checks that no change began before it
 * touched the page: ccmm_tlb_hit_gen). Inline: the TLB's hit.
 */
static inline int ccmm_pgt_translate_locked(struct ccmm_pgtable *pt, uint64_t va, struct ccmm_walk *w)
{
	return ccmm_tlb_hit(pt, va, w) ? 0 : ccmm_pgt_translate_slow(pt, va, w);
}

/* Flush the TLB for [@va, @va+@size) (size 0: everything). Charges as ccmm_pgt_unmap. */
void ccmm_pgt_flush_tlb(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t size);

/*
 * ccmm_pgt_for_each_leaf - call @fn for every present leaf overlapping
 * [@va, @va+@size) in address order, with the table lock held; @fn must not
 * call back into this table. A non-zero return stops the walk and is
 * returned.
 */
int ccmm_pgt_for_each_leaf(struct ccmm_pgtable *pt, uint64_t va, uint64_t size,
			   int (*fn)(void *arg, uint64_t va, uint64_t pte, unsigned level), void *arg);

/* Sanity of the tree: aligned leaves, counts matching. 0 or -EUCLEAN (kernel's *_is_valid). */
int ccmm_pgt_is_valid(struct ccmm_pgtable *pt);

#pragma GCC visibility pop

#endif /* CCMM_MMU_H */
