#!/bin/sh
# Builds the libFuzzer target over EmberPython (plus EmberUtils' LineTable, its one dependency).
# Usage: scripts/fuzz/build.sh && scripts/fuzz/run.sh [SECONDS]
set -eu
cd "$(dirname "$0")/../.."
out=.build/fuzz
mkdir -p "$out"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -wmo -module-name EmberUtils \
    -emit-module -emit-module-path "$out/EmberUtils.swiftmodule" \
    -c Sources/EmberUtils/LineTable.swift -o "$out/EmberUtils.o"
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -wmo -module-name EmberPythonFuzz -I "$out" \
    Sources/EmberPython/*.swift scripts/fuzz/FuzzPython.swift "$out/EmberUtils.o" \
    -o "$out/fuzz-python"
echo "built $out/fuzz-python"
