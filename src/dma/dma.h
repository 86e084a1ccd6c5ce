/* SPDX-License-Identifier: MIT */
/*
 * dma.h - the DMA API per device (layer 3; Linux 6.12's kernel/dma/mapping.c,
 * direct.c, debug.c, pool.c, include/linux/dma-direct.h, arch/x86/mm/mem_encrypt.c,
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
 *                |  in a confidential guest every dma-direct mapping bounces
 *                v  through SWIOTLB (swiotlb.h); coherent memory is made
 *                   shared per allocation and private again at free
 *                   (atomic allocations: the atomic pools, pool.c)
 *   device: ccmm_dma_device_access(bus address) -> IOMMU window -> checker
 *           ccmm_dma_bus_addr(page) / ccmm_dma_raw_access: the same translation
 *
 * force_dma_unencrypted(): true in SEV, SEV-SNP, TDX and pSeries secure
 * guests; on an SME host true for a device whose coherent mask does not
 * reach above the C-bit (min_not_zero(coherent mask, bus limit) <=
 * DMA_BIT_MASK(c_bit)). phys_to_dma() sets the C-bit under SME/SEV;
 * phys_to_dma_unencrypted() never does, and on TDX the DMA address of shared
 * memory is the plain GPA (no shared bit). All of that is dma-direct's (and
 * the pSeries bypass, which is dma-direct): behind an x86-style IOMMU,
 * iommu-dma maps the page itself and allocates coherent memory without
 * decrypting it (dev_use_swiotlb() bounces untrusted devices only), so in a
 * confidential guest such a device is handed private memory, as in 6.12.
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
 * Coherent memory (seed 000, 004), as dma_direct_alloc / dma_direct_free
 * (kernel/dma/direct.c): every allocation for a device that needs
 * unencrypted memory (force_dma_unencrypted) converts its pages to shared
 * (set_memory_decrypted, slow: charged from the cost table) and every free
 * converts them back before they return to the page allocator
 * (set_memory_encrypted); a page the secure world refuses to take back is
 * leaked, never freed shared ("leaking DMA memory that can't be
 * re-encrypted"). Freed memory never stays shared with the host. An
 * allocation that may not block (CCMM_DMA_GFP_ATOMIC) cannot convert: it
 * is served from the atomic pools of kernel/dma/pool.c (x86, where
 * AMD_MEM_ENCRYPT selects DMA_COHERENT_POOL): one per zone (ZONE_DMA,
 * ZONE_DMA32, the rest), each sized as dma_atomic_pool_init sizes it
 * (128 KiB per GiB of RAM, at least 128 KiB, at most 4 MiB), decrypted once when made and never given
 * back; an allocation that leaves a pool below its initial size queues
 * the pool's worker (atomic_pool_work_fn), which grows it by its current
 * size. The pools are made with the first driver probe (the kernel makes
 * them at boot; ccmm waits for the first user of the DMA API so that runs
 * without DMA keep all their memory), from memory no one else gets. A
 * pSeries guest has no atomic pools: an atomic allocation that must be
 * shared fails there, as dma_direct_alloc_from_pool does without
 * DMA_COHERENT_POOL. The CPU address handed back is the direct map, whose
 * PTEs carry the mode's decrypted/shared attribute (or stay encrypted for
 * an SME device that reaches the C-bit, whose DMA address then carries the
 * C-bit). ZONE_DMA (below 16 MiB) is not a zone of ccmm's page allocator:
 * a coherent mask below 32 bits gets ZONE_DMA32 pages or fails.
 *
 * dma-debug (kernel/dma/debug.c, with CONFIG_DMA_API_DEBUG_SG): each check
 * is a violation with the call that caused it. At unmap and free
 * (check_unmap) every mismatch is reported on its own: another size
 * (dma_unmap_size), the wrong function (dma_unmap_type; dma_map_single and
 * dma_map_page make one kind of entry, "single"), another CPU address for
 * a coherent buffer (dma_free_cpu_address), another sg entry count
 * (dma_sg_nents_mismatch), another direction (dma_unmap_dir), and a
 * mapping never checked with dma_mapping_error (dma_map_error_unchecked);
 * an address never mapped (dma_unmap_unmapped), unmapped already
 * (dma_double_unmap, ccmm's refinement of "has not allocated"), or
 * DMA_MAPPING_ERROR itself (dma_unmap_mapping_error). Where several live
 * mappings share the address and none fits exactly, dma-debug finds none
 * (its best-fit lookup) and says so; the unmap itself still undoes the
 * best fit, as the DMA API works from the address, not from dma-debug.
 * Unmaps and syncs do what the kernel does with the caller's arguments:
 * the copy back from a bounce buffer follows the caller's direction and
 * size (swiotlb_tbl_unmap_single, swiotlb_sync_single_for_cpu/_device),
 * so a wrong direction loses the device's data or clobbers the CPU's,
 * visibly. A sync (check_sync) of a range in no live mapping is
 * dma_sync_unmapped (nothing copied); in another direction than mapped,
 * dma_sync_dir, plus dma_sync_read_only (a TO_DEVICE mapping synced for
 * the CPU with a direction that copies back) or dma_sync_write_only (a
 * FROM_DEVICE mapping synced for the device with one that copies to it);
 * syncs of coherent buffers are fine and do nothing. At map time
 * (debug_dma_map_single, debug_dma_map_page, debug_dma_map_sg): a vmalloc
 * address given to dma_map_single is refused (dma_map_vmalloc: the WARN
 * and DMA_MAPPING_ERROR of dma_map_single_attrs), one outside the direct
 * map of RAM is dma_map_invalid_area (refused: ccmm has no page to map),
 * memory on the calling task's kernel stack is dma_map_stack
 * (check_for_stack), kernel text or rodata dma_map_kernel_image
 * (check_for_illegal_area, which compares the direct-map address of the
 * page with _stext/_etext and __start_rodata/__end_rodata: only where the
 * kernel image sits in the linear map, ppc64; x86-64 runs its image at
 * __START_KERNEL_map, so there the check cannot fire and ccmm reports
 * nothing), an sg entry longer than dma_get_max_seg_size
 * (dma_sg_segment_too_long) or a DMA segment across
 * dma_get_seg_boundary (dma_sg_segment_boundary) (check_sg_segment); and a
 * mapping whose first cacheline is already the first cacheline of another
 * live mapping the device may write (dma_cacheline_overlap:
 * active_cacheline_insert's -EEXIST, across all devices, not for
 * TO_DEVICE mappings, not with DMA_ATTR_SKIP_CPU_SYNC). These map-time
 * reports do not stop the mapping, as in the kernel. The kernel returns
 * nothing from unmaps and syncs; ccmm returns -EINVAL when dma-debug
 * reported, after doing what the kernel does.
 *
 * ccmm's own checks beside dma-debug: CPU access to a streaming buffer the
 * device owns (dma_cpu_unsynced) and device access to one the CPU owns
 * (dma_device_unsynced); device access outside every live mapping
 * (dma_device_unmapped; the checker adds dma_private when the memory is
 * private); mappings still live when the device goes away
 * (dma_live_at_remove, -EBUSY).
 *
 * A device reaches memory only through its translation (seed 002's
 * IOMMU as a second line of isolation): ccmm_dma_bus_addr gives the bus
 * address at which a device reaches a physical page -- the DMA API's own
 * address for it (a live mapping, the pool's window, the linear DDW, the
 * direct mapping's phys_to_dma) or none when its IOMMU holds no
 * translation to the page -- and ccmm_dma_raw_access routes a bus address
 * as the hardware does (a peer's BAR in P2P reach by the switch, anything
 * else through the device's IOMMU when it has one), so a device that names
 * a page it was never given a mapping for emits the page's physical
 * address and its IOMMU faults it (iommu_fault) instead of reaching it.
 *
 * TDX (seed 004): probe refuses a device outside the guest's allow-list
 * (the eight virtio IDs: net, block, console, fs, legacy and 1.0) with
 * device_not_allowed and -EPERM, unless the filter is off. MMIO goes either
 * through #VE (fault, decode, TDVMCALL: ve_ns + tdvmcall_ns + mmio_ns) or,
 * on a platform with mmio = paravirt, through a direct TDVMCALL from the
 * accessor (tdvmcall_ns + mmio_ns, no #VE).
 *
 * Locking: each device has a mutex over its records and state; the atomic
 * pools, the active-cacheline set and the stacks and kernel image of
 * dma-debug have per-machine mutexes; SWIOTLB and IOMMU windows lock
 * themselves; ccmm_dma_bind serialises binding with a per-machine mutex.
 * Lock order: bind, device, cacheline set, pools, then lower layers; the
 * pool worker runs with no dma/ lock held. Callable from any thread; a device's mappings may be
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
	X(coherent_atomic_allocs, "coherent allocations that could not block, served from the decrypted atomic pools") \
	X(coherent_atomic_failed, "atomic coherent allocations no pool could serve (DMA pool exhausted, or no pool)") \
	X(coherent_pages_converted, "pages made shared/decrypted by dma_alloc_coherent (set_memory_decrypted)") \
	X(coherent_pages_reencrypted, "pages made private again by dma_free_coherent (set_memory_encrypted)") \
	X(coherent_pages_leaked, "pages dma_free_coherent leaked because the secure world refused to re-encrypt them") \
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
	X(dma_unmap_mapping_error, "", \
	  "DMA_MAPPING_ERROR was unmapped or freed (dma-debug: device driver tries to free an invalid DMA memory " \
	  "address)") \
	X(dma_double_unmap, "", "a DMA mapping was unmapped or freed twice") \
	X(dma_unmap_size, "", "a DMA mapping was unmapped or freed with another size than it was made with") \
	X(dma_free_cpu_address, "", \
	  "a coherent buffer was freed with another CPU address than dma_alloc_coherent returned (dma-debug: frees DMA " \
	  "memory with different CPU address)") \
	X(dma_unmap_dir, "", "a DMA mapping was unmapped with another direction than it was made with") \
	X(dma_unmap_type, "", \
	  "a DMA mapping was undone with the wrong function (dma_unmap_sg of a single mapping, dma_free_coherent of a " \
	  "streaming one ...)") \
	X(dma_sg_nents_mismatch, "", \
	  "an sg list was unmapped or synced with another entry count than it was mapped with (the nents given to " \
	  "dma_map_sg)") \
	X(dma_map_error_unchecked, "", "a DMA mapping was unmapped without dma_mapping_error() ever being asked about it") \
	X(dma_sync_unmapped, "", "a sync of a DMA range that is not inside one live mapping") \
	X(dma_sync_dir, "", "a DMA mapping was synced with another direction than it was made with") \
	X(dma_sync_read_only, "", \
	  "a mapping the device only reads (TO_DEVICE) was synced for the CPU in a direction that copies back: the " \
	  "bounce buffer's old copy overwrites what the CPU wrote (dma-debug: syncs device read-only DMA memory for cpu)") \
	X(dma_sync_write_only, "", \
	  "a mapping the device only writes (FROM_DEVICE) was synced for the device in a direction that copies to it " \
	  "(dma-debug: syncs device write-only DMA memory to device)") \
	X(dma_map_stack, "", "memory on the calling task's kernel stack was mapped for DMA (dma-debug: check_for_stack)") \
	X(dma_map_kernel_image, "", \
	  "kernel text or rodata was mapped for DMA (dma-debug: check_for_illegal_area; only where the kernel image is " \
	  "in the linear map)") \
	X(dma_map_vmalloc, "", \
	  "a vmalloc address (vmalloc, vmap, ioremap, a vmapped stack) was given to dma_map_single: rejected with " \
	  "DMA_MAPPING_ERROR") \
	X(dma_map_invalid_area, "", \
	  "an address outside the direct map of RAM was given to dma_map_single (dma-debug: maps memory from invalid " \
	  "area)") \
	X(dma_sg_segment_too_long, "", \
	  "an sg entry was longer than the device's maximum segment size (dma_set_max_seg_size; dma-debug: " \
	  "check_sg_segment)") \
	X(dma_sg_segment_boundary, "", \
	  "an sg DMA segment crossed the device's segment boundary (dma_set_seg_boundary; dma-debug: check_sg_segment)") \
	X(dma_cacheline_overlap, "", \
	  "a mapping the device may write starts in a cacheline that starts another such live mapping (dma-debug: " \
	  "cacheline tracking EEXIST, overlapping mappings aren't supported)") \
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
	bool from_pool;            /* coherent: a block of an atomic pool (pool.c) */
	bool checked;              /* dma_mapping_error() was asked */
	bool cpu_owns;             /* streaming: synced for the CPU, not given back yet */
	int sg_call_ents;          /* sg: the nents given to dma_map_sg (0 otherwise) */
	int sg_mapped_ents;        /* sg: the entries it returned */
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

