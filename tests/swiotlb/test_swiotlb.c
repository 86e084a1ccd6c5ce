// SPDX-License-Identifier: MIT
/*
 * SWIOTLB: pool sizing and placement, the slot search (next fit per area,
 * wrap-around, page / alloc / min_align alignment, segment boundaries,
 * whole segments, a full pool), the counters, and every bounce direction
 * with real bytes in a TDX guest. Pools are tiny (256 slots, 2 areas).
 */
#include "helpers.h"

#include "swiotlb/swiotlb.h"

#define SLOT CCMM_IO_TLB_SIZE

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_io_tlb_mem mem;
	uint64_t pool;
	struct ccmm_swiotlb_dev dev;
};

/* A 256-slot (512 KiB) pool in 2 areas of 128 slots, on a plain machine. */
static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->m = test_boot("mode=none");
	ccmm_ctx_init(&f->ctx, f->m, 0, "t");
	assert_int_equal(ccmm_alloc_pages(&f->ctx, 0, 7, 0, &f->pool), 0);
	assert_int_equal(ccmm_io_tlb_mem_init(&f->mem, f->m, "tiny", f->pool, 256, 2, false), 0);
	f->dev.seg_boundary_mask = UINT32_MAX;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	ccmm_io_tlb_mem_fini(&f->mem);
	ccmm_shutdown(f->m);
	free(f);
	return 0;
}

static uint64_t slot_of(struct fx *f, uint64_t tlb)
{
	return (tlb - f->pool) >> CCMM_IO_TLB_SHIFT;
}

/* Map @size bytes of a buffer at page @orig_off into the machine's first pages. */
static uint64_t map(struct fx *f, uint64_t orig, size_t size, unsigned align)
{
	uint64_t tlb;

	assert_int_equal(ccmm_swiotlb_tbl_map_single(&f->ctx, &f->mem, &f->dev, orig, size, align, CCMM_DMA_TO_DEVICE,
						     CCMM_DMA_ATTR_SKIP_CPU_SYNC, &tlb),
			 0);
	assert_int_equal(ccmm_swiotlb_is_valid(&f->mem), 0);
	return tlb;
}

static void unmap(struct fx *f, uint64_t tlb, size_t size)
{
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&f->ctx, &f->mem, &f->dev, tlb, size, CCMM_DMA_TO_DEVICE,
						       CCMM_DMA_ATTR_SKIP_CPU_SYNC),
			 0);
	assert_int_equal(ccmm_swiotlb_is_valid(&f->mem), 0);
}

static uint64_t used(struct fx *f)
{
	struct ccmm_swiotlb_stats s;

	ccmm_swiotlb_stats(&f->mem, &s);
	return s.io_tlb_used;
}

/* ---- planning --------------------------------------------------------------- */

static struct ccmm_swiotlb_plan plan_of(const char *text)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_swiotlb_plan plan;

	if (ccmm_platform_parse("plan.ini", text, &p, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_swiotlb_plan(p, &plan), 0);
	ccmm_platform_free(p);
	return plan;
}

/* Pool sizes as the kernel chooses them, per mode and RAM size. */
static void test_plan(void **state)
{
	struct ccmm_swiotlb_plan pl;
	struct ccmm_platform *p;
	struct ccmm_error err;

	/* TDX with 1 GiB: 6% is 61 MiB, clamped up to 64 MiB; forced, shared, low; 2 CPUs -> 2 areas */
	pl = plan_of("[platform]\nmode=tdx\ncpus=2\n[node:0]\nmem=1g\n");
	assert_true(pl.active && pl.force_bounce && pl.share && pl.low);
	assert_int_equal(pl.nslabs, 32768);
	assert_int_equal(pl.nareas, 2);
	/* SEV with 4 GiB: 6% = 245.76 MiB -> 125830 slots, rounded to a power of two: 256 MiB */
	pl = plan_of("[platform]\nmode=sev\ncpus=4\n[node:0]\nmem=4g\n");
	assert_int_equal(pl.nslabs, 131072);
	/* TDX with 64 GiB: clamped down to 1 GiB */
	pl = plan_of("[platform]\nmode=tdx\ncpus=4\n[node:0]\nmem=64g\n");
	assert_int_equal(pl.nslabs, 524288);
	/* pSeries secure guest: the 64 MiB default, anywhere in memory; 3 CPUs -> 4 areas */
	pl = plan_of("[platform]\nmode=pseries-svm\ncpus=3\n[node:0]\nmem=16g\n");
	assert_true(pl.active && pl.force_bounce && pl.share && !pl.low);
	assert_int_equal(pl.nslabs, 32768);
	assert_int_equal(pl.nareas, 4);
	/* SME host: a pool, shared, not forced */
	pl = plan_of("[platform]\nmode=sme\nc_bit=47\nphys_bits=47\n[node:0]\nmem=2g\n");
	assert_true(pl.active && !pl.force_bounce && pl.share);
	/* a plain host below 4 GiB needs none; above 4 GiB without an IOMMU it has one */
	pl = plan_of("[platform]\nmode=none\n[node:0]\nmem=1g\n");
	assert_false(pl.active);
	pl = plan_of("[platform]\nmode=none\n[node:0]\nmem=8g\n");
	assert_true(pl.active && !pl.force_bounce && !pl.share);
	pl = plan_of("[platform]\nmode=none\n[node:0]\nmem=8g\n[iommu:vtd]\nkind=generic\n");
	assert_false(pl.active);
	/* the platform's size and areas win; sizes round to whole segments, then to a power of two */
	pl = plan_of("[platform]\nmode=tdx\ncpus=8\nswiotlb_size=1m\nswiotlb_areas=2\n[node:0]\nmem=1g\n");
	assert_int_equal(pl.nslabs, 512);
	assert_int_equal(pl.nareas, 2);
	pl = plan_of("[platform]\nmode=tdx\ncpus=1\nswiotlb_size=300k\n[node:0]\nmem=1g\n");
	assert_int_equal(pl.nslabs, 256);
	/* 8 areas need at least 8 segments */
	pl = plan_of("[platform]\nmode=tdx\ncpus=8\nswiotlb_size=256k\n[node:0]\nmem=1g\n");
	assert_int_equal(pl.nslabs, 1024);
	/* below one segment is impossible */
	assert_int_equal(ccmm_platform_parse("p.ini", "[platform]\nmode=tdx\nswiotlb_size=128k\n[node:0]\nmem=1g\n", &p, &err),
			 0);
	assert_int_equal(ccmm_swiotlb_plan(p, &pl), -EINVAL);
	ccmm_platform_free(p);
}

