// SPDX-License-Identifier: MIT
/* platform: the default, layout, every impossible-platform class, sparse memory, the cipher. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "boot/boot.h"
#include "sgx/sgx.h"
#include "swiotlb/swiotlb.h"
#include "platform/platform.h"

static void test_default_platform(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	int gpu;

	assert_int_equal(ccmm_platform_default(&p, &err), 0);
	assert_int_equal(p->mode, CCMM_CC_TDX);
	assert_string_equal(p->source, "built-in default");
	assert_int_equal(p->nr_nodes, 2);
	assert_int_equal(p->gpa_width, 52);
	assert_int_equal(p->phys_bits, 52);
	assert_int_equal(ccmm_platform_ram(p, 0), 32 * CCMM_GiB);
	assert_int_equal(ccmm_platform_ram(p, 1), 32 * CCMM_GiB);
	assert_int_equal(ccmm_platform_enc_mask(p), 1ULL << 51);
	assert_int_equal(p->nr_devices, 2);
	assert_int_equal(ccmm_platform_find_device(p, "virtio-blk0"), 0);
	assert_int_equal(p->devices[0].vendor, 0x1af4);
	assert_int_equal(p->devices[0].device_id, 0x1042);
	gpu = ccmm_platform_find_device(p, "gpu0");
	assert_int_equal(gpu, 1);
	assert_int_equal(p->devices[gpu].bar[0].size, 256 * CCMM_MiB);
	assert_true(p->devices[gpu].bar[0].prefetch);
	assert_int_equal(p->devices[gpu].dma_mask_bits, 44);
	/* node 0: 2 GiB below the PCI hole, 30 GiB from 4 GiB; node 1 after it */
	{
		const struct ccmm_mem_range *r = ccmm_platform_range(p, 0);

		assert_non_null(r);
		assert_int_equal(r->kind, CCMM_RANGE_RAM);
		assert_int_equal(r->size, 2 * CCMM_GiB);
		assert_null(ccmm_platform_range(p, 3 * CCMM_GiB));
		r = ccmm_platform_range(p, 4 * CCMM_GiB);
		assert_int_equal(r->node, 0);
		assert_int_equal(r->base, 4 * CCMM_GiB);
		assert_int_equal(r->size, 30 * CCMM_GiB);
		r = ccmm_platform_range(p, 34 * CCMM_GiB);
		assert_int_equal(r->node, 1);
		assert_int_equal(r->size, 32 * CCMM_GiB);
	}
	/* BARs are naturally aligned and findable by address */
	{
		uint64_t b0 = p->devices[gpu].bar[0].base;
		const struct ccmm_mem_range *r = ccmm_platform_range(p, b0 + 4096);

		assert_true(CCMM_IS_ALIGNED(b0, 256 * CCMM_MiB));
		assert_int_equal(r->kind, CCMM_RANGE_BAR);
		assert_int_equal(r->device, gpu);
		assert_string_equal(r->name, "gpu0.bar0");
	}
	/* the host's EPC beside the TD: 4 MiB on node 0, after RAM, 1 GiB aligned */
	{
		const struct ccmm_mem_range *r = ccmm_platform_range(p, 66 * CCMM_GiB);

		assert_non_null(r);
		assert_int_equal(r->kind, CCMM_RANGE_EPC);
		assert_string_equal(r->name, "epc0");
		assert_int_equal(r->base, 66 * CCMM_GiB);
		assert_int_equal(r->size, 4 * CCMM_MiB);
		assert_int_equal(r->node, 0);
		assert_null(ccmm_platform_range(p, 66 * CCMM_GiB + 4 * CCMM_MiB));
	}
	assert_int_equal(p->nr_ranges, 7); /* 3 RAM, 1 EPC, 3 BARs */
	/* ranges are sorted and disjoint */
	for (size_t i = 1; i < p->nr_ranges; i++)
		assert_true(p->ranges[i - 1].base + p->ranges[i - 1].size <= p->ranges[i].base);
	ccmm_platform_free(p);
}

static void test_shipped_default_matches(void **state)
{
	struct ccmm_platform *a, *b;
	struct ccmm_error err;

	assert_int_equal(ccmm_platform_default(&a, &err), 0);
	assert_int_equal(ccmm_platform_load(CCMM_SOURCE_DIR "/platforms/tdx-guest.ini", &b, &err), 0);
	assert_int_equal(a->nr_ranges, b->nr_ranges);
	for (size_t i = 0; i < a->nr_ranges; i++) {
		assert_int_equal(a->ranges[i].base, b->ranges[i].base);
		assert_int_equal(a->ranges[i].size, b->ranges[i].size);
	}
	ccmm_platform_free(a);
	ccmm_platform_free(b);
}

