#!/usr/bin/env bash
# Record the page references of a real program with valgrind's lackey tool.
#
#   scripts/record-trace.sh OUT.zst PROGRAM [ARGS...]   reduced address trace (zstd)
#   scripts/record-trace.sh --raw OUT.gz PROGRAM [ARGS...]  lackey's own output (gzip)
#
# lackey writes one line per memory access (hundreds of MB for a second of
# work), so the default streams it through a FIFO into `ccmm trace reduce`,
# which keeps one reference per page run, stores marking pages dirty, and
# drops instruction fetches. The program's own output goes to /dev/null.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
ccmm=${CCMM:-$here/build/ccmm}
raw=no
if [ "${1:-}" = "--raw" ]; then raw=yes; shift; fi
if [ $# -lt 2 ]; then
  echo "usage: $0 [--raw] OUT PROGRAM [ARGS...]" >&2
  exit 2
fi
out=$1; shift
command -v valgrind >/dev/null || { echo "$0: valgrind is not installed (scripts/install-deps.sh)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ $raw = yes ]; then
  valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/lackey.txt" "$@" >/dev/null
  gzip -9 -c "$tmp/lackey.txt" > "$out"
else
  [ -x "$ccmm" ] || { echo "$0: build ccmm first (ninja -C build)" >&2; exit 1; }
  mkfifo "$tmp/lackey"
  "$ccmm" trace reduce "$tmp/lackey" "$out" --zstd &
  reducer=$!
  valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/lackey" "$@" >/dev/null
  wait $reducer
fi
"$ccmm" trace stat "$out" 2>/dev/null || true
