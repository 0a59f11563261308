"""harness.py - run the real smtp-mimic binary and talk to it over sockets.

Black-box tests import this: it starts the built binary (path in $SMTP_MIMIC,
set by ctest) on a free loopback port with a private spool and a JSON Lines
transcript, and offers a raw SMTP client that can tell how the server ended
the TCP connection (FIN or RST). Nothing here knows any profile's strings:
the tests state the exact replies they expect.

Profiles are looked up in tests/blackbox/profiles (fixtures) first, then in
$SMTP_MIMIC_PROFILES (the shipped ones), so a binary built anywhere works:
    SMTP_MIMIC=/tmp/bb/smtp-mimic python3 -B tests/blackbox/standard/test_x.py

API: Server (start, connect, events/wait_event/session_events, log/wait_log,
messages/new_files/envelope_files/tmp_files, send_signal/wait_exit/stop),
Client (cmd, reply, line, send, banner, transaction, ending, nothing_for),
ServerTest (start; tearDown closes clients, stops each server, and fails on
a non-zero exit or a sanitizer report), run_cli (one-shot runs such as
--check), ending (how a raw socket ended: fin, rst or still open),
profile_args, free_port, sanitizer_report, have.

The process wrapper under Server (Process: start, wait_ready, terminate,
kill, read_stderr), free_port and the sanitizer marks live in
scripts/lib/mimic.py, shared with the benchmark and the soak.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("SMTP_MIMIC", os.path.join(TOP, "build", "smtp-mimic"))
PROFILES = os.environ.get("SMTP_MIMIC_PROFILES", os.path.join(TOP, "profiles"))
FIXTURES = os.path.join(HERE, "profiles")

# The server wrapper, free_port and the sanitizer marks are shared with
# scripts/bench and scripts/soak; re-exported here for the tests.
sys.path.insert(0, os.path.join(TOP, "scripts", "lib"))
from mimic import (SANITIZER_MARKS, NotReady, Process,  # noqa: E402,F401
                   free_port, sanitizer_report)


def profile_args():
    """--profile-path flags: the fixtures first, then the shipped profiles
    (so a binary built outside the source tree finds them too)."""
    return ["--profile-path", FIXTURES, "--profile-path", PROFILES]


def run_cli(args, timeout=30):
    """Run smtp-mimic to completion (for --check, --help, ...).

    Returns a CompletedProcess with str stdout/stderr; fails on sanitizer
    output."""
    cp = subprocess.run([BINARY] + list(args), stdin=subprocess.DEVNULL,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        timeout=timeout)
    cp.stdout = cp.stdout.decode("utf-8", "replace")
    cp.stderr = cp.stderr.decode("utf-8", "replace")
    if sanitizer_report(cp.stderr):
        raise AssertionError("sanitizer report:\n" + cp.stderr)
    return cp


class Server(Process):
    """One smtp-mimic process on a free port, with its own spool (proc is
    its Popen, stderr the file its stderr goes to)."""

    def __init__(self, profile="standard", args=(), spool=True, seed=1,
                 listen=None, wait=True):
        self.dir = tempfile.mkdtemp(prefix="mimic-")
        self.port = free_port()
        self.spool = os.path.join(self.dir, "spool")
        self.jsonl = os.path.join(self.dir, "transcript.jsonl")
        self.clients = []
        if listen is None:
            listen = ["127.0.0.1:%d" % self.port]
        cmd = [BINARY, "--profile", profile] + profile_args()
        for spec in listen:  # "{port}" is this server's port
            cmd += ["--listen", spec.format(port=self.port)]
        cmd += ["--spool", self.spool if spool else "none",
                "--transcript", self.jsonl]
        if seed is not None:
            cmd += ["--seed", str(seed)]
        # One event loop, so session numbers follow the order in which the
        # test connects; a test may pass its own --workers (the last one
        # given wins). Several workers are exercised by
        # standard/test_workers.py, the unit tests and the bench/soak smokes.
        cmd += ["--workers", "1"]
        cmd += list(args)
        super().__init__(cmd, os.path.join(self.dir, "stderr.txt"))
        if wait:
            self._wait_ready()

    def _wait_ready(self):
        # Wait for the start-up line rather than probing the port, so no
        # extra session shows up in the transcript.
        try:
            self.wait_ready(lambda: "listening on" in self.log(), 20)
        except NotReady as e:
            if e.returncode is None:
                raise RuntimeError("smtp-mimic did not start: " + self.log())
            raise RuntimeError("smtp-mimic exited %d: %s" % (
                e.returncode, self.log()))

    def log(self):
        """The readable transcript and messages on stderr so far."""
        return self.read_stderr()

    def events(self):
        """The JSON Lines transcript, parsed."""
        if not os.path.exists(self.jsonl):
            return []
        with open(self.jsonl, encoding="utf-8") as f:
            # A line still being written (no newline yet) is left for later.
            return [json.loads(line) for line in f if line.endswith("\n")]

    def wait_event(self, pred, timeout=10):
        """Wait until an event satisfying pred is in the transcript."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for e in self.events():
                if pred(e):
                    return e
            time.sleep(0.02)
        raise AssertionError("no such event in transcript:\n" + self.log())

    def messages(self):
        """[(bytes, envelope dict)] for every message in spool/new."""
        new = os.path.join(self.spool, "new")
        out = []
        if not os.path.isdir(new):
            return out
        for name in sorted(os.listdir(new)):
            with open(os.path.join(new, name), "rb") as f:
                body = f.read()
            env_path = os.path.join(self.spool, "envelope", name + ".json")
            with open(env_path, encoding="utf-8") as f:
                env = json.load(f)
            out.append((body, env))
        return out

    def wait_log(self, text, timeout=10):
        """Wait until text appears on stderr; return the whole log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.log()
            if text in log:
                return log
            time.sleep(0.02)
        raise AssertionError("%r never appeared on stderr:\n%s"
                             % (text, self.log()))

    def session_events(self, session, dirs=("C", "S")):
        """(dir, text) of one session's events of the given kinds."""
        return [(e["dir"], e["text"]) for e in self.events()
                if e["session"] == session and e["dir"] in dirs]

    def tmp_files(self):
        return os.listdir(os.path.join(self.spool, "tmp"))

    def new_files(self):
        new = os.path.join(self.spool, "new")
        return sorted(os.listdir(new)) if os.path.isdir(new) else []

    def envelope_files(self):
        d = os.path.join(self.spool, "envelope")
        return sorted(os.listdir(d)) if os.path.isdir(d) else []

    def connect(self, **kw):
        c = Client(self.port, **kw)
        self.clients.append(c)
        return c

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=20):
        """Wait for the process to exit on its own; return its status."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("smtp-mimic still running:\n" + self.log())

    def check_sanitizers(self):
        if self.sanitizer_report():
            raise AssertionError("sanitizer report:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stop the server; return its exit status; fail on sanitizer output.

        Our clients are closed first: a session that has sent its FIN waits
        for the client's before it ends, and the server for its sessions."""
        self.close_clients()
        if not self.terminate(sig, timeout):
            raise AssertionError("smtp-mimic did not stop on %s" % sig)
        self.check_sanitizers()
        return self.proc.returncode

    def close_clients(self):
        for c in self.clients:
            c.close()

    def cleanup(self):
        self.close_clients()
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def ending(sock, timeout=10, data=b""):
    """Read a socket until the peer ends the connection: ('fin' | 'rst' |
    'open' if nothing ended it within timeout, data + what was read)."""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return "fin", data
            data += chunk
    except ConnectionResetError:
        return "rst", data
    except socket.timeout:
        return "open", data


