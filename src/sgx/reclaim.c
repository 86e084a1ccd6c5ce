// SPDX-License-Identifier: MIT
/*
 * EPC reclaim as the EPC cgroup series (v16/v17) does it: sgx_reclaim_pages
 * on one LRU, the round-robin subtree walk for cgroup and global reclaim,
 * try-charge with cgroup reclaim, sgx_alloc_epc_page with global reclaim,
 * ksgxd with its watermarks and the per-cgroup async work; plus the two
 * alternative policies the thread argued about, for measurement.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/internal.h"

#define GUARD 4096 /* a walk of the cgroup tree gives up after this many cgroups with nothing to scan */

static enum ccmm_sgx_policy policy_of(struct ccmm_sgx *sgx)
{
	return (enum ccmm_sgx_policy)atomic_load(&sgx->policy);
}

static struct ccmm_sgx_cgroup *root_sgx_cg(struct ccmm_sgx *sgx)
{
	return ccmm_sgx_cgroup_of(sgx->cgroups->top);
}

/* ---- what is reclaimable ---------------------------------------------------------- */

static bool lru_nonempty(struct ccmm_sgx_cgroup *s)
{
	bool r;

	pthread_mutex_lock(&s->lru_lock);
	r = s->lru.nr != 0;
	pthread_mutex_unlock(&s->lru_lock);
	return r;
}

/* Policy "global": is a page charged in @root's subtree on the global LRU? (a full scan) */
static bool global_lru_has_subtree(struct ccmm_sgx *sgx, struct ccmm_cgroup *root, struct ccmm_ctx *ctx)
{
	uint64_t scanned = 0;
	bool found = false;

	pthread_mutex_lock(&sgx->global_lru_lock);
	for (struct ccmm_lru_node *n = sgx->global_lru.head.next; n != &sgx->global_lru.head && !found; n = n->next) {
		struct ccmm_epc_page *p = ccmm_container_of(n, struct ccmm_epc_page, list);

		scanned++;
		found = !root->parent || (p->sgx_cg && ccmm_cgroup_is_descendant(p->sgx_cg->cg, root));
	}
	pthread_mutex_unlock(&sgx->global_lru_lock);
	if (ctx)
		ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_lru_scan_ns), scanned);
	atomic_fetch_add(&sgx->scanned, scanned);
	return found;
}

bool ccmm_sgx_cgroup_can_reclaim(struct ccmm_sgx *sgx, struct ccmm_sgx_cgroup *root)
{
	struct ccmm_cgroup *pos = NULL;
	bool found = false;

	if (policy_of(sgx) == CCMM_SGX_POLICY_GLOBAL)
		return global_lru_has_subtree(sgx, root->cg, NULL);
	ccmm_cgroup_tree_rdlock(sgx->cgroups);
	while (!found && (pos = ccmm_cgroup_next_descendant_pre(pos, root->cg))) {
		struct ccmm_sgx_cgroup *s = ccmm_sgx_cgroup_of(pos);

		found = s && lru_nonempty(s);
	}
	ccmm_cgroup_tree_unlock(sgx->cgroups);
	/* a root cgroup offline under us still has its own LRU */
	return found || (!root->cg->online && lru_nonempty(root));
}

static bool can_reclaim_global(struct ccmm_sgx *sgx)
{
	if (policy_of(sgx) == CCMM_SGX_POLICY_GLOBAL) {
		bool r;

		pthread_mutex_lock(&sgx->global_lru_lock);
		r = sgx->global_lru.nr != 0;
		pthread_mutex_unlock(&sgx->global_lru_lock);
		return r;
	}
	return ccmm_sgx_cgroup_can_reclaim(sgx, root_sgx_cg(sgx));
}

static bool should_reclaim_global(struct ccmm_sgx *sgx, long watermark)
{
	return atomic_load(&sgx->nr_free_pages) < watermark && can_reclaim_global(sgx);
}

/* ---- one batch: sgx_reclaim_pages ----------------------------------------------------- */

/* Take @page off its list for reclaim if its enclave is alive (under the list's lock). */
static bool isolate_one(struct ccmm_lru *lru, struct ccmm_epc_page *page)
{
	struct ccmm_sgx_encl_page *ep = page->owner;

	ccmm_lru_del(lru, &page->list);
	if (ep && _ccmm_sgx_encl_tryget(ep->encl)) {
		atomic_store(&page->state, CCMM_EPC_RECLAIM_IN_PROGRESS);
		return true;
	}
	/* the owner is freeing the page: it is no longer tracked */
	atomic_store(&page->state, CCMM_EPC_NOT_TRACKED);
	return false;
}

