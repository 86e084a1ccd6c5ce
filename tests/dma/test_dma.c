// SPDX-License-Identifier: MIT
/*
 * The DMA API's direct path and coherent memory: masks and dma_supported,
 * force_dma_unencrypted and phys_to_dma per mode, streaming mappings that
 * bounce (forced in a guest, beyond the mask on a host) with real bytes,
 * pool-full and mask failures counted by reason, sg and physical-range
 * lists, coherent allocations (converted per allocation and back at free,
 * atomic ones from the atomic pools), the TDX allow-list and the two MMIO
 * modes.
 */
#include "helpers.h"

#include "dma/dma.h"

static struct ccmm_machine *boot_text(const char *text)
{
	struct ccmm_platform *p;
	struct ccmm_machine *m;
	struct ccmm_error err;

	if (ccmm_platform_parse("t.ini", text, &p, &err))
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	if (ccmm_boot(p, 7, &m))
		fail_msg("boot");
	return m;
}

struct fx {
	struct ccmm_machine *m;
	struct ccmm_ctx ctx;
	struct ccmm_dma_dev *blk, *nic;
};

static void fx_init(struct fx *f, struct ccmm_machine *m)
{
	f->m = m;
	ccmm_ctx_init(&f->ctx, m, 0, "drv");
	f->blk = ccmm_dma_dev(m, 0);
	f->nic = ccmm_dma_dev(m, 1);
}

/* SME with the C-bit at 47: a GPU (blk) that reaches it and a 32-bit NIC. */
#define SME_PLATFORM                                                            \
	"[platform]\nmode=sme\nc_bit=47\nphys_bits=47\ncpus=2\n[node:0]\nmem=1g\n" \
	"[device:gpu]\ndma_mask=48\n[device:nic]\ndma_mask=32\n"

/* A pSeries secure guest whose PHB has a 1 GiB 32-bit window and a DDW; blk behind it (a device may follow). */
#define PSERIES_DDW_PLATFORM                                                                 \
	"[platform]\nmode=pseries-svm\ncpus=2\n[node:0]\nmem=1g\n"                             \
	"[iommu:phb0]\nkind=pseries-tce\npage_shift=12\ndma32_window=1g\nddw=yes\n"            \
	"ddw_page_shift=16\nddw_align=256m\n"                                                  \
	"[device:blk]\nclass=virtio-blk\npci_id=1af4:1042\niommu=phb0\nbar0=16k\n"

/* The SME machine with both devices probed and the GPU's masks set to 48 bits (past the C-bit). */
static void fx_sme(struct fx *f)
{
	fx_init(f, boot_text(SME_PLATFORM));
	ccmm_dma_probe(&f->ctx, f->blk, NULL);
	ccmm_dma_probe(&f->ctx, f->nic, NULL);
	ccmm_dma_set_mask_and_coherent(&f->ctx, f->blk, 48);
}

static void kw(struct fx *f, uint64_t pa, const void *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_WRITE, ccmm_phys_to_virt(pa), (void *)data, len, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
}

static void kr(struct fx *f, uint64_t pa, void *data, size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_kernel_access(&f->ctx, CCMM_READ, ccmm_phys_to_virt(pa), data, len, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
}

static enum ccmm_outcome dev_rw(struct fx *f, struct ccmm_dma_dev *d, enum ccmm_rw rw, uint64_t dma, void *buf,
				size_t len)
{
	struct ccmm_result r;

	assert_int_equal(ccmm_dma_device_access(&f->ctx, d, rw, dma, buf, len, &r), 0);
	return r.outcome;
}

static uint64_t page(struct fx *f, unsigned order)
{
	uint64_t pa;

	assert_int_equal(ccmm_alloc_pages(&f->ctx, 0, order, 0, &pa), 0);
	return pa;
}

/* Masks: the PCI default, dma_supported, bad values, unbound devices. */
static void test_masks(void **state)
{
	struct fx f;

	fx_init(&f, test_boot("mode=tdx"));
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 64), -ENODEV);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), 0);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), -EBUSY);
	assert_int_equal(f.blk->path, CCMM_DMA_PATH_DIRECT);
	assert_int_equal(f.blk->dma_mask, CCMM_DMA_BIT_MASK(32));
	assert_int_equal(f.blk->coherent_dma_mask, CCMM_DMA_BIT_MASK(32));
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64), 0);
	assert_int_equal(f.blk->dma_mask, UINT64_MAX);
	assert_int_equal(ccmm_dma_set_coherent_mask(&f.ctx, f.blk, 40), 0);
	assert_int_equal(f.blk->coherent_dma_mask, CCMM_DMA_BIT_MASK(40));
	assert_int_equal(f.blk->dma_mask, UINT64_MAX);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 20), -EIO); /* below ZONE_DMA */
	assert_int_equal(f.blk->dma_mask, UINT64_MAX);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 24), 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 64), 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 0), -EINVAL);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 65), -EINVAL);
	assert_int_equal(ccmm_dma_remove(&f.ctx, f.blk), 0);
	assert_int_equal(ccmm_dma_remove(&f.ctx, f.blk), -ENODEV);
	ccmm_shutdown(f.m);
	/* dma_direct_supported on a machine with less RAM than ZONE_DMA: a mask reaching all of it will do */
	fx_init(&f, boot_text("[platform]\nmode=none\ncpus=1\n[node:0]\nmem=4m\n[device:blk]\ndma_mask=64\n"));
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 22), 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 21), -EIO);
	ccmm_shutdown(f.m);
}

/* force_dma_unencrypted and phys_to_dma per mode; SME depends on the coherent mask and the C-bit. */
static void test_force_unencrypted(void **state)
{
	struct fx f;
	struct ccmm_machine *m;

	fx_init(&f, test_boot("mode=tdx"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	assert_true(ccmm_force_dma_unencrypted(f.blk));
	/* TDX: the shared bit is not part of a DMA address */
	assert_int_equal(ccmm_phys_to_dma(f.blk, 0x123000), 0x123000);
	assert_int_equal(ccmm_phys_to_dma_unencrypted(f.blk, 0x123000), 0x123000);
	ccmm_shutdown(f.m);

	fx_init(&f, test_boot("mode=none"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	assert_false(ccmm_force_dma_unencrypted(f.blk));
	ccmm_shutdown(f.m);

	m = boot_text(SME_PLATFORM);
	fx_init(&f, m);
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	ccmm_dma_probe(&f.ctx, f.nic, NULL);
	assert_true(ccmm_force_dma_unencrypted(f.blk)); /* 32-bit coherent mask by default */
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 48), 0);
	assert_false(ccmm_force_dma_unencrypted(f.blk)); /* reaches above bit 47 */
	assert_int_equal(ccmm_dma_set_coherent_mask(&f.ctx, f.blk, 47), 0);
	assert_true(ccmm_force_dma_unencrypted(f.blk)); /* DMA_BIT_MASK(47) does not include the C-bit */
	assert_int_equal(ccmm_phys_to_dma(f.blk, 0x1000), 0x1000 | (1ULL << 47));
	assert_int_equal(ccmm_phys_to_dma_unencrypted(f.blk, 0x1000), 0x1000);
	ccmm_shutdown(m);
}

/*
 * A TDX guest: every streaming mapping bounces; the DMA address is the
 * plain GPA of the bounce buffer; the device sees the CPU's bytes.
 */
static void test_tdx_streaming(void **state)
{
	struct fx f;
	struct ccmm_io_tlb_mem *mem;
	uint64_t buf, dma;
	char got[32];

	fx_init(&f, test_boot("mode=tdx\nswiotlb_size=1m"));
	mem = ccmm_swiotlb_default(f.m);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64), 0);
	buf = page(&f, 1);
	kw(&f, buf + 100, "to the device, through SWIOTLB!", 32);
	assert_int_equal(ccmm_dma_map_single(&f.ctx, f.blk, ccmm_phys_to_virt(buf + 100), 32, CCMM_DMA_TO_DEVICE, 0, &dma),
			 0);
	assert_int_equal(ccmm_dma_mapping_error(f.blk, dma), 0);
	assert_true(dma >= mem->start && dma < mem->end);
	assert_int_equal(dma & f.m->enc_mask, 0);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_READ, dma, got, 32), CCMM_OK);
	assert_memory_equal(got, "to the device, through SWIOTLB!", 32);
	assert_int_equal(ccmm_dma_unmap_single(&f.ctx, f.blk, dma, 32, CCMM_DMA_TO_DEVICE, 0), 0);

	/* FROM_DEVICE: the device's bytes reach the private buffer at unmap */
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf + 4096, 16, CCMM_DMA_FROM_DEVICE, 0, &dma), 0);
	assert_int_equal(ccmm_dma_mapping_error(f.blk, dma), 0);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_WRITE, dma, "from the device", 16), CCMM_OK);
	assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 16, CCMM_DMA_FROM_DEVICE, 0), 0);
	kr(&f, buf + 4096, got, 16);
	assert_memory_equal(got, "from the device", 16);

	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, dma_maps)], 2);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, dma_unmaps)], 2);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_maps)], 2);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_bounce_bytes)], 32 + 16 + 16);
	assert_int_equal(ccmm_dma_live(f.blk), 0);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);
}

