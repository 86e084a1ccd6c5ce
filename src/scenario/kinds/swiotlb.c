// SPDX-License-Identifier: MIT
/*
 * The swiotlb run extension: [global] debugfs = DIR writes, at the end of
 * the run, the debugfs files a recorded kernel's are compared with, in the
 * kernel's layout:
 *
 *   DIR/swiotlb/io_tlb_nslabs          "%llu\n" each (kernel/dma/swiotlb.c's
 *   DIR/swiotlb/io_tlb_used             DEFINE_DEBUGFS_ATTRIBUTEs; no files
 *   DIR/swiotlb/io_tlb_used_hiwater     without a pool, as the kernel)
 *   DIR/dma_buf/bufinfo                dma_buf_debug_show()
 *
 * The dump is written beside DIR and renamed into place: complete or not
 * at all; an existing DIR is replaced only when it is a previous dump.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dma-buf/dma-buf.h"
#include "scenario/scenario.h"
#include "swiotlb/swiotlb.h"

struct debugfs_opts {
	char debugfs[256];
};

static const struct ccmm_option debugfs_options[] = {
	{ "debugfs", CCMM_OPT_STR, offsetof(struct debugfs_opts, debugfs), 0, 256, false, NULL, "",
	  "directory to write the debugfs files into at the end (swiotlb/io_tlb_nslabs, io_tlb_used, "
	  "io_tlb_used_hiwater, dma_buf/bufinfo), in the kernel's layout, complete or not at all" },
	{ NULL }
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

static void remove_tree(const char *dir)
{
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* A previous dump: a directory with dma_buf/bufinfo in it. @dir is at most 400 bytes. */
static bool is_dump(const char *dir)
{
	static const char tail[] = "/dma_buf/bufinfo";
	char p[600];
	size_t n = strlen(dir);
	struct stat st;

	memcpy(p, dir, n);
	memcpy(p + n, tail, sizeof(tail));
	return !stat(dir, &st) && S_ISDIR(st.st_mode) && !access(p, F_OK);
}

static int write_file(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "w");
	int ret = 0;

	if (!f)
		return -errno;
	if (len && fwrite(text, 1, len, f) != len)
		ret = -EIO;
	if (fclose(f) && !ret)
		ret = -EIO;
	return ret;
}

static int dump_into(struct ccmm_machine *m, const char *tmp)
{
	struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(m);
	char p[600], buf[64];
	FILE *f;
	int ret;

	snprintf(p, sizeof(p), "%s/swiotlb", tmp);
	if (mkdir(p, 0755))
		return -errno;
	for (int i = 0; mem && ccmm_swiotlb_debugfs_files[i]; i++) {
		int n = ccmm_swiotlb_debugfs_read(mem, ccmm_swiotlb_debugfs_files[i], buf, sizeof(buf));

		if (n < 0)
			return n;
		snprintf(p, sizeof(p), "%s/swiotlb/%s", tmp, ccmm_swiotlb_debugfs_files[i]);
		ret = write_file(p, buf, (size_t)n);
		if (ret)
			return ret;
	}
	snprintf(p, sizeof(p), "%s/dma_buf", tmp);
	if (mkdir(p, 0755))
		return -errno;
	snprintf(p, sizeof(p), "%s/dma_buf/bufinfo", tmp);
	f = fopen(p, "w");
	if (!f)
		return -errno;
	ret = ccmm_dma_buf_bufinfo(m, f);
	if (fclose(f) && !ret)
		ret = -EIO;
	return ret;
}

static int dump(struct ccmm_machine *m, const char *dir, char *why, size_t len)
{
	char tmp[512], old[512];
	bool replace = false;
	int ret;

	if (!dir[0] || strlen(dir) > 400)
		return snprintf(why, len, "'%s': not a usable directory name", dir), -EINVAL;
	if (!access(dir, F_OK)) {
		if (!is_dump(dir))
			return snprintf(why, len, "%s: exists and is not a previous debugfs dump (no dma_buf/bufinfo); not "
					"replacing it", dir), -EEXIST;
		replace = true;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", dir);
	if (!mkdtemp(tmp))
		return snprintf(why, len, "%s: cannot create a directory beside it: %s", dir, strerror(errno)), -errno;
	chmod(tmp, 0755);
	ret = dump_into(m, tmp);
	if (ret) {
		remove_tree(tmp);
		return snprintf(why, len, "%s: %s", dir, strerror(-ret)), ret;
	}
	if (replace) {
		snprintf(old, sizeof(old), "%s.old.XXXXXX", dir);
		if (!mkdtemp(old) || rmdir(old) || rename(dir, old)) {
			ret = -errno;
			remove_tree(tmp);
			return snprintf(why, len, "%s: cannot replace: %s", dir, strerror(-ret)), ret;
		}
	}
	if (rename(tmp, dir)) {
		ret = -errno;
		remove_tree(tmp);
		if (replace)
			rename(old, dir);
		return snprintf(why, len, "%s: cannot rename the dump into place: %s", dir, strerror(-ret)), ret;
	}
	if (replace)
		remove_tree(old);
	return 0;
}

static void debugfs_finish(struct ccmm_run *run, const void *opts)
{
	const struct debugfs_opts *o = opts;
	char why[500];

	/* a path as given (relative to where ccmm runs, as cgroupfs = and --json) */
	if (!o->debugfs[0] || run->error[0])
		return;
	if (dump(run->m, o->debugfs, why, sizeof(why))) {
		pthread_mutex_lock(&run->lock);
		if (!run->error[0]) {
			snprintf(run->error, sizeof(run->error), "debugfs: %s", why);
			run->error_ret = -EIO;
		}
		pthread_mutex_unlock(&run->lock);
	}
}

static const struct ccmm_run_ext debugfs_ext = {
	.name = "debugfs",
	.options = debugfs_options,
	.opts_size = sizeof(struct debugfs_opts),
	.finish = debugfs_finish,
};

const struct ccmm_kind_set ccmm_kinds_swiotlb = { "swiotlb", NULL, &debugfs_ext };
