// SPDX-License-Identifier: MIT
/*
 * cgroup: the v2 hierarchy, tasks, the misc controller's formats and its
 * charge / event / rollback rules, the memory controller's charges,
 * reclaim hook and OOM, the dmem controller (kernel/cgroup/dmem.c, v6.14:
 * files, charges, the limit pool, effective protection), and the cgroupfs
 * dump.
 */
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "helpers.h"
#include "cgroup/cgroup.h"

static struct ccmm_machine *m;
static struct ccmm_cgroup_root *root;

static int setup(void **state)
{
	m = test_boot("mode=none");
	root = ccmm_cgroup_root_of(m);
	return root ? 0 : -1;
}

static int teardown(void **state)
{
	ccmm_shutdown(m);
	return 0;
}

/* Read a file into a static buffer, failing the test on error. */
static const char *rd(const char *path)
{
	static char buf[4096];
	int n = ccmm_cgroup_read(root, path, buf, sizeof(buf));

	if (n < 0)
		fail_msg("read %s: %d", path, n);
	return buf;
}

static void test_hierarchy(void **state)
{
	struct ccmm_cgroup *a, *b;

	assert_int_equal(ccmm_cgroup_mkdir(root, "/a", false, 0, &a), 0);
	assert_string_equal(a->path, "/a");
	assert_int_equal(ccmm_cgroup_mkdir(root, "/a", false, 0, NULL), -EEXIST);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/x/y", false, 0, NULL), -ENOENT);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/a/../b", false, 0, NULL), -EINVAL);
	assert_int_equal(ccmm_cgroup_mkdir(root, "a", false, 0, NULL), -EINVAL);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/", false, 0, NULL), -EEXIST);
	/* a name that is an interface file of the parent is taken */
	assert_int_equal(ccmm_cgroup_mkdir(root, "/cgroup.procs", false, 0, NULL), -EEXIST);
	/* cgcreate -g misc,memory:/a/b/c: ancestors created, controllers enabled on the way */
	assert_int_equal(ccmm_cgroup_mkdir(root, "/a/b/c", true, CCMM_CGRP_MASK_ALL, NULL), 0);
	assert_string_equal(rd("/cgroup.subtree_control"), "cpuset memory misc dmem\n");
	assert_string_equal(rd("/a/cgroup.subtree_control"), "cpuset memory misc dmem\n");
	assert_string_equal(rd("/a/b/cgroup.controllers"), "cpuset memory misc dmem\n");
	assert_string_equal(rd("/a/b/c/cgroup.subtree_control"), "\n");
	b = ccmm_cgroup_lookup(root, "/a/b");
	assert_non_null(b);
	assert_true(ccmm_cgroup_is_descendant(b, a));
	assert_false(ccmm_cgroup_is_descendant(a, b));
	assert_int_equal(b->level, 2);
	/* pre-order: a, b, c */
	{
		struct ccmm_cgroup *pos = NULL;
		const char *want[] = { "/a", "/a/b", "/a/b/c" };
		int i = 0;

		ccmm_cgroup_tree_rdlock(root);
		while ((pos = ccmm_cgroup_next_descendant_pre(pos, a)))
			assert_string_equal(pos->path, want[i++]);
		ccmm_cgroup_tree_unlock(root);
		assert_int_equal(i, 3);
	}
	assert_int_equal(ccmm_cgroup_rmdir(root, "/a/b"), -EBUSY); /* has a child */
	assert_int_equal(ccmm_cgroup_rmdir(root, "/"), -EBUSY);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/nope"), -ENOENT);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/a/b/c"), 0);
	assert_null(ccmm_cgroup_lookup(root, "/a/b/c"));
	assert_int_equal(ccmm_cgroup_rmdir(root, "/a/b"), 0);
	/* b is offline but still referenced by us */
	assert_false(b->online);
	ccmm_cgroup_put(b);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/a"), 0);
	ccmm_cgroup_put(a);
	assert_int_equal(atomic_load(&root->nr_cgroups), 1); /* only the root is left: nothing leaked */
}

static void test_controllers_and_tasks(void **state)
{
	struct ccmm_cgroup *p, *q;
	struct ccmm_task *t;
	char buf[64];

	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "-misc -memory -cpuset -dmem"), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/p", false, 0, &p), 0);
	/* no controllers enabled in the root's subtree_control yet: no misc files in /p */
	assert_int_equal(ccmm_cgroup_read(root, "/p/misc.max", buf, sizeof(buf)), -ENOENT);
	assert_string_equal(rd("/p/cgroup.controllers"), "\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "+misc"), 0);
	assert_string_equal(rd("/p/cgroup.controllers"), "misc\n");
	assert_int_equal(ccmm_cgroup_read(root, "/p/misc.max", buf, sizeof(buf)), 0); /* no capacity: empty */
	assert_int_equal(ccmm_cgroup_read(root, "/p/memory.max", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "+cpu"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/cgroup.subtree_control", "+memory"), -ENOENT);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "+memory"), 0);
	/* a process in /p, then /p may not enable controllers for children (no internal processes) */
	assert_int_equal(ccmm_task_create(root, "enclave", (void *)0x1, p, &t), 0);
	assert_int_equal(t->pid, 1000);
	snprintf(buf, sizeof(buf), "%d\n", t->pid);
	assert_string_equal(rd("/p/cgroup.procs"), buf);
	assert_string_equal(rd("/p/cgroup.events"), "populated 1\nfrozen 0\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/cgroup.subtree_control", "+misc"), -EBUSY);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/p"), -EBUSY); /* populated */
	/* the task's memcg: /p has memory now */
	q = ccmm_get_mem_cgroup_from_mm(root, (void *)0x1);
	assert_ptr_equal(q, p);
	ccmm_cgroup_put(q);
	q = ccmm_get_mem_cgroup_from_mm(root, (void *)0x2); /* unknown mm: the root */
	assert_ptr_equal(q, root->top);
	ccmm_cgroup_put(q);
	assert_ptr_equal(ccmm_task_of_mm(root, (void *)0x1), t);
	/* move it to the root by writing its pid */
	snprintf(buf, sizeof(buf), "%d\n", t->pid);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.procs", buf), 0);
	assert_string_equal(rd("/p/cgroup.procs"), "");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.procs", "4242"), -ESRCH);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.procs", "abc"), -EINVAL);
	/* cgroup.kill signals every task below */
	assert_int_equal(ccmm_task_migrate(root, t->pid, p), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/cgroup.kill", "2"), -ERANGE);
	assert_int_equal(ccmm_task_signal_pending(t), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/cgroup.kill", "1"), 0);
	assert_int_equal(ccmm_task_signal_pending(t), SIGKILL);
	assert_int_equal(ccmm_cgroup_read(root, "/p/cgroup.kill", buf, sizeof(buf)), -EINVAL); /* write-only */
	assert_int_equal(ccmm_cgroup_read(root, "/cgroup.kill", buf, sizeof(buf)), -ENOENT);  /* not on the root */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/cgroup.controllers", "x"), -EACCES);
	ccmm_task_exit(root, t);
	assert_string_equal(rd("/p/cgroup.events"), "populated 0\nfrozen 0\n");
	/* disabling misc at the root while no child uses it further down works */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "-misc -memory -cpuset -dmem"), 0);
	assert_string_equal(rd("/cgroup.subtree_control"), "\n");
	assert_int_equal(ccmm_cgroup_rmdir(root, "/p"), 0);
	ccmm_cgroup_put(p);
	assert_int_equal(atomic_load(&root->nr_cgroups), 1);
}

