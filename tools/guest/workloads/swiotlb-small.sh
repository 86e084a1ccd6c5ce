# A 2 MiB pool (swiotlb=1024,force: 1024 slots of 2 KiB, 8 segments) that
# sixteen concurrent 1 MiB writers fill (each request needs four whole
# segments for its data): mappings fail while it is full and
# virtio-blk requeues the request (Debian's 6.12 has no SWIOTLB_DYNAMIC).
host() {
	DESC="virtio-blk 1 MiB O_DIRECT writes from 16 processes into a 1024-slot pool that fills, 1 CPU"
	CPUS=1
	MEM=512M
	SWIOTLB=1024,force
	MODULES="virtio_blk"
	DISKS="d0:64M"
	DEVICES="-device virtio-blk-pci,drive=d0,disable-legacy=on,iommu_platform=on,serial=ccmm-d0"
}

run() {
	d=$(disk_by_serial ccmm-d0) || { echo "no disk ccmm-d0"; return 1; }
	pids=""
	for p in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		run_in ccmm ccmm-dio -w -s $((p + 2))m $d 2 1m &
		pids="$pids $!"
	done
	for p in $pids; do wait $p || return 1; done
	echo "io_tlb_used_hiwater $(cat /sys/kernel/debug/swiotlb/io_tlb_used_hiwater) of $(cat /sys/kernel/debug/swiotlb/io_tlb_nslabs)"
}
