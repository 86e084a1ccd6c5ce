// SPDX-License-Identifier: MIT
/* Page-reference traces: lackey and address formats, reduction rules, compression, truncation, errors. */
#include "helpers.h"

#include <inttypes.h>

#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "trace/trace.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/ccmm-trace-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *path_of(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(path_of(name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void put_gz(const char *name, const char *text, size_t cut)
{
	char tmp[160];
	gzFile g;
	FILE *f;
	char *buf;
	long len;

	snprintf(tmp, sizeof(tmp), "%s.full", path_of(name));
	g = gzopen(tmp, "wb");
	gzwrite(g, text, (unsigned)strlen(text));
	gzclose(g);
	f = fopen(tmp, "rb");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	buf = malloc((size_t)len);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	put(name, buf, cut ? cut : (size_t)len);
	free(buf);
}

static void put_zst(const char *name, const char *text, size_t cut)
{
	size_t cap = ZSTD_compressBound(strlen(text));
	char *buf = malloc(cap);
	size_t n = ZSTD_compress(buf, cap, text, strlen(text), 3);

	assert_false(ZSTD_isError(n));
	put(name, buf, cut ? cut : n);
	free(buf);
}

/* Read every reference into refs[] ("vpn:w" strings); returns the count or the error. */
static int read_all(const char *name, const struct ccmm_trace_opts *o, char *out, size_t outlen,
		    struct ccmm_error *err)
{
	struct ccmm_trace *t;
	struct ccmm_page_ref r;
	int ret, n = 0;

	out[0] = '\0';
	ret = ccmm_trace_open(path_of(name), o, &t, err);
	if (ret)
		return ret;
	while ((ret = ccmm_trace_next(t, &r, err)) == 1) {
		size_t l = strlen(out);

		snprintf(out + l, outlen - l, "%s%" PRIx64 "%s", n ? " " : "", r.vpn, r.write ? "w" : "");
		n++;
	}
	ccmm_trace_close(t);
	return ret < 0 ? ret : n;
}

static const char lackey[] = "==123== Lackey, an example Valgrind tool\n"
			     "==123== Command: /bin/true\n"
			     "I  04001000,3\n"
			     " L 00401008,8\n"
			     " L 00401010,8\n"
			     " S 00401ffc,8\n"    /* crosses into page 0x402 */
			     " L 00402010,4\n"
			     " M 00600000,4\n"
			     "I  04001003,2\n"
			     " L 00600008,8\n"
			     "==123== \n";

static void test_lackey(void **state)
{
	char got[256];
	struct ccmm_error err;
	struct ccmm_trace_opts keep_instr = { CCMM_TRACE_AUTO, true, false };
	struct ccmm_trace_opts no_collapse = { CCMM_TRACE_AUTO, false, true };

	put("l.txt", lackey, strlen(lackey));
	/* loads and stores of one page collapse (dirty if any wrote); a store
	 * across a page boundary references both pages */
	assert_int_equal(read_all("l.txt", NULL, got, sizeof(got), &err), 3);
	assert_string_equal(got, "401w 402w 600w");
	assert_int_equal(read_all("l.txt", &keep_instr, got, sizeof(got), &err), 6);
	assert_string_equal(got, "4001 401w 402w 600w 4001 600");
	assert_int_equal(read_all("l.txt", &no_collapse, got, sizeof(got), &err), 7);
	assert_string_equal(got, "401 401 401w 402w 402 600w 600");
	{
		struct ccmm_trace *t;
		struct ccmm_trace_stats st;
		struct ccmm_page_ref r;

		assert_int_equal(ccmm_trace_open(path_of("l.txt"), NULL, &t, &err), 0);
		while (ccmm_trace_next(t, &r, &err) == 1)
			;
		ccmm_trace_stats(t, &st);
		assert_int_equal(st.lines, 6);
		assert_int_equal(st.instr_dropped, 2);
		assert_int_equal(st.refs, 3);
		assert_int_equal(st.writes, 3);
		assert_int_equal(ccmm_trace_format(t), CCMM_TRACE_LACKEY);
		/* rewind reads the same references again */
		assert_int_equal(ccmm_trace_rewind(t, &err), 0);
		assert_int_equal(ccmm_trace_next(t, &r, &err), 1);
		assert_int_equal(r.vpn, 0x401);
		ccmm_trace_close(t);
	}
}

