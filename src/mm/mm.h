/* SPDX-License-Identifier: MIT */
/*
 * mm.h - the (guest) kernel's memory management (layer 3).
 *
 *   page allocator   a buddy allocator per RAM zone (orders 0..10, free
 *                    bitmaps per order), zones grouped by NUMA node, with
 *                    node fallback by distance
 *   init_mm          the kernel page table: the direct map at PAGE_OFFSET
 *                    (1 GiB / 2 MiB / 4 KiB leaves, WB, private in a
 *                    confidential guest) and the vmalloc/ioremap area
 *   set_memory_*     change_page_attr on the direct map: encryption
 *                    (split, cache flush, PTE change, TLB flush, then the
 *                    secure world via cc/) and cache mode (wb/wc/uc)
 *   ioremap          device memory mapped shared in a confidential guest
 *   mm / vma         address spaces of user processes and of the host/VMM:
 *                    VMAs with vm_flags, vm_page_prot and a fault handler;
 *                    remap_pfn_range and vmf_insert_pfn_prot; accesses
 *                    that fault call the VMA's handler and retry, as
 *                    handle_mm_fault does
 *
 * The kernel's own bugs and legacy behaviours are switches
 * (struct ccmm_kernel_knobs) so job files can show what each breaks.
 *
 * Locking: each zone has a mutex; an mm has a sleeping mutex (the
 * mmap_lock, sched/) that VMA changes and faults take; page tables and
 * pages lock themselves (mmu.h, platform.h). Lock order: mmap_lock,
 * page-table lock, chunk lock.
 */
#ifndef CCMM_MM_H
#define CCMM_MM_H

#include "cc/cc.h"
#include "check/check.h"
#include "mmu/mmu.h"
#include "platform/subsys.h"
#include "sched/sched.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

#define CCMM_MAX_ORDER 10 /* largest block: 2^10 pages = 4 MiB, as MAX_ORDER */
#define CCMM_VMALLOC_START 0xffffc90000000000ULL
#define CCMM_VMALLOC_END 0xffffe8ffffffffffULL

/* ---- page allocator -------------------------------------------------- */

struct ccmm_zone {
	pthread_mutex_t lock;
	int node;
	uint64_t base_pfn, nr_pages;
	uint64_t *bitmap[CCMM_MAX_ORDER + 1]; /* bit i of order k: block i (pfn base + i<<k) is free */
	uint64_t nr_free[CCMM_MAX_ORDER + 1]; /* free blocks per order */
	uint64_t cursor[CCMM_MAX_ORDER + 1];  /* next-fit word index per order */
	uint64_t free_pages;
	uint64_t leaked_pages;                /* pages refused back after a failed conversion */
};

/* gfp-style flags */
#define CCMM_GFP_THISNODE 0x1 /* no fallback to other nodes */
#define CCMM_GFP_ZERO     0x2 /* zero the pages through the direct map */
#define CCMM_GFP_DMA32    0x4 /* only from RAM wholly below 4 GiB (ZONE_DMA32) */

/*
 * ccmm_get_order - get_order(): the smallest order whose block
 * (CCMM_PAGE_SIZE << order) holds @size bytes; 0 for @size 0. A size
 * above 2^63 gives 64 - CCMM_PAGE_SHIFT, as the kernel's fls64-based
 * get_order() does (the block size itself would not fit in 64 bits).
 */
static inline unsigned ccmm_get_order(uint64_t size)
{
	unsigned order = 0;

	while (order < 64 - CCMM_PAGE_SHIFT && (CCMM_PAGE_SIZE << order) < size)
		order++;
	return order;
}

/*
 * ccmm_alloc_pages - 2^@order contiguous pages, preferring @node (-1: any)
 * and falling back to other nodes by distance unless CCMM_GFP_THISNODE.
 * CCMM_GFP_DMA32 restricts the search to RAM ranges that end below 4 GiB.
 * Returns 0 with the physical address in *@pa (0 is a valid address),
 * -ENOMEM, or -EINVAL for a bad order or node. Models alloc_pages_node().
 * Charges nothing.
 */
