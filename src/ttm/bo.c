// SPDX-License-Identifier: MIT
/*
 * The TTM device and its buffer objects: resource managers, LRU eviction,
 * validation, moves with real copies through kernel mappings, pinning with
 * dmem charging, tt pages with their DMA addresses, physical-range lists.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

CCMM_COST_BLOCK_DEFINE(ttm, CCMM_TTM_COSTS, CCMM_TTM_COUNTERS);

CCMM_RULES_DEFINE(ttm_rules, CCMM_TTM_RULES);


#define COPY_CHUNK (64 * 1024)
#define MOVE_WAIT_NS (2LL * 1000000000) /* a move waits this long for the BO to go idle */

struct ttm_state {
	pthread_mutex_t lock;
	struct ccmm_ttm_device *devs;
};

const char *ccmm_ttm_mem_type_name(enum ccmm_ttm_mem_type t)
{
	static const char *const n[] = { "system", "tt", "vram" };

	return (unsigned)t < CCMM_ARRAY_SIZE(n) ? n[t] : "?";
}

int ccmm_ttm_mem_type_parse(const char *s)
{
	if (!strcmp(s, "system"))
		return CCMM_TTM_PL_SYSTEM;
	if (!strcmp(s, "tt") || !strcmp(s, "gtt"))
		return CCMM_TTM_PL_TT;
	if (!strcmp(s, "vram"))
		return CCMM_TTM_PL_VRAM;
	return -1;
}

void _ccmm_ttm_internal_ctx(struct ccmm_ctx *ctx, struct ccmm_machine *m)
{
	ccmm_ctx_init(ctx, m, -1, "ttm");
}

bool _ccmm_ttm_want_decrypted(const struct ccmm_ttm_device *tdev)
{
	/* seed 000: ttm_dma_populate sets TTM_PAGE_FLAG_DECRYPTED when force_dma_unencrypted(dev) */
	return tdev->p.use_dma_alloc && ccmm_force_dma_unencrypted(tdev->dma);
}

void ccmm_ttm_params_default(struct ccmm_ttm_params *p, int dev)
{
	memset(p, 0, sizeof(*p));
	p->dev = dev;
	p->vram_caching = CCMM_CACHE_WC;
	p->tt_caching = CCMM_CACHE_WC;
	p->policy = CCMM_TTM_PROT_BACKING;
	p->resolve = CCMM_TTM_RESOLVE_PER_BO;
	p->prefault = CCMM_TTM_NUM_PREFAULT;
	p->use_dma_alloc = true;
}

static bool registered(struct ttm_state *st, int dev)
{
	for (struct ccmm_ttm_device *tdev = st->devs; tdev; tdev = tdev->next)
		if (tdev->p.dev == dev)
			return true;
	return false;
}

int ccmm_ttm_device_init(struct ccmm_ctx *ctx, const struct ccmm_ttm_params *p, struct ccmm_ttm_device **out)
{
	struct ccmm_machine *m = ctx->m;
	struct ttm_state *st = ccmm_subsys_data(m, &ccmm_subsys_ttm);
	const struct ccmm_platform *plat = m->plat;
	const struct ccmm_device_desc *d;
	struct ccmm_dma_probe_opts po = { .no_filter = p->dma_no_filter };
	struct ccmm_ttm_device *tdev;
	struct ccmm_dma_dev *dd;
	bool dup;
	int ret;

	if (!st || p->dev < 0 || (size_t)p->dev >= plat->nr_devices || p->vram_bar >= CCMM_MAX_BARS)
		return -EINVAL;
	d = &plat->devices[p->dev];
	dd = ccmm_dma_dev(m, p->dev);
	if (!dd || !d->bar[p->vram_bar].size || p->vram_size > d->bar[p->vram_bar].size ||
	    !CCMM_IS_ALIGNED(p->vram_size | p->tt_size, CCMM_PAGE_SIZE))
		return -EINVAL;
	pthread_mutex_lock(&st->lock);
	dup = registered(st, p->dev);
	pthread_mutex_unlock(&st->lock);
	if (dup)
		return -EEXIST;
	/* ttm_device_init(bdev, funcs, dev, ...): dev is the probed driver's device */
	ret = ccmm_dma_bind(ctx, dd, &po);
	if (ret)
		return ret;
	pthread_mutex_lock(&st->lock);
	if (registered(st, p->dev)) {
		pthread_mutex_unlock(&st->lock);
		return -EEXIST;
	}
	tdev = calloc(1, sizeof(*tdev));
	if (!tdev) {
		pthread_mutex_unlock(&st->lock);
		return -ENOMEM;
	}
	tdev->m = m;
	tdev->dma = dd;
	tdev->p = *p;
	if (!tdev->p.vram_size)
		tdev->p.vram_size = d->bar[p->vram_bar].size;
	if (!tdev->p.tt_size)
		tdev->p.tt_size = 256 * CCMM_MiB;
	if (!tdev->p.prefault)
		tdev->p.prefault = CCMM_TTM_NUM_PREFAULT;
	if (!tdev->p.pool_pages)
		tdev->p.pool_pages = 1024;
	tdev->node = d->node;
	tdev->vram_base = d->bar[p->vram_bar].base;
	pthread_mutex_init(&tdev->lru_lock, NULL);
	for (int t = 0; t < CCMM_TTM_PL_NR; t++)
		ccmm_lru_init(&tdev->man[t].lru);
	tdev->man[CCMM_TTM_PL_TT].size = tdev->p.tt_size;
	tdev->man[CCMM_TTM_PL_VRAM].size = tdev->p.vram_size;
	_ccmm_ttm_pool_init(&tdev->pool, tdev->p.pool_pages);
	atomic_init(&tdev->live_bos, 0);
	tdev->next = st->devs;
	st->devs = tdev;
	pthread_mutex_unlock(&st->lock);
	*out = tdev;
	return 0;
}

