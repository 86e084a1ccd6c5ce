// SPDX-License-Identifier: MIT
/*
 * Randomized invariants: valid jobs generated from a seed across
 * subsystems (a TDX guest converting memory that its disk reads, a driver
 * mapping and unmapping through SWIOTLB, enclaves under misc cgroups with
 * random limits, tiered tasks under memory limits), run with invariants
 * checked after every op:
 *   - no cgroup's usage (misc sgx_epc, memory) above its max after an op,
 *     unless the max was lowered below a usage that has not grown since;
 *   - after each conversion that succeeded, every page's secure-world
 *     state and the CPU's direct-map PTE agree (shared <-> not encrypted);
 *   - no run error (a generated job is valid input);
 * and at teardown, with check= lines the job carries: no SWIOTLB slot,
 * coherent page, EPC page or cgroup charge left.
 * A failing seed prints its job, to be kept as a regression case.
 *
 *   test_random_jobs [COUNT [FIRST [print]]]   (TAP; default 200 seeds from 1;
 *                                               print: every seed's job)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "mm/mm.h"
#include "mmu/mmu.h"
#include "report/report.h"
#include "scenario/scenario.h"

#define SRC CCMM_SOURCE_DIR

struct gen {
	uint64_t s;
	char *buf;
	size_t len, cap;
};

static uint64_t rnd(struct gen *g)
{
	uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A number in [lo, hi]. */
static uint64_t pick(struct gen *g, uint64_t lo, uint64_t hi)
{
	return lo + rnd(g) % (hi - lo + 1);
}

