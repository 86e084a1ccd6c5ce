/* SPDX-License-Identifier: MIT */
/*
 * trace.h - page-reference traces of real programs, and the kernel's own
 * DMA-API/SWIOTLB traces in ftrace text (layer 4 input; the second part
 * is below, "ftrace text").
 *
 *   file (plain, gzip or zstd: detected by magic bytes)
 *     |  zlib gzread / ZSTD_decompressStream
 *     v
 *   lines, numbered
 *     |  valgrind lackey (--trace-mem=yes):  "I  0400ab12,3"  " L 7ff000398,8"
 *     |                                      " S ..."  " M ..." ("==pid==" lines skipped)
 *     |  address trace:                      "l 0x7ff000398 8"  "s 0x7ff0003a0 4"
 *     v
 *   page references {vpn, write}: a load reads its pages, a store or modify
 *   dirties them, instruction fetches are dropped unless asked for, an access
 *   that crosses a page boundary references both pages, consecutive
 *   references to one page collapse into one (dirty if any was a write)
 *
 * Errors name the file and line: a malformed line, a line cut short by the
 * end of the file, a compressed stream that ends early or is corrupt.
 *
 * Locking: a reader belongs to one thread.
 */
#ifndef CCMM_TRACE_H
#define CCMM_TRACE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/util.h"

/* Everything declared here is libccmm's public interface (the rest is built hidden). */
#pragma GCC visibility push(default)

enum ccmm_trace_format {
	CCMM_TRACE_AUTO,   /* decide from the first data line */
	CCMM_TRACE_LACKEY, /* valgrind --tool=lackey --trace-mem=yes */
	CCMM_TRACE_ADDR,   /* "l|s 0xADDR n" */
};

struct ccmm_trace_opts {
	enum ccmm_trace_format format;
	bool instructions;    /* keep instruction fetches (as reads) */
	bool no_collapse;     /* keep consecutive references to one page */
};

struct ccmm_page_ref {
	uint64_t vpn;         /* virtual page number (address >> 12) */
	bool write;           /* a store or modify: the page is dirty */
	uint32_t line;        /* the trace line it came from (the first of a collapsed run) */
};

struct ccmm_trace_stats {
	uint64_t lines;       /* data lines read */
	uint64_t refs;        /* page references produced */
	uint64_t writes;      /* of which dirtying */
	uint64_t instr_dropped;
};

struct ccmm_trace;

/*
 * ccmm_trace_open - open @path (plain, .gz or .zst content, whatever the
 * name). @opts may be NULL (auto format, no instructions, collapse).
 * Returns 0, or -errno with @err set ("FILE: cannot open ...", "FILE: not a
 * trace ...").
 */
int ccmm_trace_open(const char *path, const struct ccmm_trace_opts *opts, struct ccmm_trace **out,
		    struct ccmm_error *err);

/*
 * ccmm_trace_next - the next page reference. Returns 1 with *@ref filled,
 * 0 at the end of the trace, or -errno with @err at the offending line
 * (-EINVAL malformed, -EIO truncated or corrupt).
 */
int ccmm_trace_next(struct ccmm_trace *t, struct ccmm_page_ref *ref, struct ccmm_error *err);

/*
 * ccmm_trace_read - up to @n next page references into @refs[], the ones
 * ccmm_trace_next would return one by one, in order. Returns how many (0
 * at the end of the trace, fewer than @n only at the end or before an
 * error), or -errno with @err at the offending line as ccmm_trace_next: an
 * error met after some references of a call is returned by the next call.
 */
long ccmm_trace_read(struct ccmm_trace *t, struct ccmm_page_ref *refs, size_t n, struct ccmm_error *err);

/* Back to the first reference (the file is reopened). 0 or -errno. */
int ccmm_trace_rewind(struct ccmm_trace *t, struct ccmm_error *err);

/* Counts so far. */
void ccmm_trace_stats(const struct ccmm_trace *t, struct ccmm_trace_stats *s);

/* The detected format. */
enum ccmm_trace_format ccmm_trace_format(const struct ccmm_trace *t);

/* Close the trace and its decompressor (NULL is a no-op). */
void ccmm_trace_close(struct ccmm_trace *t);

