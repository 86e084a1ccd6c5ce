// SPDX-License-Identifier: MIT
/*
 * The dmem controller (kernel/cgroup/dmem.c as merged for 6.14): device
 * memory regions registered by drivers, a pool per region per cgroup with a
 * byte page counter (mm/page_counter.c semantics: hierarchical try-charge,
 * failcnt, watermark, min/low protection propagated to the parent), the
 * limit pool a failed charge names, the eviction filter TTM applies within
 * it, and the interface files dmem.capacity, dmem.current, dmem.min,
 * dmem.low and dmem.max.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"

struct ccmm_dmem_region {
	struct ccmm_cgroup_root *root;
	char name[96];
	uint64_t size;
	bool unregistered;
	struct ccmm_dmem_region *next;
};

/* struct dmem_cgroup_pool_state: its page_counter, in bytes. */
struct ccmm_dmem_pool {
	struct ccmm_dmem_region *region;
	struct ccmm_cgroup *cg;
	struct ccmm_dmem_pool *parent;     /* the parent cgroup's pool of the region; NULL at the root */
	struct ccmm_dmem_pool *next_in_cg;
	_Atomic uint64_t usage, max, min, low, watermark, failcnt;
	_Atomic uint64_t emin, elow;       /* effective protection, recomputed before use */
	_Atomic uint64_t min_usage, low_usage;               /* min(usage, min/low), as propagated */
	_Atomic uint64_t children_min_usage, children_low_usage;
};

const char *ccmm_dmem_region_name(const struct ccmm_dmem_region *region)
{
	return region->name;
}

uint64_t ccmm_dmem_region_size(const struct ccmm_dmem_region *region)
{
	return region->size;
}

int ccmm_dmem_register_region(struct ccmm_cgroup_root *root, uint64_t size, const char *name,
			      struct ccmm_dmem_region **out)
{
	struct ccmm_dmem_region *r, **pp;

	*out = NULL;
	if (!size)
		return 0;
	if (!name || !name[0] || strlen(name) >= sizeof(r->name) || strpbrk(name, " \t\n"))
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->root = root;
	r->size = size;
	snprintf(r->name, sizeof(r->name), "%s", name);
	pthread_mutex_lock(&root->dmem_lock);
	for (pp = &root->dmem_regions; *pp; pp = &(*pp)->next)
		;
	*pp = r;
	pthread_mutex_unlock(&root->dmem_lock);
	*out = r;
	return 0;
}

void ccmm_dmem_unregister_region(struct ccmm_dmem_region *region)
{
	if (!region)
		return;
	pthread_mutex_lock(&region->root->dmem_lock);
	region->unregistered = true;
	pthread_mutex_unlock(&region->root->dmem_lock);
}

struct ccmm_cgroup *ccmm_dmem_cg_css(struct ccmm_cgroup *cg)
{
	while (cg->parent && !ccmm_cgroup_has_ctrl(cg, CCMM_CGRP_DMEM))
		cg = cg->parent;
	return cg;
}

struct ccmm_cgroup *ccmm_dmem_pool_cgroup(const struct ccmm_dmem_pool *pool)
{
	return pool->cg;
}

uint64_t ccmm_dmem_pool_usage(const struct ccmm_dmem_pool *pool)
{
	return atomic_load(&pool->usage);
}

uint64_t ccmm_dmem_pool_failcnt(const struct ccmm_dmem_pool *pool)
{
	return atomic_load(&pool->failcnt);
}

/* ---- pools ------------------------------------------------------------------------- */

/* @cg's pool of @region, or NULL. dmem lock held. */
static struct ccmm_dmem_pool *find_pool(struct ccmm_cgroup *cg, const struct ccmm_dmem_region *region)
{
	for (struct ccmm_dmem_pool *p = cg->dmem_pools; p; p = p->next_in_cg)
		if (p->region == region)
			return p;
	return NULL;
}

