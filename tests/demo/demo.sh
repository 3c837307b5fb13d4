#!/bin/bash
# The live demo, run inside a test guest by "make demo": move a mounted
# ext4 file system from one disk to another while a writer keeps writing,
# then pivot onto the new disk and prove every file is intact.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
dmtool=$build/dmtool/dmtool
export DM_DISABLE_UDEV=1

step() { printf '\n=== %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

modprobe dm_mod
modprobe libcrc32c
modprobe brd rd_nr=2 rd_size=524288
insmod "$build/$(uname -r)/kernel/dm-jobmirror.ko"
old=/dev/ram0 new=/dev/ram1
sectors=$(blockdev --getsz $old)

step "1. A disk in use: 'vm-disk' maps the old storage ($old, 512 MiB) with ext4 and files on it"
run dmsetup create vm-disk --table "0 $sectors linear $old 0"
mkfs.ext4 -q /dev/mapper/vm-disk
mkdir -p /mnt/vm
mount /dev/mapper/vm-disk /mnt/vm
for i in $(seq 1 40); do head -c 2M /dev/urandom >/mnt/vm/file$i; done
cp -a "$top/kernel" /mnt/vm/sources
sync
echo "40 files of 2 MiB and a copy of the module's sources: $(du -sh /mnt/vm | cut -f1) used"

step "2. An application keeps writing to it (a log file, appended and fsync'd)"
( i=0; while :; do i=$((i + 1)); echo "record $i $(date +%s.%N)" >>/mnt/vm/app.log; sync /mnt/vm/app.log; sleep 0.05; done ) &
writer=$!
sleep 1
echo "writer running, pid $writer"

step "3. Insert the mirror job live: reload vm-disk as jobmirror (the file system stays mounted)"
run dmsetup reload vm-disk --table "0 $sectors jobmirror mirror $old $new - 128 2 speed 67108864"
run dmsetup suspend vm-disk
run dmsetup resume vm-disk
run "$dmtool" status vm-disk

step "4. Watch the copy until it is ready (rate limited to 64 MiB/s)"
run "$dmtool" wait vm-disk --for ready --progress --timeout 300

step "5. Complete: pivot all I/O onto the new disk, then reload as plain linear on it"
run "$dmtool" complete vm-disk
run dmsetup table vm-disk
sleep 1
kill $writer
wait $writer 2>/dev/null || true

step "6. Prove it: checksums through the pivoted device, then the new disk alone"
(cd /mnt/vm && find . -type f ! -name app.log | sort | xargs sha256sum) >/tmp/sums
records=$(wc -l </mnt/vm/app.log)
umount /mnt/vm
run dmsetup remove vm-disk
run fsck.ext4 -n -f $new
mount -o ro $new /mnt/vm
(cd /mnt/vm && sha256sum --quiet -c /tmp/sums) && echo "all $(wc -l </tmp/sums) files match their checksums on $new"
last=$(tail -n 1 /mnt/vm/app.log)
echo "app.log on $new has $(wc -l </mnt/vm/app.log) of $records records, none lost; the last: $last"
[ "$(wc -l </mnt/vm/app.log)" -eq "$records" ]
umount /mnt/vm
step "Done: the file system moved from $old to $new while in use."
