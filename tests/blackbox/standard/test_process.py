"""The process: command line, --check, --list-profiles, exit statuses,
signals (TERM mid-DATA and idle, HUP reload good and bad), session limits
and IPv6 listening."""
import os
import re
import shutil
import signal
import socket
import ssl
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import (FIXTURES, PROFILES, Client, ServerTest,  # noqa: E402
                     free_port, profile_args, run_cli)

BANNER = ["220 mx.lab.test ESMTP smtp-mimic"]
MAIL_OK = ["250 2.1.0 Ok"]
RCPT_OK = ["250 2.1.5 Ok"]
DATA_START = ["354 End data with <CR><LF>.<CR><LF>"]
NOOP_OK = ["250 2.0.0 Ok"]
QUIT = ["221 2.0.0 Bye"]
QUEUED = r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$"
SHUTDOWN = ("421 4.3.2 mx.lab.test Service not available, closing "
            "transmission channel")
TOO_MANY = "421 4.3.2 mx.lab.test Error: too many connections"

# The EHLO reply each shipped profile writes (its ehlo: section).
CHECK_EHLO = {
    "standard": [
        "250-{hostname}", "250-PIPELINING", "250-SIZE 10485760",
        "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-SMTPUTF8",
        "250-DSN", "250-CHUNKING", "250-AUTH PLAIN LOGIN", "250 STARTTLS"],
    "esa": ["250-{hostname}", "250-8BITMIME", "250 SIZE 10485760"],
    "exchange2013": [
        "250-{hostname} Hello [{client_ip}]", "250-SIZE 37748736",
        "250-PIPELINING", "250-DSN", "250-ENHANCEDSTATUSCODES",
        "250-STARTTLS", "250-X-ANONYMOUSTLS", "250-AUTH NTLM",
        "250-X-EXPS GSSAPI NTLM", "250-8BITMIME", "250-BINARYMIME",
        "250-CHUNKING", "250 XRDST"],
}
SHIPPED = {
    "esa": "Cisco ESA (AsyncOS) listener: banner, EHLO, HELP, 500 #5.5.1, "
           "bad-command limit",
    "exchange2013": "Exchange Server 2013 Receive connector: banner, EHLO, "
                    "replies, limits, 5 s RCPT tarpit",
    "standard": "well-behaved RFC 5321 receiver: accepts everything, no "
                "vendor quirks",
}


