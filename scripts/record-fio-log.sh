#!/usr/bin/env bash
# record-fio-log.sh [-o OUT] [-2 OUT_V2] [-- FIO OPTIONS...]
#
# Record an fio I/O log (write_iolog) of a small random read/write job on a
# scratch file, for ccmm's virtio_blk_replay actor. fio >= 3.31 writes
# version 3 logs (a timestamp in microseconds on every line); -2 also writes
# the same I/O as a version 2 log (timestamps turned into wait lines, as fio
# 1.17-3.30 wrote them). Extra options after -- go to fio and override the
# defaults (e.g. -- --rw=randwrite --bsrange=4k-256k).
#
# Defaults: a 64 MiB file, 4 KiB-64 KiB blocks (4 KiB aligned), 60% reads,
# 4 MiB of I/O, an fsync every 16 writes, one job, psync, fixed seed.
set -euo pipefail

out=iologs/fio-randrw.v3.log
out2=""
while [ $# -gt 0 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    -2) out2=$2; shift 2 ;;
    --) shift; break ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "record-fio-log.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done

command -v fio >/dev/null || { echo "record-fio-log.sh: fio is not installed (apt-get install fio)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/iolog"
(
  cd "$work"
  fio --name=ccmm-record --filename=disk.img --size=64m \
      --rw=randrw --rwmixread=60 --bsrange=4k-64k --blockalign=4k --io_size=4m \
      --fsync=16 --ioengine=psync --numjobs=1 --randseed=20240501 \
      --write_iolog="$log" "$@" >/dev/null
)
head -n1 "$log" | grep -q '^fio version 3 iolog$' || {
  echo "record-fio-log.sh: fio wrote '$(head -n1 "$log")', not a version 3 log (fio >= 3.31 needed)" >&2; exit 1; }
mkdir -p "$(dirname "$out")"
cp "$log" "$out"
echo "recorded $(grep -cE ' (read|write|sync|datasync|trim) ' "$out") I/O lines with $(fio --version) into $out"

if [ -n "$out2" ]; then
  # version 2: no timestamps; delays of 100 us or more become "FILE wait USEC 0"
  awk 'NR == 1 { print "fio version 2 iolog"; next }
       { ts = $1; $1 = ""; sub(/^ /, "");
         if (NR > 2 && ts - last >= 100) { split($0, f, " "); print f[1] " wait " (ts - last) " 0" }
         last = ts; print }' "$out" > "$out2"
  echo "converted to version 2 into $out2"
fi
