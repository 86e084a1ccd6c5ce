// SPDX-License-Identifier: MIT
/*
 * The TTM device and its buffer objects (drivers/gpu/drm/ttm/ttm_device.c,
 * ttm_bo.c of 6.12, with the dmem-aware eviction of 6.14): device init and
 * fini, BO creation, references, release with the delayed delete of busy
 * BOs, reservation, validation (resource allocation without and with
 * eviction, multihop, move fences, pipeline gutting), the LRU eviction
 * walk with trylocks and one ticketlock per walk within the dmem limit
 * pool, pinning, and swapout.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

CCMM_COST_BLOCK_DEFINE(ttm, CCMM_TTM_COSTS, CCMM_TTM_COUNTERS);

CCMM_RULES_DEFINE(ttm_rules, CCMM_TTM_RULES);

/* How long ccmm waits for a BO to go idle where the kernel waits 15 s (ttm_bo_wait_ctx): modeled runs never hang. */
#define WAIT_NS (2LL * 1000000000)

struct ttm_state *_ccmm_ttm_state(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_ttm);
}

void _ccmm_ttm_internal_ctx(struct ccmm_ctx *ctx, struct ccmm_machine *m)
{
	ccmm_ctx_init(ctx, m, -1, "ttm");
}

void ccmm_ttm_params_default(struct ccmm_ttm_params *p, int dev)
{
	memset(p, 0, sizeof(*p));
	p->dev = dev;
	p->vram_caching = CCMM_CACHE_WC;
	p->tt_caching = CCMM_CACHE_WC;
	p->policy = CCMM_TTM_PROT_BACKING;
	p->resolve = CCMM_TTM_RESOLVE_PER_BO;
	p->decrypted = CCMM_TTM_DECRYPTED_GUEST;
	p->prefault = CCMM_TTM_NUM_PREFAULT;
	p->use_dma_alloc = true;
}

/* ---- devices ---------------------------------------------------------------------------- */

static bool registered(struct ttm_state *st, int dev)
{
	for (struct ccmm_ttm_device *tdev = st->devs; tdev; tdev = tdev->next)
		if (tdev->p.dev == dev)
			return true;
	return false;
}

static void resolve_funcs(struct ccmm_ttm_device *tdev, const struct ccmm_ttm_device_funcs *f)
{
	tdev->funcs = ccmm_ttm_default_funcs;
	if (!f)
		return;
	if (f->evict_flags)
		tdev->funcs.evict_flags = f->evict_flags;
	if (f->move)
		tdev->funcs.move = f->move;
	if (f->eviction_valuable)
		tdev->funcs.eviction_valuable = f->eviction_valuable;
	tdev->funcs.ttm_tt_create = f->ttm_tt_create;
}

int ccmm_ttm_device_init(struct ccmm_ctx *ctx, const struct ccmm_ttm_params *p, struct ccmm_ttm_device **out)
{
	struct ccmm_machine *m = ctx->m;
	struct ttm_state *st = _ccmm_ttm_state(m);
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
	if (!dd || (!p->no_vram && !d->bar[p->vram_bar].size) || p->vram_size > d->bar[p->vram_bar].size ||
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
	tdev = calloc(1, sizeof(*tdev));
	if (!tdev)
		return -ENOMEM;
	tdev->m = m;
	tdev->dma = dd;
	tdev->p = *p;
	resolve_funcs(tdev, p->funcs);
	if (!tdev->p.vram_size && !p->no_vram)
		tdev->p.vram_size = d->bar[p->vram_bar].size;
	if (!tdev->p.tt_size)
		tdev->p.tt_size = 256 * CCMM_MiB;
	if (!tdev->p.prefault)
		tdev->p.prefault = CCMM_TTM_NUM_PREFAULT;
	tdev->vram_base = p->no_vram ? 0 : d->bar[p->vram_bar].base;
	pthread_mutex_init(&tdev->lru_lock, NULL);
	ccmm_lru_init(&tdev->pinned);
	atomic_init(&tdev->live_bos, 0);
	if (!p->no_vram) {
		/* drmm_cgroup_register_region(drm, "vram0", size): the region "drm/<device>/vram0" */
		char name[96];

		snprintf(name, sizeof(name), "drm/%s/vram0", d->name);
		ret = ccmm_dmem_register_region(ccmm_cgroup_root_of(m), tdev->p.vram_size, name, &tdev->dmem);
		if (ret) {
			pthread_mutex_destroy(&tdev->lru_lock);
			free(tdev);
			return ret;
		}
	}
	_ccmm_ttm_managers_init(tdev);
	if (!tdev->ttman.priv || (!p->no_vram && !tdev->vramman.priv)) {
		struct ccmm_ctx local;

		_ccmm_ttm_internal_ctx(&local, m);
		_ccmm_ttm_managers_fini(&local, tdev);
		ccmm_dmem_unregister_region(tdev->dmem);
		pthread_mutex_destroy(&tdev->lru_lock);
		free(tdev);
		return -ENOMEM;
	}
	_ccmm_ttm_pool_init(tdev);
	pthread_mutex_lock(&st->lock);
	if (registered(st, p->dev)) {
		struct ccmm_ctx local;

		pthread_mutex_unlock(&st->lock);
		_ccmm_ttm_internal_ctx(&local, m);
		_ccmm_ttm_pool_fini(&local, tdev);
		_ccmm_ttm_managers_fini(&local, tdev);
		ccmm_dmem_unregister_region(tdev->dmem);
		pthread_mutex_destroy(&tdev->lru_lock);
		free(tdev);
		return -EEXIST;
	}
	tdev->next = st->devs;
	st->devs = tdev;
	pthread_mutex_unlock(&st->lock);
	*out = tdev;
	return 0;
}

struct ccmm_ttm_device *ccmm_ttm_device_find(struct ccmm_machine *m, int dev)
{
	struct ttm_state *st = _ccmm_ttm_state(m);
	struct ccmm_ttm_device *tdev;

	if (!st)
		return NULL;
	pthread_mutex_lock(&st->lock);
	for (tdev = st->devs; tdev && tdev->p.dev != dev; tdev = tdev->next)
		;
	pthread_mutex_unlock(&st->lock);
	return tdev;
}

size_t ccmm_ttm_device_count(struct ccmm_machine *m)
{
	struct ttm_state *st = _ccmm_ttm_state(m);
	size_t n = 0;

	if (!st)
		return 0;
	pthread_mutex_lock(&st->lock);
	for (struct ccmm_ttm_device *tdev = st->devs; tdev; tdev = tdev->next)
		n++;
	pthread_mutex_unlock(&st->lock);
	return n;
}

/* Take @tdev off the device list (ttm_device_fini's list_del). */
static bool unlist(struct ttm_state *st, struct ccmm_ttm_device *tdev)
{
	bool found = false;

	pthread_mutex_lock(&st->lock);
	for (struct ccmm_ttm_device **pp = &st->devs; *pp; pp = &(*pp)->next) {
		if (*pp == tdev) {
			*pp = tdev->next;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&st->lock);
	return found;
}

/* Tear a device down: its delayed deletes, what is left in the driver's managers, its pools and managers. */
static void device_teardown(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev)
{
	ccmm_ttm_device_flush(ctx, tdev);
	for (int t = CCMM_TTM_PL_NR - 1; t > CCMM_TTM_PL_SYSTEM; t--) {
		struct ccmm_ttm_resource_manager *man = tdev->man_drv[t];

		if (man)
			ccmm_ttm_resource_manager_evict_all(ctx, man);
	}
	_ccmm_ttm_pool_fini(ctx, tdev);
	pthread_mutex_lock(&tdev->lru_lock);
	tdev->sysman.use_type = false;
	pthread_mutex_unlock(&tdev->lru_lock);
	_ccmm_ttm_managers_fini(ctx, tdev);
	ccmm_dmem_unregister_region(tdev->dmem);
}

void ccmm_ttm_device_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev)
{
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);

	if (!unlist(st, tdev))
		return;
	device_teardown(ctx, tdev);
	/* the struct stays until the machine goes: BOs and callers may still look at it */
	pthread_mutex_lock(&st->lock);
	tdev->next = st->dead;
	st->dead = tdev;
	pthread_mutex_unlock(&st->lock);
}

