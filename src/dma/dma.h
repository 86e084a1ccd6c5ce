/* SPDX-License-Identifier: MIT */
/*
 * dma.h - the DMA API per device (layer 3; kernel/dma/mapping.c, direct.c,
 * debug.c, pool.c, include/linux/dma-direct.h, arch/x86/mm/mem_encrypt.c,
 * arch/powerpc/kernel/dma-iommu.c, seeds 000, 002, 004).
 *
 *   driver:  probe (TDX allow-list, ioremap BAR 0) -> dma_set_mask
 *            map_single / map_page / map_sg / map_phyr      unmap_*
 *            sync_*_for_cpu / _for_device                    mapping_error
 *            alloc_coherent / free_coherent                  mmio read/write
 *                |
 *                v   the path, chosen per device as the kernel chooses its
 *                    dma_map_ops
 *   +------------------------+-------------------------------+------------------------+
 *   | DIRECT (no IOMMU)      | BYPASS (pSeries IOMMU ops     | IOMMU                  |
 *   |                        |  with a 64-bit mask and a DDW)| (TCEs / IOVA per map)  |
 *   | dma = phys_to_dma(pa)  | dma = pa + 2^59               | dma = window address   |
 *   | SME: | C-bit           | (the DDW maps RAM, or only    | of the entries written |
 *   | bounce when forced or  |  the bounce range in a secure |                        |
 *   | beyond the mask        |  guest)                       |                        |
 *   +------------------------+-------------------------------+------------------------+
 *                |  in a confidential guest every streaming mapping bounces
 *                v  through SWIOTLB (swiotlb.h); coherent memory is made
 *                   shared (set_memory_decrypted) and cached in a pool
 *   device: ccmm_dma_device_access(bus address) -> IOMMU window -> checker
 *
 * force_dma_unencrypted(): true in SEV, SEV-SNP, TDX and pSeries secure
 * guests; on an SME host true for a device whose coherent mask does not
 * reach above the C-bit (min_not_zero(coherent mask, bus limit) <=
 * DMA_BIT_MASK(c_bit)). phys_to_dma() sets the C-bit under SME/SEV;
 * phys_to_dma_unencrypted() never does, and on TDX the DMA address of shared
 * memory is the plain GPA (no shared bit).
 *
 * Devices the guest accepted into its TEE (TDISP RUN, bound to this guest:
 * ccmm_check_device_trusted) are decided per device: force_dma_unencrypted()
 * is false, their streaming mappings never bounce (is_swiotlb_force_bounce()
 * false), their DMA addresses carry no C-bit, and the TDX allow-list does not
 * refuse them (the guest's acceptance is the authorization). Source: the TEE
 * I/O series (Dan Williams, "PCI/TSM", v2 of March 2026) and its
 * device_cc_accepted() proposals -- arm64's force_dma_unencrypted() returning
 * false for an accepted device, SEV-TIO skipping the forced bounce for it and
 * x86's phys_to_dma() no longer leaking the SME mask into its DMA handles.
 *
 * P2P (pci_p2pdma_map_type): a BAR -- a phyr group with meta.p2p, or any
 * address inside a platform BAR in an sg_table (is_pci_p2pdma_page) -- is
 * mapped by its bus address (CCMM_SG_DMA_BUS_ADDRESS) when its device is the
 * mapping device or in its P2P group (PCI_P2PDMA_MAP_BUS_ADDR: routed by the
 * switch, so never bounced and never through the IOMMU, in a guest too), and
 * refused with -EREMOTEIO otherwise. P2P through the host bridge is not
 * modeled.
 *
 * Binding (ccmm_dma_bind): subsystems whose devices a probed driver owns
 * (TTM's GPU, dma-buf importers) bind them on first use: probe, then the
 * platform's masks. A device already bound -- by a dma_driver actor's probe,
 * by another importer, by the TTM device of the same GPU -- is shared as it
 * is (its masks, path and records stay the owning driver's): a device has one
 * driver, and all those users model that driver. A later ccmm_dma_probe of a
 * bound device still returns -EBUSY, as a second driver would get.
 *
 * pSeries (seed 002): a device with a 64-bit mask on a unit with a dynamic
 * window bypasses the TCE ops (dma_iommu_map_bypass). In a secure guest the
 * bounce buffers must be mapped in the IOMMU; the secure-guest window choice
 * (enum ccmm_svm_window) says where: the 64-bit DDW mapping only the bounce
 * range (truncated down to ddw_align) -- then a device without a 64-bit mask
 * cannot map at all: its mappings fail with dma_window_unreachable -- or the
 * default 32-bit window, holding the whole pool, which any device whose mask
 * reaches the pool's window addresses can use.
 *
 * Coherent memory (seed 000, 004): dma_alloc_coherent in a guest converts
 * the pages to shared, slow (charged from the cost table); freed buffers go
 * to a per-machine pool of already-converted blocks (per buddy order, up to
 * a limit) so the next allocation of that order pays no conversion. The
 * CPU address handed back is the direct map, whose PTEs carry the mode's
 * decrypted/shared attribute (or stay encrypted for an SME device that
 * reaches the C-bit, whose DMA address then carries the C-bit).
 *
 * Misuse checks, as CONFIG_DMA_API_DEBUG and more, each a violation with the
 * call that caused it and the kernel's errno to the caller, state intact:
 * unmap of an address never mapped (dma_unmap_unmapped, -EINVAL), twice
 * (dma_double_unmap, -EINVAL), with another size, direction or function
 * (dma_unmap_size / _dir / _type: the recorded mapping is undone, -EINVAL);
 * a mapping never checked with dma_mapping_error before its unmap
 * (dma_map_error_unchecked); syncs of unmapped ranges (dma_sync_unmapped,
 * -EINVAL) or in the wrong direction (dma_sync_dir, -EINVAL, no copy); CPU
 * access to a streaming buffer the device owns (dma_cpu_unsynced) and
 * device access to one the CPU owns (dma_device_unsynced); device access
 * outside every live mapping (dma_device_unmapped; the checker adds
 * dma_private when the memory is private); mappings still live when the
 * device goes away (dma_live_at_remove, -EBUSY).
 *
 * TDX (seed 004): probe refuses a device outside the guest's allow-list
 * (the eight virtio IDs: net, block, console, fs, legacy and 1.0) with
 * device_not_allowed and -EPERM, unless the filter is off. MMIO goes either
 * through #VE (fault, decode, TDVMCALL: ve_ns + tdvmcall_ns + mmio_ns) or,
 * on a platform with mmio = paravirt, through a direct TDVMCALL from the
 * accessor (tdvmcall_ns + mmio_ns, no #VE).
 *
 * Locking: each device has a mutex over its records and state; the pool,
 * SWIOTLB and IOMMU windows lock themselves; ccmm_dma_bind serialises
 * binding with a per-machine mutex. Lock order: bind, device, pool, then
 * lower layers. Callable from any thread; a device's mappings may be
 * made and torn down from several threads.
 */
