#!/usr/bin/env python3
# check-every-job-asserts.py SRCROOT: every job file shipped (jobs/,
# tests/jobs/, tests/recordings/; tests/bad/ are bad-input cases) asserts
# something a run can fail on, counting its includes: it expects
# violations (expect =), checks figures of its report (check =), or
# verifies data (an op's verify=, an interface file read back with
# op = check, the process exits counted with op = exits, or an op that
# must fail with ret=ERRNO). A job that can only pass fails this test.
# TAP output, one case per job file.
import os
import re
import sys

ASSERTIONS = [
    ("expect", re.compile(r"^expect\s*=")),
    ("check", re.compile(r"^check\s*=")),
    ("verify", re.compile(r"^op\s*=.*\bverify=")),
    ("op check", re.compile(r"^op\s*=\s*check\s")),
    ("op exits", re.compile(r"^op\s*=\s*exits\s")),
    ("ret", re.compile(r"^op\s*=.*\sret=-?E[A-Z]+\b")),
]


def lines(path, depth=0):
    """The job's lines, comments stripped, with its includes read in place."""
    out = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = re.sub(r"\s[;#].*$|^[;#].*$", "", raw).strip()
            m = re.match(r"^include\s+(\S+)$", line)
            if m and depth < 8:
                out += lines(os.path.join(os.path.dirname(path), m.group(1)), depth + 1)
            elif line:
                out.append(line)
    return out


def main():
    root = sys.argv[1]
    jobs = []
    for d in ("jobs", "tests/jobs", "tests/recordings"):
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            jobs += [os.path.join(dirpath, f) for f in files if f.endswith(".job")]
    jobs.sort()
    print(f"1..{len(jobs)}")
    failed = 0
    for n, job in enumerate(jobs, 1):
        rel = os.path.relpath(job, root)
        found = sorted({name for line in lines(job) for name, rx in ASSERTIONS if rx.search(line)})
        if found:
            print(f"ok {n} - {rel}: {', '.join(found)}")
        else:
            failed += 1
            print(f"not ok {n} - {rel} asserts nothing: give it expect=, check = or verify= of what it shows")
    if len(jobs) < 50:
        print(f"not ok {len(jobs) + 1} - only {len(jobs)} job files found under {root}")
        return 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