/* The misc controller: formats, charge walk, events local and hierarchical, rollback. */
/*
 * The tdx resource mainline has (KVM TDX: misc_cg_set_capacity(MISC_CG_RES_TDX,
 * tdx_get_nr_guest_keyids()), one HKID charged per TD): after sev_es and
 * before the EPC series' sgx_epc (misc_res_name[]), in each file's format
 * ("%s %llu\n", "%s max\n", "%s.max %llu\n"), hidden while it has no
 * capacity and no use.
 */
static void test_misc_tdx_resource(void **state)
{
	uint64_t epc = ccmm_misc_cg_capacity(root, CCMM_MISC_SGX_EPC);
	struct ccmm_cgroup *td;

	assert_int_equal(ccmm_cgroup_mkdir(root, "/vms/td1", true, CCMM_CGRP_MASK_ALL, &td), 0);
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_SGX_EPC, 32768);
	assert_string_equal(rd("/misc.capacity"), "sgx_epc 32768\n");
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_TDX, td, 1), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/vms/misc.max", "tdx 2"), -EINVAL); /* no capacity */
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_TDX, 63);
	assert_string_equal(rd("/misc.capacity"), "tdx 63\nsgx_epc 32768\n");
	assert_string_equal(rd("/vms/misc.max"), "tdx max\nsgx_epc max\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/vms/misc.max", "tdx 2"), 0);
	assert_string_equal(rd("/vms/misc.max"), "tdx 2\nsgx_epc max\n");
	/* a TD per HKID: the third TD under /vms is refused there */
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_TDX, td, 1), 0);
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_TDX, td, 1), 0);
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_TDX, td, 1), -EBUSY);
	assert_string_equal(rd("/vms/td1/misc.current"), "tdx 2\nsgx_epc 0\n");
	assert_string_equal(rd("/vms/misc.events"), "tdx.max 1\nsgx_epc.max 0\n");
	assert_string_equal(rd("/vms/misc.events.local"), "tdx.max 1\nsgx_epc.max 0\n");
	assert_string_equal(rd("/vms/td1/misc.events"), "tdx.max 0\nsgx_epc.max 0\n");
	assert_string_equal(rd("/vms/misc.peak"), "tdx 2\nsgx_epc 0\n");
	ccmm_misc_cg_uncharge(CCMM_MISC_TDX, td, 2);
	/* without capacity a resource shows only where it has use, peak or events */
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_TDX, 0);
	assert_string_equal(rd("/misc.capacity"), "sgx_epc 32768\n");
	assert_string_equal(rd("/vms/misc.max"), "sgx_epc max\n");
	assert_string_equal(rd("/vms/td1/misc.current"), "sgx_epc 0\n");
	assert_string_equal(rd("/vms/misc.events"), "tdx.max 1\nsgx_epc.max 0\n");
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_SGX_EPC, epc);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/vms/td1"), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/vms"), 0);
	ccmm_cgroup_put(td);
}

