/* SPDX-License-Identifier: MIT */
/*
 * platform.h - the modeled machine (layer 1).
 *
 *   platform file / built-in default
 *            |
 *            v
 *   struct ccmm_platform      what the machine is: CC mode, NUMA nodes,
 *            |                RAM / BAR / EPC / reserved ranges, devices,
 *            |                IOMMUs, CPUs, cost table
 *            v
 *   struct ccmm_machine       a running instance of it:
 *      phys  ---- range ---- 1 GiB table ---- chunk (2 MiB) ---- struct ccmm_page[512]
 *                                                   |  (32 bytes each)
 *                                                   +-- ccmm_page_data
 *                                                       (4 KiB of "DRAM",
 *                                                        allocated on first
 *                                                        write)
 *      mee   memory-encryption engine: AES-128-XTS (OpenSSL) per key ID,
 *            tweaked by physical address, applied per 64-byte line
 *
 *   struct ccmm_ctx           who is acting: the actor, its modeled clock,
 *                             its cost and event counters
 *
 * Physical memory is sparse: a machine costs a pointer per 1 GiB of each
 * range until a page's state or data is touched, so a 64 TiB machine boots
 * as fast as a 64 GiB one. Bytes written with one key and read with another
 * come back scrambled because they really are AES ciphertext (computed when
 * written, or only when observed under another key: enum ccmm_mee_mode).
 *
 * Locking: a platform description is immutable after loading. Page
 * metadata and data are protected by the owning chunk's lock
 * (ccmm_phys_lock, a struct ccmm_lock); chunks are created lock-free. A ccmm_ctx belongs
 * to one thread.
 */
#ifndef CCMM_PLATFORM_H
#define CCMM_PLATFORM_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "platform/costs.h"
#include "util/util.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

#define CCMM_PAGE_SHIFT 12
#define CCMM_PAGE_SIZE (1ULL << CCMM_PAGE_SHIFT)
#define CCMM_PMD_SHIFT 21
#define CCMM_PMD_SIZE (1ULL << CCMM_PMD_SHIFT)
#define CCMM_PUD_SHIFT 30
#define CCMM_PUD_SIZE (1ULL << CCMM_PUD_SHIFT)
#define CCMM_LINE_SHIFT 6
#define CCMM_LINE_SIZE (1ULL << CCMM_LINE_SHIFT)
#define CCMM_LINES_PER_PAGE (CCMM_PAGE_SIZE / CCMM_LINE_SIZE)

#define CCMM_MAX_NODES 8
#define CCMM_MAX_BARS 6
#define CCMM_NAME_MAX 48

/* ------------------------------------------------------------------ */
/* Confidential-computing modes                                        */
/* ------------------------------------------------------------------ */

enum ccmm_cc_mode {
	CCMM_CC_NONE,         /* no memory encryption */
	CCMM_CC_SME,          /* AMD SME: the host encrypts its own memory */
	CCMM_CC_SEV,          /* AMD SEV guest: encrypted, no integrity */
	CCMM_CC_SEV_SNP,      /* AMD SEV-SNP guest: encrypted, RMP-enforced */
	CCMM_CC_TDX,          /* Intel TDX guest: private/shared, integrity */
	CCMM_CC_PSERIES_SVM,  /* IBM pSeries secure VM under the ultravisor */
	CCMM_CC_NR
};

/* "none", "sme", "sev", "sev-snp", "tdx", "pseries-svm" */
const char *ccmm_cc_mode_name(enum ccmm_cc_mode mode);
/* Inverse of ccmm_cc_mode_name (also accepts "snp", "pseries"); -1 if unknown. */
int ccmm_cc_mode_parse(const char *name);
/* NULL-terminated list of the names, for option tables and suggestions. */
extern const char *const ccmm_cc_mode_names[];

/* True for the guest modes, where a VMM/host exists outside the guest. */
bool ccmm_cc_is_guest(enum ccmm_cc_mode mode);
/* True where guest memory is private by default (SEV, SNP, TDX, pSeries SVM). */
bool ccmm_cc_private_by_default(enum ccmm_cc_mode mode);
/*
 * force_dma_unencrypted() for the mode: true where DMA must go to
 * shared/decrypted memory (SEV, SEV-SNP, TDX, pSeries SVM). For SME it
 * depends on the device's mask, see ccmm_sme_dma_encrypted().
 */
bool ccmm_cc_force_dma_unencrypted(enum ccmm_cc_mode mode);

/* ------------------------------------------------------------------ */
/* Platform description                                                */
/* ------------------------------------------------------------------ */

/* Where something was declared, copied out of the parser. */
struct ccmm_where {
	char file[128];
	int line;
};

enum ccmm_range_kind {
	CCMM_RANGE_RAM,
	CCMM_RANGE_BAR,      /* device MMIO */
	CCMM_RANGE_EPC,      /* SGX enclave page cache section */
	CCMM_RANGE_RESERVED, /* firmware, holes the OS must not use */
};

/* "ram", "bar", "epc", "reserved". */
const char *ccmm_range_kind_name(enum ccmm_range_kind kind);

struct ccmm_mem_range {
	char name[CCMM_NAME_MAX];
	enum ccmm_range_kind kind;
	uint64_t base, size; /* bytes; page-aligned */
	int node;            /* RAM and EPC: NUMA node; -1 otherwise */
	int device, bar;     /* BAR: owning device index and BAR number */
	struct ccmm_where where;
};

enum ccmm_mem_kind {
	CCMM_MEM_DRAM,
	CCMM_MEM_PMEM,
	CCMM_MEM_CXL,
	CCMM_MEM_HBM,
};

struct ccmm_node_desc {
	bool present;
	enum ccmm_mem_kind kind;
	bool has_cpus;          /* a CPU-less node is a slower, memory-only tier */
	uint64_t mem;           /* bytes of RAM declared in the node section */
	uint64_t read_latency_ns, bandwidth_mbps; /* 0: unknown (from kind) */
	bool online;            /* present at boot; offline nodes can be hot-added during a run */
	int demote_to;          /* explicit demotion target; -1 terminal; -2 computed (the default) */
	struct ccmm_where where;
};

enum ccmm_dev_class {
	CCMM_DEV_GENERIC,
	CCMM_DEV_VIRTIO_BLK,
	CCMM_DEV_VIRTIO_NET,
	CCMM_DEV_VIRTIO_CONSOLE,
	CCMM_DEV_VIRTIO_FS,
	CCMM_DEV_GPU,
	CCMM_DEV_NIC,
	CCMM_DEV_NVME,
	CCMM_DEV_ACCEL,
};

