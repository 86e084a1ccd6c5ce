// SPDX-License-Identifier: MIT
/*
 * JSON paths: a figure of a report by name (report.h), for check= lines,
 * sweeps' metrics and diffs. Objects are walked by
 * the longest matching key (report keys hold dots and spaces), arrays of
 * named objects by name, anything by index.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define PATH_MAX_LEN 1024

/* The members that name an array's elements, in the order they are tried. */
const char *const ccmm_jpath_name_members[] = { "jobname", "name", "path", "device", "actor", "cgroup", "class", "entity", NULL };

static bool is_scalar(json_t *v)
{
	return !json_is_object(v) && !json_is_array(v);
}

/* Text of a scalar member for matching ([K=V], names): strings as they are, integers in decimal. */
static bool member_text(json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (json_is_string(v)) {
		snprintf(buf, len, "%s", json_string_value(v));
		return true;
	}
	if (json_is_integer(v)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		return true;
	}
	return false;
}

static bool all_digits(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The element of @arr named @name (length @n) by one of name_members. */
static json_t *by_name(json_t *arr, const char *name, size_t n)
{
	for (int k = 0; ccmm_jpath_name_members[k]; k++) {
		size_t i;
		json_t *e;

		json_array_foreach(arr, i, e) {
			char buf[PATH_MAX_LEN];

			if (json_is_object(e) && member_text(e, ccmm_jpath_name_members[k], buf, sizeof(buf)) && strlen(buf) == n &&
			    !strncmp(buf, name, n))
				return e;
		}
	}
	return NULL;
}

/* "[...]" at *p: the element it selects; *p moves past ']'. NULL if none ('*' handled by the caller). */
static json_t *bracket(json_t *cur, const char **p)
{
	const char *s = *p + 1, *end = strchr(s, ']'), *eq;
	size_t i;
	json_t *e;

	if (!end || !json_is_array(cur))
		return NULL;
	*p = end + 1;
	if (all_digits(s, (size_t)(end - s)))
		return json_array_get(cur, strtoul(s, NULL, 10));
	eq = memchr(s, '=', (size_t)(end - s));
	if (!eq)
		return by_name(cur, s, (size_t)(end - s));
	json_array_foreach(cur, i, e) {
		char key[128], buf[PATH_MAX_LEN];
		size_t kl = (size_t)(eq - s), vl = (size_t)(end - eq - 1);

		if (!json_is_object(e) || kl >= sizeof(key))
			continue;
		memcpy(key, s, kl);
		key[kl] = '\0';
		if (member_text(e, key, buf, sizeof(buf)) && strlen(buf) == vl && !strncmp(buf, eq + 1, vl))
			return e;
	}
	return NULL;
}

/* The object member the path at @p starts with: the longest key followed by the end, '.' or '['. */
static json_t *member(json_t *obj, const char *p, size_t *used)
{
	const char *key;
	json_t *v, *best = NULL;
	size_t best_len = 0;

	json_object_foreach(obj, key, v) {
		size_t n = strlen(key);

		if (n > best_len && !strncmp(p, key, n) && (!p[n] || p[n] == '.' || p[n] == '[')) {
			best = v;
			best_len = n;
		}
	}
	*used = best_len;
	return best;
}

json_t *ccmm_jpath_step(json_t *cur, const char **p)
{
	size_t n;
	json_t *next;

	if (**p == '.')
		(*p)++;
	if (**p == '[')
		return bracket(cur, p);
	if (json_is_object(cur)) {
		next = member(cur, *p, &n);
		if (next)
			*p += n;
		return next;
	}
	if (json_is_array(cur)) {
		n = strcspn(*p, ".[");
		next = by_name(cur, *p, n);
		if (!next && all_digits(*p, n))
			next = json_array_get(cur, strtoul(*p, NULL, 10));
		if (next)
			*p += n;
		return next;
	}
	return NULL;
}

json_t *ccmm_jpath_get(json_t *root, const char *path)
{
	json_t *cur = root;
	const char *p = path;

	while (cur && *p) {
		const char *before = p;

		cur = ccmm_jpath_step(cur, &p);
		if (p == before)
			return NULL;
	}
	return cur;
}

bool ccmm_jpath_is_pattern(const char *path)
{
	for (const char *p = path; (p = strchr(p, '*')); p++)
		if ((p == path || p[-1] == '.' || p[-1] == '[') && (!p[1] || p[1] == '.' || p[1] == '[' || p[1] == ']'))
			return true;
	return false;
}

/* How element @i of @arr is named in a path (with its leading '.' or '['). */
static void elem_segment(json_t *arr, size_t i, char *out, size_t len)
{
	json_t *e = json_array_get(arr, i);

	for (int k = 0; json_is_object(e) && ccmm_jpath_name_members[k]; k++) {
		char name[PATH_MAX_LEN], other[PATH_MAX_LEN];
		size_t j, n;
		json_t *o;
		bool unique = true;

		if (!member_text(e, ccmm_jpath_name_members[k], name, sizeof(name)))
			continue;
		json_array_foreach(arr, j, o)
			if (j != i && json_is_object(o) && member_text(o, ccmm_jpath_name_members[k], other, sizeof(other)) &&
			    !strcmp(other, name))
				unique = false;
		n = strlen(name);
		if (!unique || !n || strchr(name, ']'))
			break;
		if (!strpbrk(name, ".[*") && !all_digits(name, n) && by_name(arr, name, n) == e)
			snprintf(out, len, ".%s", name);
		else
			snprintf(out, len, "[%s=%s]", ccmm_jpath_name_members[k], name);
		return;
	}
	snprintf(out, len, "[%zu]", i);
}

struct walk {
	ccmm_jpath_fn fn;
	void *user;
	size_t n;
};

static void emit(struct walk *w, const char *path, json_t *v)
{
	if (!is_scalar(v))
		return;
	w->fn(w->user, path, v);
	w->n++;
}

static void join(char *out, size_t len, const char *prefix, const char *seg, bool bracketed)
{
	size_t n = strlen(prefix);

	/* a path longer than the buffer is cut: it then names nothing, as a path that does not exist */
	snprintf(out, len, "%s", prefix);
	if (n + 1 < len && prefix[0] && !bracketed)
		out[n++] = '.';
	if (n < len)
		snprintf(out + n, len - n, "%s", seg);
}

/* Call @fn for every member or element of @cur with its path below @prefix (and @rest passed on). */
static void each_child(struct walk *w, json_t *cur, const char *prefix, const char *rest,
		       void (*fn)(struct walk *w, json_t *child, const char *path, const char *rest))
{
	char path[PATH_MAX_LEN];

	if (json_is_object(cur)) {
		const char *key;
		json_t *v;

		json_object_foreach(cur, key, v) {
			join(path, sizeof(path), prefix, key, false);
			fn(w, v, path, rest);
		}
	} else if (json_is_array(cur)) {
		size_t i;
		json_t *v;

		json_array_foreach(cur, i, v) {
			char seg[PATH_MAX_LEN];

			elem_segment(cur, i, seg, sizeof(seg));
			if (seg[0] == '.')
				join(path, sizeof(path), prefix, seg + 1, false);
			else
				join(path, sizeof(path), prefix, seg, true);
			fn(w, v, path, rest);
		}
	}
}

static void flatten(struct walk *w, json_t *cur, const char *prefix, const char *rest)
{
	if (json_is_object(cur) || json_is_array(cur))
		each_child(w, cur, prefix, rest, flatten);
	else if (prefix[0])
		emit(w, prefix, cur);
}

size_t ccmm_jpath_flatten(json_t *root, ccmm_jpath_fn fn, void *user)
{
	struct walk w = { fn, user, 0 };

	flatten(&w, root, "", NULL);
	return w.n;
}

static void expand(struct walk *w, json_t *cur, const char *prefix, const char *p)
{
	char path[PATH_MAX_LEN];

	if (!*p) {
		if (prefix[0])
			emit(w, prefix, cur);
		return;
	}
	if (*p == '.')
		p++;
	if ((p[0] == '*' && (!p[1] || p[1] == '.' || p[1] == '[')) || !strncmp(p, "[*]", 3)) {
		each_child(w, cur, prefix, p[0] == '*' ? p + 1 : p + 3, expand);
		return;
	}
	{
		const char *before = p;
		json_t *next = ccmm_jpath_step(cur, &p);
		char seg[PATH_MAX_LEN];

		if (!next || p == before)
			return;
		snprintf(seg, sizeof(seg), "%.*s", (int)(p - before), before);
		join(path, sizeof(path), prefix, seg, seg[0] == '[');
		expand(w, next, path, p);
	}
}

size_t ccmm_jpath_expand(json_t *root, const char *pattern, ccmm_jpath_fn fn, void *user)
{
	struct walk w = { fn, user, 0 };

	expand(&w, root, "", pattern);
	return w.n;
}
