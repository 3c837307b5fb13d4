#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# I/O hang (io_hang_timeout, io_hang_interval): user bios that fail with
# EIO are held and retried, so a storage outage shorter than the timeout
# never reaches the user.  The source is jmb-src, a linear device over
# ram0 whose table is swapped to "error" (or a partly broken table) and
# back; the dest is jmb-dst over ram1.

load helpers

LEN=$PATH_LEN BAD=$PATH_BAD BADLEN=$PATH_BADLEN

setup() {
	jm_common_setup
	paths_setup
}

teardown() {
	local rc=0
	umount /mnt/jmb 2>/dev/null || true
	jm_common_teardown || rc=$?
	if [ -n "${NBD_USED:-}" ]; then
		nbd-client -d /dev/nbd0 >/dev/null 2>&1 || true
		nbd-client -d /dev/nbd1 >/dev/null 2>&1 || true
		pkill -9 nbd-server || true
	fi
	return $rc
}

# hang_job NAME TIMEOUT "MORE OPT WORDS...": a mirror job with I/O hang
# retrying every 200 ms.
hang_job() {
	local name=$1 secs=$2
	shift 2
	local words=(io_hang_timeout "$secs" io_hang_interval 200 $*)
	jm_create "$name" $LEN mirror /dev/mapper/jmb-src /dev/mapper/jmb-dst - 128 \
		${#words[@]} "${words[@]}"
}

# source_down / source_up: every sector of jmb-src fails, or none.
source_down() {
	echo "0 $LEN error" | set_table jmb-src
}

source_up() {
	heal_dev jmb-src /dev/ram0 $LEN
}

# block_md5 DEV 4K_BLOCK: md5 of one 4 KiB block, read with O_DIRECT.
block_md5() {
	dd if="$1" bs=4k skip="$2" count=1 iflag=direct status=none | md5sum | cut -d' ' -f1
}

@test "a write failing with EIO is held, retried, and succeeds once the path is back" {
	hang_job jmb-m 60 start_paused
	watch_start jmb-m
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	dd if="$BATS_TEST_TMPDIR/a" of=/dev/mapper/jmb-m bs=4k seek=$((BAD / 8)) \
		oflag=direct status=none &
	writer=$!
	wait_io jmb-m hung
	[ "$(status_word jmb-m 7)" -eq 1 ]
	[ "$(status_word jmb-m 11)" = write:eio ]
	sleep 1
	kill -0 $writer		# held, not failed
	run rmmod dm_jobmirror	# in use, as always
	[ "$status" -ne 0 ]
	source_up
	rc=0
	wait $writer || rc=$?
	[ "$rc" -eq 0 ]
	wait_io jmb-m running
	[ "$(status_word jmb-m 7)" -eq 0 ]
	[ "$(status_word jmb-m 11)" = - ]
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" -eq 0 ]	# never reached the policy
	[ "$(block_md5 /dev/ram0 $((BAD / 8)))" = "$(md5sum <"$BATS_TEST_TMPDIR/a" | cut -d' ' -f1)" ]
	watch_stop
	[ "$(event_fields IO_HANG operation reason sector action)" = "write eio $BAD null" ]
	[ "$(events_of IO_HANG_RECOVERED | wc -l)" -eq 1 ]
	[ "$(events_of IO_ERROR | wc -l)" -eq 0 ]
	run log_since_start
	[[ "$output" == *"jmb-m: IO_HANG: write eio at sector $BAD: held, retrying"* ]]
	[[ "$output" == *"jmb-m: IO_HANG_RECOVERED: write eio"* ]]
}

@test "a later write to the same sector never overtakes a held one; reads and other I/O wait behind it" {
	hang_job jmb-m 60 start_paused
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/b"
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/c"
	dd if="$BATS_TEST_TMPDIR/a" of=/dev/mapper/jmb-m bs=4k seek=$((BAD / 8)) \
		oflag=direct status=none &
	a=$!
	wait_io jmb-m hung
	# Same sector, then a healthy place: both wait behind the held write.
	dd if="$BATS_TEST_TMPDIR/b" of=/dev/mapper/jmb-m bs=4k seek=$((BAD / 8)) \
		oflag=direct status=none &
	b=$!
	dd if="$BATS_TEST_TMPDIR/c" of=/dev/mapper/jmb-m bs=4k seek=10 oflag=direct status=none &
	c=$!
	for i in $(seq 50); do [ "$(status_word jmb-m 7)" -eq 3 ] && break; sleep 0.1; done
	# And a read of that sector: it must not see what was there before
	# the held write (it is in flight with the later one: either may win).
	block_md5 /dev/mapper/jmb-m $((BAD / 8)) >"$BATS_TEST_TMPDIR/read" &
	r=$!
	for i in $(seq 50); do [ "$(status_word jmb-m 7)" -eq 4 ] && break; sleep 0.1; done
	[ "$(status_word jmb-m 7)" -eq 4 ]
	kill -0 $a
	kill -0 $b
	kill -0 $c
	kill -0 $r
	[ "$(block_md5 /dev/ram0 10)" != "$(md5sum <"$BATS_TEST_TMPDIR/c" | cut -d' ' -f1)" ]
	source_up
	wait $a
	wait $b
	wait $c
	wait $r
	read_sum=$(cat "$BATS_TEST_TMPDIR/read")
	[ "$read_sum" = "$(md5sum <"$BATS_TEST_TMPDIR/a" | cut -d' ' -f1)" ] ||
		[ "$read_sum" = "$(md5sum <"$BATS_TEST_TMPDIR/b" | cut -d' ' -f1)" ]
	# The later write's data is what the sector holds.
	[ "$(block_md5 /dev/ram0 $((BAD / 8)))" = "$(md5sum <"$BATS_TEST_TMPDIR/b" | cut -d' ' -f1)" ]
	[ "$(block_md5 /dev/ram0 10)" = "$(md5sum <"$BATS_TEST_TMPDIR/c" | cut -d' ' -f1)" ]
	[ "$(status_word jmb-m 7)" -eq 0 ]
}

@test "an outage longer than the timeout: EIO after about the timeout, IO_HANG_TIMEOUT, then fast failures until the path works" {
	hang_job jmb-m 3 start_paused
	watch_start jmb-m
	source_down
	start=$(date +%s%N)
	run dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k count=1 seek=100 oflag=direct
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -ne 0 ]
	[[ "$output" == *"Input/output error"* ]]
	echo "first EIO after ${ms} ms" >&3
	# timeout <= wait <= timeout + interval, plus slack for a slow guest.
	[ "$ms" -ge 2900 ]
	[ "$ms" -le 4500 ]
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" -eq 1 ]
	# Gave up: the device is known bad, the next failure is not held.
	start=$(date +%s%N)
	run dd if=/dev/mapper/jmb-m of=/dev/null bs=4k count=1 skip=100 iflag=direct
	ms=$((($(date +%s%N) - start) / 1000000))
	[ "$status" -ne 0 ]
	[ "$ms" -lt 1500 ]
	# A success re-arms the hang.
	source_up
	dd if=/dev/mapper/jmb-m of=/dev/null bs=4k count=1 iflag=direct status=none
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k count=1 seek=$((BAD / 8)) oflag=direct status=none &
	writer=$!
	wait_io jmb-m hung
	source_up
	wait $writer
	watch_stop
	[ "$(events_of IO_HANG | wc -l)" -eq 2 ]
	[ "$(event_fields IO_HANG_TIMEOUT operation action reason)" = "write report eio" ]
	[ "$(events_of IO_HANG_RECOVERED | wc -l)" -eq 1 ]
	[ "$(event_fields IO_ERROR operation action reason)" = \
	  "$(printf 'write report eio\nread report eio')" ]
}

