// SPDX-License-Identifier: MIT
/* ccmm_access(): translate, build the views, decide, move the bytes, record violations. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/internal.h"

/* The device's reach: same P2P group (or itself). */
static bool p2p_reach(const struct ccmm_platform *p, int dev, const struct ccmm_mem_range *r)
{
	const struct ccmm_device_desc *a, *b;

	if (r->device == dev)
		return true;
	a = &p->devices[dev];
	b = &p->devices[r->device];
	return a->p2p_group >= 0 && a->p2p_group == b->p2p_group;
}

/* Bit n set for each line n of the page that [@pa, @pa+@len) touches (within one page). */
static uint64_t line_mask(uint64_t pa, size_t len)
{
	unsigned first = (unsigned)((pa & (CCMM_PAGE_SIZE - 1)) >> CCMM_LINE_SHIFT);
	unsigned last = (unsigned)(((pa + len - 1) & (CCMM_PAGE_SIZE - 1)) >> CCMM_LINE_SHIFT);

	return (~0ULL >> (63 - last)) & (~0ULL << first);
}

/*
 * Whether a line of [@pa, @pa+@len) in page @pg is poisoned. The page flag
 * says whether any line may be (it is set with the first poisoned line and
 * kept until the data is dropped), so a clean page costs no look at its
 * data, which is far away in memory.
 */
static inline bool lines_poisoned(const struct ccmm_page *pg, uint64_t pa, size_t len)
{
	return (pg->flags & CCMM_PG_POISONED) && pg->data && (pg->data->poison & line_mask(pa, len));
}

/* A write by the TD with its key rewrites lines [@pa, @pa+@len): they are no longer poisoned. */
static inline void lines_rewritten(struct ccmm_page *pg, uint64_t pa, size_t len)
{
	if ((pg->flags & CCMM_PG_POISONED) && pg->data)
		pg->data->poison &= ~line_mask(pa, len);
}

static void charge_outcome(struct ccmm_ctx *ctx, const struct ccmm_decision *d, enum ccmm_cc_mode mode,
			   bool mmio)
{
	switch (d->outcome) {
	case CCMM_PF:
		ccmm_count(ctx, CCMM_CTR_page_faults, 1);
		ccmm_charge(ctx, CCMM_COST_page_fault_ns, 1);
		if (mode == CCMM_CC_SEV_SNP && d->rule && d->rule != &ccmm_rule_access_hole)
			ccmm_count(ctx, CCMM_CTR_rmp_faults, 1);
		break;
	case CCMM_VE:
		ccmm_count(ctx, CCMM_CTR_ve_exceptions, 1);
		ccmm_charge(ctx, CCMM_COST_ve_ns, 1);
		if (d->handled)
			ccmm_charge(ctx, CCMM_COST_tdvmcall_ns, 1);
		break;
	case CCMM_VC:
		ccmm_count(ctx, CCMM_CTR_vc_exceptions, 1);
		ccmm_charge(ctx, CCMM_COST_ghcb_vmgexit_ns, 1);
		break;
	case CCMM_NPF:
		ccmm_count(ctx, CCMM_CTR_npf_exits, 1);
		ccmm_charge(ctx, CCMM_COST_vmexit_ns, 1);
		break;
	case CCMM_MCE:
		ccmm_count(ctx, CCMM_CTR_machine_checks, 1);
		break;
	case CCMM_BLOCKED:
		ccmm_count(ctx, CCMM_CTR_blocked_dma, 1);
		break;
	case CCMM_SCRAMBLED:
		break;
	default:
		break;
	}
	if (mmio) {
		ccmm_count(ctx, CCMM_CTR_mmio_accesses, 1);
		ccmm_charge(ctx, CCMM_COST_mmio_ns, 1);
	}
}

