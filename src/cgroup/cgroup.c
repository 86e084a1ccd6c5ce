// SPDX-License-Identifier: MIT
/*
 * The cgroup v2 core: the hierarchy by path, reference counts, tasks,
 * cgroup.* files, the interface-file table and the cgroupfs dump.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/internal.h"

static const char *const ctrl_names[CCMM_CGRP_NR] = { "cpuset", "memory", "misc", "dmem" };

const char *ccmm_cgroup_ctrl_name(enum ccmm_cgroup_ctrl c)
{
	return (unsigned)c < CCMM_CGRP_NR ? ctrl_names[c] : "?";
}

/* ---- text buffers ---------------------------------------------------------------- */

void _ccmm_cgb_printf(struct cg_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? room : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->p && (size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 256;
			char *p;

			while (cap < b->len + (size_t)n + 1)
				cap *= 2;
			p = realloc(b->p, cap);
			if (!p) {
				b->oom = true;
				return;
			}
			b->p = p;
			b->cap = cap;
		}
	}
}

int _ccmm_cg_why(char *why, size_t len, int ret, const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return ret;
}

uint64_t _ccmm_memparse(const char *s, const char **end, bool *overflow)
{
	unsigned base = 10, shift = 0;
	uint64_t v = 0;

	*overflow = false;
	/* simple_strtoull(s, &end, 0): stops at the first character that is not a digit */
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
		base = 16;
		s += 2;
	} else if (s[0] == '0') {
		base = 8;
	}
	for (;; s++) {
		unsigned d;

		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			break;
		if (d >= base)
			break;
		if (v > (UINT64_MAX - d) / base)
			*overflow = true;
		v = v * base + d;
	}
	switch (*s) {
	case 'E': case 'e': shift += 10; /* fall through */
	case 'P': case 'p': shift += 10; /* fall through */
	case 'T': case 't': shift += 10; /* fall through */
	case 'G': case 'g': shift += 10; /* fall through */
	case 'M': case 'm': shift += 10; /* fall through */
	case 'K': case 'k': shift += 10; s++; break;
	default: break;
	}
	if (shift && v > (UINT64_MAX >> shift))
		*overflow = true;
	*end = s;
	return v << shift;
}

/* ---- reference counts and the tree ----------------------------------------------- */

void ccmm_cgroup_get(struct ccmm_cgroup *cg)
{
	atomic_fetch_add(&cg->refcnt, 1);
}

bool ccmm_cgroup_tryget(struct ccmm_cgroup *cg)
{
	long v = atomic_load(&cg->refcnt);

	while (v > 0)
		if (atomic_compare_exchange_weak(&cg->refcnt, &v, v + 1))
			return true;
	return false;
}

static void cgroup_free(struct ccmm_cgroup *cg)
{
	struct ccmm_cgroup_root *root = cg->root;

	for (int r = 0; r < CCMM_MISC_NR; r++)
		if (root->misc_ops[r] && root->misc_ops[r]->free && cg->misc[r].priv)
			root->misc_ops[r]->free(cg, root->misc_ops_arg[r]);
	_ccmm_dmem_cgroup_free(cg);
	atomic_fetch_sub(&root->nr_cgroups, 1);
	free(cg);
}

void ccmm_cgroup_put(struct ccmm_cgroup *cg)
{
	while (cg) {
		struct ccmm_cgroup *parent = cg->parent;

		if (atomic_fetch_sub(&cg->refcnt, 1) != 1)
			return;
		cgroup_free(cg);
		cg = parent; /* a child held a reference on its parent */
	}
}

bool ccmm_cgroup_is_descendant(const struct ccmm_cgroup *cg, const struct ccmm_cgroup *ancestor)
{
	for (; cg; cg = cg->parent)
		if (cg == ancestor)
			return true;
	return false;
}

bool ccmm_cgroup_has_ctrl(const struct ccmm_cgroup *cg, enum ccmm_cgroup_ctrl c)
{
	return !cg->parent || (cg->parent->subtree_control & (1u << c));
}

void ccmm_cgroup_tree_rdlock(struct ccmm_cgroup_root *root)
{
	pthread_rwlock_rdlock(&root->tree_lock);
}

void ccmm_cgroup_tree_unlock(struct ccmm_cgroup_root *root)
{
	pthread_rwlock_unlock(&root->tree_lock);
}

struct ccmm_cgroup *ccmm_cgroup_next_descendant_pre(struct ccmm_cgroup *pos, struct ccmm_cgroup *root)
{
	if (!pos)
		return root;
	if (!pos->online)
		return NULL;
	if (pos->first_child)
		return pos->first_child;
	while (pos != root) {
		if (pos->next_sibling)
			return pos->next_sibling;
		pos = pos->parent;
	}
	return NULL;
}