/* Reclaim the isolated pages: age, back, block, write, free. */
static void process_batch(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, struct ccmm_epc_page **iso, unsigned n,
			  struct ccmm_mm *charge_mm, enum ccmm_sgx_cause cause)
{
	struct ccmm_sgx_backing bk[CCMM_SGX_NR_TO_SCAN];
	unsigned keep = 0;

	for (unsigned i = 0; i < n; i++) {
		struct ccmm_epc_page *page = iso[i];
		struct ccmm_sgx_encl_page *ep = page->owner;
		struct ccmm_sgx_encl *encl = ep->encl;
		uint64_t addr = ep->desc & ~(CCMM_PAGE_SIZE - 1);
		int ret = 0;

		if (_ccmm_sgx_encl_test_and_clear_young(ctx, encl, addr)) {
			atomic_fetch_add(&sgx->reclaim_advanced, 1);
			sgx_cg_stat(page->sgx_cg, CCMM_SGX_ST_SECOND_CHANCE, 1);
			ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_second_chance), 1);
			ret = 1;
		} else {
			ccmm_mutex_lock(ctx, &encl->lock);
			if (atomic_load(&encl->flags) & CCMM_ENCL_DEAD)
				ret = -ENOENT;
			else
				ret = _ccmm_sgx_encl_alloc_backing(ctx, encl, _ccmm_sgx_encl_page_index(ep), charge_mm);
			if (!ret) {
				ep->desc |= CCMM_ENCL_PAGE_BEING_RECLAIMED;
				_ccmm_sgx_encl_get_backing(encl, _ccmm_sgx_encl_page_index(ep), &bk[keep]);
			}
			ccmm_mutex_unlock(ctx, &encl->lock);
		}
		if (ret) {
			/* second chance, or no backing storage: back to the tail of its LRU */
			ccmm_sgx_mark_page_reclaimable(sgx, page);
			ccmm_sgx_encl_put(ctx, encl);
			continue;
		}
		iso[keep++] = page;
	}
	/* sgx_reclaimer_block: zap the PTEs (the TLB shootdown IPIs), EBLOCK */
	for (unsigned i = 0; i < keep; i++) {
		struct ccmm_sgx_encl_page *ep = iso[i]->owner;

		_ccmm_sgx_encl_zap(ctx, ep->encl, ep->desc & ~(CCMM_PAGE_SIZE - 1));
		ccmm_mutex_lock(ctx, &ep->encl->lock);
		_ccmm_encls_eblock(ctx, ep->encl, iso[i]);
		ccmm_mutex_unlock(ctx, &ep->encl->lock);
	}
	/* sgx_reclaimer_write: EWB (ETRACK / IPI as needed), the SECS after its last child */
	for (unsigned i = 0; i < keep; i++) {
		struct ccmm_epc_page *page = iso[i], *secs_page = NULL;
		struct ccmm_sgx_backing secs_bk;
		struct ccmm_sgx_encl_page *ep = page->owner;
		struct ccmm_sgx_encl *encl = ep->encl;
		struct ccmm_sgx_cgroup *cg = page->sgx_cg, *secs_cg = NULL;
		int ret;

		ccmm_mutex_lock(ctx, &encl->lock);
		ret = _ccmm_sgx_encl_ewb(ctx, ep, _ccmm_sgx_encl_page_index(ep), &bk[i]);
		if (ret) {
			/* only a host allocation can fail here: the page stays */
			ep->desc &= ~(uint64_t)CCMM_ENCL_PAGE_BEING_RECLAIMED;
			atomic_store(&page->epcm_blocked, 0);
			_ccmm_sgx_epcm_changed(sgx);
			ccmm_mutex_unlock(ctx, &encl->lock);
			ccmm_sgx_mark_page_reclaimable(sgx, page);
			ccmm_sgx_encl_put(ctx, encl);
			continue;
		}
		atomic_fetch_add(&sgx->reclaim_advanced, 1);
		ep->epc_page = NULL;
		encl->secs_child_cnt--;
		if (!encl->secs_child_cnt && (atomic_load(&encl->flags) & CCMM_ENCL_INITIALIZED) && encl->secs.epc_page &&
		    !_ccmm_sgx_encl_alloc_backing(ctx, encl, encl->nr_pages, charge_mm) &&
		    (_ccmm_sgx_encl_get_backing(encl, encl->nr_pages, &secs_bk),
		     !_ccmm_sgx_encl_ewb(ctx, &encl->secs, encl->nr_pages, &secs_bk))) {
			secs_page = encl->secs.epc_page;
			secs_cg = secs_page->sgx_cg;
			encl->secs.epc_page = NULL;
		}
		ccmm_mutex_unlock(ctx, &encl->lock);
		sgx_cg_stat(cg, cause == CCMM_SGX_CAUSE_LIMIT ? CCMM_SGX_ST_EVICT_LIMIT : CCMM_SGX_ST_EVICT_GLOBAL, 1);
		atomic_fetch_add(&sgx->reclaimed, 1);
		ccmm_sgx_free_epc_page(sgx, page);
		if (secs_page) {
			sgx_cg_stat(secs_cg, cause == CCMM_SGX_CAUSE_LIMIT ? CCMM_SGX_ST_EVICT_LIMIT : CCMM_SGX_ST_EVICT_GLOBAL,
				    1);
			atomic_fetch_add(&sgx->reclaimed, 1);
			ccmm_sgx_free_epc_page(sgx, secs_page);
		}
		ccmm_sgx_encl_put(ctx, encl);
	}
}

