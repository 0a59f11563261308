"""esa-behind-asa: what the ASA's "inspect esmtp" does besides STARTTLS.

Per-packet inspection (a command typed in telnet's character mode reaches
the ESA as X's) and the limits of the default map _default_esmtp_map
(FACTS.md 5): command line > 512 -> drop connection, more than 100 RCPT ->
drop, sender address > 320 -> drop, header line > 998 -> drop, MIME file
name > 255 -> drop, body line > 998 -> log only. drop-connection is
silent: neither FIN nor RST reaches the client, whose read stalls
(smtp-mimic(1), middlebox limits); the server side closes when the box's
timeout_conn expires (fixture asa-short-hold); a fixture box with action
reset shows the RST for contrast. While a dropped client waits, and after
every cut, the server serves a new session.
"""
import os
import signal
import socket
import ssl
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PROFILES, ServerTest  # noqa: E402
from packets import send_packet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

BANNER_MASKED = "220 ******************"               # FACTS.md 5, seed 001
EHLO_MASKED = ["250-esa.lab.test", "250-8BITMIME", "250-SIZE 14680064",
               "250 XXXXXXXA"]                          # seed 001
UNKNOWN = "500 #5.5.1 command not recognized"           # FACTS.md 4
BOX = "asa-esmtp-inspect"
# profiles/esa.yaml [118234] and the engine defaults it inherits (not
# FACTS.md text): the ESA's own replies, which prove a line reached it.
NOOP_OK = "250 2.0.0 OK"   # built-in RFC 5321 4.1.1.9 (esa has no source)
VRFY = "252 ok"
MAIL_OK = "250 sender <%s> ok"
RCPT_OK = "250 recipient <%s> ok"
DATA_START = "354 go ahead"
LINE_TOO_LONG = "500 5.5.2 Line too long"   # esa's line_too_long: built-in RFC 5321 4.5.3.1
QUIT = "221 esa.lab.test"

# send_packet() sends a piece and waits until the server has read it as
# one packet (the transcript's "packet N" events): no sleeps.


