// SPDX-License-Identifier: MIT
/*
 * Enclaves: creation, EADD, EINIT, the fault handler (ELDU, EAUG with the
 * SECS reload fix), enclave-mode accesses with their EPCM checks, VA
 * pages and slots, backing storage charged to a memcg (charge_mm), the
 * EWB sequence with ETRACK and IPIs, and the release that frees it all.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/internal.h"

#define ENCL_PROT (CCMM_PTE_RW)

static struct ccmm_ctx *ctx_or(struct ccmm_ctx *ctx, struct ccmm_ctx *tmp, struct ccmm_machine *m)
{
	if (ctx)
		return ctx;
	ccmm_ctx_init(tmp, m, -1, "sgx");
	return tmp;
}

bool _ccmm_sgx_encl_tryget(struct ccmm_sgx_encl *encl)
{
	long v = atomic_load(&encl->refcount);

	while (v > 0)
		if (atomic_compare_exchange_weak(&encl->refcount, &v, v + 1))
			return true;
	return false;
}

uint64_t _ccmm_sgx_encl_page_index(const struct ccmm_sgx_encl_page *ep)
{
	const struct ccmm_sgx_encl *encl = ep->encl;

	return ep == &encl->secs ? encl->nr_pages : (uint64_t)(ep - encl->pages);
}

static uint64_t page_addr(const struct ccmm_sgx_encl_page *ep)
{
	const struct ccmm_sgx_encl *encl = ep->encl;

	return ep == &encl->secs ? 0 : encl->base + ((uint64_t)(ep - encl->pages) << CCMM_PAGE_SHIFT);
}

/* ---- VA pages and slots ---------------------------------------------------------- */

static int va_alloc_slot(struct ccmm_sgx_encl *encl, struct ccmm_sgx_va_page **out)
{
	struct ccmm_sgx_va_page *va;

	if (!encl->nr_va)
		return -1;
	va = encl->va_pages[0];
	for (unsigned w = 0; w < CCMM_SGX_VA_SLOT_COUNT / 64; w++) {
		if (va->slots[w] == UINT64_MAX)
			continue;
		for (unsigned b = 0; b < 64; b++) {
			if (va->slots[w] & (1ULL << b))
				continue;
			va->slots[w] |= 1ULL << b;
			va->used++;
			if (va->used == CCMM_SGX_VA_SLOT_COUNT && encl->nr_va > 1) {
				/* full: to the end of the list */
				memmove(encl->va_pages, encl->va_pages + 1, (encl->nr_va - 1) * sizeof(*encl->va_pages));
				encl->va_pages[encl->nr_va - 1] = va;
			}
			*out = va;
			return (int)(w * 64 + b);
		}
	}
	return -1;
}

static void va_free_slot(struct ccmm_sgx_encl *encl, struct ccmm_sgx_va_page *va, unsigned slot)
{
	bool was_full = va->used == CCMM_SGX_VA_SLOT_COUNT;

	va->slots[slot / 64] &= ~(1ULL << (slot % 64));
	va->used--;
	if (was_full) {
		/* has room again: to the front */
		for (size_t i = 0; i < encl->nr_va; i++) {
			if (encl->va_pages[i] == va) {
				memmove(encl->va_pages + 1, encl->va_pages, i * sizeof(*encl->va_pages));
				encl->va_pages[0] = va;
				break;
			}
		}
	}
}

/*
 * sgx_encl_grow: every 512th page added (the SECS counts) needs a new VA
 * page. @locked: the caller holds encl->lock (fault paths, which must not
 * reclaim). Returns 1 when a VA page was added, 0 when none was needed,
 * or the allocation's error (the page count is not raised).
 */
static int encl_grow(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl, enum ccmm_sgx_reclaim reclaim,
		     bool locked)
{
	struct ccmm_sgx *sgx = encl->sgx;
	struct ccmm_sgx_va_page *va;
	struct ccmm_epc_page *epc;
	bool need;
	int err = 0;

	if (!locked)
		ccmm_mutex_lock(cur->ctx, &encl->lock);
	need = encl->page_cnt % CCMM_SGX_VA_SLOT_COUNT == 0;
	if (!need) {
		encl->page_cnt++;
		if (!locked)
			ccmm_mutex_unlock(cur->ctx, &encl->lock);
		return 0;
	}
	if (!locked)
		ccmm_mutex_unlock(cur->ctx, &encl->lock);
	va = calloc(1, sizeof(*va));
	if (!va)
		return -ENOMEM;
	epc = ccmm_sgx_alloc_epc_page(cur, va, reclaim, &err);
	if (!epc) {
		free(va);
		return err;
	}
	if (!locked)
		ccmm_mutex_lock(cur->ctx, &encl->lock);
	if (ccmm_grow((void **)&encl->va_pages, &encl->cap_va, encl->nr_va + 1, sizeof(*encl->va_pages))) {
		if (!locked)
			ccmm_mutex_unlock(cur->ctx, &encl->lock);
		ccmm_sgx_free_epc_page(sgx, epc);
		free(va);
		return -ENOMEM;
	}
	_ccmm_encls_epa(cur->ctx, epc);
	ccmm_sgx_mark_page_unreclaimable(epc);
	va->epc_page = epc;
	memmove(encl->va_pages + 1, encl->va_pages, encl->nr_va * sizeof(*encl->va_pages));
	encl->va_pages[0] = va;
	encl->nr_va++;
	encl->page_cnt++;
	if (!locked)
		ccmm_mutex_unlock(cur->ctx, &encl->lock);
	return 1;
}

/*
 * sgx_encl_shrink: undo a grow whose page was not added (encl->lock held).
 * Returns 1 when it freed the VA page the grow added, else 0.
 */
static int encl_shrink(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, int grown)
{
	encl->page_cnt--;
	if (grown == 1 && encl->nr_va && !encl->va_pages[0]->used) {
		struct ccmm_sgx_va_page *va = encl->va_pages[0];

		memmove(encl->va_pages, encl->va_pages + 1, (encl->nr_va - 1) * sizeof(*encl->va_pages));
		encl->nr_va--;
		_ccmm_encls_eremove(ctx, encl, va->epc_page);
		ccmm_sgx_free_epc_page(encl->sgx, va->epc_page);
		free(va);
		return 1;
	}
	return 0;
}

/* ---- backing storage ------------------------------------------------------------------ */

/* The memcg backing storage is charged to (with a reference) and the task to blame for OOM. */
static struct ccmm_cgroup *backing_memcg(struct ccmm_sgx_encl *encl, struct ccmm_mm *charge_mm,
					 struct ccmm_task **task)
{
	struct ccmm_cgroup_root *root = encl->sgx->cgroups;
	struct ccmm_cgroup *memcg = NULL;

