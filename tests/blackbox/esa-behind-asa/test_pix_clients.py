"""pix-fixup with real clients as judges: Mailguard drops a CRLF.CRLF that
is split over two packets (FACTS.md 6), and a packet is what one server
read gets (smtp-mimic(1), "Middleboxes"). Whether a real client's end of
data is split depends on how its writes meet the server's reads
(nodemailer writes ".\\r\\n" on its own after the message; on loopback the
two writes are usually read together), so these tests do not predict the
outcome: they assert that the client's own outcome agrees with what the
box did, as the transcript records it. Delivered: the "." line crossed and
the message is spooled. Not delivered: the "." line is marked as not
delivered (the box dropped it) and the client reports a timeout.

Every client falls back to HELO first (EHLO reaches the server as X's).
Clients: msmtp (system), nodemailer and Exim 4 from $SMTP_MIMIC_TOOLS
(default /opt/smtp-mimic-tools); a missing one is skipped.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import PROFILES, ServerTest, have  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES, "--via", "pix-fixup"]
TOOLS = os.environ.get("SMTP_MIMIC_TOOLS", "/opt/smtp-mimic-tools")
NODEMAILER = os.path.join(TOOLS, "node", "node_modules", "nodemailer")
EXIM = os.path.join(TOOLS, "exim4", "usr", "sbin", "exim4")
QUEUED = r"250 2\.0\.0 Ok: queued as \S+"        # profiles/standard.yaml
DROPPED = ("middlebox pix-fixup: end of data split across packets: "
           "dropped")
MESSAGE = b"From: a@b.test\nTo: u@d.test\nSubject: pix\n\nhello through the PIX\n"

NODE_SEND = r"""
const nodemailer = require(process.argv[1]);
const t = nodemailer.createTransport({host: '127.0.0.1',
  port: +process.argv[2], secure: false, ignoreTLS: true,
  name: 'client.example.test', socketTimeout: 3000});
t.sendMail({from: 'a@b.test', to: 'u@d.test', subject: 'pix',
            text: 'hello through the PIX\n'})
 .then(i => { console.log('DELIVERED ' + i.response); })
 .catch(e => { console.log('FAILED ' + e.code + ' ' + e.message); });
"""

EXIM_CONF = """\
primary_hostname = client.example.test
spool_directory = {d}/spool
log_file_path = {d}/%slog
exim_user = root
exim_group = root
never_users =
keep_environment =
begin routers
smart:
  driver = manualroute
  route_list = * 127.0.0.1::{port}
  transport = remote_smtp
  self = send
begin transports
remote_smtp:
  driver = smtp
  user = nobody
  hosts_avoid_tls = *
  allow_localhost
  command_timeout = 3s
  data_timeout = 3s
  final_timeout = 3s
begin retry
* * F,1m,1m
"""


def run(cmd, stdin=b"", timeout=60):
    cp = subprocess.run(cmd, input=stdin, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, timeout=timeout)
    return cp.returncode, cp.stdout.decode("utf-8", "replace")


class PixClients(ServerTest):

    def judge(self, srv, delivered, out):
        """The client's outcome agrees with the box's verdict."""
        srv.wait_event(lambda e: e["session"] == 1 and e["dir"] == "close")
        dots = [e for e in srv.events() if e["session"] == 1 and
                e["dir"] == "C" and e["text"] == "."]
        self.assertEqual(len(dots), 1, out)
        crossed = "delivered" not in dots[0]
        self.assertEqual(crossed, delivered, out)
        if crossed:
            self.assertEqual(len(srv.messages()), 1)
        else:
            self.assertEqual((dots[0]["delivered"], dots[0]["lost"]),
                             (False, DROPPED))
            self.assertEqual(srv.messages(), [])
        helo = [t for d, t in srv.session_events(1, ("C",))][:2]
        self.assertEqual(helo[0][:5], "EHLO ")
        self.assertEqual(helo[1][:5], "HELO ")

    @unittest.skipUnless(have("msmtp"), "msmtp not installed")
    def test_msmtp(self):
        srv = self.start("standard", args=ARGS)
        rc, out = run(["msmtp", "-v", "--host=127.0.0.1",
                       "--port=%d" % srv.port, "--tls=off", "--auth=off",
                       "--domain=client.example.test", "--from=a@b.test",
                       "--timeout=3", "u@d.test"], MESSAGE)
        delivered = rc == 0
        if delivered:
            self.assertRegex(out, r"<-- " + QUEUED + "\r\n")
        else:
            self.assertIn("msmtp: network read error: the operation "
                          "timed out\n", out)
        self.judge(srv, delivered, out)

    @unittest.skipUnless(have("node") and os.path.isdir(NODEMAILER),
                         "node or nodemailer not installed")
    def test_nodemailer(self):
        srv = self.start("standard", args=ARGS)
        rc, out = run(["node", "-e", NODE_SEND, NODEMAILER, str(srv.port)])
        self.assertEqual(rc, 0, out)
        delivered = out.startswith("DELIVERED ")
        if delivered:
            self.assertRegex(out, "^DELIVERED " + QUEUED + "\n$")
        else:
            self.assertRegex(out, r"^FAILED ETIMEDOUT Timeout\n$")
        self.judge(srv, delivered, out)

    @unittest.skipUnless(os.access(EXIM, os.X_OK) and os.geteuid() == 0,
                         "exim4 not unpacked (or not root)")
    def test_exim(self):
        srv = self.start("standard", args=ARGS)
        d = tempfile.mkdtemp(prefix="mimic-exim-")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)  # the transport runs as nobody
        os.mkdir(os.path.join(d, "spool"))
        conf = os.path.join(d, "exim.conf")
        with open(conf, "w") as f:
            f.write(EXIM_CONF.format(d=d, port=srv.port))
        rc, out = run([EXIM, "-C", conf, "-odi", "-f", "a@b.test",
                       "u@d.test"], MESSAGE)
        with open(os.path.join(d, "mainlog")) as f:
            log = f.read()
        delivered = " Completed\n" in log
        if delivered:
            self.assertRegex(log, r"=> u@d\.test R=smart T=remote_smtp "
                             r"H=127\.0\.0\.1 \[127\.0\.0\.1\] C=\"" +
                             QUEUED + "\"\n")
        else:
            self.assertRegex(log, r"== u@d\.test R=smart T=remote_smtp "
                             r"defer \(-?\d+\)")
        self.judge(srv, delivered, log)


if __name__ == "__main__":
    unittest.main()
