"""esa-behind-asa: what real clients meet when the ASA drops a connection
(FACTS.md 5, drop-connection: the box removes the connection and tells
neither end). The client gets no reply, no FIN and no RST: it waits until
its own timeout, and says so. The transcript says the box dropped it and
marks what the server answered meanwhile as not delivered.
"""
import os
import smtplib
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest, have  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]
BOX = "asa-esmtp-inspect"
DROP = "drop (middlebox %s: drop-connection)" % BOX


class DropClients(ServerTest):

    def close_event(self, srv):
        return srv.wait_event(lambda e: e["session"] == 1 and
                              e["dir"] == "close")["text"]

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_with_101_recipients_times_out(self):
        """The 101st RCPT is dropped: swaks waits for its reply in vain."""
        srv = self.start("esa-behind-asa", args=ARGS)
        to = ",".join("r%d@esa.lab.test" % i for i in range(101))
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port, "--from",
             "a@b.test", "--to", to, "--helo", "client.example.test",
             "--timeout", "2"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertIn(" -> RCPT TO:<r100@esa.lab.test>\n<** Timeout (2 secs) "
                      "waiting for server response\n", out)
        self.assertEqual(self.close_event(srv), DROP)
        # swaks's QUIT after its timeout met the dropped connection too
        held = srv.wait_event(lambda e: e["dir"] == "warn" and
                              e["text"].startswith("middlebox"))["text"]
        self.assertIn("the client gave up on the dropped connection", held)
        self.assertRegex(held, r"; [1-9]\d* bytes it sent after the line "
                         r"the box dropped at were discarded$")
        self.assertEqual(srv.new_files(), [])

    def test_smtplib_long_ehlo_times_out_no_reset(self):
        """A 530-byte EHLO line (> 512): smtplib's read times out (not a
        reset, not an EOF) and it gives up."""
        srv = self.start("esa-behind-asa", args=ARGS)
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=2)
        try:
            with self.assertRaises(smtplib.SMTPServerDisconnected) as cm:
                s.ehlo("client" + "x" * 519 + ".test")
            self.assertEqual(str(cm.exception),
                             "Connection unexpectedly closed: timed out")
            self.assertIsInstance(cm.exception.__context__, socket.timeout)
        finally:
            s.close()
        self.assertEqual(self.close_event(srv), DROP)


if __name__ == "__main__":
    unittest.main()