def have_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class CommandLine(unittest.TestCase):
    def test_check_shipped_profiles(self):
        for name, ehlo in CHECK_EHLO.items():
            with self.subTest(profile=name):
                cp = run_cli(["--check", "--profile", name,
                              "--profile-path", PROFILES])
                self.assertEqual(cp.returncode, 0, cp.stderr)
                lines = cp.stdout.splitlines()
                start = lines.index("EHLO reply")
                self.assertEqual([ln.strip() for ln in
                                  lines[start + 1:start + 1 + len(ehlo)]],
                                 ehlo)
                self.assertEqual(lines[-1], "profile %s: OK" % name)

    def test_check_fixture_profiles(self):
        for f in sorted(os.listdir(FIXTURES)):
            if not f.startswith("std-"):
                continue
            with self.subTest(fixture=f):
                cp = run_cli(["--check", "--profile",
                              os.path.join(FIXTURES, f)] + profile_args())
                self.assertEqual(cp.returncode, 0, cp.stderr)

    def test_check_broken_profile(self):
        path = os.path.join(FIXTURES, "broken-duration.yaml")
        cp = run_cli(["--check", "--profile", path] + profile_args())
        self.assertEqual(cp.returncode, 1)
        self.assertEqual(cp.stdout, "")
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 1, cp.stderr)
        self.assertTrue(lines[0].startswith(
            'smtp-mimic: %s:6:17: bad duration "soon" for '
            '"limits.idle_timeout"' % path), lines[0])

    def test_broken_profile_refuses_to_start(self):
        cp = run_cli(["--profile", "broken-duration", "--listen",
                      "127.0.0.1:%d" % free_port(), "--spool", "none"]
                     + profile_args())
        self.assertEqual(cp.returncode, 1)
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 1, cp.stderr)
        self.assertRegex(lines[0], r"^smtp-mimic: .*/broken-duration\.yaml"
                                   r":6:17: bad duration ")

    def test_unknown_profile(self):
        cp = run_cli(["--check", "--profile", "no-such-profile"]
                     + profile_args())
        self.assertEqual(cp.returncode, 1)
        self.assertEqual(len(cp.stderr.splitlines()), 1, cp.stderr)
        self.assertTrue(cp.stderr.startswith(
            "smtp-mimic: no-such-profile: profile not found"), cp.stderr)

    def test_list_profiles(self):
        # Grouped by vendor, scenarios under their peer: the layout is
        # test_list_profiles.py's; here the shipped descriptions.
        cp = run_cli(["--list-profiles", "--profile-path", PROFILES])
        self.assertEqual(cp.returncode, 0, cp.stderr)
        got, boxes, group = {}, {}, None
        for line in cp.stdout.splitlines():
            if not line.strip():
                continue
            if not line.startswith(" "):
                group = line
                continue
            name, desc = line.split(None, 1)
            (boxes if group == "middleboxes:" else got)[name] = desc
        for name, desc in SHIPPED.items():
            self.assertEqual(got.get(name), desc, cp.stdout)
        # A scenario says which profile it is laid on.
        self.assertEqual(
            got.get("exchange2013-cscwh48138"),
            "(scenario on exchange2013)  Cisco bug CSCwh48138: FIN right "
            "after the TLS handshake when the ClientHello offers one of nine "
            "suites (catches stock OpenSSL DEFAULT and GnuTLS NORMAL "
            "clients)", cp.stdout)
        # Firewalls are listed apart from the servers they stand before.
        for box in ("asa-esmtp-inspect", "pix-fixup", "pix-fixup-pre723"):
            self.assertIn(box, boxes, cp.stdout)
            self.assertNotIn(box, got, cp.stdout)

    def test_help_and_version(self):
        cp = run_cli(["--help"])
        self.assertEqual(cp.returncode, 0)
        self.assertTrue(cp.stdout.startswith("usage: smtp-mimic [options]\n"))
        for flag in ("--profile", "--profile-path", "--list-profiles",
                     "--check", "--listen", "--max-sessions", "--user",
                     "--spool", "--transcript", "--verbose", "--quiet",
                     "--seed", "--version", "--help"):
            self.assertIn(flag, cp.stdout)
        # The version, then the libraries as linked at run time; the
        # OpenSSL one is the library Python's ssl module loaded too.
        cp = run_cli(["-V"])
        self.assertEqual(cp.returncode, 0)
        lines = cp.stdout.splitlines()
        self.assertEqual(lines[:2], ["smtp-mimic 0.1.0",
                                     "  OpenSSL: " + ssl.OPENSSL_VERSION])
        self.assertEqual(len(lines), 5, cp.stdout)
        self.assertRegex(lines[2], r"^  libevent: 2\.\d+\.\d+-stable$")
        self.assertRegex(lines[3], r"^  libyaml: 0\.\d+\.\d+$")
        self.assertRegex(lines[4], r"^  jansson: 2\.\d+(\.\d+)?$")

    def test_usage_errors(self):
        cp = run_cli(["--bogus"])
        self.assertEqual(cp.returncode, 2)
        self.assertEqual(cp.stdout, "")
        self.assertIn("'--bogus'", cp.stderr)
        self.assertTrue(cp.stderr.endswith("Try 'smtp-mimic --help'.\n"))
        for args in (["--seed", "abc"], ["--max-sessions", "-1"],
                     ["--listen"], ["stray"]):
            with self.subTest(args=args):
                cp = run_cli(args + profile_args())
                self.assertEqual(cp.returncode, 2, cp.stderr)

    def test_port_in_use(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            spec = "127.0.0.1:%d" % port
            cp = run_cli(["--listen", spec, "--spool", "none"]
                         + profile_args())
        self.assertEqual(cp.returncode, 1)
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 1, cp.stderr)
        self.assertTrue(lines[0].startswith(
            "smtp-mimic: fatal: --listen %s: cannot bind: " % spec), lines[0])

    def test_bad_listen_address(self):
        cp = run_cli(["--listen", "not-an-address", "--spool", "none"]
                     + profile_args())
        self.assertEqual(cp.returncode, 1)
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 1, cp.stderr)
        self.assertTrue(lines[0].startswith(
            "smtp-mimic: fatal: --listen not-an-address: not an address"), lines[0])


