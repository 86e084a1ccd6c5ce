// SPDX-License-Identifier: MIT
/*
 * dma-buf: the export checks; every attachment mode and its refusal rules;
 * the reservation-lock rules; sg_table and phyr mappings with P2P; move
 * and revoke sequences (with importers that obey and one that does not);
 * PFN access and use-after-move; CPU access and DMA_BUF_IOCTL_SYNC; map
 * info; GUP refusal; bufinfo; TDISP states, trusted DMA and private MMIO.
 */
#include "helpers.h"

#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>

#include "dma-buf/dma-buf.h"

#define KiB 1024ULL

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_ttm_device *tdev;
	struct ccmm_mm *app, *vmm;
	int gpu, rnic, disp, accel, nic32;
};

/* Boot @text (devices named gpu0, rnic0, disp0, accel0, nic32 where present) with a TTM device on gpu0. */
static void fx_init_text(struct fx *f, const char *text)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_ttm_params tp;

	if (ccmm_platform_parse("dmabuf.ini", text, &p, &err))
		fail_msg("platform: %s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_boot(p, 11, &f->m), 0);
	ccmm_ctx_init(&f->ctx, f->m, 0, "test");
	f->gpu = ccmm_platform_find_device(f->m->plat, "gpu0");
	f->rnic = ccmm_platform_find_device(f->m->plat, "rnic0");
	f->disp = ccmm_platform_find_device(f->m->plat, "disp0");
	f->accel = ccmm_platform_find_device(f->m->plat, "accel0");
	f->nic32 = ccmm_platform_find_device(f->m->plat, "nic32");
	ccmm_ttm_params_default(&tp, f->gpu);
	tp.tt_size = 4 * CCMM_MiB;
	tp.dma_no_filter = true; /* the GPU is not on a TDX guest's allow-list: authorized, as the override does */
	assert_int_equal(ccmm_ttm_device_init(&f->ctx, &tp, &f->tdev), 0);
	assert_int_equal(ccmm_mm_create(f->m, CCMM_INIT_USER, "app", &f->app), 0);
	assert_int_equal(ccmm_mm_create(f->m, CCMM_INIT_HOST, "vmm", &f->vmm), 0);
}

static void fx_init(struct fx *f, const char *mode_lines)
{
	char text[1500];

	snprintf(text, sizeof(text),
		 "[platform]\ncpus=2\n%s\n[node:0]\nmem=256m\n"
		 "[device:gpu0]\nclass=gpu\npci_id=1002:73bf\ndma_mask=48\np2p_group=0\nbar0=1m pref\n"
		 "[device:rnic0]\nclass=nic\ndma_mask=64\np2p_group=0\nats=yes\nbar0=64k\n"
		 "[device:disp0]\nclass=gpu\ndma_mask=40\nbar0=64k\n"
		 "[device:accel0]\nclass=accel\ndma_mask=64\np2p_group=0\ntdisp=yes\nbar0=64k\n"
		 "[device:nic32]\nclass=nic\ndma_mask=32\nbar0=64k 32bit\n",
		 mode_lines);
	fx_init_text(f, text);
}

static void fx_fini(struct fx *f)
{
	ccmm_mm_destroy(&f->ctx, f->app);
	ccmm_mm_destroy(&f->ctx, f->vmm);
	ccmm_shutdown(f->m);
}

static struct ccmm_ttm_bo *bo_new(struct fx *f, uint64_t size, enum ccmm_ttm_mem_type t)
{
	struct ccmm_ttm_placement pl = { 1, { { t, t == CCMM_TTM_PL_SYSTEM ? CCMM_CACHE_WB : CCMM_CACHE_WC } } };
	struct ccmm_ttm_bo *bo;

	assert_int_equal(ccmm_ttm_bo_create(&f->ctx, f->tdev, size, &pl, "bo", NULL, &bo), 0);
	return bo;
}

static int move_bo(struct fx *f, struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_ttm_mem_type t)
{
	struct ccmm_ttm_placement pl = { 1, { { t, t == CCMM_TTM_PL_SYSTEM ? CCMM_CACHE_WB : CCMM_CACHE_WC } } };
	int ret;

	(void)f;
	ccmm_ttm_bo_reserve(ctx, bo, false, NULL);
	ret = ccmm_ttm_bo_validate(ctx, bo, &pl);
	ccmm_ttm_bo_unreserve(ctx, bo);
	return ret;
}

/* The GPU fills its BO with @pat. */
static void gpu_fill(struct fx *f, struct ccmm_ttm_bo *bo, uint8_t pat)
{
	uint8_t *buf = malloc(bo->size);
	struct ccmm_result r;

	memset(buf, pat, bo->size);
	ccmm_ttm_bo_reserve(&f->ctx, bo, false, NULL);
	assert_int_equal(ccmm_ttm_bo_gpu_access(&f->ctx, bo, CCMM_WRITE, 0, buf, bo->size, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	ccmm_ttm_bo_unreserve(&f->ctx, bo);
	free(buf);
}

/* ---- an importer ------------------------------------------------------------------- */

struct imp {
	struct ccmm_dma_buf_attachment *attach;
	struct ccmm_dma_buf_map *map;
	bool ignore;           /* ignores move_notify (the hazard) */
	atomic_int notified;
};

static void imp_move_notify(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct imp *i = attach->importer_priv;

	atomic_fetch_add(&i->notified, 1);
	if (i->ignore)
		return;
	if (i->map) {
		ccmm_dma_buf_unmap_attachment(ctx, attach, i->map);
		i->map = NULL;
	}
	if (attach->has_pfns)
		ccmm_dma_buf_put_pfns(ctx, attach);
}

static const struct ccmm_dma_buf_attach_ops dyn_p2p = { true, imp_move_notify };
static const struct ccmm_dma_buf_attach_ops dyn_nop2p = { false, imp_move_notify };
static const struct ccmm_dma_buf_attach_ops no_notify = { true, NULL };

static int imp_attach(struct fx *f, struct ccmm_dma_buf *b, struct imp *i, int dev,
		      const struct ccmm_dma_buf_attach_ops *ops, unsigned flags)
{
	/* a TDX guest's allow-list would refuse these devices: their drivers bind with the override */
	struct ccmm_dma_buf_attach_info ai = { dev, NULL, ops, i, flags, true };

	memset(i, 0, sizeof(*i));
	return ccmm_dma_buf_attach(&f->ctx, b, &ai, &i->attach);
}

/* DMA-read @len bytes at @off through the importer's mapping; they must all be @pat. */
static void imp_read(struct fx *f, struct imp *i, uint64_t off, size_t len, uint8_t pat)
{
	uint8_t *buf = malloc(len);
	struct ccmm_result r;

	assert_int_equal(ccmm_dma_buf_map_access(&f->ctx, i->map, CCMM_READ, off, buf, len, &r), 0);
	for (size_t k = 0; k < len; k++)
		if (buf[k] != pat)
			fail_msg("byte %zu read 0x%02x, not 0x%02x (%s)", k, buf[k], pat, r.why ? r.why : "");
	free(buf);
}

static size_t events(struct fx *f)
{
	return ccmm_events_count(f->m);
}

/* ---- export ---------------------------------------------------------------------------- */

static int dummy_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_buf *d, struct ccmm_phyr *o)
{
	return -EIO;
}

static void dummy_release(struct ccmm_ctx *ctx, struct ccmm_dma_buf *d)
{
}

static int dummy_pin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *a)
{
	return 0;
}

static int dummy_map(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *a, struct ccmm_dma_buf_map *m)
{
	return 0;
}

static void test_export_checks(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	static const struct ccmm_dma_buf_ops no_release = { .get_phyr = dummy_phyr };
	static const struct ccmm_dma_buf_ops half_map = { .map_dma_buf = dummy_map, .release = dummy_release };
	static const struct ccmm_dma_buf_ops nothing = { .release = dummy_release };
	static const struct ccmm_dma_buf_ops half_pin = { .get_phyr = dummy_phyr, .pin = dummy_pin, .release = dummy_release };
	static const struct ccmm_dma_buf_ops good = { .get_phyr = dummy_phyr, .release = dummy_release };
	const struct ccmm_dma_buf_ops *bad[] = { &no_release, &half_map, &nothing, &half_pin };
	struct ccmm_dma_buf_export_info info = { "t", &good, 4096, 0, 0, -1, NULL, &f, true };
	struct ccmm_dma_resv resv;

	fx_init(&f, "mode=none");
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(bad); i++) {
		info.ops = bad[i];
		assert_int_equal(ccmm_dma_buf_export(&f.ctx, &info, &b), -EINVAL);
	}
	info.ops = &good;
	info.priv = NULL;
	assert_int_equal(ccmm_dma_buf_export(&f.ctx, &info, &b), -EINVAL);
	assert_int_equal(nviol(f.m, "dmabuf_export_ops"), 5);
	info.priv = &f;
	/* exported while holding the reservation it is given */
	ccmm_dma_resv_init(&resv);
	ccmm_dma_resv_lock(&f.ctx, &resv, NULL);
	info.resv = &resv;
	assert_int_equal(ccmm_dma_buf_export(&f.ctx, &info, &b), -EDEADLK);
	assert_int_equal(nviol(f.m, "resv_held_unlocked_call"), 1);
	ccmm_dma_resv_unlock(&f.ctx, &resv);
	assert_int_equal(ccmm_dma_buf_export(&f.ctx, &info, &b), 0);
	/* references: the last put releases; a use after it is caught */
	assert_ptr_equal(ccmm_dma_buf_get(&f.ctx, b), b);
	ccmm_dma_buf_put(&f.ctx, b);
	ccmm_dma_buf_put(&f.ctx, b);
	assert_null(ccmm_dma_buf_get(&f.ctx, b));
	{
		struct imp i;

		assert_int_equal(imp_attach(&f, b, &i, f.rnic, NULL, 0), -EINVAL);
	}
	assert_int_equal(nviol(f.m, "dmabuf_use_after_release"), 2);
	fx_fini(&f);
	ccmm_dma_resv_fini(NULL, &resv);
}

