#!/usr/bin/env bash
# run-fuzz.sh EXE SECONDS MAX_LEN DICT OUTDIR SEED...: fuzz one target.
#
# OUTDIR keeps the corpus (OUTDIR/corpus, grown run after run; with
# FUZZ_FRESH=1 it starts again from the seeds, as the suite does so that its
# time stays bounded; FUZZ_MAX_SEEDS below), the findings
# (OUTDIR/artifacts: crash-*, timeout-*, oom-*, leak-*; slow-unit-* and
# timeouts that replay in under CPU_LIMIT s of CPU, slow-load-*, are kept
# but not findings: on a shared machine they measure the load) and a log of
# every run (OUTDIR/history: date, seconds it took, executions, findings),
# so that runs add up across sessions. SEEDs are files, directories or
# globs; they are copied into OUTDIR/seeds. Prints the executions and the
# findings; exits 0 only when the target ran its time without a finding. A
# finding is printed (its bytes, escaped) with how to keep it once fixed.
set -uo pipefail
exe=$1 seconds=$2 max_len=$3 dict=$4 out=$5
shift 5
target=$(basename "$exe"); target=${target#fuzz_}
[ -n "${FUZZ_FRESH:-}" ] && rm -rf "$out/corpus"
rm -rf "$out/seeds"  # this run's seeds only
mkdir -p "$out/corpus" "$out/artifacts" "$out/seeds"
# absolute paths: the targets work in a sandbox directory of their own (fuzz.h)
exe=$(realpath "$exe"); dict=$(realpath "$dict"); out=$(realpath "$out")
shopt -s nullglob
for pat in "$@"; do
  if [ -d "$pat" ]; then
    for f in "$pat"/*; do [ -f "$f" ] && cp -f "$f" "$out/seeds/"; done
  else
    # shellcheck disable=SC2206
    files=($pat)
    for f in "${files[@]}"; do [ -f "$f" ] && cp -f "$f" "$out/seeds/$(basename "$(dirname "$f")")-$(basename "$f")"; done
  fi
done
# FUZZ_MAX_SEEDS=N (the suite): keep an even sample of N seeds, so that a
# target whose inputs are slow (run) spends its time fuzzing, not loading
if [ -n "${FUZZ_MAX_SEEDS:-}" ]; then
  mapfile -t all < <(ls "$out/seeds" | sort)
  if [ ${#all[@]} -gt "$FUZZ_MAX_SEEDS" ]; then
    for i in "${!all[@]}"; do
      [ $((i * FUZZ_MAX_SEEDS / ${#all[@]})) -ne $(((i + 1) * FUZZ_MAX_SEEDS / ${#all[@]})) ] || rm -f "$out/seeds/${all[$i]}"
    done
  fi
fi
findings() { ls "$out/artifacts" | grep -vcE '^slow-(unit|load)-'; }
before=$(findings)
# the targets' sandboxes: in memory where possible (outputs are fsynced)
tmp=$(mktemp -d "$( [ -d /dev/shm ] && [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/ccmm-fuzz.XXXXXX")
log="$out/log.txt"
: >"$log"
t0=$(date +%s)
execs=0 status=0
# A timeout is libFuzzer's wall clock (-timeout): on a loaded machine (2
# cores, many builds, and the fuzzer at nice 19) a unit that takes 3 s of
# CPU can pass 20 s. Each new timeout is replayed once: it is a finding
# when it takes CPU_LIMIT seconds of CPU, otherwise it becomes slow-load-*
# (kept, not a finding, as slow-unit-* are; taken out of the corpus) and
# libFuzzer, which stops at a timeout, starts again for the time left,
# from the corpus it has grown. FUZZ_WALL_LIMIT changes the wall limit.
WALL_LIMIT=${FUZZ_WALL_LIMIT:-60} CPU_LIMIT=10
while :; do
  left=$((seconds - ($(date +%s) - t0)))
  [ "$left" -ge 1 ] || break
  touch "$out/.start"
  # stdin from /dev/null: an input naming /dev/stdin as a trace must not wait
  TMPDIR="$tmp" "$exe" -max_total_time="$left" -timeout=$WALL_LIMIT -rss_limit_mb=2560 -max_len="$max_len" \
    -dict="$dict" -artifact_prefix="$out/artifacts/" -print_final_stats=1 -close_fd_mask=1 \
    "$out/corpus" "$out/seeds" </dev/null >"$log.run" 2>&1
  status=$?
  cat "$log.run" >>"$log"
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log.run" | tail -1)
  execs=$((execs + ${n:-0}))
  load=0
  for a in "$out"/artifacts/timeout-*; do
    [ -e "$a" ] && [ "$a" -nt "$out/.start" ] || continue
    cpu=$( { TIMEFORMAT='%U %S'; time TMPDIR="$tmp" "$exe" -timeout=120 "$a" >/dev/null 2>&1; } 2>&1 | awk '{ printf "%d", $1 + $2 }')
    if [ "${cpu:-999}" -lt $CPU_LIMIT ]; then
      echo "$(basename "$a"): ${cpu} s of CPU when replayed; a timeout of the machine's load, not a finding" >>"$log"
      # out of the corpus and the seeds, or the next start stops at it again
      for f in "$out"/corpus/* "$out"/seeds/*; do cmp -s "$a" "$f" && rm -f "$f"; done
      mv -f "$a" "$out/artifacts/slow-load-${a##*/timeout-}"
      load=1
    fi
  done
  # go on only after a timeout that was the load, with no other finding
  [ "$status" -ne 0 ] && [ $load -eq 1 ] && [ "$(findings)" -eq "$before" ] || break
  status=0
done
rm -f "$log.run"
rm -rf "$tmp"
elapsed=$(( $(date +%s) - t0 ))
after=$(findings)
found=$((after - before))
printf '%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$elapsed" "${execs:-0}" "$found" >>"$out/history"
total=$(awk -F'\t' '{ s += $2; e += $3; f += $4 } END { printf "%d s, %d executions, %d findings", s, e, f }' "$out/history")
echo "fuzz $target: ${execs:-?} executions in ${elapsed} s (asked: ${seconds} s of fuzzing), $found new finding(s), exit $status (all runs: $total)"
if [ "$status" -ne 0 ] || [ "$found" -ne 0 ]; then
  grep -E "ERROR|SUMMARY|Test unit written|==[0-9]+==|#[0-9]+ .*in " "$log" | head -40
  for a in $(ls -t "$out/artifacts" | grep -vE '^slow-(unit|load)-' | head -3); do
    echo "--- $out/artifacts/$a ($(wc -c <"$out/artifacts/$a") bytes):"
    head -c 2000 "$out/artifacts/$a" | od -c | head -40
  done
  echo "once fixed, keep it: cp ARTIFACT tests/fuzz/regressions/$target/NAME"
  exit 1
fi
exit 0
