/* SPDX-License-Identifier: MIT */
/*
 * tier.h - memory tiers, demotion in lieu of discard, and vmstat (layer 3).
 * Seed 004, "Migrate Pages in lieu of discard" (Dave Hansen, 2021), and the
 * kernel's later mm/memory-tiers.c.
 *
 *   nodes -> abstract distance (DRAM 576; PMEM, CXL, HBM from kind or from
 *            latency/bandwidth relative to DRAM) -> tiers 128 wide
 *
 *   tier 4  (DRAM)   node 0 ----------+          node 3 --------+
 *                                     | preferred               | preferred
 *   tier 9  (CXL)    node 1 <---------+          node 4 <-------+
 *                       | preferred                 |
 *   tier 22 (PMEM)   node 2 <------------------     node 5 <----
 *
 *   establish_demotion_targets: a node not in the last tier demotes to the
 *   best-distance nodes of the next tier (preferred) and may fall back to
 *   any lower tier (allowed); next_demotion_node picks a preferred one. The
 *   2021 series' order (passes from the CPU nodes with find_next_best_node,
 *   one target per node) is selectable, as are explicit targets from the
 *   platform file, which must not form cycles. Recomputed on hotplug.
 *
 *   allocation: zonelist order (or MPOL_BIND), above the low watermark;
 *   node_reclaim first where node_reclaim_mode asks (our pages are mapped:
 *   it needs RECLAIM_UNMAP); then kswapd is woken, a node above min is
 *   taken, or the task reclaims directly (an allocation stall)
 *
 *   reclaim (kswapd between the low and high watermarks, or direct when an
 *   allocation finds the node below min): scan the node's anon and file
 *   LRUs with second chance; pass 1 migrates victims to the demotion target
 *   (an allocation there that never reclaims); pages that fail fall back
 *   to pass 2, normal reclaim: clean file pages are dropped, dirty ones
 *   written back, anon pages swapped out while swap lasts. Memory-cgroup
 *   reclaim never demotes (it would not reduce the cgroup's usage): this
 *   layer installs it as the memory controller's reclaim hook (cgroup.h),
 *   over the pages charged to the cgroup and below it.
 *
 *   promotion (kernel.numa_balancing = 2): a slow-tier page referenced again
 *   after it landed there takes a NUMA hint fault and moves back to the
 *   task's top-tier node when that node has room above its high
 *   watermark; otherwise kswapd is woken there to make room
 *
 *   anon reclaimable?   swap space, demotion OK  -> yes
 *                       swap space, demotion off -> yes
 *                       swap full,  demotion OK  -> yes
 *                       swap full,  demotion off -> no     (seed 004)
 *
 * Pages come from the real page allocator (ccmm_alloc_pages on the node),
 * so capacity and watermarks are the node's own. Each replaying task keeps
 * a map of its virtual pages to resident pages, swap slots or evicted file
 * pages, so refaults are real.
 *
 * Locking: one mutex per machine (the tier lock) serialises the LRUs,
 * the task maps and reclaim; demotion targets are read under it too.
 */
#ifndef CCMM_TIER_H
#define CCMM_TIER_H

#include "mm/mm.h"
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
#define CCMM_TIER_COSTS(X) \
	X(swap_in_ns, 80000, \
	  "major fault served from an NVMe swap device, fault path included (estimate)") \
	X(swap_out_ns, 20000, "writing a 4 KiB page to swap, amortised (estimate)") \
	X(file_read_ns, 80000, "refault of a file page read back from NVMe (estimate)") \
	X(writeback_ns, 20000, "writeback of a dirty file page before reclaim (estimate)") \
	X(migrate_page_ns, 2500, \
	  "migrating one 4 KiB page: allocation, copy, rmap and PTE update, TLB flush (estimate)") \
	X(lru_scan_ns, 80, "looking at one LRU page during reclaim (estimate)")
#define CCMM_TIER_COUNTERS(X) \
	X(page_refs, "page references replayed from traces") \
	X(refaults, "references that found their page swapped out or evicted") \
	X(slow_tier_hits, "references served by a node below the top memory tier") \
	X(demotions, "pages this context demoted during reclaim") \
	X(reclaimed, "pages this context reclaimed (swapped out, dropped or written back)")

CCMM_COST_BLOCK_DECLARE(tier, CCMM_TIER_COSTS, CCMM_TIER_COUNTERS)

/* node_reclaim_mode bits (Documentation/admin-guide/sysctl/vm.rst) */
#define CCMM_RECLAIM_ZONE    0x1
#define CCMM_RECLAIM_WRITE   0x2
#define CCMM_RECLAIM_UNMAP   0x4
#define CCMM_RECLAIM_MIGRATE 0x8 /* the series' new bit: demote during reclaim */

