# A cgroup over memory.max with demotion on: reclaim demotes its pages to
# node 1 (pgdemote_direct), but demoted pages stay charged, so it is still
# over the limit and is OOM-killed.
host() {
	DESC="two tiers (HMAT), demotion_enabled, a 128 MiB memory.max cgroup touching 256 MiB: demotion, then OOM"
	. "$workloads/tiering.inc"
	tiering_machine
}

run() {
	echo 1 > /sys/kernel/mm/numa/demotion_enabled
	mkdir -p $CG/tier
	echo 128M > $CG/tier/memory.max
	echo 0 > $CG/tier/memory.swap.max 2>/dev/null
	sample $OUT 200 &
	run_in tier ccmm-hog -k 500 256
	st=$?
	usleep 400000
	touch $OUT/.stop
	wait
	echo "ccmm-hog exit status $st"
	# killed by the memcg OOM killer (SIGKILL) is the expected end
	[ $st = 137 ]
}
