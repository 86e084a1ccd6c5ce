// SPDX-License-Identifier: MIT
/*
 * Sparse physical memory: per range, a pointer per 2 MiB chunk; a chunk
 * (lock, counters, 512 x struct ccmm_page) is created on first touch, and a
 * page's 4 KiB of data on its first write.
 */
#include "platform/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* line_key value of a line never written: it reads as zeros under any key */
#define LINE_ZERO 0xff

static size_t range_index(const struct ccmm_platform *p, uint64_t pa)
{
	const struct ccmm_mem_range *r = ccmm_platform_range(p, pa);

	return r ? (size_t)(r - p->ranges) : SIZE_MAX;
}

struct ccmm_phys_range *ccmm_phys_range_of(struct ccmm_machine *m, uint64_t pa)
{
	size_t i = range_index(m->plat, pa);

	return i == SIZE_MAX ? NULL : &m->phys.range[i];
}

static uint64_t chunk_base(const struct ccmm_phys_range *r)
{
	return CCMM_ALIGN_DOWN(r->desc->base, CCMM_PMD_SIZE);
}

uint64_t ccmm_phys_host_bytes(struct ccmm_machine *m)
{
	return (uint64_t)atomic_load(&m->phys.chunks_allocated) * sizeof(struct ccmm_chunk) +
	       (uint64_t)atomic_load(&m->phys.pages_with_data) * sizeof(struct ccmm_page_data) +
	       atomic_load(&m->phys.other_bytes);
}

bool ccmm_phys_exhausted(struct ccmm_machine *m, uint64_t *pa)
{
	uint64_t v = atomic_load(&m->phys.exhausted_pa);

	if (pa)
		*pa = v;
	return v != UINT64_MAX;
}

/* Whether @bytes more fit in the budget; remembers @pa as refused when not. */
static bool within_budget(struct ccmm_machine *m, uint64_t pa, size_t bytes)
{
	uint64_t none = UINT64_MAX;

	if (ccmm_phys_host_bytes(m) + bytes <= m->phys.budget)
		return true;
	atomic_compare_exchange_strong(&m->phys.exhausted_pa, &none, pa);
	return false;
}

bool ccmm_phys_charge_host(struct ccmm_machine *m, uint64_t pa, uint64_t bytes)
{
	if (!within_budget(m, pa, bytes))
		return false;
	atomic_fetch_add(&m->phys.other_bytes, bytes);
	return true;
}

struct ccmm_chunk *ccmm_phys_chunk(struct ccmm_machine *m, uint64_t pa, bool create)
{
	struct ccmm_phys_range *r = ccmm_phys_range_of(m, pa);
	struct ccmm_chunk *c, *expect = NULL;
	size_t idx;

	if (!r)
		return NULL;
	idx = (size_t)((pa - chunk_base(r)) >> CCMM_CHUNK_SHIFT);
	c = atomic_load_explicit(&r->chunks[idx], memory_order_acquire);
	if (c || !create)
		return c;

	if (!within_budget(m, pa, sizeof(*c)))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	for (unsigned i = 0; i < CCMM_CHUNK_PAGES; i++) {
		c->page[i].state = (uint8_t)r->def_state;
		c->page[i].owner = r->def_owner;
	}
	if (r->def_state != CCMM_PS_SHARED) {
		/* only pages inside the range count */
		uint64_t cb = chunk_base(r) + ((uint64_t)idx << CCMM_CHUNK_SHIFT);
		uint64_t lo = CCMM_MAX(cb, r->desc->base);
		uint64_t hi = CCMM_MIN(cb + CCMM_PMD_SIZE, r->desc->base + r->desc->size);

		c->nr_private = (uint32_t)((hi - lo) >> CCMM_PAGE_SHIFT);
	}
	if (!atomic_compare_exchange_strong_explicit(&r->chunks[idx], &expect, c, memory_order_acq_rel,
						     memory_order_acquire)) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return expect;
	}
	atomic_fetch_add(&m->phys.chunks_allocated, 1);
	return c;
}

struct ccmm_page *ccmm_phys_page(struct ccmm_machine *m, uint64_t pa, bool create)
{
	struct ccmm_chunk *c = ccmm_phys_chunk(m, pa, create);

	if (!c)
		return NULL;
	return &c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
}

struct ccmm_page *ccmm_phys_lock(struct ccmm_machine *m, uint64_t pa)
{
	struct ccmm_chunk *c = ccmm_phys_chunk(m, pa, true);

	if (!c)
		return NULL;
	pthread_mutex_lock(&c->lock);
	return &c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
}

void ccmm_phys_unlock(struct ccmm_machine *m, uint64_t pa)
{
	struct ccmm_chunk *c = ccmm_phys_chunk(m, pa, false);

	if (c)
		pthread_mutex_unlock(&c->lock);
}

