/* SPDX-License-Identifier: MIT */
/*
 * dma-buf.h - buffer sharing between exporters and importers (layer 3,
 * seeds 001 and 003).
 *
 *   exporter (GPU/TTM, VFIO BAR, heap)          importers (display, RDMA, GPU,
 *     ops: get_phyr, map/unmap, pin/unpin,        iommufd, KVM) declare what
 *          mmap, vmap, cpu access, revoke         they tolerate
 *            |                                        |
 *            v                                        v
 *   dma_buf --resv (dma_resv: ww_mutex + fences)-- attachment
 *     size, map_info, REVOCABLE/PRIVATE/RESTRICTED    static: a mapping cached
 *     gen: bumped by move_notify and revoke             at attach (pinned)
 *                                                     dynamic: move_notify
 *                                                     phyr / sg_table / PFNs
 *
 *   A mapping (struct ccmm_dma_buf_map) carries the generation it was made
 *   in. move_notify and revoke bump the generation: from then on the
 *   mapping no longer describes the buffer (ccmm_dma_buf_map_valid), and
 *   the importer must map again "as soon as possible". It stays usable
 *   until the move takes effect: the exporter says when
 *   (ccmm_dma_buf_move_done, with the fence of the move, whose signalling
 *   frees the old location -- TTM's moves are done when they return,
 *   revokes at once). Only an access through an older mapping -- or a PFN
 *   taken before -- after that is a use-after-move (the hardware still
 *   touches the old addresses; ccmm records it and lets the checker see
 *   what is there now). A lazy importer that keeps DMAing through its
 *   mapping until then is correct (dma_buf_attach_ops.move_notify:
 *   "Mappings stay valid and are not directly affected by this callback").
 *
 * Attachment modes (Jason's cascade in seed 001):
 *   pinned     the exporter pins at attach (static importer on a dynamic
 *              exporter) or never moves (static exporter)
 *   revocable  pinned, but the exporter may revoke: the importer must
 *              declare CCMM_IMPORTER_REVOCABLE_OK (and have move_notify to
 *              hear it); others are refused at attach with a reason,
 *              unless negotiation is off (today's kernel), where the
 *              revoke itself is the violation
 *   dynamic    may move at any time; move_notify required
 *   PFN        iommufd / KVM: no DMA mapping, PFNs or the phyr under the
 *              reservation lock, torn down on move_notify
 *
 * The reservation-lock rules (the kernel's "locking convention"), enforced:
 *   must hold:     pin, unpin, map_attachment, unmap_attachment, vmap,
 *                  vunmap, get_pfn / get_phyr, (exporters) move_notify
 *   must not hold: export, attach, dynamic_attach, detach, put, mmap,
 *                  begin/end_cpu_access, ioctl_sync, the *_unlocked calls,
 *                  revoke / unrevoke
 *   a missing lock records resv_not_locked and returns -EINVAL; a held lock
 *   where the call takes it itself records resv_held_unlocked_call and
 *   returns -EDEADLK (it would wait for itself).
 *
 * DMA addresses of attachments come from the DMA API of the importing
 * device (dma.h), which attach binds as its driver would have (ccmm_dma_bind;
 * a device another driver or importer bound is shared): phyr importers get
 * ccmm_dma_map_phyr of the exporter's ranges -- metadata kept beside the DMA
 * side -- and legacy importers an sg_table of them mapped with
 * ccmm_dma_map_sg (dma_map_sgtable); unmap undoes exactly that. So an
 * importer in a confidential guest bounces through SWIOTLB (the bytes
 * really copied, unmap copying back for FROM_DEVICE / BIDIRECTIONAL), one
 * behind an IOMMU gets IOVAs, an SME device gets the C-bit its mask allows,
 * and a TEE-accepted (TDISP RUN) device maps private memory directly. A BAR
 * goes by its P2P bus address within P2P reach (-EREMOTEIO beyond it), a
 * private interconnect is refused (-EOPNOTSUPP). The importer's DMA goes
 * through ccmm_dma_device_access (IOMMU, dma-debug records). PFN importers
 * (iommufd, KVM) have no DMA mapping: they put the phyr in their own I/O or
 * stage-2 page tables.
 *
 * Locking: each dma_buf's attachment list changes under its reservation
 * lock; the machine's list of buffers has a mutex; counters are atomic.
 * Importer callbacks (move_notify) run in the exporter's thread with the
 * reservation lock held: they may unmap (locked variants) but must not
 * take it again.
 */
