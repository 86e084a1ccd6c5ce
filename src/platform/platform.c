// SPDX-License-Identifier: MIT
/* Platform descriptions: names, the file format, layout and validation. */
#include "platform/platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const ccmm_cc_mode_names[] = { "none", "sme", "sev", "sev-snp", "tdx", "pseries-svm", NULL };

const char *ccmm_cc_mode_name(enum ccmm_cc_mode mode)
{
	return (unsigned)mode < CCMM_CC_NR ? ccmm_cc_mode_names[mode] : "?";
}

int ccmm_cc_mode_parse(const char *name)
{
	int i = ccmm_choice_index(ccmm_cc_mode_names, name);

	if (i >= 0)
		return i;
	if (!strcasecmp(name, "snp"))
		return CCMM_CC_SEV_SNP;
	if (!strcasecmp(name, "pseries") || !strcasecmp(name, "svm"))
		return CCMM_CC_PSERIES_SVM;
	return -1;
}

bool ccmm_cc_is_guest(enum ccmm_cc_mode mode)
{
	return mode == CCMM_CC_SEV || mode == CCMM_CC_SEV_SNP || mode == CCMM_CC_TDX ||
	       mode == CCMM_CC_PSERIES_SVM;
}

bool ccmm_cc_private_by_default(enum ccmm_cc_mode mode)
{
	return ccmm_cc_is_guest(mode);
}

bool ccmm_cc_force_dma_unencrypted(enum ccmm_cc_mode mode)
{
	return ccmm_cc_is_guest(mode);
}

const char *ccmm_range_kind_name(enum ccmm_range_kind kind)
{
	static const char *const n[] = { "ram", "bar", "epc", "reserved" };

	return (unsigned)kind < CCMM_ARRAY_SIZE(n) ? n[kind] : "?";
}

const char *const ccmm_dev_class_names[] = {
	"generic", "virtio-blk", "virtio-net", "virtio-console", "virtio-fs", "gpu", "nic", "nvme", "accel", NULL,
};

static const char *const mem_kind_names[] = { "dram", "pmem", "cxl", "hbm", NULL };
static const char *const iommu_kind_names[] = { "generic", "pseries-tce", NULL };
static const char *const mmio_names[] = { "ve", "paravirt", NULL };

const struct ccmm_cost_info ccmm_cost_info[CCMM_COST_NR] = {
#define CCMM_COST_INFO(name, def, src) { #name, def, src },
	CCMM_COSTS(CCMM_COST_INFO)
#undef CCMM_COST_INFO
};

const struct ccmm_counter_info ccmm_counter_info[CCMM_CTR_NR] = {
#define CCMM_CTR_INFO(name, help) { #name, help },
	CCMM_COUNTERS(CCMM_CTR_INFO)
#undef CCMM_CTR_INFO
};

struct ccmm_cost_block ccmm_core_block = {
	"platform", ccmm_cost_info, CCMM_COST_NR, ccmm_counter_info, CCMM_CTR_NR, 0, 0,
};

/* ------------------------------------------------------------------ */
/* Parsing                                                             */
/* ------------------------------------------------------------------ */

#define UNSET UINT64_MAX

struct plat_opts {
	char name[64];
	int mode;
	uint64_t cpus, phys_bits, c_bit, gpa_width, swiotlb_size, swiotlb_areas, swiotlb_base;
	bool sme_coherent, swiotlb_force;
	bool set_swiotlb_base;
	struct ccmm_where where_swiotlb_base;
	int mmio;
	/* which of the mode-specific keys were written, for mode checks */
	bool set_c_bit, set_gpa_width, set_sme_coherent, set_mmio, set_mode;
	struct ccmm_where where_c_bit, where_gpa_width, where_sme_coherent, where_mmio, where_mode;
};

struct node_opts {
	uint64_t mem, base, latency_ns, bandwidth_mbps;
	int kind;
	bool cpus, online;
	char distance[128];
	char demote_to[16];
};

struct range_opts {
	uint64_t node, base, size;
};

struct dev_opts {
	int cls;
	char pci_id[16];
	uint64_t dma_mask, coherent_mask, node, p2p_group, capacity, min_align_mask;
	bool ats, tdisp;
	char iommu[CCMM_NAME_MAX];
	char bar[CCMM_MAX_BARS][64];
};

struct iommu_opts {
	int kind;
	uint64_t page_shift, dma32_window, ddw_size, ddw_page_shift, ddw_align;
	bool ddw;
};

#define OPT(st, f) offsetof(struct st, f)

static const struct ccmm_option platform_options[] = {
	{ "name", CCMM_OPT_STR, OPT(plat_opts, name), 0, 64, false, NULL, "custom", "a name for reports" },
	{ "mode", CCMM_OPT_ENUM, OPT(plat_opts, mode), 0, 0, false, ccmm_cc_mode_names, "none",
	  "confidential-computing mode" },
	{ "cpus", CCMM_OPT_U64, OPT(plat_opts, cpus), 1, 4096, false, NULL, "4", "number of CPUs" },
	{ "phys_bits", CCMM_OPT_U64, OPT(plat_opts, phys_bits), 32, 57, false, NULL, NULL,
	  "physical address width (default: 48, or gpa_width for TDX)" },
	{ "c_bit", CCMM_OPT_U64, OPT(plat_opts, c_bit), 32, 63, false, NULL, NULL,
	  "SME/SEV: C-bit position (default 51)" },
	{ "gpa_width", CCMM_OPT_U64, OPT(plat_opts, gpa_width), 48, 52, false, NULL, NULL,
	  "TDX: guest physical address width, 48 or 52 (default 52)" },
	{ "sme_coherent", CCMM_OPT_BOOL, OPT(plat_opts, sme_coherent), 0, 0, false, NULL, "no",
	  "SME/SEV: X86_FEATURE_SME_COHERENT (no cache flush on encryption change)" },
	{ "mmio", CCMM_OPT_ENUM, OPT(plat_opts, mmio), 0, 0, false, mmio_names, "ve",
	  "TDX: MMIO through #VE or paravirtualised calls" },
	{ "swiotlb_size", CCMM_OPT_U64, OPT(plat_opts, swiotlb_size), 0, 0, true, NULL, "0",
	  "SWIOTLB pool bytes (0: as the kernel sizes it)" },
	{ "swiotlb_areas", CCMM_OPT_U64, OPT(plat_opts, swiotlb_areas), 0, 1024, false, NULL, "0",
	  "SWIOTLB areas (0: one per CPU)" },
	{ "swiotlb_base", CCMM_OPT_U64, OPT(plat_opts, swiotlb_base), 0, 0, false, NULL, "0",
	  "physical base of the SWIOTLB pool, page aligned, with swiotlb_size (0: the model places it)" },
	{ "swiotlb_force", CCMM_OPT_BOOL, OPT(plat_opts, swiotlb_force), 0, 0, false, NULL, "no",
	  "swiotlb=force: every streaming mapping bounces" },
	{ NULL }
};

static const struct ccmm_option node_options[] = {
	{ "mem", CCMM_OPT_U64, OPT(node_opts, mem), 0, 0, true, NULL, "0", "RAM on this node" },
	{ "base", CCMM_OPT_U64, OPT(node_opts, base), 0, 0, true, NULL, NULL, "physical base of the RAM (default: laid out)" },
	{ "kind", CCMM_OPT_ENUM, OPT(node_opts, kind), 0, 0, false, mem_kind_names, "dram", "memory kind" },
	{ "cpus", CCMM_OPT_BOOL, OPT(node_opts, cpus), 0, 0, false, NULL, "yes", "whether the node has CPUs" },
	{ "distance", CCMM_OPT_STR, OPT(node_opts, distance), 0, 128, false, NULL, NULL,
	  "this node's row of the distance matrix, e.g. 10,20" },
	{ "latency_ns", CCMM_OPT_U64, OPT(node_opts, latency_ns), 0, 0, false, NULL, "0", "read latency (0: from kind)" },
	{ "bandwidth_mbps", CCMM_OPT_U64, OPT(node_opts, bandwidth_mbps), 0, 0, false, NULL, "0", "bandwidth (0: from kind)" },
	{ "online", CCMM_OPT_BOOL, OPT(node_opts, online), 0, 0, false, NULL, "yes",
	  "online at boot (no: hot-added later by the job)" },
	{ "demote_to", CCMM_OPT_STR, OPT(node_opts, demote_to), 0, 16, false, NULL, NULL,
	  "explicit demotion target node, or 'none' (default: computed from the tiers)" },
	{ NULL }
};

