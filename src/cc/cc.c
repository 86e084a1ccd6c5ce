// SPDX-License-Identifier: MIT
/* The secure world: page-state changes per mode, their rules, costs and history. */
#include "cc/cc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

const char *ccmm_conv_op_name(enum ccmm_conv_op op)
{
	static const char *const n[] = {
		"to_shared",   "to_private", "mapgpa_shared", "mapgpa_private", "accept",         "rmpupdate_assign",
		"rmpupdate_shared", "psmash", "pvalidate",   "pvalidate_rescind", "uv_share_page", "uv_unshare_page",
	};

	return (unsigned)op < CCMM_ARRAY_SIZE(n) ? n[op] : "?";
}

static struct ccmm_cc *cc_of(struct ccmm_machine *m)
{
	return ccmm_subsys_data(m, &ccmm_subsys_cc);
}

static int cc_init(struct ccmm_machine *m)
{
	struct ccmm_cc *cc = calloc(1, sizeof(*cc));

	if (!cc)
		return -ENOMEM;
	pthread_mutex_init(&cc->lock, NULL);
	cc->fail_after = -1;
	ccmm_subsys_set_data(m, &ccmm_subsys_cc, cc);
	return 0;
}

static void cc_exit(struct ccmm_machine *m)
{
	struct ccmm_cc *cc = cc_of(m);

	if (!cc)
		return;
	pthread_mutex_destroy(&cc->lock);
	free(cc->hist);
	free(cc);
	ccmm_subsys_set_data(m, &ccmm_subsys_cc, NULL);
}

struct ccmm_subsys ccmm_subsys_cc = {
	.name = "cc",
	.init = cc_init,
	.exit = cc_exit,
};

void ccmm_cc_fail_after(struct ccmm_machine *m, long pages)
{
	pthread_mutex_lock(&cc_of(m)->lock);
	cc_of(m)->fail_after = pages;
	pthread_mutex_unlock(&cc_of(m)->lock);
}

/* May the other side convert one more page? One refusal, then back to normal. */
static bool vmm_agrees(struct ccmm_machine *m)
{
	bool ok = true;

	pthread_mutex_lock(&cc_of(m)->lock);
	if (cc_of(m)->fail_after == 0) {
		ok = false;
		cc_of(m)->fail_after = -1;
	} else if (cc_of(m)->fail_after > 0) {
		cc_of(m)->fail_after--;
	}
	pthread_mutex_unlock(&cc_of(m)->lock);
	return ok;
}

/* Append a history record for the locked page @pg at @pa. */
static void hist_add(struct ccmm_ctx *ctx, uint64_t pa, struct ccmm_page *pg, enum ccmm_conv_op op,
		     enum ccmm_page_state from, enum ccmm_page_state to)
{
	struct ccmm_cc *cc = cc_of(ctx->m);
	struct ccmm_hist_rec *h;

	pthread_mutex_lock(&cc->lock);
	if (cc->nr_hist < UINT32_MAX - 1 && ccmm_phys_charge_host(ctx->m, pa, sizeof(*cc->hist)) &&
	    !ccmm_grow((void **)&cc->hist, &cc->cap_hist, cc->nr_hist + 1, sizeof(*cc->hist))) {
		h = &cc->hist[cc->nr_hist];
		h->pfn = pa >> CCMM_PAGE_SHIFT;
		h->time_ns = ctx->now_ns;
		h->prev = pg->hist;
		h->actor = (int16_t)ctx->actor;
		h->op = (uint8_t)op;
		h->from = (uint8_t)from;
		h->to = (uint8_t)to;
		pg->hist = (uint32_t)++cc->nr_hist;
	}
	pthread_mutex_unlock(&cc->lock);
}

size_t ccmm_cc_history(struct ccmm_machine *m, uint32_t head, struct ccmm_hist_rec *out, size_t max)
{
	size_t n = 0;

	pthread_mutex_lock(&cc_of(m)->lock);
	while (head && n < max && head <= cc_of(m)->nr_hist) {
		out[n] = cc_of(m)->hist[head - 1];
		head = out[n].prev;
		n++;
	}
	pthread_mutex_unlock(&cc_of(m)->lock);
	return n;
}

