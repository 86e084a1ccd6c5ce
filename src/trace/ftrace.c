// SPDX-License-Identifier: MIT
/*
 * ftrace text of the DMA-API and SWIOTLB tracepoints (Linux 6.12+): the
 * tracefs "trace" file and "trace-cmd report" output, streamed through
 * trace.c's line reader (plain, gzip, zstd). Formats: the TP_printk()s of
 * include/trace/events/dma.h and swiotlb.h; arrays as trace_print_array_seq()
 * prints them ("{0x1,0x2}"); flags as __print_flags() ("A|B", leftover bits
 * in hex); directions as __print_symbolic() (a name, or the number).
 */
#include "trace/internal.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define FT_MAX_LINE 60000 /* dma_map_sg prints three arrays of up to 128 entries */
#define FT_MAX_FIELDS 16
#define FT_MAX_ARRAY 4096 /* more than DMA_TRACE_MAX_ENTRIES (128), for later kernels */

/* What each event prints, after its device name. */
enum fmt {
	F_MAP,        /* dir dma_addr size phys_addr attrs */
	F_UNMAP,      /* dir dma_addr size attrs */
	F_ALLOC,      /* dir dma_addr size virt_addr flags attrs */
	F_ALLOC_SGT,  /* dir dma_addr size phys_addrs flags attrs */
	F_FREE,       /* dir dma_addr size virt_addr attrs */
	F_FREE_SGT,   /* dir dma_addr size phys_addrs */
	F_MAP_SG,     /* dir nents ents [TRUNCATED] dma_addrs sizes phys_addrs attrs */
	F_MAP_SG_ERR, /* dir dma_addrs(phys) err attrs */
	F_UNMAP_SG,   /* dir phys_addrs attrs */
	F_SYNC,       /* dir dma_addr size */
	F_SYNC_SG,    /* dir dma_addrs sizes */
	F_BOUNCED,    /* "dev_name:" NAME dma_mask dev_addr size FORCE|NORMAL */
};

static const struct {
	const char *name;
	enum fmt fmt;
} kinds[CCMM_FT_NR] = {
	[CCMM_FT_DMA_MAP_PAGE] = { "dma_map_page", F_MAP },
	[CCMM_FT_DMA_MAP_RESOURCE] = { "dma_map_resource", F_MAP },
	[CCMM_FT_DMA_UNMAP_PAGE] = { "dma_unmap_page", F_UNMAP },
	[CCMM_FT_DMA_UNMAP_RESOURCE] = { "dma_unmap_resource", F_UNMAP },
	[CCMM_FT_DMA_ALLOC] = { "dma_alloc", F_ALLOC },
	[CCMM_FT_DMA_ALLOC_PAGES] = { "dma_alloc_pages", F_ALLOC },
	[CCMM_FT_DMA_ALLOC_SGT_ERR] = { "dma_alloc_sgt_err", F_ALLOC },
	[CCMM_FT_DMA_ALLOC_SGT] = { "dma_alloc_sgt", F_ALLOC_SGT },
	[CCMM_FT_DMA_FREE] = { "dma_free", F_FREE },
	[CCMM_FT_DMA_FREE_PAGES] = { "dma_free_pages", F_FREE },
	[CCMM_FT_DMA_FREE_SGT] = { "dma_free_sgt", F_FREE_SGT },
	[CCMM_FT_DMA_MAP_SG] = { "dma_map_sg", F_MAP_SG },
	[CCMM_FT_DMA_MAP_SG_ERR] = { "dma_map_sg_err", F_MAP_SG_ERR },
	[CCMM_FT_DMA_UNMAP_SG] = { "dma_unmap_sg", F_UNMAP_SG },
	[CCMM_FT_DMA_SYNC_SINGLE_FOR_CPU] = { "dma_sync_single_for_cpu", F_SYNC },
	[CCMM_FT_DMA_SYNC_SINGLE_FOR_DEVICE] = { "dma_sync_single_for_device", F_SYNC },
	[CCMM_FT_DMA_SYNC_SG_FOR_CPU] = { "dma_sync_sg_for_cpu", F_SYNC_SG },
	[CCMM_FT_DMA_SYNC_SG_FOR_DEVICE] = { "dma_sync_sg_for_device", F_SYNC_SG },
	[CCMM_FT_SWIOTLB_BOUNCED] = { "swiotlb_bounced", F_BOUNCED },
};

