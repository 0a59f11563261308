"""exchange2013: MaxInboundConnectionPerSource and ConnectionTimeout
(FACTS.md section 1), with their exact 421 replies and a FIN."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "lib"))
from harness import PROFILES, ServerTest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

from exchange2013 import BANNER_RE  # noqa: E402
# FACTS.md 1: per-source limit 20 connections, then this reply.
TOO_MANY = ("421 4.3.2 The maximum number of concurrent connections has "
            "exceeded a limit, closing transmission channel")
# FACTS.md 1: ConnectionTimeout, then this reply.
TIMED_OUT = "421 4.4.1 Connection timed out"
QUIT = "221 2.0.0 Service closing transmission channel"          # FACTS.md 1
EHLO_FIRST = "250-ex2013.lab.test Hello [127.0.0.1]"             # FACTS.md 1


class Exchange2013Limits(ServerTest):

    def open_twenty(self, srv):
        clients = []
        for i in range(20):
            c = srv.connect()
            self.assertRegex(c.line(), BANNER_RE, "connection %d" % (i + 1))
            clients.append(c)
        return clients

    def quit_one(self, srv, clients):
        first = clients.pop(0)
        self.assertEqual(first.cmd("QUIT"), [QUIT])
        self.assertEqual(first.ending(), ("fin", b""))
        first.close()

    def admitted_again(self, srv, tries=40, poke=None):
        """Connect until one gets the banner (the freed slot may take the
        server a moment to notice); each refused one is closed at once."""
        for _ in range(tries):
            if poke is not None:
                poke()
            c = srv.connect()
            first = c.line()
            if BANNER_RE.match(first):
                self.assertEqual(c.cmd("QUIT"), [QUIT])
                self.assertEqual(c.ending(), ("fin", b""))
                return True
            self.assertEqual(first, TOO_MANY)
            c.close()
            time.sleep(0.15)
        return False

    def test_21st_connection_from_one_source(self):
        srv = self.start("exchange2013", args=ARGS)
        clients = self.open_twenty(srv)
        extra = srv.connect()
        # Exactly the 421 instead of the banner, then a FIN.
        self.assertEqual(extra.ending(), ("fin", (TOO_MANY + "\r\n").encode()))
        extra.close()
        # The 20 are still served.
        for c in (clients[0], clients[19]):
            self.assertEqual(c.cmd("EHLO client.lab.test")[0], EHLO_FIRST)
        # One leaves: a new connection is let in again.
        self.quit_one(srv, clients)
        self.assertTrue(self.admitted_again(srv), srv.log())

    def test_refused_connection_holds_no_slot(self):
        # The 21st was refused: it is not one of the 20 sessions, even while
        # the client still has its socket open (here: it sends QUIT after
        # the 421, as swaks does, and has not closed yet). When one of the
        # 20 leaves, the next connection must be let in.
        srv = self.start("exchange2013", args=ARGS)
        clients = self.open_twenty(srv)
        extra = srv.connect()
        self.assertEqual(extra.line(), TOO_MANY)
        self.quit_one(srv, clients)

        def poke():
            try:
                extra.send("QUIT\r\n")
            except OSError:
                pass
        self.assertTrue(self.admitted_again(srv, poke=poke),
                        "a refused connection still holds a slot: after one of "
                        "the 20 sent QUIT, 40 new connections got the 421")
        self.assertEqual(extra.ending(), ("fin", b""))

    def test_connection_timeout_reply(self):
        # Fixture: exchange2013 with connection_timeout 1s (the real one is
        # 10 min); the reply text is exchange2013's.
        srv = self.start("exchange2013-ctimeout1s", args=ARGS)
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        self.assertEqual(c.cmd("EHLO client.lab.test")[0], EHLO_FIRST)
        # Nothing more is sent: the 421 comes by itself, then a FIN.
        self.assertEqual(c.ending(timeout=30),
                         ("fin", (TIMED_OUT + "\r\n").encode()))

    def test_connection_timeout_while_busy(self):
        # ConnectionTimeout counts the whole session, not idle time: a
        # client that keeps talking is cut all the same.
        srv = self.start("exchange2013-ctimeout1s", args=ARGS)
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        seen = []
        try:
            for _ in range(200):
                if not c.nothing_for(0.05):
                    break
                seen.append(c.cmd("NOOP")[0])
        except (EOFError, ConnectionResetError):
            pass
        how, rest = c.ending(timeout=30)
        lines = seen + (c.buf + rest).decode().split("\r\n")
        self.assertEqual(how, "fin")
        self.assertIn(TIMED_OUT, lines)


if __name__ == "__main__":
    unittest.main()
