// SPDX-License-Identifier: MIT
/*
 * The tier_task actor: a process replaying a real program's page
 * references on a tiered machine, and the memory-hotplug ops.
 *
 *   [app]
 *   actor = tier_task
 *   trace = ../traces/sort.trace.zst   ; lackey or l|s, plain/gz/zst
 *   node = 0                           ; where it allocates first
 *   anon = yes                         ; anonymous or file pages
 *   passes = 3                         ; times through the trace
 *   cgroup = /jobs/app                 ; its memory cgroup (memory.max limits it)
 *   op = offline_node 2                ; memory hotplug, before the trace
 *
 * The process starts when its ops are done (so a cgroup actor's mkdir can
 * come first: order with signal/wait), lives in its cgroup as a task, and
 * charges its pages to the cgroup's memory controller.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "scenario/scenario.h"
#include "tier/tier.h"
#include "trace/trace.h"

struct ttask_opts {
	char trace[256];
	uint64_t node;
	bool anon, membind;
	char cgroup[256];
	char done[48];
	uint64_t passes;
	uint64_t max_refs;
	bool instructions;
};

struct ttask {
	struct ccmm_trace *tr;
	struct ccmm_task *proc;          /* the process in its cgroup, from the first step */
	struct ccmm_tier_task *task;
	uint64_t pass, refs;
	bool killed, exited;
	struct ccmm_tier_task_stats final; /* the figures at exit or OOM kill */
};

static const struct ccmm_option ttask_options[] = {
	{ "trace", CCMM_OPT_STR, offsetof(struct ttask_opts, trace), 0, 256, false, NULL, NULL,
	  "page-reference trace to replay (relative to the job file)" },
	{ "node", CCMM_OPT_U64, offsetof(struct ttask_opts, node), 0, CCMM_MAX_NODES - 1, false, NULL, "0",
	  "node the task allocates on first" },
	{ "anon", CCMM_OPT_BOOL, offsetof(struct ttask_opts, anon), 0, 0, false, NULL, "yes",
	  "anonymous pages (swap) or file pages (page cache)" },
	{ "membind", CCMM_OPT_BOOL, offsetof(struct ttask_opts, membind), 0, 0, false, NULL, "no",
	  "MPOL_BIND to node: allocate only there (reclaim, and demotion, make room)" },
	{ "cgroup", CCMM_OPT_STR, offsetof(struct ttask_opts, cgroup), 0, 256, false, NULL, "/",
	  "the cgroup the process runs in; its memory.max is reclaimed by memcg reclaim (a cgroup actor's mkdir "
	  "must create it)" },
	{ "done", CCMM_OPT_STR, offsetof(struct ttask_opts, done), 0, 48, false, NULL, "",
	  "event signalled when the process exits (after its trace, or killed)" },
	{ "passes", CCMM_OPT_U64, offsetof(struct ttask_opts, passes), 1, 1000000, false, NULL, "1",
	  "times through the trace" },
	{ "max_refs", CCMM_OPT_U64, offsetof(struct ttask_opts, max_refs), 0, 0, false, NULL, "0",
	  "stop after this many references (0: all)" },
	{ "instructions", CCMM_OPT_BOOL, offsetof(struct ttask_opts, instructions), 0, 0, false, NULL, "no",
	  "keep instruction fetches of lackey traces" },
	{ NULL }
};

static void trace_path(const struct ccmm_job *job, const char *name, char *out, size_t len)
{
	if (name[0] == '/')
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%s/%s", job->dir, name);
}

static int ttask_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct ttask_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };
	char path[800], what[96];
	FILE *f;
	int ret;

	snprintf(what, sizeof(what), "[%s] cgroup", a->name);
	ret = ccmm_cgroup_job_path_check(job, o->cgroup, &loc, what, err);
	if (ret)
		return ret;
	if (o->node >= job->plat->nr_nodes)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: node %" PRIu64 " is not on the platform (it has %u)", a->name,
				      o->node, job->plat->nr_nodes);
	if (!ccmm_platform_ram(job->plat, (int)o->node))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: node %" PRIu64 " has no memory", a->name, o->node);
	if (o->trace[0]) {
		trace_path(job, o->trace, path, sizeof(path));
		f = fopen(path, "r");
		if (!f)
			return ccmm_error_set(err, &loc, -ENOENT, "[%s]: trace '%s' cannot be opened", a->name, path);
		fclose(f);
	}
	return 0;
}

static int ttask_start(struct ccmm_actor *a)
{
	struct ttask_opts *o = a->opts;
	struct ttask *s = calloc(1, sizeof(*s));
	struct ccmm_trace_opts topts = { CCMM_TRACE_AUTO, o->instructions, false };
	struct ccmm_error err;
	char path[800];
	int ret;

	if (!s)
		return -ENOMEM;
	a->priv = s;
	if (o->trace[0]) {
		trace_path(a->run->job, o->trace, path, sizeof(path));
		ret = ccmm_trace_open(path, &topts, &s->tr, &err);
		if (ret) {
			char msg[700];

			ccmm_error_format(&err, msg, sizeof(msg));
			return ccmm_run_fail(a, NULL, ret, "%s", msg);
		}
	}
	return 0;
}