/* One page-sized piece of an access. Returns the outcome; fills *d. */
/* One page of an access; the caller holds a->pgt's lock (when there is one) throughout. */
static enum ccmm_outcome access_page_locked(struct ccmm_ctx *ctx, const struct ccmm_access *a, uint64_t addr,
					    uint8_t *buf, size_t n, struct ccmm_result *r)
{
	struct ccmm_machine *m = ctx->m;
	const struct ccmm_platform *p = m->plat;
	struct ccmm_view v;
	struct ccmm_decision d;
	struct ccmm_walk w;
	const struct ccmm_mem_range *range;
	struct ccmm_phys_range *prange;
	struct ccmm_page *pg = NULL;
	uint64_t pa;
	bool cpu = a->who != CCMM_INIT_DEVICE;
	char viewbuf[160];

	memset(&v, 0, sizeof(v));
	memset(&w, 0, sizeof(w));
	v.who = a->who;
	v.rw = a->rw;

	if (cpu) {
		if (ccmm_pgt_translate_locked(a->pgt, addr, &w)) {
			ccmm_count(ctx, CCMM_CTR_page_faults, 1);
			ccmm_charge(ctx, CCMM_COST_page_fault_ns, 1);
			r->why = "#PF: no translation (the fault handler decides what happens next)";
			r->pte = 0;
			r->pa = 0;
			return CCMM_PF;
		}
		if ((a->rw == CCMM_WRITE && !(w.pte & CCMM_PTE_RW)) || (a->who == CCMM_INIT_USER && !(w.pte & CCMM_PTE_USER))) {
			r->why = a->rw == CCMM_WRITE && !(w.pte & CCMM_PTE_RW) ? "#PF: write to a read-only mapping"
									       : "#PF: user access to a kernel mapping";
			ccmm_count(ctx, CCMM_CTR_page_faults, 1);
			ccmm_charge(ctx, CCMM_COST_page_fault_ns, 1);
			r->pte = w.pte;
			r->level = w.level;
			r->pa = w.pa;
			return CCMM_PF;
		}
		pa = w.pa;
		v.private_attr = ccmm_pte_is_private(m, w.pte);
		v.stale_tlb = w.stale;
		v.level = w.level;
		if (w.stale) {
			ccmm_pte_format(m, w.pte, w.level, viewbuf, sizeof(viewbuf));
			_ccmm_check_record(ctx, &ccmm_rule_stale_tlb, a, addr, &w, pa, CCMM_OK,
					  "%s 0x%" PRIx64 " through %s used a stale TLB entry %s that the page tables no longer hold",
					  ccmm_initiator_name(a->who), addr, a->pgt->name, viewbuf);
			r->violations++;
		}
	} else {
		const struct ccmm_device_desc *dev = &p->devices[a->device];
		uint64_t bus = addr;

		if (a->pgt) {
			if (ccmm_pgt_translate_locked(a->pgt, addr, &w) || (a->rw == CCMM_WRITE && !(w.pte & CCMM_PTE_RW))) {
				ccmm_count(ctx, CCMM_CTR_blocked_dma, 1);
				_ccmm_check_record(ctx, &ccmm_rule_iommu_fault, a, addr, NULL, ~0ULL, CCMM_BLOCKED,
						  "%s %s at IOVA 0x%" PRIx64 ": the IOMMU (%s) has %s", dev->name,
						  a->rw == CCMM_READ ? "read" : "write", addr, a->pgt->name,
						  w.level ? "a read-only translation" : "no translation");
				r->violations++;
				r->why = "IOMMU fault: no translation for this IOVA";
				r->pa = 0;
				return CCMM_BLOCKED;
			}
			bus = w.pa;
			ccmm_charge(ctx, CCMM_COST_iotlb_miss_ns, 1);
		} else if (dev->dma_mask_bits < 64 && (addr >> dev->dma_mask_bits)) {
			/* the device emits only the low bits: the access lands elsewhere */
			uint64_t trunc = addr & ((1ULL << dev->dma_mask_bits) - 1);

			_ccmm_check_record(ctx, &ccmm_rule_dma_mask_exceeded, a, addr, NULL, trunc, CCMM_OK,
					  "%s has a %u-bit DMA mask but was given 0x%" PRIx64 "; it emits 0x%" PRIx64 " instead",
					  dev->name, dev->dma_mask_bits, addr, trunc);
			r->violations++;
			bus = trunc;
		}
		v.trusted = ccmm_check_device_trusted(m, a->device);
		/* SME: the C-bit in a DMA address asks the memory controller to decrypt */
		v.private_attr = p->mode == CCMM_CC_SME && (bus & m->enc_mask);
		pa = p->mode == CCMM_CC_SME ? bus & ~m->enc_mask : bus;
	}

	prange = ccmm_phys_range_at(m, pa);
	range = prange ? prange->desc : NULL;
	v.hole = !range;
	if (range) {
		v.kind = range->kind;
		if (!cpu && range->kind == CCMM_RANGE_BAR)
			v.p2p_ok = p2p_reach(p, a->device, range);
		pg = ccmm_phys_lock_at(m, prange, pa);
		if (!pg)
			return CCMM_ABORT; /* out of memory for metadata: treat as nothing there */
		v.state = (enum ccmm_page_state)pg->state;
		v.flags = pg->flags;
		v.poisoned = lines_poisoned(pg, pa, n);
		if (p->mode == CCMM_CC_SEV_SNP && a->who == CCMM_INIT_HOST && w.level >= 2) {
			struct ccmm_chunk *c = ccmm_page_chunk(pg, pa);

			if (w.level == 2)
				v.private_in_2m = c->nr_private;
			else
				v.private_in_2m = _ccmm_check_private_in(m, CCMM_ALIGN_DOWN(pa, CCMM_PUD_SIZE), CCMM_PUD_SIZE, pa);
		}
	}

	ccmm_decide(p->mode, p->mmio, &v, &d);

	/* Move the bytes the hardware lets through. */
	if (buf && pg) {
		if (d.move) {
			bool mismatch = false;
			int ret = ccmm_page_rw(m, pg, pa, buf, n, a->rw == CCMM_WRITE, d.keyid, &mismatch);

			if (ret) {
				ccmm_page_unlock(pg, pa);
				return CCMM_ABORT;
			}
			if (a->rw == CCMM_READ && mismatch && d.outcome == CCMM_OK) {
				d.outcome = CCMM_SCRAMBLED;
				if (!d.rule)
					d.why = "the bytes were written under another key";
			}
			if (a->rw == CCMM_WRITE && d.keyid == CCMM_KEYID_GUEST)
				lines_rewritten(pg, pa, n);
		} else if (a->rw == CCMM_READ) {
			memset(buf, d.outcome == CCMM_ZEROS ? 0x00 : 0xff, n);
		}
	} else if (buf && !pg && a->rw == CCMM_READ) {
		memset(buf, 0xff, n);
	}
	if (d.poison && pg) {
		uint64_t lines = line_mask(pa, n);
		struct ccmm_page_data *dd;

		/* the write happens, without the TD's key; its MAC no longer matches */
		if (buf)
			ccmm_page_rw(m, pg, pa, buf, n, true, CCMM_KEYID_NONE, NULL);
		dd = ccmm_phys_page_data(m, pa, pg);
		if (dd) {
			ccmm_count(ctx, CCMM_CTR_poisoned_lines, (uint64_t)__builtin_popcountll(lines & ~dd->poison));
			dd->poison |= lines;
			pg->flags |= CCMM_PG_POISONED;
		}
	}
	if (d.rule == &ccmm_rule_stale_cache_lines && pg)
		pg->flags &= (uint8_t)~CCMM_PG_STALE_LINES; /* the stale lines have been written back now */
	if (d.outcome == CCMM_SCRAMBLED)
		ccmm_count(ctx, CCMM_CTR_scrambled_reads, a->rw == CCMM_READ);
	if (pg)
		ccmm_page_unlock(pg, pa);

	charge_outcome(ctx, &d, p->mode, range && range->kind == CCMM_RANGE_BAR && cpu);

	if (d.rule) {
		if (cpu)
			ccmm_pte_format(m, w.pte, w.level, viewbuf, sizeof(viewbuf));
		_ccmm_check_record(ctx, d.rule, a, addr, cpu ? &w : NULL, range ? pa : ~0ULL, d.outcome,
				  "%s %s of %zu bytes at 0x%" PRIx64 "%s%s%s -> pa 0x%" PRIx64 ": %s",
				  cpu ? ccmm_initiator_name(a->who) : p->devices[a->device].name,
				  a->rw == CCMM_READ ? "read" : "write", n, addr, cpu ? " via " : "", cpu ? a->pgt->name : "",
				  cpu ? "" : "", pa, d.why);
		r->violations++;
	}
	r->pa = pa;
	r->pte = w.pte;
	r->level = w.level;
	r->why = d.why;
	r->handled = d.handled;
	return d.outcome;
}

/*
 * One page of an access, translation to last byte under the page table's
 * lock: unmapping the page and flushing the TLB cannot complete while the
 * access is in flight, so a page freed after an unmap is never read or
 * written through the old translation (a shootdown waits for the CPU).
 */
static enum ccmm_outcome access_page(struct ccmm_ctx *ctx, const struct ccmm_access *a, uint64_t addr, uint8_t *buf,
				     size_t n, struct ccmm_result *r)
{
	enum ccmm_outcome o;
	unsigned shard = 0;

	if (a->pgt)
		shard = ccmm_pgt_lock_access(a->pgt);
	o = access_page_locked(ctx, a, addr, buf, n, r);
	if (a->pgt)
		ccmm_pgt_unlock_access(a->pgt, shard);
	return o;
}

bool ccmm_check_fast_path = true;

/*
 * The rule book's verdicts on the views access_fast builds, per thread: the
 * rule book is pure (the same view gets the same decision), and access_fast
 * varies only the fields packed here (the rest are constant there), so a
 * key names a whole view; the mode and MMIO mode make it a whole call.
 * Small: a few kinds of access repeat. MEMO_WAYS ways a set: looked up in
 * the set's first entry, then in the others on a miss; a miss of all
 * moves each one way down (the last dropped) and takes the first, so a
 * few keys of one set (the four sides of a bounce's two copies) do not
 * evict each other.
 */
#define MEMO_SETS 8
#define MEMO_WAYS 4

struct decide_memo {
	uint64_t key;    /* fast_key; 0: empty */
	bool plain;      /* the decision lets the bytes through with nothing to record, charge or poison */
	uint8_t keyid;   /* its key to move them under */
	const char *why; /* its reason */
};

static _Thread_local struct decide_memo memo[MEMO_SETS * MEMO_WAYS];

/* The index in memo[] of the first entry of @key's set. */
static inline size_t memo_set(uint64_t key)
{
	_Static_assert(MEMO_SETS == 8 && MEMO_WAYS == 4, "three bits of set, two of way");
	return (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 61) << 2;
}

/* fast_key's fields that are the same for every piece of one side of a copy (never 0). */
static inline uint64_t fast_key_const(enum ccmm_cc_mode mode, enum ccmm_mmio_mode mmio, const struct ccmm_access *a)
{
	_Static_assert(CCMM_CC_NR <= 256 && CCMM_INIT_NR <= 16, "the key's fields");
	/* mode < CCMM_CC_NR, who < CCMM_INIT_NR (the callers' checks) */
	return (uint64_t)a->who << 22 | (uint64_t)(a->rw & 1) << 26 | (uint64_t)mode << 27 | (uint64_t)(mmio & 255) << 35 |
	       1ULL << 63;
}

