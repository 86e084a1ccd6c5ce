// SPDX-License-Identifier: MIT
/*
 * The cgroup actor kind (a shell working on cgroupfs, as the EPC cgroup
 * selftest script does): mkdir/rmdir, writes and checks of interface
 * files, kills, and checks of how other actors exited; and the cgroup run
 * extension: [global] cgroupfs = DIR dumps the hierarchy at the end, and
 * the report shows it.
 */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "scenario/scenario.h"

/* ---- paths a job creates -------------------------------------------------------- */

static const struct ccmm_actor_kind *cgroup_kind(void);

/* Call @fn for every path a mkdir op of the job creates (with its ancestors). Stops at a non-zero return. */
static int for_each_job_path(const struct ccmm_job *job, int (*fn)(const char *path, void *arg), void *arg)
{
	for (size_t i = 0; i < job->nr_actors; i++) {
		const struct ccmm_actor *a = job->actors[i];

		if (a->kind != cgroup_kind())
			continue;
		for (size_t k = 0; k < a->nr_ops; k++) {
			const struct ccmm_op *op = &a->ops[k];
			char p[256];
			int ret;

			if (strcmp(op->verb->name, "mkdir"))
				continue;
			snprintf(p, sizeof(p), "%s", op->arg[0].str);
			/* the path and every ancestor */
			for (;;) {
				char *slash;

				ret = fn(p, arg);
				if (ret)
					return ret;
				slash = strrchr(p, '/');
				if (!slash || slash == p)
					break;
				*slash = '\0';
			}
		}
	}
	return 0;
}

struct path_find {
	const char *want;
	const char *names[256];
	char store[256][64];
	size_t n;
};

static int match_path(const char *path, void *arg)
{
	struct path_find *f = arg;

	if (!strcmp(path, f->want))
		return 1;
	if (f->n < 256) {
		snprintf(f->store[f->n], sizeof(f->store[0]), "%.63s", path);
		f->names[f->n] = f->store[f->n];
		f->n++;
	}
	return 0;
}

int ccmm_cgroup_job_path_check(const struct ccmm_job *job, const char *path, const struct ccmm_loc *loc,
			       const char *what, struct ccmm_error *err)
{
	struct path_find *f;
	const char *near;
	int ret;

	if (ccmm_cgroup_path_valid(path))
		return ccmm_error_set(err, loc, -EINVAL,
				      "%s: '%s' is not a cgroup path (absolute, '/'-separated names, no '.' or '..')", what, path);
	if (!strcmp(path, "/"))
		return 0;
	f = calloc(1, sizeof(*f));
	if (!f)
		return ccmm_error_set(err, loc, -ENOMEM, "out of memory");
	f->want = path;
	if (for_each_job_path(job, match_path, f)) {
		free(f);
		return 0;
	}
	near = ccmm_suggest(path, f->names, f->n);
	ret = ccmm_error_set(err, loc, -ENOENT, "%s: cgroup '%s' does not exist: no mkdir in the job creates it%s%s%s", what,
			     path, near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	free(f);
	return ret;
}

/* ---- the kind ---------------------------------------------------------------------- */

static struct ccmm_cgroup_root *cgroot(struct ccmm_actor *a)
{
	return ccmm_cgroup_root_of(a->run->m);
}

/* "v1 v2 v3" from the optional value arguments starting at @first. */
static void join_values(const struct ccmm_op *op, int first, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = first; i < first + 3; i++) {
		if (!ccmm_arg_set(op, i))
			continue;
		used += (size_t)snprintf(out + used, used < len ? len - used : 0, "%s%s", used ? " " : "", ccmm_arg_str(op, i));
	}
}

static const char *const ctrl_choices[] = { "memory,misc", "misc,memory", "misc", "memory", "none",
					    "cpuset,memory", "cpuset,memory,misc", "cpuset", "memory,misc,dmem", "dmem",
					    "cpuset,memory,misc,dmem", NULL };

