// SPDX-License-Identifier: MIT
/*
 * Sweeps: a grid of settings, each point a run of the job in a child
 * process, the rows gathered into a table (sweep.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ccmm_config.h"
#include "report/report.h"
#include "scenario/scenario.h"
#include "sweep/sweep.h"

/* What every sweep shows first, whatever the job. */
static const char *const base_metrics[] = { "modeled_time_ns", "result.violations", "result.unexpected", NULL };

/* ---- building the grid ------------------------------------------------------------ */

static int add_string(char ***arr, size_t *nr, const char *s)
{
	char **n = *arr;

	/* room for the next power of two of *nr: an axis of a million values grows in 20 steps, not a million */
	if (!(*nr & (*nr - 1))) {
		n = realloc(*arr, (*nr ? *nr * 2 : 1) * sizeof(**arr));
		if (!n)
			return -ENOMEM;
		*arr = n;
	}
	n[*nr] = strdup(s);
	if (!n[*nr])
		return -ENOMEM;
	(*nr)++;
	return 0;
}

static void free_strings(char **arr, size_t nr)
{
	for (size_t i = 0; i < nr; i++)
		free(arr[i]);
	free(arr);
}

size_t ccmm_sweep_points(const struct ccmm_sweep *sw)
{
	size_t n = 1;

	for (size_t i = 0; i < sw->nr_axes; i++)
		n *= sw->axes[i].nr;
	return n;
}

int ccmm_sweep_add_set(struct ccmm_sweep *sw, const char *arg, struct ccmm_error *err)
{
	struct ccmm_setting *n = realloc(sw->sets, (sw->nr_sets + 1) * sizeof(*n));
	int ret;

	if (!n)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	sw->sets = n;
	ret = ccmm_setting_parse(arg, "--set", &n[sw->nr_sets], err);
	if (ret)
		return ret;
	for (size_t i = 0; i < sw->nr_axes; i++) {
		struct ccmm_loc loc = { n[sw->nr_sets].origin, 0 };
		size_t kl = strcspn(arg, "=");

		if (strlen(sw->axes[i].key) == kl && !strncmp(sw->axes[i].key, arg, kl))
			return ccmm_error_set(err, &loc, -EINVAL, "'%s' is also varied (%s): set it or vary it", sw->axes[i].key,
					      sw->axes[i].origin);
	}
	sw->nr_sets++;
	return 0;
}

