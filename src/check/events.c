// SPDX-License-Identifier: MIT
/* The event log, violation counts, and the map hook that keeps mapping counts and finds cache aliases. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/internal.h"

#define DEFAULT_MAX_EVENTS 100000

struct vcount {
	const struct ccmm_rule *rule;
	int actor;
	size_t n;
};

struct checker_priv {
	struct ccmm_checker pub;
	struct vcount *counts;
	size_t nr_counts, cap_counts;
};

static struct checker_priv *priv_of(struct ccmm_machine *m)
{
	return (struct checker_priv *)ccmm_subsys_data(m, &ccmm_subsys_check);
}

static void count_violation(struct checker_priv *c, const struct ccmm_rule *rule, int actor)
{
	for (size_t i = 0; i < c->nr_counts; i++) {
		if (c->counts[i].rule == rule && c->counts[i].actor == actor) {
			c->counts[i].n++;
			return;
		}
	}
	if (ccmm_grow((void **)&c->counts, &c->cap_counts, c->nr_counts + 1, sizeof(*c->counts)))
		return;
	c->counts[c->nr_counts].rule = rule;
	c->counts[c->nr_counts].actor = actor;
	c->counts[c->nr_counts].n = 1;
	c->nr_counts++;
}

static uint64_t record_v(struct ccmm_ctx *ctx, const struct ccmm_rule *rule, const struct ccmm_access *a,
			 uint64_t addr, const struct ccmm_walk *w, uint64_t pa, enum ccmm_outcome outcome, const char *fmt,
			 va_list ap)
{
	struct checker_priv *c = priv_of(ctx->m);
	struct ccmm_event e;
	uint64_t seq;

	memset(&e, 0, sizeof(e));
	e.time_ns = ctx->now_ns;
	e.actor = ctx->actor;
	snprintf(e.actor_name, sizeof(e.actor_name), "%s", ctx->actor_name ? ctx->actor_name : "");
	snprintf(e.op, sizeof(e.op), "%s", ctx->op ? ctx->op : "");
	e.where = ctx->where;
	e.rule = rule;
	e.outcome = outcome;
	e.device = -1;
	if (a) {
		e.has_access = true;
		e.who = a->who;
		e.rw = a->rw;
		e.addr = addr;
		e.len = a->len;
		e.device = a->who == CCMM_INIT_DEVICE ? a->device : -1;
		if (a->pgt)
			snprintf(e.pgt, sizeof(e.pgt), "%s", a->pgt->name);
	}
	if (w) {
		e.pte = w->pte;
		e.level = w->level;
		e.stale = w->stale;
	}
	e.pa = pa;
	if (pa != ~0ULL) {
		const struct ccmm_mem_range *r = ccmm_platform_range(ctx->m->plat, pa);

		if (r && !ccmm_phys_peek(ctx->m, pa, &e.page)) {
			e.has_page = true;
			e.kind = r->kind;
			e.page.data = NULL;
			e.hist = e.page.hist;
		}
	}
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	ccmm_count(ctx, CCMM_CTR_violations, 1);

	if (!c)
		return 0;
	pthread_mutex_lock(&c->pub.lock);
	seq = ++c->pub.seq;
	e.seq = seq;
	count_violation(c, rule, ctx->actor);
	if (c->pub.nr >= c->pub.max_events ||
	    ccmm_grow((void **)&c->pub.ev, &c->pub.cap, c->pub.nr + 1, sizeof(*c->pub.ev)))
		c->pub.dropped++;
	else
		c->pub.ev[c->pub.nr++] = e;
	pthread_mutex_unlock(&c->pub.lock);
	return seq;
}

void _ccmm_check_record(struct ccmm_ctx *ctx, const struct ccmm_rule *rule, const struct ccmm_access *a,
		       uint64_t addr, const struct ccmm_walk *w, uint64_t pa, enum ccmm_outcome outcome, const char *fmt,
		       ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_v(ctx, rule, a, addr, w, pa, outcome, fmt, ap);
	va_end(ap);
}

uint64_t ccmm_violation(struct ccmm_ctx *ctx, const struct ccmm_rule *rule, uint64_t pa, const char *fmt, ...)
{
	va_list ap;
	uint64_t seq;

	va_start(ap, fmt);
	seq = record_v(ctx, rule, NULL, 0, NULL, pa, CCMM_OK, fmt, ap);
	va_end(ap);
	return seq;
}

size_t ccmm_events_count(struct ccmm_machine *m)
{
	struct checker_priv *c = priv_of(m);
	size_t n;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->pub.lock);
	n = c->pub.nr;
	pthread_mutex_unlock(&c->pub.lock);
	return n;
}

int ccmm_event_get(struct ccmm_machine *m, size_t i, struct ccmm_event *out)
{
	struct checker_priv *c = priv_of(m);
	int ret = -ENOENT;

	if (!c)
		return -ENOENT;
	pthread_mutex_lock(&c->pub.lock);
	if (i < c->pub.nr) {
		*out = c->pub.ev[i];
		ret = 0;
	}
	pthread_mutex_unlock(&c->pub.lock);
	return ret;
}

size_t ccmm_violations_count(struct ccmm_machine *m, const struct ccmm_rule *rule, int actor)
{
	struct checker_priv *c = priv_of(m);
	size_t n = 0;

	if (!c)
		return 0;
	pthread_mutex_lock(&c->pub.lock);
	for (size_t i = 0; i < c->nr_counts; i++)
		if ((!rule || c->counts[i].rule == rule) && (actor == CCMM_ANY_ACTOR || c->counts[i].actor == actor))
			n += c->counts[i].n;
	pthread_mutex_unlock(&c->pub.lock);
	return n;
}

/* ------------------------------------------------------------------ */
/* Mapping counts and cache aliases                                    */
/* ------------------------------------------------------------------ */

