/* SPDX-License-Identifier: MIT */
/*
 * swiotlb.h - the software IO TLB: bounce buffers in shared memory
 * (layer 3; kernel/dma/swiotlb.c).
 *
 *   struct ccmm_io_tlb_mem: one physically contiguous pool [start, end),
 *   made shared/decrypted in a confidential guest
 *
 *   |<--------------- area 0 --------------->|<------ area 1 ------>| ...
 *   | segment 0       | segment 1       | ...| segment k       | ...
 *   | 128 slots       | 128 slots       |    |                 |
 *   | [2K][2K]...[2K] |                 |    |                 |
 *     ^ slot: orig_addr  (the bounced buffer, per slot)
 *             alloc_size (bytes of the mapping from this slot on)
 *             pad_slots  (alignment padding before the first used slot)
 *     per segment: a used-slot bitmap (2 x 64 bits); the kernel's per-slot
 *     `list` (free slots from a slot to the next slot in use or the
 *     segment's end, 0 = in use) is read from it (ccmm_swiotlb_slot_list)
 *
 *   per area: a spinlock, its used count and a next-fit cursor (index);
 *   nareas is a power of two (one per CPU by default), each area a whole
 *   number of segments. A mapping never crosses a segment, so the largest
 *   is 128 slots = 256 KiB (swiotlb_max_mapping_size).
 *
 * Mapping (swiotlb_tbl_map_single): the search starts in the calling CPU's
 * area at its cursor and walks the area, wrapping at its end, then tries
 * the other areas in turn. A run of slots qualifies when its first slot
 * satisfies alloc_align_mask (and, for a mapping of at least a page with no
 * other constraint, page alignment), keeps the bits of the device's
 * min_align_mask of the original address (sub-slot bits as an offset into
 * the first slot, higher bits through the choice of slot), does not cross
 * the device's segment boundary (dma_get_seg_boundary), and has enough free
 * slots in its segment. The cursor then moves past the run.
 *
 * The bounce rules: at map time the original is always copied into the
 * bounce buffer, whatever the direction (and whatever the attributes, as
 * the kernel does since 6.0), so that a device that writes only part of a
 * FROM_DEVICE buffer cannot expose stale pool contents; unmap copies back
 * for FROM_DEVICE and BIDIRECTIONAL (unless DMA_ATTR_SKIP_CPU_SYNC); sync_for_device copies to the buffer for
 * TO_DEVICE and BIDIRECTIONAL, sync_for_cpu copies back for FROM_DEVICE and
 * BIDIRECTIONAL. Copies are real: the CPU reads the original through the
 * (private) direct map and writes the pool through its shared mapping, both
 * through the access checker, each charged at copy bandwidth.
 *
 * Sizing (ccmm_swiotlb_plan): the platform's swiotlb_size if given; else
 * SEV, SEV-SNP and TDX guests size the pool as mem_encrypt_setup_arch()
 * does, 6% of RAM clamped to [64 MiB, 1 GiB]; pSeries secure guests and
 * hosts use the 64 MiB default. Slots are rounded to whole segments and,
 * once the number of areas is known, to a power of two of at least 128
 * slots per area (swiotlb_adjust_nareas). x86 allocates the pool low
 * (memblock_alloc_low: below 4 GiB); a pSeries secure guest anywhere
 * (svm_swiotlb_init: top-down); a platform recorded from a real kernel
 * (swiotlb_base) exactly where that kernel had it. The pool exists in
 * confidential guests (bouncing is forced), on SME hosts, on hosts with
 * RAM above 4 GiB and no IOMMU, with swiotlb=force (the platform's
 * swiotlb_force: every streaming mapping bounces, whatever the mode, as
 * swiotlb_force_bounce makes io_tlb_default_mem.force_bounce), and
 * whenever the platform sizes it.
 *
 * Counters in the kernel's debugfs names and formats (ccmm_swiotlb_debugfs_read):
 * io_tlb_nslabs, io_tlb_used, io_tlb_used_hiwater. "Pool full" is -ENOMEM
 * to the caller and counted.
 *
 * Locking: each area's spinlock protects its slots, cursor and used count;
 * the totals are atomics; sharing the pool takes the pool's attr lock.
 * Callable from any thread.
 */
#ifndef CCMM_SWIOTLB_H
#define CCMM_SWIOTLB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "platform/platform.h"
#include "platform/subsys.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/*
 * The modeled costs (X(name, default, source): ns per occurrence, as in
 * platform/costs.h) and the event counters (X(name, help)) of this
 * subsystem, declared once; a platform's [cost] section overrides a cost
 * by name.
 */
