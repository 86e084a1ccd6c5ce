#!/usr/bin/env python3
"""Count test cases once across meson builds and print 'N passed, N failed'.

usage: summarize-tests.py RUN...

A RUN is a build directory (its meson-logs/testlog.json) or a meson test
log file (e.g. build/meson-logs/testlog-valgrind.json, from meson test
--logbase testlog-valgrind). Its label is the build directory's name, with
the log's suffix for a log other than testlog.json ("build/valgrind").

A test case is identified by its test name and, for a TAP test, its case
name (the text after "ok N -"; the number when there is none). The same case
run by several builds (plain, ASan+UBSan, TSan, valgrind) counts once: failed
if it failed in any of them, passed if it passed in one and failed in none,
skipped only if every run skipped it. A TAP program that exits badly without
reporting a failed case adds a failed case "TEST (exit)"; a non-TAP test is
one case. A run whose log is missing adds a failed case of its own, so a
broken build never reads as a clean run.

Prints one line per run (its own counts), then the final line
"N passed, N failed" (", N skipped" when some were). Exit status 0 only when
nothing failed.
"""
import json
import os
import re
import sys

CASE = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?(.*?)\s*$")
DIRECTIVE = re.compile(r"\s+#\s*(SKIP|TODO)\b.*$", re.I)

PASS, SKIP, FAIL = 0, 1, 2


def run_log(arg):
    """(label, path of the JSON log) for a RUN argument."""
    if os.path.isdir(arg) or not arg.endswith(".json"):
        return os.path.basename(os.path.normpath(arg)), os.path.join(arg, "meson-logs", "testlog.json")
    base = os.path.basename(arg)
    build = os.path.basename(os.path.dirname(os.path.dirname(os.path.abspath(arg))))
    suffix = base[len("testlog"):-len(".json")].lstrip("-") if base.startswith("testlog") else base
    return (f"{build}/{suffix}" if suffix else build), arg


def cases_of(t):
    """The cases one test record reports: a list of (case id, outcome)."""
    name = t["name"]
    out = t.get("stdout") or ""
    result = t["result"]
    tap = re.search(r"^1\.\.\d+", out, re.M) is not None
    lines = [m for m in (CASE.match(l) for l in out.splitlines()) if m]
    if not tap or not lines:
        if result == "SKIP":
            return [(name, SKIP)]
        return [(name, PASS if result in ("OK", "EXPECTEDFAIL") else FAIL)]
    found = []
    seen = {}
    for m in lines:
        status, number, text = m.group(1), m.group(2), m.group(3)
        skip = DIRECTIVE.search(text)
        text = DIRECTIVE.sub("", text).strip()
        case = text or (number or "?")
        # the same case name twice in one program: keep both, numbered
        seen[case] = seen.get(case, 0) + 1
        if seen[case] > 1:
            case = f"{case} #{seen[case]}"
        if status == "not ok":
            outcome = FAIL
        elif skip and skip.group(1).upper() == "SKIP":
            outcome = SKIP
        else:
            outcome = PASS
        found.append((f"{name} / {case}", outcome))
    # a TAP program that crashed or failed after its cases still fails
    if result not in ("OK", "SKIP", "EXPECTEDFAIL") and not any(o == FAIL for _, o in found):
        found.append((f"{name} (exit)", FAIL))
    return found


def main(argv):
    merged = {}  # case id -> worst-first merge of outcomes
    lines = []
    for arg in argv:
        label, path = run_log(arg)
        counts = [0, 0, 0]
        if not os.path.exists(path):
            lines.append(f"{label}: no test log (the build or the run failed)")
            merged[f"{label}: test log"] = {FAIL}
            continue
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                for case, outcome in cases_of(json.loads(line)):
                    counts[outcome] += 1
                    merged.setdefault(case, set()).add(outcome)
        extra = f", {counts[SKIP]} skipped" if counts[SKIP] else ""
        lines.append(f"{label}: {counts[PASS]} passed, {counts[FAIL]} failed{extra}")
    passed = failed = skipped = 0
    for outcomes in merged.values():
        if FAIL in outcomes:
            failed += 1
        elif PASS in outcomes:
            passed += 1
        else:
            skipped += 1
    for l in lines:
        print(l)
    print(f"{passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
