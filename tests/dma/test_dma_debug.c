// SPDX-License-Identifier: MIT
/*
 * The DMA API's misuse checks, one case per check of kernel/dma/debug.c
 * (Linux 6.12; dma-debug has no test of its own upstream): the violations
 * recorded (each mismatch on its own), the errno returned, what the DMA API
 * did with the caller's arguments (copies in the caller's direction), and
 * that the state stays whole (no live record left behind, SWIOTLB
 * consistent and empty). Mostly in a TDX guest, where every streaming
 * mapping bounces; on a host where addresses must be physical ones.
 */
#include "helpers.h"

#include "dma/dma.h"

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_dma_dev *d;
	struct ccmm_io_tlb_mem *mem;
	uint64_t buf;
};

static int setup_mode(void **state, const char *lines)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->m = test_boot(lines);
	ccmm_ctx_init(&f->ctx, f->m, 0, "drv");
	f->d = ccmm_dma_dev(f->m, 0);
	f->mem = ccmm_swiotlb_default(f->m);
	assert_int_equal(ccmm_dma_probe(&f->ctx, f->d, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f->ctx, f->d, 64), 0);
	assert_int_equal(ccmm_alloc_pages(&f->ctx, 0, 2, 0, &f->buf), 0);
	*state = f;
	return 0;
}

/* A TDX guest with a 1 MiB pool. */
static int setup(void **state)
{
	return setup_mode(state, "mode=tdx\nswiotlb_size=1m");
}

/* A plain host (no bouncing: DMA addresses are physical ones). */
static int setup_host(void **state)
{
	return setup_mode(state, "mode=none");
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ccmm_shutdown(f->m);
	free(f);
	return 0;
}

/* Only @rule was recorded, exactly @n times, and nothing else. */
static void only(struct fx *f, const char *rule, size_t n)
{
	assert_int_equal(nviol(f->m, rule), n);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), n);
}

/* Nothing is left half-done: no live record, an empty and consistent pool. */
static void whole(struct fx *f)
{
	struct ccmm_swiotlb_stats s;

	assert_int_equal(ccmm_dma_live(f->d), 0);
	if (!f->mem)
		return;
	assert_int_equal(ccmm_swiotlb_is_valid(f->mem), 0);
	ccmm_swiotlb_stats(f->mem, &s);
	assert_int_equal(s.io_tlb_used, 0);
}

static void kw(struct fx *f, uint64_t pa, const char *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_WRITE, ccmm_phys_to_virt(pa), (void *)data, len, &r), 0);
}

static void kr(struct fx *f, uint64_t pa, char *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_READ, ccmm_phys_to_virt(pa), data, len, &r), 0);
}

/* An sg table of @n entries of @len bytes each over the buffer from @off. */
static void sgt(struct fx *f, struct ccmm_sg_table *t, unsigned n, uint64_t off, uint32_t len)
{
	assert_int_equal(ccmm_sg_alloc_table(t, n), 0);
	for (unsigned i = 0; i < n; i++) {
		uint64_t pa = f->buf + off + (uint64_t)i * len;

		t->sgl[i].page_link = CCMM_ALIGN_DOWN(pa, CCMM_PAGE_SIZE);
		t->sgl[i].offset = (uint32_t)(pa & (CCMM_PAGE_SIZE - 1));
		t->sgl[i].length = len;
	}
}

static uint64_t map(struct fx *f, uint64_t off, uint64_t len, enum ccmm_dma_dir dir)
{
	uint64_t dma;

	assert_int_equal(ccmm_dma_map_page(&f->ctx, f->d, f->buf + off, len, dir, 0, &dma), 0);
	assert_int_equal(ccmm_dma_mapping_error(f->d, dma), 0);
	return dma;
}

static void test_unmap_never_mapped(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, 0x1234000, 64, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	only(f, "dma_unmap_unmapped", 1);
	whole(f);
	assert_string_equal(last_event(f->m).op, "");
}

static void test_double_unmap(void **state)
{
	struct fx *f = *state;
	uint64_t dma = map(f, 0, 64, CCMM_DMA_TO_DEVICE);

	f->ctx.op = "dma_unmap_page";
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 64, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	only(f, "dma_double_unmap", 1);
	assert_string_equal(last_event(f->m).op, "dma_unmap_page"); /* the call that caused it */
	whole(f);
}

