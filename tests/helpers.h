/* SPDX-License-Identifier: MIT */
/* Shared fixtures for the unit tests: tiny machines booted from platform text. */
#ifndef CCMM_TEST_HELPERS_H
#define CCMM_TEST_HELPERS_H

#include <errno.h>
#include <stdatomic.h>
#include <setjmp.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot.h"
#include "check/check.h"
#include "mm/mm.h"

/*
 * Checks in worker threads. cmocka's assertions belong to the test's own
 * thread, so a worker checks with TCHECK(cond): a failure is printed with the
 * file, line and the test case that started the workers (TCHECK_CASE() at the
 * start of the case records it) and counted; once the workers are joined the
 * case asserts TCHECK_DONE(), which fails it when any worker check failed.
 */
static atomic_int tcheck_failures __attribute__((unused));
static const char *_Atomic tcheck_case __attribute__((unused)) = "(a case without TCHECK_CASE)";
#define TCHECK_CASE() atomic_store(&tcheck_case, __func__)
#define TCHECK(c)                                                                                       \
	do {                                                                                            \
		if (!(c)) {                                                                             \
			fprintf(stderr, "%s:%d: in %s: a check failed in a worker thread: %s\n", __FILE__, \
				__LINE__, atomic_load(&tcheck_case), #c);                               \
			atomic_fetch_add(&tcheck_failures, 1);                                          \
		}                                                                                       \
	} while (0)
#define TCHECK_DONE() assert_int_equal(atomic_exchange(&tcheck_failures, 0), 0)

/*
 * A machine with one 1 GiB node, a virtio-blk device (64-bit DMA, a 16 KiB
 * BAR) and a 32-bit NIC, in the mode given by @platform_lines (extra lines
 * for the [platform] section, e.g. "mode=tdx").
 */
static inline struct ccmm_machine *test_boot(const char *platform_lines)
{
	char text[2048];
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	snprintf(text, sizeof(text),
		 "[platform]\ncpus=2\n%s\n[node:0]\nmem=1g\n"
		 "[device:blk]\nclass=virtio-blk\npci_id=1af4:1042\nbar0=16k\n"
		 "[device:nic]\nclass=nic\ndma_mask=32\nbar0=64k 32bit\n",
		 platform_lines);
	if (ccmm_platform_parse("test.ini", text, &p, &err))
		fail_msg("platform: %s:%d: %s", err.file, err.line, err.msg);
	if (ccmm_boot(p, 42, &m))
		fail_msg("boot failed");
	return m;
}

/* Count the violations of the rule named @name recorded so far. */
static inline size_t nviol(struct ccmm_machine *m, const char *name)
{
	const struct ccmm_rule *r = ccmm_rule_find(name);

	if (!r)
		fail_msg("no rule %s", name);
	return ccmm_violations_count(m, r, CCMM_ANY_ACTOR);
}

/* The last event recorded. */
static inline struct ccmm_event last_event(struct ccmm_machine *m)
{
	struct ccmm_event e;
	size_t n = ccmm_events_count(m);

	memset(&e, 0, sizeof(e));
	if (!n || ccmm_event_get(m, n - 1, &e))
		fail_msg("no events");
	return e;
}

#endif
