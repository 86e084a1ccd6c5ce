#!/usr/bin/env bash
# random-jobs.sh [COUNT [FIRST]]: the randomized-invariant run at length
# (the suite runs 200 seeds): COUNT generated jobs (default 10000) from seed
# FIRST (default 1), invariants after every op and at teardown. Each failing
# seed prints its job (TAP "not ok" with the job as "#" lines); the last
# line is "N passed, N failed". Needs a build in build/ (meson setup build).
set -uo pipefail
cd "$(dirname "$0")/.."
exe=build/tests/test_random_jobs
[ -x "$exe" ] || { echo "no $exe: meson setup build && ninja -C build" >&2; exit 2; }
count=${1:-10000}
first=${2:-1}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$exe" "$count" "$first" > "$log"
status=$?
grep -A200 '^not ok' "$log" | grep -E '^(not ok|#)' || true
echo "$(grep -c '^ok' "$log") passed, $(grep -c '^not ok' "$log") failed"
exit $status
