// SPDX-License-Identifier: MIT
/* util: numbers, ranges, kb_base, suggestions, option tables, INI syntax (fio's), PRNG, output files, the search path. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
	/* fio's other separator */
	assert_int_equal(ccmm_parse_range("1k:4k", &lo, &hi), 0);
	assert_int_equal(lo, 1024);
	assert_int_equal(hi, 4096);
	/* a reversed range is swapped, as fio's FIO_OPT_RANGE does */
	assert_int_equal(ccmm_parse_range("64k-4k", &lo, &hi), 0);
	assert_int_equal(lo, 4096);
	assert_int_equal(hi, 65536);
	assert_int_equal(ccmm_parse_range("9:2", &lo, &hi), 0);
	assert_int_equal(lo, 2);
	assert_int_equal(hi, 9);
	assert_int_equal(ccmm_parse_range("4k-", &lo, &hi), -EINVAL);
	assert_int_equal(ccmm_parse_range(":4k", &lo, &hi), -EINVAL);
	assert_int_equal(ccmm_parse_range("1-2-3", &lo, &hi), -EINVAL);
}

/* kb_base: 1024 reads k and KiB alike (ccmm's default); 1000 reads them as SI and IEC, as fio's kb_base=1000. */
static void test_kb_base(void **state)
{
	uint64_t v;

	assert_int_equal(ccmm_kb_base(), 1024);
	assert_int_equal(ccmm_parse_u64("4KiB", true, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ccmm_parse_u64("4kb", true, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ccmm_kb_base_set(1000), 1024);
	assert_int_equal(ccmm_parse_u64("4k", true, &v), 0);
	assert_int_equal(v, 4000);
	assert_int_equal(ccmm_parse_u64("4kB", true, &v), 0);
	assert_int_equal(v, 4000);
	assert_int_equal(ccmm_parse_u64("4KiB", true, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ccmm_parse_u64("2m", true, &v), 0);
	assert_int_equal(v, 2000000);
	assert_int_equal(ccmm_parse_u64("1GiB", true, &v), 0);
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(ccmm_parse_u64("20000000p", true, &v), -ERANGE);
	/* anything but 1000 and 1024 is refused and changes nothing */
	assert_int_equal(ccmm_kb_base_set(512), -EINVAL);
	assert_int_equal(ccmm_kb_base(), 1000);
	assert_int_equal(ccmm_kb_base_set(1024), 1000);
	assert_int_equal(ccmm_parse_u64("4k", true, &v), 0);
	assert_int_equal(v, 4096);
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

/* fio's comments: from the first ';' or '#' on, inline too, with no space needed. */
static void test_ini_inline_comments(void **state)
{
	struct seen s = { "" };
	struct ccmm_error err;

	assert_int_equal(ccmm_ini_parse("mem.ini",
					 "[a] ; the first\n"
					 "x = 4k # four pages\n"
					 "y = 1;no space needed\n"
					 "z = 7#\n"
					 "  # a whole line\n"
					 "w =   ; nothing left\n",
					 record, &s, &err),
			 0);
	assert_string_equal(s.log, "[a]@mem.ini:1 a.x=4k@mem.ini:2 a.y=1@mem.ini:3 a.z=7@mem.ini:4 a.w=@mem.ini:6 ");
}

/* ${VAR} from the environment; an unset one is an error naming it. */
static void test_ini_env(void **state)
{
	struct seen s = { "" };
	struct ccmm_error err;
	char msg[700];

	setenv("CCMM_TEST_SIZE", "64k", 1);
	setenv("CCMM_TEST_EMPTY", "", 1);
	setenv("CCMM_TEST_HASH", "a#b", 1);
	unsetenv("CCMM_TEST_UNSET");
	assert_int_equal(ccmm_ini_parse("mem.ini",
					 "[t]\nsize = ${CCMM_TEST_SIZE}\nop = alloc b ${CCMM_TEST_SIZE}-1m\n"
					 "e = x${CCMM_TEST_EMPTY}y\nh = ${CCMM_TEST_HASH} # the value's '#' stays\n",
					 record, &s, &err),
			 0);
	assert_string_equal(s.log, "[t]@mem.ini:1 t.size=64k@mem.ini:2 t.op=alloc b 64k-1m@mem.ini:3 t.e=xy@mem.ini:4 "
				   "t.h=a#b@mem.ini:5 ");
	/* unset: the variable is named, at its line */
	assert_int_equal(ccmm_ini_parse("mem.ini", "[t]\nok = 1\nsize = ${CCMM_TEST_UNSET}\n", record, &s, &err), -ENOENT);
	ccmm_error_format(&err, msg, sizeof(msg));
	assert_string_equal(msg, "mem.ini:3: environment variable 'CCMM_TEST_UNSET' is not set (${CCMM_TEST_UNSET})");
	/* malformed references */
	assert_int_equal(ccmm_ini_parse("mem.ini", "[t]\nsize = ${CCMM_TEST_SIZE\n", record, &s, &err), -EINVAL);
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "closing '}'"));
	assert_int_equal(ccmm_ini_parse("mem.ini", "[t]\nsize = ${}\n", record, &s, &err), -EINVAL);
	assert_int_equal(ccmm_ini_parse("mem.ini", "[t]\nsize = ${A B}\n", record, &s, &err), -EINVAL);
	/* a '$' alone is text */
	s.log[0] = '\0';
	assert_int_equal(ccmm_ini_parse("mem.ini", "[t]\nk = $5\n", record, &s, &err), 0);
	assert_string_equal(s.log, "[t]@mem.ini:1 t.k=$5@mem.ini:2 ");
	/* expansion past inih's line buffer is refused, not split */
	{
		char big[300];

		memset(big, 'v', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		setenv("CCMM_TEST_BIG", big, 1);
		assert_int_equal(ccmm_ini_parse("mem.ini", "[t]\nk = ${CCMM_TEST_BIG}\n", record, &s, &err), -E2BIG);
		assert_int_equal(err.line, 2);
	}
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

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Nothing in @dir but @keep (no temporaries left behind). */
static void assert_only(const char *dir, const char *keep)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "test \"$(ls -A %s | grep -v '^%s$' | grep -c .)\" = 0", dir, keep);
	assert_int_equal(system(cmd), 0);
}

/* A regular file appears only complete; an aborted one leaves nothing. */
static void test_outfile(void **state)
{
	struct ccmm_outfile o;
	char dir[128], path[160];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/out", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/report.json", dir);
	assert_int_equal(ccmm_outfile_open(&o, path), 0);
	assert_int_equal(o.mode, CCMM_OUTFILE_ATOMIC);
	assert_non_null(ccmm_outfile_pending(&o));
	fputs("{}", o.fp);
	/* not there until committed */
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(ccmm_outfile_commit(&o), 0);
	assert_string_equal(slurp(path), "{}");
	assert_int_equal(stat(path, &st), 0);
	{
		mode_t mask = umask(0);

		umask(mask);
		assert_int_equal(st.st_mode & 0777, 0666 & ~mask); /* as open(O_CREAT, 0666) would */
	}
	assert_only(dir, "report.json");

	/* an aborted file leaves neither the name nor the temporary behind */
	snprintf(path, sizeof(path), "%s/aborted.json", dir);
	assert_int_equal(ccmm_outfile_open(&o, path), 0);
	fputs("{\"half", o.fp);
	ccmm_outfile_abort(&o);
	assert_int_equal(access(path, F_OK), -1);
	assert_only(dir, "report.json");
}

/* An existing file is replaced whole at commit, kept whole on failure, and keeps its permission bits. */
static void test_outfile_existing_kept(void **state)
{
	struct ccmm_outfile o;
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/kept.json", tmpdir);
	write_file("kept.json", "old report");
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(ccmm_outfile_open(&o, path), 0);
	fputs("new, half", o.fp);
	/* the user's file is untouched while the run goes on ... */
	assert_string_equal(slurp(path), "old report");
	ccmm_outfile_abort(&o);
	/* ... and after it failed */
	assert_string_equal(slurp(path), "old report");
	assert_int_equal(ccmm_outfile_open(&o, path), 0);
	fputs("new report", o.fp);
	assert_int_equal(ccmm_outfile_commit(&o), 0);
	assert_string_equal(slurp(path), "new report");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
}

/* /dev/null is written in place: it stays a character device (the data-loss bug of issue 14, as root). */
static void test_outfile_dev_null(void **state)
{
	struct ccmm_outfile o;
	struct stat before, after;

	assert_int_equal(stat("/dev/null", &before), 0);
	assert_int_equal(ccmm_outfile_open(&o, "/dev/null"), 0);
	assert_int_equal(o.mode, CCMM_OUTFILE_INPLACE);
	assert_null(ccmm_outfile_pending(&o));
	fputs("{}", o.fp);
	assert_int_equal(ccmm_outfile_commit(&o), 0);
	assert_int_equal(stat("/dev/null", &after), 0);
	assert_true(S_ISCHR(after.st_mode));
	assert_int_equal(after.st_rdev, before.st_rdev);
	assert_int_equal(after.st_ino, before.st_ino);
	assert_int_equal(access("/dev/null.tmp", F_OK), -1);
}

/* A FIFO is written in place: the reader gets the bytes, the FIFO stays a FIFO. */
static void test_outfile_fifo(void **state)
{
	struct ccmm_outfile o;
	char path[160], got[64] = "";
	struct stat st;
	int pipefd[2], status;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/fifo", tmpdir);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) { /* the reader: what comes through the FIFO goes back through the pipe */
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, got, sizeof(got) - 1) : -1;

		_exit(n > 0 && write(pipefd[1], got, (size_t)n) == n ? 0 : 1);
	}
	close(pipefd[1]);
	assert_int_equal(ccmm_outfile_open(&o, path), 0); /* blocks until the reader opened it */
	assert_int_equal(o.mode, CCMM_OUTFILE_INPLACE);
	fputs("through the fifo", o.fp);
	assert_int_equal(ccmm_outfile_commit(&o), 0);
	assert_true(read(pipefd[0], got, sizeof(got) - 1) > 0);
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_string_equal(got, "through the fifo");
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
}

