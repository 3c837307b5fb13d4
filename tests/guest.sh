#!/bin/bash
# guest.sh BUILD RESULTS [SUITE...]
#
# Runs inside a test guest (tests/vm/run.sh) as root: loads dm-mod, brd
# and the freshly built dm-jobmirror.ko, then runs each kselftest program
# and bats file, writing each one's TAP output to RESULTS/<suite>.tap.
# SUITE names (e.g. jm_table, io) select suites; default: all.
set -u
build=$1 res=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)
kver=$(uname -r)
export JM_MODULE=$build/$kver/kernel/dm-jobmirror.ko
export DMTOOL=$build/dmtool/dmtool
# LD_PRELOAD=$JMFAIL JM_FAIL=suspend ... fails device-mapper requests.
export JMFAIL=$build/kselftest-bin/libjmfail.so
export DM_DISABLE_UDEV=1
mkdir -p "$res"

selected=("$@")
wanted() {
	[ ${#selected[@]} -eq 0 ] && return 0
	local s
	for s in "${selected[@]}"; do [ "$s" = "$1" ] && return 0; done
	return 1
}

setup_log=$res/setup.log
{
	# libcrc32c: the module needs it and insmod does not load it.
	modprobe dm_mod && modprobe libcrc32c && modprobe brd rd_nr=9 rd_size=262144 &&
		insmod "$JM_MODULE"
} >"$setup_log" 2>&1 || { echo "guest: setup failed:"; cat "$setup_log"; exit 1; }

run_suite() {
	local name=$1
	shift
	local start=$SECONDS
	timeout --kill-after=10 "${JM_SUITE_TIMEOUT:-900}" "$@" >"$res/$name.tap" 2>&1
	local rc=$?
	[ $rc -eq 124 ] && echo "not ok - $name timed out after ${JM_SUITE_TIMEOUT:-900}s" >>"$res/$name.tap"
	echo "guest: $name exit $rc in $((SECONDS - start))s"
}

for t in "$build"/kselftest-bin/jm_*; do
	n=$(basename "$t")
	wanted "$n" || continue
	run_suite "kselftest-$n" "$t"
done
for b in "$top"/tests/bats/*.bats; do
	n=$(basename "$b" .bats)
	wanted "$n" || continue
	run_suite "bats-$n" bats --tap --timing "$b"
done

# Nothing may be left behind by the suites.
dmsetup ls | grep -E '^jm[bt]-' && echo "not ok - devices left behind" >>"$res/bats-zz-cleanup.tap"
dmesg >"$res/dmesg.log"
exit 0
