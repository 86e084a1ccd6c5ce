/* SPDX-License-Identifier: MIT */
/*
 * cgroup.h - a cgroup v2 hierarchy with the misc, memory and dmem
 * controllers (layer 3).
 *
 *   /                          root: cgroup.controllers = "cpuset memory misc dmem",
 *   |                          misc.capacity, misc.current, misc.peak
 *   +-- selftest               cgroup.subtree_control = "memory misc"
 *   |    +-- test1             misc.max "sgx_epc 16384", memory.max ...
 *   |    |    +-- test3        cgroup.procs: tasks (processes) live here
 *   |    +-- test2
 *   ...
 *
 *   interface files           one table of cftypes: name, controller,
 *   (cgroupfs)                root-only / not-on-root, show, write; read
 *                             and written by path ("/selftest/misc.max")
 *                             in the kernel's exact formats, and dumped
 *                             as a directory tree (complete or not at all)
 *
 *   misc controller           per resource (sev, sev_es, tdx, sgx_epc): usage,
 *   (kernel/cgroup/misc.c)    max, peak (watermark), events (hierarchical)
 *                             and events.local; a capacity per resource
 *                             set by its provider (SGX sets sgx_epc to the
 *                             EPC size). Try-charge walks leaf to root,
 *                             fails with -EBUSY over max or capacity at
 *                             any level, counts the event at that level
 *                             (local) and from there up (hierarchical),
 *                             and rolls back. A provider may hang private
 *                             per-cgroup state on a resource (alloc/free
 *                             ops): SGX keeps its per-cgroup LRUs there.
 *                             Writing misc.max never reclaims.
 *
 *   memory controller         page counters with usage, max, high, peak
 *   (mm/memcontrol.c)         and failcnt, memory.events / .events.local,
 *                             memory.stat (hierarchical statistics the
 *                             layer above keeps: memcg_stat_format);
 *                             hierarchical try-charge; over a limit it
 *                             calls the reclaim hook a layer above
 *                             installed (try_to_free_mem_cgroup_pages),
 *                             retries, and finally counts oom and kills
 *                             the task of the cgroup with the highest
 *                             oom_badness (the memcg OOM killer). Over
 *                             memory.high the charging task reclaims and
 *                             is throttled (mem_cgroup_handle_over_high).
 *                             Writing memory.max / memory.high reclaims
 *                             down to it.
 *
 *   cpuset controller         cpuset.mems and cpuset.mems.effective
 *   (kernel/cgroup/cpuset.c)  (v2): the nodes a cgroup's tasks allocate
 *                             from and its pages may be demoted to
 *
 *   dmem controller           device memory (kernel/cgroup/dmem.c, merged
 *   (kernel/cgroup/dmem.c)    for 6.14; ccmm models v6.14): regions a
 *                             driver registers (TTM's VRAM: "drm/DEV/vram0"),
 *                             a pool per region per cgroup, created on
 *                             first use, with a byte page counter (usage,
 *                             max, min, low, watermark); try-charge walks
 *                             leaf to root and fails with -EAGAIN naming
 *                             the pool whose max it hit (the limit pool
 *                             TTM evicts within); min/low give effective
 *                             protection as memory.min/low do
 *                             (recursive_prot); dmem.capacity,
 *                             dmem.current, dmem.min, dmem.low, dmem.max.
 *
 *   tasks                     processes with a pid, their address space
 *                             (the key for get_mem_cgroup_from_mm) and a
 *                             fatal-signal flag (SIGKILL from cgroup.kill
 *                             or the OOM killer, SIGBUS from a fault)
 *
 * Controllers follow cgroup v2 rules: a child has a controller's files
 * when its parent enables it in cgroup.subtree_control (the root has all);
 * a task is charged to the nearest ancestor-or-self that has the
 * controller (the effective css); no process lives in a non-root cgroup
 * that enables controllers for its children.
 *
 * The SGX EPC controller (sgx_epc) comes from the EPC cgroup series
 * (v16/v17, 2024), which was never merged into Linux: ccmm models the
 * series as posted.
 *
 * Units: misc resources are charged in their own units (sgx_epc in
 * bytes, a page at a time); memory in pages, shown in bytes.
 *
 * Locking: the hierarchy (cgroups, tasks, subtree_control) is under the
 * root's tree lock (a rwlock: cgroup_mutex); counters are atomics, as in
 * the kernel; a cgroup is reference-counted (css_get / css_put) and freed
 * after rmdir once the last reference (a charged page, an iterator)
 * drops. Functions take the locks they need unless they say otherwise.
 */
#ifndef CCMM_CGROUP_H
#define CCMM_CGROUP_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "platform/platform.h"
#include "platform/subsys.h"
#include "util/util.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/* ------------------------------------------------------------------ */
/* Types                                                               */
/* ------------------------------------------------------------------ */

/* Controllers, in the kernel's cgroup.controllers order (cpuset cpu io memory hugetlb pids rdma misc). */
enum ccmm_cgroup_ctrl {
	CCMM_CGRP_CPUSET,
	CCMM_CGRP_MEMORY,
	CCMM_CGRP_MISC,
	CCMM_CGRP_DMEM,    /* after misc, as SUBSYS(dmem) in cgroup_subsys.h */
	CCMM_CGRP_NR
};

#define CCMM_CGRP_MASK_ALL ((1u << CCMM_CGRP_NR) - 1)

/* Misc resources (enum misc_res_type), in the kernel's order. */
enum ccmm_misc_res_type {
	CCMM_MISC_SEV,     /* "sev": SEV ASIDs */
	CCMM_MISC_SEV_ES,  /* "sev_es": SEV-ES ASIDs */
	CCMM_MISC_TDX,     /* "tdx": TDX private host KeyIDs (HKIDs), one per TD (mainline since 6.16) */
	CCMM_MISC_SGX_EPC, /* "sgx_epc": EPC bytes (the EPC cgroup series) */
	CCMM_MISC_NR
};

