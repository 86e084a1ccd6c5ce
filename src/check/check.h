/* SPDX-License-Identifier: MIT */
/*
 * check.h - memory-state rules and the access checker (layer 2).
 *
 *   access (who, read/write, address, length, page table or device)
 *      |
 *      | CPU: translate through the page table (stale TLB first)
 *      | device: IOMMU table if any, DMA mask, bus -> physical
 *      v
 *   per 4 KiB page: the accessor's view   (PTE: private/shared, cache mode,
 *                                          level; device: C-bit in the address)
 *                   the page's view       (range kind, state, owner, poison,
 *                                          stale lines, map counts)
 *      |
 *      v  ccmm_decide(): one pure function per mode, the whole rule book
 *   outcome (data, scrambled, zeros, #PF, #VE, #VC, NPF, #MC, blocked,
 *   abort) + the key to move data under + the rule broken, if any
 *      |
 *      v
 *   bytes really move through the encryption engine; violations become
 *   events with both views and the page's conversion history
 *
 * Rules are named objects (struct ccmm_rule); every subsystem declares its
 * own (CCMM_RULES_DECLARE) and registers them with itself, so job files can
 * name any rule in expect= and get a suggestion for a typo.
 *
 * Locking: the event log has its own mutex; ccmm_access() takes the page
 * table lock and then each page's chunk lock, one page at a time. The map
 * hook runs under the page-table lock and takes chunk locks.
 */
#ifndef CCMM_CHECK_H
#define CCMM_CHECK_H

#include "mmu/mmu.h"
#include "platform/platform.h"
#include "platform/subsys.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

/* ------------------------------------------------------------------ */
/* Rules                                                               */
/* ------------------------------------------------------------------ */

struct ccmm_rule {
	const char *name;    /* stable snake_case name, used in job files */
	const char *seed;    /* the seed thread that states it ("004"), or "" */
	const char *summary; /* one line: what is wrong */
};

/*
 * Rules are declared once, in an X-macro list X(name, seed, summary) in the
 * subsystem's public header:
 *   CCMM_RULES_DECLARE(CCMM_FOO_RULES)   the externs ccmm_rule_NAME
 *   CCMM_RULES_DEFINE(foo_rules, CCMM_FOO_RULES)
 *                                        in one .c file: the rules and a
 *                                        NULL-terminated table for the
 *                                        subsystem's registration
 * ccmm_rule_find() and ccmm_rule_at() (boot/boot.h) see every registered
 * subsystem's rules.
 */
#define CCMM_RULE_EXTERN_(id, seedno, text) extern const struct ccmm_rule ccmm_rule_##id;
#define CCMM_RULE_DEF_(id, seedno, text) const struct ccmm_rule ccmm_rule_##id = { #id, seedno, text };
#define CCMM_RULE_PTR_(id, seedno, text) &ccmm_rule_##id,
#define CCMM_RULES_DECLARE(LIST) LIST(CCMM_RULE_EXTERN_)
#define CCMM_RULES_DEFINE(table, LIST) \
	LIST(CCMM_RULE_DEF_)           \
	static const struct ccmm_rule *const table[] = { LIST(CCMM_RULE_PTR_) NULL }

/* The rules of the access checker (layer 2). */
#define CCMM_CHECK_RULES(X)                                                                                  \
	X(cache_alias, "003", "two live mappings of one page disagree on cache mode")                       \
	X(enc_mismatch, "000", "an access whose encrypted/shared attribute disagrees with the page's state") \
	X(host_access_private, "004", "the host or VMM read guest-private memory")                          \
	X(host_write_private, "004", "the host or VMM wrote guest-private memory")                          \
	X(rmp_page_size, "004",                                                                              \
	  "a host write through a mapping larger than the RMP entries it covers hit a guest-private page (SEV-SNP)") \
	X(poison_consumed, "004", "a read consumed a line poisoned by an integrity failure (TDX)")           \
	X(private_access_shared, "004", "a private access to a page the guest converted to shared")         \
	X(unaccepted_access, "004", "an access to a page not yet accepted (TDX) or validated (SEV-SNP)")    \
	X(dma_private, "002", "a device touched private or encrypted memory it cannot use")                \
	X(dma_mask_exceeded, "002", "a device was given a DMA address beyond its DMA mask")                 \
	X(dma_hole, "", "a device accessed an address where there is no memory or device")                 \
	X(iommu_fault, "002", "a device access the IOMMU has no translation (or permission) for")          \
	X(p2p_unreachable, "001", "a device accessed a BAR outside its peer-to-peer reach")                \
	X(access_hole, "", "a CPU accessed an address where there is no memory or device")                 \
	X(mmio_ve, "004",                                                                                    \
	  "a driver touched MMIO directly in a guest whose MMIO is paravirtualised: a #VE from kernel MMIO is a bug") \
	X(mmio_private, "004",                                                                               \
	  "MMIO mapped with the private/encrypted attribute in a confidential guest (ioremap must map it shared)") \
	X(stale_tlb, "004", "an access used a translation the page tables no longer hold (missing TLB flush)") \
	X(stale_cache_lines, "004",                                                                          \
	  "an access to a page whose encryption changed without the cache flush this platform needs")       \
	X(private_mapped_by_host, "004", "a page was made private while the host still maps it")            \
	X(conversion_unaligned, "004", "an encryption-state change on an address that is not page aligned") \
	X(conversion_failed, "004", "an encryption-state change failed half-way and the pages were not leaked") \
	X(epc_access, "004", "a non-enclave access to the enclave page cache (abort-page semantics)")

