// SPDX-License-Identifier: MIT
/*
 * The model's kernel-format files held against files a real Linux 6.12
 * printed (tests/recordings/tier-kswapd: the recorded two-tier machine)
 * and against the kernel's format strings: /proc/vmstat (vmstat_show),
 * the cgroupfs dump's memory.stat (memcg_stat_format) and memory.events
 * (__memory_events_show), the sysfs dump's
 * memory_tiering/memory_tierN/nodelist (nodelist_show),
 * kernel/mm/numa/demotion_enabled (demotion_enabled_show),
 * node/nodeN/meminfo (node_read_meminfo) and node/nodeN/x86/
 * sgx_total_bytes (sgx_total_bytes_show). Same names, same order, same
 * layout; the values are the model's.
 */
#include <ctype.h>
#include <unistd.h>

#include "helpers.h"

#include "scenario/scenario.h"

#define REC CCMM_SOURCE_DIR "/tests/recordings/tier-kswapd/"

static char tmp[64];

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;

	if (!f)
		fail_msg("%s: missing", path);
	buf = calloc(1, 1 << 20);
	assert_non_null(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Run @job_text (a job in the temporary directory) to the end. */
static void run_job(const char *job_text)
{
	char path[256];
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_error err;
	struct ccmm_run_summary s;

	snprintf(path, sizeof(path), "%s/t.job", tmp);
	if (ccmm_job_load(path, job_text, NULL, &job, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(ccmm_job_run(job, &run), 0);
	ccmm_run_summarize(run, &s);
	if (s.status)
		fail_msg("the job failed: %s", run->error);
	ccmm_run_free(run);
	ccmm_job_free(job);
}

/*
 * The recorded machine, demotion on, a task in /ccmm demoting through
 * kswapd; vmstat, cgroupfs and sysfs dumped into the temporary directory.
 */
static int setup(void **state)
{
	char text[2048];

	snprintf(tmp, sizeof(tmp), "/tmp/ccmm-kfiles.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(text, sizeof(text),
		 "[global]\nplatform = %s/platform.ini\ndemotion_enabled = yes\nmin_free_kbytes = 54600\n"
		 "node_reserve = 0:320m\nvmstat = %s/vmstat\ncgroupfs = %s/cg\nsysfs = %s/sys\n"
		 "[shell]\nactor = cgroup\nop = mkdir /ccmm controllers=memory,misc\nop = signal go\n"
		 "[hog]\nactor = tier_task\ncgroup = /ccmm\nbind_first = yes\ntouch = 64m\nop = wait go\n",
		 CCMM_SOURCE_DIR "/tests/recordings/tier-kswapd", tmp, tmp, tmp);
	run_job(text);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
	return system(cmd) == 0 ? 0 : -1;
}

/* The line of @text starting with "@key " (or @key when @exact_prefix), its index among lines; -1 if none. */
static int line_index(const char *text, const char *key, char *line, size_t len)
{
	int i = 0;
	size_t kl = strlen(key);

	for (const char *l = text; *l; i++) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);

		if (n > kl && !strncmp(l, key, kl) && l[kl] == ' ') {
			if (line)
				snprintf(line, len, "%.*s", (int)n, l);
			return i;
		}
		if (!nl)
			break;
		l = nl + 1;
	}
	return -1;
}

/*
 * Every "NAME VALUE" line of @ours is in @theirs (the kernel's), in the same
 * order; returns the number of lines. @extra names one key the kernel of
 * the recording (6.12) lacks and current mainline prints last (or NULL).
 */
static int same_keys_in_order(const char *what, const char *ours, const char *theirs, const char *extra)
{
	int last = -1, n = 0;

	for (const char *l = ours; *l;) {
		const char *nl = strchr(l, '\n');
		char name[96];
		int idx;
		size_t sp = strcspn(l, " ");

		if (!nl)
			fail_msg("%s: the last line has no newline", what);
		assert_true(sp > 0 && sp < sizeof(name));
		snprintf(name, sizeof(name), "%.*s", (int)sp, l);
		/* "%s %lu\n": one space, a decimal, the newline */
		for (const char *d = l + sp + 1; d < nl; d++)
			if (!isdigit((unsigned char)*d))
				fail_msg("%s: '%.*s' is not \"NAME VALUE\"", what, (int)(nl - l), l);
		assert_true(nl > l + sp + 1);
		idx = line_index(theirs, name, NULL, 0);
		if (extra && !strcmp(name, extra)) {
			assert_int_equal(idx, -1);
			assert_int_equal(nl[1], '\0'); /* the last line */
		} else {
			if (idx < 0)
				fail_msg("%s: '%s' is not a name the kernel prints", what, name);
			if (idx <= last)
				fail_msg("%s: '%s' is out of the kernel's order", what, name);
			last = idx;
		}
		n++;
		l = nl + 1;
	}
	return n;
}

/*
 * /proc/vmstat: vmstat_show() prints vmstat_text[i], " " and the value
 * (seq_puts, seq_put_decimal_ull(m, " ", ...), seq_putc('\n')) in
 * vmstat_text[]'s order (mm/vmstat.c). The model's lines are a subset of
 * the recorded file's, in its order, with the zone-suffixed allocstall_*
 * and the pgdemote_* / numa_* families, and nothing the kernel lacks.
 */
static void test_vmstat(void **state)
{
	char path[256], line[128];
	char *ours, *theirs;
	static const char *const must[] = { "allocstall_dma",   "allocstall_dma32",  "allocstall_normal",
					    "allocstall_movable", "allocstall_device", "pgdemote_kswapd",
					    "pgdemote_direct",  "pgdemote_khugepaged", "numa_hit",
					    "numa_pte_updates", "numa_hint_faults",  "numa_pages_migrated" };

	snprintf(path, sizeof(path), "%s/vmstat", tmp);
	ours = slurp(path);
	theirs = slurp(REC "after/vmstat");
	assert_true(same_keys_in_order("vmstat", ours, theirs, NULL) > 40);
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(must); i++)
		if (line_index(ours, must[i], NULL, 0) < 0)
			fail_msg("vmstat lacks %s", must[i]);
	assert_int_equal(line_index(ours, "nr_swap_used", NULL, 0), -1);
	assert_int_equal(line_index(ours, "kswapd_wakeups", NULL, 0), -1);
	assert_int_equal(line_index(ours, "allocstall", NULL, 0), -1);
	/* the workload demoted: the values are the model's */
	assert_true(line_index(ours, "pgdemote_kswapd", line, sizeof(line)) >= 0);
	assert_string_not_equal(line, "pgdemote_kswapd 0");
	free(ours);
	free(theirs);
}