/*
 * get_cg_pool_locked: @cg's pool of @region, creating it and its missing
 * ancestors' (no limits: reset_all_resource_limits). dmem lock held.
 */
static struct ccmm_dmem_pool *get_pool(struct ccmm_cgroup *cg, struct ccmm_dmem_region *region)
{
	struct ccmm_dmem_pool *p = find_pool(cg, region), *parent;

	if (p)
		return p;
	parent = NULL;
	if (cg->parent) {
		parent = get_pool(cg->parent, region);
		if (!parent)
			return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->region = region;
	p->cg = cg;
	p->parent = parent;
	atomic_init(&p->max, CCMM_DMEM_MAX);
	p->next_in_cg = cg->dmem_pools;
	cg->dmem_pools = p;
	return p;
}

void _ccmm_dmem_cgroup_free(struct ccmm_cgroup *cg)
{
	while (cg->dmem_pools) {
		struct ccmm_dmem_pool *p = cg->dmem_pools;

		cg->dmem_pools = p->next_in_cg;
		free(p);
	}
}

void _ccmm_dmem_root_free(struct ccmm_cgroup_root *root)
{
	while (root->dmem_regions) {
		struct ccmm_dmem_region *r = root->dmem_regions;

		root->dmem_regions = r->next;
		free(r);
	}
}

/* ---- page_counter (mm/page_counter.c, with protection support) ----------------------- */

/* propagate_protected_usage: min(usage, min) and min(usage, low) into the parent's children sums. */
static void propagate_protected_usage(struct ccmm_dmem_pool *c, uint64_t usage)
{
	uint64_t protected, old;

	if (!c->parent)
		return;
	protected = CCMM_MIN(usage, atomic_load(&c->min));
	old = atomic_exchange(&c->min_usage, protected);
	if (protected != old)
		atomic_fetch_add(&c->parent->children_min_usage, protected - old); /* wraps back for a decrease */
	protected = CCMM_MIN(usage, atomic_load(&c->low));
	old = atomic_exchange(&c->low_usage, protected);
	if (protected != old)
		atomic_fetch_add(&c->parent->children_low_usage, protected - old);
}

static void counter_cancel(struct ccmm_dmem_pool *c, uint64_t n)
{
	uint64_t old = atomic_fetch_sub(&c->usage, n), now;

	/* the kernel WARNs on a negative count and clamps it to 0; it never happens here */
	if (old < n) {
		atomic_store(&c->usage, 0);
		now = 0;
	} else {
		now = old - n;
	}
	propagate_protected_usage(c, now);
}

/* page_counter_try_charge: the pool whose max stopped it in *@fail. */
static bool counter_try_charge(struct ccmm_dmem_pool *counter, uint64_t n, struct ccmm_dmem_pool **fail)
{
	struct ccmm_dmem_pool *c;

	for (c = counter; c; c = c->parent) {
		uint64_t now = atomic_fetch_add(&c->usage, n) + n, w;

		if (now > atomic_load(&c->max)) {
			atomic_fetch_sub(&c->usage, n);
			atomic_fetch_add(&c->failcnt, 1);
			*fail = c;
			for (struct ccmm_dmem_pool *i = counter; i != c; i = i->parent)
				counter_cancel(i, n);
			return false;
		}
		propagate_protected_usage(c, now);
		w = atomic_load(&c->watermark);
		while (now > w && !atomic_compare_exchange_weak(&c->watermark, &w, now))
			;
	}
	return true;
}

/* (a * b) / c without overflow (mul_u64_u64_div_u64). */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
	return c ? (uint64_t)(((unsigned __int128)a * b) / c) : 0;
}

