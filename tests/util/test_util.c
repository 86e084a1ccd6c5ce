// SPDX-License-Identifier: MIT
/* util: numbers, ranges, suggestions, option tables, INI includes, PRNG, output files. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/util.h"

static void test_sizes(void **state)
{
	uint64_t v;

	assert_int_equal(ccmm_parse_u64("4k", true, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ccmm_parse_u64("2MiB", true, &v), 0);
	assert_int_equal(v, 2 << 20);
	assert_int_equal(ccmm_parse_u64("1g", true, &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(ccmm_parse_u64("3T", true, &v), 0);
	assert_int_equal(v, 3ULL << 40);
	assert_int_equal(ccmm_parse_u64("0x1000", false, &v), 0);
	assert_int_equal(v, 0x1000);
	assert_int_equal(ccmm_parse_u64("0b101", false, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(ccmm_parse_u64("1_000", false, &v), 0);
	assert_int_equal(v, 1000);
	/* suffixes only where allowed */
	assert_int_equal(ccmm_parse_u64("4k", false, &v), -EINVAL);
	assert_int_equal(ccmm_parse_u64("4q", true, &v), -EINVAL);
	assert_int_equal(ccmm_parse_u64("", true, &v), -EINVAL);
	assert_int_equal(ccmm_parse_u64("k", true, &v), -EINVAL);
	assert_int_equal(ccmm_parse_u64("-1", true, &v), -EINVAL);
	assert_int_equal(ccmm_parse_u64("99999999999999999999", false, &v), -ERANGE);
	assert_int_equal(ccmm_parse_u64("17000000t", true, &v), -ERANGE);
}

static void test_ranges(void **state)
{
	uint64_t lo, hi;

	assert_int_equal(ccmm_parse_range("4k-64k", &lo, &hi), 0);
	assert_int_equal(lo, 4096);
	assert_int_equal(hi, 65536);
	assert_int_equal(ccmm_parse_range("8", &lo, &hi), 0);
	assert_int_equal(lo, 8);
	assert_int_equal(hi, 8);
	assert_int_equal(ccmm_parse_range("64k-4k", &lo, &hi), -EINVAL);
	assert_int_equal(ccmm_parse_range("4k-", &lo, &hi), -EINVAL);
}

/* ccmm_range_end / ccmm_range_within: every range from an input, without wrapping */
static void test_range_overflow(void **state)
{
	uint64_t end = 77;

	assert_int_equal(ccmm_range_end(0x1000, 2, 12, &end), 0);
	assert_int_equal(end, 0x3000);
	assert_int_equal(ccmm_range_end(5, 0, 12, &end), 0); /* empty */
	assert_int_equal(end, 5);
	/* the largest page count whose bytes fit, and the first that wraps (2^52 + 1 pages is 4 KiB after the wrap) */
	assert_int_equal(ccmm_range_end(0, UINT64_MAX >> 12, 12, &end), 0);
	assert_int_equal(end, UINT64_MAX & ~0xfffULL);
	end = 77;
	assert_int_equal(ccmm_range_end(0, (1ULL << 52) + 1, 12, &end), -EOVERFLOW);
	assert_int_equal(end, 77); /* untouched */
	/* the sum wraps though the count alone fits; an end of 2^64 does not fit either */
	assert_int_equal(ccmm_range_end(UINT64_MAX - 0x1fff, 1, 12, &end), 0);
	assert_int_equal(end, UINT64_MAX - 0xfff);
	assert_int_equal(ccmm_range_end(UINT64_MAX - 0xfff, 1, 12, &end), -EOVERFLOW);
	assert_int_equal(ccmm_range_end(UINT64_MAX, 1, 0, &end), -EOVERFLOW);
	assert_int_equal(ccmm_range_end(1, 1, 64, &end), -EOVERFLOW);
	assert_int_equal(ccmm_range_end(0, 1, 63, &end), 0);
	assert_int_equal(end, 1ULL << 63);

	assert_int_equal(ccmm_range_within(0x1000, 1, 12, 0x1000, 0x2000), 0);
	assert_int_equal(ccmm_range_within(0x1000, 2, 12, 0x1000, 0x2000), -ERANGE);
	assert_int_equal(ccmm_range_within(0xfff, 1, 12, 0x1000, 0x3000), -ERANGE);
	assert_int_equal(ccmm_range_within(0x2000, 0, 12, 0x1000, 0x2000), 0); /* empty at the end */
	assert_int_equal(ccmm_range_within(0x2001, 0, 12, 0x1000, 0x2000), -ERANGE);
	/* a wrapping count never passes as a small range */
	assert_int_equal(ccmm_range_within(0, (1ULL << 52) + 1, 12, 0, 0x3000), -EOVERFLOW);
	assert_int_equal(ccmm_range_within(8, UINT64_MAX - 4, 0, 0, 0x3000), -EOVERFLOW);
}

