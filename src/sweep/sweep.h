/* SPDX-License-Identifier: MIT */
/*
 * sweep.h - answers across runs (layer 5).
 *
 *   JSON paths   a figure of a report by name: "jobs.disk.costs.ve_ns.ns",
 *                "subsystems.swiotlb.io_tlb_used_hiwater", "sgx.cgroups.*.oom"
 *      |
 *   sweeps       a job run at every point of a grid of settings (--vary
 *                KEY=V1,V2 ..., the cartesian product, first key slowest),
 *                each point in a process of its own, N at a time; a point
 *                gives a row: its settings, its exit status, the figures
 *                asked for (--metric PATH, or the defaults of the
 *                subsystems the job uses), its error, its wall time
 *      |
 *   tables       the rows as CSV, JSON ("kind": "ccmm-sweep") and aligned
 *                text, the same bytes whatever the number of workers or
 *                MPI ranks apart from the timing columns (wall_s)
 *      |
 *   diffs        two run reports, or two sweep tables joined on their
 *                keys, figure by figure: A, B, B - A, B / A
 *
 * A point's result depends only on the job and its settings: each point
 * runs in a fresh child process (fork), so neither the order of points nor
 * which worker ran them can change a figure, and a point that crashes is a
 * row with its error, not a lost sweep.
 *
 * Every function returns 0 or a negative errno with a struct ccmm_error
 * ("FILE:LINE: what is wrong", or "--vary ...: what is wrong") and never
 * exits. Locking: none; a sweep belongs to one thread (its workers are
 * processes).
 */
#ifndef CCMM_SWEEP_H
#define CCMM_SWEEP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "report/report.h"
#include "util/util.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/* ---- sweeps ------------------------------------------------------------- */

#define CCMM_SWEEP_MAX_POINTS 1000000

/* One varied key: its values, as the setting each point applies. */
struct ccmm_sweep_axis {
	char key[160];              /* as written: "sgx_reclaim", "platform.epc:sec0.size" */
	char **values;              /* as applied (ranges expanded to numbers) */
	size_t nr;
	char origin[64];            /* "--vary" or "FILE:LINE" of a [sweep] vary= line */
};

struct ccmm_sweep {
	char job[4096];             /* the job file */
	struct ccmm_setting *sets;  /* --set and [sweep] set=: every point */
	size_t nr_sets;
	struct ccmm_sweep_axis *axes;
	size_t nr_axes;
	char **metrics;             /* JSON paths or patterns, in column order */
	size_t nr_metrics;
	bool metrics_given;         /* false: the defaults were taken (ccmm_sweep_check) */
};

/*
 * ccmm_sweep_init - a sweep of job file @job: its [sweep] section (vary =
 * KEY=V1,V2..., metric = PATH, set = KEY=VALUE; each checked as the
 * command line's, errors at FILE:LINE) is read, if it has one. Free with
 * ccmm_sweep_free(). -ENOENT (no such file), -EINVAL, -ENOMEM.
 */
int ccmm_sweep_init(struct ccmm_sweep *sw, const char *job, struct ccmm_error *err);
void ccmm_sweep_free(struct ccmm_sweep *sw);

/* --set KEY=VALUE for every point (as ccmm_setting_parse). 0 or -EINVAL. */
int ccmm_sweep_add_set(struct ccmm_sweep *sw, const char *arg, struct ccmm_error *err);

/*
 * ccmm_sweep_add_vary - an axis: "KEY=V1,V2,..." where a value may be a
 * range "LO..HI" (step 1), "LO..HI:STEP" or "LO..HI*FACTOR" (geometric);
 * LO, HI and STEP take size suffixes (4k, 2m) and expand to plain
 * numbers. A key given again replaces the earlier axis (the command line
 * over the file). @origin names it in errors ("--vary"). -EINVAL for a
 * malformed list (no '=', an empty value, LO > HI, a zero step, a factor
 * below 2, more than CCMM_SWEEP_MAX_POINTS points in the grid), a key
 * that is also --set, -ENOMEM.
 */
int ccmm_sweep_add_vary(struct ccmm_sweep *sw, const char *arg, const char *origin, struct ccmm_error *err);

/* --metric PATH (or a pattern with '*'): a column. 0, -EINVAL (empty), -ENOMEM. */
int ccmm_sweep_add_metric(struct ccmm_sweep *sw, const char *path, struct ccmm_error *err);

/*
 * ccmm_sweep_check - before running: the job is loaded with every --set and
 * each axis value (the other axes at their first value), so an unknown
 * key (with a suggestion), a bad value or an impossible platform setting
 * is an error now, naming the setting, not a failed row later; a failure
 * that belongs to no single setting (a combination) is left to its row.
 * Without --metric the columns are the defaults of the subsystems whose
 * actor kinds the job uses (struct ccmm_kind_set.metrics) after
 * "modeled_time_ns", "result.violations" and "result.unexpected".
 * Returns 0, or the load's errno with @err.
 */
