#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# dmtool list and status on real devices, missing ones and other targets.

load helpers

@test "dmtool --help lists the commands and exits 0" {
	run "$DMTOOL" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"list [--json]"* && "$output" == *"status [NAME...] [--json]"* ]]
}

@test "dmtool usage errors exit 2 with a one-line reason" {
	run "$DMTOOL"
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: no command given" ]]
	run "$DMTOOL" frobnicate
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: unknown command 'frobnicate'" ]]
	run "$DMTOOL" list --bogus
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: list: unrecognized option '--bogus'" ]]
	run "$DMTOOL" list extra
	[ "$status" -eq 2 ]
	run "$DMTOOL" wait jmb-x --timeout
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: wait: option '--timeout' needs a value" ]]
	run "$DMTOOL" create jmb-x --mode
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: create: option '--mode' needs a value" ]]
	# Short options, alone or in a group: the one at fault is named.
	run "$DMTOOL" wait jmb-x -t
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: wait: option '-t' needs a value" ]]
	run "$DMTOOL" wait jmb-x -zp
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: wait: unrecognized option '-z'" ]]
	run "$DMTOOL" wait --progress -zp jmb-x
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: wait: unrecognized option '-z'" ]]
	# An option of wait given twice is refused, as for create.
	run "$DMTOOL" wait jmb-x --for ready --for done
	[ "$status" -eq 2 ]
	[ "$output" = "dmtool: wait: --for given twice" ]
	run "$DMTOOL" wait jmb-x -t 5 -t 6
	[ "$status" -eq 2 ]
	[ "$output" = "dmtool: wait: --timeout given twice" ]
	run "$DMTOOL" -xV
	[ "$status" -eq 2 ]
	[[ "${lines[0]}" == "dmtool: unrecognized option '-x'" ]]
	# One line, nothing after it (stderr too: run merges it).
	[ "$output" = "dmtool: unrecognized option '-x'" ]
	run "$DMTOOL" set-speed jmb-x fast
	[ "$status" -eq 2 ]
	[ "$output" = "dmtool: set-speed: 'fast' is not a rate (bytes/s, K/M/G suffixes)" ]
}

@test "dmtool list with no jobmirror device prints nothing" {
	dmsetup create jmb-lin --table "0 2048 linear /dev/ram3 0"
	run "$DMTOOL" list
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	run "$DMTOOL" list --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -c .)" = '{"devices":[]}' ]
}

@test "dmtool list shows jobmirror devices only, in name order" {
	dmsetup create jmb-lin --table "0 2048 linear /dev/ram3 0"
	jm_create jmb-b 131072 mirror /dev/ram0 /dev/ram1 - 128 1 start_paused
	jm_create jmb-a 2048 mirror /dev/ram2 /dev/ram4 - 8 1 start_paused
	run "$DMTOOL" list
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == NAME*MODE*STATE*PROGRESS*IOSTATUS*IO*SIZE*SOURCE*DEST ]]
	[[ "${lines[1]}" == jmb-a*mirror*paused*0.0%*ok*running*1.0\ MiB*/dev/ram2*/dev/ram4 ]]
	[[ "${lines[2]}" == jmb-b*mirror*paused*0.0%*ok*running*64.0\ MiB*/dev/ram0*/dev/ram1 ]]
	[ "${#lines[@]}" -eq 3 ]
	run "$DMTOOL" list --json
	[ "$(echo "$output" | jq -r '[.devices[].name] | join(",")')" = "jmb-a,jmb-b" ]
}

@test "dmtool status prints every field of a device" {
	jm_create jmb-st 131072 mirror /dev/ram0 /dev/ram1 - 128 5 speed 2097152 werror stop start_paused
	run "$DMTOOL" status jmb-st
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "jmb-st:" ]
	[[ "$output" == *"state"*"paused"* ]]
	[[ "$output" == *"progress"*"0.0% (0 B of 64.0 MiB)"* ]]
	[[ "$output" == *"dirty"*"1024 of 1024 regions of 64.0 KiB"* ]]
	[[ "$output" == *"speed"*"2.0 MiB/s"* ]]
	[[ "$output" == *"source"*"/dev/ram0"* && "$output" == *"dest"*"/dev/ram1"* ]]
	[[ "$output" == *"werror stop"* ]]
}

