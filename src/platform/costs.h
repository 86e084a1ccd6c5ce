/* SPDX-License-Identifier: MIT */
/*
 * costs.h - the machine's own modeled costs and event counters, declared
 * once, and how a subsystem declares its own (a cost block).
 *
 * The lists below are what layers 1 and 2 and the page allocator charge and
 * count: the CPU and MMU, virtualization exits, the secure worlds, memory
 * latencies. Every other subsystem declares its costs and counters beside
 * its code (CCMM_COST_BLOCK_DECLARE) and registers the block with itself;
 * the registry lays every block out after these in an actor's figures.
 *
 * Each cost is a modeled duration in nanoseconds charged per occurrence
 * (per page, per call or per cache line, as the name says), except the
 * *_mbps entries, which are bandwidths in MB/s (10^6 bytes per second)
 * used to charge copies by size. Every default carries its source. Where
 * the source is an estimate, it says so; a platform file's [cost] section
 * overrides any entry by name.
 *
 * X(name, default, source)
 */
#ifndef CCMM_COSTS_H
#define CCMM_COSTS_H

#include <stddef.h>
#include <stdint.h>

#define CCMM_COSTS(X)                                                                       \
	/* CPU and MMU */                                                                   \
	X(page_fault_ns, 1000,                                                              \
	  "minor fault entry, handler and return: ~1us, the order the will-it-scale "       \
	  "page_fault tests report per core on recent x86 (estimate)")                      \
	X(pte_update_ns, 20, "one PTE write plus barrier (estimate: tens of cycles)")       \
	X(tlb_flush_ns, 150,                                                                 \
	  "INVLPG of one page on the local CPU: ~100-250 cycles on recent x86 (Intel "      \
	  "optimization manual latency tables; estimate)")                                  \
	X(tlb_shootdown_ns, 4000,                                                            \
	  "IPI-based remote TLB shootdown: a few microseconds (Amit et al., OSDI 2020, "    \
	  "'Optimizing the TLB Shootdown Algorithm with Page-Table Access Tracking')")      \
	X(clflush_line_ns, 15,                                                               \
	  "CLFLUSHOPT of one 64-byte line, pipelined over a page (estimate)")               \
	X(wbinvd_ns, 200000,                                                                 \
	  "WBINVD of a large LLC: hundreds of microseconds (the reason the kernel "         \
	  "avoids it; estimate)")                                                           \
	X(cpa_split_ns, 3000,                                                                \
	  "change_page_attr split of a large direct-map page: allocate a page-table page, " \
	  "fill 512 entries, flush (estimate)")                                             \
	X(copy_mbps, 10000,                                                                  \
	  "single-core memcpy bandwidth, ~10 GB/s (STREAM copy on one core of a "           \
	  "server part; estimate)")                                                         \
	X(mmio_ns, 800,                                                                      \
	  "uncached MMIO read across PCIe: ~0.5-1us round trip (estimate)")                 \
	/* Virtualization exits */                                                          \
	X(vmexit_ns, 1500,                                                                   \
	  "VM exit + entry round trip with a trivial handler: ~1-2us on KVM "               \
	  "(kvm-unit-tests vmexit numbers; estimate)")                                      \
	X(hypercall_ns, 1500, "hypercall (H_CALL/VMCALL) round trip (as vmexit_ns)")        \
	/* AMD SEV / SEV-SNP */                                                             \
	X(ghcb_vmgexit_ns, 2500,                                                             \
	  "SEV-ES/SNP VMGEXIT through the GHCB: a VM exit plus GHCB marshalling "           \
	  "(estimate)")                                                                     \
	X(pvalidate_ns, 800, "PVALIDATE of one 4 KiB page (estimate)")                      \
	X(rmpupdate_ns, 1000, "host RMPUPDATE of one RMP entry (estimate)")                 \
	X(psmash_ns, 2000,                                                                   \
	  "PSMASH: split one 2 MiB RMP entry into 512 4 KiB entries (estimate)")            \
	/* Intel TDX */                                                                     \
	X(tdvmcall_ns, 4000,                                                                 \
	  "TDG.VP.VMCALL: TD exit through the TDX module to the VMM and back; several "     \
	  "times a plain VM exit (estimate)")                                               \
	X(ve_ns, 1500,                                                                       \
	  "#VE delivery, TDG.VP.VEINFO.GET and instruction decode in the guest, on top "    \
	  "of the TDVMCALL that emulates the access (estimate)")                            \
	X(tdx_mapgpa_page_ns, 1500,                                                          \
	  "VMM work per page for MapGPA: S-EPT block, track and remove or add "             \
	  "(TDH.MEM.RANGE.BLOCK/TRACK/PAGE.REMOVE|AUG) (estimate)")                          \
	X(tdx_accept_ns, 5000,                                                               \
	  "TDG.MEM.PAGE.ACCEPT of one 4 KiB page, which initializes it under the "          \
	  "TD's key (estimate; the cost that motivated lazy accept)")                       \
	/* pSeries secure VM (ultravisor) */                                                \
	X(uv_call_ns, 5000,                                                                  \
	  "ultracall round trip (UV_SHARE_PAGE / UV_UNSHARE_PAGE), per page (estimate)")    \
	/* SWIOTLB and IOMMU (filled in by the DMA layer) */                                \
	X(iotlb_miss_ns, 500, "IOTLB miss: an I/O page walk (estimate)")                    \
	/* Memory tiers and reclaim */                                                      \
	X(dram_access_ns, 81,                                                                \
	  "DRAM idle random-read latency, ~81 ns (Izraelevitz et al., 'Basic Performance "  \
	  "Measurements of the Intel Optane DC Persistent Memory Module', 2019)")         \
	X(pmem_access_ns, 305,                                                               \
	  "Optane DC PMM idle random-read latency, ~305 ns (same paper)")                   \
	X(cxl_access_ns, 250,                                                                \
	  "CXL-attached DRAM: about two to three times local DRAM (estimate)")              \
	X(hbm_access_ns, 110, "HBM read latency, a little above DDR's (estimate)")

