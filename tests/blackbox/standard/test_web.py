"""The live web view (server/web, served by --http) in a real browser.

Debian's chromium, headless, driven by python3-selenium through
chromium-driver, against the built binary with --http 127.0.0.1:0 and
--web-root pointing at this tree's server/web. Real SMTP sessions
(smtplib, Python ssl) run while the page is open; the tests then assert
what the page shows, with exact strings:

- the sessions appear live (from the SSE stream, no reload);
- a session behind a middlebox (esa-behind-asa: the ASA's inspect esmtp)
  shows both hops: the client's side with the masked text, the server's
  side with the original (FACTS.md 4-5, seed 001: banner "220
  ******************" / "220 esa.lab.test ESMTP", "250 XXXXXXXA" / "250
  STARTTLS", the client's STARTTLS reaching the ESA as "XXXXXXXX");
- a rule firing with its name and why (fixture std-rules, noop-reply);
- a STARTTLS session's ClientHello: the suites the client offered, by name
  and hex, its SNI, the negotiated version and suite;
- transcript text is shown as text (an HTML tag in a command stays text);
- the message viewer: the envelope, the Subject, the raw body;
- presenter mode (the button and ?presenter=1): larger type than normal
  mode, the two hops side by side, and it follows a session started after
  it was opened.

Screenshots of the normal view (web-normal.png: the middlebox session and
its message), a TLS session (web-tls.png) and the presenter view
(web-presenter.png; web-presenter-middlebox.png: the ASA session) go to
$SMTP_MIMIC_ARTEFACTS (default <repo>/build/artefacts); their paths are
printed. No sleeps: every wait is a bounded WebDriverWait on what the page
shows.
"""
import base64
import json
import os
import re
import shutil
import smtplib
import ssl
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import harness  # noqa: E402
from harness import TOP, ServerTest, have, run_cli  # noqa: E402

HAVE_SELENIUM = harness.with_modules("selenium")
if HAVE_SELENIUM:
    from selenium import webdriver  # noqa: E402
    from selenium.common.exceptions import (  # noqa: E402
        NoSuchElementException, StaleElementReferenceException,
        TimeoutException)
    from selenium.webdriver.chrome.options import Options  # noqa: E402
    from selenium.webdriver.chrome.service import Service  # noqa: E402
    from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WEB_ROOT = os.path.join(TOP, "server", "web")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTEFACTS = os.environ.get("SMTP_MIMIC_ARTEFACTS",
                           os.path.join(TOP, "build", "artefacts"))
WAIT = 20  # seconds: the bound of every wait on the page

# esa-behind-asa (FACTS.md 4-5, seed 001; see
# tests/blackbox/esa-behind-asa/test_seed001.py)
ESA_BANNER = "220 esa.lab.test ESMTP"
ESA_BANNER_MASKED = "220 ******************"
ASA = "asa-esmtp-inspect"
# fixture tests/blackbox/profiles/std-rules.yaml
RULE = "noop-reply"
RULE_WHY = "fixture: a rule's reply replaces the engine's"
# profiles/standard.yaml
STD_BANNER = "220 mx.lab.test ESMTP smtp-mimic"

SENDER = "sender@example.test"
RCPT = "user@esa.lab.test"
SUBJECT = "web view check"
BODY_LINE = "Hello from the browser test."

# The suites the TLS client offers, in its order, as OpenSSL names and as
# the IANA name + hex the ClientHello carries; the server's certificate is
# RSA, so the ECDSA one cannot be chosen. TLS 1.2 only: no TLS 1.3 suites.
CLIENT_CIPHERS = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256"
OFFERED = [
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "0xC02B"),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "0xC02F"),
    ("TLS_EMPTY_RENEGOTIATION_INFO_SCSV", "0x00FF"),
]
SNI = "web.hello.test"

