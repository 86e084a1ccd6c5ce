// SPDX-License-Identifier: MIT
/*
 * Exploring schedules: the same job under many choices of which entity
 * runs at each scheduling point (random walk, PCT), in parallel processes,
 * stopping at the first schedule that breaks the job; the schedule files
 * that replay a run exactly; the interleaving a recorded run took.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "scenario/internal.h"

#define SCHEDULE_MAGIC "ccmm-schedule 1"
#define DEFAULT_MAX_STEPS 1000000

/* ---- a recorded run ---------------------------------------------------------------- */

bool ccmm_run_schedule(struct ccmm_run *run, const uint32_t **choices, size_t *nr, const char *const **names,
		       size_t *nr_names)
{
	struct ccmm_run_priv *rp = run_priv(run);

	if (!rp->rec.names)
		return false;
	*choices = rp->rec.choices;
	*nr = rp->rec.nr_choices;
	*names = rp->rec.names;
	*nr_names = rp->rec.nr_names;
	return true;
}

static const char *entity_label(struct ccmm_run_priv *rp, uint32_t i, char *buf, size_t len)
{
	const char *n = i < rp->rec.nr_names ? rp->rec.names[i] : "?";

	if (i < rp->pub.job->nr_actors)
		snprintf(buf, len, "[%s]", n);
	else
		snprintf(buf, len, "%s", n);
	return buf;
}

int ccmm_run_interleaving(struct ccmm_run *run, FILE *out)
{
	struct ccmm_run_priv *rp = run_priv(run);

	if (!rp->rec.names)
		return 0;
	fprintf(out, "interleaving: %" PRIu64 " scheduling decisions, %zu stretches (an entity ran from an op's line to where it gave way):\n",
		rp->rec.steps, rp->rec.nr_segs);
	for (size_t i = 0; i < rp->rec.nr_segs; i++) {
		const struct _ccmm_sim_seg *sg = &rp->rec.segs[i];
		char who[64];

		fprintf(out, "  %4zu  step %-6" PRIu64 " %-12s ", i, sg->steps, entity_label(rp, sg->task, who, sizeof(who)));
		if (sg->from.line)
			fprintf(out, "line %d %s", sg->from.line, sg->op ? sg->op : "");
		else
			fprintf(out, "(start)");
		if (sg->to.line && sg->to.line != sg->from.line)
			fprintf(out, " .. line %d", sg->to.line);
		if (!strcmp(sg->how, "done"))
			fprintf(out, ": done\n");
		else if (!strcmp(sg->how, "sleeps on"))
			fprintf(out, ": sleeps on %s\n", sg->what[0] ? sg->what : "?");
		else if (!strcmp(sg->how, "stopped"))
			fprintf(out, ": (the run stopped here)\n");
		else
			fprintf(out, ": gives way at %s%s%s\n", sg->how, sg->what[0] ? " " : "", sg->what);
	}
	return ferror(out) ? -EIO : 0;
}

/* ---- schedule files ------------------------------------------------------------------ */

int ccmm_schedule_write(struct ccmm_run *run, const char *path)
{
	struct ccmm_run_priv *rp = run_priv(run);
	struct ccmm_outfile of;
	size_t col = 0;
	int ret;

	if (!rp->rec.names)
		return -ENODATA;
	ret = ccmm_outfile_open(&of, path);
	if (ret)
		return ret;
	fprintf(of.fp, "# ccmm schedule: replay with ccmm run %s --schedule FILE\n", run->job->path);
	fprintf(of.fp, "# one choice per scheduling point: the entity (below, from 0) that ran; I*N: N times in a row\n");
	fprintf(of.fp, "%s\n", SCHEDULE_MAGIC);
	fprintf(of.fp, "job %s\n", run->job->path);
	fprintf(of.fp, "seed %" PRIu64 "\n", run->job->g.seed);
	fprintf(of.fp, "entities");
	for (size_t i = 0; i < rp->rec.nr_names; i++)
		fprintf(of.fp, " %s", rp->rec.names[i]);
	fprintf(of.fp, "\nsteps %zu\n", rp->rec.nr_choices);
	for (size_t i = 0; i < rp->rec.nr_choices;) {
		size_t n = 1;

		while (i + n < rp->rec.nr_choices && rp->rec.choices[i + n] == rp->rec.choices[i])
			n++;
		if (!col)
			fprintf(of.fp, "choices");
		if (n > 1)
			fprintf(of.fp, " %" PRIu32 "*%zu", rp->rec.choices[i], n);
		else
			fprintf(of.fp, " %" PRIu32, rp->rec.choices[i]);
		if (++col == 24) {
			fputc('\n', of.fp);
			col = 0;
		}
		i += n;
	}
	if (col)
		fputc('\n', of.fp);
	if (ferror(of.fp)) {
		ccmm_outfile_abort(&of);
		return -EIO;
	}
	return ccmm_outfile_commit(&of);
}

