// SPDX-License-Identifier: MIT
/*
 * The SGX actor kinds and run extension:
 *   enclave      a process that builds an enclave in a cgroup (ECREATE,
 *                EADD, EINIT) and runs it: replays a real program's page
 *                references, or random ones, then exits and releases it
 *   vepc_guest   a VMM giving a guest virtual EPC: touches it, releases it
 *   the "sgx" run extension: [global] sgx_reclaim = series|global|cgroup,
 *                sgx_eaug_race_bug; per-cgroup figures and fairness in
 *                the report; the leak check at the end
 *
 * Trace pages map onto the enclave first-touch: the n-th distinct page the
 * trace references becomes enclave page n (page 0 is the TCS), so sparse
 * address spaces fit; a trace with more distinct pages than the enclave
 * has is rejected at the line of the first page that does not fit. With
 * map = linear, page (vpn - trace_base) is used instead and a reference
 * outside ELRANGE is rejected at its line.
 *
 * The trace is decoded once: the load-time check streams it (zstd/zlib,
 * a line at a time), rejects what does not fit, and keeps the references
 * already mapped to enclave pages (page << 1 | write) as small as they can
 * be kept (struct ccmm_trace_keep: a byte each, a code into a table of the
 * values of its block of 64k, while page numbers fit 15 bits; else 4 bytes):
 * their memory, fresh from the kernel, costs more than their decoding.
 * Every run replays them from memory in batches. A trace of more than PACK_MAX_REFS references is
 * not kept: the run streams it again.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"
#include "sgx/sgx.h"
#include "trace/trace.h"

#define ENCL_BASE_MIN (1ULL << 40) /* enclaves are mapped above 1 TiB */
#define BUILD_CHUNK 64             /* pages EADDed per step */
#define PACK_MAX_REFS (32u << 20)  /* references kept from the check (32-128 MiB); more: decoded again by the run */

/* ---- a vpn -> enclave page map ------------------------------------------------------- */

struct vmap {
	uint64_t *keys; /* vpn + 1; 0: empty */
	uint32_t *vals;
	size_t cap, n;
	size_t max; /* the table's size when full: at most max / 2 pages (cap grows up to it) */
};

#define VMAP_FIRST_CAP 1024 /* a table starts this small and doubles as it fills: a run zeroes what it uses */

/* A map for up to @want pages (the table is sized for it as it fills; 0 or -ENOMEM). */
static int vmap_init(struct vmap *v, size_t want)
{
	v->max = 64;
	while (v->max < want * 2)
		v->max *= 2;
	v->cap = CCMM_MIN(v->max, (size_t)VMAP_FIRST_CAP);
	v->keys = calloc(v->cap, sizeof(*v->keys));
	v->vals = calloc(v->cap, sizeof(*v->vals));
	v->n = 0;
	return v->keys && v->vals ? 0 : -ENOMEM;
}

static void vmap_free(struct vmap *v)
{
	free(v->keys);
	free(v->vals);
	memset(v, 0, sizeof(*v));
}

static size_t vmap_slot(const struct vmap *v, uint64_t vpn)
{
	uint64_t h = (vpn + 1) * 0x9e3779b97f4a7c15ULL;
	size_t i = (size_t)(h >> 20) & (v->cap - 1);

	while (v->keys[i] && v->keys[i] != vpn + 1)
		i = (i + 1) & (v->cap - 1);
	return i;
}