/*
 * memory.events keys, in the order __memory_events_show() prints them
 * (mm/memcontrol.c). sock_throttled is current mainline's (the network
 * stack's memcg throttling, counted since the change "memcg: expose
 * socket memory pressure in a cgroup", after 6.12); 6.12 prints the six
 * before it. ccmm models no sockets: it stays 0.
 */
enum ccmm_memcg_event {
	CCMM_MEMCG_LOW,
	CCMM_MEMCG_HIGH,
	CCMM_MEMCG_MAX,
	CCMM_MEMCG_OOM,
	CCMM_MEMCG_OOM_KILL,
	CCMM_MEMCG_OOM_GROUP_KILL,
	CCMM_MEMCG_SOCK_THROTTLED,
	CCMM_MEMCG_NR_EVENTS
};

/*
 * memory.stat items a layer above keeps per memory cgroup (pages or
 * events, local to the cgroup; memory.stat shows them summed over the
 * subtree, in memcg_stat_format()'s order): X(enum suffix, key, bytes?)
 * where bytes says the key is printed in bytes (a page state) rather than
 * as a count (an event). The keys are the kernel's; the model keeps the
 * ones it has state for (memory_stats[] and memcg_vm_event_stat[] of
 * mm/memcontrol.c; "slab", "pgscan" and "pgsteal" are derived).
 */
#define CCMM_MEMCG_STATS(X)                                                      \
	X(ANON, "anon", true)                                                    \
	X(FILE, "file", true)                                                    \
	X(PAGETABLES, "pagetables", true)                                        \
	X(FILE_DIRTY, "file_dirty", true)                                        \
	X(INACTIVE_ANON, "inactive_anon", true)                                  \
	X(ACTIVE_ANON, "active_anon", true)                                      \
	X(INACTIVE_FILE, "inactive_file", true)                                  \
	X(ACTIVE_FILE, "active_file", true)                                      \
	X(UNEVICTABLE, "unevictable", true)                                      \
	X(WORKINGSET_REFAULT_ANON, "workingset_refault_anon", false)             \
	X(WORKINGSET_REFAULT_FILE, "workingset_refault_file", false)             \
	X(PGDEMOTE_KSWAPD, "pgdemote_kswapd", false)                             \
	X(PGDEMOTE_DIRECT, "pgdemote_direct", false)                             \
	X(PGDEMOTE_KHUGEPAGED, "pgdemote_khugepaged", false)                     \
	X(PGPROMOTE_SUCCESS, "pgpromote_success", false)                         \
	X(PGSCAN_KSWAPD, "pgscan_kswapd", false)                                 \
	X(PGSCAN_DIRECT, "pgscan_direct", false)                                 \
	X(PGSCAN_KHUGEPAGED, "pgscan_khugepaged", false)                         \
	X(PGSTEAL_KSWAPD, "pgsteal_kswapd", false)                               \
	X(PGSTEAL_DIRECT, "pgsteal_direct", false)                               \
	X(PGSTEAL_KHUGEPAGED, "pgsteal_khugepaged", false)                       \
	X(PGFAULT, "pgfault", false)                                             \
	X(PGMAJFAULT, "pgmajfault", false)                                       \
	X(PGREFILL, "pgrefill", false)                                           \
	X(PGACTIVATE, "pgactivate", false)                                       \
	X(PGDEACTIVATE, "pgdeactivate", false)                                   \
	X(NUMA_PAGES_MIGRATED, "numa_pages_migrated", false)                     \
	X(NUMA_PTE_UPDATES, "numa_pte_updates", false)                           \
	X(NUMA_HINT_FAULTS, "numa_hint_faults", false)

enum ccmm_memcg_stat {
#define CCMM_MEMCG_STAT_ENUM(e, key, bytes) CCMM_MEMCG_STAT_##e,
	CCMM_MEMCG_STATS(CCMM_MEMCG_STAT_ENUM)
#undef CCMM_MEMCG_STAT_ENUM
	CCMM_MEMCG_NR_STATS
};

/*
 * The modeled costs and counters of the cgroup layer (X(name, default,
 * source), as platform/costs.h): memory.high throttling sleeps whole
 * jiffies.
 */
#define CCMM_CGROUP_COSTS(X) \
	X(jiffy_ns, 4000000, \
	  "one jiffy, CONFIG_HZ=250 in Debian's 6.12 config: memory.high throttling sleeps and the OOM killer's wait " \
	  "for its victim (schedule_timeout_killable) count in jiffies")
#define CCMM_CGROUP_COUNTERS(X) \
	X(memcg_high_throttles, "sleeps of a task throttled over memory.high (mem_cgroup_handle_over_high)")

CCMM_COST_BLOCK_DECLARE(cgroup, CCMM_CGROUP_COSTS, CCMM_CGROUP_COUNTERS)

#define CCMM_MISC_MAX UINT64_MAX           /* misc "max": no limit (MAX_NUM) */
#define CCMM_PAGE_COUNTER_MAX (INT64_MAX / (int64_t)CCMM_PAGE_SIZE) /* memory "max", in pages */

/* One misc resource in one cgroup (struct misc_res). */
struct ccmm_misc_res {
	_Atomic uint64_t max;          /* CCMM_MISC_MAX for "max" */
	_Atomic uint64_t usage;
	_Atomic uint64_t watermark;    /* misc.peak */
	_Atomic uint64_t events;       /* misc.events: failures here or below */
	_Atomic uint64_t events_local; /* misc.events.local: failures at this level */
	void *priv;                    /* the resource provider's per-cgroup state */
};

