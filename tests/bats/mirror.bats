#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The mirror job: copy, keep in step, ready, complete (pivot), cancel,
# pause/resume, set_speed, write_blocking, and wrong-state messages.
# /dev/ram0 is the source, /dev/ram1 the dest (64 MiB used of 256 MiB).

load helpers

LEN=131072	# 64 MiB

setup() {
	jm_common_setup
	random_data /dev/ram0 64
	dd if=/dev/zero of=/dev/ram1 bs=1M count=64 oflag=direct status=none
	# A metadata device left by another test would be resumed from.
	dd if=/dev/zero of=/dev/ram2 bs=4k count=1 oflag=direct status=none
}

@test "a mirror job copies the source, reaches ready, and complete pivots to the dest" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128
	wait_state jmb-m ready
	[ "$(status_word jmb-m 3)" = "$LEN/$LEN" ]
	[ "$(status_word jmb-m 4)" = "0/1024" ]
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]

	# In ready, writes reach both devices.
	fill_random /dev/mapper/jmb-m 4
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]

	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	# After the pivot, I/O goes to the dest only.
	before=$(sum_dev /dev/ram0 64)
	head -c 1M /dev/urandom >/tmp/jm-new
	dd if=/tmp/jm-new of=/dev/mapper/jmb-m bs=1M seek=10 oflag=direct status=none
	[ "$(sum_dev /dev/ram0 64)" = "$before" ]
	[ "$(sum_dev /dev/ram1 1 10)" = "$(md5sum </tmp/jm-new | cut -d' ' -f1)" ]
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram1 64)" ]
	# The ready and completed events reached the dm event counter.
	[ "$(dmsetup info -c --noheadings -o events jmb-m)" -ge 2 ]
	[ "$(status_word jmb-m 10)" -ge 2 ]
}

@test "with a metadata device a completed mirror stays pivoted when its table is loaded again" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128
	wait_state jmb-m ready
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	src=$(sum_dev /dev/ram0 64)
	# After the pivot writes reach the dest alone.
	fill_random /dev/mapper/jmb-m 4
	[ "$(sum_dev /dev/ram0 64)" = "$src" ]
	dst=$(sum_dev /dev/ram1 64)
	[ "$dst" != "$src" ]
	dmsetup remove jmb-m

	# The same table again: completed, on the dest, and no copy from the source.
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128
	[ "$(status_word jmb-m 2)" = completed ]
	[ "$(status_word jmb-m 3)" = "$LEN/$LEN" ]
	[ "$(status_word jmb-m 4)" = "0/1024" ]
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$dst" ]
	sleep 1
	[ "$(sum_dev /dev/ram1 64)" = "$dst" ]
	[ "$(sum_dev /dev/ram0 64)" = "$src" ]
	dmsetup remove jmb-m

	# A job that did not complete goes on from its bitmap: here, all of it,
	# and paused as it was.
	dd if=/dev/zero of=/dev/ram2 bs=4k count=1 oflag=direct status=none
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128 1 start_paused
	dmsetup remove jmb-m
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128
	[ "$(status_word jmb-m 2)" = paused ]
	[ "$(status_word jmb-m 4)" = "1024/1024" ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	[ "$(sum_dev /dev/ram1 64)" = "$src" ]
}

@test "a metadata device in use by another jobmirror device is refused; its own device reloads" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128 1 start_paused
	# Another device on the same metadata: refused, with its reason.
	run dmsetup create jmb-b --table "0 $LEN jobmirror stream /dev/ram3 /dev/ram4 /dev/ram2 128"
	[ "$status" -ne 0 ]
	! dmsetup info jmb-b >/dev/null 2>&1
	log_since_start | grep -q "jobmirror: the metadata device '/dev/ram2' is in use by another jobmirror device"
	# Its own device loads a new table on it (the old one live meanwhile).
	dmsetup reload jmb-m --table "0 $LEN jobmirror mirror /dev/ram0 /dev/ram1 /dev/ram2 128"
	dmsetup suspend jmb-m
	dmsetup resume jmb-m
	[ "$(status_word jmb-m 2)" = paused ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	# Nor may two targets of one table share it.
	run dmsetup create jmb-b <<-EOF
		0 $LEN jobmirror mirror /dev/ram3 /dev/ram4 /dev/ram5 128
		$LEN $LEN jobmirror mirror /dev/ram6 /dev/ram7 /dev/ram5 128
	EOF
	[ "$status" -ne 0 ]
	! dmsetup info jmb-b >/dev/null 2>&1
	log_since_start | grep -q "jobmirror: the metadata device '/dev/ram5' is in use by another jobmirror target"
	# Free once that device is gone.
	dmsetup remove jmb-m
	dd if=/dev/zero of=/dev/ram2 bs=4k count=1 oflag=direct status=none
	jm_create jmb-b $LEN mirror /dev/ram3 /dev/ram4 /dev/ram2 128
	wait_state jmb-b ready
}

# put_mib DEV MIB...: 4 KiB of random data at each MIB MiB of DEV.
put_mib() {
	local dev=$1 m
	shift
	for m in "$@"; do
		head -c 4096 /dev/urandom |
			dd of="$dev" bs=4k seek=$((m * 256)) oflag=direct status=none
	done
}

# dirty_count NAME: regions still to copy (status word 4, before the /).
dirty_count() {
	status_word "$1" 4 | cut -d/ -f1
}

@test "with a metadata device a mirror loaded again mid-copy goes on from where it was" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128 2 speed 8388608
	sleep 3
	# Regions copied already and regions not yet copied, source only.
	put_mib /dev/mapper/jmb-m 1 2 60 63
	dmsetup remove jmb-m

	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128 1 start_paused
	n=$(dirty_count jmb-m)
	echo "dirty after the reload: $n"
	[ "$n" -gt 0 ]
	[ "$n" -lt 900 ]
	[ "$(status_word jmb-m 3 | cut -d/ -f1)" -gt 0 ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
	dmsetup remove jmb-m

	# Metadata of target 0.2 (format version 1) did not track writes: such
	# a mirror copies everything again.
	meta_set_version /dev/ram2 1
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128 1 start_paused
	[ "$(status_word jmb-m 4)" = "1024/1024" ]
}

