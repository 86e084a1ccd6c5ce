#!/usr/bin/env bash
# Installs every Debian package ccmm needs to build, test and run its scripts.
# Safe to run again: apt-get skips what is already installed.
set -euo pipefail

PACKAGES=(
  build-essential      # gcc, make, libc headers
  meson ninja-build pkg-config
  libinih-dev          # job and platform files (INI)
  libjansson-dev       # JSON reports
  libssl-dev           # AES-XTS for the memory-encryption engine (libcrypto)
  libzstd-dev zlib1g-dev  # compressed traces
  libcmocka-dev        # unit-test framework
  libhwloc-dev         # --platform host: real NUMA topology
  fio                  # records the shipped I/O logs (scripts/record-fio-log.sh)
  valgrind             # records page-reference traces (scripts/record-trace.sh); memcheck of the bad-input suite
  clang libclang-rt-14-dev  # the fuzz targets: libFuzzer and the sanitizers' runtimes for clang (tests/fuzz/)
  python3              # test-suite summary only
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
