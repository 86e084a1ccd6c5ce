#!/usr/bin/env bash
# test-man.sh PAGE...: every generated man page renders with man -l, with
# groff's warnings on and none given (issue 14). One TAP case per page.
set -u
echo "1..$#"
n=0
fail=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for page in "$@"; do
  n=$((n + 1))
  err=$( { MANWIDTH=80 man --warnings=w -l "$page" | wc -l >"$out"; } 2>&1)
  lines=$(cat "$out")
  if [ -z "$err" ] && [ "$lines" -gt 20 ]; then
    echo "ok $n - $(basename "$page") renders ($lines lines, no warning)"
  else
    echo "not ok $n - $(basename "$page") renders ($lines lines)"
    echo "$err" | sed 's/^/# /'
    fail=1
  fi
done
exit $fail