/* A wrong size is reported, and the mapping is undone with its real size: nothing leaks. */
static void test_unmap_size(void **state)
{
	struct fx *f = *state;
	uint64_t dma = map(f, 0, 8192, CCMM_DMA_TO_DEVICE);

	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 4096, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	only(f, "dma_unmap_size", 1);
	whole(f);
}

/*
 * A wrong direction is reported, and the unmap does what the caller asked
 * (swiotlb_tbl_unmap_single copies back only for FROM_DEVICE and
 * BIDIRECTIONAL): unmapped TO_DEVICE, what the device wrote never reaches
 * the buffer. Regression: ccmm copied back in the mapping's direction.
 */
static void test_unmap_dir(void **state)
{
	struct fx *f = *state;
	uint64_t dma;
	struct ccmm_result r;
	char got[8];

	kw(f, f->buf, "original", 8);
	dma = map(f, 0, 8, CCMM_DMA_FROM_DEVICE);
	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_WRITE, dma, "written!", 8, &r), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 8, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	only(f, "dma_unmap_dir", 1);
	assert_non_null(strstr(last_event(f->m).msg, "the device's data is lost"));
	kr(f, f->buf, got, 8);
	assert_memory_equal(got, "original", 8);
	whole(f);
	/* and the other way: a TO_DEVICE mapping unmapped FROM_DEVICE copies the bounce buffer back */
	dma = map(f, 0, 8, CCMM_DMA_TO_DEVICE);
	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_WRITE, dma, "garbage!", 8, &r), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 8, CCMM_DMA_FROM_DEVICE, 0), -EINVAL);
	kr(f, f->buf, got, 8);
	assert_memory_equal(got, "garbage!", 8);
	only(f, "dma_unmap_dir", 2);
	whole(f);
}

/* check_unmap reports each mismatch on its own: size, direction and the unchecked mapping error, at once. */
static void test_check_unmap_independent(void **state)
{
	struct fx *f = *state;
	uint64_t dma;

	assert_int_equal(ccmm_dma_map_page(&f->ctx, f->d, f->buf, 8192, CCMM_DMA_FROM_DEVICE, 0, &dma), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 4096, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_unmap_size"), 1);
	assert_int_equal(nviol(f->m, "dma_unmap_dir"), 1);
	assert_int_equal(nviol(f->m, "dma_map_error_unchecked"), 1);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), 3);
	whole(f);
}

/* Unmapping DMA_MAPPING_ERROR: "device driver tries to free an invalid DMA memory address". */
static void test_unmap_mapping_error(void **state)
{
	struct fx *f = *state;

	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, CCMM_DMA_MAPPING_ERROR, 64, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 4096, ccmm_phys_to_virt(f->buf), CCMM_DMA_MAPPING_ERROR),
			 -EINVAL);
	only(f, "dma_unmap_mapping_error", 2);
	whole(f);
}

/*
 * The wrong function. dma_map_single and dma_map_page make the same kind of
 * entry in 6.12 ("single"), so unmap_single of a page mapping is fine
 * (regression: ccmm called it a mismatch); unmap_sg of one, free_coherent
 * of a streaming one (also another direction: two reports) and an unmap of
 * a coherent buffer are not.
 */
static void test_unmap_type(void **state)
{
	struct fx *f = *state;
	uint64_t dma = map(f, 0, 64, CCMM_DMA_TO_DEVICE), cdma, cva;
	struct ccmm_sg_table t;

	assert_int_equal(ccmm_dma_unmap_single(&f->ctx, f->d, dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	only(f, "dma_unmap_type", 0);
	whole(f);
	dma = map(f, 0, 64, CCMM_DMA_TO_DEVICE);
	sgt(f, &t, 1, 0, 64);
	t.sgl[0].dma_address = dma;
	t.sgl[0].dma_length = 64;
	t.nents = 1;
	assert_int_equal(ccmm_dma_unmap_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	ccmm_sg_free_table(&t);
	assert_int_equal(nviol(f->m, "dma_unmap_type"), 1);
	assert_int_equal(nviol(f->m, "dma_sg_nents_mismatch"), 1); /* a single entry has no sg count: 0 != 1 */
	whole(f);
	dma = map(f, 0, 64, CCMM_DMA_TO_DEVICE);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 64, ccmm_phys_to_virt(f->buf), dma), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_unmap_type"), 2);
	assert_int_equal(nviol(f->m, "dma_unmap_dir"), 1); /* freed as BIDIRECTIONAL */
	whole(f);
	assert_int_equal(ccmm_dma_alloc_coherent(&f->ctx, f->d, 4096, &cdma, &cva), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, cdma, 4096, CCMM_DMA_BIDIRECTIONAL, 0), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_unmap_type"), 3);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), 5);
	assert_int_equal(ccmm_dma_live(f->d), 0);
}

/* free_coherent with another size (dma_unmap_size) or CPU address (dma_free_cpu_address). */
static void test_free_coherent_mismatch(void **state)
{
	struct fx *f = *state;
	uint64_t dma, va;

	assert_int_equal(ccmm_dma_alloc_coherent(&f->ctx, f->d, 8192, &dma, &va), 0);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 4096, va, dma), -EINVAL);
	only(f, "dma_unmap_size", 1);
	assert_int_equal(ccmm_dma_alloc_coherent(&f->ctx, f->d, 8192, &dma, &va), 0);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 8192, va + 4096, dma), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_free_cpu_address"), 1);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), 2);
	assert_int_equal(ccmm_dma_live(f->d), 0);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 8192, va, dma), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_double_unmap"), 1);
}