static const char *const dir_names[] = { "BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE", "NONE" };

static const struct {
	const char *name;
	unsigned long bit;
} attr_names[] = {
	{ "WEAK_ORDERING", CCMM_FT_ATTR_WEAK_ORDERING },
	{ "WRITE_COMBINE", CCMM_FT_ATTR_WRITE_COMBINE },
	{ "NO_KERNEL_MAPPING", CCMM_FT_ATTR_NO_KERNEL_MAPPING },
	{ "SKIP_CPU_SYNC", CCMM_FT_ATTR_SKIP_CPU_SYNC },
	{ "FORCE_CONTIGUOUS", CCMM_FT_ATTR_FORCE_CONTIGUOUS },
	{ "ALLOC_SINGLE_PAGES", CCMM_FT_ATTR_ALLOC_SINGLE_PAGES },
	{ "NO_WARN", CCMM_FT_ATTR_NO_WARN },
	{ "PRIVILEGED", CCMM_FT_ATTR_PRIVILEGED },
};

struct array {
	uint64_t *v;
	size_t n, cap;
};

struct ccmm_ftrace {
	struct ccmm_trace *lines;
	struct array phys, dma, sizes;
	struct ccmm_ftrace_stats st;
	bool seen_event;
};

/* A key=value field of the event's text, or a bare word. */
struct field {
	const char *key; /* NULL for a bare word */
	const char *val;
	bool used;
};

struct line_ctx {
	struct ccmm_loc loc;
	const char *event;
};

const char *ccmm_ftrace_kind_name(enum ccmm_ftrace_kind kind)
{
	return (unsigned)kind < CCMM_FT_NR ? kinds[kind].name : NULL;
}

int ccmm_ftrace_open(const char *path, struct ccmm_ftrace **out, struct ccmm_error *err)
{
	struct ccmm_ftrace *ft = calloc(1, sizeof(*ft));
	int ret;

	if (!ft)
		return ccmm_error_set(err, NULL, -ENOMEM, "out of memory");
	ret = _ccmm_trace_open_lines(path, FT_MAX_LINE, &ft->lines, err);
	if (ret) {
		free(ft);
		return ret;
	}
	ft->st.max_cpu = -1;
	*out = ft;
	return 0;
}

void ccmm_ftrace_close(struct ccmm_ftrace *ft)
{
	if (!ft)
		return;
	ccmm_trace_close(ft->lines);
	free(ft->phys.v);
	free(ft->dma.v);
	free(ft->sizes.v);
	free(ft);
}

void ccmm_ftrace_stats(const struct ccmm_ftrace *ft, struct ccmm_ftrace_stats *s)
{
	*s = ft->st;
}

/* ---- numbers ------------------------------------------------------- */

static int hex_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	int n = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	for (; isxdigit((unsigned char)*s); s++, n++) {
		if (n == 16)
			return -ERANGE;
		x = x * 16 + (uint64_t)(isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10);
	}
	if (!n || *s)
		return -EINVAL;
	*v = x;
	return 0;
}

