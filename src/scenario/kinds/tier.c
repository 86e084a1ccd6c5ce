// SPDX-License-Identifier: MIT
/*
 * The tier_task actor: a process replaying a real program's page
 * references, or touching memory as the recorder's ccmm-hog does, on a
 * tiered machine; the memory-hotplug ops; and the tiering run extension
 * (the kernel's knobs, the report, /proc/vmstat and a sysfs dump).
 *
 *   [app]                              [hog]
 *   actor = tier_task                  actor = tier_task
 *   trace = ../traces/sort.trace.zst   touch = 256m        ; write every page once
 *   node = 0                           retouch = 48        ; passes over the hot part
 *   anon = yes                         hot = 64m
 *   passes = 3                         interval_ms = 250   ; sleep before each pass
 *   cgroup = /jobs/app                 bind_first = yes    ; MPOL_BIND for the first touch
 *   op = offline_node 2                timeout_ms = 12000  ; then SIGTERM (timeout(1))
 *
 * The process starts when its ops are done (so a cgroup actor's mkdir can
 * come first: order with signal/wait), lives in its cgroup as a task, and
 * charges its pages to the cgroup's memory controller.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "scenario/scenario.h"
#include "tier/tier.h"
#include "trace/trace.h"

struct ttask_opts {
	char trace[256];
	uint64_t touch, hot, retouch, interval_ms, hold_ms, timeout_ms;
	uint64_t node;
	bool anon, membind, bind_first, mlock;
	char oom_score_adj[16];
	char cgroup[256];
	char done[48];
	uint64_t passes;
	uint64_t max_refs;
	bool instructions;
};

/* Where a touching program is. */
enum tphase { PH_TOUCH, PH_SLEEP, PH_RETOUCH, PH_HOLD, PH_END };

struct ttask {
	struct ccmm_trace *tr;
	struct ccmm_task *proc;          /* the process in its cgroup, from the first step */
	struct ccmm_tier_task *task;
	uint64_t pass, refs;
	uint64_t start_ns;
	bool killed, exited;
	/* a reference the memcg OOM killer made wait for its victim */
	bool pending;
	struct ccmm_page_ref pending_ref;
	/* touch mode */
	enum tphase phase;
	uint64_t idx, pages, hot_pages;
	bool touched_seen;
	struct ccmm_tier_task_stats touched; /* after the first touch (ccmm-hog's "touched:" line) */
	struct ccmm_tier_task_stats final;   /* the figures at exit or OOM kill */
};

