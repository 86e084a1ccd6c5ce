/* SPDX-License-Identifier: MIT */
/*
 * cli/internal.h - the ccmm command's tables and helpers, shared by the
 * command files of this folder and by the man-page and completion
 * generator (mkdoc.c).
 *
 *   commands.c     the command table: one CCMM_CLI_COMMANDS line per command
 *   main.c         ccmm [GLOBAL OPTIONS] COMMAND [ARGS]: global options,
 *                  help, dispatch
 *   cli.c          option parsing over a command's table (getopt_long),
 *                  help text, exit statuses, errors, outputs
 *   run.c          run, check          info.c   rules, kinds, ops, costs,
 *   machine.c      platform, states             platform-keys
 *   trace.c        trace stat|reduce|  mkdoc.c  ccmm-mkdoc: man pages,
 *                  agree|whatif                 bash completion, drift check
 *   trace-agree.c  trace agree|whatif: what trace.c parsed, run
 *
 * Adding a command: a file here defining
 *   const struct cli_command _ccmm_cmd_NAME = { "NAME", ... };
 * (listed in src/cli/meson.build) and one X(NAME) line in CCMM_CLI_COMMANDS
 * (commands.c). Its options are a table of struct cli_option parsed by
 * _ccmm_cli_parse(): help, the man page ccmm(1) and the bash completion all
 * come from that table, so they cannot drift from what the command accepts.
 */
#ifndef CCMM_CLI_INTERNAL_H
#define CCMM_CLI_INTERNAL_H

#include <stdbool.h>
#include <stdio.h>

#include "util/util.h"

/* Exit statuses, every command alike; _ccmm_cli_exit_statuses describes them (help, ccmm(1)). */
enum {
	CLI_EXIT_OK = 0,         /* as expected / done */
	CLI_EXIT_UNEXPECTED = 1, /* a run that was not as expected */
	CLI_EXIT_BAD_INPUT = 2,  /* bad input or usage; nothing written */
};

struct cli_exit_status {
	int status;
	const char *meaning;
};

/* NULL-meaning terminated. */
extern const struct cli_exit_status _ccmm_cli_exit_statuses[];

/*
 * How an option's argument or a command's operands complete (bash): a
 * comma-free word the generator understands.
 *   "file" "dir"          file and folder names
 *   "job"                 *.job files, and the shipped jobs by name
 *   "platform"            default, host, *.ini files, the shipped platforms
 *   "mode" "kind" "kind+global" "command" "rule"
 *                         the registry's names
 *   "a|b|c"               one of the words
 *   NULL                  nothing to offer (a number, free text)
 */
struct cli_option {
	const char *name;     /* the long name, without "--"; NULL ends a table */
	int key;              /* its short letter, or a number above 255 for long-only options */
	const char *arg;      /* the argument's name ("FILE"), NULL for a flag */
	const char *help;     /* one line */
	const char *complete; /* how its argument completes, as above */
};

struct cli_command {
	const char *name;
	const char *args;        /* the operands' synopsis: "[JOB...]", "KIND|global" */
	const char *summary;     /* one line, for "ccmm help" and the man page's list */
	const char *description; /* paragraphs (blank-line separated) for --help and ccmm(1) */
	const struct cli_option *opts; /* NULL-name terminated, or NULL; -h/--help is every command's */
	const char *complete;    /* how operands complete (as struct cli_option), or "sub:a|b" for sub-commands */
	/* run with argv[0] the command's name; returns an exit status */
	int (*main)(const struct cli_command *cmd, int argc, char **argv);
};

/* The command table (commands.c), in help order, NULL-terminated. */
extern const struct cli_command *const _ccmm_cli_commands[];
const struct cli_command *_ccmm_cli_find(const char *name);

/* ccmm's own options before the command (main.c's table), for help and the generator. */
extern const struct cli_option _ccmm_cli_global_opts[];

/* Global settings any command may read: -q and -v given before the command. */
struct cli_globals {
	int quiet;   /* -q count */
	int verbose; /* -v count */
};
extern struct cli_globals _ccmm_cli_g;

/*
 * _ccmm_cli_parse - parse @cmd's options from @argv (argv[0] is the
 * command) with getopt_long, calling @fn(@ctx, key, arg) for each (arg is
 * NULL for a flag; @fn may be NULL for a command without options). "--opt=value" and "--opt value" both work, options and
 * operands mix in any order, "--" ends the options. On return *@first is
 * the index of the first operand in @argv. -h/--help prints the command's
 * help on stdout and exits with CLI_EXIT_OK (commands parse before they
 * open or allocate anything).
 * Returns 0 to go on, or CLI_EXIT_BAD_INPUT after an unknown option (with
 * the nearest name), a missing argument, or @fn's own error (which @fn
 * printed).
 */