/* Every page of [pa, pa + npages) is RAM. */
static bool all_ram(struct ccmm_machine *m, uint64_t pa, uint64_t npages)
{
	uint64_t end;

	if (ccmm_range_end(pa, npages, CCMM_PAGE_SHIFT, &end))
		return false;
	while (pa < end) {
		const struct ccmm_mem_range *r = ccmm_platform_range(m->plat, pa);

		if (!r || r->kind != CCMM_RANGE_RAM)
			return false;
		pa = CCMM_MIN(end, r->base + r->size);
	}
	return true;
}

/* Change the state of the page at @pa; records history when it changes. Returns the old state. */
static enum ccmm_page_state set_state(struct ccmm_ctx *ctx, uint64_t pa, enum ccmm_page_state to, uint16_t owner,
				      enum ccmm_conv_op op, bool discard)
{
	struct ccmm_page *pg = ccmm_phys_lock(ctx->m, pa);
	enum ccmm_page_state from;

	if (!pg)
		return to;
	from = (enum ccmm_page_state)pg->state;
	if (from != to || op == CCMM_CONV_ACCEPT) {
		ccmm_page_set_state(ctx->m, pa, pg, to, owner);
		if (discard)
			ccmm_phys_discard(ctx->m, pa, pg);
		hist_add(ctx, pa, pg, op, from, to);
	}
	ccmm_phys_unlock(ctx->m, pa);
	return from;
}

static void check_host_mapping(struct ccmm_ctx *ctx, uint64_t pa)
{
	struct ccmm_page pg;

	if (!ccmm_phys_peek(ctx->m, pa, &pg) && pg.map_host)
		ccmm_violation(ctx, &ccmm_rule_private_mapped_by_host, pa,
			       "pa 0x%" PRIx64 " becomes private while %u host mapping(s) of it remain: the host can still "
			       "touch it (unmap it from host page tables first)",
			       pa, pg.map_host);
}

static void count_conversion(struct ccmm_ctx *ctx, enum ccmm_page_state from, enum ccmm_page_state to)
{
	if (from == CCMM_PS_SHARED && to != CCMM_PS_SHARED)
		ccmm_count(ctx, CCMM_CTR_to_private, 1);
	else if (from != CCMM_PS_SHARED && to == CCMM_PS_SHARED)
		ccmm_count(ctx, CCMM_CTR_to_shared, 1);
}

/* ---- TDX ------------------------------------------------------------ */

int ccmm_tdx_map_gpa(struct ccmm_ctx *ctx, uint64_t gpa, uint64_t npages, enum ccmm_tdx_map_type type,
		     uint64_t *done)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t i;

	if (done)
		*done = 0;
	if (m->plat->mode != CCMM_CC_TDX || !npages || !CCMM_IS_ALIGNED(gpa, CCMM_PAGE_SIZE) ||
	    !all_ram(m, gpa & ~m->enc_mask, npages))
		return -EINVAL;
	gpa &= ~m->enc_mask;
	ccmm_count(ctx, CCMM_CTR_mapgpa_calls, 1);
	ccmm_charge(ctx, CCMM_COST_tdvmcall_ns, 1);
	for (i = 0; i < npages; i++) {
		uint64_t pa = gpa + (i << CCMM_PAGE_SHIFT);
		enum ccmm_page_state from;

		if (!vmm_agrees(m)) {
			if (done)
				*done = i;
			return -EIO;
		}
		ccmm_charge(ctx, CCMM_COST_tdx_mapgpa_page_ns, 1);
		if (type == CCMM_TDX_MAP_SHARED) {
			from = set_state(ctx, pa, CCMM_PS_SHARED, CCMM_OWNER_GUEST, CCMM_CONV_MAPGPA_SHARED, true);
			count_conversion(ctx, from, CCMM_PS_SHARED);
		} else {
			struct ccmm_page pg;

			if (ccmm_phys_peek(m, pa, &pg) || pg.state != CCMM_PS_SHARED)
				continue; /* already private or pending: nothing to add */
			check_host_mapping(ctx, pa);
			from = set_state(ctx, pa, CCMM_PS_PENDING, CCMM_OWNER_GUEST, CCMM_CONV_MAPGPA_PRIVATE, true);
			count_conversion(ctx, from, CCMM_PS_PENDING);
		}
	}
	if (done)
		*done = npages;
	return 0;
}

