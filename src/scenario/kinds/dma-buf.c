// SPDX-License-Identifier: MIT
/*
 * Exporter actor kinds:
 *   gpu    a GPU driver: TTM buffer objects (create, validate, evict, pin,
 *          GPU and kernel accesses), fences for work in flight, and
 *          dma-buf export of its BOs
 *   vfio   a VFIO device: exports BAR ranges as revocable buffers (private
 *          MMIO with TDISP), revokes them, drives TDISP
 *   heap   a dma-heap: system or restricted buffers
 * and the helpers every dma-buf kind shares.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/kinds/dma-buf.h"

const char _ccmm_kind_type_bo[] = "bo";
const char _ccmm_kind_type_buf[] = "dma-buf";
const char _ccmm_kind_type_fence[] = "fence";
const char _ccmm_kind_type_map[] = "cpu-map";

const char *const _ccmm_kind_cache_names[] = { "wb", "wc", "uc", NULL };
const char *const _ccmm_kind_usage_names[] = { "kernel", "write", "read", "bookkeep", NULL };


/* ---- shared helpers --------------------------------------------------------------- */

struct ccmm_obj *_ccmm_kind_obj(struct ccmm_actor *a, const struct ccmm_op *op, int idx, const char *type)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, idx);

	if (!o)
		return NULL;
	if (o->kind != CCMM_OBJ_OTHER || !o->type || strcmp(o->type, type)) {
		ccmm_run_fail(a, op, -EINVAL, "%s: '%s' is not a %s", op->verb->name, o->name, type);
		return NULL;
	}
	return o;
}

struct ccmm_dma_buf *_ccmm_kind_buf_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	struct ccmm_obj *o = _ccmm_kind_obj(a, op, idx, _ccmm_kind_type_buf);

	return o ? ((struct kind_buf *)o->priv)->b : NULL;
}

struct ccmm_dma_resv *_ccmm_kind_resv_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, idx);

	if (!o)
		return NULL;
	if (o->kind == CCMM_OBJ_OTHER && o->type == _ccmm_kind_type_bo)
		return ((struct ccmm_ttm_bo *)o->priv)->resv;
	if (o->kind == CCMM_OBJ_OTHER && o->type == _ccmm_kind_type_buf)
		return ((struct kind_buf *)o->priv)->b->resv;
	ccmm_run_fail(a, op, -EINVAL, "%s: '%s' is neither a bo nor a dma-buf", op->verb->name, o->name);
	return NULL;
}

int _ccmm_kind_add(struct ccmm_actor *a, const struct ccmm_op *op, int idx, const char *type, void *priv,
	     void (*destroy)(struct ccmm_run *run, struct ccmm_obj *o), struct ccmm_obj **out)
{
	struct ccmm_obj *o;
	int ret = ccmm_obj_add(a, ccmm_arg_str(op, idx), &o);

	if (ret)
		return ret;
	o->kind = CCMM_OBJ_OTHER;
	o->type = type;
	o->priv = priv;
	o->destroy = destroy;
	if (out)
		*out = o;
	return 0;
}

int _ccmm_kind_resv_lock(struct ccmm_actor *a, struct ccmm_dma_resv *resv)
{
	return ccmm_dma_resv_lock(&a->ctx, resv, NULL);
}

const struct ccmm_arg_spec _ccmm_kind_bufinfo_args[] = {
	{ "file", CCMM_ARG_STR, true, true, NULL, NULL, "where to write it (relative to the job file)" },
	{ NULL }
};

int _ccmm_kind_bufinfo(struct ccmm_actor *a, const struct ccmm_op *op, const char *path)
{
	char full[1100];
	struct ccmm_outfile of;
	int ret;

	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else
		snprintf(full, sizeof(full), "%s/%s", a->run->job->dir, path);
	ret = ccmm_outfile_open(&of, full);
	if (ret)
		return ccmm_run_fail(a, op, ret, "bufinfo: cannot create %s: %s", full, strerror(-ret));
	ret = ccmm_dma_buf_bufinfo(a->run->m, of.fp);
	if (ret) {
		ccmm_outfile_abort(&of);
		return ret;
	}
	return ccmm_outfile_commit(&of);
}

int _ccmm_kind_verb_bufinfo(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return _ccmm_kind_bufinfo(a, op, ccmm_arg_str(op, 0));
}

static void buf_destroy(struct ccmm_run *run, struct ccmm_obj *o)
{
	struct kind_buf *kb = o->priv;
	struct ccmm_ctx ctx;

	if (!kb->put) {
		ccmm_ctx_init(&ctx, run->m, -1, "run end");
		ccmm_dma_buf_put(&ctx, kb->b);
	}
	free(kb);
}

/* A new "dma-buf" object named by argument @idx holding @b's reference. */
static int add_buf(struct ccmm_actor *a, const struct ccmm_op *op, int idx, struct ccmm_dma_buf *b)
{
	struct kind_buf *kb = calloc(1, sizeof(*kb));
	int ret;

	if (!kb) {
		ccmm_dma_buf_put(&a->ctx, b);
		return -ENOMEM;
	}
	kb->b = b;
	ret = _ccmm_kind_add(a, op, idx, _ccmm_kind_type_buf, kb, buf_destroy, NULL);
	if (ret) {
		ccmm_dma_buf_put(&a->ctx, b);
		free(kb);
	}
	return ret;
}

static const struct ccmm_arg_spec put_args[] = {
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the dma-buf" },
	{ NULL }
};