const struct ccmm_ttm_params *ccmm_ttm_device_params(const struct ccmm_ttm_device *tdev)
{
	return &tdev->p;
}

const struct ccmm_ttm_device_funcs *ccmm_ttm_device_funcs(const struct ccmm_ttm_device *tdev)
{
	return &tdev->funcs;
}

void ccmm_ttm_device_set_funcs(struct ccmm_ttm_device *tdev, const struct ccmm_ttm_device_funcs *funcs)
{
	resolve_funcs(tdev, funcs);
}

struct ccmm_dma_dev *ccmm_ttm_device_dma(const struct ccmm_ttm_device *tdev)
{
	return tdev->dma;
}

struct ccmm_dmem_region *ccmm_ttm_device_dmem_region(const struct ccmm_ttm_device *tdev)
{
	return tdev->dmem;
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
	struct ttm_state *st = _ccmm_ttm_state(tdev->m);
	struct ccmm_ctx ctx;

	_ccmm_ttm_internal_ctx(&ctx, tdev->m);
	_ccmm_ttm_delayed_delete(&ctx, tdev, false);
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&tdev->lru_lock);
	for (int t = 0; t < CCMM_TTM_PL_NR; t++) {
		struct ccmm_ttm_resource_manager *man = tdev->man_drv[t];

		if (!man)
			continue;
		s->size[t] = man->size;
		s->usage[t] = man->usage;
		s->lru[t] = man->lru.nr;
	}
	s->pinned = tdev->pinned.nr;
	for (struct ccmm_ttm_bo *bo = tdev->deleted; bo; bo = bo->deleted_next)
		s->deleted++;
	s->evictions = tdev->evictions;
	s->moves = tdev->moves;
	s->bytes_copied = tdev->bytes_copied;
	s->swapouts = tdev->swapouts;
	s->dmem_limit_hits = tdev->dmem_limit_hits;
	pthread_mutex_unlock(&tdev->lru_lock);
	pthread_mutex_lock(&st->pool_lock);
	s->pool_hits = tdev->pool.hits;
	s->pool_misses = tdev->pool.misses;
	s->pool_conversions = tdev->pool.conversions;
	s->pool_restores = tdev->pool.restores;
	for (int c = 0; c < CCMM_CACHE_NR; c++)
		for (unsigned o = 0; o < CCMM_TTM_POOL_ORDERS; o++)
			s->pool_pages += (uint64_t)tdev->pool.caching[c][o].nr << o;
	s->pool_allocated_pages = st->allocated_pages;
	s->page_pool_size = st->page_pool_size;
	pthread_mutex_unlock(&st->pool_lock);
	s->pages_allocated = atomic_load(&st->pages_allocated);
	s->pages_limit = st->pages_limit;
}

/* ---- buffer objects --------------------------------------------------------------------- */

static bool placement_ok(const struct ccmm_ttm_placement *pl)
{
	if (!pl || pl->nr > CCMM_TTM_MAX_PLACES)
		return false;
	for (unsigned i = 0; i < pl->nr; i++)
		if ((unsigned)pl->place[i].mem_type >= CCMM_TTM_PL_NR || (unsigned)pl->place[i].caching >= CCMM_CACHE_NR)
			return false;
	return true;
}

int ccmm_ttm_bo_alloc(struct ccmm_ttm_device *tdev, uint64_t size, enum ccmm_ttm_bo_type type, const char *name,
		      struct ccmm_dma_resv *resv, struct ccmm_ttm_bo **out)
{
	struct ccmm_ttm_bo *bo;

	if (!size || size > (1ULL << 40))
		return -EINVAL;
	bo = calloc(1, sizeof(*bo));
	if (!bo)
		return -ENOMEM;
	bo->tdev = tdev;
	bo->type = type;
	snprintf(bo->name, sizeof(bo->name), "%s", name ? name : "bo");
	bo->size = CCMM_ALIGN_UP(size, CCMM_PAGE_SIZE);
	bo->num_pages = (size_t)(bo->size >> CCMM_PAGE_SHIFT);
	ccmm_dma_resv_init(&bo->base_resv);
	bo->resv = resv ? resv : &bo->base_resv;
	bo->lru_list = -1;
	atomic_init(&bo->refcount, 1);
	pthread_mutex_init(&bo->map_lock, NULL);
	atomic_fetch_add(&tdev->live_bos, 1);
	*out = bo;
	return 0;
}

int ccmm_ttm_bo_init_reserved(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t size,
			      enum ccmm_ttm_bo_type type, const struct ccmm_ttm_placement *placement,
			      struct ccmm_ttm_operation_ctx *op, const char *name, struct ccmm_dma_resv *resv,
			      struct ccmm_ttm_bo **out)
{
	struct ccmm_ttm_bo *bo;
	int ret;

