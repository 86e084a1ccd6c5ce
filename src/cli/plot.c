// SPDX-License-Identifier: MIT
/* ccmm plot FILE.json --out DIR: pictures of a run's time series or of a sweep table. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "plot/plot.h"
#include "sweep/sweep.h"

static const char usage_text[] =
	"usage: ccmm plot FILE.json --out DIR\n"
	"\n"
	"Draws a run report's time series (ccmm run --interval T --json FILE) against\n"
	"modeled time, reclaim, OOM and conversion events marked, or a sweep table's\n"
	"metrics (ccmm sweep --json FILE) against its first key, one line per value of\n"
	"the second: NAME.png and NAME.svg in DIR, and the gnuplot script NAME.gp.\n";

int cmd_plot(int argc, char **argv)
{
	enum { O_HELP = 256 };
	static const struct option longopts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	struct ccmm_error err;
	json_error_t je;
	json_t *j;
	int c, n;

	memset(&err, 0, sizeof(err));
	opterr = 0;
	optind = 0; /* a full re-initialisation: main.c ran getopt_long before */
	while ((c = getopt_long(argc, argv, "o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			dir = optarg;
			break;
		case O_HELP:
			fputs(usage_text, stdout);
			return 0;
		default:
			return cli_getopt_error("plot", argv, "o:", longopts);
		}
	}
	if (argc - optind != 1 || !dir)
		return cli_bad("plot", "ccmm plot FILE.json --out DIR (--help)");
	if (ccmm_plot_available(&err))
		return cli_error(&err);
	j = json_load_file(argv[optind], 0, &je);
	if (!j) {
		struct ccmm_loc loc = { argv[optind], je.line > 0 ? je.line : 0 };

		ccmm_error_set(&err, &loc, -EINVAL, "%s", je.text);
		return cli_error(&err);
	}
	if (ccmm_json_is_table(j)) {
		n = ccmm_plot_table(j, dir, &err);
	} else if (ccmm_json_is_report(j)) {
		n = ccmm_plot_series(j, dir, &err);
	} else {
		struct ccmm_loc loc = { argv[optind], 0 };

		n = ccmm_error_set(&err, &loc, -EINVAL, "not a ccmm run report or sweep table");
	}
	json_decref(j);
	if (n < 0) {
		if (!err.file[0])
			snprintf(err.file, sizeof(err.file), "%s", argv[optind]);
		return cli_error(&err);
	}
	printf("%s: %d picture(s) (PNG and SVG)\n", dir, n);
	return 0;
}

/* The command table's entry (commands.c): help, ccmm(1) and the completion list these options; cmd_plot parses them. */
static const struct cli_option plot_opts[] = {
	{ "out", 'o', "DIR", "the folder for NAME.png, NAME.svg and the gnuplot script NAME.gp", "dir" },
	{ NULL },
};

static int plot_main(const struct cli_command *cmd, int argc, char **argv)
{
	(void)cmd;
	return cmd_plot(argc, argv);
}

const struct cli_command _ccmm_cmd_plot = {
	"plot",
	"FILE.json",
	"pictures (PNG, SVG, by gnuplot) of a run's time series or of a sweep table",
	"Draws a run report's time series (ccmm run --interval T --json FILE) against modeled time, with reclaim, "
	"OOM and conversion events marked, or a sweep table's metrics (ccmm sweep --json FILE) against its first "
	"key, one line per value of the second.",
	plot_opts,
	"file",
	plot_main,
};