/* The atomic pools of kernel/dma/pool.c, one per zone (dma_guess_pool's order: kernel, dma32, dma). */
enum ccmm_dma_pool_zone {
	CCMM_DMA_POOL_KERNEL, /* atomic_pool_kernel: any RAM */
	CCMM_DMA_POOL_DMA32,  /* atomic_pool_dma32: RAM below 4 GiB */
	CCMM_DMA_POOL_DMA,    /* atomic_pool_dma: RAM below 16 MiB (has_managed_dma()) */
	CCMM_DMA_POOL_NR
};

/* "kernel", "dma32", "dma" (debugfs: dma_pools/pool_size_NAME). */
const char *ccmm_dma_pool_zone_name(enum ccmm_dma_pool_zone z);

/* One block of a pool (a gen_pool chunk): 2^order pages, one bit per page in use. */
struct ccmm_dma_pool_chunk {
	uint64_t pa;
	uint64_t pages;
	uint64_t *used;
};

struct ccmm_dma_atomic_pool {
	bool present;
	struct ccmm_dma_pool_chunk *chunk; /* oldest first; allocation searches newest first, as gen_pool */
	size_t nr_chunks, cap_chunks;
	uint64_t size, avail;              /* bytes: gen_pool_size, gen_pool_avail */
};

