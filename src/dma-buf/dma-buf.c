// SPDX-License-Identifier: MIT
/*
 * The dma-buf core: export, references, attachments with the negotiation
 * and refusal rules, mappings and their generations, move_notify, PFN and
 * phyr access, revoke, CPU access with DMA_BUF_IOCTL_SYNC, mmap and the
 * map-info checks, vmap, and bufinfo.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dma-buf/internal.h"

CCMM_COST_BLOCK_DEFINE(dma_buf, CCMM_DMA_BUF_COSTS, CCMM_DMA_BUF_COUNTERS);

CCMM_RULES_DEFINE(dma_buf_rules, CCMM_DMA_BUF_RULES);

/* include/linux/fs.h's fmode_t bits that a dma-buf's file has */
#define DMABUF_FMODE_LSEEK  (1u << 2)
#define DMABUF_FMODE_OPENED (1u << 19)


#define CPU_WAIT_NS (5LL * 1000000000)    /* begin_cpu_access waits this long for fences */
#define REVOKE_WAIT_NS (2LL * 1000000000) /* revoke waits this long for fences */
#define UNMAP_WAIT_NS (100LL * 1000000)   /* ... and this long for importers to unmap */

const char *_ccmm_dmabuf_dev_name(struct ccmm_machine *m, int dev)
{
	return dev >= 0 && (size_t)dev < m->plat->nr_devices ? m->plat->devices[dev].name : "-";
}

const char *ccmm_dma_buf_map_info_name(enum ccmm_dma_buf_map_info i)
{
	static const char *const n[] = { "incoherent", "coherent_wc", "coherent_cached" };

	return (unsigned)i < CCMM_ARRAY_SIZE(n) ? n[i] : "?";
}

int ccmm_dma_buf_map_info_cache(enum ccmm_dma_buf_map_info i)
{
	return i == CCMM_DMA_BUF_COHERENT_WC ? CCMM_CACHE_WC : i == CCMM_DMA_BUF_COHERENT_CACHED ? CCMM_CACHE_WB : -1;
}

bool ccmm_dma_buf_is_dynamic(const struct ccmm_dma_buf *dmabuf)
{
	return dmabuf->ops->pin != NULL;
}

bool ccmm_dma_buf_attachment_is_dynamic(const struct ccmm_dma_buf_attachment *attach)
{
	return attach->importer_ops != NULL;
}

/* Refuse (and record) a use of a released buffer. */
static bool released(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, const char *what)
{
	if (!atomic_load(&dmabuf->released))
		return false;
	dmabuf_violation(ctx, &ccmm_rule_dmabuf_use_after_release, "%s on dma-buf %s (ino %lu) after its last reference", what,
			 dmabuf->exp_name, dmabuf->ino);
	return true;
}

/* A call that takes the reservation itself: the caller must not hold it. */
static bool lock_held_wrongly(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, const char *what)
{
	if (!ccmm_dma_resv_held(dmabuf->resv))
		return false;
	dmabuf_violation(ctx, &ccmm_rule_resv_held_unlocked_call,
			 "%s on dma-buf %s with its reservation lock held: the call takes it itself", what, dmabuf->exp_name);
	return true;
}

/* ---- export ---------------------------------------------------------------------- */

static int export_check(struct ccmm_ctx *ctx, const struct ccmm_dma_buf_export_info *info)
{
	const struct ccmm_dma_buf_ops *ops = info->ops;
	const char *why = NULL;

	if (!ops)
		why = "no ops";
	else if (!info->priv)
		why = "no priv";
	else if (!ops->release)
		why = "no release op";
	else if (!ops->map_dma_buf != !ops->unmap_dma_buf)
		why = "map_dma_buf without unmap_dma_buf (or the reverse)";
	else if (!ops->map_dma_buf && !ops->get_phyr)
		why = "neither map_dma_buf nor get_phyr: importers could not reach the memory";
	else if (!ops->pin != !ops->unpin)
		why = "pin without unpin (or the reverse)";
	if (!why)
		return 0;
	dmabuf_violation(ctx, &ccmm_rule_dmabuf_export_ops, "dma_buf_export(%s): %s", info->exp_name ? info->exp_name : "?",
			 why);
	return -EINVAL;
}

int ccmm_dma_buf_export(struct ccmm_ctx *ctx, const struct ccmm_dma_buf_export_info *info, struct ccmm_dma_buf **out)
{
	struct ccmm_machine *m = ctx->m;
	struct dmabuf_state *st = dmabuf_state(m);
	struct ccmm_dma_buf *b;
	int ret;

	if (!info || !st)
		return -EINVAL;
	ret = export_check(ctx, info);
	if (ret)
		return ret;
	if (!info->size || !CCMM_IS_ALIGNED(info->size, CCMM_PAGE_SIZE) || (unsigned)info->map_info > 2)
		return -EINVAL;
	if (info->resv && ccmm_dma_resv_held(info->resv)) {
		dmabuf_violation(ctx, &ccmm_rule_resv_held_unlocked_call, "dma_buf_export(%s) with the reservation lock held",
				 info->exp_name ? info->exp_name : "?");
		return -EDEADLK;
	}
	if (info->flags & CCMM_DMA_BUF_PRIVATE) {
		enum ccmm_tdisp_state s = ccmm_tdisp_state(m, info->provider);

		if (s != CCMM_TDISP_LOCKED && s != CCMM_TDISP_RUN) {
			dmabuf_violation(ctx, &ccmm_rule_tdisp_bad_transition,
					 "export of private MMIO of %s, whose TDISP interface is %s (not LOCKED or RUN)",
					 _ccmm_dmabuf_dev_name(m, info->provider), ccmm_tdisp_state_name(s));
			return -EINVAL;
		}
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->m = m;
	b->ops = info->ops;
	b->size = info->size;
	b->flags = info->flags;
	b->map_info = info->map_info;
	b->provider = info->provider;
	snprintf(b->exp_name, sizeof(b->exp_name), "%s", info->exp_name ? info->exp_name : "ccmm");
	/*
	 * dma_buf_getfile(): flags &= O_ACCMODE | O_NONBLOCK; alloc_file_pseudo():
	 * f_mode = OPEN_FMODE(flags) (FMODE_READ/WRITE from the access mode),
	 * FMODE_LSEEK (dma_buf_fops has .llseek), FMODE_OPENED; no
	 * FMODE_CAN_READ/WRITE (no .read/.write)
	 */
	b->f_flags = (unsigned)info->fd_flags & (O_ACCMODE | O_NONBLOCK);
	b->f_mode = ((b->f_flags + 1) & O_ACCMODE) | DMABUF_FMODE_LSEEK | DMABUF_FMODE_OPENED;
	if (info->resv) {
		b->resv = info->resv;
	} else {
		ccmm_dma_resv_init(&b->base_resv);
		b->resv = &b->base_resv;
	}
	b->priv = info->priv;
	b->negotiate = info->negotiate;
	atomic_init(&b->refcount, 1);
	atomic_init(&b->released, false);
	atomic_init(&b->gen, 1);
	atomic_init(&b->revoked, false);
	atomic_init(&b->cpu_readers, 0);
	atomic_init(&b->cpu_writers, 0);
	pthread_mutex_init(&b->lock, NULL);
	ccmm_init_waitqueue_head(&b->unmap_wq, "dma_buf_revoke");
	pthread_mutex_lock(&st->lock);
	b->ino = ++st->next_ino;
	b->next = st->bufs;
	st->bufs = b;
	pthread_mutex_unlock(&st->lock);
	*out = b;
	return 0;
}

struct ccmm_dma_buf *ccmm_dma_buf_get(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	if (released(ctx, dmabuf, "get_dma_buf"))
		return NULL;
	atomic_fetch_add(&dmabuf->refcount, 1);
	return dmabuf;
}

static void do_release(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	dmabuf->release_deferred = false;
	dmabuf->ops->release(ctx, dmabuf);
}

void ccmm_dma_buf_put(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	bool attached;

	if (!dmabuf || released(ctx, dmabuf, "dma_buf_put"))
		return;
	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_put"))
		return;
	if (atomic_fetch_sub(&dmabuf->refcount, 1) != 1)
		return;
	atomic_store(&dmabuf->released, true);
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	attached = dmabuf->attachments != NULL;
	if (attached)
		dmabuf->release_deferred = true;
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	if (attached) {
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_use_after_release,
				 "the last reference to dma-buf %s (ino %lu) went while importers are still attached; "
				 "ccmm releases it at the last detach",
				 dmabuf->exp_name, dmabuf->ino);
		return;
	}
	do_release(ctx, dmabuf);
}