	if ((unsigned)type >= CCMM_TTM_BO_NR_TYPES || !placement_ok(placement))
		return -EINVAL;
	/* passed reservation objects must be locked already */
	if (resv && !ccmm_dma_resv_assert_held(ctx, resv, "ttm_bo_init_reserved"))
		return -EINVAL;
	ret = ccmm_ttm_bo_alloc(tdev, size, type, name, resv, &bo);
	if (ret)
		return ret;
	/* a new object: nobody else can hold its own reservation */
	if (!resv && !ccmm_dma_resv_trylock(ctx, bo->resv)) {
		ccmm_ttm_bo_put(ctx, bo);
		return -EBUSY;
	}
	ret = ccmm_ttm_bo_validate_ctx(ctx, bo, placement, op);
	if (ret) {
		if (!resv)
			ccmm_dma_resv_unlock(ctx, bo->resv);
		ccmm_ttm_bo_put(ctx, bo);
		return ret;
	}
	*out = bo;
	return 0;
}

int ccmm_ttm_bo_create(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t size,
		       const struct ccmm_ttm_placement *placement, const char *name, struct ccmm_dma_resv *resv,
		       struct ccmm_ttm_bo **out)
{
	/* amdgpu_bo_create's context: user BOs may evict BOs sharing their reservation */
	struct ccmm_ttm_operation_ctx op = { .interruptible = false, .no_wait_gpu = false, .allow_res_evict = true,
					     .resv = resv };
	bool locked_here = false;
	int ret;

	if (resv && !ccmm_dma_resv_held(resv)) {
		ret = ccmm_dma_resv_lock(ctx, resv, NULL);
		if (ret)
			return ret;
		locked_here = true;
	}
	ret = ccmm_ttm_bo_init_reserved(ctx, tdev, size, CCMM_TTM_BO_DEVICE, placement, &op, name, resv, out);
	if (!ret && !resv)
		ccmm_ttm_bo_unreserve(ctx, *out);
	if (locked_here)
		ccmm_dma_resv_unlock(ctx, resv);
	return ret;
}

struct ccmm_ttm_bo *ccmm_ttm_bo_get(struct ccmm_ttm_bo *bo)
{
	atomic_fetch_add(&bo->refcount, 1);
	return bo;
}

bool _ccmm_ttm_bo_get_unless_zero(struct ccmm_ttm_bo *bo)
{
	int v = atomic_load(&bo->refcount);

	while (v > 0)
		if (atomic_compare_exchange_weak(&bo->refcount, &v, v + 1))
			return true;
	return false;
}

void _ccmm_ttm_bo_cleanup_memtype_use(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_resource old;
	bool had;

	ccmm_ttm_tt_destroy(ctx, bo);
	pthread_mutex_lock(&bo->tdev->lru_lock);
	_ccmm_ttm_lru_del_locked(bo);
	had = bo->has_res;
	old = bo->res;
	bo->has_res = false;
	pthread_mutex_unlock(&bo->tdev->lru_lock);
	if (had)
		ccmm_ttm_resource_free(bo, &old);
}

/*
 * ttm_bo_individualize_resv: a BO sharing a reservation gets copies of its
 * unsignalled fences in its own, and (unless an sg BO) uses that from now
 * on: it is about to be destroyed and nobody reaches it any more.
 */
static void individualize_resv(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_dma_resv *shared = bo->resv;
	struct ccmm_dma_resv_iter cur;
	struct ccmm_dma_fence *f;

	if (shared == &bo->base_resv)
		return;
	if (!ccmm_dma_resv_trylock(ctx, &bo->base_resv))
		return;
	ccmm_dma_resv_iter_begin(&cur, shared, CCMM_RESV_USAGE_BOOKKEEP);
	ccmm_dma_resv_for_each_fence_unlocked(ctx, &cur, f)
	{
		if (!ccmm_dma_resv_reserve_fences(ctx, &bo->base_resv, 1))
			ccmm_dma_resv_add_fence(ctx, &bo->base_resv, f, ccmm_dma_resv_iter_usage(&cur));
	}
	ccmm_dma_resv_iter_end(ctx, &cur);
	ccmm_dma_resv_unlock(ctx, &bo->base_resv);
	if (bo->type != CCMM_TTM_BO_SG) {
		pthread_mutex_lock(&bo->tdev->lru_lock);
		bo->resv = &bo->base_resv;
		pthread_mutex_unlock(&bo->tdev->lru_lock);
	}
}

static void bo_destroy(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	pthread_mutex_lock(&tdev->lru_lock);
	_ccmm_ttm_lru_del_locked(bo);
	pthread_mutex_unlock(&tdev->lru_lock);
	ccmm_ttm_tt_destroy(ctx, bo);
	free(bo->vmas);
	pthread_mutex_destroy(&bo->map_lock);
	ccmm_dma_resv_fini(ctx, &bo->base_resv);
	atomic_fetch_sub(&tdev->live_bos, 1);
	free(bo);
}

/* ttm_bo_release */
static void bo_release(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	if (!bo->deleted) {
		individualize_resv(ctx, bo);
		if (!ccmm_dma_resv_test_signaled(ctx, bo->resv, CCMM_RESV_USAGE_BOOKKEEP) || bo->type == CCMM_TTM_BO_SG ||
		    !ccmm_dma_resv_trylock(ctx, bo->resv)) {
			/* not idle: resurrect it for the delayed delete */
			pthread_mutex_lock(&tdev->lru_lock);
			bo->deleted = true;
			if (bo->pin_count) {
				bo->pin_count = 0;
				_ccmm_ttm_lru_tail_locked(bo);
			}
			atomic_store(&bo->refcount, 1);
			bo->deleted_next = tdev->deleted;
			tdev->deleted = bo;
			pthread_mutex_unlock(&tdev->lru_lock);
			return;
		}
		_ccmm_ttm_bo_cleanup_memtype_use(ctx, bo);
		ccmm_dma_resv_unlock(ctx, bo->resv);
	}
	bo_destroy(ctx, bo);
}

void ccmm_ttm_bo_put(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ctx local;

	if (!bo || atomic_fetch_sub(&bo->refcount, 1) != 1)
		return;
	if (!ctx) {
		_ccmm_ttm_internal_ctx(&local, bo->tdev->m);
		ctx = &local;
	}
	bo_release(ctx, bo);
}

