#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The stream job: the dest is populated from a read-only source while the
# device serves both; writes hydrate their region first; the metadata
# device keeps the job across reloads and crashes.  /dev/ram0 is the
# source, /dev/ram1 the dest, /dev/ram2 the metadata (64 MiB used).

load helpers

LEN=131072	# 64 MiB, 1024 regions of 64 KiB

setup() {
	jm_common_setup
	random_data /dev/ram0 64
	dd if=/dev/zero of=/dev/ram1 bs=1M count=64 oflag=direct status=none
	dd if=/dev/zero of=/dev/ram2 bs=1M count=1 oflag=direct status=none
	EXPECT=$BATS_TEST_TMPDIR/expect
	dd if=/dev/ram0 of="$EXPECT" bs=1M count=64 iflag=direct status=none
	SRC_SUM=$(sum_dev /dev/ram0 64)
}

# put DEV BS SEEK COUNT: random data to DEV at SEEK (in BS units), with
# O_DIRECT and a flush, and the same to the expected image.
put() {
	head -c $(($2 * $4)) /dev/urandom >"$BATS_TEST_TMPDIR/w"
	dd if="$BATS_TEST_TMPDIR/w" of="$1" bs="$2" seek="$3" oflag=direct conv=notrunc,fsync \
		status=none
	dd if="$BATS_TEST_TMPDIR/w" of="$EXPECT" bs="$2" seek="$3" conv=notrunc status=none
}

# Partial writes to regions not yet populated, across region boundaries
# (dm splits them), and one write of a whole region.
some_writes() {
	put "$1" 4096 3 3
	put "$1" 4096 100 1
	put "$1" 4096 517 5
	put "$1" 4096 2047 2
	put "$1" 4096 16000 4
	put "$1" 65536 50 1
	put "$1" 512 70001 3
}

expect_sum() {
	md5sum <"$EXPECT" | cut -d' ' -f1
}

@test "a stream populates the dest while the device serves both, and completes by itself" {
	# Slow enough (64 s for all) to be still running when checked below.
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128 2 speed 1048576
	[ "$(status_word jmb-s 1)" = stream ]
	[ "$(status_word jmb-s 2)" = running ]
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$SRC_SUM" ]

	some_writes /dev/mapper/jmb-s
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
	# The source is only read.
	[ "$(sum_dev /dev/ram0 64)" = "$SRC_SUM" ]
	[ "$(status_word jmb-s 2)" = running ]
	read -r dirty regions < <(status_word jmb-s 4 | tr / ' ')
	[ "$regions" -eq 1024 ]
	[ "$dirty" -gt 0 ]

	watch_start jmb-s
	dmsetup message jmb-s 0 set_speed 0
	wait_state jmb-s completed 60
	watch_stop
	[ "$(event_fields JOB_COMPLETED state)" = completed ]
	[ "$(status_word jmb-s 3)" = "$LEN/$LEN" ]
	[ "$(status_word jmb-s 4)" = "0/1024" ]
	[ "$(sum_dev /dev/ram1 64)" = "$(expect_sum)" ]
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
	[ "$(sum_dev /dev/ram0 64)" = "$SRC_SUM" ]
	# JOB_COMPLETED reached the dm event counter too.
	[ "$(dmsetup info -c --noheadings -o events jmb-s)" -ge 1 ]
	# Completed, the device needs the dest only: it says so after a reload too.
	dmsetup remove jmb-s
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128
	[ "$(status_word jmb-s 2)" = completed ]
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
}

@test "fio writes with crc32c headers through a stream as it runs; all verify after it completes" {
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128 2 speed 1048576
	fio --name=verify --filename=/dev/mapper/jmb-s --direct=1 --rw=randwrite \
		--bsrange=4k-96k --bs_unaligned=0 --size=64M --io_size=24M --ioengine=libaio \
		--iodepth=8 --verify=crc32c --do_verify=0 --verify_state_save=0 \
		--randseed=4321 >/dev/null
	[ "$(status_word jmb-s 2)" = running ]
	dmsetup message jmb-s 0 set_speed 0
	wait_state jmb-s completed 60
	fio --name=verify --filename=/dev/mapper/jmb-s --direct=1 --rw=randwrite \
		--bsrange=4k-96k --bs_unaligned=0 --size=64M --io_size=24M --ioengine=libaio \
		--iodepth=8 --verify=crc32c --verify_only --verify_state_save=0 \
		--randseed=4321 >/dev/null
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/mapper/jmb-s 64)" ]
	[ "$(sum_dev /dev/ram0 64)" = "$SRC_SUM" ]
}

