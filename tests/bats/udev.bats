#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# dmtool udev-event and udev/12-dm-jobmirror.rules: the event is logged and
# the hooks run in name order with the event's variables, bounded in time;
# end to end with "make install", systemd-udevd and a syslog daemon running
# in the guest.

load helpers

top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	jm_common_setup
	hooks=$BATS_TEST_TMPDIR/hooks
	out=$BATS_TEST_TMPDIR/hooks.out
	mkdir -p "$hooks"
}

teardown() {
	# A failed test may leave a writer held by werror stop.
	if dmsetup info jmb-src >/dev/null 2>&1; then
		heal_dev jmb-src /dev/ram0 $PATH_LEN
		dmsetup message jmb-u 0 continue 2>/dev/null
		[ -n "${writer:-}" ] && wait "$writer"
	fi
	if [ -n "${UDEVD_STARTED:-}" ]; then
		udevadm settle --timeout 10
		udevadm control --exit 2>/dev/null
		# dmtool watch picks udevd's source while this socket exists.
		rm -rf /run/udev/control /run/udev/rules.d /etc/dm-jobmirror
		rm -f "/lib/modules/$(uname -r)/updates/dm-jobmirror.ko"
	fi
	[ -n "${SYSLOGD_PID:-}" ] && kill "$SYSLOGD_PID" 2>/dev/null && rm -f /dev/log
	jm_common_teardown
}

# hook NAME: a hook that appends "NAME SEQ ARGS STATE" to $out.
hook() {
	printf '#!/bin/sh\necho "%s $DM_JOBMIRROR_SEQ $1 $2 $DM_JOBMIRROR_STATE" >>%s\n' \
		"$1" "$out" >"$hooks/$1"
	chmod +x "$hooks/$1"
}

# wait_line REGEX [SECONDS [FILE]]: until a line of FILE ($out, what the
# hooks wrote) matches.
wait_line() {
	wait_lines "$1" "${3:-$out}" 1 "${2:-10}"
}

# udev_start: "make install" as an admin would, but with dmtool under the
# test's directory, the rule in /run/udev/rules.d and only this kernel's
# module (no depmod: it takes half a minute under TCG); then a syslog
# daemon and udevd.  The hooks directory is the real one.
udev_start() {
	[ -x /lib/systemd/systemd-udevd ] || skip "systemd-udevd is not installed"
	# The rule as older versions named it: make install removes it.
	mkdir -p /run/udev/rules.d
	echo '# old' >/run/udev/rules.d/56-dm-jobmirror.rules
	make -s -C "$top" install PREFIX="$BATS_TEST_TMPDIR/usr" \
		UDEVRULESDIR=/run/udev/rules.d KVERS="$(uname -r)" DEPMOD=true >/dev/null
	modinfo -F name "/lib/modules/$(uname -r)/updates/dm-jobmirror.ko" | grep -qx dm_jobmirror
	grep -q "RUN+=\"$BATS_TEST_TMPDIR/usr/sbin/dmtool udev-event\"" \
		/run/udev/rules.d/12-dm-jobmirror.rules
	[ ! -e /run/udev/rules.d/56-dm-jobmirror.rules ]
	[ -x /etc/dm-jobmirror/hooks.d/50-log-errors.sample ]
	hooks=/etc/dm-jobmirror/hooks.d
	syslog=$BATS_TEST_TMPDIR/syslog
	busybox syslogd -n -O "$syslog" &
	SYSLOGD_PID=$!
	for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
	[ -S /dev/log ]
	/lib/systemd/systemd-udevd --daemon --resolve-names=never
	UDEVD_STARTED=1
	udevadm control --ping --timeout 10
}

# An IO_ERROR event as udev would pass it.
event_env() {
	env DM_TARGET=jobmirror DM_NAME=jmb-u DM_UUID= DM_JOBMIRROR_EVENT=IO_ERROR \
		DM_JOBMIRROR_SEQ=7 DM_JOBMIRROR_STATE=running DM_JOBMIRROR_IOSTATUS=ok \
		DM_JOBMIRROR_OFFSET=8 DM_JOBMIRROR_LEN=16 DM_JOBMIRROR_OPERATION=write \
		DM_JOBMIRROR_ACTION=report DM_JOBMIRROR_REASON=eio DM_JOBMIRROR_SECTOR=100 \
		DM_JOBMIRROR_SUPPRESSED=2 "$@"
}