static struct ccmm_cgroup *cgroup_alloc(struct ccmm_cgroup_root *root, struct ccmm_cgroup *parent, const char *name)
{
	struct ccmm_cgroup *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return NULL;
	cg->root = root;
	cg->parent = parent;
	snprintf(cg->name, sizeof(cg->name), "%s", name);
	if (!parent)
		snprintf(cg->path, sizeof(cg->path), "/");
	else if (!parent->parent)
		snprintf(cg->path, sizeof(cg->path), "/%s", name);
	else
		snprintf(cg->path, sizeof(cg->path), "%.190s/%s", parent->path, name);
	cg->level = parent ? parent->level + 1 : 0;
	atomic_init(&cg->refcnt, 1);
	cg->online = true;
	for (int r = 0; r < CCMM_MISC_NR; r++)
		atomic_init(&cg->misc[r].max, CCMM_MISC_MAX);
	atomic_init(&cg->mem.max, (uint64_t)CCMM_PAGE_COUNTER_MAX);
	atomic_init(&cg->mem.high, (uint64_t)CCMM_PAGE_COUNTER_MAX);
	atomic_fetch_add(&root->nr_cgroups, 1);
	return cg;
}

/* Run the providers' alloc hooks on a cgroup not yet visible. 0 or the first error (undone). */
static int cgroup_alloc_privs(struct ccmm_cgroup_root *root, struct ccmm_cgroup *cg)
{
	for (int r = 0; r < CCMM_MISC_NR; r++) {
		int ret;

		if (!root->misc_ops[r] || !root->misc_ops[r]->alloc)
			continue;
		ret = root->misc_ops[r]->alloc(cg, root->misc_ops_arg[r]);
		if (ret) {
			while (r--)
				if (root->misc_ops[r] && root->misc_ops[r]->free && cg->misc[r].priv)
					root->misc_ops[r]->free(cg, root->misc_ops_arg[r]);
			return ret;
		}
	}
	return 0;
}

static int cgroup_init(struct ccmm_machine *m)
{
	struct ccmm_cgroup_root *root = calloc(1, sizeof(*root));

	if (!root)
		return -ENOMEM;
	root->m = m;
	pthread_rwlock_init(&root->tree_lock, NULL);
	pthread_mutex_init(&root->dmem_lock, NULL);
	root->next_pid = 1000;
	root->top = cgroup_alloc(root, NULL, "");
	if (!root->top) {
		pthread_mutex_destroy(&root->dmem_lock);
		pthread_rwlock_destroy(&root->tree_lock);
		free(root);
		return -ENOMEM;
	}
	root->top->id = ++root->next_id;
	/* node_states[N_MEMORY]: the online nodes with RAM */
	for (unsigned n = 0; n < m->plat->nr_nodes && n < 32; n++)
		if (m->plat->node[n].online && ccmm_platform_ram(m->plat, (int)n))
			atomic_fetch_or(&root->mems_online, 1u << n);
	ccmm_subsys_set_data(m, &ccmm_subsys_cgroup, root);
	return 0;
}

static void free_subtree(struct ccmm_cgroup *cg)
{
	struct ccmm_cgroup *c = cg->first_child;

	while (c) {
		struct ccmm_cgroup *next = c->next_sibling;

		free_subtree(c);
		c = next;
	}
	cgroup_free(cg);
}

static void cgroup_exit(struct ccmm_machine *m)
{
	struct ccmm_cgroup_root *root = ccmm_cgroup_root_of(m);

	if (!root)
		return;
	while (root->tasks) {
		struct ccmm_task *t = root->tasks;

		root->tasks = t->next;
		free(t);
	}
	free_subtree(root->top);
	_ccmm_dmem_root_free(root);
	pthread_mutex_destroy(&root->dmem_lock);
	pthread_rwlock_destroy(&root->tree_lock);
	free(root);
	ccmm_subsys_set_data(m, &ccmm_subsys_cgroup, NULL);
}

int ccmm_cgroup_path_valid(const char *path)
{
	const char *p = path;

	if (!path || path[0] != '/' || strlen(path) >= 256 || strchr(path, '\n'))
		return -EINVAL;
	if (!strcmp(path, "/"))
		return 0;
	while (*p == '/') {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);

		if (!n || n >= 64 || (n == 1 && p[1] == '.') || (n == 2 && p[1] == '.' && p[2] == '.'))
			return -EINVAL;
		p += n + 1;
	}
	return 0;
}

/* The child of @parent named @name (@n bytes), or NULL. Tree lock held. */
static struct ccmm_cgroup *find_child(struct ccmm_cgroup *parent, const char *name, size_t n)
{
	for (struct ccmm_cgroup *c = parent->first_child; c; c = c->next_sibling)
		if (strlen(c->name) == n && !memcmp(c->name, name, n))
			return c;
	return NULL;
}

