/* SPDX-License-Identifier: MIT */
/* report/ internals shared by the report builder and the check evaluator. */
#ifndef CCMM_REPORT_INTERNAL_H
#define CCMM_REPORT_INTERNAL_H

#include "scenario/scenario.h"

/*
 * The JSON report of @run as a jansson json_t * (the caller owns it), without
 * its "checks" array; NULL when out of memory. report.c.
 */
void *_ccmm_report_build(struct ccmm_run *run);

/* The "checks" array of the JSON report (a json_t *; empty before ccmm_report_checks). checks.c. */
void *_ccmm_report_checks_json(struct ccmm_run *run);

#endif