/* dma_buf_put of the job's reference; the object stays so later uses show as use-after-release. */
static int verb_put(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = _ccmm_kind_obj(a, op, 0, _ccmm_kind_type_buf);
	struct kind_buf *kb;

	if (!o)
		return -ENOENT;
	kb = o->priv;
	if (kb->put) {
		/* a second put: the kernel would underflow the file count */
		return ccmm_dma_buf_get(&a->ctx, kb->b) ? 0 : -EBADF;
	}
	kb->put = true;
	ccmm_dma_buf_put(&a->ctx, kb->b);
	return 0;
}

/* ---- gpu ----------------------------------------------------------------------------- */

struct gpu_opts {
	char device[CCMM_NAME_MAX];
	char cgroup[CCMM_NAME_MAX];
	uint64_t vram, tt, prefault, dmem_max;
	int policy, resolve;
	bool dma_alloc;
	bool filter;
	bool fault_race_bug;
};

static const char *const policy_names[] = { "backing", "vma", NULL };
static const char *const resolve_names[] = { "per_bo", "per_page", NULL };
static const char *const place_names[] = { "system", "tt", "vram", NULL };
static const char *const fallback_names[] = { "none", "system", "tt", NULL };
static const char *const info_names[] = { "incoherent", "wc", "cached", NULL };

static const struct ccmm_option gpu_options[] = {
	{ "device", CCMM_OPT_STR, offsetof(struct gpu_opts, device), 0, CCMM_NAME_MAX, false, NULL, NULL,
	  "the platform GPU this driver runs" },
	{ "vram", CCMM_OPT_U64, offsetof(struct gpu_opts, vram), 0, 0, true, NULL, "0",
	  "bytes of the BAR managed as VRAM (0: the whole BAR 0)" },
	{ "tt", CCMM_OPT_U64, offsetof(struct gpu_opts, tt), 0, 0, true, NULL, "64m", "bytes of GART aperture" },
	{ "policy", CCMM_OPT_ENUM, offsetof(struct gpu_opts, policy), 0, 0, false, policy_names, "backing",
	  "fault protection: from the backing (today) or the VMA (the 2019 way)" },
	{ "resolve", CCMM_OPT_ENUM, offsetof(struct gpu_opts, resolve), 0, 0, false, resolve_names, "per_bo",
	  "protection resolved once per BO or looked up per PFN" },
	{ "prefault", CCMM_OPT_U64, offsetof(struct gpu_opts, prefault), 1, 512, false, NULL, "16",
	  "PTEs one fault inserts at most" },
	{ "cgroup", CCMM_OPT_STR, offsetof(struct gpu_opts, cgroup), 0, CCMM_NAME_MAX, false, NULL, "",
	  "the cgroup the driver's process runs in (created with dmem when missing): TTM charges every VRAM "
	  "allocation it makes to that cgroup's dmem (empty: the root)" },
	{ "dmem_max", CCMM_OPT_U64, offsetof(struct gpu_opts, dmem_max), 0, 0, true, NULL, "0",
	  "dmem.max of that cgroup for the GPU's VRAM region, bytes (0: max; needs cgroup)" },
	{ "dma_alloc", CCMM_OPT_BOOL, offsetof(struct gpu_opts, dma_alloc), 0, 0, false, NULL, "yes",
	  "TT pages from dma_alloc_attrs (decrypted where DMA must be); no: dma_map_page of plain pages" },
	{ "filter", CCMM_OPT_BOOL, offsetof(struct gpu_opts, filter), 0, 0, false, NULL, "yes",
	  "TDX: enforce the guest's device allow-list when the driver binds the GPU (no: the override)" },
	{ "fault_race_bug", CCMM_OPT_BOOL, offsetof(struct gpu_opts, fault_race_bug), 0, 0, false, NULL, "no",
	  "bug: the CPU fault handler looks the backing up before the reservation and inserts it after waiting for a move" },
	{ NULL }
};

/* The platform device @name, checked at load time: 0 or a FILE:LINE error. */
static int find_dev(struct ccmm_job *job, struct ccmm_actor *a, const char *name, struct ccmm_error *err)
{
	int d = ccmm_actor_find_device(job, a, name, err);

	return d < 0 ? d : 0;
}

static int gpu_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct gpu_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };
	int ret = find_dev(job, a, o->device, err), d;

	if (ret)
		return ret;
	d = ccmm_platform_find_device(job->plat, o->device);
	if (!job->plat->devices[d].bar[0].size)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: device %s has no BAR 0 for VRAM", a->name, o->device);
	if (o->vram > job->plat->devices[d].bar[0].size)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: vram %" PRIu64 " is larger than %s's BAR 0 (%" PRIu64 ")",
				      a->name, o->vram, o->device, job->plat->devices[d].bar[0].size);
	if (!CCMM_IS_ALIGNED(o->vram | o->tt, CCMM_PAGE_SIZE))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: vram and tt must be multiples of 4 KiB", a->name);
	if (o->cgroup[0]) {
		char what[CCMM_NAME_MAX + 16];

		snprintf(what, sizeof(what), "[%s] cgroup", a->name);
		ret = ccmm_cgroup_job_path_check(job, o->cgroup, &loc, what, err);
		if (ret)
			return ret;
	}
	if (o->dmem_max && (!o->cgroup[0] || !strcmp(o->cgroup, "/")))
		return ccmm_error_set(err, &loc, -EINVAL,
				      "[%s]: dmem_max needs a cgroup (the root has no dmem.max, as in the kernel)", a->name);
	return 0;
}

struct gpu_state {
	struct ccmm_ttm_device *tdev;
	int dev;
	uint64_t fence_ctx, seqno;
	struct ccmm_task *task;          /* the driver's process in its cgroup ("current" for dmem), or NULL */
	bool joined;                     /* it joined (or tried) at the first step */
};

