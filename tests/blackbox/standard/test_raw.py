"""The standard profile over raw sockets: malformed and unusual input, each
followed by proof that the session (or a new one) is still served right."""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402

BANNER = ["220 mx.lab.test ESMTP smtp-mimic"]
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
MAIL_OK = ["250 2.1.0 Ok"]
RCPT_OK = ["250 2.1.5 Ok"]
DATA_START = ["354 End data with <CR><LF>.<CR><LF>"]
NOOP_OK = ["250 2.0.0 Ok"]
RSET_OK = ["250 2.0.0 Ok"]
QUIT = ["221 2.0.0 Bye"]
QUEUED = r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$"
LINE_TOO_LONG = ["500 5.5.2 Error: line too long"]
SYNTAX_ERROR = ["501 5.5.4 Syntax error in parameters or arguments"]
BARE_LF = ["500 5.5.2 Error: bare <LF> received"]
UNKNOWN = ["500 5.5.2 Error: command not recognized"]
NEED_HELO = ["503 5.5.1 Error: send HELO/EHLO first"]
NEED_MAIL = ["503 5.5.1 Error: need MAIL command"]
NEED_RCPT = ["503 5.5.1 Error: need RCPT command"]
NESTED_MAIL = ["503 5.5.1 Error: nested MAIL command"]
TOO_MANY_RCPTS = ["452 4.5.3 Error: too many recipients"]
TOO_BIG = ["552 5.3.4 Error: message file too big"]
IDLE = ["421 4.4.2 mx.lab.test Error: timeout exceeded"]