/*
 * A host with RAM above 4 GiB: no forced bouncing; only a buffer beyond a
 * device's mask bounces (into the low pool), and a mask that cannot reach
 * the pool either fails with reason "mask".
 */
static void test_host_mask_bounce(void **state)
{
	struct fx f;
	struct ccmm_io_tlb_mem *mem;
	uint64_t high, dma;
	char got[8];

	fx_init(&f, boot_text("[platform]\nmode=none\ncpus=2\nswiotlb_size=1m\n[node:0]\nmem=6g\n"
			      "[device:blk]\nclass=virtio-blk\npci_id=1af4:1042\n[device:nic]\ndma_mask=32\n"));
	mem = ccmm_swiotlb_default(f.m);
	assert_non_null(mem);
	assert_false(mem->force_bounce);
	assert_true(mem->end <= 4 * CCMM_GiB);
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	ccmm_dma_probe(&f.ctx, f.nic, NULL);
	ccmm_dma_set_mask(&f.ctx, f.blk, 64);
	/* a buffer above 4 GiB */
	assert_int_equal(ccmm_memblock_alloc(f.m, CCMM_PAGE_SIZE, CCMM_PAGE_SIZE, 0, true, &high), 0);
	assert_true(high >= 4 * CCMM_GiB);
	kw(&f, high, "highmem!", 8);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, high, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(dma, high); /* 64-bit: no bounce */
	ccmm_dma_mapping_error(f.blk, dma);
	assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 8, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, high, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_true(dma >= mem->start && dma < mem->end); /* 32-bit: bounced low */
	assert_int_equal(dev_rw(&f, f.nic, CCMM_READ, dma, got, 8), CCMM_OK);
	assert_memory_equal(got, "highmem!", 8);
	ccmm_dma_mapping_error(f.nic, dma);
	assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.nic, dma, 8, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_maps)], 1);
	/* a 30-bit mask cannot reach the pool just below 2 GiB: "mask" */
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.nic, 30), 0);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, high, 8, CCMM_DMA_TO_DEVICE, 0, &dma), -EIO);
	assert_int_equal(dma, CCMM_DMA_MAPPING_ERROR);
	assert_int_equal(ccmm_dma_mapping_error(f.nic, dma), -ENOMEM);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, dma_map_fail_mask)], 1);
	assert_int_equal(f.nic->fail[CCMM_DMA_FAIL_MASK], 1);
	{
		struct ccmm_swiotlb_stats s;

		ccmm_swiotlb_stats(mem, &s);
		assert_int_equal(s.io_tlb_used, 0); /* the failed bounce gave its slots back */
	}
	ccmm_shutdown(f.m);
}

/* SME: a device that reaches the C-bit DMAs to encrypted memory directly; a 32-bit one bounces. */
static void test_sme_streaming(void **state)
{
	struct fx f;
	uint64_t buf, dma;
	char got[8];

	fx_sme(&f);
	buf = page(&f, 0);
	kw(&f, buf, "C-bit ok", 8);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(dma, buf | (1ULL << 47));
	assert_int_equal(dev_rw(&f, f.blk, CCMM_READ, dma, got, 8), CCMM_OK);
	assert_memory_equal(got, "C-bit ok", 8);
	ccmm_dma_mapping_error(f.blk, dma);
	ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 8, CCMM_DMA_TO_DEVICE, 0);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, buf, 8, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(dma & (1ULL << 47), 0);
	assert_true(ccmm_is_swiotlb_buffer(ccmm_swiotlb_default(f.m), dma));
	assert_int_equal(dev_rw(&f, f.nic, CCMM_READ, dma, got, 8), CCMM_OK);
	assert_memory_equal(got, "C-bit ok", 8);
	ccmm_dma_mapping_error(f.nic, dma);
	ccmm_dma_unmap_page(&f.ctx, f.nic, dma, 8, CCMM_DMA_TO_DEVICE, 0);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);
}

/* Pool full is -ENOMEM to the caller, counted on the context, the device and the machine. */
static void test_pool_full(void **state)
{
	struct fx f;
	uint64_t buf, dma[3];
	struct ccmm_dma *dm;

	fx_init(&f, test_boot("mode=tdx\nswiotlb_size=256k\nswiotlb_areas=1"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	buf = page(&f, 7);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf, 256 * 1024, CCMM_DMA_TO_DEVICE, 0, &dma[0]), 0);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf, 256 * 1024, CCMM_DMA_TO_DEVICE, 0, &dma[1]), -ENOMEM);
	assert_int_equal(ccmm_dma_mapping_error(f.blk, dma[1]), -ENOMEM);
	/* larger than SWIOTLB can ever bounce: "other", -EINVAL */
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf, 256 * 1024 + 1, CCMM_DMA_TO_DEVICE, 0, &dma[2]), -EINVAL);
	assert_int_equal(ccmm_dma_max_mapping_size(f.blk), 256 * 1024);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(swiotlb, dma_map_fail_pool_full)], 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, dma_map_fail_other)], 1);
	assert_int_equal(f.blk->fail[CCMM_DMA_FAIL_POOL_FULL], 1);
	dm = ccmm_subsys_data(f.m, &ccmm_subsys_dma);
	assert_int_equal(atomic_load(&dm->fail[CCMM_DMA_FAIL_POOL_FULL]), 1);
	ccmm_dma_mapping_error(f.blk, dma[0]);
	assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.blk, dma[0], 256 * 1024, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf, 256 * 1024, CCMM_DMA_TO_DEVICE, 0, &dma[1]), 0);
	/* the sg API: dma_direct_map_sg answers a page that did not map with -EIO, all or nothing */
	{
		struct ccmm_sg_table t;

		assert_int_equal(ccmm_sg_alloc_table_from_pages(&t, &buf, 1, 0, 4096, 0), 0);
		assert_int_equal(ccmm_dma_map_sg(&f.ctx, f.blk, &t, CCMM_DMA_TO_DEVICE, 0), -EIO);
		assert_int_equal(t.nents, 0);
		ccmm_sg_free_table(&t);
	}
	ccmm_dma_mapping_error(f.blk, dma[1]);
	ccmm_dma_unmap_page(&f.ctx, f.blk, dma[1], 256 * 1024, CCMM_DMA_TO_DEVICE, 0);
	assert_int_equal(ccmm_dma_live(f.blk), 0);
	ccmm_shutdown(f.m);
}

