/* SPDX-License-Identifier: MIT */
/*
 * ttm.h - TTM buffer objects for a GPU (layer 3, seed 000), after
 * drivers/gpu/drm/ttm/ of Linux 6.12, with the dmem charging of 6.14.
 *
 *   ttm_device (one per GPU)
 *     managers   one per memory type (TTM_NUM_MEM_TYPES = 8), each with an
 *                LRU of the BOs whose resource it holds, a usage and the
 *                fence of its last pipelined move (man->move):
 *                  SYSTEM  ttm_sys_manager: pages, never full
 *                  TT      a range manager over the GART aperture (tt pages)
 *                  VRAM    the GPU's BAR, first fit, io memory; every
 *                          allocation charged to the dmem cgroup of the
 *                          task that makes it (ttm_resource_alloc ->
 *                          dmem_cgroup_try_charge, region "drm/DEV/vram0")
 *                  PRIV..  driver domains (ccmm_ttm_range_man_init) or a
 *                          caller's own manager functions
 *     pinned     the BOs pinned at their last unreserve (bdev->pinned)
 *     pool       ttm_pool: free blocks per caching and order (0..10); see
 *                pool.c for which pool holds what
 *     funcs      the driver's evict_flags / move / eviction_valuable; the
 *                default is an amdgpu-style driver (VRAM evicts to TT, then
 *                SYSTEM; VRAM <-> SYSTEM goes through TT: -EMULTIHOP)
 *     dma        the GPU's struct device: bound for DMA at ttm_device_init
 *
 *   ttm_bo  resv -- resource {mem_type, caching, placement flags, start,
 *           dmem pool} -- tt {pages, dma_address, caching, page_flags}
 *           validate(placement): the first place whose manager has room
 *           (first without evicting, then evicting LRU victims -- within
 *           the dmem cgroup that hit its limit when one did); a move
 *           notifies (dma-buf move_notify), zaps every CPU mapping, waits
 *           for the BO to be idle and copies the bytes through kernel
 *           mappings (ttm_bo_move_memcpy) or rebinds the same pages
 *           (ttm_bo_move_null); the last put of a busy BO defers its
 *           destruction until its fences signal (ttm_bo_delayed_delete)
 *
 *   CPU mappings: mmap makes a VM_PFNMAP|VM_IO VMA whose vm_page_prot is
 *   vm_get_page_prot() (encrypted in a CC guest and under SME); nothing is
 *   mapped until the first access. The fault handler
 *       trylock resv (else drop mmap_lock, wait, retry; block on the retry)
 *       wait for the KERNEL fences (a pipelined move)
 *       populate the tt on first fault
 *       prot = the placement's caching + the backing's encryption:
 *              io memory: always decrypted; tt: decrypted iff DECRYPTED
 *              (never the VMA's copy -- unless policy = VMA, the 2019 way)
 *       insert up to 16 PTEs (TTM_BO_VM_NUM_PREFAULT)
 *   A move zaps the PTEs; the next access faults in the new backing with
 *   the protection of the new placement. kmap/vmap use the same protection
 *   (PAGE_KERNEL based).
 *
 * Policies (switches, so a job can show what each breaks):
 *   policy     BACKING (default, today's TTM) or VMA (before the 2019 patch:
 *              encryption from vma->vm_page_prot / PAGE_KERNEL)
 *   resolve    PER_BO (protection computed once per placement, the
 *              io_mapping way Daniel describes) or PER_PAGE (looked up per
 *              PFN from the page's state and the direct map, as the PAT
 *              lookup in vmf_insert_pfn does)
 *   decrypted  GUEST (mainline's ttm_tt_create: TTM_TT_FLAG_DECRYPTED when
 *              use_dma_alloc and cc_platform_has(CC_ATTR_GUEST_MEM_ENCRYPT))
 *              or DEVICE (seed 000's 2019 patch: when the DMA API decrypts
 *              for this device, force_dma_unencrypted(dev) -- which also
 *              holds on an SME host for a device that cannot address the
 *              C-bit, where mainline's rule maps decrypted pages encrypted)
 *
 * DMA addresses come from the DMA API (dma.h), as in the kernel: a tt's
 * pages have the address dma_alloc_attrs gave their block or the one
 * dma_map_page gave it at populate (unmapped at unpopulate), and the GPU's
 * DMA to them goes through ccmm_dma_device_access (its IOMMU, the
 * dma-debug records). Without use_dma_alloc, under forced bouncing (a CC
 * guest) the mapping is a long-lived bounce: the GPU reads and writes the
 * SWIOTLB copy and TTM never syncs, so CPU accesses through the BO's
 * mappings see stale data -- TTM records dma_cpu_unsynced for them
 * (ccmm_ttm_bo_cpu_access_check, moves). The kernel's drivers avoid it by
 * asking for use_dma_alloc when memory is encrypted (drm_need_swiotlb).
 *
 * "current": TTM charges the dmem cgroup of the task @ctx runs as
 * (ctx->task; none: the root), as dmem_cgroup_try_charge charges
 * current's.
 *
 * Not modelled: BO priorities (one LRU per manager), LRU bulk moves
 * (ttm_lru_bulk_move: an LRU bookkeeping device of per-VM BOs no seed
 * touches), pipelined moves by a copy engine (ccmm's moves copy with the
 * CPU and complete before they return; a fence set as a manager's move
 * fence is honoured as ttm_bo_add_move_fence does).
 *
 * Locking: a BO's state changes under its reservation (resv) lock; the
 * device's lru_lock protects the managers, LRUs, usage and the deleted
 * list; a BO's map_lock (the address space's i_mmap lock) protects its VMA
 * list; the pools have their machine's pool lock. Order: mmap_lock, resv
 * (ww_mutex, several with an acquire context), lru_lock / map_lock,
 * page-table lock, pool lock. Eviction trylocks other BOs' reservations,
 * and with a ticket waits for at most one per walk.
 */
#ifndef CCMM_TTM_H
#define CCMM_TTM_H