static void test_address_trace(void **state)
{
	static const char text[] = "# an address trace\nl 0x7ff000398 8\ns 0x7ff000ffc 8\nl 0x1000 4096\n\nl 0x1000 1\n";
	char got[256];
	struct ccmm_error err;

	put("a.txt", text, strlen(text));
	assert_int_equal(read_all("a.txt", NULL, got, sizeof(got), &err), 3);
	assert_string_equal(got, "7ff000w 7ff001w 1");
}

static void test_compressed(void **state)
{
	char got[256];
	struct ccmm_error err;

	put_gz("l.gz", lackey, 0);
	assert_int_equal(read_all("l.gz", NULL, got, sizeof(got), &err), 3);
	assert_string_equal(got, "401w 402w 600w");
	put_zst("l.zst", lackey, 0);
	assert_int_equal(read_all("l.zst", NULL, got, sizeof(got), &err), 3);
	assert_string_equal(got, "401w 402w 600w");
	{
		/* a reader closed in the middle of its stream: the next one (its zstd context again) reads its own from the start */
		static const char other[] = "l 0x7000 8\ns 0x8000 8\n";
		struct ccmm_trace *t;
		struct ccmm_page_ref r;

		put_zst("o.zst", other, 0);
		assert_int_equal(ccmm_trace_open(path_of("l.zst"), NULL, &t, &err), 0);
		assert_int_equal(ccmm_trace_next(t, &r, &err), 1);
		ccmm_trace_close(t);
		assert_int_equal(read_all("o.zst", NULL, got, sizeof(got), &err), 2);
		assert_string_equal(got, "7 8w");
		assert_int_equal(read_all("l.zst", NULL, got, sizeof(got), &err), 3);
		assert_string_equal(got, "401w 402w 600w");
	}
}

static void test_reduce(void **state)
{
	char got[256], again[256];
	struct ccmm_error err;
	char out[160];

	put("l.txt", lackey, strlen(lackey));
	snprintf(out, sizeof(out), "%s", path_of("reduced.zst"));
	assert_int_equal(ccmm_trace_reduce(path_of("l.txt"), NULL, out, true, &err), 3);
	assert_int_equal(read_all("l.txt", NULL, got, sizeof(got), &err), 3);
	assert_int_equal(read_all("reduced.zst", NULL, again, sizeof(again), &err), 3);
	assert_string_equal(got, again);
	/* a failing reduction leaves no output file */
	snprintf(out, sizeof(out), "%s", path_of("never.zst"));
	put("bad.txt", "l 0x1000 8\nnonsense\n", 20);
	assert_int_equal(ccmm_trace_reduce(path_of("bad.txt"), NULL, out, true, &err), -EINVAL);
	assert_int_equal(access(out, F_OK), -1);
}

static void expect_error(const char *name, int ret, int line, const char *msg)
{
	char got[256];
	struct ccmm_error err;
	int r = read_all(name, NULL, got, sizeof(got), &err);

	if (r != ret || err.line != line || !strstr(err.msg, msg))
		fail_msg("%s: expected %d at line %d '%s', got %d at line %d '%s'", name, ret, line, msg, r, err.line, err.msg);
}