unsigned ccmm_sgx_reclaim_pages(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, struct ccmm_sgx_cgroup *sgx_cg,
				struct ccmm_mm *charge_mm, enum ccmm_sgx_cause cause)
{
	struct ccmm_epc_page *iso[CCMM_SGX_NR_TO_SCAN];
	pthread_mutex_t *lock = sgx_cg ? &sgx_cg->lru_lock : &sgx->global_lru_lock;
	struct ccmm_lru *lru = sgx_cg ? &sgx_cg->lru : &sgx->global_lru;
	unsigned i, n = 0;

	pthread_mutex_lock(lock);
	for (i = 0; i < CCMM_SGX_NR_TO_SCAN; i++) {
		struct ccmm_lru_node *node = ccmm_lru_oldest(lru);
		struct ccmm_epc_page *page;

		if (!node)
			break;
		page = ccmm_container_of(node, struct ccmm_epc_page, list);
		if (isolate_one(lru, page))
			iso[n++] = page;
	}
	pthread_mutex_unlock(lock);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_lru_scan_ns), i);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_scanned), i);
	atomic_fetch_add(&sgx->scanned, i);
	process_batch(sgx, ctx, iso, n, charge_mm, cause);
	return i;
}

/*
 * Policy "global": find up to 16 pages charged in @root's subtree on the
 * one global LRU, walking past everyone else's. Returns the pages looked at.
 */
static unsigned reclaim_subtree_from_global(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, struct ccmm_cgroup *root,
					    struct ccmm_mm *charge_mm, enum ccmm_sgx_cause cause)
{
	struct ccmm_epc_page *iso[CCMM_SGX_NR_TO_SCAN];
	struct ccmm_lru_node *node, *next;
	uint64_t scanned = 0;
	unsigned n = 0;

	pthread_mutex_lock(&sgx->global_lru_lock);
	for (node = sgx->global_lru.head.next; node != &sgx->global_lru.head && n < CCMM_SGX_NR_TO_SCAN; node = next) {
		struct ccmm_epc_page *page = ccmm_container_of(node, struct ccmm_epc_page, list);

		next = node->next;
		scanned++;
		if (root->parent && !(page->sgx_cg && ccmm_cgroup_is_descendant(page->sgx_cg->cg, root)))
			continue;
		if (isolate_one(&sgx->global_lru, page))
			iso[n++] = page;
	}
	pthread_mutex_unlock(&sgx->global_lru_lock);
	ccmm_charge(ctx, CCMM_COST_AT(sgx, sgx_lru_scan_ns), scanned);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_scanned), scanned);
	atomic_fetch_add(&sgx->scanned, scanned);
	process_batch(sgx, ctx, iso, n, charge_mm, cause);
	return scanned > UINT32_MAX ? UINT32_MAX : (unsigned)scanned;
}

/* ---- the round-robin walk ------------------------------------------------------------ */

/*
 * sgx_cgroup_next_get: the cgroup @root's cursor points at (with a
 * cgroup reference unless it is @root), the cursor moved to the next one
 * in pre-order (back to @root after the last).
 */
static struct ccmm_sgx_cgroup *next_get(struct ccmm_sgx *sgx, struct ccmm_sgx_cgroup *root)
{
	struct ccmm_sgx_cgroup *p;
	struct ccmm_cgroup *n;

