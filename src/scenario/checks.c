// SPDX-License-Identifier: MIT
/*
 * check = PATH OP VALUE lines of job files: read and validated here, when
 * the job is read; evaluated over the JSON report once the run is over
 * (report/checks.c). What can be known before the run is refused at its
 * line (syntax, operator, unit, a PATH that starts outside the report, an
 * actor that "jobs[NAME]" names and the job does not have); what only the
 * run can tell (a key a subsystem may or may not write) is a failed check.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "scenario/internal.h"

const char *const ccmm_check_op_names[] = { "==", "!=", "<", "<=", ">", ">=" };

/* The report's own top-level keys (report/report.c writes them). */
const char *const ccmm_report_root_keys[] = {
	"ccmm version", "timestamp", "timestamp_ms", "time", "job file", "global options", "platform",
	"modeled_time_ns", "wall_time_s", "jobs", "violations_without_actor", "subsystems", "lockstat", "attribution",
	"series", "result", NULL
};

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* The operator outside brackets: its offset and length in @s, or -1. */
static int find_op(const char *s, enum ccmm_check_op *op, size_t *oplen)
{
	int depth = 0;

	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '[')
			depth++;
		else if (s[i] == ']' && depth)
			depth--;
		if (depth)
			continue;
		if (s[i] == '=' && s[i + 1] == '=') {
			*op = CCMM_CHECK_EQ, *oplen = 2;
			return (int)i;
		}
		if (s[i] == '!' && s[i + 1] == '=') {
			*op = CCMM_CHECK_NE, *oplen = 2;
			return (int)i;
		}
		if (s[i] == '<' || s[i] == '>') {
			bool eq = s[i + 1] == '=';

			*op = s[i] == '<' ? (eq ? CCMM_CHECK_LE : CCMM_CHECK_LT) : (eq ? CCMM_CHECK_GE : CCMM_CHECK_GT);
			*oplen = eq ? 2 : 1;
			return (int)i;
		}
		if (s[i] == '=') {
			*oplen = 1;
			return -2; /* a lone '=' */
		}
	}
	return depth ? -3 : -1;
}

struct unit_name {
	const char *name;
	enum ccmm_check_unit unit;
	double scale;
};

/* Sizes are binary as everywhere in job files (4k = 4 KiB); times scale to ns. */
static const struct unit_name units[] = {
	{ "", CCMM_UNIT_NONE, 1 },
	{ "%", CCMM_UNIT_PERCENT, 1 },
	{ "ns", CCMM_UNIT_NS, 1 },
	{ "us", CCMM_UNIT_NS, 1e3 },
	{ "ms", CCMM_UNIT_NS, 1e6 },
	{ "s", CCMM_UNIT_NS, 1e9 },
	{ "b", CCMM_UNIT_BYTES, 1 },
	{ "k", CCMM_UNIT_BYTES, 1024.0 },
	{ "kb", CCMM_UNIT_BYTES, 1024.0 },
	{ "kib", CCMM_UNIT_BYTES, 1024.0 },
	{ "m", CCMM_UNIT_BYTES, 1048576.0 },
	{ "mb", CCMM_UNIT_BYTES, 1048576.0 },
	{ "mib", CCMM_UNIT_BYTES, 1048576.0 },
	{ "g", CCMM_UNIT_BYTES, 1073741824.0 },
	{ "gb", CCMM_UNIT_BYTES, 1073741824.0 },
	{ "gib", CCMM_UNIT_BYTES, 1073741824.0 },
	{ "t", CCMM_UNIT_BYTES, 1099511627776.0 },
	{ "tb", CCMM_UNIT_BYTES, 1099511627776.0 },
	{ "tib", CCMM_UNIT_BYTES, 1099511627776.0 },
};

/* A word that is a string value: letters, digits, and -_./: (no spaces). */
static bool is_word(const char *s)
{
	if (!isalnum((unsigned char)*s) && *s != '/' && *s != '_')
		return false; /* ".x" would read as a path: figures compare with values only */
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_./:+", *s))
			return false;
	return true;
}

/* A number at the start of @v (decimal, fraction, exponent, 0x hex; a sign): true with *@end after it. */
static bool parse_number(const char *v, double *x, char **end)
{
	const char *d = v[0] == '-' || v[0] == '+' ? v + 1 : v;

	if (!isdigit((unsigned char)d[0]) && !(d[0] == '.' && isdigit((unsigned char)d[1])))
		return false; /* not "inf", "nan" or a word */
	errno = 0;
	*x = strtod(v, end);
	return *end != v && !errno && isfinite(*x);
}

