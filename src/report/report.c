// SPDX-License-Identifier: MIT
/* Text and JSON reports of a run. */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccmm_config.h"
#include "boot/boot.h"
#include "cc/cc.h"
#include "scenario/scenario.h"

#define TEXT_EVENTS_PER_ACTOR 20
#define HISTORY_MAX 8

static const char *actor_name(struct ccmm_run *run, int actor)
{
	if (actor >= 0 && (size_t)actor < run->job->nr_actors)
		return run->job->actors[actor]->name;
	return "(no actor)";
}

static void history_text(struct ccmm_run *run, const struct ccmm_event *e, FILE *out)
{
	struct ccmm_hist_rec h[HISTORY_MAX];
	size_t n = ccmm_cc_history(run->m, e->hist, h, HISTORY_MAX);
	char t[32];

	if (!n)
		return;
	fprintf(out, "        history (newest first):");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s %s %s->%s by [%s] at %s", i ? ";" : "", ccmm_conv_op_name((enum ccmm_conv_op)h[i].op),
			ccmm_page_state_name((enum ccmm_page_state)h[i].from), ccmm_page_state_name((enum ccmm_page_state)h[i].to),
			actor_name(run, h[i].actor), ccmm_format_ns(h[i].time_ns, t, sizeof(t)));
	fputc('\n', out);
}

static void event_text(struct ccmm_run *run, const struct ccmm_event *e, FILE *out)
{
	char t[32], pte[160];

	fprintf(out, "    #%" PRIu64 " %s%s at %s", e->seq, e->rule->name, ccmm_run_event_expected(run, e) ? " (expected)" : " (UNEXPECTED)",
		ccmm_format_ns(e->time_ns, t, sizeof(t)));
	if (e->op[0])
		fprintf(out, ", op %s", e->op);
	if (e->where.line)
		fprintf(out, " (%s:%d)", e->where.file, e->where.line);
	fprintf(out, "\n      %s\n", e->msg);
	fprintf(out, "      rule: %s%s%s%s\n", e->rule->summary, e->rule->seed[0] ? " [seed " : "", e->rule->seed,
		e->rule->seed[0] ? "]" : "");
	if (e->has_access && e->who != CCMM_INIT_DEVICE && e->level) {
		ccmm_pte_format(run->m, e->pte, e->level, pte, sizeof(pte));
		fprintf(out, "      accessor: %s through %s, pte %s%s\n", ccmm_initiator_name(e->who), e->pgt, pte,
			e->stale ? " (stale TLB entry)" : "");
	}
	if (e->has_page)
		fprintf(out, "      page: pa 0x%" PRIx64 " (%s), %s, owner %u, mappings wb/wc/uc %u/%u/%u (host %u, io %u)%s%s\n",
			e->pa, ccmm_range_kind_name(e->kind), ccmm_page_state_name((enum ccmm_page_state)e->page.state),
			e->page.owner, e->page.map[0], e->page.map[1], e->page.map[2], e->page.map_host, e->page.map_io,
			e->page.flags & CCMM_PG_POISONED ? ", poisoned" : "", e->page.flags & CCMM_PG_RMP_2M ? ", 2M RMP entry" : "");
	history_text(run, e, out);
}

static void costs_text(const struct ccmm_ctx *c, FILE *out)
{
	char t[32], u[32];
	bool any = false;

	for (unsigned i = 0; i < ccmm_cost_nr(); i++) {
		if (!c->cost_ns[i])
			continue;
		if (!any)
			fprintf(out, "  modeled time by cost:\n");
		any = true;
		if (i == CCMM_COST_copy_mbps)
			fprintf(out, "    %-20s %12s for %" PRIu64 " bytes\n", "copies", ccmm_format_ns(c->cost_ns[i], t, sizeof(t)),
				c->cost_n[i]);
		else
			fprintf(out, "    %-20s %12s  (%" PRIu64 " x %s)\n", ccmm_cost_at(i, NULL)->name,
				ccmm_format_ns(c->cost_ns[i], t, sizeof(t)), c->cost_n[i],
				ccmm_format_ns(c->cost_ns[i] / c->cost_n[i], u, sizeof(u)));
	}
}