struct ccmm_ttm_device *ccmm_ttm_device_find(struct ccmm_machine *m, int dev)
{
	struct ttm_state *st = ccmm_subsys_data(m, &ccmm_subsys_ttm);
	struct ccmm_ttm_device *tdev;

	if (!st)
		return NULL;
	pthread_mutex_lock(&st->lock);
	for (tdev = st->devs; tdev && tdev->p.dev != dev; tdev = tdev->next)
		;
	pthread_mutex_unlock(&st->lock);
	return tdev;
}

const struct ccmm_ttm_params *ccmm_ttm_device_params(const struct ccmm_ttm_device *tdev)
{
	return &tdev->p;
}

struct ccmm_dma_dev *ccmm_ttm_device_dma(const struct ccmm_ttm_device *tdev)
{
	return tdev->dma;
}

void ccmm_ttm_device_set_policy(struct ccmm_ttm_device *tdev, enum ccmm_ttm_prot_policy policy,
				enum ccmm_ttm_prot_resolve resolve)
{
	pthread_mutex_lock(&tdev->lru_lock);
	tdev->p.policy = policy;
	tdev->p.resolve = resolve;
	pthread_mutex_unlock(&tdev->lru_lock);
}

void ccmm_ttm_device_stats(struct ccmm_ttm_device *tdev, struct ccmm_ttm_stats *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&tdev->lru_lock);
	for (int t = 0; t < CCMM_TTM_PL_NR; t++) {
		s->size[t] = tdev->man[t].size;
		s->usage[t] = tdev->man[t].usage;
		s->lru[t] = tdev->man[t].lru.nr;
	}
	s->evictions = tdev->evictions;
	s->moves = tdev->moves;
	s->bytes_copied = tdev->bytes_copied;
	s->dmem_current = tdev->dmem_current;
	s->dmem_max = tdev->p.dmem_max;
	s->dmem_failures = tdev->dmem_failures;
	pthread_mutex_unlock(&tdev->lru_lock);
	pthread_mutex_lock(&tdev->pool.lock);
	s->pool_hits = tdev->pool.hits;
	s->pool_misses = tdev->pool.misses;
	s->pool_conversions = tdev->pool.conversions;
	s->pool_restores = tdev->pool.restores;
	for (int c = 0; c < CCMM_CACHE_NR; c++)
		for (int d = 0; d < 2; d++)
			s->pool_pages += tdev->pool.list[c][d].nr;
	pthread_mutex_unlock(&tdev->pool.lock);
}

/* ---- VRAM: first fit over [0, vram_size) --------------------------------- */

static int vram_alloc(struct ccmm_ttm_device *tdev, uint64_t size, uint64_t *start)
{
	uint64_t at = 0;
	size_t i;

	for (i = 0; i < tdev->nr_vr; i++) {
		if (tdev->vr[i].start - at >= size)
			break;
		at = tdev->vr[i].start + tdev->vr[i].size;
	}
	if (i == tdev->nr_vr && tdev->p.vram_size - at < size)
		return -ENOSPC;
	if (ccmm_grow((void **)&tdev->vr, &tdev->cap_vr, tdev->nr_vr + 1, sizeof(*tdev->vr)))
		return -ENOMEM;
	memmove(&tdev->vr[i + 1], &tdev->vr[i], (tdev->nr_vr - i) * sizeof(*tdev->vr));
	tdev->vr[i].start = at;
	tdev->vr[i].size = size;
	tdev->nr_vr++;
	*start = at;
	return 0;
}

static void vram_free(struct ccmm_ttm_device *tdev, uint64_t start)
{
	for (size_t i = 0; i < tdev->nr_vr; i++) {
		if (tdev->vr[i].start == start) {
			memmove(&tdev->vr[i], &tdev->vr[i + 1], (tdev->nr_vr - i - 1) * sizeof(*tdev->vr));
			tdev->nr_vr--;
			return;
		}
	}
}

/* Take space for @size bytes in @place. lru_lock held. 0 or -ENOSPC / -ENOMEM. */
static int space_take(struct ccmm_ttm_device *tdev, const struct ccmm_ttm_place *place, uint64_t size,
		      struct ccmm_ttm_resource *res)
{
	struct ttm_manager *man = &tdev->man[place->mem_type];
	int ret;

	memset(res, 0, sizeof(*res));
	res->mem_type = place->mem_type;
	res->caching = place->caching;
	switch (place->mem_type) {
	case CCMM_TTM_PL_SYSTEM:
		break;
	case CCMM_TTM_PL_TT:
		if (man->size - man->usage < size)
			return -ENOSPC;
		break;
	case CCMM_TTM_PL_VRAM:
		ret = vram_alloc(tdev, size, &res->start);
		if (ret)
			return ret;
		res->is_iomem = true;
		res->bus_base = tdev->vram_base + res->start;
		break;
	default:
		return -EINVAL;
	}
	man->usage += size;
	return 0;
}

