#!/usr/bin/env bash
# run-cli.sh CCMM SRCDIR CHECK_PNG: the answers through the command line
# (issue 13), each step a TAP case:
#   a local sweep with 1 and with 3 workers writes the same table (CSV and
#   JSON, timing columns aside); ccmm diff of two runs and of two sweeps
#   (exit 0 same, 1 changed); time series as CSV; plots of the shipped SGX,
#   DMA and tiering jobs, of a real kernel's DMA trace replayed, and of a
#   sweep: every PNG decodes and is not blank, every SVG parses and draws.
set -u
ccmm=$(realpath "$1")
src=$(realpath "$2")
check_png=$(realpath "$3")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
bad() { n=$((n + 1)); echo "not ok $n - $1"; fail=1; }
# the table without its timing: the wall_s column of the CSV, the wall_s lines of the JSON
untimed_csv() { sed 's/,[^,]*$//' "$1"; }
untimed_json() { grep -v '"wall_s"' "$1"; }
cd "$src"

grid=(tests/jobs/replay-tdx.job --vary disk.queue_depth=4,16 --vary cost.copy_mbps=5000,10000 -q)
"$ccmm" sweep "${grid[@]}" -j 1 --csv "$tmp/j1.csv" --json "$tmp/j1.json" >"$tmp/j1.txt" 2>"$tmp/j1.err"
s1=$?
"$ccmm" sweep "${grid[@]}" -j 3 --csv "$tmp/j3.csv" --json "$tmp/j3.json" >"$tmp/j3.txt" 2>"$tmp/j3.err"
s3=$?
if [ $s1 -eq 0 ] && [ $s3 -eq 0 ] && [ "$(wc -l <"$tmp/j1.csv")" -eq 5 ] &&
   diff <(untimed_csv "$tmp/j1.csv") <(untimed_csv "$tmp/j3.csv") >/dev/null &&
   diff <(untimed_json "$tmp/j1.json") <(untimed_json "$tmp/j3.json") >/dev/null &&
   diff "$tmp/j1.txt" "$tmp/j3.txt" >/dev/null; then
  ok "sweep: 4 points, the same table with -j 1 and -j 3"
else
  bad "sweep: 4 points, the same table with -j 1 and -j 3 (exit $s1, $s3)"; cat "$tmp/j1.err" "$tmp/j3.err"
  diff <(untimed_csv "$tmp/j1.csv") <(untimed_csv "$tmp/j3.csv")
fi
# the modeled time falls as the copy bandwidth doubles, at each queue depth
if awk -F, 'NR > 1 { t[$2 "," $3] = $5 } END { exit !(t["4,10000"] < t["4,5000"] && t["16,10000"] < t["16,5000"]) }' "$tmp/j1.csv"; then
  ok "sweep: the rows carry the figures (modeled time falls with a faster copy)"
else
  bad "sweep: the rows carry the figures"; cat "$tmp/j1.csv"
fi

# the shipped question (README): the TD against its non-confidential twin
"$ccmm" sweep jobs/bounce-cost.job -q --csv "$tmp/bc.csv" >/dev/null 2>"$tmp/bc.err"
sb=$?
# columns: point, platform, status, modeled_time_ns, bounced_bytes, bounce_copies.ns, ...
if [ $sb -eq 0 ] && awk -F, 'NR == 2 { td_t = $4; td_b = $5; td_c = $6; td_s = $3 }
    NR == 3 { tw_t = $4; tw_b = $5; tw_c = $6; tw_s = $3 }
    END { exit !(td_s == 0 && tw_s == 0 && td_b == 6895944 && tw_b == 0 && td_c > 0 && tw_c == 0 && td_t > 2 * tw_t) }' "$tmp/bc.csv"; then
  ok "sweep jobs/bounce-cost.job: the TD bounces 6895944 bytes and takes over twice its twin's modeled time; the twin bounces nothing"
else
  bad "sweep jobs/bounce-cost.job (exit $sb)"; cat "$tmp/bc.csv" "$tmp/bc.err"
fi

"$ccmm" run tests/jobs/replay-tdx.job --quiet --json "$tmp/a.json" >/dev/null
"$ccmm" run tests/jobs/replay-tdx.job --quiet --json "$tmp/a2.json" >/dev/null
"$ccmm" run tests/jobs/replay-tdx.job --quiet --platform platforms/tdx-guest-baseline.ini --json "$tmp/b.json" >/dev/null
"$ccmm" diff "$tmp/a.json" "$tmp/a2.json" >"$tmp/d0.txt"; d0=$?
"$ccmm" diff "$tmp/a.json" "$tmp/b.json" --min-change 5% >"$tmp/d1.txt"; d1=$?
if [ $d0 -eq 0 ] && [ $d1 -eq 1 ] && grep -q '^modeled_time_ns ' "$tmp/d1.txt" &&
   grep -q '^subsystems.swiotlb.bounced_bytes ' "$tmp/d1.txt" && grep -q 'changed' "$tmp/d0.txt"; then
  ok "diff: a run against itself (0) and against its non-confidential twin (1, changed rows listed)"
else
  bad "diff of two runs (exit $d0, $d1)"; head -20 "$tmp/d1.txt"
fi
"$ccmm" sweep "${grid[@]}" --set cost.ve_ns=3000 -j 2 --json "$tmp/k.json" >/dev/null 2>&1
"$ccmm" diff "$tmp/j1.json" "$tmp/j3.json" >/dev/null; e0=$?
"$ccmm" diff "$tmp/j1.json" "$tmp/k.json" --csv "$tmp/dk.csv" -q; e1=$?
if [ $e0 -eq 0 ] && [ $e1 -eq 1 ] && grep -q '^disk.queue_depth=4 cost.copy_mbps=5000,modeled_time_ns,' "$tmp/dk.csv"; then
  ok "diff: two sweeps joined on their keys (the same: 0; a cost changed: 1)"