/* CCMM_HOST_RAM models a smaller host; without it the host's own RAM */
static void test_host_ram(void **state)
{
	const char *old = getenv("CCMM_HOST_RAM");
	char *saved = old ? strdup(old) : NULL;

	assert_int_equal(setenv("CCMM_HOST_RAM", "64m", 1), 0);
	assert_int_equal(ccmm_host_ram(), 64ULL << 20);
	assert_int_equal(setenv("CCMM_HOST_RAM", "not a size", 1), 0);
	assert_true(ccmm_host_ram() != 0); /* ignored: the real host */
	unsetenv("CCMM_HOST_RAM");
	assert_true(ccmm_host_ram() >= 16ULL << 20);
	if (saved) {
		setenv("CCMM_HOST_RAM", saved, 1);
		free(saved);
	}
}

static void test_format_size(void **state)
{
	char b[32];

	assert_string_equal(ccmm_format_size(4096, b, sizeof(b)), "4KiB");
	assert_string_equal(ccmm_format_size(3 << 19, b, sizeof(b)), "1.5MiB");
	assert_string_equal(ccmm_format_size(100, b, sizeof(b)), "100B");
}

static void test_suggest(void **state)
{
	const char *const names[] = { "size", "node", "dma_mask", "coherent_mask", NULL };

	assert_int_equal(ccmm_edit_distance("sise", "size"), 1);
	assert_int_equal(ccmm_edit_distance("szie", "size"), 1); /* transposition */
	assert_string_equal(ccmm_suggest("sise", names, 4), "size");
	assert_string_equal(ccmm_suggest("dma_msak", names, 4), "dma_mask");
	assert_null(ccmm_suggest("bandwidth", names, 4));
}

struct opts {
	uint64_t size;
	struct ccmm_range len;
	bool flag;
	char name[8];
	int color;
};

static const char *const colors[] = { "red", "green", "blue", NULL };

static const struct ccmm_option table[] = {
	{ "size", CCMM_OPT_U64, offsetof(struct opts, size), 4096, 1 << 20, true, NULL, "64k", "bytes" },
	{ "len", CCMM_OPT_RANGE, offsetof(struct opts, len), 1, 0, true, NULL, "4k", "bytes" },
	{ "flag", CCMM_OPT_BOOL, offsetof(struct opts, flag), 0, 0, false, NULL, "no", "" },
	{ "name", CCMM_OPT_STR, offsetof(struct opts, name), 0, 8, false, NULL, "x", "" },
	{ "color", CCMM_OPT_ENUM, offsetof(struct opts, color), 0, 0, false, colors, "green", "" },
	{ NULL }
};