/* ---- attachment modes ------------------------------------------------------------------- */

/* A static importer on a dynamic exporter: pinned and mapped once, at attach. */
static void test_static_on_dynamic(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_buf *b;
	struct imp disp;
	struct ccmm_dma_buf_map *m1, *m2;

	fx_init(&f, "mode=none");
	bo = bo_new(&f, 64 * KiB, CCMM_TTM_PL_VRAM);
	gpu_fill(&f, bo, 0x11);
	assert_int_equal(ccmm_dma_buf_export_ttm(&f.ctx, bo, CCMM_DMA_BUF_COHERENT_WC, &b), 0);
	assert_true(ccmm_dma_buf_is_dynamic(b));
	assert_int_equal(imp_attach(&f, b, &disp, f.disp, NULL, 0), 0);
	/* the display cannot do P2P: the BO left VRAM, and it is pinned */
	assert_int_equal(bo->res.mem_type, CCMM_TTM_PL_TT);
	assert_int_equal(bo->pin_count, 1);
	assert_non_null(disp.attach->cached);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, disp.attach, CCMM_DMA_TO_DEVICE, &m1), 0);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, disp.attach, CCMM_DMA_FROM_DEVICE, &m2), 0);
	assert_ptr_equal(m1, m2); /* the cached mapping */
	disp.map = m1;
	assert_int_equal(ccmm_dma_buf_unmap_attachment(&f.ctx, disp.attach, m1), 0); /* leaves it in place */
	assert_non_null(disp.attach->cached);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	imp_read(&f, &disp, 0, 64 * KiB, 0x11);
	/* pinned: an eviction attempt cannot move it */
	ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL);
	assert_int_equal(ccmm_ttm_bo_evict(&f.ctx, bo), -EBUSY);
	ccmm_ttm_bo_unreserve(&f.ctx, bo);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, disp.attach), 0);
	assert_int_equal(bo->pin_count, 0);
	ccmm_dma_buf_put(&f.ctx, b);
	ccmm_ttm_bo_put(&f.ctx, bo);
	assert_int_equal(nviol(f.m, "ttm_pinned_move"), 1);
	assert_int_equal(events(&f), 1);
	fx_fini(&f);
}

/*
 * Issue 18 item 8, dma_buf_move_notify / dma_buf_attach_ops.move_notify:
 * "Mappings stay valid and are not directly affected by this callback" --
 * the old location is the buffer's until the fences of the move signal.
 * A DMA through a mapping of the previous generation while the move's
 * fence is pending is no violation (ccmm flagged it from the notification
 * on); after the fence signalled it is use_after_move, and
 * move_notify_ignored for the importer that was told.
 */
static void test_move_fence_pending(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_buf *b;
	struct ccmm_dma_fence *copy;
	struct imp lazy;
	uint8_t buf[64];
	struct ccmm_result r;

	fx_init(&f, "mode=none");
	bo = bo_new(&f, 64 * KiB, CCMM_TTM_PL_VRAM);
	gpu_fill(&f, bo, 0x5a);
	assert_int_equal(ccmm_dma_buf_export_ttm(&f.ctx, bo, CCMM_DMA_BUF_COHERENT_WC, &b), 0);
	assert_int_equal(imp_attach(&f, b, &lazy, f.rnic, &dyn_p2p, 0), 0);
	lazy.ignore = true; /* it keeps its mapping in move_notify */
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, lazy.attach, CCMM_DMA_BIDIRECTIONAL, &lazy.map), 0);
	/* the exporter's pipelined move: notify, the copy's fence in the reservation, done when it signals */
	assert_int_equal(ccmm_dma_fence_create(f.m, NULL, ccmm_dma_fence_context_alloc(1), 1, &copy), 0);
	assert_int_equal(ccmm_dma_resv_reserve_fences(&f.ctx, b->resv, 1), 0);
	ccmm_dma_resv_add_fence(&f.ctx, b->resv, copy, CCMM_RESV_USAGE_KERNEL);
	assert_int_equal(ccmm_dma_buf_move_begin(&f.ctx, b), 0);
	assert_int_equal(ccmm_dma_buf_move_done(&f.ctx, b, copy), 0);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_int_equal(atomic_load(&lazy.notified), 1);
	assert_false(ccmm_dma_buf_map_valid(lazy.map));           /* it no longer describes the buffer ... */
	assert_true(ccmm_dma_buf_map_reaches(&f.ctx, lazy.map));  /* ... but still reaches its memory */
	assert_int_equal(ccmm_dma_buf_map_access(&f.ctx, lazy.map, CCMM_READ, 0, buf, sizeof(buf), &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_int_equal(buf[0], 0x5a);
	assert_int_equal(events(&f), 0);
	/* the copy is done: the old location is gone */
	assert_int_equal(ccmm_dma_fence_signal(&f.ctx, copy), 0);
	assert_false(ccmm_dma_buf_map_reaches(&f.ctx, lazy.map));
	assert_int_equal(ccmm_dma_buf_map_access(&f.ctx, lazy.map, CCMM_READ, 0, buf, sizeof(buf), &r), 0);
	assert_int_equal(nviol(f.m, "use_after_move"), 1);
	assert_int_equal(nviol(f.m, "move_notify_ignored"), 1);
	/* move_done needs the reservation, as move_notify does */
	assert_int_equal(ccmm_dma_buf_move_done(&f.ctx, b, NULL), -EINVAL);
	assert_int_equal(nviol(f.m, "resv_not_locked"), 1);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_unmap_attachment(&f.ctx, lazy.attach, lazy.map), 0);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	ccmm_dma_fence_put(&f.ctx, copy);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, lazy.attach), 0);
	ccmm_dma_buf_put(&f.ctx, b);
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

/* A dynamic importer on a dynamic exporter: nothing pinned; moves notify; remapping follows. */
static void test_dynamic_on_dynamic(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_buf *b;
	struct imp rdma, lazy;

	fx_init(&f, "mode=none");
	bo = bo_new(&f, 64 * KiB, CCMM_TTM_PL_VRAM);
	gpu_fill(&f, bo, 0x22);
	assert_int_equal(ccmm_dma_buf_export_ttm(&f.ctx, bo, CCMM_DMA_BUF_COHERENT_WC, &b), 0);
	assert_int_equal(imp_attach(&f, b, &rdma, f.rnic, &dyn_p2p, 0), 0);
	assert_int_equal(imp_attach(&f, b, &lazy, f.rnic, &dyn_p2p, 0), 0);
	lazy.ignore = true;
	assert_true(rdma.attach->peer2peer);
	assert_null(rdma.attach->cached);
	assert_int_equal(bo->pin_count, 0);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, rdma.attach, CCMM_DMA_BIDIRECTIONAL, &rdma.map), 0);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, lazy.attach, CCMM_DMA_BIDIRECTIONAL, &lazy.map), 0);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	/* P2P from the NIC straight into VRAM */
	assert_int_equal(bo->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(rdma.map->sgt.sgl[0].dma_address, bo->res.bus_base);
	assert_true(rdma.map->sgt.sgl[0].dma_flags & CCMM_SG_DMA_BUS_ADDRESS);
	imp_read(&f, &rdma, 0, 4096, 0x22);
	/* the exporter moves it: both are told; one tears down, one does not */
	assert_int_equal(move_bo(&f, &f.ctx, bo, CCMM_TTM_PL_TT), 0);
	assert_int_equal(atomic_load(&rdma.notified), 1);
	assert_int_equal(atomic_load(&lazy.notified), 1);
	assert_null(rdma.map);
	assert_false(ccmm_dma_buf_map_valid(lazy.map));
	assert_int_equal(events(&f), 0); /* holding a stale mapping is not yet a crime ... */
	/* ... using it is: the NIC DMAs into VRAM the BO left */
	{
		uint8_t buf[64];
		struct ccmm_result r;

		assert_int_equal(ccmm_dma_buf_map_access(&f.ctx, lazy.map, CCMM_READ, 0, buf, sizeof(buf), &r), 0);
		assert_int_equal(nviol(f.m, "use_after_move"), 1);
		assert_int_equal(nviol(f.m, "move_notify_ignored"), 1);
		assert_int_equal(ccmm_dma_buf_map_access(&f.ctx, lazy.map, CCMM_READ, 0, buf, sizeof(buf), &r), 0);
		assert_int_equal(nviol(f.m, "use_after_move"), 2);
		assert_int_equal(nviol(f.m, "move_notify_ignored"), 1); /* once per move */
	}
	/* the obedient one maps again and finds the data where it now is */
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, rdma.attach, CCMM_DMA_BIDIRECTIONAL, &rdma.map), 0);
	assert_int_equal(ccmm_dma_buf_unmap_attachment(&f.ctx, lazy.attach, lazy.map), 0);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_true(ccmm_dma_buf_map_valid(rdma.map));
	assert_int_equal(rdma.map->sgt.sgl[0].dma_flags & CCMM_SG_DMA_BUS_ADDRESS, 0);
	imp_read(&f, &rdma, 0, 64 * KiB, 0x22);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	ccmm_dma_buf_unmap_attachment(&f.ctx, rdma.attach, rdma.map);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, rdma.attach), 0);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, lazy.attach), 0);
	ccmm_dma_buf_put(&f.ctx, b);
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