int ccmm_dma_buf_set_name(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, const char *name)
{
	if (released(ctx, dmabuf, "DMA_BUF_SET_NAME"))
		return -EINVAL;
	if (!name || strlen(name) >= sizeof(dmabuf->name))
		return -EINVAL;
	pthread_mutex_lock(&dmabuf->lock);
	snprintf(dmabuf->name, sizeof(dmabuf->name), "%s", name);
	pthread_mutex_unlock(&dmabuf->lock);
	return 0;
}

/* ---- mappings -------------------------------------------------------------------- */

int ccmm_dma_buf_map_phyr_helper(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
				 struct ccmm_dma_buf_map *map)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;
	struct ccmm_dma_dev *dd = attach->dma_dev;
	struct ccmm_phyr phys;
	int ret;

	if (!dmabuf->ops->get_phyr)
		return -EOPNOTSUPP;
	if (!dd)
		return -EINVAL; /* a PFN importer: nothing to DMA-map */
	ret = dmabuf->ops->get_phyr(ctx, dmabuf, &phys);
	if (ret)
		return ret;
	if (map->is_phyr) {
		/* the new DMA API: the ranges with their metadata, P2P by bus address, private interconnect refused */
		ret = ccmm_dma_map_phyr(ctx, dd, &phys, map->dir, CCMM_DMA_ATTR_SKIP_CPU_SYNC, &map->dma);
		if (ret) {
			ccmm_phyr_free(&phys);
			return ret;
		}
		map->phys = phys; /* the importer keeps the metadata next to the DMA side */
		return 0;
	}
	/*
	 * A legacy importer: an sg_table of the ranges, cut where the DMA API
	 * may have to bounce (drm_prime_pages_to_sg uses dma_max_mapping_size),
	 * then dma_map_sgtable. The metadata is lost; the DMA API recognises a
	 * BAR by its address.
	 */
	ret = ccmm_phyr_to_sgt(&phys, &map->sgt, CCMM_MIN(ccmm_dma_max_mapping_size(dd), 1ULL << 31));
	ccmm_phyr_free(&phys);
	if (ret)
		return ret;
	/* drm_gem_map_dma_buf maps with DMA_ATTR_SKIP_CPU_SYNC (ccmm's bounce copies in at map all the same) */
	ret = ccmm_dma_map_sg(ctx, dd, &map->sgt, map->dir, CCMM_DMA_ATTR_SKIP_CPU_SYNC);
	if (ret < 0) {
		ccmm_sg_free_table(&map->sgt);
		return ret;
	}
	return 0;
}

void ccmm_dma_buf_unmap_phyr_helper(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
				    struct ccmm_dma_buf_map *map)
{
	struct ccmm_dma_dev *dd = attach->dma_dev;

	if (map->is_phyr) {
		if (dd && map->dma.nr)
			ccmm_dma_unmap_phyr(ctx, dd, &map->dma, 0);
		ccmm_phyr_free(&map->phys);
	} else if (map->sgt.sgl) {
		if (dd && map->sgt.nents)
			ccmm_dma_unmap_sg(ctx, dd, &map->sgt, map->dir, 0);
		ccmm_sg_free_table(&map->sgt);
	}
}

bool ccmm_dma_buf_map_has_p2p(const struct ccmm_dma_buf_map *map)
{
	if (map->is_phyr) {
		for (size_t i = 0; i < map->dma.nr; i++)
			if (map->dma.r[i].flags & CCMM_SG_DMA_BUS_ADDRESS)
				return true;
		return false;
	}
	for (unsigned i = 0; i < map->sgt.nents; i++)
		if (map->sgt.sgl[i].dma_flags & CCMM_SG_DMA_BUS_ADDRESS)
			return true;
	return false;
}

/* __map_dma_buf: a new mapping from the exporter, stamped with the generation. Reservation held. */
static int do_map(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, enum ccmm_dma_dir dir,
		  bool cached, struct ccmm_dma_buf_map **out)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;
	struct ccmm_dma_buf_map *map;
	int ret;

	if (atomic_load(&dmabuf->revoked))
		return -ENODEV;
	map = calloc(1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	map->attach = attach;
	map->dir = dir;
	map->is_phyr = attach->flags & CCMM_IMPORTER_PHYR;
	map->cached = cached;
	ccmm_phyr_init(&map->phys);
	map->gen = atomic_load(&dmabuf->gen);
	ret = dmabuf->ops->map_dma_buf ? dmabuf->ops->map_dma_buf(ctx, attach, map)
				       : ccmm_dma_buf_map_phyr_helper(ctx, attach, map);
	if (ret) {
		free(map);
		return ret;
	}
	if (!cached) {
		map->next = attach->maps;
		attach->maps = map;
		attach->nr_maps++;
	}
	ccmm_count(ctx, CCMM_CTR_AT(dma_buf, dmabuf_maps), 1);
	*out = map;
	return 0;
}