static const struct ccmm_option ram_options[] = {
	{ "node", CCMM_OPT_U64, OPT(range_opts, node), 0, CCMM_MAX_NODES - 1, false, NULL, "0", "NUMA node" },
	{ "base", CCMM_OPT_U64, OPT(range_opts, base), 0, 0, true, NULL, NULL, "physical base (default: laid out)" },
	{ "size", CCMM_OPT_U64, OPT(range_opts, size), 1, 0, true, NULL, NULL, "bytes" },
	{ NULL }
};

static const struct ccmm_option reserved_options[] = {
	{ "base", CCMM_OPT_U64, OPT(range_opts, base), 0, 0, true, NULL, NULL, "physical base" },
	{ "size", CCMM_OPT_U64, OPT(range_opts, size), 1, 0, true, NULL, NULL, "bytes" },
	{ NULL }
};

static const struct ccmm_option device_options[] = {
	{ "class", CCMM_OPT_ENUM, OPT(dev_opts, cls), 0, 0, false, ccmm_dev_class_names, "generic", "device class" },
	{ "pci_id", CCMM_OPT_STR, OPT(dev_opts, pci_id), 0, 16, false, NULL, NULL, "VENDOR:DEVICE in hex" },
	{ "dma_mask", CCMM_OPT_U64, OPT(dev_opts, dma_mask), 24, 64, false, NULL, "64", "streaming DMA mask bits" },
	{ "coherent_mask", CCMM_OPT_U64, OPT(dev_opts, coherent_mask), 24, 64, false, NULL, NULL,
	  "coherent DMA mask bits (default: dma_mask)" },
	{ "iommu", CCMM_OPT_STR, OPT(dev_opts, iommu), 0, CCMM_NAME_MAX, false, NULL, NULL, "IOMMU name (default: none)" },
	{ "node", CCMM_OPT_U64, OPT(dev_opts, node), 0, CCMM_MAX_NODES - 1, false, NULL, NULL, "NUMA node" },
	{ "ats", CCMM_OPT_BOOL, OPT(dev_opts, ats), 0, 0, false, NULL, "no", "PCIe ATS" },
	{ "p2p_group", CCMM_OPT_U64, OPT(dev_opts, p2p_group), 0, 1024, false, NULL, NULL, "P2P reachability group" },
	{ "tdisp", CCMM_OPT_BOOL, OPT(dev_opts, tdisp), 0, 0, false, NULL, "no", "TDISP-capable" },
	{ "capacity", CCMM_OPT_U64, OPT(dev_opts, capacity), 0, 0, true, NULL, "0", "block device bytes" },
	{ "min_align_mask", CCMM_OPT_U64, OPT(dev_opts, min_align_mask), 0, 0x7fffffff, false, NULL, "0",
	  "dma_set_min_align_mask(): address bits a bounce keeps (2^n - 1)" },
	{ "bar0", CCMM_OPT_STR, OPT(dev_opts, bar[0]), 0, 64, false, NULL, NULL, "SIZE[@BASE] [pref] [32bit]" },
	{ "bar1", CCMM_OPT_STR, OPT(dev_opts, bar[1]), 0, 64, false, NULL, NULL, "as bar0" },
	{ "bar2", CCMM_OPT_STR, OPT(dev_opts, bar[2]), 0, 64, false, NULL, NULL, "as bar0" },
	{ "bar3", CCMM_OPT_STR, OPT(dev_opts, bar[3]), 0, 64, false, NULL, NULL, "as bar0" },
	{ "bar4", CCMM_OPT_STR, OPT(dev_opts, bar[4]), 0, 64, false, NULL, NULL, "as bar0" },
	{ "bar5", CCMM_OPT_STR, OPT(dev_opts, bar[5]), 0, 64, false, NULL, NULL, "as bar0" },
	{ NULL }
};

static const struct ccmm_option iommu_options[] = {
	{ "kind", CCMM_OPT_ENUM, OPT(iommu_opts, kind), 0, 0, false, iommu_kind_names, "generic", "IOMMU kind" },
	{ "page_shift", CCMM_OPT_U64, OPT(iommu_opts, page_shift), 12, 30, false, NULL, "12", "I/O page size shift" },
	{ "dma32_window", CCMM_OPT_U64, OPT(iommu_opts, dma32_window), 0, 4 * CCMM_GiB, true, NULL, "2g",
	  "pSeries default DMA window bytes" },
	{ "ddw", CCMM_OPT_BOOL, OPT(iommu_opts, ddw), 0, 0, false, NULL, "yes", "pSeries: dynamic DMA window" },
	{ "ddw_size", CCMM_OPT_U64, OPT(iommu_opts, ddw_size), 0, 0, true, NULL, "0", "DDW bytes (0: all RAM)" },
	{ "ddw_page_shift", CCMM_OPT_U64, OPT(iommu_opts, ddw_page_shift), 12, 30, false, NULL, "16",
	  "TCE page shift in the DDW" },
	{ "ddw_align", CCMM_OPT_U64, OPT(iommu_opts, ddw_align), 0, 0, true, NULL, "256m",
	  "alignment of the range a DDW maps" },
	{ NULL }
};

/* What a platform file can hold, for ccmm platform-keys and ccmm-platform(5): the tables the parser uses. */
static const struct ccmm_platform_section platform_sections[] = {
	{ "platform", "the machine: its confidential-computing mode, CPUs, address widths and SWIOTLB pool", platform_options },
	{ "node:N", "NUMA node N (0 to 7): its RAM, memory kind, CPUs, distances and demotion target", node_options },
	{ "ram:NAME", "a RAM range placed by hand", ram_options },
	{ "epc:NAME", "an SGX enclave page cache section", ram_options },
	{ "reserved:NAME", "a range the OS must not use (firmware, holes)", reserved_options },
	{ "device:NAME", "a PCI device: class, IDs, DMA masks, IOMMU, NUMA node, P2P group, BARs", device_options },
	{ "iommu:NAME", "an IOMMU: x86-style I/O page tables or pSeries TCE windows", iommu_options },
	{ "cost", "any registered modeled cost by name, in ns (or MB/s for *_mbps): ccmm costs lists them", NULL },
};

const struct ccmm_platform_section *ccmm_platform_section_at(size_t i)
{
	return i < CCMM_ARRAY_SIZE(platform_sections) ? &platform_sections[i] : NULL;
}

enum sect_kind { S_NONE, S_PLATFORM, S_NODE, S_RAM, S_EPC, S_RESERVED, S_DEVICE, S_IOMMU, S_COST };

static const char *const sect_names[] = { "", "platform", "node", "ram", "epc", "reserved", "device", "iommu", "cost", NULL };

struct item {
	enum sect_kind kind;
	char name[CCMM_NAME_MAX];
	struct ccmm_where where;
	union {
		struct node_opts node;
		struct range_opts range;
		struct dev_opts dev;
		struct iommu_opts iommu;
	} o;
	bool set_base, set_coherent, set_node, set_p2p;
};

struct parse {
	struct plat_opts plat;
	struct ccmm_costs costs;
	struct ccmm_cost_override cost_more[CCMM_COST_MAX];
	unsigned nr_cost_more;
	bool have_platform;
	struct item *items;
	size_t nitems, cap;
	struct item *cur;
	enum sect_kind cur_kind;
};

static void where_set(struct ccmm_where *w, const struct ccmm_loc *loc)
{
	snprintf(w->file, sizeof(w->file), "%s", loc && loc->file ? loc->file : "");
	w->line = loc ? loc->line : 0;
}

static struct ccmm_loc where_loc(const struct ccmm_where *w)
{
	struct ccmm_loc l = { w->file, w->line };

	return l;
}

static int begin_section(struct parse *ps, const char *section, const struct ccmm_loc *loc,
			 struct ccmm_error *err)
{
	char kind[32];
	const char *colon = strchr(section, ':');
	const char *name = colon ? colon + 1 : "";
	size_t klen = colon ? (size_t)(colon - section) : strlen(section);
	int k;

