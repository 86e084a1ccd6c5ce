// SPDX-License-Identifier: MIT
/*
 * ccmm-mkdoc - the man pages and the bash completion of ccmm, generated
 * from the tables the code itself uses, so they cannot drift from it:
 *
 *   ccmm(1)            the command table (commands.c) and each command's
 *                      option table, the global options, the exit statuses
 *   ccmm-job(5)        the engine's and every run extension's [global]
 *                      options, every actor kind's options and ops with
 *                      their arguments, the common ops
 *   ccmm-platform(5)   the platform reader's section and key tables, every
 *                      registered cost with its default and source
 *   ccmm-NAME(7)       per registered subsystem: its rules (with the kernel
 *                      function or seed thread each follows), costs,
 *                      counters, actor kinds and [global] options
 *
 * The prose lives in man/PAGE.in: roff, with directives on lines of their
 * own where the tables go (@@commands, @@rules ...), and, for a subsystem's
 * page, one "@@rule NAME" paragraph per rule saying what it follows. A rule
 * without its paragraph, a paragraph for a rule that does not exist, a
 * table entry without help text, or a subsystem without a page is an error:
 * the build fails and "ccmm-mkdoc check" (a test) says which.
 *
 *   ccmm-mkdoc man PAGE IN OUT     write man page PAGE ("ccmm.1", "ccmm-dma.7") from IN
 *   ccmm-mkdoc completion OUT      write the bash completion
 *   ccmm-mkdoc check MANDIR        TAP: every table entry documented
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "boot/boot.h"
#include "ccmm_config.h"
#include "cli/internal.h"
#include "report/report.h"
#include "scenario/scenario.h"

#define MAX_PARAS 256

/* A man page's hand-written part, read from PAGE.in. */
struct page_src {
	char *text;                 /* the whole file, NUL-terminated; the pieces below point into it */
	size_t len;
	char summary[256];          /* @@summary: the NAME line's description */
	struct {
		char name[64];      /* @@rule NAME */
		const char *body;   /* up to the next directive */
		size_t len;
		bool used;
	} para[MAX_PARAS];
	size_t nr_para;
};

static int problems; /* errors found while generating (drift) */

static void problem(const char *fmt, ...) CCMM_PRINTF(1, 2);
static void problem(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ccmm-mkdoc: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	problems++;
}

/* ---- roff -------------------------------------------------------------------------- */

/* Text as roff: backslashes escaped, a line never starting with '.' or '\''. */
static void roff(FILE *out, const char *s)
{
	bool bol = true;

	for (; *s; s++) {
		if (bol && (*s == '.' || *s == '\''))
			fputs("\\&", out);
		if (*s == '\\')
			fputs("\\e", out);
		else
			fputc(*s, out);
		bol = *s == '\n';
	}
}

/* An option or key name in bold, its hyphens as hyphen-minus (so it can be copied and searched). */
static void roff_name(FILE *out, const char *prefix, const char *s)
{
	fputs("\\fB", out);
	for (const char *p = prefix; *p; p++)
		fputs(*p == '-' ? "\\-" : (char[]){ *p, 0 }, out);
	for (; *s; s++) {
		if (*s == '-')
			fputs("\\-", out);
		else if (*s == '\\')
			fputs("\\e", out);
		else
			fputc(*s, out);
	}
	fputs("\\fR", out);
}

/* A paragraph of plain text that may hold blank-line paragraph breaks. */
static void roff_paras(FILE *out, const char *s)
{
	const char *p = s;

	while (*p) {
		const char *end = strstr(p, "\n\n");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *one = strndup(p, len);

		if (one) {
			fputs(".PP\n", out);
			roff(out, one);
			fputc('\n', out);
			free(one);
		}
		p += len;
		while (*p == '\n')
			p++;
	}
}

static void need_text(const char *what, const char *name, const char *text)
{
	if (!text || !*text)
		problem("%s '%s' has no help text", what, name);
}

/* ---- the hand-written part ---------------------------------------------------------- */

static bool is_directive(const char *line, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(line, "@@", 2) && !strncmp(line + 2, name, n) &&
	       (line[2 + n] == '\n' || line[2 + n] == ' ' || line[2 + n] == '\0');
}

