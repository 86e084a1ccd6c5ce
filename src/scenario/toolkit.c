// SPDX-License-Identifier: MIT
/*
 * The actor toolkit: device lookup with suggestions, byte ranges of
 * objects, the chunked data mover every read/write verb uses, and page
 * objects (scenario.h, "the actor toolkit").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/internal.h"

int ccmm_actor_find_device(const struct ccmm_job *job, const struct ccmm_actor *a, const char *name,
			   struct ccmm_error *err)
{
	struct ccmm_loc loc = { a->where.file, a->where.line };
	const char *names[64];
	const char *near;
	size_t n = 0;
	int d;

	if (!name[0])
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: a %s actor needs device=NAME", a->name, a->kind->name);
	d = ccmm_platform_find_device(job->plat, name);
	if (d >= 0)
		return d;
	for (size_t i = 0; i < job->plat->nr_devices && n < CCMM_ARRAY_SIZE(names); i++)
		names[n++] = job->plat->devices[i].name;
	near = ccmm_suggest(name, names, n);
	return ccmm_error_set(err, &loc, -EINVAL, "[%s]: the platform has no device '%s'%s%s%s", a->name, name,
			      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

int ccmm_outcome_errno(const struct ccmm_result *r)
{
	if (ccmm_outcome_faults(r->outcome) && !r->handled)
		return -EFAULT;
	if (r->outcome == CCMM_ABORT || r->outcome == CCMM_BLOCKED)
		return -EIO;
	return 0;
}

int ccmm_op_span(struct ccmm_actor *a, const struct ccmm_op *op, uint64_t size, int off_idx, int len_idx,
		 uint64_t *off, uint64_t *len)
{
	*off = ccmm_arg_set(op, off_idx) ? ccmm_arg_u64(a, op, off_idx) : 0;
	*len = ccmm_arg_set(op, len_idx) ? ccmm_arg_u64(a, op, len_idx) : (size > *off ? size - *off : 0);
	if (!*len || ccmm_range_within(*off, *len, 0, 0, size))
		return -EINVAL;
	return 0;
}

int ccmm_move_data(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, uint64_t len, int pattern,
		   int verify, ccmm_data_fn fn)
{
	uint8_t *buf = malloc(CCMM_MOVE_CHUNK);
	bool bad = false;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (len && !ret) {
		size_t n = (size_t)CCMM_MIN(len, CCMM_MOVE_CHUNK);
		struct ccmm_result r;

		if (rw == CCMM_WRITE)
			memset(buf, pattern, n);
		ret = fn(a, arg, rw, off, buf, n, &r);
		if (!ret)
			ret = ccmm_outcome_errno(&r);
		if (!ret && rw == CCMM_READ && verify >= 0) {
			/* the hardware returned something else than what was stored */
			bad = bad || r.outcome == CCMM_SCRAMBLED;
			for (size_t i = 0; i < n && !bad; i++)
				bad = buf[i] != (uint8_t)verify;
		}
		off += n;
		len -= n;
	}
	free(buf);
	return ret ? ret : bad ? -EBADMSG : 0;
}

int ccmm_op_rw(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw, uint64_t size, void *arg,
	       ccmm_data_fn fn)
{
	uint64_t off, len;
	int pat;

	if (ccmm_op_span(a, op, size, CCMM_RW_OFF, CCMM_RW_LEN, &off, &len))
		return -EINVAL;
	pat = (int)(ccmm_arg_u64(a, op, CCMM_RW_PAT) & 0xff);
	if (rw == CCMM_WRITE)
		return ccmm_move_data(a, arg, rw, off, len, pat, -1, fn);
	return ccmm_move_data(a, arg, rw, off, len, 0, ccmm_arg_set(op, CCMM_RW_PAT) ? pat : -1, fn);
}

int ccmm_obj_alloc_pages(struct ccmm_actor *a, const struct ccmm_op *op, const char *name, uint64_t size, int node,
			 unsigned gfp)
{
	unsigned order = ccmm_get_order(size);
	struct ccmm_obj *o;
	uint64_t pa;
	int ret;

	if (!size)
		return ccmm_run_fail(a, op, -EINVAL, "%s: a size of 0 bytes", op->verb->name);
	if (order > CCMM_MAX_ORDER) {
		char sz[32];

		return ccmm_run_fail(a, op, -EINVAL, "%s: %s (%" PRIu64 " bytes) is more than one buddy block (%u MiB)",
				     op->verb->name, ccmm_format_size(size, sz, sizeof(sz)), size,
				     (unsigned)((CCMM_PAGE_SIZE << CCMM_MAX_ORDER) >> 20));
	}
	ret = ccmm_alloc_pages(&a->ctx, node, order, gfp, &pa);
	if (ret)
		return ret;
	ret = ccmm_obj_add(a, name, &o);
	if (ret) {
		ccmm_free_pages(&a->ctx, pa, order);
		return ret;
	}
	o->kind = CCMM_OBJ_PAGES;
	o->pa = pa;
	o->size = size;
	o->order = order;
	return 0;
}

int ccmm_obj_free_pages(struct ccmm_actor *a, struct ccmm_obj *o)
{
	int ret;

	if (o->kind != CCMM_OBJ_PAGES)
		return -EINVAL;
	ret = ccmm_free_pages(&a->ctx, o->pa, o->order);
	if (ret != -EINVAL)
		ccmm_obj_del(a->run, o); /* -EBUSY: leaked, but gone from the actor's hands */
	return ret;
}

void _ccmm_actor_attribute_device(struct ccmm_actor *a)
{
	const struct ccmm_option *o = a->kind->options ? ccmm_option_find(a->kind->options, "device") : NULL;
	int d;

	/* an actor that drives a platform device (device=NAME) works for it: its costs are attributed to it */
	if (!o || o->type != CCMM_OPT_STR || !a->run)
		return;
	d = ccmm_platform_find_device(a->run->m->plat, (const char *)a->opts + o->off);
	a->ctx.attr_dev = d >= 0 ? d + 1 : 0;
}