/* Placement: x86 guests below 4 GiB from the top down; a pSeries secure guest at the top of RAM. */
static void test_placement(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_machine *m;
	struct ccmm_io_tlb_mem *mem;

	/* 6 GiB: RAM at 0-2 GiB and 4-8 GiB; the 384 MiB pool ends at 2 GiB */
	assert_int_equal(ccmm_platform_parse("x.ini", "[platform]\nmode=tdx\ncpus=2\n[node:0]\nmem=6g\n", &p, &err), 0);
	assert_int_equal(ccmm_boot(p, 1, &m), 0);
	mem = ccmm_swiotlb_default(m);
	assert_non_null(mem);
	assert_int_equal(mem->nslabs, 262144); /* 6% of 6 GiB = 368.6 MiB -> 512 MiB as a power of two */
	assert_int_equal(mem->end, 2 * CCMM_GiB);
	assert_int_equal(mem->start, 2 * CCMM_GiB - 512 * CCMM_MiB);
	assert_true(mem->force_bounce);
	assert_false(mem->shared); /* shared at first use */
	ccmm_shutdown(m);

	assert_int_equal(ccmm_platform_parse("s.ini", "[platform]\nmode=pseries-svm\ncpus=2\n[node:0]\nmem=6g\n", &p, &err),
			 0);
	assert_int_equal(ccmm_boot(p, 1, &m), 0);
	mem = ccmm_swiotlb_default(m);
	assert_int_equal(mem->end, 8 * CCMM_GiB);
	assert_int_equal(mem->nslabs, 32768);
	ccmm_shutdown(m);

	/* a plain 1 GiB host has no pool */
	assert_int_equal(ccmm_platform_parse("n.ini", "[platform]\nmode=none\n[node:0]\nmem=1g\n", &p, &err), 0);
	assert_int_equal(ccmm_boot(p, 1, &m), 0);
	assert_null(ccmm_swiotlb_default(m));
	ccmm_shutdown(m);
}

/* ---- the slot search ---------------------------------------------------------- */

/* Next fit: the cursor moves past each allocation; a freed hole behind it is not reused at once. */
static void test_next_fit(void **state)
{
	struct fx *f = *state;
	uint64_t a = map(f, 0x100000, SLOT, 0), b = map(f, 0x200000, SLOT, 0), c = map(f, 0x300000, SLOT, 0), d;

	assert_int_equal(slot_of(f, a), 0);
	assert_int_equal(slot_of(f, b), 1);
	assert_int_equal(slot_of(f, c), 2);
	unmap(f, b, SLOT);
	d = map(f, 0x400000, SLOT, 0);
	assert_int_equal(slot_of(f, d), 3);
	assert_int_equal(used(f), 3);
	unmap(f, a, SLOT);
	unmap(f, c, SLOT);
	unmap(f, d, SLOT);
	assert_int_equal(used(f), 0);
}

/* Wrap-around: at the end of its area the search starts again at the area's first slot. */
static void test_wrap_around(void **state)
{
	struct fx *f = *state;
	uint64_t t[128], x;

	/* fill area 0 (slots 0..127) one slot at a time */
	for (int i = 0; i < 128; i++) {
		t[i] = map(f, 0x100000, SLOT, 0);
		assert_int_equal(slot_of(f, t[i]), i);
	}
	/* free slots 5 and 6; the cursor has wrapped to 0 and finds them */
	unmap(f, t[5], SLOT);
	unmap(f, t[6], SLOT);
	x = map(f, 0x100000, 4000, 0); /* two slots, below a page: no page alignment */
	assert_int_equal(slot_of(f, x), 5);
	t[5] = x;
	for (int i = 0; i < 128; i++)
		if (i != 6)
			unmap(f, t[i], i == 5 ? 4000 : SLOT);
	assert_int_equal(used(f), 0);
	assert_int_equal(ccmm_swiotlb_is_valid(&f->mem), 0);
}

/* A mapping of a page or more is page aligned; alloc_align_mask aligns the allocation further. */
static void test_alignment(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;

	a = map(f, 0x100000, SLOT, 0);        /* slot 0 */
	b = map(f, 0x200000, 4096, 0);        /* page aligned: slots 2-3, slot 1 skipped */
	assert_int_equal(slot_of(f, a), 0);
	assert_int_equal(slot_of(f, b), 2);
	c = map(f, 0x300000, SLOT, 16 * 1024 - 1); /* 16 KiB aligned: slot 8 */
	assert_int_equal(slot_of(f, c), 8);
	assert_true(CCMM_IS_ALIGNED(c - f->pool, 16 * 1024));
	assert_int_equal(used(f), 1 + 2 + 8); /* an aligned allocation is rounded up to its alignment */
	unmap(f, a, SLOT);
	unmap(f, b, 4096);
	unmap(f, c, SLOT);
	assert_int_equal(used(f), 0);
}

