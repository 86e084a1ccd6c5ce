/* SPDX-License-Identifier: MIT */
/* sgx/ internals: the ENCLS leaves (epc.c), enclave internals (encl.c), reclaim helpers (reclaim.c). */
#ifndef CCMM_SGX_INTERNAL_H
#define CCMM_SGX_INTERNAL_H

#include "sgx/sgx.h"

/* ---- epc.c: the hardware -------------------------------------------------- */

/* ENCLS leaves. They record costs and counters on @ctx; the caller holds encl->lock. */
void _ccmm_encls_ecreate(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *secs);
int _ccmm_encls_eadd(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page, uint64_t linaddr,
	       enum ccmm_epcm_type type, unsigned perm, const void *src);
void _ccmm_encls_eextend(struct ccmm_ctx *ctx, unsigned chunks);
int _ccmm_encls_eaug(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page, uint64_t linaddr);
void _ccmm_encls_eaccept(struct ccmm_ctx *ctx, struct ccmm_epc_page *page);
void _ccmm_encls_epa(struct ccmm_ctx *ctx, struct ccmm_epc_page *page);
void _ccmm_encls_eblock(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page);
void _ccmm_encls_etrack(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl);
int _ccmm_encls_ewb(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page,
	      struct ccmm_sgx_va_page *va, unsigned slot, uint64_t backing_pa, uint64_t pcmd_pa);
/*
 * ELDU @page back at @linaddr (PAGEINFO.LINADDR; @is_secs: the SECS itself,
 * which needs no SECS present) from @backing_pa, its PCMD at @pcmd_pa
 * (CCMM_SGX_NO_BACKING: a truncated PCMD page, read as zeros) and its
 * version in @va's @slot: the MAC covers the PCMD's SECINFO, the enclave
 * id and @linaddr, and the EPCM entry's type and permissions come back
 * from the PCMD's SECINFO. Returns 0, CCMM_SGX_MAC_COMPARE_FAIL (a
 * violation recorded), -EFAULT (the SECS is out) or -errno.
 */
int _ccmm_encls_eldu(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page, uint64_t linaddr,
	       bool is_secs, struct ccmm_sgx_va_page *va, unsigned slot, uint64_t backing_pa, uint64_t pcmd_pa);
int _ccmm_encls_eremove(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_epc_page *page);

/* __sgx_alloc_epc_page: a free page from node @home first, then the others. NULL if none. */
struct ccmm_epc_page *_ccmm_sgx_take_free_page(struct ccmm_sgx *sgx, int home);

/* The LRU (and its lock) a reclaimable page lives on under the current policy. */
struct ccmm_lru *_ccmm_sgx_page_lru(struct ccmm_sgx *sgx, struct ccmm_epc_page *page, pthread_mutex_t **lock);

/* The EPC cgroup of current (its task's misc css, the root for kernel threads), with a cgroup reference. */
struct ccmm_sgx_cgroup *_ccmm_sgx_get_current_cg(struct ccmm_sgx *sgx, const struct ccmm_sgx_current *cur);
void _ccmm_sgx_put_cg(struct ccmm_sgx_cgroup *sgx_cg);

/* An EPCM entry changed (after the change): walks remembered before it no longer hold (ccmm_sgx_encl.walked). */
static inline void _ccmm_sgx_epcm_changed(struct ccmm_sgx *sgx)
{
	atomic_fetch_add_explicit(&sgx->epcm_gen, 1, memory_order_release);
}

/* Count a figure for @sgx_cg (may be NULL). */
static inline void sgx_cg_stat(struct ccmm_sgx_cgroup *sgx_cg, enum ccmm_sgx_stat st, uint64_t n)
{
	if (sgx_cg)
		atomic_fetch_add_explicit(&sgx_cg->st[st], n, memory_order_relaxed);
}

/* The per-cgroup alloc/free hooks (misc res ops). */
extern const struct ccmm_misc_res_ops _ccmm_sgx_cgroup_ops;

