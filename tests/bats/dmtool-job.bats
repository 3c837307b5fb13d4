#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# dmtool driving a mirror job end to end: create, wait, pause, resume,
# set-speed, cancel, complete (with the reload as linear), remove.

load helpers

setup() {
	jm_common_setup
	random_data /dev/ram0 64
	# random_data is the same in every test: zero the dest where it is,
	# or a dest left equal to it by another test would hide a copy that
	# did not happen there.
	dd if=/dev/zero of=/dev/ram1 bs=1M count=64 oflag=direct status=none
}

@test "dmtool create, wait --for ready, complete: the device ends as linear on the dest" {
	# Random data over the whole 256 MiB, not only the 64 MiB setup
	# fills, and a zeroed dest: the sums below then cover every region.
	random_data /dev/ram0 256
	dd if=/dev/zero of=/dev/ram1 bs=1M count=256 oflag=direct status=none
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 \
		--region-size 128K --speed 0 --werror stop
	[ "$status" -eq 0 ]
	[[ "$(dmsetup table jmb-d)" == "0 524288 jobmirror mirror 1:0 1:1 - 256 "*"werror stop"* ]]
	run "$DMTOOL" wait jmb-d --for ready --timeout 120
	[ "$status" -eq 0 ]
	fill_random /dev/mapper/jmb-d 8
	want=$(sum_dev /dev/mapper/jmb-d 256)
	run "$DMTOOL" complete jmb-d
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "jmb-d: complete sent"* ]]
	[[ "${lines[1]}" == "jmb-d: completed: all I/O goes to /dev/ram1" ]]
	[[ "${lines[2]}" == "jmb-d: reloaded as linear on /dev/ram1"* ]]
	[ "$(dmsetup table jmb-d)" = "0 524288 linear 1:1 0" ]
	[ "$(sum_dev /dev/mapper/jmb-d 256)" = "$want" ]
	[ "$(sum_dev /dev/ram1 256)" = "$want" ]
	run "$DMTOOL" status jmb-d
	[ "$status" -eq 3 ]
	dmsetup remove jmb-d
}

@test "dmtool create puts each policy, copy and hang option in the table line" {
	"$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --paused \
		--copy-mode write_blocking --on-source-error stop --on-target-error enospc \
		--rerror ignore --werror stop --io-hang-timeout 30 --io-hang-interval 250 \
		--speed 1G
	t=$(dmsetup table jmb-d)
	for w in "copy_mode write_blocking" "on_source_error stop" "on_target_error enospc" \
		 "rerror ignore" "werror stop" "io_hang_timeout 30" "io_hang_interval 250" \
		 "speed 1073741824"; do
		[[ " $t " == *" $w "* ]] || { echo "missing '$w' in: $t"; false; }
	done
	[ "$(status_word jmb-d 2)" = paused ]
	[ "$(status_word jmb-d 8)" -eq 1073741824 ]
	"$DMTOOL" set-speed jmb-d 2G
	[ "$(status_word jmb-d 8)" -eq 2147483648 ]
	"$DMTOOL" remove jmb-d
}

@test "dmtool pause, resume, set-speed and cancel drive the job" {
	"$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --speed 2M
	"$DMTOOL" pause jmb-d
	wait_state jmb-d paused 10
	run "$DMTOOL" pause jmb-d
	[ "$status" -eq 1 ]
	[ "$output" = "dmtool: pause jmb-d: not possible now: the job is paused, io is running" ]
	"$DMTOOL" resume jmb-d
	[ "$(status_word jmb-d 2)" = running ]
	"$DMTOOL" set-speed jmb-d 3M
	[ "$(status_word jmb-d 8)" -eq 3145728 ]
	[ "$("$DMTOOL" status jmb-d --json | jq .devices[0].speed)" -eq 3145728 ]
	"$DMTOOL" cancel jmb-d
	wait_state jmb-d cancelled 10
	run "$DMTOOL" wait jmb-d
	[ "$status" -eq 1 ]
	[ "$output" = "dmtool: wait jmb-d: the job was cancelled" ]
	run "$DMTOOL" continue jmb-d
	[ "$status" -eq 1 ]
	"$DMTOOL" remove jmb-d
	[ ! -e /dev/mapper/jmb-d ]
	run dmsetup info jmb-d
	[ "$status" -ne 0 ]
}

