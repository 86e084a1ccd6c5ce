// SPDX-License-Identifier: MIT
/*
 * The alignment rules of kernel/dma/swiotlb.c (6.12), one case per rule,
 * named after the kernel function that applies it. The kernel has no
 * self-test file for SWIOTLB; the rules were fixed and pinned down by the
 * 2024 series "swiotlb: Fix double-allocation of slots due to broken
 * alignment handling" (Will Deacon), "swiotlb: Reinstate page-alignment
 * for mappings >= PAGE_SIZE", "swiotlb: Fix alignment checks when both
 * allocation and DMA masks are present", "swiotlb: Enforce page alignment
 * in swiotlb_alloc()", "swiotlb: Honour dma_alloc_coherent() alignment in
 * swiotlb_alloc()" and "swiotlb: extend buffer pre-padding to
 * alloc_align_mask if necessary" (Petr Tesarik); each case replays the
 * situation its commit describes and asserts the slot the 6.12 code picks,
 * worked out by hand from the function (the comments show the arithmetic).
 *
 * Pools are 1 MiB (512 slots) in 2 areas, at a 1 MiB-aligned physical
 * address, so a slot's DMA address has the alignment of its offset.
 */
#include "port.h"

#include "swiotlb/swiotlb.h"

#define SLOT CCMM_IO_TLB_SIZE
#define POOL_SLOTS 512

struct fx {
	struct ccmm_ctx ctx;
	struct ccmm_io_tlb_mem mem;
	uint64_t pool;
	struct ccmm_swiotlb_dev dev;
};

static struct fx fx;

static int case_setup(void **state)
{
	(void)state;
	memset(&fx, 0, sizeof(fx));
	ccmm_ctx_init(&fx.ctx, port_machine, 0, "swiotlb");
	assert_int_equal(ccmm_alloc_pages(&fx.ctx, 0, 8, 0, &fx.pool), 0);
	assert_true(CCMM_IS_ALIGNED(fx.pool, 1u << 20));
	assert_int_equal(ccmm_io_tlb_mem_init(&fx.mem, port_machine, "port", fx.pool, POOL_SLOTS, 2, false), 0);
	fx.dev.seg_boundary_mask = UINT32_MAX; /* pci_device_add(): dma_set_seg_boundary(0xffffffff) */
	return 0;
}

static int case_teardown(void **state)
{
	assert_int_equal(ccmm_swiotlb_is_valid(&fx.mem), 0);
	ccmm_io_tlb_mem_fini(&fx.mem);
	ccmm_free_pages(&fx.ctx, fx.pool, 8);
	return port_case_teardown(state);
}

static uint64_t slot(uint64_t tlb)
{
	return (tlb - fx.pool) >> CCMM_IO_TLB_SHIFT;
}

static uint64_t used(void)
{
	struct ccmm_swiotlb_stats s;

	ccmm_swiotlb_stats(&fx.mem, &s);
	return s.io_tlb_used;
}

/* swiotlb_tbl_map_single(dev, orig, size, alloc_align_mask, TO_DEVICE, SKIP_CPU_SYNC) must succeed. */
static uint64_t map(uint64_t orig, size_t size, unsigned alloc_align_mask)
{
	uint64_t tlb;

	assert_int_equal(ccmm_swiotlb_tbl_map_single(&fx.ctx, &fx.mem, &fx.dev, orig, size, alloc_align_mask,
						     CCMM_DMA_TO_DEVICE, CCMM_DMA_ATTR_SKIP_CPU_SYNC, &tlb),
			 0);
	assert_int_equal(ccmm_swiotlb_is_valid(&fx.mem), 0);
	return tlb;
}

static void unmap(uint64_t tlb, size_t size)
{
	assert_int_equal(ccmm_swiotlb_tbl_unmap_single(&fx.ctx, &fx.mem, &fx.dev, tlb, size, CCMM_DMA_TO_DEVICE,
						       CCMM_DMA_ATTR_SKIP_CPU_SYNC),
			 0);
	assert_int_equal(ccmm_swiotlb_is_valid(&fx.mem), 0);
}

/* Physical addresses of originals: RAM far from the pool, any page. */
#define ORIG(page, off) (0x4000000ULL + (uint64_t)(page) * 4096 + (off))

