// SPDX-License-Identifier: MIT
/*
 * TTM: placements, LRU eviction, pinning and dmem, moves with real copies,
 * page pools per caching mode (decrypted where DMA must be), the fault
 * path's protection bits in every CC mode under both policies, prefault,
 * zap-on-move and refault, kmap/vmap, the per-page resolution, the DMA
 * addresses, and faults racing moves on real threads.
 */
#include "helpers.h"

#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "ttm/ttm.h"

#define KiB 1024ULL

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_ttm_device *tdev;
	struct ccmm_mm *app;
	int gpu;
};

/* The TTM_TT_FLAG_DECRYPTED rule fx_boot gives the device (mainline's unless a test says). */
static enum ccmm_ttm_decrypted_rule fx_rule = CCMM_TTM_DECRYPTED_GUEST;

/* Boot @text and init TTM for device @gpu_name (use_dma_alloc as given). */
static void fx_boot(struct fx *f, const char *text, const char *gpu_name, uint64_t tt_size, bool dma_alloc)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_ttm_params tp;

	if (ccmm_platform_parse("ttm.ini", text, &p, &err))
		fail_msg("platform: %s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_boot(p, 7, &f->m), 0);
	ccmm_ctx_init(&f->ctx, f->m, 0, "driver");
	f->gpu = ccmm_platform_find_device(f->m->plat, gpu_name);
	ccmm_ttm_params_default(&tp, f->gpu);
	tp.tt_size = tt_size;
	tp.use_dma_alloc = dma_alloc;
	tp.dma_no_filter = true; /* the GPU is not on a TDX guest's allow-list: authorized, as the override does */
	tp.decrypted = fx_rule;
	assert_int_equal(ccmm_ttm_device_init(&f->ctx, &tp, &f->tdev), 0);
	assert_int_equal(ccmm_mm_create(f->m, CCMM_INIT_USER, "app", &f->app), 0);
}

/* A machine in @mode_lines with a GPU (1 MiB of VRAM, 48-bit DMA), an RDMA NIC in its P2P group and a 32-bit NIC. */
static void fx_init_dma(struct fx *f, const char *mode_lines, uint64_t tt_size, bool dma_alloc)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "[platform]\ncpus=2\n%s\n[node:0]\nmem=256m\n"
		 "[device:gpu0]\nclass=gpu\npci_id=1002:73bf\ndma_mask=48\np2p_group=0\nbar0=1m pref\n"
		 "[device:rnic0]\nclass=nic\ndma_mask=64\np2p_group=0\nbar0=64k\n"
		 "[device:nic32]\nclass=nic\ndma_mask=32\nbar0=64k 32bit\n",
		 mode_lines);
	fx_boot(f, text, "gpu0", tt_size, dma_alloc);
}

static void fx_init(struct fx *f, const char *mode_lines, uint64_t tt_size)
{
	fx_init_dma(f, mode_lines, tt_size, true);
}

static void fx_fini(struct fx *f)
{
	ccmm_mm_destroy(&f->ctx, f->app);
	ccmm_shutdown(f->m);
}

static struct ccmm_ttm_placement one(enum ccmm_ttm_mem_type t, enum ccmm_cache_mode c)
{
	struct ccmm_ttm_placement pl = { 1, { { t, c } } };

	return pl;
}

static struct ccmm_ttm_bo *bo_new(struct fx *f, uint64_t size, enum ccmm_ttm_mem_type t, enum ccmm_cache_mode c)
{
	struct ccmm_ttm_placement pl = one(t, c);
	struct ccmm_ttm_bo *bo;

	assert_int_equal(ccmm_ttm_bo_create(&f->ctx, f->tdev, size, &pl, "bo", NULL, &bo), 0);
	return bo;
}

static int validate(struct fx *f, struct ccmm_ttm_bo *bo, enum ccmm_ttm_mem_type t, enum ccmm_cache_mode c)
{
	struct ccmm_ttm_placement pl = one(t, c);
	int ret;

	assert_int_equal(ccmm_ttm_bo_reserve(&f->ctx, bo, false, NULL), 0);
	ret = ccmm_ttm_bo_validate(&f->ctx, bo, &pl);
	ccmm_ttm_bo_unreserve(&f->ctx, bo);
	return ret;
}

