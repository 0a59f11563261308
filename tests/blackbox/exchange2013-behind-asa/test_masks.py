"""exchange2013-behind-asa: Exchange 2013 (FACTS.md 1) behind the ASA's
"inspect esmtp" (FACTS.md 5), --profile exchange2013 --via
asa-esmtp-inspect.

The box masks every EHLO keyword it does not allow with X's of the same
length whose last character is a sequence letter, in the order of the
reply: STARTTLS is the first masked (XXXXXXXA), X-ANONYMOUSTLS the second
(13 X's + B), "X-EXPS GSSAPI NTLM" the third (the whole line, 17 X's + C),
CHUNKING the fourth, XRDST the fifth. SIZE, PIPELINING, DSN,
ENHANCEDSTATUSCODES, AUTH, 8BITMIME and BINARYMIME pass (the pgt capture's
list). The client's STARTTLS reaches Exchange as X's, which answers its own
unknown-command reply.
"""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402

BOX = "asa-esmtp-inspect"
# FACTS.md 1: the EHLO reply of an Exchange 2013 receive connector, as the
# server sends it (the profile's hostname; the client is 127.0.0.1) ...
EHLO_SENT = [
    "250-ex2013.lab.test Hello [127.0.0.1]", "250-SIZE 37748736",
    "250-PIPELINING", "250-DSN", "250-ENHANCEDSTATUSCODES", "250-STARTTLS",
    "250-X-ANONYMOUSTLS", "250-AUTH NTLM", "250-X-EXPS GSSAPI NTLM",
    "250-8BITMIME", "250-BINARYMIME", "250-CHUNKING", "250 XRDST"]
# ... and as the client gets it through the box (FACTS.md 5).
EHLO_SEEN = [
    "250-ex2013.lab.test Hello [127.0.0.1]", "250-SIZE 37748736",
    "250-PIPELINING", "250-DSN", "250-ENHANCEDSTATUSCODES",
    "250-XXXXXXXA",                 # STARTTLS, the first masked keyword
    "250-XXXXXXXXXXXXXB",           # X-ANONYMOUSTLS
    "250-AUTH NTLM",
    "250-XXXXXXXXXXXXXXXXXC",       # X-EXPS GSSAPI NTLM, parameters too
    "250-8BITMIME", "250-BINARYMIME",
    "250-XXXXXXXD",                 # CHUNKING
    "250 XXXXE"]                    # XRDST
UNKNOWN = "500 5.3.3 Unrecognized command"      # FACTS.md 1


def banner_mask(line):
    """FACTS.md 5: every character but the digits 2 and 0 becomes '*'; the
    code and the space after it stay (seed 001: "220 ****...")."""
    return line[:4] + "".join(ch if ch in "20" else "*" for ch in line[4:])


class ExchangeBehindAsa(ServerTest):

    def test_ehlo_masks_with_sequence_letters(self):
        srv = self.start("exchange2013", args=["--via", BOX])
        c = srv.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        banner = c.line()
        sent = srv.wait_event(lambda e: e["dir"] == "S")["text"]
        self.assertTrue(sent.startswith(
            "220 ex2013.lab.test Microsoft ESMTP MAIL Service ready at "),
            sent)
        self.assertEqual(banner, banner_mask(sent))
        self.assertEqual(c.cmd("EHLO client.example.test"), EHLO_SEEN)
        # The masked STARTTLS is refused by Exchange itself.
        self.assertEqual(c.cmd("STARTTLS"), [UNKNOWN])
        self.assertEqual(c.cmd("QUIT"),
                         ["221 2.0.0 Service closing transmission channel"])
        self.assertEqual(c.ending(), ("fin", b""))
        srv.wait_event(lambda e: e["dir"] == "close")
        # The transcript: what Exchange sent, then each mask, in order.
        self.assertEqual([t for d, t in srv.session_events(1, ("S",))
                          if t.startswith("250")][:13], EHLO_SENT)
        saw = [(e["text"], e["why"]) for e in srv.events()
               if e["dir"] == "client_saw"][1:]
        self.assertEqual(saw, [
            ("250-XXXXXXXA", "no allow-tls"),
            ("250-XXXXXXXXXXXXXB", "ehlo-reply-parameter others: mask"),
            ("250-XXXXXXXXXXXXXXXXXC", "ehlo-reply-parameter others: mask"),
            ("250-XXXXXXXD", "ehlo-reply-parameter others: mask"),
            ("250 XXXXE", "ehlo-reply-parameter others: mask")])

    def test_without_the_box_nothing_is_masked(self):
        srv = self.start("exchange2013")
        c = srv.connect()
        self.assertTrue(c.line().startswith("220 ex2013.lab.test Microsoft"))
        self.assertEqual(c.cmd("EHLO client.example.test"), EHLO_SENT)


if __name__ == "__main__":
    unittest.main()