#define CCMM_SWIOTLB_COSTS(X) \
	X(swiotlb_map_ns, 200, \
	  "swiotlb_tbl_map_single without the copy: area lock, next-fit slot search and " \
	  "slot bookkeeping, ~100-300 ns on a server core (estimate)") \
	X(swiotlb_unmap_ns, 100, \
	  "swiotlb_release_slots without the copy: area lock and free-list merge (estimate)") \
	X(swiotlb_bounce_mbps, 10000, \
	  "bandwidth of swiotlb_bounce's copies between the buffer and the shared pool, MB/s: " \
	  "a single-core memcpy as copy_mbps (estimate); a cost line of its own so reports " \
	  "show bounce copies apart from the data's own copies")
#define CCMM_SWIOTLB_COUNTERS(X) \
	X(swiotlb_maps, "streaming mappings bounced through SWIOTLB") \
	X(swiotlb_slots, "SWIOTLB 2 KiB slots claimed") \
	X(swiotlb_bounce_bytes, "bytes copied into or out of SWIOTLB bounce buffers") \
	X(dma_map_fail_pool_full, "mappings refused: the SWIOTLB pool has no room")

CCMM_COST_BLOCK_DECLARE(swiotlb, CCMM_SWIOTLB_COSTS, CCMM_SWIOTLB_COUNTERS)

#define CCMM_IO_TLB_SHIFT 11                               /* a slot is 2 KiB */
#define CCMM_IO_TLB_SIZE (1u << CCMM_IO_TLB_SHIFT)
#define CCMM_IO_TLB_SEGSIZE 128                            /* slots per segment */
#define CCMM_IO_TLB_DEFAULT_SIZE (64ULL << 20)             /* 64 MiB */
#define CCMM_IO_TLB_MIN_SLABS ((1u << 20) >> CCMM_IO_TLB_SHIFT) /* 1 MiB: the smallest pool worth booting with */

/* enum dma_data_direction, with the kernel's values. */
enum ccmm_dma_dir {
	CCMM_DMA_BIDIRECTIONAL = 0,
	CCMM_DMA_TO_DEVICE = 1,
	CCMM_DMA_FROM_DEVICE = 2,
	CCMM_DMA_NONE = 3,
};

/* "bidirectional", "to_device", "from_device", "none" */
const char *ccmm_dma_dir_name(enum ccmm_dma_dir dir);
extern const char *const ccmm_dma_dir_names[];

/* DMA attributes (the kernel's bit values). */
#define CCMM_DMA_ATTR_SKIP_CPU_SYNC (1UL << 5) /* no copy back at unmap (the copy in at map stays) */
#define CCMM_DMA_ATTR_NO_WARN       (1UL << 8)

/* What the search needs to know of the device. */
struct ccmm_swiotlb_dev {
	uint64_t seg_boundary_mask; /* dma_get_seg_boundary(): a mapping may not cross it (2^n - 1) */
	uint32_t min_align_mask;    /* dma_get_min_align_mask(): address bits the bounce keeps */
	uint64_t dma_offset;        /* DMA address of a pool byte minus its physical address (mod 2^64) */
	int cpu;                    /* the CPU mapping: its area is searched first */
};

/*
 * A slot, as the kernel's struct io_tlb_slot less its `list` count: that
 * is the free run from the slot to the next slot in use or the segment's
 * end (0 when in use), which the kernel keeps by renumbering the free run
 * before every claim and release; ccmm keeps a used-slot bitmap per
 * segment instead and reads the same count from it
 * (ccmm_swiotlb_slot_list).
 */
struct ccmm_io_tlb_slot {
	uint64_t orig_addr;  /* physical address of the original for this slot; UINT64_MAX: none */
	uint32_t alloc_size; /* bytes of the allocation from this slot to its end */
	uint8_t pad_slots;   /* padding slots before the first used one (valid there) */
	uint8_t head;        /* the first used slot of a mapping (where unmap must point) */
};

/*
 * One area: its lock, its slots' accounting and its share of the pool's
 * event counts (ccmm's own; ccmm_swiotlb_stats sums them), so that CPUs on
 * different areas write different cache lines.
 */
struct ccmm_io_tlb_area {
	struct ccmm_lock lock; /* a spinlock, as the kernel's io_tlb_area.lock */
	uint64_t used;  /* slots in use in this area */
	uint32_t index; /* next-fit cursor, relative to the area */
	atomic_uint_fast64_t maps, unmaps; /* written under the lock (plain stores), read without it */
	atomic_uint_fast64_t full, bounced_bytes; /* added to without the lock */
} __attribute__((aligned(64)));

