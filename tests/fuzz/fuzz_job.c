// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the job-file parser (ccmm_job_load on the input as a job's
 * text), with the platform the job names and the files it includes. A job
 * that loads is freed again; nothing runs (fuzz_run.c runs them).
 */
#include <stdlib.h>

#include "fuzz.h"
#include "scenario/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct ccmm_job *job = NULL;
	struct ccmm_error err;
	char msg[1024];

	if (!text)
		return -1;
	if (ccmm_job_load("fuzz.job", text, NULL, &job, &err) == 0)
		ccmm_job_free(job);
	else
		ccmm_error_format(&err, msg, sizeof(msg)); /* every error formats */
	free(text);
	return 0;
}
