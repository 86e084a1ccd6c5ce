// SPDX-License-Identifier: MIT
/*
 * dma_trace: a real kernel's DMA-API trace (the ftrace text of the dma:*
 * and swiotlb:* events, trace/trace.h) replayed through ccmm's DMA API,
 * each call on the CPU that made it, and held against what the kernel
 * answered.
 *
 *   trace (streamed, read ahead only as far as pairing needs)
 *     |   swiotlb_bounced is written in swiotlb_map() before the slot
 *     |   search, dma_map_page / dma_map_sg after the mapping: each
 *     |   bounced line is paired with the call that completes it (LIFO per
 *     |   CPU: an interrupt nests its own pair inside), an sg mapping with
 *     |   one bounced line per entry, in order
 *     v
 *   issue, in trace order, each mapping at its swiotlb_bounced line (its
 *   direction and attributes from the completing event), every other call
 *   at its own line:
 *     dma_map_page / each sg entry  -> ccmm_dma_map_page (dma_direct_map_sg
 *                                      maps entry by entry)
 *     dma_unmap_page / _sg          -> ccmm_dma_unmap_page per mapping
 *     dma_sync_{single,sg}_for_*    -> ccmm_dma_sync_single_for_* per segment
 *     dma_alloc / _free (_pages)    -> ccmm_dma_alloc_coherent / _free_coherent
 *     dma_map_sg_err                -> the entries mapped are released (the
 *                                      kernel's dma_direct_map_sg did, untraced)
 *     dma_map_resource, *_sgt*      -> not replayed (counted): no SWIOTLB slot
 *   ccmm's answer is compared with the kernel's: the bounce address as an
 *   offset into the pool (the kernel's pool is the platform's
 *   swiotlb_base), or both failing.
 *
 * Uncertain order: a mapping whose window (its bounced line to its
 * completing line) holds another CPU's pool event (a search, an unmap)
 * in an area the mapping's search went through, may have claimed its
 * slots before or after that event: the trace does not say. Such mappings
 * (and the other CPU's search) are counted apart; a divergence there is
 * "uncertain", not a model error.
 *
 * A bounced line whose call never completes in the trace (a dma_map_sg
 * that failed with -ENOMEM, which 6.12 does not trace) is an orphan: it is
 * mapped where the kernel searched and released at the CPU's next call,
 * and not compared.
 *
 * Ops: replay (every event), agree (-EBADMSG when a mapping of certain order,
 * or the final io_tlb_used / io_tlb_used_hiwater, differs from the
 * kernel's), check (figures a job asserts). The report gives the
 * agreement and, per device, what the replay cost on this platform.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "scenario/scenario.h"
#include "trace/trace.h"

#define MAX_DEVS 32
#define READ_AHEAD_MAX (1u << 20) /* events buffered to pair one bounced line */
#define NO_SEQ UINT64_MAX

struct dt_opts {
	char trace[256];
	char devices[512];
	char kernel_debugfs[256];
	int window;
	bool filter;
};

static const char *const window_names[] = { "auto", "ddw", "dma32", NULL };

#define OPT(f) offsetof(struct dt_opts, f)

static const struct ccmm_option dt_options[] = {
	{ "trace", CCMM_OPT_STR, OPT(trace), 0, 256, false, NULL, NULL,
	  "ftrace text of the dma:* and swiotlb:* events (tracefs 'trace' or 'trace-cmd report'; plain, gzip, zstd), "
	  "relative to the job file" },
	{ "devices", CCMM_OPT_STR, OPT(devices), 0, 512, false, NULL, "",
	  "TRACEDEV=PLATFORMDEV[,...]: the platform device each trace device replays on (default: the same name)" },
	{ "kernel_debugfs", CCMM_OPT_STR, OPT(kernel_debugfs), 0, 256, false, NULL, "",
	  "the recorded kernel's debugfs at the end of the trace (its swiotlb/io_tlb_used and io_tlb_used_hiwater), "
	  "for agree" },
	{ "window", CCMM_OPT_ENUM, OPT(window), 0, 0, false, window_names, "auto",
	  "pSeries secure guest: bounce buffers in the 64-bit DDW or the 32-bit window" },
	{ "filter", CCMM_OPT_BOOL, OPT(filter), 0, 0, false, NULL, "yes",
	  "TDX: enforce the device allow-list at probe (devices without a PCI id are never filtered)" },
	{ NULL }
};

/* ---- state ------------------------------------------------------------------------------------------------- */

/* What the replay did for one device of the trace (the report's per-device figures). */
struct dev_fig {
	uint64_t maps, map_fail, bounced, unmaps, syncs, coherent, frees;
	uint64_t bounce_bytes, slots, to_shared, to_private, conversion_calls, ns;
};

struct tdev {
	char name[64];             /* the trace's name */
	int plat;                  /* platform device index */
	struct ccmm_dma_dev *d;
	bool tried;
	int bind_err;              /* the probe failed: its calls are refused */
	uint64_t refused;          /* calls not made because the device did not bind */
	struct dev_fig f;
};

/* A buffered event. */
struct bev {
	struct ccmm_ftrace_event e;
	uint64_t *phys, *dma, *sizes; /* owned copies of the event's arrays */
	int dev;                      /* index in devs[] */
	uint64_t pair;                /* bounced: seq of its completion (NO_SEQ: unknown) */
	int entry;                    /* bounced: its sg entry (-1: a single mapping) */
	bool orphan;                  /* bounced whose call never completes in the trace */
	bool paired;                  /* a completion some bounced line pairs with */
	bool uncertain;
	uint32_t nbounced;            /* completion: bounced entries */
	struct sg_group *grp;         /* dma_map_sg / _err: the replayed entries */
};

struct sg_group {
	int dev;
	uint32_t n;                   /* entries */
	enum ccmm_dma_dir dir;
	unsigned long attrs;
	uint64_t *phys, *kdma, *cdma, *len;
	bool *mapped;                 /* ccmm's entry is mapped */
	bool *bounced;                /* the entry had a swiotlb_bounced line (issued there) */
	bool live;                    /* mapped in the kernel (dma_map_sg done, no unmap yet) */
	struct sg_group *next;
};

/* A live streaming mapping, by the kernel's DMA address. */
struct live {
	uint64_t kdma;                /* key (with dev); 0 in an empty slot is told by .used */
	uint64_t cdma;                /* ccmm's (CCMM_DMA_MAPPING_ERROR: ccmm refused it) */
	uint64_t size;
	int dev;
	enum ccmm_dma_dir dir;
	struct sg_group *grp;         /* an sg entry's group, or NULL */
	uint32_t entry;
	bool used;
};

struct coh {
	int dev;
	uint64_t kdma, cdma, cva, size;
	bool ok;
};

struct agreement {
	uint64_t compared, agreed, uncertain, uncertain_diverged, diverged, not_compared, orphans;
	uint64_t kernel_only, ccmm_only; /* kernel mapped / ccmm mapped, the other failed (in diverged) */
	char first[512];              /* the first divergence of certain order */
	uint32_t first_line;          /* its trace line */
	char first_uncertain[512];
	bool kernel_known;
	uint64_t kernel_used, kernel_hiwater;
};

/* Per CPU of the trace. */
struct cpu_state {
	uint64_t *stack;              /* bounced lines waiting for their completion (seqs) */
	size_t depth, scap;
	uint64_t *held;               /* orphans mapped and held, (dev, dma, size) each, released at the CPU's next call */
	size_t nheld, hcap;
};

struct dt {
	struct dt_opts *o;
	char path[1024];
	struct ccmm_ftrace *ft;
	bool eof;
	/* the buffer: events [head, tail) by seq */
	struct bev *buf;
	size_t cap;
	uint64_t head, tail;
	struct cpu_state *cpu;
	int ncpu;
	struct tdev devs[MAX_DEVS];
	int ndevs;
	struct live *live;
	size_t lcap, nlive;
	struct sg_group *groups;
	struct coh *coh;
	size_t ncoh, ccap;
	/* the kernel's pool: where the recorded platform says it was */
	bool have_kbase;
	uint64_t kbase, pool_start, nslabs, area_nslabs;
	unsigned nareas;
	struct agreement ag;
	uint64_t not_replayed;         /* dma_map_resource, *_sgt* */
	uint64_t unmatched;            /* unmaps, syncs, frees of nothing the trace mapped */
	bool replayed;
	struct ccmm_ftrace_stats st;
};

/* ---- helpers ----------------------------------------------------------------------------------------------- */

static void resolve(const struct ccmm_job *job, const char *file, char *out, size_t len)
{
	if (file[0] == '/' || !strcmp(job->dir, "."))
		snprintf(out, len, "%s", file);
	else
		snprintf(out, len, "%s/%s", job->dir, file);
}

