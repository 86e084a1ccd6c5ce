// SPDX-License-Identifier: MIT
/*
 * ccmm trace agree / ccmm trace whatif: a recording of a real kernel
 * (scripts/record-kernel.sh: platform.ini, trace.zst, after/swiotlb/)
 * replayed by a dma_trace actor in a job built here.
 *
 *   agree   on the recorded platform, with the kernel's pool: every
 *           bounce on the kernel's slot, the final io_tlb_used and
 *           io_tlb_used_hiwater equal (exit 0), or the first divergence
 *           with its trace line (exit 1)
 *   whatif  the same trace on the recorded platform and on that machine
 *           made a TDX, SEV-SNP or pSeries secure guest (its pool kept,
 *           so only the mode differs): per device what bouncing costs
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/internal.h"
#include "report/report.h"
#include "scenario/scenario.h"

#define EXIT_BAD 2

#define DIR_MAX (PATH_MAX - 64) /* room for "/after/swiotlb/io_tlb_used" */

struct recording {
	const char *shown;       /* as the user named it */
	char dir[DIR_MAX];       /* the recording, or "" for a bare trace */
	char trace[PATH_MAX];
	char platform[PATH_MAX];
	char debugfs[PATH_MAX];  /* the kernel's debugfs at the end ("" when unknown) */
};

static bool exists(const char *path, bool dir)
{
	struct stat st;

	return !stat(path, &st) && (dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode));
}

static int bad(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "ccmm trace %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return EXIT_BAD;
}

/*
 * RECORDING: a folder of scripts/record-kernel.sh, or a trace file with
 * --platform. Paths stay as the user gave them (the job is text: relative
 * ones resolve where ccmm runs), so messages name them so. 0 or the exit
 * status.
 */
static int find_recording(const char *cmd, const char *arg, const char *platform, const char *debugfs,
			  struct recording *r)
{
	char p[PATH_MAX];

	memset(r, 0, sizeof(*r));
	r->shown = arg;
	if (strlen(arg) >= sizeof(r->dir))
		return bad(cmd, "%s: the path is too long", arg);
	if (exists(arg, true)) {
		memcpy(r->dir, arg, strlen(arg) + 1);
		while (strlen(r->dir) > 1 && r->dir[strlen(r->dir) - 1] == '/')
			r->dir[strlen(r->dir) - 1] = '\0';
		snprintf(p, sizeof(p), "%s/trace.zst", r->dir);
		if (!exists(p, false))
			snprintf(p, sizeof(p), "%s/trace", r->dir);
		if (!exists(p, false))
			return bad(cmd, "%s: no trace.zst or trace in this recording", arg);
		snprintf(r->trace, sizeof(r->trace), "%s", p);
		snprintf(p, sizeof(p), "%s/platform.ini", r->dir);
		if (!platform && exists(p, false))
			snprintf(r->platform, sizeof(r->platform), "%s", p);
		snprintf(p, sizeof(p), "%s/after/swiotlb/io_tlb_used", r->dir);
		if (!debugfs && exists(p, false))
			snprintf(r->debugfs, sizeof(r->debugfs), "%s/after", r->dir);
	} else if (exists(arg, false)) {
		snprintf(r->trace, sizeof(r->trace), "%s", arg);
	} else {
		return bad(cmd, "%s: no such recording (a folder from scripts/record-kernel.sh) or trace file", arg);
	}
	if (platform) {
		if (!exists(platform, false) || strlen(platform) >= sizeof(r->platform))
			return bad(cmd, "--platform %s: no such file", platform);
		snprintf(r->platform, sizeof(r->platform), "%s", platform);
	}
	if (!r->platform[0])
		return bad(cmd, "%s: which platform? (--platform FILE: the machine the trace was recorded on)", arg);
	if (debugfs) {
		if (!exists(debugfs, true) || strlen(debugfs) >= sizeof(r->debugfs))
			return bad(cmd, "--debugfs %s: no such folder", debugfs);
		snprintf(r->debugfs, sizeof(r->debugfs), "%s", debugfs);
	}
	return 0;
}