/* An importer let a mapping or its PFNs go: a revoke waiting for it looks again. */
static void unmapped(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	ccmm_wq_lock(&dmabuf->unmap_wq);
	dmabuf->unmap_seq++;
	ccmm_wake_up_locked(ctx, &dmabuf->unmap_wq, 0);
	ccmm_wq_unlock(&dmabuf->unmap_wq);
}

static void do_unmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, struct ccmm_dma_buf_map *map)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;

	if (dmabuf->ops->unmap_dma_buf)
		dmabuf->ops->unmap_dma_buf(ctx, attach, map);
	else
		ccmm_dma_buf_unmap_phyr_helper(ctx, attach, map);
	free(map);
	unmapped(ctx, dmabuf);
}

/* Take @map off the attachment's live list; false when it is not there. */
static bool unlink_map(struct ccmm_dma_buf_attachment *attach, struct ccmm_dma_buf_map *map)
{
	for (struct ccmm_dma_buf_map **pp = &attach->maps; *pp; pp = &(*pp)->next) {
		if (*pp == map) {
			*pp = map->next;
			attach->nr_maps--;
			return true;
		}
	}
	return false;
}

/* ---- attachments ------------------------------------------------------------------- */

static bool p2p_reach(const struct ccmm_platform *p, int dev, int provider)
{
	if (dev < 0 || provider < 0 || dev == provider)
		return true;
	return p->devices[dev].p2p_group >= 0 && p->devices[dev].p2p_group == p->devices[provider].p2p_group;
}

/* The refusal rules; 0 or the errno (the violation is recorded). */
static int attach_refusals(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, const struct ccmm_dma_buf_attach_info *ai,
			   const char *name)
{
	struct ccmm_machine *m = dmabuf->m;
	bool pfn = ai->flags & CCMM_IMPORTER_PFN;

	if (ai->importer_ops && !ai->importer_ops->move_notify) {
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_bad_attach, "%s attaches with importer ops but no move_notify", name);
		return -EINVAL;
	}
	if ((!pfn && ai->dev < 0) || (ai->dev >= 0 && (size_t)ai->dev >= m->plat->nr_devices)) {
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_bad_attach, "%s attaches to %s without a device to map for", name,
				 dmabuf->exp_name);
		return -EINVAL;
	}
	if ((ai->flags & CCMM_IMPORTER_REVOCABLE_OK) && !ai->importer_ops) {
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_bad_attach,
				 "%s says it survives a revoke but gives no move_notify to be told of one", name);
		return -EINVAL;
	}
	if ((dmabuf->flags & CCMM_DMA_BUF_REVOCABLE) && dmabuf->negotiate && !(ai->flags & CCMM_IMPORTER_REVOCABLE_OK)) {
		dmabuf_violation(ctx, &ccmm_rule_revocable_to_nonrevocable,
				 "refused: %s is revocable (%s) and %s cannot survive a revoke -- a revoke would shoot it down",
				 dmabuf->exp_name, _ccmm_dmabuf_dev_name(m, dmabuf->provider), name);
		return -EOPNOTSUPP;
	}
	if ((dmabuf->flags & CCMM_DMA_BUF_RESTRICTED) && !ccmm_tdisp_secure(m, ai->dev)) {
		dmabuf_violation(ctx, &ccmm_rule_restricted_access,
				 "refused: %s is restricted memory and %s is not in a secure state (TDISP %s)", dmabuf->exp_name,
				 name, ccmm_tdisp_state_name(ccmm_tdisp_state(m, ai->dev)));
		return -EPERM;
	}
	if ((dmabuf->flags & CCMM_DMA_BUF_PRIVATE) && !pfn) {
		dmabuf_violation(ctx, &ccmm_rule_private_mmio_mapped,
				 "refused: %s is private MMIO of %s; a generic DMA importer (%s) cannot map it, only KVM or "
				 "iommufd through the physical-range list",
				 dmabuf->exp_name, _ccmm_dmabuf_dev_name(m, dmabuf->provider), name);
		return -EOPNOTSUPP;
	}
	return 0;
}

static void unlink_attach(struct ccmm_dma_buf *dmabuf, struct ccmm_dma_buf_attachment *attach)
{
	for (struct ccmm_dma_buf_attachment **pp = &dmabuf->attachments; *pp; pp = &(*pp)->next) {
		if (*pp == attach) {
			*pp = attach->next;
			return;
		}
	}
}

int ccmm_dma_buf_attach(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, const struct ccmm_dma_buf_attach_info *ai,
			struct ccmm_dma_buf_attachment **out)
{
	struct ccmm_machine *m = dmabuf->m;
	struct ccmm_dma_buf_attachment *a;
	struct ccmm_dma_dev *dd = NULL;
	const char *name = ai->name ? ai->name : _ccmm_dmabuf_dev_name(m, ai->dev);
	int ret;

	if (released(ctx, dmabuf, "dma_buf_attach"))
		return -EINVAL;
	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_attach"))
		return -EDEADLK;
	ret = attach_refusals(ctx, dmabuf, ai, name);
	if (ret)
		return ret;
	if (!(ai->flags & CCMM_IMPORTER_PFN) && ai->dev >= 0) {
		/* the importer's driver has bound its device (or binds it now, as its probe would) */
		struct ccmm_dma_probe_opts po = { .no_filter = ai->no_filter };

		dd = ccmm_dma_dev(m, ai->dev);
		ret = dd ? ccmm_dma_bind(ctx, dd, &po) : -EINVAL;
		if (ret)
			return ret;
	}
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->dmabuf = dmabuf;
	a->dev = ai->dev;
	a->dma_dev = dd;
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->importer_ops = ai->importer_ops;
	a->importer_priv = ai->importer_priv;
	a->flags = ai->flags;
	a->peer2peer = ai->importer_ops && ai->importer_ops->allow_peer2peer && p2p_reach(m->plat, ai->dev, dmabuf->provider);
	if (dmabuf->ops->attach) {
		ret = dmabuf->ops->attach(ctx, dmabuf, a);
		if (ret) {
			free(a);
			return ret;
		}
	}
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	a->next = dmabuf->attachments;
	dmabuf->attachments = a;
	/* when only one side can handle dynamic mappings, pin and map once, now */
	if (ccmm_dma_buf_attachment_is_dynamic(a) != ccmm_dma_buf_is_dynamic(dmabuf)) {
		if (ccmm_dma_buf_is_dynamic(dmabuf)) {
			ret = dmabuf->ops->pin(ctx, a);
			a->pinned_at_attach = !ret;
		}
		if (!ret && !(a->flags & CCMM_IMPORTER_PFN))
			ret = do_map(ctx, a, CCMM_DMA_BIDIRECTIONAL, true, &a->cached);
		if (ret) {
			if (a->pinned_at_attach)
				dmabuf->ops->unpin(ctx, a);
			unlink_attach(dmabuf, a);
		}
	}
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	if (ret) {
		if (dmabuf->ops->detach)
			dmabuf->ops->detach(ctx, dmabuf, a);
		free(a);
		return ret;
	}
	*out = a;
	return 0;
}