/* "A=B,C=D": the platform name trace device @name maps to (itself when not listed). */
static void map_name(const char *map, const char *name, char *out, size_t len)
{
	const char *p = map;
	size_t n = strlen(name);

	snprintf(out, len, "%s", name);
	while (p && *p) {
		const char *comma = strchr(p, ','), *eq = strchr(p, '=');
		size_t item = comma ? (size_t)(comma - p) : strlen(p);

		while (*p == ' ')
			p++, item--;
		if (eq && eq < p + item && (size_t)(eq - p) == n && !strncmp(p, name, n)) {
			size_t vl = item - n - 1;

			while (vl && eq[vl] == ' ')
				vl--;
			snprintf(out, len, "%.*s", (int)vl, eq + 1);
			while (*out == ' ')
				memmove(out, out + 1, strlen(out));
			return;
		}
		p = comma ? comma + 1 : NULL;
	}
}

/* The platform device trace device @name replays on, or a FILE:LINE error. */
static int plat_dev(const struct ccmm_job *job, const struct ccmm_actor *a, const char *name, const char *file,
		    uint32_t line, struct ccmm_error *err)
{
	const struct dt_opts *o = a->opts;
	struct ccmm_loc loc = { file, (int)line };
	const char *names[64];
	size_t n = 0;
	const char *near;
	char target[CCMM_NAME_MAX + 16];
	int d;

	map_name(o->devices, name, target, sizeof(target));
	d = ccmm_platform_find_device(job->plat, target);
	if (d >= 0)
		return d;
	for (size_t i = 0; i < job->plat->nr_devices && n < 64; i++)
		names[n++] = job->plat->devices[i].name;
	near = ccmm_suggest(target, names, n);
	return ccmm_error_set(err, &loc, -EINVAL,
			      "[%s]: device '%s' of the trace is not on platform '%s'%s%s%s (devices = TRACEDEV=PLATFORMDEV "
			      "maps one)",
			      a->name, target, job->plat->name, near ? "; did you mean '" : "", near ? near : "",
			      near ? "'?" : "");
}

/* A swiotlb_bounced dev_addr as a physical address: without bits above the platform's physical width. */
static uint64_t orig_of(const struct ccmm_actor *a, uint64_t dev_addr)
{
	unsigned bits = a->run->job->plat->phys_bits;

	return bits && bits < 64 ? dev_addr & ((1ULL << bits) - 1) : dev_addr;
}

static bool is_ram(const struct ccmm_platform *p, uint64_t pa, uint64_t size)
{
	const struct ccmm_mem_range *r = ccmm_platform_range(p, pa);

	return r && r->kind == CCMM_RANGE_RAM && !ccmm_range_within(pa, size, 0, r->base, r->base + r->size);
}

/* ---- load-time check: the whole trace read once -------------------------------------------------------------- */

static int check_ram(const struct ccmm_job *job, const struct ccmm_actor *a, const char *file,
		     const struct ccmm_ftrace_event *e, const char *field, uint64_t pa, uint64_t size,
		     struct ccmm_error *err)
{
	struct ccmm_loc loc = { file, (int)e->line };

	if (is_ram(job->plat, pa, size ? size : 1))
		return 0;
	return ccmm_error_set(err, &loc, -EINVAL,
			      "%s: %s 0x%" PRIx64 " (%" PRIu64 " bytes) is not RAM on platform '%s': the recording's "
			      "buffers must be memory of the platform it replays on",
			      ccmm_ftrace_kind_name(e->kind), field, pa, size, job->plat->name);
}

static int dt_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct dt_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };
	struct ccmm_ftrace *ft;
	struct ccmm_ftrace_event e;
	struct ccmm_ftrace_stats st;
	char path[1024], seen[MAX_DEVS][64];
	int nseen = 0, ret;
	const struct ccmm_op *agree = NULL;

	if (!o->trace[0])
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: a dma_trace actor needs trace=FILE", a->name);
	for (size_t i = 0; i < a->nr_ops && !agree; i++)
		if (!strcmp(a->ops[i].verb->name, "agree"))
			agree = &a->ops[i];
	if (agree && !job->plat->swiotlb_base) {
		struct ccmm_loc l = { agree->where.file, agree->where.line };

		return ccmm_error_set(err, &l, -EINVAL,
				      "[%s]: agree compares with the recorded kernel's pool, but platform '%s' does not say "
				      "where it was (swiotlb_base)",
				      a->name, job->plat->name);
	}
	if (o->kernel_debugfs[0]) {
		char f[1400];
		FILE *fp;

		resolve(job, o->kernel_debugfs, path, sizeof(path));
		snprintf(f, sizeof(f), "%s/swiotlb/io_tlb_used", path);
		fp = fopen(f, "r");
		if (!fp)
			return ccmm_error_set(err, &loc, -ENOENT, "[%s]: kernel_debugfs: '%s' cannot be opened", a->name, f);
		fclose(fp);
	}
	resolve(job, o->trace, path, sizeof(path));
	ret = ccmm_ftrace_open(path, &ft, err);
	if (ret)
		return ret;
	while ((ret = ccmm_ftrace_next(ft, &e, err)) == 1) {
		int k;

		for (k = 0; k < nseen && strcmp(seen[k], e.dev); k++)
			;
		if (k == nseen) {
			if (nseen == MAX_DEVS) {
				struct ccmm_loc l = { path, (int)e.line };

				ret = ccmm_error_set(err, &l, -EINVAL, "more than %d devices in one trace", MAX_DEVS);
				break;
			}
			ret = plat_dev(job, a, e.dev, path, e.line, err);
			if (ret < 0)
				break;
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", e.dev);
		}
		ret = 0;
		switch (e.kind) {
		case CCMM_FT_DMA_MAP_PAGE:
			ret = check_ram(job, a, path, &e, "phys_addr", e.phys_addr, e.size, err);
			break;
		case CCMM_FT_DMA_MAP_SG:
			for (size_t i = 0; i < e.n_phys && !ret; i++)
				ret = check_ram(job, a, path, &e, "phys_addrs entry", e.phys_addrs[i],
						i < e.n_sizes ? e.sizes[i] : 1, err);
			break;
		default:
			break;
		}
		if (ret)
			break;
	}
	ccmm_ftrace_stats(ft, &st);
	ccmm_ftrace_close(ft);
	if (ret < 0)
		return ret;
	if (st.lost) {
		struct ccmm_loc l = { path, 0 };

		return ccmm_error_set(err, &l, -EINVAL,
				      "the kernel reported %" PRIu64 " events lost (CPU:N [LOST M EVENTS]); a replay needs "
				      "every call (record with a larger trace_buf_size)",
				      st.lost);
	}
	if (!st.events) {
		struct ccmm_loc l = { path, 0 };

		return ccmm_error_set(err, &l, -EINVAL, "no dma:* or swiotlb:* event in the trace (%" PRIu64
				      " lines, %" PRIu64 " other events)", st.lines, st.skipped);
	}
	return 0;
}

/* ---- the event buffer and pairing ---------------------------------------------------------------------------------- */

static struct bev *at(struct dt *s, uint64_t seq)
{
	return &s->buf[seq % s->cap];
}

static void bev_free(struct bev *b)
{
	free(b->phys);
	free(b->dma);
	free(b->sizes);
	memset(b, 0, sizeof(*b));
}

static uint64_t *dup_array(const uint64_t *v, size_t n)
{
	uint64_t *c;

	if (!n)
		return NULL;
	c = malloc(n * sizeof(*c));
	if (c)
		memcpy(c, v, n * sizeof(*c));
	return c;
}

static int grow_buf(struct dt *s)
{
	size_t ncap = s->cap ? s->cap * 2 : 1024;
	struct bev *nb = calloc(ncap, sizeof(*nb));

	if (!nb)
		return -ENOMEM;
	for (uint64_t q = s->head; q < s->tail; q++)
		nb[q % ncap] = *at(s, q);
	free(s->buf);
	s->buf = nb;
	s->cap = ncap;
	return 0;
}

