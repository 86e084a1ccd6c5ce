#!/usr/bin/env bash
# test-install.sh BUILDDIR SRCDIR CC SANITIZE: libccmm as a user installs it
# (issue 14). meson install --destdir into a temporary folder, then, one TAP
# case each:
#   1. the files are where they belong: ccmm, libccmm.so (with its soname
#      links) and libccmm.a, the headers under include/ccmm/, ccmm.pc, the
#      platforms, jobs and traces under share/ccmm, the man pages, the
#      completion, the example;
#   2. the example (examples/exporter-importer.c: an exporter and an importer
#      written against the library, run through its job) builds with
#      `pkg-config --cflags --libs ccmm` against the installed shared library
#      and runs its job as expected;
#   3. the same with libccmm.a linked statically (the system libraries
#      ccmm.pc requires privately, shared): the generated
#      registration tables come along with boot/ and the kind registry;
#   4. the installed ccmm finds the installed jobs and platforms by name
#      through CCMM_PATH (the search path's share folder, relocated);
#   5. the installed man pages render with man -l.
# SANITIZE is meson's b_sanitize: the example is built with the same
# sanitizers as the library it links ("none": none).
set -u
build=$(realpath "$1")
src=$(realpath "$2")
cc=$3
sanitize=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
echo "1..5"

if ! meson install -C "$build" --destdir "$dest" --no-rebuild --quiet >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log" | sed 's/^/# /'
  for i in 1 2 3 4 5; do echo "not ok $i - meson install --destdir failed"; done
  exit 1
fi
pc=$(find "$dest" -name ccmm.pc | head -1)
prefix=$(sed -n 's/^prefix=//p' "$pc")
root=$dest$prefix
libdir=$dest$(sed -n 's/^libdir=${prefix}//p' "$pc" | sed "s|^|$prefix|")
fail=0

missing=""
for f in bin/ccmm include/ccmm/util/util.h include/ccmm/dma-buf/dma-buf.h include/ccmm/scenario/scenario.h \
         include/ccmm/platform/costs.h include/ccmm/report/report.h share/ccmm/platforms/tdx-guest.ini \
         share/ccmm/jobs/default.job share/ccmm/jobs/tiering-workload.inc share/ccmm/traces/sort.trace.zst \
         share/man/man1/ccmm.1 share/man/man5/ccmm-job.5 share/man/man5/ccmm-platform.5 share/man/man7/ccmm-dma-buf.7 \
         share/bash-completion/completions/ccmm share/doc/ccmm/examples/exporter-importer.c; do
  [ -e "$root/$f" ] || missing="$missing $f"
done
for f in libccmm.so libccmm.so.0 libccmm.a; do [ -e "$libdir/$f" ] || missing="$missing $libdir/$f"; done
if ls "$root"/include/ccmm/*/internal.h >/dev/null 2>&1; then missing="$missing (an internal.h is installed)"; fi
if [ -z "$missing" ]; then echo "ok 1 - installed: the binary, both libraries, headers, ccmm.pc, data, man pages, completion"
else echo "not ok 1 - installed files missing:$missing"; fail=1; fi

# pkg-config as a user of the destdir sees it: the sysroot is the destdir
export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$(dirname "$pc")
san=()
[ "$sanitize" != none ] && san=(-fsanitize="$sanitize")
cflags=$(pkg-config --cflags ccmm)
libs=$(pkg-config --libs ccmm)
# shellcheck disable=SC2086
if "$cc" -std=c17 -Wall -Wextra -Werror "${san[@]}" $cflags "$src/examples/exporter-importer.c" -o "$tmp/example" $libs \
     >"$tmp/cc.log" 2>&1 && \
   (cd "$src/examples" && LD_LIBRARY_PATH=$libdir "$tmp/example" exporter-importer.job --json "$tmp/example.json" >"$tmp/run.log" 2>&1) && \
   grep -q -- '-> as expected' "$tmp/run.log" && grep -q 'seen 16: ok' "$tmp/run.log" && \
   python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["result"]["exit_status"] == 0' "$tmp/example.json"; then
  echo "ok 2 - the example builds with pkg-config --cflags --libs ccmm ($cflags $libs) and runs its job as expected"
else
  echo "not ok 2 - the example against the installed shared library"; cat "$tmp/cc.log" "$tmp/run.log" 2>/dev/null | tail -20 | sed 's/^/# /'; fail=1
  rm -f "$tmp/run.log"
fi
# the dynamic one really used the installed library
if [ -e "$tmp/example" ] && ! LD_LIBRARY_PATH=$libdir ldd "$tmp/example" | grep -q "$libdir/libccmm.so.0"; then
  echo "# the example is not linked to the installed libccmm.so"; fail=1
fi

# libccmm.a, and what it needs from the system as shared libraries: the packages ccmm.pc
# requires privately, and its own private flags (-pthread -lm)
static_libs="$(pkg-config --libs $(pkg-config --print-requires-private ccmm | awk '{print $1}')) \
  $(sed -n 's/^Libs.private: //p' "$pc")"
rm -f "$tmp/cc.log" "$tmp/run.log"
# shellcheck disable=SC2086
if "$cc" -std=c17 -Wall -Wextra -Werror "${san[@]}" $cflags "$src/examples/exporter-importer.c" -o "$tmp/example-static" \
     "$libdir/libccmm.a" $static_libs >"$tmp/cc.log" 2>&1 && \
   ! ldd "$tmp/example-static" | grep -q libccmm && \
   (cd "$src/examples" && "$tmp/example-static" exporter-importer.job >"$tmp/run.log" 2>&1) && \
   grep -q -- '-> as expected' "$tmp/run.log"; then
  echo "ok 3 - the example links libccmm.a statically (the system libraries ccmm.pc requires privately shared) and runs its job as expected"
else
  echo "not ok 3 - the example against the installed static library"; cat "$tmp/cc.log" "$tmp/run.log" 2>/dev/null | tail -20 | sed 's/^/# /'; fail=1
fi

mkdir "$tmp/elsewhere"
if (cd "$tmp/elsewhere" && CCMM_PATH=$root/share/ccmm LD_LIBRARY_PATH=$libdir "$root/bin/ccmm" check tiering-on >"$tmp/out" 2>&1) && \
   grep -q "tiering-on.job: ok: .*dram-pmem" "$tmp/out" && \
   (cd "$tmp/elsewhere" && CCMM_PATH=$root/share/ccmm "$root/bin/ccmm" run -q default >"$tmp/out" 2>&1) && \
   (cd "$tmp/elsewhere" && CCMM_PATH=$root/share/ccmm "$root/bin/ccmm" platform sev-guest >"$tmp/out" 2>&1) && \
   grep -q "mode sev," "$tmp/out"; then
  echo "ok 4 - the installed ccmm finds the installed jobs, platforms and traces by name"
else
  echo "not ok 4 - the installed ccmm and its data"; sed 's/^/# /' "$tmp/out"; fail=1
fi

bad=""
for page in "$root"/share/man/man*/ccmm*; do
  err=$( { MANWIDTH=80 man --warnings=w -l "$page" | wc -l >"$tmp/lines"; } 2>&1)
  if [ -n "$err" ] || [ "$(cat "$tmp/lines")" -lt 20 ]; then bad="$bad $(basename "$page")"; fi
done
if [ -z "$bad" ]; then echo "ok 5 - the installed man pages render"; else echo "not ok 5 - man pages:$bad"; fail=1; fi
exit $fail
