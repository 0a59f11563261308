"""exchange2013-tls10: the Schannel TLS surface it inherits from
exchange2013 (FACTS.md 14), at the only version it speaks, TLS 1.0: no
encrypt-then-MAC in the ServerHello although the suite is CBC, no session
ticket, resumption by session ID; replies inside TLS leave as one record
after OpenSSL's empty TLS 1.0 CBC fragment.

The client offers one suite, Schannel's first that TLS 1.0 can carry
(FACTS.md 2), which is not among the nine of the inherited CSCwh48138 rule
(FACTS.md 3); @SECLEVEL=0 because TLS 1.0 signs with MD5+SHA-1.
"""
import os
import ssl
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest, have  # noqa: E402
import tls_wire  # noqa: E402

ARGS = ["--profile-path", PROFILES]
SUITE = "ECDHE-RSA-AES256-SHA"
CIPHER = SUITE + ":@SECLEVEL=0"
SCHANNEL_EXTS = [("renegotiation info", 65281), ("EC point formats", 11),
                 ("extended master secret", 23)]
EHLO_TLS = ("250-ex2013.lab.test Hello [127.0.0.1]\r\n"   # FACTS.md 1
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


class Schannel10(ServerTest):

    def setUp(self):
        super().setUp()
        self.srv = self.start("exchange2013-tls10", args=ARGS)

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_no_encrypt_then_mac_and_resumption_by_id(self):
        sess = os.path.join(self.srv.dir, "session.pem")
        rc, first = tls_wire.s_client(self.srv.port, "-tls1", "-cipher",
                                      CIPHER, "-tlsextdebug",
                                      "-sess_out", sess)
        self.assertEqual(rc, 0, first)
        self.assertIn("New, TLSv1.0, Cipher is %s\n" % SUITE, first)
        self.assertEqual(tls_wire.server_extensions(first), SCHANNEL_EXTS)
        self.assertNotIn("TLS session ticket", first)
        rc, second = tls_wire.s_client(self.srv.port, "-tls1", "-cipher",
                                       CIPHER, "-sess_in", sess)
        self.assertEqual(rc, 0, second)
        self.assertIn("Reused, TLSv1.0, Cipher is %s\n" % SUITE, second)

    def test_reply_in_one_record(self):
        ctx = tls_wire.client_ctx(CIPHER, ssl.TLSVersion.TLSv1,
                                  ssl.TLSVersion.TLSv1)
        t = tls_wire.raw_session(self.srv.port, ctx)
        recs, text = t.command("EHLO client.lab.test\r\n")
        self.assertEqual(text, EHLO_TLS)
        self.assertEqual([(ty, data) for ty, _, data in recs],
                         [(tls_wire.APPLICATION_DATA, b""),
                          (tls_wire.APPLICATION_DATA, EHLO_TLS.encode())])
        t.close()


if __name__ == "__main__":
    unittest.main()
