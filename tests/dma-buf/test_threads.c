// SPDX-License-Identifier: MIT
/*
 * Move and revoke sequences with importers on real threads (also run
 * under ThreadSanitizer): a GPU BO moving between VRAM and TT while an
 * RDMA NIC (sg_table), a phyr importer and an iommufd-style importer
 * (IOVAs in a real I/O page table) keep reading it; a VFIO BAR revoked and
 * restored while importers keep reading. Importers that obey move_notify
 * never see stale data and cause no violation.
 */
#include "helpers.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "dma-buf/dma-buf.h"

#define KiB 1024ULL
#define IOVA_BASE 0x100000000ULL

static struct ccmm_machine *boot(void)
{
	const char *text = "[platform]\ncpus=4\nmode=none\n[node:0]\nmem=256m\n"
			   "[device:gpu0]\nclass=gpu\ndma_mask=48\np2p_group=0\nbar0=1m pref\n"
			   "[device:rnic0]\nclass=nic\ndma_mask=64\np2p_group=0\nats=yes\nbar0=64k\n"
			   "[device:accel0]\nclass=accel\ndma_mask=64\np2p_group=0\ntdisp=yes\nbar0=64k\n";
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_machine *m;

	if (ccmm_platform_parse("threads.ini", text, &p, &err))
		fail_msg("platform: %s", err.msg);
	assert_int_equal(ccmm_boot(p, 5, &m), 0);
	return m;
}

enum imp_kind { IMP_SGT, IMP_PHYR, IMP_IOMMUFD };

struct imp {
	struct ccmm_machine *m;
	struct ccmm_dma_buf *b;
	enum imp_kind kind;
	int dev;
	struct ccmm_dma_buf_attachment *attach;
	struct ccmm_dma_buf_map *map;       /* SGT / PHYR */
	struct ccmm_pgtable *iommu;         /* IOMMUFD: IOVA -> the buffer's pages */
	bool mapped;
	unsigned loops;
	uint8_t pat;
	atomic_int notified;
	unsigned reads, refused, maps;
	atomic_bool *stop;
	atomic_int *started;                /* importers that made their first read */
};

/* iommufd: tear the IOVAs down; the device faults on them until they are mapped again. */
static void iommu_unmap(struct ccmm_ctx *ctx, struct imp *i)
{
	if (i->mapped)
		ccmm_pgt_unmap(ctx, i->iommu, IOVA_BASE, i->b->size, true);
	i->mapped = false;
	ccmm_dma_buf_put_pfns(ctx, i->attach);
}

static void move_notify(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct imp *i = attach->importer_priv;

	atomic_fetch_add(&i->notified, 1);
	if (i->kind == IMP_IOMMUFD) {
		iommu_unmap(ctx, i);
	} else if (i->map) {
		ccmm_dma_buf_unmap_attachment(ctx, attach, i->map);
		i->map = NULL;
	}
}

static const struct ccmm_dma_buf_attach_ops ops = { true, move_notify };

/* With the reservation held: make sure there is a current mapping. 0, or -ENODEV (revoked). */
static int ensure_mapped(struct ccmm_ctx *ctx, struct imp *i)
{
	if (i->kind == IMP_IOMMUFD) {
		struct ccmm_phyr p;
		uint64_t iova = IOVA_BASE;
		size_t gi, ri;
		int ret;

		if (i->mapped)
			return 0;
		ret = ccmm_dma_buf_get_phyr(ctx, i->attach, &p);
		if (ret)
			return ret;
		ccmm_phyr_for_each_range(&p, gi, ri)
		{
			TCHECK(ccmm_pgt_map(ctx, i->iommu, iova, p.r[ri].pa, p.r[ri].len, CCMM_PAGE_SIZE, CCMM_PTE_RW) == 0);
			iova += p.r[ri].len;
		}
		ccmm_phyr_free(&p);
		i->mapped = true;
		i->maps++;
		return 0;
	}
	if (i->map && ccmm_dma_buf_map_valid(i->map))
		return 0;
	i->maps++;
	return ccmm_dma_buf_map_attachment(ctx, i->attach, CCMM_DMA_BIDIRECTIONAL, &i->map);
}

