#!/bin/sh
# include-view.sh VIEW SRCROOT FOLDER... - make VIEW a folder of symbolic
# links to SRCROOT/FOLDER for each FOLDER, and nothing else: a library
# compiled with -I VIEW can include exactly those folders' headers.
set -e
view=$1 src=$2
shift 2
rm -rf "$view"
mkdir -p "$view"
for f in "$@"; do
	mkdir -p "$view/$(dirname "$f")"
	[ -e "$view/$f" ] || ln -s "$src/$f" "$view/$f"
done
