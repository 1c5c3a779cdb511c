#!/usr/bin/python3
"""The critical path of a run, derived from the questions it actually sent.

usage: critical_path.py LOG PORT DELAY_MS [--ip ADDR] [--name NAME]... [-v]

LOG is the question log of tests/faultdns (--log: "MS NAME TYPE udp|tcp"
per question) of one run through it; PORT is the port of the server behind
it (NSD on 127.0.0.1), asked again here with drill for each question's
answer; DELAY_MS is the delay the fault server added to every answer.
--ip and --name give the run's inputs (the IP, the HELO name, the sender's
and the recipient's domains, the message's domains).

A question depends on an earlier one when its name can only have come from
that one's answer: the answer's names (PTR, MX, CNAME, NS targets, names
inside TXT records such as SPF include: and redirect=) and their parent
domains of two labels or more, each as the name itself, under a service
label (_dmarc.NAME, sel._domainkey.NAME), or with a zone after it (a
blocklist's NAME.ZONE); the reverse name of an address of an answer. A
question that the inputs give the same way, or that nothing gives (a
list's test point), needs no answer: it can go in the first round trip.
Its depth is one more than the shallowest question it can come from; the
critical path is the deepest question's depth times DELAY_MS: no client can
finish sooner. Dependencies that only a negative answer creates (the DMARC
fallback to the organisational domain after NXDOMAIN) are not seen, so the
path is never overstated.

Prints "questions N", "critical_path_rounds D", "critical_path_ms D*DELAY",
and "rounds_taken R": the round trips the run itself took, from the times
in the log (questions more than DELAY_MS/2 after the previous wave start a
new one).
"""
import re
import subprocess
import sys

NAME_RE = re.compile(r"(?<![A-Za-z0-9_.-])([A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+)\.?")
IP4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")


def parents(name):
    """The name and its parent domains of two labels or more."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)]


def reverse4(ip):
    return ".".join(reversed(ip.split(".")))


def answer_of(name, qtype, port):
    """The rdata of the answer section, one string per record (drill's presentation)."""
    try:
        out = subprocess.run(["drill", "-p", str(port), "@127.0.0.1", name, qtype],
                             capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    rdata, inside = [], False
    for line in out.splitlines():
        if line.startswith(";; ANSWER SECTION"):
            inside = True
            continue
        if inside:
            if not line.strip() or line.startswith(";;"):
                break
            parts = line.split(None, 4)
            if len(parts) == 5:
                rdata.append(parts[4])
    return rdata


def known_from(rdata_list):
    """Names and addresses an answer gives a client."""
    names, addrs = set(), set()
    for rd in rdata_list:
        for m in NAME_RE.finditer(rd):
            tok = m.group(1).lower().rstrip(".")
            if IP4_RE.match(tok):
                addrs.add(tok)
            else:
                for p in parents(tok):
                    names.add(p)
    return names, addrs


def derives(q, names, addrs):
    """True when question name q can be made from one of the names or addresses."""
    for c in names:
        if q == c or q.startswith(c + "."):
            return True
        if q.endswith("." + c):
            prefix = q[: -len(c) - 1]
            if any(label.startswith("_") for label in prefix.split(".")):
                return True
    for a in addrs:
        if q == reverse4(a) + ".in-addr.arpa":
            return True
    return False


def main(argv):
    args = argv[1:]
    verbose = "-v" in args
    args = [a for a in args if a != "-v"]
    if len(args) < 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 64
    log, port, delay = args[0], int(args[1]), int(args[2])
    in_names, in_addrs = set(), set()
    i = 3
    while i + 1 < len(args):
        if args[i] == "--ip":
            in_addrs.add(args[i + 1])
        elif args[i] == "--name":
            for p in parents(args[i + 1].lower().rstrip(".")):
                in_names.add(p)
        i += 2

    questions = []
    with open(log) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                questions.append((int(parts[0]), parts[1].lower().rstrip("."), parts[2]))
    if not questions:
        print("critical_path.py: no question in %s" % log, file=sys.stderr)
        return 1
    unique = []
    for _, name, qtype in questions:
        if (name, qtype) not in unique:
            unique.append((name, qtype))
    gives = {}
    for name, qtype in unique:
        gives[(name, qtype)] = known_from(answer_of(name, qtype, port))

    depth = {}
    for q in unique:
        depth[q] = 1 if derives(q[0], in_names, in_addrs) else None
    # what no answer gives was known from the start (inputs, configuration)
    for q in unique:
        if depth[q] is None and not any(derives(q[0], *gives[p]) for p in unique if p != q):
            depth[q] = 1
    changed = True
    while changed:
        changed = False
        for q in unique:
            best = depth[q]
            for p in unique:
                if p == q or depth[p] is None or not derives(q[0], *gives[p]):
                    continue
                if best is None or depth[p] + 1 < best:
                    best = depth[p] + 1
            if best != depth[q]:
                depth[q] = best
                changed = True
    path = max(d for d in depth.values() if d is not None)

    times = sorted(t for t, _, _ in questions)
    rounds, wave_start = 1, times[0]
    for t in times:
        if t - wave_start > delay / 2:
            rounds += 1
            wave_start = t
    if verbose:
        for q in sorted(unique, key=lambda q: (depth[q] or 0, q)):
            print("  depth %s  %s %s" % (depth[q], q[0], q[1]))
    print("questions %d" % len(questions))
    print("critical_path_rounds %d" % path)
    print("critical_path_ms %d" % (path * delay))
    print("rounds_taken %d" % rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