	pthread_mutex_lock(&root->next_lock);
	p = root->next_cg;
	if (p != root && !ccmm_cgroup_tryget(p->cg))
		p = root; /* dying: restart from the top of the subtree */
	ccmm_cgroup_tree_rdlock(sgx->cgroups);
	n = ccmm_cgroup_next_descendant_pre(p->cg, root->cg);
	while (n && !ccmm_sgx_cgroup_of(n))
		n = ccmm_cgroup_next_descendant_pre(n, root->cg);
	root->next_cg = n ? ccmm_sgx_cgroup_of(n) : root;
	ccmm_cgroup_tree_unlock(sgx->cgroups);
	pthread_mutex_unlock(&root->next_lock);
	return p;
}

unsigned ccmm_sgx_cgroup_reclaim(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, struct ccmm_sgx_cgroup *root,
				 struct ccmm_mm *charge_mm, unsigned nr_to_scan, enum ccmm_sgx_cause cause)
{
	unsigned cnt = 0, idle = 0;

	if (policy_of(sgx) == CCMM_SGX_POLICY_GLOBAL) {
		while (cnt < nr_to_scan && idle < 2) {
			unsigned got = reclaim_subtree_from_global(sgx, ctx, root->cg, charge_mm, cause);

			cnt += got;
			idle = got ? 0 : idle + 1;
		}
		return cnt;
	}
	while (cnt < nr_to_scan && ccmm_sgx_cgroup_can_reclaim(sgx, root) && idle < GUARD) {
		struct ccmm_sgx_cgroup *next = next_get(sgx, root);
		unsigned got = ccmm_sgx_reclaim_pages(sgx, ctx, next, charge_mm, cause);

		if (next != root)
			_ccmm_sgx_put_cg(next);
		cnt += got;
		idle = got ? 0 : idle + 1;
	}
	return cnt;
}

/* sgx_reclaim_pages_global: one round from the root (or, policy "cgroup", from current's cgroup). */
static void reclaim_pages_global(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, struct ccmm_sgx_cgroup *current_cg,
				 struct ccmm_mm *charge_mm)
{
	switch (policy_of(sgx)) {
	case CCMM_SGX_POLICY_GLOBAL:
		ccmm_sgx_reclaim_pages(sgx, ctx, NULL, charge_mm, CCMM_SGX_CAUSE_GLOBAL);
		break;
	case CCMM_SGX_POLICY_CGROUP:
		ccmm_sgx_cgroup_reclaim(sgx, ctx, current_cg ? current_cg : root_sgx_cg(sgx), charge_mm,
					CCMM_SGX_NR_TO_SCAN, CCMM_SGX_CAUSE_GLOBAL);
		break;
	default:
		ccmm_sgx_cgroup_reclaim(sgx, ctx, root_sgx_cg(sgx), charge_mm, CCMM_SGX_NR_TO_SCAN, CCMM_SGX_CAUSE_GLOBAL);
		break;
	}
}

static void ksgxd_kick(struct ccmm_sgx *sgx, struct ccmm_ctx *waker);

/* ---- cgroup limits ------------------------------------------------------------------ */

static uint64_t max_pages_to_root(struct ccmm_sgx_cgroup *s)
{
	uint64_t m = UINT64_MAX;

	for (struct ccmm_cgroup *i = s->cg; i; i = i->parent)
		m = CCMM_MIN(m, ccmm_misc_cg_max(i, CCMM_MISC_SGX_EPC));
	return m / CCMM_PAGE_SIZE;
}

/* sgx_cgroup_should_reclaim: usage within the minimal margin of the lowest limit up the tree. */
static bool should_reclaim_cg(struct ccmm_sgx *sgx, struct ccmm_sgx_cgroup *s)
{
	uint64_t cur, max;

	if (!ccmm_sgx_cgroup_can_reclaim(sgx, s))
		return false;
	max = max_pages_to_root(s);
	if (max > CCMM_SGX_CG_LOW_LIMIT)
		max -= CCMM_SGX_CG_MIN_FREE_PAGE;
	cur = ccmm_misc_cg_usage(s->cg, CCMM_MISC_SGX_EPC) / CCMM_PAGE_SIZE;
	return cur >= max;
}

/*
 * Why a charge failed: a cgroup on the way up at its misc.max (a cgroup
 * limit), or only the root at the capacity, which is the EPC size (the
 * physical limit). Racy by nature; good enough to pick the reclaim.
 */
static bool charge_failed_on_limit(struct ccmm_sgx_cgroup *s)
{
	for (struct ccmm_cgroup *c = s->cg; c->parent; c = c->parent)
		if (ccmm_misc_cg_usage(c, CCMM_MISC_SGX_EPC) + CCMM_PAGE_SIZE > ccmm_misc_cg_max(c, CCMM_MISC_SGX_EPC))
			return true;
	return false;
}