int ccmm_tdx_accept_page(struct ccmm_ctx *ctx, uint64_t gpa)
{
	struct ccmm_machine *m = ctx->m;
	struct ccmm_page *pg;
	int ret = 0;

	if (m->plat->mode != CCMM_CC_TDX || !CCMM_IS_ALIGNED(gpa, CCMM_PAGE_SIZE) || !all_ram(m, gpa, 1))
		return -EINVAL;
	pg = ccmm_phys_lock(m, gpa);
	if (!pg)
		return -ENOMEM;
	if (pg->state == CCMM_PS_PRIVATE) {
		ret = -EEXIST;
	} else if (pg->state == CCMM_PS_SHARED) {
		ret = -EINVAL;
	} else {
		ccmm_page_set_state(m, gpa, pg, CCMM_PS_PRIVATE, CCMM_OWNER_GUEST);
		ccmm_phys_discard(m, gpa, pg); /* accepted pages read as zeros */
		hist_add(ctx, gpa, pg, CCMM_CONV_ACCEPT, CCMM_PS_PENDING, CCMM_PS_PRIVATE);
		ccmm_count(ctx, CCMM_CTR_tdx_accepts, 1);
		ccmm_charge(ctx, CCMM_COST_tdx_accept_ns, 1);
	}
	ccmm_phys_unlock(m, gpa);
	return ret;
}

/* ---- SEV-SNP -------------------------------------------------------- */

static bool rmp_is_2m(struct ccmm_machine *m, uint64_t pa)
{
	struct ccmm_page pg;

	return !ccmm_phys_peek(m, pa, &pg) && (pg.flags & CCMM_PG_RMP_2M);
}

int ccmm_snp_rmpupdate(struct ccmm_ctx *ctx, uint64_t pa, bool assigned, bool huge)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t n = huge ? CCMM_CHUNK_PAGES : 1;

	if (m->plat->mode != CCMM_CC_SEV_SNP || !CCMM_IS_ALIGNED(pa, huge ? CCMM_PMD_SIZE : CCMM_PAGE_SIZE) ||
	    !all_ram(m, pa, n))
		return -EINVAL;
	if (!huge && rmp_is_2m(m, pa))
		return -EBUSY; /* FAIL_OVERLAP: PSMASH the 2 MiB entry first */
	for (uint64_t i = 0; i < n; i++) {
		struct ccmm_page pg;

		if (!ccmm_phys_peek(m, pa + (i << CCMM_PAGE_SHIFT), &pg) && (pg.flags & CCMM_PG_RMP_IMMUTABLE))
			return -EINVAL;
	}
	ccmm_count(ctx, CCMM_CTR_rmpupdates, 1);
	ccmm_charge(ctx, CCMM_COST_rmpupdate_ns, 1);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t a = pa + (i << CCMM_PAGE_SHIFT);
		struct ccmm_page *pg = ccmm_phys_lock(m, a);
		enum ccmm_page_state from, to = assigned ? CCMM_PS_PENDING : CCMM_PS_SHARED;

		if (!pg)
			return -ENOMEM;
		from = (enum ccmm_page_state)pg->state;
		if (huge)
			pg->flags |= CCMM_PG_RMP_2M;
		else
			pg->flags &= (uint8_t)~CCMM_PG_RMP_2M;
		if (from != to) {
			ccmm_page_set_state(m, a, pg, to, assigned ? CCMM_OWNER_GUEST : CCMM_OWNER_HOST);
			hist_add(ctx, a, pg, assigned ? CCMM_CONV_RMP_ASSIGN : CCMM_CONV_RMP_SHARED, from, to);
			count_conversion(ctx, from, to);
		}
		ccmm_phys_unlock(m, a);
	}
	return 0;
}

