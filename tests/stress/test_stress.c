// SPDX-License-Identifier: MIT
/*
 * Stress: real threads on one machine. Allocation, conversions (direct-map
 * splits and protection changes under the page-table lock), user mappings,
 * kernel and device accesses, all at once; then the invariants: no
 * violation that was not provoked, every page back in the allocator, page
 * tables consistent, every provoked violation counted exactly once. Runs
 * under ThreadSanitizer too (suite 'stress').
 */
#include "helpers.h"

#include <pthread.h>

#include "cc/cc.h"

#define THREADS 4
#define ITERS 150

static struct ccmm_machine *m;

struct worker {
	pthread_t tid;
	int id;
	int failures;
	int last_step; /* the step that failed last, for the failure message */
	struct ccmm_ctx ctx;
};

static void *clean_worker(void *arg)
{
	struct worker *w = arg;
	struct ccmm_mm *mm;
	uint8_t buf[256], back[256];

	ccmm_ctx_init(&w->ctx, m, w->id, "worker");
	if (ccmm_mm_create(m, CCMM_INIT_USER, "worker", &mm)) {
		{ w->failures++; w->last_step = 1; }
		return NULL;
	}
	memset(buf, 0x40 + w->id, sizeof(buf));
	for (int i = 0; i < ITERS; i++) {
		unsigned order = (unsigned)(i % 3);
		uint64_t pa, va, n = 1u << order;
		struct ccmm_result r;
		struct ccmm_vma *vma;

		if (ccmm_alloc_pages(&w->ctx, -1, order, 0, &pa)) {
			{ w->failures++; w->last_step = 2; }
			continue;
		}
		va = ccmm_phys_to_virt(pa);
		/* private: write and read back through the direct map */
		if (ccmm_kernel_access(&w->ctx, CCMM_WRITE, va, buf, sizeof(buf), &r) || r.outcome != CCMM_OK)
			{ w->failures++; w->last_step = 3; }
		/* shared: the device reads what the kernel wrote after the conversion */
		if (ccmm_set_memory_decrypted(&w->ctx, va, n))
			{ w->failures++; w->last_step = 4; }
		if (ccmm_kernel_access(&w->ctx, CCMM_WRITE, va, buf, sizeof(buf), &r) || r.outcome != CCMM_OK)
			{ w->failures++; w->last_step = 5; }
		memset(back, 0, sizeof(back));
		if (ccmm_dma_access(&w->ctx, 0, NULL, CCMM_READ, pa, back, sizeof(back), &r) || r.outcome != CCMM_OK ||
		    memcmp(back, buf, sizeof(back)))
			{ w->failures++; w->last_step = 6; }
		if (ccmm_set_memory_encrypted(&w->ctx, va, n))
			{ w->failures++; w->last_step = 7; }
		/* a private user mapping of the page, touched, unmapped */
		if (ccmm_mmap(&w->ctx, mm, 0, n << 12, CCMM_VM_READ | CCMM_VM_WRITE, CCMM_PTE_RW, NULL, NULL, &vma) ||
		    ccmm_remap_pfn_range(&w->ctx, vma, vma->start, pa, n << 12, 4096, CCMM_PTE_RW) ||
		    ccmm_mm_access(&w->ctx, mm, CCMM_WRITE, vma->start, buf, sizeof(buf), &r) || r.outcome != CCMM_OK ||
		    ccmm_munmap(&w->ctx, mm, vma->start, n << 12))
			{ w->failures++; w->last_step = 8; }
		if (ccmm_free_pages(&w->ctx, pa, order))
			{ w->failures++; w->last_step = 9; }
	}
	ccmm_mm_destroy(&w->ctx, mm);
	return NULL;
}