/* Abstract distances (mm/memory-tiers.c) */
#define CCMM_MEMTIER_CHUNK_BITS 7
#define CCMM_MEMTIER_CHUNK_SIZE (1 << CCMM_MEMTIER_CHUNK_BITS)
#define CCMM_MEMTIER_ADISTANCE_DRAM ((4 * CCMM_MEMTIER_CHUNK_SIZE) + (CCMM_MEMTIER_CHUNK_SIZE >> 1))
#define CCMM_MEMTIER_ADISTANCE_PMEM (CCMM_MEMTIER_ADISTANCE_DRAM * 5) /* the dax/kmem default */

enum ccmm_demotion_order {
	CCMM_DEMOTE_TIERS,    /* memory tiers: preferred = best distance in the next tier */
	CCMM_DEMOTE_PASSES,   /* the 2021 series: passes from CPU nodes, find_next_best_node */
};

#define CCMM_NO_NODE (-1)

struct ccmm_demotion {
	int adist[CCMM_MAX_NODES];       /* abstract distance per node */
	bool online[CCMM_MAX_NODES];
	uint32_t preferred[CCMM_MAX_NODES]; /* node mask of preferred targets */
	uint32_t allowed[CCMM_MAX_NODES];   /* node mask of lower tiers (fallback) */
	int nr_tiers;
	uint32_t tier_nodes[CCMM_MAX_NODES]; /* fastest tier first */
	int tier_id[CCMM_MAX_NODES];         /* adistance >> 7 of each tier */
	uint64_t generation;                 /* bumped on every recomputation */
};

/*
 * ccmm_node_abstract_distance - the node's abstract distance: from its
 * latency/bandwidth relative to DRAM's when the platform gives them (as
 * mt_perf_to_adistance), else from its kind: DRAM 576, PMEM 2880 (the
 * dax/kmem default), CXL 1152 and HBM 448 (estimates: CXL-attached DRAM
 * at about twice, HBM at about three quarters of DRAM's). DRAM's reference
 * figures are those of the first CPU node that gives them.
 */
int ccmm_node_abstract_distance(const struct ccmm_platform *p, int node);

/*
 * ccmm_demotion_compute - fill @d for the online nodes (@online, NULL:
 * all) with policy @order, honouring explicit targets in the platform
 * (node demote_to). Returns 0, or -ELOOP when explicit targets form a
 * cycle, -EINVAL when one points at a node in the same or a faster tier or
 * at an offline node. Models establish_demotion_targets() /
 * __set_migration_target_nodes(). Pure.
 */
int ccmm_demotion_compute(const struct ccmm_platform *p, const bool *online, enum ccmm_demotion_order order,
			  struct ccmm_demotion *d);

/*
 * ccmm_next_demotion_node - a target for @node: one of the preferred
 * nodes, picked with @rng when there are several; CCMM_NO_NODE for a
 * terminal node. Models next_demotion_node().
 */
int ccmm_next_demotion_node(const struct ccmm_demotion *d, int node, struct ccmm_rng *rng);

/* ---- the per-machine tier state ------------------------------------------- */

struct ccmm_tier_config {
	unsigned node_reclaim_mode;  /* CCMM_RECLAIM_* */
	bool promotion;              /* kernel.numa_balancing = 2 (NUMA_BALANCING_MEMORY_TIERING) */
	uint64_t swap_pages;         /* swap space, pages */
	enum ccmm_demotion_order order;
	unsigned batch;              /* SWAP_CLUSTER_MAX: pages per reclaim round (32) */
};

#define CCMM_VMSTATS(X)                                                   \
	X(pgfault)                                                        \
	X(pgmajfault)                                                     \
	X(pgscan_kswapd)                                                  \
	X(pgscan_direct)                                                  \
	X(pgsteal_kswapd)                                                 \
	X(pgsteal_direct)                                                 \
	X(pgdemote_kswapd)                                                \
	X(pgdemote_direct)                                                \
	X(pgmigrate_success)                                              \
	X(pgmigrate_fail)                                                 \
	X(pswpin)                                                         \
	X(pswpout)                                                        \
	X(workingset_refault_anon)                                        \
	X(workingset_refault_file)                                        \
	X(pgactivate)                                                     \
	X(kswapd_wakeups)                                                 \
	X(numa_hint_faults)                                               \
	X(pgpromote_candidate)                                            \
	X(pgpromote_success)                                              \
	X(allocstall)                                                     \
	X(oom_kill)

enum ccmm_vmstat {
#define CCMM_VMSTAT_ENUM(name) CCMM_VM_##name,
	CCMM_VMSTATS(CCMM_VMSTAT_ENUM)
#undef CCMM_VMSTAT_ENUM
	CCMM_VM_NR
};

extern const char *const ccmm_vmstat_names[CCMM_VM_NR];

struct ccmm_tier;

/* The registration of tier/: its init attaches the tier state (0 or -ENOMEM). */
extern struct ccmm_subsys ccmm_subsys_tier;