#define CCMM_COUNTERS(X)                                                                    \
	X(accesses, "modeled CPU and device accesses checked")                              \
	X(bytes_read, "bytes read through the checker")                                     \
	X(bytes_written, "bytes written through the checker")                               \
	X(scrambled_reads, "reads that returned bytes written under another key")           \
	X(page_faults, "#PF raised by modeled accesses")                                    \
	X(rmp_faults, "#PF with the RMP bit (SEV-SNP)")                                     \
	X(ve_exceptions, "#VE raised (TDX)")                                                \
	X(vc_exceptions, "#VC raised (SEV-ES/SNP)")                                         \
	X(npf_exits, "nested page faults / EPT violations that exit to the VMM")           \
	X(machine_checks, "poison consumed (#MC)")                                          \
	X(poisoned_lines, "cache lines poisoned by a host write to private memory")         \
	X(blocked_dma, "device accesses blocked by the IOMMU, RMP or ultravisor")          \
	X(mmio_accesses, "MMIO accesses")                                                   \
	X(to_shared, "pages converted private -> shared")                                   \
	X(to_private, "pages converted shared -> private")                                  \
	X(conversion_calls, "set_memory_encrypted/decrypted and secure-world calls")        \
	X(cpa_splits, "large direct-map pages split")                                       \
	X(tlb_flushes, "TLB flushes (local or shootdown)")                                  \
	X(cache_flushes, "cache flushes before an encryption change")                       \
	X(mapgpa_calls, "TDX MapGPA TDVMCALLs")                                             \
	X(tdx_accepts, "TDX pages accepted")                                                \
	X(psc_requests, "SNP page-state-change requests")                                   \
	X(pvalidates, "PVALIDATE instructions")                                             \
	X(rmpupdates, "RMPUPDATE instructions")                                             \
	X(psmashes, "PSMASH instructions")                                                  \
	X(uv_calls, "ultracalls")                                                           \
	X(pages_allocated, "pages handed out by the page allocator")                        \
	X(pages_freed, "pages returned to the page allocator")                              \
	X(violations, "memory-state rule violations recorded")