/* min_align_mask: the bounce address keeps the original's low bits (NVMe's 4 KiB rule). */
static void test_min_align(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;

	f->dev.min_align_mask = 0xfff;
	/* sub-slot bits as an offset into the first slot */
	a = map(f, 0x100600, 512, 0);
	assert_int_equal(a & 0xfff, 0x600);
	assert_int_equal(slot_of(f, a), 0);
	/* bit 11 set: the slot must be an odd one */
	b = map(f, 0x200800, 512, 0);
	assert_int_equal(b & 0xfff, 0x800);
	assert_int_equal(slot_of(f, b) & 1, 1);
	/* with a page-aligned allocation the 0x800 offset becomes a padding slot */
	c = map(f, 0x300800, 3000, 0xfff);
	assert_int_equal(c & 0xfff, 0x800);
	assert_int_equal(slot_of(f, c) & 1, 1);
	assert_int_equal(f->mem.slots[slot_of(f, c)].pad_slots, 1);
	assert_int_equal(used(f), 1 + 1 + 4);
	/* the largest mapping shrinks by the alignment it may cost */
	assert_int_equal(ccmm_swiotlb_max_mapping_size(&f->dev), 256 * 1024 - 4096);
	unmap(f, a, 512);
	unmap(f, b, 512);
	unmap(f, c, 3000);
	assert_int_equal(used(f), 0);
	f->dev.min_align_mask = 0;
}

/* The device's segment boundary: no mapping crosses it. */
static void test_seg_boundary(void **state)
{
	struct fx *f = *state;
	uint64_t a, b;

	f->dev.seg_boundary_mask = 16 * 1024 - 1; /* 8 slots */
	a = map(f, 0x100000, 8 * 1024, 0);        /* slots 0-3 */
	b = map(f, 0x200000, 12 * 1024, 0);       /* 6 slots: 4 and 6 would cross slot 8 -> 8 */
	assert_int_equal(slot_of(f, a), 0);
	assert_int_equal(slot_of(f, b), 8);
	unmap(f, a, 8 * 1024);
	unmap(f, b, 12 * 1024);
	f->dev.seg_boundary_mask = UINT32_MAX;
}

/* No mapping crosses a 128-slot segment; 256 KiB is the largest. */
static void test_segments(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, tlb;

	a = map(f, 0x100000, 100 * SLOT, 0);
	b = map(f, 0x200000, 50 * SLOT, 0);
	assert_int_equal(slot_of(f, a), 0);
	assert_int_equal(slot_of(f, b), 128); /* 28 left in segment 0: next area */
	unmap(f, a, 100 * SLOT);
	unmap(f, b, 50 * SLOT);
	a = map(f, 0x100000, 256 * 1024, 0);
	unmap(f, a, 256 * 1024);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&f->ctx, &f->mem, &f->dev, 0x100000, 256 * 1024 + 1, 0,
						     CCMM_DMA_TO_DEVICE, CCMM_DMA_ATTR_SKIP_CPU_SYNC, &tlb),
			 -EINVAL);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&f->ctx, &f->mem, &f->dev, 0x100000, 0, 0, CCMM_DMA_TO_DEVICE, 0,
						     &tlb),
			 -EINVAL);
}

/* Areas: a CPU starts in its own area and falls back to the others. */
static void test_areas(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;

	f->dev.cpu = 1;
	a = map(f, 0x100000, SLOT, 0);
	assert_int_equal(slot_of(f, a), 128);
	b = map(f, 0x100000, 127 * SLOT, 0); /* does not fit the rest of area 1's only segment... */
	assert_int_equal(slot_of(f, b), 0);   /* ... so area 0 serves it */
	f->dev.cpu = 3;                       /* CPUs map onto areas modulo their number */
	c = map(f, 0x100000, SLOT, 0);
	assert_int_equal(slot_of(f, c), 129);
	unmap(f, a, SLOT);
	unmap(f, b, 127 * SLOT);
	unmap(f, c, SLOT);
	f->dev.cpu = 0;
}

/* A full pool is -ENOMEM, counted; the high-water mark stays until reset. */
static void test_full_pool(void **state)
{
	struct fx *f = *state;
	uint64_t t[2], tlb;
	struct ccmm_swiotlb_stats s;

	t[0] = map(f, 0x100000, 256 * 1024, 0);
	t[1] = map(f, 0x200000, 256 * 1024, 0);
	assert_int_equal(used(f), 256);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&f->ctx, &f->mem, &f->dev, 0x300000, SLOT, 0, CCMM_DMA_TO_DEVICE,
						     CCMM_DMA_ATTR_SKIP_CPU_SYNC, &tlb),
			 -ENOMEM);
	assert_int_equal(f->ctx.ctr[CCMM_CTR_AT(swiotlb, dma_map_fail_pool_full)], 1);
	unmap(f, t[0], 256 * 1024);
	tlb = map(f, 0x300000, SLOT, 0);
	unmap(f, tlb, SLOT);
	unmap(f, t[1], 256 * 1024);
	ccmm_swiotlb_stats(&f->mem, &s);
	assert_int_equal(s.io_tlb_nslabs, 256);
	assert_int_equal(s.io_tlb_used, 0);
	assert_int_equal(s.io_tlb_used_hiwater, 256);
	assert_int_equal(s.full, 1);
	assert_int_equal(s.maps, s.unmaps);
	assert_int_equal(ccmm_swiotlb_hiwater_write(&f->mem, 0), 0);
	ccmm_swiotlb_stats(&f->mem, &s);
	assert_int_equal(s.io_tlb_used_hiwater, 0);
}

