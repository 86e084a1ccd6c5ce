#!/usr/bin/env python3
"""Count test cases across meson build directories and print 'N passed, N failed'.

A TAP test counts each 'ok' / 'not ok' line of its output (cmocka cases);
any other test counts once, by its result. A build directory whose tests
did not run (no log) counts as one failure, so a broken build never reads
as a clean run. Exit status 0 only when nothing failed.
"""
import json
import os
import re
import sys

passed = failed = skipped = 0
for d in sys.argv[1:]:
    log = os.path.join(d, "meson-logs", "testlog.json")
    if not os.path.exists(log):
        print(f"{d}: no test log (the build or the run failed)", file=sys.stderr)
        failed += 1
        continue
    with open(log) as f:
        for line in f:
            t = json.loads(line)
            out = t.get("stdout") or ""
            cases = re.findall(r"^(not ok|ok)\b[^\n]*", out, re.M)
            is_tap = re.search(r"^1\.\.\d+", out, re.M) is not None
            if is_tap and cases:
                for c in cases:
                    if c.startswith("not ok"):
                        failed += 1
                    elif "# SKIP" in c:
                        skipped += 1
                    else:
                        passed += 1
                # a TAP program that crashed after its cases still fails
                if t["result"] not in ("OK", "SKIP") and not any(c.startswith("not ok") for c in cases):
                    failed += 1
            elif t["result"] == "SKIP":
                skipped += 1
            elif t["result"] in ("OK", "EXPECTEDFAIL"):
                passed += 1
            else:
                failed += 1
print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
sys.exit(1 if failed else 0)