int ccmm_snp_psmash(struct ccmm_ctx *ctx, uint64_t pa)
{
	struct ccmm_machine *m = ctx->m;

	if (m->plat->mode != CCMM_CC_SEV_SNP || !CCMM_IS_ALIGNED(pa, CCMM_PMD_SIZE) || !all_ram(m, pa, CCMM_CHUNK_PAGES) ||
	    !rmp_is_2m(m, pa))
		return -EINVAL;
	ccmm_count(ctx, CCMM_CTR_psmashes, 1);
	ccmm_charge(ctx, CCMM_COST_psmash_ns, 1);
	for (uint64_t i = 0; i < CCMM_CHUNK_PAGES; i++) {
		uint64_t a = pa + (i << CCMM_PAGE_SHIFT);
		struct ccmm_page *pg = ccmm_phys_lock(m, a);

		if (!pg)
			return -ENOMEM;
		pg->flags &= (uint8_t)~CCMM_PG_RMP_2M;
		if (i == 0)
			hist_add(ctx, a, pg, CCMM_CONV_PSMASH, (enum ccmm_page_state)pg->state,
				 (enum ccmm_page_state)pg->state);
		ccmm_phys_unlock(m, a);
	}
	return 0;
}

int ccmm_snp_pvalidate(struct ccmm_ctx *ctx, uint64_t pa, bool huge, bool validate)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t n = huge ? CCMM_CHUNK_PAGES : 1;
	enum ccmm_page_state want = validate ? CCMM_PS_PENDING : CCMM_PS_PRIVATE;
	enum ccmm_page_state to = validate ? CCMM_PS_PRIVATE : CCMM_PS_PENDING;
	bool any = false;

	if (m->plat->mode != CCMM_CC_SEV_SNP || !CCMM_IS_ALIGNED(pa, huge ? CCMM_PMD_SIZE : CCMM_PAGE_SIZE) ||
	    !all_ram(m, pa, n))
		return -EINVAL;
	ccmm_count(ctx, CCMM_CTR_pvalidates, 1);
	ccmm_charge(ctx, CCMM_COST_pvalidate_ns, 1);
	if (huge != rmp_is_2m(m, pa))
		return huge ? -ERANGE : (rmp_is_2m(m, pa) ? -ERANGE : -EINVAL);
	for (uint64_t i = 0; i < n; i++) {
		struct ccmm_page pg;

		if (ccmm_phys_peek(m, pa + (i << CCMM_PAGE_SHIFT), &pg) || pg.state == CCMM_PS_SHARED ||
		    pg.owner != CCMM_OWNER_GUEST)
			return -EINVAL; /* FAIL_INPUT: not assigned to this guest */
		if (pg.state == want)
			any = true;
	}
	if (!any)
		return -EALREADY; /* FAIL_NOUPDATE */
	for (uint64_t i = 0; i < n; i++)
		set_state(ctx, pa + (i << CCMM_PAGE_SHIFT), to, CCMM_OWNER_GUEST,
			  validate ? CCMM_CONV_VALIDATE : CCMM_CONV_RESCIND, false);
	return 0;
}

int ccmm_snp_psc(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages, bool to_private, uint64_t *done)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t end = pa + (npages << CCMM_PAGE_SHIFT);
	uint64_t i = 0;
	int ret;

	if (done)
		*done = 0;
	if (m->plat->mode != CCMM_CC_SEV_SNP || !npages || !CCMM_IS_ALIGNED(pa, CCMM_PAGE_SIZE) || !all_ram(m, pa, npages))
		return -EINVAL;
	ccmm_count(ctx, CCMM_CTR_psc_requests, 1);
	ccmm_charge(ctx, CCMM_COST_ghcb_vmgexit_ns, 1);
	for (uint64_t a = pa; a < end; a += CCMM_PAGE_SIZE, i++) {
		uint64_t huge = CCMM_ALIGN_DOWN(a, CCMM_PMD_SIZE);

		if (!vmm_agrees(m)) {
			if (done)
				*done = i;
			return -EIO;
		}
		/* the hypervisor splits a 2 MiB entry the request covers only in part */
		if (rmp_is_2m(m, a) && (huge < pa || huge + CCMM_PMD_SIZE > end)) {
			ret = ccmm_snp_psmash(ctx, huge);
			if (ret)
				return ret;
		}
		if (rmp_is_2m(m, a)) {
			if (a == huge) {
				if (to_private)
					for (uint64_t k = 0; k < CCMM_CHUNK_PAGES; k++)
						check_host_mapping(ctx, a + (k << CCMM_PAGE_SHIFT));
				ret = ccmm_snp_rmpupdate(ctx, a, to_private, true);
				if (ret)
					return ret;
			}
			continue;
		}
		if (to_private)
			check_host_mapping(ctx, a);
		ret = ccmm_snp_rmpupdate(ctx, a, to_private, false);
		if (ret)
			return ret;
	}
	if (done)
		*done = npages;
	return 0;
}