static int ensure_cpu(struct dt *s, int cpu)
{
	struct cpu_state *n;

	if (cpu < s->ncpu)
		return 0;
	n = realloc(s->cpu, (size_t)(cpu + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memset(n + s->ncpu, 0, (size_t)(cpu + 1 - s->ncpu) * sizeof(*n));
	s->cpu = n;
	s->ncpu = cpu + 1;
	return 0;
}

static int dev_index(struct dt *s, struct ccmm_actor *a, const char *name)
{
	struct ccmm_error err;
	int d;

	for (int i = 0; i < s->ndevs; i++)
		if (!strcmp(s->devs[i].name, name))
			return i;
	if (s->ndevs == MAX_DEVS)
		return -ENOSPC;
	d = plat_dev(a->run->job, a, name, s->path, 0, &err);
	if (d < 0)
		return d;
	memset(&s->devs[s->ndevs], 0, sizeof(s->devs[0]));
	snprintf(s->devs[s->ndevs].name, sizeof(s->devs[0].name), "%s", name);
	s->devs[s->ndevs].plat = d;
	s->devs[s->ndevs].d = ccmm_dma_dev(a->run->m, d);
	return s->ndevs++;
}

static void pop(struct dt *s, int cpu)
{
	s->cpu[cpu].depth--;
}

static struct bev *top(struct dt *s, int cpu, size_t below)
{
	return s->cpu[cpu].depth > below ? at(s, s->cpu[cpu].stack[s->cpu[cpu].depth - 1 - below]) : NULL;
}

/* Everything above stack position @keep on @cpu never completed: orphans. */
static void orphan_above(struct dt *s, int cpu, size_t keep)
{
	while (s->cpu[cpu].depth > keep) {
		at(s, s->cpu[cpu].stack[s->cpu[cpu].depth - 1])->orphan = true;
		pop(s, cpu);
	}
}

/*
 * swiotlb_bounced's dev_addr is phys_to_dma() of the original: its physical
 * address, with the memory-encryption bit on an SME/SEV machine (one bit
 * above bit 40).
 */
static bool same_addr(uint64_t dev_addr, uint64_t phys)
{
	uint64_t x = dev_addr ^ phys;

	return !x || (!(x & (x - 1)) && x >= (1ULL << 40));
}

static bool bounce_of(const struct bev *b, const struct bev *c, uint64_t phys, bool check_phys)
{
	return b && b->e.kind == CCMM_FT_SWIOTLB_BOUNCED && b->dev == c->dev &&
	       (!check_phys || same_addr(b->e.phys_addr, phys));
}

/* The bounced line on top of @cpu's stack is entry @entry of the completion @c at @seq. */
static void pair_top(struct dt *s, int cpu, struct bev *b, struct bev *c, uint64_t seq, int entry)
{
	b->pair = seq;
	b->entry = entry;
	pop(s, cpu);
	c->nbounced++;
}

/* Pair the completing event at @seq with the bounced lines it completes. */
static void pair_event(struct dt *s, uint64_t seq)
{
	struct bev *c = at(s, seq);
	int cpu = c->e.cpu;

	switch (c->e.kind) {
	case CCMM_FT_DMA_MAP_PAGE:
		/* its bounced line is on top (LIFO); a deeper match means the ones above never completed */
		for (size_t k = 0; k < s->cpu[cpu].depth; k++) {
			struct bev *b = top(s, cpu, k);

			if (bounce_of(b, c, c->e.phys_addr, true) && b->e.size == c->e.size) {
				orphan_above(s, cpu, s->cpu[cpu].depth - k);
				pair_top(s, cpu, b, c, seq, -1);
				c->paired = true;
				return;
			}
		}
		break;
	case CCMM_FT_DMA_MAP_SG: {
		int n = c->e.full_nents;

		/* entry n-1's bounced line is on top, entry 0's deepest; entries past the traced 128 match by order */
		for (int i = n - 1; i >= 0; i--) {
			struct bev *b = top(s, cpu, 0);

			if (bounce_of(b, c, (size_t)i < c->e.n_phys ? c->phys[i] : 0, (size_t)i < c->e.n_phys))
				pair_top(s, cpu, b, c, seq, i);
		}
		c->paired = c->nbounced > 0;
		break;
	}
	case CCMM_FT_DMA_MAP_SG_ERR: {
		/* entries 0..k bounced, k failed: the top is entry k */
		struct bev *b = top(s, cpu, 0);
		int k = -1;

		if (b && b->dev == c->dev)
			for (int i = (int)c->e.n_phys - 1; i >= 0; i--)
				if (same_addr(b->e.phys_addr, c->phys[i])) {
					k = i;
					break;
				}
		for (int i = k; i >= 0; i--) {
			b = top(s, cpu, 0);
			if (!bounce_of(b, c, c->phys[i], true))
				break;
			pair_top(s, cpu, b, c, seq, i);
		}
		c->paired = c->nbounced > 0;
		break;
	}
	default:
		break;
	}
}

/* Read one more event into the buffer. 1, 0 at the end, or a run error. */
static int read_one(struct ccmm_actor *a, struct dt *s)
{
	struct ccmm_ftrace_event e;
	struct ccmm_error err;
	struct bev *b;
	int ret;

	if (s->eof)
		return 0;
	ret = ccmm_ftrace_next(s->ft, &e, &err);
	if (ret <= 0) {
		if (ret < 0) {
			char msg[700];

			ccmm_error_format(&err, msg, sizeof(msg));
			return ccmm_run_fail(a, NULL, ret, "%s", msg);
		}
		s->eof = true;
		/* whatever still waits never completed */
		for (int c = 0; c < s->ncpu; c++)
			orphan_above(s, c, 0);
		return 0;
	}
	if (s->tail - s->head == s->cap && grow_buf(s))
		return -ENOMEM;
	if (ensure_cpu(s, e.cpu))
		return -ENOMEM;
	b = at(s, s->tail);
	memset(b, 0, sizeof(*b));
	b->e = e;
	b->phys = dup_array(e.phys_addrs, e.n_phys);
	b->dma = dup_array(e.dma_addrs, e.n_dma);
	b->sizes = dup_array(e.sizes, e.n_sizes);
	b->e.phys_addrs = b->e.dma_addrs = b->e.sizes = NULL;
	if ((e.n_phys && !b->phys) || (e.n_dma && !b->dma) || (e.n_sizes && !b->sizes)) {
		bev_free(b);
		return -ENOMEM;
	}
	b->pair = NO_SEQ;
	b->entry = -1;
	b->dev = dev_index(s, a, e.dev);
	if (b->dev < 0) {
		bev_free(b);
		return ccmm_run_fail(a, NULL, -EINVAL, "%s:%u: device '%s' is not on the platform (the trace changed?)",
				     s->path, e.line, e.dev);
	}
	s->tail++;
	if (e.kind == CCMM_FT_SWIOTLB_BOUNCED) {
		if (s->cpu[e.cpu].depth == s->cpu[e.cpu].scap &&
		    ccmm_grow((void **)&s->cpu[e.cpu].stack, &s->cpu[e.cpu].scap, s->cpu[e.cpu].depth + 1, sizeof(uint64_t)))
			return -ENOMEM;
		s->cpu[e.cpu].stack[s->cpu[e.cpu].depth++] = s->tail - 1;
	} else {
		pair_event(s, s->tail - 1);
	}
	return 1;
}

/* Read until the bounced line at @seq knows its completion (or is an orphan). 0 or a run error. */
static int complete(struct ccmm_actor *a, struct dt *s, uint64_t seq)
{
	while (at(s, seq)->pair == NO_SEQ && !at(s, seq)->orphan) {
		int ret;

		if (s->tail - seq > READ_AHEAD_MAX)
			return ccmm_run_fail(a, NULL, -EINVAL,
					     "%s:%u: swiotlb_bounced: no dma_map_page or dma_map_sg completes it within %u "
					     "events",
					     s->path, at(s, seq)->e.line, READ_AHEAD_MAX);
		ret = read_one(a, s);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* ---- live mappings ------------------------------------------------------------------------------------------ */

static size_t live_hash(int dev, uint64_t kdma, size_t cap)
{
	return (size_t)(((kdma >> 6) * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)dev) & (cap - 1);
}

static int live_add(struct dt *s, const struct live *l)
{
	size_t h;

	if ((s->nlive + 1) * 2 > s->lcap) {
		size_t ncap = s->lcap ? s->lcap * 2 : 1024;
		struct live *n = calloc(ncap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		for (size_t i = 0; i < s->lcap; i++) {
			if (!s->live[i].used)
				continue;
			for (h = live_hash(s->live[i].dev, s->live[i].kdma, ncap); n[h].used; h = (h + 1) & (ncap - 1))
				;
			n[h] = s->live[i];
		}
		free(s->live);
		s->live = n;
		s->lcap = ncap;
	}
	for (h = live_hash(l->dev, l->kdma, s->lcap); s->live[h].used; h = (h + 1) & (s->lcap - 1))
		;
	s->live[h] = *l;
	s->live[h].used = true;
	s->nlive++;
	return 0;
}

static struct live *live_find(struct dt *s, int dev, uint64_t kdma)
{
	if (!s->lcap)
		return NULL;
	for (size_t h = live_hash(dev, kdma, s->lcap); s->live[h].used; h = (h + 1) & (s->lcap - 1))
		if (s->live[h].dev == dev && s->live[h].kdma == kdma)
			return &s->live[h];
	return NULL;
}

/* The live mapping holding [kdma, kdma + size): by its start, else by a walk. */
static struct live *live_holding(struct dt *s, int dev, uint64_t kdma, uint64_t size)
{
	struct live *l = live_find(s, dev, kdma);

	if (l)
		return l;
	for (size_t i = 0; i < s->lcap; i++) {
		struct live *x = &s->live[i];

		if (x->used && x->dev == dev && !ccmm_range_within(kdma, size, 0, x->kdma, x->kdma + x->size))
			return x;
	}
	return NULL;
}

/* Remove @l (backward-shift deletion keeps the probe chains whole). */
static void live_del(struct dt *s, struct live *l)
{
	size_t i = (size_t)(l - s->live), j = i;

	s->live[i].used = false;
	s->nlive--;
	for (;;) {
		size_t h;

		j = (j + 1) & (s->lcap - 1);
		if (!s->live[j].used)
			return;
		h = live_hash(s->live[j].dev, s->live[j].kdma, s->lcap);
		/* move j back to i if its home is not in (i, j] */
		if ((i <= j) ? (h <= i || h > j) : (h <= i && h > j)) {
			s->live[i] = s->live[j];
			s->live[j].used = false;
			i = j;
		}
	}
}

/* ---- calls into the DMA API, with per-device figures ---------------------------------------------------------------- */

struct snapc {
	uint64_t ns, bytes, slots, shared, priv, conv;
};

static void snap(const struct ccmm_ctx *c, struct snapc *x)
{
	x->ns = c->now_ns;
	x->bytes = c->ctr[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)];
	x->slots = c->ctr[CCMM_CTR_AT(swiotlb, swiotlb_slots)];
	x->shared = c->ctr[CCMM_CTR_to_shared];
	x->priv = c->ctr[CCMM_CTR_to_private];
	x->conv = c->ctr[CCMM_CTR_conversion_calls];
}

static void account(const struct ccmm_ctx *c, const struct snapc *x, struct dev_fig *f)
{
	f->ns += c->now_ns - x->ns;
	f->bounce_bytes += c->ctr[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)] - x->bytes;
	f->slots += c->ctr[CCMM_CTR_AT(swiotlb, swiotlb_slots)] - x->slots;
	f->to_shared += c->ctr[CCMM_CTR_to_shared] - x->shared;
	f->to_private += c->ctr[CCMM_CTR_to_private] - x->priv;
	f->conversion_calls += c->ctr[CCMM_CTR_conversion_calls] - x->conv;
}

/* The device bound as its driver's probe leaves it; false (counted) when it cannot be. */
static bool bound(struct ccmm_actor *a, struct dt *s, struct tdev *t)
{
	/* every call is for the event's device: the run's attribution table keeps its costs apart */
	a->ctx.attr_dev = t->plat >= 0 ? t->plat + 1 : 0;
	if (!t->tried) {
		struct ccmm_dma_probe_opts po = { .no_filter = !s->o->filter || !t->d->desc->vendor,
						  .window = (enum ccmm_svm_window)s->o->window };

		t->tried = true;
		t->bind_err = ccmm_dma_bind(&a->ctx, t->d, &po);
	}
	if (t->bind_err)
		t->refused++;
	return !t->bind_err;
}

/* ccmm_dma_map_page on the event's CPU. Returns ccmm's DMA address or CCMM_DMA_MAPPING_ERROR. */
static uint64_t do_map(struct ccmm_actor *a, struct dt *s, int dev, int cpu, uint64_t pa, uint64_t size,
		       enum ccmm_dma_dir dir, unsigned long attrs)
{
	struct tdev *t = &s->devs[dev];
	struct snapc x;
	uint64_t dma = CCMM_DMA_MAPPING_ERROR, bounces;

	if (!bound(a, s, t)) {
		t->f.map_fail++;
		return dma;
	}
	a->ctx.cpu = cpu;
	snap(&a->ctx, &x);
	bounces = a->ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_maps)];
	ccmm_dma_map_page(&a->ctx, t->d, pa, size, dir, attrs, &dma);
	ccmm_dma_mapping_error(t->d, dma); /* drivers ask, and dma-debug checks they did */
	account(&a->ctx, &x, &t->f);
	t->f.maps++;
	if (dma == CCMM_DMA_MAPPING_ERROR) {
		t->f.map_fail++;
		return dma;
	}
	if (a->ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_maps)] != bounces)
		t->f.bounced++;
	return dma;
}