extern const char *const ccmm_dev_class_names[];

struct ccmm_bar_desc {
	uint64_t base, size; /* base 0 in a file means "place it for me" */
	bool prefetch;
	bool is64;
};

struct ccmm_device_desc {
	char name[CCMM_NAME_MAX];
	enum ccmm_dev_class cls;
	uint16_t vendor, device_id;  /* PCI IDs */
	unsigned dma_mask_bits;      /* streaming DMA mask the driver sets */
	unsigned coherent_mask_bits; /* coherent DMA mask */
	int iommu;                   /* index into iommus[], -1: direct */
	int node;                    /* NUMA node, -1 unknown */
	bool ats;                    /* PCIe address translation services */
	int p2p_group;               /* devices in one group can reach each other's BARs; -1 none */
	bool tdisp;                  /* TDISP-capable (TEE device interface) */
	uint64_t capacity;           /* block devices: bytes */
	uint32_t min_align_mask;     /* dma_set_min_align_mask() of its driver (2^n - 1; 0: none) */
	unsigned nr_bars;
	struct ccmm_bar_desc bar[CCMM_MAX_BARS];
	struct ccmm_where where;
};

enum ccmm_iommu_kind {
	CCMM_IOMMU_GENERIC,     /* x86-style: 4-level I/O page table per domain */
	CCMM_IOMMU_PSERIES_TCE, /* pSeries: TCE tables per DMA window */
};

struct ccmm_iommu_desc {
	char name[CCMM_NAME_MAX];
	enum ccmm_iommu_kind kind;
	unsigned page_shift;        /* I/O page size (12 = 4 KiB) */
	uint64_t dma32_window;      /* pSeries default window size in bytes (below 4 GiB) */
	bool ddw;                   /* pSeries: dynamic 64-bit DMA window available */
	uint64_t ddw_size;          /* bytes the hypervisor grants for the DDW, 0 = all RAM */
	unsigned ddw_page_shift;    /* TCE page size in the DDW */
	uint64_t ddw_align;         /* alignment the DDW maps at (256 MiB in seed 002) */
	struct ccmm_where where;
};

enum ccmm_mmio_mode {
	CCMM_MMIO_VE,       /* TDX: MMIO traps as #VE and is emulated */
	CCMM_MMIO_PARAVIRT, /* TDX: drivers call the VMM directly (TDVMCALL) */
};

struct ccmm_costs {
#define CCMM_COST_FIELD(name, def, src) uint64_t name;
	CCMM_COSTS(CCMM_COST_FIELD)
#undef CCMM_COST_FIELD
};

enum ccmm_cost {
#define CCMM_COST_ENUM(name, def, src) CCMM_COST_##name,
	CCMM_COSTS(CCMM_COST_ENUM)
#undef CCMM_COST_ENUM
	CCMM_COST_NR
};

/* Name, default and source of each of the machine's own costs; indexed by enum ccmm_cost. */
extern const struct ccmm_cost_info ccmm_cost_info[CCMM_COST_NR];

/* A platform's [cost] line for a subsystem's cost: checked against the registry when the machine boots. */
struct ccmm_cost_override {
	char name[48];
	uint64_t value;
	struct ccmm_where where;
};

struct ccmm_platform {
	char name[64];
	char source[256];            /* the file it came from, or "built-in default" */
	enum ccmm_cc_mode mode;
	unsigned cpus;
	unsigned phys_bits;          /* width of the physical (guest-physical) address space */
	unsigned c_bit;              /* SME/SEV/SNP: position of the C-bit in PTEs and DMA addresses */
	unsigned gpa_width;          /* TDX: GPA width; the shared bit is bit gpa_width-1 */
	bool sme_coherent;           /* X86_FEATURE_SME_COHERENT: no flush needed on encryption change */
	enum ccmm_mmio_mode mmio;    /* TDX */
	uint64_t swiotlb_size;       /* bytes; 0: size it as the kernel does */
	unsigned swiotlb_areas;      /* 0: one per CPU */
	uint64_t swiotlb_base;       /* physical base of the pool (a recorded kernel's); 0: the model places it */
	bool swiotlb_force;          /* swiotlb=force: every streaming mapping bounces, whatever the mode */
	unsigned nr_nodes;
	struct ccmm_node_desc node[CCMM_MAX_NODES];
	unsigned distance[CCMM_MAX_NODES][CCMM_MAX_NODES]; /* SLIT-style, local = 10 */
	bool distance_given;
	size_t nr_ranges;
	struct ccmm_mem_range *ranges; /* sorted by base after validation */
	size_t nr_devices;
	struct ccmm_device_desc *devices;
	size_t nr_iommus;
	struct ccmm_iommu_desc *iommus;
	struct ccmm_costs costs;            /* the machine's own costs (platform/costs.h) */
	struct ccmm_cost_override cost_more[CCMM_COST_MAX]; /* [cost] lines of subsystems' costs */
	unsigned nr_cost_more;
	struct ccmm_where mode_where; /* where "mode" was set, for mode errors */
};

/*
 * ccmm_platform_load - read a platform file.
 *
 * Format (INI): [platform] name, mode, cpus, phys_bits, c_bit, gpa_width,
 * sme_coherent, mmio, swiotlb_size, swiotlb_areas, swiotlb_base (page
 * aligned, needs swiotlb_size, the pool must lie in RAM), swiotlb_force;
 * [node:N] mem, base, kind, cpus, distance (a row: "10,21"); [ram:NAME]
 * node, base, size; [device:NAME] class, pci_id ("1af4:1042"), dma_mask,
 * coherent_mask, min_align_mask (2^n - 1, below 2^31), iommu, node, ats,
 * p2p_group, tdisp, capacity, bar0..bar5 ("SIZE" or
 * "SIZE@BASE", "+pref" / "+32" suffixes); [iommu:NAME] kind, page_shift,
 * dma32_window, ddw, ddw_size, ddw_page_shift, ddw_align; [epc:NAME] node,
 * base, size; [reserved:NAME] base, size; [cost] any ccmm_cost_info name.
 *
 * Then the platform is laid out (unplaced RAM from 0 with a 32-bit PCI hole
 * at 2-4 GiB, unplaced BARs in the holes) and validated: overlaps, BARs
 * outside the address space or misaligned, and modes the platform cannot
 * have are errors at the line that declared them.
 *
 * Returns 0 and a new platform in *@out, or a negative errno with @err set
 * ("FILE:LINE: what is wrong"); nothing is allocated on error.
 */