# reload_after_crash DEST MIN: after a crash of jmb-m (its metadata
# device jmb-meta failed, the table removed), heal jmb-meta and load the
# table on DEST again, paused: at least MIN regions are dirty, not all of
# them; resumed, it makes DEST equal to the source.
reload_after_crash() {
	local n
	heal_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 "$1" /dev/mapper/jmb-meta 128 1 start_paused
	n=$(dirty_count jmb-m)
	echo "dirty after the crash: $n"
	[ "$n" -ge "$2" ]
	[ "$n" -lt 900 ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	[ "$(sum_dev "$1" 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "after a crash a mirror copies again every region written since its copy" {
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128 2 speed 16777216
	sleep 2.5
	# Copied regions, long since committed clean: each write waits until
	# its region is marked on the metadata device.
	put_mib /dev/mapper/jmb-m 0 1 7 15
	# The crash: nothing is committed from now on.
	fail_dev jmb-meta 2048
	dmsetup remove jmb-m
	log_since_start | grep -q "cannot commit the metadata on suspend"

	reload_after_crash /dev/ram1 4
}

@test "after a crash offset counts a short last region at its length, and meets len" {
	# Three regions of 64 KiB, the last one 32 KiB.
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m 320 mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128
	wait_state jmb-m ready
	# The copy's commit: every region clean on the metadata device.
	sleep 2.5
	# A write in ready marks region 1 on the metadata device first; the
	# crash keeps the mark.
	dd if=/dev/urandom of=/dev/mapper/jmb-m bs=4k seek=16 count=1 oflag=direct status=none
	fail_dev jmb-meta 2048
	dmsetup remove jmb-m
	heal_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m 320 mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128 1 start_paused
	[ "$(status_word jmb-m 4)" = 1/3 ]
	[ "$(status_word jmb-m 3)" = 192/320 ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	[ "$(status_word jmb-m 3)" = 320/320 ]
	[ "$(dd if=/dev/ram1 bs=512 count=320 status=none | md5sum)" = \
		"$(dd if=/dev/ram0 bs=512 count=320 status=none | md5sum)" ]
}

# crash_images: the crash of jmb-src, jmb-dst and jmb-meta (linear over
# ram0, ram1, ram2): they stop one after another in a random order (a
# noflush suspend: what is in flight ends, the rest waits), and what they
# hold then is copied to ram3 (source at 0, dest at 64 MiB, metadata at
# 128 MiB), where jmb-cs, jmb-cd and jmb-cmeta show it.  Then they go on.
crash_images() {
	local order=(jmb-src jmb-dst jmb-meta) d rc=0
	case $((RANDOM % 3)) in
	1) order=(jmb-dst jmb-meta jmb-src) ;;
	2) order=(jmb-meta jmb-src jmb-dst) ;;
	esac
	echo "crash: ${order[*]} stop in that order; jmb-m: $(dmsetup status jmb-m)"
	for d in "${order[@]}"; do dmsetup suspend --noflush "$d" || rc=1; done
	dd if=/dev/ram0 of=/dev/ram3 bs=1M count=64 iflag=direct oflag=direct status=none || rc=1
	dd if=/dev/ram1 of=/dev/ram3 bs=1M count=64 seek=64 iflag=direct oflag=direct \
		status=none || rc=1
	dd if=/dev/ram2 of=/dev/ram3 bs=1M count=1 seek=128 iflag=direct oflag=direct \
		status=none || rc=1
	for d in jmb-meta jmb-dst jmb-src; do dmsetup resume "$d" || rc=1; done
	dmsetup create jmb-cs --table "0 $LEN linear /dev/ram3 0"
	dmsetup create jmb-cd --table "0 $LEN linear /dev/ram3 $LEN"
	dmsetup create jmb-cmeta --table "0 2048 linear /dev/ram3 $((2 * LEN))"
	return $rc
}

# crash_reload: a mirror loaded on the crash images has regions to copy
# (writes were in flight), goes on from its bitmap and makes the dest
# equal to the source.
crash_reload() {
	jm_create jmb-c $LEN mirror /dev/mapper/jmb-cs /dev/mapper/jmb-cd /dev/mapper/jmb-cmeta \
		128 1 start_paused
	echo "loaded after the crash: $(dmsetup status jmb-c)"
	[ "$(status_word jmb-c 4 | cut -d/ -f1)" -gt 0 ]
	dmsetup message jmb-c 0 resume
	wait_state jmb-c ready
	[ "$(sum_dev /dev/mapper/jmb-cd 64)" = "$(sum_dev /dev/mapper/jmb-cs 64)" ]
	dmsetup remove jmb-c jmb-cs jmb-cd jmb-cmeta
}

@test "a crash under a random write load, while copying and in ready: the bitmap left covers every difference" {
	linear_dev jmb-src /dev/ram0 $LEN
	linear_dev jmb-dst /dev/ram1 $LEN
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/mapper/jmb-src /dev/mapper/jmb-dst /dev/mapper/jmb-meta \
		128 2 speed 16777216
	# Writes of 4 to 64 KiB all over the device, eight at a time (400 a
	# second, so that the copy converges).
	fio --name=w --filename=/dev/mapper/jmb-m --thread --direct=1 --ioengine=libaio --iodepth=8 \
		--rw=randwrite --bsrange=4k-64k --rate_iops=400 --time_based --runtime=60 \
		--output=/dev/null &
	JM_LOAD_PID=$!
	# Mid-copy, with commits of copy progress and of marks going on.
	sleep 2
	crash_images
	crash_reload
	# In ready, where every write goes to both devices once marked.
	dmsetup message jmb-m 0 set_speed 0
	wait_state jmb-m ready 30
	sleep 2
	crash_images
	kill $JM_LOAD_PID
	wait $JM_LOAD_PID || true
	JM_LOAD_PID=
	crash_reload
}

# sectors_written NAME: sectors written to the dm device NAME so far.
sectors_written() {
	awk '{ print $7 }' "/sys/block/$(dmsetup info -c --noheadings -o blkdevname "$1")/stat"
}

# zero_devices SECTORS META_SECTORS: jmb-zs and jmb-zd, zero targets of
# SECTORS, and jmb-meta, linear over META_SECTORS of ram2.
zero_devices() {
	dmsetup create jmb-zs --table "0 $1 zero"
	dmsetup create jmb-zd --table "0 $1 zero"
	linear_dev jmb-meta /dev/ram2 "$2"
}

# zero_mirror SECTORS [FEATURES...]: jmb-m, a mirror of jmb-zs to jmb-zd
# in 4 KiB regions with jmb-meta as its metadata device.
zero_mirror() {
	local len=$1
	shift
	jm_create jmb-m "$len" mirror /dev/mapper/jmb-zs /dev/mapper/jmb-zd /dev/mapper/jmb-meta 8 "$@"
}

# big_crash_reload: remove jmb-m (a 64 GiB mirror of zeros, 4 KiB regions)
# with its metadata device failing, as a crash would leave it, and load it
# again paused; each time the dirty count it loads is what it was.
big_crash_reload() {
	local want
	dmsetup message jmb-m 0 pause
	wait_state jmb-m paused
	# Let the commits settle: what is on the device is then what is dirty.
	sleep 3.5
	want=$(dirty_count jmb-m)
	fail_dev jmb-meta 16384
	dmsetup remove jmb-m
	heal_dev jmb-meta /dev/ram2 16384
	zero_mirror $BIG
	echo "dirty before the crash $want, after $(dirty_count jmb-m)"
	[ "$(dirty_count jmb-m)" = "$want" ]
	[ "$(status_word jmb-m 2)" = paused ]
}

@test "a large mirror's commits write only the bitmap blocks that changed" {
	# 64 GiB from and to the zero target in 4 KiB regions: 16 Mi regions, a
	# bitmap of 2 MiB in each metadata area, 128 MiB of copying per block.
	BIG=134217728
	zero_devices $BIG 16384
	zero_mirror $BIG 2 speed 33554432
	sleep 2
	w0=$(sectors_written jmb-meta)
	# Writes to regions copied (each waits for a commit that marks it) and not.
	put_mib /dev/mapper/jmb-m 1 2 3 40000 60000
	sleep 4
	w1=$(sectors_written jmb-meta)
	echo "metadata written in 4 s: $(((w1 - w0) / 2)) KiB"
	# Several commits, each writing a block or two and a header, where
	# writing the whole bitmap would be 2 MiB each.
	[ $((w1 - w0)) -gt 16 ]
	[ $((w1 - w0)) -lt 4096 ]
	[ "$(status_word jmb-m 3 | cut -d/ -f1)" -gt 262144 ]

	# What those commits left on the device is the job's bitmap, loaded
	# after a crash; and again after commits to the area it was loaded from.
	big_crash_reload
	dmsetup message jmb-m 0 resume
	put_mib /dev/mapper/jmb-m 1 50000
	sleep 3
	big_crash_reload
	[ "$(log_since_start | grep -c 'not loaded')" -eq 0 ]
}

@test "after a partly failed bitmap write the next commit to that area rewrites all of it" {
	# 1 GiB of zeros in 4 KiB regions: 8 bitmap blocks of 128 MiB in
	# each area, area 0 in device blocks 2-9, area 1 in 10-17.
	Z=2097152
	zero_devices $Z 2048
	zero_mirror $Z 4 speed 134217728 on_target_error ignore
	# Until bitmap blocks 0 and 1 (the first 256 MiB) are copied.
	past_block1=$((264 * 2048))
	for ((i = 0; i < 100; i++)); do
		[ "$(status_word jmb-m 3 | cut -d/ -f1)" -gt $past_block1 ] && break
		sleep 0.1
	done
	dmsetup message jmb-m 0 pause
	wait_state jmb-m paused
	[ "$(status_word jmb-m 3 | cut -d/ -f1)" -gt $past_block1 ]
	# Let the commits settle: both areas written and known to the target.
	sleep 2.5
	errors=$(status_word jmb-m 9 | cut -d/ -f2)
	# Bitmap block 1 of both areas fails.
	printf '0 24 linear /dev/ram2 0\n24 8 error\n32 56 linear /dev/ram2 32\n88 8 error\n96 1952 linear /dev/ram2 96\n' |
		set_table jmb-meta
	# Writes to a copied region in block 0 and one in block 1, each
	# waiting for its mark or the mark's failure: a mark that changes
	# block 1 writes block 0 (if it changed) and fails on block 1.
	put_mib /dev/mapper/jmb-m 1 130
	seq=$(meta_seq /dev/ram2)
	# The commit is tried every second.  Each try writes all the blocks
	# of its area again, block 1 fails each time, so no header is written
	# (a try that wrote only the blocks that changed since the failed one
	# would write a header over a stale block 1).  The outage is one job
	# error; the job stays paused.
	sleep 3.5
	[ "$(meta_seq /dev/ram2)" = "$seq" ]
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -eq $((errors + 1)) ]
	[ "$(status_word jmb-m 2)" = paused ]
	heal_dev jmb-meta /dev/ram2 2048
	meta_seq_reaches /dev/ram2 $((seq + 1))
	# What it wrote loads after a crash, with the same regions to copy.
	want=$(dirty_count jmb-m)
	fail_dev jmb-meta 2048
	dmsetup remove jmb-m
	heal_dev jmb-meta /dev/ram2 2048
	zero_mirror $Z
	[ "$(status_word jmb-m 2)" = paused ]
	[ "$(dirty_count jmb-m)" = "$want" ]
	[ "$(log_since_start | grep -c 'not loaded')" -eq 0 ]
}