/*
 * ccmm_trace_reduce - read @in and write its page references to @out as an
 * address trace ("l 0xADDR 4096" per reference), zstd-compressed when
 * @zstd. Used by scripts/record-trace.sh to keep shipped traces small.
 * Returns the number of references written, or -errno with @err set.
 */
long ccmm_trace_reduce(const char *in, const struct ccmm_trace_opts *opts, const char *out, bool zstd,
		       struct ccmm_error *err);

/* ------------------------------------------------------------------ */
/* Kept references: a decoded trace held in memory for replay          */
/* ------------------------------------------------------------------ */

/*
 * A sequence of references decoded once (by a load-time check) and read
 * back by every run, as small as it can be kept: host memory the kernel
 * hands out zeroed costs more per byte than the decoding of a byte (the
 * replay's memory footprint is its largest cost beside the decoder).
 * Values are the caller's (the SGX replay keeps enclave page << 1 | write),
 * below 2^31.
 *
 * While every value fits 16 bits, the references are kept a byte each: in
 * blocks of CCMM_KEEP_BLOCK references, a byte is a code (1..255) into the
 * block's table of values (a real program's trace touches a few dozen
 * pages in 64k references; a block that meets a 256th value keeps its
 * references 2 bytes each instead). From the first value past 16 bits on,
 * every reference is kept 4 bytes wide (the whole sequence rewritten once).
 * Codes and 4-byte values live in 2 MiB chunks (huge pages where the
 * kernel gives them).
 *
 * Locking: one writer, then any number of readers (the store is not
 * changed while it is read).
 */

#define CCMM_KEEP_BLOCK_SHIFT 16
#define CCMM_KEEP_BLOCK (1u << CCMM_KEEP_BLOCK_SHIFT) /* references per coded block */

struct ccmm_keep_block {
	uint16_t *raw;          /* NULL: coded (a byte each in the chunks); else the block's values, 2 bytes each */
	unsigned nr_dict;       /* codes used: 1..nr_dict */
	uint16_t dict[256];     /* code -> value (dict[0] unused) */
};

struct ccmm_trace_keep {
	unsigned width;         /* 1: coded 16-bit values (blocks[]); 4: 32-bit values in the chunks */
	uint64_t n;             /* references kept */
	void **chunks;          /* 2 MiB each: codes (width 1) or values (width 4) */
	size_t nr_chunks, cap_chunks;
	struct ccmm_keep_block *blocks; /* width 1: one per CCMM_KEEP_BLOCK references */
	size_t nr_blocks, cap_blocks;
	uint8_t *code_of;       /* width 1: value -> its code in the current block, 0: none (2^16 entries) */
	/* where the next reference goes: room left in the current block, and its next byte or value */
	size_t room;
	uint8_t *at;            /* coded block */
	uint16_t *raw_at;       /* 2-byte block */
	uint64_t code_gen;      /* moves whenever codes start meaning other values (ccmm_keep_code_room) */
};

/* An empty store (width 1). Nothing is allocated until the first reference. */
void ccmm_keep_init(struct ccmm_trace_keep *k);

/* Free everything; the store is empty again (ccmm_keep_init). */
void ccmm_keep_free(struct ccmm_trace_keep *k);

/*
 * ccmm_keep_put - keep @v (< 2^31) as the next reference. Returns 0, or
 * -ENOMEM (the store holds the references before it, unchanged) or
 * -EINVAL (@v too large).
 */
int ccmm_keep_put(struct ccmm_trace_keep *k, uint32_t v);

/*
 * ccmm_keep_put16 - ccmm_keep_put of @v[0..@n) in order, for 16-bit values
 * (a block of a trace at a time: values the current block has codes for
 * are kept in one loop without a call). Returns 0, or -ENOMEM with the
 * values before the one that failed kept.
 */
int ccmm_keep_put16(struct ccmm_trace_keep *k, const uint16_t *v, size_t n);

/*
 * ccmm_keep_code_room - how many references may be kept now as codes of the
 * current block with ccmm_keep_put_codes: the room left in a coded block;
 * 0 when the next reference starts a block (ccmm_keep_put starts it), the
 * block keeps 2-byte values, or the store is 4 bytes wide. *@gen: the
 * store's code generation, which moves whenever codes start meaning other
 * values (a new block, a block going 2 bytes wide, the store widened): a
 * code a caller remembers from ccmm_keep_code holds while the generation
 * has not moved (not across ccmm_keep_free, which starts it again).
 */
