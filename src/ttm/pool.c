// SPDX-License-Identifier: MIT
/*
 * TTM page pools (drivers/gpu/drm/ttm/ttm_pool.c, 6.12). Free blocks of
 * 2^order pages wait in pool types, one per caching mode and order
 * (0 .. MAX_PAGE_ORDER); ttm_pool_select_type decides which, if any:
 *
 *   use_dma_alloc          the device's own pool type, every caching: the
 *                          blocks come from dma_alloc_attrs, which
 *                          decrypts them where the GPU's DMA must be
 *                          unencrypted and gives their DMA address --
 *                          both kept with the block, so reuse costs neither
 *   x86, WC or UC          the device's pool type when the device has a
 *                          NUMA node, else the global WC/UC pools (dma32
 *                          ones for use_dma32): set_pages_array_wc/uc is
 *                          what pooling saves
 *   x86, cached            not pooled: freed at once
 *   POWER without dma_alloc nothing pooled, no caching flipped
 *
 * ttm_pool_alloc takes the highest orders that fit the tt (a block of
 * 2^min(10, floor(log2 pages)) pages, then smaller), from the pool type
 * first, else new (the page allocator on the device's node, __GFP_ZERO for
 * TTM_TT_FLAG_ZERO_ALLOC, or dma_alloc_attrs), and flips each run of new
 * blocks to the tt's caching. Blocks given back are cleared and kept by
 * their pool type; then, while the machine's pools hold more than
 * page_pool_size pages (half the RAM unless set), ttm_pool_shrink frees
 * one block from the next pool type in turn -- the same step the shrinker
 * (ttm_pool_shrinker_scan) repeats under memory pressure. A freed block is
 * flipped back to WB and goes to dma_free_attrs (which encrypts it again)
 * or the page allocator.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

static const uint8_t zero_page[CCMM_PAGE_SIZE];

/* ---- pool types ------------------------------------------------------------------- */

static void type_init(struct ttm_state *st, struct ttm_pool_type *pt, struct ccmm_ttm_device *tdev,
		      enum ccmm_cache_mode caching, unsigned order, bool dma32)
{
	memset(pt, 0, sizeof(*pt));
	pt->tdev = tdev;
	pt->caching = caching;
	pt->order = order;
	pt->dma32 = dma32;
	pt->used = true;
	/* ttm_pool_type_init: onto the tail of the shrinker list */
	pthread_mutex_lock(&st->pool_lock);
	if (!st->shrink_head) {
		st->shrink_head = pt;
	} else {
		struct ttm_pool_type *t = st->shrink_head;

		while (t->shrink_next)
			t = t->shrink_next;
		t->shrink_next = pt;
	}
	pthread_mutex_unlock(&st->pool_lock);
}

/* Off the shrinker list; pool lock held. */
static void type_unlink(struct ttm_state *st, struct ttm_pool_type *pt)
{
	for (struct ttm_pool_type **pp = &st->shrink_head; *pp; pp = &(*pp)->shrink_next) {
		if (*pp == pt) {
			*pp = pt->shrink_next;
			pt->shrink_next = NULL;
			return;
		}
	}
}

bool _ccmm_ttm_x86(const struct ccmm_machine *m)
{
	if (m->plat->mode == CCMM_CC_PSERIES_SVM)
		return false;
	for (size_t i = 0; i < m->plat->nr_iommus; i++)
		if (m->plat->iommus[i].kind == CCMM_IOMMU_PSERIES_TCE)
			return false;
	return true;
}

/* ttm_pool_select_type */
static struct ttm_pool_type *select_type(struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, unsigned order)
{
	struct ttm_pool *pool = &tdev->pool;
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);

	if (pool->use_dma_alloc)
		return &pool->caching[caching][order];
	if (!_ccmm_ttm_x86(tdev->m) || caching == CCMM_CACHE_WB)
		return NULL;
	if (pool->nid >= 0)
		return &pool->caching[caching][order];
	if (caching == CCMM_CACHE_WC)
		return pool->use_dma32 ? &st->global_dma32_wc[order] : &st->global_wc[order];
	return pool->use_dma32 ? &st->global_dma32_uc[order] : &st->global_uc[order];
}

void _ccmm_ttm_pool_globals_init(struct ttm_state *st)
{
	for (unsigned o = 0; o < CCMM_TTM_POOL_ORDERS; o++) {
		type_init(st, &st->global_wc[o], NULL, CCMM_CACHE_WC, o, false);
		type_init(st, &st->global_uc[o], NULL, CCMM_CACHE_UC, o, false);
		type_init(st, &st->global_dma32_wc[o], NULL, CCMM_CACHE_WC, o, true);
		type_init(st, &st->global_dma32_uc[o], NULL, CCMM_CACHE_UC, o, true);
	}
}