static void test_misc_formats_and_charges(void **state)
{
	struct ccmm_cgroup *t1, *t3, *t2;
	const uint64_t P = CCMM_PAGE_SIZE;

	/* no capacity yet: charging is -EINVAL and the files list nothing */
	assert_int_equal(ccmm_cgroup_mkdir(root, "/st/test1/test3", true, CCMM_CGRP_MASK_ALL, &t3), 0);
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_SGX_EPC, t3, P), -EINVAL);
	assert_string_equal(rd("/misc.capacity"), "");
	assert_string_equal(rd("/st/misc.max"), "");
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_SGX_EPC, 64 * P);
	assert_string_equal(rd("/misc.capacity"), "sgx_epc 262144\n");
	assert_string_equal(rd("/st/misc.max"), "sgx_epc max\n");
	assert_string_equal(rd("/misc.current"), "sgx_epc 0\n");
	assert_string_equal(rd("/misc.peak"), "sgx_epc 0\n");
	assert_string_equal(rd("/st/misc.events"), "sgx_epc.max 0\n");
	assert_string_equal(rd("/st/misc.events.local"), "sgx_epc.max 0\n");
	/* file placement: misc.max not on the root, misc.capacity only on it */
	{
		char buf[64];

		assert_int_equal(ccmm_cgroup_read(root, "/misc.max", buf, sizeof(buf)), -ENOENT);
		assert_int_equal(ccmm_cgroup_read(root, "/misc.events", buf, sizeof(buf)), -ENOENT);
		assert_int_equal(ccmm_cgroup_read(root, "/st/misc.capacity", buf, sizeof(buf)), -ENOENT);
		assert_int_equal(ccmm_cgroup_read(root, "/st/misc.nope", buf, sizeof(buf)), -ENOENT);
	}
	t1 = ccmm_cgroup_lookup(root, "/st/test1");
	assert_non_null(t1);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/st/test2", false, 0, &t2), 0);

	/* writes: the kernel's accepted forms */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc 16384\n"), 0);
	assert_string_equal(rd("/st/test1/misc.max"), "sgx_epc 16384\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc 0x4000"), 0); /* base 0 */
	assert_string_equal(rd("/st/test1/misc.max"), "sgx_epc 16384\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc 040000"), 0); /* octal */
	assert_string_equal(rd("/st/test1/misc.max"), "sgx_epc 16384\n");
	/* and its -EINVAL / -ERANGE cases; nothing changes */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc -1"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc 12k"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc MAX"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc  100"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx 100"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sev 100"), -EINVAL); /* no capacity */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", "sgx_epc 99999999999999999999"), -ERANGE);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.max", ""), -EINVAL);
	assert_string_equal(rd("/st/test1/misc.max"), "sgx_epc 16384\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test1/misc.current", "sgx_epc 0"), -EACCES);

	/* charges walk leaf to root: 4 pages fit under test1's 16384 bytes */
	for (int i = 0; i < 4; i++)
		assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_SGX_EPC, t3, P), 0);
	assert_string_equal(rd("/st/test1/test3/misc.current"), "sgx_epc 16384\n");
	assert_string_equal(rd("/st/test1/misc.current"), "sgx_epc 16384\n");
	assert_string_equal(rd("/st/misc.current"), "sgx_epc 16384\n");
	assert_string_equal(rd("/misc.current"), "sgx_epc 16384\n");
	/* the fifth fails at test1: events.local there, events at test1 and above, not below; rolled back */
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_SGX_EPC, t3, P), -EBUSY);
	assert_string_equal(rd("/st/test1/test3/misc.current"), "sgx_epc 16384\n");
	assert_string_equal(rd("/misc.current"), "sgx_epc 16384\n");
	assert_string_equal(rd("/st/test1/misc.events.local"), "sgx_epc.max 1\n");
	assert_string_equal(rd("/st/test1/misc.events"), "sgx_epc.max 1\n");
	assert_string_equal(rd("/st/misc.events"), "sgx_epc.max 1\n");
	assert_string_equal(rd("/st/misc.events.local"), "sgx_epc.max 0\n");
	assert_string_equal(rd("/st/test1/test3/misc.events"), "sgx_epc.max 0\n");
	assert_string_equal(rd("/st/test1/test3/misc.events.local"), "sgx_epc.max 0\n");
	/* as in the kernel, a level below the failing one keeps the transient peak of the failed charge */
	assert_string_equal(rd("/st/test1/test3/misc.peak"), "sgx_epc 20480\n");
	assert_string_equal(rd("/st/test1/misc.peak"), "sgx_epc 16384\n");
	/* the capacity is a limit at every level too: test2 has no max, the root has 64 pages */
	for (int i = 0; i < 60; i++)
		assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_SGX_EPC, t2, P), 0);
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_SGX_EPC, t2, P), -EBUSY);
	/* test2 holds 61 pages, under capacity; /st would hold 65: it fails there, counted there and up */
	assert_string_equal(rd("/st/test2/misc.events.local"), "sgx_epc.max 0\n");
	assert_string_equal(rd("/st/test2/misc.events"), "sgx_epc.max 0\n");
	assert_string_equal(rd("/st/misc.events.local"), "sgx_epc.max 1\n");
	assert_string_equal(rd("/st/misc.events"), "sgx_epc.max 2\n");
	assert_int_equal(ccmm_misc_cg_usage(root->top, CCMM_MISC_SGX_EPC), 64 * P);
	/* lowering max below usage does not reclaim: usage stays, new charges fail */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test2/misc.max", "sgx_epc 4096"), 0);
	assert_string_equal(rd("/st/test2/misc.current"), "sgx_epc 245760\n");
	ccmm_misc_cg_uncharge(CCMM_MISC_SGX_EPC, t2, P);
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_SGX_EPC, t2, P), -EBUSY);
	ccmm_misc_cg_uncharge(CCMM_MISC_SGX_EPC, t2, 59 * P);
	ccmm_misc_cg_uncharge(CCMM_MISC_SGX_EPC, t3, 4 * P);
	assert_string_equal(rd("/misc.current"), "sgx_epc 0\n");
	assert_string_equal(rd("/misc.peak"), "sgx_epc 262144\n");
	assert_string_equal(rd("/st/test1/misc.peak"), "sgx_epc 16384\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/st/test2/misc.max", "sgx_epc max"), 0);
	assert_string_equal(rd("/st/test2/misc.max"), "sgx_epc max\n");
	/* the effective misc css: a cgroup without misc is charged at its nearest ancestor with it */
	{
		struct ccmm_cgroup *leaf;

		assert_int_equal(ccmm_cgroup_mkdir(root, "/st/test2/plain", false, 0, &leaf), 0);
		assert_ptr_equal(ccmm_misc_cg_css(leaf), t2);
		assert_ptr_equal(ccmm_misc_cg_css(t3), t3);
		assert_int_equal(ccmm_cgroup_rmdir(root, "/st/test2/plain"), 0);
		ccmm_cgroup_put(leaf);
	}
	ccmm_cgroup_put(t1);
	ccmm_cgroup_put(t2);
	ccmm_cgroup_put(t3);
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_SGX_EPC, 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/st/test1/test3"), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/st/test1"), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/st/test2"), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/st"), 0);
	assert_int_equal(atomic_load(&root->nr_cgroups), 1);
}

/* Load-time checks of writes (job files) agree with the runtime parsers. */
static void test_write_check(void **state)
{
	char why[128];

	assert_int_equal(ccmm_cgroup_write_check("misc.max", "sgx_epc 4096", why, sizeof(why)), 0);
	assert_int_equal(ccmm_cgroup_write_check("misc.max", "sgx_epc max", why, sizeof(why)), 0);
	assert_int_equal(ccmm_cgroup_write_check("misc.max", "sgx_epc", why, sizeof(why)), -EINVAL);
	assert_int_equal(ccmm_cgroup_write_check("misc.max", "sgx_epc 4k", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "neither 'max' nor a number"));
	assert_int_equal(ccmm_cgroup_write_check("misc.max", "epc 4096", why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "unknown misc resource 'epc'"));
	assert_int_equal(ccmm_cgroup_write_check("misc.max", "sgx_epc 18446744073709551616", why, sizeof(why)), -ERANGE);
	assert_int_equal(ccmm_cgroup_write_check("misc.current", "1", why, sizeof(why)), -EACCES);
	assert_int_equal(ccmm_cgroup_write_check("misc.maxx", "1", why, sizeof(why)), -ENOENT);
	assert_int_equal(ccmm_cgroup_write_check("memory.max", "64M", why, sizeof(why)), 0);
	assert_int_equal(ccmm_cgroup_write_check("memory.max", "64Q", why, sizeof(why)), -EINVAL);
	assert_int_equal(ccmm_cgroup_write_check("cgroup.subtree_control", "+misc -memory", why, sizeof(why)), 0);
	assert_int_equal(ccmm_cgroup_write_check("cgroup.subtree_control", "misc", why, sizeof(why)), -EINVAL);
	assert_true(ccmm_cgroup_file_known("misc.events.local"));
	assert_false(ccmm_cgroup_file_known("misc.low"));
}

static uint64_t hook_calls, hook_freed;
static struct ccmm_cgroup *hook_seen, *hook_leaf;

/* A reclaim hook that frees what is asked of it, from the cgroup it is given. */
static uint64_t reclaim_hook(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr, void *arg)
{
	uint64_t *pool = arg;
	uint64_t n = CCMM_MIN(CCMM_MIN(nr, *pool), ccmm_memcg_usage(hook_leaf));

	hook_calls++;
	hook_seen = memcg;
	*pool -= n;
	hook_freed += n;
	ccmm_memcg_uncharge(hook_leaf, n); /* the test charges everything at the leaf */
	return n;
}

