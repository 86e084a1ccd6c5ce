// SPDX-License-Identifier: MIT
/*
 * The DMA API: per-device state, masks and the choice of path, streaming
 * mappings (direct, pSeries bypass, IOMMU) with SWIOTLB bouncing, coherent
 * allocations (decrypted per allocation, re-encrypted at free, atomic ones
 * from pool.c), the device side of DMA and its translation, and MMIO.
 * Semantics after Linux 6.12's kernel/dma/{mapping,direct,pool}.c,
 * include/linux/dma-direct.h, arch/x86/mm/mem_encrypt.c and
 * arch/powerpc/kernel/dma-iommu.c, with seed 002 for the secure-guest
 * windows; the code is ccmm's own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "platform/subsys.h"
#include "dma/internal.h"
#include "mm/mm.h"

CCMM_COST_BLOCK_DEFINE(dma, CCMM_DMA_COSTS, CCMM_DMA_COUNTERS);

CCMM_RULES_DEFINE(dma_rules, CCMM_DMA_RULES);

const char *const ccmm_svm_window_names[] = { "auto", "ddw", "dma32", NULL };

const char *ccmm_dma_path_name(enum ccmm_dma_path p)
{
	static const char *const n[] = { "none", "direct", "bypass", "iommu" };

	return (unsigned)p < CCMM_ARRAY_SIZE(n) ? n[p] : "?";
}

struct ccmm_dma *_ccmm_dma_of(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_dma);
}

static struct ccmm_dma *dma_of(struct ccmm_machine *m)
{
	return _ccmm_dma_of(m);
}

/* ---- setup ---------------------------------------------------------------------- */

static int dma_init(struct ccmm_machine *m)
{
	const struct ccmm_platform *p = m->plat;
	struct ccmm_dma *dma = calloc(1, sizeof(*dma));

	if (!dma)
		return -ENOMEM;
	dma->m = m;
	dma->devs = calloc(p->nr_devices ? p->nr_devices : 1, sizeof(*dma->devs));
	if (!dma->devs) {
		free(dma);
		return -ENOMEM;
	}
	dma->nr_devs = p->nr_devices;
	dma->units = calloc(p->nr_iommus ? p->nr_iommus : 1, sizeof(*dma->units));
	if (!dma->units) {
		free(dma->devs);
		free(dma);
		return -ENOMEM;
	}
	dma->nr_units = p->nr_iommus;
	pthread_mutex_init(&dma->unit_lock, NULL);
	pthread_mutex_init(&dma->bind_lock, NULL);
	for (size_t i = 0; i < p->nr_devices; i++) {
		struct ccmm_dma_dev *d = &dma->devs[i];

		d->m = m;
		d->index = (int)i;
		d->desc = &p->devices[i];
		pthread_mutex_init(&d->lock, NULL);
		d->seg_boundary = UINT32_MAX;
		d->max_seg_size = 64 * 1024;
		d->unit = ccmm_iommu_unit_of(m, (int)i);
	}
	_ccmm_dma_pools_init(dma);
	_ccmm_dma_kmem_init(dma);
	ccmm_subsys_set_data(m, &ccmm_subsys_dma, dma);
	return 0;
}

static void dma_exit(struct ccmm_machine *m)
{
	struct ccmm_dma *dma = dma_of(m);

	if (!dma)
		return;
	for (size_t i = 0; i < dma->nr_devs; i++) {
		pthread_mutex_destroy(&dma->devs[i].lock);
		free(dma->devs[i].rec);
	}
	_ccmm_dma_pools_fini(dma);
	_ccmm_dma_kmem_fini(dma);
	pthread_mutex_destroy(&dma->unit_lock);
	pthread_mutex_destroy(&dma->bind_lock);
	free(dma->units);
	free(dma->devs);
	free(dma);
	ccmm_subsys_set_data(m, &ccmm_subsys_dma, NULL);
}

struct ccmm_dma_dev *ccmm_dma_dev(struct ccmm_machine *m, int index)
{
	struct ccmm_dma *dma = dma_of(m);

	return dma && index >= 0 && (size_t)index < dma->nr_devs ? &dma->devs[index] : NULL;
}

static uint64_t min_not_zero(uint64_t a, uint64_t b)
{
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

/*
 * A device the guest accepted into its TEE (TDISP RUN, bound to this
 * guest): it DMAs to private memory itself, so it needs neither shared
 * buffers nor bounce buffers, and its DMA addresses carry no C-bit
 * (device_cc_accepted() in the TEE I/O series; see dma.h).
 */
static bool cc_accepted(const struct ccmm_dma_dev *d)
{
	return ccmm_check_device_trusted(d->m, d->index);
}

/* is_swiotlb_force_bounce(): every streaming mapping of this device bounces. */
static bool force_bounce(const struct ccmm_dma_dev *d)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);

	return mem && mem->force_bounce && !cc_accepted(d);
}

bool ccmm_force_dma_unencrypted(const struct ccmm_dma_dev *d)
{
	const struct ccmm_platform *p = d->m->plat;

	if (cc_accepted(d))
		return false;
	if (ccmm_cc_force_dma_unencrypted(p->mode))
		return true;
	if (p->mode == CCMM_CC_SME) {
		/* the device must reach above the C-bit to use encrypted memory */
		uint64_t enc = CCMM_DMA_BIT_MASK(p->c_bit);

		return min_not_zero(d->coherent_dma_mask, d->bus_dma_limit) <= enc;
	}
	return false;
}

static bool has_cbit(const struct ccmm_platform *p)
{
	return p->mode == CCMM_CC_SME || p->mode == CCMM_CC_SEV || p->mode == CCMM_CC_SEV_SNP;
}

uint64_t ccmm_phys_to_dma(const struct ccmm_dma_dev *d, uint64_t pa)
{
	return has_cbit(d->m->plat) && !cc_accepted(d) ? pa | d->m->enc_mask : pa;
}

uint64_t ccmm_phys_to_dma_unencrypted(const struct ccmm_dma_dev *d, uint64_t pa)
{
	return pa; /* TDX too: shared memory is DMAed at its plain GPA */
}

static bool secure_pseries(const struct ccmm_dma_dev *d)
{
	return d->m->plat->mode == CCMM_CC_PSERIES_SVM;
}

/* dma_capable(): does [dma, dma + size) fit the streaming mask and the bus limit? */
static bool capable(const struct ccmm_dma_dev *d, uint64_t dma, uint64_t size)
{
	uint64_t end = dma + size - 1;

	return dma != CCMM_DMA_MAPPING_ERROR && end >= dma && end <= min_not_zero(d->dma_mask, d->bus_dma_limit);
}

/* ---- the TDX allow-list, probe, remove ---------------------------------------------- */

bool ccmm_tdx_device_allowed(uint16_t vendor, uint16_t device)
{
	/* seed 004: virtio net, block, console, fs; legacy and 1.0 IDs */
	static const uint16_t ids[] = { 0x1000, 0x1001, 0x1003, 0x1009, 0x1041, 0x1042, 0x1043, 0x1049 };

	if (vendor != 0x1af4)
		return false;
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(ids); i++)
		if (ids[i] == device)
			return true;
	return false;
}

/* Map the SWIOTLB pool into the unit's 32-bit window, once per unit (secure guest, dma32 choice). */
static int map_pool_dma32(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t *iova)
{
	struct ccmm_dma *dma = dma_of(d->m);
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);
	struct ccmm_dma_unit *up = &dma->units[d->unit->index];
	struct ccmm_iommu_window *w = d->unit->dma32;
	int ret;

	pthread_mutex_lock(&dma->unit_lock);
	if (!up->tried) {
		up->tried = true;
		if (!mem || !w) {
			up->err = -ENODEV;
		} else {
			up->err = ccmm_iommu_alloc(w, mem->end - mem->start, 0, UINT64_MAX, &up->pool_iova);
			if (!up->err) {
				up->err = ccmm_iommu_map(ctx, w, up->pool_iova, mem->start, mem->end - mem->start, false);
				if (up->err)
					ccmm_iommu_free(w, up->pool_iova, mem->end - mem->start);
			}
		}
	}
	ret = up->err;
	*iova = up->pool_iova;
	pthread_mutex_unlock(&dma->unit_lock);
	return ret;
}

/* Where this device's streaming mappings go, after a mask change. Device lock held. */
static void choose_path(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);

	d->dma_offset = 0;
	if (!d->unit) {
		d->path = CCMM_DMA_PATH_DIRECT;
		d->window = NULL;
		return;
	}
	if (d->unit->desc->kind == CCMM_IOMMU_GENERIC) {
		d->path = CCMM_DMA_PATH_IOMMU;
		d->window = ccmm_iommu_domain(d->unit, d->index);
		return;
	}
	/* pSeries: bypass with a 64-bit mask and a dynamic window (dma_iommu_bypass_supported) */
	d->path = CCMM_DMA_PATH_IOMMU;
	d->window = d->unit->dma32;
	if (d->dma_mask == UINT64_MAX && d->unit->desc->ddw &&
	    (!secure_pseries(d) || d->svm_window == CCMM_SVM_WINDOW_DDW)) {
		struct ccmm_iommu_window *ddw;
		uint64_t lo = 0, hi = 0;
		int ret;

		if (secure_pseries(d) && mem) {
			lo = mem->start; /* only the bounce buffers, truncated down to the window's alignment */
			hi = mem->end;
		}
		ret = ccmm_iommu_enable_ddw(ctx, d->unit, lo, hi, &ddw);
		if (!ret) {
			d->path = CCMM_DMA_PATH_BYPASS;
			d->window = ddw;
			d->dma_offset = ddw->bus_base;
		}
	}
}

