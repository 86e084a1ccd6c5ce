// SPDX-License-Identifier: MIT
/* The fio I/O log reader: versions 2 and 3, checked line by line. */
#include "iolog/iolog.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 4096
#define MAX_FIELDS 6

static const char *const action_names[] = { "read", "write", "sync", "datasync", "trim", NULL };
static const char *const all_words[] = { "read", "write", "sync", "datasync", "trim", "wait", "add", "open", "close" };

const char *ccmm_iolog_action_name(enum ccmm_iolog_action a)
{
	return (unsigned)a < CCMM_IOLOG_NR_ACTIONS ? action_names[a] : "?";
}

void ccmm_iolog_free(struct ccmm_iolog *log)
{
	free(log->files);
	free(log->io);
	memset(log, 0, sizeof(*log));
}

/* A decimal number filling the whole field. */
static int number(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -EINVAL;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return 0;
}

struct reader {
	struct ccmm_iolog *log;
	struct ccmm_error *err;
	struct ccmm_loc loc;
	unsigned char *opened; /* per file: 0 added, 1 open */
	size_t cap_files;      /* of opened[] */
	size_t cap_names;      /* of log->files[] */
	uint64_t now_us;       /* v2: sum of waits; v3: last timestamp */
};

static int bad(struct reader *r, const char *fmt, const char *a, const char *b)
{
	return ccmm_error_set(r->err, &r->loc, -EINVAL, fmt, a, b);
}

/* A time past what the modeled clock holds: @us microseconds (@wait: reached by adding a wait). */
static int too_late(struct reader *r, uint64_t us, uint64_t wait)
{
	char t[64];

	if (wait)
		snprintf(t, sizeof(t), "a wait of %" PRIu64 " us after %" PRIu64 " us", wait, us);
	else
		snprintf(t, sizeof(t), "timestamp %" PRIu64 " us", us);
	return ccmm_error_set(r->err, &r->loc, -EINVAL,
			      "%s goes past the end of the modeled clock: times must stay within %" PRIu64
			      " us (nanoseconds in 64 bits)",
			      t, (uint64_t)CCMM_IOLOG_MAX_US);
}

static long file_index(struct reader *r, const char *name)
{
	for (size_t i = 0; i < r->log->nr_files; i++)
		if (!strcmp(r->log->files[i], name))
			return (long)i;
	return -1;
}

static int file_action(struct reader *r, const char *fname, const char *act)
{
	struct ccmm_iolog *log = r->log;
	long f = file_index(r, fname);

	if (strlen(fname) >= sizeof(log->files[0]))
		return bad(r, "file name '%.40s...' is longer than 255 characters%s", fname, "");
	if (!strcmp(act, "add")) {
		if (f >= 0)
			return bad(r, "file '%s' is added twice%s", fname, "");
		if (ccmm_grow((void **)&log->files, &r->cap_names, log->nr_files + 1, sizeof(*log->files)) ||
		    ccmm_grow((void **)&r->opened, &r->cap_files, log->nr_files + 1, 1))
			return ccmm_error_set(r->err, &r->loc, -ENOMEM, "out of memory");
		snprintf(log->files[log->nr_files], sizeof(log->files[0]), "%s", fname);
		r->opened[log->nr_files] = 0;
		log->nr_files++;
		return 0;
	}
	if (f < 0)
		return bad(r, "'%s' of file '%s', which was never added", act, fname);
	if (!strcmp(act, "open")) {
		if (r->opened[f])
			return bad(r, "file '%s' is opened twice%s", fname, "");
		r->opened[f] = 1;
		return 0;
	}
	if (!r->opened[f])
		return bad(r, "close of file '%s', which is not open%s", fname, "");
	r->opened[f] = 0;
	return 0;
}