/* dma_mapping_error() never asked: reported at unmap, which still succeeds. */
static void test_map_error_unchecked(void **state)
{
	struct fx *f = *state;
	uint64_t dma;

	assert_int_equal(ccmm_dma_map_page(&f->ctx, f->d, f->buf, 64, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	only(f, "dma_map_error_unchecked", 1);
	whole(f);
	map(f, 0, 64, CCMM_DMA_TO_DEVICE); /* checked: no report */
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, f->d->rec[0].dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	only(f, "dma_map_error_unchecked", 1);
}

/* A sync outside every live mapping, or past the end of one. */
static void test_sync_unmapped(void **state)
{
	struct fx *f = *state;
	uint64_t dma = map(f, 0, 64, CCMM_DMA_FROM_DEVICE);

	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma + 4096, 8, CCMM_DMA_FROM_DEVICE), -EINVAL);
	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma + 32, 64, CCMM_DMA_FROM_DEVICE), -EINVAL);
	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma + 32, 32, CCMM_DMA_FROM_DEVICE), 0);
	only(f, "dma_sync_unmapped", 2);
	ccmm_dma_unmap_page(&f->ctx, f->d, dma, 64, CCMM_DMA_FROM_DEVICE, 0);
	whole(f);
}

/*
 * A sync in the wrong direction is reported by check_sync (another
 * direction, and a read-only mapping synced for the CPU) and still copies
 * in the caller's direction (swiotlb_sync_single_for_cpu copies back for
 * FROM_DEVICE), so the bounce buffer's contents land on the CPU's buffer.
 * Regression: ccmm refused and copied nothing, hiding the clobbering.
 */
static void test_sync_dir(void **state)
{
	struct fx *f = *state;
	struct ccmm_result r;
	uint64_t dma;
	char got[8];

	kw(f, f->buf, "original", 8);
	dma = map(f, 0, 8, CCMM_DMA_TO_DEVICE);
	ccmm_dma_device_access(&f->ctx, f->d, CCMM_WRITE, dma, "garbage!", 8, &r); /* a buggy device */
	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma, 8, CCMM_DMA_FROM_DEVICE), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_sync_dir"), 1);
	assert_int_equal(nviol(f->m, "dma_sync_read_only"), 1);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), 2);
	kr(f, f->buf, got, 8);
	assert_memory_equal(got, "garbage!", 8); /* clobbered, as in the kernel */
	/* BIDIRECTIONAL for the CPU of a TO_DEVICE mapping copies back too, and is a read-only sync without a dir mismatch report... */
	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma, 8, CCMM_DMA_BIDIRECTIONAL), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_sync_dir"), 2);
	assert_int_equal(nviol(f->m, "dma_sync_read_only"), 2);
	/* ... while TO_DEVICE for the CPU is the right call and copies nothing */
	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma, 8, CCMM_DMA_TO_DEVICE), 0);
	ccmm_dma_unmap_page(&f->ctx, f->d, dma, 8, CCMM_DMA_TO_DEVICE, 0);
	whole(f);
}

/*
 * The other way: a FROM_DEVICE mapping synced for the device as TO_DEVICE
 * ("syncs device write-only DMA memory to device") copies the CPU's buffer
 * over what the device wrote into the bounce buffer.
 */
