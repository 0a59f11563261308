"""exchange2013-tls10: Exchange 2013 before CU8, whose SMTP TLS is limited
to SSL 3.0 / TLS 1.0 (FACTS.md 1, KB 3045301), on a Schannel that leaves a
ClientHello it shares no version with unanswered and drops the TCP
connection (FACTS.md 2, openssl/openssl#28284; FIN is the profile's model
choice).

An OpenSSL 3 client with its default settings (TLS 1.2 and up) therefore
gets no ServerHello and no alert, just a FIN: Python sees ssl.SSLEOFError
during the handshake, not a handshake_failure alert. A TLS 1.0 client at
security level 0 (FACTS.md 2, openssl/openssl#15859) completes the
handshake and delivers, with OpenSSL's DEFAULT list as with the
workaround cipher string of FACTS.md 3: exchange2013 is the healthy
server, CSCwh48138 is only in the scenario exchange2013-cscwh48138.
"""
import os
import re
import socket
import ssl
import subprocess
import sys
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "lib"))
from harness import ending, PROFILES, ServerTest, have  # noqa: E402

ARGS = ["--profile-path", PROFILES]

from exchange2013 import BANNER_RE, EHLO_REPLY, EHLO_REPLY_TLS, STARTTLS_READY  # noqa: E402
MAIL_OK = "250 2.1.0 Sender OK"                              # FACTS.md 1
RCPT_OK = "250 2.1.5 Recipient OK"                           # FACTS.md 1
DATA_START = "354 Start mail input; end with <CRLF>.<CRLF>"  # FACTS.md 1
DATA_OK_RE = re.compile(                                     # FACTS.md 1
    r"250 2\.6\.0 <[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{12}@ex2013\.lab\.test> \[InternalId=[0-9]+, "
    r"Hostname=ex2013\.lab\.test\] Queued mail for delivery\Z")
QUIT = "221 2.0.0 Service closing transmission channel"      # FACTS.md 1

# FACTS.md 3: the workaround cipher string; it offers none of the nine
# CSCwh48138 suites. @SECLEVEL=0: TLS 1.0 signs with SHA-1 (FACTS.md 2).
BASE = ("ECDH+aRSA:ECDH+ECDSA:DHE+DSS+AES:AES128:AES256:!SRP:"
        "!AESGCM+DH+aRSA:!AESGCM+RSA:!aNULL:!eNULL:!DES:!3DES:!IDEA:!RC2:"
        "-IDEA:-aNULL:-EXPORT")
WORKAROUND = BASE + (
    ":!DHE-RSA-AES256-SHA:!DHE-RSA-AES128-CCM:!DHE-RSA-AES256-CCM"
    ":!ECDHE-ECDSA-CAMELLIA128-SHA256:!ECDHE-RSA-CAMELLIA128-SHA256"
    ":!ECDHE-ECDSA-CAMELLIA256-SHA384:!ECDHE-RSA-CAMELLIA256-SHA384"
    ":!ECDHE-ECDSA-AES128-CCM:!ECDHE-ECDSA-AES256-CCM")
# Schannel's first suite (FACTS.md 2) that TLS 1.0 can carry.
SUITE_10 = ("ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")
# profile: no_shared_version: fin
DROP_TEXT = "no shared protocol version: ClientHello left unanswered"
DROP_CLOSE = "fin (no shared protocol version)"