/* Write "REGION VALUE" to the dmem file @file (max, min, low) of the GPU's cgroup. */
static int gpu_dmem_write(struct ccmm_actor *a, struct ccmm_ttm_device *tdev, const char *file, uint64_t value)
{
	struct gpu_opts *o = a->opts;
	char path[CCMM_NAME_MAX + 16], text[160];
	struct ccmm_dmem_region *region = ccmm_ttm_device_dmem_region(tdev);

	if (!region || !o->cgroup[0])
		return -EINVAL;
	snprintf(path, sizeof(path), "%s/dmem.%s", o->cgroup, file);
	if (value)
		snprintf(text, sizeof(text), "%s %" PRIu64, ccmm_dmem_region_name(region), value);
	else
		snprintf(text, sizeof(text), "%s %s", ccmm_dmem_region_name(region), strcmp(file, "max") ? "0" : "max");
	return ccmm_cgroup_write(ccmm_cgroup_root_of(a->run->m), &a->ctx, path, text);
}

/*
 * The driver's process joins its cgroup at its first step (so a cgroup
 * actor's mkdir can come first: order them with signal/wait), and the
 * dmem_max option is written there.
 */
static int gpu_join_cgroup(struct ccmm_actor *a, struct gpu_state *s)
{
	struct gpu_opts *o = a->opts;
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(a->run->m);
	struct ccmm_cgroup *cg;
	int ret;

	s->joined = true;
	if (!o->cgroup[0])
		return 0;
	cg = ccmm_cgroup_lookup(root, o->cgroup);
	if (!cg)
		return ccmm_run_fail(a, NULL, -ENOENT,
				     "cgroup '%s' does not exist when the driver starts: order it after the mkdir with "
				     "signal/wait", o->cgroup);
	ret = ccmm_task_create(root, a->name, NULL, cg, &s->task);
	ccmm_cgroup_put(cg);
	if (ret)
		return ccmm_run_fail(a, NULL, ret, "cannot run in cgroup '%s': %s", o->cgroup, strerror(-ret));
	a->ctx.task = s->task;
	if (o->dmem_max) {
		ret = gpu_dmem_write(a, s->tdev, "max", o->dmem_max);
		if (ret)
			return ccmm_run_fail(a, NULL, ret, "dmem_max: cannot write %s/dmem.max: %s (is dmem enabled there?)",
					     o->cgroup, strerror(-ret));
	}
	return 0;
}

static int gpu_start(struct ccmm_actor *a)
{
	struct gpu_opts *o = a->opts;
	struct gpu_state *s = calloc(1, sizeof(*s));
	struct ccmm_ttm_params p;
	int ret;

	if (!s)
		return -ENOMEM;
	s->dev = ccmm_platform_find_device(a->run->m->plat, o->device);
	s->tdev = ccmm_ttm_device_find(a->run->m, s->dev);
	if (!s->tdev) {
		ccmm_ttm_params_default(&p, s->dev);
		p.vram_size = o->vram;
		p.tt_size = o->tt;
		p.policy = (enum ccmm_ttm_prot_policy)o->policy;
		p.resolve = (enum ccmm_ttm_prot_resolve)o->resolve;
		p.prefault = (unsigned)o->prefault;
		p.use_dma_alloc = o->dma_alloc;
		p.dma_no_filter = !o->filter;
		p.fault_race_bug = o->fault_race_bug;
		ret = ccmm_ttm_device_init(&a->ctx, &p, &s->tdev);
		if (ret) {
			free(s);
			return ret;
		}
	}
	s->fence_ctx = ccmm_dma_fence_context_alloc(1);
	a->priv = s;
	return 0;
}

static void gpu_stop(struct ccmm_actor *a)
{
	struct gpu_state *s = a->priv;

	if (s && s->task)
		ccmm_task_exit(ccmm_cgroup_root_of(a->run->m), s->task);
	a->ctx.task = NULL;
	free(s);
	a->priv = NULL;
}

static struct gpu_state *gpu_of(struct ccmm_actor *a)
{
	struct gpu_state *s = a->priv;

	if (!s->joined)
		gpu_join_cgroup(a, s);
	return s;
}

static void bo_destroy(struct ccmm_run *run, struct ccmm_obj *o)
{
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, run->m, -1, "run end");
	ccmm_ttm_bo_put(&ctx, o->priv);
}

static struct ccmm_ttm_bo *bo_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	struct ccmm_obj *o = _ccmm_kind_obj(a, op, idx, _ccmm_kind_type_bo);

	return o ? o->priv : NULL;
}

/* The placement an op asks for: place= cache= (cache defaults: WB for system, WC otherwise), fallback=. */
static void placement_of(const struct ccmm_op *op, int place_idx, int cache_idx, int fb_idx,
			 struct ccmm_ttm_placement *pl)
{
	enum ccmm_ttm_mem_type t = (enum ccmm_ttm_mem_type)ccmm_arg_choice(op, place_idx);
	enum ccmm_cache_mode c = ccmm_arg_set(op, cache_idx) ? (enum ccmm_cache_mode)ccmm_arg_choice(op, cache_idx)
			       : t == CCMM_TTM_PL_SYSTEM ? CCMM_CACHE_WB
							 : CCMM_CACHE_WC;

