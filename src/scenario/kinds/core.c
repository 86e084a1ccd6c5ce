// SPDX-License-Identifier: MIT
/*
 * The machine's own actor kinds (over mm/, cc/ and check/):
 *   guest_task  allocates, converts, maps and touches pages (kernel and user)
 *   device      DMA reads and writes at modeled addresses, through the
 *               device's translation (its IOMMU, or none)
 *   vmm         maps guest memory into the host and touches it; refuses
 *               conversions; host-side RMP operations
 * and the "kernel" run extension: the [global] knobs of mm/, cc/ and check/
 * (the kernel bugs a job can switch on, fault injection, events kept).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cc/cc.h"
#include "dma/dma.h"
#include "scenario/scenario.h"


static const char *const cache_names[] = { "wb", "wc", "uc", NULL };
static const char *const attr_names[] = { "default", "private", "shared", NULL };
static const char *const pgsize_names[] = { "4k", "2m", "1g", NULL };
static const uint64_t pgsize_values[] = { CCMM_PAGE_SIZE, CCMM_PMD_SIZE, CCMM_PUD_SIZE };

/* ---- guest_task --------------------------------------------------------------- */

struct task_opts {
	uint64_t node;
};

/* The run-time state of the actors that run on a CPU (tasks and VMMs). */
struct cpu_state {
	struct ccmm_mm *mm;
};

static const struct ccmm_option task_options[] = {
	{ "node", CCMM_OPT_U64, offsetof(struct task_opts, node), 0, CCMM_MAX_NODES - 1, false, NULL, "0",
	  "NUMA node the task allocates from" },
	{ NULL }
};

static int task_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct task_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };

	if (o->node >= job->plat->nr_nodes)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: node %" PRIu64 " is not on the platform (it has %u)", a->name,
				      o->node, job->plat->nr_nodes);
	return 0;
}

static int cpu_start(struct ccmm_actor *a, enum ccmm_initiator who)
{
	struct cpu_state *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return -ENOMEM;
	ret = ccmm_mm_create(a->run->m, who, a->name, &s->mm);
	if (ret) {
		free(s);
		return ret;
	}
	a->priv = s;
	return 0;
}

static void cpu_stop(struct ccmm_actor *a)
{
	struct cpu_state *s = a->priv;

	if (!s)
		return;
	ccmm_mm_destroy(NULL, s->mm);
	free(s);
	a->priv = NULL;
}

static int task_start(struct ccmm_actor *a)
{
	return cpu_start(a, CCMM_INIT_USER);
}

static struct ccmm_mm *actor_mm(struct ccmm_actor *a)
{
	return ((struct cpu_state *)a->priv)->mm;
}

static const struct ccmm_actor_kind ccmm_kind_vmm;

static int cpu_access(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
		      struct ccmm_result *r)
{
	struct ccmm_obj *o = arg;

	switch (o->kind) {
	case CCMM_OBJ_PAGES:
		if (a->kind == &ccmm_kind_vmm)
			return -EINVAL; /* the host cannot reach guest pages without mapping them */
		return ccmm_kernel_access(&a->ctx, rw, ccmm_phys_to_virt(o->pa + off), buf, len, r);
	case CCMM_OBJ_IOMAP:
	case CCMM_OBJ_RAW:
		return ccmm_kernel_access(&a->ctx, rw, o->va + off, buf, len, r);
	case CCMM_OBJ_UMAP:
		if (o->mm != actor_mm(a))
			return -EPERM; /* another process's mapping */
		return ccmm_mm_access(&a->ctx, o->mm, rw, o->va + off, buf, len, r);
	default:
		return -EINVAL;
	}
}

static const struct ccmm_arg_spec write_args[] = { CCMM_WRITE_ARG_SPECS("obj", "object to write") };

static const struct ccmm_arg_spec read_args[] = { CCMM_READ_ARG_SPECS("obj", "object to read") };

static int rw_op(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw, ccmm_data_fn fn)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, CCMM_RW_OBJ);

	return o ? ccmm_op_rw(a, op, rw, o->size, o, fn) : -ENOENT;
}