/* Take the first deleted BO that is idle (any with @wait) off the list; NULL when none. */
static struct ccmm_ttm_bo *next_deleted(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, bool wait,
					struct ccmm_ttm_bo *skip)
{
	struct ccmm_ttm_bo *found = NULL;

	pthread_mutex_lock(&tdev->lru_lock);
	for (struct ccmm_ttm_bo **pp = &tdev->deleted; *pp; pp = &(*pp)->deleted_next) {
		struct ccmm_ttm_bo *bo = *pp;

		if (bo == skip)
			continue;
		if (wait || ccmm_dma_resv_test_signaled(ctx, bo->resv, CCMM_RESV_USAGE_BOOKKEEP)) {
			*pp = bo->deleted_next;
			bo->deleted_next = NULL;
			found = bo;
			break;
		}
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	return found;
}

size_t _ccmm_ttm_delayed_delete(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, bool wait)
{
	struct ccmm_ttm_bo *bo, *busy = NULL;
	size_t n = 0;

	/* ttm_bo_delayed_delete: wait for the fences, lock, clean up, drop the resurrected reference */
	while ((bo = next_deleted(ctx, tdev, wait, busy))) {
		bool locked;

		if (wait)
			ccmm_dma_resv_wait_timeout(ctx, bo->resv, CCMM_RESV_USAGE_BOOKKEEP, WAIT_NS);
		locked = wait ? !ccmm_dma_resv_lock(ctx, bo->resv, NULL) : ccmm_dma_resv_trylock(ctx, bo->resv);
		if (!locked) {
			/* somebody holds it (a trylock of the opportunistic pass, or sim mode): later */
			pthread_mutex_lock(&tdev->lru_lock);
			bo->deleted_next = tdev->deleted;
			tdev->deleted = bo;
			pthread_mutex_unlock(&tdev->lru_lock);
			if (busy || wait)
				break;
			busy = bo;
			continue;
		}
		_ccmm_ttm_bo_cleanup_memtype_use(ctx, bo);
		ccmm_dma_resv_unlock(ctx, bo->resv);
		ccmm_ttm_bo_put(ctx, bo);
		n++;
	}
	return n;
}

size_t ccmm_ttm_device_flush(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev)
{
	return _ccmm_ttm_delayed_delete(ctx, tdev, true);
}

/* ---- reservation ------------------------------------------------------------------------ */

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
	/* ttm_bo_move_to_lru_tail_unlocked: the LRU tail, or the pinned list */
	pthread_mutex_lock(&bo->tdev->lru_lock);
	if (bo->has_res)
		_ccmm_ttm_lru_tail_locked(bo);
	pthread_mutex_unlock(&bo->tdev->lru_lock);
	ccmm_dma_resv_unlock(ctx, bo->resv);
}

int ccmm_ttm_bo_wait(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_dma_resv_usage usage,
		     int64_t timeout_ns)
{
	return ccmm_dma_resv_wait_timeout(ctx, bo->resv, usage, timeout_ns) > 0 ? 0 : -EBUSY;
}

int ccmm_ttm_bo_wait_ctx(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_operation_ctx *op)
{
	int64_t ret;

	if (op && op->no_wait_gpu)
		return ccmm_dma_resv_test_signaled(ctx, bo->resv, CCMM_RESV_USAGE_BOOKKEEP) ? 0 : -EBUSY;
	ret = ccmm_dma_resv_wait_timeout(ctx, bo->resv, CCMM_RESV_USAGE_BOOKKEEP, WAIT_NS);
	if (ret < 0)
		return (int)ret;
	return ret ? 0 : -EBUSY;
}

/* ---- validation ----------------------------------------------------------------------------- */

static int handle_move_mem(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource *mem, bool evict,
			   struct ccmm_ttm_operation_ctx *op, struct ccmm_ttm_place *hop);

/* ttm_bo_pipeline_gutting: drop the backing; a busy BO's goes to a ghost that dies when the fences signal. */
static int pipeline_gutting(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ttm_bo *ghost;
	struct ccmm_ttm_tt old_tt;
	int ret;

	if (ccmm_dma_resv_test_signaled(ctx, bo->resv, CCMM_RESV_USAGE_BOOKKEEP)) {
		if (!bo->tt.created) {
			ret = ccmm_ttm_tt_create(ctx, bo, true);
			if (ret)
				return ret;
		} else {
			ccmm_ttm_tt_unpopulate(ctx, bo);
			if (bo->type == CCMM_TTM_BO_DEVICE)
				bo->tt.page_flags |= CCMM_TTM_TT_FLAG_ZERO_ALLOC; /* ttm_tt_mark_for_clear */
		}
		if (bo->has_res) {
			struct ccmm_ttm_resource old;

			pthread_mutex_lock(&tdev->lru_lock);
			_ccmm_ttm_lru_del_locked(bo);
			old = bo->res;
			bo->has_res = false;
			pthread_mutex_unlock(&tdev->lru_lock);
			ccmm_ttm_resource_free(bo, &old);
		}
		return 0;
	}
	/* ttm_buffer_object_transfer: a ghost takes the resource and the tt, the BO gets a fresh tt */
	ret = ccmm_ttm_bo_alloc(tdev, bo->size, bo->type, "ghost", NULL, &ghost);
	if (ret)
		return ret;
	old_tt = bo->tt;
	memset(&bo->tt, 0, sizeof(bo->tt));
	ret = ccmm_ttm_tt_create(ctx, bo, true);
	if (ret) {
		bo->tt = old_tt;
		ccmm_ttm_bo_put(ctx, ghost);
		return ret;
	}
	ghost->tt = old_tt;
	pthread_mutex_lock(&tdev->lru_lock);
	_ccmm_ttm_lru_del_locked(bo);
	ghost->res = bo->res;
	ghost->has_res = bo->has_res;
	bo->has_res = false;
	bo->prot_valid = false;
	if (ghost->has_res)
		_ccmm_ttm_lru_tail_locked(ghost);
	pthread_mutex_unlock(&tdev->lru_lock);
	/* the ghost's own reservation gets the busy fences */
	if (ccmm_dma_resv_trylock(ctx, ghost->resv)) {
		struct ccmm_dma_resv_iter cur;
		struct ccmm_dma_fence *f;

		ccmm_dma_resv_iter_begin(&cur, bo->resv, CCMM_RESV_USAGE_BOOKKEEP);
		ccmm_dma_resv_for_each_fence_unlocked(ctx, &cur, f)
		{
			if (!ccmm_dma_resv_reserve_fences(ctx, ghost->resv, 1))
				ccmm_dma_resv_add_fence(ctx, ghost->resv, f, ccmm_dma_resv_iter_usage(&cur));
		}
		ccmm_dma_resv_iter_end(ctx, &cur);
		ccmm_dma_resv_unlock(ctx, ghost->resv);
	}
	ccmm_ttm_bo_put(ctx, ghost);
	return 0;
}

