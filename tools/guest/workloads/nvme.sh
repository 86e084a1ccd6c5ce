# NVMe direct I/O: scatterlists (dma_map_sg) for multi-page requests and
# min_align_mask 0xfff (a buffer 512 bytes into its page keeps that offset
# in the bounce slot).
host() {
	DESC="NVMe O_DIRECT at mixed sizes, page-aligned and 512 B into a page (min_align_mask), 1 CPU, swiotlb=force"
	CPUS=1
	MEM=512M
	SWIOTLB=force
	MODULES="nvme"
	DISKS="n0:64M"
	DEVICES="-device nvme,drive=n0,serial=ccmm-n0"
}

run() {
	wait_for disk_by_serial ccmm-n0 || { echo "no disk ccmm-n0"; return 1; }
	d=$(disk_by_serial ccmm-n0)
	run_in ccmm ccmm-dio -m $d 24 4k 64k 12k 512 256k 1m
	run_in ccmm ccmm-dio -m -o 512 $d 24 4k 7k 64k 1536
}
