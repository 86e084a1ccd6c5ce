// SPDX-License-Identifier: MIT
/*
 * The run command's options for comparing and looking at answers (cli.h):
 * --set KEY=VALUE, --interval T, --series FILE.csv, --plot DIR.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "plot/plot.h"
#include "report/report.h"

int run_answers_opt(struct run_answers *ra, const char *name, const char *v)
{
	if (!strcmp(name, "--set")) {
		struct ccmm_setting *n = realloc(ra->sets, (ra->nr_sets + 1) * sizeof(*n));
		struct ccmm_error err;

		if (!n)
			return cli_bad("run", "out of memory");
		ra->sets = n;
		if (ccmm_setting_parse(v, "--set", &n[ra->nr_sets], &err))
			return cli_error(&err);
		ra->nr_sets++;
	} else if (!strcmp(name, "--interval")) {
		ra->interval = v;
	} else if (!strcmp(name, "--series")) {
		ra->series = v;
	} else {
		ra->plot = v;
	}
	return 0;
}

void run_answers_free(struct run_answers *ra)
{
	free(ra->sets);
	memset(ra, 0, sizeof(*ra));
}

int run_answers_start(struct run_answers *ra, struct ccmm_job *job)
{
	struct ccmm_error err;

	memset(&err, 0, sizeof(err));
	if (ra->interval) {
		uint64_t ns;

		if (ccmm_parse_time_ns(ra->interval, &ns) || !ns)
			return cli_bad("run", "--interval '%s': a modeled time above zero (500ns, 10us, 2ms, 1s)", ra->interval);
		if (job->g.mode != CCMM_RUN_SIM)
			return cli_bad("run", "--interval: time series are sampled in sim mode (the job runs in threads mode)");
		job->interval_ns = ns;
	} else if (ra->series || ra->plot) {
		return cli_bad("run", "%s needs --interval T: the time series are sampled every T of modeled time",
			       ra->series ? "--series" : "--plot");
	}
	if (ra->plot && ccmm_plot_available(&err))
		return cli_error(&err);
	return 0;
}

static int series_csv(void *arg, FILE *out)
{
	return ccmm_report_series_csv(arg, out);
}

int run_answers_finish(struct run_answers *ra, struct ccmm_run *run)
{
	struct ccmm_error err;

	memset(&err, 0, sizeof(err));
	if (!run->series)
		return 0;
	if (ra->series && cli_write(ra->series, series_csv, run))
		return CLI_BAD_INPUT;
	if (ra->plot) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		json_t *rep = NULL;
		int n;

		if (f && !ccmm_report_json(run, f) && !fflush(f))
			rep = json_loadb(buf, len, 0, NULL);
		if (f)
			fclose(f);
		free(buf);
		if (!rep)
			return cli_bad("run", "--plot: the report could not be made");
		n = ccmm_plot_series(rep, ra->plot, &err);
		json_decref(rep);
		if (n < 0)
			return cli_error(&err);
	}
	return 0;
}