#ifndef CCMM_DMA_H
#define CCMM_DMA_H

#include "iommu/iommu.h"
#include "mm/mm.h"
#include "sg/sg.h"
#include "swiotlb/swiotlb.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/*
 * The modeled costs (X(name, default, source): ns per occurrence, as in
 * platform/costs.h) and the event counters (X(name, help)) of this
 * subsystem, declared once; a platform's [cost] section overrides a cost
 * by name.
 */
#define CCMM_DMA_COSTS(X) \
	X(dma_map_ns, 50, \
	  "dma_direct_map_page bookkeeping: phys_to_dma and the mask check, no copy " \
	  "(estimate: tens of cycles plus a call)")
#define CCMM_DMA_COUNTERS(X) \
	X(dma_maps, "streaming DMA mappings made (single, page, each sg entry, each phyr range)") \
	X(dma_unmaps, "streaming DMA mappings undone") \
	X(dma_map_fail_mask, "mappings refused: beyond the device's DMA mask and not bounceable") \
	X(dma_map_fail_window, "mappings refused: no IOMMU window the device's mask can reach") \
	X(dma_map_fail_iova, "mappings refused: the IOMMU window or domain has no free I/O space") \
	X(dma_map_fail_other, "mappings refused otherwise (too large, P2P that cannot bounce)") \
	X(coherent_allocs, "dma_alloc_coherent calls that succeeded") \
	X(coherent_pool_hits, "coherent allocations served from already-decrypted pooled pages") \
	X(coherent_pages_converted, "pages made shared/decrypted for coherent DMA") \
	X(mmio_pv_calls, "MMIO accesses made as paravirtual TDVMCALLs instead of #VE") \
	X(probes_refused, "driver probes refused by the TDX device filter") \
	X(io_requests, "block requests replayed") \
	X(io_failed, "block requests that failed (a DMA mapping was refused)") \
	X(io_mismatches, "block requests whose data arrived changed (a bounce went wrong)")

