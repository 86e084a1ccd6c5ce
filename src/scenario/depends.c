// SPDX-License-Identifier: MIT
/*
 * What an op depends on, when it cannot run: a run-time failure is the
 * run's finding, not bad input. An op that needs an object that an earlier
 * op failed to make (alloc -ENOMEM, then write), to attach to (attach
 * -EOPNOTSUPP, then map) or to map (dma_map_single -EIO, then unmap) is an
 * op error naming that op, its line and its errno; so is one that needs
 * an object an actor stopped by such an error never got to create. Every
 * op's latest result is kept per actor, so the most recent failure that
 * named one of the op's objects is the one named.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/internal.h"

int _ccmm_deps_init(struct ccmm_run *run)
{
	struct ccmm_run_priv *rp = run_priv(run);
	struct ccmm_job *job = run->job;

	rp->results = calloc(job->nr_actors ? job->nr_actors : 1, sizeof(*rp->results));
	if (!rp->results)
		return -ENOMEM;
	for (size_t i = 0; i < job->nr_actors; i++) {
		rp->results[i] = calloc(job->actors[i]->nr_ops ? job->actors[i]->nr_ops : 1, sizeof(**rp->results));
		if (!rp->results[i]) {
			_ccmm_deps_free(run);
			return -ENOMEM;
		}
	}
	return 0;
}

void _ccmm_deps_free(struct ccmm_run *run)
{
	struct ccmm_run_priv *rp = run_priv(run);

	for (size_t i = 0; rp->results && i < run->job->nr_actors; i++)
		free(rp->results[i]);
	free(rp->results);
	rp->results = NULL;
}

void _ccmm_deps_record(struct ccmm_actor *a, size_t pc, long ret)
{
	struct ccmm_run_priv *rp = run_priv(a->run);

	if (!rp->results || pc >= a->nr_ops)
		return;
	pthread_mutex_lock(&a->run->lock);
	rp->results[a->index][pc].ret = ret;
	rp->results[a->index][pc].seq = ++rp->results_seq;
	pthread_mutex_unlock(&a->run->lock);
}

const char *_ccmm_errno_name(long err, char *buf, size_t len)
{
	const char *n = err < 0 && err > -4096 ? strerrorname_np((int)-err) : NULL;

	if (err == -524)
		n = "ENOTSUPP"; /* the kernel's own, not in libc */
	if (n)
		snprintf(buf, len, "-%s", n);
	else
		snprintf(buf, len, "%ld", err);
	return buf;
}

/* Whether @op names object @name (as an object it uses or one it creates). */
static bool op_names(const struct ccmm_op *op, const char *name, bool creates_only)
{
	for (int i = 0; op->verb->args && op->verb->args[i].name; i++) {
		const struct ccmm_arg_spec *s = &op->verb->args[i];

		if (!op->arg[i].set || (s->type != CCMM_ARG_NEWOBJ && (creates_only || s->type != CCMM_ARG_OBJ)))
			continue;
		if (!strcmp(op->arg[i].str, name))
			return true;
	}
	return false;
}

const struct ccmm_actor *_ccmm_deps_stopped(struct ccmm_run *run)
{
	for (size_t i = 0; i < run->job->nr_actors; i++)
		if (run->job->actors[i]->dep_failed)
			return run->job->actors[i];
	return NULL;
}

bool _ccmm_deps_explain(struct ccmm_actor *a, const struct ccmm_op *op, char *note, size_t len)
{
	struct ccmm_run *run = a->run;
	struct ccmm_run_priv *rp = run_priv(run);
	struct ccmm_job *job = run->job;
	const struct ccmm_op *best = NULL;
	const struct ccmm_actor *stopper = NULL;
	uint64_t best_seq = 0;
	long best_ret = 0;
	char en[32];

	if (!rp->results)
		return false;
	pthread_mutex_lock(&run->lock);
	for (int i = 0; op->verb->args && op->verb->args[i].name; i++) {
		const struct ccmm_arg_spec *s = &op->verb->args[i];
		const char *name = op->arg[i].str;

		if (!op->arg[i].set || (s->type != CCMM_ARG_OBJ && s->type != CCMM_ARG_NEWOBJ) || name[0] == '@' ||
		    !strncmp(name, "bar:", 4))
			continue;
		for (size_t ai = 0; ai < job->nr_actors; ai++) {
			struct ccmm_actor *o = job->actors[ai];

			for (size_t k = 0; k < o->nr_ops; k++) {
				const struct ccmm_op_result *r = &rp->results[ai][k];

				/* the latest failure that named the object */
				if (r->seq > best_seq && r->ret < 0 && &o->ops[k] != op && op_names(&o->ops[k], name, false)) {
					best = &o->ops[k];
					best_seq = r->seq;
					best_ret = r->ret;
				}
				/* or a stopped actor that was still to create it */
				if (!best && !stopper && o->dep_failed && k >= o->pc && op_names(&o->ops[k], name, true)) {
					stopper = o;
					snprintf(note, len, "'%s' was to be made by %s at %s:%d, but [%s] stopped at line %d", name,
						 o->ops[k].verb->name, o->ops[k].where.file, o->ops[k].where.line, o->name,
						 o->ops[o->pc < o->nr_ops ? o->pc : o->nr_ops - 1].where.line);
				}
			}
		}
	}
	pthread_mutex_unlock(&run->lock);
	if (best)
		snprintf(note, len, "depends on %s at %s:%d, which failed: %s", best->verb->name, best->where.file,
			 best->where.line, _ccmm_errno_name(best_ret, en, sizeof(en)));
	return best || stopper;
}
