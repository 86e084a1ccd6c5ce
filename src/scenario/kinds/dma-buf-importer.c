// SPDX-License-Identifier: MIT
/*
 * Importer and user actor kinds:
 *   importer  a device driver or subsystem importing dma-bufs; its role
 *             sets what it tolerates and how it maps:
 *               display  static, not revocable, no P2P (a compositor)
 *               rdma     dynamic, P2P, not revocable
 *               gpu      dynamic, P2P, not revocable
 *               iommufd  PFNs into an I/O page table, revocable
 *               kvm      PFNs into the guest's stage-2 table, movable, revocable
 *             each overridable (dynamic=, revocable=, p2p=, phyr=); and
 *             ignore_move_notify=yes makes it the hazard of seed 001,
 *             and lazy=yes a correct lazy importer: it keeps DMAing
 *             through its mapping after move_notify while the move is in
 *             flight and maps again before the first DMA after it took
 *             effect; pfn_race_bug=yes installs PFNs after dropping the
 *             reservation (a revoke slips in between); dma_race_bug=yes
 *             lets its device run DMA programmed under the reservation
 *             after dropping it (a move slips in between)
 *   bo_user   a user process (or, host=yes, the VMM): mmaps BOs and
 *             dma-bufs, touches them, DMA_BUF_IOCTL_SYNC/INFO, GUP
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/kinds/dma-buf.h"

#define IOVA_BASE 0x100000000ULL   /* where iommufd maps imported buffers */
#define GPA_BASE  0x4000000000ULL  /* where KVM maps them in the guest */

/* ---- importer ---------------------------------------------------------------------------- */

enum role { ROLE_DISPLAY, ROLE_RDMA, ROLE_GPU, ROLE_IOMMUFD, ROLE_KVM };

static const char *const role_names[] = { "display", "rdma", "gpu", "iommufd", "kvm", NULL };
static const char *const tri_names[] = { "default", "yes", "no", NULL };

struct imp_opts {
	char device[CCMM_NAME_MAX];
	int role;
	int dynamic, revocable, p2p, phyr; /* 0: the role's default, 1 yes, 2 no */
	bool ignore_move_notify;
	bool lazy;
	bool filter;
	bool pfn_race_bug;
	bool dma_race_bug;
};

static const struct ccmm_option imp_options[] = {
	{ "device", CCMM_OPT_STR, offsetof(struct imp_opts, device), 0, CCMM_NAME_MAX, false, NULL, NULL,
	  "the importing device (kvm: optional)" },
	{ "role", CCMM_OPT_ENUM, offsetof(struct imp_opts, role), 0, 0, false, role_names, "rdma",
	  "display, rdma, gpu, iommufd or kvm" },
	{ "dynamic", CCMM_OPT_ENUM, offsetof(struct imp_opts, dynamic), 0, 0, false, tri_names, "default",
	  "handles move_notify" },
	{ "revocable", CCMM_OPT_ENUM, offsetof(struct imp_opts, revocable), 0, 0, false, tri_names, "default",
	  "survives a revoke" },
	{ "p2p", CCMM_OPT_ENUM, offsetof(struct imp_opts, p2p), 0, 0, false, tri_names, "default", "allow_peer2peer" },
	{ "phyr", CCMM_OPT_ENUM, offsetof(struct imp_opts, phyr), 0, 0, false, tri_names, "default",
	  "take the physical-range list instead of an sg_table" },
	{ "ignore_move_notify", CCMM_OPT_BOOL, offsetof(struct imp_opts, ignore_move_notify), 0, 0, false, NULL, "no",
	  "keep mappings and PFNs across move_notify (the hazard)" },
	{ "lazy", CCMM_OPT_BOOL, offsetof(struct imp_opts, lazy), 0, 0, false, NULL, "no",
	  "keep a DMA mapping across move_notify until the move took effect (its fences signalled), then map again" },
	{ "filter", CCMM_OPT_BOOL, offsetof(struct imp_opts, filter), 0, 0, false, NULL, "yes",
	  "TDX: enforce the guest's device allow-list when the importer's driver binds its device" },
	{ "pfn_race_bug", CCMM_OPT_BOOL, offsetof(struct imp_opts, pfn_race_bug), 0, 0, false, NULL, "no",
	  "bug (iommufd, kvm): map_pfns takes the PFNs under the reservation but puts them in its table after "
	  "dropping it, so a revoke in between is missed" },
	{ "dma_race_bug", CCMM_OPT_BOOL, offsetof(struct imp_opts, dma_race_bug), 0, 0, false, NULL, "no",
	  "bug (DMA importers): read/write program the DMA under the reservation (mapping first if needed) but the "
	  "device runs it after the reservation was dropped, so a move_notify in between is missed" },
	{ NULL }
};

static bool role_pfn(int role)
{
	return role == ROLE_IOMMUFD || role == ROLE_KVM;
}

