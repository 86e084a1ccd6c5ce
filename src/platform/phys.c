// SPDX-License-Identifier: MIT
/*
 * Sparse physical memory: per range, a directory with a pointer per 1 GiB
 * to a table of 512 chunk pointers (both allocated on first touch); a
 * chunk (lock, counters, 512 x struct ccmm_page) is created on first
 * touch, and a page's 4 KiB of data on its first write. Nothing is
 * allocated per modeled byte at boot: a 64 TiB machine costs a pointer
 * per GiB until it is used.
 *
 * Page data, per 64-byte line, in the two encryption-engine modes:
 *
 *   eager      the line's ciphertext under the key it was last written
 *              with (the reference: every write encrypts, every read
 *              decrypts under the reader's key)
 *   on-demand  the plaintext its writer wrote, tagged with the writer's
 *              key; a reader with the same key gets it by memcpy, and the
 *              ciphertext is computed only when the line is observed under
 *              another key (then: encrypt under the writer's key, decrypt
 *              under the reader's, which is what the eager mode yields)
 *
 * The bytes any reader sees are the same in both modes (tests/platform
 * and the differential job test check it).
 */
#include "platform/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* line_key value of a line never written: it reads as zeros under any key */
#define LINE_ZERO 0xff
#define DIR_SHIFT CCMM_PUD_SHIFT /* one directory entry per 1 GiB */
#define DIR_CHUNKS (1u << (DIR_SHIFT - CCMM_CHUNK_SHIFT))

_Static_assert(DIR_CHUNKS == CCMM_CHUNK_TABLE_SIZE, "a chunk table covers one directory entry");

/* ---- the directory ------------------------------------------------------------ */

int _ccmm_phys_range_init(struct ccmm_phys_range *r, const struct ccmm_mem_range *d)
{
	uint64_t hi = CCMM_ALIGN_UP(d->base + d->size, 1ULL << DIR_SHIFT);

	r->desc = d;
	r->dir_base = CCMM_ALIGN_DOWN(d->base, 1ULL << DIR_SHIFT);
	r->nr_dir = (size_t)((hi - r->dir_base) >> DIR_SHIFT);
	r->dir = calloc(r->nr_dir, sizeof(*r->dir));
	return r->dir ? 0 : -ENOMEM;
}

void _ccmm_phys_range_fini(struct ccmm_phys_range *r)
{
	for (size_t i = 0; r->dir && i < r->nr_dir; i++) {
		struct ccmm_chunk_table *t = atomic_load(&r->dir[i]);

		for (unsigned c = 0; t && c < DIR_CHUNKS; c++) {
			struct ccmm_chunk *ch = atomic_load(&t->chunk[c]);

			if (!ch)
				continue;
			for (unsigned k = 0; k < CCMM_CHUNK_PAGES; k++)
				free(ch->page[k].data);
			free(ch);
		}
		free(t);
	}
	free(r->dir);
	r->dir = NULL;
}

#define MAX_GRANULES (1u << 20) /* 1 PiB of address space; above it, a binary search */

int _ccmm_phys_granules_init(struct ccmm_machine *m)
{
	const struct ccmm_platform *p = m->plat;
	uint64_t end = 0;

	for (size_t i = 0; i < p->nr_ranges; i++)
		end = CCMM_MAX(end, p->ranges[i].base + p->ranges[i].size);
	m->phys.nr_granules = (size_t)CCMM_MIN(CCMM_ALIGN_UP(end, 1ULL << DIR_SHIFT) >> DIR_SHIFT, (uint64_t)MAX_GRANULES);
	if (p->nr_ranges >= CCMM_GRANULE_HOLE - 1)
		m->phys.nr_granules = 0; /* the index would not fit: always search */
	if (!m->phys.nr_granules)
		return 0;
	m->phys.granule = malloc(m->phys.nr_granules * sizeof(*m->phys.granule));
	if (!m->phys.granule)
		return -ENOMEM;
	for (size_t g = 0; g < m->phys.nr_granules; g++)
		m->phys.granule[g] = CCMM_GRANULE_HOLE;
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];
		uint64_t first = r->base >> DIR_SHIFT, last = (r->base + r->size - 1) >> DIR_SHIFT;

		for (uint64_t g = first; g <= last && g < m->phys.nr_granules; g++) {
			bool whole = r->base <= (g << DIR_SHIFT) && r->base + r->size >= ((g + 1) << DIR_SHIFT);

			m->phys.granule[g] = whole && m->phys.granule[g] == CCMM_GRANULE_HOLE ? (uint16_t)(i + 1)
											       : CCMM_GRANULE_MIXED;
		}
	}
	return 0;
}

