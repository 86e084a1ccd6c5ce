// SPDX-License-Identifier: MIT
/* ccmm diff A.json B.json: two run reports, or two sweep tables, figure by figure. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "sweep/sweep.h"

static const char usage_text[] =
	"usage: ccmm diff A.json B.json [--min-change P] [--all] [--csv FILE] [--json FILE] [-q]\n"
	"\n"
	"Compares two run reports (ccmm run --json) or two sweep tables (ccmm sweep\n"
	"--json, rows joined on their keys): every figure both have, with B - A and\n"
	"B / A, the changed ones first.\n"
	"\n"
	"  --min-change P   a figure changed by less than P counts as the same: 5%, or a\n"
	"                   fraction (0.05); default: any change\n"
	"  --all            also list the figures that did not change\n"
	"  --csv FILE       the rows as CSV ('-': standard output)\n"
	"  --json FILE      the diff as JSON\n"
	"  -q, --quiet      no table on standard output\n"
	"\n"
	"exit status: 0 nothing changed, 1 something changed, 2 bad input (two JSONs of\n"
	"different kinds, not ccmm's, sweeps over different keys)\n";

static json_t *load(const char *path, struct ccmm_error *err)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);

	if (!j) {
		struct ccmm_loc loc = { path, je.line > 0 ? je.line : 0 };

		ccmm_error_set(err, &loc, -EINVAL, "%s", je.text);
	}
	return j;
}

static int write_csv(void *arg, FILE *out)
{
	return ccmm_diff_write_csv(arg, out);
}

static int write_json(void *arg, FILE *out)
{
	int ret = json_dumpf(arg, out, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) ? -EIO : 0;

	fputc('\n', out);
	return ret;
}

/* "5%", "0.05", "12.5%" */
static int parse_change(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0 || !(v == v))
		return -EINVAL;
	if (*end == '%') {
		v /= 100;
		end++;
	}
	if (*end)
		return -EINVAL;
	*out = v;
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	enum { O_MIN = 256, O_ALL, O_CSV, O_JSON, O_HELP };
	static const struct option longopts[] = {
		{ "min-change", required_argument, NULL, O_MIN }, { "all", no_argument, NULL, O_ALL },
		{ "csv", required_argument, NULL, O_CSV },        { "json", required_argument, NULL, O_JSON },
		{ "quiet", no_argument, NULL, 'q' },              { "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	struct ccmm_diff_opts o = { 0, false };
	const char *csv = NULL, *json = NULL;
	bool quiet = false;
	json_t *a = NULL, *b = NULL, *d = NULL;
	struct ccmm_error err;
	int c, status = CLI_BAD_INPUT;

	memset(&err, 0, sizeof(err));
	opterr = 0;
	optind = 0; /* a full re-initialisation: main.c ran getopt_long before */
	while ((c = getopt_long(argc, argv, "q", longopts, NULL)) != -1) {
		switch (c) {
		case O_MIN:
			if (parse_change(optarg, &o.min_change))
				return cli_bad("diff", "--min-change '%s': a percentage (5%%) or a fraction (0.05)", optarg);
			break;
		case O_ALL:
			o.all = true;
			break;
		case O_CSV:
			csv = optarg;
			break;
		case O_JSON:
			json = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case O_HELP:
			fputs(usage_text, stdout);
			return 0;
		default:
			return cli_getopt_error("diff", argv, "q", longopts);
		}
	}
	if (argc - optind != 2)
		return cli_bad("diff", "two JSON files: ccmm diff A.json B.json (--help)");
	a = load(argv[optind], &err);
	if (a)
		b = load(argv[optind + 1], &err);
	if (!a || !b || ccmm_diff(a, argv[optind], b, argv[optind + 1], &o, &d, &err)) {
		status = cli_error(&err);
		goto out;
	}
	status = json_integer_value(json_object_get(d, "changed")) ? 1 : 0;
	if (csv && cli_write(csv, write_csv, d))
		status = CLI_BAD_INPUT;
	if (status != CLI_BAD_INPUT && json && cli_write(json, write_json, d))
		status = CLI_BAD_INPUT;
	if (status != CLI_BAD_INPUT && !quiet && !(csv && !strcmp(csv, "-")) && !(json && !strcmp(json, "-")))
		ccmm_diff_write_text(d, stdout);
out:
	json_decref(a);
	json_decref(b);
	json_decref(d);
	return status;
}

/* The command table's entry (commands.c): help, ccmm(1) and the completion list these options; cmd_diff parses them. */
static const struct cli_option diff_opts[] = {
	{ "min-change", 256, "P", "a figure changed by less than P counts as the same: 5% or 0.05", NULL },
	{ "all", 257, NULL, "also list the figures that did not change", NULL },
	{ "csv", 258, "FILE", "the rows as CSV ('-': standard output)", "file" },
	{ "json", 259, "FILE", "the diff as JSON", "file" },
	{ "quiet", 'q', NULL, "no table on standard output", NULL },
	{ NULL },
};

static int diff_main(const struct cli_command *cmd, int argc, char **argv)
{
	(void)cmd;
	return cmd_diff(argc, argv);
}

const struct cli_command _ccmm_cmd_diff = {
	"diff",
	"A.json B.json",
	"two run reports or two sweep tables side by side: B - A and B / A, the changed figures first",
	"Compares two run reports (ccmm run --json) or two sweep tables (ccmm sweep --json, rows joined on their "
	"keys): every figure both have with A, B, B - A and B / A, the changed ones first, then the figures only "
	"one has.\n\n"
	"The exit status is 0 when nothing changed, 1 when something did, 2 for JSONs of different kinds, JSONs "
	"ccmm did not write, or sweeps over different keys.",
	diff_opts,
	"file",
	diff_main,
};