int ccmm_dma_probe(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_probe_opts *opts)
{
	struct ccmm_dma *dma = dma_of(d->m);
	const struct ccmm_platform *p = d->m->plat;
	struct ccmm_dma_probe_opts none = { 0 };
	int err = 0;

	if (!opts)
		opts = &none;
	pthread_mutex_lock(&d->lock);
	if (d->probed) {
		pthread_mutex_unlock(&d->lock);
		return -EBUSY;
	}
	pthread_mutex_unlock(&d->lock);
	if (p->mode == CCMM_CC_TDX && !opts->no_filter && !cc_accepted(d) &&
	    !ccmm_tdx_device_allowed(d->desc->vendor, d->desc->device_id)) {
		atomic_fetch_add(&dma->probes_refused, 1);
		ccmm_count(ctx, CCMM_CTR_AT(dma, probes_refused), 1);
		ccmm_violation(ctx, &ccmm_rule_device_not_allowed, ~0ULL,
			       "%s (%04x:%04x, %s) is not on the TDX guest's device allow-list: probe refused", d->desc->name,
			       d->desc->vendor, d->desc->device_id, ccmm_dev_class_names[d->desc->cls]);
		return -EPERM;
	}
	/*
	 * BAR 0 for the driver's registers: shared in a guest (seed 004). A
	 * prefetchable BAR 0 holds no registers (reads of registers have side
	 * effects, which a prefetchable BAR may not have): it is device memory
	 * -- a GPU's VRAM -- that the driver maps itself with the caching it
	 * wants, so it is left alone rather than aliased uncached.
	 */
	if (d->desc->nr_bars && d->desc->bar[0].size && !d->desc->bar[0].prefetch) {
		uint64_t va = ccmm_ioremap(ctx, d->desc->bar[0].base, d->desc->bar[0].size, CCMM_CACHE_UC, &err);

		if (!va)
			return err;
		d->bar0_va = va;
		d->bar0_size = d->desc->bar[0].size;
	}
	pthread_mutex_lock(&d->lock);
	d->probed = true;
	d->removed = false;
	d->dma_mask = CCMM_DMA_BIT_MASK(32);
	d->coherent_dma_mask = CCMM_DMA_BIT_MASK(32);
	d->svm_window = opts->window;
	if (d->svm_window == CCMM_SVM_WINDOW_AUTO)
		d->svm_window = d->unit && d->unit->desc->ddw ? CCMM_SVM_WINDOW_DDW : CCMM_SVM_WINDOW_DMA32;
	choose_path(ctx, d);
	pthread_mutex_unlock(&d->lock);
	/*
	 * The atomic pools (dma_atomic_pool_init, at boot in the kernel) come
	 * with the first driver, on x86, where AMD_MEM_ENCRYPT selects
	 * DMA_COHERENT_POOL. A failure only leaves atomic allocations without
	 * a pool, as a failed postcore_initcall does.
	 */
	if (!_ccmm_dma_ppc64(d->m))
		_ccmm_dma_pools_make(d->m);
	if (secure_pseries(d) && d->unit && d->svm_window == CCMM_SVM_WINDOW_DMA32) {
		uint64_t iova;

		err = map_pool_dma32(ctx, d, &iova);
		if (err) {
			struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);

			ccmm_violation(ctx, &ccmm_rule_dma_window_unreachable, ~0ULL,
				       "%s: the %" PRIu64 " MiB SWIOTLB pool cannot be mapped into the %" PRIu64
				       " MiB 32-bit window of %s (%s): no bounce buffer is reachable",
				       d->desc->name, mem ? (mem->end - mem->start) >> 20 : 0,
				       d->unit->desc->dma32_window >> 20, d->unit->desc->name, strerror(-err));
			ccmm_dma_remove(ctx, d);
			return -EIO;
		}
		pthread_mutex_lock(&d->lock);
		d->pool_iova = iova;
		pthread_mutex_unlock(&d->lock);
	}
	return 0;
}

int ccmm_dma_remove(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d)
{
	size_t live, coherent = 0;
	uint64_t bar_va, bar_size;

	pthread_mutex_lock(&d->lock);
	if (!d->probed) {
		pthread_mutex_unlock(&d->lock);
		return -ENODEV;
	}
	live = d->nr_rec;
	for (size_t i = 0; i < live; i++)
		coherent += d->rec[i].type == CCMM_DMA_MAP_COHERENT;
	d->probed = false;
	d->removed = true; /* the path stays, for reports */
	bar_va = d->bar0_va;
	bar_size = d->bar0_size;
	d->bar0_va = 0;
	pthread_mutex_unlock(&d->lock);
	if (bar_va)
		ccmm_iounmap(ctx, bar_va, bar_size);
	if (live) {
		ccmm_violation(ctx, &ccmm_rule_dma_live_at_remove, ~0ULL,
			       "%s removed with %zu live DMA record(s): %zu streaming mapping(s), %zu coherent buffer(s); "
			       "they stay mapped (leaked)",
			       d->desc->name, live, live - coherent, coherent);
		return -EBUSY;
	}
	return 0;
}

int ccmm_dma_bind(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_probe_opts *opts)
{
	struct ccmm_dma *dma = dma_of(d->m);
	unsigned bits = d->desc->dma_mask_bits, cbits = d->desc->coherent_mask_bits;
	bool bound;
	int ret = 0;

	pthread_mutex_lock(&dma->bind_lock);
	pthread_mutex_lock(&d->lock);
	bound = d->probed;
	pthread_mutex_unlock(&d->lock);
	if (!bound) {
		ret = ccmm_dma_probe(ctx, d, opts);
		if (ret == -EBUSY) {
			ret = 0; /* a driver's own probe (ccmm_dma_probe) got there first: share it */
		} else if (!ret) {
			/* the masks the hardware has, as the driver's probe sets them */
			if (bits == cbits) {
				ret = ccmm_dma_set_mask_and_coherent(ctx, d, bits);
			} else {
				ret = ccmm_dma_set_mask(ctx, d, bits);
				if (!ret)
					ret = ccmm_dma_set_coherent_mask(ctx, d, cbits);
			}
			/* and dma_set_min_align_mask() where the driver calls it (NVMe: 4 KiB) */
			if (!ret && d->desc->min_align_mask)
				ret = ccmm_dma_set_min_align_mask(d, d->desc->min_align_mask);
			/* GPU and RDMA drivers lift the 64 KiB PCI default (amdgpu, i915: UINT_MAX; mlx5: 2 GiB) */
			if (!ret)
				ccmm_dma_set_max_seg_size(d, UINT32_MAX);
			if (ret)
				ccmm_dma_remove(ctx, d); /* a probe that fails leaves the device unbound */
		}
	}
	pthread_mutex_unlock(&dma->bind_lock);
	return ret;
}

/* ---- masks -------------------------------------------------------------------------------- */

/* The end of the highest RAM range (max_pfn << PAGE_SHIFT); 0 without RAM. */
static uint64_t ram_top(const struct ccmm_platform *p)
{
	uint64_t top = 0;

	for (size_t i = 0; i < p->nr_ranges; i++)
		if (p->ranges[i].kind == CCMM_RANGE_RAM)
			top = CCMM_MAX(top, p->ranges[i].base + p->ranges[i].size);
	return top;
}

/* dma_supported() for a mask of @bits on the device's path. */
static bool supported(const struct ccmm_dma_dev *d, unsigned bits)
{
	if (!d->unit) {
		/* dma_direct_supported: 32 bits always; below, ZONE_DMA (16 MiB) or all RAM if it ends lower */
		uint64_t top = ram_top(d->m->plat);

		if (bits >= 32)
			return true;
		return CCMM_DMA_BIT_MASK(bits) >= CCMM_MIN(top ? top - CCMM_PAGE_SIZE : 0, CCMM_DMA_BIT_MASK(24));
	}
	if (d->unit->desc->kind == CCMM_IOMMU_PSERIES_TCE)
		return d->unit->dma32 || (bits == 64 && d->unit->desc->ddw);
	return true; /* iommu-dma: IOVAs are allocated below any mask */
}