/* role defaults: dynamic, revocable, p2p, phyr */
static const bool role_def[][4] = {
	[ROLE_DISPLAY] = { false, false, false, false },
	[ROLE_RDMA] = { true, false, true, false },
	[ROLE_GPU] = { true, false, true, false },
	[ROLE_IOMMUFD] = { true, true, true, true },
	[ROLE_KVM] = { true, true, true, true },
};

static bool tri(int v, bool def)
{
	return v == 0 ? def : v == 1;
}

static int imp_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct imp_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };

	if (!o->device[0]) {
		if (o->role == ROLE_KVM)
			return 0;
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: a %s importer needs device=NAME", a->name,
				      role_names[o->role]);
	}
	if (ccmm_platform_find_device(job->plat, o->device) < 0) {
		const char *names[64];
		size_t n = 0;
		const char *near;

		for (size_t i = 0; i < job->plat->nr_devices && n < 64; i++)
			names[n++] = job->plat->devices[i].name;
		near = ccmm_suggest(o->device, names, n);
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: the platform has no device '%s'%s%s%s", a->name, o->device,
				      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
	if (role_pfn(o->role) && tri(o->dynamic, true) == false && tri(o->revocable, true))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: revocable=yes needs dynamic=yes (to be told of the revoke)",
				      a->name);
	return 0;
}

/* One imported buffer. */
struct imp_att {
	char name[48];                       /* the buffer object's name */
	struct ccmm_dma_buf *b;
	struct ccmm_dma_buf_attachment *attach;
	struct ccmm_dma_buf_map *map;        /* DMA importers */
	struct ccmm_dma_buf_map *inflight;   /* the mapping a programmed DMA uses (dma_race_bug) */
	struct ccmm_dma_buf_map *zombie;     /* ... which move_notify told it to give up: unmapped when the DMA ends */
	bool pfn_mapped;                     /* PFN importers: entries in their table */
	uint64_t table_base, table_len;
	enum ccmm_cache_mode cache;          /* kvm: the guest mapping's cache mode */
	struct imp_state *s;
	struct imp_att *next;
};

struct imp_state {
	struct ccmm_actor *a;
	int dev;
	int role;
	bool dynamic, revocable, p2p, phyr, ignore, lazy, filter, pfn_race_bug, dma_race_bug;
	struct ccmm_dma_buf_attach_ops ops;
	struct ccmm_pgtable *table;          /* iommufd: I/O page table; kvm: the guest's stage 2 */
	struct ccmm_mutex table_lock;        /* iommufd's iopt lock, kvm's slots_lock: who changes the table */
	uint64_t next_base;
	struct imp_att *atts;
	struct ccmm_dma_resv **held;         /* reservations this actor locked with the lock op */
	size_t nr_held, cap_held;
};

/* Remove what a PFN importer put in its table for @t (the table lock taken). */
static void table_unmap(struct ccmm_ctx *ctx, struct imp_att *t)
{
	ccmm_mutex_lock(ctx, &t->s->table_lock);
	if (t->pfn_mapped)
		ccmm_pgt_unmap(ctx, t->s->table, t->table_base, t->table_len, true);
	t->pfn_mapped = false;
	ccmm_mutex_unlock(ctx, &t->s->table_lock);
	ccmm_dma_buf_put_pfns(ctx, t->attach);
}

/* The exporter moved or revoked the buffer (reservation held, exporter's thread). */
static void imp_move_notify(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct imp_att *t = attach->importer_priv;

	if (t->s->ignore)
		return;
	/* lazy: the mapping stays usable until the move takes effect (a revoke has already) */
	if (t->s->lazy && t->map && ccmm_dma_buf_map_reaches(ctx, t->map))
		return;
	if (t->map && t->map == t->inflight) {
		/* the device is still to use it: it goes when that DMA ends */
		t->zombie = t->map;
		t->map = NULL;
	} else if (t->map) {
		ccmm_dma_buf_unmap_attachment(ctx, attach, t->map);
		t->map = NULL;
	}
	if (role_pfn(t->s->role))
		table_unmap(ctx, t);
}

static int imp_start(struct ccmm_actor *a)
{
	struct imp_opts *o = a->opts;
	struct imp_state *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	s->a = a;
	s->role = o->role;
	s->dev = o->device[0] ? ccmm_platform_find_device(a->run->m->plat, o->device) : -1;
	s->dynamic = tri(o->dynamic, role_def[o->role][0]);
	s->revocable = tri(o->revocable, role_def[o->role][1]);
	s->p2p = tri(o->p2p, role_def[o->role][2]);
	s->phyr = tri(o->phyr, role_def[o->role][3]);
	s->ignore = o->ignore_move_notify;
	s->lazy = o->lazy && !role_pfn(o->role);
	s->filter = o->filter;
	s->pfn_race_bug = o->pfn_race_bug;
	s->dma_race_bug = o->dma_race_bug;
	ccmm_mutex_init(&s->table_lock, s->role == ROLE_KVM ? "kvm_slots_lock" : "iommufd_iopt");
	s->ops.allow_peer2peer = s->p2p;
	s->ops.move_notify = imp_move_notify;
	s->next_base = s->role == ROLE_KVM ? GPA_BASE : IOVA_BASE;
	if (role_pfn(s->role)) {
		ret = ccmm_pgt_create(a->run->m, s->role == ROLE_KVM ? CCMM_PGT_GUEST_USER : CCMM_PGT_IOMMU,
				      s->role == ROLE_KVM ? "kvm-stage2" : "iommufd", true, &s->table);
		if (ret) {
			free(s);
			return ret;
		}
	}
	a->priv = s;
	return 0;
}