/* Scatterlists entry by entry; physical-range lists with P2P and private-interconnect groups. */
static void test_sg_and_phyr(void **state)
{
	struct fx f;
	struct ccmm_sg_table t;
	uint64_t pas[3], buf;
	struct ccmm_phyr p;
	struct ccmm_phyr_meta ram = { .provider = -1, .cache = CCMM_CACHE_WB, .cpu_mappable = true };
	struct ccmm_phyr_meta bar = { .provider = 1, .p2p = true, .cache = CCMM_CACHE_WC };
	struct ccmm_phyr_meta priv = { .provider = 1, .private_interconnect = true };
	struct ccmm_dma_phyr_map map;
	char got[4];

	fx_init(&f, test_boot("mode=tdx\nswiotlb_size=2m"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	for (int i = 0; i < 3; i++) {
		pas[i] = page(&f, 0);
		kw(&f, pas[i], i == 0 ? "sg0" : i == 1 ? "sg1" : "sg2", 4);
	}
	assert_int_equal(ccmm_sg_alloc_table_from_pages(&t, pas, 3, 0, 3 * CCMM_PAGE_SIZE, 0) , 0);
	assert_int_equal(ccmm_dma_map_sg(&f.ctx, f.blk, &t, CCMM_DMA_TO_DEVICE, 0), (int)t.orig_nents);
	for (unsigned i = 0; i < t.nents; i++) {
		assert_true(t.sgl[i].dma_flags & CCMM_SG_DMA_SWIOTLB);
		assert_int_equal(t.sgl[i].dma_length, t.sgl[i].length);
	}
	assert_int_equal(dev_rw(&f, f.blk, CCMM_READ, t.sgl[t.nents - 1].dma_address + t.sgl[t.nents - 1].length - 4096,
				got, 4),
			 CCMM_OK);
	assert_memory_equal(got, "sg2", 4);
	assert_int_equal(ccmm_dma_unmap_sg(&f.ctx, f.blk, &t, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_live(f.blk), 0);
	ccmm_sg_free_table(&t);

	/* a 600 KiB RAM range must bounce: cut at 256 KiB into three DMA ranges */
	buf = page(&f, 8);
	ccmm_phyr_init(&p);
	assert_int_equal(ccmm_phyr_append(&p, &ram, buf, 600 * 1024), 0);
	assert_int_equal(ccmm_dma_map_phyr(&f.ctx, f.blk, &p, CCMM_DMA_BIDIRECTIONAL, 0, &map), 0);
	assert_int_equal(map.nr, 3);
	assert_int_equal(map.r[0].len, 256 * 1024);
	assert_int_equal(map.r[2].len, 88 * 1024);
	assert_true(map.r[1].flags & CCMM_SG_DMA_SWIOTLB);
	assert_int_equal(ccmm_dma_unmap_phyr(&f.ctx, f.blk, &map, 0), 0);
	/* the NIC's BAR is outside the disk's P2P reach (no common group): refused, all or nothing */
	assert_int_equal(ccmm_phyr_append(&p, &bar, f.m->plat->devices[1].bar[0].base, 4096), 0);
	assert_int_equal(ccmm_dma_map_phyr(&f.ctx, f.blk, &p, CCMM_DMA_BIDIRECTIONAL, 0, &map), -EREMOTEIO);
	assert_int_equal(ccmm_dma_live(f.blk), 0);
	ccmm_phyr_free(&p);
	ccmm_shutdown(f.m);

	/* a private interconnect is refused */
	fx_init(&f, test_boot("mode=none"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	ccmm_phyr_init(&p);
	assert_int_equal(ccmm_phyr_append(&p, &ram, page(&f, 0), 4096), 0);
	assert_int_equal(ccmm_phyr_append(&p, &priv, 0x1000000, 4096), 0);
	assert_int_equal(ccmm_dma_map_phyr(&f.ctx, f.blk, &p, CCMM_DMA_TO_DEVICE, 0, &map), -EOPNOTSUPP);
	assert_int_equal(ccmm_dma_live(f.blk), 0);
	ccmm_phyr_free(&p);
	ccmm_shutdown(f.m);
}

/*
 * Coherent memory in a TDX guest, as dma_direct_alloc and dma_direct_free
 * (kernel/dma/direct.c) make it: every allocation converts its pages to
 * shared (PFN_UP(size) of them: dma_set_decrypted), zeroed, the CPU's
 * mapping shared; every free converts them back before the page allocator
 * gets them (dma_set_encrypted), so freed memory never stays shared and the
 * next allocation pays the conversion again. Regression: ccmm kept freed
 * blocks shared in a 16 MiB pool of its own, which no kernel has.
 */
static void test_dma_direct_alloc_free(void **state)
{
	struct fx f;
	uint64_t dma, va, dma2, va2, t0, first_ns, second_ns;
	struct ccmm_walk w;
	struct ccmm_page pg;
	struct ccmm_dma_pool_stats ps;
	char got[8];

	fx_init(&f, test_boot("mode=tdx"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	t0 = f.ctx.now_ns;
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.blk, 8192, &dma, &va), 0);
	first_ns = f.ctx.now_ns - t0;
	assert_int_equal(dma, ccmm_virt_to_phys(va)); /* plain GPA */
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_pages_converted)], 2);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_shared], 2);
	assert_int_equal(ccmm_phys_peek(f.m, dma, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_SHARED);
	assert_int_equal(ccmm_pgt_walk(f.m->direct_map, va, &w), 0);
	assert_false(ccmm_pte_is_private(f.m, w.pte)); /* the CPU mapping carries the shared bit */
	/* device and CPU share it without syncs */
	assert_int_equal(dev_rw(&f, f.blk, CCMM_WRITE, dma + 8000, "coherent", 8), CCMM_OK);
	kr(&f, dma + 8000, got, 8);
	assert_memory_equal(got, "coherent", 8);
	/* the free makes both pages private again before they are freed */
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 8192, va, dma), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_private], 2);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_pages_reencrypted)], 2);
	assert_int_equal(ccmm_phys_peek(f.m, dma, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);
	assert_int_equal(ccmm_phys_peek(f.m, dma + 4096, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);

	/* the next allocation converts again, and costs as much */
	t0 = f.ctx.now_ns;
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.blk, 5000, &dma2, &va2), 0);
	second_ns = f.ctx.now_ns - t0;
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_shared], 4);
	assert_true(second_ns * 2 > first_ns);
	kr(&f, dma2, got, 8);
	assert_memory_equal(got, "\0\0\0\0\0\0\0\0", 8); /* zeroed */
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 5000, va2, dma2), 0);

	/* 12 KiB: an order-2 block, of which PFN_UP(size) = 3 pages are decrypted and re-encrypted */
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.blk, 12288, &dma, &va), 0);
	assert_int_equal(ccmm_phys_peek(f.m, dma + 8192, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_SHARED);
	assert_int_equal(ccmm_phys_peek(f.m, dma + 12288, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 12288, va, dma), 0);
	assert_int_equal(ccmm_phys_peek(f.m, dma + 8192, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.converted_pages, 2 + 2 + 3);
	assert_int_equal(ps.reencrypted_pages, 2 + 2 + 3);
	assert_int_equal(ps.leaked_pages, 0);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);
}

/*
 * dma_direct_free when the secure world refuses to take the pages back
 * (dma_set_encrypted fails): "leaking DMA memory that can't be
 * re-encrypted" -- the pages are neither freed nor left usable as private.
 */
