# Two e1000 NICs (32-bit DMA mask) on one qemu hub with no other port: raw
# frames from eth0 to eth1, so nothing ever leaves the VM.
host() {
	DESC="e1000 (32-bit mask): raw frames between two NICs of the VM on an isolated hub, 1 CPU, swiotlb=force"
	CPUS=1
	MEM=512M
	SWIOTLB=force
	MODULES="e1000"
	DEVICES="-netdev hubport,id=h0,hubid=0 -device e1000,netdev=h0,mac=02:cc:00:00:00:01
		 -netdev hubport,id=h1,hubid=0 -device e1000,netdev=h1,mac=02:cc:00:00:00:02"
}

run() {
	for i in eth0 eth1; do
		wait_for test -e /sys/class/net/$i || { echo "no $i"; return 1; }
		ip link set $i up
	done
	for i in eth0 eth1; do
		wait_for grep -q 1 /sys/class/net/$i/carrier || { echo "$i has no carrier"; return 1; }
	done
	run_in ccmm ccmm-ethpair eth0 eth1 120 46 1500 512 60 1024
}
