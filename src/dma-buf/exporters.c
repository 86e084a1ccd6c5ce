// SPDX-License-Identifier: MIT
/*
 * Three exporters, as the seeds describe them:
 *   ttm    a GPU buffer object (amdgpu-style dynamic exporter): moves
 *          notify importers, P2P-less importers get it out of VRAM
 *   vfio   a device BAR: static, revocable, uncached, maybe private MMIO
 *   heap   pages from the allocator (dma-heap), or a restricted heap; CPU
 *          access brackets sync the importers' mappings (system_heap)
 * Each describes its memory with get_phyr and lets the core's helper make
 * the DMA mappings.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "dma-buf/internal.h"

static struct ccmm_ctx *ctx_or(struct ccmm_ctx *ctx, struct ccmm_ctx *local, struct ccmm_machine *m)
{
	if (ctx)
		return ctx;
	ccmm_ctx_init(local, m, -1, "dma-buf");
	return local;
}

/* ---- ttm ------------------------------------------------------------------------ */

struct ttm_exp {
	struct ccmm_ttm_bo *bo;
	struct ccmm_ttm_bo_kmap_obj vmap;
	struct ccmm_dma_buf *dmabuf;
};

static void ttm_exp_move_notify(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, void *priv)
{
	struct ttm_exp *e = priv;

	(void)bo;
	/* TTM notifies before it moves: the move is done at ttm_exp_moved */
	ccmm_dma_buf_move_begin(ctx, e->dmabuf);
}

/*
 * The move is over: ccmm's TTM moves waited for the BO's fences and
 * copied before they return, and the old resource is freed -- the
 * importers' old mappings reach memory that is not the buffer's any more.
 */
static void ttm_exp_moved(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, void *priv)
{
	struct ttm_exp *e = priv;

	(void)bo;
	ccmm_dma_buf_move_done(ctx, e->dmabuf, NULL);
}

/* Where an importer without P2P may have the BO: not in VRAM. */
static int ttm_exp_make_reachable(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct ttm_exp *e = attach->dmabuf->priv;
	struct ccmm_ttm_bo *bo = e->bo;
	struct ccmm_ttm_placement tt = { 1, { { CCMM_TTM_PL_TT, ccmm_ttm_device_params(bo->tdev)->tt_caching } } };

	if (bo->res.mem_type == CCMM_TTM_PL_SYSTEM || (bo->res.mem_type == CCMM_TTM_PL_VRAM && !attach->peer2peer))
		return ccmm_ttm_bo_validate(ctx, bo, &tt);
	return 0;
}

static int ttm_exp_pin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct ttm_exp *e = attach->dmabuf->priv;
	int ret = e->bo->pin_count ? 0 : ttm_exp_make_reachable(ctx, attach);

	return ret ? ret : ccmm_ttm_bo_pin(ctx, e->bo);
}

static void ttm_exp_unpin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct ttm_exp *e = attach->dmabuf->priv;

	ccmm_ttm_bo_unpin(ctx, e->bo);
}

static int ttm_exp_map(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, struct ccmm_dma_buf_map *map)
{
	struct ttm_exp *e = attach->dmabuf->priv;
	int ret = e->bo->pin_count ? 0 : ttm_exp_make_reachable(ctx, attach);

	return ret ? ret : ccmm_dma_buf_map_phyr_helper(ctx, attach, map);
}

static int ttm_exp_get_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_phyr *out)
{
	struct ttm_exp *e = dmabuf->priv;

	return ccmm_ttm_bo_phyr(ctx, e->bo, out);
}

static void ttm_exp_release(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	struct ttm_exp *e = dmabuf->priv;

	if (!ccmm_ttm_bo_reserve(ctx, e->bo, false, NULL)) {
		e->bo->move_notify = NULL;
		e->bo->moved = NULL;
		e->bo->move_priv = NULL;
		ccmm_ttm_bo_unreserve(ctx, e->bo);
	}
	ccmm_ttm_bo_put(ctx, e->bo);
	free(e);
}

