// SPDX-License-Identifier: MIT
/*
 * ccmm-dmabuf - make dma-bufs from /dev/dma_heap/system and /dev/udmabuf
 * inside the recorder's guest, name them, write to them through mmap
 * inside a DMA_BUF_IOCTL_SYNC bracket, and copy
 * /sys/kernel/debug/dma_buf/bufinfo to OUT while they are alive (so it has
 * content: the recorder's before/after snapshots see none).
 *
 * usage: ccmm-dmabuf OUT HEAPSIZE... [-- UDMABUFSIZE...]
 *   sizes in bytes with k/m suffixes (udmabuf sizes: whole pages)
 * Exits 1 when a buffer cannot be made, 2 on bad usage.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/udmabuf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define MAX_BUFS 64

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

/* Name the buffer, write a pattern through mmap inside a CPU-access bracket. */
static int use_buf(int fd, uint64_t size, const char *name)
{
	struct dma_buf_sync sync = { DMA_BUF_SYNC_START | DMA_BUF_SYNC_WRITE };
	unsigned char *p;

	if (ioctl(fd, DMA_BUF_SET_NAME_B, name))
		fprintf(stderr, "ccmm-dmabuf: naming %s: %s\n", name, strerror(errno));
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "ccmm-dmabuf: mmap %s: %s\n", name, strerror(errno));
		return -1;
	}
	if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync))
		fprintf(stderr, "ccmm-dmabuf: sync start %s: %s\n", name, strerror(errno));
	for (uint64_t i = 0; i < size; i += 4096)
		p[i] = (unsigned char)(i >> 12);
	sync.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_WRITE;
	if (ioctl(fd, DMA_BUF_IOCTL_SYNC, &sync))
		fprintf(stderr, "ccmm-dmabuf: sync end %s: %s\n", name, strerror(errno));
	munmap(p, size);
	return 0;
}

int main(int argc, char **argv)
{
	int fds[MAX_BUFS], nfds = 0, heap, udev = -1, udma = 0;
	char name[32], buf[4096];
	FILE *in, *out;
	size_t n;

	if (argc < 3) {
		fprintf(stderr, "usage: ccmm-dmabuf OUT HEAPSIZE... [-- UDMABUFSIZE...]\n");
		return 2;
	}
	heap = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC);
	if (heap < 0) {
		fprintf(stderr, "ccmm-dmabuf: /dev/dma_heap/system: %s\n", strerror(errno));
		return 1;
	}
	for (int i = 2; i < argc && nfds < MAX_BUFS; i++) {
		uint64_t size;

		if (!strcmp(argv[i], "--")) {
			udma = 1;
			udev = open("/dev/udmabuf", O_RDWR | O_CLOEXEC);
			if (udev < 0) {
				fprintf(stderr, "ccmm-dmabuf: /dev/udmabuf: %s\n", strerror(errno));
				return 1;
			}
			continue;
		}
		size = parse_size(argv[i]);
		if (!size || (udma && size % 4096)) {
			fprintf(stderr, "ccmm-dmabuf: bad size '%s'\n", argv[i]);
			return 2;
		}
		if (!udma) {
			struct dma_heap_allocation_data a = { .len = size, .fd_flags = O_RDWR | O_CLOEXEC };

			if (ioctl(heap, DMA_HEAP_IOCTL_ALLOC, &a)) {
				fprintf(stderr, "ccmm-dmabuf: heap alloc %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
			fds[nfds] = (int)a.fd;
			snprintf(name, sizeof(name), "ccmm-heap%d", nfds);
		} else {
			int memfd = memfd_create("ccmm-udmabuf", MFD_ALLOW_SEALING);
			struct udmabuf_create c = { .memfd = (uint32_t)memfd, .flags = UDMABUF_FLAGS_CLOEXEC,
						    .offset = 0, .size = size };

			if (memfd < 0 || ftruncate(memfd, (off_t)size) || fcntl(memfd, F_ADD_SEALS, F_SEAL_SHRINK)) {
				fprintf(stderr, "ccmm-dmabuf: memfd: %s\n", strerror(errno));
				return 1;
			}
			fds[nfds] = ioctl(udev, UDMABUF_CREATE, &c);
			if (fds[nfds] < 0) {
				fprintf(stderr, "ccmm-dmabuf: UDMABUF_CREATE %s: %s\n", argv[i], strerror(errno));
				return 1;
			}
			close(memfd);
			snprintf(name, sizeof(name), "ccmm-udmabuf%d", nfds);
		}
		if (use_buf(fds[nfds], size, name))
			return 1;
		nfds++;
	}
	in = fopen("/sys/kernel/debug/dma_buf/bufinfo", "r");
	out = fopen(argv[1], "w");
	if (!in || !out) {
		fprintf(stderr, "ccmm-dmabuf: bufinfo: %s\n", strerror(errno));
		return 1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	if (fclose(out))
		return 1;
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	printf("ccmm-dmabuf: %d buffers made, bufinfo copied to %s\n", nfds, argv[1]);
	return 0;
}
