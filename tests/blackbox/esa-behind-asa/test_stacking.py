"""Stacked middleboxes: --via A --via B puts A nearest the client.

A client chunk goes through A, then B, then reaches the server; a server
chunk goes through B, then A. The transcript note for a change names the
box that made it (the first one on the way), so the order shows there;
with a box that rewrites denied commands to NOOP (fixture pix-fixup-noop,
FACTS.md 6's other reading) the order also changes what happens on the
wire. Options --via come in front of the profile's own via: list.
"""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PROFILES, ServerTest  # noqa: E402
from packets import send_packet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

ASA = "asa-esmtp-inspect"
PIX = "pix-fixup"
BANNER = "220 esa.lab.test ESMTP"                                # FACTS.md 4
BANNER_MASKED = "220 ******************"                        # FACTS.md 5
UNKNOWN = "500 #5.5.1 command not recognized"                   # FACTS.md 4
# profiles/esa.yaml
HELO = "250 esa.lab.test"
NOOP_OK = "250 2.0.0 OK"   # built-in RFC 5321 4.1.1.9 (esa has no source)
MAIL_OK = "250 sender <%s> ok"
RCPT_OK = "250 recipient <%s> ok"
DATA_START = "354 go ahead"
ACCEPTED = r"^250 ok: Message \S+ accepted$"
QUIT = "221 esa.lab.test"


