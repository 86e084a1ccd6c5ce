// SPDX-License-Identifier: MIT
/*
 * The software IO TLB: pool planning and reservation, the per-area
 * next-fit slot search, the bounce copies, release with free-list merging.
 * Semantics after kernel/dma/swiotlb.c and arch/x86/mm/mem_encrypt.c; the
 * code is ccmm's own.
 */
#include "swiotlb/swiotlb.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "platform/subsys.h"
#include "check/check.h"
#include "mm/mm.h"

CCMM_COST_BLOCK_DEFINE(swiotlb, CCMM_SWIOTLB_COSTS, CCMM_SWIOTLB_COUNTERS);

#define INVALID_PHYS UINT64_MAX
#define COPY_CHUNK (64 * 1024)

const char *const ccmm_dma_dir_names[] = { "bidirectional", "to_device", "from_device", "none", NULL };

const char *ccmm_dma_dir_name(enum ccmm_dma_dir dir)
{
	return (unsigned)dir <= CCMM_DMA_NONE ? ccmm_dma_dir_names[dir] : "?";
}

static uint64_t nr_slots(uint64_t bytes)
{
	return (bytes + CCMM_IO_TLB_SIZE - 1) >> CCMM_IO_TLB_SHIFT;
}

static bool is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static uint64_t roundup_pow2(uint64_t x)
{
	uint64_t r = 1;

	while (r < x)
		r <<= 1;
	return r;
}

/* ---- planning ------------------------------------------------------------- */

static bool platform_is_pseries(const struct ccmm_platform *p)
{
	if (p->mode == CCMM_CC_PSERIES_SVM)
		return true;
	for (size_t i = 0; i < p->nr_iommus; i++)
		if (p->iommus[i].kind == CCMM_IOMMU_PSERIES_TCE)
			return true;
	return false;
}

static bool ram_above_4g(const struct ccmm_platform *p)
{
	for (size_t i = 0; i < p->nr_ranges; i++)
		if (p->ranges[i].kind == CCMM_RANGE_RAM && p->ranges[i].base + p->ranges[i].size > 4 * CCMM_GiB)
			return true;
	return false;
}

int ccmm_swiotlb_plan(const struct ccmm_platform *p, struct ccmm_swiotlb_plan *out)
{
	enum ccmm_cc_mode mode = p->mode;
	uint64_t nslabs;
	unsigned nareas;

	memset(out, 0, sizeof(*out));
	/* SWIOTLB_FORCE in a confidential guest (x86's pci_swiotlb_detect), or swiotlb=force */
	out->force_bounce = ccmm_cc_is_guest(mode) || p->swiotlb_force;
	out->share = ccmm_cc_is_guest(mode) || mode == CCMM_CC_SME;
	/* x86 takes it from low memory; a pSeries secure guest from anywhere */
	out->low = mode != CCMM_CC_PSERIES_SVM;
	if (ccmm_cc_is_guest(mode) || mode == CCMM_CC_SME || p->swiotlb_size || p->swiotlb_force)
		out->active = true;
	else if (mode == CCMM_CC_NONE && !platform_is_pseries(p) && !p->nr_iommus && ram_above_4g(p))
		out->active = true; /* pci_swiotlb_detect_4gb: RAM above 4 GiB, no IOMMU */

	if (p->swiotlb_size) {
		if (p->swiotlb_size < (uint64_t)CCMM_IO_TLB_SEGSIZE * CCMM_IO_TLB_SIZE)
			return -EINVAL;
		nslabs = CCMM_ALIGN_UP(p->swiotlb_size >> CCMM_IO_TLB_SHIFT, CCMM_IO_TLB_SEGSIZE);
		out->why = "the platform's swiotlb_size";
	} else if (mode == CCMM_CC_SEV || mode == CCMM_CC_SEV_SNP || mode == CCMM_CC_TDX) {
		uint64_t size = ccmm_platform_ram(p, -1) * 6 / 100;

		size = CCMM_MAX(size, CCMM_IO_TLB_DEFAULT_SIZE);
		size = CCMM_MIN(size, CCMM_GiB);
		size = CCMM_ALIGN_UP(size, CCMM_IO_TLB_SIZE);
		nslabs = CCMM_ALIGN_UP(size >> CCMM_IO_TLB_SHIFT, CCMM_IO_TLB_SEGSIZE);
		out->why = "mem_encrypt_setup_arch: 6% of RAM, clamped to [64 MiB, 1 GiB]";
	} else {
		nslabs = CCMM_IO_TLB_DEFAULT_SIZE >> CCMM_IO_TLB_SHIFT;
		out->why = "the 64 MiB default";
	}
	/* swiotlb_adjust_nareas: a power of two; then whole segments per area, a power of two of slots */
	nareas = p->swiotlb_areas ? p->swiotlb_areas : p->cpus;
	if (!nareas)
		nareas = 1;
	nareas = (unsigned)roundup_pow2(nareas);
	if (nslabs < (uint64_t)CCMM_IO_TLB_SEGSIZE * nareas)
		nslabs = (uint64_t)CCMM_IO_TLB_SEGSIZE * nareas;
	else if (!is_pow2(nslabs))
		nslabs = roundup_pow2(nslabs);
	out->nslabs = nslabs;
	out->nareas = nareas;
	return 0;
}