else
  bad "diff of two sweeps (exit $e0, $e1)"; cat "$tmp/dk.csv"
fi

"$ccmm" run tests/jobs/replay-tdx.job --quiet --interval 100us --series "$tmp/s.csv" --json "$tmp/s.json" >/dev/null
samples=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['series']['samples'])" "$tmp/s.json")
if [ "$(($(wc -l <"$tmp/s.csv") - 1))" -eq "$samples" ] && [ "$samples" -ge 20 ] &&
   head -1 "$tmp/s.csv" | grep -q 'swiotlb.slots_used\[area 0\] (slots)'; then
  ok "time series: $samples samples in the JSON and the CSV"
else
  bad "time series CSV"; head -3 "$tmp/s.csv"
fi

# a real kernel's DMA trace replayed in one op still samples as its clock moves: the slots
# rise and fall within the run (never above the pool's high-water mark), the bytes bounced
# grow to the run's total, and the report attributes them to the device the events name
"$ccmm" run tests/answers/trace-series.job --quiet --interval 100us --json "$tmp/t.json" >/dev/null
if python3 - "$tmp/t.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ser = {(x['name'], x['label']): x['values'] for x in d['series']['series']}
slots = ser[('swiotlb.slots_used', 'area 0')]
bounced = [v for v in ser[('swiotlb.bounce_bytes', '0000:00:02.0')] if v is not None]
sw = d['subsystems']['swiotlb']
busy = sum(1 for v in slots[1:-1] if v > 0)
ok = (d['series']['samples'] >= 50 and busy >= len(slots) // 2 and max(slots) <= sw['io_tlb_used_hiwater']
      and max(slots) > sw['io_tlb_used_hiwater'] // 2 and slots[-1] == 0
      and bounced == sorted(bounced) and bounced[-1] == sw['bounced_bytes'] > 0
      and d['attribution']['0000:00:02.0']['bounce_copies']['bytes'] == sw['bounced_bytes'])
sys.exit(0 if ok else 1)
PY
then
  ok "time series: a kernel trace's replay samples within its one op; attributed to its device"
else
  bad "time series of a kernel trace's replay"
fi

# the DMA defaults name a replay's latencies too; a job without them (a kernel trace) has no such columns, no error
"$ccmm" sweep tests/answers/trace-series.job --vary platform.swiotlb_areas=1,4 -j 2 -q --csv "$tmp/ta.csv" >/dev/null 2>"$tmp/ta.err"
ta=$?
if [ $ta -eq 0 ] && [ "$(wc -l <"$tmp/ta.csv")" -eq 3 ] && head -1 "$tmp/ta.csv" | grep -q ',attribution.0000:00:02.0.bounce_copies.ns,' &&
   ! head -1 "$tmp/ta.csv" | grep -q 'clat_ns' && awk -F, 'NR > 1 && $3 != 0 { exit 1 }' "$tmp/ta.csv"; then
  ok "sweep: default figures a job does not have are no columns (a kernel trace has no replay latencies)"
else
  bad "sweep: default figures of a kernel trace (exit $ta)"; cat "$tmp/ta.err" "$tmp/ta.csv"
fi

plots() { # name, then ccmm's arguments
  local name=$1
  shift
  if "$ccmm" "$@" >"$tmp/$name.out" 2>&1 && ls "$tmp/$name"/*.png >/dev/null 2>&1 &&
     [ "$(ls "$tmp/$name"/*.png | wc -l)" -eq "$(ls "$tmp/$name"/*.svg | wc -l)" ] &&
     "$check_png" "$tmp/$name"/*.png >"$tmp/$name.png.txt" &&
     python3 "$src/tests/answers/check-image.py" "$tmp/$name"/*.svg >"$tmp/$name.svg.txt"; then
    ok "plots: $name ($(ls "$tmp/$name"/*.png | wc -l) pictures, PNG and SVG, none blank)"
  else
    bad "plots: $name"; cat "$tmp/$name.out" "$tmp/$name.png.txt" "$tmp/$name.svg.txt" 2>/dev/null
  fi
}
plots sgx run tests/jobs/sgx-policy-series.job --quiet --interval 2ms --plot "$tmp/sgx"
plots dma run tests/jobs/replay-tdx.job --quiet --interval 20us --plot "$tmp/dma"
plots tier run jobs/tiering-promote.job --quiet --interval 1ms --plot "$tmp/tier"
plots kernel-trace run tests/answers/trace-series.job --quiet --interval 100us --plot "$tmp/kernel-trace"
plots sweep plot "$tmp/j1.json" --out "$tmp/sweep"
plots sweep-run sweep "${grid[@]}" -j 2 --plot "$tmp/sweep-run"
for f in sgx.epc_pages sgx.evicted misc.current; do
  [ -f "$tmp/sgx/$f.png" ] && [ -f "$tmp/sgx/$f.gp" ] || { bad "plots: sgx has $f"; }
done
if grep -q "set arrow" "$tmp/sgx/sgx.epc_pages.gp" && grep -q "reclaim events" "$tmp/sgx/sgx.epc_pages.gp" &&
   grep -q "modeled time (ms)" "$tmp/sgx/sgx.epc_pages.gp" && grep -q "set ylabel 'pages'" "$tmp/sgx/sgx.epc_pages.gp"; then
  ok "plots: axes with units, reclaim events marked"
else
  bad "plots: axes with units, reclaim events marked"
fi
echo "1..$n"
exit $fail