int ccmm_dma_buf_detach(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;
	bool release_now;

	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_detach"))
		return -EDEADLK;
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	if (attach->nr_maps) {
		unsigned n = attach->nr_maps;

		ccmm_dma_resv_unlock(ctx, dmabuf->resv);
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_detach_mapped,
				 "%s detaches from %s with %u mapping(s) still live: refused", attach->name, dmabuf->exp_name, n);
		return -EBUSY;
	}
	while (attach->cached) {
		struct ccmm_dma_buf_map *map = attach->cached;

		attach->cached = map->next;
		do_unmap(ctx, attach, map);
	}
	if (attach->pinned_at_attach)
		dmabuf->ops->unpin(ctx, attach);
	attach->has_pfns = false;
	unlink_attach(dmabuf, attach);
	release_now = dmabuf->release_deferred && !dmabuf->attachments;
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	if (dmabuf->ops->detach)
		dmabuf->ops->detach(ctx, dmabuf, attach);
	free(attach);
	if (release_now)
		do_release(ctx, dmabuf);
	return 0;
}

int ccmm_dma_buf_pin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;

	if (released(ctx, dmabuf, "dma_buf_pin"))
		return -EINVAL;
	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf_pin"))
		return -EINVAL;
	if (!ccmm_dma_buf_attachment_is_dynamic(attach))
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_pin_static, "dma_buf_pin by %s, a static importer", attach->name);
	return dmabuf->ops->pin ? dmabuf->ops->pin(ctx, attach) : 0;
}

int ccmm_dma_buf_unpin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;

	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf_unpin"))
		return -EINVAL;
	if (!ccmm_dma_buf_attachment_is_dynamic(attach))
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_pin_static, "dma_buf_unpin by %s, a static importer", attach->name);
	if (dmabuf->ops->unpin)
		dmabuf->ops->unpin(ctx, attach);
	return 0;
}

int ccmm_dma_buf_map_attachment(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
				enum ccmm_dma_dir dir, struct ccmm_dma_buf_map **out)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;
	int ret;

	if (released(ctx, dmabuf, "dma_buf_map_attachment"))
		return -EINVAL;
	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf_map_attachment"))
		return -EINVAL;
	if (attach->flags & CCMM_IMPORTER_PFN) {
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_bad_attach,
				 "%s is a PFN importer: it has no device mapping to make (get_phyr / get_pfn)", attach->name);
		return -EINVAL;
	}
	if (attach->cached) {
		if (attach->cached->dir != dir && attach->cached->dir != CCMM_DMA_BIDIRECTIONAL)
			return -EBUSY;
		if (attach->cached->gen != atomic_load(&dmabuf->gen)) {
			/* the cached mapping went stale (a revoke): make a fresh one */
			struct ccmm_dma_buf_map *fresh;

			ret = do_map(ctx, attach, attach->cached->dir, true, &fresh);
			if (ret)
				return ret;
			/* the stale one stays allocated for the importer that still holds it; freed at detach */
			fresh->next = attach->cached;
			attach->cached = fresh;
		}
		*out = attach->cached;
		return 0;
	}
	return do_map(ctx, attach, dir, false, out);
}

int ccmm_dma_buf_unmap_attachment(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
				  struct ccmm_dma_buf_map *map)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;

	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf_unmap_attachment"))
		return -EINVAL;
	for (struct ccmm_dma_buf_map *c = attach->cached; c; c = c->next)
		if (c == map)
			return 0; /* the attach-time mapping lives until detach */
	if (!unlink_map(attach, map)) {
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_unmap_unmapped,
				 "%s unmaps a mapping of %s it does not have (never mapped, or unmapped twice)", attach->name,
				 dmabuf->exp_name);
		return -EINVAL;
	}
	do_unmap(ctx, attach, map);
	return 0;
}

int ccmm_dma_buf_map_attachment_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
					 enum ccmm_dma_dir dir, struct ccmm_dma_buf_map **out)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;
	int ret;

	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_map_attachment_unlocked"))
		return -EDEADLK;
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	ret = ccmm_dma_buf_map_attachment(ctx, attach, dir, out);
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	return ret;
}

int ccmm_dma_buf_unmap_attachment_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
					   struct ccmm_dma_buf_map *map)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;
	int ret;

	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_unmap_attachment_unlocked"))
		return -EDEADLK;
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	ret = ccmm_dma_buf_unmap_attachment(ctx, attach, map);
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	return ret;
}

bool ccmm_dma_buf_map_valid(const struct ccmm_dma_buf_map *map)
{
	return map->gen == atomic_load(&map->attach->dmabuf->gen);
}

/* The generation up to which moves took effect: done, or pending with a signalled fence (folded in). */
static uint64_t moved_gen(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	struct ccmm_dma_fence *f;
	uint64_t done;

	pthread_mutex_lock(&dmabuf->lock);
	f = dmabuf->pending_fence;
	if (f && ccmm_dma_fence_is_signaled(ctx, f)) {
		dmabuf->done_gen = CCMM_MAX(dmabuf->done_gen, dmabuf->pending_gen);
		dmabuf->pending_fence = NULL;
	} else {
		f = NULL;
	}
	done = dmabuf->done_gen;
	pthread_mutex_unlock(&dmabuf->lock);
	if (f)
		ccmm_dma_fence_put(ctx, f);
	return done;
}

bool ccmm_dma_buf_map_reaches(struct ccmm_ctx *ctx, struct ccmm_dma_buf_map *map)
{
	return map->gen >= moved_gen(ctx, map->attach->dmabuf);
}

