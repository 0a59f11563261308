"""esa-behind-asa: seed 001 byte for byte, with real clients.

A Cisco ESA with TLS on, behind a Cisco ASA running "inspect esmtp" with
its default map (no allow-tls): the client sees the masked banner and
"250 XXXXXXXA" where the ESA said "250 STARTTLS", and a STARTTLS sent
anyway reaches the ESA as X's, which it answers with its unknown-command
reply. With "--via none" (the firewall fixed: "no inspect esmtp") the
banner is the ESA's own and STARTTLS works.

Expected strings are written out literally from FACTS.md 4-5 and seed 001
(/work/shared/seeds/001_c630c1aca00e5222.txt), so a drift in the profiles
or the middlebox code fails here.
"""
import os
import smtplib
import ssl
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest, have  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

# FACTS.md 5 / seed 001: the ASA masks "220 esa.lab.test ESMTP" (FACTS.md
# 4): the reply code stays, every other character but the digits 2 and 0
# becomes "*" (18 of them; the host name has no 2 or 0).
BANNER_MASKED = "220 ******************"
BANNER = "220 esa.lab.test ESMTP"                                 # FACTS.md 4
# seed 001 / FACTS.md 5: exactly these, in this order.
EHLO_MASKED = ["250-esa.lab.test", "250-8BITMIME", "250-SIZE 14680064",
               "250 XXXXXXXA"]
# FACTS.md 4: STARTTLS last when TLS is on (what the ESA itself says).
EHLO_OPEN = ["250-esa.lab.test", "250-8BITMIME", "250-SIZE 14680064",
             "250 STARTTLS"]
UNKNOWN = "500 #5.5.1 command not recognized"            # FACTS.md 4, seed
# profiles/esa.yaml [118234] (not FACTS.md text).
MAIL_OK = "250 sender <%s> ok"
RCPT_OK = "250 recipient <%s> ok"
DATA_START = "354 go ahead"
QUIT = "221 esa.lab.test"

SENDER = "sender@example.test"
RCPT = "user@esa.lab.test"


def no_verify():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