static inline size_t ccmm_keep_code_room(const struct ccmm_trace_keep *k, uint64_t *gen)
{
	*gen = k->code_gen;
	return k->width == 1 && !k->raw_at ? k->room : 0;
}

/* ccmm_keep_code - the current block's code of value @v, 0 when it has none (yet) or the store keeps no codes. */
static inline uint8_t ccmm_keep_code(const struct ccmm_trace_keep *k, uint32_t v)
{
	return k->width == 1 && k->code_of && v <= UINT16_MAX ? k->code_of[v] : 0;
}

/*
 * ccmm_keep_put_codes - keep @n references given as codes of the current
 * block (each from ccmm_keep_code under the current generation, non-zero;
 * @n at most ccmm_keep_code_room): what ccmm_keep_put of their values
 * would keep, without a look-up. No allocation, no error.
 */
static inline void ccmm_keep_put_codes(struct ccmm_trace_keep *k, const uint8_t *codes, size_t n)
{
	if (!n)
		return;
	memcpy(k->at, codes, n);
	k->at += n;
	k->room -= n;
	k->n += n;
}

/* A run of kept references, read in place. */
struct ccmm_keep_piece {
	unsigned width;         /* 1: bytes, each a code into dict[]; 2: 16-bit values; 4: 32-bit values */
	const void *refs;
	const uint16_t *dict;   /* width 1 */
	size_t n;               /* references in the piece */
};

/*
 * ccmm_keep_get - up to @max references from number @from on, all of one
 * block (width 1) or one chunk (width 4), in *@p. Returns how many (0 when
 * @from is at or past the end).
 */
size_t ccmm_keep_get(const struct ccmm_trace_keep *k, uint64_t from, uint64_t max, struct ccmm_keep_piece *p);

/* Reference number @i (< k->n), the slow way (tests, checks). */
uint32_t ccmm_keep_at(const struct ccmm_trace_keep *k, uint64_t i);

/* Host bytes the store holds (chunks, blocks, tables), for figures. */
uint64_t ccmm_keep_bytes(const struct ccmm_trace_keep *k);

/* ------------------------------------------------------------------ */
/* ftrace text: the DMA-API and SWIOTLB events of Linux 6.12+          */
/* ------------------------------------------------------------------ */

/*
 * The reader of the kernel's own trace text (src/trace/ftrace.c): the
 * tracefs "trace" file (/sys/kernel/tracing/trace, header lines start with
 * '#') and the output of "trace-cmd report" (a "cpus=N" header, no irq-flags
 * column unless -l), plain, gzip or zstd. scripts/record-kernel.sh writes
 * the first; a user can record their own machine with either.
 *
 *   "  insmod-155  [000] d..1.  7.239313: dma_map_page: 0000:00:02.0 dir=TO_DEVICE ..."
 *      TASK-PID    [CPU] FLAGS  SECONDS:  EVENT:        FIELDS
 *
 * Each dma:* event of include/trace/events/dma.h and swiotlb:swiotlb_bounced
 * of include/trace/events/swiotlb.h (6.12) becomes one struct
 * ccmm_ftrace_event with the fields as the event prints them. Any other
 * event (another subsystem's, or a dma event a later kernel adds) is
 * skipped and counted, so a trace with extra events reads. "CPU:N [LOST
 * M EVENTS]" lines are counted (a replay cannot trust such a trace).
 *
 * Errors name the file, the line and the field: "trace:12: dma_map_page:
 * size='12x' is not a decimal number", "trace:40: dma_unmap_page: no
 * dma_addr= field", "trace:3: not an ftrace event line (no [CPU] field)",
 * a line cut short by the end of the file, a corrupt compressed stream.
 *
 * Locking: a reader belongs to one thread.
 */