static void space_give(struct ccmm_ttm_device *tdev, const struct ccmm_ttm_resource *res, uint64_t size)
{
	tdev->man[res->mem_type].usage -= size;
	if (res->mem_type == CCMM_TTM_PL_VRAM)
		vram_free(tdev, res->start);
}

/* ---- buffer objects ---------------------------------------------------------- */

static bool place_ok(const struct ccmm_ttm_place *pl)
{
	return (unsigned)pl->mem_type < CCMM_TTM_PL_NR && (unsigned)pl->caching < CCMM_CACHE_NR;
}

static bool placement_ok(const struct ccmm_ttm_placement *pl)
{
	if (!pl || !pl->nr || pl->nr > CCMM_TTM_MAX_PLACES)
		return false;
	for (unsigned i = 0; i < pl->nr; i++)
		if (!place_ok(&pl->place[i]))
			return false;
	return true;
}

static bool uses_tt(enum ccmm_ttm_mem_type t)
{
	return t != CCMM_TTM_PL_VRAM;
}

int ccmm_ttm_bo_create(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t size,
		       const struct ccmm_ttm_placement *placement, const char *name, struct ccmm_dma_resv *resv,
		       struct ccmm_ttm_bo **out)
{
	struct ccmm_ttm_bo *bo;
	int ret;

	if (!size || size > (1ULL << 40) || !placement_ok(placement))
		return -EINVAL;
	bo = calloc(1, sizeof(*bo));
	if (!bo)
		return -ENOMEM;
	bo->tdev = tdev;
	snprintf(bo->name, sizeof(bo->name), "%s", name ? name : "bo");
	bo->size = CCMM_ALIGN_UP(size, CCMM_PAGE_SIZE);
	bo->num_pages = (size_t)(bo->size >> CCMM_PAGE_SHIFT);
	ccmm_dma_resv_init(&bo->base_resv);
	bo->resv = resv ? resv : &bo->base_resv;
	atomic_init(&bo->refcount, 1);
	pthread_mutex_init(&bo->map_lock, NULL);
	bo->tt.num_pages = bo->num_pages;
	bo->tt.decrypted = _ccmm_ttm_want_decrypted(tdev); /* decided again whenever the tt gets pages */
	atomic_fetch_add(&tdev->live_bos, 1);

	/* ttm_bo_init_reserved: a new object, nobody else can hold it */
	if (resv && ccmm_dma_resv_held(resv)) {
		ret = ccmm_ttm_bo_validate(ctx, bo, placement);
	} else {
		ret = resv ? ccmm_dma_resv_lock(ctx, resv, NULL) : ccmm_dma_resv_trylock(ctx, bo->resv) ? 0 : -EBUSY;
		if (!ret) {
			ret = ccmm_ttm_bo_validate(ctx, bo, placement);
			ccmm_dma_resv_unlock(ctx, bo->resv);
		}
	}
	if (ret) {
		ccmm_ttm_bo_put(ctx, bo);
		return ret;
	}
	*out = bo;
	return 0;
}

struct ccmm_ttm_bo *ccmm_ttm_bo_get(struct ccmm_ttm_bo *bo)
{
	atomic_fetch_add(&bo->refcount, 1);
	return bo;
}

/* A reference unless the BO is already on its way out (kref_get_unless_zero). */
static bool bo_get_unless_zero(struct ccmm_ttm_bo *bo)
{
	int v = atomic_load(&bo->refcount);

	while (v > 0)
		if (atomic_compare_exchange_weak(&bo->refcount, &v, v + 1))
			return true;
	return false;
}

/* ---- tt pages: ttm_pool_alloc + ttm_pool_map, ttm_pool_unmap + ttm_pool_free ---------- */

/* A tt's backing: its pages and their DMA addresses, all of one caching and encryption state. */
struct tt_set {
	uint64_t *pages, *dma;
	bool decrypted, bounced;
};

/* Unmap (streaming pages) and give back the first @n pages of @ts, then the arrays. */
static void tt_set_free(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_cache_mode caching, struct tt_set *ts,
			size_t n)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	for (size_t i = 0; i < n; i++) {
		uint64_t dma = ts->dma[i];

		if (!tdev->p.use_dma_alloc) {
			/* ttm_pool_unmap: a bounced page gets the bounce copy back (BIDIRECTIONAL) */
			ccmm_dma_unmap_page(ctx, tdev->dma, dma, CCMM_PAGE_SIZE, CCMM_DMA_BIDIRECTIONAL, 0);
			dma = CCMM_DMA_MAPPING_ERROR;
		}
		_ccmm_ttm_pool_free(ctx, tdev, ts->pages[i], dma, caching, ts->decrypted);
	}
	free(ts->pages);
	free(ts->dma);
	memset(ts, 0, sizeof(*ts));
}

/*
 * Pages for the whole BO from the pools, with DMA addresses: those
 * dma_alloc_attrs gave (use_dma_alloc), else dma_map_page(BIDIRECTIONAL)
 * of each page, checked with dma_mapping_error as ttm_pool_map does. 0,
 * -ENOMEM, -EFAULT (a mapping failed).
 */
