// SPDX-License-Identifier: MIT
/*
 * ccmm trace stat FILE and ccmm trace reduce IN OUT: page-reference traces
 * and ftrace text; ccmm trace agree|whatif RECORDING parsed here and run by
 * trace-agree.c.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/internal.h"
#include "trace/trace.h"

enum { OPT_ZSTD = 256, OPT_INSTRUCTIONS, OPT_PLATFORM, OPT_DEBUGFS, OPT_JSON, OPT_NO_FILTER };

static const struct cli_option trace_opts[] = {
	{ "zstd", OPT_ZSTD, NULL, "reduce: compress OUT with zstd", NULL },
	{ "instructions", OPT_INSTRUCTIONS, NULL, "stat, reduce: keep instruction fetches (as reads) instead of dropping them", NULL },
	{ "platform", OPT_PLATFORM, "FILE",
	  "agree, whatif: the machine the trace was recorded on (with its swiotlb_base), instead of the recording's platform.ini",
	  "file" },
	{ "debugfs", OPT_DEBUGFS, "DIR",
	  "agree: the kernel's debugfs at the end (swiotlb/io_tlb_used, io_tlb_used_hiwater), instead of the recording's after/",
	  "dir" },
	{ "json", OPT_JSON, "FILE", "whatif: every run's figures (the dma_trace actor's JSON) to FILE; '-' is standard output",
	  "file" },
	{ "no-filter", OPT_NO_FILTER, NULL, "whatif: bind devices outside the TDX guest's allow-list too (filter = no)", NULL },
	{ NULL },
};

struct trace_args {
	struct ccmm_trace_opts o;
	bool zstd, no_filter;
	const char *platform, *debugfs, *json;
	const char *given[OPT_NO_FILTER + 1]; /* each option's name as given, for "not for this sub-command" */
};

static int trace_opt(void *ctx, int key, const char *arg)
{
	struct trace_args *ta = ctx;

	switch (key) {
	case OPT_ZSTD:
		ta->zstd = true;
		break;
	case OPT_INSTRUCTIONS:
		ta->o.instructions = true;
		break;
	case OPT_PLATFORM:
		ta->platform = arg;
		break;
	case OPT_DEBUGFS:
		ta->debugfs = arg;
		break;
	case OPT_JSON:
		ta->json = arg;
		break;
	case OPT_NO_FILTER:
		ta->no_filter = true;
		break;
	}
	for (size_t i = 0; trace_opts[i].name; i++)
		if (trace_opts[i].key == key)
			ta->given[key] = trace_opts[i].name;
	return 0;
}

/* "ccmm trace SUB: MESSAGE" on stderr, as trace-agree.c says its own; returns CLI_EXIT_BAD_INPUT. */
static int CCMM_PRINTF(2, 3) sub_bad(const char *sub, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ccmm trace %s: ", sub);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_BAD_INPUT;
}

/* Options @sub does not take (a NULL-ended list of keys): an error naming the first given, or 0. */
static int only_for(const struct trace_args *ta, const char *sub, const int *not_taken)
{
	for (; *not_taken; not_taken++)
		if (ta->given[*not_taken])
			return sub_bad(sub, "--%s is not one of its options (ccmm trace --help)", ta->given[*not_taken]);
	return 0;
}

/* ccmm trace stat on ftrace text: events by kind, skipped, lost. */
static int ftrace_stat(const char *path)
{
	struct ccmm_ftrace *ft;
	struct ccmm_ftrace_event ev;
	struct ccmm_ftrace_stats st;
	struct ccmm_error err;
	int ret;

	if (ccmm_ftrace_open(path, &ft, &err))
		return _ccmm_cli_error(&err);
	while ((ret = ccmm_ftrace_next(ft, &ev, &err)) == 1)
		;
	if (ret < 0) {
		ccmm_ftrace_close(ft);
		return _ccmm_cli_error(&err);
	}
	ccmm_ftrace_stats(ft, &st);
	ccmm_ftrace_close(ft);
	printf("%s: ftrace text (%s), %" PRIu64 " lines, %" PRIu64 " DMA/SWIOTLB events on CPUs 0..%d, %" PRIu64
	       " other events skipped%s%s%s, %" PRIu64 " lost\n",
	       path, st.trace_cmd ? "trace-cmd report" : "tracefs", st.lines, st.events, st.max_cpu, st.skipped,
	       st.skipped ? " (first: " : "", st.first_skipped, st.skipped ? ")" : "", st.lost);
	for (int k = 0; k < CCMM_FT_NR; k++)
		if (st.by_kind[k])
			printf("  %-28s %" PRIu64 "\n", ccmm_ftrace_kind_name((enum ccmm_ftrace_kind)k), st.by_kind[k]);
	return 0;
}

