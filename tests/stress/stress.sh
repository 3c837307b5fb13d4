#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# stress.sh BUILD SECONDS SEED POLICY SPEED complete|crash
#
# The random stress behind "make stress", run inside a test guest.  A
# 64 MiB mirror with a metadata device (jmst-src, jmst-dst, jmst-meta:
# linear over ram0, ram1, ram2) serves an fio load that verifies what it
# wrote (crc32c) while, for SECONDS, random actions hit it: pause,
# resume, suspend and resume, a reload of the same table, set_speed, and
# short outages of part of the source or dest or of the whole metadata
# device.  With the complete ending, one more action in the second half
# sends complete (and half the time pause at once) while the metadata
# device fails for up to 1.8 s: the pivot's commit and the one that takes
# its flag back may fail, and the job may complete before the random
# actions end.  The job runs
# with on_target_error POLICY and speed SPEED, and an I/O hang that rides
# out the source outages.  Then everything is healed and either
#  - complete: the job is brought to ready and completes (if it has not);
#    the dest must hold what the device held, and a table loaded again on
#    the metadata device must start completed; or
#  - crash: under the load, the three devices stop one after another in
#    a random order, copies of what they hold are taken (ram3), and a
#    mirror loaded on the copies must make the dest equal to the source.
# fio must find every block it wrote intact.  Prints "stress: ok" or
# "stress: FAILED: why" last; exits non-zero on failure.
set -u
build=$1 secs=$2 seed=$3 policy=$4 speed=$5 end_with=$6
RANDOM=$seed
LEN=131072	# 64 MiB
export DM_DISABLE_UDEV=1

modprobe dm_mod && modprobe libcrc32c && modprobe brd rd_nr=4 rd_size=262144 &&
	insmod "$build/$(uname -r)/kernel/dm-jobmirror.ko" || { echo "stress: FAILED: setup"; exit 1; }

fail() {
	echo "stress: FAILED: $*"
	dmesg | grep -E "jobmirror|WARNING|BUG" | tail -20 | sed 's/^/dmesg: /'
	exit 1
}
set_table() { dmsetup reload "$1" && dmsetup suspend "$1" && dmsetup resume "$1"; }
heal() { echo "0 $2 linear $3 0" | set_table "$1"; }
# break_range NAME DEV START COUNT: sectors START.. of NAME fail (EIO).
break_range() {
	printf '0 %d linear %s 0\n%d %d error\n%d %d linear %s %d\n' "$3" "$2" "$3" "$4" \
		$(($3 + $4)) $((LEN - $3 - $4)) "$2" $(($3 + $4)) | set_table "$1"
}
status() { dmsetup status "$1" | cut -d' ' -f4-; }
word() { local w; read -ra w < <(dmsetup status "$1"); echo "${w[$2 + 2]}"; }
# mib_diffs A B: how many MiB of the 64 MiB at A and B differ.
mib_diffs() {
	local r n=0
	for ((r = 0; r < 64; r++)); do
		[ "$(dd if="$1" bs=1M skip=$r count=1 iflag=direct status=none | md5sum)" = \
		  "$(dd if="$2" bs=1M skip=$r count=1 iflag=direct status=none | md5sum)" ] ||
			n=$((n + 1))
	done
	echo "$n MiB"
}

dd if=/dev/urandom of=/dev/ram0 bs=1M count=64 oflag=direct status=none
dmsetup create jmst-src --table "0 $LEN linear /dev/ram0 0"
dmsetup create jmst-dst --table "0 $LEN linear /dev/ram1 0"
dmsetup create jmst-meta --table "0 2048 linear /dev/ram2 0"
table="0 $LEN jobmirror mirror /dev/mapper/jmst-src /dev/mapper/jmst-dst /dev/mapper/jmst-meta 128"
table+=" 10 on_target_error $policy on_source_error ignore speed $speed"
table+=" io_hang_timeout 10 io_hang_interval 100"
dmsetup create jmst-m --table "$table" || fail "cannot create the mirror"

fio --name=v --filename=/dev/mapper/jmst-m --thread --direct=1 --ioengine=libaio --iodepth=8 \
	--rw=randwrite --bsrange=4k-64k --size=64M --time_based --runtime=$((secs + 30)) \
	--verify=crc32c --verify_backlog=512 --verify_fatal=1 --randseed="$seed" \
	--output=/tmp/fio.out >/dev/null 2>&1 &
fio=$!

stop=$((SECONDS + secs))
n=0
while [ $SECONDS -lt $stop ]; do
	n=$((n + 1))
	at=$(((RANDOM % 1000) * 128))
	# The job may complete: not in the first half, which is for the copy.
	nact=8
	[ "$end_with" = complete ] && [ $((stop - SECONDS)) -lt $((secs / 2)) ] && nact=9
	case $((RANDOM % nact)) in
	0) echo "[$n] pause: $(status jmst-m)"; dmsetup message jmst-m 0 pause 2>/dev/null ;;
	1) echo "[$n] resume: $(status jmst-m)"; dmsetup message jmst-m 0 resume 2>/dev/null ;;
	2) echo "[$n] suspend and resume"
	   dmsetup suspend jmst-m && sleep 0.$((RANDOM % 5)) && dmsetup resume jmst-m ;;
	3) echo "[$n] dest fails at $at"; break_range jmst-dst /dev/ram1 $at 64
	   sleep 0.$((RANDOM % 9)); heal jmst-dst $LEN /dev/ram1 ;;
	4) echo "[$n] metadata device fails"; echo "0 2048 error" | set_table jmst-meta
	   sleep 0.$((RANDOM % 9)); heal jmst-meta 2048 /dev/ram2 ;;
	5) echo "[$n] set_speed"; dmsetup message jmst-m 0 set_speed $(((RANDOM % 8) * 8388608)) ;;
	6) echo "[$n] reload of the same table"; echo "$table" | set_table jmst-m ;;
	7) echo "[$n] source fails at $at"; break_range jmst-src /dev/ram0 $at 64
	   sleep 0.$((RANDOM % 5)); heal jmst-src $LEN /dev/ram0 ;;
	8) echo "[$n] complete during a metadata outage: $(status jmst-m)"
	   echo "0 2048 error" | set_table jmst-meta
	   dmsetup message jmst-m 0 complete 2>/dev/null
	   [ $((RANDOM % 2)) = 0 ] && dmsetup message jmst-m 0 pause 2>/dev/null
	   sleep $((RANDOM % 2)).$((RANDOM % 9)); heal jmst-meta 2048 /dev/ram2 ;;
	esac
	sleep 0.$((RANDOM % 8))
