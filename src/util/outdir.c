// SPDX-License-Identifier: MIT
/*
 * Output directories that appear under their name only when complete:
 * built beside the target under a temporary name, then swapped in. A
 * directory in the way is replaced only when it holds a previous dump of
 * the same kind (its marker file), never a user's own.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/util.h"

static int remove_tree(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		char sub[4096];
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		if (lstat(sub, &st))
			ret = -errno;
		else if (S_ISDIR(st.st_mode))
			ret = remove_tree(sub);
		else if (unlink(sub))
			ret = -errno;
		if (ret)
			break;
	}
	closedir(d);
	if (!ret && rmdir(path))
		ret = -errno;
	return ret;
}

int ccmm_outdir_open(struct ccmm_outdir *o, const char *path, const char *what, const char *marker,
		     struct ccmm_error *err)
{
	char probe[4096 + 256];
	struct stat st;

	size_t n = strlen(path);

	o->replace = false;
	o->tmp[0] = '\0';
	if (!n || n > 4000)
		return ccmm_error_set(err, NULL, -EINVAL, "'%s': not a usable directory name", path);
	memcpy(o->path, path, n + 1);
	if (!stat(path, &st)) {
		snprintf(probe, sizeof(probe), "%s/%s", path, marker);
		if (!S_ISDIR(st.st_mode) || access(probe, F_OK))
			return ccmm_error_set(err, NULL, -EEXIST, "%s: exists and is not a previous %s (no %s); not replacing it",
					      path, what, marker);
		o->replace = true;
	}
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", path);
	if (!mkdtemp(o->tmp)) {
		int ret = -errno;

		o->tmp[0] = '\0';
		return ccmm_error_set(err, NULL, ret, "%s: cannot create a directory beside it: %s", path, strerror(-ret));
	}
	chmod(o->tmp, 0755);
	return 0;
}

int ccmm_outdir_write(struct ccmm_outdir *o, const char *rel, const char *text, size_t len, struct ccmm_error *err)
{
	char path[4096 + 512];
	FILE *f;
	int ret = 0;

	if (snprintf(path, sizeof(path), "%s/%s", o->tmp, rel) >= (int)sizeof(path))
		return ccmm_error_set(err, NULL, -ENAMETOOLONG, "%s/%s: name too long", o->path, rel);
	/* the directories on the way */
	for (char *s = path + strlen(o->tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(path, 0755) && errno != EEXIST)
			ret = -errno;
		*s = '/';
		if (ret)
			return ccmm_error_set(err, NULL, ret, "%s/%s: cannot create: %s", o->path, rel, strerror(-ret));
	}
	f = fopen(path, "w");
	if (!f)
		return ccmm_error_set(err, NULL, -errno, "%s/%s: cannot write: %s", o->path, rel, strerror(errno));
	if (len && fwrite(text, 1, len, f) != len)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -EIO;
	if (ret)
		return ccmm_error_set(err, NULL, ret, "%s/%s: cannot write: %s", o->path, rel, strerror(-ret));
	return 0;
}

int ccmm_outdir_commit(struct ccmm_outdir *o, struct ccmm_error *err)
{
	char old[4096 + 16];
	int ret;

	if (o->replace) {
		snprintf(old, sizeof(old), "%s.old.XXXXXX", o->path);
		if (!mkdtemp(old)) {
			ret = -errno;
			ccmm_outdir_abort(o);
			return ccmm_error_set(err, NULL, ret, "%s: cannot replace: %s", o->path, strerror(-ret));
		}
		rmdir(old);
		if (rename(o->path, old)) {
			ret = -errno;
			ccmm_outdir_abort(o);
			return ccmm_error_set(err, NULL, ret, "%s: cannot replace: %s", o->path, strerror(-ret));
		}
	}
	if (rename(o->tmp, o->path)) {
		ret = -errno;
		ccmm_outdir_abort(o);
		if (o->replace)
			rename(old, o->path);
		return ccmm_error_set(err, NULL, ret, "%s: cannot rename the dump into place: %s", o->path, strerror(-ret));
	}
	o->tmp[0] = '\0';
	if (o->replace)
		remove_tree(old);
	return 0;
}

void ccmm_outdir_abort(struct ccmm_outdir *o)
{
	if (o->tmp[0])
		remove_tree(o->tmp);
	o->tmp[0] = '\0';
}
