/* SPDX-License-Identifier: MIT */
/*
 * trace.h - page-reference traces of real programs (layer 4 input).
 *
 *   file (plain, gzip or zstd: detected by magic bytes)
 *     |  zlib gzread / ZSTD_decompressStream
 *     v
 *   lines, numbered
 *     |  valgrind lackey (--trace-mem=yes):  "I  0400ab12,3"  " L 7ff000398,8"
 *     |                                      " S ..."  " M ..." ("==pid==" lines skipped)
 *     |  address trace:                      "l 0x7ff000398 8"  "s 0x7ff0003a0 4"
 *     v
 *   page references {vpn, write}: a load reads its pages, a store or modify
 *   dirties them, instruction fetches are dropped unless asked for, an access
 *   that crosses a page boundary references both pages, consecutive
 *   references to one page collapse into one (dirty if any was a write)
 *
 * Errors name the file and line: a malformed line, a line cut short by the
 * end of the file, a compressed stream that ends early or is corrupt.
 *
 * Locking: a reader belongs to one thread.
 */
#ifndef CCMM_TRACE_H
#define CCMM_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "util/util.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

enum ccmm_trace_format {
	CCMM_TRACE_AUTO,   /* decide from the first data line */
	CCMM_TRACE_LACKEY, /* valgrind --tool=lackey --trace-mem=yes */
	CCMM_TRACE_ADDR,   /* "l|s 0xADDR n" */
};

struct ccmm_trace_opts {
	enum ccmm_trace_format format;
	bool instructions;    /* keep instruction fetches (as reads) */
	bool no_collapse;     /* keep consecutive references to one page */
};

struct ccmm_page_ref {
	uint64_t vpn;         /* virtual page number (address >> 12) */
	bool write;           /* a store or modify: the page is dirty */
	uint32_t line;        /* the trace line it came from (the first of a collapsed run) */
};

struct ccmm_trace_stats {
	uint64_t lines;       /* data lines read */
	uint64_t refs;        /* page references produced */
	uint64_t writes;      /* of which dirtying */
	uint64_t instr_dropped;
};

struct ccmm_trace;

/*
 * ccmm_trace_open - open @path (plain, .gz or .zst content, whatever the
 * name). @opts may be NULL (auto format, no instructions, collapse).
 * Returns 0, or -errno with @err set ("FILE: cannot open ...", "FILE: not a
 * trace ...").
 */
int ccmm_trace_open(const char *path, const struct ccmm_trace_opts *opts, struct ccmm_trace **out,
		    struct ccmm_error *err);

/*
 * ccmm_trace_next - the next page reference. Returns 1 with *@ref filled,
 * 0 at the end of the trace, or -errno with @err at the offending line
 * (-EINVAL malformed, -EIO truncated or corrupt).
 */
int ccmm_trace_next(struct ccmm_trace *t, struct ccmm_page_ref *ref, struct ccmm_error *err);

/* Back to the first reference (the file is reopened). 0 or -errno. */
int ccmm_trace_rewind(struct ccmm_trace *t, struct ccmm_error *err);

/* Counts so far. */
void ccmm_trace_stats(const struct ccmm_trace *t, struct ccmm_trace_stats *s);

/* The detected format. */
enum ccmm_trace_format ccmm_trace_format(const struct ccmm_trace *t);

/* Close the trace and its decompressor (NULL is a no-op). */
void ccmm_trace_close(struct ccmm_trace *t);

/*
 * ccmm_trace_reduce - read @in and write its page references to @out as an
 * address trace ("l 0xADDR 4096" per reference), zstd-compressed when
 * @zstd. Used by scripts/record-trace.sh to keep shipped traces small.
 * Returns the number of references written, or -errno with @err set.
 */
long ccmm_trace_reduce(const char *in, const struct ccmm_trace_opts *opts, const char *out, bool zstd,
		       struct ccmm_error *err);

#pragma GCC visibility pop

#endif /* CCMM_TRACE_H */
