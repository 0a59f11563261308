"""exchange2013: DATA after MAIL ... BODY=BINARYMIME (RFC 3030).

Exchange 2013 advertises BINARYMIME and CHUNKING (FACTS.md 1). RFC 3030 3:
a BODY=BINARYMIME message must be sent with BDAT; RFC 3030 2: DATA after a
BDAT chunk of the same transaction "MUST" get a 503 "Bad sequence of
commands". DATA after BODY=BINARYMIME gets the same reply, need_bdat (model
choice: RFC 3030 3 names no reply), never "need MAIL command"; the
transaction stays open and BDAT then delivers it.

Exchange's own text for this is not sourced, so the reply is the built-in
RFC 5321 wording (server/proto/proto.c).
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", PROFILES]
# exchange2013 with need_bdat and need_mail worded apart (a fixture).
WORDED = ["--profile-path", os.path.join(HERE, "profiles"),
          "--profile-path", PROFILES]

MAIL_OK = "250 2.1.0 Sender OK"                                   # FACTS.md 1
RCPT_OK = "250 2.1.5 Recipient OK"                                # FACTS.md 1
NEED_BDAT = "503 5.5.1 Bad sequence of commands"       # RFC 3030 2; 5321 4.2.2
BDAT_OK = "250 2.0.0 3 octets received"                # built-in (RFC 3030 4.2)
DATA_OK_RE = re.compile(
    r"250 2\.6\.0 <[0-9a-f-]{36}@ex2013\.lab\.test> \[InternalId=[0-9]+, "
    r"Hostname=ex2013\.lab\.test\] Queued mail for delivery\Z")


class ExchangeBinaryMime(ServerTest):

    def transaction(self, body, profile="exchange2013", args=ARGS):
        srv = self.start(profile, args=args)
        c = srv.connect()
        c.line()
        ehlo = c.cmd("EHLO client.lab.test")
        self.assertIn("250-BINARYMIME", ehlo)
        self.assertIn("250-CHUNKING", ehlo)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test> BODY=" + body),
                         [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), [RCPT_OK])
        return srv, c

    def test_data_after_binarymime_is_503_then_bdat_delivers(self):
        srv, c = self.transaction("BINARYMIME")
        self.assertEqual(c.cmd("DATA"), [NEED_BDAT])
        # The transaction is still there: BDAT carries the body.
        c.send("BDAT 5 LAST\r\nhello")
        r = c.reply()
        self.assertEqual(len(r), 1, r)
        self.assertRegex(r[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"),
                         ["221 2.0.0 Service closing transmission channel"])
        self.assertEqual(c.ending(), ("fin", b""))
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)

    def test_data_after_bdat_chunk_is_503(self):
        srv, c = self.transaction("8BITMIME")
        c.send("BDAT 3\r\nabc")
        self.assertEqual(c.reply(), [BDAT_OK])
        self.assertEqual(c.cmd("DATA"), [NEED_BDAT])
        c.send("BDAT 0 LAST\r\n")
        r = c.reply()
        self.assertRegex(r[0], DATA_OK_RE)

    def test_need_bdat_is_a_reply_of_its_own_on_the_wire(self):
        # need_bdat, not need_mail: a profile words it on its own.
        srv, c = self.transaction("BINARYMIME", "exchange2013-bdat-words",
                                  WORDED)
        self.assertEqual(c.cmd("DATA"), ["503 5.5.1 BINARYMIME needs BDAT"])
        self.assertEqual(c.cmd("RSET"), ["250 2.0.0 OK"])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"),
                         ["503 5.5.1 need MAIL first"])

    def test_need_bdat_in_check(self):
        # A profile can word it: the --check of exchange2013 lists need_bdat
        # with its origin (built-in: no Exchange text is sourced).
        from harness import run_cli
        cp = run_cli(["-P", PROFILES, "--check", "-p", "exchange2013"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        lines = cp.stdout.splitlines()
        i = next(n for n, l in enumerate(lines)
                 if l.startswith("  need_bdat "))
        self.assertEqual(lines[i].split(None, 1)[1], NEED_BDAT)
        self.assertEqual(lines[i + 1].strip(),
                         "[built-in (RFC 5321, model choice)]")


if __name__ == "__main__":
    unittest.main()
