// SPDX-License-Identifier: MIT
/* Boot and shutdown: every registered subsystem's init in order, exits in reverse; the registry's lookups. */
#include "boot/boot.h"

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "check/check.h"

/* The table the build generates from meson.build's ccmm_subsystems (subsys_table.c). */
extern struct ccmm_subsys *const _ccmm_subsys_table[];

static size_t nr_subsys;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;

static void registry_init(void)
{
	size_t i;

	for (i = 0; _ccmm_subsys_table[i]; i++)
		_ccmm_subsys_table[i]->id = (unsigned)i;
	nr_subsys = i;
}

static size_t registry(void)
{
	pthread_once(&registry_once, registry_init);
	return nr_subsys;
}

const struct ccmm_subsys *ccmm_subsys_at(size_t i)
{
	return i < registry() ? _ccmm_subsys_table[i] : NULL;
}

int ccmm_boot(struct ccmm_platform *plat, uint64_t seed, struct ccmm_machine **out)
{
	size_t nr = registry(), i;
	struct ccmm_machine *m;
	int ret;

	if (nr > CCMM_MAX_SUBSYS) {
		ccmm_platform_free(plat);
		return -E2BIG;
	}
	ret = ccmm_machine_create(plat, seed, &m);
	if (ret)
		return ret;
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
