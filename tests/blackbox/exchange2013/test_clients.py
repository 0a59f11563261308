"""exchange2013: real clients deliver to the Exchange 2013 profile, and see
exactly the replies of FACTS.md section 1.

In clear text: swaks and Python smtplib, reply by reply. Over STARTTLS,
every stock client with its default TLS settings -- swaks --tls, openssl
s_client -starttls smtp, Python smtplib+ssl, msmtp (GnuTLS), Exim 4
(GnuTLS) and nodemailer -- must say it DELIVERED (its own outcome line,
quoted in the failure message), the message must be in the spool with the
TLS version the server recorded, no rule may fire, and the session must
end with the client's QUIT and the server's FIN. This is the healthy
server: Cisco bug CSCwh48138, which cuts those same clients, is the
scenario exchange2013-cscwh48138 (../exchange2013-cscwh48138/).
Clients are run through lib/clients.py; a missing one skips, or fails
under CI.
"""
import os
import re
import smtplib
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from harness import PROFILES, ServerTest  # noqa: E402
import clients  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

from exchange2013 import BANNER_RE, EHLO_REPLY  # noqa: E402
MAIL_OK = "250 2.1.0 Sender OK"
RCPT_OK = "250 2.1.5 Recipient OK"
DATA_START = "354 Start mail input; end with <CRLF>.<CRLF>"
DATA_OK_RE = re.compile(
    r"250 2\.6\.0 <[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{12}@ex2013\.lab\.test> \[InternalId=[0-9]+, "
    r"Hostname=ex2013\.lab\.test\] Queued mail for delivery\Z")
QUIT = "221 2.0.0 Service closing transmission channel"


def swaks_server_lines(out):
    """The server's lines from a swaks transcript ("<-  ", "<~  ", and the
    error forms "<** ", "<*~ "), without the prefix."""
    lines = []
    for line in out.splitlines():
        m = re.match(r"<(?:-|~|\*\*|\*~) ? ?(.*)\Z", line)
        if m:
            lines.append(m.group(1))
    return lines


class Exchange2013Clients(ServerTest):

    def test_swaks_delivery(self):
        clients.need(self, "swaks")
        srv = self.start("exchange2013", args=ARGS)
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port,
             "--helo", "client.lab.test",
             "--from", "alice@lab.test", "--to", "bob@lab.test",
             "--data", "Subject: swaks\\n\\nhello from swaks\\n",
             "--timeout", "30"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, out)
        got = swaks_server_lines(out)
        self.assertEqual(len(got), 1 + 13 + 5, out)
        self.assertRegex(got[0], BANNER_RE)
        self.assertEqual(got[1:14], EHLO_REPLY)
        self.assertEqual(got[14:17], [MAIL_OK, RCPT_OK, DATA_START])
        self.assertRegex(got[17], DATA_OK_RE)
        self.assertEqual(got[18], QUIT)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1, srv.log())
        data, env = msgs[0]
        # swaks turns "\n" into CRLF and ends the data with one more CRLF.
        self.assertEqual(data,
                         b"Subject: swaks\r\n\r\nhello from swaks\r\n\r\n")
        self.assertEqual(env["profile"], "exchange2013")
        self.assertEqual(env["helo"], "client.lab.test")
        self.assertEqual(env["mail_from"], "alice@lab.test")
        self.assertEqual(env["rcpt_to"], ["bob@lab.test"])
        self.assertEqual(env["size"], len(data))
        # swaks QUIT, the server ended the session with a FIN.
        srv.wait_event(lambda e: e["dir"] == "close"
                       and e["text"].startswith("fin"))

    def test_smtplib_delivery(self):
        srv = self.start("exchange2013", args=ARGS)
        s = smtplib.SMTP("127.0.0.1", srv.port,
                         local_hostname="client.lab.test", timeout=30)
        try:
            # smtplib keeps the banner text only; the code and text are
            # checked here, the format above with raw sockets.
            code, msg = s.ehlo()
            self.assertEqual(code, 250)
            self.assertEqual(msg.decode().split("\n"),
                             [line[4:] for line in EHLO_REPLY])
            self.assertTrue(s.has_extn("size"))
            self.assertEqual(s.esmtp_features["size"], "37748736")
            body = b"From: alice@lab.test\r\nSubject: smtplib\r\n\r\nhi\r\n"
            # SIZE= is allowed: SIZE is advertised (RFC 1870).
            self.assertEqual(s.mail("alice@lab.test", ["SIZE=%d" % len(body)]),
                             (250, b"2.1.0 Sender OK"))
            self.assertEqual(s.rcpt("bob@lab.test"),
                             (250, b"2.1.5 Recipient OK"))
            code, msg = s.data(body)
            self.assertEqual(code, 250)
            self.assertRegex("250 " + msg.decode(), DATA_OK_RE)
            self.assertEqual(s.quit(),
                             (221, b"2.0.0 Service closing transmission channel"))
        finally:
            s.close()
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        data, env = msgs[0]
        self.assertEqual(data, body)
        self.assertEqual(env["mail_from"], "alice@lab.test")
        self.assertEqual(env["rcpt_to"], ["bob@lab.test"])
        # The command as received: smtplib writes the verb in lower case.
        self.assertEqual(env["mail_line"],
                         "mail FROM:<alice@lab.test> SIZE=%d" % len(body))

    def test_smtplib_sendmail_8bitmime(self):
        # BODY=8BITMIME is allowed: 8BITMIME is advertised (FACTS.md 1).
        srv = self.start("exchange2013", args=ARGS)
        body = "Subject: 8bit\r\n\r\ncaf\u00e9\r\n".encode("utf-8")
        with smtplib.SMTP("127.0.0.1", srv.port,
                          local_hostname="client.lab.test", timeout=30) as s:
            refused = s.sendmail("alice@lab.test", ["bob@lab.test"], body,
                                 mail_options=["BODY=8BITMIME"])
            self.assertEqual(refused, {})
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], body)
        self.assertEqual(msgs[0][1]["body"], "8BITMIME")


