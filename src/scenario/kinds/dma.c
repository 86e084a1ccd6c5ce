// SPDX-License-Identifier: MIT
/*
 * Actor kinds of the DMA layer:
 *   dma_driver  a driver using the DMA API: probe/remove, masks, segment
 *               limits, buffers (pages, on its kernel stack, kernel text or
 *               rodata), streaming mappings (single, page, sg), syncs,
 *               coherent memory (blocking or atomic), the atomic pools'
 *               worker, MMIO; its CPU accesses are checked against the
 *               device's ownership of streaming buffers
 *   dma_device  the device side: DMA to the addresses the driver was given
 *               (mapping and coherent objects, or @BUS) or to pages it
 *               names, at their bus address through its translation, with
 *               the live-mapping checks; learns a page's bus address
 * Mapping objects keep their record after an unmap, so a job can show a
 * double unmap; they are freed at the end of the run.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "scenario/scenario.h"
#include "swiotlb/swiotlb.h"

/* The kinds defined in dma-replay.c and dma-trace.c, registered with the others here. */
extern const struct ccmm_actor_kind _ccmm_kind_virtio_blk_replay;
extern const struct ccmm_actor_kind _ccmm_kind_dma_trace;


static const char *const type_mapping = "dma_mapping";
static const char *const type_coherent = "dma_coherent";
static const char *const type_kmem = "dma_kmem"; /* a buffer on the kernel stack or in the kernel image */

/* What a mapping or coherent object holds. */
struct dma_obj {
	int dev;
	enum ccmm_dma_map_type type;
	uint64_t dma, size, pa;
	enum ccmm_dma_dir dir;
	uint64_t cpu_va;            /* coherent */
	struct ccmm_sg_table sgt;   /* sg */
};

static void dma_obj_destroy(struct ccmm_run *run, struct ccmm_obj *o)
{
	struct dma_obj *d = o->priv;

	if (d) {
		ccmm_sg_free_table(&d->sgt);
		free(d);
	}
	o->priv = NULL;
}

static struct dma_obj *as_dma(const struct ccmm_obj *o, const char *type)
{
	if (o->kind != CCMM_OBJ_OTHER || !o->type || (type && strcmp(o->type, type)))
		return NULL;
	if (strcmp(o->type, type_mapping) && strcmp(o->type, type_coherent))
		return NULL;
	return o->priv;
}

static bool is_kmem(const struct ccmm_obj *o)
{
	return o->kind == CCMM_OBJ_OTHER && o->type && !strcmp(o->type, type_kmem);
}

/* ---- shared option and argument tables ----------------------------------------------------------- */

struct dev_opts {
	char device[CCMM_NAME_MAX];
};

static const struct ccmm_option dev_options[] = {
	{ "device", CCMM_OPT_STR, offsetof(struct dev_opts, device), 0, CCMM_NAME_MAX, false, NULL, NULL,
	  "the platform device" },
	{ NULL }
};

struct dev_state {
	struct ccmm_dma_dev *d;
};

static int dev_start(struct ccmm_actor *a)
{
	struct dev_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->d = ccmm_dma_dev(a->run->m, ccmm_platform_find_device(a->run->m->plat, ((struct dev_opts *)a->opts)->device));
	if (!s->d) {
		free(s);
		return -ENODEV;
	}
	a->priv = s;
	return 0;
}

static void dev_stop(struct ccmm_actor *a)
{
	free(a->priv);
	a->priv = NULL;
}

static struct ccmm_dma_dev *dev_of(struct ccmm_actor *a)
{
	return ((struct dev_state *)a->priv)->d;
}

/* Each mask op's bits must be a mask: bad input at load time, not a run-time errno. */
static int check_ops(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	for (size_t i = 0; i < a->nr_ops; i++) {
		const struct ccmm_op *op = &a->ops[i];
		struct ccmm_loc loc = { op->where.file, op->where.line };

		for (int k = 0; op->verb->args && op->verb->args[k].name; k++) {
			const struct ccmm_range *r = &op->arg[k].range;

			if (!op->arg[k].set || strcmp(op->verb->args[k].name, "bits"))
				continue;
			if (!r->lo || r->hi > 64)
				return ccmm_error_set(err, &loc, -EINVAL,
						      "%s: %" PRIu64 " bits is not a DMA mask (1 to 64 bits)", op->verb->name,
						      !r->lo ? r->lo : r->hi);
		}
	}
	return 0;
}

static int dev_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	int d = ccmm_actor_find_device(job, a, ((struct dev_opts *)a->opts)->device, err);

	return d < 0 ? d : check_ops(job, a, err);
}

static const char *const window_names[] = { "auto", "ddw", "dma32", NULL };

/* ---- dma_driver ---------------------------------------------------------------------------------------- */

static const struct ccmm_arg_spec probe_args[] = {
	{ "window", CCMM_ARG_ENUM, false, false, window_names, "auto",
	  "pSeries secure guest: bounce buffers in the 64-bit DDW or the 32-bit window" },
	{ "filter", CCMM_ARG_BOOL, false, false, NULL, "yes", "TDX: enforce the device allow-list" },
	{ NULL }
};

static int verb_probe(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_probe_opts o = { .no_filter = !ccmm_arg_choice(op, 1),
					 .window = (enum ccmm_svm_window)ccmm_arg_choice(op, 0) };

	int ret = ccmm_dma_probe(&a->ctx, dev_of(a), &o);

	if (!ret)
		ccmm_actor_milestone(a, "probed");
	return ret;
}

