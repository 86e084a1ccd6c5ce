// SPDX-License-Identifier: MIT
/*
 * What every command of ccmm shares: its options parsed from its table with
 * getopt_long, its help from the same table, the exit statuses, errors, and
 * outputs that a signal cannot leave half-written.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/internal.h"

const struct cli_exit_status _ccmm_cli_exit_statuses[] = {
	{ CLI_EXIT_OK, "success: a run in which every violation was expected and every expectation met, "
		       "or a command that did what it was asked" },
	{ CLI_EXIT_UNEXPECTED, "a run that was not as expected: an unexpected violation, an expectation not met, "
			       "a check= line that failed, an op that returned an errno its ret= did not announce, "
			       "or an op that depends on one that failed at run time; a replay that does not agree "
			       "with the kernel's (trace agree)" },
	{ CLI_EXIT_BAD_INPUT, "bad input or usage: a malformed job, platform or trace file (one line "
			      "\"FILE:LINE: what is wrong\" on stderr), a run that could not go on (a deadlock between "
			      "waits, an object used before it exists), an unknown command or option, or an output "
			      "that cannot be written; no report file is left behind" },
	{ 0, NULL },
};

struct cli_globals _ccmm_cli_g;

const struct cli_command *_ccmm_cli_find(const char *name)
{
	for (size_t i = 0; _ccmm_cli_commands[i]; i++)
		if (!strcmp(_ccmm_cli_commands[i]->name, name))
			return _ccmm_cli_commands[i];
	return NULL;
}

int _ccmm_cli_bad(const struct cli_command *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ccmm%s%s: ", cmd ? " " : "", cmd ? cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_EXIT_BAD_INPUT;
}

int _ccmm_cli_unknown_command(const struct cli_command *cmd, const char *name)
{
	const char *names[64];
	size_t n = 0;
	const char *near;

	while (n < CCMM_ARRAY_SIZE(names) && _ccmm_cli_commands[n]) {
		names[n] = _ccmm_cli_commands[n]->name;
		n++;
	}
	near = ccmm_suggest(name, names, n);
	if (near)
		return _ccmm_cli_bad(cmd, "unknown command '%s'; did you mean '%s'?", name, near);
	return _ccmm_cli_bad(cmd, "unknown command '%s' (ccmm help lists them)", name);
}

int _ccmm_cli_error(const struct ccmm_error *err)
{
	char msg[1024];

	ccmm_error_format(err, msg, sizeof(msg));
	fprintf(stderr, "%s\n", msg);
	return CLI_EXIT_BAD_INPUT;
}

/* ---- help ------------------------------------------------------------------------ */

const char *_ccmm_cli_option_default(const struct ccmm_option *o)
{
	return o->def && o->def[0] ? o->def : NULL;
}

void _ccmm_cli_option_type(const struct ccmm_option *o, bool prose, char *buf, size_t len)
{
	size_t n = 0;

	switch (o->type) {
	case CCMM_OPT_U64:
		n = (size_t)snprintf(buf, len, "%s", o->size ? "size" : "number");
		if (prose && o->max && n < len)
			snprintf(buf + n, len - n, ", %" PRIu64 " to %" PRIu64, o->min, o->max);
		break;
	case CCMM_OPT_RANGE:
		snprintf(buf, len, "%s", prose ? "a value or a range LO-HI" : "range");
		break;
	case CCMM_OPT_BOOL:
		snprintf(buf, len, "%s", prose ? "yes or no" : "bool");
		break;
	case CCMM_OPT_STR:
		snprintf(buf, len, "text");
		break;
	case CCMM_OPT_ENUM:
		if (prose)
			n = (size_t)snprintf(buf, len, "one of ");
		for (int i = 0; o->choices[i] && n < len; i++)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? (prose ? ", " : "|") : "", o->choices[i]);
		break;
	}
}

/* @text wrapped at @width columns, each line indented by @indent, paragraphs kept. */
static void wrap(FILE *out, const char *text, int indent, int width)
{
	const char *p = text;

	while (*p) {
		int col = indent;

		fprintf(out, "%*s", indent, "");
		while (*p && *p != '\n') {
			size_t w = strcspn(p, " \n");

			if (col > indent && col + 1 + (int)w > width) {
				fprintf(out, "\n%*s", indent, "");
				col = indent;
			} else if (col > indent) {
				fputc(' ', out);
				col++;
			}
			fwrite(p, 1, w, out);
			col += (int)w;
			p += w;
			while (*p == ' ')
				p++;
		}
		fputc('\n', out);
		if (*p == '\n')
			p++;
		if (*p == '\n') { /* a blank line: a new paragraph */
			fputc('\n', out);
			p++;
		}
	}
}

