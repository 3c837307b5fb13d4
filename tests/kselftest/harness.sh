#!/bin/bash
# harness.sh DIR
#
# Extract kselftest_harness.h and kselftest.h, plus checkpatch.pl and its
# data files, from Debian's linux-source tarball into DIR (once).  They
# are never copied into this repository.
set -euo pipefail
dir=$1
[ -s "$dir/kselftest_harness.h" ] && [ -s "$dir/checkpatch.pl" ] && exit 0
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | sort -V | tail -n 1)
[ -n "$tarball" ] || { echo "harness: no /usr/src/linux-source-*.tar.xz: run 'make deps'" >&2; exit 1; }
top=$(basename "$tarball" .tar.xz)
mkdir -p "$dir"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tar -xJf "$tarball" -C "$tmp" \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
	"$top/scripts/const_structs.checkpatch"
cp "$tmp/$top"/tools/testing/selftests/kselftest*.h "$tmp/$top"/scripts/* "$dir/"