#ifndef CCMM_DMA_BUF_H
#define CCMM_DMA_BUF_H

#include "dma/dma.h"
#include "sg/sg.h"
#include "sync/sync.h"
#include "ttm/ttm.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/*
 * The modeled costs (X(name, default, source): ns per occurrence, as in
 * platform/costs.h) and the event counters (X(name, help)) of this
 * subsystem, declared once; a platform's [cost] section overrides a cost
 * by name.
 */
#define CCMM_DMA_BUF_COSTS(X)
#define CCMM_DMA_BUF_COUNTERS(X) \
	X(dmabuf_maps, "dma-buf attachment mappings made") \
	X(dmabuf_notifies, "dma-buf move_notify calls to importers (moves and revokes)")

CCMM_COST_BLOCK_DECLARE(dma_buf, CCMM_DMA_BUF_COSTS, CCMM_DMA_BUF_COUNTERS)

/* The rules of this subsystem: X(name, seed thread, summary). */
#define CCMM_DMA_BUF_RULES(X) \
	X(dmabuf_export_ops, "001", "dma_buf_export() with ops that fail the kernel's checks") \
	X(resv_held_unlocked_call, "001", \
	  "a dma-buf call that takes the reservation lock itself (attach, detach, mmap, cpu access, *_unlocked) was made " \
	  "with it held: it would wait for itself") \
	X(dmabuf_bad_attach, "001", "an attach the kernel WARNs about: importer ops without move_notify, no device, or a mapping call on a PFN attachment") \
	X(dmabuf_detach_mapped, "001", "dma_buf_detach() with mappings of the attachment still live") \
	X(dmabuf_unmap_unmapped, "001", "an unmap of a mapping (or vmap) the attachment (or buffer) does not have") \
	X(dmabuf_use_after_release, "001", "a dma-buf used after its last reference was dropped, or released while attached") \
	X(dmabuf_pin_static, "001", "dma_buf_pin()/dma_buf_unpin() by a static importer (only dynamic importers may)") \
	X(move_notify_ignored, "001", "an importer kept using (or did not tear down) mappings after move_notify told it the buffer moved or was revoked") \
	X(use_after_move, "001", \
	  "a device or guest accessed a dma-buf through a mapping or PFN taken before a move or revoke: it reaches the old " \
	  "location") \
	X(revocable_to_nonrevocable, "001", "a revocable buffer reached an importer that cannot survive a revoke (the compositor shot down by a client buffer)") \
	X(gup_special_mapping, "003", "page references taken (GUP) on a VM_IO / VM_PFNMAP mapping or a special PTE: the exporter owns that memory") \
	X(private_mmio_mapped, "001", "private MMIO of a TDISP device mapped by host user space or DMA-mapped by an importer outside the TEE") \
	X(restricted_access, "001", "a restricted (secure heap) buffer attached or CPU-mapped by something not in a secure state") \
	X(map_info_mismatch, "003", "a CPU mapping whose cache attributes contradict the exporter's declared map info") \
	X(dmabuf_sync_missing, "003", "CPU access to an incoherent dma-buf mapping outside a DMA_BUF_IOCTL_SYNC start/end bracket") \
	X(tdisp_bad_transition, "001", "a TDISP state change the protocol does not allow (or a device that cannot do it)")

CCMM_RULES_DECLARE(CCMM_DMA_BUF_RULES)

/* The proposed DMA_BUF_IOCTL_INFO map info (seed 003). */
enum ccmm_dma_buf_map_info {
	CCMM_DMA_BUF_MAP_INCOHERENT,  /* CPU access needs DMA_BUF_IOCTL_SYNC; may not be mapped into a guest */
	CCMM_DMA_BUF_COHERENT_WC,     /* coherent, write-combined CPU mappings */
	CCMM_DMA_BUF_COHERENT_CACHED, /* coherent, cached CPU mappings */
};

#define CCMM_DMA_BUF_INFO_MAP_INFO 1

/* "incoherent", "coherent_wc", "coherent_cached". */
const char *ccmm_dma_buf_map_info_name(enum ccmm_dma_buf_map_info i);
/* The cache mode the info promises; -1 for INCOHERENT (no promise). */
int ccmm_dma_buf_map_info_cache(enum ccmm_dma_buf_map_info i);