class Exchange2013StarttlsClients(ServerTest):
    """Each stock client over STARTTLS, its defaults untouched."""

    def deliver(self, tool, run, body_re=None, end="fin (client sent QUIT)"):
        clients.need(self, tool)
        srv = self.start("exchange2013", args=ARGS)
        o = run(srv.port, clients.workdir(self))
        self.assertEqual(o.result, clients.DELIVERED, o)
        # The client's own line carries the server's end-of-data reply.
        self.assertRegex(o.line, DATA_OK_RE.pattern[:-2], o)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1, srv.log())
        data, env = msgs[0]
        self.assertEqual(env["profile"], "exchange2013")
        self.assertEqual(env["mail_from"], clients.FROM)
        self.assertEqual(env["rcpt_to"], [clients.TO])
        self.assertIsNotNone(env["tls"], env)
        self.assertEqual(env["tls"]["version"], "TLSv1.2", env)
        if body_re:
            self.assertRegex(data, body_re)
        evs = srv.events()
        self.assertEqual([e for e in evs if e["dir"] == "rule"], [], o)
        self.assertEqual([e["text"] for e in evs if e["dir"] == "close"],
                         [end], srv.log())
        self.assertIn("250 2.6.0", o.line)
        return o, srv

    def test_swaks_tls_delivers(self):
        o, _ = self.deliver("swaks", lambda port, d: clients.swaks(port))
        self.assertIn("=== TLS started with cipher TLSv1.2:", o.out)

    def test_s_client_delivers(self):
        o, _ = self.deliver("openssl",
                            lambda port, d: clients.s_client(port),
                            rb"hello from s_client\r\n\Z")
        self.assertRegex(o.out, r"(?m)^New, TLSv1\.2, Cipher is ")

    def test_smtplib_ssl_delivers(self):
        o, _ = self.deliver("python3",
                            lambda port, d: clients.smtplib_tls(port),
                            rb"hello from smtplib\r\n\Z")
        self.assertIn("'TLSv1.2'", o.out)

    def test_msmtp_delivers(self):
        o, _ = self.deliver("msmtp", clients.msmtp, rb"hello from msmtp")
        self.assertIn("tls=on", o.line)
        self.assertIn("exitcode=EX_OK", o.line)

    def test_exim_delivers_inside_tls(self):
        o, _ = self.deliver("exim", clients.exim, rb"hello from exim")
        # Exim's delivery line: H=host, X=<the TLS session>, C=<reply>.
        self.assertRegex(o.line, r"^=> user@ex2013\.lab\.test R=to_mimic "
                                 r"T=remote_smtp H=127\.0\.0\.1 "
                                 r"\[127\.0\.0\.1\] X=TLS1\.2:")
        self.assertNotIn("delivering unencrypted", o.out)

    def test_nodemailer_delivers(self):
        # nodemailer sends no QUIT after its message: it closes the
        # connection, and the session ends on its FIN.
        o, _ = self.deliver("nodemailer",
                            lambda port, d: clients.nodemailer(port),
                            rb"hello from nodemailer",
                            end="fin (client closed the connection)")
        self.assertTrue(o.line.startswith("ok: 250 2.6.0 <"), o)


if __name__ == "__main__":
    unittest.main()
