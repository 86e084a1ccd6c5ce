// SPDX-License-Identifier: MIT
/* Page-reference traces: decompression (zlib, zstd), lackey and address-trace parsing, reduction. */
#include "trace/internal.h"

#include <errno.h>
#include <stdatomic.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define LINE_MAX_LEN 256
#define IN_CHUNK (1 << 16)
#define MAX_ACCESS (256 * 1024) /* larger single accesses are not plausible trace lines */
#define MAX_ACCESS_PAGES (MAX_ACCESS / 4096 + 1)

enum codec { C_PLAIN, C_GZIP, C_ZSTD };

struct ccmm_trace {
	char path[512];
	struct ccmm_trace_opts opts;
	enum ccmm_trace_format fmt;
	enum codec codec;
	FILE *fp;                       /* raw input: a file, a pipe or a FIFO */
	uint8_t *in;                    /* raw input buffer */
	size_t in_len, in_pos;
	bool in_eof;
	ZSTD_DCtx *dctx;
	size_t zret;                    /* last ZSTD_decompressStream result: 0 = frame complete */
	z_stream zs;
	bool zs_init, zs_end;           /* inflate set up; the current gzip member ended */
	char *buf;                      /* decompressed bytes */
	size_t len, pos, cap;
	bool eof;
	uint64_t line;
	size_t max_line;                /* longest line accepted (LINE_MAX_LEN, or the ftrace reader's) */
	/* pending page references from one access that crosses pages */
	struct ccmm_page_ref pending[MAX_ACCESS_PAGES];
	int npending, ipending;
	/* collapse state */
	bool have_last;
	struct ccmm_page_ref last;
	struct ccmm_trace_stats st;
	/* ccmm_trace_read: an error met after some references, returned by the next call */
	int deferred;
	struct ccmm_error deferred_err;
};

static int read_raw(struct ccmm_trace *t, struct ccmm_error *err)
{
	struct ccmm_loc loc = { t->path, 0 };
	size_t n;

	if (t->in_pos < t->in_len || t->in_eof)
		return 0;
	n = fread(t->in, 1, IN_CHUNK, t->fp);
	if (ferror(t->fp))
		return ccmm_error_set(err, &loc, -EIO, "read error");
	t->in_len = n;
	t->in_pos = 0;
	if (!n)
		t->in_eof = true;
	return 0;
}

/* Append decompressed bytes to t->buf (at least one, or set t->eof). */
static int fill(struct ccmm_trace *t, struct ccmm_error *err)
{
	struct ccmm_loc loc = { t->path, 0 };

	for (;;) {
		size_t room = t->cap - t->len;
		int ret = read_raw(t, err);

		if (ret)
			return ret;
		if (t->in_pos == t->in_len && t->in_eof) {
			if (t->codec == C_ZSTD && t->zret != 0)
				return ccmm_error_set(err, &loc, -EIO, "the zstd stream ends early: the trace is truncated");
			if (t->codec == C_GZIP && !t->zs_end)
				return ccmm_error_set(err, &loc, -EIO, "the gzip stream ends early: the trace is truncated");
			t->eof = true;
			return 0;
		}
		if (t->codec == C_PLAIN) {
			size_t n = CCMM_MIN(room, t->in_len - t->in_pos);

			memcpy(t->buf + t->len, t->in + t->in_pos, n);
			t->in_pos += n;
			t->len += n;
			t->buf[t->len] = '\0';
			return 0;
		}
		if (t->codec == C_ZSTD) {
			ZSTD_inBuffer zi = { t->in, t->in_len, t->in_pos };
			ZSTD_outBuffer zo = { t->buf + t->len, room, 0 };

			t->zret = ZSTD_decompressStream(t->dctx, &zo, &zi);
			if (ZSTD_isError(t->zret))
				return ccmm_error_set(err, &loc, -EIO, "corrupt zstd data: %s", ZSTD_getErrorName(t->zret));
			t->in_pos = zi.pos;
			t->len += zo.pos;
			t->buf[t->len] = '\0';
			if (zo.pos)
				return 0;
			continue;
		}
		/* gzip: one or more members */
		if (t->zs_end) {
			if (inflateReset(&t->zs) != Z_OK)
				return ccmm_error_set(err, &loc, -EIO, "corrupt gzip data");
			t->zs_end = false;
		}
		t->zs.next_in = t->in + t->in_pos;
		t->zs.avail_in = (uInt)(t->in_len - t->in_pos);
		t->zs.next_out = (Bytef *)t->buf + t->len;
		t->zs.avail_out = (uInt)room;
		ret = inflate(&t->zs, Z_NO_FLUSH);
		if (ret != Z_OK && ret != Z_STREAM_END && ret != Z_BUF_ERROR)
			return ccmm_error_set(err, &loc, -EIO, "corrupt gzip data: %s", t->zs.msg ? t->zs.msg : "inflate failed");
		t->in_pos = t->in_len - t->zs.avail_in;
		t->len += room - t->zs.avail_out;
		t->buf[t->len] = '\0';
		if (ret == Z_STREAM_END)
			t->zs_end = true;
		if (room - t->zs.avail_out)
			return 0;
	}
}

