"""postgrey: Postfix behind postgrey 1.37 (profiles/postgrey.yaml, FACTS.md
section 12) over real sockets, with the policy clock injected through
SMTP_MIMIC_CLOCK_FILE (nobody sleeps for the 300 s): the exact 450 at RCPT,
a retry before the delay still deferred and nothing spooled, a retry after
it delivered with the X-Greylist header, no header once the triplet has
passed, the auto-whitelist after 5 passes counted once an hour, the
triplet's /24 and sender substitutions, and the state kept across a
restart by --state-file (swaks for one delivery, raw sockets elsewhere)."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest, have  # noqa: E402

T0 = 1000000000  # Sun, 09 Sep 2001 01:46:40 UTC
PROFILE = "postgrey"


def greylisted(rcpt):
    """FACTS.md 12: Postfix's words around postgrey's greylist text."""
    domain = rcpt.rsplit("@", 1)[1]
    return ("450 4.2.0 <%s>: Recipient address rejected: Greylisted, see "
            "http://postgrey.schweikert.ch/help/%s.html" % (rcpt, domain))


def x_greylist(seconds, host, date):
    """FACTS.md 12: the header postgrey has Postfix prepend."""
    return ("X-Greylist: delayed %d seconds by postgrey-1.37 at %s; %s\r\n"
            % (seconds, host, date)).encode()


class ClockTest(ServerTest):
    """A server test with the policy clock in a file of its own."""

    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="postgrey-")
        self.clock = os.path.join(self.tmp, "clock")
        self.saved_env = {k: os.environ.get(k)
                          for k in ("SMTP_MIMIC_CLOCK_FILE", "TZ")}
        os.environ["SMTP_MIMIC_CLOCK_FILE"] = self.clock
        os.environ["TZ"] = "UTC"  # the header's %Z
        self.set_clock(T0)

    def tearDown(self):
        super().tearDown()
        for k, v in self.saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        shutil.rmtree(self.tmp, ignore_errors=True)

    def set_clock(self, t):
        with open(self.clock + ".new", "w") as f:
            f.write("%d\n" % t)
        os.replace(self.clock + ".new", self.clock)

    def attempt(self, srv, sender="a@b.test", rcpt="u@lab.test",
                body="Subject: t\r\n\r\nhello\r\n"):
        """One session: EHLO, MAIL, RCPT, then DATA if RCPT passed.
        Returns (banner host, RCPT reply, end-of-data reply or None)."""
        c = srv.connect()
        host = c.banner().split()[1]
        self.assertEqual(c.cmd("EHLO client.test")[-1][:4], "250 ")
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % sender)[0][:3], "250")
        r = c.cmd("RCPT TO:<%s>" % rcpt)
        end = None
        if r[0].startswith("250"):
            self.assertEqual(c.cmd("DATA")[0][:3], "354")
            c.send(body)
            end = c.cmd(".")
        c.cmd("QUIT")
        c.close()
        return host, r, end


class GreylistTest(ClockTest):
    def test_first_attempt_gets_the_exact_450(self):
        srv = self.start(PROFILE)
        _, r, end = self.attempt(srv)
        self.assertEqual(r, [greylisted("u@lab.test")])
        self.assertIsNone(end)
        self.assertEqual(srv.messages(), [])

    def test_early_retry_does_not_deliver(self):
        srv = self.start(PROFILE)
        self.attempt(srv)
        for t in (T0 + 1, T0 + 150, T0 + 299):
            self.set_clock(t)
            _, r, _ = self.attempt(srv)
            self.assertEqual(r, [greylisted("u@lab.test")], t - T0)
        self.assertEqual(srv.messages(), [])
        # the retries did not move the first attempt: 300 s after it passes
        self.set_clock(T0 + 300)
        _, r, end = self.attempt(srv)
        self.assertEqual(r[0][:3], "250", r)

    def test_retry_after_the_delay_delivers_with_the_header(self):
        srv = self.start(PROFILE)
        self.attempt(srv)
        self.set_clock(T0 + 301)
        host, r, end = self.attempt(srv)
        self.assertEqual(r[0][:3], "250", r)
        self.assertEqual(end[0][:3], "250", end)
        [(body, env)] = srv.messages()
        self.assertEqual(body, x_greylist(
            301, host, "Sun, 09 Sep 2001 01:51:41 UTC") +
            b"Subject: t\r\n\r\nhello\r\n")
        self.assertEqual(env["rcpt_to"], ["u@lab.test"])
        # passed once: later messages of the triplet pass without it
        self.set_clock(T0 + 86400)
        _, r, end = self.attempt(srv, body="Subject: 2\r\n\r\nagain\r\n")
        self.assertEqual(end[0][:3], "250", end)
        self.assertEqual([b for b, _ in srv.messages() if b"again" in b],
                         [b"Subject: 2\r\n\r\nagain\r\n"])

    def test_one_header_for_two_delayed_recipients(self):
        srv = self.start(PROFILE)
        c = srv.connect()
        host = c.banner().split()[1]
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<u@lab.test>"),
                         [greylisted("u@lab.test")])
        self.assertEqual(c.cmd("RCPT TO:<v@lab.test>"),
                         [greylisted("v@lab.test")])
        c.cmd("QUIT")
        c.close()
        self.set_clock(T0 + 600)
        c = srv.connect()
        c.banner()
        c.cmd("EHLO client.test")
        r = c.transaction(rcpts=("u@lab.test", "v@lab.test"))
        self.assertEqual([x[0][:3] for x in r], ["250"] * 3 + ["354", "250"])
        [(body, _)] = srv.messages()
        self.assertEqual(body, x_greylist(
            600, host, "Sun, 09 Sep 2001 01:56:40 UTC") +
            b"Subject: t\r\n\r\nhello\r\n")

    def test_triplet_is_the_client_network_and_the_plain_sender(self):
        srv = self.start(PROFILE)
        self.attempt(srv, sender="list+1234@b.test")
        self.set_clock(T0 + 300)
        # another +extension, the same /24 (127.0.0.0): the same triplet
        _, r, _ = self.attempt(srv, sender="list+9@b.test")
        self.assertEqual(r[0][:3], "250", r)
        # VERP numbers become "#": bounce-17-x and bounce-18-x are one key
        self.set_clock(T0 + 1000)
        self.attempt(srv, sender="bounce-17-x@b.test")
        self.set_clock(T0 + 1300)
        _, r, _ = self.attempt(srv, sender="bounce-18-x@b.test")
        self.assertEqual(r[0][:3], "250", r)
        # another recipient is another triplet
        _, r, _ = self.attempt(srv, rcpt="w@lab.test")
        self.assertEqual(r, [greylisted("w@lab.test")])

    def test_auto_whitelist_after_5(self):
        srv = self.start(PROFILE)
        for i in range(5):
            t = T0 + i * 3600  # postgrey counts a client once an hour
            rcpt = "r%d@lab.test" % i
            self.set_clock(t)
            _, r, _ = self.attempt(srv, rcpt=rcpt)
            self.assertEqual(r, [greylisted(rcpt)], i)
            self.set_clock(t + 300)
            _, r, end = self.attempt(srv, rcpt=rcpt)
            self.assertEqual(end[0][:3], "250", (i, end))
            if i == 3:
                # four passes: a new triplet is still greylisted
                self.set_clock(t + 301)
                _, r, _ = self.attempt(srv, rcpt="early@lab.test")
                self.assertEqual(r, [greylisted("early@lab.test")])
        self.set_clock(T0 + 4 * 3600 + 301)
        _, r, end = self.attempt(srv, rcpt="new@lab.test",
                                 body="Subject: awl\r\n\r\nx\r\n")
        self.assertEqual(r[0][:3], "250", r)
        self.assertEqual(end[0][:3], "250", end)
        # whitelisted: delivered at once, no header
        self.assertEqual([b for b, _ in srv.messages() if b"awl" in b],
                         [b"Subject: awl\r\n\r\nx\r\n"])
        srv.wait_event(lambda e: "auto-whitelisted after 5" in e.get("text", ""))

    def test_state_survives_a_restart(self):
        state = os.path.join(self.tmp, "postgrey.state")
        srv = self.start(PROFILE, args=["--state-file", state])
        self.attempt(srv)
        self.assertEqual(srv.stop(), 0)
        with open(state, "rb") as f:
            self.assertEqual(f.read(), b"smtp-mimic state 1\n"
                             b"T 1000000000 1000000000 "
                             b"127.0.0.0/a@b.test/u@lab.test\n")
        self.assertFalse(os.path.exists(state + ".tmp"))
        self.set_clock(T0 + 301)
        srv2 = self.start(PROFILE, args=["--state-file", state])
        host, r, end = self.attempt(srv2)
        self.assertEqual(r[0][:3], "250", r)
        [(body, _)] = srv2.messages()
        self.assertTrue(body.startswith(x_greylist(
            301, host, "Sun, 09 Sep 2001 01:51:41 UTC")), body)
        # without the file the server starts over: greylisted again
        srv3 = self.start(PROFILE)
        _, r, _ = self.attempt(srv3)
        self.assertEqual(r, [greylisted("u@lab.test")])

    def test_damaged_state_file_stops_start_up(self):
        state = os.path.join(self.tmp, "bad.state")
        with open(state, "w") as f:
            f.write("smtp-mimic state 1\nT 1 two k\n")
        with self.assertRaises(RuntimeError) as e:
            self.start(PROFILE, args=["--state-file", state])
        self.assertIn("--state-file %s: line 2: bad second number" % state,
                      str(e.exception))

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_is_greylisted_then_delivers(self):
        srv = self.start(PROFILE)
        cmd = ["swaks", "--server", "127.0.0.1:%d" % srv.port,
               "--from", "a@b.test", "--to", "u@lab.test", "--helo",
               "client.test", "--body", "hi"]
        out = subprocess.run(cmd, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=30).stdout
        self.assertIn(b"<** " + greylisted("u@lab.test").encode(), out)
        self.set_clock(T0 + 301)
        p = subprocess.run(cmd, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout)
        self.assertEqual(len(srv.messages()), 1)



class WorkersTest(ClockTest):
    """The state is shared by every worker thread (one lock): clients
    spread over four workers see one table."""

    def test_four_workers_share_the_state(self):
        srv = self.start(PROFILE, args=["--workers", "4"])
        rcpts = ["w%d@lab.test" % i for i in range(24)]
        results = {}

        def run(rcpt):
            results[rcpt] = self.attempt(srv, rcpt=rcpt)[1]

        def all_at_once():
            ts = [threading.Thread(target=run, args=(r,)) for r in rcpts]
            for t in ts:
                t.start()
            for t in ts:
                t.join(30)

        all_at_once()
        self.assertEqual(results, {r: [greylisted(r)] for r in rcpts})
        self.set_clock(T0 + 300)
        all_at_once()
        self.assertEqual({r: v[0][:3] for r, v in results.items()},
                         {r: "250" for r in rcpts})
        self.assertEqual(len(srv.messages()), len(rcpts))


if __name__ == "__main__":
    unittest.main()
