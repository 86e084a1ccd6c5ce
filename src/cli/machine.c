// SPDX-License-Identifier: MIT
/* The modeled machine: ccmm platform [P] and ccmm states --mode M. */
#include <inttypes.h>
#include <string.h>

#include "boot/boot.h"
#include "check/check.h"
#include "cli/internal.h"

/* ---- platform ------------------------------------------------------------------------ */

static int load_platform(const struct cli_command *cmd, const char *spec, struct ccmm_platform **p)
{
	struct ccmm_error err;
	char path[4096];
	int ret;

	if (!strcmp(spec, "default"))
		ret = ccmm_platform_default(p, &err);
	else if (!strcmp(spec, "host"))
		ret = ccmm_platform_host(p, &err);
	else if (ccmm_path_find(spec, NULL, "platforms", ".ini", path, sizeof(path)))
		return _ccmm_cli_bad(cmd, "platform file '%s' cannot be found (here, on CCMM_PATH or in %s/platforms)", spec,
				     ccmm_datadir());
	else
		ret = ccmm_platform_load(path, p, &err);
	if (!ret && (ret = ccmm_costs_check(*p, &err))) {
		ccmm_platform_free(*p);
		*p = NULL;
	}
	return ret ? _ccmm_cli_error(&err) : 0;
}

static int cmd_platform(const struct cli_command *cmd, int argc, char **argv)
{
	struct ccmm_platform *p;
	char sz[32];
	int first, ret = _ccmm_cli_parse(cmd, argc, argv, NULL, NULL, &first);

	if (ret)
		return ret;
	if (argc - first > 1)
		return _ccmm_cli_bad(cmd, "one platform at a time");
	ret = load_platform(cmd, first < argc ? argv[first] : "default", &p);
	if (ret)
		return ret;
	printf("%s (%s): mode %s, %u CPUs, %u-bit physical addresses", p->name, p->source, ccmm_cc_mode_name(p->mode),
	       p->cpus, p->phys_bits);
	if (ccmm_platform_enc_mask(p))
		printf(", %s bit %u", p->mode == CCMM_CC_TDX ? "shared" : "C-", p->mode == CCMM_CC_TDX ? p->gpa_width - 1 : p->c_bit);
	printf("\n");
	for (unsigned n = 0; n < p->nr_nodes; n++) {
		printf("node %u: %s%s, distances", n, ccmm_format_size(ccmm_platform_ram(p, (int)n), sz, sizeof(sz)),
		       p->node[n].has_cpus ? "" : " (no CPUs)");
		for (unsigned k = 0; k < p->nr_nodes; k++)
			printf(" %u", p->distance[n][k]);
		printf("\n");
	}
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];

		printf("  [0x%012" PRIx64 ", 0x%012" PRIx64 ") %-8s %-20s %s\n", r->base, r->base + r->size,
		       ccmm_range_kind_name(r->kind), r->name, ccmm_format_size(r->size, sz, sizeof(sz)));
	}
	for (size_t i = 0; i < p->nr_devices; i++) {
		const struct ccmm_device_desc *d = &p->devices[i];

		printf("device %s: %s %04x:%04x, DMA mask %u bits, %s\n", d->name, ccmm_dev_class_names[d->cls], d->vendor,
		       d->device_id, d->dma_mask_bits, d->iommu >= 0 ? p->iommus[d->iommu].name : "no IOMMU");
	}
	ccmm_platform_free(p);
	return CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_platform = {
	"platform", "[P]", "a platform laid out: its mode, nodes, address map and devices",
	"P is a platform file (ccmm-platform(5)), found as a job's platform is (here, on CCMM_PATH, in the "
	"installed share folder's platforms/; '.ini' added to a name without one), or 'default' (the built-in TDX "
	"guest, the default) or 'host' (this machine's NUMA topology). The file is read and validated as a run "
	"would, so this also checks a platform file.",
	NULL, "platform", cmd_platform,
};

/* ---- states -------------------------------------------------------------------------- */

enum { OPT_MODE = 'm', OPT_JSON = 256, OPT_MMIO };

static const char *const mmio_names[] = { "ve", "paravirt", NULL };

static const struct cli_option states_opts[] = {
	{ "mode", OPT_MODE, "M", "the confidential-computing mode: none, sme, sev, sev-snp, tdx, pseries-svm", "mode" },
	{ "json", OPT_JSON, NULL, "print the table as JSON", NULL },
	{ "mmio", OPT_MMIO, "ve|paravirt", "TDX: MMIO reached through #VE (default) or paravirtualised calls", "ve|paravirt" },
	{ NULL },
};

struct states_args {
	const struct cli_command *cmd;
	int mode, mmio;
	bool json;
};

static int states_opt(void *ctx, int key, const char *arg)
{
	struct states_args *sa = ctx;

	switch (key) {
	case OPT_MODE:
		sa->mode = ccmm_cc_mode_parse(arg);
		if (sa->mode < 0) {
			const char *near = ccmm_suggest(arg, ccmm_cc_mode_names, CCMM_CC_NR);

			if (near)
				return _ccmm_cli_bad(sa->cmd, "unknown mode '%s'; did you mean '%s'?", arg, near);
			return _ccmm_cli_bad(sa->cmd, "unknown mode '%s' (none, sme, sev, sev-snp, tdx, pseries-svm)", arg);
		}
		break;
	case OPT_MMIO:
		sa->mmio = ccmm_choice_index(mmio_names, arg);
		if (sa->mmio < 0)
			return _ccmm_cli_bad(sa->cmd, "--mmio is ve or paravirt, not '%s'", arg);
		break;
	case OPT_JSON:
		sa->json = true;
		break;
	}
	return 0;
}

static int cmd_states(const struct cli_command *cmd, int argc, char **argv)
{
	struct states_args sa = { cmd, -1, 0, false };
	int first, ret = _ccmm_cli_parse(cmd, argc, argv, states_opt, &sa, &first);

	if (ret)
		return ret;
	if (first < argc)
		return _ccmm_cli_bad(cmd, "unexpected argument '%s' (the mode goes with --mode)", argv[first]);
	if (sa.mode < 0)
		return _ccmm_cli_bad(cmd, "which mode? --mode none|sme|sev|sev-snp|tdx|pseries-svm");
	return ccmm_states_table((enum ccmm_cc_mode)sa.mode, (enum ccmm_mmio_mode)sa.mmio, sa.json, stdout) ? CLI_EXIT_UNEXPECTED
													   : CLI_EXIT_OK;
}

const struct cli_command _ccmm_cmd_states = {
	"states", "--mode M", "the memory-state table of a confidential-computing mode",
	"For every page state (shared, private, pending) and every accessor (the guest kernel, the host or VMM, "
	"a device) with the encrypted or shared attribute it uses: what the access yields under mode M (data, "
	"scrambled data, #PF, #VE, #VC, a machine check, an aborted or blocked DMA) and which rule it breaks.",
	states_opts, NULL, cmd_states,
};