static void test_shipped_platforms_load(void **state)
{
	static const char *const files[] = { "sev-guest.ini", "snp-guest.ini", "sme-host.ini", "pseries-svm.ini",
					     "bare-metal.ini", "sgx-host.ini" };
	static const enum ccmm_cc_mode modes[] = { CCMM_CC_SEV, CCMM_CC_SEV_SNP, CCMM_CC_SME, CCMM_CC_PSERIES_SVM,
						   CCMM_CC_NONE, CCMM_CC_NONE };

	for (size_t i = 0; i < CCMM_ARRAY_SIZE(files); i++) {
		char path[512];
		struct ccmm_platform *p;
		struct ccmm_error err;
		int ret;

		snprintf(path, sizeof(path), CCMM_SOURCE_DIR "/platforms/%s", files[i]);
		ret = ccmm_platform_load(path, &p, &err);
		if (ret)
			fail_msg("%s: %s:%d: %s", files[i], err.file, err.line, err.msg);
		assert_int_equal(p->mode, modes[i]);
		ccmm_platform_free(p);
	}
}

/* Parse @text; expect failure at @line with @msg as a substring. */
static void expect_error(const char *text, int line, const char *msg)
{
	struct ccmm_platform *p = NULL;
	struct ccmm_error err;
	int ret = ccmm_platform_parse("t.ini", text, &p, &err);

	if (!ret && (ret = ccmm_costs_check(p, &err))) { /* a subsystem's cost is checked against the registry */
		ccmm_platform_free(p);
		p = NULL;
	}
	if (ret == 0)
		fail_msg("expected an error '%s' at line %d, got a platform", msg, line);
	assert_null(p);
	if (err.line != line || !strstr(err.msg, msg))
		fail_msg("expected line %d '%s', got line %d '%s'", line, msg, err.line, err.msg);
}

#define PLAT_TDX "[platform]\nmode=tdx\n[node:0]\nmem=1g\n"
#define PLAT_SEV "[platform]\nmode=sev\n[node:0]\nmem=1g\n"

static void test_bad_syntax_and_names(void **state)
{
	expect_error("[platform]\nmode=tdx\n[node:0]\nmem=1g\nsise=3\n", 5, "unknown option 'sise' in [node:0]");
	expect_error("[platform]\nmod=tdx\n", 2, "unknown option 'mod' in [platform]; did you mean 'mode'?");
	expect_error("[platform]\nmode=tdxx\n", 2, "mode: unknown value 'tdxx'; did you mean 'tdx'?");
	expect_error("[platfrom]\n", 1, "unknown section kind 'platfrom'; did you mean 'platform'?");
	expect_error("[node:0]\nmem=1g\n", 0, "no [platform] section");
	expect_error("[platform]\n[platform]\n", 2, "a second [platform] section");
	expect_error(PLAT_TDX "[device:d]\n[device:d]\n", 6, "[device:d] is declared twice (first at t.ini:5)");
	expect_error(PLAT_TDX "[device]\n", 5, "[device] needs a name");
	expect_error(PLAT_TDX "[node:x]\n", 5, "node id 'x' must be a number");
	expect_error("mode=tdx\n", 1, "'mode' is outside any section");
	expect_error(PLAT_TDX "[device:d]\npci_id=zz\n", 5, "pci_id 'zz' is not VENDOR:DEVICE");
	expect_error(PLAT_TDX "[device:d]\niommu=iommu1\n[iommu:iommu0]\n", 5,
		     "names IOMMU 'iommu1', which is not declared; did you mean 'iommu0'?");
	expect_error(PLAT_TDX "[device:d]\ndma_mask=65\n", 6, "dma_mask=65 is out of range [24, 64]");
	expect_error(PLAT_TDX "[cost]\ntlb_flsh_ns=3\n", 6, "unknown cost 'tlb_flsh_ns'; did you mean 'tlb_flush_ns'?");
	/* a subsystem's cost is found in its block, a typo gets a suggestion from every block */
	expect_error(PLAT_TDX "[cost]\ntlb_flush_ns=3\nsgx_ewb_nss=3\n", 7, "unknown cost 'sgx_ewb_nss'; did you mean 'sgx_ewb_ns'?");
	expect_error(PLAT_TDX "[cost]\nswiotlb_map_ns=x\n", 6, "cost swiotlb_map_ns: 'x' is not a number");
	expect_error("[platform]\nmode=none\n", 2, "the platform has no RAM");
}

