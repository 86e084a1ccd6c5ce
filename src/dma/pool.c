// SPDX-License-Identifier: MIT
/*
 * The atomic pools of coherent memory, after kernel/dma/pool.c of Linux
 * 6.12: for allocations that may not block (and so cannot convert pages),
 * pre-decrypted memory per zone -- atomic_pool_dma (below 16 MiB, when
 * there is RAM there), atomic_pool_dma32 (below 4 GiB) and
 * atomic_pool_kernel -- each sized as dma_atomic_pool_init sizes it (128 KiB
 * per GiB of RAM, at least 128 KiB, at most MAX_ORDER_NR_PAGES pages),
 * made of buddy blocks (gen_pool chunks, the newest searched first, each
 * allocation aligned to its own size rounded up to a power of two:
 * gen_pool_first_fit_order_align), decrypted when added and never given
 * back. An allocation that leaves a pool with less free than its initial
 * size queues atomic_pool_work, which grows every such pool by its current
 * size (atomic_pool_resize / atomic_pool_expand: one block of that order,
 * or smaller ones when memory is short). The code is ccmm's own.
 *
 * Where ccmm differs, and why: the pools are made at the first driver
 * probe rather than at boot (postcore_initcall), so that runs without
 * DMA keep all their memory; their pages are taken with
 * ccmm_memblock_alloc from the top of the zone's range (ccmm's page
 * allocator has no ZONE_DMA, and pool pages are never freed, so taking
 * them out of the allocator for good is what they are); the worker runs
 * as soon as the allocation that queued it returns, on its own clock,
 * unless held (ccmm_dma_atomic_pool_hold).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dma/internal.h"

#define SZ_128K (128 * 1024ULL)
#define SZ_16M (16 * 1024 * 1024ULL)
#define SZ_4G (4ULL << 30)
#define MAX_ORDER_NR_PAGES (1ULL << CCMM_MAX_ORDER)

const char *ccmm_dma_pool_zone_name(enum ccmm_dma_pool_zone z)
{
	static const char *const n[] = { "kernel", "dma32", "dma" };

	return (unsigned)z < CCMM_ARRAY_SIZE(n) ? n[z] : "?";
}

/* The highest byte a zone's pages may end at (ccmm_memblock_alloc's limit; 0: none). */
static uint64_t zone_limit(enum ccmm_dma_pool_zone z)
{
	return z == CCMM_DMA_POOL_DMA ? SZ_16M : z == CCMM_DMA_POOL_DMA32 ? SZ_4G : 0;
}

void _ccmm_dma_pools_init(struct ccmm_dma *dma)
{
	struct ccmm_dma_pools *p = &dma->pools;

	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->work_lock, NULL);
	ccmm_ctx_init(&p->worker, dma->m, -1, "dma_atomic_pool");
}

void _ccmm_dma_pools_fini(struct ccmm_dma *dma)
{
	struct ccmm_dma_pools *p = &dma->pools;

	for (int z = 0; z < CCMM_DMA_POOL_NR; z++) {
		for (size_t c = 0; c < p->pool[z].nr_chunks; c++)
			free(p->pool[z].chunk[c].used);
		free(p->pool[z].chunk);
	}
	pthread_mutex_destroy(&p->work_lock);
	pthread_mutex_destroy(&p->lock);
}

/*
 * atomic_pool_expand(): a block of min(get_order(@size), MAX_ORDER) pages
 * (smaller ones while none is free) below the zone's limit, decrypted, added
 * as the pool's newest chunk. Runs on the worker's clock with no pool lock
 * held but the work lock. 0 or -ENOMEM.
 */
