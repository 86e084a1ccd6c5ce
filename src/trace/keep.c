// SPDX-License-Identifier: MIT
/* Kept references: a decoded trace in memory, a byte a reference while it can be (see trace.h). */
#include "trace/trace.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define CHUNK_SHIFT 21
#define CHUNK (1u << CHUNK_SHIFT)  /* bytes per chunk (a huge page) */
#define PER32 (CHUNK / 4)          /* 4-byte values per chunk */
#define VALUES (1u << 16)          /* code_of entries: every 16-bit value */
#define CODES 255                  /* codes a block has: 1..255 (0 in code_of: none) */

void ccmm_keep_init(struct ccmm_trace_keep *k)
{
	memset(k, 0, sizeof(*k));
	k->width = 1;
}

static void free_parts(void **chunks, size_t nr_chunks, struct ccmm_keep_block *blocks, size_t nr_blocks,
		       uint8_t *code_of)
{
	for (size_t i = 0; i < nr_chunks; i++)
		free(chunks[i]);
	free(chunks);
	for (size_t i = 0; i < nr_blocks; i++)
		free(blocks[i].raw);
	free(blocks);
	free(code_of);
}

void ccmm_keep_free(struct ccmm_trace_keep *k)
{
	free_parts(k->chunks, k->nr_chunks, k->blocks, k->nr_blocks, k->code_of);
	ccmm_keep_init(k);
}

static void *chunk_alloc(void)
{
	void *c = aligned_alloc(CHUNK, CHUNK);

	if (c)
		madvise(c, CHUNK, MADV_HUGEPAGE); /* a hint: one fault per 2 MiB filling it */
	return c;
}

/* Chunk @i allocated (they are filled in order, so @i is at most one past the last). 0 or -ENOMEM. */
static int chunk_at(void ***chunks, size_t *nr, size_t *cap, size_t i)
{
	if (i < *nr)
		return 0;
	if (ccmm_grow((void **)chunks, cap, *nr + 1, sizeof(**chunks)))
		return -ENOMEM;
	(*chunks)[*nr] = chunk_alloc();
	if (!(*chunks)[*nr])
		return -ENOMEM;
	(*nr)++;
	return 0;
}

uint32_t ccmm_keep_at(const struct ccmm_trace_keep *k, uint64_t i)
{
	const struct ccmm_keep_block *b;

	if (k->width == 4)
		return ((const uint32_t *)k->chunks[i / PER32])[i % PER32];
	b = &k->blocks[i >> CCMM_KEEP_BLOCK_SHIFT];
	if (b->raw)
		return b->raw[i & (CCMM_KEEP_BLOCK - 1)];
	return b->dict[((const uint8_t *)k->chunks[i >> CHUNK_SHIFT])[i & (CHUNK - 1)]];
}

/* From coded 16-bit values to 4 bytes each: every reference rewritten. 0 or -ENOMEM (nothing changed). */
static int widen(struct ccmm_trace_keep *k)
{
	void **nc = NULL;
	size_t nr = 0, cap = 0;

	for (uint64_t i = 0; i < k->n; i++) {
		if (chunk_at(&nc, &nr, &cap, (size_t)(i / PER32))) {
			free_parts(nc, nr, NULL, 0, NULL);
			return -ENOMEM;
		}
		((uint32_t *)nc[i / PER32])[i % PER32] = ccmm_keep_at(k, i);
	}
	free_parts(k->chunks, k->nr_chunks, k->blocks, k->nr_blocks, k->code_of);
	k->chunks = nc;
	k->nr_chunks = nr;
	k->cap_chunks = cap;
	k->blocks = NULL;
	k->nr_blocks = k->cap_blocks = 0;
	k->code_of = NULL;
	k->width = 4;
	k->code_gen++;
	k->room = 0;
	k->at = NULL;
	k->raw_at = NULL;
	return 0;
}

/* The next block, at reference k->n (a multiple of CCMM_KEEP_BLOCK): coded, empty. 0 or -ENOMEM. */
static int start_block(struct ccmm_trace_keep *k)
{
	struct ccmm_keep_block *b;

	if (!k->code_of && !(k->code_of = calloc(VALUES, sizeof(*k->code_of))))
		return -ENOMEM;
	if (ccmm_grow((void **)&k->blocks, &k->cap_blocks, k->nr_blocks + 1, sizeof(*k->blocks)) ||
	    chunk_at(&k->chunks, &k->nr_chunks, &k->cap_chunks, (size_t)(k->n >> CHUNK_SHIFT)))
		return -ENOMEM;
	if (k->nr_blocks) {
		/* the last block's codes are not this one's */
		b = &k->blocks[k->nr_blocks - 1];
		for (unsigned c = 1; c <= b->nr_dict; c++)
			k->code_of[b->dict[c]] = 0;
	}
	b = &k->blocks[k->nr_blocks++];
	b->raw = NULL;
	b->nr_dict = 0;
	k->at = (uint8_t *)k->chunks[k->n >> CHUNK_SHIFT] + (k->n & (CHUNK - 1));
	k->raw_at = NULL;
	k->room = CCMM_KEEP_BLOCK;
	k->code_gen++;
	return 0;
}

