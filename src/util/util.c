// SPDX-License-Identifier: MIT
/* Errors, numbers, suggestions, option tables, PRNG (output files: output.c). */
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h> /* sysconf: the host's RAM */

int ccmm_error_set(struct ccmm_error *err, const struct ccmm_loc *loc, int ret,
		   const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return ret;
	err->file[0] = '\0';
	err->line = 0;
	if (loc && loc->file)
		snprintf(err->file, sizeof(err->file), "%s", loc->file);
	if (loc)
		err->line = loc->line;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return ret;
}

void ccmm_error_format(const struct ccmm_error *err, char *buf, size_t len)
{
	if (err->file[0] && err->line > 0)
		snprintf(buf, len, "%s:%d: %s", err->file, err->line, err->msg);
	else if (err->file[0])
		snprintf(buf, len, "%s: %s", err->file, err->msg);
	else
		snprintf(buf, len, "%s", err->msg);
}

/* ---------------------------------------------------------------- */

static int parse_digits(const char **sp, unsigned base, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;
	int n = 0;

	for (;; s++) {
		unsigned d;

		if (*s == '_' && n)
			continue;
		if (isdigit((unsigned char)*s))
			d = (unsigned)(*s - '0');
		else if (base == 16 && isxdigit((unsigned char)*s))
			d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
		else
			break;
		if (d >= base)
			return -EINVAL;
		if (v > (UINT64_MAX - d) / base)
			return -ERANGE;
		v = v * base + d;
		n++;
	}
	if (!n)
		return -EINVAL;
	*sp = s;
	*out = v;
	return 0;
}

static _Thread_local unsigned kb_base_tls = 1024;

int ccmm_kb_base_set(unsigned kb_base)
{
	unsigned old = kb_base_tls;

	if (kb_base != 1000 && kb_base != 1024)
		return -EINVAL;
	kb_base_tls = kb_base;
	return (int)old;
}

unsigned ccmm_kb_base(void)
{
	return kb_base_tls;
}

int ccmm_parse_u64(const char *s, bool suffixes, uint64_t *out)
{
	unsigned base = 10, pow = 0;
	uint64_t v, mult = 1;
	int ret;

	if (!s)
		return -EINVAL;
	while (isspace((unsigned char)*s))
		s++;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	} else if (s[0] == '0' && (s[1] == 'b' || s[1] == 'B') && (s[2] == '0' || s[2] == '1')) {
		base = 2;
		s += 2;
	}
	ret = parse_digits(&s, base, &v);
	if (ret)
		return ret;
	if (suffixes && *s) {
		bool iec = false;

		switch (tolower((unsigned char)*s)) {
		case 'k': pow = 1; break;
		case 'm': pow = 2; break;
		case 'g': pow = 3; break;
		case 't': pow = 4; break;
		case 'p': pow = 5; break;
		case 'b': pow = 0; break;
		default: return -EINVAL;
		}
		s++;
		if (pow && tolower((unsigned char)*s) == 'i') {
			iec = true;
			s++;
		}
		if (pow && tolower((unsigned char)*s) == 'b')
			s++;
		/* kb_base 1024: every suffix is a power of 1024; 1000: k/kb SI, KiB IEC */
		for (unsigned i = 0; i < pow; i++)
			mult *= (kb_base_tls == 1000 && !iec) ? 1000 : 1024;
	}
	while (isspace((unsigned char)*s))
		s++;
	if (*s)
		return -EINVAL;
	if (v > UINT64_MAX / mult)
		return -ERANGE;
	*out = v * mult;
	return 0;
}

int ccmm_parse_range(const char *s, uint64_t *lo, uint64_t *hi)
{
	char buf[128];
	const char *sep;
	int ret;

	if (!s)
		return -EINVAL;
	sep = strchr(s, '-');
	if (!sep)
		sep = strchr(s, ':');
	if (!sep) {
		ret = ccmm_parse_u64(s, true, lo);
		if (!ret)
			*hi = *lo;
		return ret;
	}
	if ((size_t)(sep - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(sep - s));
	buf[sep - s] = '\0';
	ret = ccmm_parse_u64(buf, true, lo);
	if (ret)
		return ret;
	ret = ccmm_parse_u64(sep + 1, true, hi);
	if (ret)
		return ret;
	if (*hi < *lo) { /* fio swaps a reversed range (parse.c, FIO_OPT_RANGE) */
		uint64_t t = *lo;

		*lo = *hi;
		*hi = t;
	}
	return 0;
}

int ccmm_parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "1", "yes", "true", "on", NULL };
	static const char *const no[] = { "0", "no", "false", "off", NULL };

	if (ccmm_choice_index(yes, s) >= 0) {
		*out = true;
		return 0;
	}
	if (ccmm_choice_index(no, s) >= 0) {
		*out = false;
		return 0;
	}
	return -EINVAL;
}

