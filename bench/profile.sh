#!/usr/bin/env bash
# Profile ccmm's own speed with valgrind's callgrind, which counts
# instructions (repeatable on a busy or virtual machine, where perf has no
# hardware counters): for each workload, the total instructions and the top
# functions by self instructions (inclusive of nothing they call).
#
#   bench/profile.sh [BUILD_DIR] [TOP]      (default: build, 15)
#
# Workloads: the default job, a bounce-heavy replay (replay-tdx.job), the
# SGX trace replays (sgx-traces.job, sgx-large-trace.job) and the checker
# benchmark (200 000 accesses per form), the eager-mode bounce of 4 KiB. Output is Markdown, as kept in
# bench/PROFILE.md. Runs from the source tree; needs valgrind.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
top=${2:-15}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

profile() { # title, command...
	local title=$1
	shift
	valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" "$@" >/dev/null 2>"$out/vg.err" || {
		echo "profile: '$*' failed:" >&2
		tail -20 "$out/vg.err" >&2
		exit 1
	}
	echo "### $title"
	echo
	echo '`'"$*"'`'
	echo
	python3 bench/cg_top.py "$out/cg.out" "$top"
	echo
}

profile "default job" "$build/ccmm" run --quiet
profile "bounce-heavy replay: replay-tdx.job" "$build/ccmm" run --quiet tests/jobs/replay-tdx.job
profile "SGX trace replay: sgx-traces.job (sqlite, gzip)" "$build/ccmm" run --quiet tests/jobs/sgx-traces.job
profile "SGX trace replay: sgx-large-trace.job (sort, 2M refs)" "$build/ccmm" run --quiet tests/jobs/sgx-large-trace.job
profile "checker benchmark (200 000 accesses per form)" "$build/bench/bench_checker" 40000 # 5 runs of 40 000
profile "eager bounce, 4 KiB (16 000 round trips)" "$build/bench/bench_bounce" 0 eager 4096