static int verb_remove(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_dma_remove(&a->ctx, dev_of(a));
}

static const struct ccmm_arg_spec mask_args[] = {
	{ "bits", CCMM_ARG_U64, true, false, NULL, NULL, "mask width, 1 to 64 (default: the platform's for the device)" },
	{ NULL }
};

static unsigned mask_bits(struct ccmm_actor *a, const struct ccmm_op *op, bool coherent)
{
	const struct ccmm_device_desc *desc = dev_of(a)->desc;

	if (ccmm_arg_set(op, 0))
		return (unsigned)ccmm_arg_u64(a, op, 0);
	return coherent ? desc->coherent_mask_bits : desc->dma_mask_bits;
}

static int verb_set_mask(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_dma_set_mask(&a->ctx, dev_of(a), mask_bits(a, op, false));
}

static int verb_set_coherent_mask(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_dma_set_coherent_mask(&a->ctx, dev_of(a), mask_bits(a, op, true));
}

static int verb_set_mask_and_coherent(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_dma_set_mask_and_coherent(&a->ctx, dev_of(a), mask_bits(a, op, false));
}

static const struct ccmm_arg_spec alloc_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the buffer's name" },
	{ "size", CCMM_ARG_SIZE, true, true, NULL, NULL, "bytes, up to 4 MiB" },
	{ NULL }
};

static int verb_alloc(struct ccmm_actor *a, const struct ccmm_op *op)
{
	const struct ccmm_device_desc *desc = dev_of(a)->desc;
	int node = desc->node >= 0 && (unsigned)desc->node < a->run->m->plat->nr_nodes ? desc->node : -1;

	return ccmm_obj_alloc_pages(a, op, ccmm_arg_str(op, 0), ccmm_arg_u64(a, op, 1), node, 0);
}

static const struct ccmm_arg_spec obj_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "object" },
	{ NULL }
};

static int verb_free(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, 0);

	return o ? ccmm_obj_free_pages(a, o) : -ENOENT;
}

static const struct ccmm_arg_spec stack_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the buffer's name" },
	{ "size", CCMM_ARG_SIZE, true, true, NULL, NULL, "bytes, up to 8 KiB (half the 16 KiB stack)" },
	{ NULL }
};

/* A new object for @size bytes of kernel memory dma/ owns (a stack or the kernel image): nothing to free. */
static int kmem_obj(struct ccmm_actor *a, const char *name, uint64_t va, uint64_t pa, uint64_t size)
{
	struct ccmm_obj *o;
	int ret = ccmm_obj_add(a, name, &o);

	if (ret)
		return ret;
	o->kind = CCMM_OBJ_OTHER;
	o->type = type_kmem;
	o->pa = pa;
	o->va = va;
	o->size = size;
	return 0;
}

/* A local buffer of the driver's function: the top of its task's kernel stack (which grows down). */
static int verb_stack(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t size = ccmm_arg_u64(a, op, 1), va, pa, at;
	int ret;

	if (!size || size > CCMM_THREAD_SIZE / 2)
		return ccmm_run_fail(a, op, -EINVAL, "stack: %" PRIu64 " bytes do not fit a stack frame (1 to 8 KiB)", size);
	ret = ccmm_dma_task_stack(&a->ctx, &va, &pa);
	if (ret)
		return ret;
	at = CCMM_ALIGN_DOWN(CCMM_THREAD_SIZE - 256 - size, 64); /* below the frames above it */
	return kmem_obj(a, ccmm_arg_str(op, 0), va + at, pa + at, size);
}

static const char *const section_names[] = { "text", "rodata", NULL };

static const struct ccmm_arg_spec kimage_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the object's name" },
	{ "section", CCMM_ARG_ENUM, true, true, section_names, NULL, "text (_stext.._etext) or rodata" },
	{ "off", CCMM_ARG_SIZE, false, false, NULL, "0", "byte offset into the section" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, "4k", "bytes" },
	{ NULL }
};

/* A driver that hands kernel text or rodata to the DMA API (a const table, a function's code). */
static int verb_kernel_image(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t va, pa, size, off = ccmm_arg_u64(a, op, 2), len = ccmm_arg_u64(a, op, 3);
	int ret = ccmm_dma_kernel_image(a->run->m, ccmm_arg_choice(op, 1) == 1, &va, &pa, &size);

	if (ret)
		return ret;
	if (!len || off >= size || len > size - off)
		return ccmm_run_fail(a, op, -EINVAL, "kernel_image: [%" PRIu64 ", +%" PRIu64 ") is outside the %" PRIu64
				     "-byte section", off, len, size);
	return kmem_obj(a, ccmm_arg_str(op, 0), va + off, pa + off, len);
}

static const struct ccmm_arg_spec seg_size_args[] = {
	{ "size", CCMM_ARG_SIZE, true, true, NULL, NULL, "largest sg segment the device takes, bytes (PCI default 64k)" },
	{ NULL }
};

static int verb_set_max_seg_size(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t size = ccmm_arg_u64(a, op, 0);

	return size > UINT32_MAX ? -EINVAL : ccmm_dma_set_max_seg_size(dev_of(a), (uint32_t)size);
}

static const struct ccmm_arg_spec seg_boundary_args[] = {
	{ "mask", CCMM_ARG_U64, true, true, NULL, NULL, "a segment may not cross a multiple of mask + 1 (PCI default 0xffffffff)" },
	{ NULL }
};