@test "dmtool wait --timeout exits 4 and --progress prints a line a second" {
	"$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --speed 1M
	start=$SECONDS
	run "$DMTOOL" wait jmb-d --for ready --progress --timeout 3
	[ "$status" -eq 4 ]
	[ $((SECONDS - start)) -le 5 ]
	[[ "${lines[-1]}" == "dmtool: wait jmb-d: timed out after 3 s; the job is running" ]]
	n=$(printf '%s\n' "${lines[@]}" | grep -c '^jmb-d: running .*% (.* of 256.0 MiB, .*/s), [0-9]* of 4096 regions to copy$')
	[ "$n" -ge 3 ]
	[ "$n" -le 5 ]
}

@test "dmtool wait wakes on the job's event, not on a timer" {
	"$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --paused
	"$DMTOOL" wait jmb-d --for ready &
	pid=$!
	sleep 1
	kill -0 $pid
	"$DMTOOL" resume jmb-d
	wait_state jmb-d ready 60
	# Ready raised an event: the waiter returns at once, and with success.
	for i in $(seq 20); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
	rc=0
	wait $pid || rc=$?
	[ "$rc" -eq 0 ]
}

@test "dmtool create refuses bad arguments with exit 2 and kernel refusals with exit 1" {
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: create: --mode, --source and --dest are required" ]]
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --region-size 3K
	[ "$status" -eq 2 ]
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --rerror retry
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: create: --rerror 'retry': use report, ignore, stop or enospc" ]]
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --speed fast
	[ "$status" -eq 2 ]
	# The kernel would refuse a key given twice; dmtool says which.
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 \
		--speed 1M --speed 2M
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: create: --speed given twice" ]
	# What the kernel would refuse, dmtool refuses first and says why.
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 \
		--io-hang-timeout 86401
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: create: --io-hang-timeout '86401': seconds, 0 to 86400" ]
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 \
		--io-hang-interval 0
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: create: --io-hang-interval '0': milliseconds, 1 to 3600000" ]
	run "$DMTOOL" create jmb-d --mode stream --source /dev/ram0 --dest /dev/ram1
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: create: --mode stream needs --metadata" ]
	run "$DMTOOL" create jmb-d --mode stream --source /dev/ram0 --dest /dev/ram1 \
		--metadata /dev/ram2 --copy-mode write_blocking
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: create: --copy-mode write_blocking is for --mode mirror only" ]
	run "$DMTOOL" create jmb/d --mode mirror --source /dev/ram0 --dest /dev/ram1
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: create: 'jmb/d' is not a device name (1 to 127 characters, no '/')" ]
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram0
	[ "$status" -eq 1 ]
	[ "$output" = "dmtool: create jmb-d: source '/dev/ram0' and dest '/dev/ram0' are the same device" ]
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/nothere --dest /dev/ram1
	[ "$status" -eq 1 ]
	[[ "$output" == "dmtool: create jmb-d: cannot read the size of /dev/nothere: "* ]]
	# A device is one word of the table line: an empty one or one with a
	# blank would shift the words after it.
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest ""
	[ "$status" -eq 2 ]
	[ "$output" = "dmtool: create: --dest '' is not a device path" ]
	run "$DMTOOL" create jmb-d --mode mirror --source "/dev/ram0 /dev/ram1" --dest /dev/ram2
	[ "$status" -eq 2 ]
	[ "$output" = "dmtool: create: --source '/dev/ram0 /dev/ram1' is not a device path" ]
	run "$DMTOOL" create jmb-d --mode stream --source /dev/ram0 --dest /dev/ram1 --metadata " "
	[ "$status" -eq 2 ]
	# A source of no size (a loop device with no file) would make a target of none.
	modprobe loop
	local loop
	loop=$(losetup -f)
	run "$DMTOOL" create jmb-d --mode mirror --source "$loop" --dest /dev/ram1
	[ "$status" -eq 1 ]
	[ "$output" = "dmtool: create jmb-d: the source $loop is empty" ]
	run dmsetup info jmb-d
	[ "$status" -ne 0 ]
	# A number goes into the table line as its value, whatever its spelling.
	"$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --paused \
		--io-hang-timeout "$(printf '0%.0s' {1..600})30"
	[[ "$(dmsetup table jmb-d)" == *" io_hang_timeout 30 "* ]]
}

