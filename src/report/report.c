// SPDX-License-Identifier: MIT
/* Text and JSON reports of a run. */
#include "report/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ccmm_config.h"
#include "boot/boot.h"
#include "cc/cc.h"
#include "report/internal.h"
#include "scenario/scenario.h"

#define TEXT_EVENTS_PER_ACTOR 20
#define HISTORY_MAX 8

/* The seed threads (DESIGN.md): the specification the rules cite by number. */
static const struct {
	const char *id, *subject;
} seed_threads[] = {
	{ "000", "Have TTM support SEV encryption with coherent memory (drm/ttm, 2019)" },
	{ "001", "dma-buf, PFNs and private MMIO for VFIO / iommufd / KVM (2025)" },
	{ "002", "powerpc/pseries/iommu: Use dma_iommu_ops for Secure VM (2019)" },
	{ "003", "dma-buf: Add ioctl to query mmap coherency/cache info (2022)" },
	{ "004", "SGX EPC cgroups, TDX/SEV-SNP guest memory and memory tiering (Dave Hansen's mail, 2021-2024)" },
};

const char *ccmm_seed_thread_subject(const char *id)
{
	for (size_t i = 0; id && i < CCMM_ARRAY_SIZE(seed_threads); i++)
		if (!strcmp(seed_threads[i].id, id))
			return seed_threads[i].subject;
	return NULL;
}

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
	fprintf(out, "      rule: %s\n", e->rule->summary);
	if (e->rule->seed[0]) {
		const char *subject = ccmm_seed_thread_subject(e->rule->seed);

		fprintf(out, "      from: seed thread %s%s%s%s\n", e->rule->seed, subject ? " (\"" : "", subject ? subject : "",
			subject ? "\")" : "");
	}
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