	if (klen >= sizeof(kind))
		klen = sizeof(kind) - 1;
	memcpy(kind, section, klen);
	kind[klen] = '\0';
	k = ccmm_choice_index(sect_names, kind);
	if (k <= 0) {
		const char *near = ccmm_suggest(kind, sect_names + 1, CCMM_ARRAY_SIZE(sect_names) - 2);

		if (near)
			return ccmm_error_set(err, loc, -EINVAL, "unknown section kind '%s'; did you mean '%s'?", kind, near);
		return ccmm_error_set(err, loc, -EINVAL,
				      "unknown section kind '%s' (platform, node:N, ram:NAME, epc:NAME, reserved:NAME, device:NAME, iommu:NAME, cost)",
				      kind);
	}
	ps->cur_kind = (enum sect_kind)k;
	ps->cur = NULL;
	if (k == S_PLATFORM || k == S_COST) {
		if (colon)
			return ccmm_error_set(err, loc, -EINVAL, "[%s] takes no name", kind);
		if (k == S_PLATFORM) {
			if (ps->have_platform)
				return ccmm_error_set(err, loc, -EINVAL, "a second [platform] section");
			ps->have_platform = true;
			if (!ps->plat.set_mode)
				where_set(&ps->plat.where_mode, loc);
		}
		return 0;
	}
	if (!*name)
		return ccmm_error_set(err, loc, -EINVAL, "[%s] needs a name: [%s:NAME]", kind, kind);
	if (strlen(name) >= CCMM_NAME_MAX)
		return ccmm_error_set(err, loc, -EINVAL, "name '%s' is longer than %d characters", name, CCMM_NAME_MAX - 1);
	for (size_t i = 0; i < ps->nitems; i++) {
		struct item *it = &ps->items[i];

		if (it->kind == (enum sect_kind)k && !strcmp(it->name, name))
			return ccmm_error_set(err, loc, -EINVAL, "[%s:%s] is declared twice (first at %s:%d)", kind,
					      name, it->where.file, it->where.line);
	}
	if (ccmm_grow((void **)&ps->items, &ps->cap, ps->nitems + 1, sizeof(*ps->items)))
		return ccmm_error_set(err, loc, -ENOMEM, "out of memory");
	ps->cur = &ps->items[ps->nitems++];
	memset(ps->cur, 0, sizeof(*ps->cur));
	ps->cur->kind = (enum sect_kind)k;
	snprintf(ps->cur->name, sizeof(ps->cur->name), "%s", name);
	where_set(&ps->cur->where, loc);
	switch (k) {
	case S_NODE: {
		uint64_t id;

		if (ccmm_parse_u64(name, false, &id) || id >= CCMM_MAX_NODES)
			return ccmm_error_set(err, loc, -EINVAL, "node id '%s' must be a number from 0 to %d", name,
					      CCMM_MAX_NODES - 1);
		ccmm_option_defaults(node_options, &ps->cur->o.node);
		ps->cur->o.node.base = UNSET;
		break;
	}
	case S_RAM:
	case S_EPC:
		ccmm_option_defaults(ram_options, &ps->cur->o.range);
		ps->cur->o.range.base = UNSET;
		break;
	case S_RESERVED:
		ps->cur->o.range.base = UNSET;
		break;
	case S_DEVICE:
		ccmm_option_defaults(device_options, &ps->cur->o.dev);
		break;
	case S_IOMMU:
		ccmm_option_defaults(iommu_options, &ps->cur->o.iommu);
		break;
	}
	return 0;
}

/*
 * A [cost] line: the machine's own costs are set here; a subsystem's cost is
 * kept by name and checked against the registry when the machine boots
 * (ccmm_costs_check in boot/), with this line's place.
 */
static int set_cost(struct parse *ps, const char *key, const char *value, const struct ccmm_loc *loc,
		    struct ccmm_error *err)
{
	struct ccmm_cost_override *o;
	uint64_t v;

	if (ccmm_parse_u64(value, false, &v))
		return ccmm_error_set(err, loc, -EINVAL, "cost %s: '%s' is not a number", key, value);
	for (int i = 0; i < CCMM_COST_NR; i++) {
		if (!strcasecmp(key, ccmm_cost_info[i].name)) {
			((uint64_t *)&ps->costs)[i] = v;
			return 0;
		}
	}
	if (strlen(key) >= sizeof(o->name))
		return ccmm_error_set(err, loc, -ENOENT, "unknown cost '%.60s'", key);
	for (unsigned i = 0; i < ps->nr_cost_more; i++) {
		if (!strcasecmp(ps->cost_more[i].name, key)) {
			ps->cost_more[i].value = v;
			where_set(&ps->cost_more[i].where, loc);
			return 0;
		}
	}
	if (ps->nr_cost_more == CCMM_COST_MAX)
		return ccmm_error_set(err, loc, -E2BIG, "more than %d [cost] lines", CCMM_COST_MAX);
	o = &ps->cost_more[ps->nr_cost_more++];
	snprintf(o->name, sizeof(o->name), "%s", key);
	o->value = v;
	where_set(&o->where, loc);
	return 0;
}

static int plat_handler(void *user, const char *section, const char *key, const char *value,
			const struct ccmm_loc *loc, struct ccmm_error *err)
{
	struct parse *ps = user;
	struct item *it = ps->cur;
	int ret;

	if (!key)
		return begin_section(ps, section, loc, err);
	if (ps->cur_kind == S_NONE)
		return ccmm_error_set(err, loc, -EINVAL, "'%s' is outside any section", key);

	switch (ps->cur_kind) {
	case S_PLATFORM:
		ret = ccmm_option_set(platform_options, &ps->plat, section, key, value, loc, err);
		if (ret)
			return ret;
		if (!strcasecmp(key, "c_bit")) {
			ps->plat.set_c_bit = true;
			where_set(&ps->plat.where_c_bit, loc);
		} else if (!strcasecmp(key, "swiotlb_base")) {
			ps->plat.set_swiotlb_base = true;
			where_set(&ps->plat.where_swiotlb_base, loc);
		} else if (!strcasecmp(key, "gpa_width")) {
			ps->plat.set_gpa_width = true;
			where_set(&ps->plat.where_gpa_width, loc);
		} else if (!strcasecmp(key, "sme_coherent")) {
			ps->plat.set_sme_coherent = true;
			where_set(&ps->plat.where_sme_coherent, loc);
		} else if (!strcasecmp(key, "mmio")) {
			ps->plat.set_mmio = true;
			where_set(&ps->plat.where_mmio, loc);
		} else if (!strcasecmp(key, "mode")) {
			ps->plat.set_mode = true;
			where_set(&ps->plat.where_mode, loc);
		}
		return 0;
	case S_COST:
		return set_cost(ps, key, value, loc, err);
	case S_NODE:
		return ccmm_option_set(node_options, &it->o.node, section, key, value, loc, err);
	case S_RAM:
	case S_EPC:
		ret = ccmm_option_set(ram_options, &it->o.range, section, key, value, loc, err);
		if (!ret && !strcasecmp(key, "base"))
			it->set_base = true;
		return ret;
	case S_RESERVED:
		ret = ccmm_option_set(reserved_options, &it->o.range, section, key, value, loc, err);
		if (!ret && !strcasecmp(key, "base"))
			it->set_base = true;
		return ret;
	case S_DEVICE:
		ret = ccmm_option_set(device_options, &it->o.dev, section, key, value, loc, err);
		if (!ret && !strcasecmp(key, "coherent_mask"))
			it->set_coherent = true;
		if (!ret && !strcasecmp(key, "node"))
			it->set_node = true;
		if (!ret && !strcasecmp(key, "p2p_group"))
			it->set_p2p = true;
		return ret;
	case S_IOMMU:
		return ccmm_option_set(iommu_options, &it->o.iommu, section, key, value, loc, err);
	default:
		return ccmm_error_set(err, loc, -EINVAL, "internal: bad section");
	}
}