struct ccmm_dma_pools {
	pthread_mutex_t lock;              /* the pools' chunks and counts */
	bool made;                         /* dma_atomic_pool_init has run (first probe) */
	int init_err;
	uint64_t atomic_pool_size;         /* bytes: the initial size of each pool, the worker's low mark */
	struct ccmm_dma_atomic_pool pool[CCMM_DMA_POOL_NR];
	bool work_queued;                  /* atomic_pool_work scheduled and not run yet */
	bool work_held;                    /* the worker does not run until released (ccmm_dma_atomic_pool_hold) */
	pthread_mutex_t work_lock;         /* one worker run at a time; taken with no pool lock held */
	struct ccmm_ctx worker;            /* the worker's own modeled clock and costs (and the pools' making) */
	uint64_t allocs, exhausted, expansions, expand_failed;
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
	struct ccmm_dma_pools pools;  /* the atomic pools (pool.c) */
	/* dma-debug's active cacheline set (active_cacheline_insert): the first cacheline of every live
	 * mapping the device may write, with its overlap count (0..7, as the radix tree's three tags) */
	pthread_mutex_t cl_lock;
	struct {
		uint64_t cln;
		unsigned overlap;
	} *cl;
	size_t nr_cl, cap_cl;
	/* what dma-debug compares mappings with: the tasks' kernel stacks and the kernel image */
	pthread_mutex_t kmem_lock;
	struct {
		int actor;
		uint64_t va, pa; /* THREAD_SIZE bytes: pages at pa (one block), mapped at va */
	} *stack;
	size_t nr_stack, cap_stack;
	uint64_t text_pa, rodata_pa;  /* the kernel image, reserved on first use (0: not yet) */
	atomic_uint_fast64_t fail[CCMM_DMA_FAIL_NR];
	atomic_uint_fast64_t probes_refused;
	atomic_uint_fast64_t total_coherent_converted, total_coherent_reencrypted, total_coherent_leaked;
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
 * has bound it, ccmm_dma_probe(@opts, may be NULL), then the platform
 * file's masks (dma_set_mask_and_coherent, or the two masks apart when they
 * differ), its min_align_mask (dma_set_min_align_mask, as NVMe's probe
 * calls it) and a maximum segment size of UINT_MAX (dma_set_max_seg_size,
 * as GPU and RDMA drivers set it: amdgpu, i915, mlx5); if it is bound
 * already, nothing changes and the binding is shared
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
 * (dma_supported(): on the direct path a mask below 32 bits that misses
 * ZONE_DMA -- 16 MiB, or all RAM on a smaller machine; on pSeries a mask
 * below the window's start). On pSeries a 64-bit streaming mask on a unit
 * with a dynamic window switches the device to the bypass path and creates
 * the DDW (mapping all of RAM, or only the bounce range in a secure guest
 * whose window choice is the DDW). @bits is 1..64; 0 or above 64: -EINVAL.
 * -ENODEV when not bound.
 */
int ccmm_dma_set_mask(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits);
int ccmm_dma_set_coherent_mask(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits);
int ccmm_dma_set_mask_and_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, unsigned bits);

