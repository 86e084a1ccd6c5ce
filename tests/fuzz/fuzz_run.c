// SPDX-License-Identifier: MIT
/*
 * Fuzz target: a job loaded and run (ccmm_job_load, then ccmm_job_run in
 * sim mode with a bound of MAX_STEPS steps), summarized and reported in
 * text and JSON (to a scratch stream); where the hangs of issue 19 lived.
 * Threads mode is run as sim mode, so an input always behaves the same.
 * The run's verdict must agree with its summary: a run error is status 2.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz.h"
#include "report/report.h"
#include "scenario/scenario.h"

#define MAX_STEPS 3000

static FILE *scratch;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct ccmm_job *job = NULL;
	struct ccmm_run *run = NULL;
	struct ccmm_run_summary s;
	struct ccmm_error err;

	if (!scratch && !(scratch = fopen("/dev/null", "w")))
		abort();
	if (!text)
		return -1;
	if (fuzz_writes_outside(text)) {
		free(text);
		return -1;
	}
	if (ccmm_job_load("fuzz.job", text, NULL, &job, &err)) {
		free(text);
		return 0;
	}
	job->g.mode = 0;
	if (!job->g.max_steps || job->g.max_steps > MAX_STEPS)
		job->g.max_steps = MAX_STEPS;
	if (ccmm_job_run(job, &run) == 0) {
		ccmm_run_summarize(run, &s);
		if ((s.status == 2) != (run->error[0] != '\0'))
			abort();
		ccmm_report_text(run, scratch, CCMM_REPORT_VERBOSE);
		if (s.status != 2)
			ccmm_report_json(run, scratch);
		ccmm_run_free(run);
	}
	ccmm_job_free(job);
	free(text);
	return 0;
}
