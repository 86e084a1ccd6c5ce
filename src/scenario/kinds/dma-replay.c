// SPDX-License-Identifier: MIT
/*
 * virtio_blk_replay: an fio I/O log replayed as a virtio-blk device and its
 * driver, through the DMA API.
 *
 *   driver (per request)                 device (per request)
 *   fill the buffer (writes)             read avail ring, walk the descriptor
 *   map hdr (TO_DEVICE), data (sg,       chain (DMA reads of coherent memory)
 *   split at dma_max_mapping_size),      read the header (type, sector)
 *   status (FROM_DEVICE)                 write: DMA the data in, store it
 *   descriptors + avail ring entry       read: DMA the disk's bytes out
 *   ... the batch (queue_depth) ...      trim: zero the range; flush: nothing
 *   notify: one MMIO write per batch     write status, used ring entry
 *   completion: read the used ring,
 *   unmap (FROM_DEVICE copies back),
 *   check status and the bytes
 *
 * The virtqueue (descriptors, avail and used rings) is coherent memory;
 * headers and status bytes get their own streaming mappings, as virtio-blk
 * maps every scatterlist entry. The device follows the descriptors it reads
 * over DMA, so a ring or a buffer the device cannot reach shows up as
 * failed requests and violations, not as silently right answers. The disk
 * is sparse host memory; reads return what was written, and every byte
 * that crosses a bounce buffer is compared with what was sent.
 *
 * Options are checked at load time together with the log: the device must
 * be a virtio-blk with a capacity, every I/O whole sectors inside it, each
 * request at most 4 MiB, and, where every mapping bounces, the SWIOTLB pool
 * large enough for the largest request.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "iolog/iolog.h"
#include "scenario/scenario.h"

#define SECTOR 512
#define BLOCK 4096
#define MAX_REQ (4ULL << 20)
#define DESC_NEXT 1
#define DESC_WRITE 2
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_DISCARD 11
#define NOTIFY_OFF 0 /* queue notify register in BAR 0 */

struct replay_opts {
	char device[CCMM_NAME_MAX];
	char iolog[256];
	int window;
	uint64_t queue_depth;
	bool stall;
	bool verify;
	bool filter;
	/* worked out by the check, not options: the log, parsed once for every run */
	struct ccmm_iolog *log;
};

static const char *const window_names[] = { "auto", "ddw", "dma32", NULL };

#define OPT(f) offsetof(struct replay_opts, f)

static const struct ccmm_option replay_options[] = {
	{ "device", CCMM_OPT_STR, OPT(device), 0, CCMM_NAME_MAX, false, NULL, NULL, "the virtio-blk platform device" },
	{ "iolog", CCMM_OPT_STR, OPT(iolog), 0, 256, false, NULL, NULL,
	  "fio I/O log (version 2 or 3), relative to the job file" },
	{ "window", CCMM_OPT_ENUM, OPT(window), 0, 0, false, window_names, "auto",
	  "pSeries secure guest: bounce buffers in the 64-bit DDW or the 32-bit window" },
	{ "queue_depth", CCMM_OPT_U64, OPT(queue_depth), 1, 256, false, NULL, "16", "requests in flight per batch" },
	{ "stall", CCMM_OPT_BOOL, OPT(stall), 0, 0, false, NULL, "no",
	  "wait for each request's timestamp (fio's default); no: as fast as possible, in order (replay_no_stall)" },
	{ "verify", CCMM_OPT_BOOL, OPT(verify), 0, 0, false, NULL, "yes", "compare every byte that crosses DMA" },
	{ "filter", CCMM_OPT_BOOL, OPT(filter), 0, 0, false, NULL, "yes", "TDX: enforce the device allow-list at probe" },
	{ NULL }
};

/* ---- the disk: sparse 4 KiB blocks in host memory ---------------------------------------------------- */

struct disk {
	uint64_t *key;
	uint8_t **blk;
	size_t cap, nr;
};

static uint8_t **disk_slot(struct disk *d, uint64_t block, bool create)
{
	if (create && (d->nr + 1) * 2 > d->cap) {
		struct disk n = { NULL, NULL, d->cap ? d->cap * 2 : 1024, 0 };

		n.key = malloc(n.cap * sizeof(*n.key));
		n.blk = calloc(n.cap, sizeof(*n.blk));
		if (!n.key || !n.blk) {
			free(n.key);
			free(n.blk);
			return NULL;
		}
		for (size_t i = 0; i < d->cap; i++) {
			if (!d->blk[i])
				continue;
			size_t h = (size_t)(d->key[i] * 0x9e3779b97f4a7c15ULL) & (n.cap - 1);

			while (n.blk[h])
				h = (h + 1) & (n.cap - 1);
			n.key[h] = d->key[i];
			n.blk[h] = d->blk[i];
			n.nr++;
		}
		free(d->key);
		free(d->blk);
		*d = n;
	}
	if (!d->cap)
		return NULL;
	for (size_t h = (size_t)(block * 0x9e3779b97f4a7c15ULL) & (d->cap - 1);; h = (h + 1) & (d->cap - 1)) {
		if (!d->blk[h])
			return create ? &d->blk[h] : NULL;
		if (d->key[h] == block)
			return &d->blk[h];
	}
}

