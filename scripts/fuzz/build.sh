#!/bin/sh
# Builds the libFuzzer targets over EmberPython (plus EmberUtils' LineTable, its one dependency):
#   fuzz-python   arbitrary bytes: decode, tokenize, parse, check the invariants callers rely on
#   fuzz-nesting  grammar-aware: the bytes are a recipe for deep and wide nestings of every
#                 bracket and operator form (scripts/fuzz/FuzzNesting.swift)
# Everything, module files included, goes to .build/fuzz (or $FUZZ_OUT).
# Usage: scripts/fuzz/build.sh && scripts/fuzz/run.sh [SECONDS] ; scripts/fuzz/run-nesting.sh [SECONDS]
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${FUZZ_OUT:-$root/.build/fuzz}"
mkdir -p "$out"
cd "$out"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -wmo -module-name EmberUtils \
    -emit-module -emit-module-path "$out/EmberUtils.swiftmodule" \
    -c "$root/Sources/EmberUtils/LineTable.swift" -o "$out/EmberUtils.o"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -wmo -module-name EmberPythonFuzz -I "$out" \
    "$root"/Sources/EmberPython/*.swift "$root/scripts/fuzz/FuzzPython.swift" "$out/EmberUtils.o" \
    -o "$out/fuzz-python"
echo "built $out/fuzz-python"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -wmo -module-name EmberNestingFuzz -I "$out" \
    "$root"/Sources/EmberPython/*.swift "$root/scripts/fuzz/FuzzNesting.swift" "$out/EmberUtils.o" \
    -o "$out/fuzz-nesting"
echo "built $out/fuzz-nesting"