/* Events read, in the kernel's names (ccmm_ftrace_kind_name). */
enum ccmm_ftrace_kind {
	CCMM_FT_DMA_MAP_PAGE,              /* dma_map_page_attrs() */
	CCMM_FT_DMA_MAP_RESOURCE,          /* dma_map_resource() */
	CCMM_FT_DMA_UNMAP_PAGE,            /* dma_unmap_page_attrs(): no physical address */
	CCMM_FT_DMA_UNMAP_RESOURCE,
	CCMM_FT_DMA_ALLOC,                 /* dma_alloc_attrs() */
	CCMM_FT_DMA_ALLOC_PAGES,           /* dma_alloc_pages() */
	CCMM_FT_DMA_ALLOC_SGT_ERR,         /* dma_alloc_noncontiguous() failed */
	CCMM_FT_DMA_ALLOC_SGT,             /* dma_alloc_noncontiguous() */
	CCMM_FT_DMA_FREE,                  /* dma_free_attrs() */
	CCMM_FT_DMA_FREE_PAGES,            /* dma_free_pages() */
	CCMM_FT_DMA_FREE_SGT,              /* dma_free_noncontiguous() */
	CCMM_FT_DMA_MAP_SG,                /* dma_map_sg_attrs() / dma_map_sgtable() */
	CCMM_FT_DMA_MAP_SG_ERR,            /* a scatterlist mapping that failed */
	CCMM_FT_DMA_UNMAP_SG,              /* dma_unmap_sg_attrs() */
	CCMM_FT_DMA_SYNC_SINGLE_FOR_CPU,
	CCMM_FT_DMA_SYNC_SINGLE_FOR_DEVICE,
	CCMM_FT_DMA_SYNC_SG_FOR_CPU,
	CCMM_FT_DMA_SYNC_SG_FOR_DEVICE,
	CCMM_FT_SWIOTLB_BOUNCED,           /* swiotlb_map(), before the slot search */
	CCMM_FT_NR
};

/* "dma_map_page", ..., "swiotlb_bounced"; NULL for an out-of-range kind. */
const char *ccmm_ftrace_kind_name(enum ccmm_ftrace_kind kind);

/* enum dma_data_direction, the kernel's values (decode_dma_data_direction). */
enum ccmm_ftrace_dir {
	CCMM_FT_BIDIRECTIONAL = 0,
	CCMM_FT_TO_DEVICE = 1,
	CCMM_FT_FROM_DEVICE = 2,
	CCMM_FT_NONE = 3,
};

/* DMA_ATTR_* bits as the kernel defines them (decode_dma_attrs). */
#define CCMM_FT_ATTR_WEAK_ORDERING      (1UL << 1)
#define CCMM_FT_ATTR_WRITE_COMBINE      (1UL << 2)
#define CCMM_FT_ATTR_NO_KERNEL_MAPPING  (1UL << 4)
#define CCMM_FT_ATTR_SKIP_CPU_SYNC      (1UL << 5)
#define CCMM_FT_ATTR_FORCE_CONTIGUOUS   (1UL << 6)
#define CCMM_FT_ATTR_ALLOC_SINGLE_PAGES (1UL << 7)
#define CCMM_FT_ATTR_NO_WARN            (1UL << 8)
#define CCMM_FT_ATTR_PRIVILEGED         (1UL << 9)

/* Which of the scalar fields the event printed (ccmm_ftrace_event.has). */
#define CCMM_FT_HAS_DMA_ADDR  (1u << 0)
#define CCMM_FT_HAS_PHYS_ADDR (1u << 1)
#define CCMM_FT_HAS_SIZE      (1u << 2)
#define CCMM_FT_HAS_DIR       (1u << 3)
#define CCMM_FT_HAS_ATTRS     (1u << 4)
#define CCMM_FT_HAS_NENTS     (1u << 5)
#define CCMM_FT_HAS_DMA_MASK  (1u << 6)

/*
 * One event. Fields an event does not print are 0 (see @has). The arrays
 * belong to the reader and stay valid until the next ccmm_ftrace_next().
 */