/* Next line without its newline, or NULL at the end. */
static int next_line(struct ccmm_trace *t, char **line, struct ccmm_error *err)
{
	for (;;) {
		char *nl = memchr(t->buf + t->pos, '\n', t->len - t->pos);
		int ret;

		if (nl) {
			*nl = '\0';
			*line = t->buf + t->pos;
			t->pos = (size_t)(nl - t->buf) + 1;
			t->line++;
			return 1;
		}
		if (t->eof) {
			if (t->pos < t->len) {
				struct ccmm_loc loc = { t->path, (int)(t->line + 1) };

				return ccmm_error_set(err, &loc, -EIO, "the last line is cut short (no newline): the trace is truncated");
			}
			return 0;
		}
		/* keep the partial line, read more */
		memmove(t->buf, t->buf + t->pos, t->len - t->pos);
		t->len -= t->pos;
		t->pos = 0;
		t->buf[t->len] = '\0';
		if (t->len > t->max_line) {
			struct ccmm_loc loc = { t->path, (int)(t->line + 1) };

			return ccmm_error_set(err, &loc, -EINVAL, "line longer than %zu characters: not a trace", t->max_line);
		}
		ret = fill(t, err);
		if (ret)
			return ret;
	}
}

/*
 * One zstd decompression context kept after a reader closes, for the next
 * one to open: it keeps its window and buffers (several MiB for a trace
 * compressed at level 19), which a new context would allocate and fault
 * in again, page by page, at every open (a replay opens its trace to check
 * it, a bench once per side). Reset before use: nothing of the last stream
 * is left in it.
 */
static _Atomic(ZSTD_DCtx *) spare_dctx;

static ZSTD_DCtx *dctx_get(void)
{
	ZSTD_DCtx *d = atomic_exchange(&spare_dctx, NULL);

	if (d && ZSTD_isError(ZSTD_DCtx_reset(d, ZSTD_reset_session_and_parameters))) {
		ZSTD_freeDCtx(d);
		d = NULL;
	}
	return d ? d : ZSTD_createDCtx();
}

static void dctx_put(ZSTD_DCtx *d)
{
	if (d)
		ZSTD_freeDCtx(atomic_exchange(&spare_dctx, d));
}

static int open_stream(struct ccmm_trace *t, struct ccmm_error *err)
{
	struct ccmm_loc loc = { t->path, 0 };
	int ret;

	t->fp = fopen(t->path, "rb");
	if (!t->fp)
		return ccmm_error_set(err, &loc, -errno, "cannot open: %s", strerror(errno));
	t->in = malloc(IN_CHUNK);
	if (!t->in)
		return ccmm_error_set(err, &loc, -ENOMEM, "out of memory");
	/* the first bytes tell the codec; they stay in the buffer, so pipes work */
	ret = read_raw(t, err);
	if (ret)
		return ret;
	if (t->in_len >= 4 && t->in[0] == 0x28 && t->in[1] == 0xb5 && t->in[2] == 0x2f && t->in[3] == 0xfd) {
		t->codec = C_ZSTD;
		t->dctx = dctx_get();
		if (!t->dctx)
			return ccmm_error_set(err, &loc, -ENOMEM, "out of memory");
		t->zret = 1; /* no frame seen yet */
	} else if (t->in_len >= 2 && t->in[0] == 0x1f && t->in[1] == 0x8b) {
		t->codec = C_GZIP;
		memset(&t->zs, 0, sizeof(t->zs));
		if (inflateInit2(&t->zs, 16 + MAX_WBITS) != Z_OK)
			return ccmm_error_set(err, &loc, -ENOMEM, "cannot set up zlib");
		t->zs_init = true;
	} else {
		t->codec = C_PLAIN;
	}
	return 0;
}

