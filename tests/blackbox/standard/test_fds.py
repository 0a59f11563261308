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
backlog; a well-behaved client (from 127.0.0.2) arriving meanwhile hears
that 421 at once, and once descriptors are free again it delivers.

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


class OutOfDescriptors(ServerTest):
    # The figures: the open-files limit at 128 (ulimit -n 128)
    # and 200 connections, more than the descriptors left above idle.
    LIMIT = 128
    CLIENTS = 200

    def limit_fds(self, srv):
        """Lower the server's open-files soft limit to LIMIT; returns the
        count it has open while idle."""
        idle = fd_count(srv.pid)
        self.assertLess(idle, self.LIMIT)
        _, hard = resource.prlimit(srv.pid, resource.RLIMIT_NOFILE)
        resource.prlimit(srv.pid, resource.RLIMIT_NOFILE, (self.LIMIT, hard))
        return idle

    def outcome(self, sock):
        """What one flood client got: 'banner' (a session, still open) or
        'refused' (exactly the 421, then the FIN); anything else fails."""
        sock.settimeout(15)
        data = b""
        while b"\r\n" not in data:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
        if data == (BANNER + "\r\n").encode():
            return "banner"
        how, rest = ending(sock, 10, data)
        self.assertEqual((how, rest), ("fin", (TOO_MANY + "\r\n").encode()))
        return "refused"

    def deliver(self, srv, n):
        """n messages from a well-behaved client at 127.0.0.2; returns the
        latency of each (seconds)."""
        took = []
        for i in range(n):
            t0 = time.monotonic()
            with smtplib.SMTP("127.0.0.1", srv.port, timeout=10,
                              source_address=("127.0.0.2", 0)) as smtp:
                refused = smtp.sendmail(
                    "good@client.test", ["rcpt@lab.test"],
                    "Subject: good %d\r\n\r\nstill served\r\n" % i)
                self.assertEqual(refused, {})
            took.append(time.monotonic() - t0)
        return took

    def test_limit_reached_no_spin_then_service_back(self):
        srv = self.start("standard")
        idle = self.limit_fds(srv)
        clients = []
        self.addCleanup(lambda: [c.close() for c in clients])
        for _ in range(self.CLIENTS):
            clients.append(socket.create_connection(
                ("127.0.0.1", srv.port), timeout=10))
        # Give the server time to run into the limit, then measure a 2 s
        # window: a loop on the readable listener burns a whole CPU (2 s
        # of CPU in 2 s); pausing it costs next to nothing.
        srv.wait_log("accept: Too many open files")
        t0 = time.monotonic()
        cpu0 = cpu_seconds(srv.pid)
        time.sleep(2)
        cpu = cpu_seconds(srv.pid) - cpu0
        self.assertLess(cpu, 0.5, "%.2f s of CPU in 2 s" % cpu)
        # Every client got a session or the profile's 421 and a FIN.
        got = [self.outcome(c) for c in clients]
        banners, refused = got.count("banner"), got.count("refused")
        self.assertGreater(banners, 0, got)
        self.assertLessEqual(banners, self.LIMIT - idle, got)
        self.assertGreater(refused, 0, got)
        # At most one warning a second (plus the first), however many
        # accept() calls failed.
        elapsed = time.monotonic() - t0
        warnings = len(re.findall(r"(?m)accept: Too many open files",
                                  srv.log()))
        self.assertLessEqual(warnings, elapsed + 3,
                             "%d warnings in %.1f s" % (warnings, elapsed))
        # A well-behaved client arriving while the table is still full
        # hears the 421 at once (the reserve), rather than timing out.
        with self.assertRaises(smtplib.SMTPConnectError) as cm:
            smtplib.SMTP("127.0.0.1", srv.port, timeout=10,
                         source_address=("127.0.0.2", 0))
        self.assertEqual((cm.exception.smtp_code, cm.exception.smtp_error),
                         (421, TOO_MANY[4:].encode()))
        # The flood goes away: descriptors come back to the idle level
        # and a well-behaved client is served again.
        for c in clients:
            c.close()
        self.assertTrue(wait_for(lambda: fd_count(srv.pid) <= idle, 10),
                        "descriptors: %d, %d when idle"
                        % (fd_count(srv.pid), idle))
        took = self.deliver(srv, 5)
        self.assertEqual(len(srv.messages()), 5)
        print("\nEMFILE: %.2f s CPU in the 2 s window, %d sessions, %d "
              "refused with 421, %d warnings in %.1f s; afterwards good "
              "client max latency %.3f s over %d messages"
              % (cpu, banners, refused, warnings, elapsed, max(took),
                 len(took)), file=sys.stderr)


if __name__ == "__main__":
    unittest.main()