/* Fill the BO with @pat through a kernel mapping (kmap of the whole BO). */
static void kfill(struct fx *f, struct ccmm_ttm_bo *bo, uint8_t pat)
{
	struct ccmm_ttm_bo_kmap_obj map;
	uint8_t *buf = malloc(bo->size);
	struct ccmm_result r;

	memset(buf, pat, bo->size);
	assert_int_equal(ccmm_ttm_bo_reserve(&f->ctx, bo, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_kmap(&f->ctx, bo, 0, bo->num_pages, &map), 0);
	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_WRITE, map.virt, buf, bo->size, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	ccmm_ttm_bo_kunmap(&f->ctx, &map);
	ccmm_ttm_bo_unreserve(&f->ctx, bo);
	free(buf);
}

/* Every byte of the BO, read through a kernel mapping, is @pat. */
static void kcheck(struct fx *f, struct ccmm_ttm_bo *bo, uint8_t pat)
{
	struct ccmm_ttm_bo_kmap_obj map;
	uint8_t *buf = malloc(bo->size);
	struct ccmm_result r;

	assert_int_equal(ccmm_ttm_bo_reserve(&f->ctx, bo, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_kmap(&f->ctx, bo, 0, bo->num_pages, &map), 0);
	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_READ, map.virt, buf, bo->size, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	for (uint64_t i = 0; i < bo->size; i++)
		if (buf[i] != pat)
			fail_msg("byte %" PRIu64 " is 0x%02x, not 0x%02x", i, buf[i], pat);
	ccmm_ttm_bo_kunmap(&f->ctx, &map);
	ccmm_ttm_bo_unreserve(&f->ctx, bo);
	free(buf);
}

/* ---- placements, eviction, pinning ------------------------------------------------ */

static void test_placement_and_eviction(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *a, *b, *c, *d;
	struct ccmm_ttm_stats st;
	struct ccmm_ttm_placement pl = one(CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);

	fx_init(&f, "mode=none", 4 * CCMM_MiB);
	a = bo_new(&f, 512 * KiB, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	b = bo_new(&f, 512 * KiB, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	assert_int_equal(a->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(b->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_not_equal(a->res.start, b->res.start);
	kfill(&f, a, 0xa1);
	/* b was used after a: a is the least recently used and goes when c needs room */
	kfill(&f, b, 0xb2);
	c = bo_new(&f, 512 * KiB, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	assert_int_equal(c->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(a->res.mem_type, CCMM_TTM_PL_TT); /* VRAM evicts to TT */
	assert_int_equal(a->evictions, 1);
	assert_int_equal(b->res.mem_type, CCMM_TTM_PL_VRAM);
	kcheck(&f, a, 0xa1); /* the bytes were copied out of VRAM */
	kcheck(&f, b, 0xb2);
	ccmm_ttm_device_stats(f.tdev, &st);
	assert_int_equal(st.usage[CCMM_TTM_PL_VRAM], CCMM_MiB);
	assert_int_equal(st.usage[CCMM_TTM_PL_TT], 512 * KiB);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(st.bytes_copied, 512 * KiB);

	/* a pinned BO is never the victim */
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, b, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_pin(&f.ctx, b), 0);
	ccmm_ttm_bo_unreserve(&f.ctx, b);
	assert_int_equal(validate(&f, a, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC), 0);
	assert_int_equal(a->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(c->res.mem_type, CCMM_TTM_PL_TT);
	assert_int_equal(b->res.mem_type, CCMM_TTM_PL_VRAM);
	kcheck(&f, a, 0xa1); /* and back in */
	/* everything pinned: nothing fits */
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, a, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_pin(&f.ctx, a), 0);
	ccmm_ttm_bo_unreserve(&f.ctx, a);
	assert_int_equal(ccmm_ttm_bo_create(&f.ctx, f.tdev, 4096, &pl, "d", NULL, &d), -ENOMEM);
	/* a pinned BO may not move: ttm_bo_validate's "Moving of pinned BOs is forbidden", -EINVAL (issue 18 item 7) */
	assert_int_equal(validate(&f, a, CCMM_TTM_PL_TT, CCMM_CACHE_WC), -EINVAL);
	assert_int_equal(a->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(nviol(f.m, "ttm_pinned_move"), 0); /* the kernel's answer, not a rule violation */
	/* validating it to where it is succeeds: a compatible resource is kept */
	assert_int_equal(validate(&f, a, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC), 0);
	/* unpinning twice is a misuse */
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, a, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_unpin(&f.ctx, a), 0);
	assert_int_equal(ccmm_ttm_bo_unpin(&f.ctx, a), -EINVAL);
	assert_int_equal(nviol(f.m, "ttm_unpin_unpinned"), 1);
	ccmm_ttm_bo_unreserve(&f.ctx, a);
	/* validate without the reservation is a lock-rule violation */
	assert_int_equal(ccmm_ttm_bo_validate(&f.ctx, a, &pl), -EINVAL);
	assert_int_equal(nviol(f.m, "resv_not_locked"), 1);
	/* a fallback placement list takes the first place that fits */
	{
		struct ccmm_ttm_placement two = { 2, { { CCMM_TTM_PL_TT, CCMM_CACHE_WC }, { CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB } } };
		struct ccmm_ttm_bo *big;

		assert_int_equal(ccmm_ttm_bo_create(&f.ctx, f.tdev, 8 * CCMM_MiB, &two, "big", NULL, &big), 0);
		assert_int_equal(big->res.mem_type, CCMM_TTM_PL_SYSTEM); /* larger than the 4 MiB GART */
		ccmm_ttm_bo_put(&f.ctx, big);
	}
	ccmm_ttm_bo_put(&f.ctx, a);
	ccmm_ttm_bo_put(&f.ctx, b);
	ccmm_ttm_bo_put(&f.ctx, c);
	ccmm_ttm_device_stats(f.tdev, &st);
	assert_int_equal(st.usage[CCMM_TTM_PL_VRAM], 0);
	assert_int_equal(st.usage[CCMM_TTM_PL_TT], 0);
	fx_fini(&f);
}

/* The content of cgroup file @path (static buffer). */
static const char *cgread(struct fx *f, const char *path)
{
	static char buf[256];

	buf[0] = 0;
	assert_true(ccmm_cgroup_read(ccmm_cgroup_root_of(f->m), path, buf, sizeof(buf)) >= 0);
	return buf;
}

/* A process in cgroup @path (made with dmem on the way down), as which @ctx runs: "current" for dmem. */
static struct ccmm_task *join(struct fx *f, struct ccmm_ctx *ctx, const char *path)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(f->m);
	struct ccmm_cgroup *cg;
	struct ccmm_task *t;

	assert_int_equal(ccmm_cgroup_mkdir(root, path, true, 1u << CCMM_CGRP_DMEM, &cg), 0);
	assert_int_equal(ccmm_task_create(root, path, NULL, cg, &t), 0);
	ccmm_cgroup_put(cg);
	ctx->task = t;
	return t;
}

/*
 * Item 4 of issue 18: every VRAM allocation is charged to the dmem cgroup
 * of the allocating task (ttm_resource_alloc -> dmem_cgroup_try_charge),
 * not only pinned VRAM; a BO in TT or SYSTEM charges nothing; hitting a
 * cgroup's dmem.max evicts within that cgroup only (ttm_bo_evict_alloc
 * with the limit pool, dmem_cgroup_state_evict_valuable), and a BO that
 * cannot be made room for is -ENOMEM to the caller; freeing uncharges.
 */
static void test_dmem(void **state)
{
	struct fx f;
	struct ccmm_ctx other;
	struct ccmm_task *t1, *t2;
	struct ccmm_ttm_bo *a, *b, *c, *x, *t;
	struct ccmm_ttm_placement vram = one(CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	struct ccmm_ttm_stats st;

	fx_init(&f, "mode=none", 4 * CCMM_MiB);
	ccmm_ctx_init(&other, f.m, 1, "other");
	t1 = join(&f, &f.ctx, "/gpu");
	t2 = join(&f, &other, "/other");
	assert_string_equal(cgread(&f, "/dmem.capacity"), "drm/gpu0/vram0 1048576\n");
	assert_int_equal(ccmm_cgroup_write(ccmm_cgroup_root_of(f.m), NULL, "/gpu/dmem.max", "drm/gpu0/vram0 256k"), 0);
	/* another cgroup's VRAM: charged there, never a victim of /gpu's limit */
	assert_int_equal(ccmm_ttm_bo_create(&other, f.tdev, 256 * KiB, &vram, "x", NULL, &x), 0);
	assert_string_equal(cgread(&f, "/other/dmem.current"), "drm/gpu0/vram0 262144\n");
	/* unpinned VRAM is charged when it is allocated (6.14), TT is not device memory */
	a = bo_new(&f, 256 * KiB, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	t = bo_new(&f, 256 * KiB, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	assert_string_equal(cgread(&f, "/gpu/dmem.current"), "drm/gpu0/vram0 262144\n");
	assert_string_equal(cgread(&f, "/dmem.current"), "drm/gpu0/vram0 524288\n"); /* hierarchical */
	/* /gpu is at its limit while VRAM has room: a is evicted (to TT), b takes its place */
	b = bo_new(&f, 128 * KiB, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	assert_int_equal(a->res.mem_type, CCMM_TTM_PL_TT);
	assert_int_equal(b->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(x->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_string_equal(cgread(&f, "/gpu/dmem.current"), "drm/gpu0/vram0 131072\n");
	ccmm_ttm_device_stats(f.tdev, &st);
	/* dmem_cgroup_try_charge failed twice: ttm_bo_validate's pass without, then the one with eviction */
	assert_int_equal(st.dmem_limit_hits, 2);
	assert_int_equal(st.evictions, 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(ttm, ttm_dmem_limit_hits)], 2);
	/* pinned b cannot go: 256 KiB more is nothing that fits -> -ENOMEM (ttm_bo_validate's -ENOSPC) */
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, b, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_pin(&f.ctx, b), 0);
	ccmm_ttm_bo_unreserve(&f.ctx, b);
	assert_int_equal(ccmm_ttm_bo_create(&f.ctx, f.tdev, 256 * KiB, &vram, "c", NULL, &c), -ENOMEM);
	assert_int_equal(b->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(x->res.mem_type, CCMM_TTM_PL_VRAM);
	/* dmem.max below the usage is accepted (set_resource_max ignores -EBUSY) and charges nothing back */
	assert_int_equal(ccmm_cgroup_write(ccmm_cgroup_root_of(f.m), NULL, "/gpu/dmem.max", "drm/gpu0/vram0 4096"), 0);
	assert_string_equal(cgread(&f, "/gpu/dmem.current"), "drm/gpu0/vram0 131072\n");
	/* moving a BO out of VRAM uncharges it; putting it uncharges too */
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, b, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_unpin(&f.ctx, b), 0);
	ccmm_ttm_bo_unreserve(&f.ctx, b);
	assert_int_equal(validate(&f, b, CCMM_TTM_PL_TT, CCMM_CACHE_WC), 0);
	assert_string_equal(cgread(&f, "/gpu/dmem.current"), "drm/gpu0/vram0 0\n");
	ccmm_ttm_bo_put(&other, x);
	assert_string_equal(cgread(&f, "/other/dmem.current"), "drm/gpu0/vram0 0\n");
	ccmm_ttm_bo_put(&f.ctx, a);
	ccmm_ttm_bo_put(&f.ctx, b);
	ccmm_ttm_bo_put(&f.ctx, t);
	assert_int_equal(ccmm_events_count(f.m), 0);
	ccmm_task_exit(ccmm_cgroup_root_of(f.m), t1);
	ccmm_task_exit(ccmm_cgroup_root_of(f.m), t2);
	f.ctx.task = NULL;
	fx_fini(&f);
}

/*
 * dmem.min / dmem.low in TTM's eviction (ttm_bo_evict_alloc, 6.14): when
 * /p hits its dmem.max, its walk skips the BOs of a child whose usage is
 * within its effective min (dmem_cgroup_state_evict_valuable); low
 * protection is given up only on a second walk, when nothing else could go.
 */
static void test_dmem_protection(void **state)
{
	struct fx f;
	struct ccmm_ctx cb;
	struct ccmm_task *ta, *tb;
	struct ccmm_ttm_bo *a, *b1, *b2, *b3;
	struct ccmm_ttm_placement vram = one(CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	struct ccmm_cgroup_root *root;

	fx_init(&f, "mode=none", 4 * CCMM_MiB);
	root = ccmm_cgroup_root_of(f.m);
	ccmm_ctx_init(&cb, f.m, 1, "b");
	ta = join(&f, &f.ctx, "/p/a");
	tb = join(&f, &cb, "/p/b");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/dmem.max", "drm/gpu0/vram0 512k"), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/a/dmem.min", "drm/gpu0/vram0 256k"), 0);
	/* a is the oldest on the LRU, but its 256 KiB are within its dmem.min */
	a = bo_new(&f, 256 * KiB, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	assert_int_equal(ccmm_ttm_bo_create(&cb, f.tdev, 256 * KiB, &vram, "b1", NULL, &b1), 0);
	assert_int_equal(ccmm_ttm_bo_create(&cb, f.tdev, 256 * KiB, &vram, "b2", NULL, &b2), 0);
	assert_int_equal(a->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(b1->res.mem_type, CCMM_TTM_PL_TT);
	assert_int_equal(b2->res.mem_type, CCMM_TTM_PL_VRAM);
	/* with b2 pinned nothing else may go: a's minimum stands, -ENOMEM */
	assert_int_equal(ccmm_ttm_bo_reserve(&cb, b2, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_pin(&cb, b2), 0);
	ccmm_ttm_bo_unreserve(&cb, b2);
	assert_int_equal(ccmm_ttm_bo_create(&cb, f.tdev, 256 * KiB, &vram, "b3", NULL, &b3), -ENOMEM);
	assert_int_equal(a->res.mem_type, CCMM_TTM_PL_VRAM);
	/* low protection (not min) is given up on the second walk */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/a/dmem.min", "drm/gpu0/vram0 0"), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/a/dmem.low", "drm/gpu0/vram0 256k"), 0);
	assert_int_equal(ccmm_ttm_bo_create(&cb, f.tdev, 256 * KiB, &vram, "b3", NULL, &b3), 0);
	assert_int_equal(a->res.mem_type, CCMM_TTM_PL_TT);
	assert_int_equal(b3->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(ccmm_ttm_bo_reserve(&cb, b2, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_unpin(&cb, b2), 0);
	ccmm_ttm_bo_unreserve(&cb, b2);
	ccmm_ttm_bo_put(&f.ctx, a);
	ccmm_ttm_bo_put(&cb, b1);
	ccmm_ttm_bo_put(&cb, b2);
	ccmm_ttm_bo_put(&cb, b3);
	assert_int_equal(ccmm_events_count(f.m), 0);
	ccmm_task_exit(root, ta);
	ccmm_task_exit(root, tb);
	f.ctx.task = NULL;
	fx_fini(&f);
}

/* ---- moves copy bytes --------------------------------------------------------- */

static void test_moves_copy(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	uint8_t buf[8192];
	struct ccmm_result r;

	fx_init(&f, "mode=none", 4 * CCMM_MiB);
	bo = bo_new(&f, 64 * KiB, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	/* the GPU writes through its bus addresses */
	memset(buf, 0x3c, sizeof(buf));
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
	for (uint64_t off = 0; off < bo->size; off += sizeof(buf)) {
		assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, bo, CCMM_WRITE, off, buf, sizeof(buf), &r), 0);
		assert_int_equal(r.outcome, CCMM_OK);
	}
	ccmm_ttm_bo_unreserve(&f.ctx, bo);
	kcheck(&f, bo, 0x3c);
	/* TT -> VRAM -> (TT) -> SYSTEM -> TT (WB: new pages, a copy) -> TT (WC) */
	assert_int_equal(validate(&f, bo, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC), 0);
	assert_false(bo->tt.populated);
	kcheck(&f, bo, 0x3c);
	assert_int_equal(validate(&f, bo, CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB), 0);
	kcheck(&f, bo, 0x3c);
	assert_int_equal(validate(&f, bo, CCMM_TTM_PL_TT, CCMM_CACHE_WB), 0); /* a bind: same pages */
	assert_int_equal(validate(&f, bo, CCMM_TTM_PL_TT, CCMM_CACHE_WC), 0); /* new caching: new pages */
	assert_int_equal(bo->tt.caching, CCMM_CACHE_WC);
	kcheck(&f, bo, 0x3c);
	/* the GPU reads it back from wherever it is */
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, bo, CCMM_READ, 4096, buf, sizeof(buf), &r), 0);
	assert_int_equal(buf[0], 0x3c);
	assert_int_equal(buf[sizeof(buf) - 1], 0x3c);
	ccmm_ttm_bo_unreserve(&f.ctx, bo);
	assert_int_equal(bo->moves, 5); /* VRAM -> SYSTEM is two hops through TT (-EMULTIHOP, amdgpu_bo_move) */
	assert_int_equal(ccmm_events_count(f.m), 0); /* no cache aliases, no mismatches */
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

/* ---- pools ---------------------------------------------------------------------- */

/*
 * use_dma_alloc in a TDX guest: the pages come from dma_alloc_attrs, which
 * converts them to shared and gives their DMA address; TTM flips only the
 * caching and pools them; the next BO pays no conversion; the shrinker gives
 * them back with dma_free_attrs, which makes them private again.
 */
static void test_pools(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_ttm_stats st;
	struct ccmm_dma_pool_stats ps;
	struct ccmm_dma_dev *dd;
	struct ccmm_page pg;
	struct ccmm_result r;
	uint8_t buf[16];
	uint64_t pa0, conv;

	fx_init(&f, "mode=tdx", 4 * CCMM_MiB);
	dd = ccmm_ttm_device_dma(f.tdev);
	assert_true(dd->probed); /* ttm_device_init bound the GPU */
	assert_int_equal(dd->dma_mask, CCMM_DMA_BIT_MASK(48)); /* with the platform's mask */
	assert_true(ccmm_force_dma_unencrypted(dd));
	bo = bo_new(&f, 16 * KiB, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
	assert_int_equal(ccmm_ttm_tt_populate(&f.ctx, bo), 0);
	assert_true(bo->tt.decrypted); /* TTM_TT_FLAG_DECRYPTED: the DMA API decrypted them */
	assert_false(bo->tt.bounced);
	pa0 = bo->tt.pages[0];
	for (size_t i = 0; i < bo->num_pages; i++)
		assert_int_equal(bo->tt.dma_address[i], bo->tt.pages[i]); /* TDX: shared memory at its plain GPA */
	/* ttm_pool_alloc takes the highest order that fits: one order-2 block, one dma_alloc_attrs */
	assert_int_equal(ccmm_ttm_tt_block_order(bo, 0), 2);
	assert_int_equal(ccmm_dma_live(dd), 1);
	/* the GPU reaches them through the DMA API: no bounce, no violation */
	memset(buf, 0x17, sizeof(buf));
	assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, bo, CCMM_WRITE, 3 * 4096, buf, sizeof(buf), &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	ccmm_ttm_bo_unreserve(&f.ctx, bo);
	/* the pages are shared with the host, and their direct map agrees on WC */
	assert_int_equal(ccmm_phys_peek(f.m, pa0, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_SHARED);
	{
		struct ccmm_walk w;

		assert_int_equal(ccmm_pgt_walk(f.m->direct_map, ccmm_phys_to_virt(pa0), &w), 0);
		assert_int_equal(ccmm_pte_cache_mode(w.pte, w.level), CCMM_CACHE_WC);
		assert_false(ccmm_pte_is_private(f.m, w.pte));
	}
	ccmm_ttm_device_stats(f.tdev, &st);
	assert_int_equal(st.pool_misses, 1);
	assert_int_equal(st.pool_conversions, 1); /* TTM's own flip to WC: one per block (ttm_pool_apply_caching) */
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.converted_pages, 4); /* the DMA API's: to shared, per page */
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_pages_converted)], 4);
	conv = f.ctx.ctr[CCMM_CTR_mapgpa_calls];
	ccmm_ttm_bo_put(&f.ctx, bo);
	ccmm_ttm_device_stats(f.tdev, &st);
	assert_int_equal(st.pool_pages, 4);
	assert_int_equal(ccmm_dma_live(dd), 1); /* pooled by TTM, still allocated from the DMA API */
	assert_int_equal(ccmm_ttm_pool_type_count(f.tdev, CCMM_CACHE_WC, 2), 1);
	/* the next BO of that kind takes the flipped pages back: no conversion */
	bo = bo_new(&f, 16 * KiB, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
	assert_int_equal(ccmm_ttm_tt_populate(&f.ctx, bo), 0);
	ccmm_ttm_bo_unreserve(&f.ctx, bo);
	ccmm_ttm_device_stats(f.tdev, &st);
	assert_int_equal(st.pool_hits, 1);
	assert_int_equal(st.pool_conversions, 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_mapgpa_calls], conv);
	kcheck(&f, bo, 0); /* pooled pages come back cleared */
	ccmm_ttm_bo_put(&f.ctx, bo);
	/* the shrinker gives them to dma_free_attrs: back to WB, then private again (dma_direct_free) */
	assert_int_equal(ccmm_ttm_pool_shrink(&f.ctx, f.m, 100), 4);
	ccmm_ttm_device_stats(f.tdev, &st);
	assert_int_equal(st.pool_restores, 1);
	assert_int_equal(st.pool_pages, 0);
	assert_int_equal(ccmm_dma_live(dd), 0);
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.reencrypted_pages, 4);
	assert_int_equal(ccmm_phys_peek(f.m, pa0, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);
	assert_int_equal(ccmm_events_count(f.m), 0);
	fx_fini(&f);
}

/* ---- the fault path ---------------------------------------------------------------- */

struct mode_case {
	const char *lines;
	bool encrypts;   /* RAM is encrypted unless decrypted */
	bool decrypted;  /* the GPU's TT pages are decrypted */
	const char *legacy_rule; /* what the 2019 policy breaks, NULL for nothing */
	enum ccmm_ttm_mem_type legacy_where;
	bool alias;      /* not x86: WC user PTEs over TT pages whose linear map stays cached */
};

static const struct mode_case modes[] = {
	{ "mode=none", false, false, NULL, 0 },
	{ "mode=sme\nc_bit=47\nphys_bits=47", true, false, "mmio_private", CCMM_TTM_PL_VRAM },
	{ "mode=sev", true, true, "enc_mismatch", CCMM_TTM_PL_TT },
	{ "mode=sev-snp", true, true, "private_access_shared", CCMM_TTM_PL_TT },
	{ "mode=tdx", true, true, "private_access_shared", CCMM_TTM_PL_TT },
	/*
	 * POWER: ttm_pool_apply_caching flips the linear map only under
	 * CONFIG_X86, while ttm_prot_from_caching gives user PTEs WC on
	 * powerpc too: a WC TT mapping aliases the cached linear map (amdgpu
	 * avoids it with drm_arch_can_wc_memory(), false on PPC).
	 */
	{ "mode=pseries-svm", true, true, NULL, 0, true },
};

/* Events recorded beyond the cache aliases a non-x86 WC mapping is expected to make. */
static size_t unexpected_events(struct fx *f, const struct mode_case *mc)
{
	size_t n = ccmm_events_count(f->m), alias = mc->alias ? nviol(f->m, "cache_alias") : 0;

	return n - alias;
}

static uint64_t user_map(struct fx *f, struct ccmm_ttm_bo *bo, struct ccmm_vma **vma)
{
	assert_int_equal(ccmm_ttm_bo_mmap(&f->ctx, bo, f->app, 0, bo->num_pages, true, vma), 0);
	return (*vma)->start;
}

static enum ccmm_outcome uaccess(struct fx *f, enum ccmm_rw rw, uint64_t va, void *buf, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_mm_access(&f->ctx, f->app, rw, va, buf, len, &r), 0);
	return r.outcome;
}

/* An access that completes: plain, or MMIO the hypervisor emulated (#VE, #VC, NPF handled). */
static void uaccess_ok(struct fx *f, enum ccmm_rw rw, uint64_t va, void *buf, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_mm_access(&f->ctx, f->app, rw, va, buf, len, &r), 0);
	if (r.outcome != CCMM_OK && !r.handled)
		fail_msg("access at 0x%" PRIx64 ": %s (%s)", va, ccmm_outcome_name(r.outcome), r.why);
}

/* The PTE at @va: present, special, the cache mode and encryption expected. */
static void check_pte(struct fx *f, uint64_t va, enum ccmm_cache_mode cache, bool enc, uint64_t pa)
{
	struct ccmm_walk w;

	assert_int_equal(ccmm_pgt_walk(f->app->pgt, va, &w), 0);
	assert_true(w.pte & CCMM_PTE_SPECIAL);
	assert_true(w.pte & CCMM_PTE_USER);
	assert_int_equal(ccmm_pte_cache_mode(w.pte, w.level), cache);
	assert_int_equal(ccmm_pte_is_private(f->m, w.pte), ccmm_pte_is_private(f->m, ccmm_pte_mkprivate(f->m, 0, enc)));
	assert_int_equal(w.pa, pa);
}

static void fault_case(const struct mode_case *mc, enum ccmm_ttm_prot_policy policy)
{
	struct fx f;
	struct ccmm_ttm_bo *tt, *vram;
	struct ccmm_vma *vt, *vv;
	uint8_t buf[64], gbuf[64];
	struct ccmm_result r;
	uint64_t at, av;

	fx_init(&f, mc->lines, 4 * CCMM_MiB);
	ccmm_ttm_device_set_policy(f.tdev, policy, CCMM_TTM_RESOLVE_PER_BO);
	tt = bo_new(&f, 32 * 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	vram = bo_new(&f, 32 * 4096, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	assert_int_equal(tt->tt.decrypted, mc->decrypted);
	at = user_map(&f, tt, &vt);
	av = user_map(&f, vram, &vv);
	/* mmap inserts nothing: the first access faults */
	{
		struct ccmm_walk w;

		assert_int_equal(ccmm_pgt_walk(f.app->pgt, at, &w), -EFAULT);
		assert_true(vt->vm_flags & CCMM_VM_PFNMAP && vt->vm_flags & CCMM_VM_IO);
		/* vm_get_page_prot: encrypted wherever RAM is */
		assert_int_equal(ccmm_pte_is_private(f.m, vt->vm_page_prot),
				 ccmm_pte_is_private(f.m, ccmm_pte_mkprivate(f.m, 0, mc->encrypts)));
	}
	/* the GPU writes both, the application reads them */
	memset(gbuf, 0x5d, sizeof(gbuf));
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, tt, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, tt, CCMM_WRITE, 0, gbuf, sizeof(gbuf), &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	ccmm_ttm_bo_unreserve(&f.ctx, tt);
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, vram, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, vram, CCMM_WRITE, 0, gbuf, sizeof(gbuf), &r), 0);
	ccmm_ttm_bo_unreserve(&f.ctx, vram);
	assert_int_equal(ccmm_events_count(f.m), 0);

	memset(buf, 0, sizeof(buf));
	uaccess(&f, CCMM_READ, at, buf, sizeof(buf));
	memset(buf, 0, sizeof(buf));
	uaccess(&f, CCMM_READ, av, buf, sizeof(buf));
	if (policy == CCMM_TTM_PROT_BACKING) {
		/* the protection follows the backing: TT as its pages are, VRAM always decrypted */
		check_pte(&f, at, CCMM_CACHE_WC, mc->encrypts && !mc->decrypted, tt->tt.pages[0]);
		check_pte(&f, av, CCMM_CACHE_WC, false, vram->res.bus_base);
		assert_memory_equal(buf, gbuf, sizeof(buf));
		memset(buf, 0, sizeof(buf));
		assert_int_equal(uaccess(&f, CCMM_READ, at, buf, sizeof(buf)), CCMM_OK);
		assert_memory_equal(buf, gbuf, sizeof(buf));
		assert_int_equal(unexpected_events(&f, mc), 0);
		if (mc->alias)
			assert_int_equal(nviol(f.m, "cache_alias"), 16); /* one per WC PTE the fault inserted */
		/* one fault prefaulted 16 pages, not the 17th */
		check_pte(&f, at + 15 * 4096, CCMM_CACHE_WC, mc->encrypts && !mc->decrypted, tt->tt.pages[15]);
		{
			struct ccmm_walk w;

			assert_int_equal(ccmm_pgt_walk(f.app->pgt, at + 16 * 4096, &w), -EFAULT);
		}
		assert_int_equal(tt->faults, 1);
		assert_int_equal(tt->ptes_inserted, 16);
	} else if (mc->legacy_rule) {
		/* the VMA's encryption bit, whatever the backing: the checker shows the damage */
		assert_true(nviol(f.m, mc->legacy_rule) >= 1);
		check_pte(&f, mc->legacy_where == CCMM_TTM_PL_TT ? at : av, CCMM_CACHE_WC, true,
			  mc->legacy_where == CCMM_TTM_PL_TT ? tt->tt.pages[0] : vram->res.bus_base);
	} else {
		assert_int_equal(unexpected_events(&f, mc), 0);
	}
	assert_int_equal(ccmm_munmap(&f.ctx, f.app, vt->start, vt->end - vt->start), 0);
	assert_int_equal(ccmm_munmap(&f.ctx, f.app, vv->start, vv->end - vv->start), 0);
	assert_int_equal(tt->nr_vmas, 0);
	ccmm_ttm_bo_put(&f.ctx, tt);
	ccmm_ttm_bo_put(&f.ctx, vram);
	fx_fini(&f);
}

static void test_fault_prot_every_mode(void **state)
{
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(modes); i++) {
		fault_case(&modes[i], CCMM_TTM_PROT_BACKING);
		fault_case(&modes[i], CCMM_TTM_PROT_VMA);
	}
}

/* Per-PFN resolution (the PAT-lookup way) gives the same bits as resolving once per BO. */
static void test_per_page_resolution(void **state)
{
	const char *lines[] = { "mode=none", "mode=sev", "mode=tdx", "mode=sme\nc_bit=47\nphys_bits=47" };

	for (size_t i = 0; i < CCMM_ARRAY_SIZE(lines); i++) {
		struct fx f;
		struct ccmm_ttm_bo *bos[2];

		fx_init(&f, lines[i], 4 * CCMM_MiB);
		bos[0] = bo_new(&f, 8 * 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
		bos[1] = bo_new(&f, 8 * 4096, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
		for (int b = 0; b < 2; b++) {
			struct ccmm_ttm_bo *bo = bos[b];
			struct ccmm_vma *v1, *v2;
			uint8_t x;
			struct ccmm_walk w1, w2;

			ccmm_ttm_device_set_policy(f.tdev, CCMM_TTM_PROT_BACKING, CCMM_TTM_RESOLVE_PER_BO);
			user_map(&f, bo, &v1);
			uaccess(&f, CCMM_READ, v1->start, &x, 1);
			ccmm_ttm_device_set_policy(f.tdev, CCMM_TTM_PROT_BACKING, CCMM_TTM_RESOLVE_PER_PAGE);
			user_map(&f, bo, &v2);
			uaccess(&f, CCMM_READ, v2->start, &x, 1);
			for (int p = 0; p < 8; p++) {
				assert_int_equal(ccmm_pgt_walk(f.app->pgt, v1->start + p * 4096ULL, &w1), 0);
				assert_int_equal(ccmm_pgt_walk(f.app->pgt, v2->start + p * 4096ULL, &w2), 0);
				assert_int_equal(w1.pte & ~CCMM_PTE_ACCESSED & ~CCMM_PTE_DIRTY,
						 w2.pte & ~CCMM_PTE_ACCESSED & ~CCMM_PTE_DIRTY);
			}
			ccmm_munmap(&f.ctx, f.app, v1->start, v1->end - v1->start);
			ccmm_munmap(&f.ctx, f.app, v2->start, v2->end - v2->start);
		}
		assert_int_equal(ccmm_events_count(f.m), 0);
		ccmm_ttm_bo_put(&f.ctx, bos[0]);
		ccmm_ttm_bo_put(&f.ctx, bos[1]);
		fx_fini(&f);
	}
}

/* A move zaps the CPU mappings; the next access faults in the new backing, bytes intact. */
static void test_move_zaps_and_refaults(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_vma *v;
	uint8_t buf[256], out[256];
	uint64_t va;
	struct ccmm_walk w;

	fx_init(&f, "mode=sev", 4 * CCMM_MiB);
	bo = bo_new(&f, 8 * 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	va = user_map(&f, bo, &v);
	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(uaccess(&f, CCMM_WRITE, va + 4096, buf, sizeof(buf)), CCMM_OK);
	/* the fault at page 1 prefaulted forward from there: page 0 is still empty */
	check_pte(&f, va + 4096, CCMM_CACHE_WC, false, bo->tt.pages[1]);
	assert_int_equal(ccmm_pgt_walk(f.app->pgt, va, &w), -EFAULT);
	assert_int_equal(validate(&f, bo, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC), 0);
	assert_int_equal(ccmm_pgt_walk(f.app->pgt, va + 4096, &w), -EFAULT); /* zapped */
	uaccess_ok(&f, CCMM_READ, va + 4096, out, sizeof(out)); /* MMIO: emulated */
	assert_memory_equal(out, buf, sizeof(buf));
	check_pte(&f, va + 4096, CCMM_CACHE_WC, false, bo->res.bus_base + 4096);
	/* and to system memory: WB, still from the GPU's decrypted (dma) pool */
	assert_int_equal(validate(&f, bo, CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB), 0);
	assert_int_equal(uaccess(&f, CCMM_READ, va + 4096, out, sizeof(out)), CCMM_OK);
	assert_memory_equal(out, buf, sizeof(buf));
	check_pte(&f, va + 4096, CCMM_CACHE_WB, false, bo->tt.pages[1]);
	assert_int_equal(bo->faults, 3);
	assert_int_equal(ccmm_events_count(f.m), 0);
	ccmm_munmap(&f.ctx, f.app, v->start, v->end - v->start);
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

/* kmap and vmap use the same protection: direct map, vmap with ttm_io_prot, ioremap. */
static void test_kmap(void **state)
{
	{
		/* one cached page of an encrypted SYSTEM BO: the direct map */
		struct fx f;
		struct ccmm_ttm_bo *sys;
		struct ccmm_ttm_bo_kmap_obj map;

		fx_init(&f, "mode=sme\nc_bit=47\nphys_bits=47", 4 * CCMM_MiB);
		sys = bo_new(&f, 4096, CCMM_TTM_PL_SYSTEM, CCMM_CACHE_WB);
		assert_false(sys->tt.decrypted);
		assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, sys, false, NULL), 0);
		assert_int_equal(ccmm_ttm_bo_kmap(&f.ctx, sys, 0, 1, &map), 0);
		assert_int_equal(map.type, CCMM_TTM_KMAP_DIRECT);
		assert_int_equal(map.virt, ccmm_phys_to_virt(sys->tt.pages[0]));
		ccmm_ttm_bo_kunmap(&f.ctx, &map);
		ccmm_ttm_bo_unreserve(&f.ctx, sys);
		ccmm_ttm_bo_put(&f.ctx, sys);
		fx_fini(&f);
	}
	for (int legacy = 0; legacy < 2; legacy++) {
		struct fx f;
		struct ccmm_ttm_bo *tt, *vram;
		struct ccmm_ttm_bo_kmap_obj map;
		struct ccmm_walk w;
		uint8_t buf[64], gbuf[64];
		struct ccmm_result r;

		fx_init(&f, "mode=sev", 4 * CCMM_MiB);
		if (legacy)
			ccmm_ttm_device_set_policy(f.tdev, CCMM_TTM_PROT_VMA, CCMM_TTM_RESOLVE_PER_BO);
		tt = bo_new(&f, 2 * 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
		vram = bo_new(&f, 2 * 4096, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);

		memset(gbuf, 0x42, sizeof(gbuf));
		assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, tt, false, NULL), 0);
		assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, tt, CCMM_WRITE, 0, gbuf, sizeof(gbuf), &r), 0);
		assert_int_equal(ccmm_ttm_bo_kmap(&f.ctx, tt, 0, 1, &map), 0);
		assert_int_equal(map.type, CCMM_TTM_KMAP_VMAP);
		assert_int_equal(ccmm_pgt_walk(ccmm_kernel(f.m)->init_mm, map.virt, &w), 0);
		assert_int_equal(ccmm_pte_cache_mode(w.pte, w.level), CCMM_CACHE_WC);
		assert_int_equal(ccmm_pte_is_private(f.m, w.pte), legacy); /* 2019: PAGE_KERNEL's C-bit */
		assert_int_equal(ccmm_kernel_access(&f.ctx, CCMM_READ, map.virt, buf, sizeof(buf), &r), 0);
		if (legacy) {
			assert_int_equal(r.outcome, CCMM_SCRAMBLED);
			assert_int_equal(nviol(f.m, "enc_mismatch"), 1);
		} else {
			assert_int_equal(r.outcome, CCMM_OK);
			assert_memory_equal(buf, gbuf, sizeof(buf));
		}
		ccmm_ttm_bo_kunmap(&f.ctx, &map);
		ccmm_ttm_bo_unreserve(&f.ctx, tt);

		assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, vram, false, NULL), 0);
		assert_int_equal(ccmm_ttm_bo_kmap(&f.ctx, vram, 1, 1, &map), 0);
		assert_int_equal(map.type, CCMM_TTM_KMAP_IOMAP);
		assert_int_equal(ccmm_pgt_walk(ccmm_kernel(f.m)->init_mm, map.virt, &w), 0);
		assert_false(ccmm_pte_is_private(f.m, w.pte)); /* ioremap: never encrypted */
		assert_int_equal(w.pa, vram->res.bus_base + 4096);
		ccmm_ttm_bo_kunmap(&f.ctx, &map);
		assert_int_equal(ccmm_ttm_bo_kmap(&f.ctx, vram, 1, 2, &map), -EINVAL);
		ccmm_ttm_bo_unreserve(&f.ctx, vram);
		assert_int_equal(ccmm_ttm_bo_kmap(&f.ctx, vram, 0, 1, &map), -EINVAL); /* not reserved */
		ccmm_ttm_bo_put(&f.ctx, tt);
		ccmm_ttm_bo_put(&f.ctx, vram);
		fx_fini(&f);
	}
}

/* ---- DMA addresses through the DMA API ------------------------------------------------ */

static void swiotlb_used(struct fx *f, uint64_t *used)
{
	struct ccmm_swiotlb_stats st;

	ccmm_swiotlb_stats(ccmm_swiotlb_default(f->m), &st);
	*used = st.io_tlb_used;
}

/*
 * No use_dma_alloc in a TDX guest: ttm_pool_map maps every page with
 * dma_map_page(BIDIRECTIONAL) from populate to unpopulate -- a long-lived
 * bounce. The GPU reads and writes the SWIOTLB copy; the CPU, through the
 * BO's mappings, sees the private pages: stale data, dma_cpu_unsynced. A
 * move copies the stale pages and the GPU's bytes are lost; unpopulate
 * gives the slots back.
 */
static void test_tt_long_lived_bounce(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_dma_dev *dd;
	struct ccmm_vma *v;
	struct ccmm_page pg;
	struct ccmm_result r;
	uint8_t gbuf[64], buf[64];
	uint64_t used;

	fx_init_dma(&f, "mode=tdx\nswiotlb_size=4m", 4 * CCMM_MiB, false);
	dd = ccmm_ttm_device_dma(f.tdev);
	bo = bo_new(&f, 8 * 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
	assert_int_equal(ccmm_ttm_tt_populate(&f.ctx, bo), 0);
	assert_false(bo->tt.decrypted); /* nothing decrypted: the pages stay private */
	assert_true(bo->tt.bounced);
	assert_int_equal(ccmm_phys_peek(f.m, bo->tt.pages[0], &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);
	for (size_t i = 0; i < bo->num_pages; i++) {
		assert_int_not_equal(bo->tt.dma_address[i], bo->tt.pages[i]); /* a bounce slot */
		assert_true(ccmm_dma_need_sync(dd, bo->tt.dma_address[i]));
	}
	swiotlb_used(&f, &used);
	assert_int_equal(used, 8 * 2); /* two 2 KiB slots per page, held while populated */
	assert_int_equal(ccmm_ttm_tt_block_order(bo, 0), 3);
	assert_int_equal(ccmm_dma_live(dd), 1); /* ttm_pool_map: one dma_map_page per block */
	/* the GPU writes and reads back its copy: fine for the GPU */
	memset(gbuf, 0x6e, sizeof(gbuf));
	assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, bo, CCMM_WRITE, 4096, gbuf, sizeof(gbuf), &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, bo, CCMM_READ, 4096, buf, sizeof(buf), &r), 0);
	assert_memory_equal(buf, gbuf, sizeof(buf));
	ccmm_ttm_bo_unreserve(&f.ctx, bo);
	assert_int_equal(ccmm_events_count(f.m), 0);
	/* the application's mapping shows the page as it was: zeros, and the access is flagged once */
	user_map(&f, bo, &v);
	assert_int_equal(ccmm_ttm_bo_cpu_access_check(&f.ctx, bo, 4096, sizeof(buf), CCMM_READ), 1);
	memset(buf, 0xff, sizeof(buf));
	assert_int_equal(uaccess(&f, CCMM_READ, v->start + 4096, buf, sizeof(buf)), CCMM_OK);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(nviol(f.m, "dma_cpu_unsynced"), 1);
	/* nothing to say about VRAM, or with nothing populated */
	assert_int_equal(validate(&f, bo, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC), 0);
	assert_int_equal(nviol(f.m, "dma_cpu_unsynced"), 2); /* the move's CPU copy read the device-owned pages */
	assert_false(bo->tt.populated);
	swiotlb_used(&f, &used);
	assert_int_equal(used, 0);
	assert_int_equal(ccmm_dma_live(dd), 0);
	assert_int_equal(ccmm_ttm_bo_cpu_access_check(&f.ctx, bo, 0, bo->size, CCMM_READ), 0);
	/* the GPU's bytes were in the bounce buffer, not in what the move copied: lost */
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
	assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, bo, CCMM_READ, 4096, buf, sizeof(buf), &r), 0);
	ccmm_ttm_bo_unreserve(&f.ctx, bo);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	ccmm_munmap(&f.ctx, f.app, v->start, v->end - v->start);
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

/*
 * Bare metal with an IOMMU: the GPU's TT pages are DMAed through IOVAs,
 * from dma_alloc_attrs or from dma_map_page; an access outside them is
 * stopped by the IOMMU and reported against the DMA API's records.
 */
static void test_tt_iommu(void **state)
{
	static const char text[] = "[platform]\ncpus=2\nmode=none\n[node:0]\nmem=256m\n[iommu:vt0]\nkind=generic\n"
				   "[device:gpu0]\nclass=gpu\npci_id=8086:56a0\ndma_mask=46\niommu=vt0\nbar0=1m pref\n";

	for (int dma_alloc = 0; dma_alloc < 2; dma_alloc++) {
		struct fx f;
		struct ccmm_ttm_bo *bo;
		struct ccmm_dma_dev *dd;
		struct ccmm_result r;
		uint8_t buf[32], back[32];

		fx_boot(&f, text, "gpu0", 4 * CCMM_MiB, dma_alloc);
		dd = ccmm_ttm_device_dma(f.tdev);
		assert_int_equal(dd->path, CCMM_DMA_PATH_IOMMU);
		bo = bo_new(&f, 4 * 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
		kfill(&f, bo, 0x2d);
		assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
		for (size_t i = 0; i < bo->num_pages; i++)
			assert_int_not_equal(bo->tt.dma_address[i], bo->tt.pages[i]); /* an IOVA */
		assert_false(bo->tt.bounced);
		assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, bo, CCMM_READ, 2 * 4096 + 8, back, sizeof(back), &r), 0);
		assert_int_equal(r.outcome, CCMM_OK);
		memset(buf, 0x2d, sizeof(buf));
		assert_memory_equal(back, buf, sizeof(buf));
		assert_int_equal(ccmm_events_count(f.m), 0);
		/* a DMA to a physical address the IOMMU was never given: no mapping, no translation */
		assert_int_equal(ccmm_dma_device_access(&f.ctx, dd, CCMM_READ, bo->tt.pages[0], back, 8, &r), 0);
		assert_int_equal(r.outcome, CCMM_BLOCKED);
		assert_int_equal(nviol(f.m, "dma_device_unmapped"), 1);
		ccmm_ttm_bo_unreserve(&f.ctx, bo);
		ccmm_ttm_bo_put(&f.ctx, bo);
		fx_fini(&f);
	}
}