# zeroed_head DEV: whether the first 4 KiB of DEV are zero (read with
# O_DIRECT: the target writes below the page cache).
zeroed_head() {
	dd if="$1" bs=4k count=1 iflag=direct status=none | cmp -s -n 4096 - /dev/zero
}

@test "a table load writes nothing to a zeroed metadata device: the first resume formats it" {
	dmsetup create jmb-m --notable
	dmsetup load jmb-m --table "0 $LEN jobmirror mirror /dev/ram0 /dev/ram1 /dev/ram2 128"
	zeroed_head /dev/ram2
	dmsetup resume jmb-m
	run zeroed_head /dev/ram2
	[ "$status" -ne 0 ]
	wait_state jmb-m ready

	# Erased under the live table, which commits on suspend once more after
	# the new table's load: the new one is loadable, whatever it finds.
	for round in 1 2; do
		sleep 2.5
		dd if=/dev/zero of=/dev/ram2 bs=4k count=1 oflag=direct status=none
		put_mib /dev/mapper/jmb-m 1 30
		dmsetup table jmb-m | dmsetup reload jmb-m
		dmsetup resume jmb-m
		wait_state jmb-m ready 30
	done
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
	[ "$(log_since_start | grep -c 'not loaded')" -eq 0 ]
}

@test "a mirror cancelled before ready keeps tracking writes for a later table" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128 2 speed 16777216
	sleep 2
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled
	# Writes after the cancel go to the source only, copied regions too.
	put_mib /dev/mapper/jmb-m 0 3 40
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
	dmsetup remove jmb-m

	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/ram2 128
	wait_state jmb-m ready
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
}

