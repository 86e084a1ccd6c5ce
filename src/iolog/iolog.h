/* SPDX-License-Identifier: MIT */
/*
 * iolog.h - fio I/O logs (write_iolog / read_iolog), versions 2 and 3
 * (layer 4: trace input).
 *
 *   fio version 2 iolog                 fio version 3 iolog
 *   FILE add|open|close                 USEC FILE add|open|close
 *   FILE ACTION OFFSET LENGTH           USEC FILE ACTION OFFSET LENGTH
 *
 *   ACTION: read, write, sync, datasync, trim; version 2 also wait (OFFSET
 *   is then a delay in microseconds, relative to the previous wait).
 *   Version 3's first field is the time since the run started, in
 *   microseconds (fio's utime_since_now), and wait is not allowed.
 *
 * The reader checks what fio's replay needs: the header, the number and
 * form of fields, known actions (a typo gets a suggestion), files added
 * before they are opened and opened before I/O, non-decreasing timestamps
 * that the modeled clock can hold (at most CCMM_IOLOG_MAX_US, for waits
 * too), non-empty reads and writes, numbers that fit in 64 bits. Anything
 * else is "FILE:LINE: what is wrong" and nothing is kept. Blank lines are skipped.
 * Times of version 2 logs come from their wait actions.
 *
 * Locking: none; a log belongs to its reader.
 */
#ifndef CCMM_IOLOG_H
#define CCMM_IOLOG_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* The latest time a log may reach, in microseconds: its nanoseconds fit in 64 bits (about 584 years). */
#define CCMM_IOLOG_MAX_US (UINT64_MAX / 1000)

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

enum ccmm_iolog_action {
	CCMM_IOLOG_READ,
	CCMM_IOLOG_WRITE,
	CCMM_IOLOG_SYNC,
	CCMM_IOLOG_DATASYNC,
	CCMM_IOLOG_TRIM,
	CCMM_IOLOG_NR_ACTIONS
};

/* fio's action names: "read", "write", "sync", "datasync", "trim"; "?" out of range. */
const char *ccmm_iolog_action_name(enum ccmm_iolog_action a);

/* One I/O to replay (file management lines are checked, not kept). */
struct ccmm_iolog_io {
	uint64_t time_us;  /* since the start of the run */
	uint64_t offset;   /* bytes */
	uint64_t len;      /* bytes; 0 for sync / datasync */
	uint32_t file;     /* index into files[] */
	uint8_t action;    /* enum ccmm_iolog_action */
	int line;          /* in the log, for messages */
};

struct ccmm_iolog {
	char path[512];
	int version;                       /* 2 or 3 */
	char (*files)[256];                /* file names, in the order added */
	size_t nr_files;
	struct ccmm_iolog_io *io;
	size_t nr_io, cap_io;
	uint64_t count[CCMM_IOLOG_NR_ACTIONS];
	uint64_t bytes[CCMM_IOLOG_NR_ACTIONS];
	uint64_t max_len;                  /* largest read, write or trim */
	int max_len_line;
	uint64_t max_end;                  /* highest offset + length touched */
	int max_end_line;
	uint64_t duration_us;              /* timestamp of the last line */
};

/*
 * ccmm_iolog_parse - read a log from @text (@len bytes; it need not end in
 * a newline), naming it @name in messages. Returns 0 with @log filled, or
 * -EINVAL (malformed, with @err at the line), -ENOMEM. @log is left empty
 * on error.
 */
int ccmm_iolog_parse(const char *name, const char *text, size_t len, struct ccmm_iolog *log, struct ccmm_error *err);

/* ccmm_iolog_load - as ccmm_iolog_parse, from the file @path (-ENOENT when it cannot be read). */
int ccmm_iolog_load(const char *path, struct ccmm_iolog *log, struct ccmm_error *err);

/* Free what ccmm_iolog_parse/load allocated; @log may then be reused. */
void ccmm_iolog_free(struct ccmm_iolog *log);

#pragma GCC visibility pop

#endif /* CCMM_IOLOG_H */
