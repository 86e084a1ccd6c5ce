/* SPDX-License-Identifier: MIT */
/*
 * report.h - what a run found, for people (text) and for tools (JSON in
 * the shape of fio's --output-format=json: version, timestamp, global
 * options, a jobs array with one entry per actor).
 *
 * Both read the same run: per-actor modeled time, costs and counters,
 * every violation with its explanation (the access, both views, the page's
 * conversion history and the job line), expectation results, op errors,
 * and the verdict. Modeled time and ccmm's own wall time are reported
 * apart and never mixed.
 */
#ifndef CCMM_REPORT_H
#define CCMM_REPORT_H

#include <stdio.h>

#include "scenario/scenario.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/* Text report flags */
#define CCMM_REPORT_QUIET   0x1 /* the summary line only */
#define CCMM_REPORT_VERBOSE 0x2 /* every event, not just the first 20 per actor */

/* Write the text report to @out. Returns 0 or -EIO. */
int ccmm_report_text(struct ccmm_run *run, FILE *out, unsigned flags);

/* Write the JSON report to @out. Returns 0, -ENOMEM or -EIO. */
int ccmm_report_json(struct ccmm_run *run, FILE *out);

#pragma GCC visibility pop

#endif