CCMM_RULES_DECLARE(CCMM_CHECK_RULES)

/* ------------------------------------------------------------------ */
/* Accesses                                                            */
/* ------------------------------------------------------------------ */

enum ccmm_initiator {
	CCMM_INIT_KERNEL, /* the (guest) kernel: the machine's own OS */
	CCMM_INIT_USER,   /* a (guest) user process */
	CCMM_INIT_HOST,   /* the host kernel or VMM, outside a guest */
	CCMM_INIT_DEVICE, /* DMA by a device */
	CCMM_INIT_NR
};

/* "kernel", "user", "host", "device"; "?" out of range. */
const char *ccmm_initiator_name(enum ccmm_initiator who);

enum ccmm_rw {
	CCMM_READ,
	CCMM_WRITE,
};

/* Outcomes, mildest first; an access reports the worst it met. */
enum ccmm_outcome {
	CCMM_OK,        /* the data as last written by this key */
	CCMM_SCRAMBLED, /* bytes came back, but were written under another key */
	CCMM_ZEROS,     /* TDX: a host read of TD-private memory returns zeros */
	CCMM_ABORT,     /* nothing answers: reads all-ones, writes dropped */
	CCMM_BLOCKED,   /* the IOMMU, RMP or ultravisor stopped a device/host access */
	CCMM_NPF,       /* nested page fault / EPT violation exits to the VMM */
	CCMM_VC,        /* #VC (SEV-ES/SNP) */
	CCMM_VE,        /* #VE (TDX) */
	CCMM_PF,        /* #PF: not present, protection, or RMP */
	CCMM_MCE,       /* machine check: poison consumed */
	CCMM_OUTCOME_NR
};

/* The outcome's name as reports print it: "ok", "scrambled", "zeros", "abort", "blocked", "npf", "#VC", "#VE", "#PF", "#MC". */
const char *ccmm_outcome_name(enum ccmm_outcome o);

/* True for outcomes that stop the access at that page (an exception). Inline: every access asks. */
static inline bool ccmm_outcome_faults(enum ccmm_outcome o)
{
	return o == CCMM_NPF || o == CCMM_VC || o == CCMM_VE || o == CCMM_PF || o == CCMM_MCE;
}

struct ccmm_access {
	enum ccmm_initiator who;
	enum ccmm_rw rw;
	uint64_t addr;            /* virtual address (CPU) or bus address (device) */
	size_t len;               /* bytes; may span pages */
	struct ccmm_pgtable *pgt; /* CPU: the table walked; device: its IOMMU table, or NULL for none */
	int device;               /* device index in the platform (device accesses) */
	void *buf;                /* source (write) or destination (read); NULL checks state only */
};

struct ccmm_result {
	enum ccmm_outcome outcome; /* worst over the pages touched */
	bool handled;              /* the exception was an emulated MMIO access that completed */
	uint64_t pa;               /* physical address where the worst outcome happened */
	uint64_t pte;              /* the PTE used there (CPU) */
	unsigned level;
	size_t done;               /* bytes that completed before a fault */
	unsigned violations;       /* violations this access recorded */
	const char *why;           /* static text: why that outcome */
};

/*
 * ccmm_access - perform one modeled access, as the hardware would.
 * Moves real bytes (through the encryption engine) for the pages the
 * hardware lets through, charges costs and counts, and records a
 * violation event for every rule broken. A faulting page stops the access
 * (r->done tells how far it got).
 * Returns 0 with the outcome in @r (an exception is an outcome, not an
 * error); -EINVAL for a malformed access (no length, no page table for a
 * CPU access, bad device index).
 * Locking: takes the page-table lock, then each page's chunk lock.
 */
int ccmm_access(struct ccmm_ctx *ctx, const struct ccmm_access *a, struct ccmm_result *r);