static int add_range(struct ccmm_platform *p, const char *name, enum ccmm_range_kind kind, uint64_t base,
		     uint64_t size, int node, int dev, int bar, const struct ccmm_where *w)
{
	struct ccmm_mem_range *r;
	size_t cap = p->nr_ranges;

	/* ranges grow one at a time; realloc keeps it simple and rare */
	r = realloc(p->ranges, (cap + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	p->ranges = r;
	r = &p->ranges[p->nr_ranges++];
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->kind = kind;
	r->base = base;
	r->size = size;
	r->node = node;
	r->device = dev;
	r->bar = bar;
	if (w)
		r->where = *w;
	return 0;
}

/* "SIZE[@BASE] [pref] [32bit|64bit]" */
static int parse_bar(const char *text, struct ccmm_bar_desc *b, const struct ccmm_loc *loc, const char *key,
		     struct ccmm_error *err)
{
	char buf[64], *tok, *save = NULL, *at;
	bool first = true;

	snprintf(buf, sizeof(buf), "%s", text);
	b->is64 = true;
	b->prefetch = false;
	b->base = 0;
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		if (first) {
			at = strchr(tok, '@');
			if (at)
				*at++ = '\0';
			if (ccmm_parse_u64(tok, true, &b->size))
				return ccmm_error_set(err, loc, -EINVAL, "%s: '%s' is not a size", key, tok);
			if (at && ccmm_parse_u64(at, true, &b->base))
				return ccmm_error_set(err, loc, -EINVAL, "%s: '%s' is not an address", key, at);
			first = false;
		} else if (!strcasecmp(tok, "pref") || !strcasecmp(tok, "prefetch")) {
			b->prefetch = true;
		} else if (!strcasecmp(tok, "32") || !strcasecmp(tok, "32bit")) {
			b->is64 = false;
		} else if (!strcasecmp(tok, "64") || !strcasecmp(tok, "64bit")) {
			b->is64 = true;
		} else {
			return ccmm_error_set(err, loc, -EINVAL, "%s: unknown BAR flag '%s' (pref, 32bit, 64bit)", key, tok);
		}
	}
	if (first)
		return ccmm_error_set(err, loc, -EINVAL, "%s needs a size", key);
	if (b->size < CCMM_PAGE_SIZE || (b->size & (b->size - 1)))
		return ccmm_error_set(err, loc, -EINVAL, "%s: BAR size %s must be a power of two of at least 4 KiB", key,
				      text);
	if (b->base && !CCMM_IS_ALIGNED(b->base, b->size))
		return ccmm_error_set(err, loc, -EINVAL, "%s: BAR base 0x%" PRIx64 " is not aligned to its size", key,
				      b->base);
	return 0;
}

static int parse_distance_row(struct ccmm_platform *p, int node, const char *row, const struct ccmm_loc *loc,
			      struct ccmm_error *err)
{
	char buf[128], *tok, *save = NULL;
	unsigned n = 0;

	snprintf(buf, sizeof(buf), "%s", row);
	for (tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
		uint64_t v;

		if (n >= CCMM_MAX_NODES)
			return ccmm_error_set(err, loc, -EINVAL, "distance: more than %d entries", CCMM_MAX_NODES);
		if (ccmm_parse_u64(tok, false, &v) || v > 254)
			return ccmm_error_set(err, loc, -EINVAL, "distance: '%s' is not a distance (10-254)", tok);
		p->distance[node][n++] = (unsigned)v;
	}
	if (n != p->nr_nodes)
		return ccmm_error_set(err, loc, -EINVAL,
				      "distance: node %d's row has %u entries but there are %u nodes (the matrix must be square)",
				      node, n, p->nr_nodes);
	return 0;
}

static int build(struct parse *ps, struct ccmm_platform *p, struct ccmm_error *err)
{
	struct item *node_item[CCMM_MAX_NODES] = { 0 };
	int ret;

	snprintf(p->name, sizeof(p->name), "%s", ps->plat.name);
	p->mode = (enum ccmm_cc_mode)ps->plat.mode;
	p->cpus = (unsigned)ps->plat.cpus;
	p->sme_coherent = ps->plat.sme_coherent;
	p->mmio = (enum ccmm_mmio_mode)ps->plat.mmio;
	p->swiotlb_size = ps->plat.swiotlb_size;
	p->swiotlb_areas = (unsigned)ps->plat.swiotlb_areas;
	p->swiotlb_base = ps->plat.swiotlb_base;
	p->swiotlb_force = ps->plat.swiotlb_force;
	if (ps->plat.set_swiotlb_base) {
		struct ccmm_loc l = where_loc(&ps->plat.where_swiotlb_base);

		if (!p->swiotlb_size)
			return ccmm_error_set(err, &l, -EINVAL, "swiotlb_base needs swiotlb_size (the pool's bytes)");
		if (p->swiotlb_base % 4096)
			return ccmm_error_set(err, &l, -EINVAL, "swiotlb_base 0x%" PRIx64 " is not page aligned", p->swiotlb_base);
	}
	p->costs = ps->costs;
	memcpy(p->cost_more, ps->cost_more, sizeof(p->cost_more));
	p->nr_cost_more = ps->nr_cost_more;

	/* Mode-specific settings that the mode cannot have. */
	if (ps->plat.set_c_bit && p->mode != CCMM_CC_SME && p->mode != CCMM_CC_SEV && p->mode != CCMM_CC_SEV_SNP) {
		struct ccmm_loc l = where_loc(&ps->plat.where_c_bit);

		return ccmm_error_set(err, &l, -EINVAL, "c_bit is an AMD SME/SEV setting; mode %s has no C-bit",
				      ccmm_cc_mode_name(p->mode));
	}
	if (ps->plat.set_gpa_width && p->mode != CCMM_CC_TDX) {
		struct ccmm_loc l = where_loc(&ps->plat.where_gpa_width);

		return ccmm_error_set(err, &l, -EINVAL, "gpa_width is a TDX setting; mode %s has no shared bit",
				      ccmm_cc_mode_name(p->mode));
	}
	if (ps->plat.set_sme_coherent && p->mode != CCMM_CC_SME && p->mode != CCMM_CC_SEV &&
	    p->mode != CCMM_CC_SEV_SNP) {
		struct ccmm_loc l = where_loc(&ps->plat.where_sme_coherent);

		return ccmm_error_set(err, &l, -EINVAL, "sme_coherent is an AMD feature; mode %s cannot have it",
				      ccmm_cc_mode_name(p->mode));
	}
	if (ps->plat.set_mmio && p->mode != CCMM_CC_TDX) {
		struct ccmm_loc l = where_loc(&ps->plat.where_mmio);

		return ccmm_error_set(err, &l, -EINVAL, "mmio chooses how a TDX guest reaches MMIO; mode %s has no #VE",
				      ccmm_cc_mode_name(p->mode));
	}
	if (p->mode == CCMM_CC_TDX) {
		p->gpa_width = ps->plat.set_gpa_width ? (unsigned)ps->plat.gpa_width : 52;
		if (p->gpa_width != 48 && p->gpa_width != 52) {
			struct ccmm_loc l = where_loc(&ps->plat.where_gpa_width);

			return ccmm_error_set(err, &l, -EINVAL, "gpa_width must be 48 or 52 (TDX supports 4- and 5-level EPT)");
		}
	}
	if (p->mode == CCMM_CC_SME || p->mode == CCMM_CC_SEV || p->mode == CCMM_CC_SEV_SNP)
		p->c_bit = ps->plat.set_c_bit ? (unsigned)ps->plat.c_bit : 51;
	if (ps->plat.phys_bits != UNSET)
		p->phys_bits = (unsigned)ps->plat.phys_bits;
	else if (p->mode == CCMM_CC_TDX)
		p->phys_bits = p->gpa_width;
	else
		p->phys_bits = 48;
	p->mode_where = ps->plat.where_mode;

	/* Nodes first: RAM, devices and distances refer to them. */
	for (size_t i = 0; i < ps->nitems; i++) {
		struct item *it = &ps->items[i];
		uint64_t id;

		if (it->kind != S_NODE)
			continue;
		ccmm_parse_u64(it->name, false, &id);
		node_item[id] = it;
		p->node[id].present = true;
		p->node[id].kind = (enum ccmm_mem_kind)it->o.node.kind;
		p->node[id].has_cpus = it->o.node.cpus;
		p->node[id].mem = it->o.node.mem;
		p->node[id].read_latency_ns = it->o.node.latency_ns;
		p->node[id].bandwidth_mbps = it->o.node.bandwidth_mbps;
		p->node[id].online = it->o.node.online;
		p->node[id].demote_to = -2;
		p->node[id].where = it->where;
		if (id + 1 > p->nr_nodes)
			p->nr_nodes = (unsigned)id + 1;
	}
	for (unsigned n = 0; n < p->nr_nodes; n++) {
		if (!p->node[n].present) {
			struct ccmm_loc l = where_loc(&node_item[p->nr_nodes - 1]->where);

			return ccmm_error_set(err, &l, -EINVAL, "node %u is declared but node %u is missing (nodes are numbered from 0)",
					      p->nr_nodes - 1, n);
		}
	}
	for (unsigned a = 0; a < CCMM_MAX_NODES; a++)
		for (unsigned b = 0; b < CCMM_MAX_NODES; b++)
			p->distance[a][b] = a == b ? 10 : 20;
	for (unsigned n = 0; n < p->nr_nodes; n++) {
		struct item *it = node_item[n];
		struct ccmm_loc l = where_loc(&it->where);

		if (it->o.node.demote_to[0]) {
			uint64_t t;

			if (!strcasecmp(it->o.node.demote_to, "none"))
				p->node[n].demote_to = -1;
			else if (ccmm_parse_u64(it->o.node.demote_to, false, &t) || t >= CCMM_MAX_NODES)
				return ccmm_error_set(err, &l, -EINVAL, "demote_to: '%s' is not a node number or 'none'",
						      it->o.node.demote_to);
			else if (t >= p->nr_nodes || !p->node[t].present)
				return ccmm_error_set(err, &l, -EINVAL, "demote_to: node %" PRIu64 " does not exist", t);
			else if (t == n)
				return ccmm_error_set(err, &l, -EINVAL, "demote_to: node %u cannot demote to itself", n);
			else
				p->node[n].demote_to = (int)t;
		}
		if (it->o.node.distance[0]) {
			ret = parse_distance_row(p, (int)n, it->o.node.distance, &l, err);
			if (ret)
				return ret;
			p->distance_given = true;
		} else if (p->distance_given) {
			return ccmm_error_set(err, &l, -EINVAL,
					      "node %u has no distance row but other nodes do (the matrix must be square)", n);
		}
		if (it->o.node.mem) {
			char nm[CCMM_NAME_MAX];

			snprintf(nm, sizeof(nm), "node%u", n);
			ret = add_range(p, nm, CCMM_RANGE_RAM, it->o.node.base, it->o.node.mem, (int)n, -1, -1, &it->where);
			if (ret)
				return ccmm_error_set(err, &l, ret, "out of memory");
		}
	}

	for (size_t i = 0; i < ps->nitems; i++) {
		struct item *it = &ps->items[i];
		struct ccmm_loc l = where_loc(&it->where);

		if (!p->nr_nodes && (it->kind == S_RAM || it->kind == S_EPC) && it->o.range.node == 0) {
			/* RAM without node sections lives on an implicit DRAM node 0 */
			p->nr_nodes = 1;
			p->node[0].present = true;
			p->node[0].has_cpus = true;
			p->node[0].kind = CCMM_MEM_DRAM;
			p->node[0].online = true;
			p->node[0].demote_to = -2;
			p->node[0].where = it->where;
		}
		switch (it->kind) {
		case S_RAM:
		case S_EPC:
			if (!it->o.range.size)
				return ccmm_error_set(err, &l, -EINVAL, "[%s:%s] needs a size", sect_names[it->kind], it->name);
			if (it->o.range.node >= p->nr_nodes)
				return ccmm_error_set(err, &l, -EINVAL, "[%s:%s] is on node %" PRIu64 ", which is not declared",
						      sect_names[it->kind], it->name, it->o.range.node);
			ret = add_range(p, it->name, it->kind == S_RAM ? CCMM_RANGE_RAM : CCMM_RANGE_EPC, it->o.range.base,
					it->o.range.size, (int)it->o.range.node, -1, -1, &it->where);
			if (ret)
				return ccmm_error_set(err, &l, ret, "out of memory");
			break;
		case S_RESERVED:
			if (!it->o.range.size || it->o.range.base == UNSET)
				return ccmm_error_set(err, &l, -EINVAL, "[reserved:%s] needs a base and a size", it->name);
			ret = add_range(p, it->name, CCMM_RANGE_RESERVED, it->o.range.base, it->o.range.size, -1, -1, -1,
					&it->where);
			if (ret)
				return ccmm_error_set(err, &l, ret, "out of memory");
			break;
		case S_IOMMU: {
			struct ccmm_iommu_desc *d;
			struct ccmm_iommu_desc *na = realloc(p->iommus, (p->nr_iommus + 1) * sizeof(*na));

			if (!na)
				return ccmm_error_set(err, &l, -ENOMEM, "out of memory");
			p->iommus = na;
			d = &p->iommus[p->nr_iommus++];
			memset(d, 0, sizeof(*d));
			snprintf(d->name, sizeof(d->name), "%s", it->name);
			d->kind = (enum ccmm_iommu_kind)it->o.iommu.kind;
			d->page_shift = (unsigned)it->o.iommu.page_shift;
			d->dma32_window = it->o.iommu.dma32_window;
			d->ddw = it->o.iommu.ddw;
			d->ddw_size = it->o.iommu.ddw_size;
			d->ddw_page_shift = (unsigned)it->o.iommu.ddw_page_shift;
			d->ddw_align = it->o.iommu.ddw_align;
			d->where = it->where;
			break;
		}
		default:
			break;
		}
	}

	for (size_t i = 0; i < ps->nitems; i++) {
		struct item *it = &ps->items[i];
		struct ccmm_loc l = where_loc(&it->where);
		struct ccmm_device_desc *d;
		struct ccmm_device_desc *nd;
		unsigned vendor, devid;

		if (it->kind != S_DEVICE)
			continue;
		nd = realloc(p->devices, (p->nr_devices + 1) * sizeof(*nd));
		if (!nd)
			return ccmm_error_set(err, &l, -ENOMEM, "out of memory");
		p->devices = nd;
		d = &p->devices[p->nr_devices++];
		memset(d, 0, sizeof(*d));
		snprintf(d->name, sizeof(d->name), "%s", it->name);
		d->cls = (enum ccmm_dev_class)it->o.dev.cls;
		if (it->o.dev.pci_id[0]) {
			char extra;

			if (sscanf(it->o.dev.pci_id, "%x:%x%c", &vendor, &devid, &extra) != 2 || vendor > 0xffff ||
			    devid > 0xffff)
				return ccmm_error_set(err, &l, -EINVAL, "pci_id '%s' is not VENDOR:DEVICE in hex (e.g. 1af4:1042)",
						      it->o.dev.pci_id);
			d->vendor = (uint16_t)vendor;
			d->device_id = (uint16_t)devid;
		}
		d->dma_mask_bits = (unsigned)it->o.dev.dma_mask;
		d->coherent_mask_bits = it->set_coherent ? (unsigned)it->o.dev.coherent_mask : d->dma_mask_bits;
		if (it->o.dev.min_align_mask & (it->o.dev.min_align_mask + 1))
			return ccmm_error_set(err, &l, -EINVAL, "min_align_mask 0x%" PRIx64 " is not 2^n - 1 (e.g. 0xfff)",
					      it->o.dev.min_align_mask);
		d->min_align_mask = (uint32_t)it->o.dev.min_align_mask;
		d->iommu = -1;
		if (it->o.dev.iommu[0]) {
			d->iommu = ccmm_platform_find_iommu(p, it->o.dev.iommu);
			if (d->iommu < 0) {
				const char *names[64];
				size_t n = 0;
				const char *near;

				for (size_t k = 0; k < p->nr_iommus && n < 64; k++)
					names[n++] = p->iommus[k].name;
				near = ccmm_suggest(it->o.dev.iommu, names, n);
				if (near)
					return ccmm_error_set(err, &l, -EINVAL, "device '%s' names IOMMU '%s', which is not declared; did you mean '%s'?",
							      d->name, it->o.dev.iommu, near);
				return ccmm_error_set(err, &l, -EINVAL, "device '%s' names IOMMU '%s', which is not declared",
						      d->name, it->o.dev.iommu);
			}
		}
		d->node = it->set_node ? (int)it->o.dev.node : -1;
		if (d->node >= (int)p->nr_nodes && d->node >= 0)
			return ccmm_error_set(err, &l, -EINVAL, "device '%s' is on node %d, which is not declared", d->name,
					      d->node);
		d->ats = it->o.dev.ats;
		d->p2p_group = it->set_p2p ? (int)it->o.dev.p2p_group : -1;
		d->tdisp = it->o.dev.tdisp;
		d->capacity = it->o.dev.capacity;
		for (int b = 0; b < CCMM_MAX_BARS; b++) {
			char key[8];
			char rname[CCMM_NAME_MAX + 8];

			if (!it->o.dev.bar[b][0])
				continue;
			snprintf(key, sizeof(key), "bar%d", b);
			ret = parse_bar(it->o.dev.bar[b], &d->bar[b], &l, key, err);
			if (ret)
				return ret;
			if ((unsigned)b + 1 > d->nr_bars)
				d->nr_bars = (unsigned)b + 1;
			snprintf(rname, sizeof(rname), "%s.bar%d", d->name, b);
			ret = add_range(p, rname, CCMM_RANGE_BAR, d->bar[b].base ? d->bar[b].base : UNSET, d->bar[b].size,
					-1, (int)(p->nr_devices - 1), b, &it->where);
			if (ret)
				return ccmm_error_set(err, &l, ret, "out of memory");
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Layout and validation                                               */
/* ------------------------------------------------------------------ */

static int cmp_range(const void *a, const void *b)
{
	const struct ccmm_mem_range *x = a, *y = b;

	return x->base < y->base ? -1 : x->base > y->base;
}

/* First address >= @from, aligned to @align, where [addr, addr+size) is free and below @limit. */
static uint64_t find_free(const struct ccmm_platform *p, uint64_t from, uint64_t size, uint64_t align,
			  uint64_t limit)
{
	uint64_t a = CCMM_ALIGN_UP(from, align);

	while (a + size <= limit && a + size > a) {
		bool moved = false;

		for (size_t i = 0; i < p->nr_ranges; i++) {
			const struct ccmm_mem_range *r = &p->ranges[i];

			if (r->base == UNSET)
				continue;
			if (a < r->base + r->size && r->base < a + size) {
				a = CCMM_ALIGN_UP(r->base + r->size, align);
				moved = true;
			}
		}
		if (!moved)
			return a;
	}
	return UNSET;
}

#define LOW_RAM_TOP (2 * CCMM_GiB)  /* RAM below the 32-bit PCI hole */
#define HOLE_TOP (4 * CCMM_GiB)

static int layout(struct ccmm_platform *p, struct ccmm_error *err)
{
	uint64_t cursor = 0, top = HOLE_TOP;
	size_t n = p->nr_ranges;

	/* RAM in declaration order (nodes first), split around the PCI hole. */
	for (size_t i = 0; i < n; i++) {
		struct ccmm_mem_range *r = &p->ranges[i];
		struct ccmm_loc l = where_loc(&r->where);

		if (r->kind != CCMM_RANGE_RAM || r->base != UNSET)
			continue;
		if (!CCMM_IS_ALIGNED(r->size, CCMM_PAGE_SIZE))
			return ccmm_error_set(err, &l, -EINVAL, "RAM size of '%s' is not a multiple of 4 KiB", r->name);
		if (cursor < LOW_RAM_TOP) {
			uint64_t base = find_free(p, cursor, CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, LOW_RAM_TOP);
			uint64_t low;

			if (base != UNSET) {
				low = LOW_RAM_TOP - base;
				if (r->size <= low) {
					r->base = base;
					cursor = base + r->size;
					continue;
				}
				/* split: the low part keeps the name, the rest goes above 4 GiB */
				{
					char hi[CCMM_NAME_MAX + 4];
					struct ccmm_mem_range copy = *r;
					int ret;

					r->base = base;
					r->size = low;
					snprintf(hi, sizeof(hi), "%s+hi", copy.name);
					ret = add_range(p, hi, CCMM_RANGE_RAM, UNSET, copy.size - low, copy.node, -1, -1,
							&copy.where);
					if (ret)
						return ccmm_error_set(err, &l, ret, "out of memory");
					r = &p->ranges[p->nr_ranges - 1];
					cursor = HOLE_TOP;
				}
			} else {
				cursor = HOLE_TOP;
			}
		}
		r->base = find_free(p, CCMM_MAX(cursor, HOLE_TOP), r->size, CCMM_PAGE_SIZE, UINT64_MAX >> 1);
		cursor = r->base + r->size;
	}
	/* RAM added by the split above. */
	for (size_t i = n; i < p->nr_ranges; i++) {
		struct ccmm_mem_range *r = &p->ranges[i];

		if (r->base == UNSET) {
			r->base = find_free(p, CCMM_MAX(cursor, HOLE_TOP), r->size, CCMM_PAGE_SIZE, UINT64_MAX >> 1);
			cursor = r->base + r->size;
		}
	}
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];

		if (r->base != UNSET && r->base + r->size > top)
			top = r->base + r->size;
	}
	/* EPC sections after RAM, 1 GiB aligned. */
	for (size_t i = 0; i < p->nr_ranges; i++) {
		struct ccmm_mem_range *r = &p->ranges[i];

		if (r->kind == CCMM_RANGE_EPC && r->base == UNSET) {
			r->base = find_free(p, top, r->size, CCMM_GiB, UINT64_MAX >> 1);
			top = r->base + r->size;
		}
	}
	/* BARs: 32-bit ones in the hole, 64-bit ones above everything, naturally aligned. */
	for (size_t i = 0; i < p->nr_ranges; i++) {
		struct ccmm_mem_range *r = &p->ranges[i];
		const struct ccmm_bar_desc *b;
		struct ccmm_loc l = where_loc(&r->where);

		if (r->kind != CCMM_RANGE_BAR || r->base != UNSET)
			continue;
		b = &p->devices[r->device].bar[r->bar];
		if (!b->is64) {
			r->base = find_free(p, LOW_RAM_TOP + CCMM_GiB, r->size, r->size, HOLE_TOP);
			if (r->base == UNSET)
				r->base = find_free(p, LOW_RAM_TOP, r->size, r->size, HOLE_TOP);
			if (r->base == UNSET)
				return ccmm_error_set(err, &l, -ENOSPC, "32-bit BAR %s (%" PRIu64 " bytes) does not fit below 4 GiB",
						      r->name, r->size);
		} else {
			r->base = find_free(p, CCMM_ALIGN_UP(top, 64 * CCMM_GiB), r->size, r->size, UINT64_MAX >> 1);
		}
		p->devices[r->device].bar[r->bar].base = r->base;
	}
	for (size_t i = 0; i < p->nr_ranges; i++) {
		struct ccmm_mem_range *r = &p->ranges[i];

		if (r->kind == CCMM_RANGE_BAR)
			p->devices[r->device].bar[r->bar].base = r->base;
	}
	return 0;
}

static int validate(struct ccmm_platform *p, struct ccmm_error *err)
{
	uint64_t space = p->phys_bits >= 64 ? UINT64_MAX : (1ULL << p->phys_bits);
	struct ccmm_loc mode_loc = where_loc(&p->mode_where);

	if (!p->cpus)
		return ccmm_error_set(err, &mode_loc, -EINVAL, "the platform has no CPUs");
	if (!p->nr_ranges || !ccmm_platform_ram(p, -1))
		return ccmm_error_set(err, &mode_loc, -EINVAL, "the platform has no RAM (declare [node:0] mem=... or [ram:NAME])");

	qsort(p->ranges, p->nr_ranges, sizeof(*p->ranges), cmp_range);
	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];
		struct ccmm_loc l = where_loc(&r->where);

		if (!CCMM_IS_ALIGNED(r->base, CCMM_PAGE_SIZE) || !CCMM_IS_ALIGNED(r->size, CCMM_PAGE_SIZE))
			return ccmm_error_set(err, &l, -EINVAL, "%s range '%s' [0x%" PRIx64 ", +0x%" PRIx64 ") is not 4 KiB aligned",
					      ccmm_range_kind_name(r->kind), r->name, r->base, r->size);
		if (ccmm_range_within(r->base, r->size, 0, 0, space))
			return ccmm_error_set(err, &l, -EINVAL,
					      "%s '%s' [0x%" PRIx64 ", 0x%" PRIx64 ") lies outside the %u-bit physical address space",
					      r->kind == CCMM_RANGE_BAR ? "BAR" : ccmm_range_kind_name(r->kind), r->name,
					      r->base, r->base + r->size, p->phys_bits);
		if (i && r->base < p->ranges[i - 1].base + p->ranges[i - 1].size) {
			const struct ccmm_mem_range *q = &p->ranges[i - 1];

			return ccmm_error_set(err, &l, -EINVAL,
					      "%s '%s' [0x%" PRIx64 ", 0x%" PRIx64 ") overlaps %s '%s' [0x%" PRIx64 ", 0x%" PRIx64 ") declared at %s:%d",
					      ccmm_range_kind_name(r->kind), r->name, r->base, r->base + r->size,
					      ccmm_range_kind_name(q->kind), q->name, q->base, q->base + q->size, q->where.file,
					      q->where.line);
		}
		if (r->kind == CCMM_RANGE_BAR) {
			const struct ccmm_bar_desc *b = &p->devices[r->device].bar[r->bar];

			if (!b->is64 && r->base + r->size > HOLE_TOP)
				return ccmm_error_set(err, &l, -EINVAL, "32-bit BAR '%s' at 0x%" PRIx64 " is above 4 GiB", r->name,
						      r->base);
		}
		/* SGX is Intel's: a plain host, or the host under a TDX guest (TDs cannot use it) */
		if (r->kind == CCMM_RANGE_EPC && p->mode != CCMM_CC_NONE && p->mode != CCMM_CC_TDX)
			return ccmm_error_set(err, &l, -EINVAL,
					      "EPC section '%s' needs an Intel SGX host (mode none, or tdx where the EPC is the host's); mode %s cannot have SGX",
					      r->name, ccmm_cc_mode_name(p->mode));
	}

	switch (p->mode) {
	case CCMM_CC_TDX: {
		uint64_t shared = 1ULL << (p->gpa_width - 1);

		if (p->phys_bits != p->gpa_width)
			return ccmm_error_set(err, &mode_loc, -EINVAL,
					      "a TDX guest's physical address width is its GPA width (%u), not %u",
					      p->gpa_width, p->phys_bits);
		for (size_t i = 0; i < p->nr_ranges; i++) {
			const struct ccmm_mem_range *r = &p->ranges[i];
			struct ccmm_loc l = where_loc(&r->where);

			if (r->base + r->size > shared)
				return ccmm_error_set(err, &l, -EINVAL,
						      "%s '%s' reaches 0x%" PRIx64 ", above the TDX shared bit (bit %u): such GPAs alias shared memory",
						      ccmm_range_kind_name(r->kind), r->name, r->base + r->size, p->gpa_width - 1);
		}
		break;
	}
	case CCMM_CC_SME:
	case CCMM_CC_SEV:
	case CCMM_CC_SEV_SNP:
		if (p->c_bit < p->phys_bits && p->ranges[p->nr_ranges - 1].base + p->ranges[p->nr_ranges - 1].size >
						    (1ULL << p->c_bit)) {
			const struct ccmm_mem_range *r = &p->ranges[p->nr_ranges - 1];
			struct ccmm_loc l = where_loc(&r->where);

			return ccmm_error_set(err, &l, -EINVAL,
					      "%s '%s' reaches above the C-bit (bit %u): the C-bit must lie above every physical address",
					      ccmm_range_kind_name(r->kind), r->name, p->c_bit);
		}
		break;
	default:
		break;
	}
	for (size_t i = 0; i < p->nr_iommus; i++) {
		const struct ccmm_iommu_desc *d = &p->iommus[i];
		struct ccmm_loc l = where_loc(&d->where);

		if (d->kind == CCMM_IOMMU_PSERIES_TCE && p->mode != CCMM_CC_PSERIES_SVM && p->mode != CCMM_CC_NONE)
			return ccmm_error_set(err, &l, -EINVAL, "a pSeries TCE IOMMU needs a pSeries platform, not mode %s",
					      ccmm_cc_mode_name(p->mode));
		if (d->kind != CCMM_IOMMU_PSERIES_TCE && p->mode == CCMM_CC_PSERIES_SVM)
			return ccmm_error_set(err, &l, -EINVAL, "a pSeries secure VM's IOMMU is kind pseries-tce");
		if (d->kind == CCMM_IOMMU_PSERIES_TCE && d->ddw_align && (d->ddw_align & (d->ddw_align - 1)))
			return ccmm_error_set(err, &l, -EINVAL, "ddw_align must be a power of two");
	}
	/* explicit demotion targets: "cycles are disallowed" (seed 004) */
	for (unsigned a = 0; a < p->nr_nodes; a++) {
		int n = (int)a, steps = 0;
		char path[128];
		size_t used = (size_t)snprintf(path, sizeof(path), "%u", a);

		while (p->node[n].demote_to >= 0 && steps++ <= (int)p->nr_nodes) {
			n = p->node[n].demote_to;
			used += (size_t)snprintf(path + used, used < sizeof(path) ? sizeof(path) - used : 0, " -> %d", n);
			if (n == (int)a) {
				struct ccmm_loc l = where_loc(&p->node[a].where);

				return ccmm_error_set(err, &l, -ELOOP,
						      "demote_to makes a cycle (%s): the kernel never lets demotion loop", path);
			}
		}
	}
	for (unsigned a = 0; a < p->nr_nodes; a++) {
		struct ccmm_loc l = where_loc(&p->node[a].where);

		for (unsigned b = 0; b < p->nr_nodes; b++) {
			if (a == b && p->distance[a][b] != 10)
				return ccmm_error_set(err, &l, -EINVAL, "distance from node %u to itself must be 10, not %u", a,
						      p->distance[a][b]);
			if (a != b && p->distance[a][b] <= 10)
				return ccmm_error_set(err, &l, -EINVAL, "distance from node %u to node %u must be above 10, not %u",
						      a, b, p->distance[a][b]);
			if (p->distance[a][b] != p->distance[b][a])
				return ccmm_error_set(err, &l, -EINVAL,
						      "distance matrix is not symmetric: node %u to %u is %u but %u to %u is %u", a,
						      b, p->distance[a][b], b, a, p->distance[b][a]);
		}
	}
	return 0;
}

