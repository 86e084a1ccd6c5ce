// SPDX-License-Identifier: MIT
/*
 * A run's time series (scenario.h): samples at multiples of the interval
 * of modeled time, each run extension putting its figures.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/internal.h"

const char *const ccmm_series_mark_names[] = { "", "reclaim", "oom", "conversion", NULL };

struct one {
	char name[64];
	char label[96];
	char unit[24];
	bool counter;
	enum ccmm_series_mark mark;
	double *v;        /* one per sample; NAN where it had none */
	size_t nr;
};

struct ccmm_series {
	uint64_t interval, next;
	uint64_t *time;
	size_t nr, cap;
	struct one *s;
	size_t nr_s, cap_s;
	size_t cursor;    /* puts come in the same order sample after sample */
	int error;
	bool sampling;
};

static struct one *find(struct ccmm_series *s, const char *name, const char *label)
{
	if (s->cursor < s->nr_s && !strcmp(s->s[s->cursor].name, name) && !strcmp(s->s[s->cursor].label, label))
		return &s->s[s->cursor++];
	for (size_t k = 0; k < s->nr_s; k++)
		if (!strcmp(s->s[k].name, name) && !strcmp(s->s[k].label, label)) {
			s->cursor = k + 1;
			return &s->s[k];
		}
	return NULL;
}

static void put(struct ccmm_series *s, const char *name, const char *label, const char *unit, double value,
		bool counter, enum ccmm_series_mark mark)
{
	struct one *o;
	size_t cap;

	if (!s || !s->sampling || s->error)
		return;
	label = label ? label : "";
	o = find(s, name, label);
	if (!o) {
		if (ccmm_grow((void **)&s->s, &s->cap_s, s->nr_s + 1, sizeof(*s->s))) {
			s->error = -ENOMEM;
			return;
		}
		o = &s->s[s->nr_s++];
		memset(o, 0, sizeof(*o));
		snprintf(o->name, sizeof(o->name), "%s", name);
		snprintf(o->label, sizeof(o->label), "%s", label);
		snprintf(o->unit, sizeof(o->unit), "%s", unit ? unit : "");
		o->counter = counter;
		o->mark = mark;
		s->cursor = s->nr_s;
	}
	if (o->nr >= s->nr)
		return; /* put twice in one sample: the first stands */
	cap = s->cap;
	if (!o->v && !(o->v = malloc(cap * sizeof(*o->v)))) {
		s->error = -ENOMEM;
		return;
	}
	while (o->nr + 1 < s->nr)
		o->v[o->nr++] = NAN;
	o->v[o->nr++] = value;
}

void ccmm_series_put(struct ccmm_series *s, const char *name, const char *label, const char *unit, double value)
{
	put(s, name, label, unit, value, false, CCMM_MARK_NONE);
}

void ccmm_series_count(struct ccmm_series *s, const char *name, const char *label, const char *unit, uint64_t total,
		       enum ccmm_series_mark mark)
{
	put(s, name, label, unit, (double)total, true, mark);
}

/* One sample at modeled time @t: every extension's figures. */
static void sample(struct ccmm_run *run, uint64_t t)
{
	struct ccmm_series *s = run->series;
	const struct ccmm_run_ext *x;

	if (s->error)
		return;
	if (s->nr == CCMM_SERIES_MAX_SAMPLES) {
		s->error = -E2BIG;
		return;
	}
	if (s->nr == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		uint64_t *nt = realloc(s->time, cap * sizeof(*nt));

		if (!nt) {
			s->error = -ENOMEM;
			return;
		}
		s->time = nt;
		for (size_t k = 0; k < s->nr_s; k++) {
			double *nv = realloc(s->s[k].v, cap * sizeof(*nv));

			if (!nv) {
				s->error = -ENOMEM;
				return;
			}
			s->s[k].v = nv;
		}
		s->cap = cap;
	}
	s->time[s->nr++] = t;
	s->cursor = 0;
	s->sampling = true;
	for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++)
		if (x->sample)
			x->sample(run, run->job->ext_opts[i], s);
	s->sampling = false;
	for (size_t k = 0; k < s->nr_s && !s->error; k++)
		while (s->s[k].nr < s->nr)
			s->s[k].v[s->s[k].nr++] = NAN;
}

int _ccmm_series_start(struct ccmm_run *run)
{
	struct ccmm_series *s;

	if (!run->job->interval_ns || run->job->g.mode != CCMM_RUN_SIM)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->interval = run->job->interval_ns;
	s->next = 0;
	run->series = s;
	return 0;
}

void _ccmm_series_tick(struct ccmm_run *run, uint64_t now_ns)
{
	struct ccmm_series *s = run->series;

	while (s && !s->error && s->next <= now_ns) {
		sample(run, s->next);
		s->next += s->interval;
	}
}

void ccmm_actor_sample(struct ccmm_actor *a)
{
	if (a->run && a->run->series && a->run->job->g.mode == CCMM_RUN_SIM)
		_ccmm_series_tick(a->run, a->ctx.now_ns);
}

void _ccmm_series_finish(struct ccmm_run *run)
{
	struct ccmm_series *s = run->series;

	if (!s)
		return;
	_ccmm_series_tick(run, run->end_ns);
	if (!s->error && (!s->nr || s->time[s->nr - 1] != run->end_ns))
		sample(run, run->end_ns);
}

void _ccmm_series_free(struct ccmm_series *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < s->nr_s; k++)
		free(s->s[k].v);
	free(s->s);
	free(s->time);
	free(s);
}

size_t ccmm_series_samples(const struct ccmm_series *s)
{
	return s ? s->nr : 0;
}

uint64_t ccmm_series_time(const struct ccmm_series *s, size_t i)
{
	return i < s->nr ? s->time[i] : 0;
}

uint64_t ccmm_series_interval(const struct ccmm_series *s)
{
	return s->interval;
}

size_t ccmm_series_count_nr(const struct ccmm_series *s)
{
	return s ? s->nr_s : 0;
}

void ccmm_series_info(const struct ccmm_series *s, size_t k, struct ccmm_series_info *out)
{
	const struct one *o = &s->s[k];

	out->name = o->name;
	out->label = o->label;
	out->unit = o->unit;
	out->counter = o->counter;
	out->mark = o->mark;
}

double ccmm_series_value(const struct ccmm_series *s, size_t k, size_t i)
{
	return k < s->nr_s && i < s->s[k].nr ? s->s[k].v[i] : NAN;
}

int ccmm_series_error(const struct ccmm_series *s)
{
	return s ? s->error : 0;
}