	*task = NULL;
	if (charge_mm) {
		/* direct reclaim: the current task's mm, fast and precise */
		*task = ccmm_task_of_mm(root, charge_mm);
		return ccmm_get_mem_cgroup_from_mm(root, charge_mm);
	}
	/* indirect (ksgxd, the workqueue): some live mm on the enclave's mm_list, a last resort */
	pthread_mutex_lock(&encl->mm_lock);
	for (size_t i = 0; i < encl->nr_mms && !memcg; i++) {
		if (ccmm_task_of_mm(root, encl->mms[i].mm))
			memcg = ccmm_get_mem_cgroup_from_mm(root, encl->mms[i].mm);
	}
	pthread_mutex_unlock(&encl->mm_lock);
	if (!memcg) {
		memcg = root->top;
		ccmm_cgroup_get(memcg);
	}
	return memcg;
}

static int backing_page(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, struct ccmm_task *task, uint64_t *pa,
			struct ccmm_cgroup **charged)
{
	int ret = ccmm_memcg_try_charge(ctx, memcg, 1, task);

	if (ret)
		return ret;
	ret = ccmm_alloc_pages(ctx, -1, 0, 0, pa);
	if (ret) {
		ccmm_memcg_uncharge(memcg, 1);
		return -ENOMEM;
	}
	ccmm_cgroup_get(memcg);
	*charged = memcg;
	return 0;
}

int _ccmm_sgx_encl_alloc_backing(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, uint64_t index,
			   struct ccmm_mm *charge_mm)
{
	uint64_t k = index / CCMM_SGX_PCMD_PER_PAGE;
	struct ccmm_task *task;
	struct ccmm_cgroup *memcg;
	int ret = 0;

	if (encl->backing[index] != CCMM_SGX_NO_BACKING && encl->pcmd[k] != CCMM_SGX_NO_BACKING)
		return 0;
	memcg = backing_memcg(encl, charge_mm, &task);
	if (encl->backing[index] == CCMM_SGX_NO_BACKING) {
		ret = backing_page(ctx, memcg, task, &encl->backing[index], &encl->backing_memcg[index]);
		if (!ret)
			encl->backing_pages++;
	}
	if (!ret && encl->pcmd[k] == CCMM_SGX_NO_BACKING) {
		ret = backing_page(ctx, memcg, task, &encl->pcmd[k], &encl->pcmd_memcg[k]);
		if (!ret)
			encl->backing_pages++;
	}
	ccmm_cgroup_put(memcg);
	return ret;
}

static void free_backing(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, uint64_t *pa, struct ccmm_cgroup **memcg)
{
	if (*pa == CCMM_SGX_NO_BACKING)
		return;
	ccmm_free_pages(ctx, *pa, 0);
	ccmm_memcg_uncharge(*memcg, 1);
	ccmm_cgroup_put(*memcg);
	*pa = CCMM_SGX_NO_BACKING;
	*memcg = NULL;
	encl->backing_pages--;
}

/*
 * pcmd_page_in_use: a PCMD page may go only when no entry is in use and
 * no page that shares it is on its way out (BEING_RECLAIMED: the
 * reclaimer got its backing and will write its PCMD entry). Without the
 * second check (sgx->pcmd_race_bug) a fault truncates the PCMD page under
 * a reclaimer, which then writes the PCMD into a freed page and the page
 * can never be loaded back (its MAC no longer checks): the 2022 reclaimer
 * vs. page fault race that the kernel fixed this way
 * (reclaimer_writing_to_pcmd).
 */
static bool pcmd_page_in_use(struct ccmm_sgx_encl *encl, uint64_t k)
{
	if (encl->pcmd_used[k])
		return true;
	if (encl->sgx->pcmd_race_bug)
		return false;
	for (uint64_t i = k * CCMM_SGX_PCMD_PER_PAGE; i < (k + 1) * CCMM_SGX_PCMD_PER_PAGE && i <= encl->nr_pages; i++) {
		const struct ccmm_sgx_encl_page *ep = i == encl->nr_pages ? &encl->secs : &encl->pages[i];

		if (ep->desc & CCMM_ENCL_PAGE_BEING_RECLAIMED)
			return true;
	}
	return false;
}

/* sgx_encl_truncate_backing_page: after ELDU the backing page and (when unused) its PCMD page go. */
static void truncate_backing(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, uint64_t index)
{
	uint64_t k = index / CCMM_SGX_PCMD_PER_PAGE;

	free_backing(ctx, encl, &encl->backing[index], &encl->backing_memcg[index]);
	if (encl->pcmd_used[k])
		encl->pcmd_used[k]--;
	if (!pcmd_page_in_use(encl, k))
		free_backing(ctx, encl, &encl->pcmd[k], &encl->pcmd_memcg[k]);
}

/* ---- mm_list, young bits, zapping ------------------------------------------------------- */

bool _ccmm_sgx_encl_test_and_clear_young(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, uint64_t addr)
{
	bool young = false;

	pthread_mutex_lock(&encl->mm_lock);
	for (size_t i = 0; i < encl->nr_mms && !young; i++) {
		struct ccmm_walk w;

		if (ccmm_pgt_walk(encl->mms[i].mm->pgt, addr, &w) || !(w.pte & CCMM_PTE_ACCESSED))
			continue;
		ccmm_pgt_protect(ctx, encl->mms[i].mm->pgt, addr, CCMM_PAGE_SIZE, 0, CCMM_PTE_ACCESSED, false);
		young = true;
	}
	pthread_mutex_unlock(&encl->mm_lock);
	return young;
}

/* The IPI that kicks every logical processor out of the enclave (and the TLB flush it carries). */
static void encl_ipi(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl)
{
	pthread_rwlock_wrlock(&encl->tlb);
	pthread_mutex_lock(&encl->track_lock);
	encl->nr_inside_old = 0;
	pthread_mutex_unlock(&encl->track_lock);
	pthread_rwlock_unlock(&encl->tlb);
	atomic_fetch_add(&encl->nr_ipi, 1);
	ccmm_charge(ctx, CCMM_COST_tlb_shootdown_ns, 1);
	ccmm_count(ctx, CCMM_CTR_AT(sgx, sgx_ipis), 1);
}

void _ccmm_sgx_encl_zap(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, uint64_t addr)
{
	pthread_mutex_lock(&encl->mm_lock);
	for (size_t i = 0; i < encl->nr_mms; i++)
		ccmm_zap_vma_range(ctx, encl->mms[i].vma, addr, CCMM_PAGE_SIZE);
	pthread_mutex_unlock(&encl->mm_lock);
	/* threads inside finish the access they are in the middle of, then see no PTE */
	pthread_rwlock_wrlock(&encl->tlb);
	pthread_rwlock_unlock(&encl->tlb);
}

void _ccmm_sgx_encl_get_backing(struct ccmm_sgx_encl *encl, uint64_t index, struct ccmm_sgx_backing *b)
{
	b->contents = encl->backing[index];
	b->pcmd = encl->pcmd[index / CCMM_SGX_PCMD_PER_PAGE];
}

