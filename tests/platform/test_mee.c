// SPDX-License-Identifier: MIT
/*
 * The memory-encryption engine and the two ways physical memory keeps its
 * data:
 *  - ccmm_mee_encrypt/decrypt over runs of lines is AES-128-XTS with each
 *    64-byte line a data unit tweaked by its address, byte for byte what
 *    libcrypto's EVP_aes_128_xts gives line by line, also when the tweaks
 *    come from the thread's tweak cache;
 *  - random reads, partial and whole-line writes and page copies under
 *    random keys give the same bytes and the same "written under another
 *    key" flags in the eager mode, the on-demand mode and a reference
 *    model written here (ciphertext per line, EVP XTS per line);
 *  - the read digest is the same for the same reads in both modes and
 *    changes when one byte read changes;
 *  - the mode can only be chosen before data is written;
 *  - a 64 TiB machine allocates nothing per modeled byte.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "platform/platform.h"

static struct ccmm_machine *make_machine(const char *text, uint64_t seed, enum ccmm_mee_mode mode)
{
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	if (text)
		assert_int_equal(ccmm_platform_parse("t.ini", text, &p, &err), 0);
	else
		assert_int_equal(ccmm_platform_default(&p, &err), 0);
	assert_int_equal(ccmm_machine_create(p, seed, &m), 0);
	assert_int_equal(ccmm_phys_set_mee_mode(m, mode), 0);
	return m;
}

/* The engine's key for @keyid: SHA-256 over a fixed label, the seed and the key ID (ccmm_mee_create). */
static void engine_key(uint64_t seed, unsigned keyid, uint8_t key[32])
{
	uint8_t msg[32] = { 0 };
	unsigned int len = 0;

	memcpy(msg, "ccmm-mee-key", 12);
	memcpy(msg + 16, &seed, sizeof(seed));
	msg[24] = (uint8_t)keyid;
	assert_true(EVP_Digest(msg, sizeof(msg), key, &len, EVP_sha256(), NULL));
	if (!memcmp(key, key + 16, 16))
		key[31] ^= 1;
}

/* libcrypto's AES-128-XTS of one 64-byte line at @pa, the IV being the address in little-endian order. */
static void evp_xts_line(const uint8_t key[32], uint64_t pa, const uint8_t *in, uint8_t *out, int enc)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	uint8_t iv[16] = { 0 };
	int outl = 0;

	for (int i = 0; i < 8; i++)
		iv[i] = (uint8_t)(pa >> (8 * i));
	assert_non_null(c);
	assert_true(EVP_CipherInit_ex(c, EVP_aes_128_xts(), NULL, key, iv, enc));
	assert_true(EVP_CipherUpdate(c, out, &outl, in, 64));
	assert_int_equal(outl, 64);
	EVP_CIPHER_CTX_free(c);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_engine_is_aes_xts_per_line(void **state)
{
	struct ccmm_mee *mee;
	uint64_t seed = 5, s = 0x1234567;
	enum { LINES = 150 }; /* more than a page: the engine works a page at a time */
	uint8_t *in = malloc(LINES * 64), *out = malloc(LINES * 64), *back = malloc(LINES * 64), ref[64];

	(void)state;
	assert_int_equal(ccmm_mee_create(seed, &mee), 0);
	for (unsigned keyid = 1; keyid < CCMM_NR_KEYIDS; keyid++) {
		uint8_t key[32];
		/* addresses whose tweaks exercise the carry out of bit 127 and high address bits */
		uint64_t pa = ((rnd(&s) & 0xfffffffffULL) << 12 | (rnd(&s) & 0xfc0)) | (keyid & 1 ? 1ULL << 51 : 0);
		size_t lines = 1 + rnd(&s) % LINES;

		engine_key(seed, keyid, key);
		for (size_t i = 0; i < lines * 64; i++)
			in[i] = (uint8_t)rnd(&s);
		assert_int_equal(ccmm_mee_encrypt(mee, keyid, pa, in, out, lines * 64), 0);
		for (size_t l = 0; l < lines; l++) {
			evp_xts_line(key, pa + l * 64, in + l * 64, ref, 1);
			assert_memory_equal(out + l * 64, ref, 64);
		}
		/* decryption inverts it, also in place */
		assert_int_equal(ccmm_mee_decrypt(mee, keyid, pa, out, back, lines * 64), 0);
		assert_memory_equal(back, in, lines * 64);
		assert_int_equal(ccmm_mee_decrypt(mee, keyid, pa, out, out, lines * 64), 0);
		assert_memory_equal(out, in, lines * 64);
		/* the one-line calls agree */
		assert_int_equal(ccmm_mee_encrypt_line(mee, keyid, pa + 64, in + 64, ref), 0);
		evp_xts_line(key, pa + 64, in + 64, back, 1);
		assert_memory_equal(ref, back, 64);
	}
	/* key ID 0 copies; misaligned addresses or lengths and unknown keys are refused */
	assert_int_equal(ccmm_mee_encrypt(mee, CCMM_KEYID_NONE, 64, in, out, 128), 0);
	assert_memory_equal(out, in, 128);
	assert_int_equal(ccmm_mee_encrypt(mee, 1, 32, in, out, 64), -EINVAL);
	assert_int_equal(ccmm_mee_encrypt(mee, 1, 64, in, out, 65), -EINVAL);
	assert_int_equal(ccmm_mee_decrypt(mee, CCMM_NR_KEYIDS, 64, in, out, 64), -EINVAL);
	ccmm_mee_destroy(mee);
	free(in);
	free(out);
	free(back);
}

