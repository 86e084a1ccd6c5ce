#!/usr/bin/env bash
# run-dependent-ops.sh CCMM SRCROOT: an op that depends on one that failed
# at run time is an op error at its line naming that op ("FILE:LINE: map:
# depends on attach at FILE:LINE, which failed: -EOPNOTSUPP"), not bad
# input: the actor stops there, the other actors go on, the run exits 1
# and both reports are written. Three cases (a refused attach then map, a
# failed alloc then write, a failed map then unmap), an actor waiting for
# a signal the stopped actor never sends (stopped too, not a deadlock),
# and the same in threads mode.
set -u
ccmm=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
cp "$src/tests/jobs/p2p-host.ini" "$src/tests/jobs/sgx-small.ini" "$src/platforms/pseries-svm.ini" .
fail=0

# run NAME: ccmm run NAME.job with both reports; exit 1 wanted
run() {
  "$ccmm" run "$1.job" --json "$1.json" > "$1.txt" 2> "$1.err"
  local status=$?
  if [ $status -ne 1 ]; then echo "$1: expected exit status 1, got $status"; cat "$1.err"; fail=1; fi
  [ -s "$1.json" ] || { echo "$1: no JSON report"; fail=1; }
  grep -q "NOT as expected" "$1.txt" || { echo "$1: the text report's verdict:"; tail -1 "$1.txt"; fail=1; }
  grep -q "run error" "$1.txt" && { echo "$1: a run error:"; grep "run error" "$1.txt"; fail=1; }
}
# says NAME LINE: stderr and the text report hold the dependent op error
says() {
  grep -qxF -- "$2" "$1.err" || { echo "$1: stderr lacks: $2"; cat "$1.err"; fail=1; }
  grep -qF -- "op error: $2" "$1.txt" || { echo "$1: the text report lacks: op error: $2"; fail=1; }
}
# json NAME PYTHON-EXPR: holds for the JSON report d
json() {
  python3 -c "import json, sys; d = json.load(open('$1.json')); j = {x['jobname']: x for x in d['jobs']}; sys.exit(0 if ($2) else 1)" ||
    { echo "$1: the JSON report fails: $2"; fail=1; }
}

cat > attach.job <<'JOB'
[global]
platform = p2p-host.ini

[vfio]
actor = vfio
device = vf0
op = export client size=64k
op = signal exported
op = sleep 1ms
op = revoke client

[rdma]
actor = importer
role = rdma
device = gpu0
op = wait exported
op = attach client
op = map client
op = read client len=4k
JOB
run attach
says attach "attach.job:18: map: depends on attach at attach.job:17, which failed: -EOPNOTSUPP"
json attach "j['rdma']['ops'] == 2 and j['vfio']['ops'] == 4 and d['result']['exit_status'] == 1"
json attach "[e['dependent'] for e in j['rdma']['op_errors']] == [False, True]"

for mode in sim threads; do
# 16 blocks of 4 MiB fill the 64 MiB node; the 17th fails
cat > alloc-$mode.job <<JOB
[global]
platform = sgx-small.ini
mode = $mode

[task]
actor = guest_task
$(for i in $(seq 1 16); do echo "op = alloc fill$i 4m"; done)
op = alloc buf 4m
op = write buf
op = signal ready

[disk]
actor = device
device = none
op = wait ready
op = dma_read buf

[other]
actor = guest_task
op = sleep 1us
op = sleep 1us
op = signal other_done
JOB
done
sed -i '/^device = none$/d; s/^actor = device$/actor = guest_task/; s/^op = dma_read buf$/op = read buf/' alloc-sim.job alloc-threads.job
for mode in sim threads; do
  run alloc-$mode
  says alloc-$mode "alloc-$mode.job:24: write: depends on alloc at alloc-$mode.job:23, which failed: -ENOMEM"
  says alloc-$mode "alloc-$mode.job:29: wait: waits for 'ready', which will not come: [task] stopped at line 24"
  json alloc-$mode "j['other']['ops'] == 3 and j['other']['error'] == 0 and j['disk']['ops'] == 0"
done

cat > map.job <<'JOB'
[global]
platform = pseries-svm.ini

[drv]
actor = dma_driver
device = nic32
op = probe
op = alloc buf 4k
op = dma_map_single m buf
op = dma_unmap_single m
op = free buf
JOB
run map
says map "map.job:10: dma_unmap_single: depends on dma_map_single at map.job:9, which failed: -EIO"
json map "j['drv']['ops'] == 3 and [e['op'] for e in j['drv']['op_errors']] == ['dma_map_single', 'dma_unmap_single']"
exit $fail
