#!/usr/bin/env bash
# Installs every Debian package ccmm needs to build, test and run its scripts.
# Safe to run again: apt-get skips what is already installed.
#
#   scripts/install-deps.sh                 what the build and the suite need
#   scripts/install-deps.sh --kernel DIR    also what scripts/record-kernel.sh
#       needs to boot Linux 6.12 under qemu (KERNEL_PACKAGES), and the kernel
#       itself: the newest linux-image-6.12.*-amd64-unsigned (or
#       $CCMM_KERNEL_PACKAGE) is downloaded into DIR with `apt-get download`,
#       not installed (the recorder unpacks it with dpkg-deb -x; the host's
#       /boot is left alone); DIR/selected names the .deb.
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
  gnuplot-nox          # ccmm --plot / ccmm plot: PNG (pngcairo) and SVG through a pipe
  libpng-dev           # the suite decodes the plots' PNGs (tests/answers/check_png.c)
  openmpi-bin libopenmpi-dev  # ccmm sweep --mpi (optional at build time; MPICH's libmpich-dev works too)
  man-db groff-base    # the suite renders the generated man pages (man -l)
)

# Only for scripts/record-kernel.sh (--kernel): the build never needs them.
KERNEL_PACKAGES=(
  qemu-system-x86      # boots the guest (-accel tcg: no KVM needed)
  busybox-static       # the guest's /init and tools
  cpio                 # the initramfs
  zstd xz-utils        # compressed recordings; Debian's .ko.xz modules
  kmod                 # depmod: module dependencies of the unpacked kernel
  file                 # checks that busybox is static
)
KERNEL_PACKAGE_PATTERN='^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64-unsigned$'

kernel_dir=""
if [ "${1:-}" = "--kernel" ]; then
  [ $# -eq 2 ] || { echo "usage: $0 [--kernel DIR]" >&2; exit 2; }
  kernel_dir=$2
  PACKAGES+=("${KERNEL_PACKAGES[@]}")
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

export DEBIAN_FRONTEND=noninteractive
updated=no
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  updated=yes
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -n "$kernel_dir" ]; then
  mkdir -p "$kernel_dir"
  pkg=${CCMM_KERNEL_PACKAGE:-}
  newest() { apt-cache search --names-only "$KERNEL_PACKAGE_PATTERN" | awk '{ print $1 }' | sort -V | tail -1; }
  if [ -z "$pkg" ]; then
    pkg=$(newest)
    if [ -z "$pkg" ] && [ $updated = no ]; then
      $SUDO apt-get update -qq
      pkg=$(newest)
    fi
    [ -n "$pkg" ] || { echo "install-deps: no linux-image-6.12.*-amd64-unsigned package in the apt lists" >&2; exit 1; }
  fi
  deb=$(ls "$kernel_dir/${pkg}"_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$deb" ]; then
    echo "install-deps: downloading $pkg" >&2
    # apt's sandbox user cannot write to a root-owned folder: fetch in a
    # world-writable temporary one, then move the package
    dl=$(mktemp -d)
    chmod 777 "$dl"
    (cd "$dl" && apt-get download -qq "$pkg") || { rm -rf "$dl"; echo "install-deps: cannot download $pkg" >&2; exit 1; }
    mv "$dl"/*.deb "$kernel_dir/"
    rm -rf "$dl"
    deb=$(ls "$kernel_dir/${pkg}"_*.deb | head -1)
  fi
  echo "$deb" > "$kernel_dir/selected"
fi
