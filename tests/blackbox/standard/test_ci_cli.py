"""The command line a CI job drives: --listen on port 0 (also ":0") with
--ready-file (JSON with the bound addresses, also with -q, rewritten on
each start), --exit-after N, --expect NAME / NAME=COUNT / '!NAME' (exit
status 3 and one line per unmet one; an unknown NAME refused at start),
--summary FILE (exact counters after a known sequence), and the one-line
errors for bad values."""
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import (BINARY, profile_args, run_cli,  # noqa: E402
                     sanitizer_report)

BANNER = b"220 mx.lab.test ESMTP smtp-mimic\r\n"
SHUTDOWN = (b"421 4.3.2 mx.lab.test Service not available, closing "
            b"transmission channel\r\n")
READY_KEYS = ["pid", "smtp", "http", "profile"]
ADDR = re.compile(r"^127\.0\.0\.1:([0-9]+)(/tls)?$")


class Mimic:
    """smtp-mimic started with the given flags in a private directory,
    found through its ready file (never through a guessed port)."""

    def __init__(self, args, profile="standard", ready=True):
        """args: "{dir}" in one stands for the private directory."""
        self.dir = tempfile.mkdtemp(prefix="mimic-ci-")
        args = [a.replace("{dir}", self.dir) for a in args]
        self.ready_path = os.path.join(self.dir, "ready.json")
        self.summary_path = os.path.join(self.dir, "summary.json")
        self.spool = os.path.join(self.dir, "spool")
        cmd = [BINARY, "--profile", profile] + profile_args() + [
            "--spool", self.spool, "--workers", "1"]
        if ready:
            cmd += ["--ready-file", self.ready_path]
        self.stderr_path = os.path.join(self.dir, "stderr.txt")
        self.stderr_file = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(cmd + list(args),
                                     stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.stderr_file)

    def stderr(self):
        with open(self.stderr_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_ready(self, timeout=20):
        """The ready file's JSON once this process has written it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with open(self.ready_path, encoding="utf-8") as f:
                    ready = json.load(f)
                if ready.get("pid") == self.proc.pid:
                    return ready
            except FileNotFoundError:
                pass
            if self.proc.poll() is not None:
                raise AssertionError("exited %d before ready: %s"
                                     % (self.proc.returncode, self.stderr()))
            time.sleep(0.02)
        raise AssertionError("no ready file: " + self.stderr())

    def port(self, ready, tls=False):
        for spec in ready["smtp"]:
            m = ADDR.match(spec)
            if m and bool(m.group(2)) == tls:
                return int(m.group(1))
        raise AssertionError("no %s address in %r" % (
            "/tls" if tls else "plain", ready))

    def wait_exit(self, timeout=20):
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("still running: " + self.stderr())
        if sanitizer_report(self.stderr()):
            raise AssertionError("sanitizer report:\n" + self.stderr())
        return status

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit()

    def summary(self):
        with open(self.summary_path, encoding="utf-8") as f:
            return json.load(f)

    def new_files(self):
        new = os.path.join(self.spool, "new")
        return sorted(os.listdir(new)) if os.path.isdir(new) else []

    def cleanup(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.stderr_file.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Raw:
    """A raw SMTP client that counts every byte each way."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sent = self.got = 0
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)
        self.sent += len(data)

    def reply(self):
        """One whole reply's lines (bytes, without CRLF)."""
        lines = []
        while True:
            while b"\r\n" not in self.buf:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise EOFError(self.buf)
                self.got += len(chunk)
                self.buf += chunk
            line, self.buf = self.buf.split(b"\r\n", 1)
            lines.append(line)
            if len(line) < 4 or line[3:4] != b"-":
                return lines

    def cmd(self, line):
        self.send(line + b"\r\n")
        return self.reply()

    def until_fin(self):
        """Everything left until the server's FIN."""
        rest = self.buf
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                break
            self.got += len(chunk)
            rest += chunk
        self.buf = b""
        self.sock.close()
        return rest

    def message(self):
        self.cmd(b"MAIL FROM:<a@b.test>")
        self.cmd(b"RCPT TO:<c@d.test>")
        self.cmd(b"DATA")
        self.send(b"Subject: t\r\n\r\nhello\r\n")
        return self.cmd(b".")