char *ccmm_format_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	unsigned u = 0;
	uint64_t whole = bytes;

	while (whole >= 1024 && u + 1 < CCMM_ARRAY_SIZE(unit)) {
		whole >>= 10;
		u++;
	}
	if (u && (bytes & ((1ULL << (10 * u)) - 1)))
		snprintf(buf, len, "%.1f%s", (double)bytes / (double)(1ULL << (10 * u)), unit[u]);
	else
		snprintf(buf, len, "%" PRIu64 "%s", whole, unit[u]);
	return buf;
}

/* ---------------------------------------------------------------- */

int ccmm_range_end(uint64_t start, uint64_t count, unsigned shift, uint64_t *end)
{
	uint64_t bytes;

	if (shift > 63 || count > (UINT64_MAX >> shift))
		return -EOVERFLOW;
	bytes = count << shift;
	if (start > UINT64_MAX - bytes)
		return -EOVERFLOW;
	*end = start + bytes;
	return 0;
}

int ccmm_range_within(uint64_t start, uint64_t count, unsigned shift, uint64_t lo, uint64_t hi)
{
	uint64_t end;
	int ret = ccmm_range_end(start, count, shift, &end);

	if (ret)
		return ret;
	return start < lo || end > hi ? -ERANGE : 0;
}

uint64_t ccmm_host_ram(void)
{
	const char *env = getenv("CCMM_HOST_RAM");
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	uint64_t v;

	if (env && !ccmm_parse_u64(env, true, &v) && v)
		return v;
	if (pages <= 0 || psize <= 0 || (uint64_t)pages > UINT64_MAX / (uint64_t)psize)
		return UINT64_MAX;
	return (uint64_t)pages * (uint64_t)psize;
}

unsigned ccmm_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned d[64][64];

	if (la >= 63 || lb >= 63)
		return (unsigned)CCMM_MAX(la, lb);
	for (size_t i = 0; i <= la; i++)
		d[i][0] = (unsigned)i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			unsigned cost = tolower((unsigned char)a[i - 1]) !=
					tolower((unsigned char)b[j - 1]);
			unsigned v = d[i - 1][j] + 1;

			v = CCMM_MIN(v, d[i][j - 1] + 1);
			v = CCMM_MIN(v, d[i - 1][j - 1] + cost);
			if (i > 1 && j > 1 &&
			    tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]))
				v = CCMM_MIN(v, d[i - 2][j - 2] + 1);
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *ccmm_suggest(const char *word, const char *const *cands, size_t n)
{
	const char *best = NULL;
	unsigned best_d = ~0u, limit;
	size_t len = strlen(word);

	limit = len / 3 > 2 ? (unsigned)(len / 3) : 2;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!cands[i])
			continue;
		d = ccmm_edit_distance(word, cands[i]);
		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

/* ---------------------------------------------------------------- */

int ccmm_choice_index(const char *const *choices, const char *s)
{
	for (int i = 0; choices && choices[i]; i++)
		if (!strcasecmp(choices[i], s))
			return i;
	return -1;
}

const struct ccmm_option *ccmm_option_find(const struct ccmm_option *opts, const char *name)
{
	for (; opts && opts->name; opts++)
		if (!strcasecmp(opts->name, name))
			return opts;
	return NULL;
}

static void choices_list(const char *const *choices, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; choices[i] && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", choices[i]);
}

