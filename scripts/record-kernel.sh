#!/usr/bin/env bash
# Record a real Linux 6.12 running a workload under qemu: the DMA-API and
# SWIOTLB trace, the boot log, the interface files before and after, and a
# ccmm platform file of what the guest had (tests/recordings/README.md).
#
#   scripts/record-kernel.sh [-f] WORKLOAD [OUTDIR]
#   scripts/record-kernel.sh -l            list the workloads
#
# WORKLOAD names tools/guest/workloads/WORKLOAD.sh. OUTDIR defaults to
# BUILD/recordings/WORKLOAD; an existing non-empty OUTDIR is replaced only
# with -f. The recording is written beside OUTDIR and renamed into place at
# the end, so a failed run leaves nothing half-written.
#
# Environment: CCMM_BUILD_DIR (default: build), CCMM_KERNEL_CACHE (where the
# kernel package is fetched and unpacked and the guest programs are built;
# default: BUILD/kernel-cache), CCMM_KERNEL_PACKAGE (a
# linux-image-6.12.*-amd64-unsigned package; default: the newest), and
# CCMM_RECORD_TIMEOUT (seconds of wall time for the VM, default 300).
#
# Exit status: 0 recorded; 1 the run failed (tools missing, the guest
# failed, the trace buffer overflowed); 2 bad usage; 77 qemu cannot run
# here at all (no qemu-system-x86_64 and it cannot be installed).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
workloads=$here/tools/guest/workloads

usage() {
	echo "usage: $0 [-f] WORKLOAD [OUTDIR] | $0 -l" >&2
	exit 2
}
die() { echo "record-kernel: $*" >&2; exit 1; }