/* ---- pSeries -------------------------------------------------------- */

static int uv_call(struct ccmm_ctx *ctx, uint64_t pfn, uint64_t npages, bool share, uint64_t *done)
{
	struct ccmm_machine *m = ctx->m;
	uint64_t pa = pfn << CCMM_PAGE_SHIFT;

	if (done)
		*done = 0;
	if (m->plat->mode != CCMM_CC_PSERIES_SVM || !npages || !all_ram(m, pa, npages))
		return -EINVAL;
	for (uint64_t i = 0; i < npages; i++) {
		enum ccmm_page_state from, to = share ? CCMM_PS_SHARED : CCMM_PS_PRIVATE;

		if (!vmm_agrees(m)) {
			if (done)
				*done = i;
			return -EIO;
		}
		ccmm_count(ctx, CCMM_CTR_uv_calls, 1);
		ccmm_charge(ctx, CCMM_COST_uv_call_ns, 1);
		from = set_state(ctx, pa + (i << CCMM_PAGE_SHIFT), to, CCMM_OWNER_GUEST,
				 share ? CCMM_CONV_UV_SHARE : CCMM_CONV_UV_UNSHARE, false);
		count_conversion(ctx, from, to);
	}
	if (done)
		*done = npages;
	return 0;
}

int ccmm_uv_share_page(struct ccmm_ctx *ctx, uint64_t pfn, uint64_t npages, uint64_t *done)
{
	return uv_call(ctx, pfn, npages, true, done);
}

int ccmm_uv_unshare_page(struct ccmm_ctx *ctx, uint64_t pfn, uint64_t npages, uint64_t *done)
{
	return uv_call(ctx, pfn, npages, false, done);
}

/* ---- the kernel's entry point --------------------------------------- */

static int snp_convert(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages, bool to_private, uint64_t *done)
{
	uint64_t end = pa + (npages << CCMM_PAGE_SHIFT);
	int ret;

	if (!to_private) {
		/* rescind validation first (a 2 MiB entry fully covered is rescinded whole) */
		for (uint64_t a = pa; a < end;) {
			uint64_t huge = CCMM_ALIGN_DOWN(a, CCMM_PMD_SIZE);
			bool whole = rmp_is_2m(ctx->m, a) && huge >= pa && huge + CCMM_PMD_SIZE <= end;

			if (rmp_is_2m(ctx->m, a) && !whole) {
				/* the guest asks the hypervisor to split it (a PSC "psmash" request) */
				ccmm_charge(ctx, CCMM_COST_ghcb_vmgexit_ns, 1);
				ret = ccmm_snp_psmash(ctx, huge);
				if (ret)
					return ret;
			}
			ret = ccmm_snp_pvalidate(ctx, a, whole, false);
			if (ret && ret != -EALREADY)
				return ret;
			a += whole ? CCMM_PMD_SIZE : CCMM_PAGE_SIZE;
		}
		return ccmm_snp_psc(ctx, pa, npages, false, done);
	}
	ret = ccmm_snp_psc(ctx, pa, npages, true, done);
	if (ret)
		return ret;
	for (uint64_t a = pa; a < end;) {
		bool whole = rmp_is_2m(ctx->m, a) && CCMM_IS_ALIGNED(a, CCMM_PMD_SIZE) && a + CCMM_PMD_SIZE <= end;

		ret = ccmm_snp_pvalidate(ctx, a, whole, true);
		if (ret && ret != -EALREADY)
			return ret;
		a += whole ? CCMM_PMD_SIZE : CCMM_PAGE_SIZE;
	}
	return 0;
}