static unsigned ctrl_mask(int choice)
{
	switch (choice) {
	case 2:
		return 1u << CCMM_CGRP_MISC;
	case 3:
		return 1u << CCMM_CGRP_MEMORY;
	case 4:
		return 0;
	case 5:
		return 1u << CCMM_CGRP_CPUSET | 1u << CCMM_CGRP_MEMORY;
	case 6:
		return 1u << CCMM_CGRP_CPUSET | 1u << CCMM_CGRP_MEMORY | 1u << CCMM_CGRP_MISC;
	case 7:
		return 1u << CCMM_CGRP_CPUSET;
	case 8:
		return 1u << CCMM_CGRP_MEMORY | 1u << CCMM_CGRP_MISC | 1u << CCMM_CGRP_DMEM;
	case 9:
		return 1u << CCMM_CGRP_DMEM;
	case 10:
		return CCMM_CGRP_MASK_ALL;
	default:
		return 1u << CCMM_CGRP_MEMORY | 1u << CCMM_CGRP_MISC;
	}
}

static const struct ccmm_arg_spec mkdir_args[] = {
	{ "path", CCMM_ARG_STR, true, true, NULL, NULL, "cgroup path, /a/b" },
	{ "controllers", CCMM_ARG_ENUM, false, false, ctrl_choices, "memory,misc",
	  "controllers enabled on the way down (cgcreate -g CTRLS:PATH); none: a plain mkdir of one level" },
	{ NULL }
};

static int verb_mkdir(struct ccmm_actor *a, const struct ccmm_op *op)
{
	int choice = ccmm_arg_choice(op, 1);
	int ret = ccmm_cgroup_mkdir(cgroot(a), ccmm_arg_str(op, 0), choice != 4, ctrl_mask(choice), NULL);

	if (ret)
		ccmm_op_note(a, "mkdir %s: %s", ccmm_arg_str(op, 0), strerror(-ret));
	return ret;
}

static const struct ccmm_arg_spec path_args[] = {
	{ "path", CCMM_ARG_STR, true, true, NULL, NULL, "cgroup path" },
	{ NULL }
};

static int verb_rmdir(struct ccmm_actor *a, const struct ccmm_op *op)
{
	int ret = ccmm_cgroup_rmdir(cgroot(a), ccmm_arg_str(op, 0));

	if (ret)
		ccmm_op_note(a, "rmdir %s: %s", ccmm_arg_str(op, 0), strerror(-ret));
	return ret;
}

static const struct ccmm_arg_spec file_args[] = {
	{ "file", CCMM_ARG_STR, true, true, NULL, NULL, "interface file, /a/b/misc.max" },
	{ "v1", CCMM_ARG_STR, true, false, NULL, NULL, "value (words are joined with spaces: sgx_epc 4096)" },
	{ "v2", CCMM_ARG_STR, true, false, NULL, NULL, "more of the value" },
	{ "v3", CCMM_ARG_STR, true, false, NULL, NULL, "more of the value" },
	{ NULL }
};

static int verb_write(struct ccmm_actor *a, const struct ccmm_op *op)
{
	char val[300];
	int ret;

	join_values(op, 1, val, sizeof(val));
	ret = ccmm_cgroup_write(cgroot(a), &a->ctx, ccmm_arg_str(op, 0), val);
	if (ret)
		ccmm_op_note(a, "echo '%s' > %s: %s", val, ccmm_arg_str(op, 0), strerror(-ret));
	return ret;
}

/*
 * check FILE VALUE: for a flat-keyed file ("sgx_epc 4096" lines) whose
 * first value word is a key, that key's value; otherwise the whole
 * content, white space collapsed. -EBADMSG on a mismatch.
 */
static int verb_check(struct ccmm_actor *a, const struct ccmm_op *op)
{
	char want[300], got[4096], key[64] = "";
	const char *file = ccmm_arg_str(op, 0);
	int n = ccmm_cgroup_read(cgroot(a), file, got, sizeof(got));

	if (n < 0) {
		ccmm_op_note(a, "cat %s: %s", file, strerror(-n));
		return n;
	}
	join_values(op, 1, want, sizeof(want));
	if (ccmm_arg_set(op, 2))
		snprintf(key, sizeof(key), "%s", ccmm_arg_str(op, 1));
	if (key[0]) {
		size_t kl = strlen(key);

		char *save = NULL;

		for (char *line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!strncmp(line, key, kl) && line[kl] == ' ') {
				char full[300];

				snprintf(full, sizeof(full), "%s", line);
				if (!strcmp(full, want))
					return 0;
				ccmm_op_note(a, "%s: '%s', expected '%s'", file, full, want);
				return -EBADMSG;
			}
		}
		ccmm_op_note(a, "%s has no line '%s ...'", file, key);
		return -EBADMSG;
	}
	/* whole content: collapse white space */
	{
		char norm[4096];
		size_t o = 0;
		bool sp = false;

		for (int i = 0; got[i] && o + 1 < sizeof(norm); i++) {
			if (got[i] == ' ' || got[i] == '\n' || got[i] == '\t') {
				sp = o > 0;
				continue;
			}
			if (sp)
				norm[o++] = ' ';
			sp = false;
			norm[o++] = got[i];
		}
		norm[o] = '\0';
		if (!strcmp(norm, want))
			return 0;
		ccmm_op_note(a, "%s: '%s', expected '%s'", file, norm, want);
		return -EBADMSG;
	}
}