/* A number with size suffixes, for ranges. */
static int range_number(const char *s, size_t n, uint64_t *out)
{
	char buf[64];

	if (!n || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return ccmm_parse_u64(buf, true, out);
}

/* One element of a value list: a value, or a range expanded into @ax. */
static int add_values(struct ccmm_sweep_axis *ax, const char *v, size_t n, const struct ccmm_loc *loc,
		      struct ccmm_error *err)
{
	const char *dots = NULL;
	uint64_t lo, hi, step = 1;
	bool geometric = false;
	char text[256];

	for (size_t i = 0; i + 1 < n; i++)
		if (v[i] == '.' && v[i + 1] == '.') {
			dots = v + i;
			break;
		}
	if (!n)
		return ccmm_error_set(err, loc, -EINVAL, "an empty value in the list (V1,V2,... or LO..HI[:STEP|*FACTOR])");
	if (n >= sizeof(text))
		return ccmm_error_set(err, loc, -EINVAL, "a value is longer than %zu characters", sizeof(text) - 1);
	if (!dots) {
		memcpy(text, v, n);
		text[n] = '\0';
		return add_string(&ax->values, &ax->nr, text) ? ccmm_error_set(err, loc, -ENOMEM, "out of memory") : 0;
	}
	{
		const char *hi_s = dots + 2, *end = v + n, *sep = hi_s;
		size_t count;

		while (sep < end && *sep != ':' && *sep != '*')
			sep++;
		if (range_number(v, (size_t)(dots - v), &lo) || range_number(hi_s, (size_t)(sep - hi_s), &hi)) {
			/* not numbers on both sides (a path like ../a.ini): a value as it is */
			memcpy(text, v, n);
			text[n] = '\0';
			return add_string(&ax->values, &ax->nr, text) ? ccmm_error_set(err, loc, -ENOMEM, "out of memory") : 0;
		}
		if (sep < end) {
			geometric = *sep == '*';
			if (range_number(sep + 1, (size_t)(end - sep - 1), &step))
				return ccmm_error_set(err, loc, -EINVAL, "'%.*s': the %s is not a number", (int)n, v,
						      geometric ? "factor" : "step");
		}
		if (lo > hi)
			return ccmm_error_set(err, loc, -EINVAL, "'%.*s': the range runs backwards", (int)n, v);
		if (geometric && (step < 2 || !lo))
			return ccmm_error_set(err, loc, -EINVAL, "'%.*s': a geometric range needs LO > 0 and a factor of 2 or more",
					      (int)n, v);
		if (!geometric && !step)
			return ccmm_error_set(err, loc, -EINVAL, "'%.*s': the step is 0", (int)n, v);
		/* how many, before any is made */
		if (geometric) {
			count = 1;
			for (uint64_t x = lo; x <= hi / step; x *= step)
				count++;
		} else {
			/* no + 1 before the comparison: 0..18446744073709551615 would wrap */
			count = (hi - lo) / step < CCMM_SWEEP_MAX_POINTS ? (hi - lo) / step + 1 : SIZE_MAX;
		}
		if (count > CCMM_SWEEP_MAX_POINTS)
			return ccmm_error_set(err, loc, -EINVAL, "'%.*s' has more than %d values", (int)n, v,
					      CCMM_SWEEP_MAX_POINTS);
		for (uint64_t x = lo; x <= hi;) {
			snprintf(text, sizeof(text), "%" PRIu64, x);
			if (add_string(&ax->values, &ax->nr, text))
				return ccmm_error_set(err, loc, -ENOMEM, "out of memory");
			if (geometric ? x > hi / step : x > hi - step)
				break;
			x = geometric ? x * step : x + step;
		}
	}
	return 0;
}

static void axis_free(struct ccmm_sweep_axis *ax)
{
	free_strings(ax->values, ax->nr);
	memset(ax, 0, sizeof(*ax));
}

static int cmp_value(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* -EINVAL naming a value the axis has twice (sorted, so a million values take no quadratic time). */
static int twice(const struct ccmm_sweep_axis *ax, const struct ccmm_loc *loc, struct ccmm_error *err)
{
	char **sorted;
	int ret = 0;

	if (ax->nr < 2)
		return 0;
	sorted = malloc(ax->nr * sizeof(*sorted));
	if (!sorted)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	memcpy(sorted, ax->values, ax->nr * sizeof(*sorted));
	qsort(sorted, ax->nr, sizeof(*sorted), cmp_value);
	for (size_t i = 1; i < ax->nr && !ret; i++)
		if (!strcmp(sorted[i - 1], sorted[i]))
			ret = ccmm_error_set(err, loc, -EINVAL, "the value '%s' is given twice", sorted[i]);
	free(sorted);
	return ret;
}

int ccmm_sweep_add_vary(struct ccmm_sweep *sw, const char *arg, const char *origin, struct ccmm_error *err)
{
	char where[600];
	struct ccmm_loc loc = { where, 0 };
	struct ccmm_sweep_axis ax;
	struct ccmm_setting probe;
	const char *eq = strchr(arg, '='), *v;
	size_t points, same;
	int ret;

	snprintf(where, sizeof(where), "%s %s", origin, arg);
	if (!eq || eq == arg)
		return ccmm_error_set(err, &loc, -EINVAL, "KEY=V1,V2,... expected");
	if (!eq[1])
		return ccmm_error_set(err, &loc, -EINVAL, "no values after '='");
	memset(&ax, 0, sizeof(ax));
	if ((size_t)(eq - arg) >= sizeof(ax.key))
		return ccmm_error_set(err, &loc, -EINVAL, "the key is longer than %zu characters", sizeof(ax.key) - 1);
	memcpy(ax.key, arg, (size_t)(eq - arg));
	snprintf(ax.origin, sizeof(ax.origin), "%s", origin);
	/* the key must split as a setting does */
	{
		char one[300];

		snprintf(one, sizeof(one), "%s=x", ax.key);
		ret = ccmm_setting_parse(one, origin, &probe, err);
		if (ret) {
			snprintf(err->file, sizeof(err->file), "%.*s", (int)sizeof(err->file) - 1, where);
			return ret;
		}
	}
	for (v = eq + 1;;) {
		size_t n = strcspn(v, ",");

		ret = add_values(&ax, v, n, &loc, err);
		if (ret) {
			axis_free(&ax);
			return ret;
		}
		if (!v[n])
			break;
		v += n + 1;
	}
	ret = twice(&ax, &loc, err);
	if (ret) {
		axis_free(&ax);
		return ret;
	}
	for (size_t i = 0; i < sw->nr_sets; i++) {
		if (sw->sets[i].target == probe.target && !strcmp(sw->sets[i].section, probe.section) &&
		    !strcmp(sw->sets[i].key, probe.key)) {
			axis_free(&ax);
			return ccmm_error_set(err, &loc, -EINVAL, "'%s' is also set (%s): set it or vary it", ax.key,
					      sw->sets[i].origin);
		}
	}
	/* a key varied again replaces its axis (the command line over the [sweep] section) */
	same = sw->nr_axes;
	points = 1;
	for (size_t i = 0; i < sw->nr_axes; i++) {
		if (!strcmp(sw->axes[i].key, ax.key))
			same = i;
		else
			points *= sw->axes[i].nr;
	}
	if (ax.nr && points > CCMM_SWEEP_MAX_POINTS / ax.nr) {
		axis_free(&ax);
		return ccmm_error_set(err, &loc, -EINVAL, "the grid would have more than %d points", CCMM_SWEEP_MAX_POINTS);
	}
	if (same < sw->nr_axes) {
		axis_free(&sw->axes[same]);
		sw->axes[same] = ax;
	} else {
		struct ccmm_sweep_axis *n = realloc(sw->axes, (sw->nr_axes + 1) * sizeof(*n));

		if (!n) {
			axis_free(&ax);
			return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
		}
		sw->axes = n;
		n[sw->nr_axes++] = ax;
	}
	return 0;
}

int ccmm_sweep_add_metric(struct ccmm_sweep *sw, const char *path, struct ccmm_error *err)
{
	if (!path[0])
		return ccmm_error_set(err, NULL, -EINVAL, "--metric: an empty path");
	if (!sw->metrics_given) {
		/* the command line's metrics replace the [sweep] section's */
		free_strings(sw->metrics, sw->nr_metrics);
		sw->metrics = NULL;
		sw->nr_metrics = 0;
	}
	for (size_t i = 0; i < sw->nr_metrics; i++)
		if (!strcmp(sw->metrics[i], path))
			return 0;
	if (add_string(&sw->metrics, &sw->nr_metrics, path))
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	sw->metrics_given = true;
	return 0;
}

/*
 * In the job file, platform=FILE names files relative to the job, as the
 * job's own platform line does (on the command line they are relative to
 * the current directory, as --platform): "platform=a.ini,b.ini" becomes
 * "platform=JOBDIR/a.ini,JOBDIR/b.ini". Anything else is returned as is.
 */
static const char *job_relative(const struct ccmm_sweep *sw, const char *value, char *buf, size_t len)
{
	const char *slash = strrchr(sw->job, '/');
	size_t used, dirlen = slash ? (size_t)(slash - sw->job) : 0;

	if (strncmp(value, "platform=", 9) || !slash)
		return value;
	used = (size_t)snprintf(buf, len, "platform=");
	for (const char *v = value + 9; used < len;) {
		size_t n = strcspn(v, ",");
		bool plain = v[0] == '/' || (n == 7 && !strncmp(v, "default", 7)) || (n == 4 && !strncmp(v, "host", 4));

		used += (size_t)snprintf(buf + used, len - used, "%s%.*s%s%.*s", v == value + 9 ? "" : ",",
					 plain ? 0 : (int)dirlen, sw->job, plain ? "" : "/", (int)n, v);
		if (!v[n])
			break;
		v += n + 1;
	}
	return used < len ? buf : value;
}

/* The [sweep] section of the job file. */
struct section_reader {
	struct ccmm_sweep *sw;
};

static int read_section(void *user, const char *section, const char *key, const char *value,
			const struct ccmm_loc *loc, struct ccmm_error *err)
{
	struct section_reader *r = user;
	char origin[320];
	int ret;

	if (!key || strcmp(section, "sweep"))
		return 0;
	if (!strcmp(key, "vary")) {
		snprintf(origin, sizeof(origin), "%s:%d: vary", loc->file, loc->line);
		return ccmm_sweep_add_vary(r->sw, value, origin, err);
	}
	if (!strcmp(key, "metric")) {
		if (!value[0])
			return ccmm_error_set(err, loc, -EINVAL, "metric= needs a JSON path");
		for (size_t i = 0; i < r->sw->nr_metrics; i++)
			if (!strcmp(r->sw->metrics[i], value))
				return 0;
		return add_string(&r->sw->metrics, &r->sw->nr_metrics, value) ? ccmm_error_set(err, loc, -ENOMEM, "out of memory")
									      : 0;
	}
	if (!strcmp(key, "set")) {
		char rel[2048];

		snprintf(origin, sizeof(origin), "%s:%d: set", loc->file, loc->line);
		ret = ccmm_sweep_add_set(r->sw, job_relative(r->sw, value, rel, sizeof(rel)), err);
		if (!ret)
			snprintf(r->sw->sets[r->sw->nr_sets - 1].origin, sizeof(r->sw->sets[0].origin), "%s %s", origin, value);
		else if (!strncmp(err->file, "--set ", 6)) {
			char f[sizeof(err->file) + sizeof(origin)];

			snprintf(f, sizeof(f), "%s %s", origin, err->file + 6);
			snprintf(err->file, sizeof(err->file), "%.*s", (int)sizeof(err->file) - 1, f);
		}
		return ret;
	}
	{
		static const char *const keys[] = { "vary", "metric", "set" };
		const char *near = ccmm_suggest(key, keys, 3);

		return ccmm_error_set(err, loc, -EINVAL, "unknown key '%s' in [sweep]%s%s%s (vary, metric, set)", key,
				      near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
	}
}

int ccmm_sweep_init(struct ccmm_sweep *sw, const char *job, struct ccmm_error *err)
{
	struct section_reader r = { sw };
	FILE *f;
	int ret;

	memset(sw, 0, sizeof(*sw));
	snprintf(sw->job, sizeof(sw->job), "%s", job);
	f = fopen(job, "r");
	if (!f)
		return ccmm_error_set(err, NULL, -ENOENT, "%s: cannot open the job file", job);
	fclose(f);
	ret = ccmm_ini_parse(job, NULL, read_section, &r, err);
	if (ret)
		ccmm_sweep_free(sw);
	return ret;
}

void ccmm_sweep_free(struct ccmm_sweep *sw)
{
	for (size_t i = 0; i < sw->nr_axes; i++)
		axis_free(&sw->axes[i]);
	free(sw->axes);
	free(sw->sets);
	free_strings(sw->metrics, sw->nr_metrics);
	memset(sw, 0, sizeof(*sw));
}

/* The settings of point @i (every --set, then one value per axis): *@out malloc'd, *@n entries. */
static int point_settings(const struct ccmm_sweep *sw, size_t i, const size_t *fixed, struct ccmm_setting **out,
			  size_t *n, struct ccmm_error *err)
{
	struct ccmm_setting *s = calloc(sw->nr_sets + sw->nr_axes + 1, sizeof(*s));
	size_t k = sw->nr_sets;

	if (!s)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	if (sw->nr_sets)
		memcpy(s, sw->sets, sw->nr_sets * sizeof(*s));
	for (size_t a = sw->nr_axes; a--;) {
		const struct ccmm_sweep_axis *ax = &sw->axes[a];
		size_t v = fixed ? fixed[a] : i % ax->nr;
		char arg[600];
		int ret;

		if (!fixed)
			i /= ax->nr;
		snprintf(arg, sizeof(arg), "%s=%s", ax->key, ax->values[v]);
		if (strncmp(ax->origin, "--", 2)) {
			/* a [sweep] line of the job file: its platform files are the job's neighbours */
			char rel[sizeof(arg) + 4096];
			const char *r = job_relative(sw, arg, rel, sizeof(rel));

			if (r != arg)
				snprintf(arg, sizeof(arg), "%s", r);
		}
		ret = ccmm_setting_parse(arg, ax->origin, &s[k + a], err);
		if (ret) {
			free(s);
			return ret;
		}
	}
	*out = s;
	*n = sw->nr_sets + sw->nr_axes;
	return 0;
}

static int job_load(const struct ccmm_sweep *sw, const struct ccmm_setting *s, size_t n, struct ccmm_job **job,
		    struct ccmm_error *err)
{
	return ccmm_job_load_set(sw->job, NULL, NULL, s, n, job, err);
}

static void add_defaults(struct ccmm_sweep *sw, const struct ccmm_job *job)
{
	const struct ccmm_kind_set *ks;

	for (int i = 0; base_metrics[i]; i++)
		add_string(&sw->metrics, &sw->nr_metrics, base_metrics[i]);
	for (size_t s = 0; (ks = ccmm_kind_set_at(s)); s++) {
		bool used = false;

		for (size_t a = 0; a < job->nr_actors && !used; a++)
			for (size_t k = 0; ks->kinds && ks->kinds[k] && !used; k++)
				used = job->actors[a]->kind == ks->kinds[k];
		for (size_t m = 0; used && ks->metrics && ks->metrics[m]; m++) {
			bool dup = false;

			for (size_t j = 0; j < sw->nr_metrics && !dup; j++)
				dup = !strcmp(sw->metrics[j], ks->metrics[m]);
			if (!dup)
				add_string(&sw->metrics, &sw->nr_metrics, ks->metrics[m]);
		}
	}
}

/* Whether a load error is placed at a setting (the command line's or the [sweep] section's). */
static bool at_setting(const struct ccmm_sweep *sw, const struct ccmm_error *err)
{
	if (err->line)
		return false;
	if (!strncmp(err->file, "--", 2))
		return true;
	for (size_t i = 0; i < sw->nr_sets; i++)
		if (!strcmp(err->file, sw->sets[i].origin))
			return true;
	for (size_t a = 0; a < sw->nr_axes; a++)
		if (!strncmp(err->file, sw->axes[a].origin, strlen(sw->axes[a].origin)))
			return true;
	return false;
}

/* Load the job at one point of the grid (@fixed: each axis's value); only errors at a setting count. */
static int check_point(struct ccmm_sweep *sw, const size_t *fixed, bool *defaults, struct ccmm_error *err)
{
	struct ccmm_job *job = NULL;
	struct ccmm_setting *s;
	size_t n;
	int ret = point_settings(sw, 0, fixed, &s, &n, err);

	if (!ret) {
		ret = job_load(sw, s, n, &job, err);
		free(s);
	}
	if (!ret && *defaults) {
		add_defaults(sw, job);
		*defaults = false;
	}
	ccmm_job_free(job);
	/* a failure placed elsewhere (a combination of values) is its row's */
	return ret && ret != -ENOMEM && !at_setting(sw, err) ? 0 : ret;
}

int ccmm_sweep_check(struct ccmm_sweep *sw, struct ccmm_error *err)
{
	size_t *fixed = calloc(sw->nr_axes + 1, sizeof(*fixed));
	bool defaults = !sw->nr_metrics;
	int ret;

	if (!fixed)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	/* the base point (every --set, each axis at its first value), then every other value of each axis once */
	ret = check_point(sw, fixed, &defaults, err);
	for (size_t a = 0; a < sw->nr_axes && !ret; a++) {
		for (size_t v = 1; v < sw->axes[a].nr && !ret; v++) {
			fixed[a] = v;
			ret = check_point(sw, fixed, &defaults, err);
		}
		fixed[a] = 0;
	}
	if (!ret && defaults)
		for (int i = 0; base_metrics[i]; i++)
			add_string(&sw->metrics, &sw->nr_metrics, base_metrics[i]);
	free(fixed);
	return ret;
}

/* ---- one point ----------------------------------------------------------------------- */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct collect {
	json_t *obj;
};

static void collect_value(void *user, const char *path, json_t *v)
{
	struct collect *c = user;

	if (!json_object_get(c->obj, path))
		json_object_set(c->obj, path, v);
}

static void collect_path(void *user, const char *path, json_t *v)
{
	(void)v;
	json_array_append_new(user, json_string(path));
}

/* The run's JSON report, parsed. NULL on failure. */
static json_t *report_of(struct ccmm_run *run)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	json_t *j = NULL;

	if (!f)
		return NULL;
	if (!ccmm_report_json(run, f) && !fflush(f))
		j = json_loadb(buf, len, 0, NULL);
	fclose(f);
	free(buf);
	return j;
}

int ccmm_sweep_run_point(const struct ccmm_sweep *sw, size_t i, bool paths, char **row)
{
	double t0 = now_s();
	json_t *r = json_object(), *values = json_array();
	struct ccmm_setting *s = NULL;
	struct ccmm_job *job = NULL;
	struct ccmm_run *run = NULL;
	struct ccmm_error err;
	char msg[1024] = "";
	int status = 2, ret;
	size_t n = 0;

	if (!r || !values)
		return -ENOMEM;
	memset(&err, 0, sizeof(err));
	ret = point_settings(sw, i, NULL, &s, &n, &err);
	if (!ret)
		ret = job_load(sw, s, n, &job, &err);
	if (ret) {
		ccmm_error_format(&err, msg, sizeof(msg));
	} else if ((ret = ccmm_job_run(job, &run))) {
		snprintf(msg, sizeof(msg), "%s: cannot start the run: %s", job->path, strerror(-ret));
	} else {
		struct ccmm_run_summary sum;
		json_t *rep = report_of(run);

		ccmm_run_summarize(run, &sum);
		status = sum.status;
		if (run->error[0])
			snprintf(msg, sizeof(msg), "%s", run->error);
		if (!rep) {
			status = 2;
			snprintf(msg, sizeof(msg), "the run's JSON report could not be made");
		}
		for (size_t m = 0; rep && m < sw->nr_metrics; m++) {
			struct collect c = { json_object() };

			if (ccmm_jpath_is_pattern(sw->metrics[m])) {
				ccmm_jpath_expand(rep, sw->metrics[m], collect_value, &c);
			} else {
				json_t *v = ccmm_jpath_get(rep, sw->metrics[m]);

				if (v && !json_is_object(v) && !json_is_array(v))
					json_object_set(c.obj, sw->metrics[m], v);
			}
			json_array_append_new(values, c.obj);
		}
		if (rep && paths) {
			json_t *p = json_array();

			ccmm_jpath_flatten(rep, collect_path, p);
			json_object_set_new(r, "paths", p);
		}
		json_decref(rep);
	}
	ccmm_run_free(run);
	ccmm_job_free(job);
	free(s);
	json_object_set_new(r, "point", json_integer((json_int_t)i));
	json_object_set_new(r, "status", json_integer(status));
	json_object_set_new(r, "error", msg[0] ? json_string(msg) : json_null());
	json_object_set_new(r, "values", values);
	json_object_set_new(r, "wall_s", json_real(now_s() - t0));
	*row = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	return *row ? 0 : -ENOMEM;
}

/* ---- points in child processes ------------------------------------------------------------ */

struct child {
	pid_t pid;
	int fd;
	size_t point;
	char *buf;
	size_t len, cap;
};

static char *failed_row(size_t point, const char *why)
{
	json_t *r = json_object();
	char *s;

	json_object_set_new(r, "point", json_integer((json_int_t)point));
	json_object_set_new(r, "status", json_integer(2));
	json_object_set_new(r, "error", json_string(why));
	json_object_set_new(r, "values", json_array());
	json_object_set_new(r, "wall_s", json_real(0));
	s = json_dumps(r, JSON_COMPACT);
	json_decref(r);
	return s;
}

static int write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int spawn(const struct ccmm_sweep *sw, size_t point, bool paths, struct child *c)
{
	int fds[2];
	pid_t pid;

	if (pipe(fds))
		return -errno;
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		int e = errno;

		close(fds[0]);
		close(fds[1]);
		return -e;
	}
	if (!pid) {
		char *row = NULL;

		close(fds[0]);
		signal(SIGPIPE, SIG_DFL);
		if (ccmm_sweep_run_point(sw, point, paths, &row) || write_all(fds[1], row, strlen(row)))
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->fd = fds[0];
	c->point = point;
	return 0;
}

/* Read what @c wrote; at its end, its row. Returns 1 when the child is done. */
static int drain(struct child *c, char **rows)
{
	char tmp[65536];
	ssize_t n = read(c->fd, tmp, sizeof(tmp));
	int status;

	if (n < 0 && errno == EINTR)
		return 0;
	if (n > 0) {
		if (c->len + (size_t)n + 1 > c->cap) {
			size_t cap = (c->len + (size_t)n + 1) * 2;
			char *b = realloc(c->buf, cap);

			if (!b)
				return -ENOMEM;
			c->buf = b;
			c->cap = cap;
		}
		memcpy(c->buf + c->len, tmp, (size_t)n);
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		return 0;
	}
	close(c->fd);
	c->fd = -1;
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && !WEXITSTATUS(status) && c->len) {
		rows[c->point] = c->buf;
	} else {
		char why[128];

		if (WIFSIGNALED(status))
			snprintf(why, sizeof(why), "the point's process was killed by signal %d (%s)", WTERMSIG(status),
				 strsignal(WTERMSIG(status)));
		else
			snprintf(why, sizeof(why), "the point's process exited with status %d and no row",
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		free(c->buf);
		rows[c->point] = failed_row(c->point, why);
	}
	c->buf = NULL;
	return 1;
}

/* A metric given that the first point does not have: -ENOENT with the closest path it has. */
static int probe_check(const struct ccmm_sweep *sw, const char *row, struct ccmm_error *err)
{
	json_t *r = json_loads(row, 0, NULL), *paths, *values;
	int ret = 0;

	/* the defaults name what a subsystem's jobs may have (a replay's latencies): what this job lacks has no column */
	if (!r || !sw->metrics_given) {
		json_decref(r);
		return 0;
	}
	paths = json_object_get(r, "paths");
	values = json_object_get(r, "values");
	if (json_integer_value(json_object_get(r, "status")) == 2 || !json_is_array(paths)) {
		json_decref(r);
		return 0;
	}
	for (size_t m = 0; m < sw->nr_metrics && !ret; m++) {
		const char *near;
		const char **names;
		size_t np = json_array_size(paths);

		if (json_object_size(json_array_get(values, m)))
			continue;
		names = calloc(np + 1, sizeof(*names));
		for (size_t k = 0; names && k < np; k++)
			names[k] = json_string_value(json_array_get(paths, k));
		near = names ? ccmm_suggest(sw->metrics[m], names, np) : NULL;
		ret = ccmm_error_set(err, NULL, -ENOENT, "--metric %s: the run's report has no such figure%s%s%s",
				     sw->metrics[m], near ? "; did you mean '" : " (ccmm run JOB --json FILE shows them)",
				     near ? near : "", near ? "'?" : "");
		free(names);
	}
	json_decref(r);
	return ret;
}

int ccmm_sweep_run_local(const struct ccmm_sweep *sw, unsigned jobs, size_t offset, size_t stride, bool probe,
			 char **rows, FILE *progress, struct ccmm_error *err)
{
	size_t total = ccmm_sweep_points(sw), next = offset, done = 0, mine = 0;
	struct child *kids;
	unsigned active = 0;
	bool probing = probe;
	int ret = 0;

	if (!stride)
		stride = 1;
	jobs = CCMM_MIN(CCMM_MAX(jobs, 1u), 256u); /* as many as one poll() set below holds */
	for (size_t p = offset; p < total; p += stride)
		mine++;
	kids = calloc(jobs, sizeof(*kids));
	if (!kids)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	for (unsigned k = 0; k < jobs; k++)
		kids[k].fd = -1;
	while (done < mine) {
		struct pollfd pfd[256];
		unsigned map[256], np = 0;

		while (!ret && next < total && active < (probing ? 1u : jobs)) {
			unsigned k = 0;

			while (kids[k].fd >= 0)
				k++;
			ret = spawn(sw, next, probe && next == offset, &kids[k]);
			if (ret) {
				ccmm_error_set(err, NULL, ret, "cannot start a worker process: %s", strerror(-ret));
				break;
			}
			active++;
			next += stride;
		}
		if (ret && !active)
			break;
		for (unsigned k = 0; k < jobs && np < 256; k++) {
			if (kids[k].fd < 0)
				continue;
			pfd[np].fd = kids[k].fd;
			pfd[np].events = POLLIN;
			map[np++] = k;
		}
		if (poll(pfd, np, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = ccmm_error_set(err, NULL, -errno, "poll: %s", strerror(errno));
			break;
		}
		for (unsigned i = 0; i < np; i++) {
			struct child *c = &kids[map[i]];
			int r;

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			r = drain(c, rows);
			if (r < 0) {
				ret = ccmm_error_set(err, NULL, r, "out of memory");
				continue;
			}
			if (!r)
				continue;
			active--;
			done++;
			if (progress) {
				json_t *row = json_loads(rows[c->point], 0, NULL);

				fprintf(progress, "ccmm sweep: point %zu/%zu done, status %lld%s%s\n", c->point + 1, total,
					(long long)json_integer_value(json_object_get(row, "status")),
					json_is_string(json_object_get(row, "error")) ? ": " : "",
					json_is_string(json_object_get(row, "error")) ? json_string_value(json_object_get(row, "error"))
										     : "");
				json_decref(row);
			}
			if (probing && c->point == offset) {
				probing = false;
				if (!ret)
					ret = probe_check(sw, rows[c->point], err);
			}
		}
		if (ret && !active)
			break;
	}
	/* on an error, the children under way finish their point; nothing else starts */
	for (unsigned k = 0; k < jobs; k++) {
		while (kids[k].fd >= 0 && drain(&kids[k], rows) == 0)
			;
	}
	free(kids);
	return ret;
}

/* ---- the table ----------------------------------------------------------------------------- */

static bool has_column(json_t *cols, const char *name)
{
	size_t i;
	json_t *c;

	json_array_foreach(cols, i, c)
		if (!strcmp(json_string_value(c), name))
			return true;
	return false;
}

int ccmm_sweep_table(const struct ccmm_sweep *sw, char *const *rows, double wall_s, json_t **table,
		     struct ccmm_error *err)
{
	size_t total = ccmm_sweep_points(sw);
	json_t *t = json_object(), *keys = json_array(), *sets = json_array(), *cols = json_array(), *out = json_array();
	json_t **parsed = calloc(total ? total : 1, sizeof(*parsed));
	char ver[64];
	int ret = 0;

	if (!t || !parsed) {
		json_decref(t);
		json_decref(keys);
		json_decref(sets);
		json_decref(cols);
		json_decref(out);
		free(parsed);
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	}
	for (size_t p = 0; p < total; p++) {
		parsed[p] = rows[p] ? json_loads(rows[p], 0, NULL) : NULL;
		if (!parsed[p]) {
			char *f = failed_row(p, rows[p] ? "the point's row is not JSON" : "the point did not run");

			parsed[p] = json_loads(f, 0, NULL);
			free(f);
		}
	}
	/* columns: each metric, patterns expanded in the order the rows first show them */
	for (size_t m = 0; m < sw->nr_metrics; m++) {
		bool seen = false;

		for (size_t p = 0; p < total; p++) {
			json_t *vals = json_array_get(json_object_get(parsed[p], "values"), m);
			const char *k;
			json_t *v;

			json_object_foreach(vals, k, v) {
				seen = true;
				if (!has_column(cols, k))
					json_array_append_new(cols, json_string(k));
			}
		}
		if (!seen && !ccmm_jpath_is_pattern(sw->metrics[m])) {
			const char **names = NULL;
			size_t nn = 0;
			const char *near = NULL;
			bool ran = false;

			for (size_t p = 0; p < total; p++) {
				json_t *paths = json_object_get(parsed[p], "paths");
				size_t i;
				json_t *x;

				ran |= json_integer_value(json_object_get(parsed[p], "status")) != 2;
				json_array_foreach(paths, i, x) {
					const char **n2 = realloc(names, (nn + 1) * sizeof(*names));

					if (!n2)
						break;
					names = n2;
					names[nn++] = json_string_value(x);
				}
			}
			if (ran && !sw->metrics_given) {
				/* a default the job's runs do not have makes no column (the probe leaves defaults alone too) */
				free(names);
				continue;
			}
			if (ran) {
				near = names ? ccmm_suggest(sw->metrics[m], names, nn) : NULL;
				ret = ccmm_error_set(err, NULL, -ENOENT, "--metric %s: no point's report has such a figure%s%s%s",
						     sw->metrics[m], near ? "; did you mean '" : "", near ? near : "",
						     near ? "'?" : "");
			}
			free(names);
			if (ret)
				goto out;
			if (!has_column(cols, sw->metrics[m]))
				json_array_append_new(cols, json_string(sw->metrics[m]));
		}
	}
	snprintf(ver, sizeof(ver), "ccmm-%s", CCMM_VERSION);
	json_object_set_new(t, "kind", json_string("ccmm-sweep"));
	json_object_set_new(t, "ccmm version", json_string(ver));
	json_object_set_new(t, "job", json_string(sw->job));
	for (size_t i = 0; i < sw->nr_sets; i++) {
		const struct ccmm_setting *st = &sw->sets[i];
		char text[600];

		if (st->target == CCMM_SET_PLATFORM && !strcmp(st->section, "cost"))
			snprintf(text, sizeof(text), "cost.%s=%s", st->key, st->value);
		else if (st->target == CCMM_SET_PLATFORM && !strcmp(st->section, "platform"))
			snprintf(text, sizeof(text), "platform.%s=%s", st->key, st->value);
		else if (st->target == CCMM_SET_PLATFORM)
			snprintf(text, sizeof(text), "platform.%s.%s=%s", st->section, st->key, st->value);
		else if (!strcmp(st->section, "global"))
			snprintf(text, sizeof(text), "%s=%s", st->key, st->value);
		else
			snprintf(text, sizeof(text), "%s.%s=%s", st->section, st->key, st->value);
		json_array_append_new(sets, json_string(text));
	}
	json_object_set_new(t, "set", sets);
	sets = NULL;
	for (size_t a = 0; a < sw->nr_axes; a++)
		json_array_append_new(keys, json_string(sw->axes[a].key));
	json_object_set(t, "keys", keys);
	json_object_set(t, "metrics", cols);
	json_object_set_new(t, "points", json_integer((json_int_t)total));
	for (size_t p = 0; p < total; p++) {
		json_t *r = json_object(), *k = json_object(), *m = json_object(), *vals = json_object_get(parsed[p], "values");
		size_t rem = p, ci;
		json_t *col;
		size_t *idx = calloc(sw->nr_axes + 1, sizeof(*idx));

		for (size_t a = sw->nr_axes; idx && a--;) {
			idx[a] = rem % sw->axes[a].nr;
			rem /= sw->axes[a].nr;
		}
		for (size_t a = 0; idx && a < sw->nr_axes; a++)
			json_object_set_new(k, sw->axes[a].key, json_string(sw->axes[a].values[idx[a]]));
		free(idx);
		json_array_foreach(cols, ci, col) {
			json_t *v = NULL;

			for (size_t mi = 0; mi < json_array_size(vals) && !v; mi++)
				v = json_object_get(json_array_get(vals, mi), json_string_value(col));
			json_object_set(m, json_string_value(col), v ? v : json_null());
		}
		json_object_set_new(r, "point", json_integer((json_int_t)p));
		json_object_set_new(r, "keys", k);
		json_object_set(r, "status", json_object_get(parsed[p], "status"));
		json_object_set(r, "error", json_object_get(parsed[p], "error"));
		json_object_set_new(r, "metrics", m);
		json_object_set(r, "wall_s", json_object_get(parsed[p], "wall_s"));
		json_array_append_new(out, r);
	}
	json_object_set_new(t, "rows", out);
	out = NULL;
	json_object_set_new(t, "wall_s", json_real(wall_s));
out:
	json_decref(keys);
	json_decref(sets);
	json_decref(cols);
	json_decref(out);
	for (size_t p = 0; p < total; p++)
		json_decref(parsed[p]);
	free(parsed);
	if (ret) {
		json_decref(t);
		return ret;
	}
	*table = t;
	return 0;
}