static int pool_expand(struct ccmm_dma *dma, enum ccmm_dma_pool_zone z, uint64_t size)
{
	struct ccmm_dma_pools *p = &dma->pools;
	struct ccmm_dma_atomic_pool *pool = &p->pool[z];
	unsigned order = CCMM_MIN(ccmm_get_order(size), (unsigned)CCMM_MAX_ORDER);
	struct ccmm_dma_pool_chunk ch = { 0 };
	uint64_t bytes;
	int ret;

	for (;;) {
		bytes = CCMM_PAGE_SIZE << order;
		ret = ccmm_memblock_alloc(dma->m, bytes, bytes, zone_limit(z), true, &ch.pa);
		if (!ret || !order)
			break;
		order--;
	}
	if (ret)
		return -ENOMEM;
	ch.pages = 1ULL << order;
	/* memory in the atomic pools must be unencrypted; the pools never shrink, so it never goes back */
	p->worker.op = "atomic_pool_expand";
	ret = ccmm_set_memory_decrypted(&p->worker, ccmm_phys_to_virt(ch.pa), ch.pages);
	if (ret)
		return -ENOMEM; /* the block stays out of the allocator: leaked, as the kernel leaks it without remapping */
	ch.used = calloc((ch.pages + 63) / 64, sizeof(uint64_t));
	pthread_mutex_lock(&p->lock);
	if (!ch.used || ccmm_grow((void **)&pool->chunk, &pool->cap_chunks, pool->nr_chunks + 1, sizeof(*pool->chunk))) {
		pthread_mutex_unlock(&p->lock);
		free(ch.used);
		return -ENOMEM;
	}
	pool->chunk[pool->nr_chunks++] = ch;
	pool->size += bytes;
	pool->avail += bytes;
	pool->present = true;
	pthread_mutex_unlock(&p->lock);
	return 0;
}

int _ccmm_dma_pools_make(struct ccmm_machine *m)
{
	struct ccmm_dma *dma = _ccmm_dma_of(m);
	struct ccmm_dma_pools *p = &dma->pools;
	const struct ccmm_platform *plat = m->plat;
	uint64_t ram = 0, low = 0, pages;
	int ret = 0;

	pthread_mutex_lock(&p->work_lock);
	pthread_mutex_lock(&p->lock);
	if (p->made) {
		ret = p->init_err;
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_unlock(&p->work_lock);
		return ret;
	}
	p->made = true;
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < plat->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &plat->ranges[i];

		if (r->kind != CCMM_RANGE_RAM)
			continue;
		ram += r->size;
		if (r->base < SZ_16M)
			low += CCMM_MIN(r->size, SZ_16M - r->base);
	}
	/* 128 KiB per GiB of memory, at least 128 KiB, at most MAX_ORDER_NR_PAGES */
	pages = CCMM_MIN((ram >> CCMM_PAGE_SHIFT) / ((1ULL << 30) / SZ_128K), MAX_ORDER_NR_PAGES);
	p->atomic_pool_size = CCMM_MAX(pages << CCMM_PAGE_SHIFT, SZ_128K);
	p->worker.op = "dma_atomic_pool_init";
	if (pool_expand(dma, CCMM_DMA_POOL_KERNEL, p->atomic_pool_size))
		ret = -ENOMEM;
	if (low && pool_expand(dma, CCMM_DMA_POOL_DMA, p->atomic_pool_size)) /* has_managed_dma() */
		ret = -ENOMEM;
	if (pool_expand(dma, CCMM_DMA_POOL_DMA32, p->atomic_pool_size))
		ret = -ENOMEM;
	pthread_mutex_lock(&p->lock);
	p->init_err = ret;
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_unlock(&p->work_lock);
	return ret;
}

/* The next pool to try after @prev (dma_guess_pool); CCMM_DMA_POOL_NR when none is left. */
static int guess_pool(const struct ccmm_dma_pools *p, int prev, enum ccmm_dma_pool_zone zone)
{
	if (prev < 0) {
		if (zone == CCMM_DMA_POOL_DMA32)
			return CCMM_DMA_POOL_DMA32;
		if (zone == CCMM_DMA_POOL_DMA && p->pool[CCMM_DMA_POOL_DMA].present)
			return CCMM_DMA_POOL_DMA;
		return CCMM_DMA_POOL_KERNEL;
	}
	if (prev == CCMM_DMA_POOL_KERNEL)
		return p->pool[CCMM_DMA_POOL_DMA32].present ? CCMM_DMA_POOL_DMA32 : CCMM_DMA_POOL_DMA;
	if (prev == CCMM_DMA_POOL_DMA32)
		return CCMM_DMA_POOL_DMA;
	return CCMM_DMA_POOL_NR;
}