/* Every line of @len bytes at @pa that the engine encrypted into @out is EVP's XTS of that line under @key. */
static void check_lines(const uint8_t key[32], uint64_t pa, const uint8_t *in, const uint8_t *out, size_t len)
{
	uint8_t ref[64];

	for (size_t l = 0; l < len / 64; l++) {
		evp_xts_line(key, pa + l * 64, in + l * 64, ref, 1);
		assert_memory_equal(out + l * 64, ref, 64);
	}
}

/*
 * The thread's tweak cache (whole pages' tweaks, kept by page and key)
 * never serves a stale tweak: the same page under two keys, a page after
 * others evicted it, runs starting inside a cached page, short runs that
 * do not fill it, and a second engine (other keys) at the same addresses
 * in the same thread all agree with EVP line by line.
 */
static void test_tweak_cache_serves_only_its_page_and_key(void **state)
{
	struct ccmm_mee *a, *b;
	uint8_t ka1[32], ka2[32], kb1[32];
	uint64_t s = 99, pa = 0x7654321000ULL;
	size_t n = 4096;
	uint8_t *in = malloc(n), *out = malloc(n);

	(void)state;
	assert_non_null(in);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		in[i] = (uint8_t)rnd(&s);
	assert_int_equal(ccmm_mee_create(1, &a), 0);
	engine_key(1, 1, ka1);
	engine_key(1, 2, ka2);
	/* a whole page under key 1 fills the cache; key 2 at the same page must not use it */
	assert_int_equal(ccmm_mee_encrypt(a, 1, pa, in, out, n), 0);
	check_lines(ka1, pa, in, out, n);
	assert_int_equal(ccmm_mee_encrypt(a, 2, pa, in, out, n), 0);
	check_lines(ka2, pa, in, out, n);
	/* runs inside the cached page, long and short */
	assert_int_equal(ccmm_mee_encrypt(a, 1, pa + 640, in, out, 1024), 0);
	check_lines(ka1, pa + 640, in, out, 1024);
	assert_int_equal(ccmm_mee_encrypt(a, 1, pa + 4032, in, out, 64), 0);
	check_lines(ka1, pa + 4032, in, out, 64);
	/* short runs on pages never ciphered whole, then many pages that evict the first */
	for (uint64_t p = 1; p <= 300; p++) {
		uint64_t at = pa + p * 4096 + (p % 7) * 64;
		size_t len = p % 3 ? 64 * (1 + p % 5) : 4096 - (p % 7) * 64;

		assert_int_equal(ccmm_mee_encrypt(a, 1 + (unsigned)(p & 1), at, in, out, len), 0);
		check_lines(p & 1 ? ka2 : ka1, at, in, out, len);
	}
	assert_int_equal(ccmm_mee_encrypt(a, 1, pa, in, out, n), 0);
	check_lines(ka1, pa, in, out, n);
	/* another engine, other keys, the same page in the same thread */
	assert_int_equal(ccmm_mee_create(2, &b), 0);
	engine_key(2, 1, kb1);
	assert_int_equal(ccmm_mee_encrypt(b, 1, pa, in, out, n), 0);
	check_lines(kb1, pa, in, out, n);
	assert_int_equal(ccmm_mee_encrypt(a, 1, pa, in, out, n), 0);
	check_lines(ka1, pa, in, out, n);
	ccmm_mee_destroy(b);
	ccmm_mee_destroy(a);
	free(in);
	free(out);
}