static int tt_set_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_cache_mode caching, struct tt_set *ts)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	memset(ts, 0, sizeof(*ts));
	ts->decrypted = _ccmm_ttm_want_decrypted(tdev);
	ts->pages = calloc(bo->num_pages, sizeof(*ts->pages));
	ts->dma = calloc(bo->num_pages, sizeof(*ts->dma));
	if (!ts->pages || !ts->dma) {
		free(ts->pages);
		free(ts->dma);
		return -ENOMEM;
	}
	for (size_t i = 0; i < bo->num_pages; i++) {
		int ret = _ccmm_ttm_pool_alloc(ctx, tdev, caching, ts->decrypted, &ts->pages[i], &ts->dma[i]);

		if (!ret && !tdev->p.use_dma_alloc) {
			ccmm_dma_map_page(ctx, tdev->dma, ts->pages[i], CCMM_PAGE_SIZE, CCMM_DMA_BIDIRECTIONAL, 0, &ts->dma[i]);
			if (ccmm_dma_mapping_error(tdev->dma, ts->dma[i])) {
				_ccmm_ttm_pool_free(ctx, tdev, ts->pages[i], CCMM_DMA_MAPPING_ERROR, caching, ts->decrypted);
				ret = -EFAULT;
			} else if (ccmm_dma_need_sync(tdev->dma, ts->dma[i])) {
				ts->bounced = true; /* a long-lived bounce: TTM never syncs */
			}
		}
		if (ret) {
			tt_set_free(ctx, bo, caching, ts, i);
			return ret;
		}
	}
	return 0;
}

static struct tt_set tt_current(const struct ccmm_ttm_bo *bo)
{
	struct tt_set ts = { bo->tt.pages, bo->tt.dma_address, bo->tt.decrypted, bo->tt.bounced };

	return ts;
}

static void tt_install(struct ccmm_ttm_bo *bo, const struct tt_set *ts)
{
	bo->tt.pages = ts->pages;
	bo->tt.dma_address = ts->dma;
	bo->tt.decrypted = ts->decrypted;
	bo->tt.bounced = ts->bounced;
	bo->tt.populated = true;
	bo->prot_valid = false;
}

static void tt_unpopulate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct tt_set ts = tt_current(bo);

	if (!bo->tt.populated)
		return;
	tt_set_free(ctx, bo, bo->tt.caching, &ts, bo->tt.num_pages);
	bo->tt.pages = NULL;
	bo->tt.dma_address = NULL;
	bo->tt.bounced = false;
	bo->tt.populated = false;
}

/* At most one dma_cpu_unsynced for a CPU access to pages [first, first + n) of a bounced set. */
static int set_cpu_check(struct ccmm_ctx *ctx, const struct tt_set *ts, uint64_t first, uint64_t n, enum ccmm_rw rw)
{
	if (!ts->bounced)
		return 0;
	for (uint64_t i = first; i < first + n; i++) {
		int v = ccmm_dma_cpu_access_check(ctx, ts->pages[i], CCMM_PAGE_SIZE, rw);

		if (v)
			return v;
	}
	return 0;
}

int _ccmm_ttm_tt_cpu_check(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, uint64_t first, uint64_t n, enum ccmm_rw rw)
{
	struct tt_set ts = tt_current(bo);

	if (!bo->has_res || bo->res.is_iomem || !bo->tt.populated || first >= bo->num_pages)
		return 0;
	return set_cpu_check(ctx, &ts, first, CCMM_MIN(n, bo->num_pages - first), rw);
}

void ccmm_ttm_bo_put(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev;
	struct ccmm_ctx local;

	if (!bo || atomic_fetch_sub(&bo->refcount, 1) != 1)
		return;
	tdev = bo->tdev;
	if (!ctx) {
		_ccmm_ttm_internal_ctx(&local, tdev->m);
		ctx = &local;
	}
	pthread_mutex_lock(&tdev->lru_lock);
	if (ccmm_lru_on_list(&bo->lru))
		ccmm_lru_del(&tdev->man[bo->res.mem_type].lru, &bo->lru);
	if (bo->has_res)
		space_give(tdev, &bo->res, bo->size);
	if (bo->charged)
		tdev->dmem_current -= bo->charged;
	bo->has_res = false;
	pthread_mutex_unlock(&tdev->lru_lock);
	tt_unpopulate(ctx, bo);
	free(bo->vmas);
	pthread_mutex_destroy(&bo->map_lock);
	ccmm_dma_resv_fini(ctx, &bo->base_resv);
	atomic_fetch_sub(&tdev->live_bos, 1);
	free(bo);
}

int ccmm_ttm_bo_reserve(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool no_wait, struct ccmm_ww_acquire_ctx *acq)
{
	if (no_wait) {
		/* a ticket cannot go with no_wait: WARN_ON(ticket), -EBUSY without trying */
		if (acq)
			return -EBUSY;
		return ccmm_dma_resv_trylock(ctx, bo->resv) ? 0 : -EBUSY;
	}
	return ccmm_dma_resv_lock(ctx, bo->resv, acq);
}

