#!/bin/sh
# Builds the Debian package from a copy of the source tree in a temporary folder, so build/ never gets in; prints the .deb's path.
#
#   sh tools/deb.sh OUTDIR
#
# Copies the tree (without build/, ./why550 and .git) to a temporary
# folder, runs dpkg-buildpackage -us -uc -b there (its log is shown only
# when it fails), moves the .deb to OUTDIR and removes the folder.
set -eu

[ $# -eq 1 ] || { echo "usage: sh tools/deb.sh OUTDIR" >&2; exit 64; }
out=$1
root=$(cd "$(dirname "$0")/.." && pwd -P)
for tool in dpkg-buildpackage dh; do
	if ! command -v "$tool" > /dev/null; then
		echo "deb: '$tool' is missing: install dpkg-dev and debhelper (make deps does)" >&2
		exit 1
	fi
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/why550-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
src=$tmp/why550
mkdir "$src"
(cd "$root" && tar -cf - --exclude=./build --exclude=./why550 --exclude=./.git .) |
    (cd "$src" && tar -xf -)
if ! (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2 ${DEB_BUILD_OPTIONS:-}" \
    dpkg-buildpackage -us -uc -b) > "$tmp/build.log" 2>&1; then
	tail -n 60 "$tmp/build.log" >&2
	echo "deb: dpkg-buildpackage failed (the log's end is above)" >&2
	exit 1
fi
mkdir -p "$out"
for deb in "$tmp"/*.deb; do
	mv "$deb" "$out"/
	echo "$out/${deb##*/}"
done
