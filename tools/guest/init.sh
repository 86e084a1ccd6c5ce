#!/bin/busybox sh
# /init of the guest that scripts/record-kernel.sh boots (busybox ash).
#
# The DMA and SWIOTLB tracepoints are on from early boot (trace_event= on
# the kernel command line). This script mounts the interface file systems,
# snapshots the interface files, loads the workload's driver modules (so
# the drivers bind with tracing on), runs the workload (/workload.sh's
# run()), snapshots again, stops tracing and writes everything as a tar
# to the output disk (a virtio-blk disk without VIRTIO_F_ACCESS_PLATFORM:
# its ring bypasses the DMA API, so writing the results traces nothing),
# then powers off. /etc/ccmm.conf (written by the recorder) sets MODULES
# (module files in load order).
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs -o size=256m tmpfs /out
. /etc/ccmm.conf
. /workload.sh
T=/sys/kernel/tracing
CG=/sys/fs/cgroup
OUT=/out

fail() {
	echo "ccmm-guest: $*" | tee -a $OUT/guest.log >&2
	echo "failed: $*" > $OUT/status
}

log() {
	echo "ccmm-guest: $*" | tee -a $OUT/guest.log
}

# copy FILE to DIR/NAME if it exists
grab() {
	[ -r "$1" ] && cat "$1" > "$2" 2>/dev/null
}

# snap DIR: the interface files now
snap() {
	mkdir -p $1/swiotlb $1/node $1/cgroup
	for f in /sys/kernel/debug/swiotlb/*; do grab $f $1/swiotlb/${f##*/}; done
	grab /sys/kernel/debug/dma_buf/bufinfo $1/bufinfo
	grab /proc/vmstat $1/vmstat
	grab /proc/meminfo $1/meminfo
	for n in /sys/devices/system/node/node[0-9]*; do
		grab $n/vmstat $1/node/${n##*/}.vmstat
		grab $n/meminfo $1/node/${n##*/}.meminfo
	done
	for d in $CG $CG/*/; do
		[ -f $d/cgroup.procs ] || continue
		name=$(basename $d)
		[ $d = $CG ] && name=root
		mkdir -p $1/cgroup/$name
		for f in memory.stat memory.events memory.numa_stat memory.current memory.peak misc.capacity misc.current misc.max misc.events misc.peak; do
			grab $d/$f $1/cgroup/$name/$f
		done
		rmdir $1/cgroup/$name 2>/dev/null
	done
}

# sample DIR INTERVAL_MS: counters over time until $DIR/.stop exists
sample() {
	i=0
	while [ ! -e $1/.stop ]; do
		{
			echo "sample $i $(cut -d' ' -f1 /proc/uptime)"
			grep -E '^(pgdemote|pgpromote|pgsteal|pgscan|pgmigrate|numa_|oom|nr_free_pages|pgalloc|nr_anon)' /proc/vmstat
			for n in /sys/devices/system/node/node[0-9]*; do
				echo "${n##*/} $(grep -E 'MemFree|MemUsed|Active\(anon\)|Inactive\(anon\)' $n/meminfo | awk '{ sub(":", "", $3); printf "%s=%s ", $3, $4 }')"
			done
			for d in $CG/*/; do
				[ -f $d/memory.current ] || continue
				echo "cgroup $(basename $d) current=$(cat $d/memory.current) $(tr '\n' ' ' < $d/memory.events)"
			done
		} >> $1/samples 2>/dev/null
		i=$((i + 1))
		usleep $(($2 * 1000))
	done
}

# run_in CGROUP CMD...: run a command in a child cgroup (made if needed)
run_in() {
	cg=$1; shift
	mkdir -p $CG/$cg
	sh -c 'echo $$ > '$CG/$cg'/cgroup.procs && exec "$@"' sh "$@"
}

# disk_by_serial SERIAL: /dev/vdX or /dev/nvmeXnY whose serial is SERIAL
disk_by_serial() {
	for b in /sys/block/*; do
		s=$(cat $b/serial 2>/dev/null || cat $b/device/serial 2>/dev/null)
		[ "$(echo $s)" = "$1" ] && { echo /dev/${b##*/}; return 0; }
	done
	return 1
}