int _ccmm_cli_parse(const struct cli_command *cmd, int argc, char **argv, int (*fn)(void *ctx, int key, const char *arg),
		    void *ctx, int *first);

/* "ccmm COMMAND: MESSAGE" on stderr; returns CLI_EXIT_BAD_INPUT. */
int _ccmm_cli_bad(const struct cli_command *cmd, const char *fmt, ...) CCMM_PRINTF(2, 3);

/* "unknown command 'x'; did you mean 'y'?" (from @cmd, or ccmm itself when NULL); returns CLI_EXIT_BAD_INPUT. */
int _ccmm_cli_unknown_command(const struct cli_command *cmd, const char *name);

/* An error from the library ("FILE:LINE: what is wrong") on stderr; returns CLI_EXIT_BAD_INPUT. */
int _ccmm_cli_error(const struct ccmm_error *err);

/*
 * An option's type (and limits, choices) as help and man pages print it:
 * "size", "range", "a|b|c" ..., or with @prose "number, 0 to 7", "one of a,
 * b, c", "yes or no". Into @buf of @len bytes.
 */
void _ccmm_cli_option_type(const struct ccmm_option *o, bool prose, char *buf, size_t len);

/* An option's default as help and man pages show it: NULL when it has none (no default, or an empty one: unset). */
const char *_ccmm_cli_option_default(const struct ccmm_option *o);

/* @cmd's full help (usage, description, options) to @out. */
void _ccmm_cli_help(const struct cli_command *cmd, FILE *out);

/* The usage of ccmm itself: every command with its summary, the global options, the exit statuses. */
void _ccmm_cli_usage(FILE *out);

/*
 * Outputs of a command (--json, --csv): ccmm_outfile_open() with the
 * process's signal handling, so that SIGINT, SIGTERM, SIGHUP and SIGPIPE
 * remove every temporary still pending before the process dies. Returns 0
 * or a negative errno; _ccmm_cli_output_done() commits (or, with @ok
 * false, aborts) and forgets it: 0 or a negative errno.
 */
int _ccmm_cli_output_open(struct ccmm_outfile *o, const char *path);
int _ccmm_cli_output_done(struct ccmm_outfile *o, bool ok);

/* Whether @o writes to the same open file as standard output ("-", /dev/stdout, or the file stdout points at). */
bool _ccmm_cli_output_is_stdout(const struct ccmm_outfile *o);

/*
 * Where a job named on the command line is: as given, then on the search
 * path (ccmm_path_find, "jobs", ".job"). Returns 0 with the path in @out, or
 * CLI_EXIT_BAD_INPUT after saying so.
 */
int _ccmm_cli_find_job(const struct cli_command *cmd, const char *name, char *out, size_t len);

/*
 * ccmm trace agree RECORDING (trace-agree.c): replays a recorded kernel's
 * DMA trace on the recorded platform and holds every bounce against the
 * kernel's slot. @recording is a folder of scripts/record-kernel.sh or a
 * trace file; @platform (NULL: the recording's platform.ini) and @debugfs
 * (NULL: the recording's after/) override what the folder has. Returns the
 * exit status: CLI_EXIT_OK all agree, CLI_EXIT_UNEXPECTED they do not,
 * CLI_EXIT_BAD_INPUT bad input (said on stderr).
 */
int _ccmm_trace_agree(const char *recording, const char *platform, const char *debugfs);

/*
 * ccmm trace whatif RECORDING (trace-agree.c): the same trace replayed on
 * the recorded platform (with and without its swiotlb=force) and on it made
 * a confidential guest (TDX, SEV-SNP, pSeries secure VM with either
 * window): what bouncing costs per device, as a table on stdout (stderr
 * when the JSON goes to stdout). @json_path (NULL: none) gets every run's
 * figures, complete or not at all; @no_filter binds devices outside the TDX
 * guest's allow-list too. Returns CLI_EXIT_OK, or CLI_EXIT_BAD_INPUT.
 */
int _ccmm_trace_whatif(const char *recording, const char *platform, const char *json_path, bool no_filter);

#endif /* CCMM_CLI_INTERNAL_H */
