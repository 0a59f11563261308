"""exchange2013 as testssl.sh sees it (its server defaults, -S, over
STARTTLS): what FACTS.md 14 says of 2012 R2-era Schannel. No
encrypt-then-MAC among the ServerHello's extensions; no session tickets;
session IDs, resumed; the key exchange signed "RSA", not "RSA-PSS".

testssl.sh 3.0.8 (Debian 12) reports neither the last two in its JSON:
its resumption-by-ID verdict also compares the bytes s_client read and
wrote, which over STARTTLS include the SMTP banner and EHLO reply, so a
server with Exchange's long EHLO reply gets "check failed, pls report"
although s_client said "Reused"; and it names only the certificate's
signature. So the test reads the s_client logs testssl.sh keeps with
--debug 1: its resumption run ("Reused, TLSv1.2") and its protocol probe
("Peer signature type: RSA").

The server is exchange2013-no-rules (exchange2013 with rules: [], its tls:
untouched): testssl.sh's s_client runs offer DHE-RSA-AES256-SHA, which the
CSCwh48138 rule (FACTS.md 3) would answer with a FIN.
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest, have, run_cli  # noqa: E402
import tls_wire  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]
# testssl.sh's probe offers max_fragment_length: the echo is the known
# difference --check lists; encrypt-then-mac/#22 is absent.
EXTENSIONS = ("'renegotiation info/#65281' 'EC point formats/#11' "
              "'max fragment length/#1' 'extended master secret/#23'")
KNOWN_MFL = ("    max_fragment_length (RFC 6066): echoed in the ServerHello "
             "when a client asks")


@unittest.skipUnless(have("testssl") or have("testssl.sh"),
                     "testssl.sh not installed")
class TestSSL(ServerTest):

    def test_server_defaults(self):
        srv = self.start("exchange2013-no-rules", args=ARGS)
        found, kept = tls_wire.testssl(srv.port, "-S")
        self.assertEqual(found.get("TLS_extensions"), EXTENSIONS, found)
        self.assertNotIn("encrypt-then-mac", found["TLS_extensions"])
        self.assertEqual(found.get("sessionresumption_ticket"),
                         "not supported")
        self.assertTrue(found.get("TLS_session_ticket", "").startswith("no"),
                        found)
        self.assertEqual(found.get("SSL_sessionID_support"), "yes")
        self.assertIn(found.get("sessionresumption_ID"),
                      ("supported", "check failed, pls report"))
        by_id = kept.get("127.0.0.1.sub_session_resumption.byID.log", "")
        self.assertIn("\nReused, TLSv1.2, Cipher is ECDHE-RSA-AES256-SHA384\n",
                      by_id)
        probe = kept.get("127.0.0.1.determine_optimal_proto.txt", "")
        self.assertIn("Peer signature type: RSA\n", probe)
        self.assertNotIn("RSA-PSS", probe)
        cp = run_cli(ARGS + ["--check", "-p", "exchange2013"])
        self.assertIn(KNOWN_MFL, cp.stdout)


if __name__ == "__main__":
    unittest.main()
