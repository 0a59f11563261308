"""TLS on the standard profile: STARTTLS (RFC 3207) and implicit TLS
(--listen PORT/tls), with real clients and real handshakes (Python's ssl
and smtplib, openssl s_client, curl); the certificate flags; every TLS rule
action and no_shared_cipher setting from fixture profiles (tls_*.yaml); and
clients that stall or vanish in the middle of a handshake.

Each test asserts the exact SMTP replies, the negotiated version and suite,
and how the connection ended: FIN, RST, a TLS alert, or close_notify. The
rule tests run the client over memory BIOs (TLSConn) so that the raw bytes
the server sent after STARTTLS are visible too ("no ServerHello")."""
import os
import re
import smtplib
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest, free_port, have, profile_args, run_cli  # noqa: E402

BANNER = ["220 mx.lab.test ESMTP smtp-mimic"]
EHLO_TLS = [
    "250-mx.lab.test",
    "250-PIPELINING",
    "250-SIZE 10485760",
    "250-ENHANCEDSTATUSCODES",
    "250-8BITMIME",
    "250-SMTPUTF8",
    "250-DSN",
    "250-CHUNKING",
    "250 AUTH PLAIN LOGIN",
]
# Before TLS the last keyword is STARTTLS; once TLS is up it is gone.
EHLO_PLAIN = EHLO_TLS[:-1] + ["250-AUTH PLAIN LOGIN", "250 STARTTLS"]
READY = ["220 2.0.0 Ready to start TLS"]
TLS_ALREADY = ["503 5.5.1 Error: TLS already active"]
SYNTAX_ERROR = ["501 5.5.4 Syntax error in parameters or arguments"]
NEED_HELO = ["503 5.5.1 Error: send HELO/EHLO first"]
NEED_MAIL = ["503 5.5.1 Error: need MAIL command"]
MAIL_OK = ["250 2.1.0 Ok"]
RCPT_OK = ["250 2.1.5 Ok"]
DATA_START = ["354 End data with <CR><LF>.<CR><LF>"]
AUTH_OK = ["235 2.7.0 Authentication Succeeded"]
QUIT = ["221 2.0.0 Bye"]
QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$")
# base64("\0test\0test"): AUTH PLAIN with the standard profile's credential
PLAIN_TEST = "AHRlc3QAdGVzdA=="

# TLS record content types
REC_ALERT, REC_HANDSHAKE = 21, 22


