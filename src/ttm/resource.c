// SPDX-License-Identifier: MIT
/*
 * Resource managers and resources (ttm_resource.c, ttm_sys_manager.c,
 * ttm_range_manager.c): the SYSTEM manager, range managers over the GART
 * aperture or a driver domain, the VRAM manager over the GPU's BAR, the
 * LRU lists and the pinned list, resource allocation with dmem charging
 * (6.14's ttm_resource_alloc), compatibility with a placement, and
 * evicting a manager empty.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

const char *ccmm_ttm_mem_type_name(enum ccmm_ttm_mem_type t)
{
	static const char *const n[] = { "system", "tt", "vram", "priv0", "priv1", "priv2", "priv3", "priv4" };

	return (unsigned)t < CCMM_ARRAY_SIZE(n) ? n[t] : "?";
}

int ccmm_ttm_mem_type_parse(const char *s)
{
	if (!strcmp(s, "gtt"))
		return CCMM_TTM_PL_TT;
	for (int t = 0; t < CCMM_TTM_PL_NR; t++)
		if (!strcmp(s, ccmm_ttm_mem_type_name((enum ccmm_ttm_mem_type)t)))
			return t;
	return -1;
}

/* ---- a first-fit range allocator (drm_mm as ttm_range_manager uses it) ------------- */

struct range {
	uint64_t start, size; /* bytes */
};

struct range_man {
	struct range *r;      /* allocated ranges, sorted */
	size_t nr, cap;
};

/* First fit from the bottom, or the last fit from the top (TOPDOWN). lru_lock held. */
static int range_alloc(struct range_man *rm, uint64_t total, uint64_t size, bool topdown, uint64_t *start)
{
	uint64_t at = 0, best = UINT64_MAX;
	size_t i, best_i = 0;

	for (i = 0; i <= rm->nr; i++) {
		uint64_t end = i < rm->nr ? rm->r[i].start : total;

		if (end >= at && end - at >= size) {
			if (!topdown) {
				best = at;
				best_i = i;
				break;
			}
			best = end - size;
			best_i = i;
		}
		if (i < rm->nr)
			at = rm->r[i].start + rm->r[i].size;
	}
	if (best == UINT64_MAX)
		return -ENOSPC;
	if (ccmm_grow((void **)&rm->r, &rm->cap, rm->nr + 1, sizeof(*rm->r)))
		return -ENOMEM;
	memmove(&rm->r[best_i + 1], &rm->r[best_i], (rm->nr - best_i) * sizeof(*rm->r));
	rm->r[best_i].start = best;
	rm->r[best_i].size = size;
	rm->nr++;
	*start = best;
	return 0;
}

static void range_free(struct range_man *rm, uint64_t start)
{
	for (size_t i = 0; i < rm->nr; i++) {
		if (rm->r[i].start == start) {
			memmove(&rm->r[i], &rm->r[i + 1], (rm->nr - i - 1) * sizeof(*rm->r));
			rm->nr--;
			return;
		}
	}
}

/* ---- the manager functions ------------------------------------------------------------ */

static int sys_alloc(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place,
		     struct ccmm_ttm_resource *res)
{
	(void)man, (void)bo, (void)place, (void)res;
	return 0; /* ttm_sys_man_alloc: always */
}

static void sys_free(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_resource *res)
{
	(void)man, (void)res;
}

static const struct ccmm_ttm_resource_manager_func sys_func = { sys_alloc, sys_free, NULL };

static int rng_alloc(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place,
		     struct ccmm_ttm_resource *res)
{
	(void)bo;
	return range_alloc(man->priv, man->size, res->size, place->flags & CCMM_TTM_PL_FLAG_TOPDOWN, &res->start);
}

static void rng_free(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_resource *res)
{
	range_free(man->priv, res->start);
}

static const struct ccmm_ttm_resource_manager_func range_func = { rng_alloc, rng_free, NULL };

static int vram_alloc(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place,
		      struct ccmm_ttm_resource *res)
{
	int ret = rng_alloc(man, bo, place, res);

	if (ret)
		return ret;
	/* io_mem_reserve: the BAR address, io memory (res->placement keeps CONTIGUOUS: one range is) */
	res->placement |= CCMM_TTM_PL_FLAG_CONTIGUOUS;
	res->is_iomem = true;
	res->bus_base = man->tdev->vram_base + res->start;
	return 0;
}

static const struct ccmm_ttm_resource_manager_func vram_func = { vram_alloc, rng_free, NULL };

static void man_init(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_device *tdev,
		     const struct ccmm_ttm_resource_manager_func *func, bool use_tt, uint64_t size, void *priv)
{
	memset(man, 0, sizeof(*man));
	man->tdev = tdev;
	man->func = func;
	man->use_tt = use_tt;
	man->size = size;
	man->priv = priv;
	ccmm_lru_init(&man->lru);
}

