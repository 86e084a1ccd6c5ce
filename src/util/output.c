// SPDX-License-Identifier: MIT
/*
 * Output files that lose nothing, and the search path for data files.
 *
 * What a name points at decides how it is written (util.h): a regular file
 * or a new name goes through a temporary renamed at commit; a character
 * device, a FIFO or an inherited descriptor (/dev/stdout, /dev/fd/N) is
 * written in place; nothing is renamed over a file that is not regular.
 * Symbolic links are followed one hop at a time so that the temporary lives
 * beside the real file and the link survives the rename.
 */
#include "util/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccmm_config.h"

#define SYMLINK_HOPS 40 /* as the kernel's MAXSYMLINKS */

/*
 * The descriptor a name stands for, or -1: "/dev/stdout" and friends,
 * "/dev/fd/N" and "/proc/{self,thread-self,PID}/fd/N". Such a name is a
 * magic link to an open file: reopening it would start a regular file over
 * at offset 0 (or fail for a pipe), so it is written through a duplicate.
 */
static int fd_of_name(const char *p)
{
	static const char *const prefixes[] = { "/dev/fd/", "/proc/self/fd/", "/proc/thread-self/fd/", NULL };
	char mine[64];
	const char *num = NULL;
	char *end;
	long n;

	if (!strcmp(p, "/dev/stdin"))
		return 0;
	if (!strcmp(p, "/dev/stdout"))
		return 1;
	if (!strcmp(p, "/dev/stderr"))
		return 2;
	for (int i = 0; prefixes[i] && !num; i++)
		if (!strncmp(p, prefixes[i], strlen(prefixes[i])))
			num = p + strlen(prefixes[i]);
	snprintf(mine, sizeof(mine), "/proc/%ld/fd/", (long)getpid());
	if (!num && !strncmp(p, mine, strlen(mine)))
		num = p + strlen(mine);
	if (!num || !isdigit((unsigned char)*num))
		return -1;
	errno = 0;
	n = strtol(num, &end, 10);
	if (*end || errno || n > INT_MAX)
		return -1;
	return (int)n;
}

/* @link's target as a path usable from here: relative targets are relative to the link's folder. */
static int follow(const char *link, char *out, size_t len)
{
	char target[PATH_MAX];
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	const char *slash;

	if (n < 0)
		return -errno;
	target[n] = '\0';
	slash = strrchr(link, '/');
	if (target[0] == '/' || !slash) {
		if ((size_t)snprintf(out, len, "%s", target) >= len)
			return -ENAMETOOLONG;
	} else if ((size_t)snprintf(out, len, "%.*s/%s", (int)(slash - link), link, target) >= len) {
		return -ENAMETOOLONG;
	}
	return 0;
}

static int open_fd_inplace(struct ccmm_outfile *o, int fd)
{
	struct stat st;
	int dup_fd;

	if (fstat(fd, &st))
		return -errno; /* -EBADF: nothing open there */
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (dup_fd < 0)
		return -errno;
	o->fp = fdopen(dup_fd, "w");
	if (!o->fp) {
		int ret = -errno;

		close(dup_fd);
		return ret;
	}
	o->mode = CCMM_OUTFILE_INPLACE;
	return 0;
}