def client_ctx(minv=None, maxv=None, ciphers=None):
    """A client context that accepts the server's self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minv is not None:
        ctx.minimum_version = minv
    if maxv is not None:
        ctx.maximum_version = maxv
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    return ctx


def tls12_ctx(ciphers=None):
    return client_ctx(maxv=ssl.TLSVersion.TLSv1_2, ciphers=ciphers)


def records(raw):
    """Split raw TLS bytes into (content type, payload) records."""
    out, i = [], 0
    while i + 5 <= len(raw):
        n = int.from_bytes(raw[i + 3:i + 5], "big")
        out.append((raw[i], raw[i + 5:i + 5 + n]))
        i += 5 + n
    return out


def client_hello_bytes(ctx=None, sni=None):
    """The bytes of a real ClientHello (from a handshake never finished)."""
    out = ssl.MemoryBIO()
    obj = (ctx or client_ctx()).wrap_bio(ssl.MemoryBIO(), out,
                                         server_hostname=sni)
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def pem_to_der(path):
    with open(path) as f:
        return ssl.PEM_cert_to_DER_cert(f.read())


def der_subject(der):
    """`openssl x509 -subject` of a DER certificate, e.g. 'CN = x.test'."""
    out = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                          "-subject", "-nameopt", "oneline"],
                         input=der, stdout=subprocess.PIPE, check=True,
                         timeout=30)
    return out.stdout.decode().strip().split("=", 1)[1].strip()


class TLSConn:
    """A TLS client over an already-connected socket, through memory BIOs:
    the raw bytes the server sent (self.raw) and how TCP ended (self.tcp:
    None while open, "fin" or "rst") stay visible. Errors surface as
    Python's ssl exceptions (SSLEOFError: EOF without close_notify;
    SSLError with the alert's reason) or ConnectionResetError."""

    def __init__(self, sock, ctx=None, sni=None):
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        self.obj = (ctx or client_ctx()).wrap_bio(
            self.incoming, self.outgoing, server_hostname=sni)
        self.raw = b""
        self.tcp = None
        self.buf = b""

    def _flush(self):
        data = self.outgoing.read()
        if data:
            self.sock.sendall(data)

    def _pull(self):
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            self.tcp = "rst"
            raise
        if not chunk:
            self.tcp = "fin"
            self.incoming.write_eof()
            return
        self.raw += chunk
        self.incoming.write(chunk)

    def _run(self, op, *args):
        while True:
            try:
                result = op(*args)
            except ssl.SSLWantReadError:
                self._flush()
                self._pull()
                continue
            self._flush()
            return result

    def handshake(self):
        self._run(self.obj.do_handshake)

    def version(self):
        return self.obj.version()

    def cipher(self):
        return self.obj.cipher()[0]

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self._run(self.obj.write, data)

    def recv(self):
        return self._run(self.obj.read, 65536)

    def line(self):
        while b"\r\n" not in self.buf:
            chunk = self.recv()
            if not chunk:
                raise EOFError("close_notify; unread: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        self.send(text + "\r\n")
        return self.reply()

    def close_notify(self):
        """Send our close_notify; the server may answer with its own or
        just close."""
        try:
            self._run(self.obj.unwrap)
        except (ssl.SSLError, ConnectionError):
            pass

    def tcp_end(self, timeout=10):
        """After TLS is over: read raw TCP until it ends: 'fin' or 'rst'
        (or 'open'), and the raw bytes that still came."""
        if self.tcp:
            return self.tcp, b""
        self.sock.settimeout(timeout)
        data = b""
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    self.tcp = "fin"
                    return "fin", data
                data += chunk
        except ConnectionResetError:
            self.tcp = "rst"
            return "rst", data
        except socket.timeout:
            return "open", data

    def ending(self, timeout=10):
        """Read until the TLS session ends: 'close_notify' (a clean TLS
        close), 'eof' (TCP EOF without close_notify), 'rst', 'alert:REASON'
        or 'open'; plus the application data that came first."""
        self.sock.settimeout(timeout)
        data, self.buf = self.buf, b""
        try:
            while True:
                chunk = self.recv()
                if not chunk:  # SSL_ERROR_ZERO_RETURN: close_notify
                    return "close_notify", data
                data += chunk
        except ssl.SSLZeroReturnError:
            return "close_notify", data
        except ssl.SSLEOFError:
            return "eof", data
        except ConnectionResetError:
            return "rst", data
        except ssl.SSLError as e:
            return "alert:" + str(e.reason), data
        except socket.timeout:
            return "open", data


class TLSTest(ServerTest):
    """Shared steps: a plaintext session up to the 220 of STARTTLS, the
    transcript's TLS and rule events."""

    def starttls(self, srv, ehlo="client.test"):
        """Connect, EHLO, STARTTLS; returns the raw client, ready for the
        ClientHello (nothing unread)."""
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("EHLO " + ehlo), EHLO_PLAIN)
        self.assertEqual(c.cmd("STARTTLS"), READY)
        self.assertEqual(c.buf, b"")
        return c

    def tls(self, srv, ctx=None, sni=None, handshake=True):
        c = self.starttls(srv)
        t = TLSConn(c.sock, ctx, sni)
        if handshake:
            t.handshake()
        return c, t

    def wrap(self, c, ctx=None, sni=None):
        """Turn the harness client c into a TLS client (SSLSocket): its
        cmd()/reply() then run inside TLS."""
        c.sock = (ctx or client_ctx()).wrap_socket(
            c.sock, server_hostname=sni, suppress_ragged_eofs=False)
        c.sock.settimeout(10)
        return c.sock

    def tls_events(self, srv, session):
        return [e["text"] for e in srv.events()
                if e["session"] == session and e["dir"] == "tls"]

    def closed(self, srv, session=1):
        return srv.wait_event(lambda e: e["session"] == session
                              and e["dir"] == "close")["text"]

    def assert_handshake_done(self, srv, session, version, suite):
        want = "handshake done: %s %s" % (version, suite)
        srv.wait_event(lambda e: e["session"] == session
                       and e["dir"] == "tls" and e["text"] == want)
        self.assertEqual(self.tls_events(srv, session).count(want), 1)

    def assert_fired(self, srv, name, why, session=1):
        srv.wait_event(lambda e: e["dir"] == "rule" and e["rule"] == name)
        evs = [e for e in srv.events() if e["dir"] == "rule"]
        self.assertEqual([(e["session"], e["rule"], e["why"]) for e in evs],
                         [(session, name, why)])
        return evs[0]

    def assert_no_rule(self, srv):
        self.assertEqual([e for e in srv.events() if e["dir"] == "rule"], [])

    def deliver_inside(self, t):
        """EHLO, a transaction and QUIT inside TLS (t: TLSConn or Client)."""
        self.assertEqual(t.cmd("EHLO client.test"), EHLO_TLS)
        self.assertEqual(t.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(t.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(t.cmd("DATA"), DATA_START)
        t.send("Subject: t\r\n\r\nhello\r\n")
        (queued,) = t.cmd(".")
        self.assertRegex(queued, QUEUED)
        self.assertEqual(t.cmd("QUIT"), QUIT)


# --- 1. smtplib STARTTLS -------------------------------------------------

class Smtplib(TLSTest):
    def test_starttls_auth_sendmail_tls13(self):
        srv = self.start("standard")
        body = b"Subject: over TLS\r\n\r\nsecret\r\n"
        with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="py.test",
                          timeout=10) as s:
            self.assertEqual(s.ehlo()[0], 250)
            self.assertIn("starttls", s.esmtp_features)
            self.assertEqual(s.starttls(context=client_ctx()),
                             (220, b"2.0.0 Ready to start TLS"))
            self.assertEqual(s.sock.version(), "TLSv1.3")
            self.assertEqual(s.sock.cipher()[0], "TLS_AES_256_GCM_SHA384")
            code, text = s.ehlo()
            self.assertEqual(code, 250)
            self.assertEqual(text.decode(),
                             "\n".join(ln[4:] for ln in EHLO_TLS))
            self.assertNotIn("starttls", s.esmtp_features)
            self.assertEqual(s.login("test", "test"),
                             (235, b"2.7.0 Authentication Succeeded"))
            self.assertEqual(s.sendmail("a@lab.test", ["b@lab.test"], body),
                             {})
            self.assertEqual(s.quit(), (221, b"2.0.0 Bye"))
        (got, env), = srv.messages()
        self.assertEqual(got, body)
        self.assertEqual(env["tls"], {"version": "TLSv1.3",
                                      "cipher": "TLS_AES_256_GCM_SHA384"})
        self.assertEqual(env["auth_user"], "test")
        self.assertEqual(env["helo"], "py.test")
        self.assertEqual(env["mail_from"], "a@lab.test")
        self.assertEqual(env["rcpt_to"], ["b@lab.test"])
        self.assert_handshake_done(srv, 1, "TLSv1.3", "TLS_AES_256_GCM_SHA384")
        # The ClientHello is described before the handshake ends.
        tls = self.tls_events(srv, 1)
        self.assertTrue(tls[0].startswith("ClientHello "), tls)
        self.assertIn("TLS_AES_256_GCM_SHA384", tls[0])
        self.assertTrue(self.closed(srv).startswith("fin"))

    def test_starttls_tls12_client(self):
        srv = self.start("standard")
        with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="py.test",
                          timeout=10) as s:
            s.starttls(context=tls12_ctx())
            self.assertEqual(s.sock.version(), "TLSv1.2")
            # Server order: the first RSA suite of OpenSSL's DEFAULT.
            self.assertEqual(s.sock.cipher()[0],
                             "ECDHE-RSA-AES256-GCM-SHA384")
            self.assertEqual(s.sendmail("a@lab.test", ["b@lab.test"],
                                        b"Subject: t\r\n\r\nx\r\n"), {})
            s.quit()
        (_, env), = srv.messages()
        # IANA names in the envelope and transcript, not OpenSSL's.
        self.assertEqual(env["tls"], {
            "version": "TLSv1.2",
            "cipher": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"})
        self.assertIsNone(env["auth_user"])
        self.assert_handshake_done(srv, 1, "TLSv1.2",
                                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")

    def test_plaintext_delivery_has_no_tls_in_envelope(self):
        srv = self.start("standard")
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.sendmail("a@lab.test", ["b@lab.test"],
                       b"Subject: t\r\n\r\nx\r\n")
        (_, env), = srv.messages()
        self.assertIsNone(env["tls"])

    def test_default_certificate_names_the_hostname(self):
        srv = self.start("standard")
        c = self.starttls(srv)
        tls = self.wrap(c)
        self.assertEqual(der_subject(tls.getpeercert(binary_form=True)),
                         "CN = mx.lab.test")


# --- 2. implicit TLS -----------------------------------------------------

class ImplicitTLS(TLSTest):
    def start_both(self, profile="standard"):
        tport = free_port()
        srv = self.start(profile, listen=["127.0.0.1:{port}",
                                          "127.0.0.1:%d/tls" % tport])
        srv.wait_log("listening on 127.0.0.1:%d/tls" % tport)
        return srv, tport

    def test_smtp_ssl_banner_over_tls_and_delivery(self):
        srv, tport = self.start_both()
        body = b"Subject: implicit\r\n\r\nhello\r\n"
        # The constructor connects and requires the 220 (read over TLS);
        # its exact text is checked by the raw test below and the transcript.
        s = smtplib.SMTP_SSL("127.0.0.1", tport, context=client_ctx(),
                             timeout=10, local_hostname="py.test")
        try:
            self.assertEqual(s.sock.version(), "TLSv1.3")
            self.assertEqual(s.sock.cipher()[0], "TLS_AES_256_GCM_SHA384")
            code, text = s.ehlo()
            # TLS is already active: no STARTTLS keyword.
            self.assertEqual(text.decode(),
                             "\n".join(ln[4:] for ln in EHLO_TLS))
            self.assertEqual(s.docmd("STARTTLS"),
                             (503, b"5.5.1 Error: TLS already active"))
            self.assertEqual(s.sendmail("a@lab.test", ["b@lab.test"], body),
                             {})
            self.assertEqual(s.quit(), (221, b"2.0.0 Bye"))
        finally:
            s.close()
        (got, env), = srv.messages()
        self.assertEqual(got, body)
        self.assertEqual(env["server"], {"ip": "127.0.0.1", "port": tport})
        self.assertEqual(env["tls"], {"version": "TLSv1.3",
                                      "cipher": "TLS_AES_256_GCM_SHA384"})
        # The handshake comes first; the banner is the first thing said
        # inside TLS.
        self.assert_handshake_done(srv, 1, "TLSv1.3", "TLS_AES_256_GCM_SHA384")
        evs = [(e["dir"], e["text"]) for e in srv.events()
               if e["session"] == 1 and e["dir"] in ("tls", "S")]
        done = evs.index(("tls", "handshake done: TLSv1.3 "
                                 "TLS_AES_256_GCM_SHA384"))
        self.assertEqual(evs[done + 1], ("S", BANNER[0]))
        self.assertNotIn(("S", BANNER[0]), evs[:done])

    def test_raw_client_sees_only_tls_on_tls_listener(self):
        srv, tport = self.start_both()
        sock = socket.create_connection(("127.0.0.1", tport), timeout=10)
        try:
            t = TLSConn(sock)
            t.handshake()
            # The first server bytes are a ServerHello, not "220".
            recs = records(t.raw)
            self.assertEqual(recs[0][0], REC_HANDSHAKE)
            self.assertEqual(recs[0][1][0], 2)  # ServerHello
            self.assertEqual(t.reply(), BANNER)
            self.deliver_inside(t)
        finally:
            sock.close()
        self.assertEqual(len(srv.messages()), 1)

    def test_refusal_on_tls_listener_is_said_inside_tls(self):
        # Over max_sessions, a /tls client still gets the handshake it
        # reads first, then the 421 inside TLS (the way Postfix's smtpd in
        # wrapper mode refuses after its handshake), then FIN: plaintext
        # 421 bytes would only be a "wrong version number" to it.
        tport = free_port()
        srv = self.start("standard", listen=["127.0.0.1:{port}",
                                             "127.0.0.1:%d/tls" % tport],
                         args=["--max-sessions", "1"])
        srv.wait_log("listening on 127.0.0.1:%d/tls" % tport)
        held = srv.connect()
        self.assertEqual(held.reply(), BANNER)
        sock = socket.create_connection(("127.0.0.1", tport), timeout=10)
        try:
            t = TLSConn(sock)
            t.handshake()
            self.assertEqual(records(t.raw)[0][0], REC_HANDSHAKE)
            self.assertEqual(t.reply(), ["421 4.3.2 mx.lab.test Error: "
                                         "too many connections"])
            with self.assertRaises(ssl.SSLEOFError):
                t.recv()
            self.assertEqual(t.tcp, "fin")
        finally:
            sock.close()
        self.assertEqual(held.cmd("QUIT"), QUIT)

    def test_plain_listener_still_plain(self):
        srv, _ = self.start_both()
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_PLAIN)
        self.assertEqual(c.cmd("QUIT"), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))

    def test_tls_listener_needs_a_tls_profile(self):
        # esa has no tls: section: --listen P/tls cannot work.
        spec = "127.0.0.1:%d/tls" % free_port()
        try:
            cp = run_cli(["--profile", "esa"] + profile_args() +
                         ["--listen", spec, "--spool", "none"], timeout=5)
        except subprocess.TimeoutExpired:
            self.fail("smtp-mimic started a /tls listener for a profile "
                      "without TLS instead of exiting 1")
        self.assertEqual(cp.returncode, 1, cp.stderr)
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 1, cp.stderr)
        self.assertIn("--listen", lines[0])
        self.assertIn(spec, lines[0])