@test "dmtool create says why the first resume could not load the metadata device" {
	# Reads work, writes fail: accepted at table load, not formatted on resume.
	modprobe dm-flakey
	dd if=/dev/zero of=/dev/ram2 bs=4k count=1 oflag=direct status=none
	dmsetup create jmb-meta --table "0 2048 flakey /dev/ram2 0 0 1 1 error_writes"
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 \
		--metadata /dev/mapper/jmb-meta
	[ "$status" -eq 1 ]
	[ "$output" = "dmtool: create jmb-d: metadata device not loaded: cannot format it (write error)" ]
	run dmsetup info jmb-d
	[ "$status" -ne 0 ]
	# A bitmap whose checksum fails: its header is good, a bit flipped.
	"$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 \
		--metadata /dev/ram2 --paused
	"$DMTOOL" remove jmb-d
	# Both areas (blocks 2 and 3: one bitmap block each).
	blockdev --flushbufs /dev/ram2
	for b in 2 3; do
		printf '\x01' | dd of=/dev/ram2 bs=1 seek=$((b * 4096 + 100)) conv=notrunc,fsync \
			status=none
	done
	run "$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 \
		--metadata /dev/ram2
	[ "$status" -eq 1 ]
	[ "$output" = "dmtool: create jmb-d: metadata device not loaded: bitmap checksum mismatch" ]
	run dmsetup info jmb-d
	[ "$status" -ne 0 ]
}

@test "dmtool commands on a missing or foreign device exit 3" {
	dmsetup create jmb-lin --table "0 2048 linear /dev/ram3 0"
	for cmd in pause resume cancel continue complete remove wait; do
		run "$DMTOOL" $cmd jmb-nothere
		[ "$status" -eq 3 ]
		[ "$output" = "dmtool: $cmd jmb-nothere: no such device" ]
		run "$DMTOOL" $cmd jmb-lin
		[ "$status" -eq 3 ]
		# A path to a device that is not a dm device at all.
		run "$DMTOOL" $cmd /dev/ram3
		[ "$status" -eq 3 ]
		[ "$output" = "dmtool: $cmd /dev/ram3: not a jobmirror device" ]
	done
	run "$DMTOOL" status /dev/ram3
	[ "$status" -eq 3 ]
	run "$DMTOOL" set-speed jmb-nothere 1M
	[ "$status" -eq 3 ]
	run "$DMTOOL" set-speed /dev/ram3 1M
	[ "$status" -eq 3 ]
	run "$DMTOOL" set-speed jmb-lin 1Q
	[ "$status" -eq 2 ]
}