/* Exporter capabilities (dma_buf_export_info.flags here, beyond the ops). */
#define CCMM_DMA_BUF_REVOCABLE  0x1 /* may be revoked (a VFIO BAR) */
#define CCMM_DMA_BUF_PRIVATE    0x2 /* private MMIO of a TDISP device: never mapped by the host */
#define CCMM_DMA_BUF_RESTRICTED 0x4 /* a restricted (secure) heap: only devices in a secure state */

/* What an importer tolerates and how it maps (dma_buf_attach_ops negotiation). */
#define CCMM_IMPORTER_REVOCABLE_OK 0x1 /* survives a revoke (an error in flight is fine) */
#define CCMM_IMPORTER_PHYR         0x2 /* wants the physical-range list, not an sg_table */
#define CCMM_IMPORTER_PFN          0x4 /* no DMA mapping: PFNs / phyr under the lock (iommufd, KVM) */

struct ccmm_dma_buf;
struct ccmm_dma_buf_attachment;
struct ccmm_dma_buf_map;

struct ccmm_dma_buf_ops {
	int (*attach)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_dma_buf_attachment *attach);
	void (*detach)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_dma_buf_attachment *attach);
	/* dynamic exporters: both or neither */
	int (*pin)(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach);
	void (*unpin)(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach);
	/* fill @map (sgt or phyr DMA side) for the attachment's device; both or neither */
	int (*map_dma_buf)(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, struct ccmm_dma_buf_map *map);
	void (*unmap_dma_buf)(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, struct ccmm_dma_buf_map *map);
	/* the physical ranges now (reservation held); the "pfn" access of seed 001 */
	int (*get_phyr)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_phyr *out);
	void (*release)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf);
	/* exporter-controlled CPU mapping into @mm */
	int (*mmap)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, uint64_t pgoff,
		    uint64_t npages, bool writable, struct ccmm_vma **out);
	int (*vmap)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t *va);
	void (*vunmap)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t va);
	int (*begin_cpu_access)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir);
	int (*end_cpu_access)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir);
	/* revocable exporters: stop (or resume) CPU access, with the reservation held */
	void (*revoke)(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, bool revoked);
};

/*
 * The default map_dma_buf / unmap_dma_buf: get_phyr, then the importer's
 * DMA addresses from the DMA API -- ccmm_dma_map_phyr for a phyr importer
 * (map->phys keeps the exporter's ranges and metadata, map->dma the DMA
 * side), else ccmm_phyr_to_sgt cut at dma_max_mapping_size and
 * ccmm_dma_map_sg (map->sgt) -- with the map's direction. Exporters that
 * describe their memory with a phyr get every other access method from it
 * (seed 001). Errors: the exporter's, or the DMA API's (-ENOMEM, -EIO,
 * -EREMOTEIO out of P2P reach, -EOPNOTSUPP private interconnect). The
 * unmap gives the DMA API back exactly what was mapped.
 */
int ccmm_dma_buf_map_phyr_helper(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
				 struct ccmm_dma_buf_map *map);
void ccmm_dma_buf_unmap_phyr_helper(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
				    struct ccmm_dma_buf_map *map);

struct ccmm_dma_buf_export_info {
	const char *exp_name;
	const struct ccmm_dma_buf_ops *ops;
	uint64_t size;                        /* bytes, page aligned */
	unsigned flags;                       /* CCMM_DMA_BUF_* */
	enum ccmm_dma_buf_map_info map_info;
	int provider;                         /* the exporting device, -1 for system memory */
	struct ccmm_dma_resv *resv;           /* NULL: the buffer gets its own */
	void *priv;
	bool negotiate;                       /* refuse importers that cannot take REVOCABLE (default true) */
	/*
	 * exp_info->flags: the open flags of the buffer's file (O_*; 0 is
	 * O_RDONLY, as DEFINE_DMA_BUF_EXPORT_INFO leaves it). dma_buf_getfile()
	 * keeps O_ACCMODE | O_NONBLOCK as f_flags; bufinfo prints them and
	 * the file's f_mode.
	 */
	int fd_flags;
};