/* Name, default and source of a cost. */
struct ccmm_cost_info {
	const char *name;
	uint64_t def;
	const char *source;
};

/* Name and meaning of an event counter. */
struct ccmm_counter_info {
	const char *name;
	const char *help;
};

/*
 * A cost block: the costs and counters one subsystem declares. In its
 * public header:
 *   #define CCMM_FOO_COSTS(X)    X(foo_op_ns, 500, "source") ...
 *   #define CCMM_FOO_COUNTERS(X) X(foo_ops, "what it counts") ...
 *   CCMM_COST_BLOCK_DECLARE(foo, CCMM_FOO_COSTS, CCMM_FOO_COUNTERS)
 * in one .c file CCMM_COST_BLOCK_DEFINE(foo, ...) and .block = &ccmm_foo_block
 * in its struct ccmm_subsys. CCMM_COST_AT(foo, foo_op_ns) and
 * CCMM_CTR_AT(foo, foo_ops) are then the indexes for ccmm_charge(),
 * ccmm_count() and an actor's cost_ns[] / ctr[]. Names are unique across
 * blocks: a platform's [cost] section sets any cost by its name.
 */
struct ccmm_cost_block {
	const char *name;                         /* the subsystem's */
	const struct ccmm_cost_info *costs;       /* nr_costs of them */
	unsigned nr_costs;
	const struct ccmm_counter_info *counters; /* nr_counters of them */
	unsigned nr_counters;
	unsigned cost_base, ctr_base;             /* where they start: set by the registry (boot/) */
};

#define CCMM_COSTIDX_(name, def, src) CCMM_COSTIDX_##name,
#define CCMM_CTRIDX_(name, help) CCMM_CTRIDX_##name,
#define CCMM_COST_INFO_(name, def, src) { #name, def, src },
#define CCMM_CTR_INFO_(name, help) { #name, help },

#define CCMM_COST_BLOCK_DECLARE(sub, COSTS, COUNTERS)              \
	enum { COSTS(CCMM_COSTIDX_) CCMM_COSTIDX_NR_##sub };         \
	enum { COUNTERS(CCMM_CTRIDX_) CCMM_CTRIDX_NR_##sub };        \
	extern struct ccmm_cost_block ccmm_##sub##_block;
#define CCMM_COST_BLOCK_DEFINE(sub, COSTS, COUNTERS)                                                    \
	static const struct ccmm_cost_info sub##_cost_info[] = { COSTS(CCMM_COST_INFO_){ NULL, 0, NULL } }; \
	static const struct ccmm_counter_info sub##_counter_info[] = { COUNTERS(CCMM_CTR_INFO_){ NULL, NULL } }; \
	struct ccmm_cost_block ccmm_##sub##_block = { #sub, sub##_cost_info, CCMM_COSTIDX_NR_##sub,        \
						      sub##_counter_info, CCMM_CTRIDX_NR_##sub, 0, 0 }

/* A block's cost or counter, as an index into an actor's figures. */
#define CCMM_COST_AT(sub, name) (ccmm_##sub##_block.cost_base + CCMM_COSTIDX_##name)
#define CCMM_CTR_AT(sub, name) (ccmm_##sub##_block.ctr_base + CCMM_CTRIDX_##name)

/* Room in an actor's figures for every block together (the registry checks it). */
#define CCMM_COST_MAX 128
#define CCMM_CTR_MAX 160

#endif /* CCMM_COSTS_H */
