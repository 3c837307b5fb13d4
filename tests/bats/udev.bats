#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0
# dmtool udev-event and udev/65-dm-jobmirror.rules: the event is logged and
# the hooks run in name order with the event's variables, bounded in time;
# end to end with systemd-udevd and a syslog daemon running in the guest.

load helpers

top=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)

setup() {
	jm_common_setup
	hooks=$BATS_TEST_TMPDIR/hooks
	out=$BATS_TEST_TMPDIR/hooks.out
	mkdir -p "$hooks"
}

teardown() {
	if [ -n "${UDEVD_STARTED:-}" ]; then
		udevadm settle --timeout 10
		udevadm control --exit 2>/dev/null
		# dmtool watch picks udevd's source while this socket exists.
		rm -f /run/udev/control /run/udev/rules.d/65-dm-jobmirror.rules
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
	[ "${lines[0]}" = "dmtool: udev-event: --hook-timeout wants 1 to 3600 seconds, not '0'" ]
	run event_env "$DMTOOL" udev-event --hooks-dir "$hooks" extra
	[ "$status" -eq 2 ]
	run event_env "$DMTOOL" udev-event --bogus
	[ "$status" -eq 2 ]
	[ ! -e "$out" ]
}

@test "with udevd and the rule installed, each event reaches the hooks once, in order, and syslog" {
	[ -x /lib/systemd/systemd-udevd ] || skip "systemd-udevd is not installed"
	busybox syslogd -n -O "$BATS_TEST_TMPDIR/syslog" &
	SYSLOGD_PID=$!
	for i in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
	[ -S /dev/log ]
	mkdir -p /run/udev/rules.d
	sed "s|@DMTOOL@|$DMTOOL|; s|udev-event\"|udev-event --hooks-dir $hooks\"|" \
		"$top/udev/65-dm-jobmirror.rules" >/run/udev/rules.d/65-dm-jobmirror.rules
	grep -q "RUN+=\"$DMTOOL udev-event --hooks-dir $hooks\"" /run/udev/rules.d/65-dm-jobmirror.rules
	/lib/systemd/systemd-udevd --daemon --resolve-names=never
	UDEVD_STARTED=1
	udevadm control --ping --timeout 10
	hook 10-record

	jm_create jmb-u 65536 mirror /dev/ram0 /dev/ram1 - 128 2 speed 4194304
	"$DMTOOL" pause jmb-u
	wait_state jmb-u paused
	"$DMTOOL" resume jmb-u
	"$DMTOOL" set-speed jmb-u 0
	"$DMTOOL" wait jmb-u --for ready --timeout 60
	seq=$(status_word jmb-u 10)
	udevadm settle --timeout 30

	# One line per event, seq 1..N without gaps, the states as sent.
	[ "$(awk '{ print $2 }' "$out" | tr '\n' ' ')" = "$(seq -s ' ' 1 "$seq") " ]
	[ "$(awk '{ print $3 }' "$out" | tr '\n' ' ')" = "JOB_PAUSED JOB_RESUMED JOB_READY " ]
	grep -q "^10-record $seq JOB_READY jmb-u ready$" "$out"
	grep -q "^10-record 1 JOB_PAUSED jmb-u paused$" "$out"
	# And each event's line in syslog.
	for i in $(seq 1 "$seq"); do
		grep -q "dmtool\[[0-9]*\]: jobmirror event $i jmb-u " "$BATS_TEST_TMPDIR/syslog"
	done
	grep -q "jobmirror event $seq jmb-u JOB_READY state=ready iostatus=ok" "$BATS_TEST_TMPDIR/syslog"
}
