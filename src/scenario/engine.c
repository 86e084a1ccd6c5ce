// SPDX-License-Identifier: MIT
/*
 * The engine: objects, signals, actors as scheduling entities of the
 * simulator (sim.c: on their own stacks, or on real threads in stress
 * mode), the common verbs, lockstat, and the run's verdict.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/boot.h"
#include "scenario/internal.h"

/* ---- arguments ------------------------------------------------------------ */

uint64_t ccmm_arg_u64(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	const struct ccmm_range *r = &op->arg[idx].range;

	return r->lo == r->hi ? r->lo : ccmm_rng_range(&a->ctx.rng, r->lo, r->hi);
}

bool ccmm_arg_set(const struct ccmm_op *op, int idx)
{
	return op->arg[idx].set;
}

int ccmm_arg_choice(const struct ccmm_op *op, int idx)
{
	return op->arg[idx].choice;
}

const char *ccmm_arg_str(const struct ccmm_op *op, int idx)
{
	return op->arg[idx].str;
}

/* ---- errors ----------------------------------------------------------------- */

static bool run_failed(struct ccmm_run *run);

int ccmm_run_fail(struct ccmm_actor *a, const struct ccmm_op *op, int ret, const char *fmt, ...)
{
	struct ccmm_run *run = a->run;
	char msg[400];
	va_list ap;

	/* a run-time failure earlier explains it: an op error, and the actor stops */
	if (op && !run_failed(run) && _ccmm_deps_explain(a, op, a->note, sizeof(a->note))) {
		pthread_mutex_lock(&run->lock); /* other actors read it (depends.c) */
		a->dep_failed = true;
		pthread_mutex_unlock(&run->lock);
		return ret;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&run->lock);
	if (!run->error[0]) {
		if (op)
			snprintf(run->error, sizeof(run->error), "%s:%d: %s", op->where.file, op->where.line, msg);
		else
			snprintf(run->error, sizeof(run->error), "%s:%d: [%s] %s", a->where.file, a->where.line, a->name, msg);
		run->error_ret = ret;
	}
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
	if (run_priv(run)->sim)
		ccmm_sim_abort(run_priv(run)->sim);
	return ret;
}

void ccmm_op_note(struct ccmm_actor *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->note, sizeof(a->note), fmt, ap);
	va_end(ap);
}

void ccmm_actor_exit(struct ccmm_actor *a, int status, const char *why)
{
	pthread_mutex_lock(&a->run->lock);
	a->exit_status = status;
	snprintf(a->exit_why, sizeof(a->exit_why), "%s", why ? why : "");
	a->exited = true;
	pthread_mutex_unlock(&a->run->lock);
}

static bool run_failed(struct ccmm_run *run)
{
	bool f;

	pthread_mutex_lock(&run->lock);
	f = run->error[0] != '\0';
	pthread_mutex_unlock(&run->lock);
	return f;
}

/* ---- objects ----------------------------------------------------------------- */

static struct ccmm_obj *find_obj_locked(struct ccmm_run *run, const char *name)
{
	for (size_t i = 0; i < run->nr_objs; i++)
		if (!strcmp(run->objs[i]->name, name))
			return run->objs[i];
	return NULL;
}

int ccmm_obj_add(struct ccmm_actor *a, const char *name, struct ccmm_obj **out)
{
	struct ccmm_run *run = a->run;
	struct ccmm_obj *o;
	int ret = 0;

	pthread_mutex_lock(&run->lock);
	if (find_obj_locked(run, name)) {
		ret = -EEXIST;
	} else if (ccmm_grow((void **)&run->objs, &run->cap_objs, run->nr_objs + 1, sizeof(*run->objs)) ||
		   !(o = calloc(1, sizeof(*o)))) {
		ret = -ENOMEM;
	} else {
		snprintf(o->name, sizeof(o->name), "%s", name);
		o->creator = a->index;
		run->objs[run->nr_objs++] = o;
		*out = o;
	}
	pthread_mutex_unlock(&run->lock);
	return ret;
}