static int verb_set_seg_boundary(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return ccmm_dma_set_seg_boundary(dev_of(a), ccmm_arg_u64(a, op, 0));
}

/* CPU accesses: buffers through the direct map, coherent memory through its CPU address. */
static const struct ccmm_arg_spec write_args[] = { CCMM_WRITE_ARG_SPECS("obj", "buffer, mapping (its buffer) or coherent memory") };

static const struct ccmm_arg_spec read_args[] = { CCMM_READ_ARG_SPECS("obj", "buffer, mapping (its buffer) or coherent memory") };

/* The CPU's view of an object: its kernel virtual address and whether DMA ownership applies. */
static int cpu_view(const struct ccmm_obj *o, uint64_t *va, uint64_t *pa, bool *streaming)
{
	struct dma_obj *d;

	*streaming = false;
	if (o->kind == CCMM_OBJ_PAGES || is_kmem(o)) {
		*pa = o->pa;
		*va = is_kmem(o) ? o->va : ccmm_phys_to_virt(o->pa);
		*streaming = true;
		return 0;
	}
	d = as_dma(o, NULL);
	if (!d)
		return -EINVAL;
	if (d->type == CCMM_DMA_MAP_COHERENT) {
		*va = d->cpu_va;
		*pa = d->pa;
		return 0;
	}
	*pa = d->pa;
	*va = ccmm_phys_to_virt(d->pa);
	*streaming = true;
	return 0;
}

/* The CPU's data path: @arg is the kernel virtual address of byte 0. */
static int kernel_fn(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
		     struct ccmm_result *r)
{
	return ccmm_kernel_access(&a->ctx, rw, *(uint64_t *)arg + off, buf, len, r);
}

static int cpu_rw(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, CCMM_RW_OBJ);
	uint64_t va, pa, off, len;
	bool streaming;

	if (!o)
		return -ENOENT;
	if (cpu_view(o, &va, &pa, &streaming) || ccmm_op_span(a, op, o->size, CCMM_RW_OFF, CCMM_RW_LEN, &off, &len))
		return -EINVAL;
	if (streaming)
		ccmm_dma_cpu_access_check(&a->ctx, pa + off, len, rw);
	return ccmm_op_rw(a, op, rw, o->size, &va, kernel_fn);
}

static int verb_write(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return cpu_rw(a, op, CCMM_WRITE);
}

static int verb_read(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return cpu_rw(a, op, CCMM_READ);
}

/* Mapping ops */
enum { MAP_NAME, MAP_BUF, MAP_OFF, MAP_LEN, MAP_DIR, MAP_CHECK, MAP_SKIP, MAP_NENTS };

static const struct ccmm_arg_spec map_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the mapping's name" },
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL,
	  "a buffer (alloc, stack, kernel_image; dma_map_single also an ioremap or @VA, a kernel virtual address)" },
	{ "off", CCMM_ARG_SIZE, false, false, NULL, NULL, "byte offset into the buffer" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: to the end)" },
	{ "dir", CCMM_ARG_ENUM, false, false, ccmm_dma_dir_names, "bidirectional", "DMA direction" },
	{ "check", CCMM_ARG_BOOL, false, false, NULL, "yes", "call dma_mapping_error() on the result" },
	{ "skip_cpu_sync", CCMM_ARG_BOOL, false, false, NULL, "no", "DMA_ATTR_SKIP_CPU_SYNC" },
	{ NULL }
};

static const struct ccmm_arg_spec map_sg_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the mapping's name" },
	{ "buf", CCMM_ARG_OBJ, true, true, NULL, NULL, "a buffer (alloc)" },
	{ "off", CCMM_ARG_SIZE, false, false, NULL, NULL, "byte offset into the buffer" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: to the end)" },
	{ "dir", CCMM_ARG_ENUM, false, false, ccmm_dma_dir_names, "bidirectional", "DMA direction" },
	{ "check", CCMM_ARG_BOOL, false, false, NULL, "yes", "(the sg API reports failures by its return)" },
	{ "skip_cpu_sync", CCMM_ARG_BOOL, false, false, NULL, "no", "DMA_ATTR_SKIP_CPU_SYNC" },
	{ "nents", CCMM_ARG_U64, false, false, NULL, "1", "scatterlist entries to split the range into" },
	{ NULL }
};