int ccmm_alloc_pages(struct ccmm_ctx *ctx, int node, unsigned order, unsigned gfp, uint64_t *pa);

/*
 * ccmm_free_pages - return a block from ccmm_alloc_pages. -EINVAL if @pa
 * is not the head of an allocated block of that order (double free, wrong
 * order). Pages left in an unknown state by a failed conversion
 * (CCMM_PG_LEAKED) are kept out of the allocator: the kernel leaks them;
 * freeing them records conversion_failed and returns -EBUSY.
 */
int ccmm_free_pages(struct ccmm_ctx *ctx, uint64_t pa, unsigned order);

/* Free pages on @node (-1: all). */
uint64_t ccmm_node_free_pages(struct ccmm_machine *m, int node);

/*
 * ccmm_memblock_alloc - take @size bytes (page multiple) of physically
 * contiguous free RAM, @align aligned (a power of two, at least a page),
 * ending at or below @limit (0: no limit), out of the page allocator for
 * good: the boot-time reservation memblock_alloc() makes before the buddy
 * allocator owns memory (memblock_alloc_low() is @limit = 4 GiB). @top_down
 * picks the highest fitting range, as memblock does by default; otherwise
 * the lowest. For initcalls (SWIOTLB's pool). The pages are never handed
 * out by ccmm_alloc_pages and cannot be freed. Returns 0 with the base in
 * *@pa, -EINVAL (bad size or alignment), -ENOMEM (no such free range).
 * Locking: takes each zone's lock.
 */
int ccmm_memblock_alloc(struct ccmm_machine *m, uint64_t size, uint64_t align, uint64_t limit, bool top_down,
			uint64_t *pa);

/* ---- LRU lists -------------------------------------------------------- */

/*
 * An LRU list with second-chance aging, the shape the kernel's reclaimers
 * share (the SGX EPC LRUs, the node LRUs of the page cache and anonymous
 * memory). Intrusive: embed a struct ccmm_lru_node in the tracked object.
 * Oldest at the head, newest at the tail. The owner locks.
 */
struct ccmm_lru_node {
	struct ccmm_lru_node *prev, *next;
};

struct ccmm_lru {
	struct ccmm_lru_node head;
	size_t nr;
};

/* An empty list; the list functions below need the owner's lock (they take none). */
void ccmm_lru_init(struct ccmm_lru *l);
/* Add @n (not on any list) as the newest. */
void ccmm_lru_add_tail(struct ccmm_lru *l, struct ccmm_lru_node *n);
/* Remove @n from @l. */
void ccmm_lru_del(struct ccmm_lru *l, struct ccmm_lru_node *n);
/* Make @n the newest (it was used). */
void ccmm_lru_rotate(struct ccmm_lru *l, struct ccmm_lru_node *n);
/* The oldest node, or NULL. */
struct ccmm_lru_node *ccmm_lru_oldest(struct ccmm_lru *l);
static inline bool ccmm_lru_on_list(const struct ccmm_lru_node *n)
{
	return n->next != NULL;
}

/*
 * ccmm_lru_isolate - take up to @nr victims from the oldest end, as
 * sgx_isolate_epc_pages / isolate_lru_folios do: a node for which
 * @referenced() returns true (it tests and clears its accessed bit) gets a
 * second chance and moves to the tail; the others are removed and stored in
 * @out. At most @scan nodes are looked at. Returns the number isolated.
 */
size_t ccmm_lru_isolate(struct ccmm_lru *l, size_t nr, size_t scan,
			bool (*referenced)(struct ccmm_lru_node *n, void *arg), void *arg, struct ccmm_lru_node **out);

/* Member-to-container, for LRU nodes embedded in a struct. */
#define ccmm_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- the kernel ------------------------------------------------------ */

struct ccmm_kernel_knobs {
	bool skip_cache_flush;  /* set_memory_*: no cache flush before an encryption change */
	bool skip_tlb_flush;    /* set_memory_*: no TLB flush after the PTE change */
	bool ioremap_private;   /* ioremap maps device memory private (the pre-TDX-fix behaviour) */
	bool no_leak_on_error;  /* a failed conversion frees pages as if nothing happened */
};