@test "dmtool status --json has the contract's keys with numbers as numbers" {
	dmsetup create jmb-lin --table "0 262144 linear /dev/ram3 0"
	# A metadata device is formatted only if its first 4 KiB are zero.
	dd if=/dev/zero of=/dev/ram2 bs=4k count=1 oflag=direct status=none
	jm_create jmb-js 131072 mirror /dev/ram0 /dev/mapper/jmb-lin /dev/ram2 128 2 io_hang_timeout 30
	run "$DMTOOL" status jmb-js --json
	[ "$status" -eq 0 ]
	# One jq for it all: each jq takes about 0.3 s to start in a TCG guest.
	v=$(echo "$output" | jq -r '.devices[0] |
		(["name", "mode", "state", "offset", "len", "progress", "dirty_regions",
		  "regions", "region_size", "iostatus", "io", "held", "speed", "errors",
		  "event_seq", "stop_reason", "job_error", "source", "dest", "metadata",
		  "on_source_error", "on_target_error", "rerror", "werror",
		  "io_hang_timeout", "io_hang_interval", "copy_mode"] - keys | join(",")),
		([.offset, .len, .region_size, .regions, .dirty_regions, .held, .speed,
		  .event_seq, .progress] | map(type) | unique | join(",")),
		(.errors | tojson),
		(.len, .region_size, .regions, .dest, .metadata, .werror, .io_hang_timeout,
		 .stop_reason | tostring)')
	mapfile -t f <<<"$v"
	echo "${f[@]}"
	# No key missing; the numbers are JSON numbers.
	[ "${f[0]}" = "" ]
	[ "${f[1]}" = number ]
	[ "${f[2]}" = '{"source":0,"dest":0,"io":0}' ]
	[ "${f[3]}" -eq $((131072 * 512)) ]
	[ "${f[4]}" -eq 65536 ]
	[ "${f[5]}" -eq 1024 ]
	[ "${f[6]}" = /dev/mapper/jmb-lin ]
	[ "${f[7]}" = /dev/ram2 ]
	[ "${f[8]}" = enospc ]
	[ "${f[9]}" -eq 30 ]
	[ "${f[10]}" = - ]
}

@test "dmtool finds a device of the longest name by its /dev/mapper path and shows its whole uuid" {
	local name uuid
	name=jmb-$(printf 'n%.0s' {1..123})	# 127 characters, the most dm allows
	uuid=$(printf 'u%.0s' {1..128})
	dmsetup create "$name" --uuid "$uuid" \
		--table "0 2048 jobmirror mirror /dev/ram2 /dev/ram4 - 8 1 start_paused"
	run "$DMTOOL" status --json "/dev/mapper/$name"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq -r '.devices[0].name')" = "$name" ]
	[ "$(echo "$output" | jq -r '.devices[0].uuid')" = "$uuid" ]
	run "$DMTOOL" resume "/dev/mapper/$name"
	[ "$status" -eq 0 ]
	[ "$(status_word "$name" 2)" != paused ]
}

@test "dmtool fails with exit 1 when its output cannot be written" {
	jm_create jmb-a 2048 mirror /dev/ram2 /dev/ram4 - 8 1 start_paused
	local cmd
	for cmd in list "list --json" "status jmb-a" "status --json jmb-a" --help; do
		run bash -c '"$0" $1 >/dev/full' "$DMTOOL" "$cmd"
		echo "dmtool $cmd: $status: $output"
		[ "$status" -eq 1 ]
		[[ "$output" == "dmtool: "*"cannot write the output: No space left on device" ]]
	done
	# watch stops at the first event it cannot write.
	"$DMTOOL" watch jmb-a >/dev/full 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	local w=$! i
	# Events until it stops: it may not listen yet when the first comes.
	for ((i = 0; i < 50; i++)); do
		kill -0 $w 2>/dev/null || break
		dmsetup message jmb-a 0 resume 2>/dev/null || true
		dmsetup message jmb-a 0 pause 2>/dev/null || true
		sleep 0.2
	done
	kill $w 2>/dev/null && false
	local rc=0
	wait $w || rc=$?
	[ "$rc" -eq 1 ]
	[ "$(cat "$BATS_TEST_TMPDIR/err")" = "dmtool: watch: cannot write the output: No space left on device" ]
}