static int map_common(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_dma_map_type type)
{
	struct ccmm_dma_dev *dev = dev_of(a);
	struct ccmm_obj *buf = ccmm_obj_get(a, op, MAP_BUF), *o;
	enum ccmm_dma_dir dir = (enum ccmm_dma_dir)ccmm_arg_choice(op, MAP_DIR);
	unsigned long attrs = ccmm_arg_choice(op, MAP_SKIP) ? CCMM_DMA_ATTR_SKIP_CPU_SYNC : 0;
	bool paged = buf && (buf->kind == CCMM_OBJ_PAGES || is_kmem(buf));
	struct dma_obj *d;
	uint64_t off, len, va = 0;
	int ret;

	if (!buf)
		return -ENOENT;
	/* dma_map_single takes any kernel virtual address; the others take pages */
	if (type == CCMM_DMA_MAP_SINGLE && (buf->kind == CCMM_OBJ_IOMAP || buf->kind == CCMM_OBJ_RAW))
		va = buf->va;
	else if (!paged)
		return -EINVAL;
	else
		va = is_kmem(buf) ? buf->va : ccmm_phys_to_virt(buf->pa);
	if (ccmm_op_span(a, op, buf->size, MAP_OFF, MAP_LEN, &off, &len))
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->dev = dev->index;
	d->type = type;
	d->pa = paged ? buf->pa + off : 0;
	d->size = len;
	d->dir = dir;
	if (type == CCMM_DMA_MAP_SG) {
		uint64_t nents = ccmm_arg_u64(a, op, MAP_NENTS), left = len, pa = d->pa;

		if (!nents || nents > len)
			ret = -EINVAL;
		else
			ret = ccmm_sg_alloc_table(&d->sgt, (unsigned)nents);
		for (unsigned i = 0; !ret && i < nents; i++) {
			uint64_t piece = i + 1 == nents ? left : CCMM_ALIGN_UP(len / nents, 512);

			piece = CCMM_MIN(piece, left);
			d->sgt.sgl[i].page_link = CCMM_ALIGN_DOWN(pa, CCMM_PAGE_SIZE);
			d->sgt.sgl[i].offset = (uint32_t)(pa & (CCMM_PAGE_SIZE - 1));
			d->sgt.sgl[i].length = (uint32_t)piece;
			pa += piece;
			left -= piece;
			if (!piece)
				ret = -EINVAL;
		}
		if (!ret) {
			ret = ccmm_dma_map_sg(&a->ctx, dev, &d->sgt, dir, attrs);
			ret = ret < 0 ? ret : 0;
		}
		d->dma = ret ? CCMM_DMA_MAPPING_ERROR : d->sgt.sgl[0].dma_address;
	} else if (type == CCMM_DMA_MAP_SINGLE) {
		ret = ccmm_dma_map_single(&a->ctx, dev, va + off, len, dir, attrs, &d->dma);
		if (!ret && !paged)
			ccmm_dma_kernel_virt_to_phys(a->run->m, va + off, &d->pa); /* @VA in the direct map */
	} else {
		ret = ccmm_dma_map_page(&a->ctx, dev, d->pa, len, dir, attrs, &d->dma);
	}
	if (type != CCMM_DMA_MAP_SG && ccmm_arg_choice(op, MAP_CHECK))
		ccmm_dma_mapping_error(dev, d->dma);
	if (ret) {
		ccmm_sg_free_table(&d->sgt);
		free(d);
		return ret;
	}
	ret = ccmm_obj_add(a, ccmm_arg_str(op, MAP_NAME), &o);
	if (ret) {
		if (type == CCMM_DMA_MAP_SG)
			ccmm_dma_unmap_sg(&a->ctx, dev, &d->sgt, dir, CCMM_DMA_ATTR_SKIP_CPU_SYNC);
		else
			ccmm_dma_unmap_page(&a->ctx, dev, d->dma, len, dir, CCMM_DMA_ATTR_SKIP_CPU_SYNC);
		ccmm_sg_free_table(&d->sgt);
		free(d);
		return ret;
	}
	o->kind = CCMM_OBJ_OTHER;
	o->type = type_mapping;
	o->priv = d;
	o->destroy = dma_obj_destroy;
	o->pa = d->pa;
	o->size = len;
	return 0;
}

static int verb_map_single(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return map_common(a, op, CCMM_DMA_MAP_SINGLE);
}

static int verb_map_page(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return map_common(a, op, CCMM_DMA_MAP_PAGE);
}

static int verb_map_sg(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return map_common(a, op, CCMM_DMA_MAP_SG);
}

enum { UN_MAP, UN_LEN, UN_DIR, UN_NENTS };

static const struct ccmm_arg_spec unmap_args[] = {
	{ "map", CCMM_ARG_OBJ, true, true, NULL, NULL, "the mapping" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: as mapped; another value is a misuse)" },
	{ "dir", CCMM_ARG_ENUM, false, false, ccmm_dma_dir_names, NULL,
	  "direction (default: as mapped; another one is a misuse)" },
	{ NULL }
};

static const struct ccmm_arg_spec unmap_sg_args[] = {
	{ "map", CCMM_ARG_OBJ, true, true, NULL, NULL, "the mapping" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: as mapped; another value is a misuse)" },
	{ "dir", CCMM_ARG_ENUM, false, false, ccmm_dma_dir_names, NULL,
	  "direction (default: as mapped; another one is a misuse)" },
	{ "nents", CCMM_ARG_U64, false, false, NULL, NULL,
	  "entries passed (default: as given to dma_map_sg; another count is a misuse)" },
	{ NULL }
};

