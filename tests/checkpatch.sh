#!/bin/bash
# Run the kernel's checkpatch.pl (extracted from Debian's linux-source)
# over the module's sources and the uapi header.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${O:-$top/build}
"$top/tests/kselftest/harness.sh" "$build/kselftest"
cd "$top"
cp=("$build/kselftest/checkpatch.pl" --no-tree --strict --terse --show-types)
"${cp[@]}" -f kernel/*.c kernel/*.h
# The uapi header defines each list of names once as an "X macro"
# (#define LIST(X) X(ID, "name") ...), which checkpatch cannot tell from a
# multi-statement macro; those two reports are the only ones waived.
"${cp[@]}" --ignore COMPLEX_MACRO,MACRO_ARG_REUSE -f include/uapi/linux/*.h