class Inspect(ServerTest):

    def start_asa(self, profile="esa-behind-asa", *extra):
        return self.start(profile, args=ARGS + list(extra))

    def hello(self, srv):
        c = srv.connect()
        c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("EHLO client.example.test"), EHLO_MASKED)
        return c

    def notes(self, srv, session, kind="server_got"):
        return [(e["text"], e["rule"], e["why"]) for e in srv.events()
                if e["session"] == session and e["dir"] == kind]

    def close_event(self, srv, session):
        return srv.wait_event(lambda e: e["session"] == session and
                              e["dir"] == "close")["text"]

    def assert_dropped(self, srv, c, session, why, rest=0):
        """The box dropped the connection (FACTS.md 5, drop-connection):
        nothing more reaches the client and neither FIN nor RST: its read
        times out with the socket still connected, and what it sends now
        is discarded. The server meanwhile serves another session. Then
        the test gives up and closes, as a client would; the transcript
        names the limit and how the hold ended: the bytes discarded are
        the rest of the packet the box cut in (rest) and the QUIT."""
        self.assertEqual(c.ending(timeout=1.0), ("open", b""))
        c.sock.getpeername()  # still connected: no FIN, no RST
        self.assertEqual(self.close_event(srv, session),
                         "drop (middlebox %s: drop-connection)" % BOX)
        self.assertIn(("", BOX, why), self.notes(srv, session))
        c.send("QUIT\r\n")  # the box forwards nothing more
        self.assertEqual(c.ending(timeout=0.5), ("open", b""))
        self.assert_new_session_served(srv)
        c.close()
        held = srv.wait_event(lambda e: e["session"] == session and
                              e["dir"] == "warn" and
                              e["text"].startswith("middlebox"))["text"]
        self.assertRegex(held, r"^middlebox %s: the client gave up on the "
                         r"dropped connection after \d+ ms \(it closed; it "
                         r"never saw a FIN or RST\); %d bytes it sent after "
                         r"the line the box dropped at were discarded$"
                         % (BOX, rest + 6))

    def assert_new_session_served(self, srv):
        c = self.hello(srv)
        self.assertEqual(c.cmd("NOOP"), [NOOP_OK])
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))

    # 5. per-packet inspection -------------------------------------------

    def test_telnet_character_mode_reaches_server_as_xs(self):
        srv = self.start_asa()
        c = self.hello(srv)
        for piece in ("N", "O", "O", "P", "\r\n"):
            send_packet(self, srv, c, piece)  # one packet each, certain
        self.assertEqual(c.reply(), [UNKNOWN])
        # The same command in one packet: the ESA's NOOP reply.
        self.assertEqual(c.cmd("NOOP"), [NOOP_OK])
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        self.close_event(srv, 1)
        ev = [(e["dir"], e["text"], e.get("rule"), e.get("why"))
              for e in srv.events()
              if e["dir"] in ("C", "S", "server_got")]
        i = ev.index(("C", "NOOP", None, None))
        self.assertEqual(ev[i + 1][:3], ("server_got", "XXXX", BOX))
        self.assertIn("split across packets", ev[i + 1][3])
        self.assertEqual(ev[i + 2], ("S", UNKNOWN, None, None))
        # The whole NOOP: no note, straight to the ESA.
        self.assertEqual(ev[i + 3:i + 5], [("C", "NOOP", None, None),
                                           ("S", NOOP_OK, None, None)])

    def test_masked_banner_keeps_every_2_and_0(self):
        """FACTS.md 5: every character but the digits 2 and 0 (and CR LF)
        becomes "*", also inside the host name (fixture esa02.lab.test)."""
        srv = self.start_asa("esa02-behind-asa")
        c = srv.connect()
        self.assertEqual(c.line(), "220 ***02***************")
        self.assertEqual(c.cmd("EHLO client.example.test"),
                         ["250-esa02.lab.test", "250-8BITMIME",
                          "250-SIZE 14680064", "250 XXXXXXXA"])
        srv.wait_event(lambda e: e["dir"] == "S" and
                       e["text"] == "220 esa02.lab.test ESMTP")

    def test_multiline_banner_every_line_masked(self):
        """Fixture esa-multiline-behind-asa: "220-esa.lab.test ESMTP",
        "220 welcome 2020"; each line masked, the 220-/220 kept."""
        srv = self.start_asa("esa-multiline-behind-asa")
        c = srv.connect()
        self.assertEqual(c.reply(), ["220-******************",
                                     "220 ********2020"])
        self.assertEqual(c.cmd("EHLO client.example.test"), EHLO_MASKED)

    def test_other_ehlo_keywords_masked_in_place(self):
        """match ehlo-reply-parameter others -> mask (FACTS.md 5): behind
        the ASA, standard's SMTPUTF8 and CHUNKING (not in the capture's
        list of keywords that pass) become X's of their length ending in
        a sequence letter, in the reply's order: SMTPUTF8 A, CHUNKING B,
        STARTTLS C; the allowed ones pass."""
        srv = self.start("standard", args=ARGS + ["--via", BOX])
        c = srv.connect()
        self.assertEqual(c.line(), "220 ****************************")
        self.assertEqual(c.cmd("EHLO client.example.test"), [
            "250-mx.lab.test", "250-PIPELINING", "250-SIZE 10485760",
            "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-XXXXXXXA",
            "250-DSN", "250-XXXXXXXB", "250-AUTH PLAIN LOGIN",
            "250 XXXXXXXC"])
        srv.wait_event(lambda e: e["dir"] == "client_saw" and
                       e["text"] == "250 XXXXXXXC")
        self.assertEqual(
            [(t, w) for t, r, w in self.notes(srv, 1, "client_saw")][1:],
            [("250-XXXXXXXA", "ehlo-reply-parameter others: mask"),
             ("250-XXXXXXXB", "ehlo-reply-parameter others: mask"),
             ("250 XXXXXXXC", "no allow-tls")])

    def test_reload_keeps_the_box_of_a_running_session(self):
        """SIGHUP reloads the profile (and its via) for new sessions; a
        session already behind the ASA keeps its box (a use-after-free
        here shows under the sanitizer build)."""
        srv = self.start_asa()
        a = self.hello(srv)
        for n in range(1, 4):
            srv.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 10
            while srv.log().count("reloaded profile esa-behind-asa") < n:
                self.assertLess(time.monotonic(), deadline, srv.log())
                time.sleep(0.02)
        b = self.hello(srv)
        self.assertEqual(b.cmd("STARTTLS"), [UNKNOWN])
        self.assertEqual(a.cmd("STARTTLS"), [UNKNOWN])
        self.start_data(a)
        a.send("Subject: across a reload\r\n\r\nhi\r\n.\r\n")
        self.assertRegex(a.reply()[0], r"^250 ok: Message \S+ accepted$")
        self.assertEqual(a.cmd("QUIT"), [QUIT])
        self.assertEqual(a.ending(), ("fin", b""))
        self.assertEqual(len(srv.messages()), 1)

    # 6. the limits of _default_esmtp_map ---------------------------------

    def test_command_line_513_drops_512_passes(self):
        srv = self.start_asa()
        c = self.hello(srv)
        # 510 bytes + CRLF: fits the box and the ESA (512 with CRLF).
        line510 = "VRFY " + "a" * 505
        self.assertEqual(c.cmd(line510), [VRFY])
        # 512 bytes: the box lets it through; the ESA itself finds it too
        # long (its limit counts the CRLF), so its own reply comes back.
        line512 = "VRFY " + "b" * 507
        self.assertEqual(len(line512), 512)
        self.assertEqual(c.cmd(line512), [LINE_TOO_LONG])
        self.assertEqual(c.cmd("NOOP"), [NOOP_OK])
        self.assertEqual(self.notes(srv, 1), [])
        # 513 bytes: dropped by the box, the ESA never answers.
        line513 = "VRFY " + "c" * 508
        self.assertEqual(len(line513), 513)
        c.send(line513 + "\r\n")
        self.assert_dropped(srv, c, 1,
                            "cmd_line_length 513 > 512: drop-connection")

    def test_command_line_limit_with_reset_action_is_rst(self):
        """Contrast (fixture asa-reset): action reset -> RST at once
        (SO_LINGER 0): the client's read fails with ECONNRESET."""
        srv = self.start_asa("esa", "--via", "asa-reset")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        c.send("VRFY " + "c" * 508 + "\r\n")
        self.assertEqual(c.ending(), ("rst", b""))
        self.assertEqual(self.close_event(srv, 1),
                         "rst (middlebox asa-reset: reset)")
        self.assertIn(("", "asa-reset", "cmd_line_length 513 > 512: reset"),
                      self.notes(srv, 1))
        c2 = srv.connect()
        self.assertEqual(c2.line(), BANNER_MASKED)
        self.assertEqual(c2.cmd("NOOP"), [NOOP_OK])

    def test_101st_rcpt_drops(self):
        srv = self.start_asa()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@example.test>"),
                         [MAIL_OK % "a@example.test"])
        for i in range(100):
            r = "r%d@esa.lab.test" % i
            self.assertEqual(c.cmd("RCPT TO:<%s>" % r), [RCPT_OK % r])
        c.send("RCPT TO:<r100@esa.lab.test>\r\n")
        self.assert_dropped(srv, c, 1,
                            "rcpt_count 101 > 100: drop-connection")
        # The ESA never saw the 101st RCPT: no reply to it in the transcript.
        replies = [t for d, t in srv.session_events(1, ("S",))
                   if t.startswith("250 recipient")]
        self.assertEqual(len(replies), 100)
        self.assertEqual(srv.new_files(), [])
        # The 101st line is the client's, marked as not passed.
        last = [e for e in srv.events() if e["session"] == 1 and
                e["dir"] == "C"][-1]
        self.assertEqual((last["text"], last["delivered"], last["lost"]),
                         ("RCPT TO:<r100@esa.lab.test>", False,
                          "middlebox %s: rcpt_count 101 > 100: "
                          "drop-connection" % BOX))

    def test_pipelined_replies_the_drop_discarded_are_not_delivered(self):
        """MAIL and 101 RCPTs in one packet (PIPELINING): the box passes
        MAIL and 100 RCPTs and drops the connection at the 101st; the ESA
        answers all 101 it got, and the client gets none of those 250s.
        Both transcripts show each of them as not delivered."""
        srv = self.start_asa()
        c = self.hello(srv)
        lost = "middlebox %s: drop-connection" % BOX
        send_packet(self, srv, c, "MAIL FROM:<a@example.test>\r\n" +
                    "".join("RCPT TO:<r%d@esa.lab.test>\r\n" % i
                            for i in range(101)))
        self.assertEqual(c.ending(timeout=1.0), ("open", b""))
        self.assertEqual(self.close_event(srv, 1),
                         "drop (middlebox %s: drop-connection)" % BOX)
        ev = [e for e in srv.events() if e["session"] == 1]
        sent = [e for e in ev if e["dir"] == "S"]
        # the banner and the EHLO reply crossed: no "delivered" field
        self.assertEqual([e["text"] for e in sent[:5]],
                         ["220 esa.lab.test ESMTP"] + EHLO_MASKED[:3] +
                         ["250 STARTTLS"])
        self.assertTrue(all("delivered" not in e for e in sent[:5]))
        want = ["250 sender <a@example.test> ok"] + [
            RCPT_OK % ("r%d@esa.lab.test" % i) for i in range(100)]
        self.assertEqual([(e["text"], e["delivered"], e["lost"])
                          for e in sent[5:]],
                         [(t, False, lost) for t in want])
        # the readable transcript marks each of them
        log = srv.log()
        for t in (want[0], want[1], want[-1]):
            self.assertIn("S: %s   [not delivered: %s]\n" % (t, lost), log)
        self.assertIn("C: RCPT TO:<r100@esa.lab.test>   [not delivered: "
                      "middlebox %s: rcpt_count 101 > 100: "
                      "drop-connection]\n" % BOX, log)
        self.assertIn("C: RCPT TO:<r99@esa.lab.test>\n", log)
        c.close()

    def test_drop_hold_ends_when_the_box_times_out(self):
        """Fixture asa-short-hold (timeout_conn 1s): the client, told
        nothing, keeps waiting; when the box's timeout expires the server
        side is closed (the transcript says so) and the mock resets the
        client's socket (model choice)."""
        srv = self.start_asa("esa", "--via", "asa-short-hold")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        # the NOOP after the long line, in the same packet, is never
        # read by the box: it is discarded with the cut
        c.send("VRFY " + "c" * 508 + "\r\nNOOP\r\n")
        self.assertEqual(c.ending(timeout=10), ("rst", b""))
        self.assertEqual(self.close_event(srv, 1),
                         "drop (middlebox asa-short-hold: drop-connection)")
        held = srv.wait_event(lambda e: e["dir"] == "warn" and
                              e["text"].startswith("middlebox"))["text"]
        self.assertEqual(
            held, "middlebox asa-short-hold: timeout_conn 1000 ms expired: "
            "the server side is closed; the client, told nothing until "
            "now, gets a RST (model choice); 6 bytes it sent after the "
            "line the box dropped at were discarded")
        self.assertNotIn(("C", "NOOP"), srv.session_events(1))

    def test_rcpt_count_is_per_transaction(self):
        srv = self.start_asa()
        c = self.hello(srv)
        for _ in range(2):
            self.assertEqual(c.cmd("MAIL FROM:<a@example.test>"),
                             [MAIL_OK % "a@example.test"])
            for i in range(60):
                r = "r%d@esa.lab.test" % i
                self.assertEqual(c.cmd("RCPT TO:<%s>" % r), [RCPT_OK % r])
            self.assertEqual(c.cmd("RSET"), [NOOP_OK])
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(self.notes(srv, 1), [])

    def test_sender_321_drops_320_passes(self):
        srv = self.start_asa()
        c = self.hello(srv)
        a320 = "s" * (320 - len("@example.test")) + "@example.test"
        self.assertEqual(len(a320), 320)
        self.assertEqual(c.cmd("MAIL FROM:<%s>" % a320), [MAIL_OK % a320])
        self.assertEqual(c.cmd("RSET"), [NOOP_OK])
        a321 = "t" + a320
        c.send("MAIL FROM:<%s>\r\n" % a321)
        self.assert_dropped(srv, c, 1,
                            "sender_length 321 > 320: drop-connection")

    def start_data(self, c):
        self.assertEqual(c.cmd("MAIL FROM:<a@example.test>"),
                         [MAIL_OK % "a@example.test"])
        self.assertEqual(c.cmd("RCPT TO:<u@esa.lab.test>"),
                         [RCPT_OK % "u@esa.lab.test"])
        self.assertEqual(c.cmd("DATA"), [DATA_START])

    def test_header_line_999_drops_998_passes(self):
        srv = self.start_asa()
        c = self.hello(srv)
        self.start_data(c)
        h998 = "X-Long: " + "h" * 990
        self.assertEqual(len(h998), 998)
        c.send("Subject: ok\r\n%s\r\n\r\nbody\r\n.\r\n" % h998)
        self.assertRegex(c.reply()[0], r"^250 ok: Message \S+ accepted$")
        self.start_data(c)
        c.send("Subject: long\r\n%s\r\n\r\nbody\r\n.\r\n" % (h998 + "h"))
        # the rest of that packet, "\r\nbody\r\n.\r\n", goes with the cut
        self.assert_dropped(srv, c, 1,
                            "header_line_length 999 > 998: drop-connection",
                            rest=11)
        self.assertEqual(len(srv.new_files()), 1)
        self.assertEqual(srv.tmp_files(), [])

    def test_body_line_999_is_only_logged(self):
        srv = self.start_asa()
        c = self.hello(srv)
        self.start_data(c)
        c.send("Subject: x\r\n\r\n" + "b" * 999 + "\r\n.\r\n")
        # The box passed it on: the answer is the ESA's own (its text line
        # limit, 1000 with CRLF, is what refuses it).
        self.assertEqual(c.reply(), [LINE_TOO_LONG])
        self.assertEqual(c.cmd("NOOP"), [NOOP_OK])
        # The session is still open: its JSON lines may be up to 100 ms
        # behind (buffered), so wait for the note rather than read once.
        srv.wait_event(lambda e: e["session"] == 1 and
                       e["dir"] == "server_got")
        self.assertIn(("", BOX, "body_line_length 999 > 998: log"),
                      self.notes(srv, 1))

    def test_mime_filename_256_drops(self):
        srv = self.start_asa()
        c = self.hello(srv)
        for n, ok in ((255, True), (256, False)):
            self.start_data(c)
            c.send('Subject: f\r\nContent-Type: multipart/mixed; '
                   'boundary="b"\r\n\r\n--b\r\nContent-Disposition: '
                   'attachment; filename="%s"\r\n\r\nx\r\n--b--\r\n.\r\n'
                   % ("f" * n))
            if ok:
                self.assertRegex(c.reply()[0],
                                 r"^250 ok: Message \S+ accepted$")
        # the rest of that packet, "\r\nx\r\n--b--\r\n.\r\n", goes too
        self.assert_dropped(
            srv, c, 1, "mime_filename_length 256 > 255: drop-connection",
            rest=15)
        self.assertEqual(len(srv.new_files()), 1)
        self.assertEqual(srv.tmp_files(), [])

    # what the box leaves alone -----------------------------------------

    def test_message_data_is_not_read_as_commands(self):
        """After the 354 the box watches headers and line lengths only: a
        body full of command-like lines (STARTTLS, 120 RCPTs) passes."""
        srv = self.start_asa()
        c = self.hello(srv)
        self.start_data(c)
        body = ("Subject: commands in the body\r\n\r\nSTARTTLS\r\n"
                "EHLO x\r\n" + "RCPT TO:<x@y.test>\r\n" * 120 +
                "XXXXXXXA\r\n..\r\n")
        c.send(body + ".\r\n")
        self.assertRegex(c.reply()[0], r"^250 ok: Message \S+ accepted$")
        # Back in command mode: STARTTLS is masked again.
        self.assertEqual(c.cmd("STARTTLS"), [UNKNOWN])
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], body.replace("\r\n..\r\n",
                                                  "\r\n.\r\n").encode())
        self.assertEqual([n[0] for n in self.notes(srv, 1)], ["XXXXXXXX"])

    def test_pipelined_commands_are_inspected_one_by_one(self):
        srv = self.start_asa()
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        c.send("EHLO client.example.test\r\nSTARTTLS\r\nNOOP\r\n")
        self.assertEqual(c.reply(), EHLO_MASKED)
        self.assertEqual(c.reply(), [UNKNOWN])
        self.assertEqual(c.reply(), [NOOP_OK])

    def test_allow_tls_box_goes_blind_after_starttls(self):
        """Fixture asa-allow-tls: STARTTLS and its keyword pass; once TLS
        is up the box reads nothing (a 600-byte line is the ESA's to
        refuse, not the box's to drop)."""
        srv = self.start_asa("esa-behind-asa", "--via", "none",
                             "--via", "asa-allow-tls")
        c = srv.connect()
        self.assertEqual(c.line(), BANNER_MASKED)
        self.assertEqual(c.cmd("EHLO client.example.test"),
                         EHLO_MASKED[:3] + ["250 STARTTLS"])
        self.assertEqual(c.cmd("STARTTLS"), ["220 2.0.0 Ready to start TLS"])
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.sock = ctx.wrap_socket(c.sock)
        self.assertEqual(c.cmd("EHLO client.example.test"),
                         ["250-esa.lab.test", "250-8BITMIME",
                          "250 SIZE 14680064"])
        self.assertEqual(c.cmd("VRFY " + "a" * 600), [LINE_TOO_LONG])
        self.assertEqual(c.cmd("HELP")[0],
                         "214-The following commands are recognized")
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.close_event(srv, 1)
        self.assertEqual([n[0] for n in self.notes(srv, 1, "client_saw")],
                         [BANNER_MASKED])
        self.assertEqual(self.notes(srv, 1), [])


if __name__ == "__main__":
    unittest.main()