void _ccmm_ttm_pool_init(struct ccmm_ttm_device *tdev)
{
	struct ttm_pool *pool = &tdev->pool;
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);
	int node = tdev->m->plat->devices[tdev->p.dev].node;

	memset(pool, 0, sizeof(*pool));
	pool->nid = node; /* dev_to_node(): NUMA_NO_NODE when the platform gives none */
	pool->use_dma_alloc = tdev->p.use_dma_alloc;
	pool->use_dma32 = tdev->p.use_dma32;
	/* ttm_pool_init: only the pool types ttm_pool_select_type would pick */
	for (int c = 0; c < CCMM_CACHE_NR; c++)
		for (unsigned o = 0; o < CCMM_TTM_POOL_ORDERS; o++)
			if (select_type(tdev, (enum ccmm_cache_mode)c, o) == &pool->caching[c][o])
				type_init(st, &pool->caching[c][o], tdev, (enum ccmm_cache_mode)c, o, false);
}

/* ---- blocks ------------------------------------------------------------------------- */

static uint64_t va_of(uint64_t pa)
{
	return ccmm_phys_to_virt(pa);
}

/* clear_page of every page of a block through the direct map, whose attributes now match the pages. */
static void clear_block(struct ccmm_ctx *ctx, uint64_t pa, unsigned order)
{
	for (uint64_t i = 0; i < (1ULL << order); i++) {
		struct ccmm_result r;

		ccmm_kernel_access(ctx, CCMM_WRITE, va_of(pa + (i << CCMM_PAGE_SHIFT)), (void *)zero_page, CCMM_PAGE_SIZE, &r);
	}
}

/* ttm_pool_alloc_page: a new block of 2^@order pages; 0 or -ENOMEM. */
static int alloc_block(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, unsigned order, bool zero,
		       struct ttm_pool_block *b)
{
	struct ttm_pool *pool = &tdev->pool;
	uint64_t va;

	b->dma = CCMM_DMA_MAPPING_ERROR;
	if (!pool->use_dma_alloc) {
		unsigned gfp = (zero ? CCMM_GFP_ZERO : 0) | (pool->use_dma32 ? CCMM_GFP_DMA32 : 0);

		/* higher orders: __GFP_THISNODE | __GFP_NORETRY, no fallback to other nodes */
		if (order && pool->nid >= 0)
			gfp |= CCMM_GFP_THISNODE;
		return ccmm_alloc_pages(ctx, pool->nid, order, gfp, &b->pa);
	}
	/* dma_alloc_attrs (DMA_ATTR_FORCE_CONTIGUOUS): zeroed, converted where DMA must be unencrypted */
	if (ccmm_dma_alloc_coherent(ctx, tdev->dma, CCMM_PAGE_SIZE << order, &b->dma, &va))
		return -ENOMEM;
	b->pa = ccmm_virt_to_phys(va);
	return 0;
}

/* Restore WB (x86), then dma_free_attrs or the page allocator: ttm_pool_free_page. */
static void free_block(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching,
		       unsigned order, const struct ttm_pool_block *b)
{
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);

	if (caching != CCMM_CACHE_WB && _ccmm_ttm_x86(tdev->m)) {
		ccmm_set_memory_cache(ctx, va_of(b->pa), 1ULL << order, CCMM_CACHE_WB);
		pthread_mutex_lock(&st->pool_lock);
		tdev->pool.restores++;
		pthread_mutex_unlock(&st->pool_lock);
	}
	if (tdev->pool.use_dma_alloc)
		ccmm_dma_free_coherent(ctx, tdev->dma, CCMM_PAGE_SIZE << order, va_of(b->pa), b->dma);
	else
		ccmm_free_pages(ctx, b->pa, order);
}

/* set_pages_array_wc / _uc of the new blocks in tt pages [@from, @to): one flip per block. */
static int apply_caching(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, struct ccmm_ttm_tt *tt, size_t from,
			 size_t to)
{
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);

	if (tt->caching == CCMM_CACHE_WB || !_ccmm_ttm_x86(tdev->m))
		return 0;
	for (size_t i = from; i < to; i += 1ULL << tt->order[i]) {
		int ret = ccmm_set_memory_cache(ctx, va_of(tt->pages[i]), 1ULL << tt->order[i], tt->caching);

		if (ret)
			return ret;
		pthread_mutex_lock(&st->pool_lock);
		tdev->pool.conversions++;
		pthread_mutex_unlock(&st->pool_lock);
	}
	return 0;
}