/* limit_nareas(): no more areas than whole segments. */
static unsigned limit_nareas(unsigned nareas, uint64_t nslabs)
{
	if (nslabs < (uint64_t)nareas * CCMM_IO_TLB_SEGSIZE)
		return (unsigned)(nslabs / CCMM_IO_TLB_SEGSIZE);
	return nareas;
}

/* ---- pools ----------------------------------------------------------------- */

int ccmm_io_tlb_mem_init(struct ccmm_io_tlb_mem *mem, struct ccmm_machine *m, const char *name, uint64_t start,
			 uint64_t nslabs, unsigned nareas, bool share)
{
	memset(mem, 0, sizeof(*mem));
	if (!nslabs || !nareas || !is_pow2(nareas) || !CCMM_IS_ALIGNED(start, CCMM_PAGE_SIZE) ||
	    nslabs % ((uint64_t)CCMM_IO_TLB_SEGSIZE * nareas))
		return -EINVAL;
	mem->slots = calloc(nslabs, sizeof(*mem->slots));
	mem->used_map = calloc(nslabs / 64, sizeof(*mem->used_map)); /* all free: list = the run to the segment's end */
	mem->areas = aligned_alloc(64, CCMM_ALIGN_UP(nareas * sizeof(*mem->areas), 64));
	if (!mem->slots || !mem->used_map || !mem->areas) {
		free(mem->slots);
		free(mem->used_map);
		free(mem->areas);
		mem->slots = NULL;
		mem->used_map = NULL;
		mem->areas = NULL;
		return -ENOMEM;
	}
	mem->m = m;
	snprintf(mem->name, sizeof(mem->name), "%s", name);
	mem->start = start;
	mem->end = start + (nslabs << CCMM_IO_TLB_SHIFT);
	mem->nslabs = nslabs;
	mem->nareas = nareas;
	mem->area_nslabs = nslabs / nareas;
	mem->area_shift = is_pow2(mem->area_nslabs) ? (unsigned)__builtin_ctzll(mem->area_nslabs) : 0;
	for (unsigned i = 0; i < nareas; i++)
		memset(&mem->areas[i], 0, sizeof(mem->areas[i])); /* unlocked, nothing used */
	for (uint64_t i = 0; i < nslabs; i++)
		mem->slots[i].orig_addr = INVALID_PHYS;
	pthread_mutex_init(&mem->attr_lock, NULL);
	mem->share = share;
	return 0;
}

void ccmm_io_tlb_mem_fini(struct ccmm_io_tlb_mem *mem)
{
	if (!mem->slots)
		return;
	pthread_mutex_destroy(&mem->attr_lock);
	free(mem->slots);
	free(mem->used_map);
	free(mem->areas);
	mem->slots = NULL;
	mem->used_map = NULL;
	mem->areas = NULL;
}

static int swiotlb_init(struct ccmm_machine *m)
{
	struct ccmm_swiotlb_plan plan;
	struct ccmm_io_tlb_mem *mem;
	uint64_t nslabs, pa = 0;
	unsigned nareas;
	int ret;

	ccmm_subsys_set_data(m, &ccmm_subsys_swiotlb, NULL);
	ret = ccmm_swiotlb_plan(m->plat, &plan);
	if (ret)
		return ret;
	if (!plan.active)
		return 0;
	nslabs = plan.nslabs;
	nareas = limit_nareas(plan.nareas, nslabs);
	if (m->plat->swiotlb_base) {
		/*
		 * Where a recorded kernel had it: the top-down search below the
		 * pool's end tries exactly that base first. Anything else there
		 * (or a pool that rounding made larger than the RAM holds) makes
		 * the platform impossible; no halving.
		 */
		uint64_t base = m->plat->swiotlb_base, bytes = nslabs << CCMM_IO_TLB_SHIFT;

		ret = ccmm_memblock_alloc(m, bytes, CCMM_PAGE_SIZE, base + bytes, true, &pa);
		if (ret || pa != base)
			return -EBUSY;
	}
	/* swiotlb_init_remap: halve until it fits, down to 1 MiB */
	while (!m->plat->swiotlb_base && ccmm_memblock_alloc(m, nslabs << CCMM_IO_TLB_SHIFT, CCMM_PAGE_SIZE,
							     plan.low ? 4 * CCMM_GiB : 0, true, &pa)) {
		if (nslabs <= CCMM_IO_TLB_MIN_SLABS)
			return 0; /* no pool: DMA that must bounce will fail */
		nslabs = CCMM_ALIGN_UP(nslabs >> 1, CCMM_IO_TLB_SEGSIZE);
		nareas = limit_nareas(nareas, nslabs);
	}
	mem = calloc(1, sizeof(*mem));
	if (!mem)
		return -ENOMEM;
	ret = ccmm_io_tlb_mem_init(mem, m, "swiotlb", pa, nslabs, nareas, plan.share);
	if (ret) {
		free(mem);
		return ret;
	}
	mem->force_bounce = plan.force_bounce;
	ccmm_subsys_set_data(m, &ccmm_subsys_swiotlb, mem);
	return 0;
}

