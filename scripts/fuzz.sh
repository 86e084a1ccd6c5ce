#!/usr/bin/env bash
# fuzz.sh [SECONDS] [TARGET...]: fuzz ccmm's readers and runs for SECONDS
# each (default 600), one target after the other, with libFuzzer (clang,
# ASan + UBSan). Targets: job, platform, iolog, trace, ftrace, run
# (default: all).
#
# The build is build-fuzz (CC=clang, -Dfuzz=true). Each target keeps its
# corpus, findings and history in build-fuzz/tests/fuzz/out/TARGET/, so
# runs add up across sessions; the last lines give, per target, this run's
# executions and findings and the totals of every run so far. A finding is
# printed with its bytes; fix the reader it hit, then keep the input as a
# regression case in tests/fuzz/regressions/TARGET/ (replayed by every
# build's suite). Exit status 0 only when no target found anything.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
unset FUZZ_FRESH
shift || true
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(job platform iolog trace ftrace run)
./scripts/install-deps.sh || exit 1

if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true \
    >/dev/null || exit 1
fi
exes=()
for t in "${targets[@]}"; do exes+=("tests/fuzz/fuzz_$t"); done
nice ninja -C build-fuzz "${exes[@]}" tests/fuzz/job.dict >/dev/null || { ninja -C build-fuzz "${exes[@]}" | tail -30; exit 1; }

status=0
summary=()
for t in "${targets[@]}"; do
  # the suite's test for the target knows its seeds, dictionary and largest input: run it longer
  mapfile -t cmd < <(FUZZ_SECONDS=$seconds python3 - "$t" <<'PY'
import json, os, subprocess, sys
tests = json.loads(subprocess.check_output(["meson", "introspect", "build-fuzz", "--tests"]))
for x in tests:
    if x["name"] == "fuzz-" + sys.argv[1]:
        cmd = x["cmd"]
        # run-fuzz.sh EXE SECONDS MAX_LEN DICT OUTDIR SEED...: longer, into the corpus kept across sessions
        cmd[2] = os.environ["FUZZ_SECONDS"]
        cmd[5] = os.path.join(os.path.dirname(os.path.dirname(cmd[5])), "out", sys.argv[1])
        print("\n".join(cmd))
PY
)
  [ ${#cmd[@]} -gt 0 ] || { echo "fuzz.sh: no target '$t'"; status=1; continue; }
  out=$(cd build-fuzz && nice "${cmd[@]}" 2>&1)  # meson runs tests in the build directory
  rc=$?
  echo "$out"
  summary+=("$(echo "$out" | head -n1)")
  [ $rc -eq 0 ] || status=1
done
echo
printf '%s\n' "${summary[@]}"
exit $status
