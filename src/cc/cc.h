/* SPDX-License-Identifier: MIT */
/*
 * cc.h - the secure world that owns per-page state (layer 2).
 *
 *            guest kernel (mm/: set_memory_encrypted/decrypted)
 *                 |            ccmm_cc_convert()
 *      +----------+-----------+-------------+--------------+
 *      |          |           |             |              |
 *     SME/SEV    SEV-SNP      TDX          pSeries SVM     none
 *   (state only) GHCB PSC    MapGPA        UV_SHARE_PAGE   nothing
 *                RMPUPDATE   S-EPT remove  UV_UNSHARE_PAGE
 *                PVALIDATE   AUG + ACCEPT
 *                PSMASH
 *
 * Each primitive checks its own rules (alignment, page sizes, the state it
 * expects), changes page state under the chunk lock, appends a record to
 * the page's conversion history and charges the cost table. Errors are the
 * kernel's: -EINVAL for bad arguments, -EIO when the other side (VMM,
 * firmware) refuses.
 *
 * Fault injection lives here, in the environment: the VMM can be told to
 * refuse a MapGPA / page-state change after N pages (ccmm_cc_fail_after).
 *
 * Locking: history has its own mutex; page updates take chunk locks one
 * page at a time. Callable from any thread.
 */
#ifndef CCMM_CC_H
#define CCMM_CC_H

#include "check/check.h"
#include "platform/platform.h"
#include "platform/subsys.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/* Owner IDs in page metadata. */
#define CCMM_OWNER_HOST  0
#define CCMM_OWNER_GUEST 1

enum ccmm_conv_op {
	CCMM_CONV_TO_SHARED,      /* kernel-level conversion (SME/SEV: C-bit flip only) */
	CCMM_CONV_TO_PRIVATE,
	CCMM_CONV_MAPGPA_SHARED,  /* TDX MapGPA: VMM removes the private page */
	CCMM_CONV_MAPGPA_PRIVATE, /* TDX MapGPA: VMM adds a pending private page */
	CCMM_CONV_ACCEPT,         /* TDX TDG.MEM.PAGE.ACCEPT */
	CCMM_CONV_RMP_ASSIGN,     /* SNP RMPUPDATE: assigned */
	CCMM_CONV_RMP_SHARED,     /* SNP RMPUPDATE: hypervisor-owned */
	CCMM_CONV_PSMASH,         /* SNP: 2 MiB RMP entry split */
	CCMM_CONV_VALIDATE,       /* SNP PVALIDATE validate=1 */
	CCMM_CONV_RESCIND,        /* SNP PVALIDATE validate=0 */
	CCMM_CONV_UV_SHARE,       /* pSeries UV_SHARE_PAGE */
	CCMM_CONV_UV_UNSHARE,     /* pSeries UV_UNSHARE_PAGE */
	CCMM_CONV_NR
};

const char *ccmm_conv_op_name(enum ccmm_conv_op op);

/* One conversion of one page. Records of a page chain backwards via prev. */
struct ccmm_hist_rec {
	uint64_t pfn;
	uint64_t time_ns;
	uint32_t prev;   /* previous record of this page + 1; 0: none */
	int16_t actor;
	uint8_t op;      /* enum ccmm_conv_op */
	uint8_t from, to; /* enum ccmm_page_state */
};

struct ccmm_cc {
	pthread_mutex_t lock;
	struct ccmm_hist_rec *hist;
	size_t nr_hist, cap_hist;
	long fail_after;    /* pages the VMM still converts before refusing; < 0: never refuses */
};

/* The secure world's registration: its init sets up the history and fault injection of the platform's mode. */
extern struct ccmm_subsys ccmm_subsys_cc;

/*
 * ccmm_cc_fail_after - the VMM / hypervisor / ultravisor converts @pages
 * more pages and then refuses (-EIO), once; -1 turns refusals off.
 * Models a MapGPA or page-state change that fails half-way (seed 004:
 * "XXX: need to undo on error?").
 */
void ccmm_cc_fail_after(struct ccmm_machine *m, long pages);

/*
 * ccmm_cc_history - copy up to @max records of the page at @pfn, newest
 * first, starting at record @head (a page's hist field; 0 gives none).
 * Returns the number copied.
 */
size_t ccmm_cc_history(struct ccmm_machine *m, uint32_t head, struct ccmm_hist_rec *out, size_t max);

/*
 * ccmm_cc_convert - the secure-world half of set_memory_encrypted()
 * (@to_private) or set_memory_decrypted() for @npages pages at physical
 * address @pa (page aligned, RAM):
 *   SME, SEV:  the state follows the kernel's C-bit; nothing to ask
 *   SEV-SNP:   to shared: PVALIDATE rescind each page, then a GHCB page-state
 *              change; the hypervisor PSMASHes 2 MiB entries as needed and
 *              RMPUPDATEs. To private: page-state change, then PVALIDATE.
 *   TDX:       MapGPA; for private, TDG.MEM.PAGE.ACCEPT of each page
 *   pSeries:   UV_SHARE_PAGE / UV_UNSHARE_PAGE
 *   none:      nothing (returns 0)
 * A page made private while the host maps it records private_mapped_by_host.
 * On a refusal part-way, *@done (may be NULL) says how many pages were
 * converted; the caller must undo or leak them. Returns 0, -EINVAL (not
 * aligned, not RAM, beyond the range), -EIO (refused).
 */