/* swiotlb_alloc / swiotlb_free: slots without an original, aligned to their page order. */
static void test_alloc_free(void **state)
{
	struct fx *f = *state;
	uint64_t a, b, c;

	a = map(f, 0x100000, SLOT, 0);                                  /* slot 0 */
	assert_int_equal(ccmm_swiotlb_alloc(&f->mem, &f->dev, 8192, &b), 0);
	assert_int_equal(slot_of(f, b), 4);                             /* 8 KiB aligned */
	assert_int_equal(ccmm_swiotlb_alloc(&f->mem, &f->dev, 100, &c), 0);
	assert_int_equal(slot_of(f, c), 8);                             /* a page at least */
	assert_int_equal(used(f), 1 + 4 + 1);
	assert_int_equal(ccmm_swiotlb_free(&f->mem, a), -EINVAL);       /* a mapping, not an allocation */
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&f->ctx, &f->mem, &f->dev, b, 8192, CCMM_DMA_TO_DEVICE, 0),
			 -EINVAL);                                       /* an allocation, not a mapping */
	assert_int_equal(ccmm_swiotlb_free(&f->mem, b), 0);
	assert_int_equal(ccmm_swiotlb_free(&f->mem, b), -EINVAL);
	assert_int_equal(ccmm_swiotlb_free(&f->mem, c), 0);
	assert_int_equal(ccmm_swiotlb_alloc(&f->mem, &f->dev, 0, &c), -EINVAL);
	assert_int_equal(ccmm_swiotlb_alloc(&f->mem, &f->dev, 256 * 1024 + 1, &c), -EINVAL);
	unmap(f, a, SLOT);
	assert_int_equal(used(f), 0);
	assert_int_equal(ccmm_swiotlb_is_valid(&f->mem), 0);
}

/* Unmapping something that is not the start of a live mapping changes nothing. */
static void test_bad_unmap(void **state)
{
	struct fx *f = *state;
	uint64_t a = map(f, 0x100000, 3 * SLOT, 0);

	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&f->ctx, &f->mem, &f->dev, a + SLOT, SLOT, CCMM_DMA_TO_DEVICE, 0),
			 -EINVAL); /* the middle of a mapping */
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&f->ctx, &f->mem, &f->dev, f->pool + 64 * SLOT, SLOT,
						       CCMM_DMA_TO_DEVICE, 0),
			 -EINVAL); /* a free slot */
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&f->ctx, &f->mem, &f->dev, 0x1000, SLOT, CCMM_DMA_TO_DEVICE, 0),
			 -EINVAL); /* not in the pool */
	assert_int_equal(used(f), 3);
	unmap(f, a, 3 * SLOT);
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&f->ctx, &f->mem, &f->dev, a, 3 * SLOT, CCMM_DMA_TO_DEVICE, 0),
			 -EINVAL); /* twice */
	assert_int_equal(ccmm_swiotlb_is_valid(&f->mem), 0);
}

/*
 * The kernel's slot bookkeeping, written out straight beside ccmm's bitmap:
 * a per-slot `list` count kept as kernel/dma/swiotlb.c keeps it (a claim
 * zeroes its slots and renumbers the free run before them; a release counts
 * its slots into the free run after them and renumbers the run before),
 * with swiotlb_search_pool_area's next-fit walk over those counts and
 * swiotlb_find_slots' order of areas. It predicts the slot of every map and
 * allocation; the pool's own search must pick the same, and every slot's
 * ccmm_swiotlb_slot_list must equal the count here after every step.
 */
#define REF_SLOTS 1024
#define REF_AREAS 4

struct ref {
	uint16_t list[REF_SLOTS];
	uint64_t index[REF_AREAS], used[REF_AREAS];
};

static void ref_init(struct ref *r)
{
	memset(r, 0, sizeof(*r));
	for (unsigned i = 0; i < REF_SLOTS; i++)
		r->list[i] = (uint16_t)(CCMM_IO_TLB_SEGSIZE - i % CCMM_IO_TLB_SEGSIZE);
}

/* Renumber the free run that ends before slot @i, its counts going on from @count. */
static void ref_renumber_before(struct ref *r, uint64_t i, unsigned count)
{
	while (i-- > 0 && i % CCMM_IO_TLB_SEGSIZE != CCMM_IO_TLB_SEGSIZE - 1 && r->list[i])
		r->list[i] = (uint16_t)++count;
}

static uint64_t ref_wrap(uint64_t i, uint64_t area_nslabs)
{
	return i >= area_nslabs ? 0 : i;
}

/* The slot a claim of @alloc_size bytes gets (padding included) in area @a, or -1; claims it. */
static int64_t ref_search_area(struct ref *r, const struct ccmm_swiotlb_dev *dev, uint64_t pool, unsigned a,
			       uint64_t orig, uint64_t alloc_size, uint64_t align)
{
	const uint64_t area_nslabs = REF_SLOTS / REF_AREAS;
	uint64_t boundary = dev->seg_boundary_mask, tbl = (pool + dev->dma_offset) & boundary;
	uint64_t max_slots = (boundary >> CCMM_IO_TLB_SHIFT) + 1, min_align = dev->min_align_mask;
	uint64_t nslots = (alloc_size + SLOT - 1) / SLOT, index = r->index[a], stride, slot = 0;
	uint64_t checked = 0;

	if (!align && !min_align && alloc_size >= CCMM_PAGE_SIZE)
		align = CCMM_PAGE_SIZE - 1;
	align |= SLOT - 1;
	min_align &= ~align;
	stride = CCMM_MAX(align, min_align) / SLOT + 1;
	if (nslots > area_nslabs - r->used[a])
		return -1;
	for (;;) {
		uint64_t addr, first;

		if (checked >= area_nslabs)
			return -1;
		slot = a * area_nslabs + index;
		addr = tbl + slot * SLOT;
		if ((addr & align) || (orig && (addr & min_align) != (orig & min_align))) {
			index = ref_wrap(index + 1, area_nslabs);
			checked++;
			continue;
		}
		first = (tbl / SLOT + slot) % max_slots;
		if (first + nslots <= max_slots && r->list[slot] >= nslots)
			break;
		index = ref_wrap(index + stride, area_nslabs);
		checked += stride;
	}
	for (uint64_t i = slot; i < slot + nslots; i++)
		r->list[i] = 0;
	ref_renumber_before(r, slot, 0);
	r->index[a] = ref_wrap(index + nslots, area_nslabs);
	r->used[a] += nslots;
	return (int64_t)slot;
}