/*
 * swiotlb_search_pool_area(): "Historically, swiotlb allocations >=
 * PAGE_SIZE were guaranteed to be page-aligned in the absence of any
 * other alignment requirements" (alloc_align_mask = PAGE_SIZE - 1 when
 * it is 0, there is no min_align_mask and alloc_size >= PAGE_SIZE);
 * smaller ones are only slot aligned. Next fit from the area's cursor.
 */
static void swiotlb_search_pool_area_page_align(void **state)
{
	uint64_t a = map(ORIG(0, 0), 512, 0);   /* slot 0; cursor 1 */
	uint64_t b = map(ORIG(1, 0), 4096, 0);  /* >= PAGE_SIZE: slot 1 is not page aligned -> 2-3; cursor 4 */
	uint64_t c = map(ORIG(2, 0), 2049, 0);  /* two slots, < PAGE_SIZE: 4-5; cursor 6 */
	uint64_t d = map(ORIG(3, 0), 512, 0);   /* 6; cursor 7 */
	uint64_t e = map(ORIG(4, 0), 2049, 0);  /* < PAGE_SIZE may start on an odd slot: 7-8 */
	uint64_t g = map(ORIG(5, 0), 8192, 0);  /* cursor 9 is odd: 10-13 */

	(void)state;
	assert_int_equal(slot(a), 0);
	assert_int_equal(slot(b), 2);
	assert_int_equal(slot(c), 4);
	assert_int_equal(slot(d), 6);
	assert_int_equal(slot(e), 7);
	assert_int_equal(slot(g), 10);
	/* used counts the claimed slots, nr_slots(alloc_size) each: slot 1 and 9 stay free */
	assert_int_equal(used(), 1 + 2 + 2 + 1 + 2 + 4);
	assert_int_equal(fx.mem.areas[0].index, 14);
	unmap(a, 512), unmap(b, 4096), unmap(c, 2049), unmap(d, 512), unmap(e, 2049), unmap(g, 8192);
	assert_int_equal(used(), 0);
}

/*
 * swiotlb_search_pool_area(): a device with a min_align_mask gets no
 * historical page alignment ("!iotlb_align_mask" is part of the
 * condition): its mappings keep the original's bits instead. With a mask
 * inside one slot (0x7ff) nothing is left for the slot choice
 * (iotlb_align_mask &= ~alloc_align_mask), so a 4 KiB mapping may start
 * on an odd slot, at the original's offset into it.
 */
static void swiotlb_search_pool_area_min_align_no_page_align(void **state)
{
	uint64_t a, b;

	(void)state;
	fx.dev.min_align_mask = 0x7ff;
	a = map(ORIG(0, 0), 512, 0);                /* slot 0 */
	b = map(ORIG(1, 0x100), 4096, 0);           /* slot 1, offset 0x100 into it: 3 slots (0x100 + 4096) */
	assert_int_equal(slot(a), 0);
	assert_int_equal(slot(b), 1);
	assert_int_equal(b & 0x7ff, 0x100);
	assert_int_equal(used(), 1 + 3);
	unmap(a, 512);
	unmap(b, 4096);
}

/*
 * swiotlb_search_pool_area(): the bits of min_align_mask above a slot
 * ("(tlb_addr & iotlb_align_mask) == (orig_addr & iotlb_align_mask)") are
 * kept by the choice of slot, the bits below it by an offset into the
 * first slot; the search steps one slot at a time until a slot matches,
 * then by stride = get_max_slots(max(alloc_align_mask, iotlb_align_mask)).
 */
