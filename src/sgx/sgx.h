/* SPDX-License-Identifier: MIT */
/*
 * sgx.h - Intel SGX: the enclave page cache, enclaves, EPC paging and
 * reclaim under the misc cgroup controller (layer 3).
 *
 *   platform [epc:NAME] sections
 *        |
 *        v
 *   struct ccmm_epc_page[]      one per EPC page: its EPCM entry (valid,
 *   (per section, free lists    type, enclave, linear address, blocked,
 *    per NUMA node)             pending) and its reclaim state:
 *
 *       FREE --alloc--> NOT_TRACKED --mark_reclaimable--> RECLAIMABLE
 *         ^               |   (VA, SECS, vEPC:              | isolate
 *         |               |    UNRECLAIMABLE)                v
 *         +----free-------+<---------EWB done------ RECLAIM_IN_PROGRESS
 *                                                     (young: back to the tail)
 *
 *   struct ccmm_sgx_encl        SECS + version-array (VA) pages + regular/TCS
 *                               pages in ELRANGE; mapped by one or more mms
 *                               (mm_list); backing storage (a shmem file in
 *                               the kernel: data pages + PCMD pages, 32 per
 *                               page) from the page allocator, charged to a
 *                               memory cgroup
 *
 *   paging cycle                reclaim: zap PTEs (TLB shootdown), EBLOCK,
 *                               EWB -> SGX_NOT_TRACKED? ETRACK, EWB ->
 *                               still? IPI, EWB: ciphertext + MAC to
 *                               backing, version to a VA slot; the SECS goes
 *                               last, when its child count drops to zero.
 *                               fault: ELDU the SECS if it was evicted (the
 *                               EAUG race fix), then ELDU the page (MAC and
 *                               version checked) or EAUG a new one.
 *
 *   charging                    every EPC page is charged (misc sgx_epc,
 *                               PAGE_SIZE) to the allocating task's misc
 *                               cgroup, and kept on that cgroup's LRU
 *
 *   reclaim (policy "series",   cgroup limit hit -> reclaim the cgroup's
 *    the EPC cgroup v16/v17)    subtree, round-robin over its descendants
 *                               (a cursor per cgroup), 16 pages a batch;
 *                               physical EPC exhausted -> global reclaim:
 *                               the same from the root; ksgxd wakes below
 *                               32 free pages and reclaims to 64; faults
 *                               may not reclaim: they queue the cgroup's
 *                               async work and retry
 *   policy "global"             one global LRU (mainline without cgroups);
 *                               a cgroup limit scans it for the cgroup's
 *                               pages (what Dave Hansen called unspeakably
 *                               inefficient; kept for measurement)
 *   policy "cgroup"             per-cgroup LRUs, and physical exhaustion
 *                               also reclaims only from the faulting
 *                               cgroup's subtree (Hansen's counter-example:
 *                               other users do not pay their share); no
 *                               ksgxd
 *
 *   charge_mm (seed 004)        backing storage is charged to the memcg of
 *                               current->mm in direct reclaim; ksgxd and the
 *                               async work pass NULL and the enclave's
 *                               mm_list is searched for a live mm
 *
 *   OOM                         nothing reclaimable in the subtree: the
 *                               allocation fails with -ENOMEM; the enclave's
 *                               process fails (ioctl) or takes SIGBUS
 *                               (fault) and its release frees every page,
 *                               charge and backing page. vEPC pages are
 *                               never reclaimable; a guest whose vEPC fault
 *                               cannot be served gets SIGBUS.
 *
 * The EPC cgroup series was posted up to v17 (2024) and never merged:
 * ccmm models it as posted. Where seed 004 settles a question ccmm does
 * what it settled: cgroup limit -> cgroup reclaim, physical limit ->
 * global reclaim; enclave hits its limit, allocation fails (no OOM
 * killer choosing other victims); lowering misc.max does not reclaim;
 * charge_mm is passed down (NULL for indirect reclaim).
 *
 * Modeled data: enclave pages hold real bytes in the EPC, written and read
 * through the memory-encryption engine under CCMM_KEYID_EPC; EWB encrypts
 * them again under a paging key with a MAC (HMAC-SHA-256) over data,
 * version and address, so ELDU detects tampering and replay.
 *
 * Locking (outermost first): mmap_lock, encl->lock, the LRU lock of a
 * cgroup (or the global LRU lock), the free-list lock; the cgroup tree lock
 * is only taken for walks, never while holding the others. Enclave
 * threads hold encl->tlb for reading while inside the enclave; a TLB
 * shootdown takes it for writing (the IPI that forces an AEX).
 */
#ifndef CCMM_SGX_H
#define CCMM_SGX_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "check/check.h"
#include "mm/mm.h"
#include "sched/sched.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/*
 * The modeled costs (X(name, default, source): ns per occurrence, as in
 * platform/costs.h) and the event counters (X(name, help)) of this
 * subsystem, declared once; a platform's [cost] section overrides a cost
 * by name.
 */