static void close_stream(struct ccmm_trace *t)
{
	if (t->fp)
		fclose(t->fp);
	dctx_put(t->dctx);
	if (t->zs_init)
		inflateEnd(&t->zs);
	free(t->in);
	t->fp = NULL;
	t->dctx = NULL;
	t->zs_init = false;
	t->in = NULL;
}

static void reset(struct ccmm_trace *t)
{
	t->len = t->pos = 0;
	t->buf[0] = '\0';
	t->in_len = t->in_pos = 0;
	t->eof = t->in_eof = t->zs_end = false;
	t->line = 0;
	t->npending = t->ipending = 0;
	t->have_last = false;
	memset(&t->st, 0, sizeof(t->st));
	t->deferred = 0;
}

int ccmm_trace_open(const char *path, const struct ccmm_trace_opts *opts, struct ccmm_trace **out,
		    struct ccmm_error *err)
{
	struct ccmm_trace *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	snprintf(t->path, sizeof(t->path), "%s", path);
	if (opts)
		t->opts = *opts;
	t->fmt = t->opts.format;
	t->max_line = LINE_MAX_LEN;
	t->cap = IN_CHUNK * 2;
	t->buf = calloc(1, t->cap + 1); /* + 1: buf[len] is always a NUL (fast_line stops there) */
	if (!t->buf) {
		free(t);
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	}
	ret = open_stream(t, err);
	if (ret) {
		ccmm_trace_close(t);
		return ret;
	}
	*out = t;
	return 0;
}

int _ccmm_trace_open_lines(const char *path, size_t max_line, struct ccmm_trace **out, struct ccmm_error *err)
{
	int ret;

	if (max_line >= IN_CHUNK)
		return ccmm_error_set(err, NULL, -EINVAL, "lines of %zu characters do not fit the reader", max_line);
	ret = ccmm_trace_open(path, NULL, out, err);
	if (!ret)
		(*out)->max_line = max_line;
	return ret;
}

int _ccmm_trace_next_line(struct ccmm_trace *t, char **line, uint64_t *lineno, struct ccmm_error *err)
{
	int ret = next_line(t, line, err);

	*lineno = t->line;
	return ret;
}

const char *_ccmm_trace_path(const struct ccmm_trace *t)
{
	return t->path;
}

int ccmm_trace_rewind(struct ccmm_trace *t, struct ccmm_error *err)
{
	close_stream(t);
	reset(t);
	t->fmt = t->opts.format;
	return open_stream(t, err);
}

void ccmm_trace_close(struct ccmm_trace *t)
{
	if (!t)
		return;
	close_stream(t);
	free(t->buf);
	free(t);
}

void ccmm_trace_stats(const struct ccmm_trace *t, struct ccmm_trace_stats *s)
{
	*s = t->st;
}

enum ccmm_trace_format ccmm_trace_format(const struct ccmm_trace *t)
{
	return t->fmt;
}

/* The value of a hex digit, or -1 (a table: this runs for every trace line). */
static int hex_digit(unsigned char c)
{
	if ((unsigned)(c - '0') < 10u)
		return c - '0';
	c |= 0x20; /* 'A'..'F' -> 'a'..'f' */
	if ((unsigned)(c - 'a') < 6u)
		return c - 'a' + 10;
	return -1;
}

static int parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int n = 0, d;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	while ((d = hex_digit((unsigned char)*s)) >= 0) {
		if (n == 16)
			return -ERANGE;
		x = x * 16 + (uint64_t)d;
		s++;
		n++;
	}
	if (!n)
		return -EINVAL;
	*p = s;
	*v = x;
	return 0;
}

static int parse_dec(const char **p, uint64_t *v)
{
	const char *s = *p;
	uint64_t x = 0;
	int n = 0;

	while ((unsigned)((unsigned char)*s - '0') < 10u) {
		if (x > UINT32_MAX)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
		s++;
		n++;
	}
	if (!n)
		return -EINVAL;
	*p = s;
	*v = x;
	return 0;
}