static void test_memcg(void **state)
{
	struct ccmm_cgroup *g, *leaf;
	struct ccmm_task *t, *u;
	uint64_t pool = 0;

	assert_int_equal(ccmm_cgroup_mkdir(root, "/mg/leaf", true, CCMM_CGRP_MASK_ALL, &leaf), 0);
	g = leaf->parent;
	hook_leaf = leaf;
	assert_string_equal(rd("/mg/memory.max"), "max\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/mg/memory.max", "40k"), 0);
	assert_string_equal(rd("/mg/memory.max"), "40960\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/mg/memory.max", "5000"), 0); /* rounded down to a page */
	assert_string_equal(rd("/mg/memory.max"), "4096\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/mg/memory.max", "0x9000"), 0);
	assert_string_equal(rd("/mg/memory.max"), "36864\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/mg/memory.max", "1.5G"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/mg/memory.max", "40K"), 0);
	assert_int_equal(ccmm_task_create(root, "a", (void *)0xa, leaf, &t), 0);
	assert_int_equal(ccmm_task_create(root, "b", (void *)0xb, leaf, &u), 0);

	/*
	 * 10 pages fit; the 11th fails at /mg: try_charge_memcg tries once,
	 * once more after draining the stocks and 16 times more
	 * (MAX_RECLAIM_RETRIES) with no reclaim hook, then the OOM killer:
	 * both tasks have no memory of their own (badness 0), the later one
	 * in the scan wins the tie (oom_evaluate_task selects on equal
	 * points): u, the charging task, which is retried 16 more times and
	 * fails as it is dying.
	 */
	assert_int_equal(ccmm_memcg_try_charge(NULL, leaf, 10, t), 0);
	assert_string_equal(rd("/mg/leaf/memory.current"), "40960\n");
	assert_string_equal(rd("/mg/memory.peak"), "40960\n");
	assert_int_equal(ccmm_memcg_margin(leaf), 0);
	assert_int_equal(ccmm_mem_cgroup_charge(NULL, leaf, 1, u), -ENOMEM);
	assert_string_equal(rd("/mg/leaf/memory.current"), "40960\n"); /* rolled back at the leaf */
	assert_int_equal(atomic_load(&g->mem.failcnt), 18 + 17);
	assert_string_equal(rd("/mg/memory.events.local"),
			    "low 0\nhigh 0\nmax 35\noom 1\noom_kill 0\noom_group_kill 0\nsock_throttled 0\n");
	assert_string_equal(rd("/mg/memory.events"), "low 0\nhigh 0\nmax 35\noom 1\noom_kill 1\noom_group_kill 0\nsock_throttled 0\n");
	assert_string_equal(rd("/mg/leaf/memory.events"),
			    "low 0\nhigh 0\nmax 0\noom 0\noom_kill 1\noom_group_kill 0\nsock_throttled 0\n");
	assert_int_equal(ccmm_task_signal_pending(u), SIGKILL);
	assert_int_equal(ccmm_task_signal_pending(t), 0);
	assert_int_equal(ccmm_memcg_oom_kills(root), 1);
	/* t's next charge finds u still there, an OOM victim: nobody else is killed, t waits (-EAGAIN) */
	assert_int_equal(ccmm_mem_cgroup_charge(NULL, leaf, 1, t), -EAGAIN);
	assert_int_equal(ccmm_task_signal_pending(t), 0);
	assert_int_equal(ccmm_memcg_oom_kills(root), 1);
	/* the old interface folds that into -ENOMEM */
	assert_int_equal(ccmm_memcg_try_charge(NULL, leaf, 1, t), -ENOMEM);

	/*
	 * With a reclaim hook the charge succeeds after reclaim from the level
	 * over its limit; reclaim is asked for SWAP_CLUSTER_MAX pages at least
	 * (try_to_free_mem_cgroup_pages), so it takes all 3 the hook has.
	 */
	pool = 3;
	ccmm_memcg_set_reclaim(root, reclaim_hook, &pool);
	assert_int_equal(ccmm_memcg_try_charge(NULL, leaf, 2, t), 0);
	assert_ptr_equal(hook_seen, g);
	assert_true(hook_calls >= 1);
	assert_int_equal(ccmm_memcg_usage(g), 9);
	/* lowering memory.max reclaims down to it through the hook */
	pool = 5;
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/mg/memory.max", "16k"), 0);
	assert_int_equal(ccmm_memcg_usage(g), 4);
	/* below what the hook can give: an oom event and a kill, the limit still applies */
	pool = 0;
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/mg/memory.max", "0"), 0);
	/* u, the earlier victim, is still there: memory_max_write's OOM does not kill again */
	assert_int_equal(ccmm_task_signal_pending(t), 0);
	assert_non_null(strstr(rd("/mg/memory.events.local"), "oom 4\n"));
	ccmm_memcg_set_reclaim(root, NULL, NULL);
	ccmm_memcg_uncharge(leaf, 4);
	assert_int_equal(ccmm_memcg_usage(root->top), 0);
	ccmm_task_exit(root, t);
	ccmm_task_exit(root, u);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/mg/leaf"), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/mg"), 0);
	ccmm_cgroup_put(leaf);
	assert_int_equal(atomic_load(&root->nr_cgroups), 1);
}

static int read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	return (int)n;
}

/* A task in @cg with the mm counters oom_badness() reads. */
static struct ccmm_task *oom_task(struct ccmm_cgroup *cg, const char *comm, long rss, long swapents, long pgtables, int adj)
{
	struct ccmm_task *t;

	assert_int_equal(ccmm_task_create(root, comm, comm, cg, &t), 0);
	atomic_store(&t->mm_rss, rss);
	atomic_store(&t->mm_swapents, swapents);
	atomic_store(&t->mm_pgtables, pgtables);
	t->oom_score_adj = adj;
	return t;
}

/*
 * The memcg OOM killer picks by oom_badness() (mm/oom_kill.c): resident
 * pages + swap entries + page tables, plus oom_score_adj scaled by the
 * memcg's totalpages / 1000 (mem_cgroup_get_max); -1000 is never picked;
 * on equal points the later task of the scan wins (oom_evaluate_task).
 * Not the charging task, not the lowest pid.
 */