/* The memory controller's page counter, events and statistics (struct mem_cgroup). */
struct ccmm_memcg {
	_Atomic uint64_t usage;     /* pages */
	_Atomic uint64_t max;       /* pages; CCMM_PAGE_COUNTER_MAX for "max" */
	_Atomic uint64_t high;      /* memory.high, pages; CCMM_PAGE_COUNTER_MAX for "max" */
	_Atomic uint64_t watermark; /* memory.peak, pages */
	_Atomic uint64_t failcnt;
	_Atomic uint64_t events[CCMM_MEMCG_NR_EVENTS];
	_Atomic uint64_t events_local[CCMM_MEMCG_NR_EVENTS];
	_Atomic int64_t stat[CCMM_MEMCG_NR_STATS]; /* local to this cgroup (memory.stat sums the subtree) */
};

struct ccmm_cgroup_root;
struct ccmm_dmem_region;
struct ccmm_dmem_pool;

struct ccmm_cgroup {
	struct ccmm_cgroup_root *root;
	struct ccmm_cgroup *parent;       /* NULL for the root; a child holds a reference on it */
	struct ccmm_cgroup *first_child, *last_child, *prev_sibling, *next_sibling; /* tree lock */
	char name[64];
	char path[256];                   /* "/" or "/a/b" */
	int level;                        /* 0 for the root */
	uint64_t id;                      /* creation order, the root is 1 */
	_Atomic long refcnt;
	bool online;                      /* false after rmdir (tree lock) */
	unsigned subtree_control;         /* CCMM_CGRP_* bits enabled for the children (tree lock) */
	unsigned long nr_tasks;           /* tasks in this cgroup (tree lock) */
	unsigned long nr_populated;       /* tasks here and below: cgroup.events "populated" (tree lock) */
	_Atomic uint32_t cpuset_mems;     /* cpuset.mems as written (node mask; 0: empty, inherit) */
	struct ccmm_misc_res misc[CCMM_MISC_NR];
	struct ccmm_memcg mem;
	struct ccmm_dmem_pool *dmem_pools; /* one per region used here (the root's dmem lock) */
};

/* The OOM killer's range of oom_score_adj (include/uapi/linux/oom.h). */
#define CCMM_OOM_SCORE_ADJ_MIN (-1000)
#define CCMM_OOM_SCORE_ADJ_MAX 1000

/*
 * A process, as far as cgroups care. The mm_* counters are its address
 * space's (get_mm_rss, MM_SWAPENTS, mm_pgtables_bytes): whoever maps its
 * pages keeps them (the memory-tier layer for tier tasks); the OOM killer
 * reads them for oom_badness().
 */
struct ccmm_task {
	int pid;
	char comm[CCMM_NAME_MAX];
	const void *mm;                   /* its address space: the key of get_mem_cgroup_from_mm */
	struct ccmm_cgroup *cgrp;         /* where it lives (holds a reference; tree lock) */
	_Atomic int signal;               /* fatal signal pending: 0, SIGKILL (9), SIGBUS (7), SIGTERM (15) */
	_Atomic bool oom_victim;          /* chosen by an OOM killer (tsk_is_oom_victim) */
	_Atomic int oom_score_adj;        /* /proc/PID/oom_score_adj, -1000..1000 */
	_Atomic int64_t mm_rss;           /* resident pages (MM_ANONPAGES + MM_FILEPAGES) */
	_Atomic int64_t mm_swapents;      /* pages swapped out (MM_SWAPENTS) */
	_Atomic int64_t mm_pgtables;      /* page-table pages (mm_pgtables_bytes / PAGE_SIZE) */
	_Atomic uint64_t nr_pages_over_high; /* charged over memory.high since the last throttle (memcg_nr_pages_over_high) */
	struct ccmm_task *next;           /* the root's task list (tree lock) */
};

/*
 * A misc resource provider's per-cgroup hooks (struct misc_res_ops, from
 * the EPC cgroup series): @alloc runs for every cgroup created after the
 * ops are set (and for existing ones when they are set) and may store
 * state in cg->misc[res].priv; @free runs when the cgroup is finally
 * released. @alloc runs with the tree lock held (it must not call into
 * the hierarchy) and returns 0 or -ENOMEM (mkdir then fails); @free runs
 * without it, after the cgroup left the tree.
 */
struct ccmm_misc_res_ops {
	int (*alloc)(struct ccmm_cgroup *cg, void *arg);
	void (*free)(struct ccmm_cgroup *cg, void *arg);
};

/*
 * The memory controller's reclaim hook (try_to_free_mem_cgroup_pages):
 * reclaim up to @nr_pages charged to @memcg or below, in the context
 * @ctx (may be NULL), and return the number of pages uncharged. Installed
 * by a layer above (memory tiers); without one nothing is reclaimable.
 * Called without locks held; it may charge and uncharge other cgroups.
 */
typedef uint64_t (*ccmm_memcg_reclaim_fn)(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr_pages,
					  void *arg);

struct ccmm_cgroup_root {
	struct ccmm_machine *m;
	pthread_rwlock_t tree_lock;       /* cgroup_mutex: hierarchy, tasks, subtree_control */
	struct ccmm_cgroup *top;          /* the root cgroup "/" */
	uint64_t next_id;
	_Atomic uint64_t misc_capacity[CCMM_MISC_NR];
	const struct ccmm_misc_res_ops *misc_ops[CCMM_MISC_NR];
	void *misc_ops_arg[CCMM_MISC_NR];
	ccmm_memcg_reclaim_fn reclaim;
	void *reclaim_arg;
	struct ccmm_task *tasks;          /* tree lock */
	int next_pid;
	_Atomic long nr_cgroups;          /* allocated, dying ones included */
	_Atomic uint32_t mems_online;     /* node_states[N_MEMORY]: the root cpuset's mems */
	_Atomic uint64_t total_swap_pages; /* for mem_cgroup_get_max (the OOM killer's totalpages) */
	_Atomic uint64_t oom_kills;       /* every OOM kill (the vmstat oom_kill event) */
	pthread_mutex_t dmem_lock;        /* dmemcg_lock: the regions, the pools' creation and lists */
	struct ccmm_dmem_region *dmem_regions; /* in registration order */
};

