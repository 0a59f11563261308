"""pace: the generic keys of the "pace:" section (issue 13, capabilities
3-5) against fixture profiles (tests/blackbox/profiles/pace-*.yaml), over
real sockets, every byte asserted.

- reply pacing (pace.bytes, interval, for): the banner's first read holds
  at most 4 bytes, the whole banner arrives unchanged, replies after the
  pacing period arrive whole;
- greeting_wait: the "220-" line first, the last line after the wait;
  sync_early: a client that talks first gets sync_reply and a FIN, or
  (sync_then: reject) sync_reply as its greeting and reject_reply for each
  known verb but sync_allow (unknown verbs keep unknown_command);
- sync_pipelining: a command with more input behind it when PIPELINING was
  not offered gets sync_reply and FIN; one at a time is fine, and a BDAT
  chunk after its command is not more input;
- error_delay_after / error_delay with limits.bad_commands: errors keep
  their replies (held back, never reordered) and the limit closes;
  header_command / forbidden_commands: a header line or an HTTP verb as a
  command gets the reply and FIN.
"""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402

HOST = "mx.lab.test"
BANNER = "220 mx.lab.test ESMTP smtp-mimic"           # standard.yaml
EHLO = ["250-mx.lab.test", "250-PIPELINING", "250-SIZE 10485760",
        "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-SMTPUTF8",
        "250-DSN", "250-CHUNKING", "250-AUTH PLAIN LOGIN", "250 STARTTLS"]
HELO = "250 mx.lab.test"
MAIL_OK = "250 2.1.0 Ok"
QUIT = "221 2.0.0 Bye"
UNKNOWN = "500 5.5.2 Error: command not recognized"
LIMIT = "421 4.7.0 mx.lab.test Error: too many errors"
SYNC = "554 5.5.0 SMTP synchronization error"      # pace.sync_reply default
REJECT = "550 5.5.1 Command rejected"              # pace.reject_reply default
BREAK = "221 2.7.0 Error: I can break rules, too. Goodbye."


def crlf(*lines):
    return "".join(l + "\r\n" for l in lines).encode()


class Stutter(ServerTest):

    def test_banner_paced_then_replies_whole(self):
        srv = self.start("pace-stutter")
        s = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
        self.addCleanup(s.close)
        first = s.recv(4096)
        self.assertTrue(0 < len(first) <= 4, first)
        data = first
        while not data.endswith(b"\r\n"):
            chunk = s.recv(4096)
            self.assertTrue(chunk, data)
            data += chunk
        self.assertEqual(data, crlf(BANNER))
        # the banner took at least 8 moves: the 600 ms are over now
        s.sendall(b"EHLO client.lab.test\r\nQUIT\r\n")
        rest = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            rest += chunk
        self.assertEqual(rest, crlf(*EHLO, QUIT))


class GreetingWait(ServerTest):

    def test_patient_client_gets_both_lines(self):
        srv = self.start("pace-greet")
        c = srv.connect()
        self.assertEqual(c.line(), "220-mx.lab.test ESMTP wait")
        self.assertTrue(c.nothing_for(0.1))  # the last line waits
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO)
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def test_early_talker_gets_sync_reply_and_fin(self):
        srv = self.start("pace-greet")
        c = srv.connect()
        c.send("EHLO client.lab.test\r\n")
        self.assertEqual(c.ending(), (
            "fin", crlf("220-mx.lab.test ESMTP wait",
                        "521 5.5.1 Protocol error")))
        self.assertTrue(srv.wait_log("synchronization error"))

    def test_reject_mode(self):
        srv = self.start("pace-reject")
        c = srv.connect()
        c.send("HELO client.lab.test\r\n")
        self.assertEqual(c.line(),
                         "554 mx.lab.test ESMTP not accepting messages")
        self.assertEqual(c.reply(), [HELO])           # sync_allow
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [REJECT])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), [REJECT])
        self.assertEqual(c.cmd("NOOP"), ["250 2.0.0 Ok"])
        self.assertEqual(c.cmd("XYZZY"), [UNKNOWN])  # keeps its reply
        c.send("QUIT\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(QUIT)))

    def test_reject_mode_patient_client_is_served(self):
        srv = self.start("pace-reject")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("HELO client.lab.test"), [HELO])
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])


class SyncPipelining(ServerTest):
    EHLO_NP = ["250-mx.lab.test", "250-SIZE 10485760", "250 CHUNKING"]

    def test_pipelined_after_helo_closes(self):
        srv = self.start("pace-sync")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        c.send("HELO client.lab.test\r\nMAIL FROM:<a@lab.test>\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(SYNC)))

    def test_pipelined_after_ehlo_without_pipelining_closes(self):
        srv = self.start("pace-sync")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.lab.test"), self.EHLO_NP)
        c.send("MAIL FROM:<a@lab.test>\r\nRCPT TO:<b@lab.test>\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(SYNC)))

    def test_one_at_a_time_and_bdat_chunk(self):
        srv = self.start("pace-sync")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.lab.test"), self.EHLO_NP)
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<b@lab.test>"), ["250 2.1.5 Ok"])
        body = "Subject: t\r\n\r\nhi\r\n"
        c.send("BDAT %d LAST\r\n%s" % (len(body), body))
        reply = c.reply()
        self.assertEqual(len(reply), 1)
        self.assertTrue(reply[0].startswith("250 2.0.0 Ok"), reply)

    def test_advertised_pipelining_is_not_checked(self):
        srv = self.start("pace-errors")  # PIPELINING offered, no check
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        c.send("EHLO client.lab.test\r\nMAIL FROM:<a@lab.test>\r\n")
        self.assertEqual(c.reply(), EHLO)
        self.assertEqual(c.reply(), [MAIL_OK])


class ErrorsAndHeaders(ServerTest):

    def hello(self):
        srv = self.start("pace-errors")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO)
        return srv, c

    def test_delayed_errors_then_limit(self):
        srv, c = self.hello()
        for verb in ("XX1", "XX2", "XX3"):  # XX3 waits error_delay
            self.assertEqual(c.cmd(verb), [UNKNOWN], verb)
        self.assertEqual(c.cmd("NOOP"), ["250 2.0.0 Ok"])  # waits too
        c.send("XX4\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(UNKNOWN, LIMIT)))

    def test_header_line_as_command(self):
        srv, c = self.hello()
        c.send("Subject: hello\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(BREAK)))
        self.assertTrue(srv.wait_log("non-SMTP command"))

    def test_header_before_ehlo(self):
        srv = self.start("pace-errors")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        c.send("From: <a@lab.test>\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(BREAK)))

    def test_http_verb(self):
        srv = self.start("pace-errors")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        c.send("GET / HTTP/1.1\r\n")
        self.assertEqual(c.ending(), ("fin", crlf(BREAK)))

    def test_mail_from_is_no_header(self):
        srv, c = self.hello()
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])


if __name__ == "__main__":
    unittest.main()
