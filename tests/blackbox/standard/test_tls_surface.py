"""standard: the TLS surface the Schannel keys switch off, as OpenSSL's
defaults have it (profiles/standard.yaml leaves every one of those keys at
its default): encrypt-then-MAC (RFC 7366) in the ServerHello, a TLS 1.2
ServerKeyExchange signed with RSA-PSS, TLS_FALLBACK_SCSV honoured with
inappropriate_fallback (86) (RFC 7507), resumption by session ID; no
session tickets, in TLS 1.2 or 1.3, as before. The fixture tls_no_resume
(session_cache: false) resumes nothing and sends an empty session ID.
Inside TLS a reply leaves as one TLS record, in TLS 1.2 and 1.3 (no
NewSessionTicket either: the EHLO reply is the only record after the
handshake).
"""
import os
import re
import ssl
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest, have  # noqa: E402
import tls_wire  # noqa: E402

SUITE_12 = "ECDHE-RSA-AES256-SHA384"   # a CBC suite: encrypt-then-MAC applies
# What OpenSSL 3.0's ServerHello carries for it.
OPENSSL_EXTS = [("renegotiation info", 65281), ("EC point formats", 11),
                ("encrypt-then-mac", 22), ("extended master secret", 23)]
EHLO_TLS = ("250-mx.lab.test\r\n"          # profiles/standard.yaml
            "250-PIPELINING\r\n"
            "250-SIZE 10485760\r\n"
            "250-ENHANCEDSTATUSCODES\r\n"
            "250-8BITMIME\r\n"
            "250-SMTPUTF8\r\n"
            "250-DSN\r\n"
            "250-CHUNKING\r\n"
            "250 AUTH PLAIN LOGIN\r\n")
RECEIVED_ALERT_86_RE = re.compile(
    r"Received Record\nHeader:\n  Version = [^\n]*\n"
    r"  Content Type = Alert \(21\)\n  Length = 2\n"
    r"    Level=fatal\(2\), description=unknown\(86\)")
SESSION_ID_RE = re.compile(r"^    Session-ID: ([0-9A-F]*)$", re.M)


class TlsSurface(ServerTest):

    def s_client(self, srv, *args, ok=True):
        rc, out = tls_wire.s_client(srv.port, *args)
        if ok:
            self.assertEqual(rc, 0, out)
        return out

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_openssl_defaults_unchanged(self):
        srv = self.start("standard")
        out = self.s_client(srv, "-tls1_2", "-cipher", SUITE_12,
                            "-tlsextdebug", "-trace")
        self.assertEqual(tls_wire.server_extensions(out), OPENSSL_EXTS)
        self.assertEqual(tls_wire.ske_signature(out),
                         "rsa_pss_rsae_sha256 (0x0804)")
        self.assertIn("Peer signature type: RSA-PSS\n", out)
        self.assertNotIn("TLS session ticket", out)

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_fallback_scsv_honoured(self):
        srv = self.start("standard")
        rc, out = tls_wire.s_client(srv.port, "-tls1_2", "-fallback_scsv",
                                    "-cipher", SUITE_12, "-trace")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("{0x56, 0x00} TLS_FALLBACK_SCSV\n", out)
        self.assertRegex(out, RECEIVED_ALERT_86_RE)
        self.assertIn("alert inappropriate fallback", out)

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_resumption_switches_with_session_cache(self):
        for profile, resumed in (("standard", True),
                                 ("tls_no_resume", False)):
            with self.subTest(profile=profile):
                srv = self.start(profile)
                sess = os.path.join(srv.dir, "session.pem")
                first = self.s_client(srv, "-tls1_2", "-cipher", SUITE_12,
                                      "-sess_out", sess)
                sid = SESSION_ID_RE.search(first).group(1)
                self.assertEqual(len(sid), 64 if resumed else 0, first)
                self.assertIn("New, TLSv1.2, Cipher is %s\n" % SUITE_12,
                              first)
                if not resumed:
                    # An empty session ID is not resumable: s_client
                    # saves nothing (what testssl.sh reads as "ID: no").
                    self.assertFalse(os.path.exists(sess))
                    continue
                second = self.s_client(srv, "-tls1_2", "-cipher", SUITE_12,
                                       "-sess_in", sess)
                self.assertIn("Reused, TLSv1.2, Cipher is %s\n" % SUITE_12,
                              second)
                self.assertIn("    Session-ID: %s\n" % sid, second)

    def test_reply_leaves_in_one_record(self):
        srv = self.start("standard")
        for name, ctx in (
                ("TLS 1.2", tls_wire.client_ctx(
                    SUITE_12, maximum=ssl.TLSVersion.TLSv1_2)),
                ("TLS 1.3", tls_wire.client_ctx(
                    minimum=ssl.TLSVersion.TLSv1_3))):
            with self.subTest(version=name):
                t = tls_wire.raw_session(srv.port, ctx)
                self.assertEqual(t.obj.version(), name.replace(" ", "v"))
                recs, text = t.command("EHLO client.test\r\n")
                self.assertEqual(text, EHLO_TLS)
                # One record, holding the whole reply (TLS 1.3 hides the
                # type: every record is application_data on the wire).
                self.assertEqual([(ty, data) for ty, _, data in recs],
                                 [(tls_wire.APPLICATION_DATA,
                                   EHLO_TLS.encode())])
                self.assertFalse(t.obj.session.has_ticket)
                t.close()


if __name__ == "__main__":
    unittest.main()