static int set_masks(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits, bool streaming, bool coherent)
{
	if (!bits || bits > 64)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	if (!d->probed) {
		pthread_mutex_unlock(&d->lock);
		return -ENODEV;
	}
	if (!supported(d, bits)) {
		pthread_mutex_unlock(&d->lock);
		return -EIO;
	}
	if (coherent)
		d->coherent_dma_mask = CCMM_DMA_BIT_MASK(bits);
	if (streaming) {
		d->dma_mask = CCMM_DMA_BIT_MASK(bits);
		choose_path(ctx, d);
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int ccmm_dma_set_mask(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits)
{
	return set_masks(ctx, d, bits, true, false);
}

int ccmm_dma_set_coherent_mask(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits)
{
	return set_masks(ctx, d, bits, false, true);
}

int ccmm_dma_set_mask_and_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits)
{
	return set_masks(ctx, d, bits, true, true);
}

int ccmm_dma_set_min_align_mask(struct ccmm_dma_dev *d, uint32_t mask)
{
	if (mask & (mask + 1))
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	d->min_align_mask = mask;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int ccmm_dma_set_seg_boundary(struct ccmm_dma_dev *d, uint64_t mask)
{
	if (mask & (mask + 1) || mask < CCMM_PAGE_SIZE - 1)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	d->seg_boundary = mask;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int ccmm_dma_set_max_seg_size(struct ccmm_dma_dev *d, uint32_t size)
{
	if (!size)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	d->max_seg_size = size;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* ---- streaming mappings ---------------------------------------------------------------------- */

/* What a mapping needs of the device, read once under its lock. */
struct snap {
	enum ccmm_dma_path path;
	struct ccmm_iommu_window *window;
	uint64_t dma_offset, pool_iova;
	enum ccmm_svm_window svm_window;
	struct ccmm_swiotlb_dev sdev;
	bool probed, removed;
};

static void snapshot(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct snap *s)
{
	pthread_mutex_lock(&d->lock);
	s->probed = d->probed;
	s->removed = d->removed;
	s->path = d->path;
	s->window = d->window;
	s->dma_offset = d->dma_offset;
	s->pool_iova = d->pool_iova;
	s->svm_window = d->svm_window;
	s->sdev.seg_boundary_mask = d->seg_boundary;
	s->sdev.min_align_mask = d->min_align_mask;
	s->sdev.dma_offset = 0;
	s->sdev.cpu = ccmm_swiotlb_ctx_cpu(ctx);
	pthread_mutex_unlock(&d->lock);
}

/* dma_direct_get_required_mask(): the smallest 2^n - 1 that reaches the top of RAM as the device addresses it. */
static uint64_t required_mask(const struct ccmm_dma_dev *d)
{
	uint64_t top = ram_top(d->m->plat), max_dma;

	if (!top)
		return 0;
	max_dma = ccmm_force_dma_unencrypted(d) ? ccmm_phys_to_dma_unencrypted(d, top - CCMM_PAGE_SIZE)
						: ccmm_phys_to_dma(d, top - CCMM_PAGE_SIZE);
	return CCMM_DMA_BIT_MASK(64 - __builtin_clzll(max_dma | 1));
}

uint64_t ccmm_dma_max_mapping_size(struct ccmm_dma_dev *d)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);
	struct ccmm_swiotlb_dev sdev = { 0 };
	enum ccmm_dma_path path;
	uint64_t limit;

	if (!mem)
		return UINT64_MAX;
	pthread_mutex_lock(&d->lock);
	sdev.min_align_mask = d->min_align_mask;
	path = d->path;
	limit = min_not_zero(d->dma_mask, d->bus_dma_limit);
	pthread_mutex_unlock(&d->lock);
	/* dma_max_mapping_size(): iommu-dma bounces only untrusted devices; pSeries' TCE ops have no limit */
	if (path == CCMM_DMA_PATH_IOMMU)
		return secure_pseries(d) ? ccmm_swiotlb_max_mapping_size(&sdev) : UINT64_MAX;
	/* dma_direct_max_mapping_size(): forced bouncing, or a mask that does not reach all of RAM */
	if (force_bounce(d) || limit < required_mask(d))
		return ccmm_swiotlb_max_mapping_size(&sdev);
	return UINT64_MAX;
}

static int fail(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_dma_fail why, int ret)
{
	_ccmm_dma_count_fail(ctx, d, why);
	return ret;
}

static int window_unreachable(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const char *what, uint64_t size)
{
	const char *why;
	unsigned bits;
	bool ddw;

	pthread_mutex_lock(&d->lock);
	bits = (unsigned)__builtin_popcountll(d->dma_mask);
	pthread_mutex_unlock(&d->lock);
	ddw = d->unit && d->unit->desc->ddw;
	if (secure_pseries(d) && d->svm_window == CCMM_SVM_WINDOW_DDW)
		why = bits < 64 ? "the secure guest's bounce buffers are mapped only in the 64-bit dynamic window, which "
				  "needs a 64-bit DMA mask"
			  : ddw ? "the dynamic window that should map the bounce buffers could not be created over the pool"
				: "the secure guest's bounce buffers belong in a dynamic window, and this IOMMU has none";
	else
		why = "no IOMMU window holds an address this device can emit";
	ccmm_violation(ctx, &ccmm_rule_dma_window_unreachable, ~0ULL, "%s: %s of %" PRIu64 " bytes refused: %s (DMA mask %u bits%s)",
		       d->desc->name, what, size, why, bits, ddw ? "" : ", no dynamic window");
	return fail(ctx, d, CCMM_DMA_FAIL_WINDOW, -EIO);
}

/* Bounce [pa, +size) through SWIOTLB. 0 or the mapping's errno (counted). */
static int bounce_in(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct snap *s, uint64_t pa, uint64_t size,
		     enum ccmm_dma_dir dir, unsigned long attrs, uint64_t *tlb)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);
	int ret;

	if (!mem)
		return fail(ctx, d, CCMM_DMA_FAIL_MASK, -EIO);
	ret = ccmm_swiotlb_tbl_map_single(ctx, mem, &s->sdev, pa, size, 0, dir, attrs, tlb);
	if (ret == -ENOMEM)
		return fail(ctx, d, CCMM_DMA_FAIL_POOL_FULL, -ENOMEM);
	if (ret == -EINVAL)
		return fail(ctx, d, CCMM_DMA_FAIL_OTHER, -EINVAL);
	if (ret)
		return fail(ctx, d, CCMM_DMA_FAIL_OTHER, ret);
	return 0;
}

static void bounce_out(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct snap *s, uint64_t tlb, uint64_t size,
		       enum ccmm_dma_dir dir, unsigned long attrs)
{
	ccmm_swiotlb_tbl_unmap_single(ctx, ccmm_swiotlb_default(d->m), &s->sdev, tlb, size, dir, attrs);
}

/* Map [phys, +size) through an IOMMU window with an entry per mapping. Fills rec's I/O space. */
static int iommu_map_range(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_iommu_window *w, uint64_t phys,
			   uint64_t size, bool read_only, uint64_t limit, struct ccmm_dma_rec *rec, uint64_t *dma)
{
	uint64_t e = 1ULL << w->page_shift, base = CCMM_ALIGN_DOWN(phys, e);
	uint64_t span = CCMM_ALIGN_UP(phys + size, e) - base, off;
	int ret = ccmm_iommu_alloc(w, span, 0, limit, &off);

	if (ret == -ERANGE)
		return window_unreachable(ctx, d, "mapping", size);
	if (ret)
		return fail(ctx, d, CCMM_DMA_FAIL_IOVA, -ENOMEM);
	ret = ccmm_iommu_map(ctx, w, off, base, span, read_only);
	if (ret) {
		ccmm_iommu_free(w, off, span);
		return fail(ctx, d, CCMM_DMA_FAIL_OTHER, ret);
	}
	rec->win = w;
	rec->iova_off = off;
	rec->iova_len = span;
	*dma = w->bus_base + off + (phys - base);
	return 0;
}

/*
 * Undo what a record holds (I/O space, DDW references, bounce slots); no
 * record bookkeeping. The copy back out of a bounce buffer is the caller's:
 * @size bytes (cut to the mapping by SWIOTLB) when @dir copies back.
 */
static void undo(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct snap *s, const struct ccmm_dma_rec *r,
		 uint64_t size, enum ccmm_dma_dir dir, unsigned long attrs)
{
	if (r->win && r->iova_len) {
		ccmm_iommu_unmap(ctx, r->win, r->iova_off, r->iova_len);
		ccmm_iommu_free(r->win, r->iova_off, r->iova_len);
	}
	if (r->linear_ref && s->window)
		ccmm_iommu_linear_put(ctx, s->window, r->pa, r->size);
	if (r->bounced)
		bounce_out(ctx, d, s, r->tlb, size, dir, attrs);
}

/* The device whose BAR holds @pa, or -1 when @pa is not in a BAR (is_pci_p2pdma_page()). */
static int bar_owner(const struct ccmm_dma_dev *d, uint64_t pa)
{
	const struct ccmm_mem_range *r = ccmm_platform_range(d->m->plat, pa);

	return r && r->kind == CCMM_RANGE_BAR ? r->device : -1;
}

/*
 * pci_p2pdma_map_type(): PCI_P2PDMA_MAP_BUS_ADDR when the provider is the
 * device itself or sits in its P2P group (one switch: the TLPs never reach
 * the host bridge or the IOMMU), else NOT_SUPPORTED. ccmm does not model
 * P2P through the host bridge.
 */
static bool p2p_bus_addr(const struct ccmm_dma_dev *d, int provider)
{
	const struct ccmm_platform *p = d->m->plat;

	if (provider < 0 || (size_t)provider >= p->nr_devices)
		return false;
	if (provider == d->index)
		return true;
	return d->desc->p2p_group >= 0 && d->desc->p2p_group == p->devices[provider].p2p_group;
}

/*
 * Map one physically contiguous range; fills @rec (not added). 0 or errno
 * (counted). @unencrypted: the memory is known to be decrypted (a phyr's
 * metadata), so the direct address carries no C-bit.
 */