static int64_t ref_find(struct ref *r, const struct ccmm_swiotlb_dev *dev, uint64_t pool, uint64_t orig,
			uint64_t alloc_size, uint64_t align)
{
	unsigned start = (unsigned)dev->cpu % REF_AREAS;

	if (alloc_size > (uint64_t)CCMM_IO_TLB_SEGSIZE * SLOT)
		return -1;
	for (unsigned k = 0; k < REF_AREAS; k++) {
		int64_t slot = ref_search_area(r, dev, pool, (start + k) % REF_AREAS, orig, alloc_size, align);

		if (slot >= 0)
			return slot;
	}
	return -1;
}

static void ref_release(struct ref *r, uint64_t index, uint64_t nslots)
{
	unsigned count = 0;

	if ((index + nslots) % CCMM_IO_TLB_SEGSIZE)
		count = r->list[index + nslots];
	for (uint64_t i = index + nslots; i-- > index;)
		r->list[i] = (uint16_t)++count;
	ref_renumber_before(r, index, count);
	r->used[index / (REF_SLOTS / REF_AREAS)] -= nslots;
}

struct live {
	uint64_t tlb, first, nslots; /* the address map returned; the claim's first slot and length */
	size_t size;
	struct ccmm_swiotlb_dev dev;
	bool alloc; /* ccmm_swiotlb_alloc, not a mapping */
};

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_slot_list_is_kernels(void **state)
{
	static const uint32_t min_aligns[] = { 0, 0, 0xfff, 0x7ff, 0x3ff, 0x3fff, 0xffff };
	static const unsigned aligns[] = { 0, 0, 0, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0xffff };
	static const size_t sizes[] = { 1, 100, 512, 2048, 2049, 4096, 5000, 8192, 12288, 16384, 30000, 65536, 131072, 262144 };
	static const uint64_t boundaries[] = { UINT32_MAX, UINT32_MAX, 0xffff, 0x7fff };
	struct ccmm_machine *m = test_boot("mode=none");
	struct ccmm_io_tlb_mem mem;
	struct ccmm_ctx ctx;
	struct ref *r = malloc(sizeof(*r));
	struct live live[96];
	unsigned nlive = 0, maps = 0, full = 0, frees = 0;
	uint64_t pool, buf, seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 9, 0, &pool), 0); /* 2 MiB: 1024 slots, 4 areas of 2 segments */
	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 7, 0, &buf), 0);  /* the originals: 512 KiB */
	assert_int_equal(ccmm_io_tlb_mem_init(&mem, m, "ref", pool, REF_SLOTS, REF_AREAS, false), 0);
	ref_init(r);
	for (int step = 0; step < 6000; step++) {
		bool do_map = nlive < 8 || (nlive < 96 && xorshift(&seed) % 100 < 55);

		if (do_map) {
			struct live *l = &live[nlive];
			bool alloc = xorshift(&seed) % 8 == 0;
			unsigned align = aligns[xorshift(&seed) % 8];
			uint64_t orig, offset, alloc_size;
			int64_t want;
			int ret;

			memset(l, 0, sizeof(*l));
			l->dev.seg_boundary_mask = boundaries[xorshift(&seed) % 4];
			l->dev.min_align_mask = alloc ? 0 : min_aligns[xorshift(&seed) % 7];
			l->dev.dma_offset = xorshift(&seed) % 4 == 0 ? 0x800 : 0;
			l->dev.cpu = (int)(xorshift(&seed) % 8);
			l->size = sizes[xorshift(&seed) % 14];
			if (!alloc && l->size > ccmm_swiotlb_max_mapping_size(&l->dev))
				l->size = ccmm_swiotlb_max_mapping_size(&l->dev);
			orig = buf + xorshift(&seed) % (256 * 1024);
			if (alloc) {
				/* swiotlb_alloc: aligned to the page order, nr_slots(size) */
				align = (unsigned)((CCMM_PAGE_SIZE << ccmm_get_order(l->size)) - 1);
				offset = 0;
				alloc_size = l->size;
				want = ref_find(r, &l->dev, pool, 0, alloc_size, align);
				ret = ccmm_swiotlb_alloc(&mem, &l->dev, l->size, &l->tlb);
			} else {
				offset = orig & l->dev.min_align_mask & (align | (SLOT - 1));
				alloc_size = CCMM_ALIGN_UP(l->size + offset, (uint64_t)align + 1);
				want = ref_find(r, &l->dev, pool, orig, alloc_size, align);
				ret = ccmm_swiotlb_tbl_map_single(&ctx, &mem, &l->dev, orig, l->size, align, CCMM_DMA_TO_DEVICE,
								  CCMM_DMA_ATTR_SKIP_CPU_SYNC, &l->tlb);
			}
			if (want < 0) {
				assert_int_equal(ret, -ENOMEM);
				full++;
			} else {
				assert_int_equal(ret, 0);
				assert_int_equal((l->tlb - pool) >> CCMM_IO_TLB_SHIFT, (uint64_t)want + offset / SLOT);
				l->first = (uint64_t)want;
				l->nslots = (alloc_size + SLOT - 1) / SLOT;
				l->alloc = alloc;
				nlive++;
				maps++;
			}
		} else {
			unsigned k = (unsigned)(xorshift(&seed) % nlive);
			struct live *l = &live[k];

			if (l->alloc)
				assert_int_equal(ccmm_swiotlb_free(&mem, l->tlb), 0);
			else
				assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&ctx, &mem, &l->dev, l->tlb, l->size,
									      CCMM_DMA_TO_DEVICE, CCMM_DMA_ATTR_SKIP_CPU_SYNC),
						 0);
			ref_release(r, l->first, l->nslots);
			live[k] = live[--nlive];
			frees++;
		}
		for (unsigned i = 0; i < REF_SLOTS; i++)
			if (ccmm_swiotlb_slot_list(&mem, i) != r->list[i])
				fail_msg("step %d: slot %u: list %u, the kernel's count %u", step, i,
					 ccmm_swiotlb_slot_list(&mem, i), r->list[i]);
		for (unsigned a = 0; a < REF_AREAS; a++) {
			assert_int_equal(mem.areas[a].index, r->index[a]);
			assert_int_equal(mem.areas[a].used, r->used[a]);
		}
		if (step % 64 == 0)
			assert_int_equal(ccmm_swiotlb_is_valid(&mem), 0);
	}
	/* the walk went through every kind of step, a full pool included */
	assert_true(maps > 1000 && frees > 1000 && full > 20);
	while (nlive) {
		struct live *l = &live[--nlive];

		if (l->alloc)
			assert_int_equal(ccmm_swiotlb_free(&mem, l->tlb), 0);
		else
			assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&ctx, &mem, &l->dev, l->tlb, l->size, CCMM_DMA_TO_DEVICE,
								      CCMM_DMA_ATTR_SKIP_CPU_SYNC),
					 0);
		ref_release(r, l->first, l->nslots);
	}
	for (unsigned i = 0; i < REF_SLOTS; i++)
		assert_int_equal(ccmm_swiotlb_slot_list(&mem, i), r->list[i]);
	assert_int_equal(ccmm_swiotlb_is_valid(&mem), 0);
	ccmm_io_tlb_mem_fini(&mem);
	free(r);
	ccmm_shutdown(m);
}

