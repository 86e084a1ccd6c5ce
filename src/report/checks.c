// SPDX-License-Identifier: MIT
/*
 * The job's check= lines, evaluated over the JSON document the report
 * builder writes: a PATH is a path of that document by construction.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/internal.h"
#include "report/report.h"


/* Messages are cut at their buffer's end on purpose. */
static void put(char *buf, size_t len, const char *fmt, ...) CCMM_PRINTF(3, 4);
static void put(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static const char *element_name(json_t *el)
{
	for (size_t i = 0; ccmm_jpath_name_members[i]; i++) {
		json_t *v = json_object_get(el, ccmm_jpath_name_members[i]);

		if (json_is_string(v))
			return json_string_value(v);
	}
	return NULL;
}

/* "a, b, c" of up to 8 candidates, into @buf. */
static void list_names(const char *const *names, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		if (i == 8) {
			snprintf(buf + used, len - used, ", ... (%zu in all)", n);
			return;
		}
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", names[i]);
	}
}

/* Why a key is not under @obj (at path prefix @at): the closest key and the keys there. */
static void missing_key(json_t *obj, const char *key, const char *at, char *why, size_t len)
{
	const char *names[256], *near;
	size_t n = 0;
	const char *k;
	json_t *v;
	char list[240];

	if (!json_is_object(obj)) {
		snprintf(why, len, "'%s' is %s, it has no key '%s'", at, json_is_array(obj) ? "an array (select with NAME, [NAME], [K=V] or [N])" : "a figure",
			 key);
		return;
	}
	json_object_foreach(obj, k, v) {
		if (n < 256)
			names[n++] = k;
	}
	near = ccmm_suggest(key, names, n);
	list_names(names, n, list, sizeof(list));
	put(why, len, "no key '%.100s' under '%.200s'%s%.60s%s (keys: %s)", key, at[0] ? at : "the report", near ? "; did you mean '" : "",
		 near ? near : "", near ? "'?" : "", n ? list : "none");
}

static void missing_element(json_t *arr, const char *sel, const char *at, char *why, size_t len)
{
	const char *names[256], *near;
	size_t n = 0, i;
	json_t *el;
	char list[240];

	if (!json_is_array(arr)) {
		snprintf(why, len, "'%s' is not an array: [%s] selects nothing", at, sel);
		return;
	}
	json_array_foreach(arr, i, el) {
		const char *nm = element_name(el);

		if (nm && n < 256)
			names[n++] = nm;
	}
	near = ccmm_suggest(sel, names, n);
	list_names(names, n, list, sizeof(list));
	put(why, len, "no element [%.100s] in '%.200s'%s%.60s%s (%zu elements%s%s)", sel, at, near ? "; did you mean '" : "", near ? near : "",
		 near ? "'?" : "", json_array_size(arr), n ? ": " : "", n ? list : "");
}

/*
 * Walk @path from @cur, segment by segment as ccmm_jpath_get does (report.h),
 * so that a check and a sweep's metric name a figure the same way. Returns
 * the value, or NULL with @why set to where the path stops and what is
 * there. @last gets the last object key walked (the figure's name, for its
 * unit).
 */
