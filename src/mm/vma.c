// SPDX-License-Identifier: MIT
/* Address spaces: VMAs, remap_pfn_range, fault-time insertion, and accesses that fault and retry. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mm/internal.h"

#define MMAP_BASE 0x100000000ULL    /* 4 GiB: where unplaced mappings start */
#define USER_TOP 0x00007ffffffff000ULL
#define FAULT_RETRIES 8

int ccmm_mm_create(struct ccmm_machine *m, enum ccmm_initiator who, const char *name, struct ccmm_mm **out)
{
	struct ccmm_mm *mm;
	int ret;

	if (who != CCMM_INIT_USER && who != CCMM_INIT_HOST)
		return -EINVAL;
	mm = calloc(1, sizeof(*mm));
	if (!mm)
		return -ENOMEM;
	mm->m = m;
	mm->who = who;
	snprintf(mm->name, sizeof(mm->name), "%s", name ? name : "mm");
	ret = ccmm_pgt_create(m, who == CCMM_INIT_HOST ? CCMM_PGT_HOST : CCMM_PGT_GUEST_USER, mm->name, true, &mm->pgt);
	if (ret) {
		free(mm);
		return ret;
	}
	ccmm_mutex_init(&mm->mmap_lock, "mmap_lock");
	mm->mmap_base = MMAP_BASE;
	*out = mm;
	return 0;
}

void ccmm_mm_destroy(struct ccmm_ctx *ctx, struct ccmm_mm *mm)
{
	if (!mm)
		return;
	for (size_t i = 0; i < mm->nr_vmas; i++) {
		struct ccmm_vma *v = mm->vmas[i];

		if (v->ops && v->ops->close)
			v->ops->close(v);
		free(v);
	}
	free(mm->vmas);
	ccmm_pgt_destroy(ctx, mm->pgt);
	ccmm_mutex_destroy(&mm->mmap_lock);
	free(mm);
}

