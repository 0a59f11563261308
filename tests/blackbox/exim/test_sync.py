"""exim: the SMTP synchronization check, per FACTS.md section 9 (issue 13,
capability 4).

FACTS.md 9: "input sent before the banner or before a reply when pipelining
was not advertised -> `554 SMTP synchronization error` and close". The
profile's banner waits 250 ms (model choice) so a client that talks first
is seen. With PIPELINING advertised (after EHLO) a pipelined group passes.
"""
import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from harness import PROFILES, ServerTest, have  # noqa: E402

ARGS = ["--profile-path", PROFILES]
SYNC = b"554 SMTP synchronization error\r\n"                  # FACTS.md 9
BANNER = re.compile(r"^220 mail\.lab\.test ESMTP Exim 4\.96 ")  # FACTS.md 9
HELO = "250 mail.lab.test Hello client.lab.test [127.0.0.1]"    # FACTS.md 9


class EximSync(ServerTest):

    def test_client_that_talks_first(self):
        srv = self.start("exim", args=ARGS)
        c = srv.connect()
        c.send("EHLO client.lab.test\r\n")
        self.assertEqual(c.ending(), ("fin", SYNC))
        self.assertTrue(srv.wait_log("synchronization error"))

    def test_pipelining_after_helo(self):
        srv = self.start("exim", args=ARGS)
        c = srv.connect()
        self.assertRegex(c.line(), BANNER)
        c.send("HELO client.lab.test\r\nMAIL FROM:<alice@lab.test>\r\n")
        self.assertEqual(c.ending(), ("fin", SYNC))

    def test_mail_pipelined_behind_helo_reply(self):
        srv = self.start("exim", args=ARGS)
        c = srv.connect()
        self.assertRegex(c.line(), BANNER)
        self.assertEqual(c.cmd("HELO client.lab.test"), [HELO])
        c.send("MAIL FROM:<alice@lab.test>\r\nRCPT TO:<bob@lab.test>\r\n")
        self.assertEqual(c.ending(), ("fin", SYNC))

    def test_pipelining_after_ehlo_passes(self):
        srv = self.start("exim", args=ARGS)
        c = srv.connect()
        self.assertRegex(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.lab.test")[-1], "250 HELP")
        c.send("MAIL FROM:<alice@lab.test>\r\nRCPT TO:<bob@lab.test>\r\n"
               "DATA\r\n")
        self.assertEqual(c.reply(), ["250 OK"])
        self.assertEqual(c.reply(), ["250 Accepted"])
        self.assertEqual(c.reply(), ['354 Enter message, ending with "." '
                                     'on a line by itself'])

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_pipelining(self):
        import subprocess
        srv = self.start("exim", args=ARGS)
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port, "--helo",
             "client.lab.test", "--from", "alice@lab.test", "--to",
             "bob@lab.test", "--pipeline", "--timeout", "10"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, out)
        self.assertRegex(out, r"<-  250 OK id=")


if __name__ == "__main__":
    unittest.main()