class CiTest(unittest.TestCase):
    def mimic(self, args, **kw):
        m = Mimic(args, **kw)
        self.addCleanup(m.cleanup)
        return m

    def fire(self, port, times=1, verb=b"NOOP rule"):
        """One session of std-rules: noop-reply fires `times` times."""
        c = Raw(port)
        self.assertEqual(c.reply(), [BANNER[:-2]])
        for _ in range(times):
            self.assertEqual(c.cmd(verb), [b"250 2.0.0 Ok (rule)"])
        c.cmd(b"QUIT")
        c.until_fin()


class Ready(CiTest):
    def check_ready(self, m, ready, profile="standard"):
        self.assertEqual(sorted(ready), sorted(READY_KEYS))
        self.assertEqual(ready["pid"], m.proc.pid)
        self.assertIsNone(ready["http"])
        self.assertEqual(ready["profile"], profile)
        for spec in ready["smtp"]:
            m_ = ADDR.match(spec)
            self.assertIsNotNone(m_, spec)
            self.assertNotEqual(int(m_.group(1)), 0, spec)
        # Nothing but the ready file itself: the temporary one is gone.
        self.assertEqual(sorted(f for f in os.listdir(m.dir)
                                if f.startswith(".") or f.startswith("ready")),
                         ["ready.json"])

    def banner_at(self, port):
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.settimeout(10)
            got = b""
            while not got.endswith(b"\r\n"):
                chunk = s.recv(1024)
                if not chunk:
                    break
                got += chunk
            return got

    def test_port_zero_and_ready_file(self):
        m = self.mimic(["--listen", "127.0.0.1:0", "--listen", ":0/tls"])
        ready = m.wait_ready()
        self.check_ready(m, ready)
        self.assertEqual(len(ready["smtp"]), 2, ready)
        self.assertTrue(ready["smtp"][0].startswith("127.0.0.1:"))
        self.assertTrue(ready["smtp"][1].endswith("/tls"))
        self.assertEqual(self.banner_at(m.port(ready)), BANNER)
        # The bound port is the one the "listening on" line names.
        self.assertIn("listening on %s (--listen 127.0.0.1:0, 1 worker)"
                      % ready["smtp"][0], m.stderr())
        self.assertEqual(m.stop(), 0)
        # Left in place at exit.
        self.assertTrue(os.path.exists(m.ready_path))

    def test_http_in_ready_file(self):
        m = self.mimic(["-q", "--listen", ":0", "--http", "127.0.0.1:0"])
        ready = m.wait_ready()
        self.assertEqual(sorted(ready), sorted(READY_KEYS))
        hm = ADDR.match(ready["http"] or "")
        self.assertIsNotNone(hm, ready)
        self.assertIsNone(hm.group(2))
        with socket.create_connection(("127.0.0.1", int(hm.group(1))),
                                      timeout=10) as s:
            s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            got = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
        self.assertTrue(got.startswith(b"HTTP/1.0 200") or
                        got.startswith(b"HTTP/1.1 200"), got)
        self.assertTrue(got.endswith(b"\r\n\r\nok\n"), got)
        self.assertEqual(self.banner_at(m.port(ready)), BANNER)
        self.assertEqual(m.stop(), 0)

    def test_quiet(self):
        m = self.mimic(["-q", "--listen", ":0"])
        ready = m.wait_ready()
        self.check_ready(m, ready)
        self.assertEqual(len(ready["smtp"]), 1, ready)
        self.assertEqual(self.banner_at(m.port(ready)), BANNER)
        self.assertEqual(m.stop(), 0)
        self.assertEqual(m.stderr(), "")

    def test_two_servers_get_two_ports(self):
        a = self.mimic(["-q", "--listen", "127.0.0.1:0"])
        b = self.mimic(["-q", "--listen", "127.0.0.1:0"])
        pa, pb = a.port(a.wait_ready()), b.port(b.wait_ready())
        self.assertNotEqual(pa, pb)
        self.assertEqual(self.banner_at(pa), BANNER)
        self.assertEqual(self.banner_at(pb), BANNER)
        self.assertEqual(a.stop(), 0)
        self.assertEqual(b.stop(), 0)

    def test_old_ready_file_replaced(self):
        m = Mimic([], ready=False)
        self.addCleanup(m.cleanup)
        m.proc.kill()
        m.proc.wait()
        with open(m.ready_path, "w") as f:
            f.write('{"pid": 1, "smtp": ["127.0.0.1:1"]}\n')
        n = self.mimic(["-q", "--listen", ":0", "--ready-file",
                        m.ready_path])
        n.ready_path = m.ready_path
        ready = n.wait_ready()
        self.assertEqual(ready["pid"], n.proc.pid)
        self.assertEqual(self.banner_at(n.port(ready)), BANNER)
        self.assertEqual(n.stop(), 0)

    def test_unwritable_ready_dir(self):
        cp = run_cli(["--listen", ":0", "--spool", "none", "--ready-file",
                      "/nonexistent-dir/ready.json"] + profile_args())
        self.assertEqual(cp.returncode, 1)
        self.assertEqual(cp.stderr,
                         "smtp-mimic: --ready-file /nonexistent-dir/ready.json"
                         ": cannot write in /nonexistent-dir: No such file "
                         "or directory\n")