# Every row of the transcript as the page shows it.
ROWS_JS = """
return [...document.querySelectorAll('#transcript-body .row')].map(r => {
  const t = (sel) => { const e = r.querySelector(sel);
                       return e ? e.textContent : null; };
  return {dir: r.dataset.dir, rewritten: r.dataset.rewritten === '1',
          client: t('[data-hop=client] .line'),
          server: t('[data-hop=server] .line'),
          wide: t('.wide-text'),
          notes: [...r.querySelectorAll('.note')].map(n => n.textContent)};
});"""
SESSIONS_JS = """
return [...document.querySelectorAll('#session-list li')].map(li =>
  ({id: Number(li.dataset.sessionId), state: li.dataset.state}));"""


def tools_missing():
    """Why the browser test cannot run here ('' when it can)."""
    if not HAVE_SELENIUM:
        return "python3-selenium is not installed"
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return path + " is not installed"
    return ""


def must_have_tools():
    return bool(os.environ.get("CI") or
                os.environ.get("SMTP_MIMIC_REQUIRE_TOOLS"))


class _SniContext:
    """An ssl context for smtplib.starttls() that sends SNI even though
    smtplib connects to an IP address (it passes the host as the name)."""

    def __init__(self, ctx, name):
        self.ctx = ctx
        self.name = name

    def wrap_socket(self, sock, server_hostname=None):
        return self.ctx.wrap_socket(sock, server_hostname=self.name)


def tls12_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(CLIENT_CIPHERS)
    return ctx