/* ttm_pool_type_take: a block, or false. */
static bool type_take(struct ttm_state *st, struct ttm_pool_type *pt, struct ttm_pool_block *b)
{
	bool got = false;

	pthread_mutex_lock(&st->pool_lock);
	if (pt->nr) {
		*b = pt->b[--pt->nr];
		st->allocated_pages -= 1ULL << pt->order;
		got = true;
	}
	pthread_mutex_unlock(&st->pool_lock);
	return got;
}

/* ttm_pool_type_give: clear the block, keep it. false only when the list cannot grow (the block is freed then). */
static bool type_give(struct ccmm_ctx *ctx, struct ttm_state *st, struct ttm_pool_type *pt,
		      const struct ttm_pool_block *b)
{
	bool kept = false;

	clear_block(ctx, b->pa, pt->order);
	pthread_mutex_lock(&st->pool_lock);
	if (!ccmm_grow((void **)&pt->b, &pt->cap, pt->nr + 1, sizeof(*pt->b))) {
		pt->b[pt->nr++] = *b;
		st->allocated_pages += 1ULL << pt->order;
		kept = true;
	}
	pthread_mutex_unlock(&st->pool_lock);
	return kept;
}

/* ttm_pool_map + ttm_pool_page_allocated: record the block in the tt at @*idx and give it its DMA addresses. */
static int place_block(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, struct ccmm_ttm_tt *tt, unsigned order,
		       const struct ttm_pool_block *b, size_t *idx)
{
	uint64_t dma = b->dma;
	size_t n = 1ULL << order;

	if (!tdev->pool.use_dma_alloc) {
		ccmm_dma_map_page(ctx, tdev->dma, b->pa, CCMM_PAGE_SIZE * n, CCMM_DMA_BIDIRECTIONAL, 0, &dma);
		if (ccmm_dma_mapping_error(tdev->dma, dma))
			return -EFAULT;
		if (ccmm_dma_need_sync(tdev->dma, dma))
			tt->bounced = true; /* a long-lived bounce: TTM never syncs */
	}
	tt->order[*idx] = (uint8_t)order;
	for (size_t i = 0; i < n; i++) {
		tt->pages[*idx + i] = b->pa + (i << CCMM_PAGE_SHIFT);
		tt->dma_address[*idx + i] = dma + (i << CCMM_PAGE_SHIFT);
		if (i)
			tt->order[*idx + i] = 0xff;
	}
	*idx += n;
	return 0;
}

/* ttm_pool_unmap of the block at tt page @i (only mapped pages: no use_dma_alloc). */
static void unmap_block(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, struct ccmm_ttm_tt *tt, size_t i)
{
	if (!tdev->pool.use_dma_alloc)
		ccmm_dma_unmap_page(ctx, tdev->dma, tt->dma_address[i], CCMM_PAGE_SIZE << tt->order[i],
				    CCMM_DMA_BIDIRECTIONAL, 0);
}

/* ttm_pool_free_range: blocks of tt pages [@from, @to), all of @caching, to their pool types or freed. */
static void free_range(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, struct ccmm_ttm_tt *tt,
		       enum ccmm_cache_mode caching, size_t from, size_t to)
{
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);

	for (size_t i = from; i < to;) {
		unsigned order = tt->order[i];
		struct ttm_pool_block b = { tt->pages[i], CCMM_DMA_MAPPING_ERROR };
		struct ttm_pool_type *pt;

		if (tdev->pool.use_dma_alloc)
			b.dma = tt->dma_address[i];
		unmap_block(ctx, tdev, tt, i);
		pt = select_type(tdev, caching, order);
		if (!pt || !type_give(ctx, st, pt, &b))
			free_block(ctx, tdev, caching, order, &b);
		i += 1ULL << order;
	}
}

