#!/bin/bash
# run-all.sh KVER...
#
# The whole test run behind "make check": host unit tests, then the
# kselftest programs and bats suites inside a guest of each kernel.
# Prints per-suite counts, per-kernel time and, last, the total
# "N passed, N failed, N skipped".  Exits non-zero on any failure.
# JM_SUITES="jm_table io" runs only those guest suites.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=${O:-$top/build}
results=$build/test-results
rm -rf "$results"
mkdir -p "$results"
export TAP_TOTALS=$results/totals
: >"$TAP_TOTALS"
failed_runs=0

echo "== host: unit tests"
mkdir -p "$results/host"
make -s -C "$top" unit >"$results/host/unit.tap" 2>&1
"$top/tests/tap-summary.sh" "host" "$results/host/unit.tap"

make -s -C "$top/tests/kselftest" O="$build/kselftest-bin" HARNESS="$build/kselftest" ||
	{ echo "run-all: cannot build the kselftest programs" >&2; exit 1; }

for k in "$@"; do
	echo "== kernel $k: guest suites"
	out=$results/$k
	start=$SECONDS
	"$top/tests/vm/run.sh" -t "${JM_VM_TIMEOUT:-1500}" "$k" "$out" \
		"$top/tests/guest.sh" "$build" /results ${JM_SUITES:-}
	rc=$?
	secs=$((SECONDS - start))
	if [ $rc -ne 0 ]; then
		echo "not ok - the $k guest failed (exit $rc); serial log: $out/serial.log" >"$out/zz-vm.tap"
		failed_runs=$((failed_runs + 1))
	fi
	"$top/tests/tap-summary.sh" "kernel $k (${secs}s)" "$out"/*.tap
done

read -r p f s < <(awk '{ p += $1; f += $2; s += $3 } END { printf "%d %d %d\n", p, f, s }' "$TAP_TOTALS")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ] && [ "$failed_runs" -eq 0 ] && [ "$p" -gt 0 ]