static int dec_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;
	int n = 0;

	for (; isdigit((unsigned char)*s); s++, n++) {
		if (x > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	if (!n || *s)
		return -EINVAL;
	*v = x;
	return 0;
}

static int dec_int(const char *s, int *v)
{
	uint64_t x;
	bool neg = *s == '-';

	if (dec_u64(s + neg, &x) || x > INT32_MAX)
		return -EINVAL;
	*v = neg ? -(int)x : (int)x;
	return 0;
}

/* ---- fields --------------------------------------------------------- */

static struct field *find(struct field *f, int n, const char *key)
{
	for (int i = 0; i < n; i++)
		if (f[i].key && !strcmp(f[i].key, key)) {
			f[i].used = true;
			return &f[i];
		}
	return NULL;
}

static int need(struct line_ctx *c, struct field *f, int n, const char *key, struct field **out,
		struct ccmm_error *err)
{
	*out = find(f, n, key);
	if (!*out)
		return ccmm_error_set(err, &c->loc, -EINVAL, "%s: no %s= field", c->event, key);
	return 0;
}

static int get_hex(struct line_ctx *c, struct field *f, int n, const char *key, uint64_t *v, struct ccmm_error *err)
{
	struct field *x;
	int ret = need(c, f, n, key, &x, err);

	if (ret)
		return ret;
	if (hex_u64(x->val, v))
		return ccmm_error_set(err, &c->loc, -EINVAL, "%s: %s='%.40s' is not a hexadecimal number", c->event, key,
				      x->val);
	return 0;
}

static int get_dec(struct line_ctx *c, struct field *f, int n, const char *key, uint64_t *v, struct ccmm_error *err)
{
	struct field *x;
	int ret = need(c, f, n, key, &x, err);

	if (ret)
		return ret;
	if (dec_u64(x->val, v))
		return ccmm_error_set(err, &c->loc, -EINVAL, "%s: %s='%.40s' is not a decimal number", c->event, key,
				      x->val);
	return 0;
}

static int get_dir(struct line_ctx *c, struct field *f, int n, enum ccmm_ftrace_dir *dir, struct ccmm_error *err)
{
	struct field *x;
	uint64_t v;
	int ret = need(c, f, n, "dir", &x, err);

	if (ret)
		return ret;
	for (unsigned i = 0; i < CCMM_ARRAY_SIZE(dir_names); i++)
		if (!strcmp(x->val, dir_names[i])) {
			*dir = (enum ccmm_ftrace_dir)i;
			return 0;
		}
	/* __print_symbolic prints an unknown value as a number */
	if ((!hex_u64(x->val, &v) && !strncmp(x->val, "0x", 2)) || !dec_u64(x->val, &v)) {
		if (v <= CCMM_FT_NONE) {
			*dir = (enum ccmm_ftrace_dir)v;
			return 0;
		}
	}
	return ccmm_error_set(err, &c->loc, -EINVAL,
			      "%s: dir='%.40s' is not a DMA direction (BIDIRECTIONAL, TO_DEVICE, FROM_DEVICE, NONE)", c->event,
			      x->val);
}

static int get_attrs(struct line_ctx *c, struct field *f, int n, unsigned long *attrs, struct ccmm_error *err)
{
	struct field *x;
	int ret = need(c, f, n, "attrs", &x, err);
	const char *p;

	if (ret)
		return ret;
	*attrs = 0;
	for (p = x->val; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		bool known = false;

		for (unsigned i = 0; i < CCMM_ARRAY_SIZE(attr_names); i++)
			if (strlen(attr_names[i].name) == len && !strncmp(p, attr_names[i].name, len)) {
				*attrs |= attr_names[i].bit;
				known = true;
			}
		if (!known) {
			char tok[24];
			uint64_t v;

			/* __print_flags prints bits without a name in hex */
			snprintf(tok, sizeof(tok), "%.*s", (int)CCMM_MIN(len, sizeof(tok) - 1), p);
			if (len >= sizeof(tok) || strncmp(tok, "0x", 2) || hex_u64(tok, &v))
				return ccmm_error_set(err, &c->loc, -EINVAL, "%s: attrs='%.60s': unknown DMA attribute '%.*s'",
						      c->event, x->val, (int)CCMM_MIN(len, 32), p);
			*attrs |= (unsigned long)v;
		}
		p += len;
		if (*p == '|')
			p++;
	}
	return 0;
}

/* "{0x1,0x2}" into @a. */
static int get_array(struct line_ctx *c, struct field *f, int n, const char *key, struct array *a,
		     struct ccmm_error *err)
{
	struct field *x;
	int ret = need(c, f, n, key, &x, err);
	const char *p;

	if (ret)
		return ret;
	a->n = 0;
	p = x->val;
	if (*p != '{' || p[strlen(p) - 1] != '}')
		return ccmm_error_set(err, &c->loc, -EINVAL, "%s: %s='%.40s' is not an array ({0x..,0x..})", c->event, key,
				      x->val);
	p++;
	while (*p != '}') {
		char tok[24];
		size_t len = strcspn(p, ",}");
		uint64_t v;

		if (len == 0 || len >= sizeof(tok))
			return ccmm_error_set(err, &c->loc, -EINVAL, "%s: %s: entry %zu is empty or too long", c->event, key,
					      a->n);
		memcpy(tok, p, len);
		tok[len] = '\0';
		if (strncmp(tok, "0x", 2) || hex_u64(tok, &v))
			return ccmm_error_set(err, &c->loc, -EINVAL, "%s: %s: entry %zu '%s' is not a hexadecimal number",
					      c->event, key, a->n, tok);
		if (a->n == FT_MAX_ARRAY)
			return ccmm_error_set(err, &c->loc, -EINVAL, "%s: %s: more than %d entries", c->event, key,
					      FT_MAX_ARRAY);
		if (ccmm_grow((void **)&a->v, &a->cap, a->n + 1, sizeof(*a->v)))
			return ccmm_error_set(err, &c->loc, -ENOMEM, "out of memory");
		a->v[a->n++] = v;
		p += len;
		if (*p == ',') {
			p++;
			if (*p == '}')
				return ccmm_error_set(err, &c->loc, -EINVAL, "%s: %s: a comma before '}'", c->event, key);
		}
	}
	return 0;
}

/* "TRACED/FULL" */
static int get_pair(struct line_ctx *c, struct field *f, int n, const char *key, int *traced, int *full,
		    struct ccmm_error *err)
{
	struct field *x;
	int ret = need(c, f, n, key, &x, err);
	char buf[32];
	char *slash;

	if (ret)
		return ret;
	snprintf(buf, sizeof(buf), "%s", x->val);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (!slash || dec_int(buf, traced) || dec_int(slash + 1, full) || *traced < 0 || *full < *traced)
		return ccmm_error_set(err, &c->loc, -EINVAL, "%s: %s='%.40s' is not TRACED/FULL counts", c->event, key,
				      x->val);
	return 0;
}

/* ---- lines ------------------------------------------------------------ */

/* Split @s (modified) at spaces into fields. */
static int split(struct line_ctx *c, char *s, struct field *f, int *n, struct ccmm_error *err)
{
	*n = 0;
	for (;;) {
		char *eq, *end;

		while (*s == ' ' || *s == '\t' || *s == '\r')
			*s++ = '\0';
		if (!*s)
			return 0;
		end = s + strcspn(s, " \t\r");
		if (*n == FT_MAX_FIELDS)
			return ccmm_error_set(err, &c->loc, -EINVAL, "%s: more than %d fields", c->event, FT_MAX_FIELDS);
		eq = strchr(s, '=');
		f[*n].used = false;
		if (eq && eq < end) {
			*eq = '\0';
			f[*n].key = s;
			f[*n].val = eq + 1;
		} else {
			f[*n].key = NULL;
			f[*n].val = s;
		}
		(*n)++;
		s = end;
	}
}

static int set_array(struct line_ctx *c, struct field *f, int n, const char *key, struct array *a, size_t *count,
		     const uint64_t **out, struct ccmm_error *err)
{
	int ret = get_array(c, f, n, key, a, err);

	if (ret)
		return ret;
	*count = a->n;
	*out = a->v;
	return 0;
}

static int parse_fields(struct ccmm_ftrace *ft, struct line_ctx *c, char *text, struct ccmm_ftrace_event *ev,
			struct ccmm_error *err)
{
	struct field f[FT_MAX_FIELDS];
	enum fmt fmt = kinds[ev->kind].fmt;
	int n, ret;
	struct field *x;

	if (fmt == F_BOUNCED) {
		while (*text == ' ')
			text++;
		if (strncmp(text, "dev_name:", 9))
			return ccmm_error_set(err, &c->loc, -EINVAL, "%s: no dev_name: field", c->event);
		text += 9;
	}
	ret = split(c, text, f, &n, err);
	if (ret)
		return ret;
	if (n == 0 || f[0].key)
		return ccmm_error_set(err, &c->loc, -EINVAL, "%s: no device name before the fields", c->event);
	if (strlen(f[0].val) >= sizeof(ev->dev))
		return ccmm_error_set(err, &c->loc, -EINVAL, "%s: device name '%.40s...' is too long", c->event, f[0].val);
	snprintf(ev->dev, sizeof(ev->dev), "%s", f[0].val);
	f[0].used = true;

	if (fmt == F_BOUNCED) {
		ret = get_hex(c, f, n, "dma_mask", &ev->dma_mask, err);
		if (!ret)
			ret = get_hex(c, f, n, "dev_addr", &ev->phys_addr, err);
		if (!ret)
			ret = get_dec(c, f, n, "size", &ev->size, err);
		if (ret)
			return ret;
		ev->has |= CCMM_FT_HAS_DMA_MASK | CCMM_FT_HAS_PHYS_ADDR | CCMM_FT_HAS_SIZE;
		x = NULL;
		for (int i = 1; i < n; i++)
			if (!f[i].key && !f[i].used) {
				x = &f[i];
				break;
			}
		if (!x || (strcmp(x->val, "FORCE") && strcmp(x->val, "NORMAL")))
			return ccmm_error_set(err, &c->loc, -EINVAL, "%s: no FORCE or NORMAL after size=", c->event);
		x->used = true;
		ev->force = !strcmp(x->val, "FORCE");
		goto check_rest;
	}

	ret = get_dir(c, f, n, &ev->dir, err);
	if (ret)
		return ret;
	ev->has |= CCMM_FT_HAS_DIR;
	switch (fmt) {
	case F_MAP:
	case F_UNMAP:
	case F_ALLOC:
	case F_ALLOC_SGT:
	case F_FREE:
	case F_FREE_SGT:
	case F_SYNC:
		ret = get_hex(c, f, n, "dma_addr", &ev->dma_addr, err);
		if (!ret)
			ret = get_dec(c, f, n, "size", &ev->size, err);
		if (ret)
			return ret;
		ev->has |= CCMM_FT_HAS_DMA_ADDR | CCMM_FT_HAS_SIZE;
		break;
	default:
		break;
	}
	switch (fmt) {
	case F_MAP:
		ret = get_hex(c, f, n, "phys_addr", &ev->phys_addr, err);
		ev->has |= CCMM_FT_HAS_PHYS_ADDR;
		break;
	case F_ALLOC:
	case F_FREE:
		/* virt_addr is a hashed pointer (%p): kept out of the event */
		ret = need(c, f, n, "virt_addr", &x, err);
		break;
	case F_ALLOC_SGT:
	case F_FREE_SGT:
	case F_UNMAP_SG:
		ret = set_array(c, f, n, "phys_addrs", &ft->phys, &ev->n_phys, &ev->phys_addrs, err);
		break;
	case F_MAP_SG:
		ret = get_pair(c, f, n, "nents", &ev->nents, &ev->full_nents, err);
		if (!ret)
			ret = get_pair(c, f, n, "ents", &ev->ents, &ev->full_ents, err);
		if (!ret)
			ret = set_array(c, f, n, "dma_addrs", &ft->dma, &ev->n_dma, &ev->dma_addrs, err);
		if (!ret)
			ret = set_array(c, f, n, "sizes", &ft->sizes, &ev->n_sizes, &ev->sizes, err);
		if (!ret)
			ret = set_array(c, f, n, "phys_addrs", &ft->phys, &ev->n_phys, &ev->phys_addrs, err);
		if (ret)
			return ret;
		ev->has |= CCMM_FT_HAS_NENTS;
		for (int i = 1; i < n; i++)
			if (!f[i].key && !strcmp(f[i].val, "[TRUNCATED]")) {
				f[i].used = true;
				ev->truncated = true;
			}
		if ((size_t)ev->nents != ev->n_phys || (size_t)ev->ents != ev->n_dma || ev->n_dma != ev->n_sizes)
			return ccmm_error_set(err, &c->loc, -EINVAL,
					      "%s: nents=%d/ents=%d do not match the arrays (%zu phys_addrs, %zu dma_addrs, %zu sizes)",
					      c->event, ev->nents, ev->ents, ev->n_phys, ev->n_dma, ev->n_sizes);
		if (ev->truncated != (ev->full_nents > ev->nents || ev->full_ents > ev->ents))
			return ccmm_error_set(err, &c->loc, -EINVAL, "%s: [TRUNCATED] %s, but the counts say otherwise",
					      c->event, ev->truncated ? "given" : "missing");
		break;
	case F_MAP_SG_ERR:
		/* the event names its array of physical addresses dma_addrs */
		ret = set_array(c, f, n, "dma_addrs", &ft->phys, &ev->n_phys, &ev->phys_addrs, err);
		if (!ret) {
			ret = need(c, f, n, "err", &x, err);
			if (!ret && dec_int(x->val, &ev->err))
				ret = ccmm_error_set(err, &c->loc, -EINVAL, "%s: err='%.20s' is not a number", c->event,
						     x->val);
		}
		break;
	case F_SYNC_SG:
		ret = set_array(c, f, n, "dma_addrs", &ft->dma, &ev->n_dma, &ev->dma_addrs, err);
		if (!ret)
			ret = set_array(c, f, n, "sizes", &ft->sizes, &ev->n_sizes, &ev->sizes, err);
		if (!ret && ev->n_dma != ev->n_sizes)
			ret = ccmm_error_set(err, &c->loc, -EINVAL, "%s: %zu dma_addrs but %zu sizes", c->event, ev->n_dma,
					     ev->n_sizes);
		break;
	default:
		break;
	}
	if (ret)
		return ret;
	if (fmt == F_ALLOC || fmt == F_ALLOC_SGT) {
		ret = need(c, f, n, "flags", &x, err);
		if (ret)
			return ret;
		snprintf(ev->flags, sizeof(ev->flags), "%s", x->val);
	}
	if (fmt != F_SYNC && fmt != F_SYNC_SG && fmt != F_FREE_SGT) {
		ret = get_attrs(c, f, n, &ev->attrs, err);
		if (ret)
			return ret;
		ev->has |= CCMM_FT_HAS_ATTRS;
	}
check_rest:
	for (int i = 1; i < n; i++)
		if (!f[i].used)
			return ccmm_error_set(err, &c->loc, -EINVAL, "%s: unexpected field '%s%s%.40s'", c->event,
					      f[i].key ? f[i].key : "", f[i].key ? "=" : "", f[i].val);
	return 0;
}

/* "7.239313" -> ns; 1..9 fraction digits. */
static int parse_ts(const char *s, uint64_t *ns)
{
	uint64_t sec = 0, frac = 0;
	int digits = 0, n = 0;

	for (; isdigit((unsigned char)*s); s++, n++) {
		if (sec > UINT64_MAX / 10 / 1000000000ULL)
			return -ERANGE;
		sec = sec * 10 + (uint64_t)(*s - '0');
	}
	if (!n || *s++ != '.')
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++, digits++) {
		if (digits == 9)
			return -EINVAL;
		frac = frac * 10 + (uint64_t)(*s - '0');
	}
	if (!digits || *s)
		return -EINVAL;
	while (digits++ < 9)
		frac *= 10;
	*ns = sec * 1000000000ULL + frac;
	return 0;
}