/* Copy between the disk and @buf; NULL @wbuf with write zeroes (discard). */
static int disk_io(struct disk *d, uint64_t off, uint8_t *buf, uint64_t len, bool write, bool zero)
{
	while (len) {
		uint64_t block = off / BLOCK, in = off % BLOCK, n = CCMM_MIN(len, BLOCK - in);
		uint8_t **slot = disk_slot(d, block, write);

		if (write) {
			size_t h;

			if (!slot)
				return -ENOMEM;
			if (!*slot) {
				*slot = calloc(1, BLOCK);
				if (!*slot)
					return -ENOMEM;
				h = (size_t)(slot - d->blk);
				d->key[h] = block;
				d->nr++;
			}
			if (zero)
				memset(*slot + in, 0, n);
			else
				memcpy(*slot + in, buf, n);
		} else if (slot && *slot) {
			memcpy(buf, *slot + in, n);
		} else {
			memset(buf, 0, n);
		}
		off += n;
		len -= n;
		if (buf)
			buf += n;
	}
	return 0;
}

static void disk_free(struct disk *d)
{
	for (size_t i = 0; i < d->cap; i++)
		free(d->blk[i]);
	free(d->key);
	free(d->blk);
	memset(d, 0, sizeof(*d));
}

/* ---- state -------------------------------------------------------------------------------------------------- */

struct req {
	const struct ccmm_iolog_io *io;
	uint64_t index;             /* in the log */
	bool failed;
	uint64_t hdr_dma, status_dma;
	bool hdr_mapped, status_mapped, data_mapped;
	struct ccmm_sg_table sgt;
	enum ccmm_dma_dir dir;
	uint8_t *expect;            /* reads: the bytes the device sent */
	uint64_t t0;                /* modeled time the driver began submitting it */
};

/* Per-I/O modeled completion latency of one kind of request, as fio keeps clat. */
enum { LAT_READ, LAT_WRITE, LAT_TRIM, LAT_SYNC, LAT_NR };

struct lat {
	uint64_t *ns;
	size_t nr, cap;
	uint64_t bytes;
};

struct slot {
	uint64_t buf_pa;            /* data buffer: max request, contiguous */
	unsigned order;
	uint64_t hdr_pa;            /* a page: header at 0, discard segment at 16, status at 512 */
	struct req r;
};

struct replay {
	struct replay_opts *o;
	struct ccmm_iolog log;      /* a shallow copy of o->log: the check's, read-only, freed with the job */
	struct ccmm_dma_dev *d;
	struct disk disk;
	size_t next;
	bool ready, done, probed;
	int dead;                   /* probe failed: every request fails */
	unsigned qd, dpr;           /* requests per batch, descriptors per request */
	uint64_t ring_dma, ring_va, ring_size;
	uint64_t desc_off, avail_off, used_off;
	uint16_t avail_idx, used_idx;
	struct slot *slots;
	uint64_t max_seg;
	uint64_t t0;
	uint8_t *scratch;           /* device-side staging for one request */
	struct lat lat[LAT_NR];
	int phase;                  /* of the batch under way: 0 submit, 1 the device serves, 2 completions */
	unsigned batch_n, batch_ok;
	uint16_t batch_avail;
};

static int serve_batch(struct ccmm_actor *a, struct replay *s);
static int complete_batch(struct ccmm_actor *a, struct replay *s);

/* ---- checks at load time -------------------------------------------------------------------------------------- */

static void resolve(const struct ccmm_job *job, const char *file, char *out, size_t len)
{
	if (file[0] == '/')
		snprintf(out, len, "%s", file);
	else
		snprintf(out, len, "%s/%s", job->dir, file);
}

/* SWIOTLB slots one request holds at once: header, status, (discard segment,) data in bounce-sized pieces. */
static uint64_t slots_for(uint64_t len)
{
	uint64_t seg = (uint64_t)CCMM_IO_TLB_SIZE * CCMM_IO_TLB_SEGSIZE, slots = 3;

	for (uint64_t left = len; left; left -= CCMM_MIN(left, seg))
		slots += (CCMM_MIN(left, seg) + CCMM_IO_TLB_SIZE - 1) / CCMM_IO_TLB_SIZE;
	return slots;
}

static void replay_release_opts(struct ccmm_actor *a)
{
	struct replay_opts *o = a->opts;

	if (o->log) {
		ccmm_iolog_free(o->log);
		free(o->log);
		o->log = NULL;
	}
}