/* Static exporters: a dynamic importer gets a mapping cached at attach; static importers map each time. */
static void test_static_exporter(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct imp dyn, st;
	struct ccmm_dma_buf_map *m1, *m2;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 256 * KiB, false, &b), 0);
	assert_false(ccmm_dma_buf_is_dynamic(b));
	assert_int_equal(imp_attach(&f, b, &dyn, f.rnic, &dyn_p2p, 0), 0);
	assert_non_null(dyn.attach->cached);
	assert_int_equal(imp_attach(&f, b, &st, f.disp, NULL, 0), 0);
	assert_null(st.attach->cached);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, st.attach, CCMM_DMA_TO_DEVICE, &m1), 0);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, st.attach, CCMM_DMA_TO_DEVICE, &m2), 0);
	assert_ptr_not_equal(m1, m2);
	/* 64 KiB blocks, coalesced where the allocator made them adjacent */
	{
		uint64_t total = 0;

		assert_true(m1->sgt.nents >= 1 && m1->sgt.nents <= 4);
		for (unsigned k = 0; k < m1->sgt.nents; k++)
			total += m1->sgt.sgl[k].dma_length;
		assert_int_equal(total, 256 * KiB);
	}
	assert_int_equal(st.attach->nr_maps, 2);
	/* detach with mappings live is refused */
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, st.attach), -EBUSY);
	assert_int_equal(nviol(f.m, "dmabuf_detach_mapped"), 1);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_unmap_attachment(&f.ctx, st.attach, m1), 0);
	assert_int_equal(ccmm_dma_buf_unmap_attachment(&f.ctx, st.attach, m1), -EINVAL); /* twice */
	assert_int_equal(nviol(f.m, "dmabuf_unmap_unmapped"), 1);
	assert_int_equal(ccmm_dma_buf_unmap_attachment(&f.ctx, st.attach, m2), 0);
	/* pin is for dynamic importers */
	ccmm_dma_buf_pin(&f.ctx, st.attach);
	assert_int_equal(nviol(f.m, "dmabuf_pin_static"), 1);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, st.attach), 0);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, dyn.attach), 0);
	ccmm_dma_buf_put(&f.ctx, b);
	fx_fini(&f);
}

/* The refusal rules: each refused attach says why. */
static void test_refusals(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *vfio, *heap, *restricted;
	struct imp i, comp;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_buf_export_vfio(&f.ctx, f.accel, 0, 0, 16 * KiB, false, true, &vfio), 0);
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 64 * KiB, false, &heap), 0);
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 64 * KiB, true, &restricted), 0);

	/* importer ops with no move_notify */
	assert_int_equal(imp_attach(&f, heap, &i, f.rnic, &no_notify, 0), -EINVAL);
	assert_int_equal(nviol(f.m, "dmabuf_bad_attach"), 1);
	/* a DMA importer without a device */
	assert_int_equal(imp_attach(&f, heap, &i, -1, NULL, 0), -EINVAL);
	assert_int_equal(nviol(f.m, "dmabuf_bad_attach"), 2);
	/* the compositor that must not be shot down by a revocable client buffer */
	assert_int_equal(imp_attach(&f, vfio, &comp, f.disp, &dyn_p2p, 0), -EOPNOTSUPP);
	assert_int_equal(nviol(f.m, "revocable_to_nonrevocable"), 1);
	/* an importer that takes revocable memory, but cannot reach MMIO peer to peer */
	assert_int_equal(imp_attach(&f, vfio, &i, f.nic32, &dyn_p2p, CCMM_IMPORTER_REVOCABLE_OK), -EOPNOTSUPP);
	assert_int_equal(imp_attach(&f, vfio, &i, f.rnic, &dyn_nop2p, CCMM_IMPORTER_REVOCABLE_OK), -EOPNOTSUPP);
	/* ... and one that can */
	assert_int_equal(imp_attach(&f, vfio, &i, f.rnic, &dyn_p2p, CCMM_IMPORTER_REVOCABLE_OK), 0);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, i.attach), 0);
	/* restricted memory: only a device in a secure state */
	assert_int_equal(imp_attach(&f, restricted, &i, f.accel, NULL, 0), -EPERM);
	assert_int_equal(nviol(f.m, "restricted_access"), 1);
	{
		struct ccmm_vma *v;
		uint64_t va;

		assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, restricted, f.app, 0, 1, false, &v), -EPERM);
		ccmm_dma_resv_lock(&f.ctx, restricted->resv, NULL);
		assert_int_equal(ccmm_dma_buf_vmap(&f.ctx, restricted, &va), -EPERM);
		ccmm_dma_resv_unlock(&f.ctx, restricted->resv);
		assert_int_equal(nviol(f.m, "restricted_access"), 3);
	}
	assert_int_equal(ccmm_tdisp_lock(&f.ctx, f.accel), 0);
	assert_int_equal(ccmm_tdisp_run(&f.ctx, f.accel, -1), 0);
	assert_int_equal(imp_attach(&f, restricted, &i, f.accel, NULL, 0), 0);
	{
		uint8_t buf[64];
		struct ccmm_result r;

		ccmm_dma_resv_lock(&f.ctx, restricted->resv, NULL);
		assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, i.attach, CCMM_DMA_FROM_DEVICE, &i.map), 0);
		ccmm_dma_resv_unlock(&f.ctx, restricted->resv);
		assert_int_equal(ccmm_dma_buf_map_access(&f.ctx, i.map, CCMM_READ, 0, buf, sizeof(buf), &r), 0);
		assert_int_equal(r.outcome, CCMM_OK);
		ccmm_dma_resv_lock(&f.ctx, restricted->resv, NULL);
		ccmm_dma_buf_unmap_attachment(&f.ctx, i.attach, i.map);
		ccmm_dma_resv_unlock(&f.ctx, restricted->resv);
	}
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, i.attach), 0);
	ccmm_dma_buf_put(&f.ctx, vfio);
	ccmm_dma_buf_put(&f.ctx, heap);
	ccmm_dma_buf_put(&f.ctx, restricted);
	fx_fini(&f);
}

/* Which calls need the reservation held, and which must not hold it. */
static void test_lock_rules(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct imp i;
	struct ccmm_dma_buf_map *m;
	struct ccmm_vma *v;
	struct ccmm_phyr p;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 16 * KiB, false, &b), 0);
	assert_int_equal(imp_attach(&f, b, &i, f.disp, NULL, 0), 0);
	/* need it */
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, i.attach, CCMM_DMA_TO_DEVICE, &m), -EINVAL);
	assert_int_equal(ccmm_dma_buf_pin(&f.ctx, i.attach), -EINVAL);
	assert_int_equal(ccmm_dma_buf_move_notify(&f.ctx, b), -EINVAL);
	assert_int_equal(ccmm_dma_buf_get_phyr(&f.ctx, i.attach, &p), -EINVAL);
	assert_int_equal(nviol(f.m, "resv_not_locked"), 4);
	/* must not hold it */
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment_unlocked(&f.ctx, i.attach, CCMM_DMA_TO_DEVICE, &m), -EDEADLK);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, i.attach), -EDEADLK);
	assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, b, f.app, 0, 1, false, &v), -EDEADLK);
	assert_int_equal(ccmm_dma_buf_begin_cpu_access(&f.ctx, b, CCMM_DMA_FROM_DEVICE), -EDEADLK);
	assert_int_equal(ccmm_dma_buf_ioctl_sync(&f.ctx, b, CCMM_DMA_BUF_SYNC_READ), -EDEADLK);
	{
		struct imp j;

		assert_int_equal(imp_attach(&f, b, &j, f.rnic, NULL, 0), -EDEADLK);
	}
	assert_int_equal(nviol(f.m, "resv_held_unlocked_call"), 6);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	/* the unlocked variants, properly */
	assert_int_equal(ccmm_dma_buf_map_attachment_unlocked(&f.ctx, i.attach, CCMM_DMA_TO_DEVICE, &m), 0);
	assert_int_equal(ccmm_dma_buf_unmap_attachment_unlocked(&f.ctx, i.attach, m), 0);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, i.attach), 0);
	ccmm_dma_buf_put(&f.ctx, b);
	assert_int_equal(events(&f), 10);
	fx_fini(&f);
}

