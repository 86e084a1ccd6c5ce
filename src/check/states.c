// SPDX-License-Identifier: MIT
/*
 * "ccmm states --mode M": the memory-state table of seed 004.
 *
 * The descriptive columns (how a class is selected, who selects it, who
 * enforces it) are this file's text, written from the seeds. Every
 * outcome cell is computed by ccmm_decide(), so the table is the checker's
 * own rule book, not a copy of it.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "check/check.h"

struct mem_class {
	const char *name;
	const char *selected;    /* how it is selected */
	const char *selector;    /* who selects it */
	const char *enforcer;    /* who enforces the selection */
	enum ccmm_range_kind kind;
	enum ccmm_page_state state;
	bool private_attr;       /* the attribute a correct guest mapping carries */
	bool has_attr;           /* the mode has a PTE attribute to get wrong */
	bool poisoned;           /* lines failed their integrity check */
};

struct mode_desc {
	enum ccmm_cc_mode mode;
	const char *summary;
	const struct mem_class *classes;
	size_t nr;
	const char *induce[CCMM_OUTCOME_NR]; /* who can induce each fault */
};

static const struct mem_class tdx_classes[] = {
	{ "TD-private", "shared bit (GPA bit 51/47) clear in a present guest PTE; the walk goes to the secure EPT",
	  "the guest kernel (the default; set_memory_encrypted = MapGPA(private) + TDG.MEM.PAGE.ACCEPT)",
	  "the TDX module: only it writes S-EPT entries (at the VMM's request) and it refuses to map a page twice; "
	  "memory integrity (MAC) catches host writes",
	  CCMM_RANGE_RAM, CCMM_PS_PRIVATE, true, true },
	{ "TD-private, poisoned", "TD-private memory whose lines a host write broke (integrity MAC mismatch)",
	  "nobody selects it: the host induces it by writing private memory",
	  "the memory controller: the poisoned line raises #MC when consumed", CCMM_RANGE_RAM, CCMM_PS_PRIVATE, true, true,
	  true },
	{ "TD-private, pending", "added by the VMM (TDH.MEM.PAGE.AUG) after MapGPA(private), not yet accepted",
	  "the VMM adds it, the guest accepts it", "the TDX module (S-EPT entry state PENDING)", CCMM_RANGE_RAM,
	  CCMM_PS_PENDING, true, true },
	{ "shared", "shared bit set in the guest PTE; the walk goes to the VMM's shared EPT",
	  "the guest kernel (set_memory_decrypted = MapGPA(shared)): DMA buffers, SWIOTLB, GHCI pages",
	  "the VMM, which owns the shared EPT and may remove mappings or clear suppress-#VE at any time",
	  CCMM_RANGE_RAM, CCMM_PS_SHARED, false, true },
	{ "MMIO", "a device BAR GPA, mapped shared by ioremap()", "the guest kernel (ioremap maps it shared)",
	  "the VMM: no EPT mapping, so each access is an EPT violation turned into #VE and emulated", CCMM_RANGE_BAR,
	  CCMM_PS_SHARED, false, true },
};

static const struct mem_class snp_classes[] = {
	{ "guest-private", "C-bit set in the guest PTE; RMP entry assigned to the guest and validated",
	  "the guest (PVALIDATE; page-state changes through the GHCB)",
	  "the RMP: hardware checks every access; only the hypervisor writes it (RMPUPDATE, PSMASH), only the guest "
	  "validates",
	  CCMM_RANGE_RAM, CCMM_PS_PRIVATE, true, true },
	{ "assigned, not validated", "RMP entry assigned to the guest, validated bit clear",
	  "the hypervisor assigns (RMPUPDATE), the guest validates", "the RMP (validated bit)", CCMM_RANGE_RAM,
	  CCMM_PS_PENDING, true, true },
	{ "shared", "C-bit clear in the guest PTE; RMP entry hypervisor-owned",
	  "the guest (set_memory_decrypted: PVALIDATE rescind + page-state change)", "the RMP", CCMM_RANGE_RAM,
	  CCMM_PS_SHARED, false, true },
	{ "MMIO", "a device BAR, mapped decrypted", "the guest kernel (ioremap)",
	  "the hypervisor: NPT reserved-bit faults become #VC, handled through the GHCB", CCMM_RANGE_BAR,
	  CCMM_PS_SHARED, false, true },
};