/* ---- the reference model: ciphertext per line, written here with EVP's XTS ------------------------- */

#define PAGES 3
#define BASE (4 * CCMM_GiB) /* a page-aligned address in node 0 of the platform below */

struct ref {
	uint8_t key[CCMM_NR_KEYIDS][32];
	uint8_t ct[PAGES * 4096];          /* what DRAM holds */
	int line_key[PAGES * 4096 / 64];   /* -1: never written, reads as zeros */
};

static void ref_read(struct ref *r, uint64_t off, uint8_t *buf, size_t len, unsigned keyid, bool *mm)
{
	*mm = false;
	for (size_t i = 0; i < len;) {
		uint64_t line = (off + i) / 64;
		unsigned lo = (unsigned)((off + i) % 64), n = (unsigned)CCMM_MIN(64 - lo, len - i);
		uint8_t pt[64];

		if (r->line_key[line] < 0) {
			memset(pt, 0, 64);
		} else {
			if ((unsigned)r->line_key[line] != keyid)
				*mm = true;
			if (keyid)
				evp_xts_line(r->key[keyid], BASE + line * 64, r->ct + line * 64, pt, 0);
			else
				memcpy(pt, r->ct + line * 64, 64);
		}
		memcpy(buf + i, pt + lo, n);
		i += n;
	}
}

static void ref_write(struct ref *r, uint64_t off, const uint8_t *buf, size_t len, unsigned keyid)
{
	for (size_t i = 0; i < len;) {
		uint64_t line = (off + i) / 64;
		unsigned lo = (unsigned)((off + i) % 64), n = (unsigned)CCMM_MIN(64 - lo, len - i);
		uint8_t pt[64];
		bool mm;

		ref_read(r, line * 64, pt, 64, keyid, &mm); /* the memory controller's read-modify-write */
		memcpy(pt + lo, buf + i, n);
		if (keyid)
			evp_xts_line(r->key[keyid], BASE + line * 64, pt, r->ct + line * 64, 1);
		else
			memcpy(r->ct + line * 64, pt, 64);
		r->line_key[line] = (int)keyid;
		i += n;
	}
}

static struct ccmm_page *page_of(struct ccmm_machine *m, uint64_t pa)
{
	struct ccmm_page *pg = ccmm_phys_page(m, pa, true);

	assert_non_null(pg);
	return pg;
}

