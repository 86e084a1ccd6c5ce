/* SPDX-License-Identifier: MIT */
/* report/ internals shared by its files. */
#ifndef CCMM_REPORT_INTERNAL_H
#define CCMM_REPORT_INTERNAL_H

#include <jansson.h>

#include "report/report.h"

/* The run's time series as the JSON report's "series" (series.c); NULL without series. */
json_t *_ccmm_series_json(struct ccmm_run *run);

/* Modeled cost by device and kind (attribution.c): the text section, and the JSON report's "attribution". */
void _ccmm_attribution_text(struct ccmm_run *run, FILE *out);
json_t *_ccmm_attribution_json(struct ccmm_run *run);

#endif
