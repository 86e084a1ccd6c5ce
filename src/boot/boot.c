// SPDX-License-Identifier: MIT
/* Boot and shutdown: every layer's init in order, exits in reverse. */
#include "boot/boot.h"

#include "cc/cc.h"
#include "cgroup/cgroup.h"
#include "check/check.h"
#include "mm/mm.h"
#include "sgx/sgx.h"
#include "tier/tier.h"
#include "dma/dma.h"
#include "iommu/iommu.h"
#include "swiotlb/swiotlb.h"
#include "sync/sync.h"
#include "ttm/ttm.h"
#include "dma-buf/dma-buf.h"

struct initcall {
	const char *name;
	int (*init)(struct ccmm_machine *m);
	void (*exit)(struct ccmm_machine *m);
	ccmm_stats_fn stats; /* figures for reports, or NULL */
};

/* In dependency order; a subsystem adds its line here. */
static const struct initcall initcalls[] = {
	{ "check", ccmm_check_init, ccmm_check_fini },
	{ "cc", ccmm_cc_init, ccmm_cc_fini },
	{ "mm", ccmm_mm_init, ccmm_mm_fini },
	{ "cgroup", ccmm_cgroup_init, ccmm_cgroup_fini },
	{ "sgx", ccmm_sgx_init, ccmm_sgx_fini },
	{ "tier", ccmm_tier_init, ccmm_tier_fini },
	{ "swiotlb", ccmm_swiotlb_init, ccmm_swiotlb_exit, ccmm_swiotlb_report },
	{ "iommu", ccmm_iommu_init, ccmm_iommu_exit, ccmm_iommu_report },
	{ "dma", ccmm_dma_init, ccmm_dma_exit, ccmm_dma_report },
	{ "sync", ccmm_sync_init, ccmm_sync_fini },
	{ "ttm", ccmm_ttm_init, ccmm_ttm_fini },
	{ "dma-buf", ccmm_dmabuf_init, ccmm_dmabuf_fini },
};

int ccmm_boot(struct ccmm_platform *plat, uint64_t seed, struct ccmm_machine **out)
{
	struct ccmm_machine *m;
	size_t i;
	int ret = ccmm_machine_create(plat, seed, &m);

	if (ret)
		return ret;
	for (i = 0; i < CCMM_ARRAY_SIZE(initcalls); i++) {
		ret = initcalls[i].init(m);
		if (ret)
			break;
	}
	if (ret) {
		while (i--)
			initcalls[i].exit(m);
		ccmm_machine_destroy(m);
		return ret;
	}
	*out = m;
	return 0;
}

void ccmm_shutdown(struct ccmm_machine *m)
{
	if (!m)
		return;
	for (size_t i = CCMM_ARRAY_SIZE(initcalls); i--;)
		initcalls[i].exit(m);
	ccmm_machine_destroy(m);
}

size_t ccmm_machine_stats(struct ccmm_machine *m, struct ccmm_stat *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < CCMM_ARRAY_SIZE(initcalls) && n < max; i++)
		if (initcalls[i].stats)
			n += initcalls[i].stats(m, out + n, max - n);
	return n;
}