static void counters_text(const struct ccmm_ctx *c, FILE *out)
{
	int col = 0;

	for (unsigned i = 0; i < ccmm_counter_nr(); i++) {
		if (!c->ctr[i])
			continue;
		fprintf(out, "%s%s=%" PRIu64, col ? ", " : "  counters: ", ccmm_counter_at(i, NULL)->name, c->ctr[i]);
		if (++col == 5) {
			fputc('\n', out);
			col = 0;
		}
	}
	if (col)
		fputc('\n', out);
}

#define MAX_STATS 512

/* Addresses read better in hex. */
static bool stat_is_address(const char *name)
{
	size_t n = strlen(name);

	return (n >= 4 && !strcmp(name + n - 4, "base")) || (n >= 3 && (!strcmp(name + n - 3, "_lo") || !strcmp(name + n - 3, "_hi")));
}

/* Subsystems' machine-wide figures (ccmm_machine_stats), a line per group. */
static void stats_text(struct ccmm_run *run, FILE *out)
{
	struct ccmm_stat *st = calloc(MAX_STATS, sizeof(*st));
	size_t n = st ? ccmm_machine_stats(run->m, st, MAX_STATS) : 0;

	if (n)
		fprintf(out, "subsystems:\n");
	for (size_t i = 0; i < n; i++) {
		bool first = !i || strcmp(st[i].group, st[i - 1].group);

		if (first)
			fprintf(out, "%s  %s:", i ? "\n" : "", st[i].group);
		if (st[i].text)
			fprintf(out, "%s %s=%s", first ? "" : ",", st[i].name, st[i].text);
		else if (stat_is_address(st[i].name))
			fprintf(out, "%s %s=0x%" PRIx64, first ? "" : ",", st[i].name, st[i].value);
		else
			fprintf(out, "%s %s=%" PRIu64, first ? "" : ",", st[i].name, st[i].value);
	}
	if (n)
		fprintf(out, "\n\n");
	free(st);
}

static json_t *stats_json(struct ccmm_run *run)
{
	struct ccmm_stat *st = calloc(MAX_STATS, sizeof(*st));
	size_t n = st ? ccmm_machine_stats(run->m, st, MAX_STATS) : 0;
	json_t *j = json_object();

	for (size_t i = 0; i < n; i++) {
		json_t *g = json_object_get(j, st[i].group);

		if (!g) {
			g = json_object();
			json_object_set_new(j, st[i].group, g);
		}
		json_object_set_new(g, st[i].name, st[i].text ? json_string(st[i].text) : json_integer((json_int_t)st[i].value));
	}
	free(st);
	return j;
}

/* ---- lockstat -------------------------------------------------------------------- */

#define MAX_CLASSES 64

/* Every class summed over the entities (lock classes first, then waits), in order of appearance. */
static size_t lockstat_classes(struct ccmm_run *run, struct ccmm_lock_stat *out, size_t max)
{
	struct ccmm_run_lockstat l;
	size_t n = 0;

	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; ccmm_run_lockstat(run, i, &l); i++) {
			size_t k;

			if (l.st.is_wait != (pass == 1))
				continue;
			for (k = 0; k < n; k++)
				if (out[k].is_wait == l.st.is_wait && !strcmp(out[k].name, l.st.name))
					break;
			if (k == n) {
				if (n == max)
					continue;
				memset(&out[n], 0, sizeof(out[n]));
				out[n].name = l.st.name;
				out[n].is_wait = l.st.is_wait;
				n++;
			}
			out[k].acquisitions += l.st.acquisitions;
			out[k].contentions += l.st.contentions;
			out[k].wait_total_ns += l.st.wait_total_ns;
			out[k].hold_total_ns += l.st.hold_total_ns;
			if (l.st.wait_max_ns > out[k].wait_max_ns)
				out[k].wait_max_ns = l.st.wait_max_ns;
			if (l.st.hold_max_ns > out[k].hold_max_ns)
				out[k].hold_max_ns = l.st.hold_max_ns;
		}
	}
	return n;
}

static void lockstat_line(FILE *out, const char *cls, const char *who, const struct ccmm_lock_stat *st)
{
	char wt[32], wm[32], ht[32], hm[32];

	ccmm_format_ns(st->wait_total_ns, wt, sizeof(wt));
	ccmm_format_ns(st->wait_max_ns, wm, sizeof(wm));
	if (st->is_wait) {
		fprintf(out, "  %-24.24s %-14.14s %8" PRIu64 "  (waits) %10s %10s\n", cls, who, st->acquisitions, wt, wm);
		return;
	}
	ccmm_format_ns(st->hold_total_ns, ht, sizeof(ht));
	ccmm_format_ns(st->hold_max_ns, hm, sizeof(hm));
	fprintf(out, "  %-24.24s %-14.14s %8" PRIu64 " %8" PRIu64 " %10s %10s %10s %10s\n", cls, who, st->acquisitions,
		st->contentions, wt, wm, ht, hm);
}