static const struct mem_class sev_classes[] = {
	{ "guest-encrypted", "C-bit set in the guest PTE", "the guest kernel (the default)",
	  "nobody: the memory controller encrypts with the guest key, but there is no integrity and no access "
	  "control",
	  CCMM_RANGE_RAM, CCMM_PS_PRIVATE, true, true },
	{ "decrypted (shared)", "C-bit clear in the guest PTE",
	  "the guest kernel (set_memory_decrypted; DMA buffers, SWIOTLB)", "nobody", CCMM_RANGE_RAM, CCMM_PS_SHARED,
	  false, true },
	{ "MMIO", "a device BAR, mapped decrypted", "the guest kernel (ioremap)",
	  "the hypervisor emulates it on nested page faults", CCMM_RANGE_BAR, CCMM_PS_SHARED, false, true },
};

static const struct mem_class sme_classes[] = {
	{ "encrypted", "C-bit set in the PTE", "the kernel (the default for its own memory)",
	  "nobody: the memory controller encrypts with the host key", CCMM_RANGE_RAM, CCMM_PS_PRIVATE, true, true },
	{ "decrypted", "C-bit clear in the PTE",
	  "the kernel (set_memory_decrypted: DMA for devices whose mask cannot reach the C-bit)", "nobody",
	  CCMM_RANGE_RAM, CCMM_PS_SHARED, false, true },
	{ "MMIO", "a device BAR, mapped without the C-bit", "the kernel (ioremap)", "nobody", CCMM_RANGE_BAR,
	  CCMM_PS_SHARED, false, true },
};

static const struct mem_class svm_classes[] = {
	{ "secure", "not shared: the default for all guest memory (no PTE bit)", "the guest (the default)",
	  "the ultravisor and the hardware's secure-memory protection", CCMM_RANGE_RAM, CCMM_PS_PRIVATE, true, false },
	{ "shared", "shared with the hypervisor by UV_SHARE_PAGE", "the guest (set_memory_decrypted -> uv_share_page)",
	  "the ultravisor", CCMM_RANGE_RAM, CCMM_PS_SHARED, true, false },
	{ "MMIO", "a device BAR", "the guest kernel (ioremap)", "the hypervisor (emulated) or the device",
	  CCMM_RANGE_BAR, CCMM_PS_SHARED, true, false },
};

static const struct mem_class none_classes[] = {
	{ "memory", "every RAM page", "-", "-", CCMM_RANGE_RAM, CCMM_PS_SHARED, false, false },
	{ "MMIO", "a device BAR", "the kernel (ioremap)", "-", CCMM_RANGE_BAR, CCMM_PS_SHARED, false, false },
};

#define CLASSES(a) a, CCMM_ARRAY_SIZE(a)

static const struct mode_desc modes[] = {
	{ CCMM_CC_NONE, "no memory encryption", CLASSES(none_classes), { 0 } },
	{ CCMM_CC_SME,
	  "AMD SME: the host encrypts its own memory; devices reach encrypted memory only with the C-bit in the DMA "
	  "address",
	  CLASSES(sme_classes),
	  { [CCMM_SCRAMBLED] = "the kernel, by mapping a page with the wrong C-bit" } },
	{ CCMM_CC_SEV, "AMD SEV guest: memory encrypted with the guest's key; no integrity, no RMP",
	  CLASSES(sev_classes),
	  { [CCMM_SCRAMBLED] = "the guest (wrong C-bit in a mapping) or the host (reads or writes guest memory)",
	    [CCMM_NPF] = "the guest, by touching MMIO (emulated by the hypervisor)" } },
	{ CCMM_CC_SEV_SNP, "AMD SEV-SNP guest: SEV plus the reverse map table (RMP)", CLASSES(snp_classes),
	  { [CCMM_NPF] = "the guest (an access with the wrong C-bit) or the hypervisor (changing the RMP under the guest)",
	    [CCMM_VC] = "the guest (MMIO, unvalidated pages) or the hypervisor (assigning pages without validation)",
	    [CCMM_PF] = "the guest: making a page private inside a 2 MiB region the host maps with one entry makes the "
			"host's next write there fault",
	    [CCMM_BLOCKED] = "a device (DMA to guest-owned pages)",
	    [CCMM_SCRAMBLED] = "the host, by reading guest-private memory" } },
	{ CCMM_CC_TDX, "Intel TDX guest (trust domain): private memory behind the secure EPT, shared memory behind the VMM's EPT",
	  CLASSES(tdx_classes),
	  { [CCMM_VE] = "the guest (MMIO, a shared access to private memory, an unaccepted page) or the VMM (removing a "
			"private page, clearing suppress-#VE in the shared EPT)",
	    [CCMM_MCE] = "the host: a write to TD-private memory poisons the lines; the TD takes #MC when it reads them",
	    [CCMM_ZEROS] = "the host, by reading TD-private memory",
	    [CCMM_BLOCKED] = "a device (DMA to private GPAs)" } },
	{ CCMM_CC_PSERIES_SVM, "IBM pSeries secure VM: the ultravisor keeps guest memory secure until it is shared",
	  CLASSES(svm_classes),
	  { [CCMM_BLOCKED] = "the hypervisor or a device, by touching secure memory" } },
};