@test "a retry still in flight at the timeout decides: it succeeds, the hang recovers, and hangs again later" {
	modprobe dm-delay
	hang_job jmb-m 3 start_paused
	watch_start jmb-m
	source_down
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	dd if="$BATS_TEST_TMPDIR/a" of=/dev/mapper/jmb-m bs=4k seek=100 oflag=direct \
		status=none &
	writer=$!
	wait_io jmb-m hung
	# The path is back but slow: the next retry takes 3 s, past the
	# timeout, and succeeds.
	echo "0 $LEN delay /dev/ram0 0 3000" | set_table jmb-src
	wait_gone $writer
	wait_io jmb-m running
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" -eq 0 ]
	[ "$(block_md5 /dev/ram0 100)" = "$(md5sum <"$BATS_TEST_TMPDIR/a" | cut -d' ' -f1)" ]
	# Not given up: the next outage hangs too, instead of failing at once.
	source_down
	dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k count=1 seek=200 oflag=direct status=none &
	writer=$!
	wait_io jmb-m hung
	source_up
	wait_gone $writer
	watch_stop
	[ "$(events_of IO_HANG | wc -l)" -eq 2 ]
	[ "$(events_of IO_HANG_RECOVERED | wc -l)" -eq 2 ]
	[ "$(events_of IO_HANG_TIMEOUT | wc -l)" -eq 0 ]
	[ "$(events_of IO_ERROR | wc -l)" -eq 0 ]
}