class Signals(ServerTest):
    def test_sigterm_mid_data(self):
        srv = self.start("standard")
        busy = srv.connect()
        self.assertEqual(busy.reply(), BANNER)
        self.assertEqual(busy.cmd("HELO busy.test"), ["250 mx.lab.test"])
        self.assertEqual(busy.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(busy.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(busy.cmd("DATA"), DATA_START)
        busy.send("Subject: during shutdown\r\n\r\nfirst half\r\n")
        idle = srv.connect()
        self.assertEqual(idle.reply(), BANNER)
        srv.wait_event(lambda e: e["session"] == 2 and e["dir"] == "S")
        srv.send_signal(signal.SIGTERM)
        # The idle session is told at once and closed.
        self.assertEqual(idle.ending(), ("fin", (SHUTDOWN + "\r\n").encode()))
        # No new connections.
        with self.assertRaises(OSError):
            Client(srv.port, timeout=2).close()
        # The busy one finishes its message, and only then hears it.
        busy.send("second half\r\n.\r\n")
        self.assertRegex(busy.reply()[0], QUEUED)
        self.assertEqual(busy.reply(), [SHUTDOWN])
        self.assertEqual(busy.ending(), ("fin", b""))
        busy.close()
        idle.close()
        self.assertEqual(srv.wait_exit(), 0)
        (body, env), = srv.messages()
        self.assertEqual(body, b"Subject: during shutdown\r\n\r\nfirst half"
                               b"\r\nsecond half\r\n")
        self.assertEqual(srv.tmp_files(), [])

    def test_sigterm_idle_sessions(self):
        srv = self.start("standard")
        clients = [srv.connect() for _ in range(3)]
        for c in clients:
            self.assertEqual(c.reply(), BANNER)
        self.assertEqual(clients[1].cmd("EHLO x.test")[-1], "250 STARTTLS")
        self.assertEqual(clients[2].cmd("MAIL FROM:<a@b.test>"),
                         ["503 5.5.1 Error: send HELO/EHLO first"])
        srv.send_signal(signal.SIGTERM)
        for c in clients:
            self.assertEqual(c.ending(), ("fin", (SHUTDOWN + "\r\n").encode()))
            c.close()
        self.assertEqual(srv.wait_exit(), 0)
        closes = [e["text"] for e in srv.events() if e["dir"] == "close"]
        self.assertEqual(closes, ["fin (server shutting down)"] * 3)

    def start_mid_data(self, srv):
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("HELO busy.test"), ["250 mx.lab.test"])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send("Subject: never finished\r\n\r\npart")
        srv.wait_event(lambda e: e["dir"] == "S" and e["text"] ==
                       DATA_START[0])
        return c

    def test_second_sigterm_mid_data_exits_at_once(self):
        srv = self.start("standard")
        c = self.start_mid_data(srv)
        srv.send_signal(signal.SIGTERM)
        srv.wait_log("stopping")
        srv.send_signal(signal.SIGTERM)
        # Exits 0 with the session still open, leaking nothing (the
        # harness fails on a LeakSanitizer report) and leaving no file.
        self.assertEqual(srv.wait_exit(), 0, srv.log())
        c.close()
        srv.check_sanitizers()
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])

    def test_sigterm_grace_period_over(self):
        srv = self.start("standard")
        c = self.start_mid_data(srv)
        srv.send_signal(signal.SIGTERM)
        # The client never finishes: after the grace period (10 s) the
        # session gets the shutdown reply and is closed, and the process
        # exits 0, even though the client never closes its end.
        self.assertEqual(c.ending(timeout=30),
                         ("fin", (SHUTDOWN + "\r\n").encode()))
        self.assertEqual(srv.wait_exit(), 0, srv.log())
        c.close()
        srv.check_sanitizers()
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])
        closes = [e["text"] for e in srv.events() if e["dir"] == "close"]
        self.assertEqual(closes, ["fin (shutdown grace period over)"])

    def test_sigint_exits_zero(self):
        srv = self.start("standard")
        self.assertEqual(srv.stop(signal.SIGINT), 0)

    def start_hup(self):
        # The profile file lives in a directory of its own, so the test can
        # rewrite it; "extends: standard" is found in the search path.
        d = tempfile.mkdtemp(prefix="mimic-hup-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "std-hup.yaml")
        shutil.copy(os.path.join(FIXTURES, "std-hup.yaml"), path)
        return self.start(path), path

    def test_sighup_reload(self):
        srv, path = self.start_hup()
        old = srv.connect()
        self.assertEqual(old.reply(), ["220 mx.lab.test ESMTP before reload"])
        with open(path, "a") as f:
            f.write('replies: {noop_ok: "250 2.0.0 Ok after reload"}\n')
        with open(path) as f:
            text = f.read().replace("before reload", "after reload")
        with open(path, "w") as f:
            f.write(text)
        srv.send_signal(signal.SIGHUP)
        srv.wait_log("reloaded profile std-hup")
        new = srv.connect()
        self.assertEqual(new.reply(), ["220 mx.lab.test ESMTP after reload"])
        self.assertEqual(new.cmd("NOOP"), ["250 2.0.0 Ok after reload"])
        # The session opened before the reload keeps its profile.
        self.assertEqual(old.cmd("NOOP"), NOOP_OK)
        for c in (old, new):
            self.assertEqual(c.cmd("QUIT"), QUIT)
            self.assertEqual(c.ending(), ("fin", b""))

    def test_sighup_broken_file_keeps_profile(self):
        srv, path = self.start_hup()
        with open(path, "a") as f:
            f.write("limits: {idle_timeout: soon}\n")
        srv.send_signal(signal.SIGHUP)
        log = srv.wait_log("reload failed")
        line = [ln for ln in log.splitlines() if "reload failed" in ln][0]
        self.assertIn("keeping profile std-hup", line)
        self.assertIn("%s:6:24: bad duration" % path, line)
        c = srv.connect()
        self.assertEqual(c.reply(), ["220 mx.lab.test ESMTP before reload"])
        self.assertEqual(c.cmd("NOOP"), NOOP_OK)
        self.assertEqual(c.cmd("QUIT"), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))