void _ccmm_ttm_managers_init(struct ccmm_ttm_device *tdev)
{
	man_init(&tdev->sysman, tdev, &sys_func, true, ccmm_platform_ram(tdev->m->plat, -1), NULL);
	tdev->sysman.use_type = true;
	tdev->man_drv[CCMM_TTM_PL_SYSTEM] = &tdev->sysman;
	man_init(&tdev->ttman, tdev, &range_func, true, tdev->p.tt_size, calloc(1, sizeof(struct range_man)));
	tdev->ttman.use_type = true;
	tdev->man_drv[CCMM_TTM_PL_TT] = &tdev->ttman;
	if (!tdev->p.no_vram) {
		man_init(&tdev->vramman, tdev, &vram_func, false, tdev->p.vram_size, calloc(1, sizeof(struct range_man)));
		tdev->vramman.use_type = true;
		tdev->vramman.cg = tdev->dmem;
		tdev->man_drv[CCMM_TTM_PL_VRAM] = &tdev->vramman;
	}
}

static void man_release(struct ccmm_ctx *ctx, struct ccmm_ttm_resource_manager *man)
{
	struct range_man *rm = man->priv;

	if (man->move) {
		ccmm_dma_fence_put(ctx, man->move);
		man->move = NULL;
	}
	if (rm && (man->func == &range_func || man->func == &vram_func)) {
		free(rm->r);
		free(rm);
		man->priv = NULL;
	}
}

void _ccmm_ttm_managers_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev)
{
	for (int t = 0; t < CCMM_TTM_PL_NR; t++) {
		struct ccmm_ttm_resource_manager *man = tdev->man_drv[t];

		if (!man)
			continue;
		man->use_type = false;
		if (man->func == &range_func && man != &tdev->ttman) {
			man_release(ctx, man);
			free(man);
		}
		tdev->man_drv[t] = NULL;
	}
	/* the device's own managers, also when a driver replaced or cleared them */
	man_release(ctx, &tdev->sysman);
	man_release(ctx, &tdev->ttman);
	man_release(ctx, &tdev->vramman);
}

bool _ccmm_ttm_man_has_memory(struct ccmm_ttm_device *tdev, enum ccmm_ttm_mem_type type)
{
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(tdev, type);

	return man && (man->use_tt || man == &tdev->vramman);
}

struct ccmm_ttm_resource_manager *ccmm_ttm_manager_type(struct ccmm_ttm_device *tdev, int type)
{
	return (unsigned)type < CCMM_TTM_PL_NR ? tdev->man_drv[type] : NULL;
}

int ccmm_ttm_set_driver_manager(struct ccmm_ttm_device *tdev, int type, struct ccmm_ttm_resource_manager *man,
				uint64_t size)
{
	const struct ccmm_ttm_resource_manager_func *func = man->func;
	bool use_tt = man->use_tt;
	void *priv = man->priv;

	if (type <= CCMM_TTM_PL_SYSTEM || type >= CCMM_TTM_PL_NR || !func || !func->alloc || !func->free)
		return -EINVAL;
	pthread_mutex_lock(&tdev->lru_lock);
	if (tdev->man_drv[type]) {
		pthread_mutex_unlock(&tdev->lru_lock);
		return -EEXIST;
	}
	man_init(man, tdev, func, use_tt, size, priv);
	man->use_type = true;
	tdev->man_drv[type] = man;
	pthread_mutex_unlock(&tdev->lru_lock);
	return 0;
}

void ccmm_ttm_clear_driver_manager(struct ccmm_ttm_device *tdev, int type)
{
	if (type <= CCMM_TTM_PL_SYSTEM || type >= CCMM_TTM_PL_NR)
		return;
	pthread_mutex_lock(&tdev->lru_lock);
	if (tdev->man_drv[type]) {
		tdev->man_drv[type]->use_type = false;
		tdev->man_drv[type] = NULL;
	}
	pthread_mutex_unlock(&tdev->lru_lock);
}

int ccmm_ttm_range_man_init(struct ccmm_ttm_device *tdev, int type, bool use_tt, uint64_t size)
{
	struct ccmm_ttm_resource_manager *man = calloc(1, sizeof(*man));
	struct range_man *rm = calloc(1, sizeof(*rm));
	int ret;

	if (!man || !rm) {
		free(man);
		free(rm);
		return -ENOMEM;
	}
	man->func = &range_func;
	man->use_tt = use_tt;
	man->priv = rm;
	ret = ccmm_ttm_set_driver_manager(tdev, type, man, CCMM_ALIGN_DOWN(size, CCMM_PAGE_SIZE));
	if (ret) {
		free(rm);
		free(man);
	}
	return ret;
}

