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
	/* depends.c: each actor's ops' latest results ([actor][op index]) */
	struct ccmm_op_result **results;
	uint64_t results_seq;
	_Atomic uint64_t steps;  /* units of work done, for [global] max_steps */
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

/*
 * checks.c: a check= line of section @actor (-1: [global]) at @w, read into
 * job->checks; and, once every section is read, the checks' first keys
 * against the report's sections and jobs[NAME] against the job's actors.
 * 0, or -EINVAL / -ENOMEM with @err at the line.
 */
int _ccmm_check_parse(struct ccmm_job *job, int actor, const char *value, const struct ccmm_where *w,
		      struct ccmm_error *err);
int _ccmm_checks_validate(const struct ccmm_job *job, struct ccmm_error *err);

/*
 * depends.c: what ops depend on. Each op's latest result is kept (init at
 * run start, free with the run; record after every op, under run->lock).
 * _ccmm_deps_explain: whether @op (about to be a run error) depends on an
 * op that failed at run time, or on an object a stopped actor was to
 * create: true with @note saying which, where, and its errno.
 * _ccmm_deps_stopped: an actor stopped so, or NULL. _ccmm_errno_name:
 * "EOPNOTSUPP" for -95 (or the number).
 */
struct ccmm_op_result {
	long ret;
	uint64_t seq;               /* 0: never ran */
};
int _ccmm_deps_init(struct ccmm_run *run);
void _ccmm_deps_free(struct ccmm_run *run);
void _ccmm_deps_record(struct ccmm_actor *a, size_t pc, long ret);
bool _ccmm_deps_explain(struct ccmm_actor *a, const struct ccmm_op *op, char *note, size_t len);
const struct ccmm_actor *_ccmm_deps_stopped(struct ccmm_run *run);
const char *_ccmm_errno_name(long err, char *buf, size_t len);

/* milestones.c: a "milestone = NAME EVENT" line of actor @a; 0 or -EINVAL / -E2BIG with @err at the line. */
int _ccmm_milestone_parse(struct ccmm_actor *a, const char *value, const struct ccmm_where *w, struct ccmm_error *err);

#endif