static int unmap_common(struct ccmm_actor *a, const struct ccmm_op *op, int fn)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, UN_MAP);
	struct dma_obj *d;
	uint64_t len;
	enum ccmm_dma_dir dir;
	struct ccmm_dma_dev *dev;

	if (!o)
		return -ENOENT;
	d = as_dma(o, NULL);
	if (!d)
		return -EINVAL;
	dev = ccmm_dma_dev(a->run->m, d->dev);
	len = ccmm_arg_set(op, UN_LEN) ? ccmm_arg_u64(a, op, UN_LEN) : d->size;
	dir = ccmm_arg_set(op, UN_DIR) ? (enum ccmm_dma_dir)ccmm_arg_choice(op, UN_DIR) : d->dir;
	switch (fn) {
	case CCMM_DMA_MAP_SINGLE:
		return ccmm_dma_unmap_single(&a->ctx, dev, d->dma, len, dir, 0);
	case CCMM_DMA_MAP_PAGE:
		return ccmm_dma_unmap_page(&a->ctx, dev, d->dma, len, dir, 0);
	case CCMM_DMA_MAP_SG:
		if (d->type != CCMM_DMA_MAP_SG) {
			/* dma_unmap_sg of a list the driver built around this one address (the wrong function) */
			struct ccmm_sg_table t = { 0 };
			int ret = ccmm_sg_alloc_table(&t, 1);

			if (ret)
				return ret;
			t.sgl[0].page_link = CCMM_ALIGN_DOWN(d->pa, CCMM_PAGE_SIZE);
			t.sgl[0].offset = (uint32_t)(d->pa & (CCMM_PAGE_SIZE - 1));
			t.sgl[0].length = t.sgl[0].dma_length = (uint32_t)len;
			t.sgl[0].dma_address = d->dma;
			t.nents = 1;
			ret = ccmm_dma_unmap_sg_nents(&a->ctx, dev, &t, 1, dir, 0);
			ccmm_sg_free_table(&t);
			return ret;
		}
		return ccmm_dma_unmap_sg_nents(&a->ctx, dev, &d->sgt,
					       ccmm_arg_set(op, UN_NENTS) ? (unsigned)ccmm_arg_u64(a, op, UN_NENTS)
									  : d->sgt.orig_nents,
					       dir, 0);
	default:
		return ccmm_dma_free_coherent(&a->ctx, dev, len, d->cpu_va, d->dma);
	}
}

static int verb_unmap_single(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return unmap_common(a, op, CCMM_DMA_MAP_SINGLE);
}

static int verb_unmap_page(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return unmap_common(a, op, CCMM_DMA_MAP_PAGE);
}

static int verb_unmap_sg(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return unmap_common(a, op, CCMM_DMA_MAP_SG);
}

static int verb_mapping_error(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, 0);
	struct dma_obj *d;

	if (!o)
		return -ENOENT;
	d = as_dma(o, type_mapping);
	if (!d)
		return -EINVAL;
	return ccmm_dma_mapping_error(ccmm_dma_dev(a->run->m, d->dev), d->dma);
}

enum { SY_MAP, SY_OFF, SY_LEN, SY_DIR, SY_NENTS };

static const struct ccmm_arg_spec sync_args[] = {
	{ "map", CCMM_ARG_OBJ, true, true, NULL, NULL, "the mapping" },
	{ "off", CCMM_ARG_SIZE, false, false, NULL, NULL, "byte offset into it" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: to its end)" },
	{ "dir", CCMM_ARG_ENUM, false, false, ccmm_dma_dir_names, NULL,
	  "direction (default: as mapped; another one is reported, and copies as it says)" },
	{ "nents", CCMM_ARG_U64, false, false, NULL, NULL, "sg: entries passed (default: as given to dma_map_sg)" },
	{ NULL }
};

static int sync_common(struct ccmm_actor *a, const struct ccmm_op *op, bool for_cpu)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, SY_MAP);
	struct dma_obj *d;
	struct ccmm_dma_dev *dev;
	enum ccmm_dma_dir dir;
	uint64_t off, len, end;

	if (!o)
		return -ENOENT;
	d = as_dma(o, type_mapping);
	if (!d)
		return -EINVAL;
	dev = ccmm_dma_dev(a->run->m, d->dev);
	dir = ccmm_arg_set(op, SY_DIR) ? (enum ccmm_dma_dir)ccmm_arg_choice(op, SY_DIR) : d->dir;
	if (d->type == CCMM_DMA_MAP_SG)
		return ccmm_dma_sync_sg_nents(&a->ctx, dev, &d->sgt,
					      ccmm_arg_set(op, SY_NENTS) ? (unsigned)ccmm_arg_u64(a, op, SY_NENTS)
									 : d->sgt.orig_nents,
					      dir, for_cpu);
	off = ccmm_arg_set(op, SY_OFF) ? ccmm_arg_u64(a, op, SY_OFF) : 0;
	len = ccmm_arg_set(op, SY_LEN) ? ccmm_arg_u64(a, op, SY_LEN) : (d->size > off ? d->size - off : 0);
	if (ccmm_range_end(d->dma, off, 0, &end) || ccmm_range_end(end, len, 0, &end))
		return -EINVAL; /* no bus address: the sum wraps */
	return for_cpu ? ccmm_dma_sync_single_for_cpu(&a->ctx, dev, d->dma + off, len, dir)
		       : ccmm_dma_sync_single_for_device(&a->ctx, dev, d->dma + off, len, dir);
}

static int verb_sync_for_cpu(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return sync_common(a, op, true);
}

static int verb_sync_for_device(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return sync_common(a, op, false);
}

static const char *const gfp_names[] = { "kernel", "atomic", NULL };

static const struct ccmm_arg_spec coherent_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the buffer's name" },
	{ "size", CCMM_ARG_SIZE, true, true, NULL, NULL, "bytes, up to 4 MiB" },
	{ "gfp", CCMM_ARG_ENUM, false, false, gfp_names, "kernel",
	  "GFP_KERNEL (may block: pages converted now) or GFP_ATOMIC (from the atomic pools)" },
	{ NULL }
};

