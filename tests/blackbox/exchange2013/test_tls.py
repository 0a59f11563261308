"""exchange2013: the TLS side (Windows Server 2012 R2 Schannel, FACTS.md 2)
of the healthy server: every gateway cipher string of FACTS.md 3 delivers
here; Cisco bug CSCwh48138 is the scenario exchange2013-cscwh48138 (its
tests are in ../exchange2013-cscwh48138/).

Real clients, real handshakes: Python ssl, openssl s_client, swaks, curl
and sslscan against the real binary. Every expected string is written out
literally from FACTS.md (or, where FACTS.md has nothing, from the profile
file or the engine default, as noted), so the test fails if
profiles/exchange2013.yaml drifts.

How the server ends a connection is checked on the wire: a fatal alert
then FIN where Schannel sends one, a FIN otherwise, never an RST.
"""
import os
import random
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                "lib"))
from harness import ending, PROFILES, ServerTest, have  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

from exchange2013 import BANNER_RE, EHLO_REPLY, EHLO_REPLY_TLS, STARTTLS_READY  # noqa: E402
# Not in FACTS.md: exchange2013.yaml leaves tls_already to standard.yaml.
TLS_ALREADY = "503 5.5.1 Bad sequence of commands"   # built-in RFC 5321 4.2.2 (no Exchange source)
MAIL_OK = "250 2.1.0 Sender OK"                              # FACTS.md 1
RCPT_OK = "250 2.1.5 Recipient OK"                           # FACTS.md 1
DATA_START = "354 Start mail input; end with <CRLF>.<CRLF>"  # FACTS.md 1
DATA_OK_RE = re.compile(                                     # FACTS.md 1
    r"250 2\.6\.0 <[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
    r"[0-9a-f]{12}@ex2013\.lab\.test> \[InternalId=[0-9]+, "
    r"Hostname=ex2013\.lab\.test\] Queued mail for delivery\Z")
QUIT = "221 2.0.0 Service closing transmission channel"      # FACTS.md 1

# FACTS.md 3: the three gateway cipher strings (OpenSSL syntax).
PROMPT = "DEFAULT:!aNULL:!eNULL"                 # AsyncOS 15.0 prompt value
BASE = ("ECDH+aRSA:ECDH+ECDSA:DHE+DSS+AES:AES128:AES256:!SRP:"
        "!AESGCM+DH+aRSA:!AESGCM+RSA:!aNULL:!eNULL:!DES:!3DES:!IDEA:!RC2:"
        "-IDEA:-aNULL:-EXPORT")                  # long-standing default
WORKAROUND = BASE + (
    ":!DHE-RSA-AES256-SHA:!DHE-RSA-AES128-CCM:!DHE-RSA-AES256-CCM"
    ":!ECDHE-ECDSA-CAMELLIA128-SHA256:!ECDHE-RSA-CAMELLIA128-SHA256"
    ":!ECDHE-ECDSA-CAMELLIA256-SHA384:!ECDHE-RSA-CAMELLIA256-SHA384"
    ":!ECDHE-ECDSA-AES128-CCM:!ECDHE-ECDSA-AES256-CCM")
FAILING = {"prompt": PROMPT, "base": BASE}

