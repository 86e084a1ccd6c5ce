// SPDX-License-Identifier: MIT
/*
 * The buddy allocator: per zone (one per RAM range), a free bitmap per
 * order on an absolute grid aligned to 2^CCMM_MAX_ORDER pages, so that an
 * order-k block is always 2^k-page aligned, as the kernel's are. Blocks
 * split on allocation and merge with their buddy on free.
 */
#include "mm/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GRID (1ULL << CCMM_MAX_ORDER)

static uint64_t grid_base(const struct ccmm_zone *z)
{
	return CCMM_ALIGN_DOWN(z->base_pfn, GRID);
}

static inline bool test_bit(const uint64_t *bm, uint64_t i)
{
	return (bm[i >> 6] >> (i & 63)) & 1;
}

static inline void set_bit(uint64_t *bm, uint64_t i)
{
	bm[i >> 6] |= 1ULL << (i & 63);
}

static inline void clear_bit(uint64_t *bm, uint64_t i)
{
	bm[i >> 6] &= ~(1ULL << (i & 63));
}

static uint64_t nbits(const struct ccmm_zone *z, unsigned order)
{
	return ((z->base_pfn + z->nr_pages - grid_base(z)) >> order) + 1;
}

static void put_block(struct ccmm_zone *z, uint64_t idx, unsigned order)
{
	set_bit(z->bitmap[order], idx);
	z->nr_free[order]++;
}

int _ccmm_zone_init(struct ccmm_zone *z, int node, uint64_t base_pfn, uint64_t nr_pages)
{
	uint64_t pfn, end = base_pfn + nr_pages;

	memset(z, 0, sizeof(*z));
	pthread_mutex_init(&z->lock, NULL);
	z->node = node;
	z->base_pfn = base_pfn;
	z->nr_pages = nr_pages;
	for (unsigned k = 0; k <= CCMM_MAX_ORDER; k++) {
		/* calloc of a large bitmap is mmap-backed: untouched words cost nothing */
		z->bitmap[k] = calloc((nbits(z, k) + 63) / 64, sizeof(uint64_t));
		if (!z->bitmap[k]) {
			_ccmm_zone_fini(z);
			return -ENOMEM;
		}
	}
	for (pfn = base_pfn; pfn < end;) {
		unsigned k = CCMM_MAX_ORDER;

		while (k && (!CCMM_IS_ALIGNED(pfn, 1ULL << k) || pfn + (1ULL << k) > end))
			k--;
		if (k == CCMM_MAX_ORDER && !(((pfn - grid_base(z)) >> k) & 63) && end - pfn >= (GRID << 6)) {
			/* 64 whole top-order blocks: a bitmap word at once (setup does not walk a large zone block by block) */
			uint64_t words = (end - pfn) / (GRID << 6);

			memset(&z->bitmap[k][((pfn - grid_base(z)) >> k) >> 6], 0xff, words * sizeof(uint64_t));
			z->nr_free[k] += words * 64;
			pfn += words * (GRID << 6);
			continue;
		}
		put_block(z, (pfn - grid_base(z)) >> k, k);
		pfn += 1ULL << k;
	}
	z->free_pages = nr_pages;
	return 0;
}

void _ccmm_zone_fini(struct ccmm_zone *z)
{
	for (unsigned k = 0; k <= CCMM_MAX_ORDER; k++) {
		free(z->bitmap[k]);
		z->bitmap[k] = NULL;
	}
	pthread_mutex_destroy(&z->lock);
}

/* Find and take a free block of exactly @order; UINT64_MAX if none. */
static uint64_t take_block(struct ccmm_zone *z, unsigned order)
{
	uint64_t words = (nbits(z, order) + 63) / 64;
	uint64_t *bm = z->bitmap[order];

	if (!z->nr_free[order])
		return UINT64_MAX;
	for (uint64_t n = 0; n < words; n++) {
		uint64_t w = (z->cursor[order] + n) % words;

		if (bm[w]) {
			uint64_t idx = w * 64 + (uint64_t)__builtin_ctzll(bm[w]);

			clear_bit(bm, idx);
			z->nr_free[order]--;
			z->cursor[order] = w;
			return idx;
		}
	}
	return UINT64_MAX;
}