/* Double the table (rehash every page into it; the values, first-touch order, do not move). 0 or -ENOMEM. */
static __attribute__((noinline)) int vmap_grow(struct vmap *v)
{
	struct vmap w = { calloc(v->cap * 2, sizeof(*v->keys)), calloc(v->cap * 2, sizeof(*v->vals)), v->cap * 2, v->n, v->max };

	if (!w.keys || !w.vals) {
		free(w.keys);
		free(w.vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < v->cap; i++) {
		if (v->keys[i]) {
			size_t j = vmap_slot(&w, v->keys[i] - 1);

			w.keys[j] = v->keys[i];
			w.vals[j] = v->vals[i];
		}
	}
	free(v->keys);
	free(v->vals);
	*v = w;
	return 0;
}

/*
 * The page of @vpn, assigning the next one on first touch. -ENOSPC when the
 * map is full (@limit pages, or half its largest table), -ENOMEM when the
 * table cannot grow.
 */
static inline __attribute__((always_inline)) int vmap_get(struct vmap *v, uint64_t vpn, uint64_t limit, uint32_t *out)
{
	size_t i = vmap_slot(v, vpn);

	if (v->keys[i]) {
		*out = v->vals[i];
		return 0;
	}
	if (v->n >= limit || v->n * 2 >= v->max)
		return -ENOSPC;
	if (v->n * 2 >= v->cap) {
		if (vmap_grow(v))
			return -ENOMEM;
		i = vmap_slot(v, vpn);
	}
	v->keys[i] = vpn + 1;
	v->vals[i] = (uint32_t)v->n++;
	*out = v->vals[i];
	return 0;
}

/*
 * The packed value of a mapped @vpn's page, ((page + 1) << 1), the write
 * bit clear, in *@pv; false when @vpn is not mapped or its page does not
 * fit the 15 bits a kept 2-byte value has.
 */
static inline bool vmap_pv(const struct vmap *v, uint64_t vpn, uint16_t *pv)
{
	size_t i = vmap_slot(v, vpn);

	if (!v->keys[i] || v->vals[i] >= UINT16_MAX / 2)
		return false;
	*pv = (uint16_t)((v->vals[i] + 1) << 1);
	return true;
}

/* ---- enclave: options and the load-time checks -------------------------------------- */

static const char *const formats[] = { "auto", "lackey", "addr", NULL };
static const char *const maps[] = { "first-touch", "linear", NULL };

struct encl_opts {
	char cgroup[256];
	uint64_t size;
	uint64_t eadd;
	char trace[256];
	int format;
	bool instructions;
	uint64_t refs;
	uint64_t write_pct;
	int map;
	uint64_t trace_base;
	uint64_t batch;
	char done[48];
	bool measure;
	/* worked out by the check, not options */
	uint64_t pages;
	char trace_path[600];
	/* the trace's references, decoded once: enclave page << 1 | write, a byte each while they can be */
	struct ccmm_trace_keep keep;
	bool use_packed;           /* every reference to replay is in keep */
};

#define EOPT(f) offsetof(struct encl_opts, f)

static const struct ccmm_option encl_options[] = {
	{ "cgroup", CCMM_OPT_STR, EOPT(cgroup), 0, 256, false, NULL, "/",
	  "the cgroup the process runs in (cgexec -g misc:PATH); a cgroup actor's mkdir must create it" },
	{ "size", CCMM_OPT_U64, EOPT(size), 0, 1ULL << 40, true, NULL, "0",
	  "ELRANGE in bytes, a power of two (0: enough for the trace, or 1m)" },
	{ "eadd", CCMM_OPT_U64, EOPT(eadd), 0, 1ULL << 40, true, NULL, "0",
	  "bytes EADDed at build, from the start of ELRANGE (0: all of it); the rest is EAUGed on first touch (SGX2)" },
	{ "trace", CCMM_OPT_STR, EOPT(trace), 0, 256, false, NULL, "",
	  "page-reference trace to replay (lackey or l|s, plain/gzip/zstd; relative to the job)" },
	{ "trace_format", CCMM_OPT_ENUM, EOPT(format), 0, 0, false, formats, "auto", "trace format" },
	{ "instructions", CCMM_OPT_BOOL, EOPT(instructions), 0, 0, false, NULL, "no",
	  "keep lackey instruction fetches as references" },
	{ "refs", CCMM_OPT_U64, EOPT(refs), 0, 0, false, NULL, "0",
	  "references to replay (0: the whole trace; without a trace: 64 random ones)" },
	{ "write_pct", CCMM_OPT_U64, EOPT(write_pct), 0, 100, false, NULL, "30", "random references: percent that write" },
	{ "map", CCMM_OPT_ENUM, EOPT(map), 0, 0, false, maps, "first-touch",
	  "how trace pages land in the enclave: first-touch (n-th distinct page -> page n) or linear (vpn - trace_base)" },
	{ "trace_base", CCMM_OPT_U64, EOPT(trace_base), 0, 0, true, NULL, "0", "map = linear: the address of enclave page 0" },
	{ "batch", CCMM_OPT_U64, EOPT(batch), 1, 1000000, false, NULL, "256",
	  "references per scheduling step (how finely enclaves interleave)" },
	{ "done", CCMM_OPT_STR, EOPT(done), 0, 48, false, NULL, "", "event signalled when the process exits" },
	{ "measure", CCMM_OPT_BOOL, EOPT(measure), 0, 0, false, NULL, "yes", "EEXTEND every added page" },
	{ NULL }
};

static bool platform_has_epc(const struct ccmm_platform *p)
{
	for (size_t i = 0; i < p->nr_ranges; i++)
		if (p->ranges[i].kind == CCMM_RANGE_EPC)
			return true;
	return false;
}

static uint64_t pow2_at_least(uint64_t n)
{
	uint64_t p = 2;

	while (p < n)
		p <<= 1;
	return p;
}

/* "1st", "2nd", "3rd", "4th", "11th", "22nd" */
static const char *ordinal(uint64_t n, char *buf, size_t len)
{
	const char *suf = "th";

	if (n % 100 < 11 || n % 100 > 13)
		suf = n % 10 == 1 ? "st" : n % 10 == 2 ? "nd" : n % 10 == 3 ? "rd" : "th";
	snprintf(buf, len, "%" PRIu64 "%s", n, suf);
	return buf;
}

static void drop_packed(struct encl_opts *o)
{
	ccmm_keep_free(&o->keep);
	o->use_packed = false;
}

/* Keep one reference to enclave page @page for the runs; past PACK_MAX_REFS keep none. 0 or -ENOMEM. */
static int pack(struct encl_opts *o, uint64_t page, bool write)
{
	if (!o->use_packed)
		return 0;
	if (o->keep.n == PACK_MAX_REFS || page >= (1u << 30)) {
		drop_packed(o); /* the run streams the trace again */
		return 0;
	}
	return ccmm_keep_put(&o->keep, (uint32_t)(page << 1 | write));
}

/*
 * Read the trace as the run will: its syntax, and whether its pages fit the
 * enclave. The references are kept (o->keep) so that the run need not
 * decode the trace again.
 */
/* The error of a reference at @r outside ELRANGE (map = linear). */
static int outside(struct ccmm_actor *a, const struct encl_opts *o, const struct ccmm_page_ref *r, uint64_t limit,
		   struct ccmm_error *err)
{
	struct ccmm_loc loc = { o->trace_path, (int)r->line };

	return ccmm_error_set(err, &loc, -ERANGE,
			      "address 0x%" PRIx64 " is outside the enclave [%s]: ELRANGE maps "
			      "0x%" PRIx64 "..0x%" PRIx64 " (map=linear, trace_base, size=%" PRIu64 ")",
			      r->vpn << CCMM_PAGE_SHIFT, a->name, o->trace_base, o->trace_base + (limit << CCMM_PAGE_SHIFT),
			      o->size);
}

/* The error of a page at @r that does not fit the first-touch map @v. */
static int no_room(struct ccmm_actor *a, const struct encl_opts *o, const struct vmap *v,
		   const struct ccmm_page_ref *r, uint64_t limit, struct ccmm_error *err)
{
	struct ccmm_loc loc = { o->trace_path, (int)r->line };
	char ord[32];

	if (v->n >= limit)
		return ccmm_error_set(err, &loc, -ERANGE,
				      "the trace touches a %s distinct page (0x%" PRIx64 ") but enclave [%s] "
				      "has room for %" PRIu64 " (size=%" PRIu64 ": %" PRIu64 " pages, one is the TCS)",
				      ordinal(limit + 1, ord, sizeof(ord)), r->vpn << CCMM_PAGE_SHIFT, a->name, limit, o->size,
				      o->size >> CCMM_PAGE_SHIFT);
	/* no size: the map's table holds at most max / 2 pages */
	return ccmm_error_set(err, &loc, -E2BIG,
			      "the trace touches a %s distinct page (0x%" PRIx64 ") but an enclave without a size "
			      "maps at most %zu: give enclave [%s] a size",
			      ordinal(v->n + 1, ord, sizeof(ord)), r->vpn << CCMM_PAGE_SHIFT, v->max / 2, a->name);
}

/*
 * Read the trace as the run will: its syntax, and whether its pages fit the
 * enclave. The references are kept (o->keep) so that the run need not
 * decode the trace again. They come from the reader a block at a time and
 * each is mapped and kept in one loop without a call (the common case).
 */
static int prescan(struct ccmm_actor *a, struct encl_opts *o, struct ccmm_error *err)
{
	struct ccmm_trace_opts to = { (enum ccmm_trace_format)o->format, o->instructions, false };
	uint64_t limit = o->size ? (o->size >> CCMM_PAGE_SHIFT) - 1 : UINT32_MAX, n = 0, max_page = 0;
	uint64_t base = o->trace_base >> CCMM_PAGE_SHIFT;
	struct ccmm_page_ref rb[256];
	/*
	 * The front table, direct-mapped by a page's low bits: vpn + 1 (0:
	 * empty) -> its kept value (enclave page << 1), for pages that fit 16
	 * bits, and the kept store's codes of its read and its write (0: none)
	 * under the store's code generation front_gen (when it moves, every
	 * code here is forgotten).
	 */
	uint64_t front_key[1024] = { 0 };
	uint16_t front_pv[1024];
	uint8_t front_code[1024][2];
	uint64_t front_gen = 0;
	struct ccmm_trace *t;
	struct vmap v = { 0 };
	int ret = 0;

	ret = ccmm_trace_open(o->trace_path, &to, &t, err);
	if (ret)
		return ret;
	if (o->map == 0 && vmap_init(&v, o->size ? limit : 1 << 16)) {
		ccmm_trace_close(t);
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	}
	drop_packed(o);
	o->use_packed = true;
	while (!ret && (!o->refs || n < o->refs)) {
		long got = ccmm_trace_read(t, rb, (size_t)(o->refs ? CCMM_MIN(o->refs - n, CCMM_ARRAY_SIZE(rb))
								   : CCMM_ARRAY_SIZE(rb)), err);

		if (got <= 0) {
			ret = (int)got;
			break;
		}
		n += (uint64_t)got;
		if (o->map == 0 && o->use_packed && o->keep.n + (uint64_t)got <= PACK_MAX_REFS) {
			/*
			 * The common case, without a call per reference: every
			 * page already mapped and in the front table with its
			 * code in the current block of the kept store: the codes
			 * are kept together. A page seen lately but not with
			 * codes of this block, or found in the hash: kept by
			 * value (ccmm_keep_put), and its codes noted.
			 */
			uint8_t codes[CCMM_ARRAY_SIZE(rb)];
			long k = 0;

			while (k < got) {
				uint64_t gen, vpn;
				size_t room = ccmm_keep_code_room(&o->keep, &gen), j;
				const struct ccmm_page_ref *r = rb + k, *end = r + CCMM_MIN(room, (size_t)(got - k));
				uint8_t *c = codes;
				uint16_t pv;

				if (!room) {
					/*
					 * No codes now (a block of 2-byte values, a
					 * block to start): the rest of these references
					 * by value, kept together by ccmm_keep_put16.
					 */
					uint16_t pvw[CCMM_ARRAY_SIZE(rb)];
					long k0 = k;

					for (; k < got; k++) {
						vpn = rb[k].vpn;
						j = (size_t)vpn & (CCMM_ARRAY_SIZE(front_key) - 1);
						if (front_key[j] == vpn + 1) {
							pv = front_pv[j];
						} else {
							if (!vmap_pv(&v, vpn, &pv))
								break;
							front_key[j] = vpn + 1;
							front_pv[j] = pv;
							front_code[j][0] = front_code[j][1] = 0;
						}
						pvw[k - k0] = pv | rb[k].write;
					}
					if (ccmm_keep_put16(&o->keep, pvw, (size_t)(k - k0)))
						ret = ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
					break;
				}
				if (gen != front_gen) {
					memset(front_code, 0, sizeof(front_code));
					front_gen = gen;
				}
				for (; r < end; r++, c++) {
					j = (size_t)r->vpn & (CCMM_ARRAY_SIZE(front_key) - 1);
					if (front_key[j] != r->vpn + 1 || !(*c = front_code[j][r->write]))
						break;
				}
				ccmm_keep_put_codes(&o->keep, codes, (size_t)(c - codes));
				k = r - rb;
				if (k == got)
					break;
				vpn = rb[k].vpn;
				j = (size_t)vpn & (CCMM_ARRAY_SIZE(front_key) - 1);
				if (front_key[j] == vpn + 1) {
					pv = front_pv[j];
				} else if (!vmap_pv(&v, vpn, &pv)) {
					break;
				}
				if (ccmm_keep_put(&o->keep, pv | rb[k].write)) {
					ret = ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
					break;
				}
				/* its codes now: under this generation, or none (forgotten at the next round's check) */
				front_key[j] = vpn + 1;
				front_pv[j] = pv;
				front_code[j][0] = ccmm_keep_code(&o->keep, pv);
				front_code[j][1] = ccmm_keep_code(&o->keep, pv | 1);
				k++;
			}
			if (ret)
				continue;
			if (k == got)
				continue;
			memmove(rb, rb + k, (size_t)(got - k) * sizeof(*rb));
			got -= k;
		}
		for (long k = 0; k < got && !ret; k++) {
			uint64_t page;

			if (o->map == 1) {
				if (rb[k].vpn < base || (o->size && rb[k].vpn - base + 1 > limit)) {
					ret = outside(a, o, &rb[k], limit, err);
					break;
				}
				page = rb[k].vpn - base + 1;
				max_page = CCMM_MAX(max_page, page);
			} else {
				uint32_t p;
				int got_page = vmap_get(&v, rb[k].vpn, limit, &p);

				if (got_page) {
					ret = got_page == -ENOMEM ? ccmm_error_set(err, NULL, -ENOMEM, "out of memory")
								  : no_room(a, o, &v, &rb[k], limit, err);
					break;
				}
				page = (uint64_t)p + 1;
			}
			if (pack(o, page, rb[k].write))
				ret = ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
		}
	}
	ccmm_trace_close(t);
	if (!ret && !n)
		ret = ccmm_error_set(err, NULL, -EINVAL, "%s: no page references in the trace", o->trace_path);
	if (ret < 0) {
		vmap_free(&v);
		drop_packed(o);
		return ret;
	}
	if (!o->size)
		o->size = pow2_at_least((o->map ? max_page : v.n) + 1) << CCMM_PAGE_SHIFT;
	vmap_free(&v);
	return 0;
}

/* host bytes an enclave keeps per page of ELRANGE besides its data: its page record, walk memo, backing and memcg pointers */
#define ENCL_PAGE_HOST_BYTES (sizeof(struct ccmm_sgx_encl_page) + sizeof(uint64_t) + 2 * sizeof(void *))

static int enclave_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct encl_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };
	char what[96];
	int ret;

	snprintf(what, sizeof(what), "[%s] cgroup", a->name);
	ret = ccmm_cgroup_job_path_check(job, o->cgroup, &loc, what, err);
	if (ret)
		return ret;
	if (!platform_has_epc(job->plat))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: the platform '%s' has no EPC ([epc:NAME] section)", a->name,
				      job->plat->name);
	if (o->size && (o->size < 2 * CCMM_PAGE_SIZE || (o->size & (o->size - 1))))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: size=%" PRIu64 ": ELRANGE is a power of two of at least 8k",
				      a->name, o->size);
	if (o->map == 1 && !o->trace[0])
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: map=linear needs a trace", a->name);
	if (o->trace[0]) {
		if (o->trace[0] == '/')
			snprintf(o->trace_path, sizeof(o->trace_path), "%s", o->trace);
		else
			snprintf(o->trace_path, sizeof(o->trace_path), "%.340s/%.250s", job->dir, o->trace);
		ret = prescan(a, o, err);
		if (ret)
			return ret;
	} else if (!o->size) {
		o->size = CCMM_MiB;
	}
	o->pages = o->size >> CCMM_PAGE_SHIFT;
	if (o->eadd > o->size || !CCMM_IS_ALIGNED(o->eadd, CCMM_PAGE_SIZE))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: eadd=%" PRIu64 " must be whole pages within size=%" PRIu64,
				      a->name, o->eadd, o->size);
	{
		/* the EADDed pages' bytes live in the EPC or in their backing, both host memory, plus each page's records */
		uint64_t need = (o->eadd ? o->eadd : o->size) + o->pages * ENCL_PAGE_HOST_BYTES;
		char sz[32], ea[32], n[32], lim[32];

		if (need > ccmm_platform_host_limit())
			return ccmm_error_set(err, &loc, -ENOMEM,
					      "[%s]: an enclave of %s (EADDing %s) needs %s of host memory to model, more than the limit of %s (half the host's RAM; CCMM_HOST_RAM sets another)",
					      a->name, ccmm_format_size(o->size, sz, sizeof(sz)),
					      o->eadd ? ccmm_format_size(o->eadd, ea, sizeof(ea)) : "all of it",
					      ccmm_format_size(need, n, sizeof(n)), ccmm_format_size(ccmm_platform_host_limit(), lim, sizeof(lim)));
	}
	return 0;
}