static void test_sync_write_only(void **state)
{
	struct fx *f = *state;
	struct ccmm_result r;
	uint64_t dma;
	char got[8];

	kw(f, f->buf, "cpu data", 8);
	dma = map(f, 0, 8, CCMM_DMA_FROM_DEVICE);
	ccmm_dma_device_access(&f->ctx, f->d, CCMM_WRITE, dma, "dev data", 8, &r);
	assert_int_equal(ccmm_dma_sync_single_for_device(&f->ctx, f->d, dma, 8, CCMM_DMA_TO_DEVICE), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_sync_dir"), 1);
	assert_int_equal(nviol(f->m, "dma_sync_write_only"), 1);
	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_READ, dma, got, 8, &r), 0);
	assert_memory_equal(got, "cpu data", 8); /* the device's bytes are gone */
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 8, CCMM_DMA_FROM_DEVICE, 0), 0);
	whole(f);
}

/* A sync of a coherent buffer: dma-debug finds its entry (BIDIRECTIONAL), nothing to report or copy. */
static void test_sync_coherent(void **state)
{
	struct fx *f = *state;
	uint64_t dma, va;

	assert_int_equal(ccmm_dma_alloc_coherent(&f->ctx, f->d, 4096, &dma, &va), 0);
	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma, 64, CCMM_DMA_FROM_DEVICE), 0);
	assert_int_equal(ccmm_dma_sync_single_for_device(&f->ctx, f->d, dma, 64, CCMM_DMA_TO_DEVICE), 0);
	only(f, "dma_sync_unmapped", 0);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 4096, va, dma), 0);
	whole(f);
}

/*
 * sg lists unmapped or synced with another nents than dma_map_sg was given
 * (debug_dma_unmap_sg / debug_dma_sync_sg_*: one report per entry it
 * checks); the unmap undoes only the entries it is told of, so one stays.
 */
static void test_sg_nents_mismatch(void **state)
{
	struct fx *f = *state;
	struct ccmm_sg_table t;

	sgt(f, &t, 3, 0, 4096);
	assert_int_equal(ccmm_dma_map_sg(&f->ctx, f->d, &t, CCMM_DMA_FROM_DEVICE, 0), 3);
	only(f, "dma_sg_nents_mismatch", 0);
	assert_int_equal(ccmm_dma_sync_sg_nents(&f->ctx, f->d, &t, 2, CCMM_DMA_FROM_DEVICE, true), -EINVAL);
	only(f, "dma_sg_nents_mismatch", 2);
	assert_int_equal(ccmm_dma_sync_sg_for_device(&f->ctx, f->d, &t, CCMM_DMA_FROM_DEVICE), 0);
	assert_int_equal(ccmm_dma_unmap_sg_nents(&f->ctx, f->d, &t, 2, CCMM_DMA_FROM_DEVICE, 0), -EINVAL);
	only(f, "dma_sg_nents_mismatch", 4);
	assert_int_equal(ccmm_dma_live(f->d), 1); /* the third entry was never unmapped */
	ccmm_sg_free_table(&t);
}

/* sg entries are never "unchecked": dma_map_sg reports failure by its return value (MAP_ERR_CHECK_NOT_APPLICABLE). */
static void test_sg_no_map_error_check(void **state)
{
	struct fx *f = *state;
	struct ccmm_sg_table t;

	sgt(f, &t, 2, 0, 512);
	assert_int_equal(ccmm_dma_map_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), 2);
	assert_int_equal(ccmm_dma_unmap_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), 0);
	only(f, "dma_map_error_unchecked", 0);
	ccmm_sg_free_table(&t);
	whole(f);
}

/*
 * check_sg_segment (CONFIG_DMA_API_DEBUG_SG): an entry longer than the
 * device's max segment size (the PCI default, 64 KiB), and a DMA segment
 * across its boundary; both go once the driver sets its parameters.
 */