/* fast_key's fields that vary from page to page, ORed into @kconst (fast_key_const). */
static inline uint64_t fast_key_page(uint64_t kconst, bool private_attr, unsigned level, const struct ccmm_page *pg,
				     bool poisoned)
{
	uint16_t state_flags; /* adjacent bytes: one load */

	_Static_assert(offsetof(struct ccmm_page, flags) == offsetof(struct ccmm_page, state) + 1, "state, flags");
	/* level <= 3 */
	memcpy(&state_flags, &pg->state, sizeof(state_flags));
	return kconst | (uint64_t)state_flags | (uint64_t)level << 16 | (uint64_t)private_attr << 20 |
	       (uint64_t)poisoned << 21;
}

static inline uint64_t fast_key(enum ccmm_cc_mode mode, enum ccmm_mmio_mode mmio, const struct ccmm_access *a,
				bool private_attr, unsigned level, const struct ccmm_page *pg, bool poisoned)
{
	return fast_key_page(fast_key_const(mode, mmio, a), private_attr, level, pg, poisoned);
}

/*
 * The memoised verdict of the rule book on the view of a plain CPU access
 * to RAM (the view access_fast and the copy's pieces build: RAM, a current
 * translation, no SNP 2 MiB host check), from the fields that vary.
 */
/* A miss of plain_verdict: the rule book's decision on the view, kept in @e under @key (out of line: the hit keeps its registers). */
static __attribute__((noinline)) struct decide_memo *verdict_fill(const struct ccmm_platform *p,
								  const struct ccmm_access *a, bool private_attr,
								  unsigned level, const struct ccmm_page *pg,
								  bool poisoned, uint64_t key, struct decide_memo *e)
{
	struct ccmm_view v = {
		.who = a->who,
		.rw = a->rw,
		.private_attr = private_attr,
		.level = level,
		.kind = CCMM_RANGE_RAM,
		.state = (enum ccmm_page_state)pg->state,
		.flags = pg->flags,
		.poisoned = poisoned,
	};
	struct ccmm_decision d;

	for (int i = 1; i < MEMO_WAYS; i++)
		if (e[i].key == key)
			return &e[i];
	memmove(e + 1, e, (MEMO_WAYS - 1) * sizeof(*e));
	ccmm_decide(p->mode, p->mmio, &v, &d);
	e->key = key;
	e->plain = !d.rule && d.outcome == CCMM_OK && d.move && !d.poison && !d.handled;
	e->keyid = (uint8_t)d.keyid;
	e->why = d.why;
	return e;
}

/* plain_verdict for the view whose fast_key is @key. */
static inline const struct decide_memo *plain_verdict_key(const struct ccmm_platform *p, const struct ccmm_access *a,
							  bool private_attr, unsigned level, const struct ccmm_page *pg,
							  bool poisoned, uint64_t key)
{
	struct decide_memo *e = &memo[memo_set(key)];

	if (__builtin_expect(e->key != key, 0))
		e = verdict_fill(p, a, private_attr, level, pg, poisoned, key, e);
	return e;
}

static inline const struct decide_memo *plain_verdict(const struct ccmm_platform *p, const struct ccmm_access *a,
						      bool private_attr, unsigned level, const struct ccmm_page *pg,
						      bool poisoned)
{
	uint64_t key = fast_key(p->mode, p->mmio, a, private_attr, level, pg, poisoned);
	struct decide_memo *e = &memo[memo_set(key)];

	if (__builtin_expect(e->key != key, 0))
		e = verdict_fill(p, a, private_attr, level, pg, poisoned, key, e);
	return e;
}

/*
 * The chunk of page metadata of RAM page @pa (@create: made when it does
 * not exist yet), and the addresses it serves within its range:
 * [*@base, *@base + *@len). NULL when @pa is not RAM, when the chunk does
 * not exist and !@create, or out of memory.
 */
static struct ccmm_chunk *chunk_lookup(struct ccmm_machine *m, uint64_t pa, bool create, uint64_t *base, uint32_t *len)
{
	struct ccmm_phys_range *pr = ccmm_phys_range_at(m, pa);
	const struct ccmm_mem_range *d;
	struct ccmm_chunk *c;
	uint64_t lo, hi;

	if (!pr || pr->desc->kind != CCMM_RANGE_RAM)
		return NULL;
	c = ccmm_phys_chunk_peek(pr, pa); /* inline when it exists */
	if (!c && create)
		c = ccmm_phys_chunk_in(m, pr, pa, true);
	d = pr->desc;
	lo = CCMM_MAX(CCMM_ALIGN_DOWN(pa, 1ULL << CCMM_CHUNK_SHIFT), d->base);
	hi = CCMM_MIN(CCMM_ALIGN_DOWN(pa, 1ULL << CCMM_CHUNK_SHIFT) + (1ULL << CCMM_CHUNK_SHIFT), d->base + d->size);
	*base = lo;
	*len = (uint32_t)(hi - lo);
	return c;
}

/*
 * The chunk of page metadata of @pa when @pa is RAM and its chunk exists,
 * else NULL (the general path then finds the range or creates the
 * chunk). @te: the TLB entry that translated @pa (NULL: the walk did),
 * whose aux fields keep the chunk of the last page reached through it
 * with the addresses it serves (its 2 MiB within its range): the direct
 * map and most mappings reach one chunk through one entry. The kind of a
 * range and the chunk of an address never change while the machine
 * lives, and the entry lives no longer than its table's generation, so
 * the cache answers only what the lookup would.
 */
static inline struct ccmm_chunk *ram_chunk(struct ccmm_machine *m, struct ccmm_tlb_entry *te, uint64_t pa)
{
	struct ccmm_chunk *c;
	uint64_t base;
	uint32_t len;

	if (te && pa - te->aux_base < te->aux_len)
		return te->aux;
	c = chunk_lookup(m, pa, false, &base, &len);
	if (c && te) {
		te->aux_base = base;
		te->aux_len = len;
		te->aux = c;
	}
	return c;
}

/*
 * A TLB miss of access_fast or copy_fast: the walk under the lock fills
 * the TLB (when nothing is stale). Returns the table's generation after
 * it, for the caller's second try of the hit, or 0 (never a generation)
 * when the walk found nothing or a stale translation (the general path
 * then translates). Its own walk struct: the caller's stays in registers.
 */
static __attribute__((noinline)) uint64_t tlb_fill(struct ccmm_pgtable *pgt, uint64_t va)
{
	unsigned shard = ccmm_pgt_lock_access(pgt);
	struct ccmm_walk w;
	int ret = ccmm_pgt_translate_slow(pgt, va, &w);

	ccmm_pgt_unlock_access(pgt, shard);
	return ret || w.stale ? 0 : ccmm_pgt_gen(pgt);
}

/*
 * copy_fast's translation of each side's @va: the TLB's hit at generation *@gen,
 * else a walk under the lock (tlb_fill) and the hit at the generation it
 * left in *@gen. NULL: no current translation (the general path takes it).
 */
static inline struct ccmm_tlb_entry *tlb_translate(struct ccmm_pgtable *pgt, uint64_t *gen, uint64_t va,
						   struct ccmm_walk *w)
{
	struct ccmm_tlb_entry *te = ccmm_tlb_hit_gen(pgt, *gen, va, w);

	if (!te) {
		*gen = tlb_fill(pgt, va);
		te = *gen ? ccmm_tlb_hit_gen(pgt, *gen, va, w) : NULL;
	}
	return te;
}