enum column {
	COL_GUEST,     /* guest kernel, attribute as selected */
	COL_WRONG,     /* guest kernel, the other attribute */
	COL_HOST,      /* host / VMM, 4 KiB mapping */
	COL_HOST_2M,   /* host / VMM through a 2 MiB mapping over a region with a private page */
	COL_DEVICE,    /* device DMA */
	COL_NR
};

static const char *const col_names[COL_NR] = { "guest", "guest, other attribute", "host/VMM", "host via 2M map",
					       "device DMA" };
static const char *const col_keys[COL_NR] = { "guest", "guest_other_attribute", "host", "host_2m_mapping", "device" };

static void eval(const struct mode_desc *md, enum ccmm_mmio_mode mmio, const struct mem_class *c, enum column col,
		 enum ccmm_rw rw, struct ccmm_decision *d)
{
	struct ccmm_view v;
	enum ccmm_cc_mode mode = md->mode;

	memset(&v, 0, sizeof(v));
	v.rw = rw;
	v.kind = c->kind;
	v.state = c->state;
	v.poisoned = c->poisoned;
	v.level = 1;
	switch (col) {
	case COL_GUEST:
		v.who = CCMM_INIT_KERNEL;
		v.private_attr = c->private_attr;
		break;
	case COL_WRONG:
		v.who = CCMM_INIT_KERNEL;
		v.private_attr = !c->private_attr;
		break;
	case COL_HOST:
		v.who = ccmm_cc_is_guest(mode) ? CCMM_INIT_HOST : CCMM_INIT_KERNEL;
		v.private_attr = ccmm_cc_is_guest(mode) ? false : c->private_attr;
		break;
	case COL_HOST_2M:
		v.who = ccmm_cc_is_guest(mode) ? CCMM_INIT_HOST : CCMM_INIT_KERNEL;
		v.private_attr = ccmm_cc_is_guest(mode) ? false : c->private_attr;
		v.level = 2;
		v.private_in_2m = true;
		break;
	case COL_DEVICE:
		v.who = CCMM_INIT_DEVICE;
		v.private_attr = false;
		v.p2p_ok = true;
		break;
	default:
		break;
	}
	ccmm_decide(mode, mmio, &v, d);
}

static const char *cell_word(const struct ccmm_decision *d)
{
	if (d->poison)
		return "poison";
	if (d->handled)
		return d->outcome == CCMM_VE ? "#VE,emul" : d->outcome == CCMM_VC ? "#VC,emul" : "npf,emul";
	return ccmm_outcome_name(d->outcome);
}

static const struct mode_desc *find_mode(enum ccmm_cc_mode mode)
{
	for (size_t i = 0; i < CCMM_ARRAY_SIZE(modes); i++)
		if (modes[i].mode == mode)
			return &modes[i];
	return NULL;
}

static bool column_applies(const struct mode_desc *md, const struct mem_class *c, enum column col)
{
	if (col == COL_WRONG)
		return c->has_attr;
	if (col == COL_HOST_2M)
		return md->mode == CCMM_CC_SEV_SNP && c->kind == CCMM_RANGE_RAM && c->state == CCMM_PS_SHARED;
	return true;
}

