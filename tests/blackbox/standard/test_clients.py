"""Real SMTP clients against the standard profile: swaks, Python's smtplib
and curl deliver, and the spool and transcripts record exactly that."""
import os
import re
import smtplib
import subprocess
import sys
import unittest
from email.message import EmailMessage

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest, have  # noqa: E402

EHLO = [
    "250-mx.lab.test",
    "250-PIPELINING",
    "250-SIZE 10485760",
    "250-ENHANCEDSTATUSCODES",
    "250-8BITMIME",
    "250-SMTPUTF8",
    "250-DSN",
    "250-CHUNKING",
    "250-AUTH PLAIN LOGIN",
    "250 STARTTLS",
]
QUEUED = re.compile(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$")


def connect_port(srv, session):
    """The client port of a session, from its connect event."""
    ev = srv.wait_event(lambda e: e["session"] == session
                        and e["dir"] == "connect")
    m = re.match(r"^127\.0\.0\.1:(\d+) -> 127\.0\.0\.1:%d profile=(\S+)$"
                 % srv.port, ev["text"])
    assert m, ev["text"]
    return int(m.group(1))


@unittest.skipUnless(have("swaks"), "swaks not installed")
class Swaks(ServerTest):
    def test_delivery_transcript_spool_and_json(self):
        srv = self.start("standard")
        out = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port,
             "--ehlo", "client.test", "--from", "a@lab.test",
             "--to", "b@lab.test", "--header", "Subject: swaks test",
             "--body", "hello from swaks"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        text = out.stdout.decode()
        self.assertEqual(out.returncode, 0, text)
        got = [ln[4:] for ln in text.splitlines() if ln.startswith("<-  ")]
        self.assertEqual(len(got), 16, text)
        m = QUEUED.match(got[14])
        self.assertIsNotNone(m, text)
        qid = m.group(1)
        self.assertEqual(got, ["220 mx.lab.test ESMTP smtp-mimic"] + EHLO + [
            "250 2.1.0 Ok",
            "250 2.1.5 Ok",
            "354 End data with <CR><LF>.<CR><LF>",
            "250 2.0.0 Ok: queued as " + qid,
            "221 2.0.0 Bye",
        ])

        # The message and its envelope, on disk before the 250.
        self.assertEqual(srv.tmp_files(), [])
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        body, env = msgs[0]
        name = srv.new_files()[0]
        self.assertIn(qid, name)
        self.assertEqual(srv.envelope_files(), [name + ".json"])
        self.assertIn(b"Subject: swaks test\r\n", body)
        self.assertIn(b"\r\n\r\nhello from swaks\r\n", body)
        self.assertEqual(env["queue_id"], qid)
        self.assertEqual(env["file"], name)
        self.assertEqual(env["profile"], "standard")
        self.assertEqual(env["session"], 1)
        self.assertEqual(env["client"], {"ip": "127.0.0.1",
                                         "port": connect_port(srv, 1)})
        self.assertEqual(env["server"], {"ip": "127.0.0.1", "port": srv.port})
        self.assertEqual(env["helo"], "client.test")
        self.assertEqual(env["mail_from"], "a@lab.test")
        self.assertEqual(env["rcpt_to"], ["b@lab.test"])
        self.assertIsNone(env["body"])
        self.assertIs(env["smtputf8"], False)
        self.assertIsNone(env["auth_user"])
        self.assertEqual(env["mail_line"], "MAIL FROM:<a@lab.test>")
        self.assertEqual(env["size"], len(body))
        self.assertEqual(env["size"], os.path.getsize(
            os.path.join(srv.spool, "new", name)))

        # The JSON transcript: the C and S events, in order, then a FIN.
        srv.wait_event(lambda e: e["session"] == 1 and e["dir"] == "close")
        self.assertEqual(srv.session_events(1), [
            ("S", "220 mx.lab.test ESMTP smtp-mimic"),
            ("C", "EHLO client.test")] + [("S", ln) for ln in EHLO] + [
            ("C", "MAIL FROM:<a@lab.test>"),
            ("S", "250 2.1.0 Ok"),
            ("C", "RCPT TO:<b@lab.test>"),
            ("S", "250 2.1.5 Ok"),
            ("C", "DATA"),
            ("S", "354 End data with <CR><LF>.<CR><LF>"),
            ("C", "."),
            ("S", "250 2.0.0 Ok: queued as " + qid),
            ("C", "QUIT"),
            ("S", "221 2.0.0 Bye"),
        ])
        events = [e for e in srv.events() if e["session"] == 1]
        self.assertEqual(events[0]["dir"], "connect")
        self.assertEqual(events[-1]["dir"], "close")
        self.assertTrue(events[-1]["text"].startswith("fin"), events[-1])
        self.assertTrue(all(e["profile"] == "standard" for e in events))

    def test_pipelined_delivery_to_three_recipients(self):
        srv = self.start("standard")
        out = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port, "--pipeline",
             "--ehlo", "client.test", "--from", "a@lab.test",
             "--to", "b@lab.test,c@lab.test,d@lab.test"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout.decode())
        (body, env), = srv.messages()
        self.assertEqual(env["rcpt_to"], ["b@lab.test", "c@lab.test",
                                          "d@lab.test"])
        self.assertEqual(env["size"], len(body))