static void inc16(uint16_t *v)
{
	if (*v != UINT16_MAX)
		(*v)++;
}

static void dec16(uint16_t *v)
{
	if (*v && *v != UINT16_MAX)
		(*v)--;
}

/*
 * The direct map's cache mode for @pa, or -1 when the direct map does not
 * map it. @held: the caller holds the direct map's lock (a hook on init_mm).
 */
static int direct_map_mode(struct ccmm_machine *m, uint64_t pa, bool held)
{
	struct ccmm_walk w;

	if (!m->direct_map)
		return -1;
	if (held ? ccmm_pgt_walk_locked(m->direct_map, CCMM_PAGE_OFFSET + pa, &w)
		 : ccmm_pgt_walk(m->direct_map, CCMM_PAGE_OFFSET + pa, &w))
		return -1;
	return (int)ccmm_pte_cache_mode(w.pte, w.level);
}

struct conflict {
	bool found;
	uint64_t pa;
	enum ccmm_cache_mode theirs;
	bool direct_map;
	unsigned others;
};

/* Would a mapping of [pa, pa+size) with @mode alias another with a different mode? */
static void find_conflict(struct ccmm_machine *m, uint64_t pa, uint64_t size, enum ccmm_cache_mode mode, bool held,
			  struct conflict *cf)
{
	memset(cf, 0, sizeof(*cf));
	for (uint64_t a = pa; a < pa + size; a += CCMM_PAGE_SIZE) {
		const struct ccmm_mem_range *r = ccmm_platform_range(m->plat, a);
		struct ccmm_page pg;

		if (!r || r->kind == CCMM_RANGE_EPC)
			continue;
		if (r->kind == CCMM_RANGE_RAM) {
			int dm = direct_map_mode(m, a, held);

			if (dm >= 0 && dm != (int)mode) {
				cf->found = true;
				cf->pa = a;
				cf->theirs = (enum ccmm_cache_mode)dm;
				cf->direct_map = true;
				return;
			}
		}
		if (ccmm_phys_peek(m, a, &pg))
			continue;
		for (int c = 0; c < CCMM_CACHE_NR; c++) {
			if (c != (int)mode && pg.map[c]) {
				cf->found = true;
				cf->pa = a;
				cf->theirs = (enum ccmm_cache_mode)c;
				cf->others = pg.map[c];
				return;
			}
		}
	}
}

int ccmm_check_cache_conflict(struct ccmm_ctx *ctx, uint64_t pa, uint64_t size, enum ccmm_cache_mode mode,
			      const char *what)
{
	struct conflict cf;

	find_conflict(ctx->m, pa, size, mode, false, &cf);
	if (!cf.found)
		return 0;
	_ccmm_check_record(ctx, &ccmm_rule_cache_alias, NULL, 0, NULL, cf.pa, CCMM_OK,
			  "%s maps pa 0x%" PRIx64 " %s, but %s maps it %s", what, cf.pa, ccmm_cache_mode_name(mode),
			  cf.direct_map ? "the kernel direct map" : "another live mapping",
			  ccmm_cache_mode_name(cf.theirs));
	return 1;
}

