# SPDX-License-Identifier: GPL-2.0
# Shared by the bats suites; they run as root inside a test guest where
# tests/guest.sh loaded dm-mod, brd (/dev/ram0-7, 256 MiB each) and
# dm-jobmirror ($JM_MODULE).  Every device a test creates is named jmb-*
# and removed after each test.

: "${DMTOOL:?DMTOOL is not set: run the suites through tests/guest.sh}"
: "${JM_MODULE:?JM_MODULE is not set}"

# jm_create NAME LEN PARAMS...: a one-target jobmirror device.
jm_create() {
	local name=$1 len=$2
	shift 2
	dmsetup create "$name" --table "0 $len jobmirror $*"
}

# status_word NAME N: word N (1-based) of the jobmirror status params.
status_word() {
	dmsetup status "$1" | awk -v n="$2" '{ print $(n + 3) }'
}

# The kernel log since the test began (dmesg lines after the marker).
log_since_start() {
	dmesg | awk -v m="$JM_LOG_MARK" 'found { print } index($0, m) { found = 1 }'
}

jm_common_setup() {
	JM_LOG_MARK="jm-test-mark-$$-$RANDOM"
	echo "$JM_LOG_MARK" >/dev/kmsg
	grep -q '^dm_jobmirror ' /proc/modules || insmod "$JM_MODULE"
}

jm_common_teardown() {
	local d
	for d in $(dmsetup ls 2>/dev/null | awk '$1 ~ /^jmb-/ { print $1 }' | sort -r); do
		umount "/dev/mapper/$d" 2>/dev/null
		dmsetup remove "$d" || true
	done
}

setup() { jm_common_setup; }
teardown() { jm_common_teardown; }