force=no
while getopts "fl" opt; do
	case $opt in
	f) force=yes ;;
	l) for w in "$workloads"/*.sh; do
		n=$(basename "$w" .sh)
		d=$( (host() { :; }; . "$w"; host; echo "$DESC") )
		printf '%-20s %s\n' "$n" "$d"
	   done; exit 0 ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] && [ $# -le 2 ] || usage
workload=$1
wfile=$workloads/$workload.sh
if [ ! -f "$wfile" ]; then
	echo "record-kernel: no workload '$workload' (tools/guest/workloads/: $(cd "$workloads" && ls *.sh | sed 's/\.sh$//' | tr '\n' ' '))" >&2
	exit 2
fi
build=${CCMM_BUILD_DIR:-$here/build}
outdir=${2:-$build/recordings/$workload}
if [ -e "$outdir" ] && [ -n "$(ls -A "$outdir" 2>/dev/null)" ] && [ $force = no ]; then
	echo "record-kernel: $outdir exists and is not empty (-f replaces it)" >&2
	exit 2
fi

# ---- tools and the kernel -------------------------------------------------
cache=${CCMM_KERNEL_CACHE:-$build/kernel-cache}
mkdir -p "$cache"
if ! "$here/scripts/install-deps.sh" --kernel "$cache/deb"; then
	command -v qemu-system-x86_64 >/dev/null || { echo "record-kernel: qemu-system-x86_64 cannot be installed" >&2; exit 77; }
	die "scripts/install-deps.sh --kernel failed"
fi
command -v qemu-system-x86_64 >/dev/null || { echo "record-kernel: no qemu-system-x86_64" >&2; exit 77; }
deb=$(cat "$cache/deb/selected")
kdir=$cache/$(basename "$deb" .deb)
if [ ! -f "$kdir/.unpacked" ]; then
	# unpacked beside, renamed into place: a concurrent run sees all or nothing
	rm -rf "$kdir.tmp.$$"
	dpkg-deb -x "$deb" "$kdir.tmp.$$"
	depmod -b "$kdir.tmp.$$" "$(ls "$kdir.tmp.$$/lib/modules")"
	touch "$kdir.tmp.$$/.unpacked"
	rm -rf "$kdir"
	mv "$kdir.tmp.$$" "$kdir" 2>/dev/null || rm -rf "$kdir.tmp.$$"
fi
kver=$(ls "$kdir/lib/modules")
vmlinuz=$kdir/boot/vmlinuz-$kver
mdir=$kdir/lib/modules/$kver

# guest programs: static, rebuilt when their source changes
gdir=$cache/guest
mkdir -p "$gdir"
for src in "$here"/tools/guest/*.c; do
	bin=$gdir/ccmm-$(basename "$src" .c)
	if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
		gcc -static -O2 -Wall -Wextra -Werror -o "$bin.tmp.$$" "$src"
		mv "$bin.tmp.$$" "$bin"
	fi
done

# ---- the workload ---------------------------------------------------------
DESC="" CPUS=1 MEM=512M SWIOTLB=force MODULES="" DISKS="" DEVICES="" MACHINE=pc NUMA="" CMDLINE="" TRACE_BUF=8M
# shellcheck disable=SC1090
. "$wfile"
host
modules="$MODULES virtio_blk" # the output disk needs virtio_blk

# modules in load order (dependencies first), decompressed once into the cache
declare -A seen=()
order=()
add_module() { # NAME or relative path
	local path dep
	path=$(awk -v m="$1" -F: '{ n = $1; sub(/.*\//, "", n); sub(/\.ko(\.xz|\.zst|\.gz)?$/, "", n);
		gsub(/-/, "_", n); mm = m; gsub(/-/, "_", mm); if (n == mm || $1 == m) { print $1; exit } }' "$mdir/modules.dep")
	[ -n "$path" ] || die "module $1 is not in $mdir"
	[ -n "${seen[$path]:-}" ] && return 0
	seen[$path]=1
	for dep in $(awk -v p="$path" -F': *' '$1 == p { print $2 }' "$mdir/modules.dep"); do
		add_module "$dep"
	done
	order+=("$path")
}
for m in $modules; do add_module "$m"; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ccmm-record.XXXXXX")
trap '[ -n "${CCMM_RECORD_KEEP:-}" ] || rm -rf "$tmp"' EXIT
root=$tmp/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,out,etc,lib/modules,tmp}
cp /bin/busybox "$root/bin/busybox"
file -L "$root/bin/busybox" 2>/dev/null | grep -q "statically linked" || die "/bin/busybox is not static (install busybox-static)"
cp "$gdir"/ccmm-* "$root/bin/"
cp "$here/tools/guest/init.sh" "$root/init"
chmod +x "$root/init"
cp "$wfile" "$root/workload.sh"
loadlist=""
for p in "${order[@]}"; do
	ko=${p%.xz}; ko=${ko%.zst}; ko=${ko%.gz}
	if [ ! -f "$mdir/$ko" ]; then
		case $p in
		*.xz) xz -dc "$mdir/$p" > "$mdir/$ko.tmp.$$" ;;
		*.zst) zstd -qdc "$mdir/$p" > "$mdir/$ko.tmp.$$" ;;
		*.gz) gzip -dc "$mdir/$p" > "$mdir/$ko.tmp.$$" ;;
		*) cp "$mdir/$p" "$mdir/$ko.tmp.$$" ;;
		esac
		mv "$mdir/$ko.tmp.$$" "$mdir/$ko"
	fi
	b=$(basename "$ko")
	cp "$mdir/$ko" "$root/lib/modules/$b"
	loadlist="$loadlist $b"
done
printf 'WORKLOAD=%s\nMODULES="%s"\n' "$workload" "${loadlist# }" > "$root/etc/ccmm.conf"
(cd "$root" && find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$tmp/initramfs.cpio"

# ---- the VM ---------------------------------------------------------------
disk_args=()
for d in $DISKS; do
	id=${d%%:*}; size=${d#*:}
	truncate -s "$size" "$tmp/$id.img"
	disk_args+=(-drive "file=$tmp/$id.img,if=none,format=raw,id=$id")
done
truncate -s 512M "$tmp/out.img"
accel=tcg
[ "$CPUS" -gt 1 ] && accel=tcg,thread=single
# iommu=soft only makes x86 keep the pool verbosely (pci_iommu_init prints
# "software IO TLB: mapped [mem START-END]"); swiotlb=force already allocates it
cmdline="console=ttyS0 loglevel=4 panic=-1 nokaslr rdinit=/init iommu=soft swiotlb=$SWIOTLB"
cmdline="$cmdline trace_event=dma:*,swiotlb:* trace_buf_size=$TRACE_BUF log_buf_len=4M $CMDLINE"
# -nodefaults: no default NIC (so no user-mode network), no default disks;
# the only network devices are those a workload puts on its own hub.
qemu=(qemu-system-x86_64 -accel "$accel" -machine "$MACHINE" -m "$MEM" -smp "$CPUS" $NUMA
	-nodefaults -no-user-config -nic none -display none -no-reboot
	-serial "file:$tmp/console.log"
	-kernel "$vmlinuz" -initrd "$tmp/initramfs.cpio" -append "$cmdline"
	"${disk_args[@]}" $DEVICES
	-drive "file=$tmp/out.img,if=none,format=raw,id=ccmm-out" -device "virtio-blk-pci,drive=ccmm-out,serial=ccmm-out")
echo "record-kernel: booting $(basename "$vmlinuz") for '$workload' ($CPUS CPU, $MEM)" >&2
start=$(date +%s)
if ! timeout "${CCMM_RECORD_TIMEOUT:-300}" "${qemu[@]}" </dev/null >"$tmp/qemu.log" 2>&1; then
	tail -20 "$tmp/qemu.log" "$tmp/console.log" >&2 || true
	die "qemu failed or timed out"
fi
wall=$(( $(date +%s) - start ))
res=$tmp/result
mkdir -p "$res"
tar -xf "$tmp/out.img" -C "$res" 2>/dev/null || { tail -30 "$tmp/console.log" >&2; die "the guest wrote no results"; }
if [ "$(cat "$res/status" 2>/dev/null)" != ok ]; then
	cat "$res/guest.log" "$res/workload.log" >&2 2>/dev/null || true
	die "the guest failed: $(cat "$res/status" 2>/dev/null || echo 'no status')"
fi
if awk '{ for (i = 1; i < NF; i++) {
		if ($i == "overrun:" && $(i + 1) != 0) bad = 1
		if ($i == "dropped" && $(i + 1) == "events:" && $(i + 2) != 0) bad = 1
	} } END { exit !bad }' "$res/trace-stats"; then
	cat "$res/trace-stats" >&2
	die "the trace buffer lost events: raise TRACE_BUF in $wfile"
fi

# write_platform RESULT WORKLOAD: a ccmm platform file of what the guest had
write_platform() {
	local res=$1 P=$1/platform f n id cpulist start nslabs nareas
	local pool
	pool=$(sed -n 's/.*software IO TLB: mapped \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\1 \2/p' "$res/dmesg" | head -1)
	[ -n "$pool" ] || die "the boot log does not say where the SWIOTLB pool is"
	start=${pool% *}
	nslabs=$(cat "$res/after/swiotlb/io_tlb_nslabs")
	nareas=$(sed -n 's/.*software IO TLB: area num \([0-9]*\)\..*/\1/p' "$res/dmesg" | head -1)
	[ -n "$nareas" ] || die "the boot log does not give the SWIOTLB area count"
	echo "; What the guest of 'scripts/record-kernel.sh $2' had, read from its boot"
	echo "; log, /proc, /sys and debugfs ($(cat "$P/kernel"), $(date -u +%Y-%m-%d))."
	echo "[platform]"
	echo "name = rec-$2"
	echo "mode = none"
	echo "cpus = $(cat "$P/cpus")"
	echo "; the pool from 'software IO TLB: mapped [mem ${pool/ /-}]',"
	echo "; 'area num $nareas' and debugfs io_tlb_nslabs"
	if grep -Eq '(^| )swiotlb=([^ ]*,)?force( |,|$)' "$P/cmdline"; then
		echo "; swiotlb=force: every streaming mapping bounces"
		echo "swiotlb_force = yes"
	else
		echo "swiotlb_force = no"
	fi
	echo "swiotlb_size = $((nslabs * 2048))"
	echo "swiotlb_base = $start"
	echo "swiotlb_areas = $nareas"
	for f in "$P"/node[0-9]*; do
		id=${f##*/node}
		echo
		echo "[node:$id]"
		cpulist=$(sed -n 's/^cpulist=//p' "$f")
		echo "; cpulist '${cpulist}', MemTotal $(sed -n 's/^memtotal_kb=//p' "$f") kB"
		if [ -n "$cpulist" ]; then echo "cpus = yes"; else echo "cpus = no"; fi
		echo "distance = $(sed -n 's/^distance=//p' "$f" | tr -s ' ' ',')"
		n=$(sed -n 's/^access0_read_latency=//p' "$f")
		[ -n "$n" ] && printf '; HMAT access0/initiators/read_latency\nlatency_ns = %s\n' "$n"
		n=$(sed -n 's/^access0_read_bandwidth=//p' "$f")
		[ -n "$n" ] && printf '; HMAT access0/initiators/read_bandwidth\nbandwidth_mbps = %s\n' "$n"
	done
	# RAM per node: the boot log's "Early memory node ranges" (page granular)
	local nd r s e
	sed -n 's/.*  node *\([0-9]*\): \[mem \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\)\].*/\1 \2 \3/p' "$res/dmesg" > "$res/ranges"
	[ -s "$res/ranges" ] || die "the boot log has no 'Early memory node ranges'"
	echo
	echo "; RAM: the boot log's 'Early memory node ranges'"
	while read -r nd s e; do
		printf '[ram:node%d-%x]\nnode = %d\nbase = 0x%x\nsize = 0x%x\n\n' "$nd" $((s)) "$nd" $((s)) $((e + 1 - s))
	done < "$res/ranges"
	for f in "$P"/pci-*; do
		local drv cls name serial mask cmask node sectors mam bdf
		bdf=${f##*/pci-}
		drv=$(sed -n 's/^driver=//p' "$f")
		serial=$(sed -n 's/^serial=//p' "$f")
		[ "$serial" = ccmm-out ] && continue # the recorder's own output disk
		name=$(sed -n 's/^name=//p' "$f" | tr '\n' ' ')
		mask=$(sed -n 's/^dma_mask_bits=//p' "$f")
		cmask=$(sed -n 's/^consistent_dma_mask_bits=//p' "$f")
		node=$(sed -n 's/^numa_node=//p' "$f")
		sectors=$(sed -n 's/^sectors=//p' "$f" | head -1)
		mam=""
		case $drv in
		virtio-pci) if [ -n "$sectors" ]; then cls=virtio-blk; else cls=virtio-net; fi ;;
		nvme) cls=nvme; mam=0xfff ;; # drivers/nvme/host/pci.c: NVME_CTRL_PAGE_SIZE - 1
		e1000|e1000e) cls=nic ;;
		*) cls=generic ;;
		esac
		[ "$cls" = virtio-net ] && ! grep -q '^mac=' "$f" && cls=generic
		echo
		echo "; driver $drv${name:+, ${name% }}${serial:+, serial $serial}"
		echo "[device:$bdf]"
		echo "class = $cls"
		echo "pci_id = $(sed -n 's/^vendor=0x//p' "$f"):$(sed -n 's/^device=0x//p' "$f")"
		echo "dma_mask = $mask"
		[ "$cmask" != "$mask" ] && echo "coherent_mask = $cmask"
		[ -n "$node" ] && [ "$node" -ge 0 ] && echo "node = $node"
		[ -n "$sectors" ] && echo "capacity = $((sectors * 512))"
		[ -n "$mam" ] && printf '; dma_set_min_align_mask() in the %s driver\nmin_align_mask = %s\n' "$drv" "$mam"
	done
	# devices of the trace that are no PCI function (udmabuf's misc device maps
	# its pages with dma_map_sgtable): their DMA mask from swiotlb_bounced
	awk '
		/ swiotlb_bounced: dev_name: / {
			for (i = 1; i <= NF; i++) if ($i == "dev_name:") { n = $(i + 1); m = $(i + 2) }
			sub(/^dma_mask=/, "", m); mask[n] = m; seen[n] = 1; next
		}
		/ dma_[a-z_]*: / {
			for (i = 1; i < NF; i++) if ($i ~ /^dma_[a-z_]*:$/) { seen[$(i + 1)] = 1; break }
		}
		END { for (n in seen) if (n !~ /^[0-9a-f]+:[0-9a-f]+:[0-9a-f]+\.[0-9a-f]+$/) print n, (n in mask) ? mask[n] : "" }
	' "$res/trace" | sort | while read -r name m; do
		local bits=64
		if [ -n "$m" ]; then
			bits=0
			m=$((16#$m))
			while [ "$m" != 0 ] && [ $bits -lt 64 ]; do bits=$((bits + 1)); m=$(( (m >> 1) & 0x7fffffffffffffff )); done
		fi
		echo
		echo "; '$name' in the trace is no PCI function (a misc device doing DMA);"
		echo "; its DMA mask from swiotlb_bounced"
		echo "[device:$name]"
		echo "class = generic"
		echo "dma_mask = $bits"
	done
	return 0
}
# ---- the recording --------------------------------------------------------
rec=$outdir.tmp.$$
rm -rf "$rec"
mkdir -p "$rec"
trap 'rm -rf "$tmp" "$rec"' EXIT
zstd -q -19 "$res/trace" -o "$rec/trace.zst"
zstd -q -19 "$res/dmesg" -o "$rec/dmesg.zst"
cp -r "$res/before" "$res/after" "$rec/"
cp "$res/workload.log" "$res/trace-stats" "$rec/"
[ -f "$res/samples" ] && zstd -q -19 "$res/samples" -o "$rec/samples.zst"
[ -d "$res/extra" ] && cp -r "$res/extra" "$rec/"
# /sys/devices/virtual/memory_tiering/memory_tier*/nodelist, one "TIER NODELIST" a line
cp "$res/platform/memory_tiers" "$rec/memory_tiers"
write_platform "$res" "$workload" > "$rec/platform.ini"
{
	echo "workload = $workload"
	echo "description = $DESC"
	echo "kernel = $(cat "$res/platform/kernel")"
	echo "kernel_package = $(basename "$deb")"
	echo "kernel_cmdline = $(cat "$res/platform/cmdline")"
	echo "qemu = $(qemu-system-x86_64 --version | head -1)"
	printf 'qemu_cmdline ='
	for a in "${qemu[@]}"; do
		a=${a//$tmp\//}
		a=${a//$kdir\//}
		printf ' %s' "$a"
	done
	echo
	echo "modules = ${loadlist# }"
	echo "trace_events = dma:*,swiotlb:*"
	echo "trace_lines = $(grep -vc '^#' "$res/trace" || true)"
	echo "date = $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "wall_seconds = $wall"
	echo "recorder = scripts/record-kernel.sh $workload"
} > "$rec/meta"
if [ -e "$outdir" ]; then rm -rf "$outdir"; fi
mkdir -p "$(dirname "$outdir")"
mv "$rec" "$outdir"
echo "record-kernel: $workload recorded in $outdir ($(grep trace_lines "$outdir/meta" | cut -d' ' -f3) trace lines, ${wall}s)" >&2
