// SPDX-License-Identifier: MIT
/*
 * Job files: read every line with its location, then build the job section
 * by section, checking options, ops and expectations against the tables of
 * the actor kinds. Errors name the line; nothing half-built survives.
 */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scenario/internal.h"

struct line {
	char section[CCMM_NAME_MAX];
	char key[64];            /* empty for a section header */
	char value[200];
	struct ccmm_where where;
};

struct reader {
	struct line *lines;
	size_t nr, cap;
};

static void where_set(struct ccmm_where *w, const struct ccmm_loc *loc)
{
	snprintf(w->file, sizeof(w->file), "%s", loc->file ? loc->file : "");
	w->line = loc->line;
}

static struct ccmm_loc loc_of(const struct ccmm_where *w)
{
	struct ccmm_loc l = { w->file, w->line };

	return l;
}

static int collect(void *user, const char *section, const char *key, const char *value, const struct ccmm_loc *loc,
		   struct ccmm_error *err)
{
	struct reader *r = user;
	struct line *l;

	if (key && !*section)
		return ccmm_error_set(err, loc, -EINVAL, "'%s' is outside any section", key);
	if (strlen(section) >= CCMM_NAME_MAX)
		return ccmm_error_set(err, loc, -EINVAL, "section name '%s' is longer than %d characters", section,
				      CCMM_NAME_MAX - 1);
	if (key && strlen(key) >= sizeof(l->key))
		return ccmm_error_set(err, loc, -EINVAL, "option name '%.20s...' is too long", key);
	if (ccmm_grow((void **)&r->lines, &r->cap, r->nr + 1, sizeof(*r->lines)))
		return ccmm_error_set(err, loc, -ENOMEM, "out of memory");
	l = &r->lines[r->nr++];
	memset(l, 0, sizeof(*l));
	snprintf(l->section, sizeof(l->section), "%s", section);
	if (key) {
		snprintf(l->key, sizeof(l->key), "%s", key);
		snprintf(l->value, sizeof(l->value), "%s", value ? value : "");
	}
	where_set(&l->where, loc);
	return 0;
}

/* ---- settings (--set) ----------------------------------------------------- */

static int insert_line(struct reader *r, size_t at, const char *section, const char *key, const char *value,
		       const char *origin, struct ccmm_error *err)
{
	struct ccmm_loc loc = { origin, 0 };
	struct line *l;

	if (ccmm_grow((void **)&r->lines, &r->cap, r->nr + 1, sizeof(*r->lines)))
		return ccmm_error_set(err, &loc, -ENOMEM, "out of memory");
	memmove(&r->lines[at + 1], &r->lines[at], (r->nr - at) * sizeof(*r->lines));
	r->nr++;
	l = &r->lines[at];
	memset(l, 0, sizeof(*l));
	snprintf(l->section, sizeof(l->section), "%s", section);
	if (key) {
		snprintf(l->key, sizeof(l->key), "%s", key);
		snprintf(l->value, sizeof(l->value), "%s", value);
	}
	where_set(&l->where, &loc);
	return 0;
}

/*
 * The job's settings as lines of the file: a [SECTION] KEY line is
 * replaced (every one, for keys given twice), or added at the end of
 * its section; [global] is added when the file has none. An actor
 * section must exist. op= and expect= lines are programs, not settings.
 * A check= setting is always added: a section may hold many, and a
 * setting never takes away one of the job's own assertions.
 */