/* Names: "cpuset", "memory", "misc", "dmem"; "sev", "sev_es", "tdx", "sgx_epc"; "low" ... "sock_throttled". */
const char *ccmm_cgroup_ctrl_name(enum ccmm_cgroup_ctrl c);
const char *ccmm_misc_res_name(enum ccmm_misc_res_type r);
const char *ccmm_memcg_event_name(enum ccmm_memcg_event e);

/* ------------------------------------------------------------------ */
/* The hierarchy                                                       */
/* ------------------------------------------------------------------ */

/*
 * The registration of cgroup/. Its init attaches an empty hierarchy (just
 * "/", every controller available, no capacities) to the machine; its exit
 * frees it: tasks are dropped and every cgroup is freed, charged or not.
 */
extern struct ccmm_subsys ccmm_subsys_cgroup;

/* The machine's hierarchy (NULL before cgroup/ is up). */
static inline struct ccmm_cgroup_root *ccmm_cgroup_root_of(struct ccmm_machine *m)
{
	return (struct ccmm_cgroup_root *)ccmm_subsys_data(m, &ccmm_subsys_cgroup);
}

/*
 * ccmm_cgroup_path_valid - whether @path is an absolute cgroup path
 * ("/" or "/a/b": no empty, "." or ".." components, no newline, each
 * name shorter than 64 bytes, the whole shorter than 256). 0 or -EINVAL.
 */
int ccmm_cgroup_path_valid(const char *path);

/*
 * ccmm_cgroup_mkdir - create the cgroup at @path (mkdir in cgroupfs).
 * Its parent must exist. With @parents (cgcreate -g CTRLS:PATH), missing
 * ancestors are created too and each ancestor enables @enable (a
 * CCMM_CGRP_* mask) in its cgroup.subtree_control on the way down.
 * Returns 0 and, if @out, the cgroup with a reference the caller puts;
 * -EINVAL (bad path), -ENOENT (no parent), -EEXIST (exists, or a file of
 * that name), -EBUSY (enabling a controller in a cgroup with tasks),
 * -ENOMEM (a provider's alloc failed).
 */
int ccmm_cgroup_mkdir(struct ccmm_cgroup_root *root, const char *path, bool parents, unsigned enable,
		      struct ccmm_cgroup **out);

/*
 * ccmm_cgroup_rmdir - remove the cgroup at @path (rmdir in cgroupfs).
 * -ENOENT, -EBUSY (the root, children or tasks). Charges that remain keep
 * the (offline) cgroup alive until they are uncharged, as in the kernel.
 */
int ccmm_cgroup_rmdir(struct ccmm_cgroup_root *root, const char *path);

/* The online cgroup at @path with a reference, or NULL (-ENOENT). */
struct ccmm_cgroup *ccmm_cgroup_lookup(struct ccmm_cgroup_root *root, const char *path);

/* css_get / css_tryget / css_put. tryget fails once the count reached zero. */
void ccmm_cgroup_get(struct ccmm_cgroup *cg);
bool ccmm_cgroup_tryget(struct ccmm_cgroup *cg);
void ccmm_cgroup_put(struct ccmm_cgroup *cg);

/* Whether @cg is @ancestor or below it (cgroup_is_descendant). No lock needed. */
bool ccmm_cgroup_is_descendant(const struct ccmm_cgroup *cg, const struct ccmm_cgroup *ancestor);

/* Whether @cg has controller @c (the root has all; a child if its parent enables it). Tree lock or a stable tree. */
bool ccmm_cgroup_has_ctrl(const struct ccmm_cgroup *cg, enum ccmm_cgroup_ctrl c);

/*
 * Pre-order walk of @root's subtree (css_next_descendant_pre): the node
 * after @pos, or NULL at the end; @pos NULL starts at @root. Offline
 * nodes are skipped; from an offline @pos the walk ends. The caller holds
 * the tree lock for reading (ccmm_cgroup_tree_rdlock) and takes a
 * reference on a node it keeps after unlocking.
 */
struct ccmm_cgroup *ccmm_cgroup_next_descendant_pre(struct ccmm_cgroup *pos, struct ccmm_cgroup *root);
void ccmm_cgroup_tree_rdlock(struct ccmm_cgroup_root *root);
void ccmm_cgroup_tree_unlock(struct ccmm_cgroup_root *root);

/* ------------------------------------------------------------------ */
/* Tasks                                                               */
/* ------------------------------------------------------------------ */

/*
 * ccmm_task_create - a new process @comm with address space @mm (may be
 * NULL), living in @cg (the root if NULL). Returns 0 and the task (its
 * pid assigned from 1000 up), -EBUSY when @cg is a non-root cgroup that
 * enables controllers for its children (no internal processes), -ENOENT
 * for an offline cgroup, -ENOMEM.
 */
int ccmm_task_create(struct ccmm_cgroup_root *root, const char *comm, const void *mm, struct ccmm_cgroup *cg,
		     struct ccmm_task **out);

/* The task exits: it leaves its cgroup (populated drops) and is freed. NULL is a no-op. */
void ccmm_task_exit(struct ccmm_cgroup_root *root, struct ccmm_task *t);

/* Move task @pid to @cg (echo PID > cgroup.procs). 0, -ESRCH, -EBUSY as for create, -ENOENT. */
int ccmm_task_migrate(struct ccmm_cgroup_root *root, int pid, struct ccmm_cgroup *cg);