CCMM_COST_BLOCK_DECLARE(dma, CCMM_DMA_COSTS, CCMM_DMA_COUNTERS)

#define CCMM_DMA_MAPPING_ERROR UINT64_MAX
#define CCMM_DMA_BIT_MASK(n) ((n) >= 64 ? UINT64_MAX : (1ULL << (n)) - 1)

/* The rules of this subsystem: X(name, seed thread, summary). */
#define CCMM_DMA_RULES(X) \
	X(dma_unmap_unmapped, "", \
	  "a DMA address that was never mapped was unmapped or freed (dma-debug: device driver tries to free DMA memory " \
	  "it has not allocated)") \
	X(dma_double_unmap, "", "a DMA mapping was unmapped or freed twice") \
	X(dma_unmap_size, "", "a DMA mapping was unmapped or freed with another size (or CPU address) than it was made with") \
	X(dma_unmap_dir, "", "a DMA mapping was unmapped with another direction than it was made with") \
	X(dma_unmap_type, "", \
	  "a DMA mapping was undone with the wrong function (unmap_single of a page or sg mapping, free_coherent of a " \
	  "streaming one ...)") \
	X(dma_map_error_unchecked, "", "a DMA mapping was unmapped without dma_mapping_error() ever being asked about it") \
	X(dma_sync_unmapped, "", "a sync of a DMA range that is not inside one live streaming mapping") \
	X(dma_sync_dir, "", "a DMA mapping was synced with another direction than it was made with") \
	X(dma_cpu_unsynced, "000", \
	  "the CPU touched a streaming DMA buffer while the device owns it (no dma_sync_*_for_cpu): it reads stale " \
	  "data, or its writes miss the bounce buffer or are overwritten") \
	X(dma_device_unsynced, "", "a device touched a streaming mapping the CPU owns (synced for the CPU and not given back)") \
	X(dma_device_unmapped, "002", "a device accessed a bus address outside every live DMA mapping it was given") \
	X(dma_live_at_remove, "", "a device went away with DMA mappings or coherent buffers still live") \
	X(dma_window_unreachable, "002", \
	  "no IOMMU window this device's DMA mask can use: in a secure guest whose bounce buffers live in the 64-bit " \
	  "dynamic window, a device without a 64-bit mask cannot DMA") \
	X(device_not_allowed, "004", "a driver tried to bind a device that is not on the TDX guest's allow-list (the probe is refused)")

CCMM_RULES_DECLARE(CCMM_DMA_RULES)

enum ccmm_dma_path {
	CCMM_DMA_PATH_NONE,   /* not probed */
	CCMM_DMA_PATH_DIRECT, /* dma-direct */
	CCMM_DMA_PATH_BYPASS, /* pSeries IOMMU ops bypassing to direct through the DDW */
	CCMM_DMA_PATH_IOMMU,  /* an entry per mapping: TCEs or IOVA */
};

/* "none" (not bound yet), "direct", "bypass", "iommu". */
const char *ccmm_dma_path_name(enum ccmm_dma_path p);

/* Where a pSeries secure guest maps its bounce buffers (seed 002). */
enum ccmm_svm_window {
	CCMM_SVM_WINDOW_AUTO,  /* the DDW when the unit has one (the merged kernel), else the 32-bit window */
	CCMM_SVM_WINDOW_DDW,   /* 64-bit dynamic window mapping only the bounce range */
	CCMM_SVM_WINDOW_DMA32, /* the default 32-bit window holding the pool */
};

extern const char *const ccmm_svm_window_names[]; /* "auto", "ddw", "dma32" */