# wait_for CMD...: retry a command for up to 10 s
wait_for() {
	n=0
	until "$@" >/dev/null 2>&1; do
		n=$((n + 1))
		[ $n -ge 100 ] && return 1
		usleep 100000
	done
}

echo "+memory +misc" > $CG/cgroup.subtree_control
[ "$(cat $T/events/dma/enable 2>/dev/null)" = 1 ] || fail "dma events are not enabled (trace_event= on the command line)"
[ "$(cat $T/events/swiotlb/enable 2>/dev/null)" = 1 ] || fail "swiotlb events are not enabled"
mkdir -p $OUT/platform
snap $OUT/before
log "loading $MODULES"
for m in $MODULES; do
	insmod /lib/modules/$m || fail "insmod $m"
done
log "workload $WORKLOAD"
date -u +%s > $OUT/platform/start
if run > $OUT/workload.log 2>&1; then
	echo ok > $OUT/status.workload
else
	fail "workload $WORKLOAD: exit status $?"
fi
cat $OUT/workload.log
snap $OUT/after
echo 0 > $T/tracing_on
cat $T/trace > $OUT/trace
for c in $T/per_cpu/cpu*; do
	echo "${c##*/} $(tr -s ' \n' '  ' < $c/stats)"
done > $OUT/trace-stats
dmesg > $OUT/dmesg

# what the guest had, for the platform file
P=$OUT/platform
nproc > $P/cpus
grep -c ^processor /proc/cpuinfo > $P/cpus_online
cat /proc/cmdline > $P/cmdline
uname -r > $P/kernel
grep -i "system ram" /proc/iomem > $P/iomem
for n in /sys/devices/system/node/node[0-9]*; do
	id=${n##*/node}
	{
		echo "cpulist=$(cat $n/cpulist)"
		echo "distance=$(cat $n/distance)"
		echo "memtotal_kb=$(awk '/MemTotal/ {print $4}' $n/meminfo)"
		for a in read_latency write_latency read_bandwidth write_bandwidth; do
			[ -r $n/access0/initiators/$a ] && echo "access0_$a=$(cat $n/access0/initiators/$a)"
		done
		for f in $n/memory[0-9]*; do
			[ -e $f ] && echo "block=${f##*/memory}"
		done
	} > $P/node$id
done
for t in /sys/devices/virtual/memory_tiering/memory_tier*; do
	[ -e $t/nodelist ] && echo "${t##*/} $(cat $t/nodelist)"
done > $P/memory_tiers
grab /sys/kernel/mm/numa/demotion_enabled $P/demotion_enabled
grab /proc/sys/kernel/numa_balancing $P/numa_balancing
cat /sys/devices/system/memory/block_size_bytes > $P/memory_block_size 2>/dev/null
for d in /sys/bus/pci/devices/*; do
	[ -e $d/driver ] || continue
	drv=$(basename $(readlink $d/driver))
	{
		echo "driver=$drv"
		echo "vendor=$(cat $d/vendor)"
		echo "device=$(cat $d/device)"
		echo "class=$(cat $d/class)"
		echo "dma_mask_bits=$(cat $d/dma_mask_bits)"
		echo "consistent_dma_mask_bits=$(cat $d/consistent_dma_mask_bits)"
		echo "numa_node=$(cat $d/numa_node)"
		for b in $d/virtio*/block/* $d/nvme/nvme*/nvme*n* $d/net/*; do
			[ -e $b ] || continue
			echo "name=${b##*/}"
			[ -r $b/size ] && echo "sectors=$(cat $b/size)"
			[ -r $b/serial ] && echo "serial=$(cat $b/serial)"
			[ -r $b/address ] && echo "mac=$(cat $b/address)"
		done
	} > $P/pci-${d##*/}
done
[ -f $OUT/status ] || echo ok > $OUT/status
sync
dev=$(disk_by_serial ccmm-out) || { echo "ccmm-guest: no output disk" >&2; poweroff -f; }
tar -cf $dev -C $OUT . && sync
echo "ccmm-guest: done, $(cat $OUT/status)"
poweroff -f