@test "a reloaded stream goes on from its metadata, not from scratch" {
	# 2 MiB/s: 4 s copy at least 4 MiB, and the rest takes half a minute.
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128 2 speed 2097152
	sleep 4
	some_writes /dev/mapper/jmb-s
	dmsetup suspend jmb-s
	before=$(status_word jmb-s 3 | cut -d/ -f1)
	dmsetup remove jmb-s
	[ "$before" -gt 8192 ]

	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128 2 speed 2097152
	after=$(status_word jmb-s 3 | cut -d/ -f1)
	# Within a region or two per copy slot of where it stopped.
	[ "$after" -ge $((before - 16 * 128)) ]
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]

	# A live table reload (same devices) loads what the old table committed
	# last, on suspend: a write not flushed (nor yet committed) is there.
	head -c 8192 /dev/urandom >"$BATS_TEST_TMPDIR/w"
	dd if="$BATS_TEST_TMPDIR/w" of=/dev/mapper/jmb-s bs=4096 seek=9000 oflag=direct \
		conv=notrunc status=none
	dd if="$BATS_TEST_TMPDIR/w" of="$EXPECT" bs=4096 seek=9000 conv=notrunc status=none
	dmsetup table jmb-s | set_table jmb-s
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
	dmsetup message jmb-s 0 set_speed 0
	wait_state jmb-s completed 60
	[ "$(sum_dev /dev/ram1 64)" = "$(expect_sum)" ]
}

@test "after a crash the last commit is loaded: every flushed write is there" {
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128 2 speed 8388608
	sleep 1
	# Each write is flushed (fsync), which commits the regions it populated.
	some_writes /dev/mapper/jmb-s
	# The crash: the metadata device stops taking writes, so nothing done
	# from now on is committed (the next periodic commit fails the job).
	fail_dev jmb-meta 2048
	sleep 1
	dmsetup remove jmb-s
	log_since_start | grep -q "cannot commit the metadata on suspend"

	heal_dev jmb-meta /dev/ram2 2048
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
	wait_state jmb-s completed 60
	[ "$(sum_dev /dev/ram1 64)" = "$(expect_sum)" ]
}

@test "a stream's header says completed only when its flush covered every region" {
	# The dest's flushes take 1.5 s, so a periodic commit (every second)
	# is flushing when the last copy ends (after about 2 s): its snapshot,
	# taken before, still has regions to populate, and its flush may not
	# cover their copies.  It must leave the completed flag to the next
	# commit, or a crash then would load a completed job with a dest that
	# lost those regions.  The headers are read all along: a later commit
	# overwrites the area of that one.
	modprobe dm-delay
	cache_dev jmb-c1 64
	dmsetup create jmb-slow --table \
		"0 $LEN delay $CACHE_DEV 0 0 $CACHE_DEV 0 0 $CACHE_DEV 0 1500"
	for i in 1 2; do
		dd if=/dev/zero of=/dev/ram2 bs=1M count=1 oflag=direct status=none
		jm_create jmb-s $LEN stream /dev/ram0 /dev/mapper/jmb-slow /dev/ram2 128 2 speed 33554432
		: >"$BATS_TEST_TMPDIR/headers"
		for ((t = 0; t < 200; t++)); do
			st=$(status_word jmb-s 2)
			meta_headers /dev/ram2 >>"$BATS_TEST_TMPDIR/headers"
			[ "$st" = completed ] && break
		done
		[ "$st" = completed ]
		sort -u -n "$BATS_TEST_TMPDIR/headers" >&2
		# Flags bit 0: completed; third word: regions still to populate.
		awk '$2 % 2 == 1 && $3 != 0 { bad = 1 } END { exit bad }' "$BATS_TEST_TMPDIR/headers"
		awk '$2 % 2 == 1 { n++ } END { exit n == 0 }' "$BATS_TEST_TMPDIR/headers"
		dmsetup remove jmb-s
		[ "$(sum_dev /dev/mapper/jmb-slow 64)" = "$SRC_SUM" ]
		dd if=/dev/zero of=/dev/mapper/jmb-slow bs=1M count=64 oflag=direct status=none
	done
}