/*
 * Sleep (killable) until a page was freed or uncharged since @seq (the
 * progress count). 0, or -EDEADLK when the scheduler found that nothing
 * can ever run to free one. No lock held.
 */
static int wait_progress(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, uint64_t seq)
{
	int ret;

	ccmm_wq_lock(&sgx->progress_wq);
	ccmm_wait_event_locked(ctx, &sgx->progress_wq, sgx->progress_seq != seq, NULL, CCMM_WAIT_KILLABLE, ret);
	ccmm_wq_unlock(&sgx->progress_wq);
	return ret;
}

/*
 * After a direct-reclaim round of an allocation that may reclaim: the
 * kernel's loop retries (cond_resched) until the charge or the page can be
 * had. A round that aged nothing, wrote nothing back and saw no page freed
 * anywhere since @seq (the pages it may reclaim cannot be written back
 * now: their backing storage cannot be charged while a memcg OOM victim
 * has yet to exit) would be retried unchanged: sleep until a page is
 * freed or uncharged instead. 0 (retry), -EINTR (a signal), or -ENOMEM
 * when the engine found that nothing can ever free one (a livelock,
 * recorded as sgx_reclaim_livelock).
 */
static int reclaim_round_done(struct ccmm_sgx *sgx, const struct ccmm_sgx_current *cur, uint64_t seq, uint64_t advanced)
{
	int ret;

	if (atomic_load(&sgx->reclaim_advanced) != advanced)
		return 0;
	if (ccmm_task_signal_pending(cur->task))
		return -EINTR;
	ret = wait_progress(sgx, cur->ctx, seq);
	if (ret == -EDEADLK) {
		ccmm_violation(cur->ctx, &ccmm_rule_sgx_reclaim_livelock, UINT64_MAX,
			       "an EPC allocation's direct reclaim found no page it could write back, and nothing can run "
			       "to free one: it would retry forever; -ENOMEM");
		return -ENOMEM;
	}
	return ccmm_task_signal_pending(cur->task) ? -EINTR : 0;
}

/*
 * sgx_cgroup_try_charge of v17, with the rule seed 004 settled: hitting
 * the cgroup limit induces cgroup reclaim, hitting the physical limit
 * induces global reclaim. (Taken literally, v17 meets the physical limit
 * first as the root's capacity check in misc_cg_try_charge and answers
 * it with reclaim from the faulting cgroup, or -ENOMEM when that cgroup
 * has nothing on its LRUs; ccmm tells the two apart and does what the
 * thread settled. Policy "cgroup" keeps the literal behaviour.)
 */
static int cgroup_try_charge(struct ccmm_sgx *sgx, const struct ccmm_sgx_current *cur, struct ccmm_sgx_cgroup *s,
			     enum ccmm_sgx_reclaim reclaim, bool *stalled)
{
	enum ccmm_sgx_policy pol = policy_of(sgx);
	uint64_t t0 = cur->ctx->now_ns, seq, advanced;
	int ret = 0;

	for (;;) {
		bool limit;

		if (!ccmm_misc_cg_try_charge(CCMM_MISC_SGX_EPC, s->cg, CCMM_PAGE_SIZE))
			break;
		sgx_cg_stat(s, CCMM_SGX_ST_CHARGE_FAIL, 1);
		limit = pol == CCMM_SGX_POLICY_CGROUP || charge_failed_on_limit(s);
		if (limit ? !ccmm_sgx_cgroup_can_reclaim(sgx, s) : !can_reclaim_global(sgx)) {
			ret = -ENOMEM; /* nothing reclaimable where the page would have to come from */
			break;
		}
		if (ccmm_task_signal_pending(cur->task)) {
			ret = -EINTR;
			break;
		}
		if (reclaim == CCMM_SGX_NO_RECLAIM) {
			if (limit)
				_ccmm_sgx_cgroup_queue_work(sgx, s, cur->ctx);
			else
				ksgxd_kick(sgx, cur->ctx);
			ret = -EBUSY;
			break;
		}
		*stalled = true;
		seq = _ccmm_sgx_progress_seq(sgx);
		advanced = atomic_load(&sgx->reclaim_advanced);
		/* direct reclaim: charge backing storage to current->mm */
		if (limit)
			ccmm_sgx_cgroup_reclaim(sgx, cur->ctx, s, cur->mm, 1, pol == CCMM_SGX_POLICY_CGROUP &&
										  !charge_failed_on_limit(s)
									  ? CCMM_SGX_CAUSE_GLOBAL
									  : CCMM_SGX_CAUSE_LIMIT);
		else
			reclaim_pages_global(sgx, cur->ctx, s, cur->mm);
		ret = reclaim_round_done(sgx, cur, seq, advanced);
		if (ret)
			break;
	}
	if (*stalled)
		sgx_cg_stat(s, CCMM_SGX_ST_STALL_NS, cur->ctx->now_ns - t0);
	return ret;
}

