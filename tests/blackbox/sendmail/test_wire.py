"""sendmail: the exact bytes of Sendmail 8.17 as Debian 12 installs it.

Every expected string is written out literally from FACTS.md section 8, so
the test fails if profiles/sendmail.yaml drifts from FACTS.md. The shared
checks (banner and EHLO bytes, a raw transaction, smtplib, swaks, the
sequence errors) are lib/mta_wire.py's; the arpadate banner in two zones,
the unknown-user and relay refusals, the bad-command limit, the size
reply and the queue id's shape are here.
"""
import os
import re
import shutil
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from mta_wire import ARGS, EHLO_NAME, FROM, TO, MtaWire  # noqa: E402

HOST = "mail.lab.test"
DAY = r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), [1-9][0-9]? " \
      r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} " \
      r"[0-2][0-9]:[0-5][0-9]:[0-6][0-9]"
BANNER_HEAD = re.escape(
    "220 %s ESMTP Sendmail 8.17.1.9/8.17.1.9/Debian-2; " % HOST)
# FACTS.md 8: base 60 YMDhms + 2-character sequence + 6-digit pid
QID = r"[0-9A-Za-x]{8}[0-9]{6}"
UNKNOWN = '500 5.5.1 Command unrecognized: "XYZZY"'


class SendmailWire(MtaWire):
    PROFILE = "sendmail"
    # the tests run the server at offset 0 (setUp), so arpadate's "GMT"
    BANNER = "^" + BANNER_HEAD + DAY + " GMT$"
    EHLO = ["250-%s Hello %s [127.0.0.1], pleased to meet you"
            % (HOST, EHLO_NAME),
            "250-ENHANCEDSTATUSCODES", "250-PIPELINING", "250-EXPN",
            "250-VERB", "250-8BITMIME", "250-SIZE", "250-DSN",
            "250-SMTPUTF8", "250-ETRN", "250-AUTH LOGIN PLAIN",
            "250-STARTTLS", "250-DELIVERBY", "250 HELP"]
    HELO = "250 %s Hello %s [127.0.0.1], pleased to meet you" % (
        HOST, EHLO_NAME)
    MAIL_OK = "250 2.1.0 <%s>... Sender ok" % FROM
    RCPT_OK = "250 2.1.5 <%s>... Recipient ok" % TO
    DATA_START = '354 Enter mail, end with "." on a line by itself'
    DATA_OK = r"^250 2\.0\.0 %s Message accepted for delivery$" % QID
    RSET = "250 2.0.0 Reset state"
    QUIT = "221 2.0.0 %s closing connection" % HOST
    UNKNOWN = UNKNOWN
    NEED_HELO = "503 5.0.0 Polite people say HELO first"
    NEED_MAIL = "503 5.0.0 Need MAIL before RCPT"
    NEED_RCPT = "503 5.0.0 Need RCPT (recipient)"
    NESTED_MAIL = "503 5.5.0 Sender already specified"

    def setUp(self):
        super().setUp()
        self.old_tz = os.environ.get("TZ")
        os.environ["TZ"] = "UTC0"

    def tearDown(self):
        super().tearDown()
        if self.old_tz is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = self.old_tz

    def test_banner_date_with_zone_name(self):
        # FACTS.md 8: "Thu, 8 Mar 2001 10:53:10 +0200 (IST)" off offset 0
        os.environ["TZ"] = "IST-2"
        srv = self.start_mta()
        c = srv.connect()
        self.assertRegex(c.line(),
                         "^" + BANNER_HEAD + DAY + r" \+0200 \(IST\)$")
        self.quit(c)

    def test_unknown_command_echoes_the_line(self):
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("FROB nicate  now"),
                         ['500 5.5.1 Command unrecognized: "FROB nicate  now"'])
        self.quit(c)

    def test_unknown_user_and_relay(self):
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), [self.MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<unknown1@lab.test>"),
                         ["550 5.1.1 <unknown1@lab.test>... User unknown"])
        self.assertEqual(c.cmd("RCPT TO:<bob@relay.example>"),
                         ["550 5.7.1 <bob@relay.example>... Relaying denied"])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), [self.RCPT_OK])
        self.quit(c)

    def test_too_many_bad_commands(self):
        # FACTS.md 8: after 25 bad commands the 421 and the close (the
        # profile's difference: the 26th still gets its 500 first)
        srv = self.start_mta()
        c = self.hello(srv)
        for _ in range(25):
            self.assertEqual(c.cmd("XYZZY"), [UNKNOWN])
        self.assertEqual(c.cmd("XYZZY"), [UNKNOWN])
        self.assertEqual(
            c.reply(),
            ["421 4.7.0 %s Too many bad commands; closing connection" % HOST])
        self.assertEqual(c.ending(), ("fin", b""))

    def test_sequence_errors_do_not_count(self):
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), [self.MAIL_OK])
        for _ in range(30):
            self.assertEqual(c.cmd("DATA"), [self.NEED_RCPT])
        self.assertEqual(c.cmd("NOOP")[0][:3], "250")
        self.quit(c)

    def test_message_size_reply(self):
        # FACTS.md 8's 552 5.2.3 with the limit; Debian sets none, so a
        # profile on top sets one
        tmp = tempfile.mkdtemp(prefix="sendmail-size-")
        self.addCleanup(shutil.rmtree, tmp)
        with open(os.path.join(tmp, "sendmail-small.yaml"), "w") as f:
            f.write("name: sendmail-small\nextends: sendmail\n"
                    "limits: {message_size: 1000}\n")
        srv = self.start("sendmail-small", args=ARGS + ["--profile-path", tmp])
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), [self.MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), [self.RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [self.DATA_START])
        c.send("Subject: big\r\n\r\n" + ("y" * 78 + "\r\n") * 20)
        self.assertEqual(c.cmd("."), [
            "552 5.2.3 Message size exceeds fixed maximum message size (1000)"])
        self.quit(c)

    def test_queue_ids_differ(self):
        srv = self.start_mta()
        c = self.hello(srv)
        ids = set()
        for _ in range(3):
            r = c.transaction(FROM, [TO])
            self.assertRegex(r[-1][0], self.DATA_OK)
            ids.add(r[-1][0].split()[2])
        self.assertEqual(len(ids), 3)
        self.quit(c)


if __name__ == "__main__":
    unittest.main()