/* Walk @path; NULL if some component is missing. Tree lock held. */
static struct ccmm_cgroup *lookup_locked(struct ccmm_cgroup_root *root, const char *path)
{
	struct ccmm_cgroup *cg = root->top;
	const char *p = path;

	while (*p == '/' && p[1]) {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);

		cg = find_child(cg, p + 1, n);
		if (!cg)
			return NULL;
		p += n + 1;
	}
	return cg;
}

struct ccmm_cgroup *ccmm_cgroup_lookup(struct ccmm_cgroup_root *root, const char *path)
{
	struct ccmm_cgroup *cg;

	if (ccmm_cgroup_path_valid(path))
		return NULL;
	pthread_rwlock_rdlock(&root->tree_lock);
	cg = lookup_locked(root, path);
	if (cg)
		ccmm_cgroup_get(cg);
	pthread_rwlock_unlock(&root->tree_lock);
	return cg;
}

static bool file_exists(struct ccmm_cgroup *cg, const char *name);

static void link_child(struct ccmm_cgroup *parent, struct ccmm_cgroup *cg)
{
	cg->prev_sibling = parent->last_child;
	if (parent->last_child)
		parent->last_child->next_sibling = cg;
	else
		parent->first_child = cg;
	parent->last_child = cg;
}

static void unlink_child(struct ccmm_cgroup *cg)
{
	struct ccmm_cgroup *parent = cg->parent;

	if (cg->prev_sibling)
		cg->prev_sibling->next_sibling = cg->next_sibling;
	else
		parent->first_child = cg->next_sibling;
	if (cg->next_sibling)
		cg->next_sibling->prev_sibling = cg->prev_sibling;
	else
		parent->last_child = cg->prev_sibling;
	cg->prev_sibling = cg->next_sibling = NULL;
}

/* Enable @mask in @cg's subtree_control (tree write lock held). */
static int enable_ctrls_locked(struct ccmm_cgroup *cg, unsigned mask)
{
	unsigned avail = cg->parent ? cg->parent->subtree_control : CCMM_CGRP_MASK_ALL;

	mask &= ~cg->subtree_control;
	if (!mask)
		return 0;
	if (mask & ~avail)
		return -ENOENT;
	if (cg->parent && cg->nr_tasks)
		return -EBUSY;
	cg->subtree_control |= mask;
	return 0;
}

int ccmm_cgroup_mkdir(struct ccmm_cgroup_root *root, const char *path, bool parents, unsigned enable,
		      struct ccmm_cgroup **out)
{
	struct ccmm_cgroup *parent, *cg = NULL;
	const char *p = path;
	int ret = 0;

	if (ccmm_cgroup_path_valid(path) || !strcmp(path, "/"))
		return !strcmp(path ? path : "", "/") ? -EEXIST : -EINVAL;
	pthread_rwlock_wrlock(&root->tree_lock);
	parent = root->top;
	while (*p == '/' && p[1]) {
		const char *end = strchr(p + 1, '/');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);
		bool last = !end;
		struct ccmm_cgroup *c = find_child(parent, p + 1, n);
		char name[64];

		if (parents) {
			ret = enable_ctrls_locked(parent, enable);
			if (ret)
				break;
		}
		if (c) {
			if (last) {
				ret = -EEXIST;
				break;
			}
			parent = c;
			p += n + 1;
			continue;
		}
		if (!last && !parents) {
			ret = -ENOENT;
			break;
		}
		memcpy(name, p + 1, n);
		name[n] = '\0';
		if (file_exists(parent, name)) {
			ret = -EEXIST;
			break;
		}
		c = cgroup_alloc(root, parent, name);
		if (!c) {
			ret = -ENOMEM;
			break;
		}
		ret = cgroup_alloc_privs(root, c);
		if (ret) {
			atomic_fetch_sub(&root->nr_cgroups, 1);
			free(c);
			break;
		}
		c->id = ++root->next_id;
		ccmm_cgroup_get(parent);
		link_child(parent, c);
		parent = c;
		cg = c;
		p += n + 1;
	}
	if (!ret && out) {
		ccmm_cgroup_get(cg);
		*out = cg;
	}
	pthread_rwlock_unlock(&root->tree_lock);
	return ret;
}