int _ccmm_sgx_encl_ewb(struct ccmm_ctx *ctx, struct ccmm_sgx_encl_page *ep, uint64_t index,
		       const struct ccmm_sgx_backing *b)
{
	struct ccmm_sgx_encl *encl = ep->encl;
	struct ccmm_sgx_va_page *va = NULL;
	uint64_t k = index / CCMM_SGX_PCMD_PER_PAGE, pcmd_pa;
	int slot, ret;

	ep->desc &= ~(uint64_t)CCMM_ENCL_PAGE_BEING_RECLAIMED;
	slot = va_alloc_slot(encl, &va);
	if (slot < 0)
		return -ENOSPC;
	/* the pages the reclaimer got, even if the enclave has let them go meanwhile */
	pcmd_pa = b->pcmd + (index % CCMM_SGX_PCMD_PER_PAGE) * 128;
	ret = _ccmm_encls_ewb(ctx, encl, ep->epc_page, va, (unsigned)slot, b->contents, pcmd_pa);
	if (ret == CCMM_SGX_NOT_TRACKED) {
		_ccmm_encls_etrack(ctx, encl);
		ret = _ccmm_encls_ewb(ctx, encl, ep->epc_page, va, (unsigned)slot, b->contents, pcmd_pa);
		if (ret == CCMM_SGX_NOT_TRACKED) {
			/* slow path: kick the threads that entered before the ETRACK */
			encl_ipi(ctx, encl);
			ret = _ccmm_encls_ewb(ctx, encl, ep->epc_page, va, (unsigned)slot, b->contents, pcmd_pa);
		}
	}
	if (ret) {
		va_free_slot(encl, va, (unsigned)slot);
		return ret;
	}
	encl->pcmd_used[k]++;
	ep->desc = (ep->desc & ~(uint64_t)CCMM_ENCL_PAGE_VA_OFFSET_MASK) | ((uint64_t)slot * 8);
	ep->va_page = va;
	return 0;
}

/* ---- creation -------------------------------------------------------------------------- */

static int sgx_vm_fault(struct ccmm_ctx *ctx, struct ccmm_vm_fault *vmf);
static void sgx_vm_close(struct ccmm_vma *vma);

static const struct ccmm_vm_ops sgx_vm_ops = {
	.name = "sgx_enclave",
	.fault = sgx_vm_fault,
	.close = sgx_vm_close,
};

static void encl_free(struct ccmm_sgx_encl *encl)
{
	ccmm_mutex_destroy(&encl->lock);
	pthread_mutex_destroy(&encl->mm_lock);
	pthread_mutex_destroy(&encl->track_lock);
	pthread_rwlock_destroy(&encl->tlb);
	free(encl->pages);
	free(encl->walked);
	free(encl->va_pages);
	free(encl->mms);
	free(encl->backing);
	free(encl->backing_memcg);
	free(encl->pcmd);
	free(encl->pcmd_used);
	free(encl->pcmd_memcg);
	free(encl);
}

static int mm_list_add(struct ccmm_sgx_encl *encl, struct ccmm_mm *mm, struct ccmm_vma *vma)
{
	int ret = 0;

	pthread_mutex_lock(&encl->mm_lock);
	if (ccmm_grow((void **)&encl->mms, &encl->cap_mms, encl->nr_mms + 1, sizeof(*encl->mms))) {
		ret = -ENOMEM;
	} else {
		encl->mms[encl->nr_mms].mm = mm;
		encl->mms[encl->nr_mms].vma = vma;
		encl->nr_mms++;
	}
	pthread_mutex_unlock(&encl->mm_lock);
	return ret;
}

int ccmm_sgx_encl_mm_add(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl, struct ccmm_mm *mm)
{
	struct ccmm_vma *vma;
	int ret = ccmm_mmap(ctx, mm, encl->base, encl->size, CCMM_VM_READ | CCMM_VM_WRITE | CCMM_VM_SHARED, ENCL_PROT,
			    &sgx_vm_ops, encl, &vma);

	if (ret)
		return ret;
	atomic_fetch_add(&encl->refcount, 1); /* each mapping holds the enclave */
	ret = mm_list_add(encl, mm, vma);
	if (ret) {
		/* the close hook drops the reference and finds nothing on the list */
		ccmm_munmap(ctx, mm, encl->base, encl->size);
	}
	return ret;
}

int ccmm_sgx_encl_create(const struct ccmm_sgx_current *cur, uint64_t base, uint64_t size, const char *name,
			 struct ccmm_sgx_encl **out)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(cur->ctx->m);
	struct ccmm_sgx_encl *encl;
	struct ccmm_epc_page *secs;
	uint64_t n;
	int ret;

	if (!sgx || !sgx->nr_pages)
		return -ENODEV;
	if (!cur->mm || size < 2 * CCMM_PAGE_SIZE || (size & (size - 1)) || (base & (size - 1)))
		return -EINVAL;
	n = size >> CCMM_PAGE_SHIFT;
	encl = calloc(1, sizeof(*encl));
	if (!encl)
		return -ENOMEM;
	encl->sgx = sgx;
	snprintf(encl->name, sizeof(encl->name), "%s", name ? name : "enclave");
	encl->base = base;
	encl->size = size;
	encl->nr_pages = n;
	ccmm_mutex_init(&encl->lock, "sgx_encl");
	pthread_mutex_init(&encl->mm_lock, NULL);
	pthread_mutex_init(&encl->track_lock, NULL);
	{
		/* the IPI must not starve behind threads that keep re-entering */
		pthread_rwlockattr_t ra;

		pthread_rwlockattr_init(&ra);
		pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
		pthread_rwlock_init(&encl->tlb, &ra);
		pthread_rwlockattr_destroy(&ra);
	}
	atomic_init(&encl->refcount, 1);
	encl->secs.encl = encl;
	encl->pages = calloc(n, sizeof(*encl->pages));
	encl->walked = calloc(n, sizeof(*encl->walked));
	encl->backing = calloc(n + 1, sizeof(*encl->backing));
	encl->backing_memcg = calloc(n + 1, sizeof(*encl->backing_memcg));
	encl->pcmd = calloc(n / CCMM_SGX_PCMD_PER_PAGE + 1, sizeof(*encl->pcmd));
	encl->pcmd_used = calloc(n / CCMM_SGX_PCMD_PER_PAGE + 1, sizeof(*encl->pcmd_used));
	encl->pcmd_memcg = calloc(n / CCMM_SGX_PCMD_PER_PAGE + 1, sizeof(*encl->pcmd_memcg));
	if (!encl->pages || !encl->walked || !encl->backing || !encl->backing_memcg || !encl->pcmd || !encl->pcmd_used ||
	    !encl->pcmd_memcg) {
		encl_free(encl);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < n; i++)
		encl->pages[i].encl = encl;
	/* physical address 0 is a valid page: "no backing" is all-ones */
	memset(encl->backing, 0xff, (n + 1) * sizeof(*encl->backing));
	memset(encl->pcmd, 0xff, (n / CCMM_SGX_PCMD_PER_PAGE + 1) * sizeof(*encl->pcmd));
	pthread_mutex_lock(&sgx->encls_lock);
	encl->id = ++sgx->next_encl_id;
	ret = ccmm_grow((void **)&sgx->encls, &sgx->cap_encls, sgx->nr_encls + 1, sizeof(*sgx->encls));
	if (!ret)
		sgx->encls[sgx->nr_encls++] = encl;
	pthread_mutex_unlock(&sgx->encls_lock);
	if (ret) {
		encl_free(encl);
		return -ENOMEM;
	}
	/* mmap ELRANGE (the first mapping; it holds a reference like any other) */
	ret = ccmm_sgx_encl_mm_add(cur->ctx, encl, cur->mm);
	if (ret) {
		ccmm_sgx_encl_put(cur->ctx, encl);
		return ret;
	}
	/* SGX_IOC_ENCLAVE_CREATE: a VA page first, then the SECS */
	ret = encl_grow(cur, encl, CCMM_SGX_DO_RECLAIM, false);
	if (ret >= 0) {
		int grown = ret;

		ret = 0;
		secs = ccmm_sgx_alloc_epc_page(cur, &encl->secs, CCMM_SGX_DO_RECLAIM, &ret);
		if (!secs) {
			/* sgx_encl_create's err_out_shrink: the VA page goes back at once */
			ccmm_mutex_lock(cur->ctx, &encl->lock);
			encl_shrink(cur->ctx, encl, grown);
			ccmm_mutex_unlock(cur->ctx, &encl->lock);
		}
		if (secs) {
			ccmm_mutex_lock(cur->ctx, &encl->lock);
			_ccmm_encls_ecreate(cur->ctx, encl, secs);
			encl->secs.epc_page = secs;
			encl->secs.type = CCMM_PT_SECS;
			encl->secs.added = true;
			ccmm_sgx_mark_page_unreclaimable(secs);
			atomic_fetch_or(&encl->flags, CCMM_ENCL_CREATED);
			ccmm_mutex_unlock(cur->ctx, &encl->lock);
		}
	}
	if (ret) {
		ccmm_sgx_encl_put(cur->ctx, encl); /* the fd */
		return ret;
	}
	*out = encl;
	return 0;
}