/* Why a mapping failed; counted per reason (counters dma_map_fail_*). */
enum ccmm_dma_fail {
	CCMM_DMA_FAIL_POOL_FULL, /* SWIOTLB has no room: -ENOMEM */
	CCMM_DMA_FAIL_MASK,      /* beyond the mask and nothing to bounce through: -EIO */
	CCMM_DMA_FAIL_WINDOW,    /* no IOMMU window the mask can reach: -EIO */
	CCMM_DMA_FAIL_IOVA,      /* the window or domain is full: -ENOMEM */
	CCMM_DMA_FAIL_OTHER,     /* too large, P2P under forced bouncing, private interconnect */
	CCMM_DMA_FAIL_NR
};

/* The reason's name in reports and counters ("pool_full", "mask", "window", "iova", "other"). */
const char *ccmm_dma_fail_name(enum ccmm_dma_fail f);

/* What a record describes; dma-debug's entry types. */
enum ccmm_dma_map_type {
	CCMM_DMA_MAP_SINGLE,
	CCMM_DMA_MAP_PAGE,
	CCMM_DMA_MAP_SG,
	CCMM_DMA_MAP_PHYR,
	CCMM_DMA_MAP_COHERENT,
};

/* "single", "page", "sg", "phyr", "coherent" (dma-debug's entry types). */
const char *ccmm_dma_map_type_name(enum ccmm_dma_map_type t);

/* One live mapping or coherent buffer (the model's dma_debug_entry). */
struct ccmm_dma_rec {
	uint64_t dma, size;        /* the device's address and length */
	enum ccmm_dma_dir dir;
	enum ccmm_dma_map_type type;
	uint64_t pa;               /* the CPU side (original buffer) */
	uint64_t tlb;              /* bounce buffer, when bounced */
	bool bounced;
	bool p2p;                  /* a peer device's BAR, by bus address */
	struct ccmm_iommu_window *win; /* I/O space allocated from it (IOMMU path) */
	uint64_t iova_off, iova_len;
	bool linear_ref;           /* holds a reference on the DDW entries (coherent, secure guest) */
	bool decrypted;            /* coherent: its pages were made shared/decrypted */
	bool checked;              /* dma_mapping_error() was asked */
	bool cpu_owns;             /* streaming: synced for the CPU, not given back yet */
	uint64_t seq;
	char op[32];               /* the call, for events */
	struct ccmm_where where;   /* its job line */
};

struct ccmm_dma_dev {
	struct ccmm_machine *m;
	int index;
	const struct ccmm_device_desc *desc;
	pthread_mutex_t lock;
	bool probed;
	bool removed;
	uint64_t dma_mask, coherent_dma_mask, bus_dma_limit;
	uint64_t seg_boundary;     /* dma_get_seg_boundary(): default 4 GiB - 1 */
	uint32_t min_align_mask;   /* dma_set_min_align_mask() */
	uint32_t max_seg_size;     /* dma_set_max_seg_size(): default 64 KiB */
	enum ccmm_dma_path path;
	enum ccmm_svm_window svm_window; /* as chosen at probe (AUTO resolved) */
	struct ccmm_iommu_unit *unit;
	struct ccmm_iommu_window *window; /* BYPASS: the DDW; IOMMU: dma32 window or domain */
	uint64_t dma_offset;       /* BYPASS: the DDW's bus base */
	uint64_t pool_iova;        /* secure guest on the 32-bit window: window offset of the pool */
	uint64_t bar0_va;          /* ioremap of BAR 0, 0 if none */
	uint64_t bar0_size;
	struct ccmm_dma_rec *rec;  /* live records */
	size_t nr_rec, cap_rec;
	struct {
		uint64_t dma, size;
		enum ccmm_dma_dir dir;
		enum ccmm_dma_map_type type;
	} gone[32];                /* recently unmapped, to tell a double unmap from an unknown one */
	unsigned gone_next;
	uint64_t next_seq;
	uint64_t fail[CCMM_DMA_FAIL_NR];
	uint64_t maps, unmaps, live_hiwater;
};

