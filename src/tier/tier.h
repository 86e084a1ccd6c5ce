/* SPDX-License-Identifier: MIT */
/*
 * tier.h - memory tiers, demotion in lieu of discard, promotion, and vmstat
 * (layer 3). Mainline Linux (mm/memory-tiers.c, mm/vmscan.c, mm/migrate.c,
 * mm/memcontrol.c) by default; seed 004's 2021 series ("Migrate Pages in
 * lieu of discard", Dave Hansen, never merged in that form) as a policy.
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
 *   top tiers are every tier down to the lowest that holds a node with
 *   CPUs (node_is_toptier). The 2021 series' order (passes from the CPU
 *   nodes with find_next_best_node, one target per node) is selectable, as
 *   are explicit targets from the platform file, which must not form
 *   cycles. Recomputed on hotplug.
 *
 *                       mainline (default)          reclaim_migrate (2021)
 *   switch              demotion_enabled             node_reclaim_mode bit 8
 *   memcg reclaim       demotes (pages stay          never demotes
 *                       charged: since 6.1)
 *   targets             lower tiers in the memcg's   the one target node
 *                       cpuset.mems: the preferred
 *                       one, else a random allowed
 *   target full         the allowed lower tiers,     fail: reclaim the page
 *                       nearest first                normally
 *                       (alloc_demote_folio)
 *   promotion into      any top tier (node_is_       the fastest tier (ccmm's
 *                       toptier)                     earlier model)
 *
 *   allocation: zonelist order (or MPOL_BIND) within the task's
 *   cpuset.mems, above the low watermark; node_reclaim first where
 *   node_reclaim_mode asks (our pages are mapped: it needs RECLAIM_UNMAP);
 *   then kswapd is woken, a node above min is taken, or the task reclaims
 *   directly (an allocation stall). Watermarks as __setup_per_zone_wmarks
 *   computes them from min_free_kbytes (calculate_min_free_kbytes unless
 *   set) and watermark_scale_factor, one zone per node.
 *
 *   reclaim (kswapd between the low and high watermarks, or direct when an
 *   allocation finds the node below min, or memcg reclaim over a limit):
 *   scan the node's anon and file LRUs with second chance; pass 1 migrates
 *   victims to a demotion target (an allocation there that never reclaims
 *   but wakes the target's kswapd); pages that fail fall back to pass 2,
 *   normal reclaim: clean file pages are dropped, dirty ones written back,
 *   anon pages swapped out while swap lasts. A demoted page counts as
 *   reclaimed (nr_reclaimed) though it keeps its memcg charge.
 *
 *   promotion (kernel.numa_balancing = 2): NUMA-balancing scans mark a
 *   task's pages on slow tiers; a reference to a marked page is a hint
 *   fault, and a page referenced within the hot threshold of its scan
 *   moves to the task's CPU node when that node has room above its
 *   promotion watermark; otherwise kswapd is woken there to make room
 *
 *   anon reclaimable?   swap space, demotion OK  -> yes
 *                       swap space, demotion off -> yes
 *                       swap full,  demotion OK  -> yes
 *                       swap full,  demotion off -> no     (seed 004)
 *
 * Pages come from the real page allocator (ccmm_alloc_pages on the node),
 * so capacity is the node's own. Each replaying task keeps a map of its
 * virtual pages to resident pages, swap slots or evicted file pages, so
 * refaults are real, and its page tables, RSS and swap entries are kept
 * for the OOM killer (ccmm_oom_badness).
 *
 * Locking: one mutex per machine (the tier lock) serialises the LRUs,
 * the task maps and reclaim; demotion targets are read under it too. The
 * memory controller's hook and charges are called without it held; it is
 * taken before the cgroup tree lock, never after.
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
	X(lru_scan_ns, 80, "looking at one LRU page during reclaim (estimate)") \
	X(numa_scan_pte_ns, 20, "NUMA balancing: marking one PTE PROT_NONE in task_numa_work (estimate)")
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
#define CCMM_RECLAIM_MIGRATE 0x8 /* the 2021 series' bit: demote during reclaim (never merged) */