/*
 * Areas of a size that is not a power of two (3 segments, 384 slots): a
 * slot's area is found by division, not the shift of planned pools; a
 * mapping in the second area is counted and released there.
 */
static void test_odd_area_size(void **state)
{
	struct ccmm_machine *m = test_boot("mode=none");
	struct ccmm_swiotlb_dev dev = { .seg_boundary_mask = UINT32_MAX, .cpu = 1 };
	struct ccmm_io_tlb_mem mem;
	struct ccmm_ctx ctx;
	uint64_t pool, tlb, tlb2;

	(void)state;
	ccmm_ctx_init(&ctx, m, 0, "t");
	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 9, 0, &pool), 0);
	assert_int_equal(ccmm_io_tlb_mem_init(&mem, m, "odd", pool, 768, 2, false), 0);
	assert_int_equal(mem.area_nslabs, 384);
	assert_int_equal(mem.area_shift, 0);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&ctx, &mem, &dev, 0x100000, 3 * SLOT, 0, CCMM_DMA_TO_DEVICE,
						     CCMM_DMA_ATTR_SKIP_CPU_SYNC, &tlb),
			 0);
	assert_int_equal((tlb - pool) >> CCMM_IO_TLB_SHIFT, 384); /* area 1's first slot */
	assert_int_equal(ccmm_swiotlb_alloc(&mem, &dev, 100, &tlb2), 0);
	assert_int_equal((tlb2 - pool) >> CCMM_IO_TLB_SHIFT, 388); /* page aligned, after the mapping (384-386) */
	assert_int_equal(ccmm_swiotlb_area_used(&mem, 0), 0);
	assert_int_equal(ccmm_swiotlb_area_used(&mem, 1), 3 + 1);
	assert_int_equal(ccmm_swiotlb_free(&mem, tlb2), 0);
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&ctx, &mem, &dev, tlb, 3 * SLOT, CCMM_DMA_TO_DEVICE,
						       CCMM_DMA_ATTR_SKIP_CPU_SYNC),
			 0);
	assert_int_equal(ccmm_swiotlb_area_used(&mem, 1), 0);
	assert_int_equal(mem.areas[1].maps, 1);
	assert_int_equal(mem.areas[1].unmaps, 1);
	assert_int_equal(mem.areas[0].maps + mem.areas[0].unmaps, 0);
	assert_int_equal(ccmm_swiotlb_is_valid(&mem), 0);
	ccmm_io_tlb_mem_fini(&mem);
	ccmm_shutdown(m);
}

/* A broken list count is caught: a used bit with no mapping behind it. */
static void test_is_valid_catches(void **state)
{
	struct fx *f = *state;
	uint64_t a = map(f, 0x100000, SLOT, 0);

	f->mem.used_map[0] |= 1ULL << 5; /* slot 5 marked used, outside any claim: the area's count disagrees */
	assert_int_equal(ccmm_swiotlb_is_valid(&f->mem), -EUCLEAN);
	f->mem.used_map[0] &= ~(1ULL << 5);
	f->mem.slots[7].alloc_size = 4096; /* a free slot holding part of a mapping */
	assert_int_equal(ccmm_swiotlb_is_valid(&f->mem), -EUCLEAN);
	f->mem.slots[7].alloc_size = 0;
	assert_int_equal(ccmm_swiotlb_is_valid(&f->mem), 0);
	unmap(f, a, SLOT);
}

/* ---- bounces, with real bytes, in a TDX guest ------------------------------------ */

struct bx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_io_tlb_mem *mem;
	struct ccmm_swiotlb_dev dev;
	uint64_t buf; /* a private 16 KiB buffer */
};

