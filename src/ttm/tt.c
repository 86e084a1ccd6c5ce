// SPDX-License-Identifier: MIT
/*
 * The tt of a buffer object (drivers/gpu/drm/ttm/ttm_tt.c): creation with
 * its flags (ZERO_ALLOC, EXTERNAL, DECRYPTED), the page directory,
 * population from the pools with the machine-wide page limit that swaps
 * other BOs out first, swapout to backing pages and swapin, the CPU-access
 * check of bounced pages, and the physical ranges of a BO.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

bool _ccmm_ttm_mode_encrypts(const struct ccmm_machine *m)
{
	return ccmm_cc_private_by_default(m->plat->mode) || m->plat->mode == CCMM_CC_SME;
}

bool _ccmm_ttm_want_decrypted(const struct ccmm_ttm_device *tdev)
{
	enum ccmm_cc_mode mode = tdev->m->plat->mode;

	if (!tdev->p.use_dma_alloc)
		return false;
	if (tdev->p.decrypted == CCMM_TTM_DECRYPTED_DEVICE)
		return ccmm_force_dma_unencrypted(tdev->dma); /* seed 000: ttm_dma_populate */
	/* ttm_tt_create: cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT) */
	return ccmm_cc_is_guest(mode) && ccmm_cc_private_by_default(mode);
}

/* ---- create, init, destroy ------------------------------------------------------------ */

int ccmm_ttm_tt_init(struct ccmm_ttm_bo *bo, uint32_t page_flags, enum ccmm_cache_mode caching, size_t extra_pages)
{
	struct ccmm_ttm_tt *tt = &bo->tt;
	size_t n = bo->num_pages + extra_pages;

	memset(tt, 0, sizeof(*tt));
	tt->pages = calloc(n, sizeof(*tt->pages));
	tt->dma_address = calloc(n, sizeof(*tt->dma_address));
	tt->order = calloc(n, sizeof(*tt->order));
	if (!tt->pages || !tt->dma_address || !tt->order) {
		free(tt->pages);
		free(tt->dma_address);
		free(tt->order);
		memset(tt, 0, sizeof(*tt));
		return -ENOMEM;
	}
	tt->created = true;
	tt->num_pages = n;
	tt->page_flags = page_flags & ~CCMM_TTM_TT_FLAG_PRIV_POPULATED;
	tt->caching = caching;
	tt->decrypted = page_flags & CCMM_TTM_TT_FLAG_DECRYPTED;
	return 0;
}

int ccmm_ttm_tt_create(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool zero_alloc)
{
	const struct ccmm_ttm_device_funcs *f = &bo->tdev->funcs;
	uint32_t flags = 0;
	int ret;

	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_tt_create"))
		return -EINVAL;
	if (bo->tt.created)
		return 0;
	switch (bo->type) {
	case CCMM_TTM_BO_DEVICE:
		if (zero_alloc)
			flags |= CCMM_TTM_TT_FLAG_ZERO_ALLOC;
		break;
	case CCMM_TTM_BO_KERNEL:
		break;
	case CCMM_TTM_BO_SG:
		flags |= CCMM_TTM_TT_FLAG_EXTERNAL;
		break;
	default:
		return -EINVAL; /* "Illegal buffer object type" */
	}
	/* dma_alloc_coherent with memory encryption: the CPU must map the pages decrypted */
	if (_ccmm_ttm_want_decrypted(bo->tdev))
		flags |= CCMM_TTM_TT_FLAG_DECRYPTED;
	if (f->ttm_tt_create) {
		ret = f->ttm_tt_create(bo, flags);
		if (ret)
			return ret;
		if (bo->tt.created)
			return 0;
	}
	ret = ccmm_ttm_tt_init(bo, flags, bo->has_res ? bo->res.caching : CCMM_CACHE_WB, 0);
	return ret ? -ENOMEM : 0;
}

static void free_swap_storage(struct ccmm_ctx *ctx, struct ccmm_ttm_tt *tt)
{
	if (!tt->swap_storage)
		return;
	for (size_t i = 0; i < tt->num_pages; i++)
		ccmm_free_pages(ctx, tt->swap_storage[i], 0);
	free(tt->swap_storage);
	tt->swap_storage = NULL;
}

void ccmm_ttm_tt_destroy(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_tt *tt = &bo->tt;

	if (!tt->created)
		return;
	ccmm_ttm_tt_unpopulate(ctx, bo);
	free_swap_storage(ctx, tt);
	free(tt->pages);
	free(tt->dma_address);
	free(tt->order);
	memset(tt, 0, sizeof(*tt));
	bo->prot_valid = false;
}

int ccmm_ttm_tt_block_order(const struct ccmm_ttm_bo *bo, size_t i)
{
	if (!bo->tt.populated || i >= bo->tt.num_pages || bo->tt.order[i] == 0xff)
		return -1;
	return bo->tt.order[i];
}

/* ---- populate, unpopulate --------------------------------------------------------------- */

