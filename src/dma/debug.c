// SPDX-License-Identifier: MIT
/*
 * The DMA API's records of live mappings and coherent buffers, and the
 * checks CONFIG_DMA_API_DEBUG (with DMA_API_DEBUG_SG) makes on them, after
 * kernel/dma/debug.c of Linux 6.12: check_unmap, check_sync, the map-time
 * checks (debug_dma_map_single, check_for_stack, check_for_illegal_area,
 * check_sg_segment), the active cacheline set; plus ccmm's own checks of
 * CPU accesses. Kernel upstream has no test of dma-debug; the cases are in
 * tests/dma/test_dma_debug.c. The code is ccmm's own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dma/internal.h"

const char *ccmm_dma_map_type_name(enum ccmm_dma_map_type t)
{
	static const char *const n[] = { "single", "page", "sg", "phyr", "coherent" };

	return (unsigned)t < CCMM_ARRAY_SIZE(n) ? n[t] : "?";
}

const char *ccmm_dma_fail_name(enum ccmm_dma_fail f)
{
	static const char *const n[] = { "pool_full", "mask", "window", "iova", "other" };

	return (unsigned)f < CCMM_ARRAY_SIZE(n) ? n[f] : "?";
}

enum ccmm_dma_map_type _ccmm_dma_debug_type(enum ccmm_dma_map_type t)
{
	return t == CCMM_DMA_MAP_PAGE ? CCMM_DMA_MAP_SINGLE : t;
}

/* dma-debug's names of entry types (type2name): single and page are one. */
static const char *type2name(enum ccmm_dma_map_type t)
{
	switch (_ccmm_dma_debug_type(t)) {
	case CCMM_DMA_MAP_SINGLE:
		return "single";
	case CCMM_DMA_MAP_SG:
		return "scatter-gather";
	case CCMM_DMA_MAP_COHERENT:
		return "coherent";
	default:
		return ccmm_dma_map_type_name(t);
	}
}

/* ---- records -------------------------------------------------------------------------- */

int _ccmm_dma_rec_add(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_rec *rec)
{
	struct ccmm_dma_rec *r;

	if (ccmm_grow((void **)&d->rec, &d->cap_rec, d->nr_rec + 1, sizeof(*d->rec)))
		return -ENOMEM;
	r = &d->rec[d->nr_rec++];
	*r = *rec;
	r->seq = ++d->next_seq;
	snprintf(r->op, sizeof(r->op), "%s", ctx->op ? ctx->op : "");
	r->where = ctx->where;
	if (d->nr_rec > d->live_hiwater)
		d->live_hiwater = d->nr_rec;
	return 0;
}

/* __hash_bucket_find(): best fit by size, type, direction and sg entry count; ambiguous without a perfect fit. */
static long find_best(struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, bool contain, bool *ambiguous)
{
	long best = -1;
	int best_lvl = -1, matches = 0;

	*ambiguous = false;
	for (size_t i = 0; i < d->nr_rec; i++) {
		const struct ccmm_dma_rec *r = &d->rec[i];
		int lvl;

		if (contain ? !(r->dma <= ref->dma && ref->dma - r->dma <= r->size && ref->size <= r->size - (ref->dma - r->dma))
			    : r->dma != ref->dma)
			continue;
		matches++;
		lvl = (r->size == ref->size) + (_ccmm_dma_debug_type(r->type) == _ccmm_dma_debug_type(ref->type)) +
		      (r->dir == ref->dir) + (r->sg_call_ents == ref->sg_call_ents);
		if (lvl == 4)
			return (long)i;
		if (lvl > best_lvl) {
			best_lvl = lvl;
			best = (long)i;
		}
	}
	*ambiguous = matches > 1;
	return best;
}

long _ccmm_dma_rec_find_exact(struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, bool *ambiguous)
{
	return find_best(d, ref, false, ambiguous);
}

long _ccmm_dma_rec_find_contain(struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, bool *ambiguous)
{
	return find_best(d, ref, true, ambiguous);
}

long _ccmm_dma_rec_find_containing(struct ccmm_dma_dev *d, uint64_t dma, uint64_t size)
{
	for (size_t i = 0; i < d->nr_rec; i++) {
		const struct ccmm_dma_rec *r = &d->rec[i];

		if (dma >= r->dma && dma - r->dma < r->size && size <= r->size - (dma - r->dma))
			return (long)i;
	}
	return -1;
}