/*
 * dma_set_min_align_mask / dma_set_seg_boundary / dma_set_max_seg_size
 * (the PCI defaults, pci_device_add: boundary 4 GiB - 1, 64 KiB segments).
 * @mask: 2^n - 1 (a boundary at least a page); @size: bytes, not 0.
 * 0 or -EINVAL. Device lock.
 */
int ccmm_dma_set_min_align_mask(struct ccmm_dma_dev *d, uint32_t mask);
int ccmm_dma_set_seg_boundary(struct ccmm_dma_dev *d, uint64_t mask);
int ccmm_dma_set_max_seg_size(struct ccmm_dma_dev *d, uint32_t size);

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

/*
 * ccmm_dma_map_single - dma_map_single_attrs() of kernel virtual address
 * @va: a vmalloc-area address (vmalloc, vmap, ioremap, a vmapped stack) is
 * refused with dma_map_vmalloc and -EINVAL (the kernel's dev_WARN and
 * DMA_MAPPING_ERROR); one that is not virt_addr_valid() (neither the direct
 * map of RAM nor, on x86-64, the kernel image at __START_KERNEL_map) is
 * dma_map_invalid_area and -EINVAL (the kernel would map whatever
 * virt_to_page() computes; ccmm has no such page). Otherwise as map_page
 * of its physical address, with dma-debug's map-time checks.
 */