static void test_oom_badness(void **state)
{
	struct ccmm_cgroup *cg, *sub, *y;
	struct ccmm_task *a, *b, *c, *cur, *s1, *s2;

	assert_int_equal(ccmm_cgroup_mkdir(root, "/ob/x", true, 1u << CCMM_CGRP_MEMORY, &sub), 0);
	cg = ccmm_cgroup_lookup(root, "/ob");
	assert_int_equal(ccmm_cgroup_mkdir(root, "/ob/y", false, 0, &y), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/ob/memory.max", "400k"), 0); /* 100 pages */
	ccmm_memcg_set_total_swap(root, 0);
	assert_int_equal(ccmm_mem_cgroup_get_max(cg), 100);
	a = oom_task(sub, "a", 10, 0, 1, 0);           /* 11 points, the lowest pid */
	b = oom_task(sub, "b", 30, 5, 2, 0);           /* 37 points: the victim */
	c = oom_task(sub, "c", 50, 0, 1, -1000);       /* the most memory, but unkillable */
	cur = oom_task(sub, "cur", 5, 0, 1, 1000);     /* charging; +1000 * (100 / 1000) = +0 */
	assert_int_equal(ccmm_oom_badness(a, 100), 11);
	assert_int_equal(ccmm_oom_badness(b, 100), 37);
	assert_int_equal(ccmm_oom_badness(c, 100), LONG_MIN);
	assert_int_equal(ccmm_oom_badness(cur, 100), 6);
	/* in a 1 GiB memcg oom_score_adj counts: 262144 / 1000 = 262 per unit */
	assert_int_equal(ccmm_oom_badness(cur, 262144), 6 + 1000 * 262);
	assert_int_equal(ccmm_memcg_try_charge(NULL, sub, 100, a), 0);
	assert_int_equal(ccmm_mem_cgroup_charge(NULL, sub, 1, cur), -EAGAIN);
	assert_int_equal(ccmm_task_signal_pending(b), SIGKILL);
	assert_int_equal(ccmm_task_signal_pending(a), 0);
	assert_int_equal(ccmm_task_signal_pending(c), 0);
	assert_int_equal(ccmm_task_signal_pending(cur), 0);
	assert_true(atomic_load(&b->oom_victim));
	assert_non_null(strstr(rd("/ob/x/memory.events.local"), "oom_kill 1\n"));
	assert_non_null(strstr(rd("/ob/memory.events.local"), "oom 1\noom_kill 0\n"));
	/* b has not exited: the next OOM waits for it rather than killing another */
	assert_int_equal(ccmm_mem_cgroup_charge(NULL, sub, 1, cur), -EAGAIN);
	assert_int_equal(ccmm_task_signal_pending(a), 0);
	ccmm_task_exit(root, b);
	/* b gone (its charge is not: nobody uncharged it here), the next victim: a; then the tie rule */
	assert_int_equal(ccmm_mem_cgroup_charge(NULL, sub, 1, cur), -EAGAIN);
	assert_int_equal(ccmm_task_signal_pending(a), SIGKILL);
	ccmm_task_exit(root, a);
	/* equal points in two cgroups: the later one in pre-order (/ob/y after /ob/x) */
	s1 = oom_task(sub, "s1", 20, 0, 0, 0);
	s2 = oom_task(y, "s2", 14, 0, 6, 0);
	assert_int_equal(ccmm_mem_cgroup_charge(NULL, sub, 1, cur), -EAGAIN);
	assert_int_equal(ccmm_task_signal_pending(s2), SIGKILL);
	assert_int_equal(ccmm_task_signal_pending(s1), 0);
	ccmm_task_exit(root, s2);
	/* only unkillable tasks left besides the charging one, which is also -1000 now: nothing to kill */
	ccmm_task_exit(root, s1);
	cur->oom_score_adj = -1000;
	assert_int_equal(ccmm_mem_cgroup_charge(NULL, sub, 1, cur), -ENOMEM);
	assert_int_equal(ccmm_task_signal_pending(c), 0);
	assert_int_equal(ccmm_task_signal_pending(cur), 0);
	ccmm_memcg_uncharge(sub, 100);
	ccmm_task_exit(root, c);
	ccmm_task_exit(root, cur);
	ccmm_cgroup_put(sub);
	ccmm_cgroup_put(y);
	ccmm_cgroup_put(cg);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/ob/x"), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/ob/y"), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/ob"), 0);
}

static uint64_t nothing_hook(struct ccmm_ctx *ctx, struct ccmm_cgroup *memcg, uint64_t nr, void *arg)
{
	(*(uint64_t *)arg)++;
	return 0;
}

/*
 * memory.high (mem_cgroup_handle_over_high): a task charging over high
 * reclaims ("high" events) every MEMCG_CHARGE_BATCH pages, and when
 * reclaim cannot keep up sleeps calculate_high_delay() jiffies: the square
 * of the overage, clamped to 2 s; nothing under HZ / 100.
 */
static void test_memory_high(void **state)
{
	struct ccmm_cgroup *cg;
	struct ccmm_task *t;
	struct ccmm_ctx ctx;
	uint64_t calls = 0, jiffy = m->cost[CCMM_COST_AT(cgroup, jiffy_ns)];

	assert_int_equal(jiffy, 4000000); /* CONFIG_HZ=250 */
	assert_int_equal(ccmm_cgroup_mkdir(root, "/hi", true, 1u << CCMM_CGRP_MEMORY, &cg), 0);
	assert_string_equal(rd("/hi/memory.high"), "max\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/hi/memory.high", "40k"), 0);
	assert_string_equal(rd("/hi/memory.high"), "40960\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/hi/memory.high", "forty"), -EINVAL);
	assert_int_equal(ccmm_task_create(root, "t", "t", cg, &t), 0);
	ccmm_ctx_init(&ctx, m, 0, "t");
	ccmm_memcg_set_reclaim(root, nothing_hook, &calls);
	/* 10 pages: at high, no event */
	assert_int_equal(ccmm_mem_cgroup_charge(&ctx, cg, 10, t), 0);
	assert_non_null(strstr(rd("/hi/memory.events"), "high 0\n"));
	/* 63 pages over: not yet a batch */
	for (int i = 0; i < 63; i++)
		assert_int_equal(ccmm_mem_cgroup_charge(&ctx, cg, 1, t), 0);
	assert_int_equal(ctx.now_ns, 0);
	/* the 64th: reclaim 1 + 16 times, nothing gained, sleep: 74 pages on 10 is far over, 2 s */
	assert_int_equal(ccmm_mem_cgroup_charge(&ctx, cg, 1, t), 0);
	assert_non_null(strstr(rd("/hi/memory.events"), "high 17\n"));
	assert_int_equal(calls, 17);
	assert_int_equal(ctx.now_ns, 2000000000ull);
	assert_int_equal(ctx.ctr[CCMM_CTR_AT(cgroup, memcg_high_throttles)], 1);
	ccmm_memcg_uncharge(cg, 74);
	/* a small overage: 64 pages over 1000 sleeps 65 jiffies */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/hi/memory.high", "4000k"), 0);
	assert_int_equal(ccmm_mem_cgroup_charge(&ctx, cg, 1000, t), 0);
	ctx.now_ns = 0;
	for (int i = 0; i < 64; i++)
		assert_int_equal(ccmm_mem_cgroup_charge(&ctx, cg, 1, t), 0);
	assert_int_equal(ctx.now_ns, 65 * 4000000ull);
	/* writing a lower high reclaims down to it through the hook, never kills */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/hi/memory.high", "0"), 0);
	assert_non_null(strstr(rd("/hi/memory.events"), "oom 0\noom_kill 0\n"));
	assert_int_equal(ccmm_task_signal_pending(t), 0);
	ccmm_memcg_set_reclaim(root, NULL, NULL);
	ccmm_memcg_uncharge(cg, 1064);
	ccmm_task_exit(root, t);
	ccmm_cgroup_put(cg);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/hi"), 0);
}

/*
 * cpuset.mems and cpuset.mems.effective (cgroup v2): "%*pbl" node lists,
 * nodes without memory refused (update_nodemask), an empty or disjoint
 * list inherits the parent's effective mems.
 */