/* The next line of [*@pos, @end): its start, its length without the newline; *@pos moves past it. */
static const char *next_line(const char **pos, const char *end, size_t *len)
{
	const char *line = *pos, *eol = memchr(line, '\n', (size_t)(end - line));

	*len = eol ? (size_t)(eol - line) : (size_t)(end - line);
	*pos = eol ? eol + 1 : end;
	return line;
}

static int page_src_read(const char *path, struct page_src *ps)
{
	const char *pos, *end;
	int ret;

	memset(ps, 0, sizeof(*ps));
	ret = ccmm_read_text(path, &ps->text);
	if (ret) {
		problem("%s: %s", path, strerror(-ret));
		return ret;
	}
	ps->len = strlen(ps->text);
	pos = ps->text;
	end = ps->text + ps->len;
	while (pos < end) {
		size_t len;
		const char *line = next_line(&pos, end, &len);

		if (is_directive(line, "summary")) {
			snprintf(ps->summary, sizeof(ps->summary), "%.*s", (int)(len > 10 ? len - 10 : 0), line + 10);
		} else if (is_directive(line, "rule")) {
			const char *body = pos;

			if (ps->nr_para == MAX_PARAS) {
				problem("%s: more than %d @@rule paragraphs", path, MAX_PARAS);
				return -E2BIG;
			}
			while (pos < end && strncmp(pos, "@@", 2)) {
				size_t l;

				next_line(&pos, end, &l);
			}
			snprintf(ps->para[ps->nr_para].name, sizeof(ps->para[0].name), "%.*s", (int)(len > 7 ? len - 7 : 0),
				 line + 7);
			ps->para[ps->nr_para].body = body;
			ps->para[ps->nr_para].len = (size_t)(pos - body);
			ps->nr_para++;
		}
	}
	if (!ps->summary[0])
		problem("%s: no @@summary line", path);
	return 0;
}

/* A line of the page source, with @DATADIR@ made the installed share folder. */
static void copy_line(FILE *out, const char *line, size_t len)
{
	static const char key[] = "@DATADIR@";
	const char *end = line + len;

	while (line < end) {
		const char *hit = memmem(line, (size_t)(end - line), key, sizeof(key) - 1);

		if (!hit) {
			fwrite(line, 1, (size_t)(end - line), out);
			break;
		}
		fwrite(line, 1, (size_t)(hit - line), out);
		fputs(ccmm_datadir(), out);
		line = hit + sizeof(key) - 1;
	}
	fputc('\n', out);
}

/*
 * Copy the page source to @out, calling @gen for each other directive
 * (@@rule paragraphs and @@summary are not copied: they are used where the
 * tables go; roff comments are dropped).
 */
static void page_src_emit(FILE *out, const struct page_src *ps, void (*gen)(FILE *out, const char *directive, void *ctx),
			  void *ctx)
{
	const char *pos = ps->text, *end = ps->text + ps->len;

	while (pos < end) {
		size_t len;
		const char *line = next_line(&pos, end, &len);
		char dir[64];

		if (strncmp(line, "@@", 2)) {
			if (strncmp(line, ".\\\"", 3))
				copy_line(out, line, len);
			continue;
		}
		snprintf(dir, sizeof(dir), "%.*s", (int)CCMM_MIN(len - 2, sizeof(dir) - 1), line + 2);
		if (!strncmp(dir, "rule ", 5)) { /* skip its paragraph */
			while (pos < end && strncmp(pos, "@@", 2))
				next_line(&pos, end, &len);
		} else if (strncmp(dir, "summary ", 8)) {
			gen(out, dir, ctx);
		}
	}
}

