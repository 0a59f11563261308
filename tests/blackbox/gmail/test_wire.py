"""gmail and its scenarios, byte for byte (FACTS.md 11): the banner and
every reply carrying the same <sid> - gsmtp for the whole session (Gmail's
shape, e.g. d75a77b69052e-2b0c4fea3a4si1234567a.2), the EHLO list, the two
spaces after 354 and after OK, Google's error texts, and the multi-line
blocks of the unknown-user, over-quota and unauthenticated scenarios; the
rate limit's 421 and FIN. Clients: a raw socket, smtplib, swaks.
"""
import os
import re
import smtplib
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import PROFILES, ServerTest, have  # noqa: E402
import msft  # noqa: E402

ARGS = ["--profile-path", PROFILES]
SID = r"[0-9a-f]{13}-[0-9a-f]{11}si[0-9]{7}[a-z]\.[0-9]{1,3}"   # FACTS.md 11
BANNER_RE = re.compile(r"220 mx\.google\.com ESMTP (%s) - gsmtp\Z" % SID)
KEYWORDS = ["SIZE 157286400", "8BITMIME", "STARTTLS", "ENHANCEDSTATUSCODES",
            "PIPELINING", "CHUNKING", "SMTPUTF8"]                # FACTS.md 11
EHLO = msft.ehlo_lines("mx.google.com at your service, [127.0.0.1]",
                       KEYWORDS)
EHLO_TLS = [ln for ln in EHLO if ln != "250-STARTTLS"]           # model choice


def tail(sid):
    return " %s - gsmtp" % sid


class Gmail(ServerTest):

    def open(self, profile="gmail"):
        srv = self.start(profile, args=ARGS)
        c = srv.connect()
        m = BANNER_RE.match(c.line())
        self.assertIsNotNone(m)
        return srv, c, m.group(1)

    def test_conversation(self):
        srv, c, sid = self.open()
        t = tail(sid)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"),
                         ["503 5.5.1 EHLO/HELO first." + t])
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO)
        self.assertEqual(c.cmd("XYZZY"),
                         ["502 5.5.1 Unrecognized command." + t])  # FACTS.md 11
        self.assertEqual(c.cmd("RCPT TO:<b@gmail.com>"),
                         ["503 5.5.1 Bad sequence of commands." + t])
        self.assertEqual(c.cmd("AUTH PLAIN AGEAYg=="),
                         ["502 5.5.1 Unrecognized command." + t])
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test> SMTPUTF8"),
                         ["250 2.1.0 OK" + t])                     # FACTS.md 11
        self.assertEqual(c.cmd("RCPT TO:<b@gmail.com>"),
                         ["250 2.1.5 OK" + t])                     # FACTS.md 11
        self.assertEqual(c.cmd("DATA"), ["354  Go ahead" + t])   # two spaces
        c.send("Subject: t\r\n\r\nhello\r\n")
        done = c.cmd(".")
        self.assertRegex(done[0], r"\A250 2\.0\.0 OK  [0-9]{10} %s - gsmtp\Z"
                         % re.escape(sid))                   # two spaces, epoch
        self.assertEqual(c.cmd("QUIT"),
                         ["221 2.0.0 closing connection" + t])     # FACTS.md 11
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(len(srv.messages()), 1)

    def test_sid_differs_between_sessions(self):
        srv = self.start("gmail", args=ARGS)
        sids = {BANNER_RE.match(srv.connect().line()).group(1)
                for _ in range(3)}
        self.assertEqual(len(sids), 3, sids)

    def test_smtplib_starttls(self):
        srv = self.start("gmail", args=ARGS)
        s = smtplib.SMTP("127.0.0.1", srv.port,
                         local_hostname="client.lab.test", timeout=15)
        try:
            code, _ = s.ehlo()
            self.assertEqual(code, 250)
            code, text = s.starttls(context=msft.tls_ctx())
            self.assertEqual((code, text), (220, b"2.0.0 Ready to start TLS"))
            code, text = s.ehlo()
            self.assertEqual((code, text.decode()),
                             (250, msft.smtplib_ehlo_text(EHLO_TLS)))
            s.sendmail("a@lab.test", ["b@gmail.com"],
                       b"Subject: t\r\n\r\nhello\r\n")
            s.quit()
        finally:
            s.close()
        _, env = srv.messages()[0]
        self.assertEqual(env["tls"]["version"], "TLSv1.3")

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks(self):
        srv = self.start("gmail", args=ARGS)
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port, "--tls",
             "--from", "a@lab.test", "--to", "b@gmail.com",
             "--helo", "client.lab.test"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode()
        self.assertEqual(cp.returncode, 0, out)
        sid = re.search(r"<-  220 mx\.google\.com ESMTP (%s) - gsmtp" % SID,
                        out).group(1)
        for line in ("<~  250 2.1.5 OK" + tail(sid),
                     "<~  354  Go ahead" + tail(sid),
                     "<~  221 2.0.0 closing connection" + tail(sid)):
            self.assertIn(line, out)

    def test_unknown_user_block(self):
        srv, c, sid = self.open("gmail-unknown-user")
        c.cmd("EHLO client.lab.test")
        c.cmd("MAIL FROM:<a@lab.test>")
        self.assertEqual(c.cmd("RCPT TO:<unknown1@gmail.com>"), [  # FACTS.md 11
            "550-5.1.1 The email account that you tried to reach does not "
            "exist. Please try",
            "550-5.1.1 double-checking the recipient's email address for "
            "typos or",
            "550-5.1.1 unnecessary spaces. Learn more at",
            "550 5.1.1  https://support.google.com/mail/?p=NoSuchUser"
            + tail(sid)])
        self.assertEqual(c.cmd("RCPT TO:<b@gmail.com>"),
                         ["250 2.1.5 OK" + tail(sid)])

    def test_over_quota_block(self):
        srv, c, sid = self.open("gmail-over-quota")
        c.cmd("EHLO client.lab.test")
        c.cmd("MAIL FROM:<a@lab.test>")
        self.assertEqual(c.cmd("RCPT TO:<b@gmail.com>"), [
            "452-4.2.2 The recipient's inbox is out of storage space. "
            "Please direct the",
            "452-4.2.2 recipient to",
            "452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp"
            + tail(sid)])

    def test_unauthenticated_block(self):
        srv, c, sid = self.open("gmail-unauthenticated")
        c.cmd("EHLO client.lab.test")
        out = c.transaction("a@lab.test", ["b@gmail.com"])
        self.assertEqual(out[-1], [
            "550-5.7.26 This mail has been blocked because the sender is "
            "unauthenticated.",
            "550-5.7.26 Gmail requires all senders to authenticate with "
            "either SPF or DKIM.",
            "550-5.7.26",
            "550-5.7.26  Authentication results:",
            "550-5.7.26  DKIM = did not pass",
            "550-5.7.26  SPF [client.lab.test] with ip: [127.0.0.1] = did "
            "not pass",
            "550-5.7.26",
            "550-5.7.26  For instructions on setting up authentication, go to",
            "550 5.7.26 https://support.google.com/mail/answer/81126"
            "#authentication" + tail(sid)])
        self.assertEqual(len(out[-1]), 9)                        # FACTS.md 11
        self.assertEqual(srv.messages(), [])

    def test_rate_limit_421_and_fin(self):
        srv, c, sid = self.open("gmail-rate-limit")
        c.cmd("EHLO client.lab.test")
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [
            "421 4.7.0 Try again later, closing connection." + tail(sid)])
        self.assertEqual(c.ending(), ("fin", b""))


if __name__ == "__main__":
    unittest.main()
