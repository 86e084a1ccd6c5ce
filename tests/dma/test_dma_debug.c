// SPDX-License-Identifier: MIT
/*
 * The DMA API's misuse checks, one case per check: the violation recorded
 * (exactly one, of that rule), the errno returned, and that the state stays
 * whole (no live record left behind, SWIOTLB consistent and empty). All in
 * a TDX guest, where every streaming mapping bounces.
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

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	f->m = test_boot("mode=tdx\nswiotlb_size=1m");
	ccmm_ctx_init(&f->ctx, f->m, 0, "drv");
	f->d = ccmm_dma_dev(f->m, 0);
	f->mem = ccmm_swiotlb_default(f->m);
	assert_int_equal(ccmm_dma_probe(&f->ctx, f->d, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f->ctx, f->d, 64), 0);
	assert_int_equal(ccmm_alloc_pages(&f->ctx, 0, 2, 0, &f->buf), 0);
	*state = f;
	return 0;
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
	assert_int_equal(ccmm_swiotlb_is_valid(f->mem), 0);
	ccmm_swiotlb_stats(f->mem, &s);
	assert_int_equal(s.io_tlb_used, 0);
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

/* A wrong direction is reported; the copy back follows the direction the mapping was made with. */
static void test_unmap_dir(void **state)
{
	struct fx *f = *state;
	uint64_t dma = map(f, 0, 8, CCMM_DMA_FROM_DEVICE);
	struct ccmm_result r;
	char got[8];

	assert_int_equal(ccmm_dma_device_access(&f->ctx, f->d, CCMM_WRITE, dma, "written!", 8, &r), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, dma, 8, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	only(f, "dma_unmap_dir", 1);
	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_READ, ccmm_phys_to_virt(f->buf), got, 8, &r), 0);
	assert_memory_equal(got, "written!", 8);
	whole(f);
}

/* The wrong function: unmap_single of a page mapping, free_coherent of a streaming one, unmap of a coherent one. */
static void test_unmap_type(void **state)
{
	struct fx *f = *state;
	uint64_t dma = map(f, 0, 64, CCMM_DMA_TO_DEVICE), cdma, cva;

	assert_int_equal(ccmm_dma_unmap_single(&f->ctx, f->d, dma, 64, CCMM_DMA_TO_DEVICE, 0), -EINVAL);
	only(f, "dma_unmap_type", 1);
	whole(f);
	dma = map(f, 0, 64, CCMM_DMA_TO_DEVICE);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 64, ccmm_phys_to_virt(f->buf), dma), -EINVAL);
	only(f, "dma_unmap_type", 2);
	whole(f);
	assert_int_equal(ccmm_dma_alloc_coherent(&f->ctx, f->d, 4096, &cdma, &cva), 0);
	assert_int_equal(ccmm_dma_unmap_page(&f->ctx, f->d, cdma, 4096, CCMM_DMA_BIDIRECTIONAL, 0), -EINVAL);
	only(f, "dma_unmap_type", 3);
	assert_int_equal(ccmm_dma_live(f->d), 0);
}

/* free_coherent with another size or CPU address. */
static void test_free_coherent_mismatch(void **state)
{
	struct fx *f = *state;
	uint64_t dma, va;

	assert_int_equal(ccmm_dma_alloc_coherent(&f->ctx, f->d, 8192, &dma, &va), 0);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 4096, va, dma), -EINVAL);
	only(f, "dma_unmap_size", 1);
	assert_int_equal(ccmm_dma_alloc_coherent(&f->ctx, f->d, 8192, &dma, &va), 0);
	assert_int_equal(ccmm_dma_free_coherent(&f->ctx, f->d, 8192, va + 4096, dma), -EINVAL);
	only(f, "dma_unmap_size", 2);
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

/* A sync in the wrong direction copies nothing. */
static void test_sync_dir(void **state)
{
	struct fx *f = *state;
	struct ccmm_result r;
	uint64_t dma;
	char got[8];

	ccmm_kernel_access(&f->ctx, CCMM_WRITE, ccmm_phys_to_virt(f->buf), "original", 8, &r);
	dma = map(f, 0, 8, CCMM_DMA_TO_DEVICE);
	ccmm_dma_device_access(&f->ctx, f->d, CCMM_WRITE, dma, "garbage!", 8, &r); /* a buggy device */
	assert_int_equal(ccmm_dma_sync_single_for_cpu(&f->ctx, f->d, dma, 8, CCMM_DMA_FROM_DEVICE), -EINVAL);
	only(f, "dma_sync_dir", 1);
	ccmm_kernel_access(&f->ctx, CCMM_READ, ccmm_phys_to_virt(f->buf), got, 8, &r);
	assert_memory_equal(got, "original", 8);
	ccmm_dma_unmap_page(&f->ctx, f->d, dma, 8, CCMM_DMA_TO_DEVICE, 0);
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
		cmocka_unit_test_setup_teardown(test_unmap_type, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_coherent_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_error_unchecked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cpu_unsynced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_unsynced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_at_remove, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