/* ---- encl.c ----------------------------------------------------------------- */

/* Enclave reference counting (kref): get unless already released. */
bool _ccmm_sgx_encl_tryget(struct ccmm_sgx_encl *encl);

/*
 * _ccmm_sgx_encl_alloc_backing (sgx_encl_alloc_backing): the backing data page of page @index and its
 * PCMD page, charged to the memcg of @charge_mm (NULL: an mm from the
 * enclave's mm_list). Caller holds encl->lock. 0 or -ENOMEM.
 */
int _ccmm_sgx_encl_alloc_backing(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, uint64_t index,
			   struct ccmm_mm *charge_mm);

/* Whether any mm mapping @encl has the page at @addr young (test and clear, sgx_reclaimer_age). */
bool _ccmm_sgx_encl_test_and_clear_young(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, uint64_t addr);

/* Zap @addr in every mm of the enclave and shoot the TLBs down (the IPI). No encl->lock. */
void _ccmm_sgx_encl_zap(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, uint64_t addr);

/* The backing pages a reclaimer got for a page (struct sgx_backing): its contents and its PCMD page. */
struct ccmm_sgx_backing {
	uint64_t contents, pcmd;
};

/* The backing pages of page @index now (after _ccmm_sgx_encl_alloc_backing). encl->lock held. */
void _ccmm_sgx_encl_get_backing(struct ccmm_sgx_encl *encl, uint64_t index, struct ccmm_sgx_backing *b);

/*
 * EWB of one page into the backing pages @b the reclaimer got (even if the
 * enclave let them go since) with the ETRACK / IPI retries (sgx_encl_ewb).
 * encl->lock held. 0 or an SGX error.
 */
int _ccmm_sgx_encl_ewb(struct ccmm_ctx *ctx, struct ccmm_sgx_encl_page *ep, uint64_t index,
		       const struct ccmm_sgx_backing *b);

/* The index of an enclave page in the backing store (nr_pages for the SECS). */
uint64_t _ccmm_sgx_encl_page_index(const struct ccmm_sgx_encl_page *ep);

/* ---- reclaim.c ------------------------------------------------------------------ */

/*
 * Wait for the background reclaimers after an allocation said -EBUSY, at
 * a point where current holds no lock: sleep (killable) until a page was
 * freed or uncharged since @seq (_ccmm_sgx_progress_seq before the
 * attempt, plus the frees of pages the attempt itself took and gave back,
 * which made no room), whoever freed it: ksgxd, the cgroup work, an exit. Policy
 * "cgroup" reclaims from current's cgroup first (it has no ksgxd) and,
 * when that round looked at pages, returns at once (the fault is retried
 * and reclaims again). Counts a stall and its modeled time. 0, or -EDEADLK when the scheduler
 * found that nothing can ever free one (the fault would retry forever).
 */
int _ccmm_sgx_wait_for_reclaim(struct ccmm_sgx *sgx, const struct ccmm_sgx_current *cur, uint64_t seq);

/* The progress count: bumped (and its waiters woken) whenever an EPC page is freed. */
uint64_t _ccmm_sgx_progress_seq(struct ccmm_sgx *sgx);
void _ccmm_sgx_progress(struct ccmm_sgx *sgx);

/* Queue @sgx_cg's async reclaim work (queue_work) at @ctx's time; it holds a cgroup reference while queued. */
void _ccmm_sgx_cgroup_queue_work(struct ccmm_sgx *sgx, struct ccmm_sgx_cgroup *sgx_cg, struct ccmm_ctx *ctx);
/* INIT_WORK of a new EPC cgroup's reclaim_work. */
void _ccmm_sgx_cgroup_work_init(struct ccmm_sgx_cgroup *sgx_cg);

/* ksgxd and the cgroup work queue: kernel threads of the machine (sched/), created at init when there is EPC. */
int _ccmm_sgx_workers_init(struct ccmm_sgx *sgx);
void _ccmm_sgx_workers_fini(struct ccmm_sgx *sgx);

#endif
