#!/usr/bin/env python3
"""Validate events (one JSON object a line, as `failback log --json` prints them) against schemas/.

usage: validate-events.py EVENTS.jsonl [--schemas DIR]

Uses Python's `jsonschema` (an implementation independent of ours). Prints a count per event type
and exits 0 when every line is valid; otherwise prints each invalid line's errors and exits 1.
"""
import json
import pathlib
import sys

import jsonschema
from referencing import Registry, Resource


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    schemas_dir = pathlib.Path(argv[argv.index("--schemas") + 1]) if "--schemas" in argv else pathlib.Path(__file__).resolve().parent.parent / "schemas"
    if "--schemas" in argv:
        args.remove(str(schemas_dir))
    if len(args) != 1:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 64
    resources = []
    for path in sorted(schemas_dir.rglob("*.schema.json")):
        schema = json.loads(path.read_text())
        resources.append((schema["$id"], Resource.from_contents(schema)))
    registry = Registry().with_resources(resources)
    envelope = json.loads((schemas_dir / "envelope.schema.json").read_text())
    validator_class = jsonschema.validators.validator_for(envelope)
    validator_class.check_schema(envelope)
    validator = validator_class(envelope, registry=registry)
    counts, failures = {}, 0
    for number, line in enumerate(pathlib.Path(args[0]).read_text().splitlines(), 1):
        if not line.strip():
            continue
        event = json.loads(line)
        errors = sorted(validator.iter_errors(event), key=lambda e: list(e.absolute_path))
        if errors:
            failures += 1
            for e in errors:
                where = "/".join(str(p) for p in e.absolute_path) or "(top)"
                print(f"line {number}: {event.get('type')}: {where}: {e.message}")
        counts[event.get("type")] = counts.get(event.get("type"), 0) + 1
    print(json.dumps({"valid": failures == 0, "invalid_lines": failures, "types": counts}, sort_keys=True))
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