static void test_sg_segment(void **state)
{
	struct fx *f = *state;
	struct ccmm_sg_table t;

	assert_int_equal(ccmm_free_pages(&f->ctx, f->buf, 2), 0);
	assert_int_equal(ccmm_alloc_pages(&f->ctx, 0, 5, 0, &f->buf), 0); /* 128 KiB */
	sgt(f, &t, 1, 0, 128 * 1024);
	assert_int_equal(ccmm_dma_map_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), 1);
	only(f, "dma_sg_segment_too_long", 1);
	assert_non_null(strstr(last_event(f->m).msg, "[len=131072] [max=65536]"));
	assert_int_equal(ccmm_dma_unmap_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_set_max_seg_size(f->d, 128 * 1024), 0);
	assert_int_equal(ccmm_dma_map_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), 1);
	only(f, "dma_sg_segment_too_long", 1);
	assert_int_equal(ccmm_dma_unmap_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), 0);
	ccmm_sg_free_table(&t);
	/* [buf + 4k, buf + 12k) crosses an 8 KiB boundary: on a host the DMA address is the physical one */
	assert_int_equal(ccmm_dma_set_seg_boundary(f->d, 0x1fff), 0);
	sgt(f, &t, 1, 4096, 8192);
	assert_int_equal(ccmm_dma_map_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), 1);
	assert_int_equal(nviol(f->m, "dma_sg_segment_boundary"), 1);
	assert_int_equal(ccmm_dma_unmap_sg(&f->ctx, f->d, &t, CCMM_DMA_TO_DEVICE, 0), 0);
	ccmm_sg_free_table(&t);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), 2);
	whole(f);
}

/*
 * dma_map_single_attrs refuses a vmalloc address (the WARN "rejecting DMA
 * map of vmalloc memory", DMA_MAPPING_ERROR); debug_dma_map_single reports
 * one that is not virt_addr_valid() (device memory in the direct map, a
 * user address), which ccmm refuses too, having no page to map.
 */
static void test_map_vmalloc_invalid(void **state)
{
	struct fx *f = *state;
	uint64_t pas[2] = { f->buf, f->buf + 4096 }, va, dma;
	int err = 0;

	va = ccmm_vmap(&f->ctx, pas, 2, ccmm_page_kernel(f->m), &err);
	assert_true(va);
	assert_int_equal(ccmm_dma_map_single(&f->ctx, f->d, va, 64, CCMM_DMA_TO_DEVICE, 0, &dma), -EINVAL);
	assert_int_equal(dma, CCMM_DMA_MAPPING_ERROR);
	only(f, "dma_map_vmalloc", 1);
	/* BAR 0 of the device, through the direct map: no RAM there */
	assert_int_equal(ccmm_dma_map_single(&f->ctx, f->d, ccmm_phys_to_virt(f->m->plat->devices[0].bar[0].base), 64,
					     CCMM_DMA_TO_DEVICE, 0, &dma),
			 -EINVAL);
	assert_int_equal(ccmm_dma_map_single(&f->ctx, f->d, 0x7f0000001000ULL, 64, CCMM_DMA_TO_DEVICE, 0, &dma), -EINVAL);
	assert_int_equal(nviol(f->m, "dma_map_invalid_area"), 2);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), 3);
	whole(f);
	ccmm_vunmap(&f->ctx, va, 2);
}

/*
 * check_for_stack on x86-64 (CONFIG_VMAP_STACK): the stack is in the
 * vmalloc area, so dma_map_single of a stack buffer is refused as vmalloc
 * memory, and a driver that maps the stack's page (dma_map_page) is
 * reported and mapped. Only the calling task's stack counts.
 */