void _ccmm_dma_rec_del(struct ccmm_dma_dev *d, long i)
{
	struct ccmm_dma_rec *r = &d->rec[i];
	unsigned g = d->gone_next++ % CCMM_ARRAY_SIZE(d->gone);

	d->gone[g].dma = r->dma;
	d->gone[g].size = r->size;
	d->gone[g].dir = r->dir;
	d->gone[g].type = r->type;
	d->rec[i] = d->rec[--d->nr_rec];
}

bool _ccmm_dma_rec_gone(struct ccmm_dma_dev *d, uint64_t dma)
{
	unsigned n = CCMM_MIN(d->gone_next, (unsigned)CCMM_ARRAY_SIZE(d->gone));

	for (unsigned i = 0; i < n; i++)
		if (d->gone[i].dma == dma && d->gone[i].size)
			return true;
	return false;
}

void _ccmm_dma_count_fail(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, enum ccmm_dma_fail why)
{
	struct ccmm_dma *dma = _ccmm_dma_of(d->m);
	const unsigned ctr[CCMM_DMA_FAIL_NR] = {
		CCMM_CTR_AT(swiotlb, dma_map_fail_pool_full), CCMM_CTR_AT(dma, dma_map_fail_mask), CCMM_CTR_AT(dma, dma_map_fail_window),
		CCMM_CTR_AT(dma, dma_map_fail_iova), CCMM_CTR_AT(dma, dma_map_fail_other),
	};

	pthread_mutex_lock(&d->lock);
	d->fail[why]++;
	pthread_mutex_unlock(&d->lock);
	atomic_fetch_add(&dma->fail[why], 1);
	if (why != CCMM_DMA_FAIL_POOL_FULL)
		ccmm_count(ctx, ctr[why], 1);
}

/* ---- check_unmap, check_sync ------------------------------------------------------------ */