/* A bandwidth (a *_mbps cost): charged by the byte, its count is bytes. */
static bool cost_is_bandwidth(unsigned i)
{
	const char *n = ccmm_cost_at(i, NULL)->name;
	size_t l = strlen(n);

	return l > 5 && !strcmp(n + l - 5, "_mbps");
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
		if (i == CCMM_COST_copy_mbps || cost_is_bandwidth(i))
			fprintf(out, "    %-20s %12s for %" PRIu64 " bytes\n",
				i == CCMM_COST_copy_mbps ? "copies" : ccmm_cost_at(i, NULL)->name,
				ccmm_format_ns(c->cost_ns[i], t, sizeof(t)), c->cost_n[i]);
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

/* The check= lines of actor @actor (-1: [global]) and what they found. */
static void checks_text(struct ccmm_run *run, int actor, FILE *out)
{
	for (size_t i = 0; i < run->job->nr_checks; i++) {
		const struct ccmm_check *c = &run->job->checks[i];
		const struct ccmm_check_result *r = run->checks_done ? &run->check_results[i] : NULL;

		if (c->actor != actor)
			continue;
		if (!r)
			fprintf(out, "  check %s -> not evaluated (out of memory)\n", c->text);
		else if (r->passed)
			fprintf(out, "  check %s -> got %s: ok\n", c->text, r->got_text);
		else
			fprintf(out, "  check %s -> FAILED: %s\n", c->text, strstr(r->msg, "failed: ") ? strstr(r->msg, "failed: ") + 8 : r->msg);
	}
}

int ccmm_report_text(struct ccmm_run *run, FILE *out, unsigned flags)
{
	struct ccmm_job *job = run->job;
	const struct ccmm_platform *p = run->m->plat;
	struct ccmm_run_summary s;
	size_t nev = ccmm_events_count(run->m);
	char t[32], sz[32];

	ccmm_report_checks(run); /* -ENOMEM: the checks stay unevaluated, and say so below */
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
			checks_text(run, a->index, out);
			for (size_t i = 0; ccmm_run_op_error(run, i); i++) {
				const struct ccmm_op_error *oe = ccmm_run_op_error(run, i);

				if (oe->actor != a->index)
					continue;
				if (oe->dependent) {
					fprintf(out, "  op error: %s:%d: %s: %s; [%s] stopped here\n", oe->where.file, oe->where.line,
						oe->verb, oe->note, a->name);
					continue;
				}
				fprintf(out, "  op error: %s:%d: %s returned %ld (%s), expected %ld%s%s\n", oe->where.file,
					oe->where.line, oe->verb, oe->got, oe->got ? strerror((int)-oe->got) : "success", oe->want,
					oe->note[0] ? ": " : "", oe->note);
			}
			fputc('\n', out);
		}
		stats_text(run, out);
		lockstat_text(run, out);
		_ccmm_attribution_text(run, out);
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
			for (size_t i = 0; i < job->nr_checks; i++) {
				if (job->checks[i].actor >= 0)
					continue;
				if (!head)
					fprintf(out, "[global]\n");
				head = true;
				break;
			}
			checks_text(run, -1, out);
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
	if (s.checks_failed)
		snprintf(sz, sizeof(sz), "; %u check(s) failed", (unsigned)(s.checks_failed % 1000000));
	else
		sz[0] = '\0';
	fprintf(out, "result: %zu violation(s): %zu expected, %zu unexpected; %zu expectation(s) not met; %zu op error(s)%s -> %s\n",
		s.violations, s.expected, s.unexpected, s.missing, s.op_errors, sz,
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
	if (e->rule->seed[0]) {
		const char *subject = ccmm_seed_thread_subject(e->rule->seed);

		json_object_set_new(j, "seed_thread", json_string(e->rule->seed));
		if (subject)
			json_object_set_new(j, "seed_thread_subject", json_string(subject));
	}
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
		json_object_set_new(x, cost_is_bandwidth(i) ? "bytes" : "n", json_integer((json_int_t)c->cost_n[i]));
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

/* An option's value in effect, read through its table entry from the block @base: JSON of its type. */
static json_t *option_value_json(const struct ccmm_option *o, const void *base)
{
	const char *field = (const char *)base + o->off;

	switch (o->type) {
	case CCMM_OPT_U64: {
		uint64_t v;

		memcpy(&v, field, sizeof(v));
		if (v == UINT64_MAX && o->def && !strcmp(o->def, "none"))
			return json_null(); /* "none": not set */
		return json_integer((json_int_t)v);
	}
	case CCMM_OPT_RANGE: {
		struct ccmm_range r;
		json_t *a = json_array();

		memcpy(&r, field, sizeof(r));
		json_array_append_new(a, json_integer((json_int_t)r.lo));
		json_array_append_new(a, json_integer((json_int_t)r.hi));
		return a;
	}
	case CCMM_OPT_BOOL: {
		bool b;

		memcpy(&b, field, sizeof(b));
		return json_boolean(b);
	}
	case CCMM_OPT_STR:
		return json_string(field);
	case CCMM_OPT_ENUM: {
		int i;
		size_t n = 0;

		memcpy(&i, field, sizeof(i));
		while (o->choices[n])
			n++;
		return i >= 0 && (size_t)i < n ? json_string(o->choices[i]) : json_integer(i);
	}
	}
	return json_null();
}

/* Every option of table @opts as it is in effect in @base, defaults included, into @obj. */
static void options_json(json_t *obj, const struct ccmm_option *opts, const void *base)
{
	for (const struct ccmm_option *o = opts; o && o->name; o++)
		json_object_set_new(obj, o->name, option_value_json(o, base));
}

/* An op as a job line would write it: the verb, then every argument given or defaulted as KEY=VALUE. */
static json_t *op_json(const struct ccmm_op *op)
{
	char line[512];
	size_t n = (size_t)snprintf(line, sizeof(line), "%s", op->verb->name);

	for (int i = 0; op->verb->args && op->verb->args[i].name && n < sizeof(line); i++)
		if (op->arg[i].str[0])
			n += (size_t)snprintf(line + n, sizeof(line) - n, " %s=%s", op->verb->args[i].name, op->arg[i].str);
	if (op->ret_set && n < sizeof(line))
		snprintf(line + n, sizeof(line) - n, " ret=%ld", op->ret);
	return json_string(line);
}

static const char *node_demote_text(int demote_to, char *buf, size_t len)
{
	if (demote_to == -2)
		return "computed";
	if (demote_to == -1)
		return "none";
	snprintf(buf, len, "%d", demote_to);
	return buf;
}

/*
 * The platform in effect, every key its file could have set (under the file's
 * names), laid out (bases filled in) and with every registered cost the
 * machine charges, [cost] lines applied.
 */
static json_t *platform_json(const struct ccmm_machine *m)
{
	static const char *const mem_kinds[] = { "dram", "pmem", "cxl", "hbm" };
	const struct ccmm_platform *p = m->plat;
	json_t *j = json_object(), *nodes = json_array(), *devs = json_array(), *ranges = json_array(),
	       *iommus = json_array(), *costs = json_object();
	const struct ccmm_cost_info *c;
	char buf[32];

	json_object_set_new(j, "name", json_string(p->name));
	json_object_set_new(j, "source", json_string(p->source));
	json_object_set_new(j, "mode", json_string(ccmm_cc_mode_name(p->mode)));
	json_object_set_new(j, "cpus", json_integer(p->cpus));
	json_object_set_new(j, "phys_bits", json_integer(p->phys_bits));
	json_object_set_new(j, "c_bit", json_integer(p->c_bit));
	json_object_set_new(j, "gpa_width", json_integer(p->gpa_width));
	json_object_set_new(j, "sme_coherent", json_boolean(p->sme_coherent));
	json_object_set_new(j, "mmio", json_string(p->mmio == CCMM_MMIO_PARAVIRT ? "paravirt" : "ve"));
	json_object_set_new(j, "swiotlb_size", json_integer((json_int_t)p->swiotlb_size));
	json_object_set_new(j, "swiotlb_areas", json_integer(p->swiotlb_areas));
	json_object_set_new(j, "swiotlb_base", json_integer((json_int_t)p->swiotlb_base));
	json_object_set_new(j, "swiotlb_force", json_boolean(p->swiotlb_force));
	for (unsigned n = 0; n < p->nr_nodes; n++) {
		const struct ccmm_node_desc *nd = &p->node[n];
		json_t *jn = json_object(), *dist = json_array();

		json_object_set_new(jn, "node", json_integer(n));
		json_object_set_new(jn, "mem", json_integer((json_int_t)nd->mem));
		json_object_set_new(jn, "ram_bytes", json_integer((json_int_t)ccmm_platform_ram(p, (int)n)));
		json_object_set_new(jn, "kind", json_string((unsigned)nd->kind < CCMM_ARRAY_SIZE(mem_kinds) ? mem_kinds[nd->kind] : "?"));
		json_object_set_new(jn, "cpus", json_boolean(nd->has_cpus));
		json_object_set_new(jn, "online", json_boolean(nd->online));
		json_object_set_new(jn, "latency_ns", json_integer((json_int_t)nd->read_latency_ns));
		json_object_set_new(jn, "bandwidth_mbps", json_integer((json_int_t)nd->bandwidth_mbps));
		json_object_set_new(jn, "demote_to", json_string(node_demote_text(nd->demote_to, buf, sizeof(buf))));
		for (unsigned k = 0; k < p->nr_nodes; k++)
			json_array_append_new(dist, json_integer(p->distance[n][k]));
		json_object_set_new(jn, "distance", dist);
		json_array_append_new(nodes, jn);
	}
	json_object_set_new(j, "nodes", nodes);
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];
		json_t *jr = json_object();

		json_object_set_new(jr, "name", json_string(r->name));
		json_object_set_new(jr, "kind", json_string(ccmm_range_kind_name(r->kind)));
		json_object_set_new(jr, "base", json_integer((json_int_t)r->base));
		json_object_set_new(jr, "size", json_integer((json_int_t)r->size));
		if (r->node >= 0)
			json_object_set_new(jr, "node", json_integer(r->node));
		if (r->kind == CCMM_RANGE_BAR) {
			json_object_set_new(jr, "device", json_string(p->devices[r->device].name));
			json_object_set_new(jr, "bar", json_integer(r->bar));
		}
		json_array_append_new(ranges, jr);
	}
	json_object_set_new(j, "ranges", ranges);
	for (size_t d = 0; d < p->nr_devices; d++) {
		const struct ccmm_device_desc *dd = &p->devices[d];
		json_t *jd = json_object(), *bars = json_array();
		char id[16];

		snprintf(id, sizeof(id), "%04x:%04x", dd->vendor, dd->device_id);
		json_object_set_new(jd, "name", json_string(dd->name));
		json_object_set_new(jd, "class", json_string(ccmm_dev_class_names[dd->cls]));
		json_object_set_new(jd, "pci_id", json_string(id));
		json_object_set_new(jd, "dma_mask", json_integer(dd->dma_mask_bits));
		json_object_set_new(jd, "coherent_mask", json_integer(dd->coherent_mask_bits));
		json_object_set_new(jd, "iommu", dd->iommu >= 0 ? json_string(p->iommus[dd->iommu].name) : json_null());
		json_object_set_new(jd, "node", dd->node >= 0 ? json_integer(dd->node) : json_null());
		json_object_set_new(jd, "ats", json_boolean(dd->ats));
		json_object_set_new(jd, "p2p_group", dd->p2p_group >= 0 ? json_integer(dd->p2p_group) : json_null());
		json_object_set_new(jd, "tdisp", json_boolean(dd->tdisp));
		json_object_set_new(jd, "capacity", json_integer((json_int_t)dd->capacity));
		json_object_set_new(jd, "min_align_mask", json_integer(dd->min_align_mask));
		for (unsigned b = 0; b < dd->nr_bars; b++) {
			json_t *jb = json_object();

			json_object_set_new(jb, "bar", json_integer(b));
			json_object_set_new(jb, "base", json_integer((json_int_t)dd->bar[b].base));
			json_object_set_new(jb, "size", json_integer((json_int_t)dd->bar[b].size));
			json_object_set_new(jb, "pref", json_boolean(dd->bar[b].prefetch));
			json_object_set_new(jb, "64bit", json_boolean(dd->bar[b].is64));
			json_array_append_new(bars, jb);
		}
		json_object_set_new(jd, "bars", bars);
		json_array_append_new(devs, jd);
	}
	json_object_set_new(j, "devices", devs);
	for (size_t i = 0; i < p->nr_iommus; i++) {
		const struct ccmm_iommu_desc *io = &p->iommus[i];
		json_t *ji = json_object();

		json_object_set_new(ji, "name", json_string(io->name));
		json_object_set_new(ji, "kind", json_string(io->kind == CCMM_IOMMU_PSERIES_TCE ? "pseries-tce" : "generic"));
		json_object_set_new(ji, "page_shift", json_integer(io->page_shift));
		json_object_set_new(ji, "dma32_window", json_integer((json_int_t)io->dma32_window));
		json_object_set_new(ji, "ddw", json_boolean(io->ddw));
		json_object_set_new(ji, "ddw_size", json_integer((json_int_t)io->ddw_size));
		json_object_set_new(ji, "ddw_page_shift", json_integer(io->ddw_page_shift));
		json_object_set_new(ji, "ddw_align", json_integer((json_int_t)io->ddw_align));
		json_array_append_new(iommus, ji);
	}
	json_object_set_new(j, "iommus", iommus);
	for (unsigned i = 0; (c = ccmm_cost_at(i, NULL)); i++)
		json_object_set_new(costs, c->name, json_integer((json_int_t)m->cost[i]));
	json_object_set_new(j, "cost", costs);
	return j;
}