/* ---- enclave: the run ---------------------------------------------------------------- */

enum encl_phase { PH_START, PH_BUILD, PH_RUN, PH_DONE };

struct encl_state {
	enum encl_phase phase;
	struct ccmm_mm *mm;
	struct ccmm_task *task;
	struct ccmm_sgx_current cur;
	struct ccmm_sgx_encl *encl;
	struct ccmm_sgx_thread thr;
	uint64_t base, added, refs;
	struct ccmm_trace *trace;
	struct vmap map;
	char cgroup[256];
	/* figures kept after the enclave is gone */
	uint64_t ewb, eldu, eaug, faults, peak_epc;
};

static int enclave_start(struct ccmm_actor *a)
{
	struct encl_opts *o = a->opts;
	struct encl_state *s = calloc(1, sizeof(*s));
	struct ccmm_machine *m = a->run->m;
	int ret;

	if (!s)
		return -ENOMEM;
	a->priv = s;
	snprintf(s->cgroup, sizeof(s->cgroup), "%s", o->cgroup);
	ret = ccmm_mm_create(m, m->plat->mode == CCMM_CC_TDX ? CCMM_INIT_HOST : CCMM_INIT_USER, a->name, &s->mm);
	if (ret)
		return ret;
	if (o->trace[0] && !o->use_packed) {
		struct ccmm_trace_opts to = { (enum ccmm_trace_format)o->format, o->instructions, false };
		struct ccmm_error err;

		ret = ccmm_trace_open(o->trace_path, &to, &s->trace, &err);
		if (ret) {
			char msg[600];

			ccmm_error_format(&err, msg, sizeof(msg));
			return ccmm_run_fail(a, NULL, ret, "%s", msg);
		}
		if (o->map == 0 && vmap_init(&s->map, o->pages))
			return -ENOMEM;
	}
	s->base = CCMM_ALIGN_UP(ENCL_BASE_MIN, o->size);
	return 0;
}

