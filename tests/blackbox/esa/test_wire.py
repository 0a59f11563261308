"""esa: the exact bytes of a Cisco ESA (AsyncOS) listener.

Expected strings are written out literally from FACTS.md section 4 (and,
where FACTS.md has no text, from profiles/esa.yaml as noted), so the test
fails if the profile drifts from FACTS.md.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# (esa has no fixture profiles of its own; a --profile-path that does not
# exist is an error.)
ARGS = ["--profile-path", PROFILES]

BANNER = "220 esa.lab.test ESMTP"                                # FACTS.md 4
# FACTS.md 4: 250-<host>, 250-8BITMIME, 250-SIZE 10485760 (STARTTLS would
# come last, but TLS is not on), so SIZE ends the reply.
EHLO_REPLY = ["250-esa.lab.test", "250-8BITMIME", "250 SIZE 10485760"]
UNKNOWN = "500 #5.5.1 command not recognized"                   # FACTS.md 4
LIMIT = "421 Exceeded bad SMTP command limit, disconnecting."   # FACTS.md 4
HELP = [                                                        # FACTS.md 4
    "214-The following commands are recognized",
    "214- auth data ehlo helo",
    "214- help mail noop quit",
    "214 rcpt rset vrfy",
]
# Not in FACTS.md as text: profiles/esa.yaml [118234] / model choice.
HELO = "250 esa.lab.test"
QUIT = "221 esa.lab.test"
VRFY = "252 ok"


class EsaWire(ServerTest):

    def start_esa(self):
        return self.start("esa", args=ARGS)

    def hello(self, srv):
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        return c

    def quit(self, c):
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))

    def test_banner_and_ehlo_bytes(self):
        srv = self.start_esa()
        c = srv.connect()
        c.send("EHLO client.lab.test\r\n")
        want = b"220 esa.lab.test ESMTP\r\n" \
               b"250-esa.lab.test\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n"
        got = b""
        while len(got) < len(want):
            chunk = c.sock.recv(65536)
            self.assertTrue(chunk, got)
            got += chunk
        self.assertEqual(got, want)
        self.assertEqual(c.cmd("HELO client.lab.test"), [HELO])
        self.quit(c)

    def test_help_is_the_four_lines(self):
        srv = self.start_esa()
        c = self.hello(srv)
        self.assertEqual(c.cmd("HELP"), HELP)
        self.assertEqual(c.cmd("HELP mail"), HELP)
        self.quit(c)

    def test_vrfy_is_2xx(self):
        srv = self.start_esa()
        c = self.hello(srv)
        for arg in ("bob", "<bob@lab.test>", "nobody-at-all"):
            r = c.cmd("VRFY " + arg)
            self.assertEqual(r, [VRFY], arg)
            self.assertEqual(r[0][0], "2")   # FACTS.md 4: VRFY always 2xx
        self.quit(c)

    def test_unrecognised_commands(self):
        srv = self.start_esa()
        c = self.hello(srv)
        # FACTS.md 4: BDAT and the rest are not recognised; 4 of them stay
        # under the limit of 5.
        for line in ("BDAT 10 LAST", "XYZZY", "ETRN lab.test", "EXPN staff"):
            self.assertEqual(c.cmd(line), [UNKNOWN], line)
        # The recognised ones still work (NOOP/RSET texts: the built-in RFC 5321 ones).
        self.assertEqual(c.cmd("NOOP"), ["250 2.0.0 OK"])
        self.assertEqual(c.cmd("HELP"), HELP)
        self.quit(c)

    def test_starttls_is_recognised(self):
        # FACTS.md 4: STARTTLS is a recognised command. TLS is not on yet,
        # so it is not advertised and gets tls_unavailable (RFC 3207 4, built in),
        # not the 500, and it is not a bad command: six of them do not
        # reach the limit of 5.
        srv = self.start_esa()
        c = self.hello(srv)
        for _ in range(6):
            self.assertEqual(
                c.cmd("STARTTLS"),
                ["454 4.7.0 TLS not available due to temporary reason"])
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        self.quit(c)

    def test_bdat_in_a_transaction(self):
        srv = self.start_esa()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"),
                         ["250 sender <a@lab.test> ok"])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"),
                         ["250 recipient <b@lab.test> ok"])
        # The chunk's bytes follow on the wire; the ESA does not know BDAT,
        # so it reads them as a command line too: two 500s.
        c.send("BDAT 5 LAST\r\nhello\r\n")
        self.assertEqual(c.reply(), [UNKNOWN])
        self.assertEqual(c.reply(), [UNKNOWN])
        self.quit(c)
        self.assertEqual(srv.messages(), [])

    def test_bad_command_limit_other_session_unaffected(self):
        srv = self.start_esa()
        other = self.hello(srv)                # opened before, stays open
        self.assertEqual(other.cmd("XYZZY"), [UNKNOWN])
        c = self.hello(srv)
        for i in range(4):
            self.assertEqual(c.cmd("XX%d" % i), [UNKNOWN])
        # FACTS.md 4: the 5th still gets its 500, then the 421, then the
        # connection closes (with a FIN: profiles/esa.yaml
        # bad_commands_close: fin).
        self.assertEqual(c.cmd("BDAT 1 LAST"), [UNKNOWN])
        self.assertEqual(c.ending(), ("fin", (LIMIT + "\r\n").encode()))
        # The other session is still served, with its own count (1 so far):
        # three more bad commands do not end it.
        for i in range(3):
            self.assertEqual(other.cmd("YY%d" % i), [UNKNOWN])
        self.assertEqual(other.cmd("HELP"), HELP)
        self.assertEqual(other.cmd("MAIL FROM:<a@lab.test>"),
                         ["250 sender <a@lab.test> ok"])
        self.quit(other)
        # The transcript says what happened to which session.
        events = srv.events()
        cut = [e for e in events if e["dir"] == "S" and e["text"] == LIMIT]
        self.assertEqual(len(cut), 1)
        sess = cut[0]["session"]
        warns = [e for e in events
                 if e["session"] == sess and e["dir"] == "warn"]
        self.assertTrue(any("bad command" in e["text"] for e in warns),
                        warns)
        closes = [e for e in events
                  if e["session"] == sess and e["dir"] == "close"]
        self.assertEqual(len(closes), 1, closes)
        self.assertTrue(closes[0]["text"].startswith("fin"), closes)
        self.assertIn("bad command", closes[0]["text"])
        self.assertTrue(all(e["profile"] == "esa" for e in events))

    def test_bad_command_limit_pipelined(self):
        # Five unknown lines in one write (as the man page's nc example):
        # five 500s, the 421, FIN; a sixth line is never answered.
        srv = self.start_esa()
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        c.send("XX\r\n" * 5)
        want = (UNKNOWN + "\r\n") * 5 + LIMIT + "\r\n"
        self.assertEqual(c.ending(), ("fin", want.encode()))

    def test_good_command_does_not_reset_count(self):
        # FACTS.md 4: "after 5 bad commands" in the session, not 5 in a
        # row: a good command in between does not reset the count (man
        # page, limits.bad_commands).
        srv = self.start_esa()
        c = self.hello(srv)
        self.assertEqual(c.cmd("FOO"), [UNKNOWN])
        self.assertEqual(c.cmd("BAR"), [UNKNOWN])
        self.assertEqual(c.cmd("BAZ"), [UNKNOWN])
        self.assertEqual(c.cmd("QUX"), [UNKNOWN])
        self.assertEqual(c.cmd("NOOP"), ["250 2.0.0 OK"])
        c.send("QUUX\r\n")
        self.assertEqual(c.ending(),
                         ("fin", (UNKNOWN + "\r\n" + LIMIT + "\r\n").encode()))


if __name__ == "__main__":
    unittest.main()
