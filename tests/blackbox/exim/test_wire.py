"""exim: the exact bytes of Exim 4.96 as Debian 12 installs it.

Every expected string is written out literally from FACTS.md section 9, so
the test fails if profiles/exim.yaml drifts from FACTS.md. The shared
checks (banner and EHLO bytes, a raw transaction, smtplib, swaks, the
sequence errors) are lib/mta_wire.py's; the two-digit day, the
unknown-command limit, the relay refusal, the size limit and the message
id's shape are here.
"""
import os
import re
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from mta_wire import EHLO_NAME, FROM, TO, MtaWire  # noqa: E402

HOST = "mail.lab.test"
# FACTS.md 9: tod_full, two-digit day
DATE = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [0-3][0-9] " \
       r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} " \
       r"[0-2][0-9]:[0-5][0-9]:[0-6][0-9] [+-][0-9]{4}"
# FACTS.md 9: 1p01gJ-001s6W-2R, base 62
QID = r"[0-9A-Za-z]{6}-[0-9A-Za-z]{6}-[0-9A-Za-z]{2}"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def base62(s):
    n = 0
    for ch in s:
        n = n * 62 + B62.index(ch)
    return n


class EximWire(MtaWire):
    PROFILE = "exim"
    BANNER = "^" + re.escape("220 %s ESMTP Exim 4.96 " % HOST) + DATE + "$"
    EHLO = ["250-%s Hello %s [127.0.0.1]" % (HOST, EHLO_NAME),
            "250-SIZE 52428800", "250-8BITMIME", "250-PIPELINING",
            "250-PIPECONNECT", "250-CHUNKING", "250-STARTTLS", "250-PRDR",
            "250-SMTPUTF8", "250 HELP"]
    HELO = "250 %s Hello %s [127.0.0.1]" % (HOST, EHLO_NAME)
    MAIL_OK = "250 OK"
    RCPT_OK = "250 Accepted"
    DATA_START = '354 Enter message, ending with "." on a line by itself'
    DATA_OK = r"^250 OK id=%s$" % QID
    RSET = "250 Reset OK"
    QUIT = "221 %s closing connection" % HOST
    UNKNOWN = "500 unrecognized command"
    NEED_HELO = "503 HELO or EHLO required"
    NEED_MAIL = "503 sender not yet given"
    NESTED_MAIL = "503 sender already given"
    # FACTS.md 9 has no text for DATA before RCPT: the built-in RFC one
    NEED_RCPT = "503 5.5.1 Bad sequence of commands"

    def test_message_id_is_time_pid_fraction(self):
        srv = self.start_mta()
        c = self.hello(srv)
        t0 = int(time.time())
        r = c.transaction(FROM, [TO])
        t1 = int(time.time())
        qid = r[-1][0].split("=", 1)[1]
        self.assertRegex(qid, "^" + QID + "$")
        self.assertTrue(t0 <= base62(qid[:6]) <= t1, qid)
        self.assertEqual(base62(qid[7:13]), srv.proc.pid)
        self.assertLess(base62(qid[14:]), 2000)   # microseconds / 500
        self.quit(c)

    def test_fourth_unknown_command_closes(self):
        srv = self.start_mta()
        c = self.hello(srv)
        for _ in range(3):
            self.assertEqual(c.cmd("XYZZY"), ["500 unrecognized command"])
        # profile difference: the 4th gets its 500 before the limit's
        self.assertEqual(c.cmd("XYZZY"), ["500 unrecognized command"])
        self.assertEqual(c.reply(), ["500 Too many unrecognized commands"])
        self.assertEqual(c.ending(), ("fin", b""))

    def test_relay_and_size(self):
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s> SIZE=52428801" % FROM),
                         ["552 Message size exceeds maximum permitted"])
        self.assertEqual(c.cmd("MAIL FROM:<%s> SIZE=52428800" % FROM),
                         ["250 OK"])
        self.assertEqual(c.cmd("RCPT TO:<bob@relay.example>"),
                         ["550 relay not permitted"])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), ["250 Accepted"])
        self.assertEqual(c.cmd("RSET"), ["250 Reset OK"])
        self.quit(c)

    def test_starttls_keeps_the_rest(self):
        import smtplib
        import ssl
        srv = self.start_mta()
        s = smtplib.SMTP("127.0.0.1", srv.port, local_hostname=EHLO_NAME,
                         timeout=10)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.ehlo()
        code, _ = s.starttls(context=ctx)
        self.assertEqual(code, 220)
        code, text = s.ehlo()
        self.assertEqual(text.decode().split("\n"),
                         [line[4:] for line in self.EHLO
                          if "STARTTLS" not in line])
        self.assertEqual(s.quit(), (221, ("%s closing connection"
                                          % HOST).encode()))


if __name__ == "__main__":
    unittest.main()
