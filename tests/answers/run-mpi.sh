#!/usr/bin/env bash
# run-mpi.sh CCMM SRCDIR NP: an MPI sweep with NP ranks (mpirun on this
# machine, oversubscribed, as root where Open MPI asks for it) writes the
# same table as a local sweep of the same grid, byte for byte apart from the
# timing column; and bad input stops every rank with exit 2. TAP.
set -u
ccmm=$(realpath "$1")
src=$(realpath "$2")
np=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$src"
launcher=(mpirun -np "$np")
if mpirun --version 2>&1 | grep -qi "open mpi"; then
  launcher+=(--oversubscribe)
  [ "$(id -u)" -eq 0 ] && launcher+=(--allow-run-as-root)
fi
# the MPI library's own allocations are not ccmm's to answer for under LeakSanitizer
export ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0"
grid=(tests/jobs/replay-tdx.job --vary disk.queue_depth=4,16 --vary cost.copy_mbps=5000,10000,20000 -q)
fail=0
"$ccmm" sweep "${grid[@]}" -j 2 --csv "$tmp/local.csv" --json "$tmp/local.json" >"$tmp/local.txt" 2>&1 || fail=1
"${launcher[@]}" "$ccmm" sweep "${grid[@]}" --mpi --csv "$tmp/mpi.csv" --json "$tmp/mpi.json" >"$tmp/mpi.txt" 2>&1 || fail=1
if [ $fail -eq 0 ] && [ "$(wc -l <"$tmp/mpi.csv")" -eq 7 ] &&
   diff <(sed 's/,[^,]*$//' "$tmp/local.csv") <(sed 's/,[^,]*$//' "$tmp/mpi.csv") >/dev/null &&
   diff <(grep -v '"wall_s"' "$tmp/local.json") <(grep -v '"wall_s"' "$tmp/mpi.json") >/dev/null; then
  echo "ok 1 - an MPI sweep on $np ranks writes the local sweep's table (6 points, CSV and JSON)"
else
  echo "not ok 1 - an MPI sweep on $np ranks writes the local sweep's table"
  cat "$tmp/mpi.txt"
  diff "$tmp/local.csv" "$tmp/mpi.csv"
  fail=1
fi
"${launcher[@]}" "$ccmm" sweep tests/jobs/replay-tdx.job --mpi --vary disk.queue_dept=4,16 >"$tmp/bad.txt" 2>&1
st=$?
if [ $st -ne 0 ] && grep -q "did you mean 'queue_depth'" "$tmp/bad.txt" && [ "$(grep -c "did you mean" "$tmp/bad.txt")" -eq 1 ]; then
  echo "ok 2 - bad input under MPI: one error line (from rank 0), every rank stops"
else
  echo "not ok 2 - bad input under MPI (exit $st)"
  cat "$tmp/bad.txt"
  fail=1
fi
echo "1..2"
exit $fail