/*
 * SME: the DMA API decides per device. A GPU whose masks reach the C-bit
 * gets encrypted coherent pages, DMAed with the C-bit; a 32-bit one gets
 * decrypted pages DMAed without it. Seed 000's 2019 rule
 * (CCMM_TTM_DECRYPTED_DEVICE: force_dma_unencrypted(dev)) marks that tt
 * TTM_TT_FLAG_DECRYPTED and maps it decrypted: both GPUs read what the CPU
 * wrote. Mainline's ttm_tt_create sets the flag only in a guest
 * (cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT)): on an SME host the 32-bit
 * GPU's decrypted pages are mapped encrypted, and the CPU's bytes reach
 * the GPU scrambled -- the divergence the decrypted rule exists to show.
 */
static void test_tt_sme_per_mask(void **state)
{
	static const char text[] = "[platform]\ncpus=2\nmode=sme\nc_bit=47\nphys_bits=47\n[node:0]\nmem=256m\n"
				   "[device:gpu0]\nclass=gpu\ndma_mask=48\nbar0=1m pref\n"
				   "[device:gpu32]\nclass=gpu\ndma_mask=32\nbar0=1m pref 32bit\n";
	const char *gpus[] = { "gpu0", "gpu32" };

	for (int rule = 0; rule < 2; rule++) {
		for (int g = 0; g < 2; g++) {
			bool dev_rule = rule == 1, mapped_dec = g == 1 && dev_rule;
			struct fx f;
			struct ccmm_ttm_bo *bo;
			struct ccmm_result r;
			uint8_t back[16], want[16];
			struct ccmm_vma *v;

			fx_rule = dev_rule ? CCMM_TTM_DECRYPTED_DEVICE : CCMM_TTM_DECRYPTED_GUEST;
			fx_boot(&f, text, gpus[g], 4 * CCMM_MiB, true);
			fx_rule = CCMM_TTM_DECRYPTED_GUEST;
			bo = bo_new(&f, 2 * 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
			kfill(&f, bo, 0x4b);
			assert_int_equal(bo->tt.decrypted, mapped_dec);
			for (size_t i = 0; i < bo->num_pages; i++)
				assert_int_equal(bo->tt.dma_address[i],
						 g == 0 ? bo->tt.pages[i] | f.m->enc_mask : bo->tt.pages[i]);
			assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
			assert_int_equal(ccmm_ttm_bo_gpu_access(&f.ctx, bo, CCMM_READ, 4096, back, sizeof(back), &r), 0);
			ccmm_ttm_bo_unreserve(&f.ctx, bo);
			memset(want, 0x4b, sizeof(want));
			if (g == 1 && !dev_rule) {
				/* mainline on an SME host: the CPU wrote through the C-bit, the GPU reads ciphertext */
				assert_memory_not_equal(back, want, sizeof(back));
				ccmm_ttm_bo_put(&f.ctx, bo);
				fx_fini(&f);
				continue;
			}
			assert_int_equal(r.outcome, CCMM_OK);
			assert_memory_equal(back, want, sizeof(back));
			/* the user mapping follows the pages: encrypted, or decrypted */
			user_map(&f, bo, &v);
			assert_int_equal(uaccess(&f, CCMM_READ, v->start, back, sizeof(back)), CCMM_OK);
			assert_memory_equal(back, want, sizeof(back));
			check_pte(&f, v->start, CCMM_CACHE_WC, !mapped_dec, bo->tt.pages[0]);
			assert_int_equal(ccmm_events_count(f.m), 0);
			ccmm_munmap(&f.ctx, f.app, v->start, v->end - v->start);
			ccmm_ttm_bo_put(&f.ctx, bo);
			fx_fini(&f);
		}
	}
}

/* ttm_device_init binds the GPU as its driver's probe would: refused by the TDX allow-list, or sharing a binding. */
static void test_device_binding(void **state)
{
	static const char text[] = "[platform]\ncpus=2\nmode=tdx\n[node:0]\nmem=256m\n"
				   "[device:gpu0]\nclass=gpu\npci_id=1002:73bf\ndma_mask=44\nbar0=1m pref\n";
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_ttm_params tp;
	struct ccmm_ttm_device *tdev;
	struct ccmm_dma_probe_opts all = { .no_filter = true };

	assert_int_equal(ccmm_platform_parse("ttm.ini", text, &p, &err), 0);
	assert_int_equal(ccmm_boot(p, 7, &m), 0);
	ccmm_ctx_init(&ctx, m, 0, "driver");
	ccmm_ttm_params_default(&tp, 0);
	assert_int_equal(ccmm_ttm_device_init(&ctx, &tp, &tdev), -EPERM);
	assert_int_equal(nviol(m, "device_not_allowed"), 1);
	assert_null(ccmm_ttm_device_find(m, 0));
	/* a driver probed it with the override and chose a 40-bit mask: TTM shares that binding */
	assert_int_equal(ccmm_dma_probe(&ctx, ccmm_dma_dev(m, 0), &all), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&ctx, ccmm_dma_dev(m, 0), 40), 0);
	assert_int_equal(ccmm_ttm_device_init(&ctx, &tp, &tdev), 0);
	assert_ptr_equal(ccmm_ttm_device_dma(tdev), ccmm_dma_dev(m, 0));
	assert_int_equal(ccmm_dma_dev(m, 0)->dma_mask, CCMM_DMA_BIT_MASK(40));
	assert_int_equal(ccmm_ttm_device_init(&ctx, &tp, &tdev), -EEXIST);
	ccmm_shutdown(m);
}