/* wrap() with a hanging indent: the first line continues after text already printed at column @indent. */
static void wrap_hang(FILE *out, const char *text, int indent, int width)
{
	char *copy = strdup(text);
	char *save = NULL, *w;
	int col = indent;
	bool first = true;

	if (!copy)
		return;
	for (w = strtok_r(copy, " \n", &save); w; w = strtok_r(NULL, " \n", &save)) {
		int len = (int)strlen(w);

		if (!first && col + 1 + len > width) {
			fprintf(out, "\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			fputc(' ', out);
			col++;
		}
		fputs(w, out);
		col += len;
		first = false;
	}
	fputc('\n', out);
	free(copy);
}

static void option_line(FILE *out, const struct cli_option *o)
{
	char left[64];

	if (o->key > 0 && o->key < 256)
		snprintf(left, sizeof(left), "-%c, --%s%s%s", o->key, o->name, o->arg ? "=" : "", o->arg ? o->arg : "");
	else
		snprintf(left, sizeof(left), "    --%s%s%s", o->name, o->arg ? "=" : "", o->arg ? o->arg : "");
	if (strlen(left) < 26)
		fprintf(out, "  %-26s", left);
	else
		fprintf(out, "  %s\n%28s", left, "");
	wrap_hang(out, o->help, 28, 79);
}

void _ccmm_cli_help(const struct cli_command *cmd, FILE *out)
{
	static const struct cli_option help = { "help", 'h', NULL, "print this help and exit", NULL };

	fprintf(out, "usage: ccmm %s%s%s%s\n\n", cmd->name, cmd->opts && cmd->opts->name ? " [OPTIONS]" : "",
		cmd->args && *cmd->args ? " " : "", cmd->args ? cmd->args : "");
	wrap(out, cmd->summary, 0, 79);
	if (cmd->description) {
		fputc('\n', out);
		wrap(out, cmd->description, 0, 79);
	}
	fprintf(out, "\noptions:\n");
	for (const struct cli_option *o = cmd->opts; o && o->name; o++)
		option_line(out, o);
	option_line(out, &help);
	fprintf(out, "\nexit status: ");
	for (const struct cli_exit_status *e = _ccmm_cli_exit_statuses; e->meaning; e++)
		fprintf(out, "%s%d", e == _ccmm_cli_exit_statuses ? "" : ", ", e->status);
	fprintf(out, " (ccmm help lists what each means)\n");
}

void _ccmm_cli_usage(FILE *out)
{
	fprintf(out, "usage: ccmm [OPTIONS] COMMAND [ARGS]\n\n"
		     "ccmm runs job files through an executable model of memory in Linux systems that run\n"
		     "confidential workloads next to devices, and reports every violation of the memory-state rules.\n\n"
		     "commands:\n");
	for (size_t i = 0; _ccmm_cli_commands[i]; i++) {
		const struct cli_command *c = _ccmm_cli_commands[i];

		fprintf(out, "  %-15s", c->name);
		wrap_hang(out, c->summary, 17, 79);
	}
	fprintf(out, "\noptions (before the command):\n");
	for (const struct cli_option *o = _ccmm_cli_global_opts; o->name; o++)
		option_line(out, o);
	fprintf(out, "\n'ccmm COMMAND --help' or 'ccmm help COMMAND' describes a command; man ccmm has them all.\n\n"
		     "exit status:\n");
	for (const struct cli_exit_status *e = _ccmm_cli_exit_statuses; e->meaning; e++) {
		fprintf(out, "  %d  ", e->status);
		wrap_hang(out, e->meaning, 5, 79);
	}
}

/* ---- parsing --------------------------------------------------------------------- */

#define MAX_OPTS 48

/* The options of @cmd whose long name starts with @word (for ambiguity messages), into @buf. */
static int prefix_matches(const struct cli_command *cmd, const char *word, size_t wlen, char *buf, size_t len)
{
	int n = 0;
	size_t used = 0;

	buf[0] = '\0';
	for (const struct cli_option *o = cmd->opts; o && o->name; o++) {
		if (strncmp(o->name, word, wlen))
			continue;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s--%s", n ? ", " : "", o->name);
		n++;
	}
	return n;
}

static int unknown_option(const struct cli_command *cmd, const char *arg)
{
	const char *names[MAX_OPTS + 2];
	char word[128], list[256];
	size_t n = 0, wlen;
	const char *near;

	snprintf(word, sizeof(word), "%s", arg);
	word[strcspn(word, "=")] = '\0';
	if (!strncmp(word, "--", 2)) {
		wlen = strlen(word + 2);
		if (wlen && prefix_matches(cmd, word + 2, wlen, list, sizeof(list)) > 1)
			return _ccmm_cli_bad(cmd, "option '%s' is ambiguous (%s)", word, list);
	}
	for (const struct cli_option *o = cmd->opts; o && o->name && n < MAX_OPTS; o++)
		names[n++] = o->name;
	names[n++] = "help";
	near = ccmm_suggest(word + strspn(word, "-"), names, n);
	if (near)
		return _ccmm_cli_bad(cmd, "unknown option '%s'; did you mean '--%s'?", word, near);
	return _ccmm_cli_bad(cmd, "unknown option '%s' (ccmm %s --help lists them)", word, cmd->name);
}

static const struct cli_option *option_of_key(const struct cli_command *cmd, int key)
{
	for (const struct cli_option *o = cmd->opts; o && o->name; o++)
		if (o->key == key)
			return o;
	return NULL;
}

int _ccmm_cli_parse(const struct cli_command *cmd, int argc, char **argv, int (*fn)(void *ctx, int key, const char *arg),
		    void *ctx, int *first)
{
	struct option longopts[MAX_OPTS + 2];
	char shortopts[2 * MAX_OPTS + 8] = ":";
	size_t n = 0, sl = 1;
	int c;

	for (const struct cli_option *o = cmd->opts; o && o->name && n < MAX_OPTS; o++, n++) {
		longopts[n] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL, o->key };
		if (o->key > 0 && o->key < 256) {
			shortopts[sl++] = (char)o->key;
			if (o->arg)
				shortopts[sl++] = ':';
		}
	}
	longopts[n++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	shortopts[sl++] = 'h';
	shortopts[sl] = '\0';

	optind = 0; /* glibc: start over, whatever parsed before */
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int ret;

		if (c == 'h') { /* nothing was opened or allocated yet: help ends the process here */
			_ccmm_cli_help(cmd, stdout);
			exit(fflush(stdout) || ferror(stdout) ? CLI_EXIT_BAD_INPUT : CLI_EXIT_OK);
		}
		if (c == ':') {
			const struct cli_option *o = option_of_key(cmd, optopt);

			return _ccmm_cli_bad(cmd, "option '--%s' needs a value (%s)", o ? o->name : "?", o && o->arg ? o->arg : "");
		}
		if (c == '?') {
			const struct cli_option *o = optopt ? option_of_key(cmd, optopt) : NULL;

			if (o && !o->arg) /* "--flag=value" */
				return _ccmm_cli_bad(cmd, "option '--%s' takes no value", o->name);
			if (optopt && optopt < 256 && !o) {
				char word[3] = { '-', (char)optopt, '\0' };

				return unknown_option(cmd, word);
			}
			return unknown_option(cmd, argv[optind - 1]);
		}
		ret = fn ? fn(ctx, c, optarg) : 0;
		if (ret)
			return ret;
	}
	*first = optind;
	return 0;
}

