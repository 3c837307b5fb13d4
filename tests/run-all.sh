#!/bin/bash
# run-all.sh KVER...
#
# The whole test run behind "make check": host unit tests, then the
# kselftest programs and bats suites inside a guest of each kernel.
# Prints per-suite counts, per-kernel time and, last, the total
# "N passed, N failed, N skipped".  Exits non-zero on any failure.
# JM_SUITES="jm_table io" runs only those guest suites.
#
# The kernels' guests run at the same time: the last kernel named (the
# newest) with 2 CPUs, the others with 1, so that on a 2-core host no
# guest's CPUs wait for the host's (a TCG guest whose CPUs outnumber the
# host's spins on them).  JM_PARALLEL=0 runs them one after the other,
# each with 2 CPUs; JM_QEMU_SMP sets every guest's CPUs.
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

# run_kernel KVER CPUS: one kernel's guest; leaves "rc secs cpus" in KVER.rc.
run_kernel() {
	local k=$1 out=$results/$1 start=$SECONDS cpus=${JM_QEMU_SMP:-$2} rc
	JM_QEMU_SMP=$cpus "$top/tests/vm/run.sh" -t "${JM_VM_TIMEOUT:-2400}" \
		"$k" "$out" "$top/tests/guest.sh" "$build" /results ${JM_SUITES:-}
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "not ok - the $k guest failed (exit $rc); serial log: $out/serial.log" >"$out/zz-vm.tap"
	fi
	echo "$rc $((SECONDS - start)) $cpus" >"$results/$k.rc"
}

n=0
for k in "$@"; do
	n=$((n + 1))
	if [ "${JM_PARALLEL:-1}" = 0 ]; then
		run_kernel "$k" 2
	elif [ $n -eq $# ]; then
		run_kernel "$k" 2 &
	else
		run_kernel "$k" 1 &
	fi
done
wait
for k in "$@"; do
	echo "== kernel $k: guest suites"
	rc=125 secs=? cpus=?
	if [ -s "$results/$k.rc" ]; then
		read -r rc secs cpus <"$results/$k.rc"
	else
		echo "not ok - the $k guest left no status" >"$results/$k/zz-vm.tap"
	fi
	[ "$rc" -ne 0 ] && failed_runs=$((failed_runs + 1))
	"$top/tests/tap-summary.sh" "kernel $k (${secs}s, $cpus CPU$([ "$cpus" = 1 ] || echo s))" "$results/$k"/*.tap
done

read -r p f s < <(awk '{ p += $1; f += $2; s += $3 } END { printf "%d %d %d\n", p, f, s }' "$TAP_TOTALS")
echo "$p passed, $f failed, $s skipped"
[ "$f" -eq 0 ] && [ "$failed_runs" -eq 0 ] && [ "$p" -gt 0 ]