/*
 * Whether copy_fast may use translation @w for @who (@write: a
 * store): writable when written, user when a user process's, and not a
 * host access through a 2 MiB or 1 GiB leaf under SEV-SNP (the RMP's
 * page-size check, which only the general path makes).
 */
static inline bool fast_translation_ok(const struct ccmm_platform *p, enum ccmm_initiator who,
				       const struct ccmm_walk *w, bool write)
{
	return !(write && !(w->pte & CCMM_PTE_RW)) && !(who == CCMM_INIT_USER && !(w->pte & CCMM_PTE_USER)) &&
	       !(p->mode == CCMM_CC_SEV_SNP && who == CCMM_INIT_HOST && w->level >= 2);
}

/*
 * The common case of a one-page CPU access, for speed: RAM through a
 * current (not stale), permitted translation, in a chunk that exists,
 * that the rule book lets through with nothing to record, charge (but the
 * copy, which the caller charges) or poison. It builds the same view as
 * access_page_locked, gets the same decision and moves the same bytes
 * with the same counts and result. Anything else returns false before
 * anything is moved, counted or changed, and access_page then does the
 * whole access (a change of the tables or the page in between is then
 * an access a moment later, which it could have been anyway). It holds no
 * page-table lock: the translation comes from this thread's TLB at the
 * table's generation, and the access goes on only if the generation has
 * not moved once the page's chunk lock is held and its verdict taken (a
 * seqlock's read side), so it is the access the locked path would have
 * made just before the change; the page itself is read and changed only
 * under its chunk lock, which any later change of it waits for.
 */
static inline bool access_fast(struct ccmm_ctx *ctx, const struct ccmm_access *a, struct ccmm_result *r)
{
	struct ccmm_machine *m = ctx->m;
	const struct ccmm_platform *p = m->plat;
	struct ccmm_pgtable *pgt = a->pgt;
	uint64_t gen = ccmm_pgt_gen(pgt);
	struct ccmm_tlb_entry *te;
	struct ccmm_chunk *c;
	struct ccmm_page *pg;
	struct ccmm_walk w;
	const struct decide_memo *e;
	const char *why;
	enum ccmm_outcome o = CCMM_OK;
	uint64_t pa;

	/* the TLB's hit, without the page-table lock: checked below */
	te = ccmm_tlb_hit_gen(pgt, gen, a->addr, &w);
	if (!te) {
		gen = tlb_fill(pgt, a->addr);
		te = gen ? ccmm_tlb_hit_gen(pgt, gen, a->addr, &w) : NULL;
	}
	/* fast_translation_ok's test, written out: this path is the checker's hottest */
	if (!te || (a->rw == CCMM_WRITE && !(w.pte & CCMM_PTE_RW)) ||
	    (a->who == CCMM_INIT_USER && !(w.pte & CCMM_PTE_USER)) ||
	    (p->mode == CCMM_CC_SEV_SNP && a->who == CCMM_INIT_HOST && w.level >= 2))
		return false;
	pa = w.pa;
	c = ram_chunk(m, te, pa);
	if (!c)
		return false;
	pg = &c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
	ccmm_lock_acquire(&c->lock);
	e = plain_verdict(p, a, ccmm_pte_is_private(m, w.pte), w.level, pg, lines_poisoned(pg, pa, a->len));
	/*
	 * No change of the tables began since the translation was read: the
	 * access is then the one it would have been under the lock, taken
	 * before that change (which, as a shootdown waits for the access in
	 * flight, orders after it: whatever it changes of the page waits for
	 * the chunk lock held here).
	 */
	if (!e->plain || !ccmm_pgt_gen_is(pgt, gen)) {
		ccmm_lock_release(&c->lock);
		return false;
	}
	why = e->why;
	if (a->buf) {
		bool mismatch = false;

		if (ccmm_page_rw(m, pg, pa, a->buf, a->len, a->rw == CCMM_WRITE, e->keyid, &mismatch)) {
			o = CCMM_ABORT;
		} else if (a->rw == CCMM_READ && mismatch) {
			o = CCMM_SCRAMBLED;
			why = "the bytes were written under another key";
			ccmm_count(ctx, CCMM_CTR_scrambled_reads, 1);
		} else if (a->rw == CCMM_WRITE && e->keyid == CCMM_KEYID_GUEST) {
			lines_rewritten(pg, pa, a->len);
		}
	}
	ccmm_lock_release(&c->lock);
	/* the result as ccmm_access fills it from access_page_locked's (a failed engine: the outcome alone) */
	r->outcome = o;
	r->handled = false;
	r->pa = o == CCMM_ABORT ? 0 : pa;
	r->pte = o == CCMM_ABORT ? 0 : w.pte;
	r->level = o == CCMM_ABORT ? 0 : w.level;
	r->done = a->len;
	r->violations = 0;
	r->why = o == CCMM_ABORT ? NULL : why;
	return true;
}

static inline int access_valid(struct ccmm_ctx *ctx, const struct ccmm_access *a)
{
	if (!a->len || (unsigned)a->who >= CCMM_INIT_NR)
		return -EINVAL;
	if (a->who != CCMM_INIT_DEVICE && !a->pgt)
		return -EINVAL;
	if (a->who == CCMM_INIT_DEVICE && (a->device < 0 || (size_t)a->device >= ctx->m->plat->nr_devices))
		return -EINVAL;
	if (a->addr + a->len < a->addr)
		return -EINVAL;
	return 0;
}

/*
 * The pieces of access @a, page by page, into @r (which the caller has
 * zeroed; r->done and the merge go on from what it holds, @first telling
 * whether a piece came before). Returns true when it ran to the end, false
 * when a page faulted (an exception nobody handled stops an access).
 */
static bool access_pieces(struct ccmm_ctx *ctx, const struct ccmm_access *a, struct ccmm_result *r, bool first)
{
	uint64_t addr = a->addr;
	size_t left = a->len;
	uint8_t *buf = a->buf;

	for (; left; first = false) {
		size_t n = (size_t)CCMM_MIN(left, CCMM_PAGE_SIZE - (addr & (CCMM_PAGE_SIZE - 1)));
		struct ccmm_result tmp;
		enum ccmm_outcome o;

		memset(&tmp, 0, sizeof(tmp));
		o = access_page(ctx, a, addr, buf, n, &tmp);
		tmp.outcome = o;
		ccmm_result_merge(r, &tmp, first);
		if (ccmm_outcome_faults(o) && !tmp.handled)
			return false;
		r->done += n;
		addr += n;
		left -= n;
		if (buf)
			buf += n;
	}
	return true;
}

/* What a completed access adds: the bytes moved and the copy's cost. */
static void account_bytes(struct ccmm_ctx *ctx, enum ccmm_rw rw, size_t done)
{
	ccmm_count(ctx, rw == CCMM_READ ? CCMM_CTR_bytes_read : CCMM_CTR_bytes_written, done);
	ccmm_charge_copy(ctx, done);
}

/* ccmm_access but its fast path (out of line: the fast path keeps its registers to itself). */
static __attribute__((noinline)) int access_general(struct ccmm_ctx *ctx, const struct ccmm_access *a,
						    struct ccmm_result *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = access_valid(ctx, a);
	if (ret)
		return ret;
	ccmm_count(ctx, CCMM_CTR_accesses, 1);
	if (a->len <= CCMM_PAGE_SIZE - (a->addr & (CCMM_PAGE_SIZE - 1))) {
		/* one page: its result is the access's */
		r->outcome = access_page(ctx, a, a->addr, a->buf, a->len, r);
		if (ccmm_outcome_faults(r->outcome) && !r->handled)
			return 0;
		r->done = a->len;
	} else {
		r->outcome = CCMM_OK;
		if (!access_pieces(ctx, a, r, true))
			return 0;
	}
	account_bytes(ctx, a->rw, r->done);
	return 0;
}