int ccmm_dma_buf_move_done(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_dma_fence *fence)
{
	struct ccmm_dma_fence *old;

	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf move done"))
		return -EINVAL;
	if (fence && ccmm_dma_fence_is_signaled(ctx, fence))
		fence = NULL;
	pthread_mutex_lock(&dmabuf->lock);
	old = dmabuf->pending_fence;
	/* an earlier pending move is part of this one: its old location goes with this fence at the latest */
	if (fence) {
		dmabuf->pending_fence = ccmm_dma_fence_get(ctx, fence);
		dmabuf->pending_gen = atomic_load(&dmabuf->gen);
	} else {
		dmabuf->pending_fence = NULL;
		dmabuf->done_gen = atomic_load(&dmabuf->gen);
	}
	pthread_mutex_unlock(&dmabuf->lock);
	if (old)
		ccmm_dma_fence_put(ctx, old);
	return 0;
}

/*
 * A use of addresses from generation @gen: record the violations when a
 * move since then took effect (its fences signalled); while it is in
 * flight they still reach the buffer's memory, as the documentation of
 * move_notify allows.
 */
static bool stale_use(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, uint64_t gen, const char *what)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;
	uint64_t now = atomic_load(&dmabuf->gen);

	if (gen == now || gen >= moved_gen(ctx, dmabuf))
		return false;
	if (ccmm_dma_buf_attachment_is_dynamic(attach) && attach->notified_gen > gen && attach->ignored_gen != now) {
		attach->ignored_gen = now;
		dmabuf_violation(ctx, &ccmm_rule_move_notify_ignored,
				 "%s was told by move_notify that %s moved%s, and still uses what it had before", attach->name,
				 dmabuf->exp_name, atomic_load(&dmabuf->revoked) ? " (revoked)" : "");
	}
	dmabuf_violation(ctx, &ccmm_rule_use_after_move,
			 "%s: %s of %s through %s taken %" PRIu64 " move(s)/revoke(s) ago: it reaches the old location",
			 attach->name, what, dmabuf->exp_name, what, now - gen);
	return true;
}

/* The DMA segments of a mapping: the sg_table's DMA side, or the mapped phyr's ranges. */
static bool map_seg(void *arg, size_t i, uint64_t *dma, uint64_t *len)
{
	const struct ccmm_dma_buf_map *map = arg;

	if (map->is_phyr) {
		if (i >= map->dma.nr)
			return false;
		*dma = map->dma.r[i].dma;
		*len = map->dma.r[i].len;
		return true;
	}
	if (i >= map->sgt.nents)
		return false;
	*dma = map->sgt.sgl[i].dma_address;
	*len = map->sgt.sgl[i].dma_length;
	return true;
}

int ccmm_dma_buf_map_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf_map *map, enum ccmm_rw rw, uint64_t off,
			    void *buf, size_t len, struct ccmm_result *r)
{
	struct ccmm_dma_buf_attachment *attach = map->attach;
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;

	memset(r, 0, sizeof(*r));
	if (!len || off + len > dmabuf->size || off + len < off || !attach->dma_dev)
		return -EINVAL;
	stale_use(ctx, attach, map->gen, rw == CCMM_READ ? "a DMA read" : "a DMA write");
	return ccmm_dma_device_access_segs(ctx, attach->dma_dev, rw, map_seg, map, off, buf, len, r);
}

int ccmm_dma_buf_move_notify(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	int ret = ccmm_dma_buf_move_begin(ctx, dmabuf);

	return ret ? ret : ccmm_dma_buf_move_done(ctx, dmabuf, NULL);
}

int ccmm_dma_buf_move_begin(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	uint64_t gen;

	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf_move_notify"))
		return -EINVAL;
	gen = atomic_fetch_add(&dmabuf->gen, 1) + 1;
	for (struct ccmm_dma_buf_attachment *a = dmabuf->attachments; a; a = a->next) {
		if (!a->importer_ops)
			continue;
		a->notified_gen = gen;
		ccmm_count(ctx, CCMM_CTR_AT(dma_buf, dmabuf_notifies), 1);
		a->importer_ops->move_notify(ctx, a);
	}
	return 0;
}

/* ---- PFNs and phyr ----------------------------------------------------------------------- */

int ccmm_dma_buf_get_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, struct ccmm_phyr *out)
{
	struct ccmm_dma_buf *dmabuf = attach->dmabuf;
	int ret;

	ccmm_phyr_init(out);
	if (released(ctx, dmabuf, "dma_buf_get_phyr"))
		return -EINVAL;
	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf_get_phyr"))
		return -EINVAL;
	if (atomic_load(&dmabuf->revoked))
		return -ENODEV;
	if (!dmabuf->ops->get_phyr)
		return -EOPNOTSUPP;
	ret = dmabuf->ops->get_phyr(ctx, dmabuf, out);
	if (ret)
		return ret;
	attach->has_pfns = true;
	attach->pfn_gen = atomic_load(&dmabuf->gen);
	return 0;
}

int ccmm_dma_buf_get_pfn(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, uint64_t pgoff,
			 uint64_t *pfn, unsigned *max_order)
{
	struct ccmm_phyr p;
	uint64_t off = pgoff << CCMM_PAGE_SHIFT, at = 0;
	size_t gi, ri;
	int ret;

	if (off >= attach->dmabuf->size)
		return -EINVAL;
	ret = ccmm_dma_buf_get_phyr(ctx, attach, &p);
	if (ret)
		return ret;
	ret = -EINVAL;
	ccmm_phyr_for_each_range(&p, gi, ri)
	{
		if (ret && off < at + p.r[ri].len) {
			uint64_t pa = p.r[ri].pa + (off - at);
			unsigned order = 0;

			/* the largest naturally aligned block around it that one range covers */
			while (order < 18) {
				uint64_t bsize = CCMM_PAGE_SIZE << (order + 1);
				uint64_t bpa = CCMM_ALIGN_DOWN(pa, bsize), boff = off - (pa - bpa);

				if (boff < at || boff + bsize > at + p.r[ri].len || (boff & (bsize - 1)))
					break;
				order++;
			}
			*pfn = pa >> CCMM_PAGE_SHIFT;
			if (max_order)
				*max_order = order;
			ret = 0;
		}
		at += p.r[ri].len;
	}
	ccmm_phyr_free(&p);
	return ret;
}

void ccmm_dma_buf_put_pfns(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	attach->has_pfns = false;
	unmapped(ctx, attach->dmabuf);
}

int ccmm_dma_buf_pfn_check(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, const char *what)
{
	if (!attach->has_pfns) {
		dmabuf_violation(ctx, &ccmm_rule_use_after_move, "%s: %s through PFNs of %s it no longer holds", attach->name,
				 what, attach->dmabuf->exp_name);
		return -ESTALE;
	}
	return stale_use(ctx, attach, attach->pfn_gen, what) ? -ESTALE : 0;
}