static void test_bad_ranges(void **state)
{
	/* overlapping ranges */
	expect_error("[platform]\n[ram:a]\nbase=0\nsize=1g\n[ram:b]\nbase=512m\nsize=1g\n", 5,
		     "ram 'b' [0x20000000, 0x60000000) overlaps ram 'a' [0x0, 0x40000000) declared at t.ini:2");
	expect_error("[platform]\n[ram:a]\nbase=0\nsize=1g\n[reserved:fw]\nbase=0x1000\nsize=4k\n", 5,
		     "overlaps ram 'a'");
	/* a BAR outside the address space */
	expect_error("[platform]\nphys_bits=40\n[node:0]\nmem=1g\n[device:gpu]\nbar0=256m@0x10000000000\n", 5,
		     "BAR 'gpu.bar0' [0x10000000000, 0x10010000000) lies outside the 40-bit physical address space");
	/* BAR shape rules */
	expect_error(PLAT_TDX "[device:gpu]\nbar0=3m\n", 5, "BAR size 3m must be a power of two");
	expect_error(PLAT_TDX "[device:gpu]\nbar0=256m@0x100000000123000\n", 5, "is not aligned to its size");
	expect_error(PLAT_TDX "[device:gpu]\nbar0=16k@0x100000000 32bit\n", 5, "32-bit BAR 'gpu.bar0' at 0x100000000 is above 4 GiB");
	expect_error(PLAT_TDX "[device:gpu]\nbar0=16k shiny\n", 5, "unknown BAR flag 'shiny'");
	/* unaligned RAM */
	expect_error("[platform]\n[ram:a]\nbase=0x800\nsize=8k\n", 2, "is not 4 KiB aligned");
	/* node references */
	expect_error(PLAT_TDX "[ram:extra]\nnode=3\nsize=1g\n", 5, "[ram:extra] is on node 3, which is not declared");
	expect_error(PLAT_TDX "[node:2]\nmem=1g\n", 5, "node 2 is declared but node 1 is missing");
	expect_error(PLAT_TDX "[device:d]\nnode=1\n", 5, "device 'd' is on node 1, which is not declared");
}

static void test_bad_distances(void **state)
{
	expect_error("[platform]\n[node:0]\nmem=1g\ndistance=10,20\n[node:1]\nmem=1g\ndistance=20\n", 5,
		     "node 1's row has 1 entries but there are 2 nodes (the matrix must be square)");
	expect_error("[platform]\n[node:0]\nmem=1g\ndistance=10,20\n[node:1]\nmem=1g\ndistance=30,10\n", 2,
		     "distance matrix is not symmetric: node 0 to 1 is 20 but 1 to 0 is 30");
	expect_error("[platform]\n[node:0]\nmem=1g\ndistance=12,20\n[node:1]\nmem=1g\ndistance=20,10\n", 2,
		     "distance from node 0 to itself must be 10, not 12");
	expect_error("[platform]\n[node:0]\nmem=1g\ndistance=10,20\n[node:1]\nmem=1g\n", 5,
		     "node 1 has no distance row but other nodes do");
}

static void test_impossible_modes(void **state)
{
	expect_error("[platform]\nmode=tdx\nc_bit=47\n[node:0]\nmem=1g\n", 3, "c_bit is an AMD SME/SEV setting; mode tdx has no C-bit");
	expect_error("[platform]\nmode=sev\ngpa_width=52\n[node:0]\nmem=1g\n", 3, "gpa_width is a TDX setting");
	expect_error("[platform]\nmode=tdx\nsme_coherent=yes\n[node:0]\nmem=1g\n", 3, "sme_coherent is an AMD feature");
	expect_error("[platform]\nmode=sev\nmmio=paravirt\n[node:0]\nmem=1g\n", 3, "mmio chooses how a TDX guest reaches MMIO");
	expect_error("[platform]\nmode=tdx\ngpa_width=50\n[node:0]\nmem=1g\n", 3, "gpa_width must be 48 or 52");
	expect_error("[platform]\nmode=tdx\nphys_bits=46\n[node:0]\nmem=1g\n", 2,
		     "a TDX guest's physical address width is its GPA width (52), not 46");
	expect_error("[platform]\nmode=tdx\ngpa_width=48\n[ram:big]\nbase=0x800000000000\nsize=1g\n", 4,
		     "above the TDX shared bit (bit 47)");
	expect_error("[platform]\nmode=sev\nc_bit=40\nphys_bits=48\n[ram:big]\nbase=0x10000000000\nsize=1g\n", 5,
		     "reaches above the C-bit (bit 40)");
	expect_error(PLAT_SEV "[epc:sec0]\nsize=64m\n", 5, "EPC section 'sec0' needs an Intel SGX host (mode none, or tdx where the EPC is the host's); mode sev cannot have SGX");
	expect_error(PLAT_SEV "[iommu:tce]\nkind=pseries-tce\n", 5, "a pSeries TCE IOMMU needs a pSeries platform, not mode sev");
	expect_error("[platform]\nmode=pseries-svm\n[node:0]\nmem=1g\n[iommu:vtd]\nkind=generic\n", 5,
		     "a pSeries secure VM's IOMMU is kind pseries-tce");
}

