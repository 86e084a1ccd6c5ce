// SPDX-License-Identifier: MIT
/* A run's time series in the JSON report and as CSV (report.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#include "report/internal.h"

json_t *_ccmm_series_json(struct ccmm_run *run)
{
	const struct ccmm_series *s = run->series;
	json_t *j, *times, *list;
	size_t n;

	if (!s)
		return NULL;
	n = ccmm_series_samples(s);
	j = json_object();
	times = json_array();
	list = json_array();
	json_object_set_new(j, "interval_ns", json_integer((json_int_t)ccmm_series_interval(s)));
	json_object_set_new(j, "samples", json_integer((json_int_t)n));
	json_object_set_new(j, "stopped", ccmm_series_error(s) == -E2BIG    ? json_string("too many samples")
					   : ccmm_series_error(s)          ? json_string("out of memory")
									   : json_null());
	for (size_t i = 0; i < n; i++)
		json_array_append_new(times, json_integer((json_int_t)ccmm_series_time(s, i)));
	json_object_set_new(j, "time_ns", times);
	for (size_t k = 0; k < ccmm_series_count_nr(s); k++) {
		struct ccmm_series_info in;
		json_t *o = json_object(), *vals = json_array();

		ccmm_series_info(s, k, &in);
		json_object_set_new(o, "name", json_string(in.name));
		json_object_set_new(o, "label", json_string(in.label));
		json_object_set_new(o, "unit", json_string(in.unit));
		json_object_set_new(o, "kind", json_string(in.counter ? "counter" : "gauge"));
		json_object_set_new(o, "mark", in.mark ? json_string(ccmm_series_mark_names[in.mark]) : json_null());
		for (size_t i = 0; i < n; i++) {
			double v = ccmm_series_value(s, k, i);

			if (isnan(v))
				json_array_append_new(vals, json_null());
			else if (v == floor(v) && fabs(v) < 9e15)
				json_array_append_new(vals, json_integer((json_int_t)v));
			else
				json_array_append_new(vals, json_real(v));
		}
		json_object_set_new(o, "values", vals);
		json_array_append_new(list, o);
	}
	json_object_set_new(j, "series", list);
	return j;
}

/* A CSV header cell "NAME[LABEL] (UNIT)", quoted when it must be. */
static void header_cell(FILE *out, const struct ccmm_series_info *in)
{
	char cell[256];
	bool quote;

	snprintf(cell, sizeof(cell), "%s%s%s%s (%s)", in->name, in->label[0] ? "[" : "", in->label, in->label[0] ? "]" : "",
		 in->unit);
	quote = strpbrk(cell, ",\"") != NULL;
	if (!quote) {
		fputs(cell, out);
		return;
	}
	fputc('"', out);
	for (const char *c = cell; *c; c++) {
		if (*c == '"')
			fputc('"', out);
		fputc(*c, out);
	}
	fputc('"', out);
}

int ccmm_report_series_csv(struct ccmm_run *run, FILE *out)
{
	const struct ccmm_series *s = run->series;
	size_t n, ns;

	if (!s)
		return -ENOENT;
	n = ccmm_series_samples(s);
	ns = ccmm_series_count_nr(s);
	fputs("time_ns", out);
	for (size_t k = 0; k < ns; k++) {
		struct ccmm_series_info in;

		ccmm_series_info(s, k, &in);
		fputc(',', out);
		header_cell(out, &in);
	}
	fputc('\n', out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%" PRIu64, ccmm_series_time(s, i));
		for (size_t k = 0; k < ns; k++) {
			double v = ccmm_series_value(s, k, i);

			if (isnan(v))
				fputc(',', out);
			else if (v == floor(v) && fabs(v) < 9e15)
				fprintf(out, ",%lld", (long long)v);
			else
				fprintf(out, ",%.17g", v);
		}
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}