#include "dma/dma.h"
#include "mm/mm.h"
#include "sg/sg.h"
#include "sync/sync.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/*
 * The modeled costs (X(name, default, source): ns per occurrence, as in
 * platform/costs.h) and the event counters (X(name, help)) of this
 * subsystem, declared once; a platform's [cost] section overrides a cost
 * by name.
 */
#define CCMM_TTM_COSTS(X)
#define CCMM_TTM_COUNTERS(X) \
	X(ttm_moves, "TTM buffer objects moved between placements (each hop of a multihop move)") \
	X(ttm_evictions, "TTM buffer objects evicted under memory pressure") \
	X(ttm_faults, "TTM fault-handler calls that inserted PTEs") \
	X(ttm_pool_hits, "TTM pool blocks handed out already flipped (WC/UC, decrypted)") \
	X(ttm_pool_misses, "TTM pool blocks taken from the page allocator or dma_alloc_attrs") \
	X(ttm_swapouts, "TTM tts swapped out to backing pages (ttm_tt_swapout)") \
	X(ttm_dmem_limit_hits, "VRAM allocations that hit a dmem cgroup limit (-EAGAIN from dmem_cgroup_try_charge)")

CCMM_COST_BLOCK_DECLARE(ttm, CCMM_TTM_COSTS, CCMM_TTM_COUNTERS)

/* The rules of this subsystem: X(name, seed thread, summary). */
#define CCMM_TTM_RULES(X) \
	X(ttm_pinned_move, "000", "a pinned buffer object was evicted by force (bo_evict of a pinned BO)") \
	X(ttm_unpin_unpinned, "000", "ttm_bo_unpin() on a buffer object that is not pinned")

CCMM_RULES_DECLARE(CCMM_TTM_RULES)

/* Memory types (TTM_PL_*): SYSTEM, TT, VRAM, then driver-private ones up to TTM_NUM_MEM_TYPES. */
enum ccmm_ttm_mem_type {
	CCMM_TTM_PL_SYSTEM = 0,
	CCMM_TTM_PL_TT = 1,
	CCMM_TTM_PL_VRAM = 2,
	CCMM_TTM_PL_PRIV = 3,
	CCMM_TTM_PL_NR = 8, /* TTM_NUM_MEM_TYPES */
};

/* "system", "tt", "vram", "priv0" .. "priv4". */
const char *ccmm_ttm_mem_type_name(enum ccmm_ttm_mem_type t);
/* "system", "tt" (also "gtt"), "vram", "privN"; -1 when unknown. */
int ccmm_ttm_mem_type_parse(const char *s);

/* ttm_place flags, the kernel's values. */
#define CCMM_TTM_PL_FLAG_CONTIGUOUS (1u << 0) /* one contiguous range */
#define CCMM_TTM_PL_FLAG_TOPDOWN    (1u << 1) /* from the top of the manager */
#define CCMM_TTM_PL_FLAG_TEMPORARY  (1u << 2) /* a multihop bounce: never compatible */
#define CCMM_TTM_PL_FLAG_FALLBACK   (1u << 3) /* only when evicting (force_space) */
#define CCMM_TTM_PL_FLAG_DESIRED    (1u << 4) /* only when not evicting */

/* One acceptable place: a memory type, how the CPU maps it (ccmm's: the tt's caching there), flags. */
struct ccmm_ttm_place {
	enum ccmm_ttm_mem_type mem_type;
	enum ccmm_cache_mode caching;
	uint32_t flags;
};

#define CCMM_TTM_MAX_PLACES 4

/* A placement: places in order of preference; none at all removes the backing (ttm_bo_pipeline_gutting). */
struct ccmm_ttm_placement {
	unsigned nr;
	struct ccmm_ttm_place place[CCMM_TTM_MAX_PLACES];
};

enum ccmm_ttm_prot_policy {
	CCMM_TTM_PROT_BACKING, /* from the placement and the backing memory */
	CCMM_TTM_PROT_VMA,     /* legacy (2019): encryption from the VMA / PAGE_KERNEL */
};

enum ccmm_ttm_prot_resolve {
	CCMM_TTM_RESOLVE_PER_BO,   /* once per placement */
	CCMM_TTM_RESOLVE_PER_PAGE, /* per PFN, from page state and the direct map */
};

enum ccmm_ttm_decrypted_rule {
	CCMM_TTM_DECRYPTED_GUEST,  /* mainline: use_dma_alloc in a guest with encrypted memory */
	CCMM_TTM_DECRYPTED_DEVICE, /* seed 000 (2019): where force_dma_unencrypted(dev) */
};

enum ccmm_ttm_bo_type {
	CCMM_TTM_BO_DEVICE, /* ttm_bo_type_device: user space's, mmap-able, cleared on first populate */
	CCMM_TTM_BO_KERNEL, /* ttm_bo_type_kernel: the driver's own */
	CCMM_TTM_BO_SG,     /* ttm_bo_type_sg: external pages (TTM_TT_FLAG_EXTERNAL), always destroyed late */
	CCMM_TTM_BO_NR_TYPES
};

/* ttm_operation_ctx */
struct ccmm_ttm_operation_ctx {
	bool interruptible;           /* accepted and ignored: nothing interrupts a model */
	bool no_wait_gpu;             /* a busy BO or move fence: -EBUSY rather than a wait */
	bool allow_res_evict;         /* eviction may take BOs sharing @resv, which the caller holds */
	struct ccmm_dma_resv *resv;
	uint64_t bytes_moved;         /* out: bytes moved by this operation (each hop counted) */
};

#define CCMM_TTM_NUM_PREFAULT 16

struct ccmm_ttm_bo;
struct ccmm_ttm_device;
struct ccmm_ttm_resource;
struct ccmm_ttm_resource_manager;
/* The dmem controller's region and pool (cgroup/cgroup.h). */
struct ccmm_dmem_region;
struct ccmm_dmem_pool;

