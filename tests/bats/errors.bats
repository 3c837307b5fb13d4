#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Error policies: job errors (on_source_error, on_target_error), user I/O
# errors (rerror, werror), iostatus, stop/continue, and the events that
# report them.  Faults: error segments in linear devices under the job
# (jmb-src over ram0, jmb-dst over ram1), and a thin pool that is too small.

load helpers

LEN=$PATH_LEN BAD=$PATH_BAD BADLEN=$PATH_BADLEN

setup() {
	jm_common_setup
	paths_setup
}

# job NAME "OPT WORDS..." : a paused mirror job jmb-src -> jmb-dst.
job() {
	local name=$1
	shift
	local words=($* start_paused)
	jm_create "$name" $LEN mirror /dev/mapper/jmb-src /dev/mapper/jmb-dst - 128 \
		${#words[@]} "${words[@]}"
}

@test "dest write errors under report fail the job; the device keeps serving the source" {
	break_dev jmb-dst /dev/ram1 $LEN $BAD $BADLEN
	job jmb-m on_target_error report
	watch_start jmb-m
	dmsetup message jmb-m 0 resume
	wait_state jmb-m failed 30
	watch_stop
	[ "$(status_word jmb-m 12)" = write:eio ]
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -ge 1 ]
	[ "$(status_word jmb-m 5)" = ok ]
	read -r op action reason sector seq < <(event_fields JOB_ERROR operation action reason sector seq)
	[ "$op $action $reason" = "write report eio" ]
	[ "$sector" -ge $BAD ]
	# One JOB_FAILED, newer than the error, naming the error that ended the job.
	read -r state fop faction freason fsector fseq \
		< <(event_fields JOB_FAILED state operation action reason sector seq)
	[ "$state $fop $faction $freason $fsector" = "failed write report eio $sector" ]
	[ "$fseq" -gt "$seq" ]
	[ "$(events_of JOB_FAILED | wc -l)" -eq 1 ]
	log_since_start | grep -q "jmb-m: JOB_FAILED: write eio at sector $sector: the job failed"
	# Still serving the source.
	fill_random /dev/mapper/jmb-m 2
	[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "dest write errors under ignore are counted and retried; once healed the job completes" {
	break_dev jmb-dst /dev/ram1 $LEN $BAD $BADLEN
	job jmb-m on_target_error ignore
	watch_start jmb-m
	dmsetup message jmb-m 0 resume
	sleep 3
	[ "$(status_word jmb-m 2)" = running ]
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -ge 2 ]
	heal_dev jmb-dst /dev/ram1 $LEN
	wait_state jmb-m ready 30
	# Failed copies were copied again: offset meets len (progress 100%).
	offlen=$(status_word jmb-m 3)
	[ "${offlen%/*}" = "${offlen#*/}" ]
	watch_stop
	[ "$(event_fields JOB_ERROR action | sort -u)" = ignore ]
	[ "$(events_of JOB_READY | wc -l)" -eq 1 ]
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "a copy that fails after cancel was sent before ready: the job ends cancelled" {
	modprobe dm-delay
	dmsetup create jmb-err --table "0 $LEN error"
	for policy in report stop; do
		# Copy writes to the dest fail 3 s after they are sent: the
		# cancel comes while they are under way.
		dmsetup create jmb-slow --table "0 $LEN delay /dev/mapper/jmb-err 0 3000"
		jm_create jmb-m $LEN mirror /dev/mapper/jmb-src /dev/mapper/jmb-slow - 128 \
			3 on_target_error $policy start_paused
		watch_start jmb-m
		dmsetup message jmb-m 0 resume
		dmsetup message jmb-m 0 cancel
		[ "$(status_word jmb-m 9 | cut -d/ -f2)" -eq 0 ]
		wait_state jmb-m cancelled 15
		watch_stop
		[ "$(status_word jmb-m 9 | cut -d/ -f2)" -ge 1 ]
		[ "$(event_fields JOB_ERROR action | sort -u)" = ignore ]
		[ "$(events_of JOB_CANCELLED | wc -l)" -eq 1 ]
		[ "$(events_of JOB_FAILED | wc -l)" -eq 0 ]
		[ "$(sum_dev /dev/mapper/jmb-m 64)" = "$(sum_dev /dev/mapper/jmb-src 64)" ]
		dmsetup remove jmb-m
		dmsetup remove jmb-slow
	done
}

@test "dest write errors under stop pause the job; heal, resume, complete, data equal" {
	break_dev jmb-dst /dev/ram1 $LEN $BAD $BADLEN
	job jmb-m on_target_error stop
	watch_start jmb-m
	dmsetup message jmb-m 0 resume
	wait_state jmb-m paused 30
	[ "$(status_word jmb-m 5)" = failed ]
	[ "$(status_word jmb-m 12)" = - ]
	heal_dev jmb-dst /dev/ram1 $LEN
	dmsetup message jmb-m 0 resume
	[ "$(status_word jmb-m 5)" = ok ]
	wait_state jmb-m ready 30
	offlen=$(status_word jmb-m 3)
	[ "${offlen%/*}" = "${offlen#*/}" ]
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	watch_stop
	[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
	[ "$(event_fields JOB_ERROR action | head -n 1)" = stop ]
	p=$(event_fields JOB_PAUSED iostatus | tail -n 1)
	[ "$p" = failed ] || [ "$p" = ok ]
	# resumed (from start_paused) twice: start, and after the heal
	[ "$(events_of JOB_RESUMED | wc -l)" -eq 2 ]
	[ "$(events_of JOB_COMPLETED | wc -l)" -eq 1 ]
}

@test "a ready job without metadata whose dest fails a user flush under stop goes to standby" {
	cache_dev jmb-c1 65
	flush_dev jmb-dst "$CACHE_DEV" $LEN ok
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-dst - 128 2 on_target_error stop
	wait_state jmb-m ready
	watch_start jmb-m
	flush_dev jmb-dst "$CACHE_DEV" $LEN fail
	# One flush; in ready nothing else wakes the job.
	sync /dev/mapper/jmb-m
	wait_state jmb-m standby 5
	watch_stop
	[ "$(status_word jmb-m 5)" = failed ]
	[ "$(status_word jmb-m 9 | cut -d/ -f2)" -eq 1 ]
	[ "$(event_fields JOB_ERROR action)" = stop ]
	[ "$(events_of JOB_PAUSED | wc -l)" -eq 1 ]
	flushes_back_resume jmb-dst
}

@test "source read errors under report, ignore, stop and enospc" {
	for policy in report ignore stop enospc; do
		# Each job copies to a zeroed dest: ignore's copy is not stop's.
		dd if=/dev/zero of=/dev/ram1 bs=1M count=64 oflag=direct status=none
		break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
		job jmb-s-$policy on_source_error $policy
		dmsetup message jmb-s-$policy 0 resume
		case $policy in
		report | enospc)
			wait_state jmb-s-$policy failed 30
			[ "$(status_word jmb-s-$policy 12)" = read:eio ] ;;
		ignore)
			sleep 2
			[ "$(status_word jmb-s-$policy 2)" = running ] ;;
		stop)
			wait_state jmb-s-$policy paused 30
			[ "$(status_word jmb-s-$policy 5)" = failed ] ;;
		esac
		[ "$(status_word jmb-s-$policy 9 | cut -d/ -f1)" -ge 1 ]
		heal_dev jmb-src /dev/ram0 $LEN
		[ $policy = stop ] && dmsetup message jmb-s-$policy 0 resume
		if [ $policy = ignore ] || [ $policy = stop ]; then
			wait_state jmb-s-$policy ready 30
			[ "$(sum_dev /dev/ram1 64)" = "$(sum_dev /dev/ram0 64)" ]
		fi
		dmsetup remove jmb-s-$policy
	done
}