static size_t vma_index(struct ccmm_mm *mm, uint64_t addr)
{
	size_t lo = 0, hi = mm->nr_vmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (mm->vmas[mid]->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo; /* first VMA ending above addr */
}

struct ccmm_vma *ccmm_find_vma(struct ccmm_mm *mm, uint64_t addr)
{
	size_t i = vma_index(mm, addr);

	if (i < mm->nr_vmas && mm->vmas[i]->start <= addr)
		return mm->vmas[i];
	return NULL;
}

static bool range_free(struct ccmm_mm *mm, uint64_t start, uint64_t end)
{
	size_t i = vma_index(mm, start);

	return i >= mm->nr_vmas || mm->vmas[i]->start >= end;
}

int ccmm_mmap(struct ccmm_ctx *ctx, struct ccmm_mm *mm, uint64_t addr, uint64_t len, unsigned long vm_flags,
	      uint64_t prot, const struct ccmm_vm_ops *ops, void *priv, struct ccmm_vma **out)
{
	struct ccmm_vma *v;
	size_t i;
	int ret = 0;

	if (!len || !CCMM_IS_ALIGNED(len | addr, CCMM_PAGE_SIZE) || addr + len < addr ||
	    (mm->who == CCMM_INIT_USER && addr + len > USER_TOP))
		return -EINVAL;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ccmm_mutex_lock(ctx, &mm->mmap_lock);
	if (!addr) {
		/* 2 MiB aligned, so 2 MiB mappings are possible */
		addr = CCMM_ALIGN_UP(mm->mmap_base, CCMM_PMD_SIZE);
		while (!range_free(mm, addr, addr + len))
			addr = CCMM_ALIGN_UP(mm->vmas[vma_index(mm, addr)]->end, CCMM_PMD_SIZE);
		mm->mmap_base = addr + len;
	} else if (!range_free(mm, addr, addr + len)) {
		ret = -EEXIST;
		goto out;
	}
	if (ccmm_grow((void **)&mm->vmas, &mm->cap_vmas, mm->nr_vmas + 1, sizeof(*mm->vmas))) {
		ret = -ENOMEM;
		goto out;
	}
	v->mm = mm;
	v->start = addr;
	v->end = addr + len;
	v->vm_flags = vm_flags;
	v->vm_page_prot = prot | (mm->who == CCMM_INIT_USER ? CCMM_PTE_USER : 0);
	v->ops = ops;
	v->priv = priv;
	i = vma_index(mm, addr);
	memmove(&mm->vmas[i + 1], &mm->vmas[i], (mm->nr_vmas - i) * sizeof(*mm->vmas));
	mm->vmas[i] = v;
	mm->nr_vmas++;
	*out = v;
out:
	ccmm_mutex_unlock(ctx, &mm->mmap_lock);
	if (ret)
		free(v);
	return ret;
}

int ccmm_munmap(struct ccmm_ctx *ctx, struct ccmm_mm *mm, uint64_t addr, uint64_t len)
{
	uint64_t end = addr + len;
	size_t i, j;

	if (!len || !CCMM_IS_ALIGNED(addr | len, CCMM_PAGE_SIZE))
		return -EINVAL;
	ccmm_mutex_lock(ctx, &mm->mmap_lock);
	for (i = vma_index(mm, addr); i < mm->nr_vmas && mm->vmas[i]->start < end; i++) {
		struct ccmm_vma *v = mm->vmas[i];

		if (v->start < addr || v->end > end) {
			ccmm_mutex_unlock(ctx, &mm->mmap_lock);
			return -EINVAL; /* splitting VMAs is not modeled */
		}
	}
	for (i = j = 0; i < mm->nr_vmas; i++) {
		struct ccmm_vma *v = mm->vmas[i];

		if (v->start >= addr && v->end <= end) {
			ccmm_pgt_unmap(ctx, mm->pgt, v->start, v->end - v->start, true);
			if (v->ops && v->ops->close)
				v->ops->close(v);
			free(v);
		} else {
			mm->vmas[j++] = v;
		}
	}
	mm->nr_vmas = j;
	ccmm_mutex_unlock(ctx, &mm->mmap_lock);
	return 0;
}

int ccmm_remap_pfn_range(struct ccmm_ctx *ctx, struct ccmm_vma *vma, uint64_t addr, uint64_t pa, uint64_t size,
			 uint64_t pgsize, uint64_t prot)
{
	if (addr < vma->start || addr + size > vma->end || addr + size < addr)
		return -EINVAL;
	vma->vm_flags |= CCMM_VM_IO | CCMM_VM_PFNMAP;
	if (vma->mm->who == CCMM_INIT_USER)
		prot |= CCMM_PTE_USER;
	return ccmm_pgt_map(ctx, vma->mm->pgt, addr, pa, size, pgsize, prot | CCMM_PTE_SPECIAL);
}

int ccmm_vmf_insert_pfn_prot(struct ccmm_ctx *ctx, struct ccmm_vma *vma, uint64_t addr, uint64_t pa, uint64_t prot)
{
	if (!CCMM_IS_ALIGNED(addr, CCMM_PAGE_SIZE) || addr < vma->start || addr >= vma->end)
		return -EINVAL;
	if (vma->mm->who == CCMM_INIT_USER)
		prot |= CCMM_PTE_USER;
	return ccmm_pgt_map(ctx, vma->mm->pgt, addr, pa, CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, prot | CCMM_PTE_SPECIAL);
}

long ccmm_zap_vma_range(struct ccmm_ctx *ctx, struct ccmm_vma *vma, uint64_t addr, uint64_t len)
{
	uint64_t start = CCMM_MAX(addr, vma->start), end = CCMM_MIN(addr + len, vma->end);

	if (start >= end)
		return 0;
	return ccmm_pgt_unmap(ctx, vma->mm->pgt, start, end - start, true);
}

int ccmm_mm_access(struct ccmm_ctx *ctx, struct ccmm_mm *mm, enum ccmm_rw rw, uint64_t va, void *buf, size_t len,
		   struct ccmm_result *r)
{
	uint8_t *p = buf;
	struct ccmm_result part;
	bool first = true;

	memset(r, 0, sizeof(*r));
	if (!len)
		return -EINVAL;
	while (len) {
		size_t n = (size_t)CCMM_MIN(len, CCMM_PAGE_SIZE - (va & (CCMM_PAGE_SIZE - 1)));
		struct ccmm_access a = { mm->who, rw, va, n, mm->pgt, -1, p };
		unsigned flags = CCMM_FAULT_FLAG_ALLOW_RETRY | CCMM_FAULT_FLAG_KILLABLE |
				 (rw == CCMM_WRITE ? CCMM_FAULT_FLAG_WRITE : 0);
		int tries = 0, ret;

		for (;;) {
			struct ccmm_vm_fault vmf;
			struct ccmm_walk w;
			struct ccmm_vma *vma;
			int fret;

			ret = ccmm_access(ctx, &a, &part);
			if (ret)
				return ret;
			/* a #PF with no translation is the fault handler's business */
			if (part.outcome != CCMM_PF || !ccmm_pgt_translate(mm->pgt, va, &w) || tries++ >= FAULT_RETRIES)
				break;
			ccmm_sched_point(CCMM_SP_FAULT, mm->name);
			ccmm_mutex_lock(ctx, &mm->mmap_lock);
			vma = ccmm_find_vma(mm, va);
			if (!vma || !vma->ops || !vma->ops->fault ||
			    (rw == CCMM_WRITE && !(vma->vm_flags & CCMM_VM_WRITE))) {
				ccmm_mutex_unlock(ctx, &mm->mmap_lock);
				break; /* SIGSEGV / SIGBUS */
			}
			vmf.vma = vma;
			vmf.address = CCMM_ALIGN_DOWN(va, CCMM_PAGE_SIZE);
			vmf.pgoff = ((vmf.address - vma->start) >> CCMM_PAGE_SHIFT) + vma->vm_pgoff;
			vmf.flags = flags;
			fret = vma->ops->fault(ctx, &vmf);
			if (fret == -EAGAIN) {
				/* VM_FAULT_RETRY: the handler let the mmap_lock go; once more, as a retried fault */
				flags |= CCMM_FAULT_FLAG_TRIED;
				continue;
			}
			ccmm_mutex_unlock(ctx, &mm->mmap_lock);
			if (fret && fret != -EEXIST)
				break;
		}
		r->violations += part.violations;
		if (first || part.outcome > r->outcome) {
			unsigned v = r->violations;
			size_t done = r->done;

			*r = part;
			r->violations = v;
			r->done = done;
		}
		first = false;
		if (ccmm_outcome_faults(part.outcome) && !part.handled)
			return 0;
		r->done += n;
		va += n;
		len -= n;
		if (p)
			p += n;
	}
	return 0;
}
