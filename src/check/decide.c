// SPDX-License-Identifier: MIT
/*
 * The rule book: what the hardware does with one access to one page, per
 * confidential-computing mode. Pure: it reads only the views it is given.
 *
 * Sources: seed 004 (TDX private/shared, #VE, integrity poison, SNP RMP
 * and 2 MiB host mappings, ioremap shared), seed 000 (SEV/SME C-bit,
 * decrypted DMA), seed 002 (pSeries secure memory reachable only through
 * shared bounce buffers), seed 003 (cache attributes).
 */
#include "check/check.h"

static void set(struct ccmm_decision *d, enum ccmm_outcome o, const struct ccmm_rule *rule, const char *why)
{
	d->outcome = o;
	d->rule = rule;
	d->why = why;
	if (ccmm_outcome_faults(o) || o == CCMM_ABORT || o == CCMM_BLOCKED || o == CCMM_ZEROS)
		d->move = false;
}

static bool is_private(enum ccmm_page_state s)
{
	return s != CCMM_PS_SHARED;
}

static void decide_device(enum ccmm_cc_mode mode, const struct ccmm_view *v, struct ccmm_decision *d)
{
	if (v->kind == CCMM_RANGE_BAR) {
		if (is_private(v->state) && !v->trusted)
			set(d, CCMM_BLOCKED, &ccmm_rule_dma_private,
			    "private MMIO (TDISP): only a device interface in RUN, bound to the guest, may reach it");
		else if (!v->p2p_ok)
			set(d, CCMM_BLOCKED, &ccmm_rule_p2p_unreachable,
			    "peer-to-peer to this BAR is outside the device's reach (no common switch / P2P group)");
		else
			d->why = "peer-to-peer DMA to a BAR";
		return;
	}
	if (v->trusted && is_private(v->state) && ccmm_cc_is_guest(mode)) {
		/* TDISP: the TDI's requests carry the guest's identity (IDE, T=1) */
		d->keyid = mode == CCMM_CC_PSERIES_SVM ? CCMM_KEYID_NONE : CCMM_KEYID_GUEST;
		d->why = "TDISP: a device interface in RUN, bound to the guest, reaches its private memory";
		return;
	}
	switch (mode) {
	case CCMM_CC_NONE:
		d->why = "plain DMA";
		return;
	case CCMM_CC_SME:
		d->keyid = v->private_attr ? CCMM_KEYID_HOST : CCMM_KEYID_NONE;
		if (is_private(v->state) && !v->private_attr)
			set(d, v->rw == CCMM_READ ? CCMM_SCRAMBLED : CCMM_OK, &ccmm_rule_dma_private,
			    "SME: the page is encrypted but the DMA address has no C-bit: the device sees ciphertext");
		else if (!is_private(v->state) && v->private_attr)
			set(d, v->rw == CCMM_READ ? CCMM_SCRAMBLED : CCMM_OK, &ccmm_rule_enc_mismatch,
			    "SME: the DMA address carries the C-bit but the page is decrypted");
		else
			d->why = v->private_attr ? "SME: the memory controller decrypts for the device (C-bit in the address)"
						 : "SME: DMA to decrypted memory";
		return;
	case CCMM_CC_SEV:
		if (is_private(v->state))
			set(d, v->rw == CCMM_READ ? CCMM_SCRAMBLED : CCMM_OK, &ccmm_rule_dma_private,
			    "SEV: devices cannot use the guest key: DMA to private memory reads ciphertext and "
			    "writes garbage into it (no integrity); DMA must use decrypted bounce buffers");
		else
			d->why = "SEV: DMA to decrypted (shared) memory";
		return;
	case CCMM_CC_SEV_SNP:
		if (is_private(v->state))
			set(d, CCMM_BLOCKED, &ccmm_rule_dma_private,
			    "SEV-SNP: the IOMMU's RMP check blocks DMA to guest-owned pages");
		else
			d->why = "SEV-SNP: DMA to a hypervisor-owned (shared) page";
		return;
	case CCMM_CC_TDX:
		if (is_private(v->state))
			set(d, CCMM_BLOCKED, &ccmm_rule_dma_private,
			    "TDX: devices reach only shared GPAs; private memory is not mapped for DMA");
		else
			d->why = "TDX: DMA to shared memory";
		return;
	case CCMM_CC_PSERIES_SVM:
		if (is_private(v->state))
			set(d, CCMM_BLOCKED, &ccmm_rule_dma_private,
			    "pSeries SVM: secure memory is not reachable by devices; DMA must use pages shared with UV_SHARE_PAGE");
		else
			d->why = "pSeries SVM: DMA to a page shared with the hypervisor";
		return;
	default:
		return;
	}
}