/* ttm_bo_add_move_fence: the manager's last move as a KERNEL fence of the BO; -EBUSY with no_wait_gpu. */
static int add_move_fence(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource_manager *man,
			  bool no_wait_gpu)
{
	struct ccmm_dma_fence *fence;
	int ret;

	pthread_mutex_lock(&bo->tdev->lru_lock);
	fence = man->move ? ccmm_dma_fence_get(ctx, man->move) : NULL;
	pthread_mutex_unlock(&bo->tdev->lru_lock);
	if (!fence)
		return 0;
	if (no_wait_gpu) {
		ret = ccmm_dma_fence_is_signaled(ctx, fence) ? 0 : -EBUSY;
		ccmm_dma_fence_put(ctx, fence);
		return ret;
	}
	ret = ccmm_dma_resv_add_fence(ctx, bo->resv, fence, CCMM_RESV_USAGE_KERNEL);
	if (!ret)
		ret = ccmm_dma_resv_reserve_fences(ctx, bo->resv, 1);
	ccmm_dma_fence_put(ctx, fence);
	return ret;
}

/* The state of one eviction walk (struct ttm_bo_evict_walk + struct ttm_lru_walk). */
struct evict_walk {
	const struct ccmm_ttm_place *place;
	struct ccmm_ttm_bo *evictor;
	struct ccmm_ttm_resource *res;     /* where the allocation goes once room was made; NULL: just evict */
	struct ccmm_ttm_operation_ctx *op;
	struct ccmm_ww_acquire_ctx *ticket; /* cleared after one ticketlock */
	bool trylock_only;
	unsigned long evicted;
	struct ccmm_dmem_pool *limit_pool;
	bool try_low, hit_low;
	bool swapout;                       /* the swapout walk (ttm_bo_swapout_cb) rather than eviction */
};

static int bo_evict(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_operation_ctx *op);
static long swapout_cb(struct ccmm_ctx *ctx, struct evict_walk *w, struct ccmm_ttm_bo *bo);

/* ttm_bo_evict_cb: 1 when room was made (and taken), 0 to go on, or an errno that ends the walk. */
static long evict_cb(struct ccmm_ctx *ctx, struct evict_walk *w, struct ccmm_ttm_bo *bo)
{
	long lret;

	if (!ccmm_dmem_evict_valuable(w->limit_pool, bo->res.css, w->try_low, &w->hit_low))
		return 0;
	if (bo->pin_count || !bo->tdev->funcs.eviction_valuable(bo, w->place))
		return 0;
	if (bo->deleted) {
		lret = ccmm_ttm_bo_wait_ctx(ctx, bo, w->op);
		if (!lret)
			_ccmm_ttm_bo_cleanup_memtype_use(ctx, bo);
	} else {
		lret = bo_evict(ctx, bo, w->op);
	}
	if (lret)
		goto out;
	w->evicted++;
	if (w->res)
		lret = ccmm_ttm_resource_alloc(ctx, w->evictor, w->place, w->res, NULL);
	if (lret == 0)
		return 1;
out:
	/* errors that should end the walk */
	if (lret == -ENOSPC)
		return -EBUSY;
	return lret;
}

/*
 * ttm_lru_walk_for_evict over @man's LRU as it is now (target: one): each
 * BO trylocked (or, taking BOs of the caller's reservation when allowed,
 * used as it is), else with the walk's ticket ticketlocked (once per walk;
 * -EDEADLK there is -ENOSPC: the transaction must back off). Returns the
 * progress (0 or 1) or an errno.
 */
static long lru_walk(struct ccmm_ctx *ctx, struct ccmm_ttm_resource_manager *man, struct evict_walk *w)
{
	struct ccmm_ttm_device *tdev = man->tdev;
	struct ccmm_ttm_bo **snap = NULL;
	size_t n = 0, cap = 0, i;
	long progress = 0;
	int type = -1;

	pthread_mutex_lock(&tdev->lru_lock);
	for (int t = 0; t < CCMM_TTM_PL_NR; t++)
		if (tdev->man_drv[t] == man)
			type = t;
	for (struct ccmm_lru_node *nd = ccmm_lru_oldest(&man->lru); nd && nd != &man->lru.head; nd = nd->next) {
		struct ccmm_ttm_bo *bo = ccmm_container_of(nd, struct ccmm_ttm_bo, lru);

		if (bo == w->evictor || ccmm_grow((void **)&snap, &cap, n + 1, sizeof(*snap)))
			continue;
		if (_ccmm_ttm_bo_get_unless_zero(bo))
			snap[n++] = bo;
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	for (i = 0; i < n && progress >= 0 && progress < 1; i++) {
		struct ccmm_ttm_bo *bo = snap[i];
		bool needs_unlock = false, locked = false;
		long lret = 0;

		if (ccmm_dma_resv_trylock(ctx, bo->resv)) {
			locked = needs_unlock = true;
		} else if (w->op && w->op->allow_res_evict && bo->resv == w->op->resv && ccmm_dma_resv_held(bo->resv)) {
			locked = true;
		} else if (!w->ticket || (w->op && w->op->no_wait_gpu) || w->trylock_only) {
			ccmm_ttm_bo_put(ctx, bo);
			continue;
		}
		if (!locked) {
			/* ttm_lru_walk_ticketlock: only one per walk, it is prone to -EDEADLK */
			lret = ccmm_dma_resv_lock(ctx, bo->resv, w->ticket);
			if (!lret) {
				needs_unlock = true;
				w->ticket = NULL;
			} else if (lret == -EDEADLK) {
				lret = -ENOSPC;
			}
		}
		/* it may have moved between the LRU and the lock */
		if (!lret && bo->has_res && (int)bo->res.mem_type == type)
			lret = w->swapout ? swapout_cb(ctx, w, bo) : evict_cb(ctx, w, bo);
		if (needs_unlock)
			ccmm_dma_resv_unlock(ctx, bo->resv);
		ccmm_ttm_bo_put(ctx, bo);
		if (lret == -EBUSY || lret == -EALREADY)
			lret = 0;
		progress = lret < 0 ? lret : progress + lret;
	}
	for (; i < n; i++)
		ccmm_ttm_bo_put(ctx, snap[i]);
	free(snap);
	return progress;
}

/* ttm_bo_evict_alloc (6.14): trylock walks, then with the ticket while it makes progress; low protection last. */
static int evict_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_resource_manager *man, const struct ccmm_ttm_place *place,
		       struct ccmm_ttm_bo *evictor, struct ccmm_ttm_operation_ctx *op,
		       struct ccmm_ww_acquire_ctx *ticket, struct ccmm_ttm_resource *res,
		       struct ccmm_dmem_pool *limit_pool)
{
	struct evict_walk w = { .place = place, .evictor = evictor, .res = res, .op = op, .ticket = ticket,
				.trylock_only = true, .limit_pool = limit_pool };
	long lret;