int ccmm_cgroup_rmdir(struct ccmm_cgroup_root *root, const char *path)
{
	struct ccmm_cgroup *cg;

	if (ccmm_cgroup_path_valid(path))
		return -EINVAL;
	pthread_rwlock_wrlock(&root->tree_lock);
	cg = lookup_locked(root, path);
	if (!cg) {
		pthread_rwlock_unlock(&root->tree_lock);
		return -ENOENT;
	}
	if (cg == root->top || cg->first_child || cg->nr_populated) {
		pthread_rwlock_unlock(&root->tree_lock);
		return -EBUSY;
	}
	cg->online = false;
	unlink_child(cg);
	pthread_rwlock_unlock(&root->tree_lock);
	_ccmm_dmem_cgroup_offline(cg);
	ccmm_cgroup_put(cg); /* the base reference; charges keep it until uncharged */
	return 0;
}

/* ---- tasks ------------------------------------------------------------------------ */

static void populate(struct ccmm_cgroup *cg, long delta)
{
	cg->nr_tasks = (unsigned long)((long)cg->nr_tasks + delta);
	for (; cg; cg = cg->parent)
		cg->nr_populated = (unsigned long)((long)cg->nr_populated + delta);
}

static int task_target_ok(struct ccmm_cgroup_root *root, struct ccmm_cgroup *cg)
{
	if (!cg->online)
		return -ENOENT;
	if (cg != root->top && cg->subtree_control)
		return -EBUSY;
	return 0;
}

int ccmm_task_create(struct ccmm_cgroup_root *root, const char *comm, const void *mm, struct ccmm_cgroup *cg,
		     struct ccmm_task **out)
{
	struct ccmm_task *t = calloc(1, sizeof(*t));
	int ret;

	if (!t)
		return -ENOMEM;
	snprintf(t->comm, sizeof(t->comm), "%s", comm ? comm : "task");
	t->mm = mm;
	pthread_rwlock_wrlock(&root->tree_lock);
	if (!cg)
		cg = root->top;
	ret = task_target_ok(root, cg);
	if (ret) {
		pthread_rwlock_unlock(&root->tree_lock);
		free(t);
		return ret;
	}
	t->pid = root->next_pid++;
	t->cgrp = cg;
	ccmm_cgroup_get(cg);
	populate(cg, 1);
	t->next = root->tasks;
	root->tasks = t;
	pthread_rwlock_unlock(&root->tree_lock);
	*out = t;
	return 0;
}

void ccmm_task_exit(struct ccmm_cgroup_root *root, struct ccmm_task *t)
{
	struct ccmm_cgroup *cg;

	if (!t)
		return;
	pthread_rwlock_wrlock(&root->tree_lock);
	for (struct ccmm_task **pp = &root->tasks; *pp; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	cg = t->cgrp;
	populate(cg, -1);
	pthread_rwlock_unlock(&root->tree_lock);
	ccmm_cgroup_put(cg);
	free(t);
}

static struct ccmm_task *task_by_pid_locked(struct ccmm_cgroup_root *root, int pid)
{
	for (struct ccmm_task *t = root->tasks; t; t = t->next)
		if (t->pid == pid)
			return t;
	return NULL;
}

int ccmm_task_migrate(struct ccmm_cgroup_root *root, int pid, struct ccmm_cgroup *cg)
{
	struct ccmm_cgroup *old = NULL;
	struct ccmm_task *t;
	int ret;

	pthread_rwlock_wrlock(&root->tree_lock);
	t = task_by_pid_locked(root, pid);
	if (!t) {
		ret = -ESRCH;
	} else if ((ret = task_target_ok(root, cg)) == 0 && t->cgrp != cg) {
		old = t->cgrp;
		populate(old, -1);
		ccmm_cgroup_get(cg);
		t->cgrp = cg;
		populate(cg, 1);
	}
	pthread_rwlock_unlock(&root->tree_lock);
	if (old)
		ccmm_cgroup_put(old);
	return ret;
}

struct ccmm_cgroup *ccmm_task_cgroup(struct ccmm_cgroup_root *root, const struct ccmm_task *t)
{
	struct ccmm_cgroup *cg;

	pthread_rwlock_rdlock(&root->tree_lock);
	cg = t->cgrp;
	ccmm_cgroup_get(cg);
	pthread_rwlock_unlock(&root->tree_lock);
	return cg;
}

struct ccmm_task *ccmm_task_of_mm(struct ccmm_cgroup_root *root, const void *mm)
{
	struct ccmm_task *found = NULL;

	if (!mm)
		return NULL;
	pthread_rwlock_rdlock(&root->tree_lock);
	for (struct ccmm_task *t = root->tasks; t && !found; t = t->next)
		if (t->mm == mm)
			found = t;
	pthread_rwlock_unlock(&root->tree_lock);
	return found;
}

void ccmm_task_signal(struct ccmm_task *t, int sig)
{
	int none = 0;

	atomic_compare_exchange_strong(&t->signal, &none, sig);
}

int ccmm_cgroup_kill(struct ccmm_cgroup_root *root, struct ccmm_cgroup *cg)
{
	int n = 0;

	pthread_rwlock_rdlock(&root->tree_lock);
	for (struct ccmm_task *t = root->tasks; t; t = t->next) {
		if (ccmm_cgroup_is_descendant(t->cgrp, cg)) {
			ccmm_task_signal(t, SIGKILL);
			n++;
		}
	}
	pthread_rwlock_unlock(&root->tree_lock);
	return n;
}

/* ---- cgroup.* files ------------------------------------------------------------------ */

static void print_mask(struct cg_buf *b, unsigned mask)
{
	bool first = true;

	for (int c = 0; c < CCMM_CGRP_NR; c++) {
		if (mask & (1u << c)) {
			_ccmm_cgb_printf(b, "%s%s", first ? "" : " ", ctrl_names[c]);
			first = false;
		}
	}
	_ccmm_cgb_printf(b, "\n");
}

static void controllers_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	print_mask(b, cg->parent ? cg->parent->subtree_control : CCMM_CGRP_MASK_ALL);
}