static void map_hook(struct ccmm_ctx *ctx, struct ccmm_pgtable *pt, uint64_t va, uint64_t pa, uint64_t size,
		     uint64_t pte, bool map)
{
	struct ccmm_machine *m = pt->m;
	enum ccmm_cache_mode mode = ccmm_pte_cache_mode(pte, 1);
	bool enc = ccmm_pte_is_private(m, pte);
	struct conflict cf = { 0 };

	if (map && pt->kind != CCMM_PGT_IOMMU)
		find_conflict(m, pa, size, mode, pt == m->direct_map, &cf);

	for (uint64_t a = pa; a < pa + size; a += CCMM_PAGE_SIZE) {
		const struct ccmm_mem_range *r = ccmm_platform_range(m->plat, a);
		struct ccmm_page *pg;

		if (!r)
			continue;
		pg = ccmm_phys_lock(m, a);
		if (!pg)
			continue;
		if (pt->kind == CCMM_PGT_IOMMU) {
			if (map)
				inc16(&pg->map_io);
			else
				dec16(&pg->map_io);
		} else if (map) {
			inc16(&pg->map[mode]);
			if (enc)
				inc16(&pg->map_enc);
			if (pt->kind == CCMM_PGT_HOST)
				inc16(&pg->map_host);
		} else {
			dec16(&pg->map[mode]);
			if (enc)
				dec16(&pg->map_enc);
			if (pt->kind == CCMM_PGT_HOST)
				dec16(&pg->map_host);
		}
		ccmm_phys_unlock(m, a);
	}

	if (cf.found && ctx) {
		char pteb[128];
		struct ccmm_walk w = { pte, 1, pa, false };

		ccmm_pte_format(m, pte, size >= CCMM_PUD_SIZE ? 3 : size >= CCMM_PMD_SIZE ? 2 : 1, pteb, sizeof(pteb));
		_ccmm_check_record(ctx, &ccmm_rule_cache_alias, NULL, va, &w, cf.pa, CCMM_OK,
				  "%s maps pa 0x%" PRIx64 " at va 0x%" PRIx64 " %s (%s), but %s maps it %s", pt->name, cf.pa,
				  va + (cf.pa - pa), ccmm_cache_mode_name(mode), pteb,
				  cf.direct_map ? "the kernel direct map" : "another live mapping",
				  ccmm_cache_mode_name(cf.theirs));
	}
}

int ccmm_check_set_device_trusted(struct ccmm_machine *m, int dev, bool trusted)
{
	struct ccmm_checker *ck = ccmm_checker(m);

	if (!ck || dev < 0 || dev >= 64 || (size_t)dev >= m->plat->nr_devices)
		return -EINVAL;
	if (trusted)
		atomic_fetch_or(&ck->trusted_devs, 1ULL << dev);
	else
		atomic_fetch_and(&ck->trusted_devs, ~(1ULL << dev));
	return 0;
}

bool ccmm_check_device_trusted(struct ccmm_machine *m, int dev)
{
	struct ccmm_checker *ck = ccmm_checker(m);

	return ck && dev >= 0 && dev < 64 && (atomic_load(&ck->trusted_devs) >> dev) & 1;
}

bool _ccmm_check_private_in(struct ccmm_machine *m, uint64_t base, uint64_t size, uint64_t except)
{
	for (uint64_t a = base; a < base + size; a += CCMM_PMD_SIZE) {
		struct ccmm_chunk *c = ccmm_phys_chunk(m, a, false);
		struct ccmm_phys_range *r;

		if (c) {
			if (c->nr_private)
				return true;
			continue;
		}
		r = ccmm_phys_range_of(m, a);
		if (r && r->def_state != CCMM_PS_SHARED && a != CCMM_ALIGN_DOWN(except, CCMM_PMD_SIZE))
			return true;
	}
	return false;
}

struct ccmm_checker *ccmm_checker(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_check);
}

int _ccmm_check_init(struct ccmm_machine *m)
{
	struct checker_priv *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	pthread_mutex_init(&c->pub.lock, NULL);
	c->pub.max_events = DEFAULT_MAX_EVENTS;
	ccmm_subsys_set_data(m, &ccmm_subsys_check, c);
	ccmm_mmu_set_map_hook(m, map_hook);
	return 0;
}

void _ccmm_check_fini(struct ccmm_machine *m)
{
	struct checker_priv *c = priv_of(m);

	if (!c)
		return;
	ccmm_mmu_set_map_hook(m, NULL);
	pthread_mutex_destroy(&c->pub.lock);
	free(c->pub.ev);
	free(c->counts);
	free(c);
	ccmm_subsys_set_data(m, &ccmm_subsys_check, NULL);
}
