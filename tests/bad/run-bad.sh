#!/usr/bin/env bash
# run-bad.sh CCMM FILE: a bad-input case. FILE's header says what to run
# ("; args: ..."; default "run FILE --json OUT") and the error expected
# ("; expect-error: TEXT", a substring of stderr's first line). The case
# passes when ccmm exits 2, prints that error and leaves no report file.
set -u
ccmm=$(realpath "$1")
file=$2
dir=$(dirname "$file")
want=$(sed -n 's/^; expect-error: //p' "$file")
args=$(sed -n 's/^; args: //p' "$file")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$dir" || exit 1
if [ -n "$args" ]; then
  # shellcheck disable=SC2086
  "$ccmm" $args >"$tmp/out" 2>"$tmp/err"
else
  "$ccmm" run "$(basename "$file")" --json "$tmp/report.json" >"$tmp/out" 2>"$tmp/err"
fi
status=$?
fail=0
if [ $status -ne 2 ]; then
  echo "expected exit status 2, got $status"; fail=1
fi
if ! head -n1 "$tmp/err" | grep -qF -- "$want"; then
  echo "expected an error containing: $want"; echo "got:"; cat "$tmp/err"; fail=1
fi
if [ "$(head -c 10 "$tmp/err" | wc -c)" -eq 0 ]; then
  echo "nothing on stderr"; fail=1
fi
if ls "$tmp" | grep -q report; then
  echo "a report file was left behind"; ls -l "$tmp"; fail=1
fi
exit $fail
