#!/bin/sh
# Checks the CI examples in docs/ci/: each parses as YAML into the structure its CI system reads, and every why550 command in them runs, as written, against the NSD fixture.
#
#   sh tests/scenario_ci_examples.sh
#
# The commands' batch file becomes two fixture targets, their resolver the
# fixture's NSD, and --config-dir the tree's checks.d; anything else is run
# as written. A command passes when it exits with a verdict (0 to 3, never
# 64 or 78) and writes its format: a JUnit document, workflow commands.
#
# Environment: WHY550_ROOT, WHY550_BIN, WHY550_TEST_NS (set by tests/run.sh).
set -u

root=${WHY550_ROOT:-$(cd "$(dirname "$0")/.." && pwd -P)}
bin=${WHY550_BIN:-$root/build/why550}
if [ -z "${WHY550_TEST_NS:-}" ]; then
	echo "scenario_ci_examples.sh: WHY550_TEST_NS is not set: run through tests/run.sh" >&2
	exit 1
fi
exec /usr/bin/python3 - "$root" "$bin" "$WHY550_TEST_NS" <<'PY'
import os
import shlex
import subprocess
import sys
import tempfile

import yaml

root, binary, ns = sys.argv[1:4]
failed = []


def fail(msg):
    failed.append(msg)
    print("scenario_ci_examples.sh: " + msg, file=sys.stderr)


def commands(texts):
    for text in texts:
        for line in str(text).splitlines():
            line = line.strip()
            if line.startswith("why550 "):
                yield line


def run(where, line, targets):
    words = shlex.split(line)
    redirect = None
    if ">" in words:
        i = words.index(">")
        redirect = words[i + 1]
        words = words[:i]
    args = [binary, "--config-dir", os.path.join(root, "checks.d")]
    i = 1
    while i < len(words):
        w = words[i]
        if w == "--batch":
            args += [w, targets]
            i += 2
        elif w == "--resolver":
            args += [w, ns]
            i += 2
        else:
            args.append(w)
            i += 1
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    p = subprocess.run(args, capture_output=True, env=env, timeout=120)
    out = p.stdout.decode("utf-8", "replace")
    if p.returncode not in (0, 1, 2, 3):
        fail("%s: '%s' exits %d: %s" % (where, line, p.returncode, p.stderr.decode()))
        return redirect
    fmt = words[words.index("--format") + 1] if "--format" in words else "json"
    if fmt == "junit" and not out.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>'):
        fail("%s: '%s' writes no JUnit document" % (where, line))
    if fmt == "github" and not all(l.startswith("::") for l in out.splitlines()):
        fail("%s: '%s' writes lines that are no workflow command" % (where, line))
    if not out:
        fail("%s: '%s' writes nothing" % (where, line))
    return redirect


def load(name):
    path = os.path.join(root, "docs", "ci", name)
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def github(doc, targets):
    # YAML 1.1 reads the key "on" as true; GitHub reads it as "on"
    if "on" not in doc and True not in doc:
        fail("github-actions.yml: no 'on' trigger")
    jobs = doc.get("jobs") or {}
    if not jobs:
        fail("github-actions.yml: no jobs")
    n = 0
    for name, job in jobs.items():
        if "runs-on" not in job or not isinstance(job.get("steps"), list):
            fail("github-actions.yml: job %s lacks runs-on or steps" % name)
            continue
        for step in job["steps"]:
            if "run" not in step and "uses" not in step:
                fail("github-actions.yml: a step of %s neither runs nor uses" % name)
            for line in commands([step.get("run", "")]):
                run("github-actions.yml", line, targets)
                n += 1
    return n


def gitlab(doc, targets):
    n = 0
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    if not jobs:
        fail("gitlab-ci.yml: no job with a script")
    for name, job in jobs.items():
        junit = ((job.get("artifacts") or {}).get("reports") or {}).get("junit")
        written = []
        for line in commands(job.get("before_script", []) + job.get("script", [])):
            written.append(run("gitlab-ci.yml", line, targets))
            n += 1
        if junit is None or junit not in written:
            fail("gitlab-ci.yml: job %s reports %r, which no why550 command writes" % (name, junit))
    return n


with tempfile.TemporaryDirectory() as tmp:
    targets = os.path.join(tmp, "targets.ndjson")
    with open(targets, "w") as f:
        f.write('{"ip": "192.0.2.1"}\n{"ip": "192.0.2.4", "helo": "mail.example.test"}\n')
    n = github(load("github-actions.yml"), targets) + gitlab(load("gitlab-ci.yml"), targets)
if n < 3:
    fail("only %d why550 commands in the examples" % n)
print("scenario_ci_examples.sh: %d commands run, %d problems" % (n, len(failed)))
sys.exit(1 if failed else 0)
PY