int ccmm_dma_map_single(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t va, uint64_t size,
			enum ccmm_dma_dir dir, unsigned long attrs, uint64_t *dma);

/*
 * ccmm_dma_mapping_error - dma_mapping_error(): -ENOMEM when @dma is
 * CCMM_DMA_MAPPING_ERROR, else 0; marks the mapping checked.
 */
int ccmm_dma_mapping_error(struct ccmm_dma_dev *d, uint64_t dma);

/*
 * ccmm_dma_unmap_page / _single - undo a mapping (dma_unmap_page_attrs;
 * dma_unmap_single is the same call): copy back @size bytes from the
 * bounce buffer when @dir is FROM_DEVICE or BIDIRECTIONAL -- the caller's
 * size (at most the mapping's) and direction, as swiotlb_tbl_unmap_single
 * -- and release the slots and I/O space the mapping holds. dma-debug's
 * check_unmap runs first (see the header comment). Returns 0, -EINVAL
 * (dma-debug reported; the best-fitting mapping at @dma, if any, is undone
 * all the same), -ENODEV (not bound).
 */
int ccmm_dma_unmap_page(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
			enum ccmm_dma_dir dir, unsigned long attrs);
int ccmm_dma_unmap_single(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
			  enum ccmm_dma_dir dir, unsigned long attrs);

