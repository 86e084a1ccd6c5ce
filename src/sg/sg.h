/* SPDX-License-Identifier: MIT */
/*
 * sg.h - scatter-gather descriptions of memory (layer 3, shared by the DMA
 * API and dma-buf).
 *
 *   sg_table (legacy)                 physical-range list ("phyr", seed 001)
 *   +--------------------------+      groups:  meta {provider, p2p, encrypted,
 *   | page_link | off | len    |                     cache, cpu_mappable,
 *   | dma_address | dma_length |                     private_interconnect}
 *   +--------------------------+               first, count
 *   one 32-byte entry per segment     ranges:  {pa, len}  16 bytes each,
 *   (CPU side and DMA side mixed in            contiguous ones coalesced
 *    one entry)
 *
 * The seed's argument: "an efficient coding of meta/addr/len tuples that
 * works well with the new DMA API", metadata per provider rather than per
 * page, input (physical) and output (DMA) kept apart. An sg_table converts
 * to and from a phyr for legacy importers.
 *
 * Locking: none; a list belongs to its builder until handed over.
 */
#ifndef CCMM_SG_H
#define CCMM_SG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "platform/platform.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/* ---- scatterlist ------------------------------------------------------ */

/* dma_flags */
#define CCMM_SG_DMA_BUS_ADDRESS 0x1 /* a P2P bus address, not through the IOMMU */
#define CCMM_SG_DMA_SWIOTLB     0x2 /* bounced through SWIOTLB */

struct ccmm_scatterlist {
	uint64_t page_link;   /* physical address of the first byte's page */
	uint32_t offset;      /* bytes into that page */
	uint32_t length;      /* bytes */
	uint64_t dma_address; /* filled by dma_map_sg */
	uint32_t dma_length;
	uint32_t dma_flags;   /* CCMM_SG_DMA_* */
};

_Static_assert(sizeof(struct ccmm_scatterlist) == 32, "one 32-byte entry per segment, as the kernel's");

struct ccmm_sg_table {
	struct ccmm_scatterlist *sgl;
	unsigned orig_nents; /* CPU-side entries */
	unsigned nents;      /* DMA-side entries after mapping (may be fewer) */
};

/* Allocate @nents zeroed entries. 0, -EINVAL (0 entries), -ENOMEM. Models sg_alloc_table(). */
int ccmm_sg_alloc_table(struct ccmm_sg_table *t, unsigned nents);
void ccmm_sg_free_table(struct ccmm_sg_table *t);

/*
 * ccmm_sg_alloc_table_from_pages - one entry per run of physically
 * contiguous pages (@pas: @npages page addresses), each at most
 * @max_segment bytes (0: no limit), starting @offset bytes into the first
 * page and covering @size bytes. Models sg_alloc_table_from_pages_segment().
 * 0, -EINVAL, -ENOMEM.
 */
int ccmm_sg_alloc_table_from_pages(struct ccmm_sg_table *t, const uint64_t *pas, size_t npages, unsigned offset,
				   uint64_t size, uint64_t max_segment);

/* Physical address of an entry's first byte. */
static inline uint64_t ccmm_sg_phys(const struct ccmm_scatterlist *sg)
{
	return sg->page_link + sg->offset;
}

/* Bytes of memory the table itself takes (entries plus header). */
size_t ccmm_sg_table_bytes(const struct ccmm_sg_table *t);

/* ---- physical-range list ------------------------------------------------- */

struct ccmm_phyr_meta {
	int provider;              /* platform device whose memory this is; -1: system RAM */
	bool p2p;                  /* another device's MMIO (BAR) */
	bool encrypted;            /* private / encrypted in the secure world's view */
	enum ccmm_cache_mode cache;
	bool cpu_mappable;         /* may be mapped by the CPU */
	bool private_interconnect; /* reachable only over a private link: generic code must refuse it */
};

struct ccmm_phyr_range {
	uint64_t pa;
	uint64_t len;
};

struct ccmm_phyr_group {
	struct ccmm_phyr_meta meta;
	uint32_t first; /* index of the group's first range */
	uint32_t count; /* ranges in the group */
};

struct ccmm_phyr {
	struct ccmm_phyr_range *r;
	size_t nr, cap;
	struct ccmm_phyr_group *g;
	size_t nr_groups, cap_groups;
	uint64_t total; /* bytes */
};

/* An empty list. */
void ccmm_phyr_init(struct ccmm_phyr *p);
void ccmm_phyr_free(struct ccmm_phyr *p);

/*
 * ccmm_phyr_append - the one-pass builder: add [@pa, @pa+@len) with @meta.
 * It extends the last range when contiguous with the same metadata, starts
 * a new range otherwise, and a new group whenever the metadata changes.
 * 0, -EINVAL (empty, overflow), -ENOMEM.
 */
int ccmm_phyr_append(struct ccmm_phyr *p, const struct ccmm_phyr_meta *meta, uint64_t pa, uint64_t len);

/*
 * ccmm_phyr_append_pages - the builder for an exporter's page array: @n
 * pages of @page_size bytes at the physical addresses @pas, all with @meta,
 * appended as ccmm_phyr_append would one by one (contiguous pages merge,
 * the first may extend the last range), but in two passes: count the runs,
 * size the arrays once, fill. 0, -EINVAL (@n or @page_size 0, overflow),
 * -ENOMEM (nothing appended).
 */
int ccmm_phyr_append_pages(struct ccmm_phyr *p, const struct ccmm_phyr_meta *meta, const uint64_t *pas, size_t n,
			   uint64_t page_size);

/* Compare two metadata blocks. */
bool ccmm_phyr_meta_equal(const struct ccmm_phyr_meta *a, const struct ccmm_phyr_meta *b);

/* Iterate: for each group @gi, its ranges are r[g[gi].first .. first+count). */
#define ccmm_phyr_for_each_range(p, gi, ri)                                      \
	for ((gi) = 0; (gi) < (p)->nr_groups; (gi)++)                            \
		for ((ri) = (p)->g[gi].first; (ri) < (p)->g[gi].first + (p)->g[gi].count; (ri)++)

/* Whether any group is P2P (the importer then needs ATS or a P2P-capable path). */
bool ccmm_phyr_has_p2p(const struct ccmm_phyr *p);

/*
 * ccmm_phyr_to_sgt - an sg_table for a legacy importer: one entry per
 * range, split at @max_segment (0: no limit). The metadata is lost, which
 * is the point of the seed's complaint; ranges whose group is
 * private_interconnect are refused (-EOPNOTSUPP). 0, -ENOMEM.
 */
int ccmm_phyr_to_sgt(const struct ccmm_phyr *p, struct ccmm_sg_table *t, uint64_t max_segment);

/*
 * ccmm_phyr_from_sgt - a list from the CPU side of an sg_table, every
 * entry with @meta (an sg_table carries none). 0, -EINVAL, -ENOMEM.
 */
int ccmm_phyr_from_sgt(struct ccmm_phyr *p, const struct ccmm_sg_table *t, const struct ccmm_phyr_meta *meta);

/* Bytes of memory the list takes as allocated (ranges, groups, header). */
size_t ccmm_phyr_bytes(const struct ccmm_phyr *p);

#pragma GCC visibility pop

#endif /* CCMM_SG_H */
