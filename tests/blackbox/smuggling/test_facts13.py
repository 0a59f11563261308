"""smuggling: FACTS.md section 13's outcome table, one test per cell.

Each test sends SEC Consult's payload: inside one DATA, the text "legit",
an end-of-data variant, a smuggled second transaction (MAIL FROM, RCPT TO,
DATA, a body) and the real <CR><LF>.<CR><LF>, then QUIT, all in one write.
It asserts the exact replies (queue ids by their shape), what the spool
holds afterwards (bodies and envelopes) and how the connection ended:

  receiver  before the fix                 after the fix
  Postfix   postfix-smuggling              postfix-bare-lf-reject,
                                           postfix-bare-lf-normalize
  Sendmail  sendmail-smuggling             sendmail-bare-lf-reject
  Exim      exim-smuggling                 exim-bare-lf-space
  qmail     qmail (first bare LF: 451, exit)
  ESA       esa-smuggling ("Clean")        esa ("Allow", not changed)

The personalities' strings are FACTS.md 7-10 (profiles/postfix.yaml,
sendmail.yaml, exim.yaml, qmail.yaml); the host name is read from each
banner, queue ids are matched by their vendor's shape.
"""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest  # noqa: E402

# (no fixture profiles of its own: only the shipped ones)
ARGS = ["--profile-path", PROFILES]

HEAD = b"Subject: legit\r\n\r\nlegit"
SMUGGLED_BODY = b"Subject: smuggled\r\n\r\nsmuggled\r\n"
SMUGGLED = (b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<victim@evil.test>\r\n"
            b"DATA\r\n" + SMUGGLED_BODY)
END = b".\r\n"  # after SMUGGLED's last CRLF: the real <CR><LF>.<CR><LF>
VARIANTS = {
    "LF.LF": b"\n.\n",
    "LF.CRLF": b"\n.\r\n",
    "CRLF.LF": b"\r\n.\n",
    "CR.CR": b"\r.\r",
}
LEGIT = ("a@b.test", ["c@d.test"])
EVIL = ("smuggled@evil.test", ["victim@evil.test"])


class Vendor:
    """The replies one personality gives this transaction (FACTS.md)."""

    def __init__(self, banner_re, mail, rcpt, data, queued_re, quit):
        self.banner_re, self.mail, self.rcpt = banner_re, mail, rcpt
        self.data, self.queued_re, self.quit = data, queued_re, quit


# FACTS.md 7
POSTFIX = Vendor(r"220 (\S+) ESMTP Postfix \(Debian/GNU\)\Z",
                 lambda a: "250 2.1.0 Ok", lambda a: "250 2.1.5 Ok",
                 "354 End data with <CR><LF>.<CR><LF>",
                 r"250 2\.0\.0 Ok: queued as [0-9A-F]+\Z",
                 lambda h: "221 2.0.0 Bye")
# FACTS.md 8
SENDMAIL = Vendor(r"220 (\S+) ESMTP Sendmail 8\.17\.1\.9/8\.17\.1\.9/Debian-\S+; ",
                  lambda a: "250 2.1.0 <%s>... Sender ok" % a,
                  lambda a: "250 2.1.5 <%s>... Recipient ok" % a,
                  '354 Enter mail, end with "." on a line by itself',
                  r"250 2\.0\.0 \w+ Message accepted for delivery\Z",
                  lambda h: "221 2.0.0 %s closing connection" % h)
# FACTS.md 9
EXIM = Vendor(r"220 (\S+) ESMTP Exim 4\.96 ",
              lambda a: "250 OK", lambda a: "250 Accepted",
              '354 Enter message, ending with "." on a line by itself',
              r"250 OK id=[0-9A-Za-z-]+\Z",
              lambda h: "221 %s closing connection" % h)
# FACTS.md 10
QMAIL = Vendor(r"220 (\S+) ESMTP\Z", lambda a: "250 ok", lambda a: "250 ok",
               "354 go ahead", r"250 ok \d+ qp \d+\Z",
               lambda h: "221 %s" % h)
# FACTS.md 4 and profiles/esa.yaml
ESA = Vendor(r"220 (\S+) ESMTP\Z",
             lambda a: "250 sender <%s> ok" % a,
             lambda a: "250 recipient <%s> ok" % a,
             "354 go ahead", r"250 ok: Message \d+ accepted\Z",
             lambda h: "221 %s" % h)

