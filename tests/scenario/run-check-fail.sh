#!/usr/bin/env bash
# run-check-fail.sh CCMM: a check that fails after the run is an expectation
# failure, not bad input: exit 1, "FILE:LINE: check PATH OP VALUE failed:
# got X (off by D)" on stderr, and both reports written (the JSON with a
# "checks" array holding each check's result).
set -u
ccmm=$(realpath "$1")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
cat > fail.job <<'JOB'
[task]
actor = guest_task
op = alloc buf 64k
op = write buf
check = .ops == 2
check = .ops < 2
check = jobs[task].counterz.x > 0
JOB
"$ccmm" run fail.job --json report.json > report.txt 2> err.txt
status=$?
fail=0
[ $status -eq 1 ] || { echo "expected exit status 1, got $status"; fail=1; }
grep -qxF 'fail.job:6: check .ops < 2 failed: got 2 (off by 0)' err.txt || { echo "no message for line 6:"; cat err.txt; fail=1; }
grep -qF "fail.job:7: check jobs[task].counterz.x > 0 failed: no key 'counterz' under 'jobs[task]'; did you mean 'counters'?" err.txt ||
  { echo "no message for line 7:"; cat err.txt; fail=1; }
grep -q 'check .ops == 2 -> got 2: ok' report.txt || { echo "the text report lacks the passing check"; fail=1; }
grep -q '2 check(s) failed -> NOT as expected' report.txt || { echo "the text report's verdict:"; tail -1 report.txt; fail=1; }
python3 - <<'PY' || fail=1
import json
d = json.load(open("report.json"))
c = d["checks"]
assert [x["passed"] for x in c] == [True, False, False], c
assert c[1]["message"] == "fail.job:6: check .ops < 2 failed: got 2 (off by 0)", c[1]
assert c[2]["found"] is False, c[2]
assert d["result"]["checks_failed"] == 2 and d["result"]["exit_status"] == 1, d["result"]
PY
exit $fail