@test "ENOSPC on a thin dest: enospc pauses with iostatus nospace; grow the pool, resume, complete" {
	thin_setup 16
	jm_create jmb-m $LEN mirror /dev/ram0 /dev/mapper/jmb-thin - 128 3 on_target_error enospc start_paused
	watch_start jmb-m
	dmsetup message jmb-m 0 resume
	# dmtool wait says why it is waiting, and goes on once resumed.
	"$DMTOOL" wait jmb-m --for ready 2>"$BATS_TEST_TMPDIR/werr" 3>&- &
	waiter=$!
	wait_state jmb-m paused 60
	[ "$(status_word jmb-m 5)" = nospace ]
	[ "$(event_fields JOB_ERROR operation action reason | head -n 1)" = "write stop enospc" ]
	thin_grow 128
	dmsetup message jmb-m 0 resume
	[ "$(status_word jmb-m 5)" = ok ]
	wait_state jmb-m ready 60
	wait $waiter
	[ "$(cat "$BATS_TEST_TMPDIR/werr")" = "dmtool: wait jmb-m: the job is paused (iostatus nospace): waiting for dmtool resume jmb-m" ]
	dmsetup message jmb-m 0 complete
	wait_state jmb-m completed 10
	watch_stop
	[ "$(sum_dev /dev/mapper/jmb-thin 64)" = "$(sum_dev /dev/ram0 64)" ]
}

