#!/usr/bin/env bash
# run-agree-no-min-align.sh CCMM RECORDINGS: the nvme recording agrees
# only because ccmm applies the device's min_align_mask (NVMe's
# dma_set_min_align_mask(0xfff)) as swiotlb_search_pool_area() and
# swiotlb_align_offset() do. Without it in the platform, ccmm trace agree
# must exit 1, the first divergence a buffer whose offset into its page the
# kernel's bounce kept (the pool is page aligned) and ccmm's did not.
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
line=$(grep "first divergence: " "$tmp/out") || { echo "not ok: no divergence named"; exit 1; }
phys=$(echo "$line" | sed -n 's/.* bytes at \(0x[0-9a-f]*\) .*/\1/p')
kern=$(echo "$line" | sed -n 's/.*kernel pool offset \(0x[0-9a-f]*\),.*/\1/p')
mine=$(echo "$line" | sed -n 's/.*ccmm pool offset \(0x[0-9a-f]*\)$/\1/p')
[ -n "$phys" ] && [ -n "$kern" ] && [ -n "$mine" ] || { echo "not ok: cannot read the divergence"; exit 1; }
if (( (phys & 0xfff) == 0 || (kern & 0xfff) != (phys & 0xfff) || (mine & 0xfff) == (phys & 0xfff) )); then
	echo "not ok: not the divergence expected (a buffer at $phys: kernel $kern, ccmm $mine)"; exit 1
fi
grep -q "^agree: no$" "$tmp/out" || { echo "not ok: no verdict"; exit 1; }
echo "ok: without min_align_mask the NVMe trace diverges where the kernel kept the buffer's offset"
