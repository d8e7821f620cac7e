#!/bin/sh
# Measures how deep the parser goes on each nesting form on 512 KB and 8 MB thread stacks
# (release build, -O, like the shipped binaries). Usage: scripts/parser-depth/run.sh
set -eu
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="${TMPDIR:-/tmp}/ember-parser-depth"
mkdir -p "$out"
cd "$out"
swiftc -O -wmo -parse-as-library -module-name EmberUtils -emit-module -emit-module-path "$out/EmberUtils.swiftmodule" \
    -c "$root/Sources/EmberUtils/LineTable.swift" -o "$out/EmberUtils.o"
swiftc -O -wmo -parse-as-library -module-name MeasureDepth -I "$out" \
    "$root"/Sources/EmberPython/*.swift "$root/scripts/parser-depth/MeasureDepth.swift" "$out/EmberUtils.o" -o "$out/measure-depth"
"$out/measure-depth"