/* One report of check_unmap or check_sync about an existing entry. */
#define REPORT(rule, ...) \
	do { \
		ccmm_violation(ctx, &ccmm_rule_##rule, e.pa, __VA_ARGS__); \
		bad = true; \
	} while (0)

int _ccmm_dma_check_unmap(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, const char *fn,
			  struct ccmm_dma_rec *out, bool *found)
{
	struct ccmm_dma_rec e;
	bool ambiguous, gone, bad = false;
	long i;

	*found = false;
	pthread_mutex_lock(&d->lock);
	i = _ccmm_dma_rec_find_exact(d, ref, &ambiguous);
	gone = i < 0 && _ccmm_dma_rec_gone(d, ref->dma);
	if (i >= 0) {
		e = d->rec[i];
		if (e.type != CCMM_DMA_MAP_COHERENT)
			d->unmaps++;
		_ccmm_dma_rec_del(d, i);
		*out = e;
		*found = true;
	}
	pthread_mutex_unlock(&d->lock);
	if (i < 0) {
		if (ref->dma == CCMM_DMA_MAPPING_ERROR)
			ccmm_violation(ctx, &ccmm_rule_dma_unmap_mapping_error, ~0ULL,
				       "%s: %s(DMA_MAPPING_ERROR, %" PRIu64 " bytes): device driver tries to free an invalid "
				       "DMA memory address (a failed mapping's handle)",
				       d->desc->name, fn, ref->size);
		else
			ccmm_violation(ctx, gone ? &ccmm_rule_dma_double_unmap : &ccmm_rule_dma_unmap_unmapped, ~0ULL,
				       "%s: %s(dma 0x%" PRIx64 ", %" PRIu64 " bytes, %s): %s", d->desc->name, fn, ref->dma,
				       ref->size, ccmm_dma_dir_name(ref->dir),
				       gone ? "already unmapped" : "device driver tries to free DMA memory it has not allocated");
		return -EINVAL;
	}
	_ccmm_dma_cacheline_remove(d->m, &e);
	if (ambiguous) {
		/* dma-debug finds no entry when several share the address and none fits exactly */
		ccmm_violation(ctx, &ccmm_rule_dma_unmap_unmapped, e.pa,
			       "%s: %s(dma 0x%" PRIx64 ", %" PRIu64 " bytes, %s): several live mappings share this address and "
			       "none was made with these arguments: dma-debug finds none (device driver tries to free DMA "
			       "memory it has not allocated); the closest, %s by %s (line %d), is undone",
			       d->desc->name, fn, ref->dma, ref->size, ccmm_dma_dir_name(ref->dir), type2name(e.type), e.op,
			       e.where.line);
		return -EINVAL;
	}
	if (ref->size != e.size)
		REPORT(dma_unmap_size,
		       "%s: %s(dma 0x%" PRIx64 "): device driver frees DMA memory with different size [map size=%" PRIu64
		       " bytes] [unmap size=%" PRIu64 " bytes] (%s, line %d)",
		       d->desc->name, fn, ref->dma, e.size, ref->size, e.op, e.where.line);
	if (_ccmm_dma_debug_type(ref->type) != _ccmm_dma_debug_type(e.type))
		REPORT(dma_unmap_type,
		       "%s: %s(dma 0x%" PRIx64 "): device driver frees DMA memory with wrong function [mapped as %s] "
		       "[unmapped as %s] (%s, line %d)",
		       d->desc->name, fn, ref->dma, type2name(e.type), type2name(ref->type), e.op, e.where.line);
	else if (e.type == CCMM_DMA_MAP_COHERENT && ref->pa != UINT64_MAX && ref->pa != e.pa)
		REPORT(dma_free_cpu_address,
		       "%s: %s(dma 0x%" PRIx64 "): device driver frees DMA memory with different CPU address [cpu alloc "
		       "address=pa 0x%" PRIx64 "] [cpu free address=pa 0x%" PRIx64 "]",
		       d->desc->name, fn, ref->dma, e.pa, ref->pa);
	if (ref->sg_call_ents && ref->type == CCMM_DMA_MAP_SG && ref->sg_call_ents != e.sg_call_ents)
		REPORT(dma_sg_nents_mismatch,
		       "%s: %s(dma 0x%" PRIx64 "): device driver frees DMA sg list with different entry count [map "
		       "count=%d] [unmap count=%d]",
		       d->desc->name, fn, ref->dma, e.sg_call_ents, ref->sg_call_ents);
	if (ref->dir != e.dir)
		REPORT(dma_unmap_dir,
		       "%s: %s(dma 0x%" PRIx64 "): device driver frees DMA memory with different direction [mapped with "
		       "%s] [unmapped with %s] (%s, line %d)%s",
		       d->desc->name, fn, ref->dma, ccmm_dma_dir_name(e.dir), ccmm_dma_dir_name(ref->dir), e.op,
		       e.where.line,
		       e.bounced && (e.dir == CCMM_DMA_FROM_DEVICE || e.dir == CCMM_DMA_BIDIRECTIONAL) &&
				       ref->dir == CCMM_DMA_TO_DEVICE
			       ? ": the bounce buffer is not copied back, the device's data is lost"
		       : e.bounced && e.dir == CCMM_DMA_TO_DEVICE && ref->dir != CCMM_DMA_TO_DEVICE
			       ? ": the bounce buffer is copied back over the CPU's data"
			       : "");
	if (!e.checked)
		ccmm_violation(ctx, &ccmm_rule_dma_map_error_unchecked, e.pa,
			       "%s: %s(dma 0x%" PRIx64 "): device driver failed to check map error [mapped as %s] (%s, line "
			       "%d): dma_mapping_error() was never asked",
			       d->desc->name, fn, ref->dma, type2name(e.type), e.op, e.where.line);
	return bad ? -EINVAL : 0;
}

int _ccmm_dma_check_sync(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_ref *ref, bool for_cpu,
			 const char *fn, struct ccmm_dma_rec *out, bool *found)
{
	struct ccmm_dma_rec e;
	bool ambiguous, bad = false;
	long i;

	*found = false;
	pthread_mutex_lock(&d->lock);
	i = ref->size ? _ccmm_dma_rec_find_contain(d, ref, &ambiguous) : -1;
	if (i >= 0) {
		if (d->rec[i].type != CCMM_DMA_MAP_COHERENT)
			d->rec[i].cpu_owns = for_cpu;
		e = d->rec[i];
		*out = e;
		*found = true;
	}
	pthread_mutex_unlock(&d->lock);
	if (i < 0 || ambiguous) {
		ccmm_violation(ctx, &ccmm_rule_dma_sync_unmapped, i < 0 ? ~0ULL : e.pa,
			       "%s: %s(dma 0x%" PRIx64 ", %" PRIu64 " bytes): device driver tries to sync DMA memory it has "
			       "not allocated%s",
			       d->desc->name, fn, ref->dma, ref->size,
			       i < 0 ? ": not inside one live mapping"
				     : ": several live mappings hold it and none fits exactly, so dma-debug finds none");
		return -EINVAL;
	}
	if (e.dir == CCMM_DMA_BIDIRECTIONAL)
		return 0; /* coherent buffers too: nothing to check */
	if (ref->dir != e.dir)
		REPORT(dma_sync_dir,
		       "%s: %s(dma 0x%" PRIx64 ", %" PRIu64 " bytes): device driver syncs DMA memory with different "
		       "direction [mapped with %s] [synced with %s] (%s, line %d)",
		       d->desc->name, fn, ref->dma, ref->size, ccmm_dma_dir_name(e.dir), ccmm_dma_dir_name(ref->dir), e.op,
		       e.where.line);
	if (for_cpu && e.dir != CCMM_DMA_FROM_DEVICE && ref->dir != CCMM_DMA_TO_DEVICE)
		REPORT(dma_sync_read_only,
		       "%s: %s(dma 0x%" PRIx64 ", %" PRIu64 " bytes): device driver syncs device read-only DMA memory for "
		       "cpu [mapped with %s] [synced with %s]%s",
		       d->desc->name, fn, ref->dma, ref->size, ccmm_dma_dir_name(e.dir), ccmm_dma_dir_name(ref->dir),
		       e.bounced ? ": the bounce buffer's copy from map time is copied over the CPU's buffer" : "");
	if (!for_cpu && e.dir != CCMM_DMA_TO_DEVICE && ref->dir != CCMM_DMA_FROM_DEVICE)
		REPORT(dma_sync_write_only,
		       "%s: %s(dma 0x%" PRIx64 ", %" PRIu64 " bytes): device driver syncs device write-only DMA memory to "
		       "device [mapped with %s] [synced with %s]%s",
		       d->desc->name, fn, ref->dma, ref->size, ccmm_dma_dir_name(e.dir), ccmm_dma_dir_name(ref->dir),
		       e.bounced ? ": the CPU's buffer is copied over what the device wrote to the bounce buffer" : "");
	if (ref->sg_call_ents && ref->type == CCMM_DMA_MAP_SG && ref->sg_call_ents != e.sg_call_ents)
		REPORT(dma_sg_nents_mismatch,
		       "%s: %s(dma 0x%" PRIx64 "): device driver syncs DMA sg list with different entry count [map "
		       "count=%d] [sync count=%d]",
		       d->desc->name, fn, ref->dma, e.sg_call_ents, ref->sg_call_ents);
	return bad ? -EINVAL : 0;
}

#undef REPORT

/* ---- map-time checks ---------------------------------------------------------------------- */

/* The kernel image or the stack of @actor, looked up under the kmem lock. */
static bool stack_of(struct ccmm_dma *dma, int actor, uint64_t *va, uint64_t *pa)
{
	bool found = false;

	pthread_mutex_lock(&dma->kmem_lock);
	for (size_t i = 0; i < dma->nr_stack && !found; i++) {
		if (dma->stack[i].actor != actor)
			continue;
		*va = dma->stack[i].va;
		*pa = dma->stack[i].pa;
		found = true;
	}
	pthread_mutex_unlock(&dma->kmem_lock);
	return found;
}

void _ccmm_dma_debug_map_area(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint64_t pa, uint64_t size, const char *fn)
{
	struct ccmm_dma *dma = _ccmm_dma_of(d->m);
	uint64_t sva, spa, text, rodata;

	/* check_for_stack: the mapping's first page against current's stack */
	if (ctx->actor >= 0 && stack_of(dma, ctx->actor, &sva, &spa) && pa >= spa && pa - spa < CCMM_THREAD_SIZE)
		ccmm_violation(ctx, &ccmm_rule_dma_map_stack, pa,
			       "%s: %s: device driver maps memory from stack [%saddr=0x%" PRIx64 "] (pa 0x%" PRIx64 ", %" PRIu64
			       " bytes)",
			       d->desc->name, fn, _ccmm_dma_ppc64(d->m) ? "" : "probable ", sva + (pa - spa), pa, size);
	/*
	 * check_for_illegal_area compares page_address(page) + offset, a
	 * linear-map address, with _stext.._etext and the rodata bounds: it
	 * can only match where the kernel image runs in the linear map (ppc64).
	 */
	if (!_ccmm_dma_ppc64(d->m))
		return;
	pthread_mutex_lock(&dma->kmem_lock);
	text = dma->text_pa;
	rodata = dma->rodata_pa;
	pthread_mutex_unlock(&dma->kmem_lock);
	if (!text)
		return;
	if ((pa < text + CCMM_KERNEL_TEXT_SIZE && pa + size > text) ||
	    (pa < rodata + CCMM_KERNEL_RODATA_SIZE && pa + size > rodata))
		ccmm_violation(ctx, &ccmm_rule_dma_map_kernel_image, pa,
			       "%s: %s: device driver maps memory from kernel text or rodata [addr=0x%" PRIx64 "] [len=%" PRIu64
			       "]",
			       d->desc->name, fn, ccmm_phys_to_virt(pa), size);
}

void _ccmm_dma_debug_sg_segment(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, uint32_t length, uint64_t dma,
				uint64_t dma_len)
{
	uint32_t max_seg;
	uint64_t boundary, end;

	pthread_mutex_lock(&d->lock);
	max_seg = d->max_seg_size;
	boundary = d->seg_boundary;
	pthread_mutex_unlock(&d->lock);
	if (length > max_seg)
		ccmm_violation(ctx, &ccmm_rule_dma_sg_segment_too_long, ~0ULL,
			       "%s: mapping sg segment longer than device claims to support [len=%u] [max=%u]", d->desc->name,
			       length, max_seg);
	end = dma + dma_len - 1;
	if (dma_len && ((dma ^ end) & ~boundary))
		ccmm_violation(ctx, &ccmm_rule_dma_sg_segment_boundary, ~0ULL,
			       "%s: mapping sg segment across boundary [start=0x%016" PRIx64 "] [end=0x%016" PRIx64
			       "] [boundary=0x%016" PRIx64 "]",
			       d->desc->name, dma, end, boundary);
}

/* ---- the active cacheline set -------------------------------------------------------------- */

#define ACTIVE_CACHELINE_MAX_OVERLAP 7 /* (1 << RADIX_TREE_MAX_TAGS) - 1 */

static unsigned l1_cache_shift(const struct ccmm_machine *m)
{
	return _ccmm_dma_ppc64(m) ? 7 : 6; /* L1_CACHE_SHIFT: 128-byte lines on POWER, 64 on x86 */
}

/* Index of @cln in the sorted set, or where it would go; *@hit when present. cl_lock held. */
static size_t cl_find(struct ccmm_dma *dma, uint64_t cln, bool *hit)
{
	size_t lo = 0, hi = dma->nr_cl;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (dma->cl[mid].cln < cln)
			lo = mid + 1;
		else
			hi = mid;
	}
	*hit = lo < dma->nr_cl && dma->cl[lo].cln == cln;
	return lo;
}