#define CCMM_SGX_COSTS(X) \
	X(sgx_ecreate_ns, 3000, "ECREATE of the SECS page (estimate)") \
	X(sgx_eadd_ns, 2500, \
	  "EADD: copy and encrypt one 4 KiB page into the EPC and extend the measurement " \
	  "header (estimate)") \
	X(sgx_eextend_ns, 500, \
	  "EEXTEND of one 256-byte chunk (SHA-256 in microcode; 16 per measured page; " \
	  "estimate)") \
	X(sgx_einit_ns, 60000, \
	  "EINIT: signature check of SIGSTRUCT and the launch token, tens of microseconds " \
	  "(estimate)") \
	X(sgx_eaug_ns, 2000, "EAUG of one pending page (SGX2; estimate)") \
	X(sgx_eaccept_ns, 1500, "EACCEPT of an EAUGed page inside the enclave (SGX2; estimate)") \
	X(sgx_epa_ns, 1000, "EPA: turn an EPC page into a version-array page (estimate)") \
	X(sgx_eblock_ns, 300, "EBLOCK: mark an EPC page blocked (estimate)") \
	X(sgx_etrack_ns, 800, "ETRACK: start a TLB tracking cycle on the SECS (estimate)") \
	X(sgx_ewb_ns, 7000, \
	  "EWB: encrypt and MAC one page to regular memory with its version in a VA slot. " \
	  "Papers put a whole EPC swap (EWB + ELDU with the exits) near 40k cycles, ~13us " \
	  "at 3 GHz (Orenbach et al., Eleos, EuroSys 2017); the split is an estimate") \
	X(sgx_eldu_ns, 6000, \
	  "ELDU/ELDB: verify and decrypt one page back into the EPC (the other part of the " \
	  "~40k-cycle swap, Eleos, EuroSys 2017; split estimated)") \
	X(sgx_eremove_ns, 500, "EREMOVE of one EPC page (estimate)") \
	X(sgx_aex_ns, 3000, \
	  "asynchronous enclave exit on a fault plus ERESUME: several thousand cycles " \
	  "(Weisse et al., HotCalls, ISCA 2017, measure enclave transitions at ~8-14k " \
	  "cycles round trip; estimate)") \
	X(sgx_epc_ref_ns, 40, \
	  "one page reference by enclave code replayed from a trace: a mix of cached and " \
	  "MEE-decrypted misses (estimate)") \
	X(sgx_lru_scan_ns, 25, \
	  "look at one node of an EPC LRU list: a dependent cache miss (estimate)")
#define CCMM_SGX_COUNTERS(X) \
	X(sgx_eadd, "EPC pages EADDed") \
	X(sgx_eaug, "EPC pages EAUGed (SGX2)") \
	X(sgx_ewb, "EPC pages written back (EWB)") \
	X(sgx_eldu, "EPC pages loaded back (ELDU)") \
	X(sgx_etrack, "ETRACK tracking cycles") \
	X(sgx_ipis, "IPIs to kick threads out of an enclave") \
	X(sgx_eremove, "EPC pages EREMOVEd") \
	X(sgx_faults, "enclave page faults (ELDU, EAUG, retries)") \
	X(sgx_refs, "enclave page references") \
	X(sgx_scanned, "EPC LRU nodes scanned by the reclaimers") \
	X(sgx_second_chance, "young EPC pages moved to the LRU tail") \
	X(sgx_stalls, "EPC allocations that waited for reclaim") \
	X(sgx_sigbus, "SIGBUS delivered for an EPC fault")

CCMM_COST_BLOCK_DECLARE(sgx, CCMM_SGX_COSTS, CCMM_SGX_COUNTERS)

#define CCMM_SGX_NR_TO_SCAN    16   /* pages per reclaim batch (SGX_NR_TO_SCAN) */
#define CCMM_SGX_NR_LOW_PAGES  32   /* ksgxd wakes below this many free pages */
#define CCMM_SGX_NR_HIGH_PAGES 64   /* ...and reclaims until this many are free */
#define CCMM_SGX_VA_SLOT_COUNT 512  /* version slots per VA page */
#define CCMM_SGX_PCMD_PER_PAGE 32   /* 128-byte PCMD entries per backing page */
#define CCMM_SGX_CG_MIN_FREE_PAGE CCMM_SGX_NR_LOW_PAGES   /* margin the async cgroup work keeps */
#define CCMM_SGX_CG_LOW_LIMIT (CCMM_SGX_CG_MIN_FREE_PAGE * 4) /* below this limit no margin is kept */
#define CCMM_SGX_NO_BACKING UINT64_MAX /* a backing-store slot without a page */

/* EWB/ELDU/EREMOVE results, as the ENCLS leaves return them. */
#define CCMM_SGX_NOT_TRACKED       11
#define CCMM_SGX_CHILD_PRESENT     13
#define CCMM_SGX_MAC_COMPARE_FAIL  16
#define CCMM_SGX_PAGE_NOT_BLOCKED  10

/* ------------------------------------------------------------------ */
/* EPC pages                                                           */
/* ------------------------------------------------------------------ */