/* Load and run a job from @text. 0 with the run (and its job), or the exit status after printing why. */
static int run_text(const char *name, const char *text, struct ccmm_job **job, struct ccmm_run **run)
{
	struct ccmm_error err;
	int ret;

	*job = NULL;
	*run = NULL;
	ret = ccmm_job_load(name, text, NULL, job, &err);
	if (ret) {
		char msg[1024];

		ccmm_error_format(&err, msg, sizeof(msg));
		fprintf(stderr, "%s\n", msg);
		return EXIT_BAD;
	}
	ret = ccmm_job_run(*job, run);
	if (ret) {
		fprintf(stderr, "%s: cannot start the replay: %s\n", name, strerror(-ret));
		ccmm_job_free(*job);
		*job = NULL;
		return EXIT_BAD;
	}
	if ((*run)->error[0]) {
		fprintf(stderr, "%s\n", (*run)->error);
		ccmm_run_free(*run);
		ccmm_job_free(*job);
		*run = NULL;
		*job = NULL;
		return EXIT_BAD;
	}
	return 0;
}

/* The job that replays @r's trace on @platform; @ops the op lines, @extra more actor options. */
static char *job_text(const struct recording *r, const char *platform, const char *extra, const char *ops)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	fprintf(f, "[global]\nplatform = %s\n\n[kernel]\nactor = dma_trace\ntrace = %s\n", platform, r->trace);
	if (r->debugfs[0])
		fprintf(f, "kernel_debugfs = %s\n", r->debugfs);
	fprintf(f, "%s%s", extra, ops);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- agree ---------------------------------------------------------------------------------------------------- */

int _ccmm_trace_agree(const char *recording, const char *platform, const char *debugfs)
{
	struct recording r;
	struct ccmm_job *job;
	struct ccmm_run *run;
	struct ccmm_run_summary sum;
	struct ccmm_actor *a;
	char *text;
	int ret;

	ret = find_recording("agree", recording, platform, debugfs, &r);
	if (ret)
		return ret;
	text = job_text(&r, r.platform, "", "op = replay\nop = agree\n");
	if (!text)
		return bad("agree", "%s", "out of memory");
	ret = run_text("ccmm trace agree", text, &job, &run);
	free(text);
	if (ret)
		return ret;
	a = job->actors[0];
	printf("%s: replayed on platform %s\n", r.shown, job->plat->name);
	if (a->kind->report_text)
		a->kind->report_text(a, stdout);
	ccmm_run_summarize(run, &sum);
	for (size_t i = 0; ccmm_run_op_error(run, i); i++)
		printf("  %s: %s\n", ccmm_run_op_error(run, i)->verb, ccmm_run_op_error(run, i)->note);
	if (sum.unexpected)
		printf("  %zu rule violation(s) in the replay (ccmm run on the same job lists them)\n", sum.unexpected);
	printf("agree: %s\n", sum.status ? "no" : "yes");
	ret = sum.status;
	ccmm_run_free(run);
	ccmm_job_free(job);
	return ret;
}

/* ---- what-if ---------------------------------------------------------------------------------------------------- */

struct variant {
	const char *label;   /* the table's name */
	const char *mode;    /* NULL: the recorded platform as it is */
	const char *window;  /* pSeries: ddw or dma32 */
};

/*
 * "recorded" is the machine as the kernel ran it (with swiotlb=force, so
 * every mapping bounced: what made the trace); "none" the same machine
 * without swiotlb=force, as it runs every day: nothing bounces that its
 * masks reach.
 */
static const struct variant variants[] = {
	{ "recorded", NULL, NULL },
	{ "none", "none", NULL },
	{ "tdx", "tdx", NULL },
	{ "sev-snp", "sev-snp", NULL },
	{ "pseries-svm ddw", "pseries-svm", "ddw" },
	{ "pseries-svm dma32", "pseries-svm", "dma32" },
};