/* The set of distinct pages: open addressing over vpn + 1 (0 is empty), doubled at half full. */
struct page_set {
	uint64_t *slot, cap, n;
};

static int page_set_add(struct page_set *ps, uint64_t vpn)
{
	uint64_t h;

	if (ps->n * 2 >= ps->cap) {
		uint64_t ncap = ps->cap ? ps->cap * 2 : 1024, *ns = calloc(ncap, sizeof(*ns));

		if (!ns)
			return -1;
		for (uint64_t i = 0; i < ps->cap; i++) {
			if (!ps->slot[i])
				continue;
			for (h = (ps->slot[i] * 0x9e3779b97f4a7c15ULL) & (ncap - 1); ns[h]; h = (h + 1) & (ncap - 1))
				;
			ns[h] = ps->slot[i];
		}
		free(ps->slot);
		ps->slot = ns;
		ps->cap = ncap;
	}
	for (h = ((vpn + 1) * 0x9e3779b97f4a7c15ULL) & (ps->cap - 1); ps->slot[h] && ps->slot[h] != vpn + 1;
	     h = (h + 1) & (ps->cap - 1))
		;
	if (!ps->slot[h]) {
		ps->slot[h] = vpn + 1;
		ps->n++;
	}
	return 0;
}

/* A page-reference trace: references, writes, distinct pages; ftrace text: its events. */
static int trace_stat(const struct cli_command *cmd, const char *path, const struct ccmm_trace_opts *o)
{
	struct page_set set = { NULL, 0, 0 };
	struct ccmm_trace *t;
	struct ccmm_page_ref r;
	struct ccmm_trace_stats st;
	struct ccmm_error err;
	uint64_t lo = UINT64_MAX, hi = 0;
	int ret;

	if (ccmm_ftrace_probe(path, &err) == 1)
		return ftrace_stat(path);
	if (ccmm_trace_open(path, o, &t, &err))
		return _ccmm_cli_error(&err);
	while ((ret = ccmm_trace_next(t, &r, &err)) == 1) {
		lo = CCMM_MIN(lo, r.vpn);
		hi = CCMM_MAX(hi, r.vpn);
		if (page_set_add(&set, r.vpn)) {
			free(set.slot);
			ccmm_trace_close(t);
			return sub_bad("stat", "out of memory");
		}
	}
	free(set.slot);
	if (ret < 0) {
		ccmm_trace_close(t);
		return _ccmm_cli_error(&err);
	}
	ccmm_trace_stats(t, &st);
	printf("%s: %s trace, %" PRIu64 " accesses -> %" PRIu64 " page references (%" PRIu64 " dirtying), "
	       "%" PRIu64 " instruction fetches dropped",
	       path, ccmm_trace_format(t) == CCMM_TRACE_LACKEY ? "lackey" : "address", st.lines, st.refs, st.writes,
	       st.instr_dropped);
	if (st.refs)
		printf(", %" PRIu64 " distinct pages (%" PRIu64 " KiB) in 0x%" PRIx64 "..0x%" PRIx64, set.n, set.n * 4, lo, hi);
	printf("\n");
	ccmm_trace_close(t);
	return CLI_EXIT_OK;
}

