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
#include <jansson.h>
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

/* The figures of the process: live, or kept from its exit or OOM kill. */
static void ttask_figures(struct ccmm_actor *a, struct ccmm_tier_task_stats *st, bool *killed)
{
	struct ttask *s = a->priv;

	memset(st, 0, sizeof(*st));
	*killed = false;
	if (!s)
		return;
	if (s->task)
		ccmm_tier_task_stats(s->task, st);
	else
		*st = s->final; /* at its exit (zeros if it never started) */
	*killed = s->killed;
}

static void ttask_report_text(struct ccmm_actor *a, FILE *out)
{
	struct ccmm_tier_task_stats ts;
	bool killed;

	ttask_figures(a, &ts, &killed);
	fprintf(out, "  pages: %" PRIu64 " references, %" PRIu64 " fast-tier and %" PRIu64 " slow-tier hits, %" PRIu64
		     " first touches, %" PRIu64 " refaults; at the end %" PRIu64 " resident, %" PRIu64 " swapped, %" PRIu64
		     " evicted%s\n",
		ts.refs, ts.hits_fast, ts.hits_slow, ts.minor_faults, ts.refaults, ts.resident, ts.swapped, ts.evicted,
		killed ? "; OOM-killed" : "");
}

static void ttask_report_json(struct ccmm_actor *a, void *json)
{
	struct ccmm_tier_task_stats ts;
	json_t *jt = json_object();
	bool killed;

	ttask_figures(a, &ts, &killed);
	json_object_set_new(jt, "references", json_integer((json_int_t)ts.refs));
	json_object_set_new(jt, "fast_tier_hits", json_integer((json_int_t)ts.hits_fast));
	json_object_set_new(jt, "slow_tier_hits", json_integer((json_int_t)ts.hits_slow));
	json_object_set_new(jt, "first_touches", json_integer((json_int_t)ts.minor_faults));
	json_object_set_new(jt, "refaults", json_integer((json_int_t)ts.refaults));
	json_object_set_new(jt, "resident", json_integer((json_int_t)ts.resident));
	json_object_set_new(jt, "swapped", json_integer((json_int_t)ts.swapped));
	json_object_set_new(jt, "evicted", json_integer((json_int_t)ts.evicted));
	json_object_set_new(jt, "oom_killed", json_boolean(killed));
	json_object_set_new(json, "pages", jt);
}

static const struct ccmm_actor_kind ccmm_kind_tier_task = {
	.name = "tier_task",
	.help = "a process replaying a real program's page references on a tiered machine; memory hotplug",
	.options = ttask_options,
	.opts_size = sizeof(struct ttask_opts),
	.verbs = ttask_verbs,
	.check = ttask_check,
	.start = ttask_start,
	.step = ttask_step,
	.stop = ttask_stop,
	.report_text = ttask_report_text,
	.report_json = ttask_report_json,
};

/* ---- the run extension: the tiering knobs, the report section, the vmstat file ---- */

struct tier_ext_opts {
	uint64_t node_reclaim_mode;     /* vm.node_reclaim_mode; 8 (RECLAIM_MIGRATE) demotes in reclaim */
	uint64_t swap;                  /* swap space, bytes */
	int demotion_order;             /* enum ccmm_demotion_order */
	uint64_t numa_balancing;        /* kernel.numa_balancing; 2 promotes hot slow-tier pages */
	char vmstat[256];               /* write /proc/vmstat-format counters here at the end */
};

static const char *const demotion_orders[] = { "tiers", "passes", NULL };

#define TOPT(f) offsetof(struct tier_ext_opts, f)

static const struct ccmm_option tier_ext_options[] = {
	{ "node_reclaim_mode", CCMM_OPT_U64, TOPT(node_reclaim_mode), 0, 15, false, NULL, "0",
	  "vm.node_reclaim_mode bits; 8 = RECLAIM_MIGRATE: demote instead of discard" },
	{ "swap", CCMM_OPT_U64, TOPT(swap), 0, 0, true, NULL, "0", "swap space, bytes" },
	{ "numa_balancing", CCMM_OPT_U64, TOPT(numa_balancing), 0, 3, false, NULL, "0",
	  "kernel.numa_balancing; 2 = memory tiering: promote hot pages from slow tiers" },
	{ "demotion_order", CCMM_OPT_ENUM, TOPT(demotion_order), 0, 0, false, demotion_orders, "tiers",
	  "tiers: memory tiers (establish_demotion_targets); passes: the 2021 series' order" },
	{ "vmstat", CCMM_OPT_STR, TOPT(vmstat), 0, 256, false, NULL, NULL,
	  "write /proc/vmstat-format counters to this file at the end (complete or not at all)" },
	{ NULL }
};

/* The platform's demotion targets must be computable; an explicit demote_to the tiers refuse names its line. */
static int tier_ext_check(struct ccmm_job *job, const void *opts, struct ccmm_error *err)
{
	const struct tier_ext_opts *o = opts;
	struct ccmm_demotion d;
	int ret;

	memset(&d, 0, sizeof(d));
	ret = ccmm_demotion_compute(job->plat, NULL, (enum ccmm_demotion_order)o->demotion_order, &d);
	if (!ret)
		return 0;
	/* an explicit demote_to the tiers do not allow: name its line */
	for (unsigned n = 0; n < job->plat->nr_nodes; n++) {
		int t = job->plat->node[n].demote_to;
		struct ccmm_loc l = { job->plat->node[n].where.file, job->plat->node[n].where.line };

		if (t < 0)
			continue;
		if (ret == -ENODEV && !job->plat->node[t].online)
			return ccmm_error_set(err, &l, ret, "demote_to: node %d is offline at boot", t);
		if (ret == -EINVAL && d.adist[t] >> CCMM_MEMTIER_CHUNK_BITS <= d.adist[n] >> CCMM_MEMTIER_CHUNK_BITS)
			return ccmm_error_set(err, &l, ret,
					      "demote_to: node %d is not in a slower memory tier than node %u (abstract distance %d vs %d)",
					      t, n, d.adist[t], d.adist[n]);
	}
	return ccmm_error_set(err, NULL, ret, "%s: demotion targets cannot be computed", job->plat->source);
}

