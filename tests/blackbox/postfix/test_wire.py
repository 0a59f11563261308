"""postfix: the exact bytes of Postfix 3.7 as Debian 12 installs it.

Every expected string is written out literally from FACTS.md section 7, so
the test fails if profiles/postfix.yaml drifts from FACTS.md. The shared
checks (banner and EHLO bytes, a raw transaction, smtplib, swaks, the
sequence and syntax errors) are lib/mta_wire.py's; the limits, STARTTLS,
the unknown-user and relay refusals and the queue id's shape are here.
"""
import os
import re
import smtplib
import ssl
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from mta_wire import (ARGS, EHLO_NAME, FROM, TO, MtaWire,  # noqa: E402
                      have, swaks_lines)

HOST = "mail.lab.test"
# FACTS.md 7: %05X microseconds + %lX inode, e.g. 691C961ADE2
QID = r"[0-9A-F]{5}[0-9A-F]+"
EHLO_PLAIN = ["250-" + HOST, "250-PIPELINING", "250-SIZE 10240000",
              "250-VRFY", "250-ETRN", "250-STARTTLS",
              "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN",
              "250-SMTPUTF8", "250 CHUNKING"]


class PostfixWire(MtaWire):
    PROFILE = "postfix"
    BANNER = "^" + re.escape("220 %s ESMTP Postfix (Debian/GNU)" % HOST) + "$"
    EHLO = EHLO_PLAIN
    HELO = "250 " + HOST
    MAIL_OK = "250 2.1.0 Ok"
    RCPT_OK = "250 2.1.5 Ok"
    DATA_START = "354 End data with <CR><LF>.<CR><LF>"
    DATA_OK = r"^250 2\.0\.0 Ok: queued as %s$" % QID
    RSET = "250 2.0.0 Ok"
    NOOP = "250 2.0.0 Ok"
    QUIT = "221 2.0.0 Bye"
    UNKNOWN = "500 5.5.2 Error: command not recognized"
    NEED_HELO = "503 5.5.1 Error: send HELO/EHLO first"
    NEED_MAIL = "503 5.5.1 Error: need MAIL command"
    NEED_RCPT = "503 5.5.1 Error: need RCPT command"
    NESTED_MAIL = "503 5.5.1 Error: nested MAIL command"
    MAIL_SYNTAX = "501 5.5.4 Syntax: MAIL FROM:<address>"
    RCPT_SYNTAX = "501 5.5.4 Syntax: RCPT TO:<address>"

    def test_queue_id_shape(self):
        # five hex digits of microseconds (< 0xF4240), then the inode
        srv = self.start_mta()
        c = self.hello(srv)
        for _ in range(3):
            r = c.transaction(FROM, [TO])
            qid = r[-1][0].rsplit(" ", 1)[1]
            self.assertRegex(qid, "^" + QID + "$")
            self.assertLess(int(qid[:5], 16), 1000000)
        self.quit(c)

    def test_ehlo_syntax(self):
        srv = self.start_mta()
        c = srv.connect()
        c.line()
        self.assertEqual(c.cmd("EHLO"), ["501 Syntax: EHLO hostname"])
        self.quit(c)

    def test_unknown_user_and_relay(self):
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), ["250 2.1.0 Ok"])
        self.assertEqual(
            c.cmd("RCPT TO:<unknown1@lab.test>"),
            ["550 5.1.1 <unknown1@lab.test>: Recipient address rejected: "
             "User unknown in local recipient table"])
        self.assertEqual(c.cmd("RCPT TO:<bob@relay.example>"),
                         ["454 4.7.1 <bob@relay.example>: Relay access denied"])
        self.assertEqual(c.cmd("DATA"),
                         ["503 5.5.1 Error: need RCPT command"])
        self.quit(c)

    def test_too_many_recipients(self):
        # FACTS.md 7: smtpd_recipient_limit 1000, then 452 4.5.3
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), ["250 2.1.0 Ok"])
        c.send("".join("RCPT TO:<u%d@lab.test>\r\n" % i for i in range(1001)))
        replies = [c.reply() for _ in range(1001)]
        self.assertEqual(replies[:1000], [["250 2.1.5 Ok"]] * 1000)
        self.assertEqual(replies[1000], ["452 4.5.3 Error: too many recipients"])
        self.quit(c)

    def test_message_size(self):
        srv = self.start_mta()
        c = self.hello(srv)
        # declared at MAIL
        self.assertEqual(c.cmd("MAIL FROM:<%s> SIZE=10240001" % FROM),
                         ["552 5.3.4 Message size exceeds fixed limit"])
        self.assertEqual(c.cmd("MAIL FROM:<%s> SIZE=10240000" % FROM),
                         ["250 2.1.0 Ok"])
        self.assertEqual(c.cmd("RSET"), ["250 2.0.0 Ok"])
        # found at end of data
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), ["250 2.1.0 Ok"])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), ["250 2.1.5 Ok"])
        self.assertEqual(c.cmd("DATA"),
                         ["354 End data with <CR><LF>.<CR><LF>"])
        line = "x" * 998 + "\r\n"
        c.send("Subject: big\r\n\r\n" + line * 10300)
        self.assertEqual(c.cmd("."), ["552 5.3.4 Error: message file too big"])
        self.quit(c)

    def test_bdat(self):
        # profile difference (faithfulness.differences.bdat): BDAT LAST
        # gets the end-of-data text, not "Ok: <n> bytes queued as"
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), ["250 2.1.0 Ok"])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), ["250 2.1.5 Ok"])
        body = "Subject: b\r\n\r\nhi\r\n"
        c.send("BDAT %d LAST\r\n%s" % (len(body), body))
        r = c.reply()
        self.assertRegex(r[0], self.DATA_OK)
        self.quit(c)

    def test_starttls_smtplib(self):
        # FACTS.md 7: STARTTLS 220 2.0.0 Ready to start TLS; no STARTTLS
        # in the EHLO inside TLS
        srv = self.start_mta()
        s = smtplib.SMTP("127.0.0.1", srv.port, local_hostname=EHLO_NAME,
                         timeout=10)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s.ehlo()
        self.assertEqual(s.starttls(context=ctx),
                         (220, b"2.0.0 Ready to start TLS"))
        code, text = s.ehlo()
        self.assertEqual(code, 250)
        self.assertEqual(text.decode().split("\n"),
                         [line[4:] for line in EHLO_PLAIN
                          if "STARTTLS" not in line])
        self.assertEqual(s.mail(FROM), (250, b"2.1.0 Ok"))
        self.assertEqual(s.rcpt(TO), (250, b"2.1.5 Ok"))
        code, text = s.data("Subject: tls\r\n\r\nhi\r\n")
        self.assertEqual(code, 250)
        self.assertRegex(text.decode(), r"^2\.0\.0 Ok: queued as %s$" % QID)
        self.assertEqual(s.quit(), (221, b"2.0.0 Bye"))

    def test_starttls_swaks(self):
        if not have("swaks"):
            self.skipTest("swaks not installed")
        srv = self.start_mta()
        rc, lines, out = swaks_lines(srv.port, "--tls")
        self.assertEqual(rc, 0, out)
        n = len(EHLO_PLAIN)
        self.assertEqual(lines[1:1 + n], EHLO_PLAIN, out)
        self.assertEqual(lines[1 + n], "220 2.0.0 Ready to start TLS", out)
        inside = [line for line in EHLO_PLAIN if "STARTTLS" not in line]
        self.assertEqual(lines[2 + n:2 + n + len(inside)], inside, out)
        rest = lines[2 + n + len(inside):]
        self.assertEqual(rest[:3], ["250 2.1.0 Ok", "250 2.1.5 Ok",
                                    "354 End data with <CR><LF>.<CR><LF>"])
        self.assertRegex(rest[3], self.DATA_OK)
        self.assertEqual(rest[4:], ["221 2.0.0 Bye"])


if __name__ == "__main__":
    unittest.main()