static int cmd_trace(const struct cli_command *cmd, int argc, char **argv)
{
	static const char *const subs[] = { "stat", "reduce", "agree", "whatif" };
	static const int not_stat[] = { OPT_ZSTD, OPT_PLATFORM, OPT_DEBUGFS, OPT_JSON, OPT_NO_FILTER, 0 };
	static const int not_reduce[] = { OPT_PLATFORM, OPT_DEBUGFS, OPT_JSON, OPT_NO_FILTER, 0 };
	static const int not_agree[] = { OPT_ZSTD, OPT_INSTRUCTIONS, OPT_JSON, OPT_NO_FILTER, 0 };
	static const int not_whatif[] = { OPT_ZSTD, OPT_INSTRUCTIONS, OPT_DEBUGFS, 0 };
	struct trace_args ta = { .o = { CCMM_TRACE_AUTO, false, false } };
	struct ccmm_error err;
	int first, n, ret = _ccmm_cli_parse(cmd, argc, argv, trace_opt, &ta, &first);
	const char *sub;
	long refs;

	if (ret)
		return ret;
	if (first == argc)
		return _ccmm_cli_bad(cmd, "%s", cmd->args);
	sub = argv[first];
	n = argc - first - 1;
	if (!strcmp(sub, "stat")) {
		if ((ret = only_for(&ta, sub, not_stat)))
			return ret;
		if (n != 1)
			return sub_bad(sub, "one trace file");
		return trace_stat(cmd, argv[first + 1], &ta.o);
	}
	if (!strcmp(sub, "agree") || !strcmp(sub, "whatif")) {
		bool agree = !strcmp(sub, "agree");

		if ((ret = only_for(&ta, sub, agree ? not_agree : not_whatif)))
			return ret;
		if (n != 1)
			return sub_bad(sub, "%s", n ? "one recording at a time"
						    : "which recording? (a folder of scripts/record-kernel.sh, or a trace file with --platform)");
		if (agree)
			return _ccmm_trace_agree(argv[first + 1], ta.platform, ta.debugfs);
		return _ccmm_trace_whatif(argv[first + 1], ta.platform, ta.json, ta.no_filter);
	}
	if (strcmp(sub, "reduce")) {
		const char *near = ccmm_suggest(sub, subs, CCMM_ARRAY_SIZE(subs));

		return _ccmm_cli_bad(cmd, "no sub-command '%s'%s%s%s (%s)", sub, near ? "; did you mean '" : "",
				     near ? near : "", near ? "'?" : "", cmd->args);
	}
	if ((ret = only_for(&ta, sub, not_reduce)))
		return ret;
	if (n != 2)
		return sub_bad(sub, "IN and OUT");
	refs = ccmm_trace_reduce(argv[first + 1], &ta.o, argv[first + 2], ta.zstd, &err);
	if (refs < 0)
		return _ccmm_cli_error(&err);
	printf("%s: %ld page references\n", argv[first + 2], refs);
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_trace = {
	"trace", "stat FILE | reduce IN OUT | agree RECORDING | whatif RECORDING",
	"read traces; replay a recorded kernel's DMA trace and hold it against the kernel, or on a confidential guest",
	"trace stat FILE reads a page-reference trace (valgrind lackey output or the 'l|s 0xADDR n' address form, "
	"plain, gzip or zstd) and prints its references, dirtying writes and distinct pages; given ftrace text of "
	"the dma/* and swiotlb_bounced events (a tracefs trace file or trace-cmd report) it prints the events by "
	"kind, the other events skipped and the events lost.\n\n"
	"trace reduce IN OUT writes IN's page references as an address trace (zstd-compressed with --zstd), "
	"complete or not at all.\n\n"
	"trace agree RECORDING replays a real kernel's DMA trace on the platform it was recorded on (RECORDING: a "
	"folder of scripts/record-kernel.sh with trace.zst, platform.ini and after/, or a trace file with --platform) "
	"through a dma_trace actor, and holds every bounce against the kernel's SWIOTLB slot and the final "
	"io_tlb_used and io_tlb_used_hiwater against the kernel's debugfs. Exit status 0: every mapping on the "
	"kernel's slot (mappings of uncertain order aside) and the counters equal; 1: the first divergence, with its "
	"trace line.\n\n"
	"trace whatif RECORDING replays the same trace on the recorded platform (recorded: with its swiotlb=force; "
	"none: without) and on it made a TDX, SEV-SNP and pSeries secure guest (both DMA windows), the recorded pool "
	"kept: per device the streaming mappings, bounces, bytes copied, SWIOTLB slots, pages made shared and the "
	"modeled time of the DMA API, the pool's own conversion apart.",
	trace_opts, "sub:stat|reduce|agree|whatif", cmd_trace,
};