	memset(pl, 0, sizeof(*pl));
	pl->place[pl->nr++] = (struct ccmm_ttm_place){ t, c };
	if (fb_idx >= 0 && ccmm_arg_choice(op, fb_idx)) {
		enum ccmm_ttm_mem_type f = ccmm_arg_choice(op, fb_idx) == 1 ? CCMM_TTM_PL_SYSTEM : CCMM_TTM_PL_TT;

		pl->place[pl->nr++] = (struct ccmm_ttm_place){ f, f == CCMM_TTM_PL_SYSTEM ? CCMM_CACHE_WB : CCMM_CACHE_WC };
	}
}

enum { BC_NAME, BC_SIZE, BC_PLACE, BC_CACHE, BC_FALLBACK };

static const struct ccmm_arg_spec bo_create_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the BO's name" },
	{ "size", CCMM_ARG_SIZE, true, true, NULL, NULL, "bytes (rounded up to pages)" },
	{ "place", CCMM_ARG_ENUM, false, false, place_names, "vram", "where it goes" },
	{ "cache", CCMM_ARG_ENUM, false, false, _ccmm_kind_cache_names, NULL, "CPU caching (default: wb in system, else wc)" },
	{ "fallback", CCMM_ARG_ENUM, false, false, fallback_names, "none", "a second place if the first is full" },
	{ NULL }
};

static int verb_bo_create(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_ttm_placement pl;
	struct ccmm_ttm_bo *bo;
	int ret;

	placement_of(op, BC_PLACE, BC_CACHE, BC_FALLBACK, &pl);
	ret = ccmm_ttm_bo_create(&a->ctx, gpu_of(a)->tdev, ccmm_arg_u64(a, op, BC_SIZE), &pl, ccmm_arg_str(op, BC_NAME),
				 NULL, &bo);
	if (ret)
		return ret;
	ret = _ccmm_kind_add(a, op, BC_NAME, _ccmm_kind_type_bo, bo, bo_destroy, NULL);
	if (ret)
		ccmm_ttm_bo_put(&a->ctx, bo);
	return ret;
}

static const struct ccmm_arg_spec bo_validate_args[] = {
	{ "bo", CCMM_ARG_OBJ, true, true, NULL, NULL, "the BO" },
	{ "place", CCMM_ARG_ENUM, true, true, place_names, NULL, "where it goes" },
	{ "cache", CCMM_ARG_ENUM, false, false, _ccmm_kind_cache_names, NULL, "CPU caching" },
	{ NULL }
};

/* Reserve the BO unless the actor holds it already; *@mine tells whether to unreserve. */
static int reserve(struct ccmm_actor *a, struct ccmm_ttm_bo *bo, bool *mine)
{
	*mine = !ccmm_dma_resv_held(bo->resv);
	return *mine ? _ccmm_kind_resv_lock(a, bo->resv) : 0;
}

static void unreserve(struct ccmm_actor *a, struct ccmm_ttm_bo *bo, bool mine)
{
	if (mine)
		ccmm_ttm_bo_unreserve(&a->ctx, bo);
}

static int verb_bo_validate(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_ttm_bo *bo = bo_arg(a, op, 0);
	struct ccmm_ttm_placement pl;
	bool mine;
	int ret;

	if (!bo)
		return -ENOENT;
	placement_of(op, 1, 2, -1, &pl);
	ret = reserve(a, bo, &mine);
	if (ret)
		return ret;
	ret = ccmm_ttm_bo_validate(&a->ctx, bo, &pl);
	unreserve(a, bo, mine);
	return ret;
}

static const struct ccmm_arg_spec bo_only_args[] = {
	{ "bo", CCMM_ARG_OBJ, true, true, NULL, NULL, "the BO" },
	{ NULL }
};

static int bo_locked_op(struct ccmm_actor *a, const struct ccmm_op *op, int (*fn)(struct ccmm_ctx *, struct ccmm_ttm_bo *))
{
	struct ccmm_ttm_bo *bo = bo_arg(a, op, 0);
	bool mine;
	int ret;

	if (!bo)
		return -ENOENT;
	ret = reserve(a, bo, &mine);
	if (ret)
		return ret;
	ret = fn(&a->ctx, bo);
	unreserve(a, bo, mine);
	return ret;
}

static int verb_bo_evict(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return bo_locked_op(a, op, ccmm_ttm_bo_evict);
}

static int verb_bo_pin(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return bo_locked_op(a, op, ccmm_ttm_bo_pin);
}

static int verb_bo_unpin(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return bo_locked_op(a, op, ccmm_ttm_bo_unpin);
}

static const struct ccmm_arg_spec bo_write_args[] = { CCMM_WRITE_ARG_SPECS("bo", "the BO") };

static const struct ccmm_arg_spec bo_read_args[] = { CCMM_READ_ARG_SPECS("bo", "the BO") };

static int gpu_dma_fn(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
		      struct ccmm_result *r)
{
	return ccmm_ttm_bo_gpu_access(&a->ctx, arg, rw, off, buf, len, r);
}

struct kmap_arg {
	struct ccmm_ttm_bo_kmap_obj map;
};

/* The kernel touches the BO through its kmap: TTM syncs nothing, so bounced tt pages are stale to it. */
static int kmap_fn(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
		   struct ccmm_result *r)
{
	struct kmap_arg *k = arg;

	ccmm_ttm_bo_cpu_access_check(&a->ctx, k->map.bo, (k->map.first_page << CCMM_PAGE_SHIFT) + off, len, rw);
	return ccmm_kernel_access(&a->ctx, rw, k->map.virt + off, buf, len, r);
}

