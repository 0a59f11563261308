"""Many slow clients against limits.command_timeout (issue 11, "What to
build" 4, the slow-client part), scaled to fit a test run.

N clients (5,000, as in the issue; fewer only if the hard open-files
limit cannot hold 2 x N descriptors, and then the count is printed) on
127.0.0.1 each trickle a command line one byte every 300 ms (standard's
idle timeout is 5 minutes, so before command_timeout they held their slots
for as long as they trickled). Fixture std-deadline (command_timeout 1s),
run with --max-sessions N + 100 so that every slow client is admitted and
meets its line deadline, not the session limit. Asserted: every one of them gets exactly the banner,
the built-in 421 4.4.2 and a FIN, before its line could have ended; a
well-behaved client from 127.0.0.2 gets every NOOP and message answered
between the ticks; once the slow clients are gone the server's descriptors
come back to their idle count. Reported on stdout (not asserted): the good
client's p50/p99 latency (its NOOPs, every 20 ms, and its whole
transactions, one per tick), the server's RSS and descriptors idle, at peak
and after. Each wait is bounded; no timing is asserted.
"""
import os
import resource
import selectors
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import Client, ServerTest  # noqa: E402

N = int(os.environ.get("SLOW_CLIENTS", "5000"))
GAP = 0.3
BANNER = b"220 mx.lab.test ESMTP smtp-mimic\r\n"
COMMAND_TIMEOUT = (b"421 4.4.2 mx.lab.test Service not available, "
                   b"closing transmission channel\r\n")
LINE = b"MAIL FROM:<a-rather-slow-sender@slow.example>\r\n"  # 48 bytes


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


class Good(Client):
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), 10,
                                             source_address=("127.0.0.2", 0))
        self.buf = b""


def fd_room(n):
    """Raise this process's open-files soft limit (the server inherits
    it) to hold n slow clients on both ends; the count it can hold."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * n + 200
    if hard != resource.RLIM_INFINITY and hard < want:
        want = hard
    if soft == resource.RLIM_INFINITY or soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return min(n, (want - 200) // 2)


class SlowClients(ServerTest):
    def test_slow_clients_closed_at_their_line_deadline(self):
        n = fd_room(N)
        if n < N:
            print("\nopen-files hard limit: %d slow clients, not %d"
                  % (n, N), file=sys.stderr)
        srv = self.start("std-deadline",
                         args=["--max-sessions", str(n + 100)])
        pid = srv.proc.pid
        good = Good(srv.port)
        srv.clients.append(good)
        self.assertEqual(good.reply(), ["220 mx.lab.test ESMTP smtp-mimic"])
        self.assertEqual(good.cmd("EHLO good.test")[0], "250-mx.lab.test")
        idle_fds, idle_rss = nfds(pid), rss_kb(pid)

        slow = {}
        sel = selectors.DefaultSelector()  # epoll: select() stops at 1024
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", srv.port), 10)
            s.setblocking(False)
            slow[s] = [b"", 0, False]  # received, bytes sent, EOF seen
            sel.register(s, selectors.EVENT_READ)
        lat, peak_rss, peak_fds, delivered = [], idle_rss, idle_fds, 0
        end = time.monotonic() + 25
        try:
            while time.monotonic() < end and not all(
                    v[2] for v in slow.values()):
                for s, v in slow.items():
                    # trickle until the server has spoken past the banner
                    if not v[2] and len(v[0]) <= len(BANNER) and \
                            v[1] < len(LINE):
                        try:
                            v[1] += s.send(LINE[v[1]:v[1] + 1])
                        except BlockingIOError:
                            pass
                t0 = time.monotonic()
                self.assertEqual(good.cmd("NOOP"), ["250 2.0.0 Ok"])
                lat.append(time.monotonic() - t0)
                # and a message per tick
                t0 = time.monotonic()
                r = good.transaction(sender="good@b.test")
                self.assertRegex(r[3][0], r"^250 2\.0\.0 Ok: queued as")
                lat.append(time.monotonic() - t0)
                delivered += 1
                peak_rss = max(peak_rss, rss_kb(pid))
                peak_fds = max(peak_fds, nfds(pid))
                stop = time.monotonic() + GAP
                while time.monotonic() < stop:
                    if not sel.get_map():
                        break
                    r = [k.fileobj for k, _ in sel.select(0.02)]
                    # the good client between the slow ones' bytes
                    t0 = time.monotonic()
                    self.assertEqual(good.cmd("NOOP"), ["250 2.0.0 Ok"])
                    lat.append(time.monotonic() - t0)
                    for s in r:
                        chunk = s.recv(4096)
                        if chunk:
                            slow[s][0] += chunk
                        else:
                            slow[s][2] = True
                            sel.unregister(s)
                            s.close()
            bad = [(v[0], v[1], v[2]) for v in slow.values()
                   if v[0] != BANNER + COMMAND_TIMEOUT or not v[2]]
            self.assertEqual(bad[:3], [], "%d of %d slow clients" % (
                len(bad), n))
            # each was closed before its line could end
            self.assertLess(max(v[1] for v in slow.values()), len(LINE))
            r = good.transaction(sender="good@b.test")
            self.assertRegex(r[3][0], r"^250 2\.0\.0 Ok: queued as")
            delivered += 1
            after = time.monotonic() + 10
            while nfds(pid) > idle_fds and time.monotonic() < after:
                time.sleep(0.05)
            after_fds, after_rss = nfds(pid), rss_kb(pid)
            self.assertLessEqual(after_fds, idle_fds)
            self.assertEqual(len(srv.messages()), delivered)
        finally:
            for s, v in slow.items():
                if not v[2]:
                    s.close()
        lat.sort()
        print("\n%d slow clients, a byte per %.1f s: all got 421 + FIN; "
              "good client %d replies, p50 %.1f ms, p99 %.1f ms, "
              "max %.1f ms; server RSS idle %d kB, peak %d kB, after %d kB; "
              "fds idle %d, peak %d, after %d"
              % (n, GAP, len(lat), 1000 * lat[len(lat) // 2],
                 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))],
                 1000 * lat[-1], idle_rss, peak_rss, after_rss, idle_fds,
                 peak_fds, after_fds))


if __name__ == "__main__":
    unittest.main()