done
kill -0 $fio 2>/dev/null || fail "fio ended early: $(grep -E 'err=|verify' /tmp/fio.out | head -3)"
echo "after $n actions: $(status jmst-m)"

if [ "$end_with" = crash ]; then
	# Writes made during a metadata outage may be missing from the bitmap
	# until a commit succeeds (documented): let the commits catch up.
	sleep 2
	order=(jmst-src jmst-dst jmst-meta)
	case $((RANDOM % 3)) in
	1) order=(jmst-dst jmst-meta jmst-src) ;;
	2) order=(jmst-meta jmst-src jmst-dst) ;;
	esac
	echo "crash: ${order[*]} stop in that order; $(status jmst-m)"
	for d in "${order[@]}"; do dmsetup suspend --noflush "$d"; done
	dd if=/dev/ram0 of=/dev/ram3 bs=1M count=64 iflag=direct oflag=direct status=none
	dd if=/dev/ram1 of=/dev/ram3 bs=1M count=64 seek=64 iflag=direct oflag=direct status=none
	dd if=/dev/ram2 of=/dev/ram3 bs=1M count=1 seek=128 iflag=direct oflag=direct status=none
	for d in jmst-meta jmst-dst jmst-src; do dmsetup resume "$d"; done
	kill $fio
	wait $fio
	dmsetup create jmst-cs --table "0 $LEN linear /dev/ram3 0"
	dmsetup create jmst-cd --table "0 $LEN linear /dev/ram3 $LEN"
	dmsetup create jmst-cmeta --table "0 2048 linear /dev/ram3 $((2 * LEN))"
	echo "crash images: source and dest differ in $(mib_diffs /dev/mapper/jmst-cs /dev/mapper/jmst-cd)"
	dmsetup create jmst-c --table "0 $LEN jobmirror mirror /dev/mapper/jmst-cs /dev/mapper/jmst-cd /dev/mapper/jmst-cmeta 128 1 start_paused" ||
		fail "cannot load a mirror on the crash images"
	echo "loaded after the crash: $(status jmst-c)"
	dmsetup message jmst-c 0 resume
	for ((i = 0; i < 600; i++)); do [ "$(word jmst-c 2)" = ready ] && break; sleep 0.1; done
	[ "$(word jmst-c 2)" = ready ] || fail "not ready after the crash: $(status jmst-c)"
	d=$(mib_diffs /dev/mapper/jmst-cs /dev/mapper/jmst-cd)
	[ "$d" = "0 MiB" ] || fail "after the crash the dest differs from the source in $d"
	echo "stress: ok"
	exit 0
fi

heal jmst-dst $LEN /dev/ram1
heal jmst-src $LEN /dev/ram0
heal jmst-meta 2048 /dev/ram2
kill $fio
wait $fio
rc=$?
grep -q "err= 0" /tmp/fio.out || fail "fio (exit $rc): $(grep -E 'err=|verify|bad' /tmp/fio.out | head -5)"
for ((i = 0; i < 600; i++)); do
	case "$(word jmst-m 2)" in
	ready | completed) break ;;
	paused | standby) dmsetup message jmst-m 0 resume ;;
	esac
	[ "$(word jmst-m 6)" = stopped ] && dmsetup message jmst-m 0 continue
	sleep 0.1
done
st=$(word jmst-m 2)
[ "$st" = ready ] || [ "$st" = completed ] || fail "not ready: $(status jmst-m)"
want=$(dd if=/dev/mapper/jmst-m bs=1M count=64 iflag=direct status=none | md5sum)
# A complete sent by the random actions may still be pending (EBUSY).
[ "$st" = ready ] && dmsetup message jmst-m 0 complete 2>/dev/null
for ((i = 0; i < 300; i++)); do [ "$(word jmst-m 2)" = completed ] && break; sleep 0.1; done
[ "$(word jmst-m 2)" = completed ] || fail "not completed: $(status jmst-m)"
[ "$(dd if=/dev/ram1 bs=1M count=64 iflag=direct status=none | md5sum)" = "$want" ] ||
	fail "the dest is not what the device held"
dmsetup remove jmst-m
dmsetup create jmst-m --table "$table" || fail "cannot load the table again"
[ "$(word jmst-m 2)" = completed ] || fail "loaded again, not completed: $(status jmst-m)"
echo "before the ending the job was $st; pivots whose flag stayed in doubt:" \
	"$(dmesg | grep -c 'metadata may still say completed'), flags taken back after that:" \
	"$(dmesg | grep -c 'metadata no longer says completed')"
echo "stress: ok"
