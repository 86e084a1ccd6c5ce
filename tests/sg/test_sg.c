// SPDX-License-Identifier: MIT
/* sg_table and the physical-range list: coalescing, groups, conversions, sizes. */
#include "helpers.h"

#include "sg/sg.h"

static const struct ccmm_phyr_meta ram = { -1, false, true, CCMM_CACHE_WB, true, false };
static const struct ccmm_phyr_meta bar = { 1, true, false, CCMM_CACHE_WC, true, false };

static void test_sg_from_pages(void **state)
{
	uint64_t pas[] = { 0x1000, 0x2000, 0x3000, 0x9000, 0xa000, 0x20000 };
	struct ccmm_sg_table t;

	assert_int_equal(ccmm_sg_alloc_table_from_pages(&t, pas, 6, 0x100, 6 * 4096 - 0x200, 0), 0);
	assert_int_equal(t.orig_nents, 3);
	assert_int_equal(ccmm_sg_phys(&t.sgl[0]), 0x1100);
	assert_int_equal(t.sgl[0].length, 3 * 4096 - 0x100);
	assert_int_equal(t.sgl[1].page_link, 0x9000);
	assert_int_equal(t.sgl[1].length, 8192);
	assert_int_equal(t.sgl[2].length, 4096 - 0x100);
	assert_int_equal(ccmm_sg_table_bytes(&t), sizeof(t) + 3 * 32);
	ccmm_sg_free_table(&t);
	/* max_segment splits a contiguous run */
	assert_int_equal(ccmm_sg_alloc_table_from_pages(&t, pas, 3, 0, 3 * 4096, 8192), 0);
	assert_int_equal(t.orig_nents, 2);
	ccmm_sg_free_table(&t);
	assert_int_equal(ccmm_sg_alloc_table_from_pages(&t, pas, 1, 0, 8192, 0), -EINVAL);
}

static void test_phyr_builder(void **state)
{
	struct ccmm_phyr p;
	size_t gi, ri, n = 0;

	ccmm_phyr_init(&p);
	/* contiguous appends coalesce */
	for (int i = 0; i < 512; i++)
		assert_int_equal(ccmm_phyr_append(&p, &ram, 0x100000 + (uint64_t)i * 4096, 4096), 0);
	assert_int_equal(p.nr, 1);
	assert_int_equal(p.r[0].len, 2 << 20);
	/* a gap starts a range; new metadata starts a group */
	assert_int_equal(ccmm_phyr_append(&p, &ram, 0x800000, 4096), 0);
	assert_int_equal(ccmm_phyr_append(&p, &bar, 0x800001000ULL, 4096), 0);
	assert_int_equal(ccmm_phyr_append(&p, &bar, 0x800002000ULL, 4096), 0);
	assert_int_equal(p.nr, 3);
	assert_int_equal(p.nr_groups, 2);
	assert_true(ccmm_phyr_has_p2p(&p));
	ccmm_phyr_for_each_range(&p, gi, ri) n++;
	assert_int_equal(n, 3);
	assert_int_equal(p.total, (2 << 20) + 3 * 4096);
	assert_int_equal(ccmm_phyr_append(&p, &ram, 0, 0), -EINVAL);
	ccmm_phyr_free(&p);
}

/* The page-array builder gives exactly what appending page by page gives. */
static void test_phyr_append_pages(void **state)
{
	uint64_t pas[300];
	struct ccmm_phyr a, b;
	struct ccmm_rng r;

	ccmm_rng_seed(&r, 7, 0);
	for (int round = 0; round < 50; round++) {
		uint64_t pa = 0x100000;

		/* runs of 1-8 contiguous pages with gaps between them */
		for (size_t i = 0; i < 300; i++) {
			pas[i] = pa;
			pa += 4096 + (ccmm_rng_next(&r) % 4 ? 0 : 4096 * (1 + ccmm_rng_next(&r) % 64));
		}
		ccmm_phyr_init(&a);
		ccmm_phyr_init(&b);
		/* a previous range the first page extends (round even) or not */
		assert_int_equal(ccmm_phyr_append(&a, &ram, pas[0] - (round & 1 ? 8192 : 4096), 4096), 0);
		assert_int_equal(ccmm_phyr_append(&b, &ram, pas[0] - (round & 1 ? 8192 : 4096), 4096), 0);
		for (size_t i = 0; i < 300; i++)
			assert_int_equal(ccmm_phyr_append(&a, &ram, pas[i], 4096), 0);
		assert_int_equal(ccmm_phyr_append_pages(&b, &ram, pas, 300, 4096), 0);
		assert_int_equal(a.nr, b.nr);
		assert_int_equal(a.nr_groups, 1);
		assert_int_equal(b.nr_groups, 1);
		assert_int_equal(a.g[0].count, b.g[0].count);
		assert_int_equal(a.total, b.total);
		assert_memory_equal(a.r, b.r, a.nr * sizeof(*a.r));
		/* other metadata: a new group, whose first range does not merge with the last one */
		assert_int_equal(ccmm_phyr_append_pages(&b, &bar, &pa, 1, 4096), 0);
		assert_int_equal(b.nr_groups, 2);
		assert_int_equal(b.nr, a.nr + 1);
		ccmm_phyr_free(&a);
		ccmm_phyr_free(&b);
	}
	ccmm_phyr_init(&a);
	assert_int_equal(ccmm_phyr_append_pages(&a, &ram, pas, 0, 4096), -EINVAL);
	assert_int_equal(ccmm_phyr_append_pages(&a, &ram, pas, 1, 0), -EINVAL);
	pas[0] = UINT64_MAX - 100;
	assert_int_equal(ccmm_phyr_append_pages(&a, &ram, pas, 1, 4096), -EINVAL);
	assert_int_equal(a.nr, 0);
	ccmm_phyr_free(&a);
}

static void test_phyr_sgt_round_trip(void **state)
{
	struct ccmm_phyr p, q;
	struct ccmm_sg_table t;
	struct ccmm_phyr_meta priv = ram;

	ccmm_phyr_init(&p);
	assert_int_equal(ccmm_phyr_append(&p, &ram, 0x10000, 3 << 20), 0);
	assert_int_equal(ccmm_phyr_append(&p, &bar, 0x800000000ULL, 8192), 0);
	assert_int_equal(ccmm_phyr_to_sgt(&p, &t, 1 << 20), 0);
	assert_int_equal(t.orig_nents, 4); /* 3 MiB split at 1 MiB, plus the BAR range */
	assert_int_equal(ccmm_phyr_from_sgt(&q, &t, &ram), 0);
	assert_int_equal(q.nr, 2); /* the RAM pieces coalesce back; the metadata is gone */
	assert_int_equal(q.nr_groups, 1);
	assert_false(ccmm_phyr_has_p2p(&q));
	ccmm_phyr_free(&q);
	ccmm_sg_free_table(&t);
	/* private interconnect: no sg_table for a legacy importer */
	priv.private_interconnect = true;
	assert_int_equal(ccmm_phyr_append(&p, &priv, 0x900000000ULL, 4096), 0);
	assert_int_equal(ccmm_phyr_to_sgt(&p, &t, 0), -EOPNOTSUPP);
	ccmm_phyr_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sg_from_pages),
		cmocka_unit_test(test_phyr_builder),
		cmocka_unit_test(test_phyr_append_pages),
		cmocka_unit_test(test_phyr_sgt_round_trip),
	};

	return cmocka_run_group_tests_name("sg", tests, NULL, NULL);
}
