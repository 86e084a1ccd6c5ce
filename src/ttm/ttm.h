/* SPDX-License-Identifier: MIT */
/*
 * ttm.h - TTM-style buffer objects for a GPU (layer 3, seed 000).
 *
 *   ttm_device (one per GPU)
 *     managers   SYSTEM  pages, unlimited, not GPU-visible
 *                TT      pages bound into the GART aperture (tt_size)
 *                VRAM    a range of the GPU's BAR (first-fit), io memory
 *                each with an LRU of its unpinned BOs
 *     pools      page pools per caching mode (WB / WC / UC) x decrypted
 *                (ttm_pool): pages flipped to WC/UC (set_memory_wc) stay
 *                flipped in the pool, because flipping is slow (seed 000,
 *                patch 4). With use_dma_alloc the pages come from
 *                dma_alloc_attrs -- the DMA API decrypts them where the
 *                GPU's DMA must be unencrypted and gives their DMA address
 *                -- and go back with dma_free_attrs; without it they come
 *                from the page allocator and ttm_pool_map maps each with
 *                dma_map_page(DMA_BIDIRECTIONAL) while the tt is populated
 *     dmem       a cgroup-style limit on pinned VRAM
 *     dma        the GPU's struct device: bound for DMA at ttm_device_init
 *                (ccmm_dma_bind: probe + the platform's masks, or the
 *                binding a driver already made)
 *
 *   ttm_bo  resv (dma_resv) -- resource {mem_type, caching, start}
 *                           -- tt {pages[], dma_address[], caching, DECRYPTED}
 *           validate(placement): first place that fits, evicting LRU
 *           victims (waiting for their fences) when none does; a move
 *           notifies (dma-buf move_notify), zaps every CPU mapping, and
 *           copies the bytes through kernel mappings (ttm_bo_move_memcpy)
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
 *   policy   BACKING (default, today's TTM) or VMA (before the 2019 patch:
 *            encryption from vma->vm_page_prot / PAGE_KERNEL)
 *   resolve  PER_BO (protection computed once per placement, the
 *            io_mapping way Daniel describes) or PER_PAGE (looked up per
 *            PFN from the page's state and the direct map, as the PAT
 *            lookup in vmf_insert_pfn does)
 *
 * DMA addresses come from the DMA API (dma.h), as in the kernel: a tt's
 * pages have the address dma_alloc_attrs gave them or the one
 * dma_map_page gave them at populate (unmapped at unpopulate), and the
 * GPU's DMA to them goes through ccmm_dma_device_access (its IOMMU, the
 * dma-debug records). TTM_TT_FLAG_DECRYPTED (seed 000) is set on a tt whose
 * pages the DMA API decrypted (use_dma_alloc where force_dma_unencrypted
 * holds for the GPU); it drives the CPU page protection. Without
 * use_dma_alloc, under forced bouncing (a CC guest) the mapping is a
 * long-lived bounce: the GPU reads and writes the SWIOTLB copy and TTM never
 * syncs, so CPU accesses through the BO's mappings see stale data -- TTM
 * records dma_cpu_unsynced for them (ccmm_ttm_bo_cpu_access_check, moves).
 * The kernel's drivers avoid it by asking for use_dma_alloc when memory is
 * encrypted (drm_need_swiotlb). The GPU's access to its own VRAM is local.
 * dma-buf attachments are mapped by dma-buf/ through the DMA API.
 *
 * Locking: a BO's state changes under its reservation (resv) lock; the
 * device's lru_lock protects the managers, LRUs and usage; a BO's map_lock
 * (the address space's i_mmap lock) protects its VMA list; pools have their
 * own mutex. Order: mmap_lock, resv (ww_mutex, several with an acquire
 * context), lru_lock / map_lock, page-table lock, chunk lock. Eviction only
 * trylocks other BOs' reservations.
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
	X(ttm_moves, "TTM buffer objects moved between placements (a real copy)") \
	X(ttm_evictions, "TTM buffer objects evicted under memory pressure") \
	X(ttm_faults, "TTM fault-handler calls that inserted PTEs") \
	X(ttm_pool_hits, "TTM pool pages handed out already flipped (WC/UC, decrypted)") \
	X(ttm_pool_misses, "TTM pool pages taken from the page allocator and flipped")

CCMM_COST_BLOCK_DECLARE(ttm, CCMM_TTM_COSTS, CCMM_TTM_COUNTERS)

/* The rules of this subsystem: X(name, seed thread, summary). */
#define CCMM_TTM_RULES(X) \
	X(ttm_pinned_move, "000", "a pinned buffer object was asked to move to another placement") \
	X(ttm_unpin_unpinned, "000", "ttm_bo_unpin() on a buffer object that is not pinned")