static int ttm_exp_mmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, uint64_t pgoff,
			uint64_t npages, bool writable, struct ccmm_vma **out)
{
	struct ttm_exp *e = dmabuf->priv;

	return ccmm_ttm_bo_mmap(ctx, e->bo, mm, pgoff, npages, writable, out);
}

static int ttm_exp_vmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t *va)
{
	struct ttm_exp *e = dmabuf->priv;
	int ret = ccmm_ttm_bo_kmap(ctx, e->bo, 0, e->bo->num_pages, &e->vmap);

	if (!ret)
		*va = e->vmap.virt;
	return ret;
}

static void ttm_exp_vunmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t va)
{
	struct ttm_exp *e = dmabuf->priv;

	(void)va;
	ccmm_ttm_bo_kunmap(ctx, &e->vmap);
}

static const struct ccmm_dma_buf_ops ttm_exp_ops = {
	.pin = ttm_exp_pin,
	.unpin = ttm_exp_unpin,
	.map_dma_buf = ttm_exp_map,
	.unmap_dma_buf = ccmm_dma_buf_unmap_phyr_helper,
	.get_phyr = ttm_exp_get_phyr,
	.release = ttm_exp_release,
	.mmap = ttm_exp_mmap,
	.vmap = ttm_exp_vmap,
	.vunmap = ttm_exp_vunmap,
};

int ccmm_dma_buf_export_ttm(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_dma_buf_map_info map_info,
			    struct ccmm_dma_buf **out)
{
	struct ttm_exp *e = calloc(1, sizeof(*e));
	struct ccmm_dma_buf_export_info info = {
		.exp_name = "drm", /* drm_gem_prime_export(): KBUILD_MODNAME of drm_prime.c */
		.ops = &ttm_exp_ops,
		.size = bo->size,
		.map_info = map_info,
		.provider = ccmm_ttm_device_params(bo->tdev)->dev,
		.resv = bo->resv,
		.priv = e,
		.negotiate = true,
		.fd_flags = O_RDWR | O_CLOEXEC, /* DRM_IOCTL_PRIME_HANDLE_TO_FD with DRM_CLOEXEC | DRM_RDWR */
	};
	int ret;

	if (!e)
		return -ENOMEM;
	e->bo = ccmm_ttm_bo_get(bo);
	ret = ccmm_dma_buf_export(ctx, &info, out);
	if (ret) {
		ccmm_ttm_bo_put(ctx, bo);
		free(e);
		return ret;
	}
	e->dmabuf = *out;
	ccmm_ttm_bo_reserve(ctx, bo, false, NULL);
	bo->move_notify = ttm_exp_move_notify;
	bo->moved = ttm_exp_moved;
	bo->move_priv = e;
	ccmm_ttm_bo_unreserve(ctx, bo);
	return 0;
}

/* ---- vfio ------------------------------------------------------------------------ */

struct vfio_exp {
	struct ccmm_machine *m;
	int dev;
	uint64_t base, size;
	bool private_mmio;
	pthread_mutex_t lock;       /* the VMAs */
	struct ccmm_vma **vmas;
	size_t nr_vmas, cap_vmas;
	struct ccmm_dma_buf *dmabuf;
};

struct vfio_vma {
	struct vfio_exp *e;
};

static int vfio_exp_attach(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_dma_buf_attachment *attach)
{
	(void)ctx;
	(void)dmabuf;
	/* MMIO is only reachable peer to peer */
	if (!(attach->flags & CCMM_IMPORTER_PFN) && !attach->peer2peer)
		return -EOPNOTSUPP;
	return 0;
}

static int vfio_exp_get_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_phyr *out)
{
	struct vfio_exp *e = dmabuf->priv;
	struct ccmm_phyr_meta meta = { e->dev, true, e->private_mmio, CCMM_CACHE_UC, !e->private_mmio, false };

	(void)ctx;
	ccmm_phyr_init(out);
	return ccmm_phyr_append(out, &meta, e->base, e->size);
}