struct ccmm_io_tlb_mem {
	struct ccmm_machine *m;
	char name[CCMM_NAME_MAX];
	uint64_t start, end;        /* physical, [start, end) */
	uint64_t nslabs;            /* io_tlb_nslabs */
	unsigned nareas;
	uint64_t area_nslabs;
	unsigned area_shift;        /* log2(area_nslabs) when a power of two (every planned pool), else 0 */
	bool force_bounce;          /* every streaming mapping bounces (confidential guest) */
	struct ccmm_io_tlb_slot *slots;
	/*
	 * Bit i of used_map (word i / 64): slot i is in use (the kernel's
	 * list == 0). Two words per 128-slot segment; a segment's words
	 * belong to one area and change only under its lock. Atomic (relaxed:
	 * plain loads and stores) because a word holds 64 slots: a check of
	 * one's own live mapping without the lock (unmap, sync) reads the
	 * word while another CPU claims or releases its neighbours.
	 */
	_Atomic(uint64_t) *used_map;
	struct ccmm_io_tlb_area *areas;
	/*
	 * The kernel's debugfs accounting (CONFIG_DEBUG_FS, inc_used_and_hiwater):
	 * pool-wide, so every map and unmap on any CPU writes it; a cache line
	 * of its own (the padding), away from the fields above that every
	 * operation reads.
	 */
	char pad0[64];
	atomic_uint_fast64_t total_used;   /* io_tlb_used */
	atomic_uint_fast64_t used_hiwater; /* io_tlb_used_hiwater */
	char pad1[64];
	/* sharing the pool with the host (swiotlb_update_mem_attributes) */
	pthread_mutex_t attr_lock;
	bool share;                 /* the pool must be shared/decrypted before use */
	bool shared;                /* done */
	int share_err;              /* what sharing returned, once tried */
	atomic_bool share_tried;    /* share_err is final: maps need not take attr_lock */
	uint64_t share_pages;       /* pages converted */
	uint64_t share_ns;          /* modeled time the conversion took (at boot) */
};

/* The kernel's choice of pool for a platform. */
struct ccmm_swiotlb_plan {
	bool active;        /* a pool exists */
	bool force_bounce;  /* confidential guest or swiotlb=force: every streaming mapping bounces */
	bool low;           /* allocated below 4 GiB (x86), else anywhere top-down */
	bool share;         /* made shared/decrypted (guests, SME) */
	uint64_t nslabs;
	unsigned nareas;
	const char *why;    /* one line: where the size came from */
};

/*
 * ccmm_swiotlb_plan - what the kernel would set up for @p (see the header
 * comment). Pure. Returns 0, or -EINVAL when the platform's swiotlb_size is
 * below one segment (256 KiB).
 */
int ccmm_swiotlb_plan(const struct ccmm_platform *p, struct ccmm_swiotlb_plan *out);

/*
 * The registration of swiotlb/. Its init plans, reserves the pool with
 * ccmm_memblock_alloc (halving down to 1 MiB when memory is short, as
 * swiotlb_init_remap does; at exactly the platform's swiotlb_base when it
 * gives one, -EBUSY when that range is not free RAM) and sets up the
 * machine's default io_tlb_mem.
 * Sharing the pool with the host is deferred to its first use
 * (ccmm_swiotlb_share), charged to the pool's own boot context. Init
 * returns 0 (also when no pool is needed), -ENOMEM or -EBUSY.
 *
 * Its figures for reports (.stats): group "swiotlb" with io_tlb_nslabs,
 * io_tlb_used, io_tlb_used_hiwater, nareas, pool_base, pool_bytes, maps,
 * unmaps, full, bounced_bytes, shared_pages, share_ns. Nothing without a pool.
 */
extern struct ccmm_subsys ccmm_subsys_swiotlb;

/* The machine's default pool, or NULL when it has none. */
struct ccmm_io_tlb_mem *ccmm_swiotlb_default(struct ccmm_machine *m);

/*
 * ccmm_io_tlb_mem_init - a pool over [@start, @start + @nslabs * 2 KiB) of
 * RAM the caller owns (page aligned), with @nareas areas (a power of two,
 * each a whole number of segments; @nslabs a multiple of 128 * @nareas).
 * @share: share/decrypt it before first use. For the default pool,
 * restricted pools, tests and benchmarks. Returns 0, -EINVAL, -ENOMEM.
 */
int ccmm_io_tlb_mem_init(struct ccmm_io_tlb_mem *mem, struct ccmm_machine *m, const char *name, uint64_t start,
			 uint64_t nslabs, unsigned nareas, bool share);
