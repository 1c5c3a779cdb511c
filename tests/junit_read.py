#!/usr/bin/python3
"""Reads a JUnit XML file with junitparser (a JUnit consumer library) and prints what it understood as JSON.

usage: junit_read.py FILE
Prints {"suites": [{name, tests, failures, errors, skipped, time, timestamp,
hostname, properties: {name: value}, system_out, cases: [{name, classname,
time, results: [{kind, type, message, text}]}]}]}. Exit 0, or 1 when the
library cannot read the file (its message on stderr).
"""
import json
import sys

from junitparser import JUnitXml, TestSuite


def result_json(r):
    return {"kind": type(r).__name__.lower(), "type": r.type,
            "message": r.message, "text": r.text}


def suite_json(s):
    out = s._elem.find("system-out")
    return {
        "name": s.name, "tests": s.tests, "failures": s.failures,
        "errors": s.errors, "skipped": s.skipped, "time": s.time,
        "timestamp": s.timestamp, "hostname": s.hostname,
        "properties": {p.name: p.value for p in s.properties()},
        "system_out": out.text if out is not None else None,
        "cases": [{"name": c.name, "classname": c.classname, "time": c.time,
                   "results": [result_json(r) for r in c.result]} for c in s],
    }


def main(argv):
    if len(argv) != 2:
        print("usage: junit_read.py FILE", file=sys.stderr)
        return 2
    try:
        doc = JUnitXml.fromfile(argv[1])
    except Exception as e:  # the library's own parse errors come in many types
        print("junitparser: %s" % e, file=sys.stderr)
        return 1
    suites = [doc] if isinstance(doc, TestSuite) else list(doc)
    json.dump({"suites": [suite_json(s) for s in suites]}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