static int io_action(struct reader *r, const char *fname, const char *act, const char *off_s, const char *len_s)
{
	struct ccmm_iolog *log = r->log;
	struct ccmm_iolog_io *io;
	uint64_t off, len, end;
	long f = file_index(r, fname);
	int a, ret;

	ret = number(off_s, &off);
	if (!ret)
		ret = number(len_s, &len);
	if (ret == -ERANGE)
		return bad(r, "%s: a number does not fit in 64 bits%s", act, "");
	if (ret)
		return bad(r, "%s: offset and length must be decimal numbers, not '%s'", act,
			   number(off_s, &off) ? off_s : len_s);
	if (!strcmp(act, "wait")) {
		if (log->version == 3)
			return bad(r, "'wait' is not allowed in a version 3 log (timestamps replace it)%s%s", "", "");
		/* fio discards waits below 100 us */
		if (off >= 100) {
			if (off > CCMM_IOLOG_MAX_US - r->now_us)
				return too_late(r, r->now_us, off);
			r->now_us += off;
		}
		return 0;
	}
	a = ccmm_choice_index(action_names, act);
	if (a < 0)
		return -ENOENT;
	if (f < 0)
		return bad(r, "%s on file '%s', which was never added", act, fname);
	if (!r->opened[f])
		return bad(r, "%s on file '%s', which is not open", act, fname);
	if ((a == CCMM_IOLOG_READ || a == CCMM_IOLOG_WRITE || a == CCMM_IOLOG_TRIM) && !len)
		return bad(r, "a %s of 0 bytes%s", act, "");
	if (ccmm_range_end(off, len, 0, &end))
		return bad(r, "%s: offset + length overflows%s", act, "");
	if (ccmm_grow((void **)&log->io, &log->cap_io, log->nr_io + 1, sizeof(*log->io)))
		return ccmm_error_set(r->err, &r->loc, -ENOMEM, "out of memory");
	io = &log->io[log->nr_io++];
	io->time_us = r->now_us;
	io->file = (uint32_t)f;
	io->action = (uint8_t)a;
	io->line = r->loc.line;
	if (a == CCMM_IOLOG_SYNC || a == CCMM_IOLOG_DATASYNC) {
		/* fio logs the file's state with a sync; the replay flushes the whole device */
		io->offset = 0;
		io->len = 0;
	} else {
		io->offset = off;
		io->len = len;
		if (len > log->max_len) {
			log->max_len = len;
			log->max_len_line = r->loc.line;
		}
		if (end > log->max_end) {
			log->max_end = end;
			log->max_end_line = r->loc.line;
		}
	}
	log->count[a]++;
	log->bytes[a] += io->len;
	return 0;
}

