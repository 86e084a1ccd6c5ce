// SPDX-License-Identifier: MIT
/*
 * TDISP device interface states and private MMIO (seed 001), and the GUP
 * refusal on special mappings (seed 003).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cc/cc.h"
#include "dma-buf/internal.h"

const char *ccmm_tdisp_state_name(enum ccmm_tdisp_state s)
{
	static const char *const n[] = { "UNLOCKED", "LOCKED", "RUN", "ERROR" };

	return (unsigned)s < CCMM_ARRAY_SIZE(n) ? n[s] : "?";
}

static bool dev_ok(struct ccmm_machine *m, int dev)
{
	return dev >= 0 && dev < DMABUF_MAX_DEVS && (size_t)dev < m->plat->nr_devices && dmabuf_state(m);
}

enum ccmm_tdisp_state ccmm_tdisp_state(struct ccmm_machine *m, int dev)
{
	struct dmabuf_state *st = dmabuf_state(m);
	enum ccmm_tdisp_state s;

	if (!dev_ok(m, dev))
		return CCMM_TDISP_UNLOCKED;
	pthread_mutex_lock(&st->lock);
	s = st->tdisp[dev];
	pthread_mutex_unlock(&st->lock);
	return s;
}

bool ccmm_tdisp_secure(struct ccmm_machine *m, int dev)
{
	return ccmm_tdisp_state(m, dev) == CCMM_TDISP_RUN;
}

void _ccmm_dmabuf_host_mmap_get(struct ccmm_machine *m, int dev)
{
	if (dev_ok(m, dev))
		atomic_fetch_add(&dmabuf_state(m)->host_mmaps[dev], 1);
}

void _ccmm_dmabuf_host_mmap_put(struct ccmm_machine *m, int dev)
{
	if (dev_ok(m, dev))
		atomic_fetch_sub(&dmabuf_state(m)->host_mmaps[dev], 1);
}

/* Move from @from to @to, or record why not. */
static int transition(struct ccmm_ctx *ctx, int dev, enum ccmm_tdisp_state from, enum ccmm_tdisp_state to,
		      const char *req)
{
	struct ccmm_machine *m = ctx->m;
	struct dmabuf_state *st = dmabuf_state(m);
	enum ccmm_tdisp_state cur;

	if (!dev_ok(m, dev))
		return -EINVAL;
	if (!m->plat->devices[dev].tdisp) {
		dmabuf_violation(ctx, &ccmm_rule_tdisp_bad_transition, "%s to %s, which has no TEE device interface (tdisp=no)",
				 req, m->plat->devices[dev].name);
		return -EOPNOTSUPP;
	}
	pthread_mutex_lock(&st->lock);
	cur = st->tdisp[dev];
	if (cur == from)
		st->tdisp[dev] = to;
	pthread_mutex_unlock(&st->lock);
	if (cur != from) {
		dmabuf_violation(ctx, &ccmm_rule_tdisp_bad_transition, "%s to %s in state %s (needs %s)", req,
				 m->plat->devices[dev].name, ccmm_tdisp_state_name(cur), ccmm_tdisp_state_name(from));
		return -EINVAL;
	}
	return 0;
}

int ccmm_tdisp_lock(struct ccmm_ctx *ctx, int dev)
{
	struct ccmm_machine *m = ctx->m;

	if (dev_ok(m, dev) && m->plat->devices[dev].tdisp && atomic_load(&dmabuf_state(m)->host_mmaps[dev]) > 0) {
		/* the kernel validates, as part of the TDI flow, that host user space does not map it */
		dmabuf_violation(ctx, &ccmm_rule_private_mmio_mapped,
				 "LOCK_INTERFACE_REQUEST to %s while host user space still maps its MMIO: refused",
				 m->plat->devices[dev].name);
		return -EBUSY;
	}
	return transition(ctx, dev, CCMM_TDISP_UNLOCKED, CCMM_TDISP_LOCKED, "LOCK_INTERFACE_REQUEST");
}

/* Every page of @dev's BAR @bar to @state (private MMIO accepted by the guest, or given back). */
static void bar_state(struct ccmm_machine *m, int dev, int bar, enum ccmm_page_state state)
{
	const struct ccmm_bar_desc *b = &m->plat->devices[dev].bar[bar];

	for (uint64_t pa = b->base; pa < b->base + b->size; pa += CCMM_PAGE_SIZE) {
		struct ccmm_page *pg = ccmm_phys_lock(m, pa);

		if (!pg)
			continue;
		ccmm_page_set_state(m, pa, pg, state, state == CCMM_PS_SHARED ? CCMM_OWNER_HOST : CCMM_OWNER_GUEST);
		ccmm_phys_unlock(m, pa);
	}
}