static void imp_stop(struct ccmm_actor *a)
{
	struct imp_state *s = a->priv;

	if (!s)
		return;
	/* an actor that ends holding reservations drops them */
	for (size_t i = 0; i < s->nr_held; i++)
		if (ccmm_dma_resv_held(s->held[i]))
			ccmm_dma_resv_unlock(&a->ctx, s->held[i]);
	while (s->atts) {
		struct imp_att *t = s->atts;

		s->atts = t->next;
		ccmm_dma_resv_lock(&a->ctx, t->b->resv, NULL);
		if (t->map)
			ccmm_dma_buf_unmap_attachment(&a->ctx, t->attach, t->map);
		if (t->zombie)
			ccmm_dma_buf_unmap_attachment(&a->ctx, t->attach, t->zombie);
		if (role_pfn(s->role))
			table_unmap(&a->ctx, t);
		ccmm_dma_resv_unlock(&a->ctx, t->b->resv);
		ccmm_dma_buf_detach(&a->ctx, t->attach);
		free(t);
	}
	if (s->table)
		ccmm_pgt_destroy(&a->ctx, s->table);
	ccmm_mutex_destroy(&s->table_lock);
	free(s->held);
	free(s);
	a->priv = NULL;
}

static struct imp_state *imp_of(struct ccmm_actor *a)
{
	return a->priv;
}

/* The importer's record of the buffer named by argument @idx (it must have attached). */
static struct imp_att *att_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	struct ccmm_dma_buf *b = _ccmm_kind_buf_arg(a, op, idx);

	if (!b)
		return NULL;
	for (struct imp_att *t = imp_of(a)->atts; t; t = t->next)
		if (t->b == b)
			return t;
	ccmm_run_fail(a, op, -ENOENT, "%s: %s has not attached to '%s'", op->verb->name, a->name, ccmm_arg_str(op, idx));
	return NULL;
}

static const struct ccmm_arg_spec buf_args[] = {
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the dma-buf" },
	{ NULL }
};

static int verb_attach(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_state *s = imp_of(a);
	struct ccmm_dma_buf *b = _ccmm_kind_buf_arg(a, op, 0);
	struct ccmm_dma_buf_attach_info ai;
	struct imp_att *t;
	int ret;

	if (!b)
		return -ENOENT;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	snprintf(t->name, sizeof(t->name), "%s", ccmm_arg_str(op, 0));
	t->b = b;
	t->s = s;
	ai.dev = s->dev;
	ai.name = a->name;
	ai.importer_ops = s->dynamic ? &s->ops : NULL;
	ai.importer_priv = t;
	ai.flags = (s->revocable ? CCMM_IMPORTER_REVOCABLE_OK : 0) | (s->phyr ? CCMM_IMPORTER_PHYR : 0) |
		   (role_pfn(s->role) ? CCMM_IMPORTER_PFN : 0);
	ai.no_filter = !s->filter;
	ret = ccmm_dma_buf_attach(&a->ctx, b, &ai, &t->attach);
	if (ret) {
		free(t);
		return ret;
	}
	t->next = s->atts;
	s->atts = t;
	return 0;
}

