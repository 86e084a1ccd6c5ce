#!/usr/bin/env bash
# Install what ccmm needs, build it four ways and run the whole suite:
#   build       warnings as errors: every suite (unit, jobs, bad-input, stress,
#               fuzz-replay); then the bad-input suite again under valgrind's
#               memcheck (build/meson-logs/testlog-valgrind.json)
#   build-asan  AddressSanitizer + UndefinedBehaviorSanitizer: every suite
#   build-tsan  ThreadSanitizer: the stress suite (real threads)
#   build-fuzz  clang, libFuzzer, ASan + UBSan: each fuzz target fuzzed for
#               FUZZ_SECONDS (default 40) from its seeds (suite fuzz)
# Ends with the per-build figures and one line "N passed, N failed" that
# counts every test case once across the builds (scripts/summarize-tests.py).
# NO_VALGRIND=1 skips the memcheck run, NO_FUZZ=1 the fuzzing.
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

fuzz_targets=(job platform iolog trace ftrace run)
setup_fuzz() { # only the fuzz targets and their dictionary: the rest is built elsewhere
  local t targets=(tests/fuzz/job.dict)
  if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang meson setup build-fuzz -Dwerror=true -Dfuzz=true -Dfuzz_seconds="${FUZZ_SECONDS:-40}" \
      -Db_sanitize=address,undefined -Db_lundef=false >/dev/null || return 1
  else
    meson configure build-fuzz -Dfuzz_seconds="${FUZZ_SECONDS:-40}" >/dev/null || return 1
  fi
  for t in "${fuzz_targets[@]}"; do targets+=("tests/fuzz/fuzz_$t"); done
  ninja -C build-fuzz "${targets[@]}" >/dev/null || { ninja -C build-fuzz "${targets[@]}" | tail -30; return 1; }
}

status=0
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

runs=(build build-asan build-tsan)
setup build || status=1
setup build-asan -Db_sanitize=address,undefined -Db_lundef=false || status=1
setup build-tsan -Db_sanitize=thread -Db_lundef=false -Dbuildtype=debugoptimized || status=1
if [ -z "${NO_FUZZ:-}" ]; then
  runs+=(build-fuzz)
  setup_fuzz || status=1
fi

if [ $status -eq 0 ]; then
  meson test -C build --num-processes 2 --print-errorlogs -q || status=1
  meson test -C build-asan --num-processes 2 --print-errorlogs -q --timeout-multiplier 3 || status=1
  meson test -C build-tsan --suite stress --num-processes 2 --print-errorlogs -q --timeout-multiplier 5 || status=1
  if [ -z "${NO_VALGRIND:-}" ]; then
    # every bad input under memcheck: no invalid access, no definite leak (exit 99 otherwise)
    runs+=(build/meson-logs/testlog-valgrind.json)
    CCMM_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
      CCMM_BAD_TIME_SCALE=40 meson test -C build --suite bad-input --no-rebuild --num-processes 2 \
      --print-errorlogs -q --timeout-multiplier 4 --logbase testlog-valgrind || status=1
  fi
  if [ -z "${NO_FUZZ:-}" ]; then
    meson test -C build-fuzz --suite fuzz --no-rebuild --num-processes 2 --print-errorlogs -q || status=1
  fi
fi

python3 scripts/summarize-tests.py "${runs[@]}"
summary=$?
[ $status -eq 0 ] && [ $summary -eq 0 ]
