// SPDX-License-Identifier: MIT
/* A machine instance and acting contexts. */
#include "platform/internal.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

const char *ccmm_page_state_name(enum ccmm_page_state s)
{
	static const char *const n[] = { "shared", "private", "pending" };

	return (unsigned)s < CCMM_ARRAY_SIZE(n) ? n[s] : "?";
}

const char *const ccmm_cache_mode_names[] = { "wb", "wc", "uc", NULL };

const char *ccmm_cache_mode_name(enum ccmm_cache_mode c)
{
	return (unsigned)c < CCMM_CACHE_NR ? ccmm_cache_mode_names[c] : "?";
}

/* Owner ID of the guest in guest modes; 0 is the host. */
#define GUEST_OWNER 1

static int phys_init(struct ccmm_machine *m)
{
	const struct ccmm_platform *p = m->plat;

	m->phys.nr = p->nr_ranges;
	m->phys.budget = ccmm_platform_host_limit();
	atomic_init(&m->phys.exhausted_pa, UINT64_MAX);
	m->phys.mee_mode = CCMM_MEE_ON_DEMAND;
	m->phys.range = calloc(p->nr_ranges, sizeof(*m->phys.range));
	if (!m->phys.range)
		return -ENOMEM;
	for (size_t i = 0; i < p->nr_ranges; i++) {
		struct ccmm_phys_range *r = &m->phys.range[i];
		const struct ccmm_mem_range *d = &p->ranges[i];

		r->def_state = CCMM_PS_SHARED;
		r->def_owner = 0;
		if (d->kind == CCMM_RANGE_RAM) {
			if (ccmm_cc_private_by_default(p->mode)) {
				r->def_state = CCMM_PS_PRIVATE;
				r->def_owner = GUEST_OWNER;
			} else if (p->mode == CCMM_CC_SME) {
				/* SME: the kernel maps all memory with the C-bit */
				r->def_state = CCMM_PS_PRIVATE;
			}
		}
		if (_ccmm_phys_range_init(r, d))
			return -ENOMEM;
	}
	return _ccmm_phys_granules_init(m);
}

static void phys_fini(struct ccmm_machine *m)
{
	for (size_t i = 0; m->phys.range && i < m->phys.nr; i++)
		_ccmm_phys_range_fini(&m->phys.range[i]);
	free(m->phys.range);
	free(m->phys.granule);
}

_Static_assert(CCMM_COST_NR <= CCMM_COST_MAX && CCMM_CTR_NR <= CCMM_CTR_MAX, "raise CCMM_COST_MAX / CCMM_CTR_MAX");
_Static_assert(sizeof(struct ccmm_costs) == CCMM_COST_NR * sizeof(uint64_t), "struct ccmm_costs is one uint64_t per cost");

int ccmm_machine_create(struct ccmm_platform *plat, uint64_t seed, struct ccmm_machine **out)
{
	struct ccmm_machine *m = calloc(1, sizeof(*m));
	int ret;

	if (!m) {
		ccmm_platform_free(plat);
		return -ENOMEM;
	}
	m->plat = plat;
	m->seed = seed;
	memcpy(m->cost, &plat->costs, sizeof(plat->costs)); /* the machine's own; boot/ adds the subsystems' */
	m->enc_mask = ccmm_platform_enc_mask(plat);
	m->pa_mask = ((plat->phys_bits >= 64 ? ~0ULL : (1ULL << plat->phys_bits)) - 1) & ~(CCMM_PAGE_SIZE - 1) &
		     ~m->enc_mask;
	ret = phys_init(m);
	if (!ret)
		ret = ccmm_mee_create(seed, &m->mee);
	if (ret) {
		ccmm_machine_destroy(m);
		return ret;
	}
	*out = m;
	return 0;
}

void ccmm_machine_destroy(struct ccmm_machine *m)
{
	if (!m)
		return;
	phys_fini(m);
	ccmm_mee_destroy(m->mee);
	ccmm_platform_free(m->plat);
	free(m);
}

void ccmm_ctx_init(struct ccmm_ctx *ctx, struct ccmm_machine *m, int actor, const char *name)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->m = m;
	ctx->actor = actor;
	ctx->cpu = -1;
	ctx->actor_name = name ? name : "";
	ccmm_rng_seed(&ctx->rng, m ? m->seed : 0, (uint64_t)(actor + 1));
}

