// SPDX-License-Identifier: MIT
/* A sweep's table as CSV, JSON and aligned text (sweep.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sweep/internal.h"

bool ccmm_json_is_table(json_t *j)
{
	const char *k = json_string_value(json_object_get(j, "kind"));

	return k && !strcmp(k, "ccmm-sweep") && json_is_array(json_object_get(j, "rows"));
}

bool ccmm_json_is_report(json_t *j)
{
	const char *v = json_string_value(json_object_get(j, "ccmm version"));

	return v && !json_object_get(j, "kind") && json_is_array(json_object_get(j, "jobs")) &&
	       json_is_object(json_object_get(j, "result"));
}

/* A value as CSV writes it: JSON's own text for numbers and booleans, strings bare. */
char *_ccmm_csv_cell(json_t *v)
{
	if (!v || json_is_null(v))
		return strdup("");
	if (json_is_string(v))
		return strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
}


static void csv_value(FILE *out, json_t *v)
{
	char *c = _ccmm_csv_cell(v);

	ccmm_csv_field(out, c ? c : "");
	free(c);
}

int ccmm_table_write_csv(json_t *t, FILE *out)
{
	json_t *keys = json_object_get(t, "keys"), *cols = json_object_get(t, "metrics"), *rows = json_object_get(t, "rows");
	size_t i, r;
	json_t *k, *row;

	fputs("point", out);
	json_array_foreach(keys, i, k) {
		fputc(',', out);
		ccmm_csv_field(out, json_string_value(k));
	}
	fputs(",status", out);
	json_array_foreach(cols, i, k) {
		fputc(',', out);
		ccmm_csv_field(out, json_string_value(k));
	}
	fputs(",error,wall_s\n", out);
	json_array_foreach(rows, r, row) {
		csv_value(out, json_object_get(row, "point"));
		json_array_foreach(keys, i, k) {
			fputc(',', out);
			csv_value(out, json_object_get(json_object_get(row, "keys"), json_string_value(k)));
		}
		fputc(',', out);
		csv_value(out, json_object_get(row, "status"));
		json_array_foreach(cols, i, k) {
			fputc(',', out);
			csv_value(out, json_object_get(json_object_get(row, "metrics"), json_string_value(k)));
		}
		fputc(',', out);
		csv_value(out, json_object_get(row, "error"));
		fputc(',', out);
		csv_value(out, json_object_get(row, "wall_s"));
		fputc('\n', out);
	}
	return ferror(out) ? -EIO : 0;
}

int ccmm_table_write_json(json_t *t, FILE *out)
{
	int ret = json_dumpf(t, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) ? -EIO : 0;

	fputc('\n', out);
	return ret || ferror(out) ? -EIO : 0;
}

/* A value as the text table shows it: numbers short, strings as they are. */
static void text_value(json_t *v, char *buf, size_t len)
{
	if (!v || json_is_null(v))
		snprintf(buf, len, "-");
	else if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%.6g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "?");
}

#define CELL 96
#define TEXT_WIDTH 160    /* wider tables are printed a column per point ... */
#define TRANSPOSE_MAX 12  /* ... when they have this many points at most */

int ccmm_table_write_text(json_t *t, FILE *out)
{
	json_t *keys = json_object_get(t, "keys"), *cols = json_object_get(t, "metrics"), *rows = json_object_get(t, "rows");
	size_t nk = json_array_size(keys), nm = json_array_size(cols), nr = json_array_size(rows);
	size_t ncol = 2 + nk + nm, failed = 0;
	char (*cells)[CELL] = calloc((nr + 1) * ncol, CELL);
	size_t *width = calloc(ncol, sizeof(*width));
	bool *right = calloc(ncol, sizeof(*right));

	if (!cells || !width || !right) {
		free(cells);
		free(width);
		free(right);
		return -ENOMEM;
	}
	snprintf(cells[0], CELL, "point");
	for (size_t i = 0; i < nk; i++)
		snprintf(cells[1 + i], CELL, "%s", json_string_value(json_array_get(keys, i)));
	snprintf(cells[1 + nk], CELL, "status");
	for (size_t i = 0; i < nm; i++)
		snprintf(cells[2 + nk + i], CELL, "%s", json_string_value(json_array_get(cols, i)));
	for (size_t c = 0; c < ncol; c++)
		right[c] = true;
	for (size_t r = 0; r < nr; r++) {
		json_t *row = json_array_get(rows, r);
		char (*line)[CELL] = cells + (r + 1) * ncol;

		text_value(json_object_get(row, "point"), line[0], CELL);
		for (size_t i = 0; i < nk; i++)
			text_value(json_object_get(json_object_get(row, "keys"), json_string_value(json_array_get(keys, i))),
				   line[1 + i], CELL);
		text_value(json_object_get(row, "status"), line[1 + nk], CELL);
		for (size_t i = 0; i < nm; i++) {
			json_t *v = json_object_get(json_object_get(row, "metrics"), json_string_value(json_array_get(cols, i)));

			text_value(v, line[2 + nk + i], CELL);
			if (json_is_string(v))
				right[2 + nk + i] = false;
		}
		if (json_integer_value(json_object_get(row, "status")) == 2)
			failed++;
	}
	for (size_t i = 0; i < nk; i++)
		right[1 + i] = false;
	for (size_t r = 0; r <= nr; r++)
		for (size_t c = 0; c < ncol; c++)
			width[c] = CCMM_MAX(width[c], strlen(cells[r * ncol + c]));
	{
		size_t total = 0;

		for (size_t c = 0; c < ncol; c++)
			total += width[c] + 2;
		if (total > TEXT_WIDTH && nr <= TRANSPOSE_MAX) {
			/* too wide for a terminal: a line per column, a column per point */
			size_t w0 = 0, *wp = calloc(nr + 1, sizeof(*wp));

			for (size_t c = 0; c < ncol; c++)
				w0 = CCMM_MAX(w0, strlen(cells[c]));
			for (size_t r = 1; wp && r <= nr; r++)
				for (size_t c = 0; c < ncol; c++)
					wp[r] = CCMM_MAX(wp[r], strlen(cells[r * ncol + c]));
			for (size_t c = 0; wp && c < ncol; c++) {
				fprintf(out, "%-*s", (int)w0, cells[c]);
				for (size_t r = 1; r <= nr; r++)
					fprintf(out, "  %*s", (int)wp[r], cells[r * ncol + c]);
				fputc('\n', out);
			}
			free(wp);
			goto errors;
		}
	}
	for (size_t r = 0; r <= nr; r++) {
		for (size_t c = 0; c < ncol; c++)
			fprintf(out, "%s%*s", c ? "  " : "", right[c] && r ? (int)width[c] : -(int)width[c], cells[r * ncol + c]);
		fputc('\n', out);
	}
errors:
	for (size_t r = 0; r < nr; r++) {
		json_t *row = json_array_get(rows, r), *e = json_object_get(row, "error");

		if (json_is_string(e))
			fprintf(out, "point %lld: %s\n", (long long)json_integer_value(json_object_get(row, "point")),
				json_string_value(e));
	}
	if (failed)
		fprintf(out, "%zu of %zu point(s) failed\n", failed, nr);
	free(cells);
	free(width);
	free(right);
	return ferror(out) ? -EIO : 0;
}
