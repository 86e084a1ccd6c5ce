/* SPDX-License-Identifier: MIT */
/* Tests of mechanisms whose kernel threads must run: a call as a task under a simulator. */
#ifndef CCMM_TEST_SIM_CALL_H
#define CCMM_TEST_SIM_CALL_H

#include "scenario/scenario.h"

/*
 * Run @fn(@arg) as a task with @ctx's clock under a simulator attached to
 * @m, as the engine runs an actor: the machine's kernel threads (ksgxd,
 * the cgroup work queue, kswapd) are entities beside it and run when woken. At a
 * step (ccmm_cond_resched) the one with the smallest clock goes on. Returns
 * @fn's result, or the simulator's error. Check results in the caller:
 * cmocka's asserts belong on the test's own stack.
 */
struct sim_call {
	int (*fn)(void *arg);
	void *arg;
	int ret;
};

static inline int sim_call_main(void *arg)
{
	struct sim_call *c = arg;

	c->ret = c->fn(c->arg);
	return 0;
}

static inline int sim_call(struct ccmm_machine *m, struct ccmm_ctx *ctx, int (*fn)(void *arg), void *arg)
{
	struct sim_call c = { fn, arg, 0 };
	struct ccmm_sched_entity se;
	struct ccmm_sim *sim;
	int ret;

	ccmm_sched_entity_init(&se, "test", 0, ctx);
	ret = ccmm_sim_create(m, CCMM_SIM_FIBERS, NULL, &sim);
	if (ret)
		return ret;
	ret = ccmm_sim_spawn(sim, &se, sim_call_main, &c);
	if (!ret)
		ret = ccmm_sim_run(sim);
	ccmm_sim_destroy(sim);
	ccmm_sched_entity_fini(&se);
	return ret ? ret : c.ret;
}

#endif