/* A header or bookkeeping line: 1 skip, 0 not one. */
static int header_line(struct ccmm_ftrace *ft, const char *line)
{
	const char *p = line;
	uint64_t v;

	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (!*p || *p == '#')
		return 1;
	if (!strncmp(p, "cpus=", 5) && !dec_u64(p + 5, &v)) {
		ft->st.trace_cmd = true;
		return 1;
	}
	if (!strncmp(p, "version = ", 10))
		return 1;
	if (!strncmp(p, "CPU ", 4) && strstr(p, " is empty"))
		return 1;
	if (!strncmp(p, "CPU:", 4) && strstr(p, "[LOST ")) {
		const char *q = strstr(p, "[LOST ") + 6;
		char *end;
		unsigned long long m = strtoull(q, &end, 10);

		ft->st.lost += (end != q) ? m : 1;
		return 1;
	}
	return 0;
}

static int parse_line(struct ccmm_ftrace *ft, char *line, uint32_t lineno, struct ccmm_ftrace_event *ev,
		      struct ccmm_error *err)
{
	struct line_ctx c = { { _ccmm_trace_path(ft->lines), (int)lineno }, "" };
	char *p, *open = NULL, *close, *tok, *colon, *dash;
	char name[48];
	size_t len;
	int k;
	uint64_t cpu;