static const struct ccmm_arg_spec kill_args[] = {
	{ "path", CCMM_ARG_STR, true, true, NULL, NULL, "cgroup path" },
	{ "random", CCMM_ARG_BOOL, false, false, NULL, "no", "SIGKILL one process of the cgroup picked at random (the actor's "
							       "random stream), instead of all (cgroup.kill)" },
	{ NULL }
};

static int verb_kill(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_cgroup_root *root = cgroot(a);
	struct ccmm_cgroup *cg = ccmm_cgroup_lookup(root, ccmm_arg_str(op, 0));
	int n = 0;

	if (!cg) {
		ccmm_op_note(a, "no cgroup %s", ccmm_arg_str(op, 0));
		return -ENOENT;
	}
	if (!ccmm_arg_choice(op, 1)) {
		n = ccmm_cgroup_kill(root, cg);
	} else {
		/* kill ${pids[RANDOM % N]}: the live processes of this cgroup, by pid */
		struct ccmm_task *pick[256];
		size_t cnt = 0;

		ccmm_cgroup_tree_rdlock(root);
		for (struct ccmm_task *t = root->tasks; t; t = t->next)
			if (t->cgrp == cg && !ccmm_task_signal_pending(t) && cnt < 256)
				pick[cnt++] = t;
		/* the list is newest first: order by pid so the choice is stable */
		for (size_t i = 1; i < cnt; i++)
			for (size_t j = i; j && pick[j - 1]->pid > pick[j]->pid; j--) {
				struct ccmm_task *x = pick[j];

				pick[j] = pick[j - 1];
				pick[j - 1] = x;
			}
		if (cnt) {
			ccmm_task_signal(pick[ccmm_rng_range(&a->ctx.rng, 0, cnt - 1)], SIGKILL);
			n = 1;
		}
		ccmm_cgroup_tree_unlock(root);
	}
	ccmm_cgroup_put(cg);
	if (!n) {
		ccmm_op_note(a, "no process to kill in %s", ccmm_arg_str(op, 0));
		return -ESRCH;
	}
	return 0;
}

static const struct ccmm_arg_spec exits_args[] = {
	{ "actors", CCMM_ARG_STR, true, true, NULL, NULL, "actor names, a shell pattern (large_*)" },
	{ "passed", CCMM_ARG_U64, false, false, NULL, NULL, "how many exited with status 0 (N or LO-HI)" },
	{ "failed", CCMM_ARG_U64, false, false, NULL, NULL, "how many exited with another status, killed ones included" },
	{ "killed", CCMM_ARG_U64, false, false, NULL, NULL, "how many were killed by a signal (status 128+N)" },
	{ NULL }
};

static bool in_range(const struct ccmm_op *op, int idx, uint64_t v)
{
	return !ccmm_arg_set(op, idx) || (v >= op->arg[idx].range.lo && v <= op->arg[idx].range.hi);
}

/* wait $pid && check the exit statuses of a group of process-like actors. */
static int verb_exits(struct ccmm_actor *a, const struct ccmm_op *op)
{
	struct ccmm_job *job = a->run->job;
	uint64_t passed = 0, failed = 0, killed = 0, running = 0;
	const char *pat = ccmm_arg_str(op, 0);

	pthread_mutex_lock(&a->run->lock);
	for (size_t i = 0; i < job->nr_actors; i++) {
		struct ccmm_actor *x = job->actors[i];

		if (x == a || fnmatch(pat, x->name, 0))
			continue;
		if (!x->exited)
			running++;
		else if (!x->exit_status)
			passed++;
		else {
			failed++;
			killed += x->exit_status >= 128;
		}
	}
	pthread_mutex_unlock(&a->run->lock);
	if (running || !in_range(op, 1, passed) || !in_range(op, 2, failed) || !in_range(op, 3, killed)) {
		ccmm_op_note(a, "%s: %" PRIu64 " passed, %" PRIu64 " failed (%" PRIu64 " killed)%s%s", pat, passed, failed,
			     killed, running ? ", some still running: wait for them first" : "",
			     running ? "" : " -- not what the op asks");
		return -EBADMSG;
	}
	return 0;
}