/* ---- revoke ------------------------------------------------------------------------------- */

static bool revoke_pending(struct ccmm_dma_buf_attachment *a, uint64_t gen)
{
	for (struct ccmm_dma_buf_map *map = a->maps; map; map = map->next)
		if (map->gen != gen)
			return true;
	return a->has_pfns && a->pfn_gen != gen;
}

int ccmm_dma_buf_revoke(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	int64_t left = UNMAP_WAIT_NS;
	uint64_t gen;

	if (released(ctx, dmabuf, "revoke"))
		return -EINVAL;
	if (!(dmabuf->flags & CCMM_DMA_BUF_REVOCABLE))
		return -EINVAL;
	if (lock_held_wrongly(ctx, dmabuf, "revoke"))
		return -EDEADLK;
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	if (atomic_load(&dmabuf->revoked)) {
		ccmm_dma_resv_unlock(ctx, dmabuf->resv);
		return 0;
	}
	atomic_store(&dmabuf->revoked, true);
	gen = atomic_fetch_add(&dmabuf->gen, 1) + 1;
	/* a revoke takes effect at once: the exporter zaps its memory (vfio_pci_zap_bars) */
	ccmm_dma_buf_move_done(ctx, dmabuf, NULL);
	if (dmabuf->ops->revoke)
		dmabuf->ops->revoke(ctx, dmabuf, true);
	for (struct ccmm_dma_buf_attachment *a = dmabuf->attachments; a; a = a->next) {
		if (!(a->flags & CCMM_IMPORTER_REVOCABLE_OK))
			dmabuf_violation(ctx, &ccmm_rule_revocable_to_nonrevocable,
					 "revoke of %s shoots down %s, which never agreed to revocable memory", dmabuf->exp_name,
					 a->name);
		if (a->importer_ops) {
			a->notified_gen = gen;
			ccmm_count(ctx, CCMM_CTR_AT(dma_buf, dmabuf_notifies), 1);
			a->importer_ops->move_notify(ctx, a);
		}
	}
	ccmm_dma_resv_wait_timeout(ctx, dmabuf->resv, CCMM_RESV_USAGE_BOOKKEEP, REVOKE_WAIT_NS);
	/*
	 * Wait for the importers to let go of what they had: sleep (sched/)
	 * until one unmaps, up to UNMAP_WAIT_NS in all (modeled under the
	 * engine: it times out when nothing else can run; wall time on plain
	 * threads); whoever still holds something then ignored the revoke.
	 */
	for (;;) {
		bool pending = false;
		uint64_t seq;
		int ret = 0;

		for (struct ccmm_dma_buf_attachment *a = dmabuf->attachments; a; a = a->next)
			pending |= revoke_pending(a, gen);
		if (!pending || left <= 0)
			break;
		ccmm_wq_lock(&dmabuf->unmap_wq);
		seq = dmabuf->unmap_seq;
		ccmm_wq_unlock(&dmabuf->unmap_wq);
		ccmm_dma_resv_unlock(ctx, dmabuf->resv);
		ccmm_wq_lock(&dmabuf->unmap_wq);
		ccmm_wait_event_locked(ctx, &dmabuf->unmap_wq, dmabuf->unmap_seq != seq, &left, 0, ret);
		ccmm_wq_unlock(&dmabuf->unmap_wq);
		ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
		if (ret)
			left = 0;
	}
	for (struct ccmm_dma_buf_attachment *a = dmabuf->attachments; a; a = a->next) {
		if (!revoke_pending(a, gen) || a->ignored_gen == gen)
			continue;
		a->ignored_gen = gen;
		dmabuf_violation(ctx, &ccmm_rule_move_notify_ignored,
				 "revoke of %s: %s still holds mappings or PFNs from before it", dmabuf->exp_name, a->name);
	}
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	return 0;
}

int ccmm_dma_buf_unrevoke(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	if (released(ctx, dmabuf, "unrevoke"))
		return -EINVAL;
	if (!(dmabuf->flags & CCMM_DMA_BUF_REVOCABLE))
		return -EINVAL;
	if (lock_held_wrongly(ctx, dmabuf, "unrevoke"))
		return -EDEADLK;
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	atomic_store(&dmabuf->revoked, false);
	if (dmabuf->ops->revoke)
		dmabuf->ops->revoke(ctx, dmabuf, false);
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	return 0;
}

/* ---- CPU access ------------------------------------------------------------------------------ */

static bool dir_writes(enum ccmm_dma_dir dir)
{
	return dir == CCMM_DMA_BIDIRECTIONAL || dir == CCMM_DMA_TO_DEVICE;
}

int ccmm_dma_buf_begin_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir)
{
	int ret = 0;

	if (released(ctx, dmabuf, "dma_buf_begin_cpu_access"))
		return -EINVAL;
	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_begin_cpu_access"))
		return -EDEADLK;
	if (dmabuf->ops->begin_cpu_access)
		ret = dmabuf->ops->begin_cpu_access(ctx, dmabuf, dir);
	/* implicit sync: a CPU writer waits for readers and writers, a reader for writers */
	if (!ret && ccmm_dma_resv_wait_timeout(ctx, dmabuf->resv, ccmm_dma_resv_usage_rw(dir_writes(dir)), CPU_WAIT_NS) <= 0)
		ret = -ETIMEDOUT;
	return ret;
}

int ccmm_dma_buf_end_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir)
{
	if (released(ctx, dmabuf, "dma_buf_end_cpu_access"))
		return -EINVAL;
	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_end_cpu_access"))
		return -EDEADLK;
	return dmabuf->ops->end_cpu_access ? dmabuf->ops->end_cpu_access(ctx, dmabuf, dir) : 0;
}