@test "a retry interval longer than the timeout: the bio fails at the timeout" {
	jm_create jmb-m $LEN mirror /dev/mapper/jmb-src /dev/mapper/jmb-dst - 128 \
		5 io_hang_timeout 1 io_hang_interval 10000 start_paused
	source_down
	start=$(date +%s%N)
	run dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k count=1 seek=100 oflag=direct
	ms=$((($(date +%s%N) - start) / 1000000))
	echo "EIO after ${ms} ms"
	[ "$status" -ne 0 ]
	[[ "$output" == *"Input/output error"* ]]
	[ "$ms" -ge 900 ]
	[ "$ms" -le 3000 ]
}

@test "the hang gives up into werror=stop: held until continue, data intact" {
	hang_job jmb-m 1 start_paused werror stop
	source_down
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	dd if="$BATS_TEST_TMPDIR/a" of=/dev/mapper/jmb-m bs=4k seek=7 oflag=direct status=none &
	writer=$!
	wait_io jmb-m hung
	wait_io jmb-m stopped 10
	[ "$(status_word jmb-m 11)" = write:eio ]
	[ "$(status_word jmb-m 7)" -eq 1 ]
	kill -0 $writer
	source_up
	dmsetup message jmb-m 0 continue
	wait $writer
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(block_md5 /dev/ram0 7)" = "$(md5sum <"$BATS_TEST_TMPDIR/a" | cut -d' ' -f1)" ]
}

# released_after_resume WRITER: after a noflush suspend and resume
# nothing stays stuck: WRITER ends, a new write goes through, io runs
# and holds nothing.
released_after_resume() {
	wait_gone "$1"
	dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k seek=9 count=1 oflag=direct status=none &
	wait_gone $!
	wait_io jmb-m running
	[ "$(status_word jmb-m 7)" -eq 0 ]
}

# first_mib error|linear: jmb-src's first MiB fails, or maps ram0; the
# rest is the thin volume behind a 1 s delay.
first_mib() {
	local seg="0 2048 error"
	[ "$1" = linear ] && seg="0 2048 linear /dev/ram0 0"
	printf '%s\n2048 %d delay /dev/mapper/jmb-thin 2048 1000\n' "$seg" $((LEN - 2048)) |
		set_table jmb-src
}

# grow_continue MIB DATA_BLOCK: the pool grows to MIB, continue, and the
# stopped write finishes with its data at 4 KiB block DATA_BLOCK.
grow_continue() {
	thin_grow "$1"
	dmsetup message jmb-m 0 continue
	wait_gone $stopper
	[ "$(block_md5 /dev/mapper/jmb-thin "$2")" = \
	  "$(md5sum <"$BATS_TEST_TMPDIR/b" | cut -d' ' -f1)" ]
}