/*
 * lockstat in modeled time, as /proc/lock_stat: per lock class summed, then
 * per entity; then the waits (fences, reclaim, events) the same way.
 */
static void lockstat_text(struct ccmm_run *run, FILE *out)
{
	struct ccmm_lock_stat cls[MAX_CLASSES];
	size_t n = lockstat_classes(run, cls, MAX_CLASSES);
	struct ccmm_run_lockstat l;

	if (!n)
		return;
	fprintf(out, "lockstat (modeled time; locks, then waits):\n  %-24s %-14s %8s %8s %10s %10s %10s %10s\n", "class",
		"entity", "acquired", "contend", "wait-total", "wait-max", "hold-total", "hold-max");
	for (size_t k = 0; k < n; k++) {
		lockstat_line(out, cls[k].name, "(all)", &cls[k]);
		for (size_t i = 0; ccmm_run_lockstat(run, i, &l); i++) {
			char who[64];

			if (l.st.is_wait != cls[k].is_wait || strcmp(l.st.name, cls[k].name))
				continue;
			snprintf(who, sizeof(who), l.actor >= 0 ? "[%s]" : "%s", l.entity);
			lockstat_line(out, "", who, &l.st);
		}
	}
	fputc('\n', out);
}

static json_t *lockstat_json_one(const struct ccmm_lock_stat *st)
{
	json_t *j = json_object();

	json_object_set_new(j, "class", json_string(st->name));
	json_object_set_new(j, "kind", json_string(st->is_wait ? "wait" : "lock"));
	json_object_set_new(j, st->is_wait ? "waits" : "acquisitions", json_integer((json_int_t)st->acquisitions));
	if (!st->is_wait)
		json_object_set_new(j, "contentions", json_integer((json_int_t)st->contentions));
	json_object_set_new(j, "waittime_total_ns", json_integer((json_int_t)st->wait_total_ns));
	json_object_set_new(j, "waittime_max_ns", json_integer((json_int_t)st->wait_max_ns));
	if (!st->is_wait) {
		json_object_set_new(j, "holdtime_total_ns", json_integer((json_int_t)st->hold_total_ns));
		json_object_set_new(j, "holdtime_max_ns", json_integer((json_int_t)st->hold_max_ns));
	}
	return j;
}

/* Per class, summed, each with its entities. */
static json_t *lockstat_json(struct ccmm_run *run)
{
	struct ccmm_lock_stat cls[MAX_CLASSES];
	size_t n = lockstat_classes(run, cls, MAX_CLASSES);
	struct ccmm_run_lockstat l;
	json_t *arr = json_array();

	for (size_t k = 0; k < n; k++) {
		json_t *j = lockstat_json_one(&cls[k]), *ents = json_array();

		for (size_t i = 0; ccmm_run_lockstat(run, i, &l); i++) {
			json_t *e;

			if (l.st.is_wait != cls[k].is_wait || strcmp(l.st.name, cls[k].name))
				continue;
			e = lockstat_json_one(&l.st);
			json_object_del(e, "class");
			json_object_del(e, "kind");
			json_object_set_new(e, "entity", json_string(l.entity));
			json_object_set_new(e, "actor", l.actor >= 0 ? json_true() : json_false());
			json_array_append_new(ents, e);
		}
		json_object_set_new(j, "entities", ents);
		json_array_append_new(arr, j);
	}
	return arr;
}

/* One actor's classes. */
static json_t *actor_lockstat_json(struct ccmm_run *run, int actor)
{
	struct ccmm_run_lockstat l;
	json_t *arr = json_array();

	for (size_t i = 0; ccmm_run_lockstat(run, i, &l); i++)
		if (l.actor == actor)
			json_array_append_new(arr, lockstat_json_one(&l.st));
	return arr;
}