static void test_cpuset_mems(void **state)
{
	struct ccmm_machine *m2;
	struct ccmm_cgroup_root *r2;
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_cgroup *a, *b;
	uint32_t mask;
	char buf[64], why[128];

	assert_int_equal(ccmm_nodelist_parse(" 0-2,5\n", 8, &mask), 0);
	assert_int_equal(mask, 0x27u);
	assert_string_equal(ccmm_nodelist_format(mask, buf, sizeof(buf)), "0-2,5");
	assert_int_equal(ccmm_nodelist_parse("", 8, &mask), 0);
	assert_int_equal(mask, 0);
	assert_int_equal(ccmm_nodelist_parse("2-1", 8, &mask), -EINVAL);
	assert_int_equal(ccmm_nodelist_parse("1,", 8, &mask), -EINVAL);
	assert_int_equal(ccmm_nodelist_parse("x", 8, &mask), -EINVAL);
	assert_int_equal(ccmm_nodelist_parse("9", 8, &mask), -ENODEV);
	assert_int_equal(ccmm_nodelist_parse("4096", 8, &mask), -ERANGE);
	assert_int_equal(ccmm_cgroup_write_check("cpuset.mems", "0-1", why, sizeof(why)), 0);
	assert_int_equal(ccmm_cgroup_write_check("cpuset.mems", "1-0", why, sizeof(why)), -EINVAL);

	assert_int_equal(ccmm_platform_parse("t.ini",
					     "[platform]\n[node:0]\nmem=64m\ndistance=10,20,20\n"
					     "[node:1]\nmem=64m\ncpus=no\ndistance=20,10,20\n"
					     "[node:2]\ncpus=yes\ndistance=20,20,10\n",
					     &p, &err),
			 0);
	assert_int_equal(ccmm_boot(p, 1, &m2), 0);
	r2 = ccmm_cgroup_root_of(m2);
	assert_int_equal(ccmm_cgroup_read(r2, "/cpuset.mems.effective", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "0-1\n"); /* node 2 has no memory */
	assert_int_equal(ccmm_cgroup_read(r2, "/cpuset.mems", buf, sizeof(buf)), -ENOENT); /* not on the root */
	assert_int_equal(ccmm_cgroup_mkdir(r2, "/a/b", true, 1u << CCMM_CGRP_CPUSET, &b), 0);
	a = b->parent;
	assert_int_equal(ccmm_cgroup_write(r2, NULL, "/a/cpuset.mems", "2"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(r2, NULL, "/a/cpuset.mems", "7"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(r2, NULL, "/a/cpuset.mems", "1"), 0);
	assert_int_equal(ccmm_cpuset_mems_effective(a), 0x2u);
	assert_int_equal(ccmm_cpuset_mems_effective(b), 0x2u); /* nothing written: the parent's */
	assert_int_equal(ccmm_cgroup_write(r2, NULL, "/a/b/cpuset.mems", "0"), 0);
	assert_int_equal(ccmm_cgroup_read(r2, "/a/b/cpuset.mems", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "0\n");
	assert_int_equal(ccmm_cpuset_mems_effective(b), 0x2u); /* disjoint from the parent's: the parent's */
	assert_int_equal(ccmm_cgroup_write(r2, NULL, "/a/cpuset.mems", "0-1"), 0);
	assert_int_equal(ccmm_cpuset_mems_effective(b), 0x1u);
	assert_int_equal(ccmm_cgroup_read(r2, "/a/b/cpuset.mems.effective", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "0\n");
	ccmm_cgroup_put(b);
	ccmm_shutdown(m2);
}

static void test_dump(void **state)
{
	char dir[] = "/tmp/ccmm-cgdump-XXXXXX", out[64], buf[256];
	struct ccmm_cgroup *cg;

	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/fs", dir);
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_SGX_EPC, 8192);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/d/e", true, CCMM_CGRP_MASK_ALL, &cg), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/d/e/misc.max", "sgx_epc 4096"), 0);
	assert_int_equal(ccmm_cgroup_dump(root, out, NULL), 0);
	snprintf(buf, sizeof(buf), "%s/d/e/misc.max", out);
	assert_int_equal(read_file(buf, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "sgx_epc 4096\n");
	snprintf(buf, sizeof(buf), "%s/misc.capacity", out);
	assert_true(read_file(buf, buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "sgx_epc 8192\n");
	snprintf(buf, sizeof(buf), "%s/misc.max", out);
	assert_int_equal(access(buf, F_OK), -1); /* not on the root */
	snprintf(buf, sizeof(buf), "%s/d/e/cgroup.kill", out);
	assert_int_equal(access(buf, F_OK), -1); /* write-only files are not dumped */
	/* a second dump replaces the first */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/d/e/misc.max", "sgx_epc max"), 0);
	assert_int_equal(ccmm_cgroup_dump(root, out, NULL), 0);
	snprintf(buf, sizeof(buf), "%s/d/e/misc.max", out);
	read_file(buf, buf, sizeof(buf));
	assert_string_equal(buf, "sgx_epc max\n");
	/* a directory that is not a dump is not replaced */
	{
		struct ccmm_error err;

		assert_int_equal(ccmm_cgroup_dump(root, dir, &err), -EEXIST);
		assert_non_null(strstr(err.msg, "not a previous cgroupfs dump"));
	}
	snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
	assert_int_equal(system(buf), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/d/e"), 0);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/d"), 0);
	ccmm_cgroup_put(cg);
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_SGX_EPC, 0);
}

/* Provider ops: alloc for every cgroup (existing and new), free after the last reference. */
static int nr_alloc, nr_free;

static int op_alloc(struct ccmm_cgroup *cg, void *arg)
{
	cg->misc[CCMM_MISC_SEV].priv = arg;
	nr_alloc++;
	return 0;
}

static void op_free(struct ccmm_cgroup *cg, void *arg)
{
	assert_ptr_equal(cg->misc[CCMM_MISC_SEV].priv, arg);
	nr_free++;
}

static const struct ccmm_misc_res_ops ops = { op_alloc, op_free };

static void test_misc_ops_and_refs(void **state)
{
	struct ccmm_cgroup *cg;
	int token;

	assert_int_equal(ccmm_cgroup_mkdir(root, "/o", false, 0, NULL), 0);
	assert_int_equal(ccmm_misc_cg_set_ops(root, CCMM_MISC_SEV, &ops, &token), 0);
	assert_int_equal(nr_alloc, 2); /* the root and /o */
	assert_int_equal(ccmm_cgroup_mkdir(root, "/o/p", false, 0, &cg), 0);
	assert_int_equal(nr_alloc, 3);
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_SEV, 4096);
	/* a charged page holds a reference: rmdir succeeds, the cgroup lives on offline */
	ccmm_cgroup_get(cg);
	assert_int_equal(ccmm_misc_cg_try_charge(CCMM_MISC_SEV, cg, 4096), 0);
	ccmm_cgroup_put(cg);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/o/p"), 0);
	assert_int_equal(nr_free, 0);
	assert_false(ccmm_cgroup_tryget(cg) == false); /* still referenced: tryget works */
	ccmm_cgroup_put(cg);
	ccmm_misc_cg_uncharge(CCMM_MISC_SEV, cg, 4096);
	ccmm_cgroup_put(cg); /* the charge's reference: now it is freed */
	assert_int_equal(nr_free, 1);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/o"), 0);
	assert_int_equal(nr_free, 2);
	ccmm_misc_cg_set_capacity(root, CCMM_MISC_SEV, 0);
	assert_int_equal(ccmm_misc_cg_set_ops(root, CCMM_MISC_SEV, NULL, NULL), 0);
}


#define REGION "drm/gpu0/vram0"
#define KiB 1024ULL

/* The dmem files as dmem.c prints them; writes with the kernel's parser and errnos (dmemcg_limit_write). */
static void test_dmem_files(void **state)
{
	struct ccmm_dmem_region *r, *none;
	uint64_t v;
	char name[96];

	assert_int_equal(ccmm_dmem_register_region(root, 0, "drm/none/vram0", &none), 0);
	assert_null(none); /* dmem_cgroup_register_region(0, ...) is NULL: nothing accounted */
	assert_int_equal(ccmm_dmem_register_region(root, 1024 * KiB, "bad name", &none), -EINVAL);
	assert_int_equal(ccmm_dmem_register_region(root, 1024 * KiB, REGION, &r), 0);
	assert_string_equal(rd("/dmem.capacity"), REGION " 1048576\n");
	assert_string_equal(rd("/dmem.current"), REGION " 0\n");
	assert_int_equal(ccmm_cgroup_read(root, "/dmem.max", name, sizeof(name)), -ENOENT); /* CFTYPE_NOT_ON_ROOT */
	/* a child has dmem files only where its parent enables the controller */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "-dmem"), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/dm", false, 0, NULL), 0);
	assert_int_equal(ccmm_cgroup_read(root, "/dm/dmem.max", name, sizeof(name)), -ENOENT);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "+dmem"), 0);
	assert_int_equal(ccmm_cgroup_read(root, "/dm/dmem.capacity", name, sizeof(name)), -ENOENT); /* root only */
	assert_string_equal(rd("/dm/dmem.max"), REGION " max\n");
	assert_string_equal(rd("/dm/dmem.min"), REGION " 0\n");
	assert_string_equal(rd("/dm/dmem.low"), REGION " 0\n");
	assert_string_equal(rd("/dm/dmem.current"), REGION " 0\n");
	/* memparse: base 0, K/M/G/T/P/E suffixes; "max"; the whole rest of the line */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION " 512k"), 0);
	assert_string_equal(rd("/dm/dmem.max"), REGION " 524288\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION "\t0x1000\n"), 0);
	assert_string_equal(rd("/dm/dmem.max"), REGION " 4096\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION " 010"), 0); /* octal */
	assert_string_equal(rd("/dm/dmem.max"), REGION " 8\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION " 1M"), 0);
	assert_string_equal(rd("/dm/dmem.max"), REGION " 1048576\n");
	/* a limit at or above PAGE_COUNTER_MAX (2^63 / 4096 bytes, ~2 PiB) reads as max */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION " 4P"), 0);
	assert_string_equal(rd("/dm/dmem.max"), REGION " max\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.low", REGION " 64k"), 0);
	assert_string_equal(rd("/dm/dmem.low"), REGION " 65536\n");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.min", REGION " 32k"), 0);
	assert_string_equal(rd("/dm/dmem.min"), REGION " 32768\n");
	/* the refusals: -EINVAL, nothing changes */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", "drm/nope/vram0 1"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION " -1"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION " 12q"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION "  5"), -EINVAL); /* " 5" is no number */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.max", REGION " 1 2"), -EINVAL);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/dm/dmem.current", REGION " 1"), -EACCES);
	assert_string_equal(rd("/dm/dmem.max"), REGION " max\n");
	/* the parser alone (job files are checked before a machine exists) */
	assert_int_equal(ccmm_dmem_parse_limit("a 1g", name, sizeof(name), &v), 0);
	assert_string_equal(name, "a");
	assert_int_equal(v, 1ULL << 30);
	assert_int_equal(ccmm_dmem_parse_limit("a k", name, sizeof(name), &v), 0); /* memparse: no digits, a suffix: 0 */
	assert_int_equal(v, 0);
	assert_int_equal(ccmm_dmem_parse_limit("a 0x", name, sizeof(name), &v), -EINVAL);
	assert_int_equal(ccmm_dmem_parse_limit(" 1", name, sizeof(name), &v), -EINVAL);
	assert_int_equal(ccmm_cgroup_write_check("dmem.max", REGION " max", NULL, 0), 0);
	assert_int_equal(ccmm_cgroup_write_check("dmem.low", REGION " lots", NULL, 0), -EINVAL);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/dm"), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "-dmem"), 0);
	ccmm_dmem_unregister_region(r);
	assert_string_equal(rd("/dmem.capacity"), "");
}

