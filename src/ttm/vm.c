// SPDX-License-Identifier: MIT
/*
 * CPU mappings of buffer objects: protections (ttm_io_prot and the per-PFN
 * lookup), the fault handler (ttm_bo_vm_fault), mmap, zapping on moves,
 * kmap/vmap, the CPU-access check of bounced tt pages, and the GPU's own DMA
 * to its BOs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "ttm/internal.h"

#define CACHE_MASK (CCMM_PTE_PWT | CCMM_PTE_PCD | CCMM_PTE_PAT_4K)
#define IDLE_WAIT_NS (2LL * 1000000000)

static uint64_t with_cache(uint64_t prot, enum ccmm_cache_mode c)
{
	return (prot & ~CACHE_MASK) | ccmm_pte_cache_bits(c, 1);
}

uint64_t _ccmm_ttm_tt_prot(const struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, bool decrypted, uint64_t base)
{
	uint64_t p = with_cache(base, caching);

	if (tdev->p.policy == CCMM_TTM_PROT_VMA)
		return p; /* 2019: the encryption bit of the VMA (or PAGE_KERNEL), whatever the pages are */
	return ccmm_pte_mkprivate(tdev->m, p, !decrypted && _ccmm_ttm_mode_encrypts(tdev->m));
}

uint64_t _ccmm_ttm_iomem_prot(const struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, uint64_t base)
{
	uint64_t p = with_cache(base, caching);

	if (tdev->p.policy == CCMM_TTM_PROT_VMA)
		return p;
	return ccmm_pte_mkprivate(tdev->m, p, false); /* io memory is never encrypted */
}

uint64_t ccmm_ttm_io_prot(const struct ccmm_ttm_bo *bo, uint64_t base)
{
	if (!bo->has_res)
		return base;
	if (bo->res.is_iomem)
		return _ccmm_ttm_iomem_prot(bo->tdev, bo->res.caching, base);
	return _ccmm_ttm_tt_prot(bo->tdev, bo->res.caching, bo->tt.decrypted, base);
}

uint64_t ccmm_ttm_pfn_prot(struct ccmm_machine *m, const struct ccmm_ttm_bo *bo, uint64_t pa, uint64_t base)
{
	const struct ccmm_mem_range *r = ccmm_platform_range(m->plat, pa);
	enum ccmm_cache_mode cache = bo->res.caching;
	bool enc = false;

	if (r && r->kind == CCMM_RANGE_RAM) {
		struct ccmm_walk w;
		struct ccmm_page pg;

		/* the memtype the direct map holds for the page, and its encryption state */
		if (!ccmm_pgt_walk(m->direct_map, ccmm_phys_to_virt(pa), &w))
			cache = ccmm_pte_cache_mode(w.pte, w.level);
		if (!ccmm_phys_peek(m, pa, &pg))
			enc = pg.state != CCMM_PS_SHARED && _ccmm_ttm_mode_encrypts(m);
	}
	if (bo->tdev->p.policy == CCMM_TTM_PROT_VMA)
		return with_cache(base, cache);
	return ccmm_pte_mkprivate(m, with_cache(base, cache), enc);
}

/* ---- the fault handler ----------------------------------------------------- */

struct ttm_vma_priv {
	struct ccmm_ttm_bo *bo;
};

/*
 * ttm_bo_vm_reserve: trylock; on contention, on a first try that may
 * retry, drop the mmap_lock, wait for the holder and ask for a retry
 * (VM_FAULT_RETRY, -EAGAIN: the mmap_lock is not retaken); on the retry
 * (FAULT_FLAG_TRIED), block with the mmap_lock held (mmap_lock before
 * dma_resv is the documented order). The retry state is the fault's own
 * (vmf->flags). 0 with the reservation held, -EAGAIN, or -EFAULT when the
 * lock cannot be had (VM_FAULT_NOPAGE: the access faults again).
 */
static int vm_reserve(struct ccmm_ctx *ctx, struct ccmm_vm_fault *vmf, struct ccmm_ttm_bo *bo)
{
	struct ccmm_mm *mm = vmf->vma->mm;

	if (ccmm_dma_resv_trylock(ctx, bo->resv))
		return 0;
	if (ccmm_fault_flag_allow_retry_first(vmf->flags)) {
		ccmm_ttm_bo_get(bo);
		ccmm_mutex_unlock(ctx, &mm->mmap_lock);
		if (!ccmm_dma_resv_lock(ctx, bo->resv, NULL)) {
			bo->fault_retries++;
			ccmm_dma_resv_unlock(ctx, bo->resv);
		}
		ccmm_ttm_bo_put(ctx, bo);
		return -EAGAIN;
	}
	return ccmm_dma_resv_lock(ctx, bo->resv, NULL) ? -EFAULT : 0;
}