static void page_head(FILE *out, const char *name, int section, const char *summary)
{
	char upper[64];
	size_t i;

	for (i = 0; name[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
	upper[i] = '\0';
	fprintf(out, ".\\\" Generated by ccmm-mkdoc from man/%s.%d.in and the tables of ccmm %s: do not edit.\n", name,
		section, CCMM_VERSION);
	fprintf(out, ".TH \"%s\" \"%d\" \"\" \"ccmm %s\" \"ccmm\"\n.SH NAME\n", upper, section, CCMM_VERSION);
	roff_name(out, "", name);
	fputs(" \\- ", out);
	roff(out, summary ? summary : "");
	fputc('\n', out);
}

/* ---- option tables ------------------------------------------------------------------- */

/* Every option of @opts as a .TP list: name, type and default, help. */
static void option_table(FILE *out, const struct ccmm_option *opts, const char *where)
{
	for (const struct ccmm_option *o = opts; o && o->name; o++) {
		char type[256];

		need_text(where, o->name, o->help);
		_ccmm_cli_option_type(o, true, type, sizeof(type));
		fputs(".TP\n", out);
		roff_name(out, "", o->name);
		fputs(" = \\fI", out);
		roff(out, type);
		fputs("\\fR", out);
		if (_ccmm_cli_option_default(o)) {
			fputs(" (default ", out);
			roff(out, _ccmm_cli_option_default(o));
			fputc(')', out);
		}
		fputc('\n', out);
		roff(out, o->help ? o->help : "");
		fputc('\n', out);
	}
}

static void verb_entry(FILE *out, const struct ccmm_verb *v, const char *kind)
{
	char where[96];

	snprintf(where, sizeof(where), "op of %s", kind);
	need_text(where, v->name, v->help);
	fputs(".TP\n\\fBop = ", out);
	roff(out, v->name);
	fputs("\\fR", out);
	for (const struct ccmm_arg_spec *a = v->args; a && a->name; a++) {
		if (a->positional && a->required)
			fprintf(out, " \\fI%s\\fR", a->name);
		else if (a->positional)
			fprintf(out, " [\\fI%s\\fR]", a->name);
		else
			fprintf(out, " [%s=\\fI%s\\fR]", a->name, a->def ? a->def : "...");
	}
	fputs(" [ret=\\fIERRNO\\fR]\n", out);
	roff(out, v->help ? v->help : "");
	fputc('\n', out);
	for (const struct ccmm_arg_spec *a = v->args; a && a->name; a++) {
		snprintf(where, sizeof(where), "argument of op %s (%s)", v->name, kind);
		need_text(where, a->name, a->help);
		fputs(".RS\n.TP\n", out);
		fprintf(out, "\\fI%s\\fR", a->name);
		if (a->def)
			fprintf(out, " (default %s)", a->def);
		fputc('\n', out);
		roff(out, a->help ? a->help : "");
		fputs("\n.RE\n", out);
	}
}

static void kind_entry(FILE *out, const struct ccmm_actor_kind *k)
{
	need_text("actor kind", k->name, k->help);
	fputs(".SS ", out);
	roff_name(out, "actor = ", k->name);
	fputc('\n', out);
	roff(out, k->help ? k->help : "");
	fputs("\n.PP\nOptions:\n", out);
	option_table(out, k->options, "option of an actor kind");
	fputs(".PP\nOps:\n", out);
	for (const struct ccmm_verb *v = k->verbs; v && v->name; v++)
		verb_entry(out, v, k->name);
}

/* ---- ccmm(1) --------------------------------------------------------------------------- */

static void cli_opt_entry(FILE *out, const struct cli_option *o, const char *cmd)
{
	char where[64];

	snprintf(where, sizeof(where), "option of ccmm %s", cmd);
	need_text(where, o->name, o->help);
	fputs(".TP\n", out);
	if (o->key > 0 && o->key < 256)
		fprintf(out, "\\fB\\-%c\\fR, ", o->key);
	roff_name(out, "--", o->name);
	if (o->arg) {
		fputs("=\\fI", out);
		roff(out, o->arg);
		fputs("\\fR", out);
	}
	fputc('\n', out);
	roff(out, o->help ? o->help : "");
	fputc('\n', out);
}

static void gen_ccmm1(FILE *out, const char *dir, void *ctx)
{
	if (!strcmp(dir, "synopsis")) {
		fputs(".SH SYNOPSIS\n", out);
		for (size_t i = 0; _ccmm_cli_commands[i]; i++) {
			const struct cli_command *c = _ccmm_cli_commands[i];

			fputs(".br\n\\fBccmm\\fR [\\fIOPTIONS\\fR] ", out);
			roff_name(out, "", c->name);
			if (c->opts && c->opts->name)
				fputs(" [\\fIOPTIONS\\fR]", out);
			if (c->args && *c->args) {
				fputs(" \\fI", out);
				roff(out, c->args);
				fputs("\\fR", out);
			}
			fputc('\n', out);
		}
	} else if (!strcmp(dir, "commands")) {
		fputs(".SH COMMANDS\n", out);
		for (size_t i = 0; _ccmm_cli_commands[i]; i++) {
			const struct cli_command *c = _ccmm_cli_commands[i];

			need_text("command", c->name, c->summary);
			fputs(".SS ", out);
			roff_name(out, "ccmm ", c->name);
			if (c->args && *c->args) {
				fputs(" \\fI", out);
				roff(out, c->args);
				fputs("\\fR", out);
			}
			fputs("\n", out);
			roff(out, c->summary ? c->summary : "");
			fputs(".\n", out);
			if (c->description)
				roff_paras(out, c->description);
			for (const struct cli_option *o = c->opts; o && o->name; o++)
				cli_opt_entry(out, o, c->name);
			fputs(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nprint the command's help and exit\n", out);
		}
	} else if (!strcmp(dir, "global-options")) {
		fputs(".SH OPTIONS\nccmm's own options come before the command.\n", out);
		for (const struct cli_option *o = _ccmm_cli_global_opts; o->name; o++)
			cli_opt_entry(out, o, "(global)");
	} else if (!strcmp(dir, "exit-status")) {
		fputs(".SH EXIT STATUS\n", out);
		for (const struct cli_exit_status *e = _ccmm_cli_exit_statuses; e->meaning; e++) {
			fprintf(out, ".TP\n.B %d\n", e->status);
			roff(out, e->meaning);
			fputc('\n', out);
		}
	} else {
		problem("ccmm.1.in: unknown directive @@%s", dir);
	}
	(void)ctx;
}

/* ---- ccmm-job(5) ------------------------------------------------------------------------ */

static void gen_job5(FILE *out, const char *dir, void *ctx)
{
	const struct ccmm_run_ext *x;
	const struct ccmm_kind_set *set;

	if (!strcmp(dir, "global")) {
		fputs(".SH [GLOBAL] OPTIONS\nThe engine's own:\n", out);
		option_table(out, ccmm_job_global_options(), "[global] option");
		for (size_t i = 0; (x = ccmm_run_ext_at(i)); i++) {
			if (!x->options || !x->options->name)
				continue;
			fprintf(out, ".PP\nOf the \\fB%s\\fR run extension:\n", x->name);
			option_table(out, x->options, "[global] option");
		}
	} else if (!strcmp(dir, "kinds")) {
		fputs(".SH ACTOR KINDS\nEach section other than [global] is an actor: \\fBactor = \\fIKIND\\fR, the kind's "
		      "options, \\fBexpect\\fR, \\fBloops\\fR and its \\fBop\\fR lines.\n",
		      out);
		for (size_t s = 0; (set = ccmm_kind_set_at(s)); s++)
			for (size_t k = 0; set->kinds && set->kinds[k]; k++)
				kind_entry(out, set->kinds[k]);
	} else if (!strcmp(dir, "common-ops")) {
		fputs(".SH OPS EVERY ACTOR HAS\n", out);
		for (const struct ccmm_verb *v = ccmm_common_verbs; v->name; v++)
			verb_entry(out, v, "every kind");
	} else {
		problem("ccmm-job.5.in: unknown directive @@%s", dir);
	}
	(void)ctx;
}

/* ---- ccmm-platform(5) -------------------------------------------------------------------- */

static void cost_table(FILE *out, const char *only_subsys)
{
	const struct ccmm_cost_info *c;
	const char *sub;

	for (unsigned i = 0; (c = ccmm_cost_at(i, &sub)); i++) {
		size_t n = strlen(c->name);

		if (only_subsys && strcmp(sub, only_subsys))
			continue;
		need_text("cost", c->name, c->source);
		fputs(".TP\n", out);
		roff_name(out, "", c->name);
		fprintf(out, " = %" PRIu64 " %s (%s)\n", c->def, n > 5 && !strcmp(c->name + n - 5, "_mbps") ? "MB/s" : "ns", sub);
		roff(out, c->source ? c->source : "");
		fputc('\n', out);
	}
}

static void counter_table(FILE *out, const char *only_subsys)
{
	const struct ccmm_counter_info *k;
	const char *sub;

	for (unsigned i = 0; (k = ccmm_counter_at(i, &sub)); i++) {
		if (only_subsys && strcmp(sub, only_subsys))
			continue;
		need_text("counter", k->name, k->help);
		fputs(".TP\n", out);
		roff_name(out, "", k->name);
		fputc('\n', out);
		roff(out, k->help ? k->help : "");
		fputc('\n', out);
	}
}

static void gen_platform5(FILE *out, const char *dir, void *ctx)
{
	const struct ccmm_platform_section *s;

	if (!strcmp(dir, "sections")) {
		for (size_t i = 0; (s = ccmm_platform_section_at(i)); i++) {
			need_text("platform section", s->name, s->help);
			fprintf(out, ".SS [%s]\n", s->name);
			roff(out, s->help ? s->help : "");
			fputc('\n', out);
			if (s->options)
				option_table(out, s->options, "platform key");
		}
	} else if (!strcmp(dir, "costs")) {
		fputs(".SH COSTS\nEvery registered cost, with its default and source: a [cost] line sets one by name.\n", out);
		cost_table(out, NULL);
	} else {
		problem("ccmm-platform.5.in: unknown directive @@%s", dir);
	}
	(void)ctx;
}

/* ---- ccmm-SUBSYSTEM(7) ------------------------------------------------------------------- */

struct subsys_ctx {
	const struct ccmm_subsys *sub;
	struct page_src *ps;
	const char *path;
};

static const struct ccmm_kind_set *kind_set_of(const char *name)
{
	const struct ccmm_kind_set *set;

	for (size_t s = 0; (set = ccmm_kind_set_at(s)); s++)
		if (!strcmp(set->name, name))
			return set;
	return NULL;
}

static void gen_subsys7(FILE *out, const char *dir, void *vctx)
{
	struct subsys_ctx *ctx = vctx;
	const struct ccmm_subsys *sub = ctx->sub;
	const struct ccmm_kind_set *set = kind_set_of(sub->name);

	if (!strcmp(dir, "rules")) {
		fputs(".SH RULES\n", out);
		if (!sub->rules || !sub->rules[0])
			fputs("This subsystem declares no rules of its own: what goes wrong in it is reported through the "
			      "access checker's (ccmm\\-check(7)).\n",
			      out);
		for (size_t i = 0; sub->rules && sub->rules[i]; i++) {
			const struct ccmm_rule *r = sub->rules[i];
			bool found = false;

			need_text("rule", r->name, r->summary);
			fputs(".TP\n", out);
			roff_name(out, "", r->name);
			if (r->seed[0])
				fprintf(out, " (seed thread %s)", r->seed);
			fputc('\n', out);
			roff(out, r->summary);
			fputs(".\n", out);
			for (size_t p = 0; p < ctx->ps->nr_para; p++) {
				if (strcmp(ctx->ps->para[p].name, r->name))
					continue;
				found = ctx->ps->para[p].used = true;
				fputs(".IP\n", out);
				fwrite(ctx->ps->para[p].body, 1, ctx->ps->para[p].len, out);
			}
			if (!found)
				problem("%s: rule %s has no '@@rule %s' paragraph (what kernel function or seed thread it follows)",
					ctx->path, r->name, r->name);
		}
	} else if (!strcmp(dir, "costs")) {
		fputs(".SH COSTS\n", out);
		if (!sub->block || !sub->block->nr_costs)
			fputs("None of its own: it charges the machine's (ccmm\\-platform(5)).\n", out);
		else
			cost_table(out, sub->block->name);
		fputs(".SH COUNTERS\n", out);
		if (!sub->block || !sub->block->nr_counters)
			fputs("None of its own.\n", out);
		else
			counter_table(out, sub->block->name);
	} else if (!strcmp(dir, "kinds")) {
		fputs(".SH ACTOR KINDS AND [GLOBAL] OPTIONS\n", out);
		if (!set) {
			fputs("No actor kinds of its own; ccmm\\-job(5) lists every kind.\n", out);
			return;
		}
		if (set->kinds && set->kinds[0])
			fputs("Job files drive this subsystem through these actor kinds (ccmm\\-job(5) has their options and ops):\n",
			      out);
		else
			fputs("No actor kinds of its own; ccmm\\-job(5) lists every kind.\n", out);
		for (size_t k = 0; set->kinds && set->kinds[k]; k++) {
			fputs(".TP\n", out);
			roff_name(out, "", set->kinds[k]->name);
			fputc('\n', out);
			roff(out, set->kinds[k]->help);
			fputc('\n', out);
		}
		if (set->ext && set->ext->options && set->ext->options->name) {
			fputs(".PP\nIts [global] options:\n", out);
			option_table(out, set->ext->options, "[global] option");
		}
	} else {
		problem("%s: unknown directive @@%s", ctx->path, dir);
	}
}

/* ---- pages ------------------------------------------------------------------------------ */

static const char *const fixed_pages[] = { "ccmm.1", "ccmm-job.5", "ccmm-platform.5", NULL };

static void see_also(FILE *out, const char *self)
{
	const struct ccmm_subsys *s;
	char name[80];
	bool first = true;

	fputs(".SH SEE ALSO\n", out);
	for (size_t i = 0; fixed_pages[i]; i++) {
		if (!strcmp(fixed_pages[i], self))
			continue;
		snprintf(name, sizeof(name), "%s", fixed_pages[i]);
		*strrchr(name, '.') = '\0';
		fprintf(out, "%s\\fB%s\\fR(%s)", first ? "" : ",\n", name, strrchr(fixed_pages[i], '.') + 1);
		first = false;
	}
	for (size_t i = 0; (s = ccmm_subsys_at(i)); i++) {
		snprintf(name, sizeof(name), "ccmm-%s.7", s->name);
		if (strcmp(name, self))
			fprintf(out, ",\n\\fBccmm\\-%s\\fR(7)", s->name);
	}
	fputs(".\nThe seed threads that are ccmm's specification: ", out);
	for (int i = 0; i < 10; i++) {
		char id[8];
		const char *subject;

		snprintf(id, sizeof(id), "%03d", i);
		subject = ccmm_seed_thread_subject(id);
		if (subject) {
			fprintf(out, "%s%s, \"", i ? "; " : "", id);
			roff(out, subject);
			fputc('"', out);
		}
	}
	fputs(".\n", out);
}

static int write_page(const char *page, const char *in, FILE *out)
{
	struct page_src ps;
	char name[80];
	const char *dot = strrchr(page, '.');
	int section = dot ? atoi(dot + 1) : 0;

	if (!dot || section < 1 || section > 8 || (size_t)(dot - page) >= sizeof(name)) {
		problem("%s: not a man page name (NAME.SECTION)", page);
		return -EINVAL;
	}
	snprintf(name, sizeof(name), "%.*s", (int)(dot - page), page);
	if (page_src_read(in, &ps))
		return -EINVAL;
	page_head(out, name, section, ps.summary);
	if (!strcmp(page, "ccmm.1")) {
		page_src_emit(out, &ps, gen_ccmm1, NULL);
	} else if (!strcmp(page, "ccmm-job.5")) {
		page_src_emit(out, &ps, gen_job5, NULL);
	} else if (!strcmp(page, "ccmm-platform.5")) {
		page_src_emit(out, &ps, gen_platform5, NULL);
	} else if (section == 7 && !strncmp(name, "ccmm-", 5)) {
		const struct ccmm_subsys *s = NULL;
		struct subsys_ctx ctx;

		for (size_t i = 0; (s = ccmm_subsys_at(i)); i++)
			if (!strcmp(s->name, name + 5))
				break;
		if (!s) {
			problem("%s: no registered subsystem '%s'", in, name + 5);
			free(ps.text);
			return -EINVAL;
		}
		ctx = (struct subsys_ctx){ s, &ps, in };
		page_src_emit(out, &ps, gen_subsys7, &ctx);
		for (size_t p = 0; p < ps.nr_para; p++)
			if (!ps.para[p].used)
				problem("%s: '@@rule %s' is not a rule of %s (or the page has no @@rules)", in, ps.para[p].name,
					s->name);
	} else {
		problem("%s: no generator for this page", page);
	}
	see_also(out, page);
	free(ps.text);
	return problems ? -EINVAL : 0;
}

/* ---- bash completion ------------------------------------------------------------------ */

#define WORDS_BEGIN "COMPREPLY=($(compgen -W \""
#define WORDS_END "\" -- \"$cur\"))"

/* The shell words for a completion hint (struct cli_option.complete). */
static void completion_words(FILE *out, const char *hint)
{
	const struct ccmm_actor_kind *k;
	const struct ccmm_rule *r;

	if (!hint) {
		fputs("COMPREPLY=()", out);
	} else if (!strcmp(hint, "file")) {
		fputs("COMPREPLY=($(compgen -f -- \"$cur\"))", out);
	} else if (!strcmp(hint, "dir")) {
		fputs("COMPREPLY=($(compgen -d -- \"$cur\"))", out);
	} else if (!strcmp(hint, "job")) {
		fputs("_ccmm_files job jobs", out);
	} else if (!strcmp(hint, "platform")) {
		fputs("_ccmm_files ini platforms \"default host\"", out);
	} else if (!strcmp(hint, "mode")) {
		fputs(WORDS_BEGIN, out);
		for (int i = 0; ccmm_cc_mode_names[i]; i++)
			fprintf(out, "%s%s", i ? " " : "", ccmm_cc_mode_names[i]);
		fputs(WORDS_END, out);
	} else if (!strcmp(hint, "kind") || !strcmp(hint, "kind+global")) {
		fputs(WORDS_BEGIN, out);
		for (size_t i = 0; (k = ccmm_actor_kind_at(i)); i++)
			fprintf(out, "%s%s", i ? " " : "", k->name);
		fprintf(out, "%s" WORDS_END, strcmp(hint, "kind") ? " global" : "");
	} else if (!strcmp(hint, "rule")) {
		fputs(WORDS_BEGIN, out);
		for (size_t i = 0; (r = ccmm_rule_at(i)); i++)
			fprintf(out, "%s%s", i ? " " : "", r->name);
		fputs(WORDS_END, out);
	} else if (!strcmp(hint, "command")) {
		fputs(WORDS_BEGIN, out);
		for (size_t i = 0; _ccmm_cli_commands[i]; i++)
			fprintf(out, "%s%s", i ? " " : "", _ccmm_cli_commands[i]->name);
		fputs(WORDS_END, out);
	} else {
		char words[256];

		snprintf(words, sizeof(words), "%s", strncmp(hint, "sub:", 4) ? hint : hint + 4);
		for (char *p = words; *p; p++)
			if (*p == '|')
				*p = ' ';
		fprintf(out, WORDS_BEGIN "%s" WORDS_END, words);
	}
}

static void write_completion(FILE *out)
{
	fprintf(out, "# bash completion for ccmm %s. Generated by ccmm-mkdoc from ccmm's command and option tables:\n"
		     "# do not edit. Needs nothing but bash (no bash-completion helpers).\n\n",
		CCMM_VERSION);
	fprintf(out, "# _ccmm_files EXT SUBDIR [WORDS]: files ending in .EXT here, the shipped ones by name, and WORDS\n"
		     "_ccmm_files()\n{\n"
		     "    local ext=$1 sub=$2 words=${3:-} d f names=\"\"\n"
		     "    local IFS=$'\\n'\n"
		     "    for d in ${CCMM_PATH//:/$'\\n'} \"%s\"; do\n"
		     "        for f in \"$d/$sub\"/*.\"$ext\"; do\n"
		     "            [ -e \"$f\" ] && f=${f##*/} && names+=\"${f%%.$ext}\"$'\\n'\n"
		     "        done\n"
		     "    done\n"
		     "    COMPREPLY=($(compgen -f -X \"!*.$ext\" -- \"$cur\") $(compgen -d -S / -- \"$cur\")"
		     " $(compgen -W \"$names\"$'\\n'\"${words// /$'\\n'}\" -- \"$cur\"))\n"
		     "    compopt -o nospace -o filenames 2>/dev/null\n"
		     "    [ ${#COMPREPLY[@]} -eq 1 ] && [ \"${COMPREPLY[0]%%/}\" = \"${COMPREPLY[0]}\" ] && compopt +o nospace 2>/dev/null\n"
		     "    return 0\n}\n\n",
		ccmm_datadir());
	fputs("_ccmm()\n{\n    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
	      "    local i cmd=\"\" nops=0\n"
	      "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
	      "        case ${COMP_WORDS[i]} in\n"
	      "        -*) ;;\n"
	      "        *) if [ -z \"$cmd\" ]; then cmd=${COMP_WORDS[i]}; else nops=$((nops + 1)); fi ;;\n"
	      "        esac\n"
	      "    done\n"
	      "    if [ -z \"$cmd\" ]; then\n"
	      "        case $cur in\n        -*) COMPREPLY=($(compgen -W \"",
	      out);
	for (const struct cli_option *o = _ccmm_cli_global_opts; o->name; o++)
		fprintf(out, "%s--%s -%c", o == _ccmm_cli_global_opts ? "" : " ", o->name, o->key);
	fputs("\" -- \"$cur\")) ;;\n        *) ", out);
	completion_words(out, "command");
	fputs(" ;;\n        esac\n        return 0\n    fi\n    case $cmd in\n", out);
	for (size_t i = 0; _ccmm_cli_commands[i]; i++) {
		const struct cli_command *c = _ccmm_cli_commands[i];

		fprintf(out, "    %s)\n        case $prev in\n", c->name);
		for (const struct cli_option *o = c->opts; o && o->name; o++) {
			if (!o->arg)
				continue;
			fprintf(out, "        --%s", o->name);
			if (o->key > 0 && o->key < 256)
				fprintf(out, "|-%c", o->key);
			fputs(") ", out);
			completion_words(out, o->complete);
			fputs("; return 0 ;;\n", out);
		}
		fputs("        esac\n        case $cur in\n        -*) COMPREPLY=($(compgen -W \"", out);
		for (const struct cli_option *o = c->opts; o && o->name; o++)
			fprintf(out, "--%s%s ", o->name, o->arg ? "=" : "");
		fputs("--help\" -- \"$cur\")); [[ ${COMPREPLY[0]} == *= ]] && compopt -o nospace 2>/dev/null ;;\n", out);
		if (c->complete && !strncmp(c->complete, "sub:", 4)) {
			fputs("        *) if [ $nops -eq 0 ]; then ", out);
			completion_words(out, c->complete);
			fputs("; else COMPREPLY=($(compgen -f -- \"$cur\")); compopt -o filenames 2>/dev/null; fi ;;\n", out);
		} else {
			fputs("        *) ", out);
			completion_words(out, c->complete);
			fputs(" ;;\n", out);
		}
		fputs("        esac ;;\n", out);
	}
	fputs("    esac\n    return 0\n}\ncomplete -F _ccmm ccmm\n", out);
}

/* ---- check -------------------------------------------------------------------------------- */

static int check_page(const char *mandir, const char *page, int n)
{
	char in[4096];
	FILE *out = fopen("/dev/null", "w");
	int before = problems;

	snprintf(in, sizeof(in), "%s/%s.in", mandir, page);
	if (out) {
		write_page(page, in, out);
		fclose(out);
	}
	printf("%s %d - %s documents every table entry it covers\n", problems == before ? "ok" : "not ok", n, page);
	return problems == before ? 0 : 1;
}

static int check(const char *mandir)
{
	const struct ccmm_subsys *s;
	size_t nsub = 0;
	int n = 0, fails = 0;

	while (ccmm_subsys_at(nsub))
		nsub++;
	printf("1..%zu\n", 3 + nsub + 1);
	for (size_t i = 0; fixed_pages[i]; i++)
		fails += check_page(mandir, fixed_pages[i], ++n);
	for (size_t i = 0; (s = ccmm_subsys_at(i)); i++) {
		char page[80];

		snprintf(page, sizeof(page), "ccmm-%s.7", s->name);
		fails += check_page(mandir, page, ++n);
	}
	{
		/* every command's options are in its help and the completion: the same table, generated now */
		FILE *out = fopen("/dev/null", "w");
		int before = problems;

		for (size_t i = 0; out && _ccmm_cli_commands[i]; i++) {
			const struct cli_command *c = _ccmm_cli_commands[i];

			need_text("command", c->name, c->summary);
			for (const struct cli_option *o = c->opts; o && o->name; o++)
				need_text("option of a command", o->name, o->help);
			_ccmm_cli_help(c, out);
		}
		if (out) {
			write_completion(out);
			fclose(out);
		}
		printf("%s %d - every command and option has help text\n", problems == before ? "ok" : "not ok", ++n);
		fails += problems != before;
	}
	return fails ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct ccmm_outfile of;
	int ret;

	if (argc == 3 && !strcmp(argv[1], "check"))
		return check(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "man")) {
		if ((ret = ccmm_outfile_open(&of, argv[4]))) {
			fprintf(stderr, "ccmm-mkdoc: %s: %s\n", argv[4], strerror(-ret));
			return 1;
		}
		if (write_page(argv[2], argv[3], of.fp)) {
			ccmm_outfile_abort(&of);
			return 1;
		}
		return ccmm_outfile_commit(&of) ? 1 : 0;
	}
	if (argc == 3 && !strcmp(argv[1], "completion")) {
		if ((ret = ccmm_outfile_open(&of, argv[2]))) {
			fprintf(stderr, "ccmm-mkdoc: %s: %s\n", argv[2], strerror(-ret));
			return 1;
		}
		write_completion(of.fp);
		return ccmm_outfile_commit(&of) ? 1 : 0;
	}
	fprintf(stderr, "usage: ccmm-mkdoc man PAGE IN OUT | completion OUT | check MANDIR\n");
	return 2;
}
