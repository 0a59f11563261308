"""Postfix's smtp-source as a load generator against the standard profile:
every message it sends is in the spool, once, with its envelope."""
import os
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402

SMTP_SOURCE = shutil.which("smtp-source") or (
    "/usr/sbin/smtp-source" if os.access("/usr/sbin/smtp-source", os.X_OK)
    else None)


@unittest.skipUnless(SMTP_SOURCE, "smtp-source (postfix) not installed")
class SmtpSource(ServerTest):
    def run_source(self, srv, *args):
        out = subprocess.run(
            [SMTP_SOURCE] + list(args) + ["127.0.0.1:%d" % srv.port],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=240)
        self.assertEqual(out.returncode, 0, out.stdout.decode("utf-8", "replace"))
        return out.stdout.decode("utf-8", "replace")

    def check_spool(self, srv, n, rcpt):
        names = srv.new_files()
        self.assertEqual(len(names), n)
        self.assertEqual(srv.envelope_files(), [m + ".json" for m in names])
        self.assertEqual(srv.tmp_files(), [])
        msgs = srv.messages()
        qids = set()
        for body, env in msgs:
            self.assertEqual(env["size"], len(body))
            self.assertEqual(env["rcpt_to"], [rcpt])
            self.assertEqual(env["mail_from"], "src@lab.test")
            self.assertTrue(body.endswith(b"\r\n"))
            qids.add(env["queue_id"])
        self.assertEqual(len(qids), n, "queue ids are not unique")

    def check_still_serves(self, srv):
        c = srv.connect()
        self.assertEqual(c.reply(), ["220 mx.lab.test ESMTP smtp-mimic"])
        self.assertEqual(c.cmd("HELO after.test"), ["250 mx.lab.test"])
        r = c.transaction()
        self.assertEqual(r[:3], [["250 2.1.0 Ok"], ["250 2.1.5 Ok"],
                                 ["354 End data with <CR><LF>.<CR><LF>"]])
        self.assertRegex(r[3][0], r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$")
        self.assertEqual(c.cmd("QUIT"), ["221 2.0.0 Bye"])
        self.assertEqual(c.ending(), ("fin", b""))

    def test_2000_messages_20_sessions(self):
        srv = self.start("standard")
        self.run_source(srv, "-s", "20", "-m", "2000", "-c",
                        "-f", "src@lab.test", "-t", "dst@lab.test")
        self.check_spool(srv, 2000, "dst@lab.test")
        self.check_still_serves(srv)
        self.assertEqual(len(srv.new_files()), 2001)

    def test_many_messages_per_connection(self):
        srv = self.start("standard")
        # -d: keep the connection and send the next message on it.
        self.run_source(srv, "-d", "-s", "4", "-m", "200", "-l", "3000",
                        "-f", "src@lab.test", "-t", "dst@lab.test")
        self.check_spool(srv, 200, "dst@lab.test")
        sizes = {len(body) for body, env in srv.messages()}
        self.assertTrue(all(s >= 3000 for s in sizes), sizes)
        self.check_still_serves(srv)


if __name__ == "__main__":
    unittest.main()
