// SPDX-License-Identifier: MIT
/*
 * ccmm sweep JOB --vary KEY=V1,V2 ... : a job over a grid of settings, one
 * row per point, on this machine's cores (-j) or over MPI ranks (--mpi).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/internal.h"
#include "plot/plot.h"
#include "sweep/sweep.h"

static const char usage_text[] =
	"usage: ccmm sweep JOB [--vary KEY=V1,V2,...]... [--set KEY=VALUE]... [--metric PATH]...\n"
	"                  [-j N] [--csv FILE] [--json FILE] [--plot DIR] [--mpi] [-q]\n"
	"\n"
	"Runs JOB at every point of the grid the --vary options (and the job's [sweep]\n"
	"section) span, the first key slowest, and writes one row per point.\n"
	"\n"
	"  --vary KEY=V1,V2,...  a key and its values; a value may be a range LO..HI,\n"
	"                        LO..HI:STEP or LO..HI*FACTOR (sizes take k/m/g suffixes)\n"
	"                        KEY is a [global] option (sgx_reclaim), SECTION.KEY (an\n"
	"                        actor's option), platform.KEY, platform.SECT:NAME.KEY\n"
	"                        (platform.epc:sec0.size) or cost.NAME; platform=FILE\n"
	"  --set KEY=VALUE       the same keys, one value for every point\n"
	"  --metric PATH         a column: a figure of the JSON report (ccmm run --json) by\n"
	"                        path, e.g. jobs.disk.costs.ve_ns.ns or sgx.cgroups.*.oom\n"
	"                        (default: the figures of the subsystems the job uses)\n"
	"  -j, --jobs N          points run at once, each in its own process (default: the\n"
	"                        number of cores); the table is the same whatever N\n"
	"  --csv FILE            the table as CSV ('-': standard output)\n"
	"  --json FILE           the table as JSON (ccmm diff and ccmm plot read it)\n"
	"  --plot DIR            a picture per metric against the first key, one line per\n"
	"                        value of the second (PNG and SVG, by gnuplot)\n"
	"  --mpi                 under mpirun/srun: the ranks share the points and rank 0\n"
	"                        writes the table (-j then counts per rank, default 1)\n"
	"  -q, --quiet           no progress lines\n"
	"\n"
	"exit status: 0 every point ran as expected, 1 some point did not (its row says\n"
	"why), 2 bad input (nothing written)\n";

struct outputs {
	json_t *table;
};

static int write_csv(void *arg, FILE *out)
{
	return ccmm_table_write_csv(((struct outputs *)arg)->table, out);
}

static int write_json(void *arg, FILE *out)
{
	return ccmm_table_write_json(((struct outputs *)arg)->table, out);
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int table_status(json_t *table)
{
	json_t *r;
	size_t i;
	int st = 0;

	json_array_foreach(json_object_get(table, "rows"), i, r)
		if (json_integer_value(json_object_get(r, "status")))
			st = 1;
	return st;
}

int cmd_sweep(int argc, char **argv)
{
	enum { O_VARY = 256, O_SET, O_METRIC, O_CSV, O_JSON, O_PLOT, O_MPI, O_HELP };
	static const struct option longopts[] = {
		{ "vary", required_argument, NULL, O_VARY },   { "set", required_argument, NULL, O_SET },
		{ "metric", required_argument, NULL, O_METRIC }, { "jobs", required_argument, NULL, 'j' },
		{ "csv", required_argument, NULL, O_CSV },     { "json", required_argument, NULL, O_JSON },
		{ "plot", required_argument, NULL, O_PLOT },   { "mpi", no_argument, NULL, O_MPI },
		{ "quiet", no_argument, NULL, 'q' },           { "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char **varies = calloc((size_t)argc + 1, sizeof(char *)), **sets = calloc((size_t)argc + 1, sizeof(char *));
	const char **metrics = calloc((size_t)argc + 1, sizeof(char *));
	const char *csv = NULL, *json = NULL, *plot = NULL;
	size_t nv = 0, ns = 0, nm = 0, total;
	unsigned jobs = 0;
	bool mpi = false, quiet = false; /* quiet: no progress lines */
	int rank = 0, size = 1, c, ret = 0, status = CLI_BAD_INPUT;
	struct ccmm_sweep sw;
	struct ccmm_error err;
	struct outputs o = { NULL };
	char **rows = NULL;
	double t0 = now_s();

	memset(&sw, 0, sizeof(sw));
	memset(&err, 0, sizeof(err));
	if (!varies || !sets || !metrics) {
		status = cli_bad("sweep", "out of memory");
		goto out;
	}
	opterr = 0;
	optind = 0; /* a full re-initialisation: main.c ran getopt_long before */
	while ((c = getopt_long(argc, argv, "j:q", longopts, NULL)) != -1) {
		switch (c) {
		case O_VARY:
			varies[nv++] = optarg;
			break;
		case O_SET:
			sets[ns++] = optarg;
			break;
		case O_METRIC:
			metrics[nm++] = optarg;
			break;
		case 'j': {
			uint64_t v;

			if (ccmm_parse_u64(optarg, false, &v) || !v || v > 256) {
				status = cli_bad("sweep", "-j '%s': a number of workers from 1 to 256", optarg);
				goto out;
			}
			jobs = (unsigned)v;
			break;
		}
		case O_CSV:
			csv = optarg;
			break;
		case O_JSON:
			json = optarg;
			break;
		case O_PLOT:
			plot = optarg;
			break;
		case O_MPI:
			mpi = true;
			break;
		case 'q':
			quiet = true;
			break;
		case O_HELP:
			fputs(usage_text, stdout);
			status = 0;
			goto out;
		default:
			status = cli_getopt_error("sweep", argv, "j:q", longopts);
			goto out;
		}
	}
	if (optind != argc - 1) {
		status = optind >= argc ? cli_bad("sweep", "which job? ccmm sweep JOB --vary KEY=V1,V2 (--help)")
					: cli_bad("sweep", "one job file at a time ('%s' and '%s')", argv[optind], argv[optind + 1]);
		goto out;
	}
	if (mpi && !cli_mpi_available()) {
		status = cli_bad("sweep", "--mpi: this ccmm was built without MPI (install libopenmpi-dev or libmpich-dev "
				 "and configure the build again)");
		goto out;
	}
	if (plot && (ret = ccmm_plot_available(&err))) {
		status = cli_error(&err);
		goto out;
	}
	if (mpi && cli_mpi_init(&argc, &argv, &rank, &size)) {
		status = cli_bad("sweep", "--mpi: MPI could not start");
		mpi = false;
		goto out;
	}
	/* every rank parses the same arguments: bad input stops each the same way */
	ret = ccmm_sweep_init(&sw, argv[optind], &err);
	for (size_t i = 0; !ret && i < ns; i++)
		ret = ccmm_sweep_add_set(&sw, sets[i], &err);
	for (size_t i = 0; !ret && i < nv; i++)
		ret = ccmm_sweep_add_vary(&sw, varies[i], "--vary", &err);
	for (size_t i = 0; !ret && i < nm; i++)
		ret = ccmm_sweep_add_metric(&sw, metrics[i], &err);
	if (!ret)
		ret = ccmm_sweep_check(&sw, &err);
	if (ret) {
		status = rank == 0 ? cli_error(&err) : CLI_BAD_INPUT;
		goto out;
	}
	total = ccmm_sweep_points(&sw);
	rows = calloc(total, sizeof(*rows));
	if (!rows) {
		status = cli_bad("sweep", "out of memory for %zu rows", total);
		goto out;
	}
	if (!jobs) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);

		jobs = mpi ? 1 : n > 0 ? (unsigned)n : 1;
	}
	if (!quiet && rank == 0)
		fprintf(stderr, "ccmm sweep: %s, %zu point(s), %u at a time%s\n", sw.job, total, jobs,
			mpi ? " on each MPI rank" : "");
	/* a local sweep checks the metrics on its first point before the others start */
	ret = ccmm_sweep_run_local(&sw, jobs, (size_t)rank, (size_t)size, !mpi, rows, quiet ? NULL : stderr, &err);
	/* every rank gathers, whatever happened to it: a point a rank could not run is a row with its error */
	if (mpi && cli_mpi_gather(rows, total, rank, size) && !ret)
		ret = ccmm_error_set(&err, NULL, -EIO, "--mpi: the rows could not be gathered on rank 0");
	if (rank == 0 && !ret)
		ret = ccmm_sweep_table(&sw, rows, now_s() - t0, &o.table, &err);
	if (ret) {
		status = rank == 0 ? cli_error(&err) : CLI_BAD_INPUT;
		goto done;
	}
	status = 0;
	if (rank == 0) {
		bool to_stdout = (csv && !strcmp(csv, "-")) || (json && !strcmp(json, "-"));

		if (csv && cli_write(csv, write_csv, &o))
			status = CLI_BAD_INPUT;
		if (!status && json && cli_write(json, write_json, &o))
			status = CLI_BAD_INPUT;
		if (!status && plot && ccmm_plot_table(o.table, plot, &err) < 0)
			status = cli_error(&err);
		if (!status && !to_stdout)
			ccmm_table_write_text(o.table, stdout);
		if (!status)
			status = table_status(o.table);
	}