struct ccmm_dma_buf {
	struct ccmm_machine *m;
	const struct ccmm_dma_buf_ops *ops;
	uint64_t size;
	unsigned flags;
	enum ccmm_dma_buf_map_info map_info;
	int provider;
	char exp_name[32];
	char name[32];
	unsigned long ino;
	unsigned f_flags;                     /* the file's f_flags: exp_info->flags & (O_ACCMODE | O_NONBLOCK) */
	unsigned f_mode;                      /* its f_mode: OPEN_FMODE(flags) | FMODE_LSEEK | FMODE_OPENED */
	struct ccmm_dma_resv *resv;
	struct ccmm_dma_resv base_resv;
	void *priv;
	bool negotiate;
	atomic_int refcount;                  /* the file's reference count */
	atomic_bool released;                 /* the last reference is gone */
	bool release_deferred;                /* ... while still attached: release at the last detach */
	atomic_uint_fast64_t gen;             /* bumped by move_notify and revoke */
	uint64_t done_gen;                    /* moves up to this generation took effect (lock) */
	uint64_t pending_gen;                 /* ... and up to this one once pending_fence signals (lock) */
	struct ccmm_dma_fence *pending_fence; /* the fence of the last move not known done, or NULL (lock) */
	atomic_bool revoked;
	struct ccmm_dma_buf_attachment *attachments; /* reservation lock */
	uint64_t unmap_seq;                   /* bumped when an importer lets a mapping or PFNs go (unmap_wq's lock) */
	struct ccmm_wait_queue_head unmap_wq; /* a revoke waits here for the importers to let go (sched/) */
	pthread_mutex_t lock;                 /* dma_buf.lock: vmap; the move completion above */
	unsigned vmapping_counter;
	uint64_t vmap_va;
	atomic_int cpu_readers, cpu_writers;  /* open DMA_BUF_IOCTL_SYNC brackets */
	struct ccmm_dma_buf *next;            /* the machine's list */
};

struct ccmm_dma_buf_attach_ops {
	bool allow_peer2peer;
	/*
	 * The exporter is moving (or revoking) the buffer; reservation held.
	 * Mappings and PFNs obtained before are stale from now on: the
	 * importer must tear them down (here, or before its next DMA) and map
	 * again. Required for dynamic importers.
	 */
	void (*move_notify)(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach);
};

struct ccmm_dma_buf_attachment {
	struct ccmm_dma_buf *dmabuf;
	int dev;                              /* importing device, -1 for a PFN importer without one */
	struct ccmm_dma_dev *dma_dev;         /* its DMA device, bound (DMA importers; NULL for PFN importers) */
	char name[CCMM_NAME_MAX];             /* "Attached Devices" name */
	const struct ccmm_dma_buf_attach_ops *importer_ops;
	void *importer_priv;
	unsigned flags;                       /* CCMM_IMPORTER_* */
	bool peer2peer;
	struct ccmm_dma_buf_map *cached;      /* mapping made at attach (static vs dynamic) */
	bool pinned_at_attach;
	unsigned nr_maps;                     /* live mappings handed out (not the cached one) */
	uint64_t notified_gen;                /* generation of the last move_notify it got */
	uint64_t ignored_gen;                 /* move_notify_ignored already recorded for this generation */
	bool has_pfns;                        /* took PFNs / a phyr ... */
	uint64_t pfn_gen;                     /* ... in this generation */
	void *priv;                           /* the exporter's */
	struct ccmm_dma_buf_map *maps;        /* live mappings (reservation lock) */
	struct ccmm_dma_buf_attachment *next;
};

/* A mapping of an attachment into the importer's DMA space. */
struct ccmm_dma_buf_map {
	struct ccmm_dma_buf_attachment *attach;
	enum ccmm_dma_dir dir;
	bool is_phyr;                         /* importer negotiated a phyr */
	struct ccmm_sg_table sgt;             /* legacy importers: dma_map_sgtable'd */
	struct ccmm_phyr phys;                /* phyr importers: the exporter's ranges and metadata ... */
	struct ccmm_dma_phyr_map dma;         /* ... and their DMA side (CCMM_SG_DMA_* flags per range) */
	uint64_t gen;                         /* the buffer generation it describes */
	bool cached;
	struct ccmm_dma_buf_map *next;        /* the attachment's live mappings */
};

/* ---- export, references ----------------------------------------------------- */

/*
 * dma_buf_export with the kernel's checks on the ops: priv, ops and release
 * present; map_dma_buf and unmap_dma_buf both or neither, and one of them
 * or get_phyr; pin and unpin both or neither. A failed check records
 * dmabuf_export_ops and returns -EINVAL. Must not hold @info->resv.
 * PRIVATE needs the provider device in TDISP LOCKED or RUN (-EINVAL).
 * One reference. 0, -EINVAL, -ENOMEM.
 */
int ccmm_dma_buf_export(struct ccmm_ctx *ctx, const struct ccmm_dma_buf_export_info *info, struct ccmm_dma_buf **out);

