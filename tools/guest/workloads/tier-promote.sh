# NUMA balancing in memory-tiering mode (numa_balancing=2): 64 MiB first
# touched on the slow node 1 and then used again and again is promoted to
# node 0 (pgpromote_success). Scan delays are shortened through debugfs.
host() {
	DESC="two tiers (HMAT), numa_balancing=2: 64 MiB first touched on node 1, re-touched for 12 s, promoted to node 0"
	. "$workloads/tiering.inc"
	tiering_machine
}

run() {
	echo 1 > /sys/kernel/mm/numa/demotion_enabled
	echo 2 > /proc/sys/kernel/numa_balancing
	for f in scan_delay_ms:100 scan_period_min_ms:100 scan_period_max_ms:400; do
		echo ${f#*:} > /sys/kernel/debug/sched/numa_balancing/${f%:*}
	done
	sample $OUT 250 &
	run_in ccmm ccmm-hog -b 1 -p 48 -i 250 64
	st=$?
	touch $OUT/.stop
	wait
	return $st
}