/* ---- real threads ------------------------------------------------------------------ */

struct mover {
	struct fx *f;
	struct ccmm_ttm_bo *bo;
	unsigned moves;
	atomic_bool *stop;
	bool hold;  /* just hold the reservation for a while */
};

static void *mover_thread(void *arg)
{
	struct mover *mv = arg;
	struct ccmm_ctx ctx;
	struct ccmm_ttm_placement pl[2] = { one(CCMM_TTM_PL_VRAM, CCMM_CACHE_WC), one(CCMM_TTM_PL_TT, CCMM_CACHE_WC) };

	ccmm_ctx_init(&ctx, mv->f->m, 1, "mover");
	if (mv->hold) {
		TCHECK(ccmm_ttm_bo_reserve(&ctx, mv->bo, false, NULL) == 0);
		atomic_store(mv->stop, true); /* tell the app it can go */
		/* hold it until the faulting thread sleeps on it */
		while (!atomic_load(&mv->bo->resv->lock.waiters))
			sched_yield();
		ccmm_ttm_bo_unreserve(&ctx, mv->bo);
		return NULL;
	}
	for (unsigned i = 0; i < mv->moves; i++) {
		TCHECK(ccmm_ttm_bo_reserve(&ctx, mv->bo, false, NULL) == 0);
		TCHECK(ccmm_ttm_bo_validate(&ctx, mv->bo, &pl[i & 1]) == 0);
		ccmm_ttm_bo_unreserve(&ctx, mv->bo);
	}
	atomic_store(mv->stop, true);
	return NULL;
}