static void swiotlb_search_pool_area_min_align_high_bits(void **state)
{
	uint64_t a, b, c, d;

	(void)state;
	fx.dev.min_align_mask = 0x3fff;           /* iotlb_align_mask 0x3800: slot index mod 8 */
	a = map(ORIG(2, 0x800), 512, 0);          /* 0x2800 & 0x3800: slot = 5 mod 8 -> 5 */
	b = map(ORIG(4, 0), 512, 0);              /* 0x4000 & 0x3800 = 0: 0 mod 8 -> 8 (cursor 6) */
	c = map(ORIG(1, 0x234), 512, 0);          /* 0x1234: 2 mod 8 -> 10, offset 0x234 */
	/* a 512-byte buffer at 5 mod 8 again: 13 (cursor 11) */
	d = map(ORIG(6, 0x800), 512, 0);
	assert_int_equal(slot(a), 5);
	assert_int_equal(slot(b), 8);
	assert_int_equal(slot(c), 10);
	assert_int_equal(c & 0x3fff, 0x1234);
	assert_int_equal(slot(d), 13);
	assert_int_equal(a & 0x3fff, 0x2800);
	assert_int_equal(d & 0x3fff, 0x2800);
	/* the largest mapping: 256 KiB less roundup(min_align_mask, IO_TLB_SIZE) */
	assert_int_equal(ccmm_swiotlb_max_mapping_size(&fx.dev), 256 * 1024 - 0x4000);
	unmap(a, 512), unmap(b, 512), unmap(c, 512), unmap(d, 512);
	assert_int_equal(used(), 0);
}

/*
 * swiotlb_search_pool_area(): a slot that has the right alignment but not
 * enough free slots after it is passed by a whole stride, never by one
 * (the "double-allocation" fix made the loop step by stride only from an
 * aligned slot). Page-aligned 4 KiB mappings against a pool whose even
 * slots are taken one by one: the search lands on the next free pair.
 */
static void swiotlb_search_pool_area_stride(void **state)
{
	uint64_t small[4], big;

	(void)state;
	for (int i = 0; i < 4; i++)
		small[i] = map(ORIG(i, 0), 512, 0x7ff); /* alloc_align_mask given: slots 0, 1, 2, 3 */
	unmap(small[1], 512);                           /* slot 1 free, but odd */
	fx.mem.areas[0].index = 0;                      /* the search starts at the area's beginning */
	big = map(ORIG(9, 0), 4096, 0);                 /* 0 taken (stride 2), 2 taken, 4-5 free */
	assert_int_equal(slot(big), 4);
	assert_int_equal(fx.mem.areas[0].index, 6);
	unmap(small[0], 512), unmap(small[2], 512), unmap(small[3], 512), unmap(big, 4096);
}

/*
 * swiotlb_tbl_map_single() with both an allocation alignment and a
 * min_align_mask (an IOMMU's granule and NVMe's 4 KiB): offset =
 * swiotlb_align_offset(dev, alloc_align_mask, orig) = orig &
 * min_align_mask & (alloc_align_mask | (IO_TLB_SIZE - 1)) = 0xa00; size =
 * ALIGN(mapping_size + offset, alloc_align_mask + 1) = 0x2000 (4 slots);
 * the search only needs page alignment now (iotlb_align_mask &=
 * ~alloc_align_mask leaves nothing); pad_slots = offset >> IO_TLB_SHIFT = 1
 * and the address is slot index + 1, plus offset's bits below a slot.
 * swiotlb_release_slots() finds the allocation back through pad_slots and
 * frees all 4 slots.
 */
static void swiotlb_tbl_map_single_alloc_align_and_min_align(void **state)
{
	uint64_t a, b;

	(void)state;
	fx.dev.min_align_mask = 0xfff;
	a = map(ORIG(0, 0), 512, 0);                  /* slot 0: orig & 0x800 = 0 -> even slot */
	b = map(ORIG(3, 0xa00), 4096, 0xfff);         /* page aligned start 2; pad slot 2; address slot 3 + 0x200 */
	assert_int_equal(slot(a), 0);
	assert_int_equal(slot(b), 3);
	assert_int_equal(b & 0xfff, 0xa00);
	assert_int_equal(b & 0x7ff, 0x200);
	assert_int_equal(fx.mem.slots[3].pad_slots, 1);
	/* the padding slot is claimed but holds no original */
	assert_int_equal(ccmm_swiotlb_slot_list(&fx.mem, 2), 0);
	assert_true(fx.mem.slots[2].orig_addr == UINT64_MAX);
	assert_int_equal(fx.mem.slots[3].orig_addr, ORIG(3, 0xa00));
	assert_int_equal(fx.mem.slots[4].orig_addr, ORIG(3, 0xa00) + SLOT);
	/* alloc_size per slot: size minus (the sub-slot offset + the slots before it) */
	assert_int_equal(fx.mem.slots[2].alloc_size, 0x2000 - 0x200);
	assert_int_equal(fx.mem.slots[3].alloc_size, 0x2000 - 0x200 - SLOT);
	assert_int_equal(used(), 1 + 4);
	assert_int_equal(fx.mem.areas[0].index, 6);
	unmap(b, 4096);
	assert_int_equal(used(), 1);
	for (int i = 1; i < 6; i++)
		assert_int_not_equal(ccmm_swiotlb_slot_list(&fx.mem, i), 0);
	unmap(a, 512);
}