void ccmm_obj_del(struct ccmm_run *run, struct ccmm_obj *o)
{
	pthread_mutex_lock(&run->lock);
	for (size_t i = 0; i < run->nr_objs; i++) {
		if (run->objs[i] == o) {
			memmove(&run->objs[i], &run->objs[i + 1], (run->nr_objs - i - 1) * sizeof(*run->objs));
			run->nr_objs--;
			break;
		}
	}
	pthread_mutex_unlock(&run->lock);
	free(o);
}

struct ccmm_obj *ccmm_obj_get(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	struct ccmm_run *run = a->run;
	const char *name = op->arg[idx].str;
	struct ccmm_obj *o;

	pthread_mutex_lock(&run->lock);
	o = find_obj_locked(run, name);
	pthread_mutex_unlock(&run->lock);
	if (o)
		return o;
	if (name[0] == '@' || !strncmp(name, "bar:", 4)) {
		uint64_t addr = 0, size = CCMM_PAGE_SIZE;
		int ret;

		if (name[0] == '@') {
			ccmm_parse_u64(name + 1, true, &addr);
		} else {
			char dev[48];
			unsigned bar = 0;
			const char *dot = strrchr(name + 4, '.');
			int d;

			snprintf(dev, sizeof(dev), "%.*s", (int)(dot ? (size_t)(dot - name - 4) : strlen(name + 4)), name + 4);
			if (dot && sscanf(dot + 1, "%u", &bar) != 1)
				bar = CCMM_MAX_BARS;
			d = ccmm_platform_find_device(run->m->plat, dev);
			if (d < 0 || bar >= CCMM_MAX_BARS || !run->m->plat->devices[d].bar[bar].size) {
				ccmm_run_fail(a, op, -ENODEV, "%s: no device BAR '%s'", op->verb->name, name + 4);
				return NULL;
			}
			addr = run->m->plat->devices[d].bar[bar].base;
			size = run->m->plat->devices[d].bar[bar].size;
		}
		ret = ccmm_obj_add(a, name, &o);
		if (ret == -EEXIST) {
			pthread_mutex_lock(&run->lock);
			o = find_obj_locked(run, name);
			pthread_mutex_unlock(&run->lock);
			return o;
		}
		if (ret) {
			ccmm_run_fail(a, op, ret, "out of memory");
			return NULL;
		}
		o->kind = CCMM_OBJ_RAW;
		o->pa = addr;
		o->va = addr;
		o->size = size;
		return o;
	}
	ccmm_run_fail(a, op, -ENOENT,
		      "%s: object '%s' does not exist (yet): is it created later, or freed? order actors with signal/wait",
		      op->verb->name, name);
	return NULL;
}

/* ---- common verbs ------------------------------------------------------------- */

static int sig_index_locked(struct ccmm_run *run, const char *name, bool create)
{
	for (size_t i = 0; i < run->nr_sig; i++)
		if (!strcmp(run->sig[i].name, name))
			return (int)i;
	if (!create || ccmm_grow((void **)&run->sig, &run->cap_sig, run->nr_sig + 1, sizeof(*run->sig)))
		return -1;
	memset(&run->sig[run->nr_sig], 0, sizeof(run->sig[0]));
	snprintf(run->sig[run->nr_sig].name, sizeof(run->sig[0].name), "%s", name);
	return (int)run->nr_sig++;
}

int ccmm_run_signal(struct ccmm_run *run, const char *event, uint64_t n, uint64_t now_ns)
{
	struct ccmm_wait_queue_head *wq = &run_priv(run)->sigwq;
	struct ccmm_ctx at = { 0 };
	int i;

	at.now_ns = now_ns;
	ccmm_wq_lock(wq);
	i = sig_index_locked(run, event, true);
	if (i >= 0) {
		run->sig[i].count += n;
		if (now_ns > run->sig[i].time_ns)
			run->sig[i].time_ns = now_ns;
	}
	/* every waiter re-checks its event; they cannot go on before the signal */
	ccmm_wake_up_locked(&at, wq, 0);
	ccmm_wq_unlock(wq);
	return i < 0 ? -ENOMEM : 0;
}

