"""esa: what counts toward the bad-command limit, per FACTS.md section 4.

FACTS.md 4 / Cisco 214630: "Anything else: 500 #5.5.1 command not
recognized; after 5 bad commands 421 Exceeded bad SMTP command limit,
disconnecting. and the connection closes". The source speaks of
unrecognised commands only, so profiles/esa.yaml sets
limits.bad_commands_count: [unknown_command] (model choice, documented
there): a sequence error, bad arguments, an over-long line or a bare LF gets
its reply and is not counted.

The non-counted replies have no ESA source: they are the engine's built-in
texts, RFC 5321's own wording (server/proto/proto.c), never Postfix's
"Error: ..." words. Each is asserted byte for byte.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest  # noqa: E402

ARGS = ["--profile-path", PROFILES]

BANNER = "220 esa.lab.test ESMTP"                                # FACTS.md 4
EHLO_REPLY = ["250-esa.lab.test", "250-8BITMIME", "250 SIZE 10485760"]
UNKNOWN = "500 #5.5.1 command not recognized"                   # FACTS.md 4
LIMIT = "421 Exceeded bad SMTP command limit, disconnecting."   # FACTS.md 4
MAIL_OK = "250 sender <a@lab.test> ok"                          # [118234]
# RFC 5321's words (built-in, model choice for the ESA):
BAD_SEQUENCE = "503 5.5.1 Bad sequence of commands"             # 5321 4.2.2, 3.3
LINE_TOO_LONG = "500 5.5.2 Line too long"                       # 5321 4.5.3.1
BAD_ARGS = "501 5.1.7 Syntax error in parameters or arguments"  # 5321 4.2.2
BARE_LF = "500 5.5.2 Syntax error, command unrecognized"        # 5321 4.2.2
NOOP_OK = "250 2.0.0 OK"                                        # 5321 4.1.1.9


class EsaBadCommands(ServerTest):

    def hello(self):
        srv = self.start("esa", args=ARGS)
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        return srv, c

    def test_five_unknown_commands_421_and_fin(self):
        srv, c = self.hello()
        for verb in ("XX1", "XX2", "XX3", "XX4"):
            self.assertEqual(c.cmd(verb), [UNKNOWN], verb)
        c.send("XX5\r\n")
        self.assertEqual(c.ending(),
                         ("fin", (UNKNOWN + "\r\n" + LIMIT + "\r\n").encode()))

    def test_other_errors_do_not_count(self):
        srv, c = self.hello()
        # Four unknown commands: one short of the limit.
        for verb in ("XX1", "XX2", "XX3", "XX4"):
            self.assertEqual(c.cmd(verb), [UNKNOWN], verb)
        # Interleaved, twice over: each gets its own reply, none counts.
        for _ in range(2):
            self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), [BAD_SEQUENCE])
            self.assertEqual(c.cmd("DATA"), [BAD_SEQUENCE])
            self.assertEqual(c.cmd("MAIL FROM:not-an-address"), [BAD_ARGS])
            self.assertEqual(c.cmd("NOOP " + "x" * 600), [LINE_TOO_LONG])
            c.send("NOOP\n")
            self.assertEqual(c.reply(), [BARE_LF])
            self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
            self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"),
                             [BAD_SEQUENCE])
            self.assertEqual(c.cmd("RSET"), [NOOP_OK])
        # Still open: the fifth unrecognised command is what ends it.
        self.assertEqual(c.cmd("NOOP"), [NOOP_OK])
        c.send("XX5\r\n")
        self.assertEqual(c.ending(),
                         ("fin", (UNKNOWN + "\r\n" + LIMIT + "\r\n").encode()))
        closes = [e for e in srv.events() if e["dir"] == "close"]
        self.assertEqual(len(closes), 1, closes)
        self.assertIn("bad command", closes[0]["text"])

    def test_no_postfix_words(self):
        # Every error reply the ESA has no source for is RFC 5321's text.
        srv, c = self.hello()
        got = []
        got += c.cmd("RCPT TO:<b@lab.test>")
        got += c.cmd("NOOP " + "x" * 600)
        got += c.cmd("MAIL FROM:<a@lab.test> FOO=BAR")
        got += c.cmd("RSET")
        for line in got:
            self.assertNotIn("Error:", line)
            self.assertNotIn(" Ok", line)
        self.assertEqual(got, [
            BAD_SEQUENCE, LINE_TOO_LONG,
            "555 5.5.4 MAIL FROM/RCPT TO parameters not recognized or not "
            "implemented",
            NOOP_OK])
        self.assertEqual(c.cmd("QUIT"), ["221 esa.lab.test"])
        self.assertEqual(c.ending(), ("fin", b""))


if __name__ == "__main__":
    unittest.main()