static int parse_value(struct ccmm_check *c, const char *v, const struct ccmm_loc *loc, struct ccmm_error *err)
{
	char *end;
	double x;

	if (!strcmp(v, "true") || !strcmp(v, "false")) {
		c->unit = CCMM_UNIT_BOOL;
		c->value = !strcmp(v, "true");
		snprintf(c->str, sizeof(c->str), "%s", v);
	} else if (parse_number(v, &x, &end)) {
		char u[8];
		size_t n;

		while (*end == ' ')
			end++;
		n = strlen(end);
		if (n >= sizeof(u))
			return ccmm_error_set(err, loc, -EINVAL, "check: unknown unit '%s' in '%s' (sizes 4KiB 2m, times 2ms 10us 500ns 1s, or %%)",
					      end, v);
		for (size_t i = 0; i <= n; i++)
			u[i] = (char)tolower((unsigned char)end[i]);
		c->unit = CCMM_UNIT_STRING; /* not found yet */
		for (size_t i = 0; i < CCMM_ARRAY_SIZE(units); i++) {
			if (!strcmp(u, units[i].name)) {
				c->unit = units[i].unit;
				c->value = x * units[i].scale;
				break;
			}
		}
		if (c->unit == CCMM_UNIT_STRING)
			return ccmm_error_set(err, loc, -EINVAL,
					      "check: unknown unit '%s' in '%s' (sizes 4KiB 2m, times 2ms 10us 500ns 1s, or %%)", end, v);
	} else if (is_word(v)) {
		if (strlen(v) >= sizeof(c->str))
			return ccmm_error_set(err, loc, -EINVAL, "check: the value '%.20s...' is too long", v);
		c->unit = CCMM_UNIT_STRING;
		snprintf(c->str, sizeof(c->str), "%s", v);
	} else {
		return ccmm_error_set(err, loc, -EINVAL, "check: '%s' is not a value (a number with an optional unit, true, false or a word)",
				      v);
	}
	if ((c->unit == CCMM_UNIT_STRING || c->unit == CCMM_UNIT_BOOL) && c->op != CCMM_CHECK_EQ && c->op != CCMM_CHECK_NE)
		return ccmm_error_set(err, loc, -EINVAL, "check: '%s' is not a number: only == and != compare it", v);
	return 0;
}

/* PATH's syntax: KEY ('.' KEY | '[' SEL ']')*, a leading '.' in actor sections. */
static int check_path_syntax(const char *p, bool relative_ok, const struct ccmm_loc *loc, struct ccmm_error *err)
{
	bool want_key = true;

	if (*p == '.') {
		if (!relative_ok)
			return ccmm_error_set(err, loc, -EINVAL,
					      "check: '%s' is relative (starts with '.'): only an actor's section has an entry of its own", p);
		p++;
	}
	while (*p) {
		if (*p == '[') {
			const char *close = strchr(p, ']');

			if (want_key)
				return ccmm_error_set(err, loc, -EINVAL, "check: a key is missing before '%s'", p);
			if (!close || close == p + 1)
				return ccmm_error_set(err, loc, -EINVAL, "check: '%s' needs [NAME] or [N]", p);
			p = close + 1;
			if (*p && *p != '.' && *p != '[')
				return ccmm_error_set(err, loc, -EINVAL, "check: '.' or '[' must follow ']' (at '%s')", p);
		} else if (*p == '.') {
			if (want_key)
				return ccmm_error_set(err, loc, -EINVAL, "check: an empty key in the path (at '%s')", p);
			want_key = true;
			p++;
		} else if (*p == ']') {
			return ccmm_error_set(err, loc, -EINVAL, "check: ']' without '[' (at '%s')", p);
		} else {
			p += strcspn(p, ".[]");
			want_key = false;
		}
	}
	if (want_key)
		return ccmm_error_set(err, loc, -EINVAL, "check: the path ends without a key");
	return 0;
}

int _ccmm_check_parse(struct ccmm_job *job, int actor, const char *value, const struct ccmm_where *w,
		      struct ccmm_error *err)
{
	struct ccmm_loc loc = { w->file, w->line };
	char buf[200], *path, *val;
	enum ccmm_check_op op = CCMM_CHECK_EQ;
	size_t oplen = 0;
	struct ccmm_check *c;
	int at, ret;