static int replay_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct replay_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };
	const struct ccmm_device_desc *dev;
	struct ccmm_swiotlb_plan plan;
	struct ccmm_iolog log;
	char path[1024];
	int d, ret;

	d = ccmm_actor_find_device(job, a, o->device, err);
	if (d < 0)
		return d;
	dev = &job->plat->devices[d];
	if (dev->cls != CCMM_DEV_VIRTIO_BLK)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: device '%s' is a %s, not a virtio-blk", a->name, o->device,
				      ccmm_dev_class_names[dev->cls]);
	if (!dev->capacity)
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: device '%s' has no capacity (set capacity= in the platform)",
				      a->name, o->device);
	if (!o->iolog[0])
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: a virtio_blk_replay actor needs iolog=FILE", a->name);
	resolve(job, o->iolog, path, sizeof(path));
	ret = ccmm_iolog_load(path, &log, err);
	if (ret)
		return ret;
	for (size_t i = 0; i < log.nr_io && !ret; i++) {
		const struct ccmm_iolog_io *io = &log.io[i];
		struct ccmm_loc l = { path, io->line };
		char cap[32], sz[32];

		if (io->offset % SECTOR || io->len % SECTOR)
			ret = ccmm_error_set(err, &l, -EINVAL,
					     "%s at offset %" PRIu64 " of %" PRIu64 " bytes: virtio-blk moves whole 512-byte sectors",
					     ccmm_iolog_action_name((enum ccmm_iolog_action)io->action), io->offset, io->len);
		else if (io->offset + io->len > dev->capacity)
			ret = ccmm_error_set(err, &l, -EINVAL,
					     "%s of %" PRIu64 " bytes at offset %" PRIu64 " ends past the end of %s (capacity %s)",
					     ccmm_iolog_action_name((enum ccmm_iolog_action)io->action), io->len, io->offset,
					     o->device, ccmm_format_size(dev->capacity, cap, sizeof(cap)));
		else if (io->len > MAX_REQ)
			ret = ccmm_error_set(err, &l, -EINVAL, "a request of %s is larger than the replay's 4 MiB buffers",
					     ccmm_format_size(io->len, sz, sizeof(sz)));
	}
	if (!ret && !ccmm_swiotlb_plan(job->plat, &plan) && plan.active && plan.force_bounce &&
	    slots_for(log.max_len) > plan.nslabs) {
		struct ccmm_loc l = { path, log.max_len_line };
		char sz[32], pool[32];

		ret = ccmm_error_set(err, &l, -EINVAL,
				     "a request of %s needs %" PRIu64 " SWIOTLB slots at once but %s's pool has only %" PRIu64
				     " (%s): every mapping bounces in this guest",
				     ccmm_format_size(log.max_len, sz, sizeof(sz)), slots_for(log.max_len), job->plat->name,
				     plan.nslabs, ccmm_format_size(plan.nslabs * CCMM_IO_TLB_SIZE, pool, sizeof(pool)));
	}
	if (ret) {
		ccmm_iolog_free(&log);
		return ret;
	}
	/* kept for the runs: the log is parsed once */
	replay_release_opts(a);
	o->log = malloc(sizeof(*o->log));
	if (!o->log) {
		ccmm_iolog_free(&log);
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	}
	*o->log = log;
	return 0;
}

/* ---- setup and teardown --------------------------------------------------------------------------------------- */

static int replay_start(struct ccmm_actor *a)
{
	struct replay *s;

	if (!((struct replay_opts *)a->opts)->log)
		return -EINVAL; /* the check did not run */
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->o = a->opts;
	s->log = *s->o->log;
	s->d = ccmm_dma_dev(a->run->m, ccmm_platform_find_device(a->run->m->plat, s->o->device));
	s->qd = (unsigned)s->o->queue_depth;
	a->priv = s;
	return 0;
}

static void free_req(struct req *r)
{
	ccmm_sg_free_table(&r->sgt);
	free(r->expect);
	memset(r, 0, sizeof(*r));
}

static void replay_stop(struct ccmm_actor *a)
{
	struct replay *s = a->priv;

	if (!s)
		return;
	for (unsigned i = 0; s->slots && i < s->qd; i++)
		free_req(&s->slots[i].r);
	free(s->slots);
	free(s->scratch);
	for (int k = 0; k < LAT_NR; k++)
		free(s->lat[k].ns);
	disk_free(&s->disk);
	free(s);
	a->priv = NULL;
}

static int cpu_write(struct ccmm_actor *a, uint64_t va, const void *buf, size_t len)
{
	struct ccmm_result r;
	int ret = ccmm_kernel_access(&a->ctx, CCMM_WRITE, va, (void *)buf, len, &r);

	return ret ? ret : ccmm_outcome_faults(r.outcome) && !r.handled ? -EFAULT : 0;
}

static int cpu_read(struct ccmm_actor *a, uint64_t va, void *buf, size_t len)
{
	struct ccmm_result r;
	int ret = ccmm_kernel_access(&a->ctx, CCMM_READ, va, buf, len, &r);

	return ret ? ret : ccmm_outcome_faults(r.outcome) && !r.handled ? -EFAULT : 0;
}