int ccmm_platform_load(const char *path, struct ccmm_platform **out, struct ccmm_error *err);

/*
 * A section a platform file can hold and the keys it takes: the parser's own
 * option tables, for ccmm platform-keys and ccmm-platform(5). @options is
 * NULL for [cost], whose keys are every registered cost (boot/boot.h:
 * ccmm_cost_at). ccmm_platform_section_at() gives the @i-th, NULL past the end.
 */
struct ccmm_platform_section {
	const char *name; /* as written in the file: "platform", "node:N", "device:NAME" */
	const char *help;
	const struct ccmm_option *options;
};

const struct ccmm_platform_section *ccmm_platform_section_at(size_t i);

/* As ccmm_platform_load, from text in memory; @name labels messages. */
int ccmm_platform_parse(const char *name, const char *text, struct ccmm_platform **out,
			struct ccmm_error *err);

/*
 * ccmm_platform_parse_set - as ccmm_platform_parse (@text NULL: read the
 * file @name), then @nr settings (util.h; those of target
 * CCMM_SET_PLATFORM, the others are skipped) applied as lines of the
 * sections they name before the platform is built and validated: an
 * option of an existing section is replaced, a section the file lacks is
 * added. A bad setting is an error naming the setting ("--set
 * platform.node:0.mem=x: ..."), with the same checks and suggestions as
 * the file's lines; a platform the settings make impossible fails
 * validation as a file would. Returns 0 or a negative errno; nothing is
 * allocated on error.
 */
int ccmm_platform_parse_set(const char *name, const char *text, const struct ccmm_setting *sets, size_t nr,
			    struct ccmm_platform **out, struct ccmm_error *err);

/*
 * The built-in default: a TDX guest with 4 CPUs, two NUMA nodes of 32 GiB,
 * a virtio-blk device (1af4:1042) and a GPU with a 256 MiB BAR. The same
 * text ships as platforms/tdx-guest.ini.
 */
int ccmm_platform_default(struct ccmm_platform **out, struct ccmm_error *err);
extern const char ccmm_default_platform_text[];

/*
 * --platform host: the host's NUMA topology (nodes, sizes, distances, from
 * hwloc or /sys/devices/system/node), mode none. Returns -ENOTSUP where
 * neither is available.
 */
int ccmm_platform_host(struct ccmm_platform **out, struct ccmm_error *err);

/* Lay out and validate a platform built in code (the loaders call this). */
int ccmm_platform_finalize(struct ccmm_platform *p, struct ccmm_error *err);

/* Free a platform from ccmm_platform_load/parse/default/host (NULL is a no-op). */
void ccmm_platform_free(struct ccmm_platform *p);

/* A deep copy of @p (a machine takes ownership of its platform). 0 or -ENOMEM. */
int ccmm_platform_dup(const struct ccmm_platform *p, struct ccmm_platform **out);

/* Lookups by name; -1 when absent. */
int ccmm_platform_find_device(const struct ccmm_platform *p, const char *name);
int ccmm_platform_find_iommu(const struct ccmm_platform *p, const char *name);

/* The range containing @pa, or NULL (a hole). Ranges are sorted by base. */
const struct ccmm_mem_range *ccmm_platform_range(const struct ccmm_platform *p, uint64_t pa);

/* Total RAM bytes on @node (all nodes for node < 0). */
uint64_t ccmm_platform_ram(const struct ccmm_platform *p, int node);

/*
 * Host memory a machine needs for a range before anything runs, in bytes:
 * the sparse physical memory's directory (one pointer per 1 GiB), for
 * RAM the page allocator's free bitmaps (about 2 bits per 4 KiB page), for
 * EPC the SGX page descriptors (CCMM_EPC_PAGE_HOST_BYTES per 4 KiB page,
 * filled at boot). Pages touched while running cost more (a chunk table
 * per 1 GiB and a chunk of page descriptors per 2 MiB touched, 4 KiB of
 * data per page written): see
 * m->phys.budget (ccmm_phys_host_bytes).
 */
#define CCMM_EPC_PAGE_HOST_BYTES 128
uint64_t ccmm_platform_host_bytes(const struct ccmm_mem_range *r);

/*
 * The most host memory a platform's ranges may need (the sum of
 * ccmm_platform_host_bytes), and the budget for the pages a run touches:
 * half the host's RAM (ccmm_host_ram(), CCMM_HOST_RAM overrides it).
 * ccmm_platform_parse refuses a platform over it, at the line of the range
 * that costs most, naming its size and the limit.
 */
uint64_t ccmm_platform_host_limit(void);

/*
 * The bit that marks a PTE or DMA address encrypted (SME/SEV/SNP C-bit) or
 * shared (TDX shared bit), as a mask; 0 for modes that have none.
 */
uint64_t ccmm_platform_enc_mask(const struct ccmm_platform *p);

/* ------------------------------------------------------------------ */
/* Physical memory                                                     */
/* ------------------------------------------------------------------ */

/*
 * Per-page state as the secure world (or, for SME and SEV, the kernel's
 * direct map) sees it.
 *
 *   SHARED   plain / decrypted / hypervisor-owned: host and devices may
 *            touch it
 *   PRIVATE  encrypted and owned: SEV C-bit memory, SNP RMP-assigned and
 *            validated, TDX S-EPT mapped and accepted, pSeries secure
 *   PENDING  owned but not ready: TDX added (AUG) but not accepted, SNP
 *            assigned but not validated
 */
enum ccmm_page_state {
	CCMM_PS_SHARED,
	CCMM_PS_PRIVATE,
	CCMM_PS_PENDING,
};

/* The state's name as reports and the states table print it. */
const char *ccmm_page_state_name(enum ccmm_page_state s);

enum ccmm_cache_mode {
	CCMM_CACHE_WB,
	CCMM_CACHE_WC,
	CCMM_CACHE_UC,
	CCMM_CACHE_NR
};

/* "wb", "wc", "uc"; ccmm_cache_mode_names is the NULL-terminated list, for option parsing. */
const char *ccmm_cache_mode_name(enum ccmm_cache_mode c);
extern const char *const ccmm_cache_mode_names[];

/* struct ccmm_page.flags */
#define CCMM_PG_RMP_2M        0x01 /* part of a 2 MiB RMP entry (SNP) */
#define CCMM_PG_RMP_IMMUTABLE 0x02 /* RMP entry immutable (firmware pages) */
#define CCMM_PG_STALE_LINES   0x04 /* converted without the needed cache flush */
#define CCMM_PG_LEAKED        0x08 /* conversion failed half-way: never reuse */
#define CCMM_PG_POISONED      0x10 /* some line is poisoned (see data->poison) */
#define CCMM_PG_ALLOCATED     0x20 /* handed out by the page allocator */