# crash_to_paused: the metadata device (jmb-meta) fails and the table
# goes, a crash for the job; loaded again on it healed, the job is paused
# as it was, and once resumed it copies what its bitmap holds.
crash_to_paused() {
	fail_dev jmb-meta 2048
	dmsetup remove jmb-m
	heal_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128
	[ "$(status_word jmb-m 2)" = paused ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "writes made while the metadata device failed are recorded once it is back" {
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128 \
		4 speed 16777216 on_target_error ignore
	sleep 2.5
	dmsetup message jmb-m 0 pause
	wait_state jmb-m paused
	fail_dev jmb-meta 2048
	# Copied regions: the writes go out unmarked, the job only counts.
	put_mib /dev/mapper/jmb-m 0 1 7
	# Commits are tried every second; the outage is one job error.
	sleep 2.5
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -eq 1 ]
	[ "$(status_word jmb-m 2)" = paused ]
	heal_dev jmb-meta /dev/ram2 2048
	# The next try (within about a second) records them.
	sleep 2.5
	crash_to_paused
}

@test "a paused job stays paused when its table is loaded again, after a crash too" {
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128 2 speed 16777216
	sleep 1
	dmsetup message jmb-m 0 pause
	wait_state jmb-m paused
	dmsetup remove jmb-m
	# Paused mid-copy: paused again, and nothing is copied until resume.
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128
	[ "$(status_word jmb-m 2)" = paused ]
	[ "$(status_word jmb-m 5)" = ok ]
	n=$(dirty_count jmb-m)
	[ "$n" -gt 0 ]
	sleep 1
	[ "$(dirty_count jmb-m)" = "$n" ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	# The periodic commits stop once nothing changes: only the pause's
	# own commit records the standby that follows, then a crash.
	sleep 3
	dmsetup message jmb-m 0 pause
	wait_state jmb-m standby
	sleep 1
	crash_to_paused
	# The resume is committed at once too: after a crash the job runs.
	sleep 1
	fail_dev jmb-meta 2048
	dmsetup remove jmb-m
	heal_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128
	wait_state jmb-m ready 10
	dmsetup remove jmb-m
	# start_paused on a device that holds a running job: paused from then
	# on, and dmtool create says so when it loads such a job.
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128 1 start_paused
	dmsetup remove jmb-m
	linear_dev jmb-src /dev/ram0 $LEN
	run "$DMTOOL" create jmb-m --mode mirror --source /dev/mapper/jmb-src --dest /dev/ram1 \
		--metadata /dev/mapper/jmb-meta --region-size 64K
	[ "$status" -eq 0 ]
	[[ "$output" == *"create jmb-m: the job is paused, as its metadata device recorded"* ]]
	[ "$(status_word jmb-m 2)" = paused ]
}

@test "a failing metadata device fails the job, never a user write" {
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128
	wait_state jmb-m ready
	# The commits after ready clear the regions' bits.
	sleep 2.5
	fail_dev jmb-meta 2048
	fill_random /dev/mapper/jmb-m 4
	wait_state jmb-m failed 10
	[ "$(status_word jmb-m 12)" = "write:eio" ]
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" = 0 ]
	# The device still shows the source, which took the writes.
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
	fill_random /dev/mapper/jmb-m 4
	dmsetup remove jmb-m
}

@test "a pivot whose commit fails does not happen: the job fails on the source" {
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128
	wait_state jmb-m ready
	# Else a periodic commit may fail the job before complete is sent.
	meta_settles /dev/mapper/jmb-meta
	fail_dev jmb-meta 2048
	dmsetup message jmb-m 0 complete
	wait_state jmb-m failed 10
	[ "$(status_word jmb-m 12)" = "write:eio" ]
	# The device goes on with the source.  Its newest header may have the
	# completed flag (the write of it failed, and so did the one taking it
	# back), so the dest takes the writes too: a crash now would map the
	# device to the dest.
	fill_random /dev/mapper/jmb-m 2
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
	log_since_start | grep -q "jmb-m: writes go to the dest too until a commit succeeds"
	# Back: the next commit (one a second) takes the flag back, and from
	# then on the source alone takes the writes.
	seq=$(meta_seq /dev/ram2)
	heal_dev jmb-meta /dev/ram2 2048
	meta_seq_reaches /dev/ram2 $((seq + 1))
	[ "$(status_word jmb-m 2)" = failed ]
	log_since_start | grep -q "jmb-m: metadata no longer says completed: writes go to the source alone"
	fill_random /dev/mapper/jmb-m 2
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
	[ "$(sum_dev /dev/ram1 64)" != "$(sum_dev /dev/ram0 64)" ]
	dmsetup remove jmb-m

	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 /dev/mapper/jmb-meta 128
	[ "$(status_word jmb-m 2)" != completed ]
	wait_state jmb-m ready
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "while a failed pivot's flag may be on disk, discards and overlapping writes reach the dest too" {
	local src dst zeros errors
	cache_dev jmb-c1 65 discard
	src=$CACHE_DEV
	cache_dev jmb-c2 65 discard
	dst=$CACHE_DEV
	random_data "$src" 64
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror "$src" "$dst" /dev/mapper/jmb-meta 128
	wait_state jmb-m ready
	meta_settles /dev/mapper/jmb-meta
	fail_dev jmb-meta 2048
	dmsetup message jmb-m 0 complete
	wait_state jmb-m failed 10
	errors=$(status_word jmb-m 9)
	# Two writers on the same 64 KiB: writes overlap others in flight,
	# and each pair must land in the same order on both devices.
	fio --name=overlap --thread --filename=/dev/mapper/jmb-m --rw=randwrite --bs=4k \
		--size=64k --direct=1 --ioengine=libaio --iodepth=16 --numjobs=2 \
		--time_based --runtime=2 --randrepeat=0 >/dev/null
	[ "$(sum_dev "$dst" 1)" = "$(sum_dev "$src" 1)" ]
	# None went to the source alone: that would have left its region dirty.
	[ "$(status_word jmb-m 4 | cut -d/ -f1)" = 0 ]
	# Discards of four regions among 4 KiB writes in flight.
	fio --thread --filename=/dev/mapper/jmb-m --offset=16m --size=1m --direct=1 \
		--ioengine=libaio --time_based --runtime=1 --randrepeat=0 \
		--name=writes --rw=randwrite --bs=4k --iodepth=8 \
		--name=discards --rw=randtrim --bs=256k --iodepth=2 >/dev/null
	[ "$(sum_dev "$dst" 1 16)" = "$(sum_dev "$src" 1 16)" ]
	[ "$(status_word jmb-m 4 | cut -d/ -f1)" = 0 ]
	# A discard, on both devices (discarded blocks of null_blk read as zeros).
	blkdiscard -o $((8 << 20)) -l $((8 << 20)) /dev/mapper/jmb-m
	zeros=$(head -c 8M /dev/zero | md5sum | cut -d' ' -f1)
	[ "$(sum_dev "$src" 8 8)" = "$zeros" ]
	[ "$(sum_dev "$dst" 8 8)" = "$zeros" ]
	# None of it left a region behind for later writes.
	fill_random /dev/mapper/jmb-m 2
	[ "$(sum_dev "$dst" 64)" = "$(sum_dev "$src" 64)" ]
	# No half of them failed (the metadata device's errors came before).
	[ "$(status_word jmb-m 9)" = "$errors" ]
	[ "$(status_word jmb-m 2)" = failed ]
}

@test "a dest that fails its flushes keeps complete from pivoting until it flushes again" {
	cache_dev jmb-c1 65
	flush_dev jmb-dst "$CACHE_DEV" $LEN ok
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst - 128 2 on_target_error ignore
	wait_state jmb-m ready
	flush_dev jmb-dst "$CACHE_DEV" $LEN fail
	fill_random /dev/mapper/jmb-m 4
	dmsetup message jmb-m 0 complete
	# Each try flushes the dest, fails, lets the writes go on and waits.
	sleep 2.5
	[ "$(status_word jmb-m 2)" = ready ]
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -ge 2 ]
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" = 0 ]
	fill_random /dev/mapper/jmb-m 2
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
	flush_dev jmb-dst "$CACHE_DEV" $LEN ok
	wait_state jmb-m completed 10
	# Now the device reads from the dest, which took every write.
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "a user flush whose dest copy fails after cancel is the job's error, not the user's" {
	modprobe dm-delay
	modprobe dm-flakey
	cache_dev jmb-c1 65
	# Every flush of jmb-dst fails, 3 s after it was sent; writes succeed.
	printf '0 %d delay %s 0 0 %s 0 0 %s 0 3000\n%d 8 flakey %s %d 0 1 1 error_writes\n' \
		$LEN "$CACHE_DEV" "$CACHE_DEV" "$CACHE_DEV" $LEN "$CACHE_DEV" $LEN |
		dmsetup create jmb-dst
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst - 128 2 speed 1048576
	# The fsync's flush goes to both devices; its dest copy waits 3 s.
	dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k seek=1000 count=1 oflag=direct conv=fsync \
		status=none &
	writer=$!
	delay_busy jmb-dst 6
	# Cancelled before it fails: the source alone holds the data now.
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled 2
	wait_gone $writer
	[ "$(status_word jmb-m 9)" = 0/1/0 ]
}

@test "with a metadata device a commit whose dest flush fails clears no region" {
	cache_dev jmb-c1 65
	flush_dev jmb-dst "$CACHE_DEV" $LEN ok
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst /dev/ram2 128 \
		2 on_target_error ignore
	wait_state jmb-m ready
	sleep 2.5
	flush_dev jmb-dst "$CACHE_DEV" $LEN fail
	put_mib /dev/mapper/jmb-m 0 1 7 15 33
	# Commits over more than two epochs: each fails its dest flush.
	sleep 3.5
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -ge 2 ]
	dmsetup remove jmb-m

	flush_dev jmb-dst "$CACHE_DEV" $LEN ok
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst /dev/ram2 128 1 start_paused
	n=$(dirty_count jmb-m)
	echo "dirty after the reload: $n"
	[ "$n" -ge 5 ]
	[ "$n" -lt 900 ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
	[ "$(sum_dev /dev/mapper/jmb-dst 64)" = "$(sum_dev /dev/ram0 64)" ]
}

# slow_flushes NAME: flushes of the dm-delay device NAME in flight.
slow_flushes() {
	dmsetup status "$1" | awk '{ print $6 }'
}

# meta_seq DEV: the higher commit number of the two headers of the
# metadata device DEV.
meta_seq() {
	local b s max=0
	for b in 0 1; do
		s=$(dd if="$1" bs=4k skip=$b count=1 iflag=direct status=none |
			od -An -t u8 -j 16 -N 8 | tr -d ' ')
		[ "$s" -gt "$max" ] && max=$s
	done
	echo "$max"
}

# delay_busy NAME FIELD: wait (about 5 s at most) until field FIELD of
# the first status line of the dm-delay device NAME (5: writes, 6:
# flushes in flight) is above 0.
delay_busy() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(dmsetup status "$1" | awk -v f="$2" 'NR == 1 { print $f }')" -gt 0 ] &&
			return 0
		sleep 0.05
	done
	echo "delay_busy: nothing in flight in field $2 of $1" >&2
	return 1
}

# slow_flush_begins NAME: wait until a flush is in flight on the dm-delay
# device NAME.
slow_flush_begins() {
	delay_busy "$1" 6
}

# meta_seq_reaches DEV SEQ: wait (100 polls at most) until the newest
# header of the metadata device DEV has commit number SEQ or higher.
meta_seq_reaches() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(meta_seq "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# meta_settles DEV: wait (10 s at most) until the newest header of the
# metadata device DEV has stayed the same for 1.5 s: the periodic commits
# after a change (one a second) are over.
meta_settles() {
	local i seq last=x quiet=0
	for ((i = 0; i < 100 && quiet < 15; i++)); do
		seq=$(meta_seq "$1")
		if [ "$seq" = "$last" ]; then
			quiet=$((quiet + 1))
		else
			quiet=0 last=$seq
		fi
		sleep 0.1
	done
	[ "$quiet" -ge 15 ]
}

# flushes_settle NAME: wait (at most 30 s) until no flush has been in
# flight on the dm-delay device NAME for 1.5 s.  A mirror's periodic
# commits flush the dest, and they stop when nothing is written.
flushes_settle() {
	local i quiet=0
	for ((i = 0; i < 300 && quiet < 15; i++)); do
		if [ "$(slow_flushes "$1")" = 0 ]; then
			quiet=$((quiet + 1))
		else
			quiet=0
		fi
		sleep 0.1
	done
	[ "$quiet" -ge 15 ]
}

@test "a write to an unmarked region does not wait for a commit's slow flush of the dest" {
	modprobe dm-delay
	cache_dev jmb-c1 65
	# Flushes of the dest take 2 s; reads and writes are not delayed.
	dmsetup create jmb-slow --table \
		"0 $LEN delay $CACHE_DEV 0 0 $CACHE_DEV 0 0 $CACHE_DEV 0 2000"
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-slow /dev/mapper/jmb-meta 128
	wait_state jmb-m ready
	# Writes to copied regions, each its own, whose bits the periodic
	# commits cleared: each waits for a commit that only adds bits.  The
	# first one's region makes the next periodic commit flush the dest.
	local overlapped=0 slowest=0 pending m t0 ms i seq
	for m in 3 5 7 9 11 13 17 19; do
		pending=$(slow_flushes jmb-slow)
		t0=$(date +%s%N)
		put_mib /dev/mapper/jmb-m "$m"
		ms=$((($(date +%s%N) - t0) / 1000000))
		[ "$ms" -gt "$slowest" ] && slowest=$ms
		# It began and ended while a commit's dest flush was in flight.
		[ "$pending" -gt 0 ] && [ "$(slow_flushes jmb-slow)" -gt 0 ] &&
			overlapped=$((overlapped + 1))
		echo "write at $m MiB: $ms ms, dest flushes in flight before: $pending"
		sleep 0.3
	done
	echo "writes within a dest flush: $overlapped, slowest write: $slowest ms"
	[ "$overlapped" -ge 2 ]
	[ "$slowest" -lt 1000 ]

	# Writes made during a commit's flushes are in the bitmap it writes:
	# the flushes do not cover them.  Crash once it is written, before the
	# next commit is, and let the dest lose them; they are copied again.
	flushes_settle jmb-slow
	# A write makes the next periodic commit, a second later, flush.
	put_mib /dev/mapper/jmb-m 41
	slow_flush_begins jmb-slow
	# That commit writes its header 2 s after its flush began: after the
	# three marks of these writes, and 2 s before the next commit does.
	seq=$(meta_seq /dev/mapper/jmb-meta)
	put_mib /dev/mapper/jmb-m 61 62 63
	[ "$(slow_flushes jmb-slow)" -gt 0 ]
	meta_seq_reaches /dev/mapper/jmb-meta $((seq + 4))
	[ "$(meta_seq /dev/mapper/jmb-meta)" = $((seq + 4)) ]
	fail_dev jmb-meta 2048
	dmsetup remove jmb-m
	put_mib /dev/mapper/jmb-slow 61 62 63
	reload_after_crash /dev/mapper/jmb-slow 4
}

@test "with a metadata device a pivot whose commit cannot flush the dest is not committed" {
	modprobe dm-delay
	cache_dev jmb-c1 65
	# The dest: jmb-dst, whose flushes can be made to fail, over jmb-slow,
	# whose flushes take 2 s.
	dmsetup create jmb-slow --table \
		"0 $((LEN + 2048)) delay $CACHE_DEV 0 0 $CACHE_DEV 0 0 $CACHE_DEV 0 2000"
	flush_dev jmb-dst /dev/mapper/jmb-slow $LEN ok
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst /dev/mapper/jmb-meta 128 \
		2 on_target_error ignore
	wait_state jmb-m ready
	# Once the commits after ready are done, nothing flushes the dest
	# until complete: first the job's own flush, then the pivot's commit.
	flushes_settle jmb-slow
	# From now on each metadata write takes 1 s to reach ram2, so that
	# what ram2 holds after the pivot's commit can be copied before the
	# next commit reaches it: a crash at that point.
	echo "0 2048 delay /dev/ram2 0 0 /dev/ram2 0 1000" | set_table jmb-meta
	seq=$(meta_seq /dev/ram2)
	flush_dev jmb-dst /dev/mapper/jmb-slow $LEN fail load
	dmsetup message jmb-m 0 complete
	# While the job's flush is delayed, jmb-dst's table whose flushes fail
	# goes live (the suspend waits for that flush): only the commit's
	# flush fails.
	slow_flush_begins jmb-slow
	dmsetup suspend jmb-dst
	dmsetup resume jmb-dst
	# The commit's flush is under way: no header since $seq, none on its way.
	[ "$(meta_seq /dev/ram2)" = "$seq" ]
	[ "$(dmsetup status jmb-meta | awk '{ print $5 }')" = 0 ]
	meta_seq_reaches /dev/ram2 $((seq + 1))
	dd if=/dev/ram2 of=/dev/ram3 bs=1M count=1 iflag=direct oflag=direct status=none
	[ "$(meta_seq /dev/ram3)" = $((seq + 1)) ]
	for ((i = 0; i < 100; i++)); do
		[ "$(status_word jmb-m 9 | cut -d/ -f2)" -ge 1 ] && break
		sleep 0.1
	done
	# Not completed: had the commit's flush gone out before the table
	# changed, the job would be completed here.
	[ "$(status_word jmb-m 2)" = ready ]
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -ge 1 ]
	# The rest with no delays.
	fail_dev jmb-meta 2048
	dmsetup remove jmb-m
	heal_dev jmb-slow "$CACHE_DEV" $((LEN + 2048))
	flush_dev jmb-dst /dev/mapper/jmb-slow $LEN ok

	# Loaded from that copy, the job has not pivoted: a mirror again, on
	# the source, with a clean bitmap.
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst /dev/ram3 128
	[ "$(status_word jmb-m 2)" != completed ]
	[ "$(dirty_count jmb-m)" = 0 ]
	wait_state jmb-m ready
	[ "$(sum_dev /dev/mapper/jmb-dst 64)" = "$(sum_dev /dev/ram0 64)" ]
	# With the dest flushing again the pivot is committed, and loaded again.
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	dmsetup remove jmb-m
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst /dev/ram3 128
	[ "$(status_word jmb-m 2)" = completed ]
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
}

# pivot_commit_slow [ARGS...]: a mirror with a metadata device, ready and
# its commits done, whose metadata writes now take 1 s; then complete,
# and wait until the pivot's commit is writing.  ARGS (a count, then the
# optional arguments) end the table line.  The dest is jmb-dst, over a
# null_blk with a write cache.
pivot_commit_slow() {
	modprobe dm-delay
	cache_dev jmb-c1 65
	flush_dev jmb-dst "$CACHE_DEV" $LEN ok
	linear_dev jmb-meta /dev/ram2 2048
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst /dev/mapper/jmb-meta 128 "$@"
	wait_state jmb-m ready
	sleep 2.5
	echo "0 2048 delay /dev/ram2 0 0 /dev/ram2 0 1000" | set_table jmb-meta
	dmsetup message jmb-m 0 complete
	delay_busy jmb-meta 5
}

@test "pause and cancel are refused while the pivot is being committed" {
	pivot_commit_slow
	msg_fails jmb-m "Device or resource busy" pause
	msg_fails jmb-m "Device or resource busy" cancel
	wait_state jmb-m completed 10
	run log_since_start
	[[ "$output" == *"jmb-m: message 'pause' is not valid in state ready, io running: the pivot is being committed"* ]]
	[[ "$output" == *"jmb-m: message 'cancel' is not valid in state ready, io running: the pivot is being committed"* ]]
}

# held_write_and_suspend: a write of random data at 4 KiB block 2000,
# held by the pivot, then a suspend of jmb-m; sets writer and suspender.
held_write_and_suspend() {
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/w"
	dd if="$BATS_TEST_TMPDIR/w" of=/dev/mapper/jmb-m bs=4k seek=2000 oflag=direct \
		status=none &
	writer=$!
	sleep 0.2
	kill -0 $writer
	dmsetup suspend jmb-m &
	suspender=$!
}

# block_2000 DEV: md5 of 4 KiB block 2000 of DEV.
block_2000() {
	dd if="$1" bs=4k skip=2000 count=1 iflag=direct status=none | md5sum
}

@test "a job that fails while its pivot is committed holds writes until the completed flag is taken back" {
	# The pivot's commit is writing its header, with the completed flag.
	pivot_commit_slow 2 on_target_error report
	seq=$(meta_seq /dev/ram2)
	flush_dev jmb-dst "$CACHE_DEV" $LEN fail load
	# Now the dest fails a user flush: the job fails (report), the user's
	# flush does not (the source holds the data).
	dmsetup suspend jmb-dst
	dmsetup resume jmb-dst
	sync /dev/mapper/jmb-m
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/w"
	dd if="$BATS_TEST_TMPDIR/w" of=/dev/mapper/jmb-m bs=4k seek=2000 oflag=direct \
		status=none &
	writer=$!
	wait_state jmb-m failed 5
	# The write completes once the flag is taken back, and goes to the
	# source alone.  A crash right after the flag was written: ram2 then.
	# (This write needs a mark, which waits for the pivot's commits anyway;
	# a write to a region still marked is held by the failed pivot itself.)
	wait_gone $writer
	meta_seq_reaches /dev/ram2 $((seq + 1))
	dd if=/dev/ram2 of=/dev/ram3 bs=1M count=1 iflag=direct oflag=direct status=none
	fail_dev jmb-meta 2048
	dmsetup remove jmb-m
	flush_dev jmb-dst "$CACHE_DEV" $LEN ok
	# Loaded from that copy the job has not pivoted: the write is there.
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst /dev/ram3 128 1 start_paused
	[ "$(status_word jmb-m 2)" != completed ]
	[ "$(dd if=/dev/mapper/jmb-m bs=4k skip=2000 count=1 iflag=direct status=none | md5sum)" = \
	  "$(md5sum <"$BATS_TEST_TMPDIR/w")" ]
}

# source_flush_fails POLICY: a mirror in ready, with on_source_error
# POLICY, of a source (on a write-cached device) whose flushes fail from
# then on; writes to three copied regions follow.
source_flush_fails() {
	cache_dev jmb-c0 65
	dd if=/dev/ram0 of="$CACHE_DEV" bs=1M count=64 oflag=direct status=none
	flush_dev jmb-src "$CACHE_DEV" $LEN ok
	jm_create jmb-m $LEN mirror /dev/mapper/jmb-src /dev/ram1 /dev/ram2 128 \
		2 on_source_error "$1"
	wait_state jmb-m ready
	flush_dev jmb-src "$CACHE_DEV" $LEN fail
	put_mib /dev/mapper/jmb-m 0 1 7
}

@test "a suspend during the pivot's commit waits for it; the held write goes to the dest" {
	pivot_commit_slow
	old=$(block_2000 /dev/ram0)
	held_write_and_suspend
	# The suspend waits for the write, which waits for the pivot.
	wait_gone $suspender
	wait_gone $writer
	[ "$(status_word jmb-m 2)" = completed ]
	dmsetup resume jmb-m
	[ "$(block_2000 /dev/mapper/jmb-m)" = "$(md5sum <"$BATS_TEST_TMPDIR/w")" ]
	[ "$(block_2000 /dev/mapper/jmb-dst)" = "$(md5sum <"$BATS_TEST_TMPDIR/w")" ]
	[ "$(block_2000 /dev/ram0)" = "$old" ]
}

@test "a suspend during a pivot that is called off does not hang: the held write goes out" {
	pivot_commit_slow 2 on_target_error ignore
	# A user flush of the dest fails while the flag is written: the pivot
	# is called off once it is, and the flag taken back (another second).
	flush_dev jmb-dst "$CACHE_DEV" $LEN fail load
	dmsetup suspend jmb-dst
	dmsetup resume jmb-dst
	sync /dev/mapper/jmb-m
	held_write_and_suspend
	# No one resumes the job while it is suspended: the pivot's end lets
	# the held write go, to both devices, as a suspend does.
	wait_gone $suspender
	wait_gone $writer
	[ "$(status_word jmb-m 2)" = ready ]
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -ge 1 ]
	[ "$(block_2000 /dev/ram0)" = "$(md5sum <"$BATS_TEST_TMPDIR/w")" ]
	[ "$(block_2000 /dev/mapper/jmb-dst)" = "$(md5sum <"$BATS_TEST_TMPDIR/w")" ]
	# With the dest flushing again the pending complete goes on.
	flush_dev jmb-dst "$CACHE_DEV" $LEN ok
	dmsetup resume jmb-m
	wait_state jmb-m completed 20
	[ "$(block_2000 /dev/mapper/jmb-m)" = "$(md5sum <"$BATS_TEST_TMPDIR/w")" ]
}

@test "a source that fails its flushes: source errors in commits, and complete still pivots" {
	source_flush_fails ignore
	sleep 2.5
	# The periodic commits fail to flush the source: a source error each.
	[ "$(status_word jmb-m 9 | cut -d/ -f1)" -ge 1 ]
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" = 0 ]
	[ "$(status_word jmb-m 2)" = ready ]
	# The pivot needs the dest alone.
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	dst=$(sum_dev /dev/ram1 64)
	[ "$dst" = "$(sum_dev "$CACHE_DEV" 64)" ]
	dmsetup remove jmb-m
	jm_create jmb-m $LEN mirror /dev/mapper/jmb-src /dev/ram1 /dev/ram2 128
	[ "$(status_word jmb-m 2)" = completed ]
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$dst" ]
}

@test "a read and a flush in flight on the source when the device pivots: the source fails them, the dest answers" {
	modprobe dm-delay
	modprobe dm-flakey
	# A source of 16 MiB with a write cache, so that flushes reach it.
	local n=32768
	cache_dev jmb-c1 17
	dd if=/dev/ram0 of="$CACHE_DEV" bs=1M count=16 oflag=direct status=none
	linear_dev jmb-path "$CACHE_DEV" $((n + 8))
	linear_dev jmb-src /dev/mapper/jmb-path $n
	jm_create jmb-m $n mirror /dev/mapper/jmb-src /dev/ram1 - 128
	wait_state jmb-m ready
	# The source answers reads and flushes 3 s late; meanwhile its path fails.
	echo "0 $n delay /dev/mapper/jmb-path 0 3000 /dev/mapper/jmb-path 0 3000" |
		set_table jmb-src
	dd if=/dev/mapper/jmb-m of="$BATS_TEST_TMPDIR/read" bs=64k count=1 skip=80 iflag=direct \
		status=none &
	reader=$!
	dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k count=0 conv=fsync status=none &
	flusher=$!
	sleep 0.5
	# Reads fail on the error target, flushes on the flakey one (the error
	# target takes no flushes: dm ends them at once).
	printf '0 %d error\n%d 8 flakey %s %d 0 1 1 error_writes\n' $n $n "$CACHE_DEV" $n |
		set_table jmb-path
	# The pivot waits for neither: only writes go to both devices.
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 2
	kill -0 $reader
	kill -0 $flusher
	wait_gone $reader
	wait_gone $flusher
	[ "$(md5sum <"$BATS_TEST_TMPDIR/read" | cut -d' ' -f1)" = "$(sum_at /dev/ram0 65536 80 1)" ]
	# Source errors of the job, which is over; none of the user's.
	[ "$(status_word jmb-m 9)" = 2/0/0 ]
}

@test "a read a SCSI source fails after the pivot goes again to the dest, with its data" {
	# A blk-mq disk: a failed request has used up its bios' iterators by
	# the time they end.  Once opts=2, reads of sectors 4660-4667 fail
	# with a medium error; each command is answered 'delay' jiffies late.
	scsi_disk dev_size_mb=16 delay=0 medium_error_start=4660 medium_error_count=8
	local sdebug=/sys/bus/pseudo/drivers/scsi_debug hz sd=$SD
	# 4 KiB block 582 holds sectors 4656-4663.
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/data"
	dd if="$BATS_TEST_TMPDIR/data" of="$sd" bs=4k seek=582 oflag=direct status=none
	jm_create jmb-m 32768 mirror "$sd" /dev/ram1 - 128
	wait_state jmb-m ready
	hz=$(awk -F= '$1 == "CONFIG_HZ" { print $2 }' "/boot/config-$(uname -r)")
	echo 2 >"$sdebug/opts"
	echo $((3 * hz)) >"$sdebug/delay"
	dd if=/dev/mapper/jmb-m of="$BATS_TEST_TMPDIR/read" bs=4k skip=582 count=1 iflag=direct \
		status=none &
	reader=$!
	sleep 0.5
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 2
	kill -0 $reader
	wait_gone $reader
	cmp "$BATS_TEST_TMPDIR/read" "$BATS_TEST_TMPDIR/data"
	[ "$(status_word jmb-m 9)" = 1/0/0 ]
	dmsetup remove jmb-m
	echo 0 >"$sdebug/opts"
	echo 0 >"$sdebug/delay"
	modprobe -r scsi_debug
}

@test "on_source_error stop: a source flush failing in a commit pauses the job" {
	source_flush_fails stop
	wait_state jmb-m standby 5
	[ "$(status_word jmb-m 5)" = failed ]
	[ "$(status_word jmb-m 9 | cut -d/ -f1)" -ge 1 ]
	flushes_back_resume jmb-src
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev "$CACHE_DEV" 64)" ]
}

