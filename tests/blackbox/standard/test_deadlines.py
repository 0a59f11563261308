"""limits.command_timeout and limits.data_timeout over TCP (issue 11).

A client on 127.0.0.1 trickles one byte every 300 ms -- far inside the
standard profile's 5 minute idle timeout, which used to be the only bound --
first of a command line, then of a DATA body. Each time it must get exactly
the built-in 421 (RFC 5321 4.2.2's text, X.4.2) and a FIN at its deadline,
while a well-behaved client from 127.0.0.2 (another address, so per-client
limits do not mix the two) is answered between every trickled byte and
delivers before and after. Fixture: profiles/std-deadline.yaml
(command_timeout 1s, data_timeout 2s). Nothing here times the server: a
trickle fails only if the whole line (or body) gets through, which takes
seven deadlines or more.
"""
import os
import select
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Client, ServerTest  # noqa: E402

BANNER = ["220 mx.lab.test ESMTP smtp-mimic"]
QUEUED = r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$"
# The built-in replies: std-deadline (and standard) set no text of their own.
COMMAND_TIMEOUT = (b"421 4.4.2 mx.lab.test Service not available, "
                   b"closing transmission channel\r\n")
DATA_TIMEOUT = COMMAND_TIMEOUT
GAP = 0.3  # seconds between trickled bytes


class From(Client):
    """A Client whose connection comes from a given loopback address."""

    def __init__(self, port, source, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout,
                                             source_address=(source, 0))
        self.buf = b""


class Deadlines(ServerTest):
    def good_client(self, srv):
        g = From(srv.port, "127.0.0.2")
        srv.clients.append(g)
        self.assertEqual(g.reply(), BANNER)
        self.assertEqual(g.cmd("EHLO good.test")[0], "250-mx.lab.test")
        return g

    def deliver(self, g, n):
        r = g.transaction(sender="good@b.test",
                          body="Subject: good %d\r\n\r\nfine\r\n" % n)
        self.assertEqual(r[:3], [["250 2.1.0 Ok"], ["250 2.1.5 Ok"],
                                 ["354 End data with <CR><LF>.<CR><LF>"]])
        self.assertRegex(r[3][0], QUEUED)

    def trickle(self, slow, data, g):
        """Send data a byte per GAP, a NOOP from the good client between
        bytes, until the server speaks to slow; return how many bytes went."""
        for i, byte in enumerate(data):
            readable, _, _ = select.select([slow.sock], [], [], GAP)
            if readable:
                return i
            slow.send(bytes([byte]))
            self.assertEqual(g.cmd("NOOP"), ["250 2.0.0 Ok"])
        self.fail("%d bytes trickled and the server never closed" % len(data))

    def test_command_line_deadline(self):
        srv = self.start("std-deadline")
        g = self.good_client(srv)
        self.deliver(g, 1)
        slow = srv.connect()
        self.assertEqual(slow.reply(), BANNER)
        self.assertEqual(slow.cmd("EHLO slow.test")[0], "250-mx.lab.test")
        # 40 bytes at 300 ms: 12 s, twelve deadlines of 1 s
        sent = self.trickle(slow, b"MAIL FROM:<slow-sender@slow.example>\r\n", g)
        self.assertGreater(sent, 0)
        self.assertEqual(slow.ending(), ("fin", COMMAND_TIMEOUT))
        # the good client was served throughout, and still is
        self.deliver(g, 2)
        self.assertEqual(g.cmd("QUIT"), ["221 2.0.0 Bye"])
        self.assertEqual(len(srv.messages()), 2)
        self.assertEqual([m[1]["mail_from"] for m in srv.messages()],
                         ["good@b.test", "good@b.test"])
        srv.wait_log("command line not ended within 1000 ms")

    def test_data_deadline(self):
        srv = self.start("std-deadline")
        g = self.good_client(srv)
        slow = srv.connect()
        self.assertEqual(slow.reply(), BANNER)
        self.assertEqual(slow.cmd("EHLO slow.test")[0], "250-mx.lab.test")
        self.assertEqual(slow.cmd("MAIL FROM:<slow@b.test>"), ["250 2.1.0 Ok"])
        self.assertEqual(slow.cmd("RCPT TO:<c@d.test>"), ["250 2.1.5 Ok"])
        self.assertEqual(slow.cmd("DATA"),
                         ["354 End data with <CR><LF>.<CR><LF>"])
        # short lines, each ended at once: only the DATA deadline applies;
        # 48 bytes at 300 ms: 14 s, seven deadlines of 2 s
        body = b"Subject: slow\r\n\r\n" + b"a\r\n" * 10 + b".\r\n"
        sent = self.trickle(slow, body, g)
        self.assertGreater(sent, 0)
        self.assertLess(sent, len(body))
        self.assertEqual(slow.ending(), ("fin", DATA_TIMEOUT))
        self.deliver(g, 1)
        # only the good client's message is queued; nothing partial is left
        self.assertEqual([m[1]["mail_from"] for m in srv.messages()],
                         ["good@b.test"])
        self.assertEqual(srv.tmp_files(), [])
        srv.wait_log("message data not ended within 2000 ms")


if __name__ == "__main__":
    unittest.main()