static int verb_signal(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_run_signal(a->run, ccmm_arg_str(op, 0), ccmm_arg_u64(a, op, 1), a->ctx.now_ns);
}

/* Take one count of @name if there is one; the caller holds the signal table's lock (sigwq). */
static bool try_wait_locked(struct ccmm_actor *a, const char *name)
{
	struct ccmm_run *run = a->run;
	int i = sig_index_locked(run, name, false);

	if (i < 0 || !run->sig[i].count)
		return false;
	run->sig[i].count--;
	/* the waiter cannot go on before the signal was sent */
	if (a->ctx.now_ns < run->sig[i].time_ns)
		a->ctx.now_ns = run->sig[i].time_ns;
	return true;
}

/*
 * The actor sleeps (through the scheduler) until its event has a count for
 * it, or until the run stalls with an actor stopped on a failed op (then
 * -EDEADLK: an op error, and this actor stops too).
 */
static int verb_wait(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_wait_queue_head *wq = &run_priv(a->run)->sigwq;
	const char *ev = ccmm_arg_str(op, 0);
	int ret;

	ccmm_wq_lock(wq);
	snprintf(a->se.blocked_on, sizeof(a->se.blocked_on), "'%s'", ev);
	a->waiting = ev;
	/* dep_failed: everyone stalled and what it waits for will not come (stop_waiters) */
	ccmm_wait_event_locked(&a->ctx, wq, try_wait_locked(a, ev) || a->dep_failed, NULL, 0, ret);
	a->waiting = NULL;
	a->se.blocked_on[0] = '\0';
	ccmm_wq_unlock(wq);
	return ret ? ret : a->dep_failed ? -EDEADLK : 0;
}

static int verb_sleep(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t ns, end;

	if (ccmm_parse_time_ns(ccmm_arg_str(op, 0), &ns))
		return ccmm_run_fail(a, op, -EINVAL, "sleep: '%s' is not a time (e.g. 500ns, 10us, 2ms, 1s)",
				     ccmm_arg_str(op, 0));
	if (ccmm_range_end(a->ctx.now_ns, ns, 0, &end))
		return ccmm_run_fail(a, op, -EOVERFLOW, "sleep: %s from %" PRIu64 " ns goes past the end of the modeled clock (2^64 ns)",
				     ccmm_arg_str(op, 0), a->ctx.now_ns);
	a->ctx.now_ns = end;
	return 0;
}

static const struct ccmm_arg_spec signal_args[] = {
	{ "event", CCMM_ARG_STR, true, true, NULL, NULL, "event name" },
	{ "count", CCMM_ARG_U64, false, false, NULL, "1", "how many waiters it releases" },
	{ NULL }
};

static const struct ccmm_arg_spec wait_args[] = {
	{ "event", CCMM_ARG_STR, true, true, NULL, NULL, "event name" },
	{ NULL }
};

static const struct ccmm_arg_spec sleep_args[] = {
	{ "time", CCMM_ARG_STR, true, true, NULL, NULL, "modeled time: 500ns, 10us, 2ms, 1s" },
	{ NULL }
};

const struct ccmm_verb ccmm_common_verbs[] = {
	{ "signal", "release waiters of an event (counting)", signal_args, verb_signal },
	{ "wait", "block until an event is signalled; the clock moves up to the signal's time", wait_args, verb_wait },
	{ "sleep", "advance this actor's modeled clock", sleep_args, verb_sleep },
	{ NULL }
};

/* ---- running an actor ---------------------------------------------------------- */

static void op_error(struct ccmm_actor *a, const struct ccmm_op *op, long got)
{
	struct ccmm_run_priv *rp = run_priv(a->run);
	struct ccmm_op_error *e;

	a->op_errors++;
	pthread_mutex_lock(&a->run->lock);
	if (rp->nr_op_errors < 10000 &&
	    !ccmm_grow((void **)&rp->op_errors, &rp->cap_op_errors, rp->nr_op_errors + 1, sizeof(*rp->op_errors))) {
		e = &rp->op_errors[rp->nr_op_errors++];
		e->actor = a->index;
		e->where = op->where;
		snprintf(e->verb, sizeof(e->verb), "%s", op->verb->name);
		e->got = got;
		e->want = op->ret;
		e->time_ns = a->ctx.now_ns;
		snprintf(e->note, sizeof(e->note), "%s", a->note);
		e->op = op;
		e->dependent = a->dep_failed;
	}
	pthread_mutex_unlock(&a->run->lock);
}