/* dmem_cgroup_try_charge: the page counter up the tree, the limit pool, uncharge; dmem.max below the usage. */
static void test_dmem_charges(void **state)
{
	struct ccmm_dmem_region *r;
	struct ccmm_dmem_pool *p1, *p2, *p3, *limit, *pn;
	struct ccmm_cgroup *a, *b, *n;

	assert_int_equal(ccmm_dmem_register_region(root, 4096 * KiB, "drm/gpu1/vram0", &r), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/ca/cb", true, 1u << CCMM_CGRP_DMEM, &b), 0);
	a = ccmm_cgroup_lookup(root, "/ca");
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/ca/dmem.max", "drm/gpu1/vram0 512k"), 0);
	assert_int_equal(ccmm_dmem_try_charge(r, b, 256 * KiB, &p1, &limit), 0);
	assert_ptr_equal(ccmm_dmem_pool_cgroup(p1), b);
	assert_int_equal(ccmm_dmem_try_charge(r, b, 256 * KiB, &p2, &limit), 0);
	assert_string_equal(rd("/ca/cb/dmem.current"), "drm/gpu1/vram0 524288\n");
	assert_string_equal(rd("/ca/dmem.current"), "drm/gpu1/vram0 524288\n");
	assert_string_equal(rd("/dmem.current"), "drm/gpu1/vram0 524288\n");
	/* /ca is full: -EAGAIN, the limit pool is /ca's, nothing stays charged below it */
	assert_int_equal(ccmm_dmem_try_charge(r, b, 4096, &p3, &limit), -EAGAIN);
	assert_null(p3);
	assert_non_null(limit);
	assert_ptr_equal(ccmm_dmem_pool_cgroup(limit), a);
	assert_int_equal(ccmm_dmem_pool_failcnt(limit), 1);
	assert_int_equal(ccmm_dmem_usage(b, r), 512 * KiB);
	ccmm_dmem_pool_put(limit);
	/* without asking for the limit pool */
	assert_int_equal(ccmm_dmem_try_charge(r, b, 4096, &p3, NULL), -EAGAIN);
	/* set_resource_max ignores page_counter_set_max's -EBUSY: the write succeeds, the limit stays */
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/ca/dmem.max", "drm/gpu1/vram0 4096"), 0);
	assert_string_equal(rd("/ca/dmem.max"), "drm/gpu1/vram0 524288\n");
	ccmm_dmem_uncharge(p2, 256 * KiB);
	assert_string_equal(rd("/dmem.current"), "drm/gpu1/vram0 262144\n");
	/* a cgroup without the controller is charged at its nearest ancestor that has it */
	assert_int_equal(ccmm_cgroup_mkdir(root, "/ca/cb/nod", false, 0, &n), 0);
	assert_ptr_equal(ccmm_dmem_cg_css(n), b);
	assert_int_equal(ccmm_dmem_try_charge(r, n, 4096, &pn, NULL), 0);
	assert_ptr_equal(ccmm_dmem_pool_cgroup(pn), b);
	ccmm_dmem_uncharge(pn, 4096);
	/* rmdir resets the limits of the cgroup's pools (dmemcs_offline); a charge keeps it alive */
	assert_int_equal(ccmm_cgroup_rmdir(root, "/ca/cb/nod"), 0);
	ccmm_cgroup_put(n);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/ca/cb/dmem.max", "drm/gpu1/vram0 256k"), 0);
	assert_int_equal(ccmm_dmem_try_charge(r, b, 4096, &p3, NULL), -EAGAIN);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/ca/cb"), 0);
	assert_int_equal(ccmm_dmem_try_charge(r, b, 4096, &p3, NULL), 0); /* /ca/cb's limit is gone; /ca's is not */
	ccmm_dmem_uncharge(p3, 4096);
	ccmm_dmem_uncharge(p1, 256 * KiB);
	ccmm_cgroup_put(b);
	assert_string_equal(rd("/dmem.current"), "drm/gpu1/vram0 0\n");
	/* an unregistered region takes no charge */
	ccmm_dmem_unregister_region(r);
	assert_int_equal(ccmm_dmem_try_charge(r, a, 4096, &p3, NULL), -ENODEV);
	ccmm_cgroup_put(a);
	assert_int_equal(ccmm_cgroup_rmdir(root, "/ca"), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/cgroup.subtree_control", "-dmem"), 0);
}

/*
 * dmem_cgroup_state_evict_valuable: within the cgroup that hit its limit,
 * min and low protect as memory.min/low do, effective protection computed
 * with recursive_prot from the limit down (page_counter_calculate_protection).
 */
static void test_dmem_protection(void **state)
{
	struct ccmm_dmem_region *r;
	struct ccmm_dmem_pool *px, *py, *pz, *pq, *pn, *limit;
	struct ccmm_cgroup *x, *y, *z, *q;
	bool hit = false;

	assert_int_equal(ccmm_dmem_register_region(root, 64 * 1024 * KiB, "drm/gpu2/vram0", &r), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/p/x", true, 1u << CCMM_CGRP_DMEM, &x), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/p/y", true, 1u << CCMM_CGRP_DMEM, &y), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/p/z", true, 1u << CCMM_CGRP_DMEM, &z), 0);
	assert_int_equal(ccmm_cgroup_mkdir(root, "/q", true, 1u << CCMM_CGRP_DMEM, &q), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/x/dmem.min", "drm/gpu2/vram0 256k"), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/y/dmem.low", "drm/gpu2/vram0 256k"), 0);
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/dmem.max", "drm/gpu2/vram0 1M"), 0);
	assert_int_equal(ccmm_dmem_try_charge(r, x, 256 * KiB, &px, NULL), 0);
	assert_int_equal(ccmm_dmem_try_charge(r, y, 256 * KiB, &py, NULL), 0);
	assert_int_equal(ccmm_dmem_try_charge(r, z, 384 * KiB, &pz, NULL), 0);
	assert_int_equal(ccmm_dmem_try_charge(r, q, 64 * KiB, &pq, NULL), 0);
	assert_int_equal(ccmm_dmem_try_charge(r, z, 256 * KiB, &pn, &limit), -EAGAIN);
	assert_null(pn);
	assert_ptr_equal(ccmm_dmem_pool_cgroup(limit), ccmm_dmem_pool_cgroup(px)->parent);
	/* the limit pool's own memory and unprotected memory below it may go */
	assert_true(ccmm_dmem_evict_valuable(limit, limit, false, &hit));
	assert_true(ccmm_dmem_evict_valuable(limit, pz, false, &hit));
	assert_false(hit);
	/* x is within its min: never; y within its low: not on the first pass, yes ignoring low */
	assert_false(ccmm_dmem_evict_valuable(limit, px, false, &hit));
	assert_false(hit);
	assert_false(ccmm_dmem_evict_valuable(limit, px, true, &hit));
	assert_false(ccmm_dmem_evict_valuable(limit, py, false, &hit));
	assert_true(hit);
	assert_true(ccmm_dmem_evict_valuable(limit, py, true, &hit));
	/* memory outside the limited cgroup is not its to evict; memory charged nowhere neither */
	assert_false(ccmm_dmem_evict_valuable(limit, pq, true, &hit));
	assert_false(ccmm_dmem_evict_valuable(limit, NULL, true, &hit));
	/*
	 * without a cgroup limit (the device was full) protection counts from
	 * the root, and /p grants none: x's min is not effective then
	 */
	assert_true(ccmm_dmem_evict_valuable(NULL, px, false, &hit));
	assert_int_equal(ccmm_cgroup_write(root, NULL, "/p/dmem.min", "drm/gpu2/vram0 1M"), 0);
	/* /p's min (1M) is now distributed to its children's unprotected usage (recursive_prot): x keeps 256k */
	assert_false(ccmm_dmem_evict_valuable(NULL, px, false, &hit));
	assert_false(ccmm_dmem_evict_valuable(NULL, pz, false, &hit)); /* 1M covers all 896k below /p */
	ccmm_dmem_pool_put(limit);
	ccmm_dmem_uncharge(px, 256 * KiB);
	ccmm_dmem_uncharge(py, 256 * KiB);
	ccmm_dmem_uncharge(pz, 384 * KiB);
	ccmm_dmem_uncharge(pq, 64 * KiB);
	ccmm_cgroup_put(x);
	ccmm_cgroup_put(y);
	ccmm_cgroup_put(z);
	ccmm_cgroup_put(q);
	ccmm_dmem_unregister_region(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hierarchy),
		cmocka_unit_test(test_controllers_and_tasks),
		cmocka_unit_test(test_misc_formats_and_charges),
		cmocka_unit_test(test_misc_tdx_resource),
		cmocka_unit_test(test_write_check),
		cmocka_unit_test(test_memcg),
		cmocka_unit_test(test_oom_badness),
		cmocka_unit_test(test_memory_high),
		cmocka_unit_test(test_cpuset_mems),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_misc_ops_and_refs),
		cmocka_unit_test(test_dmem_files),
		cmocka_unit_test(test_dmem_charges),
		cmocka_unit_test(test_dmem_protection),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
