#!/bin/sh
# Print the installed kernels (with headers) whose series is one of "$@",
# e.g. "6.1 6.12", one per line, oldest series first.
for series in "$@"; do
	for d in /lib/modules/*/build; do
		[ -d "$d" ] || continue
		k=${d%/build}; k=${k#/lib/modules/}
		case "$k" in "$series".*) echo "$k" ;; esac
	done | sort -V | tail -n 1
done