void ccmm_ttm_bo_unreserve(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	/* ttm_bo_unreserve bumps the BO on its LRU */
	pthread_mutex_lock(&bo->tdev->lru_lock);
	if (ccmm_lru_on_list(&bo->lru))
		ccmm_lru_rotate(&bo->tdev->man[bo->res.mem_type].lru, &bo->lru);
	pthread_mutex_unlock(&bo->tdev->lru_lock);
	ccmm_dma_resv_unlock(ctx, bo->resv);
}

int ccmm_ttm_bo_wait(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_dma_resv_usage usage,
		     int64_t timeout_ns)
{
	return ccmm_dma_resv_wait_timeout(ctx, bo->resv, usage, timeout_ns) > 0 ? 0 : -EBUSY;
}

int ccmm_ttm_tt_populate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct tt_set ts;
	int ret;

	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_tt_populate"))
		return -EINVAL;
	if (!bo->has_res || bo->res.is_iomem || bo->tt.populated)
		return 0;
	ret = tt_set_alloc(ctx, bo, bo->tt.caching, &ts);
	if (ret)
		return ret;
	tt_install(bo, &ts);
	return 0;
}

/* ---- copies through kernel mappings (ttm_bo_move_memcpy) ---------------------- */

/* A kernel mapping of one side of a copy. */
struct kmapping {
	uint64_t va;
	uint64_t size;
	bool iomem;
};

/* One side of a copy: a resource, and for tt memory its pages. */
struct side {
	const struct ccmm_ttm_resource *res;
	const struct tt_set *ts;      /* NULL in VRAM */
	enum ccmm_cache_mode caching;
};

static int map_side(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct side *sd, struct kmapping *km)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	int err = 0;

	km->size = bo->size;
	km->iomem = sd->res->is_iomem;
	if (sd->res->is_iomem) {
		/* ttm_bo_ioremap: ioremap / ioremap_wc, always decrypted */
		km->va = ccmm_ioremap(ctx, sd->res->bus_base, bo->size, sd->caching, &err);
	} else {
		km->va = ccmm_vmap(ctx, sd->ts->pages, bo->num_pages,
				   _ccmm_ttm_tt_prot(tdev, sd->caching, sd->ts->decrypted, ccmm_page_kernel(tdev->m)), &err);
	}
	return km->va ? 0 : (err ? err : -ENOMEM);
}

static void unmap_side(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct kmapping *km)
{
	if (km->iomem)
		ccmm_iounmap(ctx, km->va, km->size);
	else
		ccmm_vunmap(ctx, km->va, bo->num_pages);
}

/*
 * Copy (or, with @src NULL, clear) the BO's bytes from one backing to
 * another with the CPU (ttm_bo_move_memcpy). Tt pages whose mapping
 * bounced are device-owned streaming buffers: the copy reads what the CPU
 * sees, not the bounce copy the GPU wrote (dma_cpu_unsynced).
 */
static int copy_backing(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct side *src, const struct side *dst)
{
	struct kmapping s = { 0 }, d = { 0 };
	uint8_t *buf = calloc(1, COPY_CHUNK);
	int ret;

	if (!buf)
		return -ENOMEM;
	if (src && src->ts)
		set_cpu_check(ctx, src->ts, 0, bo->num_pages, CCMM_READ);
	if (dst->ts)
		set_cpu_check(ctx, dst->ts, 0, bo->num_pages, CCMM_WRITE);
	ret = map_side(ctx, bo, dst, &d);
	if (!ret && src)
		ret = map_side(ctx, bo, src, &s);
	for (uint64_t off = 0; !ret && off < bo->size; off += COPY_CHUNK) {
		size_t n = (size_t)CCMM_MIN(COPY_CHUNK, bo->size - off);
		struct ccmm_result r;

		if (src)
			ret = ccmm_kernel_access(ctx, CCMM_READ, s.va + off, buf, n, &r);
		if (!ret)
			ret = ccmm_kernel_access(ctx, CCMM_WRITE, d.va + off, buf, n, &r);
	}
	if (s.va)
		unmap_side(ctx, bo, &s);
	if (d.va)
		unmap_side(ctx, bo, &d);
	free(buf);
	if (!ret) {
		pthread_mutex_lock(&bo->tdev->lru_lock);
		bo->tdev->bytes_copied += src ? bo->size : 0;
		pthread_mutex_unlock(&bo->tdev->lru_lock);
	}
	return ret;
}

/*
 * ttm_bo_handle_move_mem: the BO goes to @nres (space already taken).
 * Notify, zap CPU mappings, wait for idle, move the bytes, free the old.
 */