/*
 * The run stops when the pages it touched would need more host memory than
 * ccmm may take (m->phys.budget, platform.h): a run error at the op (or the actor,
 * for a program that is not an op list) naming what was being modeled.
 */
static bool host_memory_exhausted(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_machine *m = a->run->m;
	const struct ccmm_mem_range *r;
	char used[32], limit[32];
	uint64_t pa;

	if (!ccmm_phys_exhausted(m, &pa))
		return false;
	r = ccmm_platform_range(m->plat, pa);
	ccmm_run_fail(a, op, -ENOMEM,
		      "out of host memory: [%s] %s needs more host memory than ccmm may take (%s in use by the pages touched and their records; the limit is %s, half the host's RAM, CCMM_HOST_RAM sets another); refused: %s '%s' at 0x%" PRIx64,
		      a->name, op ? op->verb->name : a->kind->name, ccmm_format_size(ccmm_phys_host_bytes(m), used, sizeof(used)),
		      ccmm_format_size(m->phys.budget, limit, sizeof(limit)), r ? ccmm_range_kind_name(r->kind) : "page",
		      r ? r->name : "?", pa);
	return true;
}

/* Count a unit of work; past [global] max_steps the run stops with a run error at the op (or the actor). */
static bool step_bound(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t max = a->run->job->g.max_steps;

	if (!max || atomic_fetch_add(&run_priv(a->run)->steps, 1) + 1 <= max)
		return false;
	ccmm_run_fail(a, op, -ETIME, "the run reached its bound of %" PRIu64 " steps (max_steps) before every actor finished",
		      max);
	return true;
}

/* One unit of work. Returns 0 (progress), 1 (finished), or < 0 (run error). */
static int actor_step(struct ccmm_actor *a)
{
	if (a->done)
		return 1;
	while (a->pc >= a->nr_ops && a->nr_ops && a->loop + 1 < a->loops) {
		a->loop++;
		a->pc = 0;
	}
	if (a->pc < a->nr_ops) {
		const struct ccmm_op *op = &a->ops[a->pc];
		int ret;

		a->ctx.op = op->verb->name;
		a->ctx.where = op->where;
		a->note[0] = '\0';
		ret = op->verb->run(a, op);
		if (host_memory_exhausted(a, op) || run_failed(a->run))
			return -1;
		if (step_bound(a, op))
			return -1;
		if (a->dep_failed) {
			/* it needed what a failed op did not make: an op error, and this actor stops */
			op_error(a, op, ret < 0 ? ret : -ENOENT);
			a->done = true;
			return 1;
		}
		_ccmm_deps_record(a, a->pc, ret);
		if (a->run->job->op_hook)
			a->run->job->op_hook(a, op, ret, a->run->job->op_hook_arg);
		if (ret != (op->ret_set ? op->ret : 0)) {
			bool also = false;

			for (unsigned i = 0; i < op->nr_ret_also; i++)
				also |= ret == op->ret_also[i];
			if (!also)
				op_error(a, op, ret);
		}
		a->pc++;
		a->ops_done++;
		return 0;
	}
	if (a->kind->step) {
		int ret;

		a->ctx.op = a->kind->name;
		a->ctx.where = a->where;
		ret = a->kind->step(a);
		if (host_memory_exhausted(a, NULL) || (ret >= 0 && step_bound(a, NULL)))
			return -1;
		if (ret == 1) {
			a->done = true;
			ccmm_actor_milestone(a, "done");
		}
		if (ret < 0 && !run_failed(a->run))
			ccmm_run_fail(a, NULL, ret, "%s failed: %s", a->kind->name, strerror(-ret));
		return ret < 0 ? -1 : ret;
	}
	a->done = true;
	ccmm_actor_milestone(a, "done");
	return 1;
}