/* A phyr importer keeps the metadata: P2P groups it must use ATS for, cache modes. */
static void test_phyr_importer(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_buf *b;
	struct imp i;

	fx_init(&f, "mode=none");
	bo = bo_new(&f, 32 * KiB, CCMM_TTM_PL_VRAM);
	gpu_fill(&f, bo, 0x33);
	assert_int_equal(ccmm_dma_buf_export_ttm(&f.ctx, bo, CCMM_DMA_BUF_COHERENT_WC, &b), 0);
	assert_int_equal(imp_attach(&f, b, &i, f.rnic, &dyn_p2p, CCMM_IMPORTER_PHYR), 0);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, i.attach, CCMM_DMA_FROM_DEVICE, &i.map), 0);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_true(i.map->is_phyr);
	assert_int_equal(i.map->dma.nr, 1);
	assert_int_equal(i.map->dma.r[0].dma, bo->res.bus_base); /* the P2P bus address */
	assert_int_equal(i.map->dma.r[0].flags, CCMM_SG_DMA_BUS_ADDRESS);
	assert_true(ccmm_dma_buf_map_has_p2p(i.map)); /* the NIC must turn on ATS for this */
	/* the metadata stays beside the DMA side */
	assert_true(ccmm_phyr_has_p2p(&i.map->phys));
	assert_int_equal(i.map->phys.g[0].meta.provider, f.gpu);
	assert_int_equal(i.map->phys.g[0].meta.cache, CCMM_CACHE_WC);
	imp_read(&f, &i, 0, 32 * KiB, 0x33);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	ccmm_dma_buf_unmap_attachment(&f.ctx, i.attach, i.map);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	ccmm_dma_buf_detach(&f.ctx, i.attach);
	ccmm_dma_buf_put(&f.ctx, b);
	ccmm_ttm_bo_put(&f.ctx, bo);
	assert_int_equal(events(&f), 0);
	fx_fini(&f);
}

/* PFN importers (iommufd, KVM): under the lock, torn down on move; using stale PFNs is caught. */
static void test_pfn_import(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_buf *b;
	struct imp kvm, iommufd;
	uint64_t pfn, old_pfn;
	unsigned order;
	struct ccmm_dma_buf_map *m;

	fx_init(&f, "mode=none");
	bo = bo_new(&f, 64 * KiB, CCMM_TTM_PL_VRAM);
	assert_int_equal(ccmm_dma_buf_export_ttm(&f.ctx, bo, CCMM_DMA_BUF_COHERENT_WC, &b), 0);
	assert_int_equal(imp_attach(&f, b, &kvm, -1, &dyn_p2p, CCMM_IMPORTER_PFN), 0);
	assert_int_equal(imp_attach(&f, b, &iommufd, f.rnic, &dyn_p2p, CCMM_IMPORTER_PFN), 0);
	iommufd.ignore = true;
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	/* no device mapping for a PFN importer */
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, kvm.attach, CCMM_DMA_BIDIRECTIONAL, &m), -EINVAL);
	assert_int_equal(nviol(f.m, "dmabuf_bad_attach"), 1);
	assert_int_equal(ccmm_dma_buf_get_pfn(&f.ctx, kvm.attach, 3, &pfn, &order), 0);
	assert_int_equal(pfn, (bo->res.bus_base >> 12) + 3);
	assert_int_equal(order, 4); /* inside the naturally aligned, contiguous 64 KiB */
	assert_int_equal(ccmm_dma_buf_get_pfn(&f.ctx, kvm.attach, 0, &pfn, &order), 0);
	assert_int_equal(order, 4);
	assert_int_equal(ccmm_dma_buf_get_pfn(&f.ctx, iommufd.attach, 0, &old_pfn, NULL), 0);
	assert_int_equal(ccmm_dma_buf_get_pfn(&f.ctx, kvm.attach, 16, &pfn, NULL), -EINVAL);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_int_equal(ccmm_dma_buf_pfn_check(&f.ctx, kvm.attach, "a guest access"), 0);
	/* the BO moves: KVM drops its PFNs in move_notify, iommufd does not */
	assert_int_equal(move_bo(&f, &f.ctx, bo, CCMM_TTM_PL_TT), 0);
	assert_false(kvm.attach->has_pfns);
	assert_int_equal(ccmm_dma_buf_pfn_check(&f.ctx, iommufd.attach, "device DMA through the IOMMU"), -ESTALE);
	assert_int_equal(nviol(f.m, "use_after_move"), 1);
	assert_int_equal(nviol(f.m, "move_notify_ignored"), 1);
	/* KVM faults them in again, from where the buffer is now */
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_get_pfn(&f.ctx, kvm.attach, 0, &pfn, NULL), 0);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_int_equal(pfn, bo->tt.pages[0] >> 12);
	assert_int_not_equal(pfn, old_pfn);
	assert_int_equal(ccmm_dma_buf_pfn_check(&f.ctx, kvm.attach, "a guest access"), 0);
	ccmm_dma_buf_detach(&f.ctx, kvm.attach);
	ccmm_dma_buf_detach(&f.ctx, iommufd.attach);
	ccmm_dma_buf_put(&f.ctx, b);
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

/* ---- revoke ---------------------------------------------------------------------------- */

static void test_revoke(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct imp rdma, iommufd, lazy;
	struct ccmm_vma *v;
	struct ccmm_phyr p;
	uint8_t x = 0x99;
	struct ccmm_result r;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_buf_export_vfio(&f.ctx, f.accel, 0, 0, 16 * KiB, false, true, &b), 0);
	assert_int_equal(imp_attach(&f, b, &rdma, f.rnic, &dyn_p2p, CCMM_IMPORTER_REVOCABLE_OK), 0);
	assert_int_equal(imp_attach(&f, b, &iommufd, f.rnic, &dyn_p2p, CCMM_IMPORTER_REVOCABLE_OK | CCMM_IMPORTER_PFN), 0);
	assert_int_equal(imp_attach(&f, b, &lazy, -1, &dyn_p2p, CCMM_IMPORTER_REVOCABLE_OK | CCMM_IMPORTER_PFN), 0);
	lazy.ignore = true;
	/* the VMM maps the BAR (uncached) and writes it */
	assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, b, f.vmm, 0, 4, true, &v), 0);
	assert_true(v->vm_flags & CCMM_VM_IO);
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, b, f.vmm, CCMM_WRITE, v->start, &x, 1, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	/* a dynamic importer on a static exporter: the mapping made at attach */
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, rdma.attach, CCMM_DMA_BIDIRECTIONAL, &rdma.map), 0);
	assert_ptr_equal(rdma.map, rdma.attach->cached);
	assert_int_equal(ccmm_dma_buf_get_phyr(&f.ctx, lazy.attach, &p), 0);
	ccmm_phyr_free(&p);
	assert_int_equal(ccmm_dma_buf_get_phyr(&f.ctx, iommufd.attach, &p), 0);
	assert_int_equal(p.r[0].pa, f.m->plat->devices[f.accel].bar[0].base);
	assert_int_equal(p.g[0].meta.cache, CCMM_CACHE_UC);
	ccmm_phyr_free(&p);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	imp_read(&f, &rdma, 0, 1, 0x99);

	assert_int_equal(ccmm_dma_buf_revoke(&f.ctx, b), 0);
	assert_int_equal(atomic_load(&rdma.notified), 1);
	assert_int_equal(atomic_load(&iommufd.notified), 1);
	assert_false(iommufd.attach->has_pfns);
	/* the cached mapping the NIC held is stale; new maps are refused while revoked */
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, rdma.attach, CCMM_DMA_BIDIRECTIONAL, &rdma.map), -ENODEV);
	assert_int_equal(ccmm_dma_buf_get_phyr(&f.ctx, iommufd.attach, &p), -ENODEV);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	/* the CPU mapping was zapped: the next access is a SIGBUS */
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, b, f.vmm, CCMM_READ, v->start, &x, 1, &r), 0);
	assert_int_equal(r.outcome, CCMM_PF);
	/* the lazy importer kept its PFNs: revoke waited for it, in vain */
	assert_int_equal(nviol(f.m, "move_notify_ignored"), 1);
	assert_int_equal(nviol(f.m, "revocable_to_nonrevocable"), 0);
	/* unrevoke: back in business */
	assert_int_equal(ccmm_dma_buf_unrevoke(&f.ctx, b), 0);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_map_attachment(&f.ctx, rdma.attach, CCMM_DMA_BIDIRECTIONAL, &rdma.map), 0);
	assert_true(ccmm_dma_buf_map_valid(rdma.map));
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_int_equal(ccmm_dma_buf_pfn_check(&f.ctx, lazy.attach, "an IOMMU access"), -ESTALE);
	imp_read(&f, &rdma, 0, 1, 0x99);
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, b, f.vmm, CCMM_READ, v->start, &x, 1, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	ccmm_munmap(&f.ctx, f.vmm, v->start, v->end - v->start);
	ccmm_dma_buf_detach(&f.ctx, rdma.attach);
	ccmm_dma_buf_detach(&f.ctx, iommufd.attach);
	ccmm_dma_buf_detach(&f.ctx, lazy.attach);
	ccmm_dma_buf_put(&f.ctx, b);
	fx_fini(&f);
}

/* Today's kernel does not negotiate: the compositor attaches, and the revoke shoots it down. */
static void test_revoke_without_negotiation(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct imp comp;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_buf_export_vfio(&f.ctx, f.accel, 0, 0, 16 * KiB, false, false, &b), 0);
	assert_int_equal(imp_attach(&f, b, &comp, f.rnic, &dyn_p2p, 0), 0);
	assert_int_equal(events(&f), 0);
	assert_int_equal(ccmm_dma_buf_revoke(&f.ctx, b), 0);
	assert_int_equal(nviol(f.m, "revocable_to_nonrevocable"), 1);
	ccmm_dma_buf_detach(&f.ctx, comp.attach);
	ccmm_dma_buf_put(&f.ctx, b);
	fx_fini(&f);
}