/* One page of a valid CPU access: the fast path, else the general one. */
static __attribute__((noinline)) int access_cpu_page(struct ccmm_ctx *ctx, const struct ccmm_access *a,
						     struct ccmm_result *r)
{
	if (ccmm_check_fast_path && access_fast(ctx, a, r)) {
		ccmm_count(ctx, CCMM_CTR_accesses, 1);
		account_bytes(ctx, a->rw, a->len);
		return 0;
	}
	return access_general(ctx, a, r);
}

int ccmm_access(struct ccmm_ctx *ctx, const struct ccmm_access *a, struct ccmm_result *r)
{
	/* one page of a CPU access (valid as access_valid checks it) */
	if ((unsigned)a->who < CCMM_INIT_DEVICE && a->pgt && a->len &&
	    a->len <= CCMM_PAGE_SIZE - (a->addr & (CCMM_PAGE_SIZE - 1)) && a->addr + a->len > a->addr)
		return access_cpu_page(ctx, a, r);
	return access_general(ctx, a, r);
}

/* ---- copies ------------------------------------------------------------------------------ */

/*
 * One side of a copy: where the current piece lands and what the checker
 * sees there, with the leaf, range and chunk of the piece before (the
 * tables cannot change while the copy holds the page-table lock).
 */
struct copy_side {
	const struct ccmm_access *a;
	uint64_t addr, pa;
	struct ccmm_walk w;
	uint64_t leaf_va, leaf_size;   /* the leaf w came from; leaf_size 0: look it up */
	uint64_t leaf_pa;              /* the physical address of leaf_va */
	struct ccmm_chunk *c;          /* NULL: look it up */
	uint64_t chunk_base;           /* c serves [chunk_base, chunk_base + chunk_len) */
	uint32_t chunk_len;
	struct ccmm_page *pg;
	unsigned keyid;                /* the rule book's key for the piece (side_decide) */
	const char *why;               /* and its reason */
	/*
	 * The last-level table of the 2 MiB at table_va (NULL: none), taken
	 * from a TLB hit under the page-table lock the copy holds (so the
	 * tables cannot change while it is kept): the next 4 KiB leaves of a
	 * side are read from it without the TLB's lookup.
	 */
	uint64_t *table;
	uint64_t table_va;
	/*
	 * The verdict of the piece before (fast mode): fast_key's value,
	 * whose constant part (mode, MMIO mode, initiator, direction) is
	 * vconst, and the rule book's answer to it (plain, keyid, why). The
	 * rule book is pure, so a piece with the same key gets the same
	 * answer without the memo's lookup.
	 */
	uint64_t vconst, vkey;
	bool vplain;
};

/*
 * Whether copies take their fast path (ccmm_check_fast_path when the copy
 * began): the TLB, the verdict memo, the leaf and chunk of the piece
 * before, and ccmm_page_copy. Without it, the same pieces are decided and
 * moved the general way: a walk of the tables, a range and chunk lookup
 * and the rule book's decision for every piece, and the bytes read into a
 * buffer and written from it (test_copy_fast_path_is_general_path
 * compares the two).
 */
struct copy_mode {
	bool fast;
};

/*
 * Translate one side of a piece (page-table lock held) and find its chunk:
 * false when the piece is not plain RAM through a present, permitted,
 * current translation, which the general path then takes with all it
 * records.
 */
static inline __attribute__((always_inline)) bool side_translate(struct ccmm_machine *m, struct copy_side *s, size_t n,
								 const struct copy_mode *cm)
{
	const struct ccmm_access *a = s->a;
	struct ccmm_tlb_entry *te = NULL;

	if (s->leaf_size && s->addr - s->leaf_va < s->leaf_size) {
		s->w.pa = s->leaf_pa + (s->addr - s->leaf_va); /* the same leaf as the piece before */
	} else if (s->table && s->addr - s->table_va < CCMM_PMD_SIZE) {
		/* the next 4 KiB leaf of the last-level table the piece before came through: what the TLB's hit reads */
		uint64_t pte = __atomic_load_n(&s->table[(s->addr >> CCMM_PAGE_SHIFT) & 511], __ATOMIC_ACQUIRE);

		if (!(pte & CCMM_PTE_PRESENT))
			return false;
		s->w.pte = pte;
		s->w.level = 1;
		s->w.pa = (pte & a->pgt->m->pa_mask & ~(uint64_t)(CCMM_PAGE_SIZE - 1)) | (s->addr & (CCMM_PAGE_SIZE - 1));
		s->w.stale = false;
		if ((a->rw == CCMM_WRITE && !(pte & CCMM_PTE_RW)) || (a->who == CCMM_INIT_USER && !(pte & CCMM_PTE_USER)))
			return false;
		s->leaf_size = CCMM_PAGE_SIZE;
		s->leaf_va = s->addr & ~(uint64_t)(CCMM_PAGE_SIZE - 1);
		s->leaf_pa = s->w.pa - (s->addr - s->leaf_va);
	} else {
		if (cm->fast)
			te = ccmm_tlb_hit(a->pgt, s->addr, &s->w);
		if (!te && ccmm_pgt_translate_slow(a->pgt, s->addr, &s->w))
			return false;
		if (s->w.stale)
			return false;
		if ((a->rw == CCMM_WRITE && !(s->w.pte & CCMM_PTE_RW)) ||
		    (a->who == CCMM_INIT_USER && !(s->w.pte & CCMM_PTE_USER)))
			return false;
		if (m->plat->mode == CCMM_CC_SEV_SNP && a->who == CCMM_INIT_HOST && s->w.level >= 2)
			return false; /* the 2 MiB RMP check: the general path */
		/* a stale entry may cover part of the leaf: then translate every piece */
		s->leaf_size = a->pgt->nr_stale || !cm->fast ? 0 : ccmm_level_size(s->w.level);
		s->leaf_va = s->addr & ~(ccmm_level_size(s->w.level) - 1);
		s->leaf_pa = s->w.pa - (s->addr - s->leaf_va);
		/* the lock held, the table stays; with no stale entry, every leaf in it is what a walk finds */
		s->table = NULL;
		if (te && te->table && s->leaf_size) {
			s->table = te->table;
			s->table_va = s->addr & ~(CCMM_PMD_SIZE - 1);
		}
	}
	s->pa = s->w.pa;
	if ((s->pa & (CCMM_PAGE_SIZE - 1)) + n > CCMM_PAGE_SIZE)
		return false;
	if (!cm->fast) {
		s->c = chunk_lookup(m, s->pa, true, &s->chunk_base, &s->chunk_len);
		return s->c != NULL;
	}
	if (!s->c || s->pa - s->chunk_base >= s->chunk_len) {
		if (te && s->pa - te->aux_base < te->aux_len) {
			s->c = te->aux;
			s->chunk_base = te->aux_base;
			s->chunk_len = te->aux_len;
		} else {
			s->c = chunk_lookup(m, s->pa, true, &s->chunk_base, &s->chunk_len);
			if (!s->c)
				return false;
			if (te) {
				te->aux = s->c;
				te->aux_base = s->chunk_base;
				te->aux_len = s->chunk_len;
			}
		}
	}
	return true;
}

