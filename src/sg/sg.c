// SPDX-License-Identifier: MIT
/* sg_table and the physical-range list. */
#include "sg/sg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ccmm_sg_alloc_table(struct ccmm_sg_table *t, unsigned nents)
{
	memset(t, 0, sizeof(*t));
	if (!nents)
		return -EINVAL;
	t->sgl = calloc(nents, sizeof(*t->sgl));
	if (!t->sgl)
		return -ENOMEM;
	t->orig_nents = nents;
	return 0;
}

void ccmm_sg_free_table(struct ccmm_sg_table *t)
{
	free(t->sgl);
	memset(t, 0, sizeof(*t));
}

size_t ccmm_sg_table_bytes(const struct ccmm_sg_table *t)
{
	return sizeof(*t) + (size_t)t->orig_nents * sizeof(*t->sgl);
}

int ccmm_sg_alloc_table_from_pages(struct ccmm_sg_table *t, const uint64_t *pas, size_t npages, unsigned offset,
				   uint64_t size, uint64_t max_segment)
{
	unsigned n = 0, k;
	uint64_t left;
	int ret;

	if (!npages || !size || offset >= CCMM_PAGE_SIZE || offset + size > npages * CCMM_PAGE_SIZE)
		return -EINVAL;
	if (!max_segment || max_segment > UINT32_MAX)
		max_segment = UINT32_MAX & ~(CCMM_PAGE_SIZE - 1);
	/* first pass: count segments */
	for (size_t i = 0; i < npages;) {
		uint64_t seg = CCMM_PAGE_SIZE;
		size_t j = i + 1;

		while (j < npages && pas[j] == pas[j - 1] + CCMM_PAGE_SIZE && seg + CCMM_PAGE_SIZE <= max_segment) {
			seg += CCMM_PAGE_SIZE;
			j++;
		}
		n++;
		i = j;
	}
	ret = ccmm_sg_alloc_table(t, n);
	if (ret)
		return ret;
	left = size;
	k = 0;
	for (size_t i = 0; i < npages && left;) {
		uint64_t seg = CCMM_PAGE_SIZE;
		size_t j = i + 1;
		struct ccmm_scatterlist *sg = &t->sgl[k++];
		uint64_t off = i == 0 ? offset : 0;

		while (j < npages && pas[j] == pas[j - 1] + CCMM_PAGE_SIZE && seg + CCMM_PAGE_SIZE <= max_segment) {
			seg += CCMM_PAGE_SIZE;
			j++;
		}
		sg->page_link = pas[i];
		sg->offset = (uint32_t)off;
		sg->length = (uint32_t)CCMM_MIN(seg - off, left);
		left -= sg->length;
		i = j;
	}
	t->orig_nents = k;
	return 0;
}

void ccmm_phyr_init(struct ccmm_phyr *p)
{
	memset(p, 0, sizeof(*p));
}

void ccmm_phyr_free(struct ccmm_phyr *p)
{
	free(p->r);
	free(p->g);
	memset(p, 0, sizeof(*p));
}

bool ccmm_phyr_meta_equal(const struct ccmm_phyr_meta *a, const struct ccmm_phyr_meta *b)
{
	return a->provider == b->provider && a->p2p == b->p2p && a->encrypted == b->encrypted && a->cache == b->cache &&
	       a->cpu_mappable == b->cpu_mappable && a->private_interconnect == b->private_interconnect;
}

int ccmm_phyr_append(struct ccmm_phyr *p, const struct ccmm_phyr_meta *meta, uint64_t pa, uint64_t len)
{
	struct ccmm_phyr_group *g = p->nr_groups ? &p->g[p->nr_groups - 1] : NULL;

	if (!len || pa + len < pa || p->total + len < p->total)
		return -EINVAL;
	if (g && ccmm_phyr_meta_equal(&g->meta, meta)) {
		struct ccmm_phyr_range *last = &p->r[p->nr - 1];

		if (last->pa + last->len == pa) {
			last->len += len;
			p->total += len;
			return 0;
		}
	} else {
		if (ccmm_grow((void **)&p->g, &p->cap_groups, p->nr_groups + 1, sizeof(*p->g)))
			return -ENOMEM;
		g = &p->g[p->nr_groups++];
		g->meta = *meta;
		g->first = (uint32_t)p->nr;
		g->count = 0;
	}
	if (ccmm_grow((void **)&p->r, &p->cap, p->nr + 1, sizeof(*p->r))) {
		if (!g->count)
			p->nr_groups--;
		return -ENOMEM;
	}
	p->r[p->nr].pa = pa;
	p->r[p->nr].len = len;
	p->nr++;
	g->count++;
	p->total += len;
	return 0;
}