int ccmm_cc_convert(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages, bool to_private, uint64_t *done)
{
	struct ccmm_machine *m = ctx->m;
	int ret = 0;

	if (done)
		*done = 0;
	if (!npages || !CCMM_IS_ALIGNED(pa, CCMM_PAGE_SIZE) || !all_ram(m, pa, npages))
		return -EINVAL;
	ccmm_count(ctx, CCMM_CTR_conversion_calls, 1);
	switch (m->plat->mode) {
	case CCMM_CC_NONE:
		break;
	case CCMM_CC_SME:
	case CCMM_CC_SEV:
		for (uint64_t i = 0; i < npages; i++) {
			uint64_t a = pa + (i << CCMM_PAGE_SHIFT);
			enum ccmm_page_state to = to_private ? CCMM_PS_PRIVATE : CCMM_PS_SHARED;
			enum ccmm_page_state from;

			if (to_private && m->plat->mode == CCMM_CC_SEV)
				check_host_mapping(ctx, a);
			from = set_state(ctx, a, to, m->plat->mode == CCMM_CC_SEV ? CCMM_OWNER_GUEST : CCMM_OWNER_HOST,
					 to_private ? CCMM_CONV_TO_PRIVATE : CCMM_CONV_TO_SHARED, false);
			count_conversion(ctx, from, to);
		}
		break;
	case CCMM_CC_SEV_SNP:
		ret = snp_convert(ctx, pa, npages, to_private, done);
		break;
	case CCMM_CC_TDX:
		ret = ccmm_tdx_map_gpa(ctx, pa, npages, to_private ? CCMM_TDX_MAP_PRIVATE : CCMM_TDX_MAP_SHARED, done);
		for (uint64_t i = 0; !ret && to_private && i < npages; i++) {
			int r = ccmm_tdx_accept_page(ctx, pa + (i << CCMM_PAGE_SHIFT));

			if (r && r != -EEXIST)
				ret = r;
		}
		return ret;
	case CCMM_CC_PSERIES_SVM:
		return to_private ? ccmm_uv_unshare_page(ctx, pa >> CCMM_PAGE_SHIFT, npages, done)
				  : ccmm_uv_share_page(ctx, pa >> CCMM_PAGE_SHIFT, npages, done);
	default:
		return -EINVAL;
	}
	if (!ret && done)
		*done = npages;
	return ret;
}

/* ---- cache flushes -------------------------------------------------- */

bool ccmm_cc_needs_cache_flush(const struct ccmm_machine *m)
{
	enum ccmm_cc_mode mode = m->plat->mode;

	return (mode == CCMM_CC_SME || mode == CCMM_CC_SEV || mode == CCMM_CC_SEV_SNP) && !m->plat->sme_coherent;
}

void ccmm_cc_flush_cache(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages)
{
	const struct ccmm_costs *c = &ctx->m->plat->costs;
	uint64_t lines = npages * CCMM_LINES_PER_PAGE;

	(void)pa;
	if (lines * c->clflush_line_ns > c->wbinvd_ns)
		ccmm_charge(ctx, CCMM_COST_wbinvd_ns, 1);
	else
		ccmm_charge(ctx, CCMM_COST_clflush_line_ns, lines);
	ccmm_count(ctx, CCMM_CTR_cache_flushes, 1);
}

void ccmm_cc_mark_unflushed(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages)
{
	for (uint64_t i = 0; i < npages; i++) {
		uint64_t a = pa + (i << CCMM_PAGE_SHIFT);
		struct ccmm_page *pg = ccmm_phys_page(ctx->m, a, false);

		if (!pg || !pg->data)
			continue; /* nothing was ever cached */
		pg = ccmm_phys_lock(ctx->m, a);
		if (pg) {
			pg->flags |= CCMM_PG_STALE_LINES;
			ccmm_phys_unlock(ctx->m, a);
		}
	}
}