@test "user write ENOSPC with werror=enospc holds the writer; grow, continue, the writer finishes" {
	thin_setup 16
	jm_create jmb-m $LEN mirror /dev/mapper/jmb-thin /dev/ram1 - 128 3 werror enospc start_paused
	watch_start jmb-m
	head -c 32M /dev/urandom >/tmp/jm-data
	dd if=/tmp/jm-data of=/dev/mapper/jmb-m bs=1M oflag=direct status=none &
	writer=$!
	wait_io jmb-m stopped
	[ "$(status_word jmb-m 6)" = stopped ]
	[ "$(status_word jmb-m 11)" = write:enospc ]
	[ "$(status_word jmb-m 7)" -ge 1 ]
	sleep 1
	kill -0 $writer		# blocked, not failed
	thin_grow 128
	dmsetup message jmb-m 0 continue
	wait $writer
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(status_word jmb-m 7)" -eq 0 ]
	[ "$(status_word jmb-m 11)" = - ]
	[ "$(sum_dev /dev/mapper/jmb-m 32)" = "$(md5sum </tmp/jm-data | cut -d' ' -f1)" ]
	watch_stop
	[ "$(event_fields IO_ERROR operation action reason | head -n 1)" = "write stop enospc" ]
	[ "$(events_of IO_CONTINUED | wc -l)" -eq 1 ]
}

@test "user read and write errors under report and ignore" {
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	job jmb-rep rerror report werror report
	run dd if=/dev/mapper/jmb-rep of=/dev/null bs=4k count=1 skip=$((BAD / 8)) iflag=direct
	[ "$status" -ne 0 ]
	run dd if=/dev/zero of=/dev/mapper/jmb-rep bs=4k count=1 seek=$((BAD / 8)) oflag=direct
	[ "$status" -ne 0 ]
	[ "$(status_word jmb-rep 9 | cut -d/ -f3)" -eq 2 ]
	dmsetup remove jmb-rep

	job jmb-ign rerror ignore werror ignore
	watch_start jmb-ign
	dd if=/dev/mapper/jmb-ign of=/dev/null bs=4k count=1 skip=$((BAD / 8)) iflag=direct
	dd if=/dev/zero of=/dev/mapper/jmb-ign bs=4k count=1 seek=$((BAD / 8)) oflag=direct
	watch_stop
	[ "$(status_word jmb-ign 9 | cut -d/ -f3)" -eq 2 ]
	[ "$(event_fields IO_ERROR operation action reason sector | sort)" = \
	  "$(printf 'read ignore eio %d\nwrite ignore eio %d' $BAD $BAD)" ]
	run log_since_start
	[[ "$output" == *"jmb-ign: IO_ERROR: read eio at sector $BAD: ignore"* ]]
}

@test "werror stop holds the failed write and every later one; continue sends them once healed" {
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	job jmb-m werror stop
	head -c 4096 /dev/urandom >/tmp/jm-a
	head -c 4096 /dev/urandom >/tmp/jm-b
	dd if=/tmp/jm-a of=/dev/mapper/jmb-m bs=4k seek=$((BAD / 8)) oflag=direct status=none &
	a=$!
	wait_io jmb-m stopped
	[ "$(status_word jmb-m 6)" = stopped ]
	[ "$(status_word jmb-m 11)" = write:eio ]
	# A write to a healthy place is held too: nothing overtakes.
	dd if=/tmp/jm-b of=/dev/mapper/jmb-m bs=4k seek=10 oflag=direct status=none &
	b=$!
	sleep 0.5
	[ "$(status_word jmb-m 7)" -eq 2 ]
	kill -0 $a
	kill -0 $b
	msg_fails jmb-m "Device or resource busy" pause
	heal_dev jmb-src /dev/ram0 $LEN
	dmsetup message jmb-m 0 continue
	wait $a
	wait $b
	[ "$(sum_dev /dev/ram0 1)" = "$(sum_dev /dev/mapper/jmb-m 1)" ]
	[ "$(dd if=/dev/ram0 bs=4k skip=$((BAD / 8)) count=1 iflag=direct status=none | md5sum)" = \
	  "$(md5sum </tmp/jm-a)" ]
	[ "$(dd if=/dev/ram0 bs=4k skip=10 count=1 iflag=direct status=none | md5sum)" = "$(md5sum </tmp/jm-b)" ]
	msg_fails jmb-m "Device or resource busy" continue
}

