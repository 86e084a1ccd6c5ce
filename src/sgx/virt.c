// SPDX-License-Identifier: MIT
/*
 * Virtual EPC (arch/x86/kernel/cpu/sgx/virt.c): EPC handed raw to a
 * guest through /dev/sgx_vepc. The host cannot reclaim it (it does not
 * know what the guest keeps there), so its pages are UNRECLAIMABLE and
 * never on an LRU; a fault the host cannot serve is SIGBUS to the VMM.
 * They are still charged to the VMM task's EPC cgroup ("an enclave page
 * is an enclave page", seed 004).
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sgx/internal.h"

static int vepc_vm_fault(struct ccmm_ctx *ctx, struct ccmm_vm_fault *vmf)
{
	struct ccmm_vma *vma = vmf->vma;
	uint64_t addr = vmf->address;
	struct ccmm_sgx_vepc *vepc = vma->priv;
	struct ccmm_sgx_current cur = { ctx, ccmm_task_of_mm(vepc->sgx->cgroups, vma->mm), vma->mm };

	/* non-guest accesses through the VMM's own mapping take the same path */
	return ccmm_sgx_vepc_fault(&cur, vepc, (addr - vepc->base) >> CCMM_PAGE_SHIFT) ? -EFAULT : 0;
}

static void vepc_vm_close(struct ccmm_vma *vma)
{
	struct ccmm_sgx_vepc *vepc = vma->priv;

	vepc->vma = NULL;
}

static const struct ccmm_vm_ops vepc_vm_ops = {
	.name = "sgx_vepc",
	.fault = vepc_vm_fault,
	.close = vepc_vm_close,
};

int ccmm_sgx_vepc_open(const struct ccmm_sgx_current *cur, uint64_t size, struct ccmm_sgx_vepc **out)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(cur->ctx->m);
	struct ccmm_sgx_vepc *v;
	int ret;

	if (!sgx || !sgx->nr_pages)
		return -ENODEV;
	if (!cur->mm || !size || !CCMM_IS_ALIGNED(size, CCMM_PAGE_SIZE))
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->sgx = sgx;
	v->mm = cur->mm;
	v->size = size;
	pthread_mutex_init(&v->lock, NULL);
	v->pages = calloc(size >> CCMM_PAGE_SHIFT, sizeof(*v->pages));
	if (!v->pages) {
		free(v);
		return -ENOMEM;
	}
	ret = ccmm_mmap(cur->ctx, cur->mm, 0, size, CCMM_VM_READ | CCMM_VM_WRITE | CCMM_VM_SHARED, CCMM_PTE_RW,
			&vepc_vm_ops, v, &v->vma);
	if (ret) {
		free(v->pages);
		pthread_mutex_destroy(&v->lock);
		free(v);
		return ret;
	}
	v->base = v->vma->start;
	atomic_fetch_add(&sgx->nr_vepc, 1);
	*out = v;
	return 0;
}

/* __sgx_vepc_fault: 0, or the allocation's error. vepc->lock held. */
static int vepc_fault_locked(const struct ccmm_sgx_current *cur, struct ccmm_sgx_vepc *v, uint64_t index)
{
	struct ccmm_epc_page *epc;
	int err = 0, ret;

	if (v->pages[index])
		return 0;
	epc = ccmm_sgx_alloc_epc_page(cur, v, CCMM_SGX_NO_RECLAIM, &err);
	if (!epc)
		return err;
	ccmm_sgx_mark_page_unreclaimable(epc);
	if (v->vma) {
		ret = ccmm_vmf_insert_pfn_prot(cur->ctx, v->vma, v->base + (index << CCMM_PAGE_SHIFT), epc->pa, CCMM_PTE_RW);
		if (ret && ret != -EEXIST) {
			ccmm_sgx_free_epc_page(v->sgx, epc);
			return ret;
		}
	}
	v->pages[index] = epc;
	v->nr_present++;
	return 0;
}

int ccmm_sgx_vepc_fault(const struct ccmm_sgx_current *cur, struct ccmm_sgx_vepc *v, uint64_t index)
{
	struct ccmm_sgx *sgx = v->sgx;
	int ret;

	if (index >= v->size >> CCMM_PAGE_SHIFT)
		return -EINVAL;
	ccmm_charge(cur->ctx, CCMM_COST_page_fault_ns, 1);
	ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_faults), 1);
	for (int attempt = 0; attempt < 2; attempt++) {
		uint64_t seq = _ccmm_sgx_progress_seq(sgx);

		pthread_mutex_lock(&v->lock);
		ret = vepc_fault_locked(cur, v, index);
		pthread_mutex_unlock(&v->lock);
		if (ret != -EBUSY)
			break;
		/* VM_FAULT_RETRY once: it waits for the background reclaimers to free a page, then SIGBUS */
		if (!attempt && _ccmm_sgx_wait_for_reclaim(sgx, cur, seq))
			break; /* nothing can ever free one */
	}
	if (ret) {
		struct ccmm_sgx_cgroup *s = _ccmm_sgx_get_current_cg(sgx, cur);

		sgx_cg_stat(s, CCMM_SGX_ST_SIGBUS, 1);
		_ccmm_sgx_put_cg(s);
		ccmm_count(cur->ctx, CCMM_CTR_AT(sgx, sgx_sigbus), 1);
		if (cur->task)
			ccmm_task_signal(cur->task, SIGBUS);
		return -EFAULT;
	}
	return 0;
}

void ccmm_sgx_vepc_release(struct ccmm_ctx *ctx, struct ccmm_sgx_vepc *v)
{
	struct ccmm_ctx tmp;

	if (!v)
		return;
	if (!ctx) {
		ccmm_ctx_init(&tmp, v->sgx->m, -1, "sgx_vepc");
		ctx = &tmp;
	}
	if (v->vma)
		ccmm_munmap(ctx, v->mm, v->base, v->size);
	for (uint64_t i = 0; i < v->size >> CCMM_PAGE_SHIFT; i++) {
		if (!v->pages[i])
			continue;
		_ccmm_encls_eremove(ctx, NULL, v->pages[i]);
		ccmm_sgx_free_epc_page(v->sgx, v->pages[i]);
	}
	free(v->pages);
	pthread_mutex_destroy(&v->lock);
	atomic_fetch_sub(&v->sgx->nr_vepc, 1);
	free(v);
}