static void test_errors(void **state)
{
	struct ccmm_trace *t;
	struct ccmm_error err;

	put("m1.txt", "l 0x1000 8\nx 0x1000 8\n", 22);
	expect_error("m1.txt", -EINVAL, 2, "not an address-trace line");
	put("m2.txt", " L 00401008,8\n L 0040zz08,8\n", 28);
	expect_error("m2.txt", -EINVAL, 2, "malformed lackey access");
	put("m3.txt", "l 0x1000 99999999\n", 18);
	expect_error("m3.txt", -EINVAL, 1, "is not plausible");
	put("m4.txt", "hello world\n", 12);
	expect_error("m4.txt", -EINVAL, 1, "not a trace line");
	/* truncated: a last line with no newline, a cut compressed stream */
	put("t1.txt", "l 0x1000 8\nl 0x20", 17);
	expect_error("t1.txt", -EIO, 2, "cut short");
	put_gz("t2.gz", lackey, 40);
	expect_error("t2.gz", -EIO, 0, "gzip stream ends early");
	put_zst("t3.zst", lackey, 30);
	expect_error("t3.zst", -EIO, 0, "zstd stream ends early");
	/* missing file */
	assert_int_equal(ccmm_trace_open(path_of("none"), NULL, &t, &err), -ENOENT);
	assert_non_null(strstr(err.msg, "cannot open"));
}

/*
 * ccmm_trace_read gives, a block at a time, exactly the references (page,
 * dirty, line) and counts ccmm_trace_next gives: over an address trace of
 * 30 000 lines (several 64 KiB buffers, so lines cross a buffer's end) that
 * mixes plain lines with the forms only the general parser takes (0X,
 * upper-case digits, no 0x, trailing blanks and CR, comments, blank lines,
 * accesses across a page), in blocks of 1, 7 and 256; and lackey with
 * dropped and kept instruction fetches. The expected stream is built
 * beside the text.
 */