static const struct ccmm_option ttask_options[] = {
	{ "trace", CCMM_OPT_STR, offsetof(struct ttask_opts, trace), 0, 256, false, NULL, NULL,
	  "page-reference trace to replay (relative to the job file)" },
	{ "touch", CCMM_OPT_U64, offsetof(struct ttask_opts, touch), 0, 0, true, NULL, "0",
	  "instead of a trace: write every page of this many bytes once (ccmm-hog MB)" },
	{ "hot", CCMM_OPT_U64, offsetof(struct ttask_opts, hot), 0, 0, true, NULL, "0",
	  "touch: the part retouched in each pass (0: all; ccmm-hog -h)" },
	{ "retouch", CCMM_OPT_U64, offsetof(struct ttask_opts, retouch), 0, 100000, false, NULL, "0",
	  "touch: passes over the hot part after the first touch (ccmm-hog -p)" },
	{ "interval_ms", CCMM_OPT_U64, offsetof(struct ttask_opts, interval_ms), 0, 3600000, false, NULL, "200",
	  "touch: modeled sleep before each retouch pass (ccmm-hog -i)" },
	{ "hold_ms", CCMM_OPT_U64, offsetof(struct ttask_opts, hold_ms), 0, 3600000, false, NULL, "0",
	  "modeled time the memory is held after the last pass (ccmm-hog -k)" },
	{ "timeout_ms", CCMM_OPT_U64, offsetof(struct ttask_opts, timeout_ms), 0, 3600000, false, NULL, "0",
	  "SIGTERM after this much modeled time from the first reference, as timeout(1) does (0: none)" },
	{ "node", CCMM_OPT_U64, offsetof(struct ttask_opts, node), 0, CCMM_MAX_NODES - 1, false, NULL, "0",
	  "node the task allocates on first (and runs on, or the nearest node with CPUs)" },
	{ "anon", CCMM_OPT_BOOL, offsetof(struct ttask_opts, anon), 0, 0, false, NULL, "yes",
	  "anonymous pages (swap) or file pages (page cache)" },
	{ "membind", CCMM_OPT_BOOL, offsetof(struct ttask_opts, membind), 0, 0, false, NULL, "no",
	  "MPOL_BIND to node: allocate only there (reclaim, and demotion, make room)" },
	{ "bind_first", CCMM_OPT_BOOL, offsetof(struct ttask_opts, bind_first), 0, 0, false, NULL, "no",
	  "touch: MPOL_BIND to node for the first touch, then MPOL_DEFAULT (ccmm-hog -b)" },
	{ "mlock", CCMM_OPT_BOOL, offsetof(struct ttask_opts, mlock), 0, 0, false, NULL, "no",
	  "mlockall: the pages are unevictable, reclaim never takes them" },
	{ "oom_score_adj", CCMM_OPT_STR, offsetof(struct ttask_opts, oom_score_adj), 0, 16, false, NULL, "0",
	  "/proc/PID/oom_score_adj, -1000 (never chosen) to 1000" },
	{ "cgroup", CCMM_OPT_STR, offsetof(struct ttask_opts, cgroup), 0, 256, false, NULL, "/",
	  "the cgroup the process runs in; its memory.max and memory.high limit it, its cpuset.mems bound it "
	  "(a cgroup actor's mkdir must create it)" },
	{ "done", CCMM_OPT_STR, offsetof(struct ttask_opts, done), 0, 48, false, NULL, "",
	  "event signalled when the process exits (after its program, or killed)" },
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

/* oom_score_adj as /proc writes it: a decimal in [-1000, 1000]. */
static int parse_oom_score_adj(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (!*s || *end || errno)
		return -EINVAL;
	if (v < CCMM_OOM_SCORE_ADJ_MIN || v > CCMM_OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

static int ttask_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct ttask_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };
	char path[800], what[96];
	int adj, ret;
	FILE *f;

	snprintf(what, sizeof(what), "[%s] cgroup", a->name);
	ret = ccmm_cgroup_job_path_check(job, o->cgroup, &loc, what, err);
	if (ret)
		return ret;
	if (o->node >= job->plat->nr_nodes)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: node %" PRIu64 " is not on the platform (it has %u)", a->name,
				      o->node, job->plat->nr_nodes);
	if (!ccmm_platform_ram(job->plat, (int)o->node))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: node %" PRIu64 " has no memory", a->name, o->node);
	if (parse_oom_score_adj(o->oom_score_adj, &adj))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: oom_score_adj '%s' is not a number from -1000 to 1000", a->name,
				      o->oom_score_adj);
	if (o->trace[0] && o->touch)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: trace and touch are two programs: give one", a->name);
	if (o->hot > o->touch)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: hot (%" PRIu64 ") is larger than touch (%" PRIu64 ")", a->name,
				      o->hot, o->touch);
	if (!o->touch && (o->retouch || o->hot || o->bind_first))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: retouch, hot and bind_first belong to touch = SIZE", a->name);
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
	s->pages = o->touch >> CCMM_PAGE_SHIFT;
	s->hot_pages = o->hot ? o->hot >> CCMM_PAGE_SHIFT : s->pages;
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
	int ret, adj = 0;

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
	parse_oom_score_adj(o->oom_score_adj, &adj); /* checked at load */
	s->proc->oom_score_adj = adj;
	memcg = ccmm_get_mem_cgroup_from_mm(root, s);
	ret = ccmm_tier_task_create(a->run->m, (int)o->node, o->anon, o->membind || o->bind_first, memcg, s->proc,
				    &s->task);
	ccmm_cgroup_put(memcg);
	if (ret)
		return ret;
	if (o->mlock)
		ccmm_tier_task_mlock(s->task, true);
	s->start_ns = a->ctx.now_ns;
	return 0;
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

/* The next reference of a touching program, or 1 with nothing to do now (slept, or finished). */
static int touch_next(struct ccmm_actor *a, struct ttask *s, struct ccmm_page_ref *r)
{
	struct ttask_opts *o = a->opts;

	for (;;) {
		switch (s->phase) {
		case PH_TOUCH:
			if (s->idx < s->pages) {
				r->vpn = s->idx++;
				r->write = true;
				return 0;
			}
			ccmm_tier_task_stats(s->task, &s->touched);
			s->touched_seen = true;
			/* ccmm-hog -b: back to MPOL_DEFAULT once everything is touched */
			if (o->bind_first && !o->membind)
				ccmm_tier_task_set_policy(s->task, -1, false);
			s->phase = o->retouch ? PH_SLEEP : PH_HOLD;
			continue;
		case PH_SLEEP:
			a->ctx.now_ns += o->interval_ms * 1000000ull;
			s->phase = PH_RETOUCH;
			s->idx = 0;
			s->pass++;
			return 1;
		case PH_RETOUCH:
			if (s->idx < s->hot_pages) {
				r->vpn = s->idx++; /* p[i * PAGE]++: a read and a write of the page */
				r->write = true;
				return 0;
			}
			s->phase = s->pass < o->retouch ? PH_SLEEP : PH_HOLD;
			continue;
		case PH_HOLD:
			a->ctx.now_ns += o->hold_ms * 1000000ull;
			s->phase = PH_END;
			return 1;
		case PH_END:
		default:
			return 2;
		}
	}
}