static int open_atomic(struct ccmm_outfile *o, const struct stat *existing)
{
	mode_t mask = umask(0);
	int fd;

	umask(mask);
	if ((size_t)snprintf(o->tmp, sizeof(o->tmp), "%s.tmp.XXXXXX", o->target) >= sizeof(o->tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(o->tmp, O_CLOEXEC);
	if (fd < 0) {
		o->tmp[0] = '\0';
		return -errno;
	}
	/* mkstemp makes 0600: a new file gets 0666 & ~umask, an existing one keeps its bits (and owner) */
	if (fchmod(fd, existing ? existing->st_mode & 07777 : 0666 & ~mask)) {
		int ret = -errno;

		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return ret;
	}
	/* best effort: root writing a user's file leaves it the user's */
	if (existing && geteuid() == 0 && fchown(fd, existing->st_uid, existing->st_gid)) {
		/* a file system without owners: the file is root's */
	}
	o->fp = fdopen(fd, "w");
	if (!o->fp) {
		int ret = -errno;

		close(fd);
		unlink(o->tmp);
		o->tmp[0] = '\0';
		return ret;
	}
	o->mode = CCMM_OUTFILE_ATOMIC;
	return 0;
}

int ccmm_outfile_open(struct ccmm_outfile *o, const char *path)
{
	char cur[sizeof(o->target)], next[sizeof(o->target)];
	struct stat st;
	int fd, ret;

	memset(o, 0, sizeof(*o));
	if (!path || !*path)
		return -ENOENT;
	if ((size_t)snprintf(o->path, sizeof(o->path), "%s", path) >= sizeof(o->path))
		return -ENAMETOOLONG;
	if (!strcmp(path, "-")) {
		o->fp = stdout;
		o->mode = CCMM_OUTFILE_STDOUT;
		return 0;
	}
	snprintf(cur, sizeof(cur), "%s", path);
	for (int hop = 0;; hop++) {
		if (hop > SYMLINK_HOPS)
			return -ELOOP;
		fd = fd_of_name(cur);
		if (fd >= 0)
			return open_fd_inplace(o, fd);
		if (lstat(cur, &st)) {
			if (errno != ENOENT)
				return -errno;
			snprintf(o->target, sizeof(o->target), "%s", cur); /* a new name (or a dangling link's target) */
			return open_atomic(o, NULL);
		}
		if (!S_ISLNK(st.st_mode))
			break;
		ret = follow(cur, next, sizeof(next));
		if (ret)
			return ret;
		memcpy(cur, next, sizeof(cur));
	}
	if (S_ISREG(st.st_mode)) {
		snprintf(o->target, sizeof(o->target), "%s", cur);
		return open_atomic(o, &st);
	}
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode))
		return -EINVAL; /* a socket or a block device: not somewhere a report goes */
	/* a device or a FIFO: written as it is, never truncated, never created, never renamed over */
	fd = open(cur, O_WRONLY | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	o->fp = fdopen(fd, "w");
	if (!o->fp) {
		ret = -errno;
		close(fd);
		return ret;
	}
	o->mode = CCMM_OUTFILE_INPLACE;
	return 0;
}

/* The folder of @path, synced so the rename survives a crash (best effort). */
static void sync_dir_of(const char *path)
{
	char dir[sizeof(((struct ccmm_outfile *)0)->target)];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		dir[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		if (fsync(fd)) {
			/* some file systems cannot sync a folder: the data is synced already */
		}
		close(fd);
	}
}

int ccmm_outfile_commit(struct ccmm_outfile *o)
{
	struct stat st;
	int ret = 0;

	if (!o->fp)
		return -EBADF;
	if (o->mode == CCMM_OUTFILE_STDOUT) {
		o->fp = NULL;
		return fflush(stdout) || ferror(stdout) ? -EIO : 0;
	}
	if (fflush(o->fp) || ferror(o->fp))
		ret = errno ? -errno : -EIO;
	if (!ret && o->mode == CCMM_OUTFILE_ATOMIC && fsync(fileno(o->fp)))
		ret = -errno;
	if (fclose(o->fp) && !ret)
		ret = -errno;
	o->fp = NULL;
	if (o->mode == CCMM_OUTFILE_INPLACE)
		return ret;
	/* the name may have been replaced meanwhile: never rename over something that is not a regular file */
	if (!ret && !lstat(o->target, &st) && !S_ISREG(st.st_mode))
		ret = S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST;
	if (!ret && rename(o->tmp, o->target))
		ret = -errno;
	if (ret)
		unlink(o->tmp);
	else
		sync_dir_of(o->target);
	o->tmp[0] = '\0';
	return ret;
}

void ccmm_outfile_abort(struct ccmm_outfile *o)
{
	if (!o->fp)
		return;
	if (o->mode == CCMM_OUTFILE_STDOUT) {
		fflush(stdout);
		o->fp = NULL;
		return;
	}
	fclose(o->fp);
	o->fp = NULL;
	if (o->mode == CCMM_OUTFILE_ATOMIC && o->tmp[0]) {
		unlink(o->tmp);
		o->tmp[0] = '\0';
	}
}

const char *ccmm_outfile_pending(const struct ccmm_outfile *o)
{
	return o->fp && o->mode == CCMM_OUTFILE_ATOMIC && o->tmp[0] ? o->tmp : NULL;
}

/* ---- data files ------------------------------------------------------------------ */

const char *ccmm_datadir(void)
{
	return CCMM_DATADIR;
}

static bool is_file(const char *p)
{
	struct stat st;

	return !stat(p, &st) && !S_ISDIR(st.st_mode);
}

/* @dir/@sub/@name, and with @ext when given: true and the path in @out when one is a file. */
static bool try_at(const char *dir, const char *sub, const char *name, const char *ext, char *out, size_t len)
{
	for (int e = 0; e < (ext ? 2 : 1); e++) {
		int n;

		if (sub)
			n = snprintf(out, len, "%s/%s/%s%s", dir, sub, name, e ? ext : "");
		else if (dir)
			n = snprintf(out, len, "%s/%s%s", dir, name, e ? ext : "");
		else
			n = snprintf(out, len, "%s%s", name, e ? ext : "");
		if (n > 0 && (size_t)n < len && is_file(out))
			return true;
	}
	return false;
}

int ccmm_path_find(const char *name, const char *base_dir, const char *sub, const char *ext, char *out,
		   size_t len)
{
	const char *slash = strrchr(name, '/');
	const char *env = getenv("CCMM_PATH");
	char given[PATH_MAX];
	int n;

	if (ext && strchr(slash ? slash : name, '.'))
		ext = NULL; /* it has an extension already */
	if (name[0] == '/' || !base_dir || !strcmp(base_dir, "."))
		n = snprintf(given, sizeof(given), "%s", name);
	else
		n = snprintf(given, sizeof(given), "%s/%s", base_dir, name);
	if (n < 0 || (size_t)n >= sizeof(given) || strlen(given) >= len)
		return -ENAMETOOLONG;
	if (try_at(NULL, NULL, given, ext, out, len))
		return 0;
	if (name[0] != '/') {
		/* $CCMM_PATH, folder by folder */
		while (env && *env) {
			const char *colon = strchr(env, ':');
			size_t dlen = colon ? (size_t)(colon - env) : strlen(env);
			char dir[PATH_MAX];

			if (dlen && dlen < sizeof(dir)) {
				memcpy(dir, env, dlen);
				dir[dlen] = '\0';
				if (try_at(dir, NULL, name, ext, out, len) || (sub && try_at(dir, sub, name, ext, out, len)))
					return 0;
			}
			env = colon ? colon + 1 : NULL;
		}
		if (try_at(CCMM_DATADIR, NULL, name, ext, out, len) ||
		    (sub && try_at(CCMM_DATADIR, sub, name, ext, out, len)))
			return 0;
	}
	snprintf(out, len, "%s", given);
	return -ENOENT;
}