static int verb_detach(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_att *t = att_arg(a, op, 0);
	int ret;

	if (!t)
		return -ENOENT;
	ret = ccmm_dma_buf_detach(&a->ctx, t->attach);
	if (ret)
		return ret;
	for (struct imp_att **pp = &imp_of(a)->atts; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	free(t);
	return 0;
}

static int verb_lock(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_state *s = imp_of(a);
	struct ccmm_dma_resv *resv = _ccmm_kind_resv_arg(a, op, 0);
	int ret;

	if (!resv)
		return -ENOENT;
	ret = _ccmm_kind_resv_lock(a, resv);
	if (!ret && !ccmm_grow((void **)&s->held, &s->cap_held, s->nr_held + 1, sizeof(*s->held)))
		s->held[s->nr_held++] = resv;
	return ret;
}

static int verb_unlock(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_resv *resv = _ccmm_kind_resv_arg(a, op, 0);

	return resv ? ccmm_dma_resv_unlock(&a->ctx, resv) : -ENOENT;
}

static const char *const dir_names[] = { "bidir", "to", "from", NULL };

static const struct ccmm_arg_spec map_args[] = {
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the dma-buf" },
	{ "locked", CCMM_ARG_BOOL, false, false, NULL, "no",
	  "yes: dma_buf_map_attachment (the actor must hold the lock); no: the _unlocked variant" },
	{ "dir", CCMM_ARG_ENUM, false, false, dir_names, "bidir", "DMA direction" },
	{ NULL }
};

static int verb_map(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_att *t = att_arg(a, op, 0);
	struct ccmm_dma_buf_map *m;
	int ret;

	if (!t)
		return -ENOENT;
	if (ccmm_arg_choice(op, 1))
		ret = ccmm_dma_buf_map_attachment(&a->ctx, t->attach, (enum ccmm_dma_dir)ccmm_arg_choice(op, 2), &m);
	else
		ret = ccmm_dma_buf_map_attachment_unlocked(&a->ctx, t->attach,
							   (enum ccmm_dma_dir)ccmm_arg_choice(op, 2), &m);
	if (!ret)
		t->map = m;
	return ret;
}

static int verb_unmap(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_att *t = att_arg(a, op, 0);
	struct ccmm_dma_buf_map *m;
	int ret;

	if (!t)
		return -ENOENT;
	m = t->map;
	if (ccmm_arg_choice(op, 1))
		ret = ccmm_dma_buf_unmap_attachment(&a->ctx, t->attach, m);
	else
		ret = ccmm_dma_buf_unmap_attachment_unlocked(&a->ctx, t->attach, m);
	if (!ret)
		t->map = NULL;
	return ret;
}

static int verb_pin(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_att *t = att_arg(a, op, 0);

	return t ? ccmm_dma_buf_pin(&a->ctx, t->attach) : -ENOENT;
}

static int verb_unpin(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_att *t = att_arg(a, op, 0);

	return t ? ccmm_dma_buf_unpin(&a->ctx, t->attach) : -ENOENT;
}

/* The cache mode a guest mapping takes unless told: what the map info promises (UC when it promises nothing). */
static enum ccmm_cache_mode default_cache(const struct imp_att *t)
{
	int claim = ccmm_dma_buf_map_info_cache(t->b->map_info);

	return claim >= 0 ? (enum ccmm_cache_mode)claim : CCMM_CACHE_UC;
}

/* PFN importers: put the PFNs of @p in the table with @cache, under the table lock. */
static int table_install(struct ccmm_actor *a, struct imp_att *t, struct ccmm_phyr *p, enum ccmm_cache_mode cache)
{
	struct imp_state *s = t->s;
	uint64_t at;
	size_t gi, ri;
	int ret = 0;

	ccmm_mutex_lock(&a->ctx, &s->table_lock);
	if (!t->table_len) {
		t->table_base = s->next_base;
		t->table_len = t->b->size;
		s->next_base += CCMM_ALIGN_UP(t->b->size, CCMM_PMD_SIZE);
	}
	at = t->table_base;
	ccmm_phyr_for_each_range(p, gi, ri)
	{
		uint64_t prot = CCMM_PTE_RW;

		if (s->role == ROLE_KVM)
			prot = ccmm_pte_mkprivate(a->run->m, prot | ccmm_pte_cache_bits(cache, 1), p->g[gi].meta.encrypted);
		ret = ccmm_pgt_map(&a->ctx, s->table, at, p->r[ri].pa, p->r[ri].len, CCMM_PAGE_SIZE, prot);
		if (ret)
			break;
		at += p->r[ri].len;
	}
	if (ret) {
		ccmm_pgt_unmap(&a->ctx, s->table, t->table_base, t->table_len, true);
	} else {
		t->pfn_mapped = true;
		t->cache = cache;
	}
	ccmm_mutex_unlock(&a->ctx, &s->table_lock);
	return ret;
}

/* PFN importers: take the phyr (reservation held) and put it in the table with @cache. */
static int table_map(struct ccmm_actor *a, struct imp_att *t, enum ccmm_cache_mode cache)
{
	struct ccmm_phyr p;
	int ret = ccmm_dma_buf_get_phyr(&a->ctx, t->attach, &p);

	if (ret)
		return ret;
	ret = table_install(a, t, &p, cache);
	ccmm_phyr_free(&p);
	return ret;
}

static const struct ccmm_arg_spec map_guest_args[] = {
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the dma-buf" },
	{ "cache", CCMM_ARG_ENUM, false, false, _ccmm_kind_cache_names, NULL,
	  "kvm: the guest mapping's cache mode (default: what the map info says)" },
	{ NULL }
};

/* iommufd: IOVAs for the buffer; kvm: the buffer in the guest, checked against the map info. */
static int verb_map_pfns(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_att *t = att_arg(a, op, 0);
	enum ccmm_cache_mode cache = CCMM_CACHE_WB;
	bool mine;
	int ret;

	if (!t)
		return -ENOENT;
	if (!role_pfn(t->s->role))
		return ccmm_run_fail(a, op, -EINVAL, "map_pfns: %s is a %s importer, not iommufd or kvm", a->name,
				     role_names[t->s->role]);
	if (t->s->role == ROLE_KVM) {
		cache = ccmm_arg_set(op, 1) ? (enum ccmm_cache_mode)ccmm_arg_choice(op, 1) : default_cache(t);
		/*
		 * A buffer that promises a cache mode must be mapped with it; an
		 * INCOHERENT one promises nothing and KVM maps it uncached, as
		 * vfio-pci BARs are.
		 */
		if (ccmm_dma_buf_map_info_cache(t->b->map_info) >= 0)
			ccmm_dma_buf_check_map_info(&a->ctx, t->b, cache, a->name);
	}
	mine = !ccmm_dma_resv_held(t->b->resv);
	ret = mine ? _ccmm_kind_resv_lock(a, t->b->resv) : 0;
	if (ret)
		return ret;
	if (t->pfn_mapped)
		table_unmap(&a->ctx, t);
	if (t->s->pfn_race_bug && mine) {
		/*
		 * The bug: the PFNs are taken under the reservation, but go into
		 * the table after it was dropped; a revoke in between tells an
		 * importer that has nothing installed yet, and the stale PFNs
		 * go in afterwards.
		 */
		struct ccmm_phyr p;

		ret = ccmm_dma_buf_get_phyr(&a->ctx, t->attach, &p);
		ccmm_dma_resv_unlock(&a->ctx, t->b->resv);
		if (ret)
			return ret;
		ret = table_install(a, t, &p, cache);
		ccmm_phyr_free(&p);
		return ret;
	}
	ret = table_map(a, t, cache);
	if (mine)
		ccmm_dma_resv_unlock(&a->ctx, t->b->resv);
	return ret;
}

static int verb_unmap_pfns(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct imp_att *t = att_arg(a, op, 0);

	if (!t)
		return -ENOENT;
	table_unmap(&a->ctx, t);
	return 0;
}

static const struct ccmm_arg_spec imp_write_args[] = { CCMM_WRITE_ARG_SPECS("buf", "the dma-buf") };

static const struct ccmm_arg_spec imp_read_args[] = { CCMM_READ_ARG_SPECS("buf", "the dma-buf") };

static int imp_access_fn(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
			 struct ccmm_result *r)
{
	struct imp_att *t = arg;
	struct imp_state *s = t->s;

	if (s->role == ROLE_KVM) /* the guest touches it through its stage-2 mapping */
		return rw == CCMM_READ ? ccmm_cpu_read(&a->ctx, CCMM_INIT_KERNEL, s->table, t->table_base + off, buf, len, r)
				       : ccmm_cpu_write(&a->ctx, CCMM_INIT_KERNEL, s->table, t->table_base + off, buf, len, r);
	if (s->role == ROLE_IOMMUFD)
		return ccmm_dma_access(&a->ctx, s->dev, s->table, rw, t->table_base + off, buf, len, r);
	return ccmm_dma_buf_map_access(&a->ctx, t->inflight ? t->inflight : t->map, rw, off, buf, len, r);
}

/*
 * dma_race_bug: the DMA is programmed under the reservation (the mapping
 * made first if there is none) but the device runs it after the
 * reservation was dropped: a move_notify in between goes unheeded.
 */
static int imp_rw_racy(struct ccmm_actor *a, struct imp_att *t, enum ccmm_rw rw, uint64_t off, uint64_t len, int pat,
		       int verify)
{
	int ret = _ccmm_kind_resv_lock(a, t->b->resv);

	if (ret)
		return ret;
	if (!t->map)
		ret = ccmm_dma_buf_map_attachment(&a->ctx, t->attach, CCMM_DMA_BIDIRECTIONAL, &t->map);
	t->inflight = ret ? NULL : t->map;
	ccmm_dma_resv_unlock(&a->ctx, t->b->resv);
	if (ret)
		return ret;
	ccmm_sched_point(CCMM_SP_IO, "device DMA"); /* the device starts while the CPU goes on */
	ret = ccmm_move_data(a, t, rw, off, len, pat, verify, imp_access_fn);
	ccmm_dma_resv_lock(&a->ctx, t->b->resv, NULL);
	t->inflight = NULL;
	if (t->zombie) {
		ccmm_dma_buf_unmap_attachment(&a->ctx, t->attach, t->zombie);
		t->zombie = NULL;
	}
	ccmm_dma_resv_unlock(&a->ctx, t->b->resv);
	return ret;
}

/*
 * The importer's device (or guest) touches the buffer, as a driver does:
 * under the reservation lock, remapping first when its mapping is gone --
 * or, when it ignores move_notify, with whatever it had.
 */
static int imp_rw(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw)
{
	struct imp_att *t = att_arg(a, op, CCMM_RW_OBJ);
	uint64_t off, len;
	int pat, verify, ret = 0;
	bool mine;

	if (!t)
		return -ENOENT;
	if (ccmm_op_span(a, op, t->b->size, CCMM_RW_OFF, CCMM_RW_LEN, &off, &len))
		return -EINVAL;
	pat = (int)(ccmm_arg_u64(a, op, CCMM_RW_PAT) & 0xff);
	verify = rw == CCMM_READ && ccmm_arg_set(op, CCMM_RW_PAT) ? pat : -1;
	mine = !ccmm_dma_resv_held(t->b->resv);
	if (t->s->dma_race_bug && mine && !role_pfn(t->s->role))
		return imp_rw_racy(a, t, rw, off, len, pat, verify);
	ret = mine ? _ccmm_kind_resv_lock(a, t->b->resv) : 0;
	if (ret)
		return ret;
	if (role_pfn(t->s->role)) {
		if (!t->pfn_mapped && !(t->s->ignore && t->table_len))
			ret = table_map(a, t, t->table_len ? t->cache : default_cache(t));
		if (!ret)
			ccmm_dma_buf_pfn_check(&a->ctx, t->attach,
					       t->s->role == ROLE_KVM ? "a guest access" : "device DMA through the IOMMU");
	} else {
		/* a lazy importer maps again once the move it was told of took effect */
		if (t->map && t->s->lazy && !ccmm_dma_buf_map_reaches(&a->ctx, t->map)) {
			ccmm_dma_buf_unmap_attachment(&a->ctx, t->attach, t->map);
			t->map = NULL;
		}
		if (!t->map)
			ret = ccmm_dma_buf_map_attachment(&a->ctx, t->attach, CCMM_DMA_BIDIRECTIONAL, &t->map);
	}
	if (!ret)
		ret = ccmm_move_data(a, t, rw, off, len, pat, verify, imp_access_fn);
	if (mine)
		ccmm_dma_resv_unlock(&a->ctx, t->b->resv);
	return ret;
}

static int verb_imp_read(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return imp_rw(a, op, CCMM_READ);
}

static int verb_imp_write(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return imp_rw(a, op, CCMM_WRITE);
}

static const struct ccmm_arg_spec gup_args[] = {
	{ "map", CCMM_ARG_OBJ, true, true, NULL, NULL, "a CPU mapping (a bo_user's mmap)" },
	{ "pages", CCMM_ARG_U64, false, false, NULL, "1", "pages to pin" },
	{ NULL }
};

/* GUP on somebody's user mapping: KVM's hva_to_pfn taking page references. */
static int verb_gup(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = _ccmm_kind_obj(a, op, 0, _ccmm_kind_type_map);
	struct kind_map *km;
	uint64_t n = ccmm_arg_u64(a, op, 1);
	uint64_t *pas;
	long got;

	if (!o)
		return -ENOENT;
	km = o->priv;
	if (km->gone || !n || n > km->size >> CCMM_PAGE_SHIFT)
		return -EINVAL;
	pas = calloc(n, sizeof(*pas));
	if (!pas)
		return -ENOMEM;
	got = ccmm_pin_user_pages(&a->ctx, km->mm, km->va, n, false, pas);
	free(pas);
	return got < 0 ? (int)got : got == (long)n ? 0 : -EFAULT;
}

static const struct ccmm_verb imp_verbs[] = {
	{ "attach", "attach to a dma-buf (refused with a reason when it would break this importer)", buf_args, verb_attach },
	{ "detach", "detach from it", buf_args, verb_detach },
	{ "lock", "dma_resv_lock its reservation", buf_args, verb_lock },
	{ "unlock", "dma_resv_unlock it", buf_args, verb_unlock },
	{ "map", "map the attachment for the device (sg_table or phyr)", map_args, verb_map },
	{ "unmap", "unmap it", map_args, verb_unmap },
	{ "pin", "dma_buf_pin (lock held; dynamic importers)", buf_args, verb_pin },
	{ "unpin", "dma_buf_unpin", buf_args, verb_unpin },
	{ "map_pfns", "iommufd: IOVAs for the buffer; kvm: map it into the guest (cache= checked against map info)",
	  map_guest_args, verb_map_pfns },
	{ "unmap_pfns", "tear the PFN mappings down", buf_args, verb_unmap_pfns },
	{ "read", "the device (or guest) reads the buffer, optionally verifying", imp_read_args, verb_imp_read },
	{ "write", "the device (or guest) writes the buffer", imp_write_args, verb_imp_write },
	{ "gup", "pin_user_pages on a CPU mapping (KVM's hva_to_pfn)", gup_args, verb_gup },
	{ "bufinfo", "write /sys/kernel/debug/dma_buf/bufinfo", _ccmm_kind_bufinfo_args, _ccmm_kind_verb_bufinfo },
	{ NULL }
};

const struct ccmm_actor_kind _ccmm_kind_importer = {
	.name = "importer",
	.help = "a dma-buf importer: display, rdma, gpu, iommufd or kvm",
	.options = imp_options,
	.opts_size = sizeof(struct imp_opts),
	.verbs = imp_verbs,
	.check = imp_check,
	.start = imp_start,
	.stop = imp_stop,
};

/* ---- bo_user ------------------------------------------------------------------------------- */

struct user_opts {
	bool host;
};

static const struct ccmm_option user_options[] = {
	{ "host", CCMM_OPT_BOOL, offsetof(struct user_opts, host), 0, 0, false, NULL, "no",
	  "the host / VMM process rather than a (guest) user process" },
	{ NULL }
};

struct user_state {
	struct ccmm_mm *mm;
};

static int user_start(struct ccmm_actor *a)
{
	struct user_state *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = ccmm_mm_create(a->run->m, ((struct user_opts *)a->opts)->host ? CCMM_INIT_HOST : CCMM_INIT_USER, a->name,
			     &s->mm);
	if (ret) {
		free(s);
		return ret;
	}
	a->priv = s;
	return 0;
}

static void user_stop(struct ccmm_actor *a)
{
	struct user_state *s = a->priv;

	if (!s)
		return;
	ccmm_mm_destroy(&a->ctx, s->mm);
	free(s);
	a->priv = NULL;
}

static void map_destroy(struct ccmm_run *run, struct ccmm_obj *o)
{
	(void)run;
	free(o->priv); /* the VMA went with its address space */
}

static const struct ccmm_arg_spec mmap_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the mapping's name" },
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "a BO or a dma-buf" },
	{ "pgoff", CCMM_ARG_PAGES, false, false, NULL, "0", "first page" },
	{ "pages", CCMM_ARG_PAGES, false, false, NULL, NULL, "pages (default: to the end)" },
	{ "ro", CCMM_ARG_BOOL, false, false, NULL, "no", "read-only" },
	{ NULL }
};

