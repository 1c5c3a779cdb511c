#!/usr/bin/python3
"""Validates why550 JSON output against the published JSON Schema.

usage: validate.py [--ndjson] SCHEMA [FILE|-]
Exit 0 when valid, 1 when invalid (each error printed with its path),
2 on usage or unreadable input.
"""
import json
import sys

import jsonschema


def path_of(err):
    out = "$"
    for part in err.absolute_path:
        out += "[%d]" % part if isinstance(part, int) else "." + str(part)
    return out


def check(validator, doc, where):
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for err in errors:
        print("%s: %s: %s" % (where, path_of(err), err.message))
    return not errors


def main(argv):
    args = argv[1:]
    ndjson = False
    if args and args[0] == "--ndjson":
        ndjson = True
        args = args[1:]
    if len(args) not in (1, 2):
        print("usage: validate.py [--ndjson] SCHEMA [FILE|-]", file=sys.stderr)
        return 2
    name = args[1] if len(args) == 2 else "-"
    try:
        with open(args[0], encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        validator = cls(schema)
        if name == "-":
            text = sys.stdin.buffer.read()
        else:
            with open(name, "rb") as f:
                text = f.read()
        text = text.decode("utf-8")
    except (OSError, ValueError, jsonschema.SchemaError) as e:
        print("validate.py: %s" % e, file=sys.stderr)
        return 2

    ok = True
    if ndjson:
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            print("%s: no lines" % name)
            return 1
        for i, line in enumerate(lines, 1):
            where = "%s:%d" % (name, i)
            try:
                doc = json.loads(line)
            except ValueError as e:
                print("%s: not JSON: %s" % (where, e))
                ok = False
                continue
            ok = check(validator, doc, where) and ok
    else:
        try:
            doc = json.loads(text)
        except ValueError as e:
            print("%s: not JSON: %s" % (name, e))
            return 1
        ok = check(validator, doc, name)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