/* An application reads its mapping while another thread moves the BO back and forth. */
static void test_faults_race_moves(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_vma *v;
	atomic_bool stop = false;
	struct mover mv;
	pthread_t t;
	uint64_t va;
	unsigned reads = 0;

	TCHECK_CASE();
	fx_init(&f, "mode=none", 4 * CCMM_MiB);
	bo = bo_new(&f, 16 * 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	kfill(&f, bo, 0x6b);
	va = user_map(&f, bo, &v);
	mv = (struct mover){ &f, bo, 60, &stop, false };
	assert_int_equal(pthread_create(&t, NULL, mover_thread, &mv), 0);
	while (!atomic_load(&stop) || reads < 20) {
		uint8_t buf[512];
		uint64_t off = ((uint64_t)(reads * 7919) % 16) * 4096;

		assert_int_equal(uaccess(&f, CCMM_READ, va + off, buf, sizeof(buf)), CCMM_OK);
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i] != 0x6b)
				fail_msg("read 0x%02x at +%zu after %u reads", buf[i], i, reads);
		reads++;
	}
	pthread_join(t, NULL);
	TCHECK_DONE();
	assert_int_equal(bo->moves, 60);
	assert_int_equal(ccmm_events_count(f.m), 0);
	ccmm_munmap(&f.ctx, f.app, v->start, v->end - v->start);
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