/* Parse one line into an access; 1: an access, 0: nothing (comment, header, dropped), <0 error. */
static int parse_line(struct ccmm_trace *t, char *line, uint64_t *addr, uint64_t *size, bool *write,
		      struct ccmm_error *err)
{
	struct ccmm_loc loc = { t->path, (int)t->line };
	const char *p = line;
	uint64_t end;
	char kind;

	if (!line[0] || line[0] == '#')
		return 0;
	if (!strncmp(line, "==", 2) || !strncmp(line, "--", 2))
		return 0; /* valgrind's own messages */
	if (t->fmt == CCMM_TRACE_AUTO) {
		if (line[0] == 'I' || (line[0] == ' ' && strchr("LSM", line[1])))
			t->fmt = CCMM_TRACE_LACKEY;
		else if ((line[0] == 'l' || line[0] == 's') && line[1] == ' ')
			t->fmt = CCMM_TRACE_ADDR;
		else
			return ccmm_error_set(err, &loc, -EINVAL,
					      "not a trace line: '%.40s' (expected lackey 'I  ADDR,N' / ' L ADDR,N' or 'l|s 0xADDR N')",
					      line);
	}
	if (t->fmt == CCMM_TRACE_LACKEY) {
		if (line[0] == 'I' && line[1] == ' ') {
			kind = 'I';
			p = line + 1;
		} else if (line[0] == ' ' && strchr("LSM", line[1]) && line[1] && line[2] == ' ') {
			kind = line[1];
			p = line + 2;
		} else {
			return ccmm_error_set(err, &loc, -EINVAL, "not a lackey line: '%.40s'", line);
		}
		while (*p == ' ')
			p++;
		if (parse_hex(&p, addr) || *p++ != ',' || parse_dec(&p, size) || *p)
			return ccmm_error_set(err, &loc, -EINVAL, "malformed lackey access '%.40s' (expected ADDR,SIZE in hex,decimal)",
					      line);
		if (kind == 'I' && !t->opts.instructions) {
			t->st.instr_dropped++;
			return 0;
		}
		*write = kind == 'S' || kind == 'M';
	} else {
		if ((line[0] != 'l' && line[0] != 's') || line[1] != ' ')
			return ccmm_error_set(err, &loc, -EINVAL, "not an address-trace line: '%.40s' (expected 'l|s 0xADDR N')",
					      line);
		*write = line[0] == 's';
		p = line + 2;
		while (*p == ' ')
			p++;
		if (parse_hex(&p, addr))
			return ccmm_error_set(err, &loc, -EINVAL, "malformed address in '%.40s'", line);
		while (*p == ' ')
			p++;
		if (parse_dec(&p, size))
			return ccmm_error_set(err, &loc, -EINVAL, "malformed size in '%.40s'", line);
		while (*p == ' ' || *p == '\r')
			p++;
		if (*p)
			return ccmm_error_set(err, &loc, -EINVAL, "trailing text in '%.40s'", line);
	}
	if (!*size || *size > MAX_ACCESS || ccmm_range_end(*addr, *size, 0, &end))
		return ccmm_error_set(err, &loc, -EINVAL, "access size %" PRIu64 " at 0x%" PRIx64 " is not plausible", *size,
				      *addr);
	t->st.lines++;
	return 1;
}