static void out(struct gen *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out(struct gen *g, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (g->len + (size_t)n + 1 > g->cap) {
		g->cap = (g->len + (size_t)n + 1) * 2;
		g->buf = realloc(g->buf, g->cap);
		if (!g->buf)
			abort();
	}
	va_start(ap, fmt);
	vsnprintf(g->buf + g->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	g->len += (size_t)n;
}

/* A TDX guest converts buffers back and forth; its disk reads the shared ones. */
static void gen_tdx(struct gen *g)
{
	unsigned nbuf = (unsigned)pick(g, 1, 4);
	unsigned shared = 0;

	out(g, "[global]\nplatform = default\nseed = %" PRIu64 "\n\n[guest]\nactor = guest_task\n", pick(g, 1, 1000));
	for (unsigned i = 0; i < nbuf; i++) {
		out(g, "op = alloc b%u %uk\n", i, 4u << pick(g, 0, 5));
		for (unsigned k = pick(g, 0, 3); k; k--) {
			out(g, "op = set_memory_decrypted b%u\nop = write b%u pattern=0x%02x\n", i, i, (unsigned)pick(g, 1, 255));
			if (pick(g, 0, 1))
				out(g, "op = set_memory_encrypted b%u\n", i);
			else if (k == 1)
				shared |= 1u << i;
		}
		if (!(shared & (1u << i)) && pick(g, 0, 1))
			out(g, "op = write b%u pattern=0x77\nop = read b%u verify=0x77\n", i, i);
	}
	out(g, "op = signal ready\nop = wait read\n");
	for (unsigned i = 0; i < nbuf; i++)
		if (shared & (1u << i))
			out(g, "op = set_memory_encrypted b%u\n", i);
	for (unsigned i = 0; i < nbuf; i++)
		out(g, "op = free b%u\n", i);
	out(g, "\n[disk]\nactor = device\ndevice = virtio-blk0\nop = wait ready\n");
	for (unsigned i = 0; i < nbuf; i++)
		if (shared & (1u << i))
			out(g, "op = dma_read b%u\n", i);
	out(g, "op = signal read\n");
}

/* A driver maps and unmaps buffers through the DMA API (bouncing in the TD's SWIOTLB). */
static void gen_dma(struct gen *g)
{
	unsigned nbuf = (unsigned)pick(g, 1, 5);
	static const char *const dirs[] = { "bidirectional", "to_device", "from_device" };

	out(g, "[global]\nplatform = default\n\n[drv]\nactor = dma_driver\ndevice = virtio-blk0\nop = probe\n"
	       "op = dma_set_mask_and_coherent %u\n", pick(g, 0, 1) ? 64u : 32u);
	for (unsigned i = 0; i < nbuf; i++)
		out(g, "op = alloc b%u %uk\nop = write b%u pattern=0x%02x\n", i, 4u << pick(g, 0, 4), i, (unsigned)pick(g, 1, 255));
	for (unsigned round = (unsigned)pick(g, 1, 3); round; round--) {
		unsigned page = 0; /* which were mapped with dma_map_page: unmapped with dma_unmap_page */

		for (unsigned i = 0; i < nbuf; i++) {
			page |= (unsigned)pick(g, 0, 1) << i;
			out(g, "op = dma_map_%s m%u_%u b%u dir=%s\n", page & (1u << i) ? "page" : "single", round, i, i,
			    dirs[pick(g, 0, 2)]);
		}
		if (pick(g, 0, 1))
			out(g, "op = dma_alloc_coherent c%u %uk\nop = dma_free_coherent c%u\n", round, 4u << pick(g, 0, 3), round);
		for (unsigned i = nbuf; i--;)
			out(g, "op = dma_unmap_%s m%u_%u\n", page & (1u << i) ? "page" : "single", round, i);
	}
	for (unsigned i = 0; i < nbuf; i++)
		out(g, "op = free b%u\n", i);
	out(g, "op = remove\ncheck = subsystems.swiotlb.io_tlb_used == 0\ncheck = subsystems.dma.coherent_leaked_pages == 0\n");
}

/* Enclaves in misc cgroups with random limits on a 2 MiB EPC. */
static void gen_sgx(struct gen *g)
{
	unsigned ncg = (unsigned)pick(g, 1, 3), nenc = (unsigned)pick(g, 1, 4);
	static const char *const policies[] = { "series", "global", "cgroup" };

	out(g, "[global]\nplatform = %s/tests/jobs/sgx-small.ini\nsgx_reclaim = %s\nseed = %" PRIu64 "\n\n[sh]\nactor = cgroup\n",
	    SRC, policies[pick(g, 0, 2)], pick(g, 1, 1000));
	for (unsigned c = 0; c < ncg; c++) {
		out(g, "op = mkdir /c%u\n", c);
		if (pick(g, 0, 2))
			out(g, "op = write /c%u/misc.max sgx_epc %u\n", c, 64u * 1024u * (unsigned)pick(g, 1, 32));
	}
	out(g, "op = signal go count=%u\n", nenc);
	for (unsigned e = 0; e < nenc; e++)
		out(g, "op = wait done\n");
	out(g, "op = check /misc.current sgx_epc 0\ncheck = sgx.free_pages_at_end == 512\n"); /* sgx-small: 2 MiB of EPC */
	for (unsigned e = 0; e < nenc; e++)
		out(g, "\n[e%u]\nactor = enclave\ncgroup = /c%u\nsize = %uk\nrefs = %u\ndone = done\nop = wait go\n", e,
		    (unsigned)pick(g, 0, ncg - 1), 64u << pick(g, 0, 4), (unsigned)pick(g, 100, 3000));
}

/* Tiered tasks replaying real traces under a memory limit. */
static void gen_tier(struct gen *g)
{
	static const char *const traces[] = { "sort", "gzip", "md5sum", "awk-wordfreq" };
	unsigned ntask = (unsigned)pick(g, 1, 3);

	out(g, "[global]\nplatform = %s/platforms/dram-pmem.ini\ndemotion_enabled = %s\nswap = 16m\n\n[sh]\nactor = cgroup\n"
	       "op = mkdir /t controllers=memory\nop = write /t/memory.max %uk\nop = signal go count=%u\n",
	    SRC, pick(g, 0, 1) ? "yes" : "no", 128u << pick(g, 0, 4), ntask);
	for (unsigned t = 0; t < ntask; t++)
		out(g, "op = wait done\n");
	out(g, "op = check /t/memory.current 0\n");
	for (unsigned t = 0; t < ntask; t++)
		out(g, "\n[t%u]\nactor = tier_task\ntrace = %s/traces/%s.trace.zst\ncgroup = /t\nmax_refs = %u\ndone = done\nop = wait go\n",
		    t, SRC, traces[pick(g, 0, 3)], (unsigned)pick(g, 2000, 30000));
}

static const struct {
	const char *name;
	void (*gen)(struct gen *g);
} families[] = { { "tdx", gen_tdx }, { "dma", gen_dma }, { "sgx", gen_sgx }, { "tier", gen_tier } };

/* ---- invariants after every op ----------------------------------------------------- */

struct watch {
	char why[512];              /* the first invariant broken, empty if none */
	uint64_t misc_last[64], mem_last[64]; /* usage after the previous op, per cgroup in walk order */
};

static void broken(struct watch *w, struct ccmm_actor *a, const struct ccmm_op *op, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void broken(struct watch *w, struct ccmm_actor *a, const struct ccmm_op *op, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (w->why[0])
		return;
	n = snprintf(w->why, sizeof(w->why), "line %d [%s] %s: ", op->where.line, a->name, op->verb->name);
	va_start(ap, fmt);
	vsnprintf(w->why + n, sizeof(w->why) - (size_t)n, fmt, ap);
	va_end(ap);
}

static void check_cgroups(struct watch *w, struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(a->run->m);
	struct ccmm_cgroup *top, *cg = NULL;
	size_t i = 0;

	if (!root)
		return;
	top = ccmm_cgroup_lookup(root, "/");
	if (!top)
		return;
	ccmm_cgroup_tree_rdlock(root);
	while ((cg = ccmm_cgroup_next_descendant_pre(cg, top)) && i < 64) {
		uint64_t use = ccmm_misc_cg_usage(cg, CCMM_MISC_SGX_EPC), max = ccmm_misc_cg_max(cg, CCMM_MISC_SGX_EPC);
		uint64_t muse = atomic_load(&cg->mem.usage), mmax = atomic_load(&cg->mem.max);

		if (use > max && use > w->misc_last[i])
			broken(w, a, op, "a misc cgroup's sgx_epc usage %" PRIu64 " passed its max %" PRIu64, use, max);
		if (cg != top && muse > mmax && muse > w->mem_last[i])
			broken(w, a, op, "a memory cgroup's usage %" PRIu64 " pages passed its max %" PRIu64, muse, mmax);
		w->misc_last[i] = use;
		w->mem_last[i] = muse;
		i++;
	}
	ccmm_cgroup_tree_unlock(root);
	ccmm_cgroup_put(top);
}

/* After a conversion that succeeded: the secure world's state and the direct map's PTE agree, page by page. */
static void check_views(struct watch *w, struct ccmm_actor *a, const struct ccmm_op *op, int ret)
{
	struct ccmm_machine *m = a->run->m;
	struct ccmm_kernel *k = ccmm_kernel(m);
	bool dec = !strcmp(op->verb->name, "set_memory_decrypted");
	struct ccmm_obj *o = NULL;

	if (ret || !k || (!dec && strcmp(op->verb->name, "set_memory_encrypted")))
		return;
	for (size_t i = 0; i < a->run->nr_objs; i++)
		if (!strcmp(a->run->objs[i]->name, op->arg[0].str))
			o = a->run->objs[i];
	if (!o || o->kind != CCMM_OBJ_PAGES)
		return;
	for (uint64_t off = 0; off < o->size; off += CCMM_PAGE_SIZE) {
		struct ccmm_page *pg = ccmm_phys_page(m, o->pa + off, false);
		struct ccmm_walk wk;

		if (!pg || ccmm_pgt_walk(k->init_mm, ccmm_phys_to_virt(o->pa + off), &wk))
			continue;
		if ((pg->state == CCMM_PS_SHARED) != dec)
			broken(w, a, op, "page 0x%" PRIx64 " is %s in the secure world after the conversion", o->pa + off,
			       ccmm_page_state_name((enum ccmm_page_state)pg->state));
		if (ccmm_pte_is_private(m, wk.pte) == dec)
			broken(w, a, op, "page 0x%" PRIx64 ": the direct map's PTE says %s, the secure world %s", o->pa + off,
			       dec ? "private" : "shared", ccmm_page_state_name((enum ccmm_page_state)pg->state));
	}
}

static void after_op(struct ccmm_actor *a, const struct ccmm_op *op, int ret, void *arg)
{
	struct watch *w = arg;

	check_cgroups(w, a, op);
	check_views(w, a, op, ret);
}

/* ---- the run ---------------------------------------------------------------------- */

static int run_seed(uint64_t seed, char *why, size_t len, char **jobtext, const char **family)
{
	struct gen g = { .s = seed * 0x2545f4914f6cdd1dULL + 1 };
	struct watch *w = calloc(1, sizeof(*w));
	struct ccmm_job *job = NULL;
	struct ccmm_run *run = NULL;
	struct ccmm_error err;
	size_t f = seed % (sizeof(families) / sizeof(families[0]));
	int bad = 0;

	*family = families[f].name;
	families[f].gen(&g);
	*jobtext = g.buf;
	if (!w)
		abort();
	if (ccmm_job_load("random.job", g.buf, NULL, &job, &err)) {
		snprintf(why, len, "the generated job is refused: %s:%d: %s", err.file, err.line, err.msg);
		free(w);
		return 1;
	}
	job->op_hook = after_op;
	job->op_hook_arg = w;
	if (ccmm_job_run(job, &run)) {
		snprintf(why, len, "the run cannot start");
		bad = 1;
	} else if (run->error[0]) {
		snprintf(why, len, "run error: %.600s", run->error);
		bad = 1;
	} else if (w->why[0]) {
		snprintf(why, len, "invariant: %.500s", w->why);
		bad = 1;
	} else if (ccmm_report_checks(run)) {
		snprintf(why, len, "out of memory for the checks");
		bad = 1;
	} else {
		for (size_t i = 0; i < job->nr_checks && !bad; i++)
			if (!run->check_results[i].passed) {
				snprintf(why, len, "at teardown: %.900s", run->check_results[i].msg);
				bad = 1;
			}
		for (size_t i = 0; ccmm_run_op_error(run, i) && !bad; i++) {
			const struct ccmm_op_error *oe = ccmm_run_op_error(run, i);

			/* a generated job asks nothing a correct model refuses, but for EPC it cannot get */
			if (strcmp(oe->verb, "exits") && oe->got != -ENOMEM) {
				snprintf(why, len, "op error: line %d %s returned %ld %s", oe->where.line, oe->verb, oe->got, oe->note);
				bad = 1;
			}
		}
	}
	ccmm_run_free(run);
	ccmm_job_free(job);
	free(w);
	return bad;
}

int main(int argc, char **argv)
{
	uint64_t count = argc > 1 ? strtoull(argv[1], NULL, 10) : 200, first = argc > 2 ? strtoull(argv[2], NULL, 10) : 1;
	bool print = argc > 3 && !strcmp(argv[3], "print"); /* every seed's job, passing or not */
	uint64_t failed = 0;

	printf("1..%" PRIu64 "\n", count);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t seed = first + i;
		char why[1024] = "";
		char *text = NULL;
		const char *family;

		if (run_seed(seed, why, sizeof(why), &text, &family)) {
			failed++;
			printf("not ok %" PRIu64 " - seed %" PRIu64 " (%s): %s\n# the job:\n", i + 1, seed, family, why);
			for (char *l = strtok(text, "\n"); l; l = strtok(NULL, "\n"))
				printf("#   %s\n", l);
		} else {
			printf("ok %" PRIu64 " - seed %" PRIu64 " (%s)\n", i + 1, seed, family);
			if (print)
				printf("%s", text);
		}
		free(text);
		fflush(stdout);
	}
	return failed ? 1 : 0;
}
