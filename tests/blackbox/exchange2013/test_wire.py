"""exchange2013: the exact bytes of the Exchange 2013 Receive connector.

Every expected string is written out literally from FACTS.md section 1 (or,
where FACTS.md has nothing, from the profile file as noted), so the test
fails if profiles/exchange2013.yaml drifts from FACTS.md.
"""
import datetime
import email.utils
import os
import re
import ssl
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "lib"))
from harness import PROFILES, ServerTest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# Our fixtures first, then the shipped profiles (a binary built outside the
# source tree does not find profiles/ on its own).
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

# FACTS.md 1: banner template
#   220 <host> Microsoft ESMTP MAIL Service ready at <day>, <d> <Mon> <yyyy> <HH:MM:SS> <+zzzz>
BANNER_RE = re.compile(
    r"220 ex2013\.lab\.test Microsoft ESMTP MAIL Service ready at "
    r"((?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), "
    r"(?:[1-9]|[12][0-9]|3[01]) "          # day of month, no leading zero
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"[0-9]{4} "
    r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] "
    r"[+-](?:[01][0-9]|2[0-3])[0-5][0-9])\Z")

from exchange2013 import EHLO_REPLY, STARTTLS_READY  # noqa: E402
MAIL_OK = "250 2.1.0 Sender OK"                                   # FACTS.md 1
RCPT_OK = "250 2.1.5 Recipient OK"                                # FACTS.md 1
USER_UNKNOWN = "550 5.1.1 User unknown"                           # FACTS.md 1
DATA_START = "354 Start mail input; end with <CRLF>.<CRLF>"       # FACTS.md 1
# FACTS.md 1: 250 2.6.0 <guid@host> [InternalId=<digits>, Hostname=<host>] Queued mail for delivery
DATA_OK_RE = re.compile(
    r"250 2\.6\.0 <[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{12}@ex2013\.lab\.test> \[InternalId=[0-9]+, "
    r"Hostname=ex2013\.lab\.test\] Queued mail for delivery\Z")
QUIT = "221 2.0.0 Service closing transmission channel"           # FACTS.md 1
BAD_EHLO = "501 5.5.4 Invalid domain name"                        # FACTS.md 1
UNKNOWN = "500 5.3.3 Unrecognized command"                        # FACTS.md 1
NO_HELO = "503 5.5.2 Send hello first"                            # FACTS.md 1
# Not in FACTS.md: profiles/exchange2013.yaml leaves auth_mechanism to
# the built-in RFC 5321 text (LOGIN is offered only inside TLS).
AUTH_MECHANISM = "504 5.5.4 Command parameter not implemented"   # built-in RFC 5321 4.2.2


