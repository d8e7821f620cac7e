#!/bin/sh
# Prints the Python program a fuzz-nesting input (a recipe) builds.
# Usage: scripts/fuzz/nesting-recipe-to-python.sh RECIPE_FILE > program.py
set -eu
cd "$(dirname "$0")/../.."
EMBER_FUZZ_PRINT=1 "${FUZZ_OUT:-.build/fuzz}/fuzz-nesting" "$1" 2>/dev/null