static void subtree_control_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	print_mask(b, cg->subtree_control);
}

/* Parse "+memory -misc" into enable/disable masks. 0 or -EINVAL. */
static int parse_subtree_control(const char *text, unsigned *en, unsigned *dis, char *why, size_t why_len)
{
	char buf[256], *save = NULL, *tok;

	*en = *dis = 0;
	if (strlen(text) >= sizeof(buf))
		return _ccmm_cg_why(why, why_len, -EINVAL, "too long");
	snprintf(buf, sizeof(buf), "%s", text);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		int c;

		if (tok[0] != '+' && tok[0] != '-')
			return _ccmm_cg_why(why, why_len, -EINVAL, "'%s' is not +CONTROLLER or -CONTROLLER", tok);
		for (c = 0; c < CCMM_CGRP_NR; c++)
			if (!strcmp(tok + 1, ctrl_names[c]))
				break;
		if (c == CCMM_CGRP_NR)
			return _ccmm_cg_why(why, why_len, -EINVAL, "unknown controller '%s' (cpuset, memory, misc, dmem)", tok + 1);
		if (tok[0] == '+') {
			*en |= 1u << c;
			*dis &= ~(1u << c);
		} else {
			*dis |= 1u << c;
			*en &= ~(1u << c);
		}
	}
	return 0;
}

static int subtree_control_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why,
				 size_t why_len)
{
	unsigned en, dis;
	int ret = parse_subtree_control(text, &en, &dis, why, why_len);

	if (ret || !cg)
		return ret;
	/* the caller holds the tree lock for writing */
	if (en & ~(cg->parent ? cg->parent->subtree_control : CCMM_CGRP_MASK_ALL))
		return _ccmm_cg_why(why, why_len, -ENOENT, "the controller is not in cgroup.controllers");
	for (struct ccmm_cgroup *c = cg->first_child; c; c = c->next_sibling)
		if (c->subtree_control & dis)
			return _ccmm_cg_why(why, why_len, -EBUSY, "a child still enables it for its own children");
	if ((en & ~cg->subtree_control) && cg->parent && cg->nr_tasks)
		return _ccmm_cg_why(why, why_len, -EBUSY, "the cgroup has processes (no internal processes)");
	cg->subtree_control = (cg->subtree_control | en) & ~dis;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static void procs_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	size_t n = 0, cap = 0;
	int *pids = NULL;

	for (struct ccmm_task *t = cg->root->tasks; t; t = t->next) {
		if (t->cgrp != cg)
			continue;
		if (ccmm_grow((void **)&pids, &cap, n + 1, sizeof(*pids))) {
			b->oom = true;
			break;
		}
		pids[n++] = t->pid;
	}
	if (n)
		qsort(pids, n, sizeof(*pids), cmp_int);
	for (size_t i = 0; i < n; i++)
		_ccmm_cgb_printf(b, "%d\n", pids[i]);
	free(pids);
}

/* kstrtoint(s, 0) for small positive numbers: 0 or -EINVAL/-ERANGE. */
static int parse_int(const char *s, long *out)
{
	uint64_t v;
	int ret;

	if (*s == '+')
		s++;
	ret = ccmm_parse_u64(s, false, &v);
	if (ret)
		return ret;
	if (v > INT32_MAX)
		return -ERANGE;
	*out = (long)v;
	return 0;
}