/*
 * ccmm_check_fast_path - whether ccmm_access takes its fast path for the
 * common one-page CPU access (RAM through a current, permitted
 * translation, decided with nothing to record: the same view, decision,
 * bytes, counts and result as the general path, with the rule book's
 * verdicts kept per thread), and ccmm_copy its fast paths (a one-piece
 * copy from the TLB and the memo; its plain pieces with the TLB, the memo
 * and ccmm_page_copy, the whole pages that continue a leaf and a chunk
 * under the same verdicts with what the piece before found, where
 * without it each piece is walked, decided by the rule book and moved
 * through a buffer). True by default; tests set
 * it false, before any thread accesses, to compare the two paths.
 */
extern bool ccmm_check_fast_path;

/* Convenience wrappers: a CPU access by @who through @pgt, a DMA by @dev. */
int ccmm_cpu_read(struct ccmm_ctx *ctx, enum ccmm_initiator who, struct ccmm_pgtable *pgt, uint64_t va, void *buf,
		  size_t len, struct ccmm_result *r);
int ccmm_cpu_write(struct ccmm_ctx *ctx, enum ccmm_initiator who, struct ccmm_pgtable *pgt, uint64_t va,
		   const void *buf, size_t len, struct ccmm_result *r);
int ccmm_dma_access(struct ccmm_ctx *ctx, int dev, struct ccmm_pgtable *iommu, enum ccmm_rw rw, uint64_t bus,
		    void *buf, size_t len, struct ccmm_result *r);

/*
 * ccmm_copy - a CPU copy (memcpy) of @src->len bytes from @src (a read) to
 * @dst (a write of the same length; both CPU accesses, their buf
 * ignored), as the kernel's swiotlb_bounce does it. Page piece by page
 * piece while both sides are plain (RAM through a current, permitted
 * translation, and the rule book lets the bytes through with nothing to
 * record or charge), the bytes go straight from page to page
 * (ccmm_page_copy: no buffer, and in the on-demand engine mode no cipher
 * for lines written under the reader's key). From the first piece that is
 * not plain on, the rest is ccmm_access(@src) into a buffer followed, when
 * that read completed without a fault, an abort or a block,
 * by ccmm_access(@dst) from it: every check, event, cost and count as
 * there. In all, a copy counts as two accesses (one when the read stops it
 * before any byte was written) and charges each side's bytes once, as two
 * calls of ccmm_access would; a read that stops it leaves the plain pieces
 * before it copied, as a memcpy that faults part way does.
 * Results: @rr for the read, @wr for the write, as ccmm_access fills them
 * (@wr all zero when nothing was written).
 * Returns 0, -EINVAL (a device side, a side that is not a read / write,
 * lengths that differ, as ccmm_access), -ENOMEM, -EIO.
 * Locking: the page-table locks of both sides (in address order), then
 * both chunk locks (in address order), one piece at a time.
 */
int ccmm_copy(struct ccmm_ctx *ctx, const struct ccmm_access *dst, const struct ccmm_access *src, struct ccmm_result *rr,
	      struct ccmm_result *wr);

/*
 * ccmm_result_merge - fold the result of one piece of a larger access into
 * @acc, pieces in address order: @acc takes the worst outcome (with its
 * address, PTE and reason), and sums the violations and the bytes done.
 * @first: @part is the first piece (@acc's contents are ignored).
 */
void ccmm_result_merge(struct ccmm_result *acc, const struct ccmm_result *part, bool first);

/* ------------------------------------------------------------------ */
/* The rule book                                                       */
/* ------------------------------------------------------------------ */

/* What the checker knows about one page-sized piece of an access. */
struct ccmm_view {
	enum ccmm_initiator who;
	enum ccmm_rw rw;
	bool private_attr;         /* CPU: the PTE's private/encrypted attribute;
				      device: the bus address carries the C-bit (SME) */
	bool stale_tlb;            /* served by a stale translation */
	unsigned level;            /* CPU leaf level (host 2 MiB mappings matter for SNP) */
	bool hole;                 /* no range at that address */
	enum ccmm_range_kind kind; /* when !hole */
	enum ccmm_page_state state;
	uint8_t flags;             /* CCMM_PG_* */
	bool poisoned;             /* a line the access touches is poisoned */
	bool private_in_2m;        /* SNP: the host leaf's 2 MiB region holds a private page */
	bool p2p_ok;               /* device -> BAR: within the device's P2P reach */
	bool trusted;              /* device: a TEE device interface in RUN, bound to this guest (TDISP) */
};

struct ccmm_decision {
	enum ccmm_outcome outcome;
	bool handled;                 /* emulated MMIO: completes after the exception */
	bool move;                    /* move bytes (reads fill the buffer) */
	unsigned keyid;               /* key to move them under */
	bool poison;                  /* a write that poisons the lines it touches (TDX) */
	const struct ccmm_rule *rule; /* violated rule, NULL when none */
	const char *why;              /* static explanation */
};

/*
 * ccmm_decide - the outcome of one access to one page under @mode, from the
 * views alone: no state is read or changed. The table printed by
 * "ccmm states" is this function, evaluated. Extra platform facts it
 * needs: @mmio (TDX MMIO mode).
 */
