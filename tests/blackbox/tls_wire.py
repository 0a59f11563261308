"""tls_wire.py - see a STARTTLS session's TLS as it is on the wire, for the
black-box tests of the TLS surface (test_schannel.py, test_tls_surface.py,
test_testssl.py).

- raw_session(): STARTTLS over a plain socket, then a handshake through
  ssl.MemoryBIO, so the test reads the TCP bytes itself and can count the
  TLS records; command() sends one line (or several, pipelined) inside TLS
  and returns the records that carried the reply and the reply's text.
- s_client(): one `openssl s_client -starttls smtp` run, its output as text;
  server_extensions() and ske_signature() read -tlsextdebug / -trace output.
- testssl(): one bounded testssl.sh run, its JSON findings by id and the
  debug files it kept (its own s_client logs).

Nothing here knows a profile's strings: the tests state what they expect.
"""
import fcntl
import glob
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import warnings

APPLICATION_DATA = 23


def records(buf):
    """Split bytes into whole TLS records: ([(type, length, bytes)], rest),
    bytes being the whole record, header included."""
    out, i = [], 0
    while i + 5 <= len(buf):
        n = (buf[i + 3] << 8) | buf[i + 4]
        if i + 5 + n > len(buf):
            break
        out.append((buf[i], n, buf[i:i + 5 + n]))
        i += 5 + n
    return out, buf[i:]


def client_ctx(ciphers=None, minimum=None, maximum=None):
    """A client context that accepts the self-signed certificate."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if ciphers is not None:
        ctx.set_ciphers(ciphers)
    with warnings.catch_warnings():  # TLSv1 is deprecated, not gone
        warnings.simplefilter("ignore", DeprecationWarning)
        if minimum is not None:
            ctx.minimum_version = minimum
        if maximum is not None:
            ctx.maximum_version = maximum
    return ctx


class RawSession:
    """A TLS session over memory BIOs on a socket we read ourselves."""

    def __init__(self, sock, ctx, session=None, timeout=10):
        self.sock = sock
        self.sock.settimeout(timeout)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.inc, self.out, session=session)
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._send()
                self._recv()
        self._send()

    def _send(self):
        data = self.out.read()
        if data:
            self.sock.sendall(data)

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self.inc.write(chunk)

    def command(self, text):
        """Send text (one or more CRLF lines) inside TLS; read until as
        many final reply lines as commands have come back. Returns
        ([(record type, length, plaintext it carried)], reply text): the
        raw records, each fed to TLS alone to see what it held."""
        ncmds = text.count("\r\n")
        self.obj.write(text.encode())
        self._send()
        got, plain, raw = [], b"", b""
        while _finals(plain) < ncmds:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("server closed the connection; got %r"
                               % plain)
            raw += chunk
            whole, raw = records(raw)
            for ty, n, rec in whole:
                self.inc.write(rec)
                data = b""
                try:
                    while True:
                        data += self.obj.read(65536)
                except ssl.SSLWantReadError:
                    pass
                got.append((ty, n, data))
                plain += data
        return got, plain.decode()

    def close(self):
        self.sock.close()


def _finals(text):
    """How many whole final reply lines ("250 ..." and CRLF) text holds."""
    return sum(1 for line in text.split(b"\r\n")[:-1]
               if len(line) >= 4 and line[3:4] == b" ")


def starttls(port, ehlo="client.lab.test", timeout=10):
    """Connect, read the greeting, EHLO, STARTTLS: the plain socket, with
    the 220 read. Raises if a reply is not 2xx."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    buf = b""
    for cmd in (None, b"EHLO " + ehlo.encode() + b"\r\n", b"STARTTLS\r\n"):
        if cmd is not None:
            sock.sendall(cmd)
        while _finals(buf) == 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError("closed after %r: %r" % (cmd, buf))
            buf += chunk
        if not buf.startswith(b"2") or not buf.endswith(b"\r\n"):
            raise AssertionError("%r answered %r" % (cmd, buf))
        buf = b""
    return sock


def raw_session(port, ctx, session=None):
    """STARTTLS, then a RawSession on the same socket."""
    return RawSession(starttls(port), ctx, session=session)


def s_client(port, *args, stdin=b"", timeout=15):
    """One `openssl s_client -starttls smtp` run: (returncode, output)."""
    cp = subprocess.run(
        ["openssl", "s_client", "-starttls", "smtp",
         "-connect", "127.0.0.1:%d" % port] + list(args),
        input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        timeout=timeout)
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


def server_extensions(out):
    """-tlsextdebug: the ServerHello's extensions as [(name, id)]."""
    return [(m.group(1), int(m.group(2))) for m in re.finditer(
        r'^TLS server extension "([^"]*)" \(id=(\d+)\)', out, re.M)]


def ske_signature(out):
    """-trace: the signature algorithm line of the ServerKeyExchange."""
    m = re.search(r"ServerKeyExchange, Length=\d+\n(.*?)\n(?:Sent|Received)"
                  r" Record", out, re.S)
    if m is None:
        return None
    sig = re.search(r"^\s*Signature Algorithm: (\S+ \(0x[0-9a-f]{4}\))",
                    m.group(1), re.M)
    return sig.group(1) if sig else None


def testssl(port, *checks, timeout=90):
    """One testssl.sh run against STARTTLS on port with only the given
    checks (e.g. "-S"): ({id: finding}, {file name: text} of the debug
    files it kept). --debug 1 keeps them in a /tmp/testssl.XXXXXX of its
    own; that directory is removed afterwards. testssl.sh always makes it
    under /tmp (mktemp -d /tmp/testssl.XXXXXX), so two runs at once (ctest
    -j) could not tell their directories apart: runs take a lock."""
    tool = shutil.which("testssl") or shutil.which("testssl.sh")
    with open("/tmp/mimic-testssl.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _testssl_locked(tool, port, checks, timeout)


def _testssl_locked(tool, port, checks, timeout):
    before = set(glob.glob("/tmp/testssl.*"))
    with tempfile.TemporaryDirectory(prefix="mimic-testssl-") as d:
        js = os.path.join(d, "out.json")
        subprocess.run(
            [tool, "--quiet", "--color", "0", "--warnings", "off",
             "--debug", "1", "--jsonfile", js, "-t", "smtp"]
            + list(checks) + ["127.0.0.1:%d" % port],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL, timeout=timeout, cwd=d)
        with open(js) as fh:
            findings = {f["id"]: f["finding"] for f in json.load(fh)}
    kept = {}
    for k in sorted(set(glob.glob("/tmp/testssl.*")) - before):
        for path in glob.glob(os.path.join(k, "*")):
            if os.path.isfile(path):
                with open(path, errors="replace") as fh:
                    kept[os.path.basename(path)] = fh.read()
        shutil.rmtree(k, ignore_errors=True)
    return findings, kept