/* Two pieces of one declaration (RAM split around the PCI hole). */
static bool same_decl(const struct ccmm_mem_range *a, const struct ccmm_mem_range *b)
{
	return a->kind == b->kind && a->where.line == b->where.line && !strcmp(a->where.file, b->where.file);
}

/*
 * What the host must give before anything runs (ccmm_platform_host_bytes)
 * stays under ccmm_platform_host_limit(); over it, the costliest range as
 * declared takes the blame, with its size, the need and the limit.
 */
static int check_host_memory(const struct ccmm_platform *p, struct ccmm_error *err)
{
	uint64_t total = 0, limit = ccmm_platform_host_limit(), worst_bytes = 0, worst_size = 0;
	const struct ccmm_mem_range *worst = NULL;
	char sz[32], need[32], rb[32], lim[32];
	struct ccmm_loc l;

	for (size_t i = 0; i < p->nr_ranges; i++) {
		const struct ccmm_mem_range *r = &p->ranges[i];
		uint64_t bytes = 0, size = 0;
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = same_decl(&p->ranges[j], r);
		if (seen)
			continue;
		for (size_t j = i; j < p->nr_ranges; j++) {
			if (!same_decl(&p->ranges[j], r))
				continue;
			bytes += ccmm_platform_host_bytes(&p->ranges[j]);
			size += p->ranges[j].size;
		}
		total = bytes > UINT64_MAX - total ? UINT64_MAX : total + bytes;
		if (bytes > worst_bytes) {
			worst_bytes = bytes;
			worst_size = size;
			worst = r;
		}
	}
	if (total <= limit || !worst)
		return 0;
	l = where_loc(&worst->where);
	return ccmm_error_set(err, &l, -ENOMEM,
			      "%s '%s' of %s cannot be modeled on this host: the platform needs %s of host memory before anything runs (%s for this range), more than the limit of %s (half the host's RAM; CCMM_HOST_RAM sets another)",
			      worst->kind == CCMM_RANGE_BAR ? "BAR" : ccmm_range_kind_name(worst->kind), worst->name,
			      ccmm_format_size(worst_size, sz, sizeof(sz)), ccmm_format_size(total, need, sizeof(need)),
			      ccmm_format_size(worst_bytes, rb, sizeof(rb)), ccmm_format_size(limit, lim, sizeof(lim)));
}

