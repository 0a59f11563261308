"""exchange2013-cscwh48138: Cisco bug CSCwh48138 as the scenario profile
reproduces it (FACTS.md 3), on the wire, with Python ssl, openssl s_client,
swaks and curl against the real binary.

The scenario's rule: when the ClientHello offers one of nine suites, the
handshake completes and the server then sends a bare TCP FIN -- no TLS
alert, no close_notify. Python tells these apart: a FIN without
close_notify is ssl.SSLEOFError ("EOF occurred in violation of protocol")
when the socket is wrapped with suppress_ragged_eofs=False; close_notify
would be an empty read, an alert an SSLError naming it, an RST a
ConnectionResetError. The raw variant (ssl.MemoryBIO) also checks that not
one byte arrives after the handshake. The seed's workaround string offers
none of the nine and delivers.

What stays exchange2013's (banner, EHLO before TLS, Schannel's choice of
suite) is written out literally from FACTS.md; the EHLO reply inside TLS
is left to exchange2013's own tests (only its last line, "250 XRDST", and
the absence of STARTTLS are checked here). The stock clients (msmtp, Exim,
nodemailer...) are in test_clients.py.
"""
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import ending, PROFILES, ServerTest  # noqa: E402
from clients import (BASE, PROMPT, WORKAROUND, Piped, need,  # noqa: E402
                     tls_context)

PROFILE = "exchange2013-cscwh48138"
ARGS = ["--profile-path", PROFILES]

from exchange2013 import BANNER_RE, EHLO_REPLY, STARTTLS_READY  # noqa: E402
MAIL_OK = "250 2.1.0 Sender OK"                              # FACTS.md 1
RCPT_OK = "250 2.1.5 Recipient OK"                           # FACTS.md 1
DATA_START = "354 Start mail input; end with <CRLF>.<CRLF>"  # FACTS.md 1
DATA_OK_RE = re.compile(                                     # FACTS.md 1
    r"250 2\.6\.0 <[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{12}@ex2013\.lab\.test> \[InternalId=[0-9]+, "
    r"Hostname=ex2013\.lab\.test\] Queued mail for delivery\Z")
QUIT = "221 2.0.0 Service closing transmission channel"      # FACTS.md 1

FAILING = {"prompt": PROMPT, "base": BASE}

# What Schannel 2012 R2 picks from every one of these strings: the first
# suite of its order (FACTS.md 2) -- with TLS 1.2, the SHA384 ECDHE suite.
SUITE_12 = ("ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384")
# With TLS 1.0/1.1 (no SHA-2 suites), the first CBC_SHA one.
SUITE_10 = ("ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")


def tls_ctx(ciphers=None, minimum=None, maximum=ssl.TLSVersion.TLSv1_2):
    return tls_context(ciphers, minimum, maximum)


def swaks_server_lines(out):
    """The server's lines from a swaks transcript, without the prefix."""
    return [m.group(1) for m in
            (re.match(r"<(?:-|~|\*\*|\*~) ? ?(.*)\Z", line)
             for line in out.splitlines()) if m]


