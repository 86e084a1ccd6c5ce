// SPDX-License-Identifier: MIT
/* ccmm diff: two run reports, or two sweep tables joined on their keys, figure by figure (sweep.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/internal.h"

/* Paths that differ from run to run by nature (time of day, ccmm's own speed) or that list events. */
static bool volatile_path(const char *p)
{
	static const char *const top[] = { "timestamp", "timestamp_ms", "time", "wall_time_s", "wall_s", NULL };
	static const char *const inner[] = { "violations[", "violations_without_actor", ".history", "op_errors[",
					     "series.", NULL };

	for (int i = 0; top[i]; i++)
		if (!strcmp(p, top[i]))
			return true;
	for (int i = 0; inner[i]; i++)
		if (strstr(p, inner[i]))
			return true;
	return !strncmp(p, "series", 6);
}

static bool figure(json_t *v, double *x)
{
	if (json_is_integer(v))
		*x = (double)json_integer_value(v);
	else if (json_is_real(v))
		*x = json_real_value(v);
	else if (json_is_boolean(v))
		*x = json_is_true(v);
	else
		return false;
	return true;
}

struct flat {
	json_t *obj; /* path -> value, in document order */
};

static void put(void *user, const char *path, json_t *v)
{
	struct flat *f = user;
	double x;

	if (!volatile_path(path) && figure(v, &x) && !json_object_get(f->obj, path))
		json_object_set(f->obj, path, v);
}

/* A number as a JSON value: integers stay integers. */
static json_t *number(double x)
{
	if (x == floor(x) && fabs(x) < 9e15)
		return json_integer((json_int_t)x);
	return json_real(x);
}

static bool changed(double a, double b, double min_change)
{
	if (a == b)
		return false;
	if (min_change <= 0)
		return true;
	if (a == 0)
		return true;
	return fabs(b - a) / fabs(a) >= min_change;
}

static json_t *row(const char *key, const char *fig, json_t *va, json_t *vb, double min_change, bool *ch)
{
	json_t *r = json_object();
	double a = 0, b = 0;

	figure(va, &a);
	figure(vb, &b);
	*ch = changed(a, b, min_change);
	if (key)
		json_object_set_new(r, "key", json_string(key));
	json_object_set_new(r, "figure", json_string(fig));
	json_object_set(r, "a", va);
	json_object_set(r, "b", vb);
	json_object_set_new(r, "diff", number(b - a));
	json_object_set_new(r, "ratio", a != 0 ? json_real(b / a) : json_null());
	json_object_set_new(r, "changed", json_boolean(*ch));
	return r;
}

struct acc {
	json_t *changed_rows, *same_rows, *only_a, *only_b;
	size_t changed, same;
	const struct ccmm_diff_opts *o;
};

static void compare(struct acc *acc, const char *key, json_t *fa, json_t *fb)
{
	const char *p;
	json_t *va;

	json_object_foreach(fa, p, va) {
		json_t *vb = json_object_get(fb, p);
		bool ch;
		json_t *r;

		if (!vb) {
			char t[1200];

			snprintf(t, sizeof(t), "%s%s%s", key ? key : "", key ? ": " : "", p);
			json_array_append_new(acc->only_a, json_string(t));
			continue;
		}
		r = row(key, p, va, vb, acc->o->min_change, &ch);
		if (ch) {
			acc->changed++;
			json_array_append_new(acc->changed_rows, r);
		} else {
			acc->same++;
			if (acc->o->all)
				json_array_append_new(acc->same_rows, r);
			else
				json_decref(r);
		}
	}
	json_object_foreach(fb, p, va) {
		if (!json_object_get(fa, p)) {
			char t[1200];

			snprintf(t, sizeof(t), "%s%s%s", key ? key : "", key ? ": " : "", p);
			json_array_append_new(acc->only_b, json_string(t));
		}
	}
}

/* "k1=v1 k2=v2" of a sweep row, keys in the table's order. */
static void key_text(json_t *table, json_t *r, char *buf, size_t len)
{
	json_t *keys = json_object_get(table, "keys"), *k;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(keys, i, k) {
		json_t *v = json_object_get(json_object_get(r, "keys"), json_string_value(k));

		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s=%s", i ? " " : "", json_string_value(k),
					 json_is_string(v) ? json_string_value(v) : "?");
	}
	if (!json_array_size(keys))
		snprintf(buf, len, "(one point)");
}

/* A sweep row's figures: its status and every metric with a number. */
static json_t *row_figures(json_t *r)
{
	json_t *f = json_object(), *v;
	const char *k;
	double x;

	json_object_set(f, "status", json_object_get(r, "status"));
	json_object_foreach(json_object_get(r, "metrics"), k, v)
		if (figure(v, &x))
			json_object_set(f, k, v);
	return f;
}