static void do_unmap(struct ccmm_actor *a, struct dt *s, int dev, int cpu, uint64_t cdma, uint64_t size,
		     enum ccmm_dma_dir dir, unsigned long attrs)
{
	struct tdev *t = &s->devs[dev];
	struct snapc x;

	if (cdma == CCMM_DMA_MAPPING_ERROR || !bound(a, s, t))
		return;
	a->ctx.cpu = cpu;
	snap(&a->ctx, &x);
	ccmm_dma_unmap_page(&a->ctx, t->d, cdma, size, dir, attrs);
	account(&a->ctx, &x, &t->f);
	t->f.unmaps++;
}

static void do_sync(struct ccmm_actor *a, struct dt *s, int dev, int cpu, uint64_t cdma, uint64_t size,
		    enum ccmm_dma_dir dir, bool for_cpu)
{
	struct tdev *t = &s->devs[dev];
	struct snapc x;

	if (cdma == CCMM_DMA_MAPPING_ERROR || !bound(a, s, t))
		return;
	a->ctx.cpu = cpu;
	snap(&a->ctx, &x);
	if (for_cpu)
		ccmm_dma_sync_single_for_cpu(&a->ctx, t->d, cdma, size, dir);
	else
		ccmm_dma_sync_single_for_device(&a->ctx, t->d, cdma, size, dir);
	account(&a->ctx, &x, &t->f);
	t->f.syncs++;
}

/* ---- agreement ---------------------------------------------------------------------------------------------------- */

/* Area of the kernel's slot address @kdma; -1 outside the pool. */
static int karea(const struct dt *s, uint64_t kdma)
{
	if (!s->have_kbase || kdma < s->kbase || kdma >= s->kbase + (s->nslabs << CCMM_IO_TLB_SHIFT))
		return -1;
	return (int)(((kdma - s->kbase) >> CCMM_IO_TLB_SHIFT) / s->area_nslabs);
}

/* The areas a search from @cpu went through to land in @area (-1: all, it failed): a cyclic range. */
static void touched(const struct dt *s, int cpu, int area, unsigned *from, unsigned *count)
{
	*from = (unsigned)cpu & (s->nareas - 1);
	if (area < 0)
		*count = s->nareas;
	else
		*count = ((unsigned)area + s->nareas - *from) % s->nareas + 1;
}

static bool in_range(unsigned x, unsigned from, unsigned count, unsigned n)
{
	return (x + n - from) % n < count;
}

static bool ranges_meet(unsigned f1, unsigned c1, unsigned f2, unsigned c2, unsigned n)
{
	return in_range(f1, f2, c2, n) || in_range(f2, f1, c1, n);
}

/* The kernel's answer for the bounced line @b (paired): its slot address, or CCMM_DMA_MAPPING_ERROR. */
static uint64_t kernel_answer(struct dt *s, const struct bev *b, bool *known)
{
	const struct bev *c = at(s, b->pair);

	*known = true;
	switch (c->e.kind) {
	case CCMM_FT_DMA_MAP_PAGE:
		return c->e.dma_addr;
	case CCMM_FT_DMA_MAP_SG:
		if (b->entry >= 0 && (size_t)b->entry < c->e.n_dma && c->e.full_ents == c->e.full_nents)
			return c->dma[b->entry];
		*known = false; /* past the 128 entries the event prints */
		return CCMM_DMA_MAPPING_ERROR;
	case CCMM_FT_DMA_MAP_SG_ERR:
		/* the last bounced entry is the one that failed; the others were mapped somewhere, then released */
		if (b->entry == (int)c->nbounced - 1)
			return CCMM_DMA_MAPPING_ERROR;
		*known = false;
		return CCMM_DMA_MAPPING_ERROR;
	default:
		*known = false;
		return CCMM_DMA_MAPPING_ERROR;
	}
}

/*
 * Does the window of the mapping bounced at @seq (to its completion) hold
 * another CPU's pool event in an area its search went through? Marks it,
 * and the other CPU's searches there, uncertain. Reads ahead so every
 * search in the window knows its answer.
 */
static int classify(struct ccmm_actor *a, struct dt *s, uint64_t seq)
{
	struct bev *m = at(s, seq);
	uint64_t end = m->pair;
	unsigned mf, mc;
	bool known;
	uint64_t k;

	if (s->nareas == 0 || m->orphan || end == NO_SEQ)
		return 0;
	k = kernel_answer(s, m, &known);
	touched(s, m->e.cpu, known ? karea(s, k) : -1, &mf, &mc);
	for (uint64_t q = seq + 1; q < end; q++) {
		struct bev *e = at(s, q);
		unsigned ef, ec;
		int area = -2;

		if (e->e.cpu == m->e.cpu)
			continue;
		switch (e->e.kind) {
		case CCMM_FT_SWIOTLB_BOUNCED: {
			int ret = complete(a, s, q);
			uint64_t ek;
			bool eknown;

			if (ret)
				return ret;
			e = at(s, q);
			m = at(s, seq);
			if (e->orphan) {
				area = -1;
			} else {
				ek = kernel_answer(s, e, &eknown);
				area = eknown ? karea(s, ek) : -1;
			}
			touched(s, e->e.cpu, area, &ef, &ec);
			if (ranges_meet(mf, mc, ef, ec, s->nareas)) {
				m->uncertain = true;
				e->uncertain = true;
			}
			continue;
		}
		case CCMM_FT_DMA_UNMAP_PAGE:
			area = karea(s, e->e.dma_addr);
			break;
		case CCMM_FT_DMA_UNMAP_SG:
			area = -1; /* its entries may be anywhere */
			break;
		case CCMM_FT_DMA_MAP_SG_ERR:
			area = -1;
			break;
		default:
			break;
		}
		if (area == -2)
			continue;
		if (area < 0 ? true : in_range((unsigned)area, mf, mc, s->nareas))
			m->uncertain = true;
	}
	return 0;
}

