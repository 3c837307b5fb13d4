#!/bin/bash
# The benchmark behind "make bench", run inside one test guest so that
# every number in a ratio is measured side by side on the same devices:
# on brd, copy throughput (jobmirror vs dd vs dm-raid1 resync), 4 KiB
# random IOPS through jobmirror in ready vs dm-linear and the achieved
# rate vs the speed limit; on null_blk with a completion latency, the
# same IOPS.  For reference, random writes with a metadata device (write
# intent) against the same mirror without one.  Writes the table to /results/bench.txt.
set -euo pipefail
build=$1
dmtool=$build/dmtool/dmtool
export DM_DISABLE_UDEV=1
MB=${JM_BENCH_MB:-512}
sectors=$((MB * 2048))
out=/results/bench.txt
rounds=5

modprobe dm_mod
modprobe libcrc32c
modprobe dm_mirror
# ram2: the metadata device of the write-intent measure.
modprobe brd rd_nr=3 rd_size=$((MB * 1024))
insmod "$build/$(uname -r)/kernel/dm-jobmirror.ko"
src=/dev/ram0 dst=/dev/ram1

now() { date +%s.%N; }
mibps() { awk -v s="$1" -v e="$2" -v mb="$MB" 'BEGIN { printf "%.1f", mb / (e - s) }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

log() { echo "bench: $*" >&2; }

# Source full of data, dest pages allocated once (brd allocates on first
# write), so every method copies into the same, warm dest.
fio --name=fill --filename=$src --rw=write --bs=1M --size=${MB}M --direct=1 \
	--refill_buffers --ioengine=libaio --iodepth=4 >/dev/null
dd if=$src of=$dst bs=1M iflag=direct oflag=direct status=none

copy_dd() {
	local s e
	s=$(now)
	dd if=$src of=$dst bs=1M iflag=direct oflag=direct status=none
	e=$(now)
	mibps "$s" "$e"
}

copy_jobmirror() {
	local s e
	s=$(now)
	dmsetup create jmb-bench --table "0 $sectors jobmirror mirror $src $dst - 128"
	"$dmtool" wait jmb-bench --for ready --timeout 600 >/dev/null
	e=$(now)
	dmsetup remove jmb-bench
	mibps "$s" "$e"
}

copy_raid1() {
	local s e st
	s=$(now)
	dmsetup create jmb-raid1 --table "0 $sectors mirror core 1 1024 2 $src 0 $dst 0"
	while :; do
		st=$(dmsetup status jmb-raid1 | awk '{ print $7 }')
		[ "${st%/*}" = "${st#*/}" ] && break
		sleep 0.02
	done
	e=$(now)
	dmsetup remove jmb-raid1
	mibps "$s" "$e"
}

declare -A runs
for ((i = 1; i <= rounds; i++)); do
	for m in dd jobmirror raid1; do
		r=$(copy_$m)
		log "round $i $m $r MiB/s"
		runs[$m]+="$r "
	done
done
declare -A copy
for m in dd jobmirror raid1; do
	copy[$m]=$(echo ${runs[$m]} | tr ' ' '\n' | median)
done

# IOPS: jobmirror in ready vs dm-linear on the source, alternated, and
# dm-raid1 in sync for reference (its writes go to both devices too).
# Sets io[<label>-<measure>].  fio runs at queue depth $qd.
qd=32
iops() {
	fio --name=iops --filename="$1" --rw="$2" --bs=4k --direct=1 --ioengine=libaio \
		--iodepth=$qd --runtime=5 --time_based --size=256M --randrepeat=0 \
		--output-format=terse --terse-version=3 |
		awk -F';' -v rw="$2" '{ print (rw == "randread") ? $8 : $49 }'
}
declare -A io
iops_set() {
	local label=$1 s=$2 d=$3 len=$4 rw a b c i m
	dmsetup create jmb-bench --table "0 $len jobmirror mirror $s $d - 128"
	"$dmtool" wait jmb-bench --for ready --timeout 600 >/dev/null
	dmsetup create jmb-linear --table "0 $len linear $s 0"
	dmsetup create jmb-raid1 --table "0 $len mirror core 2 1024 nosync 2 $s 0 $d 0"
	for rw in randread randwrite; do
		a="" b=""
		for ((i = 1; i <= rounds; i++)); do
			a+="$(iops /dev/mapper/jmb-bench $rw) "
			b+="$(iops /dev/mapper/jmb-linear $rw) "
		done
		io[$label-jm-$rw]=$(echo $a | tr ' ' '\n' | median)
		io[$label-lin-$rw]=$(echo $b | tr ' ' '\n' | median)
		log "$label $rw jobmirror: $a linear: $b"
	done
	c=""
	for ((i = 1; i <= rounds; i++)); do
		c+="$(iops /dev/mapper/jmb-raid1 randwrite) "
	done
	io[$label-raid1-randwrite]=$(echo $c | tr ' ' '\n' | median)
	log "$label randwrite dm-raid1: $c"
	# On brd, two references for the write rows, each alternated with
	# dm-linear: the same mirror with its dest on dm-zero, which keeps
	# nothing (a dest that costs a bio but no data copy); then that
	# mirror after cancel, whose writes take the same map path to the
	# source alone.
	if [ "$label" = brd ]; then
		dmsetup create jmb-zero --table "0 $len zero"
		dmsetup create jmb-zdest --table "0 $len jobmirror mirror $s /dev/mapper/jmb-zero - 128"
		"$dmtool" wait jmb-zdest --for ready --timeout 600 >/dev/null
		for m in zero cancel; do
			if [ $m = cancel ]; then
				dmsetup message jmb-zdest 0 cancel
				for ((i = 0; i < 600; i++)); do
					[ "$(dmsetup status jmb-zdest | awk '{ print $5 }')" = cancelled ] && break
					sleep 0.1
				done
				[ "$i" -lt 600 ] || { log "jmb-zdest: cancel did not finish"; exit 1; }
			fi
			a="" b=""
			for ((i = 1; i <= rounds; i++)); do
				a+="$(iops /dev/mapper/jmb-zdest randwrite) "
				b+="$(iops /dev/mapper/jmb-linear randwrite) "
			done
			io[$label-$m-randwrite]=$(echo $a | tr ' ' '\n' | median)
			io[$label-${m}lin-randwrite]=$(echo $b | tr ' ' '\n' | median)
			log "$label randwrite $m: $a linear: $b"
		done
		dmsetup remove jmb-zdest
		dmsetup remove jmb-zero
	fi
	# The same mirror with a metadata device (write intent), alternated
	# with the one without.
	dd if=/dev/zero of=/dev/ram2 bs=4k count=1 oflag=direct status=none
	dmsetup create jmb-meta --table "0 $len jobmirror mirror $s $d /dev/ram2 128"
	"$dmtool" wait jmb-meta --for ready --timeout 600 >/dev/null
	a="" b=""
	for ((i = 1; i <= rounds; i++)); do
		a+="$(iops /dev/mapper/jmb-meta randwrite) "
		b+="$(iops /dev/mapper/jmb-bench randwrite) "
	done
	io[$label-meta-randwrite]=$(echo $a | tr ' ' '\n' | median)
	io[$label-nometa-randwrite]=$(echo $b | tr ' ' '\n' | median)
	log "$label randwrite with metadata: $a without: $b"
	dmsetup remove jmb-meta
	dmsetup remove jmb-bench
	dmsetup remove jmb-linear
	dmsetup remove jmb-raid1
}

# brd completes each bio in the task that submits it, copying the data
# with the CPU: IOPS are bound by CPU time per I/O, and a write in ready
# costs two copies where dm-linear costs one.
iops_set brd $src $dst $sectors

# null_blk with a completion latency (no data kept): the device, not the
# CPU, bounds IOPS, as with a SAN, a network disk or a thin pool on disks,
# and the two halves of a write in ready overlap.  A latency of L ms at
# queue depth $qd caps IOPS at qd * 1000 / L.  The shortest latency of 2,
# 4 and 8 ms at which the bare device writes at 90% of its cap or more is
# taken (8 ms if none is), so that a slow host's CPU does not bound the
# row; the table says how near dm-linear came to the cap.
nullb_load() {
	modprobe null_blk nr_devices=2 gb=1 queue_mode=2 irqmode=2 hw_queue_depth=64 \
		completion_nsec=$(($1 * 1000000))
}
for lat_ms in 2 4 8; do
	cap=$((qd * 1000 / lat_ms))
	nullb_load $lat_ms
	w=$(iops /dev/nullb0 randwrite)
	log "null_blk ${lat_ms} ms: bare device writes $w IOPS of $cap"
	if [ "$w" -ge $((cap * 9 / 10)) ] || [ $lat_ms -eq 8 ]; then
		break
	fi
	rmmod null_blk
done
iops_set nullb /dev/nullb0 /dev/nullb1 $((256 * 2048))
rmmod null_blk

# Achieved rate vs the limit, over 10 s.
limit=$((32 << 20))
dmsetup create jmb-rate --table "0 $sectors jobmirror mirror $src $dst - 128 2 speed $limit"
sleep 1
a=$(dmsetup status jmb-rate | awk '{ split($6, o, "/"); print o[1] }')
s=$(now)
sleep 10
b=$(dmsetup status jmb-rate | awk '{ split($6, o, "/"); print o[1] }')
e=$(now)
dmsetup remove jmb-rate
rate=$(awk -v a="$a" -v b="$b" -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", (b - a) / 2048 / (e - s) }')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
row() { printf '%-44s %10s %10s %6s  %s\n' "$1" "$2" "$3" "$(ratio "$2" "$3")" "$4"; }
iops_rows() {
	local l=$1
	row "4k randread IOPS, ready vs dm-linear" "${io[$l-jm-randread]}" \
		"${io[$l-lin-randread]}" ">= 0.95"
	row "4k randwrite IOPS, ready vs dm-linear" "${io[$l-jm-randwrite]}" \
		"${io[$l-lin-randwrite]}" ">= 0.95"
	row "4k randwrite IOPS, ready vs dm-raid1" "${io[$l-jm-randwrite]}" \
		"${io[$l-raid1-randwrite]}" "(reference: both write two devices)"
	row "4k randwrite IOPS, metadata dev vs none" "${io[$l-meta-randwrite]}" \
		"${io[$l-nometa-randwrite]}" "(reference: write intent)"
	if [ -n "${io[$l-zero-randwrite]:-}" ]; then
		row "4k randwrite IOPS, dm-zero dest vs dm-linear" "${io[$l-zero-randwrite]}" \
			"${io[$l-zerolin-randwrite]}" "(reference: a dest that keeps nothing)"
		row "4k randwrite IOPS, after cancel vs dm-linear" "${io[$l-cancel-randwrite]}" \
			"${io[$l-cancellin-randwrite]}" "(reference: to the source alone)"
	fi
}
{
	echo "dm-jobmirror benchmark: kernel $(uname -r), qemu ${JM_QEMU_ACCEL:-tcg}" \
		"(cpu $(grep -qw erms /proc/cpuinfo && echo with || echo without) ERMS)," \
		"median of $rounds"
	printf '%-44s %10s %10s %6s  %s\n' "measure" "jobmirror" "baseline" "ratio" "goal"
	echo "brd ${MB} MiB (RAM disk, CPU-bound)"
	row "copy MiB/s vs dd bs=1M direct" "${copy[jobmirror]}" "${copy[dd]}" ">= 1.0"
	row "copy MiB/s vs dm-raid1 resync (core log)" "${copy[jobmirror]}" "${copy[raid1]}" ">= 1.0"
	iops_rows brd
	row "rate MiB/s vs speed 32 MiB/s" "$rate" "32.0" "within 5%"
	# Device-bound only if dm-linear comes near what the latency allows
	# at queue depth $qd; on a slow host the CPU still counts.
	echo "null_blk, ${lat_ms} ms completion latency: dm-linear" \
		"writes at $(awk -v l="${io[nullb-lin-randwrite]}" -v c="$cap" \
		'BEGIN { printf "%d%%", 100 * l / c }') of the $cap IOPS it allows"
	iops_rows nullb
} | tee "$out"