void ccmm_decide(enum ccmm_cc_mode mode, enum ccmm_mmio_mode mmio, const struct ccmm_view *v,
		 struct ccmm_decision *d);

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

struct ccmm_event {
	uint64_t seq;
	uint64_t time_ns;           /* modeled time of the acting context */
	int actor;
	char actor_name[48];
	char op[48];                /* the operation under way */
	struct ccmm_where where;    /* its job-file line, if any */
	const struct ccmm_rule *rule;
	enum ccmm_outcome outcome;
	/* the access, when there was one */
	bool has_access;
	enum ccmm_initiator who;
	enum ccmm_rw rw;
	uint64_t addr;
	uint64_t len;
	char pgt[CCMM_NAME_MAX];
	int device;
	/* the accessor's view */
	uint64_t pte;
	unsigned level;
	bool stale;
	/* the page's view */
	uint64_t pa;
	bool has_page;
	enum ccmm_range_kind kind;
	struct ccmm_page page;      /* metadata copy (data pointer cleared) */
	uint32_t hist;              /* newest conversion record at the time (see ccmm_cc_history) */
	char msg[256];
};

struct ccmm_checker {
	pthread_mutex_t lock;
	struct ccmm_event *ev;
	size_t nr, cap;
	uint64_t seq;
	size_t max_events;          /* older events beyond this are counted, not kept */
	uint64_t dropped;
	_Atomic uint64_t trusted_devs; /* bit n: device n is trusted (see ccmm_check_set_device_trusted) */
};

/* The access checker's registration: its init attaches a checker and installs the map hook. */
extern struct ccmm_subsys ccmm_subsys_check;

/* The machine's checker (its event log). */
struct ccmm_checker *ccmm_checker(struct ccmm_machine *m);

/*
 * ccmm_violation - record that @rule was broken by the acting context, at
 * physical address @pa (or ~0 when no page is involved), with a printf
 * message. Counts CCMM_CTR_violations. Returns the event's sequence number.
 * Locking: takes the event-log mutex (and the page's chunk lock when
 * @pa is a page); callable from any layer.
 */
uint64_t ccmm_violation(struct ccmm_ctx *ctx, const struct ccmm_rule *rule, uint64_t pa, const char *fmt, ...)
	CCMM_PRINTF(4, 5);

/*
 * ccmm_check_cache_conflict - would mapping [@pa, @pa+@size) with cache
 * mode @mode alias the direct map or another live mapping with a different
 * mode? If so, record cache_alias (naming @what) and return 1; else 0.
 * For attribute changes made outside tracked page tables (set_memory_wc on
 * the direct map, TTM's page pools). Takes chunk locks.
 */
int ccmm_check_cache_conflict(struct ccmm_ctx *ctx, uint64_t pa, uint64_t size, enum ccmm_cache_mode mode,
			      const char *what);

/*
 * ccmm_check_set_device_trusted - device @dev (index < 64) is (or stops
 * being) a TEE device interface in RUN bound to this machine's guest
 * (TDISP): its DMA may reach private memory and private MMIO, with the
 * guest's key. Set by the layer that models TDISP (dma-buf/). -EINVAL for
 * a bad index.
 */
int ccmm_check_set_device_trusted(struct ccmm_machine *m, int dev, bool trusted);
bool ccmm_check_device_trusted(struct ccmm_machine *m, int dev);

/* Number of events recorded, and a copy of the @i-th. */
size_t ccmm_events_count(struct ccmm_machine *m);
int ccmm_event_get(struct ccmm_machine *m, size_t i, struct ccmm_event *out);

/* ccmm_violations_count's actor for "any actor"; -1 counts violations of no actor. */
#define CCMM_ANY_ACTOR (-0x7fffffff - 1)

/* Count of violations of @rule (NULL: any) by @actor (CCMM_ANY_ACTOR: any). */
size_t ccmm_violations_count(struct ccmm_machine *m, const struct ccmm_rule *rule, int actor);

/* ------------------------------------------------------------------ */
/* The memory-state table (seed 004)                                   */
/* ------------------------------------------------------------------ */

/*
 * ccmm_states_table - write, for @mode, the table Dave Hansen asks for in
 * seed 004: each class of memory, how it is selected, who selects it, who
 * enforces the selection, and for each kind of access (guest kernel,
 * guest user, host/VMM, device; read and write) the outcome, obtained by
 * evaluating ccmm_decide(). @json selects JSON instead of text.
 * Returns 0 or -EIO.
 */
int ccmm_states_table(enum ccmm_cc_mode mode, enum ccmm_mmio_mode mmio, bool json, FILE *out);

#pragma GCC visibility pop

#endif /* CCMM_CHECK_H */