enum ccmm_epc_state {
	CCMM_EPC_FREE,
	CCMM_EPC_NOT_TRACKED,         /* in use, not on an LRU (yet) */
	CCMM_EPC_RECLAIMABLE,         /* on its cgroup's (or the global) LRU */
	CCMM_EPC_RECLAIM_IN_PROGRESS, /* isolated by a reclaimer */
	CCMM_EPC_UNRECLAIMABLE,       /* VA, SECS and vEPC pages */
};

/* The EPC page state's name as reports print it. */
const char *ccmm_epc_state_name(enum ccmm_epc_state s);

/* EPCM page types (PT_*). */
enum ccmm_epcm_type {
	CCMM_PT_SECS,
	CCMM_PT_TCS,
	CCMM_PT_REG,
	CCMM_PT_VA,
	CCMM_PT_TRIM,
};

#define CCMM_EPCM_R 0x1
#define CCMM_EPCM_W 0x2
#define CCMM_EPCM_X 0x4

struct ccmm_sgx_cgroup;

struct ccmm_epc_page {
	uint64_t pa;
	struct ccmm_lru_node list;    /* free list or LRU; protected by that list's lock */
	void *owner;                  /* struct ccmm_sgx_encl_page, ccmm_sgx_va_page or ccmm_sgx_vepc */
	struct ccmm_sgx_cgroup *sgx_cg; /* charged to (holds a cgroup reference) */
	_Atomic uint8_t state;        /* enum ccmm_epc_state */
	uint8_t node;                 /* NUMA node of its section */
	/* EPCM entry: written by ENCLS under encl->lock (and with the enclave's threads out) */
	_Atomic uint8_t epcm_valid;
	_Atomic uint8_t epcm_blocked;
	_Atomic uint8_t epcm_pending; /* EAUGed, not yet EACCEPTed */
	uint8_t epcm_type;            /* enum ccmm_epcm_type */
	uint8_t epcm_perm;            /* CCMM_EPCM_R/W/X */
	_Atomic uint32_t epcm_encl;   /* owning enclave id (0: none) */
	_Atomic uint64_t epcm_linaddr;
	uint64_t block_gen;           /* the enclave's ETRACK generation when EBLOCKed */
};

/* ------------------------------------------------------------------ */
/* The SGX subsystem of a machine                                      */
/* ------------------------------------------------------------------ */

enum ccmm_sgx_policy {
	CCMM_SGX_POLICY_SERIES, /* per-cgroup LRUs, cgroup and global reclaim (the EPC cgroup series) */
	CCMM_SGX_POLICY_GLOBAL, /* one global LRU, scanned for a cgroup's pages at its limit */
	CCMM_SGX_POLICY_CGROUP, /* per-cgroup LRUs, every reclaim from the faulting cgroup's subtree */
	CCMM_SGX_POLICY_NR
};

extern const char *const ccmm_sgx_policy_names[]; /* "series", "global", "cgroup", NULL */

/* sgx_alloc_epc_page's reclaim argument (enum sgx_reclaim, seed 004). */
enum ccmm_sgx_reclaim {
	CCMM_SGX_NO_RECLAIM, /* fault paths: never reclaim synchronously */
	CCMM_SGX_DO_RECLAIM, /* ioctl paths: reclaim in this context if needed */
};

/* Why pages were reclaimed, for the per-cgroup figures. */
enum ccmm_sgx_cause {
	CCMM_SGX_CAUSE_LIMIT,  /* a cgroup hit its misc.max (direct or async work) */
	CCMM_SGX_CAUSE_GLOBAL, /* the physical EPC ran out (direct global reclaim or ksgxd) */
	CCMM_SGX_CAUSE_NR
};

/* Per-cgroup figures (counted where the page was charged). */
struct ccmm_sgx_cg_stats {
	uint64_t allocs;               /* EPC pages charged here */
	uint64_t faults;               /* enclave faults (ELDU, EAUG) of tasks here */
	uint64_t eldu;                 /* pages loaded back */
	uint64_t evicted[CCMM_SGX_CAUSE_NR]; /* pages of this cgroup written back, by cause */
	uint64_t second_chance;        /* young pages given another round */
	uint64_t stalls;               /* allocations that waited for reclaim */
	uint64_t stall_ns;             /* modeled time they waited (or reclaimed directly) */
	uint64_t charge_fail;          /* misc try-charges that hit a limit */
	uint64_t oom;                  /* allocations failed with -ENOMEM */
	uint64_t sigbus;               /* SIGBUS delivered */
	uint64_t peak_pages;           /* misc.peak in pages, at the time of the snapshot */
};

/* Counters behind struct ccmm_sgx_cg_stats, kept per EPC cgroup. */
enum ccmm_sgx_stat {
	CCMM_SGX_ST_ALLOCS,
	CCMM_SGX_ST_FAULTS,
	CCMM_SGX_ST_ELDU,
	CCMM_SGX_ST_EVICT_LIMIT,
	CCMM_SGX_ST_EVICT_GLOBAL,
	CCMM_SGX_ST_SECOND_CHANCE,
	CCMM_SGX_ST_STALLS,
	CCMM_SGX_ST_STALL_NS,
	CCMM_SGX_ST_CHARGE_FAIL,
	CCMM_SGX_ST_OOM,
	CCMM_SGX_ST_SIGBUS,
	CCMM_SGX_ST_NR
};