static void bx_init(struct bx *b)
{
	memset(b, 0, sizeof(*b));
	b->m = test_boot("mode=tdx\nswiotlb_size=512k");
	ccmm_ctx_init(&b->ctx, b->m, 0, "t");
	b->mem = ccmm_swiotlb_default(b->m);
	assert_non_null(b->mem);
	b->dev.seg_boundary_mask = UINT32_MAX;
	assert_int_equal(ccmm_alloc_pages(&b->ctx, 0, 2, 0, &b->buf), 0);
}

static void kw(struct bx *b, uint64_t pa, const void *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&b->ctx, CCMM_WRITE, ccmm_phys_to_virt(pa), (void *)data, len, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
}

static void kr(struct bx *b, uint64_t pa, void *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&b->ctx, CCMM_READ, ccmm_phys_to_virt(pa), data, len, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
}

/* The device's view of the bounce buffer: a DMA read by device 0, no IOMMU. */
static void dev_read(struct bx *b, uint64_t pa, void *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_dma_access(&b->ctx, 0, NULL, CCMM_READ, pa, data, len, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
}

static void dev_write(struct bx *b, uint64_t pa, const void *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_dma_access(&b->ctx, 0, NULL, CCMM_WRITE, pa, (void *)data, len, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
}

/*
 * TO_DEVICE: the pool is shared at first use; the device reads the private
 * buffer's plaintext from the bounce buffer; unmap copies nothing back.
 */
static void test_bounce_to_device(void **state)
{
	struct bx b;
	uint64_t tlb;
	char got[16];
	struct ccmm_swiotlb_stats s;
	struct ccmm_page pg;

	bx_init(&b);
	kw(&b, b.buf, "secret-plaintext", 16);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&b.ctx, b.mem, &b.dev, b.buf, 16, 0, CCMM_DMA_TO_DEVICE, 0, &tlb), 0);
	ccmm_swiotlb_stats(b.mem, &s);
	assert_true(s.shared);
	assert_int_equal(s.share_pages, 128);
	assert_int_equal(ccmm_phys_peek(b.m, tlb, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_SHARED);
	dev_read(&b, tlb, got, 16);
	assert_memory_equal(got, "secret-plaintext", 16);
	/* the device cannot read the private original itself */
	{
		struct ccmm_result r;

		assert_int_equal(ccmm_dma_access(&b.ctx, 0, NULL, CCMM_READ, b.buf, got, 16, &r), 0);
		assert_int_equal(r.outcome, CCMM_BLOCKED);
	}
	dev_write(&b, tlb, "XXXXXXXXXXXXXXXX", 16); /* a misbehaving device */
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&b.ctx, b.mem, &b.dev, tlb, 16, CCMM_DMA_TO_DEVICE, 0), 0);
	kr(&b, b.buf, got, 16);
	assert_memory_equal(got, "secret-plaintext", 16);
	assert_int_equal(b.ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)], 16);
	ccmm_shutdown(b.m);
}

/*
 * FROM_DEVICE: the original is copied in at map time anyway, so a partial
 * device write leaves the original's bytes, not a previous user's.
 */
static void test_bounce_from_device_partial(void **state)
{
	struct bx b;
	uint64_t tlb;
	char got[16];

	bx_init(&b);
	/* a first mapping shares the pool and moves the cursor to slot 1 */
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&b.ctx, b.mem, &b.dev, b.buf + 4096, 16, 0, CCMM_DMA_TO_DEVICE, 0, &tlb),
			 0);
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&b.ctx, b.mem, &b.dev, tlb, 16, CCMM_DMA_TO_DEVICE, 0), 0);
	/* an earlier user left "STALE..." in slot 1 */
	dev_write(&b, b.mem->start + SLOT, "STALESTALESTALE!", 16);
	/* now a FROM_DEVICE mapping of a buffer holding "original-bytes.." lands there */
	kw(&b, b.buf, "original-bytes..", 16);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&b.ctx, b.mem, &b.dev, b.buf, 16, 0, CCMM_DMA_FROM_DEVICE, 0, &tlb), 0);
	dev_read(&b, tlb, got, 16);
	assert_int_equal(tlb, b.mem->start + SLOT);
	assert_memory_equal(got, "original-bytes..", 16); /* not STALE */
	dev_write(&b, tlb, "DEV", 3);                       /* the device writes 3 bytes only */
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&b.ctx, b.mem, &b.dev, tlb, 16, CCMM_DMA_FROM_DEVICE, 0), 0);
	kr(&b, b.buf, got, 16);
	assert_memory_equal(got, "DEVginal-bytes..", 16);
	assert_int_equal(b.ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)], 16 * 3); /* in, in, out */
	ccmm_shutdown(b.m);
}

/*
 * BIDIRECTIONAL copies both ways; SKIP_CPU_SYNC skips the copy back only:
 * the copy in at map time happens whatever the attributes (kernel >= 6.0).
 */
static void test_bounce_bidir_and_skip(void **state)
{
	struct bx b;
	uint64_t tlb;
	char got[8];

	bx_init(&b);
	kw(&b, b.buf, "abcdefgh", 8);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&b.ctx, b.mem, &b.dev, b.buf, 8, 0, CCMM_DMA_BIDIRECTIONAL, 0, &tlb),
			 0);
	dev_read(&b, tlb, got, 8);
	assert_memory_equal(got, "abcdefgh", 8);
	dev_write(&b, tlb + 4, "WXYZ", 4);
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&b.ctx, b.mem, &b.dev, tlb, 8, CCMM_DMA_BIDIRECTIONAL, 0), 0);
	kr(&b, b.buf, got, 8);
	assert_memory_equal(got, "abcdWXYZ", 8);

	kw(&b, b.buf, "12345678", 8);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&b.ctx, b.mem, &b.dev, b.buf, 8, 0, CCMM_DMA_BIDIRECTIONAL,
						     CCMM_DMA_ATTR_SKIP_CPU_SYNC, &tlb),
			 0);
	dev_read(&b, tlb, got, 8);
	assert_memory_equal(got, "12345678", 8); /* copied in anyway */
	dev_write(&b, tlb, "zzzzzzzz", 8);
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&b.ctx, b.mem, &b.dev, tlb, 8, CCMM_DMA_BIDIRECTIONAL,
						       CCMM_DMA_ATTR_SKIP_CPU_SYNC),
			 0);
	kr(&b, b.buf, got, 8);
	assert_memory_equal(got, "12345678", 8); /* no copy out */
	assert_int_equal(b.ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)], 8 * 3);
	ccmm_shutdown(b.m);
}