class Stacking(ServerTest):

    def start_chain(self, *boxes, profile="esa"):
        args = list(ARGS)
        for b in boxes:
            args += ["--via", b]
        return self.start(profile, args=args)

    def notes(self, srv, session=1):
        """(dir, text, rule, why) of the two-hop notes, in order."""
        return [(e["dir"], e["text"], e["rule"], e["why"])
                for e in srv.events() if e["session"] == session and
                e["dir"] in ("client_saw", "server_got")]

    def session(self, srv):
        """Banner, EHLO, HELO, STARTTLS, a delivery, QUIT."""
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("EHLO client.example.test"), [UNKNOWN])
        self.assertEqual(c.cmd("HELO client.example.test"), [HELO])
        self.assertEqual(c.cmd("STARTTLS"), [UNKNOWN])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"),
                         [MAIL_OK % "a@b.test"])
        self.assertEqual(c.cmd("RCPT TO:<u@esa.lab.test>"),
                         [RCPT_OK % "u@esa.lab.test"])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send("Subject: two boxes\r\n\r\nhi\r\n.\r\n")
        self.assertRegex(c.line(), ACCEPTED)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        srv.wait_event(lambda e: e["dir"] == "close")
        self.assertEqual(len(srv.messages()), 1)

    def test_pix_then_asa(self):
        srv = self.start_chain(PIX, ASA)
        self.session(srv)
        self.assertEqual(self.notes(srv), [
            # server -> client: the ASA (nearest the server) masks first
            ("client_saw", BANNER_MASKED, ASA, "mask-banner"),
            # client -> server: the PIX (nearest the client) acts first
            ("server_got", "X" * 24, PIX, "command not allowed"),
            ("server_got", "XXXXXXXX", PIX, "command not allowed"),
        ])

    def test_asa_then_pix(self):
        srv = self.start_chain(ASA, PIX)
        self.session(srv)
        self.assertEqual(self.notes(srv), [
            ("client_saw", BANNER_MASKED, PIX, "mask-banner"),
            # the ASA lets EHLO through; the PIX masks it
            ("server_got", "X" * 24, PIX, "command not allowed"),
            # the ASA masks STARTTLS before the PIX sees it
            ("server_got", "XXXXXXXX", ASA, "command not allowed"),
        ])

    def test_via_option_goes_in_front_of_profile_via(self):
        """esa-behind-asa --via pix-fixup: client -> PIX -> ASA -> ESA."""
        srv = self.start_chain(PIX, profile="esa-behind-asa")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("EHLO client.example.test"), [UNKNOWN])
        self.assertEqual(c.cmd("STARTTLS"), [UNKNOWN])
        # A limit of the ASA behind the PIX: HELO passes the PIX, a
        # 513-byte line is dropped by the ASA.
        c.send("HELO " + "h" * 508 + "\r\n")
        # drop-connection: neither FIN nor RST reaches the client
        self.assertEqual(c.ending(timeout=1.0), ("open", b""))
        self.assertEqual(
            srv.wait_event(lambda e: e["dir"] == "close")["text"],
            "drop (middlebox %s: drop-connection)" % ASA)
        self.assertEqual(self.notes(srv), [
            ("client_saw", BANNER_MASKED, ASA, "mask-banner"),
            ("server_got", "X" * 24, PIX, "command not allowed"),
            ("server_got", "XXXXXXXX", PIX, "command not allowed"),
            ("server_got", "", ASA,
             "cmd_line_length 513 > 512: drop-connection"),
        ])

    def test_order_changes_the_outcome(self):
        """A 513-byte VRFY: a NOOP-rewriting PIX in front of the ASA
        shortens it to NOOP before the ASA measures it; behind the ASA it
        comes too late, the ASA has dropped the connection."""
        line = "VRFY " + "v" * 508
        srv = self.start_chain("pix-fixup-noop", ASA)
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd(line), [NOOP_OK])
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        srv.wait_event(lambda e: e["dir"] == "close")
        self.assertIn(("server_got", "NOOP", "pix-fixup-noop",
                       "command not allowed"), self.notes(srv))

        srv2 = self.start_chain(ASA, "pix-fixup-noop")
        c = srv2.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        c.send(line + "\r\n")
        self.assertEqual(c.ending(timeout=1.0), ("open", b""))
        self.assertEqual(
            srv2.wait_event(lambda e: e["dir"] == "close")["text"],
            "drop (middlebox %s: drop-connection)" % ASA)
        self.assertEqual(self.notes(srv2), [
            ("client_saw", BANNER_MASKED, "pix-fixup-noop", "mask-banner"),
            ("server_got", "", ASA,
             "cmd_line_length 513 > 512: drop-connection")])

    def test_packets_survive_the_first_box(self):
        """A split end of data is still split when it reaches the PIX
        behind the ASA, and a DKIM cut still happens behind it."""
        srv = self.start_chain(ASA, PIX)
        c = srv.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("HELO client.example.test"), [HELO])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"),
                         [MAIL_OK % "a@b.test"])
        self.assertEqual(c.cmd("RCPT TO:<u@esa.lab.test>"),
                         [RCPT_OK % "u@esa.lab.test"])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        send_packet(self, srv, c, "Subject: split\r\n\r\nhi\r\n")
        send_packet(self, srv, c, ".\r\n")  # a packet boundary, certain
        self.assertEqual(c.ending(timeout=1.0), ("open", b""))
        self.assertIn(("server_got", "", PIX,
                       "end of data split across packets: dropped"),
                      self.notes(srv))
        c.close()
        srv.wait_event(lambda e: e["dir"] == "close")
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])

        srv2 = self.start_chain(ASA, "pix-fixup-pre723")
        c = srv2.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("HELO client.example.test"), [HELO])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"),
                         [MAIL_OK % "a@b.test"])
        self.assertEqual(c.cmd("RCPT TO:<u@esa.lab.test>"),
                         [RCPT_OK % "u@esa.lab.test"])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send("DKIM-Signature: v=1; d=b.test; b=x\r\nSubject: s\r\n\r\n"
               "hi\r\n.\r\n")
        self.assertEqual(c.ending(), ("rst", b""))
        self.assertEqual(
            srv2.wait_event(lambda e: e["dir"] == "close")["text"],
            "rst (middlebox pix-fixup-pre723: reset)")
        self.assertEqual(srv2.new_files(), [])
        self.assertEqual(srv2.tmp_files(), [])


if __name__ == "__main__":
    unittest.main()