/* effective_protection() of mm/page_counter.c, with recursive protection (dmem passes true). */
static uint64_t effective_protection(uint64_t usage, uint64_t parent_usage, uint64_t setting, uint64_t parent_effective,
				     uint64_t siblings_protected)
{
	uint64_t protected = CCMM_MIN(usage, setting), ep;

	/* claims beyond what the parent affords are shared in proportion to utilization */
	if (siblings_protected > parent_effective)
		return mul_div(protected, parent_effective, siblings_protected);
	ep = protected;
	/* unclaimed protection of the parent goes to the children's unprotected usage, pro rata */
	if (parent_effective > siblings_protected && parent_usage > siblings_protected && usage > protected) {
		uint64_t parent_unclaimed = parent_effective - siblings_protected;
		uint64_t parent_unprotected = parent_usage - siblings_protected;
		uint64_t unprotected = CCMM_MIN(usage - protected, parent_unprotected);

		ep += mul_div(parent_unclaimed, unprotected, parent_unprotected);
	}
	return ep;
}

/* page_counter_calculate_protection(root, counter, true) */
static void calculate_protection(struct ccmm_dmem_pool *root, struct ccmm_dmem_pool *c)
{
	struct ccmm_dmem_pool *parent = c->parent;
	uint64_t usage, parent_usage;

	if (c == root)
		return;
	usage = atomic_load(&c->usage);
	if (!usage)
		return;
	if (parent == root) {
		atomic_store(&c->emin, atomic_load(&c->min));
		atomic_store(&c->elow, atomic_load(&c->low));
		return;
	}
	parent_usage = atomic_load(&parent->usage);
	atomic_store(&c->emin, effective_protection(usage, parent_usage, atomic_load(&c->min), atomic_load(&parent->emin),
						    atomic_load(&parent->children_min_usage)));
	atomic_store(&c->elow, effective_protection(usage, parent_usage, atomic_load(&c->low), atomic_load(&parent->elow),
						    atomic_load(&parent->children_low_usage)));
}

/* ---- charging and eviction ------------------------------------------------------------- */

int ccmm_dmem_try_charge(struct ccmm_dmem_region *region, struct ccmm_cgroup *cg, uint64_t size,
			 struct ccmm_dmem_pool **ret_pool, struct ccmm_dmem_pool **ret_limit_pool)
{
	struct ccmm_cgroup_root *root = region->root;
	struct ccmm_dmem_pool *pool, *fail;
	struct ccmm_cgroup *css = ccmm_dmem_cg_css(cg ? cg : root->top);

	*ret_pool = NULL;
	if (ret_limit_pool)
		*ret_limit_pool = NULL;
	pthread_mutex_lock(&root->dmem_lock);
	if (region->unregistered) {
		pthread_mutex_unlock(&root->dmem_lock);
		return -ENODEV;
	}
	pool = get_pool(css, region);
	pthread_mutex_unlock(&root->dmem_lock);
	if (!pool)
		return -ENOMEM;
	if (!counter_try_charge(pool, size, &fail)) {
		if (ret_limit_pool) {
			ccmm_cgroup_get(fail->cg);
			*ret_limit_pool = fail;
		}
		return -EAGAIN;
	}
	ccmm_cgroup_get(pool->cg); /* the css reference the charge holds */
	*ret_pool = pool;
	return 0;
}

void ccmm_dmem_uncharge(struct ccmm_dmem_pool *pool, uint64_t size)
{
	if (!pool)
		return;
	for (struct ccmm_dmem_pool *c = pool; c; c = c->parent)
		counter_cancel(c, size);
	ccmm_cgroup_put(pool->cg);
}

void ccmm_dmem_pool_put(struct ccmm_dmem_pool *pool)
{
	if (pool)
		ccmm_cgroup_put(pool->cg);
}

/* dmem_cgroup_calculate_protection: pre-order over @limit's subtree until @test. */
static void subtree_protection(struct ccmm_dmem_pool *limit, struct ccmm_dmem_pool *test)
{
	struct ccmm_cgroup_root *root = limit->cg->root;
	struct ccmm_cgroup *pos = NULL;

	ccmm_cgroup_tree_rdlock(root);
	pthread_mutex_lock(&root->dmem_lock);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, limit->cg))) {
		struct ccmm_dmem_pool *p = find_pool(pos, limit->region);

		if (!p)
			continue;
		calculate_protection(limit, p);
		if (p == test)
			break;
	}
	pthread_mutex_unlock(&root->dmem_lock);
	ccmm_cgroup_tree_unlock(root);
}