class Exchange2013Wire(ServerTest):

    def start_ex(self, **kw):
        return self.start("exchange2013", args=ARGS, **kw)

    def hello(self, srv):
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        return c

    def quit(self, c):
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        c.close()

    def check_banner_in_tz(self, tz, offset):
        old = os.environ.get("TZ")
        os.environ["TZ"] = tz          # the server inherits our environment
        try:
            srv = self.start_ex()
        finally:
            if old is None:
                del os.environ["TZ"]
            else:
                os.environ["TZ"] = old
        c = srv.connect()
        banner = c.line()
        m = BANNER_RE.match(banner)
        self.assertIsNotNone(m, banner)
        date = m.group(1)
        self.assertTrue(date.endswith(" " + offset), banner)
        # The date is the server's clock in its zone: the weekday must fit
        # the date and the instant must be now (a wrong zone or a stale
        # value is off by hours, not seconds).
        when = email.utils.parsedate_to_datetime(date)
        self.assertEqual(when.strftime("%a"), date[:3], banner)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((when - now).total_seconds()), 120, banner)
        self.quit(c)

    def test_banner_negative_offset(self):
        self.check_banner_in_tz("MST7", "-0700")

    def test_banner_positive_half_hour_offset(self):
        self.check_banner_in_tz("IST-5:30", "+0530")

    def test_ehlo_reply_is_exactly_the_13_lines(self):
        srv = self.start_ex()
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        # Byte for byte, CRLFs included, nothing before or after.
        c.send("EHLO client.lab.test\r\n")
        want = "".join(line + "\r\n" for line in EHLO_REPLY).encode()
        got = b""
        while len(got) < len(want):
            chunk = c.sock.recv(65536)
            self.assertTrue(chunk, got)
            got += chunk
        self.assertEqual(got, want)
        # A second EHLO gets the same reply (STARTTLS still listed: TLS
        # is not active on this connection).
        self.assertEqual(c.cmd("EHLO other.lab.test"), EHLO_REPLY)
        self.quit(c)

    def test_full_delivery_raw_socket(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<alice@lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<bob@lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("RCPT TO:<carol@lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        body = (b"From: alice@lab.test\r\nTo: bob@lab.test\r\n"
                b"Subject: raw\r\n\r\nline one\r\n..dot-stuffed\r\nend\r\n")
        c.send(body + b".\r\n")
        final = c.reply()
        self.assertEqual(len(final), 1, final)
        self.assertRegex(final[0], DATA_OK_RE)
        self.quit(c)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        data, env = msgs[0]
        self.assertEqual(data, body.replace(b"\r\n..dot", b"\r\n.dot"))
        self.assertEqual(env["profile"], "exchange2013")
        self.assertEqual(env["helo"], "client.lab.test")
        self.assertEqual(env["mail_from"], "alice@lab.test")
        self.assertEqual(env["rcpt_to"], ["bob@lab.test", "carol@lab.test"])
        self.assertEqual(env["mail_line"], "MAIL FROM:<alice@lab.test>")
        self.assertEqual(env["client"]["ip"], "127.0.0.1")
        self.assertEqual(env["server"]["port"], srv.port)
        self.assertEqual(env["size"], len(data))
        self.assertIsNone(env["tls"])
        self.assertEqual(srv.tmp_files(), [])

    def test_two_messages_get_distinct_ids(self):
        srv = self.start_ex()
        c = self.hello(srv)
        finals = []
        for i in range(2):
            self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
            self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), [RCPT_OK])
            self.assertEqual(c.cmd("DATA"), [DATA_START])
            c.send("Subject: %d\r\n\r\nx\r\n.\r\n" % i)
            final = c.reply()
            self.assertRegex(final[0], DATA_OK_RE)
            finals.append(final[0])
        self.assertNotEqual(finals[0], finals[1])
        guid = [re.search(r"<([^@]+)@", f).group(1) for f in finals]
        iid = [re.search(r"InternalId=([0-9]+)", f).group(1) for f in finals]
        self.assertNotEqual(guid[0], guid[1])
        self.assertNotEqual(iid[0], iid[1])
        self.quit(c)
        self.assertEqual(len(srv.messages()), 2)

    def test_bad_ehlo_domain(self):
        srv = self.start_ex()
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        for bad in ("EHLO", "EHLO -bad-", "EHLO a..b", "EHLO bad_host!",
                    "HELO", "EHLO [300.1.2.3]"):
            self.assertEqual(c.cmd(bad), [BAD_EHLO], bad)
        # Still before any hello: MAIL is refused as out of sequence.
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [NO_HELO])
        # The session goes on: a good EHLO (address literal) works.
        self.assertEqual(c.cmd("EHLO [127.0.0.1]"), EHLO_REPLY)
        self.quit(c)

    def test_unknown_verb(self):
        srv = self.start_ex()
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        self.assertEqual(c.cmd("FOO"), [UNKNOWN])        # before EHLO too
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        for verb in ("FOO bar", "XYZZY", "MAILFROM:<a@lab.test>", "ETRN x"):
            self.assertEqual(c.cmd(verb), [UNKNOWN], verb)
        # Exchange has no bad-command limit in the profile: still served.
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
        self.quit(c)

    def test_commands_before_ehlo(self):
        srv = self.start_ex()
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [NO_HELO])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), [NO_HELO])
        self.assertEqual(c.cmd("DATA"), [NO_HELO])
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
        self.quit(c)
        self.assertEqual(srv.messages(), [])

    def test_tarpit_unknown_recipient_then_good_one(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<unknown1@lab.test>"), [USER_UNKNOWN])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send("Subject: t\r\n\r\nx\r\n.\r\n")
        self.assertRegex(c.reply()[0], DATA_OK_RE)
        self.quit(c)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        # Only the accepted recipient is in the envelope.
        self.assertEqual(msgs[0][1]["rcpt_to"], ["b@lab.test"])
        # The transcript says which rule fired, and why.
        srv.wait_event(lambda e: e["dir"] == "rule"
                       and e.get("rule") == "tarpit-unknown-recipient")

    def test_starttls_ready(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.assertEqual(c.cmd("STARTTLS"), [STARTTLS_READY])
        # Then the handshake (test_tls.py has the details); inside TLS the
        # EHLO reply drops STARTTLS (RFC 3207 4.2).
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.sock = ctx.wrap_socket(c.sock)
        self.assertEqual(c.cmd("EHLO client.lab.test"),
                         ["250-AUTH NTLM LOGIN" if line == "250-AUTH NTLM"
                          else line for line in EHLO_REPLY
                          if line not in ("250-STARTTLS",
                                          "250-X-ANONYMOUSTLS")])
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def test_auth_login_not_offered_in_plaintext(self):
        # FACTS.md 1: LOGIN only inside TLS (test_auth.py has the rest).
        srv = self.start_ex()
        c = self.hello(srv)
        self.assertEqual(c.cmd("AUTH LOGIN"), [AUTH_MECHANISM])
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
        self.quit(c)


if __name__ == "__main__":
    unittest.main()
