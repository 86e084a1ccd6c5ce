# virtio-blk direct I/O from 4 CPUs at once: the SWIOTLB has 4 areas and
# each CPU searches its own first (recorded under single-threaded TCG).
host() {
	DESC="virtio-blk O_DIRECT from 4 CPUs in parallel (4 SWIOTLB areas), swiotlb=force (64 MiB pool)"
	CPUS=4
	MEM=512M
	SWIOTLB=force
	MODULES="virtio_blk"
	DISKS="d0:64M"
	DEVICES="-device virtio-blk-pci,drive=d0,disable-legacy=on,iommu_platform=on,serial=ccmm-d0"
}

run() {
	d=$(disk_by_serial ccmm-d0) || { echo "no disk ccmm-d0"; return 1; }
	pids=""
	for c in 0 1 2 3; do
		run_in ccmm taskset -c $c ccmm-dio -w -s $((c + 5))m $d 16 4k 64k 256k 12k &
		pids="$pids $!"
	done
	for p in $pids; do wait $p || return 1; done
	for c in 0 1 2 3; do
		run_in ccmm taskset -c $c ccmm-dio -r -s $((c + 5))m $d 16 4k 64k 256k 12k || return 1
	done
}