/* The driver's callbacks (struct ttm_device_funcs); NULL members take the default driver's. */
struct ccmm_ttm_device_funcs {
	/* evict_flags: where @bo goes when evicted; none (nr 0): it is purged (ttm_bo_pipeline_gutting) */
	void (*evict_flags)(struct ccmm_ttm_bo *bo, struct ccmm_ttm_placement *placement);
	/*
	 * move: put @bo into @new_mem (space taken; the BO is reserved and its
	 * CPU mappings zapped; a tt exists and is populated when the new
	 * manager uses one). 0 (the BO owns @new_mem now, the old resource is
	 * freed), -EMULTIHOP with *@hop the place to bounce through first, or
	 * an errno (@new_mem is still the caller's to free).
	 */
	int (*move)(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool evict, struct ccmm_ttm_operation_ctx *op,
		    struct ccmm_ttm_resource *new_mem, struct ccmm_ttm_place *hop);
	/* eviction_valuable: whether evicting @bo helps @place (the default: ttm_bo_eviction_valuable) */
	bool (*eviction_valuable)(struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place);
	/* ttm_tt_create: 0, or -ENOMEM as a driver whose tt allocation failed (the tt stays absent) */
	int (*ttm_tt_create)(struct ccmm_ttm_bo *bo, uint32_t page_flags);
};

/* The default driver's callbacks (amdgpu-style), for drivers that wrap them. */
extern const struct ccmm_ttm_device_funcs ccmm_ttm_default_funcs;

struct ccmm_ttm_params {
	int dev;                          /* the GPU: platform device index */
	unsigned vram_bar;                /* its VRAM BAR */
	uint64_t vram_size;               /* bytes of that BAR managed as VRAM; 0: all */
	uint64_t tt_size;                 /* bytes of GART aperture; 0: 256 MiB */
	enum ccmm_cache_mode vram_caching; /* CPU mappings of VRAM (WC) */
	enum ccmm_cache_mode tt_caching;  /* default caching of TT placements (WC) */
	enum ccmm_ttm_prot_policy policy;
	enum ccmm_ttm_prot_resolve resolve;
	enum ccmm_ttm_decrypted_rule decrypted;
	unsigned prefault;                /* PTEs a fault inserts at most; 0: 16 */
	bool use_dma_alloc;               /* tt pages from dma_alloc_attrs: decrypted where DMA must be */
	bool use_dma32;                   /* tt pages below 4 GiB (GFP_DMA32), counted against the dma32 limit */
	bool dma_no_filter;               /* TDX: bind the GPU even outside the allow-list (the override) */
	bool no_vram;                     /* no VRAM manager (an integrated GPU, the KUnit device) */
	const struct ccmm_ttm_device_funcs *funcs; /* NULL: the default driver */
	/*
	 * Bug switch (seed 000's "no PTE yet" fast path done wrong): the fault
	 * handler looks up the PFNs and protection before it holds the
	 * reservation and, finding it busy, waits for it and inserts what it
	 * looked up instead of retrying the fault, so a move in between leaves
	 * a PTE to the old backing. The fixed handler looks up under the lock
	 * and retries after waiting (VM_FAULT_RETRY).
	 */
	bool fault_race_bug;
};

/* The defaults above for GPU @dev. */
void ccmm_ttm_params_default(struct ccmm_ttm_params *p, int dev);

/* TTM_TT_FLAG_* */
#define CCMM_TTM_TT_FLAG_SWAPPED         (1u << 0) /* the pages are in swap storage */
#define CCMM_TTM_TT_FLAG_ZERO_ALLOC      (1u << 1) /* new pages are cleared */
#define CCMM_TTM_TT_FLAG_EXTERNAL        (1u << 2) /* pages from elsewhere (an sg BO): not TTM's to count or swap */
#define CCMM_TTM_TT_FLAG_EXTERNAL_MAPPABLE (1u << 3)
#define CCMM_TTM_TT_FLAG_DECRYPTED       (1u << 4) /* the CPU maps the pages decrypted */
#define CCMM_TTM_TT_FLAG_PRIV_POPULATED  (1u << 5) /* ttm_tt_is_populated */

struct ccmm_ttm_tt {
	bool created;                     /* bo->ttm != NULL */
	uint32_t page_flags;              /* CCMM_TTM_TT_FLAG_* */
	size_t num_pages;                 /* the BO's pages plus extra_pages */
	uint64_t *pages;                  /* physical address of each page (the page directory, from init) */
	uint64_t *dma_address;            /* the GPU's DMA address of each page (use_dma_alloc or mapped) */
	uint8_t *order;                   /* at a block's first page: its pool order */
	bool populated;                   /* == page_flags & PRIV_POPULATED */
	enum ccmm_cache_mode caching;
	bool decrypted;                   /* == page_flags & DECRYPTED */
	bool bounced;                     /* streaming-mapped through SWIOTLB (no use_dma_alloc, forced bouncing) */
	uint64_t *swap_storage;           /* swapped out: one backing page per tt page, else NULL */
};

struct ccmm_ttm_resource {
	enum ccmm_ttm_mem_type mem_type;
	enum ccmm_cache_mode caching;
	uint32_t placement;               /* the place's flags (res->placement) */
	uint64_t start;                   /* bytes from the start of the manager's range (VRAM: of the BAR) */
	uint64_t size;                    /* bytes (res->size) */
	bool is_iomem;                    /* bus.is_iomem */
	uint64_t bus_base;                /* VRAM: physical address of the first byte */
	struct ccmm_dmem_pool *css;       /* the dmem pool charged for it (res->css), NULL if none */
};

/* struct ttm_resource_manager_func */
struct ccmm_ttm_resource_manager_func {
	/* fill in @res (already initialised by the core: mem type, flags, size) or -ENOSPC / another errno */
	int (*alloc)(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place,
		     struct ccmm_ttm_resource *res);
	void (*free)(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_resource *res);
	/* whether @res satisfies @place (NULL: it does) */
	bool (*compatible)(struct ccmm_ttm_resource_manager *man, struct ccmm_ttm_resource *res,
			   const struct ccmm_ttm_place *place, uint64_t size);
};

