"""exchange2013: the Schannel TLS surface beyond suites and versions, as
FACTS.md 14 has Windows Server 2012 R2 (the tls: keys of
profiles/exchange2013.yaml): no encrypt-then-MAC (RFC 7366) in the
ServerHello, a TLS 1.2 ServerKeyExchange signed with PKCS#1 v1.5 (never
RSA-PSS), resumption by session ID and no session tickets,
TLS_FALLBACK_SCSV (RFC 7507) not honoured. max_fragment_length (RFC 6066)
is echoed: OpenSSL 3.0 has no server switch for it, so --check must list it
as a known difference. And inside TLS a reply leaves as one TLS record,
all its lines, as Schannel and OpenSSL-based MTAs send it (the plaintext
path's single writev); it was two records per line.

Real clients: openssl s_client (-tlsextdebug, -trace, -sess_out/-sess_in,
-fallback_scsv, -maxfraglen) and Python ssl over memory BIOs, so the raw
records are counted. Every client offers one suite that is not among the
nine of the CSCwh48138 rule (FACTS.md 3), so that rule never cuts a session
here.
"""
import os
import re
import ssl
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest, have, run_cli  # noqa: E402
import tls_wire  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

# Schannel's first suite (FACTS.md 2) for TLS 1.2, and the first one TLS
# 1.0/1.1 can carry; @SECLEVEL=0: those sign with SHA-1 (FACTS.md 2).
SUITE_12 = "ECDHE-RSA-AES256-SHA384"
SUITE_10 = "ECDHE-RSA-AES256-SHA"
DHE_12 = "DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0"  # 1024-bit DH (profile)
# What a 2012 R2-era ServerHello carries, and nothing else: no
# encrypt-then-mac (22), no session_ticket (35) (FACTS.md 14).
SCHANNEL_EXTS = [("renegotiation info", 65281), ("EC point formats", 11),
                 ("extended master secret", 23)]
# FACTS.md 1 (exchange2013's EHLO reply inside TLS: no STARTTLS).
EHLO_TLS = ("250-ex2013.lab.test Hello [127.0.0.1]\r\n"
            "250-SIZE 37748736\r\n"
            "250-PIPELINING\r\n"
            "250-DSN\r\n"
            "250-ENHANCEDSTATUSCODES\r\n"
            "250-AUTH NTLM LOGIN\r\n"   # FACTS.md 1: inside TLS
            "250-X-EXPS GSSAPI NTLM\r\n"
            "250-8BITMIME\r\n"
            "250-BINARYMIME\r\n"
            "250-CHUNKING\r\n"
            "250 XRDST\r\n")
MAIL_OK = "250 2.1.0 Sender OK\r\n"          # FACTS.md 1
RCPT_OK = "250 2.1.5 Recipient OK\r\n"       # FACTS.md 1
# The --check lines of these settings (tls_describe.c).
CHECK_LINES = [
    "  signature algorithms: RSA+SHA256 RSA+SHA384 RSA+SHA1 ECDSA+SHA256 "
    "ECDSA+SHA384 ECDSA+SHA1 RSA+SHA512 ECDSA+SHA512\n",
    "  encrypt-then-MAC (RFC 7366): never (SSL_OP_NO_ENCRYPT_THEN_MAC)\n",
    "; tickets: none (so no TLS 1.3 resumption)\n",
    "  TLS_FALLBACK_SCSV (RFC 7507): ignored (the connection's highest "
    "version drops to the client's)\n",
    "  known differences (the linked OpenSSL; no setting changes them):\n"
    "    max_fragment_length (RFC 6066): echoed in the ServerHello when a "
    "client asks, and records shrink to it (OpenSSL 3.0 has no server "
    "switch: openssl/openssl#17573)\n",
]
# s_client -trace: a record the server sent that is an alert.
RECEIVED_ALERT_RE = re.compile(
    r"Received Record\nHeader:\n  Version = [^\n]*\n"
    r"  Content Type = Alert \(21\)")
RESUMPTION_RE = re.compile(
    r"  resumption: by session ID \(server-side cache, [0-9]+ s\); ")


