// SPDX-License-Identifier: MIT
/*
 * The command table. ccmm COMMAND runs the entry of that name; "ccmm help",
 * ccmm(1) and the bash completion list the commands in this order.
 *
 * Adding a command: define `const struct cli_command _ccmm_cmd_NAME` in its
 * own file (src/cli/NAME.c, listed in src/cli/meson.build) and add one
 * X(NAME) line below (a name with '-' is spelled with '_' here).
 */
#include "cli/internal.h"

#define CCMM_CLI_COMMANDS(X) \
	X(run)               \
	X(explore)           \
	X(check)             \
	X(sweep)             \
	X(diff)              \
	X(plot)              \
	X(states)            \
	X(rules)             \
	X(kinds)             \
	X(ops)               \
	X(costs)             \
	X(platform)          \
	X(platform_keys)     \
	X(trace)             \
	X(help)              \
	X(version)

#define CLI_DECLARE(name) extern const struct cli_command _ccmm_cmd_##name;
#define CLI_ENTRY(name) &_ccmm_cmd_##name,

CCMM_CLI_COMMANDS(CLI_DECLARE)

const struct cli_command *const _ccmm_cli_commands[] = { CCMM_CLI_COMMANDS(CLI_ENTRY) NULL };

/* ccmm's own options, before the command (main.c parses them; keep the two in step). */
const struct cli_option _ccmm_cli_global_opts[] = {
	{ "quiet", 'q', NULL, "print less: a run prints only its result line (each command's own -q is the same)", NULL },
	{ "verbose", 'v', NULL, "print more: a run prints every violation, not the first 20 per actor", NULL },
	{ "version", 'V', NULL, "print ccmm's version and exit", NULL },
	{ "help", 'h', NULL, "print the commands and options and exit", NULL },
	{ NULL },
};