static void *importer_thread(void *arg)
{
	struct imp *i = arg;
	struct ccmm_ctx ctx;
	uint8_t buf[256];

	ccmm_ctx_init(&ctx, i->m, 10 + i->kind, "importer");
	for (unsigned n = 0;; n++) {
		uint64_t off = ((uint64_t)n * 4099) % (i->b->size - sizeof(buf));
		/* one more pass after the exporter is done, so every importer reads after its last change */
		bool last = n >= i->loops && atomic_load(i->stop);
		struct ccmm_result r;
		int ret;

		TCHECK(ccmm_dma_resv_lock(&ctx, i->b->resv, NULL) == 0);
		ret = ensure_mapped(&ctx, i);
		if (ret == -ENODEV) {
			/* revoked: back off a little, as a driver whose queue errored out would */
			struct timespec ts = { 0, 20000L };

			i->refused++;
			ccmm_dma_resv_unlock(&ctx, i->b->resv);
			if (last)
				break;
			nanosleep(&ts, NULL);
			continue;
		} else {
			TCHECK(ret == 0);
			memset(buf, 0, sizeof(buf));
			if (i->kind == IMP_IOMMUFD) {
				TCHECK(ccmm_dma_buf_pfn_check(&ctx, i->attach, "DMA through the IOMMU") == 0);
				TCHECK(ccmm_dma_access(&ctx, i->dev, i->iommu, CCMM_READ, IOVA_BASE + off, buf, sizeof(buf), &r) == 0);
			} else {
				TCHECK(ccmm_dma_buf_map_access(&ctx, i->map, CCMM_READ, off, buf, sizeof(buf), &r) == 0);
			}
			TCHECK(r.outcome == CCMM_OK);
			for (size_t k = 0; k < sizeof(buf); k++)
				if (buf[k] != i->pat) {
					TCHECK(buf[k] == i->pat);
					break;
				}
			if (!i->reads++)
				atomic_fetch_add(i->started, 1);
		}
		ccmm_dma_resv_unlock(&ctx, i->b->resv);
		if (last)
			break;
	}
	return NULL;
}

static void imp_setup(struct imp *i, struct ccmm_machine *m, struct ccmm_dma_buf *b, enum imp_kind kind, int dev,
		      uint8_t pat, unsigned flags, atomic_bool *stop, atomic_int *started)
{
	struct ccmm_ctx ctx;
	struct ccmm_dma_buf_attach_info ai;

	memset(i, 0, sizeof(*i));
	i->m = m;
	i->b = b;
	i->kind = kind;
	i->dev = dev;
	i->pat = pat;
	i->loops = 150;
	i->stop = stop;
	i->started = started;
	ccmm_ctx_init(&ctx, m, 20, "setup");
	ai = (struct ccmm_dma_buf_attach_info){ dev, NULL, &ops, i,
						flags | (kind == IMP_PHYR ? CCMM_IMPORTER_PHYR : 0) |
							(kind == IMP_IOMMUFD ? CCMM_IMPORTER_PFN : 0) };
	if (kind == IMP_IOMMUFD)
		assert_int_equal(ccmm_pgt_create(m, CCMM_PGT_IOMMU, "iommufd", true, &i->iommu), 0);
	assert_int_equal(ccmm_dma_buf_attach(&ctx, b, &ai, &i->attach), 0);
}

static void imp_teardown(struct imp *i)
{
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, i->m, 20, "teardown");
	ccmm_dma_resv_lock(&ctx, i->b->resv, NULL);
	if (i->map)
		ccmm_dma_buf_unmap_attachment(&ctx, i->attach, i->map);
	if (i->iommu)
		iommu_unmap(&ctx, i);
	ccmm_dma_resv_unlock(&ctx, i->b->resv);
	assert_int_equal(ccmm_dma_buf_detach(&ctx, i->attach), 0);
	if (i->iommu)
		ccmm_pgt_destroy(&ctx, i->iommu);
}

struct mover {
	struct ccmm_machine *m;
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_buf *b;
	unsigned n;
	atomic_bool *stop;
	bool revoke;
	atomic_int *started;
	int importers;
};

static void *mover_thread(void *arg)
{
	struct mover *mv = arg;
	struct ccmm_ctx ctx;
	struct timespec ts = { 0, 200000L };

	ccmm_ctx_init(&ctx, mv->m, 1, "exporter");
	while (atomic_load(mv->started) < mv->importers)
		sched_yield(); /* every importer is reading */
	for (unsigned k = 0; k < mv->n; k++) {
		if (mv->revoke) {
			TCHECK(ccmm_dma_buf_revoke(&ctx, mv->b) == 0);
			nanosleep(&ts, NULL);
			TCHECK(ccmm_dma_buf_unrevoke(&ctx, mv->b) == 0);
		} else {
			struct ccmm_ttm_placement pl = {
				1, { { k & 1 ? CCMM_TTM_PL_VRAM : CCMM_TTM_PL_TT, CCMM_CACHE_WC } }
			};

			TCHECK(ccmm_ttm_bo_reserve(&ctx, mv->bo, false, NULL) == 0);
			TCHECK(ccmm_ttm_bo_validate(&ctx, mv->bo, &pl) == 0);
			ccmm_ttm_bo_unreserve(&ctx, mv->bo);
		}
		nanosleep(&ts, NULL);
	}
	atomic_store(mv->stop, true);
	return NULL;
}