/*
 * swiotlb_alloc(): "align = (1 << (get_order(size) + PAGE_SHIFT)) - 1":
 * a restricted pool's pages are aligned to their allocation order (page
 * aligned for anything up to a page, 16 KiB for 8 KiB + 1), and the slot
 * count is nr_slots(size), not rounded to the alignment.
 */
static void swiotlb_alloc_page_order_align(void **state)
{
	uint64_t a, p, q;

	(void)state;
	a = map(ORIG(0, 0), 512, 0);                                   /* slot 0 */
	assert_int_equal(ccmm_swiotlb_alloc(&fx.mem, &fx.dev, 2048, &p), 0); /* order 0: page aligned -> 2 */
	assert_int_equal(slot(p), 2);
	assert_int_equal(ccmm_swiotlb_alloc(&fx.mem, &fx.dev, 8193, &q), 0); /* order 2: 16 KiB -> slot 8 */
	assert_int_equal(slot(q), 8);
	assert_int_equal(used(), 1 + 1 + 5);
	assert_int_equal(ccmm_swiotlb_free(&fx.mem, p), 0);
	assert_int_equal(ccmm_swiotlb_free(&fx.mem, q), 0);
	unmap(a, 512);
	assert_int_equal(used(), 0);
}

/*
 * swiotlb_find_slots(): the search starts in area raw_smp_processor_id()
 * & (nareas - 1) and tries the following areas in turn, wrapping;
 * swiotlb_search_pool_area() gives up on an area at once when "nslots >
 * pool->area_nslabs - area->used".
 */
static void swiotlb_find_slots_areas(void **state)
{
	uint64_t a, b, c, fill[2];

	(void)state;
	fx.dev.cpu = 3;                           /* 3 & 1: area 1 (slots 256-511) */
	a = map(ORIG(0, 0), 512, 0);
	assert_int_equal(slot(a), 256);
	fx.dev.cpu = 1;
	/* fill area 1 but one slot: two 127-slot mappings in its two segments, then 1 */
	fill[0] = map(ORIG(1, 0), 127 * SLOT, 0x7ff); /* 257..383 */
	fill[1] = map(ORIG(2, 0), 127 * SLOT, 0x7ff); /* 384..510 */
	assert_int_equal(slot(fill[0]), 257);
	assert_int_equal(slot(fill[1]), 384);
	/* area 1 has 1 free slot: 2 slots go to area 0, found by wrapping past the last area */
	b = map(ORIG(3, 0), 4096, 0);
	assert_int_equal(slot(b), 0);
	c = map(ORIG(4, 0), 512, 0);              /* 1 slot still fits area 1: slot 511 */
	assert_int_equal(slot(c), 511);
	unmap(a, 512), unmap(fill[0], 127 * SLOT), unmap(fill[1], 127 * SLOT), unmap(b, 4096), unmap(c, 512);
	fx.dev.cpu = 0;
}

/*
 * wrap_area_index(): the cursor moves past each allocation and wraps to
 * the area's start; the search itself wraps too, so slots freed behind
 * the cursor are reused only after it has gone round.
 */
static void wrap_area_index_next_fit(void **state)
{
	uint64_t a, b, c;

	(void)state;
	a = map(ORIG(0, 0), 512, 0);               /* 0 */
	unmap(a, 512);
	b = map(ORIG(1, 0), 512, 0);               /* 1, not 0: next fit */
	assert_int_equal(slot(b), 1);
	fx.mem.areas[0].index = 255;               /* the area's last slot */
	c = map(ORIG(2, 0), 4096, 0);              /* 255 is odd; the search wraps to 0 */
	assert_int_equal(slot(c), 2);              /* 0 free but the pair 0-1 is not (1 in use) */
	unmap(b, 512);
	unmap(c, 4096);
}