static int bo_move(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource *nres, bool evict)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ttm_resource old = bo->res;
	bool had = bo->has_res;
	int ret = 0;

	if (had) {
		if (bo->move_notify)
			bo->move_notify(ctx, bo, bo->move_priv);
		ccmm_ttm_bo_unmap_virtual(ctx, bo);
		if (ccmm_ttm_bo_wait(ctx, bo, CCMM_RESV_USAGE_BOOKKEEP, MOVE_WAIT_NS)) {
			ret = -EBUSY;
			goto fail;
		}
	}
	if (!had) {
		if (uses_tt(nres->mem_type)) {
			bo->tt.caching = nres->caching; /* populated on first use */
		} else {
			struct side vram = { nres, NULL, nres->caching };

			ret = copy_backing(ctx, bo, NULL, &vram); /* cleared VRAM */
		}
	} else if (uses_tt(old.mem_type) && uses_tt(nres->mem_type)) {
		/* bind/unbind: the pages stay; a new caching needs new pages */
		if (bo->tt.populated && old.caching != nres->caching) {
			struct tt_set cur = tt_current(bo), np;

			ret = tt_set_alloc(ctx, bo, nres->caching, &np);
			if (!ret) {
				struct side from = { &old, &cur, old.caching }, to = { nres, &np, nres->caching };

				ret = copy_backing(ctx, bo, &from, &to);
				if (ret) {
					tt_set_free(ctx, bo, nres->caching, &np, bo->num_pages);
				} else {
					tt_unpopulate(ctx, bo);
					tt_install(bo, &np);
				}
			}
		}
		if (!ret)
			bo->tt.caching = nres->caching;
	} else if (uses_tt(old.mem_type)) {
		/* to VRAM: copy the pages out, then give them back */
		struct tt_set cur = tt_current(bo);
		struct side from = { &old, &cur, old.caching }, to = { nres, NULL, nres->caching };

		ret = copy_backing(ctx, bo, bo->tt.populated ? &from : NULL, &to);
		if (!ret)
			tt_unpopulate(ctx, bo);
	} else {
		/* from VRAM: new pages (mapped for the GPU), copy in */
		struct tt_set np;

		ret = tt_set_alloc(ctx, bo, nres->caching, &np);
		if (!ret) {
			struct side from = { &old, NULL, old.caching }, to = { nres, &np, nres->caching };

			ret = copy_backing(ctx, bo, &from, &to);
			if (ret) {
				tt_set_free(ctx, bo, nres->caching, &np, bo->num_pages);
			} else {
				tt_install(bo, &np);
				bo->tt.caching = nres->caching;
			}
		}
	}
	if (ret)
		goto fail;

	pthread_mutex_lock(&tdev->lru_lock);
	if (ccmm_lru_on_list(&bo->lru))
		ccmm_lru_del(&tdev->man[old.mem_type].lru, &bo->lru);
	if (had)
		space_give(tdev, &old, bo->size);
	bo->res = *nres;
	bo->has_res = true;
	bo->prot_valid = false;
	if (!bo->pin_count)
		ccmm_lru_add_tail(&tdev->man[nres->mem_type].lru, &bo->lru);
	if (had) {
		tdev->moves++;
		bo->moves++;
		if (evict) {
			tdev->evictions++;
			bo->evictions++;
		}
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	if (had) {
		ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_moves), 1);
		if (evict)
			ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_evictions), 1);
	}
	return 0;
fail:
	pthread_mutex_lock(&tdev->lru_lock);
	space_give(tdev, nres, bo->size);
	pthread_mutex_unlock(&tdev->lru_lock);
	return ret;
}

static bool res_matches(const struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *pl)
{
	return bo->has_res && bo->res.mem_type == pl->mem_type && bo->res.caching == pl->caching;
}

/* Where an evicted BO goes. */
static void evict_placement(const struct ccmm_ttm_bo *bo, struct ccmm_ttm_placement *pl)
{
	memset(pl, 0, sizeof(*pl));
	if (bo->res.mem_type == CCMM_TTM_PL_VRAM) {
		pl->place[pl->nr++] = (struct ccmm_ttm_place){ CCMM_TTM_PL_TT, bo->tdev->p.tt_caching };
		pl->place[pl->nr++] = (struct ccmm_ttm_place){ CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB };
	} else if (bo->res.mem_type == CCMM_TTM_PL_TT) {
		pl->place[pl->nr++] = (struct ccmm_ttm_place){ CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB };
	}
}

/* Evict a BO whose reservation we hold: no further eviction to make room. */
static int evict_locked(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_placement pl;
	struct ccmm_ttm_resource nres;

	evict_placement(bo, &pl);
	for (unsigned i = 0; i < pl.nr; i++) {
		int ret;

		pthread_mutex_lock(&bo->tdev->lru_lock);
		ret = space_take(bo->tdev, &pl.place[i], bo->size, &nres);
		pthread_mutex_unlock(&bo->tdev->lru_lock);
		if (!ret)
			return bo_move(ctx, bo, &nres, true);
	}
	return pl.nr ? -ENOSPC : -EINVAL;
}

int ccmm_ttm_bo_evict(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_evict"))
		return -EINVAL;
	if (bo->pin_count) {
		ccmm_violation(ctx, &ccmm_rule_ttm_pinned_move, ~0ULL, "eviction of pinned BO %s (pin count %u)", bo->name,
			       bo->pin_count);
		return -EBUSY;
	}
	return evict_locked(ctx, bo);
}

/*
 * ttm_lru_walk_ticketlock: when no BO of @type could be trylocked and
 * @self is reserved with a ticket (an acquire context), wait for the
 * least recently used busy one with that ticket. Returns it locked and
 * referenced; NULL with *@ret 0 when there is none or it cannot be had
 * (-EBUSY, -EALREADY: skipped as the kernel skips them), or with *@ret
 * -EDEADLK: the ticket must back off (the kernel turns this into -ENOSPC
 * and ttm_bo_validate into -ENOMEM; the caller leaves its transaction).
 */