static void test_modes_agree_with_reference(void **state)
{
	static const char plat[] = "[platform]\nmode=sev\n[node:0]\nmem=8g\n";
	struct ccmm_machine *eager = make_machine(plat, 11, CCMM_MEE_EAGER);
	struct ccmm_machine *lazy = make_machine(plat, 11, CCMM_MEE_ON_DEMAND);
	struct ref *r = calloc(1, sizeof(*r));
	struct ccmm_read_digest de, dl;
	uint64_t s = 0xfeedface;
	uint8_t a[4096], b[4096], c[4096];
	size_t reads = 0, crossed = 0;

	(void)state;
	for (unsigned k = 0; k < CCMM_NR_KEYIDS; k++)
		engine_key(11, k, r->key[k]);
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(r->line_key); i++)
		r->line_key[i] = -1;
	ccmm_phys_digest_start(eager);
	ccmm_phys_digest_start(lazy);
	for (int op = 0; op < 6000; op++) {
		unsigned page = (unsigned)(rnd(&s) % PAGES), keyid = (unsigned)(rnd(&s) % 4), kind = (unsigned)(rnd(&s) % 8);
		/* lengths from a byte to a whole page; offsets on and off line boundaries */
		size_t len = kind & 1 ? 1 + rnd(&s) % 200 : 64 * (1 + rnd(&s) % 64);
		uint64_t off = (rnd(&s) & 1 ? rnd(&s) % 4096 : (rnd(&s) % 64) * 64);
		uint64_t pa;
		bool me, ml, mr;

		if (off + len > 4096)
			len = 4096 - off;
		off += (uint64_t)page * 4096;
		pa = BASE + off;
		if (kind < 3) { /* write */
			for (size_t i = 0; i < len; i++)
				a[i] = (uint8_t)rnd(&s);
			assert_int_equal(ccmm_phys_rw(eager, pa, a, len, true, keyid, NULL), 0);
			assert_int_equal(ccmm_phys_rw(lazy, pa, a, len, true, keyid, NULL), 0);
			ref_write(r, off, a, len, keyid);
		} else if (kind < 6) { /* read */
			assert_int_equal(ccmm_phys_rw(eager, pa, a, len, false, keyid, &me), 0);
			assert_int_equal(ccmm_phys_rw(lazy, pa, b, len, false, keyid, &ml), 0);
			ref_read(r, off, c, len, keyid, &mr);
			assert_memory_equal(a, c, len);
			assert_memory_equal(b, c, len);
			assert_int_equal(me, mr);
			assert_int_equal(ml, mr);
			reads++;
			crossed += mr;
		} else { /* a copy to another place, under another key */
			unsigned dpage = (unsigned)(rnd(&s) % PAGES), dkey = (unsigned)(rnd(&s) % 4);
			/* the destination lines up with the source half the time */
			uint64_t doff = rnd(&s) & 1 ? off % 4096 : rnd(&s) % (4096 - len + 1);
			uint64_t dpa = BASE + (uint64_t)dpage * 4096 + doff;

			assert_int_equal(ccmm_page_copy(eager, page_of(eager, dpa), dpa, dkey, page_of(eager, pa), pa, keyid, len,
							&me), 0);
			assert_int_equal(ccmm_page_copy(lazy, page_of(lazy, dpa), dpa, dkey, page_of(lazy, pa), pa, keyid, len,
							&ml), 0);
			ref_read(r, off, c, len, keyid, &mr);
			ref_write(r, dpa - BASE, c, len, dkey);
			assert_int_equal(me, mr);
			assert_int_equal(ml, mr);
		}
	}
	/* every byte of every page, under every key, once more */
	for (unsigned keyid = 0; keyid < 4; keyid++) {
		bool me, ml, mr;

		for (unsigned page = 0; page < PAGES; page++) {
			assert_int_equal(ccmm_phys_rw(eager, BASE + page * 4096, a, 4096, false, keyid, &me), 0);
			assert_int_equal(ccmm_phys_rw(lazy, BASE + page * 4096, b, 4096, false, keyid, &ml), 0);
			ref_read(r, page * 4096, c, 4096, keyid, &mr);
			assert_memory_equal(a, c, 4096);
			assert_memory_equal(b, c, 4096);
		}
	}
	assert_true(reads > 1000);
	assert_true(crossed > 100); /* reads of lines written under another key were checked */
	ccmm_phys_digest(eager, &de);
	ccmm_phys_digest(lazy, &dl);
	assert_true(de.reads > reads);
	assert_int_equal(de.sum, dl.sum);
	assert_int_equal(de.reads, dl.reads);
	assert_int_equal(de.bytes, dl.bytes);
	assert_int_equal(de.mismatched, dl.mismatched);
	/* one byte read differently changes the digest */
	a[0] = 1;
	assert_int_equal(ccmm_phys_rw(eager, BASE, a, 1, true, 0, NULL), 0);
	a[0] = 2;
	assert_int_equal(ccmm_phys_rw(lazy, BASE, a, 1, true, 0, NULL), 0);
	assert_int_equal(ccmm_phys_rw(eager, BASE, a, 1, false, 0, NULL), 0);
	assert_int_equal(ccmm_phys_rw(lazy, BASE, a, 1, false, 0, NULL), 0);
	ccmm_phys_digest(eager, &de);
	ccmm_phys_digest(lazy, &dl);
	assert_int_equal(de.reads, dl.reads);
	assert_int_not_equal(de.sum, dl.sum);
	free(r);
	ccmm_machine_destroy(eager);
	ccmm_machine_destroy(lazy);
}