static void vfio_exp_release(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	struct vfio_exp *e = dmabuf->priv;

	(void)ctx;
	pthread_mutex_destroy(&e->lock);
	free(e->vmas);
	free(e);
}

static int vfio_vm_fault(struct ccmm_ctx *ctx, struct ccmm_vm_fault *vmf)
{
	struct ccmm_vma *vma = vmf->vma;
	struct vfio_vma *vv = vma->priv;
	struct vfio_exp *e = vv->e;
	uint64_t addr = vmf->address, off = vmf->pgoff << CCMM_PAGE_SHIFT;

	if (atomic_load(&e->dmabuf->revoked) || off >= e->size)
		return -EFAULT; /* SIGBUS: the BAR is revoked */
	/* io_remap_pfn_range: uncached, never encrypted */
	return ccmm_vmf_insert_pfn_prot(ctx, vma, addr, e->base + off,
					ccmm_pte_mkprivate(e->m, (vma->vm_page_prot & CCMM_PTE_RW) | CCMM_PTE_NX |
									  ccmm_pte_cache_bits(CCMM_CACHE_UC, 1),
							   false));
}

static void vfio_vm_close(struct ccmm_vma *vma)
{
	struct vfio_vma *vv = vma->priv;
	struct vfio_exp *e = vv->e;
	struct ccmm_dma_buf *dmabuf = e->dmabuf;
	struct ccmm_ctx local;

	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->nr_vmas; i++) {
		if (e->vmas[i] == vma) {
			e->vmas[i] = e->vmas[--e->nr_vmas];
			break;
		}
	}
	pthread_mutex_unlock(&e->lock);
	_ccmm_dmabuf_host_mmap_put(e->m, e->dev);
	free(vv);
	ccmm_dma_buf_put(ctx_or(NULL, &local, dmabuf->m), dmabuf); /* the VMA's file reference */
}

static const struct ccmm_vm_ops vfio_vm_ops = {
	.name = "vfio_pci_mmap",
	.fault = vfio_vm_fault,
	.close = vfio_vm_close,
};

static int vfio_exp_mmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, uint64_t pgoff,
			 uint64_t npages, bool writable, struct ccmm_vma **out)
{
	struct vfio_exp *e = dmabuf->priv;
	struct vfio_vma *vv = calloc(1, sizeof(*vv));
	struct ccmm_vma *vma;
	int ret;

	if (!vv)
		return -ENOMEM;
	vv->e = e;
	pthread_mutex_lock(&e->lock);
	ret = ccmm_grow((void **)&e->vmas, &e->cap_vmas, e->nr_vmas + 1, sizeof(*e->vmas));
	pthread_mutex_unlock(&e->lock);
	if (!ret)
		ret = ccmm_mmap(ctx, mm, 0, npages << CCMM_PAGE_SHIFT,
				CCMM_VM_READ | CCMM_VM_SHARED | CCMM_VM_IO | CCMM_VM_PFNMAP | (writable ? CCMM_VM_WRITE : 0),
				ccmm_pte_mkprivate(e->m, (writable ? CCMM_PTE_RW : 0) | ccmm_pte_cache_bits(CCMM_CACHE_UC, 1),
						   false),
				&vfio_vm_ops, vv, &vma);
	if (ret) {
		free(vv);
		return ret;
	}
	vma->vm_pgoff = pgoff;
	ccmm_dma_buf_get(ctx, dmabuf);
	_ccmm_dmabuf_host_mmap_get(e->m, e->dev);
	pthread_mutex_lock(&e->lock);
	e->vmas[e->nr_vmas++] = vma;
	pthread_mutex_unlock(&e->lock);
	*out = vma;
	return 0;
}

/* vfio_pci_zap_bars on revoke; the faults refuse while revoked. */
static void vfio_exp_revoke(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, bool revoked)
{
	struct vfio_exp *e = dmabuf->priv;

	if (!revoked)
		return;
	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->nr_vmas; i++)
		ccmm_zap_vma_range(ctx, e->vmas[i], e->vmas[i]->start, e->vmas[i]->end - e->vmas[i]->start);
	pthread_mutex_unlock(&e->lock);
}

