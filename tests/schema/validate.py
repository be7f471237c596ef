#!/usr/bin/env python3
"""Checks the JSON Schema grammar suite with Python's jsonschema (Debian's python3-jsonschema).

Usage: validate.py SCHEMA_DIR

Each SCHEMA_DIR/NN-name.json is {"schema": S, "valid": [...], "invalid": [...]} and optionally
"valid_text"/"rejected_text" (raw JSON texts) and "description". This proves the instances are
what they claim: S is a valid Draft 2020-12 schema, every "valid" instance and every parsed
"valid_text" validates against S, every "invalid" instance does not. ("rejected_text" are texts
the grammar rejects on purpose, e.g. JSON-Schema-valid members out of declaration order or extra
whitespace: they are the grammar's business, not JSON Schema's, and not checked here.)

Formats are checked (format assertion). Debian's jsonschema checks "date-time" and "time" only with
the rfc3339-validator package, which Debian lacks: where the library has no checker for a format
the suite uses, this script supplies one of its own (RFC 3339 by regex and the calendar), so no
format goes unchecked.
"""
import datetime
import json
import pathlib
import re
import sys

import jsonschema
from jsonschema import Draft202012Validator

_TIME = r"(\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))"
_DATE_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2})[Tt]" + _TIME, re.ASCII)
_TIME_ONLY = re.compile(_TIME, re.ASCII)


def _time_ok(groups):
    hour, minute, second = int(groups[0]), int(groups[1]), int(groups[2])
    if hour > 23 or minute > 59 or second > 60:
        return False
    if groups[5] is not None and (int(groups[5]) > 23 or int(groups[6]) > 59):
        return False
    return True


def rfc3339_date_time(instance):
    if not isinstance(instance, str):
        return True
    m = _DATE_TIME.fullmatch(instance)
    if not m:
        return False
    try:
        datetime.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return _time_ok(m.groups()[3:])


def rfc3339_time(instance):
    if not isinstance(instance, str):
        return True
    m = _TIME_ONLY.fullmatch(instance)
    return bool(m) and _time_ok(m.groups())


def format_checker():
    # Draft 2020-12's own checkers (the class-wide FormatChecker() also holds draft 3's "time").
    base = getattr(Draft202012Validator, "FORMAT_CHECKER", None) or jsonschema.draft202012_format_checker
    checker = jsonschema.FormatChecker(formats=())
    checker.checkers = dict(base.checkers)
    own = []
    for name, func in (("date-time", rfc3339_date_time), ("time", rfc3339_time)):
        if name not in checker.checkers:
            checker.checks(name)(func)
            own.append(name)
    for name in ("date", "email", "uuid"):
        if name not in checker.checkers:
            sys.exit(f"jsonschema {jsonschema_version()} has no '{name}' format checker")
    return checker, own


def jsonschema_version():
    try:
        from importlib.metadata import version
        return version("jsonschema")
    except Exception:  # noqa: BLE001 - only for the message
        return "?"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    checker, own = format_checker()
    files = sorted(pathlib.Path(sys.argv[1]).glob("*.json"))
    errors = []
    counts = [0, 0, 0]
    for path in files:
        doc = json.loads(path.read_text(encoding="utf-8"))
        extra = set(doc) - {"schema", "valid", "invalid", "valid_text", "rejected_text", "description"}
        if extra:
            errors.append(f"{path.name}: unknown keys {sorted(extra)}")
        if not re.fullmatch(r"\d\d-[a-z0-9-]+\.json", path.name):
            errors.append(f"{path.name}: name is not NN-name.json")
        schema = doc["schema"]
        try:
            Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as e:
            errors.append(f"{path.name}: not a valid 2020-12 schema: {e.message}")
            continue
        v = Draft202012Validator(schema, format_checker=checker)
        if not doc.get("valid") or not doc.get("invalid"):
            errors.append(f"{path.name}: needs valid and invalid instances")
        for inst in doc.get("valid", []) + [json.loads(t) for t in doc.get("valid_text", [])]:
            counts[0] += 1
            problems = [e.message for e in v.iter_errors(inst)]
            if problems:
                errors.append(f"{path.name}: valid instance {json.dumps(inst, ensure_ascii=False)} fails: {problems}")
        for inst in doc.get("invalid", []):
            counts[1] += 1
            if v.is_valid(inst):
                errors.append(f"{path.name}: invalid instance {json.dumps(inst, ensure_ascii=False)} passes")
        counts[2] += len(doc.get("rejected_text", []))
    for e in errors:
        print(e)
    print(f"{len(files)} schemas, {counts[0]} valid and {counts[1]} invalid instances checked "
          f"(jsonschema {jsonschema_version()}; own checkers for: {', '.join(own) or 'none'}); "
          f"{counts[2]} rejected texts left to the grammar; {len(errors)} errors")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