/* The pool of already-decrypted coherent pages. */
struct ccmm_dma_pool {
	pthread_mutex_t lock;
	uint64_t *blocks[CCMM_MAX_ORDER + 1]; /* physical addresses of pooled blocks per order */
	size_t nr[CCMM_MAX_ORDER + 1], cap[CCMM_MAX_ORDER + 1];
	uint64_t pages;        /* pages pooled now */
	uint64_t limit_pages;  /* at most this many pooled; beyond, freed blocks are re-encrypted */
	uint64_t hits, misses, trimmed_pages, converted_pages;
};

/* Per IOMMU unit: where a secure guest's SWIOTLB pool sits in the unit's 32-bit window. */
struct ccmm_dma_unit {
	bool tried;        /* mapped (or failed to) once */
	int err;
	uint64_t pool_iova; /* window offset of the pool */
};

struct ccmm_dma {
	struct ccmm_machine *m;
	size_t nr_devs;
	struct ccmm_dma_dev *devs;
	size_t nr_units;
	struct ccmm_dma_unit *units;
	pthread_mutex_t unit_lock;
	pthread_mutex_t bind_lock;    /* ccmm_dma_bind: probe + masks as one step */
	struct ccmm_dma_pool pool;
	atomic_uint_fast64_t fail[CCMM_DMA_FAIL_NR];
	atomic_uint_fast64_t probes_refused;
};

/*
 * The registration of dma/. Its init makes the per-device state for every
 * platform device (0 or -ENOMEM); its exit gives the pooled coherent pages
 * back (re-encrypting them) and frees everything. Its figures for reports
 * (.stats): group "dma" (mapping failures by reason, probes refused, the
 * coherent pool) and "dma.DEVICE" for every device that was bound (path,
 * masks, maps, unmaps, live, live_hiwater, failures by reason).
 */
extern struct ccmm_subsys ccmm_subsys_dma;

/* The DMA state of platform device @index, or NULL. */
struct ccmm_dma_dev *ccmm_dma_dev(struct ccmm_machine *m, int index);

/* force_dma_unencrypted() for the device, with its coherent mask (SME rule above); false for a TEE-accepted device. */
bool ccmm_force_dma_unencrypted(const struct ccmm_dma_dev *d);

/* phys_to_dma(): the C-bit set under SME/SEV (not for a TEE-accepted device); phys_to_dma_unencrypted(): never. */
uint64_t ccmm_phys_to_dma(const struct ccmm_dma_dev *d, uint64_t pa);
uint64_t ccmm_phys_to_dma_unencrypted(const struct ccmm_dma_dev *d, uint64_t pa);

/* ---- probe, remove, masks ------------------------------------------------------- */

struct ccmm_dma_probe_opts {
	bool no_filter;                /* TDX: bind even outside the allow-list (the kernel's override) */
	enum ccmm_svm_window window;   /* pSeries secure guest: where bounce buffers are mapped */
};

/* The TDX guest's driver allow-list (seed 004): whether @vendor:@device is on it. */
bool ccmm_tdx_device_allowed(uint16_t vendor, uint16_t device);

/*
 * ccmm_dma_probe - bind a driver to device @d (device_add + really_probe):
 * in a TDX guest the allow-list is enforced (-EPERM and device_not_allowed
 * when refused; a TEE-accepted device passes); BAR 0 is ioremapped (shared
 * in a guest, seed 004) unless it is prefetchable (device memory such as
 * VRAM, never registers: left to the driver, and MMIO then gives -ENODEV);
 * the masks start at the PCI default of 32 bits; the path is chosen; in a
 * pSeries secure guest on the 32-bit window the SWIOTLB pool is mapped into
 * that window now (-EIO with dma_window_unreachable when it does not fit).
 * @opts may be NULL. Returns 0, -EBUSY (already bound), -EPERM, -EIO,
 * -ENOMEM.
 */
int ccmm_dma_probe(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_probe_opts *opts);

/*
 * ccmm_dma_bind - make sure @d is bound, as the probed driver of a subsystem
 * that uses it (TTM's GPU, a dma-buf importer) would have it: if no driver
 * has bound it, ccmm_dma_probe(@opts, may be NULL) and then the platform
 * file's masks (dma_set_mask_and_coherent, or the two masks apart when they
 * differ); if it is bound already, nothing changes and the binding is shared
 * (see "Binding" above). Serialised per machine, so concurrent users bind it
 * once. Returns 0 or ccmm_dma_probe's / the mask's errno (-EPERM: refused by
 * the TDX allow-list; the device is left unbound on failure).
 */