static int verb_write(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return rw_op(a, op, CCMM_WRITE, cpu_access);
}

static int verb_read(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return rw_op(a, op, CCMM_READ, cpu_access);
}

static const struct ccmm_arg_spec alloc_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "object name" },
	{ "size", CCMM_ARG_SIZE, true, true, NULL, NULL, "bytes, up to 4 MiB (one buddy block)" },
	{ "node", CCMM_ARG_U64, false, false, NULL, NULL, "NUMA node (default: the actor's)" },
	{ "zero", CCMM_ARG_BOOL, false, false, NULL, "no", "__GFP_ZERO" },
	{ NULL }
};

static int verb_alloc(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct task_opts *to = a->opts;
	int node = ccmm_arg_set(op, 2) ? (int)ccmm_arg_u64(a, op, 2) : (int)to->node;

	return ccmm_obj_alloc_pages(a, op, ccmm_arg_str(op, 0), ccmm_arg_u64(a, op, 1), node,
				    ccmm_arg_choice(op, 3) ? CCMM_GFP_ZERO : 0);
}

static const struct ccmm_arg_spec obj_only_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "object" },
	{ NULL }
};

static int verb_free(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, 0);

	return o ? ccmm_obj_free_pages(a, o) : -ENOENT;
}

static const struct ccmm_arg_spec convert_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "pages to convert" },
	{ "pages", CCMM_ARG_PAGES, false, false, NULL, NULL, "number of pages (default: all)" },
	{ "off", CCMM_ARG_U64, false, false, NULL, NULL, "byte offset of the first page (may be misaligned)" },
	{ NULL }
};

static int conv_range(struct ccmm_actor *a, const struct ccmm_op *op, uint64_t *addr, uint64_t *n)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, 0);
	uint64_t off;

	if (!o)
		return -ENOENT;
	if (o->kind != CCMM_OBJ_PAGES)
		return -EINVAL;
	off = ccmm_arg_set(op, 2) ? ccmm_arg_u64(a, op, 2) : 0;
	*n = ccmm_arg_set(op, 1) ? ccmm_arg_u64(a, op, 1) : CCMM_ALIGN_UP(o->size, CCMM_PAGE_SIZE) >> CCMM_PAGE_SHIFT;
	if (ccmm_range_within(off, *n, CCMM_PAGE_SHIFT, 0, CCMM_ALIGN_UP(o->size, CCMM_PAGE_SIZE) + CCMM_PAGE_SIZE))
		return -EINVAL;
	*addr = o->pa + off;
	return 0;
}

static int verb_set_decrypted(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = conv_range(a, op, &pa, &n);

	return ret ? ret : ccmm_set_memory_decrypted(&a->ctx, ccmm_phys_to_virt(pa), n);
}

static int verb_set_encrypted(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = conv_range(a, op, &pa, &n);

	return ret ? ret : ccmm_set_memory_encrypted(&a->ctx, ccmm_phys_to_virt(pa), n);
}

static int set_cache(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_cache_mode mode)
{
	uint64_t pa, n;
	int ret = conv_range(a, op, &pa, &n);

	return ret ? ret : ccmm_set_memory_cache(&a->ctx, ccmm_phys_to_virt(pa), n, mode);
}

static int verb_set_wc(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return set_cache(a, op, CCMM_CACHE_WC);
}

static int verb_set_uc(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return set_cache(a, op, CCMM_CACHE_UC);
}

static int verb_set_wb(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return set_cache(a, op, CCMM_CACHE_WB);
}

/* mmap: a user (or host) mapping of an object's physical memory */
enum { MM_NAME, MM_OBJ, MM_CACHE, MM_ATTR, MM_PGSIZE, MM_RO, MM_SIZE };

