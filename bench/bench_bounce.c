// SPDX-License-Identifier: MIT
/*
 * bench_bounce - the bounce path against its ceilings, in one run, on the
 * same bytes (wall time of ccmm itself, never modeled time):
 *
 *   bounce     swiotlb_tbl_map_single + unmap of a BIDIRECTIONAL buffer in
 *              a TDX guest: the copy in (private buffer -> shared pool)
 *              and the copy out (pool -> buffer), each through the access
 *              checker and the memory-encryption engine; bytes counted
 *              twice per round trip. In the eager engine mode each byte
 *              goes through AES-XTS once per direction; in the on-demand
 *              mode a byte the guest wrote and the guest reads back is
 *              only copied (the shared pool's lines are plaintext).
 *   memcpy     the same bytes copied in and out between two host buffers.
 *   AES-XTS    libcrypto's EVP AES-128-XTS over the same bytes, encrypt
 *              then decrypt (the two passes a round trip needs), with
 *              4 KiB data units (what `openssl speed -evp aes-128-xts`
 *              reports) and with 64-byte units (the model's, one EVP call
 *              and IV per line: the cost of the old per-line engine).
 *   engine     ccmm_mee_encrypt + decrypt over the same bytes: XTS per
 *              64-byte line, two ECB calls per page.
 *
 * Targets (issue 15): eager bounce >= 0.8x the 4 KiB-unit AES-XTS figure;
 * on-demand bounce >= 0.5x memcpy.
 *
 * Times are the thread's CPU time (a busy host's other work is not
 * counted), and each figure is the best of 5 measurements taken in turn
 * with the others of its row.
 *
 * usage: bench_bounce [SECONDS_PER_MEASUREMENT [MODE SIZE]]   (default 0.06;
 * MODE eager or on-demand and SIZE in bytes: only that mode's bounce of
 * that size, 16 x 1000 round trips, for a profiler)
 */
#include <errno.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "boot/boot.h"
#include "mm/mm.h"
#include "swiotlb/swiotlb.h"

#define REPEAT 5
static double seconds = 0.06; /* per measurement; each figure is the best of REPEAT */

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_bounce: %s\n", what);
	exit(1);
}

struct guest {
	struct ccmm_machine *m;
	struct ccmm_io_tlb_mem *mem;
	struct ccmm_ctx ctx;
	uint64_t buf; /* 256 KiB of private memory, written by the guest */
};

static void guest_boot(struct guest *g, enum ccmm_mee_mode mode, size_t max)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	struct ccmm_result r;
	uint8_t *fill = malloc(max);

	if (ccmm_platform_parse("bench.ini", "[platform]\nmode=tdx\ncpus=2\nswiotlb_size=2m\n[node:0]\nmem=1g\n", &p, &err) ||
	    ccmm_boot(p, 1, &g->m))
		die("cannot boot");
	if (ccmm_phys_set_mee_mode(g->m, mode))
		die("cannot set the engine mode");
	g->mem = ccmm_swiotlb_default(g->m);
	ccmm_ctx_init(&g->ctx, g->m, 0, "bench");
	if (!fill || ccmm_alloc_pages(&g->ctx, 0, ccmm_get_order(max), 0, &g->buf))
		die("no buffer");
	for (size_t i = 0; i < max; i++)
		fill[i] = (uint8_t)(i * 7 + 1);
	/* the guest writes its buffer (private: under its key), so the copies move real data */
	if (ccmm_kernel_access(&g->ctx, CCMM_WRITE, ccmm_phys_to_virt(g->buf), fill, max, &r) || r.outcome != CCMM_OK)
		die("cannot fill the buffer");
	free(fill);
}

