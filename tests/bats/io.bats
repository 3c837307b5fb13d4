#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# Data written through a mirror device lands on the source: raw O_DIRECT
# writes, and an ext4 file system with files.

load helpers

@test "dd with O_DIRECT through the device lands on the source" {
	dd if=/dev/zero of=/dev/ram6 bs=1M count=32 oflag=direct status=none
	head -c 16M /dev/urandom >/tmp/jm-data
	jm_create jmb-dd 65536 mirror /dev/ram6 /dev/ram7 - 128
	dd if=/tmp/jm-data of=/dev/mapper/jmb-dd bs=1M seek=8 oflag=direct status=none
	want=$(sha256sum </tmp/jm-data)
	[ "$(dd if=/dev/mapper/jmb-dd bs=1M skip=8 count=16 iflag=direct status=none | sha256sum)" = "$want" ]
	[ "$(dd if=/dev/ram6 bs=1M skip=8 count=16 iflag=direct status=none | sha256sum)" = "$want" ]
	# What was not written is still zero on the source.
	[ "$(dd if=/dev/ram6 bs=1M count=8 iflag=direct status=none | tr -d '\0' | wc -c)" -eq 0 ]
}

@test "ext4 on the device: files round-trip and the source holds the file system" {
	jm_create jmb-ext4 262144 mirror /dev/ram6 /dev/ram7 - 128
	mkfs.ext4 -q -F /dev/mapper/jmb-ext4
	mkdir -p /tmp/jm-mnt
	mount /dev/mapper/jmb-ext4 /tmp/jm-mnt
	mkdir /tmp/jm-mnt/dir
	for i in $(seq 1 12); do
		head -c $((i * 300000)) /dev/urandom >/tmp/jm-mnt/dir/file$i
	done
	cp /tmp/jm-mnt/dir/file3 /tmp/jm-mnt/copy
	sync
	(cd /tmp/jm-mnt && find . -type f | sort | xargs sha256sum) >/tmp/jm-sums
	umount /tmp/jm-mnt

	# The device's whole content equals the source's first 128 MiB.
	[ "$(sha256sum </dev/mapper/jmb-ext4)" = "$(head -c $((262144 * 512)) /dev/ram6 | sha256sum)" ]
	run fsck.ext4 -n -f /dev/mapper/jmb-ext4
	[ "$status" -eq 0 ]

	# Without the target, the source alone holds the same files.
	dmsetup remove jmb-ext4
	mount -o ro /dev/ram6 /tmp/jm-mnt
	run sh -c 'cd /tmp/jm-mnt && sha256sum -c /tmp/jm-sums'
	umount /tmp/jm-mnt
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -c ': OK$')" -eq 13 ]
	run log_since_start
	[[ "$output" != *"EXT4-fs error"* ]]
}