static void test_read_blocks(void **state)
{
	static const size_t blocks[] = { 1, 7, 256 };
	size_t cap = 30000 * 40, len = 0, nexp = 0;
	char *text = malloc(cap);
	struct ccmm_page_ref *exp = calloc(40000, sizeof(*exp)), got[256];
	struct ccmm_error err;
	uint64_t x = 88172645463325252ULL, line = 0, last = UINT64_MAX;

	assert_non_null(text);
	assert_non_null(exp);
	for (int i = 0; i < 30000; i++) {
		uint64_t vpn, size = 8;
		bool w;
		int form;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		vpn = 0x400 + x % 37; /* few pages: runs of one page collapse */
		w = (x >> 20) % 3 == 0;
		form = (int)((x >> 30) % 16);
		line++;
		if (form == 0) {
			len += (size_t)snprintf(text + len, cap - len, "# comment %d\n\n", i);
			line++;
			continue;
		}
		if (form == 1)
			len += (size_t)snprintf(text + len, cap - len, "%c 0X%" PRIX64 " 8\n", w ? 's' : 'l', vpn << 12 | 0x10);
		else if (form == 2)
			len += (size_t)snprintf(text + len, cap - len, "%c %" PRIx64 " 8  \r\n", w ? 's' : 'l', vpn << 12 | 0x10);
		else if (form == 3) /* across into the next page */
			len += (size_t)snprintf(text + len, cap - len, "%c 0x%" PRIx64 " %d\n", w ? 's' : 'l', vpn << 12 | 0xff8,
						(int)(size = 16));
		else
			len += (size_t)snprintf(text + len, cap - len, "%c 0x%" PRIx64 " 8\n", w ? 's' : 'l', vpn << 12 | 0x20);
		for (uint64_t v = vpn; v <= vpn + (size == 16); v++) {
			if (v == last) {
				exp[nexp - 1].write |= w;
				continue;
			}
			exp[nexp++] = (struct ccmm_page_ref){ v, w, (uint32_t)line };
			last = v;
		}
	}
	put("blocks.txt", text, len);
	for (size_t b = 0; b < CCMM_ARRAY_SIZE(blocks); b++) {
		struct ccmm_trace *t;
		struct ccmm_trace_stats st;
		size_t n = 0;
		long k;

		assert_int_equal(ccmm_trace_open(path_of("blocks.txt"), NULL, &t, &err), 0);
		while ((k = ccmm_trace_read(t, got, blocks[b], &err)) > 0) {
			assert_true((size_t)k <= blocks[b]);
			for (long j = 0; j < k; j++, n++) {
				assert_true(n < nexp);
				if (got[j].vpn != exp[n].vpn || got[j].write != exp[n].write || got[j].line != exp[n].line)
					fail_msg("block %zu, reference %zu: %" PRIx64 "%s at line %u, expected %" PRIx64 "%s at line %u",
						 blocks[b], n, got[j].vpn, got[j].write ? "w" : "", got[j].line, exp[n].vpn,
						 exp[n].write ? "w" : "", exp[n].line);
			}
		}
		assert_int_equal(k, 0);
		assert_int_equal(n, nexp);
		ccmm_trace_stats(t, &st);
		assert_int_equal(st.refs, nexp);
		ccmm_trace_close(t);
	}
	free(text);
	free(exp);
	/* lackey: instruction fetches dropped (counted) or kept, as ccmm_trace_next gives them */
	put("l.txt", lackey, strlen(lackey));
	for (int keep = 0; keep < 2; keep++) {
		struct ccmm_trace_opts o = { CCMM_TRACE_AUTO, keep, false };
		struct ccmm_trace *t;
		struct ccmm_trace_stats st;
		char one[256], all[256] = "";

		assert_int_equal(read_all("l.txt", &o, one, sizeof(one), &err), keep ? 6 : 3);
		assert_int_equal(ccmm_trace_open(path_of("l.txt"), &o, &t, &err), 0);
		assert_int_equal(ccmm_trace_read(t, got, 256, &err), keep ? 6 : 3);
		for (int j = 0; j < (keep ? 6 : 3); j++)
			snprintf(all + strlen(all), sizeof(all) - strlen(all), "%s%" PRIx64 "%s", j ? " " : "", got[j].vpn,
				 got[j].write ? "w" : "");
		assert_string_equal(all, one);
		assert_int_equal(ccmm_trace_read(t, got, 256, &err), 0);
		ccmm_trace_stats(t, &st);
		assert_int_equal(st.instr_dropped, keep ? 0 : 2);
		assert_int_equal(st.lines, keep ? 8 : 6);
		ccmm_trace_close(t);
	}
}

/* An error after some references: those first, the error (its line) on the next call, as one by one. */
static void test_read_error_after_refs(void **state)
{
	static const char e[] = "l 0x1000 8\nl 0x2000 8\nl 0x3000 8\nl 0x4000 0x8\nl 0x5000 8\n";
	static const char e2[] = "l 0x1000 8\nl 0x2000 0\n", e3[] = "l 0x1000 8\nl 0x10000000000000000 8\n";
	struct ccmm_trace *t;
	struct ccmm_page_ref got[16];
	struct ccmm_error err;

	put("e.txt", e, strlen(e));
	assert_int_equal(ccmm_trace_open(path_of("e.txt"), NULL, &t, &err), 0);
	/* the third reference waits for the fourth line (a run of one page may go on): it never comes out */
	assert_int_equal(ccmm_trace_read(t, got, 16, &err), 2);
	assert_int_equal(got[0].vpn, 1);
	assert_int_equal(got[1].vpn, 2);
	assert_int_equal(got[1].line, 2);
	memset(&err, 0, sizeof(err));
	assert_int_equal(ccmm_trace_read(t, got, 16, &err), -EINVAL);
	assert_int_equal(err.line, 4);
	assert_non_null(strstr(err.msg, "trailing text"));
	ccmm_trace_close(t);
	expect_error("e.txt", -EINVAL, 4, "trailing text");
	/* a size of zero, an address of 17 digits: the general parser's messages */
	put("e2.txt", e2, strlen(e2));
	expect_error("e2.txt", -EINVAL, 2, "is not plausible");
	put("e3.txt", e3, strlen(e3));
	expect_error("e3.txt", -EINVAL, 2, "malformed address");
}

