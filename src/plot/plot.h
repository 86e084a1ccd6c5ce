/* SPDX-License-Identifier: MIT */
/*
 * plot.h - pictures of answers (layer 5): a run's time series against
 * modeled time, and a sweep's metrics against a varied key.
 *
 * Drawn by gnuplot, driven through a pipe: ccmm writes a gnuplot script
 * with the data inline and feeds it to gnuplot's standard input, which
 * renders PNG (pngcairo) and SVG. The script is kept beside the pictures
 * (NAME.gp) so a picture can be redrawn or restyled without ccmm. Every
 * picture appears under its name only when complete (rendered to a
 * temporary name, then renamed).
 *
 * Locking: none. Each function forks gnuplot and waits for it.
 */
#ifndef CCMM_PLOT_H
#define CCMM_PLOT_H

#include <jansson.h>

#include "util/util.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/*
 * ccmm_plot_available - whether gnuplot can be run (the CCMM_GNUPLOT
 * environment variable, else "gnuplot" on PATH) with the pngcairo and svg
 * terminals. 0, or -ENOENT with @err saying what to install.
 */
int ccmm_plot_available(struct ccmm_error *err);

/*
 * ccmm_plot_series - a run report's time series ("series": ccmm run
 * --interval) into @dir (created if missing): one picture per series name
 * (NAME.png, NAME.svg, NAME.gp), a line per label, modeled time on the x
 * axis and the series' unit on the y axis; reclaim, OOM and conversion
 * events (counters marked so) drawn as vertical lines on every picture.
 * Returns the number of pictures, or -EINVAL (no series in the report),
 * -EIO (gnuplot failed: its message in @err), -errno.
 */
int ccmm_plot_series(json_t *report, const char *dir, struct ccmm_error *err);

/*
 * ccmm_plot_table - a sweep table (ccmm sweep --json) into @dir: for each
 * numeric metric a picture of it against the first varied key (a numeric
 * axis when every value is a number, else one tick per value), one line
 * per value of the second key; with more keys, one picture per
 * combination of the others (NAME--KEY=VALUE...). Failed points are left
 * out. Returns the number of pictures, -EINVAL (no key varied, no
 * numeric metric), -EIO, -errno.
 */
int ccmm_plot_table(json_t *table, const char *dir, struct ccmm_error *err);

#pragma GCC visibility pop

#endif