@test "offset, len and dirty track the work; len grows when a copied region is rewritten" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128 2 speed 8388608
	sleep 1.5
	read -r off len < <(status_word jmb-m 3 | tr / ' ')
	[ "$off" -gt 0 ]
	[ "$off" -lt $LEN ]
	[ "$len" -eq $LEN ]
	read -r dirty regions < <(status_word jmb-m 4 | tr / ' ')
	[ "$regions" -eq 1024 ]
	[ "$dirty" -lt 1024 ]
	[ "$dirty" -gt 0 ]
	# Region 0 was copied first: rewriting it adds one region of work.
	dd if=/dev/urandom of=/dev/mapper/jmb-m bs=64k count=1 oflag=direct status=none
	[ "$(status_word jmb-m 3 | cut -d/ -f2)" -eq $((LEN + 128)) ]
	dmsetup message jmb-m 0 set_speed 0
	wait_state jmb-m ready
	[ "$(status_word jmb-m 3)" = "$((LEN + 128))/$((LEN + 128))" ]
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "cancel before ready stops the copy; the device keeps serving the source" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128 2 speed 4194304
	sleep 1
	src=$(sum_dev /dev/ram0 64)
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled 10
	off=$(status_word jmb-m 3 | cut -d/ -f1)
	[ "$off" -lt $LEN ]
	# Nothing was written to the source by the job.
	[ "$(sum_dev /dev/ram0 64)" = "$src" ]
	# Reads and writes go to the source; the dest is left alone.
	dst=$(sum_dev /dev/ram1 64)
	fill_random /dev/mapper/jmb-m 2
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
	[ "$(sum_dev /dev/ram1 64)" = "$dst" ]
	sleep 0.5
	[ "$(status_word jmb-m 3 | cut -d/ -f1)" -eq "$off" ]
	msg_fails jmb-m "Device or resource busy" resume
}

