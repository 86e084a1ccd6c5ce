#!/usr/bin/env bash
# run-files.sh CCMM RECORDINGS FILE: an interface file ccmm writes, held
# against the one Linux 6.12 wrote in tests/recordings/dmabuf: same names,
# order and layout. Runs dmabuf-files.job (the recording's trace replayed,
# its five dma-bufs made again, its cgroup) with debugfs = and cgroupfs =
# into a temporary folder, then compares FILE:
#   swiotlb/io_tlb_nslabs, io_tlb_used, io_tlb_used_hiwater
#       with after/swiotlb/: byte for byte (the replay agrees, so even the
#       values are the kernel's); the folder holds the same files
#   dma_buf/bufinfo
#       with extra/bufinfo (read while the buffers lived): byte for byte but
#       for the exporter of the two udmabufs (ccmm has no udmabuf exporter:
#       "system" stands in); flags and mode are the file's own
#   cgroup/root/misc.*, cgroup/ccmm/misc.*
#       with after/cgroup/...: byte for byte (no misc resource has capacity
#       on the recorded machine, so the kernel printed nothing, and so must
#       ccmm), and ccmm's dump has exactly the misc files the kernel did
set -u
ccmm=$(realpath "$1")
recs=$(realpath "$2")
file=$3
rec=$recs/dmabuf
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "not ok: $file: $*"; exit 1; }

(cd "$tmp" && "$ccmm" run --quiet "$recs/dmabuf-files.job") > "$tmp/out" 2>&1 || { cat "$tmp/out"; fail "the job failed"; }
case $file in
swiotlb/*)
	diff <(cd "$rec/after/swiotlb" && ls) <(cd "$tmp/debugfs/swiotlb" && ls) || fail "other files in swiotlb/"
	cmp "$rec/after/$file" "$tmp/debugfs/$file" || fail "'$(cat "$tmp/debugfs/$file")', the kernel '$(cat "$rec/after/$file")'"
	;;
dma_buf/bufinfo)
	diff <(sed 's/\tudmabuf\t/\tsystem\t/' "$rec/extra/bufinfo") "$tmp/debugfs/dma_buf/bufinfo" ||
		fail "differs from the kernel's (above: < kernel, > ccmm)"
	;;
cgroup/root/misc.*|cgroup/ccmm/misc.*)
	group=${file#cgroup/}; group=${group%%/*}
	dir=$tmp/cgroupfs; [ "$group" = root ] || dir=$dir/$group
	kernel=$rec/after/$file
	[ -f "$kernel" ] || fail "the recording has no $file"
	[ -f "$dir/${file##*/}" ] || fail "ccmm's cgroupfs dump has no ${file##*/} in $group"
	cmp "$kernel" "$dir/${file##*/}" || fail "'$(cat "$dir/${file##*/}")', the kernel '$(cat "$kernel")'"
	# the misc files the recorder read (misc.capacity, current, max, events, peak): where the kernel had them
	for f in misc.capacity misc.current misc.max misc.events misc.peak; do
		k=no c=no
		[ -f "$rec/after/cgroup/$group/$f" ] && k=yes
		[ -f "$dir/$f" ] && c=yes
		[ $k = $c ] || fail "$group/$f: in the kernel's cgroup: $k, in ccmm's dump: $c"
	done
	;;
*)
	fail "no such file to compare (swiotlb/..., dma_buf/bufinfo, cgroup/{root,ccmm}/misc.*)"
	;;
esac
echo "ok: $file as the kernel's"