int ccmm_dma_buf_ioctl_sync(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t flags)
{
	enum ccmm_dma_dir dir;
	bool rd, wr;
	int ret;

	if (flags & ~(uint64_t)(CCMM_DMA_BUF_SYNC_RW | CCMM_DMA_BUF_SYNC_END))
		return -EINVAL;
	switch (flags & CCMM_DMA_BUF_SYNC_RW) {
	case CCMM_DMA_BUF_SYNC_READ:
		dir = CCMM_DMA_FROM_DEVICE;
		break;
	case CCMM_DMA_BUF_SYNC_WRITE:
		dir = CCMM_DMA_TO_DEVICE;
		break;
	case CCMM_DMA_BUF_SYNC_RW:
		dir = CCMM_DMA_BIDIRECTIONAL;
		break;
	default:
		return -EINVAL;
	}
	rd = flags & CCMM_DMA_BUF_SYNC_READ;
	wr = flags & CCMM_DMA_BUF_SYNC_WRITE;
	if (flags & CCMM_DMA_BUF_SYNC_END) {
		ret = ccmm_dma_buf_end_cpu_access(ctx, dmabuf, dir);
		if (!ret) {
			if (rd && atomic_load(&dmabuf->cpu_readers) > 0)
				atomic_fetch_sub(&dmabuf->cpu_readers, 1);
			if (wr && atomic_load(&dmabuf->cpu_writers) > 0)
				atomic_fetch_sub(&dmabuf->cpu_writers, 1);
		}
		return ret;
	}
	ret = ccmm_dma_buf_begin_cpu_access(ctx, dmabuf, dir);
	if (!ret) {
		if (rd)
			atomic_fetch_add(&dmabuf->cpu_readers, 1);
		if (wr)
			atomic_fetch_add(&dmabuf->cpu_writers, 1);
	}
	return ret;
}

int ccmm_dma_buf_ioctl_info(struct ccmm_dma_buf *dmabuf, uint32_t param, uint64_t *value)
{
	if (param != CCMM_DMA_BUF_INFO_MAP_INFO)
		return -EINVAL;
	*value = dmabuf->map_info;
	return 0;
}

/* The present PTEs of [va, va+len) in @mm against the map info: 1 if one contradicts it. */
static int check_ptes(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, uint64_t va, uint64_t len)
{
	int claim = ccmm_dma_buf_map_info_cache(dmabuf->map_info);

	if (claim < 0)
		return 0;
	for (uint64_t a = CCMM_ALIGN_DOWN(va, CCMM_PAGE_SIZE); a < va + len; a += CCMM_PAGE_SIZE) {
		struct ccmm_walk w;
		enum ccmm_cache_mode got;

		if (ccmm_pgt_walk(mm->pgt, a, &w))
			continue;
		got = ccmm_pte_cache_mode(w.pte, w.level);
		if ((int)got != claim) {
			ccmm_violation(ctx, &ccmm_rule_map_info_mismatch, w.pa,
				       "%s maps dma-buf %s %s at 0x%" PRIx64 ", but its map info says %s", mm->name,
				       dmabuf->exp_name, ccmm_cache_mode_name(got), a, ccmm_dma_buf_map_info_name(dmabuf->map_info));
			return 1;
		}
	}
	return 0;
}

int ccmm_dma_buf_mmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, uint64_t pgoff,
		      uint64_t npages, bool writable, struct ccmm_vma **out)
{
	int ret;

	if (released(ctx, dmabuf, "dma_buf_mmap"))
		return -EINVAL;
	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_mmap"))
		return -EDEADLK;
	if (!dmabuf->ops->mmap || !npages)
		return -EINVAL;
	if (pgoff + npages < pgoff)
		return -EOVERFLOW;
	if (pgoff + npages > dmabuf->size >> CCMM_PAGE_SHIFT)
		return -EINVAL;
	if (dmabuf->flags & CCMM_DMA_BUF_PRIVATE) {
		dmabuf_violation(ctx, &ccmm_rule_private_mmio_mapped,
				 "%s tried to mmap private MMIO of %s (%s): never into host user space", mm->name,
				 _ccmm_dmabuf_dev_name(dmabuf->m, dmabuf->provider), dmabuf->exp_name);
		return -EPERM;
	}
	if (dmabuf->flags & CCMM_DMA_BUF_RESTRICTED) {
		dmabuf_violation(ctx, &ccmm_rule_restricted_access, "%s tried to mmap restricted buffer %s: never CPU-mapped",
				 mm->name, dmabuf->exp_name);
		return -EPERM;
	}
	if (atomic_load(&dmabuf->revoked))
		return -ENODEV;
	ret = dmabuf->ops->mmap(ctx, dmabuf, mm, pgoff, npages, writable, out);
	if (!ret)
		check_ptes(ctx, dmabuf, mm, (*out)->start, (*out)->end - (*out)->start);
	return ret;
}

int ccmm_dma_buf_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, enum ccmm_rw rw,
			    uint64_t va, void *buf, size_t len, struct ccmm_result *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	if (released(ctx, dmabuf, "a CPU access"))
		return -EINVAL;
	if (dmabuf->map_info == CCMM_DMA_BUF_MAP_INCOHERENT &&
	    !atomic_load(rw == CCMM_READ ? &dmabuf->cpu_readers : &dmabuf->cpu_writers))
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_sync_missing,
				 "%s %s incoherent dma-buf %s without DMA_BUF_IOCTL_SYNC(START|%s) around it", mm->name,
				 rw == CCMM_READ ? "reads" : "writes", dmabuf->exp_name, rw == CCMM_READ ? "READ" : "WRITE");
	ret = ccmm_mm_access(ctx, mm, rw, va, buf, len, r);
	if (!ret)
		check_ptes(ctx, dmabuf, mm, va, len);
	return ret;
}

int ccmm_dma_buf_check_map_info(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_cache_mode cache,
				const char *who)
{
	int claim = ccmm_dma_buf_map_info_cache(dmabuf->map_info);

	if (claim < 0) {
		dmabuf_violation(ctx, &ccmm_rule_map_info_mismatch,
				 "%s maps incoherent dma-buf %s into a guest: DMA_BUF_MAP_INCOHERENT says it cannot be", who,
				 dmabuf->exp_name);
		return -EINVAL;
	}
	if (claim != (int)cache) {
		dmabuf_violation(ctx, &ccmm_rule_map_info_mismatch, "%s maps dma-buf %s %s, but its map info says %s", who,
				 dmabuf->exp_name, ccmm_cache_mode_name(cache), ccmm_dma_buf_map_info_name(dmabuf->map_info));
		return -EINVAL;
	}
	return 0;
}

int ccmm_dma_buf_vmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t *va)
{
	int ret = 0;

	if (released(ctx, dmabuf, "dma_buf_vmap"))
		return -EINVAL;
	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf_vmap"))
		return -EINVAL;
	if (dmabuf->flags & (CCMM_DMA_BUF_RESTRICTED | CCMM_DMA_BUF_PRIVATE)) {
		dmabuf_violation(ctx, dmabuf->flags & CCMM_DMA_BUF_RESTRICTED ? &ccmm_rule_restricted_access
									       : &ccmm_rule_private_mmio_mapped,
				 "dma_buf_vmap of %s: never CPU-mapped", dmabuf->exp_name);
		return -EPERM;
	}
	if (!dmabuf->ops->vmap)
		return -EINVAL;
	pthread_mutex_lock(&dmabuf->lock);
	if (dmabuf->vmapping_counter) {
		dmabuf->vmapping_counter++;
		*va = dmabuf->vmap_va;
	} else {
		ret = dmabuf->ops->vmap(ctx, dmabuf, &dmabuf->vmap_va);
		if (!ret) {
			dmabuf->vmapping_counter = 1;
			*va = dmabuf->vmap_va;
		}
	}
	pthread_mutex_unlock(&dmabuf->lock);
	return ret;
}

