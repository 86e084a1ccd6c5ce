#!/usr/bin/env bash
# make-trace-seeds.sh: the trace and ftrace fuzz targets' seed corpora
# (seeds/trace/, seeds/ftrace/ at the end),
# from the shipped traces. Each seed is one option byte (format: 0 auto,
# 1 lackey, 2 address; +4 instructions; +8 no collapse)
# and a trace: the head of a shipped lackey or address trace, plain, gzip
# or zstd. Run again after the shipped traces change.
set -eu  # no pipefail: head closes the decompressors early
cd "$(dirname "$0")"
src=../..
out=seeds/trace
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
zcat "$src/traces/true.lackey.gz" | head -n 400 >"$tmp/lackey"
zstd -dc "$src/traces/md5sum.trace.zst" | head -n 300 >"$tmp/addr"
zstd -dc "$src/traces/sort.trace.zst" | head -n 300 >"$tmp/addr2"
seed() { # name option-byte file
  { printf "\\x$(printf %02x "$2")"; cat "$3"; } >"$out/$1"
}
seed lackey-auto 0 "$tmp/lackey"
seed lackey-instructions 5 "$tmp/lackey"
seed lackey-nocollapse 9 "$tmp/lackey"
seed addr-auto 0 "$tmp/addr"
seed addr-forced 2 "$tmp/addr2"
seed addr-nocollapse 10 "$tmp/addr"
head -n 60 "$tmp/lackey" | gzip -9 -n >"$tmp/lackey.gz"
seed lackey-gzip 0 "$tmp/lackey.gz"
head -n 60 "$tmp/addr" | zstd -q -19 -c >"$tmp/addr.zst"
seed addr-zstd 0 "$tmp/addr.zst"
cp "$src/tests/bad/malformed.trace" "$tmp/m"; seed bad-malformed 0 "$tmp/m"
cp "$src/tests/bad/truncated.trace" "$tmp/t"; seed bad-truncated 0 "$tmp/t"
ls "$out"

# The ftrace target's seeds (seeds/ftrace/): from each recorded kernel DMA
# trace, its header and the first three lines of each event it holds; a
# trace-cmd report version of one (a "cpus=" header, no irq-flags column);
# gzip and zstd copies of a small one; the bad-input traces.
fout=seeds/ftrace
rm -rf "$fout"
mkdir -p "$fout"
for rec in "$src"/tests/recordings/*/; do
  [ -f "$rec/trace.zst" ] || continue
  name=$(basename "$rec")
  zstd -dc "$rec/trace.zst" >"$tmp/full"
  grep -q ': dma_\|: swiotlb_' "$tmp/full" || continue
  { grep '^#' "$tmp/full" | head -n 12
    grep -v '^#' "$tmp/full" | awk '{ k = $5; if (n[k]++ < 3) print }'; } >"$fout/$name"
done
{ echo "cpus=1"; grep -v '^#' "$fout/nvme" | sed -E 's/(\[[0-9]+\]) [^ ]+ /\1 /'; } >"$fout/nvme-trace-cmd"
gzip -9 -n -c "$fout/e1000" >"$fout/e1000-gzip"
zstd -q -19 -c "$fout/dmabuf" >"$fout/dmabuf-zstd"
for f in "$src"/tests/bad/dma-trace/*.trace; do cp "$f" "$fout/bad-$(basename "$f" .trace)"; done

# every event kind once, from the reader's unit test (tests/trace/test_ftrace.c)
sed -n 's/^\t"\(  *[^ ].* \[[0-9]*\] .*: [a-z_]*: .*\)\\n"$/\1/p' "$src/tests/trace/test_ftrace.c" | head -n 30 >"$fout/all-kinds"
ls "$fout"
