// SPDX-License-Identifier: MIT
/*
 * ccmm - the command line: ccmm [OPTIONS] COMMAND [ARGS].
 *
 * The options before the command are ccmm's own (-q, -v, -V, -h); the
 * command is looked up in the command table (commands.c) and parses the
 * rest with its own option table (cli.c). Exit statuses are the same for
 * every command (cli.c: _ccmm_cli_exit_statuses): 0 as expected, 1 a run
 * not as expected, 2 bad input or usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ccmm_config.h"
#include "cli/internal.h"

enum { OPT_VERSION = 'V', OPT_QUIET = 'q', OPT_VERBOSE = 'v', OPT_HELP = 'h' };

const struct cli_option _ccmm_cli_global_opts[] = {
	{ "quiet", OPT_QUIET, NULL, "print less: a run prints only its result line (each command's own -q is the same)", NULL },
	{ "verbose", OPT_VERBOSE, NULL, "print more: a run prints every violation, not the first 20 per actor", NULL },
	{ "version", OPT_VERSION, NULL, "print ccmm's version and exit", NULL },
	{ "help", OPT_HELP, NULL, "print the commands and options and exit", NULL },
	{ NULL },
};

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "quiet", no_argument, NULL, OPT_QUIET },   { "verbose", no_argument, NULL, OPT_VERBOSE },
		{ "version", no_argument, NULL, OPT_VERSION }, { "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command *cmd;
	int c;

	opterr = 0;
	/* "+": stop at the command; what follows is the command's */
	while ((c = getopt_long(argc, argv, "+:qvVh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_QUIET:
			_ccmm_cli_g.quiet++;
			break;
		case OPT_VERBOSE:
			_ccmm_cli_g.verbose++;
			break;
		case OPT_VERSION:
			printf("ccmm %s\n", CCMM_VERSION);
			return CLI_EXIT_OK;
		case OPT_HELP:
			_ccmm_cli_usage(stdout);
			return CLI_EXIT_OK;
		default: {
			const char *names[] = { "quiet", "verbose", "version", "help" };
			const char *word = optopt ? NULL : argv[optind - 1];
			const char *near = word ? ccmm_suggest(word + strspn(word, "-"), names, 4) : NULL;

			if (!word)
				return _ccmm_cli_bad(NULL, "unknown option '-%c' (ccmm --help lists them)", optopt);
			if (near)
				return _ccmm_cli_bad(NULL, "unknown option '%s'; did you mean '--%s'?", word, near);
			return _ccmm_cli_bad(NULL, "unknown option '%s' (ccmm --help lists them)", word);
		}
		}
	}
	if (optind >= argc) {
		_ccmm_cli_usage(stderr);
		return CLI_EXIT_BAD_INPUT;
	}
	cmd = _ccmm_cli_find(argv[optind]);
	if (!cmd)
		return _ccmm_cli_unknown_command(NULL, argv[optind]);
	return cmd->main(cmd, argc - optind, argv + optind);
}
