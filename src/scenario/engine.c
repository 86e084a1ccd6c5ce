// SPDX-License-Identifier: MIT
/*
 * The engine: objects, signals, the simulated-clock scheduler, real-thread
 * stress mode, the common verbs, and the run's verdict.
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
	int i;

	pthread_mutex_lock(&run->lock);
	i = sig_index_locked(run, event, true);
	if (i >= 0) {
		run->sig[i].count += n;
		if (now_ns > run->sig[i].time_ns)
			run->sig[i].time_ns = now_ns;
	}
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
	return i < 0 ? -ENOMEM : 0;
}

static int verb_signal(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_run_signal(a->run, ccmm_arg_str(op, 0), ccmm_arg_u64(a, op, 1), a->ctx.now_ns);
}

/* Take one count of @name if there is one; the caller holds run->lock. */
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

static int verb_wait(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_run *run = a->run;
	bool ok;

	pthread_mutex_lock(&run->lock);
	ok = try_wait_locked(a, ccmm_arg_str(op, 0));
	pthread_mutex_unlock(&run->lock);
	if (ok) {
		a->waiting = NULL;
		return 0;
	}
	a->waiting = ccmm_arg_str(op, 0);
	return CCMM_OP_BLOCKED;
}

static int verb_sleep(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t ns;

	if (ccmm_parse_time_ns(ccmm_arg_str(op, 0), &ns))
		return ccmm_run_fail(a, op, -EINVAL, "sleep: '%s' is not a time (e.g. 500ns, 10us, 2ms, 1s)",
				     ccmm_arg_str(op, 0));
	a->ctx.now_ns += ns;
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

/* One unit of work. Returns 0 (progress), CCMM_OP_BLOCKED, 1 (finished), or < 0 (run error). */
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
		if (ret == CCMM_OP_BLOCKED)
			return CCMM_OP_BLOCKED;
		if (run_failed(a->run))
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
		if (ret != (op->ret_set ? op->ret : 0))
			op_error(a, op, ret);
		a->pc++;
		a->ops_done++;
		return 0;
	}
	if (a->kind->step) {
		int ret;

		a->ctx.op = a->kind->name;
		a->ctx.where = a->where;
		ret = a->kind->step(a);
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

static void deadlock(struct ccmm_run *run)
{
	char msg[400];
	size_t used = 0;

	used += (size_t)snprintf(msg, sizeof(msg), "deadlock: every remaining actor waits:");
	for (size_t i = 0; i < run->job->nr_actors && used < sizeof(msg); i++) {
		struct ccmm_actor *a = run->job->actors[i];

		if (!a->done && a->waiting)
			used += (size_t)snprintf(msg + used, sizeof(msg) - used, " [%s] at line %d for '%s';", a->name,
						 a->pc < a->nr_ops ? a->ops[a->pc].where.line : a->where.line, a->waiting);
	}
	pthread_mutex_lock(&run->lock);
	if (!run->error[0]) {
		snprintf(run->error, sizeof(run->error), "%.180s: %s", run->job->path, msg);
		run->error_ret = -EDEADLK;
	}
	pthread_mutex_unlock(&run->lock);
}

/*
 * Everyone left waits, and an actor stopped on a failed dependency: what
 * they wait for will not come. Each waiter's wait is an op error naming
 * the stopped actor, and the waiter stops too; the run ends normally.
 * Returns whether there were such waiters. Called without run->lock.
 */
static bool stop_waiters(struct ccmm_run *run)
{
	const struct ccmm_actor *stopped;
	bool any = false;

	pthread_mutex_lock(&run->lock);
	stopped = _ccmm_deps_stopped(run);
	for (size_t i = 0; stopped && i < run->job->nr_actors; i++) {
		struct ccmm_actor *a = run->job->actors[i];

		if (a->done || !a->waiting || a->pc >= a->nr_ops)
			continue;
		snprintf(a->note, sizeof(a->note), "waits for '%.40s', which will not come: [%s] stopped at line %d",
			 a->waiting, stopped->name, stopped->ops[stopped->pc < stopped->nr_ops ? stopped->pc : 0].where.line);
		a->dep_failed = true;
		pthread_mutex_unlock(&run->lock);
		op_error(a, &a->ops[a->pc], -EDEADLK);
		pthread_mutex_lock(&run->lock);
		a->waiting = NULL;
		a->done = true;
		any = true;
	}
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
	return any;
}

static void run_sim(struct ccmm_run *run)
{
	struct ccmm_job *job = run->job;

	for (;;) {
		struct ccmm_actor *next = NULL;
		bool all_done = true;
		int ret;

		for (size_t i = 0; i < job->nr_actors; i++) {
			struct ccmm_actor *a = job->actors[i];

			if (a->done)
				continue;
			all_done = false;
			if (a->waiting) {
				int si;

				pthread_mutex_lock(&run->lock);
				si = sig_index_locked(run, a->waiting, false);
				pthread_mutex_unlock(&run->lock);
				if (si < 0 || !run->sig[si].count)
					continue;
			}
			if (!next || a->ctx.now_ns < next->ctx.now_ns)
				next = a;
		}
		if (all_done)
			return;
		if (!next) {
			if (stop_waiters(run))
				continue;
			deadlock(run);
			return;
		}
		if (run->series)
			_ccmm_series_tick(run, next->ctx.now_ns);
		ret = actor_step(next);
		if (ret < 0 || run_failed(run))
			return;
	}
}

/*
 * Whether some blocked actor's event has been signalled: it was woken but
 * has not taken the lock back yet, so "everyone waits" is not a deadlock.
 * run->lock held.
 */
static bool waiter_ready_locked(struct ccmm_run *run)
{
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		struct ccmm_actor *a = run->job->actors[i];
		int si;

		if (a->done || !a->waiting)
			continue;
		si = sig_index_locked(run, a->waiting, false);
		if (si >= 0 && run->sig[si].count)
			return true;
	}
	return false;
}

