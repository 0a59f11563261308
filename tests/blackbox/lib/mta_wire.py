"""mta_wire.py - the checks every Unix MTA personality shares (postfix,
sendmail, exim, qmail), as a base class its folder's test_wire.py fills in.

A subclass sets PROFILE and the exact strings of its FACTS.md section
(BANNER a regex when it holds a date, EHLO the lines for EHLO_NAME from
127.0.0.1, MAIL_OK, ...; None skips a check the peer has no text for). The
checks drive the real binary over a raw socket (exact bytes, CRLF
included), Python's smtplib and swaks, so each string is asserted as
three different clients see it. Nothing here knows a vendor's text.
"""
import os
import re
import smtplib
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from harness import PROFILES, ServerTest, have  # noqa: E402

ARGS = ["--profile-path", PROFILES]
EHLO_NAME = "client.lab.test"
FROM = "alice@lab.test"
TO = "bob@lab.test"
BODY = "Subject: wire\r\n\r\nhello\r\n"


def exact(srv, send, want, timeout=10):
    """Send bytes, read until len(want) bytes came, return them."""
    c = srv.connect()
    c.sock.settimeout(timeout)
    if send:
        c.send(send)
    got = c.buf
    while len(got) < len(want):
        chunk = c.sock.recv(65536)
        if not chunk:
            break
        got += chunk
    c.buf = b""
    return c, got


def swaks_lines(port, *extra):
    """Run swaks; its exit code and the server lines it printed (the
    "<-  " and, inside TLS, "<~  " lines without their prefix)."""
    argv = ["swaks", "--server", "127.0.0.1:%d" % port, "--helo", EHLO_NAME,
            "--from", FROM, "--to", TO, "--timeout", "10",
            "--data", "Subject: swaks\\n\\nhello from swaks\\n"] + list(extra)
    cp = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=30)
    out = cp.stdout.decode("utf-8", "replace")
    lines = [m.group(2) for m in
             re.finditer(r"^(<-|<~) {1,2}(.*)$", out, re.M)]
    return cp.returncode, lines, out