# --- 3. openssl s_client -------------------------------------------------

@unittest.skipUnless(have("openssl"), "openssl not installed")
class OpenSSLClient(TLSTest):
    def s_client(self, srv, *flags):
        cmd = ["openssl", "s_client", "-starttls", "smtp", "-name",
               "sclient.test", "-connect", "127.0.0.1:%d" % srv.port,
               "-brief", "-crlf", "-ign_eof"] + list(flags)
        return subprocess.run(cmd, input=b"EHLO sclient.test\nQUIT\n",
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=30)

    def check_session(self, srv, out, version, suite, iana=None):
        err = out.stderr.decode()
        self.assertIn("Protocol version: %s\n" % version, err)
        self.assertIn("Ciphersuite: %s\n" % suite, err)
        self.assertIn("Peer certificate: CN = mx.lab.test\n", err)
        self.assertEqual(out.stdout.decode().splitlines(),
                         EHLO_TLS + QUIT, err)
        self.assert_handshake_done(srv, 1, version, iana or suite)
        self.assertEqual(srv.session_events(1), [
            ("S", BANNER[0]), ("C", "EHLO sclient.test")] +
            [("S", ln) for ln in EHLO_PLAIN] + [
            ("C", "STARTTLS"), ("S", READY[0]),
            ("C", "EHLO sclient.test")] +
            [("S", ln) for ln in EHLO_TLS] + [
            ("C", "QUIT"), ("S", QUIT[0])])

    def test_tls13(self):
        srv = self.start("standard")
        out = self.s_client(srv, "-tls1_3")
        self.check_session(srv, out, "TLSv1.3", "TLS_AES_256_GCM_SHA384")

    def test_tls12(self):
        srv = self.start("standard")
        out = self.s_client(srv, "-tls1_2")
        self.check_session(srv, out, "TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384",
                           "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")

    def test_tls10_refused_with_protocol_version_alert(self):
        # standard: versions [tls1.2, tls1.3], no_shared_version: openssl.
        srv = self.start("standard")
        out = self.s_client(srv, "-tls1", "-cipher", "DEFAULT:@SECLEVEL=0")
        err = out.stderr.decode()
        self.assertNotEqual(out.returncode, 0, err)
        self.assertIn("tlsv1 alert protocol version", err)
        self.assertIn("SSL alert number 70", err)
        self.assertEqual(out.stdout, b"")
        srv.wait_event(lambda e: e["session"] == 1 and e["dir"] == "tls"
                       and e["text"] == "alert sent: fatal protocol version")
        self.assertTrue(self.closed(srv).startswith("fin"))
        self.assertFalse(any(t.startswith("handshake done")
                             for t in self.tls_events(srv, 1)))


