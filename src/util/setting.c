// SPDX-License-Identifier: MIT
/*
 * Settings from the command line: "KEY=VALUE" split into the file and the
 * section whose line it stands for (util.h), and modeled durations.
 */
#include <errno.h>
#include <string.h>

#include "util/util.h"

static int copy_part(char *dst, size_t size, const char *src, size_t len, const char *what, const char *origin,
		     struct ccmm_error *err)
{
	struct ccmm_loc loc = { origin, 0 };

	if (!len)
		return ccmm_error_set(err, &loc, -EINVAL, "the %s is empty (KEY=VALUE, SECTION.KEY=VALUE, "
				      "platform.KEY=VALUE, platform.SECTION:NAME.KEY=VALUE or cost.NAME=VALUE)", what);
	if (len >= size)
		return ccmm_error_set(err, &loc, -EINVAL, "the %s is longer than %zu characters", what, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int ccmm_setting_parse(const char *arg, const char *how, struct ccmm_setting *out, struct ccmm_error *err)
{
	const char *eq = strchr(arg, '=');
	const char *key = arg, *dot;
	size_t klen;
	struct ccmm_loc loc;
	int ret;

	memset(out, 0, sizeof(*out));
	snprintf(out->origin, sizeof(out->origin), "%s %s", how, arg);
	loc.file = out->origin;
	loc.line = 0;
	if (!eq)
		return ccmm_error_set(err, &loc, -EINVAL, "KEY=VALUE expected");
	klen = (size_t)(eq - arg);
	if (!eq[1])
		return ccmm_error_set(err, &loc, -EINVAL, "no value after '='");
	ret = copy_part(out->value, sizeof(out->value), eq + 1, strlen(eq + 1), "value", out->origin, err);
	if (ret)
		return ret;
	out->target = CCMM_SET_JOB;
	if (klen > 9 && !strncmp(arg, "platform.", 9)) {
		/* platform.KEY or platform.SECT:NAME.KEY (a name may hold dots: the key is after the last) */
		const char *rest = arg + 9;
		size_t rlen = klen - 9;
		const char *last = NULL;

		out->target = CCMM_SET_PLATFORM;
		for (const char *p = rest; p < rest + rlen; p++)
			if (*p == '.')
				last = p;
		if (!last || !memchr(rest, ':', (size_t)(last - rest))) {
			/* [platform] KEY: a key never holds ':' or '.', so a dot here is a typo of SECT:NAME */
			if (last)
				return ccmm_error_set(err, &loc, -EINVAL,
						      "'%.*s' is not a platform section: platform.SECTION:NAME.KEY "
						      "(node:0, device:NAME, epc:NAME ...) or platform.KEY",
						      (int)(last - rest), rest);
			snprintf(out->section, sizeof(out->section), "platform");
			return copy_part(out->key, sizeof(out->key), rest, rlen, "key", out->origin, err);
		}
		ret = copy_part(out->section, sizeof(out->section), rest, (size_t)(last - rest), "section", out->origin,
				err);
		if (!ret)
			ret = copy_part(out->key, sizeof(out->key), last + 1, (size_t)(rest + rlen - last - 1), "key",
					out->origin, err);
		return ret;
	}
	if (klen > 5 && !strncmp(arg, "cost.", 5)) {
		out->target = CCMM_SET_PLATFORM;
		snprintf(out->section, sizeof(out->section), "cost");
		return copy_part(out->key, sizeof(out->key), arg + 5, klen - 5, "cost name", out->origin, err);
	}
	/* SECTION.KEY: actor sections are names without dots in practice; split at the last dot */
	dot = NULL;
	for (const char *p = arg; p < eq; p++)
		if (*p == '.')
			dot = p;
	if (!dot) {
		snprintf(out->section, sizeof(out->section), "global");
		return copy_part(out->key, sizeof(out->key), key, klen, "key", out->origin, err);
	}
	ret = copy_part(out->section, sizeof(out->section), arg, (size_t)(dot - arg), "section", out->origin, err);
	if (!ret)
		ret = copy_part(out->key, sizeof(out->key), dot + 1, (size_t)(eq - dot - 1), "key", out->origin, err);
	return ret;
}

int ccmm_parse_time_ns(const char *s, uint64_t *ns)
{
	char num[64];
	size_t n = strspn(s, "0123456789");
	const char *unit = s + n;
	uint64_t v, mul;

	if (!n || n >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, n);
	num[n] = '\0';
	if (ccmm_parse_u64(num, false, &v))
		return -EINVAL;
	if (!*unit || !strcmp(unit, "ns"))
		mul = 1;
	else if (!strcmp(unit, "us"))
		mul = 1000;
	else if (!strcmp(unit, "ms"))
		mul = 1000000;
	else if (!strcmp(unit, "s"))
		mul = 1000000000;
	else
		return -EINVAL;
	if (v > UINT64_MAX / mul)
		return -ERANGE;
	*ns = v * mul;
	return 0;
}