struct ccmm_kernel {
	struct ccmm_pgtable *init_mm;   /* direct map + vmalloc area */
	struct ccmm_zone *zones;
	size_t nr_zones;
	pthread_mutex_t vmalloc_lock;
	uint64_t vmalloc_next;
	struct ccmm_kernel_knobs knobs;
	bool node_offline[CCMM_MAX_NODES]; /* memory hotplug: the allocator skips offline nodes */
};

/* The registration of mm/: its init builds the page allocator and the direct map. */
extern struct ccmm_subsys ccmm_subsys_mm;

/* The machine's kernel (NULL before mm/ is up). */
struct ccmm_kernel *ccmm_kernel(struct ccmm_machine *m);

/* __va / __pa for the direct map. */
static inline uint64_t ccmm_phys_to_virt(uint64_t pa)
{
	return CCMM_PAGE_OFFSET + pa;
}

static inline uint64_t ccmm_virt_to_phys(uint64_t va)
{
	return va - CCMM_PAGE_OFFSET;
}

/*
 * ccmm_set_memory_decrypted / ccmm_set_memory_encrypted - change the
 * encryption of @numpages direct-map pages at @addr, as
 * __set_memory_enc_dec() does: a misaligned @addr is a WARN and -EINVAL
 * (recorded as conversion_unaligned); large direct-map pages are split;
 * caches are flushed where the platform needs it (SME/SEV/SNP without
 * SME_COHERENT; TDX leaves it to MapGPA); the PTEs change with the mode's
 * polarity; the TLB is flushed; then the secure world is asked
 * (ccmm_cc_convert). Modes without memory encryption return 0 at once.
 * If the secure world refuses half-way the PTEs are restored, the pages
 * are marked CCMM_PG_LEAKED (unless knobs.no_leak_on_error) and -EIO is
 * returned. Returns 0, -EINVAL, -EFAULT (not in the direct map), -EIO.
 */
int ccmm_set_memory_decrypted(struct ccmm_ctx *ctx, uint64_t addr, uint64_t numpages);
int ccmm_set_memory_encrypted(struct ccmm_ctx *ctx, uint64_t addr, uint64_t numpages);

/*
 * ccmm_set_memory_cache - set_memory_wc / set_memory_uc / set_memory_wb on
 * direct-map pages: change their cache mode (splitting as needed) and
 * record cache_alias if another live mapping disagrees. 0, -EINVAL, -EFAULT.
 */
int ccmm_set_memory_cache(struct ccmm_ctx *ctx, uint64_t addr, uint64_t numpages, enum ccmm_cache_mode mode);

/*
 * ccmm_ioremap - map @size bytes of device memory at @pa into the kernel's
 * ioremap area with @cache (UC for ioremap, WC for ioremap_wc), shared in
 * a confidential guest (pgprot_decrypted, seed 004) unless
 * knobs.ioremap_private. Returns the virtual address or 0 with *@err.
 * -EINVAL for RAM (ioremap refuses system RAM) or misalignment.
 */
uint64_t ccmm_ioremap(struct ccmm_ctx *ctx, uint64_t pa, uint64_t size, enum ccmm_cache_mode cache, int *err);
/* iounmap(): remove the translations of [@va, @va+@size) that ccmm_ioremap made, flushing the TLB. 0, -EINVAL (misaligned), -ENOMEM (a split failed). */
int ccmm_iounmap(struct ccmm_ctx *ctx, uint64_t va, uint64_t size);

/*
 * ccmm_vmap - map physical pages (one per entry of @pas) contiguously in
 * the vmalloc area with PTE bits @prot (cache bits and the private
 * attribute included). Returns the address or 0 with *@err. Models vmap().
 */
