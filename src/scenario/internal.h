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

/* Time series (series.c): set up at run start, a tick before each sim-mode step, the last sample at the end. */
int _ccmm_series_start(struct ccmm_run *run);
void _ccmm_series_tick(struct ccmm_run *run, uint64_t now_ns);
void _ccmm_series_finish(struct ccmm_run *run);
void _ccmm_series_free(struct ccmm_series *s);

/* An actor with a device= option works for that device: its context's costs are attributed to it (toolkit.c). */
void _ccmm_actor_attribute_device(struct ccmm_actor *a);

static inline struct ccmm_run_priv *run_priv(struct ccmm_run *run)
{
	return (struct ccmm_run_priv *)run;
}

#endif