class Schannel(ServerTest):

    def setUp(self):
        super().setUp()
        self.srv = self.start("exchange2013", args=ARGS)

    def s_client(self, *args):
        rc, out = tls_wire.s_client(self.srv.port, *args)
        self.assertEqual(rc, 0, out)
        return out

    # --- the ServerHello ----------------------------------------------

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_server_hello_has_no_encrypt_then_mac(self):
        """s_client offers encrypt_then_mac, session_ticket and more; the
        ServerHello answers with Schannel's three, at every version."""
        for version, suite, proto in (("-tls1_2", SUITE_12, "TLSv1.2"),
                                      ("-tls1_1", SUITE_10, "TLSv1.1"),
                                      ("-tls1", SUITE_10, "TLSv1")):
            with self.subTest(version=proto):
                out = self.s_client(version, "-cipher",
                                    suite + ":@SECLEVEL=0", "-tlsextdebug")
                self.assertIn("Protocol  : %s\n" % proto, out)
                self.assertIn("Cipher    : %s\n" % suite, out)
                self.assertEqual(tls_wire.server_extensions(out),
                                 SCHANNEL_EXTS)

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_server_key_exchange_signed_pkcs1_not_pss(self):
        """OpenSSL's client lists RSA-PSS first; the server signs its
        ECDHE and DHE key exchange with rsa_pkcs1_sha256 anyway."""
        for suite in (SUITE_12, DHE_12):
            with self.subTest(suite=suite.split(":")[0]):
                out = self.s_client("-tls1_2", "-cipher", suite, "-trace")
                self.assertIn("rsa_pss_rsae_sha256 (0x0804)", out)  # offered
                self.assertEqual(tls_wire.ske_signature(out),
                                 "rsa_pkcs1_sha256 (0x0401)")
                self.assertIn("Peer signature type: RSA\n", out)

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_pss_only_client_shares_no_signature(self):
        """A TLS 1.2 client that accepts only RSA-PSS signatures finds
        nothing this Schannel can sign with: handshake_failure (40)."""
        rc, out = tls_wire.s_client(self.srv.port, "-tls1_2", "-cipher",
                                    SUITE_12, "-sigalgs", "RSA-PSS+SHA256")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("alert handshake failure", out)
        self.assertIn("SSL alert number 40", out)

    # --- resumption ---------------------------------------------------

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_second_connection_resumes_by_session_id(self):
        sess = os.path.join(self.srv.dir, "session.pem")
        # s_client's summary line says "TLSv1.0" where Protocol is "TLSv1".
        for version, suite, proto, line in (
                ("-tls1_2", SUITE_12, "TLSv1.2", "TLSv1.2"),
                ("-tls1", SUITE_10, "TLSv1", "TLSv1.0")):
            with self.subTest(version=proto):
                cipher = suite + ":@SECLEVEL=0"
                first = self.s_client(version, "-cipher", cipher,
                                      "-sess_out", sess, "-tlsextdebug")
                self.assertIn("New, %s, Cipher is %s\n" % (line, suite),
                              first)
                self.assertIn("    Protocol  : %s\n" % proto, first)
                sid = re.search(r"^    Session-ID: ([0-9A-F]*)$", first,
                                re.M).group(1)
                self.assertEqual(len(sid), 64, first)
                # No ticket issued (no NewSessionTicket, none in the
                # session), and the ServerHello did not offer one.
                self.assertNotIn("TLS session ticket", first)
                self.assertNotIn("session ticket", dict(
                    tls_wire.server_extensions(first)))
                second = self.s_client(version, "-cipher", cipher,
                                       "-sess_in", sess)
                self.assertIn("Reused, %s, Cipher is %s\n" % (line, suite),
                              second)
                self.assertIn("    Session-ID: %s\n" % sid, second)

    def test_python_resumes_by_id_and_gets_no_ticket(self):
        ctx = tls_wire.client_ctx(SUITE_12,
                                  maximum=ssl.TLSVersion.TLSv1_2)
        first = tls_wire.raw_session(self.srv.port, ctx)
        self.assertEqual(first.obj.version(), "TLSv1.2")
        self.assertFalse(first.obj.session_reused)
        session = first.obj.session
        self.assertFalse(session.has_ticket)
        self.assertEqual(len(session.id), 32)
        self.assertEqual(first.command("EHLO client.lab.test\r\n")[1],
                         EHLO_TLS)
        first.close()
        second = tls_wire.raw_session(self.srv.port, ctx, session=session)
        self.assertTrue(second.obj.session_reused)
        self.assertEqual(second.obj.session.id, session.id)
        self.assertEqual(second.command("EHLO client.lab.test\r\n")[1],
                         EHLO_TLS)
        second.close()

    # --- TLS_FALLBACK_SCSV, max_fragment_length -----------------------

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_fallback_scsv_is_not_honoured(self):
        """A client that fell back (TLS_FALLBACK_SCSV in its hello) to
        TLS 1.1 or 1.0 below the server's 1.2 is served at that version,
        with no inappropriate_fallback (86) alert."""
        for version, proto in (("-tls1_1", "TLSv1.1"), ("-tls1", "TLSv1")):
            with self.subTest(version=proto):
                out = self.s_client(version, "-fallback_scsv", "-cipher",
                                    SUITE_10 + ":@SECLEVEL=0", "-trace")
                self.assertIn("{0x56, 0x00} TLS_FALLBACK_SCSV\n", out)
                self.assertIn("Protocol  : %s\n" % proto, out)
                self.assertIn("Cipher    : %s\n" % SUITE_10, out)
                # No alert came from the server (the client's own
                # close_notify at the end is a Sent Record).
                self.assertNotRegex(out, RECEIVED_ALERT_RE)
                self.assertNotIn("inappropriate fallback", out)

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_max_fragment_length_echo_is_a_known_difference(self):
        """Measured: the ServerHello echoes max_fragment_length (OpenSSL
        3.0 has no switch); --check says so among the known differences."""
        out = self.s_client("-tls1_2", "-cipher", SUITE_12, "-maxfraglen",
                            "512", "-tlsextdebug")
        self.assertIn(("max fragment length", 1),
                      tls_wire.server_extensions(out))
        # the echoed code: 1, 2^9 = 512 (RFC 6066 4)
        self.assertRegex(out, r'TLS server extension "max fragment '
                              r'length" \(id=1\), len=1\n0000 - 01 ')
        cp = run_cli(ARGS + ["--check", "-p", "exchange2013"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn(CHECK_LINES[-1], cp.stdout)

    def test_check_shows_the_schannel_surface(self):
        cp = run_cli(ARGS + ["--check", "-p", "exchange2013"])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        for line in CHECK_LINES:
            self.assertIn(line, cp.stdout)
        self.assertRegex(cp.stdout, RESUMPTION_RE)

    # --- one record per reply -----------------------------------------

    def test_reply_leaves_in_one_record(self):
        """TLS 1.2: the 11-line EHLO reply is one application_data record
        holding all of it (it was 24: each line and each CRLF a record);
        pipelined commands' replies, queued in one turn, share one record
        too, as the plaintext path's single writev."""
        ctx = tls_wire.client_ctx(SUITE_12, maximum=ssl.TLSVersion.TLSv1_2)
        t = tls_wire.raw_session(self.srv.port, ctx)
        self.assertEqual(t.command("EHLO client.lab.test\r\n"),
                         ([(tls_wire.APPLICATION_DATA, 288,
                            EHLO_TLS.encode())], EHLO_TLS))
        recs, text = t.command("MAIL FROM:<gw@esa.lab.test>\r\n"
                               "RCPT TO:<user@ex2013.lab.test>\r\n")
        self.assertEqual(text, MAIL_OK + RCPT_OK)
        self.assertEqual([(ty, data) for ty, _, data in recs],
                         [(tls_wire.APPLICATION_DATA, text.encode())])
        t.close()

    def test_reply_in_one_record_after_tls10_empty_fragment(self):
        """TLS 1.0 with a CBC suite: OpenSSL sends an empty record before
        each write (its BEAST countermeasure; Schannel's is a 1/n-1 split,
        not modelled), then the whole reply in one record."""
        ctx = tls_wire.client_ctx(SUITE_10 + ":@SECLEVEL=0",
                                  ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1)
        t = tls_wire.raw_session(self.srv.port, ctx)
        recs, text = t.command("EHLO client.lab.test\r\n")
        self.assertEqual(text, EHLO_TLS)
        self.assertEqual([(ty, data) for ty, _, data in recs],
                         [(tls_wire.APPLICATION_DATA, b""),
                          (tls_wire.APPLICATION_DATA, EHLO_TLS.encode())])
        t.close()


if __name__ == "__main__":
    unittest.main()
