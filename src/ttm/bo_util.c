// SPDX-License-Identifier: MIT
/*
 * Moving buffer objects (drivers/gpu/drm/ttm/ttm_bo_util.c) and the
 * default driver: ttm_bo_move_null (the pages stay, only the resource
 * changes), ttm_bo_move_memcpy (a CPU copy through kernel mappings, then
 * ttm_bo_move_sync_cleanup), and an amdgpu-style driver -- VRAM evicts to
 * TT then SYSTEM, TT to SYSTEM, driver domains are purged; SYSTEM <-> TT
 * is a bind or unbind of the same pages; VRAM <-> SYSTEM bounces through
 * TT (-EMULTIHOP, as amdgpu_bo_move since 5.11); the rest is copied once
 * the BO is idle (the copy engine's dependency on the BO's fences). A
 * place of another caching than the tt's pages gets new pages with the
 * bytes copied (ccmm's: the kernel fixes a tt's caching when it creates it).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

#define COPY_CHUNK (64 * 1024)

/* ---- copies through kernel mappings ------------------------------------------------------ */

struct kmapping {
	uint64_t va, size, pages;
	bool iomem;
};

static int map_side(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_resource *res,
		    const uint64_t *pages, bool decrypted, enum ccmm_cache_mode caching, struct kmapping *km)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	int err = 0;

	km->size = bo->size;
	km->pages = bo->num_pages;
	km->iomem = res->is_iomem;
	if (res->is_iomem) {
		/* ttm_kmap_iter_linear_io: ioremap / ioremap_wc, always decrypted */
		km->va = ccmm_ioremap(ctx, res->bus_base, bo->size, caching, &err);
	} else if (pages) {
		/* ttm_kmap_iter_tt: the tt's pages with ttm_prot_from_caching(PAGE_KERNEL) */
		km->va = ccmm_vmap(ctx, pages, bo->num_pages,
				   _ccmm_ttm_tt_prot(tdev, caching, decrypted, ccmm_page_kernel(tdev->m)), &err);
	} else {
		return -EINVAL; /* no CPU-visible memory behind it */
	}
	return km->va ? 0 : (err ? err : -ENOMEM);
}

static void unmap_side(struct ccmm_ctx *ctx, struct kmapping *km)
{
	if (!km->va)
		return;
	if (km->iomem)
		ccmm_iounmap(ctx, km->va, km->size);
	else
		ccmm_vunmap(ctx, km->va, km->pages);
}

int _ccmm_ttm_copy(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_resource *src_res,
		   const struct ccmm_ttm_resource *dst_res, const uint64_t *src_pages, const uint64_t *dst_pages,
		   bool src_decrypted, bool dst_decrypted, enum ccmm_cache_mode src_caching,
		   enum ccmm_cache_mode dst_caching)
{
	struct kmapping s = { 0 }, d = { 0 };
	uint8_t *buf = calloc(1, COPY_CHUNK);
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = map_side(ctx, bo, dst_res, dst_pages, dst_decrypted, dst_caching, &d);
	if (!ret && src_res)
		ret = map_side(ctx, bo, src_res, src_pages, src_decrypted, src_caching, &s);
	for (uint64_t off = 0; !ret && off < bo->size; off += COPY_CHUNK) {
		size_t n = (size_t)CCMM_MIN(COPY_CHUNK, bo->size - off);
		struct ccmm_result r;

		if (src_res)
			ret = ccmm_kernel_access(ctx, CCMM_READ, s.va + off, buf, n, &r);
		if (!ret)
			ret = ccmm_kernel_access(ctx, CCMM_WRITE, d.va + off, buf, n, &r);
	}
	unmap_side(ctx, &s);
	unmap_side(ctx, &d);
	free(buf);
	if (!ret && src_res) {
		pthread_mutex_lock(&bo->tdev->lru_lock);
		bo->tdev->bytes_copied += bo->size;
		pthread_mutex_unlock(&bo->tdev->lru_lock);
	}
	return ret;
}

void _ccmm_ttm_count_move(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool evict)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	pthread_mutex_lock(&tdev->lru_lock);
	tdev->moves++;
	bo->moves++;
	if (evict) {
		tdev->evictions++;
		bo->evictions++;
	}
	pthread_mutex_unlock(&tdev->lru_lock);
	ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_moves), 1);
	if (evict)
		ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_evictions), 1);
}