/* An actor's life as a scheduling entity: each op (or step) is a scheduling point. */
static int actor_main(void *arg)
{
	struct ccmm_actor *a = arg;
	int ret;

	do {
		ccmm_sched_point(CCMM_SP_STEP, NULL);
		ccmm_actor_sample(a); /* time series (sim mode): the samples up to this actor's clock */
		ret = actor_step(a);
	} while (!ret);
	a->done = true;
	return ret < 0 ? ret : 0;
}

/* The job line an actor is at: its op's, or its section's. */
static int actor_line(const struct ccmm_actor *a)
{
	return a->pc < a->nr_ops ? a->ops[a->pc].where.line : a->where.line;
}

static void deadlock(struct ccmm_run *run, struct ccmm_sim *sim)
{
	char msg[400];
	size_t used = 0;
	struct ccmm_sched_entity *se;
	const char *what;

	used += (size_t)snprintf(msg, sizeof(msg), "deadlock: every remaining actor waits:");
	for (size_t i = 0; (se = ccmm_sim_sleeper(sim, i, &what)) && used < sizeof(msg); i++) {
		const struct ccmm_actor *a = se->id >= 0 && (size_t)se->id < run->job->nr_actors ? run->job->actors[se->id] : NULL;

		if (!a || !what)
			continue;
		used += (size_t)snprintf(msg + used, sizeof(msg) - used, " [%s] at line %d for %s;", a->name, actor_line(a),
					 what[0] ? what : "?");
	}
	pthread_mutex_lock(&run->lock);
	if (!run->error[0]) {
		snprintf(run->error, sizeof(run->error), "%.180s: %s", run->job->path, msg);
		run->error_ret = -EDEADLK;
	}
	pthread_mutex_unlock(&run->lock);
}

/*
 * The simulator's stall hook: nothing can run, and an actor stopped on a
 * failed dependency. What the actors asleep in a wait op wait for will
 * not come: each such wait is an op error naming the stopped actor, and
 * the waiter stops too (it is woken with dep_failed set); the run goes on.
 * Returns whether there were such waiters.
 */
static bool stop_waiters(void *arg)
{
	struct ccmm_run *run = arg;
	struct ccmm_wait_queue_head *wq = &run_priv(run)->sigwq;
	const struct ccmm_actor *stopped;
	struct ccmm_ctx at = { 0 };
	bool any = false;

	ccmm_wq_lock(wq);
	pthread_mutex_lock(&run->lock);
	stopped = _ccmm_deps_stopped(run);
	for (size_t i = 0; stopped && i < run->job->nr_actors; i++) {
		struct ccmm_actor *a = run->job->actors[i];

		if (a->done || !a->waiting || a->dep_failed)
			continue;
		snprintf(a->note, sizeof(a->note), "waits for '%.40s', which will not come: [%s] stopped at line %d",
			 a->waiting, stopped->name, stopped->ops[stopped->pc < stopped->nr_ops ? stopped->pc : 0].where.line);
		a->dep_failed = true;
		any = true;
	}
	pthread_mutex_unlock(&run->lock);
	/* at time 0: the waiters' clocks stay where they are */
	if (any)
		ccmm_wake_up_locked(&at, wq, 0);
	ccmm_wq_unlock(wq);
	return any;
}

static void run_error(struct ccmm_run *run, int ret, const char *msg)
{
	pthread_mutex_lock(&run->lock);
	if (!run->error[0]) {
		snprintf(run->error, sizeof(run->error), "%.300s: %s", run->job->path, msg);
		run->error_ret = ret;
	}
	pthread_mutex_unlock(&run->lock);
}