int ccmm_platform_finalize(struct ccmm_platform *p, struct ccmm_error *err)
{
	int ret = layout(p, err);

	if (!ret)
		ret = validate(p, err);
	if (!ret)
		ret = check_host_memory(p, err);
	return ret;
}

static void default_costs(struct ccmm_costs *c)
{
	for (int i = 0; i < CCMM_COST_NR; i++)
		((uint64_t *)c)[i] = ccmm_cost_info[i].def;
}

/*
 * Settings (--set platform.KEY, platform.SECT:NAME.KEY, cost.NAME) after the
 * file's lines, as lines of the section they name: an existing section's
 * option is replaced, a missing section is added (as if it ended the file).
 * Errors name the setting.
 */
static int apply_settings(struct parse *ps, const struct ccmm_setting *sets, size_t nr, struct ccmm_error *err)
{
	for (size_t i = 0; i < nr; i++) {
		const struct ccmm_setting *st = &sets[i];
		struct ccmm_loc loc = { st->origin, 0 };
		int ret;

		if (st->target != CCMM_SET_PLATFORM)
			continue;
		ps->cur = NULL;
		if (!strcmp(st->section, "platform")) {
			ps->cur_kind = S_PLATFORM;
			ps->have_platform = true;
		} else if (!strcmp(st->section, "cost")) {
			ps->cur_kind = S_COST;
		} else {
			const char *colon = strchr(st->section, ':');
			size_t klen = colon ? (size_t)(colon - st->section) : strlen(st->section);

			for (size_t k = 0; colon && k < ps->nitems; k++) {
				struct item *it = &ps->items[k];

				if (!strncmp(sect_names[it->kind], st->section, klen) && !sect_names[it->kind][klen] &&
				    !strcmp(it->name, colon + 1)) {
					ps->cur = it;
					ps->cur_kind = it->kind;
				}
			}
			if (!ps->cur) {
				ret = begin_section(ps, st->section, &loc, err);
				if (ret)
					return ret;
				if (ps->cur_kind == S_PLATFORM || ps->cur_kind == S_COST)
					return ccmm_error_set(err, &loc, -EINVAL, "platform.%s.KEY: write platform.KEY or cost.NAME",
							      st->section);
			}
		}
		ret = plat_handler(ps, st->section, st->key, st->value, &loc, err);
		if (ret)
			return ret;
	}
	return 0;
}

