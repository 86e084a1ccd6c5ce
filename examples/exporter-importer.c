// SPDX-License-Identifier: MIT
/*
 * exporter-importer - a dma-buf exporter and importer written against
 * libccmm, run through a job file.
 *
 *   cc exporter-importer.c $(pkg-config --cflags --libs ccmm) -o exporter-importer
 *   ./exporter-importer exporter-importer.job [--json FILE]
 *
 * The program adds two actor kinds of its own to ccmm (a kind set
 * registered at run time) and runs the job with them:
 *
 *   example_exporter   export NAME SIZE [pattern=]: pages from the page
 *                      allocator, filled by the CPU through the kernel's
 *                      direct map, exported as a dynamic dma-buf whose
 *                      exporter ops are this file's (get_phyr, pin/unpin,
 *                      release; the mapping through libccmm's phyr helper);
 *                      move NAME: the buffer moves to new pages under its
 *                      reservation lock and the importers hear move_notify
 *   example_importer   attach NAME, read NAME [verify=], detach NAME: a
 *                      device that attaches dynamically, maps the buffer
 *                      through its DMA API (in a TDX guest: bounced through
 *                      SWIOTLB) and reads it by DMA; with
 *                      ignore_move_notify = yes it keeps its mapping across
 *                      a move (seed thread 001's hazard)
 *
 * The job expects the hazard's two violations from the importer that
 * ignores move_notify and none from the one that honours it; the exit
 * status is ccmm run's (0 as expected, 1 not, 2 bad input).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma-buf/dma-buf.h"
#include "mm/mm.h"
#include "report/report.h"
#include "scenario/scenario.h"

/* ---- the exporter ----------------------------------------------------------------- */

struct ex_buf {
	struct ccmm_machine *m;
	uint64_t pa;     /* the pages now */
	unsigned order;
	struct ccmm_dma_buf *dmabuf;
	unsigned pins;
};

/* The buffer's pages as they are now, as the exporter describes them (seed 001's physical-range list). */
static int ex_get_phyr(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf, struct ccmm_phyr *out)
{
	struct ex_buf *b = dmabuf->priv;
	struct ccmm_phyr_meta meta = { .provider = -1, .cache = CCMM_CACHE_WB, .cpu_mappable = true };

	(void)ctx;
	meta.encrypted = ccmm_cc_private_by_default(b->m->plat->mode);
	ccmm_phyr_init(out);
	return ccmm_phyr_append(out, &meta, b->pa, CCMM_PAGE_SIZE << b->order);
}

static int ex_pin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	(void)ctx; /* system pages never move on their own: pinning only counts */
	((struct ex_buf *)attach->dmabuf->priv)->pins++;
	return 0;
}

static void ex_unpin(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	(void)ctx;
	((struct ex_buf *)attach->dmabuf->priv)->pins--;
}

static void ex_release(struct ccmm_ctx *ctx, struct ccmm_dma_buf *dmabuf)
{
	struct ex_buf *b = dmabuf->priv;

	ccmm_free_pages(ctx, b->pa, b->order);
	free(b);
}

static const struct ccmm_dma_buf_ops ex_ops = {
	.pin = ex_pin,
	.unpin = ex_unpin,
	.map_dma_buf = ccmm_dma_buf_map_phyr_helper,
	.unmap_dma_buf = ccmm_dma_buf_unmap_phyr_helper,
	.get_phyr = ex_get_phyr,
	.release = ex_release,
};

static const char buf_type[] = "example-dmabuf";

static void buf_destroy(struct ccmm_run *run, struct ccmm_obj *o)
{
	struct ex_buf *b = o->priv;
	struct ccmm_ctx ctx;

	ccmm_ctx_init(&ctx, run->m, -1, "teardown");
	ccmm_dma_buf_put(&ctx, b->dmabuf); /* the last reference: ex_release frees the pages */
}

static struct ex_buf *buf_arg(struct ccmm_actor *a, const struct ccmm_op *op, int idx)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, idx);

	if (!o)
		return NULL;
	if (o->kind != CCMM_OBJ_OTHER || o->type != buf_type) {
		ccmm_run_fail(a, op, -EINVAL, "%s: '%s' is not an example dma-buf", op->verb->name, o->name);
		return NULL;
	}
	return o->priv;
}