@test "cancel in ready leaves the dest a consistent copy of the device at the cancel" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128
	wait_state jmb-m ready
	fill_random /dev/mapper/jmb-m 3
	at_cancel=$(sum_dev /dev/mapper/jmb-m 64)
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled 10
	[ "$(sum_dev /dev/ram1 64)" = "$at_cancel" ]
	# Later writes go to the source only.
	fill_random /dev/mapper/jmb-m 1
	[ "$(sum_dev /dev/ram1 64)" = "$at_cancel" ]
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "pause stops the copy at a region boundary and resume goes on" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128 2 speed 4194304
	sleep 1
	dmsetup message jmb-m 0 pause
	wait_state jmb-m paused 10
	off=$(status_word jmb-m 3 | cut -d/ -f1)
	[ $((off % 128)) -eq 0 ]
	sleep 1
	[ "$(status_word jmb-m 3 | cut -d/ -f1)" -eq "$off" ]
	# Writes while paused are tracked.
	dd if=/dev/urandom of=/dev/mapper/jmb-m bs=4k count=1 seek=5 oflag=direct status=none
	dmsetup message jmb-m 0 resume
	[ "$(status_word jmb-m 2)" = running ]
	dmsetup message jmb-m 0 set_speed 0
	wait_state jmb-m ready
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "pause in ready gives standby, resume gives ready, complete from standby works" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128
	wait_state jmb-m ready
	dmsetup message jmb-m 0 pause
	wait_state jmb-m standby 10
	fill_random /dev/mapper/jmb-m 2
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready 10
	dmsetup message jmb-m 0 pause
	wait_state jmb-m standby 10
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "pause while complete is under way gives standby; resume or complete goes on, cancel replaces it" {
	modprobe dm-delay
	cache_dev jmb-c1 65
	local next want
	for next in resume complete cancel; do
		# Flushes of the dest take 1 s: complete waits for one.
		dmsetup create jmb-slow --table \
			"0 $LEN delay $CACHE_DEV 0 0 $CACHE_DEV 0 0 $CACHE_DEV 0 1000"
		jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-slow - 128
		wait_state jmb-m ready
		dmsetup message jmb-m 0 complete
		msg_fails jmb-m "Device or resource busy" complete
		dmsetup message jmb-m 0 pause
		msg_fails jmb-m "Device or resource busy" pause
		wait_state jmb-m standby 10
		# The complete waits: writes go to both devices meanwhile.
		fill_random /dev/mapper/jmb-m 2
		sleep 1
		[ "$(status_word jmb-m 2)" = standby ]
		[ "$(status_word jmb-m 4)" = 0/1024 ]
		dmsetup message jmb-m 0 $next
		want=completed
		[ $next = cancel ] && want=cancelled
		wait_state jmb-m $want 10
		[ "$(sum_dev /dev/mapper/jmb-slow 64)" = "$(sum_dev /dev/ram0 64)" ]
		dmsetup remove jmb-m
		dmsetup remove jmb-slow
	done
	run log_since_start
	[[ "$output" == *"jmb-m: message 'complete' is not valid in state ready, io running: a complete is already under way"* ]]
	[[ "$output" == *"jmb-m: message 'pause' is not valid in state ready, io running: a pause is already pending"* ]]
}

