"""Cisco PIX fixup protocol smtp (Mailguard) in front of a server.

pix-fixup (FACTS.md 6): only HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT pass,
so EHLO reaches the server as X's and clients fall back to HELO; the
banner is masked; a CRLF.CRLF split across packets is dropped (the sender
waits). pix-fixup-pre723 adds the duplicate-header bug of PIX releases
before 7.2(3) (seed 001): a DKIM-Signature or DomainKey-Signature header
gets the session reset after the header section, before the end-of-data
reply (FACTS.md 6's default), and nothing is spooled.

The server behind is "standard"; its replies below are written out from
profiles/standard.yaml (not FACTS.md text).
"""
import os
import smtplib
import socket
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PROFILES, ServerTest, have  # noqa: E402
from packets import send_packet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

# "220 mx.lab.test ESMTP smtp-mimic" masked (FACTS.md 5-6): the code stays,
# the rest has no 2 or 0, so all stars.
BANNER = "220 mx.lab.test ESMTP smtp-mimic"
BANNER_MASKED = "220 " + "*" * (len(BANNER) - 4)
# profiles/standard.yaml
UNKNOWN = "500 5.5.2 Error: command not recognized"
HELO = "250 mx.lab.test"
MAIL_OK = "250 2.1.0 Ok"
RCPT_OK = "250 2.1.5 Ok"
DATA_START = "354 End data with <CR><LF>.<CR><LF>"
QUEUED = r"^250 2\.0\.0 Ok: queued as \S+$"
QUIT = "221 2.0.0 Bye"

DKIM = ("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=b.test;\r\n"
        " s=sel; h=from:to:subject; bh=AAAA; b=BBBB\r\n")
HEADERS = "From: a@b.test\r\nTo: u@d.test\r\nSubject: pix\r\n"
BODY = "\r\nhello through the PIX\r\n"
# Packets: send_packet() sends a piece and waits until the server has read
# it as one packet (the transcript's "packet N" events), so a split is
# certain, not a matter of timing.


