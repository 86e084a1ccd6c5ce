/* SPDX-License-Identifier: MIT */
/* scenario/ internals shared by the engine, the simulator, exploration, the job reader and the actor kinds. */
#ifndef CCMM_SCENARIO_INTERNAL_H
#define CCMM_SCENARIO_INTERNAL_H

#include "scenario/scenario.h"

/* One stretch of the recorded interleaving: an entity ran from one op's line to where it gave way. */
struct _ccmm_sim_seg {
	uint32_t task;              /* entity index (actors in job order, then kernel threads) */
	struct ccmm_where from, to; /* the job lines it ran from and stopped at */
	const char *op;             /* the op it started in */
	const char *how;            /* "lock", "fault", "io", "step", "sleeps on", "done" */
	char what[80];              /* the lock's class, what it slept on */
	uint64_t steps;             /* decisions before it */
};

/* What a simulator recorded, handed to the run (ccmm_run_schedule, ccmm_run_interleaving). */
struct _ccmm_sim_record {
	uint32_t *choices;
	size_t nr_choices;
	const char **names;         /* entity names (pointers into the actors and kernel threads: valid while the run is) */
	size_t nr_names;
	struct _ccmm_sim_seg *segs;
	size_t nr_segs;
	uint64_t steps, hash;
	bool replay_left;           /* a replayed schedule had choices left over */
};

/* Move @sim's record into @rec (the caller frees rec->choices, names and segs). */
void _ccmm_sim_take_record(struct ccmm_sim *sim, struct _ccmm_sim_record *rec);

struct ccmm_run_priv {
	struct ccmm_run pub;
	struct ccmm_op_error *op_errors;
	size_t nr_op_errors, cap_op_errors;
	struct ccmm_sim *sim;       /* while the actors run */
	struct ccmm_wait_queue_head sigwq; /* the signal table's lock; wait ops sleep here */
	struct _ccmm_sim_record rec; /* steps and hash always; the rest with plan->record */
};

static inline struct ccmm_run_priv *run_priv(struct ccmm_run *run)
{
	return (struct ccmm_run_priv *)run;
}

#endif