/* iommu_is_span_boundary(): no allocation crosses the device's segment boundary. */
static void swiotlb_search_pool_area_seg_boundary(void **state)
{
	uint64_t a, b;

	(void)state;
	fx.dev.seg_boundary_mask = 0x7fff;         /* 32 KiB: 16 slots */
	a = map(ORIG(0, 0), 12 * 1024, 0x7ff);     /* 0-5 */
	b = map(ORIG(1, 0), 24 * 1024, 0x7ff);     /* 12 slots: 6..17 would cross 16 -> 16 */
	assert_int_equal(slot(a), 0);
	assert_int_equal(slot(b), 16);
	unmap(a, 12 * 1024);
	unmap(b, 24 * 1024);
}

/*
 * swiotlb_search_pool_area(): "orig_addr && (tlb_addr & iotlb_align_mask)
 * != ...": an original at physical address 0 is not aligned against (0 is
 * how swiotlb_alloc() says "no original"). ccmm once required slot bits
 * equal to 0's; now it does what the kernel does.
 */
static void swiotlb_search_pool_area_orig_zero(void **state)
{
	uint64_t a, b;

	(void)state;
	fx.dev.min_align_mask = 0xfff;
	a = map(ORIG(0, 0), 512, 0);              /* slot 0 */
	b = map(0, 512, 0);                       /* no min_align check: slot 1 (odd) */
	assert_int_equal(slot(b), 1);
	unmap(a, 512);
	unmap(b, 512);
}

/*
 * io_tlb_hiwater_set() (debugfs io_tlb_used_hiwater): "Only allow setting
 * to zero", and zero is what it stores -- not the slots in use; the next
 * mapping raises it again. ccmm once reset it to the current use.
 */
static void io_tlb_hiwater_set_zero_only(void **state)
{
	char buf[32];
	uint64_t a = map(ORIG(0, 0), 4096, 0), b;

	(void)state;
	assert_int_equal(ccmm_swiotlb_debugfs_read(&fx.mem, "io_tlb_used_hiwater", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "2\n");
	assert_int_equal(ccmm_swiotlb_hiwater_write(&fx.mem, 5), -EINVAL);
	assert_int_equal(ccmm_swiotlb_hiwater_write(&fx.mem, 0), 0);
	ccmm_swiotlb_debugfs_read(&fx.mem, "io_tlb_used_hiwater", buf, sizeof(buf));
	assert_string_equal(buf, "0\n");
	ccmm_swiotlb_debugfs_read(&fx.mem, "io_tlb_used", buf, sizeof(buf));
	assert_string_equal(buf, "2\n");
	b = map(ORIG(1, 0), 512, 0);               /* inc_used_and_hiwater: 3 */
	ccmm_swiotlb_debugfs_read(&fx.mem, "io_tlb_used_hiwater", buf, sizeof(buf));
	assert_string_equal(buf, "3\n");
	ccmm_swiotlb_debugfs_read(&fx.mem, "io_tlb_nslabs", buf, sizeof(buf));
	assert_string_equal(buf, "512\n");
	assert_int_equal(ccmm_swiotlb_debugfs_read(&fx.mem, "io_tlb_transient_nslabs", buf, sizeof(buf)), -ENOENT);
	unmap(a, 4096);
	unmap(b, 512);
}

#define CASE(fn) { #fn, fn, case_setup, case_teardown, NULL }

int main(void)
{
	const struct CMUnitTest tests[] = {
		CASE(swiotlb_search_pool_area_page_align),
		CASE(swiotlb_search_pool_area_min_align_no_page_align),
		CASE(swiotlb_search_pool_area_min_align_high_bits),
		CASE(swiotlb_search_pool_area_stride),
		CASE(swiotlb_tbl_map_single_alloc_align_and_min_align),
		CASE(swiotlb_alloc_page_order_align),
		CASE(swiotlb_find_slots_areas),
		CASE(wrap_area_index_next_fit),
		CASE(swiotlb_search_pool_area_seg_boundary),
		CASE(swiotlb_search_pool_area_orig_zero),
		CASE(io_tlb_hiwater_set_zero_only),
	};

	return cmocka_run_group_tests_name("kernel-swiotlb", tests, port_group_setup, port_group_teardown);
}
