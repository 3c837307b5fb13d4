# SPDX-License-Identifier: GPL-2.0
# Shared by the bats suites; they run as root inside a test guest where
# tests/guest.sh loaded dm-mod, brd (/dev/ram0-8, 256 MiB each; ram8 is
# random_data's) and dm-jobmirror ($JM_MODULE).  Every device a test
# creates is named jmb-* and removed after each test.

: "${DMTOOL:?DMTOOL is not set: run the suites through tests/guest.sh}"
: "${JM_MODULE:?JM_MODULE is not set}"

# jm_create NAME LEN PARAMS...: a one-target jobmirror device.
jm_create() {
	local name=$1 len=$2
	shift 2
	dmsetup create "$name" --table "0 $len jobmirror $*"
}

# status_word NAME N: word N (1-based) of the jobmirror status params
# (after start, length and target type).
status_word() {
	local w=()
	read -ra w < <(dmsetup status "$1")
	echo "${w[$2 + 2]:-}"
}

# The kernel log since the test began (dmesg lines after the marker).
log_since_start() {
	dmesg | awk -v m="$JM_LOG_MARK" 'found { print } index($0, m) { found = 1 }'
}

jm_common_setup() {
	JM_LOG_MARK="jm-test-mark-$$-$RANDOM"
	echo "$JM_LOG_MARK" >/dev/kmsg
	[ -d /sys/module/dm_jobmirror ] || insmod "$JM_MODULE"
}

# jm_devices: the names of the dm devices named jmb-* (bash only: every
# program started costs tens of milliseconds in a TCG guest).
jm_devices() {
	local name rest
	while read -r name rest; do
		[[ $name == jmb-* ]] && echo "$name"
	done < <(dmsetup ls 2>/dev/null)
	return 0
}

jm_common_teardown() {
	local d pass names
	[ -n "${JM_WATCH_PID:-}" ] && kill "$JM_WATCH_PID" 2>/dev/null
	# Load a test started and did not stop, having failed first (one
	# process: fio --thread).
	if [ -n "${JM_LOAD_PID:-}" ]; then
		kill -9 "$JM_LOAD_PID" 2>/dev/null
		wait "$JM_LOAD_PID" 2>/dev/null
	fi
	# Devices may stack: remove what can be removed, four times over.
	for pass in 1 2 3 4 5; do
		names=$(jm_devices)
		[ -z "$names" ] && break
		[ "$pass" = 5 ] && { echo "teardown: devices left:" $names >&2; return 1; }
		for d in $names; do
			umount "/dev/mapper/$d" 2>/dev/null
			dmsetup remove "$d" 2>/dev/null || true
		done
	done
	for d in /sys/kernel/config/nullb/jmb-*; do
		[ -d "$d" ] || continue
		echo 0 >"$d/power"
		rmdir "$d"
	done
	# A test that failed with its scsi_debug disk still there.
	if [ -d /sys/module/scsi_debug ]; then
		echo N >/sys/module/scsi_debug/parameters/wp
		modprobe -r scsi_debug || true
	fi
	return 0
}

setup() { jm_common_setup; }
teardown() { jm_common_teardown; }

# jmfail VAR=VALUE... COMMAND...: run COMMAND with libjmfail.so preloaded
# (JM_FAIL=suspend,... makes those device-mapper requests fail: see
# tests/kselftest/jmfail.c).
jmfail() {
	[ -f "${JMFAIL:-}" ] || { echo "jmfail: no libjmfail.so at '${JMFAIL:-}'" >&2; return 99; }
	env LD_PRELOAD="$JMFAIL" "$@"
}