def tls_ctx(ciphers=None, minimum=None, maximum=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():   # TLSv1 is deprecated, not gone
        warnings.simplefilter("ignore", DeprecationWarning)
        if minimum is not None:
            ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    return ctx


def tls10_ctx(ciphers):
    return tls_ctx(ciphers + ":@SECLEVEL=0", ssl.TLSVersion.TLSv1,
                   ssl.TLSVersion.TLSv1)


class Exchange2013Tls10(ServerTest):

    def tearDown(self):
        # A server that died during the test (exit -11: SIGSEGV) fails it.
        dead = [(srv.proc.returncode, srv.log()[-3000:])
                for srv in self.servers
                if srv.proc.poll() is not None and not srv.stderr.closed]
        super().tearDown()
        for status, log in dead:
            self.fail("smtp-mimic died during the test (exit %d):\n%s"
                      % (status, log))

    def setUp(self):
        super().setUp()
        self.nsessions = 0
        self.srv = self.start("exchange2013-tls10", args=ARGS)

    def plain_starttls(self):
        self.nsessions += 1
        c = self.srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        self.assertEqual(c.cmd("STARTTLS"), [STARTTLS_READY])
        return c, self.nsessions

    def events_of(self, sid):
        return [e for e in self.srv.events() if e["session"] == sid]

    def closed(self, sid):
        return self.srv.wait_event(lambda e: e["session"] == sid
                                   and e["dir"] == "close")["text"]

    def tls_texts(self, sid):
        return [e["text"] for e in self.events_of(sid) if e["dir"] == "tls"]

    def assert_dropped(self, sid):
        """Transcript of a ClientHello left unanswered."""
        self.assertEqual(self.closed(sid), DROP_CLOSE)
        texts = self.tls_texts(sid)
        self.assertIn(DROP_TEXT, texts)
        # Nothing was sent: no alert, no handshake.
        self.assertEqual([t for t in texts if t.startswith("alert sent")
                          or t.startswith("handshake done")], [], texts)

    def deliver_tls10(self, ciphers=WORKAROUND):
        """A TLS 1.0 client with the workaround string delivers."""
        c, sid = self.plain_starttls()
        tls = tls10_ctx(ciphers).wrap_socket(c.sock,
                                                suppress_ragged_eofs=False)
        c.sock = tls
        self.assertEqual((tls.version(), tls.cipher()[0]),
                         ("TLSv1", SUITE_10[0]))
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY_TLS)
        self.assertEqual(c.cmd("MAIL FROM:<gw@esa.lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<user@ex2013.lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send("Subject: tls1.0\r\n\r\nold TLS\r\n.\r\n")
        final = c.reply()
        self.assertEqual(len(final), 1, final)
        self.assertRegex(final[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.closed(sid)
        tls.close()
        return sid

    def test_openssl3_default_client_gets_no_server_hello(self):
        c, sid = self.plain_starttls()
        with self.assertRaises(ssl.SSLEOFError) as cm:
            tls_ctx().wrap_socket(c.sock, suppress_ragged_eofs=False)
        self.assertIn("EOF occurred", str(cm.exception))
        self.assert_dropped(sid)
        # The server is still there: a TLS 1.0 client delivers right after.
        self.deliver_tls10()
        self.assertEqual(len(self.srv.messages()), 1)

    def test_no_byte_then_fin_on_the_wire(self):
        """Raw: after the ClientHello (TLS 1.2 + 1.3, OpenSSL 3 defaults)
        the server sends nothing at all and then a FIN, not an RST.

        Only a hello that lists its versions (supported_versions, RFC 8446
        4.2.1) can say "not TLS 1.0". A legacy hello (a client capped at
        TLS 1.2 or 1.1 sends none) offers every version up to its
        legacy_version (RFC 5246 E.1), TLS 1.0 included, so the server
        answers it in TLS 1.0 and the client is the one that gives up:
        that is not the drop tested here."""
        for name, ctx in (("default", tls_ctx()),
                          ("TLS 1.3 only", tls_ctx(None,
                                                   ssl.TLSVersion.TLSv1_3,
                                                   ssl.TLSVersion.TLSv1_3))):
            with self.subTest(client=name):
                c, sid = self.plain_starttls()
                out = ssl.MemoryBIO()
                obj = ctx.wrap_bio(ssl.MemoryBIO(), out)
                with self.assertRaises(ssl.SSLWantReadError):
                    obj.do_handshake()
                c.send(out.read())
                self.assertEqual(ending(c.sock), ("fin", b""))
                c.close()
                self.assert_dropped(sid)
                self.assertIsNone(self.srv.proc.poll(), self.srv.log())

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_s_client_tls12_and_up_fails(self):
        # openssl#28284's client: OpenSSL 3 offering TLS 1.2 and 1.3 only.
        # (Debian 12's s_client with no options also offers TLS 1.0/1.1;
        # then the server answers in TLS 1.0 and the client itself aborts
        # with internal_error over the SHA-1 signature, FACTS.md 2.)
        cp = subprocess.run(
            ["openssl", "s_client", "-starttls", "smtp", "-connect",
             "127.0.0.1:%d" % self.srv.port, "-no_tls1", "-no_tls1_1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertNotEqual(cp.returncode, 0, out)
        self.assertIn("no peer certificate available", out)
        self.assertIn("unexpected eof while reading", out)
        self.assertNotIn("alert", out.lower())
        self.assert_dropped(1)

    def test_tls10_client_delivers(self):
        sid = self.deliver_tls10()
        msgs = self.srv.messages()
        self.assertEqual(len(msgs), 1)
        data, env = msgs[0]
        self.assertEqual(data, b"Subject: tls1.0\r\n\r\nold TLS\r\n")
        self.assertEqual(env["profile"], "exchange2013-tls10")
        self.assertEqual(env["tls"], {"version": "TLSv1",
                                      "cipher": SUITE_10[1]})
        self.assertIn("handshake done: TLSv1 " + SUITE_10[1],
                      self.tls_texts(sid))

    def test_tls10_default_string_delivers(self):
        """The profile's own "Try it" line (-tls1 -cipher DEFAULT:@SECLEVEL=0)
        delivers: OpenSSL's DEFAULT offers DHE-RSA-AES256-SHA, which only
        the scenario exchange2013-cscwh48138 cuts; no rule is inherited."""
        sid = self.deliver_tls10("DEFAULT")
        self.assertEqual(self.closed(sid), "fin (client sent QUIT)")
        self.assertEqual([e for e in self.events_of(sid)
                          if e["dir"] == "rule"], [])
        self.assertEqual(len(self.srv.new_files()), 1)

    @unittest.skipUnless(have("sslscan"), "sslscan not installed")
    def test_sslscan_versions(self):
        cp = subprocess.run(
            ["sslscan", "--starttls-smtp", "--no-colour",
             "127.0.0.1:%d" % self.srv.port],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=120)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertNotIn("ERROR", out)
        protos = dict(re.findall(
            r"^(SSLv[23]|TLSv1\.[0-3])\s+(enabled|disabled)$", out, re.M))
        self.assertEqual(protos, {"SSLv2": "disabled", "SSLv3": "disabled",
                                  "TLSv1.0": "enabled", "TLSv1.1": "disabled",
                                  "TLSv1.2": "disabled",
                                  "TLSv1.3": "disabled"}, out)
        accepted = re.findall(
            r"^(?:Preferred|Accepted)\s+(TLSv1\.[0-3])\s+\d+ bits\s+(\S+)",
            out, re.M)
        self.assertEqual(accepted, [
            ("TLSv1.0", "ECDHE-RSA-AES256-SHA"),
            ("TLSv1.0", "ECDHE-RSA-AES128-SHA"),
            ("TLSv1.0", "DHE-RSA-AES256-SHA"),
            ("TLSv1.0", "DHE-RSA-AES128-SHA"),
            ("TLSv1.0", "AES256-SHA"),
            ("TLSv1.0", "AES128-SHA")], out)


if __name__ == "__main__":
    unittest.main()
