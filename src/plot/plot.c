// SPDX-License-Identifier: MIT
/*
 * Pictures through gnuplot (plot.h). Why gnuplot through a pipe rather than
 * a plotting library linked in: gnuplot is packaged everywhere ccmm builds
 * (Debian's gnuplot-nox, no X needed), draws PNG and SVG with proper text
 * and axes from one script, and the script it reads can be kept beside the
 * picture and edited by hand; running it as a child process keeps a
 * plotting library's allocations and threads out of ccmm (the suite runs
 * ccmm under ASan, UBSan and TSan).
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plot/plot.h"
#include "sweep/sweep.h"

#define MAX_MARKS 300        /* event lines per kind and picture (thinned evenly beyond) */
#define MAX_GROUP_PICTURES 64 /* pictures per metric for the combinations of keys beyond two */

static const char *gnuplot_path(void)
{
	const char *g = getenv("CCMM_GNUPLOT");

	return g && *g ? g : "gnuplot";
}

/* Run gnuplot on @script (stdin); its first error line goes to @err. 0, -ENOENT, -EIO. */
static int run_gnuplot(const char *script, struct ccmm_error *err)
{
	char errpath[] = "/tmp/ccmm-gnuplot-XXXXXX";
	int in[2], efd = mkstemp(errpath), status = 0;
	pid_t pid;
	size_t left = strlen(script);

	if (efd < 0)
		return ccmm_error_set(err, NULL, -errno, "gnuplot: cannot make a temporary file: %s", strerror(errno));
	unlink(errpath);
	if (pipe(in)) {
		close(efd);
		return ccmm_error_set(err, NULL, -errno, "gnuplot: pipe: %s", strerror(errno));
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(in[0]);
		close(in[1]);
		close(efd);
		return ccmm_error_set(err, NULL, -errno, "gnuplot: fork: %s", strerror(errno));
	}
	if (!pid) {
		int devnull = open("/dev/null", O_WRONLY);

		dup2(in[0], 0);
		dup2(devnull >= 0 ? devnull : efd, 1);
		dup2(efd, 2);
		close(in[1]);
		execlp(gnuplot_path(), gnuplot_path(), (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	{
		void (*old)(int) = signal(SIGPIPE, SIG_IGN);

		for (const char *p = script; left;) {
			ssize_t w = write(in[1], p, left);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			left -= (size_t)w;
		}
		signal(SIGPIPE, old);
	}
	close(in[1]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char msg[400] = "";
		ssize_t n = pread(efd, msg, sizeof(msg) - 1, 0);
		int ret = WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -ENOENT : -EIO;

		msg[n > 0 ? n : 0] = '\0';
		for (char *p = msg; *p; p++)
			if (*p == '\n')
				*p = ' ';
		close(efd);
		if (ret == -ENOENT)
			return ccmm_error_set(err, NULL, ret, "plots need gnuplot: '%s' cannot be run (apt-get install gnuplot-nox, "
					      "or set CCMM_GNUPLOT)", gnuplot_path());
		return ccmm_error_set(err, NULL, ret, "gnuplot failed: %s", msg[0] ? msg : "(no message)");
	}
	close(efd);
	return 0;
}

int ccmm_plot_available(struct ccmm_error *err)
{
	int ret = run_gnuplot("set term pngcairo\nset term svg\n", err);

	if (ret == -EIO)
		return ccmm_error_set(err, NULL, -ENOENT,
				      "plots need gnuplot with the pngcairo and svg terminals (apt-get install gnuplot-nox): %s",
				      err->msg);
	return ret;
}

/* ---- script text ------------------------------------------------------------------------ */

struct buf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void add(struct buf *b, const char *fmt, ...) CCMM_PRINTF(2, 3);

static void add(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		if (ccmm_grow((void **)&b->s, &b->cap, b->len + (size_t)n + 4096, 1)) {
			b->oom = true;
			return;
		}
	}
}

/* A name for a file: letters, digits, '.', '-', '_', at most 120 characters. */
static void file_name(const char *in, char *out, size_t len)
{
	size_t n = 0;

	for (; *in && n + 1 < len && n < 120; in++)
		out[n++] = (char)((*in >= 'a' && *in <= 'z') || (*in >= 'A' && *in <= 'Z') || (*in >= '0' && *in <= '9') ||
					  *in == '.' || *in == '-' || *in == '_'
				  ? *in
				  : '_');
	out[n] = '\0';
}

/* Text for a gnuplot string in single quotes ('' is a quote). */
static void quoted(struct buf *b, const char *s)
{
	add(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			add(b, "''");
		else if (*s == '\n')
			add(b, " ");
		else
			add(b, "%c", *s);
	}
	add(b, "'");
}

/* Labels are enhanced text: escape what gnuplot reads as markup. */
static void label(struct buf *b, const char *s)
{
	add(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			add(b, "''");
		else if (*s == '_' || *s == '^' || *s == '@' || *s == '&' || *s == '{' || *s == '}' || *s == '~')
			add(b, "\\%c", *s);
		else
			add(b, "%c", *s);
	}
	add(b, "'");
}

static int make_dir(const char *dir, struct ccmm_error *err)
{
	struct stat st;

	if (!stat(dir, &st)) {
		if (S_ISDIR(st.st_mode))
			return 0;
		return ccmm_error_set(err, NULL, -ENOTDIR, "%s: not a directory", dir);
	}
	if (mkdir(dir, 0777) && errno != EEXIST)
		return ccmm_error_set(err, NULL, -errno, "%s: cannot make the directory: %s", dir, strerror(errno));
	return 0;
}

/*
 * Finish a picture: PNG and SVG rendered to temporary names by the script
 * in @b (whose plot command is @plot), then renamed; NAME.gp written with
 * the final names.
 */
static int render(const char *dir, const char *name, const char *head, const char *plot, struct ccmm_error *err)
{
	struct buf b = { 0 }, keep = { 0 };
	char png[4200], svg[4200], gp[4200], tpng[4300], tsvg[4300], tgp[4300];
	FILE *f;
	int ret;

	snprintf(png, sizeof(png), "%s/%s.png", dir, name);
	snprintf(svg, sizeof(svg), "%s/%s.svg", dir, name);
	snprintf(gp, sizeof(gp), "%s/%s.gp", dir, name);
	snprintf(tpng, sizeof(tpng), "%s/.%s.png.tmp", dir, name);
	snprintf(tsvg, sizeof(tsvg), "%s/.%s.svg.tmp", dir, name);
	snprintf(tgp, sizeof(tgp), "%s/.%s.gp.tmp", dir, name);
	add(&b, "%s", head);
	add(&b, "set terminal pngcairo size 1100,640 enhanced font 'sans,10'\nset output ");
	quoted(&b, tpng);
	add(&b, "\n%s\nset terminal svg size 1100,640 enhanced font 'sans,10' background '#ffffff'\nset output ", plot);
	quoted(&b, tsvg);
	add(&b, "\n%s\nunset output\n", plot);
	/* the script a user can run again: the same, with the final names */
	add(&keep, "# drawn by ccmm; run 'gnuplot %s.gp' to draw it again\n%s", name, head);
	add(&keep, "set terminal pngcairo size 1100,640 enhanced font 'sans,10'\nset output ");
	quoted(&keep, png);
	add(&keep, "\n%s\nset terminal svg size 1100,640 enhanced font 'sans,10' background '#ffffff'\nset output ", plot);
	quoted(&keep, svg);
	add(&keep, "\n%s\nunset output\n", plot);
	if (b.oom || keep.oom) {
		free(b.s);
		free(keep.s);
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	}
	ret = run_gnuplot(b.s, err);
	if (!ret) {
		f = fopen(tgp, "w");
		if (!f || fputs(keep.s, f) < 0 || fclose(f)) {
			ret = ccmm_error_set(err, NULL, -EIO, "%s: cannot write the script", gp);
			f = NULL;
		}
	}
	if (!ret && (rename(tpng, png) || rename(tsvg, svg) || rename(tgp, gp)))
		ret = ccmm_error_set(err, NULL, -errno, "%s: cannot rename the pictures into place: %s", dir, strerror(errno));
	if (ret) {
		unlink(tpng);
		unlink(tsvg);
		unlink(tgp);
	}
	free(b.s);
	free(keep.s);
	return ret;
}

static const char style[] =
	"set grid lc rgb '#d8d8d8'\n"
	"set border lc rgb '#404040'\n"
	"set key outside right top box opaque\n"
	"set datafile missing 'NaN'\n";

/* Large values read better with SI prefixes (2.4M, 176.3k) than as 2.4x10^6: the y format for a maximum. */
static void y_format(struct buf *b, double ymax)
{
	if (fabs(ymax) >= 1e5)
		add(b, "set format y '%%.1s%%c'\n");
}

/* ---- time series ---------------------------------------------------------------------- */

struct marks {
	const char *kind;
	const char *color;
	double *t;
	size_t n, cap;
};

/* The time unit the x axis reads best in, for a run of @max_ns. */
static void time_unit(double max_ns, double *div, const char **unit)
{
	if (max_ns >= 10e9) {
		*div = 1e9;
		*unit = "s";
	} else if (max_ns >= 10e6) {
		*div = 1e6;
		*unit = "ms";
	} else if (max_ns >= 10e3) {
		*div = 1e3;
		*unit = "us";
	} else {
		*div = 1;
		*unit = "ns";
	}
}

static double value_at(json_t *values, size_t i)
{
	json_t *v = json_array_get(values, i);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void collect_marks(json_t *series, json_t *times, struct marks *mk, size_t nmk)
{
	json_t *s;
	size_t i;

	json_array_foreach(series, i, s) {
		const char *mark = json_string_value(json_object_get(s, "mark"));
		json_t *vals = json_object_get(s, "values");
		double prev = 0;

		for (size_t k = 0; mark && k < nmk; k++) {
			if (strcmp(mk[k].kind, mark))
				continue;
			for (size_t t = 0; t < json_array_size(vals); t++) {
				double v = value_at(vals, t);

				if (!isnan(v) && v > prev && !ccmm_grow((void **)&mk[k].t, &mk[k].cap, mk[k].n + 1, sizeof(double)))
					mk[k].t[mk[k].n++] = json_number_value(json_array_get(times, t));
				if (!isnan(v))
					prev = v;
			}
		}
	}
}

int ccmm_plot_series(json_t *report, const char *dir, struct ccmm_error *err)
{
	json_t *ser = json_object_get(report, "series"), *times = json_object_get(ser, "time_ns");
	json_t *list = json_object_get(ser, "series"), *s;
	struct marks mk[] = { { "reclaim", "#e69f00", NULL, 0, 0 },
			      { "oom", "#d62728", NULL, 0, 0 },
			      { "conversion", "#2ca02c", NULL, 0, 0 } };
	size_t nt = json_array_size(times), i, done = 0;
	double div, maxt;
	const char *unit;
	bool *drawn;
	int ret = 0;

	if (!json_is_array(list) || !nt || !json_array_size(list))
		return ccmm_error_set(err, NULL, -EINVAL, "the report has no time series (run with --interval T)");
	ret = make_dir(dir, err);
	if (ret)
		return ret;
	maxt = json_number_value(json_array_get(times, nt - 1));
	time_unit(maxt, &div, &unit);
	collect_marks(list, times, mk, CCMM_ARRAY_SIZE(mk));
	drawn = calloc(json_array_size(list), sizeof(*drawn));
	if (!drawn)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	json_array_foreach(list, i, s) {
		const char *name = json_string_value(json_object_get(s, "name"));
		const char *yunit = json_string_value(json_object_get(s, "unit"));
		struct buf head = { 0 }, plot = { 0 };
		char fname[160];
		size_t j, lines = 0;
		json_t *o;

		if (drawn[i] || !name)
			continue;
		add(&head, "%s", style);
		add(&head, "set title ");
		label(&head, name);
		add(&head, "\nset offsets 0, 0, graph 0.12, 0");
		add(&head, "\nset xlabel 'modeled time (%s)'\nset ylabel ", unit);
		label(&head, yunit ? yunit : "");
		add(&head, "\n");
		{
			double ymax = 0;

			json_array_foreach(list, j, o) {
				if (j < i || strcmp(json_string_value(json_object_get(o, "name")), name))
					continue;
				for (size_t t = 0; t < nt; t++) {
					double v = value_at(json_object_get(o, "values"), t);

					if (!isnan(v) && fabs(v) > ymax)
						ymax = fabs(v);
				}
			}
			y_format(&head, ymax);
		}
		add(&head, "$data << EOD\n");
		for (size_t t = 0; t < nt; t++) {
			add(&head, "%.9g", json_number_value(json_array_get(times, t)) / div);
			json_array_foreach(list, j, o) {
				if (j < i || strcmp(json_string_value(json_object_get(o, "name")), name))
					continue;
				double v = value_at(json_object_get(o, "values"), t);

				if (isnan(v))
					add(&head, " NaN");
				else
					add(&head, " %.17g", v);
			}
			add(&head, "\n");
		}
		add(&head, "EOD\n");
		/* event lines */
		for (size_t k = 0; k < CCMM_ARRAY_SIZE(mk); k++) {
			size_t every = mk[k].n > MAX_MARKS ? (mk[k].n + MAX_MARKS - 1) / MAX_MARKS : 1;

			/* a rug of ticks per kind along the top: reclaim highest, then OOM, then conversions */
			double hi = 1.0 - 0.035 * (double)k, lo = hi - 0.03;

			for (size_t e = 0; e < mk[k].n; e += every)
				add(&head, "set arrow from %.9g, graph %.3f to %.9g, graph %.3f nohead lc rgb '%s' lw 1.5 front\n",
				    mk[k].t[e] / div, lo, mk[k].t[e] / div, hi, mk[k].color);
		}
		add(&plot, "plot");
		json_array_foreach(list, j, o) {
			const char *lab = json_string_value(json_object_get(o, "label"));

			if (j < i || strcmp(json_string_value(json_object_get(o, "name")), name))
				continue;
			drawn[j] = true;
			add(&plot, "%s $data using 1:%zu with steps lw 2 title ", lines ? "," : "", lines + 2);
			label(&plot, lab && *lab ? lab : name);
			lines++;
		}
		for (size_t k = 0; k < CCMM_ARRAY_SIZE(mk); k++)
			if (mk[k].n)
				add(&plot, ", NaN with impulses lc rgb '%s' lw 2 title '%s events (%zu)'", mk[k].color,
				    mk[k].kind, mk[k].n);
		file_name(name, fname, sizeof(fname));
		if (head.oom || plot.oom)
			ret = ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
		else
			ret = render(dir, fname, head.s, plot.s, err);
		free(head.s);
		free(plot.s);
		if (ret)
			break;
		done++;
	}
	free(drawn);
	for (size_t k = 0; k < CCMM_ARRAY_SIZE(mk); k++)
		free(mk[k].t);
	return ret ? ret : (int)done;
}

/* ---- sweep tables ---------------------------------------------------------------------- */

/* What a metric counts, from its name, for the y axis. */
static const char *metric_unit(const char *m)
{
	size_t n = strlen(m);
	const char *last = strrchr(m, '.');

	last = last ? last + 1 : m;
	if (strstr(m, "clat_ns") || strstr(m, "lat_ns") || (n > 3 && !strcmp(m + n - 3, "_ns")) || !strcmp(last, "ns"))
		return "modeled ns";
	if (strstr(last, "bytes"))
		return "bytes";
	if (strstr(last, "pages"))
		return "pages";
	if (n > 2 && !strcmp(m + n - 2, "_s"))
		return "s";
	if (strstr(last, "fairness"))
		return "Jain's index";
	return "count";
}

static bool numeric(const char *s, double *x)
{
	char *end;

	if (!s || !*s)
		return false;
	*x = strtod(s, &end);
	return !*end;
}

static const char *row_key(json_t *row, json_t *keys, size_t k)
{
	return json_string_value(json_object_get(json_object_get(row, "keys"), json_string_value(json_array_get(keys, k))));
}

/* Distinct values of key @k in row order. */
static json_t *distinct(json_t *rows, json_t *keys, size_t k)
{
	json_t *out = json_array(), *r, *x;
	size_t i, j;

	json_array_foreach(rows, i, r) {
		const char *v = row_key(r, keys, k);
		bool seen = false;

		json_array_foreach(out, j, x)
			seen |= !strcmp(json_string_value(x), v ? v : "");
		if (!seen)
			json_array_append_new(out, json_string(v ? v : ""));
	}
	return out;
}

/* Whether @row belongs to the group whose other keys (beyond the first two) match @proto's. */
static bool same_group(json_t *row, json_t *proto, json_t *keys)
{
	for (size_t k = 2; k < json_array_size(keys); k++) {
		const char *a = row_key(row, keys, k), *b = row_key(proto, keys, k);

		if (!a || !b || strcmp(a, b))
			return false;
	}
	return true;
}

static int plot_metric(json_t *table, const char *metric, json_t *proto, const char *dir, struct ccmm_error *err)
{
	json_t *keys = json_object_get(table, "keys"), *rows = json_object_get(table, "rows");
	json_t *xs = distinct(rows, keys, 0), *ls = json_array_size(keys) > 1 ? distinct(rows, keys, 1) : json_array();
	size_t nl = json_array_size(ls) ? json_array_size(ls) : 1, i, l, ri, points = 0;
	bool xnum = true;
	struct buf head = { 0 }, plot = { 0 };
	char fname[400], suffix[300] = "";
	json_t *x;
	int ret = 0;

	json_array_foreach(xs, i, x) {
		double d;

		xnum &= numeric(json_string_value(x), &d);
	}
	add(&head, "%s", style);
	add(&head, "set title ");
	{
		char t[600];
		size_t used = (size_t)snprintf(t, sizeof(t), "%s", metric);

		for (size_t k = 2; k < json_array_size(keys); k++)
			used += (size_t)snprintf(t + used, used < sizeof(t) ? sizeof(t) - used : 0, "%s%s=%s", k == 2 ? " at " : ", ",
						 json_string_value(json_array_get(keys, k)), row_key(proto, keys, k));
		label(&head, t);
	}
	add(&head, "\nset xlabel ");
	label(&head, json_string_value(json_array_get(keys, 0)));
	add(&head, "\nset ylabel ");
	label(&head, metric_unit(metric));
	add(&head, "\n");
	{
		double ymax = 0;
		json_t *r;

		json_array_foreach(rows, ri, r) {
			json_t *v = json_object_get(json_object_get(r, "metrics"), metric);

			if (json_is_number(v) && fabs(json_number_value(v)) > ymax)
				ymax = fabs(json_number_value(v));
		}
		y_format(&head, ymax);
	}
	if (!xnum) {
		add(&head, "set xtics (");
		json_array_foreach(xs, i, x) {
			add(&head, "%s", i ? ", " : "");
			label(&head, json_string_value(x));
			add(&head, " %zu", i);
		}
		add(&head, ")\nset xrange [-0.5:%zu.5]\n", json_array_size(xs) - 1);
	} else {
		add(&head, "set offsets graph 0.02, graph 0.02, graph 0.05, graph 0.05\n");
	}
	add(&plot, "plot");
	for (l = 0; l < nl; l++) {
		const char *lv = json_array_size(ls) ? json_string_value(json_array_get(ls, l)) : NULL;
		size_t n = 0;
		json_t *r;

		add(&head, "$d%zu << EOD\n", l);
		json_array_foreach(xs, i, x) {
			json_array_foreach(rows, ri, r) {
				json_t *v = json_object_get(json_object_get(r, "metrics"), metric);
				double xv = (double)i;

				if (json_integer_value(json_object_get(r, "status")) == 2 || !json_is_number(v) ||
				    strcmp(row_key(r, keys, 0), json_string_value(x)) || (lv && strcmp(row_key(r, keys, 1), lv)) ||
				    !same_group(r, proto, keys))
					continue;
				if (xnum)
					numeric(json_string_value(x), &xv);
				add(&head, "%.17g %.17g\n", xv, json_number_value(v));
				n++;
			}
		}
		add(&head, "EOD\n");
		add(&plot, "%s $d%zu using 1:2 with linespoints lw 2 pt 7 ps 1.2 title ", l ? "," : "", l);
		if (lv) {
			char t[400];

			snprintf(t, sizeof(t), "%s=%s", json_string_value(json_array_get(keys, 1)), lv);
			label(&plot, t);
		} else {
			label(&plot, metric);
		}
		points += n;
	}
	for (size_t k = 2; k < json_array_size(keys); k++) {
		size_t used = strlen(suffix);

		snprintf(suffix + used, sizeof(suffix) - used, "--%s=%s", json_string_value(json_array_get(keys, k)),
			 row_key(proto, keys, k));
	}
	{
		char raw[700];

		snprintf(raw, sizeof(raw), "%s%s", metric, suffix);
		file_name(raw, fname, sizeof(fname));
	}
	if (head.oom || plot.oom)
		ret = ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	else if (points)
		ret = render(dir, fname, head.s, plot.s, err);
	free(head.s);
	free(plot.s);
	json_decref(xs);
	json_decref(ls);
	return ret ? ret : points ? 1 : 0;
}

int ccmm_plot_table(json_t *table, const char *dir, struct ccmm_error *err)
{
	json_t *keys = json_object_get(table, "keys"), *rows = json_object_get(table, "rows"), *m;
	size_t i;
	int done = 0, ret;

	if (!ccmm_json_is_table(table))
		return ccmm_error_set(err, NULL, -EINVAL, "not a sweep table");
	if (!json_array_size(keys))
		return ccmm_error_set(err, NULL, -EINVAL, "the sweep varies no key: nothing to draw against");
	ret = make_dir(dir, err);
	if (ret)
		return ret;
	json_array_foreach(json_object_get(table, "metrics"), i, m) {
		json_t *r, *groups = json_array();
		size_t j, g, pictures = 0;

		/* one picture per combination of the keys beyond the first two */
		json_array_foreach(rows, j, r) {
			bool seen = false;
			json_t *p;

			json_array_foreach(groups, g, p)
				seen |= same_group(r, p, keys);
			if (!seen && json_array_size(groups) < MAX_GROUP_PICTURES)
				json_array_append(groups, r);
		}
		json_array_foreach(groups, g, r) {
			ret = plot_metric(table, json_string_value(m), r, dir, err);
			if (ret < 0)
				break;
			pictures += (size_t)ret;
		}
		json_decref(groups);
		if (ret < 0)
			return ret;
		done += (int)pictures;
	}
	if (!done)
		return ccmm_error_set(err, NULL, -EINVAL, "no metric of the sweep has a number to draw");
	return done;
}