static bool bits_free(const uint64_t *used, uint64_t at, uint64_t n)
{
	for (uint64_t i = at; i < at + n; i++)
		if (used[i / 64] & (1ULL << (i % 64)))
			return false;
	return true;
}

static void bits_set(uint64_t *used, uint64_t at, uint64_t n, bool on)
{
	for (uint64_t i = at; i < at + n; i++) {
		if (on)
			used[i / 64] |= 1ULL << (i % 64);
		else
			used[i / 64] &= ~(1ULL << (i % 64));
	}
}

/* gen_pool_alloc with gen_pool_first_fit_order_align: newest chunk first. Pool lock held. 0 or UINT64_MAX. */
static uint64_t pool_take(struct ccmm_dma_atomic_pool *pool, uint64_t pages)
{
	uint64_t align = 1;

	while (align < pages)
		align <<= 1;
	for (size_t c = pool->nr_chunks; c--;) {
		struct ccmm_dma_pool_chunk *ch = &pool->chunk[c];

		for (uint64_t at = 0; at + pages <= ch->pages; at += align) {
			if (!bits_free(ch->used, at, pages))
				continue;
			bits_set(ch->used, at, pages, true);
			pool->avail -= pages << CCMM_PAGE_SHIFT;
			return ch->pa + (at << CCMM_PAGE_SHIFT);
		}
	}
	return UINT64_MAX;
}

/* gen_pool_free: the chunk holding [pa, +pages), freed; false when no chunk of @pool has it. Pool lock held. */
static bool pool_give(struct ccmm_dma_atomic_pool *pool, uint64_t pa, uint64_t pages)
{
	for (size_t c = 0; c < pool->nr_chunks; c++) {
		struct ccmm_dma_pool_chunk *ch = &pool->chunk[c];

		if (pa < ch->pa || pa + (pages << CCMM_PAGE_SHIFT) > ch->pa + (ch->pages << CCMM_PAGE_SHIFT))
			continue;
		bits_set(ch->used, (pa - ch->pa) >> CCMM_PAGE_SHIFT, pages, false);
		pool->avail += pages << CCMM_PAGE_SHIFT;
		return true;
	}
	return false;
}

int ccmm_dma_atomic_pool_work(struct ccmm_machine *m)
{
	struct ccmm_dma *dma = _ccmm_dma_of(m);
	struct ccmm_dma_pools *p = &dma->pools;
	int grown = 0, ret = 0;

	if (pthread_mutex_trylock(&p->work_lock))
		return 0; /* the worker is running already */
	pthread_mutex_lock(&p->lock);
	if (!p->work_queued || p->work_held) {
		pthread_mutex_unlock(&p->lock);
		pthread_mutex_unlock(&p->work_lock);
		return 0;
	}
	p->work_queued = false;
	pthread_mutex_unlock(&p->lock);
	/* atomic_pool_work_fn: dma, dma32, kernel */
	for (int z = CCMM_DMA_POOL_NR; z--;) {
		uint64_t avail, size;
		bool present;

		pthread_mutex_lock(&p->lock);
		present = p->pool[z].present;
		avail = p->pool[z].avail;
		size = p->pool[z].size;
		pthread_mutex_unlock(&p->lock);
		if (!present || avail >= p->atomic_pool_size)
			continue;
		if (pool_expand(dma, (enum ccmm_dma_pool_zone)z, size)) {
			pthread_mutex_lock(&p->lock);
			p->expand_failed++;
			pthread_mutex_unlock(&p->lock);
			ret = -ENOMEM;
			continue;
		}
		pthread_mutex_lock(&p->lock);
		p->expansions++;
		pthread_mutex_unlock(&p->lock);
		grown++;
	}
	pthread_mutex_unlock(&p->work_lock);
	return ret ? ret : grown;
}