/*
 * ccmm_dma_map_sg - map each of @t's orig_nents entries (dma_map_sg: no
 * merging), filling dma_address, dma_length and CCMM_SG_DMA_SWIOTLB; an
 * entry inside a BAR takes the P2P path (CCMM_SG_DMA_BUS_ADDRESS, or
 * -EREMOTEIO out of reach); sets t->nents. dma-debug checks each entry
 * (stack, kernel image, check_sg_segment, cacheline overlap) and records
 * the nents given. All or nothing. Returns the number of DMA entries or a
 * negative errno, as dma_map_sgtable: on the direct path (and the pSeries
 * bypass) -EIO for an entry that did not map, whatever stopped it
 * (dma_direct_map_sg), -EREMOTEIO for P2P out of reach; behind an IOMMU as
 * map_page (-ENOMEM when the I/O space is full).
 *
 * ccmm_dma_unmap_sg undoes them (dma_unmap_sg with @t's orig_nents);
 * ccmm_dma_unmap_sg_nents passes @nents as the caller did -- the kernel
 * wants what was given to dma_map_sg: another count is
 * dma_sg_nents_mismatch, and only the first @nents entries are unmapped
 * (fewer leave the rest mapped; more than the table holds are cut to it).
 * 0 or -EINVAL on misuse.
 */
int ccmm_dma_map_sg(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, enum ccmm_dma_dir dir,
		    unsigned long attrs);
int ccmm_dma_unmap_sg(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, enum ccmm_dma_dir dir,
		      unsigned long attrs);
int ccmm_dma_unmap_sg_nents(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, unsigned nents,
			    enum ccmm_dma_dir dir, unsigned long attrs);

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
 * copying as the caller's direction says (swiotlb_sync_single_for_cpu
 * copies back for FROM_DEVICE and BIDIRECTIONAL, _for_device copies to the
 * bounce buffer for TO_DEVICE and BIDIRECTIONAL), whatever the mapping's:
 * a wrong direction is reported by dma-debug (check_sync: dma_sync_dir and
 * dma_sync_read_only / _write_only) and its copy still made, so what it
 * clobbers is there to see. A coherent buffer needs no sync: nothing is
 * done, nothing reported. Returns 0, -EINVAL (dma-debug reported; the
 * copy was made unless the range is in no live mapping), -ENODEV.
 *
 * The sg variants sync each mapped entry (_nents: with the entry count
 * the caller passes, checked against the one mapped).
 */
int ccmm_dma_sync_single_for_cpu(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
				 enum ccmm_dma_dir dir);
int ccmm_dma_sync_single_for_device(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t dma, uint64_t size,
				    enum ccmm_dma_dir dir);
int ccmm_dma_sync_sg_for_cpu(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t,
			     enum ccmm_dma_dir dir);
int ccmm_dma_sync_sg_for_device(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t,
				enum ccmm_dma_dir dir);
int ccmm_dma_sync_sg_nents(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, struct ccmm_sg_table *t, unsigned nents,
			   enum ccmm_dma_dir dir, bool for_cpu);

/* ---- coherent memory ------------------------------------------------------------------ */

/* gfp for ccmm_dma_alloc_attrs: the caller may not sleep (GFP_ATOMIC, GFP_NOWAIT: !gfpflags_allow_blocking()). */
#define CCMM_DMA_GFP_ATOMIC 0x100u

/*
 * ccmm_dma_alloc_attrs - dma_alloc_attrs(): @size bytes (rounded up to
 * pages) of zeroed memory both sides see without syncs, below the
 * coherent mask (ZONE_DMA32 tried when the first pages do not fit, as
 * __dma_direct_alloc_pages), mapped in the device's IOMMU window if it
 * has one. Where the device needs unencrypted memory
 * (ccmm_force_dma_unencrypted), a caller that may block gets fresh pages
 * converted with set_memory_decrypted (counted coherent_pages_converted;
 * a failed conversion leaks the pages and fails), and an atomic caller
 * (@gfp & CCMM_DMA_GFP_ATOMIC) a block of the atomic pools
 * (dma_direct_alloc_from_pool: the pool of the mask's zone first, then the
 * lower ones; a block the mask cannot reach is put back), with no
 * conversion; a pool left below its initial size queues its worker. Returns
 * 0 with the DMA address in *@dma and the kernel virtual address in
 * *@cpu_va; -ENOMEM (no memory, no pool block, a conversion refused, or
 * more than 4 MiB: a buddy block is the most dma_direct_alloc gets without
 * CMA), -EIO (the mask cannot reach any memory / window), -EINVAL (0
 * bytes), -ENODEV (not bound).
 */
