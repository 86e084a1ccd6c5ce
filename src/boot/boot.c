// SPDX-License-Identifier: MIT
/* Boot and shutdown: every registered subsystem's init in order, exits in reverse; the registry's lookups. */
#include "boot/boot.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "check/check.h"

/* The table the build generates from meson.build's ccmm_subsystems (subsys_table.c). */
extern struct ccmm_subsys *const _ccmm_subsys_table[];

static size_t nr_subsys;
static unsigned nr_costs, nr_counters;
static bool registry_full; /* more subsystems, costs or counters than the machine has room for */
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

/* Slots in m->sub[], and each cost block after the machine's own (base 0). */
static void registry_init(void)
{
	size_t i;

	nr_costs = ccmm_core_block.nr_costs;
	nr_counters = ccmm_core_block.nr_counters;
	for (i = 0; _ccmm_subsys_table[i]; i++) {
		struct ccmm_subsys *s = _ccmm_subsys_table[i];

		s->id = (unsigned)i;
		if (s->block) {
			s->block->cost_base = nr_costs;
			s->block->ctr_base = nr_counters;
			nr_costs += s->block->nr_costs;
			nr_counters += s->block->nr_counters;
		}
	}
	nr_subsys = i;
	registry_full = nr_subsys > CCMM_MAX_SUBSYS || nr_costs > CCMM_COST_MAX || nr_counters > CCMM_CTR_MAX;
}

static size_t registry(void)
{
	pthread_once(&registry_once, registry_init);
	return nr_subsys;
}

static int cost_index(const char *name, unsigned *out);

const struct ccmm_subsys *ccmm_subsys_at(size_t i)
{
	return i < registry() ? _ccmm_subsys_table[i] : NULL;
}

int ccmm_boot(struct ccmm_platform *plat, uint64_t seed, struct ccmm_machine **out)
{
	size_t nr = registry(), i;
	struct ccmm_machine *m;
	int ret;

	if (registry_full) {
		ccmm_platform_free(plat);
		return -E2BIG;
	}
	if (ccmm_costs_check(plat, NULL)) {
		ccmm_platform_free(plat);
		return -EINVAL;
	}
	ret = ccmm_machine_create(plat, seed, &m);
	if (ret)
		return ret;
	for (i = 0; i < nr; i++) { /* the subsystems' costs: defaults, then the platform's [cost] lines */
		const struct ccmm_cost_block *b = _ccmm_subsys_table[i]->block;

		for (unsigned k = 0; b && k < b->nr_costs; k++)
			m->cost[b->cost_base + k] = b->costs[k].def;
	}
	for (unsigned k = 0; k < plat->nr_cost_more; k++) {
		unsigned c;

		if (!cost_index(plat->cost_more[k].name, &c))
			m->cost[c] = plat->cost_more[k].value;
	}
	for (i = 0; i < nr; i++) {
		const struct ccmm_subsys *s = _ccmm_subsys_table[i];

		ret = s->init ? s->init(m) : 0;
		if (ret)
			break;
	}
	if (ret) {
		while (i--)
			if (_ccmm_subsys_table[i]->exit)
				_ccmm_subsys_table[i]->exit(m);
		ccmm_machine_destroy(m);
		return ret;
	}
	*out = m;
	return 0;
}

void ccmm_shutdown(struct ccmm_machine *m)
{
	if (!m)
		return;
	for (size_t i = registry(); i--;)
		if (_ccmm_subsys_table[i]->exit)
			_ccmm_subsys_table[i]->exit(m);
	ccmm_machine_destroy(m);
}

size_t ccmm_machine_stats(struct ccmm_machine *m, struct ccmm_stat *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < registry() && n < max; i++)
		if (_ccmm_subsys_table[i]->stats)
			n += _ccmm_subsys_table[i]->stats(m, out + n, max - n);
	return n;
}

/* The block holding global cost index @i (or counter index, @counter), with the index inside it. */
static const struct ccmm_cost_block *block_of(unsigned i, bool counter, unsigned *k)
{
	const struct ccmm_cost_block *b = &ccmm_core_block;
	size_t s = 0;

	registry();
	for (;;) {
		unsigned base = counter ? b->ctr_base : b->cost_base, nr = counter ? b->nr_counters : b->nr_costs;

		if (i >= base && i < base + nr) {
			*k = i - base;
			return b;
		}
		do {
			if (!_ccmm_subsys_table[s])
				return NULL;
			b = _ccmm_subsys_table[s++]->block;
		} while (!b);
	}
}

unsigned ccmm_cost_nr(void)
{
	registry();
	return nr_costs;
}

unsigned ccmm_counter_nr(void)
{
	registry();
	return nr_counters;
}

const struct ccmm_cost_info *ccmm_cost_at(unsigned i, const char **subsys)
{
	unsigned k;
	const struct ccmm_cost_block *b = block_of(i, false, &k);

	if (b && subsys)
		*subsys = b->name;
	return b ? &b->costs[k] : NULL;
}

const struct ccmm_counter_info *ccmm_counter_at(unsigned i, const char **subsys)
{
	unsigned k;
	const struct ccmm_cost_block *b = block_of(i, true, &k);

	if (b && subsys)
		*subsys = b->name;
	return b ? &b->counters[k] : NULL;
}

/* The global index of the cost named @name: 0, or -ENOENT. */
static int cost_index(const char *name, unsigned *out)
{
	const struct ccmm_cost_info *c;

	for (unsigned i = 0; (c = ccmm_cost_at(i, NULL)); i++) {
		if (!strcasecmp(c->name, name)) {
			*out = i;
			return 0;
		}
	}
	return -ENOENT;
}

int ccmm_costs_check(const struct ccmm_platform *p, struct ccmm_error *err)
{
	const struct ccmm_cost_info *c;
	const char *names[CCMM_COST_MAX];
	unsigned n = 0, idx;

	for (unsigned k = 0; k < p->nr_cost_more; k++) {
		const struct ccmm_cost_override *o = &p->cost_more[k];
		struct ccmm_loc loc = { o->where.file, o->where.line };
		const char *near;

		if (!cost_index(o->name, &idx))
			continue;
		if (!err)
			return -ENOENT;
		while (n < CCMM_COST_MAX && (c = ccmm_cost_at(n, NULL)))
			names[n++] = c->name;
		near = ccmm_suggest(o->name, names, n);
		if (near)
			return ccmm_error_set(err, &loc, -ENOENT, "unknown cost '%s'; did you mean '%s'?", o->name, near);
		return ccmm_error_set(err, &loc, -ENOENT, "unknown cost '%s' (ccmm costs lists them)", o->name);
	}
	return 0;
}

const struct ccmm_rule *ccmm_rule_at(size_t i)
{
	for (size_t t = 0; t < registry(); t++) {
		const struct ccmm_rule *const *rules = _ccmm_subsys_table[t]->rules;

		for (size_t k = 0; rules && rules[k]; k++) {
			if (!i)
				return rules[k];
			i--;
		}
	}
	return NULL;
}

const struct ccmm_rule *ccmm_rule_find(const char *name)
{
	const struct ccmm_rule *r;

	for (size_t i = 0; (r = ccmm_rule_at(i)); i++)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}