static void *actor_thread(void *arg)
{
	struct ccmm_actor *a = arg;
	struct ccmm_run *run = a->run;
	struct ccmm_run_priv *rp = run_priv(run);

	for (;;) {
		int ret = actor_step(a);

		if (ret == CCMM_OP_BLOCKED) {
			pthread_mutex_lock(&run->lock);
			rp->blocked++;
			for (;;) {
				if (run->error[0] || a->done)
					break;
				if (try_wait_locked(a, a->waiting)) {
					a->waiting = NULL;
					a->pc++;
					a->ops_done++;
					break;
				}
				if (rp->blocked == rp->running && !waiter_ready_locked(run)) {
					pthread_mutex_unlock(&run->lock);
					if (!stop_waiters(run))
						deadlock(run);
					pthread_mutex_lock(&run->lock);
					pthread_cond_broadcast(&run->cond);
					break;
				}
				pthread_cond_wait(&run->cond, &run->lock);
			}
			rp->blocked--;
			pthread_mutex_unlock(&run->lock);
			if (run_failed(run))
				break;
			continue;
		}
		if (ret == 1 || ret < 0)
			break;
	}
	pthread_mutex_lock(&run->lock);
	a->done = true;
	rp->running--;
	pthread_cond_broadcast(&run->cond);
	pthread_mutex_unlock(&run->lock);
	return NULL;
}

static void run_threads(struct ccmm_run *run)
{
	struct ccmm_job *job = run->job;
	struct ccmm_run_priv *rp = run_priv(run);
	pthread_t *tid = calloc(job->nr_actors, sizeof(*tid));
	size_t started = 0;

	if (!tid) {
		snprintf(run->error, sizeof(run->error), "%s: out of memory for threads", job->path);
		return;
	}
	rp->running = job->nr_actors;
	for (size_t i = 0; i < job->nr_actors; i++) {
		if (pthread_create(&tid[i], NULL, actor_thread, job->actors[i])) {
			pthread_mutex_lock(&run->lock);
			snprintf(run->error, sizeof(run->error), "%s: cannot start a thread for [%s]", job->path,
				 job->actors[i]->name);
			rp->running -= job->nr_actors - i;
			pthread_cond_broadcast(&run->cond);
			pthread_mutex_unlock(&run->lock);
			break;
		}
		started++;
	}
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
}

int ccmm_job_run(struct ccmm_job *job, struct ccmm_run **out)
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
	ret = ccmm_platform_dup(job->plat, &plat);
	if (!ret)
		ret = ccmm_boot(plat, job->g.seed, &run->m);
	if (ret) {
		pthread_mutex_destroy(&run->lock);
		pthread_cond_destroy(&run->cond);
		free(rp);
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (_ccmm_series_start(run))
		snprintf(run->error, sizeof(run->error), "%.300s: out of memory for the time series", job->path);
	for (size_t i = 0; i < job->nr_actors; i++) {
		struct ccmm_actor *a = job->actors[i];

		ccmm_ctx_init(&a->ctx, run->m, a->index, a->name);
		a->run = run;
		_ccmm_actor_attribute_device(a);
		a->pc = 0;
		a->loop = 0;
		a->done = false;
		a->waiting = NULL;
		a->ops_done = a->op_errors = 0;
		a->priv = NULL;
		a->exited = false;
		a->dep_failed = false;
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
	if (!run->error[0]) {
		if (job->g.mode == CCMM_RUN_THREADS)
			run_threads(run);
		else
			run_sim(run);
	}
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
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		struct ccmm_actor *a = run->job->actors[i];

		if (a->kind->stop)
			a->kind->stop(a);
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
	free(run->check_results);
	_ccmm_deps_free(run);
	_ccmm_series_free(run->series);
	ccmm_shutdown(run->m);
	pthread_mutex_destroy(&run->lock);
	pthread_cond_destroy(&run->cond);
	free(rp);
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