/* 4 KiB of modeled DRAM plus what the memory controller knows of it. */
struct ccmm_page_data {
	uint8_t bytes[CCMM_PAGE_SIZE];     /* as stored: eager mode, each line's ciphertext; on-demand, its writer's plaintext */
	/* key ID each line was last written with; 0xff: never (zeros). Right after the bytes: one cache line of its own */
	uint8_t line_key[CCMM_LINES_PER_PAGE];
	uint64_t poison;                   /* bit n: line n failed its integrity check */
};

/*
 * The per-page metadata: 32 bytes, like struct page. Untouched pages have
 * no struct ccmm_page at all; they read back as the range's default state.
 */
struct ccmm_page {
	struct ccmm_page_data *data; /* NULL until first write: reads as zeros */
	uint32_t hist;               /* newest history record + 1; 0: none */
	uint16_t owner;              /* guest / enclave / device that owns the page */
	uint8_t state;               /* enum ccmm_page_state */
	uint8_t flags;               /* CCMM_PG_* */
	uint16_t map[CCMM_CACHE_NR]; /* live CPU mappings (outside the direct map) per cache mode */
	uint16_t map_host;           /* of those, in host/VMM page tables */
	uint16_t map_io;             /* live IOMMU / device mappings */
	uint16_t map_enc;            /* of the CPU mappings, those with the encrypted/private attribute */
	uint8_t order;               /* head of an allocated block: its buddy order */
};

_Static_assert(sizeof(struct ccmm_page) <= 32, "per-page metadata must fit in 32 bytes");

#define CCMM_CHUNK_SHIFT CCMM_PMD_SHIFT
#define CCMM_CHUNK_PAGES (1u << (CCMM_CHUNK_SHIFT - CCMM_PAGE_SHIFT))

/*
 * struct ccmm_lock - a spinlock of one word for the locks every modeled
 * access takes (a chunk's, a page-table shard's), as the kernel's page
 * table locks are spinlocks: an uncontended lock is one compare-and-swap
 * and an unlock a plain release store. A pthread mutex pair costs about 55
 * instructions and two locked read-modify-writes (lock and unlock), and
 * each locked instruction costs about 6 ns on this project's machine, so
 * two mutex pairs were half of the checker's state-only access. Contended,
 * a waiter spins with a pause, then yields the CPU between tries (the
 * holders hold these locks for one page's work, but a holder may be
 * preempted on a busy host). Not recursive; no owner tracking. Zero is
 * unlocked (static or calloc'ed locks need no init).
 */
struct ccmm_lock {
	_Atomic uint32_t v;
};

/* The contended path of ccmm_lock_acquire (machine.c). */
void ccmm_lock_wait(struct ccmm_lock *l);

/* Take @l (sleeping while another thread holds it). Acquire ordering. */
static inline void ccmm_lock_acquire(struct ccmm_lock *l)
{
	uint32_t free_v = 0;

	if (!atomic_compare_exchange_strong_explicit(&l->v, &free_v, 1, memory_order_acquire, memory_order_relaxed))
		ccmm_lock_wait(l);
}

/* Release @l, which the calling thread holds. Release ordering. */
static inline void ccmm_lock_release(struct ccmm_lock *l)
{
	atomic_store_explicit(&l->v, 0, memory_order_release);
}

/* 2 MiB of physical memory: one lock, one counter, 512 pages. */
struct ccmm_chunk {
	struct ccmm_lock lock;
	uint32_t nr_private; /* pages PRIVATE or PENDING: SNP's 2 MiB host-mapping rule */
	uint32_t nr_data;    /* pages with data allocated */
	struct ccmm_page page[CCMM_CHUNK_PAGES];
};

/* 512 chunk pointers, one 1 GiB slice of a range (here for the inline lookups below) */
#define CCMM_CHUNK_TABLE_SIZE (1u << (CCMM_PUD_SHIFT - CCMM_CHUNK_SHIFT))
struct ccmm_chunk_table {
	_Atomic(struct ccmm_chunk *) chunk[CCMM_CHUNK_TABLE_SIZE];
};

#define CCMM_GRANULE_MIXED 0
#define CCMM_GRANULE_HOLE  0xffff

struct ccmm_phys_range {
	const struct ccmm_mem_range *desc;
	enum ccmm_page_state def_state; /* state of untouched pages */
	uint16_t def_owner;
	uint64_t dir_base;              /* desc->base rounded down to 1 GiB */
	size_t nr_dir;                  /* 1 GiB slices from dir_base to the range's end */
	_Atomic(struct ccmm_chunk_table *) *dir; /* per slice, created on first touch */
};

/*
 * The encryption engine's two ways of keeping page data (ccmm_phys_set_mee_mode):
 * the bytes any reader sees are the same in both.
 *   ON_DEMAND  each line holds its writer's plaintext and key ID; the
 *              cipher runs only when the line is read under another key
 *   EAGER      each line holds its ciphertext: every write encrypts and
 *              every read decrypts (the reference mode)
 */
enum ccmm_mee_mode {
	CCMM_MEE_ON_DEMAND,
	CCMM_MEE_EAGER,
	CCMM_MEE_MODE_NR
};

/* "on-demand", "eager"; the NULL-terminated list, for option tables. */
const char *ccmm_mee_mode_name(enum ccmm_mee_mode mode);
extern const char *const ccmm_mee_mode_names[];
/* Inverse of ccmm_mee_mode_name; -1 if unknown. */
int ccmm_mee_mode_parse(const char *name);

struct ccmm_phys {
	size_t nr;
	struct ccmm_phys_range *range; /* same order as platform ranges */
	/*
	 * Per 1 GiB of physical address space from 0 (up to 1 PiB): the range
	 * + 1 that covers all of it, CCMM_GRANULE_HOLE when nothing does, or
	 * CCMM_GRANULE_MIXED (look it up among the ranges)
	 */
	uint16_t *granule;
	size_t nr_granules;
	enum ccmm_mee_mode mee_mode;
	atomic_size_t chunks_allocated, tables_allocated, pages_with_data;
	/* the read digest (ccmm_phys_digest_start), off unless asked for */
	bool digest_on;
	atomic_uint_fast64_t digest_sum, digest_reads, digest_bytes, digest_mismatched;
	_Atomic uint64_t other_bytes;   /* records charged with ccmm_phys_charge_host (conversion history) */
	uint64_t budget;                /* host bytes chunks, page data and records may take (ccmm_phys_host_bytes) */
	_Atomic uint64_t exhausted_pa;  /* the first page refused for want of host memory; UINT64_MAX: none */
};