/* Allocate 2^order pages from @z; returns the pfn or UINT64_MAX. Zone lock held. */
static uint64_t zone_alloc(struct ccmm_zone *z, unsigned order)
{
	unsigned k;
	uint64_t idx = UINT64_MAX;

	for (k = order; k <= CCMM_MAX_ORDER; k++) {
		idx = take_block(z, k);
		if (idx != UINT64_MAX)
			break;
	}
	if (idx == UINT64_MAX)
		return UINT64_MAX;
	while (k > order) {
		k--;
		idx <<= 1;
		put_block(z, idx | 1, k); /* the upper half goes back */
	}
	z->free_pages -= 1ULL << order;
	return grid_base(z) + (idx << order);
}

static bool in_zone(const struct ccmm_zone *z, uint64_t pfn, unsigned order)
{
	return pfn >= z->base_pfn && pfn + (1ULL << order) <= z->base_pfn + z->nr_pages;
}

/* Is any part of [pfn, pfn + 2^order) already free? (double free) */
static bool overlaps_free(struct ccmm_zone *z, uint64_t pfn, unsigned order)
{
	uint64_t rel = pfn - grid_base(z);

	/* a free block at this order or above containing it */
	for (unsigned k = order; k <= CCMM_MAX_ORDER; k++)
		if (test_bit(z->bitmap[k], rel >> k))
			return true;
	/* a free block below this order inside it */
	for (unsigned k = 0; k < order; k++)
		for (uint64_t i = rel >> k; i < (rel + (1ULL << order)) >> k; i++)
			if (test_bit(z->bitmap[k], i))
				return true;
	return false;
}

static void zone_free(struct ccmm_zone *z, uint64_t pfn, unsigned order)
{
	uint64_t idx = (pfn - grid_base(z)) >> order;
	unsigned k = order;

	z->free_pages += 1ULL << order;
	while (k < CCMM_MAX_ORDER) {
		uint64_t buddy = idx ^ 1;
		uint64_t bpfn = grid_base(z) + (buddy << k);

		if (!in_zone(z, bpfn, k) || !test_bit(z->bitmap[k], buddy))
			break;
		clear_bit(z->bitmap[k], buddy);
		z->nr_free[k]--;
		idx >>= 1;
		k++;
	}
	put_block(z, idx, k);
}

static struct ccmm_zone *zone_of(struct ccmm_machine *m, uint64_t pfn)
{
	struct ccmm_kernel *k = ccmm_kernel(m);

	for (size_t i = 0; i < k->nr_zones; i++)
		if (pfn >= k->zones[i].base_pfn && pfn < k->zones[i].base_pfn + k->zones[i].nr_pages)
			return &k->zones[i];
	return NULL;
}

static void mark_head(struct ccmm_machine *m, uint64_t pa, unsigned order, bool alloc)
{
	struct ccmm_page *pg = ccmm_phys_lock(m, pa);

	if (!pg)
		return;
	if (alloc) {
		pg->flags |= CCMM_PG_ALLOCATED;
		pg->order = (uint8_t)order;
	} else {
		pg->flags &= (uint8_t)~CCMM_PG_ALLOCATED;
		pg->order = 0;
	}
	ccmm_phys_unlock(m, pa);
}