@test "dmtool status of a missing device exits 3" {
	run "$DMTOOL" status jmb-nothere
	[ "$status" -eq 3 ]
	[ "$output" = "dmtool: status jmb-nothere: no such device" ]
	run "$DMTOOL" status jmb-nothere --json
	[ "$status" -eq 3 ]
	[[ "$output" != *"{"* ]]
}

@test "dmtool status of a device of another target exits 3" {
	dmsetup create jmb-lin --table "0 2048 linear /dev/ram3 0"
	run "$DMTOOL" status jmb-lin
	[ "$status" -eq 3 ]
	[ "$output" = "dmtool: status jmb-lin: not a jobmirror device" ]
}

@test "dmtool status of several devices reports each and fails for the missing one" {
	jm_create jmb-one 2048 mirror /dev/ram0 /dev/ram1 - 8
	run "$DMTOOL" status jmb-one jmb-nothere
	[ "$status" -eq 3 ]
	[[ "$output" == *"jmb-one:"* ]]
	[[ "$output" == *"dmtool: status jmb-nothere: no such device"* ]]
}

@test "dmtool status with no name shows every jobmirror device" {
	jm_create jmb-one 2048 mirror /dev/ram0 /dev/ram1 - 8
	jm_create jmb-two 2048 mirror /dev/ram2 /dev/ram3 - 8
	run "$DMTOOL" status --json
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | jq '.devices | length')" -eq 2 ]
}

@test "dmtool list and status fail on a jobmirror device they cannot read, and show the others" {
	dmsetup create jmb-a --table "0 65536 jobmirror mirror /dev/ram0 /dev/ram1 - 128"
	dmsetup create jmb-b --table "0 65536 jobmirror mirror /dev/ram3 /dev/ram4 - 128"
	"$DMTOOL" wait jmb-b --for ready --timeout 60
	for cmd in list status; do
		run jmfail JM_FAIL=status JM_FAIL_DEVICE=jmb-a "$DMTOOL" $cmd
		[ "$status" -eq 1 ]
		[ "${lines[0]}" = "dmtool: $cmd jmb-a: device-mapper: status ioctl on jmb-a failed: Input/output error (injected)" ]
		[[ "$output" == *jmb-b* ]]
		[ "$(grep -c jmb-a <<<"$output")" -eq 1 ]
		run jmfail JM_FAIL=table JM_FAIL_DEVICE=jmb-a "$DMTOOL" $cmd --json
		[ "$status" -eq 1 ]
		[ "$output" = "dmtool: $cmd jmb-a: device-mapper: table ioctl on jmb-a failed: Input/output error (injected)" ]
	done
	# By name, and by path: the one that can be read is still shown.
	run jmfail JM_FAIL=status JM_FAIL_DEVICE=jmb-a "$DMTOOL" status /dev/mapper/jmb-a jmb-b
	[ "$status" -eq 1 ]
	[ "${lines[0]}" = "dmtool: status /dev/mapper/jmb-a: device-mapper: status ioctl on jmb-a failed: Input/output error (injected)" ]
	[[ "$output" == *"jmb-b"* ]]
	[ "$(grep -c jmb-a <<<"$output")" -eq 1 ]
	# Without the fault both are read again.
	[ "$("$DMTOOL" list --json | jq -r '[.devices[].name] | join(" ")')" = "jmb-a jmb-b" ]
}