bool ccmm_dmem_evict_valuable(struct ccmm_dmem_pool *limit_pool, struct ccmm_dmem_pool *test_pool, bool ignore_low,
			      bool *ret_hit_low)
{
	struct ccmm_dmem_pool *p;
	uint64_t used;

	/* the allocation's own pool can always be evicted from, whatever its protection */
	if (limit_pool == test_pool)
		return true;
	if (limit_pool) {
		if (!limit_pool->cg->parent)
			return true;
		for (p = test_pool; p && p != limit_pool; p = p->parent)
			;
		if (!p)
			return false; /* not below the cgroup that hit its limit */
	} else {
		/* no cgroup limit was hit: protection counts from the root */
		for (limit_pool = test_pool; limit_pool->parent; limit_pool = limit_pool->parent)
			;
	}
	subtree_protection(limit_pool, test_pool);
	used = atomic_load(&test_pool->usage);
	if (used <= atomic_load(&test_pool->emin))
		return false;
	if (!ignore_low) {
		if (used > atomic_load(&test_pool->elow))
			return true;
		*ret_hit_low = true;
		return false;
	}
	return true;
}

uint64_t ccmm_dmem_usage(struct ccmm_cgroup *cg, const struct ccmm_dmem_region *region)
{
	struct ccmm_dmem_pool *p;
	uint64_t v;

	pthread_mutex_lock(&region->root->dmem_lock);
	p = find_pool(cg, region);
	v = p ? atomic_load(&p->usage) : 0;
	pthread_mutex_unlock(&region->root->dmem_lock);
	return v;
}

void _ccmm_dmem_cgroup_offline(struct ccmm_cgroup *cg)
{
	/* dmemcs_offline: reset_all_resource_limits on every pool of the dying cgroup */
	pthread_mutex_lock(&cg->root->dmem_lock);
	for (struct ccmm_dmem_pool *p = cg->dmem_pools; p; p = p->next_in_cg) {
		atomic_store(&p->min, 0);
		atomic_store(&p->low, 0);
		atomic_store(&p->max, CCMM_DMEM_MAX);
		for (struct ccmm_dmem_pool *c = p; c; c = c->parent)
			propagate_protected_usage(c, atomic_load(&c->usage));
	}
	pthread_mutex_unlock(&cg->root->dmem_lock);
}

/* ---- interface files -------------------------------------------------------------------- */

int ccmm_dmem_parse_limit(const char *text, char *region, size_t len, uint64_t *value)
{
	size_t n = strcspn(text, " \t");
	const char *v, *end;
	bool overflow;
	uint64_t x;

	/* strsep(&buf, " \t"): no separator, or an empty name, is -EINVAL */
	if (!n || !text[n] || n >= len)
		return -EINVAL;
	memcpy(region, text, n);
	region[n] = '\0';
	v = text + n + 1;
	if (!strcmp(v, "max")) {
		*value = CCMM_DMEM_MAX;
		return 0;
	}
	x = _ccmm_memparse(v, &end, &overflow); /* the kernel's wraps silently */
	if (*end)
		return -EINVAL;
	*value = x;
	return 0;
}

static void show_value(struct cg_buf *b, const char *name, uint64_t v)
{
	if (v < CCMM_DMEM_MAX)
		_ccmm_cgb_printf(b, "%s %" PRId64 "\n", name, (int64_t)v);
	else
		_ccmm_cgb_printf(b, "%s max\n", name);
}

void _ccmm_dmem_capacity_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	pthread_mutex_lock(&cg->root->dmem_lock);
	for (struct ccmm_dmem_region *r = cg->root->dmem_regions; r; r = r->next)
		if (!r->unregistered)
			_ccmm_cgb_printf(b, "%s %" PRIu64 "\n", r->name, r->size);
	pthread_mutex_unlock(&cg->root->dmem_lock);
}

