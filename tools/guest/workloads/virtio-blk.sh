# virtio-blk direct I/O at mixed sizes, one CPU, default pool (64 MiB).
# host(): sourced by scripts/record-kernel.sh (bash); run(): by the guest's
# /init (busybox ash). Both only set variables and run commands.
host() {
	DESC="virtio-blk O_DIRECT writes and reads from 512 B to 1 MiB, then the disk unbound, 1 CPU, swiotlb=force (64 MiB pool)"
	CPUS=1
	MEM=512M
	SWIOTLB=force
	MODULES="virtio_blk"
	# iommu_platform=on: VIRTIO_F_ACCESS_PLATFORM, so the ring and the
	# buffers go through the DMA API (without it nothing is traced)
	DISKS="d0:64M"
	DEVICES="-device virtio-blk-pci,drive=d0,disable-legacy=on,iommu_platform=on,serial=ccmm-d0"
}

run() {
	d=$(disk_by_serial ccmm-d0) || { echo "no disk ccmm-d0"; return 1; }
	run_in ccmm ccmm-dio -m $d 64 4k 512 64k 12k 256k 1m 8k 132k
	run_in ccmm ccmm-dio -r -s 3m $d 8 1m 4k
	# unbind the disk from virtio_blk: its virtqueues are freed (dma_free)
	v=$(basename $(readlink /sys/block/${d#/dev/}/device))
	echo $v > /sys/bus/virtio/drivers/virtio_blk/unbind
}