/* expect= lines as written: "RULE" or "RULE:COUNT". */
static json_t *expects_json(const struct ccmm_expect *list, size_t n)
{
	json_t *exp = json_array();

	for (size_t i = 0; i < n; i++) {
		char e[80];

		if (list[i].count >= 0)
			snprintf(e, sizeof(e), "%s:%ld", list[i].rule->name, list[i].count);
		else
			snprintf(e, sizeof(e), "%s", list[i].rule->name);
		json_array_append_new(exp, json_string(e));
	}
	return exp;
}

/* [global] in effect: the engine's options and every run extension's, defaults included. */
static json_t *global_options_json(const struct ccmm_job *job)
{
	json_t *g = json_object();
	const struct ccmm_run_ext *x;

	options_json(g, ccmm_job_global_options(), &job->g);
	for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++)
		options_json(g, x->options, ccmm_job_ext_opts(job, x->name));
	json_object_set_new(g, "expect", expects_json(job->expect, job->nr_expect));
	return g;
}

/* An actor's section in effect: its kind's options, loops, expect= and its op program. */
static json_t *actor_options_json(const struct ccmm_actor *a)
{
	json_t *o = json_object(), *prog = json_array();

	json_object_set_new(o, "actor", json_string(a->kind->name));
	options_json(o, a->kind->options, a->opts);
	json_object_set_new(o, "loops", json_integer((json_int_t)a->loops));
	json_object_set_new(o, "expect", expects_json(a->expect, a->nr_expect));
	for (size_t i = 0; i < a->nr_ops; i++)
		json_array_append_new(prog, op_json(&a->ops[i]));
	json_object_set_new(o, "op", prog);
	return o;
}