static int tier_ext_start(struct ccmm_run *run, const void *opts)
{
	const struct tier_ext_opts *o = opts;
	struct ccmm_tier_config tc = { (unsigned)o->node_reclaim_mode, (o->numa_balancing & 2) != 0,
				       o->swap >> CCMM_PAGE_SHIFT, (enum ccmm_demotion_order)o->demotion_order, 32 };
	int ret = ccmm_tier_configure(run->m, &tc); /* checked when the job was loaded */

	if (ret)
		snprintf(run->error, sizeof(run->error), "%s: demotion targets cannot be computed", run->job->path);
	return ret;
}

/* The vmstat file, complete or not at all; not after a run error. */
static void tier_ext_finish(struct ccmm_run *run, const void *opts)
{
	const struct tier_ext_opts *o = opts;
	struct ccmm_outfile of;
	char path[800];
	int ret;

	if (!o->vmstat[0] || run->error[0])
		return;
	if (o->vmstat[0] == '/')
		snprintf(path, sizeof(path), "%s", o->vmstat);
	else
		snprintf(path, sizeof(path), "%s/%s", run->job->dir, o->vmstat);
	ret = ccmm_outfile_open(&of, path);
	if (!ret) {
		ret = ccmm_vmstat_write(run->m, of.fp);
		if (ret)
			ccmm_outfile_abort(&of);
		else
			ret = ccmm_outfile_commit(&of);
	}
	if (ret) {
		pthread_mutex_lock(&run->lock);
		if (!run->error[0]) {
			snprintf(run->error, sizeof(run->error), "%.500s: cannot write vmstat: %s", path, strerror(-ret));
			run->error_ret = ret;
		}
		pthread_mutex_unlock(&run->lock);
	}
}

/* Memory tiers: targets and vmstat, when the run used them. */
static void tier_ext_text(struct ccmm_run *run, FILE *out)
{
	const struct tier_ext_opts *o = ccmm_job_ext_opts(run->job, "vmstat");
	struct ccmm_machine *m = run->m;
	struct ccmm_demotion d;
	int col = 0;

	if (!ccmm_vmstat_get(m, CCMM_VM_pgfault))
		return;
	ccmm_tier_demotion(m, &d);
	fprintf(out, "memory tiers (%s order, node_reclaim_mode %" PRIu64 "%s, swap %" PRIu64 " pages):\n",
		o->demotion_order ? "2021 passes" : "tiers", o->node_reclaim_mode,
		o->node_reclaim_mode & CCMM_RECLAIM_MIGRATE ? ": demotion on" : ": demotion off",
		o->swap >> CCMM_PAGE_SHIFT);
	for (unsigned n = 0; n < m->plat->nr_nodes; n++) {
		fprintf(out, "  node %u: abstract distance %d (tier %d)%s, demotes to", n, d.adist[n],
			d.adist[n] >> CCMM_MEMTIER_CHUNK_BITS, d.online[n] ? "" : ", offline");
		if (!d.preferred[n])
			fprintf(out, " nothing (terminal)");
		for (unsigned t = 0; t < m->plat->nr_nodes; t++)
			if (d.preferred[n] & (1u << t))
				fprintf(out, " %u", t);
		fputc('\n', out);
	}
	for (int i = 0; i < CCMM_VM_NR; i++) {
		uint64_t v = ccmm_vmstat_get(m, (enum ccmm_vmstat)i);

		if (!v)
			continue;
		fprintf(out, "%s%s %" PRIu64, col ? ", " : "  vmstat: ", ccmm_vmstat_names[i], v);
		if (++col == 6) {
			fputc('\n', out);
			col = 0;
		}
	}
	if (col)
		fputc('\n', out);
	fputc('\n', out);
}

/* Every vmstat counter, by the kernel's name. */
static void *tier_ext_json(struct ccmm_run *run)
{
	json_t *vm = json_object();

	for (int i = 0; i < CCMM_VM_NR; i++)
		json_object_set_new(vm, ccmm_vmstat_names[i], json_integer((json_int_t)ccmm_vmstat_get(run->m, (enum ccmm_vmstat)i)));
	return vm;
}

/* The JSON report keeps the counters under "vmstat", as before the extension existed. */
static const struct ccmm_run_ext tier_ext = {
	.name = "vmstat",
	.options = tier_ext_options,
	.opts_size = sizeof(struct tier_ext_opts),
	.check = tier_ext_check,
	.start = tier_ext_start,
	.finish = tier_ext_finish,
	.report_text = tier_ext_text,
	.report_json = tier_ext_json,
};

static const struct ccmm_actor_kind *const tier_kinds[] = { &ccmm_kind_tier_task, NULL };

const struct ccmm_kind_set ccmm_kinds_tier = { "tier", tier_kinds, &tier_ext };