static int bo_rw(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw, bool kernel)
{
	struct ccmm_ttm_bo *bo = bo_arg(a, op, CCMM_RW_OBJ);
	uint64_t off, len;
	int pat, verify, ret;
	bool mine;

	if (!bo)
		return -ENOENT;
	if (ccmm_op_span(a, op, bo->size, CCMM_RW_OFF, CCMM_RW_LEN, &off, &len))
		return -EINVAL;
	pat = (int)(ccmm_arg_u64(a, op, CCMM_RW_PAT) & 0xff);
	verify = rw == CCMM_READ && ccmm_arg_set(op, CCMM_RW_PAT) ? pat : -1;
	ret = reserve(a, bo, &mine);
	if (ret)
		return ret;
	if (kernel) {
		struct kmap_arg k;

		ret = ccmm_ttm_bo_kmap(&a->ctx, bo, 0, bo->num_pages, &k.map);
		if (!ret) {
			ret = ccmm_move_data(a, &k, rw, off, len, pat, verify, kmap_fn);
			ccmm_ttm_bo_kunmap(&a->ctx, &k.map);
		}
	} else {
		ret = ccmm_move_data(a, bo, rw, off, len, pat, verify, gpu_dma_fn);
	}
	unreserve(a, bo, mine);
	return ret;
}

static int verb_bo_write(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return bo_rw(a, op, CCMM_WRITE, false);
}

static int verb_bo_read(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return bo_rw(a, op, CCMM_READ, false);
}

static int verb_bo_kwrite(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return bo_rw(a, op, CCMM_WRITE, true);
}

static int verb_bo_kread(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return bo_rw(a, op, CCMM_READ, true);
}

static int verb_bo_put(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = _ccmm_kind_obj(a, op, 0, _ccmm_kind_type_bo);

	if (!o)
		return -ENOENT;
	ccmm_ttm_bo_put(&a->ctx, o->priv);
	ccmm_obj_del(a->run, o);
	return 0;
}

static const struct ccmm_arg_spec export_bo_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the dma-buf's name" },
	{ "bo", CCMM_ARG_OBJ, true, true, NULL, NULL, "the BO to export" },
	{ "info", CCMM_ARG_ENUM, false, false, info_names, "wc", "the map info it declares (DMA_BUF_IOCTL_INFO)" },
	{ NULL }
};

static int verb_export_bo(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_ttm_bo *bo = bo_arg(a, op, 1);
	struct ccmm_dma_buf *b;
	int ret;

	if (!bo)
		return -ENOENT;
	ret = ccmm_dma_buf_export_ttm(&a->ctx, bo, (enum ccmm_dma_buf_map_info)ccmm_arg_choice(op, 2), &b);
	return ret ? ret : add_buf(a, op, 0, b);
}

/* ---- fences ----------------------------------------------------------------------------- */

static void fence_destroy(struct ccmm_run *run, struct ccmm_obj *o)
{
	struct kind_fence *kf = o->priv;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, run->m, -1, "run end");
	if (!kf->put) {
		ccmm_dma_fence_signal(&ctx, kf->f); /* work never finished: let everyone go */
		ccmm_dma_fence_put(&ctx, kf->f);
	}
	free(kf);
}

static const struct ccmm_arg_spec fence_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the fence's name" },
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "the BO or dma-buf whose reservation gets it" },
	{ "usage", CCMM_ARG_ENUM, false, false, _ccmm_kind_usage_names, "write", "kernel, write, read or bookkeep" },
	{ NULL }
};

/* Work in flight on a buffer: a new fence on this GPU's timeline, added to its reservation. */
static int verb_fence(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_resv *resv = _ccmm_kind_resv_arg(a, op, 1);
	struct gpu_state *s = gpu_of(a);
	struct kind_fence *kf;
	bool mine;
	int ret;

	if (!resv)
		return -ENOENT;
	kf = calloc(1, sizeof(*kf));
	if (!kf)
		return -ENOMEM;
	ret = ccmm_dma_fence_create(a->run->m, NULL, s->fence_ctx, ++s->seqno, &kf->f);
	if (ret) {
		free(kf);
		return ret;
	}
	mine = !ccmm_dma_resv_held(resv);
	ret = mine ? _ccmm_kind_resv_lock(a, resv) : 0;
	if (!ret) {
		ret = ccmm_dma_resv_reserve_fences(&a->ctx, resv, 1);
		if (!ret)
			ret = ccmm_dma_resv_add_fence(&a->ctx, resv, kf->f, (enum ccmm_dma_resv_usage)ccmm_arg_choice(op, 2));
		if (mine)
			ccmm_dma_resv_unlock(&a->ctx, resv);
	}
	if (!ret)
		ret = _ccmm_kind_add(a, op, 0, _ccmm_kind_type_fence, kf, fence_destroy, NULL);
	if (ret) {
		ccmm_dma_fence_signal(&a->ctx, kf->f);
		ccmm_dma_fence_put(&a->ctx, kf->f);
		free(kf);
	}
	return ret;
}

static struct kind_fence *fence_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	struct ccmm_obj *o = _ccmm_kind_obj(a, op, idx, _ccmm_kind_type_fence);

	return o ? o->priv : NULL;
}

static const struct ccmm_arg_spec fence_signal_args[] = {
	{ "fence", CCMM_ARG_OBJ, true, true, NULL, NULL, "the fence" },
	{ "error", CCMM_ARG_U64, false, false, NULL, NULL, "signal with this errno (a number, e.g. 5 for EIO)" },
	{ NULL }
};

static int verb_fence_signal(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct kind_fence *kf = fence_arg(a, op, 0);
	int ret;

	if (!kf)
		return -ENOENT;
	if (ccmm_arg_set(op, 1)) {
		ret = ccmm_dma_fence_set_error(&a->ctx, kf->f, -(int)ccmm_arg_u64(a, op, 1));
		if (ret)
			return ret;
	}
	return ccmm_dma_fence_signal(&a->ctx, kf->f);
}