/* ttm_pool_shrink: one block from the first pool type of the shrinker list, which goes to its tail. Pages freed. */
static unsigned pool_shrink_one(struct ccmm_ctx *ctx, struct ttm_state *st)
{
	struct ttm_pool_type *pt, *t;
	struct ttm_pool_block b;
	bool got;

	pthread_mutex_lock(&st->pool_lock);
	pt = st->shrink_head;
	if (!pt) {
		pthread_mutex_unlock(&st->pool_lock);
		return 0;
	}
	if (pt->shrink_next) {
		st->shrink_head = pt->shrink_next;
		for (t = st->shrink_head; t->shrink_next; t = t->shrink_next)
			;
		t->shrink_next = pt;
		pt->shrink_next = NULL;
	}
	got = pt->nr > 0;
	if (got) {
		b = pt->b[--pt->nr];
		st->allocated_pages -= 1ULL << pt->order;
	}
	pthread_mutex_unlock(&st->pool_lock);
	if (!got)
		return 0;
	if (pt->tdev) {
		free_block(ctx, pt->tdev, pt->caching, pt->order, &b);
	} else {
		/* a global pool's block: never from dma_alloc; back to WB and the page allocator */
		ccmm_set_memory_cache(ctx, va_of(b.pa), 1ULL << pt->order, CCMM_CACHE_WB);
		ccmm_free_pages(ctx, b.pa, pt->order);
	}
	return 1u << pt->order;
}

/* ---- ttm_pool_alloc / ttm_pool_free ------------------------------------------------------ */

static unsigned fls_pages(size_t n)
{
	unsigned o = 0;

	while ((n >> (o + 1)) != 0)
		o++;
	return o;
}

int _ccmm_ttm_pool_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, struct ccmm_ttm_tt *tt)
{
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);
	bool zero = tt->page_flags & CCMM_TTM_TT_FLAG_ZERO_ALLOC;
	size_t remaining = tt->num_pages, idx = 0, caching_from = 0;
	unsigned order = CCMM_MIN((unsigned)CCMM_MAX_ORDER, fls_pages(remaining));
	int ret = 0;

	tt->bounced = false;
	while (remaining) {
		struct ttm_pool_type *pt = select_type(tdev, tt->caching, order);
		struct ttm_pool_block b;

		/* blocks already flipped to the tt's caching, from its pool type */
		if (pt && type_take(st, pt, &b)) {
			ret = apply_caching(ctx, tdev, tt, caching_from, idx); /* the run of new blocks before them */
			if (ret) {
				free_block(ctx, tdev, tt->caching, order, &b);
				goto error;
			}
			do {
				pthread_mutex_lock(&st->pool_lock);
				tdev->pool.hits++;
				pthread_mutex_unlock(&st->pool_lock);
				ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_pool_hits), 1);
				ret = place_block(ctx, tdev, tt, order, &b, &idx);
				if (ret) {
					free_block(ctx, tdev, tt->caching, order, &b);
					goto error;
				}
				remaining -= 1ULL << order;
				caching_from = idx;
			} while (remaining >= (1ULL << order) && type_take(st, pt, &b));
		}
		/* new blocks, cached until the run is flipped */
		while (remaining >= (1ULL << order) && !alloc_block(ctx, tdev, order, zero, &b)) {
			pthread_mutex_lock(&st->pool_lock);
			tdev->pool.misses++;
			pthread_mutex_unlock(&st->pool_lock);
			ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_pool_misses), 1);
			ret = place_block(ctx, tdev, tt, order, &b, &idx);
			if (ret) {
				free_block(ctx, tdev, CCMM_CACHE_WB, order, &b);
				goto error;
			}
			remaining -= 1ULL << order;
		}
		if (remaining >= (1ULL << order)) {
			/* no block of this order: try smaller ones (high orders are __GFP_NORETRY) */
			if (order) {
				order--;
				continue;
			}
			ret = -ENOMEM;
			goto error;
		}
		order = CCMM_MIN(order, remaining ? fls_pages(remaining) : 0);
	}
	ret = apply_caching(ctx, tdev, tt, caching_from, idx);
	if (ret)
		goto error;
	return 0;
error:
	/* what came from the pools (or was flipped) goes back with the tt's caching, the new run as cached */
	free_range(ctx, tdev, tt, tt->caching, 0, caching_from);
	free_range(ctx, tdev, tt, CCMM_CACHE_WB, caching_from, idx);
	tt->bounced = false;
	return ret;
}

void _ccmm_ttm_pool_free(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, struct ccmm_ttm_tt *tt)
{
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);

	free_range(ctx, tdev, tt, tt->caching, 0, tt->num_pages);
	tt->bounced = false;
	for (;;) {
		bool over;

		pthread_mutex_lock(&st->pool_lock);
		over = st->allocated_pages > st->page_pool_size;
		pthread_mutex_unlock(&st->pool_lock);
		if (!over || !pool_shrink_one(ctx, st))
			break;
	}
}

/* ---- the shrinker and teardown ----------------------------------------------------------- */