int ccmm_platform_parse(const char *name, const char *text, struct ccmm_platform **out, struct ccmm_error *err)
{
	return ccmm_platform_parse_set(name, text, NULL, 0, out, err);
}

int ccmm_platform_parse_set(const char *name, const char *text, const struct ccmm_setting *sets, size_t nr_sets,
			    struct ccmm_platform **out, struct ccmm_error *err)
{
	struct parse ps;
	struct ccmm_platform *p;
	int ret;

	memset(&ps, 0, sizeof(ps));
	ccmm_option_defaults(platform_options, &ps.plat);
	ps.plat.phys_bits = UNSET;
	default_costs(&ps.costs);

	p = calloc(1, sizeof(*p));
	if (!p)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	snprintf(p->source, sizeof(p->source), "%s", name);

	ret = ccmm_ini_parse(name, text, plat_handler, &ps, err);
	if (!ret)
		ret = apply_settings(&ps, sets, nr_sets, err);
	if (!ret && !ps.have_platform) {
		struct ccmm_loc l = { name, 0 };

		ret = ccmm_error_set(err, &l, -EINVAL, "no [platform] section");
	}
	if (!ret)
		ret = build(&ps, p, err);
	if (!ret)
		ret = ccmm_platform_finalize(p, err);
	if (!ret && ps.plat.set_swiotlb_base) {
		/* the recorded pool must lie in one RAM range of the laid-out map */
		const struct ccmm_mem_range *r = ccmm_platform_range(p, p->swiotlb_base);
		struct ccmm_loc l = where_loc(&ps.plat.where_swiotlb_base);

		if (!r || r->kind != CCMM_RANGE_RAM || p->swiotlb_base + p->swiotlb_size > r->base + r->size)
			ret = ccmm_error_set(err, &l, -EINVAL,
					     "the SWIOTLB pool [0x%" PRIx64 ", 0x%" PRIx64 ") does not lie in one RAM range",
					     p->swiotlb_base, p->swiotlb_base + p->swiotlb_size);
	}
	free(ps.items);
	if (ret) {
		ccmm_platform_free(p);
		return ret;
	}
	*out = p;
	return 0;
}