static void swiotlb_exit(struct ccmm_machine *m)
{
	struct ccmm_io_tlb_mem *mem = ccmm_subsys_data(m, &ccmm_subsys_swiotlb);

	if (!mem)
		return;
	ccmm_io_tlb_mem_fini(mem);
	free(mem);
	ccmm_subsys_set_data(m, &ccmm_subsys_swiotlb, NULL);
}

struct ccmm_io_tlb_mem *ccmm_swiotlb_default(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_swiotlb);
}

int ccmm_swiotlb_share(struct ccmm_io_tlb_mem *mem)
{
	int ret;

	/* once tried, every map reads the outcome without the lock (it never changes again) */
	if (atomic_load_explicit(&mem->share_tried, memory_order_acquire))
		return mem->share_err;
	pthread_mutex_lock(&mem->attr_lock);
	if (mem->share && !mem->shared && !mem->share_err) {
		struct ccmm_ctx c;

		ccmm_ctx_init(&c, mem->m, -1, mem->name);
		c.op = "swiotlb_update_mem_attributes";
		mem->share_pages = (mem->end - mem->start) >> CCMM_PAGE_SHIFT;
		mem->share_err = ccmm_set_memory_decrypted(&c, ccmm_phys_to_virt(mem->start), mem->share_pages);
		mem->share_ns = c.now_ns;
		mem->shared = !mem->share_err;
	}
	ret = mem->share_err;
	atomic_store_explicit(&mem->share_tried, true, memory_order_release);
	pthread_mutex_unlock(&mem->attr_lock);
	return ret;
}

int ccmm_swiotlb_ctx_cpu(const struct ccmm_ctx *ctx)
{
	unsigned cpus = ctx->m->plat->cpus ? ctx->m->plat->cpus : 1;

	if (ctx->cpu >= 0)
		return ctx->cpu;
	return ctx->actor < 0 ? 0 : (int)((unsigned)ctx->actor % cpus);
}

size_t ccmm_swiotlb_max_mapping_size(const struct ccmm_swiotlb_dev *dev)
{
	size_t min_align = 0;

	if (dev->min_align_mask)
		min_align = CCMM_ALIGN_UP((uint64_t)dev->min_align_mask, CCMM_IO_TLB_SIZE);
	return (size_t)CCMM_IO_TLB_SIZE * CCMM_IO_TLB_SEGSIZE - min_align;
}

/* ---- the slot search ---------------------------------------------------------- */

/* What a successful search writes into the slots it claims, under the area lock. */
struct claim {
	uint64_t orig;       /* original physical address */
	uint64_t alloc_size; /* bytes claimed, padding included */
	unsigned small_off;  /* orig's min_align_mask bits below a slot */
	unsigned pad;        /* leading padding slots */
};

/* Would @nslots slots from @index cross a boundary of @boundary slots, the table starting at slot @shift? */
static bool span_boundary(uint64_t index, uint64_t nslots, uint64_t shift, uint64_t boundary)
{
	uint64_t off = (shift + index) & (boundary - 1);

	return off + nslots > boundary;
}

/* The area of slot @index: a shift for a pool of power-of-two areas (a 64-bit division costs tens of cycles). */
static inline struct ccmm_io_tlb_area *area_of(const struct ccmm_io_tlb_mem *mem, uint64_t index)
{
	return &mem->areas[mem->area_shift ? index >> mem->area_shift : index / mem->area_nslabs];
}

static uint64_t wrap_index(const struct ccmm_io_tlb_mem *mem, uint64_t index)
{
	return index >= mem->area_nslabs ? 0 : index;
}

/*
 * One more in an area's event count, under the area's lock: the lock
 * orders the writers, so a plain load and store (relaxed atomics, for the
 * lock-free readers of ccmm_swiotlb_stats) instead of a locked add.
 */
static inline void area_count(atomic_uint_fast64_t *ctr)
{
	atomic_store_explicit(ctr, atomic_load_explicit(ctr, memory_order_relaxed) + 1, memory_order_relaxed);
}