int ccmm_report_text(struct ccmm_run *run, FILE *out, unsigned flags)
{
	struct ccmm_job *job = run->job;
	const struct ccmm_platform *p = run->m->plat;
	struct ccmm_run_summary s;
	size_t nev = ccmm_events_count(run->m);
	char t[32], sz[32];

	ccmm_run_summarize(run, &s);
	if (!(flags & CCMM_REPORT_QUIET)) {
		fprintf(out, "ccmm %s: %s\n", CCMM_VERSION, job->path);
		fprintf(out, "platform: %s (%s), mode %s, %u CPUs, %u node(s), %s RAM, %zu device(s)\n", p->name, p->source,
			ccmm_cc_mode_name(p->mode), p->cpus, p->nr_nodes, ccmm_format_size(ccmm_platform_ram(p, -1), sz, sizeof(sz)),
			p->nr_devices);
		fprintf(out, "seed %" PRIu64 ", %s mode; modeled time %s (ccmm's own run time %.3fs)\n\n", job->g.seed,
			job->g.mode == CCMM_RUN_THREADS ? "threads" : "sim", ccmm_format_ns(run->end_ns, t, sizeof(t)), run->wall_s);

		for (size_t ai = 0; ai < job->nr_actors; ai++) {
			struct ccmm_actor *a = job->actors[ai];
			size_t shown = 0, hidden = 0;
			struct ccmm_expect_result er;

			fprintf(out, "[%s] %s: %" PRIu64 " op(s)%s, modeled %s, %" PRIu64 " op error(s)\n", a->name, a->kind->name,
				a->ops_done, a->loops > 1 ? " over loops" : "", ccmm_format_ns(a->ctx.now_ns, t, sizeof(t)),
				a->op_errors);
			if (a->exited)
				fprintf(out, "  exited with status %d: %s\n", a->exit_status, a->exit_why);
			costs_text(&a->ctx, out);
			counters_text(&a->ctx, out);
			if (a->kind->report_text)
				a->kind->report_text(a, out);
			for (size_t i = 0; i < nev; i++) {
				struct ccmm_event e;

				if (ccmm_event_get(run->m, i, &e) || e.actor != a->index)
					continue;
				if (!shown++)
					fprintf(out, "  violations:\n");
				if (!(flags & CCMM_REPORT_VERBOSE) && shown > TEXT_EVENTS_PER_ACTOR) {
					hidden++;
					continue;
				}
				event_text(run, &e, out);
			}
			if (hidden)
				fprintf(out, "    ... and %zu more (--verbose shows them)\n", hidden);
			for (size_t i = 0; ccmm_run_expectation(run, i, &er); i++) {
				if (er.actor != a->index)
					continue;
				fprintf(out, "  expect %s", er.e->rule->name);
				if (er.e->count >= 0)
					fprintf(out, ":%ld", er.e->count);
				fprintf(out, " -> seen %zu: %s\n", er.seen, er.met ? "ok" : "NOT MET");
			}
			for (size_t i = 0; ccmm_run_op_error(run, i); i++) {
				const struct ccmm_op_error *oe = ccmm_run_op_error(run, i);

				if (oe->actor != a->index)
					continue;
				fprintf(out, "  op error: %s:%d: %s returned %ld (%s), expected %ld%s%s\n", oe->where.file,
					oe->where.line, oe->verb, oe->got, oe->got ? strerror((int)-oe->got) : "success", oe->want,
					oe->note[0] ? ": " : "", oe->note);
			}
			fputc('\n', out);
		}
		stats_text(run, out);
		lockstat_text(run, out);
		/* violations of no actor, and [global] expectations */
		{
			bool head = false;
			struct ccmm_expect_result er;

			for (size_t i = 0; i < nev; i++) {
				struct ccmm_event e;

				if (ccmm_event_get(run->m, i, &e) || e.actor >= 0)
					continue;
				if (!head)
					fprintf(out, "[global]\n  violations:\n");
				head = true;
				event_text(run, &e, out);
			}
			for (size_t i = 0; ccmm_run_expectation(run, i, &er); i++) {
				if (er.actor >= 0)
					continue;
				if (!head)
					fprintf(out, "[global]\n");
				head = true;
				fprintf(out, "  expect %s -> seen %zu: %s\n", er.e->rule->name, er.seen, er.met ? "ok" : "NOT MET");
			}
			if (head)
				fputc('\n', out);
		}
		for (size_t i = 0; ccmm_run_ext_at(i); i++)
			if (ccmm_run_ext_at(i)->report_text)
				ccmm_run_ext_at(i)->report_text(run, out);
		if (ccmm_checker(run->m)->dropped)
			fprintf(out, "note: %" PRIu64 " events beyond max_events were counted but not kept\n", ccmm_checker(run->m)->dropped);
	}
	if (run->error[0])
		fprintf(out, "run error: %s\n", run->error);
	fprintf(out, "result: %zu violation(s): %zu expected, %zu unexpected; %zu expectation(s) not met; %zu op error(s) -> %s\n",
		s.violations, s.expected, s.unexpected, s.missing, s.op_errors,
		s.status == 0 ? "as expected" : s.status == 1 ? "NOT as expected" : "run error");
	return ferror(out) ? -EIO : 0;
}