void ccmm_schedule_free(struct ccmm_sched_plan *plan)
{
	free((void *)plan->choices);
	plan->choices = NULL;
	plan->nr_choices = 0;
}

static int sched_err(struct ccmm_error *err, const char *path, int line, int ret, const char *what, const char *arg)
{
	struct ccmm_loc loc = { path, line };

	return ccmm_error_set(err, &loc, ret, "%s%s%s", what, arg ? ": " : "", arg ? arg : "");
}

int ccmm_schedule_read(const char *path, const struct ccmm_job *job, struct ccmm_sched_plan *plan,
		       struct ccmm_error *err)
{
	FILE *fp = fopen(path, "r");
	char line[4096];
	uint32_t *ch = NULL;
	size_t nr = 0, cap = 0, want = SIZE_MAX, entities = 0;
	bool magic = false, have_entities = false;
	char for_job[256] = "its job line is missing";
	int ln = 0, ret = 0;

	memset(plan, 0, sizeof(*plan));
	if (!fp) {
		struct ccmm_loc loc = { path, 0 };

		return ccmm_error_set(err, &loc, -ENOENT, "cannot open the schedule file: %s", strerror(errno));
	}
	while (!ret && fgets(line, sizeof(line), fp)) {
		char *p = line, *tok, *save = NULL;

		ln++;
		if (!strchr(line, '\n') && !feof(fp)) {
			ret = sched_err(err, path, ln, -EINVAL, "line too long", NULL);
			break;
		}
		line[strcspn(line, "\r\n")] = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#')
			continue;
		if (!magic) {
			if (strcmp(p, SCHEDULE_MAGIC))
				ret = sched_err(err, path, ln, -EINVAL, "not a ccmm schedule file (the first line must be '" SCHEDULE_MAGIC "')", NULL);
			magic = true;
			continue;
		}
		tok = strtok_r(p, " \t", &save);
		if (!strcmp(tok, "job")) {
			/* informative: the job given on the command line is the one run */
			tok = strtok_r(NULL, "", &save);
			snprintf(for_job, sizeof(for_job), "%s", tok ? tok : "?");
		} else if (!strcmp(tok, "seed")) {
			continue;
		} else if (!strcmp(tok, "entities")) {
			while ((tok = strtok_r(NULL, " \t", &save))) {
				if (entities < job->nr_actors && strcmp(tok, job->actors[entities]->name)) {
					struct ccmm_loc loc = { path, ln };

					ret = ccmm_error_set(err, &loc, -EINVAL,
							     "entity %zu is '%.40s', but this job's actor %zu is [%.40s]: "
							     "the schedule is for another job (%.200s)",
							     entities, tok, entities, job->actors[entities]->name, for_job);
					break;
				}
				entities++;
			}
			if (!ret && entities < job->nr_actors)
				ret = sched_err(err, path, ln, -EINVAL, "fewer entities than the job has actors", NULL);
			have_entities = true;
		} else if (!strcmp(tok, "steps")) {
			uint64_t v;

			tok = strtok_r(NULL, " \t", &save);
			if (!tok || ccmm_parse_u64(tok, false, &v))
				ret = sched_err(err, path, ln, -EINVAL, "steps needs a number", tok);
			else
				want = (size_t)v;
		} else if (!strcmp(tok, "choices")) {
			if (!have_entities) {
				ret = sched_err(err, path, ln, -EINVAL, "choices before the entities line", NULL);
				break;
			}
			while ((tok = strtok_r(NULL, " \t", &save))) {
				char *star = strchr(tok, '*');
				uint64_t who, times = 1;

				if (star)
					*star = '\0';
				if (ccmm_parse_u64(tok, false, &who) || (star && ccmm_parse_u64(star + 1, false, &times)) ||
				    !times || times > 100000000) {
					if (star)
						*star = '*';
					ret = sched_err(err, path, ln, -EINVAL,
							"a choice is ENTITY or ENTITY*COUNT (numbers; COUNT 1 to 100000000)", tok);
					break;
				}
				if (who >= entities) {
					ret = sched_err(err, path, ln, -EINVAL, "a choice names an entity the file does not list", tok);
					break;
				}
				if (nr + times > (size_t)200000000) {
					ret = sched_err(err, path, ln, -E2BIG, "too many choices", NULL);
					break;
				}
				if (ccmm_grow((void **)&ch, &cap, nr + times, sizeof(*ch))) {
					ret = sched_err(err, path, ln, -ENOMEM, "out of memory", NULL);
					break;
				}
				while (times--)
					ch[nr++] = (uint32_t)who;
			}
		} else {
			ret = sched_err(err, path, ln, -EINVAL, "unknown line (job, seed, entities, steps, choices)", tok);
		}
	}
	if (!ret && ferror(fp))
		ret = sched_err(err, path, ln, -EIO, "read error", NULL);
	fclose(fp);
	if (!ret && !magic)
		ret = sched_err(err, path, ln, -EINVAL, "empty: not a ccmm schedule file", NULL);
	if (!ret && !have_entities)
		ret = sched_err(err, path, ln, -EINVAL, "no entities line", NULL);
	if (!ret && want != SIZE_MAX && want != nr)
		ret = sched_err(err, path, ln, -EINVAL, "the choices do not add up to the steps line (truncated?)", NULL);
	if (ret) {
		free(ch);
		return ret;
	}
	plan->kind = CCMM_PLAN_REPLAY;
	plan->choices = ch;
	plan->nr_choices = nr;
	plan->record = true;
	return 0;
}