static const struct ccmm_arg_spec mmap_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the mapping's name" },
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "what to map: pages, @ADDR or bar:DEV" },
	{ "cache", CCMM_ARG_ENUM, false, false, cache_names, "wb", "cache mode of the PTEs" },
	{ "attr", CCMM_ARG_ENUM, false, false, attr_names, "default",
	  "default: vm_get_page_prot (encrypted in a CC guest); private; shared" },
	{ "pagesize", CCMM_ARG_ENUM, false, false, pgsize_names, "4k", "leaf size; the mapping covers the aligned region" },
	{ "ro", CCMM_ARG_BOOL, false, false, NULL, "no", "read-only" },
	{ "size", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes to map (default: the object)" },
	{ NULL }
};

static int do_mmap(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_machine *m = a->run->m;
	struct ccmm_obj *src = ccmm_obj_get(a, op, MM_OBJ), *o;
	struct ccmm_mm *mm = actor_mm(a);
	uint64_t pgsize = pgsize_values[ccmm_arg_choice(op, MM_PGSIZE)];
	uint64_t size, base, end, prot;
	struct ccmm_vma *vma;
	int attr = ccmm_arg_choice(op, MM_ATTR), ret;
	bool priv;

	if (!src)
		return -ENOENT;
	if (src->kind == CCMM_OBJ_UMAP || src->kind == CCMM_OBJ_IOMAP)
		return -EINVAL;
	size = ccmm_arg_set(op, MM_SIZE) ? ccmm_arg_u64(a, op, MM_SIZE) : src->size;
	base = CCMM_ALIGN_DOWN(src->pa, pgsize);
	if (ccmm_range_end(src->pa, size, 0, &end) || end > UINT64_MAX - pgsize)
		return -EINVAL;
	end = CCMM_ALIGN_UP(end, pgsize);
	if (attr == 0) /* vm_get_page_prot: the mode's default, encrypted in a CC guest */
		priv = ccmm_cc_private_by_default(m->plat->mode) || m->plat->mode == CCMM_CC_SME;
	else
		priv = attr == 1;
	prot = ccmm_pte_mkprivate(m, (ccmm_arg_choice(op, MM_RO) ? 0 : CCMM_PTE_RW) |
					     ccmm_pte_cache_bits((enum ccmm_cache_mode)ccmm_arg_choice(op, MM_CACHE), 1),
				  priv);
	ret = ccmm_mmap(&a->ctx, mm, 0, end - base,
			CCMM_VM_READ | CCMM_VM_SHARED | (ccmm_arg_choice(op, MM_RO) ? 0 : CCMM_VM_WRITE), prot, NULL, NULL,
			&vma);
	if (ret)
		return ret;
	ret = ccmm_remap_pfn_range(&a->ctx, vma, vma->start, base, end - base, pgsize, prot);
	if (!ret)
		ret = ccmm_obj_add(a, ccmm_arg_str(op, MM_NAME), &o);
	if (ret) {
		ccmm_munmap(&a->ctx, mm, vma->start, vma->end - vma->start);
		return ret;
	}
	o->kind = CCMM_OBJ_UMAP;
	o->mm = mm;
	o->vma = vma;
	o->va = vma->start + (src->pa - base);
	o->pa = src->pa;
	o->size = size;
	return 0;
}

static int verb_munmap(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, 0);
	int ret;

	if (!o)
		return -ENOENT;
	if (o->kind != CCMM_OBJ_UMAP || o->mm != actor_mm(a))
		return -EINVAL;
	ret = ccmm_munmap(&a->ctx, o->mm, o->vma->start, o->vma->end - o->vma->start);
	if (!ret)
		ccmm_obj_del(a->run, o);
	return ret;
}

static const struct ccmm_arg_spec ioremap_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the mapping's name" },
	{ "device", CCMM_ARG_STR, true, true, NULL, NULL, "platform device" },
	{ "bar", CCMM_ARG_U64, false, false, NULL, "0", "BAR number" },
	{ "cache", CCMM_ARG_ENUM, false, false, cache_names, "uc", "uc: ioremap, wc: ioremap_wc" },
	{ NULL }
};