static void note_used(struct ccmm_io_tlb_mem *mem, uint64_t nslots)
{
	uint_fast64_t used = atomic_fetch_add(&mem->total_used, nslots) + nslots;
	uint_fast64_t hi = atomic_load(&mem->used_hiwater);

	while (used > hi && !atomic_compare_exchange_weak(&mem->used_hiwater, &hi, used))
		;
}

/* Bits [@b, @b + @k) of a word, 0 < @k <= 64 - @b. */
static inline uint64_t bit_run(unsigned b, unsigned k)
{
	return (UINT64_MAX >> (64 - k)) << b;
}

/*
 * Mark @n slots from @index (1..128, inside one segment, so over at most
 * the segment's two words) used or free in the bitmap: what the kernel
 * does by zeroing their `list` counts and renumbering the free run before
 * them (and, on release, counting them into the free run after), as bit
 * stores.
 */
static inline void set_word(_Atomic(uint64_t) *w, uint64_t bits, bool used)
{
	uint64_t v = atomic_load_explicit(w, memory_order_relaxed); /* the area lock orders the writers */

	atomic_store_explicit(w, used ? v | bits : v & ~bits, memory_order_relaxed);
}

static inline void mark_slots(_Atomic(uint64_t) *map, uint64_t index, uint64_t n, bool used)
{
	_Atomic(uint64_t) *w = &map[index >> 6];
	unsigned b = (unsigned)(index & 63), k = (unsigned)CCMM_MIN(n, 64u - b);

	set_word(&w[0], bit_run(b, k), used);
	if (n > k)
		set_word(&w[1], bit_run(0, (unsigned)(n - k)), used);
}

/* Search one area; claim and return the first slot index (padding included), or -1. */
static int64_t search_area(struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev, unsigned area_index,
			   bool has_orig, unsigned alloc_align_mask, const struct claim *c)
{
	struct ccmm_io_tlb_area *area = &mem->areas[area_index];
	uint64_t boundary_mask = dev->seg_boundary_mask ? dev->seg_boundary_mask : UINT32_MAX;
	uint64_t tbl_dma = (mem->start + dev->dma_offset) & boundary_mask;
	uint64_t max_slots = (boundary_mask >> CCMM_IO_TLB_SHIFT) + 1;
	uint64_t iotlb_align_mask = dev->min_align_mask;
	uint64_t align = alloc_align_mask;
	uint64_t nslots = nr_slots(c->alloc_size), tbl_shift = nr_slots(tbl_dma), stride, index, checked, base, slot;

	/* a mapping of a page or more is page aligned when nothing else is asked (historical) */
	if (!align && !iotlb_align_mask && c->alloc_size >= CCMM_PAGE_SIZE)
		align = CCMM_PAGE_SIZE - 1;
	align |= CCMM_IO_TLB_SIZE - 1;
	iotlb_align_mask &= ~align; /* bits below the allocation alignment are kept by the offset */
	stride = (CCMM_MAX(align, iotlb_align_mask) >> CCMM_IO_TLB_SHIFT) + 1;

	ccmm_lock_acquire(&area->lock);
	if (nslots > mem->area_nslabs - area->used)
		goto not_found;
	base = (uint64_t)area_index * mem->area_nslabs;
	index = area->index;
	for (checked = 0; checked < mem->area_nslabs;) {
		uint64_t tlb;

		slot = base + index;
		tlb = tbl_dma + (slot << CCMM_IO_TLB_SHIFT);
		/* an original at physical address 0 is no original to swiotlb_search_pool_area: no min_align check */
		if ((tlb & align) || (c->orig && (tlb & iotlb_align_mask) != (c->orig & iotlb_align_mask))) {
			index = wrap_index(mem, index + 1);
			checked++;
			continue;
		}
		if (!span_boundary(slot, nslots, tbl_shift, max_slots) && ccmm_swiotlb_slot_list(mem, slot) >= nslots)
			goto found;
		index = wrap_index(mem, index + stride);
		checked += stride;
	}
not_found:
	ccmm_lock_release(&area->lock);
	return -1;

found:
	for (uint64_t i = slot; i < slot + nslots; i++)
		mem->slots[i].alloc_size = (uint32_t)(c->alloc_size - (c->small_off + ((i - slot) << CCMM_IO_TLB_SHIFT)));
	/* in use: their list counts 0, the free run before them now ends at them */
	mark_slots(mem->used_map, slot, nslots, true);
	if (has_orig) {
		uint64_t first = slot + c->pad;

		mem->slots[first].pad_slots = (uint8_t)c->pad;
		mem->slots[first].head = 1;
		for (uint64_t i = 0; i < nslots - c->pad; i++)
			mem->slots[first + i].orig_addr = c->orig + (i << CCMM_IO_TLB_SHIFT);
	}
	area->index = (uint32_t)wrap_index(mem, index + nslots);
	area->used += nslots;
	if (has_orig)
		area_count(&area->maps); /* a streaming mapping (swiotlb_alloc is not one) */
	ccmm_lock_release(&area->lock);
	note_used(mem, nslots);
	return (int64_t)slot;
}