	lret = lru_walk(ctx, man, &w);
	/* one more attempt if the low protection stood in the way */
	if (!lret && w.hit_low) {
		w.try_low = true;
		lret = lru_walk(ctx, man, &w);
	}
	if (lret || !ticket)
		goto out;
	w.try_low = w.hit_low = false;
	w.trylock_only = false;
retry:
	do {
		/* the walk may clear the ticket */
		w.ticket = ticket;
		w.evicted = 0;
		lret = lru_walk(ctx, man, &w);
	} while (!lret && w.evicted);
	if (!lret && w.hit_low && !w.try_low) {
		w.try_low = true;
		goto retry;
	}
out:
	if (lret < 0)
		return (int)lret;
	return lret == 0 ? -EBUSY : 0;
}

/* ttm_bo_alloc_resource */
static int alloc_resource(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement,
			  struct ccmm_ttm_operation_ctx *op, bool force_space, struct ccmm_ttm_resource *res)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ww_acquire_ctx *ticket = ccmm_dma_resv_locking_ctx(bo->resv);
	int ret;

	ret = ccmm_dma_resv_reserve_fences(ctx, bo->resv, 1);
	if (ret)
		return ret;
	for (unsigned i = 0; i < placement->nr; i++) {
		const struct ccmm_ttm_place *place = &placement->place[i];
		struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(tdev, place->mem_type);
		struct ccmm_dmem_pool *limit_pool = NULL;
		bool may_evict;

		if (!man || !ccmm_ttm_resource_manager_used(man))
			continue;
		if (place->flags & (force_space ? CCMM_TTM_PL_FLAG_DESIRED : CCMM_TTM_PL_FLAG_FALLBACK))
			continue;
		may_evict = force_space && place->mem_type != CCMM_TTM_PL_SYSTEM;
		ret = ccmm_ttm_resource_alloc(ctx, bo, place, res, force_space ? &limit_pool : NULL);
		if (ret) {
			if (ret != -ENOSPC && ret != -EAGAIN) {
				ccmm_dmem_pool_put(limit_pool);
				return ret;
			}
			if (!may_evict) {
				ccmm_dmem_pool_put(limit_pool);
				continue;
			}
			ret = evict_alloc(ctx, man, place, bo, op, ticket, res, limit_pool);
			ccmm_dmem_pool_put(limit_pool);
			if (ret == -EBUSY)
				continue;
			if (ret)
				return ret;
		}
		ret = add_move_fence(ctx, bo, man, op->no_wait_gpu);
		if (ret) {
			ccmm_ttm_resource_free(bo, res);
			if (ret == -EBUSY)
				continue;
			return ret;
		}
		return 0;
	}
	return -ENOSPC;
}

int ccmm_ttm_bo_mem_space(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement,
			  struct ccmm_ttm_operation_ctx *op, struct ccmm_ttm_resource *res)
{
	bool force_space = false;
	int ret;

	do {
		ret = alloc_resource(ctx, bo, placement, op, force_space, res);
		force_space = !force_space;
	} while (ret == -ENOSPC && force_space);
	return ret;
}

/* ttm_bo_handle_move_mem */
static int handle_move_mem(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource *mem, bool evict,
			   struct ccmm_ttm_operation_ctx *op, struct ccmm_ttm_place *hop)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ttm_resource_manager *old_man = bo->has_res ? ccmm_ttm_manager_type(tdev, bo->res.mem_type) : NULL;
	bool old_use_tt = !bo->has_res || (old_man && old_man->use_tt);
	bool new_use_tt = ccmm_ttm_manager_type(tdev, mem->mem_type)->use_tt;
	bool had = bo->has_res;
	struct ccmm_ttm_place dummy;
	int ret;

	if (had && bo->move_notify)
		bo->move_notify(ctx, bo, bo->move_priv); /* the driver's move_notify: dma_buf_move_notify */
	ccmm_ttm_bo_unmap_virtual(ctx, bo);
	if (new_use_tt) {
		/* zero-initialise the new tt if the old location had one as well */
		ret = ccmm_ttm_tt_create(ctx, bo, old_use_tt);
		if (ret)
			goto out_err;
		if (!bo->tt.populated)
			bo->tt.caching = mem->caching;
		if (mem->mem_type != CCMM_TTM_PL_SYSTEM) {
			ret = ccmm_ttm_tt_populate(ctx, bo);
			if (ret)
				goto out_err;
		}
	}
	ret = ccmm_dma_resv_reserve_fences(ctx, bo->resv, 1);
	if (ret)
		goto out_err;
	ret = tdev->funcs.move(ctx, bo, evict, op, mem, hop ? hop : &dummy);
	if (ret) {
		if (ret == -EMULTIHOP)
			return ret;
		goto out_err;
	}
	op->bytes_moved += bo->size;
	if (had) {
		_ccmm_ttm_count_move(ctx, bo, evict);
		if (bo->moved)
			bo->moved(ctx, bo, bo->move_priv);
	}
	return 0;
out_err:
	if (!old_use_tt)
		ccmm_ttm_tt_destroy(ctx, bo);
	return ret;
}

/* ttm_bo_bounce_temp_buffer: the first hop of a multihop move. */
static int bounce_temp_buffer(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_operation_ctx *op,
			      struct ccmm_ttm_place *hop)
{
	struct ccmm_ttm_placement hop_placement = { 1, { *hop } };
	struct ccmm_ttm_resource hop_mem;
	int ret;

