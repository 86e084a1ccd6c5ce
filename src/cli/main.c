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

/* ccmm's own options (their table is in commands.c, for help and the man page) */
enum { OPT_VERSION = 'V', OPT_QUIET = 'q', OPT_VERBOSE = 'v', OPT_HELP = 'h' };

int main(int argc, char **argv)
{
	struct option longopts[8];
	char shortopts[16] = "+:"; /* "+": stop at the command; what follows is the command's */
	const char *names[8];
	const struct cli_command *cmd;
	size_t n = 0;
	int c;

	for (const struct cli_option *o = _ccmm_cli_global_opts; o->name && n < 7; o++, n++) {
		longopts[n] = (struct option){ o->name, no_argument, NULL, o->key };
		shortopts[2 + n] = (char)o->key;
		names[n] = o->name;
	}
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };
	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
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
			const char *word = optopt ? NULL : argv[optind - 1];
			const char *near = word ? ccmm_suggest(word + strspn(word, "-"), names, n) : NULL;

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