/*
 * memory.stat: memcg_stat_format() prints memory_stats[] ("%s %llu\n",
 * page states in bytes, "slab" after slab_unreclaimable), "pgscan" and
 * "pgsteal", then memcg_vm_event_stat[] (mm/memcontrol.c): the model's
 * keys, in that order, as in the recorded /ccmm/memory.stat.
 */
static void test_memory_stat(void **state)
{
	char path[256], line[128];
	char *ours, *theirs;

	snprintf(path, sizeof(path), "%s/cg/ccmm/memory.stat", tmp);
	ours = slurp(path);
	theirs = slurp(REC "after/cgroup/ccmm/memory.stat");
	assert_true(same_keys_in_order("memory.stat", ours, theirs, NULL) > 20);
	assert_true(line_index(ours, "pgscan", NULL, 0) < line_index(ours, "pgscan_kswapd", NULL, 0));
	/* bytes for page states: the 64 MiB touched and charged to /ccmm (none swapped, no swap) */
	assert_true(line_index(ours, "anon", line, sizeof(line)) >= 0);
	assert_string_equal(line, "anon 0"); /* the task exited */
	free(ours);
	/* on the root too (memory.stat has no CFTYPE_NOT_ON_ROOT) */
	snprintf(path, sizeof(path), "%s/cg/memory.stat", tmp);
	ours = slurp(path);
	theirs = (free(theirs), slurp(REC "after/cgroup/root/memory.stat"));
	same_keys_in_order("root memory.stat", ours, theirs, NULL);
	free(ours);
	free(theirs);
}

/*
 * memory.events: __memory_events_show() prints low, high, max, oom,
 * oom_kill, oom_group_kill ("%s %lu\n"), and current mainline
 * sock_throttled after them (the change "memcg: expose socket memory
 * pressure in a cgroup", after 6.12): the recording's six, then that one.
 */
static void test_memory_events(void **state)
{
	char path[256];
	char *ours, *theirs;

	snprintf(path, sizeof(path), "%s/cg/ccmm/memory.events", tmp);
	ours = slurp(path);
	theirs = slurp(REC "after/cgroup/ccmm/memory.events");
	assert_int_equal(same_keys_in_order("memory.events", ours, theirs, "sock_throttled"), 7);
	assert_string_equal(ours, "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\nsock_throttled 0\n");
	free(ours);
	free(theirs);
	/* the root has none (CFTYPE_NOT_ON_ROOT), as the recording's root/ */
	snprintf(path, sizeof(path), "%s/cg/memory.events", tmp);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(access(REC "after/cgroup/root/memory.events", F_OK), -1);
}

/*
 * sysfs: memory_tiering/memory_tierN/nodelist as nodelist_show() prints
 * it ("%*pbl\n", mm/memory-tiers.c): the recording's memory_tiers lists
 * "memory_tierN NODELIST" for every tier the guest had.
 */