static void test_dma_direct_free_leaks_on_refusal(void **state)
{
	struct fx f;
	uint64_t dma, va, free_before;
	struct ccmm_page pg;
	struct ccmm_dma_pool_stats ps;

	fx_init(&f, test_boot("mode=tdx"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.blk, 8192, &dma, &va), 0);
	free_before = ccmm_node_free_pages(f.m, 0);
	ccmm_cc_fail_after(f.m, 0);
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 8192, va, dma), 0);
	ccmm_cc_fail_after(f.m, -1);
	assert_int_equal(ccmm_node_free_pages(f.m, 0), free_before); /* not given back */
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_pages_leaked)], 2);
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.leaked_pages, 2);
	assert_int_equal(ps.reencrypted_pages, 0);
	assert_int_equal(ccmm_phys_peek(f.m, dma, &pg), 0);
	assert_int_equal(ccmm_dma_live(f.blk), 0);
	ccmm_shutdown(f.m);
}

/*
 * The atomic pools of kernel/dma/pool.c: made with the first driver, one
 * per zone, each 128 KiB per GiB of RAM (at least 128 KiB), decrypted once;
 * an allocation that may not block comes from the pool of its mask's zone
 * with no conversion, zeroed; the pool's worker grows a pool that drops
 * below its initial size by its size (atomic_pool_resize); a free gives the
 * block back to its pool, still shared (the pools never shrink).
 */
static void test_atomic_pools(void **state)
{
	struct fx f;
	struct ccmm_dma_pool_stats ps;
	struct ccmm_page pg;
	uint64_t dma, va, dma2, va2;
	char got[8];

	fx_init(&f, test_boot("mode=tdx"));
	ccmm_dma_pool_stats(f.m, &ps);
	assert_false(ps.made); /* no driver yet */
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	ccmm_dma_pool_stats(f.m, &ps);
	assert_true(ps.made);
	assert_int_equal(ps.atomic_pool_size, 128 * 1024); /* 1 GiB of RAM: the 128 KiB minimum */
	assert_int_equal(ps.size[CCMM_DMA_POOL_KERNEL], 128 * 1024);
	assert_int_equal(ps.size[CCMM_DMA_POOL_DMA32], 128 * 1024);
	assert_int_equal(ps.size[CCMM_DMA_POOL_DMA], 128 * 1024); /* RAM below 16 MiB: has_managed_dma() */
	assert_int_equal(ps.pool_decrypted_pages, 3 * 32);
	assert_true(ps.pool_share_ns > 0); /* on the pools' own clock */
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_shared], 0);

	/* the 32-bit coherent mask of a fresh probe: ZONE_DMA32's pool; no conversion for the caller */
	assert_int_equal(ccmm_dma_alloc_attrs(&f.ctx, f.blk, 4096, CCMM_DMA_GFP_ATOMIC, &dma, &va), 0);
	assert_true(dma + 4095 <= CCMM_DMA_BIT_MASK(32));
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_shared], 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_atomic_allocs)], 1);
	assert_int_equal(ccmm_phys_peek(f.m, dma, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_SHARED);
	kr(&f, dma, got, 8);
	assert_memory_equal(got, "\0\0\0\0\0\0\0\0", 8);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_WRITE, dma, "atomic!", 8), CCMM_OK);
	/* it left the pool below 128 KiB free: the worker doubled it */
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.size[CCMM_DMA_POOL_DMA32], 256 * 1024);
	assert_int_equal(ps.avail[CCMM_DMA_POOL_DMA32], 256 * 1024 - 4096);
	assert_int_equal(ps.expansions, 1);
	/* freed back into the pool: still shared, nothing converted */
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 4096, va, dma), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_private], 0);
	assert_int_equal(ccmm_phys_peek(f.m, dma, &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_SHARED);
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.avail[CCMM_DMA_POOL_DMA32], 256 * 1024);

	/* a 64-bit mask: the kernel pool; 3 pages come aligned to 4 (gen_pool_first_fit_order_align) */
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64), 0);
	assert_int_equal(ccmm_dma_alloc_attrs(&f.ctx, f.blk, 4096, CCMM_DMA_GFP_ATOMIC, &dma, &va), 0);
	assert_int_equal(ccmm_dma_alloc_attrs(&f.ctx, f.blk, 12288, CCMM_DMA_GFP_ATOMIC, &dma2, &va2), 0);
	assert_int_equal(dma2 % 16384, 0);
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.size[CCMM_DMA_POOL_KERNEL], 256 * 1024);
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 12288, va2, dma2), 0);
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 4096, va, dma), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_shared], 0);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);
}

/*
 * A burst of atomic allocations before the worker runs: the pool of the
 * zone runs dry, dma_alloc_from_pool falls back to the lower zones' pools
 * (kernel, then dma32, then dma) and then fails ("DMA pool exhausted");
 * the worker, once it runs, grows what is below its initial size.
 */
static void test_atomic_pool_exhausted(void **state)
{
	struct fx f;
	struct ccmm_dma_pool_stats ps;
	uint64_t dma[100], va[100];
	int n = 0;

	fx_init(&f, test_boot("mode=tdx"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64), 0);
	ccmm_dma_atomic_pool_hold(f.m, true);
	while (n < 100 && !ccmm_dma_alloc_attrs(&f.ctx, f.blk, 4096, CCMM_DMA_GFP_ATOMIC, &dma[n], &va[n]))
		n++;
	assert_int_equal(n, 3 * 32); /* kernel, dma32 and dma pools, 128 KiB each */
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_atomic_failed)], 1);
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.exhausted, 1);
	assert_int_equal(ps.expansions, 0);
	assert_true(dma[95] < 16 << 20); /* the last ones from ZONE_DMA's pool */
	/* a blocking allocation still works: fresh pages, converted */
	{
		uint64_t d, v;

		assert_int_equal(ccmm_dma_alloc_attrs(&f.ctx, f.blk, 4096, 0, &d, &v), 0);
		assert_int_equal(f.ctx.ctr[CCMM_CTR_to_shared], 1);
		assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 4096, v, d), 0);
	}
	ccmm_dma_atomic_pool_hold(f.m, false); /* the worker runs: every pool was below its size */
	ccmm_dma_pool_stats(f.m, &ps);
	assert_int_equal(ps.expansions, 3);
	assert_int_equal(ps.size[CCMM_DMA_POOL_KERNEL], 256 * 1024);
	assert_int_equal(ps.avail[CCMM_DMA_POOL_KERNEL], 128 * 1024);
	for (int i = 0; i < n; i++)
		assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 4096, va[i], dma[i]), 0);
	ccmm_dma_pool_stats(f.m, &ps);
	for (int z = 0; z < CCMM_DMA_POOL_NR; z++)
		assert_int_equal(ps.avail[z], ps.size[z]);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);
}

/*
 * POWER has no DMA_COHERENT_POOL: an atomic allocation that must be shared
 * (a pSeries secure guest's device on the DDW bypass, dma_direct_alloc)
 * finds no pool and fails; a blocking one is converted with UV_SHARE_PAGE.
 */
static void test_atomic_pool_pseries(void **state)
{
	struct fx f;
	struct ccmm_dma_pool_stats ps;
	struct ccmm_dma_probe_opts o = { .window = CCMM_SVM_WINDOW_DDW };
	uint64_t dma, va;

	fx_init(&f, boot_text(PSERIES_DDW_PLATFORM));
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, &o), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64), 0);
	ccmm_dma_pool_stats(f.m, &ps);
	assert_false(ps.made);
	assert_int_equal(ccmm_dma_alloc_attrs(&f.ctx, f.blk, 4096, CCMM_DMA_GFP_ATOMIC, &dma, &va), -ENOMEM);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_atomic_failed)], 1);
	assert_int_equal(ccmm_dma_alloc_attrs(&f.ctx, f.blk, 4096, 0, &dma, &va), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_pages_converted)], 1);
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 4096, va, dma), 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_pages_reencrypted)], 1);
	ccmm_shutdown(f.m);
}

