#!/usr/bin/env python3
"""Top functions by self instructions from a callgrind output file, as a
Markdown table. Functions without symbols (stripped libraries) are named
by their shared object, e.g. `libcrypto.so.3:0x29ad80`, so the table says
where the time goes even without debug symbols.

usage: cg_top.py CALLGRIND_OUT [TOP]
"""
import os
import re
import sys
from collections import defaultdict


def main():
    path = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    names = {"ob": {}, "fl": {}, "fn": {}}
    cur = {"ob": "", "fl": "", "fn": ""}
    self_cost = defaultdict(int)
    total = 0
    skip_next = False  # the cost line after calls= is the callee's inclusive cost
    comp = re.compile(r"^\((\d+)\)(?: (.*))?$")

    def name(kind, val):
        m = comp.match(val)
        if not m:
            return val
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
            return m.group(2)
        return names[kind].get(m.group(1), val)

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            c = line[0]
            if c.isdigit() or c in "+-*":
                if skip_next:
                    skip_next = False
                    continue
                parts = line.split()
                if len(parts) >= 2:
                    ir = int(parts[1])
                    self_cost[(cur["ob"], cur["fn"])] += ir
                    total += ir
                continue
            key, _, val = line.partition("=")
            if key in ("ob", "fl", "fn"):
                cur[key] = name(key, val)
            elif key in ("cob", "cfl", "cfi", "cfn"):
                kind = {"cob": "ob", "cfl": "fl", "cfi": "fl", "cfn": "fn"}[key]
                name(kind, val)  # register compressed names
            elif key in ("fi", "fe"):
                name("fl", val)
            elif key == "calls":
                skip_next = True

    print(f"total: {total / 1e6:.1f} M instructions\n")
    print("| self Ir | % | function |")
    print("|---:|---:|---|")
    for (ob, fn), ir in sorted(self_cost.items(), key=lambda kv: -kv[1])[:top]:
        label = fn
        if fn.startswith("0x"):
            label = f"{os.path.basename(ob)}:0x{int(fn, 16):x}"
        elif "libcrypto" in ob or "libc.so" in ob:
            label = f"{fn} ({os.path.basename(ob)})"
        print(f"| {ir / 1e6:.1f} M | {100 * ir / total:.1f} | `{label}` |")


if __name__ == "__main__":
    main()
