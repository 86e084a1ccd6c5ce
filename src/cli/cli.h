/* SPDX-License-Identifier: MIT */
/*
 * cli.h - what the ccmm command's files share: each command in its own file
 * (sweep.c, diff.c, plot.c) with its own getopt_long parsing, hooked into
 * main.c by one line. Commands return the exit status: 0, 1 (a difference, a
 * point not as expected), 2 (bad input: one "ccmm: FILE:LINE: what is wrong"
 * line on stderr, and no output file left behind).
 */
#ifndef CCMM_CLI_H
#define CCMM_CLI_H

#include <stdio.h>

#include "util/util.h"

#define CLI_BAD_INPUT 2

/* Print @err as "ccmm: FILE:LINE: what is wrong"; returns CLI_BAD_INPUT. */
int cli_error(const struct ccmm_error *err);

/* Print "ccmm CMD: <message>"; returns CLI_BAD_INPUT. */
int cli_bad(const char *cmd, const char *fmt, ...) CCMM_PRINTF(2, 3);

/*
 * cli_write - write an output through @fn: "-" is standard output, any
 * other path an atomic file (util.h: complete or not at all). On failure
 * a message names the file. Returns 0 or -errno.
 */
int cli_write(const char *path, int (*fn)(void *arg, FILE *out), void *arg);

/* getopt_long's unknown-option message with a suggestion from @longopts' names; returns CLI_BAD_INPUT. */
struct option;
int cli_unknown_option(const char *cmd, const char *arg, const struct option *longopts);

/*
 * After getopt_long returned '?' or ':' (opterr 0): a known option without
 * its value ("--vary needs a value"), an unknown short option, or an
 * unknown long one with a suggestion. Returns CLI_BAD_INPUT.
 */
int cli_getopt_error(const char *cmd, char **argv, const char *optstring, const struct option *longopts);

int cmd_sweep(int argc, char **argv); /* ccmm sweep JOB --vary KEY=V1,V2 ... (src/cli/sweep.c) */
int cmd_diff(int argc, char **argv);  /* ccmm diff A.json B.json (src/cli/diff.c) */
int cmd_plot(int argc, char **argv);  /* ccmm plot FILE.json --out DIR (src/cli/plot.c) */

/*
 * The run command's options from this files: --set KEY=VALUE
 * (repeatable), --interval T, --series FILE.csv, --plot DIR (run.c's
 * table lists them). run_answers_opt() takes one by its name ("--set")
 * and value: 0, or CLI_BAD_INPUT (message printed) for a malformed setting.
 */
struct run_answers {
	struct ccmm_setting *sets;
	size_t nr_sets;
	const char *interval;
	const char *series;
	const char *plot;
};
int run_answers_opt(struct run_answers *ra, const char *name, const char *value);
void run_answers_free(struct run_answers *ra);
struct ccmm_job;
struct ccmm_run;
/* Before the run: --interval into the job, --plot's gnuplot checked. 0, or 2 (bad input, message printed). */
int run_answers_start(struct run_answers *ra, struct ccmm_job *job);
/* After the run: the series CSV and the pictures. 0, or 2 (message printed). */
int run_answers_finish(struct run_answers *ra, struct ccmm_run *run);

/* MPI for ccmm sweep --mpi (src/cli/sweep-mpi.c; stubs that refuse when built without MPI). */
int cli_mpi_available(void);
int cli_mpi_init(int *argc, char ***argv, int *rank, int *size);
/* Every rank's rows to rank 0 (rows[p] of the points it ran; the others NULL). 0 or -errno. */
int cli_mpi_gather(char **rows, size_t total, int rank, int size);
/* Rank 0's exit status to every rank. */
int cli_mpi_bcast_status(int status);
void cli_mpi_finalize(void);

#endif