static void decide_mmio(enum ccmm_cc_mode mode, enum ccmm_mmio_mode mmio, const struct ccmm_view *v,
			struct ccmm_decision *d)
{
	bool guest = ccmm_cc_is_guest(mode) && v->who != CCMM_INIT_HOST;

	d->keyid = CCMM_KEYID_NONE;
	if (is_private(v->state)) {
		/* private MMIO of a TDISP device interface the guest accepted */
		if (!guest)
			set(d, CCMM_BLOCKED, v->rw == CCMM_READ ? &ccmm_rule_host_access_private : &ccmm_rule_host_write_private,
			    "private MMIO (TDISP): the host cannot reach a device interface the guest owns");
		else if (!v->private_attr)
			set(d, mode == CCMM_CC_TDX ? CCMM_VE : CCMM_NPF, &ccmm_rule_enc_mismatch,
			    "private MMIO mapped shared: the shared mapping does not lead to the guest's device interface");
		else
			d->why = "private MMIO (TDISP): a direct access, no exit to the VMM";
		return;
	}
	if (!guest) {
		if (mode == CCMM_CC_SME && v->private_attr)
			set(d, v->rw == CCMM_READ ? CCMM_SCRAMBLED : CCMM_OK, &ccmm_rule_mmio_private,
			    "SME: MMIO mapped with the C-bit: the device sees encrypted accesses");
		else
			d->why = "MMIO";
		return;
	}
	switch (mode) {
	case CCMM_CC_SEV:
		if (v->private_attr)
			set(d, CCMM_NPF, &ccmm_rule_mmio_private,
			    "SEV: MMIO mapped encrypted: the VMM cannot emulate an access whose data it cannot read");
		else {
			set(d, CCMM_NPF, NULL, "SEV: MMIO exits to the VMM (NPF) and is emulated");
			d->handled = true;
			d->move = true;
		}
		return;
	case CCMM_CC_SEV_SNP:
		if (v->private_attr)
			set(d, CCMM_NPF, &ccmm_rule_mmio_private,
			    "SEV-SNP: MMIO mapped private: an RMP nested fault the VMM cannot emulate");
		else {
			set(d, CCMM_VC, NULL, "SEV-SNP: MMIO raises #VC, emulated through the GHCB");
			d->handled = true;
			d->move = true;
		}
		return;
	case CCMM_CC_TDX:
		if (v->private_attr)
			set(d, CCMM_VE, &ccmm_rule_mmio_private,
			    "TDX: MMIO mapped private: the S-EPT has no device memory; ioremap must map it shared");
		else if (mmio == CCMM_MMIO_PARAVIRT) {
			set(d, CCMM_VE, &ccmm_rule_mmio_ve,
			    "TDX: a direct MMIO access took #VE in a guest whose drivers must call the VMM (paravirt MMIO)");
			d->handled = true;
			d->move = true;
		} else {
			set(d, CCMM_VE, NULL, "TDX: MMIO takes #VE; the handler decodes it and asks the VMM (TDVMCALL)");
			d->handled = true;
			d->move = true;
		}
		return;
	default:
		d->why = "MMIO (emulated or passed through by the hypervisor)";
		return;
	}
}