/* ---- outputs ----------------------------------------------------------------------- */

#define MAX_OUTPUTS 8

static struct ccmm_outfile *volatile outputs[MAX_OUTPUTS];

/* A fatal signal: remove every temporary still pending, then die of the signal as before. */
static void remove_pending(int sig)
{
	for (int i = 0; i < MAX_OUTPUTS; i++) {
		struct ccmm_outfile *o = outputs[i];
		const char *tmp = o ? ccmm_outfile_pending(o) : NULL;

		if (tmp)
			unlink(tmp);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int _ccmm_cli_output_open(struct ccmm_outfile *o, const char *path)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	static bool handlers;
	int slot = -1, ret;

	for (int i = 0; i < MAX_OUTPUTS && slot < 0; i++)
		if (!outputs[i])
			slot = i;
	if (slot < 0)
		return -EMFILE;
	if (!handlers) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = remove_pending;
		sigemptyset(&sa.sa_mask);
		for (size_t i = 0; i < CCMM_ARRAY_SIZE(sigs); i++)
			sigaction(sigs[i], &sa, NULL);
		handlers = true;
	}
	ret = ccmm_outfile_open(o, path);
	if (!ret)
		outputs[slot] = o;
	return ret;
}

int _ccmm_cli_output_done(struct ccmm_outfile *o, bool ok)
{
	int ret = 0;

	if (ok)
		ret = ccmm_outfile_commit(o);
	else
		ccmm_outfile_abort(o);
	for (int i = 0; i < MAX_OUTPUTS; i++)
		if (outputs[i] == o)
			outputs[i] = NULL;
	return ret;
}

bool _ccmm_cli_output_is_stdout(const struct ccmm_outfile *o)
{
	struct stat a, b;

	if (o->mode == CCMM_OUTFILE_STDOUT)
		return true;
	if (o->mode != CCMM_OUTFILE_INPLACE || !o->fp)
		return false;
	return !fstat(fileno(o->fp), &a) && !fstat(STDOUT_FILENO, &b) && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

int _ccmm_cli_find_job(const struct cli_command *cmd, const char *name, char *out, size_t len)
{
	int ret = ccmm_path_find(name, NULL, "jobs", ".job", out, len);

	if (ret == -ENOENT)
		return _ccmm_cli_bad(cmd, "job file '%s' cannot be found (here, on CCMM_PATH or in %s/jobs)", name,
				     ccmm_datadir());
	if (ret)
		return _ccmm_cli_bad(cmd, "job file '%s': %s", name, strerror(-ret));
	return 0;
}