done:
	if (mpi)
		status = cli_mpi_bcast_status(status);
out:
	if (mpi)
		cli_mpi_finalize();
	for (size_t p = 0; rows && p < ccmm_sweep_points(&sw); p++)
		free(rows[p]);
	free(rows);
	json_decref(o.table);
	ccmm_sweep_free(&sw);
	free(varies);
	free(sets);
	free(metrics);
	return status;
}

/* The command table's entry (commands.c): help, ccmm(1) and the completion list these options; cmd_sweep parses them. */
static const struct cli_option sweep_opts[] = {
	{ "vary", 256, "KEY=V1,V2,...", "a key and its values (ranges LO..HI, LO..HI:STEP, LO..HI*FACTOR); repeatable", NULL },
	{ "set", 257, "KEY=VALUE", "a key with one value for every point; repeatable", NULL },
	{ "metric", 258, "PATH", "a column: a figure of the run's JSON report by path ('*' segments); repeatable", NULL },
	{ "jobs", 'j', "N", "points run at once, each in its own process (default: the cores)", NULL },
	{ "csv", 259, "FILE", "the table as CSV ('-': standard output)", "file" },
	{ "json", 260, "FILE", "the table as JSON (ccmm diff and ccmm plot read it)", "file" },
	{ "plot", 261, "DIR", "a picture per metric against the first key, a line per value of the second", "dir" },
	{ "mpi", 262, NULL, "under mpirun or srun: the ranks share the points, rank 0 writes the table", NULL },
	{ "quiet", 'q', NULL, "no progress lines", NULL },
	{ NULL },
};

static int sweep_main(const struct cli_command *cmd, int argc, char **argv)
{
	(void)cmd;
	return cmd_sweep(argc, argv);
}

const struct cli_command _ccmm_cmd_sweep = {
	"sweep",
	"JOB",
	"run a job over a grid of settings into one table (CSV, JSON, text), on local cores or MPI ranks",
	"Runs JOB at every point of the grid the --vary options and the job's [sweep] section span (the first key "
	"slowest), each point in a process of its own, and writes one row per point: its settings, its exit "
	"status, one column per metric, its error. The table is the same whatever -j, and a point that fails is a "
	"row with its error. The keys are those --set takes: a [global] option, SECTION.KEY, platform.KEY, "
	"platform.SECT:NAME.KEY, cost.NAME, platform=FILE.\n\n"
	"The exit status is 0 when every point ran as expected, 1 when some point did not, 2 on bad input.",
	sweep_opts,
	"job",
	sweep_main,
};