/* get_dma_buf (a new file reference). A released buffer: dmabuf_use_after_release, NULL. */
struct ccmm_dma_buf *ccmm_dma_buf_get(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf);

/*
 * dma_buf_put: the last reference releases the buffer (ops->release). A
 * last put while importers are still attached records
 * dmabuf_use_after_release and defers the release to the last detach, so
 * nothing dangles. A released buffer stays known to ccmm (as a quarantine)
 * until shutdown: every later use is recorded as dmabuf_use_after_release.
 * Must not hold the reservation (resv_held_unlocked_call).
 */
void ccmm_dma_buf_put(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf);

/* dma_buf_set_name (DMA_BUF_SET_NAME): up to 31 bytes. */
int ccmm_dma_buf_set_name(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, const char *name);

/* ---- attachments ------------------------------------------------------------------ */

struct ccmm_dma_buf_attach_info {
	int dev;                                      /* importing device (-1: PFN importer without one) */
	const char *name;                             /* NULL: the device's name */
	const struct ccmm_dma_buf_attach_ops *importer_ops; /* NULL: a static importer */
	void *importer_priv;
	unsigned flags;                               /* CCMM_IMPORTER_* */
	bool no_filter;                               /* TDX: bind the device even outside the allow-list */
};

/*
 * dma_buf_dynamic_attach (dma_buf_attach when importer_ops is NULL). The
 * refusal rules, each with its reason in a recorded violation:
 *   a released buffer                          dmabuf_use_after_release, -EINVAL
 *   importer_ops without move_notify           -EINVAL (WARN_ON in the kernel)
 *   REVOCABLE and the importer cannot take it  revocable_to_nonrevocable, -EOPNOTSUPP
 *   RESTRICTED and the device is not secure    restricted_access, -EPERM
 *   PRIVATE and not a PFN importer             private_mmio_mapped, -EOPNOTSUPP
 *   a device needed but none given             -EINVAL
 * peer2peer is granted when the importer allows it and the exporting
 * device is within its P2P reach. A DMA importer's device is then bound
 * (ccmm_dma_bind with @ai->no_filter; -EPERM and device_not_allowed when a
 * TDX guest's allow-list refuses it). If importer and exporter differ in
 * dynamism, the buffer is pinned (dynamic exporter) and mapped once, here.
 * Must not hold the reservation. 0, or the errno above, -EBUSY (the pin or
 * map at attach failed), -ENOMEM.
 */
int ccmm_dma_buf_attach(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, const struct ccmm_dma_buf_attach_info *ai,
			struct ccmm_dma_buf_attachment **out);

/*
 * dma_buf_detach. Mappings still live: dmabuf_detach_mapped, -EBUSY
 * (nothing changes). PFNs still held are dropped. Must not hold the lock.
 */
int ccmm_dma_buf_detach(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach);

/* dma_buf_is_dynamic(): the exporter moves the buffer under the reservation (it has pin/unpin); dma_buf_attachment_is_dynamic(): the importer takes move_notify. */
bool ccmm_dma_buf_is_dynamic(const struct ccmm_dma_buf *dmabuf);
bool ccmm_dma_buf_attachment_is_dynamic(const struct ccmm_dma_buf_attachment *attach);

/* dma_buf_pin / dma_buf_unpin: reservation held; a static importer calling them records dmabuf_pin_static. */
int ccmm_dma_buf_pin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach);
int ccmm_dma_buf_unpin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach);

/*
 * dma_buf_map_attachment: reservation held (resv_not_locked otherwise).
 * Returns the cached mapping when there is one (-EBUSY for another
 * direction), else a new one from the exporter. A revoked buffer: -ENODEV.
 * A private-interconnect range: -EOPNOTSUPP; out of P2P reach: -EREMOTEIO.
 */
int ccmm_dma_buf_map_attachment(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
				enum ccmm_dma_dir dir, struct ccmm_dma_buf_map **out);

/*
 * dma_buf_unmap_attachment: reservation held. The cached mapping is left
 * alone (it goes at detach); a mapping that is not live on @attach records
 * dmabuf_unmap_unmapped and returns -EINVAL.
 */
int ccmm_dma_buf_unmap_attachment(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
				  struct ccmm_dma_buf_map *map);

/* The _unlocked variants take the reservation themselves: must not hold it. */
int ccmm_dma_buf_map_attachment_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
					 enum ccmm_dma_dir dir, struct ccmm_dma_buf_map **out);
int ccmm_dma_buf_unmap_attachment_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach,
					   struct ccmm_dma_buf_map *map);