static int same_keys(json_t *a, json_t *b)
{
	json_t *ka = json_object_get(a, "keys"), *kb = json_object_get(b, "keys"), *k;
	size_t i, j;

	if (json_array_size(ka) != json_array_size(kb))
		return 0;
	json_array_foreach(ka, i, k) {
		bool found = false;
		json_t *x;

		json_array_foreach(kb, j, x)
			found |= json_equal(k, x);
		if (!found)
			return 0;
	}
	return 1;
}

static void keys_list(json_t *t, char *buf, size_t len)
{
	json_t *k;
	size_t i, used = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(t, "keys"), i, k)
		used += (size_t)snprintf(buf + used, used < len ? len - used : 0, "%s%s", i ? ", " : "", json_string_value(k));
	if (!buf[0])
		snprintf(buf, len, "none");
}

int ccmm_diff(json_t *a, const char *name_a, json_t *b, const char *name_b, const struct ccmm_diff_opts *o,
	      json_t **out, struct ccmm_error *err)
{
	const char *ka = ccmm_json_is_table(a) ? "sweep table" : ccmm_json_is_report(a) ? "run report" : NULL;
	const char *kb = ccmm_json_is_table(b) ? "sweep table" : ccmm_json_is_report(b) ? "run report" : NULL;
	struct acc acc = { json_array(), json_array(), json_array(), json_array(), 0, 0, o };
	json_t *d;

	if (!ka || !kb) {
		json_decref(acc.changed_rows);
		json_decref(acc.same_rows);
		json_decref(acc.only_a);
		json_decref(acc.only_b);
		return ccmm_error_set(err, NULL, -EINVAL,
				      "%s: not a ccmm run report (ccmm run --json) or sweep table (ccmm sweep --json)",
				      ka ? name_b : name_a);
	}
	if (strcmp(ka, kb)) {
		json_decref(acc.changed_rows);
		json_decref(acc.same_rows);
		json_decref(acc.only_a);
		json_decref(acc.only_b);
		return ccmm_error_set(err, NULL, -EINVAL, "%s is a %s and %s a %s: ccmm diff compares two of a kind", name_a,
				      ka, name_b, kb);
	}
	if (!strcmp(ka, "run report")) {
		struct flat fa = { json_object() }, fb = { json_object() };

		ccmm_jpath_flatten(a, put, &fa);
		ccmm_jpath_flatten(b, put, &fb);
		compare(&acc, NULL, fa.obj, fb.obj);
		json_decref(fa.obj);
		json_decref(fb.obj);
	} else {
		json_t *ra = json_object_get(a, "rows"), *rb = json_object_get(b, "rows"), *r;
		size_t i;

		if (!same_keys(a, b)) {
			char la[512], lb[512];

			keys_list(a, la, sizeof(la));
			keys_list(b, lb, sizeof(lb));
			json_decref(acc.changed_rows);
			json_decref(acc.same_rows);
			json_decref(acc.only_a);
			json_decref(acc.only_b);
			return ccmm_error_set(err, NULL, -EINVAL, "the sweeps vary different keys (%s: %s; %s: %s)", name_a, la,
					      name_b, lb);
		}
		json_array_foreach(ra, i, r) {
			char k[1024], k2[1024];
			json_t *match = NULL, *x, *fa, *fb;
			size_t j;

			key_text(a, r, k, sizeof(k));
			json_array_foreach(rb, j, x) {
				key_text(a, x, k2, sizeof(k2));
				if (!strcmp(k, k2)) {
					match = x;
					break;
				}
			}
			if (!match) {
				json_array_append_new(acc.only_a, json_string(k));
				continue;
			}
			fa = row_figures(r);
			fb = row_figures(match);
			compare(&acc, k, fa, fb);
			json_decref(fa);
			json_decref(fb);
		}
		json_array_foreach(rb, i, r) {
			char k[1024], k2[1024];
			json_t *x;
			size_t j;
			bool found = false;

			key_text(a, r, k, sizeof(k));
			json_array_foreach(ra, j, x) {
				key_text(a, x, k2, sizeof(k2));
				found |= !strcmp(k, k2);
			}
			if (!found)
				json_array_append_new(acc.only_b, json_string(k));
		}
	}
	d = json_object();
	json_object_set_new(d, "kind", json_string("ccmm-diff"));
	json_object_set_new(d, "of", json_string(!strcmp(ka, "run report") ? "report" : "sweep"));
	json_object_set_new(d, "a", json_string(name_a));
	json_object_set_new(d, "b", json_string(name_b));
	json_object_set_new(d, "min_change", json_real(o->min_change));
	json_array_extend(acc.changed_rows, acc.same_rows);
	json_decref(acc.same_rows);
	json_object_set_new(d, "rows", acc.changed_rows);
	json_object_set_new(d, "only_a", acc.only_a);
	json_object_set_new(d, "only_b", acc.only_b);
	json_object_set_new(d, "changed", json_integer((json_int_t)acc.changed));
	json_object_set_new(d, "same", json_integer((json_int_t)acc.same));
	*out = d;
	return 0;
}