/* The task's cgroup with a reference (task_dfl_cgroup). */
struct ccmm_cgroup *ccmm_task_cgroup(struct ccmm_cgroup_root *root, const struct ccmm_task *t);

/* The task owning address space @mm, or NULL. The pointer is valid while the task lives. */
struct ccmm_task *ccmm_task_of_mm(struct ccmm_cgroup_root *root, const void *mm);

/*
 * Send a fatal signal (SIGKILL 9, SIGBUS 7) to @t: it is only recorded;
 * the task notices at its next signal_pending() check. The first signal
 * wins.
 */
void ccmm_task_signal(struct ccmm_task *t, int sig);

/* fatal_signal_pending(): the pending fatal signal, 0 if none. NULL (a kernel thread): 0. */
static inline int ccmm_task_signal_pending(const struct ccmm_task *t)
{
	return t ? atomic_load(&t->signal) : 0;
}

/* cgroup.kill: SIGKILL every task in @cg and below. Returns the number signalled. */
int ccmm_cgroup_kill(struct ccmm_cgroup_root *root, struct ccmm_cgroup *cg);

/* ------------------------------------------------------------------ */
/* Interface files                                                     */
/* ------------------------------------------------------------------ */

/*
 * ccmm_cgroup_read - the content of the interface file @file_path (the
 * cgroup's path plus the file name, "/selftest/misc.current", "/misc.capacity")
 * in the kernel's format, into @buf (NUL-terminated, truncated to @len).
 * Returns the full length (as snprintf), -ENOENT (no such cgroup or file
 * there: misc.max is not on the root, misc.capacity only on it, a
 * controller's files only where it is enabled), -EINVAL (write-only).
 */
int ccmm_cgroup_read(struct ccmm_cgroup_root *root, const char *file_path, char *buf, size_t len);

/*
 * ccmm_cgroup_write - write @text to the interface file @file_path, as
 * "echo TEXT > FILE" does (a trailing newline is allowed). The kernel's
 * parsers and errors: misc.max "RES max|NUMBER" (-EINVAL for an unknown
 * resource, one without capacity, a missing or malformed value; -ERANGE
 * on overflow); memory.max "max" or a size with K/M/G/T/P/E suffix
 * (rounded down to pages; reclaims through the hook down to the new limit,
 * then counts oom and kills); memory.high the same way (reclaims down to
 * it, never kills: memory_high_write); cpuset.mems a node list of nodes
 * with memory (-EINVAL otherwise: update_nodemask); cgroup.subtree_control "+ctrl -ctrl" (-EINVAL
 * unknown, -ENOENT not available, -EBUSY a child still uses it or the
 * cgroup has tasks), cgroup.procs PID (-ESRCH, -EBUSY), cgroup.kill "1".
 * @ctx (may be NULL) is charged for reclaim a write causes.
 * Returns 0 or a negative errno; -ENOENT when the file does not exist,
 * -EACCES for a read-only file. Nothing changes on error.
 */
int ccmm_cgroup_write(struct ccmm_cgroup_root *root, struct ccmm_ctx *ctx, const char *file_path, const char *text);

/*
 * ccmm_cgroup_write_check - validate @text for a write to a file named
 * @name (the last path component) without applying it, for job files
 * read before any machine exists: the syntax rules of ccmm_cgroup_write,
 * except those that depend on the machine (capacities, pids, children).
 * Returns 0, -EINVAL, -ERANGE, -EACCES (read-only file) or -ENOENT
 * (no such interface file). @why (may be NULL) gets a short reason.
 */
int ccmm_cgroup_write_check(const char *name, const char *text, char *why, size_t why_len);

/* Whether @name is an interface file name ccmm knows ("misc.max", "cgroup.procs"). */
bool ccmm_cgroup_file_known(const char *name);

/* NULL-terminated list of the interface file names, for suggestions. */
extern const char *const ccmm_cgroup_file_names[];

/*
 * ccmm_cgroup_dump - write the hierarchy as a cgroupfs tree under @dir:
 * one directory per cgroup, one file per interface file it has, each
 * with the content a read returns (write-only files are left out). The
 * tree is built beside @dir under a temporary name and renamed into
 * place when complete; an existing @dir is replaced only if it holds a
 * previous dump (it has a cgroup.controllers file); otherwise -EEXIST.
 * Returns 0 or a negative errno with @err set ("DIR: what went wrong");
 * on error nothing is left behind.
 */
int ccmm_cgroup_dump(struct ccmm_cgroup_root *root, const char *dir, struct ccmm_error *err);

/* ------------------------------------------------------------------ */
/* The misc controller (kernel/cgroup/misc.c)                          */
/* ------------------------------------------------------------------ */

/* misc_cg_set_capacity: the total of @res on the machine (0 hides it). */
void ccmm_misc_cg_set_capacity(struct ccmm_cgroup_root *root, enum ccmm_misc_res_type res, uint64_t amount);
uint64_t ccmm_misc_cg_capacity(struct ccmm_cgroup_root *root, enum ccmm_misc_res_type res);

/*
 * misc_cg_set_ops: install @ops for @res; @alloc runs at once for every
 * existing cgroup (the root first). 0, or the first -errno of @alloc.
 */
int ccmm_misc_cg_set_ops(struct ccmm_cgroup_root *root, enum ccmm_misc_res_type res, const struct ccmm_misc_res_ops *ops,
			 void *arg);

/*
 * The misc css a task of @cg is charged to: @cg itself if it has the misc
 * controller, else its nearest ancestor that has it (the root at worst).
 * No reference is taken; the result lives as long as @cg.
 */
struct ccmm_cgroup *ccmm_misc_cg_css(struct ccmm_cgroup *cg);