struct ccmm_ftrace_event {
	enum ccmm_ftrace_kind kind;
	uint32_t line;          /* the trace line it came from (1-based) */
	int cpu;                /* [CPU] */
	int pid;                /* TASK-PID's PID (-1 when the line prints none) */
	char task[32];          /* TASK (the comm; "<...>" when the kernel had none) */
	uint64_t ts_ns;         /* timestamp, nanoseconds (the trace prints seconds) */
	unsigned has;           /* CCMM_FT_HAS_* */
	char dev[64];           /* dev_name(): "0000:00:02.0" for a PCI device */
	enum ccmm_ftrace_dir dir;
	uint64_t dma_addr;      /* dma_addr= (map, unmap, alloc, free, sync; sgt: the first entry's) */
	/*
	 * phys_addr=: the mapped physical address (dma_map_page,
	 * dma_map_resource). For swiotlb_bounced, its dev_addr=: the original
	 * buffer's phys_to_dma(), which is its physical address where DMA and
	 * physical addresses are equal (no memory-encryption bit, no offset).
	 */
	uint64_t phys_addr;
	uint64_t size;          /* bytes (size=) */
	unsigned long attrs;    /* CCMM_FT_ATTR_* (attrs=) */
	char flags[96];         /* gfp flags as printed (dma_alloc*: "GFP_KERNEL|__GFP_ZERO") */
	uint64_t dma_mask;      /* swiotlb_bounced: the device's streaming DMA mask */
	bool force;             /* swiotlb_bounced: FORCE (is_swiotlb_force_bounce) or NORMAL */
	int err;                /* dma_map_sg_err: err= (a negative errno) */
	/* scatterlists (dma_map_sg, dma_unmap_sg, dma_sync_sg_*, dma_*_sgt, dma_map_sg_err) */
	int nents, full_nents;  /* dma_map_sg: "nents=TRACED/FULL" (input entries) */
	int ents, full_ents;    /* dma_map_sg: "ents=TRACED/FULL" (mapped segments) */
	bool truncated;         /* " [TRUNCATED]": more than 128 entries, only 128 printed */
	size_t n_phys;          /* phys_addrs={...} (dma_map_sg_err prints them as dma_addrs=) */
	const uint64_t *phys_addrs;
	size_t n_dma;           /* dma_addrs={...} */
	const uint64_t *dma_addrs;
	size_t n_sizes;         /* sizes={...} (the mapped segments' lengths) */
	const uint64_t *sizes;
};

struct ccmm_ftrace_stats {
	uint64_t lines;         /* lines read, headers included */
	uint64_t events;        /* events returned */
	uint64_t by_kind[CCMM_FT_NR];
	uint64_t skipped;       /* events of other kinds, skipped */
	char first_skipped[48]; /* the name of the first skipped event ("" when none) */
	uint64_t lost;          /* events the kernel reported lost ("CPU:N [LOST M EVENTS]"; 1 when M is not given) */
	int max_cpu;            /* highest CPU seen (-1 before the first event) */
	bool trace_cmd;         /* the text is trace-cmd report output ("cpus=" header, no flags column) */
};

struct ccmm_ftrace;

/*
 * ccmm_ftrace_open - open @path (plain, gzip or zstd, by content). Returns
 * 0, or -errno with @err set ("FILE: cannot open ...").
 */
int ccmm_ftrace_open(const char *path, struct ccmm_ftrace **out, struct ccmm_error *err);

/*
 * ccmm_ftrace_next - the next DMA-API or SWIOTLB event, streamed (one line
 * in memory at a time). Returns 1 with *@ev filled, 0 at the end of the
 * trace, or a negative errno with @err at the offending line and field
 * (-EINVAL malformed, -EIO truncated or corrupt). After an error the
 * reader may be closed, not read on.
 */
int ccmm_ftrace_next(struct ccmm_ftrace *ft, struct ccmm_ftrace_event *ev, struct ccmm_error *err);

/* Counts so far. */
void ccmm_ftrace_stats(const struct ccmm_ftrace *ft, struct ccmm_ftrace_stats *s);

/* Close (NULL is a no-op). */
void ccmm_ftrace_close(struct ccmm_ftrace *ft);

/*
 * ccmm_ftrace_probe - whether @path looks like ftrace text: its first
 * non-empty line is a tracefs "# tracer:" header, a trace-cmd "cpus="
 * header or an event line. Reads at most the first 64 lines. Returns 1, 0,
 * or -errno with @err (the file cannot be read).
 */
int ccmm_ftrace_probe(const char *path, struct ccmm_error *err);

#pragma GCC visibility pop

#endif /* CCMM_TRACE_H */