static int option_apply(const struct ccmm_option *o, void *base, const char *section,
			const char *value, const struct ccmm_loc *loc, struct ccmm_error *err)
{
	char *field = (char *)base + o->off;
	char buf[256];
	int ret, idx;

	switch (o->type) {
	case CCMM_OPT_U64: {
		uint64_t v;

		if (o->def && !strcmp(o->def, "none") && !strcmp(value, "none")) {
			v = UINT64_MAX; /* an option whose default is "none" is not set */
			memcpy(field, &v, sizeof(v));
			return 0;
		}
		ret = ccmm_parse_u64(value, o->size, &v);
		if (ret == -ERANGE)
			return ccmm_error_set(err, loc, -ERANGE, "%s: value '%s' is too large", o->name, value);
		if (ret)
			return ccmm_error_set(err, loc, -EINVAL, "%s: '%s' is not a %s", o->name, value,
					      o->size ? "size (a number with an optional k/m/g/t suffix)" : "number");
		if (v < o->min || (o->max && v > o->max))
			return ccmm_error_set(err, loc, -ERANGE,
					      "%s=%s is out of range [%" PRIu64 ", %" PRIu64 "]", o->name,
					      value, o->min, o->max ? o->max : UINT64_MAX);
		memcpy(field, &v, sizeof(v));
		return 0;
	}
	case CCMM_OPT_RANGE: {
		struct ccmm_range r;

		ret = ccmm_parse_range(value, &r.lo, &r.hi);
		if (ret)
			return ccmm_error_set(err, loc, -EINVAL,
					      "%s: '%s' is not a value or a LO-HI range", o->name, value);
		if (r.lo < o->min || (o->max && r.hi > o->max))
			return ccmm_error_set(err, loc, -ERANGE,
					      "%s=%s is out of range [%" PRIu64 ", %" PRIu64 "]", o->name,
					      value, o->min, o->max ? o->max : UINT64_MAX);
		memcpy(field, &r, sizeof(r));
		return 0;
	}
	case CCMM_OPT_BOOL: {
		bool b;

		if (ccmm_parse_bool(value, &b))
			return ccmm_error_set(err, loc, -EINVAL, "%s: '%s' is not a boolean (1/0, yes/no, true/false, on/off)", o->name, value);
		memcpy(field, &b, sizeof(b));
		return 0;
	}
	case CCMM_OPT_STR:
		if (strlen(value) >= o->max)
			return ccmm_error_set(err, loc, -ERANGE, "%s: value is longer than %" PRIu64 " characters",
					      o->name, o->max - 1);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	case CCMM_OPT_ENUM: {
		const char *near;
		size_t n = 0;

		idx = ccmm_choice_index(o->choices, value);
		if (idx >= 0) {
			memcpy(field, &idx, sizeof(idx));
			return 0;
		}
		while (o->choices[n])
			n++;
		near = ccmm_suggest(value, o->choices, n);
		choices_list(o->choices, buf, sizeof(buf));
		if (near)
			return ccmm_error_set(err, loc, -EINVAL, "%s: unknown value '%s'; did you mean '%s'? (one of: %s)",
					      o->name, value, near, buf);
		return ccmm_error_set(err, loc, -EINVAL, "%s: unknown value '%s' (one of: %s)", o->name, value, buf);
	}
	}
	(void)section;
	return ccmm_error_set(err, loc, -EINVAL, "%s: bad option table entry", o->name);
}

int ccmm_option_set(const struct ccmm_option *opts, void *base, const char *section,
		    const char *name, const char *value, const struct ccmm_loc *loc,
		    struct ccmm_error *err)
{
	const struct ccmm_option *o = ccmm_option_find(opts, name);

	if (!o) {
		const char *names[256];
		const char *near;
		size_t n = 0;

		for (const struct ccmm_option *p = opts; p && p->name && n < CCMM_ARRAY_SIZE(names); p++)
			names[n++] = p->name;
		near = ccmm_suggest(name, names, n);
		if (near)
			return ccmm_error_set(err, loc, -ENOENT, "unknown option '%s' in [%s]; did you mean '%s'?",
					      name, section, near);
		return ccmm_error_set(err, loc, -ENOENT, "unknown option '%s' in [%s]", name, section);
	}
	if (!value)
		return ccmm_error_set(err, loc, -EINVAL, "option '%s' needs a value", name);
	return option_apply(o, base, section, value, loc, err);
}

int ccmm_option_defaults(const struct ccmm_option *opts, void *base)
{
	struct ccmm_error err;

	for (; opts && opts->name; opts++) {
		if (!opts->def)
			continue;
		if (option_apply(opts, base, "defaults", opts->def, NULL, &err))
			return -EINVAL;
	}
	return 0;
}

/* ---------------------------------------------------------------- */
/* xoshiro256** (Blackman and Vigna), seeded with splitmix64.         */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void ccmm_rng_seed(struct ccmm_rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1b54a32d192ed03ULL);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t ccmm_rng_next(struct ccmm_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

uint64_t ccmm_rng_range(struct ccmm_rng *r, uint64_t lo, uint64_t hi)
{
	uint64_t span, limit, v;

	if (hi <= lo)
		return lo;
	span = hi - lo + 1;
	if (span == 0) /* the whole 64-bit range */
		return ccmm_rng_next(r);
	limit = UINT64_MAX - (UINT64_MAX % span);
	do
		v = ccmm_rng_next(r);
	while (v >= limit);
	return lo + v % span;
}

/* ---------------------------------------------------------------- */

int ccmm_read_text(const char *path, char **out)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0;

	if (!f)
		return -errno;
	for (;;) {
		size_t n;

		if (ccmm_grow((void **)&buf, &cap, len + 4097, 1)) {
			free(buf);
			fclose(f);
			return -ENOMEM;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	buf[len] = '\0';
	if (memchr(buf, '\0', len)) {
		free(buf);
		return -EILSEQ;
	}
	*out = buf;
	return 0;
}

int ccmm_grow(void **arr, size_t *cap, size_t need, size_t elem)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	p = realloc(*arr, ncap * elem);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

char *ccmm_format_ns(uint64_t ns, char *buf, size_t len)
{
	if (ns < 1000)
		snprintf(buf, len, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, len, "%.2fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, len, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, len, "%.3fs", (double)ns / 1e9);
	return buf;
}