/* The CPU fills @len bytes at @pa with @byte through the kernel's direct map. */
static int cpu_fill(struct ccmm_actor *a, uint64_t pa, uint64_t len, int byte)
{
	uint8_t chunk[4096];
	struct ccmm_result r;

	memset(chunk, byte, sizeof(chunk));
	for (uint64_t off = 0; off < len; off += sizeof(chunk)) {
		int ret = ccmm_cpu_write(&a->ctx, CCMM_INIT_KERNEL, a->run->m->direct_map, ccmm_phys_to_virt(pa + off), chunk,
					 sizeof(chunk), &r);

		if (ret || r.outcome != CCMM_OK)
			return ret ? ret : -EFAULT;
	}
	return 0;
}

enum { EXP_NAME, EXP_SIZE, EXP_PATTERN };

static int verb_export(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t size = ccmm_arg_u64(a, op, EXP_SIZE);
	struct ccmm_dma_buf_export_info info = {
		.exp_name = "example_exporter",
		.ops = &ex_ops,
		.map_info = CCMM_DMA_BUF_COHERENT_CACHED,
		.provider = -1,
		.negotiate = true,
	};
	struct ex_buf *b = calloc(1, sizeof(*b));
	struct ccmm_obj *o;
	int ret;

	if (!b)
		return -ENOMEM;
	b->m = a->run->m;
	b->order = ccmm_get_order(size);
	info.size = CCMM_PAGE_SIZE << b->order;
	info.priv = b;
	ret = ccmm_alloc_pages(&a->ctx, -1, b->order, 0, &b->pa);
	if (!ret)
		ret = cpu_fill(a, b->pa, info.size, (int)ccmm_arg_u64(a, op, EXP_PATTERN));
	if (!ret)
		ret = ccmm_dma_buf_export(&a->ctx, &info, &b->dmabuf);
	if (!ret)
		ret = ccmm_obj_add(a, ccmm_arg_str(op, EXP_NAME), &o);
	if (ret) {
		if (b->dmabuf)
			ccmm_dma_buf_put(&a->ctx, b->dmabuf);
		else if (b->pa)
			ccmm_free_pages(&a->ctx, b->pa, b->order);
		if (!b->dmabuf)
			free(b);
		return ret;
	}
	o->kind = CCMM_OBJ_OTHER;
	o->type = buf_type;
	o->priv = b;
	o->size = info.size;
	o->destroy = buf_destroy;
	return 0;
}

/* The exporter moves the buffer to new pages (copying it), under its reservation lock, as a TTM eviction would. */
static int verb_move(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ex_buf *b = buf_arg(a, op, 0);
	uint64_t size, npa, old;
	uint8_t chunk[4096];
	struct ccmm_result r;
	int ret;

	if (!b)
		return -ENOENT;
	size = CCMM_PAGE_SIZE << b->order;
	ret = ccmm_dma_resv_lock(&a->ctx, b->dmabuf->resv, NULL);
	if (ret)
		return ret;
	ret = ccmm_alloc_pages(&a->ctx, -1, b->order, 0, &npa);
	for (uint64_t off = 0; !ret && off < size; off += sizeof(chunk)) {
		ret = ccmm_cpu_read(&a->ctx, CCMM_INIT_KERNEL, a->run->m->direct_map, ccmm_phys_to_virt(b->pa + off), chunk,
				    sizeof(chunk), &r);
		if (!ret)
			ret = ccmm_cpu_write(&a->ctx, CCMM_INIT_KERNEL, a->run->m->direct_map, ccmm_phys_to_virt(npa + off),
					     chunk, sizeof(chunk), &r);
	}
	if (ret) {
		ccmm_dma_resv_unlock(&a->ctx, b->dmabuf->resv);
		return ret;
	}
	old = b->pa;
	b->pa = npa;
	ret = ccmm_dma_buf_move_notify(&a->ctx, b->dmabuf);
	ccmm_dma_resv_unlock(&a->ctx, b->dmabuf->resv);
	ccmm_free_pages(&a->ctx, old, b->order); /* the old pages go back to the allocator */
	return ret;
}

