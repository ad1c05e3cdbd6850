#!/usr/bin/python3
"""Differential test: the same (argv, stdin) through Postfix's sendmail and through sealmail.

Run by compat/run (with /usr/bin/python3) once Postfix's private instance, sealmail's config and
the two recording sinks (sink.py) are up:

    differential.py --postfix /usr/sbin/sendmail.postfix --postfix-config DIR --postfix-sink DIR
                    --sealmail /usr/sbin/sendmail --sealmail-config FILE --sealmail-sink DIR
                    --known compat/KNOWN-DIFFERENCES.md --out DIR [--only SUBSTRING] [-v]

For each case of corpus.py both programs get exactly the same argv ("-odi" + the case's argv;
Postfix ignores -odi, sealmail waits for the relay) and the same stdin, with the same clean
environment apart from MAIL_CONFIG / SEALMAIL_CONFIG. The cases run one after the other; a
case's messages are the files that appear in each sink between its start and the start of the
next case (Postfix delivers asynchronously: we poll its sink until its message is there).

What is compared (after normalisation, see normalise()):
  * exit status;
  * the number of messages and, per message, MAIL FROM and its parameters, the RCPT TO list
    and each recipient's parameters (sorted: recipient order may differ, and is reported as a
    note), the header fields in order (name and raw value, folding included) and the body
    bytes.

What is normalised (and nothing else):
  * the topmost Received field of each message is removed when it is the one the MTA added
    (its value contains "by host.example.com");
  * the values of Message-Id, Date, Resent-Message-Id and Resent-Date when the MTA generated
    them (the value is not in the input): replaced by "<generated message-id>" or
    "<generated date>" after checking their syntax (a Message-Id "<...@host.example.com>",
    a Date RFC 5322 parses); a malformed one is kept and so shows up as a difference;
  * the SIZE= value of MAIL FROM (Received and Message-Id lengths differ) becomes SIZE=*;
  * the order of MAIL FROM and of RCPT TO parameters (sorted) and the order of RCPT TO
    commands (compared as sorted lists);
  * messages with identical data are merged into one with the union of recipients (Postfix
    splits more than 50 recipients into several transactions).

Classification: a case is "identical" when the normalised results are equal. Otherwise the
rules in RULES (each with an id that must be listed in KNOWN-DIFFERENCES.md) are applied in
order; a rule whose precondition holds rewrites one side the way the documented difference
predicts. If the results are then equal, the case is "deliberate" (with the ids used); if an
id's status in KNOWN-DIFFERENCES.md is "open", it is "open" (a known bug); if an id's status is
"fixed" (a former bug kept as a regression check: the bug is back), or the results still
differ, it is "unexplained". Exit status: 1 when any case is unexplained (and, with
COMPAT_STRICT=1, also when a case is explained only by an open bug).
"""

import argparse
import base64
import email.utils
import glob
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import corpus  # noqa: E402
import known  # noqa: E402

HOST = 'host.example.com'
DOMAIN = 'example.com'
SHORT = os.uname().nodename.split('.')[0]

ENV = {
    'PATH': '/usr/sbin:/usr/bin:/sbin:/bin',
    'HOME': '/root',
    'LOGNAME': 'root',
    'USER': 'root',
    'LANG': 'C.UTF-8',
}


# ---------------------------------------------------------------------------------------------
# Running one side