static void keep_figures(struct encl_state *s)
{
	if (!s->encl)
		return;
	s->ewb = atomic_load(&s->encl->nr_ewb);
	s->eldu = atomic_load(&s->encl->nr_eldu);
	s->eaug = atomic_load(&s->encl->nr_eaug);
	s->faults = atomic_load(&s->encl->nr_faults);
}

/* The process exits: the enclave goes (fd closed, ELRANGE unmapped), the task leaves its cgroup. */
static void enclave_release(struct ccmm_actor *a, struct encl_state *s)
{
	struct encl_opts *o = a->opts;

	if (s->thr.inside)
		ccmm_sgx_exit(&s->thr);
	if (s->encl) {
		keep_figures(s);
		ccmm_sgx_encl_put(&a->ctx, s->encl);
		ccmm_munmap(&a->ctx, s->mm, s->base, o->size);
		s->encl = NULL;
	}
	if (s->task) {
		ccmm_task_exit(ccmm_cgroup_root_of(a->run->m), s->task);
		s->task = NULL;
		s->cur.task = NULL;
	}
}

static int finish(struct ccmm_actor *a, struct encl_state *s, int status, const char *why)
{
	struct encl_opts *o = a->opts;

	enclave_release(a, s);
	ccmm_actor_exit(a, status, why);
	if (o->done[0])
		ccmm_run_signal(a->run, o->done, 1, a->ctx.now_ns);
	s->phase = PH_DONE;
	return 1;
}

/* The exit status of a failed system call or a fatal signal. */
static int fail(struct ccmm_actor *a, struct encl_state *s, const char *what, int err)
{
	int sig = ccmm_task_signal_pending(s->task);
	char why[96];

	if (sig) {
		snprintf(why, sizeof(why), "killed by %s during %s", sig == SIGKILL ? "SIGKILL" : "SIGBUS", what);
		return finish(a, s, 128 + sig, why);
	}
	snprintf(why, sizeof(why), "%s failed: %s", what, strerror(-err));
	return finish(a, s, 1, why);
}

static int step_start(struct ccmm_actor *a, struct encl_state *s)
{
	struct encl_opts *o = a->opts;
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(a->run->m);
	struct ccmm_cgroup *cg = ccmm_cgroup_lookup(root, o->cgroup);
	int ret;

	if (!cg)
		return ccmm_run_fail(a, NULL, -ENOENT,
				     "cgroup '%s' does not exist when the enclave starts: order it after the mkdir with signal/wait",
				     o->cgroup);
	ret = ccmm_task_create(root, a->name, s->mm, cg, &s->task);
	ccmm_cgroup_put(cg);
	if (ret)
		return ccmm_run_fail(a, NULL, ret, "cannot run in cgroup '%s': %s", o->cgroup,
				     ret == -EBUSY ? "it enables controllers for its children (no internal processes)"
						   : strerror(-ret));
	s->cur.ctx = &a->ctx;
	s->cur.task = s->task;
	s->cur.mm = s->mm;
	ret = ccmm_sgx_encl_create(&s->cur, s->base, o->size, a->name, &s->encl);
	if (ret) {
		s->encl = NULL;
		return fail(a, s, "SGX_IOC_ENCLAVE_CREATE", ret);
	}
	s->phase = PH_BUILD;
	return 0;
}

static int step_build(struct ccmm_actor *a, struct encl_state *s)
{
	struct encl_opts *o = a->opts;
	uint64_t want = o->eadd ? CCMM_MAX(1, o->eadd >> CCMM_PAGE_SHIFT) : o->pages;
	uint64_t n = CCMM_MIN(BUILD_CHUNK, want - s->added);
	long got;
	int err = 0;

	if (s->added == 0) {
		got = ccmm_sgx_encl_add_pages(&s->cur, s->encl, 0, 1, CCMM_PT_TCS, CCMM_EPCM_R | CCMM_EPCM_W, NULL, o->measure,
					      &err);
		n = 0;
	} else {
		got = ccmm_sgx_encl_add_pages(&s->cur, s->encl, s->added, n, CCMM_PT_REG, CCMM_EPCM_R | CCMM_EPCM_W, NULL,
					      o->measure, &err);
	}
	if (got > 0)
		s->added += (uint64_t)got;
	if (err)
		return fail(a, s, "SGX_IOC_ENCLAVE_ADD_PAGES", err);
	if (s->added < want)
		return 0;
	err = ccmm_sgx_encl_init(&s->cur, s->encl);
	if (err)
		return fail(a, s, "SGX_IOC_ENCLAVE_INIT", err);
	s->phase = PH_RUN;
	ccmm_actor_milestone(a, "built");
	return 0;
}

