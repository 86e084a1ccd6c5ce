// SPDX-License-Identifier: MIT
/*
 * IOMMU units, domains and pSeries TCE windows: I/O-space allocation,
 * entry writes with their hypercall costs, the dynamic DMA window and the
 * routing of device accesses to the window that holds them.
 */
#include "iommu/iommu.h"

#include "platform/subsys.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

CCMM_COST_BLOCK_DEFINE(iommu, CCMM_IOMMU_COSTS, CCMM_IOMMU_COUNTERS);

#define TCE_BATCH 512 /* entries per H_PUT_TCE_INDIRECT / H_STUFF_TCE */

static uint64_t entry_size(const struct ccmm_iommu_window *w)
{
	return 1ULL << w->page_shift;
}

static bool is_pseries(const struct ccmm_iommu_unit *u)
{
	return u->desc->kind == CCMM_IOMMU_PSERIES_TCE;
}

static struct ccmm_iommu_window *window_create(struct ccmm_iommu_unit *u, const char *suffix, uint64_t base,
					       uint64_t size, unsigned shift, bool linear, bool topdown, bool track)
{
	struct ccmm_iommu_window *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	snprintf(w->name, sizeof(w->name), "%.20s-%.26s", u->desc->name, suffix);
	w->unit = u;
	w->bus_base = base;
	w->size = size;
	w->page_shift = shift;
	w->linear = linear;
	w->topdown = topdown;
	pthread_mutex_init(&w->lock, NULL);
	if (ccmm_pgt_create(u->m, CCMM_PGT_IOMMU, w->name, track, &w->pgt)) {
		pthread_mutex_destroy(&w->lock);
		free(w);
		return NULL;
	}
	return w;
}

static void window_destroy(struct ccmm_iommu_window *w)
{
	if (!w)
		return;
	ccmm_pgt_destroy(NULL, w->pgt);
	pthread_mutex_destroy(&w->lock);
	free(w->runs);
	free(w->extra);
	free(w);
}

static void iommu_exit(struct ccmm_machine *m);

static int iommu_init(struct ccmm_machine *m)
{
	const struct ccmm_platform *p = m->plat;
	struct ccmm_iommu *io = calloc(1, sizeof(*io));

	if (!io)
		return -ENOMEM;
	ccmm_subsys_set_data(m, &ccmm_subsys_iommu, io);
	io->units = calloc(p->nr_iommus ? p->nr_iommus : 1, sizeof(*io->units));
	if (!io->units)
		goto fail;
	for (size_t i = 0; i < p->nr_iommus; i++) {
		struct ccmm_iommu_unit *u = &io->units[i];
		char name[CCMM_NAME_MAX];

		u->m = m;
		u->index = (int)i;
		u->desc = &p->iommus[i];
		pthread_mutex_init(&u->lock, NULL);
		io->nr_units++;
		snprintf(name, sizeof(name), "%.40s-none", u->desc->name);
		if (ccmm_pgt_create(m, CCMM_PGT_IOMMU, name, false, &u->nowhere))
			goto fail;
		if (is_pseries(u)) {
			if (u->desc->dma32_window) {
				u->dma32 = window_create(u, "dma32", 0, u->desc->dma32_window, u->desc->page_shift, false, false,
							 true);
				if (!u->dma32)
					goto fail;
			}
		} else {
			u->domains = calloc(p->nr_devices ? p->nr_devices : 1, sizeof(*u->domains));
			if (!u->domains)
				goto fail;
		}
	}
	return 0;
fail:
	iommu_exit(m);
	return -ENOMEM;
}

static void iommu_exit(struct ccmm_machine *m)
{
	struct ccmm_iommu *io = ccmm_subsys_data(m, &ccmm_subsys_iommu);

	if (!io)
		return;
	for (size_t i = 0; i < io->nr_units; i++) {
		struct ccmm_iommu_unit *u = &io->units[i];

		window_destroy(u->dma32);
		window_destroy(u->ddw);
		if (u->domains)
			for (size_t d = 0; d < m->plat->nr_devices; d++)
				window_destroy(u->domains[d]);
		free(u->domains);
		if (u->nowhere)
			ccmm_pgt_destroy(NULL, u->nowhere);
		pthread_mutex_destroy(&u->lock);
	}
	free(io->units);
	free(io);
	ccmm_subsys_set_data(m, &ccmm_subsys_iommu, NULL);
}