static const struct ccmm_verb cgroup_verbs[] = {
	{ "mkdir", "create a cgroup (and its parents, enabling controllers: cgcreate)", mkdir_args, verb_mkdir },
	{ "rmdir", "remove a cgroup", path_args, verb_rmdir },
	{ "write", "write an interface file: echo VALUE > FILE", file_args, verb_write },
	{ "check", "read an interface file and compare: the line of a key (sgx_epc 0), or the whole file", file_args,
	  verb_check },
	{ "kill", "SIGKILL the processes of a cgroup (cgroup.kill), or one of them at random", kill_args, verb_kill },
	{ "exits", "check how a group of actors exited (wait $pid in the selftest)", exits_args, verb_exits },
	{ NULL }
};

/* Load-time checks: paths exist, files are known, values parse (unless the op expects the error). */
static int cgroup_check(struct ccmm_job *job, struct ccmm_actor *a, struct ccmm_error *err)
{
	for (size_t i = 0; i < a->nr_ops; i++) {
		const struct ccmm_op *op = &a->ops[i];
		struct ccmm_loc loc = { op->where.file, op->where.line };
		const char *name = op->verb->name;
		int ret = 0;

		if (!strcmp(name, "mkdir")) {
			if (ccmm_cgroup_path_valid(op->arg[0].str) || !strcmp(op->arg[0].str, "/"))
				ret = ccmm_error_set(err, &loc, -EINVAL, "mkdir: '%s' is not a cgroup path to create",
						     op->arg[0].str);
		} else if (!strcmp(name, "rmdir") || !strcmp(name, "kill")) {
			ret = ccmm_cgroup_job_path_check(job, op->arg[0].str, &loc, name, err);
		} else if (!strcmp(name, "write") || !strcmp(name, "check")) {
			const char *file = op->arg[0].str, *slash = strrchr(file, '/');
			char dir[256], why[160], val[300];

			if (file[0] != '/' || !slash || !slash[1])
				return ccmm_error_set(err, &loc, -EINVAL, "%s: '%s' is not a file path (/cgroup/path/misc.max)", name,
						      file);
			if (!ccmm_cgroup_file_known(slash + 1)) {
				size_t nf = 0;
				const char *near;

				while (ccmm_cgroup_file_names[nf])
					nf++;
				near = ccmm_suggest(slash + 1, ccmm_cgroup_file_names, nf);

				return ccmm_error_set(err, &loc, -ENOENT, "%s: no interface file '%s'%s%s%s", name, slash + 1,
						      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
			}
			snprintf(dir, sizeof(dir), "%.*s", slash == file ? 1 : (int)(slash - file), file);
			ret = ccmm_cgroup_job_path_check(job, dir, &loc, name, err);
			if (!ret && !strcmp(name, "write") && !op->ret_set) {
				join_values(op, 1, val, sizeof(val));
				ret = ccmm_cgroup_write_check(slash + 1, val, why, sizeof(why));
				if (ret)
					ret = ccmm_error_set(err, &loc, ret,
							     "write %s: %s: the kernel returns -%s (add ret=%s if that is the point)",
							     file, why, ret == -ERANGE ? "ERANGE" : ret == -EACCES ? "EACCES" : "EINVAL",
							     ret == -ERANGE ? "ERANGE" : ret == -EACCES ? "EACCES" : "EINVAL");
			}
		} else if (!strcmp(name, "exits")) {
			bool any = false;

			for (size_t k = 0; k < job->nr_actors && !any; k++)
				any = job->actors[k] != a && !fnmatch(op->arg[0].str, job->actors[k]->name, 0);
			if (!any)
				ret = ccmm_error_set(err, &loc, -EINVAL, "exits: no actor matches '%s'", op->arg[0].str);
		}
		if (ret)
			return ret;
	}
	return 0;
}

static const struct ccmm_actor_kind ccmm_kind_cgroup = {
	.name = "cgroup",
	.help = "a shell on cgroupfs: mkdir, echo > FILE, cat FILE, kill, wait for processes (the EPC cgroup selftest script)",
	.verbs = cgroup_verbs,
	.check = cgroup_check,
};

static const struct ccmm_actor_kind *cgroup_kind(void)
{
	return &ccmm_kind_cgroup;
}

/* ---- the run extension: cgroupfs dump and the report ------------------------------ */

struct cgroup_ext_opts {
	char cgroupfs[256];
};

static const struct ccmm_option cgroup_ext_options[] = {
	{ "cgroupfs", CCMM_OPT_STR, offsetof(struct cgroup_ext_opts, cgroupfs), 0, 256, false, NULL, "",
	  "directory to dump the cgroup hierarchy into at the end, in cgroupfs layout (complete or not at all)" },
	{ NULL }
};

static void cgroup_ext_finish(struct ccmm_run *run, const void *opts)
{
	const struct cgroup_ext_opts *o = opts;
	struct ccmm_error err;

	if (!o->cgroupfs[0] || run->error[0])
		return;
	memset(&err, 0, sizeof(err));
	if (ccmm_cgroup_dump(ccmm_cgroup_root_of(run->m), o->cgroupfs, &err)) {
		pthread_mutex_lock(&run->lock);
		if (!run->error[0]) {
			snprintf(run->error, sizeof(run->error), "cgroupfs: %s", err.msg);
			run->error_ret = -EIO;
		}
		pthread_mutex_unlock(&run->lock);
	}
}

/* First line of a file with the key's value, for the table ("-" when absent). */
static void key_value(struct ccmm_cgroup_root *root, const char *path, const char *file, const char *key, char *out,
		      size_t len)
{
	char fp[300], buf[512];
	size_t kl = strlen(key);

	snprintf(out, len, "-");
	snprintf(fp, sizeof(fp), "%s%s%s", path, strcmp(path, "/") ? "/" : "", file);
	if (ccmm_cgroup_read(root, fp, buf, sizeof(buf)) < 0)
		return;
	if (!kl) {
		buf[strcspn(buf, "\n")] = '\0';
		snprintf(out, len, "%.31s", buf);
		return;
	}
	for (char *save = NULL, *line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, key, kl) && line[kl] == ' ')
			snprintf(out, len, "%.31s", line + kl + 1);
}