/* One line, split into fields. */
static int line(struct reader *r, char *text)
{
	char *field[MAX_FIELDS + 1];
	int n = 0, first = 0, ret;
	char *save = NULL;

	for (char *t = strtok_r(text, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
		if (n == MAX_FIELDS + 1)
			return bad(r, "too many fields%s%s", "", "");
		field[n++] = t;
	}
	if (!n)
		return 0;
	if (r->log->version == 3) {
		uint64_t ts;

		ret = number(field[0], &ts);
		if (ret)
			return bad(r, "a version 3 line starts with a timestamp in microseconds, not '%s'%s", field[0], "");
		if (ts > CCMM_IOLOG_MAX_US)
			return too_late(r, ts, 0);
		if (ts < r->now_us) {
			char a[32], b[32];

			snprintf(a, sizeof(a), "%" PRIu64, ts);
			snprintf(b, sizeof(b), "%" PRIu64, r->now_us);
			return bad(r, "timestamp %s us is before the previous line's %s us", a, b);
		}
		r->now_us = ts;
		first = 1;
	}
	if (n - first == 2) {
		const char *act = field[first + 1];

		if (!strcmp(act, "add") || !strcmp(act, "open") || !strcmp(act, "close"))
			return file_action(r, field[first], act);
		if (ccmm_choice_index(action_names, act) >= 0 || !strcmp(act, "wait"))
			return bad(r, "truncated line: '%s' needs an offset and a length%s", act, "");
	} else if (n - first == 4) {
		const char *act = field[first + 1];

		if (!strcmp(act, "add") || !strcmp(act, "open") || !strcmp(act, "close"))
			return bad(r, "'%s' takes no offset or length%s", act, "");
		ret = io_action(r, field[first], act, field[first + 2], field[first + 3]);
		if (ret != -ENOENT)
			return ret;
	} else if (n - first == 3) {
		return bad(r, "truncated line: an I/O line is %sFILE ACTION OFFSET LENGTH%s",
			   r->log->version == 3 ? "TIMESTAMP " : "", "");
	} else if (n - first < 2) {
		return bad(r, "truncated line: expected %sFILE ACTION [OFFSET LENGTH]%s", r->log->version == 3 ? "TIMESTAMP " : "",
			   "");
	} else {
		return bad(r, "too many fields: expected %sFILE ACTION [OFFSET LENGTH]%s",
			   r->log->version == 3 ? "TIMESTAMP " : "", "");
	}
	{
		const char *act = field[first + 1];
		const char *near = ccmm_suggest(act, all_words, CCMM_ARRAY_SIZE(all_words));
		char hint[64] = "";

		if (near)
			snprintf(hint, sizeof(hint), "; did you mean '%s'?", near);
		return bad(r, "unknown action '%s'%s", act, hint);
	}
}

int ccmm_iolog_parse(const char *name, const char *text, size_t len, struct ccmm_iolog *log, struct ccmm_error *err)
{
	struct reader r = { log, err, { name, 0 }, NULL, 0, 0, 0 };
	size_t pos = 0;
	char buf[MAX_LINE + 2];
	int ret = 0;

	memset(log, 0, sizeof(*log));
	snprintf(log->path, sizeof(log->path), "%s", name);
	while (pos < len && !ret) {
		size_t end = pos, n;

		while (end < len && text[end] != '\n')
			end++;
		n = end - pos;
		r.loc.line++;
		if (n > MAX_LINE) {
			ret = ccmm_error_set(err, &r.loc, -EINVAL, "line longer than %d characters", MAX_LINE);
			break;
		}
		memcpy(buf, text + pos, n);
		buf[n] = '\0';
		if (memchr(buf, '\0', n)) {
			ret = ccmm_error_set(err, &r.loc, -EINVAL, "binary data: not a text I/O log (a blktrace needs blkparse)");
			break;
		}
		pos = end + 1;
		if (r.loc.line == 1) {
			unsigned v;
			char tail;

			if (n && buf[n - 1] == '\r')
				buf[n - 1] = '\0';
			if (sscanf(buf, "fio version %u iolog%c", &v, &tail) != 1)
				ret = ccmm_error_set(err, &r.loc, -EINVAL,
						     "not an fio I/O log: the first line must be 'fio version 2 iolog' or "
						     "'fio version 3 iolog'");
			else if (v != 2 && v != 3)
				ret = ccmm_error_set(err, &r.loc, -EINVAL, "fio I/O log version %u: only versions 2 and 3 are read",
						     v);
			else
				log->version = (int)v;
			continue;
		}
		ret = line(&r, buf);
	}
	if (!ret && !log->version)
		ret = ccmm_error_set(err, &r.loc, -EINVAL, "empty file: not an fio I/O log");
	if (!ret && !log->nr_io) {
		r.loc.line = 0;
		ret = ccmm_error_set(err, &r.loc, -EINVAL, "the log has no I/O to replay");
	}
	log->duration_us = r.now_us;
	free(r.opened);
	if (ret) {
		ccmm_iolog_free(log);
		snprintf(log->path, sizeof(log->path), "%s", name);
	}
	return ret;
}

int ccmm_iolog_load(const char *path, struct ccmm_iolog *log, struct ccmm_error *err)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0;
	int ret;

	memset(log, 0, sizeof(*log));
	if (!f)
		return ccmm_error_set(err, NULL, -ENOENT, "%s: the I/O log cannot be opened", path);
	for (;;) {
		size_t n;

		if (ccmm_grow((void **)&text, &cap, len + 65536, 1)) {
			fclose(f);
			free(text);
			return ccmm_error_set(err, NULL, -ENOMEM, "%s: out of memory", path);
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	ret = ferror(f) ? ccmm_error_set(err, NULL, -EIO, "%s: read error", path) : 0;
	fclose(f);
	if (!ret)
		ret = ccmm_iolog_parse(path, text, len, log, err);
	free(text);
	return ret;
}