/* The current block meets its 256th value: its references so far, and the rest, 2 bytes each. 0 or -ENOMEM. */
static int block_to_raw(struct ccmm_trace_keep *k, struct ccmm_keep_block *b)
{
	size_t done = CCMM_KEEP_BLOCK - k->room;
	const uint8_t *codes = k->at - done;
	uint16_t *raw = malloc(CCMM_KEEP_BLOCK * sizeof(*raw));

	if (!raw)
		return -ENOMEM;
	for (size_t i = 0; i < done; i++)
		raw[i] = b->dict[codes[i]];
	b->raw = raw;
	k->raw_at = raw + done;
	k->code_gen++;
	return 0;
}

int ccmm_keep_put(struct ccmm_trace_keep *k, uint32_t v)
{
	struct ccmm_keep_block *b;
	uint8_t c = 0;
	int ret;

	if (v >> 31)
		return -EINVAL;
	if (k->width == 1 && v > UINT16_MAX && (ret = widen(k)))
		return ret;
	if (k->width == 4) {
		if (chunk_at(&k->chunks, &k->nr_chunks, &k->cap_chunks, (size_t)(k->n / PER32)))
			return -ENOMEM;
		((uint32_t *)k->chunks[k->n / PER32])[k->n % PER32] = v;
		k->n++;
		return 0;
	}
	if (!k->room && (ret = start_block(k)))
		return ret;
	b = &k->blocks[k->nr_blocks - 1];
	if (!b->raw) {
		c = k->code_of[v];
		if (!c) {
			if (b->nr_dict < CODES) {
				c = (uint8_t)++b->nr_dict;
				b->dict[c] = (uint16_t)v;
				k->code_of[v] = c;
			} else if ((ret = block_to_raw(k, b))) {
				return ret;
			}
		}
	}
	if (b->raw)
		*k->raw_at++ = (uint16_t)v;
	else
		*k->at++ = c;
	k->room--;
	k->n++;
	return 0;
}

int ccmm_keep_put16(struct ccmm_trace_keep *k, const uint16_t *v, size_t n)
{
	size_t i = 0;
	int ret;

	while (i < n) {
		size_t m = CCMM_MIN(n - i, k->room), j = 0;

		if (k->width == 1 && m && !k->raw_at) {
			/* in locals: a byte store could be any field of *k to the compiler */
			const uint8_t *code_of = k->code_of;
			uint8_t *at = k->at;

#pragma GCC unroll 4
			for (; j < m; j++) {
				uint8_t c = code_of[v[i + j]];

				if (!c)
					break;
				at[j] = c;
			}
			k->at = at + j;
		} else if (k->width == 1 && m) {
			memcpy(k->raw_at, v + i, m * sizeof(*v));
			k->raw_at += m;
			j = m;
		}
		k->room -= j;
		k->n += j;
		i += j;
		if (i < n) {
			/* a value new to the block, a new block, 4-byte values */
			if ((ret = ccmm_keep_put(k, v[i])))
				return ret;
			i++;
		}
	}
	return 0;
}

size_t ccmm_keep_get(const struct ccmm_trace_keep *k, uint64_t from, uint64_t max, struct ccmm_keep_piece *p)
{
	const struct ccmm_keep_block *b;
	uint64_t off, n;

	if (from >= k->n)
		return 0;
	if (k->width == 4) {
		off = from % PER32;
		n = CCMM_MIN(CCMM_MIN(max, PER32 - off), k->n - from);
		p->width = 4;
		p->refs = (const uint32_t *)k->chunks[from / PER32] + off;
		p->dict = NULL;
	} else {
		b = &k->blocks[from >> CCMM_KEEP_BLOCK_SHIFT];
		off = from & (CCMM_KEEP_BLOCK - 1);
		n = CCMM_MIN(CCMM_MIN(max, CCMM_KEEP_BLOCK - off), k->n - from);
		if (b->raw) {
			p->width = 2;
			p->refs = b->raw + off;
			p->dict = NULL;
		} else {
			p->width = 1;
			p->refs = (const uint8_t *)k->chunks[from >> CHUNK_SHIFT] + (from & (CHUNK - 1));
			p->dict = b->dict;
		}
	}
	p->n = (size_t)n;
	return p->n;
}

uint64_t ccmm_keep_bytes(const struct ccmm_trace_keep *k)
{
	uint64_t n = (uint64_t)k->nr_chunks * CHUNK + (uint64_t)k->nr_blocks * sizeof(*k->blocks);

	for (size_t i = 0; i < k->nr_blocks; i++)
		n += k->blocks[i].raw ? CCMM_KEEP_BLOCK * sizeof(uint16_t) : 0;
	return n + (k->code_of ? VALUES * sizeof(*k->code_of) : 0);
}