/* A fault that finds the reservation held drops the mmap_lock, waits and retries. */
static void test_fault_retry(void **state)
{
	struct fx f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_vma *v;
	atomic_bool held = false;
	struct mover mv;
	pthread_t t;
	uint8_t x = 1;

	fx_init(&f, "mode=none", 4 * CCMM_MiB);
	bo = bo_new(&f, 4096, CCMM_TTM_PL_TT, CCMM_CACHE_WC);
	user_map(&f, bo, &v);
	mv = (struct mover){ &f, bo, 0, &held, true };
	assert_int_equal(pthread_create(&t, NULL, mover_thread, &mv), 0);
	while (!atomic_load(&held))
		sched_yield();
	assert_int_equal(uaccess(&f, CCMM_READ, v->start, &x, 1), CCMM_OK);
	assert_int_equal(x, 0);
	pthread_join(t, NULL);
	assert_true(bo->fault_retries >= 1);
	assert_int_equal(bo->faults, 1);
	/* the same thread holding the reservation and touching the mapping would wait for itself */
	assert_int_equal(ccmm_zap_vma_range(&f.ctx, v, v->start, 4096), 1);
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, bo, false, NULL), 0);
	assert_int_equal(uaccess(&f, CCMM_READ, v->start, &x, 1), CCMM_PF);
	assert_true(nviol(f.m, "mutex_self_deadlock") >= 1);
	ccmm_ttm_bo_unreserve(&f.ctx, bo);
	ccmm_munmap(&f.ctx, f.app, v->start, v->end - v->start);
	ccmm_ttm_bo_put(&f.ctx, bo);
	fx_fini(&f);
}

