#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh KVER...: the runs behind "make stress".
#
# JM_STRESS_RUNS runs (default 4) of tests/stress/stress.sh, each in its
# own guest, taking turns over the kernels given, the job error policies
# (ignore, stop), the copy speeds (unlimited, 32 MiB/s) and the endings
# (crash, complete); JM_STRESS_SECS seconds of random actions each
# (default 60).  The seeds are JM_STRESS_SEED (default: from the clock,
# printed) plus the run's number: a run is repeated by its seed, timing
# aside.  Prints one line per run, "N passed, N failed" last.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${O:-$top/build}
runs=${JM_STRESS_RUNS:-4} secs=${JM_STRESS_SECS:-60}
base=${JM_STRESS_SEED:-$(($(date +%s) % 100000))}
kvers=("$@")
[ ${#kvers[@]} -gt 0 ] || { echo "usage: run.sh KVER..." >&2; exit 2; }
policies=(ignore stop) speeds=(0 33554432) endings=(crash complete)
echo "stress: $runs runs of $secs s, seeds from $base"
passed=0 failed=0
for ((i = 0; i < runs; i++)); do
	# Each kernel gets both endings and both policies in four runs.
	k=${kvers[i / 2 % ${#kvers[@]}]}
	seed=$((base + i))
	args=("$seed" "${policies[(i + i / 2) % 2]}" "${speeds[i / 4 % 2]}" "${endings[i % 2]}")
	out=$build/stress/$seed
	"$top/tests/vm/run.sh" -t $((secs + 300)) "$k" "$out" \
		"$top/tests/stress/stress.sh" "$build" "$secs" "${args[@]}" >/dev/null 2>&1
	rc=$?
	line=$(tr -d '\r' <"$out/serial.log" | grep -a -E '^stress: (ok|FAILED)' | tail -n 1)
	if [ $rc -eq 0 ] && [ "$line" = "stress: ok" ]; then
		passed=$((passed + 1))
		echo "ok   seed $seed on $k: ${args[*]:1}"
	else
		failed=$((failed + 1))
		echo "FAIL seed $seed on $k: ${args[*]:1}: ${line:-guest exit $rc}; log: $out/serial.log"
	fi
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