/*
 * ccmm_tier_configure - set node_reclaim_mode, swap size, the demotion
 * order and the reclaim batch; recomputes demotion targets. 0, or the
 * errors of ccmm_demotion_compute.
 */
int ccmm_tier_configure(struct ccmm_machine *m, const struct ccmm_tier_config *cfg);

/* A copy of the current demotion targets. */
void ccmm_tier_demotion(struct ccmm_machine *m, struct ccmm_demotion *out);

/*
 * ccmm_node_hotplug - bring @node online or take it offline, as memory
 * hotplug does, and recompute demotion targets. Offlining migrates the
 * node's pages to other online nodes first; -EBUSY when they do not fit
 * (nothing changes), -EINVAL for an unknown node, -EALREADY when the node
 * is already in that state. The page allocator stops or starts using the
 * node.
 */
int ccmm_node_hotplug(struct ccmm_ctx *ctx, int node, bool online);

/* ---- tasks: the page references of a process ------------------------------- */

struct ccmm_tier_task;

struct ccmm_cgroup;
struct ccmm_task;

/*
 * ccmm_tier_task_create - a process whose pages live on @node (preferred;
 * the allocator falls back by distance unless @bind, MPOL_BIND to the
 * node) and are anonymous (@anon) or file pages. @memcg (may be NULL:
 * nothing is charged) is the memory cgroup every resident page is charged
 * to (mem_cgroup_charge at fault, uncharged when reclaim frees the page
 * or the task exits; demotion and promotion keep the charge); the task
 * takes a reference on it. Over the cgroup's memory.max the memory
 * controller runs memcg reclaim (this layer's hook: it never demotes) and
 * at last its OOM killer, which may pick @proc (may be NULL). 0, -EINVAL
 * (no such node), -ENOMEM.
 */
int ccmm_tier_task_create(struct ccmm_machine *m, int node, bool anon, bool bind, struct ccmm_cgroup *memcg,
			  struct ccmm_task *proc, struct ccmm_tier_task **out);

/* Free every page the task holds and its swap slots. */
void ccmm_tier_task_destroy(struct ccmm_tier_task *t);

/*
 * ccmm_tier_access - one page reference (@vpn, @write) by @t: a hit
 * charges the latency of the node the page is on; a first touch allocates
 * (minor fault); a page swapped out or evicted comes back (major fault,
 * a refault). Allocation below the node's low watermark wakes kswapd
 * (background, charged to the node's kswapd context), below min it
 * reclaims directly (charged to @ctx, an allocation stall). Returns 0,
 * -ENOMEM when nothing can be reclaimed (the task would be OOM-killed: the
 * caller decides).
 */
int ccmm_tier_access(struct ccmm_ctx *ctx, struct ccmm_tier_task *t, uint64_t vpn, bool write);

/* Per-task figures. */
struct ccmm_tier_task_stats {
	uint64_t refs, hits_fast, hits_slow, minor_faults, refaults, resident, swapped, evicted;
};
/* A snapshot of @t's figures (takes the tier lock). */
void ccmm_tier_task_stats(struct ccmm_tier_task *t, struct ccmm_tier_task_stats *s);

/* ---- reclaim ------------------------------------------------------------------- */

/*
 * ccmm_tier_reclaim - reclaim up to @nr pages from @node's LRUs (shrink
 * the node), as kswapd (@kswapd) or directly; @memcg non-NULL makes it
 * memcg reclaim of the pages charged to @memcg or below, which never
 * demotes (the memory controller's hook does this over every node).
 * Returns the pages freed on @node (demoted + reclaimed).
 */
uint64_t ccmm_tier_reclaim(struct ccmm_ctx *ctx, int node, uint64_t nr, bool kswapd, struct ccmm_cgroup *memcg);

/*
 * ccmm_can_reclaim_anon - the series' can_reclaim_anon_pages(): anonymous
 * pages of @node are reclaimable if there is swap space, or (for global
 * reclaim) if demotion is enabled and @node has a target.
 */
bool ccmm_can_reclaim_anon(struct ccmm_machine *m, int node, bool memcg_reclaim);

/* Watermarks of @node in pages. */
void ccmm_node_watermarks(struct ccmm_machine *m, int node, uint64_t *min, uint64_t *low, uint64_t *high);

/* ---- counters ------------------------------------------------------------------- */

uint64_t ccmm_vmstat_get(struct ccmm_machine *m, enum ccmm_vmstat item);

/*
 * ccmm_vmstat_write - /proc/vmstat format ("name value" per line): the
 * node free/LRU counts (nr_free_pages, nr_inactive_anon, nr_inactive_file,
 * nr_swap_pages used) then the events above. Returns 0 or -EIO.
 */
int ccmm_vmstat_write(struct ccmm_machine *m, FILE *out);

/* The modeled cost of one reference hitting @node: its latency by kind or from the platform. */
uint64_t ccmm_node_access_ns(const struct ccmm_platform *p, int node);

#pragma GCC visibility pop

#endif /* CCMM_TIER_H */