static void test_map_stack(void **state)
{
	struct fx *f = *state;
	struct ccmm_ctx other;
	uint64_t va, pa, dma;

	assert_int_equal(ccmm_dma_task_stack(&f->ctx, &va, &pa), 0);
	assert_true(va >= CCMM_VMALLOC_START && va <= CCMM_VMALLOC_END);
	assert_int_equal(ccmm_dma_map_single(&f->ctx, f->d, va + 1024, 64, CCMM_DMA_TO_DEVICE, 0, &dma), -EINVAL);
	only(f, "dma_map_vmalloc", 1);
	assert_int_equal(ccmm_dma_map_page(&f->ctx, f->d, pa + 1024, 64, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(nviol(f->m, "dma_map_stack"), 1);
	assert_non_null(strstr(last_event(f->m).msg, "device driver maps memory from stack [probable addr="));
	assert_int_equal(ccmm_dma_mapping_error(f->d, dma), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	/* another task mapping that page is not mapping its own stack */
	ccmm_ctx_init(&other, f->m, 1, "other");
	assert_int_equal(ccmm_dma_map_page(&other, f->d, pa + 1024, 64, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(nviol(f->m, "dma_map_stack"), 1);
	ccmm_dma_mapping_error(f->d, dma);
	assert_int_equal(ccmm_dma_unmap_page(&other, f->d, dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	whole(f);
}

/*
 * Kernel text on x86-64: the image runs at __START_KERNEL_map, and
 * check_for_illegal_area compares the page's direct-map address with
 * _stext/_etext, so it never matches: dma_map_single of text is mapped
 * without a report, and the device reads kernel text. (dma-debug's blind
 * spot on x86, kept as the kernel has it.)
 */
static void test_map_kernel_text_x86(void **state)
{
	struct fx *f = *state;
	uint64_t va, pa, size, dma;

	assert_int_equal(ccmm_dma_kernel_image(f->m, false, &va, &pa, &size), 0);
	assert_int_equal(va, CCMM_KERNEL_TEXT_VA);
	assert_int_equal(size, CCMM_KERNEL_TEXT_SIZE);
	assert_int_equal(ccmm_dma_map_single(&f->ctx, f->d, va + 4096, 64, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_dma_mapping_error(f->d, dma);
	assert_int_equal(ccmm_dma_unmap_single(&f->ctx, f->d, dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_kernel_image(f->m, true, &va, &pa, &size), 0);
	assert_int_equal(va, CCMM_KERNEL_TEXT_VA + CCMM_KERNEL_TEXT_SIZE); /* rodata after text */
	whole(f);
}

/*
 * On ppc64 the kernel image and the (not vmapped) stacks live in the
 * linear map, so check_for_illegal_area and check_for_stack see
 * dma_map_single of text, rodata or a stack buffer; the mappings are
 * made all the same, as in the kernel.
 */
static void test_map_kernel_image_and_stack_ppc64(void **state)
{
	struct ccmm_machine *m = test_boot("mode=none\n[iommu:phb0]\nkind=pseries-tce\npage_shift=12\ndma32_window=1g");
	struct ccmm_ctx ctx;
	struct ccmm_dma_dev *d = ccmm_dma_dev(m, 0);
	uint64_t va, pa, size, dma, sva, spa;

	(void)state;
	ccmm_ctx_init(&ctx, m, 0, "drv");
	assert_int_equal(ccmm_dma_probe(&ctx, d, NULL), 0);
	assert_int_equal(ccmm_dma_kernel_image(m, true, &va, &pa, &size), 0);
	assert_int_equal(va, ccmm_phys_to_virt(pa)); /* rodata in the linear map */
	assert_int_equal(ccmm_dma_map_single(&ctx, d, va + 8, 64, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(nviol(m, "dma_map_kernel_image"), 1);
	assert_non_null(strstr(last_event(m).msg, "device driver maps memory from kernel text or rodata"));
	ccmm_dma_mapping_error(d, dma);
	assert_int_equal(ccmm_dma_unmap_single(&ctx, d, dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_task_stack(&ctx, &sva, &spa), 0);
	assert_int_equal(sva, ccmm_phys_to_virt(spa)); /* no VMAP_STACK */
	assert_int_equal(ccmm_dma_map_single(&ctx, d, sva + 512, 64, CCMM_DMA_FROM_DEVICE, 0, &dma), 0);
	assert_int_equal(nviol(m, "dma_map_stack"), 1);
	ccmm_dma_mapping_error(d, dma);
	assert_int_equal(ccmm_dma_unmap_single(&ctx, d, dma, 64, CCMM_DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(ccmm_violations_count(m, NULL, CCMM_ANY_ACTOR), 2);
	ccmm_shutdown(m);
}

/*
 * active_cacheline_insert: a mapping the device may write whose first
 * cacheline starts another such live mapping, on any device, is -EEXIST
 * (reported unless DMA_ATTR_SKIP_CPU_SYNC); TO_DEVICE mappings are not
 * tracked; the overlap count goes down as the mappings go.
 */
static void test_cacheline_overlap(void **state)
{
	struct fx *f = *state;
	struct ccmm_dma_dev *nic = ccmm_dma_dev(f->m, 1);
	struct ccmm_dma_probe_opts o = { .no_filter = true };
	uint64_t a, b, c, d, e;

	assert_int_equal(ccmm_dma_probe(&f->ctx, nic, &o), 0);
	a = map(f, 0, 4096, CCMM_DMA_FROM_DEVICE);
	b = map(f, 0, 64, CCMM_DMA_TO_DEVICE); /* the device only reads: fine */
	only(f, "dma_cacheline_overlap", 0);
	c = map(f, 32, 64, CCMM_DMA_BIDIRECTIONAL); /* starts in the same 64-byte line */
	only(f, "dma_cacheline_overlap", 1);
	assert_int_equal(ccmm_dma_map_page(&f->ctx, f->d, f->buf, 64, CCMM_DMA_FROM_DEVICE, CCMM_DMA_ATTR_SKIP_CPU_SYNC, &d),
			 0);
	only(f, "dma_cacheline_overlap", 1);
	ccmm_dma_mapping_error(f->d, d);
	/* another device, the same line */
	assert_int_equal(ccmm_dma_map_page(&f->ctx, nic, f->buf + 8, 8, CCMM_DMA_FROM_DEVICE, 0, &e), 0);
	ccmm_dma_mapping_error(nic, e);
	only(f, "dma_cacheline_overlap", 2);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, nic, e, 8, CCMM_DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, a, 4096, CCMM_DMA_FROM_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, b, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, c, 64, CCMM_DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, d, 64, CCMM_DMA_FROM_DEVICE, 0), 0);
	/* every overlapping mapping is gone: the line is free again */
	a = map(f, 0, 64, CCMM_DMA_FROM_DEVICE);
	only(f, "dma_cacheline_overlap", 2);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, a, 64, CCMM_DMA_FROM_DEVICE, 0), 0);
	whole(f);
}

/*
 * Without an IOMMU one page mapped twice gives one DMA address twice. An
 * unmap whose arguments fit neither exactly finds nothing in dma-debug
 * (several matches, no perfect fit: __hash_bucket_find returns NULL), which
 * reports "has not allocated"; the unmap itself still undoes the closest.
 */
static void test_unmap_ambiguous(void **state)
{
	struct fx *f = *state;
	uint64_t a = map(f, 0, 64, CCMM_DMA_TO_DEVICE), b = map(f, 0, 128, CCMM_DMA_TO_DEVICE);

	assert_int_equal(a, b);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, a, 96, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	only(f, "dma_unmap_unmapped", 1);
	assert_non_null(strstr(last_event(f->m).msg, "none was made with these arguments"));
	assert_int_equal(ccmm_dma_live(f->d), 1);
	/* an exact fit is found among twins */
	assert_int_equal(ccmm_dma_map_page(&f->ctx, f->d, f->buf, 64, CCMM_DMA_TO_DEVICE, 0, &b), 0);
	ccmm_dma_mapping_error(f->d, b);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, b, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, b, ccmm_dma_live(f->d) ? f->d->rec[0].size : 0,
					     CCMM_DMA_TO_DEVICE, 0),
			 0);
	only(f, "dma_unmap_unmapped", 1);
	whole(f);
}

/* The CPU touches a buffer the device owns; syncs hand ownership back and forth. */
static void test_cpu_unsynced(void **state)
{
	struct fx *f = *state;
	uint64_t from = map(f, 0, 4096, CCMM_DMA_FROM_DEVICE), to = map(f, 8192, 4096, CCMM_DMA_TO_DEVICE);

	/* FROM_DEVICE: reading before sync_for_cpu sees stale data */
	assert_int_equal(ccmm_dma_cpu_access_check(&f->ctx, f->buf + 16, 8, CCMM_READ), 1);
	only(f, "dma_cpu_unsynced", 1);
	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, from, 4096, CCMM_DMA_FROM_DEVICE), 0);
	assert_int_equal(ccmm_dma_cpu_access_check(&f->ctx, f->buf + 16, 8, CCMM_READ), 0);
	assert_int_equal(ccmm_dma_sync_single_for_device(&f->ctx, f->d, from, 4096, CCMM_DMA_FROM_DEVICE), 0);
	assert_int_equal(ccmm_dma_cpu_access_check(&f->ctx, f->buf, 4096, CCMM_READ), 1);
	/* TO_DEVICE: reading is fine, writing after the map is not */
	assert_int_equal(ccmm_dma_cpu_access_check(&f->ctx, f->buf + 8192, 8, CCMM_READ), 0);
	assert_int_equal(ccmm_dma_cpu_access_check(&f->ctx, f->buf + 8192, 8, CCMM_WRITE), 1);
	/* outside every mapping */
	assert_int_equal(ccmm_dma_cpu_access_check(&f->ctx, f->buf + 4096, 4096, CCMM_WRITE), 0);
	only(f, "dma_cpu_unsynced", 3);
	ccmm_dma_unmap_page(&f->ctx, f->d, from, 4096, CCMM_DMA_FROM_DEVICE, 0);
	ccmm_dma_unmap_page(&f->ctx, f->d, to, 4096, CCMM_DMA_TO_DEVICE, 0);
	whole(f);
}

/* The device touches a mapping the CPU owns. */
static void test_device_unsynced(void **state)
{
	struct fx *f = *state;
	uint64_t dma = map(f, 0, 64, CCMM_DMA_BIDIRECTIONAL);
	struct ccmm_result r;
	char got[8];

	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma, 64, CCMM_DMA_BIDIRECTIONAL), 0);
	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_READ, dma, got, 8, &r), 0);
	only(f, "dma_device_unsynced", 1);
	assert_int_equal(ccmm_dma_sync_single_for_device(&f->ctx, f->d, dma, 64, CCMM_DMA_BIDIRECTIONAL), 0);
	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_READ, dma, got, 8, &r), 0);
	only(f, "dma_device_unsynced", 1);
	ccmm_dma_unmap_page(&f->ctx, f->d, dma, 64, CCMM_DMA_BIDIRECTIONAL, 0);
	whole(f);
}

/*
 * The device outside every live mapping: a freed bounce slot (shared
 * memory: the access happens), and the private buffer itself (the checker
 * adds dma_private and blocks it).
 */
static void test_device_unmapped(void **state)
{
	struct fx *f = *state;
	uint64_t dma = map(f, 0, 64, CCMM_DMA_FROM_DEVICE);
	struct ccmm_result r;

	ccmm_dma_unmap_page(&f->ctx, f->d, dma, 64, CCMM_DMA_FROM_DEVICE, 0);
	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_WRITE, dma, "late", 4, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	only(f, "dma_device_unmapped", 1);
	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_READ, f->buf, (char[8]){ 0 }, 8, &r), 0);
	assert_int_equal(r.outcome, CCMM_BLOCKED);
	assert_int_equal(nviol(f->m, "dma_device_unmapped"), 2);
	assert_int_equal(nviol(f->m, "dma_private"), 1);
	/* a device access inside a live mapping is not reported */
	dma = map(f, 0, 64, CCMM_DMA_FROM_DEVICE);
	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_WRITE, dma + 60, "ok!!", 4, &r), 0);
	assert_int_equal(ccmm_violations_count(f->m, NULL, CCMM_ANY_ACTOR), 3);
	ccmm_dma_unmap_page(&f->ctx, f->d, dma, 64, CCMM_DMA_FROM_DEVICE, 0);
	whole(f);
}