int ccmm_alloc_pages(struct ccmm_ctx *ctx, int node, unsigned order, unsigned gfp, uint64_t *pa)
{
	struct ccmm_machine *m = ctx->m;
	struct ccmm_kernel *k = ccmm_kernel(m);
	int order_nodes[CCMM_MAX_NODES], n = 0;
	uint64_t pfn = UINT64_MAX;

	if (order > CCMM_MAX_ORDER || node >= (int)m->plat->nr_nodes || (node < 0 && (gfp & CCMM_GFP_THISNODE)))
		return -EINVAL;
	/* the preferred node, then the others nearest first */
	if (node >= 0)
		order_nodes[n++] = node;
	for (;;) {
		int best = -1;

		for (int c = 0; c < (int)m->plat->nr_nodes; c++) {
			bool used = false;

			for (int i = 0; i < n; i++)
				used |= order_nodes[i] == c;
			if (used)
				continue;
			if (best < 0 || (node >= 0 && m->plat->distance[node][c] < m->plat->distance[node][best]))
				best = c;
		}
		if (best < 0 || ((gfp & CCMM_GFP_THISNODE) && n))
			break;
		order_nodes[n++] = best;
	}
	for (int i = 0; i < n && pfn == UINT64_MAX; i++) {
		for (size_t zi = 0; zi < k->nr_zones && pfn == UINT64_MAX; zi++) {
			struct ccmm_zone *z = &k->zones[zi];

			if (z->node != order_nodes[i] || k->node_offline[z->node])
				continue;
			if ((gfp & CCMM_GFP_DMA32) && z->base_pfn + z->nr_pages > (4 * CCMM_GiB) >> CCMM_PAGE_SHIFT)
				continue;
			pthread_mutex_lock(&z->lock);
			pfn = zone_alloc(z, order);
			pthread_mutex_unlock(&z->lock);
		}
	}
	if (pfn == UINT64_MAX)
		return -ENOMEM;
	mark_head(m, pfn << CCMM_PAGE_SHIFT, order, true);
	if (gfp & CCMM_GFP_ZERO) {
		for (uint64_t i = 0; i < (1ULL << order); i++) {
			uint64_t a = (pfn + i) << CCMM_PAGE_SHIFT;
			struct ccmm_page *pg = ccmm_phys_page(m, a, false);

			if (pg && pg->data) {
				pg = ccmm_phys_lock(m, a);
				ccmm_phys_discard(m, a, pg);
				ccmm_phys_unlock(m, a);
			}
		}
	}
	ccmm_count(ctx, CCMM_CTR_pages_allocated, 1ULL << order);
	*pa = pfn << CCMM_PAGE_SHIFT;
	return 0;
}

int ccmm_free_pages(struct ccmm_ctx *ctx, uint64_t pa, unsigned order)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t pfn = pa >> CCMM_PAGE_SHIFT;
	struct ccmm_zone *z;
	struct ccmm_page head;
	uint64_t leaked = 0;

	if (order > CCMM_MAX_ORDER || !CCMM_IS_ALIGNED(pa, CCMM_PAGE_SIZE << order))
		return -EINVAL;
	z = zone_of(m, pfn);
	if (!z || !in_zone(z, pfn, order) || ccmm_phys_peek(m, pa, &head) || !(head.flags & CCMM_PG_ALLOCATED) ||
	    head.order != order)
		return -EINVAL;
	for (uint64_t i = 0; i < (1ULL << order); i++) {
		struct ccmm_page pg;

		if (!ccmm_phys_peek(m, pa + (i << CCMM_PAGE_SHIFT), &pg) && (pg.flags & CCMM_PG_LEAKED))
			leaked++;
	}
	if (leaked && !ccmm_kernel(m)->knobs.no_leak_on_error) {
		/* the kernel leaks pages whose encryption state it cannot know */
		pthread_mutex_lock(&z->lock);
		z->leaked_pages += 1ULL << order;
		pthread_mutex_unlock(&z->lock);
		mark_head(m, pa, order, false);
		return -EBUSY;
	}
	if (leaked) {
		ccmm_violation(ctx, &ccmm_rule_conversion_failed, pa,
			       "%" PRIu64 " page(s) at 0x%" PRIx64 " whose encryption change failed half-way go back to the "
			       "page allocator; their state is unknown and the next user may get private and shared mixed up",
			       leaked, pa);
		for (uint64_t i = 0; i < (1ULL << order); i++) {
			struct ccmm_page *pg = ccmm_phys_lock(m, pa + (i << CCMM_PAGE_SHIFT));

			if (pg) {
				pg->flags &= (uint8_t)~CCMM_PG_LEAKED;
				ccmm_phys_unlock(m, pa + (i << CCMM_PAGE_SHIFT));
			}
		}
	}
	/*
	 * Unmark the block while it is still ours: once it is on the free
	 * lists another thread may allocate it and mark it, and a late unmark
	 * would wipe that thread's mark (its free then fails).
	 */
	mark_head(m, pa, order, false);
	pthread_mutex_lock(&z->lock);
	if (overlaps_free(z, pfn, order)) {
		pthread_mutex_unlock(&z->lock);
		return -EINVAL;
	}
	zone_free(z, pfn, order);
	pthread_mutex_unlock(&z->lock);
	ccmm_count(ctx, CCMM_CTR_pages_freed, 1ULL << order);
	return 0;
}