/* struct ttm_resource_manager */
struct ccmm_ttm_resource_manager {
	struct ccmm_ttm_device *tdev;
	const struct ccmm_ttm_resource_manager_func *func;
	bool use_type;                    /* ttm_resource_manager_used */
	bool use_tt;                      /* resources are the BO's tt pages */
	uint64_t size;                    /* bytes managed (SYSTEM: RAM, informational) */
	uint64_t usage;                   /* bytes allocated (lru_lock) */
	struct ccmm_lru lru;              /* its BOs, least recently used first (lru_lock) */
	struct ccmm_dma_fence *move;      /* its last pipelined move, or NULL (move_lock = lru_lock) */
	struct ccmm_dmem_region *cg;      /* the dmem region its allocations are charged to, or NULL */
	void *priv;                       /* the manager's own state */
};

struct ccmm_ttm_bo {
	struct ccmm_ttm_device *tdev;
	char name[48];
	enum ccmm_ttm_bo_type type;
	uint64_t size;                    /* bytes, page aligned */
	size_t num_pages;
	struct ccmm_dma_resv *resv;       /* &base_resv, or one shared with other BOs */
	struct ccmm_dma_resv base_resv;
	struct ccmm_ttm_resource res;
	bool has_res;                     /* bo->resource != NULL */
	struct ccmm_ttm_tt tt;
	unsigned pin_count;
	bool deleted;                     /* released while busy: destroyed once idle (delayed delete) */
	struct ccmm_lru_node lru;         /* on its manager's LRU, or the device's pinned list */
	int lru_list;                     /* the list it is on: a mem type, CCMM_TTM_PL_NR for pinned, -1 none */
	atomic_int refcount;
	pthread_mutex_t map_lock;         /* the VMAs mapping this BO */
	struct ccmm_vma **vmas;
	size_t nr_vmas, cap_vmas;
	uint64_t fault_prot;              /* resolved protection for the current placement ... */
	uint64_t fault_prot_base;         /* ... built on this vm_page_prot ... */
	int fault_prot_policy;            /* ... under this policy */
	bool prot_valid;
	/* notified with the resv held before the backing changes, and after (dma-buf exporters) */
	void (*move_notify)(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, void *priv);
	void (*moved)(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, void *priv);
	void *move_priv;
	struct ccmm_ttm_bo *deleted_next; /* the device's delayed-delete list (lru_lock) */
	uint64_t moves, evictions, faults, fault_retries, ptes_inserted;
};

/* Manager and pool figures, for reports and tests. */
struct ccmm_ttm_stats {
	uint64_t size[CCMM_TTM_PL_NR];    /* bytes managed */
	uint64_t usage[CCMM_TTM_PL_NR];   /* bytes allocated */
	uint64_t lru[CCMM_TTM_PL_NR];     /* BOs on each LRU */
	uint64_t pinned;                  /* BOs on the pinned list */
	uint64_t deleted;                 /* BOs waiting for their delayed delete */
	uint64_t evictions, moves, bytes_copied, swapouts, dmem_limit_hits;
	uint64_t pool_hits, pool_misses, pool_conversions, pool_restores;
	uint64_t pool_pages;              /* pages in this device's pools */
	uint64_t pool_allocated_pages;    /* pages in every pool of the machine (allocated_pages) */
	uint64_t page_pool_size;          /* the machine's limit on them */
	uint64_t pages_allocated, pages_limit; /* ttm_pages_allocated and ttm_pages_limit */
};

/*
 * ccmm_ttm_device_init - ttm_device_init for GPU @p->dev on @ctx's
 * machine, registered there (ccmm_ttm_device_find) and torn down at
 * shutdown or by ccmm_ttm_device_fini. The SYSTEM manager always, TT and
 * (unless @p->no_vram) VRAM managers, the VRAM one with its dmem region;
 * the device's pools (ttm_pool_init with the GPU's node). The GPU must be
 * a bound DMA device, as its driver's probe leaves it: it is bound here
 * with ccmm_dma_bind (probe, then the platform's masks), or the binding a
 * driver already made is shared. -EINVAL: no such device, no such BAR, or
 * VRAM larger than it; -EEXIST: the GPU has one already; -EPERM: the TDX
 * allow-list refused the GPU (device_not_allowed; see dma_no_filter); -EIO
 * (masks); -ENOMEM.
 */
int ccmm_ttm_device_init(struct ccmm_ctx *ctx, const struct ccmm_ttm_params *p, struct ccmm_ttm_device **out);

/*
 * ttm_device_fini: flush the delayed deletes (waiting for their fences),
 * evict what is left in the managers (ttm_resource_manager_evict_all;
 * pinned BOs stay), give every pooled block back, and forget the device.
 * BOs still referenced keep working on SYSTEM pages; they must be put
 * before the machine shuts down.
 */
void ccmm_ttm_device_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev);

/* The GPU's DMA device (bound). */
struct ccmm_dma_dev *ccmm_ttm_device_dma(const struct ccmm_ttm_device *tdev);

/* The device of GPU @dev, or NULL. */
struct ccmm_ttm_device *ccmm_ttm_device_find(struct ccmm_machine *m, int dev);

/* The TTM devices of the machine (the global device_list). */
size_t ccmm_ttm_device_count(struct ccmm_machine *m);

/* The device's parameters (read-only after init except the policy knobs). */
const struct ccmm_ttm_params *ccmm_ttm_device_params(const struct ccmm_ttm_device *tdev);
/* The driver callbacks in use (the default's members where the params gave NULL). */
const struct ccmm_ttm_device_funcs *ccmm_ttm_device_funcs(const struct ccmm_ttm_device *tdev);
/* Replace the driver callbacks (as a test swaps bdev->funcs); NULL: the default driver. */
void ccmm_ttm_device_set_funcs(struct ccmm_ttm_device *tdev, const struct ccmm_ttm_device_funcs *funcs);
/* Switch the protection policy or resolution at run time (the next faults use it). */
void ccmm_ttm_device_set_policy(struct ccmm_ttm_device *tdev, enum ccmm_ttm_prot_policy policy,
				enum ccmm_ttm_prot_resolve resolve);