/* The next reference: 1 with the page and the access, 0 at the end, < 0 a trace error (run error). */
static int next_ref(struct ccmm_actor *a, struct encl_state *s, uint64_t *page, bool *write)
{
	struct encl_opts *o = a->opts;
	uint64_t max = o->refs ? o->refs : o->trace[0] ? UINT64_MAX : 64;
	struct ccmm_page_ref r;
	struct ccmm_error err;
	int ret;

	if (s->refs >= max)
		return 0;
	if (!s->trace) {
		*page = 1 + ccmm_rng_range(&a->ctx.rng, 0, o->pages - 2);
		*write = ccmm_rng_range(&a->ctx.rng, 0, 99) < o->write_pct;
		return 1;
	}
	ret = ccmm_trace_next(s->trace, &r, &err);
	if (ret < 0) {
		char msg[600];

		ccmm_error_format(&err, msg, sizeof(msg));
		return ccmm_run_fail(a, NULL, ret, "%s", msg);
	}
	if (!ret)
		return 0;
	*write = r.write;
	if (o->map == 1) {
		*page = 1 + r.vpn - (o->trace_base >> CCMM_PAGE_SHIFT);
	} else {
		uint32_t idx;
		int got_page = vmap_get(&s->map, r.vpn, o->pages - 1, &idx);

		if (got_page == -ENOMEM)
			return ccmm_run_fail(a, NULL, -ENOMEM, "out of memory");
		if (got_page)
			return ccmm_run_fail(a, NULL, -ERANGE, "%s:%u: the trace changed since it was checked",
					     o->trace_path, r.line);
		*page = 1 + idx;
	}
	if (*page >= o->pages)
		return ccmm_run_fail(a, NULL, -ERANGE, "%s:%u: outside the enclave", o->trace_path, r.line);
	return 1;
}

static int step_run(struct ccmm_actor *a, struct encl_state *s)
{
	struct encl_opts *o = a->opts;
	bool end = false;
	uint64_t epc;
	int ret = 0;

	ccmm_sgx_enter(&s->thr, s->encl);
	if (o->use_packed) {
		/* the decoded trace, a batch at a time (a fault that waits for reclaim sleeps in there) */
		uint64_t want = CCMM_MIN(o->batch, o->keep.n - s->refs), left = want;

		while (left && !ret) {
			struct ccmm_keep_piece p;
			size_t n = ccmm_keep_get(&o->keep, s->refs, left, &p);
			long done = p.width == 1   ? ccmm_sgx_encl_access_batch8(&s->cur, &s->thr, p.refs, p.dict, n, &ret)
				    : p.width == 2 ? ccmm_sgx_encl_access_batch16(&s->cur, &s->thr, p.refs, n, &ret)
						   : ccmm_sgx_encl_access_batch(&s->cur, &s->thr, p.refs, n, &ret);

			s->refs += (uint64_t)done;
			left -= (uint64_t)done;
		}
		/* as the reference-by-reference loop: a batch that ends exactly at the end finds it next step */
		end = !ret && s->refs == o->keep.n && want < o->batch;
		goto out;
	}
	for (uint64_t i = 0; i < o->batch; i++) {
		uint64_t page = 0;
		bool write = false;

		ret = next_ref(a, s, &page, &write);
		if (ret <= 0) {
			end = !ret;
			break;
		}
		/* a fault that waits for reclaim sleeps in here while the others (ksgxd too) run */
		ret = ccmm_sgx_encl_access(&s->cur, &s->thr, s->encl->base + page * CCMM_PAGE_SIZE, write);
		if (ret)
			break;
		s->refs++;
	}
out:
	ccmm_sgx_exit(&s->thr);
	epc = ccmm_sgx_encl_epc_pages(s->encl); /* once: it takes the enclave's lock */
	s->peak_epc = CCMM_MAX(s->peak_epc, epc);
	if (ret == -EFAULT || ret == -EINTR) {
		char why[112];
		int sig = ccmm_task_signal_pending(s->task);

		if (!sig) {
			/*
			 * An EPCM #PF (PF_SGX) that no fault handler can fix:
			 * __vdso_sgx_enter_enclave returns -EFAULT with the
			 * exception (vector 14) to the runtime, no signal.
			 */
			snprintf(why, sizeof(why), "an EPCM #PF (PF_SGX) the vDSO reported after %" PRIu64 " references",
				 s->refs);
			return finish(a, s, 1, why);
		}
		snprintf(why, sizeof(why), "%s after %" PRIu64 " references",
			 sig == SIGBUS ? "SIGBUS (EPC fault)" : sig == SIGKILL ? "killed by SIGKILL" : "killed by a signal",
			 s->refs);
		return finish(a, s, 128 + sig, why);
	}
	if (ret < 0)
		return ret; /* a run error */
	if (end) {
		char why[96];

		snprintf(why, sizeof(why), "ran %" PRIu64 " references", s->refs);
		return finish(a, s, 0, why);
	}
	return 0;
}

static int enclave_step(struct ccmm_actor *a)
{
	struct encl_state *s = a->priv;

	if (s->task && ccmm_task_signal_pending(s->task) && s->phase != PH_DONE)
		return fail(a, s, s->phase == PH_RUN ? "the run" : "the build", -EINTR);
	switch (s->phase) {
	case PH_START:
		return step_start(a, s);
	case PH_BUILD:
		return step_build(a, s);
	case PH_RUN:
		return step_run(a, s);
	default:
		return 1;
	}
}

static void enclave_stop(struct ccmm_actor *a)
{
	struct encl_state *s = a->priv;

	if (!s)
		return;
	if (s->mm) {
		enclave_release(a, s);
		ccmm_mm_destroy(&a->ctx, s->mm);
		s->mm = NULL;
	}
	ccmm_trace_close(s->trace);
	s->trace = NULL;
	vmap_free(&s->map);
	free(s); /* the report has been written by now */
	a->priv = NULL;
}

static void enclave_release_opts(struct ccmm_actor *a)
{
	drop_packed(a->opts);
}

static const struct ccmm_milestone encl_milestones[] = {
	{ "built", "the enclave is built (EADD of its pages and EINIT done), before its first reference" },
	{ NULL, NULL }
};

static const struct ccmm_actor_kind ccmm_kind_enclave = {
	.name = "enclave",
	.help = "a process that builds an SGX enclave in a cgroup and runs it on a real program's page trace",
	.options = encl_options,
	.opts_size = sizeof(struct encl_opts),
	.check = enclave_check,
	.start = enclave_start,
	.step = enclave_step,
	.stop = enclave_stop,
	.release_opts = enclave_release_opts,
	.milestones = encl_milestones,
};

/* ---- vepc_guest ----------------------------------------------------------------------- */