long ccmm_sgx_encl_add_pages(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl, uint64_t first,
			     uint64_t count, enum ccmm_epcm_type type, unsigned perm, const void *src, bool measure,
			     int *err)
{
	struct ccmm_sgx *sgx = encl->sgx;
	long done = 0;
	int ret = 0;

	if (first >= encl->nr_pages || count > encl->nr_pages - first || (type != CCMM_PT_REG && type != CCMM_PT_TCS) ||
	    (atomic_load(&encl->flags) & CCMM_ENCL_INITIALIZED)) {
		ret = -EINVAL;
		goto out;
	}
	for (uint64_t i = first; i < first + count; i++) {
		struct ccmm_sgx_encl_page *ep = &encl->pages[i];
		struct ccmm_epc_page *epc;

		if (ccmm_task_signal_pending(cur->task)) {
			ret = -EINTR;
			break;
		}
		if (ep->added) {
			ret = -EEXIST;
			break;
		}
		epc = ccmm_sgx_alloc_epc_page(cur, ep, CCMM_SGX_DO_RECLAIM, &ret);
		if (!epc)
			break;
		ret = encl_grow(cur, encl, CCMM_SGX_DO_RECLAIM, false);
		if (ret < 0) {
			ccmm_sgx_free_epc_page(sgx, epc);
			break;
		}
		ret = 0;
		ccmm_mutex_lock(cur->ctx, &encl->lock);
		ret = _ccmm_encls_eadd(cur->ctx, encl, epc, page_addr(ep), type, perm,
				 src ? (const uint8_t *)src + (i - first) * CCMM_PAGE_SIZE : NULL);
		if (ret) {
			ccmm_mutex_unlock(cur->ctx, &encl->lock);
			ccmm_sgx_free_epc_page(sgx, epc);
			break;
		}
		if (measure)
			_ccmm_encls_eextend(cur->ctx, CCMM_PAGE_SIZE / 256);
		ep->epc_page = epc;
		ep->type = (uint8_t)type;
		ep->perm = (uint8_t)perm;
		ep->desc = page_addr(ep);
		ep->added = true;
		encl->secs_child_cnt++;
		ccmm_mutex_unlock(cur->ctx, &encl->lock);
		ccmm_sgx_mark_page_reclaimable(sgx, epc);
		done++;
	}
out:
	if (err)
		*err = ret;
	return done ? done : ret;
}

int ccmm_sgx_encl_init(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl)
{
	bool tcs = false;
	int ret = 0;

	ccmm_mutex_lock(cur->ctx, &encl->lock);
	for (uint64_t i = 0; i < encl->nr_pages && !tcs; i++)
		tcs = encl->pages[i].added && encl->pages[i].type == CCMM_PT_TCS;
	if (!tcs || (atomic_load(&encl->flags) & CCMM_ENCL_INITIALIZED) || !encl->secs.epc_page) {
		ret = -EINVAL;
	} else {
		ccmm_charge(cur->ctx, CCMM_COST_AT(sgx, sgx_einit_ns), 1);
		atomic_fetch_or(&encl->flags, CCMM_ENCL_INITIALIZED);
	}
	ccmm_mutex_unlock(cur->ctx, &encl->lock);
	return ret;
}

/* ---- the fault handler -------------------------------------------------------------------- */

static void cur_cg_stat(struct ccmm_sgx *sgx, const struct ccmm_sgx_current *cur, enum ccmm_sgx_stat st)
{
	struct ccmm_sgx_cgroup *s = _ccmm_sgx_get_current_cg(sgx, cur);

	sgx_cg_stat(s, st, 1);
	_ccmm_sgx_put_cg(s);
}