	ret = ccmm_ttm_bo_mem_space(ctx, bo, &hop_placement, op, &hop_mem);
	if (ret)
		return ret;
	ret = handle_move_mem(ctx, bo, &hop_mem, false, op, NULL);
	if (ret) {
		ccmm_ttm_resource_free(bo, &hop_mem);
		return ret;
	}
	return 0;
}

/* ttm_bo_evict */
static int bo_evict(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_operation_ctx *op)
{
	struct ccmm_ttm_placement placement = { 0 };
	struct ccmm_ttm_resource evict_mem;
	struct ccmm_ttm_place hop;
	int ret;

	bo->tdev->funcs.evict_flags(bo, &placement);
	if (!placement.nr) {
		ret = ccmm_ttm_bo_wait_ctx(ctx, bo, op);
		if (ret)
			return ret;
		/* since we've synced, this frees the backing store at once */
		return pipeline_gutting(ctx, bo);
	}
	ret = ccmm_ttm_bo_mem_space(ctx, bo, &placement, op, &evict_mem);
	if (ret)
		return ret;
	do {
		ret = handle_move_mem(ctx, bo, &evict_mem, true, op, &hop);
		if (ret != -EMULTIHOP)
			break;
		ret = bounce_temp_buffer(ctx, bo, op, &hop);
	} while (!ret);
	if (ret)
		ccmm_ttm_resource_free(bo, &evict_mem);
	return ret;
}

int ccmm_ttm_bo_evict(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_operation_ctx op = { .interruptible = false, .no_wait_gpu = false };

	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_evict"))
		return -EINVAL;
	if (bo->pin_count) {
		ccmm_violation(ctx, &ccmm_rule_ttm_pinned_move, ~0ULL, "eviction of pinned BO %s (pin count %u)", bo->name,
			       bo->pin_count);
		return -EBUSY;
	}
	if (!bo->has_res)
		return 0;
	return bo_evict(ctx, bo, &op);
}

int ccmm_ttm_bo_evict_first(struct ccmm_ctx *ctx, struct ccmm_ttm_resource_manager *man,
			    struct ccmm_ttm_operation_ctx *op)
{
	struct ccmm_ttm_device *tdev = man->tdev;
	struct ccmm_lru_node *n;
	struct ccmm_ttm_bo *bo = NULL;
	int type = -1, ret;

	pthread_mutex_lock(&tdev->lru_lock);
	for (int t = 0; t < CCMM_TTM_PL_NR; t++)
		if (tdev->man_drv[t] == man)
			type = t;
	n = ccmm_lru_oldest(&man->lru);
	if (!n) {
		pthread_mutex_unlock(&tdev->lru_lock);
		return -ENOENT;
	}
	bo = ccmm_container_of(n, struct ccmm_ttm_bo, lru);
	if (!_ccmm_ttm_bo_get_unless_zero(bo)) {
		pthread_mutex_unlock(&tdev->lru_lock);
		return 0;
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	ret = ccmm_ttm_bo_reserve(ctx, bo, op->no_wait_gpu, NULL);
	if (ret) {
		ccmm_ttm_bo_put(ctx, bo);
		return ret;
	}
	if (bo->has_res && (int)bo->res.mem_type == type) {
		if (bo->deleted) {
			ret = ccmm_ttm_bo_wait_ctx(ctx, bo, op);
			if (!ret)
				_ccmm_ttm_bo_cleanup_memtype_use(ctx, bo);
		} else {
			ret = bo_evict(ctx, bo, op);
		}
	}
	ccmm_dma_resv_unlock(ctx, bo->resv);
	ccmm_ttm_bo_put(ctx, bo);
	return ret;
}

int ccmm_ttm_bo_validate_ctx(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement,
			     struct ccmm_ttm_operation_ctx *op)
{
	struct ccmm_ttm_resource res;
	struct ccmm_ttm_place hop;
	bool force_space;
	int ret;

	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_validate"))
		return -EINVAL;
	if (!placement_ok(placement))
		return -EINVAL;
	_ccmm_ttm_delayed_delete(ctx, bo->tdev, false);
	/* remove the backing store if no placement is given */
	if (!placement->nr)
		return pipeline_gutting(ctx, bo);
	force_space = false;
	do {
		/* check whether we need to move the buffer */
		if (bo->has_res && ccmm_ttm_resource_compatible(bo, &bo->res, placement, force_space))
			return 0;
		/* moving pinned BOs is forbidden */
		if (bo->pin_count)
			return -EINVAL;
		ret = alloc_resource(ctx, bo, placement, op, force_space, &res);
		force_space = !force_space;
		if (ret == -ENOSPC)
			continue;
		if (ret)
			return ret;
	bounce:
		ret = handle_move_mem(ctx, bo, &res, false, op, &hop);
		if (ret == -EMULTIHOP) {
			ret = bounce_temp_buffer(ctx, bo, op, &hop);
			/* try and move to the final place now */
			if (!ret)
				goto bounce;
		}
		if (ret) {
			ccmm_ttm_resource_free(bo, &res);
			return ret;
		}
	} while (ret && force_space);
	/* for backward compatibility with userspace */
	if (ret == -ENOSPC)
		return -ENOMEM;
	/* we might need to add a tt */
	if (!bo->has_res || bo->res.mem_type == CCMM_TTM_PL_SYSTEM) {
		ret = ccmm_ttm_tt_create(ctx, bo, true);
		if (ret)
			return ret;
	}
	return 0;
}

int ccmm_ttm_bo_validate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement)
{
	/* a driver's command-submission context: wait for the GPU, BOs of the same reservation may go */
	struct ccmm_ttm_operation_ctx op = { .interruptible = true, .no_wait_gpu = false, .allow_res_evict = true,
					     .resv = bo->resv };

	return ccmm_ttm_bo_validate_ctx(ctx, bo, placement, &op);
}

/* ---- pinning ----------------------------------------------------------------------------------- */

int ccmm_ttm_bo_pin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_pin"))
		return -EINVAL;
	pthread_mutex_lock(&bo->tdev->lru_lock);
	++bo->pin_count;
	pthread_mutex_unlock(&bo->tdev->lru_lock);
	return 0;
}