struct vepc_opts {
	char cgroup[256];
	uint64_t size;
};

static const struct ccmm_option vepc_options[] = {
	{ "cgroup", CCMM_OPT_STR, offsetof(struct vepc_opts, cgroup), 0, 256, false, NULL, "/",
	  "the VMM's cgroup (its vEPC is charged there)" },
	{ "size", CCMM_OPT_U64, offsetof(struct vepc_opts, size), CCMM_PAGE_SIZE, 1ULL << 40, true, NULL, "1m",
	  "the guest's virtual EPC section in bytes" },
	{ NULL }
};

struct vepc_state {
	struct ccmm_mm *mm;
	struct ccmm_task *task;
	struct ccmm_sgx_current cur;
	struct ccmm_sgx_vepc *v;
};

static int vepc_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	struct vepc_opts *o = a->opts;
	struct ccmm_loc loc = { a->where.file, a->where.line };
	char what[96];

	snprintf(what, sizeof(what), "[%s] cgroup", a->name);
	if (!platform_has_epc(job->plat))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: the platform '%s' has no EPC ([epc:NAME] section)", a->name,
				      job->plat->name);
	if (!CCMM_IS_ALIGNED(o->size, CCMM_PAGE_SIZE))
		return ccmm_error_set(err, &loc, -EINVAL, "[%s]: size=%" PRIu64 " is not a whole number of pages", a->name,
				      o->size);
	if ((o->size >> CCMM_PAGE_SHIFT) * sizeof(void *) > ccmm_platform_host_limit()) {
		char sz[32], lim[32];

		return ccmm_error_set(err, &loc, -ENOMEM,
				      "[%s]: a vEPC of %s needs more host memory to model than the limit of %s (half the host's RAM; CCMM_HOST_RAM sets another)",
				      a->name, ccmm_format_size(o->size, sz, sizeof(sz)),
				      ccmm_format_size(ccmm_platform_host_limit(), lim, sizeof(lim)));
	}
	return ccmm_cgroup_job_path_check(job, o->cgroup, &loc, what, err);
}

static int vepc_start(struct ccmm_actor *a)
{
	struct vepc_state *s = calloc(1, sizeof(*s));
	struct ccmm_machine *m = a->run->m;

	if (!s)
		return -ENOMEM;
	a->priv = s;
	return ccmm_mm_create(m, m->plat->mode == CCMM_CC_TDX ? CCMM_INIT_HOST : CCMM_INIT_USER, a->name, &s->mm);
}

/* The VMM process and its vEPC, on first use (the cgroup must exist by then). */
static int vepc_open(struct ccmm_actor *a, const struct ccmm_op *op, struct vepc_state *s)
{
	struct vepc_opts *o = a->opts;
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(a->run->m);
	struct ccmm_cgroup *cg;
	int ret;

	if (s->v)
		return 0;
	cg = ccmm_cgroup_lookup(root, o->cgroup);
	if (!cg)
		return ccmm_run_fail(a, op, -ENOENT, "cgroup '%s' does not exist yet: order it after the mkdir with signal/wait",
				     o->cgroup);
	ret = ccmm_task_create(root, a->name, s->mm, cg, &s->task);
	ccmm_cgroup_put(cg);
	if (ret)
		return ccmm_run_fail(a, op, ret, "cannot run in cgroup '%s': %s", o->cgroup, strerror(-ret));
	s->cur.ctx = &a->ctx;
	s->cur.task = s->task;
	s->cur.mm = s->mm;
	ret = ccmm_sgx_vepc_open(&s->cur, o->size, &s->v);
	if (ret)
		s->v = NULL;
	return ret;
}

static const struct ccmm_arg_spec touch_args[] = {
	{ "pages", CCMM_ARG_PAGES, true, true, NULL, NULL, "pages the guest touches (its EPC faults)" },
	{ "from", CCMM_ARG_PAGES, false, false, NULL, "0", "first page" },
	{ NULL }
};

static int verb_touch(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct vepc_state *s = a->priv;
	uint64_t n = ccmm_arg_u64(a, op, 0), from = ccmm_arg_u64(a, op, 1);
	int ret = vepc_open(a, op, s);

	if (ret)
		return ret;
	if (ccmm_range_within(from, n, 0, 0, s->v->size >> CCMM_PAGE_SHIFT)) {
		ccmm_op_note(a, "pages %" PRIu64 "..%" PRIu64 " are beyond the %" PRIu64 "-page vEPC", from, from + n - 1,
			     s->v->size >> CCMM_PAGE_SHIFT);
		return -EINVAL;
	}
	for (uint64_t i = from; i < from + n; i++) {
		ret = ccmm_sgx_vepc_fault(&s->cur, s->v, i);
		if (ret) {
			ccmm_op_note(a, "SIGBUS at vEPC page %" PRIu64, i);
			if (!a->exited)
				ccmm_actor_exit(a, 128 + SIGBUS, "SIGBUS on a vEPC fault");
			return ret;
		}
	}
	return 0;
}

static int verb_release(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct vepc_state *s = a->priv;

	ccmm_sgx_vepc_release(&a->ctx, s->v);
	s->v = NULL;
	return 0;
}

static const struct ccmm_verb vepc_verbs[] = {
	{ "touch", "the guest touches vEPC pages: faults take EPC without reclaim; SIGBUS when none can be had", touch_args,
	  verb_touch },
	{ "release", "close /dev/sgx_vepc: EREMOVE and free every page", NULL, verb_release },
	{ NULL }
};

static void vepc_stop(struct ccmm_actor *a)
{
	struct vepc_state *s = a->priv;

	if (!s)
		return;
	ccmm_sgx_vepc_release(&a->ctx, s->v);
	ccmm_task_exit(ccmm_cgroup_root_of(a->run->m), s->task);
	ccmm_mm_destroy(&a->ctx, s->mm);
	free(s);
	a->priv = NULL;
}

static const struct ccmm_actor_kind ccmm_kind_vepc_guest = {
	.name = "vepc_guest",
	.help = "a VMM whose guest uses virtual EPC: unreclaimable EPC, SIGBUS when it cannot be had",
	.options = vepc_options,
	.opts_size = sizeof(struct vepc_opts),
	.verbs = vepc_verbs,
	.check = vepc_check,
	.start = vepc_start,
	.stop = vepc_stop,
};

/* ---- the run extension --------------------------------------------------------------- */

struct sgx_ext_opts {
	int policy;
	bool eaug_race_bug;
	bool pcmd_race_bug;
};