static int verb_alloc_coherent(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_dma_dev *dev = dev_of(a);
	struct dma_obj *d = calloc(1, sizeof(*d));
	struct ccmm_obj *o;
	int ret;

	if (!d)
		return -ENOMEM;
	d->dev = dev->index;
	d->type = CCMM_DMA_MAP_COHERENT;
	d->size = ccmm_arg_u64(a, op, 1);
	d->dir = CCMM_DMA_BIDIRECTIONAL;
	ret = ccmm_dma_alloc_attrs(&a->ctx, dev, d->size, ccmm_arg_choice(op, 2) ? CCMM_DMA_GFP_ATOMIC : 0, &d->dma,
				   &d->cpu_va);
	if (!ret)
		ret = ccmm_obj_add(a, ccmm_arg_str(op, 0), &o);
	if (ret) {
		if (d->cpu_va)
			ccmm_dma_free_coherent(&a->ctx, dev, d->size, d->cpu_va, d->dma);
		free(d);
		return ret;
	}
	d->pa = ccmm_virt_to_phys(d->cpu_va);
	o->kind = CCMM_OBJ_OTHER;
	o->type = type_coherent;
	o->priv = d;
	o->destroy = dma_obj_destroy;
	o->pa = d->pa;
	o->va = d->cpu_va;
	o->size = d->size;
	return 0;
}

static int verb_free_coherent(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return unmap_common(a, op, CCMM_DMA_MAP_COHERENT);
}

enum { MM_OFF, MM_LEN, MM_PAT };

static const struct ccmm_arg_spec mmio_write_args[] = {
	{ "off", CCMM_ARG_SIZE, true, false, NULL, "0", "byte offset into BAR 0" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, "4", "bytes (a register: 1, 2, 4 or 8)" },
	{ "pattern", CCMM_ARG_U64, false, false, NULL, "0x1", "byte written" },
	{ NULL }
};

static const struct ccmm_arg_spec mmio_read_args[] = {
	{ "off", CCMM_ARG_SIZE, true, false, NULL, "0", "byte offset into BAR 0" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, "4", "bytes" },
	{ "verify", CCMM_ARG_U64, false, false, NULL, NULL, "expected byte; a mismatch returns -EBADMSG" },
	{ NULL }
};

static int verb_mmio(struct ccmm_actor *a, const struct ccmm_op *op, bool write)
{
	uint64_t off = ccmm_arg_u64(a, op, MM_OFF), len = ccmm_arg_u64(a, op, MM_LEN);
	uint8_t buf[64];
	int ret;

	if (!len || len > sizeof(buf))
		return -EINVAL;
	memset(buf, (int)(ccmm_arg_u64(a, op, MM_PAT) & 0xff), (size_t)len);
	if (write)
		return ccmm_dma_mmio_write(&a->ctx, dev_of(a), off, buf, (size_t)len);
	ret = ccmm_dma_mmio_read(&a->ctx, dev_of(a), off, buf, (size_t)len);
	if (!ret && ccmm_arg_set(op, MM_PAT))
		for (uint64_t i = 0; i < len; i++)
			if (buf[i] != (uint8_t)ccmm_arg_u64(a, op, MM_PAT))
				return -EBADMSG;
	return ret;
}

static int verb_mmio_write(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return verb_mmio(a, op, true);
}

static int verb_mmio_read(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return verb_mmio(a, op, false);
}

static const char *const pool_work_names[] = { "hold", "release", NULL };

static const struct ccmm_arg_spec pool_work_args[] = {
	{ "what", CCMM_ARG_ENUM, true, true, pool_work_names, NULL,
	  "hold: the worker does not run (a busy machine); release: it runs what was queued" },
	{ NULL }
};

static int verb_pool_work(struct ccmm_actor *a, const struct ccmm_op *op)
{
	ccmm_dma_atomic_pool_hold(a->run->m, ccmm_arg_choice(op, 0) == 0);
	return 0;
}

static const struct ccmm_verb driver_verbs[] = {
	{ "probe", "bind the driver (TDX allow-list, ioremap BAR 0, PCI default 32-bit masks)", probe_args, verb_probe },
	{ "remove", "unbind; live mappings are reported and leaked", NULL, verb_remove },
	{ "dma_set_mask", "streaming DMA mask (pSeries: 64 bits bypasses through the DDW)", mask_args, verb_set_mask },
	{ "dma_set_coherent_mask", "coherent DMA mask", mask_args, verb_set_coherent_mask },
	{ "dma_set_mask_and_coherent", "both masks", mask_args, verb_set_mask_and_coherent },
	{ "alloc", "a buffer of pages near the device", alloc_args, verb_alloc },
	{ "free", "free a buffer", obj_args, verb_free },
	{ "write", "CPU write (checked against the device's ownership of streaming buffers)", write_args, verb_write },
	{ "read", "CPU read, optionally verifying the pattern", read_args, verb_read },
	{ "dma_map_single", "map a buffer for streaming DMA", map_args, verb_map_single },
	{ "dma_map_page", "map a buffer's pages for streaming DMA", map_args, verb_map_page },
	{ "dma_map_sg", "map a buffer split into nents scatterlist entries", map_sg_args, verb_map_sg },
	{ "dma_unmap_single", "unmap (len= / dir= other than mapped are misuses)", unmap_args, verb_unmap_single },
	{ "dma_unmap_page", "unmap a page mapping", unmap_args, verb_unmap_page },
	{ "dma_unmap_sg", "unmap a scatterlist (of a single mapping: the wrong function)", unmap_sg_args, verb_unmap_sg },
	{ "dma_mapping_error", "ask whether a mapping failed (-ENOMEM)", obj_args, verb_mapping_error },
	{ "dma_sync_single_for_cpu", "give a streaming mapping to the CPU", sync_args, verb_sync_for_cpu },
	{ "dma_sync_single_for_device", "give it back to the device", sync_args, verb_sync_for_device },
	{ "dma_alloc_coherent", "coherent memory (made shared in a guest; atomic: from the atomic pools)", coherent_args,
	  verb_alloc_coherent },
	{ "dma_free_coherent", "free it (len= other than allocated is a misuse)", unmap_args, verb_free_coherent },
	{ "mmio_write", "write a register in BAR 0 (#VE or TDVMCALL in a TDX guest)", mmio_write_args, verb_mmio_write },
	{ "mmio_read", "read a register in BAR 0", mmio_read_args, verb_mmio_read },
	{ "atomic_pool_work", "hold or release the atomic pools' worker (atomic_pool_work)", pool_work_args,
	  verb_pool_work },
	{ "stack", "a buffer on the driver task's kernel stack (dma-debug: check_for_stack)", stack_args, verb_stack },
	{ "kernel_image", "a buffer in kernel text or rodata (dma-debug: check_for_illegal_area)", kimage_args,
	  verb_kernel_image },
	{ "dma_set_max_seg_size", "the device's largest sg segment (dma_set_max_seg_size)", seg_size_args,
	  verb_set_max_seg_size },
	{ "dma_set_seg_boundary", "the boundary a segment may not cross (dma_set_seg_boundary)", seg_boundary_args,
	  verb_set_seg_boundary },
	{ NULL }
};