int ccmm_ttm_range_man_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, int type)
{
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(tdev, type);
	int ret;

	if (!man || man->func != &range_func || man == &tdev->ttman)
		return -EINVAL;
	ccmm_ttm_resource_manager_set_used(man, false);
	ret = ccmm_ttm_resource_manager_evict_all(ctx, man);
	if (ret) {
		ccmm_ttm_resource_manager_set_used(man, true);
		return ret;
	}
	pthread_mutex_lock(&tdev->lru_lock);
	tdev->man_drv[type] = NULL;
	pthread_mutex_unlock(&tdev->lru_lock);
	man_release(ctx, man);
	free(man);
	return 0;
}

void ccmm_ttm_resource_manager_set_used(struct ccmm_ttm_resource_manager *man, bool used)
{
	man->use_type = used;
}

bool ccmm_ttm_resource_manager_used(const struct ccmm_ttm_resource_manager *man)
{
	return man->use_type;
}

uint64_t ccmm_ttm_resource_manager_usage(struct ccmm_ttm_resource_manager *man)
{
	uint64_t u;

	pthread_mutex_lock(&man->tdev->lru_lock);
	u = man->usage;
	pthread_mutex_unlock(&man->tdev->lru_lock);
	return u;
}

void ccmm_ttm_manager_set_move(struct ccmm_ttm_resource_manager *man, struct ccmm_dma_fence *fence)
{
	struct ccmm_dma_fence *old;
	struct ccmm_ctx ctx;

	_ccmm_ttm_internal_ctx(&ctx, man->tdev->m);
	if (fence)
		ccmm_dma_fence_get(&ctx, fence);
	pthread_mutex_lock(&man->tdev->lru_lock);
	old = man->move;
	man->move = fence;
	pthread_mutex_unlock(&man->tdev->lru_lock);
	if (old)
		ccmm_dma_fence_put(&ctx, old);
}

int ccmm_ttm_resource_manager_evict_all(struct ccmm_ctx *ctx, struct ccmm_ttm_resource_manager *man)
{
	struct ccmm_ttm_operation_ctx op = { .interruptible = false, .no_wait_gpu = false };
	struct ccmm_dma_fence *fence;
	int ret;

	do
		ret = ccmm_ttm_bo_evict_first(ctx, man, &op);
	while (!ret);
	if (ret != -ENOENT)
		return ret;
	pthread_mutex_lock(&man->tdev->lru_lock);
	fence = man->move ? ccmm_dma_fence_get(ctx, man->move) : NULL;
	pthread_mutex_unlock(&man->tdev->lru_lock);
	if (fence) {
		int64_t r = ccmm_dma_fence_wait_timeout(ctx, fence, 2LL * 1000000000);

		ccmm_dma_fence_put(ctx, fence);
		if (r <= 0)
			return r ? (int)r : -EBUSY;
	}
	return 0;
}

/* ---- LRU lists ------------------------------------------------------------------------ */

void _ccmm_ttm_lru_del_locked(struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	if (bo->lru_list == CCMM_TTM_PL_NR)
		ccmm_lru_del(&tdev->pinned, &bo->lru);
	else if (bo->lru_list >= 0)
		ccmm_lru_del(&tdev->man_drv[bo->lru_list]->lru, &bo->lru);
	bo->lru_list = -1;
}

void _ccmm_ttm_lru_tail_locked(struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	_ccmm_ttm_lru_del_locked(bo);
	if (!bo->has_res)
		return;
	if (bo->pin_count) {
		ccmm_lru_add_tail(&tdev->pinned, &bo->lru);
		bo->lru_list = CCMM_TTM_PL_NR;
	} else if (tdev->man_drv[bo->res.mem_type]) {
		ccmm_lru_add_tail(&tdev->man_drv[bo->res.mem_type]->lru, &bo->lru);
		bo->lru_list = (int)bo->res.mem_type;
	}
}

static struct ccmm_ttm_bo *last_of(struct ccmm_lru *l)
{
	return l->nr ? ccmm_container_of(l->head.prev, struct ccmm_ttm_bo, lru) : NULL;
}

struct ccmm_ttm_bo *ccmm_ttm_lru_last(struct ccmm_ttm_device *tdev, int type)
{
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(tdev, type);
	struct ccmm_ttm_bo *bo;

	if (!man)
		return NULL;
	pthread_mutex_lock(&tdev->lru_lock);
	bo = last_of(&man->lru);
	pthread_mutex_unlock(&tdev->lru_lock);
	return bo;
}