class Sessions(ServerTest):
    def test_max_sessions(self):
        srv = self.start("standard", args=["--max-sessions", "2"])
        a, b = srv.connect(), srv.connect()
        self.assertEqual(a.reply(), BANNER)
        self.assertEqual(b.reply(), BANNER)
        c = srv.connect()
        self.assertEqual(c.ending(), ("fin", (TOO_MANY + "\r\n").encode()))
        c.close()
        # The two are still served; once one leaves, there is room again.
        self.assertEqual(a.cmd("NOOP"), NOOP_OK)
        self.assertEqual(b.cmd("QUIT"), QUIT)
        self.assertEqual(b.ending(), ("fin", b""))
        b.close()
        srv.wait_event(lambda e: e["session"] == 2 and e["dir"] == "close")
        # The session is counted until its socket is released; retry
        # until it has been (the refusal above must not repeat forever).
        for _ in range(100):
            d = srv.connect()
            first = d.reply()
            if first == BANNER:
                break
            self.assertEqual(first, [TOO_MANY])
            d.close()
        self.assertEqual(first, BANNER)
        for c in (d, a):
            self.assertEqual(c.cmd("QUIT"), QUIT)
            self.assertEqual(c.ending(), ("fin", b""))

    @unittest.skipUnless(have_ipv6_loopback(), "no IPv6 loopback")
    def test_ipv6_listener(self):
        srv = self.start("standard", listen=["[::1]:{port}",
                                             "127.0.0.1:{port}"])
        port = srv.port
        c = Client(port, host="::1")
        srv.clients.append(c)
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("EHLO v6.test")[0], "250-mx.lab.test")
        r = c.transaction()
        self.assertRegex(r[3][0], QUEUED)
        self.assertEqual(c.cmd("QUIT"), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))
        (body, env), = srv.messages()
        self.assertEqual(env["client"]["ip"], "::1")
        self.assertEqual(env["server"], {"ip": "::1", "port": port})
        ev = srv.wait_event(lambda e: e["dir"] == "connect")
        self.assertTrue(re.match(r"^::1:\d+ -> ::1:%d " % port, ev["text"])
                        or ev["text"].startswith("[::1]:"), ev["text"])
        # The IPv4 listener on the same port works too.
        c4 = srv.connect()
        self.assertEqual(c4.reply(), BANNER)
        self.assertEqual(c4.cmd("QUIT"), QUIT)
        self.assertEqual(c4.ending(), ("fin", b""))


if __name__ == "__main__":
    unittest.main()