/* ---- JSON ---------------------------------------------------------------------- */

static json_t *page_json(const struct ccmm_event *e)
{
	json_t *j = json_object();

	json_object_set_new(j, "pa", json_integer((json_int_t)e->pa));
	json_object_set_new(j, "range", json_string(ccmm_range_kind_name(e->kind)));
	json_object_set_new(j, "state", json_string(ccmm_page_state_name((enum ccmm_page_state)e->page.state)));
	json_object_set_new(j, "owner", json_integer(e->page.owner));
	json_object_set_new(j, "map_wb", json_integer(e->page.map[0]));
	json_object_set_new(j, "map_wc", json_integer(e->page.map[1]));
	json_object_set_new(j, "map_uc", json_integer(e->page.map[2]));
	json_object_set_new(j, "map_host", json_integer(e->page.map_host));
	json_object_set_new(j, "map_io", json_integer(e->page.map_io));
	json_object_set_new(j, "poisoned", json_boolean(e->page.flags & CCMM_PG_POISONED));
	json_object_set_new(j, "rmp_2m", json_boolean(e->page.flags & CCMM_PG_RMP_2M));
	return j;
}

static json_t *event_json(struct ccmm_run *run, const struct ccmm_event *e)
{
	json_t *j = json_object(), *hist = json_array();
	struct ccmm_hist_rec h[HISTORY_MAX];
	size_t n;

	json_object_set_new(j, "seq", json_integer((json_int_t)e->seq));
	json_object_set_new(j, "time_ns", json_integer((json_int_t)e->time_ns));
	json_object_set_new(j, "rule", json_string(e->rule->name));
	json_object_set_new(j, "seed", json_string(e->rule->seed));
	json_object_set_new(j, "summary", json_string(e->rule->summary));
	json_object_set_new(j, "expected", json_boolean(ccmm_run_event_expected(run, e)));
	json_object_set_new(j, "outcome", json_string(ccmm_outcome_name(e->outcome)));
	json_object_set_new(j, "op", json_string(e->op));
	if (e->where.line) {
		char w[160];

		snprintf(w, sizeof(w), "%s:%d", e->where.file, e->where.line);
		json_object_set_new(j, "job_line", json_string(w));
	}
	json_object_set_new(j, "message", json_string(e->msg));
	if (e->has_access) {
		json_t *acc = json_object();

		json_object_set_new(acc, "who", json_string(ccmm_initiator_name(e->who)));
		json_object_set_new(acc, "rw", json_string(e->rw == CCMM_READ ? "read" : "write"));
		json_object_set_new(acc, "addr", json_integer((json_int_t)e->addr));
		json_object_set_new(acc, "len", json_integer((json_int_t)e->len));
		if (e->pgt[0])
			json_object_set_new(acc, "page_table", json_string(e->pgt));
		if (e->device >= 0)
			json_object_set_new(acc, "device", json_string(run->m->plat->devices[e->device].name));
		if (e->level) {
			char pte[160];

			ccmm_pte_format(run->m, e->pte, e->level, pte, sizeof(pte));
			json_object_set_new(acc, "pte", json_string(pte));
			json_object_set_new(acc, "stale_tlb", json_boolean(e->stale));
		}
		json_object_set_new(j, "access", acc);
	}
	if (e->has_page)
		json_object_set_new(j, "page", page_json(e));
	n = ccmm_cc_history(run->m, e->hist, h, HISTORY_MAX);
	for (size_t i = 0; i < n; i++) {
		json_t *r = json_object();

		json_object_set_new(r, "op", json_string(ccmm_conv_op_name((enum ccmm_conv_op)h[i].op)));
		json_object_set_new(r, "from", json_string(ccmm_page_state_name((enum ccmm_page_state)h[i].from)));
		json_object_set_new(r, "to", json_string(ccmm_page_state_name((enum ccmm_page_state)h[i].to)));
		json_object_set_new(r, "actor", json_string(actor_name(run, h[i].actor)));
		json_object_set_new(r, "time_ns", json_integer((json_int_t)h[i].time_ns));
		json_array_append_new(hist, r);
	}
	json_object_set_new(j, "history", hist);
	return j;
}

