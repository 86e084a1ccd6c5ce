// SPDX-License-Identifier: MIT
/*
 * Fuzz target: the page-reference trace readers (lackey and address traces,
 * plain, gzip or zstd). The first byte chooses the options (format: auto,
 * lackey or address; instructions; no collapse), the rest is the file,
 * served from a memfd. The references are read to the end (at most
 * MAX_REFS), the trace rewound and its first reference read again (it must
 * be the same), and the trace reduced to an address trace in the sandbox
 * (plain: zstd at level 19 costs a second per input and is libzstd's code).
 * Collapsed references never repeat a page back to back.
 */
#include <stdlib.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz.h"
#include "trace/trace.h"

#define MAX_REFS 200000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ccmm_trace_opts o = { CCMM_TRACE_AUTO, false, false };
	struct ccmm_page_ref first = { 0 }, r, prev = { 0 };
	struct ccmm_trace *t;
	struct ccmm_error err;
	char path[64];
	long n = 0;
	int fd, ret;

	if (!size)
		return 0;
	o.format = (enum ccmm_trace_format)(data[0] % 3);
	o.instructions = data[0] & 4;
	o.no_collapse = data[0] & 8;
	fd = memfd_create("fuzz.trace", 0);
	if (fd < 0 || write(fd, data + 1, size - 1) != (ssize_t)(size - 1))
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (ccmm_trace_open(path, &o, &t, &err) == 0) {
		while (n < MAX_REFS && (ret = ccmm_trace_next(t, &r, &err)) == 1) {
			if (!n)
				first = r;
			else if (!o.no_collapse && r.vpn == prev.vpn)
				abort(); /* collapsing left two references to one page in a row */
			prev = r;
			n++;
		}
		if (n && ccmm_trace_rewind(t, &err) == 0) {
			if (ccmm_trace_next(t, &r, &err) != 1 || r.vpn != first.vpn)
				abort(); /* a rewound trace starts where it started */
		}
		ccmm_trace_close(t);
	}
	if (n < MAX_REFS / 4)
		(void)ccmm_trace_reduce(path, &o, "reduced.trace", false, &err);
	close(fd);
	return 0;
}