@test "start_paused starts the job paused" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128 1 start_paused
	sleep 0.5
	[ "$(status_word jmb-m 2)" = paused ]
	[ "$(status_word jmb-m 3)" = "0/$LEN" ]
	dmsetup message jmb-m 0 resume
	wait_state jmb-m ready
}

@test "set_speed takes effect at once and the rate stays within 10% of it" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128 2 speed 1048576
	sleep 0.5
	dmsetup message jmb-m 0 set_speed 6291456
	[ "$(status_word jmb-m 8)" -eq 6291456 ]
	a=$(status_word jmb-m 3 | cut -d/ -f1)
	t0=$(date +%s.%N)
	sleep 5
	b=$(status_word jmb-m 3 | cut -d/ -f1)
	t1=$(date +%s.%N)
	rate=$(awk -v a="$a" -v b="$b" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%d", (b - a) * 512 / (t1 - t0) }')
	echo "measured $rate bytes/s for 6291456" >&2
	[ "$rate" -ge $((6291456 * 90 / 100)) ]
	[ "$rate" -le $((6291456 * 110 / 100)) ]
	dmsetup message jmb-m 0 set_speed 0
	wait_state jmb-m ready
}

@test "messages not valid in the current state are refused with EBUSY" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128 2 speed 1048576
	msg_fails jmb-m "Device or resource busy" complete
	msg_fails jmb-m "Device or resource busy" resume
	msg_fails jmb-m "Device or resource busy" continue
	dmsetup message jmb-m 0 pause
	msg_fails jmb-m "Device or resource busy" pause
	wait_state jmb-m paused 10
	msg_fails jmb-m "Device or resource busy" complete
	msg_fails jmb-m "Device or resource busy" pause
	dmsetup message jmb-m 0 resume
	dmsetup message jmb-m 0 set_speed 0
	wait_state jmb-m ready
	msg_fails jmb-m "Device or resource busy" resume
	dmsetup message jmb-m 0 complete
	msg_fails jmb-m "Device or resource busy" cancel
	wait_state jmb-m completed 10
	for m in pause resume cancel complete continue "set_speed 1"; do
		msg_fails jmb-m "Device or resource busy" $m
	done
	msg_fails jmb-m "Invalid argument" frobnicate
	[ "$(status_word jmb-m 2)" = completed ]
}