/* ------------------------------------------------------------------ */
/* Memory-encryption engine                                            */
/* ------------------------------------------------------------------ */

/* Key IDs. The engine derives a distinct AES-128-XTS key for each. */
#define CCMM_KEYID_NONE  0 /* plaintext: shared memory, no C-bit */
#define CCMM_KEYID_HOST  1 /* SME host key */
#define CCMM_KEYID_GUEST 2 /* SEV/SNP guest key, TDX private HKID */
#define CCMM_KEYID_EPC   3 /* SGX MEE */
#define CCMM_NR_KEYIDS   8

struct ccmm_mee;

/*
 * ccmm_mee_create - an engine whose keys are derived (SHA-256) from @seed,
 * so a run is reproducible, at the first use of the cipher (a run that
 * never needs it never starts libcrypto; an OpenSSL failure then is the
 * cipher call's -EIO). Returns 0 or -ENOMEM.
 */
int ccmm_mee_create(uint64_t seed, struct ccmm_mee **out);
void ccmm_mee_destroy(struct ccmm_mee *mee);

/*
 * ccmm_mee_encrypt / ccmm_mee_decrypt - AES-128-XTS of @len bytes (a
 * multiple of 64) at physical address @pa (64-byte aligned) under @keyid,
 * each 64-byte line a data unit tweaked by its own address, from @in to
 * @out (the same buffer, or not overlapping). A run of lines takes one ECB
 * call into libcrypto per page (the blocks; a second for the tweaks when
 * the page's are not in the thread's tweak cache of 64 pages), with
 * contexts keyed once per thread and key. Key ID 0 copies. Thread-safe:
 * each thread keeps its own cipher contexts and tweak cache (256 KiB,
 * allocated by the first run of 8 lines or more, freed at thread exit).
 * Returns 0, -EINVAL (bad key ID or alignment),
 * -ENOMEM or -EIO (OpenSSL failed).
 */
int ccmm_mee_encrypt(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out,
		     size_t len);
int ccmm_mee_decrypt(struct ccmm_mee *mee, unsigned keyid, uint64_t pa, const uint8_t *in, uint8_t *out,
		     size_t len);

/* One 64-byte line, as ccmm_mee_encrypt / ccmm_mee_decrypt with @len 64. */
int ccmm_mee_encrypt_line(struct ccmm_mee *mee, unsigned keyid, uint64_t pa,
			  const uint8_t *in, uint8_t *out);
int ccmm_mee_decrypt_line(struct ccmm_mee *mee, unsigned keyid, uint64_t pa,
			  const uint8_t *in, uint8_t *out);

/* ------------------------------------------------------------------ */
/* The machine                                                         */
/* ------------------------------------------------------------------ */

struct ccmm_pgtable;
struct ccmm_ctx;

/*
 * Called by the MMU for every leaf installed (@map) or removed in a page
 * table that tracks its mappings; see mmu/mmu.h. @ctx may be NULL when a
 * page table is torn down outside any actor.
 */
typedef void (*ccmm_map_hook)(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t pa,
			      uint64_t size, uint64_t pte, bool map);

#define CCMM_MAX_SUBSYS 32 /* registered subsystems (platform/subsys.h) */

struct ccmm_kthread;
struct ccmm_sched;

struct ccmm_machine {
	struct ccmm_platform *plat; /* owned */
	uint64_t seed;
	struct ccmm_phys phys;
	struct ccmm_mee *mee;
	uint64_t enc_mask;          /* ccmm_platform_enc_mask() */
	uint64_t pa_mask;           /* physical-address bits of a PTE */
	ccmm_map_hook map_hook;     /* set by check/ (ccmm_mmu_set_map_hook) */
	struct ccmm_pgtable *direct_map; /* the (guest) kernel's page table, set by mm/ at boot */
	atomic_uint next_pgt_id;

	void *sub[CCMM_MAX_SUBSYS];     /* registered subsystems' state (platform/subsys.h) */
	struct ccmm_kthread *kthreads;  /* its kernel threads, as subsystems created them (sched/sched.h) */
	struct ccmm_sched *sched;       /* who runs them: set by a scheduler (sched/sched.h); NULL: nobody yet */
	uint64_t cost[CCMM_COST_MAX];   /* every registered cost in ns (or MB/s), by index: the
					 * machine's own from the platform, the rest set by boot/ */
};

/*
 * ccmm_machine_create - instantiate @plat (ownership passes to the machine,
 * also on error). Sets up sparse physical memory and the encryption engine;
 * upper layers are attached by ccmm_boot(). Returns 0 or -ENOMEM / -EIO.
 */
int ccmm_machine_create(struct ccmm_platform *plat, uint64_t seed, struct ccmm_machine **out);
void ccmm_machine_destroy(struct ccmm_machine *m);

/* The physical-memory range holding @pa, or NULL for a hole. */
struct ccmm_phys_range *ccmm_phys_range_of(struct ccmm_machine *m, uint64_t pa);

/*
 * ccmm_phys_range_at - ccmm_phys_range_of with its common case inline: a
 * GiB of address space that one range covers whole (or nothing covers).
 * For the paths every modeled access takes.
 */
static inline struct ccmm_phys_range *ccmm_phys_range_at(struct ccmm_machine *m, uint64_t pa)
{
	uint64_t g = pa >> CCMM_PUD_SHIFT;

	if (g < m->phys.nr_granules) {
		unsigned v = m->phys.granule[g];

		if (v == CCMM_GRANULE_HOLE)
			return NULL;
		if (v != CCMM_GRANULE_MIXED)
			return &m->phys.range[v - 1];
	}
	return ccmm_phys_range_of(m, pa);
}

/*
 * ccmm_phys_page - the metadata of the page holding @pa, creating its chunk
 * when @create is set (-ENOMEM on failure). Returns NULL for a hole, or
 * for an untouched page when !@create. The caller holds the chunk lock
 * (ccmm_phys_lock) for anything but a racy peek.
 */
struct ccmm_page *ccmm_phys_page(struct ccmm_machine *m, uint64_t pa, bool create);

/*
 * ccmm_phys_peek - copy the metadata of the page at @pa into @out, with the
 * range default for untouched pages. Returns 0, or -EFAULT for a hole.
 * Takes and drops the chunk lock.
 */
int ccmm_phys_peek(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *out);