@test "a metadata device of another job, corrupt or of an unknown version is refused and left as it is" {
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128 1 start_paused
	dmsetup remove jmb-s
	meta_sum=$(sum_dev /dev/ram2 1)

	run jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 256
	[ "$status" -ne 0 ]
	# The reason names the field that differs, with both values.
	log_since_start | grep -q "jobmirror: the metadata device holds a job of another mode, length or region size: region_size 128 there, 256 here"
	run jm_create jmb-s $((LEN / 2)) stream /dev/ram0 /dev/ram1 /dev/ram2 128
	[ "$status" -ne 0 ]
	log_since_start | grep -q "region size: length $LEN sectors there, $((LEN / 2)) here"
	run jm_create jmb-s $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128
	[ "$status" -ne 0 ]
	log_since_start | grep -q "region size: mode stream there, mirror here"
	[ "$(sum_dev /dev/ram2 1)" = "$meta_sum" ]

	# Version 3, with a good checksum.
	meta_set_version /dev/ram2 3
	meta_sum=$(sum_dev /dev/ram2 1)
	run jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128
	[ "$status" -ne 0 ]
	log_since_start | grep -q "jobmirror: the metadata device has an unknown format version: 3"
	[ "$(sum_dev /dev/ram2 1)" = "$meta_sum" ]

	# A flipped byte: the checksum no longer matches (area 1 was never written).
	printf '\x07' | dd of=/dev/ram2 bs=1 seek=100 conv=notrunc status=none
	meta_sum=$(sum_dev /dev/ram2 1)
	run jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128
	[ "$status" -ne 0 ]
	log_since_start | grep -q "jobmirror: the metadata device has no valid header"
	[ "$(sum_dev /dev/ram2 1)" = "$meta_sum" ]

	# Too small for the bitmap: 4 KiB.
	linear_dev jmb-tiny /dev/ram3 8
	tiny_sum=$(dd if=/dev/mapper/jmb-tiny bs=4k iflag=direct status=none | md5sum)
	run jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/mapper/jmb-tiny 128
	[ "$status" -ne 0 ]
	log_since_start | grep -q "jobmirror: the metadata device is too small for this many regions: 8 sectors, 32 needed for 1024 regions"
	[ "$(dd if=/dev/mapper/jmb-tiny bs=4k iflag=direct status=none | md5sum)" = "$tiny_sum" ]
	dmsetup ls | grep -q '^jmb-s' && return 1
	return 0
}

@test "paused and cancelled streams still populate regions on write; complete is refused" {
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/ram2 128 1 start_paused
	[ "$(status_word jmb-s 2)" = paused ]
	some_writes /dev/mapper/jmb-s
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
	[ "$(status_word jmb-s 2)" = paused ]
	msg_fails jmb-s "Device or resource busy" complete
	run log_since_start
	[[ "$output" == *"jmb-s: message 'complete' is not valid in state paused, io running: a stream completes by itself once populated"* ]]
	dmsetup message jmb-s 0 set_speed 4194304
	dmsetup message jmb-s 0 resume
	[ "$(status_word jmb-s 2)" = running ]
	dmsetup message jmb-s 0 cancel
	wait_state jmb-s cancelled 10
	put /dev/mapper/jmb-s 4096 15000 3
	put /dev/mapper/jmb-s 65536 1000 2
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
	[ "$(sum_dev /dev/ram0 64)" = "$SRC_SUM" ]
	# Cancelled, it still needs the source: regions stay to do.
	[ "$(status_word jmb-s 4 | cut -d/ -f1)" -gt 0 ]
	# A stream takes no discards (a discarded region would need a state of its own).
	run blkdiscard -o 0 -l 1048576 /dev/mapper/jmb-s
	[ "$status" -ne 0 ]
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
}