/* sgx_encl_eldu: bring @ep back into the EPC. encl->lock held; no reclaim here. */
static int encl_eldu(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl, struct ccmm_sgx_encl_page *ep)
{
	struct ccmm_sgx *sgx = encl->sgx;
	uint64_t index = _ccmm_sgx_encl_page_index(ep), k = index / CCMM_SGX_PCMD_PER_PAGE;
	unsigned slot = (unsigned)((ep->desc & CCMM_ENCL_PAGE_VA_OFFSET_MASK) / 8);
	struct ccmm_epc_page *epc;
	int err = 0, ret;

	epc = ccmm_sgx_alloc_epc_page(cur, ep, CCMM_SGX_NO_RECLAIM, &err);
	if (!epc)
		return err;
	ret = _ccmm_encls_eldu(cur->ctx, encl, epc, page_addr(ep), (enum ccmm_epcm_type)ep->type, ep->perm, ep->va_page, slot,
			       encl->backing[index],
			       encl->pcmd[k] == CCMM_SGX_NO_BACKING ? CCMM_SGX_NO_BACKING
								    : encl->pcmd[k] + (index % CCMM_SGX_PCMD_PER_PAGE) * 128);
	if (ret) {
		ccmm_sgx_free_epc_page(sgx, epc);
		return ret < 0 && ret != -EFAULT ? ret : -EFAULT; /* SIGBUS */
	}
	va_free_slot(encl, ep->va_page, slot);
	ep->va_page = NULL;
	ep->desc &= ~(uint64_t)CCMM_ENCL_PAGE_VA_OFFSET_MASK;
	truncate_backing(cur->ctx, encl, index);
	ep->epc_page = epc;
	cur_cg_stat(sgx, cur, CCMM_SGX_ST_ELDU);
	return 0;
}

/* __sgx_encl_load_page: the page resident, the SECS first if it was evicted. encl->lock held. */
static int encl_load_page(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl,
			  struct ccmm_sgx_encl_page *ep)
{
	struct ccmm_sgx *sgx = encl->sgx;
	int ret;

	if (ep->epc_page) {
		if (ep->desc & CCMM_ENCL_PAGE_BEING_RECLAIMED)
			return -EBUSY;
		return 0;
	}
	if (!encl->secs.epc_page) {
		ret = encl_eldu(cur, encl, &encl->secs);
		if (ret)
			return ret;
		ccmm_sgx_mark_page_unreclaimable(encl->secs.epc_page);
	}
	ret = encl_eldu(cur, encl, ep);
	if (ret)
		return ret;
	encl->secs_child_cnt++;
	ccmm_sgx_mark_page_reclaimable(sgx, ep->epc_page);
	return 0;
}

/*
 * sgx_encl_eaug_page (SGX2): a page of ELRANGE never added is added on
 * first touch. encl->lock held. *@undone counts the EPC pages this attempt
 * took and gave back on its way to an error (the page when the grow's VA
 * page cannot be had).
 */
static int encl_eaug_page(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl,
			  struct ccmm_sgx_encl_page *ep, unsigned *undone)
{
	struct ccmm_sgx *sgx = encl->sgx;
	struct ccmm_epc_page *epc;
	int err = 0, ret, grown;

	if (!(atomic_load(&encl->flags) & CCMM_ENCL_INITIALIZED))
		return -EFAULT;
	/*
	 * The kernel's order: the SECS, the page, then the VA slot (grow).
	 * The reclaimer may have written the SECS back when the child count
	 * dropped to zero: load it before EAUG (the fix for the SECS reclaim
	 * vs. EAUG race; the knob keeps the buggy path for demonstration).
	 */
	if (!sgx->eaug_race_bug && !encl->secs.epc_page) {
		ret = encl_eldu(cur, encl, &encl->secs);
		if (ret)
			return ret;
		ccmm_sgx_mark_page_unreclaimable(encl->secs.epc_page);
	}
	epc = ccmm_sgx_alloc_epc_page(cur, ep, CCMM_SGX_NO_RECLAIM, &err);
	if (!epc)
		return err;
	grown = encl_grow(cur, encl, CCMM_SGX_NO_RECLAIM, true);
	if (grown < 0) {
		/* err_out_epc: the page goes back; that free made no room */
		ccmm_sgx_free_epc_page(sgx, epc);
		(*undone)++;
		return grown;
	}
	ret = _ccmm_encls_eaug(cur->ctx, encl, epc, page_addr(ep));
	if (ret) {
		ccmm_sgx_free_epc_page(sgx, epc);
		*undone += 1 + (unsigned)encl_shrink(cur->ctx, encl, grown);
		return ret;
	}
	ep->epc_page = epc;
	ep->type = CCMM_PT_REG;
	ep->perm = CCMM_EPCM_R | CCMM_EPCM_W;
	ep->desc = page_addr(ep);
	ep->added = true;
	encl->secs_child_cnt++;
	atomic_fetch_add(&encl->nr_eaug, 1);
	ccmm_sgx_mark_page_reclaimable(sgx, epc);
	/* the enclave accepts it when it resumes */
	_ccmm_encls_eaccept(cur->ctx, epc);
	return 0;
}

/*
 * The fault: mmap_lock held by the caller. 0, -EBUSY (retry), -EFAULT
 * (SIGBUS), -ENOMEM, -EINTR. *@undone: EPC pages the attempt took and
 * freed again (each bumped the progress count without making room).
 */
static int encl_fault(const struct ccmm_sgx_current *cur, struct ccmm_sgx_encl *encl, struct ccmm_vma *vma,
		      uint64_t addr, unsigned *undone)
{
	struct ccmm_sgx *sgx = encl->sgx;
	struct ccmm_sgx_encl_page *ep;
	int ret;

	if (addr < encl->base || addr - encl->base >= encl->size)
		return -EFAULT;
	ep = &encl->pages[(addr - encl->base) >> CCMM_PAGE_SHIFT];
	atomic_fetch_add(&encl->nr_faults, 1);
	ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_faults), 1);
	cur_cg_stat(sgx, cur, CCMM_SGX_ST_FAULTS);
	ccmm_mutex_lock(cur->ctx, &encl->lock);
	if (atomic_load(&encl->flags) & CCMM_ENCL_DEAD)
		ret = -EFAULT;
	else if (!ep->added)
		ret = encl_eaug_page(cur, encl, ep, undone);
	else
		ret = encl_load_page(cur, encl, ep);
	if (!ret) {
		ret = ccmm_vmf_insert_pfn_prot(cur->ctx, vma, addr, ep->epc_page->pa, ENCL_PROT);
		if (ret == -EEXIST)
			ret = 0;
	}
	ccmm_mutex_unlock(cur->ctx, &encl->lock);
	ccmm_charge(cur->ctx, CCMM_COST_page_fault_ns, 1);
	return ret;
}

/* The VMA's fault handler, for accesses that come through ccmm_mm_access (non-enclave mode). */
static int sgx_vm_fault(struct ccmm_ctx *ctx, struct ccmm_vm_fault *vmf)
{
	struct ccmm_vma *vma = vmf->vma;
	struct ccmm_sgx_encl *encl = vma->priv;
	struct ccmm_sgx_current cur = { ctx, ccmm_task_of_mm(encl->sgx->cgroups, vma->mm), vma->mm };
	unsigned undone = 0;
	int ret = encl_fault(&cur, encl, vma, vmf->address, &undone);

	/* -EBUSY: VM_FAULT_NOPAGE, the access faults again */
	return ret == -EBUSY ? 0 : ret ? -EFAULT : 0;
}