static void test_options(void **state)
{
	struct opts o;
	struct ccmm_error err;
	struct ccmm_loc loc = { "job.fio", 7 };
	char msg[600];

	memset(&o, 0, sizeof(o));
	assert_int_equal(ccmm_option_defaults(table, &o), 0);
	assert_int_equal(o.size, 65536);
	assert_int_equal(o.len.lo, 4096);
	assert_int_equal(o.color, 1);
	assert_string_equal(o.name, "x");

	assert_int_equal(ccmm_option_set(table, &o, "t", "size", "128k", &loc, &err), 0);
	assert_int_equal(o.size, 131072);
	assert_int_equal(ccmm_option_set(table, &o, "t", "len", "4k-16k", &loc, &err), 0);
	assert_int_equal(o.len.hi, 16384);
	assert_int_equal(ccmm_option_set(table, &o, "t", "flag", "on", &loc, &err), 0);
	assert_true(o.flag);
	assert_int_equal(ccmm_option_set(table, &o, "t", "color", "BLUE", &loc, &err), 0);
	assert_int_equal(o.color, 2);

	/* unknown option, with the nearest name */
	assert_int_equal(ccmm_option_set(table, &o, "t", "sise", "1", &loc, &err), -ENOENT);
	ccmm_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "job.fio:7: unknown option 'sise' in [t]; did you mean 'size'?");
	/* out of range */
	assert_int_equal(ccmm_option_set(table, &o, "t", "size", "2m", &loc, &err), -ERANGE);
	ccmm_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "job.fio:7: size=2m is out of range [4096, 1048576]");
	/* malformed */
	assert_int_equal(ccmm_option_set(table, &o, "t", "size", "lots", &loc, &err), -EINVAL);
	assert_int_equal(ccmm_option_set(table, &o, "t", "flag", "maybe", &loc, &err), -EINVAL);
	assert_int_equal(ccmm_option_set(table, &o, "t", "name", "toolongname", &loc, &err), -ERANGE);
	assert_int_equal(ccmm_option_set(table, &o, "t", "color", "gren", &loc, &err), -EINVAL);
	ccmm_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "job.fio:7: color: unknown value 'gren'; did you mean 'green'? (one of: red, green, blue)");
	/* failed sets leave the field alone */
	assert_int_equal(o.size, 131072);
	assert_int_equal(o.color, 2);
}

struct seen {
	char log[2048];
};

static int record(void *user, const char *section, const char *key, const char *value, const struct ccmm_loc *loc,
		  struct ccmm_error *err)
{
	struct seen *s = user;
	size_t n = strlen(s->log);
	const char *base = strrchr(loc->file, '/');

	base = base ? base + 1 : loc->file;
	if (!key)
		snprintf(s->log + n, sizeof(s->log) - n, "[%s]@%s:%d ", section, base, loc->line);
	else
		snprintf(s->log + n, sizeof(s->log) - n, "%s.%s=%s@%s:%d ", section, key, value, base, loc->line);
	if (key && !strcmp(key, "bad"))
		return ccmm_error_set(err, loc, -EINVAL, "bad key");
	return 0;
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int setup_dir(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ccmm-test-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd);
}

static void test_ini_include(void **state)
{
	struct seen s = { "" };
	struct ccmm_error err;
	char path[128];

	write_file("inc.ini", "b = 2\n; comment\n[extra]\nc = 3\n");
	write_file("main.ini", "[global]\na = 1\ninclude inc.ini\n[last]\n# c\nd = 4 ; inline\n");
	snprintf(path, sizeof(path), "%s/main.ini", tmpdir);
	assert_int_equal(ccmm_ini_parse(path, NULL, record, &s, &err), 0);
	assert_string_equal(s.log, "[global]@main.ini:1 global.a=1@main.ini:2 global.b=2@inc.ini:1 "
				   "[extra]@inc.ini:3 extra.c=3@inc.ini:4 [last]@main.ini:4 last.d=4@main.ini:6 ");
}

