#!/usr/bin/env bash
# run-cgroupfs.sh CCMM JOBDIR: [global] cgroupfs = DIR dumps the cgroup
# hierarchy at the end of a run in cgroupfs layout. Runs the misc-formats
# job with the dump into a temporary directory and checks the tree: files
# where the kernel has them, with the kernel's content; a failing run
# (an op error still gives a complete dump) and a run error (no dump).
set -u
ccmm=$(realpath "$1")
jobs=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
expect() { # file content
  if [ "$(cat "$tmp/fs/$1" 2>/dev/null)" != "$2" ]; then
    echo "$1: got '$(cat "$tmp/fs/$1" 2>&1)', expected '$2'"; fail=1
  fi
}
absent() {
  if [ -e "$tmp/fs/$1" ]; then echo "$1 should not exist"; fail=1; fi
}
{ echo "[global]"; echo "cgroupfs = $tmp/fs"; sed '1,/^\[global\]/d' "$jobs/sgx-misc-formats.job"; } > "$tmp/job.job"
cp "$jobs/sgx-small.ini" "$tmp/"
(cd "$tmp" && "$ccmm" run --quiet job.job >/dev/null) || { echo "the run failed"; fail=1; }
expect misc.capacity "sgx_epc 2097152"
expect misc.current "sgx_epc 0"
expect cgroup.controllers "cpuset memory misc dmem"
expect cgroup.subtree_control "memory misc"
expect a/misc.max "sgx_epc 12288"
expect a/misc.events "sgx_epc.max 27"
expect a/misc.events.local "sgx_epc.max 27"
expect a/b/misc.peak "sgx_epc 16384"
expect a/b/cgroup.procs ""
expect a/b/cgroup.events "populated 0
frozen 0"
expect vm/misc.max "sgx_epc 4096"
expect a/memory.max "max"
absent misc.max
absent a/misc.capacity
absent a/b/cgroup.kill
# a second run replaces the dump; a directory that is not a dump is refused and left alone
(cd "$tmp" && "$ccmm" run --quiet job.job >/dev/null) || { echo "the second run failed"; fail=1; }
expect a/misc.max "sgx_epc 12288"
mkdir "$tmp/mine"; echo keep > "$tmp/mine/file"
sed "s|cgroupfs = .*|cgroupfs = $tmp/mine|" "$tmp/job.job" > "$tmp/job2.job"
(cd "$tmp" && "$ccmm" run --quiet job2.job >/dev/null 2>"$tmp/err"); st=$?
[ $st -eq 2 ] || { echo "dumping over a non-dump directory: exit $st, expected 2"; fail=1; }
grep -q "not a previous cgroupfs dump" "$tmp/err" || { echo "no clear error: $(cat "$tmp/err")"; fail=1; }
[ "$(cat "$tmp/mine/file")" = keep ] || { echo "the directory was touched"; fail=1; }
ls "$tmp" | grep -q '\.tmp\.' && { echo "a temporary dump was left behind"; fail=1; }
exit $fail