/* ---- the move helpers ----------------------------------------------------------------------- */

/* ttm_bo_assign_mem: the BO's resource is now @new_mem, at the tail of its manager's LRU. */
static void assign_mem(struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource *new_mem)
{
	pthread_mutex_lock(&bo->tdev->lru_lock);
	bo->res = *new_mem;
	bo->has_res = true;
	bo->prot_valid = false;
	_ccmm_ttm_lru_tail_locked(bo);
	pthread_mutex_unlock(&bo->tdev->lru_lock);
}

/* Free the BO's current resource (ttm_resource_free(bo, &bo->resource)). */
static void free_current(struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_resource old;

	if (!bo->has_res)
		return;
	pthread_mutex_lock(&bo->tdev->lru_lock);
	_ccmm_ttm_lru_del_locked(bo);
	old = bo->res;
	bo->has_res = false;
	pthread_mutex_unlock(&bo->tdev->lru_lock);
	ccmm_ttm_resource_free(bo, &old);
}

void ccmm_ttm_bo_move_null(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource *new_mem)
{
	(void)ctx;
	free_current(bo);
	assign_mem(bo, new_mem);
}

int ccmm_ttm_bo_move_memcpy(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_operation_ctx *op,
			    struct ccmm_ttm_resource *new_mem)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ttm_resource_manager *dst_man = ccmm_ttm_manager_type(tdev, new_mem->mem_type);
	struct ccmm_ttm_resource_manager *src_man;
	struct ccmm_ttm_tt *tt = &bo->tt;
	bool src_tt, dst_tt, clear;
	int ret;

	if (!bo->has_res || !dst_man)
		return -EINVAL;
	src_man = ccmm_ttm_manager_type(tdev, bo->res.mem_type);
	src_tt = src_man && src_man->use_tt;
	dst_tt = dst_man->use_tt;
	if (tt->created && ((tt->page_flags & CCMM_TTM_TT_FLAG_SWAPPED) || dst_tt)) {
		ret = ccmm_ttm_tt_populate(ctx, bo);
		if (ret)
			return ret;
	}
	if (dst_tt && tt->caching != new_mem->caching) {
		ret = _ccmm_ttm_tt_recache(ctx, bo, new_mem->caching);
		if (ret)
			return ret;
	}
	/* an unpopulated tt source is a clear, and only when its pages would have been cleared */
	clear = src_tt && (!tt->created || !tt->populated);
	if (src_tt && dst_tt) {
		/* both sides are the tt's pages: nothing to copy */
	} else if (!(clear && tt->created && !(tt->page_flags & CCMM_TTM_TT_FLAG_ZERO_ALLOC))) {
		/* device-owned (bounced) tt pages are stale to the CPU copy: dma_cpu_unsynced */
		if (src_tt && !clear)
			_ccmm_ttm_tt_cpu_check(ctx, bo, 0, bo->num_pages, CCMM_READ);
		if (dst_tt)
			_ccmm_ttm_tt_cpu_check(ctx, bo, 0, bo->num_pages, CCMM_WRITE);
		ret = _ccmm_ttm_copy(ctx, bo, clear ? NULL : &bo->res, new_mem, src_tt ? tt->pages : NULL,
				     dst_tt ? tt->pages : NULL, tt->decrypted, tt->decrypted, bo->res.caching,
				     new_mem->caching);
		if (ret)
			return ret;
	}
	/* ttm_bo_move_sync_cleanup -> ttm_bo_wait_free_node */
	if (ccmm_dma_resv_wait_timeout(ctx, bo->resv, CCMM_RESV_USAGE_BOOKKEEP, 2LL * 1000000000) <= 0)
		return -EBUSY;
	(void)op;
	if (!dst_tt)
		ccmm_ttm_tt_destroy(ctx, bo);
	free_current(bo);
	assign_mem(bo, new_mem);
	return 0;
}

bool ccmm_ttm_bo_eviction_valuable(struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place)
{
	/* SYSTEM always; otherwise ttm_resource_intersects, and no ccmm manager narrows a place: true */
	(void)bo;
	(void)place;
	return true;
}

