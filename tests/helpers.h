/* SPDX-License-Identifier: MIT */
/* Shared fixtures for the unit tests: tiny machines booted from platform text. */
#ifndef CCMM_TEST_HELPERS_H
#define CCMM_TEST_HELPERS_H

#include <errno.h>
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