/* The device's DMA: 0, or -EIO when the hardware did not let it through. */
static int dev_dma(struct ccmm_actor *a, struct replay *s, enum ccmm_rw rw, uint64_t bus, void *buf, size_t len)
{
	struct ccmm_result r;
	int ret = ccmm_dma_device_access(&a->ctx, s->d, rw, bus, buf, len, &r);

	if (ret)
		return ret;
	if ((ccmm_outcome_faults(r.outcome) && !r.handled) || r.outcome == CCMM_ABORT || r.outcome == CCMM_BLOCKED)
		return -EIO;
	return 0;
}

/* Probe, masks, the virtqueue, the buffers. A refused probe leaves the replay dead: every request fails. */
static int setup(struct ccmm_actor *a, struct replay *s)
{
	const struct ccmm_device_desc *desc = s->d->desc;
	struct ccmm_dma_probe_opts po = { .no_filter = !s->o->filter, .window = (enum ccmm_svm_window)s->o->window };
	int node = desc->node >= 0 && (unsigned)desc->node < a->run->m->plat->nr_nodes ? desc->node : -1;
	uint64_t maxseg, segs;
	int ret;

	s->ready = true;
	ret = ccmm_dma_probe(&a->ctx, s->d, &po);
	s->probed = !ret;
	if (!ret)
		ret = ccmm_dma_set_mask_and_coherent(&a->ctx, s->d, desc->dma_mask_bits);
	if (ret) {
		s->dead = ret;
		return 0;
	}
	/* virtio_max_dma_size(): segments no larger than what may bounce */
	maxseg = ccmm_dma_max_mapping_size(s->d);
	s->max_seg = CCMM_MIN(maxseg, MAX_REQ);
	segs = (s->log.max_len + s->max_seg - 1) / s->max_seg;
	s->dpr = (unsigned)(3 + segs);
	s->desc_off = 0;
	s->avail_off = 16ULL * s->dpr * s->qd;
	s->used_off = CCMM_ALIGN_UP(s->avail_off + 4 + 2ULL * s->qd + 2, 4);
	s->ring_size = CCMM_ALIGN_UP(s->used_off + 4 + 8ULL * s->qd + 2, CCMM_PAGE_SIZE);
	ret = ccmm_dma_alloc_coherent(&a->ctx, s->d, s->ring_size, &s->ring_dma, &s->ring_va);
	if (ret) {
		s->dead = ret;
		return 0;
	}
	s->slots = calloc(s->qd, sizeof(*s->slots));
	s->scratch = malloc(s->log.max_len ? s->log.max_len : 1);
	if (!s->slots || !s->scratch)
		return -ENOMEM;
	for (unsigned i = 0; i < s->qd; i++) {
		struct slot *sl = &s->slots[i];

		sl->order = 0;
		while ((CCMM_PAGE_SIZE << sl->order) < s->log.max_len)
			sl->order++;
		ret = ccmm_alloc_pages(&a->ctx, node, sl->order, 0, &sl->buf_pa);
		if (!ret)
			ret = ccmm_alloc_pages(&a->ctx, node, 0, 0, &sl->hdr_pa);
		if (ret)
			return ret;
	}
	s->t0 = a->ctx.now_ns;
	return 0;
}

static void teardown(struct ccmm_actor *a, struct replay *s)
{
	if (s->ring_va)
		ccmm_dma_free_coherent(&a->ctx, s->d, s->ring_size, s->ring_va, s->ring_dma);
	s->ring_va = 0;
	for (unsigned i = 0; s->slots && i < s->qd; i++) {
		if (s->slots[i].buf_pa || s->slots[i].hdr_pa) {
			ccmm_free_pages(&a->ctx, s->slots[i].buf_pa, s->slots[i].order);
			ccmm_free_pages(&a->ctx, s->slots[i].hdr_pa, 0);
		}
		s->slots[i].buf_pa = s->slots[i].hdr_pa = 0;
	}
	if (s->probed)
		ccmm_dma_remove(&a->ctx, s->d);
	s->done = true;
}

/* ---- one request ------------------------------------------------------------------------------------------------ */

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;

	for (int i = n; i--;)
		v = v << 8 | p[i];
	return v;
}

static uint8_t pattern(uint64_t req, uint64_t j)
{
	return (uint8_t)(req * 131 + (j >> 9) * 7 + j);
}

static void unmap_req(struct ccmm_actor *a, struct replay *s, struct req *r)
{
	if (r->hdr_mapped)
		ccmm_dma_unmap_single(&a->ctx, s->d, r->hdr_dma, r->io->action == CCMM_IOLOG_TRIM ? 32 : 16,
				      CCMM_DMA_TO_DEVICE, 0);
	/* vring_unmap_one_split: dma_unmap_page per descriptor */
	for (unsigned i = 0; r->data_mapped && i < r->sgt.nents; i++)
		ccmm_dma_unmap_page(&a->ctx, s->d, r->sgt.sgl[i].dma_address, r->sgt.sgl[i].dma_length, r->dir, 0);
	if (r->status_mapped)
		ccmm_dma_unmap_single(&a->ctx, s->d, r->status_dma, 1, CCMM_DMA_FROM_DEVICE, 0);
	r->hdr_mapped = r->status_mapped = r->data_mapped = false;
}

