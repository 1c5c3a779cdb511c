#!/usr/bin/python3
"""Runs the cases of one SPF conformance scenario through the why550 binary's command line.

usage: spf_cli.py CASES WHY550 RESOLVER CONFDIR

CASES is the file tests/spf_suite.py writes (name host mailfrom helo
results explanation, tab-separated, percent-encoded). Each case becomes one
invocation, as a user would type it:

  why550 --ip HOST --helo HELO --from MAILFROM --checks spf
         --resolver RESOLVER --config-dir CONFDIR --format json --timeout 1

and the spf check's "result" in the JSON document must be one the suite
accepts (and for a fail with an expected explanation, its "explanation"
must be that text). Four invocations run at a time (most of a case is waiting for DNS). Prints a FAIL line for
each case that does not pass, then "cli N/M"; exits 0 unless the cases
file cannot be read.
"""
import concurrent.futures
import json
import subprocess
import sys
import urllib.parse


def decode(field):
    return urllib.parse.unquote_to_bytes(field).decode('utf-8', 'surrogateescape')


def read_cases(path):
    cases = []
    with open(path, 'rb') as f:
        for line in f.read().decode('ascii').split('\n'):
            fields = line.split('\t')
            if len(fields) != 6:
                continue
            name, host, mailfrom, helo, results, exp = fields
            cases.append({'name': decode(name), 'host': decode(host),
                          'mailfrom': decode(mailfrom), 'helo': decode(helo),
                          'results': decode(results).split(','),
                          'exp': None if exp == '-' else decode(exp)})
    return cases


def run_case(case, why550, resolver, confdir):
    """None when the case passes, else why it does not."""
    args = [why550, '--ip', case['host'], '--helo', case['helo'], '--from', case['mailfrom'],
            '--checks', 'spf', '--resolver', resolver, '--config-dir', confdir,
            '--format', 'json', '--timeout', '1']
    args = [a.encode('utf-8', 'surrogateescape') for a in args]
    try:
        p = subprocess.run(args, capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return 'why550 did not end within 20 s'
    if p.returncode not in (0, 1, 2, 3):
        return 'exit status %d: %s' % (p.returncode, p.stderr.decode('utf-8', 'replace').strip())
    try:
        doc = json.loads(p.stdout)
    except ValueError as e:
        return 'output is not JSON (%s)' % e
    spf = [c for c in doc.get('checks', []) if c.get('name') == 'spf']
    if len(spf) != 1:
        return 'no spf check in the output'
    got = spf[0].get('result')
    if got not in case['results']:
        return 'got %s (%s), want %s' % (got, spf[0].get('reason'), ','.join(case['results']))
    if got == 'fail' and case['exp'] is not None and spf[0].get('explanation') != case['exp']:
        return 'explanation %r, want %r' % (spf[0].get('explanation'), case['exp'])
    return None


def main():
    if len(sys.argv) != 5:
        sys.stderr.write('usage: spf_cli.py CASES WHY550 RESOLVER CONFDIR\n')
        return 64
    cases = read_cases(sys.argv[1])
    ok = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        verdicts = pool.map(lambda c: run_case(c, *sys.argv[2:5]), cases)
        for case, why in zip(cases, verdicts):
            if why is None:
                ok += 1
            else:
                print('FAIL %s: %s' % (case['name'], why))
    print('cli %d/%d' % (ok, len(cases)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