int ccmm_dma_alloc_attrs(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t size, unsigned gfp, uint64_t *dma,
			 uint64_t *cpu_va);

/* dma_alloc_coherent(): ccmm_dma_alloc_attrs with GFP_KERNEL. */
int ccmm_dma_alloc_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t size, uint64_t *dma,
			    uint64_t *cpu_va);

/*
 * ccmm_dma_free_coherent - dma_free_coherent(): dma-debug's check_unmap
 * (size, function, CPU address), then, as dma_direct_free: a block of an
 * atomic pool goes back to its pool; pages that were decrypted are made
 * private again with set_memory_encrypted before the page allocator gets
 * them (counted coherent_pages_reencrypted), and leaked if the secure world
 * refuses (coherent_pages_leaked). Returns 0, -EINVAL (dma-debug reported;
 * the buffer found is freed all the same), -ENODEV.
 */
int ccmm_dma_free_coherent(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t size, uint64_t cpu_va,
			   uint64_t dma);

/*
 * ccmm_dma_atomic_pool_hold - keep the atomic pools' worker from running
 * (@hold) so that a burst of atomic allocations can outrun it, as on a
 * busy machine; releasing it runs what was queued. By default the worker
 * runs as soon as the allocation that queued it returns (an idle
 * workqueue), on its own modeled clock. Takes the pools' locks.
 */
void ccmm_dma_atomic_pool_hold(struct ccmm_machine *m, bool hold);

/*
 * ccmm_dma_atomic_pool_work - run the worker now if work is queued
 * (atomic_pool_work_fn): every pool below its initial size grows by its
 * current size (one buddy block, halved down to a page when memory is
 * short; its pages decrypted), charged to the worker's context. Returns
 * the number of pools grown, or -ENOMEM when one could not be.
 */
int ccmm_dma_atomic_pool_work(struct ccmm_machine *m);

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

/*
 * ccmm_dma_raw_access - a device emits @len bytes of DMA at bus address
 * @bus with no DMA-API bookkeeping (a device model the job drives
 * directly): routed as the hardware routes it -- an address in the BAR of
 * a device in its P2P group goes to that BAR through the switch; anything
 * else goes through the device's IOMMU when it has one (iommu_fault where
 * no entry translates it) and straight to memory when it has none (the
 * checker then sees the bus address as a physical one, with the C-bit if
 * it carries one). Returns as ccmm_dma_access().
 */
int ccmm_dma_raw_access(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_rw rw, uint64_t bus, void *buf,
			size_t len, struct ccmm_result *r);

/*
 * ccmm_dma_bus_addr - the bus address at which device @d reaches physical
 * address @pa through its translation, as the DMA API would hand it out:
 * without an IOMMU, phys_to_dma_direct() (the C-bit unless the device
 * needs unencrypted memory); a BAR in its P2P reach, its bus address;
 * behind an IOMMU, the address of a live mapping or coherent buffer of a
 * device on the same translation (the unit's windows on pSeries, the
 * device's own domain otherwise) that holds the page -- the original, or
 * for a bounced mapping its bounce buffer --, else the window address of
 * the SWIOTLB pool where it is mapped whole (a secure guest's 32-bit
 * window), else the dynamic window's linear address (bus_base + pa; the
 * window's entries decide whether it is reachable). *@room is how many
 * bytes from @pa stay contiguous at that bus address. Returns 0, or
 * -ENOENT when the device's IOMMU holds no translation to @pa (the page
 * has no bus address for it). Takes the device locks of the unit.
 */