struct ccmm_phys_range *ccmm_phys_range_of(struct ccmm_machine *m, uint64_t pa)
{
	const struct ccmm_mem_range *r;
	uint64_t g = pa >> DIR_SHIFT;

	if (g < m->phys.nr_granules) {
		unsigned v = m->phys.granule[g];

		if (v == CCMM_GRANULE_HOLE)
			return NULL;
		if (v != CCMM_GRANULE_MIXED)
			return &m->phys.range[v - 1];
	}
	r = ccmm_platform_range(m->plat, pa);
	return r ? &m->phys.range[r - m->plat->ranges] : NULL;
}

uint64_t ccmm_phys_host_bytes(struct ccmm_machine *m)
{
	return (uint64_t)atomic_load(&m->phys.tables_allocated) * sizeof(struct ccmm_chunk_table) +
	       (uint64_t)atomic_load(&m->phys.chunks_allocated) * sizeof(struct ccmm_chunk) +
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

static struct ccmm_chunk *chunk_new(struct ccmm_machine *m, struct ccmm_phys_range *r, uint64_t pa)
{
	struct ccmm_chunk *c;

	if (!within_budget(m, pa, sizeof(*c)))
		return NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	for (unsigned i = 0; i < CCMM_CHUNK_PAGES; i++) {
		c->page[i].state = (uint8_t)r->def_state;
		c->page[i].owner = r->def_owner;
	}
	if (r->def_state != CCMM_PS_SHARED) {
		/* only pages inside the range count */
		uint64_t cb = CCMM_ALIGN_DOWN(pa, CCMM_PMD_SIZE);
		uint64_t lo = CCMM_MAX(cb, r->desc->base);
		uint64_t hi = CCMM_MIN(cb + CCMM_PMD_SIZE, r->desc->base + r->desc->size);

		c->nr_private = (uint32_t)((hi - lo) >> CCMM_PAGE_SHIFT);
	}
	return c;
}

struct ccmm_chunk *ccmm_phys_chunk_in(struct ccmm_machine *m, struct ccmm_phys_range *r, uint64_t pa, bool create)
{
	uint64_t idx = (pa - r->dir_base) >> CCMM_CHUNK_SHIFT;
	_Atomic(struct ccmm_chunk_table *) *slot = &r->dir[idx / DIR_CHUNKS];
	struct ccmm_chunk_table *t = atomic_load_explicit(slot, memory_order_acquire), *texp = NULL;
	struct ccmm_chunk *c, *expect = NULL;

	if (!t) {
		if (!create || !within_budget(m, pa, sizeof(*t)))
			return NULL;
		t = calloc(1, sizeof(*t));
		if (!t)
			return NULL;
		if (!atomic_compare_exchange_strong_explicit(slot, &texp, t, memory_order_acq_rel, memory_order_acquire)) {
			free(t);
			t = texp;
		} else {
			atomic_fetch_add(&m->phys.tables_allocated, 1);
		}
	}
	c = atomic_load_explicit(&t->chunk[idx % DIR_CHUNKS], memory_order_acquire);
	if (c || !create)
		return c;
	c = chunk_new(m, r, pa);
	if (!c)
		return NULL;
	if (!atomic_compare_exchange_strong_explicit(&t->chunk[idx % DIR_CHUNKS], &expect, c, memory_order_acq_rel,
						     memory_order_acquire)) {
		free(c);
		return expect;
	}
	atomic_fetch_add(&m->phys.chunks_allocated, 1);
	return c;
}

struct ccmm_chunk *ccmm_phys_chunk(struct ccmm_machine *m, uint64_t pa, bool create)
{
	struct ccmm_phys_range *r = ccmm_phys_range_of(m, pa);

	return r ? ccmm_phys_chunk_in(m, r, pa, create) : NULL;
}

struct ccmm_page *ccmm_phys_page(struct ccmm_machine *m, uint64_t pa, bool create)
{
	struct ccmm_chunk *c = ccmm_phys_chunk(m, pa, create);

	if (!c)
		return NULL;
	return &c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
}

struct ccmm_page *ccmm_phys_lock_in(struct ccmm_machine *m, struct ccmm_phys_range *r, uint64_t pa)
{
	struct ccmm_chunk *c = ccmm_phys_chunk_in(m, r, pa, true);

	if (!c)
		return NULL;
	ccmm_lock_acquire(&c->lock);
	return &c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
}

struct ccmm_page *ccmm_phys_lock(struct ccmm_machine *m, uint64_t pa)
{
	struct ccmm_phys_range *r = ccmm_phys_range_at(m, pa);

	return r ? ccmm_phys_lock_at(m, r, pa) : NULL;
}

void ccmm_phys_unlock(struct ccmm_machine *m, uint64_t pa)
{
	struct ccmm_phys_range *r = ccmm_phys_range_at(m, pa);
	struct ccmm_chunk *c = r ? ccmm_phys_chunk_peek(r, pa) : NULL;

	if (c)
		ccmm_lock_release(&c->lock);
}

int ccmm_phys_peek(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *out)
{
	struct ccmm_phys_range *r = ccmm_phys_range_of(m, pa);
	struct ccmm_chunk *c;

	if (!r)
		return -EFAULT;
	c = ccmm_phys_chunk_in(m, r, pa, false);
	if (!c) {
		memset(out, 0, sizeof(*out));
		out->state = (uint8_t)r->def_state;
		out->owner = r->def_owner;
		return 0;
	}
	ccmm_lock_acquire(&c->lock);
	*out = c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)];
	ccmm_lock_release(&c->lock);
	return 0;
}

