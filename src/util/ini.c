// SPDX-License-Identifier: MIT
/*
 * INI files through inih, with fio's "include FILE" and a location for
 * every line. inih reads lines through our reader callback; the reader
 * serves them from a stack of sources (the file and what it includes) and
 * remembers where each line came from, so both inih's own syntax errors and
 * the handler's errors name the right file and line.
 */
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#define INI_MAX_DEPTH 8

struct ini_source {
	char *path;      /* owned; also the storage behind ccmm_loc.file */
	char *text;      /* owned, NUL-terminated */
	const char *pos; /* next unread character */
	int line;        /* lines consumed so far */
};

struct ini_line {
	const char *file; /* points into a source path kept until the end */
	int line;
	char *text;       /* copy of the line, for syntax-error messages */
};

struct ini_ctx {
	struct ini_source stack[INI_MAX_DEPTH];
	int depth;
	char **paths;        /* every path opened, freed at the end */
	size_t npaths, cap_paths;
	struct ini_line *lines; /* one per line handed to inih */
	size_t nlines, cap_lines;
	ccmm_ini_handler handler;
	void *user;
	struct ccmm_error *err;
	int ret;            /* first error, 0 if none */
	size_t err_index;   /* index in lines[] of the first handler/reader error */
	int max_line;
	char section[256];
};

static int read_file(const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t n;

		if (ccmm_grow((void **)&buf, &cap, len + 4097, 1)) {
			free(buf);
			fclose(f);
			return -ENOMEM;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		int ret = -EIO;

		free(buf);
		fclose(f);
		return ret;
	}
	fclose(f);
	if (!buf && !(buf = malloc(1)))
		return -ENOMEM;
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		free(buf);
		return -EILSEQ;
	}
	*out = buf;
	return 0;
}

static int push_source(struct ini_ctx *c, const char *path, char *text, const struct ccmm_loc *from)
{
	struct ini_source *s;
	char *p = strdup(path);

	if (!p) {
		free(text);
		return -ENOMEM;
	}
	if (ccmm_grow((void **)&c->paths, &c->cap_paths, c->npaths + 1, sizeof(char *))) {
		free(p);
		free(text);
		return -ENOMEM;
	}
	c->paths[c->npaths++] = p;
	if (c->depth == INI_MAX_DEPTH) {
		free(text);
		return ccmm_error_set(c->err, from, -ELOOP, "includes nested more than %d deep", INI_MAX_DEPTH);
	}
	s = &c->stack[c->depth++];
	s->path = p;
	s->text = text;
	s->pos = text;
	s->line = 0;
	return 0;
}

static void pop_source(struct ini_ctx *c)
{
	struct ini_source *s = &c->stack[--c->depth];

	free(s->text);
	s->text = NULL;
}

/* "include FILE" resolved against the including file's directory. */
static int do_include(struct ini_ctx *c, const char *arg, const struct ccmm_loc *loc)
{
	char dir[4096], path[8192];
	char *text;
	int ret;

	while (isspace((unsigned char)*arg))
		arg++;
	if (!*arg)
		return ccmm_error_set(c->err, loc, -EINVAL, "include needs a file name");
	if (arg[0] == '/') {
		snprintf(path, sizeof(path), "%s", arg);
	} else {
		snprintf(dir, sizeof(dir), "%s", loc->file);
		snprintf(path, sizeof(path), "%s/%s", dirname(dir), arg);
	}
	for (int i = 0; i < c->depth; i++)
		if (!strcmp(c->stack[i].path, path))
			return ccmm_error_set(c->err, loc, -ELOOP, "include of '%s' makes a cycle", arg);
	ret = read_file(path, &text);
	if (ret == -EILSEQ)
		return ccmm_error_set(c->err, loc, ret, "included file '%s' is not text (it has a NUL byte)", arg);
	if (ret)
		return ccmm_error_set(c->err, loc, ret, "cannot include '%s': %s", arg, strerror(-ret));
	return push_source(c, path, text, loc);
}

static int record_line(struct ini_ctx *c, const char *file, int line, const char *text, size_t len)
{
	struct ini_line *l;

	if (ccmm_grow((void **)&c->lines, &c->cap_lines, c->nlines + 1, sizeof(*c->lines)))
		return -ENOMEM;
	l = &c->lines[c->nlines];
	l->file = file;
	l->line = line;
	l->text = strndup(text, len);
	if (!l->text)
		return -ENOMEM;
	c->nlines++;
	return 0;
}

static void fail(struct ini_ctx *c, int ret)
{
	if (!c->ret) {
		c->ret = ret;
		c->err_index = c->nlines ? c->nlines - 1 : 0;
	}
}