int ccmm_cc_convert(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages, bool to_private, uint64_t *done);

/* ---- TDX (GHCI / TDX module ABI) ------------------------------------ */

enum ccmm_tdx_map_type {
	CCMM_TDX_MAP_PRIVATE,
	CCMM_TDX_MAP_SHARED,
};

/*
 * ccmm_tdx_map_gpa - TDG.VP.VMCALL<MapGPA>: ask the VMM to map @npages at
 * @gpa private or shared. Shared: the private pages leave the S-EPT and
 * their contents are lost. Private: the VMM adds pending pages, which the
 * guest must accept. Charges one TDVMCALL plus tdx_mapgpa_page_ns per page.
 * Returns 0, -EINVAL, -EIO (refused after *@done pages).
 */
int ccmm_tdx_map_gpa(struct ccmm_ctx *ctx, uint64_t gpa, uint64_t npages, enum ccmm_tdx_map_type type,
		     uint64_t *done);

/*
 * ccmm_tdx_accept_page - TDG.MEM.PAGE.ACCEPT of one 4 KiB page: PENDING ->
 * PRIVATE, zeroed under the TD's key. -EEXIST if already accepted (the TDX
 * module's TDX_PAGE_ALREADY_ACCEPTED), -EINVAL if no page was added there.
 */
int ccmm_tdx_accept_page(struct ccmm_ctx *ctx, uint64_t gpa);

/* ---- SEV-SNP ----------------------------------------------------------- */

/*
 * ccmm_snp_rmpupdate - host RMPUPDATE of the entry at @pa: @assigned to the
 * guest or hypervisor-owned, as a 4 KiB or (@huge) 2 MiB entry. A 2 MiB
 * entry needs a 2 MiB-aligned @pa and covers all 512 pages; assigning
 * clears validation. -EINVAL for misalignment or an immutable entry.
 */
int ccmm_snp_rmpupdate(struct ccmm_ctx *ctx, uint64_t pa, bool assigned, bool huge);

/*
 * ccmm_snp_psmash - split the 2 MiB RMP entry at @pa (2 MiB aligned) into
 * 512 4 KiB entries keeping their validation. -EINVAL if @pa is not aligned
 * or the entry is not 2 MiB.
 */
int ccmm_snp_psmash(struct ccmm_ctx *ctx, uint64_t pa);

/*
 * ccmm_snp_pvalidate - guest PVALIDATE of the page at @pa at size 4 KiB or
 * (@huge) 2 MiB, validating or rescinding. Errors as the instruction:
 * -EINVAL (FAIL_INPUT: not assigned to this guest, misaligned), -ERANGE
 * (FAIL_SIZEMISMATCH: a 4 KiB validate inside a 2 MiB RMP entry), -EALREADY
 * (FAIL_NOUPDATE: already in that state).
 */
int ccmm_snp_pvalidate(struct ccmm_ctx *ctx, uint64_t pa, bool huge, bool validate);

/*
 * ccmm_snp_psc - GHCB page-state change request for @npages at @pa (one
 * VMGEXIT): the hypervisor PSMASHes any 2 MiB entry that the range covers
 * only partly and RMPUPDATEs each page. Validation is the guest's job.
 * Returns 0, -EINVAL, -EIO (refused after *@done pages).
 */
int ccmm_snp_psc(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages, bool to_private, uint64_t *done);

/* ---- pSeries ultravisor -------------------------------------------- */

/* UV_SHARE_PAGE / UV_UNSHARE_PAGE for @npages at @pfn. 0, -EINVAL, -EIO (refused after *@done). */
int ccmm_uv_share_page(struct ccmm_ctx *ctx, uint64_t pfn, uint64_t npages, uint64_t *done);
int ccmm_uv_unshare_page(struct ccmm_ctx *ctx, uint64_t pfn, uint64_t npages, uint64_t *done);

/* ---- cache flushes --------------------------------------------------- */

/* Whether changing a page's encryption needs a cache flush first (SME/SEV/SNP without SME_COHERENT). */
bool ccmm_cc_needs_cache_flush(const struct ccmm_machine *m);

/*
 * ccmm_cc_flush_cache - clflush @npages pages at @pa (clflush_line_ns per
 * line, or one wbinvd_ns when that is cheaper), as cpa_flush() does before
 * an encryption change.
 */
void ccmm_cc_flush_cache(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages);

/*
 * ccmm_cc_mark_unflushed - an encryption change happened without the
 * needed flush: lines cached under the old key are still dirty. Marks the
 * pages that hold data CCMM_PG_STALE_LINES; the checker reports their next
 * access (stale_cache_lines).
 */
void ccmm_cc_mark_unflushed(struct ccmm_ctx *ctx, uint64_t pa, uint64_t npages);

#pragma GCC visibility pop

#endif /* CCMM_CC_H */