/* The driver's half before the kick: buffers, mappings, descriptors. */
static int submit(struct ccmm_actor *a, struct replay *s, struct slot *sl, unsigned slot_no)
{
	struct req *r = &sl->r;
	const struct ccmm_iolog_io *io = r->io;
	uint8_t hdr[16] = { 0 }, desc[16 * 64];
	unsigned nd = 0, head = slot_no * s->dpr;
	uint32_t type;
	int ret;

	if (s->o->stall) {
		uint64_t due; /* the reader keeps io->time_us * 1000 within 64 bits */

		if (ccmm_range_end(s->t0, io->time_us * 1000, 0, &due))
			return ccmm_run_fail(a, NULL, -EOVERFLOW, "%s:%d: the I/O's time goes past the end of the modeled clock",
					     s->log.path, io->line);
		if (due > a->ctx.now_ns)
			a->ctx.now_ns = due;
	}
	r->t0 = a->ctx.now_ns;
	switch (io->action) {
	case CCMM_IOLOG_READ:
		type = T_IN;
		r->dir = CCMM_DMA_FROM_DEVICE;
		break;
	case CCMM_IOLOG_WRITE:
		type = T_OUT;
		r->dir = CCMM_DMA_TO_DEVICE;
		break;
	case CCMM_IOLOG_TRIM:
		type = T_DISCARD;
		break;
	default:
		type = T_FLUSH;
		break;
	}
	put_le(hdr, type, 4);
	put_le(hdr + 8, io->offset / SECTOR, 8);
	ret = cpu_write(a, ccmm_phys_to_virt(sl->hdr_pa), hdr, sizeof(hdr));
	if (!ret && type == T_DISCARD) {
		uint8_t seg[16] = { 0 };

		put_le(seg, io->offset / SECTOR, 8);
		put_le(seg + 8, io->len / SECTOR, 4);
		ret = cpu_write(a, ccmm_phys_to_virt(sl->hdr_pa + 16), seg, sizeof(seg));
	}
	if (!ret && type == T_OUT) {
		/* the application's data */
		for (uint64_t j = 0; j < io->len; j++)
			s->scratch[j] = pattern(r->index, j);
		ccmm_dma_cpu_access_check(&a->ctx, sl->buf_pa, io->len, CCMM_WRITE);
		ret = cpu_write(a, ccmm_phys_to_virt(sl->buf_pa), s->scratch, (size_t)io->len);
	}
	if (ret)
		return ret;

	/* map: header, data, status, as virtio-blk's scatterlists */
	ret = ccmm_dma_map_single(&a->ctx, s->d, ccmm_phys_to_virt(sl->hdr_pa), type == T_DISCARD ? 32 : 16,
				  CCMM_DMA_TO_DEVICE, 0, &r->hdr_dma);
	if (ccmm_dma_mapping_error(s->d, r->hdr_dma))
		return ret ? ret : -ENOMEM;
	r->hdr_mapped = true;
	if (type == T_IN || type == T_OUT) {
		uint64_t pas[1024], npages = (io->len + CCMM_PAGE_SIZE - 1) >> CCMM_PAGE_SHIFT;

		for (uint64_t i = 0; i < npages; i++)
			pas[i] = sl->buf_pa + (i << CCMM_PAGE_SHIFT);
		ret = ccmm_sg_alloc_table_from_pages(&r->sgt, pas, (size_t)npages, 0, io->len,
						     s->max_seg == UINT64_MAX ? 0 : s->max_seg);
		/* virtqueue_add_split: vring_map_one_sg maps each entry with dma_map_page and checks it */
		for (unsigned i = 0; !ret && i < r->sgt.orig_nents; i++) {
			struct ccmm_scatterlist *sg = &r->sgt.sgl[i];

			ret = ccmm_dma_map_page(&a->ctx, s->d, ccmm_sg_phys(sg), sg->length, r->dir, 0, &sg->dma_address);
			if (ccmm_dma_mapping_error(s->d, sg->dma_address)) {
				ret = ret ? ret : -ENOMEM;
				while (i--) /* vring_unmap_one_split of what was mapped */
					ccmm_dma_unmap_page(&a->ctx, s->d, r->sgt.sgl[i].dma_address, r->sgt.sgl[i].dma_length,
							    r->dir, CCMM_DMA_ATTR_SKIP_CPU_SYNC);
				break;
			}
			sg->dma_length = sg->length;
		}
		if (ret)
			return ret;
		r->sgt.nents = r->sgt.orig_nents;
		r->data_mapped = true;
	}
	ret = ccmm_dma_map_single(&a->ctx, s->d, ccmm_phys_to_virt(sl->hdr_pa + 512), 1, CCMM_DMA_FROM_DEVICE, 0,
				  &r->status_dma);
	if (ccmm_dma_mapping_error(s->d, r->status_dma))
		return ret ? ret : -ENOMEM;
	r->status_mapped = true;

	/* the descriptor chain */
	memset(desc, 0, sizeof(desc));
#define DESC(addr, len, flags)                                                             \
	do {                                                                               \
		put_le(desc + 16 * nd, (addr), 8);                                          \
		put_le(desc + 16 * nd + 8, (len), 4);                                       \
		put_le(desc + 16 * nd + 12, (flags), 2);                                    \
		put_le(desc + 16 * nd + 14, head + nd + 1, 2);                               \
		nd++;                                                                      \
	} while (0)
	DESC(r->hdr_dma, type == T_DISCARD ? 32 : 16, DESC_NEXT);
	if (r->data_mapped)
		for (unsigned i = 0; i < r->sgt.nents; i++)
			DESC(r->sgt.sgl[i].dma_address, r->sgt.sgl[i].dma_length, DESC_NEXT | (type == T_IN ? DESC_WRITE : 0));
	DESC(r->status_dma, 1, DESC_WRITE);
#undef DESC
	put_le(desc + 16 * (nd - 1) + 12, DESC_WRITE, 2); /* the last has no next */
	ret = cpu_write(a, s->ring_va + s->desc_off + 16ULL * head, desc, 16 * nd);
	if (!ret) {
		uint8_t e[2];

		put_le(e, head, 2);
		ret = cpu_write(a, s->ring_va + s->avail_off + 4 + 2ULL * (s->avail_idx % s->qd), e, 2);
		if (!ret)
			s->avail_idx++;
	}
	return ret;
}