# What Schannel 2012 R2 picks from every one of these strings: the first
# suite of its order (FACTS.md 2) -- with TLS 1.2, the SHA384 ECDHE suite.
SUITE_12 = ("ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384")
# With TLS 1.0/1.1 (no SHA-2 suites), the first CBC_SHA one.
SUITE_10 = ("ECDHE-RSA-AES256-SHA", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA")

# FACTS.md 2, the Server 2012 R2 default order, minus what cannot be
# negotiated here: RC4 and 3DES (absent from Debian 12's OpenSSL 3.0) and
# the ECDSA / DSS suites (the server's certificate is RSA). OpenSSL names.
RSA_ORDER_12 = [
    "ECDHE-RSA-AES256-SHA384",     # TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
    "ECDHE-RSA-AES128-SHA256",     # TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
    "ECDHE-RSA-AES256-SHA",        # TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
    "ECDHE-RSA-AES128-SHA",        # TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
    "DHE-RSA-AES256-GCM-SHA384",   # TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
    "DHE-RSA-AES128-GCM-SHA256",   # TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
    "DHE-RSA-AES256-SHA",          # TLS_DHE_RSA_WITH_AES_256_CBC_SHA
    "DHE-RSA-AES128-SHA",          # TLS_DHE_RSA_WITH_AES_128_CBC_SHA
    "AES256-GCM-SHA384",           # TLS_RSA_WITH_AES_256_GCM_SHA384
    "AES128-GCM-SHA256",           # TLS_RSA_WITH_AES_128_GCM_SHA256
    "AES256-SHA256",               # TLS_RSA_WITH_AES_256_CBC_SHA256
    "AES128-SHA256",               # TLS_RSA_WITH_AES_128_CBC_SHA256
    "AES256-SHA",                  # TLS_RSA_WITH_AES_256_CBC_SHA
    "AES128-SHA",                  # TLS_RSA_WITH_AES_128_CBC_SHA
]
# The same order restricted to what TLS 1.0 / 1.1 can carry (no GCM, no
# SHA-256/384 MACs).
RSA_ORDER_10 = ["ECDHE-RSA-AES256-SHA", "ECDHE-RSA-AES128-SHA",
                "DHE-RSA-AES256-SHA", "DHE-RSA-AES128-SHA",
                "AES256-SHA", "AES128-SHA"]

ALERT = 21              # TLS record content type "alert"
HANDSHAKE_FAILURE = 40


def tls_ctx(ciphers=None, minimum=None, maximum=ssl.TLSVersion.TLSv1_2):
    """A client context that trusts anything (the certificate is
    self-signed) with the given cipher string and version range."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    # TLSVersion.TLSv1 / TLSv1_1 are deprecated in Python, not gone: they
    # are what this test is about.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        if minimum is not None:
            ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    return ctx


def records(data):
    """Split raw TLS bytes into (content type, payload) records."""
    out = []
    while len(data) >= 5:
        n = int.from_bytes(data[3:5], "big")
        out.append((data[0], data[5:5 + n]))
        data = data[5 + n:]
    if data:
        out.append((None, data))
    return out


def swaks_server_lines(out):
    """The server's lines from a swaks transcript, without the prefix."""
    return [m.group(1) for m in
            (re.match(r"<(?:-|~|\*\*|\*~) ? ?(.*)\Z", line)
             for line in out.splitlines()) if m]


class Piped:
    """An interactive child (openssl s_client): write lines, wait for text."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.out = b""
        self.lock = threading.Lock()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                return
            with self.lock:
                self.out += chunk

    def text(self):
        with self.lock:
            return self.out.decode("utf-8", "replace")

    def wait_for(self, pattern, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = re.search(pattern, self.text(), re.M)
            if m:
                return m
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.02)
        raise AssertionError("%r not in s_client output:\n%s"
                             % (pattern, self.text()))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def finish(self, timeout=30):
        try:
            self.proc.stdin.close()
        except BrokenPipeError:
            pass
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("s_client did not end:\n" + self.text())
        self.reader.join(5)
        self.proc.stdout.close()
        return rc, self.text()


class Exchange2013Tls(ServerTest):

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
        srv = self.start("exchange2013", args=ARGS, **kw)
        self.sessions[srv] = 0
        return srv

    # --- helpers -----------------------------------------------------

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

    def events_of(self, srv, session):
        return [e for e in srv.events() if e["session"] == session]

    def wait_closed(self, srv, session):
        return srv.wait_event(lambda e: e["session"] == session
                              and e["dir"] == "close")

    def tls_texts(self, srv, session):
        return [e["text"] for e in self.events_of(srv, session)
                if e["dir"] == "tls"]

    def assert_delivered_tls(self, srv, n=1, version="TLSv1.2",
                             suite=SUITE_12[1]):
        msgs = srv.messages()
        self.assertEqual(len(msgs), n, srv.log())
        for _, env in msgs:
            self.assertEqual(env["profile"], "exchange2013")
            self.assertEqual(env["tls"], {"version": version,
                                          "cipher": suite})
        return msgs

    def deliver_inside(self, c):
        """EHLO again inside TLS, one message, QUIT."""
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY_TLS)
        self.assertEqual(c.cmd("MAIL FROM:<gw@esa.lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<user@ex2013.lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send("Subject: tls\r\n\r\nover TLS\r\n.\r\n")
        final = c.reply()
        self.assertEqual(len(final), 1, final)
        self.assertRegex(final[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    # --- 1. the gateway strings of FACTS.md 3, Python ssl -----------

    def test_seed_strings_all_deliver_python(self):
        """The healthy server: the two AsyncOS 15.0 strings that
        CSCwh48138 cuts deliver here like the workaround (no rule)."""
        srv = self.start_ex()
        for name, ciphers in dict(FAILING, workaround=WORKAROUND).items():
            with self.subTest(string=name):
                c, sid = self.plain_starttls(srv)
                tls = self.wrap(c, tls_ctx(ciphers))
                self.assertEqual((tls.version(), tls.cipher()[0]),
                                 ("TLSv1.2", SUITE_12[0]))
                self.deliver_inside(c)
                self.assertEqual(self.wait_closed(srv, sid)["text"],
                                 "fin (client sent QUIT)")
                tls.close()
                self.assertEqual([e for e in self.events_of(srv, sid)
                                  if e["dir"] == "rule"], [])
        self.assert_delivered_tls(srv, 3)

    # --- 1b. openssl s_client -------------------------------------------

    def s_client(self, srv, ciphers, *extra):
        p = Piped(["openssl", "s_client", "-starttls", "smtp",
                   "-connect", "127.0.0.1:%d" % srv.port,
                   "-cipher", ciphers, "-no_tls1_3", "-ign_eof"]
                  + list(extra))
        self.addCleanup(p.kill)
        return p

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_s_client_workaround_delivers(self):
        srv = self.start_ex()
        p = self.s_client(srv, WORKAROUND)
        p.wait_for(r"^New, TLSv1\.2, Cipher is %s$" % SUITE_12[0])
        p.wait_for(r"^---\n")
        steps = [("EHLO client.lab.test", r"^250 XRDST\r?$"),
                 ("MAIL FROM:<gw@esa.lab.test>", r"^250 2\.1\.0 Sender OK"),
                 ("RCPT TO:<user@ex2013.lab.test>", r"^250 2\.1\.5 Recipient"),
                 ("DATA", r"^354 Start mail input"),
                 ("Subject: s_client\r\n\r\nhi\r\n.", r"^250 2\.6\.0 "),
                 ("QUIT", r"^221 2\.0\.0 Service closing")]
        for line, want in steps:
            p.send(line + "\r\n")
            p.wait_for(want)
        rc, out = p.finish()
        # After STARTTLS the EHLO reply has no STARTTLS line (FACTS.md 1:
        # nor X-ANONYMOUSTLS; AUTH NTLM LOGIN).
        tls_part = out.split("Cipher is", 1)[1]
        self.assertIn("250-AUTH NTLM LOGIN", tls_part)
        self.assertNotIn("250-X-ANONYMOUSTLS", tls_part)
        self.assertNotIn("250-STARTTLS", tls_part)
        self.assertRegex(out, re.compile(DATA_OK_RE.pattern[:-2], re.M))
        msgs = self.assert_delivered_tls(srv)
        self.assertEqual(msgs[0][0], b"Subject: s_client\r\n\r\nhi\r\n")

    # --- 2. swaks -------------------------------------------------------

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

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_workaround_delivers(self):
        srv = self.start_ex()
        rc, out = self.swaks(srv, WORKAROUND)
        self.assertEqual(rc, 0, out)
        self.assertIn("=== TLS started with cipher TLSv1.2:%s:256"
                      % SUITE_12[0], out)
        got = swaks_server_lines(out)
        # banner, EHLO (13), 220, EHLO inside TLS (11), MAIL, RCPT, DATA,
        # end of data, QUIT.
        self.assertEqual(len(got), 1 + 13 + 1 + 11 + 5, out)
        self.assertEqual(got[14], STARTTLS_READY)
        self.assertEqual(got[15:26], EHLO_REPLY_TLS)
        self.assertEqual(got[26:29], [MAIL_OK, RCPT_OK, DATA_START])
        self.assertRegex(got[29], DATA_OK_RE)
        self.assertEqual(got[30], QUIT)
        msgs = self.assert_delivered_tls(srv)
        self.assertEqual(msgs[0][1]["helo"], "esa.lab.test")

    # --- 3. curl --------------------------------------------------------

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

    @unittest.skipUnless(have("curl"), "curl not installed")
    def test_curl_workaround_delivers(self):
        srv = self.start_ex()
        rc, out = self.curl(srv, WORKAROUND)
        self.assertEqual(rc, 0, out)
        msgs = self.assert_delivered_tls(srv)
        self.assertEqual(msgs[0][0], b"Subject: curl\r\n\r\nhello from curl\r\n")
        self.assertEqual(msgs[0][1]["rcpt_to"], ["c@ex2013.lab.test"])

    # --- 4. versions ----------------------------------------------------

    def test_tls10_and_tls11_clients(self):
        """FACTS.md 2: 2012 R2 enables TLS 1.0 and 1.1. With SHA-2 suites out
        of reach, Schannel's order gives ECDHE-RSA-AES256-SHA. OpenSSL's
        DEFAULT and the workaround string (at security level 0) both
        deliver: the healthy server has no CSCwh48138 rule."""
        srv = self.start_ex()
        versions = [(ssl.TLSVersion.TLSv1, "TLSv1"),
                    (ssl.TLSVersion.TLSv1_1, "TLSv1.1")]
        for v, vname in versions:
            with self.subTest(version=vname, string="DEFAULT"):
                c, sid = self.plain_starttls(srv)
                tls = self.wrap(c, tls_ctx("DEFAULT:@SECLEVEL=0", v, v))
                self.assertEqual((tls.version(), tls.cipher()[0]),
                                 (vname, SUITE_10[0]))
                self.deliver_inside(c)
                tls.close()
            with self.subTest(version=vname, string="workaround"):
                c, sid = self.plain_starttls(srv)
                tls = self.wrap(c, tls_ctx(WORKAROUND + ":@SECLEVEL=0", v, v))
                self.assertEqual((tls.version(), tls.cipher()[0]),
                                 (vname, SUITE_10[0]))
                self.deliver_inside(c)
                tls.close()
        msgs = srv.messages()
        self.assertEqual(sorted(env["tls"]["version"] for _, env in msgs),
                         ["TLSv1", "TLSv1", "TLSv1.1", "TLSv1.1"])
        for _, env in msgs:
            self.assertEqual(env["tls"]["cipher"], SUITE_10[1])

    def test_tls13_only_client_gets_handshake_failure(self):
        """Profile: no_shared_version: alert -- a fatal handshake_failure
        (40), then FIN."""
        srv = self.start_ex()
        ctx13 = tls_ctx(None, ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)
        c, sid = self.plain_starttls(srv)
        with self.assertRaises(ssl.SSLError) as cm:
            self.wrap(c, ctx13)
        self.assertNotIsInstance(cm.exception, ssl.SSLEOFError)
        self.assertRegex(str(cm.exception), r"(?i)handshake.failure")
        self.assertEqual(self.wait_closed(srv, sid)["text"],
                         "fin (TLS handshake failed)")
        texts = self.tls_texts(srv, sid)
        self.assertIn("no shared protocol version: fatal handshake_failure",
                      texts)
        self.assertIn("alert sent: fatal handshake failure", texts)
        # On the wire: exactly one fatal handshake_failure alert, then FIN.
        c, sid = self.plain_starttls(srv)
        obj = ctx13.wrap_bio(ssl.MemoryBIO(), out := ssl.MemoryBIO())
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        c.send(out.read())
        how, data = ending(c.sock)
        self.assertEqual(how, "fin")
        self.assertEqual(records(data), [(ALERT, bytes([2, HANDSHAKE_FAILURE]))])

    def test_no_shared_cipher_gets_handshake_failure(self):
        """FACTS.md 2: no shared suite -> fatal handshake_failure (40)."""
        srv = self.start_ex()
        c, sid = self.plain_starttls(srv)
        with self.assertRaises(ssl.SSLError) as cm:
            self.wrap(c, tls_ctx("ECDHE-RSA-CHACHA20-POLY1305"))
        self.assertRegex(str(cm.exception), r"(?i)handshake.failure")
        self.assertEqual(self.wait_closed(srv, sid)["text"],
                         "fin (TLS handshake failed)")
        self.assertIn("alert sent: fatal handshake failure",
                      self.tls_texts(srv, sid))

    # --- 5. the suite list and order ------------------------------------

    @unittest.skipUnless(have("sslscan"), "sslscan not installed")
    def test_sslscan(self):
        srv = self.start_ex()
        cp = subprocess.run(
            ["sslscan", "--starttls-smtp", "--no-colour",
             "127.0.0.1:%d" % srv.port],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=120)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, out)
        self.assertNotIn("ERROR", out)
        protos = dict(re.findall(r"^(SSLv[23]|TLSv1\.[0-3])\s+(enabled|disabled)$",
                                 out, re.M))
        self.assertEqual(protos, {"SSLv2": "disabled", "SSLv3": "disabled",
                                  "TLSv1.0": "enabled", "TLSv1.1": "enabled",
                                  "TLSv1.2": "enabled",
                                  "TLSv1.3": "disabled"}, out)
        suites = {}
        for kind, ver, name in re.findall(
                r"^(Preferred|Accepted)\s+(TLSv1\.[0-3])\s+\d+ bits\s+(\S+)",
                out, re.M):
            suites.setdefault(ver, []).append((kind, name))
        # sslscan 2 lists the suites in the server's order of preference,
        # the first marked Preferred.
        self.assertEqual([n for _, n in suites.get("TLSv1.2", [])],
                         RSA_ORDER_12, out)
        self.assertEqual(suites["TLSv1.2"][0][0], "Preferred")
        for ver in ("TLSv1.1", "TLSv1.0"):
            self.assertEqual([n for _, n in suites.get(ver, [])],
                             RSA_ORDER_10, ver + "\n" + out)
        self.assertNotIn("TLSv1.3", suites)

    def test_server_order_by_elimination(self):
        """Schannel picks by its own order (server_preference): offer every
        RSA suite, note the one chosen, take it away, again. The client's
        own order is reversed so that a server following the client would
        be caught."""
        srv = self.start_ex()
        for order, v in ((RSA_ORDER_12, ssl.TLSVersion.TLSv1_2),
                         (RSA_ORDER_10, ssl.TLSVersion.TLSv1)):
            left = list(order)
            chosen = []
            while left:
                c, sid = self.plain_starttls(srv)
                ctx = tls_ctx(":".join(reversed(left)) + ":@SECLEVEL=0",
                              v, v)
                tls = self.wrap(c, ctx)
                name = tls.cipher()[0]
                chosen.append(name)
                self.assertIn(name, left)
                left.remove(name)
                tls.close()     # no close_notify: a plain FIN
                self.wait_closed(srv, sid)
            self.assertEqual(chosen, order)

    # --- 6. robustness --------------------------------------------------

    def client_hello(self):
        obj = tls_ctx().wrap_bio(ssl.MemoryBIO(), out := ssl.MemoryBIO())
        with self.assertRaises(ssl.SSLWantReadError):
            obj.do_handshake()
        return out.read()

    def test_garbage_instead_of_client_hello(self):
        """Each on its own connection after STARTTLS; the server ends that
        connection with a FIN (after at most one fatal alert), never dies,
        and delivers normally right after. tearDown checks the exit status
        on SIGTERM and, under ASan, the sanitizer report."""
        hello = self.client_hello()
        noise = bytearray(random.Random(48138).randbytes(600))
        noise[0] = 0xA5   # not a TLS content type, not an SSLv2 length
        cases = [
            # name, bytes, half-close after sending, expected alert or None
            ("random bytes", bytes(noise), False, None),
            ("record header, length 65535, then EOF",
             b"\x16\x03\x01\xff\xff", True, 22),        # record_overflow
            ("truncated ClientHello, then EOF", hello[:60], True, None),
            ("HTTP request", b"GET / HTTP/1.0\r\n\r\n", False, None),
        ]
        for name, data, half_close, alert in cases:
            with self.subTest(case=name):
                # A server of its own per case, so that one case's failure
                # does not hide the others'.
                srv = self.start_ex()
                c, sid = self.plain_starttls(srv)
                c.send(data)
                if half_close:
                    c.sock.shutdown(socket.SHUT_WR)
                how, got = ending(c.sock)
                self.assertEqual(how, "fin", got)
                recs = records(got)
                if alert is None:
                    # At most one fatal alert, nothing else.
                    self.assertLessEqual(len(recs), 1, got)
                    for ctype, payload in recs:
                        self.assertEqual(ctype, ALERT, got)
                        self.assertEqual(payload[:1], b"\x02", got)
                else:
                    self.assertEqual(recs, [(ALERT, bytes([2, alert]))])
                c.close()
                close = self.wait_closed(srv, sid)
                self.assertTrue(close["text"].startswith("fin"), close)
                self.assertNotIn("handshake done", " ".join(
                    self.tls_texts(srv, sid)))
                # The server is still there and still delivers over TLS.
                self.assertIsNone(srv.proc.poll(), srv.log())
                c2, sid2 = self.plain_starttls(srv)
                self.wrap(c2, tls_ctx(WORKAROUND))
                self.deliver_inside(c2)
                c2.close()
                self.assertEqual(len(srv.messages()), 1)
                self.assertEqual(srv.stop(), 0, srv.log())

    def test_sslv2_format_client_hello(self):
        """An SSLv2-compatible CLIENT-HELLO asking for TLS 1.0 (RFC 5246
        E.2), as old clients send it. Schannel 2012 R2 and OpenSSL both
        accept it: the server answers with a TLS 1.0 ServerHello choosing
        by its own order (DHE-RSA-AES256-SHA before AES256-SHA). (The
        scenario exchange2013-cscwh48138 checks that its rule sees the
        offered DHE-RSA-AES256-SHA in this form too.)"""
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
                          if e["dir"] == "rule"], [])

    # --- 7. STARTTLS injection (CVE-2011-0411 class) ------------------

    def test_starttls_injection_discarded(self):
        srv = self.start_ex()
        c, sid = self.plain_starttls(srv, extra=b"RSET\r\n")
        self.wrap(c, tls_ctx(WORKAROUND))
        # The first reply inside TLS answers our EHLO, not the RSET.
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY_TLS)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.wait_closed(srv, sid)
        evs = self.events_of(srv, sid)
        self.assertNotIn(("C", "RSET"), [(e["dir"], e["text"]) for e in evs])
        warns = [e["text"] for e in evs if e["dir"] == "warn"]
        self.assertTrue(any("discarded 6 bytes sent after STARTTLS" in w
                            for w in warns), evs)

    # --- 8. RFC 3207 4.2 -------------------------------------------------

    def test_after_starttls(self):
        srv = self.start_ex()
        c, sid = self.plain_starttls(srv)
        tls = self.wrap(c, tls_ctx(WORKAROUND))
        # RFC 3207 4.2: the server forgot the EHLO; MAIL needs a new one.
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"),
                         ["503 5.5.2 Send hello first"])    # FACTS.md 1
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY_TLS)
        self.assertEqual(c.cmd("STARTTLS"), [TLS_ALREADY])
        # Still inside the same TLS session, still usable.
        self.assertEqual(c.cmd("EHLO again.lab.test"), EHLO_REPLY_TLS)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(tls.version(), "TLSv1.2")


if __name__ == "__main__":
    unittest.main()
