/* SPDX-License-Identifier: MIT */
/* tier/ internals: the per-machine tier state, shared by vmscan.c and vmstat.c. */
#ifndef CCMM_TIER_INTERNAL_H
#define CCMM_TIER_INTERNAL_H

#include "tier/tier.h"

enum { LRU_INACTIVE_ANON, LRU_ACTIVE_ANON, LRU_INACTIVE_FILE, LRU_ACTIVE_FILE, LRU_UNEVICTABLE, NR_LRU };

struct ccmm_tier {
	pthread_mutex_t lock;
	struct ccmm_tier_config cfg;
	struct ccmm_demotion dem;
	struct ccmm_watermarks wmark[CCMM_MAX_NODES];
	uint64_t min_free_kbytes;             /* in effect */
	struct ccmm_lru lru[CCMM_MAX_NODES][NR_LRU];
	uint64_t nr_anon[CCMM_MAX_NODES];     /* resident anon pages per node (NR_ANON_MAPPED) */
	uint64_t nr_file[CCMM_MAX_NODES];     /* resident file pages per node (all mapped) */
	uint64_t nr_dirty[CCMM_MAX_NODES];    /* dirty file pages per node */
	uint64_t nr_pgtables[CCMM_MAX_NODES]; /* page-table pages, on their task's local node */
	uint64_t swap_used;
	uint64_t vm[CCMM_VM_NR];              /* event counters (states are computed) */
	uint64_t first_ns[CCMM_VM_NR];        /* when each event first moved; UINT64_MAX: never */
	/* the node stats behind pgdemote_* (the reclaimed node's) and pgpromote_success (the target node's) */
	uint64_t node_demoted[CCMM_MAX_NODES], node_promoted[CCMM_MAX_NODES];
	/*
	 * kswapd, one kernel thread per node with memory (kswapd_run), run by
	 * the engine's scheduler: woken (kswapd_woken, under its wait queue's
	 * lock) when an allocation finds the node below its low watermark, it
	 * reclaims to the high watermark (balance_pgdat) and sleeps again once
	 * the node is balanced (or hopeless: kswapd_failures runs that
	 * reclaimed nothing in a row, MAX_RECLAIM_RETRIES).
	 */
	struct ccmm_kthread kswapd[CCMM_MAX_NODES];
	bool kswapd_made[CCMM_MAX_NODES];
	bool kswapd_woken[CCMM_MAX_NODES];    /* kswapd[n].wq's lock */
	_Atomic unsigned kswapd_failures[CCMM_MAX_NODES]; /* pgdat->kswapd_failures; written under lock */
	struct ccmm_rng rng;
	bool online[CCMM_MAX_NODES];
};

/* The machine's tier state. */
struct ccmm_tier *_ccmm_tier_of(struct ccmm_machine *m);

/* Count @n events of @item at @ctx's time (NULL: time 0). T->lock held. */
void _ccmm_vm_count(struct ccmm_tier *T, const struct ccmm_ctx *ctx, enum ccmm_vmstat item, uint64_t n);

/* The value of @item now (a state computed from the LRUs, or an event). T->lock held. */
uint64_t _ccmm_vmstat_locked(struct ccmm_machine *m, struct ccmm_tier *T, enum ccmm_vmstat item);

#endif