static void decide_cpu_ram(enum ccmm_cc_mode mode, const struct ccmm_view *v, struct ccmm_decision *d)
{
	bool host = v->who == CCMM_INIT_HOST && ccmm_cc_is_guest(mode);
	bool priv = is_private(v->state);
	bool rd = v->rw == CCMM_READ;

	if (host) {
		d->keyid = CCMM_KEYID_NONE;
		if (mode == CCMM_CC_SEV_SNP && !rd && v->private_in_2m && !priv) {
			set(d, CCMM_PF, &ccmm_rule_rmp_page_size,
			    "SEV-SNP: the host writes through a 2 MiB mapping whose region holds a guest-private page: RMP #PF "
			    "(the host must map guest memory with 4 KiB pages)");
			return;
		}
		if (!priv) {
			d->why = "host access to shared guest memory";
			return;
		}
		switch (mode) {
		case CCMM_CC_SEV:
			if (rd)
				set(d, CCMM_SCRAMBLED, &ccmm_rule_host_access_private,
				    "SEV: the host reads the guest's ciphertext");
			else
				set(d, CCMM_OK, &ccmm_rule_host_write_private,
				    "SEV: the host write lands in guest-private memory; with no integrity, the guest later "
				    "reads garbage");
			return;
		case CCMM_CC_SEV_SNP:
			if (rd)
				set(d, CCMM_SCRAMBLED, &ccmm_rule_host_access_private,
				    "SEV-SNP: the host reads the guest's ciphertext");
			else
				set(d, CCMM_PF, &ccmm_rule_host_write_private,
				    "SEV-SNP: host write to a guest-owned page: RMP #PF in the host");
			return;
		case CCMM_CC_TDX:
			if (rd) {
				set(d, CCMM_ZEROS, &ccmm_rule_host_access_private,
				    "TDX: a non-TD read of TD-private memory returns zeros");
			} else {
				set(d, CCMM_OK, &ccmm_rule_host_write_private,
				    "TDX: a host write to TD-private memory breaks its integrity: the lines are poisoned and "
				    "the TD's next read takes #MC");
				d->poison = true;
			}
			return;
		case CCMM_CC_PSERIES_SVM:
			set(d, CCMM_BLOCKED, rd ? &ccmm_rule_host_access_private : &ccmm_rule_host_write_private,
			    "pSeries SVM: secure memory is not accessible to the hypervisor");
			return;
		default:
			return;
		}
	}

	switch (mode) {
	case CCMM_CC_NONE:
		d->why = "plain memory";
		return;
	case CCMM_CC_SME:
	case CCMM_CC_SEV:
		d->keyid = v->private_attr ? (mode == CCMM_CC_SME ? CCMM_KEYID_HOST : CCMM_KEYID_GUEST)
					   : CCMM_KEYID_NONE;
		if (priv && !v->private_attr)
			set(d, rd ? CCMM_SCRAMBLED : CCMM_OK, &ccmm_rule_enc_mismatch,
			    "a mapping without the C-bit over encrypted memory: reads see ciphertext, writes store plaintext "
			    "the owner will read as garbage");
		else if (!priv && v->private_attr)
			set(d, rd ? CCMM_SCRAMBLED : CCMM_OK, &ccmm_rule_enc_mismatch,
			    "a mapping with the C-bit over decrypted memory: reads decrypt plaintext into garbage, writes "
			    "store ciphertext the device or host will read as garbage");
		else
			d->why = v->private_attr ? "encrypted access to encrypted memory" : "decrypted access to decrypted memory";
		break;
	case CCMM_CC_SEV_SNP:
		d->keyid = v->private_attr ? CCMM_KEYID_GUEST : CCMM_KEYID_NONE;
		if (v->private_attr && v->state == CCMM_PS_SHARED)
			set(d, CCMM_NPF, &ccmm_rule_private_access_shared,
			    "SEV-SNP: a private access to a page not assigned to the guest: RMP nested page fault");
		else if (v->private_attr && v->state == CCMM_PS_PENDING)
			set(d, CCMM_VC, &ccmm_rule_unaccepted_access,
			    "SEV-SNP: a private access to an assigned page not yet validated: #VC (page not validated)");
		else if (!v->private_attr && priv)
			set(d, CCMM_NPF, &ccmm_rule_enc_mismatch,
			    "SEV-SNP: a shared (C-bit clear) access to a guest-owned page: RMP nested page fault");
		else
			d->why = v->private_attr ? "private access to validated private memory" : "shared access to shared memory";
		break;
	case CCMM_CC_TDX:
		d->keyid = v->private_attr ? CCMM_KEYID_GUEST : CCMM_KEYID_NONE;
		if (v->private_attr && v->state == CCMM_PS_SHARED)
			set(d, CCMM_VE, &ccmm_rule_private_access_shared,
			    "TDX: a private access to a page converted to shared: the S-EPT entry is gone, EPT violation #VE");
		else if (v->private_attr && v->state == CCMM_PS_PENDING)
			set(d, CCMM_VE, &ccmm_rule_unaccepted_access,
			    "TDX: an access to a page added but not accepted: #VE (TDG.MEM.PAGE.ACCEPT it first)");
		else if (!v->private_attr && priv)
			set(d, CCMM_VE, &ccmm_rule_enc_mismatch,
			    "TDX: a shared access to private memory: the shared EPT has no mapping, the VMM injects #VE");
		else if (v->private_attr && v->poisoned && rd)
			set(d, CCMM_MCE, &ccmm_rule_poison_consumed,
			    "TDX: the line failed its integrity check (a host write hit it): poison consumed, #MC");
		else
			d->why = v->private_attr ? "private access to accepted private memory" : "shared access to shared memory";
		break;
	case CCMM_CC_PSERIES_SVM:
		d->keyid = CCMM_KEYID_NONE;
		d->why = priv ? "the secure guest's own memory" : "memory the guest shared with the hypervisor";
		break;
	default:
		break;
	}
	/* Dirty lines cached under the old key survive a conversion without a flush. */
	if (!d->rule && !ccmm_outcome_faults(d->outcome) && (v->flags & CCMM_PG_STALE_LINES) &&
	    (mode == CCMM_CC_SME || mode == CCMM_CC_SEV || mode == CCMM_CC_SEV_SNP))
		set(d, rd ? CCMM_SCRAMBLED : CCMM_OK, &ccmm_rule_stale_cache_lines,
		    "the page changed encryption without a cache flush: lines cached under the old key are read or "
		    "written back over the new contents");
}