static int verb_ioremap(struct ccmm_actor *a, const struct ccmm_op *op)
{
	const struct ccmm_platform *p = a->run->m->plat;
	int d = ccmm_platform_find_device(p, ccmm_arg_str(op, 1));
	uint64_t bar = ccmm_arg_u64(a, op, 2), va;
	struct ccmm_obj *o;
	int err;

	if (d < 0)
		return ccmm_run_fail(a, op, -ENODEV, "ioremap: no device '%s' on the platform", ccmm_arg_str(op, 1));
	if (bar >= CCMM_MAX_BARS || !p->devices[d].bar[bar].size)
		return -EINVAL;
	va = ccmm_ioremap(&a->ctx, p->devices[d].bar[bar].base, p->devices[d].bar[bar].size,
			  (enum ccmm_cache_mode)ccmm_arg_choice(op, 3), &err);
	if (!va)
		return err;
	err = ccmm_obj_add(a, ccmm_arg_str(op, 0), &o);
	if (err) {
		ccmm_iounmap(&a->ctx, va, p->devices[d].bar[bar].size);
		return err;
	}
	o->kind = CCMM_OBJ_IOMAP;
	o->va = va;
	o->pa = p->devices[d].bar[bar].base;
	o->size = p->devices[d].bar[bar].size;
	return 0;
}

static int verb_iounmap(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, 0);
	int ret;

	if (!o)
		return -ENOENT;
	if (o->kind != CCMM_OBJ_IOMAP)
		return -EINVAL;
	ret = ccmm_iounmap(&a->ctx, o->va, o->size);
	if (!ret)
		ccmm_obj_del(a->run, o);
	return ret;
}

/* secure-world primitives, for jobs that test their rules */
static const char *const map_types[] = { "private", "shared", NULL };

static const struct ccmm_arg_spec map_gpa_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "pages" },
	{ "type", CCMM_ARG_ENUM, true, true, map_types, NULL, "private or shared" },
	{ "pages", CCMM_ARG_PAGES, false, false, NULL, NULL, "number of pages (default: all)" },
	{ NULL }
};

static int obj_pages(struct ccmm_actor *a, const struct ccmm_op *op, int pages_idx, uint64_t *pa, uint64_t *n)
{
	struct ccmm_obj *o = ccmm_obj_get(a, op, 0);
	uint64_t end;

	if (!o)
		return -ENOENT;
	if (o->kind != CCMM_OBJ_PAGES && o->kind != CCMM_OBJ_RAW)
		return -EINVAL;
	*pa = o->pa;
	*n = pages_idx >= 0 && ccmm_arg_set(op, pages_idx) ? ccmm_arg_u64(a, op, pages_idx)
							   : CCMM_ALIGN_UP(o->size, CCMM_PAGE_SIZE) >> CCMM_PAGE_SHIFT;
	return ccmm_range_end(*pa, *n, CCMM_PAGE_SHIFT, &end) ? -EINVAL : 0;
}

static int verb_map_gpa(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = obj_pages(a, op, 2, &pa, &n);

	return ret ? ret : ccmm_tdx_map_gpa(&a->ctx, pa, n, ccmm_arg_choice(op, 1) ? CCMM_TDX_MAP_SHARED : CCMM_TDX_MAP_PRIVATE, NULL);
}

static const struct ccmm_arg_spec pages_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "pages" },
	{ "pages", CCMM_ARG_PAGES, false, false, NULL, NULL, "number of pages (default: all)" },
	{ NULL }
};

static int verb_accept(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = obj_pages(a, op, 1, &pa, &n);

	for (uint64_t i = 0; !ret && i < n; i++)
		ret = ccmm_tdx_accept_page(&a->ctx, pa + (i << CCMM_PAGE_SHIFT));
	return ret;
}

static const struct ccmm_arg_spec pvalidate_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "the page (or 2 MiB block)" },
	{ "validate", CCMM_ARG_BOOL, false, false, NULL, "yes", "validate (yes) or rescind (no)" },
	{ "huge", CCMM_ARG_BOOL, false, false, NULL, "no", "2 MiB page size" },
	{ NULL }
};

