# dma-bufs from the system heap and from udmabuf, so bufinfo has content
# (extra/bufinfo is read while they are alive). The larger udmabuf is 1 MiB
# (256 pages): the kernel drops, without counting it, any event larger than
# a ring-buffer sub-buffer (4 KiB less its header), and dma_unmap_sg and
# dma_sync_sg_* print every entry (dma_map_sg stops at 128): 2 MiB (512
# entries) lost its unmap and syncs.
host() {
	DESC="dma-bufs from /dev/dma_heap/system (4 KiB, 64 KiB, 1 MiB) and /dev/udmabuf (8 KiB, 1 MiB), 1 CPU"
	CPUS=1
	MEM=512M
	SWIOTLB=force
}

run() {
	mkdir -p $OUT/extra
	run_in ccmm ccmm-dmabuf $OUT/extra/bufinfo 4k 64k 1m -- 8k 1m
}
