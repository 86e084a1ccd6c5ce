/* SPDX-License-Identifier: MIT */
/*
 * iommu.h - I/O page tables: x86-style IOMMU domains and pSeries TCE
 * windows (layer 3; drivers/iommu/dma-iommu.c, arch/powerpc/kernel/iommu.c,
 * arch/powerpc/platforms/pseries/iommu.c, seed 002).
 *
 *   platform [iommu:NAME]  ->  struct ccmm_iommu_unit
 *
 *   kind = generic: one domain per device
 *     IOVA space [4 KiB, 2^48), allocated top-down below the device's mask
 *     (alloc_iova), each mapping in the domain's I/O page table
 *
 *   kind = pseries-tce: windows shared by the unit's devices
 *     bus address 0                     dma32_window            2^59
 *     |<-- default 32-bit window ------>|           ...          |<-- DDW -->
 *     |  TCE table, it_page_shift pages |                        | linear:
 *     |  entries allocated per mapping  |                        | bus = 2^59 + pa
 *     |  (iommu_alloc, next fit)        |                        | TCE page 2^ddw_page_shift
 *
 *   The dynamic DMA window (DDW, enable_ddw) is created on demand for a
 *   device with a 64-bit mask. It maps either all of RAM (the bypass of a
 *   normal guest) or, in a secure guest, only the SWIOTLB pool: the range
 *   truncated down to the window's alignment (ddw_align, 256 MiB in seed
 *   002) and rounded up to a TCE page, plus whatever is added later
 *   (coherent buffers). The default window can map the pool too, as the
 *   seed's alternative: then any device whose mask reaches the window can
 *   use it.
 *
 * Every window and domain has its own I/O page table (struct ccmm_pgtable,
 * CCMM_PGT_IOMMU, tracking: pages count their map_io), indexed by the
 * offset into the window (bus - bus_base). A TCE larger than 4 KiB is a run
 * of 4 KiB leaves (or 2 MiB ones where aligned); the window keeps the TCE
 * geometry and counts TCEs. Device accesses are routed to the window that
 * holds their bus address (ccmm_iommu_dma_access), where the checker
 * translates them; an address in no window faults (iommu_fault).
 *
 * Costs: each TCE or IOMMU entry written charges iommu_map_ns; on pSeries
 * every 512 entries (H_PUT_TCE_INDIRECT) and every removal batch charge a
 * hypercall_ns; unmapping flushes the IOTLB (tlb_flush_ns / shootdown).
 *
 * Locking: each window (and domain) has a mutex over its allocator and
 * bookkeeping; its page table locks itself. The unit's mutex guards DDW
 * creation and domain creation. Callable from any thread.
 */
#ifndef CCMM_IOMMU_H
#define CCMM_IOMMU_H

#include "check/check.h"
#include "mmu/mmu.h"
#include "platform/platform.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/*
 * The modeled costs (X(name, default, source): ns per occurrence, as in
 * platform/costs.h) and the event counters (X(name, help)) of this
 * subsystem, declared once; a platform's [cost] section overrides a cost
 * by name.
 */
#define CCMM_IOMMU_COSTS(X) \
	X(iommu_map_ns, 300, "map one IOMMU/TCE entry incl. the hypercall-free path (estimate)")
#define CCMM_IOMMU_COUNTERS(X) \
	X(tce_entries, "IOMMU / TCE entries written")

CCMM_COST_BLOCK_DECLARE(iommu, CCMM_IOMMU_COSTS, CCMM_IOMMU_COUNTERS)

#define CCMM_DDW_BUS_BASE (1ULL << 59) /* "a full linear mapping of all guest memory at DMA address 1<<59" (seed 002) */
#define CCMM_IOVA_LIMIT (1ULL << 48)   /* generic domains: 4-level I/O page tables */

/* One allocated run of I/O space (entries of the window's page size). */
struct ccmm_iova_run {
	uint64_t start, len; /* bytes, window offsets */
};

struct ccmm_iommu_unit;

struct ccmm_iommu_window {
	char name[CCMM_NAME_MAX];
	struct ccmm_iommu_unit *unit;
	uint64_t bus_base;          /* first bus address */
	uint64_t size;              /* bytes of bus space */
	unsigned page_shift;        /* TCE / I/O page size */
	bool linear;                /* DDW: bus = bus_base + pa for what is mapped */
	bool topdown;               /* generic domains allocate from the top, like alloc_iova */
	struct ccmm_pgtable *pgt;   /* offset -> pa */
	pthread_mutex_t lock;
	struct ccmm_iova_run *runs; /* allocated runs, sorted by start */
	size_t nr_runs, cap_runs;
	uint64_t hint;              /* next-fit start (bottom-up windows) */
	uint64_t entries;           /* entries mapped now */
	uint64_t entries_hiwater;
	uint64_t entries_written;   /* entries ever written */
	/* linear windows: reference counts of entries added after creation */
	struct {
		uint64_t index;
		uint32_t ref;
	} *extra;
	size_t nr_extra, cap_extra;
	uint64_t fixed_lo, fixed_hi; /* the range mapped at creation (pa), [lo, hi) */
};

