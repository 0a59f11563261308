"""The end of the SIGTERM grace period (issue 11, item 5): a client still
in the middle of DATA when --grace runs out gets the profile's shutdown
reply (421) before the server's FIN, not a bare FIN; its message is not
kept, and the process exits 0 although the client never closes its end.

Exact bytes on the wire and how the connection ended are asserted; the
grace period is short (--grace 1) so the test stays quick, and every wait
is bounded.
"""
import os
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402

BANNER = ["220 mx.lab.test ESMTP smtp-mimic"]
DATA_START = ["354 End data with <CR><LF>.<CR><LF>"]
SHUTDOWN = ("421 4.3.2 mx.lab.test Service not available, closing "
            "transmission channel")


class GraceOver(ServerTest):
    def start_mid_data(self, srv, body):
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("HELO busy.test"), ["250 mx.lab.test"])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), ["250 2.1.0 Ok"])
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), ["250 2.1.5 Ok"])
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send(body)
        return c

    def test_mid_data_client_hears_421_before_the_fin(self):
        srv = self.start("standard", args=["--grace", "1"])
        c = self.start_mid_data(srv, "Subject: never finished\r\n\r\npart")
        srv.wait_event(lambda e: e["dir"] == "S" and
                       e["text"] == DATA_START[0])
        srv.send_signal(signal.SIGTERM)
        srv.wait_log("stopping")
        # Nothing is said while the grace period lasts...
        # ...then the shutdown reply, then the FIN: all the client gets.
        self.assertEqual(c.ending(timeout=10),
                         ("fin", (SHUTDOWN + "\r\n").encode()))
        c.close()
        self.assertEqual(srv.wait_exit(), 0, srv.log())
        srv.check_sanitizers()
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])
        said = [e["text"] for e in srv.events()
                if e["session"] == 1 and e["dir"] == "S"]
        self.assertEqual(said[-1], SHUTDOWN)
        closes = [e["text"] for e in srv.events() if e["dir"] == "close"]
        self.assertEqual(closes, ["fin (shutdown grace period over)"])

    def test_client_that_keeps_sending_still_hears_421(self):
        # A client streaming its body when the grace period ends: the 421
        # comes after what it sent was read, then the FIN; it can read
        # them although it never stops writing.
        srv = self.start("standard", args=["--grace", "1"])
        c = self.start_mid_data(srv, "Subject: slow\r\n\r\n")
        srv.wait_event(lambda e: e["dir"] == "S" and
                       e["text"] == DATA_START[0])
        srv.send_signal(signal.SIGTERM)
        srv.wait_log("stopping")
        c.sock.settimeout(0.2)
        got = b""
        for _ in range(100):  # at most ~20 s
            try:
                c.send(b"line of body\r\n")
                chunk = c.sock.recv(65536)
            except TimeoutError:  # before OSError: it is one
                continue
            except OSError:
                break  # a reset for bytes sent after the close: fine
            if not chunk:
                break
            got += chunk
        self.assertEqual(got, (SHUTDOWN + "\r\n").encode())
        c.close()
        self.assertEqual(srv.wait_exit(), 0, srv.log())
        self.assertEqual(srv.new_files(), [])


if __name__ == "__main__":
    unittest.main()