# hang_then_stop DATA_BLOCK: jmb-src's first MiB fails (EIO); the rest is
# the thin volume, full, behind a 1 s delay.  A write of $BATS_TEST_TMPDIR/b
# at 4 KiB block DATA_BLOCK goes into that delay (pid in stopper), then a
# write at block 1 fails at once and hangs (pid in hung); the first, mapped
# before, fails with ENOSPC a moment later and stops io (werror enospc).
hang_then_stop() {
	first_mib error
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/b"
	dd if="$BATS_TEST_TMPDIR/b" of=/dev/mapper/jmb-m bs=4k seek="$1" oflag=direct \
		status=none &
	stopper=$!
	sleep 0.3
	dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k seek=1 count=1 oflag=direct status=none 2>/dev/null &
	hung=$!
	wait_io jmb-m stopped
	[ "$(status_word jmb-m 11)" = write:enospc ]
}

@test "a stop during a hang leaves the hung write its own retries, recovery, timeout and policy; continue waits for the hang" {
	modprobe dm-delay
	thin_setup 2
	# 17 of the pool's 32 blocks in use: 15 more fill it.
	dd if=/dev/zero of=/dev/mapper/jmb-thin bs=64k count=17 oflag=direct status=none
	dd if=/dev/zero of=/dev/mapper/jmb-thin bs=64k seek=100 count=15 oflag=direct status=none
	hang_job jmb-m 6 start_paused
	watch_start jmb-m

	# The hung write's path comes back while io is stopped: it succeeds,
	# the hang is over, and io stays stopped for the other one.
	hang_then_stop 8192
	sleep 0.5
	kill -0 $hung
	first_mib linear
	wait_gone $hung
	[ "$(status_word jmb-m 6)" = stopped ]
	[ "$(status_word jmb-m 7)" -eq 1 ]
	kill -0 $stopper
	grow_continue 3 8192
	wait_io jmb-m running
	# Full again.
	dd if=/dev/zero of=/dev/mapper/jmb-thin bs=64k seek=200 count=15 oflag=direct status=none

	# The hung write's path stays down: it times out and fails by itself
	# (werror enospc reports an EIO); the other one waits for continue.
	hang_then_stop 12288
	rc=0
	wait_gone $hung 10 || rc=$?
	[ "$rc" -ne 0 ]
	[ "$rc" -ne 124 ]
	kill -0 $stopper
	[ "$(status_word jmb-m 6)" = stopped ]
	[ "$(status_word jmb-m 7)" -eq 1 ]
	grow_continue 4 12288
	wait_io jmb-m running
	dd if=/dev/zero of=/dev/mapper/jmb-thin bs=64k seek=300 count=15 oflag=direct status=none

	# A continue while the hang goes on: io is hung until it ends.
	hang_then_stop 10240
	grow_continue 5 10240
	[ "$(status_word jmb-m 6)" = hung ]
	kill -0 $hung
	first_mib linear
	wait_gone $hung
	wait_io jmb-m running
	watch_stop
	[ "$(event_fields IO_HANG operation reason)" = "$(printf 'write eio\nwrite eio\nwrite eio')" ]
	[ "$(events_of IO_HANG_RECOVERED | wc -l)" -eq 2 ]
	[ "$(event_fields IO_HANG_TIMEOUT operation action reason)" = "write report eio" ]
	[ "$(event_fields IO_ERROR operation action reason)" = \
	  "$(printf 'write stop enospc\nwrite stop enospc\nwrite report eio\nwrite stop enospc')" ]
	[ "$(events_of IO_CONTINUED | wc -l)" -eq 3 ]
}

# src_table FIRST_MIB_SEGMENT: jmb-src's first MiB is that segment; the
# rest is the thin volume, with no delay.
src_table() {
	printf '0 2048 %s\n2048 %d linear /dev/mapper/jmb-thin 2048\n' "$1" $((LEN - 2048)) |
		set_table jmb-src
}