void _ccmm_dma_cacheline_insert(struct ccmm_ctx *ctx, struct ccmm_dma_dev *d, const struct ccmm_dma_rec *rec,
				unsigned long attrs)
{
	struct ccmm_dma *dma = _ccmm_dma_of(d->m);
	uint64_t cln = rec->pa >> l1_cache_shift(d->m);
	bool hit, warn = false;
	size_t at;

	/* a device that only reads cannot make the CPU consume stale data */
	if (rec->dir == CCMM_DMA_TO_DEVICE)
		return;
	pthread_mutex_lock(&dma->cl_lock);
	at = cl_find(dma, cln, &hit);
	if (hit) {
		if (dma->cl[at].overlap < ACTIVE_CACHELINE_MAX_OVERLAP)
			dma->cl[at].overlap++;
		warn = true;
	} else if (!ccmm_grow((void **)&dma->cl, &dma->cap_cl, dma->nr_cl + 1, sizeof(*dma->cl))) {
		memmove(&dma->cl[at + 1], &dma->cl[at], (dma->nr_cl - at) * sizeof(*dma->cl));
		dma->cl[at].cln = cln;
		dma->cl[at].overlap = 0;
		dma->nr_cl++;
	}
	pthread_mutex_unlock(&dma->cl_lock);
	if (warn && !(attrs & CCMM_DMA_ATTR_SKIP_CPU_SYNC))
		ccmm_violation(ctx, &ccmm_rule_dma_cacheline_overlap, rec->pa,
			       "%s: %s mapping of pa 0x%" PRIx64 " (%" PRIu64 " bytes, %s): cacheline tracking EEXIST, "
			       "overlapping mappings aren't supported: another live mapping the device may write starts in "
			       "cacheline 0x%" PRIx64,
			       d->desc->name, type2name(rec->type), rec->pa, rec->size, ccmm_dma_dir_name(rec->dir),
			       cln << l1_cache_shift(d->m));
}