@test "dmtool watch prints one line per event as it happens and exits 0 on SIGINT" {
	"$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --paused
	# A /dev/mapper path names the device as well as its name does.
	[ "$("$DMTOOL" status /dev/mapper/jmb-d --json | jq -r '.devices[0].name')" = jmb-d ]
	"$DMTOOL" watch /dev/mapper/jmb-d >"$BATS_TEST_TMPDIR/w" 3>&- &
	w=$!
	sleep 0.3
	"$DMTOOL" resume jmb-d
	"$DMTOOL" wait jmb-d --for ready --timeout 60
	sleep 0.5
	kill -INT $w
	rc=0
	wait $w || rc=$?
	[ "$rc" -eq 0 ]
	cat "$BATS_TEST_TMPDIR/w" >&2
	[[ "$(sed -n 1p "$BATS_TEST_TMPDIR/w")" =~ ^1\ jmb-d\ JOB_RESUMED\ state=(running|ready)\ iostatus=ok\ offset=[0-9]+\ len=524288$ ]]
	[[ "$(sed -n 2p "$BATS_TEST_TMPDIR/w")" =~ ^2\ jmb-d\ JOB_READY\ state=ready\ iostatus=ok\ offset=524288\ len=524288$ ]]
	[ "$(wc -l <"$BATS_TEST_TMPDIR/w")" -eq 2 ]
	run "$DMTOOL" watch jmb-nothere
	[ "$status" -eq 3 ]
}

@test "dmtool wait says each time the job stops, and a remove ends it with exit 3" {
	"$DMTOOL" create jmb-d --mode mirror --source /dev/ram0 --dest /dev/ram1 --speed 1M
	# --progress: a line a second says which state the waiter saw.
	"$DMTOOL" wait jmb-d --progress >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	"$DMTOOL" pause jmb-d
	wait_lines 'the job is paused' "$BATS_TEST_TMPDIR/err" 1
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "dmtool: wait jmb-d: the job is paused: waiting for dmtool resume jmb-d" ]
	n=$(grep -c '^jmb-d: running' "$BATS_TEST_TMPDIR/out") || true
	"$DMTOOL" resume jmb-d
	wait_lines '^jmb-d: running' "$BATS_TEST_TMPDIR/out" $((n + 1))
	"$DMTOOL" pause jmb-d
	wait_lines 'the job is paused' "$BATS_TEST_TMPDIR/err" 2
	# The device goes away under the waiters, one given its path.
	"$DMTOOL" wait /dev/mapper/jmb-d 2>"$BATS_TEST_TMPDIR/err2" 3>&- &
	pid2=$!
	wait_lines 'the job is paused' "$BATS_TEST_TMPDIR/err2" 1
	timeout 10 dmsetup remove jmb-d
	rc=0
	wait $pid || rc=$?
	[ "$rc" -eq 3 ]
	[ "$(tail -n 1 "$BATS_TEST_TMPDIR/err")" = "dmtool: wait jmb-d: no such device" ]
	rc=0
	wait $pid2 || rc=$?
	[ "$rc" -eq 3 ]
}

# slow_flush_job: jmb-d, a ready mirror of jmb-s (16 MiB of ram0) to
# jmb-t, whose flushes take 2 s: a complete waits that long at least.
slow_flush_job() {
	modprobe dm-delay
	linear_dev jmb-s /dev/ram0 32768
	cache_dev jmb-c1 17
	dmsetup create jmb-t --table \
		"0 32768 delay $CACHE_DEV 0 0 $CACHE_DEV 0 0 $CACHE_DEV 0 2000"
	"$DMTOOL" create jmb-d --mode mirror --source /dev/mapper/jmb-s --dest /dev/mapper/jmb-t
	"$DMTOOL" wait jmb-d --for ready --timeout 60
}

@test "dmtool wait and complete take a device another dmtool complete already pivoted as completed" {
	slow_flush_job
	for waiter in "wait jmb-d --for done" "complete jmb-d"; do
		# The waiter sleeps in the event wait; stopped, it sees the job only
		# after another dmtool complete reloaded the device as linear.
		"$DMTOOL" $waiter >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
		pid=$!
		sleep 0.5
		kill -STOP $pid
		# The stopped complete sent its message: the other one only reloads.
		[ "$waiter" = "wait jmb-d --for done" ] || wait_state jmb-d completed 30
		"$DMTOOL" complete jmb-d
		[ "$(dmsetup table jmb-d | cut -d' ' -f3)" = linear ]
		kill -CONT $pid
		rc=0
		wait $pid || rc=$?
		cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" >&2
		[ "$rc" -eq 0 ]
		[ ! -s "$BATS_TEST_TMPDIR/err" ]
		[ "$(sum_dev /dev/mapper/jmb-d 16)" = "$(sum_dev /dev/ram0 16)" ]
		[ "$waiter" = "wait jmb-d --for done" ] || break
		# Again, for the second waiter.
		dmsetup remove jmb-d
		"$DMTOOL" create jmb-d --mode mirror --source /dev/mapper/jmb-s \
			--dest /dev/mapper/jmb-t
		"$DMTOOL" wait jmb-d --for ready --timeout 60
	done
	grep -q "already reloaded as linear" "$BATS_TEST_TMPDIR/out"
}