/* Every actor an entity of one simulator (beside the machine's kernel threads), run to the end. */
static void run_actors(struct ccmm_run *run, const struct ccmm_sched_plan *plan)
{
	struct ccmm_run_priv *rp = run_priv(run);
	struct ccmm_job *job = run->job;
	bool threads = job->g.mode == CCMM_RUN_THREADS;
	struct ccmm_sim *sim;
	char msg[200];
	int ret;

	ret = ccmm_sim_create(run->m, threads ? CCMM_SIM_THREADS : CCMM_SIM_FIBERS, threads ? NULL : plan, &sim);
	if (ret) {
		snprintf(msg, sizeof(msg), "cannot start the scheduler: %s", strerror(-ret));
		run_error(run, ret, msg);
		return;
	}
	rp->sim = sim;
	ccmm_sim_set_stall(sim, stop_waiters, run);
	for (size_t i = 0; i < job->nr_actors && !ret; i++)
		ret = ccmm_sim_spawn(sim, &job->actors[i]->se, actor_main, job->actors[i]);
	if (ret)
		run_error(run, ret, "cannot start an actor: out of memory or threads");
	else
		ret = ccmm_sim_run(sim);
	switch (ret) {
	case 0:
	case -ECANCELED: /* a run error says why */
		break;
	case -EDEADLK:
		deadlock(run, sim);
		break;
	case -E2BIG:
		snprintf(msg, sizeof(msg), "the schedule reached its bound of %" PRIu64 " steps", plan ? plan->max_steps : 0);
		run_error(run, ret, msg);
		break;
	case -EINVAL:
		snprintf(msg, sizeof(msg),
			 "the schedule does not fit this job: its choice at step %" PRIu64 " is an entity that cannot run there",
			 ccmm_sim_steps(sim));
		run_error(run, ret, msg);
		break;
	default:
		snprintf(msg, sizeof(msg), "the scheduler failed: %s", strerror(-ret));
		run_error(run, ret, msg);
		break;
	}
	rp->rec.steps = ccmm_sim_steps(sim);
	rp->rec.hash = ccmm_sim_hash(sim);
	if (plan && plan->record) {
		_ccmm_sim_take_record(sim, &rp->rec);
		if (rp->rec.replay_left) {
			snprintf(msg, sizeof(msg), "the schedule does not fit this job: the run ended %" PRIu64
						   " steps in with choices left over",
				 rp->rec.steps);
			run_error(run, -EINVAL, msg);
		}
	}
	rp->sim = NULL;
	ccmm_sim_destroy(sim);
}