/* The header every JSON report starts with: version and time (fio's names). */
static void json_header(json_t *root)
{
	struct timespec now;
	char ver[64], timestr[64];
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(timestr, sizeof(timestr), "%a %b %e %H:%M:%S %Y", &tm);
	snprintf(ver, sizeof(ver), "ccmm-%s", CCMM_VERSION);
	json_object_set_new(root, "ccmm version", json_string(ver));
	json_object_set_new(root, "timestamp", json_integer((json_int_t)now.tv_sec));
	json_object_set_new(root, "timestamp_ms", json_integer((json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000));
	json_object_set_new(root, "time", json_string(timestr));
}

static json_t *run_json(struct ccmm_run *run)
{
	struct ccmm_job *job = run->job;
	struct ccmm_run_summary s;
	json_t *root = json_object(), *jobs = json_array(), *gopt = global_options_json(job), *res = json_object();
	json_t *unattributed = json_array(), *attribution;
	size_t nev = ccmm_events_count(run->m);

	ccmm_run_summarize(run, &s);
	json_header(root);
	json_object_set_new(root, "job file", json_string(job->path));
	json_object_set_new(root, "global options", gopt);
	json_object_set_new(root, "platform", platform_json(run->m));
	json_object_set_new(root, "modeled_time_ns", json_integer((json_int_t)run->end_ns));
	json_object_set_new(root, "wall_time_s", json_real(run->wall_s));

	for (size_t ai = 0; ai < job->nr_actors; ai++) {
		struct ccmm_actor *a = job->actors[ai];
		json_t *ja = ctx_json(&a->ctx), *viol = json_array(), *exp = json_array(), *oes = json_array();
		struct ccmm_expect_result er;

		json_object_set_new(ja, "jobname", json_string(a->name));
		json_object_set_new(ja, "groupid", json_integer(0));
		json_object_set_new(ja, "actor", json_string(a->kind->name));
		json_object_set_new(ja, "error", json_integer(a->op_errors ? 1 : 0));
		json_object_set_new(ja, "job options", actor_options_json(a));
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
			json_object_set_new(x, "dependent", json_boolean(oe->dependent));
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
	if ((attribution = _ccmm_attribution_json(run)))
		json_object_set_new(root, "attribution", attribution);
	if (run->series)
		json_object_set_new(root, "series", _ccmm_series_json(run));
	json_object_set_new(res, "violations", json_integer((json_int_t)s.violations));
	json_object_set_new(res, "expected", json_integer((json_int_t)s.expected));
	json_object_set_new(res, "unexpected", json_integer((json_int_t)s.unexpected));
	json_object_set_new(res, "expectations_not_met", json_integer((json_int_t)s.missing));
	json_object_set_new(res, "op_errors", json_integer((json_int_t)s.op_errors));
	json_object_set_new(res, "checks_failed", json_integer((json_int_t)s.checks_failed));
	json_object_set_new(res, "events_dropped", json_integer((json_int_t)ccmm_checker(run->m)->dropped));
	json_object_set_new(res, "run_error", run->error[0] ? json_string(run->error) : json_null());
	json_object_set_new(res, "exit_status", json_integer(s.status));
	json_object_set_new(root, "result", res);
	return root;
}

static int json_write(json_t *root, FILE *out)
{
	int ret;

	if (!root)
		return -ENOMEM;
	ret = json_dumpf(root, out, JSON_INDENT(2)) ? -EIO : 0;
	fputc('\n', out);
	json_decref(root);
	return ret || ferror(out) ? -EIO : 0;
}

/* The report the check= lines are evaluated over: what ccmm_report_json writes, less "checks". */
void *_ccmm_report_build(struct ccmm_run *run)
{
	return run_json(run);
}

/* One run's report with its "checks" array, the checks evaluated first; NULL when out of memory. */
static json_t *run_json_checked(struct ccmm_run *run)
{
	json_t *root;

	if (ccmm_report_checks(run))
		return NULL;
	root = run_json(run);
	if (root && json_object_set_new(root, "checks", _ccmm_report_checks_json(run))) {
		json_decref(root);
		return NULL;
	}
	return root;
}

int ccmm_report_json(struct ccmm_run *run, FILE *out)
{
	return json_write(run_json_checked(run), out);
}

int ccmm_report_json_runs(struct ccmm_run *const *runs, size_t n, FILE *out)
{
	json_t *root, *arr, *res;
	int worst = 0;

	if (n == 1)
		return ccmm_report_json(runs[0], out);
	root = json_object();
	arr = json_array();
	res = json_object();
	json_header(root);
	for (size_t i = 0; i < n; i++) {
		struct ccmm_run_summary s;

		json_t *one = run_json_checked(runs[i]);

		if (!one) {
			json_decref(arr);
			json_decref(res);
			json_decref(root);
			return -ENOMEM;
		}
		ccmm_run_summarize(runs[i], &s);
		worst = s.status > worst ? s.status : worst;
		json_array_append_new(arr, one);
	}
	json_object_set_new(root, "runs", arr);
	json_object_set_new(res, "exit_status", json_integer(worst));
	json_object_set_new(root, "result", res);
	return json_write(root, out);
}

/* ---- CSV ------------------------------------------------------------------------ */

void ccmm_csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\r\n") && s[0] != ' ' && (!s[0] || s[strlen(s) - 1] != ' ')) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_row(FILE *out, const char *job, const char *actor, const char *kind, const char *figure, uint64_t v)
{
	ccmm_csv_field(out, job);
	fputc(',', out);
	ccmm_csv_field(out, actor);
	fputc(',', out);
	ccmm_csv_field(out, kind);
	fputc(',', out);
	ccmm_csv_field(out, figure);
	fprintf(out, ",%" PRIu64 "\n", v);
}

/* A check= line's rows: check[FILE:LINE].passed (1 or 0) and, for a number it found, check[FILE:LINE].got. */
static void csv_check_rows(FILE *out, struct ccmm_run *run, const struct ccmm_check_result *r)
{
	const struct ccmm_actor *a = r->c->actor >= 0 ? run->job->actors[r->c->actor] : NULL;
	const char *actor = a ? a->name : "", *kind = a ? a->kind->name : "";
	char fig[240], where[200];

	_ccmm_check_where(r->c, where, sizeof(where));
	snprintf(fig, sizeof(fig), "check[%s].passed", where);
	csv_row(out, run->job->path, actor, kind, fig, r->passed);
	if (!r->found || r->c->unit == CCMM_UNIT_STRING || r->c->unit == CCMM_UNIT_BOOL)
		return;
	snprintf(fig, sizeof(fig), "check[%s].got", where);
	ccmm_csv_field(out, run->job->path);
	fputc(',', out);
	ccmm_csv_field(out, actor);
	fputc(',', out);
	ccmm_csv_field(out, kind);
	fputc(',', out);
	ccmm_csv_field(out, fig);
	fprintf(out, ",%.17g\n", r->got);
}

int ccmm_report_csv(struct ccmm_run *const *runs, size_t n, FILE *out)
{
	for (size_t r = 0; r < n; r++)
		if (ccmm_report_checks(runs[r]))
			return -ENOMEM;
	fputs("job,actor,kind,figure,value\n", out);
	for (size_t r = 0; r < n; r++) {
		struct ccmm_run *run = runs[r];
		struct ccmm_job *job = run->job;
		struct ccmm_run_summary s;
		size_t nev = ccmm_events_count(run->m);
		char fig[96];

		for (size_t ai = 0; ai < job->nr_actors; ai++) {
			struct ccmm_actor *a = job->actors[ai];
			const struct ccmm_ctx *c = &a->ctx;
			uint64_t viol = 0;

			for (size_t i = 0; i < nev; i++) {
				struct ccmm_event e;

				viol += !ccmm_event_get(run->m, i, &e) && e.actor == a->index;
			}
			csv_row(out, job->path, a->name, a->kind->name, "ops", a->ops_done);
			csv_row(out, job->path, a->name, a->kind->name, "op_errors", a->op_errors);
			csv_row(out, job->path, a->name, a->kind->name, "violations", viol);
			csv_row(out, job->path, a->name, a->kind->name, "modeled_time_ns", c->now_ns);
			for (unsigned i = 0; i < ccmm_cost_nr(); i++) {
				if (!c->cost_ns[i])
					continue;
				snprintf(fig, sizeof(fig), "cost.%s.ns", ccmm_cost_at(i, NULL)->name);
				csv_row(out, job->path, a->name, a->kind->name, fig, c->cost_ns[i]);
				snprintf(fig, sizeof(fig), "cost.%s.%s", ccmm_cost_at(i, NULL)->name,
					 i == CCMM_COST_copy_mbps ? "bytes" : "n");
				csv_row(out, job->path, a->name, a->kind->name, fig, c->cost_n[i]);
			}
			for (unsigned i = 0; i < ccmm_counter_nr(); i++) {
				if (!c->ctr[i])
					continue;
				snprintf(fig, sizeof(fig), "counter.%s", ccmm_counter_at(i, NULL)->name);
				csv_row(out, job->path, a->name, a->kind->name, fig, c->ctr[i]);
			}
		}
		ccmm_run_summarize(run, &s);
		csv_row(out, job->path, "", "", "result.violations", s.violations);
		csv_row(out, job->path, "", "", "result.unexpected", s.unexpected);
		csv_row(out, job->path, "", "", "result.expectations_not_met", s.missing);
		csv_row(out, job->path, "", "", "result.op_errors", s.op_errors);
		csv_row(out, job->path, "", "", "result.checks_failed", s.checks_failed);
		csv_row(out, job->path, "", "", "result.exit_status", (uint64_t)s.status);
		csv_row(out, job->path, "", "", "modeled_time_ns", run->end_ns);
		for (size_t i = 0; i < job->nr_checks; i++)
			csv_check_rows(out, run, &run->check_results[i]);
	}
	return ferror(out) ? -EIO : 0;
}