static const struct ccmm_arg_spec export_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the buffer's name" },
	{ "size", CCMM_ARG_SIZE, true, true, NULL, NULL, "bytes (up to 4 MiB)" },
	{ "pattern", CCMM_ARG_U64, false, false, NULL, "0x5a", "the byte the CPU fills it with" },
	{ NULL },
};
static const struct ccmm_arg_spec buf_args[] = { { "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the buffer" }, { NULL } };

static const struct ccmm_verb exporter_verbs[] = {
	{ "export", "allocate, fill and export a dynamic dma-buf", export_args, verb_export },
	{ "move", "move the buffer to new pages and tell the importers (move_notify)", buf_args, verb_move },
	{ NULL },
};

static const struct ccmm_actor_kind exporter_kind = {
	.name = "example_exporter",
	.help = "an exporter written against libccmm (examples/exporter-importer.c)",
	.verbs = exporter_verbs,
};

/* ---- the importer ------------------------------------------------------------------ */

struct im_opts {
	char device[CCMM_NAME_MAX];
	bool ignore_move_notify;
};

struct im_state {
	struct ccmm_dma_buf_attach_ops ops;
	bool ignore;
	int dev;
	struct ex_buf *buf;                    /* one attachment at a time, for brevity */
	struct ccmm_dma_buf_attachment *attach;
	struct ccmm_dma_buf_map *map;
};

static const struct ccmm_option importer_options[] = {
	{ "device", CCMM_OPT_STR, offsetof(struct im_opts, device), 0, CCMM_NAME_MAX, false, NULL, NULL,
	  "the importing device (a platform device)" },
	{ "ignore_move_notify", CCMM_OPT_BOOL, offsetof(struct im_opts, ignore_move_notify), 0, 0, false, NULL, "no",
	  "keep the mapping across move_notify (the hazard of seed thread 001)" },
	{ NULL },
};

/* The exporter moved the buffer (its thread, reservation held): a careful importer drops its mapping now. */
static void im_move_notify(struct ccmm_ctx *ctx, struct ccmm_dma_buf_attachment *attach)
{
	struct im_state *s = attach->importer_priv;

	if (s->ignore || !s->map)
		return;
	ccmm_dma_buf_unmap_attachment(ctx, attach, s->map);
	s->map = NULL;
}

static int im_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	int dev = ccmm_actor_find_device(job, a, ((struct im_opts *)a->opts)->device, err);

	return dev < 0 ? dev : 0;
}

static int im_start(struct ccmm_actor *a)
{
	struct im_opts *o = a->opts;
	struct im_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->ops.move_notify = im_move_notify;
	s->ignore = o->ignore_move_notify;
	s->dev = ccmm_platform_find_device(a->run->m->plat, o->device);
	a->priv = s;
	return 0;
}

/* Drop the mapping and the attachment (at detach, and when the actor ends still attached). */
static int im_release(struct ccmm_actor *a, struct im_state *s)
{
	int ret;

	if (s->map) {
		ret = ccmm_dma_buf_unmap_attachment_unlocked(&a->ctx, s->attach, s->map);
		if (ret)
			return ret;
		s->map = NULL;
	}
	ret = s->attach ? ccmm_dma_buf_detach(&a->ctx, s->attach) : 0;
	if (!ret)
		s->attach = NULL, s->buf = NULL;
	return ret;
}

static void im_stop(struct ccmm_actor *a)
{
	struct im_state *s = a->priv;

	if (s)
		im_release(a, s);
	free(s);
	a->priv = NULL;
}

static int verb_attach(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct im_state *s = a->priv;
	struct ex_buf *b = buf_arg(a, op, 0);
	struct ccmm_dma_buf_attach_info ai = { .dev = s->dev, .name = a->name, .importer_ops = &s->ops,
					       .importer_priv = s };

	if (!b)
		return -ENOENT;
	if (s->attach)
		return ccmm_run_fail(a, op, -EBUSY, "attach: %s is attached already (one buffer at a time)", a->name);
	s->buf = b;
	return ccmm_dma_buf_attach(&a->ctx, b->dmabuf, &ai, &s->attach);
}

