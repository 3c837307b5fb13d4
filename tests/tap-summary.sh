#!/bin/bash
# tap-summary.sh LABEL FILE.tap...
#
# Count the results of TAP files: "ok" lines are passed ("# SKIP" ones
# skipped), "not ok" lines failed, and tests a plan ("1..N") announced
# but never reported count as failed (the suite crashed or hung).
# Prints one line per suite and, last, "LABEL: P passed, F failed, S skipped";
# the numbers are also written to $TAP_TOTALS if set (appended "P F S").
label=$1
shift
tp=0 tf=0 ts=0
for f in "$@"; do
	[ -e "$f" ] || continue
	read -r p fl s < <(awk '
		/^1\.\.[0-9]+/ { split($1, a, "\\.\\."); plan = a[2] }
		/^ok / { if (tolower($0) ~ /# skip/) s++; else p++ }
		/^not ok / { fl++ }
		END {
			n = p + fl + s
			if (plan > n) fl += plan - n
			if (plan == "" && n == 0) fl++
			printf "%d %d %d\n", p, fl, s
		}' "$f")
	name=$(basename "$f" .tap)
	printf '  %-28s %3d passed, %d failed, %d skipped\n' "$name" "$p" "$fl" "$s"
	if [ "$fl" -gt 0 ]; then
		grep -E '^not ok|^# +(FAIL|not ok)|^#.*(Expected|expected)' "$f" | head -n 12 | sed 's/^/      /'
	fi
	tp=$((tp + p)) tf=$((tf + fl)) ts=$((ts + s))
done
echo "$label: $tp passed, $tf failed, $ts skipped"
[ -n "${TAP_TOTALS:-}" ] && echo "$tp $tf $ts" >>"$TAP_TOTALS"
exit 0