int ccmm_dma_bus_addr(struct ccmm_dma_dev *d, uint64_t pa, uint64_t *bus, uint64_t *room);

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

/* ---- what dma-debug compares mappings with ------------------------------------------------ */

#define CCMM_THREAD_SIZE (16 * 1024ULL)                 /* a task's kernel stack (x86-64 and ppc64) */
#define CCMM_START_KERNEL_MAP 0xffffffff80000000ULL     /* x86-64 __START_KERNEL_map */
#define CCMM_KERNEL_TEXT_VA 0xffffffff81000000ULL       /* x86-64 _stext (without KASLR) */
#define CCMM_KERNEL_TEXT_SIZE (2 * 1024 * 1024ULL)      /* ccmm's kernel image: 2 MiB of text ... */
#define CCMM_KERNEL_RODATA_SIZE (1024 * 1024ULL)        /* ... and 1 MiB of rodata after it */

/*
 * ccmm_dma_task_stack - the kernel stack of the task @ctx runs as
 * (current->stack; the acting context's actor), made on first use:
 * CCMM_THREAD_SIZE bytes of pages, mapped in the vmalloc area on x86-64
 * (CONFIG_VMAP_STACK: task_stack_vm_area) and used through the direct map
 * on ppc64 (no VMAP_STACK). dma-debug's check_for_stack compares a
 * mapping's first page with it. Returns 0 with its kernel virtual address
 * in *@va and its first page in *@pa (the pages are contiguous), -ENOMEM,
 * -EINVAL (@ctx is not an actor's). Kept until the machine goes.
 */
int ccmm_dma_task_stack(struct ccmm_ctx *ctx, uint64_t *va, uint64_t *pa);

/*
 * ccmm_dma_kernel_image - where kernel text (@rodata false: _stext.._etext)
 * or rodata (__start_rodata..__end_rodata) is: pages reserved out of the
 * page allocator on first use (ccmm models no kernel image otherwise; its
 * size, CCMM_KERNEL_TEXT_SIZE and _RODATA_SIZE, and place matter to no
 * check), and the addresses the kernel runs them at: __START_KERNEL_map
 * on x86-64, the linear map (PAGE_OFFSET + pa) on ppc64. Returns 0 with
 * the virtual address, physical address and size; -ENOMEM.
 */
int ccmm_dma_kernel_image(struct ccmm_machine *m, bool rodata, uint64_t *va, uint64_t *pa, uint64_t *size);

/*
 * ccmm_dma_kernel_virt_to_phys - __pa() of a kernel virtual address as
 * virt_addr_valid() sees it: the direct map of RAM, or (x86-64) the kernel
 * image. Returns true with *@pa; false for any other address (vmalloc,
 * ioremap, user, a hole or device memory in the direct map).
 */
bool ccmm_dma_kernel_virt_to_phys(struct ccmm_machine *m, uint64_t va, uint64_t *pa);

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
	bool made;                            /* the pools exist (a driver probed) */
	uint64_t size[CCMM_DMA_POOL_NR];      /* bytes (debugfs dma_pools/pool_size_*); 0: no such pool */
	uint64_t avail[CCMM_DMA_POOL_NR];     /* bytes free */
	uint64_t atomic_pool_size;            /* each pool's initial size */
	uint64_t allocs, exhausted, expansions, expand_failed;
	uint64_t pool_decrypted_pages;        /* pages the pools' making and growth decrypted */
	uint64_t pool_share_ns;               /* modeled time of that, on the worker's clock */
	uint64_t converted_pages, reencrypted_pages, leaked_pages; /* dma_alloc/free_coherent, every context */
};

/* A snapshot of the atomic pools' and coherent memory's figures (takes the pools' lock). */
void ccmm_dma_pool_stats(struct ccmm_machine *m, struct ccmm_dma_pool_stats *out);

/* Number of live records of @d (mappings and coherent buffers). */
size_t ccmm_dma_live(struct ccmm_dma_dev *d);

#pragma GCC visibility pop

#endif /* CCMM_DMA_H */