/* ---- CPU access, map info, GUP ----------------------------------------------------------- */

struct late {
	struct ccmm_machine *m;
	struct ccmm_dma_fence *fe;
};

static void *signal_later(void *arg)
{
	struct late *l = arg;
	struct ccmm_ctx ctx;
	struct timespec ts = { 0, 10 * 1000000L };

	ccmm_ctx_init(&ctx, l->m, 1, "gpu");
	nanosleep(&ts, NULL);
	ccmm_dma_fence_signal(&ctx, l->fe);
	return NULL;
}

static void test_cpu_access_sync(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct ccmm_vma *v;
	struct ccmm_result r;
	uint8_t x = 0;
	struct late l;
	pthread_t t;
	uint64_t val;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_buf_export_vfio(&f.ctx, f.accel, 0, 0, 16 * KiB, false, true, &b), 0);
	assert_int_equal(ccmm_dma_buf_ioctl_info(b, CCMM_DMA_BUF_INFO_MAP_INFO, &val), 0);
	assert_int_equal(val, CCMM_DMA_BUF_MAP_INCOHERENT);
	assert_int_equal(ccmm_dma_buf_ioctl_info(b, 2, &val), -EINVAL);
	/* the ioctl's flag rules */
	assert_int_equal(ccmm_dma_buf_ioctl_sync(&f.ctx, b, 0), -EINVAL);
	assert_int_equal(ccmm_dma_buf_ioctl_sync(&f.ctx, b, CCMM_DMA_BUF_SYNC_END), -EINVAL);
	assert_int_equal(ccmm_dma_buf_ioctl_sync(&f.ctx, b, 0x100 | CCMM_DMA_BUF_SYNC_READ), -EINVAL);
	assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, b, f.app, 0, 4, true, &v), 0);
	/* incoherent: an access outside SYNC is a violation */
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, b, f.app, CCMM_READ, v->start, &x, 1, &r), 0);
	assert_int_equal(nviol(f.m, "dmabuf_sync_missing"), 1);
	/* START waits for the writer's fence, then the access is bracketed */
	assert_int_equal(ccmm_dma_fence_create(f.m, NULL, ccmm_dma_fence_context_alloc(1), 1, &l.fe), 0);
	l.m = f.m;
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	ccmm_dma_resv_reserve_fences(&f.ctx, b->resv, 1);
	ccmm_dma_resv_add_fence(&f.ctx, b->resv, l.fe, CCMM_RESV_USAGE_WRITE);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	assert_int_equal(pthread_create(&t, NULL, signal_later, &l), 0);
	assert_int_equal(ccmm_dma_buf_ioctl_sync(&f.ctx, b, CCMM_DMA_BUF_SYNC_START | CCMM_DMA_BUF_SYNC_READ), 0);
	assert_true(ccmm_dma_fence_is_signaled(&f.ctx, l.fe));
	pthread_join(t, NULL);
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, b, f.app, CCMM_READ, v->start, &x, 1, &r), 0);
	assert_int_equal(nviol(f.m, "dmabuf_sync_missing"), 1);
	/* a read bracket does not cover a write */
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, b, f.app, CCMM_WRITE, v->start, &x, 1, &r), 0);
	assert_int_equal(nviol(f.m, "dmabuf_sync_missing"), 2);
	assert_int_equal(ccmm_dma_buf_ioctl_sync(&f.ctx, b, CCMM_DMA_BUF_SYNC_END | CCMM_DMA_BUF_SYNC_READ), 0);
	ccmm_dma_fence_put(&f.ctx, l.fe);
	ccmm_munmap(&f.ctx, f.app, v->start, v->end - v->start);
	ccmm_dma_buf_put(&f.ctx, b);
	fx_fini(&f);
}

static void test_map_info(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_buf *b, *heap;
	struct ccmm_vma *v, *hv;
	struct ccmm_result r;
	uint8_t x;

	fx_init(&f, "mode=none");
	bo = bo_new(&f, 16 * KiB, CCMM_TTM_PL_TT);
	assert_int_equal(ccmm_dma_buf_export_ttm(&f.ctx, bo, CCMM_DMA_BUF_COHERENT_WC, &b), 0);
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 16 * KiB, false, &heap), 0);
	/* the heap maps cached, as it claims: checked as soon as it is mapped */
	assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, heap, f.app, 0, 4, true, &hv), 0);
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, heap, f.app, CCMM_READ, hv->start, &x, 1, &r), 0);
	/* the GPU BO maps WC while in WC TT */
	assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, b, f.app, 0, 4, true, &v), 0);
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, b, f.app, CCMM_READ, v->start, &x, 1, &r), 0);
	assert_int_equal(events(&f), 0);
	/* Christian's point: the caching can change behind the claim -- evicted to cached system memory */
	assert_int_equal(move_bo(&f, &f.ctx, bo, CCMM_TTM_PL_SYSTEM), 0);
	assert_int_equal(ccmm_dma_buf_cpu_access(&f.ctx, b, f.app, CCMM_READ, v->start, &x, 1, &r), 0);
	assert_int_equal(nviol(f.m, "map_info_mismatch"), 1);
	/* a VMM mapping the buffer into a guest must follow the info */
	assert_int_equal(ccmm_dma_buf_check_map_info(&f.ctx, heap, CCMM_CACHE_WB, "vmm"), 0);
	assert_int_equal(ccmm_dma_buf_check_map_info(&f.ctx, heap, CCMM_CACHE_WC, "vmm"), -EINVAL);
	assert_int_equal(nviol(f.m, "map_info_mismatch"), 2);
	ccmm_munmap(&f.ctx, f.app, v->start, v->end - v->start);
	ccmm_munmap(&f.ctx, f.app, hv->start, hv->end - hv->start);
	ccmm_dma_buf_put(&f.ctx, b);
	ccmm_dma_buf_put(&f.ctx, heap);
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

static void test_gup(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *heap;
	struct ccmm_vma *hv, *plain;
	uint64_t pas[4], pa;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 16 * KiB, false, &heap), 0);
	assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, heap, f.vmm, 0, 4, true, &hv), 0);
	/* KVM taking page references on the exporter's VM_IO|VM_PFNMAP mapping: refused */
	assert_int_equal(ccmm_pin_user_pages(&f.ctx, f.vmm, hv->start, 4, false, pas), -EFAULT);
	assert_int_equal(nviol(f.m, "gup_special_mapping"), 1);
	/* ordinary memory: fine */
	assert_int_equal(ccmm_alloc_pages(&f.ctx, 0, 0, 0, &pa), 0);
	assert_int_equal(ccmm_mmap(&f.ctx, f.vmm, 0, 4096, CCMM_VM_READ | CCMM_VM_WRITE, CCMM_PTE_RW, NULL, NULL, &plain), 0);
	assert_int_equal(ccmm_pgt_map(&f.ctx, f.vmm->pgt, plain->start, pa, 4096, 4096, CCMM_PTE_RW), 0);
	assert_int_equal(ccmm_pin_user_pages(&f.ctx, f.vmm, plain->start, 1, true, pas), 1);
	assert_int_equal(pas[0], pa);
	/* a special PTE in a VMA without the flags (the cma-heap patch's question): still refused */
	plain->vm_flags &= ~(CCMM_VM_IO | CCMM_VM_PFNMAP);
	ccmm_pgt_unmap(&f.ctx, f.vmm->pgt, plain->start, 4096, true);
	assert_int_equal(ccmm_pgt_map(&f.ctx, f.vmm->pgt, plain->start, pa, 4096, 4096, CCMM_PTE_RW | CCMM_PTE_SPECIAL), 0);
	assert_int_equal(ccmm_pin_user_pages(&f.ctx, f.vmm, plain->start, 1, false, pas), -EFAULT);
	assert_int_equal(nviol(f.m, "gup_special_mapping"), 2);
	ccmm_munmap(&f.ctx, f.vmm, plain->start, 4096);
	ccmm_free_pages(&f.ctx, pa, 0);
	ccmm_munmap(&f.ctx, f.vmm, hv->start, hv->end - hv->start);
	ccmm_dma_buf_put(&f.ctx, heap);
	fx_fini(&f);
}

static void test_bufinfo(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct ccmm_dma_fence *fe;
	struct imp i;
	char buf[2048] = "";
	FILE *out;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 16 * KiB, false, &b), 0);
	assert_int_equal(ccmm_dma_buf_set_name(&f.ctx, b, "frame"), 0);
	assert_int_equal(imp_attach(&f, b, &i, f.disp, NULL, 0), 0);
	assert_int_equal(ccmm_dma_fence_create(f.m, NULL, ccmm_dma_fence_context_alloc(1), 7, &fe), 0);
	ccmm_dma_resv_lock(&f.ctx, b->resv, NULL);
	ccmm_dma_resv_reserve_fences(&f.ctx, b->resv, 1);
	ccmm_dma_resv_add_fence(&f.ctx, b->resv, fe, CCMM_RESV_USAGE_WRITE);
	ccmm_dma_resv_unlock(&f.ctx, b->resv);
	out = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(ccmm_dma_buf_bufinfo(f.m, out), 0);
	fclose(out);
	assert_string_equal(buf, "\nDma-buf Objects:\n"
				 "size    \tflags   \tmode    \tcount   \texp_name\tino     \tname\n"
				 "00016384\t00000002\t00080007\t00000001\tsystem\t00000001\tframe\n"
				 "\twrite fence:ccmm ccmm seq 7 unsignalled\n"
				 "\tAttached Devices:\n"
				 "\tdisp0\n"
				 "Total 1 devices attached\n\n"
				 "\nTotal 1 objects, 16384 bytes\n");
	ccmm_dma_fence_signal(&f.ctx, fe);
	ccmm_dma_fence_put(&f.ctx, fe);
	ccmm_dma_buf_detach(&f.ctx, i.attach);
	/* a last put while still attached is recorded; the release waits for the detach */
	assert_int_equal(imp_attach(&f, b, &i, f.disp, NULL, 0), 0);
	ccmm_dma_buf_put(&f.ctx, b);
	assert_int_equal(nviol(f.m, "dmabuf_use_after_release"), 1);
	assert_true(atomic_load(&b->released));
	assert_true(b->release_deferred);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, i.attach), 0);
	assert_false(b->release_deferred);
	fx_fini(&f);
}