/* "key = value" line's key is @key? */
static bool line_key(const char *line, const char *key)
{
	size_t n = strlen(key);

	while (*line == ' ' || *line == '\t')
		line++;
	return !strncmp(line, key, n) && (line[n] == ' ' || line[n] == '\t' || line[n] == '=');
}

/*
 * The recorded platform made a guest of @mode (or, for "none", left a plain
 * machine): [platform]'s name, mode and swiotlb_force replaced (a guest
 * forces bouncing itself), the pool kept where the kernel had it; a
 * pSeries guest gets the TCE IOMMU every device of such a machine sits
 * behind (a 2 GiB 32-bit window and a dynamic window, as
 * platforms/pseries-svm.ini).
 */
static int derive(const char *src, const char *mode, const char *dst)
{
	FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
	char line[1024];
	bool in_platform = false, pseries = !strcmp(mode, "pseries-svm");
	int ret = 0;

	if (!in || !out) {
		ret = -errno;
		goto done;
	}
	while (fgets(line, sizeof(line), in)) {
		const char *p = line;

		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[') {
			in_platform = !strncmp(p, "[platform]", 10);
			fputs(line, out);
			if (in_platform)
				fprintf(out, "; made a %s machine by ccmm trace whatif\nname = rec-as-%s\nmode = %s\n", mode, mode, mode);
			else if (pseries && !strncmp(p, "[device:", 8))
				fprintf(out, "iommu = phb0\n");
			continue;
		}
		if (in_platform && (line_key(p, "mode") || line_key(p, "name") || line_key(p, "swiotlb_force")))
			continue;
		fputs(line, out);
	}
	if (pseries)
		fprintf(out, "\n[iommu:phb0]\nkind = pseries-tce\npage_shift = 12\ndma32_window = 2g\nddw = yes\n"
			     "ddw_page_shift = 16\nddw_align = 256m\n");
	if (ferror(in) || ferror(out))
		ret = -EIO;
done:
	if (in)
		fclose(in);
	if (out && fclose(out) && !ret)
		ret = -EIO;
	return ret;
}

static uint64_t jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (uint64_t)json_integer_value(v) : 0;
}