/* Bounce round trips of @size bytes for about @seconds: MB/s, bytes counted in and out. */
static double bounce_mbps(struct guest *g, size_t size)
{
	struct ccmm_swiotlb_dev dev = { .seg_boundary_mask = UINT32_MAX };
	uint64_t bytes = 0, tlb;
	double t0 = now_s(), t;

	do {
		for (int i = 0; i < 16; i++) {
			if (ccmm_swiotlb_tbl_map_single(&g->ctx, g->mem, &dev, g->buf, size, 0, CCMM_DMA_BIDIRECTIONAL, 0, &tlb) ||
			    ccmm_swiotlb_tbl_unmap_single(&g->ctx, g->mem, &dev, tlb, size, CCMM_DMA_BIDIRECTIONAL, 0))
				die("bounce failed");
			bytes += 2 * size;
		}
		t = now_s() - t0;
	} while (t < seconds);
	return (double)bytes / t / 1e6;
}

static volatile uint8_t sink;

static double memcpy_mbps(size_t size)
{
	/* on cache-line boundaries, as the model's page bytes are (the baseline gets any gain alignment gives) */
	uint8_t *a = aligned_alloc(64, CCMM_ALIGN_UP(size, 64)), *b = aligned_alloc(64, CCMM_ALIGN_UP(size, 64));
	uint64_t bytes = 0;
	double t0 = now_s(), t;

	if (!a || !b)
		die("out of memory");
	memset(a, 1, size);
	memset(b, 2, size);
	do {
		for (int i = 0; i < 64; i++) {
			memcpy(b, a, size); /* in */
			memcpy(a, b, size); /* and out, as a bounce */
			a[i % size] ^= 1;
			bytes += 2 * size;
		}
		t = now_s() - t0;
	} while (t < seconds);
	sink = b[size - 1];
	free(a);
	free(b);
	return (double)bytes / t / 1e6;
}

/* EVP AES-128-XTS, encrypt then decrypt @size bytes in data units of @unit bytes: MB/s over both passes. */
static double xts_mbps(size_t size, size_t unit)
{
	static const uint8_t key[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
					 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32 };
	EVP_CIPHER_CTX *enc = EVP_CIPHER_CTX_new(), *dec = EVP_CIPHER_CTX_new();
	uint8_t *a = malloc(size), *b = malloc(size), iv[16] = { 0 };
	uint64_t bytes = 0;
	double t0, t;
	int outl;

	if (!enc || !dec || !a || !b || !EVP_EncryptInit_ex(enc, EVP_aes_128_xts(), NULL, key, NULL) ||
	    !EVP_DecryptInit_ex(dec, EVP_aes_128_xts(), NULL, key, NULL))
		die("EVP setup failed");
	memset(a, 3, size);
	t0 = now_s();
	do {
		for (int i = 0; i < 16; i++) {
			for (size_t off = 0; off < size; off += unit) {
				memcpy(iv, &off, sizeof(off)); /* the data unit's address as its tweak */
				if (!EVP_EncryptInit_ex(enc, NULL, NULL, NULL, iv) ||
				    !EVP_EncryptUpdate(enc, b + off, &outl, a + off, (int)unit))
					die("EVP encrypt failed");
			}
			for (size_t off = 0; off < size; off += unit) {
				memcpy(iv, &off, sizeof(off));
				if (!EVP_DecryptInit_ex(dec, NULL, NULL, NULL, iv) ||
				    !EVP_DecryptUpdate(dec, a + off, &outl, b + off, (int)unit))
					die("EVP decrypt failed");
			}
			bytes += 2 * size;
		}
		t = now_s() - t0;
	} while (t < seconds);
	sink = a[0];
	EVP_CIPHER_CTX_free(enc);
	EVP_CIPHER_CTX_free(dec);
	free(a);
	free(b);
	return (double)bytes / t / 1e6;
}