static void test_memory_tier_nodelist(void **state)
{
	char *tiers = slurp(CCMM_SOURCE_DIR "/tests/recordings/tier-kswapd/memory_tiers"), *save = NULL;
	int n = 0;

	for (char *l = strtok_r(tiers, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char name[32], list[32], path[256], want[40];
		char *got;

		assert_int_equal(sscanf(l, "%31s %31s", name, list), 2);
		snprintf(path, sizeof(path), "%s/sys/devices/virtual/memory_tiering/%s/nodelist", tmp, name);
		got = slurp(path);
		snprintf(want, sizeof(want), "%s\n", list);
		assert_string_equal(got, want);
		free(got);
		n++;
	}
	assert_int_equal(n, 2); /* memory_tier4 0, memory_tier90 1 */
	free(tiers);
	{
		char cmd[300];

		/* and no other tier */
		snprintf(cmd, sizeof(cmd), "test $(ls '%s/sys/devices/virtual/memory_tiering' | wc -l) -eq 2", tmp);
		assert_int_equal(system(cmd), 0);
	}
}

/* kernel/mm/numa/demotion_enabled: demotion_enabled_show() prints "%s\n" of str_true_false(). */
static void test_demotion_enabled(void **state)
{
	char path[256];
	char *got;

	snprintf(path, sizeof(path), "%s/sys/kernel/mm/numa/demotion_enabled", tmp);
	got = slurp(path);
	assert_string_equal(got, "true\n");
	free(got);
}

/*
 * node/nodeN/meminfo: node_read_meminfo() prints "Node %d KEY:...%8lu kB\n"
 * with each key padded to 16 columns (drivers/base/node.c): the model's
 * lines, in the recorded file's order, byte for byte up to the value.
 */
static void test_node_meminfo(void **state)
{
	for (int node = 0; node < 2; node++) {
		char path[256], rec[256];
		char *ours, *theirs;
		int last = -1, lines = 0;

		snprintf(path, sizeof(path), "%s/sys/devices/system/node/node%d/meminfo", tmp, node);
		snprintf(rec, sizeof(rec), REC "after/node/node%d.meminfo", node);
		ours = slurp(path);
		theirs = slurp(rec);
		for (char *l = ours; *l;) {
			char *nl = strchr(l, '\n'), key[40];
			const char *found;
			int idx = 0;

			assert_non_null(nl);
			/* "Node N " + 16 columns of key + 8 of value + " kB" */
			assert_int_equal(nl - l, 7 + 16 + 8 + 3);
			assert_int_equal(strncmp(nl - 3, " kB", 3), 0);
			snprintf(key, sizeof(key), "%.*s", 7 + 16, l);
			found = strstr(theirs, key);
			if (!found)
				fail_msg("node%d meminfo: '%s' is not laid out as the kernel's", node, key);
			for (const char *c = theirs; c < found; c++)
				idx += *c == '\n';
			assert_true(idx > last);
			last = idx;
			lines++;
			l = nl + 1;
		}
		assert_int_equal(lines, 16);
		free(ours);
		free(theirs);
	}
}

/*
 * node/nodeN/x86/sgx_total_bytes: sgx_total_bytes_show() prints "%lu\n" of
 * the node's EPC bytes (arch/x86/kernel/cpu/sgx/main.c), and the x86
 * group is there for every node once SGX has EPC anywhere
 * (arch_node_attr_is_visible). No recording has SGX (qemu's TCG guests
 * have none): held against the format only, on the two-node SGX host.
 */
static void test_sgx_total_bytes(void **state)
{
	char text[1024], path[256];
	char *got;

	/* a job has an actor: one that only waits a moment */
	snprintf(text, sizeof(text),
		 "[global]\nplatform = %s/platforms/sgx-host.ini\nsysfs = %s/sgx-sys\n[idle]\nactor = tier_task\nop = sleep 1ms\n",
		 CCMM_SOURCE_DIR, tmp);
	run_job(text);
	for (int node = 0; node < 2; node++) {
		snprintf(path, sizeof(path), "%s/sgx-sys/devices/system/node/node%d/x86/sgx_total_bytes", tmp, node);
		got = slurp(path);
		assert_string_equal(got, "67108864\n");
		free(got);
	}
	/* the recorded machine has no EPC: no x86 group */
	snprintf(path, sizeof(path), "%s/sys/devices/system/node/node0/x86", tmp);
	assert_int_equal(access(path, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vmstat),
		cmocka_unit_test(test_memory_stat),
		cmocka_unit_test(test_memory_events),
		cmocka_unit_test(test_memory_tier_nodelist),
		cmocka_unit_test(test_demotion_enabled),
		cmocka_unit_test(test_node_meminfo),
		cmocka_unit_test(test_sgx_total_bytes),
	};

	return cmocka_run_group_tests_name("kernel-files", tests, setup, teardown);
}