static int map_one(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct snap *s, uint64_t pa, uint64_t size,
		   enum ccmm_dma_dir dir, unsigned long attrs, bool p2p, bool unencrypted, struct ccmm_dma_rec *rec)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);
	bool force = force_bounce(d);
	uint64_t dma = CCMM_DMA_MAPPING_ERROR, tlb, limit = min_not_zero(d->dma_mask, d->bus_dma_limit);
	int ret;

	memset(rec, 0, sizeof(*rec));
	rec->pa = pa;
	rec->size = size;
	rec->dir = dir;
	ccmm_charge(ctx, CCMM_COST_AT(dma, dma_map_ns), 1);
	if (p2p) {
		/*
		 * A BAR by its bus address (dma_direct_map_sg / iommu_dma_map_sg,
		 * PCI_P2PDMA_MAP_BUS_ADDR): never bounced -- SWIOTLB has nothing to
		 * copy MMIO to -- and never through the IOMMU; out of P2P reach the
		 * mapping is refused with -EREMOTEIO.
		 */
		if (!p2p_bus_addr(d, bar_owner(d, pa)))
			return fail(ctx, d, CCMM_DMA_FAIL_OTHER, -EREMOTEIO);
		rec->p2p = true;
		rec->dma = pa;
		return 0;
	}
	switch (s->path) {
	case CCMM_DMA_PATH_DIRECT:
		dma = unencrypted ? ccmm_phys_to_dma_unencrypted(d, pa) : ccmm_phys_to_dma(d, pa);
		if (force || !capable(d, dma, size)) {
			ret = bounce_in(ctx, d, s, pa, size, dir, attrs, &tlb);
			if (ret)
				return ret;
			dma = ccmm_phys_to_dma_unencrypted(d, tlb);
			if (!capable(d, dma, size)) {
				bounce_out(ctx, d, s, tlb, size, dir, attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC);
				return fail(ctx, d, CCMM_DMA_FAIL_MASK, -EIO);
			}
			rec->bounced = true;
			rec->tlb = tlb;
		}
		break;
	case CCMM_DMA_PATH_BYPASS:
		if (force) {
			s->sdev.dma_offset = s->dma_offset;
			ret = bounce_in(ctx, d, s, pa, size, dir, attrs, &tlb);
			if (ret)
				return ret;
			rec->bounced = true;
			rec->tlb = tlb;
			dma = tlb + s->dma_offset;
		} else {
			dma = pa + s->dma_offset;
		}
		if (!capable(d, dma, size) ||
		    (s->window && !ccmm_iommu_linear_covers(s->window, rec->bounced ? tlb : pa, size))) {
			if (rec->bounced)
				bounce_out(ctx, d, s, tlb, size, dir, attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC);
			return fail(ctx, d, CCMM_DMA_FAIL_WINDOW, -EIO);
		}
		break;
	case CCMM_DMA_PATH_IOMMU:
		if (secure_pseries(d)) {
			if (s->svm_window != CCMM_SVM_WINDOW_DMA32 || !s->window)
				return window_unreachable(ctx, d, "mapping", size);
			/* the pool lives in the 32-bit window: bounce, and the address is the pool's window address */
			s->sdev.dma_offset = s->window->bus_base + s->pool_iova - mem->start;
			ret = bounce_in(ctx, d, s, pa, size, dir, attrs, &tlb);
			if (ret)
				return ret;
			dma = s->window->bus_base + s->pool_iova + (tlb - mem->start);
			if (!capable(d, dma, size)) {
				bounce_out(ctx, d, s, tlb, size, dir, attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC);
				return fail(ctx, d, CCMM_DMA_FAIL_MASK, -EIO);
			}
			rec->bounced = true;
			rec->tlb = tlb;
			break;
		}
		if (!s->window)
			return window_unreachable(ctx, d, "mapping", size);
		/*
		 * iommu_dma_map_page / the TCE ops: the page itself, never a bounce
		 * buffer -- dev_use_swiotlb() is for untrusted devices, not for a
		 * confidential guest, which then hands the device private memory.
		 */
		ret = iommu_map_range(ctx, d, s->window, pa, size, dir == CCMM_DMA_TO_DEVICE, limit, rec, &dma);
		if (ret)
			return ret;
		break;
	default:
		return -ENODEV;
	}
	rec->dma = dma;
	return 0;
}

/*
 * Map one range and record it (add_dma_entry). @sg_call_ents: the nents of
 * the dma_map_sg call (0 for other calls). dma-debug's map-time checks of
 * the CPU side (stack, kernel image) run for page and single mappings
 * here; map_sg runs them itself over all its entries first.
 */
static int map_range(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t pa, uint64_t size, enum ccmm_dma_dir dir,
		     unsigned long attrs, enum ccmm_dma_map_type type, bool p2p, bool unencrypted, int sg_call_ents,
		     uint64_t *dma, uint32_t *flags)
{
	struct snap s;
	struct ccmm_dma_rec rec;
	int ret;

	*dma = CCMM_DMA_MAPPING_ERROR;
	if (!size || (unsigned)dir > CCMM_DMA_FROM_DEVICE)
		return -EINVAL;
	snapshot(ctx, d, &s);
	if (!s.probed)
		return -ENODEV;
	ret = map_one(ctx, d, &s, pa, size, dir, attrs, p2p, unencrypted, &rec);
	if (ret)
		return ret;
	rec.type = type;
	rec.sg_call_ents = sg_call_ents;
	rec.sg_mapped_ents = sg_call_ents;
	rec.checked = type == CCMM_DMA_MAP_SG || type == CCMM_DMA_MAP_PHYR; /* no dma_mapping_error for these */
	pthread_mutex_lock(&d->lock);
	ret = _ccmm_dma_rec_add(ctx, d, &rec);
	if (!ret)
		d->maps++;
	pthread_mutex_unlock(&d->lock);
	if (ret) {
		undo(ctx, d, &s, &rec, size, dir, attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC);
		return ret;
	}
	/* debug_dma_map_page: after a mapping that worked (dma_map_sg checks once the whole list is mapped) */
	if (type != CCMM_DMA_MAP_SG) {
		_ccmm_dma_debug_map_area(ctx, d, pa, size, type == CCMM_DMA_MAP_PHYR ? "dma_map_phyr" : "dma_map_page");
		_ccmm_dma_cacheline_insert(ctx, d, &rec, attrs);
	}
	ccmm_count(ctx, CCMM_CTR_AT(dma, dma_maps), 1);
	*dma = rec.dma;
	if (flags)
		*flags = (rec.bounced ? CCMM_SG_DMA_SWIOTLB : 0) | (rec.p2p ? CCMM_SG_DMA_BUS_ADDRESS : 0);
	return 0;
}

int ccmm_dma_map_page(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t pa, uint64_t size, enum ccmm_dma_dir dir,
		      unsigned long attrs, uint64_t *dma)
{
	return map_range(ctx, d, pa, size, dir, attrs, CCMM_DMA_MAP_PAGE, false, false, 0, dma, NULL);
}

int ccmm_dma_map_single(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t va, uint64_t size,
			enum ccmm_dma_dir dir, unsigned long attrs, uint64_t *dma)
{
	uint64_t pa;

	*dma = CCMM_DMA_MAPPING_ERROR;
	/* dma_map_single_attrs: "DMA must never operate on areas that might be remapped" */
	if (va >= CCMM_VMALLOC_START && va <= CCMM_VMALLOC_END) {
		ccmm_violation(ctx, &ccmm_rule_dma_map_vmalloc, ~0ULL,
			       "%s: dma_map_single(0x%" PRIx64 ", %" PRIu64 " bytes): rejecting DMA map of vmalloc memory",
			       d->desc->name, va, size);
		return fail(ctx, d, CCMM_DMA_FAIL_OTHER, -EINVAL);
	}
	/* debug_dma_map_single: virt_addr_valid() */
	if (!ccmm_dma_kernel_virt_to_phys(d->m, va, &pa)) {
		ccmm_violation(ctx, &ccmm_rule_dma_map_invalid_area, ~0ULL,
			       "%s: dma_map_single: device driver maps memory from invalid area [addr=0x%" PRIx64
			       "] [len=%" PRIu64 "]: no RAM page behind it",
			       d->desc->name, va, size);
		return fail(ctx, d, CCMM_DMA_FAIL_OTHER, -EINVAL);
	}
	return map_range(ctx, d, pa, size, dir, attrs, CCMM_DMA_MAP_SINGLE, false, false, 0, dma, NULL);
}