static int verb_pvalidate(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = obj_pages(a, op, -1, &pa, &n);

	return ret ? ret : ccmm_snp_pvalidate(&a->ctx, pa, ccmm_arg_choice(op, 2), ccmm_arg_choice(op, 1));
}

static const struct ccmm_arg_spec psc_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "pages" },
	{ "to", CCMM_ARG_ENUM, true, true, map_types, NULL, "private or shared" },
	{ "pages", CCMM_ARG_PAGES, false, false, NULL, NULL, "number of pages (default: all)" },
	{ NULL }
};

static int verb_psc(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = obj_pages(a, op, 2, &pa, &n);

	return ret ? ret : ccmm_snp_psc(&a->ctx, pa, n, ccmm_arg_choice(op, 1) == 0, NULL);
}

static int verb_uv_share(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = obj_pages(a, op, 1, &pa, &n);

	return ret ? ret : ccmm_uv_share_page(&a->ctx, pa >> CCMM_PAGE_SHIFT, n, NULL);
}

static int verb_uv_unshare(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = obj_pages(a, op, 1, &pa, &n);

	return ret ? ret : ccmm_uv_unshare_page(&a->ctx, pa >> CCMM_PAGE_SHIFT, n, NULL);
}

static const struct ccmm_verb task_verbs[] = {
	{ "alloc", "allocate pages (alloc_pages_node)", alloc_args, verb_alloc },
	{ "free", "free them (a failed conversion leaks them)", obj_only_args, verb_free },
	{ "write", "write a byte pattern: pages via the direct map, a mapping via its address space", write_args,
	  verb_write },
	{ "read", "read, optionally verifying the pattern", read_args, verb_read },
	{ "set_memory_decrypted", "make pages shared with the host and devices", convert_args, verb_set_decrypted },
	{ "set_memory_encrypted", "make pages private again", convert_args, verb_set_encrypted },
	{ "set_memory_wc", "direct-map pages write-combined", convert_args, verb_set_wc },
	{ "set_memory_uc", "direct-map pages uncached", convert_args, verb_set_uc },
	{ "set_memory_wb", "direct-map pages write-back", convert_args, verb_set_wb },
	{ "mmap", "map an object into the task's user address space (remap_pfn_range)", mmap_args, do_mmap },
	{ "munmap", "unmap it", obj_only_args, verb_munmap },
	{ "ioremap", "map a device BAR into the kernel", ioremap_args, verb_ioremap },
	{ "iounmap", "unmap it", obj_only_args, verb_iounmap },
	{ "tdx_map_gpa", "TDG.VP.VMCALL<MapGPA> without the kernel's bookkeeping", map_gpa_args, verb_map_gpa },
	{ "tdx_accept", "TDG.MEM.PAGE.ACCEPT", pages_args, verb_accept },
	{ "snp_pvalidate", "PVALIDATE", pvalidate_args, verb_pvalidate },
	{ "snp_psc", "a GHCB page-state change request", psc_args, verb_psc },
	{ "uv_share", "UV_SHARE_PAGE", pages_args, verb_uv_share },
	{ "uv_unshare", "UV_UNSHARE_PAGE", pages_args, verb_uv_unshare },
	{ NULL }
};

static const struct ccmm_actor_kind ccmm_kind_guest_task = {
	.name = "guest_task",
	.help = "a task in the (guest) kernel: allocates, converts, maps and touches pages",
	.options = task_options,
	.opts_size = sizeof(struct task_opts),
	.verbs = task_verbs,
	.check = task_check,
	.start = task_start,
	.stop = cpu_stop,
};

/* ---- device ------------------------------------------------------------------- */

struct device_opts {
	char device[CCMM_NAME_MAX];
};

struct device_state {
	int dev;
	bool cbit; /* the op under way wants the C-bit in its addresses */
};

static const struct ccmm_option device_options[] = {
	{ "device", CCMM_OPT_STR, offsetof(struct device_opts, device), 0, CCMM_NAME_MAX, false, NULL, NULL,
	  "the platform device this actor is" },
	{ NULL }
};