uint64_t ccmm_ttm_pool_shrink(struct ccmm_ctx *ctx, struct ccmm_machine *m, uint64_t nr_to_scan)
{
	struct ttm_state *st = _ccmm_ttm_state(m);
	uint64_t freed = 0;

	if (!st)
		return 0;
	/* ttm_pool_shrinker_scan: do ... while (freed < nr_to_scan && allocated_pages) */
	for (;;) {
		bool any;

		freed += pool_shrink_one(ctx, st);
		pthread_mutex_lock(&st->pool_lock);
		any = st->allocated_pages != 0;
		pthread_mutex_unlock(&st->pool_lock);
		if (freed >= nr_to_scan || !any)
			break;
	}
	return freed;
}

uint64_t ccmm_ttm_pool_count_all(struct ccmm_machine *m)
{
	struct ttm_state *st = _ccmm_ttm_state(m);
	uint64_t n;

	if (!st)
		return 0;
	pthread_mutex_lock(&st->pool_lock);
	n = st->allocated_pages;
	pthread_mutex_unlock(&st->pool_lock);
	return n;
}

/* ttm_pool_type_fini: off the shrinker list, every block freed. */
static void type_fini(struct ccmm_ctx *ctx, struct ttm_state *st, struct ttm_pool_type *pt)
{
	struct ttm_pool_block b;

	if (!pt->used)
		return;
	pthread_mutex_lock(&st->pool_lock);
	type_unlink(st, pt);
	pthread_mutex_unlock(&st->pool_lock);
	while (type_take(st, pt, &b)) {
		if (pt->tdev) {
			free_block(ctx, pt->tdev, pt->caching, pt->order, &b);
		} else {
			ccmm_set_memory_cache(ctx, va_of(b.pa), 1ULL << pt->order, CCMM_CACHE_WB);
			ccmm_free_pages(ctx, b.pa, pt->order);
		}
	}
	free(pt->b);
	pt->b = NULL;
	pt->cap = 0;
	pt->used = false;
}

void _ccmm_ttm_pool_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev)
{
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);

	for (int c = 0; c < CCMM_CACHE_NR; c++)
		for (unsigned o = 0; o < CCMM_TTM_POOL_ORDERS; o++)
			type_fini(ctx, st, &tdev->pool.caching[c][o]);
}

void _ccmm_ttm_pool_globals_fini(struct ccmm_ctx *ctx, struct ttm_state *st)
{
	for (unsigned o = 0; o < CCMM_TTM_POOL_ORDERS; o++) {
		type_fini(ctx, st, &st->global_wc[o]);
		type_fini(ctx, st, &st->global_uc[o]);
		type_fini(ctx, st, &st->global_dma32_wc[o]);
		type_fini(ctx, st, &st->global_dma32_uc[o]);
	}
}

long ccmm_ttm_pool_type_count(struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, unsigned order)
{
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);
	struct ttm_pool_type *pt;
	long n;

	if ((unsigned)caching >= CCMM_CACHE_NR || order >= CCMM_TTM_POOL_ORDERS)
		return -1;
	pt = &tdev->pool.caching[caching][order];
	pthread_mutex_lock(&st->pool_lock);
	n = pt->used ? (long)pt->nr : -1;
	pthread_mutex_unlock(&st->pool_lock);
	return n;
}

long ccmm_ttm_global_pool_count(struct ccmm_machine *m, enum ccmm_cache_mode caching, bool dma32, unsigned order)
{
	struct ttm_state *st = _ccmm_ttm_state(m);
	struct ttm_pool_type *pt;
	long n;

	if (!st || order >= CCMM_TTM_POOL_ORDERS || caching == CCMM_CACHE_WB || (unsigned)caching >= CCMM_CACHE_NR)
		return -1;
	if (caching == CCMM_CACHE_WC)
		pt = dma32 ? &st->global_dma32_wc[order] : &st->global_wc[order];
	else
		pt = dma32 ? &st->global_dma32_uc[order] : &st->global_uc[order];
	pthread_mutex_lock(&st->pool_lock);
	n = (long)pt->nr;
	pthread_mutex_unlock(&st->pool_lock);
	return n;
}

void ccmm_ttm_set_page_pool_size(struct ccmm_machine *m, uint64_t pages)
{
	struct ttm_state *st = _ccmm_ttm_state(m);

	if (!st)
		return;
	pthread_mutex_lock(&st->pool_lock);
	st->page_pool_size = pages ? pages : ccmm_platform_ram(m->plat, -1) / CCMM_PAGE_SIZE / 2;
	pthread_mutex_unlock(&st->pool_lock);
}
