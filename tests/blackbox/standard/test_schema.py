"""test_schema.py - every JSON transcript line against the shipped schema.

Real sessions of several kinds (mail with MAIL and RCPT parameters,
STARTTLS, bad input, a rule that resets a TLS session, a middlebox's
rewrites) are run, and every line the server wrote is validated against
server/out/transcript.schema.json with jsonschema (Debian's, through
harness.with_modules). Facts carried as fields are checked against what the
client itself knows: its own port, the queue id of the 250, the TLS version
it negotiated, the NOTIFY/ORCPT it sent.
"""
import json
import os
import smtplib
import ssl
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import harness  # noqa: E402

HAVE = harness.with_modules("jsonschema")
if HAVE:
    import jsonschema  # noqa: E402

SCHEMA = os.path.join(harness.TOP, "server", "out", "transcript.schema.json")


def tls_client():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


@unittest.skipUnless(HAVE, "jsonschema is not installed")
class Schema(harness.ServerTest):
    def setUp(self):
        super().setUp()
        with open(SCHEMA, encoding="utf-8") as f:
            schema = json.load(f)
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        self.validator = cls(schema)
        # The schema refuses what it does not know (so drift is caught).
        self.assertFalse(self.validator.is_valid(
            {"schema": 1, "time": "2026-01-01T00:00:00.000Z", "session": 1,
             "dir": "C", "text": "NOOP", "profile": "p", "extra": 1}))

    def validate_all(self, srv, at_least):
        self.assertEqual(srv.stop(), 0, srv.log())
        events = srv.events()
        self.assertGreaterEqual(len(events), at_least)
        for e in events:
            errors = sorted(self.validator.iter_errors(e), key=str)
            self.assertEqual(errors, [], json.dumps(e))
            self.assertEqual(e["schema"], 1)
        return events

    def test_mail_starttls_and_bad_input(self):
        srv = self.start("standard")
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        port = s.sock.getsockname()[1]
        s.ehlo("schema.test")
        s.mail("from@schema.test", ["SIZE=200", "BODY=8BITMIME"])
        s.rcpt("to@schema.test", ["NOTIFY=SUCCESS,FAILURE",
                                  "ORCPT=rfc822;orig@schema.test"])
        code, reply = s.data(b"Subject: schema\r\n\r\nbody\r\n")
        self.assertEqual(code, 250)
        s.quit()

        t = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        t.starttls(context=tls_client())
        version = t.sock.version()
        t.ehlo("tls.schema.test")
        t.quit()

        c = srv.connect()
        c.banner()
        c.send(b"EHLO bad\x00input\r\nBARE LF\nWHAT\r\nQUIT\r\n")
        c.ending()

        events = self.validate_all(srv, 20)
        first = [e for e in events if e["session"] == 1]
        connect = [e for e in first if e["dir"] == "connect"][0]
        self.assertEqual(connect["client"],
                         {"addr": "127.0.0.1", "port": port})
        self.assertEqual(connect["server"]["port"], srv.port)
        accepted = [e for e in first if e.get("event") == "accepted"][0]
        self.assertIn(accepted["queue_id"].encode(), reply)
        self.assertEqual(accepted["mail_from"], "from@schema.test")
        close = [e for e in first if e["dir"] == "close"][0]
        self.assertEqual(close["how"], "fin")
        self.assertEqual(close["messages"], 1)
        self.assertGreater(close["bytes_in"], 0)
        done = [e for e in events if e["session"] == 2
                and e.get("event") == "handshake_done"][0]
        self.assertEqual(done["version"], version)
        hello = [e for e in events if e["session"] == 2
                 and e.get("event") == "client_hello"][0]
        self.assertIn(version, hello["offered"]["versions"])

        (name,) = srv.envelope_files()
        with open(os.path.join(srv.spool, "envelope", name)) as f:
            env = json.load(f)
        self.assertEqual(env["mail_params"],
                         {"SIZE": "200", "BODY": "8BITMIME"})
        self.assertEqual(env["rcpts"], [{
            "addr": "to@schema.test", "notify": "SUCCESS,FAILURE",
            "orcpt": "rfc822;orig@schema.test"}])

    def test_rule_reset_after_tls(self):
        srv = self.start("tls_done_rst")
        ctx = tls_client()
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        with self.assertRaises((OSError, smtplib.SMTPException)):
            s.starttls(context=ctx)
            s.ehlo("after.tls")
        s.close()
        events = self.validate_all(srv, 5)
        close = [e for e in events if e["dir"] == "close"][0]
        self.assertEqual(close["how"], "rst")
        self.assertEqual(close["rule"], "done-tls12-rst")

    def test_middlebox_rewrites(self):
        srv = self.start("esa-behind-asa")
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=10)
        s.ehlo("mbox.schema.test")
        s.quit()
        events = self.validate_all(srv, 5)
        saw = [e for e in events if e["dir"] == "client_saw"]
        self.assertIn("250 XXXXXXXA", [e["text"] for e in saw])


if __name__ == "__main__":
    unittest.main()