static struct ccmm_ttm_bo *evict_ticketlock(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev,
					    enum ccmm_ttm_mem_type type, struct ccmm_ttm_bo *self,
					    struct ccmm_ww_acquire_ctx *ticket, int *ret)
{
	struct ccmm_lru *lru = &tdev->man[type].lru;
	struct ccmm_ttm_bo *busy = NULL;

	*ret = 0;
	pthread_mutex_lock(&tdev->lru_lock);
	for (struct ccmm_lru_node *n = ccmm_lru_oldest(lru); n && n != &lru->head; n = n->next) {
		struct ccmm_ttm_bo *bo = ccmm_container_of(n, struct ccmm_ttm_bo, lru);

		if (bo != self && !bo->pin_count && !ccmm_dma_resv_held(bo->resv) && bo_get_unless_zero(bo)) {
			busy = bo;
			break;
		}
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	if (!busy)
		return NULL;
	*ret = ccmm_dma_resv_lock(ctx, busy->resv, ticket);
	if (!*ret)
		return busy;
	ccmm_ttm_bo_put(ctx, busy);
	if (*ret != -EDEADLK)
		*ret = 0;
	return NULL;
}

/*
 * ttm_mem_evict_first: the least recently used evictable BO of @type, not
 * @self, whose reservation we hold already (a shared one) or can trylock,
 * else (with a ticket) the one evict_ticketlock waits for. 0 when one was
 * evicted, -ENOSPC when none could be, -EDEADLK when the ticket must back
 * off.
 */
static int evict_first(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, enum ccmm_ttm_mem_type type,
		       struct ccmm_ttm_bo *self)
{
	struct ccmm_ww_acquire_ctx *ticket = ccmm_dma_resv_locking_ctx(self->resv);
	struct ccmm_lru *lru = &tdev->man[type].lru;
	struct ccmm_ttm_bo *victim = NULL;
	bool locked = false;
	int ret;

	pthread_mutex_lock(&tdev->lru_lock);
	for (struct ccmm_lru_node *n = ccmm_lru_oldest(lru); n && n != &lru->head; n = n->next) {
		struct ccmm_ttm_bo *bo = ccmm_container_of(n, struct ccmm_ttm_bo, lru);

		if (bo == self || bo->pin_count)
			continue;
		if (ccmm_dma_resv_held(bo->resv)) {
			locked = false;
		} else if (ccmm_dma_resv_trylock(ctx, bo->resv)) {
			locked = true;
		} else {
			continue;
		}
		if (!bo_get_unless_zero(bo)) {
			if (locked)
				ccmm_dma_resv_unlock(ctx, bo->resv);
			continue;
		}
		victim = bo;
		break;
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	if (!victim && ticket) {
		victim = evict_ticketlock(ctx, tdev, type, self, ticket, &ret);
		if (ret)
			return ret;
		locked = true;
	}
	if (!victim)
		return -ENOSPC;
	/* it may have been pinned or moved between the LRU walk and the lock */
	ret = victim->pin_count || !victim->has_res || victim->res.mem_type != type ? -EAGAIN : evict_locked(ctx, victim);
	if (locked)
		ccmm_dma_resv_unlock(ctx, victim->resv);
	ccmm_ttm_bo_put(ctx, victim);
	return ret == -EAGAIN ? 0 : ret;
}

int ccmm_ttm_bo_validate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ttm_resource nres;

	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_validate"))
		return -EINVAL;
	if (!placement_ok(placement))
		return -EINVAL;
	for (unsigned i = 0; i < placement->nr; i++) {
		if (res_matches(bo, &placement->place[i])) {
			pthread_mutex_lock(&tdev->lru_lock);
			if (ccmm_lru_on_list(&bo->lru))
				ccmm_lru_rotate(&tdev->man[bo->res.mem_type].lru, &bo->lru);
			pthread_mutex_unlock(&tdev->lru_lock);
			return 0;
		}
	}
	if (bo->pin_count) {
		ccmm_violation(ctx, &ccmm_rule_ttm_pinned_move, ~0ULL,
			       "ttm_bo_validate would move pinned BO %s out of %s (pin count %u)", bo->name,
			       ccmm_ttm_mem_type_name(bo->res.mem_type), bo->pin_count);
		return -EBUSY;
	}
	/* first every place without evicting, then every place evicting what it takes */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < placement->nr; i++) {
			const struct ccmm_ttm_place *pl = &placement->place[i];
			int ret;

			for (;;) {
				int ev;

				pthread_mutex_lock(&tdev->lru_lock);
				ret = space_take(tdev, pl, bo->size, &nres);
				pthread_mutex_unlock(&tdev->lru_lock);
				if (ret != -ENOSPC || !pass)
					break;
				ev = evict_first(ctx, tdev, pl->mem_type, bo);
				if (ev == -EDEADLK)
					return -ENOMEM; /* -ENOSPC from the walk ends ttm_bo_validate at once */
				if (ev)
					break; /* nothing more to evict here */
			}
			if (!ret)
				return bo_move(ctx, bo, &nres, false);
			if (ret != -ENOSPC)
				return ret;
		}
	}
	return -ENOMEM; /* ttm_bo_validate: -ENOSPC "for backward compatibility with userspace" */
}