void ccmm_ttm_device_stats(struct ccmm_ttm_device *tdev, struct ccmm_ttm_stats *s);

/* The dmem region of the device's VRAM ("drm/DEV/vram0"), or NULL without VRAM. */
struct ccmm_dmem_region *ccmm_ttm_device_dmem_region(const struct ccmm_ttm_device *tdev);

/* ---- resource managers -------------------------------------------------- */

/* ttm_manager_type: the manager of @type, or NULL (none set, or @type out of range). */
struct ccmm_ttm_resource_manager *ccmm_ttm_manager_type(struct ccmm_ttm_device *tdev, int type);

/*
 * ttm_resource_manager_init + ttm_set_driver_manager +
 * ttm_resource_manager_set_used(true): install @man (the caller's storage,
 * with func, use_tt and whatever priv it needs) as the manager of @type,
 * @size bytes. -EINVAL: @type is SYSTEM or out of range; -EEXIST: one is
 * set.
 */
int ccmm_ttm_set_driver_manager(struct ccmm_ttm_device *tdev, int type, struct ccmm_ttm_resource_manager *man,
				uint64_t size);

/* ttm_set_driver_manager(bdev, type, NULL): forget the manager (it must be empty). */
void ccmm_ttm_clear_driver_manager(struct ccmm_ttm_device *tdev, int type);

/*
 * ttm_range_man_init: a range manager of @size bytes (first fit in pages,
 * TOPDOWN from the top) as the manager of @type; @use_tt: its resources
 * are the BO's tt pages (a GART-like aperture), else a driver-private
 * domain without CPU-visible memory. -EINVAL, -EEXIST, -ENOMEM.
 */
int ccmm_ttm_range_man_init(struct ccmm_ttm_device *tdev, int type, bool use_tt, uint64_t size);

/*
 * ttm_range_man_fini: evict everything from a manager that
 * ccmm_ttm_range_man_init installed at @type (TT too, where it replaced
 * the device's own, which is cleared first), stop using it and free it.
 * 0, -EINVAL (no such manager, or the device's own), or the eviction's
 * errno (the manager stays then).
 */
int ccmm_ttm_range_man_fini(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, int type);

/* ttm_resource_manager_set_used / _used / _usage. */
void ccmm_ttm_resource_manager_set_used(struct ccmm_ttm_resource_manager *man, bool used);
bool ccmm_ttm_resource_manager_used(const struct ccmm_ttm_resource_manager *man);
uint64_t ccmm_ttm_resource_manager_usage(struct ccmm_ttm_resource_manager *man);

/*
 * ttm_resource_manager_evict_all: evict the manager's least recently used
 * BO until none is left (ttm_bo_evict_first; pinned BOs are not on its
 * LRU), then wait for its move fence. 0, or the first eviction's errno.
 */
int ccmm_ttm_resource_manager_evict_all(struct ccmm_ctx *ctx, struct ccmm_ttm_resource_manager *man);

/*
 * Set the manager's move fence (man->move, a reference is taken; NULL
 * clears): allocations there wait for it (ttm_bo_add_move_fence adds it to
 * the BO's reservation as KERNEL), or with no_wait_gpu skip the place while
 * it is unsignalled.
 */
void ccmm_ttm_manager_set_move(struct ccmm_ttm_resource_manager *man, struct ccmm_dma_fence *fence);

/*
 * ttm_resource_alloc: a resource for @bo in @place's manager, charged to
 * the dmem cgroup of @ctx's task when the manager has a region; on the
 * BO's behalf but not installed (the caller moves the BO into it or frees
 * it). -ENOSPC (no room), -EAGAIN (the dmem limit: *@limit_pool, when
 * given, is the pool that hit it, to put with ccmm_dmem_pool_put), or the
 * manager's errno. lru_lock not held.
 */
int ccmm_ttm_resource_alloc(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place,
			    struct ccmm_ttm_resource *res, struct ccmm_dmem_pool **limit_pool);
/* ttm_resource_free: give @res back to its manager and uncharge it. */
void ccmm_ttm_resource_free(struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource *res);
/* ttm_resource_compatible: whether @res satisfies @placement (TEMPORARY never; FALLBACK/DESIRED per @evicting). */
bool ccmm_ttm_resource_compatible(struct ccmm_ttm_bo *bo, const struct ccmm_ttm_resource *res,
				  const struct ccmm_ttm_placement *placement, bool evicting);

/* The BO on the newest end of @type's LRU (NULL: empty), and of the pinned list; their lengths. lru_lock taken. */
struct ccmm_ttm_bo *ccmm_ttm_lru_last(struct ccmm_ttm_device *tdev, int type);
struct ccmm_ttm_bo *ccmm_ttm_pinned_last(struct ccmm_ttm_device *tdev);
size_t ccmm_ttm_lru_count(struct ccmm_ttm_device *tdev, int type);
size_t ccmm_ttm_pinned_count(struct ccmm_ttm_device *tdev);

/* ---- page pools ------------------------------------------------------------ */

#define CCMM_TTM_POOL_ORDERS (CCMM_MAX_ORDER + 1) /* NR_PAGE_ORDERS: orders 0 .. MAX_PAGE_ORDER */

/*
 * ttm_pool_shrinker_scan: give back pooled blocks from the machine's pool
 * types in turn (one block per type, round robin over every device's pools
 * and the global ones, as ttm_pool_shrink) until @nr_to_scan pages went or
 * the pools are empty. A block goes back WB, to dma_free_attrs (which
 * encrypts decrypted pages again) or the page allocator. Returns the pages
 * freed.
 */
uint64_t ccmm_ttm_pool_shrink(struct ccmm_ctx *ctx, struct ccmm_machine *m, uint64_t nr_to_scan);