int ccmm_dma_buf_vunmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t va)
{
	int ret = 0;

	if (!ccmm_dma_resv_assert_held(ctx, dmabuf->resv, "dma_buf_vunmap"))
		return -EINVAL;
	pthread_mutex_lock(&dmabuf->lock);
	if (!dmabuf->vmapping_counter || va != dmabuf->vmap_va) {
		ret = -EINVAL;
	} else if (!--dmabuf->vmapping_counter) {
		if (dmabuf->ops->vunmap)
			dmabuf->ops->vunmap(ctx, dmabuf, va);
		dmabuf->vmap_va = 0;
	}
	pthread_mutex_unlock(&dmabuf->lock);
	if (ret)
		dmabuf_violation(ctx, &ccmm_rule_dmabuf_unmap_unmapped, "dma_buf_vunmap of %s at 0x%" PRIx64 ", not its vmap",
				 dmabuf->exp_name, va);
	return ret;
}

int ccmm_dma_buf_vmap_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t *va)
{
	int ret;

	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_vmap_unlocked"))
		return -EDEADLK;
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	ret = ccmm_dma_buf_vmap(ctx, dmabuf, va);
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	return ret;
}

int ccmm_dma_buf_vunmap_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t va)
{
	int ret;

	if (lock_held_wrongly(ctx, dmabuf, "dma_buf_vunmap_unlocked"))
		return -EDEADLK;
	ccmm_dma_resv_lock(ctx, dmabuf->resv, NULL);
	ret = ccmm_dma_buf_vunmap(ctx, dmabuf, va);
	ccmm_dma_resv_unlock(ctx, dmabuf->resv);
	return ret;
}

/* ---- bufinfo --------------------------------------------------------------------------------- */


int ccmm_dma_buf_bufinfo(struct ccmm_machine *m, FILE *out)
{
	struct dmabuf_state *st = dmabuf_state(m);
	struct ccmm_ctx ctx;
	int count = 0;
	uint64_t size = 0;

	if (!st)
		return -EINVAL;
	ccmm_ctx_init(&ctx, m, -1, "bufinfo");
	pthread_mutex_lock(&st->lock);
	fputs("\nDma-buf Objects:\n", out);
	fprintf(out, "%-8s\t%-8s\t%-8s\t%-8s\texp_name\t%-8s\tname\n", "size", "flags", "mode", "count", "ino");
	for (struct ccmm_dma_buf *b = st->bufs; b; b = b->next) {
		bool mine = ccmm_dma_resv_held(b->resv);
		int attached = 0;

		if (atomic_load(&b->released))
			continue;
		if (!mine)
			ccmm_dma_resv_lock(&ctx, b->resv, NULL);
		pthread_mutex_lock(&b->lock);
		fprintf(out, "%08" PRIu64 "\t%08x\t%08x\t%08d\t%s\t%08lu\t%s\n", b->size, b->f_flags, b->f_mode,
			atomic_load(&b->refcount), b->exp_name, b->ino, b->name[0] ? b->name : "<none>");
		pthread_mutex_unlock(&b->lock);
		ccmm_dma_resv_describe(b->resv, out);
		fputs("\tAttached Devices:\n", out);
		for (struct ccmm_dma_buf_attachment *a = b->attachments; a; a = a->next) {
			fprintf(out, "\t%s\n", a->name);
			attached++;
		}
		if (!mine)
			ccmm_dma_resv_unlock(&ctx, b->resv);
		fprintf(out, "Total %d devices attached\n\n", attached);
		count++;
		size += b->size;
	}
	fprintf(out, "\nTotal %d objects, %" PRIu64 " bytes\n", count, size);
	pthread_mutex_unlock(&st->lock);
	return ferror(out) ? -EIO : 0;
}

/* ---- per-machine state ----------------------------------------------------------------------- */

static int dma_buf_init(struct ccmm_machine *m)
{
	struct dmabuf_state *st = calloc(1, sizeof(*st));

	if (!st)
		return -ENOMEM;
	pthread_mutex_init(&st->lock, NULL);
	for (int i = 0; i < DMABUF_MAX_DEVS; i++) {
		st->private_bar[i] = -1;
		atomic_init(&st->host_mmaps[i], 0);
	}
	ccmm_subsys_set_data(m, &ccmm_subsys_dma_buf, st);
	return 0;
}

static void dma_buf_exit(struct ccmm_machine *m)
{
	struct dmabuf_state *st = dmabuf_state(m);
	struct ccmm_ctx ctx;

	if (!st)
		return;
	ccmm_ctx_init(&ctx, m, -1, "shutdown");
	while (st->bufs) {
		struct ccmm_dma_buf *b = st->bufs;

		st->bufs = b->next;
		/* importers that never detached: their attachments go with the buffer */
		while (b->attachments) {
			struct ccmm_dma_buf_attachment *a = b->attachments;

			b->attachments = a->next;
			while (a->maps) {
				struct ccmm_dma_buf_map *map = a->maps;

				a->maps = map->next;
				do_unmap(&ctx, a, map);
			}
			while (a->cached) {
				struct ccmm_dma_buf_map *map = a->cached;

				a->cached = map->next;
				do_unmap(&ctx, a, map);
			}
			if (a->pinned_at_attach)
				b->ops->unpin(&ctx, a);
			if (b->ops->detach)
				b->ops->detach(&ctx, b, a);
			free(a);
		}
		if (!atomic_load(&b->released) || b->release_deferred)
			b->ops->release(&ctx, b);
		if (b->resv == &b->base_resv)
			ccmm_dma_resv_fini(&ctx, &b->base_resv);
		if (b->pending_fence)
			ccmm_dma_fence_put(&ctx, b->pending_fence);
		pthread_mutex_destroy(&b->lock);
		ccmm_destroy_waitqueue_head(&b->unmap_wq);
		free(b);
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
	ccmm_subsys_set_data(m, &ccmm_subsys_dma_buf, NULL);
}

struct ccmm_subsys ccmm_subsys_dma_buf = {
	.name = "dma-buf",
	.init = dma_buf_init,
	.exit = dma_buf_exit,
	.rules = dma_buf_rules,
	.block = &ccmm_dma_buf_block,
};
