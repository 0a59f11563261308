"""exchange2013-dhe-leading-zero: the Schannel DHE leading-zero bug
(FACTS.md 14) as a scenario on exchange2013. A client whose DH public value
in ClientKeyExchange is one byte shorter than the prime (its leading zero
byte stripped) gets a TCP RST after its Finished; the same client with a
full-length value, and the same short value against the healthy
exchange2013, go on to talk SMTP inside TLS.

The short value comes from lib/tls12_dhe.py, a TLS 1.2 client for
TLS_DHE_RSA_WITH_AES_128_CBC_SHA that picks its private exponent until the
public value has the wanted length: OpenSSL 3 pads the value (checked here
with openssl s_client), so no stock client can send a short one.
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import PROFILES, ServerTest, ending, have  # noqa: E402
import tls_wire  # noqa: E402
import tls12_dhe  # noqa: E402

ARGS = ["--profile-path", PROFILES]
PROFILE = "exchange2013-dhe-leading-zero"
PRIME = 128            # exchange2013.yaml: dh_bits 1024
RULE = "dhe-leading-zero"


@unittest.skipUnless(have("openssl"), "openssl (AES for the raw client)")
class DheLeadingZero(ServerTest):

    def handshake(self, profile, short, seed=7):
        srv = self.start(profile, args=ARGS)
        sock = tls_wire.starttls(srv.port)
        hs = tls12_dhe.Handshake(sock, seed=seed)
        lens = hs.run(short)
        return srv, sock, hs, lens

    def closed(self, srv):
        return srv.wait_event(lambda e: e["dir"] == "close")

    def infos(self, srv):
        return [e["text"] for e in srv.events() if e["dir"] == "info"]

    def wait_info(self, srv, text):
        return srv.wait_event(lambda e: e["dir"] == "info"
                              and e["text"] == text)

    def test_short_value_gets_rst_after_finished(self):
        srv, sock, hs, lens = self.handshake(PROFILE, True)
        self.assertEqual(lens, (PRIME, PRIME - 1))
        how, data = ending(sock)
        self.assertEqual(how, "rst", data)
        # At most the server's ChangeCipherSpec and Finished came first
        # (the profile's model choice); never a byte of SMTP.
        recs, _ = tls12_dhe.split_records(data)
        self.assertNotIn(tls12_dhe.APPLICATION_DATA, [t for t, _ in recs])
        self.assertNotIn(tls12_dhe.ALERT, [t for t, _ in recs])
        close = self.closed(srv)
        self.assertEqual(close["text"], "rst (%s)" % RULE, srv.log())
        rules = [e.get("rule") for e in srv.events() if e["dir"] == "rule"]
        self.assertEqual(rules, [RULE])
        self.assertIn("DHE: client public value 127 bytes, prime 128 bytes "
                      "(shorter: leading zero stripped)", self.infos(srv))
        self.assertIn("handshake done: TLSv1.2 "
                      "TLS_DHE_RSA_WITH_AES_128_CBC_SHA",
                      [e["text"] for e in srv.events() if e["dir"] == "tls"])
        sock.close()

    def assert_talks_smtp(self, srv, sock, hs):
        types = hs.records_until(tls12_dhe.HANDSHAKE)   # CCS, Finished
        self.assertEqual(types, [tls12_dhe.CCS, tls12_dhe.HANDSHAKE])
        hs.send_data("EHLO client.lab.test\r\n")
        types = hs.records_until(tls12_dhe.APPLICATION_DATA)
        self.assertNotIn(tls12_dhe.ALERT, types)
        # The server decrypted the EHLO: our Finished and keys were right.
        srv.wait_event(lambda e: e["dir"] == "C"
                       and e["text"] == "EHLO client.lab.test")
        self.assertEqual([e for e in srv.events() if e["dir"] == "rule"], [])
        sock.close()

    def test_full_length_value_goes_on(self):
        srv, sock, hs, lens = self.handshake(PROFILE, False)
        self.assertEqual(lens, (PRIME, PRIME))
        self.assert_talks_smtp(srv, sock, hs)
        self.wait_info(srv, "DHE: client public value 128 bytes, prime "
                       "128 bytes")

    def test_healthy_exchange2013_takes_the_short_value(self):
        srv, sock, hs, lens = self.handshake("exchange2013", True)
        self.assertEqual(lens, (PRIME, PRIME - 1))
        self.assert_talks_smtp(srv, sock, hs)

    def test_openssl_pads_its_value(self):
        """openssl s_client (OpenSSL 3) zero-pads dh_Yc to the prime's
        length, so it never trips the rule: it completes and says QUIT."""
        srv = self.start(PROFILE, args=ARGS)
        rc, out = tls_wire.s_client(srv.port, "-tls1_2", "-cipher",
                                    "DHE-RSA-AES128-SHA:@SECLEVEL=0",
                                    "-crlf", "-ign_eof", stdin=b"QUIT\n")
        self.assertEqual(rc, 0, out)
        self.assertIn("Cipher is DHE-RSA-AES128-SHA", out)
        self.assertIn("221 2.0.0 Service closing transmission channel", out)
        self.wait_info(srv, "DHE: client public value 128 bytes, prime "
                       "128 bytes")
        self.assertEqual(self.closed(srv)["text"], "fin (client sent QUIT)")


if __name__ == "__main__":
    unittest.main()
