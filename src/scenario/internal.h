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

#endif