static json_t *ctx_json(const struct ccmm_ctx *c)
{
	json_t *costs = json_object(), *ctr = json_object(), *j = json_object();

	for (unsigned i = 0; i < ccmm_cost_nr(); i++) {
		json_t *x;

		if (!c->cost_ns[i])
			continue;
		x = json_object();
		json_object_set_new(x, i == CCMM_COST_copy_mbps ? "bytes" : "n", json_integer((json_int_t)c->cost_n[i]));
		json_object_set_new(x, "ns", json_integer((json_int_t)c->cost_ns[i]));
		json_object_set_new(costs, ccmm_cost_at(i, NULL)->name, x);
	}
	for (unsigned i = 0; i < ccmm_counter_nr(); i++)
		json_object_set_new(ctr, ccmm_counter_at(i, NULL)->name, json_integer((json_int_t)c->ctr[i]));
	json_object_set_new(j, "modeled_time_ns", json_integer((json_int_t)c->now_ns));
	json_object_set_new(j, "costs", costs);
	json_object_set_new(j, "counters", ctr);
	return j;
}

static json_t *platform_json(const struct ccmm_platform *p)
{
	json_t *j = json_object(), *nodes = json_array(), *devs = json_array();

	json_object_set_new(j, "name", json_string(p->name));
	json_object_set_new(j, "source", json_string(p->source));
	json_object_set_new(j, "mode", json_string(ccmm_cc_mode_name(p->mode)));
	json_object_set_new(j, "cpus", json_integer(p->cpus));
	json_object_set_new(j, "phys_bits", json_integer(p->phys_bits));
	for (unsigned n = 0; n < p->nr_nodes; n++) {
		json_t *jn = json_object();

		json_object_set_new(jn, "node", json_integer(n));
		json_object_set_new(jn, "ram_bytes", json_integer((json_int_t)ccmm_platform_ram(p, (int)n)));
		json_array_append_new(nodes, jn);
	}
	json_object_set_new(j, "nodes", nodes);
	for (size_t d = 0; d < p->nr_devices; d++)
		json_array_append_new(devs, json_string(p->devices[d].name));
	json_object_set_new(j, "devices", devs);
	return j;
}

