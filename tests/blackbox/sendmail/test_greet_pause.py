"""sendmail: Debian's greet_pause, per FACTS.md section 8 (issue 13,
capability 4).

FACTS.md 8: "Debian's greet_pause 1000 ms: a client that speaks within 1 s
gets `554 <host> ESMTP not accepting messages`, then `550 5.0.0 Command
rejected` for each command." Which commands still run (QUIT, HELO, EHLO,
NOOP, RSET; unknown verbs their 500) is the profile's model choice from
srvrsmtp.c's nullserver switch. No timing is asserted: the patient client
only shows the banner is not there at once.
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
NOT_ACCEPTING = "554 mail.lab.test ESMTP not accepting messages"   # FACTS.md 8
REJECTED = "550 5.0.0 Command rejected"                            # FACTS.md 8
BANNER = re.compile(r"^220 mail\.lab\.test ESMTP Sendmail "         # FACTS.md 8
                    r"8\.17\.1\.9/8\.17\.1\.9/Debian-2; ")
HELO = ("250 mail.lab.test Hello client.lab.test [127.0.0.1], pleased to "
        "meet you")                                                # FACTS.md 8
QUIT = "221 2.0.0 mail.lab.test closing connection"                # FACTS.md 8
UNKNOWN = '500 5.5.1 Command unrecognized: "XYZZY"'                # FACTS.md 8
MAIL_OK = "250 2.1.0 <alice@lab.test>... Sender ok"                # FACTS.md 8


class GreetPause(ServerTest):

    def test_early_talker_is_rejected(self):
        srv = self.start("sendmail", args=ARGS)
        c = srv.connect()
        c.send("HELO client.lab.test\r\n")
        self.assertEqual(c.line(), NOT_ACCEPTING)
        self.assertEqual(c.reply(), [HELO])
        self.assertEqual(c.cmd("MAIL FROM:<alice@lab.test>"), [REJECTED])
        self.assertEqual(c.cmd("RCPT TO:<bob@lab.test>"), [REJECTED])
        self.assertEqual(c.cmd("DATA"), [REJECTED])
        self.assertEqual(c.cmd("XYZZY"), [UNKNOWN])
        c.send("QUIT\r\n")
        self.assertEqual(c.ending(), ("fin", (QUIT + "\r\n").encode()))

    def test_early_talker_gets_no_banner(self):
        srv = self.start("sendmail", args=ARGS)
        c = srv.connect()
        c.send("EHLO client.lab.test\r\nMAIL FROM:<alice@lab.test>\r\n")
        self.assertEqual(c.line(), NOT_ACCEPTING)
        ehlo = c.reply()
        self.assertEqual(ehlo[0], "250-mail.lab.test Hello client.lab.test "
                                  "[127.0.0.1], pleased to meet you")
        self.assertEqual(c.reply(), [REJECTED])
        self.assertNotIn(b"220 ", c.buf)

    def test_patient_client_is_served(self):
        srv = self.start("sendmail", args=ARGS)
        c = srv.connect()
        self.assertTrue(c.nothing_for(0.3))   # greet_pause: no banner yet
        self.assertRegex(c.line(), BANNER)
        self.assertEqual(c.cmd("HELO client.lab.test"), [HELO])
        self.assertEqual(c.cmd("MAIL FROM:<alice@lab.test>"), [MAIL_OK])

    def test_smtplib_waits_and_delivers(self):
        srv = self.start("sendmail", args=ARGS)
        with smtplib.SMTP("127.0.0.1", srv.port,
                          local_hostname="client.lab.test", timeout=10) as s:
            code, _ = s.ehlo()
            self.assertEqual(code, 250)
            self.assertEqual(s.sendmail("alice@lab.test", ["bob@lab.test"],
                                        "Subject: t\r\n\r\nhi\r\n"), {})


if __name__ == "__main__":
    unittest.main()