@test "dmtool complete leaves alone a device whose table another job took while it waited" {
	slow_flush_job
	"$DMTOOL" complete jmb-d >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	sleep 0.5
	kill -STOP $pid
	# Meanwhile another job, on another dest, takes the device; its resume
	# is an event that wakes the waiter.
	dmsetup reload jmb-d --table "0 32768 jobmirror mirror /dev/mapper/jmb-s /dev/ram2 - 128 1 start_paused"
	dmsetup resume jmb-d
	kill -CONT $pid
	dmsetup message jmb-d 0 resume
	rc=0
	wait_gone $pid 20 || rc=$?
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" >&2
	[ "$rc" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "dmtool: complete jmb-d: its table was replaced meanwhile; nothing changed" ]
	# The other job's table is untouched.
	[ "$(dmsetup table jmb-d | cut -d' ' -f3,4,6)" = "jobmirror mirror 1:2" ]
}

@test "dmtool complete sends complete again to the job a reload of the same table started again" {
	slow_flush_job
	"$DMTOOL" complete jmb-d >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	for ((i = 0; i < 100; i++)); do
		grep -q "complete sent" "$BATS_TEST_TMPDIR/out" && break
		sleep 0.1
	done
	# The dest's flush for the pivot takes 2 s.  Meanwhile the same table
	# is loaded again: its job copies from scratch, and is ready with no
	# complete of its own.
	dmsetup reload jmb-d --table "$(dmsetup table jmb-d)"
	dmsetup resume jmb-d
	rc=0
	wait_gone $pid 40 || rc=$?
	kill $pid 2>/dev/null || :
	cat "$BATS_TEST_TMPDIR/out" "$BATS_TEST_TMPDIR/err" >&2
	[ "$rc" -eq 0 ]
	[ ! -s "$BATS_TEST_TMPDIR/err" ]
	grep -qx "jmb-d: the job was started again by a table reload: complete sent again" \
		"$BATS_TEST_TMPDIR/out"
	[ "$(dmsetup table jmb-d | cut -d' ' -f3,4)" = \
		"linear $(dmsetup info -c --noheadings -o major,minor --separator : jmb-t)" ]
	[ "$(sum_dev /dev/mapper/jmb-d 16)" = "$(sum_dev /dev/mapper/jmb-s 16)" ]
}