int ccmm_platform_load(const char *path, struct ccmm_platform **out, struct ccmm_error *err)
{
	return ccmm_platform_parse(path, NULL, out, err);
}

int ccmm_platform_default(struct ccmm_platform **out, struct ccmm_error *err)
{
	int ret = ccmm_platform_parse("built-in default", ccmm_default_platform_text, out, err);

	if (!ret)
		snprintf((*out)->source, sizeof((*out)->source), "built-in default");
	return ret;
}

void ccmm_platform_free(struct ccmm_platform *p)
{
	if (!p)
		return;
	free(p->ranges);
	free(p->devices);
	free(p->iommus);
	free(p);
}

int ccmm_platform_dup(const struct ccmm_platform *p, struct ccmm_platform **out)
{
	struct ccmm_platform *d = malloc(sizeof(*d));

	if (!d)
		return -ENOMEM;
	*d = *p;
	d->ranges = malloc((p->nr_ranges ? p->nr_ranges : 1) * sizeof(*d->ranges));
	d->devices = malloc((p->nr_devices ? p->nr_devices : 1) * sizeof(*d->devices));
	d->iommus = malloc((p->nr_iommus ? p->nr_iommus : 1) * sizeof(*d->iommus));
	if (!d->ranges || !d->devices || !d->iommus) {
		ccmm_platform_free(d);
		return -ENOMEM;
	}
	if (p->nr_ranges)
		memcpy(d->ranges, p->ranges, p->nr_ranges * sizeof(*d->ranges));
	if (p->nr_devices)
		memcpy(d->devices, p->devices, p->nr_devices * sizeof(*d->devices));
	if (p->nr_iommus)
		memcpy(d->iommus, p->iommus, p->nr_iommus * sizeof(*d->iommus));
	*out = d;
	return 0;
}

int ccmm_platform_find_device(const struct ccmm_platform *p, const char *name)
{
	for (size_t i = 0; i < p->nr_devices; i++)
		if (!strcmp(p->devices[i].name, name))
			return (int)i;
	return -1;
}

int ccmm_platform_find_iommu(const struct ccmm_platform *p, const char *name)
{
	for (size_t i = 0; i < p->nr_iommus; i++)
		if (!strcmp(p->iommus[i].name, name))
			return (int)i;
	return -1;
}

const struct ccmm_mem_range *ccmm_platform_range(const struct ccmm_platform *p, uint64_t pa)
{
	size_t lo = 0, hi = p->nr_ranges;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct ccmm_mem_range *r = &p->ranges[mid];

		if (pa < r->base)
			hi = mid;
		else if (pa >= r->base + r->size)
			lo = mid + 1;
		else
			return r;
	}
	return NULL;
}

uint64_t ccmm_platform_ram(const struct ccmm_platform *p, int node)
{
	uint64_t sum = 0;

	for (size_t i = 0; i < p->nr_ranges; i++)
		if (p->ranges[i].kind == CCMM_RANGE_RAM && (node < 0 || p->ranges[i].node == node))
			sum += p->ranges[i].size;
	return sum;
}

uint64_t ccmm_platform_host_bytes(const struct ccmm_mem_range *r)
{
	uint64_t pages = r->size >> CCMM_PAGE_SHIFT;
	/* one pointer per 2 MiB chunk the range touches (machine.c's phys_init) */
	uint64_t b = ((r->size >> CCMM_CHUNK_SHIFT) + 2) * sizeof(void *);

	if (r->kind == CCMM_RANGE_RAM)
		b += pages / 4 + 16 * sizeof(uint64_t); /* a bitmap per order: ~2 bits a page */
	else if (r->kind == CCMM_RANGE_EPC)
		b += pages * CCMM_EPC_PAGE_HOST_BYTES;
	return b;
}

uint64_t ccmm_platform_host_limit(void)
{
	return ccmm_host_ram() / 2;
}

uint64_t ccmm_platform_enc_mask(const struct ccmm_platform *p)
{
	switch (p->mode) {
	case CCMM_CC_SME:
	case CCMM_CC_SEV:
	case CCMM_CC_SEV_SNP:
		return 1ULL << p->c_bit;
	case CCMM_CC_TDX:
		return 1ULL << (p->gpa_width - 1);
	default:
		return 0;
	}
}
