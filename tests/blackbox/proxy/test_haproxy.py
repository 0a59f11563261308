"""test_haproxy.py - smtp-mimic --proxy-protocol behind a real HAProxy.

The README's "Scaling past one machine" set-up, run for real: HAProxy
(Debian's haproxy, mode tcp) forwards a frontend port to smtp-mimic with
send-proxy-v2 (and, in one case, send-proxy: v1). The SMTP client is
Python's smtplib, bound to 127.0.0.3 so the address the transcript must
name is one nobody else uses; the socket smtp-mimic accepts comes from
HAProxy on 127.0.0.1. Checked: the exact replies the client got, the
connect event (client = 127.0.0.3 and its port, server = HAProxy's
frontend, proxy = HAProxy's own socket and the version), the message on
disk, STARTTLS through the balancer, and a balancer sending the version
the server does not take (no banner, a FIN). HAProxy is started with -db
(foreground) and waited for by /proc/net/tcp, so the wait itself is no
session.

Run: SMTP_MIMIC=$PWD/build/smtp-mimic python3 -B tests/blackbox/proxy/test_haproxy.py
"""
import os
import smtplib
import ssl
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from harness import ServerTest  # noqa: E402
from mimic import NotReady, Process, free_port, listeners  # noqa: E402
import clients  # noqa: E402

CLIENT = "127.0.0.3"

CONFIG = """\
global
    maxconn 64
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend smtp
    bind 127.0.0.1:{front}
    default_backend mimic
backend mimic
    server m1 127.0.0.1:{back} {send}
"""


class HAProxy(ServerTest):
    def balancer(self, srv, send="send-proxy-v2"):
        """HAProxy from a frontend port to srv; returns the port."""
        clients.need(self, "haproxy")
        front = free_port()
        cfg = os.path.join(srv.dir, "haproxy.cfg")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write(CONFIG.format(front=front, back=srv.port, send=send))
        proc = Process(["haproxy", "-db", "-f", cfg],
                       os.path.join(srv.dir, "haproxy.txt"))
        self.addCleanup(proc.terminate)
        try:
            proc.wait_ready(lambda: listeners(front) > 0, 20)
        except NotReady as e:
            self.fail("haproxy did not start (%s): %s"
                      % (e, proc.read_stderr()))
        return front

    def send(self, port, starttls=False):
        """One message through the balancer from CLIENT; the client's
        port and what smtplib got back."""
        smtp = smtplib.SMTP("127.0.0.1", port, timeout=10,
                            source_address=(CLIENT, 0))
        try:
            cport = smtp.sock.getsockname()[1]
            got = [smtp.ehlo("client.test")[0]]
            if starttls:
                ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
                got.append(smtp.starttls(context=ctx))
                got.append(smtp.ehlo("client.test")[0])
            got.append(smtp.sendmail("a@b.test", ["c@d.test"],
                                     b"Subject: via haproxy\r\n\r\nhi\r\n"))
        finally:
            got_quit = smtp.quit()
        return cport, got, got_quit

    def check_connect(self, srv, front, cport, version):
        c = srv.wait_event(lambda e: e["dir"] == "connect")
        self.assertEqual(c["client"], {"addr": CLIENT, "port": cport})
        self.assertEqual(c["server"], {"addr": "127.0.0.1", "port": front})
        # HAProxy's own socket to smtp-mimic: from 127.0.0.1, another port.
        self.assertEqual(c["proxy"]["addr"], "127.0.0.1")
        self.assertEqual(c["proxy"]["version"], version)
        self.assertNotEqual(c["proxy"]["port"], cport)
        self.assertEqual(c["text"],
                         "%s:%d -> 127.0.0.1:%d profile=standard "
                         "proxy=127.0.0.1:%d v%d"
                         % (CLIENT, cport, front, c["proxy"]["port"],
                            version))
        return c

    def test_send_proxy_v2(self):
        srv = self.start("standard", ["--proxy-protocol=v2"])
        front = self.balancer(srv)
        cport, got, got_quit = self.send(front)
        self.assertEqual(got, [250, {}])
        self.assertEqual(got_quit, (221, b"2.0.0 Bye"))
        self.check_connect(srv, front, cport, 2)
        msgs = srv.messages()
        self.assertEqual(len(msgs), 1)
        self.assertIn(b"Subject: via haproxy\r\n", msgs[0][0])
        e = srv.wait_event(lambda e: e["dir"] == "close")
        self.assertEqual((e["how"], e["messages"]), ("fin", 1))

    def test_send_proxy_v1(self):
        srv = self.start("standard", ["--proxy-protocol=v1"])
        front = self.balancer(srv, "send-proxy")
        cport, got, _ = self.send(front)
        self.assertEqual(got, [250, {}])
        self.check_connect(srv, front, cport, 1)

    def test_starttls_through_the_balancer(self):
        srv = self.start("standard", ["--proxy-protocol"])
        front = self.balancer(srv)
        cport, got, _ = self.send(front, starttls=True)
        self.assertEqual(got, [250, (220, b"2.0.0 Ready to start TLS"), 250,
                               {}])
        self.check_connect(srv, front, cport, 2)
        done = srv.wait_event(lambda e: e.get("event") == "handshake_done")
        self.assertEqual(done["session"], 1)
        self.assertRegex(done["version"], r"^TLSv1\.[23]$")

    def test_v1_balancer_refused_by_v2_only(self):
        # A balancer set to the other version gets no banner: the client
        # behind it sees the connection closed at once.
        srv = self.start("standard", ["--proxy-protocol=v2"])
        front = self.balancer(srv, "send-proxy")
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            smtplib.SMTP("127.0.0.1", front, timeout=10,
                         source_address=(CLIENT, 0))
        e = srv.wait_event(lambda e: e["dir"] == "close")
        self.assertEqual((e["how"], e["reason"]),
                         ("fin", "proxy protocol: no PROXY protocol header"))
        srv.wait_log("without a banner: no PROXY protocol header")


if __name__ == "__main__":
    unittest.main()