/*
 * Keep @n values as a caller that remembers codes does (the SGX replay's
 * load-time check): a direct-mapped memo of value -> code, forgotten when
 * the store's code generation moves; runs of remembered codes kept with
 * ccmm_keep_put_codes, anything else with ccmm_keep_put and its code noted.
 */
static void keep_by_codes(struct ccmm_trace_keep *k, const uint32_t *val, size_t n)
{
	uint32_t memo_v[64];
	uint8_t memo_c[64] = { 0 }, codes[300];
	uint64_t memo_gen = 0;
	size_t i = 0;

	while (i < n) {
		uint64_t gen;
		size_t room = ccmm_keep_code_room(k, &gen), m = 0, want = CCMM_MIN(CCMM_MIN(room, n - i), (size_t)(i % 300));

		if (gen != memo_gen) {
			memset(memo_c, 0, sizeof(memo_c));
			memo_gen = gen;
		}
		while (m < want && memo_c[val[i + m] % 64] && memo_v[val[i + m] % 64] == val[i + m]) {
			codes[m] = memo_c[val[i + m] % 64];
			m++;
		}
		ccmm_keep_put_codes(k, codes, m);
		i += m;
		if (i == n)
			break;
		assert_int_equal(ccmm_keep_put(k, val[i]), 0);
		memo_v[val[i] % 64] = val[i];
		memo_c[val[i] % 64] = ccmm_keep_code(k, val[i]);
		i++;
	}
}

/* Keep @n values from @val (@fast: 1 with ccmm_keep_put16 first, 2 by codes), check the store's reading of them. */
static void keep_check(struct ccmm_trace_keep *k, const uint32_t *val, size_t n, int fast)
{
	struct ccmm_keep_piece p;
	uint64_t at = 0;

	ccmm_keep_init(k);
	if (fast == 2)
		keep_by_codes(k, val, n);
	for (size_t i = fast == 2 ? n : 0; i < n;) {
		size_t m = CCMM_MIN(n - i, (size_t)(i % 300)), j;
		uint16_t v16[300];

		/* ccmm_keep_put16 on runs of 16-bit values of all lengths, ccmm_keep_put for the rest */
		for (j = 0; j < m && val[i + j] <= UINT16_MAX; j++)
			v16[j] = (uint16_t)val[i + j];
		if (fast && j) {
			assert_int_equal(ccmm_keep_put16(k, v16, j), 0);
			i += j;
		} else {
			assert_int_equal(ccmm_keep_put(k, val[i]), 0);
			i++;
		}
	}
	assert_int_equal(k->n, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ccmm_keep_at(k, i), val[i]);
	/* read in pieces of at most 1000, as a replay reads its batches: never across a block, each value in place */
	while (ccmm_keep_get(k, at, 1000, &p)) {
		assert_true(p.n <= 1000);
		if (k->width == 1)
			assert_int_equal(at >> CCMM_KEEP_BLOCK_SHIFT, (at + p.n - 1) >> CCMM_KEEP_BLOCK_SHIFT);
		for (size_t j = 0; j < p.n; j++) {
			uint32_t v = p.width == 1   ? p.dict[((const uint8_t *)p.refs)[j]]
				     : p.width == 2 ? ((const uint16_t *)p.refs)[j] : ((const uint32_t *)p.refs)[j];

			assert_int_equal(v, val[at + j]);
		}
		at += p.n;
	}
	assert_int_equal(at, n);
	assert_int_equal(ccmm_keep_get(k, n, 10, &p), 0);
}

/*
 * Kept references (struct ccmm_trace_keep) read back as they were put, in
 * each of its forms: a byte a reference while every value of a block has a
 * code (a few hundred pages: a byte is all that is kept), a block that
 * meets a 257th value 2 bytes each (only that block), and 4 bytes each for
 * everything from the first value past 16 bits on; ccmm_keep_put16 (a
 * loop without a call) and ccmm_keep_put_codes (codes a caller remembered,
 * under the store's code generation) keep what ccmm_keep_put keeps one by
 * one.
 */
