#!/usr/bin/env python3
# Validates generated answers against their JSON Schemas with an independent validator (Debian's
# python3-jsonschema, Draft 2020-12). Input: JSON lines {"name", "schema", "output"}. Prints each
# failure; exits 1 when any output is not JSON or does not validate, 0 when all do.
import json
import pathlib
import sys

import jsonschema

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from validate import format_checker  # the suite's checker: Draft 2020-12's formats, RFC 3339 where missing

checker, _ = format_checker()
bad = 0
n = 0
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        r = json.loads(line)
        n += 1
        try:
            value = json.loads(r["output"])
        except json.JSONDecodeError as e:
            bad += 1
            print(f"{r['name']}: not JSON ({e}): {r['output']!r}")
            continue
        errors = list(jsonschema.Draft202012Validator(r["schema"], format_checker=checker).iter_errors(value))
        if errors:
            bad += 1
            print(f"{r['name']}: {errors[0].message}: {r['output']!r}")
print(f"{n - bad}/{n} outputs valid")
sys.exit(1 if bad or n == 0 else 0)
