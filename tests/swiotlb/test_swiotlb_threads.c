// SPDX-License-Identifier: MIT
/*
 * SWIOTLB under real threads: four CPUs map, bounce and unmap concurrently
 * in a small pool of two areas (so they share areas and fall back into each
 * other's). Every round trip must carry its own bytes, and the pool's
 * invariants must hold at the end. Runs under ThreadSanitizer (stress).
 */
#include "helpers.h"

#include <pthread.h>

#include "swiotlb/swiotlb.h"

#define THREADS 4
#define ROUNDS 300

struct worker {
	struct ccmm_machine *m;
	struct ccmm_io_tlb_mem *mem;
	int id;
	int errors;
	uint64_t full;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct ccmm_ctx ctx;
	struct ccmm_swiotlb_dev dev = { .seg_boundary_mask = UINT32_MAX };
	uint64_t buf;
	uint8_t out[8192], in[8192];
	struct ccmm_result r;

	ccmm_ctx_init(&ctx, w->m, w->id, "w");
	dev.cpu = ccmm_swiotlb_ctx_cpu(&ctx);
	if (ccmm_alloc_pages(&ctx, 0, 1, 0, &buf))
		return (void *)1;
	for (int i = 0; i < ROUNDS; i++) {
		size_t len = 1 + (size_t)((i * 997 + w->id * 131) % 8192);
		uint64_t tlb;
		int ret;

		memset(out, 'a' + w->id, len);
		out[0] = (uint8_t)i;
		ccmm_kernel_access(&ctx, CCMM_WRITE, ccmm_phys_to_virt(buf), out, len, &r);
		ret = ccmm_swiotlb_tbl_map_single(&ctx, w->mem, &dev, buf, len, 0, CCMM_DMA_BIDIRECTIONAL, 0, &tlb);
		if (ret == -ENOMEM) {
			w->full++;
			continue;
		}
		if (ret) {
			w->errors++;
			continue;
		}
		/* the device sees our bytes and answers with their complement */
		ccmm_dma_access(&ctx, 0, NULL, CCMM_READ, tlb, in, len, &r);
		if (memcmp(in, out, len))
			w->errors++;
		for (size_t k = 0; k < len; k++)
			in[k] = (uint8_t)~in[k];
		ccmm_dma_access(&ctx, 0, NULL, CCMM_WRITE, tlb, in, len, &r);
		if (ccmm_swiotlb_tbl_unmap_single(&ctx, w->mem, &dev, tlb, len, CCMM_DMA_BIDIRECTIONAL, 0))
			w->errors++;
		ccmm_kernel_access(&ctx, CCMM_READ, ccmm_phys_to_virt(buf), out, len, &r);
		if (memcmp(in, out, len))
			w->errors++;
	}
	ccmm_free_pages(&ctx, buf, 1);
	return NULL;
}

static void test_concurrent_bounces(void **state)
{
	struct ccmm_machine *m = test_boot("mode=tdx\nswiotlb_size=256k\nswiotlb_areas=2");
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(m);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	struct ccmm_swiotlb_stats s;

	assert_non_null(mem);
	assert_int_equal(mem->nareas, 2);
	for (int i = 0; i < THREADS; i++) {
		w[i] = (struct worker){ m, mem, i, 0, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		void *rv;

		pthread_join(t[i], &rv);
		assert_null(rv);
		assert_int_equal(w[i].errors, 0);
	}
	assert_int_equal(ccmm_swiotlb_is_valid(mem), 0);
	ccmm_swiotlb_stats(mem, &s);
	assert_int_equal(s.io_tlb_used, 0);
	assert_int_equal(s.maps, s.unmaps);
	assert_int_equal(s.maps + s.full, THREADS * ROUNDS);
	assert_true(s.io_tlb_used_hiwater >= 1 && s.io_tlb_used_hiwater <= 128);
	ccmm_shutdown(m);
}

/*
 * One area, two CPUs: each keeps a one-slot mapping live and syncs it for
 * the CPU (a lock-free look at its own slots) while the other claims and
 * releases the neighbouring slots, which share the used-slot bitmap's
 * words with it. ThreadSanitizer holds the look and the claims apart.
 */
struct neighbour {
	struct ccmm_machine *m;
	struct ccmm_io_tlb_mem *mem;
	int id, errors;
};

static void *neighbour_work(void *arg)
{
	struct neighbour *w = arg;
	struct ccmm_swiotlb_dev dev = { .seg_boundary_mask = UINT32_MAX, .cpu = w->id };
	struct ccmm_ctx ctx;
	uint64_t buf;

	ccmm_ctx_init(&ctx, w->m, w->id, "n");
	if (ccmm_alloc_pages(&ctx, 0, 0, 0, &buf))
		return (void *)1;
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t tlb;

		if (ccmm_swiotlb_tbl_map_single(&ctx, w->mem, &dev, buf, 64, 0, CCMM_DMA_FROM_DEVICE, 0, &tlb)) {
			w->errors++;
			continue;
		}
		for (int k = 0; k < 4; k++)
			if (ccmm_swiotlb_sync_single_for_cpu(&ctx, w->mem, &dev, tlb, 64, CCMM_DMA_FROM_DEVICE))
				w->errors++;
		if (ccmm_swiotlb_tbl_unmap_single(&ctx, w->mem, &dev, tlb, 64, CCMM_DMA_FROM_DEVICE, 0))
			w->errors++;
	}
	ccmm_free_pages(&ctx, buf, 0);
	return NULL;
}

static void test_neighbours_in_one_word(void **state)
{
	struct ccmm_machine *m = test_boot("mode=tdx\nswiotlb_size=256k\nswiotlb_areas=1");
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(m);
	struct neighbour w[2];
	pthread_t t[2];

	(void)state;
	assert_non_null(mem);
	assert_int_equal(mem->nareas, 1);
	for (int i = 0; i < 2; i++) {
		w[i] = (struct neighbour){ m, mem, i, 0 };
		assert_int_equal(pthread_create(&t[i], NULL, neighbour_work, &w[i]), 0);
	}
	for (int i = 0; i < 2; i++) {
		void *rv;

		pthread_join(t[i], &rv);
		assert_null(rv);
		assert_int_equal(w[i].errors, 0);
	}
	assert_int_equal(ccmm_swiotlb_is_valid(mem), 0);
	assert_int_equal(ccmm_swiotlb_area_used(mem, 0), 0);
	ccmm_shutdown(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_bounces),
		cmocka_unit_test(test_neighbours_in_one_word),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