class Smtplib(ServerTest):
    def test_ehlo_features(self):
        srv = self.start("standard")
        with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="py.test",
                          timeout=10) as s:
            code, text = s.ehlo()
            self.assertEqual(code, 250)
            self.assertEqual(text.decode(), "\n".join(
                ln[4:] for ln in EHLO))
            self.assertEqual(s.esmtp_features, {
                "pipelining": "", "size": "10485760",
                "enhancedstatuscodes": "", "8bitmime": "", "smtputf8": "",
                "dsn": "", "chunking": "",
                # smtplib keeps a leading space in the AUTH value
                "auth": " PLAIN LOGIN", "starttls": ""})
            self.assertEqual(s.noop(), (250, b"2.0.0 Ok"))
            self.assertEqual(s.help(), b"2.0.0 See RFC 5321")
            self.assertEqual(s.verify("x@y.test"), (
                252, b"2.0.0 Cannot VRFY user, but will accept message "
                     b"and attempt delivery"))
            self.assertEqual(s.rset(), (250, b"2.0.0 Ok"))

    def test_sendmail_with_esmtp_and_dsn_parameters(self):
        srv = self.start("standard")
        msg = ("From: a@b.test\r\nTo: c@d.test\r\nSubject: params\r\n\r\n"
               "caf\u00e9 8-bit body\r\n").encode("utf-8")
        with smtplib.SMTP("127.0.0.1", srv.port, local_hostname="py.test",
                          timeout=10) as s:
            refused = s.sendmail(
                "a@b.test", ["c@d.test", "e@f.test"], msg,
                mail_options=["BODY=8BITMIME", "SMTPUTF8", "RET=HDRS",
                              "ENVID=env+2B42"],
                rcpt_options=["NOTIFY=SUCCESS,FAILURE",
                              "ORCPT=rfc822;c@d.test"])
            self.assertEqual(refused, {})
        (body, env), = srv.messages()
        self.assertEqual(body, msg)
        self.assertEqual(env["size"], len(msg))
        self.assertEqual(env["body"], "8BITMIME")
        self.assertIs(env["smtputf8"], True)
        self.assertEqual(env["helo"], "py.test")
        self.assertEqual(env["rcpt_to"], ["c@d.test", "e@f.test"])
        self.assertEqual(env["mail_line"],
                         "mail FROM:<a@b.test> size=%d BODY=8BITMIME SMTPUTF8 "
                         "RET=HDRS ENVID=env+2B42" % len(msg))

    def test_send_message_with_utf8_address(self):
        srv = self.start("standard")
        m = EmailMessage()
        m["From"] = "Jos\u00e9 <jos\u00e9@example.test>"
        m["To"] = "b@lab.test"
        m["Subject"] = "utf-8"
        m.set_content("ol\u00e1\n")
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            self.assertEqual(s.send_message(m), {})
        (body, env), = srv.messages()
        self.assertEqual(env["mail_from"], "jos\u00e9@example.test")
        self.assertIs(env["smtputf8"], True)
        self.assertEqual(env["body"], "8BITMIME")
        self.assertEqual(env["size"], len(body))

    def test_unadvertised_parameter_is_refused(self):
        srv = self.start("standard")
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.ehlo("py.test")
            self.assertEqual(s.mail("a@b.test", ["BODY=BINARYMIME"]), (
                555, b"5.5.4 Unsupported option: BODY"))
            self.assertEqual(s.mail("a@b.test", ["XFOO=1"]), (
                555, b"5.5.4 Unsupported option: XFOO"))
            self.assertEqual(s.mail("a@b.test"), (250, b"2.1.0 Ok"))

    def test_auth_plain_and_login(self):
        srv = self.start("standard")
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.ehlo("py.test")
            self.assertEqual(s.esmtp_features["auth"].split(),
                             ["PLAIN", "LOGIN"])
            # PLAIN with the initial response on the AUTH line.
            self.assertEqual(s.login("test", "test"), (
                235, b"2.7.0 Authentication Succeeded"))
            self.assertEqual(s.docmd("AUTH", "PLAIN dGVzdAB0ZXN0AHRlc3Q="), (
                503, b"5.5.1 Error: already authenticated"))
            s.sendmail("a@b.test", ["c@d.test"], b"Subject: x\r\n\r\nx\r\n")
        (body, env), = srv.messages()
        self.assertEqual(env["auth_user"], "test")

        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.ehlo("py.test")
            s.user, s.password = "test", "test"
            # LOGIN through its two 334 challenges.
            self.assertEqual(s.auth("LOGIN", s.auth_login,
                                    initial_response_ok=False), (
                235, b"2.7.0 Authentication Succeeded"))
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.ehlo("py.test")
            s.user, s.password = "test", "test"
            # PLAIN with the response after an empty 334.
            self.assertEqual(s.auth("PLAIN", s.auth_plain,
                                    initial_response_ok=False), (
                235, b"2.7.0 Authentication Succeeded"))

    def test_auth_failures(self):
        srv = self.start("standard")
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.ehlo("py.test")
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login("test", "wrong")
            self.assertEqual(cm.exception.smtp_code, 535)
            self.assertEqual(cm.exception.smtp_error,
                             b"5.7.8 Authentication credentials invalid")
            s.user, s.password = "test", "wrong"
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.auth("LOGIN", s.auth_login, initial_response_ok=False)
            self.assertEqual(cm.exception.smtp_code, 535)
            self.assertEqual(cm.exception.smtp_error,
                             b"5.7.8 Authentication credentials invalid")
            # A mechanism that is not advertised.
            self.assertEqual(s.docmd("AUTH", "CRAM-MD5"), (
                504, b"5.5.4 Unrecognized authentication type"))
            # "*" cancels the exchange, at either challenge.
            self.assertEqual(s.docmd("AUTH", "LOGIN"), (334, b"VXNlcm5hbWU6"))
            self.assertEqual(s.docmd("*"), (
                501, b"5.7.0 Authentication cancelled"))
            self.assertEqual(s.docmd("AUTH", "LOGIN"), (334, b"VXNlcm5hbWU6"))
            self.assertEqual(s.docmd("dGVzdA=="), (334, b"UGFzc3dvcmQ6"))
            self.assertEqual(s.docmd("*"), (
                501, b"5.7.0 Authentication cancelled"))
            self.assertEqual(s.docmd("AUTH", "PLAIN"), (334, b""))
            self.assertEqual(s.docmd("*"), (
                501, b"5.7.0 Authentication cancelled"))
            # Still not authenticated, and the session still works.
            self.assertEqual(s.login("test", "test"), (
                235, b"2.7.0 Authentication Succeeded"))
            self.assertEqual(s.noop(), (250, b"2.0.0 Ok"))


