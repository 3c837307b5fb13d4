#!/bin/bash
# Install every Debian package that building, testing and the demo need.
# Quiet and quick when everything is already installed.
set -euo pipefail

packages=(
	# build: the module for both kernels, dmtool
	build-essential pkg-config sparse
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	libdevmapper-dev libudev-dev libsmartcols-dev libjson-c-dev
	# kselftest_harness.h and checkpatch.pl come from the kernel source
	linux-source xz-utils
	# the test guests
	qemu-system-x86 busybox-static cpio kmod
	# used inside the guests
	dmsetup udev util-linux e2fsprogs bats fio jq
	thin-provisioning-tools nbd-server nbd-client iproute2 procps
)

missing=()
for p in "${packages[@]}"; do
	case "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" in
	installed) ;;
	*) missing+=("$p") ;;
	esac
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
	tail -n 20 "$log" >&2
	rm -f "$log"
	echo "deps: apt-get failed" >&2
	exit 1
fi
rm -f "$log"
