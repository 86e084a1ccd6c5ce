/* SPDX-License-Identifier: MIT */
/*
 * util.h - what every ccmm layer needs and none of them models.
 *
 *   error reporting     struct ccmm_error: "FILE:LINE: what is wrong"
 *   numbers             sizes with k/m/g/t suffixes, lo-hi ranges
 *   option tables       name, type, offset, limits, default, help; typo
 *                       suggestions from the table (as fio does)
 *   INI files           inih underneath, plus fio's "include FILE" and a
 *                       location for every line, across includes
 *   PRNG                xoshiro256** seeded by splitmix64, one stream per
 *                       actor so runs are deterministic for a given seed
 *   output files        regular files written to a temporary name and
 *                       renamed, devices, FIFOs and "-" in place, so a
 *                       failed run never leaves a half-written report
 *   data files          a search path: the job's folder, $CCMM_PATH, the
 *                       installed share folder
 *
 * Every function returns 0 (or a count) or a negative errno and never
 * exits. Functions that can fail on user input fill a struct ccmm_error.
 */
#ifndef CCMM_UTIL_H
#define CCMM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

#define CCMM_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define CCMM_MIN(a, b) ((a) < (b) ? (a) : (b))
#define CCMM_MAX(a, b) ((a) > (b) ? (a) : (b))
#define CCMM_ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a) - 1))
#define CCMM_ALIGN_UP(x, a) (((x) + ((uint64_t)(a) - 1)) & ~((uint64_t)(a) - 1))
#define CCMM_IS_ALIGNED(x, a) (((x) & ((uint64_t)(a) - 1)) == 0)

#define CCMM_KiB (1ULL << 10)
#define CCMM_MiB (1ULL << 20)
#define CCMM_GiB (1ULL << 30)
#define CCMM_TiB (1ULL << 40)

#if defined(__GNUC__)
#define CCMM_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CCMM_PRINTF(f, a)
#endif

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

/*
 * A user-facing error: where it is and what is wrong. line is 0 when the
 * problem belongs to the whole file (or to no file: file is then "").
 */
struct ccmm_error {
	char file[256];
	int line;
	char msg[512];
};

/* A location in an input file. file points at storage owned by the parser. */
struct ccmm_loc {
	const char *file;
	int line;
};

/*
 * ccmm_error_set - record an error at @loc (may be NULL) with a printf
 * message. Returns @ret so callers can write "return ccmm_error_set(...)".
 * @err may be NULL, in which case only @ret is returned.
 */
int ccmm_error_set(struct ccmm_error *err, const struct ccmm_loc *loc, int ret,
		   const char *fmt, ...) CCMM_PRINTF(4, 5);