static void sgx_vm_close(struct ccmm_vma *vma)
{
	struct ccmm_sgx_encl *encl = vma->priv;
	bool found = false;

	pthread_mutex_lock(&encl->mm_lock);
	for (size_t i = 0; i < encl->nr_mms; i++) {
		if (encl->mms[i].vma == vma) {
			memmove(&encl->mms[i], &encl->mms[i + 1], (encl->nr_mms - i - 1) * sizeof(*encl->mms));
			encl->nr_mms--;
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&encl->mm_lock);
	(void)found;
	ccmm_sgx_encl_put(NULL, encl);
}

/* ---- enclave mode ----------------------------------------------------------------------------- */

void ccmm_sgx_enter(struct ccmm_sgx_thread *t, struct ccmm_sgx_encl *encl)
{
	t->encl = encl;
	memset(t->tlb, 0, sizeof(t->tlb)); /* the exit flushed the enclave's TLB entries */
	pthread_rwlock_rdlock(&encl->tlb);
	pthread_mutex_lock(&encl->track_lock);
	encl->nr_inside++;
	t->entry_gen = encl->etrack_gen;
	pthread_mutex_unlock(&encl->track_lock);
	t->inside = true;
}

void ccmm_sgx_exit(struct ccmm_sgx_thread *t)
{
	struct ccmm_sgx_encl *encl = t->encl;

	if (!t->inside)
		return;
	pthread_mutex_lock(&encl->track_lock);
	encl->nr_inside--;
	if (t->entry_gen < encl->etrack_gen && encl->nr_inside_old)
		encl->nr_inside_old--;
	pthread_mutex_unlock(&encl->track_lock);
	pthread_rwlock_unlock(&encl->tlb);
	t->inside = false;
}

/* EPCM check of an enclave access: NULL if allowed, else why not. */
static const char *epcm_check(const struct ccmm_sgx_encl *encl, const struct ccmm_epc_page *p, uint64_t va, bool write)
{
	if (!p)
		return "the PTE does not point into the EPC";
	if (!atomic_load(&p->epcm_valid))
		return "the EPCM entry is not valid";
	if (atomic_load(&p->epcm_encl) != encl->id)
		return "the page belongs to another enclave";
	if (atomic_load(&p->epcm_linaddr) != va)
		return "the EPCM linear address does not match";
	if (atomic_load(&p->epcm_blocked))
		return "the page is BLOCKED";
	if (atomic_load(&p->epcm_pending))
		return "the page is PENDING (EAUGed, not EACCEPTed)";
	if (p->epcm_type != CCMM_PT_REG)
		return "the page is not a regular page";
	if (write && !(p->epcm_perm & CCMM_EPCM_W))
		return "the EPCM does not allow writes";
	return NULL;
}

/* The walk of page @idx succeeded, its EPCM check passed and the accessed (and @dirty) bits are set: cache it. */
static void tlb_fill(struct ccmm_sgx_thread *t, uint64_t idx, bool dirty)
{
	t->tlb[idx % CCMM_SGX_TLB_ENTRIES].tag = idx + 1;
	t->tlb[idx % CCMM_SGX_TLB_ENTRIES].dirty = dirty;
}

int ccmm_sgx_encl_access(const struct ccmm_sgx_current *cur, struct ccmm_sgx_thread *t, uint64_t va, bool write)
{
	struct ccmm_sgx_encl *encl = t->encl;
	struct ccmm_sgx *sgx = encl->sgx;
	struct ccmm_machine *m = cur->ctx->m;

	uint64_t idx;

	va = CCMM_ALIGN_DOWN(va, CCMM_PAGE_SIZE);
	if (!t->inside || va < encl->base || va - encl->base >= encl->size)
		return -EINVAL;
	idx = (va - encl->base) >> CCMM_PAGE_SHIFT;
	if (t->tlb[idx % CCMM_SGX_TLB_ENTRIES].tag == idx + 1 && (!write || t->tlb[idx % CCMM_SGX_TLB_ENTRIES].dirty)) {
		/* a TLB hit: no walk, no EPCM check (both happened at the fill) */
		if (ccmm_task_signal_pending(cur->task))
			return -EINTR;
		ccmm_charge(cur->ctx, CCMM_COST_AT(sgx, sgx_epc_ref_ns), 1);
		ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_refs), 1);
		return 0;
	}
	/*
	 * No retry count: the fault retries until it maps the page, is
	 * signalled, or the scheduler finds that nothing can ever make room
	 * (the livelock check in _ccmm_sgx_wait_for_reclaim).
	 */
	for (;;) {
		struct ccmm_sgx_encl_page *ep = &encl->pages[(va - encl->base) >> CCMM_PAGE_SHIFT];
		struct ccmm_walk w;
		struct ccmm_vma *vma;
		unsigned undone = 0;
		uint64_t seq;
		int ret;

		if (ccmm_task_signal_pending(cur->task))
			return -EINTR;
		if (!ccmm_pgt_walk(cur->mm->pgt, va, &w)) {
			struct ccmm_epc_page *p = ccmm_sgx_epc_page(sgx, w.pa & ~(CCMM_PAGE_SIZE - 1));
			const char *why = epcm_check(encl, p, va, write);
			uint64_t want = CCMM_PTE_ACCESSED | (write ? CCMM_PTE_DIRTY : 0);
			struct ccmm_page *pg;
			uint64_t v = 0;
			int r;

			if (why) {
				ccmm_violation(cur->ctx, &ccmm_rule_epcm_fault, w.pa,
					       "enclave %s %s 0x%" PRIx64 ": %s: #PF with PF_SGX", encl->name,
					       write ? "write to" : "read of", va, why);
				return -EFAULT;
			}
			if ((w.pte & want) == want) {
				/*
				 * The fast path: the page is resident and this PTE
				 * already has its accessed (and dirty) bit, so the
				 * data moved through the MEE at the first access
				 * since the fault that mapped it or since the
				 * reclaimer last aged it (it clears the bit); the
				 * check of the data lost across EWB/ELDU happens
				 * there. Here: the page table, the cost, the count.
				 */
				tlb_fill(t, idx, (w.pte & CCMM_PTE_DIRTY) != 0);
				ccmm_charge(cur->ctx, CCMM_COST_AT(sgx, sgx_epc_ref_ns), 1);
				ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_refs), 1);
				return 0;
			}
			/* the page walker sets the accessed and dirty bits */
			ccmm_pgt_protect(cur->ctx, cur->mm->pgt, va, CCMM_PAGE_SIZE, want, 0, false);
			pg = ccmm_phys_lock(m, p->pa);
			if (!pg)
				return -ENOMEM;
			if (write) {
				v = ++ep->shadow;
				r = ccmm_phys_rw(m, p->pa, &v, sizeof(v), true, CCMM_KEYID_EPC, NULL);
			} else {
				r = ccmm_phys_rw(m, p->pa, &v, sizeof(v), false, CCMM_KEYID_EPC, NULL);
			}
			ccmm_phys_unlock(m, p->pa);
			if (r)
				return r;
			if (!write && v != ep->shadow)
				ccmm_violation(cur->ctx, &ccmm_rule_enclave_data_lost, p->pa,
					       "enclave %s read 0x%" PRIx64 " at 0x%" PRIx64 ", last wrote 0x%" PRIx64,
					       encl->name, v, va, ep->shadow);
			tlb_fill(t, idx, (w.pte & CCMM_PTE_DIRTY) || write);
			ccmm_charge(cur->ctx, CCMM_COST_AT(sgx, sgx_epc_ref_ns), 1);
			ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_refs), 1);
			return 0;
		}
		/* #PF: AEX, the kernel's fault handler, ERESUME */
		ccmm_sgx_exit(t);
		ccmm_charge(cur->ctx, CCMM_COST_AT(sgx, sgx_aex_ns), 1);
		ccmm_sched_point(CCMM_SP_FAULT, encl->name);
		seq = _ccmm_sgx_progress_seq(sgx);
		ccmm_mutex_lock(cur->ctx, &cur->mm->mmap_lock);
		vma = ccmm_find_vma(cur->mm, va);
		ret = vma && vma->priv == encl ? encl_fault(cur, encl, vma, va, &undone) : -EFAULT;
		ccmm_mutex_unlock(cur->ctx, &cur->mm->mmap_lock);
		if (ret == -EBUSY) {
			/*
			 * VM_FAULT_NOPAGE: the access faults again once reclaim
			 * made room. A page this attempt took and freed again
			 * (a grow's VA page) made none: waiting for a count
			 * past it, the fault does not retry on its own free
			 * while the reclaimer never gets to run.
			 */
			if (_ccmm_sgx_wait_for_reclaim(sgx, cur, seq + undone) == -EDEADLK) {
				ccmm_violation(cur->ctx, &ccmm_rule_sgx_fault_livelock, UINT64_MAX,
					       "enclave %s: the fault at 0x%" PRIx64 " waits for reclaim that nothing can do "
					       "(no entity that could free a page can run): it would retry forever; SIGBUS",
					       encl->name, va);
				ret = -EFAULT;
			}
		}
		if (ret == -EINTR) {
			ccmm_sgx_enter(t, encl);
			return -EINTR;
		}
		if (ret && ret != -EBUSY) {
			/* VM_FAULT_SIGBUS */
			if (cur->task)
				ccmm_task_signal(cur->task, SIGBUS);
			cur_cg_stat(sgx, cur, CCMM_SGX_ST_SIGBUS);
			ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_sigbus), 1);
			ccmm_sgx_enter(t, encl);
			return -EFAULT;
		}
		ccmm_sgx_enter(t, encl);
	}
}