/* Only runs that made cgroups get the table. */
static bool worth_showing(struct ccmm_cgroup_root *root)
{
	bool any;

	ccmm_cgroup_tree_rdlock(root);
	any = root->top->first_child != NULL;
	ccmm_cgroup_tree_unlock(root);
	return any;
}

static void cgroup_ext_text(struct ccmm_run *run, FILE *out)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(run->m);
	struct ccmm_cgroup *pos = NULL;
	char paths[64][256];
	size_t n = 0;

	if (!root || !worth_showing(root))
		return;
	ccmm_cgroup_tree_rdlock(root);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, root->top)) && n < 64)
		snprintf(paths[n++], sizeof(paths[0]), "%s", pos->path);
	ccmm_cgroup_tree_unlock(root);
	fprintf(out, "cgroups at the end (misc sgx_epc in bytes; memory in bytes):\n");
	fprintf(out, "  %-28s %12s %12s %12s %8s %8s %12s %12s %8s\n", "cgroup", "misc.max", "misc.current", "misc.peak",
		"events", "local", "memory.max", "memory.peak", "oom");
	for (size_t i = 0; i < n; i++) {
		char mx[32], cur[32], pk[32], ev[32], evl[32], mmax[32], mpk[32], oom[32];

		key_value(root, paths[i], "misc.max", "sgx_epc", mx, sizeof(mx));
		key_value(root, paths[i], "misc.current", "sgx_epc", cur, sizeof(cur));
		key_value(root, paths[i], "misc.peak", "sgx_epc", pk, sizeof(pk));
		key_value(root, paths[i], "misc.events", "sgx_epc.max", ev, sizeof(ev));
		key_value(root, paths[i], "misc.events.local", "sgx_epc.max", evl, sizeof(evl));
		key_value(root, paths[i], "memory.max", "", mmax, sizeof(mmax));
		key_value(root, paths[i], "memory.peak", "", mpk, sizeof(mpk));
		key_value(root, paths[i], "memory.events", "oom", oom, sizeof(oom));
		fprintf(out, "  %-28.28s %12s %12s %12s %8s %8s %12s %12s %8s\n", paths[i], mx, cur, pk, ev, evl, mmax, mpk, oom);
	}
	if (n == 64)
		fprintf(out, "  ... (the dump has them all)\n");
	fputc('\n', out);
}

