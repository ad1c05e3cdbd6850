#!/usr/bin/python3
"""A capturing SMTP relay for the end-to-end tests (aiosmtpd, Debian's python3-aiosmtpd).

Usage: smtp_capture.py PORT OUTDIR [DELAY]

Listens on 127.0.0.1:PORT (plain SMTP, no AUTH) and stores every message it accepts as
OUTDIR/NNNNNN.json: {"mail_from": ..., "rcpt_tos": [...], "data": <base64 of the DATA bytes
as received, dot-unstuffed, CRLF line ends>, "peer": the client's port (one per connection)}.
With DELAY (seconds), each reply to MAIL, RCPT and the end of DATA waits that long first (a
slow server, for concurrency tests). Each file is written under a temporary name and
renamed into place, so a reader never sees half a record. Runs until killed (by pid).
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
    def __init__(self, outdir, delay):
        self.outdir = outdir
        self.delay = delay
        self.counter = itertools.count(1)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.delay:
            await asyncio.sleep(self.delay)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

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
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    controller = Controller(Capture(outdir, delay), hostname="127.0.0.1", port=port,
                            server_hostname="capture.test", data_size_limit=64 << 20)
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