CCMM_RULES_DECLARE(CCMM_TTM_RULES)

enum ccmm_ttm_mem_type {
	CCMM_TTM_PL_SYSTEM,
	CCMM_TTM_PL_TT,
	CCMM_TTM_PL_VRAM,
	CCMM_TTM_PL_NR
};

/* "system", "tt", "vram". */
const char *ccmm_ttm_mem_type_name(enum ccmm_ttm_mem_type t);
/* "system", "tt" (also "gtt"), "vram"; -1 when unknown. */
int ccmm_ttm_mem_type_parse(const char *s);

/* One acceptable place: a memory type and how the CPU maps it (ttm_caching). */
struct ccmm_ttm_place {
	enum ccmm_ttm_mem_type mem_type;
	enum ccmm_cache_mode caching;
};

#define CCMM_TTM_MAX_PLACES 3

struct ccmm_ttm_placement {
	unsigned nr;
	struct ccmm_ttm_place place[CCMM_TTM_MAX_PLACES]; /* in order of preference */
};

enum ccmm_ttm_prot_policy {
	CCMM_TTM_PROT_BACKING, /* from the placement and the backing memory */
	CCMM_TTM_PROT_VMA,     /* legacy (2019): encryption from the VMA / PAGE_KERNEL */
};

enum ccmm_ttm_prot_resolve {
	CCMM_TTM_RESOLVE_PER_BO,   /* once per placement */
	CCMM_TTM_RESOLVE_PER_PAGE, /* per PFN, from page state and the direct map */
};

#define CCMM_TTM_NUM_PREFAULT 16

