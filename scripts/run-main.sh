#!/usr/bin/env bash
# Install what ccmm needs, build it, and run the main job: `ccmm run` on the
# built-in default (a TDX guest with a virtio-blk disk and a VMM).
# Extra arguments go to `ccmm run` (e.g. --json report.json).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
if [ ! -f build/build.ninja ]; then
  meson setup build >/dev/null
fi
ninja -C build >/dev/null
exec ./build/ccmm run "$@"
