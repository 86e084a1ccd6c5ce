// SPDX-License-Identifier: MIT
/*
 * The ftrace reader (src/trace/ftrace.c): every DMA-API and SWIOTLB event of
 * Linux 6.12 from its printed line, the tracefs and trace-cmd flavours,
 * gzip and zstd, unknown and lost events counted, malformed lines rejected
 * with their line and field, and a shipped recording read whole.
 *
 * Lines marked "recorded" are copied from traces scripts/record-kernel.sh
 * took of Debian's 6.12.118 under qemu; the others (events the recorded
 * workloads never hit) are written from the TP_printk() formats of
 * include/trace/events/dma.h in the 6.12 sources.
 */
#include "helpers.h"

#include <inttypes.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "trace/trace.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/ccmm-ftrace-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *path_of(const char *name)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return p;
}

static void put(const char *name, const void *data, size_t len)
{
	FILE *f = fopen(path_of(name), "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void put_gz(const char *name, const char *text)
{
	gzFile g = gzopen(path_of(name), "wb");

	assert_non_null(g);
	assert_int_equal(gzwrite(g, text, (unsigned)strlen(text)), (int)strlen(text));
	gzclose(g);
}

static void put_zst(const char *name, const char *text)
{
	size_t cap = ZSTD_compressBound(strlen(text));
	char *buf = malloc(cap);
	size_t n = ZSTD_compress(buf, cap, text, strlen(text), 3);

	assert_false(ZSTD_isError(n));
	put(name, buf, n);
	free(buf);
}

/* The tracefs header, as /sys/kernel/tracing/trace prints it. */
#define TRACEFS_HEADER                                                              \
	"# tracer: nop\n"                                                           \
	"#\n"                                                                       \
	"# entries-in-buffer/entries-written: 19/19   #P:4\n"                       \
	"#\n"                                                                       \
	"#                                _-----=> irqs-off/BH-disabled\n"          \
	"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"               \
	"#              | |         |   |||||     |         |\n"

/* One line per event kind, in enum order (line 8 on). */
static const char *const every_kind =
	TRACEFS_HEADER
	/* recorded (nvme) */
	"        ccmm-dio-202     [003] d..1.     6.959898: dma_map_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=1cdc0000 size=16 phys_addr=6e3c0f8 attrs=\n"
	"     kworker/0:1-9       [001] .....    12.000001: dma_map_resource: 0000:00:05.0 dir=BIDIRECTIONAL dma_addr=fe000000 size=4096 phys_addr=fe000000 attrs=SKIP_CPU_SYNC\n"
	/* recorded (virtio-blk) */
	"          insmod-155     [000] d.h1.     7.240751: dma_unmap_page: 0000:00:02.0 dir=TO_DEVICE dma_addr=19e02800 size=48 attrs=\n"
	"     kworker/0:1-9       [001] .....    12.000002: dma_unmap_resource: 0000:00:05.0 dir=BIDIRECTIONAL dma_addr=fe000000 size=4096 attrs=SKIP_CPU_SYNC\n"
	/* recorded (nvme) */
	"    kworker/u4:1-29      [000] .N...     4.764950: dma_alloc: 0000:00:02.0 dir=BIDIRECTIONAL dma_addr=1ffbd000 size=512 virt_addr=(____ptrval____) flags=GFP_KERNEL attrs=\n"
	"     kworker/0:1-9       [001] .....    12.000003: dma_alloc_pages: 0000:00:04.0 dir=FROM_DEVICE dma_addr=3000000 size=8192 virt_addr=(____ptrval____) flags=GFP_KERNEL|__GFP_ZERO attrs=\n"
	"     kworker/0:1-9       [001] .....    12.000004: dma_alloc_sgt_err: 0000:00:04.0 dir=TO_DEVICE dma_addr=0 size=1048576 virt_addr=(____ptrval____) flags=GFP_KERNEL attrs=ALLOC_SINGLE_PAGES|NO_WARN\n"
	"     kworker/0:1-9       [001] .....    12.000005: dma_alloc_sgt: 0000:00:04.0 dir=TO_DEVICE dma_addr=4000000 size=8192 phys_addrs={0x4000000,0x4003000} flags=GFP_KERNEL attrs=\n"
	"          rmmod-300     [002] .....    13.500000: dma_free: 0000:00:02.0 dir=BIDIRECTIONAL dma_addr=5794000 size=6726 virt_addr=(____ptrval____) attrs=\n"
	"          rmmod-300     [002] .....    13.500001: dma_free_pages: 0000:00:04.0 dir=FROM_DEVICE dma_addr=3000000 size=8192 virt_addr=(____ptrval____) attrs=\n"
	"          rmmod-300     [002] .....    13.500002: dma_free_sgt: 0000:00:04.0 dir=TO_DEVICE dma_addr=4000000 size=8192 phys_addrs={0x4000000,0x4003000}\n"
	/* recorded (nvme) */
	"        ccmm-dio-178     [000] .....     5.155226: dma_map_sg: 0000:00:02.0 dir=TO_DEVICE nents=3/3 ents=3/3 dma_addrs={0x19e1f000,0x19e20000,0x19e21000} sizes={0x1000,0x1000,0x1000} phys_addrs={0x2bc8000,0x2beb000,0x2bf7000} attrs=NO_WARN\n"
	"        ccmm-dio-178     [000] .....     5.200000: dma_map_sg_err: 0000:00:02.0 dir=FROM_DEVICE dma_addrs={0x2bc8000,0x2beb000} err=-12 attrs=NO_WARN\n"
	/* recorded (nvme) */
	"          <idle>-0       [000] d.h1.     5.153691: dma_unmap_sg: 0000:00:02.0 dir=FROM_DEVICE phys_addrs={0x2bc8000,0x2beb000} attrs=\n"
	/* recorded (e1000) */
	"          <idle>-0       [000] ..s1.     8.613124: dma_sync_single_for_cpu: 0000:00:03.0 dir=FROM_DEVICE dma_addr=19e7f800 size=64\n"
	"          <idle>-0       [000] ..s1.     8.613125: dma_sync_single_for_device: 0000:00:03.0 dir=FROM_DEVICE dma_addr=19e7f800 size=64\n"
	"          <idle>-0       [000] ..s1.     8.700000: dma_sync_sg_for_cpu: 0000:00:02.0 dir=FROM_DEVICE dma_addrs={0x19e0f000,0x19e10000} sizes={0x1000,0x200}\n"
	"          <idle>-0       [000] ..s1.     8.700001: dma_sync_sg_for_device: 0000:00:02.0 dir=BIDIRECTIONAL dma_addrs={0x19e0f000} sizes={0x1000}\n"
	/* recorded (virtio-blk-4cpu) */
	"        ccmm-dio-202     [003] d..1.     6.959853: swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffffffffffff dev_addr=6e3c0f8 size=16 FORCE\n";

static void read_all(const char *path, struct ccmm_ftrace_event *evs, int max, int *n, struct ccmm_ftrace_stats *st)
{
	struct ccmm_ftrace *ft;
	struct ccmm_error err;
	int ret;

	if (ccmm_ftrace_open(path, &ft, &err))
		fail_msg("open: %s", err.msg);
	*n = 0;
	while ((ret = ccmm_ftrace_next(ft, &evs[*n < max ? *n : max - 1], &err)) == 1) {
		/* copy the arrays' first entries out before the next call reuses them */
		struct ccmm_ftrace_event *e = &evs[*n < max ? *n : max - 1];

		e->phys_addrs = e->n_phys ? (const uint64_t *)(uintptr_t)e->phys_addrs[0] : NULL;
		e->dma_addrs = e->n_dma ? (const uint64_t *)(uintptr_t)e->dma_addrs[0] : NULL;
		e->sizes = e->n_sizes ? (const uint64_t *)(uintptr_t)e->sizes[e->n_sizes - 1] : NULL;
		(*n)++;
	}
	if (ret < 0)
		fail_msg("read: %s:%d: %s", err.file, err.line, err.msg);
	ccmm_ftrace_stats(ft, st);
	ccmm_ftrace_close(ft);
}

/* first entry of an array, as read_all kept it */
#define FIRST(p) ((uint64_t)(uintptr_t)(p))

static void check_every_kind(struct ccmm_ftrace_event *e, int n, const struct ccmm_ftrace_stats *st, int first_line)
{
	assert_int_equal(n, CCMM_FT_NR);
	assert_int_equal(st->events, CCMM_FT_NR);
	assert_int_equal(st->skipped, 0);
	assert_int_equal(st->lost, 0);
	assert_int_equal(st->max_cpu, 3);
	for (int k = 0; k < CCMM_FT_NR; k++) {
		assert_int_equal(e[k].kind, k);
		assert_int_equal(e[k].line, first_line + k);
		assert_int_equal(st->by_kind[k], 1);
	}
	/* dma_map_page: every field */
	assert_string_equal(e[0].task, "ccmm-dio");
	assert_int_equal(e[0].pid, 202);
	assert_int_equal(e[0].cpu, 3);
	assert_int_equal(e[0].ts_ns, 6959898000ULL);
	assert_string_equal(e[0].dev, "0000:00:02.0");
	assert_int_equal(e[0].dir, CCMM_FT_TO_DEVICE);
	assert_int_equal(e[0].dma_addr, 0x1cdc0000);
	assert_int_equal(e[0].size, 16);
	assert_int_equal(e[0].phys_addr, 0x6e3c0f8);
	assert_int_equal(e[0].attrs, 0);
	assert_int_equal(e[0].has, CCMM_FT_HAS_DMA_ADDR | CCMM_FT_HAS_PHYS_ADDR | CCMM_FT_HAS_SIZE | CCMM_FT_HAS_DIR |
					   CCMM_FT_HAS_ATTRS);
	/* dma_map_resource: attrs decoded to the kernel's bit */
	assert_int_equal(e[1].attrs, CCMM_FT_ATTR_SKIP_CPU_SYNC);
	assert_int_equal(e[1].dir, CCMM_FT_BIDIRECTIONAL);
	/* dma_unmap_page: no physical address (the event has none) */
	assert_false(e[2].has & CCMM_FT_HAS_PHYS_ADDR);
	assert_int_equal(e[2].dma_addr, 0x19e02800);
	assert_int_equal(e[2].size, 48);
	assert_int_equal(e[3].kind, CCMM_FT_DMA_UNMAP_RESOURCE);
	/* dma_alloc: gfp flags kept as printed, task with a slash and a dash */
	assert_string_equal(e[4].task, "kworker/u4:1");
	assert_int_equal(e[4].pid, 29);
	assert_string_equal(e[4].flags, "GFP_KERNEL");
	assert_int_equal(e[4].dma_addr, 0x1ffbd000);
	assert_string_equal(e[5].flags, "GFP_KERNEL|__GFP_ZERO");
	assert_int_equal(e[6].attrs, CCMM_FT_ATTR_ALLOC_SINGLE_PAGES | CCMM_FT_ATTR_NO_WARN);
	/* dma_alloc_sgt: its pages */
	assert_int_equal(e[7].n_phys, 2);
	assert_int_equal(FIRST(e[7].phys_addrs), 0x4000000);
	assert_int_equal(e[8].dma_addr, 0x5794000);
	assert_int_equal(e[8].size, 6726);
	assert_int_equal(e[9].kind, CCMM_FT_DMA_FREE_PAGES);
	assert_int_equal(e[10].n_phys, 2);
	assert_false(e[10].has & CCMM_FT_HAS_ATTRS);
	/* dma_map_sg: counts and the three arrays */
	assert_int_equal(e[11].nents, 3);
	assert_int_equal(e[11].full_nents, 3);
	assert_int_equal(e[11].ents, 3);
	assert_int_equal(e[11].full_ents, 3);
	assert_false(e[11].truncated);
	assert_int_equal(e[11].n_phys, 3);
	assert_int_equal(e[11].n_dma, 3);
	assert_int_equal(e[11].n_sizes, 3);
	assert_int_equal(FIRST(e[11].phys_addrs), 0x2bc8000);
	assert_int_equal(FIRST(e[11].dma_addrs), 0x19e1f000);
	assert_int_equal(FIRST(e[11].sizes), 0x1000);
	assert_int_equal(e[11].attrs, CCMM_FT_ATTR_NO_WARN);
	/* dma_map_sg_err: its "dma_addrs" are the physical addresses */
	assert_int_equal(e[12].n_phys, 2);
	assert_int_equal(e[12].err, -ENOMEM);
	/* dma_unmap_sg: the idle task */
	assert_string_equal(e[13].task, "<idle>");
	assert_int_equal(e[13].pid, 0);
	assert_int_equal(e[13].n_phys, 2);
	assert_int_equal(e[14].dma_addr, 0x19e7f800);
	assert_int_equal(e[14].size, 64);
	assert_int_equal(e[15].kind, CCMM_FT_DMA_SYNC_SINGLE_FOR_DEVICE);
	assert_int_equal(e[16].n_dma, 2);
	assert_int_equal(FIRST(e[16].sizes), 0x200);
	assert_int_equal(e[17].dir, CCMM_FT_BIDIRECTIONAL);
	/* swiotlb_bounced: the original's address, the mask, forced */
	assert_int_equal(e[18].phys_addr, 0x6e3c0f8);
	assert_int_equal(e[18].dma_mask, UINT64_MAX);
	assert_int_equal(e[18].size, 16);
	assert_true(e[18].force);
	assert_string_equal(e[18].dev, "0000:00:02.0");
}

/* Every event kind of the 6.12 tracepoints, from the tracefs file. */
static void test_every_kind_tracefs(void **state)
{
	struct ccmm_ftrace_event e[CCMM_FT_NR + 4];
	struct ccmm_ftrace_stats st;
	int n;

	(void)state;
	put("every", every_kind, strlen(every_kind));
	read_all(path_of("every"), e, CCMM_FT_NR + 4, &n, &st);
	check_every_kind(e, n, &st, 8);
	assert_false(st.trace_cmd);
	for (int k = 0; k < CCMM_FT_NR; k++)
		assert_non_null(ccmm_ftrace_kind_name((enum ccmm_ftrace_kind)k));
	assert_null(ccmm_ftrace_kind_name(CCMM_FT_NR));
	assert_int_equal(ccmm_ftrace_probe(path_of("every"), NULL), 1);
}

/*
 * The same events as trace-cmd report prints them: a "cpus=" header, no
 * irq-flags column, event names padded; the reader gives the same events.
 */
static void test_trace_cmd_report(void **state)
{
	struct ccmm_ftrace_event e[CCMM_FT_NR + 4];
	struct ccmm_ftrace_stats st;
	char *text = malloc(strlen(every_kind) + 4096), *out;
	const char *p = every_kind;
	int n;

	(void)state;
	out = text;
	out += sprintf(out, "cpus=4\n");
	/* drop the tracefs header and the flags column; pad the event name */
	for (; *p; p = strchr(p, '\n') + 1) {
		const char *nl = strchr(p, '\n'), *close, *q, *ts_end, *ev, *ev_end;

		if (*p == '#')
			continue;
		close = strstr(p, "] ") + 1;
		for (q = close; *q == ' '; q++)
			;
		q += strcspn(q, " ");
		while (*q == ' ')
			q++;
		ts_end = strchr(q, ':');
		ev = ts_end + 2;
		ev_end = strchr(ev, ':');
		out += sprintf(out, "%.*s %.*s %-28.*s%.*s\n", (int)(close - p), p, (int)(ts_end - q + 1), q,
			       (int)(ev_end - ev + 1), ev, (int)(nl - ev_end - 1), ev_end + 1);
	}
	put("report", text, strlen(text));
	read_all(path_of("report"), e, CCMM_FT_NR + 4, &n, &st);
	check_every_kind(e, n, &st, 2);
	assert_true(st.trace_cmd);
	assert_int_equal(ccmm_ftrace_probe(path_of("report"), NULL), 1);
	free(text);
}

/* gzip and zstd files read as the plain one; a lackey trace is not ftrace. */
static void test_compressed(void **state)
{
	struct ccmm_ftrace_event e[CCMM_FT_NR + 4];
	struct ccmm_ftrace_stats st;
	int n;

	(void)state;
	put_gz("every.gz", every_kind);
	read_all(path_of("every.gz"), e, CCMM_FT_NR + 4, &n, &st);
	check_every_kind(e, n, &st, 8);
	put_zst("every.zst", every_kind);
	read_all(path_of("every.zst"), e, CCMM_FT_NR + 4, &n, &st);
	check_every_kind(e, n, &st, 8);
	put("lackey", "I  0400ab12,3\n L 7ff000398,8\n", 28);
	assert_int_equal(ccmm_ftrace_probe(path_of("lackey"), NULL), 0);
}

/*
 * Events of other subsystems and dma events a later kernel adds are
 * skipped and counted; "[LOST n EVENTS]" lines are counted; a truncated
 * dma_map_sg keeps its 128 entries and its full counts.
 */
static void test_unknown_and_lost(void **state)
{
	static const char text[] =
		TRACEFS_HEADER
		"          <idle>-0       [001] d..2.   100.000001: sched_switch: prev_comm=swapper/1 prev_pid=0 prev_prio=120 prev_state=R ==> next_comm=kworker next_pid=7 next_prio=120\n"
		"        ccmm-dio-202     [003] d..1.   100.000002: swiotlb_bounced: dev_name: 0000:00:02.0 dma_mask=ffffffff dev_addr=1000 size=512 NORMAL\n"
		"        ccmm-dio-202     [003] d..1.   100.000003: dma_map_phys: 0000:00:02.0 dir=TO_DEVICE dma_addr=1000 size=512 phys_addr=1000 attrs=\n"
		"CPU:2 [LOST 17 EVENTS]\n"
		"        ccmm-dio-202     [003] d..1.   100.000004: block_rq_issue: 254,0 W 4096 () 8 + 8 [ccmm-dio]\n";
	struct ccmm_ftrace_event e[4];
	struct ccmm_ftrace_stats st;
	int n;

	(void)state;
	put("mixed", text, strlen(text));
	read_all(path_of("mixed"), e, 4, &n, &st);
	assert_int_equal(n, 1);
	assert_int_equal(e[0].kind, CCMM_FT_SWIOTLB_BOUNCED);
	assert_false(e[0].force);
	assert_int_equal(e[0].dma_mask, 0xffffffff);
	assert_int_equal(e[0].line, 9);
	assert_int_equal(st.skipped, 3);
	assert_string_equal(st.first_skipped, "sched_switch");
	assert_int_equal(st.lost, 17);
	assert_int_equal(st.max_cpu, 3);
}

static void test_truncated_sg(void **state)
{
	char *text = malloc(16384), *p = text;
	struct ccmm_ftrace *ft;
	struct ccmm_ftrace_event ev;
	struct ccmm_error err;

	(void)state;
	p += sprintf(p, "  kworker-5 [000] ..... 1.000000: dma_map_sg: 0000:00:02.0 dir=TO_DEVICE nents=128/200 ents=128/130 [TRUNCATED] dma_addrs={");
	for (int i = 0; i < 128; i++)
		p += sprintf(p, "%s0x%x", i ? "," : "", 0x100000 + i * 0x1000);
	p += sprintf(p, "} sizes={");
	for (int i = 0; i < 128; i++)
		p += sprintf(p, "%s0x1000", i ? "," : "");
	p += sprintf(p, "} phys_addrs={");
	for (int i = 0; i < 128; i++)
		p += sprintf(p, "%s0x%x", i ? "," : "", 0x200000 + i * 0x1000);
	p += sprintf(p, "} attrs=\n");
	put("trunc", text, strlen(text));
	assert_int_equal(ccmm_ftrace_open(path_of("trunc"), &ft, &err), 0);
	assert_int_equal(ccmm_ftrace_next(ft, &ev, &err), 1);
	assert_true(ev.truncated);
	assert_int_equal(ev.nents, 128);
	assert_int_equal(ev.full_nents, 200);
	assert_int_equal(ev.full_ents, 130);
	assert_int_equal(ev.n_phys, 128);
	assert_int_equal(ev.phys_addrs[127], 0x200000 + 127 * 0x1000);
	assert_int_equal(ev.dma_addrs[127], 0x100000 + 127 * 0x1000);
	assert_int_equal(ccmm_ftrace_next(ft, &ev, &err), 0);
	ccmm_ftrace_close(ft);
	free(text);
}

/* Each malformed line is an error at its line that names what is wrong. */
static void test_malformed(void **state)
{
	static const struct {
		const char *line;
		int ret;
		const char *want; /* in the message */
	} cases[] = {
		{ "garbage without a cpu field\n", -EINVAL, "no [CPU] field" },
		{ "  t-1 [000] ..... 1.5x: dma_map_page: d dir=TO_DEVICE dma_addr=1 size=1 phys_addr=1 attrs=\n", -EINVAL,
		  "timestamp '1.5x'" },
		{ "  t-1 [000] ..... 1.5 dma_map_page: d dir=TO_DEVICE dma_addr=1 size=1 phys_addr=1 attrs=\n", -EINVAL,
		  "no timestamp" },
		{ "  t-1 [000] ..... 1.5: \n", -EINVAL, "no event name" },
		{ "  t-1 [000] ..... 1.5: dma_map_page: d dir=TO_DEVICE dma_addr=1 size=12x phys_addr=1 attrs=\n", -EINVAL,
		  "dma_map_page: size='12x' is not a decimal number" },
		{ "  t-1 [000] ..... 1.5: dma_map_page: d dir=TO_DEVICE dma_addr=zz size=1 phys_addr=1 attrs=\n", -EINVAL,
		  "dma_map_page: dma_addr='zz' is not a hexadecimal number" },
		{ "  t-1 [000] ..... 1.5: dma_map_page: d dir=TO_DEVICE dma_addr=1 size=1 attrs=\n", -EINVAL,
		  "dma_map_page: no phys_addr= field" },
		{ "  t-1 [000] ..... 1.5: dma_unmap_page: d dir=SIDEWAYS dma_addr=1 size=1 attrs=\n", -EINVAL,
		  "dma_unmap_page: dir='SIDEWAYS' is not a DMA direction" },
		{ "  t-1 [000] ..... 1.5: dma_unmap_page: d dir=TO_DEVICE dma_addr=1 size=1 attrs=FAST\n", -EINVAL,
		  "unknown DMA attribute 'FAST'" },
		{ "  t-1 [000] ..... 1.5: dma_unmap_page: d dir=TO_DEVICE dma_addr=1 size=1 attrs= extra=1\n", -EINVAL,
		  "dma_unmap_page: unexpected field 'extra=1'" },
		{ "  t-1 [000] ..... 1.5: dma_unmap_page: dir=TO_DEVICE dma_addr=1 size=1 attrs=\n", -EINVAL,
		  "no device name" },
		{ "  t-1 [000] ..... 1.5: dma_unmap_sg: d dir=TO_DEVICE phys_addrs={0x1,} attrs=\n", -EINVAL,
		  "dma_unmap_sg: phys_addrs: a comma before '}'" },
		{ "  t-1 [000] ..... 1.5: dma_unmap_sg: d dir=TO_DEVICE phys_addrs={0x1,12} attrs=\n", -EINVAL,
		  "phys_addrs: entry 1 '12' is not a hexadecimal number" },
		{ "  t-1 [000] ..... 1.5: dma_unmap_sg: d dir=TO_DEVICE phys_addrs=0x1 attrs=\n", -EINVAL,
		  "phys_addrs='0x1' is not an array" },
		{ "  t-1 [000] ..... 1.5: dma_map_sg: d dir=TO_DEVICE nents=2/2 ents=1/1 dma_addrs={0x1} sizes={0x1} phys_addrs={0x1} attrs=\n",
		  -EINVAL, "nents=2/ents=1 do not match the arrays" },
		{ "  t-1 [000] ..... 1.5: dma_map_sg: d dir=TO_DEVICE nents=1 ents=1/1 dma_addrs={0x1} sizes={0x1} phys_addrs={0x1} attrs=\n",
		  -EINVAL, "nents='1' is not TRACED/FULL" },
		{ "  t-1 [000] ..... 1.5: swiotlb_bounced: dev_name: d dma_mask=ff dev_addr=1 size=1\n", -EINVAL,
		  "swiotlb_bounced: no FORCE or NORMAL" },
		{ "  t-1 [000] ..... 1.5: swiotlb_bounced: d dma_mask=ff dev_addr=1 size=1 FORCE\n", -EINVAL,
		  "swiotlb_bounced: no dev_name: field" },
		{ "  t-1 [000] d?.1. 1.5: dma_sync_single_for_cpu: d dir=TO_DEVICE dma_addr=1 size=1\n", -EINVAL,
		  "irq-flags field 'd?.1.'" },
		/* cut short by the end of the file */
		{ "  t-1 [000] ..... 1.5: dma_sync_single_for_cpu: d dir=TO_DEVICE dma_addr=1 size=1", -EIO, "cut short" },
	};
	static const char good[] =
		"  t-1 [000] ..... 1.4: dma_sync_single_for_cpu: d dir=TO_DEVICE dma_addr=1 size=1\n";

	(void)state;
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(cases); i++) {
		char text[1024];
		struct ccmm_ftrace *ft;
		struct ccmm_ftrace_event ev;
		struct ccmm_error err;
		char where[160];
		int ret;

		/* a header and a good event first, so the bad line is line 3 */
		snprintf(text, sizeof(text), "# tracer: nop\n%s%s", good, cases[i].line);
		put("bad", text, strlen(text));
		assert_int_equal(ccmm_ftrace_open(path_of("bad"), &ft, &err), 0);
		assert_int_equal(ccmm_ftrace_next(ft, &ev, &err), 1);
		memset(&err, 0, sizeof(err));
		ret = ccmm_ftrace_next(ft, &ev, &err);
		ccmm_ftrace_close(ft);
		if (ret != cases[i].ret || err.line != 3 || !strstr(err.msg, cases[i].want))
			fail_msg("case %zu: ret %d line %d '%s' (want %d at line 3 with '%s')", i, ret, err.line, err.msg,
				 cases[i].ret, cases[i].want);
		snprintf(where, sizeof(where), "%s", path_of("bad"));
		assert_string_equal(err.file, where);
	}
}

/*
 * One shipped recording read whole: no event lost or skipped; every
 * streaming mapping bounced (swiotlb=force) and its swiotlb_bounced line(s)
 * came first on the same CPU, nested like the calls (an interrupt that maps
 * between a bounce and its map event pushes its own pair on top), with the
 * same original address and size; each dma_map_page's DMA address inside
 * the recorded pool, or DMA_MAPPING_ERROR (all ones) when the pool was
 * full; as many unmaps as successful maps where the workload ends with none
 * mapped. Returns the number of mappings; *@failed counts the failures.
 */
#define MAX_CPUS 8
#define MAX_NEST 4096

static uint64_t check_recording(const char *name, bool all_unmapped, uint64_t *failed)
{
	static struct ccmm_ftrace_event stack[MAX_CPUS][MAX_NEST];
	int depth[MAX_CPUS] = { 0 };
	char path[512];
	struct ccmm_ftrace *ft;
	struct ccmm_ftrace_event ev;
	struct ccmm_ftrace_stats st;
	struct ccmm_platform *p;
	struct ccmm_error err;
	uint64_t maps = 0;
	int ret;

	*failed = 0;
	snprintf(path, sizeof(path), CCMM_SOURCE_DIR "/tests/recordings/%s/platform.ini", name);
	if (ccmm_platform_load(path, &p, &err))
		fail_msg("platform: %s:%d: %s", err.file, err.line, err.msg);
	assert_true(p->swiotlb_force);
	assert_true(p->swiotlb_base > 0);
	snprintf(path, sizeof(path), CCMM_SOURCE_DIR "/tests/recordings/%s/trace.zst", name);
	if (ccmm_ftrace_open(path, &ft, &err))
		fail_msg("open: %s", err.msg);
	while ((ret = ccmm_ftrace_next(ft, &ev, &err)) == 1) {
		int c = ev.cpu;

		assert_true(c >= 0 && c < MAX_CPUS);
		if (ev.kind == CCMM_FT_SWIOTLB_BOUNCED) {
			assert_true(ev.force);
			assert_true(depth[c] < MAX_NEST);
			stack[c][depth[c]++] = ev;
		} else if (ev.kind == CCMM_FT_DMA_MAP_PAGE) {
			struct ccmm_ftrace_event *b;

			if (!depth[c])
				fail_msg("%s:%u: dma_map_page without a swiotlb_bounced before it", name, ev.line);
			b = &stack[c][--depth[c]];
			if (b->phys_addr != ev.phys_addr || b->size != ev.size)
				fail_msg("%s:%u: dma_map_page of 0x%" PRIx64 "+%" PRIu64 " after the bounce of 0x%" PRIx64 "+%" PRIu64
					 " (line %u)", name, ev.line, ev.phys_addr, ev.size, b->phys_addr, b->size, b->line);
			if (ev.dma_addr == UINT64_MAX)
				(*failed)++;
			else if (ev.dma_addr < p->swiotlb_base || ev.dma_addr + ev.size > p->swiotlb_base + p->swiotlb_size)
				fail_msg("%s:%u: dma_addr 0x%" PRIx64 " is outside the pool", name, ev.line, ev.dma_addr);
			maps++;
		} else if (ev.kind == CCMM_FT_DMA_MAP_SG) {
			/* one bounce per entry, in order, then the event */
			assert_false(ev.truncated);
			if ((size_t)depth[c] < ev.n_phys)
				fail_msg("%s:%u: dma_map_sg of %zu entries after %d bounces", name, ev.line, ev.n_phys, depth[c]);
			for (size_t i = 0; i < ev.n_phys; i++) {
				struct ccmm_ftrace_event *b = &stack[c][depth[c] - (int)ev.n_phys + (int)i];

				if (b->phys_addr != ev.phys_addrs[i])
					fail_msg("%s:%u: sg entry %zu at 0x%" PRIx64 ", bounced 0x%" PRIx64, name, ev.line, i,
						 ev.phys_addrs[i], b->phys_addr);
				if (ev.dma_addrs[i] < p->swiotlb_base || ev.dma_addrs[i] >= p->swiotlb_base + p->swiotlb_size)
					fail_msg("%s:%u: sg entry %zu outside the pool", name, ev.line, i);
			}
			depth[c] -= (int)ev.n_phys;
			maps += ev.n_phys;
		}
	}
	if (ret < 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	ccmm_ftrace_stats(ft, &st);
	ccmm_ftrace_close(ft);
	ccmm_platform_free(p);
	for (int c = 0; c < MAX_CPUS; c++)
		if (depth[c])
			fail_msg("%s: %d bounces on CPU %d without their map event", name, depth[c], c);
	assert_int_equal(st.skipped, 0);
	assert_int_equal(st.lost, 0);
	assert_int_equal(st.by_kind[CCMM_FT_SWIOTLB_BOUNCED], maps);
	if (all_unmapped)
		assert_int_equal(st.by_kind[CCMM_FT_DMA_UNMAP_PAGE], st.by_kind[CCMM_FT_DMA_MAP_PAGE] - *failed);
	return maps;
}

/* The shipped recordings of device DMA, each read whole (check_recording). */
static void test_shipped_recordings(void **state)
{
	uint64_t failed;

	(void)state;
	assert_true(check_recording("virtio-blk", true, &failed) > 1000);
	assert_int_equal(failed, 0);
	assert_true(check_recording("virtio-blk-4cpu", true, &failed) > 1000);
	assert_int_equal(failed, 0);
	/* the small pool fills: some mappings fail and are requeued */
	assert_true(check_recording("swiotlb-small", true, &failed) > 100);
	assert_true(failed > 0);
	assert_true(check_recording("nvme", true, &failed) > 1000);
	assert_int_equal(failed, 0);
	/* e1000 keeps its receive rings mapped */
	assert_true(check_recording("e1000", false, &failed) > 200);
	assert_int_equal(failed, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_kind_tracefs), cmocka_unit_test(test_trace_cmd_report),
		cmocka_unit_test(test_compressed),         cmocka_unit_test(test_unknown_and_lost),
		cmocka_unit_test(test_truncated_sg),       cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_shipped_recordings),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