static void ttask_stop(struct ccmm_actor *a)
{
	struct ttask *s = a->priv;

	if (!s)
		return;
	ccmm_tier_task_destroy(s->task);
	ccmm_task_exit(ccmm_cgroup_root_of(a->run->m), s->proc);
	ccmm_trace_close(s->tr);
	free(s);
	a->priv = NULL;
}

/* The process begins: a task in its cgroup, its pages charged to the cgroup's memcg. */
static int process_start(struct ccmm_actor *a, struct ttask *s)
{
	struct ttask_opts *o = a->opts;
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(a->run->m);
	struct ccmm_cgroup *cg = ccmm_cgroup_lookup(root, o->cgroup), *memcg;
	int ret;

	if (!cg)
		return ccmm_run_fail(a, NULL, -ENOENT,
				     "cgroup '%s' does not exist when the task starts: order it after the mkdir with signal/wait",
				     o->cgroup);
	ret = ccmm_task_create(root, a->name, s, cg, &s->proc);
	ccmm_cgroup_put(cg);
	if (ret)
		return ccmm_run_fail(a, NULL, ret, "cannot run in cgroup '%s': %s", o->cgroup,
				     ret == -EBUSY ? "it enables controllers for its children (no internal processes)"
						   : strerror(-ret));
	memcg = ccmm_get_mem_cgroup_from_mm(root, s);
	ret = ccmm_tier_task_create(a->run->m, (int)o->node, o->anon, o->membind, memcg, s->proc, &s->task);
	ccmm_cgroup_put(memcg);
	return ret;
}

/* The process ends: its exit status for shells (ccmm_actor_exits) and its done event. */
static int process_exit(struct ccmm_actor *a, struct ttask *s, int status, const char *why)
{
	struct ttask_opts *o = a->opts;

	if (s->exited)
		return 1;
	s->exited = true;
	if (s->task) {
		/* exit_mmap: the pages go back, their charges with them */
		ccmm_tier_task_stats(s->task, &s->final);
		ccmm_tier_task_destroy(s->task);
		s->task = NULL;
	}
	ccmm_task_exit(ccmm_cgroup_root_of(a->run->m), s->proc);
	s->proc = NULL;
	ccmm_actor_exit(a, status, why);
	if (o->done[0])
		ccmm_run_signal(a->run, o->done, 1, a->ctx.now_ns);
	return 1;
}

static int ttask_step(struct ccmm_actor *a)
{
	struct ttask_opts *o = a->opts;
	struct ttask *s = a->priv;
	struct ccmm_page_ref r;
	struct ccmm_error err;
	int ret;

	if (!s->tr || s->exited)
		return 1;
	if (!s->task) {
		ret = process_start(a, s);
		if (ret)
			return ret;
	}
	if (o->max_refs && s->refs >= o->max_refs)
		return process_exit(a, s, 0, "max_refs references replayed");
	ret = ccmm_trace_next(s->tr, &r, &err);
	if (ret == 0) {
		if (++s->pass >= o->passes)
			return process_exit(a, s, 0, "the trace replayed");
		ret = ccmm_trace_rewind(s->tr, &err);
		if (!ret)
			return 0;
	}
	if (ret < 0) {
		char msg[700];

		ccmm_error_format(&err, msg, sizeof(msg));
		return ccmm_run_fail(a, NULL, ret, "%s", msg);
	}
	s->refs++;
	ret = ccmm_tier_access(&a->ctx, s->task, r.vpn, r.write);
	if (ret == -ENOMEM || ccmm_task_signal_pending(s->proc)) {
		/* the (memcg) OOM killer picked this task, or cgroup.kill: it exits, its memory goes back */
		s->killed = true;
		return process_exit(a, s, 128 + 9, ret == -ENOMEM ? "OOM-killed" : "SIGKILL");
	}
	return ret < 0 ? ret : 0;
}

static const struct ccmm_arg_spec node_args[] = {
	{ "node", CCMM_ARG_U64, true, true, NULL, NULL, "NUMA node" },
	{ NULL }
};

static int verb_online(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_node_hotplug(&a->ctx, (int)ccmm_arg_u64(a, op, 0), true);
}

static int verb_offline(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_node_hotplug(&a->ctx, (int)ccmm_arg_u64(a, op, 0), false);
}

static const struct ccmm_verb ttask_verbs[] = {
	{ "online_node", "memory hotplug: bring a node online (demotion targets are recomputed)", node_args, verb_online },
	{ "offline_node", "memory hotplug: migrate a node's pages away and take it offline", node_args, verb_offline },
	{ NULL }
};

const struct ccmm_actor_kind ccmm_kind_tier_task = {
	.name = "tier_task",
	.help = "a process replaying a real program's page references on a tiered machine; memory hotplug",
	.options = ttask_options,
	.opts_size = sizeof(struct ttask_opts),
	.verbs = ttask_verbs,
	.check = ttask_check,
	.start = ttask_start,
	.step = ttask_step,
	.stop = ttask_stop,
};

bool ccmm_tier_actor_stats(struct ccmm_actor *a, struct ccmm_tier_task_stats *st, bool *killed)
{
	struct ttask *s = a->priv;

	if (a->kind != &ccmm_kind_tier_task || !s)
		return false;
	if (s->task)
		ccmm_tier_task_stats(s->task, st);
	else
		*st = s->final; /* at its exit (zeros if it never started) */
	*killed = s->killed;
	return true;
}