/* A reservation held by another thread's transaction until told to let go. */
struct ticket_holder {
	struct fx *f;
	struct ccmm_ttm_bo *bo;
	struct ccmm_ww_acquire_ctx *acq; /* initialised by the test: its age decides */
	atomic_bool locked, release, released;
	int linger_ms; /* how long it still holds the reservation once told to let go */
};

static void *ticket_holder_thread(void *arg)
{
	struct ticket_holder *h = arg;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, h->f->m, 1, "holder");
	TCHECK(ccmm_ttm_bo_reserve(&ctx, h->bo, false, h->acq) == 0);
	atomic_store(&h->locked, true);
	while (!atomic_load(&h->release))
		sched_yield();
	if (h->linger_ms) {
		struct timespec ts = { 0, h->linger_ms * 1000000L };

		nanosleep(&ts, NULL);
	}
	atomic_store(&h->released, true);
	ccmm_ttm_bo_unreserve(&ctx, h->bo);
	TCHECK(ccmm_ww_acquire_fini(&ctx, h->acq) == 0);
	return NULL;
}

/*
 * Eviction with a ticket, reservation_ww_class being wait-die (DEFINE_WD_CLASS in
 * drivers/dma-buf/dma-resv.c): ttm_bo_evict_alloc trylocks first, then
 * ttm_lru_walk_ticketlock waits for a busy BO with the evictor's ticket. A
 * younger evictor meeting an older holder dies: the walk's -EDEADLK becomes
 * -ENOSPC and ttm_bo_validate's -ENOMEM, and the ticket's contended lock is
 * the busy BO's. An older evictor waits for the younger holder, then evicts.
 * ttm_bo_reserve with no_wait and a ticket is -EBUSY without trying.
 */