static void *cgroup_ext_json(struct ccmm_run *run)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(run->m);
	struct ccmm_cgroup *pos = NULL;
	json_t *arr;

	if (!root || !worth_showing(root))
		return NULL;
	arr = json_array();
	ccmm_cgroup_tree_rdlock(root);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, root->top))) {
		json_t *j = json_object(), *files = json_object();

		json_object_set_new(j, "path", json_string(pos->path));
		json_object_set_new(j, "sgx_epc_current", json_integer((json_int_t)ccmm_misc_cg_usage(pos, CCMM_MISC_SGX_EPC)));
		json_object_set_new(j, "sgx_epc_peak",
				    json_integer((json_int_t)atomic_load(&pos->misc[CCMM_MISC_SGX_EPC].watermark)));
		json_object_set_new(j, "sgx_epc_max",
				    ccmm_misc_cg_max(pos, CCMM_MISC_SGX_EPC) == CCMM_MISC_MAX
					    ? json_string("max")
					    : json_integer((json_int_t)ccmm_misc_cg_max(pos, CCMM_MISC_SGX_EPC)));
		json_object_set_new(j, "sgx_epc_events",
				    json_integer((json_int_t)atomic_load(&pos->misc[CCMM_MISC_SGX_EPC].events)));
		json_object_set_new(j, "sgx_epc_events_local",
				    json_integer((json_int_t)atomic_load(&pos->misc[CCMM_MISC_SGX_EPC].events_local)));
		json_object_set_new(j, "memory_current_bytes",
				    json_integer((json_int_t)(ccmm_memcg_usage(pos) * CCMM_PAGE_SIZE)));
		json_object_set_new(j, "memory_peak_bytes",
				    json_integer((json_int_t)(atomic_load(&pos->mem.watermark) * CCMM_PAGE_SIZE)));
		for (int e = 0; e < CCMM_MEMCG_NR_EVENTS; e++)
			json_object_set_new(files, ccmm_memcg_event_name((enum ccmm_memcg_event)e),
					    json_integer((json_int_t)atomic_load(&pos->mem.events[e])));
		json_object_set_new(j, "memory_events", files);
		json_array_append_new(arr, j);
	}
	ccmm_cgroup_tree_unlock(root);
	return arr;
}

/* Time series: misc.current (sgx_epc) and memory.current per cgroup, and the memcg OOM kills. */
static void cgroup_ext_sample(struct ccmm_run *run, const void *opts, struct ccmm_series *s)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(run->m);
	struct ccmm_cgroup *pos = NULL;

	(void)opts;
	if (!root || !worth_showing(root))
		return;
	ccmm_cgroup_tree_rdlock(root);
	while ((pos = ccmm_cgroup_next_descendant_pre(pos, root->top))) {
		ccmm_series_put(s, "misc.current", pos->path, "bytes", (double)ccmm_misc_cg_usage(pos, CCMM_MISC_SGX_EPC));
		ccmm_series_put(s, "memory.current", pos->path, "bytes", (double)(ccmm_memcg_usage(pos) * CCMM_PAGE_SIZE));
		ccmm_series_count(s, "memory.oom_kill", pos->path, "kills", atomic_load(&pos->mem.events[CCMM_MEMCG_OOM_KILL]),
				  CCMM_MARK_OOM);
	}
	ccmm_cgroup_tree_unlock(root);
}

static const struct ccmm_run_ext cgroup_ext = {
	.name = "cgroups",
	.sample = cgroup_ext_sample,
	.options = cgroup_ext_options,
	.opts_size = sizeof(struct cgroup_ext_opts),
	.finish = cgroup_ext_finish,
	.report_text = cgroup_ext_text,
	.report_json = cgroup_ext_json,
};

static const struct ccmm_actor_kind *const cgroup_kinds[] = { &ccmm_kind_cgroup, NULL };

const struct ccmm_kind_set ccmm_kinds_cgroup = { "cgroup", cgroup_kinds, &cgroup_ext };