int ccmm_dma_bind(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_probe_opts *opts);

/*
 * ccmm_dma_remove - unbind: live mappings and coherent buffers are
 * reported (dma_live_at_remove: one event with their count) and leaked as
 * the kernel leaks them, BAR 0 is unmapped. Returns 0, -EBUSY (something
 * was live), -ENODEV (not bound).
 */
int ccmm_dma_remove(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d);

/*
 * ccmm_dma_set_mask / _coherent_mask / _mask_and_coherent - as the kernel:
 * -EIO when the platform cannot address memory through such a mask
 * (dma_supported(): below 24 bits on the direct path; on pSeries a mask
 * below the window's start). On pSeries a 64-bit streaming mask on a unit
 * with a dynamic window switches the device to the bypass path and creates
 * the DDW (mapping all of RAM, or only the bounce range in a secure guest
 * whose window choice is the DDW). @bits is 1..64; 0 or above 64: -EINVAL.
 * -ENODEV when not bound.
 */
int ccmm_dma_set_mask(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits);
int ccmm_dma_set_coherent_mask(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits);
int ccmm_dma_set_mask_and_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits);

/* dma_set_min_align_mask / dma_set_seg_boundary / dma_set_max_seg_size. 0 or -EINVAL. */
int ccmm_dma_set_min_align_mask(struct ccmm_dma_dev *d, uint32_t mask);
int ccmm_dma_set_seg_boundary(struct ccmm_dma_dev *d, uint64_t mask);

/* dma_max_mapping_size(): SWIOTLB's limit when mappings may bounce, else no limit (UINT64_MAX). */
uint64_t ccmm_dma_max_mapping_size(struct ccmm_dma_dev *d);

/* ---- streaming mappings ----------------------------------------------------------- */

/*
 * ccmm_dma_map_page - map @size bytes at physical address @pa (any
 * alignment) for @dir. Returns 0 with the DMA address in *@dma, or a
 * negative errno with *@dma = CCMM_DMA_MAPPING_ERROR and the failure
 * counted by reason: -ENOMEM (pool full, window full), -EIO (mask or
 * window cannot reach), -EINVAL (0 bytes, bad direction, larger than the
 * maximum mapping when it must bounce), -ENODEV (not bound), -EREMOTEIO
 * (P2P memory that would have to bounce). Charges dma_map_ns plus what
 * SWIOTLB and the IOMMU charge. dma_map_page_attrs().
 */
int ccmm_dma_map_page(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t pa, uint64_t size, enum ccmm_dma_dir dir,
		      unsigned long attrs, uint64_t *dma);

/* dma_map_single(): as map_page for a kernel direct-map address @va (-EINVAL for any other). */
int ccmm_dma_map_single(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t va, uint64_t size,
			enum ccmm_dma_dir dir, unsigned long attrs, uint64_t *dma);

/*
 * ccmm_dma_mapping_error - dma_mapping_error(): -ENOMEM when @dma is
 * CCMM_DMA_MAPPING_ERROR, else 0; marks the mapping checked.
 */
int ccmm_dma_mapping_error(struct ccmm_dma_dev *d, uint64_t dma);

/*
 * ccmm_dma_unmap_page / _single - undo a mapping: copy back from the
 * bounce buffer for FROM_DEVICE / BIDIRECTIONAL, release slots or I/O
 * space. Misuse is checked against the record (see the header comment).
 * Returns 0, -EINVAL (misuse), -ENODEV (not bound).
 */
int ccmm_dma_unmap_page(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
			enum ccmm_dma_dir dir, unsigned long attrs);
int ccmm_dma_unmap_single(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
			  enum ccmm_dma_dir dir, unsigned long attrs);