static int64_t find_slots(struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev, bool has_orig,
			  unsigned alloc_align_mask, const struct claim *c)
{
	unsigned start, i;

	if (c->alloc_size > (uint64_t)CCMM_IO_TLB_SEGSIZE * CCMM_IO_TLB_SIZE)
		return -1;
	start = i = (unsigned)dev->cpu & (mem->nareas - 1);
	do {
		int64_t index = search_area(mem, dev, i, has_orig, alloc_align_mask, c);

		if (index >= 0)
			return index;
		if (++i >= mem->nareas)
			i = 0;
	} while (i != start);
	return -1;
}

/* Give back the mapping whose first used slot is @index; merge with free neighbours. @unmap: count an unmap. */
static void release_slots(struct ccmm_io_tlb_mem *mem, uint64_t index, unsigned small_off, bool unmap)
{
	struct ccmm_io_tlb_area *area;
	uint64_t nslots;

	index -= mem->slots[index].pad_slots;
	area = area_of(mem, index);
	ccmm_lock_acquire(&area->lock);
	nslots = nr_slots(mem->slots[index].alloc_size + small_off);
	for (uint64_t i = index; i < index + nslots; i++) {
		mem->slots[i].orig_addr = INVALID_PHYS;
		mem->slots[i].alloc_size = 0;
		mem->slots[i].pad_slots = 0;
		mem->slots[i].head = 0;
	}
	/* free again: merged with the free runs before and after them in the segment */
	mark_slots(mem->used_map, index, nslots, false);
	area->used -= nslots;
	if (unmap)
		area_count(&area->unmaps);
	ccmm_lock_release(&area->lock);
	atomic_fetch_sub(&mem->total_used, nslots);
}

/* ---- bounces -------------------------------------------------------------------- */

static bool copy_failed(const struct ccmm_result *r)
{
	return (ccmm_outcome_faults(r->outcome) && !r->handled) || r->outcome == CCMM_ABORT || r->outcome == CCMM_BLOCKED;
}

/*
 * Copy @len bytes between kernel addresses through the checker, as the
 * kernel's memcpy in swiotlb_bounce: ccmm_copy per COPY_CHUNK, the bytes
 * going from page to page. 0, -EFAULT (a side faulted, aborted or was
 * blocked), -ENOMEM.
 */
static int cpu_copy(struct ccmm_ctx *ctx, uint64_t dst_va, uint64_t src_va, uint64_t len)
{
	struct ccmm_pgtable *init_mm = ccmm_kernel(ctx->m)->init_mm;
	int ret = 0;

	while (len && !ret) {
		size_t n = (size_t)CCMM_MIN(len, COPY_CHUNK);
		struct ccmm_access src = { CCMM_INIT_KERNEL, CCMM_READ, src_va, n, init_mm, -1, NULL };
		struct ccmm_access dst = { CCMM_INIT_KERNEL, CCMM_WRITE, dst_va, n, init_mm, -1, NULL };
		struct ccmm_result rr, wr;

		ret = ccmm_copy(ctx, &dst, &src, &rr, &wr);
		if (!ret && (copy_failed(&rr) || copy_failed(&wr)))
			ret = -EFAULT;
		dst_va += n;
		src_va += n;
		len -= n;
	}
	return ret;
}

/*
 * swiotlb_bounce(): copy between the buffer at @tlb (inside a live mapping)
 * and its original, @size bytes at most to the mapping's end.
 */
static int bounce(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev, uint64_t tlb,
		  size_t size, enum ccmm_dma_dir dir)
{
	uint64_t index = (tlb - mem->start) >> CCMM_IO_TLB_SHIFT;
	uint64_t orig = mem->slots[index].orig_addr;
	int64_t alloc = mem->slots[index].alloc_size, off;
	struct ccmm_ctx_scope scope;
	int ret;

	if (orig == INVALID_PHYS)
		return -EINVAL;
	/* where @tlb falls relative to the slot's share of the original (may be negative) */
	off = (int64_t)(tlb & (CCMM_IO_TLB_SIZE - 1)) - (int64_t)(orig & dev->min_align_mask & (CCMM_IO_TLB_SIZE - 1));
	orig = (uint64_t)((int64_t)orig + off);
	alloc -= off;
	if ((int64_t)size > alloc)
		size = alloc > 0 ? (size_t)alloc : 0;
	if (!size)
		return 0;
	scope = ccmm_ctx_scope_enter(ctx, CCMM_ATTR_BOUNCE, CCMM_COST_AT(swiotlb, swiotlb_bounce_mbps));
	if (dir == CCMM_DMA_TO_DEVICE)
		ret = cpu_copy(ctx, ccmm_phys_to_virt(tlb), ccmm_phys_to_virt(orig), size);
	else
		ret = cpu_copy(ctx, ccmm_phys_to_virt(orig), ccmm_phys_to_virt(tlb), size);
	ccmm_ctx_scope_leave(ctx, scope);
	if (!ret) {
		atomic_fetch_add(&area_of(mem, index)->bounced_bytes, size);
		ccmm_count(ctx, CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes), size);
		ccmm_ctx_attribute_bytes(ctx, CCMM_ATTR_BOUNCE, size);
	}
	return ret;
}