class ExitAfter(CiTest):
    def test_exit_after_two(self):
        m = self.mimic(["--listen", ":0", "--exit-after", "2"])
        port = m.port(m.wait_ready())
        for i in range(2):
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as s:
                s.ehlo("client.test")
                refused = s.sendmail("a@b.test", ["c@d.test"],
                                     "Subject: %d\r\n\r\nbody\r\n" % i)
                self.assertEqual(refused, {})
        self.assertEqual(m.wait_exit(), 0)
        files = m.new_files()
        self.assertEqual(len(files), 2, files)
        bodies = []
        for name in files:
            with open(os.path.join(m.spool, "new", name), "rb") as f:
                bodies.append(f.read())
        self.assertEqual([b"Subject: 0" in b for b in bodies], [True, False])
        self.assertEqual([b"Subject: 1" in b for b in bodies], [False, True])
        self.assertIn("stopped; 2 message(s) accepted", m.stderr())

    def test_idle_session_after_grace(self):
        # A session still open when the last message comes may go on
        # until --grace is over, then hears the shutdown reply.
        m = self.mimic(["-q", "--listen", ":0", "--exit-after", "1",
                        "--grace", "1"])
        port = m.port(m.wait_ready())
        idle = Raw(port)
        self.assertEqual(idle.reply(), [BANNER[:-2]])
        c = Raw(port)
        c.reply()
        c.cmd(b"EHLO client.test")
        self.assertTrue(c.message()[0].startswith(b"250 2.0.0 Ok: queued"))
        self.assertEqual(c.cmd(b"QUIT"), [b"221 2.0.0 Bye"])
        c.until_fin()
        # No new connection is taken any more.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
            except OSError:
                break
            time.sleep(0.02)
        else:
            self.fail("still accepting after --exit-after 1")
        self.assertEqual(idle.until_fin(), SHUTDOWN)
        self.assertEqual(m.wait_exit(), 0)
        self.assertEqual(len(m.new_files()), 1)

    def test_not_before(self):
        # One message of two: still serving (the next EHLO answers).
        m = self.mimic(["-q", "--listen", ":0", "--exit-after", "2"])
        port = m.port(m.wait_ready())
        c = Raw(port)
        c.reply()
        c.cmd(b"EHLO client.test")
        self.assertTrue(c.message()[0].startswith(b"250 2.0.0 Ok: queued"))
        self.assertEqual(c.cmd(b"NOOP"), [b"250 2.0.0 Ok"])
        c.cmd(b"QUIT")
        c.until_fin()
        self.assertIsNone(m.proc.poll())
        self.assertEqual(m.stop(), 0)
        self.assertEqual(len(m.new_files()), 1)