struct ccmm_ttm_bo *ccmm_ttm_pinned_last(struct ccmm_ttm_device *tdev)
{
	struct ccmm_ttm_bo *bo;

	pthread_mutex_lock(&tdev->lru_lock);
	bo = last_of(&tdev->pinned);
	pthread_mutex_unlock(&tdev->lru_lock);
	return bo;
}

size_t ccmm_ttm_lru_count(struct ccmm_ttm_device *tdev, int type)
{
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(tdev, type);
	size_t n;

	if (!man)
		return 0;
	pthread_mutex_lock(&tdev->lru_lock);
	n = man->lru.nr;
	pthread_mutex_unlock(&tdev->lru_lock);
	return n;
}

size_t ccmm_ttm_pinned_count(struct ccmm_ttm_device *tdev)
{
	size_t n;

	pthread_mutex_lock(&tdev->lru_lock);
	n = tdev->pinned.nr;
	pthread_mutex_unlock(&tdev->lru_lock);
	return n;
}

/* ---- resources ------------------------------------------------------------------------ */

/* The dmem cgroup of the task @ctx runs as (dmem_cgroup_try_charge's current), with a reference; NULL: the root. */
static struct ccmm_cgroup *current_cgroup(struct ccmm_ctx *ctx)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(ctx->m);

	if (!root || !ctx->task)
		return NULL;
	return ccmm_task_cgroup(root, ctx->task);
}

int ccmm_ttm_resource_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place,
			    struct ccmm_ttm_resource *res, struct ccmm_dmem_pool **limit_pool)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(tdev, place->mem_type);
	struct ccmm_dmem_pool *pool = NULL;
	int ret;

	if (limit_pool)
		*limit_pool = NULL;
	if (!man)
		return -EINVAL;
	if (man->cg) {
		struct ccmm_cgroup *cg = current_cgroup(ctx);

		ret = ccmm_dmem_try_charge(man->cg, cg, bo->size, &pool, limit_pool);
		if (cg)
			ccmm_cgroup_put(cg);
		if (ret) {
			if (ret == -EAGAIN) {
				pthread_mutex_lock(&tdev->lru_lock);
				tdev->dmem_limit_hits++;
				pthread_mutex_unlock(&tdev->lru_lock);
				ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_dmem_limit_hits), 1);
			}
			return ret;
		}
	}
	/* ttm_resource_init, then the manager's alloc */
	memset(res, 0, sizeof(*res));
	res->mem_type = place->mem_type;
	res->caching = place->caching;
	res->placement = place->flags;
	res->size = bo->size;
	pthread_mutex_lock(&tdev->lru_lock);
	ret = man->func->alloc(man, bo, place, res);
	if (!ret)
		man->usage += res->size;
	pthread_mutex_unlock(&tdev->lru_lock);
	if (ret) {
		ccmm_dmem_uncharge(pool, bo->size);
		return ret;
	}
	res->css = pool;
	return 0;
}

void ccmm_ttm_resource_free(struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource *res)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ttm_resource_manager *man = ccmm_ttm_manager_type(tdev, res->mem_type);
	struct ccmm_dmem_pool *pool = res->css;

	pthread_mutex_lock(&tdev->lru_lock);
	if (man) {
		man->func->free(man, res);
		man->usage -= res->size;
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	res->css = NULL;
	ccmm_dmem_uncharge(pool, res->size);
}

bool ccmm_ttm_resource_compatible(struct ccmm_ttm_bo *bo, const struct ccmm_ttm_resource *res,
				  const struct ccmm_ttm_placement *placement, bool evicting)
{
	if (res->placement & CCMM_TTM_PL_FLAG_TEMPORARY)
		return false;
	for (unsigned i = 0; i < placement->nr; i++) {
		const struct ccmm_ttm_place *place = &placement->place[i];
		struct ccmm_ttm_resource_manager *man;

		if (res->mem_type != place->mem_type)
			continue;
		/* ccmm's: a place also names the CPU caching its pages have there */
		if (res->caching != place->caching)
			continue;
		if (place->flags & (evicting ? CCMM_TTM_PL_FLAG_DESIRED : CCMM_TTM_PL_FLAG_FALLBACK))
			continue;
		if ((place->flags & CCMM_TTM_PL_FLAG_CONTIGUOUS) && !(res->placement & CCMM_TTM_PL_FLAG_CONTIGUOUS))
			continue;
		man = ccmm_ttm_manager_type(bo->tdev, res->mem_type);
		if (man && man->func->compatible && !man->func->compatible(man, (struct ccmm_ttm_resource *)res, place,
									   bo->size))
			continue;
		return true;
	}
	return false;
}