static int apply_settings(struct reader *r, const struct ccmm_setting *sets, size_t nr, struct ccmm_error *err)
{
	for (size_t i = 0; i < nr; i++) {
		const struct ccmm_setting *st = &sets[i];
		struct ccmm_loc loc = { st->origin, 0 };
		bool global = !strcmp(st->section, "global"), found = false, replaced = false;
		size_t end = r->nr;
		int ret;

		if (st->target != CCMM_SET_JOB)
			continue;
		if (strlen(st->section) >= CCMM_NAME_MAX)
			return ccmm_error_set(err, &loc, -EINVAL, "no section [%s] in the job", st->section);
		if (!strcmp(st->key, "op") || !strcmp(st->key, "expect") || (global && !strcmp(st->key, "include")))
			return ccmm_error_set(err, &loc, -EINVAL, "%s= lines are part of the job's program: edit the file", st->key);
		if (strlen(st->value) >= sizeof(r->lines[0].value))
			return ccmm_error_set(err, &loc, -EINVAL, "the value is longer than %zu characters",
					      sizeof(r->lines[0].value) - 1);
		for (size_t k = 0; k < r->nr; k++) {
			struct line *l = &r->lines[k];

			if (strcmp(l->section, st->section))
				continue;
			found = true;
			end = k + 1;
			if (l->key[0] && !strcmp(l->key, st->key) && strcmp(st->key, "check")) {
				snprintf(l->value, sizeof(l->value), "%s", st->value);
				where_set(&l->where, &loc);
				replaced = true;
			}
		}
		if (replaced)
			continue;
		if (!found && !global) {
			const char *names[256];
			size_t n = 0;
			const char *near;

			for (size_t k = 0; k < r->nr && n < CCMM_ARRAY_SIZE(names) - 1; k++)
				if (!r->lines[k].key[0])
					names[n++] = r->lines[k].section;
			near = ccmm_suggest(st->section, names, n);
			return ccmm_error_set(err, &loc, -ENOENT, "the job has no section [%s]%s%s%s", st->section,
					      near ? "; did you mean [" : "", near ? near : "", near ? "]?" : "");
		}
		if (!found) {
			ret = insert_line(r, r->nr, "global", NULL, NULL, st->origin, err);
			end = r->nr;
			if (ret)
				return ret;
		}
		ret = insert_line(r, end, st->section, st->key, st->value, st->origin, err);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- [global] ---------------------------------------------------------- */

static const char *const run_modes[] = { "sim", "threads", NULL };

#define GOPT(f) offsetof(struct ccmm_global_opts, f)

static const struct ccmm_option global_options[] = {
	{ "platform", CCMM_OPT_STR, GOPT(platform), 0, 256, false, NULL, "default",
	  "platform file (relative to the job), 'default' or 'host'" },
	{ "seed", CCMM_OPT_U64, GOPT(seed), 0, 0, false, NULL, "1", "seed for keys and every actor's random stream" },
	{ "mode", CCMM_OPT_ENUM, GOPT(mode), 0, 0, false, run_modes, "sim",
	  "sim: one thread, modeled clocks, deterministic; threads: one real thread per actor" },
	{ "max_steps", CCMM_OPT_U64, GOPT(max_steps), 0, 0, false, NULL, "0",
	  "stop the run (a run error) after this many ops and program steps over all actors; 0: no bound" },
	{ "kb_base", CCMM_OPT_U64, GOPT(kb_base), 1000, 1024, false, NULL, "1024",
	  "1024: k, m, g and KiB, MiB, GiB are all powers of 1024; 1000: k, m, g are powers of 1000 and KiB, MiB, "
	  "GiB of 1024 (fio's kb_base=1000; fio's own default reads KiB as 1000)" },
	{ NULL }
};

const struct ccmm_option *ccmm_job_global_options(void)
{
	return global_options;
}

/*
 * kb_base first, wherever it is in [global]: every size in the job, [global]'s
 * own included, reads with it. Returns 0, or an error at its line.
 */
static int find_kb_base(struct ccmm_job *job, const struct reader *r, struct ccmm_error *err)
{
	for (size_t i = 0; i < r->nr; i++) {
		const struct line *l = &r->lines[i];
		struct ccmm_loc loc = loc_of(&l->where);
		int ret;

		if (strcmp(l->section, "global") || strcmp(l->key, "kb_base"))
			continue;
		ret = ccmm_option_set(global_options, &job->g, "global", l->key, l->value, &loc, err);
		if (ret)
			return ret;
		if (job->g.kb_base != 1000 && job->g.kb_base != 1024)
			return ccmm_error_set(err, &loc, -EINVAL, "kb_base is 1024 or 1000, not %s", l->value);
	}
	return 0;
}

/* fio's --section: is actor section @name one the caller asked for? */
static bool section_selected(const struct ccmm_job_load_opts *o, const char *name)
{
	if (!o->sections)
		return true;
	for (size_t i = 0; o->sections[i]; i++)
		if (!strcmp(o->sections[i], name))
			return true;
	return false;
}

static int parse_expect(const char *value, struct ccmm_expect *list, size_t *nr, const struct ccmm_where *w,
			struct ccmm_error *err)
{
	struct ccmm_loc loc = loc_of(w);
	char name[64];
	const char *colon = strchr(value, ':');
	size_t len = colon ? (size_t)(colon - value) : strlen(value);
	const struct ccmm_rule *rule;
	long count = -1;

	while (len && (value[len - 1] == ' ' || value[len - 1] == '\t'))
		len--;
	if (!len || len >= sizeof(name))
		return ccmm_error_set(err, &loc, -EINVAL, "expect= needs a rule name, optionally ':COUNT'");
	memcpy(name, value, len);
	name[len] = '\0';
	rule = ccmm_rule_find(name);
	if (!rule) {
		const char *names[256];
		size_t n = 0;
		const struct ccmm_rule *r;
		const char *near;

		while (n < CCMM_ARRAY_SIZE(names) && (r = ccmm_rule_at(n)))
			names[n++] = r->name;
		near = ccmm_suggest(name, names, n);
		if (near)
			return ccmm_error_set(err, &loc, -EINVAL, "expect: unknown rule '%s'; did you mean '%s'?", name,
					      near);
		return ccmm_error_set(err, &loc, -EINVAL, "expect: unknown rule '%s' (ccmm rules lists them)", name);
	}
	if (colon) {
		uint64_t v;

		if (ccmm_parse_u64(colon + 1, false, &v) || v > 1000000000)
			return ccmm_error_set(err, &loc, -EINVAL, "expect: '%s' is not a count", colon + 1);
		count = (long)v;
	}
	for (size_t i = 0; i < *nr; i++)
		if (list[i].rule == rule)
			return ccmm_error_set(err, &loc, -EINVAL, "expect: rule '%s' is expected twice here (first at line %d)",
					      name, list[i].where.line);
	if (*nr == CCMM_MAX_EXPECT)
		return ccmm_error_set(err, &loc, -E2BIG, "more than %d expect= lines in one section", CCMM_MAX_EXPECT);
	list[*nr].rule = rule;
	list[*nr].count = count;
	list[*nr].where = *w;
	(*nr)++;
	return 0;
}

const void *ccmm_job_ext_opts(const struct ccmm_job *job, const char *name)
{
	const struct ccmm_run_ext *x;

	for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++)
		if (!strcmp(x->name, name))
			return job->ext_opts[i];
	return NULL;
}

/* A [global] option of a run extension; unknown names get a suggestion from every table. */
static int set_ext_option(struct ccmm_job *job, const char *key, const char *value, const struct ccmm_loc *loc,
			  struct ccmm_error *err)
{
	const char *names[128];
	const struct ccmm_run_ext *x;
	const char *near;
	size_t n = 0;

	for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++)
		if (x->options && ccmm_option_find(x->options, key))
			return ccmm_option_set(x->options, job->ext_opts[i], "global", key, value, loc, err);
	for (const struct ccmm_option *o = global_options; o->name && n < 100; o++)
		names[n++] = o->name;
	for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++)
		for (const struct ccmm_option *o = x->options; o && o->name && n < 127; o++)
			names[n++] = o->name;
	names[n++] = "expect";
	names[n++] = "check";
	near = ccmm_suggest(key, names, n);
	return ccmm_error_set(err, loc, -ENOENT, "unknown option '%s' in [global]%s%s%s", key,
			      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
}