static void test_keep(void **state)
{
	size_t n = 3 * CCMM_KEEP_BLOCK + 777;
	uint32_t *val = malloc(n * sizeof(*val));
	struct ccmm_trace_keep k, f;
	uint64_t x = 88172645463325252ULL;
	struct ccmm_keep_piece p;

	(void)state;
	assert_non_null(val);
	for (size_t i = 0; i < n; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		val[i] = (uint32_t)(x % 400); /* the second block: 400 values, more than a byte codes */
		if (i / CCMM_KEEP_BLOCK != 1)
			val[i] = val[i] % 255 + 100 * (i / CCMM_KEEP_BLOCK); /* the others: 255 each (all the codes), partly the last block's */
	}
	keep_check(&k, val, n, false);
	assert_int_equal(k.width, 1);
	assert_int_equal(k.nr_blocks, 4);
	assert_null(k.blocks[0].raw);
	assert_non_null(k.blocks[1].raw); /* this block met its 257th value */
	assert_null(k.blocks[2].raw);
	assert_int_equal(ccmm_keep_get(&k, CCMM_KEEP_BLOCK + 5, 10, &p), 10);
	assert_int_equal(p.width, 2);
	assert_int_equal(ccmm_keep_get(&k, 5, 10, &p), 10);
	assert_int_equal(p.width, 1);
	/* one chunk of codes (a byte a reference), the 2-byte block, four block tables, the value -> code table */
	assert_int_equal(k.nr_chunks, 1);
	assert_int_equal(ccmm_keep_bytes(&k), (2u << 20) + CCMM_KEEP_BLOCK * 2 + 4 * sizeof(struct ccmm_keep_block) + (1u << 16));
	keep_check(&f, val, n, true);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(!!f.blocks[i].raw, !!k.blocks[i].raw);
	ccmm_keep_free(&f);
	/* kept by remembered codes: the same blocks, tables and bytes as one by one */
	keep_check(&f, val, n, 2);
	assert_int_equal(f.nr_blocks, k.nr_blocks);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(!!f.blocks[i].raw, !!k.blocks[i].raw);
		assert_int_equal(f.blocks[i].nr_dict, k.blocks[i].nr_dict);
		assert_memory_equal(f.blocks[i].dict + 1, k.blocks[i].dict + 1, k.blocks[i].nr_dict * sizeof(k.blocks[i].dict[0]));
	}
	assert_memory_equal(f.chunks[0], k.chunks[0], n);
	ccmm_keep_free(&f);
	ccmm_keep_free(&k);
	/* a value past 16 bits: everything 4 bytes wide from then on, the values before it too */
	val[CCMM_KEEP_BLOCK + 100] = 70000;
	val[n - 1] = (1u << 31) - 1;
	keep_check(&f, val, n, 2);
	assert_int_equal(f.width, 4);
	ccmm_keep_free(&f);
	keep_check(&k, val, n, true);
	assert_int_equal(k.width, 4);
	assert_int_equal(ccmm_keep_get(&k, 0, 10, &p), 10);
	assert_int_equal(p.width, 4);
	assert_int_equal(ccmm_keep_put(&k, 1u << 31), -EINVAL);
	assert_int_equal(k.n, n);
	ccmm_keep_free(&k);
	assert_int_equal(k.n, 0);
	assert_int_equal(ccmm_keep_get(&k, 0, 10, &p), 0);
	free(val);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lackey),   cmocka_unit_test(test_address_trace), cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_reduce),   cmocka_unit_test(test_errors),
		cmocka_unit_test(test_read_blocks), cmocka_unit_test(test_read_error_after_refs),
		cmocka_unit_test(test_keep),
	};

	return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