/* Syncs per direction, also of a sub-range inside the mapping; syncs outside a mapping fail. */
static void test_syncs(void **state)
{
	struct bx b;
	uint64_t tlb;
	char got[16];

	bx_init(&b);
	kw(&b, b.buf, "0123456789abcdef", 16);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&b.ctx, b.mem, &b.dev, b.buf, 16, 0, CCMM_DMA_FROM_DEVICE, 0, &tlb), 0);
	dev_write(&b, tlb, "DDDDDDDDDDDDDDDD", 16);
	/* for_device on FROM_DEVICE copies nothing; for_cpu copies back the sub-range asked for */
	assert_int_equal(ccmm_swiotlb_sync_single_for_device(&b.ctx, b.mem, &b.dev, tlb, 16, CCMM_DMA_FROM_DEVICE), 0);
	dev_read(&b, tlb, got, 16);
	assert_memory_equal(got, "DDDDDDDDDDDDDDDD", 16);
	assert_int_equal(ccmm_swiotlb_sync_single_for_cpu(&b.ctx, b.mem, &b.dev, tlb + 4, 4, CCMM_DMA_FROM_DEVICE), 0);
	kr(&b, b.buf, got, 16);
	assert_memory_equal(got, "0123DDDD89abcdef", 16);
	/* outside or past the mapping */
	assert_int_equal(ccmm_swiotlb_sync_single_for_cpu(&b.ctx, b.mem, &b.dev, tlb + 8, 4096, CCMM_DMA_FROM_DEVICE),
			 -EINVAL);
	assert_int_equal(ccmm_swiotlb_sync_single_for_cpu(&b.ctx, b.mem, &b.dev, b.mem->end - 64, 4, CCMM_DMA_FROM_DEVICE),
			 -EINVAL);
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&b.ctx, b.mem, &b.dev, tlb, 16, CCMM_DMA_FROM_DEVICE,
						       CCMM_DMA_ATTR_SKIP_CPU_SYNC),
			 0);

	/* TO_DEVICE: for_device copies the CPU's new bytes in; for_cpu copies nothing back */
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&b.ctx, b.mem, &b.dev, b.buf, 16, 0, CCMM_DMA_TO_DEVICE, 0, &tlb), 0);
	kw(&b, b.buf, "fresh", 5);
	dev_read(&b, tlb, got, 5);
	assert_memory_equal(got, "0123D", 5);
	assert_int_equal(ccmm_swiotlb_sync_single_for_device(&b.ctx, b.mem, &b.dev, tlb, 16, CCMM_DMA_TO_DEVICE), 0);
	dev_read(&b, tlb, got, 5);
	assert_memory_equal(got, "fresh", 5);
	dev_write(&b, tlb, "junk!", 5);
	assert_int_equal(ccmm_swiotlb_sync_single_for_cpu(&b.ctx, b.mem, &b.dev, tlb, 16, CCMM_DMA_TO_DEVICE), 0);
	kr(&b, b.buf, got, 5);
	assert_memory_equal(got, "fresh", 5);
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&b.ctx, b.mem, &b.dev, tlb, 16, CCMM_DMA_TO_DEVICE, 0), 0);
	ccmm_shutdown(b.m);
}

/* min_align_mask with real bytes: the device finds the data at the same offset in its page. */
static void test_bounce_min_align(void **state)
{
	struct bx b;
	uint64_t tlb;
	char got[8];

	bx_init(&b);
	b.dev.min_align_mask = 0xfff;
	kw(&b, b.buf + 0x7f8, "aligned!", 8);
	assert_int_equal(ccmm_swiotlb_tbl_map_single(&b.ctx, b.mem, &b.dev, b.buf + 0x7f8, 8, 0, CCMM_DMA_BIDIRECTIONAL, 0,
						     &tlb),
			 0);
	assert_int_equal(tlb & 0xfff, 0x7f8);
	dev_read(&b, tlb, got, 8);
	assert_memory_equal(got, "aligned!", 8);
	dev_write(&b, tlb, "ALIGNED?", 8);
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&b.ctx, b.mem, &b.dev, tlb, 8, CCMM_DMA_BIDIRECTIONAL, 0), 0);
	kr(&b, b.buf + 0x7f8, got, 8);
	assert_memory_equal(got, "ALIGNED?", 8);
	assert_int_equal(ccmm_swiotlb_is_valid(b.mem), 0);
	ccmm_shutdown(b.m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_placement),
		cmocka_unit_test_setup_teardown(test_next_fit, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_wrap_around, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_alignment, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_min_align, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_seg_boundary, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_segments, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_areas, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_full_pool, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_bad_unmap, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_alloc_free, fx_setup, fx_teardown),
		cmocka_unit_test(test_slot_list_is_kernels),
		cmocka_unit_test(test_odd_area_size),
		cmocka_unit_test_setup_teardown(test_is_valid_catches, fx_setup, fx_teardown),
		cmocka_unit_test(test_bounce_to_device),
		cmocka_unit_test(test_bounce_from_device_partial),
		cmocka_unit_test(test_bounce_bidir_and_skip),
		cmocka_unit_test(test_syncs),
		cmocka_unit_test(test_bounce_min_align),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
