/* SPDX-License-Identifier: MIT */
/* report/ internals shared by its files: the report builder, the check evaluator, series, attribution. */
#ifndef CCMM_REPORT_INTERNAL_H
#define CCMM_REPORT_INTERNAL_H

#include <jansson.h>

#include "report/report.h"
#include "scenario/scenario.h"

/*
 * The JSON report of @run as a jansson json_t * (the caller owns it), without
 * its "checks" array; NULL when out of memory. report.c.
 */
void *_ccmm_report_build(struct ccmm_run *run);

/*
 * Where check @c was written, as its messages, the JSON report's
 * "job_line" and the CSV report's figure name it: "FILE:LINE", or the
 * setting ("--set KEY=VALUE") for a check given on the command line
 * (line 0). Written into @buf (@size bytes, truncated); returns @buf.
 * checks.c.
 */
const char *_ccmm_check_where(const struct ccmm_check *c, char *buf, size_t size);

/* The "checks" array of the JSON report (a json_t *; empty before ccmm_report_checks). checks.c. */
void *_ccmm_report_checks_json(struct ccmm_run *run);

/* The run's time series as the JSON report's "series" (series.c); NULL without series. */
json_t *_ccmm_series_json(struct ccmm_run *run);

/* Modeled cost by device and kind (attribution.c): the text section, and the JSON report's "attribution". */
void _ccmm_attribution_text(struct ccmm_run *run, FILE *out);
json_t *_ccmm_attribution_json(struct ccmm_run *run);

#endif
