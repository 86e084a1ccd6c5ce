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

/* "include FILE": beside the including file, else on the search path (ccmm_path_find). */
static int do_include(struct ini_ctx *c, const char *arg, const struct ccmm_loc *loc)
{
	char dir[4096], path[8192];
	char *text;
	int ret;

	while (isspace((unsigned char)*arg))
		arg++;
	if (!*arg)
		return ccmm_error_set(c->err, loc, -EINVAL, "include needs a file name");
	snprintf(dir, sizeof(dir), "%s", loc->file);
	ret = ccmm_path_find(arg, dirname(dir), "jobs", NULL, path, sizeof(path));
	if (ret == -ENAMETOOLONG)
		return ccmm_error_set(c->err, loc, ret, "include: the name '%.64s...' is too long", arg);
	for (int i = 0; i < c->depth; i++)
		if (!strcmp(c->stack[i].path, path))
			return ccmm_error_set(c->err, loc, -ELOOP, "include of '%s' makes a cycle", arg);
	ret = ccmm_read_text(path, &text);
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

/*
 * fio's syntax on one line, before inih sees it: everything from the first
 * ';' or '#' on is a comment (fio's strip_blank_end() cuts there, inline
 * too), and ${VAR} is the environment variable VAR. @in is @len bytes (the
 * newline excluded); the result, NUL-terminated, goes to @out of @cap bytes.
 * Returns 0, or a negative errno with the error at @loc: -ENOENT for an
 * unset variable (fio would put an empty string: a typo should not pass
 * silently), -EINVAL for a "${" without its "}", -E2BIG past @cap.
 */
static int preprocess(const char *in, size_t len, char *out, size_t cap, const struct ccmm_loc *loc,
		      struct ccmm_error *err)
{
	size_t n = 0;

	for (size_t i = 0; i < len && in[i] != ';' && in[i] != '#'; i++) {
		const char *val = NULL;
		size_t vlen = 1;

		if (in[i] == '$' && i + 1 < len && in[i + 1] == '{') {
			const char *close = memchr(in + i + 2, '}', len - i - 2);
			char name[256];
			size_t nlen;

			if (!close)
				return ccmm_error_set(err, loc, -EINVAL, "'${' without its closing '}'");
			nlen = (size_t)(close - (in + i + 2));
			if (!nlen || nlen >= sizeof(name))
				return ccmm_error_set(err, loc, -EINVAL, "'${}' needs an environment variable's name");
			memcpy(name, in + i + 2, nlen);
			name[nlen] = '\0';
			for (size_t k = 0; k < nlen; k++)
				if (!isalnum((unsigned char)name[k]) && name[k] != '_')
					return ccmm_error_set(err, loc, -EINVAL, "'${%s}': not an environment variable's name",
							      name);
			val = getenv(name);
			if (!val)
				return ccmm_error_set(err, loc, -ENOENT, "environment variable '%s' is not set (${%s})", name,
						      name);
			vlen = strlen(val);
			i += nlen + 2; /* the loop's i++ steps over the '}' */
		}
		if (n + vlen >= cap)
			return -E2BIG;
		memcpy(out + n, val ? val : in + i, vlen);
		n += vlen;
	}
	while (n && isspace((unsigned char)out[n - 1]))
		n--;
	out[n] = '\0';
	return 0;
}

/* inih's reader: fgets() semantics over the source stack, each line preprocessed. */
static char *line_reader(char *str, int num, void *stream)
{
	struct ini_ctx *c = stream;

	while (!c->ret && c->depth) {
		struct ini_source *s = &c->stack[c->depth - 1];
		const char *start = s->pos, *end, *p;
		size_t len, raw;
		struct ccmm_loc loc;
		int ret;

		if (!*start) {
			pop_source(c);
			continue;
		}
		end = strchr(start, '\n');
		raw = end ? (size_t)(end - start) + 1 : strlen(start);
		s->pos = start + raw;
		s->line++;
		loc.file = s->path;
		loc.line = s->line;

		len = raw;
		while (len && (start[len - 1] == '\n' || start[len - 1] == '\r'))
			len--;
		/* room for the newline inih expects: a longer line would be split, so it is refused */
		ret = preprocess(start, len, str, (size_t)num - 1, &loc, c->err);
		if (ret == -E2BIG)
			ret = ccmm_error_set(c->err, &loc, -E2BIG, "line is longer than %d characters (comments aside, ${...} expanded)",
					     num - 2);
		if (ret) {
			record_line(c, loc.file, loc.line, start, len);
			fail(c, ret);
			return NULL;
		}
		len = strlen(str);
		p = str;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, "include", 7) && (p[7] == ' ' || p[7] == '\t')) {
			char arg[4096];

			snprintf(arg, sizeof(arg), "%s", p + 7);
			ret = do_include(c, arg, &loc);
			if (ret) {
				record_line(c, loc.file, loc.line, str, len);
				fail(c, ret);
				return NULL;
			}
			continue;
		}
		if (record_line(c, loc.file, loc.line, str, len)) {
			fail(c, ccmm_error_set(c->err, &loc, -ENOMEM, "out of memory"));
			return NULL;
		}
		/* Section headers go to the handler here, so empty sections count. */
		if (*p == '[') {
			const char *close = strchr(p, ']');

			if (close) {
				size_t slen = (size_t)(close - p - 1);

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
		str[len] = '\n';
		str[len + 1] = '\0';
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
		ret = ccmm_read_text(path, &buf);
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