/* inih's reader: fgets() semantics over the source stack. */
static char *line_reader(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;

	while (!c->ret && c->depth) {
		struct ini_source *s = &c->stack[c->depth - 1];
		const char *start = s->pos, *end, *p;
		size_t len;
		struct ccmm_loc loc;

		if (!*start) {
			pop_source(c);
			continue;
		}
		end = strchr(start, '\n');
		len = end ? (size_t)(end - start) + 1 : strlen(start);
		s->pos = start + len;
		s->line++;
		loc.file = s->path;
		loc.line = s->line;

		p = start;
		while (p < start + len && (*p == ' ' || *p == '\t'))
			p++;
		if (!strncmp(p, "include", 7) && (p[7] == ' ' || p[7] == '\t')) {
			char arg[4096];
			size_t alen = len - (size_t)(p + 7 - start);

			if (alen >= sizeof(arg))
				alen = sizeof(arg) - 1;
			memcpy(arg, p + 7, alen);
			arg[alen] = '\0';
			arg[strcspn(arg, "\r\n;#")] = '\0';
			for (size_t i = strlen(arg); i && isspace((unsigned char)arg[i - 1]); i--)
				arg[i - 1] = '\0';
			{
				int ret = do_include(c, arg, &loc);

				if (ret) {
					record_line(c, loc.file, loc.line, start, len);
					fail(c, ret);
					return NULL;
				}
			}
			continue;
		}
		if (len >= (size_t)num - 1 && !(len == (size_t)num - 1 && end)) {
			record_line(c, loc.file, loc.line, start, len);
			fail(c, ccmm_error_set(c->err, &loc, -E2BIG, "line is longer than %d characters", num - 2));
			return NULL;
		}
		if (record_line(c, loc.file, loc.line, start, len)) {
			fail(c, ccmm_error_set(c->err, &loc, -ENOMEM, "out of memory"));
			return NULL;
		}
		/* Section headers go to the handler here, so empty sections count. */
		if (*p == '[') {
			const char *close = memchr(p, ']', len - (size_t)(p - start));

			if (close) {
				size_t slen = (size_t)(close - p - 1);
				int ret;

				while (slen && isspace((unsigned char)p[1]))
					p++, slen--;
				while (slen && isspace((unsigned char)p[slen]))
					slen--;
				if (slen >= sizeof(c->section))
					slen = sizeof(c->section) - 1;
				memcpy(c->section, p + 1, slen);
				c->section[slen] = '\0';
				ret = c->handler(c->user, c->section, NULL, NULL, &loc, c->err);
				if (ret) {
					fail(c, ret);
					return NULL;
				}
			}
		}
		memcpy(str, start, len);
		str[len] = '\0';
		return str;
	}
	return NULL;
}

static int line_handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *c = user;
	struct ccmm_loc loc = { "", 0 };
	int ret;

	if (c->ret)
		return 1;
	if (c->nlines) {
		loc.file = c->lines[c->nlines - 1].file;
		loc.line = c->lines[c->nlines - 1].line;
	}
	ret = c->handler(c->user, section, name, value, &loc, c->err);
	if (ret)
		fail(c, ret);
	return 1;
}

static void syntax_error(struct ini_ctx *c, size_t index)
{
	struct ini_line *l = &c->lines[index];
	struct ccmm_loc loc = { l->file, l->line };
	char text[96];
	size_t n;

	snprintf(text, sizeof(text), "%s", l->text);
	n = strcspn(text, "\r\n");
	text[n] = '\0';
	while (n && isspace((unsigned char)text[n - 1]))
		text[--n] = '\0';
	if (text[strspn(text, " \t")] == '[')
		ccmm_error_set(c->err, &loc, -EINVAL, "section header '%s' is missing its closing ']'", text);
	else
		ccmm_error_set(c->err, &loc, -EINVAL,
			       "expected '[section]', 'key = value' or 'include FILE', not '%s'", text);
}

int ccmm_ini_parse(const char *path, const char *text, ccmm_ini_handler handler, void *user,
		   struct ccmm_error *err)
{
	struct ini_ctx c;
	struct ccmm_loc loc = { path, 0 };
	char *buf;
	int ret;

	memset(&c, 0, sizeof(c));
	c.handler = handler;
	c.user = user;
	c.err = err;

	if (text) {
		buf = strdup(text);
		ret = buf ? 0 : -ENOMEM;
	} else {
		ret = read_file(path, &buf);
	}
	if (ret == -EILSEQ)
		return ccmm_error_set(err, &loc, ret, "not a text file (it has a NUL byte)");
	if (ret)
		return ccmm_error_set(err, &loc, ret, "cannot read: %s", strerror(-ret));
	ret = push_source(&c, path, buf, &loc);
	if (ret)
		goto out;

	ret = ini_parse_stream(line_reader, &c, line_handler, &c);
	if (ret > 0 && (size_t)ret <= c.nlines && (!c.ret || (size_t)(ret - 1) < c.err_index)) {
		syntax_error(&c, (size_t)(ret - 1));
		ret = -EINVAL;
	} else if (c.ret) {
		ret = c.ret;
	} else if (ret < 0) {
		ret = ccmm_error_set(err, &loc, -ENOMEM, "out of memory while parsing");
	} else if (ret > 0) {
		ret = ccmm_error_set(err, &loc, -EINVAL, "syntax error at line %d", ret);
	}
out:
	while (c.depth)
		pop_source(&c);
	for (size_t i = 0; i < c.nlines; i++)
		free(c.lines[i].text);
	free(c.lines);
	for (size_t i = 0; i < c.npaths; i++)
		free(c.paths[i]);
	free(c.paths);
	return ret;
}