/* Which kernel's demotion rules (see the table above). */
enum ccmm_demotion_policy {
	CCMM_DEMOTION_MAINLINE,        /* demotion_enabled, memcg reclaim demotes, cpuset-filtered fallback */
	CCMM_DEMOTION_RECLAIM_MIGRATE, /* seed 004's 2021 series: node_reclaim_mode RECLAIM_MIGRATE */
};

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
	int tier_id[CCMM_MAX_NODES];         /* adistance >> 7 of each tier: its sysfs memory_tierN */
	uint32_t toptier;                    /* node_is_toptier: tiers down to the lowest with a CPU node */
	uint64_t generation;                 /* bumped on every recomputation */
};

/*
 * ccmm_node_is_toptier - node_is_toptier(): @node is in a tier at or
 * above the lowest tier that holds a node with CPUs (top_tier_adistance),
 * or has no memory tier at all.
 */
static inline bool ccmm_node_is_toptier(const struct ccmm_demotion *d, int node)
{
	return node >= 0 && node < CCMM_MAX_NODES && (d->toptier & (1u << node));
}

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

/*
 * The knobs. A zeroed config is mainline with demotion and promotion off
 * and the kernel's defaults for the rest.
 */
struct ccmm_tier_config {
	enum ccmm_demotion_policy policy;
	bool demotion_enabled;       /* /sys/kernel/mm/numa/demotion_enabled (mainline policy) */
	unsigned node_reclaim_mode;  /* CCMM_RECLAIM_*; bit 8 demotes only under the reclaim_migrate policy */
	bool promotion;              /* kernel.numa_balancing = 2 (NUMA_BALANCING_MEMORY_TIERING) */
	uint64_t swap_pages;         /* swap space, pages */
	enum ccmm_demotion_order order;
	unsigned batch;              /* SWAP_CLUSTER_MAX: pages per reclaim round (0: 32) */
	uint64_t min_free_kbytes;    /* vm.min_free_kbytes (0: calculate_min_free_kbytes) */
	unsigned watermark_scale_factor; /* vm.watermark_scale_factor, 1/10000 of a node (0: 10) */
	/* NUMA balancing (kernel/sched/fair.c, debugfs sched/numa_balancing); 0: the kernel's default */
	uint64_t numa_scan_delay_ms;     /* first scan after the task starts (1000) */
	uint64_t numa_scan_period_ms;    /* between scans (scan_period_min_ms, 1000) */
	uint64_t numa_scan_size_mb;      /* address space marked per scan (256) */
	uint64_t numa_hot_threshold_ms;  /* numa_balancing_hot_threshold_ms: a hint fault sooner promotes (1000) */
};

/* Watermarks of a node in pages (one zone per node): min, low, high, promo. */
struct ccmm_watermarks {
	uint64_t min, low, high, promo;
};

/*
 * The /proc/vmstat items the model has, with the kernel's names, in the
 * order of vmstat_text[] (mm/vmstat.c): S() a state the model computes
 * (pages now), E() an event counter. Zone-suffixed families are printed
 * whole (allocstall_dma ... allocstall_device): the model's zones are
 * told by physical address (DMA below 16 MiB, DMA32 below 4 GiB, NORMAL
 * above), and a user page's direct reclaim counts in its highest zone,
 * MOVABLE (gfp_zone(GFP_HIGHUSER_MOVABLE)); the khugepaged members of
 * the reclaim families are 0 (no khugepaged is modeled).
 */
