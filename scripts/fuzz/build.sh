#!/bin/sh
# Builds the libFuzzer target over EmberPython (plus EmberUtils' LineTable, its one dependency).
# Everything, module files included, goes to .build/fuzz.
# Usage: scripts/fuzz/build.sh && scripts/fuzz/run.sh [SECONDS]
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.build/fuzz"
mkdir -p "$out"
cd "$out"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -wmo -module-name EmberUtils \
    -emit-module -emit-module-path "$out/EmberUtils.swiftmodule" \
    -c "$root/Sources/EmberUtils/LineTable.swift" -o "$out/EmberUtils.o"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -wmo -module-name EmberPythonFuzz -I "$out" \
    "$root"/Sources/EmberPython/*.swift "$root/scripts/fuzz/FuzzPython.swift" "$out/EmberUtils.o" \
    -o "$out/fuzz-python"
echo "built $out/fuzz-python"