/*
 * ccmm_misc_cg_try_charge - charge @amount of @res to @cg and every
 * ancestor (misc_cg_try_charge). Over max or capacity at some level:
 * that level's events_local and events and every ancestor's events are
 * counted, every level charged so far is uncharged, and -EBUSY is
 * returned. -EINVAL when @res has no capacity. 0 for @amount 0.
 * Lock-free (atomics), like the kernel's.
 */
int ccmm_misc_cg_try_charge(enum ccmm_misc_res_type res, struct ccmm_cgroup *cg, uint64_t amount);

/* misc_cg_uncharge: give @amount back at every level (a negative usage is clamped and never happens). */
void ccmm_misc_cg_uncharge(enum ccmm_misc_res_type res, struct ccmm_cgroup *cg, uint64_t amount);

static inline uint64_t ccmm_misc_cg_usage(const struct ccmm_cgroup *cg, enum ccmm_misc_res_type res)
{
	return atomic_load(&cg->misc[res].usage);
}

static inline uint64_t ccmm_misc_cg_max(const struct ccmm_cgroup *cg, enum ccmm_misc_res_type res)
{
	return atomic_load(&cg->misc[res].max);
}

/*
 * ccmm_misc_parse_max - parse a misc.max write ("RES max" / "RES N", N as
 * kstrtoull with base 0: decimal, 0x hex, 0 octal) into *@res and *@max
 * (CCMM_MISC_MAX for "max"). Capacities are not checked here.
 * 0, -EINVAL, -ERANGE.
 */
int ccmm_misc_parse_max(const char *text, enum ccmm_misc_res_type *res, uint64_t *max);

/* ------------------------------------------------------------------ */
/* The memory controller (mm/memcontrol.c)                             */
/* ------------------------------------------------------------------ */

/*
 * The memcg of a task: its cgroup if that has the memory controller,
 * else the nearest ancestor that has it (get_mem_cgroup_from_mm uses the
 * mm's owner). With a reference; the root for an unknown @mm.
 */
struct ccmm_cgroup *ccmm_get_mem_cgroup_from_mm(struct ccmm_cgroup_root *root, const void *mm);

/* The memcg @cg's tasks are charged to (as ccmm_misc_cg_css). No reference. */
struct ccmm_cgroup *ccmm_mem_cgroup_css(struct ccmm_cgroup *cg);

/* Install the reclaim hook (NULL removes it). Call before tasks charge. */
void ccmm_memcg_set_reclaim(struct ccmm_cgroup_root *root, ccmm_memcg_reclaim_fn fn, void *arg);

/*
 * ccmm_mem_cgroup_charge - charge @nr_pages to @memcg and its ancestors
 * for the task @current (NULL: a kernel thread), as try_charge_memcg()
 * does. A level over its max rolls the charge back, counts its failcnt
 * and a "max" event, and the reclaim hook is asked for @nr_pages (at
 * least SWAP_CLUSTER_MAX) at that level; then the charge is retried:
 * at once when reclaim made room, once more after the first round (the
 * kernel drains its per-CPU stocks there), again for free while reclaim
 * makes progress on a small charge (8 pages or fewer:
 * PAGE_ALLOC_COSTLY_ORDER), and up to 16 times more (MAX_RECLAIM_RETRIES).
 * Demotion counts as progress though it uncharges nothing, so a cgroup
 * with demotable pages demotes them all before it goes on. Then the memcg
 * OOM killer (mem_cgroup_oom / mem_cgroup_out_of_memory): an "oom" event
 * at that level, and unless @current is already dying, the task of that
 * level's subtree with the highest oom_badness() (ties: the last one in
 * pre-order, tasks of a cgroup by pid) gets SIGKILL and an "oom_kill"
 * event in its memcg; a victim that has not exited yet is not replaced
 * (oom_evaluate_task aborts). After a kill of @current the charge is
 * retried 16 more times and fails.
 * When the charge succeeds and some level is over memory.high, @current's
 * nr_pages_over_high grows by @nr_pages; from MEMCG_CHARGE_BATCH (64)
 * pages on, mem_cgroup_handle_over_high() runs: "high" events and
 * reclaim at every level over high, and while reclaim cannot bring the
 * usage under high, a throttling sleep of calculate_high_delay() jiffies
 * (at most 2 s, none under HZ/100) charged to @ctx's clock.
 * @ctx (may be NULL) is passed to the hook and pays the throttling.
 * Returns 0; -EAGAIN when the OOM killer chose (now or before) a task
 * other than @current that has not exited yet: the kernel keeps retrying
 * the charge until the victim's memory is gone, a model's caller retries
 * once the victim exited (@ctx has waited a jiffy, as out_of_memory
 * does); -ENOMEM when @current is the victim or dying, or when no task is
 * killable (oom_score_adj -1000 everywhere). Call without locks held.
 */
int ccmm_mem_cgroup_charge(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr_pages,
			   struct ccmm_task *current);

/*
 * ccmm_out_of_memory - the global OOM killer (out_of_memory without a
 * memcg) for an allocation of @current that found no memory: the task of
 * the whole hierarchy with the highest oom_badness over @totalpages (RAM
 * and swap, in pages) gets SIGKILL; the vmstat oom_kill event and the
 * victim memcg's oom_kill event are counted (no "oom" event: that is a
 * memcg's limit). Returns -EAGAIN when another task was chosen (or is a
 * victim not yet gone; @ctx waited a jiffy), -ENOMEM when @current was
 * chosen or nothing is killable.
 */
int ccmm_out_of_memory(struct ccmm_ctx *ctx, struct ccmm_cgroup_root *root, struct ccmm_task *current,
		       uint64_t totalpages);

