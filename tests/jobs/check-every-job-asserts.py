#!/usr/bin/env python3
# check-every-job-asserts.py SRCROOT: every job file shipped (anywhere in the
# tree but tests/bad/, the bad-input cases, and tests/fuzz/) asserts
# something a run can fail on, counting its includes: it expects
# violations (expect =), checks figures of its report (check =), or
# verifies data (an op's verify=, an interface file read back with
# op = check, or the process exits counted with op = exits). An op that
# must fail (ret=ERRNO) is not enough on its own: it pins an errno, not
# what the job exists to show, so a job whose only assertions are ret=
# fails this test like a job that can only pass.
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


def assertions(job_lines):
    """The kinds of assertion among a job's lines."""
    return sorted({name for line in job_lines for name, rx in ASSERTIONS if rx.search(line)})


def self_check():
    """The rule itself: ret= alone asserts nothing; each kind above does."""
    bad = []
    if assertions(["op = set_memory_decrypted buf ret=EIO", "op = free buf ret=EBUSY"]):
        bad.append("a job whose only assertions are ret= passes")
    for line, kind in [("expect = conversion_failed", "expect"), ("check = vmstat.pswpout == 0", "check"),
                       ("op = read a verify=0x31", "verify"), ("op = check memory.max 1m", "op check"),
                       ("op = exits 2", "op exits")]:
        if assertions([line]) != [kind]:
            bad.append(f"'{line}' is not read as {kind}")
    return bad


def main():
    root = sys.argv[1]
    bad = self_check()
    if bad:
        print("1..1")
        print(f"not ok 1 - the rule is broken: {'; '.join(bad)}")
        return 1
    jobs = []
    # every job file of the tree but the bad-input cases and the fuzzers' inputs
    skip = {os.path.join(root, d) for d in ("tests/bad", "tests/fuzz", ".git")}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if os.path.join(dirpath, d) not in skip and not d.startswith("build")]
        jobs += [os.path.join(dirpath, f) for f in files if f.endswith(".job")]
    jobs.sort()
    print(f"1..{len(jobs)}")
    failed = 0
    for n, job in enumerate(jobs, 1):
        rel = os.path.relpath(job, root)
        found = assertions(lines(job))
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