uint64_t ccmm_node_free_pages(struct ccmm_machine *m, int node)
{
	uint64_t n = 0;

	for (size_t i = 0; i < ccmm_kernel(m)->nr_zones; i++) {
		struct ccmm_zone *z = &ccmm_kernel(m)->zones[i];

		if (node >= 0 && z->node != node)
			continue;
		pthread_mutex_lock(&z->lock);
		n += z->free_pages;
		pthread_mutex_unlock(&z->lock);
	}
	return n;
}

/* ---- boot-time reservations (memblock) ------------------------------ */

/* The order of the free block containing @pfn, or -1 when @pfn is not free. Zone lock held. */
static int free_order_of(struct ccmm_zone *z, uint64_t pfn)
{
	uint64_t rel = pfn - grid_base(z);

	for (unsigned k = 0; k <= CCMM_MAX_ORDER; k++)
		if (test_bit(z->bitmap[k], rel >> k))
			return (int)k;
	return -1;
}

/* Is every page of [pfn, pfn + n) free? Zone lock held. */
static bool range_free(struct ccmm_zone *z, uint64_t pfn, uint64_t n)
{
	for (uint64_t p = pfn; p < pfn + n;) {
		int k = free_order_of(z, p);

		if (k < 0)
			return false;
		p = CCMM_ALIGN_DOWN(p - grid_base(z), 1ULL << k) + grid_base(z) + (1ULL << k);
	}
	return true;
}

/* Give [pfn, end) back as maximal aligned free blocks (no buddy of them is free). Zone lock held. */
static void put_range(struct ccmm_zone *z, uint64_t pfn, uint64_t end)
{
	while (pfn < end) {
		unsigned k = CCMM_MAX_ORDER;

		while (k && (!CCMM_IS_ALIGNED(pfn - grid_base(z), 1ULL << k) || pfn + (1ULL << k) > end))
			k--;
		put_block(z, (pfn - grid_base(z)) >> k, k);
		pfn += 1ULL << k;
	}
}

/* Take the free range [pfn, pfn + n) out of the free lists. Zone lock held, range free. */
static void take_range(struct ccmm_zone *z, uint64_t pfn, uint64_t n)
{
	uint64_t end = pfn + n;

	for (uint64_t p = pfn; p < end;) {
		int k = free_order_of(z, p);
		uint64_t idx = (p - grid_base(z)) >> k;
		uint64_t b = grid_base(z) + (idx << k), bend = b + (1ULL << k);

		clear_bit(z->bitmap[k], idx);
		z->nr_free[k]--;
		put_range(z, b, p);         /* the part below the range */
		if (end < bend)
			put_range(z, end, bend); /* and above it */
		p = CCMM_MIN(bend, end);
	}
	z->free_pages -= n;
}

int ccmm_memblock_alloc(struct ccmm_machine *m, uint64_t size, uint64_t align, uint64_t limit, bool top_down,
			uint64_t *pa)
{
	struct ccmm_kernel *k = ccmm_kernel(m);
	uint64_t n = size >> CCMM_PAGE_SHIFT, apages;

	if (!size || !CCMM_IS_ALIGNED(size, CCMM_PAGE_SIZE) || align < CCMM_PAGE_SIZE || (align & (align - 1)))
		return -EINVAL;
	apages = align >> CCMM_PAGE_SHIFT;
	for (size_t i = 0; i < k->nr_zones; i++) {
		struct ccmm_zone *z = &k->zones[top_down ? k->nr_zones - 1 - i : i];
		uint64_t lo = CCMM_ALIGN_UP(z->base_pfn, apages), hi = z->base_pfn + z->nr_pages;

		if (limit)
			hi = CCMM_MIN(hi, limit >> CCMM_PAGE_SHIFT);
		if (hi < lo + n)
			continue;
		pthread_mutex_lock(&z->lock);
		for (uint64_t c = top_down ? CCMM_ALIGN_DOWN(hi - n, apages) : lo;
		     c >= lo && c + n <= hi; c = top_down ? c - apages : c + apages) {
			if (range_free(z, c, n)) {
				take_range(z, c, n);
				pthread_mutex_unlock(&z->lock);
				*pa = c << CCMM_PAGE_SHIFT;
				return 0;
			}
			if (top_down && c < apages)
				break;
		}
		pthread_mutex_unlock(&z->lock);
	}
	return -ENOMEM;
}
