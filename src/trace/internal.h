/* SPDX-License-Identifier: MIT */
/* trace/ internals: trace.c's line reader (files plain, gzip or zstd, numbered lines), shared with ftrace.c. */
#ifndef CCMM_TRACE_INTERNAL_H
#define CCMM_TRACE_INTERNAL_H

#include "trace/trace.h"

/*
 * Open @path for reading lines of at most @max_line bytes (longer: an error
 * at that line). 0 or -errno with @err set.
 */
int _ccmm_trace_open_lines(const char *path, size_t max_line, struct ccmm_trace **out, struct ccmm_error *err);

/* The next line in *@line (NUL-terminated, no newline; NULL at the end) and its number: 0, or -errno with @err. */
int _ccmm_trace_next_line(struct ccmm_trace *t, char **line, uint64_t *lineno, struct ccmm_error *err);

/* The path the reader was opened with. */
const char *_ccmm_trace_path(const struct ccmm_trace *t);

#endif