	if (header_line(ft, line))
		return 0;
	/* TASK-PID [CPU]: the first " [digits]" (a task name may hold spaces and brackets) */
	for (p = line; (p = strstr(p, "[")) != NULL; p++) {
		char *q = p + 1;

		while (isdigit((unsigned char)*q))
			q++;
		if (q > p + 1 && *q == ']' && p > line && p[-1] == ' ') {
			open = p;
			break;
		}
	}
	if (!open)
		return ccmm_error_set(err, &c.loc, -EINVAL, "not an ftrace event line (no [CPU] field): '%.60s'", line);
	close = strchr(open, ']');
	*close = '\0';
	if (dec_u64(open + 1, &cpu) || cpu > 65535)
		return ccmm_error_set(err, &c.loc, -EINVAL, "CPU '%.10s' is not a CPU number", open + 1);
	/* task and pid */
	for (p = open; p > line && p[-1] == ' ';)
		*--p = '\0';
	for (tok = line; *tok == ' ' || *tok == '\t'; tok++)
		;
	dash = strrchr(tok, '-');
	memset(ev, 0, sizeof(*ev));
	ev->line = lineno;
	ev->cpu = (int)cpu;
	ev->pid = -1;
	if (dash) {
		int pid;

		if (!dec_int(dash + 1, &pid)) {
			ev->pid = pid;
			*dash = '\0';
		}
	}
	snprintf(ev->task, sizeof(ev->task), "%s", tok);
	/* [FLAGS] TIMESTAMP: */
	p = close + 1;
	while (*p == ' ')
		p++;
	tok = p;
	len = strcspn(p, " ");
	if (len && tok[len - 1] != ':') {
		/* irq flags (tracefs, trace-cmd -l): d, N, n, h, H, s, S, b, B, X, '.', digits */
		if (strspn(tok, "dDNnhHsSbBXzZ.0123456789") < len)
			return ccmm_error_set(err, &c.loc, -EINVAL, "irq-flags field '%.*s' is not ftrace's", (int)CCMM_MIN(len, 16),
					      tok);
		p += len;
		while (*p == ' ')
			p++;
		tok = p;
		len = strcspn(p, " ");
	}
	if (!len || tok[len - 1] != ':')
		return ccmm_error_set(err, &c.loc, -EINVAL, "no timestamp ('SECONDS:') after the CPU field");
	tok[len - 1] = '\0';
	if (parse_ts(tok, &ev->ts_ns))
		return ccmm_error_set(err, &c.loc, -EINVAL, "timestamp '%.30s' is not SECONDS.FRACTION", tok);
	p = tok + len;
	while (*p == ' ')
		p++;
	/* EVENT: */
	colon = strchr(p, ':');
	len = colon ? (size_t)(colon - p) : 0;
	if (!colon || !len || len >= sizeof(name) || strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789_") != len)
		return ccmm_error_set(err, &c.loc, -EINVAL, "no event name ('NAME:') after the timestamp");
	memcpy(name, p, len);
	name[len] = '\0';
	if ((int)cpu > ft->st.max_cpu)
		ft->st.max_cpu = (int)cpu;
	ft->seen_event = true;
	for (k = 0; k < CCMM_FT_NR; k++)
		if (!strcmp(kinds[k].name, name))
			break;
	if (k == CCMM_FT_NR) {
		if (!ft->st.skipped)
			snprintf(ft->st.first_skipped, sizeof(ft->st.first_skipped), "%s", name);
		ft->st.skipped++;
		return 0;
	}
	ev->kind = (enum ccmm_ftrace_kind)k;
	c.event = kinds[k].name;
	k = parse_fields(ft, &c, colon + 1, ev, err);
	return k ? k : 1;
}

int ccmm_ftrace_next(struct ccmm_ftrace *ft, struct ccmm_ftrace_event *ev, struct ccmm_error *err)
{
	for (;;) {
		char *line;
		uint64_t lineno;
		int ret = _ccmm_trace_next_line(ft->lines, &line, &lineno, err);

		if (ret <= 0)
			return ret;
		ft->st.lines++;
		ret = parse_line(ft, line, (uint32_t)lineno, ev, err);
		if (ret < 0)
			return ret;
		if (ret) {
			ft->st.events++;
			ft->st.by_kind[ev->kind]++;
			return 1;
		}
	}
}

int ccmm_ftrace_probe(const char *path, struct ccmm_error *err)
{
	struct ccmm_ftrace *ft;
	struct ccmm_ftrace_event ev;
	struct ccmm_error scratch;
	int ret = ccmm_ftrace_open(path, &ft, err);

	if (ret)
		return ret;
	for (int i = 0; i < 64; i++) {
		char *line;
		uint64_t lineno;
		const char *p;

		ret = _ccmm_trace_next_line(ft->lines, &line, &lineno, &scratch);
		if (ret <= 0)
			break;
		for (p = line; *p == ' '; p++)
			;
		if (!*p)
			continue;
		if (!strncmp(p, "# tracer:", 9) || !strncmp(p, "cpus=", 5)) {
			ret = 1;
			break;
		}
		if (*p == '#')
			continue;
		ret = parse_line(ft, line, (uint32_t)lineno, &ev, &scratch) >= 0 && ft->seen_event;
		break;
	}
	ccmm_ftrace_close(ft);
	return ret > 0 ? 1 : 0;
}