int ccmm_sweep_check(struct ccmm_sweep *sw, struct ccmm_error *err);

/* Number of points: the product of the axes' lengths (1 without axes). */
size_t ccmm_sweep_points(const struct ccmm_sweep *sw);

/*
 * ccmm_sweep_run_point - run point @i in this process: load the job with
 * the settings, run it, read the figures from its JSON report. *@row is
 * the row as JSON text (malloc'd): {"point", "status" (0 as expected,
 * 1 not, 2 run or load error), "error", "values": {path: value},
 * "wall_s"}; with @paths also "paths": every figure's path in the report,
 * for suggestions. Returns 0 (even for a failed point: that is its row) or
 * -ENOMEM.
 */
int ccmm_sweep_run_point(const struct ccmm_sweep *sw, size_t i, bool paths, char **row);

/*
 * ccmm_sweep_run_local - run the points p with p % @stride == @offset (all:
 * 0 and 1), each in a child process, at most @jobs (1 to 256) at a time; a child that
 * dies is its point's row with the signal. @rows[p] receives each row's
 * text (malloc'd; the caller frees). When @probe, point @offset runs first
 * alone and its figures' paths check the metrics before any other point
 * starts: a metric path that point does not have is -ENOENT with a
 * suggestion (when it ran; a failed first point checks nothing). @progress
 * (may be NULL) gets a line per finished point. Returns 0, -ENOENT, or
 * -errno (fork, pipe).
 */
int ccmm_sweep_run_local(const struct ccmm_sweep *sw, unsigned jobs, size_t offset, size_t stride, bool probe,
			 char **rows, FILE *progress, struct ccmm_error *err);

/*
 * ccmm_sweep_table - the results table from every point's row (@rows[p]
 * for p < ccmm_sweep_points; NULL: the point did not run, a row with an
 * error): {"kind": "ccmm-sweep", "job", "set", "keys", "metrics" (concrete
 * columns: patterns expanded in the order the rows first show them),
 * "rows": [{"point", "keys", "status", "error", "metrics", "wall_s"}],
 * "wall_s": @wall_s}. A metric asked for that is no pattern and that no
 * row has is -ENOENT with a suggestion from the rows' paths (a default
 * metric no row has makes no column); -EINVAL for a row that is not
 * JSON; -ENOMEM.
 */
int ccmm_sweep_table(const struct ccmm_sweep *sw, char *const *rows, double wall_s, json_t **table,
		     struct ccmm_error *err);

/* ---- tables ---------------------------------------------------------------- */

/*
 * Writers of a sweep table (ccmm_sweep_table, or one read back from its
 * JSON). CSV: a header "point,KEY...,status,METRIC...,error,wall_s", one
 * line per row, RFC 4180 quoting; text: aligned columns without the
 * timing. Return 0 or -EIO.
 */
int ccmm_table_write_csv(json_t *table, FILE *out);
int ccmm_table_write_text(json_t *table, FILE *out);
int ccmm_table_write_json(json_t *table, FILE *out);

/* Whether @j is a sweep table / a run report (what ccmm diff and ccmm plot take). */
bool ccmm_json_is_table(json_t *j);
bool ccmm_json_is_report(json_t *j);

/* ---- diffs ------------------------------------------------------------------- */

struct ccmm_diff_opts {
	double min_change;          /* a figure changed when |B - A| / |A| >= this (0.05: 5%); 0: any change */
	bool all;                   /* also the unchanged rows */
};

/*
 * ccmm_diff - compare two run reports (every figure both have, timestamps
 * and wall times excepted) or two sweep tables (rows joined on their keys,
 * every metric both have). *@out: {"kind": "ccmm-diff", "of": "report" |
 * "sweep", "rows": [{"key" (the point's settings, sweeps only), "figure",
 * "a", "b", "diff", "ratio", "changed"}] changed rows first (in document
 * order, then the unchanged), "only_a", "only_b", "changed", "same"}.
 * -EINVAL with @err for JSONs of different kinds, of no kind ccmm writes,
 * or sweeps over different keys; -ENOMEM.
 */
int ccmm_diff(json_t *a, const char *name_a, json_t *b, const char *name_b, const struct ccmm_diff_opts *o,
	      json_t **out, struct ccmm_error *err);

/* The diff as aligned text (figure, A, B, B-A, B/A; sweeps: a key column). 0 or -EIO. */
int ccmm_diff_write_text(json_t *diff, FILE *out);
/* As CSV: "key,figure,a,b,diff,ratio,changed". 0 or -EIO. */
int ccmm_diff_write_csv(json_t *diff, FILE *out);

#pragma GCC visibility pop

#endif /* CCMM_SWEEP_H */