struct ccmm_iommu_unit {
	struct ccmm_machine *m;
	int index;
	const struct ccmm_iommu_desc *desc;
	pthread_mutex_t lock;
	struct ccmm_iommu_window *dma32;    /* pSeries default window */
	struct ccmm_iommu_window *ddw;      /* pSeries dynamic window, once created */
	struct ccmm_iommu_window **domains; /* generic: per device index, created on demand */
	struct ccmm_pgtable *nowhere;       /* empty: bus addresses in no window fault here */
};

struct ccmm_iommu {
	size_t nr_units;
	struct ccmm_iommu_unit *units;
};

/*
 * The registration of iommu/. Its init makes a unit per platform IOMMU and
 * the pSeries default windows (0 or -ENOMEM). Its figures for reports
 * (.stats): a group "iommu.WINDOW" per window or domain in use, with
 * bus_base, bytes, page_shift, entries (now), entries_hiwater,
 * entries_written and, for a DDW, mapped_lo / mapped_hi.
 */
extern struct ccmm_subsys ccmm_subsys_iommu;

/* The unit a platform device sits behind, or NULL (direct DMA). */
struct ccmm_iommu_unit *ccmm_iommu_unit_of(struct ccmm_machine *m, int device);

/*
 * ccmm_iommu_domain - the generic unit's domain for @device, created on
 * first use (iommu_get_dma_domain). NULL for a pSeries unit or on -ENOMEM.
 */
struct ccmm_iommu_window *ccmm_iommu_domain(struct ccmm_iommu_unit *u, int device);

/*
 * ccmm_iommu_enable_ddw - create the pSeries dynamic window (enable_ddw)
 * if the unit has one and it does not exist yet, mapping [@lo, @hi) of
 * physical memory linearly: @lo truncated down to ddw_align and to a TCE
 * page, @hi rounded up to a TCE page; @lo == @hi maps every RAM range (the
 * bypass of a normal guest). Only the first call maps; later calls return
 * the existing window. The window's size is ddw_size, or the top of RAM
 * rounded up to a power of two. Returns 0 with the window in *@out,
 * -ENODEV (no DDW on this unit), -ENOMEM, -EINVAL.
 */
int ccmm_iommu_enable_ddw(struct ccmm_ctx *ctx, struct ccmm_iommu_unit *u, uint64_t lo, uint64_t hi,
			  struct ccmm_iommu_window **out);

/*
 * ccmm_iommu_alloc - allocate @size bytes (rounded up to entries) of the
 * window's I/O space whose last bus address is at most @limit (the
 * device's mask), aligned to @align bytes (0: one entry): next fit from the
 * hint upwards with one wrap (iommu_range_alloc), or from @limit downwards
 * for top-down domains (alloc_iova). Returns 0 with the window offset in
 * *@off; -ERANGE when the window starts above @limit (no address the
 * device can use); -ENOSPC when no room is left below it.
 */
int ccmm_iommu_alloc(struct ccmm_iommu_window *w, uint64_t size, uint64_t align, uint64_t limit, uint64_t *off);

/* Give back a run from ccmm_iommu_alloc (exact start and size). 0 or -EINVAL. */
int ccmm_iommu_free(struct ccmm_iommu_window *w, uint64_t off, uint64_t size);

/*
 * ccmm_iommu_map - write the entries for [@off, @off + @size) of window @w
 * (entry aligned) to translate to [@pa, ...) (entry aligned), writable by
 * the device unless @read_only (TCE_PCI_READ only, for TO_DEVICE). Charges
 * and counts (tce_entries). Returns 0, -EINVAL, -EEXIST (already mapped),
 * -ENOMEM.
 */
int ccmm_iommu_map(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t off, uint64_t pa, uint64_t size,
		   bool read_only);

/* Remove the entries of [@off, @off + @size) and flush the IOTLB. Returns entries removed or -EINVAL. */
long ccmm_iommu_unmap(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t off, uint64_t size);

/*
 * ccmm_iommu_linear_get / _put - make [@pa, @pa + @size) reachable through
 * a linear window (a coherent buffer in a secure guest's bounce-only DDW):
 * entries not mapped at creation are added, reference counted, and removed
 * by the last put. Returns 0 or a negative errno from the mapping.
 */
int ccmm_iommu_linear_get(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t pa, uint64_t size);
void ccmm_iommu_linear_put(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t pa, uint64_t size);

/* Whether the linear window @w maps every entry of [@pa, @pa + @size). */
bool ccmm_iommu_linear_covers(struct ccmm_iommu_window *w, uint64_t pa, uint64_t size);

/*
 * ccmm_iommu_dma_access - a device access at bus address @bus through unit
 * @u: the window (or @device's domain) holding @bus translates it, through
 * the checker (iommu_fault when it has no entry or the entry is read-only
 * for a write). Arguments and return as ccmm_dma_access().
 */
int ccmm_iommu_dma_access(struct ccmm_ctx *ctx, struct ccmm_iommu_unit *u, int device, enum ccmm_rw rw, uint64_t bus,
			  void *buf, size_t len, struct ccmm_result *r);

struct ccmm_iommu_window_stats {
	char name[CCMM_NAME_MAX];
	uint64_t bus_base, size;
	unsigned page_shift;
	uint64_t entries, entries_hiwater, entries_written;
	uint64_t fixed_lo, fixed_hi;
};

/* A consistent snapshot of window @w's figures (takes its lock). */
void ccmm_iommu_window_stats(struct ccmm_iommu_window *w, struct ccmm_iommu_window_stats *out);

#pragma GCC visibility pop

#endif /* CCMM_IOMMU_H */