/* ttm_pool_shrinker_count: pages in the machine's pools (allocated_pages). */
uint64_t ccmm_ttm_pool_count_all(struct ccmm_machine *m);

/* The TTM module parameters: page_pool_size (0: half the RAM) and pages_limit (0: half the RAM), in pages. */
void ccmm_ttm_set_page_pool_size(struct ccmm_machine *m, uint64_t pages);
void ccmm_ttm_set_pages_limit(struct ccmm_machine *m, uint64_t pages);

/*
 * Blocks of @order held by the device's own pool type for @caching, and by
 * the global pool (NUMA_NO_NODE devices without use_dma_alloc, x86) of
 * @caching (WC or UC) and @dma32; -1 when that pool type is not used
 * (ttm_pool_select_type would not pick it).
 */
long ccmm_ttm_pool_type_count(struct ccmm_ttm_device *tdev, enum ccmm_cache_mode caching, unsigned order);
long ccmm_ttm_global_pool_count(struct ccmm_machine *m, enum ccmm_cache_mode caching, bool dma32, unsigned order);

/* ---- buffer objects --------------------------------------------------- */

/*
 * ccmm_ttm_bo_init_reserved - ttm_bo_init_reserved: a BO of @size bytes
 * (rounded up to pages) and @type, with its own reservation object or
 * @resv (shared, which the caller must hold), validated into @placement
 * with @op. One reference. Without @resv the BO comes back reserved (the
 * caller unreserves); with one nothing changes hands. On failure the BO is
 * put (destroyed) and nothing is held. -EINVAL (size 0, bad placement, bad
 * type, @resv not held), -ENOMEM, -EAGAIN (a dmem limit in the kernel's
 * eviction path, see validate), or validate's errno.
 */
int ccmm_ttm_bo_init_reserved(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t size,
			      enum ccmm_ttm_bo_type type, const struct ccmm_ttm_placement *placement,
			      struct ccmm_ttm_operation_ctx *op, const char *name, struct ccmm_dma_resv *resv,
			      struct ccmm_ttm_bo **out);

/*
 * ccmm_ttm_bo_create - ttm_bo_init_validate of a device BO: init_reserved,
 * then unreserve (when the BO has its own reservation; a shared one the
 * caller holds or not, as it likes). One reference. Errors as above.
 */
int ccmm_ttm_bo_create(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t size,
		       const struct ccmm_ttm_placement *placement, const char *name, struct ccmm_dma_resv *resv,
		       struct ccmm_ttm_bo **out);

/*
 * A BO with no backing yet (the KUnit helper ttm_bo_kunit_init): its own
 * reservation or @resv, @type, nothing validated. One reference.
 */
int ccmm_ttm_bo_alloc(struct ccmm_ttm_device *tdev, uint64_t size, enum ccmm_ttm_bo_type type, const char *name,
		      struct ccmm_dma_resv *resv, struct ccmm_ttm_bo **out);

/* ttm_bo_get(): one more reference; returns @bo. */
struct ccmm_ttm_bo *ccmm_ttm_bo_get(struct ccmm_ttm_bo *bo);
/*
 * ttm_bo_put: the last reference releases the BO (ttm_bo_release): a BO
 * sharing a reservation gets its own with copies of the fences; if it is
 * busy (unsignalled fences), an sg BO, or its reservation cannot be
 * trylocked, it is resurrected as deleted: it stays on its LRU, pinning
 * dropped, until its fences signal, and is then cleaned up by the delayed
 * delete (which ccmm runs on the next TTM call after the fences signal,
 * when eviction finds it, or at ccmm_ttm_device_flush). Otherwise its
 * resource and pages go back now. @ctx may be NULL.
 */
