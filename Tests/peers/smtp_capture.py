#!/usr/bin/python3
"""A capturing SMTP relay for the end-to-end tests (aiosmtpd, Debian's python3-aiosmtpd).

Usage: smtp_capture.py PORT OUTDIR [--delay SECONDS] [--rules FILE]

Listens on 127.0.0.1:PORT (plain SMTP, no AUTH) and stores every message it accepts as
OUTDIR/NNNNNN.json: {"mail_from": ..., "rcpt_tos": [...], "data": <base64 of the DATA bytes
as received, dot-unstuffed, CRLF line ends>, "peer": the client's port (one per connection),
"rcpt_options": [...]}. Each file is written under a temporary name and renamed into place,
so a reader never sees half a record. Runs until killed (by pid).

With --delay, each reply to MAIL, RCPT and the end of DATA waits that long first (a slow
server, for concurrency tests).

With --rules (a file, read again at every RCPT, so a test may change it between runs): lines
`ADDRESS REPLY`, e.g. `b@y.example 450 4.2.1 mailbox busy`; a recipient with a rule gets that
reply instead of 250. Every RCPT is then also logged to OUTDIR/rcpt.log as `ADDRESS CODE`.
"""
import asyncio
import base64
import itertools
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Capture:
    def __init__(self, outdir, delay=0.0, rules=None):
        self.outdir = outdir
        self.delay = delay
        self.rules = rules
        self.counter = itertools.count(1)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        reply = "250 2.1.5 Ok"
        if self.rules:
            try:
                with open(self.rules) as f:
                    for line in f:
                        parts = line.strip().split(" ", 1)
                        if len(parts) == 2 and parts[0].lower() == address.lower():
                            reply = parts[1]
            except FileNotFoundError:
                pass
            with open(os.path.join(self.outdir, "rcpt.log"), "a") as log:
                log.write("%s %s\n" % (address, reply[:3]))
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(rcpt_options)
        return reply

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        n = next(self.counter)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": base64.b64encode(envelope.original_content or envelope.content).decode("ascii"),
            "peer": session.peer[1] if session.peer else 0,
            "rcpt_options": list(envelope.rcpt_options),
        }
        tmp = os.path.join(self.outdir, ".%06d.tmp" % n)
        with open(tmp, "w") as f:
            json.dump(record, f)
            f.flush()
            os.fsync(f.fileno())
        os.rename(tmp, os.path.join(self.outdir, "%06d.json" % n))
        return "250 2.0.0 Ok: captured as %06d" % n


def main():
    port, outdir = int(sys.argv[1]), sys.argv[2]
    delay, rules = 0.0, None
    args = sys.argv[3:]
    while args:
        flag, value, args = args[0], args[1], args[2:]
        if flag == "--delay":
            delay = float(value)
        elif flag == "--rules":
            rules = value
        else:
            sys.exit("smtp_capture.py: unknown option " + flag)
    controller = Controller(Capture(outdir, delay, rules), hostname="127.0.0.1", port=port,
                            server_hostname="capture.test", data_size_limit=64 << 20)
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