/*
 * ccmm_memcg_try_charge - ccmm_mem_cgroup_charge() for callers that
 * cannot wait for an OOM victim to exit: 0, or -ENOMEM for every failure
 * (an OOM kill of another task included).
 */
int ccmm_memcg_try_charge(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr_pages,
			  struct ccmm_task *current);

/*
 * ccmm_oom_badness - oom_badness() of @t (mm/oom_kill.c): resident pages
 * + swap entries + page-table pages, plus oom_score_adj * @totalpages /
 * 1000; LONG_MIN (never chosen) for oom_score_adj -1000. Lock-free.
 */
long ccmm_oom_badness(const struct ccmm_task *t, uint64_t totalpages);

/*
 * ccmm_mem_cgroup_get_max - the OOM killer's totalpages for a memcg OOM
 * (mem_cgroup_get_max): memory.max plus the swap the machine has (no
 * swap.max is modeled, so all of it), in pages.
 */
uint64_t ccmm_mem_cgroup_get_max(const struct ccmm_cgroup *memcg);

/* total_swap_pages for ccmm_mem_cgroup_get_max: set by the layer that models swap. */
void ccmm_memcg_set_total_swap(struct ccmm_cgroup_root *root, uint64_t pages);

/* The vmstat oom_kill event: OOM kills so far, every memcg's together. */
static inline uint64_t ccmm_memcg_oom_kills(struct ccmm_cgroup_root *root)
{
	return atomic_load(&root->oom_kills);
}

/*
 * ccmm_memcg_mod_stat - add @delta to memory.stat item @item of @memcg
 * (mod_memcg_state / count_memcg_events; the layer above that maps and
 * reclaims pages keeps them). Lock-free. NULL @memcg is a no-op.
 */
static inline void ccmm_memcg_mod_stat(struct ccmm_cgroup *memcg, enum ccmm_memcg_stat item, int64_t delta)
{
	if (memcg)
		atomic_fetch_add(&memcg->mem.stat[item], delta);
}

/*
 * ccmm_memcg_stat - memory.stat item @item of @memcg summed over its
 * subtree (pages or events), as memory.stat shows it (page states then
 * in bytes). Takes the tree lock for reading.
 */
int64_t ccmm_memcg_stat(struct ccmm_cgroup *memcg, enum ccmm_memcg_stat item);

/* The memory.stat key of @item ("anon", "pgdemote_direct" ...). */
const char *ccmm_memcg_stat_name(enum ccmm_memcg_stat item);

/* Uncharge @nr_pages from @memcg and its ancestors (page_counter_uncharge). */
void ccmm_memcg_uncharge(struct ccmm_cgroup *memcg, uint64_t nr_pages);

static inline uint64_t ccmm_memcg_usage(const struct ccmm_cgroup *cg)
{
	return atomic_load(&cg->mem.usage);
}

/* mem_cgroup_margin: pages chargeable before @memcg or an ancestor hits its max. */
uint64_t ccmm_memcg_margin(const struct ccmm_cgroup *memcg);

/*
 * memcg_memory_event: count @ev in @memcg's events.local and in the
 * events of @memcg and its ancestors below the root (the kernel does not
 * propagate into the root, which has no memory.events).
 */
void ccmm_memcg_event(struct ccmm_cgroup *memcg, enum ccmm_memcg_event ev);

/* ------------------------------------------------------------------ */
/* The dmem controller (kernel/cgroup/dmem.c, v6.14)                   */
/* ------------------------------------------------------------------ */

/*
 * The dmem page counters count bytes; "max" is PAGE_COUNTER_MAX (the
 * kernel's LONG_MAX / PAGE_SIZE, which dmem compares with byte counts):
 * a limit at or above it reads back as "max".
 */
#define CCMM_DMEM_MAX ((uint64_t)CCMM_PAGE_COUNTER_MAX)

/*
 * ccmm_dmem_register_region - dmem_cgroup_register_region(): a region of
 * @size bytes named @name ("drm/gpu0/vram0", as drmm_cgroup_register_region
 * names a DRM device's). Size 0: *@out is NULL and nothing is registered
 * (the kernel returns NULL: the memory is not accounted). The region lives
 * until the hierarchy is freed. 0, -EINVAL (no name, or one with white
 * space: it could not be written to), -ENOMEM.
 */
int ccmm_dmem_register_region(struct ccmm_cgroup_root *root, uint64_t size, const char *name,
			      struct ccmm_dmem_region **out);

/*
 * dmem_cgroup_unregister_region(): the region leaves the interface files
 * and new charges fail with -ENODEV; charges made before are uncharged as
 * usual. NULL is a no-op.
 */
void ccmm_dmem_unregister_region(struct ccmm_dmem_region *region);

const char *ccmm_dmem_region_name(const struct ccmm_dmem_region *region);
uint64_t ccmm_dmem_region_size(const struct ccmm_dmem_region *region);

/* The cgroup a task of @cg is charged to: @cg if it has dmem, else its nearest ancestor that has (the root). */
struct ccmm_cgroup *ccmm_dmem_cg_css(struct ccmm_cgroup *cg);

/*
 * ccmm_dmem_try_charge - dmem_cgroup_try_charge(): charge @size bytes of
 * @region to @cg's dmem css (ccmm_dmem_cg_css; NULL: the root, a kernel
 * thread) and every ancestor, creating their pools on first use. 0 with
 * the charged pool in *@ret_pool (it holds a reference on its cgroup until
 * ccmm_dmem_uncharge). -EAGAIN when a level's max would be exceeded: that
 * level's failcnt counts, the levels below are uncharged, and with
 * @ret_limit_pool non-NULL *@ret_limit_pool is that level's pool with a
 * reference the caller drops with ccmm_dmem_pool_put (TTM evicts within
 * it). -ENODEV: the region was unregistered. -ENOMEM. Takes the root's
 * dmem lock; the counters are atomics, as page_counter's.
 */