/* ttm_pages_allocated (and the dma32 count) for a tt of @n pages: +1 adds, -1 takes away. */
static void account(struct ccmm_ttm_bo *bo, long dir)
{
	struct ttm_state *st = _ccmm_ttm_state(bo->tdev->m);
	uint64_t n = bo->tt.num_pages;

	if (bo->tt.page_flags & CCMM_TTM_TT_FLAG_EXTERNAL)
		return;
	if (dir > 0) {
		atomic_fetch_add(&st->pages_allocated, n);
		if (bo->tdev->p.use_dma32)
			atomic_fetch_add(&st->dma32_pages_allocated, n);
	} else {
		atomic_fetch_sub(&st->pages_allocated, n);
		if (bo->tdev->p.use_dma32)
			atomic_fetch_sub(&st->dma32_pages_allocated, n);
	}
}

int ccmm_ttm_tt_populate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ttm_state *st = _ccmm_ttm_state(bo->tdev->m);
	struct ccmm_ttm_tt *tt = &bo->tt;
	int ret;

	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_tt_populate"))
		return -EINVAL;
	if (!tt->created)
		return -EINVAL;
	if (tt->populated)
		return 0;
	account(bo, 1);
	/* over the limit: swap other BOs out first (ttm_global_swapout) until below it or nothing goes */
	while (atomic_load(&st->pages_allocated) > st->pages_limit ||
	       atomic_load(&st->dma32_pages_allocated) > st->dma32_pages_limit) {
		struct ccmm_ttm_operation_ctx op = { 0 };
		long r = ccmm_ttm_global_swapout(ctx, bo->tdev->m, &op);

		if (r == 0)
			break;
		if (r < 0) {
			account(bo, -1);
			return (int)r;
		}
	}
	ret = _ccmm_ttm_pool_alloc(ctx, bo->tdev, tt);
	if (ret) {
		account(bo, -1);
		return ret;
	}
	tt->populated = true;
	tt->page_flags |= CCMM_TTM_TT_FLAG_PRIV_POPULATED;
	bo->prot_valid = false;
	if (tt->page_flags & CCMM_TTM_TT_FLAG_SWAPPED) {
		ret = ccmm_ttm_tt_swapin(ctx, bo);
		if (ret) {
			ccmm_ttm_tt_unpopulate(ctx, bo);
			return ret;
		}
	}
	return 0;
}

void ccmm_ttm_tt_unpopulate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_tt *tt = &bo->tt;

	if (!tt->created || !tt->populated)
		return;
	_ccmm_ttm_pool_free(ctx, bo->tdev, tt);
	account(bo, -1);
	memset(tt->pages, 0, tt->num_pages * sizeof(*tt->pages));
	memset(tt->dma_address, 0, tt->num_pages * sizeof(*tt->dma_address));
	memset(tt->order, 0, tt->num_pages * sizeof(*tt->order));
	tt->populated = false;
	tt->bounced = false;
	tt->page_flags &= ~CCMM_TTM_TT_FLAG_PRIV_POPULATED;
	bo->prot_valid = false;
}

int _ccmm_ttm_tt_recache(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_cache_mode caching)
{
	struct ccmm_ttm_tt old = bo->tt, *tt = &bo->tt;
	int ret;

	if (!tt->populated) {
		tt->caching = caching;
		return 0;
	}
	tt->pages = calloc(old.num_pages, sizeof(*tt->pages));
	tt->dma_address = calloc(old.num_pages, sizeof(*tt->dma_address));
	tt->order = calloc(old.num_pages, sizeof(*tt->order));
	tt->caching = caching;
	ret = !tt->pages || !tt->dma_address || !tt->order ? -ENOMEM : _ccmm_ttm_pool_alloc(ctx, bo->tdev, tt);
	if (!ret)
		ret = _ccmm_ttm_copy(ctx, bo, &bo->res, &bo->res, old.pages, tt->pages, old.decrypted, tt->decrypted,
				     old.caching, caching);
	if (ret) {
		if (tt->pages && tt->dma_address && tt->order && tt->pages[0])
			_ccmm_ttm_pool_free(ctx, bo->tdev, tt);
		free(tt->pages);
		free(tt->dma_address);
		free(tt->order);
		*tt = old;
		return ret;
	}
	_ccmm_ttm_pool_free(ctx, bo->tdev, &old);
	free(old.pages);
	free(old.dma_address);
	free(old.order);
	bo->prot_valid = false;
	return 0;
}

/* ---- swapout, swapin ------------------------------------------------------------------ */

/* Copy one page between a tt page (through a kernel mapping of @prot) and a backing page (its direct map). */
static int copy_page(struct ccmm_ctx *ctx, uint64_t tt_va, uint64_t backing_pa, bool to_backing)
{
	uint8_t buf[CCMM_PAGE_SIZE];
	struct ccmm_result r;
	uint64_t back_va = ccmm_phys_to_virt(backing_pa);
	int ret;

	ret = ccmm_kernel_access(ctx, CCMM_READ, to_backing ? tt_va : back_va, buf, sizeof(buf), &r);
	if (!ret)
		ret = ccmm_kernel_access(ctx, CCMM_WRITE, to_backing ? back_va : tt_va, buf, sizeof(buf), &r);
	return ret;
}