static const struct ccmm_milestone driver_milestones[] = {
	{ "probed", "the driver bound to its device (a probe that succeeded)" },
	{ NULL, NULL }
};

static const struct ccmm_actor_kind ccmm_kind_dma_driver = {
	.name = "dma_driver",
	.help = "a driver using the DMA API on one device: probe, masks, mappings, syncs, coherent memory, MMIO",
	.options = dev_options,
	.opts_size = sizeof(struct dev_opts),
	.verbs = driver_verbs,
	.check = dev_check,
	.start = dev_start,
	.stop = dev_stop,	.milestones = driver_milestones,
};

/* ---- dma_device ---------------------------------------------------------------------------------------- */

/*
 * Bus address of byte @off of what the device is told to reach: a bus
 * address (@BUS, a mapping or coherent object), or a page the job names
 * (pages, a stack or kernel-image buffer) at the bus address its
 * translation gives it -- or, where the IOMMU has none, the page's
 * physical address, a stray access the IOMMU catches.
 */
static int bus_of(struct ccmm_dma_dev *dev, const struct ccmm_obj *o, uint64_t off, uint64_t *bus, uint64_t *room)
{
	struct dma_obj *d;

	if (o->kind == CCMM_OBJ_RAW) {
		*bus = o->pa + off;
		*room = o->size - off;
		return 0;
	}
	if (o->kind == CCMM_OBJ_PAGES || is_kmem(o)) {
		uint64_t pa = o->pa + off;

		if (ccmm_dma_bus_addr(dev, pa, bus, room)) {
			*bus = pa;
			*room = CCMM_PAGE_SIZE - (pa & (CCMM_PAGE_SIZE - 1));
		}
		*room = CCMM_MIN(*room, o->size - off);
		return 0;
	}
	d = as_dma(o, NULL);
	if (!d)
		return -EINVAL;
	if (d->type == CCMM_DMA_MAP_SG) {
		for (unsigned i = 0; i < d->sgt.orig_nents; i++) {
			if (off < d->sgt.sgl[i].length) {
				*bus = d->sgt.sgl[i].dma_address + off;
				*room = d->sgt.sgl[i].length - off;
				return 0;
			}
			off -= d->sgt.sgl[i].length;
		}
		return -EINVAL;
	}
	*bus = d->dma + off;
	*room = d->size - off;
	return 0;
}

/* The device's data path over an object's bus addresses, segment by segment (an sg mapping has several). */
static int device_fn(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
		     struct ccmm_result *r)
{
	uint8_t *p = buf;
	size_t done = 0;

	memset(r, 0, sizeof(*r));
	while (done < len) {
		uint64_t bus, room;
		struct ccmm_result part;
		size_t n;
		int ret = bus_of(dev_of(a), arg, off + done, &bus, &room);

		if (ret)
			return ret;
		n = (size_t)CCMM_MIN(len - done, room);
		ret = ccmm_dma_device_access(&a->ctx, dev_of(a), rw, bus, p + done, n, &part);
		if (ret)
			return ret;
		ccmm_result_merge(r, &part, !done);
		done += n;
		if (ccmm_outcome_errno(&part))
			break;
	}
	return 0;
}

static int device_rw(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, CCMM_RW_OBJ);

	return o ? ccmm_op_rw(a, op, rw, o->size, o, device_fn) : -ENOENT;
}

static int verb_dev_write(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return device_rw(a, op, CCMM_WRITE);
}

static int verb_dev_read(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return device_rw(a, op, CCMM_READ);
}

static const struct ccmm_arg_spec dev_write_args[] = {
	CCMM_WRITE_ARG_SPECS("obj", "a mapping, coherent memory, @BUSADDR, or pages (at their bus address)")
};

static const struct ccmm_arg_spec dev_read_args[] = {
	CCMM_READ_ARG_SPECS("obj", "a mapping, coherent memory, @BUSADDR, or pages (at their bus address)")
};