static void note_divergence(struct dt *s, const struct bev *b, const struct bev *c, uint64_t kdma, uint64_t cdma,
			    bool uncertain)
{
	char *dst = uncertain ? s->ag.first_uncertain : s->ag.first;
	char k[48], m[48];

	if (uncertain)
		s->ag.uncertain_diverged++;
	else
		s->ag.diverged++;
	if (kdma != CCMM_DMA_MAPPING_ERROR && cdma == CCMM_DMA_MAPPING_ERROR)
		s->ag.kernel_only++;
	if (kdma == CCMM_DMA_MAPPING_ERROR && cdma != CCMM_DMA_MAPPING_ERROR)
		s->ag.ccmm_only++;
	if (dst[0])
		return;
	if (!uncertain)
		s->ag.first_line = b->e.line;
	if (kdma == CCMM_DMA_MAPPING_ERROR)
		snprintf(k, sizeof(k), "failed (pool full)");
	else
		snprintf(k, sizeof(k), "pool offset 0x%" PRIx64, kdma - s->kbase);
	if (cdma == CCMM_DMA_MAPPING_ERROR)
		snprintf(m, sizeof(m), "failed");
	else
		snprintf(m, sizeof(m), "pool offset 0x%" PRIx64, cdma - s->pool_start);
	snprintf(dst, 512, "%.120s:%u: %s %s of %" PRIu64 " bytes at 0x%" PRIx64 " (CPU %d, completed at line %u): kernel %s, "
		 "ccmm %s",
		 s->path, b->e.line, ccmm_ftrace_kind_name(c->e.kind), c->e.dev, b->e.size, b->e.phys_addr, b->e.cpu,
		 c->e.line, k, m);
}

/* Compare ccmm's @cdma for the bounced line @b with the kernel's answer. */
static void compare(struct dt *s, const struct bev *b, uint64_t cdma)
{
	const struct bev *c = at(s, b->pair);
	bool known, same;
	uint64_t kdma = kernel_answer(s, b, &known);

	if (!s->have_kbase || !known) {
		s->ag.not_compared++;
		return;
	}
	s->ag.compared++;
	if (b->uncertain)
		s->ag.uncertain++;
	if (kdma == CCMM_DMA_MAPPING_ERROR || cdma == CCMM_DMA_MAPPING_ERROR)
		same = kdma == cdma;
	else
		same = kdma - s->kbase == cdma - s->pool_start;
	if (same)
		s->ag.agreed++;
	else
		note_divergence(s, b, c, kdma, cdma, b->uncertain);
}

/* ---- issuing the calls ------------------------------------------------------------------------------------------------ */

/* Orphans @cpu holds: released now (the kernel released them before its next call there). */
static void release_held(struct ccmm_actor *a, struct dt *s, int cpu)
{
	for (size_t i = 0; i < s->cpu[cpu].nheld; i += 3) {
		uint64_t dev = s->cpu[cpu].held[i], cdma = s->cpu[cpu].held[i + 1], size = s->cpu[cpu].held[i + 2];

		do_unmap(a, s, (int)dev, cpu, cdma, size, CCMM_DMA_BIDIRECTIONAL, CCMM_DMA_ATTR_SKIP_CPU_SYNC);
	}
	s->cpu[cpu].nheld = 0;
}

static struct sg_group *group_of(struct dt *s, struct bev *c)
{
	struct sg_group *g;
	uint32_t n;

	if (c->grp)
		return c->grp;
	n = (uint32_t)CCMM_MAX(c->e.full_nents, 0);
	g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->phys = calloc(n ? n : 1, sizeof(uint64_t));
	g->kdma = calloc(n ? n : 1, sizeof(uint64_t));
	g->cdma = calloc(n ? n : 1, sizeof(uint64_t));
	g->len = calloc(n ? n : 1, sizeof(uint64_t));
	g->mapped = calloc(n ? n : 1, sizeof(bool));
	g->bounced = calloc(n ? n : 1, sizeof(bool));
	if (!g->phys || !g->kdma || !g->cdma || !g->len || !g->mapped || !g->bounced) {
		free(g->phys), free(g->kdma), free(g->cdma), free(g->len), free(g->mapped), free(g->bounced), free(g);
		return NULL;
	}
	g->dev = c->dev;
	g->n = n;
	g->dir = (enum ccmm_dma_dir)c->e.dir;
	g->attrs = c->e.attrs;
	for (uint32_t i = 0; i < n; i++) {
		g->phys[i] = i < c->e.n_phys ? c->phys[i] : 0;
		g->kdma[i] = i < c->e.n_dma ? c->dma[i] : CCMM_DMA_MAPPING_ERROR;
		g->len[i] = i < c->e.n_sizes ? c->sizes[i] : 0;
		g->cdma[i] = CCMM_DMA_MAPPING_ERROR;
	}
	g->next = s->groups;
	s->groups = g;
	c->grp = g;
	return g;
}

/* A mapping at its swiotlb_bounced line. */
static int issue_bounced(struct ccmm_actor *a, struct dt *s, uint64_t seq)
{
	struct bev *b, *c;
	uint64_t cdma;
	int ret = complete(a, s, seq);

	if (ret)
		return ret;
	ret = classify(a, s, seq);
	if (ret)
		return ret;
	b = at(s, seq);
	if (b->orphan) {
		/* a call the trace never completes (an sg mapping that failed with -ENOMEM): search, hold, release */
		cdma = do_map(a, s, b->dev, b->e.cpu, orig_of(a, b->e.phys_addr), b->e.size, CCMM_DMA_BIDIRECTIONAL,
			      CCMM_DMA_ATTR_SKIP_CPU_SYNC);
		s->ag.orphans++;
		if (cdma != CCMM_DMA_MAPPING_ERROR) {
			int cpu = b->e.cpu;

			if (ccmm_grow((void **)&s->cpu[cpu].held, &s->cpu[cpu].hcap, s->cpu[cpu].nheld + 3, sizeof(uint64_t)))
				return -ENOMEM;
			s->cpu[cpu].held[s->cpu[cpu].nheld++] = (uint64_t)b->dev;
			s->cpu[cpu].held[s->cpu[cpu].nheld++] = cdma;
			s->cpu[cpu].held[s->cpu[cpu].nheld++] = b->e.size;
		}
		return 0;
	}
	release_held(a, s, b->e.cpu);
	c = at(s, b->pair);
	if (c->e.kind == CCMM_FT_DMA_MAP_PAGE) {
		uint64_t kdma = c->e.dma_addr;

		cdma = do_map(a, s, b->dev, b->e.cpu, c->e.phys_addr, b->e.size, (enum ccmm_dma_dir)c->e.dir, c->e.attrs);
		compare(s, b, cdma);
		if (kdma != CCMM_DMA_MAPPING_ERROR) {
			struct live l = { kdma, cdma, c->e.size, b->dev, (enum ccmm_dma_dir)c->e.dir, NULL, 0, true };

			return live_add(s, &l);
		}
		/* the kernel has nothing mapped: neither may ccmm */
		do_unmap(a, s, b->dev, b->e.cpu, cdma, b->e.size, (enum ccmm_dma_dir)c->e.dir,
			 c->e.attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC);
		return 0;
	}
	/* an sg entry */
	{
		struct sg_group *g = group_of(s, c);
		uint32_t i = (uint32_t)b->entry;

		if (!g)
			return -ENOMEM;
		if (i >= g->n)
			return 0;
		if (i >= c->e.n_phys)
			g->phys[i] = orig_of(a, b->e.phys_addr); /* past the 128 entries the event prints */
		if (!g->len[i])
			g->len[i] = b->e.size;
		g->bounced[i] = true;
		cdma = do_map(a, s, b->dev, b->e.cpu, g->phys[i], b->e.size, (enum ccmm_dma_dir)c->e.dir, c->e.attrs);
		compare(s, b, cdma);
		g->cdma[i] = cdma;
		g->mapped[i] = cdma != CCMM_DMA_MAPPING_ERROR;
	}
	return 0;
}

/*
 * The kernel mapped it without bouncing (no swiotlb_bounced line): ccmm
 * must not bounce it either, and a direct mapping's address is the
 * kernel's (phys_to_dma on the recorded machine).
 */
static void compare_direct(struct dt *s, const struct bev *c, uint64_t cdma, bool bounced)
{
	bool same;
	char k[48];

	if (!s->have_kbase) {
		s->ag.not_compared++;
		return;
	}
	s->ag.compared++;
	same = c->e.dma_addr == CCMM_DMA_MAPPING_ERROR ? cdma == c->e.dma_addr : !bounced && cdma == c->e.dma_addr;
	if (same) {
		s->ag.agreed++;
		return;
	}
	s->ag.diverged++;
	if (s->ag.first[0])
		return;
	s->ag.first_line = c->e.line;
	if (c->e.dma_addr == CCMM_DMA_MAPPING_ERROR)
		snprintf(k, sizeof(k), "failed");
	else
		snprintf(k, sizeof(k), "0x%" PRIx64 " without bouncing", c->e.dma_addr);
	snprintf(s->ag.first, sizeof(s->ag.first),
		 "%.120s:%u: dma_map_page %s of %" PRIu64 " bytes at 0x%" PRIx64 " (CPU %d): kernel %s, ccmm %s%s", s->path,
		 c->e.line, c->e.dev, c->e.size, c->e.phys_addr, c->e.cpu, k,
		 cdma == CCMM_DMA_MAPPING_ERROR ? "failed" : bounced ? "bounced it" : "0x", "");
	if (cdma != CCMM_DMA_MAPPING_ERROR && !bounced) {
		size_t n = strlen(s->ag.first);

		snprintf(s->ag.first + n, sizeof(s->ag.first) - n, "%" PRIx64, cdma);
	}
}

