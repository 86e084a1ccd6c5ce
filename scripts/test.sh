#!/usr/bin/env bash
# Install what ccmm needs, build it three ways and run the whole suite:
#   build       warnings as errors: every suite (unit, jobs, bad-input, stress)
#   build-asan  AddressSanitizer + UndefinedBehaviorSanitizer: every suite
#   build-tsan  ThreadSanitizer: the stress suite (real threads)
# Ends with one line "N passed, N failed" counting every test case.
set -uo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh || exit 1

setup() { # dir, meson options...
  local dir=$1; shift
  if [ ! -f "$dir/build.ninja" ]; then
    meson setup "$dir" -Dwerror=true "$@" >/dev/null || return 1
  fi
  ninja -C "$dir" >/dev/null || { ninja -C "$dir" | tail -30; return 1; }
}

status=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

setup build || status=1
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false || status=1
setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized || status=1

if [ $status -eq 0 ]; then
  meson test -C build --num-processes 2 --print-errorlogs -q || status=1
  meson test -C build-asan --num-processes 2 --print-errorlogs -q --timeout-multiplier 3 || status=1
  meson test -C build-tsan --suite stress --num-processes 2 --print-errorlogs -q --timeout-multiplier 5 || status=1
fi

python3 scripts/summarize-tests.py build build-asan build-tsan
summary=$?
[ $status -eq 0 ] && [ $summary -eq 0 ]