class Client:
    """A raw SMTP client that reports exactly what came back."""

    def __init__(self, port, host="127.0.0.1", timeout=10):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.buf = b""

    def banner(self):
        """The greeting, as one line (a multi-line greeting joined by |)."""
        return "|".join(self.reply())

    def transaction(self, sender="a@b.test", rcpts=("c@d.test",),
                    body="Subject: t\r\n\r\nhello\r\n"):
        """MAIL, RCPT..., DATA, body, "." -- each reply's lines (lists)."""
        out = [self.cmd("MAIL FROM:<%s>" % sender)]
        for r in rcpts:
            out.append(self.cmd("RCPT TO:<%s>" % r))
        out.append(self.cmd("DATA"))
        self.send(body)
        out.append(self.cmd("."))
        return out

    def nothing_for(self, seconds):
        """True if nothing arrives (and the connection stays open) for
        that long; used only to show a server stays silent."""
        self.sock.settimeout(seconds)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return True
        finally:
            self.sock.settimeout(10)
        self.buf += chunk
        return False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.sock.sendall(data)

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection; unread: %r"
                           % self.buf)
        self.buf += chunk

    def line(self):
        """One reply line without CRLF (str)."""
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line.decode("utf-8", "replace")

    def reply(self):
        """One whole reply (all lines of a multi-line reply), as a list."""
        lines = [self.line()]
        while len(lines[-1]) > 3 and lines[-1][3] == "-":
            lines.append(self.line())
        return lines

    def cmd(self, text):
        """Send a command line and return its reply lines."""
        self.send(text + "\r\n")
        return self.reply()

    def ending(self, timeout=10):
        """Read until the server ends the connection: 'fin' or 'rst'.

        Anything still unread is returned too, as (how, bytes)."""
        data, self.buf = self.buf, b""
        return ending(self.sock, timeout, data)

    def close(self):
        self.sock.close()