@test "rerror stop holds a failed read until continue, which reads again; enospc reports an EIO read" {
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	job jmb-m rerror stop
	watch_start jmb-m
	dd if=/dev/mapper/jmb-m of="$BATS_TEST_TMPDIR/r" bs=4k skip=$((BAD / 8)) count=1 \
		iflag=direct status=none &
	r=$!
	wait_io jmb-m stopped
	[ "$(status_word jmb-m 11)" = read:eio ]
	[ "$(status_word jmb-m 7)" -eq 1 ]
	# continue on a path still broken: the read fails again and stops again.
	dmsetup message jmb-m 0 continue
	sleep 0.5
	[ "$(status_word jmb-m 6)" = stopped ]
	kill -0 $r
	heal_dev jmb-src /dev/ram0 $LEN
	dmsetup message jmb-m 0 continue
	wait $r
	[ "$(md5sum <"$BATS_TEST_TMPDIR/r")" = \
	  "$(dd if=/dev/ram0 bs=4k skip=$((BAD / 8)) count=1 iflag=direct status=none | md5sum)" ]
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(status_word jmb-m 7)" -eq 0 ]
	[ "$(status_word jmb-m 11)" = - ]
	watch_stop
	[ "$(event_fields IO_ERROR operation action reason | sort -u)" = "read stop eio" ]
	[ "$(events_of IO_CONTINUED | wc -l)" -eq 2 ]
	dmsetup remove jmb-m

	# enospc stops on ENOSPC alone: an EIO read fails, and io runs on.
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	job jmb-m rerror enospc
	run dd if=/dev/mapper/jmb-m of=/dev/null bs=4k skip=$((BAD / 8)) count=1 iflag=direct
	[ "$status" -ne 0 ]
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" -eq 1 ]
}

@test "rerror stop reports a failed readahead; the read the reader needs still stops" {
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	job jmb-m rerror stop
	blockdev --setra 256 /dev/mapper/jmb-m
	watch_start jmb-m
	# Buffered reads of the two pages just before the broken part: the
	# second one looks sequential, so the page cache reads ahead into the
	# broken part, and that readahead fails.  The page asked for is then
	# read alone, and comes back.
	dd if=/dev/mapper/jmb-m of="$BATS_TEST_TMPDIR/r" bs=4k skip=$((BAD / 8 - 2)) count=2 \
		status=none 3>&- &
	r=$!
	rc=0
	wait_gone $r 20 || rc=$?
	[ "$rc" -eq 0 ]
	[ "$(md5sum <"$BATS_TEST_TMPDIR/r")" = \
	  "$(dd if=/dev/ram0 bs=4k skip=$((BAD / 8 - 2)) count=2 iflag=direct status=none | md5sum)" ]
	[ "$(status_word jmb-m 6)" = running ]
	[ "$(status_word jmb-m 7)" -eq 0 ]
	dmsetup status jmb-m >&2
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" -ge 1 ]
	# A page in the broken part is read alone after its readahead failed:
	# that read stops io.
	dd if=/dev/mapper/jmb-m of=/dev/null bs=4k skip=$((BAD / 8)) count=1 status=none 3>&- &
	r=$!
	wait_io jmb-m stopped
	[ "$(status_word jmb-m 7)" -eq 1 ]
	heal_dev jmb-src /dev/ram0 $LEN
	dmsetup message jmb-m 0 continue
	wait_gone $r 20
	watch_stop
	# Readaheads reported, the one read stopped.
	event_fields IO_ERROR operation action >"$BATS_TEST_TMPDIR/ev"
	[ "$(sort -u "$BATS_TEST_TMPDIR/ev" | tr '\n' ,)" = "read report,read stop," ]
	[ "$(grep -c stop "$BATS_TEST_TMPDIR/ev")" -eq 1 ]
}

