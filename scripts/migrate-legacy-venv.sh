#!/bin/sh
# Creates a throwaway venv in which the REAL legacy ember package imports, for
# scripts/migrate-differential.py --legacy-root/--compare-root ... --python/--compare-python VENV/bin/python.
#
# usage: scripts/migrate-legacy-venv.sh [VENV]   (default /tmp/legacy-venv)
#
# The legacy ember/__init__.py imports its data, model and provider layers, so the venv
# gets their third-party dependencies (PyPI). pydantic is pinned to the version of the
# python3 that runs the stand-in, so validation messages are the same on both sides.
set -eu
venv=${1:-/tmp/legacy-venv}
pydantic_version=$(python3 -c 'import pydantic; print(pydantic.VERSION)')
python3 -m venv "$venv"
"$venv/bin/pip" install -q "pydantic==$pydantic_version" datasets openai anthropic google-generativeai \
    tenacity prettytable rich pyyaml numpy requests psutil
echo "$venv/bin/python"