enum dmem_field { F_CURRENT, F_MIN, F_LOW, F_MAX };

/* dmemcg_limit_show: every registered region, the field of @cg's pool (0, or max, without one). */
static void limit_show(struct ccmm_cgroup *cg, struct cg_buf *b, enum dmem_field f)
{
	pthread_mutex_lock(&cg->root->dmem_lock);
	for (struct ccmm_dmem_region *r = cg->root->dmem_regions; r; r = r->next) {
		struct ccmm_dmem_pool *p = find_pool(cg, r);
		uint64_t v;

		if (r->unregistered)
			continue;
		switch (f) {
		case F_CURRENT:
			v = p ? atomic_load(&p->usage) : 0;
			break;
		case F_MIN:
			v = p ? atomic_load(&p->min) : 0;
			break;
		case F_LOW:
			v = p ? atomic_load(&p->low) : 0;
			break;
		default:
			v = p ? atomic_load(&p->max) : CCMM_DMEM_MAX;
			break;
		}
		show_value(b, r->name, v);
	}
	pthread_mutex_unlock(&cg->root->dmem_lock);
}

void _ccmm_dmem_current_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	limit_show(cg, b, F_CURRENT);
}

void _ccmm_dmem_min_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	limit_show(cg, b, F_MIN);
}

void _ccmm_dmem_low_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	limit_show(cg, b, F_LOW);
}

void _ccmm_dmem_max_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	limit_show(cg, b, F_MAX);
}

/* dmemcg_limit_write: find the region, parse the limit, apply it to @cg's pool (created if need be). */
static int limit_write(struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len, enum dmem_field f)
{
	struct ccmm_cgroup_root *root;
	struct ccmm_dmem_region *r;
	struct ccmm_dmem_pool *p;
	char name[96];
	uint64_t v;
	int ret = ccmm_dmem_parse_limit(text, name, sizeof(name), &v);

	if (ret) {
		size_t n = strcspn(text, " \t");

		if (!n || !text[n])
			return _ccmm_cg_why(why, why_len, ret, "'%s': expected 'REGION max' or 'REGION BYTES'", text);
		return _ccmm_cg_why(why, why_len, ret, "'%s': '%s' is neither 'max' nor a size", text, text + n + 1);
	}
	if (!cg)
		return 0;
	root = cg->root;
	pthread_mutex_lock(&root->dmem_lock);
	for (r = root->dmem_regions; r && (r->unregistered || strcmp(r->name, name)); r = r->next)
		;
	if (!r) {
		pthread_mutex_unlock(&root->dmem_lock);
		return _ccmm_cg_why(why, why_len, -EINVAL, "no dmem region '%s'", name);
	}
	p = get_pool(cg, r);
	if (!p) {
		pthread_mutex_unlock(&root->dmem_lock);
		return -ENOMEM;
	}
	switch (f) {
	case F_MIN:
		atomic_store(&p->min, v);
		break;
	case F_LOW:
		atomic_store(&p->low, v);
		break;
	default:
		/*
		 * set_resource_max ignores page_counter_set_max's -EBUSY: a
		 * limit below the usage leaves the old one in place, and the
		 * write succeeds all the same
		 */
		if (atomic_load(&p->usage) <= v)
			atomic_store(&p->max, v);
		break;
	}
	if (f != F_MAX)
		for (struct ccmm_dmem_pool *c = p; c; c = c->parent)
			propagate_protected_usage(c, atomic_load(&c->usage));
	pthread_mutex_unlock(&root->dmem_lock);
	return 0;
}

int _ccmm_dmem_min_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	(void)ctx;
	return limit_write(cg, text, why, why_len, F_MIN);
}

int _ccmm_dmem_low_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	(void)ctx;
	return limit_write(cg, text, why, why_len, F_LOW);
}

int _ccmm_dmem_max_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	(void)ctx;
	return limit_write(cg, text, why, why_len, F_MAX);
}
