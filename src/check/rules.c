// SPDX-License-Identifier: MIT
/*
 * The rules of layer 2, and the registry of every layer's rule table.
 * A subsystem that adds rules defines a NULL-terminated table of pointers
 * and adds one line to rule_tables below.
 */
#include <string.h>

#include "check/check.h"
#include "sync/sync.h"
#include "ttm/ttm.h"
#include "dma-buf/dma-buf.h"

#define RULE(id, seedno, text) const struct ccmm_rule ccmm_rule_##id = { #id, seedno, text }

RULE(cache_alias, "003", "two live mappings of one page disagree on cache mode");
RULE(enc_mismatch, "000", "an access whose encrypted/shared attribute disagrees with the page's state");
RULE(host_access_private, "004", "the host or VMM read guest-private memory");
RULE(host_write_private, "004", "the host or VMM wrote guest-private memory");
RULE(rmp_page_size, "004",
     "a host write through a mapping larger than the RMP entries it covers hit a guest-private page (SEV-SNP)");
RULE(poison_consumed, "004", "a read consumed a line poisoned by an integrity failure (TDX)");
RULE(private_access_shared, "004", "a private access to a page the guest converted to shared");
RULE(unaccepted_access, "004", "an access to a page not yet accepted (TDX) or validated (SEV-SNP)");
RULE(dma_private, "002", "a device touched private or encrypted memory it cannot use");
RULE(dma_mask_exceeded, "002", "a device was given a DMA address beyond its DMA mask");
RULE(dma_hole, "", "a device accessed an address where there is no memory or device");
RULE(iommu_fault, "002", "a device access the IOMMU has no translation (or permission) for");
RULE(p2p_unreachable, "001", "a device accessed a BAR outside its peer-to-peer reach");
RULE(access_hole, "", "a CPU accessed an address where there is no memory or device");
RULE(mmio_ve, "004", "a driver touched MMIO directly in a guest whose MMIO is paravirtualised: a #VE from kernel MMIO is a bug");
RULE(mmio_private, "004", "MMIO mapped with the private/encrypted attribute in a confidential guest (ioremap must map it shared)");
RULE(stale_tlb, "004", "an access used a translation the page tables no longer hold (missing TLB flush)");
RULE(stale_cache_lines, "004", "an access to a page whose encryption changed without the cache flush this platform needs");
RULE(private_mapped_by_host, "004", "a page was made private while the host still maps it");
RULE(conversion_unaligned, "004", "an encryption-state change on an address that is not page aligned");
RULE(conversion_failed, "004", "an encryption-state change failed half-way and the pages were not leaked");
RULE(epc_access, "004", "a non-enclave access to the enclave page cache (abort-page semantics)");

static const struct ccmm_rule *const check_rules[] = {
	&ccmm_rule_cache_alias,
	&ccmm_rule_enc_mismatch,
	&ccmm_rule_host_access_private,
	&ccmm_rule_host_write_private,
	&ccmm_rule_rmp_page_size,
	&ccmm_rule_poison_consumed,
	&ccmm_rule_private_access_shared,
	&ccmm_rule_unaccepted_access,
	&ccmm_rule_dma_private,
	&ccmm_rule_dma_mask_exceeded,
	&ccmm_rule_dma_hole,
	&ccmm_rule_iommu_fault,
	&ccmm_rule_p2p_unreachable,
	&ccmm_rule_access_hole,
	&ccmm_rule_mmio_ve,
	&ccmm_rule_mmio_private,
	&ccmm_rule_stale_tlb,
	&ccmm_rule_stale_cache_lines,
	&ccmm_rule_private_mapped_by_host,
	&ccmm_rule_conversion_unaligned,
	&ccmm_rule_conversion_failed,
	&ccmm_rule_epc_access,
	NULL,
};

extern const struct ccmm_rule *const ccmm_sgx_rules[];

/* The registry: one NULL-terminated table per layer or subsystem. */
extern const struct ccmm_rule *const ccmm_dma_rules[];

static const struct ccmm_rule *const *const rule_tables[] = {
	check_rules,
	ccmm_dma_rules,
	ccmm_sync_rules,
	ccmm_ttm_rules,
	ccmm_dmabuf_rules,
	ccmm_sgx_rules,
};

const struct ccmm_rule *ccmm_rule_at(size_t i)
{
	for (size_t t = 0; t < CCMM_ARRAY_SIZE(rule_tables); t++) {
		for (size_t k = 0; rule_tables[t][k]; k++) {
			if (!i)
				return rule_tables[t][k];
			i--;
		}
	}
	return NULL;
}

const struct ccmm_rule *ccmm_rule_find(const char *name)
{
	const struct ccmm_rule *r;

	for (size_t i = 0; (r = ccmm_rule_at(i)); i++)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}