@test "a read in flight at a stop that then fails with EIO hangs too: io stays stopped, the read succeeds once its path is back" {
	modprobe dm-delay
	thin_setup 2
	# The pool's 32 blocks all in use: a write to a new one fails with ENOSPC.
	dd if=/dev/zero of=/dev/mapper/jmb-thin bs=64k count=32 oflag=direct status=none
	# jmb-src's first MiB answers each I/O after 1 s, with EIO.
	dmsetup create jmb-err --table "0 2048 error"
	src_table "delay /dev/mapper/jmb-err 0 1000"
	hang_job jmb-m 20 start_paused
	watch_start jmb-m
	dd if=/dev/mapper/jmb-m of="$BATS_TEST_TMPDIR/r" bs=4k skip=1 count=1 iflag=direct \
		status=none &
	reader=$!
	sleep 0.3
	# The write fails at once and stops io (werror enospc) while the read
	# is in the delay; then the read fails too.
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/b"
	dd if="$BATS_TEST_TMPDIR/b" of=/dev/mapper/jmb-m bs=4k seek=8192 oflag=direct \
		status=none &
	stopper=$!
	wait_io jmb-m stopped
	sleep 2
	# The read is held and retried, not failed; io stays stopped.
	kill -0 $reader
	kill -0 $stopper
	[ "$(status_word jmb-m 6)" = stopped ]
	[ "$(status_word jmb-m 7)" -eq 2 ]
	[ "$(status_word jmb-m 11)" = write:enospc ]
	src_table "linear /dev/ram0 0"
	wait_gone $reader
	[ "$(md5sum <"$BATS_TEST_TMPDIR/r")" = \
	  "$(dd if=/dev/ram0 bs=4k skip=1 count=1 iflag=direct status=none | md5sum)" ]
	[ "$(status_word jmb-m 6)" = stopped ]
	[ "$(status_word jmb-m 7)" -eq 1 ]
	kill -0 $stopper
	thin_grow 4
	dmsetup message jmb-m 0 continue
	wait_gone $stopper
	[ "$(block_md5 /dev/mapper/jmb-thin 8192)" = \
	  "$(md5sum <"$BATS_TEST_TMPDIR/b" | cut -d' ' -f1)" ]
	wait_io jmb-m running
	watch_stop
	[ "$(event_fields IO_ERROR operation action reason)" = "write stop enospc" ]
	[ "$(event_fields IO_HANG operation reason sector)" = "read eio 8" ]
	[ "$(events_of IO_HANG_RECOVERED | wc -l)" -eq 1 ]
	[ "$(events_of IO_HANG_TIMEOUT | wc -l)" -eq 0 ]
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" -eq 1 ]
}

@test "a hung write whose retry fails with ENOSPC: the hang is over (IO_HANG_RECOVERED), then werror enospc stops io" {
	modprobe dm-delay
	thin_setup 2
	dd if=/dev/zero of=/dev/mapper/jmb-thin bs=64k count=32 oflag=direct status=none
	src_table error
	hang_job jmb-m 20 start_paused
	watch_start jmb-m
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/b"
	dd if="$BATS_TEST_TMPDIR/b" of=/dev/mapper/jmb-m bs=4k seek=1 oflag=direct status=none &
	stopper=$!
	wait_io jmb-m hung
	# The path is back, onto a block the full pool cannot give.
	src_table "linear /dev/mapper/jmb-thin 65536"
	wait_io jmb-m stopped
	[ "$(status_word jmb-m 11)" = write:enospc ]
	[ "$(status_word jmb-m 7)" -eq 1 ]
	kill -0 $stopper
	thin_grow 4
	dmsetup message jmb-m 0 continue
	wait_gone $stopper
	[ "$(block_md5 /dev/mapper/jmb-thin 8193)" = \
	  "$(md5sum <"$BATS_TEST_TMPDIR/b" | cut -d' ' -f1)" ]
	wait_io jmb-m running
	watch_stop
	[ "$(jq -r .event "$JM_EVENTS" | grep '^IO_' | tr '\n' ' ')" = \
	  "IO_HANG IO_HANG_RECOVERED IO_ERROR IO_CONTINUED " ]
	[ "$(event_fields IO_ERROR operation action reason)" = "write stop enospc" ]
	run log_since_start
	[[ "$output" == *"jmb-m: IO_HANG_RECOVERED: write eio at sector 8: the hang is over"* ]]
}