/* The chunk holding @pa (created as for ccmm_phys_page), or NULL. */
struct ccmm_chunk *ccmm_phys_chunk(struct ccmm_machine *m, uint64_t pa, bool create);

/* As ccmm_phys_chunk, within the range @r (from ccmm_phys_range_of) that holds @pa: one range lookup fewer. */
struct ccmm_chunk *ccmm_phys_chunk_in(struct ccmm_machine *m, struct ccmm_phys_range *r, uint64_t pa, bool create);

/* The chunk that holds page @pg, the metadata of @pa (it must come from a chunk, not a copy). */
static inline struct ccmm_chunk *ccmm_page_chunk(struct ccmm_page *pg, uint64_t pa)
{
	struct ccmm_page *first = pg - ((pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1));

	return (struct ccmm_chunk *)(void *)((char *)first - offsetof(struct ccmm_chunk, page));
}

/* Lock / unlock the chunk of @pa, creating it; returns the page or NULL (hole / -ENOMEM). */
struct ccmm_page *ccmm_phys_lock(struct ccmm_machine *m, uint64_t pa);
void ccmm_phys_unlock(struct ccmm_machine *m, uint64_t pa);

/* As ccmm_phys_lock, within the range @r (from ccmm_phys_range_of) that holds @pa. */
struct ccmm_page *ccmm_phys_lock_in(struct ccmm_machine *m, struct ccmm_phys_range *r, uint64_t pa);

/* The chunk of @pa within @r if it exists (never creates it): two acquire loads. */
static inline struct ccmm_chunk *ccmm_phys_chunk_peek(const struct ccmm_phys_range *r, uint64_t pa)
{
	uint64_t idx = (pa - r->dir_base) >> CCMM_CHUNK_SHIFT;
	struct ccmm_chunk_table *t = atomic_load_explicit(&r->dir[idx / CCMM_CHUNK_TABLE_SIZE], memory_order_acquire);

	return t ? atomic_load_explicit(&t->chunk[idx % CCMM_CHUNK_TABLE_SIZE], memory_order_acquire) : NULL;
}

/*
 * ccmm_phys_lock_at - ccmm_phys_lock_in with its common case inline: the
 * chunk exists (two acquire loads, then its lock). Same result and
 * locking; creates the chunk through ccmm_phys_lock_in otherwise.
 */
static inline struct ccmm_page *ccmm_phys_lock_at(struct ccmm_machine *m, struct ccmm_phys_range *r, uint64_t pa)
{
	struct ccmm_chunk *c = ccmm_phys_chunk_peek(r, pa);

	if (!c)
		return ccmm_phys_lock_in(m, r, pa);
	ccmm_lock_acquire(&c->lock);
	return &c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
}

/* Unlock the chunk of page @pg (locked by ccmm_phys_lock for @pa) without looking it up. */
static inline void ccmm_page_unlock(struct ccmm_page *pg, uint64_t pa)
{
	ccmm_lock_release(&ccmm_page_chunk(pg, pa)->lock);
}

/*
 * ccmm_page_set_state - change a page's state and owner, keeping the
 * chunk's private count right. Caller holds the chunk lock.
 */
void ccmm_page_set_state(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *pg,
			 enum ccmm_page_state state, uint16_t owner);

/*
 * ccmm_phys_rw - move @len bytes at @pa (within one page) between DRAM and
 * @buf through the encryption engine under @keyid, as a memory controller
 * does: per 64-byte line, read-modify-write for partial lines. A read of a
 * line written under another key yields that key's ciphertext decrypted
 * under @keyid, i.e. scrambled bytes; *@mismatch (if not NULL) is set when
 * that happened. Never-written pages read as zeros. Caller holds the chunk
 * lock. Returns 0, -EINVAL (crosses a page), -EFAULT (hole), -ENOMEM, -EIO.
 */
int ccmm_phys_rw(struct ccmm_machine *m, uint64_t pa, void *buf, size_t len, bool write,
		 unsigned keyid, bool *mismatch);

/*
 * ccmm_page_rw - ccmm_phys_rw on the page @pg (the metadata of @pa, from
 * ccmm_phys_lock and still locked), without looking it up again. @pg may
 * be NULL for a read of an untouched page (zeros). Same returns, less
 * -EFAULT.
 */
int ccmm_page_rw(struct ccmm_machine *m, struct ccmm_page *pg, uint64_t pa, void *buf, size_t len, bool write,
		 unsigned keyid, bool *mismatch);

/*
 * ccmm_page_copy - read @len bytes at @spa (page @spg) under @skey and
 * write them at @dpa (page @dpg) under @dkey, each within its page: the
 * same bytes and mismatch flag as ccmm_page_rw into a buffer and back, and
 * the same bytes into the read digest (a copy that starts or ends inside a
 * line is digested as up to three reads, its partial lines apart, so the
 * digest's sum and read count can differ from one read's), but whole
 * lines that line up go from page to page in one pass
 * (eager: one cipher pass per key that is not 0; on-demand: a memcpy when
 * the source lines were written under @skey). Both chunk locks held (one
 * when both pages share a chunk). @spg may be NULL (untouched: zeros).
 * Returns 0, -EINVAL (crosses a page, bad key ID), -ENOMEM, -EIO.
 */
int ccmm_page_copy(struct ccmm_machine *m, struct ccmm_page *dpg, uint64_t dpa, unsigned dkey, struct ccmm_page *spg,
		   uint64_t spa, unsigned skey, size_t len, bool *mismatch);

/*
 * ccmm_phys_digest_add - add one read of @len bytes at @pa under @keyid,
 * as they read (@buf), to the read digest (when it is on: the caller
 * tests m->phys.digest_on); @mismatched: written under another key. For
 * ccmm_page_copy_same_key, which reads without a call into phys.c.
 */
void ccmm_phys_digest_add(struct ccmm_machine *m, uint64_t pa, unsigned keyid, const void *buf, size_t len,
			  bool mismatched);

/*
 * ccmm_page_copy_same_key - ccmm_page_copy of the whole page at @spa
 * (page-aligned; page @spg) onto the whole page @dpg under @dkey, in the
 * on-demand engine mode, when every line of the source was written under
 * @skey (so it reads as its stored bytes, with no mismatch): the same
 * bytes, line keys and read digest as ccmm_page_copy, inline, for the
 * checker's fast path. Returns true when done; false, with nothing done,
 * when the case does not hold (a page without data, the same page, the
 * eager mode, a line under another key): the caller then calls
 * ccmm_page_copy. Both chunk locks held (one when both pages share a
 * chunk). @dkey and @skey below CCMM_NR_KEYIDS.
 */