static int device_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	int d = ccmm_actor_find_device(job, a, ((struct device_opts *)a->opts)->device, err);

	return d < 0 ? d : 0;
}

static int device_start(struct ccmm_actor *a)
{
	struct device_state *s = calloc(1, sizeof(*s));

	if (!s)
		return -ENOMEM;
	s->dev = ccmm_platform_find_device(a->run->m->plat, ((struct device_opts *)a->opts)->device);
	a->priv = s;
	return 0;
}

static void device_stop(struct ccmm_actor *a)
{
	free(a->priv);
	a->priv = NULL;
}

/*
 * The device's DMA to byte @off of a target, as the hardware routes it
 * (ccmm_dma_raw_access): "@BUS" and "bar:DEV" are bus addresses, emitted
 * as given; a named page (or the buffer behind any other object) is
 * reached where the device's translation puts it (ccmm_dma_bus_addr) --
 * with no IOMMU its physical address (with the C-bit if asked), behind one
 * the bus address of a mapping that holds it -- and a page the IOMMU does
 * not translate for the device is a stray access at its physical address,
 * which the IOMMU faults (seed 002's second line of isolation).
 */
static int dma_fn(struct ccmm_actor *a, void *arg, enum ccmm_rw rw, uint64_t off, void *buf, size_t len,
		  struct ccmm_result *r)
{
	struct ccmm_obj *o = arg;
	struct device_state *s = a->priv;
	struct ccmm_dma_dev *d = ccmm_dma_dev(a->run->m, s->dev);
	uint8_t *p = buf;
	size_t done = 0;

	memset(r, 0, sizeof(*r));
	if (!d)
		return -ENODEV;
	while (done < len) {
		uint64_t pa = o->pa + off + done, bus = pa, room = len - done;
		struct ccmm_result part;
		size_t n;
		int ret;

		if (o->kind != CCMM_OBJ_RAW && d->unit && ccmm_dma_bus_addr(d, pa, &bus, &room))
			bus = pa; /* no translation to it: the device emits the physical address */
		if (s->cbit && !d->unit)
			bus |= a->run->m->enc_mask;
		n = (size_t)CCMM_MIN(len - done, CCMM_MAX(room, 1));
		ret = ccmm_dma_raw_access(&a->ctx, d, rw, bus, p + done, n, &part);
		if (ret)
			return ret;
		ccmm_result_merge(r, &part, !done);
		done += n;
		if (ccmm_outcome_faults(part.outcome) && !part.handled)
			break;
	}
	return 0;
}

static const struct ccmm_arg_spec dma_write_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "target: pages, @BUSADDR or bar:DEV" },
	{ "off", CCMM_ARG_SIZE, false, false, NULL, NULL, "byte offset" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: to the end)" },
	{ "pattern", CCMM_ARG_U64, false, false, NULL, "0x5a", "byte written" },
	{ "cbit", CCMM_ARG_BOOL, false, false, NULL, "no", "SME: put the C-bit in the DMA address" },
	{ NULL }
};

static const struct ccmm_arg_spec dma_read_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "source: pages, @BUSADDR or bar:DEV" },
	{ "off", CCMM_ARG_SIZE, false, false, NULL, NULL, "byte offset" },
	{ "len", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: to the end)" },
	{ "verify", CCMM_ARG_U64, false, false, NULL, NULL, "expected byte; a mismatch returns -EBADMSG" },
	{ "cbit", CCMM_ARG_BOOL, false, false, NULL, "no", "SME: put the C-bit in the DMA address" },
	{ NULL }
};

static int dma_op(struct ccmm_actor *a, const struct ccmm_op *op, enum ccmm_rw rw)
{
	struct device_state *s = a->priv;
	int ret;

	s->cbit = ccmm_arg_choice(op, 4);
	ret = rw_op(a, op, rw, dma_fn);
	s->cbit = false;
	return ret;
}

static int verb_dma_write(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return dma_op(a, op, CCMM_WRITE);
}

static int verb_dma_read(struct ccmm_actor *a, const struct ccmm_op *op)
{
	return dma_op(a, op, CCMM_READ);
}