# --- 4. curl --------------------------------------------------------------

@unittest.skipUnless(have("curl"), "curl not installed")
class Curl(TLSTest):
    def test_ssl_reqd_delivery(self):
        srv = self.start("standard")
        content = (b"From: a@b.test\r\nTo: c@d.test\r\nSubject: curl tls\r\n"
                   b"\r\nhi\r\n")
        path = os.path.join(srv.dir, "mail.txt")
        with open(path, "wb") as f:
            f.write(content)
        out = subprocess.run(
            ["curl", "-s", "-S", "--ssl-reqd", "--insecure",
             "smtp://127.0.0.1:%d/curl.test" % srv.port,
             "--mail-from", "a@b.test", "--mail-rcpt", "c@d.test",
             "-T", path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout)
        (body, env), = srv.messages()
        self.assertEqual(body, content)
        self.assertEqual(env["helo"], "curl.test")
        self.assertEqual(env["tls"], {"version": "TLSv1.3",
                                      "cipher": "TLS_AES_256_GCM_SHA384"})
        cmds = [t for d, t in srv.session_events(1, ("C",))]
        self.assertEqual(cmds[:2], ["EHLO curl.test", "STARTTLS"])
        self.assertEqual(cmds[2], "EHLO curl.test")


# --- 5. RFC 3207 ---------------------------------------------------------

class RFC3207(TLSTest):
    def test_session_reset_after_starttls(self):
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_PLAIN)
        # Authenticated before TLS: forgotten after it (RFC 3207 4.2).
        self.assertEqual(c.cmd("AUTH PLAIN " + PLAIN_TEST), AUTH_OK)
        self.assertEqual(c.cmd("STARTTLS foo"), SYNTAX_ERROR)
        self.assertEqual(c.cmd("STARTTLS"), READY)
        self.wrap(c)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), NEED_HELO)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_TLS)
        self.assertEqual(c.cmd("STARTTLS"), TLS_ALREADY)
        self.assertEqual(c.cmd("AUTH PLAIN " + PLAIN_TEST), AUTH_OK)
        self.assertEqual(c.transaction()[:3], [MAIL_OK, RCPT_OK, DATA_START])
        self.assertEqual(c.cmd("QUIT"), QUIT)
        (_, env), = srv.messages()
        self.assertEqual(env["auth_user"], "test")
        self.assertEqual(env["helo"], "client.test")

    def test_helo_is_forgotten_too(self):
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("HELO old.test"), ["250 mx.lab.test"])
        self.assertEqual(c.cmd("STARTTLS"), READY)
        self.wrap(c)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), NEED_HELO)
        self.assertEqual(c.cmd("HELO new.test"), ["250 mx.lab.test"])
        self.assertEqual(c.transaction()[0], MAIL_OK)
        self.assertEqual(c.cmd("QUIT"), QUIT)
        (_, env), = srv.messages()
        self.assertEqual(env["helo"], "new.test")

    def test_starttls_with_argument_is_a_syntax_error(self):
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_PLAIN)
        self.assertEqual(c.cmd("STARTTLS foo"), SYNTAX_ERROR)
        # Still plaintext: the session goes on.
        self.assertEqual(c.cmd("NOOP"), ["250 2.0.0 Ok"])
        self.assertEqual(c.cmd("QUIT"), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(self.tls_events(srv, 1), [])

    def test_pipelined_command_after_starttls_is_discarded(self):
        # CVE-2011-0411: plaintext pipelined after STARTTLS must never be
        # run inside TLS.
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_PLAIN)
        c.send("STARTTLS\r\nMAIL FROM:<evil@x>\r\n")
        self.assertEqual(c.reply(), READY)
        self.assertEqual(c.buf, b"")
        self.wrap(c)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_TLS)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), NEED_MAIL)
        self.assertEqual(c.cmd("QUIT"), QUIT)
        warns = [e["text"] for e in srv.events()
                 if e["session"] == 1 and e["dir"] == "warn"]
        self.assertEqual(len(warns), 1, warns)
        self.assertIn("discarded %d bytes" % len(b"MAIL FROM:<evil@x>\r\n"),
                      warns[0])
        self.assertNotIn(("C", "MAIL FROM:<evil@x>"), srv.session_events(1))
        self.assertEqual(srv.messages(), [])

    def test_quit_inside_tls_ends_with_close_notify(self):
        # RFC 8446 6.1 (and RFC 5246 7.2.1): a party closing its write side
        # sends close_notify first. After QUIT's 221 a well-behaved server
        # ends the TLS session cleanly, then FIN.
        srv = self.start("standard")
        c, t = self.tls(srv)
        self.assertEqual(t.cmd("EHLO client.test"), EHLO_TLS)
        self.assertEqual(t.cmd("QUIT"), QUIT)
        self.assertEqual(t.ending(), ("close_notify", b""))
        self.assertEqual(t.tcp_end(), ("fin", b""))

    def test_client_close_notify_then_eof(self):
        # A client that ends the TLS session itself (close_notify, then
        # FIN), as openssl s_client does on "Q": the server ends the
        # session and keeps serving.
        srv = self.start("standard")
        c = self.starttls(srv)
        tls = self.wrap(c)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_TLS)
        try:
            c.sock = tls.unwrap()  # sends close_notify
        except (ssl.SSLError, OSError):
            pass  # the server need not answer with its own close_notify
        c.sock.close()
        srv.wait_event(lambda e: e["session"] == 1 and e["dir"] == "close")
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.starttls(context=client_ctx())
            self.assertEqual(s.noop(), (250, b"2.0.0 Ok"))
        self.assertIsNone(srv.proc.poll(), srv.log())

    def test_client_close_notify_right_after_handshake(self):
        # The same close, before any command inside TLS: the client's
        # close_notify can arrive with its Finished.
        srv = self.start("standard")
        for _ in range(5):
            c = self.starttls(srv)
            t = TLSConn(c.sock)
            t.handshake()
            t.close_notify()
            c.sock.close()
        for n in range(1, 6):
            self.assertTrue(self.closed(srv, n).startswith("fin"))
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.starttls(context=client_ctx())
            self.assertEqual(s.noop(), (250, b"2.0.0 Ok"))
        self.assertIsNone(srv.proc.poll(), srv.log())


