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

# wait_state NAME STATE [SECONDS]: poll until the job is in STATE.
wait_state() {
	local name=$1 want=$2 secs=${3:-60} i
	for ((i = 0; i < secs * 10; i++)); do
		[ "$(status_word "$name" 2)" = "$want" ] && return 0
		sleep 0.1
	done
	echo "wait_state: $name is $(status_word "$name" 2), not $want, after ${secs}s" >&2
	dmsetup status "$name" >&2
	return 1
}

# sum_dev DEV MIB [SKIP_MIB]: md5 of MIB MiB of DEV read with O_DIRECT
# (the page cache of a device written below it may be stale).
sum_dev() {
	dd if="$1" bs=1M count="$2" skip="${3:-0}" iflag=direct status=none | md5sum | cut -d' ' -f1
}

# fill_random DEV MIB: random data, written with O_DIRECT.
fill_random() {
	head -c "$2M" /dev/urandom | dd of="$1" bs=1M oflag=direct status=none
}

# msg_fails NAME ERRNO_TEXT MESSAGE...: the message fails with that error.
msg_fails() {
	local name=$1 text=$2
	shift 2
	run dmsetup message "$name" 0 "$@"
	[ "$status" -ne 0 ] || { echo "message '$*' was accepted" >&2; return 1; }
	[[ "$output" == *"$text"* ]] || { echo "message '$*': $output" >&2; return 1; }
}