static const struct ccmm_arg_spec bus_addr_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "a bus-address object (as @BUS) for the result" },
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "pages, or a stack or kernel-image buffer" },
	{ "off", CCMM_ARG_SIZE, false, false, NULL, "0", "byte offset into it" },
	{ NULL }
};

/* Learn where the device reaches a page: ccmm_dma_bus_addr, or -ENOENT when its IOMMU has no translation. */
static int verb_bus_addr(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, 1), *n;
	uint64_t off = ccmm_arg_u64(a, op, 2), bus, room;
	int ret;

	if (!o)
		return -ENOENT;
	if ((o->kind != CCMM_OBJ_PAGES && !is_kmem(o)) || off >= o->size)
		return -EINVAL;
	ret = ccmm_dma_bus_addr(dev_of(a), o->pa + off, &bus, &room);
	if (ret)
		return ret;
	ret = ccmm_obj_add(a, ccmm_arg_str(op, 0), &n);
	if (ret)
		return ret;
	n->kind = CCMM_OBJ_RAW;
	n->pa = bus;
	n->va = bus;
	n->size = CCMM_MIN(room, o->size - off);
	return 0;
}

static const struct ccmm_verb device_verbs[] = {
	{ "dma_write", "DMA a pattern to what the driver gave, or to pages at their bus address (through the IOMMU, checked)",
	  dev_write_args, verb_dev_write },
	{ "dma_read", "DMA from it, optionally verifying the pattern", dev_read_args, verb_dev_read },
	{ "bus_addr", "the bus address at which the device reaches a page (dma_map_* / IOMMU), as an object",
	  bus_addr_args, verb_bus_addr },
	{ NULL }
};

static const struct ccmm_actor_kind ccmm_kind_dma_device = {
	.name = "dma_device",
	.help = "a device doing DMA at the addresses the DMA API gave its driver",
	.options = dev_options,
	.opts_size = sizeof(struct dev_opts),
	.verbs = device_verbs,
	.check = dev_check,
	.start = dev_start,
	.stop = dev_stop,
};

static const struct ccmm_actor_kind *const dma_kinds[] = {
	&ccmm_kind_dma_driver, &ccmm_kind_dma_device, &_ccmm_kind_virtio_blk_replay, &_ccmm_kind_dma_trace, NULL,
};

/* Time series: SWIOTLB slots in use per area, and the bytes bounced for each device so far. */
static void dma_ext_sample(struct ccmm_run *run, const void *opts, struct ccmm_series *s)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(run->m);
	uint64_t bytes[CCMM_ATTR_DEVS] = { 0 };
	size_t nd = CCMM_MIN(run->m->plat->nr_devices, (size_t)CCMM_ATTR_DEVS);

	bool dma_job = false;

	(void)opts;
	for (size_t i = 0; i < run->job->nr_actors; i++)
		for (size_t k = 0; dma_kinds[k]; k++)
			dma_job |= run->job->actors[i]->kind == dma_kinds[k];
	/* jobs of other kinds show the pool once something bounced (importers, TTM) */
	if (!mem)
		return;
	if (!dma_job) {
		struct ccmm_swiotlb_stats st;

		ccmm_swiotlb_stats(mem, &st); /* the maps are counted per area */
		if (!st.maps)
			return;
	}
	for (unsigned a = 0; a < mem->nareas; a++) {
		char label[16];
		uint64_t used;

		snprintf(label, sizeof(label), "area %u", a);
		used = ccmm_swiotlb_area_used(mem, a);
		ccmm_series_put(s, "swiotlb.slots_used", label, "slots", (double)used);
	}
	bool served[CCMM_ATTR_DEVS] = { false };

	for (size_t i = 0; i < run->job->nr_actors; i++) {
		const struct ccmm_ctx *c = &run->job->actors[i]->ctx;

		if (c->attr_dev > 0 && (size_t)c->attr_dev <= nd)
			served[c->attr_dev - 1] = true;
		for (size_t d = 0; d < nd; d++) {
			bytes[d] += c->attr_n[d][CCMM_ATTR_BOUNCE];
			for (int k = 0; k < CCMM_ATTR_NR; k++)
				served[d] |= c->attr_ns[d][k] != 0;
		}
	}
	/* the devices some actor works for, or worked for so far (a trace replay's) */
	for (size_t d = 0; d < nd; d++)
		if (served[d] || bytes[d])
			ccmm_series_count(s, "swiotlb.bounce_bytes", run->m->plat->devices[d].name, "bytes", bytes[d],
					  CCMM_MARK_NONE);
}

static const struct ccmm_run_ext dma_ext = {
	.name = "dma",
	.sample = dma_ext_sample,
};

/* A sweep's default figures: what bouncing moved and cost, and what a replay's I/O waited. */
static const char *const dma_metrics[] = {
	"subsystems.swiotlb.bounced_bytes",     "subsystems.swiotlb.io_tlb_used_hiwater",
	"attribution.*.bounce_copies.ns",       "attribution.*.conversions.ns",
	"attribution.*.exits.ns",               "attribution.*.iotlb_misses.ns",
	"jobs.*.read.clat_ns.percentile.50.000000", "jobs.*.read.clat_ns.percentile.99.000000",
	"jobs.*.write.clat_ns.percentile.99.000000", "jobs.*.counters.io_failed",
	NULL,
};

const struct ccmm_kind_set ccmm_kinds_dma = { "dma", dma_kinds, &dma_ext, dma_metrics };