uint64_t ccmm_vmap(struct ccmm_ctx *ctx, const uint64_t *pas, size_t npages, uint64_t prot, int *err);
/* vunmap(): remove the @npages translations at @va that ccmm_vmap made, flushing the TLB. 0, -EINVAL (misaligned), -ENOMEM. */
int ccmm_vunmap(struct ccmm_ctx *ctx, uint64_t va, size_t npages);

/* Base PTE bits for a kernel mapping of RAM: PAGE_KERNEL with the mode's default encryption. */
uint64_t ccmm_page_kernel(const struct ccmm_machine *m);

/* ---- address spaces ------------------------------------------------- */

/* vm_flags */
#define CCMM_VM_READ     0x0001
#define CCMM_VM_WRITE    0x0002
#define CCMM_VM_SHARED   0x0008
#define CCMM_VM_IO       0x4000   /* memory-mapped I/O: never take page references */
#define CCMM_VM_PFNMAP   0x0400   /* raw PFNs, no struct page */
#define CCMM_VM_MIXEDMAP 0x10000000

struct ccmm_vma;
struct ccmm_mm;

/* enum fault_flag */
#define CCMM_FAULT_FLAG_WRITE       0x01 /* a write fault */
#define CCMM_FAULT_FLAG_ALLOW_RETRY 0x04 /* the handler may drop the mmap_lock and return VM_FAULT_RETRY */
#define CCMM_FAULT_FLAG_KILLABLE    0x10 /* a fatal signal may end the wait */
#define CCMM_FAULT_FLAG_TRIED       0x20 /* this fault was retried once already */

/* struct vm_fault: what a fault handler is given; the retry state travels with the fault. */
struct ccmm_vm_fault {
	struct ccmm_vma *vma;
	uint64_t address;           /* page aligned */
	uint64_t pgoff;             /* the page's offset in the mapped object (vm_pgoff + page in the VMA) */
	unsigned flags;             /* CCMM_FAULT_FLAG_* */
};

/* fault_flag_allow_retry_first: retrying is allowed and this is the first try. */
static inline bool ccmm_fault_flag_allow_retry_first(unsigned flags)
{
	return (flags & CCMM_FAULT_FLAG_ALLOW_RETRY) && !(flags & CCMM_FAULT_FLAG_TRIED);
}

struct ccmm_vm_ops {
	const char *name;
	/*
	 * Resolve the fault @vmf: install the PTE (ccmm_vmf_insert_pfn_prot)
	 * and return 0 (also VM_FAULT_NOPAGE: the access faults again), or
	 * -EAGAIN for VM_FAULT_RETRY: only when
	 * ccmm_fault_flag_allow_retry_first(vmf->flags), and the handler has
	 * released the mmap_lock (the caller retakes it and retries with
	 * CCMM_FAULT_FLAG_TRIED), or -EFAULT for SIGBUS/SIGSEGV. Called with
	 * the mmap_lock held.
	 */
	int (*fault)(struct ccmm_ctx *ctx, struct ccmm_vm_fault *vmf);
	void (*close)(struct ccmm_vma *vma);
};

struct ccmm_vma {
	struct ccmm_mm *mm;
	uint64_t start, end;
	unsigned long vm_flags;
	uint64_t vm_page_prot;        /* PTE bits new PTEs get unless the handler says otherwise */
	uint64_t vm_pgoff;
	const struct ccmm_vm_ops *ops;
	void *priv;
};

struct ccmm_mm {
	struct ccmm_machine *m;
	char name[CCMM_NAME_MAX];
	enum ccmm_initiator who;      /* CCMM_INIT_USER or CCMM_INIT_HOST */
	struct ccmm_pgtable *pgt;
	struct ccmm_mutex mmap_lock;  /* sleeping (sched/): faults may sleep with it held */
	struct ccmm_vma **vmas;       /* sorted by start */
	size_t nr_vmas, cap_vmas;
	uint64_t mmap_base;           /* where unplaced mappings go (grows up) */
};