/* Whether @map describes the buffer as it is now (false after move_notify or revoke). */
bool ccmm_dma_buf_map_valid(const struct ccmm_dma_buf_map *map);

/*
 * Whether @map still reaches the buffer's memory: it is valid, or every
 * move since it was made is still in flight (the exporter has not said it
 * is done, or the fence it gave has not signalled). A lazy importer keeps
 * using such a mapping and maps again once this turns false.
 */
bool ccmm_dma_buf_map_reaches(struct ccmm_ctx *ctx, struct ccmm_dma_buf_map *map);

/* Whether any of @map's DMA ranges is a P2P bus address (the importer must then use ATS / a P2P path). */
bool ccmm_dma_buf_map_has_p2p(const struct ccmm_dma_buf_map *map);

/*
 * The importing device reads or writes @len bytes at @off of the buffer
 * through @map's DMA addresses (ccmm_dma_device_access: its IOMMU, the
 * bounce buffers, the DMA API's records, then the checker). Through a
 * mapping whose move took effect (!ccmm_dma_buf_map_reaches): use_after_move,
 * and move_notify_ignored once per move for a notified dynamic importer;
 * the access still goes to the old addresses.
 * Returns 0 with the outcome in @r, -EINVAL.
 */
int ccmm_dma_buf_map_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf_map *map, enum ccmm_rw rw, uint64_t off,
			    void *buf, size_t len, struct ccmm_result *r);

/*
 * dma_buf_move_notify (exporters): reservation held (else
 * resv_not_locked, -EINVAL). Bumps the generation and calls every dynamic
 * importer's move_notify, for an exporter whose move is over when it
 * notifies (the old location is gone: ccmm_dma_buf_move_done(NULL) at
 * once).
 */
int ccmm_dma_buf_move_notify(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf);

/*
 * dma_buf_move_notify for an exporter that notifies before its move takes
 * effect (TTM, a pipelined copy): the same, but the old location stays the
 * buffer's until the exporter calls ccmm_dma_buf_move_done.
 */
int ccmm_dma_buf_move_begin(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf);

/*
 * ccmm_dma_buf_move_done - the exporter's move (every one notified so
 * far) takes effect when @fence signals (NULL: now): the old location is
 * freed (TTM: the ghost object released by ttm_bo_move_accel_cleanup's
 * fence, or the old resource after a synchronous move). From then on an
 * access through a mapping or PFN of an older generation is
 * use_after_move. A reference on @fence is taken. Reservation held (else
 * resv_not_locked, -EINVAL).
 */
int ccmm_dma_buf_move_done(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_dma_fence *fence);

/* ---- PFN access (iommufd / KVM, seed 001) ---------------------------------------- */

/*
 * The physical ranges of the buffer with their metadata, for an importer
 * that installs them in its own page tables. Reservation held (this is the
 * lifetime rule Christian asks for: no unlocked variant). The attachment
 * remembers the generation: after a move or revoke, accesses through what
 * it got are use-after-move until it takes them again. Revoked: -ENODEV.
 */
int ccmm_dma_buf_get_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, struct ccmm_phyr *out);

/* dma_buf_get_pfn: the PFN of page @pgoff and the largest order mapping it (as above). */
int ccmm_dma_buf_get_pfn(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, uint64_t pgoff,
			 uint64_t *pfn, unsigned *max_order);

/* The importer dropped its PFNs (unmapped them from its tables). */
void ccmm_dma_buf_put_pfns(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach);

/*
 * Check a use of PFN-derived addresses by @attach: 0 when they are current,
 * or -ESTALE after recording use_after_move (and move_notify_ignored once
 * for a notified dynamic importer). The caller then makes the access.
 */
int ccmm_dma_buf_pfn_check(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach, const char *what);

/* ---- revoke (VFIO, seed 001) ----------------------------------------------------------- */

/*
 * Revoke a REVOCABLE buffer: take the reservation, mark it revoked, bump
 * the generation, let the exporter stop CPU access (ops->revoke), notify
 * every importer (a static importer that cannot take it records
 * revocable_to_nonrevocable), wait for the fences (bookkeep), drop the
 * lock, then wait (bounded) for importers to unmap: one that does not
 * records move_notify_ignored. Maps fail with -ENODEV until unrevoked.
 * Must not hold the lock. -EINVAL if the buffer is not revocable.
 */
int ccmm_dma_buf_revoke(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf);
int ccmm_dma_buf_unrevoke(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf);