# --- 6. certificates -----------------------------------------------------

@unittest.skipUnless(have("openssl"), "openssl not installed")
class Certificates(TLSTest):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.mkdtemp(prefix="mimic-cert-")
        self.cert = os.path.join(self.tmp, "cert.pem")
        self.key = os.path.join(self.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-subj", "/CN=custom.test", "-days", "2",
                        "-keyout", self.key, "-out", self.cert],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True, timeout=60)

    def tearDown(self):
        super().tearDown()
        subprocess.run(["rm", "-rf", self.tmp], check=False)

    def cli(self, *args):
        return run_cli(["--profile", "standard"] + profile_args() +
                       ["--listen", "127.0.0.1:%d" % free_port(),
                        "--spool", "none"] + list(args), timeout=10)

    def test_cert_and_key_are_served(self):
        srv = self.start("standard", args=["--cert", self.cert,
                                           "--key", self.key])
        c = self.starttls(srv)
        tls = self.wrap(c)
        der = tls.getpeercert(binary_form=True)
        self.assertEqual(der, pem_to_der(self.cert))
        self.assertEqual(der_subject(der), "CN = custom.test")
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_TLS)
        self.assertEqual(c.cmd("QUIT"), QUIT)

    def test_cert_and_key_on_implicit_tls_listener(self):
        tport = free_port()
        srv = self.start("standard", args=["--cert", self.cert,
                                           "--key", self.key],
                         listen=["127.0.0.1:{port}",
                                 "127.0.0.1:%d/tls" % tport])
        srv.wait_log("listening on 127.0.0.1:%d/tls" % tport)
        with socket.create_connection(("127.0.0.1", tport), timeout=10) as s:
            with client_ctx().wrap_socket(s) as tls:
                self.assertEqual(tls.getpeercert(binary_form=True),
                                 pem_to_der(self.cert))

    def test_cert_without_key_is_a_usage_error(self):
        cp = self.cli("--cert", self.cert)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertIn("--key", cp.stderr)
        cp = self.cli("--key", self.key)
        self.assertEqual(cp.returncode, 2, cp.stderr)
        self.assertIn("--cert", cp.stderr)

    def assert_startup_error_naming(self, cp, path):
        self.assertEqual(cp.returncode, 1, cp.stderr)
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 1, cp.stderr)
        self.assertIn(path, lines[0])
        self.assertNotIn("listening on", cp.stderr)

    def test_bad_key_file_fails_startup(self):
        bad = os.path.join(self.tmp, "bad-key.pem")
        with open(bad, "w") as f:
            f.write("not a key\n")
        self.assert_startup_error_naming(
            self.cli("--cert", self.cert, "--key", bad), bad)

    def test_missing_key_file_fails_startup(self):
        missing = os.path.join(self.tmp, "missing-key.pem")
        self.assert_startup_error_naming(
            self.cli("--cert", self.cert, "--key", missing), missing)

    def test_bad_cert_file_fails_startup(self):
        bad = os.path.join(self.tmp, "bad-cert.pem")
        with open(bad, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nAAAA\n"
                    "-----END CERTIFICATE-----\n")
        self.assert_startup_error_naming(
            self.cli("--cert", bad, "--key", self.key), bad)

    def test_key_that_does_not_match_cert_fails_startup(self):
        other = os.path.join(self.tmp, "other-key.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA",
                        "-pkeyopt", "rsa_keygen_bits:2048", "-out", other],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True, timeout=60)
        self.assert_startup_error_naming(
            self.cli("--cert", self.cert, "--key", other), other)

    def test_write_cert(self):
        out = os.path.join(self.tmp, "written")
        os.mkdir(out)
        srv = self.start("standard", args=["--write-cert", out])
        self.assertEqual(sorted(os.listdir(out)), ["cert.pem", "key.pem"])
        self.assertEqual(stat.S_IMODE(os.stat(os.path.join(out, "key.pem"))
                                      .st_mode), 0o600)
        # The written certificate is the one served, and the key is its key.
        c = self.starttls(srv)
        tls = self.wrap(c)
        self.assertEqual(tls.getpeercert(binary_form=True),
                         pem_to_der(os.path.join(out, "cert.pem")))
        pub = [subprocess.run(cmd, stdout=subprocess.PIPE, check=True,
                              timeout=30).stdout for cmd in (
            ["openssl", "x509", "-in", os.path.join(out, "cert.pem"),
             "-noout", "-pubkey"],
            ["openssl", "pkey", "-in", os.path.join(out, "key.pem"),
             "-pubout"])]
        self.assertEqual(pub[0], pub[1])
        self.assertEqual(c.cmd("QUIT"), QUIT)
        # The written pair works as --cert/--key.
        srv2 = self.start("standard", args=[
            "--cert", os.path.join(out, "cert.pem"),
            "--key", os.path.join(out, "key.pem")])
        c2 = self.starttls(srv2)
        self.assertEqual(self.wrap(c2).getpeercert(binary_form=True),
                         pem_to_der(os.path.join(out, "cert.pem")))

    def test_no_key_written_without_write_cert(self):
        before = set(os.listdir(os.getcwd()))
        srv = self.start("standard")
        c = self.starttls(srv)
        self.wrap(c)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO_TLS)
        c.transaction()
        self.assertEqual(c.cmd("QUIT"), QUIT)
        self.assertEqual(len(srv.messages()), 1)
        pems = [os.path.join(d, f) for d, _, files in os.walk(srv.dir)
                for f in files if f.endswith((".pem", ".key", ".crt"))]
        self.assertEqual(pems, [])
        new = set(os.listdir(os.getcwd())) - before
        self.assertFalse([f for f in new if f.endswith(".pem")], new)

    def test_write_cert_without_tls_profile(self):
        out = os.path.join(self.tmp, "esa")
        os.mkdir(out)
        cp = run_cli(["--profile", "esa"] + profile_args() +
                     ["--listen", "127.0.0.1:%d" % free_port(),
                      "--spool", "none", "--write-cert", out], timeout=10)
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertEqual(len(cp.stderr.splitlines()), 1, cp.stderr)
        self.assertIn("--write-cert", cp.stderr)
        self.assertEqual(os.listdir(out), [])


