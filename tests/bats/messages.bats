#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The status line and message parsing.

load helpers

setup() {
	jm_common_setup
	jm_create jmb-msg 131072 mirror /dev/ram0 /dev/ram1 - 128 3 speed 1048576 start_paused
}

@test "the status line has the contract's 12 fields" {
	run dmsetup status jmb-msg
	[ "$status" -eq 0 ]
	# start len target + 12 fields
	[ "$(echo "$output" | wc -w)" -eq 15 ]
	[ "$output" = "0 131072 jobmirror mirror paused 0/131072 1024/1024 ok running 0 1048576 0/0/0 0 - -" ]
}

@test "the region count rounds up for a partial last region" {
	jm_create jmb-odd 1000 mirror /dev/ram2 /dev/ram3 - 128 1 start_paused
	[ "$(status_word jmb-odd 3)" = "0/1000" ]
	[ "$(status_word jmb-odd 4)" = "8/8" ]
}

@test "an unknown message fails with EINVAL and one log line" {
	run dmsetup message jmb-msg 0 frobnicate
	[ "$status" -ne 0 ]
	[[ "$output" == *"Invalid argument"* ]]
	run log_since_start
	[[ "$output" == *"jobmirror: jmb-msg: unknown message 'frobnicate'"* ]]
}

@test "a message with the wrong number of words fails with EINVAL" {
	run dmsetup message jmb-msg 0 pause now
	[ "$status" -ne 0 ]
	[[ "$output" == *"Invalid argument"* ]]
	run dmsetup message jmb-msg 0 set_speed
	[ "$status" -ne 0 ]
	[[ "$output" == *"Invalid argument"* ]]
	run log_since_start
	[[ "$output" == *"message 'pause' takes 0 argument(s), not 1"* ]]
}

@test "messages not valid in the current state fail with EBUSY and a log line" {
	# paused: only resume, cancel and set_speed are valid
	for m in pause complete continue; do
		msg_fails jmb-msg "Device or resource busy" "$m"
	done
	run log_since_start
	# Each line says why.
	[[ "$output" == *"jmb-msg: message 'pause' is not valid in state paused, io running: valid in running, ready"* ]]
	[[ "$output" == *"jmb-msg: message 'complete' is not valid in state paused, io running: valid in ready, standby"* ]]
	[[ "$output" == *"jmb-msg: message 'continue' is not valid in state paused, io running: valid when io is stopped"* ]]
	[ "$(status_word jmb-msg 2)" = paused ]
}

@test "set_speed changes the speed in the status at once" {
	dmsetup message jmb-msg 0 set_speed 5000000
	[ "$(status_word jmb-msg 8)" = 5000000 ]
	dmsetup message jmb-msg 0 set_speed 0
	[ "$(status_word jmb-msg 8)" = 0 ]
}

@test "set_speed with a bad number fails with EINVAL and changes nothing" {
	for v in 10M -1 18446744073709551616 ""; do
		run dmsetup message jmb-msg 0 set_speed "$v"
		[ "$status" -ne 0 ]
	done
	[ "$(status_word jmb-msg 8)" = 1048576 ]
}