/* Format "FILE:LINE: msg" (or "FILE: msg", or "msg") into @buf. */
void ccmm_error_format(const struct ccmm_error *err, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Numbers                                                             */
/* ------------------------------------------------------------------ */

/*
 * ccmm_parse_u64 - decimal, 0x hex or 0b binary, with an optional size
 * suffix when @suffixes is true: k/m/g/t/p with an optional trailing 'b'
 * ("4k", "4kb", "1g") or their IEC forms with 'i' ("2MiB", "4ki"),
 * case-insensitive. What a suffix multiplies by follows this thread's
 * kb_base (ccmm_kb_base_set): 1024, the default, reads both forms as powers
 * of 1024; 1000 reads k/kb as powers of 1000 and KiB as powers of 1024 (the
 * SI and IEC meanings, as fio's kb_base=1000).
 * Returns 0, -EINVAL for malformed text, -ERANGE on overflow.
 */
int ccmm_parse_u64(const char *s, bool suffixes, uint64_t *out);

/*
 * ccmm_kb_base_set - how size suffixes read in the calling thread from now
 * on: 1024 (the default) or 1000, as fio's kb_base option. The job reader
 * sets it from a job's [global] kb_base while it reads that job, and
 * restores it. Returns the previous value, or -EINVAL (nothing changed)
 * for any other value. ccmm_kb_base() is the current one.
 */
int ccmm_kb_base_set(unsigned kb_base);
unsigned ccmm_kb_base(void);

/*
 * ccmm_parse_range - "N", "LO-HI" or "LO:HI" (each side as ccmm_parse_u64
 * with suffixes), as fio's range options. A single value gives lo == hi; a
 * reversed range is swapped (fio does the same), so *@lo <= *@hi always.
 * Returns 0, -EINVAL for malformed text, -ERANGE on overflow.
 */
int ccmm_parse_range(const char *s, uint64_t *lo, uint64_t *hi);

/* ccmm_parse_bool - 1/0, yes/no, true/false, on/off. -EINVAL otherwise. */
int ccmm_parse_bool(const char *s, bool *out);

/* Print @bytes as "4KiB", "2MiB", "1.5GiB" into @buf; returns @buf. */
char *ccmm_format_size(uint64_t bytes, char *buf, size_t len);

/* A duration in nanoseconds as reports print it: "987ns", "12.30us", "4.50ms", "1.234s". Returns @buf. */
char *ccmm_format_ns(uint64_t ns, char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Address ranges                                                      */
/* ------------------------------------------------------------------ */

/*
 * Every address range ccmm takes from a job, a platform, a trace or a log
 * is [start, start + (count << shift)): @count bytes (@shift 0) or pages
 * (@shift 12 for 4 KiB pages). These helpers compute its end without
 * wrapping, so a count whose size in bytes does not fit in 64 bits can
 * never pass a bounds check as a small range.
 *
 * ccmm_range_end - the range's end (exclusive). Returns 0 with *@end set,
 * or -EOVERFLOW when (count << shift) or start + that does not fit in 64
 * bits (*@end untouched). @shift is at most 63.
 */
int ccmm_range_end(uint64_t start, uint64_t count, unsigned shift, uint64_t *end);

/*
 * ccmm_range_within - whether [start, start + (count << shift)) lies inside
 * [@lo, @hi) (@hi exclusive). An empty range lies inside when
 * lo <= start <= hi. Returns 0, -EOVERFLOW as ccmm_range_end, or -ERANGE
 * when the range begins below @lo or ends above @hi.
 */
int ccmm_range_within(uint64_t start, uint64_t count, unsigned shift, uint64_t lo, uint64_t hi);

/*
 * ccmm_host_ram - bytes of physical memory on the host ccmm runs on
 * (sysconf _SC_PHYS_PAGES), or UINT64_MAX when the host does not say.
 * The environment variable CCMM_HOST_RAM (a size: "8g") overrides it, so
 * tests and fuzzing can model a smaller host. Used to refuse, at their
 * line, inputs whose modeling needs more host memory than there is.
 */
uint64_t ccmm_host_ram(void);

/* ------------------------------------------------------------------ */
/* Suggestions                                                         */
/* ------------------------------------------------------------------ */

/* Optimal-string-alignment distance (Damerau-Levenshtein), case-insensitive. */
unsigned ccmm_edit_distance(const char *a, const char *b);

/*
 * ccmm_suggest - the candidate closest to @word, or NULL when none is close
 * enough (distance at most 2, or a third of the word's length if larger).
 * @cands is an array of @n strings; NULL entries are skipped.
 */
const char *ccmm_suggest(const char *word, const char *const *cands, size_t n);

/* ------------------------------------------------------------------ */
/* Option tables                                                       */
/* ------------------------------------------------------------------ */

enum ccmm_opt_type {
	CCMM_OPT_U64,   /* number; size suffixes allowed when .size is set */
	CCMM_OPT_RANGE, /* lo-hi number range: stored as struct ccmm_range */
	CCMM_OPT_BOOL,
	CCMM_OPT_STR,   /* copied into a char[.max] buffer */
	CCMM_OPT_ENUM,  /* one of .choices; index stored as int */
};

struct ccmm_range {
	uint64_t lo, hi;
};

/*
 * One option a section accepts. @off is the offset of the field in the
 * target struct (uint64_t, struct ccmm_range, bool, char[max], int).
 * Numbers outside [min, max] are rejected (max 0 means no upper bound).
 * A number option whose default is "none" also takes "none", stored as
 * UINT64_MAX: the option is not set.
 */
struct ccmm_option {
	const char *name;
	enum ccmm_opt_type type;
	size_t off;
	uint64_t min, max;
	bool size;                  /* accept k/m/g/t suffixes */
	const char *const *choices; /* CCMM_OPT_ENUM, NULL-terminated */
	const char *def;            /* default as text, NULL for none */
	const char *help;
};

/* Find @name in @opts (NULL-name terminated). NULL when absent. */
const struct ccmm_option *ccmm_option_find(const struct ccmm_option *opts,
					   const char *name);

/*
 * ccmm_option_set - parse @value for option @name into @base.
 * Unknown names give "unknown option 'x' in [sect]; did you mean 'y'?",
 * bad values name the expected form and the limits. Errors are placed at
 * @loc. Returns 0, -ENOENT (unknown option), -EINVAL or -ERANGE.
 */
int ccmm_option_set(const struct ccmm_option *opts, void *base, const char *section,
		    const char *name, const char *value, const struct ccmm_loc *loc,
		    struct ccmm_error *err);

/* Apply every option's default to @base. Returns 0 or -EINVAL (bad table). */
int ccmm_option_defaults(const struct ccmm_option *opts, void *base);

/* Index of @s in NULL-terminated @choices, or -1. Case-insensitive. */
int ccmm_choice_index(const char *const *choices, const char *s);

/* ------------------------------------------------------------------ */
/* INI files                                                           */
/* ------------------------------------------------------------------ */

/*
 * Called once per "key = value" line (and once per "[section]" header with
 * key == NULL and value == NULL). @loc is the line's file and line number,
 * valid across includes; loc->file lives only until ccmm_ini_parse() returns,
 * so a handler that keeps locations must copy the name. Return 0 to go on or
 * a negative errno to stop; the callback should have filled @err.
 */
typedef int (*ccmm_ini_handler)(void *user, const char *section, const char *key,
				const char *value, const struct ccmm_loc *loc,
				struct ccmm_error *err);

/*
 * ccmm_ini_parse - parse an INI file with inih: "[section]" headers,
 * "key=value" lines and fio's "include FILE" lines (relative to the
 * including file, else found as ccmm_path_find(FILE, ..., "jobs") finds
 * it; nested up to 8 deep, cycles refused), with fio's job-file syntax
 * on every line before inih sees it:
 *   comments    everything from the first ';' or '#' of a line on is a
 *               comment, inline too ("size = 4k # four pages"), as fio's
 *               strip_blank_end() has it
 *   ${VAR}      replaced by the environment variable VAR; an unset VAR is
 *               an error naming it (fio substitutes an empty string)
 * When @text is not NULL it is parsed instead of reading @path, and @path
 * only names it in messages (includes are then relative to the current
 * directory). Returns 0, or a negative errno with @err set to the place:
 * -ENOENT for an unset variable or a missing file, -EINVAL for bad syntax,
 * -E2BIG for a line longer than inih's buffer, -ELOOP for an include cycle.
 *
 * Locking: none; the parser keeps its state on the caller's stack.
 */
int ccmm_ini_parse(const char *path, const char *text, ccmm_ini_handler handler,
		   void *user, struct ccmm_error *err);

/* ------------------------------------------------------------------ */
/* Deterministic random numbers                                        */
/* ------------------------------------------------------------------ */

struct ccmm_rng {
	uint64_t s[4];
};

/* Seed from (@seed, @stream): distinct streams give independent sequences. */
void ccmm_rng_seed(struct ccmm_rng *r, uint64_t seed, uint64_t stream);
uint64_t ccmm_rng_next(struct ccmm_rng *r);
/* Uniform in [lo, hi] (inclusive), without modulo bias. */
uint64_t ccmm_rng_range(struct ccmm_rng *r, uint64_t lo, uint64_t hi);

/* ------------------------------------------------------------------ */
/* Output files                                                        */
/* ------------------------------------------------------------------ */

/*
 * An output file that loses nothing.
 *
 *   "-"                          standard output, written in place
 *   /dev/stdout, /dev/fd/N,      the open file behind descriptor N, written
 *   /proc/self/fd/N              in place through a duplicate of it (never
 *                                reopened, never truncated, never renamed)
 *   a character device, a FIFO   written in place (/dev/null, a named pipe)
 *   a regular file, a new name   written to "NAME.tmp.XXXXXX" beside it and
 *                                renamed onto it by ccmm_outfile_commit(),
 *                                so it appears only complete; a symbolic link
 *                                is followed and its target replaced (the
 *                                link stays); an existing file keeps its
 *                                permission bits
 *   anything else                refused: a directory -EISDIR, a socket or
 *                                block device -EINVAL
 *
 * ccmm_outfile_abort() removes the temporary and leaves whatever was at the
 * name untouched, so a failed run never removes or truncates a user's file.
 * Nothing is ever renamed over a file that is not regular.
 *
 * Returns 0 or -errno (-ENAMETOOLONG, -ELOOP for a symbolic-link loop, and
 * what open(2), mkstemp(3), fsync(2) and rename(2) return: -EACCES in a
 * read-only directory, -ENOSPC ...).
 *
 * Locking: an outfile belongs to one thread. ccmm_outfile_pending() may be
 * called from a signal handler: it names the temporary a handler should
 * unlink(2) before the process dies (or NULL), without locking.
 */
enum ccmm_outfile_mode {
	CCMM_OUTFILE_ATOMIC,  /* temporary beside the target, renamed at commit */
	CCMM_OUTFILE_INPLACE, /* a device, FIFO or inherited descriptor, written as it is */
	CCMM_OUTFILE_STDOUT,  /* "-" */
};

struct ccmm_outfile {
	FILE *fp;
	enum ccmm_outfile_mode mode;
	char path[4096];        /* the name as given, for messages */
	char target[4096];      /* ATOMIC: the name the rename replaces (symbolic links followed) */
	char tmp[4096 + 16];    /* ATOMIC: the temporary, "" once gone */
};

int ccmm_outfile_open(struct ccmm_outfile *o, const char *path);
int ccmm_outfile_commit(struct ccmm_outfile *o);
void ccmm_outfile_abort(struct ccmm_outfile *o);
const char *ccmm_outfile_pending(const struct ccmm_outfile *o);

/* ------------------------------------------------------------------ */
/* Data files                                                          */
/* ------------------------------------------------------------------ */

/*
 * ccmm_path_find - where a data file named in a job or on the command line
 * is (a platform, a job, an included file). An absolute @name is taken as
 * it is. A relative one is looked for, in this order, as
 *   @base_dir/NAME               the job's folder (NULL: the current one)
 *   DIR/NAME, DIR/@sub/NAME      for each DIR of $CCMM_PATH (':'-separated)
 *   SHARE/NAME, SHARE/@sub/NAME  the installed share folder (ccmm_datadir())
 * and at each place also with @ext appended ("platforms", ".ini") when
 * @name has no extension. @sub and @ext may be NULL.
 * Returns 0 with the path in @out (@len bytes), -ENOENT when it is nowhere
 * (@out then holds @base_dir/NAME, for messages), -ENAMETOOLONG.
 */
int ccmm_path_find(const char *name, const char *base_dir, const char *sub, const char *ext, char *out,
		   size_t len);

/* The installed share folder (PREFIX/share/ccmm), where platforms/ and jobs/ are. */
const char *ccmm_datadir(void);

/*
 * ccmm_read_text - the whole of text file @path, NUL-terminated, in a new
 * buffer *@out (free it). Returns 0, -errno from fopen(3), -ENOMEM, -EIO,
 * or -EILSEQ for a file with a NUL byte (not text).
 */
int ccmm_read_text(const char *path, char **out);

/*
 * An output directory tree that appears under its name only when complete
 * (util/outdir.c): ccmm_outdir_open() refuses an existing PATH unless it
 * is a previous dump of the same kind (@marker, a path inside it, exists;
 * -EEXIST "PATH: exists and is not a previous @what (no @marker)") and
 * creates "PATH.tmp.XXXXXX"; ccmm_outdir_write() writes a file at @rel
 * inside it (directories on the way created); ccmm_outdir_commit() swaps
 * it in for PATH (the previous dump removed); ccmm_outdir_abort() removes
 * it. Each returns 0 or a negative errno with @err set ("PATH: why").
 */
struct ccmm_outdir {
	char path[4096];
	char tmp[4096 + 16];
	bool replace;
};

int ccmm_outdir_open(struct ccmm_outdir *o, const char *path, const char *what, const char *marker,
		     struct ccmm_error *err);
int ccmm_outdir_write(struct ccmm_outdir *o, const char *rel, const char *text, size_t len, struct ccmm_error *err);
int ccmm_outdir_commit(struct ccmm_outdir *o, struct ccmm_error *err);
void ccmm_outdir_abort(struct ccmm_outdir *o);

/* ------------------------------------------------------------------ */
/* Settings from the command line (--set KEY=VALUE)                    */
/* ------------------------------------------------------------------ */

enum ccmm_setting_target {
	CCMM_SET_JOB,      /* a job file's line: [global] KEY, or [SECTION] KEY */
	CCMM_SET_PLATFORM, /* a platform file's line: [platform], [node:0], [device:NAME], [cost] ... */
};

/*
 * One setting, as a line the job or platform file could have held:
 *   KEY=VALUE                  [global] KEY (the engine's and every run extension's options)
 *   SECTION.KEY=VALUE          the actor section [SECTION] (global.KEY is [global])
 *   platform.KEY=VALUE         the platform's [platform] section
 *   platform.SECT:NAME.KEY=V   the platform's [SECT:NAME] section (node:0, device:gpu0, epc:sec0 ...)
 *   cost.NAME=VALUE            the platform's [cost] section
 * @origin is what the user wrote ("--set KEY=VALUE"): errors about the
 * setting name it as their file (line 0), so they read
 * "--set KEY=VALUE: what is wrong".
 */
struct ccmm_setting {
	int target;            /* enum ccmm_setting_target */
	char section[96];
	char key[64];
	char value[256];
	char origin[400];
};

/*
 * ccmm_setting_parse - parse @arg ("KEY=VALUE" in one of the forms above);
 * @how names where it came from in messages ("--set", "--vary"): origin
 * becomes "@how @arg". Returns 0, or -EINVAL with @err set ("--set 'x':
 * KEY=VALUE expected", an empty part, a part too long).
 */
int ccmm_setting_parse(const char *arg, const char *how, struct ccmm_setting *out, struct ccmm_error *err);

/*
 * ccmm_parse_time_ns - a modeled duration: a number with an optional unit
 * ns (default), us, ms or s ("500ns", "10us", "2ms", "1s"). Returns 0,
 * -EINVAL (malformed) or -ERANGE (overflow).
 */
int ccmm_parse_time_ns(const char *s, uint64_t *ns);

/* ------------------------------------------------------------------ */
/* Growable arrays                                                     */
/* ------------------------------------------------------------------ */

/*
 * ccmm_grow - make room for @need elements of @elem bytes in *@arr with
 * capacity *@cap (doubling). Returns 0 or -ENOMEM (the array is untouched).
 */
int ccmm_grow(void **arr, size_t *cap, size_t need, size_t elem);

#pragma GCC visibility pop

#endif /* CCMM_UTIL_H */
