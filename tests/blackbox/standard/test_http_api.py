"""The HTTP API (--http) over real sockets: every route with its exact
status and body after real SMTP sessions (smtplib), the filters and the
message search, raw bytes, purge, /wait (early and at the timeout), the
SSE stream, /metrics between two scrapes, the token, body limits, no CORS
and the static web view."""
import http.client
import json
import os
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest, have, run_cli  # noqa: E402

MSG1 = (b"From: Alice <alice@one.test>\r\nTo: bob@two.test\r\n"
        b"Subject: First hello\r\nX-Ticket: ABC-123\r\n\r\nbody one\r\n")
MSG2 = (b"Subject: Second\r\nX-Ticket: xyz-9\r\n"
        b"X-Folded: part one\r\n  part two\r\n\r\nbody two\r\n")


def http_port(srv, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", srv.log())
        if m:
            return int(m.group(1))
        time.sleep(0.02)
    raise AssertionError("no HTTP listening line:\n" + srv.log())


class Api:
    """A tiny client: request() -> (status, headers dict, body bytes)."""

    def __init__(self, port, token=None):
        self.port, self.token = port, token

    def request(self, method, path, body=None, headers=None, timeout=15):
        c = http.client.HTTPConnection("127.0.0.1", self.port,
                                       timeout=timeout)
        h = dict(headers or {})
        if self.token is not None:
            h["Authorization"] = "Bearer " + self.token
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, \
                r.read()
        finally:
            c.close()

    def json(self, method, path, **kw):
        status, headers, body = self.request(method, path, **kw)
        return status, headers, json.loads(body)


def send(port, sender, rcpts, msg, **kw):
    s = smtplib.SMTP("127.0.0.1", port, timeout=10)
    try:
        s.sendmail(sender, rcpts, msg, **kw)
    finally:
        s.quit()


class HttpApi(ServerTest):
    def start_api(self, profile="standard", args=(), **kw):
        srv = self.start(profile, ["--http", "127.0.0.1:0"] + list(args),
                         **kw)
        return srv, Api(http_port(srv))

    def test_healthz_and_unknown_routes(self):
        srv, api = self.start_api()
        status, headers, body = api.request("GET", "/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))
        self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(api.json("GET", "/nope")[::2],
                         (404, {"error": "no such route"}))
        status, headers, body = api.json("POST", "/healthz")
        self.assertEqual((status, body), (405, {"error": "method not allowed"}))
        self.assertEqual(headers["allow"], "GET")
        self.assertEqual(api.json("DELETE", "/api/v1/sessions")[::2],
                         (405, {"error": "method not allowed"}))

    def test_sessions_filters_and_events(self):
        srv, api = self.start_api("std-connect")
        send(srv.port, "alice@one.test", ["bob@two.test"], MSG1)
        self.assertEqual(api.json("GET", "/api/v1/wait?sessions_closed=1"
                                  "&timeout=10")[0], 200)
        status, headers, body = api.json("GET", "/api/v1/sessions")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/json")
        [s] = body["sessions"]
        self.assertEqual(s["id"], 1)
        self.assertEqual(s["profile"], "std-connect")
        self.assertEqual(s["client"]["addr"], "127.0.0.1")
        self.assertEqual(s["server"], {"addr": "127.0.0.1",
                                       "port": srv.port})
        self.assertEqual(s["state"], "closed")
        self.assertEqual(s["close"], {"how": "fin",
                                      "reason": "client sent QUIT"})
        self.assertEqual(s["rules"], ["loopback-banner"])
        self.assertEqual(s["messages"], 1)
        self.assertIsNone(s["tls"])
        events = [e for e in srv.events() if e.get("session") == 1]
        self.assertEqual(s["events"], len(events))
        # filters
        client = "127.0.0.1:%d" % s["client"]["port"]
        for query, n in [("profile=std-connect", 1), ("profile=esa", 0),
                         ("state=closed", 1), ("state=open", 0),
                         ("client=127.0.0.1", 1), ("client=" + client, 1),
                         ("client=10.0.0.1", 0),
                         ("rule=loopback-banner", 1), ("rule=other", 0),
                         ("since=2000-01-01T00:00:00Z", 1),
                         ("since=2999-01-01", 0)]:
            status, _, body = api.json("GET", "/api/v1/sessions?" + query)
            self.assertEqual((query, status, len(body["sessions"])),
                             (query, 200, n))
        self.assertEqual(api.json("GET", "/api/v1/sessions?state=x")[::2],
                         (400, {"error": "state: open or closed"}))
        self.assertEqual(api.json("GET", "/api/v1/sessions?since=soon")[0],
                         400)
        # one session, every event as the transcript has it
        status, _, one = api.json("GET", "/api/v1/sessions/1")
        self.assertEqual(status, 200)
        self.assertEqual(one["events"], events)
        self.assertEqual(one["events"][0]["dir"], "connect")
        self.assertEqual(one["events"][-1]["dir"], "close")
        for bad in ("99", "x", "1x"):
            self.assertEqual(api.json("GET", "/api/v1/sessions/" + bad)[::2],
                             (404, {"error": "no such session"}))

    def test_session_tls_summary(self):
        """A STARTTLS session's summary names the version and the suite as
        the transcript's handshake_done line does: {name, hex}."""
        srv, api = self.start_api()
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as c:
            c.starttls(context=ssl._create_unverified_context())
            c.noop()
        self.assertEqual(api.json("GET", "/api/v1/wait?sessions_closed=1"
                                  "&timeout=10")[0], 200)
        [done] = [e for e in srv.events() if e.get("event") ==
                  "handshake_done"]
        [s] = api.json("GET", "/api/v1/sessions")[2]["sessions"]
        self.assertEqual(s["tls"], {"version": done["version"],
                                    "suite": done["suite"]})
        self.assertEqual(sorted(s["tls"]["suite"]), ["hex", "name"])
        self.assertRegex(s["tls"]["suite"]["hex"], r"^0x[0-9a-f]{4}$")

    def test_messages_search_raw_and_purge(self):
        srv, api = self.start_api()
        send(srv.port, "alice@one.test", ["bob@two.test"], MSG1,
             mail_options=["BODY=8BITMIME"],
             rcpt_options=["NOTIFY=SUCCESS,FAILURE"])
        send(srv.port, "carol@three.test", ["dave@four.test", "eve@two.test"],
             MSG2)
        self.assertEqual(api.json("GET", "/api/v1/wait?messages=2"
                                  "&timeout=10")[0], 200)
        status, _, body = api.json("GET", "/api/v1/messages")
        self.assertEqual(status, 200)
        m1, m2 = body["messages"]
        self.assertEqual(m1["mail_from"], "alice@one.test")
        self.assertEqual(m1["rcpts"], [{"addr": "bob@two.test",
                                        "notify": "SUCCESS,FAILURE",
                                        "orcpt": None}])
        self.assertEqual(m1["mail_params"]["BODY"], "8BITMIME")
        self.assertEqual(m1["subject"], "First hello")
        self.assertEqual(m1["size"], len(MSG1))
        self.assertEqual(m1["session"], 1)
        self.assertEqual(m1["profile"], "standard")
        self.assertEqual(m1["id"], m1["queue_id"])
        self.assertEqual([r["addr"] for r in m2["rcpts"]],
                         ["dave@four.test", "eve@two.test"])
        self.assertEqual(m2["subject"], "Second")
        ids = {m1["id"]: "1", m2["id"]: "2"}
        for query, want in [("from=ALICE", ["1"]), ("from=three", ["2"]),
                            ("to=two.test", ["1", "2"]), ("to=dave", ["2"]),
                            ("subject=hello", ["1"]),
                            ("subject=nothing", []),
                            ("header=X-Ticket:abc", ["1"]),
                            ("header=x-ticket:XYZ", ["2"]),
                            ("header=X-Folded", ["2"]),
                            ("header=X-Folded:one%20%20part", ["2"]),
                            ("header=X-None", []),
                            ("from=alice&to=dave", [])]:
            status, _, body = api.json("GET", "/api/v1/messages?" + query)
            self.assertEqual((query, status,
                              [ids[m["id"]] for m in body["messages"]]),
                             (query, 200, want))
        status, _, one = api.json("GET", "/api/v1/messages/" + m2["id"])
        self.assertEqual(status, 200)
        self.assertEqual(one["headers"], [["Subject", "Second"],
                                          ["X-Ticket", "xyz-9"],
                                          ["X-Folded",
                                           "part one  part two"]])
        for m, sent in ((m1, MSG1), (m2, MSG2)):
            status, headers, raw = api.request(
                "GET", "/api/v1/messages/%s/raw" % m["id"])
            self.assertEqual((status, headers["content-type"], raw),
                             (200, "message/rfc822", sent))
        self.assertEqual(api.json("GET", "/api/v1/messages/NOPE")[::2],
                         (404, {"error": "no such message"}))
        self.assertEqual(len(srv.new_files()), 2)
        self.assertEqual(api.json("DELETE", "/api/v1/messages")[::2],
                         (200, {"deleted": 2}))
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.envelope_files(), [])
        self.assertEqual(api.json("GET", "/api/v1/messages")[::2],
                         (200, {"messages": []}))
        self.assertEqual(api.json("DELETE", "/api/v1/messages")[::2],
                         (200, {"deleted": 0}))

    def test_spool_none_has_no_raw(self):
        srv, api = self.start_api(spool=False)
        send(srv.port, "a@b.test", ["c@d.test"], MSG1)
        self.assertEqual(api.json("GET", "/api/v1/wait?messages=1"
                                  "&timeout=10")[0], 200)
        [m] = api.json("GET", "/api/v1/messages")[2]["messages"]
        self.assertIsNone(m["spool"])
        self.assertIsNone(m["subject"])
        self.assertEqual(api.json("GET", "/api/v1/messages/%s/raw" % m["id"])
                         [::2], (404, {"error": "no raw message: the server "
                                       "runs with --spool none"}))

    def test_wait_early_and_timeout(self):
        srv, api = self.start_api()
        status, _, body = api.json("GET", "/api/v1/wait?messages=1"
                                   "&sessions_closed=1&rule=r1&timeout=0.3")
        self.assertEqual((status, body), (408, {
            "ok": False, "messages": 0, "sessions_closed": 0,
            "rules": {"r1": 0}}))
        sender = threading.Timer(0.5, send, (srv.port, "a@b.test",
                                             ["c@d.test"], MSG1))
        sender.start()
        try:
            status, _, body = api.json("GET", "/api/v1/wait?messages=1"
                                       "&timeout=60", timeout=70)
        finally:
            sender.join()
        self.assertEqual(status, 200)
        self.assertTrue(body["ok"])
        self.assertEqual(body["messages"], 1)
        status, _, body = api.json("GET", "/api/v1/wait?messages=2"
                                   "&timeout=0")
        self.assertEqual((status, body["ok"], body["messages"]),
                         (408, False, 1))
        for bad in ("messages=-1", "messages=x", "timeout=9999",
                    "timeout=-1", "rule="):
            self.assertEqual(api.json("GET", "/api/v1/wait?" + bad)[0], 400,
                             bad)

    def test_events_stream(self):
        srv, api = self.start_api()
        c = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
        try:
            c.request("GET", "/api/v1/events")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            self.assertEqual(r.getheader("Content-Type"), "text/event-stream")
            self.assertIsNone(r.getheader("Access-Control-Allow-Origin"))
            self.assertEqual(r.readline(), b": smtp-mimic events\n")
            send(srv.port, "a@b.test", ["c@d.test"], MSG1)
            seen, last_id = [], 0
            while not seen or seen[-1]["dir"] != "close":
                line = r.readline()
                self.assertNotEqual(line, b"", "stream ended")
                if line.startswith(b"id: "):
                    n = int(line[4:])
                    self.assertGreater(n, last_id)
                    last_id = n
                elif line.startswith(b"data: "):
                    seen.append(json.loads(line[6:]))
        finally:
            c.close()
        self.assertEqual(seen, [e for e in srv.events()
                                if e.get("session") == 1])

    def test_events_stream_says_reset(self):
        """POST /api/v1/reset reaches subscribers as an "event: reset"
        message, so a live page can forget what the index forgot."""
        srv, api = self.start_api()
        c = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
        try:
            c.request("GET", "/api/v1/events")
            r = c.getresponse()
            self.assertEqual(r.readline(), b": smtp-mimic events\n")
            self.assertEqual(r.readline(), b"\n")
            self.assertEqual(api.json("POST", "/api/v1/reset")[2],
                             {"reset": True})
            lines = [r.readline() for _ in range(3)]
        finally:
            c.close()
        self.assertEqual(lines, [b"event: reset\n", b"data: {}\n", b"\n"])

    def test_metrics_move(self):
        srv, api = self.start_api()

        def scrape():
            status, headers, body = api.request("GET", "/metrics")
            self.assertEqual(status, 200)
            self.assertEqual(headers["content-type"],
                             "text/plain; version=0.0.4; charset=utf-8")
            return dict(line.rsplit(" ", 1) for line in
                        body.decode().splitlines()
                        if line and not line.startswith("#"))
        first = scrape()
        self.assertEqual(first["smtp_mimic_bytes_received_total"], "0")
        self.assertNotIn('smtp_mimic_sessions_total{profile="standard"}',
                         first)
        send(srv.port, "a@b.test", ["c@d.test"], MSG1)
        api.json("GET", "/api/v1/wait?sessions_closed=1&timeout=10")
        second = scrape()
        self.assertEqual(second['smtp_mimic_sessions_total'
                                '{profile="standard"}'], "1")
        self.assertEqual(second['smtp_mimic_sessions_open'
                                '{profile="standard"}'], "0")
        self.assertEqual(second['smtp_mimic_messages_accepted_total'
                                '{profile="standard"}'], "1")
        self.assertEqual(second['smtp_mimic_closes_total{how="fin"}'], "1")
        self.assertGreater(int(second["smtp_mimic_bytes_received_total"]),
                           len(MSG1))
        self.assertGreater(int(second["smtp_mimic_bytes_sent_total"]), 0)
        if have("curl"):
            out = subprocess.run(
                ["curl", "-s", "http://127.0.0.1:%d/metrics" % api.port],
                capture_output=True, text=True, timeout=20).stdout
            self.assertIn('smtp_mimic_sessions_total{profile="standard"} 1\n',
                          out)

    def test_token(self):
        d = tempfile.mkdtemp(prefix="mimic-token-")
        self.addCleanup(shutil.rmtree, d)
        tok = os.path.join(d, "token")
        with open(tok, "w") as f:
            f.write("s3cret-token\n")
        srv, api = self.start_api(args=["--http-token", tok])
        status, headers, body = api.json("GET", "/healthz")
        self.assertEqual((status, body["error"]), (401, "missing or wrong "
                         "Authorization: Bearer token (--http-token)"))
        self.assertEqual(headers["www-authenticate"], "Bearer")
        for wrong in ("Bearer s3cret", "Bearer s3cret-token2",
                      "Basic czNjcmV0LXRva2Vu", "s3cret-token"):
            self.assertEqual(api.request("GET", "/healthz", headers={
                "Authorization": wrong})[0], 401, wrong)
        self.assertEqual(Api(api.port, "s3cret-token").request(
            "GET", "/healthz")[::2], (200, b"ok\n"))
        # the page's own files hold no data: they load without it, so a
        # browser can show the page, which then asks for the token
        for path in ("/", "/app.js", "/style.css"):
            self.assertEqual(api.request("GET", path)[0], 200, path)
        for path in ("/api/v1/sessions", "/api/v1/events", "/metrics",
                     "/api/v1/openapi.json", "/index.html", "/nope"):
            self.assertEqual(api.request("GET", path)[0], 401, path)

    def test_non_loopback_needs_token(self):
        cp = run_cli(["--http", "0.0.0.0:0", "--listen", "127.0.0.1:0",
                      "--spool", "none"])
        self.assertEqual(cp.returncode, 1)
        self.assertEqual(cp.stderr, "smtp-mimic: fatal: --http 0.0.0.0:0: a "
                         "non-loopback address needs --http-token FILE\n")

    def test_body_limit_and_no_cors(self):
        srv, api = self.start_api()
        c = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
        try:
            c.putrequest("PUT", "/api/v1/profile")
            c.putheader("Content-Length", str(2 * 1024 * 1024))
            c.putheader("Content-Type", "text/plain")
            c.endheaders()
            c.send(b"x" * 65536)
            r = c.getresponse()
            self.assertEqual(r.status, 413)
            r.read()
        finally:
            c.close()
        for path in ("/healthz", "/api/v1/sessions", "/nope", "/metrics",
                     "/api/v1/openapi.json"):
            _, headers, _ = api.request("GET", path, headers={
                "Origin": "http://evil.test"})
            self.assertEqual([h for h in headers
                              if h.startswith("access-control-")], [], path)

    def test_profiles(self):
        srv, api = self.start_api()
        status, _, body = api.json("GET", "/api/v1/profiles")
        self.assertEqual((status, body["current"]), (200, "standard"))
        by = {p["name"]: p for p in body["profiles"]}
        self.assertEqual(by["standard"]["kind"], "server")
        self.assertIsNone(by["standard"]["extends"])
        self.assertTrue(by["standard"]["path"].endswith("/standard.yaml"))
        self.assertEqual(by["std-connect"]["extends"], "standard")
        self.assertEqual(by["std-connect"]["description"],
                         "fixture: standard with a connect rule for "
                         "loopback clients")
        self.assertEqual(by["asa-esmtp-inspect"]["kind"], "middlebox")
        self.assertEqual(by["broken-duration"]["kind"], "invalid")

    def test_web_root_and_openapi(self):
        d = tempfile.mkdtemp(prefix="mimic-web-")
        self.addCleanup(shutil.rmtree, d)
        files = {"index.html": b"<!doctype html><p>hi</p>\n",
                 "app.js": b"console.log(1);\n", "style.css": b"p{}\n",
                 "secret.txt": b"no\n"}
        for name, data in files.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
        srv, api = self.start_api(args=["--web-root", d])
        for path, name, ctype in [("/", "index.html", "text/html"),
                                  ("/app.js", "app.js", "text/javascript"),
                                  ("/style.css", "style.css", "text/css")]:
            status, headers, body = api.request("GET", path)
            self.assertEqual((status, headers["content-type"], body),
                             (200, ctype + "; charset=utf-8", files[name]))
            self.assertEqual(headers["content-security-policy"],
                             "default-src 'none'; script-src 'self'; "
                             "style-src 'self'; connect-src 'self'; "
                             "img-src 'self'; base-uri 'none'; "
                             "form-action 'none'; frame-ancestors 'none'")
            self.assertEqual(headers["x-content-type-options"], "nosniff")
        for path in ("/secret.txt", "/index.html", "/../secret.txt",
                     "/app.js/", "/%2e%2e/secret.txt"):
            self.assertEqual(api.request("GET", path)[0], 404, path)
        status, headers, body = api.request("GET", "/api/v1/openapi.json")
        self.assertEqual((status, headers["content-type"]),
                         (200, "application/json"))
        self.assertEqual(json.loads(body)["openapi"][:2], "3.")


if __name__ == "__main__":
    unittest.main()
