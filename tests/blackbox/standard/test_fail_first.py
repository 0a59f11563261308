"""standard: the rule action do.fail_first (fixture std-fail-first.yaml):
the first N attempts of each key get the rule's reply, then the engine
answers as without the rule; keys are counted across sessions and kept
by --state-file across a restart."""
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402

PROFILE = "std-fail-first"


def soft(rcpt):
    """The rule's reply (a command hook fires before {recipient} is set,
    so the fixture's text does not name it)."""
    return ["451 4.7.1 Try again later"]


class FailFirstTest(ServerTest):
    def rcpt(self, srv, sender, rcpt):
        c = srv.connect()
        c.banner()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<%s>" % sender)
        r = c.cmd("RCPT TO:<%s>" % rcpt)
        c.cmd("QUIT")
        c.close()
        return r

    def test_first_two_fail_then_accept(self):
        srv = self.start(PROFILE)
        self.assertEqual(self.rcpt(srv, "a@b.test", "u@d.test"),
                         soft("u@d.test"))
        self.assertEqual(self.rcpt(srv, "a@b.test", "u@d.test"),
                         soft("u@d.test"))
        for _ in range(3):
            self.assertEqual(self.rcpt(srv, "a@b.test", "u@d.test"),
                             ["250 2.1.5 Ok"])
        # another recipient, another sender: keys of their own
        self.assertEqual(self.rcpt(srv, "a@b.test", "v@d.test"),
                         soft("v@d.test"))
        self.assertEqual(self.rcpt(srv, "x@b.test", "u@d.test"),
                         soft("u@d.test"))

    def test_within_one_session(self):
        srv = self.start(PROFILE)
        c = srv.connect()
        c.banner()
        c.cmd("EHLO client.test")
        c.cmd("MAIL FROM:<a@b.test>")
        self.assertEqual(c.cmd("RCPT TO:<u@d.test>"), soft("u@d.test"))
        self.assertEqual(c.cmd("RCPT TO:<u@d.test>"), soft("u@d.test"))
        self.assertEqual(c.cmd("RCPT TO:<u@d.test>"), ["250 2.1.5 Ok"])

    def test_key_of_args_with_close(self):
        srv = self.start(PROFILE)
        c = srv.connect()
        c.banner()
        self.assertEqual(c.cmd("HELO one.test"),
                         ["421 4.7.0 come back later"])
        self.assertEqual(c.ending()[0], "fin")
        c = srv.connect()
        c.banner()
        self.assertEqual(c.cmd("HELO one.test"), ["250 mx.lab.test"])
        self.assertEqual(c.cmd("HELO two.test"),
                         ["421 4.7.0 come back later"])

    def test_counts_survive_a_restart(self):
        tmp = tempfile.mkdtemp(prefix="failfirst-")
        self.addCleanup(shutil.rmtree, tmp, True)
        state = os.path.join(tmp, "state")
        srv = self.start(PROFILE, args=["--state-file", state])
        self.assertEqual(self.rcpt(srv, "a@b.test", "u@d.test"),
                         soft("u@d.test"))
        self.assertEqual(srv.stop(), 0)
        with open(state, "rb") as f:
            lines = f.read().split(b"\n")
        self.assertEqual(lines[0], b"smtp-mimic state 1")
        self.assertRegex(lines[1], rb"\AN 1 [0-9]+ "
                         rb"soft-fail-twice/127\.0\.0\.1/a@b\.test/u@d\.test\Z")
        srv2 = self.start(PROFILE, args=["--state-file", state])
        self.assertEqual(self.rcpt(srv2, "a@b.test", "u@d.test"),
                         soft("u@d.test"))
        self.assertEqual(self.rcpt(srv2, "a@b.test", "u@d.test"),
                         ["250 2.1.5 Ok"])


if __name__ == "__main__":
    unittest.main()