static int procs_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	long pid;
	int ret = parse_int(text, &pid);
	struct ccmm_task *t;

	if (ret)
		return _ccmm_cg_why(why, why_len, -EINVAL, "'%s' is not a pid", text);
	if (!cg)
		return 0;
	/* tree write lock held by the caller */
	t = task_by_pid_locked(cg->root, (int)pid);
	if (!t)
		return _ccmm_cg_why(why, why_len, -ESRCH, "no process %ld", pid);
	ret = task_target_ok(cg->root, cg);
	if (ret)
		return _ccmm_cg_why(why, why_len, ret, ret == -EBUSY ? "the cgroup enables controllers for its children (no internal processes)"
							  : "the cgroup is gone");
	if (t->cgrp != cg) {
		populate(t->cgrp, -1);
		/* the old cgroup keeps a parent; dropping our reference may not free it while locked */
		atomic_fetch_sub(&t->cgrp->refcnt, 1);
		ccmm_cgroup_get(cg);
		t->cgrp = cg;
		populate(cg, 1);
	}
	return 0;
}

static void events_show(struct ccmm_cgroup *cg, struct cg_buf *b)
{
	_ccmm_cgb_printf(b, "populated %d\nfrozen 0\n", cg->nr_populated ? 1 : 0);
}

static int kill_write(struct ccmm_ctx *ctx, struct ccmm_cgroup *cg, const char *text, char *why, size_t why_len)
{
	long v;
	int ret = parse_int(text, &v);

	if (ret)
		return _ccmm_cg_why(why, why_len, ret, "'%s' is not a number", text);
	if (v != 1)
		return _ccmm_cg_why(why, why_len, -ERANGE, "only 1 kills");
	if (!cg)
		return 0;
	for (struct ccmm_task *t = cg->root->tasks; t; t = t->next)
		if (ccmm_cgroup_is_descendant(t->cgrp, cg))
			ccmm_task_signal(t, SIGKILL);
	return 0;
}

/* ---- the interface-file table ------------------------------------------------------ */

#define CFT_ONLY_ON_ROOT 0x1
#define CFT_NOT_ON_ROOT  0x2
#define CFT_CORE         (-1)

struct cftype {
	const char *name;
	int ctrl;          /* CCMM_CGRP_* or CFT_CORE */
	unsigned flags;
	cg_show_fn show;   /* NULL: write-only */
	cg_write_fn write; /* NULL: read-only */
};

static const struct cftype cftypes[] = {
	{ "cgroup.controllers", CFT_CORE, 0, controllers_show, NULL },
	{ "cgroup.subtree_control", CFT_CORE, 0, subtree_control_show, subtree_control_write },
	{ "cgroup.procs", CFT_CORE, 0, procs_show, procs_write },
	{ "cgroup.events", CFT_CORE, CFT_NOT_ON_ROOT, events_show, NULL },
	{ "cgroup.kill", CFT_CORE, CFT_NOT_ON_ROOT, NULL, kill_write },
	{ "cpuset.mems", CCMM_CGRP_CPUSET, CFT_NOT_ON_ROOT, _ccmm_cpuset_mems_show, _ccmm_cpuset_mems_write },
	{ "cpuset.mems.effective", CCMM_CGRP_CPUSET, 0, _ccmm_cpuset_mems_effective_show, NULL },
	{ "memory.current", CCMM_CGRP_MEMORY, CFT_NOT_ON_ROOT, _ccmm_memory_current_show, NULL },
	{ "memory.peak", CCMM_CGRP_MEMORY, CFT_NOT_ON_ROOT, _ccmm_memory_peak_show, NULL },
	{ "memory.high", CCMM_CGRP_MEMORY, CFT_NOT_ON_ROOT, _ccmm_memory_high_show, _ccmm_memory_high_write },
	{ "memory.max", CCMM_CGRP_MEMORY, CFT_NOT_ON_ROOT, _ccmm_memory_max_show, _ccmm_memory_max_write },
	{ "memory.events", CCMM_CGRP_MEMORY, CFT_NOT_ON_ROOT, _ccmm_memory_events_show, NULL },
	{ "memory.events.local", CCMM_CGRP_MEMORY, CFT_NOT_ON_ROOT, _ccmm_memory_events_local_show, NULL },
	{ "memory.stat", CCMM_CGRP_MEMORY, 0, _ccmm_memory_stat_show, NULL },
	{ "misc.max", CCMM_CGRP_MISC, CFT_NOT_ON_ROOT, _ccmm_misc_max_show, _ccmm_misc_max_write },
	{ "misc.current", CCMM_CGRP_MISC, 0, _ccmm_misc_current_show, NULL },
	{ "misc.peak", CCMM_CGRP_MISC, 0, _ccmm_misc_peak_show, NULL },
	{ "misc.capacity", CCMM_CGRP_MISC, CFT_ONLY_ON_ROOT, _ccmm_misc_capacity_show, NULL },
	{ "misc.events", CCMM_CGRP_MISC, CFT_NOT_ON_ROOT, _ccmm_misc_events_show, NULL },
	{ "misc.events.local", CCMM_CGRP_MISC, CFT_NOT_ON_ROOT, _ccmm_misc_events_local_show, NULL },
	{ "dmem.capacity", CCMM_CGRP_DMEM, CFT_ONLY_ON_ROOT, _ccmm_dmem_capacity_show, NULL },
	{ "dmem.current", CCMM_CGRP_DMEM, 0, _ccmm_dmem_current_show, NULL },
	{ "dmem.min", CCMM_CGRP_DMEM, CFT_NOT_ON_ROOT, _ccmm_dmem_min_show, _ccmm_dmem_min_write },
	{ "dmem.low", CCMM_CGRP_DMEM, CFT_NOT_ON_ROOT, _ccmm_dmem_low_show, _ccmm_dmem_low_write },
	{ "dmem.max", CCMM_CGRP_DMEM, CFT_NOT_ON_ROOT, _ccmm_dmem_max_show, _ccmm_dmem_max_write },
};