/* The sum a walk's result is remembered under (ccmm_sgx_encl.walked): never 0. */
static inline uint64_t walk_gen(struct ccmm_pgtable *pgt, struct ccmm_sgx *sgx)
{
	return ccmm_pgt_gen(pgt) + atomic_load_explicit(&sgx->epcm_gen, memory_order_acquire) + 1;
}

static inline void charge_refs(const struct ccmm_sgx_current *cur, uint64_t n)
{
	ccmm_charge(cur->ctx, CCMM_COST_AT(sgx, sgx_epc_ref_ns), n);
	ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_refs), n);
}

/* Reference @j of @refs, @width bytes wide (1: a code into @dict, 2 or 4: the value). */
static inline __attribute__((always_inline)) uint64_t ref_at(const void *refs, const uint16_t *dict, unsigned width,
							      size_t j)
{
	return width == 1 ? dict[((const uint8_t *)refs)[j]]
	       : width == 2 ? ((const uint16_t *)refs)[j] : ((const uint32_t *)refs)[j];
}

/* How many of @refs[0..@n) in a row the walk memo answers (see access_batch). */
static inline __attribute__((always_inline)) size_t memo_run(const _Atomic uint64_t *walked, uint64_t nr_pages,
							      uint64_t g2, const void *refs, const uint16_t *dict,
							      unsigned width, size_t n)
{
	size_t j;

	for (j = 0; j < n; j++) {
		uint64_t v = ref_at(refs, dict, width, j);

		if ((v >> 1) >= nr_pages ||
		    atomic_load_explicit(&walked[v >> 1], memory_order_relaxed) < (g2 | (v & 1)))
			break;
	}
	return j;
}

/*
 * The replay's fast path, for references @width bytes wide (1: codes into @dict, 2 or 4). A
 * run of references whose pages' walk memos hold (neither the page table
 * nor any EPCM entry changed since a walk found each page resident with
 * its accessed, and for a write its dirty, bit) is what as many walks
 * would find now, the fast path of ccmm_sgx_encl_access, and what TLB hits
 * give wherever the TLB agrees with the tables: counted and charged as
 * one. A fatal signal is looked for at the start of each run and by every
 * other access (in sim mode nothing else runs within a run; on real
 * threads a signal is seen at the next miss or batch, as a processor in
 * enclave mode sees one at its next exit). Any other reference goes
 * through ccmm_sgx_encl_access (the TLB, the walk, the first access since
 * a fault or an aging, the fault), whose result is remembered under the
 * generations read before it. The generations are read at the start and
 * after each such access: between two, only another thread could move
 * them (threads mode), and its change is seen from the next batch on, as a
 * TLB entry outlives a change of the tables until the next exit.
 */
static inline __attribute__((always_inline)) long access_batch(const struct ccmm_sgx_current *cur,
								struct ccmm_sgx_thread *t, const void *refs,
								const uint16_t *dict, unsigned width, size_t n, int *err)
{
	struct ccmm_sgx_encl *encl = t->encl;
	struct ccmm_pgtable *pgt = cur->mm->pgt;
	struct ccmm_sgx *sgx = encl->sgx;
	uint64_t nr_pages;
	size_t i = 0;
	int ret = 0;

	*err = 0;
	if (!t->inside)
		return *err = -EINVAL, 0;
	nr_pages = encl->size >> CCMM_PAGE_SHIFT;
	while (i < n) {
		uint64_t v, idx, g;
		size_t run = memo_run(encl->walked, nr_pages, walk_gen(pgt, sgx) << 1,
				      (const char *)refs + i * width, dict, width, n - i);

		if (run) {
			if (ccmm_task_signal_pending(cur->task)) {
				ret = -EINTR;
				break;
			}
			/* charged before the next access that may fault, so the clock is what single accesses make it */
			charge_refs(cur, run);
			i += run;
			if (i == n)
				break;
		}
		v = ref_at(refs, dict, width, i);
		idx = v >> 1;
		g = walk_gen(pgt, sgx);
		ret = ccmm_sgx_encl_access(cur, t, encl->base + idx * CCMM_PAGE_SIZE, v & 1);
		if (ret)
			break;
		/* done: its walk (the last, after any fault) found the page as the TLB entry it filled says */
		atomic_store_explicit(&encl->walked[idx], g << 1 | t->tlb[idx % CCMM_SGX_TLB_ENTRIES].dirty,
				      memory_order_relaxed);
		i++;
	}
	*err = ret;
	return (long)i;
}