void ccmm_io_tlb_mem_fini(struct ccmm_io_tlb_mem *mem);

/*
 * ccmm_swiotlb_share - swiotlb_update_mem_attributes(): set_memory_decrypted
 * over the whole pool, once, in the pool's boot context (its cost and
 * conversions are reported as the pool's, not the caller's). Every map
 * calls it. Returns 0 or what the conversion returned (the pool is then
 * unusable: maps fail with that error).
 */
int ccmm_swiotlb_share(struct ccmm_io_tlb_mem *mem);

/*
 * The CPU a context runs on, for the choice of area (raw_smp_processor_id()
 * in swiotlb_find_slots): ctx->cpu when set (a replay of a recorded trace
 * says which CPU made each call), else its actor index modulo the CPUs.
 */
int ccmm_swiotlb_ctx_cpu(const struct ccmm_ctx *ctx);

/*
 * ccmm_swiotlb_tbl_map_single - bounce @mapping_size bytes at physical
 * address @orig: claim slots as described above, record the original per
 * slot and copy the original into the buffer (always).
 * @alloc_align_mask: required alignment of the allocation (0: none).
 * Returns 0 with the bounce buffer's physical address in *@tlb_addr (it
 * keeps @orig's min_align_mask bits); -EINVAL for 0 bytes or more than
 * ccmm_swiotlb_max_mapping_size(); -ENOMEM when no area has room (the
 * kernel's "swiotlb buffer is full", counted); -EFAULT when the copy
 * faulted (the slots are released). Charges swiotlb_map_ns and the copy;
 * counts swiotlb_maps, swiotlb_slots, swiotlb_bounce_bytes.
 */
int ccmm_swiotlb_tbl_map_single(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev,
				uint64_t orig, size_t mapping_size, unsigned alloc_align_mask, enum ccmm_dma_dir dir,
				unsigned long attrs, uint64_t *tlb_addr);

/*
 * ccmm_swiotlb_tbl_unmap_single - copy back for FROM_DEVICE and
 * BIDIRECTIONAL (unless SKIP_CPU_SYNC), then release the slots, merging
 * them with free neighbours in their segment. @tlb_addr as returned by map.
 * Returns 0, or -EINVAL when @tlb_addr is not the start of a live mapping
 * of this pool (nothing changes), -EFAULT when the copy back faulted (the
 * slots are released anyway).
 */
int ccmm_swiotlb_tbl_unmap_single(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem,
				  const struct ccmm_swiotlb_dev *dev, uint64_t tlb_addr, size_t mapping_size,
				  enum ccmm_dma_dir dir, unsigned long attrs);

/*
 * ccmm_swiotlb_sync_single_for_device / _for_cpu - copy @size bytes at
 * @tlb_addr (anywhere inside a live mapping) to the buffer (for_device:
 * TO_DEVICE, BIDIRECTIONAL) or back to the original (for_cpu: FROM_DEVICE,
 * BIDIRECTIONAL); other directions copy nothing. Returns 0, -EINVAL (not in
 * a live mapping, or past its end), -EFAULT (the copy faulted).
 */
int ccmm_swiotlb_sync_single_for_device(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem,
					const struct ccmm_swiotlb_dev *dev, uint64_t tlb_addr, size_t size,
					enum ccmm_dma_dir dir);
int ccmm_swiotlb_sync_single_for_cpu(struct ccmm_ctx *ctx, struct ccmm_io_tlb_mem *mem,
				     const struct ccmm_swiotlb_dev *dev, uint64_t tlb_addr, size_t size,
				     enum ccmm_dma_dir dir);

/*
 * ccmm_swiotlb_alloc / ccmm_swiotlb_free - swiotlb_alloc()/swiotlb_free():
 * slots without an original (a restricted pool's coherent memory), aligned
 * to the allocation's page order; no copies. 0, -EINVAL (0 bytes, more than
 * a segment; a free of anything but such an allocation), -ENOMEM (full).
 */
int ccmm_swiotlb_alloc(struct ccmm_io_tlb_mem *mem, const struct ccmm_swiotlb_dev *dev, size_t size, uint64_t *tlb_addr);
int ccmm_swiotlb_free(struct ccmm_io_tlb_mem *mem, uint64_t tlb_addr);

/* is_swiotlb_buffer(): whether @pa lies in the pool. */
static inline bool ccmm_is_swiotlb_buffer(const struct ccmm_io_tlb_mem *mem, uint64_t pa)
{
	return mem && pa >= mem->start && pa < mem->end;
}