void _ccmm_dma_cacheline_remove(struct ccmm_machine *m, const struct ccmm_dma_rec *rec)
{
	struct ccmm_dma *dma = _ccmm_dma_of(m);
	bool hit;
	size_t at;

	if (rec->dir == CCMM_DMA_TO_DEVICE)
		return;
	pthread_mutex_lock(&dma->cl_lock);
	at = cl_find(dma, rec->pa >> l1_cache_shift(m), &hit);
	if (hit) {
		if (dma->cl[at].overlap) {
			dma->cl[at].overlap--;
		} else {
			memmove(&dma->cl[at], &dma->cl[at + 1], (dma->nr_cl - at - 1) * sizeof(*dma->cl));
			dma->nr_cl--;
		}
	}
	pthread_mutex_unlock(&dma->cl_lock);
}

/* ---- kernel memory dma-debug knows: stacks, the image ------------------------------------------ */

void _ccmm_dma_kmem_init(struct ccmm_dma *dma)
{
	pthread_mutex_init(&dma->cl_lock, NULL);
	pthread_mutex_init(&dma->kmem_lock, NULL);
}

void _ccmm_dma_kmem_fini(struct ccmm_dma *dma)
{
	free(dma->cl);
	free(dma->stack);
	pthread_mutex_destroy(&dma->cl_lock);
	pthread_mutex_destroy(&dma->kmem_lock);
}