/*
 * ccmm_dma_map_sg - map each of @t's orig_nents entries (dma_map_sg: no
 * merging), filling dma_address, dma_length and CCMM_SG_DMA_SWIOTLB; an
 * entry inside a BAR takes the P2P path (CCMM_SG_DMA_BUS_ADDRESS, or
 * -EREMOTEIO out of reach); sets t->nents. All or nothing. Returns the number of DMA entries or a negative
 * errno as map_page. ccmm_dma_unmap_sg undoes them (0 or -EINVAL on misuse).
 */
int ccmm_dma_map_sg(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, enum ccmm_dma_dir dir,
		    unsigned long attrs);
int ccmm_dma_unmap_sg(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, enum ccmm_dma_dir dir,
		      unsigned long attrs);

/* The DMA side of a mapped physical-range list, kept apart from its input (seed 001). */
struct ccmm_dma_range {
	uint64_t dma, len;
	uint32_t flags; /* CCMM_SG_DMA_* */
};

struct ccmm_dma_phyr_map {
	struct ccmm_dma_range *r;
	size_t nr, cap;
	enum ccmm_dma_dir dir;
};

/*
 * ccmm_dma_map_phyr - map every range of @p: system RAM as map_page (ranges
 * that must bounce are split at the maximum mapping size); a peer's BAR
 * (meta.p2p) by its bus address, flagged CCMM_SG_DMA_BUS_ADDRESS, when in
 * P2P reach (-EREMOTEIO otherwise, see "P2P" above); a private-interconnect
 * group is refused (-EOPNOTSUPP). A group whose metadata says the memory is
 * not encrypted gets addresses without the C-bit (phys_to_dma_unencrypted):
 * the metadata tells what an sg_table cannot (seed 001). All or nothing.
 * Returns 0 or a negative errno; @out is freed by ccmm_dma_unmap_phyr.
 */
int ccmm_dma_map_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_phyr *p, enum ccmm_dma_dir dir,
		      unsigned long attrs, struct ccmm_dma_phyr_map *out);
int ccmm_dma_unmap_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_dma_phyr_map *map,
			unsigned long attrs);

/*
 * ccmm_dma_sync_single_for_cpu / _for_device - hand [@dma, @dma + @size)
 * (inside one live streaming mapping) to the CPU or back to the device,
 * bouncing per direction. Returns 0, -EINVAL (unmapped range, wrong
 * direction), -ENODEV.
 */
int ccmm_dma_sync_single_for_cpu(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
				 enum ccmm_dma_dir dir);
int ccmm_dma_sync_single_for_device(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
				    enum ccmm_dma_dir dir);
int ccmm_dma_sync_sg_for_cpu(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t,
			     enum ccmm_dma_dir dir);
int ccmm_dma_sync_sg_for_device(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t,
				enum ccmm_dma_dir dir);

/* ---- coherent memory ------------------------------------------------------------------ */

/*
 * ccmm_dma_alloc_coherent - @size bytes of zeroed memory both sides see
 * without syncs: pages (from the pool of decrypted blocks when the device
 * needs shared memory and one of that order is there, else fresh pages,
 * converted with set_memory_decrypted) below the coherent mask, mapped in
 * the device's IOMMU window if it has one. Returns 0 with the DMA address
 * in *@dma and the kernel virtual address in *@cpu_va; -ENOMEM, -EIO
 * (the mask cannot reach any memory / window), -EINVAL (0 bytes or more than
 * 4 MiB), -ENODEV. dma_alloc_attrs().
 */
int ccmm_dma_alloc_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t size, uint64_t *dma,
			    uint64_t *cpu_va);

/*
 * ccmm_dma_free_coherent - give it back: to the pool if it is decrypted and
 * the pool has room, else re-encrypted and freed (leaked if that fails, as
 * the kernel does). Misuse is checked as for unmap. 0, -EINVAL, -ENODEV.
 */
int ccmm_dma_free_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t size, uint64_t cpu_va,
			   uint64_t dma);

/* Set the pool's limit in pages (trimming it now); returns the previous limit. */
uint64_t ccmm_dma_pool_set_limit(struct ccmm_ctx *ctx, struct ccmm_machine *m, uint64_t pages);

/* ---- the device side -------------------------------------------------------------------- */