/* An EPC cgroup: the SGX state hung on a cgroup's sgx_epc misc resource. */
struct ccmm_sgx_cgroup {
	struct ccmm_cgroup *cg;
	pthread_mutex_t lru_lock;
	struct ccmm_lru lru;          /* reclaimable pages charged here */
	pthread_mutex_t next_lock;
	struct ccmm_sgx_cgroup *next_cg; /* round-robin cursor over the subtree (no reference) */
	struct ccmm_work reclaim_work; /* the async reclaim (sgx_cg_wq); pending while queued */
	_Atomic uint64_t st[CCMM_SGX_ST_NR];
};

struct ccmm_sgx_section {
	uint64_t base, size;
	int node;
	struct ccmm_epc_page *pages;
	uint64_t nr_pages;
};

struct ccmm_sgx_encl;

struct ccmm_sgx {
	struct ccmm_machine *m;
	struct ccmm_cgroup_root *cgroups;
	size_t nr_sections;
	struct ccmm_sgx_section *sections;
	uint64_t nr_pages;            /* total EPC pages */
	/* free lists, per NUMA node */
	pthread_mutex_t free_lock[CCMM_MAX_NODES];
	struct ccmm_lru free_list[CCMM_MAX_NODES];
	_Atomic long nr_free_pages;
	unsigned node_rr;             /* round-robin start for other nodes */
	/* policy and the global LRU (policy "global") */
	_Atomic int policy;
	pthread_mutex_t global_lru_lock;
	struct ccmm_lru global_lru;
	/* background reclaimers: kernel threads the scheduler runs (sched/) */
	struct ccmm_kthread ksgxd;    /* sleeps on ksgxd.wq (ksgxd_waitq) */
	bool ksgxd_kicked;            /* woken since it last looked (ksgxd.wq's lock) */
	_Atomic uint64_t ksgxd_kick_ns; /* modeled time of the latest wake-up */
	_Atomic uint64_t ksgxd_done_ns; /* modeled time its latest round ended */
	struct ccmm_workqueue cg_wq;  /* sgx_cg_wq: the cgroups' reclaim_work */
	bool workers;                 /* created (there is EPC) */
	/* progress: bumped whenever an EPC page is freed; faults waiting for reclaim sleep on the queue */
	struct ccmm_wait_queue_head progress_wq;
	uint64_t progress_seq;        /* progress_wq's lock */
	_Atomic uint64_t reclaim_advanced; /* pages a reclaim round aged (second chance) or wrote back, ever */
	/* EWB's and ELDU's AES-GCM: the paging key (from the machine seed) and keyed contexts to reuse */
	uint8_t paging_key[16];  /* derived at the first EWB or ELDU (paging_keyed, under paging_lock) */
	bool paging_keyed;
	pthread_mutex_t paging_lock;
	void **paging_ctx;            /* EVP_CIPHER_CTX *, idle (paging_lock) */
	size_t nr_paging_ctx, cap_paging_ctx;
	/* enclaves alive, for reports; id allocation */
	pthread_mutex_t encls_lock;
	struct ccmm_sgx_encl **encls;
	size_t nr_encls, cap_encls;
	uint32_t next_encl_id;
	_Atomic long nr_vepc;         /* virtual EPC sections open */
	/* knobs */
	bool eaug_race_bug;           /* the pre-fix EAUG path: no SECS reload (seed 004) */
	bool pcmd_race_bug;           /* the pre-fix truncation: a PCMD page goes under a reclaimer (2022) */
	/* wall-time figures for the benchmarks */
	_Atomic uint64_t reclaimed, scanned;
	/* moves after every change of an EPCM entry (ENCLS leaves, freeing a page): see ccmm_sgx_encl.walked */
	_Atomic uint64_t epcm_gen;
};

/*
 * The registration of sgx/. Its init sets up the EPC from the platform's
 * [epc:...] sections (sgx_page_cache_init): every page FREE on its node's
 * free list; the misc controller's sgx_epc capacity set to the EPC size
 * and the per-cgroup state attached (sgx_cgroup_init). A platform without
 * EPC gets an empty SGX (enclaves then fail with -ENODEV). It boots after
 * cgroup/. With EPC, ksgxd and the cgroup work queue's worker are kernel
 * threads of the machine (sched/): they run once a scheduler is attached
 * (the engine) or ccmm_kthreads_start() gave them threads. Its exit stops
 * them, releases every enclave and vEPC still alive and frees the EPC.
 */
extern struct ccmm_subsys ccmm_subsys_sgx;

/* The machine's SGX state (NULL before sgx/ is up). */
static inline struct ccmm_sgx *ccmm_sgx_of(struct ccmm_machine *m)
{
	return (struct ccmm_sgx *)ccmm_subsys_data(m, &ccmm_subsys_sgx);
}

/* Choose the reclaim policy. Only before the first EPC allocation: -EBUSY after. */
int ccmm_sgx_set_policy(struct ccmm_machine *m, enum ccmm_sgx_policy policy);

