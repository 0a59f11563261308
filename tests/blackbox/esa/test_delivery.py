"""esa: deliveries to the Cisco ESA profile (swaks, raw sockets), and the
header-size limit of FACTS.md section 4."""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest, have  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
# (esa has no fixture profiles of its own; a --profile-path that does not
# exist is an error.)
ARGS = ["--profile-path", PROFILES]

BANNER = "220 esa.lab.test ESMTP"                                  # FACTS.md 4
EHLO_REPLY = ["250-esa.lab.test", "250-8BITMIME", "250 SIZE 10485760"]  # FACTS.md 4
# FACTS.md 4 (cisco.com 118495): header section too large.
HEADER_TOO_LARGE = "552 #5.3.4 message header size exceeds limit"
# Not in FACTS.md: profiles/esa.yaml, from cisco.com 118234's telnet session.
MAIL_OK = "250 sender <alice@lab.test> ok"
RCPT_OK = "250 recipient <bob@lab.test> ok"
DATA_START = "354 go ahead"
DATA_OK_RE = re.compile(r"250 ok: Message [0-9]+ accepted\Z")
QUIT = "221 esa.lab.test"
# profiles/esa.yaml limits.header_size (1000 lines of 1000 bytes).
HEADER_SIZE = 1000000


def swaks_server_lines(out):
    """The server's lines in a swaks transcript, without the prefix."""
    lines = []
    for line in out.splitlines():
        m = re.match(r"<(?:-|~|\*\*|\*~) ? ?(.*)\Z", line)
        if m:
            lines.append(m.group(1))
    return lines


def header_of(nfields):
    """A header section (without the empty line): a Subject, then nfields
    fields of exactly 1000 bytes each (998 characters + CRLF, RFC 5322)."""
    fields = [b"X-Fill-%06d: " % i for i in range(nfields)]
    data = b"Subject: big header\r\n" + b"".join(
        f + b"v" * (998 - len(f)) + b"\r\n" for f in fields)
    assert len(data) == 21 + 1000 * nfields
    return data


class EsaDelivery(ServerTest):

    def start_esa(self):
        return self.start("esa", args=ARGS)

    def hello(self, srv):
        c = srv.connect()
        self.assertEqual(c.line(), BANNER)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        return c

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_delivery(self):
        srv = self.start_esa()
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port,
             "--helo", "client.lab.test",
             "--from", "alice@lab.test", "--to", "bob@lab.test",
             "--data", "Subject: esa\\n\\nhello esa\\n",
             "--timeout", "30"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, out)
        got = swaks_server_lines(out)
        self.assertEqual(len(got), 9, out)
        self.assertEqual(got[0], BANNER)
        self.assertEqual(got[1:4], EHLO_REPLY)
        self.assertEqual(got[4:7], [MAIL_OK, RCPT_OK, DATA_START])
        self.assertRegex(got[7], DATA_OK_RE)
        self.assertEqual(got[8], QUIT)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1, srv.log())
        data, env = msgs[0]
        # swaks turns "\n" into CRLF and ends the data with one more CRLF.
        self.assertEqual(data, b"Subject: esa\r\n\r\nhello esa\r\n\r\n")
        self.assertEqual(env["profile"], "esa")
        self.assertEqual(env["helo"], "client.lab.test")
        self.assertEqual(env["mail_from"], "alice@lab.test")
        self.assertEqual(env["rcpt_to"], ["bob@lab.test"])
        self.assertEqual(env["size"], len(data))
        srv.wait_event(lambda e: e["dir"] == "close"
                       and e["text"].startswith("fin"))

    def test_raw_delivery_message_numbers(self):
        srv = self.start_esa()
        c = self.hello(srv)
        nums = []
        for i in range(2):
            self.assertEqual(c.cmd("MAIL FROM:<alice@lab.test>"), [MAIL_OK])
            self.assertEqual(c.cmd("RCPT TO:<bob@lab.test>"), [RCPT_OK])
            self.assertEqual(c.cmd("DATA"), [DATA_START])
            c.send("Subject: %d\r\n\r\nbody\r\n.\r\n" % i)
            r = c.reply()
            self.assertEqual(len(r), 1, r)
            self.assertRegex(r[0], DATA_OK_RE)
            nums.append(r[0].split()[3])
        self.assertNotEqual(nums[0], nums[1])
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(len(srv.messages()), 2)

    def send_message(self, c, header):
        self.assertEqual(c.cmd("MAIL FROM:<alice@lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<bob@lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        c.send(header + b"\r\nbody\r\n.\r\n")
        return c.reply()

    def test_header_too_large(self):
        srv = self.start_esa()
        c = self.hello(srv)
        big = header_of(1010)
        self.assertGreater(len(big), HEADER_SIZE)
        self.assertEqual(self.send_message(c, big), [HEADER_TOO_LARGE])
        # Nothing kept, nothing left half-written.
        self.assertEqual(srv.messages(), [])
        self.assertEqual(srv.tmp_files(), [])
        # The session goes on: the transaction is over, a new one works.
        r = self.send_message(c, b"Subject: small\r\n")
        self.assertRegex(r[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], b"Subject: small\r\n\r\nbody\r\n")

    def test_header_just_under_limit_is_accepted(self):
        # The limit is the profile's 1000000 bytes, not something smaller.
        srv = self.start_esa()
        c = self.hello(srv)
        header = header_of(990)
        self.assertLess(len(header) + 2, HEADER_SIZE)
        r = self.send_message(c, header)
        self.assertEqual(len(r), 1, r)
        self.assertRegex(r[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertEqual(msgs[0][0], header + b"\r\nbody\r\n")

    def test_big_body_small_header_is_accepted(self):
        # Only the header section counts: a 1.5 MB body is fine.
        srv = self.start_esa()
        c = self.hello(srv)
        self.assertEqual(c.cmd("MAIL FROM:<alice@lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("RCPT TO:<bob@lab.test>"), [RCPT_OK])
        self.assertEqual(c.cmd("DATA"), [DATA_START])
        body = (b"y" * 998 + b"\r\n") * 1500
        c.send(b"Subject: big body\r\n\r\n" + body + b".\r\n")
        self.assertRegex(c.reply()[0], DATA_OK_RE)
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(len(srv.messages()), 1)


if __name__ == "__main__":
    unittest.main()
