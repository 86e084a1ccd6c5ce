// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the ftrace text reader of the DMA-API and SWIOTLB events
 * (src/trace/ftrace.c: tracefs "trace" files and "trace-cmd report"
 * output; plain, gzip or zstd), the input served from a memfd.
 * ccmm_ftrace_probe is asked first, then the events are read to the end
 * (at most MAX_EVENTS) and what the reader promises is checked: each event
 * is of a known kind, comes from a later line than the one before, has
 * NUL-terminated names, arrays wherever it counts entries, and dma_map_sg's
 * counts agree with its arrays; the stats count every event once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "trace/trace.h"

#define MAX_EVENTS 100000

static void check_event(const struct ccmm_ftrace_event *ev, uint32_t prev_line)
{
	if (!ccmm_ftrace_kind_name(ev->kind) || ev->line <= prev_line || ev->cpu < 0)
		abort();
	if (!memchr(ev->task, '\0', sizeof(ev->task)) || !memchr(ev->dev, '\0', sizeof(ev->dev)) ||
	    !memchr(ev->flags, '\0', sizeof(ev->flags)) || !ev->dev[0])
		abort();
	if ((ev->n_phys && !ev->phys_addrs) || (ev->n_dma && !ev->dma_addrs) || (ev->n_sizes && !ev->sizes))
		abort();
	if (ev->kind == CCMM_FT_DMA_MAP_SG &&
	    ((size_t)ev->nents != ev->n_phys || (size_t)ev->ents != ev->n_dma || ev->n_dma != ev->n_sizes ||
	     ev->full_nents < ev->nents || ev->full_ents < ev->ents))
		abort();
	/* touch every entry, so a dangling array shows under ASan */
	for (size_t i = 0; i < ev->n_phys; i++)
		(void)*(volatile const uint64_t *)&ev->phys_addrs[i];
	for (size_t i = 0; i < ev->n_dma; i++)
		(void)*(volatile const uint64_t *)&ev->dma_addrs[i];
	for (size_t i = 0; i < ev->n_sizes; i++)
		(void)*(volatile const uint64_t *)&ev->sizes[i];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccmm_ftrace *ft;
	struct ccmm_ftrace_event ev;
	struct ccmm_ftrace_stats st;
	struct ccmm_error err;
	char path[64];
	uint64_t n = 0, sum = 0;
	uint32_t prev_line = 0;
	int fd, ret = 0;

	fd = memfd_create("fuzz.ftrace", 0);
	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ret = ccmm_ftrace_probe(path, &err);
	if (ret < 0 && ret != -ENOMEM)
		abort(); /* a file that opens is probed: 1 or 0, whatever it holds */
	memset(&err, 0, sizeof(err));
	if (ccmm_ftrace_open(path, &ft, &err) == 0) {
		while (n < MAX_EVENTS && (ret = ccmm_ftrace_next(ft, &ev, &err)) == 1) {
			check_event(&ev, prev_line);
			prev_line = ev.line;
			n++;
		}
		if (ret < 0 && !err.msg[0])
			abort(); /* an error says what is wrong */
		ccmm_ftrace_stats(ft, &st);
		for (int k = 0; k < CCMM_FT_NR; k++)
			sum += st.by_kind[k];
		if (st.events != n || sum != n || st.lines < n)
			abort();
		ccmm_ftrace_close(ft);
	}
	close(fd);
	return 0;
}