#define CCMM_VMSTATS(S, E)                                                \
	S(nr_free_pages)                                                  \
	S(nr_zone_inactive_anon)                                          \
	S(nr_zone_active_anon)                                            \
	S(nr_zone_inactive_file)                                          \
	S(nr_zone_active_file)                                            \
	S(nr_zone_unevictable)                                            \
	S(nr_mlock)                                                       \
	E(numa_hit)                                                       \
	E(numa_miss)                                                      \
	E(numa_foreign)                                                   \
	E(numa_interleave)                                                \
	E(numa_local)                                                     \
	E(numa_other)                                                     \
	S(nr_inactive_anon)                                               \
	S(nr_active_anon)                                                 \
	S(nr_inactive_file)                                               \
	S(nr_active_file)                                                 \
	S(nr_unevictable)                                                 \
	E(workingset_refault_anon)                                        \
	E(workingset_refault_file)                                        \
	S(nr_anon_pages)                                                  \
	S(nr_mapped)                                                      \
	S(nr_file_pages)                                                  \
	S(nr_dirty)                                                       \
	S(nr_page_table_pages)                                            \
	E(pgpromote_success)                                              \
	E(pgpromote_candidate)                                            \
	E(pgdemote_kswapd)                                                \
	E(pgdemote_direct)                                                \
	E(pgdemote_khugepaged)                                            \
	E(pswpin)                                                         \
	E(pswpout)                                                        \
	E(pgalloc_dma)                                                    \
	E(pgalloc_dma32)                                                  \
	E(pgalloc_normal)                                                 \
	E(pgalloc_movable)                                                \
	E(pgalloc_device)                                                 \
	E(allocstall_dma)                                                 \
	E(allocstall_dma32)                                               \
	E(allocstall_normal)                                              \
	E(allocstall_movable)                                             \
	E(allocstall_device)                                              \
	E(pgfree)                                                         \
	E(pgactivate)                                                     \
	E(pgdeactivate)                                                   \
	E(pgfault)                                                        \
	E(pgmajfault)                                                     \
	E(pgrefill)                                                       \
	E(pgsteal_kswapd)                                                 \
	E(pgsteal_direct)                                                 \
	E(pgsteal_khugepaged)                                             \
	E(pgscan_kswapd)                                                  \
	E(pgscan_direct)                                                  \
	E(pgscan_khugepaged)                                              \
	E(pgscan_anon)                                                    \
	E(pgscan_file)                                                    \
	E(pgsteal_anon)                                                   \
	E(pgsteal_file)                                                   \
	E(zone_reclaim_success)                                           \
	E(zone_reclaim_failed)                                            \
	E(kswapd_low_wmark_hit_quickly)                                   \
	E(kswapd_high_wmark_hit_quickly)                                  \
	E(pageoutrun)                                                     \
	E(oom_kill)                                                       \
	E(numa_pte_updates)                                               \
	E(numa_huge_pte_updates)                                          \
	E(numa_hint_faults)                                               \
	E(numa_hint_faults_local)                                         \
	E(numa_pages_migrated)                                            \
	E(pgmigrate_success)                                              \
	E(pgmigrate_fail)

enum ccmm_vmstat {
#define CCMM_VMSTAT_ENUM(name) CCMM_VM_##name,
	CCMM_VMSTATS(CCMM_VMSTAT_ENUM, CCMM_VMSTAT_ENUM)
#undef CCMM_VMSTAT_ENUM
	CCMM_VM_NR
};

extern const char *const ccmm_vmstat_names[CCMM_VM_NR];

struct ccmm_tier;

/* The registration of tier/: its init attaches the tier state (0 or -ENOMEM). */
extern struct ccmm_subsys ccmm_subsys_tier;

/* Whether @item is a state (pages now) rather than an event counter. */
bool ccmm_vmstat_is_state(enum ccmm_vmstat item);