static int verb_mmap(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct user_state *s = a->priv;
	struct ccmm_obj *src = ccmm_obj_get(a, op, 1);
	struct kind_map *km;
	uint64_t pgoff = ccmm_arg_u64(a, op, 2), size, npages;
	bool rw = !ccmm_arg_choice(op, 4);
	int ret;

	if (!src)
		return -ENOENT;
	km = calloc(1, sizeof(*km));
	if (!km)
		return -ENOMEM;
	km->mm = s->mm;
	if (src->kind == CCMM_OBJ_OTHER && src->type == _ccmm_kind_type_bo) {
		km->bo = src->priv;
		size = km->bo->size;
	} else if (src->kind == CCMM_OBJ_OTHER && src->type == _ccmm_kind_type_buf) {
		km->b = ((struct kind_buf *)src->priv)->b;
		size = km->b->size;
	} else {
		free(km);
		return ccmm_run_fail(a, op, -EINVAL, "mmap: '%s' is neither a bo nor a dma-buf", src->name);
	}
	npages = ccmm_arg_set(op, 3) ? ccmm_arg_u64(a, op, 3)
				     : (size >> CCMM_PAGE_SHIFT > pgoff ? (size >> CCMM_PAGE_SHIFT) - pgoff : 0);
	ret = km->bo ? ccmm_ttm_bo_mmap(&a->ctx, km->bo, s->mm, pgoff, npages, rw, &km->vma)
		     : ccmm_dma_buf_mmap(&a->ctx, km->b, s->mm, pgoff, npages, rw, &km->vma);
	if (!ret) {
		km->va = km->vma->start;
		km->size = km->vma->end - km->vma->start;
		ret = _ccmm_kind_add(a, op, 0, _ccmm_kind_type_map, km, map_destroy, NULL);
		if (ret)
			ccmm_munmap(&a->ctx, s->mm, km->va, km->size);
	}
	if (ret)
		free(km);
	return ret;
}