@test "cancel of a paused job resumes it first" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128 1 start_paused
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled 10
}

@test "a write racing with the copy of its region never leaves the dest stale" {
	for mode in background write_blocking; do
		random_data /dev/ram0 16
		dd if=/dev/zero of=/dev/ram1 bs=1M count=16 oflag=direct status=none
		jm_create jmb-race 32768 mirror /dev/ram0 /dev/ram1 - 128 2 copy_mode $mode
		# Hammer one region (64 KiB at 1 MiB) with 4 KiB writes while it
		# is copied again and again.
		fio --name=hammer --filename=/dev/mapper/jmb-race --direct=1 --rw=randwrite \
			--bs=4k --offset=1M --size=64k --iodepth=8 --ioengine=libaio \
			--time_based --runtime=4 --numjobs=2 --randrepeat=0 >/dev/null
		wait_state jmb-race ready 60
		[ "$(sum_dev /dev/ram1 16)" = "$(sum_dev /dev/mapper/jmb-race 16)" ]
		dmsetup remove jmb-race
	done
}

@test "write_blocking reaches ready under a write load that keeps background from converging" {
	# A 16 MiB device rewritten at random as fast as fio can, with the
	# copy limited to 4 MiB/s: in 6 s background mode could copy it all
	# one and a half times over, but the writes dirty it faster.
	random_data /dev/ram0 16
	local load=(fio --name=load --direct=1 --rw=randwrite --bs=64k --size=16M
		--ioengine=libaio --iodepth=4 --time_based --randrepeat=0)
	jm_create jmb-bg 32768 mirror /dev/ram0 /dev/ram1 - 128 2 speed 4194304
	"${load[@]}" --filename=/dev/mapper/jmb-bg --runtime=6 >/dev/null
	[ "$(status_word jmb-bg 2)" = running ]
	[ "$(dirty_count jmb-bg)" -gt 0 ]
	dmsetup remove jmb-bg

	jm_create jmb-wb 32768 mirror /dev/ram0 /dev/ram1 - 128 4 speed 4194304 copy_mode write_blocking
	"${load[@]}" --filename=/dev/mapper/jmb-wb --runtime=30 >/dev/null &
	loader=$!
	wait_state jmb-wb ready 30
	# Still under the load when it got there.  fio ends its job on TERM
	# and exits once the job's writes are done.
	kill -0 $loader
	kill $loader
	wait $loader || true
	[ "$(status_word jmb-wb 2)" = ready ]
	[ "$(sum_dev /dev/ram1 16)" = "$(sum_dev /dev/mapper/jmb-wb 16)" ]
}

@test "suspend and resume mid-copy, and a reload of the same table restarts the copy" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128 2 speed 8388608
	sleep 1
	dmsetup suspend jmb-m
	off=$(status_word jmb-m 3 | cut -d/ -f1)
	sleep 0.5
	[ "$(status_word jmb-m 3 | cut -d/ -f1)" -eq "$off" ]
	dmsetup resume jmb-m
	sleep 0.5
	[ "$(status_word jmb-m 3 | cut -d/ -f1)" -gt "$off" ]
	dmsetup table jmb-m | set_table jmb-m
	[ "$(status_word jmb-m 3 | cut -d/ -f1)" -lt 20000 ]
	fill_random /dev/mapper/jmb-m 2
	dmsetup message jmb-m 0 set_speed 0
	wait_state jmb-m ready
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "discards and write-zeroes keep the dest in step" {
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128
	wait_state jmb-m ready
	blkdiscard -z -o $((3 << 20)) -l $((2 << 20)) /dev/mapper/jmb-m
	blkdiscard -o $((8 << 20)) -l $((1 << 20)) /dev/mapper/jmb-m 2>/dev/null || true
	wait_state jmb-m ready
	[ "$(status_word jmb-m 4 | cut -d/ -f1)" -eq 0 ]
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
	[ "$(sum_dev /dev/ram1 2 3)" = "$(head -c 2M /dev/zero | md5sum | cut -d' ' -f1)" ]
}

@test "a 256 MiB mirror under an fio verify load completes with every block intact" {
	random_data /dev/ram4 256
	dd if=/dev/zero of=/dev/ram5 bs=1M count=256 oflag=direct status=none
	jm_create jmb-big 524288 mirror /dev/ram4 /dev/ram5 - 128 2 speed 33554432
	# Writes with crc32c headers while the copy runs...
	fio --name=verify --filename=/dev/mapper/jmb-big --direct=1 --rw=randwrite --bs=16k \
		--size=256M --io_size=48M --ioengine=libaio --iodepth=8 --verify=crc32c \
		--do_verify=0 --verify_state_save=0 --randseed=1234 >/dev/null
	[ "$(status_word jmb-big 2)" = running ]
	dmsetup message jmb-big 0 set_speed 0
	wait_state jmb-big ready 120
	dmsetup message jmb-big 0 complete
	wait_state jmb-big completed 30
	# ...read back through the pivoted device and verified.
	fio --name=verify --filename=/dev/mapper/jmb-big --direct=1 --rw=randwrite --bs=16k \
		--size=256M --io_size=48M --ioengine=libaio --iodepth=8 --verify=crc32c \
		--verify_only --verify_state_save=0 --randseed=1234 >/dev/null
	# The dest is the source as it was at the pivot.
	[ "$(sum_dev /dev/ram5 256)" = "$(sum_dev /dev/ram4 256)" ]
}

# record_writer DEV N: write 4 KiB records 1..N to blocks 1..N, in order,
# each with O_DIRECT and waited for before the next.
record_writer() {
	python3 - "$1" "$2" <<'PY'
import mmap, os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_DIRECT)
buf = mmap.mmap(-1, 4096)
for i in range(1, int(sys.argv[2]) + 1):
    buf.seek(0)
    buf.write(b"record %08d\n" % i + bytes(4096 - 16))
    os.pwrite(fd, buf, i * 4096)
    time.sleep(0.0002)
os.close(fd)
PY
}

# records DEV N: the record numbers found in blocks 1..N, one per line.
records() {
	dd if="$1" bs=4k skip=1 count="$2" iflag=direct status=none | tr -d '\0' |
		grep -ao 'record [0-9]*' | awk '{ print $2 + 0 }'
}

@test "cancel in ready under a writer: the dest is the device at one point in time" {
	dd if=/dev/zero of=/dev/ram0 bs=1M count=64 oflag=direct status=none
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128
	wait_state jmb-m ready
	record_writer /dev/mapper/jmb-m 15000 &
	writer=$!
	sleep 1
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled 10
	wait $writer
	# Records 1..k on the dest and none after: a prefix of the writes.
	records /dev/ram1 15000 >/tmp/jm-rec
	k=$(wc -l </tmp/jm-rec)
	echo "dest holds $k records" >&2
	[ "$k" -gt 0 ]
	[ "$k" -lt 15000 ]
	[ "$(seq 1 "$k")" = "$(cat /tmp/jm-rec)" ]
	[ "$(records /dev/ram0 15000 | wc -l)" -eq 15000 ]
}

@test "complete under a writer: every write lands on the dest, none is lost" {
	dd if=/dev/zero of=/dev/ram0 bs=1M count=64 oflag=direct status=none
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/ram1 - 128
	wait_state jmb-m ready
	record_writer /dev/mapper/jmb-m 15000 &
	writer=$!
	sleep 1
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	kill -0 $writer		# the pivot happened under the writer
	wait $writer
	[ "$(records /dev/ram1 15000 | wc -l)" -eq 15000 ]
	[ "$(records /dev/mapper/jmb-m 15000 | wc -l)" -eq 15000 ]
}
