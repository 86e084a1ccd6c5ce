// SPDX-License-Identifier: MIT
/* What the command files share: error lines, outputs, unknown options (cli.h). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_error(const struct ccmm_error *err)
{
	char msg[1024];

	ccmm_error_format(err, msg, sizeof(msg));
	fprintf(stderr, "ccmm: %s\n", msg);
	return CLI_BAD_INPUT;
}

int cli_bad(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ccmm %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CLI_BAD_INPUT;
}

int cli_write(const char *path, int (*fn)(void *arg, FILE *out), void *arg)
{
	struct ccmm_outfile of;
	int ret;

	if (!strcmp(path, "-")) {
		ret = fn(arg, stdout);
		if (!ret && fflush(stdout))
			ret = -errno;
	} else {
		ret = ccmm_outfile_open(&of, path);
		if (!ret) {
			ret = fn(arg, of.fp);
			if (ret)
				ccmm_outfile_abort(&of);
			else
				ret = ccmm_outfile_commit(&of);
		}
	}
	if (ret)
		fprintf(stderr, "ccmm: %s: cannot write: %s\n", path, strerror(-ret));
	return ret;
}

int cli_unknown_option(const char *cmd, const char *arg, const struct option *longopts)
{
	const char *names[64];
	char opt[128];
	size_t n = 0;
	const char *near;

	snprintf(opt, sizeof(opt), "%s", arg);
	opt[strcspn(opt, "=")] = '\0';
	for (const struct option *o = longopts; o->name && n < 64; o++)
		names[n++] = o->name;
	near = ccmm_suggest(opt + strspn(opt, "-"), names, n);
	if (near)
		return cli_bad(cmd, "unknown option '%s'; did you mean '--%s'?", opt, near);
	return cli_bad(cmd, "unknown option '%s' (ccmm %s --help lists them)", opt, cmd);
}

int cli_getopt_error(const char *cmd, char **argv, const char *optstring, const struct option *longopts)
{
	const char *arg = argv[optind - 1];

	if (optopt) {
		const char *sh = optopt < 256 ? strchr(optstring, optopt) : NULL;

		for (const struct option *o = longopts; o->name; o++)
			if (o->val == optopt && o->has_arg == required_argument && !strncmp(arg, "--", 2))
				return cli_bad(cmd, "%s needs a value", arg);
		if (sh && sh[1] == ':')
			return cli_bad(cmd, "-%c needs a value", optopt);
		if (optopt < 256 && !sh)
			return cli_bad(cmd, "unknown option '-%c' (ccmm %s --help lists them)", optopt, cmd);
	}
	return cli_unknown_option(cmd, arg, longopts);
}
