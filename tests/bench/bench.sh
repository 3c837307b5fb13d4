#!/bin/bash
# The benchmark behind "make bench", run inside one test guest so that
# every number in a ratio is measured side by side on the same brd
# devices: copy throughput (jobmirror vs dd vs dm-raid1 resync), 4 KiB
# random IOPS through jobmirror in ready vs dm-linear, achieved rate vs
# the speed limit.  Writes the table to /results/bench.txt.
set -euo pipefail
build=$1
dmtool=$build/dmtool/dmtool
export DM_DISABLE_UDEV=1
MB=${JM_BENCH_MB:-512}
sectors=$((MB * 2048))
out=/results/bench.txt
rounds=3

modprobe dm_mod
modprobe dm_mirror
modprobe brd rd_nr=2 rd_size=$((MB * 1024))
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

# IOPS: jobmirror in ready vs dm-linear on the source, alternated.
iops() {
	fio --name=iops --filename="$1" --rw="$2" --bs=4k --direct=1 --ioengine=libaio \
		--iodepth=32 --runtime=5 --time_based --size=256M --randrepeat=0 \
		--output-format=terse --terse-version=3 |
		awk -F';' -v rw="$2" '{ print (rw == "randread") ? $8 : $49 }'
}
dmsetup create jmb-bench --table "0 $sectors jobmirror mirror $src $dst - 128"
"$dmtool" wait jmb-bench --for ready --timeout 600 >/dev/null
dmsetup create jmb-linear --table "0 $sectors linear $src 0"
dmsetup create jmb-raid1 --table "0 $sectors mirror core 2 1024 nosync 2 $src 0 $dst 0"
declare -A io
for rw in randread randwrite; do
	a="" b=""
	for ((i = 1; i <= rounds; i++)); do
		a+="$(iops /dev/mapper/jmb-bench $rw) "
		b+="$(iops /dev/mapper/jmb-linear $rw) "
	done
	io[jm-$rw]=$(echo $a | tr ' ' '\n' | median)
	io[lin-$rw]=$(echo $b | tr ' ' '\n' | median)
	log "$rw jobmirror: $a linear: $b"
done
# Writes in ready go to both devices: dm-raid1 in sync does the same work.
c=""
for ((i = 1; i <= rounds; i++)); do
	c+="$(iops /dev/mapper/jmb-raid1 randwrite) "
done
io[raid1-randwrite]=$(echo $c | tr ' ' '\n' | median)
dmsetup remove jmb-bench
dmsetup remove jmb-linear
dmsetup remove jmb-raid1

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
{
	echo "dm-jobmirror benchmark: kernel $(uname -r), brd ${MB} MiB, qemu ${JM_QEMU_ACCEL:-tcg}, median of $rounds"
	printf '%-40s %12s %12s %7s  %s\n' "measure" "jobmirror" "baseline" "ratio" "goal"
	printf '%-40s %12s %12s %7s  %s\n' "copy MiB/s vs dd bs=1M direct" "${copy[jobmirror]}" \
		"${copy[dd]}" "$(ratio "${copy[jobmirror]}" "${copy[dd]}")" ">= 1.0"
	printf '%-40s %12s %12s %7s  %s\n' "copy MiB/s vs dm-raid1 resync (core log)" \
		"${copy[jobmirror]}" "${copy[raid1]}" "$(ratio "${copy[jobmirror]}" "${copy[raid1]}")" ">= 1.0"
	printf '%-40s %12s %12s %7s  %s\n' "4k randread IOPS, ready vs dm-linear" "${io[jm-randread]}" \
		"${io[lin-randread]}" "$(ratio "${io[jm-randread]}" "${io[lin-randread]}")" ">= 0.95"
	printf '%-40s %12s %12s %7s  %s\n' "4k randwrite IOPS, ready vs dm-linear" "${io[jm-randwrite]}" \
		"${io[lin-randwrite]}" "$(ratio "${io[jm-randwrite]}" "${io[lin-randwrite]}")" ">= 0.95"
	printf '%-40s %12s %12s %7s  %s\n' "4k randwrite IOPS, ready vs dm-raid1" "${io[jm-randwrite]}" \
		"${io[raid1-randwrite]}" "$(ratio "${io[jm-randwrite]}" "${io[raid1-randwrite]}")" \
		"(reference: both write two devices)"
	printf '%-40s %12s %12s %7s  %s\n' "rate MiB/s vs speed 32 MiB/s" "$rate" "32.0" \
		"$(ratio "$rate" 32)" "within 5%"
} | tee "$out"