void ccmm_decide(enum ccmm_cc_mode mode, enum ccmm_mmio_mode mmio, const struct ccmm_view *v, struct ccmm_decision *d)
{
	d->outcome = CCMM_OK;
	d->handled = false;
	d->move = true;
	d->keyid = CCMM_KEYID_NONE;
	d->poison = false;
	d->rule = NULL;
	d->why = "";

	if (v->hole) {
		set(d, CCMM_ABORT, v->who == CCMM_INIT_DEVICE ? &ccmm_rule_dma_hole : &ccmm_rule_access_hole,
		    "nothing answers at this address: reads return all-ones, writes are dropped");
		return;
	}
	if (v->kind == CCMM_RANGE_EPC) {
		set(d, CCMM_ABORT, &ccmm_rule_epc_access,
		    "outside enclave mode the EPC is an abort page: reads return all-ones, writes are dropped");
		return;
	}
	if (v->who == CCMM_INIT_DEVICE) {
		decide_device(mode, v, d);
		return;
	}
	if (v->kind == CCMM_RANGE_BAR) {
		decide_mmio(mode, mmio, v, d);
		return;
	}
	decide_cpu_ram(mode, v, d);
}

const char *ccmm_outcome_name(enum ccmm_outcome o)
{
	static const char *const n[] = { "ok", "scrambled", "zeros", "abort", "blocked", "npf", "#VC", "#VE", "#PF", "#MC" };

	return (unsigned)o < CCMM_ARRAY_SIZE(n) ? n[o] : "?";
}

const char *ccmm_initiator_name(enum ccmm_initiator who)
{
	static const char *const n[] = { "kernel", "user", "host", "device" };

	return (unsigned)who < CCMM_ARRAY_SIZE(n) ? n[who] : "?";
}
