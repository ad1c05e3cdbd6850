#!/usr/bin/python3
"""A capturing SMTP relay for the end-to-end tests (aiosmtpd, Debian's python3-aiosmtpd).

Usage: smtp_capture.py PORT OUTDIR [RULES]

Listens on 127.0.0.1:PORT (plain SMTP, no AUTH) and stores every message it accepts as
OUTDIR/NNNNNN.json: {"mail_from": ..., "rcpt_tos": [...], "data": <base64 of the DATA bytes
as received, dot-unstuffed, CRLF line ends>}. Each file is written under a temporary name and
renamed into place, so a reader never sees half a record. Runs until killed (by pid).

With RULES (a file, read again at every RCPT, so a test may change it between runs): lines
`ADDRESS REPLY`, e.g. `b@y.example 450 4.2.1 mailbox busy`; a recipient with a rule gets that
reply instead of 250. Every RCPT is then also logged to OUTDIR/rcpt.log as `ADDRESS CODE`.
"""
import base64
import itertools
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Capture:
    def __init__(self, outdir, rules=None):
        self.outdir = outdir
        self.rules = rules
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
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
        return reply

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "data": base64.b64encode(envelope.original_content or envelope.content).decode("ascii"),
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
    rules = sys.argv[3] if len(sys.argv) > 3 else None
    controller = Controller(Capture(outdir, rules), hostname="127.0.0.1", port=port,
                            server_hostname="capture.test", data_size_limit=64 << 20)
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