class Cscwh48138Tls(ServerTest):

    def setUp(self):
        super().setUp()
        self.sessions = {}

    def tearDown(self):
        # A server that died during the test (a crash: exit -11 is SIGSEGV)
        # is a failure even if no sanitizer report was written.
        dead = [(srv.proc.returncode, srv.log()[-3000:])
                for srv in self.servers
                if srv.proc.poll() is not None and not srv.stderr.closed]
        super().tearDown()
        for status, log in dead:
            self.fail("smtp-mimic died during the test (exit %d):\n%s"
                      % (status, log))

    def start_ex(self, **kw):
        srv = self.start(PROFILE, args=ARGS, **kw)
        self.sessions[srv] = 0
        return srv

    def plain_starttls(self, srv, extra=b""):
        """Connect, EHLO, STARTTLS (plus extra bytes in the same send);
        returns (client, session number) with the 220 read."""
        self.sessions[srv] += 1
        c = srv.connect()
        self.assertRegex(c.line(), BANNER_RE)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        c.send(b"STARTTLS\r\n" + extra)
        self.assertEqual(c.reply(), [STARTTLS_READY])
        self.assertEqual(c.buf, b"")
        return c, self.sessions[srv]

    def wrap(self, c, ctx):
        """Handshake over the client's socket; the client then talks SMTP
        inside TLS (c.cmd etc. use the SSLSocket)."""
        tls = ctx.wrap_socket(c.sock, suppress_ragged_eofs=False)
        c.sock = tls
        return tls

    def raw_handshake(self, c, ctx):
        """Handshake through memory BIOs, reading the socket ourselves, so
        that the bytes after the handshake can be seen as they are."""
        inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(inc, out)
        c.sock.settimeout(10)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = out.read()
                if pending:
                    c.sock.sendall(pending)
                chunk = c.sock.recv(65536)
                if not chunk:
                    inc.write_eof()
                else:
                    inc.write(chunk)
        pending = out.read()
        if pending:
            c.sock.sendall(pending)
        return obj, inc

    def events_of(self, srv, session):
        return [e for e in srv.events() if e["session"] == session]

    def wait_closed(self, srv, session):
        return srv.wait_event(lambda e: e["session"] == session
                              and e["dir"] == "close")

    def tls_texts(self, srv, session):
        return [e["text"] for e in self.events_of(srv, session)
                if e["dir"] == "tls"]

    def assert_cscwh48138(self, srv, session, version="TLSv1.2",
                          suite=SUITE_12[1]):
        """The transcript of a session cut by the rule."""
        close = self.wait_closed(srv, session)
        self.assertEqual(close["text"], "fin (CSCwh48138)", srv.log())
        evs = self.events_of(srv, session)
        rules = [e for e in evs if e["dir"] == "rule"]
        self.assertEqual([e.get("rule") for e in rules], ["CSCwh48138"], evs)
        self.assertIn("handshake done: %s %s" % (version, suite),
                      self.tls_texts(srv, session))
        # Nothing was said inside TLS: no C/S line after the 220.
        after = [e for e in evs if e["dir"] in ("C", "S")]
        self.assertEqual(after[-1]["text"], STARTTLS_READY, after)

    def assert_delivered_tls(self, srv, n=1, version="TLSv1.2",
                             suite=SUITE_12[1]):
        msgs = srv.messages()
        self.assertEqual(len(msgs), n, srv.log())
        for _, env in msgs:
            self.assertEqual(env["profile"], PROFILE)
            self.assertEqual(env["tls"], {"version": version,
                                          "cipher": suite})
        return msgs

    def deliver_inside(self, c):
        """EHLO again inside TLS, one message, QUIT."""
        ehlo = c.cmd("EHLO client.lab.test")
        self.assertEqual(ehlo[-1], "250 XRDST", ehlo)
        self.assertNotIn("250-STARTTLS", ehlo)   # RFC 3207 4.2
        self.assertEqual(c.cmd("MAIL FROM:<gw@esa.lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<user@ex2013.lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send("Subject: tls\r\n\r\nover TLS\r\n.\r\n")
        final = c.reply()
        self.assertEqual(len(final), 1, final)
        self.assertRegex(final[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def test_cscwh48138_python_fin_after_handshake(self):
        """FACTS.md 3: strings 1 and 2 complete the handshake, then the
        server sends a bare FIN (SSLEOFError; no alert, no close_notify)."""
        srv = self.start_ex()
        for name, ciphers in FAILING.items():
            with self.subTest(string=name):
                c, sid = self.plain_starttls(srv)
                tls = self.wrap(c, tls_ctx(ciphers))
                self.assertEqual(tls.version(), "TLSv1.2")
                self.assertEqual(tls.cipher()[0], SUITE_12[0])
                with self.assertRaises(ssl.SSLEOFError) as cm:
                    tls.recv(4096)
                self.assertIn("EOF occurred in violation of protocol",
                              str(cm.exception))
                tls.close()
                self.assert_cscwh48138(srv, sid)
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])

    def test_cscwh48138_wire_no_byte_after_handshake(self):
        """The same, seen raw: after the client's last handshake flight the
        server sends not one byte (no alert record, no close_notify) and
        ends with a FIN, not an RST."""
        srv = self.start_ex()
        for name, ciphers in FAILING.items():
            with self.subTest(string=name):
                c, sid = self.plain_starttls(srv)
                obj, inc = self.raw_handshake(c, tls_ctx(ciphers))
                self.assertEqual(obj.version(), "TLSv1.2")
                self.assertEqual(obj.cipher()[0], SUITE_12[0])
                self.assertEqual(ending(c.sock), ("fin", b""))
                inc.write_eof()
                with self.assertRaises(ssl.SSLEOFError):
                    obj.read(4096)
                c.close()
                self.assert_cscwh48138(srv, sid)
        self.assertEqual(srv.new_files(), [])

    def test_cscwh48138_workaround_delivers_python(self):
        """FACTS.md 3: the workaround string delivers over TLS."""
        srv = self.start_ex()
        c, sid = self.plain_starttls(srv)
        tls = self.wrap(c, tls_ctx(WORKAROUND))
        self.assertEqual((tls.version(), tls.cipher()[0]),
                         ("TLSv1.2", SUITE_12[0]))
        self.deliver_inside(c)
        # QUIT: the server ends the session with a FIN (after close_notify
        # or not: that is not the point here), never an RST.
        self.assertNotEqual(self.wait_closed(srv, sid)["text"][:3], "rst")
        tls.close()
        self.assert_delivered_tls(srv)
        evs = self.events_of(srv, sid)
        self.assertEqual([e for e in evs if e["dir"] == "rule"], [])
        self.assertIn("handshake done: TLSv1.2 " + SUITE_12[1],
                      self.tls_texts(srv, sid))

    def want(self, p, pattern, timeout=10):
        m = p.wait_for(pattern, timeout)
        self.assertIsNotNone(m, "%r not in s_client output:\n%s"
                             % (pattern, p.text()))
        return m

    def s_client(self, srv, ciphers, *extra):
        p = Piped(["openssl", "s_client", "-starttls", "smtp",
                   "-connect", "127.0.0.1:%d" % srv.port,
                   "-cipher", ciphers, "-no_tls1_3", "-ign_eof"]
                  + list(extra))
        self.addCleanup(p.kill)
        return p

    def test_s_client_cscwh48138(self):
        need(self, "openssl")
        srv = self.start_ex()
        for name, ciphers in FAILING.items():
            with self.subTest(string=name):
                self.sessions[srv] += 1
                sid = self.sessions[srv]
                p = self.s_client(srv, ciphers)
                self.want(p, r"^New, TLSv1\.2, Cipher is %s$" % SUITE_12[0])
                # s_client sends nothing; the server cuts the session.
                rc, out = p.finish()
                self.assertIsNotNone(rc, "s_client did not end:\n" + out)
                self.assertNotEqual(rc, 0, out)
                self.assertIn("unexpected eof while reading", out)
                self.assertNotIn("alert", out.lower())
                self.assert_cscwh48138(srv, sid)
        self.assertEqual(srv.new_files(), [])

    def test_s_client_workaround_delivers(self):
        need(self, "openssl")
        srv = self.start_ex()
        p = self.s_client(srv, WORKAROUND)
        self.want(p, r"^New, TLSv1\.2, Cipher is %s$" % SUITE_12[0])
        self.want(p, r"^---\n")
        steps = [("EHLO client.lab.test", r"^250 XRDST\r?$"),
                 ("MAIL FROM:<gw@esa.lab.test>", r"^250 2\.1\.0 Sender OK"),
                 ("RCPT TO:<user@ex2013.lab.test>", r"^250 2\.1\.5 Recipient"),
                 ("DATA", r"^354 Start mail input"),
                 ("Subject: s_client\r\n\r\nhi\r\n.", r"^250 2\.6\.0 "),
                 ("QUIT", r"^221 2\.0\.0 Service closing")]
        for line, want in steps:
            p.send(line + "\r\n")
            self.want(p, want)
        rc, out = p.finish()
        # After STARTTLS the EHLO reply has no STARTTLS line.
        tls_part = out.split("Cipher is", 1)[1]
        self.assertIn("250 XRDST", tls_part)
        self.assertNotIn("250-STARTTLS", tls_part)
        self.assertRegex(out, re.compile(DATA_OK_RE.pattern[:-2], re.M))
        msgs = self.assert_delivered_tls(srv)
        self.assertEqual(msgs[0][0], b"Subject: s_client\r\n\r\nhi\r\n")

    def swaks(self, srv, ciphers):
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port,
             "--tls", "--tls-cipher", ciphers,
             "--helo", "esa.lab.test", "--from", "gw@esa.lab.test",
             "--to", "user@ex2013.lab.test",
             "--data", "Subject: swaks\\n\\nhello\\n", "--timeout", "30"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        return cp.returncode, cp.stdout.decode("utf-8", "replace")

    def test_swaks_prompt_string_fails(self):
        need(self, "swaks")
        srv = self.start_ex()
        rc, out = self.swaks(srv, PROMPT)
        self.assertNotEqual(rc, 0, out)
        self.assertIn("=== TLS started with cipher TLSv1.2:%s:256"
                      % SUITE_12[0], out)
        self.assertIn("*** Remote host closed connection unexpectedly.", out)
        # The last thing the server said was the STARTTLS 220, in clear.
        self.assertEqual(swaks_server_lines(out)[-1], STARTTLS_READY)
        self.assert_cscwh48138(srv, 1)
        self.assertEqual(srv.new_files(), [])

    def test_swaks_workaround_delivers(self):
        need(self, "swaks")
        srv = self.start_ex()
        rc, out = self.swaks(srv, WORKAROUND)
        self.assertEqual(rc, 0, out)
        self.assertIn("=== TLS started with cipher TLSv1.2:%s:256"
                      % SUITE_12[0], out)
        got = swaks_server_lines(out)
        # banner, EHLO (13), 220, EHLO inside TLS (exchange2013's tests
        # check its lines), MAIL, RCPT, DATA, end of data, QUIT.
        self.assertRegex(got[0], BANNER_RE)
        self.assertEqual(got[1:14], EHLO_REPLY)
        self.assertEqual(got[14], STARTTLS_READY)
        self.assertEqual(got[-6], "250 XRDST")
        self.assertNotIn("250-STARTTLS", got[15:-5])
        self.assertEqual(got[-5:-2], [MAIL_OK, RCPT_OK, DATA_START])
        self.assertRegex(got[-2], DATA_OK_RE)
        self.assertEqual(got[-1], QUIT)
        msgs = self.assert_delivered_tls(srv)
        self.assertEqual(msgs[0][1]["helo"], "esa.lab.test")

    def curl(self, srv, ciphers):
        with tempfile.NamedTemporaryFile("wb", suffix=".eml",
                                         delete=False) as f:
            f.write(b"Subject: curl\r\n\r\nhello from curl\r\n")
        self.addCleanup(os.unlink, f.name)
        cp = subprocess.run(
            ["curl", "-sS", "--ssl-reqd", "--insecure", "--ciphers", ciphers,
             "--tls-max", "1.2", "--max-time", "30",
             # the URL path is the EHLO domain; curl would use the temp
             # file name, whose "_" an RFC 5321 server rightly refuses
             "smtp://127.0.0.1:%d/client.lab.test" % srv.port,
             "--mail-from", "a@b.test", "--mail-rcpt", "c@ex2013.lab.test",
             "-T", f.name],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        return cp.returncode, cp.stdout.decode("utf-8", "replace")

    def test_curl_prompt_string_fails(self):
        need(self, "curl")
        srv = self.start_ex()
        rc, out = self.curl(srv, PROMPT)
        self.assertNotEqual(rc, 0, out)
        self.assert_cscwh48138(srv, 1)
        self.assertEqual(srv.new_files(), [])

    def test_curl_workaround_delivers(self):
        need(self, "curl")
        srv = self.start_ex()
        rc, out = self.curl(srv, WORKAROUND)
        self.assertEqual(rc, 0, out)
        msgs = self.assert_delivered_tls(srv)
        self.assertEqual(msgs[0][0], b"Subject: curl\r\n\r\nhello from curl\r\n")
        self.assertEqual(msgs[0][1]["rcpt_to"], ["c@ex2013.lab.test"])

    def test_tls10_and_tls11_clients(self):
        """FACTS.md 2: 2012 R2 enables TLS 1.0 and 1.1. With SHA-2 suites out
        of reach, Schannel's order gives ECDHE-RSA-AES256-SHA. OpenSSL's
        DEFAULT offers DHE-RSA-AES256-SHA, so CSCwh48138 still cuts it; the
        workaround string (at security level 0) delivers."""
        srv = self.start_ex()
        versions = [(ssl.TLSVersion.TLSv1, "TLSv1"),
                    (ssl.TLSVersion.TLSv1_1, "TLSv1.1")]
        for v, vname in versions:
            with self.subTest(version=vname, string="DEFAULT"):
                c, sid = self.plain_starttls(srv)
                tls = self.wrap(c, tls_ctx("DEFAULT:@SECLEVEL=0", v, v))
                self.assertEqual((tls.version(), tls.cipher()[0]),
                                 (vname, SUITE_10[0]))
                with self.assertRaises(ssl.SSLEOFError):
                    tls.recv(4096)
                tls.close()
                self.assert_cscwh48138(srv, sid, vname, SUITE_10[1])
            with self.subTest(version=vname, string="workaround"):
                c, sid = self.plain_starttls(srv)
                tls = self.wrap(c, tls_ctx(WORKAROUND + ":@SECLEVEL=0", v, v))
                self.assertEqual((tls.version(), tls.cipher()[0]),
                                 (vname, SUITE_10[0]))
                self.deliver_inside(c)
                tls.close()
        msgs = srv.messages()
        self.assertEqual(sorted(env["tls"]["version"] for _, env in msgs),
                         ["TLSv1", "TLSv1.1"])
        for _, env in msgs:
            self.assertEqual(env["tls"]["cipher"], SUITE_10[1])

    def test_sslv2_format_client_hello(self):
        """An SSLv2-compatible CLIENT-HELLO asking for TLS 1.0 (RFC 5246
        E.2), as old clients send it. Schannel 2012 R2 and OpenSSL both
        accept it: the server answers with a TLS 1.0 ServerHello choosing
        by its own order (DHE-RSA-AES256-SHA before AES256-SHA). The hello
        offers DHE-RSA-AES256-SHA (spec 0x000039), so the CSCwh48138 rule
        must see it as offered, like in a TLS-format hello."""
        # 2-byte header, msg type 1, version 3.1, 9 bytes of cipher specs
        # (three 3-byte specs), no session id, a 16-byte challenge.
        body = (b"\x01\x03\x01\x00\x09\x00\x00\x00\x10"
                b"\x00\x00\x39\x00\x00\x35\x00\x00\xff" + bytes(range(16)))
        srv = self.start_ex()
        c, sid = self.plain_starttls(srv)
        c.send(bytes([0x80, len(body)]) + body)
        flight = b""
        c.sock.settimeout(10)
        while len(flight) < 5 + 4 + 2 + 32 + 1:
            chunk = c.sock.recv(65536)
            self.assertTrue(chunk, flight)
            flight += chunk
        # Record: handshake, TLS 1.0; message: ServerHello, version 3.1.
        self.assertEqual(flight[:3], b"\x16\x03\x01", flight[:16].hex())
        self.assertEqual(flight[5], 2)
        self.assertEqual(flight[9:11], b"\x03\x01")
        sid_len = flight[43]
        while len(flight) < 44 + sid_len + 2:
            flight += c.sock.recv(65536)
        self.assertEqual(flight[44 + sid_len:46 + sid_len], b"\x00\x39")
        # We give up here: FIN in, FIN out.
        c.sock.shutdown(socket.SHUT_WR)
        how, _ = ending(c.sock)
        self.assertEqual(how, "fin")
        c.close()
        self.wait_closed(srv, sid)
        hello = [t for t in self.tls_texts(srv, sid)
                 if t.startswith("ClientHello")]
        self.assertEqual(hello, ["ClientHello TLSv1 suites: "
                                 "TLS_DHE_RSA_WITH_AES_256_CBC_SHA, "
                                 "TLS_RSA_WITH_AES_256_CBC_SHA, "
                                 "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"])
        self.assertEqual([e.get("rule") for e in self.events_of(srv, sid)
                          if e["dir"] == "rule"], ["CSCwh48138"])


if __name__ == "__main__":
    unittest.main()