/* What a fault maps: the page at @off of the current placement (a tt must be populated). */
static uint64_t bo_page_pa(const struct ccmm_ttm_bo *bo, uint64_t off)
{
	return bo->res.is_iomem ? bo->res.bus_base + (off << CCMM_PAGE_SHIFT) : bo->tt.pages[off];
}

/* Protection of the current placement for @vma, resolved once per placement (per BO). */
static uint64_t bo_fault_prot(struct ccmm_ttm_bo *bo, const struct ccmm_vma *vma)
{
	struct ccmm_ttm_device *tdev = bo->tdev;

	if (!bo->prot_valid || bo->fault_prot_base != vma->vm_page_prot || bo->fault_prot_policy != (int)tdev->p.policy) {
		bo->fault_prot = ccmm_ttm_io_prot(bo, vma->vm_page_prot);
		bo->fault_prot_base = vma->vm_page_prot;
		bo->fault_prot_policy = (int)tdev->p.policy;
		bo->prot_valid = true;
	}
	return bo->fault_prot;
}

/*
 * A lockless lookup (the fault_race_bug switch): the PFNs and protection
 * the placement has now, taken before the reservation is held. Nothing
 * keeps a move from changing them before they are inserted. 0 PFNs when
 * there is nothing to look up without the lock (no placement, a tt not
 * populated): the fault then goes the locked way. The fixed handler looks
 * up only with the reservation held, and when it had to wait for it,
 * retries the whole fault (VM_FAULT_RETRY) rather than trust anything
 * from before.
 */
struct lockless_lookup {
	unsigned n;
	uint64_t pa[CCMM_TTM_NUM_PREFAULT];
	uint64_t prot;
};

static void lookup_unlocked(struct ccmm_ttm_bo *bo, const struct ccmm_vm_fault *vmf, struct lockless_lookup *lk)
{
	const struct ccmm_vma *vma = vmf->vma;

	lk->n = 0;
	if (!bo->has_res || (!bo->res.is_iomem && !bo->tt.populated))
		return;
	lk->prot = ccmm_ttm_io_prot(bo, vma->vm_page_prot);
	for (unsigned i = 0; i < bo->tdev->p.prefault && i < CCMM_TTM_NUM_PREFAULT; i++) {
		uint64_t off = vmf->pgoff + i;

		if (vmf->address + ((uint64_t)i << CCMM_PAGE_SHIFT) >= vma->end || off >= bo->num_pages)
			break;
		lk->pa[lk->n++] = bo_page_pa(bo, off);
	}
}

static int vm_fault_reserved(struct ccmm_ctx *ctx, struct ccmm_vm_fault *vmf, struct ccmm_ttm_bo *bo,
			     const struct lockless_lookup *lk)
{
	struct ccmm_vma *vma = vmf->vma;
	struct ccmm_ttm_device *tdev = bo->tdev;
	uint64_t page_offset = vmf->pgoff, addr = vmf->address;
	bool per_page = tdev->p.resolve == CCMM_TTM_RESOLVE_PER_PAGE;
	uint64_t prot = 0;

	/* data in transit (a pipelined move): wait for the kernel's fences */
	if (ccmm_dma_resv_wait_timeout(ctx, bo->resv, CCMM_RESV_USAGE_KERNEL, IDLE_WAIT_NS) <= 0)
		return -EFAULT;
	if (!bo->has_res || page_offset >= bo->num_pages)
		return -EFAULT; /* SIGBUS */
	if (!bo->res.is_iomem && ccmm_ttm_tt_populate(ctx, bo))
		return -EFAULT; /* first fault: allocate the whole tt */
	if (!per_page)
		prot = lk && lk->n ? lk->prot : bo_fault_prot(bo, vma);
	/* speculatively prefault; only an error on the first page matters */
	for (unsigned i = 0; i < tdev->p.prefault; i++) {
		uint64_t off = page_offset + i, va = addr + ((uint64_t)i << CCMM_PAGE_SHIFT), pa;
		int ret;

		if (va >= vma->end || off >= bo->num_pages)
			break;
		if (lk && lk->n) {
			if (i >= lk->n)
				break;
			pa = lk->pa[i]; /* what the lockless lookup saw, moved or not */
		} else {
			pa = bo_page_pa(bo, off);
		}
		ret = ccmm_vmf_insert_pfn_prot(ctx, vma, va, pa,
					       per_page ? ccmm_ttm_pfn_prot(tdev->m, bo, pa, vma->vm_page_prot) : prot);
		if (ret == -EEXIST)
			continue;
		if (ret) {
			if (!i)
				return ret == -ENOMEM ? -ENOMEM : -EFAULT;
			break;
		}
		bo->ptes_inserted++;
	}
	bo->faults++;
	ccmm_count(ctx, CCMM_CTR_AT(ttm, ttm_faults), 1);
	return 0;
}