/* ---- allocation ------------------------------------------------------------------------ */

struct ccmm_epc_page *ccmm_sgx_alloc_epc_page(const struct ccmm_sgx_current *cur, void *owner,
					      enum ccmm_sgx_reclaim reclaim, int *err)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(cur->ctx->m);
	struct ccmm_sgx_cgroup *s;
	struct ccmm_epc_page *page = NULL;
	bool stalled = false, charged;
	uint64_t t0, seq, advanced;
	int ret, home = cur->ctx->actor > 0 ? cur->ctx->actor : 0;

	if (!sgx || !sgx->nr_pages) {
		*err = -ENODEV;
		return NULL;
	}
	s = _ccmm_sgx_get_current_cg(sgx, cur);
	ret = cgroup_try_charge(sgx, cur, s, reclaim, &stalled);
	charged = !ret;
	t0 = cur->ctx->now_ns;
	while (!ret) {
		page = _ccmm_sgx_take_free_page(sgx, home);
		if (page)
			break;
		if (policy_of(sgx) == CCMM_SGX_POLICY_CGROUP ? !ccmm_sgx_cgroup_can_reclaim(sgx, s)
							     : !can_reclaim_global(sgx)) {
			ret = -ENOMEM;
			break;
		}
		if (reclaim == CCMM_SGX_NO_RECLAIM) {
			if (policy_of(sgx) != CCMM_SGX_POLICY_CGROUP)
				ksgxd_kick(sgx, cur->ctx);
			ret = -EBUSY;
			break;
		}
		if (ccmm_task_signal_pending(cur->task)) {
			ret = -EINTR;
			break;
		}
		/* under its limit, but no physical page left: global reclaim from any cgroup */
		stalled = true;
		seq = _ccmm_sgx_progress_seq(sgx);
		advanced = atomic_load(&sgx->reclaim_advanced);
		reclaim_pages_global(sgx, cur->ctx, s, cur->mm);
		ret = reclaim_round_done(sgx, cur, seq, advanced);
	}
	if (cur->ctx->now_ns > t0)
		sgx_cg_stat(s, CCMM_SGX_ST_STALL_NS, cur->ctx->now_ns - t0);
	if (stalled) {
		sgx_cg_stat(s, CCMM_SGX_ST_STALLS, 1);
		ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_stalls), 1);
	}
	if (page) {
		page->owner = owner;
		page->sgx_cg = s; /* keeps the cgroup reference */
		sgx_cg_stat(s, CCMM_SGX_ST_ALLOCS, 1);
	} else {
		if (charged)
			ccmm_misc_cg_uncharge(CCMM_MISC_SGX_EPC, s->cg, CCMM_PAGE_SIZE);
		if (ret == -ENOMEM)
			sgx_cg_stat(s, CCMM_SGX_ST_OOM, 1);
		*err = ret;
		_ccmm_sgx_put_cg(s);
	}
	if (policy_of(sgx) != CCMM_SGX_POLICY_CGROUP && should_reclaim_global(sgx, CCMM_SGX_NR_LOW_PAGES))
		ksgxd_kick(sgx, cur->ctx);
	return page;
}

void ccmm_sgx_reclaim_direct(const struct ccmm_sgx_current *cur)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(cur->ctx->m);
	struct ccmm_sgx_cgroup *s;

	if (!sgx || !sgx->nr_pages)
		return;
	s = _ccmm_sgx_get_current_cg(sgx, cur);
	/* reduce the chance of per-cgroup reclamation for later allocations */
	if (should_reclaim_cg(sgx, s))
		ccmm_sgx_cgroup_reclaim(sgx, cur->ctx, s, cur->mm, CCMM_SGX_NR_TO_SCAN, CCMM_SGX_CAUSE_LIMIT);
	/* ...and of global reclamation */
	if (should_reclaim_global(sgx, CCMM_SGX_NR_LOW_PAGES))
		reclaim_pages_global(sgx, cur->ctx, s, cur->mm);
	_ccmm_sgx_put_cg(s);
}