/*
 * ccmm_tier_configure - set the knobs of @cfg (policy, demotion switch,
 * node_reclaim_mode, swap size, the demotion order, the reclaim batch,
 * watermarks, NUMA balancing); recomputes demotion targets and
 * watermarks. 0, or the errors of ccmm_demotion_compute; -EINVAL for a
 * watermark_scale_factor above 3000 (its sysctl range).
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
 * node) and are anonymous (@anon) or file pages. It runs on the CPUs of
 * @node, or of the nearest node with CPUs (its local node: numa_local,
 * NUMA-balancing promotion target). @memcg (may be NULL: nothing is
 * charged) is the memory cgroup every resident page is charged to
 * (mem_cgroup_charge at fault, uncharged when reclaim frees the page or
 * the task exits; demotion and promotion keep the charge); the task takes
 * a reference on it. Over the cgroup's memory.max the memory controller
 * runs memcg reclaim (this layer's hook, which demotes under the mainline
 * policy) and at last its OOM killer, which picks by oom_badness among
 * the cgroup's processes; @proc (may be NULL) is this task's process,
 * whose mm counters this layer keeps and whose cgroup's cpuset.mems
 * bound its allocations. 0, -EINVAL (no such node), -ENOMEM.
 */
int ccmm_tier_task_create(struct ccmm_machine *m, int node, bool anon, bool bind, struct ccmm_cgroup *memcg,
			  struct ccmm_task *proc, struct ccmm_tier_task **out);

/* Free every page the task holds and its swap slots. */
void ccmm_tier_task_destroy(struct ccmm_tier_task *t);

/*
 * ccmm_tier_task_set_policy - set_mempolicy(): MPOL_BIND to @node (@bind),
 * MPOL_PREFERRED @node, or with @node -1 MPOL_DEFAULT (the task's local
 * node first). Pages already placed stay (NUMA balancing and reclaim may
 * move them). -EINVAL for no such node.
 */
int ccmm_tier_task_set_policy(struct ccmm_tier_task *t, int node, bool bind);

/*
 * ccmm_tier_task_mlock - mlockall(MCL_CURRENT|MCL_FUTURE) (@on) or
 * munlockall(): pages go to (or come back from) the unevictable LRU,
 * where reclaim never looks (nr_mlock, nr_unevictable).
 */
void ccmm_tier_task_mlock(struct ccmm_tier_task *t, bool on);

/*
 * ccmm_tier_access - one page reference (@vpn, @write) by @t: a hit
 * charges the latency of the node the page is on; a first touch allocates
 * (minor fault); a page swapped out or evicted comes back (major fault,
 * a refault); a page a NUMA-balancing scan marked takes a hint fault
 * (and may be promoted). The charge comes first: over memory.max the
 * memory controller reclaims and may OOM-kill; over memory.high the task
 * is throttled (@ctx's clock). Allocation below the node's low watermark
 * wakes the node's kswapd (a kernel thread the engine's scheduler runs
 * beside the tasks: it reclaims to the high watermark on its own clock),
 * below min it reclaims directly (charged to @ctx, an allocation stall).
 * Without a scheduler (ccmm_sched_attach) or ccmm_kthreads_start, kswapd
 * does not run and allocations reclaim directly.
 * Returns 0; -EAGAIN when the memcg OOM killer chose another process
 * that has not exited yet (the reference did not happen: retry it once
 * the victim is gone); -ENOMEM when this process was chosen or nothing
 * can be reclaimed (the caller ends it).
 */
int ccmm_tier_access(struct ccmm_ctx *ctx, struct ccmm_tier_task *t, uint64_t vpn, bool write);

/* Per-task figures. */
struct ccmm_tier_task_stats {
	uint64_t refs, hits_fast, hits_slow, minor_faults, refaults, resident, swapped, evicted;
	uint64_t node_pages[CCMM_MAX_NODES]; /* resident pages per node (move_pages(2) with no target) */
	uint64_t pgtables;                   /* page-table pages */
};
/* A snapshot of @t's figures (takes the tier lock). */
void ccmm_tier_task_stats(struct ccmm_tier_task *t, struct ccmm_tier_task_stats *s);

/* ---- reclaim ------------------------------------------------------------------- */

/*
 * ccmm_tier_reclaim - reclaim up to @nr pages from @node's LRUs (shrink
 * the node), as kswapd (@kswapd) or directly; @memcg non-NULL makes it
 * memcg reclaim of the pages charged to @memcg or below (which demotes
 * under the mainline policy, never under reclaim_migrate; the memory
 * controller's hook does this over every node). Returns the pages freed
 * on @node (demoted + reclaimed: shrink_folio_list's nr_reclaimed).
 */