/* ---- CPU access ----------------------------------------------------------------------- */

/* DMA_BUF_IOCTL_SYNC flags */
#define CCMM_DMA_BUF_SYNC_READ  (1 << 0)
#define CCMM_DMA_BUF_SYNC_WRITE (2 << 0)
#define CCMM_DMA_BUF_SYNC_RW    (CCMM_DMA_BUF_SYNC_READ | CCMM_DMA_BUF_SYNC_WRITE)
#define CCMM_DMA_BUF_SYNC_START (0 << 2)
#define CCMM_DMA_BUF_SYNC_END   (1 << 2)

/*
 * dma_buf_begin_cpu_access: the exporter's hook, then a wait (bounded:
 * -ETIMEDOUT) for the fences a CPU access in that direction must see.
 * dma_buf_end_cpu_access: the exporter's hook. Must not hold the lock.
 */
int ccmm_dma_buf_begin_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir);
int ccmm_dma_buf_end_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_dma_dir dir);

/*
 * DMA_BUF_IOCTL_SYNC: flags must be READ, WRITE or RW, optionally with END
 * (-EINVAL otherwise, as the ioctl). START opens a CPU-access bracket for
 * that direction, END closes it.
 */
int ccmm_dma_buf_ioctl_sync(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t flags);

/*
 * DMA_BUF_IOCTL_INFO (the seed-003 proposal): @param CCMM_DMA_BUF_INFO_MAP_INFO
 * gives the map info; anything else -EINVAL.
 */
int ccmm_dma_buf_ioctl_info(struct ccmm_dma_buf *dmabuf, uint32_t param, uint64_t *value);

/*
 * dma_buf_mmap: pages [@pgoff, @pgoff+@npages) into @mm through the
 * exporter. -EINVAL (no mmap op, beyond the buffer), -EOVERFLOW, -ENODEV
 * (revoked); PRIVATE: private_mmio_mapped, -EPERM; RESTRICTED:
 * restricted_access, -EPERM. The new VMA's vm_page_prot is checked against
 * the map info (map_info_mismatch). Must not hold the lock.
 */
int ccmm_dma_buf_mmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, uint64_t pgoff,
		      uint64_t npages, bool writable, struct ccmm_vma **out);

/*
 * A CPU access through a mapping of the buffer at @va in @mm (faulting in
 * as needed). An INCOHERENT buffer touched outside a SYNC bracket for that
 * direction records dmabuf_sync_missing; every PTE it went through is
 * checked against the map info (map_info_mismatch). Returns as
 * ccmm_mm_access.
 */
int ccmm_dma_buf_cpu_access(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_mm *mm, enum ccmm_rw rw,
			    uint64_t va, void *buf, size_t len, struct ccmm_result *r);

/*
 * Check a mapping someone else made of the buffer (a VMM mapping it into a
 * guest with @cache): map_info_mismatch if the info promises another cache
 * mode, or if it is INCOHERENT (which may not be mapped into a guest).
 * Returns 0 or -EINVAL (the recorded mismatch).
 */
int ccmm_dma_buf_check_map_info(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, enum ccmm_cache_mode cache,
				const char *who);

/*
 * dma_buf_vmap (reservation held) / dma_buf_vmap_unlocked (takes it):
 * a kernel mapping, reference counted. RESTRICTED: restricted_access,
 * -EPERM. -EINVAL when the exporter has no vmap.
 */
int ccmm_dma_buf_vmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t *va);
int ccmm_dma_buf_vunmap(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t va);
int ccmm_dma_buf_vmap_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t *va);
int ccmm_dma_buf_vunmap_unlocked(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, uint64_t va);

/* ---- debugfs ------------------------------------------------------------------------------ */

/* /sys/kernel/debug/dma_buf/bufinfo, in the kernel's format, for every live buffer of @m. */
int ccmm_dma_buf_bufinfo(struct ccmm_machine *m, FILE *out);

/* ---- GUP (seed 003) ------------------------------------------------------------------------- */

/*
 * pin_user_pages / get_user_pages: page references for @npages pages at
 * @va in @mm, faulting them in. A VM_IO or VM_PFNMAP mapping, or a special
 * PTE (no struct page: vm_normal_page() says no), is refused: -EFAULT with
 * gup_special_mapping (the exporter owns that memory and moves it at will;
 * seed 001's cma-heap patch, seed 003's KVM). Returns the number of pages
 * pinned, their physical addresses in @pas.
 */