static int ttask_step(struct ccmm_actor *a)
{
	struct ttask_opts *o = a->opts;
	struct ttask *s = a->priv;
	struct ccmm_page_ref r;
	struct ccmm_error err;
	int ret, sig;

	if ((!s->tr && !s->pages) || s->exited)
		return 1;
	if (!s->task) {
		ret = process_start(a, s);
		if (ret)
			return ret;
	}
	sig = ccmm_task_signal_pending(s->proc);
	if (sig) {
		s->killed = sig == SIGKILL;
		return process_exit(a, s, 128 + sig, sig == SIGKILL ? "SIGKILL" : "killed by a signal");
	}
	if (o->timeout_ms && a->ctx.now_ns - s->start_ns >= o->timeout_ms * 1000000ull) {
		ccmm_task_signal(s->proc, SIGTERM);
		return process_exit(a, s, 128 + SIGTERM, "SIGTERM: the timeout");
	}
	if (s->pending) {
		r = s->pending_ref;
	} else {
		if (o->max_refs && s->refs >= o->max_refs)
			return process_exit(a, s, 0, "max_refs references replayed");
		if (s->pages) {
			ret = touch_next(a, s, &r);
			if (ret == 1)
				return 0;
			if (ret == 2) {
				ccmm_actor_milestone(a, "charged");
				return process_exit(a, s, 0, "the program ran to its end");
			}
		} else {
			ret = ccmm_trace_next(s->tr, &r, &err);
			if (ret == 0) {
				if (!s->pass)
					ccmm_actor_milestone(a, "charged");
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
		}
		s->refs++;
	}
	ret = ccmm_tier_access(&a->ctx, s->task, r.vpn, r.write);
	s->pending = ret == -EAGAIN;
	if (s->pending) {
		/* the OOM killer chose another process: this fault retries once it is gone */
		s->pending_ref = r;
		return 0;
	}
	if (ret == -ENOMEM || ccmm_task_signal_pending(s->proc)) {
		/* the OOM killer picked this task, or cgroup.kill: it exits, its memory goes back */
		s->killed = true;
		return process_exit(a, s, 128 + SIGKILL, ret == -ENOMEM ? "OOM-killed" : "SIGKILL");
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

static void print_nodes(FILE *out, const struct ccmm_tier_task_stats *st, unsigned nr_nodes)
{
	for (unsigned n = 0; n < nr_nodes; n++)
		fprintf(out, " node%u=%" PRIu64, n, st->node_pages[n]);
}

static void ttask_report_text(struct ccmm_actor *a, FILE *out)
{
	struct ttask *s = a->priv;
	struct ccmm_tier_task_stats ts;
	unsigned nr = a->run->m->plat->nr_nodes;
	bool killed;

	ttask_figures(a, &ts, &killed);
	fprintf(out, "  pages: %" PRIu64 " references, %" PRIu64 " fast-tier and %" PRIu64 " slow-tier hits, %" PRIu64
		     " first touches, %" PRIu64 " refaults; at the end %" PRIu64 " resident, %" PRIu64 " swapped, %" PRIu64
		     " evicted%s\n",
		ts.refs, ts.hits_fast, ts.hits_slow, ts.minor_faults, ts.refaults, ts.resident, ts.swapped, ts.evicted,
		killed ? "; OOM-killed" : "");
	if (s && s->touched_seen) {
		fprintf(out, "  pages per node: touched:");
		print_nodes(out, &s->touched, nr);
		fprintf(out, "; end:");
		print_nodes(out, &ts, nr);
		fputc('\n', out);
	}
}

static json_t *nodes_json(const struct ccmm_tier_task_stats *st, unsigned nr_nodes)
{
	json_t *arr = json_array();

	for (unsigned n = 0; n < nr_nodes; n++)
		json_array_append_new(arr, json_integer((json_int_t)st->node_pages[n]));
	return arr;
}

static void ttask_report_json(struct ccmm_actor *a, void *json)
{
	struct ttask *s = a->priv;
	struct ccmm_tier_task_stats ts;
	unsigned nr = a->run->m->plat->nr_nodes;
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
	json_object_set_new(jt, "page_tables", json_integer((json_int_t)ts.pgtables));
	json_object_set_new(jt, "node_pages", nodes_json(&ts, nr));
	if (s && s->touched_seen)
		json_object_set_new(jt, "node_pages_touched", nodes_json(&s->touched, nr));
	json_object_set_new(jt, "oom_killed", json_boolean(killed));
	json_object_set_new(json, "pages", jt);
}

static const struct ccmm_milestone ttask_milestones[] = {
	{ "charged", "the task's memory is charged: every page of its trace touched once (the end of its first pass; "
		     "a touching program: its end)" },
	{ NULL, NULL }
};

static const struct ccmm_actor_kind ccmm_kind_tier_task = {
	.name = "tier_task",
	.help = "a process replaying a real program's page references, or touching memory, on a tiered machine; "
		"memory hotplug",
	.options = ttask_options,
	.opts_size = sizeof(struct ttask_opts),
	.verbs = ttask_verbs,
	.check = ttask_check,
	.start = ttask_start,
	.step = ttask_step,
	.stop = ttask_stop,
	.report_text = ttask_report_text,
	.report_json = ttask_report_json,
	.milestones = ttask_milestones,
};

/* ---- the run extension: the tiering knobs, the report section, vmstat and sysfs ---- */

struct tier_ext_opts {
	int policy;                     /* enum ccmm_demotion_policy */
	bool demotion_enabled;          /* /sys/kernel/mm/numa/demotion_enabled */
	uint64_t node_reclaim_mode;     /* vm.node_reclaim_mode */
	uint64_t swap;                  /* swap space, bytes */
	int demotion_order;             /* 0 auto, 1 tiers, 2 passes */
	uint64_t numa_balancing;        /* kernel.numa_balancing; 2 promotes hot slow-tier pages */
	uint64_t scan_delay_ms, scan_period_ms, scan_size_mb, hot_threshold_ms;
	uint64_t min_free_kbytes;       /* vm.min_free_kbytes (0: calculated) */
	uint64_t watermark_scale_factor;
	char node_reserve[128];         /* NODE:SIZE[,NODE:SIZE]: memory the kernel holds */
	char vmstat[256];               /* write /proc/vmstat at the end */
	char sysfs[256];                /* dump the tiering sysfs files at the end */
};

static const char *const policies[] = { "mainline", "reclaim_migrate", NULL };
static const char *const demotion_orders[] = { "auto", "tiers", "passes", NULL };

#define TOPT(f) offsetof(struct tier_ext_opts, f)

static const struct ccmm_option tier_ext_options[] = {
	{ "demotion_policy", CCMM_OPT_ENUM, TOPT(policy), 0, 0, false, policies, "mainline",
	  "mainline: demotion_enabled switches demotion, memcg reclaim demotes too, targets within the cpuset, "
	  "fallback to the lower tiers; reclaim_migrate: the 2021 series of seed 004 (node_reclaim_mode 8, "
	  "never in memcg reclaim, one target)" },
	{ "demotion_enabled", CCMM_OPT_BOOL, TOPT(demotion_enabled), 0, 0, false, NULL, "no",
	  "/sys/kernel/mm/numa/demotion_enabled (mainline policy): demote in reclaim instead of discarding" },
	{ "node_reclaim_mode", CCMM_OPT_U64, TOPT(node_reclaim_mode), 0, 15, false, NULL, "0",
	  "vm.node_reclaim_mode bits 1, 2, 4; 8 = RECLAIM_MIGRATE, the reclaim_migrate policy's demotion switch" },
	{ "swap", CCMM_OPT_U64, TOPT(swap), 0, 0, true, NULL, "0", "swap space, bytes" },
	{ "numa_balancing", CCMM_OPT_U64, TOPT(numa_balancing), 0, 3, false, NULL, "0",
	  "kernel.numa_balancing; 2 = memory tiering: promote hot pages from slow tiers" },
	{ "numa_balancing_scan_delay_ms", CCMM_OPT_U64, TOPT(scan_delay_ms), 0, 3600000, false, NULL, "1000",
	  "first NUMA-balancing scan of a task after it starts (debugfs sched/numa_balancing/scan_delay_ms)" },
	{ "numa_balancing_scan_period_ms", CCMM_OPT_U64, TOPT(scan_period_ms), 1, 3600000, false, NULL, "1000",
	  "time between a task's scans (scan_period_min_ms)" },
	{ "numa_balancing_scan_size_mb", CCMM_OPT_U64, TOPT(scan_size_mb), 1, 1048576, false, NULL, "256",
	  "address space marked per scan (scan_size_mb)" },
	{ "numa_balancing_hot_threshold_ms", CCMM_OPT_U64, TOPT(hot_threshold_ms), 1, 3600000, false, NULL, "1000",
	  "a hint fault within this time of the scan makes a slow-tier page a promotion candidate" },
	{ "demotion_order", CCMM_OPT_ENUM, TOPT(demotion_order), 0, 0, false, demotion_orders, "auto",
	  "tiers: memory tiers (establish_demotion_targets); passes: the 2021 series' order; auto: the policy's" },
	{ "min_free_kbytes", CCMM_OPT_U64, TOPT(min_free_kbytes), 0, 67108864, false, NULL, "0",
	  "vm.min_free_kbytes, the base of the watermarks (0: calculate_min_free_kbytes)" },
	{ "watermark_scale_factor", CCMM_OPT_U64, TOPT(watermark_scale_factor), 1, 3000, false, NULL, "10",
	  "vm.watermark_scale_factor: the kswapd watermark gaps, in 1/10000 of a node" },
	{ "node_reserve", CCMM_OPT_STR, TOPT(node_reserve), 0, 128, false, NULL, "",
	  "NODE:SIZE[,NODE:SIZE...]: memory the kernel holds on a node before the run, never reclaimed" },
	{ "vmstat", CCMM_OPT_STR, TOPT(vmstat), 0, 256, false, NULL, NULL,
	  "write /proc/vmstat (the kernel's names and order) to this file at the end (complete or not at all)" },
	{ "sysfs", CCMM_OPT_STR, TOPT(sysfs), 0, 256, false, NULL, NULL,
	  "dump the tiering sysfs files (memory_tiering/memory_tierN/nodelist, kernel/mm/numa/demotion_enabled, "
	  "node/nodeN/meminfo and x86/sgx_total_bytes) into this directory at the end (complete or not at all)" },
	{ NULL }
};

/* One NODE:SIZE of node_reserve; the rest after a comma in *@next. 0 or -EINVAL. */
static int parse_reserve(const char *s, unsigned *node, uint64_t *bytes, const char **next)
{
	char item[64], *colon, *end;
	size_t n = strcspn(s, ",");
	unsigned long v;

	if (!n || n >= sizeof(item))
		return -EINVAL;
	memcpy(item, s, n);
	item[n] = '\0';
	colon = strchr(item, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	errno = 0;
	v = strtoul(item, &end, 10);
	if (!item[0] || *end || errno || v >= CCMM_MAX_NODES)
		return -EINVAL;
	*node = (unsigned)v;
	if (ccmm_parse_u64(colon + 1, true, bytes))
		return -EINVAL;
	*next = s[n] == ',' ? s + n + 1 : NULL;
	return 0;
}

static enum ccmm_demotion_order order_of(const struct tier_ext_opts *o)
{
	if (o->demotion_order == 1)
		return CCMM_DEMOTE_TIERS;
	if (o->demotion_order == 2)
		return CCMM_DEMOTE_PASSES;
	return o->policy == CCMM_DEMOTION_RECLAIM_MIGRATE ? CCMM_DEMOTE_PASSES : CCMM_DEMOTE_TIERS;
}

/* The line of [global]'s "@key =" in the job file, for errors (0 when it cannot be found). */
static int global_line(const struct ccmm_job *job, const char *key)
{
	FILE *f = fopen(job->path, "r");
	char line[1024];
	int n = 0, found = 0;
	bool global = false;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");
		size_t kl = strlen(key);

		n++;
		if (*p == '[') {
			global = !strncmp(p, "[global]", 8);
			continue;
		}
		if (global && !strncmp(p, key, kl) && (p[kl] == ' ' || p[kl] == '\t' || p[kl] == '='))
			found = n;
	}
	fclose(f);
	return found;
}

/* The knobs must agree with the policy, the platform's demotion targets must be computable. */
static int tier_ext_check(struct ccmm_job *job, const void *opts, struct ccmm_error *err)
{
	const struct tier_ext_opts *o = opts;
	struct ccmm_loc loc = { job->path, 0 };
	struct ccmm_demotion d;
	int ret;

	if (o->policy == CCMM_DEMOTION_MAINLINE && (o->node_reclaim_mode & CCMM_RECLAIM_MIGRATE)) {
		loc.line = global_line(job, "node_reclaim_mode");
		return ccmm_error_set(err, &loc, -EINVAL,
				      "node_reclaim_mode 8 (RECLAIM_MIGRATE) is the 2021 series' switch and was never merged: "
				      "mainline demotes with demotion_enabled = yes; or set demotion_policy = reclaim_migrate");
	}
	if (o->policy == CCMM_DEMOTION_RECLAIM_MIGRATE && o->demotion_enabled) {
		loc.line = global_line(job, "demotion_enabled");
		return ccmm_error_set(err, &loc, -EINVAL,
				      "demotion_enabled is mainline's switch; under demotion_policy = reclaim_migrate demotion "
				      "is node_reclaim_mode 8");
	}
	loc.line = global_line(job, "node_reserve");
	for (const char *s = o->node_reserve[0] ? o->node_reserve : NULL; s;) {
		unsigned node;
		uint64_t bytes;

		if (parse_reserve(s, &node, &bytes, &s))
			return ccmm_error_set(err, &loc, -EINVAL, "node_reserve '%s': not NODE:SIZE[,NODE:SIZE...]",
					      o->node_reserve);
		if (node >= job->plat->nr_nodes || bytes > ccmm_platform_ram(job->plat, (int)node))
			return ccmm_error_set(err, &loc, -EINVAL, "node_reserve: node %u %s", node,
					      node >= job->plat->nr_nodes ? "is not on the platform" : "has less memory than that");
	}
	memset(&d, 0, sizeof(d));
	ret = ccmm_demotion_compute(job->plat, NULL, order_of(o), &d);
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

/* node_reserve: whole buddy blocks from the node, then pages; held until the machine goes. */
static int reserve_node(struct ccmm_run *run, unsigned node, uint64_t bytes)
{
	struct ccmm_ctx ctx;
	uint64_t pages = bytes >> CCMM_PAGE_SHIFT;

	ccmm_ctx_init(&ctx, run->m, -1, "kernel");
	while (pages) {
		unsigned order = 10;
		uint64_t pa;

		while ((1ull << order) > pages)
			order--;
		while (ccmm_alloc_pages(&ctx, (int)node, order, CCMM_GFP_THISNODE, &pa)) {
			if (!order--)
				return -ENOMEM;
		}
		pages -= 1ull << order;
	}
	return 0;
}

static int tier_ext_start(struct ccmm_run *run, const void *opts)
{
	const struct tier_ext_opts *o = opts;
	struct ccmm_tier_config tc = {
		.policy = (enum ccmm_demotion_policy)o->policy,
		.demotion_enabled = o->demotion_enabled,
		.node_reclaim_mode = (unsigned)o->node_reclaim_mode,
		.promotion = (o->numa_balancing & 2) != 0,
		.swap_pages = o->swap >> CCMM_PAGE_SHIFT,
		.order = order_of(o),
		.batch = 32,
		.min_free_kbytes = o->min_free_kbytes,
		.watermark_scale_factor = (unsigned)o->watermark_scale_factor,
		.numa_scan_delay_ms = o->scan_delay_ms,
		.numa_scan_period_ms = o->scan_period_ms,
		.numa_scan_size_mb = o->scan_size_mb,
		.numa_hot_threshold_ms = o->hot_threshold_ms,
	};
	int ret = ccmm_tier_configure(run->m, &tc); /* checked when the job was loaded */

	if (ret) {
		snprintf(run->error, sizeof(run->error), "%s: demotion targets cannot be computed", run->job->path);
		return ret;
	}
	for (const char *s = o->node_reserve[0] ? o->node_reserve : NULL; s;) {
		unsigned node;
		uint64_t bytes;

		parse_reserve(s, &node, &bytes, &s); /* checked at load */
		ret = reserve_node(run, node, bytes);
		if (ret) {
			snprintf(run->error, sizeof(run->error), "%s: node_reserve: node %u has not that much free memory",
				 run->job->path, node);
			return ret;
		}
	}
	return 0;
}

static void ext_path(struct ccmm_run *run, const char *name, char *out, size_t len)
{
	if (name[0] == '/')
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%s/%s", run->job->dir, name);
}

static void ext_error(struct ccmm_run *run, int ret, const char *fmt, const char *path, const char *why)
{
	pthread_mutex_lock(&run->lock);
	if (!run->error[0]) {
		snprintf(run->error, sizeof(run->error), fmt, path, why);
		run->error_ret = ret;
	}
	pthread_mutex_unlock(&run->lock);
}

/* A text file's content from a writer into a growing buffer. */
static int to_text(int (*fn)(struct ccmm_machine *, int, FILE *), struct ccmm_machine *m, int arg, char **buf,
		   size_t *len)
{
	FILE *f = open_memstream(buf, len);
	int ret;

	if (!f)
		return -ENOMEM;
	ret = fn(m, arg, f);
	if (fclose(f) && !ret)
		ret = -EIO;
	return ret;
}

static int meminfo_fn(struct ccmm_machine *m, int node, FILE *f)
{
	return ccmm_node_meminfo_write(m, node, f);
}

/*
 * The sysfs files of tiering, as the kernel prints them:
 * devices/virtual/memory_tiering/memory_tierN/nodelist ("%*pbl\n",
 * nodelist_show in mm/memory-tiers.c), kernel/mm/numa/demotion_enabled
 * ("%s\n" of true/false, demotion_enabled_show), and per node
 * devices/system/node/nodeN/meminfo (node_read_meminfo) and, when the
 * platform has EPC, x86/sgx_total_bytes ("%lu\n" of the node's EPC bytes,
 * sgx_total_bytes_show in arch/x86/kernel/cpu/sgx/main.c).
 */
static int sysfs_dump(struct ccmm_run *run, const char *dir, struct ccmm_error *err)
{
	struct ccmm_machine *m = run->m;
	const struct ccmm_platform *p = m->plat;
	struct ccmm_outdir od;
	struct ccmm_demotion d;
	char rel[256], text[256];
	uint64_t epc[CCMM_MAX_NODES] = { 0 };
	bool sgx = false;
	int ret = ccmm_outdir_open(&od, dir, "sysfs dump", "devices/virtual/memory_tiering", err);

	if (ret)
		return ret;
	ccmm_tier_demotion(m, &d);
	for (int t = 0; t < d.nr_tiers && !ret; t++) {
		char list[160];

		snprintf(rel, sizeof(rel), "devices/virtual/memory_tiering/memory_tier%d/nodelist", d.tier_id[t]);
		snprintf(text, sizeof(text), "%s\n", ccmm_nodelist_format(d.tier_nodes[t], list, sizeof(list)));
		ret = ccmm_outdir_write(&od, rel, text, strlen(text), err);
	}
	if (!ret) {
		snprintf(text, sizeof(text), "%s\n", ccmm_tier_demotion_enabled(m) ? "true" : "false");
		ret = ccmm_outdir_write(&od, "kernel/mm/numa/demotion_enabled", text, strlen(text), err);
	}
	for (size_t i = 0; i < p->nr_ranges; i++) {
		if (p->ranges[i].kind == CCMM_RANGE_EPC && p->ranges[i].node >= 0) {
			epc[p->ranges[i].node] += p->ranges[i].size;
			sgx = true;
		}
	}
	for (unsigned n = 0; n < p->nr_nodes && !ret; n++) {
		char *buf = NULL;
		size_t len = 0;

		ret = to_text(meminfo_fn, m, (int)n, &buf, &len);
		if (!ret) {
			snprintf(rel, sizeof(rel), "devices/system/node/node%u/meminfo", n);
			ret = ccmm_outdir_write(&od, rel, buf, len, err);
		} else {
			ccmm_error_set(err, NULL, ret, "%s: node %u: cannot format meminfo", dir, n);
		}
		free(buf);
		if (!ret && sgx) {
			snprintf(rel, sizeof(rel), "devices/system/node/node%u/x86/sgx_total_bytes", n);
			snprintf(text, sizeof(text), "%" PRIu64 "\n", epc[n]);
			ret = ccmm_outdir_write(&od, rel, text, strlen(text), err);
		}
	}
	if (ret) {
		ccmm_outdir_abort(&od);
		return ret;
	}
	return ccmm_outdir_commit(&od, err);
}

/* The vmstat file and the sysfs dump, complete or not at all; not after a run error. */
static void tier_ext_finish(struct ccmm_run *run, const void *opts)
{
	const struct tier_ext_opts *o = opts;
	char path[800];
	int ret;

	if (run->error[0])
		return;
	if (o->vmstat[0]) {
		struct ccmm_outfile of;

		ext_path(run, o->vmstat, path, sizeof(path));
		ret = ccmm_outfile_open(&of, path);
		if (!ret) {
			ret = ccmm_vmstat_write(run->m, of.fp);
			if (ret)
				ccmm_outfile_abort(&of);
			else
				ret = ccmm_outfile_commit(&of);
		}
		if (ret)
			ext_error(run, ret, "%.500s: cannot write vmstat: %s", path, strerror(-ret));
	}
	if (o->sysfs[0]) {
		struct ccmm_error err;

		ext_path(run, o->sysfs, path, sizeof(path));
		ret = sysfs_dump(run, path, &err);
		if (ret)
			ext_error(run, ret, "%.500s%s", "", err.msg);
	}
}

/* Memory tiers: targets, vmstat and when things first happened, when the run used them. */
static void tier_ext_text(struct ccmm_run *run, FILE *out)
{
	const struct tier_ext_opts *o = ccmm_job_ext_opts(run->job, "vmstat");
	static const enum ccmm_vmstat timeline[] = {
		CCMM_VM_allocstall_movable, CCMM_VM_pgscan_kswapd,   CCMM_VM_pgdemote_kswapd,   CCMM_VM_pgdemote_direct,
		CCMM_VM_pswpout,	    CCMM_VM_pgpromote_success, CCMM_VM_oom_kill,
	};
	struct ccmm_machine *m = run->m;
	struct ccmm_demotion d;
	int col = 0;

	if (!ccmm_vmstat_get(m, CCMM_VM_pgfault))
		return;
	ccmm_tier_demotion(m, &d);
	fprintf(out, "memory tiers (%s policy, %s order, %s, swap %" PRIu64 " pages, min_free_kbytes %" PRIu64 "):\n",
		policies[o->policy], order_of(o) == CCMM_DEMOTE_PASSES ? "2021 passes" : "tiers",
		o->policy == CCMM_DEMOTION_RECLAIM_MIGRATE
			? (o->node_reclaim_mode & CCMM_RECLAIM_MIGRATE ? "node_reclaim_mode 8: demotion on" : "demotion off")
			: (o->demotion_enabled ? "demotion_enabled" : "demotion off"),
		o->swap >> CCMM_PAGE_SHIFT, ccmm_tier_min_free_kbytes(m));
	for (unsigned n = 0; n < m->plat->nr_nodes; n++) {
		struct ccmm_watermarks w;

		ccmm_node_watermarks(m, (int)n, &w);
		fprintf(out, "  node %u: abstract distance %d (memory_tier%d%s)%s, watermarks %" PRIu64 "/%" PRIu64 "/%" PRIu64
			     " pages, demotes to",
			n, d.adist[n], d.adist[n] >> CCMM_MEMTIER_CHUNK_BITS, ccmm_node_is_toptier(&d, (int)n) ? ", top tier" : "",
			d.online[n] ? "" : ", offline", w.min, w.low, w.high);
		if (!d.preferred[n])
			fprintf(out, " nothing (terminal)");
		for (unsigned t = 0; t < m->plat->nr_nodes; t++)
			if (d.preferred[n] & (1u << t))
				fprintf(out, " %u", t);
		fputc('\n', out);
	}
	for (int i = 0; i < CCMM_VM_NR; i++) {
		uint64_t v = ccmm_vmstat_get(m, (enum ccmm_vmstat)i);

		if (!v || ccmm_vmstat_is_state((enum ccmm_vmstat)i))
			continue;
		fprintf(out, "%s%s %" PRIu64, col ? ", " : "  vmstat: ", ccmm_vmstat_names[i], v);
		if (++col == 6) {
			fputc('\n', out);
			col = 0;
		}
	}
	if (col)
		fputc('\n', out);
	col = 0;
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(timeline); i++) {
		uint64_t t = ccmm_vmstat_first_ns(m, timeline[i]);

		if (t == UINT64_MAX)
			continue;
		fprintf(out, "%s%s %.3f ms", col++ ? ", " : "  first moved: ", ccmm_vmstat_names[timeline[i]], (double)t / 1e6);
	}
	if (col)
		fputc('\n', out);
	fputc('\n', out);
}

/* Every vmstat item, by the kernel's name. */
static void *tier_ext_json(struct ccmm_run *run)
{
	json_t *vm = json_object();

	for (int i = 0; i < CCMM_VM_NR; i++)
		json_object_set_new(vm, ccmm_vmstat_names[i], json_integer((json_int_t)ccmm_vmstat_get(run->m, (enum ccmm_vmstat)i)));
	return vm;
}

/* Time series: pages in use per node, demotions from and promotions to each node, pages swapped out. */
static void tier_ext_sample(struct ccmm_run *run, const void *opts, struct ccmm_series *s)
{
	struct ccmm_machine *m = run->m;
	bool tasks = false;

	(void)opts;
	for (size_t i = 0; i < run->job->nr_actors && !tasks; i++)
		tasks = run->job->actors[i]->kind == &ccmm_kind_tier_task;
	if (!tasks)
		return;
	for (unsigned n = 0; n < m->plat->nr_nodes; n++) {
		char label[16];
		uint64_t demoted, promoted;

		snprintf(label, sizeof(label), "node %u", n);
		ccmm_tier_node_stats(m, (int)n, &demoted, &promoted);
		ccmm_series_put(s, "tier.pages", label, "pages",
				(double)(ccmm_platform_ram(m->plat, (int)n) / CCMM_PAGE_SIZE - ccmm_node_free_pages(m, (int)n)));
		ccmm_series_count(s, "tier.demoted", label, "pages", demoted, CCMM_MARK_RECLAIM);
		ccmm_series_count(s, "tier.promoted", label, "pages", promoted, CCMM_MARK_NONE);
	}
	ccmm_series_count(s, "tier.pswpout", "", "pages", ccmm_vmstat_get(m, CCMM_VM_pswpout), CCMM_MARK_RECLAIM);
}

/* The JSON report keeps the counters under "vmstat", as before the extension existed. */
static const struct ccmm_run_ext tier_ext = {
	.sample = tier_ext_sample,
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

/* A sweep's default figures: where reclaim put the pages. */
static const char *const tier_metrics[] = {
	"vmstat.pgdemote_kswapd", "vmstat.pgdemote_direct", "vmstat.pgpromote_success", "vmstat.pswpout",
	"vmstat.pswpin", "jobs.*.counters.slow_tier_hits", NULL,
};

const struct ccmm_kind_set ccmm_kinds_tier = { "tier", tier_kinds, &tier_ext, tier_metrics };
