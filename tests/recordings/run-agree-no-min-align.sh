#!/usr/bin/env bash
# run-agree-no-min-align.sh CCMM RECORDINGS: the nvme recording agrees
# only because ccmm applies the device's min_align_mask (NVMe's
# dma_set_min_align_mask(0xfff)) as swiotlb_search_pool_area() and
# swiotlb_align_offset() do. Without it in the platform, ccmm trace agree
# must find the first 512-byte buffer that keeps its 0x800 (trace line 27)
# on another slot and exit 1.
set -u
ccmm=$(realpath "$1")
rec=$(realpath "$2")/nvme
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
grep -v '^min_align_mask' "$rec/platform.ini" > "$tmp/platform.ini"
"$ccmm" trace agree "$rec/trace.zst" --platform "$tmp/platform.ini" --debugfs "$rec/after" > "$tmp/out" 2>&1
status=$?
cat "$tmp/out"
[ $status -eq 1 ] || { echo "not ok: exit status $status, expected 1"; exit 1; }
grep -q "first divergence: .*trace.zst:27: dma_map_page 0000:00:02.0 of 512 bytes at 0x515a800 .*kernel pool offset 0x3800, ccmm pool offset 0x3000" "$tmp/out" ||
	{ echo "not ok: not the divergence expected"; exit 1; }
grep -q "^agree: no$" "$tmp/out" || { echo "not ok: no verdict"; exit 1; }
echo "ok: without min_align_mask the NVMe trace diverges where the kernel kept the buffer's offset"