/*
 * ccmm_swiotlb_area_used - the number of slots (IO_TLB_SIZE, 2 KiB each)
 * in use in area @a of @mem: the kernel's io_tlb_area.used, which
 * swiotlb_search_pool_area and swiotlb_release_slots keep under the area's
 * lock. @a must be < mem->nareas (not checked). Takes and drops the area's
 * spinlock (the caller must not hold it); never fails, changes nothing.
 */
uint64_t ccmm_swiotlb_area_used(struct ccmm_io_tlb_mem *mem, unsigned a);

/*
 * ccmm_swiotlb_slot_list - the kernel's io_tlb_slot.list of slot @index
 * (< mem->nslabs): 0 when the slot is in use, else the number of free
 * slots from it up to the next slot in use or its segment's end (what
 * swiotlb_search_pool_area compares with the slots it needs). Relaxed
 * loads, no lock: exact under the slot's area lock, and without it for
 * slots no other CPU claims or releases meanwhile (a live mapping of
 * one's own, as unmap and sync check it); changes nothing.
 */
static inline unsigned ccmm_swiotlb_slot_list(const struct ccmm_io_tlb_mem *mem, uint64_t index)
{
	_Atomic(uint64_t) *w = &mem->used_map[(index / CCMM_IO_TLB_SEGSIZE) * 2];
	unsigned off = (unsigned)(index % CCMM_IO_TLB_SEGSIZE);
	uint64_t x;

	if (off < 64) {
		x = atomic_load_explicit(&w[0], memory_order_relaxed) >> off;
		if (x)
			return (unsigned)__builtin_ctzll(x);
		x = atomic_load_explicit(&w[1], memory_order_relaxed);
		return 64 - off + (x ? (unsigned)__builtin_ctzll(x) : 64);
	}
	x = atomic_load_explicit(&w[1], memory_order_relaxed) >> (off - 64);
	return x ? (unsigned)__builtin_ctzll(x) : CCMM_IO_TLB_SEGSIZE - off;
}

/* swiotlb_max_mapping_size(): 256 KiB less what min_align_mask can cost. */
size_t ccmm_swiotlb_max_mapping_size(const struct ccmm_swiotlb_dev *dev);

struct ccmm_swiotlb_stats {
	uint64_t start, end;
	uint64_t io_tlb_nslabs, io_tlb_used, io_tlb_used_hiwater;
	unsigned nareas;
	uint64_t maps, unmaps, full, bounced_bytes;
	bool shared;
	uint64_t share_pages, share_ns;
};

/* A snapshot of the pool's figures (the debugfs counters and ccmm's own). */
void ccmm_swiotlb_stats(struct ccmm_io_tlb_mem *mem, struct ccmm_swiotlb_stats *out);

/*
 * A write of @val to debugfs io_tlb_used_hiwater (io_tlb_hiwater_set()):
 * only 0 is accepted, and it sets the high-water mark to 0 -- not to the
 * slots in use now; the next mapping raises it again. Returns 0 or -EINVAL.
 */
int ccmm_swiotlb_hiwater_write(struct ccmm_io_tlb_mem *mem, uint64_t val);

/* The pool's debugfs files (/sys/kernel/debug/swiotlb/), in the kernel's creation order; NULL-terminated. */
extern const char *const ccmm_swiotlb_debugfs_files[];

/*
 * ccmm_swiotlb_debugfs_read - the text of debugfs file swiotlb/@file as
 * the kernel prints it (DEFINE_DEBUGFS_ATTRIBUTE's "%llu\n" for each:
 * io_tlb_nslabs, io_tlb_used = the atomic total_used, io_tlb_used_hiwater)
 * into @buf (NUL-terminated). A machine without a pool has the directory
 * but none of the files (swiotlb_create_debugfs_files). Returns the length,
 * -ENOENT (no pool, or no such file), -ENOSPC (@len too small).
 */
int ccmm_swiotlb_debugfs_read(struct ccmm_io_tlb_mem *mem, const char *file, char *buf, size_t len);

/*
 * ccmm_swiotlb_is_valid - the pool's invariants: every slot's list
 * (ccmm_swiotlb_slot_list) equals the kernel's backward count (1 at a
 * segment's last slot or before a slot in use, else one more than the
 * next slot's), a free slot holds no mapping (no original, size, padding
 * or head), used counts match the slots in use, cursors are in range.
 * Takes every area lock. 0 or -EUCLEAN.
 */
int ccmm_swiotlb_is_valid(struct ccmm_io_tlb_mem *mem);

#pragma GCC visibility pop

#endif /* CCMM_SWIOTLB_H */
