// SPDX-License-Identifier: MIT
/* The fuzz targets' sandbox and input helpers (fuzz.h). */
#include "fuzz.h"

#include <dirent.h>
#include <ftw.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char *what, const char *path)
{
	fprintf(stderr, "fuzz sandbox: %s %s\n", what, path);
	exit(1);
}

static void link_to(const char *target, const char *at)
{
	if (symlink(target, at) && errno != EEXIST)
		die("cannot link", at);
}

static char sandbox_root[4096];

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(path); /* symlinks themselves, never what they point at (FTW_PHYS) */
	return 0;
}

static void remove_sandbox(void)
{
	if (sandbox_root[0] && chdir("/") == 0)
		nftw(sandbox_root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_enter_sandbox(void)
{
	static bool done;
	char root[2048], path[4096], target[4096];
	const char *tmp = getenv("TMPDIR");
	DIR *d;
	struct dirent *e;

	if (done)
		return;
	done = true;
	setenv("CCMM_HOST_RAM", "1g", 1);
	snprintf(root, sizeof(root), "%s/ccmm-fuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root))
		die("cannot create", root);
	snprintf(sandbox_root, sizeof(sandbox_root), "%s", root);
	atexit(remove_sandbox);
	snprintf(path, sizeof(path), "%s/a", root);
	if (mkdir(path, 0755))
		die("cannot create", path);
	snprintf(path, sizeof(path), "%s/a/b", root);
	if (mkdir(path, 0755))
		die("cannot create", path);
	static const char *const dirs[][2] = {
		{ "a/platforms", "platforms" }, { "a/traces", "traces" }, { "a/iologs", "iologs" },
		{ "platforms", "platforms" },   { "traces", "traces" },   { "iologs", "iologs" },
		{ "a/jobs", "jobs" },
	};
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i][0]);
		snprintf(target, sizeof(target), "%s/%s", CCMM_SOURCE_DIR, dirs[i][1]);
		link_to(target, path);
	}
	/* the files beside the shipped jobs: platforms, includes, traces, logs (the first of a name wins) */
	static const char *const beside[] = { "tests/jobs", "jobs", "tests/bad" };
	for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
		snprintf(target, sizeof(target), "%s/%s", CCMM_SOURCE_DIR, beside[i]);
		d = opendir(target);
		if (!d)
			die("cannot read", target);
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/a/b/%s", root, e->d_name);
			snprintf(target, sizeof(target), "%s/%s/%s", CCMM_SOURCE_DIR, beside[i], e->d_name);
			link_to(target, path);
		}
		closedir(d);
	}
	snprintf(path, sizeof(path), "%s/a/b", root);
	if (chdir(path))
		die("cannot enter", path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	fuzz_enter_sandbox();
	return 0;
}

char *fuzz_text(const uint8_t *data, size_t size)
{
	char *t;

	if (memchr(data, '\0', size))
		return NULL;
	t = malloc(size + 1);
	if (!t)
		abort();
	memcpy(t, data, size);
	t[size] = '\0';
	return t;
}

bool fuzz_writes_outside(const char *text)
{
	static const char *const writers[] = { "cgroupfs", "bufinfo", "dmem", "vmstat", "debugfs", "sysfs" };
	bool writes = false;

	if (!strchr(text, '/'))
		return false;
	for (size_t i = 0; i < sizeof(writers) / sizeof(writers[0]) && !writes; i++)
		writes = strcasestr(text, writers[i]) != NULL;
	return writes;
}
