# dma-bufs from the system heap and from udmabuf, so bufinfo has content
# (extra/bufinfo is read while they are alive).
host() {
	DESC="dma-bufs from /dev/dma_heap/system (4 KiB, 64 KiB, 1 MiB) and /dev/udmabuf (8 KiB, 2 MiB), 1 CPU"
	CPUS=1
	MEM=512M
	SWIOTLB=force
}

run() {
	mkdir -p $OUT/extra
	run_in ccmm ccmm-dmabuf $OUT/extra/bufinfo 4k 64k 1m -- 8k 2m
}