const char *const ccmm_cgroup_file_names[] = {
	"cgroup.controllers", "cgroup.subtree_control", "cgroup.procs", "cgroup.events", "cgroup.kill",
	"cpuset.mems", "cpuset.mems.effective",
	"memory.current", "memory.peak", "memory.high", "memory.max", "memory.events", "memory.events.local", "memory.stat",
	"misc.max", "misc.current", "misc.peak", "misc.capacity", "misc.events", "misc.events.local",
	"dmem.capacity", "dmem.current", "dmem.min", "dmem.low", "dmem.max",
	NULL,
};

_Static_assert(CCMM_ARRAY_SIZE(ccmm_cgroup_file_names) == CCMM_ARRAY_SIZE(cftypes) + 1, "file names match the table");

static const struct cftype *cft_find(const char *name)
{
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(cftypes); i++)
		if (!strcmp(cftypes[i].name, name))
			return &cftypes[i];
	return NULL;
}

bool ccmm_cgroup_file_known(const char *name)
{
	return cft_find(name) != NULL;
}

static bool cft_present(const struct cftype *ft, struct ccmm_cgroup *cg)
{
	bool is_root = !cg->parent;

	if ((ft->flags & CFT_ONLY_ON_ROOT) && !is_root)
		return false;
	if ((ft->flags & CFT_NOT_ON_ROOT) && is_root)
		return false;
	return ft->ctrl == CFT_CORE || ccmm_cgroup_has_ctrl(cg, (enum ccmm_cgroup_ctrl)ft->ctrl);
}

static bool file_exists(struct ccmm_cgroup *cg, const char *name)
{
	const struct cftype *ft = cft_find(name);

	return ft && cft_present(ft, cg);
}

/* Split "/a/b/misc.max" into the cgroup path "/a/b" and the file name. 0 or -EINVAL. */
static int split_file_path(const char *file_path, char *dir, size_t dlen, const char **name)
{
	const char *slash = strrchr(file_path, '/');

	if (file_path[0] != '/' || !slash || !slash[1])
		return -EINVAL;
	if (slash == file_path)
		snprintf(dir, dlen, "/");
	else if ((size_t)(slash - file_path) >= dlen)
		return -EINVAL;
	else
		snprintf(dir, dlen, "%.*s", (int)(slash - file_path), file_path);
	*name = slash + 1;
	return ccmm_cgroup_path_valid(dir);
}

static int show_file(const struct cftype *ft, struct ccmm_cgroup *cg, char *buf, size_t len)
{
	struct cg_buf b = { 0 };
	int ret;

	ft->show(cg, &b);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	if (len)
		snprintf(buf, len, "%s", b.p ? b.p : "");
	ret = (int)b.len;
	free(b.p);
	return ret;
}

int ccmm_cgroup_read(struct ccmm_cgroup_root *root, const char *file_path, char *buf, size_t len)
{
	char dir[256];
	const char *name;
	const struct cftype *ft;
	struct ccmm_cgroup *cg;
	int ret;

	if (split_file_path(file_path, dir, sizeof(dir), &name))
		return -ENOENT;
	ft = cft_find(name);
	if (!ft)
		return -ENOENT;
	pthread_rwlock_rdlock(&root->tree_lock);
	cg = lookup_locked(root, dir);
	if (!cg || !cft_present(ft, cg))
		ret = -ENOENT;
	else if (!ft->show)
		ret = -EINVAL;
	else
		ret = show_file(ft, cg, buf, len);
	pthread_rwlock_unlock(&root->tree_lock);
	return ret;
}