/*
 * dma_buf_getfile(): the file's f_flags are exp_info->flags & (O_ACCMODE |
 * O_NONBLOCK) and its f_mode OPEN_FMODE(flags) | FMODE_LSEEK |
 * FMODE_OPENED; bufinfo prints both (ccmm printed constants).
 */
static void test_bufinfo_file_flags(void **state)
{
	static const struct ccmm_dma_buf_ops good = { .get_phyr = dummy_phyr, .release = dummy_release };
	struct ccmm_dma_buf_export_info info = { "t", &good, 4096, 0, 0, -1, NULL, NULL, true, O_RDONLY | O_NONBLOCK | O_CLOEXEC };
	struct ccmm_dma_buf *b[3];
	char buf[2048] = "";
	struct fx f;
	FILE *out;

	fx_init(&f, "mode=none");
	info.priv = &f;
	assert_int_equal(ccmm_dma_buf_export(&f.ctx, &info, &b[0]), 0);
	info.fd_flags = O_WRONLY;
	assert_int_equal(ccmm_dma_buf_export(&f.ctx, &info, &b[1]), 0);
	info.fd_flags = O_RDWR | O_CLOEXEC;
	assert_int_equal(ccmm_dma_buf_export(&f.ctx, &info, &b[2]), 0);
	assert_int_equal(b[0]->f_flags, O_NONBLOCK);
	assert_int_equal(b[0]->f_mode, 0x80005); /* FMODE_READ | LSEEK | OPENED */
	assert_int_equal(b[1]->f_mode, 0x80006); /* FMODE_WRITE | LSEEK | OPENED */
	assert_int_equal(b[2]->f_flags, O_RDWR);  /* O_CLOEXEC is the fd's, not the file's */
	assert_int_equal(b[2]->f_mode, 0x80007);
	out = fmemopen(buf, sizeof(buf), "w");
	assert_int_equal(ccmm_dma_buf_bufinfo(f.m, out), 0);
	fclose(out);
	/* newest first, as dma_buf_export() adds to the head of debugfs_list */
	assert_non_null(strstr(buf, "00004096\t00000002\t00080007\t00000001\tt\t00000003\t<none>\n"));
	assert_non_null(strstr(buf, "00004096\t00000001\t00080006\t00000001\tt\t00000002\t<none>\n"));
	assert_non_null(strstr(buf, "00004096\t00000800\t00080005\t00000001\tt\t00000001\t<none>\n"));
	assert_true(strstr(buf, "00000003\t<none>") < strstr(buf, "00000001\t<none>"));
	for (int i = 0; i < 3; i++)
		ccmm_dma_buf_put(&f.ctx, b[i]);
	fx_fini(&f);
}

/* ---- attachments through the DMA API ------------------------------------------------------- */

/* Map @i's attachment for @dir with the reservation held. */
static int imp_map(struct fx *f, struct ccmm_dma_buf *b, struct imp *i, enum ccmm_dma_dir dir)
{
	int ret;

	ccmm_dma_resv_lock(&f->ctx, b->resv, NULL);
	ret = ccmm_dma_buf_map_attachment(&f->ctx, i->attach, dir, &i->map);
	ccmm_dma_resv_unlock(&f->ctx, b->resv);
	return ret;
}

static void imp_unmap(struct fx *f, struct ccmm_dma_buf *b, struct imp *i)
{
	ccmm_dma_resv_lock(&f->ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_unmap_attachment(&f->ctx, i->attach, i->map), 0);
	ccmm_dma_resv_unlock(&f->ctx, b->resv);
	i->map = NULL;
}

/* The CPU fills (@fill >= 0) or checks the whole buffer through dma_buf_vmap. */
static void cpu_buf(struct fx *f, struct ccmm_dma_buf *b, int fill, int expect)
{
	uint8_t *buf = malloc(b->size);
	struct ccmm_result r;
	uint64_t va;

	ccmm_dma_resv_lock(&f->ctx, b->resv, NULL);
	assert_int_equal(ccmm_dma_buf_vmap(&f->ctx, b, &va), 0);
	if (fill >= 0) {
		memset(buf, fill, b->size);
		assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_WRITE, va, buf, b->size, &r), 0);
	} else {
		assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_READ, va, buf, b->size, &r), 0);
		for (uint64_t k = 0; k < b->size; k++)
			if (buf[k] != (uint8_t)expect)
				fail_msg("CPU byte %" PRIu64 " is 0x%02x, not 0x%02x", k, buf[k], expect);
	}
	assert_int_equal(r.outcome, CCMM_OK);
	assert_int_equal(ccmm_dma_buf_vunmap(&f->ctx, b, va), 0);
	ccmm_dma_resv_unlock(&f->ctx, b->resv);
	free(buf);
}

static void swiotlb_stats(struct fx *f, struct ccmm_swiotlb_stats *st)
{
	ccmm_swiotlb_stats(ccmm_swiotlb_default(f->m), st);
}

/*
 * TDX guest: a dma-buf of private system pages mapped for an untrusted
 * sg_table importer bounces -- the bytes arrive through the SWIOTLB copy,
 * the pool's counters move, and unmap copies the device's writes back for
 * FROM_DEVICE (not before).
 */
static void test_tdx_sg_importer_bounces(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct imp i;
	struct ccmm_swiotlb_stats st;
	struct ccmm_result r;
	uint8_t *buf;

	fx_init(&f, "mode=tdx\nswiotlb_size=4m");
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 64 * KiB, false, &b), 0);
	cpu_buf(&f, b, 0x3a, -1);
	assert_int_equal(imp_attach(&f, b, &i, f.rnic, NULL, 0), 0);
	assert_true(ccmm_dma_dev(f.m, f.rnic)->probed); /* attach bound the importer's device */
	assert_int_equal(imp_map(&f, b, &i, CCMM_DMA_TO_DEVICE), 0);
	assert_false(i.map->is_phyr);
	for (unsigned k = 0; k < i.map->sgt.nents; k++) {
		assert_int_equal(i.map->sgt.sgl[k].dma_flags, CCMM_SG_DMA_SWIOTLB);
		assert_int_not_equal(i.map->sgt.sgl[k].dma_address, ccmm_sg_phys(&i.map->sgt.sgl[k]));
	}
	swiotlb_stats(&f, &st);
	assert_int_equal(st.io_tlb_used, 64 * KiB / 2048);
	assert_int_equal(st.bounced_bytes, 64 * KiB); /* copied in at map time */
	imp_read(&f, &i, 0, 64 * KiB, 0x3a);
	imp_unmap(&f, b, &i);
	swiotlb_stats(&f, &st);
	assert_int_equal(st.io_tlb_used, 0);
	/* the device writes into the bounce buffer; the pages see it only at unmap */
	assert_int_equal(imp_map(&f, b, &i, CCMM_DMA_FROM_DEVICE), 0);
	buf = malloc(64 * KiB);
	memset(buf, 0xc4, 64 * KiB);
	assert_int_equal(ccmm_dma_buf_map_access(&f.ctx, i.map, CCMM_WRITE, 0, buf, 64 * KiB, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	free(buf);
	cpu_buf(&f, b, -1, 0x3a);
	swiotlb_stats(&f, &st);
	assert_int_equal(st.bounced_bytes, 2 * 64 * KiB); /* in, in: map copies whatever the direction */
	/* a CPU access bracket syncs the importer's mapping (system_heap): the CPU sees the device's bytes */
	assert_int_equal(ccmm_dma_buf_begin_cpu_access(&f.ctx, b, CCMM_DMA_FROM_DEVICE), 0);
	cpu_buf(&f, b, -1, 0xc4);
	assert_int_equal(ccmm_dma_buf_end_cpu_access(&f.ctx, b, CCMM_DMA_FROM_DEVICE), 0);
	swiotlb_stats(&f, &st);
	assert_true(st.bounced_bytes >= 3 * 64 * KiB);
	cpu_buf(&f, b, 0x5b, -1); /* a CPU write while the device owns the mapping: unmap copies over it */
	imp_unmap(&f, b, &i);
	cpu_buf(&f, b, -1, 0xc4);
	swiotlb_stats(&f, &st);
	assert_int_equal(st.io_tlb_used, 0);
	assert_int_equal(ccmm_dma_live(ccmm_dma_dev(f.m, f.rnic)), 0);
	assert_int_equal(ccmm_dma_buf_detach(&f.ctx, i.attach), 0);
	ccmm_dma_buf_put(&f.ctx, b);
	assert_int_equal(events(&f), 0);
	fx_fini(&f);
}

/*
 * SME host: the importer's DMA mask decides. A 64-bit NIC gets the C-bit
 * (the memory controller decrypts for it), the 32-bit NIC bounces through
 * the decrypted SWIOTLB pool; a phyr importer gets the C-bit from the
 * metadata. All read what the CPU wrote.
 */
static void test_sme_cbit_per_mask(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct imp wide, narrow, ph;

	fx_init(&f, "mode=sme\nc_bit=47\nphys_bits=47");
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 16 * KiB, false, &b), 0);
	cpu_buf(&f, b, 0x5e, -1);
	assert_int_equal(imp_attach(&f, b, &wide, f.rnic, NULL, 0), 0);
	assert_int_equal(imp_map(&f, b, &wide, CCMM_DMA_TO_DEVICE), 0);
	assert_int_equal(wide.map->sgt.sgl[0].dma_address, ccmm_sg_phys(&wide.map->sgt.sgl[0]) | f.m->enc_mask);
	assert_int_equal(wide.map->sgt.sgl[0].dma_flags, 0);
	imp_read(&f, &wide, 0, 16 * KiB, 0x5e);
	assert_int_equal(imp_attach(&f, b, &narrow, f.nic32, NULL, 0), 0);
	assert_int_equal(imp_map(&f, b, &narrow, CCMM_DMA_TO_DEVICE), 0);
	assert_int_equal(narrow.map->sgt.sgl[0].dma_flags, CCMM_SG_DMA_SWIOTLB);
	assert_true(narrow.map->sgt.sgl[0].dma_address < (1ULL << 32));
	imp_read(&f, &narrow, 0, 16 * KiB, 0x5e);
	assert_int_equal(imp_attach(&f, b, &ph, f.rnic, NULL, CCMM_IMPORTER_PHYR), 0);
	assert_int_equal(imp_map(&f, b, &ph, CCMM_DMA_TO_DEVICE), 0);
	assert_true(ph.map->phys.g[0].meta.encrypted);
	assert_int_equal(ph.map->dma.r[0].dma, ph.map->phys.r[0].pa | f.m->enc_mask);
	imp_read(&f, &ph, 0, 16 * KiB, 0x5e);
	imp_unmap(&f, b, &wide);
	imp_unmap(&f, b, &narrow);
	imp_unmap(&f, b, &ph);
	ccmm_dma_buf_detach(&f.ctx, wide.attach);
	ccmm_dma_buf_detach(&f.ctx, narrow.attach);
	ccmm_dma_buf_detach(&f.ctx, ph.attach);
	ccmm_dma_buf_put(&f.ctx, b);
	assert_int_equal(events(&f), 0);
	fx_fini(&f);
}