/* ccmm's engine alone: ccmm_mee_encrypt + ccmm_mee_decrypt of @size bytes, MB/s over both passes. */
static double engine_mbps(struct ccmm_machine *m, size_t size)
{
	uint8_t *a = malloc(size), *b = malloc(size);
	uint64_t bytes = 0;
	double t0, t;

	if (!a || !b)
		die("out of memory");
	memset(a, 5, size);
	t0 = now_s();
	do {
		for (int i = 0; i < 16; i++) {
			if (ccmm_mee_encrypt(m->mee, CCMM_KEYID_GUEST, 0x100000, a, b, size) ||
			    ccmm_mee_decrypt(m->mee, CCMM_KEYID_GUEST, 0x100000, b, a, size))
				die("engine failed");
			bytes += 2 * size;
		}
		t = now_s() - t0;
	} while (t < seconds);
	sink = a[0];
	free(a);
	free(b);
	return (double)bytes / t / 1e6;
}

int main(int argc, char **argv)
{
	static const size_t sizes[] = { 512, 4096, 65536, 262144 };
	struct guest eager, lazy;
	char s[32];

	if (argc > 1)
		seconds = strtod(argv[1], NULL);
	if (argc > 3) {
		struct ccmm_swiotlb_dev dev = { .seg_boundary_mask = UINT32_MAX };
		int mode = ccmm_mee_mode_parse(argv[2]);
		size_t size = strtoull(argv[3], NULL, 0);
		uint64_t tlb;

		if (mode < 0 || !size || size > 262144)
			die("usage: bench_bounce SECONDS [eager|on-demand SIZE (at most 256 KiB)]");
		guest_boot(&eager, (enum ccmm_mee_mode)mode, 262144);
		for (int i = 0; i < 16000; i++)
			if (ccmm_swiotlb_tbl_map_single(&eager.ctx, eager.mem, &dev, eager.buf, size, 0, CCMM_DMA_BIDIRECTIONAL, 0,
							&tlb) ||
			    ccmm_swiotlb_tbl_unmap_single(&eager.ctx, eager.mem, &dev, tlb, size, CCMM_DMA_BIDIRECTIONAL, 0))
				die("bounce failed");
		ccmm_shutdown(eager.m);
		return 0;
	}
	guest_boot(&eager, CCMM_MEE_EAGER, 262144);
	guest_boot(&lazy, CCMM_MEE_ON_DEMAND, 262144);
	printf("ccmm bounce path (TDX guest: private buffer <-> shared SWIOTLB pool, in and out; MB/s counts both directions)\n");
	printf("   %-7s %12s %12s | %12s %12s %12s %12s | %13s %13s\n", "size", "bounce", "bounce", "memcpy", "AES-XTS",
	       "AES-XTS", "ccmm engine", "eager /", "on-demand /");
	printf("   %-7s %12s %12s | %12s %12s %12s %12s | %13s %13s\n", "", "eager", "on-demand", "", "4K units", "64B units",
	       "64B units", "XTS 4K units", "memcpy");
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t size = sizes[i];
		double be = 0, bl = 0, mc = 0, x4k = 0, x64 = 0, en = 0;

		/* each figure the best of REPEAT, interleaved, so that a busy host slows every figure of a row alike */
		for (int r = 0; r < REPEAT; r++) {
			be = CCMM_MAX(be, bounce_mbps(&eager, size));
			bl = CCMM_MAX(bl, bounce_mbps(&lazy, size));
			mc = CCMM_MAX(mc, memcpy_mbps(size));
			x4k = CCMM_MAX(x4k, xts_mbps(size, size < 4096 ? size : 4096));
			x64 = CCMM_MAX(x64, xts_mbps(size, 64));
			en = CCMM_MAX(en, engine_mbps(eager.m, size));
		}

		printf("   %-7s %12.0f %12.0f | %12.0f %12.0f %12.0f %12.0f | %12.2fx %12.2fx\n",
		       ccmm_format_size(size, s, sizeof(s)), be, bl, mc, x4k, x64, en, be / x4k, bl / mc);
	}
	printf("   targets: eager >= 0.80x AES-XTS (4 KiB units, both passes); on-demand >= 0.50x memcpy\n");
	ccmm_shutdown(eager.m);
	ccmm_shutdown(lazy.m);
	return 0;
}
