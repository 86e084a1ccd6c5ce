/* SPDX-License-Identifier: MIT */
/*
 * What the ported kernel test files share: the monotonic clock and one
 * machine per group whose event log each case leaves empty (worker-thread
 * checks are helpers.h's TCHECK).
 */
#ifndef CCMM_TEST_KERNEL_PORT_H
#define CCMM_TEST_KERNEL_PORT_H

#include "helpers.h"

#include <stdatomic.h>
#include <time.h>

/* CLOCK_MONOTONIC in ns. */
static inline int64_t port_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The group's machine (mode=none), where a misuse would be recorded. */
static struct ccmm_machine *port_machine __attribute__((unused));

static inline int port_group_setup(void **state)
{
	(void)state;
	port_machine = test_boot("mode=none");
	return 0;
}

static inline int port_group_teardown(void **state)
{
	(void)state;
	ccmm_shutdown(port_machine);
	return 0;
}

/* After every case: nothing recorded, the API was used as the kernel's tests use it. */
static inline int port_case_teardown(void **state)
{
	(void)state;
	assert_int_equal(ccmm_events_count(port_machine), 0);
	return 0;
}

#endif
