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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lackey),   cmocka_unit_test(test_address_trace), cmocka_unit_test(test_compressed),
		cmocka_unit_test(test_reduce),   cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("trace", tests, setup, teardown);
}
