/* SPDX-License-Identifier: MIT */
/* scenario/ internals shared by the engine, the job reader and the actor kinds. */
#ifndef CCMM_SCENARIO_INTERNAL_H
#define CCMM_SCENARIO_INTERNAL_H

#include "scenario/scenario.h"

/* A verb's return: not done yet, run me again later (wait). */
#define CCMM_OP_BLOCKED 2 /* distinct from actor_step's 1 = finished */

struct ccmm_run_priv {
	struct ccmm_run pub;
	struct ccmm_op_error *op_errors;
	size_t nr_op_errors, cap_op_errors;
	size_t running, blocked; /* threads mode */
};

static inline struct ccmm_run_priv *run_priv(struct ccmm_run *run)
{
	return (struct ccmm_run_priv *)run;
}

/*
 * checks.c: a check= line of section @actor (-1: [global]) at @w, read into
 * job->checks; and, once every section is read, the checks' first keys
 * against the report's sections and jobs[NAME] against the job's actors.
 * 0, or -EINVAL / -ENOMEM with @err at the line.
 */
int _ccmm_check_parse(struct ccmm_job *job, int actor, const char *value, const struct ccmm_where *w,
		      struct ccmm_error *err);
int _ccmm_checks_validate(const struct ccmm_job *job, struct ccmm_error *err);

#endif