int ccmm_dma_mapping_error(struct ccmm_dma_dev *d, uint64_t dma)
{
	long i;

	if (dma == CCMM_DMA_MAPPING_ERROR)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	/* one address may be mapped several times: mark the first twin not checked yet (as dma-debug) */
	for (i = 0; (size_t)i < d->nr_rec; i++) {
		if (d->rec[i].dma == dma && !d->rec[i].checked) {
			d->rec[i].checked = true;
			break;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/*
 * An unmap: dma-debug's check_unmap, then the unmap as the DMA API makes it
 * from the caller's arguments -- the copy back for the caller's direction
 * and size, the slots and I/O space of the mapping found.
 */
static int unmap_common(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
			enum ccmm_dma_dir dir, unsigned long attrs, enum ccmm_dma_map_type type, int sg_call_ents,
			const char *fn)
{
	struct ccmm_dma_ref ref = { dma, size, dir, type, UINT64_MAX, sg_call_ents };
	struct ccmm_dma_rec rec;
	struct snap s;
	bool found;
	int ret;

	snapshot(ctx, d, &s);
	if (!s.probed && !s.removed)
		return -ENODEV;
	ret = _ccmm_dma_check_unmap(ctx, d, &ref, fn, &rec, &found);
	if (!found)
		return ret;
	if (rec.type == CCMM_DMA_MAP_COHERENT) {
		/* a coherent buffer given to an unmap: its I/O mapping goes, its pages stay (leaked) */
		undo(ctx, d, &s, &rec, rec.size, rec.dir, attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC);
		return ret;
	}
	undo(ctx, d, &s, &rec, CCMM_MIN(size, rec.size), dir, attrs);
	ccmm_count(ctx, CCMM_CTR_AT(dma, dma_unmaps), 1);
	return ret;
}

/* Undo an sg entry dma-debug never saw (dma_direct_map_sg's rollback): no check, no cacheline. */
static void unmap_unseen(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, int sg_call_ents,
			 enum ccmm_dma_dir dir, unsigned long attrs)
{
	struct ccmm_dma_ref ref = { dma, 0, dir, CCMM_DMA_MAP_SG, UINT64_MAX, sg_call_ents };
	struct ccmm_dma_rec rec;
	struct snap s;
	bool ambiguous;
	long i;

	snapshot(ctx, d, &s);
	pthread_mutex_lock(&d->lock);
	i = _ccmm_dma_rec_find_exact(d, &ref, &ambiguous);
	if (i >= 0) {
		rec = d->rec[i];
		d->unmaps++;
		_ccmm_dma_rec_del(d, i);
	}
	pthread_mutex_unlock(&d->lock);
	if (i >= 0)
		undo(ctx, d, &s, &rec, rec.size, dir, attrs);
}

int ccmm_dma_unmap_page(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
			enum ccmm_dma_dir dir, unsigned long attrs)
{
	return unmap_common(ctx, d, dma, size, dir, attrs, CCMM_DMA_MAP_PAGE, 0, "dma_unmap_page");
}

int ccmm_dma_unmap_single(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
			  enum ccmm_dma_dir dir, unsigned long attrs)
{
	return unmap_common(ctx, d, dma, size, dir, attrs, CCMM_DMA_MAP_SINGLE, 0, "dma_unmap_single");
}

int ccmm_dma_map_sg(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, enum ccmm_dma_dir dir,
		    unsigned long attrs)
{
	unsigned i, n;
	int ret = 0;

	if (!t || !t->sgl || !t->orig_nents)
		return -EINVAL;
	n = t->orig_nents;
	for (i = 0; i < n; i++) {
		struct ccmm_scatterlist *sg = &t->sgl[i];
		uint64_t dma;
		uint32_t flags;

		/* a peer's BAR takes the P2P path, recognised by its address (is_pci_p2pdma_page) */
		ret = map_range(ctx, d, ccmm_sg_phys(sg), sg->length, dir, attrs, CCMM_DMA_MAP_SG,
				bar_owner(d, ccmm_sg_phys(sg)) >= 0, false, (int)n, &dma, &flags);
		if (ret)
			break;
		sg->dma_address = dma;
		sg->dma_length = sg->length;
		sg->dma_flags = flags;
	}
	if (ret) {
		enum ccmm_dma_path path;

		pthread_mutex_lock(&d->lock);
		path = d->path;
		pthread_mutex_unlock(&d->lock);
		/* dma_direct_map_sg: a page that did not map is -EIO, whatever stopped it; P2P out of reach -EREMOTEIO */
		if ((path == CCMM_DMA_PATH_DIRECT || path == CCMM_DMA_PATH_BYPASS) && ret != -EREMOTEIO && ret != -ENODEV)
			ret = -EIO;
		/* dma_direct_map_sg's own rollback: before dma-debug ever saw the list */
		while (i--) {
			unmap_unseen(ctx, d, t->sgl[i].dma_address, (int)n, dir, attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC);
			t->sgl[i].dma_address = CCMM_DMA_MAPPING_ERROR;
			t->sgl[i].dma_length = 0;
		}
		t->nents = 0;
		return ret;
	}
	t->nents = n;
	/* debug_dma_map_sg: the CPU side of every entry, then each DMA segment and its entry */
	for (i = 0; i < n; i++)
		_ccmm_dma_debug_map_area(ctx, d, ccmm_sg_phys(&t->sgl[i]), t->sgl[i].length, "dma_map_sg");
	for (i = 0; i < n; i++) {
		const struct ccmm_scatterlist *sg = &t->sgl[i];
		struct ccmm_dma_rec e = { .dma = sg->dma_address, .size = sg->dma_length, .dir = dir,
					  .type = CCMM_DMA_MAP_SG, .pa = ccmm_sg_phys(sg) };

		_ccmm_dma_debug_sg_segment(ctx, d, sg->length, sg->dma_address, sg->dma_length);
		_ccmm_dma_cacheline_insert(ctx, d, &e, attrs);
	}
	return (int)n;
}

int ccmm_dma_unmap_sg_nents(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, unsigned nents,
			    enum ccmm_dma_dir dir, unsigned long attrs)
{
	int ret = 0;

	if (!t || !t->sgl)
		return -EINVAL;
	/* debug_dma_unmap_sg checks the entries it finds mapped; dma_direct_unmap_sg unmaps @nents of them */
	for (unsigned i = 0; i < CCMM_MIN(nents, t->orig_nents); i++) {
		int r = unmap_common(ctx, d, t->sgl[i].dma_address, t->sgl[i].dma_length, dir, attrs, CCMM_DMA_MAP_SG,
				     (int)nents, "dma_unmap_sg");

		if (r && !ret)
			ret = r;
	}
	t->nents = 0;
	return ret;
}

int ccmm_dma_unmap_sg(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, enum ccmm_dma_dir dir,
		      unsigned long attrs)
{
	return ccmm_dma_unmap_sg_nents(ctx, d, t, t ? t->orig_nents : 0, dir, attrs);
}

static int phyr_push(struct ccmm_dma_phyr_map *out, uint64_t dma, uint64_t len, uint32_t flags)
{
	if (ccmm_grow((void **)&out->r, &out->cap, out->nr + 1, sizeof(*out->r)))
		return -ENOMEM;
	out->r[out->nr].dma = dma;
	out->r[out->nr].len = len;
	out->r[out->nr].flags = flags;
	out->nr++;
	return 0;
}

int ccmm_dma_map_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_phyr *p, enum ccmm_dma_dir dir,
		      unsigned long attrs, struct ccmm_dma_phyr_map *out)
{
	uint64_t chunk = ccmm_dma_max_mapping_size(d);
	size_t gi, ri;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	out->dir = dir;
	if (!p || !p->nr)
		return -EINVAL;
	ccmm_phyr_for_each_range(p, gi, ri) {
		const struct ccmm_phyr_meta *meta = &p->g[gi].meta;
		uint64_t pa = p->r[ri].pa, left = p->r[ri].len;
		bool p2p = meta->p2p || bar_owner(d, pa) >= 0;

		if (meta->private_interconnect) {
			ret = fail(ctx, d, CCMM_DMA_FAIL_OTHER, -EOPNOTSUPP);
			goto undo;
		}
		while (left) {
			/* ranges that may bounce are cut at the largest bounce; a peer's BAR is mapped whole */
			uint64_t n = p2p ? left : CCMM_MIN(left, chunk);
			uint64_t dma;
			uint32_t flags;

			/* the metadata says what the secure world holds: decrypted RAM gets no C-bit */
			ret = map_range(ctx, d, pa, n, dir, attrs, CCMM_DMA_MAP_PHYR, p2p, !meta->encrypted, 0, &dma,
					&flags);
			if (!ret) {
				ret = phyr_push(out, dma, n, flags);
				if (ret)
					unmap_common(ctx, d, dma, n, dir, attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC, CCMM_DMA_MAP_PHYR, 0,
						     "dma_map_phyr");
			}
			if (ret)
				goto undo;
			pa += n;
			left -= n;
		}
	}
	return 0;
undo:
	for (size_t i = out->nr; i--;)
		unmap_common(ctx, d, out->r[i].dma, out->r[i].len, dir, attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC,
			     CCMM_DMA_MAP_PHYR, 0, "dma_map_phyr");
	free(out->r);
	memset(out, 0, sizeof(*out));
	return ret;
}

int ccmm_dma_unmap_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_dma_phyr_map *map,
			unsigned long attrs)
{
	int ret = 0;

	for (size_t i = 0; i < map->nr; i++) {
		int r = unmap_common(ctx, d, map->r[i].dma, map->r[i].len, map->dir, attrs, CCMM_DMA_MAP_PHYR, 0,
				     "dma_unmap_phyr");

		if (r && !ret)
			ret = r;
	}
	free(map->r);
	memset(map, 0, sizeof(*map));
	return ret;
}

/* ---- syncs ------------------------------------------------------------------------------------- */

/*
 * A sync: dma-debug's check_sync, then the copy the caller's direction asks
 * for (swiotlb_sync_single_for_cpu / _for_device), whatever was mapped.
 */
static int sync_common(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
		       enum ccmm_dma_dir dir, bool for_cpu, enum ccmm_dma_map_type type, int sg_call_ents)
{
	const char *fn = type == CCMM_DMA_MAP_SG ? (for_cpu ? "dma_sync_sg_for_cpu" : "dma_sync_sg_for_device")
			 : for_cpu		  ? "dma_sync_single_for_cpu"
						  : "dma_sync_single_for_device";
	struct ccmm_dma_ref ref = { dma, size, dir, type, UINT64_MAX, sg_call_ents };
	struct ccmm_dma_rec rec;
	struct snap s;
	bool found;
	int ret, cret = 0;

	snapshot(ctx, d, &s);
	if (!s.probed)
		return -ENODEV;
	if ((unsigned)dir > CCMM_DMA_FROM_DEVICE)
		return -EINVAL; /* BUG_ON(!valid_dma_direction(dir)) */
	ret = _ccmm_dma_check_sync(ctx, d, &ref, for_cpu, fn, &rec, &found);
	if (found && rec.bounced) {
		struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);
		uint64_t tlb = rec.tlb + (dma - rec.dma);

		if (for_cpu)
			cret = ccmm_swiotlb_sync_single_for_cpu(ctx, mem, &s.sdev, tlb, size, dir);
		else
			cret = ccmm_swiotlb_sync_single_for_device(ctx, mem, &s.sdev, tlb, size, dir);
	}
	return ret ? ret : cret;
}

int ccmm_dma_sync_single_for_cpu(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
				 enum ccmm_dma_dir dir)
{
	return sync_common(ctx, d, dma, size, dir, true, CCMM_DMA_MAP_SINGLE, 0);
}

int ccmm_dma_sync_single_for_device(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
				    enum ccmm_dma_dir dir)
{
	return sync_common(ctx, d, dma, size, dir, false, CCMM_DMA_MAP_SINGLE, 0);
}

int ccmm_dma_sync_sg_nents(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, unsigned nents,
			   enum ccmm_dma_dir dir, bool for_cpu)
{
	int ret = 0;