static void num_text(json_t *v, char *buf, size_t len, bool sign)
{
	if (json_is_integer(v))
		snprintf(buf, len, sign ? "%+lld" : "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, sign ? "%+.6g" : "%.6g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else
		snprintf(buf, len, "-");
}

int ccmm_diff_write_text(json_t *d, FILE *out)
{
	json_t *rows = json_object_get(d, "rows"), *r;
	bool sweep = !strcmp(json_string_value(json_object_get(d, "of")), "sweep");
	size_t i, wk = 3, wf = 6, wa = 1, wb = 1, wd = 5, wr = 5;

	json_array_foreach(rows, i, r) {
		char t[64];

		if (sweep)
			wk = CCMM_MAX(wk, strlen(json_string_value(json_object_get(r, "key"))));
		wf = CCMM_MAX(wf, strlen(json_string_value(json_object_get(r, "figure"))));
		num_text(json_object_get(r, "a"), t, sizeof(t), false);
		wa = CCMM_MAX(wa, strlen(t));
		num_text(json_object_get(r, "b"), t, sizeof(t), false);
		wb = CCMM_MAX(wb, strlen(t));
		num_text(json_object_get(r, "diff"), t, sizeof(t), true);
		wd = CCMM_MAX(wd, strlen(t));
	}
	fprintf(out, "a: %s\nb: %s\n", json_string_value(json_object_get(d, "a")), json_string_value(json_object_get(d, "b")));
	if (json_array_size(rows)) {
		if (sweep)
			fprintf(out, "%-*s  ", (int)wk, "key");
		fprintf(out, "%-*s  %*s  %*s  %*s  %*s\n", (int)wf, "figure", (int)wa, "a", (int)wb, "b", (int)wd, "b - a", (int)wr,
			"b / a");
	}
	json_array_foreach(rows, i, r) {
		char a[64], b[64], df[64], ra[64];
		json_t *ratio = json_object_get(r, "ratio");

		num_text(json_object_get(r, "a"), a, sizeof(a), false);
		num_text(json_object_get(r, "b"), b, sizeof(b), false);
		num_text(json_object_get(r, "diff"), df, sizeof(df), true);
		if (json_is_number(ratio))
			snprintf(ra, sizeof(ra), "%.3f", json_number_value(ratio));
		else
			snprintf(ra, sizeof(ra), "-");
		if (sweep)
			fprintf(out, "%-*s  ", (int)wk, json_string_value(json_object_get(r, "key")));
		fprintf(out, "%-*s  %*s  %*s  %*s  %*s%s\n", (int)wf, json_string_value(json_object_get(r, "figure")), (int)wa, a,
			(int)wb, b, (int)wd, df, (int)wr, ra, json_is_true(json_object_get(r, "changed")) ? "" : "  (same)");
	}
	json_array_foreach(json_object_get(d, "only_a"), i, r)
		fprintf(out, "only in a: %s\n", json_string_value(r));
	json_array_foreach(json_object_get(d, "only_b"), i, r)
		fprintf(out, "only in b: %s\n", json_string_value(r));
	fprintf(out, "%lld changed, %lld the same", (long long)json_integer_value(json_object_get(d, "changed")),
		(long long)json_integer_value(json_object_get(d, "same")));
	if (json_real_value(json_object_get(d, "min_change")) > 0)
		fprintf(out, " (a change below %.4g%% counts as the same)", 100 * json_real_value(json_object_get(d, "min_change")));
	fputc('\n', out);
	return ferror(out) ? -EIO : 0;
}

int ccmm_diff_write_csv(json_t *d, FILE *out)
{
	json_t *r;
	size_t i;

	fputs("key,figure,a,b,diff,ratio,changed\n", out);
	json_array_foreach(json_object_get(d, "rows"), i, r) {
		const char *fields[] = { "key", "figure", "a", "b", "diff", "ratio", "changed" };

		for (int f = 0; f < 7; f++) {
			char *s = _ccmm_csv_cell(json_object_get(r, fields[f]));

			if (f)
				fputc(',', out);
			ccmm_csv_field(out, s ? s : "");
			free(s);
		}
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}