/* ---- ops ----------------------------------------------------------------- */

static const struct ccmm_verb *find_verb(const struct ccmm_actor_kind *k, const char *name)
{
	for (const struct ccmm_verb *v = k->verbs; v && v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	for (const struct ccmm_verb *v = ccmm_common_verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

static int verb_error(const struct ccmm_actor_kind *k, const char *name, const struct ccmm_loc *loc,
		      struct ccmm_error *err)
{
	const char *names[128];
	size_t n = 0;
	const char *near;

	for (const struct ccmm_verb *v = k->verbs; v && v->name && n < 120; v++)
		names[n++] = v->name;
	for (const struct ccmm_verb *v = ccmm_common_verbs; v->name && n < 128; v++)
		names[n++] = v->name;
	near = ccmm_suggest(name, names, n);
	if (near)
		return ccmm_error_set(err, loc, -EINVAL, "%s actors have no op '%s'; did you mean '%s'?", k->name, name, near);
	return ccmm_error_set(err, loc, -EINVAL, "%s actors have no op '%s' (ccmm ops %s lists them)", k->name, name,
			      k->name);
}

static const char *const errno_names[] = { "EPERM", "ENOENT", "EINTR", "EIO", "ENXIO", "E2BIG", "ENOMEM", "EACCES",
					   "EFAULT", "EBUSY", "EEXIST", "ENODEV", "EINVAL", "ENOSPC", "ERANGE",
					   "EDEADLK", "ENOSYS", "EALREADY", "EAGAIN", "ETIMEDOUT", "ENOTSUPP", "EOPNOTSUPP",
					   "ENOTTY", "ESTALE", "EPROTO", "EBADF", "ELOOP", "EBADMSG", "EOVERFLOW",
					   "ENOENT", "ENOTCONN", "ESRCH", "ECANCELED", "ENOTSUP", "ETIME", "EREMOTEIO",
					   NULL };
static const int errno_values[] = { EPERM,  ENOENT,   EINTR,  EIO,    ENXIO,  E2BIG,     ENOMEM,  EACCES, EFAULT,
				    EBUSY,  EEXIST,   ENODEV, EINVAL, ENOSPC, ERANGE,    EDEADLK, ENOSYS, EALREADY,
				    EAGAIN, ETIMEDOUT, 524,   EOPNOTSUPP, ENOTTY, ESTALE, EPROTO,  EBADF,  ELOOP,
				    EBADMSG, EOVERFLOW, ENOENT, ENOTCONN, ESRCH, ECANCELED, ENOTSUP, ETIME, EREMOTEIO };

/* "0", "-EINVAL", "EINVAL", "-22" */
static int parse_ret(const char *s, long *out)
{
	const char *p = s[0] == '-' ? s + 1 : s;
	uint64_t v;
	int i = ccmm_choice_index(errno_names, p);

	if (i >= 0) {
		*out = -errno_values[i];
		return 0;
	}
	if (ccmm_parse_u64(p, false, &v) || v > 4095)
		return -EINVAL;
	*out = -(long)v;
	return 0;
}

static int parse_arg(const struct ccmm_arg_spec *spec, const char *text, struct ccmm_arg *out,
		     const struct ccmm_loc *loc, struct ccmm_error *err)
{
	memset(out, 0, sizeof(*out));
	out->set = true;
	if (strlen(text) >= sizeof(out->str))
		return ccmm_error_set(err, loc, -EINVAL, "%s: '%.20s...' is too long", spec->name, text);
	snprintf(out->str, sizeof(out->str), "%s", text);
	switch (spec->type) {
	case CCMM_ARG_SIZE:
	case CCMM_ARG_U64:
	case CCMM_ARG_PAGES: {
		uint64_t bytes;

		if (ccmm_parse_range(text, &out->range.lo, &out->range.hi))
			return ccmm_error_set(err, loc, -EINVAL, "%s: '%s' is not a %s or a LO-HI range", spec->name, text,
					      spec->type == CCMM_ARG_SIZE ? "size" : "number");
		if (spec->type == CCMM_ARG_PAGES && ccmm_range_end(0, out->range.hi, CCMM_PAGE_SHIFT, &bytes))
			return ccmm_error_set(err, loc, -EOVERFLOW,
					      "%s=%s: %" PRIu64 " pages of 4 KiB do not fit in a 64-bit address space (at most %" PRIu64 ")",
					      spec->name, text, out->range.hi, UINT64_MAX >> CCMM_PAGE_SHIFT);
		return 0;
	}
	case CCMM_ARG_ENUM: {
		int i = ccmm_choice_index(spec->choices, text);

		if (i < 0) {
			size_t n = 0;
			const char *near;

			while (spec->choices[n])
				n++;
			near = ccmm_suggest(text, spec->choices, n);
			return ccmm_error_set(err, loc, -EINVAL, "%s: unknown value '%s'%s%s%s", spec->name, text,
					      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		}
		out->choice = i;
		return 0;
	}
	case CCMM_ARG_BOOL: {
		bool b;

		if (ccmm_parse_bool(text, &b))
			return ccmm_error_set(err, loc, -EINVAL, "%s: '%s' is not a boolean", spec->name, text);
		out->choice = b;
		return 0;
	}
	case CCMM_ARG_OBJ:
	case CCMM_ARG_NEWOBJ:
		if (spec->type == CCMM_ARG_NEWOBJ && (text[0] == '@' || !strncmp(text, "bar:", 4)))
			return ccmm_error_set(err, loc, -EINVAL, "%s: '%s' cannot name a new object", spec->name, text);
		if (text[0] == '@') {
			uint64_t v, end;

			if (ccmm_parse_u64(text + 1, true, &v))
				return ccmm_error_set(err, loc, -EINVAL, "%s: '%s' is not an address", spec->name, text);
			/* "@ADDR" names the page there: it must not wrap past the top of the address space */
			if (ccmm_range_end(v, 1, CCMM_PAGE_SHIFT, &end))
				return ccmm_error_set(err, loc, -EOVERFLOW, "%s: a page at '%s' runs past the 64-bit address space",
						      spec->name, text);
		}
		if (strlen(text) >= 48)
			return ccmm_error_set(err, loc, -EINVAL, "%s: object name '%s' is longer than 47 characters",
					      spec->name, text);
		return 0;
	default:
		return 0;
	}
}

static int add_name(struct ccmm_job *job, const char *name, const struct ccmm_where *w)
{
	for (size_t i = 0; i < job->nr_names; i++)
		if (!strcmp(job->names[i], name))
			return 0;
	if (ccmm_grow((void **)&job->names, &job->cap_names, job->nr_names + 1, sizeof(*job->names)))
		return -ENOMEM;
	job->name_where = realloc(job->name_where, job->cap_names * sizeof(*job->name_where));
	if (!job->name_where)
		return -ENOMEM;
	snprintf(job->names[job->nr_names], sizeof(job->names[0]), "%s", name);
	job->name_where[job->nr_names] = *w;
	job->nr_names++;
	return 0;
}

static int parse_op(struct ccmm_job *job, struct ccmm_actor *a, const char *value, const struct ccmm_where *w,
		    struct ccmm_error *err)
{
	struct ccmm_loc loc = loc_of(w);
	char buf[200], *tok, *save = NULL;
	struct ccmm_op *op;
	const struct ccmm_verb *v;
	int npos = 0;

	snprintf(buf, sizeof(buf), "%s", value);
	tok = strtok_r(buf, " \t", &save);
	if (!tok)
		return ccmm_error_set(err, &loc, -EINVAL, "op= needs a verb");
	v = find_verb(a->kind, tok);
	if (!v)
		return verb_error(a->kind, tok, &loc, err);
	if (ccmm_grow((void **)&a->ops, &a->cap_ops, a->nr_ops + 1, sizeof(*a->ops)))
		return ccmm_error_set(err, &loc, -ENOMEM, "out of memory");
	op = &a->ops[a->nr_ops];
	memset(op, 0, sizeof(*op));
	op->verb = v;
	op->where = *w;
	while ((tok = strtok_r(NULL, " \t", &save))) {
		char *eq = strchr(tok, '=');
		int idx = -1, ret;

		if (eq) {
			*eq = '\0';
			if (!strcmp(tok, "ret")) {
				/* ret=A|B: either, for an op that races another actor (ccmm explore runs it both ways) */
				char *alt = strchr(eq + 1, '|');

				if (alt)
					*alt++ = '\0';
				if (parse_ret(eq + 1, &op->ret))
					return ccmm_error_set(err, &loc, -EINVAL, "ret: '%s' is not an errno (EINVAL, -ENOMEM, 0, ...)",
							      eq + 1);
				op->nr_ret_also = 0;
				while (alt) {
					char *next = strchr(alt, '|');

					if (next)
						*next++ = '\0';
					if (op->nr_ret_also == CCMM_ARRAY_SIZE(op->ret_also))
						return ccmm_error_set(err, &loc, -EINVAL, "ret: at most %zu alternatives",
								      CCMM_ARRAY_SIZE(op->ret_also) + 1);
					if (parse_ret(alt, &op->ret_also[op->nr_ret_also++]))
						return ccmm_error_set(err, &loc, -EINVAL,
								      "ret: '%s' is not an errno (EINVAL, -ENOMEM, 0, ...)", alt);
					alt = next;
				}
				op->ret_set = true;
				continue;
			}
			for (int i = 0; v->args && v->args[i].name; i++)
				if (!strcmp(v->args[i].name, tok))
					idx = i;
			if (idx < 0) {
				const char *names[CCMM_MAX_ARGS + 1];
				size_t n = 0;
				const char *near;

				for (int i = 0; v->args && v->args[i].name; i++)
					names[n++] = v->args[i].name;
				names[n++] = "ret";
				near = ccmm_suggest(tok, names, n);
				return ccmm_error_set(err, &loc, -EINVAL, "%s: no argument '%s'%s%s%s", v->name, tok,
						      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
			}
			if (op->arg[idx].set)
				return ccmm_error_set(err, &loc, -EINVAL, "%s: argument '%s' given twice", v->name, tok);
			ret = parse_arg(&v->args[idx], eq + 1, &op->arg[idx], &loc, err);
		} else {
			int seen = 0;

			for (int i = 0; v->args && v->args[i].name; i++) {
				if (!v->args[i].positional)
					continue;
				if (seen++ == npos) {
					idx = i;
					break;
				}
			}
			if (idx < 0)
				return ccmm_error_set(err, &loc, -EINVAL, "%s: unexpected argument '%s' (name it: KEY=VALUE)",
						      v->name, tok);
			npos++;
			if (op->arg[idx].set)
				return ccmm_error_set(err, &loc, -EINVAL, "%s: argument '%s' given twice", v->name,
						      v->args[idx].name);
			ret = parse_arg(&v->args[idx], tok, &op->arg[idx], &loc, err);
		}
		if (ret)
			return ret;
	}
	for (int i = 0; v->args && v->args[i].name; i++) {
		const struct ccmm_arg_spec *s = &v->args[i];

		if (!op->arg[i].set && s->required)
			return ccmm_error_set(err, &loc, -EINVAL, "%s needs %s (%s)", v->name, s->name, s->help ? s->help : "");
		if (!op->arg[i].set && s->def) {
			int ret = parse_arg(s, s->def, &op->arg[i], &loc, err);

			if (ret)
				return ret;
			op->arg[i].set = false; /* a default is not "given" */
		}
		if (op->arg[i].set && s->type == CCMM_ARG_NEWOBJ && add_name(job, op->arg[i].str, w))
			return ccmm_error_set(err, &loc, -ENOMEM, "out of memory");
	}
	a->nr_ops++;
	return 0;
}

/* Every object reference names an object some op creates. */
static int check_refs(struct ccmm_job *job, struct ccmm_error *err)
{
	for (size_t ai = 0; ai < job->nr_actors; ai++) {
		struct ccmm_actor *a = job->actors[ai];

		for (size_t oi = 0; oi < a->nr_ops; oi++) {
			const struct ccmm_op *op = &a->ops[oi];

			for (int i = 0; op->verb->args && op->verb->args[i].name; i++) {
				const char *name = op->arg[i].str;
				bool found = false;

				if (op->verb->args[i].type != CCMM_ARG_OBJ || !op->arg[i].set)
					continue;
				if (name[0] == '@' || !strncmp(name, "bar:", 4))
					continue;
				for (size_t k = 0; k < job->nr_names && !found; k++)
					found = !strcmp(job->names[k], name);
				if (!found) {
					struct ccmm_loc loc = loc_of(&op->where);
					const char **names = calloc(job->nr_names + 1, sizeof(*names));
					const char *near;

					for (size_t k = 0; names && k < job->nr_names; k++)
						names[k] = job->names[k];
					near = names ? ccmm_suggest(name, names, job->nr_names) : NULL;
					free(names);
					if (near)
						return ccmm_error_set(err, &loc, -EINVAL, "%s: no op creates an object '%s'; did you mean '%s'?",
								      op->verb->name, name, near);
					return ccmm_error_set(err, &loc, -EINVAL, "%s: no op creates an object '%s'",
							      op->verb->name, name);
				}
			}
		}
	}
	return 0;
}

static int build_actor(struct ccmm_job *job, struct reader *r, size_t first, size_t end, struct ccmm_error *err)
{
	struct line *hdr = &r->lines[first];
	struct ccmm_loc hloc = loc_of(&hdr->where);
	struct ccmm_actor *a;
	const struct ccmm_actor_kind *kind = NULL;
	int ret;

	for (size_t i = first + 1; i < end; i++) {
		if (!strcmp(r->lines[i].key, "actor")) {
			struct ccmm_loc loc = loc_of(&r->lines[i].where);

			kind = ccmm_actor_kind_find(r->lines[i].value);
			if (!kind) {
				const char *names[64];
				size_t n = 0;
				const struct ccmm_actor_kind *k;
				const char *near;

				while (n < 64 && (k = ccmm_actor_kind_at(n)))
					names[n++] = k->name;
				near = ccmm_suggest(r->lines[i].value, names, n);
				return ccmm_error_set(err, &loc, -EINVAL, "unknown actor kind '%s'%s%s%s", r->lines[i].value,
						      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
			}
		}
	}
	if (!kind)
		return ccmm_error_set(err, &hloc, -EINVAL, "[%s] needs actor=KIND (guest_task, device, vmm, ...)",
				      hdr->section);
	for (size_t i = 0; i < job->nr_actors; i++)
		if (!strcmp(job->actors[i]->name, hdr->section))
			return ccmm_error_set(err, &hloc, -EINVAL, "[%s] is declared twice (first at line %d)", hdr->section,
					      job->actors[i]->where.line);
	if (ccmm_grow((void **)&job->actors, &job->cap_actors, job->nr_actors + 1, sizeof(*job->actors)))
		return ccmm_error_set(err, &hloc, -ENOMEM, "out of memory");
	a = calloc(1, sizeof(*a));
	if (!a)
		return ccmm_error_set(err, &hloc, -ENOMEM, "out of memory");
	job->actors[job->nr_actors++] = a;
	snprintf(a->name, sizeof(a->name), "%s", hdr->section);
	a->index = (int)job->nr_actors - 1;
	a->kind = kind;
	a->where = hdr->where;
	a->loops = 1;
	a->opts = calloc(1, kind->opts_size ? kind->opts_size : 1);
	if (!a->opts)
		return ccmm_error_set(err, &hloc, -ENOMEM, "out of memory");
	if (kind->options && ccmm_option_defaults(kind->options, a->opts))
		return ccmm_error_set(err, &hloc, -EINVAL, "internal: bad defaults for %s", kind->name);

	for (size_t i = first + 1; i < end; i++) {
		struct line *l = &r->lines[i];
		struct ccmm_loc loc = loc_of(&l->where);

		if (!strcmp(l->key, "actor"))
			continue;
		if (!strcmp(l->key, "op")) {
			ret = parse_op(job, a, l->value, &l->where, err);
		} else if (!strcmp(l->key, "expect")) {
			ret = parse_expect(l->value, a->expect, &a->nr_expect, &l->where, err);
		} else if (!strcmp(l->key, "check")) {
			ret = _ccmm_check_parse(job, a->index, l->value, &l->where, err);
		} else if (!strcmp(l->key, "milestone")) {
			ret = _ccmm_milestone_parse(a, l->value, &l->where, err);
		} else if (!strcmp(l->key, "loops")) {
			ret = ccmm_parse_u64(l->value, false, &a->loops) || !a->loops || a->loops > 100000000
				      ? ccmm_error_set(err, &loc, -EINVAL, "loops=%s: a number from 1 to 100000000", l->value)
				      : 0;
		} else if (kind->options && ccmm_option_find(kind->options, l->key)) {
			ret = ccmm_option_set(kind->options, a->opts, l->section, l->key, l->value, &loc, err);
		} else {
			const char *names[128];
			size_t n = 0;
			const char *near;

			for (const struct ccmm_option *o = kind->options; o && o->name && n < 120; o++)
				names[n++] = o->name;
			names[n++] = "op";
			names[n++] = "expect";
			names[n++] = "check";
			names[n++] = "milestone";
			names[n++] = "loops";
			names[n++] = "actor";
			near = ccmm_suggest(l->key, names, n);
			ret = ccmm_error_set(err, &loc, -ENOENT, "unknown option '%s' for a %s actor in [%s]%s%s%s", l->key,
					     kind->name, l->section, near ? "; did you mean '" : "", near ? near : "",
					     near ? "'?" : "");
		}
		if (ret)
			return ret;
	}
	return 0;
}

static int resolve_platform(struct ccmm_job *job, const char *override, const struct ccmm_setting *sets, size_t nr,
			    struct ccmm_error *err, const struct ccmm_where *w)
{
	const char *spec = override ? override : job->g.platform;
	struct ccmm_loc loc = loc_of(w);
	char path[1100];
	int ret;

	if (!strcmp(spec, "default")) {
		ret = ccmm_platform_parse_set("built-in default", ccmm_default_platform_text, sets, nr, &job->plat, err);
		if (!ret)
			snprintf(job->plat->source, sizeof(job->plat->source), "built-in default");
		return ret;
	}
	if (!strcmp(spec, "host")) {
		for (size_t i = 0; i < nr; i++) {
			struct ccmm_loc l = { sets[i].origin, 0 };

			if (sets[i].target == CCMM_SET_PLATFORM)
				return ccmm_error_set(err, &l, -EINVAL,
						      "the host platform is read from this machine; it takes no platform settings");
		}
		return ccmm_platform_host(&job->plat, err);
	}
	/* the job's platform beside the job, a command line's beside the caller; then the search path */
	ret = ccmm_path_find(spec, override ? NULL : job->dir, "platforms", ".ini", path, sizeof(path));
	if (ret && override)
		return ccmm_error_set(err, NULL, ret, "platform file '%s' cannot be found (here, on CCMM_PATH or in %s/platforms)",
				      spec, ccmm_datadir());
	if (ret)
		return ccmm_error_set(err, &loc, ret,
				      "platform file '%s' cannot be found (beside the job, on CCMM_PATH or in %s/platforms)",
				      path, ccmm_datadir());
	return ccmm_platform_parse_set(path, NULL, sets, nr, &job->plat, err);
}

int ccmm_job_load(const char *path, const char *text, const char *platform_override, struct ccmm_job **out,
		  struct ccmm_error *err)
{
	struct ccmm_job_load_opts o = { .platform = platform_override };

	return ccmm_job_load_with(path, text, &o, out, err);
}

int ccmm_job_load_set(const char *path, const char *text, const char *platform_override,
		      const struct ccmm_setting *sets, size_t nr_sets, struct ccmm_job **out, struct ccmm_error *err)
{
	struct ccmm_job_load_opts o = { .platform = platform_override, .sets = sets, .nr_sets = nr_sets };

	return ccmm_job_load_with(path, text, &o, out, err);
}

int ccmm_job_load_with(const char *path, const char *text, const struct ccmm_job_load_opts *o, struct ccmm_job **out,
		       struct ccmm_error *err)
{
	static const struct ccmm_job_load_opts none;
	struct reader r = { 0 };
	struct ccmm_job *job = calloc(1, sizeof(*job));
	struct ccmm_where gwhere = { "", 0 };
	unsigned kb_base = ccmm_kb_base();
	const char *platform_override;
	const struct ccmm_setting *sets;
	size_t nr_sets;
	int ret;

	if (!o)
		o = &none;
	platform_override = o->platform;
	sets = o->sets;
	nr_sets = o->sets ? o->nr_sets : 0;

	if (!job)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	snprintf(job->path, sizeof(job->path), "%s", path);
	{
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s", path);
		snprintf(job->dir, sizeof(job->dir), "%s", text ? "." : dirname(tmp));
	}
	snprintf(gwhere.file, sizeof(gwhere.file), "%s", path);
	ccmm_option_defaults(global_options, &job->g);
	for (size_t i = 0; ccmm_run_ext_at(i); i++) {
		const struct ccmm_run_ext *x = ccmm_run_ext_at(i);

		job->ext_opts[i] = calloc(1, x->opts_size ? x->opts_size : 1);
		if (!job->ext_opts[i] || (x->options && ccmm_option_defaults(x->options, job->ext_opts[i]))) {
			ret = ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
			goto fail;
		}
	}

	ret = ccmm_ini_parse(path, text, collect, &r, err);
	if (!ret)
		ret = apply_settings(&r, sets, nr_sets, err);
	if (!ret)
		ret = find_kb_base(job, &r, err);
	if (ret)
		goto fail;
	ccmm_kb_base_set((unsigned)job->g.kb_base);
	/* a platform set on the command line is named from there, as --platform is */
	for (size_t i = 0; i < nr_sets; i++) {
		if (sets[i].target != CCMM_SET_JOB || strcmp(sets[i].section, "global") || strcmp(sets[i].key, "platform"))
			continue;
		if (platform_override && platform_override != sets[i].value) {
			struct ccmm_loc loc = { sets[i].origin, 0 };

			ret = ccmm_error_set(err, &loc, -EINVAL, "the platform is given twice (--platform %s)", platform_override);
			goto fail;
		}
		platform_override = sets[i].value;
	}
	/* [global] first, wherever it is */
	for (size_t i = 0; i < r.nr; i++) {
		struct line *l = &r.lines[i];
		struct ccmm_loc loc = loc_of(&l->where);

		if (strcmp(l->section, "global"))
			continue;
		if (!l->key[0]) {
			if (gwhere.line)
				ret = ccmm_error_set(err, &loc, -EINVAL, "a second [global] section (first at line %d)",
						     gwhere.line);
			gwhere = l->where;
		} else if (!strcmp(l->key, "expect")) {
			ret = parse_expect(l->value, job->expect, &job->nr_expect, &l->where, err);
		} else if (!strcmp(l->key, "kb_base")) {
			continue; /* read first (find_kb_base) */
		} else if (!strcmp(l->key, "check")) {
			ret = _ccmm_check_parse(job, -1, l->value, &l->where, err);
		} else if (!ccmm_option_find(global_options, l->key)) {
			ret = set_ext_option(job, l->key, l->value, &loc, err);
		} else {
			ret = ccmm_option_set(global_options, &job->g, "global", l->key, l->value, &loc, err);
			if (!ret && !strcmp(l->key, "platform"))
				gwhere = l->where;
		}
		if (ret)
			goto fail;
	}
	/* actors, section by section */
	for (size_t i = 0; i < r.nr;) {
		size_t end = i + 1;

		while (end < r.nr && r.lines[end].key[0])
			end++;
		/* [sweep] holds a sweep's grid (ccmm sweep): not an actor */
		if (strcmp(r.lines[i].section, "global") && strcmp(r.lines[i].section, "sweep") &&
		    section_selected(o, r.lines[i].section)) {
			ret = build_actor(job, &r, i, end, err);
			if (ret)
				goto fail;
		}
		i = end;
	}
	if (!job->nr_actors && o->sections) {
		struct ccmm_loc loc = { path, 0 };
		const char *secs[64];
		char names[300] = "";
		size_t n = 0, ns = 0;
		const char *near = NULL;

		for (size_t i = 0; i < r.nr; i++) {
			if (r.lines[i].key[0] || !strcmp(r.lines[i].section, "global"))
				continue;
			if (ns < CCMM_ARRAY_SIZE(secs))
				secs[ns++] = r.lines[i].section;
			if (n < sizeof(names))
				n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", n ? ", " : "", r.lines[i].section);
		}
		for (size_t i = 0; o->sections[i] && !near; i++)
			near = ccmm_suggest(o->sections[i], secs, ns);
		ret = ccmm_error_set(err, &loc, -ENOENT, "--section: no section of the job is named so (its sections: %s)%s%s%s",
				     n ? names : "none", near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
		goto fail;
	}
	if (!job->nr_actors) {
		struct ccmm_loc loc = { path, 0 };

		ret = ccmm_error_set(err, &loc, -EINVAL, "the job has no actors");
		goto fail;
	}
	ret = check_refs(job, err);
	if (!ret)
		ret = _ccmm_checks_validate(job, err);
	if (ret)
		goto fail;
	ccmm_kb_base_set(kb_base); /* the platform file reads sizes its own way */
	ret = resolve_platform(job, platform_override, sets, nr_sets, err, &gwhere);
	ccmm_kb_base_set((unsigned)job->g.kb_base);
	if (!ret)
		ret = ccmm_costs_check(job->plat, err); /* [cost] lines of subsystems' costs */
	if (ret)
		goto fail;
	for (size_t i = 0; i < job->nr_actors; i++) {
		struct ccmm_actor *a = job->actors[i];

		if (a->kind->check) {
			ret = a->kind->check(job, a, err);
			if (ret)
				goto fail;
		}
	}
	for (size_t i = 0; ccmm_run_ext_at(i); i++) {
		const struct ccmm_run_ext *x = ccmm_run_ext_at(i);

		if (x->check) {
			ret = x->check(job, job->ext_opts[i], err);
			if (ret)
				goto fail;
		}
	}
	free(r.lines);
	ccmm_kb_base_set(kb_base);
	*out = job;
	return 0;
fail:
	free(r.lines);
	ccmm_kb_base_set(kb_base);
	ccmm_job_free(job);
	return ret;
}

int ccmm_job_set_global(struct ccmm_job *job, const char *key, const char *value, struct ccmm_error *err)
{
	struct ccmm_loc loc = { job->path, 0 };

	if (!strcmp(key, "platform"))
		return ccmm_error_set(err, &loc, -EINVAL, "platform cannot change once the job is loaded");
	if (ccmm_option_find(global_options, key))
		return ccmm_option_set(global_options, &job->g, "global", key, value, &loc, err);
	return set_ext_option(job, key, value, &loc, err);
}

int ccmm_job_default(struct ccmm_job **out, struct ccmm_error *err)
{
	return ccmm_job_load("built-in default job", ccmm_default_job_text, NULL, out, err);
}

void ccmm_job_free(struct ccmm_job *job)
{
	if (!job)
		return;
	for (size_t i = 0; i < job->nr_actors; i++) {
		free(job->actors[i]->ops);
		if (job->actors[i]->kind && job->actors[i]->kind->release_opts && job->actors[i]->opts)
			job->actors[i]->kind->release_opts(job->actors[i]);
		free(job->actors[i]->opts);
		free(job->actors[i]);
	}
	free(job->actors);
	for (size_t i = 0; i < CCMM_MAX_EXTS; i++)
		free(job->ext_opts[i]);
	free(job->names);
	free(job->name_where);
	free(job->checks);
	ccmm_platform_free(job->plat);
	free(job);
}