/* vmap of the tt's pages with the protection of its caching and encryption. */
static uint64_t tt_vmap(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, int *err)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	return ccmm_vmap(ctx, bo->tt.pages, bo->tt.num_pages,
			 _ccmm_ttm_tt_prot(tdev, bo->tt.caching, bo->tt.decrypted, ccmm_page_kernel(tdev->m)), err);
}

long ccmm_ttm_tt_swapout(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	struct ccmm_ttm_tt *tt = &bo->tt;
	uint64_t *storage, va;
	int err = 0, ret = 0;
	size_t i;

	if (!tt->populated)
		return -EINVAL;
	storage = calloc(tt->num_pages, sizeof(*storage));
	if (!storage)
		return -ENOMEM;
	va = tt_vmap(ctx, bo, &err);
	if (!va) {
		free(storage);
		return err ? err : -ENOMEM;
	}
	_ccmm_ttm_tt_cpu_check(ctx, bo, 0, bo->num_pages, CCMM_READ);
	/* shmem_file_setup + shmem_read_mapping_page_gfp: backing pages, encrypted where RAM is */
	for (i = 0; i < tt->num_pages && !ret; i++) {
		ret = ccmm_alloc_pages(ctx, tdev->pool.nid, 0, 0, &storage[i]);
		if (!ret)
			ret = copy_page(ctx, va + (i << CCMM_PAGE_SHIFT), storage[i], true);
		else
			storage[i] = UINT64_MAX;
	}
	ccmm_vunmap(ctx, va, tt->num_pages);
	if (ret) {
		for (size_t j = 0; j < i; j++)
			if (storage[j] != UINT64_MAX)
				ccmm_free_pages(ctx, storage[j], 0);
		free(storage);
		return -ENOMEM;
	}
	ccmm_ttm_tt_unpopulate(ctx, bo);
	tt->swap_storage = storage;
	tt->page_flags |= CCMM_TTM_TT_FLAG_SWAPPED;
	pthread_mutex_lock(&tdev->lru_lock);
	tdev->swapouts++;
	pthread_mutex_unlock(&tdev->lru_lock);
	ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_swapouts), 1);
	return (long)tt->num_pages;
}

int ccmm_ttm_tt_swapin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	struct ccmm_ttm_tt *tt = &bo->tt;
	uint64_t va;
	int err = 0, ret = 0;

	if (!tt->swap_storage || !tt->populated)
		return -ENOMEM;
	va = tt_vmap(ctx, bo, &err);
	if (!va)
		return err ? err : -ENOMEM;
	for (size_t i = 0; i < tt->num_pages && !ret; i++)
		ret = copy_page(ctx, va + (i << CCMM_PAGE_SHIFT), tt->swap_storage[i], false);
	ccmm_vunmap(ctx, va, tt->num_pages);
	if (ret)
		return -ENOMEM;
	free_swap_storage(ctx, tt);
	tt->page_flags &= ~CCMM_TTM_TT_FLAG_SWAPPED;
	return 0;
}

/* ---- CPU accesses to bounced pages --------------------------------------------------------- */

int _ccmm_ttm_tt_cpu_check(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, uint64_t first, uint64_t n, enum ccmm_rw rw)
{
	struct ccmm_ttm_tt *tt = &bo->tt;

	if (!tt->created || !tt->populated || !tt->bounced || first >= tt->num_pages)
		return 0;
	if (bo->has_res && bo->res.is_iomem)
		return 0;
	n = CCMM_MIN(n, tt->num_pages - first);
	for (uint64_t i = first; i < first + n; i++) {
		int v = ccmm_dma_cpu_access_check(ctx, tt->pages[i], CCMM_PAGE_SIZE, rw);

		if (v)
			return v;
	}
	return 0;
}

/* ---- physical ranges ------------------------------------------------------------------ */

int ccmm_ttm_bo_phyr(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_phyr *out)
{
	struct ccmm_phyr_meta meta;
	int ret;

	ccmm_phyr_init(out);
	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_phyr"))
		return -EINVAL;
	if (!bo->has_res || !_ccmm_ttm_man_has_memory(bo->tdev, bo->res.mem_type))
		return -EINVAL;
	memset(&meta, 0, sizeof(meta));
	meta.cache = bo->res.caching;
	meta.cpu_mappable = true;
	if (bo->res.is_iomem) {
		meta.provider = bo->tdev->p.dev;
		meta.p2p = true;
		meta.encrypted = false;
		return ccmm_phyr_append(out, &meta, bo->res.bus_base, bo->size);
	}
	ret = ccmm_ttm_tt_populate(ctx, bo);
	if (ret)
		return ret;
	meta.provider = -1;
	meta.encrypted = !bo->tt.decrypted && _ccmm_ttm_mode_encrypts(bo->tdev->m);
	ret = ccmm_phyr_append_pages(out, &meta, bo->tt.pages, bo->num_pages, CCMM_PAGE_SIZE);
	if (ret)
		ccmm_phyr_free(out);
	return ret;
}