# --- 7. TLS rule actions -------------------------------------------------

class HelloRules(TLSTest):
    """tls_hello.yaml: one tls_client_hello rule per SNI."""

    def test_rst_at_client_hello(self):
        srv = self.start("tls_hello")
        c, t = self.tls(srv, sni="rst.hello.test", handshake=False)
        with self.assertRaises(ConnectionResetError):
            t.handshake()
        self.assertEqual(t.raw, b"")  # no ServerHello, nothing at all
        self.assertEqual(t.tcp, "rst")
        self.assert_fired(srv, "hello-rst",
                          "fixture: reset the connection at the ClientHello")
        self.assertTrue(self.closed(srv).startswith("rst"))
        self.assertFalse(any(x.startswith("handshake done")
                             for x in self.tls_events(srv, 1)))

    def test_fin_at_client_hello(self):
        srv = self.start("tls_hello")
        c, t = self.tls(srv, sni="fin.hello.test", handshake=False)
        with self.assertRaises(ssl.SSLEOFError):
            t.handshake()
        self.assertEqual(t.raw, b"")  # no alert, no ServerHello
        self.assertEqual(t.tcp, "fin")
        self.assert_fired(srv, "hello-fin",
                          "fixture: FIN at the ClientHello, nothing sent")
        self.assertTrue(self.closed(srv).startswith("fin"))

    def test_alert_at_client_hello(self):
        srv = self.start("tls_hello")
        c, t = self.tls(srv, sni="alert.hello.test", handshake=False)
        with self.assertRaises(ssl.SSLError) as cm:
            t.handshake()
        self.assertEqual(cm.exception.reason, "SSLV3_ALERT_HANDSHAKE_FAILURE")
        # Exactly one record: a fatal (2) handshake_failure (40) alert.
        self.assertEqual(records(t.raw), [(REC_ALERT, b"\x02\x28")])
        self.assertEqual(t.tcp_end(), ("fin", b""))
        self.assert_fired(srv, "hello-alert", "fixture: a fatal "
                          "handshake_failure instead of a ServerHello")
        self.assertIn("alert sent: fatal handshake failure",
                      self.tls_events(srv, 1))

    def test_sni_condition(self):
        srv = self.start("tls_hello")
        # No SNI, then another name: nothing fires, the sessions work.
        for n, sni in enumerate((None, "other.sni.test", "xonly.sni.test"),
                                start=1):
            c, t = self.tls(srv, sni=sni)
            self.assertEqual(t.version(), "TLSv1.3")
            self.assertEqual(t.cmd("EHLO client.test"), EHLO_TLS)
            self.assertEqual(t.cmd("QUIT"), QUIT)
            self.closed(srv, n)
        self.assert_no_rule(srv)
        # The name the rule wants.
        c, t = self.tls(srv, sni="only.sni.test", handshake=False)
        with self.assertRaises(ssl.SSLError) as cm:
            t.handshake()
        self.assertEqual(cm.exception.reason, "TLSV1_ALERT_INTERNAL_ERROR")
        self.assertEqual(records(t.raw), [(REC_ALERT, b"\x02\x50")])
        self.assert_fired(srv, "hello-sni-only",
                          "fixture: only for one server name", session=4)