struct ccmm_ttm_params {
	int dev;                          /* the GPU: platform device index */
	unsigned vram_bar;                /* its VRAM BAR */
	uint64_t vram_size;               /* bytes of that BAR managed as VRAM; 0: all */
	uint64_t tt_size;                 /* bytes of GART aperture; 0: 256 MiB */
	enum ccmm_cache_mode vram_caching; /* CPU mappings of VRAM (WC) */
	enum ccmm_cache_mode tt_caching;  /* default caching of TT placements (WC) */
	enum ccmm_ttm_prot_policy policy;
	enum ccmm_ttm_prot_resolve resolve;
	unsigned prefault;                /* PTEs a fault inserts at most; 0: 16 */
	bool use_dma_alloc;               /* TT pages from dma_alloc_attrs: decrypted where DMA must be */
	uint64_t pool_pages;              /* pages each pool keeps; 0: 1024 */
	uint64_t dmem_max;                /* bytes of pinned VRAM allowed; 0: unlimited */
	bool dma_no_filter;               /* TDX: bind the GPU even outside the allow-list (the override) */
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

struct ccmm_ttm_device;

struct ccmm_ttm_tt {
	uint64_t *pages;                  /* physical address of each page, when populated */
	uint64_t *dma_address;            /* the GPU's DMA address of each page, when populated */
	size_t num_pages;
	bool populated;
	enum ccmm_cache_mode caching;
	bool decrypted;                   /* TTM_TT_FLAG_DECRYPTED: the DMA API decrypted the pages */
	bool bounced;                     /* streaming-mapped through SWIOTLB (no use_dma_alloc, forced bouncing) */
};

struct ccmm_ttm_resource {
	enum ccmm_ttm_mem_type mem_type;
	enum ccmm_cache_mode caching;
	uint64_t start;                   /* VRAM: byte offset in the BAR */
	bool is_iomem;
	uint64_t bus_base;                /* VRAM: physical address of the first byte */
};

struct ccmm_ttm_bo {
	struct ccmm_ttm_device *tdev;
	char name[48];
	uint64_t size;
	size_t num_pages;
	struct ccmm_dma_resv *resv;       /* &base_resv, or one shared with other BOs */
	struct ccmm_dma_resv base_resv;
	struct ccmm_ttm_resource res;
	bool has_res;
	struct ccmm_ttm_tt tt;
	unsigned pin_count;
	uint64_t charged;                 /* dmem bytes charged for the pin */
	struct ccmm_lru_node lru;
	atomic_int refcount;
	pthread_mutex_t map_lock;         /* the VMAs mapping this BO */
	struct ccmm_vma **vmas;
	size_t nr_vmas, cap_vmas;
	uint64_t fault_prot;              /* resolved protection for the current placement ... */
	uint64_t fault_prot_base;         /* ... built on this vm_page_prot ... */
	int fault_prot_policy;            /* ... under this policy */
	bool prot_valid;
	/* notified with the resv held before the backing changes (dma-buf exporters) */
	void (*move_notify)(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, void *priv);
	void *move_priv;
	uint64_t moves, evictions, faults, fault_retries, ptes_inserted;
};

/* Manager and pool figures, for reports and tests. */
struct ccmm_ttm_stats {
	uint64_t size[CCMM_TTM_PL_NR];    /* bytes managed (SYSTEM: 0, unlimited) */
	uint64_t usage[CCMM_TTM_PL_NR];   /* bytes allocated */
	uint64_t lru[CCMM_TTM_PL_NR];     /* BOs on each LRU */
	uint64_t evictions, moves, bytes_copied;
	uint64_t pool_hits, pool_misses, pool_conversions, pool_restores, pool_pages;
	uint64_t dmem_current, dmem_max, dmem_failures;
};

/*
 * ccmm_ttm_device_init - a TTM device for GPU @p->dev on @ctx's machine,
 * registered there (ccmm_ttm_device_find) and torn down at shutdown. The
 * GPU must be a bound DMA device, as its driver's probe leaves it: it is
 * bound here with ccmm_dma_bind (probe, then the platform's masks), or the
 * binding a driver already made is shared. -EINVAL: no such device, no such
 * BAR, or VRAM larger than it; -EEXIST: the GPU has one already; -EPERM:
 * the TDX allow-list refused the GPU (device_not_allowed; see
 * dma_no_filter); -EIO (masks); -ENOMEM.
 */
int ccmm_ttm_device_init(struct ccmm_ctx *ctx, const struct ccmm_ttm_params *p, struct ccmm_ttm_device **out);

/* The GPU's DMA device (bound). */
struct ccmm_dma_dev *ccmm_ttm_device_dma(const struct ccmm_ttm_device *tdev);

/* The device of GPU @dev, or NULL. */
struct ccmm_ttm_device *ccmm_ttm_device_find(struct ccmm_machine *m, int dev);

/* The device's parameters (read-only after init except the policy knobs). */
const struct ccmm_ttm_params *ccmm_ttm_device_params(const struct ccmm_ttm_device *tdev);
/* Switch the protection policy or resolution at run time (the next faults use it). */
void ccmm_ttm_device_set_policy(struct ccmm_ttm_device *tdev, enum ccmm_ttm_prot_policy policy,
				enum ccmm_ttm_prot_resolve resolve);
void ccmm_ttm_device_stats(struct ccmm_ttm_device *tdev, struct ccmm_ttm_stats *s);

/*
 * Give back up to @pages pooled pages (restored to WB, then to
 * dma_free_attrs -- whose own pool keeps decrypted pages or re-encrypts
 * them -- or the page allocator): the pool shrinker. Returns the number freed.
 */
uint64_t ccmm_ttm_pool_shrink(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t pages);

/* ---- buffer objects --------------------------------------------------- */

/*
 * ccmm_ttm_bo_create - a BO of @size bytes (rounded up to pages), with its
 * own reservation object or @resv (shared), validated into @placement
 * (ttm_bo_init_reserved + validate). One reference. -EINVAL (size 0, bad
 * placement), -ENOMEM (no place fits even after eviction, or no memory).
 */
int ccmm_ttm_bo_create(struct ccmm_ctx *ctx, struct ccmm_ttm_device *tdev, uint64_t size,
		       const struct ccmm_ttm_placement *placement, const char *name, struct ccmm_dma_resv *resv,
		       struct ccmm_ttm_bo **out);

/* ttm_bo_get(): one more reference; returns @bo. */
struct ccmm_ttm_bo *ccmm_ttm_bo_get(struct ccmm_ttm_bo *bo);
/* The last put frees the backing (pages back to the pool, the VRAM range). @ctx may be NULL. */
void ccmm_ttm_bo_put(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/*
 * ttm_bo_reserve: lock the BO's reservation. @no_wait: trylock, -EBUSY if
 * held; @no_wait with @acq is -EBUSY without trying (the kernel WARNs).
 * With @acq, the ww_mutex rules of reservation_ww_class (wait-die) apply:
 * -EDEADLK (back off: unreserve everything, then reserve this one with
 * ccmm_dma_resv_lock_slow), -EALREADY (already reserved with @acq).
 */
int ccmm_ttm_bo_reserve(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, bool no_wait, struct ccmm_ww_acquire_ctx *acq);
void ccmm_ttm_bo_unreserve(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/*
 * ttm_bo_validate: make the BO live in one of @placement's places (first
 * that fits; a place of the current memory type and caching keeps it).
 * Reservation held (else resv_not_locked, -EINVAL). A pinned BO that would
 * have to move: ttm_pinned_move, -EBUSY. Eviction trylocks the least
 * recently used BOs; when the BO is reserved with a ticket (an acquire
 * context) and none can be trylocked, it waits for one with the ticket, as
 * the kernel's ttm_lru_walk_ticketlock, and if the ticket must back off
 * there (-EDEADLK in the walk) the whole validate fails with -ENOMEM, as
 * in 6.12. -ENOMEM also when nothing fits after evicting every evictable
 * BO (the kernel's -ENOSPC "for backward compatibility with userspace").
 */
int ccmm_ttm_bo_validate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, const struct ccmm_ttm_placement *placement);

/* Evict @bo now (as memory pressure would): to TT, else SYSTEM, from VRAM; to SYSTEM from TT. Reserved. */
int ccmm_ttm_bo_evict(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/*
 * ttm_bo_pin / ttm_bo_unpin: off the LRU, never moved or evicted. Pinning
 * a VRAM BO charges its size to the device's dmem limit: -EAGAIN when that
 * is exhausted (nothing pinned). Unpinning an unpinned BO records
 * ttm_unpin_unpinned, -EINVAL. Reservation held.
 */
int ccmm_ttm_bo_pin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);
int ccmm_ttm_bo_unpin(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

/* Wait (bounded) for the BO's fences up to @usage: 0, -EBUSY on timeout. */
int ccmm_ttm_bo_wait(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_dma_resv_usage usage,
		     int64_t timeout_ns);

/*
 * ttm_tt_populate: give the tt its pages from the pools and their DMA
 * addresses (ttm_pool_alloc + ttm_pool_map); a no-op in VRAM or when
 * populated. DECRYPTED is set when the DMA API decrypts the GPU's coherent
 * pages. Reserved. 0, -ENOMEM, -EFAULT (a dma_map_page failed, as
 * ttm_pool_map returns; the reason is in the DMA layer's counters).
 */
int ccmm_ttm_tt_populate(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo);

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
 * beyond the BO, -ENOMEM.
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
 * -EINVAL, -ENODEV (in SYSTEM: not GPU-visible, ttm would have to move it
 * first), or ccmm_ttm_tt_populate's errno.
 */
int ccmm_ttm_bo_gpu_access(struct ccmm_ctx *ctx, struct ccmm_ttm_bo *bo, enum ccmm_rw rw, uint64_t off, void *buf,
			   size_t len, struct ccmm_result *r);

/* ---- dmem ------------------------------------------------------------------ */

/* Write the dmem cgroup files for the device (dmem.capacity, dmem.current, dmem.max) in cgroup v2 format. */
void ccmm_ttm_dmem_show(struct ccmm_ttm_device *tdev, FILE *out);
/* Set the limit on pinned VRAM (0: max). Lower than what is charged: -EBUSY. */
int ccmm_ttm_dmem_set_max(struct ccmm_ttm_device *tdev, uint64_t max);

/* ---- per-machine state ------------------------------------------------------ */

/* The registration of ttm/: its init sets up the machine's TTM state (devices are made by ccmm_ttm_device_init). */
extern struct ccmm_subsys ccmm_subsys_ttm;

#pragma GCC visibility pop

#endif /* CCMM_TTM_H */