/* ---- exploring ------------------------------------------------------------------------ */

/* What one schedule's run gave, as a worker reports it (small: pipe writes stay atomic). */
struct outcome {
	int64_t index;
	uint64_t hash;
	uint64_t steps;
	int32_t status;  /* 0 clean, 1 not as expected, 2 run error */
	int32_t cut;     /* cut at the step bound */
};

static uint64_t mix(uint64_t a, uint64_t b)
{
	uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));

	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	return x;
}

/* The plan of schedule @i: the default for 0, else a stream of its own. */
static void plan_for(const struct ccmm_explore_opts *o, uint64_t k, uint64_t i, uint64_t max_steps,
		     struct ccmm_sched_plan *p)
{
	memset(p, 0, sizeof(*p));
	p->max_steps = max_steps;
	if (!i) {
		p->kind = CCMM_PLAN_RUN;
		return;
	}
	p->kind = o->strategy;
	p->seed = mix(o->seed, i);
	p->depth = o->depth ? o->depth : 3;
	p->pct_steps = k;
}

static void run_one(struct ccmm_job *job, const struct ccmm_sched_plan *p, uint64_t i, struct outcome *oc)
{
	struct ccmm_run *run = NULL;
	struct ccmm_run_summary s;

	memset(oc, 0, sizeof(*oc));
	oc->index = (int64_t)i;
	if (ccmm_job_run_plan(job, p, &run)) {
		oc->status = 2;
		return;
	}
	ccmm_run_summarize(run, &s);
	oc->status = s.status;
	oc->cut = run->error_ret == -E2BIG;
	if (oc->cut)
		oc->status = 0;
	/* the record is not kept; the simulator's hash went with it: recompute from the steps */
	oc->hash = run_priv(run)->rec.hash;
	oc->steps = run_priv(run)->rec.steps;
	ccmm_run_free(run);
}

/* A run of @job under @p, returning its step count (for PCT's k) and hash. */
static uint64_t probe_steps(struct ccmm_job *job, const struct ccmm_sched_plan *p)
{
	struct ccmm_sched_plan q = *p;
	struct outcome oc;

	q.record = false;
	run_one(job, &q, 0, &oc);
	return oc.steps;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct seen {
	uint64_t *h;
	size_t n, cap;
};

static void seen_add(struct seen *s, uint64_t h)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->h[i] == h)
			return;
	if (!ccmm_grow((void **)&s->h, &s->cap, s->n + 1, sizeof(*s->h)))
		s->h[s->n++] = h;
}

int ccmm_explore(struct ccmm_job *job, const struct ccmm_explore_opts *o, struct ccmm_explore_result *res,
		 struct ccmm_run **failed)
{
	uint64_t n = o->schedules ? o->schedules : 1, max_steps = o->max_steps ? o->max_steps : DEFAULT_MAX_STEPS;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned jobs = o->jobs ? o->jobs : cpus > 0 ? (unsigned)cpus : 1;
	struct outcome *out = calloc(n, sizeof(*out));
	bool *have = calloc(n, sizeof(*have));
	_Atomic int64_t *found;
	struct seen seen = { 0 };
	struct ccmm_sched_plan probe;
	double t0 = now_s();
	uint64_t k;
	int ret = 0;