class OffersRule(TLSTest):
    """tls_offers.yaml: offers_any [TLS_AES_128_GCM_SHA256], then FIN at
    handshake_done."""

    def test_handshake_completes_then_fin_without_close_notify(self):
        srv = self.start("tls_offers")
        c, t = self.tls(srv)
        self.assertEqual(t.version(), "TLSv1.3")
        self.assertEqual(t.cipher(), "TLS_AES_256_GCM_SHA384")
        self.assertEqual(t.ending(), ("eof", b""))  # SSLEOFError on read
        self.assertEqual(t.tcp, "fin")
        self.assert_fired(srv, "offers-aes128", "fixture: complete the "
                          "handshake, then drop the session")
        self.assert_handshake_done(srv, 1, "TLSv1.3", "TLS_AES_256_GCM_SHA384")
        tls = self.tls_events(srv, 1)
        self.assertIn("offered from the rule's list: TLS_AES_128_GCM_SHA256",
                      tls)
        self.assertTrue(self.closed(srv).startswith("fin"))
        # Nothing was said inside TLS.
        self.assertEqual(srv.session_events(1)[-1], ("S", READY[0]))

    def test_client_not_offering_the_suite(self):
        srv = self.start("tls_offers")
        # A TLS 1.2-only client offers no TLS 1.3 suites.
        c, t = self.tls(srv, ctx=tls12_ctx())
        self.assertEqual(t.version(), "TLSv1.2")
        self.assertEqual(t.cmd("EHLO client.test"), EHLO_TLS)
        self.assertEqual(t.cmd("QUIT"), QUIT)
        self.closed(srv)
        self.assert_no_rule(srv)


class HandshakeDoneRules(TLSTest):
    def test_tls12_gets_rst_after_handshake(self):
        srv = self.start("tls_done_rst")
        c, t = self.tls(srv, ctx=tls12_ctx())
        self.assertEqual(t.version(), "TLSv1.2")
        with self.assertRaises(ConnectionResetError):
            t.recv()
        self.assert_fired(srv, "done-tls12-rst",
                          "fixture: reset TLS 1.2 sessions after the "
                          "handshake")
        self.assert_handshake_done(srv, 1, "TLSv1.2",
                                   "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384")
        self.assertTrue(self.closed(srv).startswith("rst"))

    def test_tls13_is_left_alone(self):
        srv = self.start("tls_done_rst")
        c, t = self.tls(srv)
        self.assertEqual(t.version(), "TLSv1.3")
        self.deliver_inside(t)
        self.assertTrue(self.closed(srv).startswith("fin"))
        self.assert_no_rule(srv)
        self.assertEqual(len(srv.messages()), 1)

    def test_close_notify_at_handshake_done(self):
        srv = self.start("tls_done_notify")
        c, t = self.tls(srv)
        self.assertEqual(t.version(), "TLSv1.3")
        # A clean TLS close (read returns EOF after close_notify), then FIN.
        self.assertEqual(t.ending(), ("close_notify", b""))
        self.assertEqual(t.tcp_end(), ("fin", b""))
        self.assert_fired(srv, "done-close-notify",
                          "fixture: a clean TLS close right after the "
                          "handshake")
        self.assertTrue(self.closed(srv).startswith("fin"))

    def test_close_notify_seen_by_sslsocket(self):
        srv = self.start("tls_done_notify")
        c = self.starttls(srv)
        tls = self.wrap(c)
        # SSLSocket: close_notify reads as b"" (SSL_ERROR_ZERO_RETURN),
        # not as SSLEOFError.
        self.assertEqual(tls.recv(1024), b"")
        self.assert_fired(srv, "done-close-notify",
                          "fixture: a clean TLS close right after the "
                          "handshake")


class FailedRule(TLSTest):
    def test_garbage_handshake_ends_with_rst(self):
        srv = self.start("tls_failed_rst")
        c = self.starttls(srv)
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        how, _ = c.ending()
        self.assertEqual(how, "rst")
        self.assert_fired(srv, "failed-rst",
                          "fixture: reset the connection when the handshake "
                          "fails")
        self.assertTrue(any(x.startswith("handshake failed: ")
                            for x in self.tls_events(srv, 1)))
        self.assertTrue(self.closed(srv).startswith("rst"))

    def test_garbage_handshake_on_standard_ends_with_fin(self):
        srv = self.start("standard")
        c = self.starttls(srv)
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        how, _ = c.ending()
        self.assertEqual(how, "fin")
        self.assertTrue(self.closed(srv).startswith("fin"))

    def test_good_handshake_does_not_fire(self):
        srv = self.start("tls_failed_rst")
        c, t = self.tls(srv)
        self.assertEqual(t.cmd("EHLO client.test"), EHLO_TLS)
        self.assertEqual(t.cmd("QUIT"), QUIT)
        self.closed(srv)
        self.assert_no_rule(srv)