@test "a hung write whose retry fails with ENOSPC under werror report: IO_HANG_RECOVERED, then the error" {
	thin_setup 2
	dd if=/dev/zero of=/dev/mapper/jmb-thin bs=64k count=32 oflag=direct status=none
	src_table error
	hang_job jmb-m 20 werror report start_paused
	watch_start jmb-m
	dd if=/dev/urandom of=/dev/mapper/jmb-m bs=4k seek=1 count=1 oflag=direct status=none \
		2>"$BATS_TEST_TMPDIR/err" 3>&- &
	writer=$!
	wait_io jmb-m hung
	src_table "linear /dev/mapper/jmb-thin 65536"
	rc=0
	wait_gone $writer || rc=$?
	[ "$rc" -ne 0 ]
	grep -q "No space left on device" "$BATS_TEST_TMPDIR/err"
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(status_word jmb-m 7)" -eq 0 ]
	watch_stop
	[ "$(jq -r .event "$JM_EVENTS" | grep '^IO_' | tr '\n' ' ')" = \
	  "IO_HANG IO_HANG_RECOVERED IO_ERROR " ]
	[ "$(event_fields IO_ERROR operation action reason)" = "write report enospc" ]
}

@test "a write that continue resent fails during a noflush suspend: after the resume nothing stays stuck" {
	modprobe dm_delay
	hang_job jmb-m 1 start_paused werror stop
	source_down
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	dd if="$BATS_TEST_TMPDIR/a" of=/dev/mapper/jmb-m bs=4k seek=7 oflag=direct status=none &
	writer=$!
	wait_io jmb-m stopped
	# The resent write now fails only after 2 s: in flight when the suspend starts.
	dmsetup create jmb-err --table "0 $LEN error"
	echo "0 $LEN delay /dev/mapper/jmb-err 0 2000" | set_table jmb-src
	dmsetup message jmb-m 0 continue
	timeout 30 dmsetup suspend --noflush jmb-m
	source_up
	dmsetup resume jmb-m
	released_after_resume $writer
	[ "$(block_md5 /dev/ram0 7)" = "$(md5sum <"$BATS_TEST_TMPDIR/a" | cut -d' ' -f1)" ]
}

@test "a resent write waiting for its write-intent mark during a noflush suspend: after the resume nothing stays stuck" {
	modprobe dm_delay
	dd if=/dev/zero of=/dev/ram2 bs=4k count=2 oflag=direct status=none
	linear_dev jmb-meta /dev/ram2 2048
	# The first retry 7 s after the failure: by then the region has been
	# copied again and a periodic commit has cleared its bit, so the
	# retry must wait for a mark.
	jm_create jmb-m $LEN mirror /dev/mapper/jmb-src /dev/mapper/jmb-dst /dev/mapper/jmb-meta 128 \
		6 io_hang_timeout 120 io_hang_interval 7000 on_source_error stop
	wait_state jmb-m ready 60
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	dd if="$BATS_TEST_TMPDIR/a" of=/dev/mapper/jmb-m bs=4k seek=$((BAD / 8)) \
		oflag=direct status=none &
	writer=$!
	wait_io jmb-m hung
	local hung_at=$(date +%s%N)
	# The copy of the region the write dirtied fails too: the job pauses.
	wait_state jmb-m standby 5
	source_up
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready 5
	sleep 3
	# Metadata writes now take 2 s each: the retry waits that long for its mark.
	echo "0 2048 delay /dev/ram2 0 0 /dev/ram2 0 2000" | set_table jmb-meta
	local ms=$((($(date +%s%N) - hung_at) / 1000000))
	echo "metadata slowed ${ms} ms after the hang"
	[ "$ms" -lt 6500 ]
	# The retry went out about 7 s after the hang and waits until 9 s at least.
	sleep "$(((8000 - ms) / 1000)).$(((8000 - ms) % 1000 / 100))"
	kill -0 $writer
	timeout 60 dmsetup suspend --noflush jmb-m
	heal_dev jmb-meta /dev/ram2 2048
	dmsetup resume jmb-m
	released_after_resume $writer
	want=$(md5sum <"$BATS_TEST_TMPDIR/a" | cut -d' ' -f1)
	[ "$(block_md5 /dev/ram0 $((BAD / 8)))" = "$want" ]
	[ "$(block_md5 /dev/ram1 $((BAD / 8)))" = "$want" ]	# both halves
}