int ccmm_job_run_plan(struct ccmm_job *job, const struct ccmm_sched_plan *plan, struct ccmm_run **out)
{
	struct ccmm_run_priv *rp = calloc(1, sizeof(*rp));
	struct ccmm_run *run;
	struct ccmm_platform *plat;
	struct timespec t0, t1;
	int ret;

	if (!rp)
		return -ENOMEM;
	run = &rp->pub;
	run->job = job;
	pthread_mutex_init(&run->lock, NULL);
	pthread_cond_init(&run->cond, NULL);
	ccmm_init_waitqueue_head(&rp->sigwq, "event");
	ret = ccmm_platform_dup(job->plat, &plat);
	if (!ret)
		ret = ccmm_boot(plat, job->g.seed, &run->m);
	if (ret) {
		pthread_mutex_destroy(&run->lock);
		pthread_cond_destroy(&run->cond);
		ccmm_destroy_waitqueue_head(&rp->sigwq);
		free(rp);
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (_ccmm_series_start(run))
		snprintf(run->error, sizeof(run->error), "%.300s: out of memory for the time series", job->path);
	for (size_t i = 0; i < job->nr_actors; i++) {
		struct ccmm_actor *a = job->actors[i];

		ccmm_ctx_init(&a->ctx, run->m, a->index, a->name);
		ccmm_sched_entity_init(&a->se, a->name, a->index, &a->ctx);
		a->run = run;
		_ccmm_actor_attribute_device(a);
		a->pc = 0;
		a->loop = 0;
		a->done = false;
		a->ops_done = a->op_errors = 0;
		a->priv = NULL;
		a->exited = false;
		a->dep_failed = false;
		a->waiting = NULL;
		a->exit_status = 0;
		a->exit_why[0] = a->note[0] = '\0';
	}
	if (_ccmm_deps_init(run)) {
		_ccmm_deps_free(run);
		snprintf(run->error, sizeof(run->error), "%.300s: out of memory", job->path);
		run->error_ret = -ENOMEM;
	}
	for (size_t i = 0; ccmm_run_ext_at(i) && !run->error[0]; i++) {
		const struct ccmm_run_ext *x = ccmm_run_ext_at(i);

		if (x->start && (ret = x->start(run, job->ext_opts[i])) && !run->error[0]) {
			snprintf(run->error, sizeof(run->error), "%.300s: %s cannot start: %s", job->path, x->name, strerror(-ret));
			run->error_ret = ret;
		}
	}
	for (size_t i = 0; i < job->nr_actors && !run->error[0]; i++) {
		struct ccmm_actor *a = job->actors[i];

		if (a->kind->start) {
			ret = a->kind->start(a);
			if (ret && !run->error[0])
				ccmm_run_fail(a, NULL, ret, "cannot start a %s actor: %s", a->kind->name, strerror(-ret));
		}
	}
	for (size_t i = 0; i < job->nr_actors && !run->error[0]; i++)
		ccmm_actor_milestone(job->actors[i], "started");
	if (!run->error[0])
		run_actors(run, plan);
	for (size_t i = 0; i < job->nr_actors; i++)
		if (job->actors[i]->ctx.now_ns > run->end_ns)
			run->end_ns = job->actors[i]->ctx.now_ns;
	_ccmm_series_finish(run);
	for (size_t i = 0; ccmm_run_ext_at(i); i++) {
		const struct ccmm_run_ext *x = ccmm_run_ext_at(i);

		if (x->finish)
			x->finish(run, job->ext_opts[i]);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	run->wall_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	*out = run;
	return 0;
}

int ccmm_job_run(struct ccmm_job *job, struct ccmm_run **out)
{
	return ccmm_job_run_plan(job, NULL, out);
}

const struct ccmm_op_error *ccmm_run_op_error(struct ccmm_run *run, size_t i)
{
	struct ccmm_run_priv *rp = run_priv(run);

	return i < rp->nr_op_errors ? &rp->op_errors[i] : NULL;
}

void ccmm_run_free(struct ccmm_run *run)
{
	struct ccmm_run_priv *rp;

	if (!run)
		return;
	rp = run_priv(run);
	/* sleeping locks an actor still holds (it ended holding them) go first, so no teardown waits */
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		struct ccmm_sched_entity *se = &run->job->actors[i]->se;

		while (se->held) {
			struct ccmm_lock_dep *dep = se->held;

			se->held = dep->held_next;
			if (dep->force_unlock)
				dep->force_unlock(dep);
		}
	}
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		struct ccmm_actor *a = run->job->actors[i];

		/* an actor tears down what it owns as itself, on this thread */
		a->se.sched = NULL;
		ccmm_set_current(&a->se);
		if (a->kind->stop)
			a->kind->stop(a);
		ccmm_set_current(NULL);
	}
	for (size_t i = run->nr_objs; i--;) {
		struct ccmm_obj *o = run->objs[i];

		if (o->destroy)
			o->destroy(run, o);
		free(o);
	}
	free(run->objs);
	free(run->sig);
	free(rp->op_errors);
	free(rp->rec.choices);
	free(rp->rec.names);
	free(rp->rec.segs);
	free(run->check_results);
	_ccmm_deps_free(run);
	_ccmm_series_free(run->series);
	ccmm_shutdown(run->m);
	for (size_t i = 0; i < run->job->nr_actors; i++)
		ccmm_sched_entity_fini(&run->job->actors[i]->se);
	pthread_mutex_destroy(&run->lock);
	pthread_cond_destroy(&run->cond);
	ccmm_destroy_waitqueue_head(&rp->sigwq);
	free(rp);
}

/* ---- lockstat ------------------------------------------------------------------------------ */