static const struct ccmm_arg_spec fence_only_args[] = {
	{ "fence", CCMM_ARG_OBJ, true, true, NULL, NULL, "the fence" },
	{ NULL }
};

static int verb_fence_put(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct kind_fence *kf = fence_arg(a, op, 0);

	if (!kf)
		return -ENOENT;
	kf->put = true;
	ccmm_dma_fence_put(&a->ctx, kf->f);
	return 0;
}

static const struct ccmm_arg_spec fence_wait_args[] = {
	{ "fence", CCMM_ARG_OBJ, true, true, NULL, NULL, "the fence" },
	{ "timeout", CCMM_ARG_U64, false, false, NULL, "1000000000", "wall-clock ns (the sim engine cannot signal meanwhile)" },
	{ NULL }
};

static int verb_fence_wait(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct kind_fence *kf = fence_arg(a, op, 0);
	int64_t r;

	if (!kf)
		return -ENOENT;
	r = ccmm_dma_fence_wait_timeout(&a->ctx, kf->f, (int64_t)ccmm_arg_u64(a, op, 1));
	return r < 0 ? (int)r : r == 0 ? -ETIME : 0;
}

static const struct ccmm_arg_spec resv_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "a BO or dma-buf" },
	{ NULL }
};

static int verb_lock(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_resv *resv = _ccmm_kind_resv_arg(a, op, 0);

	return resv ? _ccmm_kind_resv_lock(a, resv) : -ENOENT;
}

static int verb_unlock(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_resv *resv = _ccmm_kind_resv_arg(a, op, 0);

	return resv ? ccmm_dma_resv_unlock(&a->ctx, resv) : -ENOENT;
}

static const struct ccmm_arg_spec move_notify_args[] = {
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the dma-buf" },
	{ "done", CCMM_ARG_OBJ, false, false, NULL, NULL,
	  "the fence of the move (a pipelined copy): the old location is the buffer's until it signals (default: "
	  "the move is over at once)" },
	{ NULL }
};

/* dma_buf_move_notify, then the move takes effect: now, or when the done= fence signals. */
static int verb_move_notify(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_buf *b = _ccmm_kind_buf_arg(a, op, 0);
	struct kind_fence *kf = NULL;
	int ret;

	if (!b)
		return -ENOENT;
	if (ccmm_arg_set(op, 1)) {
		kf = fence_arg(a, op, 1);
		if (!kf)
			return -ENOENT;
	}
	ret = ccmm_dma_buf_move_begin(&a->ctx, b);
	return ret ? ret : ccmm_dma_buf_move_done(&a->ctx, b, kf ? kf->f : NULL);
}

static const struct ccmm_arg_spec policy_args[] = {
	{ "policy", CCMM_ARG_ENUM, false, false, policy_names, NULL, "backing or vma" },
	{ "resolve", CCMM_ARG_ENUM, false, false, resolve_names, NULL, "per_bo or per_page" },
	{ NULL }
};

static int verb_policy(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_ttm_device *tdev = gpu_of(a)->tdev;
	const struct ccmm_ttm_params *p = ccmm_ttm_device_params(tdev);

	ccmm_ttm_device_set_policy(tdev, ccmm_arg_set(op, 0) ? (enum ccmm_ttm_prot_policy)ccmm_arg_choice(op, 0) : p->policy,
				   ccmm_arg_set(op, 1) ? (enum ccmm_ttm_prot_resolve)ccmm_arg_choice(op, 1) : p->resolve);
	return 0;
}

static const struct ccmm_arg_spec dmem_args[] = {
	{ "max", CCMM_ARG_SIZE, false, false, NULL, NULL, "write dmem.max of the GPU's cgroup (0: max)" },
	{ "min", CCMM_ARG_SIZE, false, false, NULL, NULL, "write dmem.min" },
	{ "low", CCMM_ARG_SIZE, false, false, NULL, NULL, "write dmem.low" },
	{ NULL }
};

/* echo "drm/DEV/vram0 VALUE" > CGROUP/dmem.{max,min,low} */
static int verb_dmem(struct ccmm_actor *a, const struct ccmm_op *op)
{
	static const char *const files[] = { "max", "min", "low" };
	struct ccmm_ttm_device *tdev = gpu_of(a)->tdev;
	int ret = 0;

	if (!((struct gpu_opts *)a->opts)->cgroup[0])
		return ccmm_run_fail(a, op, -EINVAL, "dmem: the gpu runs in the root cgroup, which has no dmem limits");
	for (int i = 0; i < 3 && !ret; i++)
		if (ccmm_arg_set(op, i))
			ret = gpu_dmem_write(a, tdev, files[i], ccmm_arg_u64(a, op, i));
	return ret;
}

static const struct ccmm_arg_spec shrink_args[] = {
	{ "pages", CCMM_ARG_U64, false, false, NULL, "1000000", "pooled pages to give back" },
	{ NULL }
};

static int verb_shrink(struct ccmm_actor *a, const struct ccmm_op *op)
{
	ccmm_ttm_pool_shrink(&a->ctx, a->run->m, ccmm_arg_u64(a, op, 0));
	return 0;
}

