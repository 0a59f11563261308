"""SMTP smuggling (SEC Consult, December 2023) as a regression suite.

Each of SEC Consult's end-of-data variants -- <LF>.<LF>, <CR><LF>.<LF>,
<LF>.<CR><LF>, <CR>.<CR>, <CR><LF>.<CR>, <CR>.<CR><LF>, and a NUL between
the dot and the CRLF -- is sent inside one DATA, followed by a smuggled
second transaction (MAIL FROM/RCPT TO/DATA and a body) and the real
<CR><LF>.<CR><LF>, all in one write. Against every shipped server profile
(profiles/*.yaml; all are line_endings: strict, the default) the test
asserts the exact replies -- one 250 for the one message, no reply to the
smuggled commands -- and exactly what is queued: one message per variant,
from the real envelope, with the smuggled commands as body text. In strict
mode only CRLF ends a line (RFC 5321 2.3.8), so a bare CR or LF is content;
a line that starts with "." after a real CRLF loses that dot (RFC 5321
4.5.2 transparency), which is why three variants queue without it.

The fixture std-lenient (line_endings: lenient, a bare LF ends a line too)
shows what the key costs: the LF variants end the data there, and the
smuggled transaction is run and queued as a second message.

Not here: BDAT (its chunks are counted, not scanned for an end of data).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402

HEAD = b"Subject: legit\r\n\r\nlegit"
SMUGGLED = (b"MAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<victim@evil.test>\r\n"
            b"DATA\r\nSubject: smuggled\r\n\r\nsmuggled\r\n")
END = b".\r\n"  # after SMUGGLED's last CRLF: the real <CR><LF>.<CR><LF>

# (name, the bytes after "legit", what a strict profile queues after "legit")
VARIANTS = [
    ("LF.LF", b"\n.\n", b"\n.\n"),
    ("CRLF.LF", b"\r\n.\n", b"\r\n\n"),        # ".<LF>..." starts a line
    ("LF.CRLF", b"\n.\r\n", b"\n.\r\n"),
    ("CR.CR", b"\r.\r", b"\r.\r"),
    ("CRLF.CR", b"\r\n.\r", b"\r\n\r"),        # ".<CR>MAIL..." starts a line
    ("CR.CRLF", b"\r.\r\n", b"\r.\r\n"),
    ("CRLF.NUL CRLF", b"\r\n.\x00\r\n", b"\r\n\x00\r\n"),  # ".<NUL>"
]

# Each shipped server profile's replies to this transaction: MAIL, RCPT,
# DATA, the one 250 (a regex: queue ids vary) and QUIT.
PROFILES = {
    "standard": (
        "250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
        r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$", "221 2.0.0 Bye"),
    "exchange2013": (
        "250 2.1.0 Sender OK", "250 2.1.5 Recipient OK",
        "354 Start mail input; end with <CRLF>.<CRLF>",
        r"^250 2\.6\.0 <[0-9a-f-]+@ex2013\.lab\.test> \[InternalId=\d+, "
        r"Hostname=ex2013\.lab\.test\] Queued mail for delivery$",
        "221 2.0.0 Service closing transmission channel"),
    "esa": (
        "250 sender <a@b.test> ok", "250 recipient <c@d.test> ok",
        "354 go ahead", r"^250 ok: Message \d+ accepted$",
        "221 esa.lab.test"),
}
# FACTS.md 7-9: the Unix MTAs with the default end of data (their
# smuggling variants are tests/blackbox/smuggling's)
PROFILES["postfix"] = (
    "250 2.1.0 Ok", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>",
    r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$", "221 2.0.0 Bye")
PROFILES["sendmail"] = (
    "250 2.1.0 <a@b.test>... Sender ok", "250 2.1.5 <c@d.test>... Recipient ok",
    '354 Enter mail, end with "." on a line by itself',
    r"^250 2\.0\.0 \w+ Message accepted for delivery$",
    "221 2.0.0 mail.lab.test closing connection")
PROFILES["exim"] = (
    "250 OK", "250 Accepted",
    '354 Enter message, ending with "." on a line by itself',
    r"^250 OK id=[0-9A-Za-z-]+$", "221 mail.lab.test closing connection")
PROFILES["exchange2013-tls10"] = PROFILES["exchange2013"]
PROFILES["exchange2013-cscwh48138"] = PROFILES["exchange2013"]
PROFILES["esa-behind-asa"] = PROFILES["esa"]  # the ASA passes DATA as is
# FACTS.md 11 and 14: the Microsoft shelf speaks exchange2013's words
for _name, _host in [("exchange2010", r"ex2010\.lab\.test"),
                     ("exchange2016", r"ex2016\.lab\.test"),
                     ("exchange2019", r"ex2019\.lab\.test"),
                     ("exchange2013-dhe-leading-zero", r"ex2013\.lab\.test"),
                     ("exchange-online",
                      r"BN8NAM12FT021\.mail\.protection\.outlook\.com")]:
    PROFILES[_name] = PROFILES["exchange2013"][:3] + (
        r"^250 2\.6\.0 <[0-9a-f-]+@%s> \[InternalId=\d+, Hostname=%s\] "
        r"Queued mail for delivery$" % (_host, _host),
        PROFILES["exchange2013"][4])
# Gmail: every reply ends "<sid> - gsmtp" (a regex where a string starts ^)
_SID = r"[0-9a-f]+-[0-9a-f]+si\d+[a-z]\.\d+ - gsmtp$"
PROFILES["gmail"] = (
    r"^250 2\.1\.0 OK " + _SID, r"^250 2\.1\.5 OK " + _SID,
    r"^354  Go ahead " + _SID, r"^250 2\.0\.0 OK  \d+ " + _SID,
    r"^221 2\.0\.0 closing connection " + _SID)
PROFILES["gmail-unknown-user"] = PROFILES["gmail"]  # c@d.test is known


# postgrey is postfix behind a greylist: its first RCPT gets a 450, so
# this transaction never reaches DATA; its DATA is postfix's. The same for
# the scenarios that refuse this transaction before its end of data, or
# answer it with a multi-line reject: their DATA is their peer's.
NOT_HERE = {"postgrey", "exchange-online-banned-ip", "exchange-online-busy",
            "gmail-over-quota", "gmail-rate-limit", "gmail-unauthenticated",
            "spamd"}  # spamd: 451 at DATA, then FIN


def shipped_server_profiles():
    """The shipped profiles with the default end of data: a file with a
    "data:" section (end_of_data, bare_lf ...) is one of FACTS.md 13's
    receivers, tested cell by cell in tests/blackbox/smuggling."""
    top = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "..", "..", "profiles")
    out = []
    for f in os.listdir(top):
        if f.endswith(".yaml") and f[:-5] not in NOT_HERE:
            with open(os.path.join(top, f), encoding="utf-8") as fh:
                if not any(line.startswith("data:") for line in fh):
                    out.append(f[:-5])
    return sorted(out)


class Smuggling(ServerTest):
    def assert_reply(self, got, want):
        """got is one line: want itself, or matching want if it is a
        regex (starts with ^)."""
        self.assertEqual(len(got), 1, got)
        if want.startswith("^"):
            self.assertRegex(got[0], want)
        else:
            self.assertEqual(got[0], want)

    def smuggle(self, srv, replies, variant):
        """One session: the transaction with variant inside its DATA;
        returns the replies after the 354, up to and with QUIT's."""
        mail, rcpt, data = replies[:3]
        c = srv.connect()
        c.reply()
        self.assertEqual(c.cmd("EHLO client.test")[0][:4], "250-")
        self.assert_reply(c.cmd("MAIL FROM:<a@b.test>"), mail)
        self.assert_reply(c.cmd("RCPT TO:<c@d.test>"), rcpt)
        self.assert_reply(c.cmd("DATA"), data)
        c.send(HEAD + variant + SMUGGLED + END + b"QUIT\r\n")
        got = []
        while True:
            got.append(c.line())
            if got[-1].startswith("221"):
                break
        # nothing after the 221 but the FIN
        self.assertEqual(c.ending(), ("fin", b""))
        return got

    def queued(self, srv, n):
        """The n messages queued, in session order: (body, from, to)."""
        msgs = srv.messages()
        self.assertEqual(len(msgs), n, [m[1]["mail_from"] for m in msgs])
        msgs.sort(key=lambda m: (m[1]["session"], m[1]["queue_id"]))
        return [(b, e["mail_from"], e["rcpt_to"]) for b, e in msgs]

    def test_every_shipped_profile_is_covered(self):
        # a new shipped profile must be added to PROFILES (and thought about)
        self.assertEqual(shipped_server_profiles(), sorted(PROFILES))

    def test_strict_profiles_queue_the_smuggled_text(self):
        for name, replies in sorted(PROFILES.items()):
            with self.subTest(profile=name):
                srv = self.start(name)
                for vname, variant, kept in VARIANTS:
                    got = self.smuggle(srv, replies, variant)
                    self.assertEqual(len(got), 2, (name, vname, got))
                    self.assertRegex(got[0], replies[3], (name, vname))
                    self.assert_reply(got[1:], replies[4])
                want = [(HEAD + kept + SMUGGLED, "a@b.test", ["c@d.test"])
                        for _, _, kept in VARIANTS]
                for (vname, _, _), q, w in zip(VARIANTS,
                                               self.queued(srv, 7), want):
                    self.assertEqual(q, w, (name, vname))

    def test_lenient_runs_the_smuggled_transaction(self):
        srv = self.start("std-lenient")
        replies = PROFILES["standard"]
        queued = r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$"
        # a bare LF ends a line, so "<LF>." then CRLF or LF ends the data
        ends = {"LF.LF", "CRLF.LF", "LF.CRLF"}
        want = []
        for vname, variant, kept in VARIANTS:
            got = self.smuggle(srv, replies, variant)
            if vname in ends:
                self.assertEqual(len(got), 6, (vname, got))
                self.assertRegex(got[0], queued)
                self.assertEqual(got[1:4], list(replies[:3]), vname)
                self.assertRegex(got[4], queued)
                legit = HEAD + variant[:variant.index(b".")]
                want += [(legit, "a@b.test", ["c@d.test"]),
                         (b"Subject: smuggled\r\n\r\nsmuggled\r\n",
                          "smuggled@evil.test", ["victim@evil.test"])]
            else:
                self.assertEqual(len(got), 2, (vname, got))
                self.assertRegex(got[0], queued)
                want.append((HEAD + kept + SMUGGLED, "a@b.test",
                             ["c@d.test"]))
            self.assertEqual(got[-1], "221 2.0.0 Bye")
        self.assertEqual(self.queued(srv, len(want)), want)


if __name__ == "__main__":
    unittest.main()