static const struct ccmm_verb device_verbs[] = {
	{ "dma_write", "DMA a byte pattern to memory (through the device's IOMMU if it has one)", dma_write_args,
	  verb_dma_write },
	{ "dma_read", "DMA from memory, optionally verifying the pattern", dma_read_args, verb_dma_read },
	{ NULL }
};

static const struct ccmm_actor_kind ccmm_kind_device = {
	.name = "device",
	.help = "a device doing DMA at modeled addresses",
	.options = device_options,
	.opts_size = sizeof(struct device_opts),
	.verbs = device_verbs,
	.check = device_check,
	.start = device_start,
	.stop = device_stop,
};

/* ---- vmm ------------------------------------------------------------------------- */

static int vmm_start(struct ccmm_actor *a)
{
	return cpu_start(a, CCMM_INIT_HOST);
}

static const struct ccmm_arg_spec map_guest_args[] = {
	{ "name", CCMM_ARG_NEWOBJ, true, true, NULL, NULL, "the host mapping's name" },
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "guest memory: pages or @GPA" },
	{ "cache", CCMM_ARG_ENUM, false, false, cache_names, "wb", "cache mode" },
	{ "attr", CCMM_ARG_ENUM, false, false, attr_names, "shared", "the host maps without the guest's key" },
	{ "pagesize", CCMM_ARG_ENUM, false, false, pgsize_names, "4k", "host leaf size; the mapping covers the aligned region" },
	{ "ro", CCMM_ARG_BOOL, false, false, NULL, "no", "read-only" },
	{ "size", CCMM_ARG_SIZE, false, false, NULL, NULL, "bytes (default: the object)" },
	{ NULL }
};

static const struct ccmm_arg_spec refuse_args[] = {
	{ "after", CCMM_ARG_U64, false, false, NULL, "0", "pages converted before the refusal" },
	{ NULL }
};

static int verb_refuse(struct ccmm_actor *a, const struct ccmm_op *op)
{
	ccmm_cc_fail_after(a->run->m, (long)ccmm_arg_u64(a, op, 0));
	return 0;
}

static const struct ccmm_arg_spec rmpupdate_args[] = {
	{ "obj", CCMM_ARG_OBJ, true, true, NULL, NULL, "guest pages or @PA" },
	{ "assigned", CCMM_ARG_BOOL, true, true, NULL, NULL, "assigned to the guest, or hypervisor-owned" },
	{ "huge", CCMM_ARG_BOOL, false, false, NULL, "no", "a 2 MiB RMP entry" },
	{ NULL }
};

static int verb_rmpupdate(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = obj_pages(a, op, -1, &pa, &n);

	return ret ? ret : ccmm_snp_rmpupdate(&a->ctx, pa, ccmm_arg_choice(op, 1), ccmm_arg_choice(op, 2));
}

static int verb_psmash(struct ccmm_actor *a, const struct ccmm_op *op)
{
	uint64_t pa, n;
	int ret = obj_pages(a, op, -1, &pa, &n);

	return ret ? ret : ccmm_snp_psmash(&a->ctx, CCMM_ALIGN_DOWN(pa, CCMM_PMD_SIZE));
}

static const struct ccmm_verb vmm_verbs[] = {
	{ "map_guest", "map guest memory into the VMM process", map_guest_args, do_mmap },
	{ "unmap_guest", "unmap it", obj_only_args, verb_munmap },
	{ "write", "write through a host mapping", write_args, verb_write },
	{ "read", "read through a host mapping", read_args, verb_read },
	{ "refuse_conversions", "refuse the next MapGPA / page-state change / share after N pages", refuse_args,
	  verb_refuse },
	{ "snp_rmpupdate", "RMPUPDATE", rmpupdate_args, verb_rmpupdate },
	{ "snp_psmash", "PSMASH the 2 MiB RMP entry holding the object", obj_only_args, verb_psmash },
	{ NULL }
};

