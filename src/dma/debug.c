// SPDX-License-Identifier: MIT
/*
 * The DMA API's records of live mappings and coherent buffers, and the
 * rules dma-debug enforces (kernel/dma/debug.c: check_unmap, check_sync,
 * debug_dma_mapping_error, dma_debug_device_change) plus ccmm's own on CPU
 * and device accesses. The rules are registered in check/rules.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dma/internal.h"


const char *ccmm_dma_map_type_name(enum ccmm_dma_map_type t)
{
	static const char *const n[] = { "single", "page", "sg", "phyr", "coherent" };

	return (unsigned)t < CCMM_ARRAY_SIZE(n) ? n[t] : "?";
}

const char *ccmm_dma_fail_name(enum ccmm_dma_fail f)
{
	static const char *const n[] = { "pool_full", "mask", "window", "iova", "other" };

	return (unsigned)f < CCMM_ARRAY_SIZE(n) ? n[f] : "?";
}

int _ccmm_dma_rec_add(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_rec *rec)
{
	struct ccmm_dma_rec *r;

	if (ccmm_grow((void **)&d->rec, &d->cap_rec, d->nr_rec + 1, sizeof(*d->rec)))
		return -ENOMEM;
	r = &d->rec[d->nr_rec++];
	*r = *rec;
	r->seq = ++d->next_seq;
	snprintf(r->op, sizeof(r->op), "%s", ctx->op ? ctx->op : "");
	r->where = ctx->where;
	if (d->nr_rec > d->live_hiwater)
		d->live_hiwater = d->nr_rec;
	return 0;
}

long _ccmm_dma_rec_find_best(struct ccmm_dma_dev *d, uint64_t dma, uint64_t size, enum ccmm_dma_map_type type,
			    enum ccmm_dma_dir dir)
{
	long best = -1;
	int best_lvl = -1;

	for (size_t i = 0; i < d->nr_rec; i++) {
		const struct ccmm_dma_rec *r = &d->rec[i];
		int lvl;

		if (r->dma != dma)
			continue;
		lvl = (r->size == size) + (r->type == type) + (r->dir == dir);
		if (lvl == 3)
			return (long)i;
		if (lvl > best_lvl) {
			best_lvl = lvl;
			best = (long)i;
		}
	}
	return best;
}

long _ccmm_dma_rec_find_containing(struct ccmm_dma_dev *d, uint64_t dma, uint64_t size)
{
	for (size_t i = 0; i < d->nr_rec; i++) {
		const struct ccmm_dma_rec *r = &d->rec[i];

		if (dma >= r->dma && dma - r->dma < r->size && size <= r->size - (dma - r->dma))
			return (long)i;
	}
	return -1;
}

void _ccmm_dma_rec_del(struct ccmm_dma_dev *d, long i)
{
	struct ccmm_dma_rec *r = &d->rec[i];
	unsigned g = d->gone_next++ % CCMM_ARRAY_SIZE(d->gone);

	d->gone[g].dma = r->dma;
	d->gone[g].size = r->size;
	d->gone[g].dir = r->dir;
	d->gone[g].type = r->type;
	d->rec[i] = d->rec[--d->nr_rec];
}

bool _ccmm_dma_rec_gone(struct ccmm_dma_dev *d, uint64_t dma)
{
	unsigned n = CCMM_MIN(d->gone_next, (unsigned)CCMM_ARRAY_SIZE(d->gone));

	for (unsigned i = 0; i < n; i++)
		if (d->gone[i].dma == dma && d->gone[i].size)
			return true;
	return false;
}

void _ccmm_dma_count_fail(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_dma_fail why)
{
	struct ccmm_dma *dma = ccmm_subsys_data(d->m, &ccmm_subsys_dma);
	const unsigned ctr[CCMM_DMA_FAIL_NR] = {
		CCMM_CTR_AT(swiotlb, dma_map_fail_pool_full), CCMM_CTR_AT(dma, dma_map_fail_mask), CCMM_CTR_AT(dma, dma_map_fail_window),
		CCMM_CTR_AT(dma, dma_map_fail_iova), CCMM_CTR_AT(dma, dma_map_fail_other),
	};

	pthread_mutex_lock(&d->lock);
	d->fail[why]++;
	pthread_mutex_unlock(&d->lock);
	atomic_fetch_add(&dma->fail[why], 1);
	if (why != CCMM_DMA_FAIL_POOL_FULL)
		ccmm_count(ctx, ctr[why], 1);
}

/* ---- CPU accesses --------------------------------------------------------------------- */

int ccmm_dma_cpu_access_check(struct ccmm_ctx *ctx, uint64_t pa, uint64_t len, enum ccmm_rw rw)
{
	struct ccmm_dma *dma = ccmm_subsys_data(ctx->m, &ccmm_subsys_dma);
	int n = 0;

	if (!dma || !len)
		return 0;
	for (size_t di = 0; di < dma->nr_devs; di++) {
		struct ccmm_dma_dev *d = &dma->devs[di];
		struct {
			uint64_t dma, pa, size;
			enum ccmm_dma_dir dir;
			bool bounced;
			char op[32];
			struct ccmm_where where;
		} hit[8];
		int nh = 0;

		pthread_mutex_lock(&d->lock);
		for (size_t i = 0; i < d->nr_rec && nh < 8; i++) {
			const struct ccmm_dma_rec *r = &d->rec[i];

			if (r->type == CCMM_DMA_MAP_COHERENT || r->p2p || r->cpu_owns)
				continue;
			if (pa >= r->pa + r->size || r->pa >= pa + len)
				continue;
			if (rw == CCMM_READ && r->dir == CCMM_DMA_TO_DEVICE)
				continue; /* the device only reads it: the CPU may read too */
			hit[nh].dma = r->dma;
			hit[nh].pa = r->pa;
			hit[nh].size = r->size;
			hit[nh].dir = r->dir;
			hit[nh].bounced = r->bounced;
			snprintf(hit[nh].op, sizeof(hit[nh].op), "%s", r->op);
			hit[nh].where = r->where;
			nh++;
		}
		pthread_mutex_unlock(&d->lock);
		for (int i = 0; i < nh; i++, n++)
			ccmm_violation(ctx, &ccmm_rule_dma_cpu_unsynced, CCMM_MAX(pa, hit[i].pa),
				       "CPU %s of [0x%" PRIx64 ", +%" PRIu64 ") while %s owns the %s mapping of [0x%" PRIx64
				       ", +%" PRIu64 ") at dma 0x%" PRIx64 " (%s, line %d)%s",
				       rw == CCMM_READ ? "read" : "write", pa, len, d->desc->name,
				       ccmm_dma_dir_name(hit[i].dir), hit[i].pa, hit[i].size, hit[i].dma, hit[i].op,
				       hit[i].where.line,
				       rw == CCMM_READ ? ": without dma_sync_*_for_cpu the device's data is still in the bounce buffer"
				       : hit[i].bounced ? ": the device sees the bounce copy made at map time, and unmap may copy over this write"
							: ": the write races with the device");
	}
	return n;
}
