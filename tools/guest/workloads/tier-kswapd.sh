# Pressure on node 0: 320 MiB bound to node 0 (MPOL_BIND, which allows no
# fallback) with demotion on, so kswapd and direct reclaim demote node 0's
# cold pages to node 1.
host() {
	DESC="two tiers (HMAT), demotion_enabled, 320 MiB bound to node 0: kswapd and direct demotion to node 1"
	. "$workloads/tiering.inc"
	tiering_machine
}

run() {
	echo 1 > /sys/kernel/mm/numa/demotion_enabled
	sample $OUT 200 &
	run_in ccmm ccmm-hog -b 0 -k 1000 320
	st=$?
	touch $OUT/.stop
	wait
	return $st
}