static struct kind_map *map_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	struct ccmm_obj *o = _ccmm_kind_obj(a, op, idx, _ccmm_kind_type_map);
	struct kind_map *km;

	if (!o)
		return NULL;
	km = o->priv;
	if (km->mm != ((struct user_state *)a->priv)->mm) {
		ccmm_run_fail(a, op, -EPERM, "%s: '%s' is another process's mapping", op->verb->name, o->name);
		return NULL;
	}
	return km;
}

static const struct ccmm_arg_spec map_only_args[] = {
	{ "map", CCMM_ARG_OBJ, true, true, NULL, NULL, "the mapping" },
	{ NULL }
};

static int verb_munmap(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct kind_map *km = map_arg(a, op, 0);
	int ret;

	if (!km)
		return -ENOENT;
	if (km->gone)
		return -EINVAL;
	ret = ccmm_munmap(&a->ctx, km->mm, km->va, km->size);
	if (!ret)
		km->gone = true;
	return ret;
}

static int user_access_fn(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
			  struct ccmm_result *r)
{
	struct kind_map *km = arg;
	struct ccmm_ttm_bo *bo = km->bo ? km->bo : ccmm_ttm_vma_bo(km->vma);

	/* a TTM mapping: pages TTM streaming-mapped through SWIOTLB are stale to the CPU (TTM never syncs) */
	if (bo)
		ccmm_ttm_bo_cpu_access_check(&a->ctx, bo, (km->vma->vm_pgoff << CCMM_PAGE_SHIFT) + off, len, rw);
	if (km->b)
		return ccmm_dma_buf_cpu_access(&a->ctx, km->b, km->mm, rw, km->va + off, buf, len, r);
	return ccmm_mm_access(&a->ctx, km->mm, rw, km->va + off, buf, len, r);
}