	if (!t || !t->sgl)
		return -EINVAL;
	/* debug_dma_sync_sg_*: the entries mapped, at most; the sync itself walks @nents, cut to the table */
	for (unsigned i = 0; i < CCMM_MIN(CCMM_MIN(nents, t->nents), t->orig_nents); i++) {
		int r = sync_common(ctx, d, t->sgl[i].dma_address, t->sgl[i].dma_length, dir, for_cpu, CCMM_DMA_MAP_SG,
				    (int)nents);

		if (r && !ret)
			ret = r;
	}
	return ret;
}

static int sync_sg(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, enum ccmm_dma_dir dir,
		   bool for_cpu)
{
	return ccmm_dma_sync_sg_nents(ctx, d, t, t ? t->orig_nents : 0, dir, for_cpu);
}

int ccmm_dma_sync_sg_for_cpu(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t,
			     enum ccmm_dma_dir dir)
{
	return sync_sg(ctx, d, t, dir, true);
}

int ccmm_dma_sync_sg_for_device(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t,
				enum ccmm_dma_dir dir)
{
	return sync_sg(ctx, d, t, dir, false);
}

/* ---- coherent memory ------------------------------------------------------------------------------ */

/*
 * dma_set_encrypted + __dma_direct_free_pages: make @pages of the block
 * private again (if they were decrypted) and free the block of @order; a
 * refused conversion leaks the block, as the kernel does ("leaking DMA
 * memory that can't be re-encrypted"): shared pages never go back.
 */
static void release_pages(struct ccmm_ctx *ctx, struct ccmm_dma *dm, uint64_t pa, unsigned order, uint64_t pages,
			  bool decrypted)
{
	if (decrypted) {
		if (ccmm_set_memory_encrypted(ctx, ccmm_phys_to_virt(pa), pages)) {
			ccmm_count(ctx, CCMM_CTR_AT(dma, coherent_pages_leaked), 1ULL << order);
			atomic_fetch_add(&dm->total_coherent_leaked, 1ULL << order);
			return;
		}
		ccmm_count(ctx, CCMM_CTR_AT(dma, coherent_pages_reencrypted), pages);
		atomic_fetch_add(&dm->total_coherent_reencrypted, pages);
	}
	ccmm_free_pages(ctx, pa, order);
}

/* Zero [pa, +size) through the CPU's (direct-map) view. */
static int zero_through_cpu(struct ccmm_ctx *ctx, uint64_t pa, uint64_t size)
{
	static const uint8_t zeros[CCMM_PAGE_SIZE];

	for (uint64_t off = 0; off < size; off += CCMM_PAGE_SIZE) {
		struct ccmm_result r;
		int ret = ccmm_kernel_access(ctx, CCMM_WRITE, ccmm_phys_to_virt(pa + off), (void *)zeros,
					     (size_t)CCMM_MIN(CCMM_PAGE_SIZE, size - off), &r);

		if (ret)
			return ret;
		if (ccmm_outcome_faults(r.outcome) && !r.handled)
			return -EFAULT;
	}
	return 0;
}

/* __dma_direct_alloc_pages: a block of @order below @max_pa, in the mask's zone first, then ZONE_DMA32. */
static int alloc_below(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned order, uint64_t max_pa, uint64_t *pa)
{
	int node = d->desc->node >= 0 && (unsigned)d->desc->node < d->m->plat->nr_nodes ? d->desc->node : -1;
	unsigned gfp = max_pa <= CCMM_DMA_BIT_MASK(32) ? CCMM_GFP_DMA32 : 0; /* dma_direct_optimal_gfp_mask */
	int ret;

	for (;;) {
		ret = ccmm_alloc_pages(ctx, node, order, gfp, pa);
		if (ret)
			return -ENOMEM;
		if (*pa + (CCMM_PAGE_SIZE << order) - 1 <= max_pa)
			return 0;
		ccmm_free_pages(ctx, *pa, order);
		if (gfp & CCMM_GFP_DMA32)
			return fail(ctx, d, CCMM_DMA_FAIL_MASK, -ENOMEM); /* no ZONE_DMA to fall back to */
		gfp |= CCMM_GFP_DMA32;
	}
}

int ccmm_dma_alloc_attrs(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t size, unsigned gfp, uint64_t *dma,
			 uint64_t *cpu_va)
{
	struct ccmm_dma *dm = dma_of(d->m);
	struct ccmm_dma_rec rec;
	struct snap s;
	unsigned order;
	uint64_t pa, limit, max_pa, pages, req = size, dma_addr = CCMM_DMA_MAPPING_ERROR;
	bool decrypt, direct, from_pool = false;
	int ret;

	*dma = CCMM_DMA_MAPPING_ERROR;
	*cpu_va = 0;
	if (!size)
		return -EINVAL;
	if (size > (CCMM_PAGE_SIZE << CCMM_MAX_ORDER))
		return -ENOMEM; /* more than a buddy block: only CMA could, and ccmm has none */
	size = CCMM_ALIGN_UP(size, CCMM_PAGE_SIZE);
	pages = size >> CCMM_PAGE_SHIFT;
	snapshot(ctx, d, &s);
	if (!s.probed)
		return -ENODEV;
	pthread_mutex_lock(&d->lock);
	limit = min_not_zero(d->coherent_dma_mask, d->bus_dma_limit);
	pthread_mutex_unlock(&d->lock);
	if (secure_pseries(d) && s.path == CCMM_DMA_PATH_IOMMU && s.svm_window != CCMM_SVM_WINDOW_DMA32)
		return window_unreachable(ctx, d, "coherent allocation", size);
	order = ccmm_get_order(size);
	direct = s.path == CCMM_DMA_PATH_DIRECT || s.path == CCMM_DMA_PATH_BYPASS;
	/*
	 * dma_direct_alloc decrypts; iommu_dma_alloc and the TCE ops'
	 * iommu_alloc_coherent never do. A pSeries secure guest on its 32-bit
	 * window (seed 002's proposal, which no kernel has) shares them.
	 */
	decrypt = ccmm_force_dma_unencrypted(d) && (direct || secure_pseries(d));
	/* the physical limit the address must satisfy (only when the address is the physical one) */
	max_pa = UINT64_MAX;
	if (direct) {
		uint64_t off = s.path == CCMM_DMA_PATH_BYPASS ? s.dma_offset : 0;

		if (limit < off)
			return fail(ctx, d, CCMM_DMA_FAIL_MASK, -EIO);
		max_pa = limit - off;
		if (!decrypt && has_cbit(d->m->plat))
			max_pa &= ~d->m->enc_mask; /* the C-bit is in the address too */
	}
	if (direct && decrypt && (gfp & CCMM_DMA_GFP_ATOMIC)) {
		/*
		 * Decrypting may block: dma_direct_alloc takes the block from the
		 * atomic pools (dma_direct_alloc_from_pool). Without
		 * DMA_COHERENT_POOL (POWER) there is none: NULL.
		 */
		enum ccmm_dma_pool_zone zone = max_pa < (16ULL << 20)		? CCMM_DMA_POOL_DMA
					       : max_pa <= CCMM_DMA_BIT_MASK(32) ? CCMM_DMA_POOL_DMA32
										 : CCMM_DMA_POOL_KERNEL;

		if (_ccmm_dma_ppc64(d->m)) {
			ccmm_count(ctx, CCMM_CTR_AT(dma, coherent_atomic_failed), 1);
			return -ENOMEM;
		}
		ret = _ccmm_dma_pool_alloc(ctx, d->m, size, max_pa, zone, &pa);
		if (ret)
			return ret;
		from_pool = true;
	} else {
		ret = alloc_below(ctx, d, order, max_pa, &pa);
		if (ret)
			return ret;
		if (decrypt) {
			/* dma_set_decrypted: PFN_UP(size) pages of the block */
			ret = ccmm_set_memory_decrypted(ctx, ccmm_phys_to_virt(pa), pages);
			if (ret)
				return -ENOMEM; /* out_leak_pages: their state is unknown, they are never freed */
			ccmm_count(ctx, CCMM_CTR_AT(dma, coherent_pages_converted), pages);
			atomic_fetch_add(&dm->total_coherent_converted, pages);
		}
	}
	memset(&rec, 0, sizeof(rec));
	rec.type = CCMM_DMA_MAP_COHERENT;
	rec.pa = pa;
	rec.size = req; /* as dma-debug records it; the block is PAGE_ALIGN(size) */
	rec.dir = CCMM_DMA_BIDIRECTIONAL;
	rec.checked = true;
	rec.decrypted = decrypt && !from_pool;
	rec.from_pool = from_pool;
	switch (s.path) {
	case CCMM_DMA_PATH_DIRECT:
		dma_addr = decrypt ? ccmm_phys_to_dma_unencrypted(d, pa) : ccmm_phys_to_dma(d, pa);
		break;
	case CCMM_DMA_PATH_BYPASS:
		dma_addr = pa + s.dma_offset;
		if (secure_pseries(d)) {
			/* the DDW maps only the bounce range: this buffer gets its own entries */
			ret = ccmm_iommu_linear_get(ctx, s.window, pa, size);
			if (ret) {
				ret = fail(ctx, d, CCMM_DMA_FAIL_WINDOW, -EIO);
				goto out_free;
			}
			rec.linear_ref = true;
		}
		break;
	case CCMM_DMA_PATH_IOMMU:
		if (!s.window) {
			ret = window_unreachable(ctx, d, "coherent allocation", size);
			goto out_free;
		}
		ret = iommu_map_range(ctx, d, s.window, pa, CCMM_PAGE_SIZE << order, false, limit, &rec, &dma_addr);
		if (ret)
			goto out_free;
		break;
	default:
		ret = -ENODEV;
		goto out_free;
	}
	rec.dma = dma_addr;
	ret = zero_through_cpu(ctx, pa, size);
	if (!ret) {
		pthread_mutex_lock(&d->lock);
		ret = _ccmm_dma_rec_add(ctx, d, &rec);
		pthread_mutex_unlock(&d->lock);
	}
	if (ret) {
		undo(ctx, d, &s, &rec, 0, rec.dir, 0);
		goto out_free;
	}
	_ccmm_dma_cacheline_insert(ctx, d, &rec, 0); /* debug_dma_alloc_coherent */
	ccmm_count(ctx, CCMM_CTR_AT(dma, coherent_allocs), 1);
	*dma = dma_addr;
	*cpu_va = ccmm_phys_to_virt(pa);
	return 0;
out_free:
	if (from_pool)
		_ccmm_dma_pool_free(d->m, pa, size);
	else
		release_pages(ctx, dm, pa, order, pages, decrypt);
	return ret;
}