static int ttm_vm_fault(struct ccmm_ctx *ctx, struct ccmm_vm_fault *vmf)
{
	struct ttm_vma_priv *vp = vmf->vma->priv;
	struct ccmm_ttm_bo *bo = vp->bo;
	struct lockless_lookup lk = { 0 };
	int ret;

	if (bo->tdev->p.fault_race_bug) {
		lookup_unlocked(bo, vmf, &lk);
		if (lk.n) {
			/*
			 * The bug: with the lookup in hand, a busy reservation is
			 * waited for instead of asking for a retry, and what was
			 * looked up before is inserted; a move in between has zapped
			 * the mappings and freed those pages.
			 */
			if (!ccmm_dma_resv_trylock(ctx, bo->resv) && ccmm_dma_resv_lock(ctx, bo->resv, NULL))
				return -EFAULT;
			ret = vm_fault_reserved(ctx, vmf, bo, &lk);
			ccmm_dma_resv_unlock(ctx, bo->resv);
			return ret;
		}
	}
	ret = vm_reserve(ctx, vmf, bo);
	if (ret)
		return ret;
	ret = vm_fault_reserved(ctx, vmf, bo, NULL);
	ccmm_dma_resv_unlock(ctx, bo->resv);
	return ret;
}

static void ttm_vm_close(struct ccmm_vma *vma)
{
	struct ttm_vma_priv *vp = vma->priv;
	struct ccmm_ttm_bo *bo = vp->bo;

	pthread_mutex_lock(&bo->map_lock);
	for (size_t i = 0; i < bo->nr_vmas; i++) {
		if (bo->vmas[i] == vma) {
			bo->vmas[i] = bo->vmas[--bo->nr_vmas];
			break;
		}
	}
	pthread_mutex_unlock(&bo->map_lock);
	free(vp);
	ccmm_ttm_bo_put(NULL, bo);
}

const struct ccmm_vm_ops ccmm_ttm_vm_ops = {
	.name = "ttm_bo_vm",
	.fault = ttm_vm_fault,
	.close = ttm_vm_close,
};

struct ccmm_ttm_bo *ccmm_ttm_vma_bo(const struct ccmm_vma *vma)
{
	if (!vma || vma->ops != &ccmm_ttm_vm_ops)
		return NULL;
	return ((struct ttm_vma_priv *)vma->priv)->bo;
}

int ccmm_ttm_bo_mmap(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_mm *mm, uint64_t pgoff,
		     uint64_t npages, bool writable, struct ccmm_vma **out)
{
	struct ccmm_machine *m = bo->tdev->m;
	struct ttm_vma_priv *vp;
	struct ccmm_vma *vma;
	uint64_t prot;
	int ret;

	if (!npages || pgoff + npages > bo->num_pages || pgoff + npages < pgoff)
		return -EINVAL;
	vp = calloc(1, sizeof(*vp));
	if (!vp)
		return -ENOMEM;
	vp->bo = ccmm_ttm_bo_get(bo);
	/* vm_get_page_prot(): write-back, and encrypted wherever memory is by default */
	prot = ccmm_pte_mkprivate(m, (writable ? CCMM_PTE_RW : 0) | CCMM_PTE_NX, _ccmm_ttm_mode_encrypts(m));
	pthread_mutex_lock(&bo->map_lock);
	ret = ccmm_grow((void **)&bo->vmas, &bo->cap_vmas, bo->nr_vmas + 1, sizeof(*bo->vmas));
	pthread_mutex_unlock(&bo->map_lock);
	if (!ret)
		ret = ccmm_mmap(ctx, mm, 0, npages << CCMM_PAGE_SHIFT,
				CCMM_VM_READ | CCMM_VM_SHARED | CCMM_VM_IO | CCMM_VM_PFNMAP | (writable ? CCMM_VM_WRITE : 0),
				prot, &ccmm_ttm_vm_ops, vp, &vma);
	if (ret) {
		free(vp);
		ccmm_ttm_bo_put(ctx, bo);
		return ret;
	}
	vma->vm_pgoff = pgoff;
	pthread_mutex_lock(&bo->map_lock);
	bo->vmas[bo->nr_vmas++] = vma;
	pthread_mutex_unlock(&bo->map_lock);
	*out = vma;
	return 0;
}

long ccmm_ttm_bo_unmap_virtual(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo)
{
	long n = 0;

	pthread_mutex_lock(&bo->map_lock);
	for (size_t i = 0; i < bo->nr_vmas; i++) {
		struct ccmm_vma *vma = bo->vmas[i];
		long z = ccmm_zap_vma_range(ctx, vma, vma->start, vma->end - vma->start);

		if (z > 0)
			n += z;
	}
	pthread_mutex_unlock(&bo->map_lock);
	return n;
}

/* ---- kernel mappings -------------------------------------------------------------- */