int ccmm_dma_task_stack(struct ccmm_ctx *ctx, uint64_t *va, uint64_t *pa)
{
	struct ccmm_dma *dma = _ccmm_dma_of(ctx->m);
	unsigned order = ccmm_get_order(CCMM_THREAD_SIZE);
	uint64_t spa, sva;
	int ret;

	if (ctx->actor < 0)
		return -EINVAL;
	if (stack_of(dma, ctx->actor, va, pa))
		return 0;
	ret = ccmm_alloc_pages(ctx, -1, order, 0, &spa);
	if (ret)
		return ret;
	if (_ccmm_dma_ppc64(ctx->m)) {
		sva = ccmm_phys_to_virt(spa);
	} else {
		uint64_t pas[CCMM_THREAD_SIZE / CCMM_PAGE_SIZE];

		for (size_t i = 0; i < CCMM_ARRAY_SIZE(pas); i++)
			pas[i] = spa + i * CCMM_PAGE_SIZE;
		sva = ccmm_vmap(ctx, pas, CCMM_ARRAY_SIZE(pas), ccmm_page_kernel(ctx->m), &ret);
		if (!sva) {
			ccmm_free_pages(ctx, spa, order);
			return ret ? ret : -ENOMEM;
		}
	}
	pthread_mutex_lock(&dma->kmem_lock);
	ret = ccmm_grow((void **)&dma->stack, &dma->cap_stack, dma->nr_stack + 1, sizeof(*dma->stack));
	if (!ret) {
		dma->stack[dma->nr_stack].actor = ctx->actor;
		dma->stack[dma->nr_stack].va = sva;
		dma->stack[dma->nr_stack].pa = spa;
		dma->nr_stack++;
	}
	pthread_mutex_unlock(&dma->kmem_lock);
	if (ret)
		return -ENOMEM; /* the pages stay allocated: nothing else knows them */
	*va = sva;
	*pa = spa;
	return 0;
}

int ccmm_dma_kernel_image(struct ccmm_machine *m, bool rodata, uint64_t *va, uint64_t *pa, uint64_t *size)
{
	struct ccmm_dma *dma = _ccmm_dma_of(m);
	int ret = 0;

	pthread_mutex_lock(&dma->kmem_lock);
	if (!dma->text_pa) {
		uint64_t base;

		/* _stext is 2 MiB aligned (CONFIG_PHYSICAL_ALIGN); rodata follows text */
		ret = ccmm_memblock_alloc(m, CCMM_KERNEL_TEXT_SIZE + CCMM_KERNEL_RODATA_SIZE, 2 * 1024 * 1024, 0, true, &base);
		if (!ret) {
			dma->text_pa = base;
			dma->rodata_pa = base + CCMM_KERNEL_TEXT_SIZE;
		}
	}
	if (!ret) {
		*pa = rodata ? dma->rodata_pa : dma->text_pa;
		*size = rodata ? CCMM_KERNEL_RODATA_SIZE : CCMM_KERNEL_TEXT_SIZE;
		*va = _ccmm_dma_ppc64(m) ? ccmm_phys_to_virt(*pa) : CCMM_KERNEL_TEXT_VA + (*pa - dma->text_pa);
	}
	pthread_mutex_unlock(&dma->kmem_lock);
	return ret ? -ENOMEM : 0;
}