/* dma_map_page without a bounced line: the kernel mapped it directly. */
static int issue_direct_map(struct ccmm_actor *a, struct dt *s, struct bev *c)
{
	uint64_t cdma, bounced = s->devs[c->dev].f.bounced;

	release_held(a, s, c->e.cpu);
	cdma = do_map(a, s, c->dev, c->e.cpu, c->e.phys_addr, c->e.size, (enum ccmm_dma_dir)c->e.dir, c->e.attrs);
	compare_direct(s, c, cdma, s->devs[c->dev].f.bounced != bounced);
	if (c->e.dma_addr != CCMM_DMA_MAPPING_ERROR) {
		struct live l = { c->e.dma_addr, cdma, c->e.size, c->dev, (enum ccmm_dma_dir)c->e.dir, NULL, 0, true };

		return live_add(s, &l);
	}
	do_unmap(a, s, c->dev, c->e.cpu, cdma, c->e.size, (enum ccmm_dma_dir)c->e.dir, CCMM_DMA_ATTR_SKIP_CPU_SYNC);
	return 0;
}

/* dma_map_sg: entries that did not bounce are mapped now; the group goes live. */
static int issue_map_sg(struct ccmm_actor *a, struct dt *s, struct bev *c)
{
	struct sg_group *g = group_of(s, c);

	if (!g)
		return -ENOMEM;
	release_held(a, s, c->e.cpu);
	for (uint32_t i = 0; i < g->n; i++) {
		/* entries with a swiotlb_bounced line were mapped there */
		if (g->bounced[i])
			continue;
		if (!g->phys[i] || !g->len[i]) {
			s->not_replayed++; /* a direct entry past the 128 the event prints */
			continue;
		}
		g->cdma[i] = do_map(a, s, c->dev, c->e.cpu, g->phys[i], g->len[i], g->dir, g->attrs);
		g->mapped[i] = g->cdma[i] != CCMM_DMA_MAPPING_ERROR;
	}
	g->live = true;
	for (uint32_t i = 0; i < g->n; i++) {
		struct live l = { g->kdma[i], g->cdma[i], g->len[i], c->dev, g->dir, g, i, true };

		if (g->kdma[i] == CCMM_DMA_MAPPING_ERROR || live_find(s, c->dev, g->kdma[i]))
			continue;
		if (live_add(s, &l))
			return -ENOMEM;
	}
	return 0;
}

static void group_drop_live(struct dt *s, struct sg_group *g)
{
	for (uint32_t i = 0; i < g->n; i++) {
		struct live *l = g->kdma[i] != CCMM_DMA_MAPPING_ERROR ? live_find(s, g->dev, g->kdma[i]) : NULL;

		if (l && l->grp == g)
			live_del(s, l);
	}
	g->live = false;
}

/* dma_map_sg_err: what dma_direct_map_sg mapped before the failing entry it released again. */
static void issue_map_sg_err(struct ccmm_actor *a, struct dt *s, struct bev *c)
{
	struct sg_group *g = c->grp;

	release_held(a, s, c->e.cpu);
	if (!g)
		return;
	for (uint32_t i = 0; i < g->n; i++)
		if (g->mapped[i]) {
			do_unmap(a, s, g->dev, c->e.cpu, g->cdma[i], g->len[i], g->dir,
				 g->attrs | CCMM_DMA_ATTR_SKIP_CPU_SYNC);
			g->mapped[i] = false;
		}
}

static int issue_unmap_page(struct ccmm_actor *a, struct dt *s, struct bev *c)
{
	struct live *l = live_find(s, c->dev, c->e.dma_addr);

	release_held(a, s, c->e.cpu);
	if (!l || l->grp) {
		s->unmatched++;
		return 0;
	}
	do_unmap(a, s, c->dev, c->e.cpu, l->cdma, c->e.size, (enum ccmm_dma_dir)c->e.dir, c->e.attrs);
	live_del(s, l);
	return 0;
}

static int issue_unmap_sg(struct ccmm_actor *a, struct dt *s, struct bev *c)
{
	struct sg_group *g;

	release_held(a, s, c->e.cpu);
	for (g = s->groups; g; g = g->next) {
		bool same = g->live && g->dev == c->dev && g->n == c->e.n_phys;

		for (uint32_t i = 0; same && i < g->n; i++)
			same = g->phys[i] == c->phys[i];
		if (same)
			break;
	}
	if (!g) {
		s->unmatched++;
		return 0;
	}
	for (uint32_t i = 0; i < g->n; i++)
		if (g->mapped[i]) {
			do_unmap(a, s, g->dev, c->e.cpu, g->cdma[i], g->len[i], (enum ccmm_dma_dir)c->e.dir, c->e.attrs);
			g->mapped[i] = false;
		}
	group_drop_live(s, g);
	return 0;
}

static void issue_sync(struct ccmm_actor *a, struct dt *s, struct bev *c, uint64_t kdma, uint64_t size, bool for_cpu)
{
	struct live *l = live_holding(s, c->dev, kdma, size);

	if (!l) {
		s->unmatched++;
		return;
	}
	if (l->cdma != CCMM_DMA_MAPPING_ERROR)
		do_sync(a, s, c->dev, c->e.cpu, l->cdma + (kdma - l->kdma), size, (enum ccmm_dma_dir)c->e.dir, for_cpu);
}

static void issue_sync_sg(struct ccmm_actor *a, struct dt *s, struct bev *c, bool for_cpu)
{
	struct live *first = c->e.n_dma ? live_find(s, c->dev, c->dma[0]) : NULL;
	struct sg_group *g = first ? first->grp : NULL;

	if (g && g->n == c->e.n_dma) {
		/* the group's entries in order (the event lists them all, past the 128 that dma_map_sg prints) */
		for (uint32_t i = 0; i < g->n; i++)
			if (g->mapped[i])
				do_sync(a, s, c->dev, c->e.cpu, g->cdma[i], i < c->e.n_sizes ? c->sizes[i] : g->len[i],
					(enum ccmm_dma_dir)c->e.dir, for_cpu);
		return;
	}
	for (size_t i = 0; i < c->e.n_dma; i++)
		issue_sync(a, s, c, c->dma[i], i < c->e.n_sizes ? c->sizes[i] : 1, for_cpu);
}

static int issue_alloc(struct ccmm_actor *a, struct dt *s, struct bev *c)
{
	struct tdev *t = &s->devs[c->dev];
	struct coh h = { c->dev, c->e.dma_addr, 0, 0, c->e.size, false };
	struct snapc x;

	if (!c->e.dma_addr)
		return 0; /* the kernel's allocation failed (traced with a zero handle) */
	if (!bound(a, s, t))
		return 0;
	a->ctx.cpu = c->e.cpu;
	snap(&a->ctx, &x);
	h.ok = !ccmm_dma_alloc_coherent(&a->ctx, t->d, c->e.size, &h.cdma, &h.cva);
	account(&a->ctx, &x, &t->f);
	t->f.coherent++;
	if (ccmm_grow((void **)&s->coh, &s->ccap, s->ncoh + 1, sizeof(*s->coh)))
		return -ENOMEM;
	s->coh[s->ncoh++] = h;
	return 0;
}

static void issue_free(struct ccmm_actor *a, struct dt *s, struct bev *c)
{
	struct tdev *t = &s->devs[c->dev];

	for (size_t i = 0; i < s->ncoh; i++) {
		struct coh *h = &s->coh[i];
		struct snapc x;

		if (h->dev != c->dev || h->kdma != c->e.dma_addr)
			continue;
		if (h->ok && bound(a, s, t)) {
			a->ctx.cpu = c->e.cpu;
			snap(&a->ctx, &x);
			ccmm_dma_free_coherent(&a->ctx, t->d, h->size, h->cva, h->cdma);
			account(&a->ctx, &x, &t->f);
			t->f.frees++;
		}
		s->coh[i] = s->coh[--s->ncoh];
		return;
	}
	s->unmatched++;
}