/* Copy @text without leading and trailing white space (strstrip). */
static int strip(const char *text, char *out, size_t len)
{
	size_t n;

	while (*text == ' ' || *text == '\t' || *text == '\n')
		text++;
	n = strlen(text);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\n'))
		n--;
	if (n >= len)
		return -EINVAL;
	memcpy(out, text, n);
	out[n] = '\0';
	return 0;
}

int ccmm_cgroup_write(struct ccmm_cgroup_root *root, struct ccmm_ctx *ctx, const char *file_path, const char *text)
{
	char dir[256], val[512];
	const char *name;
	const struct cftype *ft;
	struct ccmm_cgroup *cg;
	bool core;
	int ret;

	if (split_file_path(file_path, dir, sizeof(dir), &name))
		return -ENOENT;
	ft = cft_find(name);
	if (!ft)
		return -ENOENT;
	if (strip(text, val, sizeof(val)))
		return -EINVAL;
	/*
	 * cgroup.* files change the hierarchy: they run under the tree lock
	 * (cgroup_mutex). Controller files run on a referenced cgroup without
	 * it, as their kernel handlers do (memory.max may reclaim).
	 */
	core = ft->ctrl == CFT_CORE;
	if (core)
		pthread_rwlock_wrlock(&root->tree_lock);
	else
		pthread_rwlock_rdlock(&root->tree_lock);
	cg = lookup_locked(root, dir);
	if (!cg || !cft_present(ft, cg)) {
		pthread_rwlock_unlock(&root->tree_lock);
		return -ENOENT;
	}
	if (!ft->write) {
		pthread_rwlock_unlock(&root->tree_lock);
		return -EACCES;
	}
	if (core) {
		ret = ft->write(ctx, cg, val, NULL, 0);
		pthread_rwlock_unlock(&root->tree_lock);
		return ret;
	}
	ccmm_cgroup_get(cg);
	pthread_rwlock_unlock(&root->tree_lock);
	ret = ft->write(ctx, cg, val, NULL, 0);
	ccmm_cgroup_put(cg);
	return ret;
}

int ccmm_cgroup_write_check(const char *name, const char *text, char *why, size_t why_len)
{
	const struct cftype *ft = cft_find(name);
	char val[512];

	if (!ft)
		return _ccmm_cg_why(why, why_len, -ENOENT, "no interface file '%s'", name);
	if (!ft->write)
		return _ccmm_cg_why(why, why_len, -EACCES, "%s is read-only", name);
	if (strip(text, val, sizeof(val)))
		return _ccmm_cg_why(why, why_len, -EINVAL, "the value is too long");
	return ft->write(NULL, NULL, val, why, why_len);
}

/* ---- the cgroupfs dump --------------------------------------------------------------- */

/* Dump @cg's files and its children under @rel ("" for the root). Tree lock held. */
static int dump_cgroup(struct ccmm_outdir *o, struct ccmm_cgroup *cg, const char *rel, struct ccmm_error *err)
{
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(cftypes); i++) {
		const struct cftype *ft = &cftypes[i];
		struct cg_buf b = { 0 };
		char path[4096];
		int ret;

		if (!cft_present(ft, cg) || !ft->show)
			continue;
		ft->show(cg, &b);
		if (b.oom) {
			free(b.p);
			return ccmm_error_set(err, NULL, -ENOMEM, "%s/%s: out of memory", o->path, rel);
		}
		snprintf(path, sizeof(path), "%s%s%s", rel, rel[0] ? "/" : "", ft->name);
		ret = ccmm_outdir_write(o, path, b.p ? b.p : "", b.len, err);
		free(b.p);
		if (ret)
			return ret;
	}
	for (struct ccmm_cgroup *c = cg->first_child; c; c = c->next_sibling) {
		char sub[4096];
		int ret;

		snprintf(sub, sizeof(sub), "%s%s%s", rel, rel[0] ? "/" : "", c->name);
		ret = dump_cgroup(o, c, sub, err);
		if (ret)
			return ret;
	}
	return 0;
}

int ccmm_cgroup_dump(struct ccmm_cgroup_root *root, const char *dir, struct ccmm_error *err)
{
	struct ccmm_outdir o;
	int ret = ccmm_outdir_open(&o, dir, "cgroupfs dump", "cgroup.controllers", err);

	if (ret)
		return ret;
	pthread_rwlock_rdlock(&root->tree_lock);
	ret = dump_cgroup(&o, root->top, "", err);
	pthread_rwlock_unlock(&root->tree_lock);
	if (ret) {
		ccmm_outdir_abort(&o);
		return ret;
	}
	return ccmm_outdir_commit(&o, err);
}

struct ccmm_subsys ccmm_subsys_cgroup = {
	.name = "cgroup",
	.init = cgroup_init,
	.exit = cgroup_exit,
	.block = &ccmm_cgroup_block,
};