static const struct ccmm_actor_kind ccmm_kind_vmm = {
	.name = "vmm",
	.help = "the host VMM: maps guest memory, touches it, answers conversions",
	.verbs = vmm_verbs,
	.start = vmm_start,
	.stop = cpu_stop,
};

/* ---- the run extension: the knobs of mm/, cc/ and check/ ---------------------------------- */

struct kernel_ext_opts {
	bool skip_cache_flush, skip_tlb_flush, ioremap_private, no_leak_on_error;
	uint64_t max_events;
	uint64_t fail_conversion_after; /* UINT64_MAX ("none"): never */
};

#define KOPT(f) offsetof(struct kernel_ext_opts, f)

static const struct ccmm_option kernel_ext_options[] = {
	{ "skip_cache_flush", CCMM_OPT_BOOL, KOPT(skip_cache_flush), 0, 0, false, NULL, "no",
	  "kernel bug: no cache flush before an encryption change" },
	{ "skip_tlb_flush", CCMM_OPT_BOOL, KOPT(skip_tlb_flush), 0, 0, false, NULL, "no",
	  "kernel bug: no TLB flush after an encryption change" },
	{ "ioremap_private", CCMM_OPT_BOOL, KOPT(ioremap_private), 0, 0, false, NULL, "no",
	  "kernel bug: ioremap maps device memory private" },
	{ "no_leak_on_error", CCMM_OPT_BOOL, KOPT(no_leak_on_error), 0, 0, false, NULL, "no",
	  "kernel bug: pages of a failed conversion go back to the allocator" },
	{ "max_events", CCMM_OPT_U64, KOPT(max_events), 1, 0, false, NULL, "100000", "events kept for the report" },
	{ "fail_conversion_after", CCMM_OPT_U64, KOPT(fail_conversion_after), 0, 0, false, NULL, "none",
	  "the VMM refuses the conversion of page N+1 (once)" },
	{ NULL }
};

static int kernel_ext_start(struct ccmm_run *run, const void *opts)
{
	const struct kernel_ext_opts *o = opts;
	struct ccmm_kernel *k = ccmm_kernel(run->m);

	k->knobs.skip_cache_flush = o->skip_cache_flush;
	k->knobs.skip_tlb_flush = o->skip_tlb_flush;
	k->knobs.ioremap_private = o->ioremap_private;
	k->knobs.no_leak_on_error = o->no_leak_on_error;
	ccmm_checker(run->m)->max_events = o->max_events;
	if (o->fail_conversion_after != UINT64_MAX)
		ccmm_cc_fail_after(run->m, (long)o->fail_conversion_after);
	return 0;
}

/* Time series: pages converted so far (every actor), and exits to the VMM. */
static void kernel_ext_sample(struct ccmm_run *run, const void *opts, struct ccmm_series *s)
{
	uint64_t conv = 0, exits = 0;

	(void)opts;
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		const struct ccmm_ctx *c = &run->job->actors[i]->ctx;

		conv += c->ctr[CCMM_CTR_to_shared] + c->ctr[CCMM_CTR_to_private];
		exits += c->ctr[CCMM_CTR_ve_exceptions] + c->ctr[CCMM_CTR_vc_exceptions] + c->ctr[CCMM_CTR_npf_exits];
	}
	if (run->m->plat->mode == CCMM_CC_NONE && !conv && !exits)
		return;
	ccmm_series_count(s, "cc.conversions", "", "pages", conv, CCMM_MARK_CONVERSION);
	ccmm_series_count(s, "cc.exits", "", "#VE/#VC/NPF", exits, CCMM_MARK_NONE);
}

static const struct ccmm_run_ext kernel_ext = {
	.name = "kernel",
	.options = kernel_ext_options,
	.opts_size = sizeof(struct kernel_ext_opts),
	.start = kernel_ext_start,
	.sample = kernel_ext_sample,
};

static const struct ccmm_actor_kind *const core_kinds[] = {
	&ccmm_kind_guest_task, &ccmm_kind_device, &ccmm_kind_vmm, NULL,
};

const struct ccmm_kind_set ccmm_kinds_core = { "core", core_kinds, &kernel_ext };