static void test_ini_errors(void **state)
{
	struct seen s = { "" };
	struct ccmm_error err;
	char path[128], msg[700];

	/* a syntax error inside an included file names that file and line */
	write_file("broken.ini", "x = 1\nnot a key value\n");
	write_file("top.ini", "[s]\ninclude broken.ini\n");
	snprintf(path, sizeof(path), "%s/top.ini", tmpdir);
	assert_int_equal(ccmm_ini_parse(path, NULL, record, &s, &err), -EINVAL);
	assert_true(strstr(err.file, "broken.ini") != NULL);
	assert_int_equal(err.line, 2);
	ccmm_error_format(&err, msg, sizeof(msg));
	assert_non_null(strstr(msg, "expected '[section]', 'key = value' or 'include FILE', not 'not a key value'"));

	/* handler errors stop the parse at their line */
	s.log[0] = '\0';
	assert_int_equal(ccmm_ini_parse("mem.ini", "[s]\nok = 1\nbad = 2\nlater = 3\n", record, &s, &err), -EINVAL);
	assert_string_equal(err.file, "mem.ini");
	assert_int_equal(err.line, 3);
	assert_null(strstr(s.log, "later"));

	/* include cycles and missing files */
	write_file("a.ini", "include b.ini\n");
	write_file("b.ini", "include a.ini\n");
	snprintf(path, sizeof(path), "%s/a.ini", tmpdir);
	assert_int_equal(ccmm_ini_parse(path, NULL, record, &s, &err), -ELOOP);
	assert_int_equal(err.line, 1);
	assert_int_equal(ccmm_ini_parse("mem.ini", "[s]\ninclude /nonexistent/x.ini\n", record, &s, &err), -ENOENT);
	assert_int_equal(err.line, 2);

	/* unclosed section header */
	assert_int_equal(ccmm_ini_parse("mem.ini", "[s\nk=v\n", record, &s, &err), -EINVAL);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "missing its closing ']'"));

	/* lines longer than inih's buffer are refused, not split */
	{
		char text[400];

		memset(text, 'a', sizeof(text));
		memcpy(text, "[s]\nk=", 6);
		text[sizeof(text) - 2] = '\n';
		text[sizeof(text) - 1] = '\0';
		assert_int_equal(ccmm_ini_parse("mem.ini", text, record, &s, &err), -E2BIG);
		assert_int_equal(err.line, 2);
	}
	/* missing file */
	assert_int_equal(ccmm_ini_parse("/nonexistent/job.fio", NULL, record, &s, &err), -ENOENT);
	assert_int_equal(err.line, 0);
}

static void test_rng(void **state)
{
	struct ccmm_rng a, b, c;
	int differ = 0;

	ccmm_rng_seed(&a, 42, 1);
	ccmm_rng_seed(&b, 42, 1);
	ccmm_rng_seed(&c, 42, 2);
	for (int i = 0; i < 100; i++) {
		uint64_t x = ccmm_rng_next(&a);

		assert_int_equal(x, ccmm_rng_next(&b));
		differ += x != ccmm_rng_next(&c);
	}
	assert_true(differ > 95);
	for (int i = 0; i < 1000; i++) {
		uint64_t v = ccmm_rng_range(&a, 10, 12);

		assert_true(v >= 10 && v <= 12);
	}
	assert_int_equal(ccmm_rng_range(&a, 7, 7), 7);
}

static void test_outfile(void **state)
{
	struct ccmm_outfile o;
	char path[128], cmd[200];
	FILE *f;
	char buf[16] = "";

	snprintf(path, sizeof(path), "%s/report.json", tmpdir);
	assert_int_equal(ccmm_outfile_open(&o, path), 0);
	fputs("{}", o.fp);
	/* not there until committed */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(ccmm_outfile_commit(&o), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	assert_string_equal(buf, "{}");

	/* an aborted file leaves neither the name nor the temporary behind */
	snprintf(path, sizeof(path), "%s/aborted.json", tmpdir);
	assert_int_equal(ccmm_outfile_open(&o, path), 0);
	fputs("{\"half", o.fp);
	ccmm_outfile_abort(&o);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(cmd, sizeof(cmd), "ls %s | grep -q aborted", tmpdir);
	assert_int_not_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_range_overflow),
		cmocka_unit_test(test_host_ram),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_ini_include),
		cmocka_unit_test(test_ini_errors),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_outfile),
	};

	return cmocka_run_group_tests_name("util", tests, setup_dir, teardown_dir);
}
