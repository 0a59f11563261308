"""exchange-online and its scenarios, byte for byte (FACTS.md 11): the EOP
banner with its 2025 tag, the nine EHLO keywords, 452 4.5.3 past 200
recipients; the banned-IP 550 5.7.606 (two spaces before "http") and the
busy 451 4.7.500 at RCPT. The MAIL/RCPT/DATA texts are exchange2013's
(FACTS.md 1; model choice for EOP). TLS 1.2 only (model choice).
"""
import os
import re
import ssl
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import PROFILES, ServerTest  # noqa: E402
import msft  # noqa: E402

ARGS = ["--profile-path", PROFILES]
NODE = "BN8NAM12FT021.mail.protection.outlook.com"              # model choice
BANNER_RE = msft.banner_re(NODE, " [08DD59CA63652EED]")          # FACTS.md 11
KEYWORDS = ["SIZE 157286400", "PIPELINING", "DSN", "ENHANCEDSTATUSCODES",
            "STARTTLS", "8BITMIME", "BINARYMIME", "CHUNKING",
            "SMTPUTF8"]                                          # FACTS.md 11
EHLO = msft.ehlo_lines(NODE + " Hello [127.0.0.1]", KEYWORDS)
EHLO_TLS = [ln for ln in EHLO if ln != "250-STARTTLS"]
BANNED = ("550 5.7.606 Access denied, banned sending IP [127.0.0.1]. To "
          "request removal from this list please visit "
          "https://sender.office.com/ and follow the directions. For more "
          "information please go to  "       # FACTS.md 11: two spaces
          "http://go.microsoft.com/fwlink/?LinkID=526655 (AS16012609)")
BUSY = ("451 4.7.500 Server busy. Please try again later from [127.0.0.1]. "
        "(AS761)")                                                # FACTS.md 11
ORDER_12 = ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-GCM-SHA256",
            "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES128-SHA256"]


class ExchangeOnline(ServerTest):

    def open(self, profile="exchange-online"):
        srv = self.start(profile, args=ARGS)
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO)
        return srv, c

    def test_conversation_and_200_recipients(self):
        srv, c = self.open()
        self.assertEqual(c.cmd("AUTH LOGIN"),
                         ["500 5.3.3 Unrecognized command"])  # no AUTH (model choice)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test> SMTPUTF8"),
                         ["250 2.1.0 Sender OK"])
        for i in range(200):
            self.assertEqual(c.cmd("RCPT TO:<r%d@contoso.com>" % i),
                             ["250 2.1.5 Recipient OK"])
        self.assertEqual(c.cmd("RCPT TO:<r200@contoso.com>"),
                         ["452 4.5.3 Too many recipients"])       # FACTS.md 11
        # exchange2013's tarpit rule is off on EOP (model choice): no 550 5.1.1
        self.assertEqual(c.cmd("RCPT TO:<unknown1@contoso.com>"),
                         ["452 4.5.3 Too many recipients"])
        self.assertEqual(c.cmd("DATA"),
                         ["354 Start mail input; end with <CRLF>.<CRLF>"])
        c.send("Subject: t\r\n\r\nhello\r\n")
        self.assertRegex(c.cmd(".")[0], r"\A250 2\.6\.0 <[0-9a-f-]{36}@%s> "
                         r"\[InternalId=[0-9]+, Hostname=%s\] Queued mail for "
                         r"delivery\Z" % (re.escape(NODE), re.escape(NODE)))
        self.assertEqual(c.cmd("QUIT"),
                         ["221 2.0.0 Service closing transmission channel"])
        self.assertEqual(c.ending(), ("fin", b""))

    def test_tls12_only(self):
        srv = self.start("exchange-online", args=ARGS)
        ehlo, done = msft.deliver_starttls(srv.port)
        self.assertEqual(ehlo, (250, msft.smtplib_ehlo_text(EHLO_TLS)))
        self.assertEqual(done[0], 250)
        _, env = srv.messages()[0]
        self.assertEqual(env["tls"], {
            "version": "TLSv1.2",
            "cipher": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"})
        for v in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1_3):
            ok, why = msft.version_works(srv.port, v)
            self.assertFalse(ok, why)
        self.assertEqual(msft.order_by_elimination(
            srv.port, ORDER_12, ssl.TLSVersion.TLSv1_2), ORDER_12)

    def test_banned_ip(self):
        srv, c = self.open("exchange-online-banned-ip")
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"),
                         ["250 2.1.0 Sender OK"])
        self.assertEqual(c.cmd("RCPT TO:<b@contoso.com>"), [BANNED])
        self.assertEqual(c.cmd("RCPT TO:<c@contoso.com>"), [BANNED])
        self.assertEqual(c.cmd("QUIT"),
                         ["221 2.0.0 Service closing transmission channel"])

    def test_busy(self):
        srv, c = self.open("exchange-online-busy")
        c.cmd("MAIL FROM:<a@lab.test>")
        self.assertEqual(c.cmd("RCPT TO:<b@contoso.com>"), [BUSY])
        self.assertEqual(c.cmd("DATA"),
                         ["503 5.5.1 Bad sequence of commands"])  # built-in text
        self.assertEqual(srv.messages(), [])


if __name__ == "__main__":
    unittest.main()