int ccmm_ttm_bo_unpin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_unpin"))
		return -EINVAL;
	if (!bo->pin_count) {
		ccmm_violation(ctx, &ccmm_rule_ttm_unpin_unpinned, ~0ULL, "ttm_bo_unpin of BO %s, which is not pinned",
			       bo->name);
		return -EINVAL;
	}
	pthread_mutex_lock(&bo->tdev->lru_lock);
	/* the last unpin puts it back at the tail of its manager's LRU at once */
	if (!--bo->pin_count && bo->has_res)
		_ccmm_ttm_lru_tail_locked(bo);
	pthread_mutex_unlock(&bo->tdev->lru_lock);
	return 0;
}

/* ---- swapout ------------------------------------------------------------------------------------- */

/* ttm_bo_swapout_cb: the pages swapped out, or -EBUSY to go on, or an errno. */
static long swapout_cb(struct ccmm_ctx *ctx, struct evict_walk *w, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_place place = { bo->res.mem_type, bo->res.caching, 0 };
	struct ccmm_ttm_operation_ctx *op = w->op;
	long ret;

	if (bo->pin_count || !bo->tdev->funcs.eviction_valuable(bo, &place)) {
		ret = -EBUSY;
		goto out;
	}
	if (!bo->tt.created || !bo->tt.populated || (bo->tt.page_flags & CCMM_TTM_TT_FLAG_EXTERNAL) ||
	    (bo->tt.page_flags & CCMM_TTM_TT_FLAG_SWAPPED)) {
		ret = -EBUSY;
		goto out;
	}
	if (bo->deleted) {
		long num = (long)bo->tt.num_pages;

		ret = ccmm_ttm_bo_wait_ctx(ctx, bo, op);
		if (ret)
			goto out;
		_ccmm_ttm_bo_cleanup_memtype_use(ctx, bo);
		ret = num;
		goto out;
	}
	/* move to system cached */
	if (bo->res.mem_type != CCMM_TTM_PL_SYSTEM) {
		struct ccmm_ttm_resource evict_mem;
		struct ccmm_ttm_place hop;

		place = (struct ccmm_ttm_place){ CCMM_TTM_PL_SYSTEM, bo->tt.caching, 0 };
		ret = ccmm_ttm_resource_alloc(ctx, bo, &place, &evict_mem, NULL);
		if (ret)
			goto out;
		ret = handle_move_mem(ctx, bo, &evict_mem, true, op, &hop);
		if (ret) {
			ccmm_ttm_resource_free(bo, &evict_mem);
			goto out;
		}
	}
	ret = ccmm_ttm_bo_wait_ctx(ctx, bo, op);
	if (ret)
		goto out;
	ccmm_ttm_bo_unmap_virtual(ctx, bo);
	if (bo->tt.populated)
		ret = ccmm_ttm_tt_swapout(ctx, bo);
out:
	/* -ENOMEM and -ENOSPC are not fatal */
	if (ret == -ENOMEM || ret == -ENOSPC)
		ret = -EBUSY;
	return ret;
}

long ccmm_ttm_global_swapout(struct ccmm_ctx *ctx, struct ccmm_machine *m, struct ccmm_ttm_operation_ctx *op)
{
	struct ttm_state *st = _ccmm_ttm_state(m);
	struct ccmm_ttm_device *devs[64];
	size_t nd = 0;
	long ret = 0;

	pthread_mutex_lock(&st->lock);
	for (struct ccmm_ttm_device *t = st->devs; t && nd < CCMM_ARRAY_SIZE(devs); t = t->next)
		devs[nd++] = t;
	pthread_mutex_unlock(&st->lock);
	/* ttm_global_swapout over ttm_device_swapout: the use_tt managers of each device in turn */
	for (size_t d = 0; d < nd && !ret; d++) {
		for (int t = CCMM_TTM_PL_SYSTEM; t < CCMM_TTM_PL_NR && !ret; t++) {
			struct ccmm_ttm_resource_manager *man = devs[d]->man_drv[t];
			struct evict_walk w = { .op = op, .trylock_only = true, .swapout = true };

			if (!man || !man->use_tt)
				continue;
			ret = lru_walk(ctx, man, &w);
		}
		if (ret > 0 && unlist(st, devs[d])) {
			/* the device that gave goes to the end of the list */
			struct ccmm_ttm_device **pp;

			pthread_mutex_lock(&st->lock);
			for (pp = &st->devs; *pp; pp = &(*pp)->next)
				;
			devs[d]->next = NULL;
			*pp = devs[d];
			pthread_mutex_unlock(&st->lock);
		}
	}
	return ret;
}

/* ---- per-machine state ---------------------------------------------------------------------- */

static int ttm_init(struct ccmm_machine *m)
{
	struct ttm_state *st = calloc(1, sizeof(*st));
	uint64_t pages = ccmm_platform_ram(m->plat, -1) / CCMM_PAGE_SIZE;

	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	pthread_mutex_init(&st->pool_lock, NULL);
	/* ttm_global_init: about half the RAM for the pools and for populated tts; dma32 at most 2 GiB */
	st->page_pool_size = pages / 2;
	st->pages_limit = pages / 2;
	st->dma32_pages_limit = CCMM_MIN(pages, 2ULL << (30 - CCMM_PAGE_SHIFT));
	atomic_init(&st->pages_allocated, 0);
	atomic_init(&st->dma32_pages_allocated, 0);
	_ccmm_ttm_pool_globals_init(st);
	ccmm_subsys_set_data(m, &ccmm_subsys_ttm, st);
	return 0;
}

void ccmm_ttm_set_pages_limit(struct ccmm_machine *m, uint64_t pages)
{
	struct ttm_state *st = _ccmm_ttm_state(m);

	if (st)
		st->pages_limit = pages ? pages : ccmm_platform_ram(m->plat, -1) / CCMM_PAGE_SIZE / 2;
}

static void free_device(struct ccmm_ttm_device *tdev)
{
	pthread_mutex_destroy(&tdev->lru_lock);
	free(tdev);
}

static void ttm_exit(struct ccmm_machine *m)
{
	struct ttm_state *st = _ccmm_ttm_state(m);
	struct ccmm_ctx ctx;

	if (!st)
		return;
	_ccmm_ttm_internal_ctx(&ctx, m);
	while (st->devs) {
		struct ccmm_ttm_device *tdev = st->devs;

		st->devs = tdev->next;
		device_teardown(&ctx, tdev);
		free_device(tdev);
	}
	while (st->dead) {
		struct ccmm_ttm_device *tdev = st->dead;

		st->dead = tdev->next;
		free_device(tdev);
	}
	_ccmm_ttm_pool_globals_fini(&ctx, st);
	pthread_mutex_destroy(&st->pool_lock);
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
