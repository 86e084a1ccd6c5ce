#!/usr/bin/env bash
# Suite "kernel": record one workload end to end (install, boot Linux 6.12
# under qemu, record, replay, agree) so scripts/record-kernel.sh cannot rot:
# the new recording against the shipped one of the same workload, and
# ccmm trace agree on it.
#
#   run-record.sh CCMM SOURCE_ROOT BUILD_ROOT
#
# Exit 77 (skip) only when qemu cannot run here at all; any other failure
# fails the test.
set -uo pipefail
ccmm=$1 src=$2 build=$3
workload=nvme
# one kernel cache for every build directory (build, build-asan, ...)
export CCMM_KERNEL_CACHE=${CCMM_KERNEL_CACHE:-$src/build/kernel-cache}
fail() { echo "not ok: $*" >&2; exit 1; }

if ! command -v qemu-system-x86_64 >/dev/null; then
	"$src/scripts/install-deps.sh" --kernel "$CCMM_KERNEL_CACHE/deb" >/dev/null 2>&1 || true
fi
if ! qemu-system-x86_64 --version >/dev/null 2>&1; then
	echo "SKIP: qemu-system-x86_64 cannot run here" >&2
	exit 77
fi
out=$(mktemp -d "$build/kernel-test.XXXXXX")
trap 'rm -rf "$out"' EXIT
start=$(date +%s)
CCMM_BUILD_DIR=$build "$src/scripts/record-kernel.sh" "$workload" "$out/rec" || fail "record-kernel.sh $workload failed"
echo "recorded in $(( $(date +%s) - start )) s"
rec=$out/rec ship=$src/tests/recordings/$workload

# every file of the shipped recording (a newer recorder may write more: the
# shipped ones predate the per-node vmstat files)
missing=$(comm -23 <(cd "$ship" && find . -type f | sort) <(cd "$rec" && find . -type f | sort))
[ -z "$missing" ] || fail "the new recording lacks what $ship has: $missing"
# the platform file loads, and says what the shipped one says
"$ccmm" platform "$rec/platform.ini" >/dev/null || fail "platform.ini does not load"
diff <(grep -v '^;' "$ship/platform.ini") <(grep -v '^;' "$rec/platform.ini") || fail "platform.ini differs from the shipped one"
# the trace reads whole, nothing lost or skipped, the same events by kind
"$ccmm" trace stat "$rec/trace.zst" > "$out/stat" || fail "trace.zst does not read"
"$ccmm" trace stat "$ship/trace.zst" > "$out/stat.ship" || fail "the shipped trace does not read"
cat "$out/stat"
grep -q ' 0 other events skipped, 0 lost$' "$out/stat" || fail "events skipped or lost"
# (the counts vary a little from run to run: the block layer merges physically
# contiguous pages into one segment, and the page allocator's choices differ)
diff <(tail -n +2 "$out/stat.ship" | awk '{ print $1 }') <(tail -n +2 "$out/stat" | awk '{ print $1 }') ||
	fail "the recording has other event kinds than the shipped one"
# the workload did its work
grep -q "ccmm-dio: /dev/nvme0n1: 12 writes, 12 reads" "$rec/workload.log" || fail "workload.log: $(cat "$rec/workload.log")"
for k in workload kernel qemu_cmdline date; do
	grep -q "^$k = " "$rec/meta" || fail "meta has no $k"
done
# and ccmm replays it with every bounce on the kernel's slot (end to end: record, replay, agree)
"$ccmm" trace agree "$rec" > "$out/agree" || { cat "$out/agree"; fail "ccmm trace agree: the new recording does not agree"; }
grep agreement "$out/agree"
echo "ok: $workload recorded, matches the shipped recording and agrees with ccmm"