/* The device's half: the next avail entry, its descriptor chain, the disk, status and used ring. */
static int device_serve(struct ccmm_actor *a, struct replay *s, uint16_t avail_at, uint32_t *id_out)
{
	uint8_t e[2], d[16], hdr[32], status = 0;
	uint64_t addrs[64], lens[64], flags[64], total = 0;
	unsigned n = 0, idx;
	uint32_t type;
	uint64_t off;
	int ret;

	ret = dev_dma(a, s, CCMM_READ, s->ring_dma + s->avail_off + 4 + 2ULL * (avail_at % s->qd), e, 2);
	if (ret)
		return ret;
	idx = (unsigned)get_le(e, 2);
	*id_out = idx;
	do {
		if (n == 64 || idx >= s->dpr * s->qd)
			return -EIO;
		ret = dev_dma(a, s, CCMM_READ, s->ring_dma + s->desc_off + 16ULL * idx, d, 16);
		if (ret)
			return ret;
		addrs[n] = get_le(d, 8);
		lens[n] = get_le(d + 8, 4);
		flags[n] = get_le(d + 12, 2);
		idx = (unsigned)get_le(d + 14, 2);
		n++;
	} while (flags[n - 1] & DESC_NEXT);
	if (n < 2 || lens[0] < 16 || lens[0] > sizeof(hdr))
		return -EIO;
	ret = dev_dma(a, s, CCMM_READ, addrs[0], hdr, (size_t)lens[0]);
	if (ret)
		return ret;
	type = (uint32_t)get_le(hdr, 4);
	off = get_le(hdr + 8, 8) * SECTOR;
	for (unsigned i = 1; i + 1 < n; i++)
		total += lens[i];
	if (type == T_OUT || type == T_IN) {
		uint64_t pos = 0;

		for (unsigned i = 1; i + 1 < n && !ret; i++) {
			if (type == T_OUT) {
				ret = dev_dma(a, s, CCMM_READ, addrs[i], s->scratch + pos, (size_t)lens[i]);
			} else {
				disk_io(&s->disk, off + pos, s->scratch + pos, lens[i], false, false);
				ret = dev_dma(a, s, CCMM_WRITE, addrs[i], s->scratch + pos, (size_t)lens[i]);
			}
			pos += lens[i];
		}
		if (ret)
			return ret;
		if (type == T_OUT) {
			if (disk_io(&s->disk, off, s->scratch, total, true, false))
				return -ENOMEM;
		}
	} else if (type == T_DISCARD) {
		uint8_t *seg = hdr + 16;

		if (disk_io(&s->disk, get_le(seg, 8) * SECTOR, NULL, get_le(seg + 8, 4) * SECTOR, true, true))
			return -ENOMEM;
	}
	ret = dev_dma(a, s, CCMM_WRITE, addrs[n - 1], &status, 1);
	if (!ret) {
		uint8_t u[8];

		put_le(u, *id_out, 4);
		put_le(u + 4, total, 4);
		ret = dev_dma(a, s, CCMM_WRITE, s->ring_dma + s->used_off + 4 + 8ULL * (s->used_idx % s->qd), u, 8);
		s->used_idx++;
	}
	return ret;
}

/* Check what crossed: writes against the pattern (the device kept the bytes in scratch); reads saved for later. */
static void after_device(struct replay *s, struct req *r, struct ccmm_actor *a)
{
	const struct ccmm_iolog_io *io = r->io;

	if (!s->o->verify)
		return;
	if (io->action == CCMM_IOLOG_WRITE) {
		for (uint64_t j = 0; j < io->len; j++)
			if (s->scratch[j] != pattern(r->index, j)) {
				ccmm_count(&a->ctx, CCMM_CTR_AT(dma, io_mismatches), 1);
				break;
			}
	} else if (io->action == CCMM_IOLOG_READ) {
		r->expect = malloc(io->len);
		if (r->expect)
			memcpy(r->expect, s->scratch, io->len);
	}
}

