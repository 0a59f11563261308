"""postfix: the error limits and a header line sent as a command, per
FACTS.md section 7 (issue 13, capability 5).

FACTS.md 7: "from the 10th error each reply is delayed 1 s, at 20 errors
`421 4.7.0 <host> Error: too many errors` and close; a header line sent as
a command (`Subject:` ...) gets `221 2.7.0 Error: I can break rules, too.
Goodbye.` and close". The delay itself is not timed (no timing
assertions): the replies after the 10th error are asserted byte for byte,
in order, and the 20th error closes. CONNECT/GET/POST (postconf(5)
smtpd_forbidden_commands) are the profile's model choice.
"""
import os
import re
import smtplib
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from harness import PROFILES, ServerTest  # noqa: E402

ARGS = ["--profile-path", PROFILES]
HOST = "mail.lab.test"
BANNER = "220 mail.lab.test ESMTP Postfix (Debian/GNU)"              # FACTS.md 7
UNKNOWN = "500 5.5.2 Error: command not recognized"                  # FACTS.md 7
NEED_MAIL = "503 5.5.1 Error: need MAIL command"                     # FACTS.md 7
TOO_MANY = "421 4.7.0 mail.lab.test Error: too many errors"          # FACTS.md 7
BREAK = "221 2.7.0 Error: I can break rules, too. Goodbye."          # FACTS.md 7
NOOP = "250 2.0.0 Ok"                                                # FACTS.md 7


def crlf(*lines):
    return "".join(l + "\r\n" for l in lines).encode()


class PostfixErrors(ServerTest):

    def hello(self):
        srv = self.start("postfix", args=ARGS)
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("HELO client.lab.test"), ["250 " + HOST])
        return srv, c

    def test_twenty_errors_then_421_and_fin(self):
        srv, c = self.hello()
        # 19 errors, each its reply (from the 11th on each 1 s later),
        # sequence errors counting as unknown verbs do
        for i in range(1, 20):
            if i % 5 == 0:
                self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), [NEED_MAIL])
            else:
                self.assertEqual(c.cmd("XX%d" % i), [UNKNOWN], i)
            if i == 12:
                # a good command between them: answered, not counted
                self.assertEqual(c.cmd("NOOP"), [NOOP])
        c.send("XX20\r\n")
        self.assertEqual(c.ending(timeout=15), ("fin", crlf(UNKNOWN, TOO_MANY)))

    def test_nineteen_errors_keep_the_session(self):
        srv, c = self.hello()
        for i in range(1, 20):
            self.assertEqual(c.cmd("XX%d" % i), [UNKNOWN], i)
        self.assertEqual(c.cmd("NOOP"), [NOOP])
        self.assertEqual(c.cmd("QUIT"), ["221 2.0.0 Bye"])

    def test_header_line_as_command(self):
        srv, c = self.hello()
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), ["250 2.1.0 Ok"])
        c.send("Subject: smuggled header\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(BREAK)))

    def test_header_line_before_helo(self):
        srv = self.start("postfix", args=ARGS)
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        c.send("From: <a@lab.test>\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(BREAK)))

    def test_http_request(self):
        srv = self.start("postfix", args=ARGS)
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        c.send("POST / HTTP/1.1\r\nHost: mail.lab.test\r\n\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(BREAK)))

    def test_smtplib_header_command(self):
        srv = self.start("postfix", args=ARGS)
        s = smtplib.SMTP("127.0.0.1", srv.port, local_hostname="client.lab.test",
                         timeout=10)
        self.addCleanup(s.close)
        s.ehlo()
        self.assertEqual(s.docmd("Subject:", "hello"),
                         (221, b"2.7.0 Error: I can break rules, too. Goodbye."))


if __name__ == "__main__":
    unittest.main()