long ccmm_sgx_encl_access_batch(const struct ccmm_sgx_current *cur, struct ccmm_sgx_thread *t, const uint32_t *refs,
				size_t n, int *err)
{
	return access_batch(cur, t, refs, NULL, 4, n, err);
}

long ccmm_sgx_encl_access_batch16(const struct ccmm_sgx_current *cur, struct ccmm_sgx_thread *t, const uint16_t *refs,
				  size_t n, int *err)
{
	return access_batch(cur, t, refs, NULL, 2, n, err);
}

long ccmm_sgx_encl_access_batch8(const struct ccmm_sgx_current *cur, struct ccmm_sgx_thread *t, const uint8_t *codes,
				 const uint16_t *dict, size_t n, int *err)
{
	return access_batch(cur, t, codes, dict, 1, n, err);
}

/* ---- release ------------------------------------------------------------------------------------ */

static void encl_release(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl)
{
	struct ccmm_sgx *sgx = encl->sgx;
	struct ccmm_ctx tmp;

	ctx = ctx_or(ctx, &tmp, sgx->m);
	atomic_fetch_or(&encl->flags, CCMM_ENCL_DEAD);
	/* mappings that are still there (a torn-down run) go first, without their references */
	for (;;) {
		struct ccmm_sgx_encl_mm em = { 0 };

		pthread_mutex_lock(&encl->mm_lock);
		if (encl->nr_mms)
			em = encl->mms[--encl->nr_mms];
		pthread_mutex_unlock(&encl->mm_lock);
		if (!em.mm)
			break;
		ccmm_zap_vma_range(ctx, em.vma, encl->base, encl->size);
		em.vma->ops = NULL; /* the VMA stays in the mm until it goes; it no longer points here */
		em.vma->priv = NULL;
	}
	ccmm_mutex_lock(ctx, &encl->lock);
	for (uint64_t i = 0; i < encl->nr_pages; i++) {
		struct ccmm_sgx_encl_page *ep = &encl->pages[i];

		if (ep->epc_page) {
			/* a reclaimer cannot hold it: it would hold a reference */
			while (ccmm_sgx_unmark_page_reclaimable(sgx, ep->epc_page) == -EBUSY)
				;
			_ccmm_encls_eremove(ctx, encl, ep->epc_page);
			ccmm_sgx_free_epc_page(sgx, ep->epc_page);
			ep->epc_page = NULL;
			encl->secs_child_cnt--;
		}
		if (ep->va_page) {
			va_free_slot(encl, ep->va_page, (unsigned)((ep->desc & CCMM_ENCL_PAGE_VA_OFFSET_MASK) / 8));
			ep->va_page = NULL;
		}
		free_backing(ctx, encl, &encl->backing[i], &encl->backing_memcg[i]);
	}
	if (encl->secs.va_page) {
		va_free_slot(encl, encl->secs.va_page, (unsigned)((encl->secs.desc & CCMM_ENCL_PAGE_VA_OFFSET_MASK) / 8));
		encl->secs.va_page = NULL;
	}
	free_backing(ctx, encl, &encl->backing[encl->nr_pages], &encl->backing_memcg[encl->nr_pages]);
	for (uint64_t k = 0; k <= encl->nr_pages / CCMM_SGX_PCMD_PER_PAGE; k++)
		free_backing(ctx, encl, &encl->pcmd[k], &encl->pcmd_memcg[k]);
	if (encl->secs.epc_page) {
		_ccmm_encls_eremove(ctx, encl, encl->secs.epc_page);
		ccmm_sgx_free_epc_page(sgx, encl->secs.epc_page);
		encl->secs.epc_page = NULL;
	}
	for (size_t i = 0; i < encl->nr_va; i++) {
		_ccmm_encls_eremove(ctx, encl, encl->va_pages[i]->epc_page);
		ccmm_sgx_free_epc_page(sgx, encl->va_pages[i]->epc_page);
		free(encl->va_pages[i]);
	}
	encl->nr_va = 0;
	ccmm_mutex_unlock(ctx, &encl->lock);
	pthread_mutex_lock(&sgx->encls_lock);
	for (size_t i = 0; i < sgx->nr_encls; i++) {
		if (sgx->encls[i] == encl) {
			memmove(&sgx->encls[i], &sgx->encls[i + 1], (sgx->nr_encls - i - 1) * sizeof(*sgx->encls));
			sgx->nr_encls--;
			break;
		}
	}
	pthread_mutex_unlock(&sgx->encls_lock);
	encl_free(encl);
}

void ccmm_sgx_encl_put(struct ccmm_ctx *ctx, struct ccmm_sgx_encl *encl)
{
	if (encl && atomic_fetch_sub(&encl->refcount, 1) == 1)
		encl_release(ctx, encl);
}

uint64_t ccmm_sgx_encl_epc_pages(struct ccmm_sgx_encl *encl)
{
	uint64_t n;

	/* the SECS's child count is the number of resident children (ccmm_sgx_encl_is_valid checks it) */
	ccmm_mutex_lock(NULL, &encl->lock);
	n = encl->nr_va + (encl->secs.epc_page ? 1 : 0) + encl->secs_child_cnt;
	ccmm_mutex_unlock(NULL, &encl->lock);
	return n;
}

int ccmm_sgx_encl_is_valid(struct ccmm_sgx_encl *encl)
{
	unsigned children = 0, slots = 0, va_used = 0;
	int ret = 0;

	ccmm_mutex_lock(NULL, &encl->lock);
	for (uint64_t i = 0; i < encl->nr_pages && !ret; i++) {
		struct ccmm_sgx_encl_page *ep = &encl->pages[i];
		struct ccmm_epc_page *p = ep->epc_page;

		if (p) {
			children++;
			if (!atomic_load(&p->epcm_valid) || atomic_load(&p->epcm_encl) != encl->id ||
			    atomic_load(&p->epcm_linaddr) != page_addr(ep) || p->owner != ep || ep->va_page)
				ret = -EUCLEAN;
		} else if (ep->added) {
			/* swapped out: a version slot and a backing page hold it */
			if (!ep->va_page || encl->backing[i] == CCMM_SGX_NO_BACKING)
				ret = -EUCLEAN;
			slots++;
		}
	}
	if (!encl->secs.epc_page && encl->secs.added)
		slots++;
	for (size_t i = 0; i < encl->nr_va; i++)
		va_used += encl->va_pages[i]->used;
	if (!ret && (children != encl->secs_child_cnt || slots != va_used ||
		     encl->nr_va * CCMM_SGX_VA_SLOT_COUNT < encl->page_cnt))
		ret = -EUCLEAN;
	ccmm_mutex_unlock(NULL, &encl->lock);
	return ret;
}
