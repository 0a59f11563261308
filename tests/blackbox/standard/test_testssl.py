"""standard as testssl.sh sees it (-S over STARTTLS): OpenSSL's defaults,
unchanged by the Schannel keys: encrypt-then-MAC among the ServerHello's
extensions, no session tickets (as before), session IDs resumed, the key
exchange signed "RSA-PSS". The resumption run and the signature come from
the s_client logs testssl.sh keeps with --debug 1 (its JSON has neither:
see exchange2013/test_testssl.py).
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest, have  # noqa: E402
import tls_wire  # noqa: E402


@unittest.skipUnless(have("testssl") or have("testssl.sh"),
                     "testssl.sh not installed")
class TestSSL(ServerTest):

    def test_server_defaults(self):
        srv = self.start("standard")
        found, kept = tls_wire.testssl(srv.port, "-S")
        self.assertIn("'encrypt-then-mac/#22'", found.get("TLS_extensions"),
                      found)
        self.assertEqual(found.get("sessionresumption_ticket"),
                         "not supported")
        self.assertEqual(found.get("SSL_sessionID_support"), "yes")
        by_id = kept.get("127.0.0.1.sub_session_resumption.byID.log", "")
        self.assertRegex(by_id, r"\nReused, TLSv1\.[23], Cipher is ")
        probe = kept.get("127.0.0.1.determine_optimal_proto.txt", "")
        self.assertIn("Peer signature type: RSA-PSS\n", probe)


if __name__ == "__main__":
    unittest.main()