/* The contended lock: spin on a plain load (no cache-line ping-pong), then yield between tries. */
void ccmm_lock_wait(struct ccmm_lock *l)
{
	for (unsigned i = 0;; i++) {
		uint32_t free_v = 0;

		if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
		    atomic_compare_exchange_weak_explicit(&l->v, &free_v, 1, memory_order_acquire, memory_order_relaxed))
			return;
		if (i < 100) {
#if defined(__x86_64__) || defined(__i386__)
			__builtin_ia32_pause();
#endif
		} else {
			sched_yield();
		}
	}
}

void ccmm_charge_copy_new(struct ccmm_ctx *ctx, uint64_t bytes)
{
	unsigned line = ctx->copy_line ? ctx->copy_line : CCMM_COST_copy_mbps;
	uint64_t mbps = ctx->m->cost[line];
	uint64_t t;

	if (!mbps)
		return;
	/* bytes / (mbps * 1e6 B/s) in ns = bytes * 1000 / mbps */
	t = (bytes * 1000 + mbps - 1) / mbps;
	ctx->copy_memo[0] = bytes;
	ctx->copy_memo[1] = mbps;
	ctx->copy_memo[2] = t;
	ctx->now_ns += t;
	ctx->cost_ns[line] += t;
	ctx->cost_n[line] += bytes;
	if (ctx->attr_dev)
		ccmm_ctx_attribute(ctx, line, t, bytes);
}

const char *const ccmm_attr_kind_names[CCMM_ATTR_NR] = { "bounce_copies", "conversions", "exits", "iotlb_misses",
							 "other" };

/* The kind of a cost outside any scope. */
static enum ccmm_attr_kind attr_kind_of(unsigned c)
{
	switch (c) {
	case CCMM_COST_ve_ns:
	case CCMM_COST_tdvmcall_ns:
	case CCMM_COST_hypercall_ns:
	case CCMM_COST_ghcb_vmgexit_ns:
	case CCMM_COST_vmexit_ns:
		return CCMM_ATTR_EXIT;
	case CCMM_COST_iotlb_miss_ns:
		return CCMM_ATTR_IOTLB;
	case CCMM_COST_tdx_mapgpa_page_ns:
	case CCMM_COST_tdx_accept_ns:
	case CCMM_COST_pvalidate_ns:
	case CCMM_COST_rmpupdate_ns:
	case CCMM_COST_psmash_ns:
	case CCMM_COST_uv_call_ns:
	case CCMM_COST_cpa_split_ns:
		return CCMM_ATTR_CONVERSION;
	default:
		return CCMM_ATTR_OTHER;
	}
}

void ccmm_ctx_attribute(struct ccmm_ctx *ctx, unsigned c, uint64_t ns, uint64_t n)
{
	int d = ctx->attr_dev - 1;
	enum ccmm_attr_kind k = ctx->attr_scope ? (enum ccmm_attr_kind)(ctx->attr_scope - 1) : attr_kind_of(c);

	if (d < 0 || d >= CCMM_ATTR_DEVS)
		return;
	ctx->attr_ns[d][k] += ns;
	/* a bounce's bytes are counted once by the bounce (ccmm_ctx_attribute_bytes), not by each access of its copy */
	if (k != CCMM_ATTR_BOUNCE)
		ctx->attr_n[d][k] += n;
}

void ccmm_ctx_attribute_bytes(struct ccmm_ctx *ctx, enum ccmm_attr_kind kind, uint64_t bytes)
{
	int d = ctx->attr_dev - 1;

	if (d >= 0 && d < CCMM_ATTR_DEVS)
		ctx->attr_n[d][kind] += bytes;
}

void ccmm_ctx_accumulate(struct ccmm_ctx *dst, const struct ccmm_ctx *src)
{
	for (int d = 0; d < CCMM_ATTR_DEVS; d++)
		for (int k = 0; k < CCMM_ATTR_NR; k++) {
			dst->attr_ns[d][k] += src->attr_ns[d][k];
			dst->attr_n[d][k] += src->attr_n[d][k];
		}
	for (int i = 0; i < CCMM_COST_MAX; i++) {
		dst->cost_ns[i] += src->cost_ns[i];
		dst->cost_n[i] += src->cost_n[i];
	}
	for (int i = 0; i < CCMM_CTR_MAX; i++)
		dst->ctr[i] += src->ctr[i];
}