int ccmm_ttm_bo_kmap(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, uint64_t start_page, uint64_t num_pages,
		     struct ccmm_ttm_bo_kmap_obj *map)
{
	struct ccmm_ttm_device *tdev = bo->tdev;
	int ret, err = 0;

	memset(map, 0, sizeof(*map));
	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm_bo_kmap"))
		return -EINVAL;
	if (!num_pages || start_page + num_pages > bo->num_pages || start_page + num_pages < start_page || !bo->has_res)
		return -EINVAL;
	map->bo = bo;
	map->first_page = start_page;
	map->num_pages = num_pages;
	if (bo->res.is_iomem) {
		map->type = CCMM_TTM_KMAP_IOMAP;
		map->iomap_size = num_pages << CCMM_PAGE_SHIFT;
		map->virt = ccmm_ioremap(ctx, bo->res.bus_base + (start_page << CCMM_PAGE_SHIFT), map->iomap_size,
					 bo->res.caching, &err);
		return map->virt ? 0 : (err ? err : -ENOMEM);
	}
	ret = ccmm_ttm_tt_populate(ctx, bo);
	if (ret)
		return ret;
	if (num_pages == 1 && bo->tt.caching == CCMM_CACHE_WB && !bo->tt.decrypted) {
		/* one cached page consistent with the BO: the direct map (kmap) */
		map->type = CCMM_TTM_KMAP_DIRECT;
		map->virt = ccmm_phys_to_virt(bo->tt.pages[start_page]);
		return 0;
	}
	/* vmap, to get the desired protection or to make the pages contiguous */
	map->type = CCMM_TTM_KMAP_VMAP;
	map->virt = ccmm_vmap(ctx, &bo->tt.pages[start_page], num_pages,
			      _ccmm_ttm_tt_prot(tdev, bo->tt.caching, bo->tt.decrypted, ccmm_page_kernel(tdev->m)), &err);
	return map->virt ? 0 : (err ? err : -ENOMEM);
}

void ccmm_ttm_bo_kunmap(struct ccmm_ctx *ctx, struct ccmm_ttm_bo_kmap_obj *map)
{
	if (!map->virt)
		return;
	if (map->type == CCMM_TTM_KMAP_VMAP)
		ccmm_vunmap(ctx, map->virt, map->num_pages);
	else if (map->type == CCMM_TTM_KMAP_IOMAP)
		ccmm_iounmap(ctx, map->virt, map->iomap_size);
	memset(map, 0, sizeof(*map));
}

/* ---- CPU accesses and the GPU's own DMA ---------------------------------------------- */

int ccmm_ttm_bo_cpu_access_check(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, uint64_t off, uint64_t len,
				 enum ccmm_rw rw)
{
	bool mine = !ccmm_dma_resv_held(bo->resv);
	int n;

	if (!len || off >= bo->size)
		return 0;
	if (mine && ccmm_dma_resv_lock(ctx, bo->resv, NULL))
		return 0;
	n = _ccmm_ttm_tt_cpu_check(ctx, bo, off >> CCMM_PAGE_SHIFT,
			     ((CCMM_MIN(off + len, bo->size) - 1) >> CCMM_PAGE_SHIFT) - (off >> CCMM_PAGE_SHIFT) + 1, rw);
	if (mine)
		ccmm_dma_resv_unlock(ctx, bo->resv);
	return n;
}

/* The GART's view of a tt: one DMA segment per page. */
static bool tt_seg(void *arg, size_t i, uint64_t *dma, uint64_t *len)
{
	const struct ccmm_ttm_bo *bo = arg;

	if (i >= bo->num_pages)
		return false;
	*dma = bo->tt.dma_address[i];
	*len = CCMM_PAGE_SIZE;
	return true;
}

int ccmm_ttm_bo_gpu_access(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_rw rw, uint64_t off, void *buf,
			   size_t len, struct ccmm_result *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	if (!ccmm_dma_resv_assert_held(ctx, bo->resv, "ttm GPU access"))
		return -EINVAL;
	if (!len || off + len > bo->size || off + len < off || !bo->has_res)
		return -EINVAL;
	if (bo->res.mem_type == CCMM_TTM_PL_SYSTEM)
		return -ENODEV;
	if (bo->res.is_iomem) /* its own VRAM: local, no bus transaction to map */
		return ccmm_dma_access(ctx, bo->tdev->p.dev, NULL, rw, bo->res.bus_base + off, buf, len, r);
	ret = ccmm_ttm_tt_populate(ctx, bo);
	if (ret)
		return ret;
	/* the GART holds the tt's DMA addresses: DMA through the DMA API's view (IOMMU, bounce copy, records) */
	return ccmm_dma_device_access_segs(ctx, bo->tdev->dma, rw, tt_seg, bo, off, buf, len, r);
}