/* Free EPC pages now (sgx_nr_free_pages). */
static inline long ccmm_sgx_nr_free(const struct ccmm_sgx *sgx)
{
	return atomic_load(&sgx->nr_free_pages);
}

/* The EPC page at physical address @pa, or NULL when @pa is not EPC. */
struct ccmm_epc_page *ccmm_sgx_epc_page(struct ccmm_sgx *sgx, uint64_t pa);

/* The SGX state of cgroup @cg (its sgx_epc priv). */
static inline struct ccmm_sgx_cgroup *ccmm_sgx_cgroup_of(struct ccmm_cgroup *cg)
{
	return (struct ccmm_sgx_cgroup *)cg->misc[CCMM_MISC_SGX_EPC].priv;
}

/* A snapshot of @cg's figures. */
void ccmm_sgx_cgroup_stats(struct ccmm_cgroup *cg, struct ccmm_sgx_cg_stats *out);

/*
 * ccmm_sgx_fairness - Jain's fairness index over the cgroups (those with
 * at least one EPC allocation) of x_i = pages evicted from cgroup i by
 * global (physical-limit) reclaim / its peak EPC usage in pages: 1.0
 * when every cgroup pays for global pressure in proportion to what it
 * holds (Hansen: "*They* should be paying part of the cost"), 1/n when
 * one cgroup pays for all. Returns -1 when there was no global reclaim.
 */
double ccmm_sgx_fairness(struct ccmm_machine *m);

/* ------------------------------------------------------------------ */
/* The acting context                                                  */
/* ------------------------------------------------------------------ */

/*
 * "current": who calls into the driver. @task is NULL for kernel
 * threads (ksgxd, the workqueue), whose @mm is NULL too; the EPC cgroup
 * charged is @task's misc cgroup (the root for kernel threads).
 */
struct ccmm_sgx_current {
	struct ccmm_ctx *ctx;
	struct ccmm_task *task;
	struct ccmm_mm *mm;
};

/* ------------------------------------------------------------------ */
/* EPC allocation and the reclaimers                                   */
/* ------------------------------------------------------------------ */

/*
 * ccmm_sgx_alloc_epc_page - sgx_alloc_epc_page() of the series: charge
 * a page to current's EPC cgroup (cgroup reclaim on the limit with
 * DO_RECLAIM; with NO_RECLAIM queue the cgroup's async work and fail
 * -EBUSY), then take a free page (local node first), reclaiming globally
 * while none is free (DO_RECLAIM) or failing -EBUSY with ksgxd woken
 * (NO_RECLAIM); wake ksgxd below 32 free pages. The page comes back
 * NOT_TRACKED, owned by @owner. Returns the page, or NULL with *@err:
 * -ENOMEM (nothing reclaimable where it would have to come from),
 * -EBUSY (retry later), -EINTR (a fatal signal is pending), -ENODEV (no EPC).
 * Locking: takes LRU, free-list and enclave locks of other enclaves while
 * reclaiming; the caller holds no encl->lock when @reclaim is DO_RECLAIM.
 */
struct ccmm_epc_page *ccmm_sgx_alloc_epc_page(const struct ccmm_sgx_current *cur, void *owner,
					      enum ccmm_sgx_reclaim reclaim, int *err);

/* sgx_free_epc_page: EREMOVE already done by the caller; uncharge, back to the free list. */
void ccmm_sgx_free_epc_page(struct ccmm_sgx *sgx, struct ccmm_epc_page *page);

/* sgx_mark_page_reclaimable: onto its cgroup's LRU tail (or the global LRU). */
void ccmm_sgx_mark_page_reclaimable(struct ccmm_sgx *sgx, struct ccmm_epc_page *page);

/*
 * sgx_unmark_page_reclaimable: off the LRU before the page is freed.
 * -EBUSY when a reclaimer has it isolated (the caller retries later).
 */
int ccmm_sgx_unmark_page_reclaimable(struct ccmm_sgx *sgx, struct ccmm_epc_page *page);

/* Mark a page UNRECLAIMABLE (VA, SECS, vEPC); it stays off every LRU. */
void ccmm_sgx_mark_page_unreclaimable(struct ccmm_epc_page *page);

/*
 * ccmm_sgx_reclaim_pages - one batch of sgx_reclaim_pages() on @sgx_cg's
 * LRU (NULL: the global LRU): isolate up to 16 pages from the oldest
 * end, give young ones a second chance at the tail, get backing storage
 * charged to the memcg of @charge_mm (NULL: searched on each enclave's
 * mm_list), then zap, EBLOCK, EWB and free the others. @cause labels the
 * evictions in the figures. Returns the number of pages looked at.
 */
unsigned ccmm_sgx_reclaim_pages(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, struct ccmm_sgx_cgroup *sgx_cg,
				struct ccmm_mm *charge_mm, enum ccmm_sgx_cause cause);

/*
 * ccmm_sgx_cgroup_reclaim - reclaim from @root's subtree until at least
 * @nr_to_scan pages were looked at or the subtree has nothing reclaimable:
 * batches of 16 from one cgroup at a time, round-robin in pre-order from
 * @root's cursor (sgx_cgroup_reclaim_pages). Policy "global" scans the
 * global LRU for pages charged in the subtree instead. Returns the pages
 * looked at.
 */
