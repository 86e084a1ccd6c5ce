#!/usr/bin/env python3
"""scripts/summarize-tests.py counts each case once across builds (TAP output).

Builds three fake runs' meson logs and checks, one TAP case each: a case
passing in three builds counts once; a case failing in any build is failed;
skipped everywhere is skipped, skipped in one and passed in another is
passed; a TAP program that exits badly after passing cases adds a failed
case; a non-TAP test is one case; a missing log is a failure; each run's own
figures are printed above the final line; the exit status follows.
"""
import json
import os
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
script = os.path.join(here, "..", "..", "scripts", "summarize-tests.py")


def tap(*cases, plan=None):
    return "1..%d\n" % (plan or len(cases)) + "".join(c + "\n" for c in cases)


def write_log(d, records, name="testlog.json"):
    os.makedirs(os.path.join(d, "meson-logs"), exist_ok=True)
    with open(os.path.join(d, "meson-logs", name), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")


def summarize(*runs):
    p = subprocess.run([sys.executable, script, *runs], capture_output=True, text=True)
    return p.returncode, p.stdout.strip().splitlines()


checks = []


def check(what, cond):
    checks.append((what, bool(cond)))


with tempfile.TemporaryDirectory() as tmp:
    plain, asan, tsan = (os.path.join(tmp, n) for n in ("build", "build-asan", "build-tsan"))
    unit_ok = {"name": "util", "result": "OK", "stdout": tap("ok 1 - test_a", "ok 2 - test_b")}
    write_log(plain, [unit_ok, {"name": "job-x", "result": "OK", "stdout": ""},
                      {"name": "sk", "result": "OK", "stdout": tap("ok 1 - s # SKIP no device", "ok 2 - t # SKIP")}])
    write_log(asan, [{"name": "util", "result": "FAIL", "stdout": tap("ok 1 - test_a", "not ok 2 - test_b")},
                     {"name": "job-x", "result": "OK", "stdout": ""},
                     {"name": "sk", "result": "OK", "stdout": tap("ok 1 - s", "ok 2 - t # SKIP")}])
    write_log(tsan, [unit_ok, {"name": "crashy", "result": "FAIL", "stdout": tap("ok 1 - c1", plan=3)}])
    write_log(plain, [{"name": "bad-y", "result": "OK", "stdout": ""}], name="testlog-valgrind.json")

    rc, out = summarize(plain, asan, tsan, os.path.join(plain, "meson-logs", "testlog-valgrind.json"))
    # cases: util/test_a pass, util/test_b fail (asan), job-x pass, sk/s pass (passed in asan),
    # sk/t skipped everywhere, crashy/c1 pass, crashy (exit) fail, bad-y pass
    check("each case counted once, failed if it failed in any build", out[-1] == "5 passed, 2 failed, 1 skipped")
    check("exit status 1 when something failed", rc == 1)
    check("per-run figures above the final line", out[:-1] == [
        "build: 3 passed, 0 failed, 2 skipped",
        "build-asan: 3 passed, 1 failed, 1 skipped",
        "build-tsan: 3 passed, 1 failed",
        "build/valgrind: 1 passed, 0 failed",
    ])
    rc, out = summarize(plain)
    check("a clean run exits 0", rc == 0 and out[-1] == "3 passed, 0 failed, 2 skipped")
    rc, out = summarize(plain, os.path.join(tmp, "build-missing"))
    check("a missing log is a failure", rc == 1 and out[-1] == "3 passed, 1 failed, 2 skipped"
          and "build-missing: no test log (the build or the run failed)" in out)

print("1..%d" % len(checks))
for i, (what, ok) in enumerate(checks, 1):
    print("%s %d - %s" % ("ok" if ok else "not ok", i, what))
sys.exit(0 if all(ok for _, ok in checks) else 1)