long ccmm_pin_user_pages(struct ccmm_ctx *ctx, struct ccmm_mm *mm, uint64_t va, uint64_t npages, bool write,
			 uint64_t *pas);

/* ---- TDISP (seed 001) -------------------------------------------------------------------------- */

enum ccmm_tdisp_state {
	CCMM_TDISP_UNLOCKED, /* CONFIG_UNLOCKED: an ordinary device */
	CCMM_TDISP_LOCKED,   /* CONFIG_LOCKED: configuration frozen, bound to the guest, not yet trusted */
	CCMM_TDISP_RUN,      /* RUN: accepted by the guest: reaches private memory, MMIO may be private */
	CCMM_TDISP_ERROR,
};

/* "UNLOCKED", "LOCKED", "RUN", "ERROR"; ccmm_tdisp_state: device @dev's TDISP state now. */
const char *ccmm_tdisp_state_name(enum ccmm_tdisp_state s);
enum ccmm_tdisp_state ccmm_tdisp_state(struct ccmm_machine *m, int dev);
/* A device in a secure state (RUN): may import restricted buffers. */
bool ccmm_tdisp_secure(struct ccmm_machine *m, int dev);

/*
 * The TDISP transitions (LOCK_INTERFACE, START_INTERFACE, STOP_INTERFACE):
 *   lock   UNLOCKED -> LOCKED   the device must be TDISP-capable (-EOPNOTSUPP)
 *   run    LOCKED   -> RUN      the guest accepted it: trusted by the checker;
 *                               in a confidential guest its BAR @private_bar
 *                               (-1: none) becomes private MMIO
 *   stop   any      -> UNLOCKED trust and private MMIO withdrawn; PRIVATE
 *                               buffers of the device are revoked
 * Any other change records tdisp_bad_transition, -EINVAL.
 */
int ccmm_tdisp_lock(struct ccmm_ctx *ctx, int dev);
int ccmm_tdisp_run(struct ccmm_ctx *ctx, int dev, int private_bar);
int ccmm_tdisp_stop(struct ccmm_ctx *ctx, int dev);

/* ---- exporters ------------------------------------------------------------------------------------ */

/*
 * A GPU BO exported as amdgpu does: dynamic (pin/unpin), sharing the BO's
 * reservation; a TTM move of the BO sends move_notify to the importers.
 * Importers without P2P get it out of VRAM (to TT) when they pin or map.
 * CPU mmap and vmap go through TTM. The buffer holds a BO reference.
 */
int ccmm_dma_buf_export_ttm(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_dma_buf_map_info map_info,
			    struct ccmm_dma_buf **out);

/*
 * A VFIO device's BAR range [@off, @off+@size) as a static, revocable
 * buffer (uncached MMIO); with @private, private MMIO of a TDISP device in
 * LOCKED or RUN (never mmapped, only PFN importers). Importers must allow
 * P2P (vfio refuses others, -EOPNOTSUPP). @negotiate: refuse importers
 * that cannot take a revoke (false models today's kernel). mmap faults the
 * BAR in and is zapped by a revoke.
 */
int ccmm_dma_buf_export_vfio(struct ccmm_ctx *ctx, int dev, unsigned bar, uint64_t off, uint64_t size, bool private_mmio,
			     bool negotiate, struct ccmm_dma_buf **out);

/*
 * A dma-heap buffer: pages from the page allocator (in 64 KiB blocks where
 * possible), static, COHERENT_CACHED, mapped with remap_pfn_range;
 * begin/end_cpu_access sync every attachment's live mapping for the CPU and
 * back for its device in the access's direction (system_heap), so a bounced
 * importer's writes reach a DMA_BUF_IOCTL_SYNC bracket. With
 * @restricted, a secure heap: only devices in a secure state may attach,
 * and nobody CPU-maps it. @size in bytes is rounded up to whole pages, as
 * dma_heap_ioctl_allocate() does (the buffer's size is the rounded one).
 * Returns 0, -EINVAL for a size that rounds to 0 (0, or within a page of
 * 2^64), or -ENOMEM.
 */
int ccmm_dma_buf_export_heap(struct ccmm_ctx *ctx, uint64_t size, bool restricted, struct ccmm_dma_buf **out);

/* ---- per-machine state -------------------------------------------------------------------------- */

/* The registration of dma-buf/: its init sets up the machine's list of buffers (bufinfo walks it). */
extern struct ccmm_subsys ccmm_subsys_dma_buf;

#pragma GCC visibility pop

#endif /* CCMM_DMA_BUF_H */