# wait_gone PID [SECONDS]: wait (20 s by default) for a background
# process; returns its exit status, or 124 if it is still running.
wait_gone() {
	local i rc=0
	for ((i = 0; i < ${2:-20} * 10; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$1" 2>/dev/null && { echo "wait_gone: $1 still running" >&2; return 124; }
	wait "$1" || rc=$?
	return $rc
}

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

# wait_io NAME IO [SECONDS]: poll until io (status word 6) is IO.
wait_io() {
	local i
	for ((i = 0; i < ${3:-10} * 10; i++)); do
		[ "$(status_word "$1" 6)" = "$2" ] && return 0
		sleep 0.1
	done
	echo "wait_io: $1 io is $(status_word "$1" 6), not $2" >&2
	dmsetup status "$1" >&2
	return 1
}

# sum_dev DEV MIB [SKIP_MIB]: md5 of MIB MiB of DEV read with O_DIRECT
# (the page cache of a device written below it may be stale).
sum_dev() {
	local sum rest
	read -r sum rest < <(dd if="$1" bs=1M count="$2" skip="${3:-0}" iflag=direct status=none | md5sum)
	echo "$sum"
}

# sum_at FILE BS SKIP COUNT: md5 of COUNT blocks of BS bytes at SKIP
# (read with O_DIRECT from a device; tmpfs takes no O_DIRECT on 6.1).
sum_at() {
	local direct=
	[ -b "$1" ] && direct=iflag=direct
	dd if="$1" bs="$2" skip="$3" count="$4" $direct status=none | md5sum | cut -d' ' -f1
}

# fill_random DEV MIB: random data, written with O_DIRECT (no pipe: in a
# TCG guest, piping 64 MiB costs as much again as making it).
fill_random() {
	dd if=/dev/urandom of="$1" bs=1M count="$2" iflag=fullblock oflag=direct status=none
}

# random_data DEV MIB: the same random data at every call (MIB <= 256),
# copied from ram8, which gets it once per guest: in a TCG guest making
# 64 MiB of random data takes 0.6 s, copying it 0.1 s.  fill_random
# stays the way to write new data.  A test that checks a copy of it
# zeroes the dest first: a dest that an earlier test left equal to it
# would hide a copy that did not happen.
random_data() {
	if [ ! -e /tmp/jm-random-data ]; then
		fill_random /dev/ram8 256 && : >/tmp/jm-random-data
	fi
	dd if=/dev/ram8 of="$1" bs=1M count="$2" iflag=direct oflag=direct status=none
}

# msg_fails NAME ERRNO_TEXT MESSAGE...: the message fails with that error.
msg_fails() {
	local name=$1 text=$2
	shift 2
	run dmsetup message "$name" 0 "$@"
	[ "$status" -ne 0 ] || { echo "message '$*' was accepted" >&2; return 1; }
	[[ "$output" == *"$text"* ]] || { echo "message '$*': $output" >&2; return 1; }
}

# Two 64 MiB paths for a job: jmb-src over ram0 (random_data) and jmb-dst
# over ram1 (zeros), to break with break_dev and heal with heal_dev.
PATH_LEN=131072		# 64 MiB
PATH_BAD=32768		# where tests break a path: 16 MiB...
PATH_BADLEN=2048	# ...for 1 MiB

paths_setup() {
	random_data /dev/ram0 64
	dd if=/dev/zero of=/dev/ram1 bs=1M count=64 oflag=direct status=none
	linear_dev jmb-src /dev/ram0 $PATH_LEN
	linear_dev jmb-dst /dev/ram1 $PATH_LEN
}

# wait_lines REGEX FILE [N [SECONDS]]: until N lines (default 1) of FILE
# match REGEX (within SECONDS, default 10).
wait_lines() {
	local i n
	for ((i = 0; i < ${4:-10} * 10; i++)); do
		# (No count at all while FILE does not exist yet.)
		n=$(grep -c -e "$1" "$2" 2>/dev/null) || true
		[ "${n:-0}" -ge "${3:-1}" ] && return 0
		sleep 0.1
	done
	echo "wait_lines: fewer than ${3:-1} lines '$1' in $2:" >&2
	cat "$2" >&2
	return 1
}

# set_table NAME: the table on stdin replaces NAME's, live (a reload,
# then a suspend, which waits for NAME's I/O in flight, and a resume).
set_table() {
	dmsetup reload "$1"
	dmsetup suspend "$1"
	dmsetup resume "$1"
}

# A linear device over DEV that can be broken (an error segment) and healed.
# linear_dev NAME DEV SECTORS
linear_dev() {
	dmsetup create "$1" --table "0 $3 linear $2 0"
}

# break_dev NAME DEV SECTORS START LEN: sectors START..START+LEN fail (EIO).
break_dev() {
	local n=$1 d=$2 total=$3 s=$4 l=$5
	printf '0 %d linear %s 0\n%d %d error\n%d %d linear %s %d\n' \
		"$s" "$d" "$s" "$l" $((s + l)) $((total - s - l)) "$d" $((s + l)) |
		set_table "$n"
}

# fail_dev NAME SECTORS: every I/O to NAME fails (EIO) from now on.
fail_dev() {
	echo "0 $2 error" | set_table "$1"
}

# meta_set_version DEV VERSION: give each valid metadata header of DEV
# (blocks 0 and 1) format version VERSION, with a good checksum.
meta_set_version() {
	dd if="$1" bs=4k count=2 iflag=direct status=none |
		python3 "$BATS_TEST_DIRNAME/metahdr.py" version "$2" >"$BATS_TEST_TMPDIR/header"
	dd if="$BATS_TEST_TMPDIR/header" of="$1" bs=4k count=2 oflag=direct conv=notrunc status=none
}

# meta_headers DEV: "seq flags bits_set" of each valid header of DEV.
meta_headers() {
	dd if="$1" bs=4k count=2 iflag=direct status=none |
		python3 "$BATS_TEST_DIRNAME/metahdr.py" show
}

# heal_dev NAME DEV SECTORS
heal_dev() {
	echo "0 $3 linear $2 0" | set_table "$1"
}

# watch_start NAME: collect NAME's events (JSON lines) in $JM_EVENTS.
watch_start() {
	JM_EVENTS=$BATS_TEST_TMPDIR/events
	"$DMTOOL" watch "$1" --json >"$JM_EVENTS" &
	JM_WATCH_PID=$!
	sleep 0.3
}

# watch_stop: stop collecting (after the events in flight arrived).
watch_stop() {
	sleep 0.5
	kill "$JM_WATCH_PID"
	wait "$JM_WATCH_PID" || true
	JM_WATCH_PID=
}

# events_of TYPE: the collected events of that type, one JSON per line.
events_of() {
	jq -c "select(.event == \"$1\")" "$JM_EVENTS"
}

# event_fields TYPE FIELD...: one line per collected event of that type,
# its FIELDs' values joined by spaces ("null" for one it lacks).  One jq
# for them all: jq takes about 0.3 s to start in a TCG guest.
event_fields() {
	local t=$1
	shift
	jq -r --arg t "$t" 'select(.event == $t) | [.[$ARGS.positional[]] | tostring] | join(" ")' \
		"$JM_EVENTS" --args "$@"
}

# A thin pool with too little space: jmb-tdata (DATA_MB of ram3) under
# jmb-pool (metadata on ram2), and a 64 MiB thin volume jmb-thin.
thin_setup() {
	local data_mb=$1
	dd if=/dev/zero of=/dev/ram2 bs=1M count=4 oflag=direct status=none
	linear_dev jmb-tdata /dev/ram3 $((data_mb * 2048))
	dmsetup create jmb-pool --table \
		"0 $((data_mb * 2048)) thin-pool /dev/ram2 /dev/mapper/jmb-tdata 128 0 1 error_if_no_space"
	dmsetup message jmb-pool 0 "create_thin 0"
	dmsetup create jmb-thin --table "0 131072 thin /dev/mapper/jmb-pool 0"
}

# thin_grow DATA_MB: give the pool more data space, live.
thin_grow() {
	local sectors=$(($1 * 2048))
	echo "0 $sectors linear /dev/ram3 0" | set_table jmb-tdata
	dmsetup table jmb-pool | awk -v n="$sectors" '{ $2 = n; print }' | set_table jmb-pool
}

# cache_dev NAME MIB [discard]: a RAM-backed null_blk device with a
# volatile write cache (brd has none, so flushes never reach it); sets
# CACHE_DEV to its path.  With discard it takes discards (what it
# discards reads as zeros; brd takes none on 6.1).  Removed after each
# test.
cache_dev() {
	local d=/sys/kernel/config/nullb/$1
	[ -d /sys/module/null_blk ] || modprobe null_blk nr_devices=0
	mountpoint -q /sys/kernel/config || mount -t configfs none /sys/kernel/config
	mkdir "$d"
	echo 1 >"$d/memory_backed"
	[ "${3:-}" = discard ] && echo 1 >"$d/discard"
	echo "$2" >"$d/size"
	echo 16 >"$d/cache_size"
	echo 1 >"$d/power"
	# 6.1 names the disk by its index, 6.12 by its configfs name.
	CACHE_DEV=/dev/nullb$(cat "$d/index")
	[ -b "$CACHE_DEV" ] || CACHE_DEV=/dev/$1
	[ "$(cat "/sys/block/${CACHE_DEV#/dev/}/queue/write_cache")" = "write back" ]
}

# flush_dev NAME DEV SECTORS ok|fail: NAME is DEV plus 8 sectors past
# SECTORS that nothing writes; with fail there, a flakey error_writes
# segment makes every flush of NAME fail while its writes succeed.  A
# fifth word "load" only loads the table of an existing NAME, for a
# later suspend and resume (a new NAME is created with it live).
flush_dev() {
	local tail="linear $2 $3"
	modprobe dm-flakey
	[ "$4" = fail ] && tail="flakey $2 $3 0 1 1 error_writes"
	printf '0 %d linear %s 0\n%d 8 %s\n' "$3" "$2" "$3" "$tail" >"$BATS_TEST_TMPDIR/table"
	if ! dmsetup info "$1" >/dev/null 2>&1; then
		dmsetup create "$1" "$BATS_TEST_TMPDIR/table"
	elif [ "${5:-}" = load ]; then
		dmsetup reload "$1" "$BATS_TEST_TMPDIR/table"
	else
		set_table "$1" <"$BATS_TEST_TMPDIR/table"
	fi
}

# flushes_back_resume NAME: NAME (made by flush_dev over $CACHE_DEV, $LEN
# sectors) flushes again; the job jmb-m, stopped by its failed flush, is
# resumed and comes back ready with iostatus ok.
flushes_back_resume() {
	flush_dev "$1" "$CACHE_DEV" $LEN ok
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	[ "$(status_word jmb-m 5)" = ok ]
}

# scsi_disk ARGS...: load scsi_debug with ARGS (no udev here to load the
# disk driver) and set SD to its disk.
scsi_disk() {
	local i
	modprobe sd_mod
	modprobe scsi_debug "$@"
	SD=
	for ((i = 0; i < 50; i++)); do
		SD=$(ls /sys/bus/pseudo/drivers/scsi_debug/adapter0/host*/target*/*/block 2>/dev/null) &&
			break
		sleep 0.1
	done
	SD=/dev/$SD
	[ -b "$SD" ]
}