static inline bool ccmm_page_copy_same_key(struct ccmm_machine *m, struct ccmm_page *dpg, unsigned dkey,
					   const struct ccmm_page *spg, uint64_t spa, unsigned skey)
{
	typedef uint64_t tags __attribute__((vector_size(16)));
	const struct ccmm_page_data *sd = spg->data;
	struct ccmm_page_data *dd = dpg->data;
	uint64_t r = 0x0101010101010101ULL * skey;
	tags rep = { r, r }, w0, w1, w2, w3, x;
	size_t n = CCMM_PAGE_SIZE;

	_Static_assert(CCMM_LINES_PER_PAGE == 64, "four vectors of line keys");
	if (!sd || !dd || dd == sd || m->phys.mee_mode != CCMM_MEE_ON_DEMAND)
		return false;
	/* the 64 line keys as 4 vectors of two words: all @skey (never 0xff, a line never written) */
	memcpy(&w0, sd->line_key, 16);
	memcpy(&w1, sd->line_key + 16, 16);
	memcpy(&w2, sd->line_key + 32, 16);
	memcpy(&w3, sd->line_key + 48, 16);
	x = (w0 ^ rep) | (w1 ^ rep) | (w2 ^ rep) | (w3 ^ rep);
	if (x[0] | x[1])
		return false;
	if (m->phys.digest_on)
		ccmm_phys_digest_add(m, spa, skey, sd->bytes, CCMM_PAGE_SIZE, false);
	/* the library's memcpy, as a benchmark's baseline calls it, not an inline expansion */
	__asm__("" : "+r"(n));
	memcpy(dd->bytes, sd->bytes, n);
	memset(dd->line_key, (int)dkey, CCMM_LINES_PER_PAGE);
	return true;
}

/*
 * ccmm_phys_set_mee_mode - keep page data in @mode from now on. Only
 * before the first byte is written: -EBUSY once a page holds data; -EINVAL
 * for an unknown mode. A new machine starts in CCMM_MEE_ON_DEMAND.
 */
int ccmm_phys_set_mee_mode(struct ccmm_machine *m, enum ccmm_mee_mode mode);

/*
 * The read digest: with it on, every read out of modeled DRAM
 * (ccmm_phys_rw, ccmm_page_rw, ccmm_page_copy) adds a hash of its address,
 * key ID, length and bytes to an order-independent sum, so two runs that
 * read the same bytes (on any number of threads) get the same digest. For
 * checking that the two engine modes show every reader the same bytes.
 * ccmm_phys_digest_start zeroes and starts it (before the run's threads).
 */
struct ccmm_read_digest {
	uint64_t sum;        /* sum of the reads' hashes */
	uint64_t reads, bytes;
	uint64_t mismatched; /* reads of a line written under another key */
};
void ccmm_phys_digest_start(struct ccmm_machine *m);
void ccmm_phys_digest(struct ccmm_machine *m, struct ccmm_read_digest *out);

/* Bytes of physical-memory metadata allocated now: directories, chunk tables, chunks (not page data). */
size_t ccmm_phys_metadata_bytes(struct ccmm_machine *m);


/* The page's data, allocated (reading as zeros) if it has none. Chunk lock held. NULL: -ENOMEM. */
struct ccmm_page_data *ccmm_phys_page_data(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *pg);

/* Drop a page's data (it reads as zeros again): TDX conversions lose content. Chunk lock held. */
void ccmm_phys_discard(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *pg);

/*
 * The host memory a run's touched pages take: a struct ccmm_chunk_table per
 * 1 GiB and a struct ccmm_chunk per 2 MiB touched, a struct
 * ccmm_page_data per page written, and the records
 * subsystems keep per page as it goes (ccmm_phys_charge_host: the
 * conversion history). Together they may take at most m->phys.budget bytes
 * (ccmm_platform_host_limit() at machine creation), so a job that touches
 * more than the host can hold fails cleanly instead of being killed by the
 * host's OOM killer: past the budget, ccmm_phys_chunk/page/lock/page_data
 * return NULL (-ENOMEM to their callers), ccmm_phys_charge_host returns
 * false, and the first refused address is remembered (the engine then stops
 * the run).
 *
 * ccmm_phys_host_bytes - bytes taken now. ccmm_phys_exhausted - whether a
 * page was refused, and which (*@pa, may be NULL). ccmm_phys_charge_host -
 * charge @bytes of records about the page at @pa; false (nothing charged)
 * past the budget. Lock-free.
 */
uint64_t ccmm_phys_host_bytes(struct ccmm_machine *m);
bool ccmm_phys_exhausted(struct ccmm_machine *m, uint64_t *pa);
bool ccmm_phys_charge_host(struct ccmm_machine *m, uint64_t pa, uint64_t bytes);

/* ------------------------------------------------------------------ */
/* Contexts: who acts, and the modeled clock                           */
/* ------------------------------------------------------------------ */

enum ccmm_counter {
#define CCMM_CTR_ENUM(name, help) CCMM_CTR_##name,
	CCMM_COUNTERS(CCMM_CTR_ENUM)
#undef CCMM_CTR_ENUM
	CCMM_CTR_NR
};

/* Name and meaning of each of the machine's own counters; indexed by enum ccmm_counter. */
extern const struct ccmm_counter_info ccmm_counter_info[CCMM_CTR_NR];

/* The machine's own costs and counters as the block the registry puts first (base 0). */
extern struct ccmm_cost_block ccmm_core_block;

/*
 * Attribution: the modeled time a context spends for a device, by kind, so
 * reports can say what bouncing, conversions, exits and IOTLB misses cost
 * each device apart. A context serving a device says so (attr_dev); costs
 * it is charged while inside a bounce or a conversion are of that kind
 * (attr_scope); the others by the cost itself (#VE, TDVMCALL, hypercalls,
 * VMGEXIT and VM exits are exits; iotlb_miss_ns IOTLB misses; the secure
 * world's page operations and direct-map splits conversions).
 */
#define CCMM_ATTR_DEVS 16   /* devices attributed apart (the platform's first 16) */

enum ccmm_attr_kind {
	CCMM_ATTR_BOUNCE,       /* SWIOTLB bounce copies: n counts bytes */
	CCMM_ATTR_CONVERSION,   /* private <-> shared conversions (set_memory_*, MapGPA, PVALIDATE ...) */
	CCMM_ATTR_EXIT,         /* #VE, TDVMCALLs, hypercalls, VMGEXITs, VM exits */
	CCMM_ATTR_IOTLB,        /* IOTLB misses */
	CCMM_ATTR_OTHER,        /* everything else done for the device */
	CCMM_ATTR_NR
};