/* Mappings still live when the device goes away: one event, -EBUSY; they stay (leaked). */
static void test_live_at_remove(void **state)
{
	struct fx *f = *state;
	uint64_t cdma, cva;

	map(f, 0, 64, CCMM_DMA_TO_DEVICE);
	map(f, 4096, 64, CCMM_DMA_FROM_DEVICE);
	assert_int_equal(ccmm_dma_alloc_coherent(&f->ctx, f->d, 4096, &cdma, &cva), 0);
	assert_int_equal(ccmm_dma_remove(&f->ctx, f->d), -EBUSY);
	only(f, "dma_live_at_remove", 1);
	assert_non_null(strstr(last_event(f->m).msg, "2 streaming mapping(s), 1 coherent buffer(s)"));
	assert_int_equal(ccmm_dma_live(f->d), 3);
	assert_int_equal(ccmm_swiotlb_is_valid(f->mem), 0);
	/* a clean remove reports nothing */
	{
		struct ccmm_dma_dev *nic = ccmm_dma_dev(f->m, 1);
		struct ccmm_dma_probe_opts o = { .no_filter = true };

		assert_int_equal(ccmm_dma_probe(&f->ctx, nic, &o), 0);
		assert_int_equal(ccmm_dma_remove(&f->ctx, nic), 0);
		only(f, "dma_live_at_remove", 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unmap_never_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_double_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_check_unmap_independent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_mapping_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_coherent_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_error_unchecked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_write_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_coherent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sg_nents_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sg_no_map_error_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sg_segment, setup_host, teardown),
		cmocka_unit_test_setup_teardown(test_map_vmalloc_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_stack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_kernel_text_x86, setup, teardown),
		cmocka_unit_test(test_map_kernel_image_and_stack_ppc64),
		cmocka_unit_test_setup_teardown(test_cacheline_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_ambiguous, setup_host, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_unsynced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_unsynced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_at_remove, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