class Sink:
    def __init__(self, path):
        self.path = path
        self.seen = set(self._names())

    def _names(self):
        return sorted(os.path.basename(p) for p in glob.glob(os.path.join(self.path, '*.json')))

    def new(self):
        """Files that appeared since the last call, oldest first."""
        out = []
        for n in self._names():
            if n not in self.seen:
                self.seen.add(n)
                with open(os.path.join(self.path, n)) as f:
                    out.append(json.load(f))
        return out

    def wait_new(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            got = self.new()
            if got or time.monotonic() >= deadline:
                return got
            time.sleep(0.02)


def run_program(cmd, env_extra, argv, stdin, timeout=60):
    env = dict(ENV)
    env.update(env_extra)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd + ['-odi'] + argv, input=stdin, env=env, cwd='/',
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        status, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        status, out, err = 'timeout', e.stdout or b'', e.stderr or b''
    return {'exit': status, 'stdout': out.decode('utf-8', 'replace'),
            'stderr': err.decode('utf-8', 'replace'), 'seconds': round(time.monotonic() - t0, 3),
            'messages': []}


# ---------------------------------------------------------------------------------------------
# Normalisation

def split_message(data):
    """(header fields [(name, raw value bytes)], body bytes, defects) from CRLF wire data."""
    end = data.find(b'\r\n\r\n')
    if data.startswith(b'\r\n'):
        head, body = b'', data[2:]
    elif end < 0:
        head, body = data, None
    else:
        head, body = data[:end + 2], data[end + 4:]
    fields = []
    for line in head.split(b'\r\n'):
        if line == b'':
            continue
        if line[:1] in (b' ', b'\t') and fields:
            fields[-1][1] += b'\r\n' + line
            continue
        name, sep, value = line.partition(b':')
        fields.append([name.decode('utf-8', 'replace') if sep else '<no colon>', value if sep else line])
    return fields, body


def input_header_text(stdin):
    """The input's header block, lower-cased and unfolded, to tell given fields from added ones."""
    text = stdin.replace(b'\r', b'')
    end = text.find(b'\n\n')
    head = text if end < 0 else text[:end]
    return re.sub(rb'\n[ \t]+', b' ', head).lower()


GENERATED = {'message-id': 'message-id', 'resent-message-id': 'message-id',
             'date': 'date', 'resent-date': 'date'}


def normalise_message(rec, case):
    data = base64.b64decode(rec['data_b64'])
    fields, body = split_message(data)
    notes = []
    if fields and fields[0][0].lower() == 'received' and b'by ' + HOST.encode() in fields[0][1]:
        fields = fields[1:]
    given = input_header_text(case.stdin)
    out = []
    for name, value in fields:
        kind = GENERATED.get(name.lower())
        v = value.strip()
        if kind and v.lower() not in given:
            if kind == 'message-id' and re.fullmatch(rb'<[^<>@\s]+@' + re.escape(HOST.encode()) + rb'>', v):
                value = b' <generated message-id>'
            elif kind == 'date' and email.utils.parsedate_tz(v.decode('ascii', 'replace')):
                value = b' <generated date>'
            else:
                notes.append('malformed generated %s: %r' % (name, v))
        out.append((name, value.decode('utf-8', 'surrogateescape')))
    params = sorted('SIZE=*' if p.upper().startswith('SIZE=') else p for p in rec['mail_params'])
    rcpts = sorted((r['address'], tuple(sorted(r['params']))) for r in rec['rcpts'])
    return {
        'mail_from': rec['mail_from'],
        'mail_params': params,
        'rcpts': rcpts,
        'rcpt_order': [r['address'] for r in rec['rcpts']],
        'header': out,
        'body': None if body is None else body.decode('utf-8', 'surrogateescape'),
        'notes': notes,
        'bare_cr_lf': bool(re.search(rb'\r(?!\n)|(?<!\r)\n', data)),
        'eight_bit_header': any(b >= 0x80 for b in data[:len(data) - len(body or b'')]),
        'eight_bit_body': any(b >= 0x80 for b in (body or b'')),
    }


def merge_messages(msgs):
    """One entry per distinct (sender, params, header, body), recipients united."""
    merged = {}
    for m in msgs:
        key = json.dumps([m['mail_from'], m['mail_params'], m['header'], m['body']])
        if key in merged:
            merged[key]['rcpts'] = sorted(set(merged[key]['rcpts']) | set(m['rcpts']))
            merged[key]['rcpt_order'] += m['rcpt_order']
        else:
            merged[key] = dict(m)
    return sorted(merged.values(), key=lambda m: json.dumps(m['rcpts']))


def comparable(side):
    """The part of a normalised result that must be equal."""
    return {
        'exit': side['exit'],
        'messages': [{k: m[k] for k in ('mail_from', 'mail_params', 'rcpts', 'header', 'body')}
                     for m in side['messages']],
    }


def describe_differences(a, b):
    """Human-readable list of what differs between two comparable() results (a=postfix)."""
    d = []
    if a['exit'] != b['exit']:
        d.append('exit: postfix %s, sealmail %s' % (a['exit'], b['exit']))
    if len(a['messages']) != len(b['messages']):
        d.append('messages: postfix %d, sealmail %d' % (len(a['messages']), len(b['messages'])))
    for i, (ma, mb) in enumerate(zip(a['messages'], b['messages'])):
        p = 'message %d: ' % (i + 1) if len(a['messages']) > 1 else ''
        for k in ('mail_from', 'mail_params', 'rcpts'):
            if ma[k] != mb[k]:
                d.append('%s%s: postfix %r, sealmail %r' % (p, k, ma[k], mb[k]))
        if ma['header'] != mb['header']:
            ha, hb = ma['header'], mb['header']
            la = [f'{n}:{v}' for n, v in ha]
            lb = [f'{n}:{v}' for n, v in hb]
            only_a = [x for x in la if x not in lb]
            only_b = [x for x in lb if x not in la]
            if not only_a and not only_b:
                d.append('%sheader order: postfix %r, sealmail %r' % (p, [n for n, _ in ha], [n for n, _ in hb]))
            for x in only_a:
                d.append('%sheader only from postfix: %s' % (p, short(x)))
            for x in only_b:
                d.append('%sheader only from sealmail: %s' % (p, short(x)))
        if ma['body'] != mb['body']:
            d.append('%sbody: postfix %s, sealmail %s' % (p, short(ma['body']), short(mb['body'])))
    return d


def short(x, n=160):
    r = x if isinstance(x, str) and n > 300 else repr(x)
    return r if len(r) <= n else r[:n] + '...(%d chars)' % len(x or '')


# ---------------------------------------------------------------------------------------------
# Classification

def load_known(path):
    """{id: status} from the table rows of KNOWN-DIFFERENCES.md: | `id` | status | ..."""
    known = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            m = re.match(r'^\|\s*`([A-Za-z0-9-]+)`\s*\|\s*([a-z]+)\s*\|', line)
            if m:
                known[m.group(1)] = m.group(2)
    return known


def classify(case, pf, sm, known_status):
    """(verdict, rule ids used, differences): verdict is identical, deliberate or unexplained."""
    a, b = comparable(pf), comparable(sm)
    pre = ['options-after-recipients'] if case.pf_argv else []
    if a == b:
        return ('deliberate', pre, []) if pre else ('identical', [], [])
    raw = describe_differences(a, b)
    pf2 = json.loads(json.dumps(pf))
    sm2 = json.loads(json.dumps(sm))
    for side in (pf2, sm2):
        for m in side['messages']:
            m['rcpts'] = [(x[0], tuple(x[1])) for x in m['rcpts']]
            m['header'] = [tuple(x) for x in m['header']]
    used = list(pre)
    for rid, rule in known.RULES:
        if rid in used:
            continue
        if rule(case, pf2, sm2):
            used.append(rid)
        if comparable(pf2) == comparable(sm2):
            break
    a2, b2 = comparable(pf2), comparable(sm2)
    not_deliberate = [u for u in used if known_status.get(u) != 'deliberate']
    if a2 == b2 and not not_deliberate:
        return 'deliberate', used, raw
    residual = describe_differences(a2, b2)
    regressed = [u for u in used if known_status.get(u) == 'fixed']
    if not residual and regressed:
        return 'unexplained', used, ['a fixed bug is back: %s (KNOWN-DIFFERENCES.md, status fixed)' % ', '.join(regressed)] \
            + ['before: ' + short(d, 600) for d in raw]
    if not residual:
        return 'open', used, raw
    return 'unexplained', used, ['after the known differences (%s): %s' % (', '.join(used) or 'none', short(d, 600))
                                 for d in residual] + ['before: ' + short(d, 600) for d in raw]


# ---------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--postfix')
    ap.add_argument('--postfix-config')
    ap.add_argument('--postfix-sink')
    ap.add_argument('--sealmail')
    ap.add_argument('--sealmail-config')
    ap.add_argument('--sealmail-sink')
    ap.add_argument('--known', default=os.path.join(os.path.dirname(os.path.abspath(__file__)), 'KNOWN-DIFFERENCES.md'))
    ap.add_argument('--out')
    ap.add_argument('--only', help='run the cases whose name contains this')
    ap.add_argument('--list', action='store_true', help='list the cases and exit')
    ap.add_argument('--reclassify', action='store_true',
                    help='classify the raw results saved in OUT/raw.json again, without running anything')
    ap.add_argument('-v', '--verbose', action='store_true')
    args = ap.parse_args()

    cases = corpus.corpus()
    if args.only:
        cases = [c for c in cases if args.only in c.name]
    if args.list:
        for c in cases:
            print(c.name, c.argv, c.note)
        return 0
    needed = ['out'] if args.reclassify else ['out', 'postfix', 'postfix_config', 'postfix_sink', 'sealmail',
                                              'sealmail_config', 'sealmail_sink']
    missing = [n for n in needed if not getattr(args, n)]
    if missing:
        ap.error('missing: ' + ', '.join('--' + n.replace('_', '-') for n in missing))
    known_status = load_known(args.known)
    missing = [rid for rid, _ in known.RULES if rid not in known_status]
    if missing:
        print('differential: rules missing from %s: %s' % (args.known, ', '.join(missing)))
        return 2
    os.makedirs(args.out, exist_ok=True)
    if not args.reclassify:
        pf_sink, sm_sink = Sink(args.postfix_sink), Sink(args.sealmail_sink)
        pf_cmd, sm_cmd = [args.postfix], [args.sealmail]
        pf_env = {'MAIL_CONFIG': args.postfix_config}
        sm_env = {'SEALMAIL_CONFIG': args.sealmail_config}

    t0 = time.monotonic()
    results = []
    if args.reclassify:
        with open(os.path.join(args.out, 'raw.json')) as f:
            saved = json.load(f)
        by_name = {c.name: c for c in cases}
        results = [(by_name[n], pf, sm) for n, pf, sm in saved if n in by_name]
        cases = []
    counts = {'identical': 0, 'deliberate': 0, 'open': 0, 'unexplained': 0}
    by_rule = {}
    previous = None
    for case in cases:
        # Late arrivals belong to the case before.
        if previous is not None:
            previous[0]['raw'] += pf_sink.new()
            previous[1]['raw'] += sm_sink.new()
        pf = run_program(pf_cmd, pf_env, case.pf_argv or case.argv, case.stdin)
        sm = run_program(sm_cmd, sm_env, case.argv, case.stdin)
        pf['raw'] = pf_sink.wait_new(10.0) if pf['exit'] == 0 else pf_sink.new()
        sm['raw'] = sm_sink.wait_new(3.0) if sm['exit'] == 0 else sm_sink.new()
        previous = (pf, sm, case)
        results.append((case, pf, sm))
    # the last case's late arrivals
    time.sleep(0.5)
    if previous is not None:
        previous[0]['raw'] += pf_sink.new()
        previous[1]['raw'] += sm_sink.new()
    elapsed = time.monotonic() - t0
    if not args.reclassify:
        with open(os.path.join(args.out, 'raw.json'), 'w') as f:
            json.dump([(c.name, pf, sm) for c, pf, sm in results], f)

    report = []
    for case, pf, sm in results:
        for side in (pf, sm):
            side['messages'] = merge_messages([normalise_message(r, case) for r in side['raw']])
        verdict, used, diffs = classify(case, pf, sm, known_status)
        counts[verdict] += 1
        for u in used:
            by_rule[u] = by_rule.get(u, 0) + 1
        order_note = []
        for mp, ms in zip(pf['messages'], sm['messages']):
            if mp['rcpt_order'] != ms['rcpt_order'] and sorted(mp['rcpt_order']) == sorted(ms['rcpt_order']):
                order_note.append('recipient order differs: postfix %s, sealmail %s' % (mp['rcpt_order'], ms['rcpt_order']))
        stray = [m for m in sm['messages'] if m['bare_cr_lf']]
        if stray:
            verdict_extra = 'sealmail sent a bare CR or LF in DATA'
            diffs = diffs + [verdict_extra]
            if verdict != 'unexplained':
                counts[verdict] -= 1
                counts['unexplained'] += 1
                verdict = 'unexplained'
        entry = {
            'case': case.name, 'argv': case.argv, 'note': case.note, 'verdict': verdict, 'rules': used,
            'differences': diffs, 'notes': order_note + [n for m in pf['messages'] + sm['messages'] for n in m['notes']],
            'postfix': {'exit': pf['exit'], 'stderr': pf['stderr'][-2000:], 'seconds': pf['seconds'],
                        'messages': pf['messages']},
            'sealmail': {'exit': sm['exit'], 'stderr': sm['stderr'][-2000:], 'stdout': sm['stdout'][-2000:],
                         'seconds': sm['seconds'],
                         'messages': sm['messages']},
            'stdin_b64': base64.b64encode(case.stdin[:4096]).decode('ascii'),
        }
        report.append(entry)
        open_ids = [u for u in used if known_status.get(u) != 'deliberate']
        if verdict == 'open':
            print('OPEN         %s (%s)' % (case.name, ', '.join(open_ids)))
        elif verdict == 'unexplained' or args.verbose:
            print('%-12s %s %s' % (verdict.upper(), case.name,
                                   ' '.join(repr(a) if ' ' in a or not a else a for a in case.argv)[:120]))
            for d in diffs[:12]:
                print('    ' + d)
            if verdict == 'unexplained':
                if pf['stderr'].strip():
                    print('    postfix stderr: ' + short(pf['stderr'].strip(), 300))
                if sm['stderr'].strip():
                    print('    sealmail stderr: ' + short(sm['stderr'].strip(), 300))

    with open(os.path.join(args.out, 'differential.json'), 'w') as f:
        json.dump(report, f, indent=1, default=list)
    with open(os.path.join(args.out, 'differential.txt'), 'w') as f:
        for e in report:
            f.write('%s %s %s\n' % (e['verdict'], e['case'], ','.join(e['rules'])))
            for d in e['differences']:
                f.write('    %s\n' % d)
    n = len(report)
    unexplained = counts['open'] + counts['unexplained']
    print('differential: %d cases, %d identical, %d deliberate, %d unexplained (%.0f s)' % (
        n, counts['identical'], counts['deliberate'], unexplained, elapsed))
    only_orcpt = sum(1 for e in report if e['verdict'] == 'deliberate' and e['rules'] == ['orcpt-only-when-rewritten'])
    print('differential: of the deliberate, %d differ only in the ORCPT parameter (orcpt-only-when-rewritten)' % only_orcpt)
    deliberate_ids = {u: k for u, k in by_rule.items() if known_status.get(u) == 'deliberate'}
    open_ids = {u: k for u, k in by_rule.items() if known_status.get(u) == 'open'}
    if deliberate_ids:
        print('differential: deliberate differences (cases): ' +
              ', '.join('%s %d' % kv for kv in sorted(deliberate_ids.items())))
    if unexplained:
        print('differential: unexplained = %d explained only by open bugs of KNOWN-DIFFERENCES.md (cases: %s) '
              '+ %d not matched by any known difference' % (
                  counts['open'], ', '.join('%s %d' % kv for kv in sorted(open_ids.items())) or '-',
                  counts['unexplained']))
    with open(os.path.join(args.out, 'differential-summary.txt'), 'w') as f:
        f.write('%d %d %d %d\n' % (n, counts['identical'], counts['deliberate'], unexplained))
    # The gate: a difference no known row explains fails the run. Known open bugs are counted
    # and listed (OPEN lines) but fail the run only with COMPAT_STRICT=1, so that the suite
    # guards against regressions while those bugs have issues of their own.
    if counts['unexplained']:
        return 1
    if counts['open'] and os.environ.get('COMPAT_STRICT'):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
