/* SPDX-License-Identifier: MIT */
/* Fixtures for the SGX tests: a tiny SGX host, processes in cgroups, enclaves built the driver's way. */
#ifndef CCMM_TEST_SGX_HELPERS_H
#define CCMM_TEST_SGX_HELPERS_H

#include <signal.h>

#include "helpers.h"
#include "cgroup/cgroup.h"
#include "scenario/scenario.h"
#include "sgx/sgx.h"
#include "sim_call.h"

/* One 64 MiB node and @epc bytes of EPC on it ("1m": 256 pages). */
static inline struct ccmm_machine *sgx_boot(const char *epc)
{
	char text[512];
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	snprintf(text, sizeof(text), "[platform]\nmode=none\ncpus=4\n[node:0]\nmem=64m\n[epc:epc0]\nnode=0\nsize=%s\n", epc);
	if (ccmm_platform_parse("sgx-test.ini", text, &p, &err))
		fail_msg("platform: %s:%d: %s", err.file, err.line, err.msg);
	if (ccmm_boot(p, 7, &m))
		fail_msg("boot failed");
	return m;
}

/* A user process: its clock, address space and task in a cgroup. */
struct proc {
	struct ccmm_ctx ctx;
	struct ccmm_mm *mm;
	struct ccmm_task *task;
	struct ccmm_sgx_current cur;
};

static inline void proc_init(struct ccmm_machine *m, struct proc *p, const char *name, const char *cgpath, int actor)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(m);
	struct ccmm_cgroup *cg;

	ccmm_ctx_init(&p->ctx, m, actor, name);
	if (ccmm_mm_create(m, CCMM_INIT_USER, name, &p->mm))
		fail_msg("mm");
	if (strcmp(cgpath, "/") && !(cg = ccmm_cgroup_lookup(root, cgpath))) {
		if (ccmm_cgroup_mkdir(root, cgpath, true, CCMM_CGRP_MASK_ALL, &cg))
			fail_msg("mkdir %s", cgpath);
	} else if (!strcmp(cgpath, "/")) {
		cg = root->top;
		ccmm_cgroup_get(cg);
	}
	if (ccmm_task_create(root, name, p->mm, cg, &p->task))
		fail_msg("task in %s", cgpath);
	ccmm_cgroup_put(cg);
	p->cur.ctx = &p->ctx;
	p->cur.task = p->task;
	p->cur.mm = p->mm;
}

/* The process exits: its mappings go (and with them its enclaves), then the task. */
static inline void proc_exit(struct ccmm_machine *m, struct proc *p)
{
	ccmm_mm_destroy(&p->ctx, p->mm);
	ccmm_task_exit(ccmm_cgroup_root_of(m), p->task);
	p->mm = NULL;
	p->task = NULL;
}

/* Create, add a TCS and @nadd - 1 regular pages, EINIT. Fails the test on error. */
static inline struct ccmm_sgx_encl *encl_build(struct proc *p, uint64_t base, uint64_t npages, uint64_t nadd)
{
	struct ccmm_sgx_encl *e;
	int err;

	if ((err = ccmm_sgx_encl_create(&p->cur, base, npages * CCMM_PAGE_SIZE, p->task->comm, &e)))
		fail_msg("create: %d", err);
	if (ccmm_sgx_encl_add_pages(&p->cur, e, 0, 1, CCMM_PT_TCS, CCMM_EPCM_R | CCMM_EPCM_W, NULL, true, &err) != 1)
		fail_msg("add TCS: %d", err);
	if (nadd > 1 &&
	    ccmm_sgx_encl_add_pages(&p->cur, e, 1, nadd - 1, CCMM_PT_REG, CCMM_EPCM_R | CCMM_EPCM_W, NULL, false, &err) !=
		    (long)(nadd - 1))
		fail_msg("add: %d", err);
	if ((err = ccmm_sgx_encl_init(&p->cur, e)))
		fail_msg("init: %d", err);
	/* the process holds the enclave through its mapping; the fd is closed */
	ccmm_sgx_encl_put(&p->ctx, e);
	return e;
}

/* One access inside the enclave (EENTER, access, EEXIT). */
struct touch {
	struct proc *p;
	struct ccmm_sgx_encl *e;
	uint64_t page;
	bool write;
};

static inline int touch_task(void *arg)
{
	struct touch *x = arg;
	struct ccmm_sgx_thread t = { 0 };
	int ret;

	ccmm_sgx_enter(&t, x->e);
	ret = ccmm_sgx_encl_access(&x->p->cur, &t, x->e->base + x->page * CCMM_PAGE_SIZE, x->write);
	ccmm_sgx_exit(&t);
	return ret;
}

/*
 * One enclave access by @p, as a task under a simulator: a fault that must
 * wait for reclaim sleeps while ksgxd or the cgroup work (woken by it) run.
 */
static inline int encl_touch(struct proc *p, struct ccmm_sgx_encl *e, uint64_t page, bool write)
{
	struct touch x = { p, e, page, write };

	return sim_call(p->cur.ctx->m, p->cur.ctx, touch_task, &x);
}

static inline uint64_t misc_pages(struct ccmm_machine *m, const char *path)
{
	struct ccmm_cgroup *cg = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), path);
	uint64_t v;

	if (!cg)
		fail_msg("no cgroup %s", path);
	v = ccmm_misc_cg_usage(cg, CCMM_MISC_SGX_EPC) / CCMM_PAGE_SIZE;
	ccmm_cgroup_put(cg);
	return v;
}

static inline struct ccmm_sgx_cg_stats cg_stats(struct ccmm_machine *m, const char *path)
{
	struct ccmm_cgroup *cg = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), path);
	struct ccmm_sgx_cg_stats st;

	if (!cg)
		fail_msg("no cgroup %s", path);
	ccmm_sgx_cgroup_stats(cg, &st);
	ccmm_cgroup_put(cg);
	return st;
}

static inline struct ccmm_sgx_cgroup *sgx_cg(struct ccmm_machine *m, const char *path)
{
	struct ccmm_cgroup *cg = ccmm_cgroup_lookup(ccmm_cgroup_root_of(m), path);
	struct ccmm_sgx_cgroup *s;

	if (!cg)
		fail_msg("no cgroup %s", path);
	s = ccmm_sgx_cgroup_of(cg);
	ccmm_cgroup_put(cg); /* the cgroup stays: the test never removes it */
	return s;
}

static inline void set_file(struct ccmm_machine *m, const char *path, const char *text)
{
	int ret = ccmm_cgroup_write(ccmm_cgroup_root_of(m), NULL, path, text);

	if (ret)
		fail_msg("write %s '%s': %d", path, text, ret);
}

/* Number of resident children of @e. */
static inline unsigned resident(struct ccmm_sgx_encl *e)
{
	unsigned n = 0;

	for (uint64_t i = 0; i < e->nr_pages; i++)
		n += e->pages[i].epc_page != NULL;
	return n;
}

#endif