int ccmm_swiotlb_tbl_map_single(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev,
				uint64_t orig, size_t mapping_size, unsigned alloc_align_mask, enum ccmm_dma_dir dir,
				unsigned long attrs, uint64_t *tlb_addr)
{
	struct claim c;
	uint64_t offset;
	int64_t index;
	int ret;

	*tlb_addr = INVALID_PHYS;
	if (!mapping_size || mapping_size > ccmm_swiotlb_max_mapping_size(dev) || (unsigned)dir > CCMM_DMA_FROM_DEVICE)
		return -EINVAL;
	ret = ccmm_swiotlb_share(mem);
	if (ret)
		return ret;
	ccmm_charge(ctx, CCMM_COST_AT(swiotlb, swiotlb_map_ns), 1);
	/* swiotlb_align_offset(): min_align_mask bits the allocation's alignment does not give */
	offset = orig & dev->min_align_mask & (alloc_align_mask | (CCMM_IO_TLB_SIZE - 1));
	c.orig = orig;
	c.alloc_size = CCMM_ALIGN_UP(mapping_size + offset, (uint64_t)alloc_align_mask + 1);
	c.small_off = (unsigned)(orig & dev->min_align_mask & (CCMM_IO_TLB_SIZE - 1));
	c.pad = (unsigned)(offset >> CCMM_IO_TLB_SHIFT);
	index = find_slots(mem, dev, true, alloc_align_mask, &c);
	if (index < 0) {
		atomic_fetch_add(&mem->areas[(unsigned)dev->cpu & (mem->nareas - 1)].full, 1);
		ccmm_count(ctx, CCMM_CTR_AT(swiotlb, dma_map_fail_pool_full), 1);
		return -ENOMEM;
	}
	index += c.pad;
	*tlb_addr = mem->start + ((uint64_t)index << CCMM_IO_TLB_SHIFT) + (offset & (CCMM_IO_TLB_SIZE - 1));
	ccmm_count(ctx, CCMM_CTR_AT(swiotlb, swiotlb_maps), 1);
	ccmm_count(ctx, CCMM_CTR_AT(swiotlb, swiotlb_slots), nr_slots(c.alloc_size));
	/*
	 * Always copy in, whatever the direction and the attributes: a device
	 * that writes only part of a FROM_DEVICE buffer must not expose what a
	 * previous user left in the pool (the kernel's unconditional bounce
	 * since 6.0).
	 */
	ret = bounce(ctx, mem, dev, *tlb_addr, mapping_size, CCMM_DMA_TO_DEVICE);
	if (ret) {
		release_slots(mem, (uint64_t)index, c.small_off, false);
		*tlb_addr = INVALID_PHYS;
		return -EFAULT;
	}
	(void)attrs;
	return 0;
}

int ccmm_swiotlb_alloc(struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev, size_t size, uint64_t *tlb_addr)
{
	struct claim c = { 0, size, 0, 0 };
	unsigned order = ccmm_get_order(size);
	int64_t index;

	*tlb_addr = INVALID_PHYS;
	if (!size || size > (uint64_t)CCMM_IO_TLB_SEGSIZE * CCMM_IO_TLB_SIZE)
		return -EINVAL;
	index = find_slots(mem, dev, false, (unsigned)((CCMM_PAGE_SIZE << order) - 1), &c);
	if (index < 0) {
		atomic_fetch_add(&mem->areas[(unsigned)dev->cpu & (mem->nareas - 1)].full, 1);
		return -ENOMEM;
	}
	ccmm_lock_acquire(&area_of(mem, (uint64_t)index)->lock);
	mem->slots[index].head = 1;
	ccmm_lock_release(&area_of(mem, (uint64_t)index)->lock);
	*tlb_addr = mem->start + ((uint64_t)index << CCMM_IO_TLB_SHIFT);
	return 0;
}

int ccmm_swiotlb_free(struct ccmm_io_tlb_mem *mem, uint64_t tlb_addr)
{
	uint64_t index;

	if (!ccmm_is_swiotlb_buffer(mem, tlb_addr) || (tlb_addr & (CCMM_IO_TLB_SIZE - 1)))
		return -EINVAL;
	index = (tlb_addr - mem->start) >> CCMM_IO_TLB_SHIFT;
	if (!mem->slots[index].head || ccmm_swiotlb_slot_list(mem, index) || mem->slots[index].orig_addr != INVALID_PHYS)
		return -EINVAL;
	release_slots(mem, index, 0, false);
	return 0;
}

