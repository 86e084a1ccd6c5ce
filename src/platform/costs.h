/* SPDX-License-Identifier: MIT */
/*
 * costs.h - the modeled cost table and the event counters, declared once.
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
	X(iommu_map_ns, 300, "map one IOMMU/TCE entry incl. the hypercall-free path (estimate)")           \
	/* Memory tiers and reclaim */                                                      \
	X(dram_access_ns, 81,                                                                \
	  "DRAM idle random-read latency, ~81 ns (Izraelevitz et al., 'Basic Performance "  \
	  "Measurements of the Intel Optane DC Persistent Memory Module', 2019)")         \
	X(pmem_access_ns, 305,                                                               \
	  "Optane DC PMM idle random-read latency, ~305 ns (same paper)")                   \
	X(cxl_access_ns, 250,                                                                \
	  "CXL-attached DRAM: about two to three times local DRAM (estimate)")              \
	X(hbm_access_ns, 110, "HBM read latency, a little above DDR's (estimate)")          \
	X(swap_in_ns, 80000,                                                                 \
	  "major fault served from an NVMe swap device, fault path included (estimate)")    \
	X(swap_out_ns, 20000, "writing a 4 KiB page to swap, amortised (estimate)")         \
	X(file_read_ns, 80000, "refault of a file page read back from NVMe (estimate)")     \
	X(writeback_ns, 20000, "writeback of a dirty file page before reclaim (estimate)")  \
	X(migrate_page_ns, 2500,                                                             \
	  "migrating one 4 KiB page: allocation, copy, rmap and PTE update, TLB flush (estimate)") \
	X(lru_scan_ns, 80, "looking at one LRU page during reclaim (estimate)")             \
	/* DMA API and SWIOTLB (dma/, swiotlb/) */                                          \
	X(swiotlb_map_ns, 200,                                                               \
	  "swiotlb_tbl_map_single without the copy: area lock, next-fit slot search and "   \
	  "slot bookkeeping, ~100-300 ns on a server core (estimate)")                      \
	X(swiotlb_unmap_ns, 100,                                                             \
	  "swiotlb_release_slots without the copy: area lock and free-list merge (estimate)") \
	X(dma_map_ns, 50,                                                                    \
	  "dma_direct_map_page bookkeeping: phys_to_dma and the mask check, no copy "       \
	  "(estimate: tens of cycles plus a call)")                     \
	/* Intel SGX (sgx/) */                                                              \
	X(sgx_ecreate_ns, 3000, "ECREATE of the SECS page (estimate)")                      \
	X(sgx_eadd_ns, 2500,                                                                 \
	  "EADD: copy and encrypt one 4 KiB page into the EPC and extend the measurement "  \
	  "header (estimate)")                                                              \
	X(sgx_eextend_ns, 500,                                                               \
	  "EEXTEND of one 256-byte chunk (SHA-256 in microcode; 16 per measured page; "     \
	  "estimate)")                                                                      \
	X(sgx_einit_ns, 60000,                                                               \
	  "EINIT: signature check of SIGSTRUCT and the launch token, tens of microseconds " \
	  "(estimate)")                                                                     \
	X(sgx_eaug_ns, 2000, "EAUG of one pending page (SGX2; estimate)")                   \
	X(sgx_eaccept_ns, 1500, "EACCEPT of an EAUGed page inside the enclave (SGX2; estimate)") \
	X(sgx_epa_ns, 1000, "EPA: turn an EPC page into a version-array page (estimate)")   \
	X(sgx_eblock_ns, 300, "EBLOCK: mark an EPC page blocked (estimate)")                \
	X(sgx_etrack_ns, 800, "ETRACK: start a TLB tracking cycle on the SECS (estimate)")  \
	X(sgx_ewb_ns, 7000,                                                                  \
	  "EWB: encrypt and MAC one page to regular memory with its version in a VA slot. " \
	  "Papers put a whole EPC swap (EWB + ELDU with the exits) near 40k cycles, ~13us " \
	  "at 3 GHz (Orenbach et al., Eleos, EuroSys 2017); the split is an estimate")      \
	X(sgx_eldu_ns, 6000,                                                                 \
	  "ELDU/ELDB: verify and decrypt one page back into the EPC (the other part of the " \
	  "~40k-cycle swap, Eleos, EuroSys 2017; split estimated)")                         \
	X(sgx_eremove_ns, 500, "EREMOVE of one EPC page (estimate)")                        \
	X(sgx_aex_ns, 3000,                                                                  \
	  "asynchronous enclave exit on a fault plus ERESUME: several thousand cycles "     \
	  "(Weisse et al., HotCalls, ISCA 2017, measure enclave transitions at ~8-14k "     \
	  "cycles round trip; estimate)")                                                   \
	X(sgx_epc_ref_ns, 40,                                                                \
	  "one page reference by enclave code replayed from a trace: a mix of cached and "  \
	  "MEE-decrypted misses (estimate)")                                                \
	X(sgx_lru_scan_ns, 25,                                                               \
	  "look at one node of an EPC LRU list: a dependent cache miss (estimate)")

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
	X(violations, "memory-state rule violations recorded")                              \
	X(page_refs, "page references replayed from traces")                                \
	X(refaults, "references that found their page swapped out or evicted")             \
	X(slow_tier_hits, "references served by a node below the top memory tier")         \
	X(demotions, "pages this context demoted during reclaim")                          \
	X(reclaimed, "pages this context reclaimed (swapped out, dropped or written back)") \
	X(dma_maps, "streaming DMA mappings made (single, page, each sg entry, each phyr range)") \
	X(dma_unmaps, "streaming DMA mappings undone")                                      \
	X(swiotlb_maps, "streaming mappings bounced through SWIOTLB")                       \
	X(swiotlb_slots, "SWIOTLB 2 KiB slots claimed")                                     \
	X(swiotlb_bounce_bytes, "bytes copied into or out of SWIOTLB bounce buffers")       \
	X(dma_map_fail_pool_full, "mappings refused: the SWIOTLB pool has no room")         \
	X(dma_map_fail_mask, "mappings refused: beyond the device's DMA mask and not bounceable") \
	X(dma_map_fail_window, "mappings refused: no IOMMU window the device's mask can reach") \
	X(dma_map_fail_iova, "mappings refused: the IOMMU window or domain has no free I/O space") \
	X(dma_map_fail_other, "mappings refused otherwise (too large, P2P that cannot bounce)") \
	X(coherent_allocs, "dma_alloc_coherent calls that succeeded")                        \
	X(coherent_pool_hits, "coherent allocations served from already-decrypted pooled pages") \
	X(coherent_pages_converted, "pages made shared/decrypted for coherent DMA")         \
	X(tce_entries, "IOMMU / TCE entries written")                                        \
	X(mmio_pv_calls, "MMIO accesses made as paravirtual TDVMCALLs instead of #VE")      \
	X(probes_refused, "driver probes refused by the TDX device filter")                 \
	X(io_requests, "block requests replayed")                                           \
	X(io_failed, "block requests that failed (a DMA mapping was refused)")              \
	X(io_mismatches, "block requests whose data arrived changed (a bounce went wrong)") \
	X(ttm_moves, "TTM buffer objects moved between placements (a real copy)")              \
	X(ttm_evictions, "TTM buffer objects evicted under memory pressure")                  \
	X(ttm_faults, "TTM fault-handler calls that inserted PTEs")                           \
	X(ttm_pool_hits, "TTM pool pages handed out already flipped (WC/UC, decrypted)")       \
	X(ttm_pool_misses, "TTM pool pages taken from the page allocator and flipped")         \
	X(dmabuf_maps, "dma-buf attachment mappings made")                                     \
	X(dmabuf_notifies, "dma-buf move_notify calls to importers (moves and revokes)")                              \
	X(sgx_eadd, "EPC pages EADDed")                                                     \
	X(sgx_eaug, "EPC pages EAUGed (SGX2)")                                              \
	X(sgx_ewb, "EPC pages written back (EWB)")                                          \
	X(sgx_eldu, "EPC pages loaded back (ELDU)")                                         \
	X(sgx_etrack, "ETRACK tracking cycles")                                             \
	X(sgx_ipis, "IPIs to kick threads out of an enclave")                               \
	X(sgx_eremove, "EPC pages EREMOVEd")                                                \
	X(sgx_faults, "enclave page faults (ELDU, EAUG, retries)")                          \
	X(sgx_refs, "enclave page references")                                              \
	X(sgx_scanned, "EPC LRU nodes scanned by the reclaimers")                           \
	X(sgx_second_chance, "young EPC pages moved to the LRU tail")                       \
	X(sgx_stalls, "EPC allocations that waited for reclaim")                            \
	X(sgx_sigbus, "SIGBUS delivered for an EPC fault")

#endif /* CCMM_COSTS_H */