	memset(res, 0, sizeof(*res));
	*failed = NULL;
	if (!out || !have) {
		free(out);
		free(have);
		return -ENOMEM;
	}
	if (jobs > n)
		jobs = (unsigned)n;
	/* PCT's k: the scheduling points one run takes when every point is a choice */
	plan_for(o, 0, 1, max_steps, &probe);
	probe.kind = CCMM_PLAN_RANDOM;
	k = probe_steps(job, &probe);
	if (!k)
		k = 1;
	res->pct_steps = k;
	found = mmap(NULL, sizeof(*found), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (found == MAP_FAILED) {
		free(out);
		free(have);
		return -errno;
	}
	atomic_store(found, (int64_t)n);
	if (jobs <= 1) {
		for (uint64_t i = 0; i < n && (int64_t)i < atomic_load(found); i++) {
			struct ccmm_sched_plan p;

			plan_for(o, k, i, max_steps, &p);
			run_one(job, &p, i, &out[i]);
			have[i] = true;
			if (out[i].status)
				atomic_store(found, (int64_t)i);
		}
	} else {
		int fds[2];
		pid_t *pids = calloc(jobs, sizeof(*pids));
		unsigned started = 0;

		if (!pids || pipe(fds)) {
			ret = pids ? -errno : -ENOMEM;
			free(pids);
			goto out;
		}
		fflush(NULL);
		for (unsigned w = 0; w < jobs; w++) {
			pid_t pid = fork();

			if (pid < 0) {
				ret = -errno;
				break;
			}
			if (!pid) {
				close(fds[0]);
				for (uint64_t i = w; i < n; i += jobs) {
					struct ccmm_sched_plan p;
					struct outcome oc;
					int64_t f = atomic_load(found);

					if ((int64_t)i > f)
						break;
					plan_for(o, k, i, max_steps, &p);
					run_one(job, &p, i, &oc);
					if (oc.status) {
						while (f > (int64_t)i && !atomic_compare_exchange_weak(found, &f, (int64_t)i))
							;
					}
					if (write(fds[1], &oc, sizeof(oc)) != (ssize_t)sizeof(oc))
						_exit(3);
				}
				_exit(0);
			}
			pids[started++] = pid;
		}
		close(fds[1]);
		for (;;) {
			struct outcome oc;
			ssize_t got = read(fds[0], &oc, sizeof(oc));

			if (got == 0)
				break;
			if (got < 0) {
				if (errno == EINTR)
					continue;
				ret = -errno;
				break;
			}
			if (got != (ssize_t)sizeof(oc) || oc.index < 0 || (uint64_t)oc.index >= n) {
				ret = -EIO;
				break;
			}
			out[oc.index] = oc;
			have[oc.index] = true;
		}
		close(fds[0]);
		for (unsigned w = 0; w < started; w++) {
			int st;

			if (ret)
				kill(pids[w], SIGTERM);
			while (waitpid(pids[w], &st, 0) < 0 && errno == EINTR)
				;
			if (!ret && (!WIFEXITED(st) || WEXITSTATUS(st)))
				ret = -ECHILD;
		}
		free(pids);
	}
	if (ret)
		goto out;
	res->failed_at = atomic_load(found) < (int64_t)n ? atomic_load(found) : -1;
	res->tried = res->failed_at >= 0 ? (uint64_t)res->failed_at + 1 : n;
	for (uint64_t i = 0; i < res->tried; i++) {
		if (!have[i]) {
			ret = -EIO; /* a worker did not report a schedule it had to run */
			goto out;
		}
		seen_add(&seen, out[i].hash);
		res->cut += out[i].cut != 0;
	}
	res->distinct = seen.n;
	if (res->failed_at >= 0) {
		struct ccmm_sched_plan p;

		plan_for(o, k, (uint64_t)res->failed_at, max_steps, &p);
		p.record = true;
		ret = ccmm_job_run_plan(job, &p, failed);
		if (!ret)
			ret = 1;
	}
out:
	res->wall_s = now_s() - t0;
	munmap((void *)found, sizeof(*found));
	free(seen.h);
	free(out);
	free(have);
	return ret;
}
