"""exchange2013 as nmap sees it: the smtp-commands and ssl-enum-ciphers
scripts (a scanner nobody here wrote, issue 10).

- smtp-commands prints the EHLO keywords and the HELP text it got: they
  must be FACTS.md 1's, in order; -sV's fingerprints name the service
  "Microsoft Exchange smtpd".
- ssl-enum-ciphers (over STARTTLS; -sV names the port "smtp" so nmap
  knows to send it) must see Schannel 2012 R2's surface (FACTS.md 2):
  TLS 1.0, 1.1 and 1.2, no TLS 1.3, the server's order with
  TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 first, no ECDHE_RSA GCM suite,
  and none of the suites OpenSSL 3 cannot offer (RC4, 3DES).
nmap itself is installed by scripts/deps.sh --test (clients.need).
"""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from harness import ServerTest  # noqa: E402
import clients  # noqa: E402

# FACTS.md 1: the EHLO reply as nmap's smtp-commands joins it.
EHLO = ("ex2013.lab.test Hello [127.0.0.1], SIZE 37748736, PIPELINING, DSN, "
        "ENHANCEDSTATUSCODES, STARTTLS, X-ANONYMOUSTLS, AUTH NTLM, "
        "X-EXPS GSSAPI NTLM, 8BITMIME, BINARYMIME, CHUNKING, XRDST")
HELP = ("This server supports the following commands: "
        "HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT")


def nmap(port, scripts):
    cp = subprocess.run(
        ["nmap", "-Pn", "-n", "-sV", "--version-intensity", "0",
         "-p", str(port), "--script", scripts, "127.0.0.1"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120)
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


def section(out, name):
    """The lines of one ssl-enum-ciphers version section ("TLSv1.2")."""
    m = re.search(r"^\|   %s: *\n((?:\|     .*\n)+)" % re.escape(name), out,
                  re.M)
    return m.group(1) if m else None


class Nmap(ServerTest):
    def test_smtp_commands(self):
        clients.need(self, "nmap")
        srv = self.start("exchange2013")
        rc, out = nmap(srv.port, "smtp-commands")
        self.assertEqual(rc, 0, out)
        self.assertIn("| smtp-commands: " + EHLO + "\n", out)
        self.assertIn("|_ " + HELP + "\n", out)
        # nmap's own service fingerprints take the banner for the real one
        self.assertRegex(out, r"\d+/tcp +open +smtp +Microsoft Exchange smtpd")

    def test_ssl_enum_ciphers_schannel_2012r2(self):
        clients.need(self, "nmap")
        srv = self.start("exchange2013")
        rc, out = nmap(srv.port, "ssl-enum-ciphers")
        self.assertEqual(rc, 0, out)
        for version in ("TLSv1.0", "TLSv1.1", "TLSv1.2"):
            self.assertIsNotNone(section(out, version), out)
        self.assertIsNone(section(out, "TLSv1.3"), out)
        tls12 = section(out, "TLSv1.2")
        suites = re.findall(r"^\|       (TLS_\w+)", tls12, re.M)
        self.assertEqual(suites[0], "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384",
                         tls12)
        self.assertIn("cipher preference: server", tls12)
        self.assertFalse([s for s in suites
                          if "ECDHE_RSA" in s and "GCM" in s], suites)
        self.assertFalse([s for s in suites
                          if "RC4" in s or "3DES" in s], suites)
        # The handshakes nmap made were real STARTTLS sessions.
        self.assertTrue([e for e in srv.events()
                         if e["text"] == "STARTTLS" and e["dir"] == "C"])


if __name__ == "__main__":
    unittest.main()