static const struct ccmm_dma_buf_ops vfio_exp_ops = {
	.attach = vfio_exp_attach,
	.get_phyr = vfio_exp_get_phyr,
	.release = vfio_exp_release,
	.mmap = vfio_exp_mmap,
	.revoke = vfio_exp_revoke,
};

int ccmm_dma_buf_export_vfio(struct ccmm_ctx *ctx, int dev, unsigned bar, uint64_t off, uint64_t size, bool private_mmio,
			     bool negotiate, struct ccmm_dma_buf **out)
{
	const struct ccmm_platform *p = ctx->m->plat;
	struct vfio_exp *e;
	struct ccmm_dma_buf_export_info info = {
		/* DEFINE_DMA_BUF_EXPORT_INFO's KBUILD_MODNAME in the VFIO dma-buf series (vfio_pci_dmabuf.c) */
		.exp_name = "vfio_pci_core",
		.ops = &vfio_exp_ops,
		.size = size,
		.flags = CCMM_DMA_BUF_REVOCABLE | (private_mmio ? CCMM_DMA_BUF_PRIVATE : 0),
		.map_info = CCMM_DMA_BUF_MAP_INCOHERENT,
		.provider = dev,
		.negotiate = negotiate,
		.fd_flags = O_RDWR | O_CLOEXEC, /* the feature's open_flags, as VMMs pass them */
	};
	int ret;

	if (dev < 0 || (size_t)dev >= p->nr_devices || bar >= CCMM_MAX_BARS || !p->devices[dev].bar[bar].size ||
	    !size || ccmm_range_within(off, size, 0, 0, p->devices[dev].bar[bar].size) || !CCMM_IS_ALIGNED(off | size, CCMM_PAGE_SIZE))
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->m = ctx->m;
	e->dev = dev;
	e->base = p->devices[dev].bar[bar].base + off;
	e->size = size;
	e->private_mmio = private_mmio;
	pthread_mutex_init(&e->lock, NULL);
	info.priv = e;
	ret = ccmm_dma_buf_export(ctx, &info, out);
	if (ret) {
		pthread_mutex_destroy(&e->lock);
		free(e);
		return ret;
	}
	e->dmabuf = *out;
	return 0;
}

/* ---- heap ------------------------------------------------------------------------ */

struct heap_exp {
	struct ccmm_machine *m;
	uint64_t *blocks;   /* physical address of each block */
	unsigned *orders;
	size_t nr;
	bool restricted;
	struct ccmm_dma_buf *dmabuf;
};

static int heap_exp_get_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_phyr *out)
{
	struct heap_exp *e = dmabuf->priv;
	struct ccmm_phyr_meta meta = { -1, false, false, CCMM_CACHE_WB, !e->restricted, false };

	(void)ctx;
	meta.encrypted = ccmm_cc_private_by_default(e->m->plat->mode) || e->m->plat->mode == CCMM_CC_SME;
	ccmm_phyr_init(out);
	for (size_t i = 0; i < e->nr; i++) {
		int ret = ccmm_phyr_append(out, &meta, e->blocks[i], CCMM_PAGE_SIZE << e->orders[i]);

		if (ret) {
			ccmm_phyr_free(out);
			return ret;
		}
	}
	return 0;
}

static void heap_exp_release(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	struct heap_exp *e = dmabuf->priv;

	for (size_t i = 0; i < e->nr; i++)
		ccmm_free_pages(ctx, e->blocks[i], e->orders[i]);
	free(e->blocks);
	free(e->orders);
	free(e);
}

/* The page at byte @off of the buffer. */
static uint64_t heap_page(const struct heap_exp *e, uint64_t off)
{
	for (size_t i = 0; i < e->nr; i++) {
		uint64_t bs = CCMM_PAGE_SIZE << e->orders[i];

		if (off < bs)
			return e->blocks[i] + off;
		off -= bs;
	}
	return 0;
}