bool ccmm_dma_kernel_virt_to_phys(struct ccmm_machine *m, uint64_t va, uint64_t *pa)
{
	struct ccmm_dma *dma = _ccmm_dma_of(m);
	const struct ccmm_mem_range *r;
	uint64_t text;

	if (va >= CCMM_PAGE_OFFSET && va < CCMM_VMALLOC_START) {
		r = ccmm_platform_range(m->plat, ccmm_virt_to_phys(va));
		if (!r || r->kind != CCMM_RANGE_RAM)
			return false; /* pfn_valid() fails: a hole or device memory */
		*pa = ccmm_virt_to_phys(va);
		return true;
	}
	if (_ccmm_dma_ppc64(m) || va < CCMM_START_KERNEL_MAP)
		return false;
	pthread_mutex_lock(&dma->kmem_lock);
	text = dma->text_pa;
	pthread_mutex_unlock(&dma->kmem_lock);
	/* __pa_symbol(): the image runs at __START_KERNEL_map */
	if (!text || va < CCMM_KERNEL_TEXT_VA || va - CCMM_KERNEL_TEXT_VA >= CCMM_KERNEL_TEXT_SIZE + CCMM_KERNEL_RODATA_SIZE)
		return false;
	*pa = text + (va - CCMM_KERNEL_TEXT_VA);
	return true;
}

/* ---- CPU accesses --------------------------------------------------------------------- */

int ccmm_dma_cpu_access_check(struct ccmm_ctx *ctx, uint64_t pa, uint64_t len, enum ccmm_rw rw)
{
	struct ccmm_dma *dma = _ccmm_dma_of(ctx->m);
	int n = 0;

	if (!dma || !len)
		return 0;
	for (size_t di = 0; di < dma->nr_devs; di++) {
		struct ccmm_dma_dev *d = &dma->devs[di];
		struct {
			uint64_t dma, pa, size;
			enum ccmm_dma_dir dir;
			bool bounced;
			char op[32];
			struct ccmm_where where;
		} hit[8];
		int nh = 0;

		pthread_mutex_lock(&d->lock);
		for (size_t i = 0; i < d->nr_rec && nh < 8; i++) {
			const struct ccmm_dma_rec *r = &d->rec[i];

			if (r->type == CCMM_DMA_MAP_COHERENT || r->p2p || r->cpu_owns)
				continue;
			if (pa >= r->pa + r->size || r->pa >= pa + len)
				continue;
			if (rw == CCMM_READ && r->dir == CCMM_DMA_TO_DEVICE)
				continue; /* the device only reads it: the CPU may read too */
			hit[nh].dma = r->dma;
			hit[nh].pa = r->pa;
			hit[nh].size = r->size;
			hit[nh].dir = r->dir;
			hit[nh].bounced = r->bounced;
			snprintf(hit[nh].op, sizeof(hit[nh].op), "%s", r->op);
			hit[nh].where = r->where;
			nh++;
		}
		pthread_mutex_unlock(&d->lock);
		for (int i = 0; i < nh; i++, n++)
			ccmm_violation(ctx, &ccmm_rule_dma_cpu_unsynced, CCMM_MAX(pa, hit[i].pa),
				       "CPU %s of [0x%" PRIx64 ", +%" PRIu64 ") while %s owns the %s mapping of [0x%" PRIx64
				       ", +%" PRIu64 ") at dma 0x%" PRIx64 " (%s, line %d)%s",
				       rw == CCMM_READ ? "read" : "write", pa, len, d->desc->name,
				       ccmm_dma_dir_name(hit[i].dir), hit[i].pa, hit[i].size, hit[i].dma, hit[i].op,
				       hit[i].where.line,
				       rw == CCMM_READ ? ": without dma_sync_*_for_cpu the device's data is still in the bounce buffer"
				       : hit[i].bounced ? ": the device sees the bounce copy made at map time, and unmap may copy over this write"
							: ": the write races with the device");
	}
	return n;
}