/*
 * Bare metal with an IOMMU: the importer's addresses for system memory are
 * IOVAs and an access outside them is blocked (and reported against the
 * DMA API's records); VRAM in P2P reach goes by its bus address, past the
 * IOMMU.
 */
static void test_iommu_importer(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *heap, *vram;
	struct ccmm_ttm_bo *bo;
	struct imp i, p;
	struct ccmm_result r;
	uint8_t x[8];

	fx_init_text(&f, "[platform]\ncpus=2\nmode=none\n[node:0]\nmem=256m\n[iommu:vt0]\nkind=generic\n"
			 "[device:gpu0]\nclass=gpu\npci_id=8086:56a0\ndma_mask=46\niommu=vt0\np2p_group=0\nbar0=1m pref\n"
			 "[device:rnic0]\nclass=nic\ndma_mask=64\niommu=vt0\np2p_group=0\nats=yes\nbar0=64k\n");
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 16 * KiB, false, &heap), 0);
	cpu_buf(&f, heap, 0x19, -1);
	assert_int_equal(imp_attach(&f, heap, &i, f.rnic, NULL, 0), 0);
	assert_int_equal(imp_map(&f, heap, &i, CCMM_DMA_BIDIRECTIONAL), 0);
	for (unsigned k = 0; k < i.map->sgt.nents; k++) {
		assert_int_not_equal(i.map->sgt.sgl[k].dma_address, ccmm_sg_phys(&i.map->sgt.sgl[k]));
		assert_int_equal(i.map->sgt.sgl[k].dma_flags, 0);
	}
	imp_read(&f, &i, 0, 16 * KiB, 0x19);
	assert_int_equal(events(&f), 0);
	/* the buffer's physical address is no IOVA the NIC was given */
	assert_int_equal(ccmm_dma_device_access(&f.ctx, i.attach->dma_dev, CCMM_READ, ccmm_sg_phys(&i.map->sgt.sgl[0]),
						x, sizeof(x), &r),
			 0);
	assert_int_equal(r.outcome, CCMM_BLOCKED);
	assert_int_equal(nviol(f.m, "dma_device_unmapped"), 1);
	assert_int_equal(nviol(f.m, "iommu_fault"), 1);
	imp_unmap(&f, heap, &i);
	ccmm_dma_buf_detach(&f.ctx, i.attach);
	ccmm_dma_buf_put(&f.ctx, heap);
	/* VRAM by its P2P bus address, not through the IOMMU */
	bo = bo_new(&f, 16 * KiB, CCMM_TTM_PL_VRAM);
	gpu_fill(&f, bo, 0x77);
	assert_int_equal(ccmm_dma_buf_export_ttm(&f.ctx, bo, CCMM_DMA_BUF_COHERENT_WC, &vram), 0);
	assert_int_equal(imp_attach(&f, vram, &p, f.rnic, &dyn_p2p, 0), 0);
	assert_int_equal(imp_map(&f, vram, &p, CCMM_DMA_BIDIRECTIONAL), 0);
	assert_int_equal(p.map->sgt.sgl[0].dma_address, bo->res.bus_base);
	assert_int_equal(p.map->sgt.sgl[0].dma_flags, CCMM_SG_DMA_BUS_ADDRESS);
	assert_true(ccmm_dma_buf_map_has_p2p(p.map));
	imp_read(&f, &p, 0, 16 * KiB, 0x77);
	imp_unmap(&f, vram, &p);
	ccmm_dma_buf_detach(&f.ctx, p.attach);
	ccmm_dma_buf_put(&f.ctx, vram);
	ccmm_ttm_bo_put(&f.ctx, bo);
	assert_int_equal(events(&f), 2);
	fx_fini(&f);
}

/*
 * TDX guest: a device the guest accepted (TDISP RUN) maps private pages
 * without bouncing and reads them with the guest's key; an untrusted NIC
 * bounces the same buffer; without the override the allow-list refuses the
 * NIC's driver at attach.
 */
static void test_tdisp_importer_no_bounce(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct imp acc, nic;
	struct ccmm_dma_buf_attach_info ai = { 0 };
	struct ccmm_dma_buf_attachment *a;
	struct ccmm_swiotlb_stats st;

	fx_init(&f, "mode=tdx\nswiotlb_size=4m");
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 16 * KiB, false, &b), 0);
	cpu_buf(&f, b, 0x71, -1);
	ai.dev = f.rnic;
	assert_int_equal(ccmm_dma_buf_attach(&f.ctx, b, &ai, &a), -EPERM);
	assert_int_equal(nviol(f.m, "device_not_allowed"), 1);
	assert_false(ccmm_dma_dev(f.m, f.rnic)->probed);
	assert_int_equal(ccmm_tdisp_lock(&f.ctx, f.accel), 0);
	assert_int_equal(ccmm_tdisp_run(&f.ctx, f.accel, -1), 0);
	ai.dev = f.accel; /* accepted: its driver binds without the override */
	assert_int_equal(ccmm_dma_buf_attach(&f.ctx, b, &ai, &acc.attach), 0);
	assert_int_equal(imp_map(&f, b, &acc, CCMM_DMA_TO_DEVICE), 0);
	for (unsigned k = 0; k < acc.map->sgt.nents; k++) {
		assert_int_equal(acc.map->sgt.sgl[k].dma_flags, 0);
		assert_int_equal(acc.map->sgt.sgl[k].dma_address, ccmm_sg_phys(&acc.map->sgt.sgl[k]));
	}
	swiotlb_stats(&f, &st);
	assert_int_equal(st.io_tlb_used, 0);
	imp_read(&f, &acc, 0, 16 * KiB, 0x71);
	assert_int_equal(imp_attach(&f, b, &nic, f.rnic, NULL, 0), 0);
	assert_int_equal(imp_map(&f, b, &nic, CCMM_DMA_TO_DEVICE), 0);
	assert_int_equal(nic.map->sgt.sgl[0].dma_flags, CCMM_SG_DMA_SWIOTLB);
	imp_read(&f, &nic, 0, 16 * KiB, 0x71);
	imp_unmap(&f, b, &acc);
	imp_unmap(&f, b, &nic);
	ccmm_dma_buf_detach(&f.ctx, acc.attach);
	ccmm_dma_buf_detach(&f.ctx, nic.attach);
	ccmm_dma_buf_put(&f.ctx, b);
	assert_int_equal(events(&f), 1);
	fx_fini(&f);
}

