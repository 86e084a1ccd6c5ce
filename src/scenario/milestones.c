// SPDX-License-Identifier: MIT
/*
 * Milestones: points in an actor's life (an enclave built, a driver
 * probed, a task's memory charged) that a job maps to events, so another
 * actor can wait for the point itself instead of sleeping for a guess.
 */
#include <errno.h>
#include <string.h>

#include "scenario/internal.h"

const struct ccmm_milestone ccmm_common_milestones[] = {
	{ "started", "the actor is about to run its first op" },
	{ "done", "the actor's program finished (not when it stopped on a failed op)" },
	{ NULL, NULL }
};

static const struct ccmm_milestone *find(const struct ccmm_actor_kind *k, const char *name)
{
	for (const struct ccmm_milestone *m = ccmm_common_milestones; m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	for (const struct ccmm_milestone *m = k->milestones; m && m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

int _ccmm_milestone_parse(struct ccmm_actor *a, const char *value, const struct ccmm_where *w, struct ccmm_error *err)
{
	struct ccmm_loc loc = { w->file, w->line };
	char name[64], event[64], extra[8];
	const struct ccmm_milestone *m;
	int n = sscanf(value, "%63s %63s %7s", name, event, extra);

	if (n != 2)
		return ccmm_error_set(err, &loc, -EINVAL, "milestone = NAME EVENT: the event to signal when [%s] reaches NAME "
				      "(ccmm ops %s lists its milestones)", a->name, a->kind->name);
	m = find(a->kind, name);
	if (!m) {
		const char *names[32];
		size_t k = 0;
		const char *near;

		for (const struct ccmm_milestone *x = ccmm_common_milestones; x->name && k < 32; x++)
			names[k++] = x->name;
		for (const struct ccmm_milestone *x = a->kind->milestones; x && x->name && k < 32; x++)
			names[k++] = x->name;
		near = ccmm_suggest(name, names, k);
		return ccmm_error_set(err, &loc, -EINVAL, "milestone: %s actors have no milestone '%s'%s%s%s", a->kind->name, name,
				      near ? "; did you mean '" : " (ccmm ops ", near ? near : a->kind->name,
				      near ? "'?" : " lists them)");
	}
	if (strlen(event) >= sizeof(a->milestone[0].event))
		return ccmm_error_set(err, &loc, -EINVAL, "milestone: event name '%.20s...' is too long", event);
	if (a->nr_milestones == CCMM_ARRAY_SIZE(a->milestone))
		return ccmm_error_set(err, &loc, -E2BIG, "more than %zu milestone= lines in one section",
				      CCMM_ARRAY_SIZE(a->milestone));
	a->milestone[a->nr_milestones].name = m->name;
	snprintf(a->milestone[a->nr_milestones].event, sizeof(a->milestone[0].event), "%s", event);
	a->milestone[a->nr_milestones].where = *w;
	a->nr_milestones++;
	return 0;
}

void ccmm_actor_milestone(struct ccmm_actor *a, const char *name)
{
	for (size_t i = 0; i < a->nr_milestones; i++)
		if (!strcmp(a->milestone[i].name, name))
			ccmm_run_signal(a->run, a->milestone[i].event, 1, a->ctx.now_ns);
}