int ccmm_phys_peek(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *out)
{
	struct ccmm_phys_range *r = ccmm_phys_range_of(m, pa);
	struct ccmm_chunk *c;

	if (!r)
		return -EFAULT;
	c = ccmm_phys_chunk(m, pa, false);
	if (!c) {
		memset(out, 0, sizeof(*out));
		out->state = (uint8_t)r->def_state;
		out->owner = r->def_owner;
		return 0;
	}
	pthread_mutex_lock(&c->lock);
	*out = c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
	pthread_mutex_unlock(&c->lock);
	return 0;
}

void ccmm_page_set_state(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *pg, enum ccmm_page_state state,
			 uint16_t owner)
{
	struct ccmm_chunk *c = ccmm_phys_chunk(m, pa, false);
	bool was = pg->state != CCMM_PS_SHARED, now = state != CCMM_PS_SHARED;

	if (c && was != now) {
		if (now)
			c->nr_private++;
		else
			c->nr_private--;
	}
	pg->state = (uint8_t)state;
	pg->owner = owner;
}

struct ccmm_page_data *ccmm_phys_page_data(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *pg)
{
	struct ccmm_chunk *c;

	if (pg->data)
		return pg->data;
	if (!within_budget(m, pa, sizeof(*pg->data)))
		return NULL;
	pg->data = malloc(sizeof(*pg->data));
	if (!pg->data)
		return NULL;
	memset(pg->data->bytes, 0, sizeof(pg->data->bytes));
	pg->data->poison = 0;
	memset(pg->data->line_key, LINE_ZERO, sizeof(pg->data->line_key));
	c = ccmm_phys_chunk(m, pa, false);
	if (c)
		c->nr_data++;
	atomic_fetch_add(&m->phys.pages_with_data, 1);
	return pg->data;
}

void ccmm_phys_discard(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *pg)
{
	struct ccmm_chunk *c;

	if (!pg->data)
		return;
	free(pg->data);
	pg->data = NULL;
	pg->flags &= (uint8_t)~CCMM_PG_POISONED;
	c = ccmm_phys_chunk(m, pa, false);
	if (c)
		c->nr_data--;
	atomic_fetch_sub(&m->phys.pages_with_data, 1);
}

int ccmm_phys_rw(struct ccmm_machine *m, uint64_t pa, void *buf, size_t len, bool write, unsigned keyid,
		 bool *mismatch)
{
	struct ccmm_page *pg;
	struct ccmm_page_data *d;
	uint8_t *p = buf;
	uint64_t end = pa + len;

	if (mismatch)
		*mismatch = false;
	if (!len)
		return 0;
	if ((pa >> CCMM_PAGE_SHIFT) != ((end - 1) >> CCMM_PAGE_SHIFT) || keyid >= CCMM_NR_KEYIDS)
		return -EINVAL;
	pg = ccmm_phys_page(m, pa, write);
	if (!pg) {
		if (!ccmm_phys_range_of(m, pa))
			return -EFAULT;
		if (write)
			return -ENOMEM;
		memset(buf, 0, len); /* untouched chunk: zeros */
		return 0;
	}
	if (!write && !pg->data) {
		memset(buf, 0, len);
		return 0;
	}
	d = ccmm_phys_page_data(m, pa, pg);
	if (!d)
		return -ENOMEM;

	while (pa < end) {
		uint64_t line = CCMM_ALIGN_DOWN(pa, CCMM_LINE_SIZE);
		unsigned li = (unsigned)((line & (CCMM_PAGE_SIZE - 1)) >> CCMM_LINE_SHIFT);
		unsigned off = (unsigned)(pa - line);
		unsigned n = (unsigned)CCMM_MIN(CCMM_LINE_SIZE - off, end - pa);
		uint8_t *stored = &d->bytes[li << CCMM_LINE_SHIFT];
		uint8_t plain[CCMM_LINE_SIZE];
		int ret;

		if (d->line_key[li] == LINE_ZERO) {
			memset(plain, 0, sizeof(plain));
		} else {
			if (!write || n != CCMM_LINE_SIZE) {
				ret = ccmm_mee_decrypt_line(m->mee, keyid, line, stored, plain);
				if (ret)
					return ret;
			}
			if (!write && d->line_key[li] != keyid && mismatch)
				*mismatch = true;
		}
		if (write) {
			memcpy(plain + off, p, n);
			ret = ccmm_mee_encrypt_line(m->mee, keyid, line, plain, stored);
			if (ret)
				return ret;
			d->line_key[li] = (uint8_t)keyid;
		} else {
			memcpy(p, plain + off, n);
		}
		p += n;
		pa += n;
	}
	return 0;
}
