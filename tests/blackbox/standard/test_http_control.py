"""test_http_control.py - the HTTP API's control routes on the real binary:
PUT /api/v1/profile (by name, as YAML text, broken ones refused with
<request>:LINE:COL and the old profile kept), POST /api/v1/rules?sessions=N
(a close: rst rule for the next session, one until deleted, exactly N with
two workers and concurrent clients, a broken rule refused), DELETE
/api/v1/rules/{id}, GET /api/v1/rules and POST /api/v1/reset, with what the
transcript says when an injected rule fires.

Stdlib only: urllib for HTTP, raw sockets for SMTP (harness.ending tells a
FIN from an RST). The HTTP port is the kernel's (--http 127.0.0.1:0),
read from the "listening on http://..." line on stderr.
"""
import json
import os
import re
import smtplib
import sys
import threading
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import harness  # noqa: E402

STANDARD = b"220 mx.lab.test ESMTP smtp-mimic\r\n"
ESA = b"220 esa.lab.test ESMTP\r\n"
CUT = "{name: cut, why: test, when: {connect: {}}, do: {close: rst}}"


class HttpControlTest(harness.ServerTest):

    def start_http(self, workers=1):
        srv = self.start("standard", args=["--http", "127.0.0.1:0",
                                           "--workers", str(workers)])
        log = srv.wait_log("(HTTP API")
        srv.http = re.search(r"listening on (http://[0-9.]+:\d+)",
                             log).group(1)
        return srv

    def call(self, srv, method, path, body=None, ctype=None):
        """(status, parsed JSON body)."""
        data = body.encode() if isinstance(body, str) else body
        req = urllib.request.Request(srv.http + path, data=data,
                                     method=method)
        if ctype is not None:
            req.add_header("Content-Type", ctype)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def first_bytes(self, srv):
        """How a new session starts, as exact bytes: ("banner", the bytes
        up to the first CRLF), ("rst", b"") or ("fin", bytes). Like
        harness.ending, an ECONNRESET is the RST; it may come as early as
        connect()."""
        data = b""
        try:
            # the reset may come before connect() returns
            c = srv.connect()
            while b"\r\n" not in data:
                chunk = c.sock.recv(4096)
                if not chunk:
                    return "fin", data
                data += chunk
        except ConnectionResetError:
            return "rst", data
        c.close()
        return "banner", data

    def test_profile_by_name(self):
        srv = self.start_http()
        self.assertEqual(self.first_bytes(srv), ("banner", STANDARD))
        self.assertEqual(
            self.call(srv, "PUT", "/api/v1/profile", '{"name": "esa"}',
                      "application/json"),
            (200, {"profile": "esa"}))
        self.assertEqual(self.first_bytes(srv), ("banner", ESA))
        self.assertEqual(
            self.call(srv, "PUT", "/api/v1/profile", '{"name": "nothere"}',
                      "application/json")[0], 400)
        self.assertEqual(
            self.call(srv, "PUT", "/api/v1/profile", '{"name": "../esa"}',
                      "application/json"),
            (400, {"error": 'bad profile name "../esa" (give the name of a '
                            'profile in the search path, e.g. standard, or '
                            "the profile's YAML itself)"}))
        self.assertEqual(self.first_bytes(srv), ("banner", ESA))

    def test_profile_yaml(self):
        srv = self.start_http()
        text = ('name: from-request\nextends: standard\n'
                'greeting: "220 {hostname} from the request"\n')
        self.assertEqual(
            self.call(srv, "PUT", "/api/v1/profile", text,
                      "application/yaml"),
            (200, {"profile": "from-request"}))
        self.assertEqual(self.first_bytes(srv),
                         ("banner", b"220 mx.lab.test from the request\r\n"))

    def test_profile_broken_keeps_old(self):
        srv = self.start_http()
        self.assertEqual(
            self.call(srv, "PUT", "/api/v1/profile",
                      "name: broken\nlimits: {max_sessions: lots}\n",
                      "text/plain"),
            (400, {"error": '<request>:2:24: bad number "lots" for '
                            '"limits.max_sessions" (use a whole number '
                            'from 0 to 4294967295)'}))
        self.assertEqual(
            self.call(srv, "PUT", "/api/v1/profile",
                      "kind: middlebox\nname: box\n", "text/plain"),
            (400, {"error": '<request>: box is a middlebox (kind: '
                            'middlebox), not a server profile (choose a '
                            'server profile; a middlebox goes in front of '
                            'one with "via:")'}))
        self.assertEqual(self.first_bytes(srv), ("banner", STANDARD))

    def test_rst_for_next_session(self):
        srv = self.start_http()
        self.assertEqual(
            self.call(srv, "POST", "/api/v1/rules?sessions=1", CUT),
            (201, {"id": "r1", "name": "cut", "sessions": 1}))
        self.assertEqual(self.first_bytes(srv), ("rst", b""))
        self.assertEqual(self.first_bytes(srv), ("banner", STANDARD))
        self.assertEqual(self.call(srv, "GET", "/api/v1/rules"),
                         (200, {"rules": []}))
        # the transcript names the injected rule and its why
        fired = srv.wait_event(lambda e: e["dir"] == "rule")
        self.assertEqual((fired["session"], fired["rule"], fired["why"]),
                         (1, "cut", "test"))
        closed = srv.wait_event(lambda e: e["dir"] == "close"
                                and e["session"] == 1)
        self.assertEqual((closed["how"], closed["rule"]), ("rst", "cut"))
        self.assertEqual(
            [e["session"] for e in srv.events() if e["dir"] == "rule"], [1])

    def test_until_deleted(self):
        srv = self.start_http()
        self.assertEqual(self.call(srv, "POST", "/api/v1/rules", CUT),
                         (201, {"id": "r1", "name": "cut",
                                "sessions": None}))
        self.assertEqual(self.call(srv, "GET", "/api/v1/rules"),
                         (200, {"rules": [{"id": "r1", "name": "cut",
                                           "sessions": None,
                                           "sessions_left": None,
                                           "rule": CUT}]}))
        # smtplib sees the reset (at connect, or reading the greeting)
        with self.assertRaises(OSError) as cm:
            smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        self.assertIn("Connection reset by peer", str(cm.exception))
        self.assertEqual(self.first_bytes(srv), ("rst", b""))
        self.assertEqual(self.call(srv, "DELETE", "/api/v1/rules/r1"),
                         (200, {"deleted": "r1"}))
        self.assertEqual(self.first_bytes(srv), ("banner", STANDARD))
        self.assertEqual(self.call(srv, "DELETE", "/api/v1/rules/r1"),
                         (404, {"error": 'no injected rule "r1"'}))

    def test_exactly_n_with_two_workers(self):
        srv = self.start_http(workers=2)
        self.assertEqual(
            self.call(srv, "POST", "/api/v1/rules?sessions=2", CUT)[0], 201)
        results = []
        lock = threading.Lock()

        def one():
            r = self.first_bytes(srv)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(results),
                         [("banner", STANDARD)] * 6 + [("rst", b"")] * 2)
        rules = [e for e in srv.events() if e["dir"] == "rule"]
        self.assertEqual([e["rule"] for e in rules], ["cut", "cut"])

    def test_bad_rule(self):
        srv = self.start_http()
        self.assertEqual(
            self.call(srv, "POST", "/api/v1/rules?sessions=1",
                      "name: x\nwhen: {connect: {}}\ndo: {close: sideways}\n"),
            (400, {"error": '<request>:3:13: bad value "sideways" for '
                            '"rules.x.do.close" (use fin, rst or silent)'}))
        self.assertEqual(
            self.call(srv, "POST", "/api/v1/rules?sessions=1",
                      "name: x\nwhen: {connect: {}}\n"),
            (400, {"error": '<request>:1:1: rule "x" has no "do" (say what '
                            'it does: delay, reply, close, hang or '
                            'alert)'}))
        self.assertEqual(
            self.call(srv, "POST", "/api/v1/rules?sessions=0", CUT),
            (400, {"error": "sessions: give a count of sessions (1 or "
                            "more), or leave it out for until deleted"}))
        self.assertEqual(self.call(srv, "GET", "/api/v1/rules"),
                         (200, {"rules": []}))
        self.assertEqual(self.first_bytes(srv), ("banner", STANDARD))

    def test_reset(self):
        srv = self.start_http()
        self.call(srv, "PUT", "/api/v1/profile", '{"name": "esa"}',
                  "application/json")
        self.call(srv, "POST", "/api/v1/rules", CUT)
        self.assertEqual(self.first_bytes(srv), ("rst", b""))
        self.assertEqual(self.call(srv, "POST", "/api/v1/reset"),
                         (200, {"reset": True}))
        self.assertEqual(self.call(srv, "GET", "/api/v1/rules"),
                         (200, {"rules": []}))
        self.assertEqual(self.first_bytes(srv), ("banner", STANDARD))
        # ids are not reused after a reset
        self.assertEqual(self.call(srv, "POST", "/api/v1/rules", CUT)[1]["id"],
                         "r2")


if __name__ == "__main__":
    unittest.main()