class WebView(ServerTest):

    @classmethod
    def setUpClass(cls):
        why = tools_missing()
        if why:
            if must_have_tools():
                raise AssertionError(why + ": run scripts/deps.sh --test")
            raise unittest.SkipTest(why)
        cls.profile_dir = tempfile.mkdtemp(prefix="mimic-chromium-")
        opts = Options()
        opts.binary_location = CHROMIUM
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-first-run",
                    "--disable-extensions", "--window-size=1400,1000",
                    "--user-data-dir=" + cls.profile_dir):
            opts.add_argument(arg)
        cls.driver = webdriver.Chrome(service=Service(CHROMEDRIVER),
                                      options=opts)
        cls.driver.set_page_load_timeout(WAIT)
        cls.driver.set_script_timeout(WAIT)
        help_text = run_cli(["--help"]).stdout
        cls.ready_file_flag = "--ready-file" in help_text

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()
        shutil.rmtree(cls.profile_dir, ignore_errors=True)

    # -- the server and its HTTP address ---------------------------------

    def start_web(self, profile):
        args = ["--http", "127.0.0.1:0", "--web-root", WEB_ROOT]
        ready = None
        if self.ready_file_flag:
            ready = os.path.join(tempfile.mkdtemp(prefix="mimic-ready-"),
                                 "ready.json")
            args += ["--ready-file", ready]
        srv = self.start(profile, args=args)
        srv.http = self.http_address(srv, ready)
        srv.url = "http://%s/" % srv.http
        return srv

    def http_address(self, srv, ready):
        """The HTTP API's address: from the ready file (JSON "http") or
        the server's start-up line on stderr, whichever exists."""
        deadline = time.monotonic() + WAIT
        # "smtp-mimic: listening on http://127.0.0.1:37017 (HTTP API, ...)"
        pattern = re.compile(r"^smtp-mimic: listening on "
                             r"http://(127\.0\.0\.1:(\d+)) ", re.M)
        while time.monotonic() < deadline:
            if ready and os.path.exists(ready):
                with open(ready, encoding="utf-8") as f:
                    http = json.load(f).get("http")
                if http:
                    return http
            m = pattern.search(srv.log())
            if m and m.group(2) != "0":
                return m.group(1)
            if srv.proc.poll() is not None:
                break
            time.sleep(0.02)  # polling a file, not a timing assertion
        raise AssertionError("no HTTP address in the ready file or on "
                             "stderr:\n" + srv.log())

    # -- the page ---------------------------------------------------------

    def wait_for(self, fn, what):
        """fn() until it is truthy (its value returned), at most WAIT s."""
        try:
            return WebDriverWait(self.driver, WAIT, 0.05).until(
                lambda d: fn(), what)
        except TimeoutException:
            self.fail("the page never showed %s" % what)

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def open_page(self, srv, query=""):
        self.driver.get(srv.url + query)
        self.wait_for(lambda: self.js(
            "return document.getElementById('conn-status')"
            ".dataset.state") == "live", "the live stream connected")
        # A mark that a reload would lose.
        self.js("window.__noReload = 'still the same page';")

    def assert_not_reloaded(self):
        self.assertEqual(self.js("return window.__noReload"),
                         "still the same page")

    def sessions(self):
        return self.js(SESSIONS_JS)

    def wait_session(self, sid, state=None):
        self.wait_for(lambda: any(s["id"] == sid and
                                  (state is None or s["state"] == state)
                                  for s in self.sessions()),
                      "session %d%s in the list" % (
                          sid, "" if state is None else " " + state))

    def click(self, selector):
        """Click what selector finds, as a user would (found afresh if the
        page redrew it in between)."""
        def attempt():
            try:
                self.driver.find_element("css selector", selector).click()
                return True
            except (NoSuchElementException, StaleElementReferenceException):
                return False
        self.wait_for(attempt, "something to click at " + selector)

    def show_session(self, sid):
        self.click('#session-list button[data-session-id="%d"]' % sid)
        self.wait_for(lambda: self.text("#session-title").startswith(
            "Session #%d " % sid), "session %d selected" % sid)

    def text(self, selector):
        return self.js("const e = document.querySelector(arguments[0]);"
                       "return e ? e.textContent : null;", selector)

    def rows(self):
        return self.js(ROWS_JS)

    def wait_rows(self, pred, what):
        return self.wait_for(lambda: pred(self.rows()), what)

    def screenshot(self, name):
        """The whole page (not only the window) as ARTEFACTS/name."""
        os.makedirs(ARTEFACTS, exist_ok=True)
        path = os.path.join(ARTEFACTS, name)
        # From the top: the sticky header is drawn where the page is.
        self.js("window.scrollTo(0, 0);")
        self.wait_for(lambda: self.js("return window.scrollY") == 0,
                      "the page scrolled to the top")
        w, h = self.js("return [document.documentElement.scrollWidth,"
                       " document.documentElement.scrollHeight];")
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}})
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        self.assertGreater(os.path.getsize(path), 0, path)
        print("\nscreenshot: %s" % path, flush=True)
        return path

    def font_px(self, selector):
        return float(self.js(
            "return getComputedStyle(document.querySelector(arguments[0]))"
            ".fontSize", selector).rstrip("px"))

    # -- the tests ----------------------------------------------------------

    def test_middlebox_session_both_hops_and_message(self):
        srv = self.start_web("esa-behind-asa")
        self.open_page(srv)
        self.assertEqual(self.sessions(), [])

        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=WAIT)
        self.assertEqual(s.ehlo("client.example.test")[0], 250)
        # The client sees 250 XXXXXXXA; STARTTLS sent anyway reaches the
        # ESA as X's (seed 001).
        self.assertEqual(s.docmd("STARTTLS"),
                         (500, b"#5.5.1 command not recognized"))
        s.sendmail(SENDER, [RCPT],
                   "From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\n\r\n%s\r\n"
                   % (SENDER, RCPT, SUBJECT, BODY_LINE))
        s.quit()

        # Live: the session shows up, then closes, with no reload.
        self.wait_session(1, "closed")
        self.assert_not_reloaded()
        self.show_session(1)
        rows = self.wait_rows(
            lambda r: r and r[-1]["dir"] == "close" and r,
            "the whole transcript of session 1")
        self.assertEqual(rows[0]["dir"], "connect")
        # The banner: masked for the client, the ESA's own on the server.
        self.assertEqual(rows[1]["dir"], "S")
        self.assertEqual(rows[1]["client"], ESA_BANNER_MASKED)
        self.assertEqual(rows[1]["server"], ESA_BANNER)
        # Exactly the box's three rewrites, each marked with its why.
        rewritten = [(r["dir"], r["client"], r["server"], r["notes"])
                     for r in rows if r["rewritten"]]
        self.assertEqual(rewritten, [
            ("S", ESA_BANNER_MASKED, ESA_BANNER,
             [ASA + ": mask-banner"]),
            ("S", "250 XXXXXXXA", "250 STARTTLS",
             [ASA + ": no allow-tls"]),
            ("C", "STARTTLS", "XXXXXXXX",
             [ASA + ": command not allowed"]),
        ])
        # The EHLO reply as each side had it.
        ehlo = [(r["client"], r["server"]) for r in rows
                if r["dir"] == "S" and (r["server"] or "").startswith("250")
                ][:4]
        self.assertEqual(ehlo, [
            ("250-esa.lab.test", "250-esa.lab.test"),
            ("250-8BITMIME", "250-8BITMIME"),
            ("250-SIZE 14680064", "250-SIZE 14680064"),
            ("250 XXXXXXXA", "250 STARTTLS"),
        ])

        # The message viewer: listed live, then its envelope, headers and
        # raw bytes.
        self.wait_for(lambda: self.js(
            "return document.querySelectorAll('#message-list tbody tr')"
            ".length") == 1, "the accepted message in the list")
        self.assertEqual(self.text(
            '#message-list tbody tr [data-field="subject"]'), SUBJECT)
        self.click("#message-list tbody tr button.message-open")
        self.wait_for(lambda: self.text("#message-subject") == SUBJECT,
                      "the message's Subject")
        self.assertEqual(self.text(
            '#message-envelope [data-field="mail_from"]'), "<%s>" % SENDER)
        self.assertEqual(self.text(
            '#message-envelope [data-field="rcpt"]'), "<%s>" % RCPT)
        self.assertEqual(self.text(
            '#message-headers tr[data-header="subject"] td'), SUBJECT)
        self.wait_for(lambda: BODY_LINE in (self.text("#message-raw") or ""),
                      "the raw message")
        raw = self.text("#message-raw")
        self.assertIn("Subject: %s\n" % SUBJECT, raw)
        self.assertTrue(raw.endswith("\n%s\n" % BODY_LINE), raw)
        self.assert_not_reloaded()
        self.screenshot("web-normal.png")
        # The same session on the projector: both hops, masks marked.
        self.click("#presenter-toggle")
        self.wait_for(lambda: self.js(
            "return document.body.dataset.presenter") == "1",
            "presenter mode on")
        self.assertEqual(self.text("#session-title"),
                         "Session #1 (esa-behind-asa)")
        self.screenshot("web-presenter-middlebox.png")

    def test_tls_client_hello_rule_firing_and_escaping(self):
        srv = self.start_web("std-rules")
        self.open_page(srv)

        # Session 1: STARTTLS with a known ClientHello.
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=WAIT)
        s.ehlo("tls.example.test")
        self.assertEqual(s.starttls(
            context=_SniContext(tls12_context(), SNI))[0], 220)
        self.assertEqual(s.sock.version(), "TLSv1.2")
        self.assertEqual(s.sock.cipher()[0], "ECDHE-RSA-AES128-GCM-SHA256")
        s.ehlo("tls.example.test")
        s.quit()
        # Session 2: a rule fires; a command with markup in it.
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=WAIT)
        s.ehlo("rule.example.test")
        self.assertEqual(s.docmd("NOOP", "rule"),
                         (250, b"2.0.0 Ok (rule)"))
        markup = "NOOP <img src=x onerror=window.__pwned=1><b id=pwned>b</b>"
        s.docmd(markup)
        s.quit()

        self.wait_session(1, "closed")
        self.wait_session(2, "closed")
        self.assert_not_reloaded()

        self.show_session(1)
        self.wait_for(lambda: self.js(
            "return document.querySelectorAll('#tls-suites tbody tr')"
            ".length") == len(OFFERED), "the offered suites")
        suites = self.js(
            "return [...document.querySelectorAll('#tls-suites tbody tr')]"
            ".map(r => [r.querySelector('.suite-name').textContent,"
            "           r.querySelector('.suite-hex').textContent]);")
        self.assertEqual([tuple(x) for x in suites], OFFERED)
        self.assertFalse(self.js(
            "return document.getElementById('tls').hidden"))
        self.assertEqual(self.text("#tls-sni"), SNI)
        self.assertEqual(self.text("#tls-versions"), "TLSv1.2")
        self.wait_for(lambda: self.text("#tls-negotiated") ==
                      "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 "
                      "(0xC02F)", "the negotiated version and suite")
        self.assertEqual(self.text('#session-summary [data-field="tls"]'),
                         "TLSv1.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        self.screenshot("web-tls.png")

        self.show_session(2)
        self.wait_for(lambda: self.js(
            "return document.querySelectorAll('#rule-list li').length") == 1,
            "the rule firing")
        self.assertEqual(self.text('#rule-list li[data-rule="%s"] '
                                   '.rule-name' % RULE), RULE)
        self.assertEqual(self.text('#rule-list li[data-rule="%s"] .why'
                                   % RULE), RULE_WHY)
        rows = self.wait_rows(lambda r: r and r[-1]["dir"] == "close" and r,
                              "the whole transcript of session 2")
        self.assertEqual((rows[1]["client"], rows[1]["server"]),
                         (STD_BANNER, STD_BANNER))
        fired = [r for r in rows if r["dir"] == "rule"]
        self.assertEqual(len(fired), 1)
        self.assertTrue(fired[0]["wide"].startswith(
            "%s: %s" % (RULE, RULE_WHY)), fired[0]["wide"])
        i = rows.index(fired[0])
        self.assertEqual([(r["dir"], r["client"]) for r in rows[i - 1:i + 2]
                          if r["dir"] in ("C", "S")],
                         [("C", "NOOP rule"), ("S", "250 2.0.0 Ok (rule)")])
        # Transcript text is text: the tags are shown, never parsed.
        self.assertIn(("C", markup, markup),
                      [(r["dir"], r["client"], r["server"]) for r in rows])
        self.assertIsNone(self.js("return document.getElementById('pwned')"))
        self.assertEqual(self.js(
            "return document.querySelectorAll('#transcript img').length"), 0)
        self.assertIsNone(self.js("return window.__pwned === undefined ? "
                                  "null : window.__pwned"))

        # Session 3: a control character and a bidi override, raw bytes:
        # shown as visible escapes, not acted on.
        c = srv.connect()
        self.assertEqual(c.banner(), STD_BANNER)
        c.cmd("NOOP \x1b[31mred\u202etxt")
        c.cmd("QUIT")
        self.wait_session(3, "closed")
        self.show_session(3)
        rows = self.wait_rows(lambda r: r and r[-1]["dir"] == "close" and r,
                              "the whole transcript of session 3")
        self.assertEqual(rows[2]["dir"], "C")
        self.assertEqual((rows[2]["client"], rows[2]["server"]),
                         ("NOOP \\x1b[31mred\\u{202e}txt",) * 2)

    def test_presenter_mode_follows_new_session_with_large_type(self):
        srv = self.start_web("standard")
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=WAIT)
        s.ehlo("first.example.test")
        s.quit()

        self.open_page(srv)
        self.wait_session(1, "closed")
        self.show_session(1)
        self.wait_rows(lambda r: len(r) > 2 and r[1]["client"] == STD_BANNER,
                       "the banner of session 1")
        line = '#transcript-body .row[data-dir="S"] [data-hop=client] .line'
        normal_px = self.font_px(line)
        self.assertEqual(self.js("return document.body.dataset.presenter"),
                         "0")

        # The button turns presenter mode on: large type.
        button = self.driver.find_element("id", "presenter-toggle")
        self.assertEqual(button.get_attribute("aria-pressed"), "false")
        button.click()
        self.wait_for(lambda: self.js(
            "return document.body.dataset.presenter") == "1",
            "presenter mode on")
        self.assertEqual(button.get_attribute("aria-pressed"), "true")
        presenter_px = self.font_px(line)
        self.assertGreaterEqual(presenter_px, 1.5 * normal_px,
                                (normal_px, presenter_px))

        # A session started now is followed, live.
        c = srv.connect()
        self.assertEqual(c.banner(), STD_BANNER)
        self.wait_for(lambda: self.text("#session-title") ==
                      "Session #2 (standard)", "session 2 followed")
        self.wait_rows(lambda r: len(r) >= 2 and r[1]["client"] == STD_BANNER,
                       "session 2's banner")
        self.assertEqual(c.cmd("EHLO second.example.test")[0],
                         "250-mx.lab.test")
        self.wait_rows(lambda r: ("C", "EHLO second.example.test") in
                       [(x["dir"], x["client"]) for x in r],
                       "session 2's EHLO as it happens")
        # The two hops side by side: same line, client left of server.
        rect = self.js(
            "const r = document.querySelector(arguments[0]);"
            "const c = r.querySelector('[data-hop=client]')"
            ".getBoundingClientRect();"
            "const s = r.querySelector('[data-hop=server]')"
            ".getBoundingClientRect();"
            "return [c.top, c.right, s.top, s.left];",
            '#transcript-body .row[data-dir="C"]')
        self.assertEqual(rect[0], rect[2])
        self.assertLessEqual(rect[1], rect[3])
        self.assert_not_reloaded()
        self.screenshot("web-presenter.png")
        c.cmd("QUIT")
        self.wait_session(2, "closed")

        # ?presenter=1 opens it directly, same large type, newest session.
        self.open_page(srv, "?presenter=1")
        self.assertEqual(self.js("return document.body.dataset.presenter"),
                         "1")
        self.wait_for(lambda: self.text("#session-title") ==
                      "Session #2 (standard)", "the newest session")
        self.wait_rows(lambda r: len(r) > 2, "session 2's transcript")
        self.assertEqual(self.font_px(line), presenter_px)

    def test_token_asked_for_then_sent(self):
        """With --http-token the page loads, asks for the token, and with it
        streams and lists sessions like the loopback page."""
        d = tempfile.mkdtemp(prefix="mimic-token-")
        self.addCleanup(shutil.rmtree, d)
        tok = os.path.join(d, "token")
        with open(tok, "w") as f:
            f.write("page-token-1\n")
        srv = self.start(
            "standard", args=["--http", "127.0.0.1:0", "--web-root",
                              WEB_ROOT, "--http-token", tok])
        srv.http = self.http_address(srv, None)
        self.driver.get("http://%s/" % srv.http)
        self.wait_for(lambda: self.js(
            "return !document.getElementById('token-form').hidden"),
            "the token field")
        self.assertEqual(self.js("return document.getElementById("
                                 "'conn-status').dataset.state"), "auth")
        self.driver.find_element("id", "token").send_keys("page-token-1")
        self.click("#token-form button[type=submit]")
        self.wait_for(lambda: self.js(
            "return document.getElementById('conn-status')"
            ".dataset.state") == "live", "the stream live with the token")
        self.assertTrue(self.js(
            "return document.getElementById('token-form').hidden"))
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=WAIT)
        s.ehlo("with.token.test")
        s.quit()
        self.wait_session(1, "closed")
        self.show_session(1)
        self.wait_rows(lambda r: ("C", "ehlo with.token.test") in
                       [(x["dir"], x["client"]) for x in r],
                       "session 1's EHLO, streamed with the token")

    def test_reset_clears_the_open_page(self):
        srv = self.start_web("standard")
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=WAIT)
        s.ehlo("first.example.test")
        s.quit()
        self.open_page(srv)
        self.wait_session(1, "closed")
        self.show_session(1)
        req = urllib.request.Request(
            "http://%s/api/v1/reset" % srv.http, method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=WAIT) as r:
            self.assertEqual(json.load(r), {"reset": True})
        self.wait_for(lambda: self.sessions() == [],
                      "an empty session list after POST /api/v1/reset")
        self.assertEqual(self.text("#session-title"), "No session selected")
        self.assertEqual(self.text("#session-count"), "0")
        self.assert_not_reloaded()
        # the next session shows up as usual
        c = srv.connect()
        self.assertEqual(c.banner(), STD_BANNER)
        c.cmd("QUIT")
        self.wait_session(2, "closed")


if __name__ == "__main__":
    unittest.main()
