#!/usr/bin/python3
"""A capturing SMTP relay for the end-to-end tests (aiosmtpd, Debian's python3-aiosmtpd).

Usage: smtp_capture.py PORT OUTDIR

Listens on 127.0.0.1:PORT (plain SMTP, no AUTH) and stores every message it accepts as
OUTDIR/NNNNNN.json: {"mail_from": ..., "rcpt_tos": [...], "data": <base64 of the DATA bytes
as received, dot-unstuffed, CRLF line ends>}. Each file is written under a temporary name and
renamed into place, so a reader never sees half a record. Runs until killed (by pid).
"""
import base64
import itertools
import json
import os
import sys
import threading

from aiosmtpd.controller import Controller


class Capture:
    def __init__(self, outdir):
        self.outdir = outdir
        self.counter = itertools.count(1)

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
    controller = Controller(Capture(outdir), hostname="127.0.0.1", port=port,
                            server_hostname="capture.test", data_size_limit=64 << 20)
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