int ccmm_dmem_try_charge(struct ccmm_dmem_region *region, struct ccmm_cgroup *cg, uint64_t size,
			 struct ccmm_dmem_pool **ret_pool, struct ccmm_dmem_pool **ret_limit_pool);

/* dmem_cgroup_uncharge(): undo a charge of @size on the pool it returned (drops its reference). NULL: no-op. */
void ccmm_dmem_uncharge(struct ccmm_dmem_pool *pool, uint64_t size);

/* dmem_cgroup_pool_state_put(): drop the reference a limit pool came with. NULL: no-op. */
void ccmm_dmem_pool_put(struct ccmm_dmem_pool *pool);

/*
 * ccmm_dmem_evict_valuable - dmem_cgroup_state_evict_valuable(): may an
 * allocation that hit @limit_pool's limit (NULL: one that hit no limit,
 * only the device's size) evict memory charged to @test_pool (NULL: memory
 * charged nowhere)? Always from the limit pool itself, and from anything
 * when the limit is the root's; otherwise only from pools below the limit
 * pool, and not while the pool's usage is within its effective min
 * protection, nor (unless @ignore_low) within its effective low protection
 * -- then *@ret_hit_low is set so the caller may try again ignoring low.
 * Effective protection is computed as the memory controller's
 * (page_counter_calculate_protection, recursive_prot) over the limit
 * pool's subtree. Takes the tree lock for reading and the dmem lock.
 */
bool ccmm_dmem_evict_valuable(struct ccmm_dmem_pool *limit_pool, struct ccmm_dmem_pool *test_pool, bool ignore_low,
			      bool *ret_hit_low);

/* The cgroup a pool belongs to (no reference taken), and its counters (bytes). */
struct ccmm_cgroup *ccmm_dmem_pool_cgroup(const struct ccmm_dmem_pool *pool);
uint64_t ccmm_dmem_pool_usage(const struct ccmm_dmem_pool *pool);
uint64_t ccmm_dmem_pool_failcnt(const struct ccmm_dmem_pool *pool);

/* @cg's usage of @region in bytes (0 when it has no pool for it), as dmem.current shows it. */
uint64_t ccmm_dmem_usage(struct ccmm_cgroup *cg, const struct ccmm_dmem_region *region);

/*
 * ccmm_dmem_parse_limit - a dmem.min / dmem.low / dmem.max write, "REGION
 * VALUE" after strstrip: the region name up to the first blank, then
 * "max" or a number as memparse() reads it (simple_strtoull base 0: 0x
 * hex, 0 octal, no sign; an optional K/M/G/T/P/E suffix; overflow wraps as
 * the kernel's does), the whole of the rest. The name is copied to
 * @region (@len bytes). 0 or -EINVAL.
 */
int ccmm_dmem_parse_limit(const char *text, char *region, size_t len, uint64_t *value);

/* ------------------------------------------------------------------ */
/* The cpuset controller (kernel/cgroup/cpuset.c), its memory nodes    */
/* ------------------------------------------------------------------ */

/*
 * ccmm_cpuset_mems_effective - cpuset.mems.effective of the cpuset @cg's
 * tasks belong to (@cg if it has the cpuset controller, else its nearest
 * ancestor that has it), as cgroup v2 computes it: cpuset.mems and the
 * parent's effective mems, or the parent's when that leaves nothing (or
 * cpuset.mems is empty); the root's are the nodes with memory. A node
 * mask. Takes the tree lock for reading. Models cpuset_nodes_allowed().
 */
uint32_t ccmm_cpuset_mems_effective(struct ccmm_cgroup *cg);

/* The cpuset css @cg's tasks belong to (task_cs): @cg or its nearest ancestor with the controller. No reference. */
struct ccmm_cgroup *ccmm_cpuset_css(struct ccmm_cgroup *cg);

/*
 * ccmm_cpuset_set_memory_nodes - node_states[N_MEMORY]: the online nodes
 * with memory (the root cpuset's mems), set by the layer that onlines and
 * offlines nodes. The cgroup layer starts with the platform's online
 * nodes that have RAM.
 */
void ccmm_cpuset_set_memory_nodes(struct ccmm_cgroup_root *root, uint32_t mask);

/*
 * ccmm_nodelist_parse - a node list as nodelist_parse() reads it ("0-2,5",
 * "" for none; white space around it allowed) into a mask of nodes below
 * @nr_nodes (at most 32). 0, -EINVAL (malformed, a reversed range),
 * -ERANGE (a node past the kernel's MAX_NUMNODES, 1024) or -ENODEV (a
 * node at or above @nr_nodes; *@mask has the others).
 */
int ccmm_nodelist_parse(const char *text, unsigned nr_nodes, uint32_t *mask);

/* ccmm_nodelist_format - @mask as "%*pbl" prints it ("0-2,5", "" for none) into @buf. Returns @buf. */
char *ccmm_nodelist_format(uint32_t mask, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Job files (the cgroup actor kind, cgroup/actors.c)                  */
/* ------------------------------------------------------------------ */

struct ccmm_job;

/*
 * ccmm_cgroup_job_path_check - for a job being loaded: whether cgroup
 * @path will exist during the run, i.e. it is "/" or a cgroup actor's
 * mkdir creates it (or a descendant of it, which creates it too).
 * Returns 0, or -ENOENT with @err at @loc ("@what: cgroup '/x' does not
 * exist: no mkdir creates it; did you mean '/y'?"), -EINVAL for a
 * malformed path.
 */
int ccmm_cgroup_job_path_check(const struct ccmm_job *job, const char *path, const struct ccmm_loc *loc,
			       const char *what, struct ccmm_error *err);

#pragma GCC visibility pop

#endif /* CCMM_CGROUP_H */