void ccmm_dma_atomic_pool_hold(struct ccmm_machine *m, bool hold)
{
	struct ccmm_dma_pools *p = &_ccmm_dma_of(m)->pools;

	pthread_mutex_lock(&p->lock);
	p->work_held = hold;
	pthread_mutex_unlock(&p->lock);
	if (!hold)
		ccmm_dma_atomic_pool_work(m);
}

int _ccmm_dma_pool_alloc(struct ccmm_ctx *ctx, struct ccmm_machine *m, uint64_t size, uint64_t max_pa,
			 enum ccmm_dma_pool_zone zone, uint64_t *pa)
{
	struct ccmm_dma_pools *p = &_ccmm_dma_of(m)->pools;
	uint64_t pages = size >> CCMM_PAGE_SHIFT, got = UINT64_MAX;
	bool found = false, queue = false;

	pthread_mutex_lock(&p->lock);
	for (int z = guess_pool(p, -1, zone); z < CCMM_DMA_POOL_NR; z = guess_pool(p, z, zone)) {
		struct ccmm_dma_atomic_pool *pool = &p->pool[z];

		if (!pool->present)
			break; /* dma_guess_pool returned NULL */
		found = true;
		got = pool_take(pool, pages);
		if (got == UINT64_MAX)
			continue;
		if (got + size - 1 > max_pa) { /* phys_addr_ok: dma_coherent_ok */
			pool_give(pool, got, pages);
			got = UINT64_MAX;
			continue;
		}
		if (pool->avail < p->atomic_pool_size) {
			p->work_queued = true; /* schedule_work(&atomic_pool_work) */
			queue = !p->work_held;
		}
		break;
	}
	if (got != UINT64_MAX)
		p->allocs++;
	else
		p->exhausted++;
	pthread_mutex_unlock(&p->lock);
	if (queue)
		ccmm_dma_atomic_pool_work(m);
	if (got == UINT64_MAX) {
		ccmm_count(ctx, CCMM_CTR_AT(dma, coherent_atomic_failed), 1);
		(void)found; /* "DMA pool exhausted" or "Failed to get suitable pool": a WARN, the caller gets NULL */
		return -ENOMEM;
	}
	ccmm_count(ctx, CCMM_CTR_AT(dma, coherent_atomic_allocs), 1);
	*pa = got;
	return 0;
}

bool _ccmm_dma_pool_free(struct ccmm_machine *m, uint64_t pa, uint64_t size)
{
	struct ccmm_dma_pools *p = &_ccmm_dma_of(m)->pools;
	bool freed = false;

	pthread_mutex_lock(&p->lock);
	for (int z = 0; z < CCMM_DMA_POOL_NR && !freed; z++)
		freed = p->pool[z].present && pool_give(&p->pool[z], pa, size >> CCMM_PAGE_SHIFT);
	pthread_mutex_unlock(&p->lock);
	return freed;
}

void _ccmm_dma_pools_stats(struct ccmm_machine *m, struct ccmm_dma_pool_stats *out)
{
	struct ccmm_dma_pools *p = &_ccmm_dma_of(m)->pools;

	pthread_mutex_lock(&p->lock);
	out->made = p->made;
	for (int z = 0; z < CCMM_DMA_POOL_NR; z++) {
		out->size[z] = p->pool[z].size;
		out->avail[z] = p->pool[z].avail;
	}
	out->atomic_pool_size = p->atomic_pool_size;
	out->allocs = p->allocs;
	out->exhausted = p->exhausted;
	out->expansions = p->expansions;
	out->expand_failed = p->expand_failed;
	pthread_mutex_unlock(&p->lock);
	pthread_mutex_lock(&p->work_lock);
	out->pool_decrypted_pages = p->worker.ctr[CCMM_CTR_to_shared]; /* none where memory is not encrypted */
	out->pool_share_ns = p->worker.now_ns;
	pthread_mutex_unlock(&p->work_lock);
}