/* ---- ksgxd and the cgroup workqueue ------------------------------------------------ */

/*
 * Batches in a row that free nothing before a background round gives up:
 * enough to pass over @pages twice (young pages get their second chance on
 * the first pass and go on the second), so a round ends without progress
 * only when nothing it may reclaim can be freed. A model never spins.
 */
static unsigned idle_limit(uint64_t pages)
{
	return (unsigned)CCMM_MIN(2 * pages / CCMM_SGX_NR_TO_SCAN + 8, 1u << 20);
}

/*
 * ksgxd's round: reclaim until 64 pages are free. Indirect reclaim: no mm
 * to charge, so NULL. As the kernel's loop, one batch (sgx_reclaim_pages)
 * and then cond_resched(), so the actors run beside it in modeled time
 * rather than after its whole round; the kernel's wait_event finds the
 * condition still true and goes on without sleeping.
 */
static void ksgxd_body(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx)
{
	unsigned idle = 0, limit = idle_limit(sgx->nr_pages);

	while (should_reclaim_global(sgx, CCMM_SGX_NR_HIGH_PAGES) && idle < limit) {
		long before = atomic_load(&sgx->nr_free_pages);

		reclaim_pages_global(sgx, ctx, NULL, NULL);
		idle = atomic_load(&sgx->nr_free_pages) > before ? 0 : idle + 1;
		ccmm_cond_resched();
	}
}

/*
 * ksgxd: sleeps on ksgxd_waitq until an allocation below the low
 * watermark wakes it (or kthread_stop), then reclaims a round; as the
 * kernel's ksgxd, a kernel thread the scheduler runs beside the actors.
 */
static int ksgxd_fn(struct ccmm_kthread *k, void *data)
{
	struct ccmm_sgx *sgx = data;

	for (;;) {
		int ret;

		ccmm_wq_lock(&k->wq);
		snprintf(k->se.blocked_on, sizeof(k->se.blocked_on), "ksgxd_waitq");
		ccmm_wait_event_locked(&k->ctx, &k->wq, ccmm_kthread_should_stop(k) || sgx->ksgxd_kicked, NULL, 0, ret);
		k->se.blocked_on[0] = '\0';
		(void)ret;
		sgx->ksgxd_kicked = false;
		ccmm_wq_unlock(&k->wq);
		if (ccmm_kthread_should_stop(k))
			break;
		atomic_fetch_add(&k->rounds, 1);
		ksgxd_body(sgx, &k->ctx);
		atomic_store(&sgx->ksgxd_done_ns, k->ctx.now_ns);
	}
	return 0;
}

/* wake_up(&ksgxd_waitq), at the waker's modeled time (ksgxd's clock moves up to it). */
static void ksgxd_kick(struct ccmm_sgx *sgx, struct ccmm_ctx *waker)
{
	struct ccmm_kthread *k = &sgx->ksgxd;

	if (!sgx->workers)
		return;
	ccmm_wq_lock(&k->wq);
	sgx->ksgxd_kicked = true;
	if (waker->now_ns > atomic_load(&sgx->ksgxd_kick_ns))
		atomic_store(&sgx->ksgxd_kick_ns, waker->now_ns);
	ccmm_wake_up_locked(waker, &k->wq, 0);
	ccmm_wq_unlock(&k->wq);
}

void ccmm_sgx_ksgxd_wake(struct ccmm_sgx *sgx, struct ccmm_ctx *waker)
{
	ksgxd_kick(sgx, waker);
}

/* sgx_cgroup_reclaim_work_func: reclaim @s's subtree while it is near its limit. */
static void cg_work_body(struct ccmm_sgx *sgx, struct ccmm_ctx *ctx, struct ccmm_sgx_cgroup *s)
{
	unsigned idle = 0, limit = idle_limit(ccmm_misc_cg_usage(s->cg, CCMM_MISC_SGX_EPC) / CCMM_PAGE_SIZE);

	while (should_reclaim_cg(sgx, s) && idle < limit) {
		uint64_t before = ccmm_misc_cg_usage(s->cg, CCMM_MISC_SGX_EPC);

		/* indirect reclaim, no mm to charge, so NULL */
		ccmm_sgx_cgroup_reclaim(sgx, ctx, s, NULL, CCMM_SGX_NR_TO_SCAN, CCMM_SGX_CAUSE_LIMIT);
		idle = ccmm_misc_cg_usage(s->cg, CCMM_MISC_SGX_EPC) < before ? 0 : idle + 1;
	}
}