class Pix(ServerTest):

    def start_pix(self, box="pix-fixup"):
        return self.start("standard", args=ARGS + ["--via", box])

    def helo_data(self, srv):
        c = srv.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("HELO client.example.test"), [HELO])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<u@d.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        return c

    def notes(self, srv, session):
        return [(e["text"], e["rule"], e["why"]) for e in srv.events()
                if e["session"] == session and e["dir"] == "server_got"]

    def close_event(self, srv, session):
        return srv.wait_event(lambda e: e["session"] == session and
                              e["dir"] == "close")["text"]

    # pix-fixup ----------------------------------------------------------

    def test_ehlo_masked_helo_works_delivery(self):
        srv = self.start_pix()
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("EHLO client.example.test"), [UNKNOWN])
        self.assertEqual(c.cmd("HELO client.example.test"), [HELO])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<u@d.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send(HEADERS + BODY + ".\r\n")
        self.assertRegex(c.line(), QUEUED)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        self.close_event(srv, 1)
        got = [(e["dir"], e["text"], e.get("rule"), e.get("why"))
               for e in srv.events() if e["dir"] in ("C", "server_got",
                                                     "S", "client_saw")]
        self.assertEqual(got[:2], [
            ("S", BANNER, None, None),
            ("client_saw", BANNER_MASKED, "pix-fixup", "mask-banner")])
        i = got.index(("C", "EHLO client.example.test", None, None))
        self.assertEqual(got[i + 1:i + 3], [
            ("server_got", "X" * len("EHLO client.example.test"),
             "pix-fixup", "command not allowed"),
            ("S", UNKNOWN, None, None)])
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], (HEADERS + BODY).encode())
        self.assertEqual(msgs[0][1]["helo"], "client.example.test")

    def test_smtplib_falls_back_to_helo_and_delivers(self):
        srv = self.start_pix()
        s = smtplib.SMTP("127.0.0.1", srv.port, timeout=20)
        try:
            code, _ = s.ehlo("client.example.test")
            self.assertEqual(code, 500)
            code, _ = s.helo("client.example.test")
            self.assertEqual(code, 250)
            self.assertEqual(s.sendmail("a@b.test", ["u@d.test"],
                                        HEADERS + BODY), {})
            s.quit()
        finally:
            s.close()
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][1]["helo"], "client.example.test")

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_falls_back_to_helo_and_delivers(self):
        srv = self.start_pix()
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port,
             "--from", "a@b.test", "--to", "u@d.test",
             "--helo", "client.example.test", "--timeout", "20"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, out)
        self.assertIn("<-  " + BANNER_MASKED, out)
        self.assertIn("<** " + UNKNOWN, out)
        self.assertIn(" -> HELO client.example.test", out)
        self.assertRegex(out, r"<-  250 2\.0\.0 Ok: queued as \S+")
        self.assertEqual(len(srv.messages()), 1)

    def test_split_end_of_data_is_dropped(self):
        srv = self.start_pix()
        c = self.helo_data(srv)
        send_packet(self, srv, c, HEADERS + BODY)  # ends with CRLF here
        send_packet(self, srv, c, ".\r\n")        # the dot line alone
        # Mailguard dropped the end of data: no reply, connection open.
        self.assertEqual(c.ending(timeout=1.0), ("open", b""))
        why = "end of data split across packets: dropped"
        self.assertIn(("", "pix-fixup", why), self.notes(srv, 1))
        # The dot line is the client's, marked as not passed, in both
        # transcripts.
        dot = [e for e in srv.events() if e["dir"] == "C" and
               e["text"] == "."]
        self.assertEqual([(e["delivered"], e["lost"]) for e in dot],
                         [(False, "middlebox pix-fixup: " + why)])
        self.assertIn("C: .   [not delivered: middlebox pix-fixup: %s]\n"
                      % why, srv.log())
        self.assertEqual(srv.new_files(), [])
        c.close()
        self.assertEqual(self.close_event(srv, 1),
                         "fin (client closed the connection)")
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.envelope_files(), [])
        self.assertEqual(srv.tmp_files(), [])

    def test_split_end_of_data_any_split_point(self):
        srv = self.start_pix()
        splits = (("\r", "\n.\r\n"), ("\r\n.", "\r\n"), ("\r\n.\r", "\n"))
        for s, (first, second) in enumerate(splits, 1):
            c = self.helo_data(srv)
            send_packet(self, srv, c, HEADERS + "\r\nbody" + first, s)
            send_packet(self, srv, c, second, s)
            self.assertEqual(c.ending(timeout=1.0), ("open", b""),
                             repr((first, second)))
            c.close()
        for s in (1, 2, 3):
            self.close_event(srv, s)
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])

    def test_whole_end_of_data_in_one_packet_is_delivered(self):
        srv = self.start_pix()
        c = self.helo_data(srv)
        send_packet(self, srv, c, HEADERS + "\r\nhello")
        send_packet(self, srv, c, "\r\n.\r\n")  # CRLF.CRLF whole in one
        self.assertRegex(c.line(), QUEUED)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], (HEADERS + "\r\nhello\r\n").encode())

    # pix-fixup-pre723 ---------------------------------------------------

    def test_dkim_signature_resets_after_header_section(self):
        srv = self.start_pix("pix-fixup-pre723")
        c = self.helo_data(srv)
        send_packet(self, srv, c, DKIM + HEADERS)  # the headers, not ended
        self.assertTrue(c.nothing_for(0.5))
        c.send(BODY + ".\r\n")          # blank line: the header section ends
        self.assertEqual(c.ending(), ("rst", b""))
        self.assertEqual(self.close_event(srv, 1),
                         "rst (middlebox pix-fixup-pre723: reset)")
        self.assertIn(("", "pix-fixup-pre723",
                       "header DKIM-Signature present"), self.notes(srv, 1))
        # The server never answered the end of data and spooled nothing.
        self.assertFalse(any(t.startswith("250 2.0.0 Ok: queued")
                             for d, t in srv.session_events(1, ("S",))))
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.envelope_files(), [])
        self.assertEqual(srv.tmp_files(), [])

    def test_dkim_whole_message_in_one_packet_resets(self):
        srv = self.start_pix("pix-fixup-pre723")
        c = self.helo_data(srv)
        c.send(DKIM + HEADERS + BODY + ".\r\n")
        self.assertEqual(c.ending(), ("rst", b""))
        self.assertEqual(self.close_event(srv, 1),
                         "rst (middlebox pix-fixup-pre723: reset)")
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])
        # The sender retries (a new session): the box still lets other
        # mail through.
        c2 = self.helo_data(srv)
        c2.send(HEADERS + BODY + ".\r\n")
        self.assertRegex(c2.line(), QUEUED)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], (HEADERS + BODY).encode())

    def test_domainkey_signature_resets(self):
        srv = self.start_pix("pix-fixup-pre723")
        c = self.helo_data(srv)
        c.send("DomainKey-Signature: a=rsa-sha1; d=b.test; b=CCCC\r\n"
               + HEADERS + BODY + ".\r\n")
        self.assertEqual(c.ending(), ("rst", b""))
        self.assertIn(("", "pix-fixup-pre723",
                       "header DomainKey-Signature present"),
                      self.notes(srv, 1))
        self.assertEqual(srv.new_files(), [])

    def test_without_dkim_delivered(self):
        srv = self.start_pix("pix-fixup-pre723")
        c = self.helo_data(srv)
        # DKIM-Signature in a header's value or in the body is no header.
        body = "\r\nDKIM-Signature: in the body\r\n"
        c.send(HEADERS + "X-Note: DKIM-Signature: quoted\r\n" + body
               + ".\r\n")
        self.assertRegex(c.line(), QUEUED)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(self.notes(srv, 1), [])
        self.assertEqual(len(srv.messages()), 1)

    def test_pre723_is_still_mailguard(self):
        srv = self.start_pix("pix-fixup-pre723")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("EHLO client.example.test"), [UNKNOWN])
        self.assertEqual(c.cmd("HELO client.example.test"), [HELO])


if __name__ == "__main__":
    unittest.main()