/* A device a driver bound already is shared, masks and all; an unbound one is bound with the platform's masks. */
static void test_importer_binding(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct imp i, d;

	fx_init(&f, "mode=none");
	assert_int_equal(ccmm_dma_probe(&f.ctx, ccmm_dma_dev(f.m, f.rnic), NULL), 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, ccmm_dma_dev(f.m, f.rnic), 36), 0);
	assert_int_equal(ccmm_dma_buf_export_heap(&f.ctx, 16 * KiB, false, &b), 0);
	assert_int_equal(imp_attach(&f, b, &i, f.rnic, NULL, 0), 0);
	assert_int_equal(ccmm_dma_dev(f.m, f.rnic)->dma_mask, CCMM_DMA_BIT_MASK(36));
	assert_int_equal(imp_attach(&f, b, &d, f.disp, NULL, 0), 0);
	assert_int_equal(ccmm_dma_dev(f.m, f.disp)->dma_mask, CCMM_DMA_BIT_MASK(40));
	assert_ptr_equal(ccmm_ttm_device_dma(f.tdev), ccmm_dma_dev(f.m, f.gpu));
	assert_true(ccmm_dma_dev(f.m, f.gpu)->probed);
	ccmm_dma_buf_detach(&f.ctx, i.attach);
	ccmm_dma_buf_detach(&f.ctx, d.attach);
	ccmm_dma_buf_put(&f.ctx, b);
	assert_int_equal(events(&f), 0);
	fx_fini(&f);
}

/* ---- TDISP ------------------------------------------------------------------------------- */

static void test_tdisp(void **state)
{
	struct fx f;
	uint64_t pa, bar;
	uint8_t buf[64], back[64];
	struct ccmm_result r;
	struct ccmm_dma_buf *priv;
	struct imp kvm, rdma;
	struct ccmm_vma *v;
	int err;

	fx_init(&f, "mode=tdx");
	bar = f.m->plat->devices[f.accel].bar[0].base;
	/* the protocol */
	assert_int_equal(ccmm_tdisp_run(&f.ctx, f.accel, 0), -EINVAL);
	assert_int_equal(ccmm_tdisp_lock(&f.ctx, f.gpu), -EOPNOTSUPP);
	assert_int_equal(nviol(f.m, "tdisp_bad_transition"), 2);
	/* private MMIO cannot be exported from an unlocked device */
	assert_int_equal(ccmm_dma_buf_export_vfio(&f.ctx, f.accel, 0, 0, 16 * KiB, true, true, &priv), -EINVAL);
	assert_int_equal(nviol(f.m, "tdisp_bad_transition"), 3);

	/* before RUN the device cannot reach private memory */
	assert_int_equal(ccmm_alloc_pages(&f.ctx, 0, 0, 0, &pa), 0);
	memset(buf, 0x4d, sizeof(buf));
	assert_int_equal(ccmm_dma_access(&f.ctx, f.accel, NULL, CCMM_WRITE, pa, buf, sizeof(buf), &r), 0);
	assert_int_equal(r.outcome, CCMM_BLOCKED);
	assert_int_equal(nviol(f.m, "dma_private"), 1);

	/* lock, then the guest accepts it: it reaches private memory, and its BAR is private MMIO */
	assert_int_equal(ccmm_tdisp_lock(&f.ctx, f.accel), 0);
	assert_int_equal(ccmm_tdisp_state(f.m, f.accel), CCMM_TDISP_LOCKED);
	assert_false(ccmm_check_device_trusted(f.m, f.accel));
	assert_int_equal(ccmm_tdisp_run(&f.ctx, f.accel, 0), 0);
	assert_true(ccmm_tdisp_secure(f.m, f.accel));
	assert_int_equal(ccmm_dma_access(&f.ctx, f.accel, NULL, CCMM_WRITE, pa, buf, sizeof(buf), &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_READ, ccmm_phys_to_virt(pa), back, sizeof(back), &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_memory_equal(back, buf, sizeof(buf)); /* written with the guest's key */
	/* another device still cannot */
	assert_int_equal(ccmm_dma_access(&f.ctx, f.rnic, NULL, CCMM_READ, pa, back, sizeof(back), &r), 0);
	assert_int_equal(r.outcome, CCMM_BLOCKED);
	/* private MMIO: the guest maps it private and reaches it without exits; the host does not */
	{
		uint64_t va = ccmm_vmap(&f.ctx, &bar, 1, ccmm_page_kernel(f.m) | ccmm_pte_cache_bits(CCMM_CACHE_UC, 1), &err);

		assert_true(va != 0);
		assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_WRITE, va, buf, 8, &r), 0);
		assert_int_equal(r.outcome, CCMM_OK);
		ccmm_vunmap(&f.ctx, va, 1);
		/* a shared ioremap of private MMIO is wrong */
		va = ccmm_ioremap(&f.ctx, bar, 4096, CCMM_CACHE_UC, &err);
		assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_READ, va, back, 8, &r), 0);
		assert_int_equal(r.outcome, CCMM_VE);
		assert_int_equal(nviol(f.m, "enc_mismatch"), 1);
		ccmm_iounmap(&f.ctx, va, 4096);
		/* peer devices outside the TEE cannot reach it */
		assert_int_equal(ccmm_dma_access(&f.ctx, f.rnic, NULL, CCMM_READ, bar, back, 8, &r), 0);
		assert_int_equal(r.outcome, CCMM_BLOCKED);
	}
	/* exported private MMIO: KVM imports its phyr; a DMA importer and host mmap are refused */
	assert_int_equal(ccmm_dma_buf_export_vfio(&f.ctx, f.accel, 0, 0, 16 * KiB, true, true, &priv), 0);
	assert_int_equal(imp_attach(&f, priv, &rdma, f.rnic, &dyn_p2p, CCMM_IMPORTER_REVOCABLE_OK), -EOPNOTSUPP);
	assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, priv, f.vmm, 0, 1, true, &v), -EPERM);
	assert_int_equal(nviol(f.m, "private_mmio_mapped"), 2);
	assert_int_equal(imp_attach(&f, priv, &kvm, -1, &dyn_p2p, CCMM_IMPORTER_PFN | CCMM_IMPORTER_REVOCABLE_OK), 0);
	{
		struct ccmm_phyr p;

		ccmm_dma_resv_lock(&f.ctx, priv->resv, NULL);
		assert_int_equal(ccmm_dma_buf_get_phyr(&f.ctx, kvm.attach, &p), 0);
		ccmm_dma_resv_unlock(&f.ctx, priv->resv);
		assert_true(p.g[0].meta.encrypted);
		assert_false(p.g[0].meta.cpu_mappable);
		ccmm_phyr_free(&p);
	}
	/* STOP: trust and private MMIO withdrawn, the private buffer revoked */
	assert_int_equal(ccmm_tdisp_stop(&f.ctx, f.accel), 0);
	assert_false(ccmm_check_device_trusted(f.m, f.accel));
	assert_true(atomic_load(&priv->revoked));
	assert_int_equal(atomic_load(&kvm.notified), 1);
	{
		struct ccmm_page pg;

		assert_int_equal(ccmm_phys_peek(f.m, bar, &pg), 0);
		assert_int_equal(pg.state, CCMM_PS_SHARED);
	}
	assert_int_equal(ccmm_dma_access(&f.ctx, f.accel, NULL, CCMM_READ, pa, back, sizeof(back), &r), 0);
	assert_int_equal(r.outcome, CCMM_BLOCKED);
	ccmm_dma_buf_detach(&f.ctx, kvm.attach);
	ccmm_dma_buf_put(&f.ctx, priv);
	ccmm_free_pages(&f.ctx, pa, 0);
	fx_fini(&f);
}

/* TDISP LOCK is refused while host user space maps the device's MMIO. */
static void test_tdisp_lock_mapped(void **state)
{
	struct fx f;
	struct ccmm_dma_buf *b;
	struct ccmm_vma *v;

	fx_init(&f, "mode=tdx");
	assert_int_equal(ccmm_dma_buf_export_vfio(&f.ctx, f.accel, 0, 0, 16 * KiB, false, true, &b), 0);
	assert_int_equal(ccmm_dma_buf_mmap(&f.ctx, b, f.vmm, 0, 1, true, &v), 0);
	assert_int_equal(ccmm_tdisp_lock(&f.ctx, f.accel), -EBUSY);
	assert_int_equal(nviol(f.m, "private_mmio_mapped"), 1);
	ccmm_munmap(&f.ctx, f.vmm, v->start, v->end - v->start);
	assert_int_equal(ccmm_tdisp_lock(&f.ctx, f.accel), 0);
	ccmm_dma_buf_put(&f.ctx, b);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_export_checks),
		cmocka_unit_test(test_static_on_dynamic),
		cmocka_unit_test(test_dynamic_on_dynamic),
		cmocka_unit_test(test_move_fence_pending),
		cmocka_unit_test(test_static_exporter),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_lock_rules),
		cmocka_unit_test(test_phyr_importer),
		cmocka_unit_test(test_pfn_import),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_revoke_without_negotiation),
		cmocka_unit_test(test_cpu_access_sync),
		cmocka_unit_test(test_map_info),
		cmocka_unit_test(test_gup),
		cmocka_unit_test(test_bufinfo),
		cmocka_unit_test(test_bufinfo_file_flags),
		cmocka_unit_test(test_tdx_sg_importer_bounces),
		cmocka_unit_test(test_sme_cbit_per_mask),
		cmocka_unit_test(test_iommu_importer),
		cmocka_unit_test(test_tdisp_importer_no_bounce),
		cmocka_unit_test(test_importer_binding),
		cmocka_unit_test(test_tdisp),
		cmocka_unit_test(test_tdisp_lock_mapped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