int ccmm_report_json(struct ccmm_run *run, FILE *out)
{
	struct ccmm_job *job = run->job;
	struct ccmm_run_summary s;
	json_t *root = json_object(), *jobs = json_array(), *gopt = json_object(), *res = json_object();
	json_t *unattributed = json_array();
	size_t nev = ccmm_events_count(run->m);
	struct timespec now;
	char ver[64], timestr[64];
	struct tm tm;
	int ret;

	ccmm_run_summarize(run, &s);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(timestr, sizeof(timestr), "%a %b %e %H:%M:%S %Y", &tm);
	snprintf(ver, sizeof(ver), "ccmm-%s", CCMM_VERSION);
	json_object_set_new(root, "ccmm version", json_string(ver));
	json_object_set_new(root, "timestamp", json_integer((json_int_t)now.tv_sec));
	json_object_set_new(root, "timestamp_ms", json_integer((json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000));
	json_object_set_new(root, "time", json_string(timestr));
	json_object_set_new(root, "job file", json_string(job->path));
	json_object_set_new(gopt, "platform", json_string(job->g.platform));
	json_object_set_new(gopt, "seed", json_integer((json_int_t)job->g.seed));
	json_object_set_new(gopt, "mode", json_string(job->g.mode == CCMM_RUN_THREADS ? "threads" : "sim"));
	json_object_set_new(root, "global options", gopt);
	json_object_set_new(root, "platform", platform_json(run->m->plat));
	json_object_set_new(root, "modeled_time_ns", json_integer((json_int_t)run->end_ns));
	json_object_set_new(root, "wall_time_s", json_real(run->wall_s));

	for (size_t ai = 0; ai < job->nr_actors; ai++) {
		struct ccmm_actor *a = job->actors[ai];
		json_t *ja = ctx_json(&a->ctx), *viol = json_array(), *exp = json_array(), *oes = json_array(),
		       *jopts = json_object();
		struct ccmm_expect_result er;

		json_object_set_new(ja, "jobname", json_string(a->name));
		json_object_set_new(ja, "groupid", json_integer(0));
		json_object_set_new(ja, "actor", json_string(a->kind->name));
		json_object_set_new(ja, "error", json_integer(a->op_errors ? 1 : 0));
		json_object_set_new(jopts, "loops", json_integer((json_int_t)a->loops));
		json_object_set_new(ja, "job options", jopts);
		json_object_set_new(ja, "ops", json_integer((json_int_t)a->ops_done));
		if (a->exited) {
			json_object_set_new(ja, "exit_status", json_integer(a->exit_status));
			json_object_set_new(ja, "exit_why", json_string(a->exit_why));
		}
		if (a->kind->report_json)
			a->kind->report_json(a, ja);
		for (size_t i = 0; i < nev; i++) {
			struct ccmm_event e;

			if (!ccmm_event_get(run->m, i, &e) && e.actor == a->index)
				json_array_append_new(viol, event_json(run, &e));
		}
		json_object_set_new(ja, "violations", viol);
		for (size_t i = 0; ccmm_run_expectation(run, i, &er); i++) {
			json_t *x;

			if (er.actor != a->index)
				continue;
			x = json_object();
			json_object_set_new(x, "rule", json_string(er.e->rule->name));
			json_object_set_new(x, "count", er.e->count >= 0 ? json_integer(er.e->count) : json_null());
			json_object_set_new(x, "seen", json_integer((json_int_t)er.seen));
			json_object_set_new(x, "met", json_boolean(er.met));
			json_array_append_new(exp, x);
		}
		json_object_set_new(ja, "expectations", exp);
		for (size_t i = 0; ccmm_run_op_error(run, i); i++) {
			const struct ccmm_op_error *oe = ccmm_run_op_error(run, i);
			json_t *x;
			char w[160];

			if (oe->actor != a->index)
				continue;
			x = json_object();
			snprintf(w, sizeof(w), "%s:%d", oe->where.file, oe->where.line);
			json_object_set_new(x, "job_line", json_string(w));
			json_object_set_new(x, "op", json_string(oe->verb));
			json_object_set_new(x, "returned", json_integer(oe->got));
			json_object_set_new(x, "expected", json_integer(oe->want));
			if (oe->note[0])
				json_object_set_new(x, "note", json_string(oe->note));
			json_array_append_new(oes, x);
		}
		json_object_set_new(ja, "op_errors", oes);
		json_object_set_new(ja, "lockstat", actor_lockstat_json(run, (int)ai));
		json_array_append_new(jobs, ja);
	}
	json_object_set_new(root, "jobs", jobs);
	for (size_t i = 0; i < nev; i++) {
		struct ccmm_event e;

		if (!ccmm_event_get(run->m, i, &e) && e.actor < 0)
			json_array_append_new(unattributed, event_json(run, &e));
	}
	json_object_set_new(root, "violations_without_actor", unattributed);
	for (size_t i = 0; ccmm_run_ext_at(i); i++) {
		const struct ccmm_run_ext *x = ccmm_run_ext_at(i);
		json_t *jx = x->report_json ? x->report_json(run) : NULL;

		if (jx)
			json_object_set_new(root, x->name, jx);
	}
	json_object_set_new(root, "subsystems", stats_json(run));
	json_object_set_new(root, "lockstat", lockstat_json(run));
	json_object_set_new(res, "violations", json_integer((json_int_t)s.violations));
	json_object_set_new(res, "expected", json_integer((json_int_t)s.expected));
	json_object_set_new(res, "unexpected", json_integer((json_int_t)s.unexpected));
	json_object_set_new(res, "expectations_not_met", json_integer((json_int_t)s.missing));
	json_object_set_new(res, "op_errors", json_integer((json_int_t)s.op_errors));
	json_object_set_new(res, "events_dropped", json_integer((json_int_t)ccmm_checker(run->m)->dropped));
	json_object_set_new(res, "run_error", run->error[0] ? json_string(run->error) : json_null());
	json_object_set_new(res, "exit_status", json_integer(s.status));
	json_object_set_new(root, "result", res);
	ret = json_dumpf(root, out, JSON_INDENT(2)) ? -EIO : 0;
	fputc('\n', out);
	json_decref(root);
	return ret || ferror(out) ? -EIO : 0;
}