static const struct ccmm_option sgx_ext_options[] = {
	{ "sgx_reclaim", CCMM_OPT_ENUM, offsetof(struct sgx_ext_opts, policy), 0, 0, false, ccmm_sgx_policy_names,
	  "series",
	  "EPC reclaim policy: series (per-cgroup LRUs, cgroup limit -> cgroup reclaim, EPC exhausted -> global "
	  "reclaim: the EPC cgroup series), global (one global LRU, scanned for a cgroup's pages), cgroup (every "
	  "reclaim from the faulting cgroup's subtree)" },
	{ "sgx_eaug_race_bug", CCMM_OPT_BOOL, offsetof(struct sgx_ext_opts, eaug_race_bug), 0, 0, false, NULL, "no",
	  "kernel bug: an EAUG fault does not reload an evicted SECS (before the 2023 fix)" },
	{ "sgx_pcmd_race_bug", CCMM_OPT_BOOL, offsetof(struct sgx_ext_opts, pcmd_race_bug), 0, 0, false, NULL, "no",
	  "kernel bug: ELDU truncates a PCMD page while a reclaimer writes an entry to it (before the 2022 fix)" },
	{ NULL }
};

static int sgx_ext_start(struct ccmm_run *run, const void *opts)
{
	const struct sgx_ext_opts *o = opts;
	struct ccmm_sgx *sgx = ccmm_sgx_of(run->m);
	int ret;

	if (!sgx)
		return 0;
	ret = ccmm_sgx_set_policy(run->m, (enum ccmm_sgx_policy)o->policy);
	if (ret)
		return ret;
	sgx->eaug_race_bug = o->eaug_race_bug;
	sgx->pcmd_race_bug = o->pcmd_race_bug;
	return 0;
}

static void sgx_ext_finish(struct ccmm_run *run, const void *opts)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(run->m);
	struct ccmm_cgroup *top;
	uint64_t left;

	if (!sgx)
		return;
	if (run->error[0] || sgx->nr_encls || atomic_load(&sgx->nr_vepc))
		return;
	/* every enclave and guest is gone: nothing may stay charged */
	top = sgx->cgroups->top;
	left = ccmm_misc_cg_usage(top, CCMM_MISC_SGX_EPC);
	if (left || ccmm_sgx_nr_free(sgx) != (long)sgx->nr_pages) {
		struct ccmm_ctx ctx;

		ccmm_ctx_init(&ctx, run->m, -1, "sgx");
		ccmm_violation(&ctx, &ccmm_rule_epc_charge_leak, UINT64_MAX,
			       "%" PRIu64 " bytes of EPC still charged and %ld of %" PRIu64 " pages free after every enclave exited",
			       left, ccmm_sgx_nr_free(sgx), sgx->nr_pages);
	}
}

static bool sgx_in_use(struct ccmm_run *run)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(run->m);

	if (!sgx || !sgx->nr_pages)
		return false;
	for (size_t i = 0; i < run->job->nr_actors; i++)
		if (run->job->actors[i]->kind == &ccmm_kind_enclave || run->job->actors[i]->kind == &ccmm_kind_vepc_guest)
			return true;
	return false;
}

static uint64_t ctx_total_ns(const struct ccmm_ctx *c)
{
	uint64_t t = 0;

	for (int i = 0; i < CCMM_COST_MAX; i++)
		t += c->cost_ns[i];
	return t;
}

static void sgx_ext_text(struct ccmm_run *run, FILE *out)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(run->m);
	struct ccmm_cgroup_root *root;
	struct ccmm_cgroup *pos = NULL;
	char t1[32], t2[32];
	double fair;

	if (!sgx_in_use(run))
		return;
	root = sgx->cgroups;
	ccmm_format_ns(ctx_total_ns(&sgx->ksgxd.ctx), t1, sizeof(t1));
	ccmm_format_ns(ctx_total_ns(&sgx->cg_wq.worker.ctx), t2, sizeof(t2));
	fprintf(out, "sgx: reclaim policy %s; EPC %" PRIu64 " pages in %zu section(s), %ld free at the end\n",
		ccmm_sgx_policy_names[atomic_load(&sgx->policy)], sgx->nr_pages, sgx->nr_sections, ccmm_sgx_nr_free(sgx));
	fprintf(out, "  ksgxd: %" PRIu64 " run(s), %" PRIu64 " page(s) written back, modeled %s; cgroup work: %" PRIu64
		" run(s), %" PRIu64 " written back, modeled %s\n",
		atomic_load(&sgx->ksgxd.rounds), sgx->ksgxd.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)], t1,
		atomic_load(&sgx->cg_wq.executed), sgx->cg_wq.worker.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)], t2);
	fprintf(out, "  %-26s %7s %7s %7s %7s %7s %7s %7s %10s %5s %6s\n", "cgroup", "allocs", "faults", "ELDU", "ev:lim",
		"ev:glob", "2nd", "stalls", "stall time", "oom", "sigbus");
	ccmm_cgroup_tree_rdlock(root);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, root->top))) {
		struct ccmm_sgx_cg_stats st;

		ccmm_sgx_cgroup_stats(pos, &st);
		if (!st.allocs && !st.faults && !st.oom && !st.sigbus)
			continue;
		ccmm_format_ns(st.stall_ns, t1, sizeof(t1));
		fprintf(out, "  %-26.26s %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
			" %10s %5" PRIu64 " %6" PRIu64 "\n",
			pos->path, st.allocs, st.faults, st.eldu, st.evicted[CCMM_SGX_CAUSE_LIMIT],
			st.evicted[CCMM_SGX_CAUSE_GLOBAL], st.second_chance, st.stalls, t1, st.oom, st.sigbus);
	}
	ccmm_cgroup_tree_unlock(root);
	fair = ccmm_sgx_fairness(run->m);
	if (fair < 0)
		fprintf(out, "  fairness: n/a (no global reclaim: the EPC never ran out)\n");
	else
		fprintf(out, "  fairness (Jain's index of global-reclaim evictions per page held, 1 = shared in proportion): %.3f\n",
			fair);
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		struct ccmm_actor *a = run->job->actors[i];
		struct encl_opts *o = a->opts;
		struct encl_state *s = a->priv;

		if (a->kind != &ccmm_kind_enclave || !s)
			continue;
		keep_figures(s);
		fprintf(out, "  [%s] %s, %" PRIu64 " pages%s: %" PRIu64 " refs, peak %" PRIu64 " EPC pages, %" PRIu64
			" faults, %" PRIu64 " EWB, %" PRIu64 " ELDU, %" PRIu64 " EAUG; ",
			a->name, s->cgroup, o->pages, o->trace[0] ? " (trace)" : "", s->refs, s->peak_epc, s->faults, s->ewb,
			s->eldu, s->eaug);
		if (a->exited)
			fprintf(out, "%s (%d: %s)\n", a->exit_status ? "FAILED" : "passed", a->exit_status, a->exit_why);
		else
			fprintf(out, "still running\n");
	}
	fputc('\n', out);
}