/* The driver's completion: used ring, unmaps (copy back), status, the bytes read. */
static void complete(struct ccmm_actor *a, struct replay *s, struct slot *sl)
{
	struct req *r = &sl->r;
	uint8_t status = 0xff;

	unmap_req(a, s, r);
	if (cpu_read(a, ccmm_phys_to_virt(sl->hdr_pa + 512), &status, 1) || status != 0)
		r->failed = true;
	if (!r->failed && r->expect && r->io->action == CCMM_IOLOG_READ) {
		ccmm_dma_cpu_access_check(&a->ctx, sl->buf_pa, r->io->len, CCMM_READ);
		if (cpu_read(a, ccmm_phys_to_virt(sl->buf_pa), s->scratch, (size_t)r->io->len) ||
		    memcmp(s->scratch, r->expect, r->io->len))
			ccmm_count(&a->ctx, CCMM_CTR_AT(dma, io_mismatches), 1);
	}
	ccmm_count(&a->ctx, r->failed ? CCMM_CTR_AT(dma, io_failed) : CCMM_CTR_AT(dma, io_requests), 1);
	if (!r->failed) {
		int k = r->io->action == CCMM_IOLOG_READ    ? LAT_READ
			: r->io->action == CCMM_IOLOG_WRITE ? LAT_WRITE
			: r->io->action == CCMM_IOLOG_TRIM  ? LAT_TRIM
							    : LAT_SYNC;
		struct lat *l = &s->lat[k];

		if (!ccmm_grow((void **)&l->ns, &l->cap, l->nr + 1, sizeof(*l->ns))) {
			l->ns[l->nr++] = a->ctx.now_ns - r->t0;
			l->bytes += r->io->len;
		}
	}
	free_req(r);
}

static int replay_step(struct ccmm_actor *a)
{
	struct replay *s = a->priv;
	unsigned n, ok = 0;
	uint16_t first_avail;
	int ret;

	if (s->done)
		return 1;
	if (!s->ready) {
		ret = setup(a, s);
		return ret < 0 ? ret : 0;
	}
	if (s->dead) {
		/* the device never came up: every request fails */
		ccmm_count(&a->ctx, CCMM_CTR_AT(dma, io_failed), s->log.nr_io - s->next);
		s->next = s->log.nr_io;
		teardown(a, s);
		return 1;
	}
	if (s->phase == 1)
		return serve_batch(a, s);
	if (s->phase == 2)
		return complete_batch(a, s);
	if (s->next >= s->log.nr_io) {
		teardown(a, s);
		return 1;
	}
	/*
	 * A batch in three steps, so that another actor (and a time-series
	 * sample) can run between the driver's submission, the device's work
	 * and the completions: the bounce slots are in use in between.
	 */
	n = (unsigned)CCMM_MIN((size_t)s->qd, s->log.nr_io - s->next);
	first_avail = s->avail_idx;
	for (unsigned i = 0; i < n; i++) {
		struct slot *sl = &s->slots[i];

		memset(&sl->r, 0, sizeof(sl->r));
		sl->r.io = &s->log.io[s->next + i];
		sl->r.index = s->next + i;
		if (submit(a, s, sl, ok)) {
			/* a refused mapping: the request fails; the DMA API counted the reason */
			unmap_req(a, s, &sl->r);
			sl->r.failed = true;
			continue;
		}
		ok++;
	}
	s->next += n;
	if (ok) {
		uint8_t e[2];
		uint16_t kick = 0;

		put_le(e, s->avail_idx, 2);
		cpu_write(a, s->ring_va + s->avail_off + 2, e, 2);
		/* one notify per batch */
		ccmm_dma_mmio_write(&a->ctx, s->d, NOTIFY_OFF, &kick, 2);
	}
	s->batch_n = n;
	s->batch_ok = ok;
	s->batch_avail = first_avail;
	s->phase = 1;
	return 0;
}

/* The device serves the batch in order. */
static int serve_batch(struct ccmm_actor *a, struct replay *s)
{
	for (unsigned i = 0, k = 0; i < s->batch_n; i++) {
		struct slot *sl = &s->slots[i];
		uint32_t id;

		if (sl->r.failed)
			continue;
		if (device_serve(a, s, (uint16_t)(s->batch_avail + k), &id))
			sl->r.failed = true;
		else
			after_device(s, &sl->r, a);
		k++;
	}
	s->phase = 2;
	return 0;
}

/* Completions: the used index, then each used element, then each request. */
static int complete_batch(struct ccmm_actor *a, struct replay *s)
{
	unsigned ok = s->batch_ok;

	if (ok) {
		uint8_t used[8];

		cpu_read(a, s->ring_va + s->used_off + 2, used, 2);
		for (unsigned k = 0; k < ok; k++)
			cpu_read(a, s->ring_va + s->used_off + 4 + 8ULL * ((uint16_t)(s->used_idx - ok + k) % s->qd), used, 8);
	}
	for (unsigned i = 0; i < s->batch_n; i++)
		complete(a, s, &s->slots[i]);
	s->phase = 0;
	return 0;
}