@unittest.skipUnless(have("curl"), "curl not installed")
class Curl(ServerTest):
    def test_upload_delivers(self):
        srv = self.start("standard")
        content = (b"From: a@b.test\r\nTo: c@d.test\r\nSubject: curl\r\n\r\n"
                   b"line one\r\n.leading dot\r\n..two dots\r\nend\r\n")
        path = os.path.join(srv.dir, "mail.txt")
        with open(path, "wb") as f:
            f.write(content)
        out = subprocess.run(
            ["curl", "-s", "-S", "smtp://127.0.0.1:%d/client.test" % srv.port,
             "--mail-from", "a@b.test", "--mail-rcpt", "c@d.test",
             "--mail-rcpt", "e@f.test", "-T", path],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
        self.assertEqual(out.returncode, 0, out.stdout)
        (body, env), = srv.messages()
        # curl dot-stuffs, the server unstuffs: the file comes back as is.
        self.assertEqual(body, content)
        self.assertEqual(env["size"], len(content))
        self.assertEqual(env["helo"], "client.test")
        self.assertEqual(env["mail_from"], "a@b.test")
        self.assertEqual(env["rcpt_to"], ["c@d.test", "e@f.test"])
        self.assertEqual(srv.tmp_files(), [])


if __name__ == "__main__":
    unittest.main()