/* Hex digit values + 1 (0: not a hex digit), for fast_line. */
static const uint8_t hex1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
	['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/*
 * The next line in place, when the format is known, the line is whole in
 * the buffer (up to its newline) and plainly well formed: 1 with its
 * access (the line consumed and counted as parse_line counts it), 2 for a
 * dropped instruction fetch (consumed, counted), 0 when anything is
 * unusual (a comment, valgrind's own lines, a line that crosses the
 * buffer's end, an address of more than 16 digits, a size of more than 7
 * digits or not plausible, an error): then next_line and parse_line read
 * it, with their messages. What it accepts, they accept the same way.
 */
static inline __attribute__((always_inline)) int fast_line(struct ccmm_trace *t, uint64_t *addr, uint64_t *size,
							    bool *write)
{
	const unsigned char *p = (const unsigned char *)t->buf + t->pos, *q;
	uint64_t x = 0, n = 0;
	unsigned d;
	bool w, drop = false;

	if (t->fmt == CCMM_TRACE_ADDR) {
		if ((p[0] != 'l' && p[0] != 's') || p[1] != ' ')
			return 0;
		w = p[0] == 's';
		p += 2;
	} else {
		if (p[0] == ' ' && (p[1] == 'L' || p[1] == 'S' || p[1] == 'M') && p[2] == ' ') {
			w = p[1] != 'L';
			p += 2;
		} else if (p[0] == 'I' && p[1] == ' ') {
			w = false;
			drop = !t->opts.instructions;
			p += 1;
		} else {
			return 0;
		}
	}
	while (*p == ' ')
		p++;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		p += 2;
	for (q = p; (d = hex1[*p]); p++)
		x = x << 4 | (d - 1);
	if (p == q || p - q > 16)
		return 0;
	if (t->fmt == CCMM_TRACE_ADDR) {
		if (*p != ' ')
			return 0;
		while (*p == ' ')
			p++;
	} else if (*p++ != ',') {
		return 0;
	}
	for (q = p; (d = (unsigned)(*p - '0')) < 10u; p++)
		n = n * 10 + d;
	if (p == q || p - q > 7)
		return 0;
	if (t->fmt == CCMM_TRACE_ADDR)
		while (*p == ' ' || *p == '\r')
			p++;
	if (*p != '\n')
		return 0;
	if (!drop && (!n || n > MAX_ACCESS || x > UINT64_MAX - n))
		return 0;
	t->pos = (size_t)((const char *)p - t->buf) + 1;
	t->line++;
	if (drop) {
		t->st.instr_dropped++;
		return 2;
	}
	t->st.lines++;
	*addr = x;
	*size = n;
	*write = w;
	return 1;
}

/* Feed one reference through the collapse stage; true when one comes out in @out. */
static bool push(struct ccmm_trace *t, struct ccmm_page_ref r, struct ccmm_page_ref *out)
{
	if (t->opts.no_collapse) {
		*out = r;
		return true;
	}
	if (t->have_last && t->last.vpn == r.vpn) {
		t->last.write |= r.write;
		return false;
	}
	if (!t->have_last) {
		t->last = r;
		t->have_last = true;
		return false;
	}
	*out = t->last;
	t->last = r;
	return true;
}

static int emit(struct ccmm_trace *t, const struct ccmm_page_ref *ref)
{
	t->st.refs++;
	t->st.writes += ref->write;
	return 1;
}

/* ccmm_trace_next, inline in it and in ccmm_trace_read's loop */
static inline __attribute__((always_inline)) int next_ref(struct ccmm_trace *t, struct ccmm_page_ref *ref,
							   struct ccmm_error *err)
{
	for (;;) {
		char *line = NULL;
		uint64_t addr = 0, size = 0;
		bool write = false;
		int ret;

		/* references queued by an access that crossed pages */
		while (t->ipending < t->npending)
			if (push(t, t->pending[t->ipending++], ref))
				return emit(t, ref);
		if (t->fmt != CCMM_TRACE_AUTO) {
			ret = fast_line(t, &addr, &size, &write);
			if (ret == 2)
				continue;
			if (ret == 1)
				goto access;
		}
		ret = next_line(t, &line, err);
		if (ret < 0)
			return ret;
		if (ret == 0) {
			if (t->have_last) {
				*ref = t->last;
				t->have_last = false;
				return emit(t, ref);
			}
			return 0;
		}
		ret = parse_line(t, line, &addr, &size, &write, err);
		if (ret < 0)
			return ret;
		if (!ret)
			continue;
access:
		if (addr >> 12 == (addr + size - 1) >> 12) {
			/* one page (nearly every access): straight into the collapse stage */
			struct ccmm_page_ref r1 = { addr >> 12, write, (uint32_t)t->line };

			t->npending = t->ipending = 0;
			if (push(t, r1, ref))
				return emit(t, ref);
			continue;
		}
		t->npending = t->ipending = 0;
		for (uint64_t vpn = addr >> 12; vpn <= (addr + size - 1) >> 12; vpn++) {
			t->pending[t->npending].vpn = vpn;
			t->pending[t->npending].write = write;
			t->pending[t->npending].line = (uint32_t)t->line;
			t->npending++;
		}
	}
}

int ccmm_trace_next(struct ccmm_trace *t, struct ccmm_page_ref *ref, struct ccmm_error *err)
{
	if (t->deferred) {
		int ret = t->deferred;

		t->deferred = 0;
		*err = t->deferred_err;
		return ret;
	}
	return next_ref(t, ref, err);
}

long ccmm_trace_read(struct ccmm_trace *t, struct ccmm_page_ref *refs, size_t n, struct ccmm_error *err)
{
	size_t k;

	if (t->deferred) {
		int ret = t->deferred;

		t->deferred = 0;
		*err = t->deferred_err;
		return ret;
	}
	for (k = 0; k < n; k++) {
		int ret = next_ref(t, &refs[k], err);

		if (ret == 1)
			continue;
		if (ret < 0 && k) {
			/* the references before it first */
			t->deferred = ret;
			t->deferred_err = *err;
		} else if (ret < 0) {
			return ret;
		}
		break;
	}
	return (long)k;
}

long ccmm_trace_reduce(const char *in, const struct ccmm_trace_opts *opts, const char *out, bool zstd,
		       struct ccmm_error *err)
{
	struct ccmm_trace *t;
	struct ccmm_page_ref r;
	struct ccmm_outfile of;
	struct ccmm_loc loc = { out, 0 };
	ZSTD_CCtx *cctx = NULL;
	char *zbuf = NULL;
	size_t zcap = ZSTD_CStreamOutSize();
	long n = 0;
	int ret = ccmm_trace_open(in, opts, &t, err);
	char line[64];

	if (ret)
		return ret;
	ret = ccmm_outfile_open(&of, out);
	if (ret) {
		ccmm_trace_close(t);
		return ccmm_error_set(err, &loc, ret, "cannot create: %s", strerror(-ret));
	}
	if (zstd) {
		cctx = ZSTD_createCCtx();
		zbuf = malloc(zcap);
		if (!cctx || !zbuf) {
			ret = ccmm_error_set(err, &loc, -ENOMEM, "out of memory");
			goto fail;
		}
		ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 19);
	}
	while ((ret = ccmm_trace_next(t, &r, err)) == 1) {
		int len = snprintf(line, sizeof(line), "%c 0x%" PRIx64 " 4096\n", r.write ? 's' : 'l', r.vpn << 12);

		if (zstd) {
			ZSTD_inBuffer zi = { line, (size_t)len, 0 };

			while (zi.pos < zi.size) {
				ZSTD_outBuffer zo = { zbuf, zcap, 0 };
				size_t z = ZSTD_compressStream2(cctx, &zo, &zi, ZSTD_e_continue);

				if (ZSTD_isError(z) || fwrite(zbuf, 1, zo.pos, of.fp) != zo.pos) {
					ret = ccmm_error_set(err, &loc, -EIO, "write failed");
					goto fail;
				}
			}
		} else if (fputs(line, of.fp) == EOF) {
			ret = ccmm_error_set(err, &loc, -EIO, "write failed");
			goto fail;
		}
		n++;
	}
	if (ret < 0)
		goto fail;
	if (zstd) {
		size_t left;

		do {
			ZSTD_inBuffer zi = { NULL, 0, 0 };
			ZSTD_outBuffer zo = { zbuf, zcap, 0 };

			left = ZSTD_compressStream2(cctx, &zo, &zi, ZSTD_e_end);
			if (ZSTD_isError(left) || fwrite(zbuf, 1, zo.pos, of.fp) != zo.pos) {
				ret = ccmm_error_set(err, &loc, -EIO, "write failed");
				goto fail;
			}
		} while (left);
	}
	ret = ccmm_outfile_commit(&of);
	ZSTD_freeCCtx(cctx);
	free(zbuf);
	ccmm_trace_close(t);
	if (ret)
		return ccmm_error_set(err, &loc, ret, "cannot write: %s", strerror(-ret));
	return n;
fail:
	ccmm_outfile_abort(&of);
	ZSTD_freeCCtx(cctx);
	free(zbuf);
	ccmm_trace_close(t);
	return ret;
}
