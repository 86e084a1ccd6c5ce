#!/usr/bin/env bash
# run-explore.sh CCMM DIR NAME BUDGET CLEAN: a race the seeds found by hand,
# from a job (DIR/NAME.job) that does not order it, with its bug switch on,
# and its fixed twin (DIR/NAME-fixed.job). The case passes when
#   1. the default schedule misses the race (ccmm run exits 0);
#   2. ccmm explore finds a schedule that breaks the job within BUDGET
#      schedules (exit 1) and writes it out;
#   3. ccmm run --schedule replays it to the same verdict (exit 1, the same
#      result line);
#   4. exploring again with another number of processes finds the same
#      schedule (deterministic for a seed);
#   5. ccmm explore runs CLEAN schedules of the fixed twin clean (exit 0).
set -u
ccmm=$(realpath "$1")
dir=$2
name=$3
budget=$4
clean=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$dir" || exit 1
fail=0

"$ccmm" run --quiet "$name.job" >"$tmp/default" 2>&1
st=$?
[ $st -eq 0 ] || { echo "the default schedule should miss the race (exit $st):"; cat "$tmp/default"; fail=1; }

"$ccmm" explore "$name.job" --schedules "$budget" --seed 1 --jobs 2 --schedule-out "$tmp/s" >"$tmp/explore" 2>&1
st=$?
head -n 3 "$tmp/explore"
if [ $st -ne 1 ] || ! grep -q "broke the job" "$tmp/explore"; then
  echo "explore should find a schedule that breaks $name.job within $budget (exit $st):"; cat "$tmp/explore"; fail=1
fi
want=$(grep '^result:' "$tmp/explore" | head -n 1)

if [ -s "$tmp/s" ]; then
  "$ccmm" run --quiet "$name.job" --schedule "$tmp/s" >"$tmp/replay" 2>&1
  st=$?
  got=$(grep '^result:' "$tmp/replay" | head -n 1)
  if [ $st -ne 1 ] || [ "$got" != "$want" ]; then
    echo "the schedule file should replay the failure (exit $st):"; echo "want: $want"; echo "got:  $got"; fail=1
  fi
  "$ccmm" explore "$name.job" --schedules "$budget" --seed 1 --jobs 1 --schedule-out "$tmp/s1" >"$tmp/explore1" 2>&1
  if [ "$(grep 'broke the job' "$tmp/explore")" != "$(grep 'broke the job' "$tmp/explore1")" ] || ! cmp -s "$tmp/s" "$tmp/s1"; then
    echo "explore is not deterministic for a seed across --jobs 2 and --jobs 1:"; grep 'broke' "$tmp/explore" "$tmp/explore1"; fail=1
  fi
fi

"$ccmm" explore "$name-fixed.job" --schedules "$clean" --seed 1 --jobs 2 --schedule-out "$tmp/f" >"$tmp/fixed" 2>&1
st=$?
head -n 3 "$tmp/fixed"
if [ $st -ne 0 ] || ! grep -q "$clean schedule(s) tried" "$tmp/fixed"; then
  echo "the fixed twin should run $clean schedules clean (exit $st):"; cat "$tmp/fixed"; fail=1
fi
exit $fail