/*
 * "-" is standard output, and /dev/stdout (a link to /proc/self/fd/1) is the
 * open file behind descriptor 1: written through a duplicate at its offset,
 * never reopened, truncated or renamed over. Stdout is pointed at a file
 * here, as "ccmm run --json /dev/stdout > out" does.
 */
static void test_outfile_stdout(void **state)
{
	struct ccmm_outfile o;
	char path[160];
	struct stat st;
	int saved = dup(1), fd;

	snprintf(path, sizeof(path), "%s/stdout.txt", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stdout);
	assert_int_equal(dup2(fd, 1), 1);
	close(fd);
	assert_int_equal(write(1, "text report\n", 12), 12);
	assert_int_equal(ccmm_outfile_open(&o, "/dev/stdout"), 0);
	assert_int_equal(o.mode, CCMM_OUTFILE_INPLACE);
	fputs("{\"json\": 1}\n", o.fp);
	assert_int_equal(ccmm_outfile_commit(&o), 0);
	assert_int_equal(ccmm_outfile_open(&o, "-"), 0);
	assert_int_equal(o.mode, CCMM_OUTFILE_STDOUT);
	assert_ptr_equal(o.fp, stdout);
	fputs("dash\n", o.fp);
	assert_int_equal(ccmm_outfile_commit(&o), 0);
	fflush(stdout);
	assert_int_equal(dup2(saved, 1), 1);
	close(saved);
	/* both writes landed after the text, in the same file, which is still the file the shell opened */
	assert_string_equal(slurp(path), "text report\n{\"json\": 1}\ndash\n");
	assert_int_equal(lstat("/dev/stdout", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	/* a descriptor that is not open is an error, not a file named after it */
	assert_int_equal(ccmm_outfile_open(&o, "/dev/fd/987"), -EBADF);
	unlink(path);
}

/* A symbolic link is followed: its target is replaced, the link stays; a directory is refused. */
static void test_outfile_symlink_dir(void **state)
{
	struct ccmm_outfile o;
	char link[160], target[160];
	struct stat st;

	snprintf(target, sizeof(target), "%s/real.json", tmpdir);
	snprintf(link, sizeof(link), "%s/link.json", tmpdir);
	write_file("real.json", "old");
	assert_int_equal(symlink("real.json", link), 0);
	assert_int_equal(ccmm_outfile_open(&o, link), 0);
	assert_string_equal(o.target, target);
	fputs("new", o.fp);
	assert_int_equal(ccmm_outfile_commit(&o), 0);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_string_equal(slurp(target), "new");
	/* a link loop */
	snprintf(target, sizeof(target), "%s/loop", tmpdir);
	assert_int_equal(symlink("loop", target), 0);
	assert_int_equal(ccmm_outfile_open(&o, target), -ELOOP);
	assert_int_equal(ccmm_outfile_open(&o, tmpdir), -EISDIR);
	unlink(link);
	unlink(target);
	snprintf(target, sizeof(target), "%s/real.json", tmpdir);
	unlink(target);
}

/*
 * Something that becomes a FIFO while the run goes on is not renamed over:
 * the commit fails, the temporary goes, the FIFO stays.
 */
static void test_outfile_never_rename_over_special(void **state)
{
	struct ccmm_outfile o;
	char path[200];
	struct stat st;
	char dir[160];

	snprintf(dir, sizeof(dir), "%s/special", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/became-fifo", dir);
	assert_int_equal(ccmm_outfile_open(&o, path), 0);
	assert_int_equal(o.mode, CCMM_OUTFILE_ATOMIC);
	fputs("x", o.fp);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_int_equal(ccmm_outfile_commit(&o), -EEXIST);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_only(dir, "became-fifo");
	unlink(path);
}

/*
 * A read-only folder: the output cannot even start, and the user's file in
 * it stays. As root (CI) the check runs in a child that gives up root, or
 * on a read-only bind mount when it cannot.
 */
static void test_outfile_readonly_dir(void **state)
{
	char dir[160], path[200];
	pid_t pid;
	int status;

	snprintf(dir, sizeof(dir), "%s/ro", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/ro/keep.json", tmpdir);
	write_file("ro/keep.json", "users file");
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(chmod(dir, 0555), 0);
	assert_int_equal(chmod(tmpdir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		struct ccmm_outfile o;
		int ret;

		if (geteuid() == 0 && (setgid(65534) || setuid(65534)))
			_exit(77);
		ret = ccmm_outfile_open(&o, path);
		_exit(ret == -EACCES ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_string_equal(slurp(path), "users file");
	assert_only(dir, "keep.json");
	chmod(dir, 0755);
}

/* The search path: the job's folder, $CCMM_PATH (and its sub-folder), the share folder; extensions added. */
static void test_path_find(void **state)
{
	char out[512], want[512], dir[160];

	snprintf(dir, sizeof(dir), "%s/search", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_file("search/here.ini", "");
	snprintf(want, sizeof(want), "%s/platforms", dir);
	assert_int_equal(mkdir(want, 0755), 0);
	write_file("search/platforms/there.ini", "");
	unsetenv("CCMM_PATH");
	/* beside the job */
	assert_int_equal(ccmm_path_find("here.ini", dir, "platforms", ".ini", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/here.ini", dir);
	assert_string_equal(out, want);
	/* with the extension added */
	assert_int_equal(ccmm_path_find("here", dir, "platforms", ".ini", out, sizeof(out)), 0);
	assert_string_equal(out, want);
	/* not on the path yet: the error names the place beside the job */
	assert_int_equal(ccmm_path_find("there", "/nonexistent", "platforms", ".ini", out, sizeof(out)), -ENOENT);
	assert_string_equal(out, "/nonexistent/there");
	/* CCMM_PATH: a folder and its platforms/ */
	snprintf(want, sizeof(want), "/nonexistent::%s", dir);
	setenv("CCMM_PATH", want, 1);
	assert_int_equal(ccmm_path_find("there", "/nonexistent", "platforms", ".ini", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/platforms/there.ini", dir);
	assert_string_equal(out, want);
	assert_int_equal(ccmm_path_find("platforms/there.ini", NULL, NULL, NULL, out, sizeof(out)), 0);
	assert_string_equal(out, want);
	/* an absolute name is only itself */
	assert_int_equal(ccmm_path_find("/nonexistent/there.ini", NULL, "platforms", ".ini", out, sizeof(out)), -ENOENT);
	unsetenv("CCMM_PATH");
	assert_non_null(strstr(ccmm_datadir(), "/ccmm"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_range_overflow),
		cmocka_unit_test(test_host_ram),
		cmocka_unit_test(test_kb_base),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_ini_include),
		cmocka_unit_test(test_ini_inline_comments),
		cmocka_unit_test(test_ini_env),
		cmocka_unit_test(test_ini_errors),
		cmocka_unit_test(test_rng),
		cmocka_unit_test(test_outfile),
		cmocka_unit_test(test_outfile_existing_kept),
		cmocka_unit_test(test_outfile_dev_null),
		cmocka_unit_test(test_outfile_stdout),
		cmocka_unit_test(test_outfile_symlink_dir),
		cmocka_unit_test(test_outfile_never_rename_over_special),
		cmocka_unit_test(test_outfile_readonly_dir),
		cmocka_unit_test(test_path_find),
		cmocka_unit_test(test_outfile_fifo),
	};

	return cmocka_run_group_tests_name("util", tests, setup_dir, teardown_dir);
}