@test "a source read error fails the write that needed it and the job (report); ignore skips the region" {
	paths_setup
	dd if=/dev/ram0 of="$EXPECT" bs=1M count=64 iflag=direct status=none
	# 64 KiB of bad sectors across regions 256 and 257.
	break_dev jmb-src /dev/ram0 $PATH_LEN $((PATH_BAD + 64)) 128
	jm_create jmb-s $PATH_LEN stream /dev/mapper/jmb-src /dev/mapper/jmb-dst /dev/ram2 128 \
		3 speed 4194304 start_paused
	# A partial write into the broken range needs the source: it fails.
	run dd if=/dev/zero of=/dev/mapper/jmb-s bs=4k count=1 seek=$((PATH_BAD / 8 + 9)) \
		oflag=direct status=none
	[ "$status" -ne 0 ]
	[ "$(status_word jmb-s 2)" = failed ]
	[ "$(status_word jmb-s 12)" = read:eio ]
	# Elsewhere the device works, and a whole-region write needs no source.
	put /dev/mapper/jmb-s 4096 5 1
	put /dev/mapper/jmb-s 65536 $((PATH_BAD / 128 + 1)) 1
	[ "$(sum_dev /dev/mapper/jmb-s 16)" = "$(head -c 16M "$EXPECT" | md5sum | cut -d' ' -f1)" ]
	[ "$(sum_at /dev/mapper/jmb-s 65536 $((PATH_BAD / 128 + 1)) 1)" = \
	  "$(sum_at "$EXPECT" 65536 $((PATH_BAD / 128 + 1)) 1)" ]
	# Region 258, next to the bad ones, hydrates on a write.
	put /dev/mapper/jmb-s 4096 $((PATH_BAD / 8 + 33)) 1
	[ "$(sum_at /dev/mapper/jmb-s 65536 $((PATH_BAD / 128 + 2)) 1)" = \
	  "$(sum_at "$EXPECT" 65536 $((PATH_BAD / 128 + 2)) 1)" ]
	dmsetup remove jmb-s

	# ignore: everything else is populated, then the job fails with just the
	# two bad regions still to do (new metadata: nothing was populated).
	dd if=/dev/zero of=/dev/ram2 bs=1M count=1 oflag=direct status=none
	jm_create jmb-s $PATH_LEN stream /dev/mapper/jmb-src /dev/mapper/jmb-dst /dev/ram2 128 \
		2 on_source_error ignore
	wait_state jmb-s failed 60
	[ "$(status_word jmb-s 4)" = "2/1024" ]
	[ "$(status_word jmb-s 12)" = read:eio ]
	heal_dev jmb-src /dev/ram0 $PATH_LEN
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "a rate-limited stream under ignore tries each region again before it fails" {
	# Region 0 of 64 cannot be read.  The first copy, a run of 16
	# regions, fails whole; the next pass copies them one by one.
	printf '0 128 error\n128 8064 linear /dev/ram0 128\n' | dmsetup create jmb-src
	jm_create jmb-s 8192 stream /dev/mapper/jmb-src /dev/ram1 /dev/ram2 128 \
		4 on_source_error ignore speed 524288
	# At 512 KiB/s the job takes seconds to get to its end.
	watch_start jmb-s
	wait_state jmb-s failed 60
	watch_stop
	# JOB_FAILED names the error left and the policy that skipped it.
	[ "$(event_fields JOB_FAILED state operation action reason sector)" = \
	  "failed read ignore eio 0" ]
	log_since_start | grep -q "jmb-s: JOB_FAILED: read eio at sector 0: regions skipped"
	# The pass after the rate limit's wait at its start still ran.
	[ "$(status_word jmb-s 4)" = "1/64" ]
	[ "$(status_word jmb-s 12)" = read:eio ]
	[ "$(sum_at /dev/ram1 65536 1 63)" = "$(sum_at /dev/ram0 65536 1 63)" ]
}

@test "a stream under ignore does not end its pass while a slow copy is still in flight" {
	modprobe dm_delay
	# 32 regions: region 0 cannot be read, regions 16-31 answer after 2 s.
	printf '0 128 error\n128 1920 linear /dev/ram0 128\n2048 2048 delay /dev/ram0 2048 2000\n' |
		dmsetup create jmb-src
	jm_create jmb-s 4096 stream /dev/mapper/jmb-src /dev/ram1 /dev/ram2 128 \
		2 on_source_error ignore
	# The run of regions 0-15 fails at once, 16-31 is still in flight: the
	# pass is not over.  Once that copy ends, a pass region by region
	# leaves only region 0.
	wait_state jmb-s failed 30
	[ "$(status_word jmb-s 4)" = "1/32" ]
	[ "$(status_word jmb-s 12)" = read:eio ]
	[ "$(sum_at /dev/ram1 65536 1 31)" = "$(sum_at /dev/ram0 65536 1 31)" ]
}

@test "a stream whose commits fail under stop pauses after one error, not a storm of them" {
	linear_dev jmb-meta /dev/ram2 2048
	# 64 KiB/s: after its first 1 MiB the copy waits about 16 s.
	jm_create jmb-s $LEN stream /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128 \
		4 on_target_error stop speed 65536
	sleep 2
	fail_dev jmb-meta 2048
	# The flush needs a commit, which fails.
	run dd if=/dev/urandom of=/dev/mapper/jmb-s bs=64k seek=100 count=1 oflag=direct \
		conv=fsync status=none
	[ "$status" -ne 0 ]
	wait_state jmb-s paused 5
	n=$(status_word jmb-s 9 | cut -d/ -f2)
	sleep 1
	echo "dest errors: $n, a second later $(status_word jmb-s 9 | cut -d/ -f2)"
	[ "$n" -le 3 ]
	[ "$(status_word jmb-s 9 | cut -d/ -f2)" = "$n" ]
	[ "$(status_word jmb-s 5)" = failed ]
}

@test "a whole-region write queued behind a failing hydration of its region populates it" {
	modprobe dm_delay
	paths_setup
	dd if=/dev/ram0 of="$EXPECT" bs=1M count=64 iflag=direct status=none
	# Region 256 cannot be read, and says so only after 2 s.
	local r=$((PATH_BAD / 128))
	dmsetup create jmb-err --table "0 128 error"
	printf '0 %d linear /dev/ram0 0\n%d 128 delay /dev/mapper/jmb-err 0 2000\n%d %d linear /dev/ram0 %d\n' \
		$PATH_BAD $PATH_BAD $((PATH_BAD + 128)) $((PATH_LEN - PATH_BAD - 128)) \
		$((PATH_BAD + 128)) | set_table jmb-src
	jm_create jmb-s $PATH_LEN stream /dev/mapper/jmb-src /dev/mapper/jmb-dst /dev/ram2 128 \
		3 on_source_error ignore start_paused
	# A partial write needs the region's source: it waits for its copy...
	dd if=/dev/zero of=/dev/mapper/jmb-s bs=4k count=1 seek=$((r * 16 + 3)) oflag=direct \
		status=none 2>/dev/null &
	partial=$!
	sleep 0.5
	# ...and a write of the whole region waits behind that copy.
	head -c 65536 /dev/urandom >"$BATS_TEST_TMPDIR/w"
	dd if="$BATS_TEST_TMPDIR/w" of=/dev/mapper/jmb-s bs=64k seek=$r oflag=direct status=none &
	whole=$!
	sleep 0.5
	kill -0 $partial
	kill -0 $whole
	# The copy fails: the partial write with it; the whole one goes to the dest.
	rc=0
	wait_gone $partial || rc=$?
	[ "$rc" -ne 0 ]
	[ "$rc" -ne 124 ]
	wait_gone $whole
	[ "$(sum_at /dev/mapper/jmb-s 65536 $r 1)" = "$(md5sum <"$BATS_TEST_TMPDIR/w" | cut -d' ' -f1)" ]
	[ "$(sum_at /dev/mapper/jmb-dst 65536 $r 1)" = "$(md5sum <"$BATS_TEST_TMPDIR/w" | cut -d' ' -f1)" ]
	[ "$(status_word jmb-s 9 | cut -d/ -f1)" -ge 1 ]
}

@test "a stream rides out a source outage: a write that needs the source hangs, then finishes" {
	paths_setup
	dd if=/dev/ram0 of="$EXPECT" bs=1M count=64 iflag=direct status=none
	jm_create jmb-s $PATH_LEN stream /dev/mapper/jmb-src /dev/mapper/jmb-dst /dev/ram2 128 \
		6 io_hang_timeout 60 on_source_error stop speed 1048576
	break_dev jmb-src /dev/ram0 $PATH_LEN $PATH_BAD $PATH_BADLEN
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/w"
	dd if="$BATS_TEST_TMPDIR/w" of="$EXPECT" bs=4096 seek=$((PATH_BAD / 8 + 3)) conv=notrunc \
		status=none
	dd if="$BATS_TEST_TMPDIR/w" of=/dev/mapper/jmb-s bs=4096 seek=$((PATH_BAD / 8 + 3)) \
		oflag=direct conv=notrunc status=none &
	writer=$!
	wait_io jmb-s hung 10
	[ "$(status_word jmb-s 7)" -ge 1 ]
	# The copy that failed is the job's error: stop pauses it.
	wait_state jmb-s paused 10
	[ "$(status_word jmb-s 5)" = failed ]
	kill -0 $writer
	heal_dev jmb-src /dev/ram0 $PATH_LEN
	wait $writer
	wait_io jmb-s running 10
	dmsetup message jmb-s 0 resume
	[ "$(status_word jmb-s 5)" = ok ]
	dmsetup message jmb-s 0 set_speed 0
	wait_state jmb-s completed 60
	[ "$(sum_dev /dev/mapper/jmb-dst 64)" = "$(expect_sum)" ]
}

@test "dmtool creates a stream, and complete waits for it and leaves a linear device on the dest" {
	# A 64 MiB source: dmtool makes the device as large as the source.
	linear_dev jmb-base /dev/ram0 $LEN
	run "$DMTOOL" create jmb-s --mode stream --source /dev/mapper/jmb-base --dest /dev/ram1 \
		--metadata /dev/ram2 --speed 8M
	[ "$status" -eq 0 ]
	some_writes /dev/mapper/jmb-s
	run "$DMTOOL" status jmb-s --json
	[ "$status" -eq 0 ]
	[ "$(jq -r '.devices[0] | "\(.mode) \(.metadata)"' <<<"$output")" = "stream /dev/ram2" ]
	run "$DMTOOL" complete jmb-s
	[ "$status" -eq 0 ]
	[[ "$output" == *"waiting for the stream to populate /dev/ram1"* ]]
	[[ "$output" == *"reloaded as linear on /dev/ram1"* ]]
	[ "$(dmsetup table jmb-s | awk '{ print $3 }')" = linear ]
	[ "$(sum_dev /dev/mapper/jmb-s 64)" = "$(expect_sum)" ]
	[ "$(sum_dev /dev/ram0 64)" = "$SRC_SUM" ]
}

@test "a stream's source may be a disk that refuses writers; a dest or metadata device may not" {
	# A write-protected SCSI disk (scsi_debug wp): opening it for
	# writing fails with EROFS, as for a read-only LUN or SD card.
	scsi_disk dev_size_mb=16
	local sd=$SD
	dd if=/dev/ram0 of="$sd" bs=1M count=16 oflag=direct status=none
	echo Y >/sys/module/scsi_debug/parameters/wp
	echo 1 >"/sys/block/${sd#/dev/}/device/rescan"
	[ "$(blockdev --getro "$sd")" = 1 ]
	# dm-linear in a writable table cannot have it.
	run dmsetup create jmb-lin --table "0 32768 linear $sd 0"
	[ "$status" -ne 0 ]

	jm_create jmb-s 32768 stream "$sd" /dev/ram1 /dev/ram2 128
	wait_state jmb-s completed 60
	[ "$(sum_dev /dev/ram1 16)" = "$(sum_dev /dev/ram0 16)" ]
	dmsetup remove jmb-s
	# A mirror writes its source; every job writes its dest and metadata.
	run jm_create jmb-s 32768 mirror "$sd" /dev/ram1 - 128
	[ "$status" -ne 0 ]
	log_since_start | grep -q "jobmirror: cannot open the source device '$sd'"
	run jm_create jmb-s 32768 mirror /dev/ram0 "$sd" - 128
	[ "$status" -ne 0 ]
	log_since_start | grep -q "jobmirror: cannot open the dest device '$sd'"
	dd if=/dev/zero of=/dev/ram2 bs=1M count=1 oflag=direct status=none
	run jm_create jmb-s 32768 stream /dev/ram0 /dev/ram1 "$sd" 128
	[ "$status" -ne 0 ]
	log_since_start | grep -q "jobmirror: cannot open the metadata device '$sd'"
	# (teardown makes the disk writable again and unloads scsi_debug)
}
