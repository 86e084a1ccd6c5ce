// SPDX-License-Identifier: MIT
/*
 * bench_scale - does ccmm's cost grow with the RAM it models? For TDX
 * guests of 64 GiB to 64 TiB (two nodes; each node 1 GiB short of half,
 * so that all of RAM, shifted up by the 2 GiB PCI hole, stays inside the
 * 64 TiB direct map of 4-level x86-64 paging), each in a process of its
 * own:
 *
 *   boot       ccmm_boot: platform, sparse memory, the kernel's zones and
 *              direct map, SWIOTLB (its pool is 1 GiB from 16 GiB of RAM
 *              up), checker
 *   work       the same fixed work on every size: 1024 pages allocated,
 *              written (4 KiB each, private), read back and freed
 *   teardown   ccmm_shutdown
 *   peak RSS   the process's maximum resident set (wait4)
 *
 * Then the time-vs-work exponent of boot: with the modeled RAM as the
 * work, t ~ work^e fitted over 1x, 4x and 16x (e = 0: independent of
 * RAM, 1: linear). Wall time of ccmm itself (CPU time of the process),
 * best of 3 per size.
 *
 * usage: bench_scale
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "boot/boot.h"
#include "mm/mm.h"

#define PAGES 1024

struct figures {
	double boot_s, work_s, teardown_s;
	long maxrss_kib;
};

static double cpu_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* In the child: boot a machine with @gib GiB of RAM, do the work, shut down; the times to @fd. */
static void child(uint64_t gib, int fd)
{
	char text[512];
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;
	struct ccmm_ctx ctx;
	struct figures f = { 0 };
	uint64_t *pa = calloc(PAGES, sizeof(*pa));
	uint8_t *page = malloc(CCMM_PAGE_SIZE);
	double t0, t1, t2, t3;

	snprintf(text, sizeof(text),
		 "[platform]\nmode=tdx\ncpus=4\ngpa_width=52\n[node:0]\nmem=%" PRIu64 "g\n[node:1]\nmem=%" PRIu64 "g\n",
		 gib / 2 - 1, gib / 2 - 1);
	if (!pa || !page)
		_exit(2);
	memset(page, 0x5a, CCMM_PAGE_SIZE);
	t0 = cpu_s();
	if (ccmm_platform_parse("bench.ini", text, &p, &err) || ccmm_boot(p, 1, &m)) {
		fprintf(stderr, "bench_scale: %" PRIu64 " GiB does not boot: %s\n", gib, err.msg);
		_exit(2);
	}
	t1 = cpu_s();
	ccmm_ctx_init(&ctx, m, 0, "bench");
	for (unsigned i = 0; i < PAGES; i++) {
		struct ccmm_result r;

		if (ccmm_alloc_pages(&ctx, (int)(i & 1), 0, 0, &pa[i]) ||
		    ccmm_kernel_access(&ctx, CCMM_WRITE, ccmm_phys_to_virt(pa[i]), page, CCMM_PAGE_SIZE, &r) ||
		    ccmm_kernel_access(&ctx, CCMM_READ, ccmm_phys_to_virt(pa[i]), page, CCMM_PAGE_SIZE, &r) ||
		    r.outcome != CCMM_OK)
			_exit(3);
	}
	for (unsigned i = 0; i < PAGES; i++)
		ccmm_free_pages(&ctx, pa[i], 0);
	t2 = cpu_s();
	ccmm_shutdown(m);
	t3 = cpu_s();
	f.boot_s = t1 - t0;
	f.work_s = t2 - t1;
	f.teardown_s = t3 - t2;
	if (write(fd, &f, sizeof(f)) != (ssize_t)sizeof(f))
		_exit(4);
	_exit(0);
}

static struct figures measure(uint64_t gib)
{
	struct figures best = { 1e9, 1e9, 1e9, 0 };

	for (int rep = 0; rep < 3; rep++) {
		struct figures f;
		struct rusage ru;
		int fds[2], status;
		pid_t pid;

		fflush(NULL);
		if (pipe(fds))
			exit(1);
		pid = fork();
		if (pid < 0)
			exit(1);
		if (!pid) {
			close(fds[0]);
			child(gib, fds[1]);
		}
		close(fds[1]);
		if (read(fds[0], &f, sizeof(f)) != (ssize_t)sizeof(f) || wait4(pid, &status, 0, &ru) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "bench_scale: the %" PRIu64 " GiB run failed\n", gib);
			exit(1);
		}
		close(fds[0]);
		best.boot_s = fmin(best.boot_s, f.boot_s);
		best.work_s = fmin(best.work_s, f.work_s);
		best.teardown_s = fmin(best.teardown_s, f.teardown_s);
		best.maxrss_kib = ru.ru_maxrss; /* the same every time */
	}
	return best;
}

static const char *size_name(uint64_t gib, char *buf, size_t len)
{
	if (gib >= 1024)
		snprintf(buf, len, "%" PRIu64 " TiB", gib / 1024);
	else
		snprintf(buf, len, "%" PRIu64 " GiB", gib);
	return buf;
}

int main(void)
{
	static const uint64_t gib[] = { 64, 256, 1024, 4096, 16384, 65536 };
	enum { N = sizeof(gib) / sizeof(gib[0]) };
	struct figures f[N];
	char s[32];

	printf("ccmm setup cost against modeled RAM (TDX guest, 2 nodes; CPU time of ccmm, best of 3; fixed work: %u pages "
	       "allocated, written, read, freed)\n",
	       PAGES);
	printf("   %-8s %12s %12s %12s %12s\n", "RAM", "boot ms", "work ms", "teardown ms", "peak RSS");
	for (int i = 0; i < N; i++) {
		f[i] = measure(gib[i]);
		printf("   %-8s %12.2f %12.2f %12.2f %9.1f MiB\n", size_name(gib[i], s, sizeof(s)), f[i].boot_s * 1e3,
		       f[i].work_s * 1e3, f[i].teardown_s * 1e3, (double)f[i].maxrss_kib / 1024);
	}
	/* exponents over 1x, 4x, 16x: the least-squares slope of log t against log RAM */
	for (int first = 0; first + 2 < N; first += 3) {
		double sx = 0, sy = 0, sxx = 0, sxy = 0, e;
		char a[32], b[32];

		for (int i = first; i < first + 3; i++) {
			double x = log((double)gib[i]), y = log(f[i].boot_s + f[i].teardown_s);

			sx += x;
			sy += y;
			sxx += x * x;
			sxy += x * y;
		}
		e = (3 * sxy - sx * sy) / (3 * sxx - sx * sx);
		printf("   boot+teardown time ~ RAM^%.2f over %s, 4x and 16x (%s)   (0: independent of RAM, 1: linear)\n", e,
		       size_name(gib[first], a, sizeof(a)), size_name(gib[first + 2], b, sizeof(b)));
	}
	return 0;
}