class Expect(CiTest):
    def run_fired(self, expects, times, profile="std-rules", extra=()):
        args = ["-q", "--listen", ":0"] + list(extra)
        for e in expects:
            args += ["--expect", e]
        m = self.mimic(args, profile=profile)
        port = m.port(m.wait_ready())
        if times:
            self.fire(port, times)
        return m, m.stop()

    def test_met(self):
        m, status = self.run_fired(["noop-reply", "noop-reply=2", "!reset",
                                    "second-help=0"], 2)
        self.assertEqual(status, 0, m.stderr())
        self.assertEqual(m.stderr(), "")

    def test_unmet_at_least(self):
        m, status = self.run_fired(["noop-reply"], 0)
        self.assertEqual(status, 3)
        self.assertEqual(m.stderr(),
                         "smtp-mimic: expectation failed: rule noop-reply "
                         "fired 0 times, expected at least 1\n")

    def test_unmet_exactly(self):
        m, status = self.run_fired(["noop-reply=2", "noop-reply"], 1)
        self.assertEqual(status, 3)
        self.assertEqual(m.stderr(),
                         "smtp-mimic: expectation failed: rule noop-reply "
                         "fired 1 time, expected exactly 2\n")

    def test_never_violated(self):
        m, status = self.run_fired(["!noop-reply", "!reset"], 3)
        self.assertEqual(status, 3)
        self.assertEqual(m.stderr(),
                         "smtp-mimic: expectation failed: rule noop-reply "
                         "fired 3 times, expected never\n")

    def test_unknown_rule(self):
        cp = run_cli(["--profile", "std-rules", "--listen", ":0", "--spool",
                      "none", "--expect", "noop-reply", "--expect",
                      "!no-such-rule"] + profile_args())
        self.assertEqual(cp.returncode, 1)
        self.assertEqual(cp.stderr,
                         "smtp-mimic: --expect !no-such-rule: profile "
                         "std-rules has no rule named no-such-rule\n")

    def test_unknown_rule_with_http_warns(self):
        # A rule may still come over HTTP: a warning, then unmet at exit.
        m, status = self.run_fired(["late-rule"], 0,
                                   extra=["--http", "127.0.0.1:0"])
        self.assertEqual(status, 3)
        self.assertEqual(m.stderr(),
                         "smtp-mimic: warning: --expect late-rule: profile "
                         "std-rules "
                         "has no rule named late-rule (yet: one may be "
                         "added over --http)\n"
                         "smtp-mimic: expectation failed: rule late-rule "
                         "fired 0 times, expected at least 1\n")

    def test_shipped_profile_rule(self):
        m, status = self.run_fired(["!CSCwh48138"], 0,
                                   profile="exchange2013-cscwh48138")
        self.assertEqual(status, 0, m.stderr())


class Summary(CiTest):
    def test_exact_after_known_sequence(self):
        m = self.mimic(["-q", "--listen", ":0", "--exit-after", "2",
                        "--expect", "noop-reply", "--summary",
                        "{dir}/summary.json"], profile="std-rules")
        port = m.port(m.wait_ready())
        a = Raw(port)
        a.reply()
        a.cmd(b"EHLO client.test")
        self.assertEqual(a.cmd(b"NOOP rule"), [b"250 2.0.0 Ok (rule)"])
        self.assertTrue(a.message()[0].startswith(b"250 2.0.0 Ok: queued"))
        self.assertEqual(a.cmd(b"QUIT"), [b"221 2.0.0 Bye"])
        a.until_fin()
        b = Raw(port)
        b.reply()
        b.cmd(b"EHLO client.test")
        self.assertTrue(b.message()[0].startswith(b"250 2.0.0 Ok: queued"))
        # The second message ends the run; this session may still QUIT.
        self.assertEqual(b.cmd(b"QUIT"), [b"221 2.0.0 Bye"])
        self.assertEqual(b.until_fin(), b"")
        self.assertEqual(m.wait_exit(), 0)
        self.assertEqual(m.summary(), {
            "sessions": {"total": 2, "open": 0, "closed": 2},
            "messages": 2,
            "profiles": {"std-rules": {"sessions": 2, "open": 0,
                                       "messages": 2,
                                       "rules": {"noop-reply": 1}}},
            "rules": {"noop-reply": 1},
            "closes": {"fin": 2},
            "tls": {},
            "bytes": {"in": a.sent + b.sent, "out": a.got + b.got},
            "expectations": [{"arg": "noop-reply", "rule": "noop-reply",
                              "kind": "at_least", "count": 1, "fired": 1,
                              "met": True}],
            "exit_status": 0,
        })
        self.assertEqual(len(m.new_files()), 2)

    def test_unmet_in_summary(self):
        m = self.mimic(["-q", "--listen", ":0", "--expect", "!noop-reply",
                        "--expect", "reset=1", "--summary",
                        "{dir}/summary.json"], profile="std-rules")
        self.fire(m.port(m.wait_ready()), 2)
        self.assertEqual(m.stop(), 3)
        got = m.summary()
        self.assertEqual(got["exit_status"], 3)
        self.assertEqual(got["expectations"], [
            {"arg": "!noop-reply", "rule": "noop-reply", "kind": "never",
             "count": 0, "fired": 2, "met": False},
            {"arg": "reset=1", "rule": "reset", "kind": "exactly",
             "count": 1, "fired": 0, "met": False}])
        self.assertEqual(got["rules"], {"noop-reply": 2})
        self.assertEqual(got["closes"], {"fin": 1})
        self.assertEqual(m.stderr(),
                         "smtp-mimic: expectation failed: rule noop-reply "
                         "fired 2 times, expected never\n"
                         "smtp-mimic: expectation failed: rule reset fired "
                         "0 times, expected exactly 1\n")

    def test_tls_handshake(self):
        m = self.mimic(["-q", "--listen", ":0/tls", "--summary",
                        "{dir}/summary.json"])
        port = m.port(m.wait_ready(), tls=True)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with ctx.wrap_socket(raw) as s:
                version, suite = s.version(), s.cipher()[0]
                f = s.makefile("rb")
                self.assertEqual(f.readline(), BANNER)
                s.sendall(b"QUIT\r\n")
                self.assertEqual(f.readline(), b"221 2.0.0 Bye\r\n")
                f.close()
        self.assertEqual(m.stop(), 0)
        got = m.summary()
        self.assertEqual(version, "TLSv1.3")
        self.assertEqual(got["tls"], {"TLSv1.3": {suite: 1}})
        self.assertEqual(got["sessions"], {"total": 1, "open": 0,
                                           "closed": 1})
        self.assertEqual(got["expectations"], [])
        self.assertEqual(got["exit_status"], 0)


