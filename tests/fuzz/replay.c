// SPDX-License-Identifier: MIT
/*
 * Replays inputs through a fuzz target without libFuzzer, so kept findings
 * (tests/fuzz/regressions/TARGET/) and the seed corpus run in every build
 * (plain, sanitizers, valgrind) as TAP cases:
 *
 *   replay_TARGET PATTERN...   each a file, a directory (its files) or a glob
 *
 * One case per input: "ok N - FILE" once the target returned. A target
 * that finds a bug aborts (sanitizers, or its own checks), which fails the
 * test. Nothing to replay is a failure too, so a wrong path cannot pass.
 */
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static char **inputs;
static size_t nr, cap;

static void add(const char *path)
{
	if (nr == cap) {
		cap = cap ? cap * 2 : 64;
		inputs = realloc(inputs, cap * sizeof(*inputs));
		if (!inputs)
			abort();
	}
	inputs[nr] = strdup(path);
	if (!inputs[nr])
		abort();
	nr++;
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_pattern(const char *pat)
{
	struct stat st;
	glob_t g;

	if (!stat(pat, &st) && S_ISDIR(st.st_mode)) {
		DIR *d = opendir(pat);
		struct dirent *e;
		char path[4096];

		while (d && (e = readdir(d))) {
			snprintf(path, sizeof(path), "%s/%s", pat, e->d_name);
			if (e->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode))
				add(path);
		}
		if (d)
			closedir(d);
		return;
	}
	if (glob(pat, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (!stat(g.gl_pathv[i], &st) && S_ISREG(st.st_mode))
				add(g.gl_pathv[i]);
		globfree(&g);
	}
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t cap_b = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		size_t n;

		if (*len == cap_b) {
			cap_b = cap_b ? cap_b * 2 : 65536;
			buf = realloc(buf, cap_b);
			if (!buf)
				abort();
		}
		n = fread(buf + *len, 1, cap_b - *len, f);
		*len += n;
		if (!n)
			break;
	}
	fclose(f);
	return buf;
}

/* The input's name as the TAP case names it: relative to the source tree. */
static const char *case_name(const char *path)
{
	size_t n = strlen(CCMM_SOURCE_DIR);

	return !strncmp(path, CCMM_SOURCE_DIR "/", n + 1) ? path + n + 1 : path;
}

int main(int argc, char **argv)
{
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		size_t before = nr;

		add_pattern(argv[i]);
		if (nr > before)
			qsort(inputs + before, nr - before, sizeof(*inputs), cmp);
	}
	LLVMFuzzerInitialize(&argc, &argv);
	if (!nr) {
		printf("1..1\nnot ok 1 - nothing to replay\n");
		return 1;
	}
	printf("1..%zu\n", nr);
	fflush(stdout);
	for (size_t i = 0; i < nr; i++) {
		size_t len;
		unsigned char *data = slurp(inputs[i], &len);

		if (!data) {
			printf("not ok %zu - %s (cannot read)\n", i + 1, case_name(inputs[i]));
			failed = 1;
			continue;
		}
		LLVMFuzzerTestOneInput(data, len);
		free(data);
		printf("ok %zu - %s\n", i + 1, case_name(inputs[i]));
		fflush(stdout);
		free(inputs[i]);
	}
	free(inputs);
	return failed;
}