uint64_t ccmm_tier_reclaim(struct ccmm_ctx *ctx, int node, uint64_t nr, bool kswapd, struct ccmm_cgroup *memcg);

/*
 * ccmm_can_demote - can_demote(@node, sc, @memcg): demotion is switched
 * on (demotion_enabled, or RECLAIM_MIGRATE under the 2021 policy, where
 * memcg reclaim never demotes) and @node has a lower tier left after
 * filtering by @memcg's cpuset.mems (mainline; @memcg NULL: no filter).
 */
bool ccmm_can_demote(struct ccmm_machine *m, int node, struct ccmm_cgroup *memcg, bool memcg_reclaim);

/*
 * ccmm_can_reclaim_anon - can_reclaim_anon_pages(): anonymous pages of
 * @node are reclaimable if there is swap space, or if they can be
 * demoted (ccmm_can_demote with the same arguments).
 */
bool ccmm_can_reclaim_anon(struct ccmm_machine *m, int node, struct ccmm_cgroup *memcg, bool memcg_reclaim);

/* Watermarks of @node in pages (__setup_per_zone_wmarks). */
void ccmm_node_watermarks(struct ccmm_machine *m, int node, struct ccmm_watermarks *w);

/* The min_free_kbytes in effect (set, or calculate_min_free_kbytes of the online memory). */
uint64_t ccmm_tier_min_free_kbytes(struct ccmm_machine *m);

/* ---- counters ------------------------------------------------------------------- */

/* The value of vmstat item @item: a state now, or an event's count so far. */
uint64_t ccmm_vmstat_get(struct ccmm_machine *m, enum ccmm_vmstat item);

/*
 * ccmm_tier_node_stats - a node's share of the events above, as the
 * kernel keeps them per node (6.12: pgdemote_* on the lruvec of the node
 * being reclaimed, pgpromote_success on the target node's; node N's
 * vmstat in sysfs): pages demoted from @node and promoted to it. Zeros for
 * a node out of range. Takes the tier lock.
 */
void ccmm_tier_node_stats(struct ccmm_machine *m, int node, uint64_t *demoted, uint64_t *promoted);

/*
 * ccmm_vmstat_first_ns - the modeled time (the acting context's clock)
 * when event @item first moved; UINT64_MAX if it never did (or @item is a
 * state). For the order of events in a run: demotion before an OOM kill.
 */
uint64_t ccmm_vmstat_first_ns(struct ccmm_machine *m, enum ccmm_vmstat item);

/*
 * ccmm_vmstat_write - /proc/vmstat as vmstat_show() prints it ("%s %lu\n":
 * vmstat_text[i], a space, the value) for the items above, in their order.
 * Returns 0 or -EIO.
 */
int ccmm_vmstat_write(struct ccmm_machine *m, FILE *out);

/*
 * ccmm_node_meminfo_write - /sys/devices/system/node/nodeN/meminfo as
 * node_read_meminfo() prints it ("Node %d %-15s %8lu kB\n" per line) for
 * the lines the model has: MemTotal, MemFree, MemUsed, Active, Inactive,
 * Active(anon), Inactive(anon), Active(file), Inactive(file), Unevictable,
 * Mlocked, Dirty, FilePages, Mapped, AnonPages, PageTables. 0, -EINVAL
 * (no such node) or -EIO.
 */
int ccmm_node_meminfo_write(struct ccmm_machine *m, int node, FILE *out);

/* The tiering switches in effect, for sysfs: demotion_enabled ("true"/"false"). */
bool ccmm_tier_demotion_enabled(struct ccmm_machine *m);

/* The modeled cost of one reference hitting @node: its latency by kind or from the platform. */
uint64_t ccmm_node_access_ns(const struct ccmm_platform *p, int node);

#pragma GCC visibility pop

#endif /* CCMM_TIER_H */
