// SPDX-License-Identifier: MIT
/*
 * The dma_trace replay on small traces written here, each a situation the
 * shipped recordings do not all show: bounce-before-map pairing with an
 * interrupt nested in the window, scatterlists (map, sync, unmap), a full
 * pool (the kernel's and ccmm's mapping both fail), mappings of uncertain
 * order on two CPUs sharing an area (and certain ones in separate areas),
 * a call that never completes in the trace (an orphan), a kernel answer
 * the model cannot give (a divergence, named by its line), and events of
 * other subsystems (skipped and counted).
 *
 * The machine: 1 GiB of RAM, a 1 MiB pool at 256 MiB (512 slots, the areas
 * each case asks for), swiotlb=force, one 64-bit device dev0.
 */
#include "helpers.h"

#include <jansson.h>
#include <unistd.h>

#include "scenario/scenario.h"

#define BASE 0x10000000ULL

static char dir[256];

static int setup(void **state)
{
	snprintf(dir, sizeof(dir), "%s/ccmm-dma-trace.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static void write_text(const char *name, const char *text)
{
	char p[400];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The platform with @areas areas on @cpus CPUs. */
static void platform(unsigned cpus, unsigned areas)
{
	char t[600];

	snprintf(t, sizeof(t),
		 "[platform]\nmode = none\ncpus = %u\nswiotlb_force = yes\nswiotlb_size = 1m\nswiotlb_base = 0x%llx\n"
		 "swiotlb_areas = %u\n[node:0]\nmem = 1g\n[device:dev0]\nclass = generic\ndma_mask = 64\n",
		 cpus, (unsigned long long)BASE, areas);
	write_text("p.ini", t);
}

/* A tracefs event line on @cpu. */
static void ev(FILE *f, int cpu, const char *fmt, ...)
{
	static unsigned us;
	va_list ap;

	fprintf(f, "           task-7     [%03d] d..1.     1.%06u: ", cpu, ++us);
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

#define BOUNCED(f, cpu, pa, size) \
	ev(f, cpu, "swiotlb_bounced: dev_name: dev0 dma_mask=ffffffffffffffff dev_addr=%llx size=%u FORCE", \
	   (unsigned long long)(pa), (unsigned)(size))
#define MAP(f, cpu, pa, size, dma)                                                                                  \
	ev(f, cpu, "dma_map_page: dev0 dir=TO_DEVICE dma_addr=%llx size=%u phys_addr=%llx attrs=",                   \
	   (unsigned long long)(dma), (unsigned)(size), (unsigned long long)(pa))
#define UNMAP(f, cpu, size, dma) \
	ev(f, cpu, "dma_unmap_page: dev0 dir=TO_DEVICE dma_addr=%llx size=%u attrs=", (unsigned long long)(dma), (unsigned)(size))

static FILE *trace_open(void)
{
	char p[400];
	FILE *f;

	snprintf(p, sizeof(p), "%s/t.trace", dir);
	f = fopen(p, "w");
	assert_non_null(f);
	fprintf(f, "# tracer: nop\n#\n");
	return f;
}

struct result {
	int status;              /* the run's: 0 as expected, 1 an op error (agree said no) */
	json_t *jt;              /* the actor's "dma_trace" object (owned) */
	char note[200];          /* the first op error's note */
};

/* Replay t.trace on p.ini with @ops; the figures in @r. */
static void replay(const char *ops, struct result *r)
{
	char text[1200];
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	struct ccmm_run_summary s;
	json_t *jo = json_object();

	snprintf(text, sizeof(text), "[global]\nplatform = %s/p.ini\n[kernel]\nactor = dma_trace\ntrace = %s/t.trace\n%s", dir,
		 dir, ops);
	if (ccmm_job_load("t.job", text, NULL, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	if (run->error[0])
		fail_msg("run error: %s", run->error);
	ccmm_run_summarize(run, &s);
	r->status = s.status;
	r->note[0] = '\0';
	if (ccmm_run_op_error(run, 0))
		snprintf(r->note, sizeof(r->note), "%s", ccmm_run_op_error(run, 0)->note);
	job->actors[0]->kind->report_json(job->actors[0], jo);
	r->jt = json_incref(json_object_get(jo, "dma_trace"));
	json_decref(jo);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

static uint64_t ag(const struct result *r, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(json_object_get(r->jt, "agreement"), key));
}

static uint64_t pool(const struct result *r, const char *key)
{
	return (uint64_t)json_integer_value(json_object_get(json_object_get(r->jt, "pool"), key));
}

/*
 * An interrupt that maps inside another mapping's window (bounce, [bounce,
 * map], map) is ordered by its bounced line: the outer search came first.
 * The pool is next fit: each 4 KiB mapping page aligned after the last.
 */
static void test_nested_interrupt(void **state)
{
	struct result r;
	FILE *f;

	platform(1, 1);
	f = trace_open();
	BOUNCED(f, 0, 0x1000000, 4096);
	BOUNCED(f, 0, 0x2000000, 512);                 /* the interrupt's */
	MAP(f, 0, 0x2000000, 512, BASE + 0x1000);      /* slot 2, after the outer one's 0-1 */
	MAP(f, 0, 0x1000000, 4096, BASE);
	UNMAP(f, 0, 512, BASE + 0x1000);
	BOUNCED(f, 0, 0x3000000, 4096);
	MAP(f, 0, 0x3000000, 4096, BASE + 0x2000);     /* the cursor's slot 3 is odd: 4-5 */
	fclose(f);
	replay("op = replay\nop = agree\nop = check io_tlb_used=4 io_tlb_used_hiwater=4 maps=3 bounced=3\n", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(ag(&r, "compared"), 3);
	assert_int_equal(ag(&r, "agreed"), 3);
	json_decref(r.jt);
}

/* dma_map_sg: one bounced line per entry, then the event; syncs and the unmap by the group. */
static void test_scatterlist(void **state)
{
	struct result r;
	FILE *f;

	platform(1, 1);
	f = trace_open();
	BOUNCED(f, 0, 0x1000000, 4096);
	BOUNCED(f, 0, 0x1005000, 2048);
	ev(f, 0, "dma_map_sg: dev0 dir=BIDIRECTIONAL nents=2/2 ents=2/2 dma_addrs={0x%llx,0x%llx} sizes={0x1000,0x800} "
		 "phys_addrs={0x1000000,0x1005000} attrs=",
	   BASE, BASE + 0x1000);
	ev(f, 0, "dma_sync_sg_for_cpu: dev0 dir=BIDIRECTIONAL dma_addrs={0x%llx,0x%llx} sizes={0x1000,0x800}", BASE,
	   BASE + 0x1000);
	ev(f, 0, "dma_sync_single_for_device: dev0 dir=BIDIRECTIONAL dma_addr=%llx size=64", BASE + 0x1000);
	ev(f, 0, "dma_unmap_sg: dev0 dir=BIDIRECTIONAL phys_addrs={0x1000000,0x1005000} attrs=");
	fclose(f);
	replay("op = replay\nop = agree\nop = check io_tlb_used=0 io_tlb_used_hiwater=3 maps=2\n", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(ag(&r, "compared"), 2);
	assert_int_equal(ag(&r, "agreed"), 2);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(r.jt, "devices"), 0), "syncs")), 3);
	assert_int_equal(json_integer_value(json_object_get(r.jt, "unmatched")), 0);
	json_decref(r.jt);
}

/* A full pool: the kernel's mapping fails (DMA_MAPPING_ERROR), and so does ccmm's: that is agreement. */
static void test_full_pool(void **state)
{
	struct result r;
	FILE *f;

	platform(1, 1);
	f = trace_open();
	/* four 256 KiB mappings fill the 512 slots */
	for (int i = 0; i < 4; i++) {
		BOUNCED(f, 0, 0x1000000 + i * 0x40000, 262144);
		MAP(f, 0, 0x1000000 + i * 0x40000, 262144, BASE + i * 0x40000);
	}
	BOUNCED(f, 0, 0x2000000, 4096);
	MAP(f, 0, 0x2000000, 4096, 0xffffffffffffffffULL);
	UNMAP(f, 0, 262144, BASE);
	BOUNCED(f, 0, 0x2000000, 4096);
	MAP(f, 0, 0x2000000, 4096, BASE);              /* the search wrapped to the freed segment */
	fclose(f);
	replay("op = replay\nop = agree\nop = check io_tlb_used=386 io_tlb_used_hiwater=512 maps=6 map_failures=1\n", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(ag(&r, "compared"), 6);
	assert_int_equal(ag(&r, "agreed"), 6);
	json_decref(r.jt);
}

/*
 * Two CPUs, one area: B's search (CPU 1) happens inside A's window (CPU 0)
 * and the kernel gave B the first slots. Replayed by bounced lines A comes
 * first, so both land elsewhere: two divergences, both of uncertain order,
 * so agree holds. With an area per CPU the same trace has nothing
 * uncertain.
 */
static void test_uncertain_order(void **state)
{
	struct result r;
	FILE *f;

	platform(2, 1);
	f = trace_open();
	BOUNCED(f, 0, 0x1000000, 4096);                /* A */
	BOUNCED(f, 1, 0x2000000, 4096);                /* B */
	MAP(f, 1, 0x2000000, 4096, BASE);              /* B claimed first */
	MAP(f, 0, 0x1000000, 4096, BASE + 0x1000);
	fclose(f);
	replay("op = replay\nop = agree\n", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(ag(&r, "compared"), 2);
	assert_int_equal(ag(&r, "uncertain"), 2);
	assert_int_equal(ag(&r, "uncertain_diverged"), 2);
	assert_int_equal(ag(&r, "diverged"), 0);
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r.jt, "agreement"), "first_uncertain_divergence")),
			       "t.trace:3: dma_map_page dev0 of 4096 bytes at 0x1000000 (CPU 0, completed at line 6)"));
	json_decref(r.jt);

	/* an area per CPU (256 slots each): A in area 0, B in area 1, in either order */
	platform(2, 2);
	f = trace_open();
	BOUNCED(f, 0, 0x1000000, 4096);
	BOUNCED(f, 1, 0x2000000, 4096);
	MAP(f, 1, 0x2000000, 4096, BASE + 0x80000);
	MAP(f, 0, 0x1000000, 4096, BASE);
	fclose(f);
	replay("op = replay\nop = agree\n", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(ag(&r, "uncertain"), 0);
	assert_int_equal(ag(&r, "agreed"), 2);
	json_decref(r.jt);
}

/*
 * A kernel answer ccmm does not give is a divergence: agree fails (an op
 * error, exit status 1) and names the bounced line; check sees the figures.
 */
static void test_divergence(void **state)
{
	struct result r;
	FILE *f;

	platform(1, 1);
	f = trace_open();
	BOUNCED(f, 0, 0x1000000, 4096);
	MAP(f, 0, 0x1000000, 4096, BASE + 0x3000);     /* not next fit from slot 0 */
	fclose(f);
	replay("op = replay\nop = agree ret=EBADMSG\nop = check maps=2 ret=EBADMSG\nop = agree\n", &r);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.note, "1 of 1 mappings diverged from the kernel's, the first at trace line 3");
	assert_non_null(strstr(json_string_value(json_object_get(json_object_get(r.jt, "agreement"), "first_divergence")),
			       "t.trace:3: dma_map_page dev0 of 4096 bytes at 0x1000000 (CPU 0, completed at line 4): kernel pool "
			       "offset 0x3000, ccmm pool offset 0x0"));
	assert_int_equal(ag(&r, "diverged"), 1);
	json_decref(r.jt);
}

/*
 * A bounced line no call completes (a dma_map_sg that failed with -ENOMEM,
 * which 6.12 does not trace): searched where the kernel searched, held,
 * released at the CPU's next call; the next mapping lands after it.
 */
static void test_orphan(void **state)
{
	struct result r;
	FILE *f;

	platform(1, 1);
	f = trace_open();
	BOUNCED(f, 0, 0x1000000, 4096);                /* entries of an sg mapping that failed */
	BOUNCED(f, 0, 0x1001000, 4096);
	BOUNCED(f, 0, 0x3000000, 4096);
	MAP(f, 0, 0x3000000, 4096, BASE + 0x2000);
	fclose(f);
	replay("op = replay\nop = agree\nop = check io_tlb_used=2 io_tlb_used_hiwater=4\n", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(ag(&r, "orphans"), 2);
	assert_int_equal(ag(&r, "compared"), 1);
	json_decref(r.jt);
}

/* Events of other subsystems, and a dma event a later kernel may add, are skipped and counted. */
static void test_skipped_events(void **state)
{
	struct result r;
	FILE *f;

	platform(1, 1);
	f = trace_open();
	ev(f, 0, "irq_handler_entry: irq=11 name=virtio0");
	BOUNCED(f, 0, 0x1000000, 4096);
	ev(f, 0, "dma_map_phys: dev0 dir=TO_DEVICE dma_addr=0 size=1 phys_addr=0 attrs=");
	MAP(f, 0, 0x1000000, 4096, BASE);
	ev(f, 0, "sched_switch: prev_comm=a prev_pid=1 prev_prio=120 prev_state=S ==> next_comm=b next_pid=2 next_prio=120");
	UNMAP(f, 0, 4096, BASE);
	fclose(f);
	replay("op = replay\nop = agree\n", &r);
	assert_int_equal(r.status, 0);
	assert_int_equal(json_integer_value(json_object_get(r.jt, "skipped")), 3);
	assert_string_equal(json_string_value(json_object_get(r.jt, "first_skipped")), "irq_handler_entry");
	assert_int_equal(ag(&r, "agreed"), 1);
	assert_int_equal(pool(&r, "io_tlb_used"), 0);
	json_decref(r.jt);
}

/* Load-time errors name the trace's line: a device not on the platform, a buffer outside RAM, lost events. */
static void test_load_errors(void **state)
{
	struct ccmm_job *job;
	struct ccmm_error err;
	char text[600];
	FILE *f;

	platform(1, 1);
	snprintf(text, sizeof(text), "[global]\nplatform = %s/p.ini\n[kernel]\nactor = dma_trace\ntrace = %s/t.trace\nop = replay\n",
		 dir, dir);
	f = trace_open();
	ev(f, 0, "dma_unmap_page: nic0 dir=TO_DEVICE dma_addr=0 size=1 attrs=");
	fclose(f);
	assert_int_equal(ccmm_job_load("t.job", text, NULL, &job, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "device 'nic0' of the trace is not on platform"));

	f = trace_open();
	MAP(f, 0, 0x80000000, 4096, BASE);             /* 2 GiB: past the 1 GiB of RAM */
	fclose(f);
	assert_int_equal(ccmm_job_load("t.job", text, NULL, &job, &err), -EINVAL);
	assert_int_equal(err.line, 3);
	assert_non_null(strstr(err.msg, "phys_addr 0x80000000 (4096 bytes) is not RAM on platform"));

	f = trace_open();
	fprintf(f, "CPU:0 [LOST 12 EVENTS]\n");
	MAP(f, 0, 0x1000000, 4096, BASE);
	fclose(f);
	assert_int_equal(ccmm_job_load("t.job", text, NULL, &job, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "the kernel reported 12 events lost"));

	/* agree needs the kernel's pool base */
	write_text("p.ini", "[platform]\nmode = none\nswiotlb_force = yes\n[node:0]\nmem = 1g\n[device:dev0]\n");
	snprintf(text, sizeof(text), "[global]\nplatform = %s/p.ini\n[kernel]\nactor = dma_trace\ntrace = %s/t.trace\nop = agree\n",
		 dir, dir);
	assert_int_equal(ccmm_job_load("t.job", text, NULL, &job, &err), -EINVAL);
	assert_non_null(strstr(err.msg, "does not say where it was (swiotlb_base)"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nested_interrupt),
		cmocka_unit_test(test_scatterlist),
		cmocka_unit_test(test_full_pool),
		cmocka_unit_test(test_uncertain_order),
		cmocka_unit_test(test_divergence),
		cmocka_unit_test(test_orphan),
		cmocka_unit_test(test_skipped_events),
		cmocka_unit_test(test_load_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