class MtaWire(ServerTest):
    """Fill in the class attributes; the test_* methods use them."""
    PROFILE = None
    BANNER = None       # regex of the greeting line
    EHLO = None         # the EHLO reply lines for EHLO_NAME
    HELO = None
    MAIL_OK = None
    RCPT_OK = None
    DATA_START = None
    DATA_OK = None      # regex: the queue id varies
    RSET = None
    NOOP = None
    QUIT = None
    QUIT_FIN = True
    UNKNOWN = None      # reply to "XYZZY"
    NEED_HELO = None    # MAIL before EHLO (None: the peer allows it)
    NEED_MAIL = None    # RCPT before MAIL
    NEED_RCPT = None    # DATA before RCPT
    NESTED_MAIL = None  # MAIL inside a transaction
    MAIL_SYNTAX = None  # "MAIL FROM:alice lab"
    RCPT_SYNTAX = None  # "RCPT TO:bob lab"

    @classmethod
    def setUpClass(cls):
        if cls.PROFILE is None:
            raise unittest_skip("base class")

    def start_mta(self, **kw):
        return self.start(self.PROFILE, args=ARGS, **kw)

    def hello(self, srv):
        c = srv.connect()
        self.assertRegex(c.line(), self.BANNER)
        self.assertEqual(c.cmd("EHLO " + EHLO_NAME), self.EHLO)
        return c

    def quit(self, c):
        self.assertEqual(c.cmd("QUIT"), [self.QUIT])
        if self.QUIT_FIN:
            self.assertEqual(c.ending(), ("fin", b""))

    def test_banner_and_ehlo_bytes(self):
        srv = self.start_mta()
        c, got = exact(srv, b"", b"x" * 5)
        while not got.endswith(b"\r\n"):
            got += c.sock.recv(65536)
        banner = got.decode()
        self.assertTrue(banner.endswith("\r\n") and banner.count("\r\n") == 1,
                        repr(banner))
        self.assertRegex(banner[:-2], self.BANNER)
        c.send("EHLO %s\r\n" % EHLO_NAME)
        want = "".join(line + "\r\n" for line in self.EHLO).encode()
        got = b""
        while len(got) < len(want):
            chunk = c.sock.recv(65536)
            self.assertTrue(chunk, got)
            got += chunk
        self.assertEqual(got, want)
        if self.HELO is not None:
            self.assertEqual(c.cmd("HELO " + EHLO_NAME), [self.HELO])
        self.quit(c)

    def test_transaction_raw(self):
        srv = self.start_mta()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), [self.MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), [self.RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [self.DATA_START])
        c.send(BODY)
        r = c.cmd(".")
        self.assertEqual(len(r), 1, r)
        self.assertRegex(r[0], self.DATA_OK)
        if self.RSET is not None:
            self.assertEqual(c.cmd("RSET"), [self.RSET])
        if self.NOOP is not None:
            self.assertEqual(c.cmd("NOOP"), [self.NOOP])
        self.quit(c)
        # the accepted event carries the queue id as the 250 printed it
        ev = srv.wait_event(lambda e: e.get("event") == "accepted")
        self.assertIn(ev["queue_id"], r[0])
        self.assertEqual(len(srv.messages()), 1)

    def test_smtplib(self):
        srv = self.start_mta()
        s = smtplib.SMTP("127.0.0.1", srv.port, local_hostname=EHLO_NAME,
                         timeout=10)
        try:
            code, text = s.ehlo()
            self.assertEqual(code, 250)
            self.assertEqual(text.decode().split("\n"),
                             [line[4:] for line in self.EHLO])
            self.assertEqual(s.mail(FROM), (int(self.MAIL_OK[:3]),
                                            self.MAIL_OK[4:].encode()))
            self.assertEqual(s.rcpt(TO), (int(self.RCPT_OK[:3]),
                                          self.RCPT_OK[4:].encode()))
            code, text = s.data(BODY)
            self.assertEqual(code, 250)
            self.assertRegex("250 " + text.decode(), self.DATA_OK)
            if self.NOOP is not None:
                self.assertEqual(s.noop(), (int(self.NOOP[:3]),
                                            self.NOOP[4:].encode()))
            if self.RSET is not None:
                self.assertEqual(s.rset(), (int(self.RSET[:3]),
                                            self.RSET[4:].encode()))
        finally:
            self.assertEqual(s.quit(), (int(self.QUIT[:3]),
                                        self.QUIT[4:].encode()))

    def test_swaks(self):
        if not have("swaks"):
            self.skipTest("swaks not installed")
        srv = self.start_mta()
        rc, lines, out = swaks_lines(srv.port)
        self.assertEqual(rc, 0, out)
        self.assertRegex(lines[0], self.BANNER)
        n = len(self.EHLO)
        self.assertEqual(lines[1:1 + n], self.EHLO, out)
        rest = lines[1 + n:]
        self.assertEqual(rest[:3], [self.MAIL_OK, self.RCPT_OK,
                                    self.DATA_START], out)
        self.assertRegex(rest[3], self.DATA_OK)
        self.assertEqual(rest[4:], [self.QUIT], out)

    def test_errors(self):
        srv = self.start_mta()
        c = srv.connect()
        self.assertRegex(c.line(), self.BANNER)
        if self.NEED_HELO is not None:
            self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), [self.NEED_HELO])
        self.assertEqual(c.cmd("EHLO " + EHLO_NAME), self.EHLO)
        self.assertEqual(c.cmd("XYZZY"), [self.UNKNOWN])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), [self.NEED_MAIL])
        if self.MAIL_SYNTAX is not None:
            self.assertEqual(c.cmd("MAIL FROM:alice lab"), [self.MAIL_SYNTAX])
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM), [self.MAIL_OK])
        if self.NESTED_MAIL is not None:
            self.assertEqual(c.cmd("MAIL FROM:<%s>" % FROM),
                             [self.NESTED_MAIL])
        self.assertEqual(c.cmd("DATA"), [self.NEED_RCPT])
        if self.RCPT_SYNTAX is not None:
            self.assertEqual(c.cmd("RCPT TO:bob lab"), [self.RCPT_SYNTAX])
        self.assertEqual(c.cmd("RCPT TO:<%s>" % TO), [self.RCPT_OK])
        self.quit(c)


def unittest_skip(why):
    import unittest
    return unittest.SkipTest(why)
