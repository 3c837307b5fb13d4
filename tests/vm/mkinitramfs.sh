#!/bin/bash
# mkinitramfs.sh KVER OUT.cpio.gz
#
# Build the test guest's initramfs: busybox-static, the modules that mount
# the host's root over virtio-9p with a tmpfs overlay (in the order modprobe
# gives, decompressed so busybox insmod can load them) and tests/vm/init.
set -euo pipefail
kver=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

mkdir -p "$work"/{bin,dev,proc,sys,newroot,lower,upper,results,modules}
cp /bin/busybox "$work/bin/busybox"
ln -s busybox "$work/bin/sh"
cp "$here/init" "$work/init"
chmod 755 "$work/init"

n=0
for m in virtio_pci 9pnet_virtio 9p overlay; do
	modprobe -S "$kver" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | awk '!seen[$0]++' | while read -r ko; do
	n=$((n + 1))
	dst=$work/modules/$(printf '%02d' "$n")-$(basename "${ko%%.ko*}").ko
	case "$ko" in
	*.xz) xz -dc "$ko" >"$dst" ;;
	*.zst) zstd -qdc "$ko" >"$dst" ;;
	*) cp "$ko" "$dst" ;;
	esac
done

(cd "$work" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