static const struct ccmm_arg_spec uwrite_args[] = { CCMM_WRITE_ARG_SPECS("map", "the mapping") };

static const struct ccmm_arg_spec uread_args[] = { CCMM_READ_ARG_SPECS("map", "the mapping") };

static int user_rw(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw)
{
	struct kind_map *km = map_arg(a, op, CCMM_RW_OBJ);

	if (!km)
		return -ENOENT;
	if (km->gone)
		return -EINVAL;
	return ccmm_op_rw(a, op, rw, km->size, km, user_access_fn);
}

static int verb_uread(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return user_rw(a, op, CCMM_READ);
}

static int verb_uwrite(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return user_rw(a, op, CCMM_WRITE);
}

static const char *const sync_op_names[] = { "start", "end", NULL };
static const char *const sync_dir_names[] = { "read", "write", "rw", NULL };

static const struct ccmm_arg_spec sync_args[] = {
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the dma-buf" },
	{ "op", CCMM_ARG_ENUM, false, false, sync_op_names, "start", "DMA_BUF_SYNC_START or _END" },
	{ "dir", CCMM_ARG_ENUM, false, false, sync_dir_names, "rw", "DMA_BUF_SYNC_READ, _WRITE or _RW" },
	{ "flags", CCMM_ARG_U64, false, false, NULL, NULL, "raw flags instead (to test the ioctl's checks)" },
	{ NULL }
};