class Seed001(ServerTest):

    def start_asa(self, *extra):
        return self.start("esa-behind-asa", args=ARGS + list(extra))

    def swaks(self, srv, *extra):
        cmd = ["swaks", "--server", "127.0.0.1:%d" % srv.port,
               "--from", SENDER, "--to", RCPT,
               "--helo", "client.example.test", "--timeout", "20"]
        cp = subprocess.run(cmd + list(extra), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            timeout=60)
        return cp.returncode, cp.stdout.decode("utf-8", "replace")

    @staticmethod
    def received(out):
        """The lines swaks shows as received in plain text ("<-  ")."""
        return [ln[4:] for ln in out.splitlines() if ln.startswith("<-  ")]

    # 1. seed 001 with swaks --------------------------------------------

    def test_raw_bytes_of_banner_and_ehlo(self):
        """The exact bytes, CRLFs included, as one stream."""
        srv = self.start_asa()
        c = srv.connect()
        c.send("EHLO client.example.test\r\n")
        want = ("\r\n".join([BANNER_MASKED] + EHLO_MASKED) + "\r\n").encode()
        got = b""
        while len(got) < len(want):
            chunk = c.sock.recv(65536)
            self.assertTrue(chunk, got)
            got += chunk
        self.assertEqual(got, want)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_sees_seed_001(self):
        srv = self.start_asa()
        rc, out = self.swaks(srv, "--quit-after", "EHLO")
        self.assertEqual(rc, 0, out)
        self.assertEqual(self.received(out),
                         [BANNER_MASKED] + EHLO_MASKED + [QUIT], out)
        # What the ESA itself said, and the note for each masked line.
        srv.wait_event(lambda e: e["dir"] == "close")
        ev = [(e["dir"], e["text"]) for e in srv.events()
              if e["dir"] in ("S", "client_saw")]
        self.assertEqual(ev[:2], [("S", BANNER),
                                  ("client_saw", BANNER_MASKED)])
        self.assertIn(("S", "250 STARTTLS"), ev)
        self.assertIn(("client_saw", "250 XXXXXXXA"), ev)

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_plain_delivers(self):
        srv = self.start_asa()
        rc, out = self.swaks(srv)
        self.assertEqual(rc, 0, out)
        got = self.received(out)
        self.assertEqual(got[:5], [BANNER_MASKED] + EHLO_MASKED, out)
        self.assertEqual(got[5:8], [MAIL_OK % SENDER, RCPT_OK % RCPT,
                                    DATA_START], out)
        self.assertRegex(got[8], r"^250 ok: Message \S+ accepted$")
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertIsNone(msgs[0][1]["tls"])

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_tls_refuses(self):
        srv = self.start_asa()
        rc, out = self.swaks(srv, "--tls")
        self.assertNotEqual(rc, 0, out)
        self.assertIn("*** Host did not advertise STARTTLS", out)
        self.assertIn("<-  250 XXXXXXXA", out)
        srv.wait_event(lambda e: e["dir"] == "close")
        # swaks gave up: it never sent STARTTLS, MAIL or DATA.
        sent = [t for d, t in srv.session_events(1, ("C",))]
        self.assertEqual([t.split()[0].upper() for t in sent],
                         ["EHLO", "QUIT"], sent)
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])

    # 2. STARTTLS sent anyway --------------------------------------------

    def test_starttls_anyway_gets_500_and_two_hop_transcript(self):
        srv = self.start_asa()
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("EHLO client.example.test"), EHLO_MASKED)
        self.assertEqual(c.cmd("STARTTLS"), [UNKNOWN])
        # Still a plain-text SMTP session: the ESA goes on answering.
        self.assertEqual(c.cmd("NOOP"), ["250 2.0.0 OK"])
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        srv.wait_event(lambda e: e["dir"] == "close")

        ev = [e for e in srv.events() if e["session"] == 1 and
              e["dir"] in ("C", "S", "client_saw", "server_got")]
        want = [
            ("S", "250 STARTTLS", None, None),
            ("client_saw", "250 XXXXXXXA", "asa-esmtp-inspect",
             "no allow-tls"),
            ("C", "STARTTLS", None, None),
            ("server_got", "XXXXXXXX", "asa-esmtp-inspect",
             "command not allowed"),
            ("S", UNKNOWN, None, None),
        ]
        got = [(e["dir"], e["text"], e.get("rule"), e.get("why"))
               for e in ev]
        i = got.index(want[0])
        self.assertEqual(got[i:i + len(want)], want, got)
        # The banner note too, with its rule.
        self.assertIn(("client_saw", BANNER_MASKED, "asa-esmtp-inspect",
                       "mask-banner"), got)

        log = srv.log()
        self.assertIn("↳ client saw: 250 XXXXXXXA   "
                      "(asa-esmtp-inspect: no allow-tls)", log)
        self.assertIn("↳ server got: XXXXXXXX   "
                      "(asa-esmtp-inspect: command not allowed)", log)
        self.assertIn("↳ client saw: " + BANNER_MASKED, log)

    def test_openssl_s_client_tries_anyway(self):
        """A real client that sends STARTTLS although it is not offered."""
        if not have("openssl"):
            self.skipTest("openssl not installed")
        srv = self.start_asa()
        cp = subprocess.run(
            ["openssl", "s_client", "-starttls", "smtp", "-connect",
             "127.0.0.1:%d" % srv.port],
            input=b"", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=30)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertNotEqual(cp.returncode, 0, out)
        self.assertIn("Didn't find STARTTLS in server response, "
                      "trying anyway", out)
        srv.wait_event(lambda e: e["dir"] == "close")
        got = [(e["dir"], e["text"]) for e in srv.events()
               if e["dir"] in ("C", "S", "server_got")]
        i = got.index(("C", "STARTTLS"))
        self.assertEqual(got[i:i + 3], [("C", "STARTTLS"),
                                        ("server_got", "XXXXXXXX"),
                                        ("S", UNKNOWN)])

    # 3. smtplib: opportunistic vs required TLS ---------------------------

    def test_smtplib_opportunistic_delivers_plain(self):
        srv = self.start_asa()
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=20)
        try:
            code, _ = s.ehlo("client.example.test")
            self.assertEqual(code, 250)
            self.assertFalse(s.has_extn("starttls"))
            self.assertTrue(s.has_extn("8bitmime"))
            self.assertEqual(s.esmtp_features.get("size"), "14680064")
            # What smtplib parsed from the masked line.
            self.assertIn("xxxxxxxa", s.esmtp_features)
            if s.has_extn("starttls"):  # opportunistic: only if offered
                s.starttls(context=no_verify())
                s.ehlo("client.example.test")
            refused = s.sendmail(SENDER, [RCPT],
                                 "Subject: plain\r\n\r\nbehind the ASA\r\n")
            self.assertEqual(refused, {})
            self.assertEqual(s.quit()[0], 221)
        finally:
            s.close()
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        body, env = msgs[0]
        self.assertEqual(body, b"Subject: plain\r\n\r\nbehind the ASA\r\n")
        self.assertIsNone(env["tls"])
        self.assertEqual(env["mail_from"], SENDER)
        self.assertEqual(env["rcpt_to"], [RCPT])

    def test_smtplib_tls_required_does_not_send(self):
        srv = self.start_asa()
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=20)
        sent = False
        try:
            s.ehlo("client.example.test")
            if s.has_extn("starttls"):
                s.starttls(context=no_verify())
                s.ehlo("client.example.test")
                s.sendmail(SENDER, [RCPT], "Subject: x\r\n\r\nx\r\n")
                sent = True
            self.assertEqual(s.quit()[0], 221)
        finally:
            s.close()
        self.assertFalse(sent)
        srv.wait_event(lambda e: e["dir"] == "close")
        cmds = [t.split()[0].upper()
                for d, t in srv.session_events(1, ("C",))]
        self.assertEqual(cmds, ["EHLO", "QUIT"])
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.envelope_files(), [])
        self.assertEqual(srv.tmp_files(), [])

    # 4. --via none: the firewall fixed ----------------------------------

    def test_via_none_starttls_works(self):
        srv = self.start_asa("--via", "none")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.example.test"), EHLO_OPEN)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))

        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=20)
        try:
            s.ehlo("client.example.test")
            self.assertTrue(s.has_extn("starttls"))
            code, _ = s.starttls(context=no_verify())
            self.assertEqual(code, 220)
            self.assertEqual(s.sock.version(), "TLSv1.2")
            s.ehlo("client.example.test")
            refused = s.sendmail(SENDER, [RCPT],
                                 "Subject: tls\r\n\r\nno inspect esmtp\r\n")
            self.assertEqual(refused, {})
            s.quit()
        finally:
            s.close()
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        body, env = msgs[0]
        self.assertEqual(body, b"Subject: tls\r\n\r\nno inspect esmtp\r\n")
        self.assertIsNotNone(env["tls"])
        self.assertEqual(env["tls"]["version"], "TLSv1.2")
        self.assertTrue(env["tls"]["cipher"])
        srv.wait_event(lambda e: e["dir"] == "close" and e["session"] == 2)
        # No box: no two-hop notes at all.
        self.assertEqual([e for e in srv.events()
                          if e["dir"] in ("client_saw", "server_got")], [])

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_via_none_swaks_tls_delivers(self):
        srv = self.start_asa("--via", "none")
        rc, out = self.swaks(srv, "--tls")
        self.assertEqual(rc, 0, out)
        self.assertIn("<-  " + BANNER, out)
        self.assertIn("<-  250 STARTTLS", out)
        self.assertIn("=== TLS started with cipher", out)
        self.assertRegex(out, r"<~  250 ok: Message \S+ accepted")
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][1]["tls"]["version"], "TLSv1.2")


if __name__ == "__main__":
    unittest.main()