/* ---- physical memory ------------------------------------------------ */

static struct ccmm_machine *make_machine(const char *text, uint64_t seed)
{
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	if (text)
		assert_int_equal(ccmm_platform_parse("t.ini", text, &p, &err), 0);
	else
		assert_int_equal(ccmm_platform_default(&p, &err), 0);
	assert_int_equal(ccmm_machine_create(p, seed, &m), 0);
	return m;
}

static void test_sparse_memory(void **state)
{
	struct ccmm_machine *m = make_machine(NULL, 1);
	struct ccmm_page pg;
	uint64_t bar = m->plat->devices[1].bar[0].base;
	uint8_t buf[64];

	/* 64 GiB modeled, nothing allocated until touched */
	assert_int_equal(atomic_load(&m->phys.chunks_allocated), 0);
	assert_int_equal(ccmm_phys_peek(m, 40 * CCMM_GiB, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE); /* TDX guest RAM */
	assert_int_equal(ccmm_phys_peek(m, bar, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_SHARED); /* MMIO */
	assert_int_equal(ccmm_phys_peek(m, 3 * CCMM_GiB, &pg), -EFAULT); /* the PCI hole */
	assert_int_equal(atomic_load(&m->phys.chunks_allocated), 0);

	/* a read of untouched memory is zeros and allocates nothing */
	memset(buf, 0xaa, sizeof(buf));
	assert_int_equal(ccmm_phys_rw(m, 60 * CCMM_GiB, buf, sizeof(buf), false, CCMM_KEYID_GUEST, NULL), 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(atomic_load(&m->phys.chunks_allocated), 0);

	/* a write allocates one chunk and one page of data */
	assert_int_equal(ccmm_phys_rw(m, 60 * CCMM_GiB + 100, buf, 8, true, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(atomic_load(&m->phys.chunks_allocated), 1);
	assert_int_equal(atomic_load(&m->phys.pages_with_data), 1);
	/* crossing a page is refused */
	assert_int_equal(ccmm_phys_rw(m, 60 * CCMM_GiB + 4090, buf, 8, true, CCMM_KEYID_GUEST, NULL), -EINVAL);
	/* a hole is -EFAULT */
	assert_int_equal(ccmm_phys_rw(m, 3 * CCMM_GiB, buf, 8, true, 0, NULL), -EFAULT);
	ccmm_machine_destroy(m);
}

/* What a platform costs the host before anything runs, and the limit it must stay under (half the host's RAM). */
static void test_host_limit(void **state)
{
	struct ccmm_mem_range bar = { .kind = CCMM_RANGE_BAR, .size = 64ULL << 50 };
	struct ccmm_mem_range ram = { .kind = CCMM_RANGE_RAM, .size = 64 * CCMM_GiB };
	struct ccmm_mem_range epc = { .kind = CCMM_RANGE_EPC, .size = 64 * CCMM_MiB };
	struct ccmm_platform *p = NULL;
	struct ccmm_error err;

	/* a pointer per 2 MiB; RAM adds ~2 bits a page of bitmaps; EPC a descriptor a page */
	assert_true(ccmm_platform_host_bytes(&bar) >= 256 * CCMM_GiB);
	assert_true(ccmm_platform_host_bytes(&ram) >= (64 * CCMM_GiB >> 21) * 8 + (64 * CCMM_GiB >> 12) / 4);
	assert_true(ccmm_platform_host_bytes(&epc) >= (64 * CCMM_MiB >> 12) * CCMM_EPC_PAGE_HOST_BYTES);

	assert_int_equal(setenv("CCMM_HOST_RAM", "1g", 1), 0);
	assert_int_equal(ccmm_platform_host_limit(), 512 * CCMM_MiB);
	/* 64 TiB of RAM needs 4 GiB of bitmaps and 256 MiB of chunk pointers: refused at its node's line */
	expect_error("[platform]\nphys_bits=52\n[node:0]\nmem=64t\n", 3,
		     "ram 'node0' of 64TiB cannot be modeled on this host: the platform needs 4.3GiB");
	expect_error("[platform]\nphys_bits=52\n[node:0]\nmem=64t\n", 3, "more than the limit of 512MiB");
	/* the costliest range takes the blame, here a BAR */
	expect_error("[platform]\nphys_bits=57\n[node:0]\nmem=1g\n[device:gpu]\nbar0=1p\n", 5,
		     "BAR 'gpu.bar0' of 1PiB cannot be modeled on this host");
	/* 16 GiB of EPC: 4M descriptors */
	expect_error("[platform]\n[node:0]\nmem=1g\n[epc:e]\nsize=16g\n", 4, "epc 'e' of 16GiB cannot be modeled");
	/* what fits is accepted: 1 TiB of RAM and a 1 TiB BAR cost 64 MiB */
	assert_int_equal(ccmm_platform_parse("t.ini", "[platform]\n[node:0]\nmem=1t\n[device:gpu]\nbar0=1t\n", &p, &err), 0);
	ccmm_platform_free(p);
	unsetenv("CCMM_HOST_RAM");
}

/* The pages a run touches may take at most m->phys.budget bytes; past it they are refused, and remembered. */
static void test_phys_budget(void **state)
{
	struct ccmm_machine *m = make_machine(NULL, 1);
	uint8_t buf[64] = { 1 };
	uint64_t pa = 8 * CCMM_GiB, refused;

	assert_false(ccmm_phys_exhausted(m, &refused));
	assert_int_equal(refused, UINT64_MAX);
	/* room for one chunk and two pages of data */
	m->phys.budget = sizeof(struct ccmm_chunk) + 2 * sizeof(struct ccmm_page_data);
	assert_int_equal(ccmm_phys_rw(m, pa, buf, 8, true, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(ccmm_phys_rw(m, pa + CCMM_PAGE_SIZE, buf, 8, true, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(ccmm_phys_host_bytes(m), m->phys.budget);
	assert_false(ccmm_phys_exhausted(m, NULL));
	/* a third page's data, or a second chunk, does not fit */
	assert_int_equal(ccmm_phys_rw(m, pa + 2 * CCMM_PAGE_SIZE, buf, 8, true, CCMM_KEYID_GUEST, NULL), -ENOMEM);
	assert_true(ccmm_phys_exhausted(m, &refused));
	assert_int_equal(refused, pa + 2 * CCMM_PAGE_SIZE);
	assert_null(ccmm_phys_lock(m, pa + CCMM_PMD_SIZE));
	assert_int_equal(refused, pa + 2 * CCMM_PAGE_SIZE); /* the first refusal is kept */
	/* records charged about pages count too, and are refused past the budget */
	m->phys.budget += 100;
	assert_true(ccmm_phys_charge_host(m, pa, 100));
	assert_int_equal(ccmm_phys_host_bytes(m), m->phys.budget);
	assert_false(ccmm_phys_charge_host(m, pa + CCMM_PAGE_SIZE, 1));
	assert_int_equal(ccmm_phys_host_bytes(m), m->phys.budget);
	/* what is there still reads back */
	memset(buf, 0, sizeof(buf));
	assert_int_equal(ccmm_phys_rw(m, pa, buf, 8, false, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(buf[0], 1);
	ccmm_machine_destroy(m);
}

static void test_encryption_engine(void **state)
{
	struct ccmm_machine *m = make_machine(NULL, 7);
	uint64_t pa = 8 * CCMM_GiB;
	char secret[] = "the quick brown fox jumps over the lazy dog, 0123456789abcdefghij";
	char out[sizeof(secret)];
	bool mismatch;
	struct ccmm_page *pg;

	assert_int_equal(sizeof(secret), 66);
	/* same key: the bytes come back */
	assert_int_equal(ccmm_phys_rw(m, pa + 30, secret, sizeof(secret), true, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(ccmm_phys_rw(m, pa + 30, out, sizeof(out), false, CCMM_KEYID_GUEST, &mismatch), 0);
	assert_memory_equal(out, secret, sizeof(secret));
	assert_false(mismatch);

	/* no key (a host or device read of private memory): ciphertext */
	assert_int_equal(ccmm_phys_rw(m, pa + 30, out, sizeof(out), false, CCMM_KEYID_NONE, &mismatch), 0);
	assert_true(mismatch);
	assert_memory_not_equal(out, secret, sizeof(secret));
	/* another key: also scrambled, and different from the raw bytes */
	{
		char other[sizeof(secret)];

		assert_int_equal(ccmm_phys_rw(m, pa + 30, other, sizeof(other), false, CCMM_KEYID_HOST, &mismatch), 0);
		assert_true(mismatch);
		assert_memory_not_equal(other, secret, sizeof(secret));
		assert_memory_not_equal(other, out, sizeof(out));
	}
	/* the stored bytes are AES ciphertext, tweaked by address: the same
	 * plaintext at another address encrypts differently */
	{
		char raw1[64], raw2[64], line[64];

		memset(line, 'A', sizeof(line));
		assert_int_equal(ccmm_phys_rw(m, pa + 4096, line, 64, true, CCMM_KEYID_GUEST, NULL), 0);
		assert_int_equal(ccmm_phys_rw(m, pa + 8192, line, 64, true, CCMM_KEYID_GUEST, NULL), 0);
		assert_int_equal(ccmm_phys_rw(m, pa + 4096, raw1, 64, false, CCMM_KEYID_NONE, NULL), 0);
		assert_int_equal(ccmm_phys_rw(m, pa + 8192, raw2, 64, false, CCMM_KEYID_NONE, NULL), 0);
		assert_memory_not_equal(raw1, raw2, 64);
		assert_memory_not_equal(raw1, line, 64);
	}
	/* plaintext writes are stored as they are */
	{
		char raw[8];

		assert_int_equal(ccmm_phys_rw(m, pa + 12288, "plain!!", 8, true, CCMM_KEYID_NONE, NULL), 0);
		assert_int_equal(ccmm_phys_rw(m, pa + 12288, raw, 8, false, CCMM_KEYID_NONE, &mismatch), 0);
		assert_string_equal(raw, "plain!!");
		assert_false(mismatch);
	}
	/* a partial write under another key (a host write of 2 bytes) goes
	 * through the cache line: the 16-byte AES block it hits decrypts to
	 * garbage for the owner, the other blocks of the line survive (XTS is
	 * per block, which is what makes such writes hard to notice) */
	assert_int_equal(ccmm_phys_rw(m, pa + 30, "XY", 2, true, CCMM_KEYID_NONE, NULL), 0);
	{
		char zeros[14] = { 0 };

		assert_int_equal(ccmm_phys_rw(m, pa + 16, out, 14, false, CCMM_KEYID_GUEST, &mismatch), 0);
		assert_true(mismatch);
		assert_memory_not_equal(out, zeros, 14);
		assert_int_equal(ccmm_phys_rw(m, pa + 32, out, 32, false, CCMM_KEYID_GUEST, &mismatch), 0);
		assert_memory_equal(out, secret + 2, 32);
	}
	/* discard: reads as zeros again */
	pg = ccmm_phys_lock(m, pa);
	ccmm_phys_discard(m, pa, pg);
	ccmm_phys_unlock(m, pa);
	assert_int_equal(ccmm_phys_rw(m, pa + 30, out, 8, false, CCMM_KEYID_GUEST, &mismatch), 0);
	for (int i = 0; i < 8; i++)
		assert_int_equal(out[i], 0);
	assert_false(mismatch);
	ccmm_machine_destroy(m);
}

static void test_keys_follow_seed(void **state)
{
	struct ccmm_machine *a = make_machine(NULL, 1), *b = make_machine(NULL, 1), *c = make_machine(NULL, 2);
	char line[64], ra[64], rb[64], rc[64];

	memset(line, 'z', sizeof(line));
	assert_int_equal(ccmm_phys_rw(a, 0, line, 64, true, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(ccmm_phys_rw(b, 0, line, 64, true, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(ccmm_phys_rw(c, 0, line, 64, true, CCMM_KEYID_GUEST, NULL), 0);
	assert_int_equal(ccmm_phys_rw(a, 0, ra, 64, false, CCMM_KEYID_NONE, NULL), 0);
	assert_int_equal(ccmm_phys_rw(b, 0, rb, 64, false, CCMM_KEYID_NONE, NULL), 0);
	assert_int_equal(ccmm_phys_rw(c, 0, rc, 64, false, CCMM_KEYID_NONE, NULL), 0);
	assert_memory_equal(ra, rb, 64);     /* reproducible for a seed */
	assert_memory_not_equal(ra, rc, 64); /* another seed, other keys */
	ccmm_machine_destroy(a);
	ccmm_machine_destroy(b);
	ccmm_machine_destroy(c);
}

static void test_state_counts(void **state)
{
	struct ccmm_machine *m = make_machine(NULL, 1);
	uint64_t pa = 6 * CCMM_GiB + 5 * CCMM_PAGE_SIZE;
	struct ccmm_page *pg = ccmm_phys_lock(m, pa);
	struct ccmm_chunk *c = ccmm_phys_chunk(m, pa, false);

	assert_non_null(pg);
	assert_int_equal(c->nr_private, 512); /* a fresh TDX chunk is all private */
	ccmm_page_set_state(m, pa, pg, CCMM_PS_SHARED, 0);
	assert_int_equal(c->nr_private, 511);
	ccmm_page_set_state(m, pa, pg, CCMM_PS_PENDING, 1);
	assert_int_equal(c->nr_private, 512);
	ccmm_phys_unlock(m, pa);
	ccmm_machine_destroy(m);
}

static void test_contexts_and_costs(void **state)
{
	struct ccmm_machine *m = make_machine("[platform]\n[node:0]\nmem=1g\n[cost]\ntlb_flush_ns=7\ncopy_mbps=1000\n", 1);
	struct ccmm_ctx a, b;

	ccmm_ctx_init(&a, m, 0, "a");
	ccmm_charge(&a, CCMM_COST_tlb_flush_ns, 3);
	assert_int_equal(a.now_ns, 21);
	ccmm_charge_copy(&a, 4096); /* 4096 B at 1000 MB/s = 4096 ns */
	assert_int_equal(a.now_ns, 21 + 4096);
	ccmm_count(&a, CCMM_CTR_accesses, 2);
	ccmm_ctx_init(&b, m, 1, "b");
	ccmm_ctx_accumulate(&b, &a);
	assert_int_equal(b.ctr[CCMM_CTR_accesses], 2);
	assert_int_equal(b.cost_ns[CCMM_COST_tlb_flush_ns], 21);
	assert_int_equal(b.now_ns, 0); /* clocks are not summed */
	/* the cost table carries a source for every entry */
	for (unsigned i = 0; i < ccmm_cost_nr(); i++)
		assert_true(strlen(ccmm_cost_at(i, NULL)->source) > 10);
	ccmm_machine_destroy(m);
}

/*
 * Costs and counters declared by subsystems (cost blocks): laid out after the
 * machine's own, named in reports through the registry, set by a platform's
 * [cost] line like the machine's own, charged through CCMM_COST_AT.
 */
static void test_subsystem_cost_blocks(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;
	struct ccmm_ctx ctx;
	const char *sub = NULL;
	unsigned ewb = CCMM_COST_AT(sgx, sgx_ewb_ns), bounced = CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes);

	(void)state;
	assert_int_equal(ccmm_platform_parse("t.ini", PLAT_TDX "[cost]\nsgx_ewb_ns=12345\ntlb_flush_ns=7\n", &p, &err), 0);
	assert_int_equal(ccmm_boot(p, 1, &m), 0);
	assert_true(ewb >= CCMM_COST_NR && ewb < ccmm_cost_nr());
	assert_string_equal(ccmm_cost_at(ewb, &sub)->name, "sgx_ewb_ns");
	assert_string_equal(sub, "sgx");
	assert_string_equal(ccmm_counter_at(bounced, &sub)->name, "swiotlb_bounce_bytes");
	assert_string_equal(sub, "swiotlb");
	assert_null(ccmm_cost_at(ccmm_cost_nr(), NULL));
	assert_int_equal(m->cost[ewb], 12345);
	assert_int_equal(m->cost[CCMM_COST_tlb_flush_ns], 7);
	assert_int_equal(m->cost[CCMM_COST_AT(sgx, sgx_eldu_ns)], 6000); /* the default */
	ccmm_ctx_init(&ctx, m, 0, "t");
	ccmm_charge(&ctx, ewb, 2);
	assert_int_equal(ctx.now_ns, 2 * 12345);
	assert_int_equal(ctx.cost_n[ewb], 2);
	ccmm_shutdown(m);
	/* a platform the registry refuses does not boot */
	assert_int_equal(ccmm_platform_parse("t.ini", PLAT_TDX "[cost]\nnot_a_cost=1\n", &p, &err), 0);
	assert_int_equal(ccmm_boot(p, 1, &m), -EINVAL);
}

static void test_host_platform(void **state)
{
	struct ccmm_platform *p;
	struct ccmm_error err;
	int ret = ccmm_platform_host(&p, &err);

	if (ret == -ENOTSUP)
		skip();
	if (ret)
		fail_msg("host: %s", err.msg);
	assert_int_equal(p->mode, CCMM_CC_NONE);
	assert_true(p->nr_nodes >= 1);
	assert_true(ccmm_platform_ram(p, -1) > 0);
	ccmm_platform_free(p);
}

/*
 * The keys of a recorded machine (scripts/record-kernel.sh): the pool's
 * base, size, areas and forced bouncing, a device's min_align_mask; and
 * their errors at the line that set them.
 */
static void test_recorded_machine_keys(void **state)
{
	static const char text[] = "[platform]\ncpus=4\nswiotlb_force=yes\nswiotlb_size=67108864\n"
				   "swiotlb_base=0x19dc0000\nswiotlb_areas=4\n"
				   "[node:0]\ncpus=yes\n[ram:node0-1000]\nnode=0\nbase=0x1000\nsize=0x9e000\n"
				   "[ram:node0-100000]\nnode=0\nbase=0x100000\nsize=0x1fed9000\n"
				   "[device:0000:00:02.0]\nclass=nvme\npci_id=1b36:0010\nmin_align_mask=0xfff\n";
	struct ccmm_platform *p;
	struct ccmm_error err;
	int d;

	(void)state;
	if (ccmm_platform_parse("rec.ini", text, &p, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_true(p->swiotlb_force);
	assert_int_equal(p->swiotlb_base, 0x19dc0000);
	assert_int_equal(p->swiotlb_size, 64 << 20);
	assert_int_equal(p->swiotlb_areas, 4);
	d = ccmm_platform_find_device(p, "0000:00:02.0");
	assert_true(d >= 0);
	assert_int_equal(p->devices[d].min_align_mask, 0xfff);
	assert_int_equal(p->devices[d].cls, CCMM_DEV_NVME);
	ccmm_platform_free(p);
	/* defaults: placed by the model, not forced, no mask */
	if (ccmm_platform_parse("t.ini", PLAT_TDX "[device:d]\n", &p, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_false(p->swiotlb_force);
	assert_int_equal(p->swiotlb_base, 0);
	assert_int_equal(p->devices[0].min_align_mask, 0);
	ccmm_platform_free(p);

	expect_error("[platform]\nswiotlb_base=0x1000000\n[node:0]\nmem=1g\n", 2, "swiotlb_base needs swiotlb_size");
	expect_error("[platform]\nswiotlb_size=4m\nswiotlb_base=0x1000800\n[node:0]\nmem=1g\n", 3,
		     "swiotlb_base 0x1000800 is not page aligned");
	expect_error("[platform]\nswiotlb_size=4m\nswiotlb_base=0x3fe00000\n[node:0]\nmem=1g\n", 3,
		     "the SWIOTLB pool [0x3fe00000, 0x40200000) does not lie in one RAM range");
	expect_error("[platform]\nswiotlb_force=maybe\n[node:0]\nmem=1g\n", 2, "swiotlb_force");
	expect_error(PLAT_TDX "[device:d]\nmin_align_mask=0x1000\n", 5, "min_align_mask 0x1000 is not 2^n - 1");
	expect_error(PLAT_TDX "[device:d]\nmin_align_mask=0x80000000\n", 6, "min_align_mask");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_platform),
		cmocka_unit_test(test_shipped_default_matches),
		cmocka_unit_test(test_shipped_platforms_load),
		cmocka_unit_test(test_bad_syntax_and_names),
		cmocka_unit_test(test_bad_ranges),
		cmocka_unit_test(test_bad_distances),
		cmocka_unit_test(test_impossible_modes),
		cmocka_unit_test(test_sparse_memory),
		cmocka_unit_test(test_host_limit),
		cmocka_unit_test(test_phys_budget),
		cmocka_unit_test(test_encryption_engine),
		cmocka_unit_test(test_keys_follow_seed),
		cmocka_unit_test(test_state_counts),
		cmocka_unit_test(test_contexts_and_costs),
		cmocka_unit_test(test_subsystem_cost_blocks),
		cmocka_unit_test(test_host_platform),
		cmocka_unit_test(test_recorded_machine_keys),
	};

	return cmocka_run_group_tests_name("platform", tests, NULL, NULL);
}