void ccmm_page_set_state(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *pg, enum ccmm_page_state state,
			 uint16_t owner)
{
	struct ccmm_phys_range *r = ccmm_phys_range_at(m, pa);
	struct ccmm_chunk *c = r ? ccmm_phys_chunk_peek(r, pa) : NULL;
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

size_t ccmm_phys_metadata_bytes(struct ccmm_machine *m)
{
	size_t bytes = m->phys.nr * sizeof(*m->phys.range);

	for (size_t i = 0; i < m->phys.nr; i++)
		bytes += m->phys.range[i].nr_dir * sizeof(*m->phys.range[i].dir);
	bytes += atomic_load(&m->phys.tables_allocated) * sizeof(struct ccmm_chunk_table);
	bytes += atomic_load(&m->phys.chunks_allocated) * sizeof(struct ccmm_chunk);
	return bytes;
}

/* ---- page data ------------------------------------------------------------- */

static struct ccmm_page_data *page_data(struct ccmm_machine *m, struct ccmm_chunk *c, struct ccmm_page *pg, uint64_t pa)
{
	if (pg->data)
		return pg->data;
	if (!within_budget(m, pa, sizeof(*pg->data)))
		return NULL;
	{
		void *p;

		/* the bytes on a cache line's start, as a page's are: whole lines copy without split loads or stores */
		if (posix_memalign(&p, 64, sizeof(*pg->data)))
			return NULL;
		pg->data = p;
	}
	memset(pg->data->bytes, 0, sizeof(pg->data->bytes));
	pg->data->poison = 0;
	memset(pg->data->line_key, LINE_ZERO, sizeof(pg->data->line_key));
	if (c)
		c->nr_data++;
	atomic_fetch_add(&m->phys.pages_with_data, 1);
	return pg->data;
}

struct ccmm_page_data *ccmm_phys_page_data(struct ccmm_machine *m, uint64_t pa, struct ccmm_page *pg)
{
	return pg->data ? pg->data : page_data(m, ccmm_phys_chunk(m, pa, false), pg, pa);
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

/* ---- the engine's two modes --------------------------------------------------- */

int ccmm_phys_set_mee_mode(struct ccmm_machine *m, enum ccmm_mee_mode mode)
{
	if ((unsigned)mode >= CCMM_MEE_MODE_NR)
		return -EINVAL;
	if (mode == m->phys.mee_mode)
		return 0;
	if (atomic_load(&m->phys.pages_with_data))
		return -EBUSY; /* the stored bytes mean different things in the two modes */
	m->phys.mee_mode = mode;
	return 0;
}

/* Whether a line stored under @lk reads under @keyid as the stored bytes themselves. */
static inline bool stored_is_view(const struct ccmm_machine *m, unsigned lk, unsigned keyid)
{
	return m->phys.mee_mode == CCMM_MEE_EAGER ? keyid == CCMM_KEYID_NONE : lk == keyid;
}

/*
 * @n whole lines at @lpa, stored as @st under key @lk (never LINE_ZERO), as
 * read under @keyid, into @out. Eager: @st is ciphertext, decrypt it.
 * On-demand: @st is the writer's plaintext: encrypt under @lk, decrypt
 * under @keyid (key ID 0 is the identity either way).
 */
static int view_lines(struct ccmm_machine *m, unsigned lk, unsigned keyid, uint64_t lpa, const uint8_t *st,
		      uint8_t *out, size_t n)
{
	size_t len = n * CCMM_LINE_SIZE;
	int ret;

	if (m->phys.mee_mode == CCMM_MEE_EAGER)
		return ccmm_mee_decrypt(m->mee, keyid, lpa, st, out, len);
	if (lk == keyid) {
		memcpy(out, st, len);
		return 0;
	}
	ret = ccmm_mee_encrypt(m->mee, lk, lpa, st, out, len);
	return ret ? ret : ccmm_mee_decrypt(m->mee, keyid, lpa, out, out, len);
}

/* The first line from @li on, before @end, whose key differs from line @li's (8 keys compared at a time). */
static unsigned run_end_line(const struct ccmm_page_data *d, unsigned li, unsigned end)
{
	uint64_t rep = 0x0101010101010101ULL * d->line_key[li];
	unsigned lj = li; /* from @li itself, which matches, so whole pages take 8 steps */

	while (lj + 8 <= end) {
		uint64_t w;

		memcpy(&w, &d->line_key[lj], 8);
		w ^= rep;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		if (w)
			return lj + (unsigned)(__builtin_ctzll(w) >> 3); /* the first differing byte in memory order */
#else
		if (w)
			return lj + (unsigned)(__builtin_clzll(w) >> 3);
#endif
		lj += 8;
	}
	while (lj < end && d->line_key[lj] == d->line_key[li])
		lj++;
	return lj;
}

/* Whether lines [@li, @li + @n) all carry key @key: the 8-byte words XORed and ORed, no branch per word. */
static inline bool lines_keyed_n(const struct ccmm_page_data *d, unsigned li, unsigned n, unsigned key)
{
	uint64_t rep = 0x0101010101010101ULL * key, diff = 0;
	unsigned i = 0;

	for (; i + 8 <= n; i += 8) {
		uint64_t w;

		memcpy(&w, &d->line_key[li + i], 8);
		diff |= w ^ rep;
	}
	for (; i < n; i++)
		diff |= d->line_key[li + i] ^ key;
	return !diff;
}

static inline __attribute__((always_inline)) bool lines_keyed(const struct ccmm_page_data *d, unsigned li, unsigned n,
							       unsigned key)
{
	typedef uint64_t tags __attribute__((vector_size(16)));
	uint64_t r = 0x0101010101010101ULL * key;
	tags rep = { r, r }, w[CCMM_LINES_PER_PAGE / 16], x;

	if (n != CCMM_LINES_PER_PAGE)
		return lines_keyed_n(d, li, n, key);
	/* a whole page (a bounce's common case): its 64 tags as 4 vectors of two words, unrolled */
	memcpy(w, d->line_key, sizeof(w));
	x = (w[0] ^ rep) | (w[1] ^ rep) | (w[2] ^ rep) | (w[3] ^ rep);
	return !(x[0] | x[1]);
}

/* Lines [@li, @li + @n) tagged with key @key; a whole page's 64 tags in one fixed-size store. */
static inline void set_line_keys(struct ccmm_page_data *d, unsigned li, unsigned n, unsigned key)
{
	if (n == CCMM_LINES_PER_PAGE)
		memset(d->line_key, (int)key, CCMM_LINES_PER_PAGE);
	else
		memset(&d->line_key[li], (int)key, n);
}

/*
 * Bytes [@s, @e) of the page at @page_pa (data @d) as read under @keyid,
 * into @out; *@mm is set when a line read was written under another key.
 * Runs of lines with one key go through the engine in one call each.
 */
static int read_range(struct ccmm_machine *m, const struct ccmm_page_data *d, uint64_t page_pa, unsigned s,
		      unsigned e, unsigned keyid, uint8_t *out, bool *mm)
{
	while (s < e) {
		unsigned li = s >> CCMM_LINE_SHIFT, lk = d->line_key[li], run_end;
		unsigned lend = (e + CCMM_LINE_SIZE - 1) >> CCMM_LINE_SHIFT;
		/* a whole page under one key (a bounce's read) in one test, else the run's end found */
		unsigned lj = lend - li == CCMM_LINES_PER_PAGE && lines_keyed(d, 0, CCMM_LINES_PER_PAGE, lk)
				      ? lend
				      : run_end_line(d, li, lend);
		int ret;

		run_end = CCMM_MIN(lj << CCMM_LINE_SHIFT, e);
		if (lk == LINE_ZERO) {
			memset(out, 0, run_end - s);
			goto next;
		}
		if (lk != keyid)
			*mm = true;
		if (stored_is_view(m, lk, keyid)) {
			memcpy(out, d->bytes + s, run_end - s);
		} else {
			unsigned p = s;
			uint8_t *o = out;
			uint8_t tmp[CCMM_LINE_SIZE];

			if (p & (CCMM_LINE_SIZE - 1)) {
				unsigned off = p & (CCMM_LINE_SIZE - 1), n = CCMM_MIN((unsigned)CCMM_LINE_SIZE - off, run_end - p);

				ret = view_lines(m, lk, keyid, page_pa + p - off, d->bytes + p - off, tmp, 1);
				if (ret)
					return ret;
				memcpy(o, tmp + off, n);
				p += n;
				o += n;
			}
			if (run_end - p >= CCMM_LINE_SIZE) {
				unsigned full = (run_end - p) & ~(unsigned)(CCMM_LINE_SIZE - 1);

				ret = view_lines(m, lk, keyid, page_pa + p, d->bytes + p, o, full >> CCMM_LINE_SHIFT);
				if (ret)
					return ret;
				p += full;
				o += full;
			}
			if (p < run_end) {
				ret = view_lines(m, lk, keyid, page_pa + p, d->bytes + p, tmp, 1);
				if (ret)
					return ret;
				memcpy(o, tmp, run_end - p);
			}
		}
next:
		out += run_end - s;
		s = run_end;
	}
	return 0;
}

/* Part [@off, @off+@n) of line @li, written under @keyid from @in (read-modify-write). */
static int write_partial(struct ccmm_machine *m, struct ccmm_page_data *d, uint64_t page_pa, unsigned li, unsigned off,
			 const uint8_t *in, unsigned n, unsigned keyid)
{
	uint8_t *st = d->bytes + (li << CCMM_LINE_SHIFT);
	unsigned lk = d->line_key[li];
	uint64_t lpa = page_pa + (li << CCMM_LINE_SHIFT);
	uint8_t tmp[CCMM_LINE_SIZE];
	int ret;

	if (lk != LINE_ZERO && stored_is_view(m, lk, keyid)) {
		memcpy(st + off, in, n);
		d->line_key[li] = (uint8_t)keyid;
		return 0;
	}
	if (lk == LINE_ZERO) {
		memset(tmp, 0, sizeof(tmp));
	} else {
		ret = view_lines(m, lk, keyid, lpa, st, tmp, 1);
		if (ret)
			return ret;
	}
	memcpy(tmp + off, in, n);
	if (m->phys.mee_mode == CCMM_MEE_EAGER) {
		ret = ccmm_mee_encrypt(m->mee, keyid, lpa, tmp, st, CCMM_LINE_SIZE);
		if (ret)
			return ret;
	} else {
		memcpy(st, tmp, CCMM_LINE_SIZE);
	}
	d->line_key[li] = (uint8_t)keyid;
	return 0;
}

/* Whole lines [@s, @s+@len) of the page, already holding the plaintext written, stored under @keyid. */
static int store_lines(struct ccmm_machine *m, struct ccmm_page_data *d, uint64_t page_pa, unsigned s, unsigned len,
		       unsigned keyid)
{
	if (m->phys.mee_mode == CCMM_MEE_EAGER && keyid != CCMM_KEYID_NONE) {
		int ret = ccmm_mee_encrypt(m->mee, keyid, page_pa + s, d->bytes + s, d->bytes + s, len);

		if (ret)
			return ret;
	}
	set_line_keys(d, s >> CCMM_LINE_SHIFT, len >> CCMM_LINE_SHIFT, keyid);
	return 0;
}

/* Bytes [@s, @e) of the page written under @keyid from @in. */
static int write_range(struct ccmm_machine *m, struct ccmm_page_data *d, uint64_t page_pa, unsigned s, unsigned e,
		       const uint8_t *in, unsigned keyid)
{
	int ret;

	if ((s & (CCMM_LINE_SIZE - 1)) || e - s < CCMM_LINE_SIZE) {
		unsigned off = s & (CCMM_LINE_SIZE - 1), n = CCMM_MIN((unsigned)CCMM_LINE_SIZE - off, e - s);

		ret = write_partial(m, d, page_pa, s >> CCMM_LINE_SHIFT, off, in, n, keyid);
		if (ret)
			return ret;
		s += n;
		in += n;
	}
	if (e - s >= CCMM_LINE_SIZE) {
		unsigned full = (e - s) & ~(unsigned)(CCMM_LINE_SIZE - 1);

		if (m->phys.mee_mode == CCMM_MEE_EAGER && keyid != CCMM_KEYID_NONE) {
			ret = ccmm_mee_encrypt(m->mee, keyid, page_pa + s, in, d->bytes + s, full);
			if (ret)
				return ret;
		} else {
			memcpy(d->bytes + s, in, full);
		}
		set_line_keys(d, s >> CCMM_LINE_SHIFT, full >> CCMM_LINE_SHIFT, keyid);
		s += full;
		in += full;
	}
	if (s < e)
		return write_partial(m, d, page_pa, s >> CCMM_LINE_SHIFT, 0, in, e - s, keyid);
	return 0;
}

/* ---- the read digest ------------------------------------------------------------ */

static inline uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void digest_read(struct ccmm_phys *ph, uint64_t pa, unsigned keyid, const uint8_t *buf, size_t len, bool mm)
{
	uint64_t h = mix64(pa ^ ((uint64_t)keyid << 56) ^ ((uint64_t)len << 40));
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;

		memcpy(&w, buf + i, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ buf[i]) * 0x100000001b3ULL;
	/* a sum, so that reads on several threads give the same digest in any order */
	atomic_fetch_add_explicit(&ph->digest_sum, mix64(h), memory_order_relaxed);
	atomic_fetch_add_explicit(&ph->digest_reads, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&ph->digest_bytes, len, memory_order_relaxed);
	if (mm)
		atomic_fetch_add_explicit(&ph->digest_mismatched, 1, memory_order_relaxed);
}

void ccmm_phys_digest_add(struct ccmm_machine *m, uint64_t pa, unsigned keyid, const void *buf, size_t len,
			  bool mismatched)
{
	digest_read(&m->phys, pa, keyid, buf, len, mismatched);
}

void ccmm_phys_digest_start(struct ccmm_machine *m)
{
	struct ccmm_phys *ph = &m->phys;

	atomic_store(&ph->digest_sum, 0);
	atomic_store(&ph->digest_reads, 0);
	atomic_store(&ph->digest_bytes, 0);
	atomic_store(&ph->digest_mismatched, 0);
	ph->digest_on = true;
}

void ccmm_phys_digest(struct ccmm_machine *m, struct ccmm_read_digest *out)
{
	out->sum = atomic_load(&m->phys.digest_sum);
	out->reads = atomic_load(&m->phys.digest_reads);
	out->bytes = atomic_load(&m->phys.digest_bytes);
	out->mismatched = atomic_load(&m->phys.digest_mismatched);
}

/* ---- moving bytes ---------------------------------------------------------------- */

static int read_page(struct ccmm_machine *m, struct ccmm_page *pg, uint64_t pa, uint8_t *buf, size_t len, unsigned keyid,
		     bool *mismatch)
{
	unsigned s = (unsigned)(pa & (CCMM_PAGE_SIZE - 1));
	bool mm = false;
	int ret = 0;

	if (!pg || !pg->data)
		memset(buf, 0, len); /* never written: zeros */
	else
		ret = read_range(m, pg->data, pa - s, s, s + (unsigned)len, keyid, buf, &mm);
	if (ret)
		return ret;
	if (mismatch)
		*mismatch = mm;
	if (m->phys.digest_on)
		digest_read(&m->phys, pa, keyid, buf, len, mm);
	return 0;
}

int ccmm_page_rw(struct ccmm_machine *m, struct ccmm_page *pg, uint64_t pa, void *buf, size_t len, bool write,
		 unsigned keyid, bool *mismatch)
{
	unsigned s = (unsigned)(pa & (CCMM_PAGE_SIZE - 1));
	struct ccmm_page_data *d;

	if (mismatch)
		*mismatch = false;
	if (!len)
		return 0;
	if (s + len > CCMM_PAGE_SIZE || keyid >= CCMM_NR_KEYIDS)
		return -EINVAL;
	if (!write)
		return read_page(m, pg, pa, buf, len, keyid, mismatch);
	d = page_data(m, ccmm_page_chunk(pg, pa), pg, pa);
	if (!d)
		return -ENOMEM;
	return write_range(m, d, pa - s, s, s + (unsigned)len, buf, keyid);
}

/* Part of one line, @n bytes from @spa (page @spg) to @dpa (data @dd), through a buffer; *@mm |= mismatch. */
static int copy_part_line(struct ccmm_machine *m, struct ccmm_page_data *dd, uint64_t dpa, struct ccmm_page *spg,
			  uint64_t spa, size_t n, unsigned dkey, unsigned skey, bool *mm)
{
	unsigned ds = (unsigned)(dpa & (CCMM_PAGE_SIZE - 1));
	uint8_t tmp[CCMM_LINE_SIZE];
	bool m1 = false;
	int ret = read_page(m, spg, spa, tmp, n, skey, &m1);

	if (!ret)
		ret = write_range(m, dd, dpa - ds, ds, ds + (unsigned)n, tmp, dkey);
	*mm |= m1;
	return ret;
}

/*
 * ccmm_page_copy of a whole page onto another whole page whose source
 * lines all carry one key that reads as their stored bytes: 1 when done
 * (*@mismatch set), 0 when the case does not hold (nothing done), or
 * -errno. Apart from the general case: its prologue stays small.
 */
static inline int page_copy_whole(struct ccmm_machine *m, struct ccmm_page_data *dd, uint64_t dpa, unsigned dkey,
				  const struct ccmm_page_data *sd, uint64_t spa, unsigned skey, bool *mismatch)
{
	unsigned lk = sd->line_key[0];
	bool mm;

	if (lk == LINE_ZERO || !stored_is_view(m, lk, skey) || !lines_keyed(sd, 0, CCMM_LINES_PER_PAGE, lk))
		return 0;
	mm = lk != skey;
	if (m->phys.digest_on)
		digest_read(&m->phys, spa, skey, sd->bytes, CCMM_PAGE_SIZE, mm);
	if (m->phys.mee_mode == CCMM_MEE_EAGER && dkey != CCMM_KEYID_NONE) {
		int ret = ccmm_mee_encrypt(m->mee, dkey, dpa, sd->bytes, dd->bytes, CCMM_PAGE_SIZE);

		if (ret)
			return ret;
	} else {
		size_t n = CCMM_PAGE_SIZE;

		/* the library's memcpy, as the benchmark's baseline calls it, not an inline expansion */
		__asm__("" : "+r"(n));
		memcpy(dd->bytes, sd->bytes, n);
	}
	memset(dd->line_key, (int)dkey, CCMM_LINES_PER_PAGE);
	if (mismatch)
		*mismatch = mm;
	return 1;
}

static __attribute__((noinline)) int page_copy_general(struct ccmm_machine *m, struct ccmm_page *dpg, uint64_t dpa,
						       unsigned dkey, struct ccmm_page *spg, uint64_t spa, unsigned skey,
						       size_t len, bool *mismatch);

int ccmm_page_copy(struct ccmm_machine *m, struct ccmm_page *dpg, uint64_t dpa, unsigned dkey, struct ccmm_page *spg,
		   uint64_t spa, unsigned skey, size_t len, bool *mismatch)
{
	/* a whole page onto a whole page (a bounce's pages): the general case's test for partial lines left out */
	if (len == CCMM_PAGE_SIZE && !((dpa | spa) & (CCMM_PAGE_SIZE - 1)) && dkey < CCMM_NR_KEYIDS &&
	    skey < CCMM_NR_KEYIDS && spg && dpg != spg && spg->data && dpg->data) {
		int ret = page_copy_whole(m, dpg->data, dpa, dkey, spg->data, spa, skey, mismatch);

		if (ret)
			return ret < 0 ? ret : 0;
	}
	return page_copy_general(m, dpg, dpa, dkey, spg, spa, skey, len, mismatch);
}

static int page_copy_general(struct ccmm_machine *m, struct ccmm_page *dpg, uint64_t dpa, unsigned dkey,
			     struct ccmm_page *spg, uint64_t spa, unsigned skey, size_t len, bool *mismatch)
{
	unsigned ds = (unsigned)(dpa & (CCMM_PAGE_SIZE - 1)), ss = (unsigned)(spa & (CCMM_PAGE_SIZE - 1));
	struct ccmm_page_data *dd;
	bool mm = false;
	int ret;

	if (mismatch)
		*mismatch = false;
	if (!len)
		return 0;
	if (ds + len > CCMM_PAGE_SIZE || ss + len > CCMM_PAGE_SIZE || dkey >= CCMM_NR_KEYIDS || skey >= CCMM_NR_KEYIDS)
		return -EINVAL;
	if (dpg == spg || !spg || !spg->data || ((ds ^ ss) & (CCMM_LINE_SIZE - 1))) {
		/* the general case: through a buffer, as a read and a write */
		uint8_t tmp[CCMM_PAGE_SIZE];

		ret = read_page(m, spg, spa, tmp, len, skey, mismatch);
		return ret ? ret : ccmm_page_rw(m, dpg, dpa, tmp, len, true, dkey, NULL);
	}
	dd = page_data(m, ccmm_page_chunk(dpg, dpa), dpg, dpa);
	if (!dd)
		return -ENOMEM;
	/* the lines line up: whole lines go from page to page in one pass */
	if ((ss & (CCMM_LINE_SIZE - 1)) || len < CCMM_LINE_SIZE) {
		unsigned n = CCMM_MIN((unsigned)(CCMM_LINE_SIZE - (ss & (CCMM_LINE_SIZE - 1))), (unsigned)len);

		ret = copy_part_line(m, dd, dpa, spg, spa, n, dkey, skey, &mm);
		if (ret)
			return ret;
		ds += n;
		ss += n;
		len -= n;
	}
	if (len >= CCMM_LINE_SIZE) {
		unsigned full = (unsigned)len & ~(unsigned)(CCMM_LINE_SIZE - 1);
		bool m1 = false;

		const struct ccmm_page_data *sd = spg->data;
		unsigned li = ss >> CCMM_LINE_SHIFT, lk = sd->line_key[li];

		if (lk != LINE_ZERO && stored_is_view(m, lk, skey) && lines_keyed(sd, li, full >> CCMM_LINE_SHIFT, lk)) {
			/* the source's stored bytes are what it reads as: one pass from page to page */
			m1 = lk != skey;
			if (m->phys.digest_on)
				digest_read(&m->phys, (spa & ~(CCMM_PAGE_SIZE - 1)) + ss, skey, sd->bytes + ss, full, m1);
			if (m->phys.mee_mode == CCMM_MEE_EAGER && dkey != CCMM_KEYID_NONE) {
				ret = ccmm_mee_encrypt(m->mee, dkey, (dpa & ~(CCMM_PAGE_SIZE - 1)) + ds, sd->bytes + ss, dd->bytes + ds,
						       full);
				if (ret)
					return ret;
			} else {
				memcpy(dd->bytes + ds, sd->bytes + ss, full);
			}
			set_line_keys(dd, ds >> CCMM_LINE_SHIFT, full >> CCMM_LINE_SHIFT, dkey);
		} else {
			ret = read_range(m, sd, spa - (spa & (CCMM_PAGE_SIZE - 1)), ss, ss + full, skey, dd->bytes + ds, &m1);
			if (ret)
				return ret;
			if (m->phys.digest_on)
				digest_read(&m->phys, (spa & ~(CCMM_PAGE_SIZE - 1)) + ss, skey, dd->bytes + ds, full, m1);
			ret = store_lines(m, dd, dpa - (dpa & (CCMM_PAGE_SIZE - 1)), ds, full, dkey);
			if (ret)
				return ret;
		}
		mm |= m1;
		ds += full;
		ss += full;
		len -= full;
	}
	if (len) {
		ret = copy_part_line(m, dd, (dpa & ~(CCMM_PAGE_SIZE - 1)) + ds, spg, (spa & ~(CCMM_PAGE_SIZE - 1)) + ss, len, dkey,
				     skey, &mm);
		if (ret)
			return ret;
	}
	if (mismatch)
		*mismatch = mm;
	return 0;
}

int ccmm_phys_rw(struct ccmm_machine *m, uint64_t pa, void *buf, size_t len, bool write, unsigned keyid,
		 bool *mismatch)
{
	struct ccmm_phys_range *r;
	struct ccmm_chunk *c;

	if (mismatch)
		*mismatch = false;
	if (!len)
		return 0;
	if ((pa >> CCMM_PAGE_SHIFT) != ((pa + len - 1) >> CCMM_PAGE_SHIFT) || keyid >= CCMM_NR_KEYIDS)
		return -EINVAL;
	r = ccmm_phys_range_of(m, pa);
	if (!r)
		return -EFAULT;
	c = ccmm_phys_chunk_in(m, r, pa, write);
	if (!c) {
		if (write)
			return -ENOMEM;
		return read_page(m, NULL, pa, buf, len, keyid, mismatch); /* untouched chunk: zeros */
	}
	return ccmm_page_rw(m, &c->page[(pa >> CCMM_PAGE_SHIFT) & (CCMM_CHUNK_PAGES - 1)], pa, buf, len, write, keyid,
			    mismatch);
}