static void test_moves_with_importers(void **state)
{
	struct ccmm_machine *m = boot();
	struct ccmm_ctx ctx;
	struct ccmm_ttm_params tp;
	struct ccmm_ttm_device *tdev;
	struct ccmm_ttm_placement vram = { 1, { { CCMM_TTM_PL_VRAM, CCMM_CACHE_WC } } };
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_buf *b;
	struct imp imps[3];
	atomic_bool stop = false;
	atomic_int started = 0;
	struct mover mv;
	pthread_t t[4];
	uint8_t *fill;
	struct ccmm_result r;
	int rnic = ccmm_platform_find_device(m->plat, "rnic0");

	TCHECK_CASE();
	ccmm_ctx_init(&ctx, m, 0, "driver");
	ccmm_ttm_params_default(&tp, ccmm_platform_find_device(m->plat, "gpu0"));
	tp.tt_size = 4 * CCMM_MiB;
	assert_int_equal(ccmm_ttm_device_init(&ctx, &tp, &tdev), 0);
	assert_int_equal(ccmm_ttm_bo_create(&ctx, tdev, 64 * KiB, &vram, "shared", NULL, &bo), 0);
	fill = malloc(bo->size);
	memset(fill, 0xc3, bo->size);
	ccmm_ttm_bo_reserve(&ctx, bo, false, NULL);
	assert_int_equal(ccmm_ttm_bo_gpu_access(&ctx, bo, CCMM_WRITE, 0, fill, bo->size, &r), 0);
	ccmm_ttm_bo_unreserve(&ctx, bo);
	free(fill);
	assert_int_equal(ccmm_dma_buf_export_ttm(&ctx, bo, CCMM_DMA_BUF_COHERENT_WC, &b), 0);
	imp_setup(&imps[0], m, b, IMP_SGT, rnic, 0xc3, 0, &stop, &started);
	imp_setup(&imps[1], m, b, IMP_PHYR, rnic, 0xc3, 0, &stop, &started);
	imp_setup(&imps[2], m, b, IMP_IOMMUFD, rnic, 0xc3, 0, &stop, &started);
	mv = (struct mover){ m, bo, b, 40, &stop, false, &started, 3 };
	for (int i = 0; i < 3; i++)
		assert_int_equal(pthread_create(&t[i], NULL, importer_thread, &imps[i]), 0);
	assert_int_equal(pthread_create(&t[3], NULL, mover_thread, &mv), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	TCHECK_DONE();
	assert_int_equal(bo->moves, 40);
	for (int i = 0; i < 3; i++) {
		/* every move told every importer, and each kept reading correct bytes */
		assert_int_equal(atomic_load(&imps[i].notified), 40);
		assert_true(imps[i].reads >= 150);
		/* they remapped after moves while running: the interleaving happened */
		assert_true(imps[i].maps >= 2);
		imp_teardown(&imps[i]);
	}
	assert_int_equal(ccmm_events_count(m), 0);
	ccmm_dma_buf_put(&ctx, b);
	ccmm_ttm_bo_put(&ctx, bo);
	ccmm_shutdown(m);
}

static void test_revokes_with_importers(void **state)
{
	struct ccmm_machine *m = boot();
	struct ccmm_ctx ctx;
	struct ccmm_dma_buf *b;
	struct imp imps[2];
	atomic_bool stop = false;
	atomic_int started = 0;
	struct mover mv;
	pthread_t t[3];
	int rnic = ccmm_platform_find_device(m->plat, "rnic0");
	int accel = ccmm_platform_find_device(m->plat, "accel0");
	uint64_t bar = m->plat->devices[accel].bar[0].base, va;
	uint8_t fill[4096];
	struct ccmm_result r;
	int err;

	TCHECK_CASE();
	ccmm_ctx_init(&ctx, m, 0, "vfio");
	/* the device's registers hold a pattern */
	va = ccmm_ioremap(&ctx, bar, 16 * KiB, CCMM_CACHE_UC, &err);
	memset(fill, 0x3e, sizeof(fill));
	for (int k = 0; k < 4; k++)
		assert_int_equal(ccmm_kernel_access(&ctx, CCMM_WRITE, va + k * 4096ULL, fill, sizeof(fill), &r), 0);
	ccmm_iounmap(&ctx, va, 16 * KiB);
	assert_int_equal(ccmm_dma_buf_export_vfio(&ctx, accel, 0, 0, 16 * KiB, false, true, &b), 0);
	imp_setup(&imps[0], m, b, IMP_SGT, rnic, 0x3e, CCMM_IMPORTER_REVOCABLE_OK, &stop, &started);
	imp_setup(&imps[1], m, b, IMP_IOMMUFD, rnic, 0x3e, CCMM_IMPORTER_REVOCABLE_OK, &stop, &started);
	mv = (struct mover){ m, NULL, b, 20, &stop, true, &started, 2 };
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, importer_thread, &imps[i]), 0);
	assert_int_equal(pthread_create(&t[2], NULL, mover_thread, &mv), 0);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	TCHECK_DONE();
	for (int i = 0; i < 2; i++) {
		assert_int_equal(atomic_load(&imps[i].notified), 20);
		assert_true(imps[i].reads >= 1);
		imp_teardown(&imps[i]);
	}
	/* every importer let go in time: no violation of any kind */
	assert_int_equal(ccmm_events_count(m), 0);
	ccmm_dma_buf_put(&ctx, b);
	ccmm_shutdown(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_moves_with_importers),
		cmocka_unit_test(test_revokes_with_importers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
