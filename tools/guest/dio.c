// SPDX-License-Identifier: MIT
/*
 * ccmm-dio - direct I/O at mixed sizes against a block device, run inside
 * the guest that scripts/record-kernel.sh boots. O_DIRECT hands the user
 * buffer's pages to the driver, so every request is one or more DMA-API
 * mappings (bounced through SWIOTLB under swiotlb=force).
 *
 * usage: ccmm-dio [-w|-r|-m] [-o BUFOFF] [-s STRIDE] DEVICE COUNT SIZE...
 *   -w writes only, -r reads only, -m (default) alternates write, read
 *   -o BUFOFF  byte offset of the data in its page-aligned buffer (a
 *              multiple of 512: exercises min_align_mask)
 *   -s STRIDE  byte distance between consecutive requests (default 1m)
 *   SIZE       bytes, with k/m suffixes; request i uses SIZE[i % n]
 * Requests land at (i * STRIDE) modulo the device size, rounded down to
 * 4 KiB; with -m a read goes where the write before it went. Each written
 * block carries a pattern of its offset, and a read of blocks wholly
 * written earlier in the run is checked against it. Prints one
 * summary line; exits 1 on any I/O error or mismatch, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 0);

	if (end == s)
		return 0;
	if (*end == 'k' || *end == 'K')
		v <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		v <<= 20, end++;
	return *end ? 0 : v;
}

static void fill(unsigned char *p, uint64_t len, uint64_t off, unsigned req)
{
	for (uint64_t i = 0; i < len; i += 8) {
		uint64_t v = ((off + i) << 8) ^ req;

		memcpy(p + i, &v, 8);
	}
}

int main(int argc, char **argv)
{
	int mode = 'm', opt, fd;
	uint64_t bufoff = 0, stride = 1 << 20, devsize = 0, maxsize = 0, bytes = 0;
	uint64_t *sizes;
	unsigned count, nsizes, reads = 0, writes = 0, checked = 0;
	unsigned char *buf, *written;

	while ((opt = getopt(argc, argv, "wrmo:s:")) != -1) {
		switch (opt) {
		case 'w': case 'r': case 'm':
			mode = opt;
			break;
		case 'o':
			bufoff = parse_size(optarg);
			if (bufoff % 512 || bufoff >= 4096) {
				fprintf(stderr, "ccmm-dio: -o %s: a multiple of 512 below 4096\n", optarg);
				return 2;
			}
			break;
		case 's':
			stride = parse_size(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind < 3 || !stride)
		goto usage;
	count = (unsigned)strtoul(argv[optind + 1], NULL, 0);
	nsizes = (unsigned)(argc - optind - 2);
	sizes = calloc(nsizes, sizeof(*sizes));
	for (unsigned i = 0; i < nsizes; i++) {
		sizes[i] = parse_size(argv[optind + 2 + i]);
		if (!sizes[i] || sizes[i] % 512) {
			fprintf(stderr, "ccmm-dio: size '%s' is not a multiple of 512\n", argv[optind + 2 + i]);
			return 2;
		}
		if (sizes[i] > maxsize)
			maxsize = sizes[i];
	}
	fd = open(argv[optind], O_RDWR | O_DIRECT);
	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &devsize)) {
		fprintf(stderr, "ccmm-dio: %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	if (devsize < maxsize + 4096) {
		fprintf(stderr, "ccmm-dio: %s is too small\n", argv[optind]);
		return 1;
	}
	if (posix_memalign((void **)&buf, 4096, maxsize + 4096))
		return 1;
	written = calloc(devsize / 4096 + 1, 1);
	for (unsigned i = 0; i < count; i++) {
		uint64_t len = sizes[i % nsizes];
		uint64_t at = mode == 'm' ? i & ~1u : i;
		uint64_t off = (at * stride) % (devsize - len) / 4096 * 4096;
		unsigned char *p = buf + bufoff;
		int write_it = mode == 'w' || (mode == 'm' && !(i & 1));
		ssize_t n;

		if (write_it) {
			fill(p, len, off, 0);
			n = pwrite(fd, p, len, (off_t)off);
			writes++;
			/* blocks wholly written are known (the pattern depends only on the offset) */
			for (uint64_t b = off / 4096; b < (off + len) / 4096; b++)
				written[b] = 1;
		} else {
			memset(p, 0xa5, len);
			n = pread(fd, p, len, (off_t)off);
			reads++;
			int all = n == (ssize_t)len;

			for (uint64_t b = off / 4096; all && b < (off + len + 4095) / 4096; b++)
				all = written[b];
			if (all) {
				unsigned char *want = malloc(len);

				fill(want, len, off, 0);
				if (memcmp(want, p, len)) {
					fprintf(stderr, "ccmm-dio: request %u: data read at %" PRIu64 " differs from what was written\n",
						i, off);
					return 1;
				}
				free(want);
				checked++;
			}
		}
		if (n != (ssize_t)len) {
			fprintf(stderr, "ccmm-dio: request %u (%s %" PRIu64 " bytes at %" PRIu64 "): %s\n", i,
				write_it ? "write" : "read", len, off, n < 0 ? strerror(errno) : "short");
			return 1;
		}
		bytes += len;
	}
	close(fd);
	printf("ccmm-dio: %s: %u writes, %u reads (%u checked), %" PRIu64 " bytes, buffer offset %" PRIu64 "\n",
	       argv[optind], writes, reads, checked, bytes, bufoff);
	return 0;
usage:
	fprintf(stderr, "usage: ccmm-dio [-w|-r|-m] [-o BUFOFF] [-s STRIDE] DEVICE COUNT SIZE...\n");
	return 2;
}