static int verb_read(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct im_state *s = a->priv;
	uint64_t size, verify = ccmm_arg_set(op, 1) ? ccmm_arg_u64(a, op, 1) : UINT64_MAX;
	uint8_t chunk[4096];
	struct ccmm_result r;
	int ret;

	if (!buf_arg(a, op, 0))
		return -ENOENT;
	if (!s->attach || s->buf != buf_arg(a, op, 0))
		return ccmm_run_fail(a, op, -ENOENT, "read: %s has not attached to '%s'", a->name, ccmm_arg_str(op, 0));
	if (!s->map) { /* (re)map: the first read, or the first after a move it honoured */
		ret = ccmm_dma_buf_map_attachment_unlocked(&a->ctx, s->attach, CCMM_DMA_TO_DEVICE, &s->map);
		if (ret)
			return ret;
	}
	size = s->buf->dmabuf->size;
	for (uint64_t off = 0; off < size; off += sizeof(chunk)) {
		ret = ccmm_dma_buf_map_access(&a->ctx, s->map, CCMM_READ, off, chunk, sizeof(chunk), &r);
		if (ret)
			return ret;
		for (size_t i = 0; verify != UINT64_MAX && i < sizeof(chunk); i++)
			if (chunk[i] != (uint8_t)verify) {
				ccmm_op_note(a, "byte %llu is 0x%02x, not 0x%02x", (unsigned long long)(off + i), chunk[i],
					     (unsigned)verify);
				return -EBADMSG;
			}
	}
	return 0;
}

static int verb_detach(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct im_state *s = a->priv;

	if (!buf_arg(a, op, 0))
		return -ENOENT;
	if (s->buf != buf_arg(a, op, 0))
		return ccmm_run_fail(a, op, -ENOENT, "detach: %s has not attached to '%s'", a->name, ccmm_arg_str(op, 0));
	return im_release(a, s);
}

static const struct ccmm_arg_spec read_args[] = {
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "the buffer" },
	{ "verify", CCMM_ARG_U64, false, false, NULL, NULL, "the byte every read byte must be (-EBADMSG otherwise)" },
	{ NULL },
};

static const struct ccmm_verb importer_verbs[] = {
	{ "attach", "attach dynamically (with move_notify) to a buffer", buf_args, verb_attach },
	{ "read", "map (again, if the mapping was dropped) and read the whole buffer by DMA", read_args, verb_read },
	{ "detach", "unmap and detach", buf_args, verb_detach },
	{ NULL },
};

static const struct ccmm_actor_kind importer_kind = {
	.name = "example_importer",
	.help = "an importer written against libccmm (examples/exporter-importer.c)",
	.options = importer_options,
	.opts_size = sizeof(struct im_opts),
	.verbs = importer_verbs,
	.check = im_check,
	.start = im_start,
	.stop = im_stop,
};

static const struct ccmm_actor_kind *const example_kinds[] = { &exporter_kind, &importer_kind, NULL };
static const struct ccmm_kind_set example_set = { "example", example_kinds, NULL, NULL };

/* ---- the program ----------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	struct ccmm_run_summary s;
	struct ccmm_outfile json;
	char msg[1024];
	int ret;

	if (argc != 2 && !(argc == 4 && !strcmp(argv[2], "--json"))) {
		fprintf(stderr, "usage: %s JOB [--json FILE]\n", argv[0]);
		return 2;
	}
	ret = ccmm_kind_set_register(&example_set);
	if (ret) {
		fprintf(stderr, "cannot register the example's actor kinds: %s\n", strerror(-ret));
		return 2;
	}
	if (ccmm_job_load(argv[1], NULL, NULL, &job, &err)) {
		ccmm_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return 2;
	}
	ret = ccmm_job_run(job, &run);
	if (ret) {
		fprintf(stderr, "%s: cannot start the run: %s\n", argv[1], strerror(-ret));
		ccmm_job_free(job);
		return 2;
	}
	ccmm_report_text(run, stdout, 0);
	ccmm_run_summarize(run, &s);
	if (argc == 4 && s.status != 2) {
		ret = ccmm_outfile_open(&json, argv[3]);
		if (!ret && ccmm_report_json(run, json.fp))
			ccmm_outfile_abort(&json), ret = -EIO;
		else if (!ret)
			ret = ccmm_outfile_commit(&json);
		if (ret) {
			fprintf(stderr, "%s: %s\n", argv[3], strerror(-ret));
			s.status = 2;
		}
	}
	ccmm_run_free(run);
	ccmm_job_free(job);
	return s.status;
}
