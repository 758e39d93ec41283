#!/usr/bin/env python3
"""Validate JSON instances against one of our JSON Schemas with the independent `jsonschema`
library (draft 2020-12, format checks on). Usage: validate_schema.py SCHEMA [INSTANCE ...]
With no instance, the schema's own `examples` are validated. Exit 0 when all are valid,
1 when one is not (the errors are printed), 2 on usage errors."""
import json
import sys

import jsonschema


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)
    instances = []
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            instances.append((path, json.load(f)))
    if not sys.argv[2:]:
        instances = [(f"examples[{i}]", e) for i, e in enumerate(schema.get("examples", []))]
        if not instances:
            print(f"{sys.argv[1]}: no examples", file=sys.stderr)
            return 1
    bad = 0
    for name, instance in instances:
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.path))
        for e in errors:
            print(f"{name}: {'/'.join(map(str, e.path))}: {e.message}")
        bad += bool(errors)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