static void test_ticket_eviction(void **state)
{
	struct ccmm_ttm_placement vram = one(CCMM_TTM_PL_VRAM, CCMM_CACHE_WC);
	struct ccmm_ww_acquire_ctx older, younger;
	struct ticket_holder h = { .locked = false, .release = false, .released = false };
	struct ccmm_ttm_bo *busy, *mine;
	pthread_t t;
	struct fx f;

	TCHECK_CASE();
	(void)state;
	fx_init(&f, "mode=none", 4 * CCMM_MiB);
	busy = bo_new(&f, CCMM_MiB, CCMM_TTM_PL_VRAM, CCMM_CACHE_WC); /* VRAM is full */
	mine = bo_new(&f, 256 * KiB, CCMM_TTM_PL_TT, CCMM_CACHE_WC);

	/* no_wait with a ticket: refused, nothing locked */
	ccmm_ww_acquire_init(&older, &ccmm_reservation_ww_class);
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, mine, true, &older), -EBUSY);
	assert_false(ccmm_dma_resv_held(mine->resv));
	assert_int_equal(older.acquired, 0);

	/* the older transaction holds the busy BO; the younger one wants its VRAM */
	h = (struct ticket_holder){ &f, busy, &older, false, false, false, 0 };
	ccmm_ww_acquire_init(&younger, &ccmm_reservation_ww_class);
	assert_int_equal(pthread_create(&t, NULL, ticket_holder_thread, &h), 0);
	while (!atomic_load(&h.locked))
		sched_yield();
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, mine, false, &younger), 0);
	assert_ptr_equal(ccmm_dma_resv_locking_ctx(mine->resv), &younger);
	assert_int_equal(ccmm_ttm_bo_validate(&f.ctx, mine, &vram), -ENOMEM);
	assert_ptr_equal(younger.contending_lock, &busy->resv->lock);
	assert_int_equal(mine->res.mem_type, CCMM_TTM_PL_TT);
	assert_int_equal(busy->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_false(atomic_load(&h.released)); /* it did not wait for the older one */
	ccmm_ttm_bo_unreserve(&f.ctx, mine);
	assert_int_equal(ccmm_ww_acquire_fini(&f.ctx, &younger), 0);
	atomic_store(&h.release, true);
	pthread_join(t, NULL);

	/* now the holder is younger: the older evictor waits for it, then evicts */
	ccmm_ww_acquire_init(&older, &ccmm_reservation_ww_class);
	ccmm_ww_acquire_init(&younger, &ccmm_reservation_ww_class);
	h = (struct ticket_holder){ &f, busy, &younger, false, false, false, 30 };
	assert_int_equal(pthread_create(&t, NULL, ticket_holder_thread, &h), 0);
	while (!atomic_load(&h.locked))
		sched_yield();
	assert_int_equal(ccmm_ttm_bo_reserve(&f.ctx, mine, false, &older), 0);
	/* the holder lets go 30 ms later: the trylock walk finds nothing, the ticket waits */
	atomic_store(&h.release, true);
	assert_int_equal(ccmm_ttm_bo_validate(&f.ctx, mine, &vram), 0);
	assert_true(atomic_load(&h.released));
	assert_null(older.contending_lock);
	assert_int_equal(mine->res.mem_type, CCMM_TTM_PL_VRAM);
	assert_int_equal(busy->res.mem_type, CCMM_TTM_PL_TT);
	assert_int_equal(busy->evictions, 1);
	ccmm_ttm_bo_unreserve(&f.ctx, mine);
	assert_int_equal(ccmm_ww_acquire_fini(&f.ctx, &older), 0);
	pthread_join(t, NULL);
	assert_false(ccmm_dma_resv_held(busy->resv));
	TCHECK_DONE();
	assert_int_equal(ccmm_events_count(f.m), 0);
	ccmm_ttm_bo_put(&f.ctx, mine);
	ccmm_ttm_bo_put(&f.ctx, busy);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_placement_and_eviction),
		cmocka_unit_test(test_dmem),
		cmocka_unit_test(test_dmem_protection),
		cmocka_unit_test(test_moves_copy),
		cmocka_unit_test(test_pools),
		cmocka_unit_test(test_fault_prot_every_mode),
		cmocka_unit_test(test_per_page_resolution),
		cmocka_unit_test(test_move_zaps_and_refaults),
		cmocka_unit_test(test_kmap),
		cmocka_unit_test(test_tt_long_lived_bounce),
		cmocka_unit_test(test_tt_iommu),
		cmocka_unit_test(test_tt_sme_per_mask),
		cmocka_unit_test(test_device_binding),
		cmocka_unit_test(test_faults_race_moves),
		cmocka_unit_test(test_fault_retry),
		cmocka_unit_test(test_ticket_eviction),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