class Raw(ServerTest):
    def greeted(self, srv, helo="EHLO client.test"):
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        r = c.cmd(helo)
        self.assertEqual(r, EHLO if helo.startswith("EHLO")
                         else ["250 mx.lab.test"])
        return c

    def deliver(self, c, body="Subject: t\r\n\r\nhello\r\n"):
        """A whole transaction on c; returns the queue id."""
        r = c.transaction(body=body)
        self.assertEqual(r[:3], [MAIL_OK, RCPT_OK, DATA_START])
        self.assertEqual(len(r[3]), 1)
        self.assertRegex(r[3][0], QUEUED)
        return r[3][0].rsplit(" ", 1)[1]

    def quit(self, c):
        self.assertEqual(c.cmd("QUIT"), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))

    # --- line handling --------------------------------------------------

    def test_line_too_long_then_session_continues(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("NOOP " + "x" * 1995), LINE_TOO_LONG)
        # In two pieces, so the limit is hit before the line ends.
        c.send("RCPT TO:<" + "y" * 1000)
        c.send("z" * 1000 + "@d.test>\r\n")
        self.assertEqual(c.reply(), LINE_TOO_LONG)
        # The transaction survived.
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send("Subject: t\r\n\r\nx\r\n")
        self.assertRegex(c.cmd(".")[0], QUEUED)
        # Exactly at the limit (512 with CRLF) is still a line.
        self.assertEqual(c.cmd("NOOP " + "x" * 505), NOOP_OK)
        self.assertEqual(c.cmd("NOOP " + "x" * 506), LINE_TOO_LONG)
        self.quit(c)
        self.assertEqual(len(srv.messages()), 1)

    def test_nul_byte_in_command(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a\x00@b.test>"), SYNTAX_ERROR)
        self.assertEqual(c.cmd("NOOP \x00"), SYNTAX_ERROR)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.quit(c)
        # The transcript shows the NUL as an escape, with the raw bytes.
        ev = srv.wait_event(lambda e: e["dir"] == "C"
                            and e["text"].startswith("MAIL FROM:<a"))
        self.assertEqual(ev["text"], "MAIL FROM:<a\\x00@b.test>")

    def test_non_utf8_command_in_transcript(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        c.send(b"NOOP \xff\xfe\r\n")
        self.assertEqual(c.reply(), NOOP_OK)
        self.quit(c)
        ev = srv.wait_event(lambda e: e["dir"] == "C" and "hex" in e)
        self.assertEqual(ev["text"], "NOOP \\xff\\xfe")
        self.assertEqual(ev["hex"], "4e4f4f5020fffe")

    def test_bare_lf_strict(self):
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        c.send("EHLO client.test\n")
        self.assertEqual(c.reply(), BARE_LF)
        # The bare-LF line was not taken: MAIL still needs EHLO.
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), NEED_HELO)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO)
        self.quit(c)

    def test_bare_lf_lenient(self):
        srv = self.start("std-lenient")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        c.send("EHLO client.test\n")
        self.assertEqual(c.reply(), EHLO)
        c.send("MAIL FROM:<a@b.test>\nRCPT TO:<c@d.test>\nDATA\n")
        self.assertEqual(c.reply(), MAIL_OK)
        self.assertEqual(c.reply(), RCPT_OK)
        self.assertEqual(c.reply(), DATA_START)
        c.send("Subject: lf\n\n..dot\nbody\n.\n")
        self.assertRegex(c.reply()[0], QUEUED)
        c.send("QUIT\n")
        self.assertEqual(c.reply(), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))
        (body, env), = srv.messages()
        self.assertEqual(body, b"Subject: lf\n\n.dot\nbody\n")

    # --- pipelining -------------------------------------------------------

    def test_pipelined_batch_in_one_send(self):
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        c.send("EHLO client.test\r\nMAIL FROM:<a@b.test>\r\n"
               "RCPT TO:<r1@d.test>\r\nRCPT TO:<r2@d.test>\r\n"
               "RCPT TO:<r3@d.test>\r\nDATA\r\n"
               "Subject: pipe\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        self.assertEqual(c.reply(), EHLO)
        self.assertEqual(c.reply(), MAIL_OK)
        for _ in range(3):
            self.assertEqual(c.reply(), RCPT_OK)
        self.assertEqual(c.reply(), DATA_START)
        self.assertRegex(c.reply()[0], QUEUED)
        self.assertEqual(c.reply(), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))
        (body, env), = srv.messages()
        self.assertEqual(body, b"Subject: pipe\r\n\r\nbody\r\n")
        self.assertEqual(env["rcpt_to"], ["r1@d.test", "r2@d.test",
                                          "r3@d.test"])

    def test_pipelined_batch_then_half_close(self):
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        c.send("HELO client.test\r\nMAIL FROM:<a@b.test>\r\n"
               "RCPT TO:<c@d.test>\r\nDATA\r\nSubject: x\r\n\r\nx\r\n.\r\n"
               "QUIT\r\n")
        c.sock.shutdown(socket.SHUT_WR)
        how, rest = c.ending()
        self.assertEqual(how, "fin")
        lines = rest.decode().split("\r\n")
        self.assertEqual(lines[:4], ["250 mx.lab.test"] + MAIL_OK + RCPT_OK
                         + DATA_START)
        self.assertRegex(lines[4], QUEUED)
        self.assertEqual(lines[5:], QUIT + [""])
        self.assertEqual(len(srv.messages()), 1)

    # --- BDAT (CHUNKING) ------------------------------------------------

    def test_bdat_chunks(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        chunk1 = b"Subject: bdat\r\n\r\nline\r\n.\r\n"
        chunk2 = b"..not stuffed\r\n.\r\nstill data\r\n"
        chunk3 = b"last\r\n"
        c.send(b"BDAT %d\r\n" % len(chunk1) + chunk1)
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: %d octets received"
                                     % len(chunk1)])
        c.send(b"BDAT %d\r\n" % len(chunk2) + chunk2)
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: %d octets received"
                                     % len(chunk2)])
        # DATA in the middle of a BDAT transaction is RFC 3030 2's 503
        # "Bad sequence of commands" (need_bdat), not "need MAIL".
        self.assertEqual(c.cmd("DATA"), ["503 5.5.1 Bad sequence of commands"])
        c.send(b"BDAT %d LAST\r\n" % len(chunk3) + chunk3)
        self.assertRegex(c.reply()[0], QUEUED)
        # A new transaction may use BDAT 0 LAST on pipelined chunks.
        c.send(b"MAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n"
               b"BDAT 4\r\nab\r\nBDAT 0 LAST\r\n")
        self.assertEqual(c.reply(), MAIL_OK)
        self.assertEqual(c.reply(), RCPT_OK)
        self.assertEqual(c.reply(), ["250 2.0.0 Ok: 4 octets received"])
        self.assertRegex(c.reply()[0], QUEUED)
        self.quit(c)
        bodies = sorted(m[0] for m in srv.messages())
        self.assertEqual(bodies, sorted([chunk1 + chunk2 + chunk3,
                                         b"ab\r\n"]))
        for body, env in srv.messages():
            self.assertEqual(env["size"], len(body))

    def test_bdat_out_of_sequence(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        # The chunk is read and thrown away, then 503.
        c.send(b"BDAT 7\r\nNOOP\r\n.")
        self.assertEqual(c.reply(), NEED_MAIL)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        c.send(b"BDAT 5 LAST\r\nQUIT\r")
        self.assertEqual(c.reply(), NEED_RCPT)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("BDAT x"), SYNTAX_ERROR)
        c.send(b"BDAT 3 LAST\r\nab\n")
        self.assertRegex(c.reply()[0], QUEUED)
        self.quit(c)
        (body, env), = srv.messages()
        self.assertEqual(body, b"ab\n")

    # --- DATA -----------------------------------------------------------

    def test_dot_stuffing_and_split_end_of_data(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        wire = (b"Subject: dots\r\n\r\n..\r\n...three\r\n.x\r\n"
                b"a.\r\n \r\n.\r")
        for i in range(len(wire)):
            c.send(wire[i:i + 1])
            time.sleep(0.002)  # separate reads, not a timing check
        c.send(b"\n")
        self.assertRegex(c.reply()[0], QUEUED)
        self.quit(c)
        (body, env), = srv.messages()
        self.assertEqual(body, b"Subject: dots\r\n\r\n.\r\n..three\r\nx\r\n"
                               b"a.\r\n \r\n")
        self.assertEqual(env["size"], len(body))

    def test_empty_message(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        self.assertRegex(c.cmd(".")[0], QUEUED)
        self.quit(c)
        (body, env), = srv.messages()
        self.assertEqual(body, b"")
        self.assertEqual(env["mail_from"], "")
        self.assertEqual(env["size"], 0)

    def test_disconnect_mid_data_keeps_nothing(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send(b"Subject: cut\r\n\r\n" + b"x" * 100000 + b"\r\n.")
        c.close()
        srv.wait_event(lambda e: e["session"] == 1 and e["dir"] == "close")
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.envelope_files(), [])
        self.assertEqual(srv.tmp_files(), [])
        # A new session is served as usual.
        c2 = self.greeted(srv)
        self.deliver(c2)
        self.quit(c2)
        self.assertEqual(len(srv.messages()), 1)

    def test_message_over_size_limit(self):
        srv = self.start("std-short")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send(b"Subject: big\r\n\r\n" + (b"y" * 78 + b"\r\n") * 20)
        self.assertEqual(c.cmd("."), TOO_BIG)
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])
        # The transaction is over; a smaller message goes through.
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), NEED_MAIL)
        self.deliver(c, body="Subject: small\r\n\r\n" + "z" * 900 + "\r\n")
        self.quit(c)
        (body, env), = srv.messages()
        self.assertEqual(len(body), 920)

    def test_message_line_over_1000_octets(self):
        # RFC 5321 4.5.3.1.6: a text line is at most 1000 octets with its
        # CRLF; standard's limits.text_line_length enforces exactly that.
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send(b"Subject: long\r\n\r\n" + b"x" * 998 + b"\r\n" +
               b"y" * 999 + b"\r\n")
        self.assertEqual(c.cmd("."), LINE_TOO_LONG)
        self.assertEqual(srv.new_files(), [])
        # 998 octets + CRLF is exactly the limit and is accepted.
        self.deliver(c, body="Subject: ok\r\n\r\n" + "x" * 998 + "\r\n")
        self.quit(c)

    def test_bdat_over_size_limit(self):
        srv = self.start("std-short")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        c.send(b"BDAT 2000 LAST\r\n" + b"x" * 2000)
        self.assertEqual(c.reply(), TOO_BIG)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        # A chunk (not LAST) over the limit ends the transaction at once.
        c.send(b"BDAT 1500\r\n" + b"x" * 1500)
        self.assertEqual(c.reply(), TOO_BIG)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), NEED_MAIL)
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])
        self.deliver(c)
        self.quit(c)
        self.assertEqual(len(srv.messages()), 1)

    def test_mail_size_over_limit(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> SIZE=10485761"),
                         TOO_BIG)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), NEED_MAIL)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> SIZE=10485760"),
                         MAIL_OK)
        self.quit(c)

    # --- recipients -----------------------------------------------------

    def test_1001_recipients(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        c.send("".join("RCPT TO:<r%d@d.test>\r\n" % i for i in range(1001)))
        replies = [c.reply() for _ in range(1001)]
        self.assertEqual(replies, [RCPT_OK] * 100 + [TOO_MANY_RCPTS] * 901)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send("Subject: many\r\n\r\nx\r\n")
        self.assertRegex(c.cmd(".")[0], QUEUED)
        self.quit(c)
        (body, env), = srv.messages()
        self.assertEqual(env["rcpt_to"], ["r%d@d.test" % i
                                          for i in range(100)])

    # --- sequence and verbs ---------------------------------------------

    def test_sequence_errors(self):
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), NEED_HELO)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), NEED_HELO)
        self.assertEqual(c.cmd("DATA"), NEED_HELO)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), NEED_MAIL)
        self.assertEqual(c.cmd("DATA"), NEED_MAIL)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("DATA"), NEED_RCPT)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), NESTED_MAIL)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("MAIL FROM:<x@b.test>"), NESTED_MAIL)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send("Subject: seq\r\n\r\nx\r\n")
        self.assertRegex(c.cmd(".")[0], QUEUED)
        self.quit(c)
        (body, env), = srv.messages()
        self.assertEqual(env["mail_from"], "a@b.test")

    def test_unknown_verb_and_syntax(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("FOO bar"), UNKNOWN)
        self.assertEqual(c.cmd("MAILFROM:<a@b.test>"), UNKNOWN)
        self.assertEqual(c.cmd("EHLO"),
                         ["501 5.5.4 Syntax: EHLO/HELO hostname"])
        self.assertEqual(c.cmd("MAIL FROM:a@b@c"),
                         ["501 5.1.7 Bad sender address syntax"])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> FOO=1"),
                         ["555 5.5.4 Unsupported option: FOO"])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<>"),
                         ["501 5.1.3 Bad recipient address syntax"])
        self.assertEqual(c.cmd("RSET x"), SYNTAX_ERROR)
        self.assertEqual(c.cmd("STARTTLS now"), SYNTAX_ERROR)
        self.assertEqual(c.cmd("rcpt to:<c@d.test>"), RCPT_OK)
        self.quit(c)

    def test_rset_mid_transaction(self):
        srv = self.start("standard")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("RSET"), RSET_OK)
        self.assertEqual(c.cmd("DATA"), NEED_MAIL)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), NEED_MAIL)
        self.deliver(c)
        self.quit(c)
        (body, env), = srv.messages()
        self.assertEqual(env["rcpt_to"], ["c@d.test"])

    def test_vrfy_help_noop_texts(self):
        srv = self.start("standard")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        # These need no EHLO.
        self.assertEqual(c.cmd("NOOP"), NOOP_OK)
        self.assertEqual(c.cmd("HELP"), ["214 2.0.0 See RFC 5321"])
        self.assertEqual(c.cmd("HELO client.test"), ["250 mx.lab.test"])
        self.assertEqual(c.cmd("VRFY postmaster"), [
            "252 2.0.0 Cannot VRFY user, but will accept message and "
            "attempt delivery"])
        self.assertEqual(c.cmd("VRFY"), SYNTAX_ERROR)
        self.assertEqual(c.cmd("HELP MAIL"), ["214 2.0.0 See RFC 5321"])
        self.assertEqual(c.cmd("NOOP anything"), NOOP_OK)
        self.assertEqual(c.cmd("RSET"), RSET_OK)
        self.quit(c)

    # --- timeouts and concurrent sessions ---------------------------------

    def test_idle_timeout(self):
        srv = self.start("std-short")
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("EHLO client.test"), EHLO)
        how, rest = c.ending()
        self.assertEqual((how, rest), ("fin", b"\r\n".join(
            x.encode() for x in IDLE) + b"\r\n"))
        ev = srv.wait_event(lambda e: e["dir"] == "close")
        self.assertEqual(ev["text"], "fin (idle timeout)")

    def test_idle_timeout_mid_data(self):
        srv = self.start("std-short")
        c = self.greeted(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send("Subject: slow\r\n\r\npart")
        self.assertEqual(c.ending(), ("fin", IDLE[0].encode() + b"\r\n"))
        srv.wait_event(lambda e: e["dir"] == "close")
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])

    def test_silent_client_does_not_block_others(self):
        srv = self.start("standard")
        quiet = srv.connect()
        self.assertEqual(quiet.reply(), BANNER)
        half = srv.connect()  # connected, greeting never read
        c = self.greeted(srv)
        self.deliver(c)
        self.quit(c)
        self.assertEqual(len(srv.messages()), 1)
        # The quiet ones are still served.
        self.assertEqual(quiet.cmd("EHLO quiet.test"), EHLO)
        self.quit(quiet)
        self.assertEqual(half.reply(), BANNER)
        self.assertEqual(half.cmd("NOOP"), NOOP_OK)
        self.quit(half)


if __name__ == "__main__":
    unittest.main()
