#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# The module loads, registers its target, unloads cleanly and refuses to
# unload while a device uses it.

load helpers

@test "the module registers the jobmirror target with its version" {
	run dmsetup targets
	[ "$status" -eq 0 ]
	[[ "$output" =~ jobmirror\ +v0\.4\.0 ]]
}

@test "the module unloads cleanly and loads again" {
	rmmod dm_jobmirror
	run dmsetup targets
	[[ "$output" != *jobmirror* ]]
	insmod "$JM_MODULE"
	run dmsetup targets
	[[ "$output" == *jobmirror* ]]
	run log_since_start
	[[ "$output" != *WARNING* && "$output" != *BUG* ]]
}

@test "unloading is refused while a jobmirror device exists" {
	jm_create jmb-mod 2048 mirror /dev/ram0 /dev/ram1 - 128
	run rmmod dm_jobmirror
	[ "$status" -ne 0 ]
	grep -q '^dm_jobmirror ' /proc/modules
	dmsetup remove jmb-mod
	rmmod dm_jobmirror
	insmod "$JM_MODULE"
}

@test "modinfo describes the module and its license" {
	run modinfo "$JM_MODULE"
	[ "$status" -eq 0 ]
	[[ "$output" == *"license:"*GPL* ]]
	[[ "$output" == *"description:"*"mirrors or streams a live block device"* ]]
}

@test "create and remove many devices leaves no module reference behind" {
	for i in 1 2 3 4 5; do
		jm_create jmb-many-$i 2048 mirror /dev/ram0 /dev/ram1 - 8
	done
	for i in 1 2 3 4 5; do
		dmsetup remove jmb-many-$i
	done
	[ "$(awk '$1 == "dm_jobmirror" { print $3 }' /proc/modules)" -eq 0 ]
}