int ccmm_dma_alloc_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t size, uint64_t *dma,
			    uint64_t *cpu_va)
{
	return ccmm_dma_alloc_attrs(ctx, d, size, 0, dma, cpu_va);
}

int ccmm_dma_free_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t size, uint64_t cpu_va,
			   uint64_t dma)
{
	struct ccmm_dma_ref ref = { dma, size, CCMM_DMA_BIDIRECTIONAL, CCMM_DMA_MAP_COHERENT, UINT64_MAX, 0 };
	struct ccmm_dma *dm = dma_of(d->m);
	struct ccmm_dma_rec rec;
	struct snap s;
	bool found;
	int ret;

	snapshot(ctx, d, &s);
	if (!s.probed && !s.removed)
		return -ENODEV;
	/* debug_dma_free_coherent: a CPU address outside the direct map is not checked */
	if (cpu_va >= CCMM_PAGE_OFFSET && cpu_va < CCMM_VMALLOC_START)
		ref.pa = ccmm_virt_to_phys(cpu_va);
	ret = _ccmm_dma_check_unmap(ctx, d, &ref, "dma_free_coherent", &rec, &found);
	if (!found)
		return ret;
	if (rec.type != CCMM_DMA_MAP_COHERENT) {
		/* a streaming mapping handed to free_coherent: undo it as what it is, free nothing */
		undo(ctx, d, &s, &rec, rec.size, rec.dir, CCMM_DMA_ATTR_SKIP_CPU_SYNC);
		return ret;
	}
	undo(ctx, d, &s, &rec, 0, rec.dir, 0);
	/* dma_direct_free: back to its atomic pool, or re-encrypted and freed (or leaked) */
	size = CCMM_ALIGN_UP(rec.size, CCMM_PAGE_SIZE);
	if (!rec.from_pool || !_ccmm_dma_pool_free(d->m, rec.pa, size))
		release_pages(ctx, dm, rec.pa, ccmm_get_order(size), size >> CCMM_PAGE_SHIFT, rec.decrypted);
	return ret;
}

/* ---- the device side ---------------------------------------------------------------------------- */

/* A device's address through its IOMMU, cut to the bits its DMA mask lets it emit. */
static int through_iommu(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_rw rw, uint64_t bus, void *buf,
			 size_t len, struct ccmm_result *r)
{
	unsigned bits = d->desc->dma_mask_bits;

	if (bits < 64 && ((bus + len - 1) >> bits)) {
		uint64_t cut = bus & CCMM_DMA_BIT_MASK(bits);

		ccmm_violation(ctx, &ccmm_rule_dma_mask_exceeded, ~0ULL,
			       "%s has a %u-bit DMA mask but was given 0x%" PRIx64 "; it emits 0x%" PRIx64 " instead",
			       d->desc->name, bits, bus, cut);
		bus = cut;
	}
	return ccmm_iommu_dma_access(ctx, d->unit, d->index, rw, bus, buf, len, r);
}

int ccmm_dma_device_access(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_rw rw, uint64_t dma, void *buf,
			   size_t len, struct ccmm_result *r)
{
	enum { FINE, UNMAPPED, CPU_OWNED } state = FINE;
	struct ccmm_dma_rec rec;
	long i;

	memset(r, 0, sizeof(*r));
	if (!len)
		return -EINVAL;
	pthread_mutex_lock(&d->lock);
	i = _ccmm_dma_rec_find_containing(d, dma, len);
	if (i < 0)
		state = UNMAPPED;
	else if (d->rec[i].type != CCMM_DMA_MAP_COHERENT && d->rec[i].cpu_owns)
		state = CPU_OWNED;
	if (i >= 0)
		rec = d->rec[i];
	pthread_mutex_unlock(&d->lock);
	if (state == UNMAPPED)
		ccmm_violation(ctx, &ccmm_rule_dma_device_unmapped, ~0ULL,
			       "%s %s of %zu bytes at bus address 0x%" PRIx64 ": no live mapping of this device covers it",
			       d->desc->name, rw == CCMM_READ ? "read" : "write", len, dma);
	else if (state == CPU_OWNED)
		ccmm_violation(ctx, &ccmm_rule_dma_device_unsynced, rec.pa,
			       "%s %s at 0x%" PRIx64 " of the %s mapping made by %s (line %d), which the CPU owns since a "
			       "dma_sync_*_for_cpu: it was not given back with dma_sync_*_for_device",
			       d->desc->name, rw == CCMM_READ ? "read" : "write", dma, ccmm_dma_dir_name(rec.dir), rec.op,
			       rec.where.line);
	/* a P2P bus address: the switch routes it to the peer, no IOMMU on the way */
	if (!d->unit || (state != UNMAPPED && rec.p2p))
		return ccmm_dma_access(ctx, d->index, NULL, rw, dma, buf, len, r);
	return through_iommu(ctx, d, rw, dma, buf, len, r);
}

int ccmm_dma_raw_access(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_rw rw, uint64_t bus, void *buf,
			size_t len, struct ccmm_result *r)
{
	int owner;

	memset(r, 0, sizeof(*r));
	if (!len)
		return -EINVAL;
	/* a BAR of a device in its P2P group: the switch routes it there (pci_p2pdma: no IOMMU on the way) */
	owner = bar_owner(d, bus);
	if (!d->unit || (owner >= 0 && p2p_bus_addr(d, owner)))
		return ccmm_dma_access(ctx, d->index, NULL, rw, bus, buf, len, r);
	return through_iommu(ctx, d, rw, bus, buf, len, r);
}

/* The bus address of @pa in a live record of @e (its original, or its bounce buffer); false when none holds it. */
static bool rec_bus_addr(struct ccmm_dma_dev *e, uint64_t pa, uint64_t *bus, uint64_t *room)
{
	bool hit = false;

	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->nr_rec && !hit; i++) {
		const struct ccmm_dma_rec *r = &e->rec[i];
		uint64_t base = r->bounced ? r->tlb : r->pa;

		if (r->p2p || pa < base || pa - base >= r->size)
			continue;
		*bus = r->dma + (pa - base);
		*room = r->size - (pa - base);
		hit = true;
	}
	pthread_mutex_unlock(&e->lock);
	return hit;
}

int ccmm_dma_bus_addr(struct ccmm_dma_dev *d, uint64_t pa, uint64_t *bus, uint64_t *room)
{
	struct ccmm_dma *dm = dma_of(d->m);
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(d->m);
	struct ccmm_iommu_window *ddw;
	int owner = bar_owner(d, pa);

	*room = UINT64_MAX - pa;
	if (owner >= 0 && p2p_bus_addr(d, owner)) {
		*bus = pa; /* PCI_P2PDMA_MAP_BUS_ADDR (bus and CPU addresses are one in ccmm) */
		return 0;
	}
	if (!d->unit) {
		/* phys_to_dma_direct() */
		*bus = ccmm_force_dma_unencrypted(d) ? ccmm_phys_to_dma_unencrypted(d, pa) : ccmm_phys_to_dma(d, pa);
		return 0;
	}
	/* a live mapping or coherent buffer on this translation: its own device's, or its unit's on pSeries */
	if (rec_bus_addr(d, pa, bus, room))
		return 0;
	if (d->unit->desc->kind != CCMM_IOMMU_PSERIES_TCE)
		return -ENOENT; /* a domain per device: nothing else translates to @pa */
	for (size_t i = 0; i < dm->nr_devs; i++)
		if (&dm->devs[i] != d && dm->devs[i].unit == d->unit && rec_bus_addr(&dm->devs[i], pa, bus, room))
			return 0;
	/* the SWIOTLB pool, mapped whole into the 32-bit window (a secure guest's dma32 choice) */
	if (mem && pa >= mem->start && pa < mem->end && d->unit->dma32) {
		const struct ccmm_dma_unit *up = &dm->units[d->unit->index];
		bool mapped;

		pthread_mutex_lock(&dm->unit_lock);
		mapped = up->tried && !up->err;
		pthread_mutex_unlock(&dm->unit_lock);
		if (mapped) {
			*bus = d->unit->dma32->bus_base + up->pool_iova + (pa - mem->start);
			*room = mem->end - pa;
			return 0;
		}
	}
	/* the dynamic window is linear: bus_base + pa, reachable where its entries are */
	pthread_mutex_lock(&d->unit->lock);
	ddw = d->unit->ddw;
	pthread_mutex_unlock(&d->unit->lock);
	if (ddw && pa < ddw->size) {
		*bus = ddw->bus_base + pa;
		*room = ddw->size - pa;
		return 0;
	}
	return -ENOENT;
}