void ccmm_ttm_bo_put(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/* flush_workqueue(bdev->wq): run every delayed delete, waiting (bounded) for the fences. Returns BOs destroyed. */
size_t ccmm_ttm_device_flush(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev);

/*
 * ttm_bo_reserve: lock the BO's reservation. @no_wait: trylock, -EBUSY if
 * held; @no_wait with @acq is -EBUSY without trying (the kernel WARNs).
 * With @acq, the ww_mutex rules of reservation_ww_class (wait-die) apply:
 * -EDEADLK (back off: unreserve everything, then reserve this one with
 * ccmm_dma_resv_lock_slow), -EALREADY (already reserved with @acq).
 */
int ccmm_ttm_bo_reserve(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool no_wait, struct ccmm_ww_acquire_ctx *acq);
/* ttm_bo_unreserve: to the tail of its manager's LRU (the pinned list if pinned), then unlock. */
void ccmm_ttm_bo_unreserve(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/*
 * ttm_bo_validate: make the BO live in one of @placement's places.
 * Reservation held (else resv_not_locked, -EINVAL). A resource compatible
 * with the placement is kept (0, nothing moved); a pinned BO that would
 * have to move: -EINVAL. Otherwise ttm_bo_alloc_resource tries every place
 * (skipping absent or unused managers, DESIRED places when evicting and
 * FALLBACK ones when not) first without, then with eviction: a manager
 * that is full (-ENOSPC) or whose dmem limit is hit (-EAGAIN: eviction
 * only within the cgroup that hit it, sparing min/low-protected usage) has
 * its LRU walked -- trylocking, then with the BO's ticket waiting for one
 * busy BO per walk (ttm_lru_walk_ticketlock) -- until the allocation
 * succeeds. A move the driver wants in two hops goes through the bounce
 * place first. Nothing fits: -ENOMEM (the kernel's -ENOSPC "for backward
 * compatibility with userspace"), also when the ticket must back off in
 * the walk. Other errnos as the kernel: -EBUSY (no_wait_gpu and a busy BO
 * or move fence), -EAGAIN (6.14: an eviction within a dmem limit that did
 * not free enough ends the walk with the charge's -EAGAIN). No places at
 * all: the backing is dropped (ttm_bo_pipeline_gutting).
 */
int ccmm_ttm_bo_validate_ctx(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement,
			     struct ccmm_ttm_operation_ctx *op);
/* ccmm_ttm_bo_validate_ctx with a driver's usual context: waits for the GPU, may evict BOs sharing bo->resv. */
int ccmm_ttm_bo_validate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement);

/* ttm_bo_mem_space: a resource for @bo in @placement (without, then with eviction), not installed. As validate. */
int ccmm_ttm_bo_mem_space(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement,
			  struct ccmm_ttm_operation_ctx *op, struct ccmm_ttm_resource *res);

/*
 * Evict @bo now, as memory pressure would (ttm_bo_evict: the driver's
 * evict_flags, multihop as needed; no places: purged). Reserved. A pinned
 * BO is not evicted: ttm_pinned_move, -EBUSY (ccmm's check: the kernel's
 * LRU walks never offer one).
 */
int ccmm_ttm_bo_evict(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/*
 * ttm_bo_evict_first: reserve and evict the least recently used BO of
 * @man (a deleted one is just cleaned up). 0, -ENOENT (the LRU is empty),
 * or the reserve's / eviction's errno.
 */
int ccmm_ttm_bo_evict_first(struct ccmm_ctx *ctx, struct ccmm_ttm_resource_manager *man,
			    struct ccmm_ttm_operation_ctx *op);

/*
 * ttm_bo_pin / ttm_bo_unpin: not evicted any more / evictable again; a
 * pinned BO goes to the pinned list at its next unreserve, the last unpin
 * puts it at the tail of its manager's LRU at once.
 * Reservation held (else resv_not_locked, -EINVAL). Unpinning an unpinned
 * BO: ttm_unpin_unpinned (the kernel's WARN), -EINVAL. Pinning charges
 * nothing: dmem charges every VRAM allocation when it is made.
 */
int ccmm_ttm_bo_pin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);
int ccmm_ttm_bo_unpin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/* Wait (bounded) for the BO's fences up to @usage: 0, -EBUSY on timeout. */
int ccmm_ttm_bo_wait(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_dma_resv_usage usage,
		     int64_t timeout_ns);

/*
 * ttm_bo_wait_ctx: wait for every fence of the BO (BOOKKEEP); with
 * no_wait_gpu only test them. 0, -EBUSY (busy, or the wait timed out).
 */
int ccmm_ttm_bo_wait_ctx(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_operation_ctx *op);

/* ttm_bo_move_null: @bo takes @new_mem as its resource, its old one freed; the pages stay. Reserved. */
void ccmm_ttm_bo_move_null(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_resource *new_mem);

/*
 * ttm_bo_move_memcpy: copy the BO's bytes into @new_mem with the CPU
 * through kernel mappings (populating the tt when the new manager uses it
 * or it was swapped out), then drop the old resource (and the tt pages
 * when the new manager does not use a tt). Reserved. 0, -ENOMEM, or a
 * mapping's errno.
 */
int ccmm_ttm_bo_move_memcpy(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_ttm_operation_ctx *op,
			    struct ccmm_ttm_resource *new_mem);

/* ttm_bo_eviction_valuable: always for a BO in SYSTEM, else if its resource intersects @place (it does). */
bool ccmm_ttm_bo_eviction_valuable(struct ccmm_ttm_bo *bo, const struct ccmm_ttm_place *place);

/* ---- tt (ttm_tt.c) ---------------------------------------------------------------- */

/*
 * ttm_tt_create: give the BO its tt if it has none: TTM_TT_FLAG_ZERO_ALLOC
 * for a device BO when @zero_alloc, EXTERNAL for an sg BO, DECRYPTED per
 * the device's decrypted rule, the caching of the BO's place. Reserved.
 * 0, -EINVAL (a bad BO type; no tt), -ENOMEM (the driver's create failed).
 */
int ccmm_ttm_tt_create(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool zero_alloc);

/*
 * ttm_tt_init / ttm_sg_tt_init: the BO's tt with @page_flags and @caching
 * and its page directory (pages and DMA addresses) for the BO's pages
 * plus @extra_pages, unpopulated. 0, -ENOMEM.
 */
int ccmm_ttm_tt_init(struct ccmm_ttm_bo *bo, uint32_t page_flags, enum ccmm_cache_mode caching, size_t extra_pages);

/* ttm_tt_destroy (ttm_tt_fini): unpopulate, drop the swap storage and the page directory; no tt after. */
void ccmm_ttm_tt_destroy(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/*
 * ttm_tt_populate: give the tt its pages from the pools and their DMA
 * addresses (ttm_pool_alloc + ttm_pool_map), swapping them in if the tt
 * was swapped out; a no-op when populated or in VRAM. The machine's page
 * count (ttm_pages_allocated, not for EXTERNAL tts) above pages_limit
 * first swaps out other BOs (ttm_global_swapout). Reserved. 0, -EINVAL (no
 * tt), -ENOMEM, -EFAULT (a dma_map_page failed, as ttm_pool_map returns;
 * the reason is in the DMA layer's counters).
 */
int ccmm_ttm_tt_populate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);
/* ttm_tt_unpopulate: the pages go back to the pools (no-op when not populated). Reserved. */
void ccmm_ttm_tt_unpopulate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/*
 * ttm_tt_swapout: copy the populated tt into backing pages (shmem's, from
 * the page allocator on the GPU's node: encrypted where RAM is), then
 * unpopulate it and set TTM_TT_FLAG_SWAPPED. Returns the pages swapped
 * out, or -ENOMEM. ttm_tt_swapin (called by populate): copy back and free
 * the backing pages, clearing SWAPPED: 0 or -ENOMEM.
 */
long ccmm_ttm_tt_swapout(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);
int ccmm_ttm_tt_swapin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/*
 * ttm_global_swapout: swap out one BO of some device (ttm_bo_swapout over
 * the use_tt managers' LRUs, trylocking): moved to SYSTEM if need be,
 * idle, unmapped, its pages copied out. Returns the pages swapped out (0:
 * nothing could be) or an errno.
 */
long ccmm_ttm_global_swapout(struct ccmm_ctx *ctx, struct ccmm_machine *m, struct ccmm_ttm_operation_ctx *op);

/* The pool order of the block that starts at tt page @i, or -1 when no block starts there / unpopulated. */
int ccmm_ttm_tt_block_order(const struct ccmm_ttm_bo *bo, size_t i);

/*
 * The physical ranges behind the BO now, with metadata (provider, P2P,
 * encrypted, cache mode, CPU-mappable). Populates the tt. Reserved.
 */
int ccmm_ttm_bo_phyr(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_phyr *out);

/* ---- protections ------------------------------------------------------- */

/*
 * ttm_io_prot: the PTE bits for a CPU mapping of @bo's current placement,
 * built on @base (the VMA's vm_page_prot, or PAGE_KERNEL): the placement's
 * cache bits; under the BACKING policy the encryption of the backing (io
 * memory decrypted, a DECRYPTED tt decrypted, other RAM as the mode's
 * default), under the VMA policy @base's encryption bit kept as it is.
 */
uint64_t ccmm_ttm_io_prot(const struct ccmm_ttm_bo *bo, uint64_t base);

/*
 * ccmm_ttm_pfn_prot - the per-PFN resolution: look at the page at @pa
 * (range kind, page state, direct-map cache mode) and build the bits a
 * PAT-style lookup would, on @base. Used by the PER_PAGE policy.
 */
uint64_t ccmm_ttm_pfn_prot(struct ccmm_machine *m, const struct ccmm_ttm_bo *bo, uint64_t pa, uint64_t base);

/* ---- CPU mappings -------------------------------------------------------- */

/*
 * ccmm_ttm_bo_mmap - map pages [@pgoff, @pgoff+@npages) of the BO into
 * @mm (a user process or the VMM), with nothing present yet: the fault
 * handler fills it. vm_flags VM_SHARED|VM_IO|VM_PFNMAP (+VM_WRITE if
 * @writable); vm_page_prot as vm_get_page_prot() gives it. The VMA holds a
 * BO reference until unmapped. -EINVAL (beyond the BO), -ENOMEM.
 */
int ccmm_ttm_bo_mmap(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, struct ccmm_mm *mm, uint64_t pgoff,
		     uint64_t npages, bool writable, struct ccmm_vma **out);

/* The vm_ops TTM's VMAs use (ttm_bo_vm_ops); dma-buf wraps them. */
extern const struct ccmm_vm_ops ccmm_ttm_vm_ops;

/* The BO a TTM VMA maps, or NULL for another VMA. */
struct ccmm_ttm_bo *ccmm_ttm_vma_bo(const struct ccmm_vma *vma);

/* ttm_bo_unmap_virtual: zap every CPU mapping of the BO (the next access faults). Returns pages zapped. */
long ccmm_ttm_bo_unmap_virtual(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

enum ccmm_ttm_kmap_type {
	CCMM_TTM_KMAP_DIRECT, /* one cached, encrypted page: the direct map (kmap) */
	CCMM_TTM_KMAP_VMAP,   /* vmap of the tt pages with ttm_io_prot(PAGE_KERNEL) */
	CCMM_TTM_KMAP_IOMAP,  /* ioremap(_wc) of VRAM: always decrypted */
};

struct ccmm_ttm_bo_kmap_obj {
	uint64_t virt;                /* kernel virtual address of the first mapped page */
	enum ccmm_ttm_kmap_type type;
	uint64_t first_page, num_pages;
	uint64_t iomap_size;          /* IOMAP: bytes mapped */
	struct ccmm_ttm_bo *bo;
};

/*
 * ttm_bo_kmap: a kernel mapping of @num_pages pages from @start_page.
 * Populates the tt. Reserved (else resv_not_locked, -EINVAL). -EINVAL
 * beyond the BO or without backing (a resource in a manager that has no
 * CPU-visible memory), -ENOMEM.
 */
int ccmm_ttm_bo_kmap(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, uint64_t start_page, uint64_t num_pages,
		     struct ccmm_ttm_bo_kmap_obj *map);
void ccmm_ttm_bo_kunmap(struct ccmm_ctx *ctx, struct ccmm_ttm_bo_kmap_obj *map);

/*
 * ccmm_ttm_bo_cpu_access_check - the CPU is about to touch [@off, @off +
 * @len) of @bo through a mapping (a user mmap, kmap/vmap). TTM never syncs
 * its pages: ttm_pool maps them DMA_BIDIRECTIONAL for as long as they are
 * populated and assumes the CPU and the GPU see the same bytes. Where the
 * mapping bounced through SWIOTLB (no use_dma_alloc under forced bouncing)
 * they do not: one dma_cpu_unsynced is recorded for the access. Nothing in
 * VRAM, unpopulated, or not bounced. Takes the reservation unless the
 * caller holds it (nothing is checked when another actor of this thread
 * holds it). Returns the number of violations recorded (0 or 1).
 */
int ccmm_ttm_bo_cpu_access_check(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, uint64_t off, uint64_t len,
				 enum ccmm_rw rw);

/* ---- the GPU's own accesses ----------------------------------------------- */

/*
 * The GPU reads or writes @len bytes at @off of its BO by DMA: TT pages
 * through their DMA addresses with ccmm_dma_device_access (the IOMMU, the
 * bounce copy, the dma-debug records), its own VRAM locally through the
 * checker. Populates the tt. Reserved. Returns 0 with the outcome in @r,
 * -EINVAL, -ENODEV (in SYSTEM or a domain without memory: not
 * GPU-visible, ttm would have to move it first), or
 * ccmm_ttm_tt_populate's errno.
 */
int ccmm_ttm_bo_gpu_access(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_rw rw, uint64_t off, void *buf,
			   size_t len, struct ccmm_result *r);

/* ---- per-machine state ------------------------------------------------------ */

/* The registration of ttm/: its init sets up the machine's TTM state (devices are made by ccmm_ttm_device_init). */
extern struct ccmm_subsys ccmm_subsys_ttm;

#pragma GCC visibility pop

#endif /* CCMM_TTM_H */
