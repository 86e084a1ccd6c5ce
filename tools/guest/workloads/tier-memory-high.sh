# A cgroup over memory.high with demotion on: reclaim demotes its pages
# (they stay charged), so it stays over high and is throttled; it is not
# killed. The program is stopped after 12 s.
host() {
	DESC="two tiers (HMAT), demotion_enabled, a 96 MiB memory.high cgroup touching 192 MiB: throttled, demoted"
	. "$workloads/tiering.inc"
	tiering_machine
}

run() {
	echo 1 > /sys/kernel/mm/numa/demotion_enabled
	mkdir -p $CG/tier
	echo 96M > $CG/tier/memory.high
	sample $OUT 250 &
	run_in tier timeout 12 ccmm-hog -k 2000 192
	st=$?
	touch $OUT/.stop
	wait
	echo "ccmm-hog exit status $st"
	# finished, or stopped by timeout (143) while throttled
	[ $st = 0 ] || [ $st = 143 ]
}