@test "suspend with hung I/O: flushing ends in bounded time with EIO; noflush plus reload onto a healthy path releases it in order" {
	hang_job jmb-m 600 start_paused
	source_down
	watch_start jmb-m
	dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k seek=5 count=1 oflag=direct status=none &
	writer=$!
	wait_io jmb-m hung
	timeout 30 dmsetup suspend jmb-m
	rc=0
	wait $writer || rc=$?
	[ "$rc" -ne 0 ]
	dmsetup resume jmb-m
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(status_word jmb-m 7)" -eq 0 ]
	watch_stop
	# The suspend sent it once more and it failed (werror enospc: report).
	[ "$(jq -r .event "$JM_EVENTS" | tr '\n' ' ')" = "IO_HANG IO_CONTINUED IO_ERROR " ]

	# Hung again, and a later write to the same sector waits behind; load
	# a table whose source is a working path to the same data.
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/a"
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/b"
	dd if="$BATS_TEST_TMPDIR/a" of=/dev/mapper/jmb-m bs=4k seek=5 oflag=direct status=none &
	writer=$!
	wait_io jmb-m hung
	dd if="$BATS_TEST_TMPDIR/b" of=/dev/mapper/jmb-m bs=4k seek=5 oflag=direct status=none &
	later=$!
	for i in $(seq 50); do [ "$(status_word jmb-m 7)" -eq 2 ] && break; sleep 0.1; done
	[ "$(status_word jmb-m 7)" -eq 2 ]
	dmsetup table jmb-m | awk '{ $5 = "/dev/ram0"; print }' | dmsetup reload jmb-m
	timeout 30 dmsetup suspend --noflush jmb-m
	dmsetup resume jmb-m
	wait $writer
	wait $later
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(status_word jmb-m 7)" -eq 0 ]
	# dm sent both to the new table, the held one first.
	[ "$(block_md5 /dev/ram0 5)" = "$(md5sum <"$BATS_TEST_TMPDIR/b" | cut -d' ' -f1)" ]
	dmsetup remove jmb-m
}

# ext4 on the job with a writer of fsync'd files while the source is
# down for 3 s: no error anywhere, and every file intact.
ext4_outage() {
	local name=$1 i rc
	mkfs.ext4 -q -F /dev/mapper/"$name"
	mkdir -p /mnt/jmb
	mount -o errors=remount-ro /dev/mapper/"$name" /mnt/jmb
	for i in $(seq 40); do head -c 200k /dev/urandom >"$BATS_TEST_TMPDIR/f$i"; done
	(
		for i in $(seq 40); do
			dd if="$BATS_TEST_TMPDIR/f$i" of=/mnt/jmb/f$i bs=64k conv=fsync \
				status=none || exit 1
			sleep 0.1
		done
	) &
	local writer=$!
	sleep 0.5
	source_down
	wait_io "$name" hung
	sleep 3
	kill -0 $writer
	source_up
	rc=0
	wait $writer || rc=$?
	[ "$rc" -eq 0 ]
	wait_io "$name" running
	grep -q " /mnt/jmb ext4 rw," /proc/mounts
	for i in $(seq 40); do cmp "$BATS_TEST_TMPDIR/f$i" /mnt/jmb/f$i; done
	umount /mnt/jmb
	run log_since_start
	[[ "$output" != *"EXT4-fs error"* ]]
	[[ "$output" != *"Buffer I/O error"* ]]
	fsck.ext4 -n -f /dev/mapper/"$name"
	mount -o ro /dev/mapper/"$name" /mnt/jmb
	for i in $(seq 40); do cmp "$BATS_TEST_TMPDIR/f$i" /mnt/jmb/f$i; done
	umount /mnt/jmb
	[ "$(status_word "$name" 9 | cut -d/ -f3)" -eq 0 ]
}

