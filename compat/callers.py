#!/usr/bin/python3
"""Real callers of /usr/sbin/sendmail, run with sealmail installed there, checked at the sink.

Run by compat/run (with /usr/bin/python3), after it installed sealmail (behind an argv-logging
wrapper) as /usr/sbin/sendmail and started the recording sink (sink.py) for it:

    callers.py run    --sink DIR --argv-log FILE --out DIR --postfix CMD --postfix-config DIR
                      --postfix-sink DIR --smime-cert PEM
    callers.py cron   --sink DIR --argv-log FILE --out DIR --wait SECONDS
    callers.py summary --out DIR

`run` drives every caller except cron (whose jobs compat/run installed at the start, so the
minute cron waits for is spent on the other work) and writes OUT/callers.json; `cron` waits for
the cron jobs' mail and adds its checks; `summary` prints one line per caller and the argv
table, and exits 1 when a check failed. Postfix's sendmail is used by `run` only to record what
it does with PHP's header-injection attempts (a note, not a check); --smime-cert is the
certificate of the sign rule compat/run put in the config, for `openssl smime -verify`.

Every message a caller sends carries a token (in the Subject or body) that identifies it at
the sink. Each check is one line: what is checked, and on failure what was found. sealmail runs
with its production default delivery mode (background: the caller returns before delivery),
so the checks poll the sink.
"""

import argparse
import base64
import email
import email.header
import email.policy
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

DOMAIN = 'example.com'
SHORT = os.uname().nodename.split('.')[0]
ENV = {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'HOME': '/root', 'USER': 'root', 'LOGNAME': 'root',
       'LANG': 'C.UTF-8', 'LC_ALL': 'C.UTF-8', 'TERM': 'dumb'}


# ---------------------------------------------------------------------------------------------
# The sink and the argv log