static void heap_vm_close(struct ccmm_vma *vma)
{
	struct ccmm_dma_buf *dmabuf = vma->priv;
	struct ccmm_ctx local;

	ccmm_dma_buf_put(ctx_or(NULL, &local, dmabuf->m), dmabuf);
}

static const struct ccmm_vm_ops heap_vm_ops = {
	.name = "dma_heap_mmap",
	.close = heap_vm_close,
};

static int heap_exp_mmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, uint64_t pgoff,
			 uint64_t npages, bool writable, struct ccmm_vma **out)
{
	struct heap_exp *e = dmabuf->priv;
	struct ccmm_machine *m = e->m;
	uint64_t prot = ccmm_pte_mkprivate(m, (writable ? CCMM_PTE_RW : 0) | CCMM_PTE_NX,
					   ccmm_cc_private_by_default(m->plat->mode) || m->plat->mode == CCMM_CC_SME);
	struct ccmm_vma *vma;
	int ret;

	ret = ccmm_mmap(ctx, mm, 0, npages << CCMM_PAGE_SHIFT,
			CCMM_VM_READ | CCMM_VM_SHARED | (writable ? CCMM_VM_WRITE : 0), prot, &heap_vm_ops, dmabuf, &vma);
	if (ret)
		return ret;
	vma->vm_pgoff = pgoff;
	/* system_heap_mmap: remap_pfn_range of every page, now */
	for (uint64_t i = 0; i < npages && !ret; i++)
		ret = ccmm_remap_pfn_range(ctx, vma, vma->start + (i << CCMM_PAGE_SHIFT),
					   heap_page(e, (pgoff + i) << CCMM_PAGE_SHIFT), CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, prot);
	ccmm_dma_buf_get(ctx, dmabuf);
	if (ret) {
		ccmm_munmap(ctx, mm, vma->start, vma->end - vma->start);
		return ret;
	}
	*out = vma;
	return 0;
}

static int heap_exp_vmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t *va)
{
	struct heap_exp *e = dmabuf->priv;
	size_t n = (size_t)(dmabuf->size >> CCMM_PAGE_SHIFT);
	uint64_t *pas = calloc(n, sizeof(*pas));
	int err = 0;

	if (!pas)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		pas[i] = heap_page(e, (uint64_t)i << CCMM_PAGE_SHIFT);
	*va = ccmm_vmap(ctx, pas, n, ccmm_page_kernel(e->m), &err);
	free(pas);
	return *va ? 0 : (err ? err : -ENOMEM);
}

static void heap_exp_vunmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t va)
{
	ccmm_vunmap(ctx, va, (size_t)(dmabuf->size >> CCMM_PAGE_SHIFT));
}

/* Sync one live mapping of an attachment for the CPU or back for the device; P2P ranges have nothing to sync. */
static void sync_map(struct ccmm_ctx *ctx, struct ccmm_dma_dev *dd, struct ccmm_dma_buf_map *map, enum ccmm_dma_dir dir,
		     bool for_cpu)
{
	if (!map->is_phyr) {
		if (for_cpu)
			ccmm_dma_sync_sg_for_cpu(ctx, dd, &map->sgt, dir);
		else
			ccmm_dma_sync_sg_for_device(ctx, dd, &map->sgt, dir);
		return;
	}
	for (size_t i = 0; i < map->dma.nr; i++) {
		const struct ccmm_dma_range *r = &map->dma.r[i];

		if (r->flags & CCMM_SG_DMA_BUS_ADDRESS)
			continue;
		if (for_cpu)
			ccmm_dma_sync_single_for_cpu(ctx, dd, r->dma, r->len, dir);
		else
			ccmm_dma_sync_single_for_device(ctx, dd, r->dma, r->len, dir);
	}
}