static const struct ccmm_verb gpu_verbs[] = {
	{ "bo_create", "a buffer object (ttm_bo_init_reserved + validate)", bo_create_args, verb_bo_create },
	{ "bo_validate", "move it into a placement (ttm_bo_validate), evicting LRU victims if needed", bo_validate_args,
	  verb_bo_validate },
	{ "bo_evict", "evict it now, as memory pressure would", bo_only_args, verb_bo_evict },
	{ "bo_pin", "pin it where it is (ttm_bo_pin: never evicted, validate elsewhere is EINVAL)", bo_only_args,
	  verb_bo_pin },
	{ "bo_unpin", "unpin it", bo_only_args, verb_bo_unpin },
	{ "bo_write", "the GPU writes it by DMA", bo_write_args, verb_bo_write },
	{ "bo_read", "the GPU reads it by DMA, optionally verifying", bo_read_args, verb_bo_read },
	{ "bo_kwrite", "the kernel writes it through ttm_bo_kmap", bo_write_args, verb_bo_kwrite },
	{ "bo_kread", "the kernel reads it through ttm_bo_kmap", bo_read_args, verb_bo_kread },
	{ "bo_put", "drop the BO (its mappings and exports keep it alive)", bo_only_args, verb_bo_put },
	{ "export", "export a BO as a dma-buf (dynamic, amdgpu-style)", export_bo_args, verb_export_bo },
	{ "put", "dma_buf_put of the job's reference", put_args, verb_put },
	{ "fence", "GPU work in flight on a buffer: a fence in its reservation", fence_args, verb_fence },
	{ "fence_signal", "the work completes (optionally with an error)", fence_signal_args, verb_fence_signal },
	{ "fence_put", "drop the job's fence reference", fence_only_args, verb_fence_put },
	{ "fence_wait", "wait for a fence", fence_wait_args, verb_fence_wait },
	{ "lock", "dma_resv_lock the buffer's reservation", resv_args, verb_lock },
	{ "unlock", "dma_resv_unlock it", resv_args, verb_unlock },
	{ "move_notify", "dma_buf_move_notify and the move (the exporter must hold the reservation)", move_notify_args,
	  verb_move_notify },
	{ "policy", "switch the fault-protection policy or resolution", policy_args, verb_policy },
	{ "dmem", "write dmem.max / min / low of the GPU's cgroup for its VRAM region", dmem_args, verb_dmem },
	{ "shrink", "the pool shrinker (ttm_pool_shrinker_scan): pooled pages back, restored to WB and encrypted",
	  shrink_args, verb_shrink },
	{ "bufinfo", "write /sys/kernel/debug/dma_buf/bufinfo", _ccmm_kind_bufinfo_args, _ccmm_kind_verb_bufinfo },
	{ NULL }
};

static const struct ccmm_actor_kind ccmm_kind_gpu = {
	.name = "gpu",
	.help = "a GPU driver: TTM buffer objects, fences, dma-buf export",
	.options = gpu_options,
	.opts_size = sizeof(struct gpu_opts),
	.verbs = gpu_verbs,
	.check = gpu_check,
	.start = gpu_start,
	.stop = gpu_stop,
};

/* ---- vfio ------------------------------------------------------------------------------ */

struct vfio_opts {
	char device[CCMM_NAME_MAX];
	bool negotiate;
};

static const struct ccmm_option vfio_options[] = {
	{ "device", CCMM_OPT_STR, offsetof(struct vfio_opts, device), 0, CCMM_NAME_MAX, false, NULL, NULL,
	  "the platform device VFIO owns" },
	{ "negotiate", CCMM_OPT_BOOL, offsetof(struct vfio_opts, negotiate), 0, 0, false, NULL, "yes",
	  "refuse importers that cannot take a revoke (no: today's kernel)" },
	{ NULL }
};

static int vfio_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	return find_dev(job, a, ((struct vfio_opts *)a->opts)->device, err);
}

static int vfio_dev(struct ccmm_actor *a)
{
	return ccmm_platform_find_device(a->run->m->plat, ((struct vfio_opts *)a->opts)->device);
}

static const struct ccmm_arg_spec vfio_export_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the dma-buf's name" },
	{ "bar", CCMM_ARG_U64, false, false, NULL, "0", "BAR number" },
	{ "off", CCMM_ARG_SIZE, false, false, NULL, "0", "offset in the BAR" },
	{ "size", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: to the end of the BAR)" },
	{ "private", CCMM_ARG_BOOL, false, false, NULL, "no", "private MMIO (TDISP LOCKED or RUN)" },
	{ NULL }
};

static int verb_vfio_export(struct ccmm_actor *a, const struct ccmm_op *op)
{
	const struct ccmm_platform *p = a->run->m->plat;
	int dev = vfio_dev(a);
	uint64_t bar = ccmm_arg_u64(a, op, 1), off = ccmm_arg_u64(a, op, 2), size;
	struct ccmm_dma_buf *b;
	int ret;

	if (bar >= CCMM_MAX_BARS || !p->devices[dev].bar[bar].size)
		return ccmm_run_fail(a, op, -EINVAL, "export: %s has no BAR %" PRIu64, p->devices[dev].name, bar);
	size = ccmm_arg_set(op, 3) ? ccmm_arg_u64(a, op, 3)
				   : (p->devices[dev].bar[bar].size > off ? p->devices[dev].bar[bar].size - off : 0);
	ret = ccmm_dma_buf_export_vfio(&a->ctx, dev, (unsigned)bar, off, size, ccmm_arg_choice(op, 4),
				       ((struct vfio_opts *)a->opts)->negotiate, &b);
	return ret ? ret : add_buf(a, op, 0, b);
}

static int verb_revoke(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_buf *b = _ccmm_kind_buf_arg(a, op, 0);

	return b ? ccmm_dma_buf_revoke(&a->ctx, b) : -ENOENT;
}

static int verb_unrevoke(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_buf *b = _ccmm_kind_buf_arg(a, op, 0);

	return b ? ccmm_dma_buf_unrevoke(&a->ctx, b) : -ENOENT;
}