# --- 8. no_shared_cipher ---------------------------------------------------

class NoSharedCipher(TLSTest):
    """tls_noshared_*.yaml: TLS 1.2 with only ECDHE-RSA-AES256-SHA384; the
    client offers only ECDHE-RSA-AES128-GCM-SHA256."""

    def unshared(self, srv):
        return self.tls(srv, ctx=tls12_ctx("ECDHE-RSA-AES128-GCM-SHA256"),
                        handshake=False)

    def assert_noshared_event(self, srv, text):
        srv.wait_event(lambda e: e["session"] == 1 and e["dir"] == "tls"
                       and e["text"] == text)

    def test_alert(self):
        srv = self.start("tls_noshared_alert")
        c, t = self.unshared(srv)
        with self.assertRaises(ssl.SSLError) as cm:
            t.handshake()
        self.assertEqual(cm.exception.reason, "SSLV3_ALERT_HANDSHAKE_FAILURE")
        self.assertEqual(records(t.raw), [(REC_ALERT, b"\x02\x28")])
        self.assertEqual(t.tcp_end(), ("fin", b""))
        self.assert_noshared_event(
            srv, "no shared cipher suite: fatal handshake_failure")
        self.assertTrue(self.closed(srv).startswith("fin"))

    def test_fin(self):
        srv = self.start("tls_noshared_fin")
        c, t = self.unshared(srv)
        with self.assertRaises(ssl.SSLEOFError):
            t.handshake()
        self.assertEqual(t.raw, b"")
        self.assertEqual(t.tcp, "fin")
        self.assert_noshared_event(
            srv, "no shared cipher suite: ClientHello left unanswered")
        self.assertTrue(self.closed(srv).startswith("fin"))

    def test_rst(self):
        srv = self.start("tls_noshared_rst")
        c, t = self.unshared(srv)
        with self.assertRaises(ConnectionResetError):
            t.handshake()
        self.assertEqual(t.raw, b"")
        self.assertEqual(t.tcp, "rst")
        self.assert_noshared_event(
            srv, "no shared cipher suite: ClientHello left unanswered")
        self.assertTrue(self.closed(srv).startswith("rst"))

    def test_shared_suite_is_negotiated(self):
        for how in ("alert", "fin", "rst"):
            srv = self.start("tls_noshared_" + how)
            c, t = self.tls(srv, ctx=tls12_ctx("ECDHE-RSA-AES256-SHA384"))
            self.assertEqual(t.version(), "TLSv1.2")
            self.assertEqual(t.cipher(), "ECDHE-RSA-AES256-SHA384")
            self.assertEqual(t.cmd("EHLO client.test"), EHLO_TLS)
            self.assertEqual(t.cmd("QUIT"), QUIT)
            self.assert_handshake_done(srv, 1, "TLSv1.2",
                                       "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384")

    def test_default_client_negotiates_the_one_suite(self):
        # A default client (TLS 1.2 and 1.3, all of OpenSSL's suites)
        # shares TLS 1.2 and that suite.
        srv = self.start("tls_noshared_alert")
        c, t = self.tls(srv)
        self.assertEqual(t.version(), "TLSv1.2")
        self.assertEqual(t.cipher(), "ECDHE-RSA-AES256-SHA384")


# --- 9. stalled and vanished handshakes ----------------------------------

class StalledHandshakes(TLSTest):
    def full_session(self, srv):
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            self.assertEqual(s.starttls(context=client_ctx())[0], 220)
            self.assertEqual(s.sendmail("a@lab.test", ["b@lab.test"],
                                        b"Subject: p\r\n\r\nx\r\n"), {})
            self.assertEqual(s.quit(), (221, b"2.0.0 Bye"))

    def test_half_client_hello_then_vanish(self):
        srv = self.start("standard")
        hello = client_hello_bytes()
        c = self.starttls(srv)
        c.send(hello[:len(hello) // 2])
        self.full_session(srv)  # while the half hello is pending
        c.close()
        self.assertTrue(self.closed(srv, 1).startswith("fin"))
        self.full_session(srv)
        self.assertEqual(len(srv.messages()), 2)
        self.assertFalse(any(x.startswith("handshake done")
                             for x in self.tls_events(srv, 1)))

    def test_vanish_right_after_starttls(self):
        srv = self.start("standard")
        c = self.starttls(srv)
        c.close()
        self.closed(srv, 1)
        self.full_session(srv)

    def test_no_client_hello_times_out(self):
        srv = self.start("tls_idle")
        c = self.starttls(srv)
        self.full_session(srv)  # while session 1 waits for a ClientHello
        # idle_timeout 1s: the server ends the stalled handshake. It is
        # not talking SMTP any more, so no plaintext 421 on the wire.
        how, data = c.ending(timeout=15)
        self.assertEqual((how, data), ("fin", b""))
        self.assertTrue(self.closed(srv, 1).startswith("fin"))
        self.full_session(srv)

    def test_half_client_hello_times_out(self):
        srv = self.start("tls_idle")
        hello = client_hello_bytes()
        c = self.starttls(srv)
        c.send(hello[:len(hello) // 2])
        self.full_session(srv)
        how, data = c.ending(timeout=15)
        self.assertEqual((how, data), ("fin", b""))
        self.assertTrue(self.closed(srv, 1).startswith("fin"))


if __name__ == "__main__":
    unittest.main()
