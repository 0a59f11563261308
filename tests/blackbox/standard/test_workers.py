"""test_workers.py - several event loops (--workers 2) behave as one server.

Sessions are spread by the kernel over the workers' SO_REUSEPORT sockets;
limits, the spool and the transcript are shared; a SIGTERM closes every
listening socket before any session hears the shutdown 421.
"""
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from harness import Client, ServerTest, have  # noqa: E402

BANNER = ["220 mx.lab.test ESMTP smtp-mimic"]
SHUTDOWN = "421 4.3.2 mx.lab.test Service not available, closing transmission channel"


class Workers(ServerTest):
    @unittest.skipUnless(have("smtp-source"), "postfix's smtp-source missing")
    def test_smtp_source_over_two_workers(self):
        srv = self.start("standard", args=["--workers", "2"])
        cp = subprocess.run(
            ["smtp-source", "-s", "20", "-m", "500",
             "-c", "127.0.0.1:%d" % srv.port],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, timeout=120)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 500)
        self.assertEqual(srv.tmp_files(), [])
        # Every session got its own number, whichever worker took it.
        ids = {e["session"] for e in srv.events() if e["dir"] == "connect"}
        self.assertEqual(len(ids), 500)
        self.assertEqual(len({env["queue_id"] for _, env in msgs}), 500)

    def test_limit_is_shared(self):
        srv = self.start("standard", args=["--workers", "2",
                                           "--max-sessions", "3"])
        held = [srv.connect() for _ in range(3)]
        for c in held:
            self.assertEqual(c.reply(), BANNER)
        extra = srv.connect()
        self.assertEqual(
            extra.ending(),
            ("fin", b"421 4.3.2 mx.lab.test Error: too many connections\r\n"))
        for c in held:
            c.close()

    def test_sigterm_closes_every_listener_first(self):
        srv = self.start("standard", args=["--workers", "2"])
        idle = [srv.connect() for _ in range(4)]
        for c in idle:
            self.assertEqual(c.reply(), BANNER)
        srv.send_signal(signal.SIGTERM)
        for c in idle:
            self.assertEqual(c.ending(), ("fin", (SHUTDOWN + "\r\n").encode()))
        # Whichever worker would have taken it, nobody accepts any more.
        with self.assertRaises(OSError):
            Client(srv.port, timeout=2).close()
        self.assertEqual(srv.wait_exit(), 0)


if __name__ == "__main__":
    unittest.main()