/* The first used slot of the live mapping that starts at @tlb, or -1. */
static int64_t mapping_head(const struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev, uint64_t tlb)
{
	uint64_t off, index;

	if (!ccmm_is_swiotlb_buffer(mem, tlb))
		return -1;
	off = tlb & dev->min_align_mask & (CCMM_IO_TLB_SIZE - 1);
	if (tlb - off < mem->start || (tlb & (CCMM_IO_TLB_SIZE - 1)) != off)
		return -1;
	index = (tlb - off - mem->start) >> CCMM_IO_TLB_SHIFT;
	if (!mem->slots[index].head || ccmm_swiotlb_slot_list(mem, index) || mem->slots[index].orig_addr == INVALID_PHYS)
		return -1;
	return (int64_t)index;
}

int ccmm_swiotlb_tbl_unmap_single(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem,
				  const struct ccmm_swiotlb_dev *dev, uint64_t tlb_addr, size_t mapping_size,
				  enum ccmm_dma_dir dir, unsigned long attrs)
{
	int64_t index = mapping_head(mem, dev, tlb_addr);
	int ret = 0;

	if (index < 0)
		return -EINVAL;
	if (!(attrs & CCMM_DMA_ATTR_SKIP_CPU_SYNC) && (dir == CCMM_DMA_FROM_DEVICE || dir == CCMM_DMA_BIDIRECTIONAL))
		ret = bounce(ctx, mem, dev, tlb_addr, mapping_size, CCMM_DMA_FROM_DEVICE);
	ccmm_charge(ctx, CCMM_COST_AT(swiotlb, swiotlb_unmap_ns), 1);
	release_slots(mem, (uint64_t)index, (unsigned)(tlb_addr & dev->min_align_mask & (CCMM_IO_TLB_SIZE - 1)), true);
	return ret ? -EFAULT : 0;
}

/* Is [@tlb, @tlb + @size) inside one live mapping? */
static bool in_live_mapping(const struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev, uint64_t tlb,
			    size_t size)
{
	uint64_t index, orig;
	int64_t left;

	if (!size || !ccmm_is_swiotlb_buffer(mem, tlb) || tlb + size > mem->end)
		return false;
	index = (tlb - mem->start) >> CCMM_IO_TLB_SHIFT;
	orig = mem->slots[index].orig_addr;
	if (ccmm_swiotlb_slot_list(mem, index) || orig == INVALID_PHYS)
		return false;
	left = (int64_t)mem->slots[index].alloc_size -
	       ((int64_t)(tlb & (CCMM_IO_TLB_SIZE - 1)) - (int64_t)(orig & dev->min_align_mask & (CCMM_IO_TLB_SIZE - 1)));
	return (int64_t)size <= left;
}

int ccmm_swiotlb_sync_single_for_device(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem,
					const struct ccmm_swiotlb_dev *dev, uint64_t tlb_addr, size_t size,
					enum ccmm_dma_dir dir)
{
	if (!in_live_mapping(mem, dev, tlb_addr, size))
		return -EINVAL;
	if (dir == CCMM_DMA_TO_DEVICE || dir == CCMM_DMA_BIDIRECTIONAL)
		return bounce(ctx, mem, dev, tlb_addr, size, CCMM_DMA_TO_DEVICE);
	return 0;
}

int ccmm_swiotlb_sync_single_for_cpu(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem,
				     const struct ccmm_swiotlb_dev *dev, uint64_t tlb_addr, size_t size,
				     enum ccmm_dma_dir dir)
{
	if (!in_live_mapping(mem, dev, tlb_addr, size))
		return -EINVAL;
	if (dir == CCMM_DMA_FROM_DEVICE || dir == CCMM_DMA_BIDIRECTIONAL)
		return bounce(ctx, mem, dev, tlb_addr, size, CCMM_DMA_FROM_DEVICE);
	return 0;
}

/* ---- figures and invariants ------------------------------------------------------ */

void ccmm_swiotlb_stats(struct ccmm_io_tlb_mem *mem, struct ccmm_swiotlb_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->start = mem->start;
	out->end = mem->end;
	out->io_tlb_nslabs = mem->nslabs;
	out->io_tlb_used = atomic_load(&mem->total_used);
	out->io_tlb_used_hiwater = atomic_load(&mem->used_hiwater);
	out->nareas = mem->nareas;
	for (unsigned a = 0; a < mem->nareas; a++) {
		out->maps += atomic_load(&mem->areas[a].maps);
		out->unmaps += atomic_load(&mem->areas[a].unmaps);
		out->full += atomic_load(&mem->areas[a].full);
		out->bounced_bytes += atomic_load(&mem->areas[a].bounced_bytes);
	}
	pthread_mutex_lock(&mem->attr_lock);
	out->shared = mem->shared;
	out->share_pages = mem->shared ? mem->share_pages : 0;
	out->share_ns = mem->share_ns;
	pthread_mutex_unlock(&mem->attr_lock);
}