unsigned ccmm_sgx_cgroup_reclaim(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, struct ccmm_sgx_cgroup *root,
				 struct ccmm_mm *charge_mm, unsigned nr_to_scan, enum ccmm_sgx_cause cause);

/* Whether @root's subtree has any page on an LRU (!sgx_cgroup_lru_empty). */
bool ccmm_sgx_cgroup_can_reclaim(struct ccmm_sgx *sgx, struct ccmm_sgx_cgroup *root);

/*
 * sgx_reclaim_direct: in an ioctl, before work that needs EPC: the
 * current cgroup's preemptive reclaim, then global reclaim if fewer than
 * 32 pages are free, charging backing storage to current->mm.
 */
void ccmm_sgx_reclaim_direct(const struct ccmm_sgx_current *cur);

/*
 * Wake ksgxd (wake_up(&ksgxd_waitq)) at @waker's modeled time: when it
 * runs next (as the scheduler decides), its clock is at least that, and
 * it reclaims until 64 pages are free or eight batches in a row freed
 * nothing. Never sleeps.
 */
void ccmm_sgx_ksgxd_wake(struct ccmm_sgx *sgx, struct ccmm_ctx *waker);

/* ------------------------------------------------------------------ */
/* Enclaves                                                            */
/* ------------------------------------------------------------------ */

#define CCMM_ENCL_CREATED     0x1
#define CCMM_ENCL_INITIALIZED 0x2
#define CCMM_ENCL_DEAD        0x4

#define CCMM_ENCL_PAGE_BEING_RECLAIMED 0x8 /* in desc */
#define CCMM_ENCL_PAGE_VA_OFFSET_MASK  0xff8

struct ccmm_sgx_va_page {
	struct ccmm_epc_page *epc_page;
	uint64_t slots[CCMM_SGX_VA_SLOT_COUNT / 64]; /* bit set: slot in use */
	unsigned used;
};

struct ccmm_sgx_encl_page {
	uint64_t desc;                   /* linear address | BEING_RECLAIMED | VA offset */
	struct ccmm_epc_page *epc_page;  /* NULL: not added yet, or swapped out */
	struct ccmm_sgx_encl *encl;
	struct ccmm_sgx_va_page *va_page; /* holds its version while swapped out */
	uint8_t type, perm;
	bool added;                      /* part of the enclave (EADDed or EAUGed) */
	uint64_t shadow;                 /* model check: the value the enclave last wrote at offset 0 */
};

struct ccmm_sgx_encl_mm {
	struct ccmm_mm *mm;
	struct ccmm_vma *vma;
};

struct ccmm_sgx_encl {
	struct ccmm_sgx *sgx;
	uint32_t id;
	char name[CCMM_NAME_MAX];
	uint64_t base, size, nr_pages;   /* ELRANGE; size a power of two */
	struct ccmm_mutex lock;          /* encl->lock: sleeping (sched/) */
	_Atomic long refcount;
	_Atomic unsigned flags;
	struct ccmm_sgx_encl_page secs;
	struct ccmm_sgx_encl_page *pages; /* [nr_pages] */
	/*
	 * [nr_pages] the replay's walk memo (ccmm_sgx_encl_access_batch), 8
	 * bytes a page side by side (the batch reads one per reference): W * 2
	 * + D when a walk made after the page table's and the EPCM's
	 * generations summed to W (ccmm_pgt_gen + epcm_gen + 1) found the page
	 * mapped with its accessed bit (and D: its dirty bit) and the EPCM
	 * check passed; 0: none. While the sum is still W a walk would find the
	 * same.
	 */
	_Atomic uint64_t *walked;
	struct ccmm_sgx_va_page **va_pages; /* the first has free slots, full ones at the end */
	size_t nr_va, cap_va;
	uint64_t page_cnt;               /* pages added, SECS included: a VA page per 512 */
	unsigned secs_child_cnt;
	/* mm_list */
	pthread_mutex_t mm_lock;
	struct ccmm_sgx_encl_mm *mms;
	size_t nr_mms, cap_mms;
	/* backing storage: index nr_pages is the SECS; PCMD pages hold 32 entries */
	uint64_t *backing;               /* pa of the data page, CCMM_SGX_NO_BACKING: none */
	struct ccmm_cgroup **backing_memcg;
	uint64_t *pcmd;
	uint16_t *pcmd_used;
	struct ccmm_cgroup **pcmd_memcg;
	uint64_t backing_pages;          /* pages held (data + PCMD) */
	/* TLB tracking (ETRACK) and enclave threads */
	pthread_rwlock_t tlb;            /* read: a thread inside; write: the IPI */
	pthread_mutex_t track_lock;
	uint64_t etrack_gen;
	unsigned nr_inside, nr_inside_old;
	/* statistics */
	_Atomic uint64_t nr_ewb, nr_eldu, nr_eaug, nr_faults, nr_etrack, nr_ipi;
};

/* An enclave thread (one logical processor running it). */
#define CCMM_SGX_TLB_ENTRIES 64 /* the enclave thread's TLB: direct-mapped by page index */