	if (strlen(value) >= sizeof(buf))
		return ccmm_error_set(err, &loc, -EINVAL, "check: the line is longer than %zu characters", sizeof(buf) - 1);
	snprintf(buf, sizeof(buf), "%s", value);
	at = find_op(buf, &op, &oplen);
	if (at == -2)
		return ccmm_error_set(err, &loc, -EINVAL, "check: '=' compares nothing: write PATH == VALUE");
	if (at == -3)
		return ccmm_error_set(err, &loc, -EINVAL, "check: a '[' without its ']': [NAME] or [N] selects an element");
	if (at < 0)
		return ccmm_error_set(err, &loc, -EINVAL, "check: needs PATH OP VALUE with OP one of == != < <= > >= (e.g. "
				      "check = swiotlb.io_tlb_used_hiwater <= 512)");
	buf[at] = '\0';
	path = trim(buf);
	val = trim(buf + at + oplen);
	if (!*path)
		return ccmm_error_set(err, &loc, -EINVAL, "check: no PATH before '%s'", ccmm_check_op_names[op]);
	if (!*val)
		return ccmm_error_set(err, &loc, -EINVAL, "check: no VALUE after '%s'", ccmm_check_op_names[op]);
	if (strchr("=<>!", *val))
		return ccmm_error_set(err, &loc, -EINVAL, "check: '%s%c' is not an operator (== != < <= > >=)",
				      ccmm_check_op_names[op], *val);
	if (strlen(path) >= sizeof(c->path))
		return ccmm_error_set(err, &loc, -EINVAL, "check: the path is longer than %zu characters", sizeof(c->path) - 1);
	ret = check_path_syntax(path, actor >= 0, &loc, err);
	if (ret)
		return ret;
	if (ccmm_grow((void **)&job->checks, &job->cap_checks, job->nr_checks + 1, sizeof(*job->checks)))
		return ccmm_error_set(err, &loc, -ENOMEM, "out of memory");
	c = &job->checks[job->nr_checks];
	memset(c, 0, sizeof(*c));
	snprintf(c->path, sizeof(c->path), "%s", path);
	c->op = op;
	c->actor = actor;
	c->where = *w;
	snprintf(c->text, sizeof(c->text), "%s %s %s", path, ccmm_check_op_names[op], val);
	ret = parse_value(c, val, &loc, err);
	if (ret)
		return ret;
	job->nr_checks++;
	return 0;
}

/* The first key of @path (up to '.' or '['), into @out. */
static void first_key(const char *path, char *out, size_t len)
{
	size_t n = strcspn(path, ".[");

	if (n >= len)
		n = len - 1;
	memcpy(out, path, n);
	out[n] = '\0';
}

int _ccmm_checks_validate(const struct ccmm_job *job, struct ccmm_error *err)
{
	for (size_t i = 0; i < job->nr_checks; i++) {
		const struct ccmm_check *c = &job->checks[i];
		struct ccmm_loc loc = { c->where.file, c->where.line };
		const char *names[64];
		size_t n = 0;
		char key[160];
		bool known = false;
		const char *near;

		if (c->path[0] == '.')
			continue; /* inside the actor's own entry: only the run knows its keys */
		first_key(c->path, key, sizeof(key));
		for (size_t k = 0; ccmm_report_root_keys[k] && n < 48; k++)
			names[n++] = ccmm_report_root_keys[k];
		for (size_t k = 0; ccmm_run_ext_at(k) && n < 64; k++)
			if (ccmm_run_ext_at(k)->report_json)
				names[n++] = ccmm_run_ext_at(k)->name;
		for (size_t k = 0; k < n; k++)
			known |= !strcmp(names[k], key);
		if (!known) {
			const char *subs[64];
			size_t ns = 0;

			/* a subsystem's machine-wide figures are under "subsystems" */
			for (size_t k = 0; ccmm_subsys_at(k) && ns < 64; k++)
				subs[ns++] = ccmm_subsys_at(k)->name;
			near = ccmm_suggest(key, names, n);
			if (!near && (near = ccmm_suggest(key, subs, ns)))
				return ccmm_error_set(err, &loc, -EINVAL,
						      "check: the report has no section '%s'; a subsystem's figures are under "
						      "'subsystems': did you mean 'subsystems.%s'?", key, near);
			return ccmm_error_set(err, &loc, -EINVAL, "check: the report has no section '%s'%s%s%s", key,
					      near ? "; did you mean '" : " (see a --json report for the paths)",
					      near ? near : "", near ? "'?" : "");
		}
		/* jobs[NAME]: NAME is an actor of this job */
		if (!strcmp(key, "jobs") && c->path[4] == '[') {
			const char *sel = c->path + 5;
			size_t len = strcspn(sel, "]");
			bool digits = len > 0, found = false;
			const char *anames[256];
			size_t an = 0;

			for (size_t k = 0; k < len; k++)
				digits &= isdigit((unsigned char)sel[k]) != 0;
			if (digits)
				continue;
			for (size_t a = 0; a < job->nr_actors; a++) {
				if (strlen(job->actors[a]->name) == len && !strncmp(job->actors[a]->name, sel, len))
					found = true;
				if (an < CCMM_ARRAY_SIZE(anames))
					anames[an++] = job->actors[a]->name;
			}
			if (!found) {
				char want[CCMM_NAME_MAX + 8];

				snprintf(want, sizeof(want), "%.*s", (int)(len < CCMM_NAME_MAX ? len : CCMM_NAME_MAX), sel);
				near = ccmm_suggest(want, anames, an);
				return ccmm_error_set(err, &loc, -EINVAL, "check: the job has no actor [%s]%s%s%s", want,
						      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
			}
		}
	}
	return 0;
}