static int issue(struct ccmm_actor *a, struct dt *s, uint64_t seq)
{
	struct bev *c = at(s, seq);

	switch (c->e.kind) {
	case CCMM_FT_SWIOTLB_BOUNCED:
		return issue_bounced(a, s, seq);
	case CCMM_FT_DMA_MAP_PAGE:
		return c->paired ? 0 : issue_direct_map(a, s, c);
	case CCMM_FT_DMA_MAP_SG:
		return issue_map_sg(a, s, c);
	case CCMM_FT_DMA_MAP_SG_ERR:
		issue_map_sg_err(a, s, c);
		return 0;
	case CCMM_FT_DMA_UNMAP_PAGE:
		return issue_unmap_page(a, s, c);
	case CCMM_FT_DMA_UNMAP_SG:
		return issue_unmap_sg(a, s, c);
	case CCMM_FT_DMA_SYNC_SINGLE_FOR_CPU:
	case CCMM_FT_DMA_SYNC_SINGLE_FOR_DEVICE:
		release_held(a, s, c->e.cpu);
		issue_sync(a, s, c, c->e.dma_addr, c->e.size, c->e.kind == CCMM_FT_DMA_SYNC_SINGLE_FOR_CPU);
		return 0;
	case CCMM_FT_DMA_SYNC_SG_FOR_CPU:
	case CCMM_FT_DMA_SYNC_SG_FOR_DEVICE:
		release_held(a, s, c->e.cpu);
		issue_sync_sg(a, s, c, c->e.kind == CCMM_FT_DMA_SYNC_SG_FOR_CPU);
		return 0;
	case CCMM_FT_DMA_ALLOC:
	case CCMM_FT_DMA_ALLOC_PAGES:
		return issue_alloc(a, s, c);
	case CCMM_FT_DMA_FREE:
	case CCMM_FT_DMA_FREE_PAGES:
		issue_free(a, s, c);
		return 0;
	default:
		/* dma_map_resource (MMIO by its bus address, never bounced), the _sgt variants: no slot */
		s->not_replayed++;
		return 0;
	}
}

/* ---- the actor ------------------------------------------------------------------------------------------------------ */

static int dt_start(struct ccmm_actor *a)
{
	struct dt *s = calloc(1, sizeof(*s));
	struct ccmm_io_tlb_mem *mem;
	struct ccmm_error err;
	int ret;

	if (!s)
		return -ENOMEM;
	a->priv = s;
	s->o = a->opts;
	resolve(a->run->job, s->o->trace, s->path, sizeof(s->path));
	ret = ccmm_ftrace_open(s->path, &s->ft, &err);
	if (ret)
		return ret;
	mem = ccmm_swiotlb_default(a->run->m);
	if (mem) {
		s->pool_start = mem->start;
		s->nslabs = mem->nslabs;
		s->nareas = mem->nareas;
		s->area_nslabs = mem->area_nslabs;
	}
	if (a->run->job->plat->swiotlb_base && mem) {
		s->have_kbase = true;
		s->kbase = a->run->job->plat->swiotlb_base;
	}
	if (s->o->kernel_debugfs[0]) {
		char dir[1024], f[1400];
		const char *names[2] = { "io_tlb_used", "io_tlb_used_hiwater" };
		uint64_t *dst[2] = { &s->ag.kernel_used, &s->ag.kernel_hiwater };

		resolve(a->run->job, s->o->kernel_debugfs, dir, sizeof(dir));
		s->ag.kernel_known = true;
		for (int i = 0; i < 2; i++) {
			FILE *fp;
			unsigned long long v;

			snprintf(f, sizeof(f), "%s/swiotlb/%s", dir, names[i]);
			fp = fopen(f, "r");
			if (!fp || fscanf(fp, "%llu", &v) != 1)
				s->ag.kernel_known = false;
			else
				*dst[i] = v;
			if (fp)
				fclose(fp);
		}
	}
	return 0;
}

static void dt_stop(struct ccmm_actor *a)
{
	struct dt *s = a->priv;

	if (!s)
		return;
	ccmm_ftrace_close(s->ft);
	for (uint64_t q = s->head; q < s->tail; q++)
		bev_free(at(s, q));
	free(s->buf);
	for (int c = 0; c < s->ncpu; c++) {
		free(s->cpu[c].stack);
		free(s->cpu[c].held);
	}
	free(s->cpu);
	free(s->live);
	free(s->coh);
	while (s->groups) {
		struct sg_group *g = s->groups;

		s->groups = g->next;
		free(g->phys), free(g->kdma), free(g->cdma), free(g->len), free(g->mapped), free(g->bounced), free(g);
	}
	free(s);
	a->priv = NULL;
}

static int verb_replay(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct dt *s = a->priv;
	int ret;

	if (s->replayed)
		return -EALREADY;
	for (;;) {
		ccmm_actor_sample(a); /* the time series' boundaries this replay's clock has passed */
		if (s->head == s->tail) {
			ret = read_one(a, s);
			if (ret < 0)
				return ret;
			if (!ret)
				break;
		}
		ret = issue(a, s, s->head);
		if (ret < 0) {
			if (ret == -ENOMEM)
				ccmm_op_note(a, "out of memory at %s:%u", s->path, at(s, s->head)->e.line);
			return ret;
		}
		/* a paired completion stays until its bounced lines are issued; they come first in order */
		bev_free(at(s, s->head));
		s->head++;
	}
	for (int c = 0; c < s->ncpu; c++)
		release_held(a, s, c);
	ccmm_ftrace_stats(s->ft, &s->st);
	s->replayed = true;
	a->ctx.cpu = -1;
	a->ctx.attr_dev = 0;
	return 0;
}

static void pool_figures(struct ccmm_actor *a, uint64_t *used, uint64_t *hiwater)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(a->run->m);
	struct ccmm_swiotlb_stats st;

	*used = *hiwater = 0;
	if (!mem)
		return;
	ccmm_swiotlb_stats(mem, &st);
	*used = st.io_tlb_used;
	*hiwater = st.io_tlb_used_hiwater;
}

static int verb_agree(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct dt *s = a->priv;
	uint64_t used, hiwater;

	if (!s->replayed) {
		ccmm_op_note(a, "nothing replayed yet (op = replay first)");
		return -EINVAL;
	}
	pool_figures(a, &used, &hiwater);
	if (s->ag.diverged) {
		ccmm_op_note(a, "%" PRIu64 " of %" PRIu64 " mappings diverged from the kernel's, the first at trace line %u",
			     s->ag.diverged, s->ag.compared, s->ag.first_line);
		return -EBADMSG;
	}
	if (s->ag.kernel_known && (used != s->ag.kernel_used || hiwater != s->ag.kernel_hiwater)) {
		unsigned big = 0;

		/*
		 * ring_buffer_lock_reserve() drops, without counting, an event
		 * larger than a sub-buffer (4 KiB less 24 bytes): dma_unmap_sg
		 * prints 8 bytes per entry, uncapped, so the unmap of a large
		 * scatterlist never reaches the trace.
		 */
		for (struct sg_group *g = s->groups; g; g = g->next)
			big += g->live && g->n > 500;
		ccmm_op_note(a, "io_tlb_used %" PRIu64 " (kernel %" PRIu64 "), io_tlb_used_hiwater %" PRIu64 " (kernel %" PRIu64
			     ")%s",
			     used, s->ag.kernel_used, hiwater, s->ag.kernel_hiwater,
			     big ? "; a scatterlist of 500+ entries is still mapped: the kernel drops events over 4 KiB" : "");
		return -EBADMSG;
	}
	if (!s->ag.compared) {
		ccmm_op_note(a, "no streaming mapping in the trace to compare");
		return -ENOENT;
	}
	return 0;
}

enum { CK_USED, CK_HIWATER, CK_MAPS, CK_BOUNCED, CK_FAILED, CK_BYTES, CK_REFUSED };

static int verb_check(struct ccmm_actor *a, const struct ccmm_op *op)
{
	static const char *const names[] = { "io_tlb_used", "io_tlb_used_hiwater", "maps", "bounced", "map_failures",
					     "bounce_bytes", "refused" };
	struct dt *s = a->priv;
	uint64_t got[7] = { 0 };

	pool_figures(a, &got[CK_USED], &got[CK_HIWATER]);
	for (int i = 0; i < s->ndevs; i++) {
		got[CK_MAPS] += s->devs[i].f.maps;
		got[CK_BOUNCED] += s->devs[i].f.bounced;
		got[CK_FAILED] += s->devs[i].f.map_fail;
		got[CK_BYTES] += s->devs[i].f.bounce_bytes;
		got[CK_REFUSED] += s->devs[i].refused;
	}
	for (int i = 0; i < 7; i++) {
		uint64_t want;

		if (!ccmm_arg_set(op, i))
			continue;
		want = ccmm_arg_u64(a, op, i);
		if (got[i] != want) {
			ccmm_op_note(a, "%s is %" PRIu64 ", not %" PRIu64, names[i], got[i], want);
			return -EBADMSG;
		}
	}
	return 0;
}

static const struct ccmm_arg_spec replay_args[] = { { NULL } };
static const struct ccmm_arg_spec agree_args[] = { { NULL } };
static const struct ccmm_arg_spec check_args[] = {
	{ "io_tlb_used", CCMM_ARG_U64, false, false, NULL, NULL, "slots in use now" },
	{ "io_tlb_used_hiwater", CCMM_ARG_U64, false, false, NULL, NULL, "the most slots in use at once" },
	{ "maps", CCMM_ARG_U64, false, false, NULL, NULL, "streaming mappings made (every device)" },
	{ "bounced", CCMM_ARG_U64, false, false, NULL, NULL, "of which bounced through SWIOTLB" },
	{ "map_failures", CCMM_ARG_U64, false, false, NULL, NULL, "mappings refused (and calls of devices that did not bind)" },
	{ "bounce_bytes", CCMM_ARG_U64, false, false, NULL, NULL, "bytes copied into or out of bounce buffers" },
	{ "refused", CCMM_ARG_U64, false, false, NULL, NULL, "calls not made: their device's probe was refused" },
	{ NULL }
};