struct ccmm_iommu_unit *ccmm_iommu_unit_of(struct ccmm_machine *m, int device)
{
	struct ccmm_iommu *io = ccmm_subsys_data(m, &ccmm_subsys_iommu);
	int i;

	if (!io || device < 0 || (size_t)device >= m->plat->nr_devices)
		return NULL;
	i = m->plat->devices[device].iommu;
	return i >= 0 && (size_t)i < io->nr_units ? &io->units[i] : NULL;
}

struct ccmm_iommu_window *ccmm_iommu_domain(struct ccmm_iommu_unit *u, int device)
{
	struct ccmm_iommu_window *w;

	if (is_pseries(u) || device < 0 || (size_t)device >= u->m->plat->nr_devices)
		return NULL;
	pthread_mutex_lock(&u->lock);
	w = u->domains[device];
	if (!w) {
		char suffix[CCMM_NAME_MAX];

		snprintf(suffix, sizeof(suffix), "dom-%.40s", u->m->plat->devices[device].name);
		w = window_create(u, suffix, 0, CCMM_IOVA_LIMIT, u->desc->page_shift, false, true, true);
		u->domains[device] = w;
	}
	pthread_mutex_unlock(&u->lock);
	return w;
}

/* ---- I/O space ------------------------------------------------------------------ */

static int add_run(struct ccmm_iommu_window *w, size_t at, uint64_t start, uint64_t len)
{
	if (ccmm_grow((void **)&w->runs, &w->cap_runs, w->nr_runs + 1, sizeof(*w->runs)))
		return -ENOMEM;
	memmove(&w->runs[at + 1], &w->runs[at], (w->nr_runs - at) * sizeof(*w->runs));
	w->runs[at].start = start;
	w->runs[at].len = len;
	w->nr_runs++;
	return 0;
}

/* Lowest aligned fit in [from, to); UINT64_MAX if none. Lock held. */
static uint64_t fit_up(struct ccmm_iommu_window *w, uint64_t from, uint64_t to, uint64_t size, uint64_t align,
		       size_t *at)
{
	uint64_t gap = 0;

	for (size_t i = 0; i <= w->nr_runs; i++) {
		uint64_t gend = i < w->nr_runs ? w->runs[i].start : w->size;
		uint64_t c = CCMM_ALIGN_UP(CCMM_MAX(gap, from), align);

		if (c + size <= CCMM_MIN(gend, to) && c + size > c) {
			*at = i;
			return c;
		}
		if (i < w->nr_runs)
			gap = w->runs[i].start + w->runs[i].len;
		if (gap >= to)
			break;
	}
	return UINT64_MAX;
}

/* Highest aligned fit below @to; UINT64_MAX if none. Lock held. */
static uint64_t fit_down(struct ccmm_iommu_window *w, uint64_t lo, uint64_t to, uint64_t size, uint64_t align,
			 size_t *at)
{
	for (size_t i = w->nr_runs + 1; i-- > 0;) {
		uint64_t gstart = i ? w->runs[i - 1].start + w->runs[i - 1].len : 0;
		uint64_t gend = CCMM_MIN(i < w->nr_runs ? w->runs[i].start : w->size, to);
		uint64_t c;

		gstart = CCMM_MAX(gstart, lo);
		if (gend < gstart + size)
			continue;
		c = CCMM_ALIGN_DOWN(gend - size, align);
		if (c >= gstart) {
			*at = i;
			return c;
		}
	}
	return UINT64_MAX;
}