@test "dmtool complete does not reload while user writes are held, and keeps a read-only device read-only" {
	paths_setup
	"$DMTOOL" create jmb-d --mode mirror --source /dev/mapper/jmb-src \
		--dest /dev/mapper/jmb-dst --werror stop
	"$DMTOOL" wait jmb-d --for ready --timeout 60
	dmsetup message jmb-d 0 complete
	wait_state jmb-d completed 30
	# The dest fails after the pivot: werror stop holds the write.
	fail_dev jmb-dst $PATH_LEN
	dd if=/dev/urandom of=/dev/mapper/jmb-d bs=4k count=1 oflag=direct status=none &
	writer=$!
	wait_io jmb-d stopped
	run "$DMTOOL" complete jmb-d
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "dmtool: complete jmb-d: user I/O is stopped with 1 bios held; the reload would fail them: fix /dev/mapper/jmb-dst (and run dmtool continue jmb-d if io is stopped), then run dmtool complete jmb-d again" ]
	[[ "$(dmsetup table jmb-d)" == *" jobmirror mirror "* ]]
	kill -0 $writer
	heal_dev jmb-dst /dev/ram1 $PATH_LEN
	"$DMTOOL" continue jmb-d
	wait $writer
	run "$DMTOOL" complete jmb-d
	[ "$status" -eq 0 ]
	dst=$(dmsetup info -c --noheadings -o major,minor --separator : jmb-dst)
	[ "$(dmsetup table jmb-d)" = "0 $PATH_LEN linear ${dst// /} 0" ]
	dmsetup remove jmb-d

	# A read-only device stays read-only once linear.
	dmsetup create jmb-ro --readonly --table "0 65536 jobmirror mirror /dev/ram3 /dev/ram4 - 128"
	"$DMTOOL" wait jmb-ro --for ready --timeout 60
	"$DMTOOL" complete jmb-ro
	[ "$(dmsetup table jmb-ro)" = "0 65536 linear 1:4 0" ]
	[ "$(blockdev --getro /dev/mapper/jmb-ro)" = 1 ]
}

# dm_attr NAME: dmsetup's attribute letters for NAME: L live table,
# I inactive table, s suspended, w writable (e.g. "LIsw").
dm_attr() { dmsetup info -c --noheadings -o attr "$1" | tr -d ' '; }

@test "dmtool complete says what a failed suspend or resume left, and its advice works" {
	dmsetup create jmb-d --table "0 65536 jobmirror mirror /dev/ram0 /dev/ram1 - 128"
	"$DMTOOL" wait jmb-d --for ready --timeout 60
	want=$(sum_dev /dev/mapper/jmb-d 32)
	[ "$(dm_attr jmb-d)" = L--w ]

	# Suspend fails, and so does the clear of the linear table.
	run jmfail JM_FAIL=suspend,clear "$DMTOOL" complete jmb-d
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "dmtool: complete jmb-d: cannot suspend to switch to linear: Input/output error; the linear table is still loaded: run dmsetup clear jmb-d" ]
	[ "$(dm_attr jmb-d)" = LI-w ]
	[ "$(dmsetup table --inactive jmb-d)" = "0 65536 linear 1:1 0" ]
	[[ "$(dmsetup table jmb-d)" == "0 65536 jobmirror mirror 1:0 1:1 "* ]]
	[ "$(status_word jmb-d 2)" = completed ]
	dmsetup clear jmb-d
	[ -z "$(dmsetup table --inactive jmb-d)" ]

	# Suspend fails, the clear works: nothing changed.
	run jmfail JM_FAIL=suspend "$DMTOOL" complete jmb-d
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "dmtool: complete jmb-d: cannot suspend to switch to linear: Input/output error; the linear table was dropped, nothing changed" ]
	[ "$(dm_attr jmb-d)" = L--w ]
	[ -z "$(dmsetup table --inactive jmb-d)" ]
	[[ "$(dmsetup table jmb-d)" == "0 65536 jobmirror mirror 1:0 1:1 "* ]]
	[ "$(sum_dev /dev/mapper/jmb-d 32)" = "$want" ]

	# Resume fails: left suspended with the linear table ready.
	run jmfail JM_FAIL=resume JM_FAIL_ERRNO=22 "$DMTOOL" complete jmb-d
	[ "$status" -eq 1 ]
	[ "${lines[-1]}" = "dmtool: complete jmb-d: cannot resume with the linear table: Invalid argument; jmb-d is left suspended: run dmsetup resume jmb-d" ]
	[ "$(dm_attr jmb-d)" = LIsw ]
	[ "$(dmsetup table --inactive jmb-d)" = "0 65536 linear 1:1 0" ]
	dmsetup resume jmb-d
	[ "$(dm_attr jmb-d)" = L--w ]
	[ "$(dmsetup table jmb-d)" = "0 65536 linear 1:1 0" ]
	[ "$(sum_dev /dev/mapper/jmb-d 32)" = "$want" ]
}