struct ccmm_sgx_thread {
	struct ccmm_sgx_encl *encl;
	bool inside;
	uint64_t entry_gen;
	/*
	 * Translations this thread walked since it entered (EENTER/ERESUME):
	 * the page index + 1 (0: empty) and whether the walk found or set the
	 * dirty bit. The processor checks the EPCM and sets the PTE's
	 * accessed/dirty bits when it fills a TLB entry, and flushes the
	 * enclave's entries on every exit (AEX, EEXIT); ccmm_sgx_enter starts
	 * with an empty TLB.
	 */
	struct {
		uint64_t tag;
		bool dirty;
	} tlb[CCMM_SGX_TLB_ENTRIES];
};

/*
 * ccmm_sgx_encl_create - open /dev/sgx_enclave, mmap ELRANGE [@base,
 * @base+@size) into @cur->mm and SGX_IOC_ENCLAVE_CREATE: the first VA
 * page and the SECS come from the EPC (charged to current, reclaim
 * allowed). @size must be a power of two of at least two pages and @base
 * aligned to it. Returns 0 and the enclave (one reference: the fd),
 * -EINVAL, -ENODEV (no EPC), -ENOMEM, -EINTR, -EEXIST (the range is mapped).
 */
int ccmm_sgx_encl_create(const struct ccmm_sgx_current *cur, uint64_t base, uint64_t size, const char *name,
			 struct ccmm_sgx_encl **out);

/* Map the enclave into another mm too (fork, or a second process): it joins mm_list. 0, -ENOMEM, -EEXIST. */
int ccmm_sgx_encl_mm_add(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_mm *mm);

/*
 * ccmm_sgx_encl_add_pages - SGX_IOC_ENCLAVE_ADD_PAGES for @count pages
 * from page index @first: each takes an EPC page (DO_RECLAIM), a VA page
 * every 512 pages, EADD of @src (4 KiB per page, NULL: zeros) with type
 * @type and permissions @perm, EEXTEND x16 when @measure, and goes onto
 * the LRU. Stops at a fatal signal (-EINTR) or an allocation failure
 * (-ENOMEM, -EBUSY). Returns the number of pages added (>= 0) if any
 * were, else the error; *@err (may be NULL) gets the error that stopped it.
 */
long ccmm_sgx_encl_add_pages(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl, uint64_t first,
			     uint64_t count, enum ccmm_epcm_type type, unsigned perm, const void *src, bool measure,
			     int *err);

/* SGX_IOC_ENCLAVE_INIT: EINIT. 0, -EINVAL (already, or no TCS). */
int ccmm_sgx_encl_init(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl);

/* EENTER / EEXIT around a run of accesses by @t; the thread holds the enclave's tlb lock for reading inside. */
void ccmm_sgx_enter(struct ccmm_sgx_thread *t, struct ccmm_sgx_encl *encl);
void ccmm_sgx_exit(struct ccmm_sgx_thread *t);

/*
 * ccmm_sgx_encl_access - one enclave-mode access by thread @t (inside) to
 * page @va of its enclave: translate through current->mm; a missing PTE
 * is a fault (a scheduling point; AEX, sgx_vma_fault: ELDU, or
 * EAUG+EACCEPT for a page never added, ERESUME); a fault whose allocation
 * must wait for reclaim (-EBUSY) sleeps until a page is freed and faults
 * again; then the EPCM check; then, at the first access since the fault
 * that mapped the page or since the reclaimer last aged it (the PTE lacks
 * the accessed bit, or the dirty bit for a write), the walker sets the
 * bits and 8 bytes at offset 0 move through the MEE: a write stores
 * ++shadow, a read checks it (enclave_data_lost when it differs). Later
 * accesses to the resident page (the bits already set) take the fast
 * path: a hit in @t's TLB (or the page table walk and EPCM check that
 * fill it), the sgx_epc_ref cost and the sgx_refs count, nothing else.
 * Returns 0; -EFAULT when the fault ends in SIGBUS (the task gets it);
 * -EINTR when a fatal signal is pending; -EINVAL outside ELRANGE. When
 * the scheduler finds that nothing can ever free a page for a waiting
 * fault (it would retry forever), the model records sgx_fault_livelock
 * and delivers SIGBUS.
 */
int ccmm_sgx_encl_access(const struct ccmm_sgx_current *cur, struct ccmm_sgx_thread *t, uint64_t va, bool write);

/*
 * ccmm_sgx_encl_access_batch - @n enclave-mode accesses by @t (inside), in
 * order: @refs[i] is a page index in ELRANGE shifted left by one, ORed
 * with 1 for a write. The same as @n calls of ccmm_sgx_encl_access (same
 * costs, counters, clock at every fault, same errors). An access to a page
 * whose last walk (ccmm_sgx_encl.walked) found it resident with its
 * accessed (and for a write its dirty) bit, when neither the page table
 * (ccmm_pgt_gen) nor any EPCM entry (sgx->epcm_gen) changed since, costs
 * no walk and no TLB look-up: it is what the walk would find, and the hits
 * are charged together before the next access that is not one. In threads
 * mode a change another thread makes during the batch is seen from the
 * next batch on (as the TLB's entries outlive it until the next exit).
 * Returns the number of accesses done; *@err is 0 when all @n were, else
 * the error of access number <return> (not done: -EFAULT, -EINTR, -EINVAL
 * as ccmm_sgx_encl_access).
 */