/* The cgroup's reclaim_work, run by the work queue's worker: it holds a cgroup reference while queued. */
static void cg_work_fn(struct ccmm_ctx *ctx, struct ccmm_work *work)
{
	struct ccmm_sgx_cgroup *s = ccmm_container_of(work, struct ccmm_sgx_cgroup, reclaim_work);
	struct ccmm_sgx *sgx = ccmm_sgx_of(ctx->m);

	cg_work_body(sgx, ctx, s);
	ccmm_cgroup_put(s->cg);
}

/* Queued work that will never run (the work queue went away): drop its reference. */
static void cg_work_cancel(struct ccmm_work *work)
{
	struct ccmm_sgx_cgroup *s = ccmm_container_of(work, struct ccmm_sgx_cgroup, reclaim_work);

	ccmm_cgroup_put(s->cg);
}

void _ccmm_sgx_cgroup_work_init(struct ccmm_sgx_cgroup *s)
{
	ccmm_init_work(&s->reclaim_work, cg_work_fn, cg_work_cancel);
}

void _ccmm_sgx_cgroup_queue_work(struct ccmm_sgx *sgx, struct ccmm_sgx_cgroup *s, struct ccmm_ctx *ctx)
{
	if (!sgx->workers || !ccmm_cgroup_tryget(s->cg))
		return;
	if (!ccmm_queue_work(ctx, &sgx->cg_wq, &s->reclaim_work))
		ccmm_cgroup_put(s->cg); /* already queued */
}

int _ccmm_sgx_workers_init(struct ccmm_sgx *sgx)
{
	ccmm_kthread_create(sgx->m, &sgx->ksgxd, "ksgxd", ksgxd_fn, sgx);
	ccmm_workqueue_create(sgx->m, &sgx->cg_wq, "sgx_cg_wq");
	sgx->workers = true;
	return 0;
}

void _ccmm_sgx_workers_fini(struct ccmm_sgx *sgx)
{
	if (!sgx->workers)
		return;
	ccmm_workqueue_destroy(&sgx->cg_wq);
	ccmm_kthread_destroy(&sgx->ksgxd);
	sgx->workers = false;
}

void _ccmm_sgx_progress(struct ccmm_sgx *sgx)
{
	ccmm_wq_lock(&sgx->progress_wq);
	sgx->progress_seq++;
	ccmm_wake_up_locked(NULL, &sgx->progress_wq, 0);
	ccmm_wq_unlock(&sgx->progress_wq);
}

uint64_t _ccmm_sgx_progress_seq(struct ccmm_sgx *sgx)
{
	uint64_t seq;

	ccmm_wq_lock(&sgx->progress_wq);
	seq = sgx->progress_seq;
	ccmm_wq_unlock(&sgx->progress_wq);
	return seq;
}

int _ccmm_sgx_wait_for_reclaim(struct ccmm_sgx *sgx, const struct ccmm_sgx_current *cur, uint64_t seq)
{
	struct ccmm_sgx_cgroup *s = _ccmm_sgx_get_current_cg(sgx, cur);
	uint64_t t0 = cur->ctx->now_ns;
	int ret;

	sgx_cg_stat(s, CCMM_SGX_ST_STALLS, 1);
	ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_stalls), 1);
	if (policy_of(sgx) == CCMM_SGX_POLICY_CGROUP && !atomic_load(&sgx->nr_free_pages) &&
	    ccmm_sgx_cgroup_reclaim(sgx, cur->ctx, s, cur->mm, CCMM_SGX_NR_TO_SCAN, CCMM_SGX_CAUSE_GLOBAL)) {
		/*
		 * No ksgxd: the faulting task reclaims its own cgroup's pages. A
		 * round that only aged young pages (second chance) freed nothing
		 * yet, but the next one will: the access faults again at once
		 * (VM_FAULT_NOPAGE) and reclaims again, as a retried fault does,
		 * rather than sleeping for a reclaimer that does not exist.
		 */
		sgx_cg_stat(s, CCMM_SGX_ST_STALL_NS, cur->ctx->now_ns - t0);
		_ccmm_sgx_put_cg(s);
		return 0;
	}
	/*
	 * The fault waits until a page is freed or uncharged anywhere (then it
	 * faults again); killable: when nothing can ever run to free one, the
	 * scheduler ends the wait with -EDEADLK (a livelock of the retries).
	 */
	ret = wait_progress(sgx, cur->ctx, seq);
	sgx_cg_stat(s, CCMM_SGX_ST_STALL_NS, cur->ctx->now_ns - t0);
	_ccmm_sgx_put_cg(s);
	return ret;
}
