#!/usr/bin/env bash
# run-bad.sh CCMM FILE: a bad-input case. FILE's header says what to run
# ("; args: ..."; default "run FILE --json OUT"; @REPORT@ in the args is
# the report path the case must not leave behind), the error expected
# ("; expect-error: TEXT", a substring of stderr's first line; more such
# lines: each a substring of it), optionally
# the environment ("; env: NAME=VALUE", one per line) and a bound on the CPU
# time it takes ("; within: SECONDS", user + system, scaled by
# $CCMM_BAD_TIME_SCALE for slow builds such as valgrind; CPU rather than
# wall time, so a loaded machine does not fail it; a case that blocks is
# caught by meson's timeout). The case passes when ccmm exits 2, prints that
# error, leaves no report file and ends within the bound.
# $CCMM_WRAPPER (e.g. "valgrind --error-exitcode=99 ...") runs ccmm under a tool.
set -u
ccmm=$(realpath "$1")
file=$(realpath "$2")
dir=$(dirname "$file")
want=$(sed -n 's/^; expect-error: //p' "$file")
args=$(sed -n 's/^; args: //p' "$file")
within=$(sed -n 's/^; within: //p' "$file")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$dir" || exit 1
envs=()
while IFS= read -r e; do
  [ -n "$e" ] && envs+=("$e")
done < <(sed -n 's/^; env: //p' "$file")
# the CPU time ccmm (and a wrapping tool) took: the bound guards against
# runaway loops, and must not measure how loaded a shared machine is
TIMEFORMAT='%U %S'
if [ -n "$args" ]; then
  args=${args//@REPORT@/$tmp/report.json}
  # shellcheck disable=SC2086
  { time env "${envs[@]}" ${CCMM_WRAPPER:-} "$ccmm" $args >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"
else
  { time env "${envs[@]}" ${CCMM_WRAPPER:-} "$ccmm" run "$(basename "$file")" --json "$tmp/report.json" >"$tmp/out" 2>"$tmp/err"; } 2>"$tmp/time"
fi
status=$?
cpu=$(awk '{ print $1 + $2 }' "$tmp/time")
fail=0
if [ $status -ne 2 ]; then
  echo "expected exit status 2, got $status"; fail=1
fi
# a tool's own report (valgrind's "==PID==" lines) may come first
first=$(grep -v '^==[0-9]*==' "$tmp/err" | head -n1)
while IFS= read -r w; do
  if ! printf '%s\n' "$first" | grep -qF -- "$w"; then
    echo "expected an error containing: $w"; echo "got:"; cat "$tmp/err"; fail=1
  fi
done <<<"$want"
if [ "$(head -c 10 "$tmp/err" | wc -c)" -eq 0 ]; then
  echo "nothing on stderr"; fail=1
fi
if ls "$tmp" | grep -q report; then
  echo "a report file was left behind"; ls -l "$tmp"; fail=1
fi
if [ -n "$within" ]; then
  limit=$(awk -v w="$within" -v s="${CCMM_BAD_TIME_SCALE:-1}" 'BEGIN { print w * s }')
  if awk -v c="$cpu" -v l="$limit" 'BEGIN { exit !(c > l) }'; then
    echo "took ${cpu} s of CPU, more than the ${limit} s allowed"; fail=1
  fi
fi
exit $fail
