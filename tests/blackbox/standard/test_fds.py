"""Descriptors stay bounded under abuse (issue 11, item 4, descriptor
part).

Drain: after the server's FIN a connection is drained (read until the
peer's EOF, so that close() does not turn the FIN into a RST), but for at
most 3 s from the FIN in all: a client that keeps trickling bytes after
the 421 is closed at that deadline, not kept for as long as it trickles.

EMFILE: with the open-files limit reached, the server does not spin on a
listener it cannot accept from: its CPU time and its accept warnings stay
bounded, a connection it cannot serve is refused with the profile's
too_many_sessions 421 (through one reserve descriptor) or waits in the
backlog, and once descriptors are free again a well-behaved client (from
127.0.0.2) delivers.

CPU time from /proc/PID/stat is a resource bound (a spinning loop burns a
whole CPU), not a timing assertion; every wait is bounded.
"""
import os
import re
import resource
import smtplib
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest, ending  # noqa: E402
from mimic import fd_count  # noqa: E402

BANNER = "220 mx.lab.test ESMTP smtp-mimic"
TOO_MANY = "421 4.3.2 mx.lab.test Error: too many connections"
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (/proc/PID/stat)."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def wait_for(pred, timeout):
    """Poll pred every 50 ms until it is true or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def trickle_until_reset(sock, limit, every=0.25):
    """Send a byte every `every` s until the peer resets (its socket is
    gone): 'rst', or 'open' if it is still there after limit seconds."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            sock.send(b"x")
        except (ConnectionResetError, BrokenPipeError):
            return "rst"
        time.sleep(every)
    return "open"


class Drain(ServerTest):
    def test_trickling_client_closed_at_the_drain_deadline(self):
        srv = self.start("standard", args=["--max-sessions", "1"])
        a = srv.connect()
        self.assertEqual(a.reply(), [BANNER])
        idle = fd_count(srv.pid)
        b = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        self.addCleanup(b.close)
        self.assertEqual(ending(b), ("fin", (TOO_MANY + "\r\n").encode()))
        # The server drains what b sends after its FIN, and closes its
        # socket 3 s after the FIN however often b sends: b's next byte
        # then meets a RST. With a drain timer that restarts on every read
        # (256 reads of a byte every 0.25 s: 64 s) b would still be open
        # at 10 s.
        self.assertEqual(trickle_until_reset(b, 10), "rst")
        self.assertTrue(wait_for(lambda: fd_count(srv.pid) <= idle, 5),
                        "descriptors: %d, %d with one session"
                        % (fd_count(srv.pid), idle))
        closes = [e["text"] for e in srv.events()
                  if e["session"] == 2 and e["dir"] == "close"]
        self.assertEqual(closes, ["fin (too_many_sessions)"], srv.log())
        self.assertEqual(a.cmd("QUIT"), ["221 2.0.0 Bye"])
        self.assertEqual(a.ending(), ("fin", b""))


if __name__ == "__main__":
    unittest.main()