/* ---- per-I/O latency: fio's clat_ns -------------------------------------------------------------------- */

/* fio's default percentile list (--percentile_list). */
static const double pct_list[] = { 1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99 };

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The @p-th percentile of @n sorted values: the nearest rank, ceil(p/100 * n)-th smallest. */
static uint64_t percentile(const uint64_t *v, size_t n, double p)
{
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);

	return v[rank ? CCMM_MIN(rank, n) - 1 : 0];
}

static const char *const lat_names[LAT_NR] = { "read", "write", "trim", "sync" };

static void lat_sort(struct replay *s)
{
	for (int k = 0; k < LAT_NR; k++)
		if (s->lat[k].nr)
			qsort(s->lat[k].ns, s->lat[k].nr, sizeof(uint64_t), cmp_u64);
}

static void replay_report_text(struct ccmm_actor *a, FILE *out)
{
	struct replay *s = a->priv;

	if (!s)
		return;
	lat_sort(s);
	for (int k = 0; k < LAT_NR; k++) {
		const struct lat *l = &s->lat[k];
		char p50[32], p90[32], p99[32], p999[32], mn[32], mx[32];

		if (!l->nr)
			continue;
		fprintf(out, "  %s latency per I/O (modeled, %zu I/Os): p50 %s, p90 %s, p99 %s, p99.9 %s (min %s, max %s)\n",
			lat_names[k], l->nr, ccmm_format_ns(percentile(l->ns, l->nr, 50), p50, sizeof(p50)),
			ccmm_format_ns(percentile(l->ns, l->nr, 90), p90, sizeof(p90)),
			ccmm_format_ns(percentile(l->ns, l->nr, 99), p99, sizeof(p99)),
			ccmm_format_ns(percentile(l->ns, l->nr, 99.9), p999, sizeof(p999)), ccmm_format_ns(l->ns[0], mn, sizeof(mn)),
			ccmm_format_ns(l->ns[l->nr - 1], mx, sizeof(mx)));
	}
}

/* fio's JSON per direction: io_bytes, total_ios, and clat_ns (lat_ns for sync) with its percentile map. */
static void replay_report_json(struct ccmm_actor *a, void *json)
{
	struct replay *s = a->priv;

	if (!s)
		return;
	lat_sort(s);
	for (int k = 0; k < LAT_NR; k++) {
		const struct lat *l = &s->lat[k];
		json_t *d = json_object(), *c = json_object(), *pct = json_object();
		double mean = 0, var = 0;

		for (size_t i = 0; i < l->nr; i++)
			mean += (double)l->ns[i];
		mean = l->nr ? mean / (double)l->nr : 0;
		for (size_t i = 0; i < l->nr; i++)
			var += ((double)l->ns[i] - mean) * ((double)l->ns[i] - mean);
		json_object_set_new(d, "io_bytes", json_integer((json_int_t)l->bytes));
		json_object_set_new(d, "io_kbytes", json_integer((json_int_t)(l->bytes >> 10)));
		json_object_set_new(d, "total_ios", json_integer((json_int_t)l->nr));
		json_object_set_new(c, "min", json_integer(l->nr ? (json_int_t)l->ns[0] : 0));
		json_object_set_new(c, "max", json_integer(l->nr ? (json_int_t)l->ns[l->nr - 1] : 0));
		json_object_set_new(c, "mean", json_real(mean));
		json_object_set_new(c, "stddev", json_real(l->nr > 1 ? sqrt(var / (double)(l->nr - 1)) : 0));
		json_object_set_new(c, "N", json_integer((json_int_t)l->nr));
		for (size_t p = 0; l->nr && p < CCMM_ARRAY_SIZE(pct_list); p++) {
			char key[32];

			snprintf(key, sizeof(key), "%f", pct_list[p]);
			json_object_set_new(pct, key, json_integer((json_int_t)percentile(l->ns, l->nr, pct_list[p])));
		}
		if (l->nr)
			json_object_set_new(c, "percentile", pct);
		else
			json_decref(pct);
		json_object_set_new(d, k == LAT_SYNC ? "lat_ns" : "clat_ns", c);
		json_object_set_new(json, lat_names[k], d);
	}
}

const struct ccmm_actor_kind _ccmm_kind_virtio_blk_replay = {
	.name = "virtio_blk_replay",
	.help = "replay an fio I/O log (v2, v3) as a virtio-blk device and its driver, through the DMA API",
	.options = replay_options,
	.opts_size = sizeof(struct replay_opts),
	.check = replay_check,
	.start = replay_start,
	.step = replay_step,
	.stop = replay_stop,
	.release_opts = replay_release_opts,
	.report_text = replay_report_text,
	.report_json = replay_report_json,
};