int ccmm_dma_device_access_segs(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_rw rw, ccmm_dma_seg_fn seg,
				void *arg, uint64_t off, void *buf, size_t len, struct ccmm_result *r)
{
	uint8_t *p = buf;
	uint64_t at = 0, dma, seglen;
	bool first = true;

	memset(r, 0, sizeof(*r));
	if (!len || off + len < off)
		return -EINVAL;
	for (size_t i = 0; at < off + len && seg(arg, i, &dma, &seglen); i++, at += seglen) {
		uint64_t s = CCMM_MAX(off, at), e = CCMM_MIN(off + len, at + seglen);
		struct ccmm_result part;
		int ret;

		if (s >= e)
			continue;
		ret = ccmm_dma_device_access(ctx, d, rw, dma + (s - at), p ? p + (s - off) : NULL, (size_t)(e - s), &part);
		if (ret)
			return ret;
		ccmm_result_merge(r, &part, first);
		first = false;
		if (ccmm_outcome_faults(part.outcome) && !part.handled)
			break;
	}
	return first ? -EINVAL : 0; /* no segment reached the span */
}

bool ccmm_dma_need_sync(struct ccmm_dma_dev *d, uint64_t dma)
{
	bool bounced;
	long i;

	pthread_mutex_lock(&d->lock);
	i = _ccmm_dma_rec_find_containing(d, dma, 1);
	bounced = i >= 0 && d->rec[i].bounced;
	pthread_mutex_unlock(&d->lock);
	return bounced;
}

/* ---- MMIO ------------------------------------------------------------------------------------------ */

static int mmio(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t off, void *buf, size_t len, bool write)
{
	const struct ccmm_platform *p = d->m->plat;
	uint64_t va, size;
	struct ccmm_result r;
	int ret;

	pthread_mutex_lock(&d->lock);
	va = d->probed ? d->bar0_va : 0;
	size = d->bar0_size;
	pthread_mutex_unlock(&d->lock);
	if (!va)
		return -ENODEV;
	if (!len || off >= size || len > size - off)
		return -EINVAL;
	if (p->mode == CCMM_CC_TDX && p->mmio == CCMM_MMIO_PARAVIRT) {
		/* the accessor asks the VMM directly (TDVMCALL<#VE.RequestMMIO>): no #VE */
		uint64_t pa = d->desc->bar[0].base + off;
		uint8_t *b = buf;

		while (len) {
			size_t n = (size_t)CCMM_MIN(len, CCMM_PAGE_SIZE - (pa & (CCMM_PAGE_SIZE - 1)));
			struct ccmm_page *pg = ccmm_phys_lock(d->m, pa);

			if (!pg)
				return -ENOMEM;
			ret = ccmm_phys_rw(d->m, pa, b, n, write, CCMM_KEYID_NONE, NULL);
			ccmm_phys_unlock(d->m, pa);
			if (ret)
				return ret;
			pa += n;
			b += n;
			len -= n;
		}
		ccmm_charge(ctx, CCMM_COST_tdvmcall_ns, 1);
		ccmm_charge(ctx, CCMM_COST_mmio_ns, 1);
		ccmm_count(ctx, CCMM_CTR_AT(dma, mmio_pv_calls), 1);
		ccmm_count(ctx, CCMM_CTR_mmio_accesses, 1);
		return 0;
	}
	ret = ccmm_kernel_access(ctx, write ? CCMM_WRITE : CCMM_READ, va + off, buf, len, &r);
	if (ret)
		return ret;
	if (ccmm_outcome_faults(r.outcome) && !r.handled)
		return -EFAULT;
	return 0;
}

int ccmm_dma_mmio_read(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t off, void *buf, size_t len)
{
	return mmio(ctx, d, off, buf, len, false);
}

int ccmm_dma_mmio_write(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t off, const void *buf, size_t len)
{
	return mmio(ctx, d, off, (void *)buf, len, true);
}

/* ---- figures ---------------------------------------------------------------------------------------- */

void ccmm_dma_dev_stats(struct ccmm_dma_dev *d, struct ccmm_dma_dev_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&d->lock);
	out->path = d->path;
	out->dma_mask = d->dma_mask;
	out->coherent_dma_mask = d->coherent_dma_mask;
	out->live = d->nr_rec;
	out->maps = d->maps;
	out->unmaps = d->unmaps;
	out->live_hiwater = d->live_hiwater;
	memcpy(out->fail, d->fail, sizeof(out->fail));
	pthread_mutex_unlock(&d->lock);
}

void ccmm_dma_pool_stats(struct ccmm_machine *m, struct ccmm_dma_pool_stats *out)
{
	struct ccmm_dma *dma = dma_of(m);

	memset(out, 0, sizeof(*out));
	_ccmm_dma_pools_stats(m, out);
	out->converted_pages = atomic_load(&dma->total_coherent_converted);
	out->reencrypted_pages = atomic_load(&dma->total_coherent_reencrypted);
	out->leaked_pages = atomic_load(&dma->total_coherent_leaked);
}

size_t ccmm_dma_live(struct ccmm_dma_dev *d)
{
	size_t n;

	pthread_mutex_lock(&d->lock);
	n = d->nr_rec;
	pthread_mutex_unlock(&d->lock);
	return n;
}

static size_t dma_stats(struct ccmm_machine *m, struct ccmm_stat *out, size_t max)
{
	struct ccmm_dma *dma = dma_of(m);
	struct ccmm_dma_pool_stats ps;
	size_t n = 0;

	if (!dma)
		return 0;
	ccmm_dma_pool_stats(m, &ps);
	{
		/* nothing to say for a run that never used the DMA API */
		bool active = atomic_load(&dma->probes_refused) || ps.made;

		for (size_t i = 0; i < dma->nr_devs && !active; i++) {
			pthread_mutex_lock(&dma->devs[i].lock);
			active = dma->devs[i].probed || dma->devs[i].removed;
			pthread_mutex_unlock(&dma->devs[i].lock);
		}
		if (!active)
			return 0;
	}
	for (int f = 0; f < CCMM_DMA_FAIL_NR; f++) {
		char name[48];

		snprintf(name, sizeof(name), "map_fail_%s", ccmm_dma_fail_name((enum ccmm_dma_fail)f));
		ccmm_stat_add(out, max, &n, "dma", name, atomic_load(&dma->fail[f]), NULL);
	}
	ccmm_stat_add(out, max, &n, "dma", "probes_refused", atomic_load(&dma->probes_refused), NULL);
	ccmm_stat_add(out, max, &n, "dma", "coherent_converted_pages", ps.converted_pages, NULL);
	ccmm_stat_add(out, max, &n, "dma", "coherent_reencrypted_pages", ps.reencrypted_pages, NULL);
	ccmm_stat_add(out, max, &n, "dma", "coherent_leaked_pages", ps.leaked_pages, NULL);
	if (ps.made) {
		/* the atomic pools, as debugfs dma_pools/ shows them, and what their worker did */
		for (int z = 0; z < CCMM_DMA_POOL_NR; z++) {
			char name[48];

			snprintf(name, sizeof(name), "pool_size_%s", ccmm_dma_pool_zone_name((enum ccmm_dma_pool_zone)z));
			ccmm_stat_add(out, max, &n, "dma", name, ps.size[z], NULL);
		}
		ccmm_stat_add(out, max, &n, "dma", "atomic_pool_allocs", ps.allocs, NULL);
		ccmm_stat_add(out, max, &n, "dma", "atomic_pool_exhausted", ps.exhausted, NULL);
		ccmm_stat_add(out, max, &n, "dma", "atomic_pool_expansions", ps.expansions, NULL);
		ccmm_stat_add(out, max, &n, "dma", "atomic_pool_decrypted_pages", ps.pool_decrypted_pages, NULL);
		ccmm_stat_add(out, max, &n, "dma", "atomic_pool_share_ns", ps.pool_share_ns, NULL);
	}
	for (size_t i = 0; i < dma->nr_devs; i++) {
		struct ccmm_dma_dev *d = &dma->devs[i];
		struct ccmm_dma_dev_stats s;
		char g[48];

		bool shown;
		enum ccmm_svm_window win;

		ccmm_dma_dev_stats(d, &s);
		pthread_mutex_lock(&d->lock);
		shown = d->probed || d->removed || s.maps;
		win = d->svm_window;
		pthread_mutex_unlock(&d->lock);
		if (!shown)
			continue;
		snprintf(g, sizeof(g), "dma.%.40s", d->desc->name);
		ccmm_stat_add(out, max, &n, g, "path", 0, ccmm_dma_path_name(s.path));
		if (d->unit && d->m->plat->mode == CCMM_CC_PSERIES_SVM)
			ccmm_stat_add(out, max, &n, g, "svm_window", 0, ccmm_svm_window_names[win]);
		ccmm_stat_add(out, max, &n, g, "dma_mask_bits", (uint64_t)__builtin_popcountll(s.dma_mask), NULL);
		ccmm_stat_add(out, max, &n, g, "coherent_mask_bits", (uint64_t)__builtin_popcountll(s.coherent_dma_mask),
			      NULL);
		ccmm_stat_add(out, max, &n, g, "maps", s.maps, NULL);
		ccmm_stat_add(out, max, &n, g, "unmaps", s.unmaps, NULL);
		ccmm_stat_add(out, max, &n, g, "live", s.live, NULL);
		ccmm_stat_add(out, max, &n, g, "live_hiwater", s.live_hiwater, NULL);
		for (int f = 0; f < CCMM_DMA_FAIL_NR; f++) {
			char name[48];

			snprintf(name, sizeof(name), "map_fail_%s", ccmm_dma_fail_name((enum ccmm_dma_fail)f));
			ccmm_stat_add(out, max, &n, g, name, s.fail[f], NULL);
		}
	}
	return n;
}

struct ccmm_subsys ccmm_subsys_dma = {
	.name = "dma",
	.init = dma_init,
	.exit = dma_exit,
	.rules = dma_rules,
	.stats = dma_stats,
	.block = &ccmm_dma_block,
};
