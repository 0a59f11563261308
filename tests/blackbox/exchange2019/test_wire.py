"""exchange2019: Exchange Server 2019 on Windows Server 2019, byte for byte.

The SMTP strings are the Exchange 2013+ Receive connector's (FACTS.md 1,
inherited from exchange2013) with SMTPUTF8 added (FACTS.md 14 / issue 13);
the TLS side is Windows 10 v1809 Schannel (FACTS.md 14): TLS 1.0-1.2, no
SSL 3.0, no TLS 1.3, the v1809 suite order (v1607's without DHE_RSA CBC,
DHE_DSS, RC4) (what an RSA certificate and
OpenSSL 3 can negotiate of it), X25519 first. Clients: a raw socket,
smtplib, swaks, openssl s_client.
"""
import os
import re
import ssl
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import PROFILES, ServerTest, have  # noqa: E402
import msft  # noqa: E402
import tls_wire  # noqa: E402

ARGS = ["--profile-path", PROFILES]
PROFILE = "exchange2019"
HOST = "ex2019.lab.test"
BANNER_RE = msft.banner_re(HOST)                                  # FACTS.md 1
KEYWORDS = ["SIZE 37748736", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES",
            "STARTTLS", "X-ANONYMOUSTLS", "AUTH NTLM", "X-EXPS GSSAPI NTLM",
            "8BITMIME", "BINARYMIME", "CHUNKING",
            "SMTPUTF8",                    # FACTS.md 14; place: model choice
            "XRDST"]                                              # FACTS.md 1
KEYWORDS_TLS = [k if k != "AUTH NTLM" else "AUTH NTLM LOGIN" for k in KEYWORDS
                if k not in ("STARTTLS", "X-ANONYMOUSTLS")]      # FACTS.md 1
EHLO = msft.ehlo_lines(HOST + " Hello [127.0.0.1]", KEYWORDS)
EHLO_TLS = msft.ehlo_lines(HOST + " Hello [127.0.0.1]", KEYWORDS_TLS)
MAIL_OK = "250 2.1.0 Sender OK"                                   # FACTS.md 1
RCPT_OK = "250 2.1.5 Recipient OK"                                # FACTS.md 1
DATA_START = "354 Start mail input; end with <CRLF>.<CRLF>"       # FACTS.md 1
DATA_OK_RE = re.compile(                                          # FACTS.md 1
    r"250 2\.6\.0 <[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{12}@%s> \[InternalId=[0-9]+, Hostname=%s\] Queued mail for "
    r"delivery\Z" % (re.escape(HOST), re.escape(HOST)))
QUIT = "221 2.0.0 Service closing transmission channel"           # FACTS.md 1
UNKNOWN = "500 5.3.3 Unrecognized command"                        # FACTS.md 1
NO_HELO = "503 5.5.2 Send hello first"                            # FACTS.md 1
BAD_EHLO = "501 5.5.4 Invalid domain name"                        # FACTS.md 1
USER_UNKNOWN = "550 5.1.1 User unknown"                           # FACTS.md 1
STARTTLS_READY = "220 2.0.0 SMTP server ready"                    # FACTS.md 1

# FACTS.md 14, v1809 order (v1607's minus DHE-RSA CBC, DSS, RC4), what an RSA certificate and OpenSSL 3 can
# negotiate (no ECDSA/DSS, no 3DES/RC4), OpenSSL names.
ORDER_12 = ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
            "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA256",
            "ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA",
            "AES256-GCM-SHA384", "AES128-GCM-SHA256",
            "AES256-SHA256", "AES128-SHA256", "AES256-SHA", "AES128-SHA"]
ORDER_10 = [s for s in ORDER_12 if not re.search(r"GCM|SHA256|SHA384", s)]


class Exchange2019(ServerTest):

    def setUp(self):
        super().setUp()
        self.srv = self.start(PROFILE, args=ARGS)

    def test_conversation(self):
        c = self.srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [NO_HELO])
        self.assertEqual(c.cmd("EHLO"), [BAD_EHLO])
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO)
        self.assertEqual(c.cmd("XYZZY"), [UNKNOWN])
        # SMTPUTF8 (RFC 6531 3.4) is taken on MAIL, as advertised.
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test> SMTPUTF8"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send("Subject: t\r\n\r\nhello\r\n")
        self.assertRegex(c.cmd(".")[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(len(self.srv.messages()), 1)

    def test_smtplib_starttls_delivers(self):
        ehlo, done = msft.deliver_starttls(self.srv.port)
        self.assertEqual(ehlo, (250, msft.smtplib_ehlo_text(EHLO_TLS)))
        self.assertEqual(done[0], 250)
        self.assertRegex("250 " + done[1], DATA_OK_RE)
        _, env = self.srv.messages()[0]
        self.assertEqual(env["tls"], {
            "version": "TLSv1.2",
            "cipher": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"})

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_tls(self):
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % self.srv.port, "--tls",
             "--from", "a@lab.test", "--to", "b@lab.test",
             "--helo", "client.lab.test"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode()
        self.assertEqual(cp.returncode, 0, out)
        self.assertIn("<~  250 2.1.5 Recipient OK", out)
        self.assertIn("<~  " + QUIT, out)
        self.assertNotIn("<** ", out)   # no swaks error line

    def test_versions(self):
        got = {v.name: msft.version_works(self.srv.port, v)
               for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1,
                         ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)}
        self.assertEqual(got["TLSv1"], (True, "TLSv1"))
        self.assertEqual(got["TLSv1_1"], (True, "TLSv1.1"))
        self.assertEqual(got["TLSv1_2"], (True, "TLSv1.2"))
        self.assertFalse(got["TLSv1_3"][0], got["TLSv1_3"])

    def test_suite_order(self):
        self.assertEqual(msft.order_by_elimination(
            self.srv.port, ORDER_12, ssl.TLSVersion.TLSv1_2), ORDER_12)
        self.assertEqual(msft.order_by_elimination(
            self.srv.port, ORDER_10, ssl.TLSVersion.TLSv1), ORDER_10)

    def test_dhe_rsa_cbc_is_off(self):
        """FACTS.md 14: v1809 drops the DHE_RSA CBC suites that v1607 has;
        a client offering only those gets no handshake."""
        ctx = msft.tls_ctx("DHE-RSA-AES256-SHA:DHE-RSA-AES128-SHA:"
                           "@SECLEVEL=0", ssl.TLSVersion.TLSv1_2)
        with self.assertRaises(ssl.SSLError) as e:
            msft.handshake(self.srv.port, ctx).close()
        self.assertIn("HANDSHAKE_FAILURE", str(e.exception).upper())

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_x25519_first(self):
        rc, out = tls_wire.s_client(self.srv.port, "-tls1_2", "-groups",
                                    "P-384:P-256:X25519")
        self.assertEqual(rc, 0, out)
        self.assertIn("Server Temp Key: X25519, 253 bits", out)

    def test_tarpit_unknown_recipient_inherited(self):
        c = self.srv.connect()
        c.line()
        c.cmd("EHLO client.lab.test")
        c.cmd("MAIL FROM:<a@lab.test>")
        self.assertEqual(c.cmd("RCPT TO:<unknown1@lab.test>"), [USER_UNKNOWN])


if __name__ == "__main__":
    unittest.main()
