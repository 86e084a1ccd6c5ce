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

/*
 * Write the JSON report to @out. It describes itself: "global options" holds
 * every [global] option in effect (the engine's and every run extension's,
 * defaults included), each job's "job options" its kind's options, loops,
 * expect= and op program, "platform" every platform key in effect with the
 * laid-out ranges and every registered cost the machine charged with.
 * Events name the seed thread a rule comes from ("seed_thread": "004" and
 * its subject). A "checks" array gives each check= line's result
 * (ccmm_report_checks() evaluates them first). Returns 0, -ENOMEM or -EIO.
 */
int ccmm_report_json(struct ccmm_run *run, FILE *out);

/*
 * Several runs (several job files in one command): one run is written as
 * ccmm_report_json() writes it; more are one object with the header,
 * "runs" (each run's report, in order) and "result": {"exit_status": the
 * worst}. Returns 0, -ENOMEM or -EIO.
 */
int ccmm_report_json_runs(struct ccmm_run *const *runs, size_t n, FILE *out);

/*
 * ccmm_report_csv - the figures of @n runs as CSV (RFC 4180), one per row,
 * "job,actor,kind,figure,value": per actor ops, op_errors, violations,
 * modeled_time_ns, cost.NAME.ns and cost.NAME.n (cost.copy_mbps.bytes) for
 * every cost charged, counter.NAME for every counter counted; per run
 * (actor and kind empty) result.violations, result.unexpected,
 * result.expectations_not_met, result.op_errors, result.exit_status and
 * modeled_time_ns. Returns 0 or -EIO.
 */
int ccmm_report_csv(struct ccmm_run *const *runs, size_t n, FILE *out);

/*
 * The subject of seed thread @id ("000" to "004": the mail threads that are
 * ccmm's specification, DESIGN.md), or NULL for an unknown id. Reports cite
 * a rule's thread as "seed thread 004" with this subject.
 */
const char *ccmm_seed_thread_subject(const char *id);

/*
 * ccmm_report_checks - evaluate the job's check= lines (struct ccmm_check)
 * over the JSON report of the finished @run, once: each PATH is walked in
 * the document ccmm_report_json writes (less its "checks" array; its
 * "result" is the verdict before the checks), the figure converted to the
 * check's unit (the figure's name gives its own: *_ns, *_s, *_bytes,
 * *pages of 4 KiB; times without one are ns, sizes bytes; a percentage
 * compares with a ratio) and compared. Results go to run->check_results;
 * ccmm_run_summarize counts the failed ones (exit status 1). A PATH the
 * report lacks fails its check with the nearest keys named. Both reports
 * call it if the caller has not. Returns 0 or -ENOMEM (nothing evaluated).
 * Not thread-safe against a run still going.
 */
int ccmm_report_checks(struct ccmm_run *run);

#pragma GCC visibility pop

#endif