static void test_concurrent_clean_flows(void **state)
{
	struct worker w[THREADS];
	uint64_t free_before;

	m = test_boot("mode=tdx");
	free_before = ccmm_node_free_pages(m, -1);
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].id = i;
		assert_int_equal(pthread_create(&w[i].tid, NULL, clean_worker, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(w[i].tid, NULL);
		if (w[i].failures)
			fail_msg("worker %d: %d failures, the last at step %d", i, w[i].failures, w[i].last_step);
		assert_int_equal(w[i].ctx.ctr[CCMM_CTR_to_shared], w[i].ctx.ctr[CCMM_CTR_to_private]);
	}
	assert_int_equal(ccmm_violations_count(m, NULL, CCMM_ANY_ACTOR), 0);
	assert_int_equal(ccmm_node_free_pages(m, -1), free_before);
	assert_int_equal(ccmm_pgt_is_valid(ccmm_kernel(m)->init_mm), 0);
	ccmm_shutdown(m);
}

struct hazard {
	pthread_t tid;
	int id;
	uint64_t pa;
	struct ccmm_mm *vmm;
	uint64_t hva;
	int done;
};

/* The VMM writes private guest pages while the guest reads others: each write is one violation. */
static void *host_writer(void *arg)
{
	struct hazard *h = arg;
	struct ccmm_ctx ctx;
	struct ccmm_result r;

	ccmm_ctx_init(&ctx, m, h->id, "vmm");
	for (int i = 0; i < ITERS; i++) {
		if (!ccmm_mm_access(&ctx, h->vmm, CCMM_WRITE, h->hva + (uint64_t)(i % 16) * 4096, "x", 1, &r) &&
		    r.violations == 1)
			h->done++;
	}
	return NULL;
}

static void *guest_reader(void *arg)
{
	struct hazard *h = arg;
	struct ccmm_ctx ctx;
	struct ccmm_result r;
	char b[8];

	ccmm_ctx_init(&ctx, m, h->id, "guest");
	for (int i = 0; i < ITERS; i++)
		if (!ccmm_kernel_access(&ctx, CCMM_READ, ccmm_phys_to_virt(h->pa + (uint64_t)(i % 16) * 4096) + 2048, b, 8, &r))
			h->done++;
	return NULL;
}

static void test_concurrent_violations(void **state)
{
	struct hazard h[4];
	struct ccmm_ctx ctx;
	struct ccmm_vma *vma;
	uint64_t pa;

	m = test_boot("mode=tdx");
	ccmm_ctx_init(&ctx, m, 9, "setup");
	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 4, 0, &pa), 0);
	memset(h, 0, sizeof(h));
	assert_int_equal(ccmm_mm_create(m, CCMM_INIT_HOST, "qemu", &h[0].vmm), 0);
	assert_int_equal(ccmm_mmap(&ctx, h[0].vmm, 0, 16 * 4096, CCMM_VM_READ | CCMM_VM_WRITE, CCMM_PTE_RW, NULL, NULL, &vma), 0);
	assert_int_equal(ccmm_remap_pfn_range(&ctx, vma, vma->start, pa, 16 * 4096, 4096, CCMM_PTE_RW), 0);
	for (int i = 0; i < 4; i++) {
		h[i].id = i;
		h[i].pa = pa;
		h[i].vmm = h[0].vmm;
		h[i].hva = vma->start;
		assert_int_equal(pthread_create(&h[i].tid, NULL, i < 2 ? host_writer : guest_reader, &h[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(h[i].tid, NULL);
	/* every host write is a host_write_private violation, counted once, by its actor */
	assert_int_equal(h[0].done + h[1].done, 2 * ITERS);
	assert_int_equal(nviol(m, "host_write_private"), 2 * ITERS);
	assert_int_equal(ccmm_violations_count(m, ccmm_rule_find("host_write_private"), 0), ITERS);
	assert_int_equal(ccmm_violations_count(m, ccmm_rule_find("host_write_private"), 1), ITERS);
	/* the guest reads offset 2048, away from the poisoned first line: no #MC */
	assert_int_equal(nviol(m, "poison_consumed"), 0);
	assert_int_equal(ccmm_events_count(m), 2 * ITERS);
	ccmm_mm_destroy(&ctx, h[0].vmm);
	ccmm_shutdown(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_clean_flows),
		cmocka_unit_test(test_concurrent_violations),
	};

	return cmocka_run_group_tests_name("stress", tests, NULL, NULL);
}