int ccmm_swiotlb_hiwater_write(struct ccmm_io_tlb_mem *mem, uint64_t val)
{
	/* io_tlb_hiwater_set(): only zero, and zero it is (not the current use) */
	if (val)
		return -EINVAL;
	atomic_store(&mem->used_hiwater, 0);
	return 0;
}

const char *const ccmm_swiotlb_debugfs_files[] = { "io_tlb_nslabs", "io_tlb_used", "io_tlb_used_hiwater", NULL };

int ccmm_swiotlb_debugfs_read(struct ccmm_io_tlb_mem *mem, const char *file, char *buf, size_t len)
{
	uint64_t v;
	int n;

	if (!mem)
		return -ENOENT;
	if (!strcmp(file, "io_tlb_nslabs"))
		v = mem->nslabs;
	else if (!strcmp(file, "io_tlb_used"))
		v = atomic_load(&mem->total_used);
	else if (!strcmp(file, "io_tlb_used_hiwater"))
		v = atomic_load(&mem->used_hiwater);
	else
		return -ENOENT;
	n = snprintf(buf, len, "%" PRIu64 "\n", v);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int ccmm_swiotlb_is_valid(struct ccmm_io_tlb_mem *mem)
{
	int ret = 0;
	uint64_t total = 0;

	for (unsigned a = 0; a < mem->nareas; a++)
		ccmm_lock_acquire(&mem->areas[a].lock);
	for (unsigned a = 0; a < mem->nareas && !ret; a++) {
		uint64_t used = 0, base = (uint64_t)a * mem->area_nslabs;

		if (mem->areas[a].index >= mem->area_nslabs)
			ret = -EUCLEAN;
		/*
		 * Each slot's list as the bitmap gives it against the kernel's own
		 * count, built backward from the segment's end (a used slot is 0,
		 * a free one 1 + the next's within the segment); free slots hold
		 * nothing of a mapping.
		 */
		unsigned want = 0;

		for (uint64_t i = base + mem->area_nslabs; i-- > base && !ret;) {
			const struct ccmm_io_tlb_slot *sl = &mem->slots[i];
			bool in_use = (atomic_load_explicit(&mem->used_map[i >> 6], memory_order_relaxed) >> (i & 63)) & 1;

			if ((i % CCMM_IO_TLB_SEGSIZE) == CCMM_IO_TLB_SEGSIZE - 1)
				want = 0; /* the segment's last slot: nothing after it counts */
			want = in_use ? 0 : want + 1;
			if (ccmm_swiotlb_slot_list(mem, i) != want)
				ret = -EUCLEAN;
			if (in_use)
				used++;
			else if (sl->orig_addr != INVALID_PHYS || sl->alloc_size || sl->pad_slots || sl->head)
				ret = -EUCLEAN;
		}
		if (used != mem->areas[a].used)
			ret = -EUCLEAN;
		total += used;
	}
	if (!ret && total != atomic_load(&mem->total_used))
		ret = -EUCLEAN;
	for (unsigned a = mem->nareas; a--;)
		ccmm_lock_release(&mem->areas[a].lock);
	return ret;
}

uint64_t ccmm_swiotlb_area_used(struct ccmm_io_tlb_mem *mem, unsigned a)
{
	uint64_t used;

	ccmm_lock_acquire(&mem->areas[a].lock);
	used = mem->areas[a].used;
	ccmm_lock_release(&mem->areas[a].lock);
	return used;
}

static size_t swiotlb_stats(struct ccmm_machine *m, struct ccmm_stat *out, size_t max)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(m);
	struct ccmm_swiotlb_stats s;
	size_t n = 0;

	if (!mem)
		return 0;
	ccmm_swiotlb_stats(mem, &s);
	ccmm_stat_add(out, max, &n, "swiotlb", "io_tlb_nslabs", s.io_tlb_nslabs, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "io_tlb_used", s.io_tlb_used, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "io_tlb_used_hiwater", s.io_tlb_used_hiwater, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "nareas", s.nareas, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "pool_base", s.start, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "pool_bytes", s.end - s.start, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "force_bounce", mem->force_bounce, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "maps", s.maps, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "unmaps", s.unmaps, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "full", s.full, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "bounced_bytes", s.bounced_bytes, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "shared_pages", s.share_pages, NULL);
	ccmm_stat_add(out, max, &n, "swiotlb", "share_ns", s.share_ns, NULL);
	return n;
}

struct ccmm_subsys ccmm_subsys_swiotlb = {
	.name = "swiotlb",
	.init = swiotlb_init,
	.exit = swiotlb_exit,
	.stats = swiotlb_stats,
	.block = &ccmm_swiotlb_block,
};