/* side_decide without the memo: the rule book itself, on the view plain_verdict builds (out of line). */
static __attribute__((noinline)) bool side_decide_general(struct ccmm_machine *m, struct copy_side *s, bool priv,
							 bool poisoned)
{
	struct ccmm_view v = {
		.who = s->a->who,
		.rw = s->a->rw,
		.private_attr = priv,
		.level = s->w.level,
		.kind = CCMM_RANGE_RAM,
		.state = (enum ccmm_page_state)s->pg->state,
		.flags = s->pg->flags,
		.poisoned = poisoned,
	};
	struct ccmm_decision d;

	ccmm_decide(m->plat->mode, m->plat->mmio, &v, &d);
	s->keyid = d.keyid;
	s->why = d.why;
	return !d.rule && d.outcome == CCMM_OK && d.move && !d.poison && !d.handled;
}

/* The decision for one side (its chunk locked): true when it is plain, nothing to record or charge. */
static inline __attribute__((always_inline)) bool side_decide(struct ccmm_machine *m, struct copy_side *s, size_t n, const struct copy_mode *cm)
{
	const struct decide_memo *e;
	bool priv, poisoned;
	uint64_t key;

	s->pg = &s->c->page[(s->pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
	priv = ccmm_pte_is_private(m, s->w.pte);
	poisoned = lines_poisoned(s->pg, s->pa, n);
	if (!cm->fast)
		return side_decide_general(m, s, priv, poisoned);
	key = fast_key_page(s->vconst, priv, s->w.level, s->pg, poisoned);
	if (key != s->vkey) {
		e = plain_verdict_key(m->plat, s->a, priv, s->w.level, s->pg, poisoned, key);
		s->vkey = key;
		s->vplain = e->plain;
		s->keyid = e->keyid;
		s->why = e->why;
	}
	return s->vplain;
}

/*
 * Start loading the metadata of the page after this piece (its line keys;
 * its poison bits, on the next line, are read only when the page has
 * some), so that it arrives while this piece's bytes move.
 */
static void prefetch_next(const struct copy_side *s, size_t n)
{
	uint64_t next = s->pa + n;

	if ((next & (CCMM_PAGE_SIZE - 1)) == 0 && next - s->chunk_base < s->chunk_len) {
		const struct ccmm_page *pg = &s->c->page[(next >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
		const struct ccmm_page_data *d = pg->data;

		if (d)
			__builtin_prefetch(d->line_key);
	}
}

/* The chunk locks a copy holds: at most two, taken in address order, kept while the pieces stay in them. */
struct chunk_pair {
	struct ccmm_chunk *a, *b;
};

static inline void pair_unlock(struct chunk_pair *p)
{
	if (p->a)
		ccmm_lock_release(&p->a->lock);
	if (p->b && p->b != p->a)
		ccmm_lock_release(&p->b->lock);
	p->a = p->b = NULL;
}

static inline void pair_lock(struct chunk_pair *p, struct ccmm_chunk *x, struct ccmm_chunk *y)
{
	if ((p->a == x && p->b == y) || (p->a == y && p->b == x))
		return;
	pair_unlock(p);
	if (x > y) {
		struct ccmm_chunk *t = x;

		x = y;
		y = t;
	}
	ccmm_lock_acquire(&x->lock);
	if (y != x)
		ccmm_lock_acquire(&y->lock);
	p->a = x;
	p->b = y;
}

/*
 * ccmm_page_copy of one piece of @n bytes, a whole page onto a whole page
 * under one key through the inline ccmm_page_copy_same_key first (the
 * fast paths' common case, without a call into phys.c). Returns as
 * ccmm_page_copy. Both chunk locks held.
 */
static inline __attribute__((always_inline)) int piece_copy(struct ccmm_machine *m, struct ccmm_page *dpg, uint64_t dpa,
							    unsigned dkey, struct ccmm_page *spg, uint64_t spa,
							    unsigned skey, size_t n, bool *mismatch)
{
	if (n == CCMM_PAGE_SIZE && !((spa | dpa) & (CCMM_PAGE_SIZE - 1)) &&
	    ccmm_page_copy_same_key(m, dpg, dkey, spg, spa, skey))
		return 0;
	return ccmm_page_copy(m, dpg, dpa, dkey, spg, spa, skey, n, mismatch);
}

/*
 * Whether whole page @pg at @pa has the fast_key @vkey of the piece before
 * on its side, the leaf (PTE, level, attribute) and the side being the
 * same: its state and flags (the key's low 16 bits, as fast_key_page
 * packs them) and whether a line of it is poisoned (bit 21).
 */
static inline bool page_key_same(const struct ccmm_page *pg, uint64_t pa, uint64_t vkey)
{
	uint16_t state_flags;

	memcpy(&state_flags, &pg->state, sizeof(state_flags));
	if (state_flags != (uint16_t)vkey)
		return false;
	/* the same flags: without CCMM_PG_POISONED here, the piece before had no poisoned line either */
	return !(pg->flags & CCMM_PG_POISONED) || lines_poisoned(pg, pa, CCMM_PAGE_SIZE) == (bool)(vkey >> 21 & 1);
}

/*
 * How many whole pages from @addr (page-aligned) continue one side's leaf
 * and chunk of the piece before (at most @max), with the physical address
 * of the first in *@pa and its metadata in *@pg (the others follow it
 * there: one leaf maps contiguous addresses, and one chunk's pages are in
 * address order). 0: none (no leaf kept, or @addr outside it).
 */
static inline __attribute__((always_inline)) size_t side_run(const struct copy_side *s, uint64_t addr, size_t max,
							     uint64_t *pa, struct ccmm_page **pg)
{
	uint64_t in_leaf = addr - s->leaf_va, in_chunk;
	size_t pages;

	if (in_leaf >= s->leaf_size) /* leaf_size 0: none kept */
		return 0;
	*pa = s->leaf_pa + in_leaf;
	in_chunk = *pa - s->chunk_base;
	if (in_chunk >= s->chunk_len)
		return 0;
	pages = (size_t)CCMM_MIN((s->leaf_size - in_leaf) >> CCMM_PAGE_SHIFT, (s->chunk_len - in_chunk) >> CCMM_PAGE_SHIFT);
	*pg = &s->c->page[(*pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
	return CCMM_MIN(pages, max);
}

/*
 * After a plain piece of the fast mode: the whole pages that follow it in
 * both sides' leaves and chunks (side_run) while each page's view has the
 * piece before's fast_key on its side (the same leaf: the same PTE, level
 * and attribute; the page's state, flags and poisoned lines the same), so
 * the piece before's verdicts are theirs. Moved as the loop of copy_plain
 * moves them, with the same counts and results, without its per-piece
 * translation, chunk and verdict lookups; the chunk locks held are those
 * of the piece before. Returns 0 or -errno from ccmm_page_copy; *@done is
 * advanced by the pages moved, and both sides are left at the last one.
 */
static inline __attribute__((always_inline)) int copy_run(struct ccmm_ctx *ctx, struct copy_side *s, struct copy_side *d,
							  size_t len, size_t *done, struct ccmm_result *rr,
							  struct ccmm_result *wr)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t sa = s->a->addr + *done, da = d->a->addr + *done, spa = 0, dpa = 0;
	unsigned skey = s->keyid, dkey = d->keyid;
	struct ccmm_page *spg = NULL, *dpg = NULL;
	size_t pages, i;
	int ret = 0;

	if (len - *done < CCMM_PAGE_SIZE || ((sa | da) & (CCMM_PAGE_SIZE - 1)))
		return 0;
	pages = side_run(s, sa, (len - *done) >> CCMM_PAGE_SHIFT, &spa, &spg);
	pages = side_run(d, da, pages, &dpa, &dpg);
	for (i = 0; i < pages; i++, spa += CCMM_PAGE_SIZE, dpa += CCMM_PAGE_SIZE, spg++, dpg++) {
		bool mismatch = false;

		if (!page_key_same(spg, spa, s->vkey) || !page_key_same(dpg, dpa, d->vkey))
			break;
		/* the next pages' line keys, while this one's bytes move */
		if (i + 1 < pages) {
			if (spg[1].data)
				__builtin_prefetch(spg[1].data->line_key);
			if (dpg[1].data)
				__builtin_prefetch(dpg[1].data->line_key);
		}
		/* whole aligned pages: the inline copy directly (through piece_copy, callgrind counted ~2 000 more instructions a 64 KiB bounce) */
		if (!ccmm_page_copy_same_key(m, dpg, dkey, spg, spa, skey)) {
			ret = ccmm_page_copy(m, dpg, dpa, dkey, spg, spa, skey, CCMM_PAGE_SIZE, &mismatch);
			if (ret)
				break;
		}
		if (dkey == CCMM_KEYID_GUEST)
			lines_rewritten(dpg, dpa, CCMM_PAGE_SIZE);
		if (mismatch) {
			ccmm_count(ctx, CCMM_CTR_scrambled_reads, 1);
			if (rr->outcome < CCMM_SCRAMBLED) {
				rr->outcome = CCMM_SCRAMBLED;
				rr->why = "the bytes were written under another key";
				rr->pa = spa;
				rr->pte = s->w.pte;
				rr->level = s->w.level;
				rr->handled = false;
			}
		}
	}
	if (i) {
		/* both sides at the last page moved */
		size_t moved = i << CCMM_PAGE_SHIFT;

		s->addr = sa + moved - CCMM_PAGE_SIZE;
		s->pa = s->w.pa = spa - CCMM_PAGE_SIZE;
		s->pg = spg - 1;
		d->addr = da + moved - CCMM_PAGE_SIZE;
		d->pa = d->w.pa = dpa - CCMM_PAGE_SIZE;
		d->pg = dpg - 1;
		rr->done += moved;
		wr->done += moved;
		*done += moved;
	}
	return ret;
}

/*
 * The plain pieces of a copy from its start, page to page, under the
 * page-table locks (both sides', in address order) and the pieces' chunk
 * locks. Stops at the first piece that is not plain (nothing done or
 * recorded for it). Returns the bytes copied, or -errno.
 */
static long copy_plain(struct ccmm_ctx *ctx, const struct ccmm_access *src, const struct ccmm_access *dst,
		       struct ccmm_result *rr, struct ccmm_result *wr)
{
	struct ccmm_machine *m = ctx->m;
	struct copy_side s, d;
	struct copy_mode cm = { ccmm_check_fast_path };
	struct ccmm_pgtable *pa = src->pgt, *pb = dst->pgt;
	struct chunk_pair locked = { NULL, NULL };
	unsigned sa, sb = 0;
	size_t done = 0;
	long ret = 0;

	s.a = src;
	s.leaf_size = 0;
	s.c = NULL;
	s.table = NULL;
	s.vconst = fast_key_const(m->plat->mode, m->plat->mmio, src);
	s.vkey = 0; /* never a key */
	d.a = dst;
	d.leaf_size = 0;
	d.c = NULL;
	d.table = NULL;
	d.vconst = fast_key_const(m->plat->mode, m->plat->mmio, dst);
	d.vkey = 0;
	if (pa > pb) {
		struct ccmm_pgtable *t = pa;

		pa = pb;
		pb = t;
	}
	sa = ccmm_pgt_lock_access(pa);
	if (pb != pa)
		sb = ccmm_pgt_lock_access(pb);
	while (done < src->len) {
		size_t n = src->len - done;
		bool mismatch = false;

		s.addr = src->addr + done;
		d.addr = dst->addr + done;
		n = CCMM_MIN(n, CCMM_PAGE_SIZE - (s.addr & (CCMM_PAGE_SIZE - 1)));
		n = CCMM_MIN(n, CCMM_PAGE_SIZE - (d.addr & (CCMM_PAGE_SIZE - 1)));
		if (!side_translate(m, &s, n, &cm) || !side_translate(m, &d, n, &cm))
			break;
		pair_lock(&locked, s.c, d.c);
		if (!side_decide(m, &s, n, &cm) || !side_decide(m, &d, n, &cm))
			break;
		if (cm.fast) {
			prefetch_next(&s, n);
			prefetch_next(&d, n);
			ret = piece_copy(m, d.pg, d.pa, d.keyid, s.pg, s.pa, s.keyid, n, &mismatch);
		} else {
			uint8_t tmp[CCMM_PAGE_SIZE];
			bool dummy = false;

			ret = ccmm_page_rw(m, s.pg, s.pa, tmp, n, false, s.keyid, &mismatch);
			if (!ret)
				ret = ccmm_page_rw(m, d.pg, d.pa, tmp, n, true, d.keyid, &dummy);
		}
		if (ret)
			break;
		if (d.keyid == CCMM_KEYID_GUEST)
			lines_rewritten(d.pg, d.pa, n);
		if (mismatch) {
			ccmm_count(ctx, CCMM_CTR_scrambled_reads, 1);
			if (rr->outcome < CCMM_SCRAMBLED || !done) {
				rr->outcome = CCMM_SCRAMBLED;
				rr->why = "the bytes were written under another key";
				rr->pa = s.pa;
				rr->pte = s.w.pte;
				rr->level = s.w.level;
				rr->handled = false;
			}
		} else if (!done) {
			rr->outcome = CCMM_OK;
			rr->why = s.why;
			rr->pa = s.pa;
			rr->pte = s.w.pte;
			rr->level = s.w.level;
		}
		if (!done) {
			wr->outcome = CCMM_OK;
			wr->why = d.why;
			wr->pa = d.pa;
			wr->pte = d.w.pte;
			wr->level = d.w.level;
		}
		rr->done += n;
		wr->done += n;
		done += n;
		if (cm.fast) {
			ret = copy_run(ctx, &s, &d, src->len, &done, rr, wr);
			if (ret)
				break;
		}
	}
	pair_unlock(&locked);
	if (pb != pa)
		ccmm_pgt_unlock_access(pb, sb);
	ccmm_pgt_unlock_access(pa, sa);
	return ret ? ret : (long)done;
}

/* The result of a copy of one plain piece of @n bytes, for one side (the rest of @r zero). */
static inline void piece_result(struct ccmm_result *r, enum ccmm_outcome o, const char *why, const struct ccmm_walk *w,
				size_t n)
{
	r->outcome = o;
	r->why = why;
	r->pa = w->pa;
	r->pte = w->pte;
	r->level = w->level;
	r->done = n;
}

/*
 * One side of copy_fast: @a's translation from the TLB at the table's
 * generation (left in *@gen for the re-check after the verdict), permitted
 * for @write, and its RAM chunk; NULL when the side needs the general path.
 */
static inline __attribute__((always_inline)) struct ccmm_chunk *fast_side(struct ccmm_machine *m,
									  const struct ccmm_access *a, bool write,
									  uint64_t *gen, struct ccmm_walk *w)
{
	struct ccmm_tlb_entry *te;

	*gen = ccmm_pgt_gen(a->pgt);
	te = tlb_translate(a->pgt, gen, a->addr, w);
	if (!te || !fast_translation_ok(m->plat, a->who, w, write))
		return NULL;
	return ram_chunk(m, te, w->pa);
}

/*
 * A copy of one piece (within a page on both sides), for speed: both
 * translations from the TLB without the page-table locks, as access_fast
 * takes them, both chunks, both verdicts from the memo; when both sides are
 * plain and no change of either table began since, the bytes go from page
 * to page and the results are what copy_plain gives the same piece.
 * Returns 1 when done, 0 when it did nothing (copy_plain and the general
 * path then take the copy), or -errno from ccmm_page_copy.
 */
static __attribute__((noinline)) int copy_fast(struct ccmm_ctx *ctx, const struct ccmm_access *src, const struct ccmm_access *dst,
		     struct ccmm_result *rr, struct ccmm_result *wr)
{
	struct ccmm_machine *m = ctx->m;
	const struct ccmm_platform *p = m->plat;
	size_t n = src->len;
	uint64_t gs, gd;
	struct ccmm_walk ws, wd;
	struct ccmm_chunk *cs, *cd;
	struct chunk_pair locked = { NULL, NULL };
	struct ccmm_page *pgs, *pgd;
	const struct decide_memo *e;
	const char *swhy, *dwhy;
	unsigned skey, dkey;
	bool splain, mismatch = false;
	int ret;

	if (n > CCMM_PAGE_SIZE - (src->addr & (CCMM_PAGE_SIZE - 1)) || n > CCMM_PAGE_SIZE - (dst->addr & (CCMM_PAGE_SIZE - 1)))
		return 0;
	cs = fast_side(m, src, false, &gs, &ws);
	if (!cs)
		return 0;
	cd = fast_side(m, dst, true, &gd, &wd);
	if (!cd)
		return 0;
	pair_lock(&locked, cs, cd);
	pgs = &cs->page[(ws.pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
	pgd = &cd->page[(wd.pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
	/* the source's verdict kept before the destination's (which may take its memo entry) */
	e = plain_verdict(p, src, ccmm_pte_is_private(m, ws.pte), ws.level, pgs, lines_poisoned(pgs, ws.pa, n));
	splain = e->plain;
	skey = e->keyid;
	swhy = e->why;
	e = plain_verdict(p, dst, ccmm_pte_is_private(m, wd.pte), wd.level, pgd, lines_poisoned(pgd, wd.pa, n));
	dkey = e->keyid;
	dwhy = e->why;
	/* no change of either table began since the translations (see access_fast) */
	if (!splain || !e->plain || !ccmm_pgt_gen_is(src->pgt, gs) || !ccmm_pgt_gen_is(dst->pgt, gd)) {
		pair_unlock(&locked);
		return 0;
	}
	ret = piece_copy(m, pgd, wd.pa, dkey, pgs, ws.pa, skey, n, &mismatch);
	if (!ret && dkey == CCMM_KEYID_GUEST)
		lines_rewritten(pgd, wd.pa, n);
	pair_unlock(&locked);
	if (ret)
		return ret;
	if (mismatch)
		ccmm_count(ctx, CCMM_CTR_scrambled_reads, 1);
	piece_result(rr, mismatch ? CCMM_SCRAMBLED : CCMM_OK, mismatch ? "the bytes were written under another key" : swhy,
		     &ws, n);
	piece_result(wr, CCMM_OK, dwhy, &wd, n);
	return 1;
}

static bool outcome_fails(const struct ccmm_result *r)
{
	return (ccmm_outcome_faults(r->outcome) && !r->handled) || r->outcome == CCMM_ABORT || r->outcome == CCMM_BLOCKED;
}

int ccmm_copy(struct ccmm_ctx *ctx, const struct ccmm_access *dst, const struct ccmm_access *src, struct ccmm_result *rr,
	      struct ccmm_result *wr)
{
	size_t done, left;
	uint8_t *buf;
	bool first, ok;
	long plain;
	int ret;

	memset(rr, 0, sizeof(*rr));
	memset(wr, 0, sizeof(*wr));
	ret = access_valid(ctx, src);
	if (!ret)
		ret = access_valid(ctx, dst);
	if (ret)
		return ret;
	if (src->who == CCMM_INIT_DEVICE || dst->who == CCMM_INIT_DEVICE || src->rw != CCMM_READ || dst->rw != CCMM_WRITE ||
	    src->len != dst->len)
		return -EINVAL;

	ccmm_count(ctx, CCMM_CTR_accesses, 1);
	/* one plain piece */
	if (ccmm_check_fast_path) {
		ret = copy_fast(ctx, src, dst, rr, wr);
		if (ret < 0)
			return ret;
		if (ret) {
			ccmm_count(ctx, CCMM_CTR_accesses, 1); /* the write began */
			account_bytes(ctx, CCMM_READ, rr->done);
			account_bytes(ctx, CCMM_WRITE, wr->done);
			return 0;
		}
	}
	/* the plain pieces, page to page */
	plain = copy_plain(ctx, src, dst, rr, wr);
	if (plain < 0)
		return (int)plain;
	done = (size_t)plain;
	first = !done;
	if (done)
		ccmm_count(ctx, CCMM_CTR_accesses, 1); /* the write began */
	if (done == src->len) {
		account_bytes(ctx, CCMM_READ, rr->done);
		account_bytes(ctx, CCMM_WRITE, wr->done);
		return 0;
	}

	/* the rest, from the first piece that is not plain: a read into a buffer, then a write */
	left = src->len - done;
	buf = malloc(left);
	if (!buf)
		return -ENOMEM;
	{
		struct ccmm_access ra = *src, wa = *dst;

		ra.addr += done;
		ra.len = left;
		ra.buf = buf;
		wa.addr += done;
		wa.len = left;
		wa.buf = buf;
		ok = access_pieces(ctx, &ra, rr, first);
		if (ok)
			account_bytes(ctx, CCMM_READ, rr->done);
		if (ok && !outcome_fails(rr)) {
			if (!done)
				ccmm_count(ctx, CCMM_CTR_accesses, 1);
			if (access_pieces(ctx, &wa, wr, first))
				account_bytes(ctx, CCMM_WRITE, wr->done);
		} else if (done) {
			account_bytes(ctx, CCMM_WRITE, wr->done);
		}
	}
	free(buf);
	return 0;
}

int ccmm_cpu_read(struct ccmm_ctx *ctx, enum ccmm_initiator who, struct ccmm_pgtable *pgt, uint64_t va, void *buf,
		  size_t len, struct ccmm_result *r)
{
	struct ccmm_access a = { who, CCMM_READ, va, len, pgt, -1, buf };

	return ccmm_access(ctx, &a, r);
}

int ccmm_cpu_write(struct ccmm_ctx *ctx, enum ccmm_initiator who, struct ccmm_pgtable *pgt, uint64_t va,
		   const void *buf, size_t len, struct ccmm_result *r)
{
	struct ccmm_access a = { who, CCMM_WRITE, va, len, pgt, -1, (void *)buf };

	return ccmm_access(ctx, &a, r);
}

int ccmm_dma_access(struct ccmm_ctx *ctx, int dev, struct ccmm_pgtable *iommu, enum ccmm_rw rw, uint64_t bus,
		    void *buf, size_t len, struct ccmm_result *r)
{
	struct ccmm_access a = { CCMM_INIT_DEVICE, rw, bus, len, iommu, dev, buf };

	return ccmm_access(ctx, &a, r);
}

void ccmm_result_merge(struct ccmm_result *acc, const struct ccmm_result *part, bool first)
{
	unsigned violations = first ? 0 : acc->violations;
	size_t done = first ? 0 : acc->done;

	if (first || part->outcome > acc->outcome)
		*acc = *part;
	acc->violations = violations + part->violations;
	acc->done = done + part->done;
}