/*
 * ccmm_dma_bus_addr and ccmm_dma_raw_access: a device reaches a page at the
 * bus address its translation gives it, as the DMA API would, and a raw
 * access is routed as the hardware routes it. Regression (issue 18, item
 * 10): a device named a page by its physical address past its IOMMU.
 */
static void test_bus_addr_translation(void **state)
{
	struct fx f;
	struct ccmm_result r;
	uint64_t buf, other, dma, bus, room;
	char got[8];

	/* no IOMMU, SME: phys_to_dma_direct -- the C-bit for a device that reaches it, none for one that does not */
	fx_sme(&f);
	buf = page(&f, 0);
	assert_int_equal(ccmm_dma_bus_addr(f.blk, buf, &bus, &room), 0);
	assert_int_equal(bus, buf | (1ULL << 47));
	assert_int_equal(ccmm_dma_bus_addr(f.nic, buf, &bus, &room), 0);
	assert_int_equal(bus, buf);
	ccmm_shutdown(f.m);

	/* a VT-d domain: only what is mapped has a bus address; the rest is an iommu_fault */
	fx_init(&f, boot_text("[platform]\nmode=none\ncpus=2\n[node:0]\nmem=1g\n[iommu:vtd]\nkind=generic\n"
			      "[device:nic]\ndma_mask=64\niommu=vtd\n[device:blk]\ndma_mask=64\n"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64);
	buf = page(&f, 0);
	other = page(&f, 0);
	kw(&f, buf, "mapped!", 8);
	kw(&f, other, "private", 8);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf, 4096, CCMM_DMA_BIDIRECTIONAL, 0, &dma), 0);
	assert_true(dma != buf);
	assert_int_equal(ccmm_dma_bus_addr(f.blk, buf + 100, &bus, &room), 0);
	assert_int_equal(bus, dma + 100);
	assert_int_equal(room, 4096 - 100);
	assert_int_equal(ccmm_dma_raw_access(&f.ctx, f.blk, CCMM_READ, bus - 100, got, 8, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_memory_equal(got, "mapped!", 8);
	assert_int_equal(ccmm_dma_bus_addr(f.blk, other, &bus, &room), -ENOENT);
	assert_int_equal(ccmm_dma_raw_access(&f.ctx, f.blk, CCMM_READ, other, got, 8, &r), 0);
	assert_int_equal(r.outcome, CCMM_BLOCKED);
	assert_int_equal(nviol(f.m, "iommu_fault"), 1);
	ccmm_dma_mapping_error(f.blk, dma);
	assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 4096, CCMM_DMA_BIDIRECTIONAL, 0), 0);
	assert_int_equal(ccmm_dma_bus_addr(f.blk, buf, &bus, &room), -ENOENT); /* the unmap took it away */
	/* the device without an IOMMU reaches any page at its physical address */
	assert_int_equal(ccmm_dma_bus_addr(f.nic, other, &bus, &room), 0);
	assert_int_equal(bus, other);
	assert_int_equal(ccmm_dma_raw_access(&f.ctx, f.nic, CCMM_READ, bus, got, 8, &r), 0);
	assert_memory_equal(got, "private", 8);
	ccmm_shutdown(f.m);

	/* a pSeries secure guest: the pool in the 32-bit window, bounce buffers by their window address */
	fx_init(&f, boot_text(PSERIES_DDW_PLATFORM "[device:nic]\ndma_mask=64\niommu=phb0\n"));
	{
		struct ccmm_dma_probe_opts o32 = { .window = CCMM_SVM_WINDOW_DMA32 };
		struct ccmm_io_tlb_mem *mem = ccmm_swiotlb_default(f.m);

		assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, &o32), 0);
		buf = page(&f, 0);
		assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf, 64, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
		assert_int_equal(ccmm_dma_bus_addr(f.blk, buf, &bus, &room), -ENOENT); /* the original: never mapped */
		assert_int_equal(ccmm_dma_bus_addr(f.blk, mem->start + 8192, &bus, &room), 0);
		assert_int_equal(bus, f.blk->unit->dma32->bus_base + f.blk->pool_iova + 8192);
		/* the other device on the same unit shares its windows */
		assert_int_equal(ccmm_dma_bus_addr(f.nic, mem->start + 8192, &bus, &room), 0);
		ccmm_dma_mapping_error(f.blk, dma);
		assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 64, CCMM_DMA_TO_DEVICE, 0), 0);
	}
	ccmm_shutdown(f.m);
}

/*
 * iommu-dma in a confidential guest (drivers/iommu/dma-iommu.c): the
 * mapping is the page itself -- dev_use_swiotlb() bounces only untrusted
 * devices -- and iommu_dma_alloc never decrypts, so the device is handed
 * private memory; dma_max_mapping_size() has no SWIOTLB limit there.
 * Regression: ccmm bounced and decrypted as dma-direct does.
 */
static void test_iommu_dma_in_guest(void **state)
{
	struct fx f;
	struct ccmm_result r;
	struct ccmm_page pg;
	uint64_t buf, dma, cdma, cva;
	char got[8];

	fx_init(&f, boot_text("[platform]\nmode=sev\nc_bit=47\nphys_bits=48\ncpus=2\n[node:0]\nmem=1g\n"
			      "[iommu:vtd]\nkind=generic\n[device:blk]\ndma_mask=64\niommu=vtd\n"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64);
	assert_int_equal(ccmm_dma_max_mapping_size(f.blk), UINT64_MAX);
	buf = page(&f, 0);
	kw(&f, buf, "secret!", 8);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, buf, 4096, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_false(ccmm_dma_need_sync(f.blk, dma)); /* not bounced */
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(swiotlb, swiotlb_maps)], 0);
	assert_int_equal(ccmm_dma_device_access(&f.ctx, f.blk, CCMM_READ, dma, got, 8, &r), 0);
	assert_int_not_equal(r.outcome, CCMM_OK);
	assert_int_equal(nviol(f.m, "dma_private"), 1);
	ccmm_dma_mapping_error(f.blk, dma);
	assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.blk, dma, 4096, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.blk, 4096, &cdma, &cva), 0);
	assert_int_equal(ccmm_phys_peek(f.m, ccmm_virt_to_phys(cva), &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, coherent_pages_converted)], 0);
	assert_int_equal(ccmm_dma_free_coherent(&f.ctx, f.blk, 4096, cva, cdma), 0);
	ccmm_shutdown(f.m);
}