long ccmm_sgx_encl_access_batch(const struct ccmm_sgx_current *cur, struct ccmm_sgx_thread *t, const uint32_t *refs,
				size_t n, int *err);

/* ccmm_sgx_encl_access_batch for references kept in 16 bits (page index < 32768). */
long ccmm_sgx_encl_access_batch16(const struct ccmm_sgx_current *cur, struct ccmm_sgx_thread *t, const uint16_t *refs,
				  size_t n, int *err);

/*
 * ccmm_sgx_encl_access_batch for references kept a byte each: reference i
 * is @dict[@codes[i]] (a 16-bit value as in ccmm_sgx_encl_access_batch16;
 * @dict has an entry for every code used).
 */
long ccmm_sgx_encl_access_batch8(const struct ccmm_sgx_current *cur, struct ccmm_sgx_thread *t, const uint8_t *codes,
				 const uint16_t *dict, size_t n, int *err);

/*
 * Drop a reference (close the fd / munmap: sgx_encl_release on the last):
 * EREMOVE every page (children, VA pages, then the SECS), uncharge them,
 * free the backing storage and its memcg charges, unmap from every mm.
 * @ctx may be NULL. Pages a reclaimer holds are waited for.
 */
void ccmm_sgx_encl_put(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl);

/* EPC pages the enclave holds now (SECS, VA and children), and its backing pages. */
uint64_t ccmm_sgx_encl_epc_pages(struct ccmm_sgx_encl *encl);

/* Sanity: every resident page valid in the EPCM with this enclave and address, counts agree. 0 or -EUCLEAN. */
int ccmm_sgx_encl_is_valid(struct ccmm_sgx_encl *encl);

/* ------------------------------------------------------------------ */
/* Virtual EPC (virt.c)                                                */
/* ------------------------------------------------------------------ */

struct ccmm_sgx_vepc {
	struct ccmm_sgx *sgx;
	struct ccmm_mm *mm;
	struct ccmm_vma *vma;
	uint64_t base, size;
	pthread_mutex_t lock;
	struct ccmm_epc_page **pages;    /* [size / 4 KiB] */
	uint64_t nr_present;
};

/*
 * ccmm_sgx_vepc_open - open /dev/sgx_vepc and mmap @size bytes into
 * @cur->mm for a guest's virtual EPC section. No EPC is taken yet.
 * 0, -EINVAL, -ENODEV, -ENOMEM.
 */
int ccmm_sgx_vepc_open(const struct ccmm_sgx_current *cur, uint64_t size, struct ccmm_sgx_vepc **out);

/*
 * ccmm_sgx_vepc_fault - the guest touches page @index of its vEPC:
 * sgx_vepc_fault allocates an EPC page without reclaim (charged to
 * current's cgroup, UNRECLAIMABLE, never on an LRU) and maps it; -EBUSY
 * is retried once after the reclaimers ran (VM_FAULT_RETRY), anything
 * else is SIGBUS: the task gets it and -EFAULT is returned. 0 when mapped.
 */
int ccmm_sgx_vepc_fault(const struct ccmm_sgx_current *cur, struct ccmm_sgx_vepc *vepc, uint64_t index);

/* Close: EREMOVE and free every page (sgx_vepc_release). @ctx may be NULL. */
void ccmm_sgx_vepc_release(struct ccmm_ctx *ctx, struct ccmm_sgx_vepc *vepc);

/* ------------------------------------------------------------------ */
/* Rules                                                               */
/* ------------------------------------------------------------------ */

/* The rules of this subsystem: X(name, seed thread, summary). */
#define CCMM_SGX_RULES(X) \
	X(epcm_fault, "004", "an enclave access the EPCM refuses (invalid, another enclave's, wrong address, blocked or pending page)") \
	X(sgx_secs_evicted, "004", "EAUG or ELDU of a child page while the enclave's SECS is not in the EPC (the SECS reclaim vs. EAUG fault race)") \
	X(sgx_eldu_mac, "004", "ELDU found the backing page's MAC or version wrong: the backing storage was tampered with or replayed") \
	X(enclave_data_lost, "004", "an enclave read back something other than what it last wrote (data lost across EWB/ELDU)") \
	X(epc_charge_leak, "004", "EPC stayed charged to a cgroup after every enclave and guest released its pages") \
	X(sgx_fault_livelock, "004", "an EPC fault would retry forever: the engine found nothing that can run and free a page for it (the async cgroup work or ksgxd did nothing)") \
	X(sgx_reclaim_livelock, "004", "an EPC allocation's direct reclaim would retry forever: no page it may reclaim can be written back (their backing storage cannot be charged) and the engine found nothing that can run and free one")

CCMM_RULES_DECLARE(CCMM_SGX_RULES)

#pragma GCC visibility pop

#endif /* CCMM_SGX_H */
