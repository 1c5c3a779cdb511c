#!/usr/bin/python3
"""Converts an SPF conformance suite (YAML) into NSD zone files and case lists, one folder per scenario.

usage: spf_suite.py SUITE.yml OUTDIR

For scenario N (from 00) it writes:
  OUTDIR/NN/zones/TLD.zone   one zone per top label, every name of the scenario's zonedata
  OUTDIR/NN/timeouts         names that must never answer (the suite's TIMEOUT)
  OUTDIR/NN/cases            one test a line: name host mailfrom helo results explanation,
                             tab-separated, each field percent-encoded (UTF-8 bytes)
Conventions of the suite (see its header comment): SPF records are also
served as TXT unless the name lists TXT itself; "TXT: NONE" means no TXT;
TIMEOUT makes the name time out, except for the types listed before it
(the evaluator only asks TXT of such names, so a name is silenced unless
it lists TXT before TIMEOUT); names not listed do not exist.
"""
import os
import re
import sys
import urllib.parse

import yaml

TXT_CHUNK = 255
RR_TYPES = {'a', 'aaaa', 'any', 'cname', 'mx', 'ns', 'ptr', 'soa', 'spf', 'srv', 'txt', 'ds',
            'key', 'loc', 'naptr', 'rp', 'sig', 'hinfo', 'minfo', 'null', 'wks', 'axfr', 'ixfr'}


def enc(value):
    """Percent-encodes a field so that it holds no tab, newline or space."""
    if isinstance(value, str):
        value = value.encode('utf-8', 'surrogateescape')
    return urllib.parse.quote_from_bytes(value, safe='')


def zone_label(label):
    """One label of an owner name in zone file syntax: odd bytes as \\DDD."""
    out = []
    for b in label.encode('utf-8', 'surrogateescape'):
        c = chr(b)
        if c.isascii() and (c.isalnum() or c in '-_*'):
            out.append(c)
        else:
            out.append('\\%03d' % b)
    return ''.join(out)


def owner(name):
    labels = name.rstrip('.').split('.')
    return '.'.join(zone_label(x) for x in labels) + '.'


def char_string(data):
    """A <character-string> in zone syntax: quoted, with \\DDD for odd bytes."""
    out = ['"']
    for b in data:
        c = chr(b)
        if 0x20 <= b < 0x7f and c not in '"\\':
            out.append(c)
        else:
            out.append('\\%03d' % b)
    out.append('"')
    return ''.join(out)


def txt_rdata(value):
    """TXT/SPF rdata: one string or a list of strings; strings over 255 octets are split."""
    if isinstance(value, list):
        strings = value
    else:
        strings = [value]
    parts = []
    for s in strings:
        data = s.encode('utf-8', 'surrogateescape') if isinstance(s, str) else bytes(s)
        if len(data) == 0:
            parts.append('""')
        while len(data) > 0:
            parts.append(char_string(data[:TXT_CHUNK]))
            data = data[TXT_CHUNK:]
    if not parts:
        # a record with no strings cannot be loaded by NSD: one empty string
        # is the nearest, and is no SPF record either way
        parts.append('""')
    return ' '.join(parts)


def tld(name):
    return name.rstrip('.').split('.')[-1].lower()


def records(name, items):
    """Zone lines for one name, and whether the name must be silenced."""
    lines = []
    has_txt = any(isinstance(i, dict) and 'TXT' in i for i in items)
    timeout = False
    txt_before_timeout = False
    for item in items:
        if item == 'TIMEOUT':
            timeout = True
            continue
        if timeout:
            continue
        for rtype, value in item.items():
            o = owner(name)
            if rtype in ('SPF', 'TXT'):
                if value == 'NONE':
                    continue
                rdata = txt_rdata(value)
                types = [rtype]
                if rtype == 'SPF' and not has_txt:
                    types.append('TXT')
                for t in types:
                    if t == 'TXT':
                        txt_before_timeout = True
                    lines.append('%s 60 IN %s %s' % (o, t, rdata))
            elif rtype == 'MX':
                lines.append('%s 60 IN MX %d %s' % (o, value[0], owner(value[1])))
            elif rtype in ('PTR', 'CNAME'):
                lines.append('%s 60 IN %s %s' % (o, rtype, owner(value)))
            elif rtype in ('A', 'AAAA'):
                lines.append('%s 60 IN %s %s' % (o, rtype, value))
            else:
                raise SystemExit('spf_suite.py: unknown record type %r at %r' % (rtype, name))
    return lines, timeout and not txt_before_timeout


def tlds_mentioned(doc):
    """Top labels of every name the scenario might ask: a zone each, so that NSD says NXDOMAIN."""
    found = {'arpa'}
    texts = []
    for name, items in doc['zonedata'].items():
        texts.append(name)
        for item in items:
            if isinstance(item, dict):
                for v in item.values():
                    texts.append(str(v))
    for t in doc['tests'].values():
        texts.append(str(t.get('helo', '')))
        texts.append(str(t.get('mailfrom', '')))
    for text in texts:
        for m in re.finditer(r'\.([A-Za-z0-9-]*[A-Za-z][A-Za-z0-9-]*)\.?(?![A-Za-z0-9-])', text):
            label = m.group(1).lower()
            # a zone named like a record type ("a", "mx") confuses drill in tests/nsd.sh
            if re.match(r'^[a-z0-9]([a-z0-9-]*[a-z0-9])?$', label) and label not in RR_TYPES:
                found.add(label)
    for name in doc['zonedata']:
        found.add(tld(name))
    return found


def write_scenario(doc, out):
    os.makedirs(os.path.join(out, 'zones'), exist_ok=True)
    zones = {z: [] for z in tlds_mentioned(doc)}
    silent = []
    for name, items in doc['zonedata'].items():
        lines, timeout = records(name, items)
        zones.setdefault(tld(name), []).extend(lines)
        if timeout:
            silent.append(name.rstrip('.'))
    for z, lines in sorted(zones.items()):
        with open(os.path.join(out, 'zones', z + '.zone'), 'w') as f:
            f.write('$TTL 60\n')
            f.write('%s. IN SOA ns.%s. hostmaster.%s. 1 3600 600 86400 60\n' % (z, z, z))
            f.write('%s. IN NS ns.%s.\n' % (z, z))
            for line in lines:
                f.write(line + '\n')
    with open(os.path.join(out, 'timeouts'), 'w') as f:
        for name in silent:
            f.write(name + '\n')
    with open(os.path.join(out, 'cases'), 'w') as f:
        for tname, t in doc['tests'].items():
            res = t['result']
            if not isinstance(res, list):
                res = [res]
            exp = t.get('explanation')
            f.write('\t'.join([enc(tname), enc(str(t['host'])), enc(str(t.get('mailfrom', ''))),
                               enc(str(t.get('helo', ''))), enc(','.join(res)),
                               enc(exp) if exp is not None else '-']) + '\n')


def main():
    if len(sys.argv) != 3:
        sys.stderr.write('usage: spf_suite.py SUITE.yml OUTDIR\n')
        return 64
    with open(sys.argv[1], 'rb') as f:
        docs = list(yaml.safe_load_all(f))
    for i, doc in enumerate(docs):
        write_scenario(doc, os.path.join(sys.argv[2], '%02d' % i))
    print(len(docs))
    return 0


if __name__ == '__main__':
    sys.exit(main())