static json_t *walk(json_t *cur, const char *path, const char *prefix, char *last, size_t lastlen, char *why, size_t len)
{
	char at[200], seg[160];
	const char *p = path;

	snprintf(at, sizeof(at), "%s", prefix);
	last[0] = '\0';
	while (*p) {
		const char *s = *p == '.' ? p + 1 : p;
		bool sel = *s == '[';
		json_t *next = ccmm_jpath_step(cur, &p);
		size_t n;

		if (!next) {
			n = sel ? strcspn(s + 1, "]") : strcspn(s, ".[");
			snprintf(seg, sizeof(seg), "%.*s", (int)n, sel ? s + 1 : s);
			if (sel || json_is_array(cur))
				missing_element(cur, seg, at, why, len);
			else
				missing_key(cur, seg, at, why, len);
			return NULL;
		}
		n = (size_t)(p - s);
		if (sel || json_is_array(cur)) {
			snprintf(at + strlen(at), sizeof(at) - strlen(at), sel ? "%.*s" : "[%.*s]", (int)n, s);
		} else {
			snprintf(at + strlen(at), sizeof(at) - strlen(at), "%s%.*s", at[0] ? "." : "", (int)n, s);
			snprintf(last, lastlen, "%.*s", (int)n, s);
		}
		cur = next;
	}
	return cur;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * The factor from the figure named @key to the check's unit: a figure's
 * name says its unit (modeled_time_ns, wall_time_s, ram_bytes, *_pages of
 * 4 KiB); a time figure without one is in ns, a size figure in bytes; a
 * percentage compares with a ratio figure unless the figure is a percent
 * itself (*_pct, *percent).
 */
static double unit_factor(enum ccmm_check_unit u, const char *key)
{
	switch (u) {
	case CCMM_UNIT_NS:
		if (ends_with(key, "_us"))
			return 1e3;
		if (ends_with(key, "_ms"))
			return 1e6;
		if (ends_with(key, "_s"))
			return 1e9;
		return 1;
	case CCMM_UNIT_BYTES:
		if (ends_with(key, "_kib") || ends_with(key, "_kb"))
			return 1024.0;
		if (ends_with(key, "_mib") || ends_with(key, "_mb"))
			return 1048576.0;
		if (ends_with(key, "pages"))
			return 4096.0;
		return 1;
	case CCMM_UNIT_PERCENT:
		return ends_with(key, "_pct") || ends_with(key, "percent") ? 1 : 100;
	default:
		return 1;
	}
}

static void format_value(enum ccmm_check_unit u, double v, char *buf, size_t len)
{
	bool whole = v >= 0 && v < 1.8e19 && v == floor(v);

	if (u == CCMM_UNIT_NS && whole)
		ccmm_format_ns((uint64_t)v, buf, len);
	else if (u == CCMM_UNIT_BYTES && whole)
		ccmm_format_size((uint64_t)v, buf, len);
	else if (u == CCMM_UNIT_PERCENT)
		snprintf(buf, len, "%.6g%%", v);
	else if (fabs(v) < 9e15 && v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.6g", v);
}

static bool compare(enum ccmm_check_op op, double got, double want)
{
	bool eq = fabs(got - want) <= 1e-9 * fmax(1.0, fabs(want));

	switch (op) {
	case CCMM_CHECK_EQ:
		return eq;
	case CCMM_CHECK_NE:
		return !eq;
	case CCMM_CHECK_LT:
		return got < want && !eq;
	case CCMM_CHECK_LE:
		return got <= want || eq;
	case CCMM_CHECK_GT:
		return got > want && !eq;
	case CCMM_CHECK_GE:
		return got >= want || eq;
	}
	return false;
}

const char *_ccmm_check_where(const struct ccmm_check *c, char *buf, size_t size)
{
	if (c->where.line > 0)
		snprintf(buf, size, "%s:%d", c->where.file, c->where.line);
	else
		snprintf(buf, size, "%s", c->where.file);
	return buf;
}

static void evaluate(struct ccmm_run *run, json_t *root, const struct ccmm_check *c, struct ccmm_check_result *r)
{
	json_t *start = root, *v;
	char prefix[80] = "", last[160], why[400], where[200];

	_ccmm_check_where(c, where, sizeof(where));

	r->c = c;
	if (c->path[0] == '.') {
		start = json_array_get(json_object_get(root, "jobs"), (size_t)c->actor);
		snprintf(prefix, sizeof(prefix), "jobs[%.60s]", run->job->actors[c->actor]->name);
	}
	v = start ? walk(start, c->path, prefix, last, sizeof(last), why, sizeof(why)) : NULL;
	if (!start)
		snprintf(why, sizeof(why), "the report has no entry for [%s]", run->job->actors[c->actor]->name);
	if (!v) {
		snprintf(r->got_text, sizeof(r->got_text), "nothing");
		put(r->msg, sizeof(r->msg), "%s: check %s failed: %.600s", where,  c->text, why);
		return;
	}
	r->found = true;
	if (c->unit == CCMM_UNIT_STRING || c->unit == CCMM_UNIT_BOOL) {
		bool eq;

		if (c->unit == CCMM_UNIT_BOOL ? !json_is_boolean(v) : !json_is_string(v)) {
			char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

			snprintf(r->got_text, sizeof(r->got_text), "%.60s", dump ? dump : "?");
			free(dump);
			put(r->msg, sizeof(r->msg), "%s: check %s failed: got %s, not %s", where, 
				 c->text, r->got_text, c->unit == CCMM_UNIT_BOOL ? "true or false" : "a string");
			return;
		}
		if (c->unit == CCMM_UNIT_BOOL) {
			eq = json_is_true(v) == (c->value != 0);
			snprintf(r->got_text, sizeof(r->got_text), "%s", json_is_true(v) ? "true" : "false");
			r->got = json_is_true(v);
		} else {
			eq = !strcmp(json_string_value(v), c->str);
			snprintf(r->got_text, sizeof(r->got_text), "%.60s", json_string_value(v));
		}
		r->passed = c->op == CCMM_CHECK_EQ ? eq : !eq;
		if (!r->passed)
			put(r->msg, sizeof(r->msg), "%s: check %s failed: got %s", where,  c->text,
				 r->got_text);
		return;
	}
	if (!json_is_number(v) && !json_is_boolean(v)) {
		char *dump = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

		snprintf(r->got_text, sizeof(r->got_text), "%.60s", dump ? dump : "?");
		free(dump);
		why[0] = '\0';
		if (json_is_object(v)) {
			const char *names[256], *k;
			json_t *x;
			size_t n = 0;
			char list[240];

			json_object_foreach(v, k, x) {
				if (n < 256)
					names[n++] = k;
			}
			list_names(names, n, list, sizeof(list));
			snprintf(why, sizeof(why), " (keys: %s)", list);
		}
		put(r->msg, sizeof(r->msg), "%s: check %s failed: '%s' is %s, not a figure%s", where,
			  c->text, c->path,
			 json_is_null(v) ? "null (no value in this run)" : json_is_string(v) ? "a string" : json_is_array(v) ? "an array" : "an object",
			 why);
		return;
	}
	r->got = (json_is_boolean(v) ? (json_is_true(v) ? 1.0 : 0.0) : json_number_value(v)) * unit_factor(c->unit, last);
	format_value(c->unit, r->got, r->got_text, sizeof(r->got_text));
	r->passed = compare(c->op, r->got, c->value);
	if (!r->passed) {
		char off[64];

		format_value(c->unit, fabs(r->got - c->value), off, sizeof(off));
		put(r->msg, sizeof(r->msg), "%s: check %s failed: got %s (off by %s)", where,  c->text,
			 r->got_text, off);
	}
}

int ccmm_report_checks(struct ccmm_run *run)
{
	struct ccmm_job *job = run->job;
	json_t *root;

	if (run->checks_done)
		return 0;
	if (!job->nr_checks) {
		run->checks_done = true;
		return 0;
	}
	run->check_results = calloc(job->nr_checks, sizeof(*run->check_results));
	root = run->check_results ? _ccmm_report_build(run) : NULL;
	if (!root) {
		free(run->check_results);
		run->check_results = NULL;
		return -ENOMEM;
	}
	for (size_t i = 0; i < job->nr_checks; i++)
		evaluate(run, root, &job->checks[i], &run->check_results[i]);
	json_decref(root);
	run->checks_done = true;
	return 0;
}

void *_ccmm_report_checks_json(struct ccmm_run *run)
{
	json_t *arr = json_array();

	for (size_t i = 0; run->checks_done && i < run->job->nr_checks; i++) {
		const struct ccmm_check_result *r = &run->check_results[i];
		json_t *x = json_object();
		char w[200];

		json_object_set_new(x, "job_line", json_string(_ccmm_check_where(r->c, w, sizeof(w))));
		json_object_set_new(x, "actor", r->c->actor >= 0 ? json_string(run->job->actors[r->c->actor]->name) : json_null());
		json_object_set_new(x, "check", json_string(r->c->text));
		json_object_set_new(x, "path", json_string(r->c->path));
		json_object_set_new(x, "op", json_string(ccmm_check_op_names[r->c->op]));
		json_object_set_new(x, "passed", json_boolean(r->passed));
		json_object_set_new(x, "found", json_boolean(r->found));
		json_object_set_new(x, "got", json_string(r->got_text));
		if (r->found && r->c->unit != CCMM_UNIT_STRING && r->c->unit != CCMM_UNIT_BOOL)
			json_object_set_new(x, "got_value", json_real(r->got));
		if (!r->passed)
			json_object_set_new(x, "message", json_string(r->msg));
		json_array_append_new(arr, x);
	}
	return arr;
}