QMAIL_BARE_LF = "451 See http://pobox.com/~djb/docs/smtplf.html."  # FACTS 10, 13
SENDMAIL_BARE_LF = "421 4.5.0 Bare linefeed (LF) not allowed"     # FACTS 8, 13


def postfix_bare_lf(host):  # FACTS 7, 13
    return "550 5.5.2 %s Error: bare <LF> received" % host


class Cells(ServerTest):

    def session(self, srv, v, variant):
        """One session with the payload; (host, replies after the 354, how
        the connection ended, bytes after the last reply)."""
        c = srv.connect()
        banner = c.line()
        m = re.match(v.banner_re, banner)
        self.assertIsNotNone(m, banner)
        host = m.group(1)
        self.assertEqual(c.cmd("EHLO client.lab.test")[0][:4], "250-")
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), [v.mail("a@b.test")])
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), [v.rcpt("c@d.test")])
        self.assertEqual(c.cmd("DATA"), [v.data])
        c.send(HEAD + variant + SMUGGLED + END + b"QUIT\r\n")
        got = []
        while True:
            try:
                got.append(c.line())
            except EOFError:
                break
            if got[-1][:3] in ("221", "421", "451"):
                break
        how, rest = c.ending()
        return host, got, how, rest

    def spool(self, srv):
        """What is queued: sorted [(body, mail_from, rcpt_to)]."""
        return sorted((b, e["mail_from"], e["rcpt_to"])
                      for b, e in srv.messages())

    def smuggled(self, profile, v, names, legit_tail=b"\r\n"):
        """Each variant in names ends DATA: both transactions run, and the
        spool holds the legit message and the smuggled one."""
        for name in names:
            with self.subTest(variant=name):
                srv = self.start(profile, args=ARGS)
                host, got, how, rest = self.session(srv, v, VARIANTS[name])
                self.assertEqual(len(got), 6, got)
                self.assertRegex(got[0], v.queued_re)
                self.assertEqual(got[1:4], [v.mail(EVIL[0]),
                                            v.rcpt(EVIL[1][0]), v.data])
                self.assertRegex(got[4], v.queued_re)
                self.assertEqual(got[5], v.quit(host))
                self.assertEqual((how, rest), ("fin", b""))
                self.assertEqual(self.spool(srv), sorted([
                    (HEAD + legit_tail,) + LEGIT,
                    (SMUGGLED_BODY,) + EVIL]))

    def one_message(self, profile, v, cases):
        """Each (variant, body) does not end DATA: one 250, the smuggled
        commands are text of the one message queued."""
        for name, body in cases:
            with self.subTest(variant=name):
                srv = self.start(profile, args=ARGS)
                host, got, how, rest = self.session(srv, v, VARIANTS[name])
                self.assertEqual(len(got), 2, got)
                self.assertRegex(got[0], v.queued_re)
                self.assertEqual(got[1], v.quit(host))
                self.assertEqual((how, rest), ("fin", b""))
                self.assertEqual(self.spool(srv), [(body,) + LEGIT])

    def refused(self, profile, v, names, reply, then_quit):
        """Each variant's bare LF is refused with reply; then_quit: the
        session goes on to QUIT's 221, else the server closed after reply.
        Nothing is queued."""
        for name in names:
            with self.subTest(variant=name):
                srv = self.start(profile, args=ARGS)
                host, got, how, rest = self.session(srv, v, VARIANTS[name])
                want = [reply(host) if callable(reply) else reply]
                if then_quit:
                    want.append(v.quit(host))
                self.assertEqual(got, want)
                self.assertEqual((how, rest), ("fin", b""))
                self.assertEqual(self.spool(srv), [])

    # --- Postfix ---

    def test_postfix_before_fix(self):
        # FACTS 13: <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF> end DATA
        self.smuggled("postfix-smuggling", POSTFIX,
                      ["LF.LF", "LF.CRLF", "CRLF.LF"])
        # ... and <CR>.<CR> does not (FACTS 7)
        self.one_message("postfix-smuggling", POSTFIX,
                         [("CR.CR", HEAD + b"\r.\r" + SMUGGLED)])

    def test_postfix_after_fix_reject(self):
        # FACTS 13: reject: 550 5.5.2 <host> Error: bare <LF> received
        self.refused("postfix-bare-lf-reject", POSTFIX,
                     ["LF.LF", "LF.CRLF", "CRLF.LF"], postfix_bare_lf, True)
        # no bare LF: CRLF.CRLF only, the rest is text
        self.one_message("postfix-bare-lf-reject", POSTFIX,
                         [("CR.CR", HEAD + b"\r.\r" + SMUGGLED)])

    def test_postfix_after_fix_normalize(self):
        # FACTS 13: normalize: CRLF.CRLF only; a bare LF is CRLF, the "."
        # line that does not end DATA loses its dot
        norm = HEAD + b"\r\n\r\n" + SMUGGLED
        self.one_message("postfix-bare-lf-normalize", POSTFIX,
                         [("LF.LF", norm), ("LF.CRLF", norm),
                          ("CRLF.LF", norm),
                          ("CR.CR", HEAD + b"\r.\r" + SMUGGLED)])

    # --- Sendmail ---

    def test_sendmail_before_fix(self):
        # FACTS 13: <LF>.<LF>, <LF>.<CR><LF>, <CR><LF>.<LF> end DATA
        self.smuggled("sendmail-smuggling", SENDMAIL,
                      ["LF.LF", "LF.CRLF", "CRLF.LF"])
        self.one_message("sendmail-smuggling", SENDMAIL,
                         [("CR.CR", HEAD + b"\r.\r" + SMUGGLED)])

    def test_sendmail_after_fix(self):
        # FACTS 13: 421 4.5.0 Bare linefeed (LF) not allowed, and the close
        self.refused("sendmail-bare-lf-reject", SENDMAIL,
                     ["LF.LF", "LF.CRLF", "CRLF.LF"], SENDMAIL_BARE_LF,
                     False)

    # --- Exim ---

    def test_exim_before_fix(self):
        # FACTS 13: <LF>.<LF>, <CR><LF>.<LF>, <LF>.<CR><LF> end DATA
        self.smuggled("exim-smuggling", EXIM, ["LF.LF", "CRLF.LF", "LF.CRLF"])
        # <CR>.<CR> never did
        self.one_message("exim-smuggling", EXIM,
                         [("CR.CR", HEAD + b"\r.\r" + SMUGGLED)])

    def test_exim_after_fix(self):
        # FACTS 13: a bare LF in the body becomes a space
        self.one_message("exim-bare-lf-space", EXIM, [
            ("LF.LF", HEAD + b" . " + SMUGGLED),
            ("LF.CRLF", HEAD + b" .\r\n" + SMUGGLED),
            ("CRLF.LF", HEAD + b"\r\n " + SMUGGLED),
        ])

    # --- qmail ---

    def test_qmail(self):
        # FACTS 13 / 10: the first bare LF: 451 ... smtplf.html. and exit
        self.refused("qmail", QMAIL, ["LF.LF", "LF.CRLF", "CRLF.LF"],
                     QMAIL_BARE_LF, False)
        # no bare LF in <CR>.<CR>: one message, the CRs kept
        self.one_message("qmail", QMAIL,
                         [("CR.CR", HEAD + b"\r.\r" + SMUGGLED)])

    # --- Cisco ESA ---

    def test_esa_clean(self):
        # FACTS 13: "Clean" makes bare CR/LF CRLF: <CR>.<CR> and
        # <LF>.<CR><LF> end DATA
        self.smuggled("esa-smuggling", ESA, ["CR.CR", "LF.CRLF"])
        norm = HEAD + b"\r\n\r\n" + SMUGGLED
        self.one_message("esa-smuggling", ESA,
                         [("LF.LF", norm), ("CRLF.LF", norm)])

    def test_esa_allow(self):
        # FACTS 13: not changed ("Allow"): CRLF.CRLF only, bytes as sent
        self.one_message("esa", ESA, [
            ("LF.LF", HEAD + b"\n.\n" + SMUGGLED),
            ("LF.CRLF", HEAD + b"\n.\r\n" + SMUGGLED),
            ("CRLF.LF", HEAD + b"\r\n\n" + SMUGGLED),
            ("CR.CR", HEAD + b"\r.\r" + SMUGGLED),
        ])


if __name__ == "__main__":
    unittest.main()
