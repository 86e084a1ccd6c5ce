// SPDX-License-Identifier: MIT
/* ccmm help [COMMAND] and ccmm version. */
#include <stdio.h>
#include <string.h>

#include "ccmm_config.h"
#include "cli/internal.h"

static int cmd_help(const struct cli_command *cmd, int argc, char **argv)
{
	const struct cli_command *c;
	int first, ret = _ccmm_cli_parse(cmd, argc, argv, NULL, NULL, &first);

	if (ret)
		return ret;
	if (first == argc) {
		_ccmm_cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	if (argc - first > 1)
		return _ccmm_cli_bad(cmd, "one command at a time");
	c = _ccmm_cli_find(argv[first]);
	if (!c)
		return _ccmm_cli_unknown_command(cmd, argv[first]);
	_ccmm_cli_help(c, stdout);
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_help = {
	"help", "[COMMAND]", "every command, or one command's options and what it does",
	"ccmm help COMMAND prints what ccmm COMMAND --help prints.", NULL, "command", cmd_help,
};

static int cmd_version(const struct cli_command *cmd, int argc, char **argv)
{
	int first, ret = _ccmm_cli_parse(cmd, argc, argv, NULL, NULL, &first);

	if (ret)
		return ret;
	if (first < argc)
		return _ccmm_cli_bad(cmd, "takes no arguments");
	printf("ccmm %s\n", CCMM_VERSION);
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_version = {
	"version", "", "print ccmm's version (as ccmm --version, ccmm -V)", NULL, NULL, NULL, cmd_version,
};