/* A user process (@who CCMM_INIT_USER) or the host/VMM (CCMM_INIT_HOST). 0 or -ENOMEM/-EINVAL. */
int ccmm_mm_create(struct ccmm_machine *m, enum ccmm_initiator who, const char *name, struct ccmm_mm **out);
/* Tear down: every VMA closed, every PTE removed (counts drop). @ctx may be NULL. */
void ccmm_mm_destroy(struct ccmm_ctx *ctx, struct ccmm_mm *mm);

/*
 * ccmm_mmap - create a VMA of @len bytes at @addr (0: pick one), no PTEs
 * yet. @prot are the PTE bits (vm_page_prot: cache mode, private
 * attribute, RW, USER is added for user mms). Returns 0 and the VMA in
 * *@out; -EINVAL (misaligned, empty), -EEXIST (overlap), -ENOMEM.
 */
int ccmm_mmap(struct ccmm_ctx *ctx, struct ccmm_mm *mm, uint64_t addr, uint64_t len, unsigned long vm_flags,
	      uint64_t prot, const struct ccmm_vm_ops *ops, void *priv, struct ccmm_vma **out);

/* Remove the VMAs fully inside [@addr, @addr+@len) and their PTEs. -EINVAL if a VMA is cut. */
int ccmm_munmap(struct ccmm_ctx *ctx, struct ccmm_mm *mm, uint64_t addr, uint64_t len);

/* The VMA containing @addr, or NULL. Caller holds the mmap_lock (or owns the mm). */
struct ccmm_vma *ccmm_find_vma(struct ccmm_mm *mm, uint64_t addr);

/*
 * ccmm_remap_pfn_range - map @size bytes of physical memory at @pa into
 * @vma at @addr now, with leaves of @pgsize, PTE bits @prot (USER added
 * for user mms); marks the VMA VM_IO|VM_PFNMAP as the kernel does.
 * 0, -EINVAL (outside the VMA, misaligned), -EEXIST, -ENOMEM.
 */
int ccmm_remap_pfn_range(struct ccmm_ctx *ctx, struct ccmm_vma *vma, uint64_t addr, uint64_t pa, uint64_t size,
			 uint64_t pgsize, uint64_t prot);

/*
 * ccmm_vmf_insert_pfn_prot - install one 4 KiB PTE at @addr for @pa with
 * @prot (the caller computed it; USER added for user mms), special bit set
 * as for a PFN map. For fault handlers. 0, -EINVAL, -EEXIST (already
 * mapped: another fault won), -ENOMEM.
 */
int ccmm_vmf_insert_pfn_prot(struct ccmm_ctx *ctx, struct ccmm_vma *vma, uint64_t addr, uint64_t pa, uint64_t prot);

/*
 * ccmm_zap_vma_range - remove the PTEs of @vma in [@addr, @addr+@len)
 * (the VMA stays; the next access faults), with a TLB flush. Models
 * unmap_mapping_range / zap_vma_ptes. Returns pages unmapped or -EINVAL.
 */
long ccmm_zap_vma_range(struct ccmm_ctx *ctx, struct ccmm_vma *vma, uint64_t addr, uint64_t len);

/*
 * ccmm_mm_access - a CPU access by the mm's owner to @va, faulting in
 * through VMA handlers as needed (up to 8 retries per page; each fault is
 * a scheduling point, and a VM_FAULT_RETRY is retried with
 * CCMM_FAULT_FLAG_TRIED, as do_user_addr_fault does) and then going
 * through the checker. A fault no VMA resolves ends the access with
 * outcome #PF. Returns as ccmm_access(); -EINVAL for bad arguments.
 */
int ccmm_mm_access(struct ccmm_ctx *ctx, struct ccmm_mm *mm, enum ccmm_rw rw, uint64_t va, void *buf, size_t len,
		   struct ccmm_result *r);

/* Kernel accesses through init_mm (direct map, vmalloc, ioremap). */
int ccmm_kernel_access(struct ccmm_ctx *ctx, enum ccmm_rw rw, uint64_t va, void *buf, size_t len,
		       struct ccmm_result *r);

#pragma GCC visibility pop

#endif /* CCMM_MM_H */
