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

#include <jansson.h>
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
 * Write the run's time series (ccmm run --interval) as CSV: a header
 * "time_ns,NAME[LABEL] (UNIT),...", one line per sample, an empty cell
 * where a series had no value. Returns 0, -ENOENT (the run has no series)
 * or -EIO.
 */
int ccmm_report_series_csv(struct ccmm_run *run, FILE *out);

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
 * result.expectations_not_met, result.op_errors, result.checks_failed,
 * result.exit_status and modeled_time_ns, then for each check= line (in
 * the job's order; actor and kind the check's actor's, if it names one)
 * check[FILE:LINE].passed, 1 or 0, and check[FILE:LINE].got, the figure
 * it compared in the check's unit (bytes, ns, a percentage as a number
 * of percent; printed with %.17g, so it may have a fraction), when the
 * figure was found and is a number. Evaluates the runs' checks first
 * (ccmm_report_checks), as the other reports do. Returns 0, -ENOMEM or
 * -EIO.
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

/*
 * ccmm_csv_field - write @s to @out as one CSV field (RFC 4180): as it is,
 * or in double quotes with quotes doubled when it holds a comma, a quote,
 * a line break, or a leading or trailing space. The CSV report, sweep
 * tables and diffs write every field through it. Errors show on @out.
 */
void ccmm_csv_field(FILE *out, const char *s);

/* ---- JSON paths -------------------------------------------------------- */

/*
 * Path syntax, segment by segment:
 *   KEY         an object's member; keys may hold dots ("dma.virtio-blk0",
 *               "99.000000"): the longest key the rest of the path starts
 *               with is taken
 *   NAME        in an array of objects, the element whose "jobname",
 *               "name", "path", "device", "actor", "cgroup", "class" or "entity" is NAME ("jobs.disk")
 *   [N]         an array's N-th element
 *   [K=V]       the element whose member K is V (text or number)
 *   *           every member or element (ccmm_jpath_expand only)
 * Segments are separated by '.' ("[..]" needs none before it).
 */

/* The value at @path in @root (borrowed), or NULL when there is none. */
json_t *ccmm_jpath_get(json_t *root, const char *path);

/*
 * ccmm_jpath_step - one segment of the path at *@p (after an optional '.')
 * from @cur: the value it names (borrowed), with *@p moved past the
 * segment; NULL when it names nothing ('*' included), *@p then undefined.
 * For walkers that say where a path stops (check= lines).
 */
json_t *ccmm_jpath_step(json_t *cur, const char **p);

/* The members that name an array's elements, in the order a NAME segment tries them; NULL-terminated. */
extern const char *const ccmm_jpath_name_members[];

/* Whether @path has a '*' segment. */
bool ccmm_jpath_is_pattern(const char *path);

typedef void (*ccmm_jpath_fn)(void *user, const char *path, json_t *value);

/*
 * ccmm_jpath_expand - call @fn for every scalar (number, string, boolean,
 * null) that @pattern names in @root, in document order, with the
 * concrete path (array elements named as ccmm_jpath_flatten names them).
 * Returns how many.
 */
size_t ccmm_jpath_expand(json_t *root, const char *pattern, ccmm_jpath_fn fn, void *user);

/*
 * ccmm_jpath_flatten - call @fn for every scalar in @root with a path that
 * ccmm_jpath_get resolves back to it: object members by key, array
 * elements by their unique name (".disk"), by "[K=V]" when the name cannot
 * stand as a segment, else by "[N]". Returns how many.
 */
size_t ccmm_jpath_flatten(json_t *root, ccmm_jpath_fn fn, void *user);

#pragma GCC visibility pop

#endif