static void *sgx_ext_json(struct ccmm_run *run)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(run->m);
	struct ccmm_cgroup_root *root;
	struct ccmm_cgroup *pos = NULL;
	json_t *j, *cgs, *encls, *k;
	double fair;

	if (!sgx_in_use(run))
		return NULL;
	root = sgx->cgroups;
	j = json_object();
	cgs = json_array();
	encls = json_array();
	json_object_set_new(j, "policy", json_string(ccmm_sgx_policy_names[atomic_load(&sgx->policy)]));
	json_object_set_new(j, "epc_pages", json_integer((json_int_t)sgx->nr_pages));
	json_object_set_new(j, "free_pages_at_end", json_integer(ccmm_sgx_nr_free(sgx)));
	k = json_object();
	json_object_set_new(k, "runs", json_integer((json_int_t)atomic_load(&sgx->ksgxd.rounds)));
	json_object_set_new(k, "ewb", json_integer((json_int_t)sgx->ksgxd.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)]));
	json_object_set_new(k, "modeled_ns", json_integer((json_int_t)ctx_total_ns(&sgx->ksgxd.ctx)));
	json_object_set_new(j, "ksgxd", k);
	k = json_object();
	json_object_set_new(k, "runs", json_integer((json_int_t)atomic_load(&sgx->cg_wq.executed)));
	json_object_set_new(k, "ewb", json_integer((json_int_t)sgx->cg_wq.worker.ctx.ctr[CCMM_CTR_AT(sgx, sgx_ewb)]));
	json_object_set_new(k, "modeled_ns", json_integer((json_int_t)ctx_total_ns(&sgx->cg_wq.worker.ctx)));
	json_object_set_new(j, "cgroup_work", k);
	ccmm_cgroup_tree_rdlock(root);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, root->top))) {
		struct ccmm_sgx_cg_stats st;
		json_t *c;

		ccmm_sgx_cgroup_stats(pos, &st);
		if (!st.allocs && !st.faults && !st.oom && !st.sigbus)
			continue;
		c = json_object();
		json_object_set_new(c, "path", json_string(pos->path));
		json_object_set_new(c, "allocs", json_integer((json_int_t)st.allocs));
		json_object_set_new(c, "faults", json_integer((json_int_t)st.faults));
		json_object_set_new(c, "eldu", json_integer((json_int_t)st.eldu));
		json_object_set_new(c, "evicted_limit", json_integer((json_int_t)st.evicted[CCMM_SGX_CAUSE_LIMIT]));
		json_object_set_new(c, "evicted_global", json_integer((json_int_t)st.evicted[CCMM_SGX_CAUSE_GLOBAL]));
		json_object_set_new(c, "second_chance", json_integer((json_int_t)st.second_chance));
		json_object_set_new(c, "stalls", json_integer((json_int_t)st.stalls));
		json_object_set_new(c, "stall_ns", json_integer((json_int_t)st.stall_ns));
		json_object_set_new(c, "charge_failures", json_integer((json_int_t)st.charge_fail));
		json_object_set_new(c, "oom", json_integer((json_int_t)st.oom));
		json_object_set_new(c, "sigbus", json_integer((json_int_t)st.sigbus));
		json_object_set_new(c, "peak_pages", json_integer((json_int_t)st.peak_pages));
		json_array_append_new(cgs, c);
	}
	ccmm_cgroup_tree_unlock(root);
	json_object_set_new(j, "cgroups", cgs);
	fair = ccmm_sgx_fairness(run->m);
	json_object_set_new(j, "fairness", fair < 0 ? json_null() : json_real(fair));
	for (size_t i = 0; i < run->job->nr_actors; i++) {
		struct ccmm_actor *a = run->job->actors[i];
		struct encl_opts *o = a->opts;
		struct encl_state *s = a->priv;
		json_t *e;

		if (a->kind != &ccmm_kind_enclave || !s)
			continue;
		keep_figures(s);
		e = json_object();
		json_object_set_new(e, "actor", json_string(a->name));
		json_object_set_new(e, "cgroup", json_string(s->cgroup));
		json_object_set_new(e, "pages", json_integer((json_int_t)o->pages));
		json_object_set_new(e, "exit_status", a->exited ? json_integer(a->exit_status) : json_null());
		json_object_set_new(e, "refs", json_integer((json_int_t)s->refs));
		json_object_set_new(e, "peak_epc_pages", json_integer((json_int_t)s->peak_epc));
		json_object_set_new(e, "faults", json_integer((json_int_t)s->faults));
		json_object_set_new(e, "ewb", json_integer((json_int_t)s->ewb));
		json_object_set_new(e, "eldu", json_integer((json_int_t)s->eldu));
		json_object_set_new(e, "eaug", json_integer((json_int_t)s->eaug));
		json_array_append_new(encls, e);
	}
	json_object_set_new(j, "enclaves", encls);
	return j;
}

/* Time series: EPC pages in use, per cgroup and in all; evictions (reclaim) and OOMs per cgroup. */
static void sgx_ext_sample(struct ccmm_run *run, const void *opts, struct ccmm_series *s)
{
	struct ccmm_sgx *sgx = ccmm_sgx_of(run->m);
	struct ccmm_cgroup *pos = NULL;

	(void)opts;
	if (!sgx_in_use(run))
		return;
	ccmm_series_put(s, "sgx.epc_used", "", "pages", (double)((long)sgx->nr_pages - ccmm_sgx_nr_free(sgx)));
	ccmm_cgroup_tree_rdlock(sgx->cgroups);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, sgx->cgroups->top))) {
		struct ccmm_sgx_cg_stats st;

		ccmm_sgx_cgroup_stats(pos, &st);
		if (!st.allocs && !st.faults && !st.oom && !st.sigbus)
			continue;
		ccmm_series_put(s, "sgx.epc_pages", pos->path, "pages",
				(double)(ccmm_misc_cg_usage(pos, CCMM_MISC_SGX_EPC) / CCMM_PAGE_SIZE));
		ccmm_series_count(s, "sgx.evicted", pos->path, "pages",
				  st.evicted[CCMM_SGX_CAUSE_LIMIT] + st.evicted[CCMM_SGX_CAUSE_GLOBAL], CCMM_MARK_RECLAIM);
		ccmm_series_count(s, "sgx.oom", pos->path, "allocations", st.oom, CCMM_MARK_OOM);
	}
	ccmm_cgroup_tree_unlock(sgx->cgroups);
}

static const struct ccmm_run_ext sgx_ext = {
	.name = "sgx",
	.sample = sgx_ext_sample,
	.options = sgx_ext_options,
	.opts_size = sizeof(struct sgx_ext_opts),
	.start = sgx_ext_start,
	.finish = sgx_ext_finish,
	.report_text = sgx_ext_text,
	.report_json = sgx_ext_json,
};

static const struct ccmm_actor_kind *const sgx_kinds[] = { &ccmm_kind_enclave, &ccmm_kind_vepc_guest, NULL };

/* A sweep's default figures: how reclaim treated each cgroup, and at what cost. */
static const char *const sgx_metrics[] = {
	"sgx.fairness", "sgx.ksgxd.ewb", "sgx.cgroup_work.ewb", "sgx.cgroups.*.evicted_limit",
	"sgx.cgroups.*.evicted_global", "sgx.cgroups.*.stall_ns", "sgx.cgroups.*.oom", NULL,
};

const struct ccmm_kind_set ccmm_kinds_sgx = { "sgx", sgx_kinds, &sgx_ext, sgx_metrics };