int ccmm_phyr_append_pages(struct ccmm_phyr *p, const struct ccmm_phyr_meta *meta, const uint64_t *pas, size_t n,
			   uint64_t page_size)
{
	struct ccmm_phyr_group *g = p->nr_groups ? &p->g[p->nr_groups - 1] : NULL;
	bool same = g && ccmm_phyr_meta_equal(&g->meta, meta);
	struct ccmm_phyr_range *last;
	size_t runs = 0, i = 0;
	uint64_t bytes;

	if (!n || !page_size || n > UINT64_MAX / page_size)
		return -EINVAL;
	bytes = n * page_size;
	if (p->total + bytes < p->total)
		return -EINVAL;
	/* pass 1: the runs of contiguous pages, and whether the first extends the last range */
	for (size_t k = 0; k < n; k++) {
		if (pas[k] + page_size < pas[k])
			return -EINVAL;
		if (!k || pas[k - 1] + page_size != pas[k])
			runs++;
	}
	if (same && p->r[p->nr - 1].pa + p->r[p->nr - 1].len == pas[0])
		runs--;
	/* size both arrays before changing anything */
	if (ccmm_grow((void **)&p->r, &p->cap, p->nr + runs, sizeof(*p->r)) ||
	    (!same && ccmm_grow((void **)&p->g, &p->cap_groups, p->nr_groups + 1, sizeof(*p->g))))
		return -ENOMEM;
	if (!same) {
		g = &p->g[p->nr_groups++];
		g->meta = *meta;
		g->first = (uint32_t)p->nr;
		g->count = 0;
	}
	/* pass 2: fill */
	last = same ? &p->r[p->nr - 1] : NULL;
	for (; i < n; i++) {
		if (last && last->pa + last->len == pas[i]) {
			last->len += page_size;
			continue;
		}
		last = &p->r[p->nr++];
		last->pa = pas[i];
		last->len = page_size;
		g->count++;
	}
	p->total += bytes;
	return 0;
}

bool ccmm_phyr_has_p2p(const struct ccmm_phyr *p)
{
	for (size_t i = 0; i < p->nr_groups; i++)
		if (p->g[i].meta.p2p)
			return true;
	return false;
}

int ccmm_phyr_to_sgt(const struct ccmm_phyr *p, struct ccmm_sg_table *t, uint64_t max_segment)
{
	unsigned n = 0, k = 0;
	size_t gi, ri;
	int ret;

	if (!max_segment || max_segment > UINT32_MAX)
		max_segment = UINT32_MAX & ~(CCMM_PAGE_SIZE - 1);
	ccmm_phyr_for_each_range(p, gi, ri)
	{
		if (p->g[gi].meta.private_interconnect)
			return -EOPNOTSUPP;
		n += (unsigned)((p->r[ri].len + max_segment - 1) / max_segment);
	}
	ret = ccmm_sg_alloc_table(t, n);
	if (ret)
		return ret;
	ccmm_phyr_for_each_range(p, gi, ri)
	{
		uint64_t pa = p->r[ri].pa, left = p->r[ri].len;

		while (left) {
			struct ccmm_scatterlist *sg = &t->sgl[k++];
			uint64_t seg = CCMM_MIN(left, max_segment);

			sg->page_link = CCMM_ALIGN_DOWN(pa, CCMM_PAGE_SIZE);
			sg->offset = (uint32_t)(pa & (CCMM_PAGE_SIZE - 1));
			sg->length = (uint32_t)seg;
			pa += seg;
			left -= seg;
		}
	}
	return 0;
}

int ccmm_phyr_from_sgt(struct ccmm_phyr *p, const struct ccmm_sg_table *t, const struct ccmm_phyr_meta *meta)
{
	ccmm_phyr_init(p);
	for (unsigned i = 0; i < t->orig_nents; i++) {
		int ret = ccmm_phyr_append(p, meta, ccmm_sg_phys(&t->sgl[i]), t->sgl[i].length);

		if (ret) {
			ccmm_phyr_free(p);
			return ret;
		}
	}
	return 0;
}

size_t ccmm_phyr_bytes(const struct ccmm_phyr *p)
{
	return sizeof(*p) + p->cap * sizeof(*p->r) + p->cap_groups * sizeof(*p->g);
}