@test "ext4 survives a 3 s source outage while the job copies" {
	# Slow enough to still be copying; the job retries what it could not read.
	hang_job jmb-m 60 on_source_error ignore speed $((4 << 20))
	ext4_outage jmb-m
	dmsetup message jmb-m 0 set_speed 0
	wait_state jmb-m ready
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled
	[ "$(sum_dev /dev/mapper/jmb-src 64)" = "$(sum_dev /dev/mapper/jmb-dst 64)" ]
}

@test "ext4 survives a 3 s source outage in ready, and the copy stays in step" {
	hang_job jmb-m 60 on_source_error ignore
	wait_state jmb-m ready
	ext4_outage jmb-m
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled
	[ "$(sum_dev /dev/mapper/jmb-src 64)" = "$(sum_dev /dev/mapper/jmb-dst 64)" ]
}

# nbd_serve PORT: an nbd-server on 127.0.0.1:PORT exporting ram4 (IPv4
# only: a dual-stack listener does not answer 127.0.0.1 in the test guest).
nbd_serve() {
	printf '[generic]\nlistenaddr = 127.0.0.1\nport = %d\n[export]\nexportname = /dev/ram4\n' \
		"$1" >"$BATS_TEST_TMPDIR/nbd-$1.conf"
	nbd-server -C "$BATS_TEST_TMPDIR/nbd-$1.conf"
}

# nbd_connect DEV PORT: connect DEV to that server, waiting for it to listen.
nbd_connect() {
	local i
	for i in $(seq 50); do
		nbd-client -N export 127.0.0.1 "$2" "$1" -nonetlink -timeout 30 >/dev/null 2>&1 &&
			[ "$(cat /sys/block/"$(basename "$1")"/size)" -gt 0 ] && return 0
		sleep 0.2
	done
	echo "nbd_connect: cannot connect $1" >&2
	return 1
}

@test "a network block device: its nbd-server killed, the held writes go through on another" {
	command -v nbd-server >/dev/null || skip "nbd-server is not installed (make deps)"
	ip link set lo up
	modprobe nbd nbds_max=4
	NBD_USED=1
	# Two servers of the same storage, two connections, set up together (a
	# server takes seconds to start under TCG): the second is the path a
	# multipath failover would switch to.  The kernel's nbd client cannot
	# reconnect a device whose server died (nbd-client 3.24 -persist gives
	# up at once), so a new connection is what a restarted server gets too.
	nbd_serve 10809
	nbd_serve 10810
	nbd_connect /dev/nbd1 10810 &
	nbd_connect /dev/nbd0 10809
	wait $!
	# jmb-path is the path to the storage, as multipath would be.
	linear_dev jmb-path /dev/nbd0 $LEN
	words=(io_hang_timeout 120 io_hang_interval 200 start_paused)
	jm_create jmb-m $LEN mirror /dev/mapper/jmb-path /dev/mapper/jmb-dst - 128 \
		${#words[@]} "${words[@]}"
	head -c 2M /dev/urandom >"$BATS_TEST_TMPDIR/data"
	(
		for i in $(seq 0 31); do
			dd if="$BATS_TEST_TMPDIR/data" of=/dev/mapper/jmb-m bs=64k skip=$i seek=$i \
				count=1 oflag=direct,dsync status=none || exit 1
			sleep 0.1
		done
	) &
	writer=$!
	sleep 0.5
	pkill -9 -f "nbd-10809.conf"
	wait_io jmb-m hung 30
	sleep 1
	kill -0 $writer
	# Fail over: the path goes to the other server.
	echo "0 $LEN linear /dev/nbd1 0" | set_table jmb-path
	rc=0
	wait $writer || rc=$?
	[ "$rc" -eq 0 ]
	wait_io jmb-m running
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" -eq 0 ]
	[ "$(sum_dev /dev/mapper/jmb-m 2)" = "$(md5sum <"$BATS_TEST_TMPDIR/data" | cut -d' ' -f1)" ]
}