bool ccmm_run_lockstat(struct ccmm_run *run, size_t i, struct ccmm_run_lockstat *out)
{
	for (size_t k = 0; k < run->job->nr_actors; k++) {
		struct ccmm_actor *a = run->job->actors[k];

		if (i < a->se.nr_stats) {
			out->entity = a->name;
			out->actor = (int)k;
			out->st = a->se.stats[i];
			return true;
		}
		i -= a->se.nr_stats;
	}
	for (struct ccmm_kthread *k = run->m->kthreads; k; k = k->next) {
		if (i < k->se.nr_stats) {
			out->entity = k->name;
			out->actor = -1;
			out->st = k->se.stats[i];
			return true;
		}
		i -= k->se.nr_stats;
	}
	return false;
}

/* ---- the verdict ------------------------------------------------------------------ */

static const struct ccmm_expect *expect_for(struct ccmm_job *job, int actor, const struct ccmm_rule *rule)
{
	if (actor >= 0 && (size_t)actor < job->nr_actors) {
		struct ccmm_actor *a = job->actors[actor];

		for (size_t i = 0; i < a->nr_expect; i++)
			if (a->expect[i].rule == rule)
				return &a->expect[i];
	}
	for (size_t i = 0; i < job->nr_expect; i++)
		if (job->expect[i].rule == rule)
			return &job->expect[i];
	return NULL;
}

bool ccmm_run_event_expected(struct ccmm_run *run, const struct ccmm_event *e)
{
	return expect_for(run->job, e->actor, e->rule) != NULL;
}

bool ccmm_run_expectation(struct ccmm_run *run, size_t i, struct ccmm_expect_result *out)
{
	struct ccmm_job *job = run->job;

	for (size_t a = 0; a < job->nr_actors; a++) {
		struct ccmm_actor *ac = job->actors[a];

		if (i < ac->nr_expect) {
			out->e = &ac->expect[i];
			out->actor = (int)a;
			out->seen = ccmm_violations_count(run->m, out->e->rule, (int)a);
			out->met = out->e->count < 0 ? out->seen > 0 : out->seen == (size_t)out->e->count;
			return true;
		}
		i -= ac->nr_expect;
	}
	if (i < job->nr_expect) {
		size_t attributed = 0;

		out->e = &job->expect[i];
		out->actor = -1;
		/* [global] expectations count the violations no actor expects itself */
		out->seen = ccmm_violations_count(run->m, out->e->rule, CCMM_ANY_ACTOR);
		for (size_t a = 0; a < job->nr_actors; a++) {
			struct ccmm_actor *ac = job->actors[a];

			for (size_t k = 0; k < ac->nr_expect; k++)
				if (ac->expect[k].rule == out->e->rule)
					attributed += ccmm_violations_count(run->m, out->e->rule, (int)a);
		}
		out->seen -= attributed;
		out->met = out->e->count < 0 ? out->seen > 0 : out->seen == (size_t)out->e->count;
		return true;
	}
	return false;
}

void ccmm_run_summarize(struct ccmm_run *run, struct ccmm_run_summary *s)
{
	struct ccmm_expect_result er;
	size_t n = ccmm_events_count(run->m);

	memset(s, 0, sizeof(*s));
	s->violations = ccmm_violations_count(run->m, NULL, CCMM_ANY_ACTOR);
	/* events beyond max_events are counted per rule/actor; classify from the counts */
	for (size_t i = 0; ccmm_rule_at(i); i++) {
		const struct ccmm_rule *r = ccmm_rule_at(i);

		for (int a = -1; a < (int)run->job->nr_actors; a++) {
			size_t c = ccmm_violations_count(run->m, r, a);

			if (!c)
				continue;
			if (expect_for(run->job, a, r))
				s->expected += c;
			else
				s->unexpected += c;
		}
	}
	(void)n;
	for (size_t i = 0; ccmm_run_expectation(run, i, &er); i++)
		if (!er.met)
			s->missing++;
	s->op_errors = run_priv(run)->nr_op_errors;
	for (size_t i = 0; run->checks_done && i < run->job->nr_checks; i++)
		s->checks_failed += !run->check_results[i].passed;
	if (run->error[0])
		s->status = 2;
	else
		s->status = s->unexpected || s->missing || s->op_errors || s->checks_failed ? 1 : 0;
}