/* dma_direct_max_mapping_size(): SWIOTLB's limit only when bouncing is forced or the mask is short of RAM. */
static void test_max_mapping_size(void **state)
{
	struct fx f;

	fx_init(&f, boot_text("[platform]\nmode=none\ncpus=2\n[node:0]\nmem=8g\n"
			      "[device:blk]\ndma_mask=64\n[device:nic]\ndma_mask=32\n"));
	assert_non_null(ccmm_swiotlb_default(f.m)); /* RAM above 4 GiB and no IOMMU: a pool */
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	ccmm_dma_probe(&f.ctx, f.nic, NULL);
	ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64);
	assert_int_equal(ccmm_dma_max_mapping_size(f.blk), UINT64_MAX);
	assert_int_equal(ccmm_dma_max_mapping_size(f.nic), 256 * 1024); /* dma_addressing_limited */
	ccmm_shutdown(f.m);
	fx_init(&f, test_boot("mode=tdx"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	ccmm_dma_set_mask_and_coherent(&f.ctx, f.blk, 64);
	assert_int_equal(ccmm_dma_max_mapping_size(f.blk), 256 * 1024); /* is_swiotlb_force_bounce */
	ccmm_shutdown(f.m);
}

/* Coherent memory under SME: encrypted for a device that reaches the C-bit, decrypted otherwise. */
static void test_coherent_sme(void **state)
{
	struct fx f;
	uint64_t dma, va;
	struct ccmm_walk w;
	char got[4];

	fx_sme(&f);
	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.blk, 4096, &dma, &va), 0);
	assert_int_equal(dma, ccmm_virt_to_phys(va) | (1ULL << 47));
	assert_int_equal(ccmm_pgt_walk(f.m->direct_map, va, &w), 0);
	assert_true(ccmm_pte_is_private(f.m, w.pte));
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_shared], 0);
	assert_int_equal(dev_rw(&f, f.blk, CCMM_WRITE, dma, "gpu", 4), CCMM_OK);
	kr(&f, ccmm_virt_to_phys(va), got, 4);
	assert_memory_equal(got, "gpu", 4);
	ccmm_dma_free_coherent(&f.ctx, f.blk, 4096, va, dma);

	assert_int_equal(ccmm_dma_alloc_coherent(&f.ctx, f.nic, 4096, &dma, &va), 0);
	assert_int_equal(dma, ccmm_virt_to_phys(va));
	assert_int_equal(ccmm_pgt_walk(f.m->direct_map, va, &w), 0);
	assert_false(ccmm_pte_is_private(f.m, w.pte));
	assert_int_equal(f.ctx.ctr[CCMM_CTR_to_shared], 1);
	assert_int_equal(dev_rw(&f, f.nic, CCMM_WRITE, dma, "nic", 4), CCMM_OK);
	kr(&f, dma, got, 4);
	assert_memory_equal(got, "nic", 4);
	ccmm_dma_free_coherent(&f.ctx, f.nic, 4096, va, dma);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);
}

/* The TDX allow-list at probe; BAR 0 ioremapped shared. */
static void test_allow_list(void **state)
{
	struct fx f;
	struct ccmm_dma_probe_opts off = { .no_filter = true };
	struct ccmm_walk w;

	assert_true(ccmm_tdx_device_allowed(0x1af4, 0x1042));
	assert_true(ccmm_tdx_device_allowed(0x1af4, 0x1000));
	assert_true(ccmm_tdx_device_allowed(0x1af4, 0x1049));
	assert_false(ccmm_tdx_device_allowed(0x1af4, 0x1050)); /* virtio-gpu */
	assert_false(ccmm_tdx_device_allowed(0x8086, 0x1042));

	fx_init(&f, test_boot("mode=tdx"));
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, NULL), -EPERM);
	assert_int_equal(nviol(f.m, "device_not_allowed"), 1);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, probes_refused)], 1);
	assert_int_equal(ccmm_dma_map_page(&f.ctx, f.nic, 0x100000, 8, CCMM_DMA_TO_DEVICE, 0, &(uint64_t){ 0 }), -ENODEV);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, &off), 0);
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), 0);
	assert_int_equal(ccmm_pgt_walk(f.m->direct_map, f.blk->bar0_va, &w), 0);
	assert_false(ccmm_pte_is_private(f.m, w.pte));
	assert_int_equal(w.pa, f.m->plat->devices[0].bar[0].base);
	ccmm_shutdown(f.m);

	/* no filter outside TDX */
	fx_init(&f, test_boot("mode=sev"));
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.nic, NULL), 0);
	ccmm_shutdown(f.m);
}

/* MMIO through #VE, or through a TDVMCALL without #VE, each with its cost. */
static void test_mmio_modes(void **state)
{
	struct fx f;
	uint32_t v = 0xcafe, got = 0;
	const struct ccmm_costs *c;

	fx_init(&f, test_boot("mode=tdx"));
	assert_int_equal(ccmm_dma_mmio_write(&f.ctx, f.blk, 0, &v, 4), -ENODEV);
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	c = &f.m->plat->costs;
	assert_int_equal(ccmm_dma_mmio_write(&f.ctx, f.blk, 0x10, &v, 4), 0);
	assert_int_equal(ccmm_dma_mmio_read(&f.ctx, f.blk, 0x10, &got, 4), 0);
	assert_int_equal(got, 0xcafe);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_ve_exceptions], 2);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_mmio_accesses], 2);
	assert_int_equal(f.ctx.cost_ns[CCMM_COST_ve_ns], 2 * c->ve_ns);
	assert_int_equal(f.ctx.cost_ns[CCMM_COST_tdvmcall_ns], 2 * c->tdvmcall_ns);
	assert_int_equal(ccmm_dma_mmio_read(&f.ctx, f.blk, 16 * 1024 - 2, &got, 4), -EINVAL);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0);
	ccmm_shutdown(f.m);

	fx_init(&f, test_boot("mode=tdx\nmmio=paravirt"));
	ccmm_dma_probe(&f.ctx, f.blk, NULL);
	c = &f.m->plat->costs;
	got = 0;
	assert_int_equal(ccmm_dma_mmio_write(&f.ctx, f.blk, 0x10, &v, 4), 0);
	assert_int_equal(ccmm_dma_mmio_read(&f.ctx, f.blk, 0x10, &got, 4), 0);
	assert_int_equal(got, 0xcafe);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_ve_exceptions], 0);
	assert_int_equal(f.ctx.ctr[CCMM_CTR_AT(dma, mmio_pv_calls)], 2);
	assert_int_equal(f.ctx.cost_ns[CCMM_COST_ve_ns], 0);
	assert_int_equal(f.ctx.cost_ns[CCMM_COST_tdvmcall_ns], 2 * c->tdvmcall_ns);
	assert_int_equal(f.ctx.cost_ns[CCMM_COST_mmio_ns], 2 * c->mmio_ns);
	assert_int_equal(ccmm_violations_count(f.m, NULL, CCMM_ANY_ACTOR), 0); /* no mmio_ve */
	ccmm_shutdown(f.m);
}

/* A GPU (VRAM in a prefetchable BAR 0, 44/40-bit masks), a NIC in its P2P group and an accelerator outside it. */
static struct ccmm_machine *boot_p2p(const char *mode, bool iommu)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "[platform]\ncpus=2\nmode=%s\n[node:0]\nmem=256m\n%s"
		 "[device:gpu]\nclass=gpu\npci_id=1002:73bf\ndma_mask=44\ncoherent_mask=40\np2p_group=0\n%sbar0=1m pref\n"
		 "bar2=64k\n"
		 "[device:nic]\nclass=nic\npci_id=15b3:101d\ndma_mask=64\np2p_group=0\n%sbar0=64k\n"
		 "[device:acc]\nclass=accel\ndma_mask=64\ntdisp=yes\nbar0=64k\n",
		 mode, iommu ? "[iommu:vt0]\nkind=generic\n" : "", iommu ? "iommu=vt0\n" : "", iommu ? "iommu=vt0\n" : "");
	return boot_text(text);
}

/*
 * P2P: a BAR in reach is mapped by its bus address -- from an sg_table too,
 * recognised by its address -- and the device's access goes to the peer
 * without the IOMMU; RAM goes through the IOMMU; out of reach: -EREMOTEIO.
 * In a guest, a reachable BAR is not bounced (PCI_P2PDMA_MAP_BUS_ADDR).
 */
