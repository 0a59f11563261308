"""exchange2010: Exchange Server 2010 on Windows Server 2008 R2. The SMTP
strings are exchange2013's (FACTS.md 1; model choice: no 2010 capture)
with SIZE 10485760; the TLS side is FACTS.md 14: TLS 1.0 only, the
Windows 7 order's TLS 1.0 subset; a TLS 1.2+ client gets no ServerHello
and a FIN (FACTS.md 2; FIN is the model choice).
"""
import os
import re
import ssl
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import PROFILES, ServerTest, ending  # noqa: E402
import msft  # noqa: E402
import tls_wire  # noqa: E402

ARGS = ["--profile-path", PROFILES]
HOST = "ex2010.lab.test"
KEYWORDS = ["SIZE 10485760", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES",
            "STARTTLS", "X-ANONYMOUSTLS", "AUTH NTLM", "X-EXPS GSSAPI NTLM",
            "8BITMIME", "BINARYMIME", "CHUNKING", "XRDST"]
KEYWORDS_TLS = [k if k != "AUTH NTLM" else "AUTH NTLM LOGIN" for k in KEYWORDS
                if k not in ("STARTTLS", "X-ANONYMOUSTLS")]
EHLO = msft.ehlo_lines(HOST + " Hello [127.0.0.1]", KEYWORDS)
EHLO_TLS = msft.ehlo_lines(HOST + " Hello [127.0.0.1]", KEYWORDS_TLS)
DATA_OK_RE = re.compile(
    r"250 2\.6\.0 <[0-9a-f-]{36}@%s> \[InternalId=[0-9]+, Hostname=%s\] "
    r"Queued mail for delivery\Z" % (re.escape(HOST), re.escape(HOST)))
# FACTS.md 14: the Windows 7 order, TLS 1.0 subset, RSA certificate,
# OpenSSL 3 (no 3DES/RC4).
ORDER_10 = ["ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA",
            "DHE-RSA-AES256-SHA", "DHE-RSA-AES128-SHA",
            "AES256-SHA", "AES128-SHA"]


class Exchange2010(ServerTest):

    def setUp(self):
        super().setUp()
        self.srv = self.start("exchange2010", args=ARGS)

    def test_conversation(self):
        c = self.srv.connect()
        self.assertRegex(c.line(), msft.banner_re(HOST))
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test> SIZE=10485761"),
                         ["552 5.3.4 Too much mail data"])  # built-in RFC 5321 text
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"),
                         ["250 2.1.0 Sender OK"])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"),
                         ["250 2.1.5 Recipient OK"])
        self.assertEqual(c.cmd("DATA"),
                         ["354 Start mail input; end with <CRLF>.<CRLF>"])
        c.send("Subject: t\r\n\r\nhello\r\n")
        self.assertRegex(c.cmd(".")[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"),
                         ["221 2.0.0 Service closing transmission channel"])
        self.assertEqual(c.ending(), ("fin", b""))

    def test_tls10_delivers(self):
        ehlo, done = msft.deliver_starttls(self.srv.port,
                                           version=ssl.TLSVersion.TLSv1)
        self.assertEqual(ehlo, (250, msft.smtplib_ehlo_text(EHLO_TLS)))
        self.assertRegex("250 " + done[1], DATA_OK_RE)
        _, env = self.srv.messages()[0]
        self.assertEqual(env["tls"], {
            "version": "TLSv1",
            "cipher": "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"})

    def test_tls12_client_gets_fin_and_no_server_hello(self):
        """An OpenSSL 3 client offering TLS 1.2 and 1.3 (supported_versions
        says so) shares no version: nothing comes back, then a FIN."""
        sock = tls_wire.starttls(self.srv.port)
        obj = tls_wire.client_ctx().wrap_bio(ssl.MemoryBIO(),
                                             out := ssl.MemoryBIO())
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        sock.sendall(out.read())
        self.assertEqual(ending(sock), ("fin", b""))
        sock.close()

    def test_suite_order(self):
        self.assertEqual(msft.order_by_elimination(
            self.srv.port, ORDER_10, ssl.TLSVersion.TLSv1), ORDER_10)


if __name__ == "__main__":
    unittest.main()