static const char *const tdisp_ops[] = { "lock", "run", "stop", NULL };

static const struct ccmm_arg_spec tdisp_args[] = {
	{ "request", CCMM_ARG_ENUM, true, true, tdisp_ops, NULL, "lock, run or stop" },
	{ "private_bar", CCMM_ARG_U64, false, false, NULL, NULL, "run: the BAR the guest accepts as private MMIO" },
	{ NULL }
};

static int verb_tdisp(struct ccmm_actor *a, const struct ccmm_op *op)
{
	int dev = vfio_dev(a);

	switch (ccmm_arg_choice(op, 0)) {
	case 0:
		return ccmm_tdisp_lock(&a->ctx, dev);
	case 1:
		return ccmm_tdisp_run(&a->ctx, dev, ccmm_arg_set(op, 1) ? (int)ccmm_arg_u64(a, op, 1) : -1);
	default:
		return ccmm_tdisp_stop(&a->ctx, dev);
	}
}

static const struct ccmm_verb vfio_verbs[] = {
	{ "export", "export a BAR range as a revocable dma-buf", vfio_export_args, verb_vfio_export },
	{ "revoke", "revoke it: invalidate, wait for fences and unmaps", put_args, verb_revoke },
	{ "unrevoke", "make it usable again", put_args, verb_unrevoke },
	{ "tdisp", "LOCK / START (run) / STOP the TEE device interface", tdisp_args, verb_tdisp },
	{ "put", "dma_buf_put of the job's reference", put_args, verb_put },
	{ "bufinfo", "write /sys/kernel/debug/dma_buf/bufinfo", _ccmm_kind_bufinfo_args, _ccmm_kind_verb_bufinfo },
	{ NULL }
};

static const struct ccmm_actor_kind ccmm_kind_vfio = {
	.name = "vfio",
	.help = "a VFIO device: BARs as revocable dma-bufs, TDISP, private MMIO",
	.options = vfio_options,
	.opts_size = sizeof(struct vfio_opts),
	.verbs = vfio_verbs,
	.check = vfio_check,
};

/* ---- heap ------------------------------------------------------------------------------- */

static const struct ccmm_arg_spec heap_export_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the dma-buf's name" },
	{ "size", CCMM_ARG_SIZE, true, true, NULL, NULL, "bytes (whole pages)" },
	{ "restricted", CCMM_ARG_BOOL, false, false, NULL, "no", "a restricted (secure) heap" },
	{ "label", CCMM_ARG_STR, false, false, NULL, NULL, "DMA_BUF_SET_NAME: the name bufinfo shows" },
	{ NULL }
};

static int verb_heap_export(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_buf *b = NULL; /* a refused export leaves it unset */
	int ret;

	ret = ccmm_dma_buf_export_heap(&a->ctx, ccmm_arg_u64(a, op, 1), ccmm_arg_choice(op, 2), &b);
	if (!ret && ccmm_arg_set(op, 3))
		ret = ccmm_dma_buf_set_name(&a->ctx, b, ccmm_arg_str(op, 3));
	if (ret && b)
		ccmm_dma_buf_put(&a->ctx, b);
	return ret ? ret : add_buf(a, op, 0, b);
}

static const struct ccmm_verb heap_verbs[] = {
	{ "export", "allocate a heap buffer and export it", heap_export_args, verb_heap_export },
	{ "put", "dma_buf_put of the job's reference", put_args, verb_put },
	{ "bufinfo", "write /sys/kernel/debug/dma_buf/bufinfo", _ccmm_kind_bufinfo_args, _ccmm_kind_verb_bufinfo },
	{ NULL }
};

static const struct ccmm_actor_kind ccmm_kind_heap = {
	.name = "heap",
	.help = "a dma-heap: system or restricted buffers",
	.verbs = heap_verbs,
};

static const struct ccmm_actor_kind *const dma_buf_kinds[] = {
	&ccmm_kind_gpu, &ccmm_kind_vfio, &ccmm_kind_heap, &_ccmm_kind_importer, &_ccmm_kind_bo_user, NULL,
};

/* Time series: fence waits so far (every actor), and those that found the fence unsignalled. */
static void dma_buf_ext_sample(struct ccmm_run *run, const void *opts, struct ccmm_series *s)
{
	uint64_t waits = 0, blocked = 0;
	bool used = false;

	(void)opts;
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		const struct ccmm_ctx *c = &run->job->actors[i]->ctx;

		for (size_t k = 0; dma_buf_kinds[k]; k++)
			used |= run->job->actors[i]->kind == dma_buf_kinds[k];
		waits += c->ctr[CCMM_CTR_AT(sync, fence_waits)];
		blocked += c->ctr[CCMM_CTR_AT(sync, fence_waits_blocked)];
	}
	if (!used)
		return;
	ccmm_series_count(s, "sync.fence_waits", "all", "waits", waits, CCMM_MARK_NONE);
	ccmm_series_count(s, "sync.fence_waits", "unsignalled", "waits", blocked, CCMM_MARK_NONE);
}

static const struct ccmm_run_ext dma_buf_ext = {
	.name = "dma-buf",
	.sample = dma_buf_ext_sample,
};

/* A sweep's default figures: what the importers' DMA cost each device. */
static const char *const dma_buf_metrics[] = {
	"attribution.*.bounce_copies.ns", "attribution.*.exits.ns", "attribution.*.iotlb_misses.ns", NULL,
};

const struct ccmm_kind_set ccmm_kinds_dma_buf = { "dma-buf", dma_buf_kinds, &dma_buf_ext, dma_buf_metrics };
