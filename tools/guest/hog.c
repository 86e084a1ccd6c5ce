// SPDX-License-Identifier: MIT
/*
 * ccmm-hog - anonymous memory for the recorder's tiering workloads: touch
 * MB MiB (written, so every page is dirty anonymous memory), optionally
 * first-touched on one node, then keep re-touching a hot part of it, and
 * report on which NUMA node its pages are after each phase (move_pages(2)
 * with no target only asks).
 *
 * usage: ccmm-hog [-b NODE] [-p PASSES] [-h HOTMB] [-i MS] [-k MS] MB
 *   -b NODE    first touch under MPOL_BIND to NODE, then back to the
 *              default policy (so NUMA balancing may move the pages)
 *   -p PASSES  passes over the hot part after the first touch (default 0)
 *   -h HOTMB   size of the hot part (default: all)
 *   -i MS      sleep between passes (default 200)
 *   -k MS      hold the memory this long before exiting (default 0)
 * Prints "ccmm-hog: PHASE: node0=PAGES node1=PAGES ... absent=PAGES".
 * Exits 1 when memory cannot be had (an OOM kill ends it with SIGKILL).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define MAX_NODES 8
#define MPOL_DEFAULT 0
#define MPOL_BIND 2

static void report(const char *phase, unsigned char *p, unsigned long pages)
{
	unsigned long counts[MAX_NODES] = { 0 }, absent = 0, other = 0;
	enum { CHUNK = 1024 };
	void *addrs[CHUNK];
	int status[CHUNK];

	for (unsigned long i = 0; i < pages; i += CHUNK) {
		unsigned long n = pages - i < CHUNK ? pages - i : CHUNK;

		for (unsigned long j = 0; j < n; j++)
			addrs[j] = p + (i + j) * PAGE;
		if (syscall(SYS_move_pages, 0, n, addrs, NULL, status, 0)) {
			fprintf(stderr, "ccmm-hog: move_pages: %s\n", strerror(errno));
			return;
		}
		for (unsigned long j = 0; j < n; j++) {
			if (status[j] >= 0 && status[j] < MAX_NODES)
				counts[status[j]]++;
			else if (status[j] == -ENOENT || status[j] == -EFAULT)
				absent++;
			else
				other++;
		}
	}
	printf("ccmm-hog: %s:", phase);
	for (int n = 0; n < MAX_NODES; n++)
		if (counts[n] || n < 2)
			printf(" node%d=%lu", n, counts[n]);
	printf(" absent=%lu", absent);
	if (other)
		printf(" other=%lu", other);
	printf("\n");
	fflush(stdout);
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	long bind = -1, passes = 0, interval = 200, hold = 0, hot = -1;
	unsigned long pages, hotpages;
	unsigned char *p;
	char phase[32];
	int opt;

	while ((opt = getopt(argc, argv, "b:p:h:i:k:")) != -1) {
		switch (opt) {
		case 'b': bind = strtol(optarg, NULL, 0); break;
		case 'p': passes = strtol(optarg, NULL, 0); break;
		case 'h': hot = strtol(optarg, NULL, 0); break;
		case 'i': interval = strtol(optarg, NULL, 0); break;
		case 'k': hold = strtol(optarg, NULL, 0); break;
		default: goto usage;
		}
	}
	if (optind != argc - 1 || bind >= MAX_NODES)
		goto usage;
	pages = strtoul(argv[optind], NULL, 0) * (1UL << 20) / PAGE;
	hotpages = hot < 0 ? pages : (unsigned long)hot * (1UL << 20) / PAGE;
	if (!pages || hotpages > pages)
		goto usage;
	p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "ccmm-hog: mmap: %s\n", strerror(errno));
		return 1;
	}
	/* base pages, so demotion and promotion move 4 KiB pages one by one */
	madvise(p, pages * PAGE, MADV_NOHUGEPAGE);
	if (bind >= 0) {
		unsigned long mask = 1UL << bind;

		if (syscall(SYS_set_mempolicy, MPOL_BIND, &mask, MAX_NODES + 1)) {
			fprintf(stderr, "ccmm-hog: set_mempolicy: %s\n", strerror(errno));
			return 1;
		}
	}
	for (unsigned long i = 0; i < pages; i++)
		p[i * PAGE] = (unsigned char)i;
	if (bind >= 0)
		syscall(SYS_set_mempolicy, MPOL_DEFAULT, NULL, 0);
	report("touched", p, pages);
	for (long pass = 1; pass <= passes; pass++) {
		unsigned long sum = 0;

		sleep_ms(interval);
		for (unsigned long i = 0; i < hotpages; i++)
			sum += p[i * PAGE]++;
		if (pass == passes || pass % 5 == 0) {
			snprintf(phase, sizeof(phase), "pass %ld", pass);
			report(phase, p, pages);
		}
		(void)sum;
	}
	if (hold)
		sleep_ms(hold);
	report("end", p, pages);
	return 0;
usage:
	fprintf(stderr, "usage: ccmm-hog [-b NODE] [-p PASSES] [-h HOTMB] [-i MS] [-k MS] MB\n");
	return 2;
}