int _ccmm_trace_whatif(const char *recording, const char *platform, const char *json_path, bool no_filter)
{
	char tmpdir[PATH_MAX], dpath[PATH_MAX + 32];
	struct recording r;
	struct ccmm_outfile of;
	json_t *all;
	bool header = false;
	FILE *text_out = stdout;
	int ret = 0;

	ret = find_recording("whatif", recording, platform, NULL, &r);
	if (ret)
		return ret;
	r.debugfs[0] = '\0'; /* no agreement asked: other platforms have other pools */
	/* the JSON's file before the runs: one that cannot be written is bad input, found at once */
	if (json_path) {
		ret = _ccmm_cli_output_open(&of, json_path);
		if (ret) {
			fprintf(stderr, "ccmm trace whatif: --json %s: %s\n", json_path, strerror(-ret));
			return EXIT_BAD;
		}
		/* the JSON on standard output keeps it clean: the table goes to stderr */
		if (_ccmm_cli_output_is_stdout(&of))
			text_out = stderr;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/ccmm-whatif.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(tmpdir)) {
		ret = bad("whatif", "cannot make a temporary folder: %s", strerror(errno));
		if (json_path)
			_ccmm_cli_output_done(&of, false);
		return ret;
	}
	all = json_array();
	for (size_t v = 0; v < CCMM_ARRAY_SIZE(variants) && !ret; v++) {
		const struct variant *var = &variants[v];
		char extra[64] = "", *text;
		size_t elen;
		struct ccmm_job *job;
		struct ccmm_run *run;
		struct ccmm_actor *a;
		json_t *jo, *jt, *jp, *devs, *d;
		size_t i;

		if (var->mode) {
			snprintf(dpath, sizeof(dpath), "%s/%s.ini", tmpdir, var->mode);
			if (derive(r.platform, var->mode, dpath)) {
				ret = bad("whatif", "cannot write %s", dpath);
				break;
			}
		} else {
			snprintf(dpath, sizeof(dpath), "%s", r.platform);
		}
		elen = (size_t)snprintf(extra, sizeof(extra), "%s", no_filter ? "filter = no\n" : "");
		if (var->window)
			snprintf(extra + elen, sizeof(extra) - elen, "window = %s\n", var->window);
		text = job_text(&r, dpath, extra, "op = replay\n");
		if (!text) {
			ret = bad("whatif", "%s", "out of memory");
			break;
		}
		ret = run_text("ccmm trace whatif", text, &job, &run);
		free(text);
		if (ret)
			break;
		a = job->actors[0];
		jo = json_object();
		a->kind->report_json(a, jo);
		jt = json_object_get(jo, "dma_trace");
		if (!header) {
			fprintf(text_out, "what-if: %s (%" PRIu64 " DMA/SWIOTLB events) replayed on %s and on it made a confidential guest\n\n",
			       r.shown, jint(jt, "events"), job->plat->name);
			fprintf(text_out, "%-18s %-14s %6s %7s %6s %12s %6s %8s %9s %10s\n", "platform", "device", "maps", "bounced",
			       "failed", "bounce bytes", "slots", "coherent", "to_shared", "modeled");
			header = true;
		}
		devs = json_object_get(jt, "devices");
		json_array_foreach(devs, i, d) {
			char t[32];

			if (!json_is_true(json_object_get(d, "bound"))) {
				fprintf(text_out, "%-18s %-14s probe refused (%s): %" PRIu64 " calls not made\n", var->label,
				       json_string_value(json_object_get(d, "name")), strerror((int)-jint(d, "bind_error")),
				       jint(d, "refused"));
				continue;
			}
			fprintf(text_out, "%-18s %-14s %6" PRIu64 " %7" PRIu64 " %6" PRIu64 " %12" PRIu64 " %6" PRIu64 " %8" PRIu64
			       " %9" PRIu64 " %10s\n",
			       var->label, json_string_value(json_object_get(d, "name")), jint(d, "maps"), jint(d, "bounced"),
			       jint(d, "map_failures"), jint(d, "bounce_bytes"), jint(d, "slots"), jint(d, "coherent"),
			       jint(d, "to_shared"), ccmm_format_ns(jint(d, "modeled_ns"), t, sizeof(t)));
		}
		jp = json_object_get(jt, "pool");
		if (jp) {
			char t[32];

			fprintf(text_out, "%-18s %-14s io_tlb_nslabs %" PRIu64 ", io_tlb_used_hiwater %" PRIu64, var->label, "(pool)",
			       jint(jp, "io_tlb_nslabs"), jint(jp, "io_tlb_used_hiwater"));
			if (jint(jp, "shared_pages"))
				fprintf(text_out, ", made shared at its first use: %" PRIu64 " pages in %s", jint(jp, "shared_pages"),
				       ccmm_format_ns(jint(jp, "share_ns"), t, sizeof(t)));
			fprintf(text_out, "\n");
		}
		json_object_set_new(jt, "platform", json_string(var->label));
		json_array_append(all, jt);
		json_decref(jo);
		ccmm_run_free(run);
		ccmm_job_free(job);
	}
	for (size_t v = 0; v < CCMM_ARRAY_SIZE(variants); v++) {
		if (!variants[v].mode)
			continue;
		snprintf(dpath, sizeof(dpath), "%s/%s.ini", tmpdir, variants[v].mode);
		unlink(dpath);
	}
	rmdir(tmpdir);
	if (json_path) {
		int w = !ret && json_dumpf(all, of.fp, JSON_INDENT(2)) ? -EIO : 0;
		int done = _ccmm_cli_output_done(&of, !ret && !w);

		if (!w)
			w = done;
		if (!ret && w) {
			fprintf(stderr, "%s: cannot write the JSON: %s\n", json_path, strerror(-w));
			ret = EXIT_BAD;
		}
	}
	json_decref(all);
	return ret;
}