static int verb_sync(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_buf *b = _ccmm_kind_buf_arg(a, op, 0);
	uint64_t flags;

	if (!b)
		return -ENOENT;
	if (ccmm_arg_set(op, 3))
		flags = ccmm_arg_u64(a, op, 3);
	else
		flags = (uint64_t)(ccmm_arg_choice(op, 2) + 1) |
			(ccmm_arg_choice(op, 1) ? CCMM_DMA_BUF_SYNC_END : CCMM_DMA_BUF_SYNC_START);
	return ccmm_dma_buf_ioctl_sync(&a->ctx, b, flags);
}

static const char *const info_names[] = { "incoherent", "wc", "cached", NULL };

static const struct ccmm_arg_spec info_args[] = {
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the dma-buf" },
	{ "expect", CCMM_ARG_ENUM, false, false, info_names, NULL, "the map info expected (-EBADMSG otherwise)" },
	{ "param", CCMM_ARG_U64, false, false, NULL, "1", "the parameter asked (1: DMA_BUF_INFO_MAP_INFO)" },
	{ NULL }
};

static int verb_info(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_buf *b = _ccmm_kind_buf_arg(a, op, 0);
	uint64_t v;
	int ret;

	if (!b)
		return -ENOENT;
	ret = ccmm_dma_buf_ioctl_info(b, (uint32_t)ccmm_arg_u64(a, op, 2), &v);
	if (!ret && ccmm_arg_set(op, 1) && v != (uint64_t)ccmm_arg_choice(op, 1))
		ret = -EBADMSG;
	return ret;
}

static const struct ccmm_arg_spec ugup_args[] = {
	{ "map", CCMM_ARG_OBJ, true, true, NULL, NULL, "the mapping" },
	{ "pages", CCMM_ARG_U64, false, false, NULL, "1", "pages to pin" },
	{ NULL }
};

static int verb_ugup(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct kind_map *km = map_arg(a, op, 0);
	uint64_t n = ccmm_arg_u64(a, op, 1);
	uint64_t *pas;
	long got;

	if (!km)
		return -ENOENT;
	if (km->gone || !n || n > km->size >> CCMM_PAGE_SHIFT)
		return -EINVAL;
	pas = calloc(n, sizeof(*pas));
	if (!pas)
		return -ENOMEM;
	got = ccmm_pin_user_pages(&a->ctx, km->mm, km->va, n, false, pas);
	free(pas);
	return got < 0 ? (int)got : got == (long)n ? 0 : -EFAULT;
}

static const struct ccmm_verb user_verbs[] = {
	{ "mmap", "mmap a BO (TTM) or a dma-buf (the exporter's mmap) into this process", mmap_args, verb_mmap },
	{ "munmap", "unmap it", map_only_args, verb_munmap },
	{ "read", "read through the mapping (faults in as needed), optionally verifying", uread_args, verb_uread },
	{ "write", "write through the mapping", uwrite_args, verb_uwrite },
	{ "sync", "DMA_BUF_IOCTL_SYNC", sync_args, verb_sync },
	{ "info", "DMA_BUF_IOCTL_INFO (the seed-003 proposal)", info_args, verb_info },
	{ "gup", "pin_user_pages on its own mapping", ugup_args, verb_ugup },
	{ NULL }
};

const struct ccmm_actor_kind _ccmm_kind_bo_user = {
	.name = "bo_user",
	.help = "a user process (or the VMM) mapping BOs and dma-bufs",
	.options = user_options,
	.opts_size = sizeof(struct user_opts),
	.verbs = user_verbs,
	.start = user_start,
	.stop = user_stop,
};