class Sink:
    def __init__(self, path):
        self.path = path
        self.used = set()

    def all(self):
        out = []
        for p in sorted(glob.glob(os.path.join(self.path, '*.json'))):
            with open(p) as f:
                r = json.load(f)
            r['file'] = os.path.basename(p)
            r['data'] = base64.b64decode(r['data_b64'])
            out.append(r)
        return out

    def wait(self, token, timeout=20.0, count=1):
        """The messages holding token (in DATA), waiting until there are `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            got = [r for r in self.all() if token.encode() in r['data']]
            if len(got) >= count or time.monotonic() >= deadline:
                return got
            time.sleep(0.1)


def read_argv_log(path, start=0):
    """[(parent command, argv0, [args])] logged by the wrapper from byte offset start."""
    out = []
    try:
        with open(path, 'rb') as f:
            f.seek(start)
            for line in f:
                fields = line.split()
                if len(fields) < 3:
                    continue
                try:
                    dec = [b'' if x == b'-' else base64.b64decode(x) for x in fields[1:]]
                except ValueError:
                    continue
                dec = [x.decode('utf-8', 'replace') for x in dec]
                out.append((dec[0], dec[1], dec[2:]))
    except FileNotFoundError:
        pass
    return out


def log_size(path):
    try:
        return os.path.getsize(path)
    except FileNotFoundError:
        return 0


def show_argv(args):
    return ' '.join(a if re.fullmatch(r'[-\w@.,=+/:<>]+', a) else repr(a) for a in args)


# ---------------------------------------------------------------------------------------------
# Checks

class Caller:
    """The checks of one caller: a list of (ok, description, detail)."""

    def __init__(self, name, version=''):
        self.name = name
        self.version = version
        self.checks = []
        self.argvs = []
        self.notes = []

    def check(self, ok, what, detail=''):
        self.checks.append((bool(ok), what, '' if ok else detail))
        return bool(ok)

    def to_json(self):
        return {'name': self.name, 'version': self.version, 'checks': self.checks,
                'argvs': self.argvs, 'notes': self.notes}


def parse(rec):
    msg = email.message_from_bytes(rec['data'], policy=email.policy.default)
    return msg


def header(rec, name):
    """All raw (unfolded) values of a header field, from the wire bytes."""
    head = rec['data'].split(b'\r\n\r\n', 1)[0].decode('utf-8', 'surrogateescape')
    head = re.sub(r'\r\n[ \t]', ' ', head)
    out = []
    for line in head.split('\r\n'):
        n, sep, v = line.partition(':')
        if sep and n.lower() == name.lower():
            out.append(v.strip())
    return out


def decoded(value):
    return str(email.header.make_header(email.header.decode_header(value)))


def body_text(rec):
    msg = parse(rec)
    if 'Content-Type' not in msg:
        # No MIME header (mailutils writes none): the bytes are what the caller wrote.
        return rec['data'].split(b'\r\n\r\n', 1)[-1].decode('utf-8', 'replace').replace('\r\n', '\n')
    part = msg.get_body(preferencelist=('plain',)) if msg.is_multipart() else msg
    try:
        text = part.get_content()
    except Exception:  # noqa: BLE001 -- a malformed part: show the raw bytes
        text = rec['data'].split(b'\r\n\r\n', 1)[-1].decode('utf-8', 'replace')
    return text.replace('\r\n', '\n')


def rcpts(rec):
    return sorted(r['address'] for r in rec['rcpts'])


def wire_clean(rec):
    d = rec['data']
    return not re.search(rb'\r(?!\n)|(?<!\r)\n', d) and all(len(x) <= 998 for x in d.split(b'\r\n'))


def common_checks(c, rec, label, want_rcpts, want_from_env=None):
    """Envelope, the header fields sendmail must add, the wire format."""
    got = rcpts(rec)
    c.check(got == sorted(want_rcpts), '%s: RCPT TO %s' % (label, ', '.join(sorted(want_rcpts))), 'got %s' % got)
    if want_from_env is not None:
        c.check(rec['mail_from'] == want_from_env, '%s: MAIL FROM <%s>' % (label, want_from_env),
                'got <%s>' % rec['mail_from'])
    for f in ('From', 'Date', 'Message-ID'):
        c.check(len(header(rec, f)) == 1, '%s: exactly one %s' % (label, f), 'got %r' % header(rec, f))
    c.check(not header(rec, 'Bcc') and not header(rec, 'Resent-Bcc'), '%s: no Bcc field' % label,
            'got Bcc %r' % header(rec, 'Bcc'))
    c.check(wire_clean(rec), '%s: CRLF only, no line over 998 octets' % label, 'bare CR/LF or a long line')
    addrs = ' '.join(header(rec, 'From') + header(rec, 'To') + header(rec, 'Cc') + [rec['mail_from']] + got)
    bad = re.findall(r'[\w.+-]+@(?:%s|localhost)\b(?!\.)|<(?:root|[a-z]+)>' % re.escape(SHORT), addrs)
    c.check(not bad, '%s: no unqualified or host-local address' % label, 'found %s' % bad)


def run(cmd, c, stdin=b'', env=None, timeout=60, cwd=None):
    e = dict(ENV)
    e.update(env or {})
    try:
        p = subprocess.run(cmd, input=stdin, env=e, cwd=cwd or '/tmp', stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=timeout)
        return p.returncode, p.stdout.decode('utf-8', 'replace')
    except subprocess.TimeoutExpired as ex:
        c.check(False, '%s finishes' % cmd[0], 'still running after %d s (a detached child holding its pipes?)' % timeout)
        return None, (ex.stdout or b'').decode('utf-8', 'replace')


def version_of(pkg):
    try:
        return subprocess.run(['dpkg-query', '-W', '-f=${Version}', pkg], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL).stdout.decode()
    except OSError:
        return ''


class Run:
    """Shared state: where the sink is, the argv log, a token counter."""

    def __init__(self, args):
        self.sink = Sink(args.sink)
        self.log = args.argv_log
        self.n = 0
        self.stamp = '%x' % int(time.time())
        self.args = args

    def token(self, what):
        self.n += 1
        return 'cmp%s%s%02d' % (self.stamp, re.sub(r'\W', '', what)[:10], self.n)

    def invoke(self, c, label, cmd, stdin=b'', env=None, timeout=60, expect_rc=0, cwd=None):
        """Runs a caller; records the argv it passed to sendmail."""
        start = log_size(self.log)
        rc, out = run(cmd, c, stdin, env, timeout, cwd)
        if expect_rc is not None and rc is not None:
            c.check(rc == expect_rc, '%s: %s exits %d' % (label, os.path.basename(cmd[0]), expect_rc),
                    'exit %s: %s' % (rc, out.strip()[-300:]))
        time.sleep(0.05)
        for parent, argv0, argv in read_argv_log(self.log, start):
            entry = (label, parent, argv0, argv)
            c.argvs.append(entry)
        return rc, out


# ---------------------------------------------------------------------------------------------
# mail(1): bsd-mailx, GNU mailutils, s-nail

UTF8_SUBJ = 'Grüße – café 日本'
UTF8_BODY = 'Grüße aus Köln — 日本語\nzweite Zeile\n.\nnach dem Punkt\n'


def mailx_family(r, c, prog, style):
    """style: 'bsd', 'mu' (mailutils) or 's-nail' (their option spellings differ)."""
    base = [prog] + (['-:/', '-Sv15-compat', '-Sttycharset=utf-8', '-Ssendcharsets=utf-8'] if style == 's-nail' else []) \
        + (['-n'] if style == 'mu' else [])
    sender = 'root@example.com'   # sealmail's identity for root (mailutils passes -f root@vm)

    # plain, -s
    t = r.token(c.name + 'plain')
    r.invoke(c, 'plain', base + ['-s', 'plain ' + t, 'to@example.net'], ('hello %s\n' % t).encode())
    got = r.sink.wait(t)
    if c.check(len(got) == 1, 'plain: one message at the relay', 'got %d' % len(got)):
        m = got[0]
        common_checks(c, m, 'plain', ['to@example.net'], sender)
        c.check(header(m, 'Subject') == ['plain ' + t], 'plain: Subject as given', 'got %r' % header(m, 'Subject'))
        c.check(re.search(r'<root@example\.com>|^root@example\.com', header(m, 'From')[0] if header(m, 'From') else ''),
                'plain: From is root@example.com', 'got %r' % header(m, 'From'))
        c.check(t in body_text(m), 'plain: body', 'got %r' % body_text(m)[:200])

    # -c, -b (mailutils: Cc:/Bcc: header fields with -a)
    t = r.token(c.name + 'ccbcc')
    if style == 'mu':
        cmd = base + ['-s', 'cc ' + t, '-a', 'Cc: cc@example.net', '-a', 'Bcc: bcc@example.net', 'to@example.net']
    else:
        cmd = base + ['-s', 'cc ' + t, '-c', 'cc@example.net', '-b', 'bcc@example.net', 'to@example.net']
    r.invoke(c, '-c/-b', cmd, ('cc and bcc %s\n' % t).encode())
    got = r.sink.wait(t)
    if c.check(len(got) == 1, '-c/-b: one message at the relay', 'got %d' % len(got)):
        m = got[0]
        common_checks(c, m, '-c/-b', ['to@example.net', 'cc@example.net', 'bcc@example.net'])
        c.check(any('cc@example.net' in v for v in header(m, 'Cc')), '-c/-b: Cc field kept', 'got %r' % header(m, 'Cc'))
        c.check('bcc@example.net' not in m['data'].decode('utf-8', 'replace'),
                '-c/-b: the Bcc address appears nowhere in the message', 'found')

    # -r sender
    t = r.token(c.name + 'from')
    r.invoke(c, '-r', base + ['-s', 'from ' + t, '-r', 'sender@example.org', 'to@example.net'], ('from %s\n' % t).encode())
    got = r.sink.wait(t)
    if c.check(len(got) == 1, '-r: one message at the relay', 'got %d' % len(got)):
        m = got[0]
        common_checks(c, m, '-r', ['to@example.net'], 'sender@example.org')
        c.check(any('sender@example.org' in v for v in header(m, 'From')), '-r: From is the -r address',
                'got %r' % header(m, 'From'))

    # attachment (-a FILE for s-nail, -A FILE for mailutils; bsd-mailx has none: -a adds a header)
    t = r.token(c.name + 'att')
    if style == 'bsd':
        r.invoke(c, '-a header', base + ['-s', 'hdr ' + t, '-a', 'X-Compat: ' + t, 'to@example.net'],
                 ('header %s\n' % t).encode())
        got = r.sink.wait(t)
        if c.check(len(got) == 1, '-a header: one message at the relay', 'got %d' % len(got)):
            c.check(header(got[0], 'X-Compat') == [t], '-a header: X-Compat field kept', 'got %r' % header(got[0], 'X-Compat'))
    else:
        path = os.path.join(r.args.out, 'attach-%s.bin' % c.name)
        payload = bytes(range(256)) * 4 + t.encode()
        with open(path, 'wb') as f:
            f.write(payload)
        flag = '-A' if style == 'mu' else '-a'
        r.invoke(c, 'attachment', base + ['-s', 'att ' + t, flag, path, 'to@example.net'], ('see attached %s\n' % t).encode())
        got = r.sink.wait(t)
        if c.check(len(got) == 1, 'attachment: one message at the relay', 'got %d' % len(got)):
            msg = parse(got[0])
            atts = [p for p in msg.iter_attachments()] if msg.is_multipart() else []
            data = atts[0].get_content() if atts else b''
            c.check(data == payload, 'attachment: the file arrives byte for byte (%d bytes)' % len(payload),
                    'got %d attachment(s), %d bytes' % (len(atts), len(data) if isinstance(data, bytes) else -1))
            common_checks(c, got[0], 'attachment', ['to@example.net'])

    # UTF-8 subject and body, several recipients, an unqualified one
    t = r.token(c.name + 'utf8')
    r.invoke(c, 'utf-8', base + ['-s', UTF8_SUBJ + ' ' + t, 'to@example.net', 'root'],
             (t + '\n' + UTF8_BODY).encode(), env={'LANG': 'C.UTF-8'})
    got = r.sink.wait(t)
    if c.check(len(got) == 1, 'utf-8: one message at the relay', 'got %d' % len(got)):
        m = got[0]
        common_checks(c, m, 'utf-8', ['to@example.net', 'root@example.com'])
        subj = decoded(header(m, 'Subject')[0]) if header(m, 'Subject') else ''
        c.check(subj == UTF8_SUBJ + ' ' + t, 'utf-8: Subject decodes to the text given', 'got %r' % subj)
        text = body_text(m)
        c.check(UTF8_BODY.split('\n.\n')[0] in text and 'nach dem Punkt' in text,
                'utf-8: body intact, the lone "." line kept', 'got %r' % text[:300])
        if any(b >= 0x80 for b in m['data']):
            c.check('BODY=8BITMIME' in m['mail_params'], 'utf-8: 8-bit data sent with BODY=8BITMIME',
                    'MAIL FROM params %s' % m['mail_params'])


def caller_mailx(r):
    out = []
    for prog, pkg, style in (('/usr/bin/bsd-mailx', 'bsd-mailx', 'bsd'),
                             ('/usr/bin/mail.mailutils', 'mailutils', 'mu'),
                             ('/usr/bin/s-nail', 's-nail', 's-nail')):
        c = Caller(pkg, version_of(pkg))
        if not os.path.exists(prog):
            c.check(False, '%s installed' % prog, 'missing')
        else:
            mailx_family(r, c, prog, style)
        out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# PHP mail()

PHP = r'''
$r = mail(getenv("TO"), getenv("SUBJ"), getenv("BODY"), getenv("HDRS"), getenv("PARAMS") === false ? "" : getenv("PARAMS"));
echo $r ? "mail() returned true\n" : "mail() returned false\n";
'''


def caller_php(r):
    c = Caller('php mail()', version_of('php-cli') or version_of('php8.2-cli'))
    php = shutil.which('php', path=ENV['PATH'])
    if not php:
        c.check(False, 'php installed', 'missing')
        return [c]

    def mail(label, to, subj, body, hdrs='', params=None, ini=()):
        env = {'TO': to, 'SUBJ': subj, 'BODY': body, 'HDRS': hdrs}
        if params is not None:
            env['PARAMS'] = params
        cmd = [php, '-n'] + [x for kv in ini for x in ('-d', kv)] + ['-r', PHP]
        rc, out = r.invoke(c, label, cmd, env=env)
        c.check('returned true' in out, '%s: mail() returns true' % label, out.strip()[-200:])
        return out

    t = r.token('php')
    mail('default', 'to@example.net', 'php ' + t, 'line1\nline2\n.\nend ' + t, 'From: web@example.org\r\nX-Test: 1')
    got = r.sink.wait(t)
    if c.check(len(got) == 1, 'default: one message at the relay', 'got %d' % len(got)):
        m = got[0]
        common_checks(c, m, 'default', ['to@example.net'], 'root@example.com')
        c.check(header(m, 'From') == ['web@example.org'], 'default: From from additional_headers', 'got %r' % header(m, 'From'))
        c.check(b'line1\r\nline2\r\n.\r\nend ' + t.encode() in m['data'],
                'default: body with LF made CRLF, lone "." kept (-i)', repr(m['data'][-80:]))

    t = r.token('phpf')
    mail('-f', 'to@example.net', 'php -f ' + t, 'body ' + t, 'From: web@example.org', params='-fbounce@example.org')
    got = r.sink.wait(t)
    if c.check(len(got) == 1, '-f: one message at the relay', 'got %d' % len(got)):
        common_checks(c, got[0], '-f', ['to@example.net'], 'bounce@example.org')

    t = r.token('phpbcc')
    mail('Bcc header', 'to@example.net', 'php bcc ' + t, 'body ' + t, 'From: web@example.org\r\nBcc: hidden@example.net')
    got = r.sink.wait(t)
    if c.check(len(got) == 1, 'Bcc header: one message at the relay', 'got %d' % len(got)):
        common_checks(c, got[0], 'Bcc header', ['to@example.net', 'hidden@example.net'])

    # Header injection: PHP turns the CR/LF of to and subject into spaces; what must not happen
    # is a hidden recipient or a Bcc field. The same call through Postfix is recorded as well.
    for label, to, subj in (
            ('injection in to', 'x@example.net\r\nBcc: evil@example.net', 'inj to %s'),
            ('injection in subject', 'x@example.net', 'inj subj %s\r\nBcc: evil@example.net'),
            ('injection in subject (LF)', 'x@example.net', 'inj subj lf %s\nBcc: evil@example.net\nX-Evil: 1')):
        t = r.token('phpinj')
        mail(label, to, subj % t if '%s' in subj else subj, 'body ' + t, 'From: web@example.org')
        got = r.sink.wait(t)
        pf = postfix_php(r, to, subj % t if '%s' in subj else subj, 'body ' + t, 'From: web@example.org')
        if c.check(len(got) == 1, '%s: one message at the relay' % label, 'got %d' % len(got)):
            m = got[0]
            c.check(not header(m, 'Bcc') and not header(m, 'X-Evil'), '%s: no injected field' % label,
                    'fields %s' % [l.split(':')[0] for l in m['data'].split(b'\r\n\r\n')[0].decode('utf-8', 'replace').split('\r\n')])
            visible = ' '.join(header(m, 'To') + header(m, 'Cc'))
            hidden = [a for a in rcpts(m) if a not in visible]
            c.check(not hidden, '%s: no recipient that is not in To/Cc' % label, 'hidden %s' % hidden)
            if pf is not None and rcpts(m) != pf:
                c.notes.append('%s: recipients: sealmail %s, Postfix %s' % (label, rcpts(m), pf))

    # Flag injection through additional_params: "-f a@b -X/tmp/pwn.php" reaches sendmail as 3 words.
    for label, params in (('-X glued', '-f a@b -X/tmp/pwn.php'), ('-X separate', '-f a@b -X /tmp/pwn.php')):
        existed = os.path.exists('/tmp/pwn.php')
        t = r.token('phpx')
        mail(label, 'to@example.net', 'php x ' + t, '<?php echo "pwned"; ?> ' + t, 'From: web@example.org', params=params)
        got = r.sink.wait(t)
        c.check(existed or not os.path.exists('/tmp/pwn.php'), '%s: /tmp/pwn.php is not created' % label,
                'created: %r' % open('/tmp/pwn.php', 'rb').read(200) if os.path.exists('/tmp/pwn.php') else '')
        if os.path.exists('/tmp/pwn.php') and not existed:
            os.unlink('/tmp/pwn.php')
        if c.check(len(got) == 1, '%s: the mail is still sent (-X ignored)' % label, 'got %d' % len(got)):
            common_checks(c, got[0], label, ['to@example.net'], 'a@b.' + DOMAIN)

    # sendmail_path set explicitly, as php.ini files do, with -t -i and a -f
    t = r.token('phpini')
    mail('sendmail_path', 'to@example.net', 'php ini ' + t, 'body ' + t, 'From: web@example.org',
         ini=('sendmail_path=/usr/sbin/sendmail -t -i -fini@example.org',))
    got = r.sink.wait(t)
    if c.check(len(got) == 1, 'sendmail_path: one message at the relay', 'got %d' % len(got)):
        common_checks(c, got[0], 'sendmail_path', ['to@example.net'], 'ini@example.org')
    return [c]


def postfix_php(r, to, subj, body, hdrs):
    """The recipients Postfix's sendmail gets for the same mail() call (None when not run)."""
    a = r.args
    if not a.postfix:
        return None
    php = shutil.which('php', path=ENV['PATH'])
    pf_sink = Sink(a.postfix_sink)
    token = re.search(r'cmp\w+', body).group(0)
    env = dict(ENV, TO=to, SUBJ=subj, BODY=body, HDRS=hdrs, MAIL_CONFIG=a.postfix_config)
    subprocess.run([php, '-n', '-d', 'sendmail_path=%s -t -i' % a.postfix, '-r', PHP], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
    got = pf_sink.wait(token, timeout=10)
    return sorted({x for g in got for x in rcpts(g)}) if got else []


# ---------------------------------------------------------------------------------------------
# git send-email

def caller_git(r):
    c = Caller('git send-email', version_of('git-email'))
    if not os.path.exists('/usr/lib/git-core/git-send-email'):
        c.check(False, 'git-email installed', 'missing')
        return [c]
    repo = tempfile.mkdtemp(prefix='git-', dir=r.args.out)
    gitenv = {'GIT_AUTHOR_NAME': 'Dev Eloper', 'GIT_AUTHOR_EMAIL': 'dev@example.org',
              'GIT_COMMITTER_NAME': 'Dev Eloper', 'GIT_COMMITTER_EMAIL': 'dev@example.org',
              'HOME': repo, 'GIT_CONFIG_NOSYSTEM': '1'}

    def git(*args):
        return run(['git', '-C', repo] + list(args), c, env=gitenv)

    git('init', '-q')
    for label, extra in (('--sendmail-cmd', ['--sendmail-cmd=/usr/sbin/sendmail']),
                         ('smtpServer', ['--smtp-server=/usr/sbin/sendmail', '--envelope-sender=env@example.org'])):
        t = r.token('git')
        with open(os.path.join(repo, 'file.txt'), 'a') as f:
            f.write('line %s\n.\n' % t)
        git('add', 'file.txt')
        git('commit', '-q', '-m', 'fix: %s\n\nA lone dot follows in the diff; UTF-8: é' % t)
        rc, out = git('format-patch', '-1', '-o', 'patches')
        patch = sorted(glob.glob(os.path.join(repo, 'patches', '*.patch')))[-1]
        r.invoke(c, label, ['git', '-C', repo, 'send-email', '--confirm=never', '--quiet', '--suppress-cc=all',
                            '--no-chain-reply-to', '--to=to@example.net', '--cc=cc@example.net',
                            '--bcc=bcc@example.net', '--from=Dev Eloper <dev@example.org>'] + extra + [patch],
                 env=gitenv)
        got = r.sink.wait(t)
        if c.check(len(got) == 1, '%s: one message at the relay' % label, 'got %d' % len(got)):
            m = got[0]
            common_checks(c, m, label, ['to@example.net', 'cc@example.net', 'bcc@example.net'],
                          'env@example.org' if 'envelope' in str(extra) else 'root@example.com')
            c.check(header(m, 'From') == ['Dev Eloper <dev@example.org>'], '%s: From as git wrote it' % label,
                    'got %r' % header(m, 'From'))
            c.check(any(t in v for v in header(m, 'Subject')) and '[PATCH]' in header(m, 'Subject')[0],
                    '%s: Subject "[PATCH] fix: ..."' % label, 'got %r' % header(m, 'Subject'))
            c.check(len(header(m, 'Message-ID')) == 1 and header(m, 'Message-ID')[0].endswith('@example.org>'),
                    '%s: git\'s Message-ID kept' % label, 'got %r' % header(m, 'Message-ID'))
            c.check(b'\r\n+.\r\n' in m['data'], '%s: the patch line "+." intact' % label, 'not found')
    return [c]


# ---------------------------------------------------------------------------------------------
# logwatch, unattended-upgrades

def caller_logwatch(r):
    c = Caller('logwatch', version_of('logwatch'))
    if not os.path.exists('/usr/sbin/logwatch'):
        c.check(False, 'logwatch installed', 'missing')
        return [c]
    t = r.token('logwatch')
    host = 'lw%s' % t      # --hostname puts the token into the Subject
    r.invoke(c, 'report', ['/usr/sbin/logwatch', '--output', 'mail', '--mailto', 'lw-admin@example.net',
                           '--range', 'today', '--detail', 'high', '--service', 'zz-disk_space',
                           '--service', 'zz-sys', '--hostname', host], timeout=120)
    got = r.sink.wait(t, timeout=30)
    if c.check(len(got) == 1, 'report: one message at the relay', 'got %d' % len(got)):
        m = got[0]
        common_checks(c, m, 'report', ['lw-admin@example.net'], 'root@example.com')
        # Debian's dist.conf sets MailFrom = root (upstream's default is "Logwatch")
        c.check(header(m, 'From') == ['root@example.com'], 'report: "From: root" qualified to root@example.com',
                'got %r' % header(m, 'From'))
        c.check('Logwatch for %s' % host in ' '.join(header(m, 'Subject')), 'report: Subject "Logwatch for HOST"',
                'got %r' % header(m, 'Subject'))
        c.check(header(m, 'Auto-Submitted') == ['auto-generated'], 'report: Auto-Submitted kept', 'got %r' % header(m, 'Auto-Submitted'))
        c.check('Disk Space' in body_text(m) or 'Logwatch End' in body_text(m), 'report: the report text',
                'got %r' % body_text(m)[:200])
    return [c]


def caller_unattended_upgrades(r):
    c = Caller('unattended-upgrades', version_of('unattended-upgrades'))
    path = '/usr/bin/unattended-upgrade'
    if not os.path.exists(path):
        c.check(False, 'unattended-upgrades installed', 'missing')
        return [c]
    t = r.token('uu')
    # Its own function, from its own file: _send_mail_using_sendmail(from, to, subject, body).
    code = ('import importlib.machinery, importlib.util, sys\n'
            'loader = importlib.machinery.SourceFileLoader("uu", %r)\n'
            'spec = importlib.util.spec_from_loader("uu", loader)\n'
            'uu = importlib.util.module_from_spec(spec); loader.exec_module(uu)\n'
            'sys.exit(uu._send_mail_using_sendmail("root", "uu-admin@example.net", '
            '"unattended-upgrades result for vm: SUCCESS %s", '
            '"Unattended upgrade result: All upgrades installed\\nPackages: libc6 (2.36) \\u2192 2.36-9\\n.\\nend\\n"))\n' % (path, t))
    r.invoke(c, 'summary mail', ['/usr/bin/python3', '-c', code])
    got = r.sink.wait(t)
    if c.check(len(got) == 1, 'summary mail: one message at the relay', 'got %d' % len(got)):
        m = got[0]
        common_checks(c, m, 'summary mail', ['uu-admin@example.net'], 'root@example.com')
        c.check(header(m, 'From') == ['root@example.com'], 'summary mail: "From: root" qualified', 'got %r' % header(m, 'From'))
        text = body_text(m)
        c.check('\u2192 2.36-9\n.\nend' in text, 'summary mail: quoted-printable UTF-8 body, "." line kept', 'got %r' % text[:300])
    return [c]


# ---------------------------------------------------------------------------------------------
# S/MIME: the callers' config signs mail from signed@example.com submitted by root

def caller_smime(r):
    c = Caller('S/MIME signing')
    cert = r.args.smime_cert
    if not cert:
        return []
    cases = [('bsd-mailx -r', ['/usr/bin/bsd-mailx', '-s', 'signed %s', '-r', 'signed@example.com', 'to@example.net'],
              {}, 'hello %s\n.\nlone dot above, UTF-8: Grüße\n'),
             ('php mail() -f', ['php', '-n', '-r', PHP],
              {'TO': 'to@example.net', 'SUBJ': 'signed %s', 'HDRS': 'From: signed@example.com', 'PARAMS': '-fsigned@example.com'},
              'hello %s\nfrom PHP\n')]
    for label, cmd, env, body in cases:
        t = r.token('smime')
        cmd = [x.replace('%s', t) if x.startswith('signed') else x for x in cmd]
        env = {k: v.replace('%s', t) for k, v in env.items()}
        if env:
            env['BODY'] = body % t
            r.invoke(c, label, cmd, env=env)
        else:
            r.invoke(c, label, cmd, (body % t).encode())
        got = r.sink.wait(t)
        if not c.check(len(got) == 1, '%s: one message at the relay' % label, 'got %d' % len(got)):
            continue
        m = got[0]
        common_checks(c, m, label, ['to@example.net'], 'signed@example.com')
        ctype = ' '.join(header(m, 'Content-Type'))
        c.check(ctype.startswith('multipart/signed') and 'application/pkcs7-signature' in ctype,
                '%s: multipart/signed (application/pkcs7-signature)' % label, 'Content-Type %r' % ctype)
        path = os.path.join(r.args.out, 'signed-%s.eml' % t)
        with open(path, 'wb') as f:
            f.write(m['data'])
        p = subprocess.run(['openssl', 'smime', '-verify', '-in', path, '-CAfile', cert, '-purpose', 'any'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        c.check(p.returncode == 0, '%s: openssl smime -verify succeeds with the test certificate' % label,
                p.stderr.decode('utf-8', 'replace').strip()[-300:])
        inner = email.message_from_bytes(p.stdout, policy=email.policy.default)
        try:
            text = inner.get_content().replace('\r\n', '\n')
        except Exception as e:  # noqa: BLE001
            text = 'unreadable signed entity: %s' % e
        want = body % t
        # (PHP adds a line end after the body)
        c.check(text.rstrip('\n') == want.rstrip('\n'), '%s: the signed content decodes to the body as written (%s)' % (
            label, inner.get('Content-Transfer-Encoding', '7bit')), 'got %r, want %r' % (text[:300], want))
    return [c]


# ---------------------------------------------------------------------------------------------
# sendmail's other names, and the queue

def caller_names(r):
    c = Caller('sendmail names')
    t = r.token('libsendmail')
    r.invoke(c, '/usr/lib/sendmail -t', ['/usr/lib/sendmail', '-t', '-i'],
             ('To: legacy@example.net\nSubject: legacy %s\n\nbody\n' % t).encode())
    got = r.sink.wait(t)
    if c.check(len(got) == 1, '/usr/lib/sendmail: one message at the relay', 'got %d' % len(got)):
        common_checks(c, got[0], '/usr/lib/sendmail', ['legacy@example.net'], 'root@example.com')
    rc, out = r.invoke(c, 'mailq', ['/usr/bin/mailq'])
    c.check('Mail queue is empty' in out or re.search(r'^-Queue ID-', out, re.M), 'mailq: Postfix\'s layout',
            'got %r' % out[:200])
    r.invoke(c, 'newaliases', ['/usr/bin/newaliases'])
    return [c]


# ---------------------------------------------------------------------------------------------
# cron (the jobs were installed by compat/run: see its cron set-up)

def caller_cron(r, wait):
    c = Caller('cron', version_of('cron'))
    stamp = r.args.cron_token
    deadline = time.monotonic() + wait
    owner = r.sink.wait(stamp + 'owner', timeout=max(1, deadline - time.monotonic()))
    mailto = r.sink.wait(stamp + 'mailto', timeout=max(1, deadline - time.monotonic()))
    for label, got, want in (('job of root, no MAILTO', owner, ['root@example.com']),
                             ('MAILTO=two addresses', mailto, ['cron-a@example.net', 'cron-b@example.net'])):
        if not c.check(got, '%s: mail at the relay within %d s of cron starting' % (label, wait), 'none'):
            continue
        m = got[0]
        common_checks(c, m, label, want, 'root@example.com')
        frm = header(m, 'From')
        c.check(frm == ['root@example.com (Cron Daemon)'], '%s: From "root (Cron Daemon)" qualified, comment kept' % label,
                'got %r' % frm)
        subj = header(m, 'Subject')
        c.check(subj and subj[0].startswith('Cron <root@%s>' % SHORT), '%s: Subject "Cron <root@%s> ..."' % (label, SHORT),
                'got %r' % subj)
        c.check(any(v.startswith('<') for v in header(m, 'X-Cron-Env')), '%s: X-Cron-Env fields kept' % label,
                'got %r' % header(m, 'X-Cron-Env'))
        text = body_text(m)
        c.check('Grüße' in text and '\n.\n' in text, '%s: job output (UTF-8, a lone ".") intact' % label,
                'got %r' % text[:200])
    for parent, argv0, argv in read_argv_log(r.log):
        if parent == 'cron':
            c.argvs.append(('job', parent, argv0, argv))
    return [c]


# ---------------------------------------------------------------------------------------------

def save(out, callers):
    path = os.path.join(out, 'callers.json')
    old = []
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
    names = {c.name for c in callers}
    data = [x for x in old if x['name'] not in names] + [c.to_json() for c in callers]
    with open(path, 'w') as f:
        json.dump(data, f, indent=1)


def summary(out):
    with open(os.path.join(out, 'callers.json')) as f:
        data = json.load(f)
    failed = 0
    table = ['| caller | invocation | argv passed to /usr/sbin/sendmail (after argv[0]) |', '|---|---|---|']
    for c in data:
        bad = [ch for ch in c['checks'] if not ch[0]]
        failed += len(bad)
        print('caller %-22s %s %3d/%-3d checks passed%s' % (
            c['name'], 'ok  ' if not bad else 'FAIL', len(c['checks']) - len(bad), len(c['checks']),
            (' (' + c['version'] + ')') if c['version'] else ''))
        for ok, what, detail in bad:
            print('    FAIL %s: %s' % (what, detail))
        for n in c['notes']:
            print('    note: %s' % n)
        seen = set()
        for label, parent, argv0, argv in c['argvs']:
            key = (label, tuple(argv))
            if key in seen:
                continue
            seen.add(key)
            table.append('| %s | %s (via %s, argv[0] %s) | `%s` |' % (c['name'], label, parent, argv0, show_argv(argv)))
    with open(os.path.join(out, 'argv-table.md'), 'w') as f:
        f.write('\n'.join(table) + '\n')
    return 1 if failed else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('phase', choices=['run', 'cron', 'summary'])
    ap.add_argument('--sink')
    ap.add_argument('--argv-log')
    ap.add_argument('--out', required=True)
    ap.add_argument('--postfix')
    ap.add_argument('--postfix-config')
    ap.add_argument('--postfix-sink')
    ap.add_argument('--cron-token', default='')
    ap.add_argument('--smime-cert')
    ap.add_argument('--wait', type=float, default=90)
    ap.add_argument('--only', help='run the callers whose function name contains this')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    if args.phase == 'summary':
        return summary(args.out)
    r = Run(args)
    if args.phase == 'cron':
        save(args.out, caller_cron(r, args.wait))
        return 0
    callers = []
    for fn in (caller_mailx, caller_php, caller_git, caller_logwatch, caller_unattended_upgrades, caller_smime,
               caller_names):
        if args.only and args.only not in fn.__name__:
            continue
        try:
            callers += fn(r)
        except Exception as e:  # noqa: BLE001 -- one caller's crash must not hide the others
            c = Caller(fn.__name__.replace('caller_', ''))
            c.check(False, 'the test ran', '%s: %s' % (type(e).__name__, e))
            callers.append(c)
    save(args.out, callers)
    return 0


if __name__ == '__main__':
    sys.exit(main())
