#!/usr/bin/env bash
# run-policy-cross.sh CCMM JOBDIR: each sgx-policy-P.job asserts what its
# policy P does (check= lines), so run under either other policy it must
# fail its checks: exit 1 with at least one "check ... failed" and no run
# error. The job is copied beside its include and platform with only its
# sgx_reclaim line changed.
set -u
ccmm=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp "$src/sgx-policy.inc" "$src/sgx-small.ini" "$tmp/"
fail=0
for job in series global cgroup; do
  for policy in series global cgroup; do
    [ "$job" = "$policy" ] && continue
    f="$tmp/sgx-policy-$job-under-$policy.job"
    sed "s/^sgx_reclaim = $job\$/sgx_reclaim = $policy/" "$src/sgx-policy-$job.job" > "$f"
    grep -q "^sgx_reclaim = $policy\$" "$f" || { echo "sgx-policy-$job.job: no sgx_reclaim = $job line to change"; fail=1; continue; }
    "$ccmm" run --quiet "$f" > "$tmp/out" 2> "$tmp/err"
    status=$?
    if [ $status -ne 1 ] || ! grep -q ": check .* failed: " "$tmp/err" || grep -q "run error" "$tmp/out"; then
      echo "sgx-policy-$job.job under sgx_reclaim = $policy: expected failed checks (exit 1), got exit $status:"
      cat "$tmp/out" "$tmp/err"
      fail=1
    else
      echo "ok: sgx-policy-$job.job under $policy fails: $(grep -c ': check .* failed: ' "$tmp/err") check(s)"
    fi
  done
done
exit $fail