int ccmm_tdisp_run(struct ccmm_ctx *ctx, int dev, int private_bar)
{
	struct ccmm_machine *m = ctx->m;
	int ret;

	if (dev_ok(m, dev) && private_bar >= 0 &&
	    (private_bar >= CCMM_MAX_BARS || !m->plat->devices[dev].bar[private_bar].size))
		return -EINVAL;
	ret = transition(ctx, dev, CCMM_TDISP_LOCKED, CCMM_TDISP_RUN, "START_INTERFACE_REQUEST");
	if (ret)
		return ret;
	ccmm_check_set_device_trusted(m, dev, true);
	if (private_bar >= 0 && ccmm_cc_is_guest(m->plat->mode)) {
		bar_state(m, dev, private_bar, CCMM_PS_PRIVATE);
		pthread_mutex_lock(&dmabuf_state(m)->lock);
		dmabuf_state(m)->private_bar[dev] = private_bar;
		pthread_mutex_unlock(&dmabuf_state(m)->lock);
	}
	return 0;
}

int ccmm_tdisp_stop(struct ccmm_ctx *ctx, int dev)
{
	struct ccmm_machine *m = ctx->m;
	struct dmabuf_state *st = dmabuf_state(m);
	enum ccmm_tdisp_state cur = ccmm_tdisp_state(m, dev);
	struct ccmm_dma_buf **victims = NULL;
	size_t n = 0, cap = 0;
	int bar, ret;

	ret = transition(ctx, dev, cur, CCMM_TDISP_UNLOCKED, "STOP_INTERFACE_REQUEST");
	if (ret)
		return ret;
	ccmm_check_set_device_trusted(m, dev, false);
	pthread_mutex_lock(&st->lock);
	bar = st->private_bar[dev];
	st->private_bar[dev] = -1;
	/* private buffers of the device stop being reachable: revoke them (outside the list lock) */
	for (struct ccmm_dma_buf *b = st->bufs; b; b = b->next) {
		if (b->provider != dev || !(b->flags & CCMM_DMA_BUF_PRIVATE) || atomic_load(&b->released))
			continue;
		if (ccmm_grow((void **)&victims, &cap, n + 1, sizeof(*victims)))
			break;
		atomic_fetch_add(&b->refcount, 1);
		victims[n++] = b;
	}
	pthread_mutex_unlock(&st->lock);
	for (size_t i = 0; i < n; i++) {
		ccmm_dma_buf_revoke(ctx, victims[i]);
		ccmm_dma_buf_put(ctx, victims[i]);
	}
	free(victims);
	if (bar >= 0)
		bar_state(m, dev, bar, CCMM_PS_SHARED);
	return 0;
}

/* ---- GUP ---------------------------------------------------------------------------- */

long ccmm_pin_user_pages(struct ccmm_ctx *ctx, struct ccmm_mm *mm, uint64_t va, uint64_t npages, bool write,
			 uint64_t *pas)
{
	uint64_t addr = CCMM_ALIGN_DOWN(va, CCMM_PAGE_SIZE);

	for (uint64_t i = 0; i < npages; i++, addr += CCMM_PAGE_SIZE) {
		struct ccmm_vma *vma;
		struct ccmm_walk w;
		unsigned long flags;

		ccmm_mutex_lock(ctx, &mm->mmap_lock);
		vma = ccmm_find_vma(mm, addr);
		flags = vma ? vma->vm_flags : 0;
		ccmm_mutex_unlock(ctx, &mm->mmap_lock);
		if (!vma)
			return i ? (long)i : -EFAULT;
		/* check_vma_flags: no struct pages to take references on */
		if (flags & (CCMM_VM_IO | CCMM_VM_PFNMAP)) {
			dmabuf_violation(ctx, &ccmm_rule_gup_special_mapping,
					 "%s: pin_user_pages at 0x%" PRIx64 " on a %s%s mapping (%s): refused, the exporter owns "
					 "that memory and may move it",
					 mm->name, addr, flags & CCMM_VM_IO ? "VM_IO " : "", flags & CCMM_VM_PFNMAP ? "VM_PFNMAP" : "",
					 vma->ops && vma->ops->name ? vma->ops->name : "no vm_ops");
			return i ? (long)i : -EFAULT;
		}
		if (ccmm_pgt_walk(mm->pgt, addr, &w)) {
			/* fault it in, as GUP does through handle_mm_fault */
			struct ccmm_result r;
			uint8_t b;

			if (ccmm_mm_access(ctx, mm, write ? CCMM_WRITE : CCMM_READ, addr, write ? NULL : &b, 1, &r) ||
			    ccmm_pgt_walk(mm->pgt, addr, &w))
				return i ? (long)i : -EFAULT;
		}
		if (w.pte & CCMM_PTE_SPECIAL) {
			/* vm_normal_page(): a special PTE has no page behind it */
			dmabuf_violation(ctx, &ccmm_rule_gup_special_mapping,
					 "%s: pin_user_pages at 0x%" PRIx64 " found a special PTE (pa 0x%" PRIx64
					 "): no struct page to pin",
					 mm->name, addr, w.pa);
			return i ? (long)i : -EFAULT;
		}
		if (write && !(w.pte & CCMM_PTE_RW))
			return i ? (long)i : -EFAULT;
		if (pas)
			pas[i] = CCMM_ALIGN_DOWN(w.pa, CCMM_PAGE_SIZE);
	}
	return (long)npages;
}