static const struct ccmm_verb dt_verbs[] = {
	{ "replay", "issue every call of the trace, each on its CPU, in trace order (mappings at their swiotlb_bounced line)",
	  replay_args, verb_replay },
	{ "agree", "-EBADMSG unless every mapping of certain order landed on the kernel's slot (pool offset) and the final "
		   "io_tlb_used / io_tlb_used_hiwater equal the kernel's (kernel_debugfs)",
	  agree_args, verb_agree },
	{ "check", "-EBADMSG unless the figures given are what the replay produced", check_args, verb_check },
	{ NULL }
};

/* ---- reports ----------------------------------------------------------------------------------------------------------- */

static void dt_report_text(struct ccmm_actor *a, FILE *out)
{
	struct dt *s = a->priv;
	uint64_t used, hiwater;
	char t[32];

	if (!s || !s->replayed)
		return;
	pool_figures(a, &used, &hiwater);
	fprintf(out, "  trace: %s: %" PRIu64 " DMA/SWIOTLB events, %" PRIu64 " other events skipped%s%s%s, %" PRIu64
		     " lost; %" PRIu64 " calls not replayed (no SWIOTLB slot), %" PRIu64 " unmatched\n",
		s->path, s->st.events, s->st.skipped, s->st.skipped ? " (first: " : "", s->st.first_skipped,
		s->st.skipped ? ")" : "", s->st.lost, s->not_replayed, s->unmatched);
	if (s->have_kbase) {
		fprintf(out, "  agreement: %" PRIu64 " mappings compared, %" PRIu64 " agreed, %" PRIu64
			     " diverged; %" PRIu64 " of uncertain order (%" PRIu64 " of them diverged); %" PRIu64
			     " not comparable, %" PRIu64 " orphans\n",
			s->ag.compared, s->ag.agreed, s->ag.diverged, s->ag.uncertain, s->ag.uncertain_diverged,
			s->ag.not_compared, s->ag.orphans);
		if (s->ag.kernel_known)
			fprintf(out, "  io_tlb_used: kernel %" PRIu64 ", ccmm %" PRIu64 "; io_tlb_used_hiwater: kernel %" PRIu64
				     ", ccmm %" PRIu64 "\n",
				s->ag.kernel_used, used, s->ag.kernel_hiwater, hiwater);
		if (s->ag.first[0])
			fprintf(out, "  first divergence: %s\n", s->ag.first);
		if (s->ag.first_uncertain[0])
			fprintf(out, "  first divergence of uncertain order: %s\n", s->ag.first_uncertain);
	}
	for (int i = 0; i < s->ndevs; i++) {
		struct tdev *d = &s->devs[i];

		fprintf(out, "  device %s (%s): ", d->name, d->d->desc->name);
		if (d->bind_err) {
			fprintf(out, "probe refused (%s): %" PRIu64 " calls not made\n", strerror(-d->bind_err), d->refused);
			continue;
		}
		fprintf(out, "%" PRIu64 " maps (%" PRIu64 " bounced, %" PRIu64 " failed), %" PRIu64 " unmaps, %" PRIu64
			     " syncs, %" PRIu64 " coherent; %" PRIu64 " bytes bounced, %" PRIu64 " slots, %" PRIu64
			     " pages made shared; %s modeled\n",
			d->f.maps, d->f.bounced, d->f.map_fail, d->f.unmaps, d->f.syncs, d->f.coherent, d->f.bounce_bytes,
			d->f.slots, d->f.to_shared, ccmm_format_ns(d->f.ns, t, sizeof(t)));
	}
}

static void dt_report_json(struct ccmm_actor *a, void *json)
{
	struct dt *s = a->priv;
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(a->run->m);
	json_t *jt = json_object(), *jd = json_array();
	uint64_t used, hiwater;

	if (!s || !s->replayed) {
		json_decref(jt);
		json_decref(jd);
		return;
	}
	pool_figures(a, &used, &hiwater);
	json_object_set_new(jt, "trace", json_string(s->path));
	json_object_set_new(jt, "events", json_integer((json_int_t)s->st.events));
	json_object_set_new(jt, "skipped", json_integer((json_int_t)s->st.skipped));
	json_object_set_new(jt, "first_skipped", json_string(s->st.first_skipped));
	json_object_set_new(jt, "lost", json_integer((json_int_t)s->st.lost));
	json_object_set_new(jt, "not_replayed", json_integer((json_int_t)s->not_replayed));
	json_object_set_new(jt, "unmatched", json_integer((json_int_t)s->unmatched));
	if (s->have_kbase) {
		json_t *ag = json_object();

		json_object_set_new(ag, "compared", json_integer((json_int_t)s->ag.compared));
		json_object_set_new(ag, "agreed", json_integer((json_int_t)s->ag.agreed));
		json_object_set_new(ag, "diverged", json_integer((json_int_t)s->ag.diverged));
		json_object_set_new(ag, "uncertain", json_integer((json_int_t)s->ag.uncertain));
		json_object_set_new(ag, "uncertain_diverged", json_integer((json_int_t)s->ag.uncertain_diverged));
		json_object_set_new(ag, "not_compared", json_integer((json_int_t)s->ag.not_compared));
		json_object_set_new(ag, "orphans", json_integer((json_int_t)s->ag.orphans));
		json_object_set_new(ag, "first_divergence", json_string(s->ag.first));
		json_object_set_new(ag, "first_uncertain_divergence", json_string(s->ag.first_uncertain));
		if (s->ag.kernel_known) {
			json_object_set_new(ag, "kernel_io_tlb_used", json_integer((json_int_t)s->ag.kernel_used));
			json_object_set_new(ag, "kernel_io_tlb_used_hiwater", json_integer((json_int_t)s->ag.kernel_hiwater));
		}
		json_object_set_new(jt, "agreement", ag);
	}
	if (mem) {
		struct ccmm_swiotlb_stats st;
		json_t *jp = json_object();

		ccmm_swiotlb_stats(mem, &st);
		json_object_set_new(jp, "io_tlb_nslabs", json_integer((json_int_t)st.io_tlb_nslabs));
		json_object_set_new(jp, "io_tlb_used", json_integer((json_int_t)used));
		json_object_set_new(jp, "io_tlb_used_hiwater", json_integer((json_int_t)hiwater));
		json_object_set_new(jp, "shared_pages", json_integer((json_int_t)st.share_pages));
		json_object_set_new(jp, "share_ns", json_integer((json_int_t)st.share_ns));
		json_object_set_new(jt, "pool", jp);
	}
	for (int i = 0; i < s->ndevs; i++) {
		struct tdev *d = &s->devs[i];
		json_t *o = json_object();

		json_object_set_new(o, "name", json_string(d->name));
		json_object_set_new(o, "platform_device", json_string(d->d->desc->name));
		json_object_set_new(o, "bound", json_boolean(!d->bind_err));
		json_object_set_new(o, "bind_error", json_integer(d->bind_err));
		json_object_set_new(o, "refused", json_integer((json_int_t)d->refused));
		json_object_set_new(o, "maps", json_integer((json_int_t)d->f.maps));
		json_object_set_new(o, "bounced", json_integer((json_int_t)d->f.bounced));
		json_object_set_new(o, "map_failures", json_integer((json_int_t)d->f.map_fail));
		json_object_set_new(o, "unmaps", json_integer((json_int_t)d->f.unmaps));
		json_object_set_new(o, "syncs", json_integer((json_int_t)d->f.syncs));
		json_object_set_new(o, "coherent", json_integer((json_int_t)d->f.coherent));
		json_object_set_new(o, "bounce_bytes", json_integer((json_int_t)d->f.bounce_bytes));
		json_object_set_new(o, "slots", json_integer((json_int_t)d->f.slots));
		json_object_set_new(o, "to_shared", json_integer((json_int_t)d->f.to_shared));
		json_object_set_new(o, "to_private", json_integer((json_int_t)d->f.to_private));
		json_object_set_new(o, "conversion_calls", json_integer((json_int_t)d->f.conversion_calls));
		json_object_set_new(o, "modeled_ns", json_integer((json_int_t)d->f.ns));
		json_array_append_new(jd, o);
	}
	json_object_set_new(jt, "devices", jd);
	json_object_set_new(json, "dma_trace", jt);
}

const struct ccmm_actor_kind _ccmm_kind_dma_trace = {
	.name = "dma_trace",
	.help = "replay a real kernel's DMA-API trace (ftrace dma:*, swiotlb:*) through the DMA API, each call on its CPU, "
		"and hold it against the kernel's answers",
	.options = dt_options,
	.opts_size = sizeof(struct dt_opts),
	.verbs = dt_verbs,
	.check = dt_check,
	.start = dt_start,
	.stop = dt_stop,
	.report_text = dt_report_text,
	.report_json = dt_report_json,
};
