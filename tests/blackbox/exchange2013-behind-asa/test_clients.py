"""exchange2013-behind-asa with real clients as judges: Exchange 2013
behind the ASA's "inspect esmtp" (--via asa-esmtp-inspect). The box masks
STARTTLS as XXXXXXXA (FACTS.md 5), so a client that only tries STARTTLS
when offered (swaks -tlso, nodemailer by default) delivers in clear text,
and one that requires it (swaks -tls, msmtp --tls=on) refuses to go on.
Each test asserts the client's own outcome line and what crossed.

Clients come from the system (swaks, msmtp) or from $SMTP_MIMIC_TOOLS
(default /opt/smtp-mimic-tools: node_modules/nodemailer); a test whose
client is missing is skipped.
"""
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest, have  # noqa: E402

BOX = "asa-esmtp-inspect"
TOOLS = os.environ.get("SMTP_MIMIC_TOOLS", "/opt/smtp-mimic-tools")
NODEMAILER = os.path.join(TOOLS, "node", "node_modules", "nodemailer")
QUEUED = (r"250 2\.6\.0 <[0-9a-f-]+@ex2013\.lab\.test> \[InternalId=\d+, "
          r"Hostname=ex2013\.lab\.test\] Queued mail for delivery")
RCPT = "u@ex2013.lab.test"

NODE_SEND = r"""
const nodemailer = require(process.argv[1]);
const t = nodemailer.createTransport({host: '127.0.0.1',
  port: +process.argv[2], secure: false, name: 'client.example.test',
  tls: {rejectUnauthorized: false}, socketTimeout: 10000});
t.sendMail({from: 'a@b.test', to: process.argv[3], subject: 'asa',
            text: 'hello behind the ASA\n'})
 .then(i => { console.log('DELIVERED ' + i.response); })
 .catch(e => { console.log('FAILED ' + e.code + ' ' + e.message); });
"""


def run(cmd, stdin=b"", timeout=60):
    cp = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=timeout)
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


class ClientsBehindAsa(ServerTest):

    def start_ex(self):
        return self.start("exchange2013", args=["--via", BOX])

    def crossed(self, srv):
        """The client lines of session 1 as the server recorded them."""
        srv.wait_event(lambda e: e["dir"] == "close")
        return [t for d, t in srv.session_events(1, ("C",))]

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_opportunistic_delivers_in_clear_text(self):
        srv = self.start_ex()
        rc, out = run(["swaks", "--server", "127.0.0.1:%d" % srv.port,
                       "--from", "a@b.test", "--to", RCPT, "--helo",
                       "client.example.test", "-tlso", "--timeout", "20"])
        self.assertEqual(rc, 0, out)
        self.assertIn("<-  250-XXXXXXXA\n", out)
        self.assertIn("<-  250-XXXXXXXXXXXXXB\n", out)
        self.assertIn("<-  250 XXXXE\n", out)
        self.assertRegex(out, "<-  " + QUEUED)
        self.assertNotIn("STARTTLS", self.crossed(srv))
        self.assertEqual(len(srv.messages()), 1)

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_requiring_tls_gives_up(self):
        srv = self.start_ex()
        rc, out = run(["swaks", "--server", "127.0.0.1:%d" % srv.port,
                       "--from", "a@b.test", "--to", RCPT, "--helo",
                       "client.example.test", "-tls", "--timeout", "20"])
        self.assertNotEqual(rc, 0, out)
        self.assertIn("*** Host did not advertise STARTTLS\n", out)
        self.assertEqual(self.crossed(srv),
                         ["EHLO client.example.test", "QUIT"])
        self.assertEqual(srv.messages(), [])

    @unittest.skipUnless(have("msmtp"), "msmtp not installed")
    def test_msmtp_requiring_starttls_refuses(self):
        srv = self.start_ex()
        rc, out = run(["msmtp", "--host=127.0.0.1", "--port=%d" % srv.port,
                       "--tls=on", "--tls-starttls=on",
                       "--tls-certcheck=off", "--auth=off",
                       "--domain=client.example.test", "--from=a@b.test",
                       RCPT], b"Subject: asa\n\nhi\n")
        self.assertEqual(rc, 69, out)  # EX_UNAVAILABLE
        self.assertIn("msmtp: the server does not support TLS via the "
                      "STARTTLS command\n", out)
        self.assertEqual(srv.messages(), [])

    @unittest.skipUnless(have("node") and os.path.isdir(NODEMAILER),
                         "node or nodemailer not installed")
    def test_nodemailer_delivers_in_clear_text(self):
        srv = self.start_ex()
        rc, out = run(["node", "-e", NODE_SEND, NODEMAILER,
                       str(srv.port), RCPT])
        self.assertEqual(rc, 0, out)
        self.assertRegex(out, "^DELIVERED " + QUEUED + "\n$")
        self.assertNotIn("STARTTLS", self.crossed(srv))
        self.assertEqual(len(srv.messages()), 1)


if __name__ == "__main__":
    unittest.main()