class BadValues(unittest.TestCase):
    def check(self, args, status, line):
        cp = run_cli(args + ["--spool", "none", "--listen", ":0"]
                     + profile_args())
        self.assertEqual((cp.returncode, cp.stderr), (status, line + "\n"))

    def test_bad_values(self):
        cases = [
            (["--exit-after", "x"], 2,
             "smtp-mimic: --exit-after x: not a number of messages (1 or "
             "more)"),
            (["--exit-after", "0"], 2,
             "smtp-mimic: --exit-after 0: not a number of messages (1 or "
             "more)"),
            (["--exit-after", "-1"], 2,
             "smtp-mimic: --exit-after -1: not a number of messages (1 or "
             "more)"),
            (["--expect", "=3"], 2,
             "smtp-mimic: --expect =3: no rule name (use NAME, NAME=COUNT "
             "or !NAME)"),
            (["--expect", "!"], 2,
             "smtp-mimic: --expect !: no rule name (use NAME, NAME=COUNT "
             "or !NAME)"),
            (["--expect", "noop-reply=x"], 2,
             "smtp-mimic: --expect noop-reply=x: bad count \"x\" (a "
             "number, 0 or more; use NAME, NAME=COUNT or !NAME)"),
            (["--expect", "!noop-reply=1"], 2,
             "smtp-mimic: --expect !noop-reply=1: !NAME takes no count "
             "(use NAME, NAME=COUNT or !NAME)"),
            (["--ready-file", ""], 2,
             "smtp-mimic: --ready-file: empty file name"),
            (["--summary", ""], 2, "smtp-mimic: --summary: empty file name"),
            (["--expect", "noop-reply"], 1,
             "smtp-mimic: --expect noop-reply: profile standard has no "
             "rule named noop-reply"),
        ]
        for args, status, line in cases:
            with self.subTest(args=args):
                self.check(args, status, line)

    def test_help_teaches_each_flag(self):
        cp = run_cli(["--help"])
        self.assertEqual(cp.returncode, 0)
        for example in ("--listen 127.0.0.1:0 --ready-file ready.json",
                        "exit 0: --exit-after 2",
                        "--expect CSCwh48138 --expect '!other'",
                        "expectations): --summary summary.json",
                        "exit status 3: an --expect was not met"):
            self.assertIn(example, cp.stdout)


if __name__ == "__main__":
    unittest.main()