/*
 * ccmm_dma_device_access - the device reads or writes @len bytes at bus
 * address @dma, through its IOMMU window if it has one, then the checker.
 * Checks it against the device's live records first (dma_device_unmapped,
 * dma_device_unsynced); an address beyond the device's own DMA mask is cut
 * to the mask (dma_mask_exceeded), as the hardware emits only those bits.
 * An address inside a live P2P mapping goes to the peer's BAR directly (the
 * switch routes it), not through the IOMMU.
 * Returns as ccmm_dma_access() (the outcome is in @r).
 */
int ccmm_dma_device_access(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_rw rw, uint64_t dma, void *buf,
			   size_t len, struct ccmm_result *r);

/* The @i-th DMA segment of a buffer (its bus address and length); false past the last. */
typedef bool (*ccmm_dma_seg_fn)(void *arg, size_t i, uint64_t *dma, uint64_t *len);

/*
 * ccmm_dma_device_access_segs - the device's DMA to bytes [@off, @off +
 * @len) of a buffer it was given as DMA segments (an sg_table's DMA side,
 * a mapped phyr, a GART's page addresses), in order: each piece through
 * ccmm_dma_device_access, the outcomes folded (ccmm_result_merge), stopping
 * at a fault. Returns 0 with the outcome in @r, -EINVAL (empty span, or
 * the segments end before it), or ccmm_dma_device_access's errno.
 */
int ccmm_dma_device_access_segs(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_rw rw, ccmm_dma_seg_fn seg,
				void *arg, uint64_t off, void *buf, size_t len, struct ccmm_result *r);

/*
 * ccmm_dma_need_sync - dma_need_sync(): whether the live streaming mapping
 * that holds bus address @dma needs dma_sync_* calls for the CPU and the
 * device to see each other's writes -- here, whether it bounced through
 * SWIOTLB (every modeled device is cache-coherent). False for an address no
 * live mapping holds and for coherent buffers.
 */
bool ccmm_dma_need_sync(struct ccmm_dma_dev *d, uint64_t dma);

/*
 * ccmm_dma_cpu_access_check - before the CPU touches [@pa, @pa + @len):
 * dma_cpu_unsynced for each live streaming mapping of any device that
 * overlaps it while the device owns it (any write; a read of a FROM_DEVICE
 * or BIDIRECTIONAL mapping). Returns the number of violations recorded.
 */
int ccmm_dma_cpu_access_check(struct ccmm_ctx *ctx, uint64_t pa, uint64_t len, enum ccmm_rw rw);

/* ---- MMIO --------------------------------------------------------------------------------- */

/*
 * ccmm_dma_mmio_read / _write - readl/writel-style access to @len bytes at
 * @off in BAR 0 of a bound device: a plain access through the ioremap
 * (#VE and emulation in a TDX guest whose MMIO mode is #VE, an exit under
 * SEV), or, in a TDX guest with paravirtualised MMIO, a TDVMCALL made by
 * the accessor (no #VE). Returns 0, -ENODEV (not bound, no BAR 0), -EINVAL
 * (outside the BAR), -EFAULT (the access faulted unhandled).
 */
int ccmm_dma_mmio_read(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t off, void *buf, size_t len);
int ccmm_dma_mmio_write(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t off, const void *buf, size_t len);

/* ---- figures ------------------------------------------------------------------------------ */

struct ccmm_dma_dev_stats {
	enum ccmm_dma_path path;
	uint64_t dma_mask, coherent_dma_mask;
	size_t live;
	uint64_t maps, unmaps, live_hiwater;
	uint64_t fail[CCMM_DMA_FAIL_NR];
};

/* A consistent snapshot of @d's figures (takes the device lock). */
void ccmm_dma_dev_stats(struct ccmm_dma_dev *d, struct ccmm_dma_dev_stats *out);

struct ccmm_dma_pool_stats {
	uint64_t pages, limit_pages, hits, misses, converted_pages, trimmed_pages;
};

/* A snapshot of the coherent pool's figures (takes the pool lock). */
void ccmm_dma_pool_stats(struct ccmm_machine *m, struct ccmm_dma_pool_stats *out);

/* Number of live records of @d (mappings and coherent buffers). */
size_t ccmm_dma_live(struct ccmm_dma_dev *d);

#pragma GCC visibility pop

#endif /* CCMM_DMA_H */