static void test_mode_chosen_before_data(void **state)
{
	struct ccmm_machine *m = make_machine(NULL, 1, CCMM_MEE_ON_DEMAND);
	uint8_t b = 1;

	(void)state;
	assert_int_equal(m->phys.mee_mode, CCMM_MEE_ON_DEMAND); /* the default */
	assert_int_equal(ccmm_phys_set_mee_mode(m, CCMM_MEE_EAGER), 0);
	assert_int_equal(ccmm_phys_set_mee_mode(m, CCMM_MEE_MODE_NR), -EINVAL);
	assert_int_equal(ccmm_phys_rw(m, 8 * CCMM_GiB, &b, 1, true, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(ccmm_phys_set_mee_mode(m, CCMM_MEE_ON_DEMAND), -EBUSY);
	assert_int_equal(ccmm_phys_set_mee_mode(m, CCMM_MEE_EAGER), 0); /* no change */
	assert_string_equal(ccmm_mee_mode_name(CCMM_MEE_EAGER), "eager");
	assert_int_equal(ccmm_mee_mode_parse("on-demand"), CCMM_MEE_ON_DEMAND);
	assert_int_equal(ccmm_mee_mode_parse("lazy"), -1);
	ccmm_machine_destroy(m);
}

static void test_huge_machine_is_sparse(void **state)
{
	/* 64 TiB in two nodes: a directory pointer per GiB, nothing else until touched */
	struct ccmm_machine *m = make_machine("[platform]\nmode=tdx\ngpa_width=52\n[node:0]\nmem=32t\n[node:1]\nmem=32t\n", 1,
					      CCMM_MEE_ON_DEMAND);
	uint64_t top = 64 * CCMM_TiB + 2 * CCMM_GiB - 4096; /* the last page: RAM above the 2-4 GiB PCI hole */
	struct ccmm_page pg;
	uint8_t b = 7;
	size_t before = ccmm_phys_metadata_bytes(m);

	(void)state;
	assert_true(before < 1024 * 1024);
	assert_int_equal(atomic_load(&m->phys.chunks_allocated), 0);
	assert_int_equal(ccmm_phys_peek(m, top, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);
	assert_int_equal(ccmm_phys_rw(m, top, &b, 1, true, CCMM_KEYID_GUEST, NULL), 0);
	b = 0;
	assert_int_equal(ccmm_phys_rw(m, top, &b, 1, false, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(b, 7);
	/* one chunk table and one chunk */
	assert_int_equal(atomic_load(&m->phys.chunks_allocated), 1);
	assert_int_equal(atomic_load(&m->phys.tables_allocated), 1);
	assert_true(ccmm_phys_metadata_bytes(m) - before < 32 * 1024);
	ccmm_machine_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_engine_is_aes_xts_per_line),
		cmocka_unit_test(test_tweak_cache_serves_only_its_page_and_key),
		cmocka_unit_test(test_modes_agree_with_reference),
		cmocka_unit_test(test_mode_chosen_before_data),
		cmocka_unit_test(test_huge_machine_is_sparse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