/* ---- the default driver (amdgpu-style) -------------------------------------------------------- */

static void default_evict_flags(struct ccmm_ttm_bo *bo, struct ccmm_ttm_placement *pl)
{
	memset(pl, 0, sizeof(*pl));
	switch (bo->res.mem_type) {
	case CCMM_TTM_PL_VRAM:
		/* amdgpu_evict_flags: GTT, else CPU */
		pl->place[pl->nr++] = (struct ccmm_ttm_place){ CCMM_TTM_PL_TT, bo->tdev->p.tt_caching, 0 };
		pl->place[pl->nr++] = (struct ccmm_ttm_place){ CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, 0 };
		break;
	case CCMM_TTM_PL_TT:
	case CCMM_TTM_PL_SYSTEM:
		pl->place[pl->nr++] = (struct ccmm_ttm_place){ CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB, 0 };
		break;
	default:
		break; /* driver domains (GDS, GWS, OA): purged */
	}
}

static int default_move(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool evict, struct ccmm_ttm_operation_ctx *op,
			struct ccmm_ttm_resource *new_mem, struct ccmm_ttm_place *hop)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	enum ccmm_ttm_mem_type old = bo->has_res ? bo->res.mem_type : CCMM_TTM_PL_SYSTEM;
	enum ccmm_ttm_mem_type new = new_mem->mem_type;
	int ret;

	(void)evict;
	if (!bo->has_res || (old == CCMM_TTM_PL_SYSTEM && !bo->tt.created)) {
		/* a new BO: nothing to copy; VRAM is cleared (amdgpu's AMDGPU_GEM_CREATE_VRAM_CLEARED) */
		if (new_mem->is_iomem) {
			ret = _ccmm_ttm_copy(ctx, bo, NULL, new_mem, NULL, NULL, false, false, new_mem->caching,
					     new_mem->caching);
			if (ret)
				return ret;
		}
		if (bo->tt.created && !bo->tt.populated)
			bo->tt.caching = new_mem->caching;
		ccmm_ttm_bo_move_null(ctx, bo, new_mem);
		return 0;
	}
	if ((old == CCMM_TTM_PL_SYSTEM && new == CCMM_TTM_PL_TT) || (old == CCMM_TTM_PL_TT && new == CCMM_TTM_PL_SYSTEM)) {
		/* bind / unbind: the same pages (unbinding waits for the GPU) */
		if (old == CCMM_TTM_PL_TT) {
			ret = ccmm_ttm_bo_wait_ctx(ctx, bo, op);
			if (ret)
				return ret;
		}
		if (bo->tt.caching != new_mem->caching) {
			ret = _ccmm_ttm_tt_recache(ctx, bo, new_mem->caching);
			if (ret)
				return ret;
		}
		ccmm_ttm_bo_move_null(ctx, bo, new_mem);
		return 0;
	}
	if ((old == CCMM_TTM_PL_SYSTEM && new == CCMM_TTM_PL_VRAM) || (old == CCMM_TTM_PL_VRAM && new == CCMM_TTM_PL_SYSTEM)) {
		*hop = (struct ccmm_ttm_place){ CCMM_TTM_PL_TT, tdev->p.tt_caching, CCMM_TTM_PL_FLAG_TEMPORARY };
		return -EMULTIHOP;
	}
	if (!_ccmm_ttm_man_has_memory(tdev, old) || !_ccmm_ttm_man_has_memory(tdev, new)) {
		/* a domain without CPU-visible memory: nothing to save */
		ccmm_ttm_bo_move_null(ctx, bo, new_mem);
		return 0;
	}
	ret = ccmm_ttm_bo_wait_ctx(ctx, bo, op);
	if (ret)
		return ret;
	return ccmm_ttm_bo_move_memcpy(ctx, bo, op, new_mem);
}

const struct ccmm_ttm_device_funcs ccmm_ttm_default_funcs = {
	.evict_flags = default_evict_flags,
	.move = default_move,
	.eviction_valuable = ccmm_ttm_bo_eviction_valuable,
	.ttm_tt_create = NULL,
};
