"""qmail: the exact bytes of netqmail 1.06's qmail-smtpd.

Every expected string is written out literally from FACTS.md section 10,
so the test fails if profiles/qmail.yaml drifts from FACTS.md. The shared
checks (banner and EHLO bytes, a raw transaction, smtplib, swaks, the
sequence and syntax errors) are lib/mta_wire.py's; VRFY, the rcpthosts
refusal, the databytes reply, the timeout reply and the "<unix-time> qp
<pid>" id are here.
"""
import os
import shutil
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from mta_wire import ARGS, FROM, TO, MtaWire  # noqa: E402
from harness import run_cli  # noqa: E402

HOST = "mail.lab.test"


class QmailWire(MtaWire):
    PROFILE = "qmail"
    BANNER = r"^220 mail\.lab\.test ESMTP$"
    EHLO = ["250-" + HOST, "250-PIPELINING", "250 8BITMIME"]
    HELO = "250 " + HOST
    MAIL_OK = "250 ok"
    RCPT_OK = "250 ok"
    DATA_START = "354 go ahead"
    # FACTS.md 10: "250 ok <unix-time> qp <pid>"
    DATA_OK = r"^250 ok [0-9]{10} qp [0-9]+$"
    RSET = "250 flushed"
    QUIT = "221 " + HOST
    UNKNOWN = "502 unimplemented (#5.5.1)"
    NEED_MAIL = "503 MAIL first (#5.5.1)"
    NEED_RCPT = "503 RCPT first (#5.5.1)"
    MAIL_SYNTAX = "555 syntax error (#5.5.4)"
    RCPT_SYNTAX = "555 syntax error (#5.5.4)"

    def extra_profile(self, text):
        """A profile on top of qmail (for limits Debian-less qmail leaves
        unset), in a temporary directory."""
        tmp = tempfile.mkdtemp(prefix="qmail-")
        self.addCleanup(shutil.rmtree, tmp)
        with open(os.path.join(tmp, "qmail-x.yaml"), "w") as f:
            f.write("name: qmail-x\nextends: qmail\n" + text)
        return self.start("qmail-x", args=ARGS + ["--profile-path", tmp])

    def test_vrfy_and_starttls_unknown(self):
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("VRFY bob"),
                         ["252 send some mail, i'll try my best"])
        # no STARTTLS in netqmail 1.06
        self.assertEqual(c.cmd("STARTTLS"), ["502 unimplemented (#5.5.1)"])
        self.quit(c)

    def test_rcpthosts(self):
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), ["250 ok"])
        self.assertEqual(c.cmd("RCPT TO:<bob@relay.example>"), [
            "553 sorry, that domain isn't in my list of allowed rcpthosts "
            "(#5.7.1)"])
        # FACTS.md 10: no recipient check otherwise
        self.assertEqual(c.cmd("RCPT TO:<nobody-at-all@lab.test>"),
                         ["250 ok"])
        self.quit(c)

    def test_queue_id_is_time_qp_pid(self):
        srv = self.start_mta()
        c = self.hello(srv)
        qps = []
        for _ in range(2):
            t0 = int(time.time())
            r = c.transaction(FROM, [TO])
            t1 = int(time.time())
            words = r[-1][0].split(" ")
            self.assertEqual(words[:2], ["250", "ok"])
            self.assertEqual(words[3], "qp")
            self.assertTrue(t0 <= int(words[2]) <= t1, r)
            qps.append(int(words[4]))
        # model choice: each message its own qmail-queue pid
        self.assertGreater(qps[0], srv.proc.pid)
        self.assertEqual(qps[1], qps[0] + 1)
        self.quit(c)

    def test_databytes(self):
        srv = self.extra_profile("limits: {message_size: 1000}\n")
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), ["250 ok"])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), ["250 ok"])
        self.assertEqual(c.cmd("DATA"), ["354 go ahead"])
        c.send("Subject: big\r\n\r\n" + ("z" * 78 + "\r\n") * 20)
        self.assertEqual(c.cmd("."), [
            "552 sorry, that message size exceeds my databytes limit "
            "(#5.3.4)"])
        self.quit(c)

    def test_timeouts_are_1200s(self):
        # FACTS.md 10: qmail-smtpd's timeout is 1200 s for every read
        cp = run_cli(["--check", "-p", "qmail"] + ARGS)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        for key in ("idle_timeout", "command_timeout", "data_timeout"):
            self.assertRegex(cp.stdout, r"\n  %s +20m\n" % key)

    def test_timeout(self):
        # FACTS.md 10: 1200 s, then 451; the text checked with a short one
        srv = self.extra_profile("limits: {idle_timeout: 1s}\n")
        c = self.hello(srv)
        self.assertEqual(c.reply(), ["451 timeout (#4.4.2)"])
        self.assertEqual(c.ending(), ("fin", b""))


if __name__ == "__main__":
    unittest.main()