/*
 * system_heap_dma_buf_begin/end_cpu_access: every attachment's live
 * mapping is synced for the CPU (begin) or back for its device (end) in the
 * CPU access's direction -- what makes a bounced importer's writes visible
 * to a DMA_BUF_IOCTL_SYNC bracket, and the CPU's writes to the importer.
 */
static int heap_exp_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir, bool begin)
{
	int ret = ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);

	if (ret)
		return ret;
	for (struct ccmm_dma_buf_attachment *a = dmabuf->attachments; a; a = a->next) {
		if (!a->dma_dev)
			continue;
		for (struct ccmm_dma_buf_map *map = a->maps; map; map = map->next)
			sync_map(ctx, a->dma_dev, map, dir, begin);
		for (struct ccmm_dma_buf_map *map = a->cached; map; map = map->next)
			sync_map(ctx, a->dma_dev, map, dir, begin);
	}
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	return 0;
}

static int heap_exp_begin_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir)
{
	return heap_exp_cpu_access(ctx, dmabuf, dir, true);
}

static int heap_exp_end_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir)
{
	return heap_exp_cpu_access(ctx, dmabuf, dir, false);
}

static const struct ccmm_dma_buf_ops heap_exp_ops = {
	.get_phyr = heap_exp_get_phyr,
	.release = heap_exp_release,
	.mmap = heap_exp_mmap,
	.vmap = heap_exp_vmap,
	.vunmap = heap_exp_vunmap,
	.begin_cpu_access = heap_exp_begin_cpu_access,
	.end_cpu_access = heap_exp_end_cpu_access,
};

int ccmm_dma_buf_export_heap(struct ccmm_ctx *ctx, uint64_t size, bool restricted, struct ccmm_dma_buf **out)
{
	struct heap_exp *e;
	struct ccmm_dma_buf_export_info info = {
		/* dma_heap_get_name(): the heap's name ("system"; the restricted heap series names its own) */
		.exp_name = restricted ? "restricted_heap" : "system",
		.ops = &heap_exp_ops,
		.size = size,
		.flags = restricted ? CCMM_DMA_BUF_RESTRICTED : 0,
		.map_info = CCMM_DMA_BUF_COHERENT_CACHED,
		.provider = -1,
		.negotiate = true,
		.fd_flags = O_RDWR | O_CLOEXEC, /* DMA_HEAP_IOCTL_ALLOC's fd_flags, as users pass them */
	};
	uint64_t left;
	int ret = 0;

	/* dma_heap_ioctl_allocate(): the length is PAGE_ALIGNed, and one that aligns to 0 (0, or past 2^64) is -EINVAL */
	size = CCMM_ALIGN_UP(size, CCMM_PAGE_SIZE);
	if (!size)
		return -EINVAL;
	info.size = size;
	left = size;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->m = ctx->m;
	e->restricted = restricted;
	while (left && !ret) {
		unsigned order = 4;
		uint64_t pa;

		while ((CCMM_PAGE_SIZE << order) > left)
			order--;
		{
			uint64_t *b = realloc(e->blocks, (e->nr + 1) * sizeof(*b));
			unsigned *o = b ? realloc(e->orders, (e->nr + 1) * sizeof(*o)) : NULL;

			if (b)
				e->blocks = b;
			if (o)
				e->orders = o;
			if (!b || !o)
				ret = -ENOMEM;
		}
		if (!ret)
			ret = ccmm_alloc_pages(ctx, -1, order, CCMM_GFP_ZERO, &pa);
		if (!ret) {
			e->blocks[e->nr] = pa;
			e->orders[e->nr++] = order;
			left -= CCMM_PAGE_SIZE << order;
		}
	}
	info.priv = e;
	if (!ret)
		ret = ccmm_dma_buf_export(ctx, &info, out);
	if (ret) {
		for (size_t i = 0; i < e->nr; i++)
			ccmm_free_pages(ctx, e->blocks[i], e->orders[i]);
		free(e->blocks);
		free(e->orders);
		free(e);
		return ret;
	}
	e->dmabuf = *out;
	return 0;
}