int ccmm_iommu_alloc(struct ccmm_iommu_window *w, uint64_t size, uint64_t align, uint64_t limit, uint64_t *off)
{
	uint64_t e = entry_size(w), end, c;
	size_t at = 0;
	int ret = 0;

	if (!size)
		return -EINVAL;
	size = CCMM_ALIGN_UP(size, e);
	align = CCMM_MAX(align, e);
	if (align & (align - 1))
		return -EINVAL;
	if (w->bus_base > limit)
		return -ERANGE;
	/* offsets whose bus address stays at or below the limit */
	end = limit - w->bus_base >= w->size - 1 ? w->size : limit - w->bus_base + 1;
	pthread_mutex_lock(&w->lock);
	if (w->topdown) {
		c = fit_down(w, e, end, size, align, &at); /* IOVA 0 is never handed out */
	} else {
		uint64_t from = w->hint < end ? w->hint : 0;

		c = fit_up(w, from, end, size, align, &at);
		if (c == UINT64_MAX && from)
			c = fit_up(w, 0, end, size, align, &at);
	}
	if (c == UINT64_MAX) {
		ret = -ENOSPC;
	} else {
		ret = add_run(w, at, c, size);
		if (!ret) {
			w->hint = c + size;
			*off = c;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return ret;
}

int ccmm_iommu_free(struct ccmm_iommu_window *w, uint64_t off, uint64_t size)
{
	int ret = -EINVAL;

	size = CCMM_ALIGN_UP(size, entry_size(w));
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < w->nr_runs; i++) {
		if (w->runs[i].start == off && w->runs[i].len == size) {
			memmove(&w->runs[i], &w->runs[i + 1], (w->nr_runs - i - 1) * sizeof(*w->runs));
			w->nr_runs--;
			ret = 0;
			break;
		}
	}
	pthread_mutex_unlock(&w->lock);
	return ret;
}

/* ---- entries --------------------------------------------------------------------- */

/* Write the page-table leaves for [off, off + size) -> pa: 1 GiB / 2 MiB where aligned, else 4 KiB. */
static int write_leaves(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t off, uint64_t pa, uint64_t size,
			bool read_only)
{
	uint64_t flags = read_only ? 0 : CCMM_PTE_RW, done = 0;

	while (done < size) {
		uint64_t o = off + done, a = pa + done, left = size - done, leaf, run;
		int ret;

		if (CCMM_IS_ALIGNED(o | a, CCMM_PUD_SIZE) && left >= CCMM_PUD_SIZE) {
			leaf = CCMM_PUD_SIZE;
			run = CCMM_ALIGN_DOWN(left, leaf);
		} else if (CCMM_IS_ALIGNED(o | a, CCMM_PMD_SIZE) && left >= CCMM_PMD_SIZE) {
			leaf = CCMM_PMD_SIZE;
			run = CCMM_MIN(CCMM_ALIGN_DOWN(left, leaf), CCMM_PUD_SIZE - (o & (CCMM_PUD_SIZE - 1)));
		} else {
			leaf = CCMM_PAGE_SIZE;
			/* 4 KiB leaves up to where 2 MiB ones could start, if they ever can */
			run = CCMM_IS_ALIGNED(o ^ a, CCMM_PMD_SIZE) ? CCMM_MIN(left, CCMM_PMD_SIZE - (o & (CCMM_PMD_SIZE - 1))) : left;
		}
		ret = ccmm_pgt_map(ctx, w->pgt, o, a, run, leaf, flags);
		if (ret) {
			if (done)
				ccmm_pgt_unmap(ctx, w->pgt, off, done, true);
			return ret;
		}
		done += run;
	}
	return 0;
}

/* Charge the entry writes: each entry, and on pSeries a hypercall per batch. */
static void charge_entries(struct ccmm_ctx *ctx, const struct ccmm_iommu_window *w, uint64_t entries)
{
	if (!ctx)
		return;
	ccmm_charge(ctx, CCMM_COST_AT(iommu, iommu_map_ns), entries);
	if (is_pseries(w->unit))
		ccmm_charge(ctx, CCMM_COST_hypercall_ns, (entries + TCE_BATCH - 1) / TCE_BATCH);
	ccmm_count(ctx, CCMM_CTR_AT(iommu, tce_entries), entries);
}

static void note_entries(struct ccmm_iommu_window *w, int64_t delta)
{
	w->entries = (uint64_t)((int64_t)w->entries + delta);
	if (delta > 0)
		w->entries_written += (uint64_t)delta;
	if (w->entries > w->entries_hiwater)
		w->entries_hiwater = w->entries;
}

int ccmm_iommu_map(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t off, uint64_t pa, uint64_t size,
		   bool read_only)
{
	uint64_t e = entry_size(w);
	int ret;

	if (!size || !CCMM_IS_ALIGNED(off | pa | size, e) || off + size > w->size || off + size < off)
		return -EINVAL;
	ret = write_leaves(ctx, w, off, pa, size, read_only);
	if (ret)
		return ret;
	charge_entries(ctx, w, size / e);
	pthread_mutex_lock(&w->lock);
	note_entries(w, (int64_t)(size / e));
	pthread_mutex_unlock(&w->lock);
	return 0;
}

long ccmm_iommu_unmap(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t off, uint64_t size)
{
	uint64_t e = entry_size(w);
	long pages;

	if (!size || !CCMM_IS_ALIGNED(off | size, e))
		return -EINVAL;
	pages = ccmm_pgt_unmap(ctx, w->pgt, off, size, true);
	if (pages < 0)
		return pages;
	if (ctx && is_pseries(w->unit))
		ccmm_charge(ctx, CCMM_COST_hypercall_ns, (size / e + TCE_BATCH - 1) / TCE_BATCH);
	pthread_mutex_lock(&w->lock);
	note_entries(w, -(int64_t)(((uint64_t)pages << CCMM_PAGE_SHIFT) / e));
	pthread_mutex_unlock(&w->lock);
	return (long)(((uint64_t)pages << CCMM_PAGE_SHIFT) / e);
}

/* ---- the dynamic DMA window --------------------------------------------------------- */

int ccmm_iommu_enable_ddw(struct ccmm_ctx *ctx, struct ccmm_iommu_unit *u, uint64_t lo, uint64_t hi,
			  struct ccmm_iommu_window **out)
{
	const struct ccmm_platform *p = u->m->plat;
	struct ccmm_iommu_window *w;
	uint64_t top = 0, size, e;
	int ret = 0;

	if (!is_pseries(u) || !u->desc->ddw)
		return -ENODEV;
	if (hi < lo)
		return -EINVAL;
	pthread_mutex_lock(&u->lock);
	if (u->ddw) {
		*out = u->ddw;
		pthread_mutex_unlock(&u->lock);
		return 0;
	}
	for (size_t i = 0; i < p->nr_ranges; i++)
		if (p->ranges[i].kind == CCMM_RANGE_RAM)
			top = CCMM_MAX(top, p->ranges[i].base + p->ranges[i].size);
	size = u->desc->ddw_size;
	if (!size)
		for (size = CCMM_PAGE_SIZE; size < top; size <<= 1)
			;
	/* all of RAM: no point tracking every page's I/O mappings */
	w = window_create(u, "ddw", CCMM_DDW_BUS_BASE, size, u->desc->ddw_page_shift, true, false, lo != hi);
	if (!w) {
		pthread_mutex_unlock(&u->lock);
		return -ENOMEM;
	}
	e = entry_size(w);
	if (lo == hi) {
		for (size_t i = 0; i < p->nr_ranges && !ret; i++) {
			const struct ccmm_mem_range *r = &p->ranges[i];
			uint64_t a = CCMM_ALIGN_DOWN(r->base, e), b = CCMM_ALIGN_UP(r->base + r->size, e);

			if (r->kind != CCMM_RANGE_RAM || a >= size)
				continue;
			b = CCMM_MIN(b, size);
			ret = ccmm_iommu_map(ctx, w, a, a, b - a, false);
		}
		w->fixed_lo = 0;
		w->fixed_hi = CCMM_MIN(top, size);
	} else {
		uint64_t align = CCMM_MAX(u->desc->ddw_align, e);

		w->fixed_lo = CCMM_ALIGN_DOWN(lo, align);
		w->fixed_hi = CCMM_ALIGN_UP(hi, e);
		if (w->fixed_hi > size)
			ret = -EINVAL;
		else
			ret = ccmm_iommu_map(ctx, w, w->fixed_lo, w->fixed_lo, w->fixed_hi - w->fixed_lo, false);
	}
	if (ret) {
		window_destroy(w);
		pthread_mutex_unlock(&u->lock);
		return ret;
	}
	u->ddw = w;
	*out = w;
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static size_t extra_find(struct ccmm_iommu_window *w, uint64_t index, bool *found)
{
	size_t lo = 0, hi = w->nr_extra;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (w->extra[mid].index < index)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < w->nr_extra && w->extra[lo].index == index;
	return lo;
}

static bool fixed_has(const struct ccmm_iommu_window *w, uint64_t index)
{
	uint64_t a = index << w->page_shift;

	return a >= w->fixed_lo && a < w->fixed_hi;
}

int ccmm_iommu_linear_get(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t pa, uint64_t size)
{
	uint64_t first = pa >> w->page_shift, last = (pa + size - 1) >> w->page_shift, added = 0, i;
	int ret = 0;

	if (!w->linear || !size || ((last + 1) << w->page_shift) > w->size)
		return -EINVAL;
	pthread_mutex_lock(&w->lock);
	for (i = first; i <= last; i++) {
		bool found;
		size_t at;

		if (fixed_has(w, i))
			continue;
		at = extra_find(w, i, &found);
		if (found) {
			w->extra[at].ref++;
			continue;
		}
		if (ccmm_grow((void **)&w->extra, &w->cap_extra, w->nr_extra + 1, sizeof(*w->extra))) {
			ret = -ENOMEM;
			break;
		}
		ret = write_leaves(ctx, w, i << w->page_shift, i << w->page_shift, 1ULL << w->page_shift, false);
		if (ret)
			break;
		memmove(&w->extra[at + 1], &w->extra[at], (w->nr_extra - at) * sizeof(*w->extra));
		w->extra[at].index = i;
		w->extra[at].ref = 1;
		w->nr_extra++;
		added++;
	}
	note_entries(w, (int64_t)added);
	pthread_mutex_unlock(&w->lock);
	charge_entries(ctx, w, added);
	if (ret && i > first) /* give back what this call took: nothing half-taken stays */
		ccmm_iommu_linear_put(ctx, w, first << w->page_shift, (i - first) << w->page_shift);
	return ret;
}

void ccmm_iommu_linear_put(struct ccmm_ctx *ctx, struct ccmm_iommu_window *w, uint64_t pa, uint64_t size)
{
	uint64_t first, last, removed = 0;

	if (!w->linear || !size)
		return;
	first = pa >> w->page_shift;
	last = (pa + size - 1) >> w->page_shift;
	pthread_mutex_lock(&w->lock);
	for (uint64_t i = first; i <= last; i++) {
		bool found;
		size_t at;

		if (fixed_has(w, i))
			continue;
		at = extra_find(w, i, &found);
		if (!found || --w->extra[at].ref)
			continue;
		ccmm_pgt_unmap(ctx, w->pgt, i << w->page_shift, 1ULL << w->page_shift, true);
		memmove(&w->extra[at], &w->extra[at + 1], (w->nr_extra - at - 1) * sizeof(*w->extra));
		w->nr_extra--;
		removed++;
	}
	note_entries(w, -(int64_t)removed);
	pthread_mutex_unlock(&w->lock);
	if (ctx && removed)
		ccmm_charge(ctx, CCMM_COST_hypercall_ns, (removed + TCE_BATCH - 1) / TCE_BATCH);
}

bool ccmm_iommu_linear_covers(struct ccmm_iommu_window *w, uint64_t pa, uint64_t size)
{
	bool ok = true;

	if (!w->linear || !size)
		return false;
	pthread_mutex_lock(&w->lock);
	for (uint64_t i = pa >> w->page_shift; i <= (pa + size - 1) >> w->page_shift && ok; i++) {
		bool found;

		if (fixed_has(w, i))
			continue;
		extra_find(w, i, &found);
		ok = found;
	}
	pthread_mutex_unlock(&w->lock);
	return ok;
}

/* ---- device accesses ------------------------------------------------------------------ */

int ccmm_iommu_dma_access(struct ccmm_ctx *ctx, struct ccmm_iommu_unit *u, int device, enum ccmm_rw rw, uint64_t bus,
			  void *buf, size_t len, struct ccmm_result *r)
{
	struct ccmm_iommu_window *w = NULL;

	if (is_pseries(u)) {
		if (u->dma32 && bus >= u->dma32->bus_base && bus - u->dma32->bus_base < u->dma32->size)
			w = u->dma32;
		else {
			pthread_mutex_lock(&u->lock);
			if (u->ddw && bus >= u->ddw->bus_base && bus - u->ddw->bus_base < u->ddw->size)
				w = u->ddw;
			pthread_mutex_unlock(&u->lock);
		}
	} else {
		w = ccmm_iommu_domain(u, device);
		if (w && bus >= w->size)
			w = NULL;
	}
	if (!w)
		return ccmm_dma_access(ctx, device, u->nowhere, rw, bus & (CCMM_IOVA_LIMIT - 1), buf, len, r);
	return ccmm_dma_access(ctx, device, w->pgt, rw, bus - w->bus_base, buf, len, r);
}

void ccmm_iommu_window_stats(struct ccmm_iommu_window *w, struct ccmm_iommu_window_stats *out)
{
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&w->lock);
	snprintf(out->name, sizeof(out->name), "%s", w->name);
	out->bus_base = w->bus_base;
	out->size = w->size;
	out->page_shift = w->page_shift;
	out->entries = w->entries;
	out->entries_hiwater = w->entries_hiwater;
	out->entries_written = w->entries_written;
	out->fixed_lo = w->fixed_lo;
	out->fixed_hi = w->fixed_hi;
	pthread_mutex_unlock(&w->lock);
}

static void window_report(struct ccmm_iommu_window *w, struct ccmm_stat *out, size_t max, size_t *n)
{
	struct ccmm_iommu_window_stats s;
	char g[48];

	if (!w)
		return;
	ccmm_iommu_window_stats(w, &s);
	if (!s.entries_written)
		return;
	snprintf(g, sizeof(g), "iommu.%.40s", s.name);
	ccmm_stat_add(out, max, n, g, "bus_base", s.bus_base, NULL);
	ccmm_stat_add(out, max, n, g, "bytes", s.size, NULL);
	ccmm_stat_add(out, max, n, g, "page_shift", s.page_shift, NULL);
	ccmm_stat_add(out, max, n, g, "entries", s.entries, NULL);
	ccmm_stat_add(out, max, n, g, "entries_hiwater", s.entries_hiwater, NULL);
	ccmm_stat_add(out, max, n, g, "entries_written", s.entries_written, NULL);
	if (w->linear) {
		ccmm_stat_add(out, max, n, g, "mapped_lo", s.fixed_lo, NULL);
		ccmm_stat_add(out, max, n, g, "mapped_hi", s.fixed_hi, NULL);
	}
}

static size_t iommu_stats(struct ccmm_machine *m, struct ccmm_stat *out, size_t max)
{
	struct ccmm_iommu *io = ccmm_subsys_data(m, &ccmm_subsys_iommu);
	size_t n = 0;

	if (!io)
		return 0;
	for (size_t i = 0; i < io->nr_units; i++) {
		struct ccmm_iommu_unit *u = &io->units[i];

		window_report(u->dma32, out, max, &n);
		pthread_mutex_lock(&u->lock);
		window_report(u->ddw, out, max, &n);
		if (u->domains)
			for (size_t d = 0; d < m->plat->nr_devices; d++)
				window_report(u->domains[d], out, max, &n);
		pthread_mutex_unlock(&u->lock);
	}
	return n;
}

struct ccmm_subsys ccmm_subsys_iommu = {
	.name = "iommu",
	.init = iommu_init,
	.exit = iommu_exit,
	.stats = iommu_stats,
	.block = &ccmm_iommu_block,
};
