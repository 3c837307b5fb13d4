#!/bin/bash
# run.sh [-t SECS] [-m MEM] [-l] KVER OUTDIR COMMAND...
#
# Boot Debian kernel KVER under qemu (TCG unless JM_QEMU_ACCEL says
# otherwise; CPU model max without ERMS/FSRM unless JM_QEMU_CPU says
# otherwise), run COMMAND as root inside it with the host's root file
# system (read-only, with a tmpfs overlay) and OUTDIR mounted at /results,
# and exit with COMMAND's status.  The serial log is kept in
# OUTDIR/serial.log.  A guest that does not finish within SECS seconds is
# killed, and a guest that panics, oopses or times out is a failure
# (exit 124 for a timeout, 125 for a guest that died without a status).
# -l shows the guest's console live as well (quiet kernel), for demos.
# JM_QEMU_SMP sets the guest's CPUs (2 unless set).
# JM_KERNEL_ARGS adds to the guest kernel's command line, e.g.
# "slub_debug=FZPU page_poison=1" to have the slab allocator check every
# object for overruns, double frees and writes after free.
set -uo pipefail
timeout=600 mem=3G live=0
while getopts t:m:l o; do
	case $o in
	t) timeout=$OPTARG ;;
	m) mem=$OPTARG ;;
	l) live=1 ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -ge 3 ] || { echo "usage: run.sh [-t SECS] [-m MEM] KVER OUTDIR COMMAND..." >&2; exit 2; }
kver=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
build=${O:-$(cd "$here/../.." && pwd)/build}
kernel=/boot/vmlinuz-$kver
[ -r "$kernel" ] || { echo "run.sh: no kernel image $kernel: run 'make deps'" >&2; exit 2; }

initrd=$build/vm/$kver/initramfs.cpio.gz
mkdir -p "$(dirname "$initrd")" "$out"
if [ ! -s "$initrd" ] || [ "$here/init" -nt "$initrd" ] || [ "$here/mkinitramfs.sh" -nt "$initrd" ]; then
	"$here/mkinitramfs.sh" "$kver" "$initrd" || exit 2
fi

out=$(cd "$out" && pwd)
rm -f "$out/rc" "$out/serial.log"
{
	echo "cd $(printf '%q' "$PWD") || exit 2"
	printf '%q ' "$@"
	echo
} >"$out/cmd"

serial=(-serial "file:$out/serial.log")
loglevel=5
if [ $live -eq 1 ]; then
	serial=(-chardev "stdio,id=con,logfile=$out/serial.log,signal=off" -serial chardev:con)
	loglevel=1
fi
accel=${JM_QEMU_ACCEL:-tcg}
# Without ERMS and FSRM the guest's kernel and libc copy memory with
# plain moves, not "rep movsb", which TCG runs slowly: measured in a 6.1
# guest, reading 64 MiB of a RAM disk through md5sum took 0.3 s instead
# of 0.8 s.  JM_QEMU_CPU=max gives the full model.
cpu=max,-erms,-fsrm
[ "$accel" = kvm ] && cpu=host
cpu=${JM_QEMU_CPU:-$cpu}
# norandmaps: TCG finds code it translated before by its virtual address
# too, so a program mapped at new random addresses is translated all over
# again each time it runs.  Without randomization, measured in a 6.12
# guest, 100 runs of /bin/true took 1.9 s instead of 4.1 s, and of
# "dmsetup version" 4.4 s instead of 8.0 s; the suites run hundreds of
# such short programs.
timeout --kill-after=10 "$timeout" qemu-system-x86_64 \
	-accel "$accel" -cpu "$cpu" -smp "${JM_QEMU_SMP:-2}" -m "$mem" \
	-nodefaults -no-reboot -display none -monitor none \
	"${serial[@]}" \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 loglevel=$loglevel panic=-1 oops=panic norandmaps rdinit=/init ${JM_KERNEL_ARGS:-}" \
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
	-virtfs "local,path=$out,mount_tag=results,security_model=none,multidevs=remap" \
	</dev/null
qrc=$?
if [ $qrc -eq 124 ] || [ $qrc -eq 137 ]; then
	echo "run.sh: $kver: guest timed out after ${timeout}s; serial log: $out/serial.log" >&2
	exit 124
fi
# "BUG <cache> (Not tainted): ..." is how slub_debug reports a damaged
# object.
problem='Kernel panic|BUG:|BUG [^ ]+ \((Not t|T)ainted\)|Oops|WARNING: CPU|general protection fault|KASAN|UBSAN|hung_task|blocked for more than'
if grep -qE "$problem" "$out/serial.log"; then
	echo "run.sh: $kver: kernel reported a problem; serial log: $out/serial.log" >&2
	grep -m5 -E "$problem" "$out/serial.log" >&2
	exit 125
fi
if [ ! -s "$out/rc" ]; then
	echo "run.sh: $kver: guest ended without a status (qemu exit $qrc); serial log: $out/serial.log" >&2
	tail -n 20 "$out/serial.log" >&2
	exit 125
fi
exit "$(cat "$out/rc")"