class ServerTest(unittest.TestCase):
    """Base class: self.start() a server; it is stopped and checked after:
    it must exit 0 on SIGTERM and its stderr must hold no sanitizer report
    (also when the test stopped it itself)."""

    def setUp(self):
        self.servers = []

    def start(self, profile="standard", args=(), **kw):
        srv = Server(profile, args, **kw)
        self.servers.append(srv)
        return srv

    def tearDown(self):
        for srv in self.servers:
            try:
                # Clients left open would make a FIN-closing session wait
                # for their EOF; close them first.
                srv.close_clients()
                if srv.proc.poll() is None:
                    status = srv.stop()
                    self.assertEqual(status, 0, srv.log())
                else:
                    srv.check_sanitizers()
            finally:
                srv.cleanup()


def have(tool):
    return shutil.which(tool) is not None


DEBIAN_PYTHON = "/usr/bin/python3"


def with_modules(*names):
    """Make the named Python modules importable, or re-run this test under
    Debian's own interpreter, where scripts/deps.sh installs them as
    packages (python3-selenium, python3-jsonschema): a python3 earlier on
    PATH (pyenv, a venv) does not see Debian's dist-packages. Call at
    import time, before importing the modules. Returns False when no
    interpreter has them (the test then skips, or fails under
    SMTP_MIMIC_REQUIRE_TOOLS=1 / CI)."""
    import importlib.util
    if all(importlib.util.find_spec(n) is not None for n in names):
        return True
    if (os.path.realpath(sys.executable) != os.path.realpath(DEBIAN_PYTHON)
            and os.access(DEBIAN_PYTHON, os.X_OK)
            and not os.environ.get("SMTP_MIMIC_REEXEC")):
        probe = subprocess.run(
            [DEBIAN_PYTHON, "-c", "import " + ", ".join(names)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if probe.returncode == 0:
            os.environ["SMTP_MIMIC_REEXEC"] = "1"
            sys.stdout.flush()
            argv = sys.argv
            if "unittest" in argv[0]:  # run as "python3 -m unittest x"
                argv = ["-m", "unittest"] + argv[1:]
            os.execv(DEBIAN_PYTHON, [DEBIAN_PYTHON, "-B"] + argv)
    if os.environ.get("CI") or os.environ.get("SMTP_MIMIC_REQUIRE_TOOLS"):
        raise SystemExit("missing Python modules %s: run scripts/deps.sh "
                         "--test" % ", ".join(names))
    return False