static void test_p2p(void **state)
{
	struct ccmm_machine *m = boot_p2p("none", true);
	struct ccmm_ctx ctx;
	struct ccmm_dma_dev *gpu = ccmm_dma_dev(m, 0), *nic = ccmm_dma_dev(m, 1), *acc = ccmm_dma_dev(m, 2);
	uint64_t vram = m->plat->devices[0].bar[0].base, ram;
	struct ccmm_sg_table t;
	struct ccmm_result r;
	char out[8] = "p2p-ok", back[8];
	struct ccmm_phyr p;
	struct ccmm_phyr_meta bar = { .provider = 0, .p2p = true, .cache = CCMM_CACHE_WC };
	struct ccmm_dma_phyr_map map;

	ccmm_ctx_init(&ctx, m, 0, "drv");
	assert_int_equal(ccmm_dma_probe(&ctx, nic, NULL), 0);
	assert_int_equal(ccmm_dma_probe(&ctx, acc, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&ctx, nic, 64), 0);
	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 0, 0, &ram), 0);
	{
		uint64_t two[2] = { vram, vram + 4096 };

		assert_int_equal(ccmm_sg_alloc_table_from_pages(&t, two, 2, 0, 8192, 0), 0);
	}
	assert_int_equal(ccmm_dma_map_sg(&ctx, nic, &t, CCMM_DMA_BIDIRECTIONAL, 0), 1);
	assert_int_equal(t.sgl[0].dma_address, vram);
	assert_int_equal(t.sgl[0].dma_flags, CCMM_SG_DMA_BUS_ADDRESS);
	/* the NIC's DMA to it reaches VRAM (an IOMMU lookup would have faulted: no IOVA there) */
	assert_int_equal(ccmm_dma_device_access(&ctx, nic, CCMM_WRITE, vram + 4096, out, sizeof(out), &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_int_equal(ccmm_dma_device_access(&ctx, nic, CCMM_READ, vram + 4096, back, sizeof(back), &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_memory_equal(back, out, sizeof(out));
	assert_int_equal(ccmm_dma_unmap_sg(&ctx, nic, &t, CCMM_DMA_BIDIRECTIONAL, 0), 0);
	ccmm_sg_free_table(&t);
	/* RAM through the IOMMU: an IOVA, not the physical address */
	assert_int_equal(ccmm_sg_alloc_table_from_pages(&t, &ram, 1, 0, 4096, 0), 0);
	assert_int_equal(ccmm_dma_map_sg(&ctx, nic, &t, CCMM_DMA_TO_DEVICE, 0), 1);
	assert_int_not_equal(t.sgl[0].dma_address, ram);
	assert_int_equal(t.sgl[0].dma_flags, 0);
	assert_int_equal(ccmm_dma_unmap_sg(&ctx, nic, &t, CCMM_DMA_TO_DEVICE, 0), 0);
	ccmm_sg_free_table(&t);
	/* the accelerator shares no P2P group with the GPU: both forms are refused, nothing stays mapped */
	assert_int_equal(ccmm_sg_alloc_table_from_pages(&t, &vram, 1, 0, 4096, 0), 0);
	assert_int_equal(ccmm_dma_map_sg(&ctx, acc, &t, CCMM_DMA_TO_DEVICE, 0), -EREMOTEIO);
	ccmm_sg_free_table(&t);
	ccmm_phyr_init(&p);
	assert_int_equal(ccmm_phyr_append(&p, &bar, vram, 4096), 0);
	assert_int_equal(ccmm_dma_map_phyr(&ctx, acc, &p, CCMM_DMA_TO_DEVICE, 0, &map), -EREMOTEIO);
	assert_int_equal(ccmm_dma_live(acc), 0);
	/* a device's own BAR is within its reach */
	assert_int_equal(ccmm_dma_probe(&ctx, gpu, NULL), 0);
	assert_int_equal(ccmm_dma_map_phyr(&ctx, gpu, &p, CCMM_DMA_TO_DEVICE, 0, &map), 0);
	assert_int_equal(map.r[0].dma, vram);
	assert_int_equal(ccmm_dma_unmap_phyr(&ctx, gpu, &map, 0), 0);
	ccmm_phyr_free(&p);
	assert_int_equal(ccmm_events_count(m), 0);
	ccmm_free_pages(&ctx, ram, 0);
	ccmm_shutdown(m);

	/* a TDX guest bounces the NIC's RAM mappings, never its P2P bus addresses */
	m = boot_p2p("tdx", false);
	ccmm_ctx_init(&ctx, m, 0, "drv");
	nic = ccmm_dma_dev(m, 1);
	{
		struct ccmm_dma_probe_opts all = { .no_filter = true };

		assert_int_equal(ccmm_dma_probe(&ctx, nic, &all), 0);
	}
	ccmm_phyr_init(&p);
	assert_int_equal(ccmm_phyr_append(&p, &bar, m->plat->devices[0].bar[0].base, 8192), 0);
	assert_int_equal(ccmm_dma_map_phyr(&ctx, nic, &p, CCMM_DMA_FROM_DEVICE, 0, &map), 0);
	assert_int_equal(map.nr, 1);
	assert_int_equal(map.r[0].dma, m->plat->devices[0].bar[0].base);
	assert_int_equal(map.r[0].flags, CCMM_SG_DMA_BUS_ADDRESS);
	assert_false(ccmm_dma_need_sync(nic, map.r[0].dma));
	assert_int_equal(ccmm_dma_unmap_phyr(&ctx, nic, &map, 0), 0);
	ccmm_phyr_free(&p);
	ccmm_shutdown(m);
}

/*
 * A device the TDX guest accepted into its TEE (TDISP RUN): the allow-list
 * lets it bind, force_dma_unencrypted() is false, its mappings of private
 * memory do not bounce and it reads them with the guest's key; coherent
 * memory stays private. An untrusted device bounces the same page.
 */
static void test_tee_accepted(void **state)
{
	struct ccmm_machine *m = boot_p2p("tdx\nswiotlb_size=2m", false);
	struct ccmm_ctx ctx;
	struct ccmm_dma_dev *nic = ccmm_dma_dev(m, 1), *acc = ccmm_dma_dev(m, 2);
	struct ccmm_dma_probe_opts all = { .no_filter = true };
	struct ccmm_result r;
	struct ccmm_page pg;
	uint64_t pa, dma, ndma, cdma, cva;
	char back[8];

	ccmm_ctx_init(&ctx, m, 0, "drv");
	assert_true(ccmm_force_dma_unencrypted(acc));
	assert_int_equal(ccmm_dma_probe(&ctx, acc, NULL), -EPERM); /* not accepted: not on the allow-list */
	assert_int_equal(nviol(m, "device_not_allowed"), 1);
	assert_int_equal(ccmm_check_set_device_trusted(m, 2, true), 0);
	assert_false(ccmm_force_dma_unencrypted(acc));
	assert_int_equal(ccmm_dma_probe(&ctx, acc, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&ctx, acc, 64), 0);
	assert_int_equal(ccmm_dma_probe(&ctx, nic, &all), 0);
	assert_int_equal(ccmm_dma_set_mask_and_coherent(&ctx, nic, 64), 0);

	assert_int_equal(ccmm_alloc_pages(&ctx, 0, 0, 0, &pa), 0);
	kw(&(struct fx){ .m = m, .ctx = ctx }, pa, "private", 8);
	assert_int_equal(ccmm_dma_map_page(&ctx, acc, pa, 4096, CCMM_DMA_TO_DEVICE, 0, &dma), 0);
	assert_int_equal(dma, pa);
	assert_false(ccmm_dma_need_sync(acc, dma));
	assert_int_equal(ccmm_dma_device_access(&ctx, acc, CCMM_READ, dma, back, 8, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_memory_equal(back, "private", 8);
	/* the untrusted NIC gets a bounce buffer with a copy */
	assert_int_equal(ccmm_dma_map_page(&ctx, nic, pa, 4096, CCMM_DMA_TO_DEVICE, 0, &ndma), 0);
	assert_int_not_equal(ndma, pa);
	assert_true(ccmm_dma_need_sync(nic, ndma));
	assert_int_equal(ccmm_dma_device_access(&ctx, nic, CCMM_READ, ndma, back, 8, &r), 0);
	assert_memory_equal(back, "private", 8);
	assert_int_equal(ccmm_dma_mapping_error(acc, dma), 0);
	assert_int_equal(ccmm_dma_mapping_error(nic, ndma), 0);
	assert_int_equal(ccmm_dma_unmap_page(&ctx, acc, dma, 4096, CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_dma_unmap_page(&ctx, nic, ndma, 4096, CCMM_DMA_TO_DEVICE, 0), 0);
	/* coherent memory for the accepted device is not converted */
	assert_int_equal(ccmm_dma_alloc_coherent(&ctx, acc, 4096, &cdma, &cva), 0);
	assert_int_equal(ccmm_phys_peek(m, ccmm_virt_to_phys(cva), &pg), 0);
	assert_int_equal(pg.state, CCMM_PS_PRIVATE);
	assert_int_equal(ctx.ctr[CCMM_CTR_AT(dma, coherent_pages_converted)], 0);
	assert_int_equal(ccmm_dma_free_coherent(&ctx, acc, 4096, cva, cdma), 0);
	assert_int_equal(ccmm_events_count(m), 1); /* the refused probe */
	ccmm_free_pages(&ctx, pa, 0);
	ccmm_shutdown(m);
}

struct segs {
	uint64_t dma[2], len[2];
};

static bool seg_at(void *arg, size_t i, uint64_t *dma, uint64_t *len)
{
	struct segs *sg = arg;

	if (i >= 2)
		return false;
	*dma = sg->dma[i];
	*len = sg->len[i];
	return true;
}

/* A device's DMA over a buffer given as segments: each piece to its segment, in order; a span past them: -EINVAL. */
static void test_device_access_segs(void **state)
{
	struct fx f;
	struct segs sg = { { 0 }, { 4096, 8192 } };
	uint64_t pa[2];
	struct ccmm_result r;
	char back[16];

	fx_init(&f, test_boot("mode=none"));
	assert_int_equal(ccmm_dma_probe(&f.ctx, f.blk, NULL), 0);
	assert_int_equal(ccmm_dma_set_mask(&f.ctx, f.blk, 64), 0);
	pa[0] = page(&f, 0);
	pa[1] = page(&f, 1);
	kw(&f, pa[0] + 4088, "tail-of-", 8);
	kw(&f, pa[1], "head-of!", 8);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(ccmm_dma_map_page(&f.ctx, f.blk, pa[i], sg.len[i], CCMM_DMA_TO_DEVICE, 0, &sg.dma[i]), 0);
		assert_int_equal(ccmm_dma_mapping_error(f.blk, sg.dma[i]), 0);
	}
	/* 16 bytes across the seam: the last 8 of segment 0, the first 8 of segment 1 */
	assert_int_equal(ccmm_dma_device_access_segs(&f.ctx, f.blk, CCMM_READ, seg_at, &sg, 4088, back, 16, &r), 0);
	assert_int_equal(r.outcome, CCMM_OK);
	assert_int_equal(r.done, 16);
	assert_memory_equal(back, "tail-of-head-of!", 16);
	assert_int_equal(ccmm_dma_device_access_segs(&f.ctx, f.blk, CCMM_READ, seg_at, &sg, 12288, back, 1, &r), -EINVAL);
	for (int i = 0; i < 2; i++)
		assert_int_equal(ccmm_dma_unmap_page(&f.ctx, f.blk, sg.dma[i], sg.len[i], CCMM_DMA_TO_DEVICE, 0), 0);
	assert_int_equal(ccmm_events_count(f.m), 0);
	ccmm_shutdown(f.m);
}

/*
 * ccmm_dma_bind: probe plus the platform's masks; a bound device is shared
 * as it is (another driver's probe gets -EBUSY); refused by the TDX
 * allow-list it stays unbound; a prefetchable BAR 0 is not ioremapped.
 */
static void test_bind(void **state)
{
	struct ccmm_machine *m = boot_p2p("none", false);
	struct ccmm_ctx ctx;
	struct ccmm_dma_dev *gpu = ccmm_dma_dev(m, 0), *nic = ccmm_dma_dev(m, 1);
	struct ccmm_dma_dev_stats st;
	uint32_t v = 0;

	ccmm_ctx_init(&ctx, m, 0, "drv");
	assert_int_equal(ccmm_dma_bind(&ctx, gpu, NULL), 0);
	ccmm_dma_dev_stats(gpu, &st);
	assert_int_equal(st.dma_mask, CCMM_DMA_BIT_MASK(44));
	assert_int_equal(st.coherent_dma_mask, CCMM_DMA_BIT_MASK(40));
	assert_int_equal(gpu->bar0_va, 0); /* VRAM is no register window */
	assert_int_equal(ccmm_dma_mmio_read(&ctx, gpu, 0, &v, 4), -ENODEV);
	assert_int_equal(ccmm_dma_bind(&ctx, gpu, NULL), 0);
	assert_int_equal(ccmm_dma_probe(&ctx, gpu, NULL), -EBUSY);
	/* a driver that probed and chose a 32-bit mask keeps it */
	assert_int_equal(ccmm_dma_probe(&ctx, nic, NULL), 0);
	assert_int_not_equal(nic->bar0_va, 0);
	assert_int_equal(ccmm_dma_set_mask(&ctx, nic, 32), 0);
	assert_int_equal(ccmm_dma_bind(&ctx, nic, NULL), 0);
	ccmm_dma_dev_stats(nic, &st);
	assert_int_equal(st.dma_mask, CCMM_DMA_BIT_MASK(32));
	assert_int_equal(ccmm_events_count(m), 0);
	ccmm_shutdown(m);

	m = boot_p2p("tdx", false);
	ccmm_ctx_init(&ctx, m, 0, "drv");
	gpu = ccmm_dma_dev(m, 0);
	assert_int_equal(ccmm_dma_bind(&ctx, gpu, NULL), -EPERM);
	assert_int_equal(nviol(m, "device_not_allowed"), 1);
	assert_false(gpu->probed);
	{
		struct ccmm_dma_probe_opts all = { .no_filter = true };

		assert_int_equal(ccmm_dma_bind(&ctx, gpu, &all), 0);
	}
	assert_true(gpu->probed);
	ccmm_shutdown(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_masks),
		cmocka_unit_test(test_force_unencrypted),
		cmocka_unit_test(test_tdx_streaming),
		cmocka_unit_test(test_host_mask_bounce),
		cmocka_unit_test(test_sme_streaming),
		cmocka_unit_test(test_pool_full),
		cmocka_unit_test(test_sg_and_phyr),
		cmocka_unit_test(test_bus_addr_translation),
		cmocka_unit_test(test_iommu_dma_in_guest),
		cmocka_unit_test(test_max_mapping_size),
		cmocka_unit_test(test_dma_direct_alloc_free),
		cmocka_unit_test(test_dma_direct_free_leaks_on_refusal),
		cmocka_unit_test(test_atomic_pools),
		cmocka_unit_test(test_atomic_pool_exhausted),
		cmocka_unit_test(test_atomic_pool_pseries),
		cmocka_unit_test(test_coherent_sme),
		cmocka_unit_test(test_allow_list),
		cmocka_unit_test(test_mmio_modes),
		cmocka_unit_test(test_p2p),
		cmocka_unit_test(test_tee_accepted),
		cmocka_unit_test(test_bind),
		cmocka_unit_test(test_device_access_segs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