@test "suspend with held writes: flushing fails them in bounded time, noflush plus reload releases them" {
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	job jmb-m werror stop
	watch_start jmb-m
	dd if=/dev/zero of=/dev/mapper/jmb-m bs=4k seek=$((BAD / 8)) oflag=direct status=none &
	a=$!
	wait_io jmb-m stopped
	timeout 30 dmsetup suspend jmb-m
	rc=0
	wait $a || rc=$?
	[ "$rc" -ne 0 ]
	# io runs again, and an event says so (the write failed: report).
	[ "$(status_word jmb-m 6)" = running ]
	dmsetup resume jmb-m
	[ "$(status_word jmb-m 6)" = running ]
	watch_stop
	[ "$(jq -r .event "$JM_EVENTS" | tr '\n' ' ')" = "IO_ERROR IO_CONTINUED IO_ERROR " ]
	[ "$(event_fields IO_ERROR action)" = "$(printf 'stop\nreport')" ]

	# Held again; this time suspend without flushing, fix the device, reload.
	head -c 4096 /dev/urandom >/tmp/jm-a
	dd if=/tmp/jm-a of=/dev/mapper/jmb-m bs=4k seek=$((BAD / 8)) oflag=direct status=none &
	a=$!
	wait_io jmb-m stopped
	[ "$(status_word jmb-m 6)" = stopped ]
	heal_dev jmb-src /dev/ram0 $LEN
	dmsetup table jmb-m | dmsetup reload jmb-m
	timeout 30 dmsetup suspend --noflush jmb-m
	dmsetup resume jmb-m
	wait $a
	[ "$(dd if=/dev/ram0 bs=4k skip=$((BAD / 8)) count=1 iflag=direct status=none | md5sum)" = \
	  "$(md5sum </tmp/jm-a)" ]
}

@test "a flood of errors under ignore sends bounded events with a SUPPRESSED count" {
	break_dev jmb-src /dev/ram0 $LEN $BAD $BADLEN
	job jmb-m rerror ignore
	watch_start jmb-m
	start=$SECONDS
	# 200 reads of the broken range: each an error, counted and ignored.
	dd if=/dev/mapper/jmb-m of=/dev/null bs=4k count=200 skip=$((BAD / 8)) \
		iflag=direct status=none
	sleep 1.2
	# One more after the window: it carries the count of those dropped.
	dd if=/dev/mapper/jmb-m of=/dev/null bs=4k count=1 skip=$((BAD / 8)) iflag=direct status=none
	secs=$((SECONDS - start + 1))
	watch_stop
	[ "$(status_word jmb-m 9 | cut -d/ -f3)" -eq 201 ]
	n=$(events_of IO_ERROR | wc -l)
	echo "IO_ERROR events sent: $n in ${secs}s" >&2
	[ "$n" -le $((5 * (secs + 1))) ]
	total=$(event_fields IO_ERROR suppressed | awk '{ s += $1 } END { print s + 0 }')
	[ $((n + total)) -eq 201 ] || [ $((n + total)) -lt 201 ]
	[ "$total" -gt 0 ]
	[ "$(status_word jmb-m 10)" -ge 201 ]
}

@test "every event's status is at least as new as the event (many times over)" {
	job jmb-m speed 1048576
	# The listener reads the status the moment each event arrives.
	"$DMTOOL" watch jmb-m 3>&- | while read -r seq name type rest; do
		read -r -a st < <(dmsetup status jmb-m)
		sseq=${st[12]} state=${st[4]}
		echo "$seq $type / $sseq $state"
		[ "$sseq" -ge "$seq" ] || { echo "BAD: status older than the event"; exit 1; }
		if [ "$sseq" -eq "$seq" ]; then
			case $type in
			JOB_PAUSED) [ "$state" = paused ] || { echo "BAD: $type, $state"; exit 1; } ;;
			JOB_RESUMED) [ "$state" = running ] || { echo "BAD: $type, $state"; exit 1; } ;;
			esac
		fi
		[ "$type" = JOB_CANCELLED ] && exit 0
	done >"$BATS_TEST_TMPDIR/listener" &
	listener=$!
	sleep 0.3
	for i in $(seq 30); do
		dmsetup message jmb-m 0 resume
		dmsetup message jmb-m 0 pause
		for j in $(seq 50); do [ "$(status_word jmb-m 2)" = paused ] && break; sleep 0.02; done
		sleep 0.1
	done
	dmsetup message jmb-m 0 cancel
	wait_state jmb-m cancelled 10
	for i in $(seq 300); do kill -0 $listener 2>/dev/null || break; sleep 0.1; done
	pkill -f "dmtool watch jmb-m" || true
	rc=0
	wait $listener || rc=$?
	cat "$BATS_TEST_TMPDIR/listener" >&2
	[ "$rc" -eq 0 ]
	[ "$(grep -c BAD "$BATS_TEST_TMPDIR/listener")" -eq 0 ]
	[ "$(grep -c JOB_ "$BATS_TEST_TMPDIR/listener")" -ge 10 ]
	# 30 resume/pause pairs, and cancel resumes first: 62 events counted.
	[ "$(status_word jmb-m 10)" -eq 62 ]
}