static int text_table(const struct mode_desc *md, enum ccmm_mmio_mode mmio, FILE *out)
{
	bool raised[CCMM_OUTCOME_NR] = { false };

	fprintf(out, "Memory states: %s\n%s\n\n", ccmm_cc_mode_name(md->mode), md->summary);
	for (size_t i = 0; i < md->nr; i++) {
		const struct mem_class *c = &md->classes[i];

		fprintf(out, "%s\n", c->name);
		fprintf(out, "  selected by:  %s\n", c->selected);
		fprintf(out, "  selected by whom: %s\n", c->selector);
		fprintf(out, "  enforced by:  %s\n", c->enforcer);
		fprintf(out, "  accesses (read / write):\n");
		for (int col = 0; col < COL_NR; col++) {
			struct ccmm_decision r, w;

			if (!column_applies(md, c, (enum column)col))
				continue;
			eval(md, mmio, c, (enum column)col, CCMM_READ, &r);
			eval(md, mmio, c, (enum column)col, CCMM_WRITE, &w);
			raised[r.outcome] = raised[w.outcome] = true;
			fprintf(out, "    %-24s %-10s / %-10s", col_names[col], cell_word(&r), cell_word(&w));
			if (r.rule || w.rule)
				fprintf(out, "  [%s%s%s]", r.rule ? r.rule->name : "", r.rule && w.rule && r.rule != w.rule ? ", " : "",
					w.rule && w.rule != r.rule ? w.rule->name : "");
			fputc('\n', out);
		}
		fputc('\n', out);
	}
	fprintf(out, "Faults and who can induce them\n");
	for (int o = 0; o < CCMM_OUTCOME_NR; o++) {
		if (!raised[o] || o == CCMM_OK)
			continue;
		fprintf(out, "  %-10s %s\n", ccmm_outcome_name((enum ccmm_outcome)o),
			md->induce[o] ? md->induce[o] : "(see the cells above)");
	}
	fprintf(out, "\nemul: the exception is handled by emulating the access, which completes.\n"
		     "poison: the write lands but breaks the line's integrity; the owner's next read takes #MC.\n");
	return ferror(out) ? -EIO : 0;
}

static int json_table(const struct mode_desc *md, enum ccmm_mmio_mode mmio, FILE *out)
{
	json_t *root = json_object(), *classes = json_array(), *faults = json_object();
	bool raised[CCMM_OUTCOME_NR] = { false };
	int ret;

	json_object_set_new(root, "mode", json_string(ccmm_cc_mode_name(md->mode)));
	json_object_set_new(root, "summary", json_string(md->summary));
	for (size_t i = 0; i < md->nr; i++) {
		const struct mem_class *c = &md->classes[i];
		json_t *jc = json_object(), *acc = json_object();

		json_object_set_new(jc, "class", json_string(c->name));
		json_object_set_new(jc, "selected_by", json_string(c->selected));
		json_object_set_new(jc, "selector", json_string(c->selector));
		json_object_set_new(jc, "enforced_by", json_string(c->enforcer));
		for (int col = 0; col < COL_NR; col++) {
			struct ccmm_decision d[2];
			json_t *jcol;

			if (!column_applies(md, c, (enum column)col))
				continue;
			jcol = json_object();
			for (int rw = 0; rw < 2; rw++) {
				json_t *cell = json_object();

				eval(md, mmio, c, (enum column)col, (enum ccmm_rw)rw, &d[rw]);
				raised[d[rw].outcome] = true;
				json_object_set_new(cell, "outcome", json_string(ccmm_outcome_name(d[rw].outcome)));
				json_object_set_new(cell, "emulated", json_boolean(d[rw].handled));
				json_object_set_new(cell, "poison", json_boolean(d[rw].poison));
				json_object_set_new(cell, "rule", d[rw].rule ? json_string(d[rw].rule->name) : json_null());
				json_object_set_new(cell, "why", json_string(d[rw].why));
				json_object_set_new(jcol, rw ? "write" : "read", cell);
			}
			json_object_set_new(acc, col_keys[col], jcol);
		}
		json_object_set_new(jc, "accesses", acc);
		json_array_append_new(classes, jc);
	}
	json_object_set_new(root, "classes", classes);
	for (int o = 0; o < CCMM_OUTCOME_NR; o++)
		if (raised[o] && o != CCMM_OK)
			json_object_set_new(faults, ccmm_outcome_name((enum ccmm_outcome)o),
					    json_string(md->induce[o] ? md->induce[o] : ""));
	json_object_set_new(root, "induced_by", faults);
	ret = json_dumpf(root, out, JSON_INDENT(2)) ? -EIO : 0;
	fputc('\n', out);
	json_decref(root);
	return ret;
}

int ccmm_states_table(enum ccmm_cc_mode mode, enum ccmm_mmio_mode mmio, bool json, FILE *out)
{
	const struct mode_desc *md = find_mode(mode);

	if (!md)
		return -EINVAL;
	return json ? json_table(md, mmio, out) : text_table(md, mmio, out);
}
