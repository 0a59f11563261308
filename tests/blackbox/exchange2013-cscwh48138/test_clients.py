"""exchange2013-cscwh48138: the stock clients that deliver to exchange2013
(../exchange2013/test_clients.py) against the CSCwh48138 scenario.

With their default TLS settings swaks --tls, openssl s_client, msmtp,
Exim 4 and nodemailer all offer one of the scenario's nine suites (OpenSSL
DEFAULT: DHE-RSA-AES256-SHA; GnuTLS NORMAL: the ECDSA CCM suites), so each
is cut right after the handshake: the server's transcript says
"close fin (CSCwh48138)", the client's own line says the peer went away
without close_notify ("non-properly terminated", "unexpected eof") and
none says "alert". Then each reports its own outcome: swaks, s_client,
msmtp and nodemailer give up (nothing in the spool); Exim retries in clear
text on a new connection and delivers (its log says so; the spooled
message carries no TLS). Python's default ssl context offers none of the
nine (no SHA-1, no CCM suites) and delivers; with set_ciphers("DEFAULT")
it is cut like the others.

The seed's three gateway strings (FACTS.md 3): FAILS, FAILS, DELIVERS,
with swaks, s_client and Python ssl.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import PROFILES, ServerTest  # noqa: E402
import clients  # noqa: E402
from clients import CLEARTEXT, DELIVERED, REFUSED  # noqa: E402

PROFILE = "exchange2013-cscwh48138"
ARGS = ["--profile-path", PROFILES]
from exchange2013 import STARTTLS_READY  # noqa: E402
DATA_OK = r"250 2\.6\.0 <[0-9a-f-]{36}@ex2013\.lab\.test> \[InternalId=" \
          r"[0-9]+, Hostname=ex2013\.lab\.test\] Queued mail for delivery"
VERDICT = {"FAILS": REFUSED, "DELIVERS": DELIVERED}


class Cscwh48138Clients(ServerTest):

    def start_scenario(self):
        return self.start(PROFILE, args=ARGS)

    def assert_cut(self, srv, session):
        """The server's side of one cut session: the rule fired once, the
        handshake completed, nothing was said inside TLS, then a FIN."""
        evs = [e for e in srv.events() if e["session"] == session]
        closes = [e["text"] for e in evs if e["dir"] == "close"]
        self.assertEqual(closes, ["fin (CSCwh48138)"], srv.log())
        self.assertEqual([e.get("rule") for e in evs if e["dir"] == "rule"],
                         ["CSCwh48138"], srv.log())
        self.assertTrue(any(e["dir"] == "tls" and
                            e["text"].startswith("handshake done: TLSv1.2 ")
                            for e in evs), srv.log())
        said = [e["text"] for e in evs if e["dir"] in ("C", "S")]
        self.assertEqual(said[-1], STARTTLS_READY, said)

    def cut(self, tool, run, want_line):
        """A stock client against the scenario: cut, gives up."""
        clients.need(self, tool)
        srv = self.start_scenario()
        o = run(srv.port, clients.workdir(self))
        self.assertEqual(o.result, REFUSED, o)
        self.assertRegex(o.line or "", want_line, o)
        self.assertNotIn("alert", o.out.lower(), o)
        srv.wait_event(lambda e: e["dir"] == "close")
        self.assert_cut(srv, 1)
        self.assertEqual(srv.new_files(), [], o)
        return o

    # --- stock clients: cut right after the handshake ---------------------

    def test_swaks_cut(self):
        o = self.cut("swaks", lambda port, d: clients.swaks(port),
                     r"^\*\*\* Remote host closed connection unexpectedly\.$")
        self.assertIn("=== TLS started with cipher TLSv1.2:", o.out)

    def test_s_client_cut(self):
        o = self.cut("openssl", lambda port, d: clients.s_client(port),
                     r":error:0A000126:SSL routines:ssl3_read_n:"
                     r"unexpected eof while reading:")
        self.assertRegex(o.out, r"(?m)^New, TLSv1\.2, Cipher is ")

    def test_msmtp_cut(self):
        self.cut("msmtp", clients.msmtp,
                 r"tls=on auth=off from=gw@esa\.lab\.test "
                 r"recipients=user@ex2013\.lab\.test errormsg='cannot read "
                 r"from TLS connection: The TLS connection was "
                 r"non-properly terminated\.' exitcode=EX_IOERR$")

    def test_nodemailer_cut(self):
        self.cut("nodemailer", lambda port, d: clients.nodemailer(port),
                 r"^error: ECONNECTION Connection closed unexpectedly$")

    def test_exim_falls_back_to_clear_text(self):
        clients.need(self, "exim")
        srv = self.start_scenario()
        o = clients.exim(srv.port, clients.workdir(self))
        self.assertEqual(o.result, CLEARTEXT, o)
        self.assertEqual(o.line, "TLS session: error on first read: "
                         "delivering unencrypted to H=127.0.0.1 "
                         "[127.0.0.1] (not in hosts_require_tls)", o)
        # First its view of the cut: EOF without close_notify, no alert.
        self.assertIsNotNone(clients.exim_log_line(
            o, r"H=127\.0\.0\.1 \[127\.0\.0\.1\] TLS error on connection "
               r"\(recv\): The TLS connection was non-properly "
               r"terminated\.$"), o)
        self.assertNotIn("alert", o.out.lower(), o)
        # Then the delivery in clear text: no X= (TLS) field.
        self.assertRegex(o.out, r"(?m) => user@ex2013\.lab\.test R=to_mimic "
                                r"T=remote_smtp H=127\.0\.0\.1 "
                                r"\[127\.0\.0\.1\] K C=\"%s\"$" % DATA_OK)
        srv.wait_event(lambda e: e["session"] == 2 and e["dir"] == "close")
        self.assert_cut(srv, 1)
        second = [e for e in srv.events() if e["session"] == 2]
        self.assertNotIn("STARTTLS", [e["text"] for e in second
                                      if e["dir"] == "C"])
        self.assertEqual([e["text"] for e in second if e["dir"] == "close"],
                         ["fin (client sent QUIT)"])
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1, srv.log())
        self.assertIsNone(msgs[0][1]["tls"])
        self.assertIn(b"hello from exim", msgs[0][0])

    # --- Python ssl: its default context is not caught --------------------

    def test_smtplib_default_context_delivers(self):
        srv = self.start_scenario()
        o = clients.smtplib_tls(srv.port)
        self.assertEqual(o.result, DELIVERED, o)
        self.assertRegex(o.line, DATA_OK, o)
        self.assertEqual([e for e in srv.events() if e["dir"] == "rule"], [])
        self.assertEqual(len(srv.messages()), 1)

    def test_smtplib_openssl_default_cut(self):
        srv = self.start_scenario()
        o = clients.smtplib_tls(srv.port, ciphers="DEFAULT")
        self.assertEqual(o.result, REFUSED, o)
        # smtplib's socket hides the missing close_notify (a ragged EOF
        # reads as b""): the EHLO inside TLS gets no reply.
        self.assertEqual(o.line, "SMTPServerDisconnected: Connection "
                         "unexpectedly closed", o)
        srv.wait_event(lambda e: e["dir"] == "close")
        self.assert_cut(srv, 1)
        self.assertEqual(srv.new_files(), [])

    # --- the seed's three strings: FAILS, FAILS, DELIVERS -----------------

    def seed_strings(self, run):
        srv = self.start_scenario()
        got = []
        for i, (name, ciphers, want) in enumerate(clients.SEED_STRINGS):
            with self.subTest(string=name):
                o = run(srv.port, ciphers)
                srv.wait_event(lambda e, s=i + 1: e["session"] == s
                               and e["dir"] == "close")
                got.append(o.result)
                self.assertEqual(o.result, VERDICT[want], o)
                if want == "FAILS":
                    self.assert_cut(srv, i + 1)
                else:
                    self.assertRegex(o.line, DATA_OK, o)
        self.assertEqual(got, [REFUSED, REFUSED, DELIVERED])
        self.assertEqual(len(srv.messages()), 1)
        self.assertEqual(srv.messages()[0][1]["tls"]["version"], "TLSv1.2")

    def test_seed_strings_swaks(self):
        clients.need(self, "swaks")
        # The gateway's outbound method is "TLS v1.2" (seed 000's sslconfig).
        self.seed_strings(lambda port, c: clients.swaks(
            port, ciphers=c, protocol="tlsv1_2"))

    def test_seed_strings_s_client(self):
        clients.need(self, "openssl")
        self.seed_strings(lambda port, c: clients.s_client(
            port, ciphers=c, extra=["-tls1_2"]))

    def test_seed_strings_smtplib(self):
        self.seed_strings(lambda port, c: clients.smtplib_tls(port, c))


if __name__ == "__main__":
    unittest.main()