@test "udev-event logs the event and runs the hooks in name order with its variables" {
	hook 20-b
	hook 10-a
	# Not hooks: a sample, a backup, a dot file, one not executable.
	hook 30.sample
	hook 40-c~
	hook .50-d
	hook 60-e && chmod -x "$hooks/60-e"
	run event_env "$DMTOOL" udev-event --hooks-dir "$hooks"
	[ "$status" -eq 0 ]
	[[ "$output" == *"jobmirror event 7 jmb-u IO_ERROR state=running iostatus=ok offset=8 len=16 operation=write action=report reason=eio sector=100 suppressed=2"* ]]
	[ "$(cat "$out")" = "10-a 7 IO_ERROR jmb-u running
20-b 7 IO_ERROR jmb-u running" ]
	# A device whose name the kernel could not get is still an event.
	rm "$out"
	run event_env DM_NAME= "$DMTOOL" udev-event --hooks-dir "$hooks"
	[ "$status" -eq 0 ]
	[ "$(head -1 "$out")" = "10-a 7 IO_ERROR  running" ]
	# No hooks directory is not an error: nothing to run.
	run event_env "$DMTOOL" udev-event --hooks-dir "$hooks/none"
	[ "$status" -eq 0 ]
}

@test "a failing hook and one over its time limit are logged, the rest still run, exit 1" {
	printf '#!/bin/sh\nexit 3\n' >"$hooks/10-fail"
	printf '#!/bin/sh\nsleep 300 &\necho $! >%s\nsleep 300\n' "$BATS_TEST_TMPDIR/child" \
		>"$hooks/20-slow"
	chmod +x "$hooks/10-fail" "$hooks/20-slow"
	hook 30-last
	start=$SECONDS
	run event_env "$DMTOOL" udev-event --hooks-dir "$hooks" --hook-timeout 1
	[ "$status" -eq 1 ]
	[ $((SECONDS - start)) -le 5 ]
	[[ "$output" == *"hook $hooks/10-fail: exit status 3"* ]]
	[[ "$output" == *"hook $hooks/20-slow: still running after 1 s, killed"* ]]
	[ "$(cat "$out")" = "30-last 7 IO_ERROR jmb-u running" ]
	# The hook's own children went with it.
	child=$(cat "$BATS_TEST_TMPDIR/child")
	sleep 0.2
	! kill -0 "$child" 2>/dev/null
}

@test "udev-event without a jobmirror event or with bad options exits 2 and runs nothing" {
	hook 10-a
	run env -u DM_JOBMIRROR_EVENT DM_TARGET=jobmirror DM_NAME=x "$DMTOOL" udev-event --hooks-dir "$hooks"
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: udev-event: no jobmirror event in the environment (DM_TARGET, DM_JOBMIRROR_EVENT, DM_NAME); the udev rule runs this" ]
	run event_env DM_TARGET=multipath "$DMTOOL" udev-event --hooks-dir "$hooks"
	[ "$status" -eq 2 ]
	run event_env "$DMTOOL" udev-event --hooks-dir "$hooks" --hook-timeout 0
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: udev-event: --hook-timeout wants 1 to 150 seconds, not '0'" ]
	run event_env "$DMTOOL" udev-event --hooks-dir "$hooks" --hook-timeout 151
	[ "$status" -eq 2 ]
	run event_env "$DMTOOL" udev-event --hooks-dir "$hooks" --hook-timeout
	[ "$status" -eq 2 ]
	[ "${lines[0]}" = "dmtool: udev-event: option '--hook-timeout' needs a value" ]
	run event_env "$DMTOOL" udev-event --hooks-dir "$hooks" extra
	[ "$status" -eq 2 ]
	run event_env "$DMTOOL" udev-event --bogus
	[ "$status" -eq 2 ]
	[ ! -e "$out" ]
}

@test "make install, udevd: each event reaches the hooks once, in order, and syslog; /dev/disk links stay" {
	udev_start
	hook 10-record
	# Created with udev synchronisation, as LVM and dmsetup do by default.
	env -u DM_DISABLE_UDEV dmsetup create jmb-u \
		--table "0 65536 jobmirror mirror /dev/ram0 /dev/ram1 - 128 2 speed 4194304"
	mkfs.ext4 -q /dev/mapper/jmb-u
	udevadm trigger --action=change "/sys/class/block/$(basename "$(readlink -f /dev/mapper/jmb-u)")"
	udevadm settle --timeout 30
	uuid=$(blkid -p -o value -s UUID /dev/mapper/jmb-u)
	[ -n "$uuid" ]
	[ -L "/dev/disk/by-uuid/$uuid" ]

	"$DMTOOL" pause jmb-u
	wait_state jmb-u paused
	"$DMTOOL" resume jmb-u
	"$DMTOOL" set-speed jmb-u 0
	"$DMTOOL" wait jmb-u --for ready --timeout 60
	seq=$(status_word jmb-u 10)
	wait_line "^10-record $seq JOB_READY jmb-u ready\$" 30
	udevadm settle --timeout 30

	# One line per event, seq 1..N without gaps, in order.
	[ "$(awk '{ print $2 }' "$out" | tr '\n' ' ')" = "$(seq -s ' ' 1 "$seq") " ]
	[ "$(awk '{ print $3 }' "$out" | tr '\n' ' ')" = "JOB_PAUSED JOB_RESUMED JOB_READY " ]
	# Each event's line in syslog (syslogd writes it in its own time).
	wait_line "jobmirror event $seq jmb-u JOB_READY" 10 "$syslog"
	for i in $(seq 1 "$seq"); do
		grep -q "dmtool\[[0-9]*\]: jobmirror event $i jmb-u " "$syslog"
	done
	grep -q "jobmirror event $seq jmb-u JOB_READY state=ready iostatus=ok" "$syslog"
	# The events did not drop the link to the file system.
	[ -L "/dev/disk/by-uuid/$uuid" ]
}

@test "an event while I/O is stopped runs the hooks at once: the rule does not probe the device" {
	udev_start
	# Debian's lvm2 rules probe a dm disk in 60-persistent-storage-dm.rules;
	# lvm2's own layout (Fedora, Arch, SUSE) does it in 13-dm-disk.rules.
	# Both skip the probe when DM_NOSCAN is set.  A stand-in for the latter:
	echo 'ACTION=="change", SUBSYSTEM=="block", KERNEL=="dm-[0-9]*", ENV{DM_NOSCAN}!="1", IMPORT{builtin}="blkid"' \
		>/run/udev/rules.d/13-jmtest-probe.rules
	udevadm control --reload
	hook 10-record
	cp "$hooks/50-log-errors.sample" "$hooks/50-log-errors"
	paths_setup
	# By number: udevd and libdevmapper (DM_DISABLE_UDEV) both manage
	# /dev/mapper here, and a name may be briefly missing.
	src=$(dmsetup info -c --noheadings -o major,minor jmb-src)
	dst=$(dmsetup info -c --noheadings -o major,minor jmb-dst)
	jm_create jmb-u $PATH_LEN mirror "$src" "$dst" - 128 2 werror stop
	"$DMTOOL" wait jmb-u --for ready --timeout 60
	wait_line "JOB_READY jmb-u ready\$" 30
	udevadm settle --timeout 30

	# Nothing cached: a probe of jmb-u would have to read it.
	echo 3 >/proc/sys/vm/drop_caches
	break_dev jmb-src /dev/ram0 $PATH_LEN $PATH_BAD $PATH_BADLEN
	head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/data"
	dd if="$BATS_TEST_TMPDIR/data" of=/dev/mapper/jmb-u bs=4k seek=$((PATH_BAD / 8)) \
		oflag=direct status=none &
	writer=$!
	wait_io jmb-u stopped
	# (The job fails too: it reads the region the write dirtied.)
	wait_line " IO_ERROR jmb-u " 10
	[ "$(status_word jmb-u 6)" = stopped ]
	kill -0 $writer
	# The sample hook, installed by its admin, logged it (it runs after
	# 10-record, and syslogd writes in its own time).
	wait_line "jobmirror-hook: jmb-u: IO_ERROR write eio state=" 10 "$syslog"
	[ "$(status_word jmb-u 6)" = stopped ]

	heal_dev jmb-src /dev/ram0 $PATH_LEN
	dmsetup message jmb-u 0 continue
	wait $writer
	wait_line "IO_CONTINUED jmb-u" 10
	[ "$(dd if=/dev/ram0 bs=4k skip=$((PATH_BAD / 8)) count=1 iflag=direct status=none | md5sum)" = \
	  "$(md5sum <"$BATS_TEST_TMPDIR/data")" ]
}
