#!/bin/sh
# The library's symbols carry the project prefix (issue: the house).
# usage: check-symbols.sh NM LIBCCMM.a LIBCCMM.so
#   1. every global symbol defined in the archive is ccmm_* (public) or
#      _ccmm_* (shared between files of one folder);
#   2. the shared library exports exactly the public ones: ccmm_*.
# Symbols the compiler or a sanitizer makes (__odr_asan.*, __asan_*: names
# with two leading underscores, reserved to the implementation) are not ours.
nm=$1 archive=$2 shared=$3
echo "1..2"
status=0
bad=$("$nm" -g --defined-only "$archive" 2>/dev/null | awk 'NF == 3 && $2 ~ /[TDBRCGSVW]/ {print $3}' | grep -v '^_\{0,1\}ccmm_' | grep -v '^__' | sort -u)
if [ -z "$bad" ]; then
	echo "ok 1 - every global symbol of libccmm.a is ccmm_ or _ccmm_"
else
	echo "not ok 1 - every global symbol of libccmm.a is ccmm_ or _ccmm_"
	status=1
	echo "$bad" | sed 's/^/# unprefixed: /'
fi
bad=$("$nm" -D --defined-only "$shared" 2>/dev/null | awk 'NF == 3 {print $3}' | grep -v '^ccmm_' | grep -v '^__' | sort -u)
if [ -z "$bad" ] && [ -n "$("$nm" -D --defined-only "$shared" | head -1)" ]; then
	echo "ok 2 - libccmm.so exports only ccmm_ symbols"
else
	echo "not ok 2 - libccmm.so exports only ccmm_ symbols"
	status=1
	echo "$bad" | sed 's/^/# exported: /'
fi
exit $status
