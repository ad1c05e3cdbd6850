#!/usr/bin/python3
"""Recording SMTP sink for compat/run (Debian's python3-aiosmtpd; run with /usr/bin/python3).

Every message accepted is written, atomically (tmp file then rename), to
DIR/<arrival-nanoseconds>-<n>.json:

    {"helo": "...", "mail_from": "...", "mail_params": ["SIZE=..", ...],
     "rcpts": [{"address": "...", "params": ["NOTIFY=..", ...]}, ...],
     "data_b64": "...",       # the DATA bytes after dot-unstuffing, exactly as received
     "peer": "127.0.0.1"}

aiosmtpd upper-cases MAIL/RCPT parameters and refuses the DSN ones (NOTIFY, ORCPT, RET,
ENVID), so MAIL and RCPT are handled here with the raw text kept: case and order of the
parameters are recorded as the client sent them. The EHLO reply adds DSN to what aiosmtpd
offers (SIZE, 8BITMIME, SMTPUTF8), so -N/-R/-V can be compared between MTAs.

Optional failure injection, for callers' error paths: a recipient whose local part starts
with "reject5xx" is refused with 550, "reject4xx" with 450.
"""

import argparse
import base64
import itertools
import json
import os
import re
import signal
import sys
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

_counter = itertools.count(1)
_PATH = re.compile(r'^\s*<([^>]*)>\s*(.*)$')
_BARE = re.compile(r'^\s*(\S+)\s*(.*)$')


def _split_path(arg, keyword):
    """Return (address, [params]) from 'FROM:<a> P=1' (keyword 'FROM:'), or None."""
    if arg is None or not arg[:len(keyword)].upper() == keyword:
        return None
    rest = arg[len(keyword):]
    m = _PATH.match(rest) or _BARE.match(rest)
    if not m:
        return None
    return m.group(1), m.group(2).split()


class RecordingSMTP(SMTP):
    # Record what the client sends, whatever its line length: the comparison decides.
    line_length_limit = 1 << 24
    command_size_limit = 1 << 16

    async def smtp_MAIL(self, arg):
        if await self.check_helo_needed():
            return
        if self.envelope.mail_from is not None:
            await self.push('503 Error: nested MAIL command')
            return
        parsed = _split_path(arg, 'FROM:')
        if parsed is None:
            await self.push('501 Syntax: MAIL FROM: <address> [SP <mail-parameters>]')
            return
        address, params = parsed
        self.envelope.mail_from = address
        self.envelope.mail_options = params
        await self.push('250 2.1.0 OK')

    async def smtp_RCPT(self, arg):
        if await self.check_helo_needed():
            return
        if self.envelope.mail_from is None:
            await self.push('503 Error: need MAIL command')
            return
        parsed = _split_path(arg, 'TO:')
        if parsed is None:
            await self.push('501 Syntax: RCPT TO: <address> [SP <mail-parameters>]')
            return
        address, params = parsed
        local = address.split('@', 1)[0].lower()
        if local.startswith('reject5xx'):
            await self.push('550 5.1.1 <%s>: Recipient address rejected: test' % address)
            return
        if local.startswith('reject4xx'):
            await self.push('450 4.2.0 <%s>: Recipient address rejected: try later' % address)
            return
        self.envelope.rcpt_tos.append(address)
        self.envelope.rcpt_options.append(params)
        await self.push('250 2.1.5 OK')


class Recorder:
    def __init__(self, outdir):
        self.outdir = outdir

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        # responses: ['250-name', '250-SIZE ..', ..., '250 HELP']
        return responses[:-1] + ['250-DSN'] + responses[-1:]

    async def handle_DATA(self, server, session, envelope):
        record = {
            'helo': session.host_name,
            'peer': session.peer[0] if session.peer else None,
            'mail_from': envelope.mail_from,
            'mail_params': envelope.mail_options,
            'rcpts': [{'address': a, 'params': p}
                      for a, p in zip(envelope.rcpt_tos, envelope.rcpt_options)],
            'data_b64': base64.b64encode(envelope.original_content).decode('ascii'),
        }
        name = '%d-%06d' % (time.time_ns(), next(_counter))
        tmp = os.path.join(self.outdir, '.' + name + '.tmp')
        with open(tmp, 'w') as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.outdir, name + '.json'))
        return '250 2.0.0 Ok: recorded %s' % name


class RecordingController(Controller):
    def factory(self):
        return RecordingSMTP(self.handler, hostname='sink.example.net',
                             decode_data=False, enable_SMTPUTF8=True,
                             data_size_limit=64 * 1024 * 1024)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--pidfile')
    args = ap.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    # Block the stop signals before the server thread exists, so sigwait() below gets them.
    signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    controller = RecordingController(Recorder(args.dir), hostname='127.0.0.1', port=args.port)
    controller.start()
    if args.pidfile:
        with open(args.pidfile + '.tmp', 'w') as f:
            f.write('%d\n' % os.getpid())
        os.rename(args.pidfile + '.tmp', args.pidfile)
    print('sink: listening on 127.0.0.1:%d, writing %s' % (args.port, args.dir), flush=True)
    signal.sigwait(signals)
    controller.stop()
    return 0


if __name__ == '__main__':
    sys.exit(main())