/* "bounce_copies", "conversions", "exits", "iotlb_misses", "other" */
extern const char *const ccmm_attr_kind_names[CCMM_ATTR_NR];

/*
 * The acting context: which actor, its modeled clock (ns) and its counts.
 * One per actor (and per thread in stress mode); never shared.
 */
struct ccmm_task;

struct ccmm_ctx {
	struct ccmm_machine *m;
	int actor;               /* index in the job, -1: none */
	struct ccmm_task *task;  /* "current": the process this context runs as (cgroup/); NULL: a kernel thread */
	int cpu;                 /* the CPU it runs on (SWIOTLB picks its area by it); -1 (ccmm_ctx_init's
				  * default): the actor index modulo the platform's CPUs */
	const char *actor_name;
	uint64_t now_ns;         /* modeled time */
	/* per cost: modeled ns charged and occurrences; per counter: events. Indexed by
	 * enum ccmm_cost / ccmm_counter for the machine's own, CCMM_COST_AT / CCMM_CTR_AT
	 * for a subsystem's (platform/costs.h) */
	uint64_t cost_ns[CCMM_COST_MAX];
	uint64_t cost_n[CCMM_COST_MAX];
	uint64_t ctr[CCMM_CTR_MAX];
	struct ccmm_rng rng;
	const char *op;          /* the operation under way, for events ("set_memory_decrypted") */
	struct ccmm_where where; /* job-file line of that operation, if any */
	uint64_t copy_memo[3];   /* ccmm_charge_copy's last (bytes, MB/s, ns): accesses repeat their sizes */
	/* attribution (zero in a zeroed context: no device, no scope, copies at copy_mbps) */
	int attr_dev;            /* the device served + 1 (platform index); 0: none */
	int attr_scope;          /* enum ccmm_attr_kind + 1 while in a bounce or conversion; 0: by cost */
	unsigned copy_line;      /* the cost line copies are charged to (a *_mbps cost); 0: copy_mbps */
	uint64_t attr_ns[CCMM_ATTR_DEVS][CCMM_ATTR_NR];
	uint64_t attr_n[CCMM_ATTR_DEVS][CCMM_ATTR_NR];
};

/* Zero @ctx and bind it to @m and an actor (cpu -1: derived from the actor); the RNG stream is the actor index. */
void ccmm_ctx_init(struct ccmm_ctx *ctx, struct ccmm_machine *m, int actor, const char *name);

/*
 * ccmm_ctx_attribute - add @ns of cost @c (@n occurrences, or bytes for a
 * bandwidth) to the device the context serves, under the kind its scope
 * or the cost gives. ccmm_charge and ccmm_charge_copy call it; no-op
 * without attr_dev.
 */
void ccmm_ctx_attribute(struct ccmm_ctx *ctx, unsigned c, uint64_t ns, uint64_t n);

/* A bounce's bytes, once per bounce (its copy's reads and writes add only time). No-op without attr_dev. */
void ccmm_ctx_attribute_bytes(struct ccmm_ctx *ctx, enum ccmm_attr_kind kind, uint64_t bytes);

/* Charge @n occurrences of cost @c (enum ccmm_cost or CCMM_COST_AT) to the context's clock. */
static inline void ccmm_charge(struct ccmm_ctx *ctx, unsigned c, uint64_t n)
{
	uint64_t t = ctx->m->cost[c] * n;

	ctx->now_ns += t;
	ctx->cost_ns[c] += t;
	ctx->cost_n[c] += n;
	if (ctx->attr_dev)
		ccmm_ctx_attribute(ctx, c, t, n);
}

/* ccmm_charge_copy's division and attribution, when @bytes or the bandwidth is not what it last charged (machine.c). */
void ccmm_charge_copy_new(struct ccmm_ctx *ctx, uint64_t bytes);

/*
 * Charge a copy of @bytes at the modeled copy bandwidth: copy_mbps, or the
 * bandwidth line the context's copy_line names (a bounce's copies are
 * swiotlb_bounce_mbps, a line of their own). Inline: accesses repeat their
 * sizes, so the division is remembered (an attributing context always
 * takes the out-of-line path).
 */
static inline void ccmm_charge_copy(struct ccmm_ctx *ctx, uint64_t bytes)
{
	unsigned line = ctx->copy_line ? ctx->copy_line : CCMM_COST_copy_mbps;
	uint64_t mbps = ctx->m->cost[line], t;

	if (bytes != ctx->copy_memo[0] || mbps != ctx->copy_memo[1] || ctx->attr_dev) {
		ccmm_charge_copy_new(ctx, bytes);
		return;
	}
	t = ctx->copy_memo[2];
	ctx->now_ns += t;
	ctx->cost_ns[line] += t;
	ctx->cost_n[line] += bytes;
}

/*
 * Scopes for attribution: ccmm_ctx_scope_enter() makes the costs charged
 * until the matching ccmm_ctx_scope_leave() count as @kind (and, when
 * @copy_line is not 0, copies are charged to that line); scopes nest, the
 * outermost wins. Returns what leave needs to restore.
 */
struct ccmm_ctx_scope {
	int scope;
	unsigned copy_line;
};
static inline struct ccmm_ctx_scope ccmm_ctx_scope_enter(struct ccmm_ctx *ctx, enum ccmm_attr_kind kind,
							  unsigned copy_line)
{
	struct ccmm_ctx_scope saved = { ctx->attr_scope, ctx->copy_line };

	if (!ctx->attr_scope) {
		ctx->attr_scope = (int)kind + 1;
		if (copy_line)
			ctx->copy_line = copy_line;
	}
	return saved;
}

static inline void ccmm_ctx_scope_leave(struct ccmm_ctx *ctx, struct ccmm_ctx_scope saved)
{
	ctx->attr_scope = saved.scope;
	ctx->copy_line = saved.copy_line;
}

/* Count @n events of counter @c (enum ccmm_counter or CCMM_CTR_AT). */
static inline void ccmm_count(struct ccmm_ctx *ctx, unsigned c, uint64_t n)
{
	ctx->ctr[c] += n;
}

/* Add @src's clock-independent figures (costs and counters) into @dst. */
void ccmm_ctx_accumulate(struct ccmm_ctx *dst, const struct ccmm_ctx *src);

#pragma GCC visibility pop

#endif /* CCMM_PLATFORM_H */