/* ---- pinning and dmem ------------------------------------------------------------- */

int ccmm_ttm_bo_pin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	int ret = 0;

	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_pin"))
		return -EINVAL;
	pthread_mutex_lock(&tdev->lru_lock);
	if (!bo->pin_count && bo->has_res && bo->res.mem_type == CCMM_TTM_PL_VRAM) {
		if (tdev->p.dmem_max && tdev->dmem_current + bo->size > tdev->p.dmem_max) {
			tdev->dmem_failures++;
			ret = -EAGAIN;
		} else {
			tdev->dmem_current += bo->size;
			bo->charged = bo->size;
		}
	}
	if (!ret) {
		if (!bo->pin_count++ && ccmm_lru_on_list(&bo->lru))
			ccmm_lru_del(&tdev->man[bo->res.mem_type].lru, &bo->lru);
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	return ret;
}

int ccmm_ttm_bo_unpin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_unpin"))
		return -EINVAL;
	if (!bo->pin_count) {
		ccmm_violation(ctx, &ccmm_rule_ttm_unpin_unpinned, ~0ULL, "ttm_bo_unpin of BO %s, which is not pinned",
			       bo->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&tdev->lru_lock);
	if (!--bo->pin_count) {
		tdev->dmem_current -= bo->charged;
		bo->charged = 0;
		if (bo->has_res)
			ccmm_lru_add_tail(&tdev->man[bo->res.mem_type].lru, &bo->lru);
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	return 0;
}

void ccmm_ttm_dmem_show(struct ccmm_ttm_device *tdev, FILE *out)
{
	const char *name = tdev->m->plat->devices[tdev->p.dev].name;

	pthread_mutex_lock(&tdev->lru_lock);
	fprintf(out, "dmem.capacity\ndrm/%s/vram0 %" PRIu64 "\n", name, tdev->p.vram_size);
	fprintf(out, "dmem.current\ndrm/%s/vram0 %" PRIu64 "\n", name, tdev->dmem_current);
	if (tdev->p.dmem_max)
		fprintf(out, "dmem.max\ndrm/%s/vram0 %" PRIu64 "\n", name, tdev->p.dmem_max);
	else
		fprintf(out, "dmem.max\ndrm/%s/vram0 max\n", name);
	pthread_mutex_unlock(&tdev->lru_lock);
}

int ccmm_ttm_dmem_set_max(struct ccmm_ttm_device *tdev, uint64_t max)
{
	int ret = 0;

	pthread_mutex_lock(&tdev->lru_lock);
	if (max && max < tdev->dmem_current)
		ret = -EBUSY;
	else
		tdev->p.dmem_max = max;
	pthread_mutex_unlock(&tdev->lru_lock);
	return ret;
}

/* ---- physical ranges ------------------------------------------------------------------ */

bool _ccmm_ttm_mode_encrypts(const struct ccmm_machine *m)
{
	return ccmm_cc_private_by_default(m->plat->mode) || m->plat->mode == CCMM_CC_SME;
}

int ccmm_ttm_bo_phyr(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_phyr *out)
{
	struct ccmm_phyr_meta meta;
	int ret;

	ccmm_phyr_init(out);
	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_phyr"))
		return -EINVAL;
	if (!bo->has_res)
		return -EINVAL;
	ret = ccmm_ttm_tt_populate(ctx, bo);
	if (ret)
		return ret;
	memset(&meta, 0, sizeof(meta));
	meta.cache = bo->res.caching;
	meta.cpu_mappable = true;
	if (bo->res.is_iomem) {
		meta.provider = bo->tdev->p.dev;
		meta.p2p = true;
		meta.encrypted = false;
		return ccmm_phyr_append(out, &meta, bo->res.bus_base, bo->size);
	}
	meta.provider = -1;
	meta.encrypted = !bo->tt.decrypted && _ccmm_ttm_mode_encrypts(bo->tdev->m);
	ret = ccmm_phyr_append_pages(out, &meta, bo->tt.pages, bo->num_pages, CCMM_PAGE_SIZE);
	if (ret)
		ccmm_phyr_free(out);
	return ret;
}

/* ---- per-machine state --------------------------------------------------------- */

static int ttm_init(struct ccmm_machine *m)
{
	struct ttm_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	ccmm_subsys_set_data(m, &ccmm_subsys_ttm, st);
	return 0;
}

static void ttm_exit(struct ccmm_machine *m)
{
	struct ttm_state *st = ccmm_subsys_data(m, &ccmm_subsys_ttm);
	struct ccmm_ctx ctx;

	if (!st)
		return;
	_ccmm_ttm_internal_ctx(&ctx, m);
	while (st->devs) {
		struct ccmm_ttm_device *tdev = st->devs;

		st->devs = tdev->next;
		_ccmm_ttm_pool_fini(&ctx, tdev);
		pthread_mutex_destroy(&tdev->lru_lock);
		free(tdev->vr);
		free(tdev);
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
	ccmm_subsys_set_data(m, &ccmm_subsys_ttm, NULL);
}

struct ccmm_subsys ccmm_subsys_ttm = {
	.name = "ttm",
	.init = ttm_init,
	.exit = ttm_exit,
	.rules = ttm_rules,
	.block = &ccmm_ttm_block,
};
