"""test_proxy.py - --proxy-protocol: smtp-mimic behind a TCP load balancer.

Raw PROXY protocol headers (v1 text, v2 binary over IPv4 and IPv6, split
over two writes, with EHLO in the same write, garbage, none at all, the
wrong version, in front of an implicit-TLS listener) and then SMTP; the
JSON transcript's connect event must name the header's source as the
client and the socket's peer (this test, the "balancer") as "proxy".
A connection without a valid header gets no banner and a FIN. Every line
written is checked against server/out/transcript.schema.json when
jsonschema is there (standard/test_schema.py requires it).

Run: SMTP_MIMIC=$PWD/build/smtp-mimic python3 -B tests/blackbox/proxy/test_proxy.py
"""
import json
import os
import socket
import ssl
import struct
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import harness  # noqa: E402
from harness import ServerTest, ending, run_cli  # noqa: E402

HAVE_SCHEMA = harness.with_modules("jsonschema")
if HAVE_SCHEMA:
    import jsonschema  # noqa: E402

SCHEMA = os.path.join(harness.TOP, "server", "out", "transcript.schema.json")

BANNER = b"220 mx.lab.test ESMTP smtp-mimic\r\n"
EHLO = (b"250-mx.lab.test\r\n250-PIPELINING\r\n250-SIZE 10485760\r\n"
        b"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
        b"250-DSN\r\n250-CHUNKING\r\n250-AUTH PLAIN LOGIN\r\n"
        b"250 STARTTLS\r\n")
QUIT = b"221 2.0.0 Bye\r\n"

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v1(src="203.0.113.7", dst="198.51.100.25", sport=40001, dport=25):
    fam = "TCP6" if ":" in src else "TCP4"
    return ("PROXY %s %s %s %d %d\r\n" % (fam, src, dst, sport,
                                          dport)).encode()


def v2(src="203.0.113.7", dst="198.51.100.25", sport=40001, dport=25,
       tlvs=b""):
    if ":" in src:
        fam, af = 0x21, socket.AF_INET6
    else:
        fam, af = 0x11, socket.AF_INET
    body = (socket.inet_pton(af, src) + socket.inet_pton(af, dst)
            + struct.pack("!HH", sport, dport) + tlvs)
    return V2_SIG + bytes([0x21, fam]) + struct.pack("!H", len(body)) + body


def v2_local():
    return V2_SIG + bytes([0x20, 0x00]) + struct.pack("!H", 0)


def read_until(sock, want, timeout=10):
    """Read until want has arrived (or the peer closed); return all read."""
    sock.settimeout(timeout)
    data = b""
    while not data.endswith(want):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


class Proxy(ServerTest):
    def start_proxy(self, mode=None, profile="standard", listen=None):
        flag = "--proxy-protocol" + ("=" + mode if mode else "")
        return self.start(profile, [flag], listen=listen)

    def raw(self, srv, port=None):
        s = socket.create_connection(("127.0.0.1", port or srv.port),
                                     timeout=10)
        self.addCleanup(s.close)
        return s

    def connect_event(self, srv, n=1):
        return srv.wait_event(lambda e: e["dir"] == "connect"
                              and e["session"] == n)

    def close_event(self, srv, n=1):
        return srv.wait_event(lambda e: e["dir"] == "close"
                              and e["session"] == n)

    def check_schema(self, srv):
        if not HAVE_SCHEMA:
            return
        with open(SCHEMA, encoding="utf-8") as f:
            schema = json.load(f)
        val = jsonschema.validators.validator_for(schema)(schema)
        for e in srv.events():
            self.assertEqual(sorted(val.iter_errors(e), key=str), [],
                             json.dumps(e))

    def smtp_quit(self, s, first=b""):
        """After the header: banner, EHLO, QUIT, FIN -- exact bytes."""
        s.sendall(first or b"EHLO client.test\r\n")
        self.assertEqual(read_until(s, b"250 STARTTLS\r\n"), BANNER + EHLO)
        s.sendall(b"QUIT\r\n")
        self.assertEqual(ending(s), ("fin", QUIT))

    def assert_refused(self, s, srv, reason, sent):
        """No banner, a FIN; connect (the socket's peer, no "proxy") and
        close events naming the reason, and a warning on stderr."""
        self.assertEqual(ending(s), ("fin", b""))
        c = self.connect_event(srv)
        self.assertEqual(c["client"], {"addr": "127.0.0.1",
                                       "port": s.getsockname()[1]})
        self.assertEqual(c["server"], {"addr": "127.0.0.1",
                                       "port": srv.port})
        self.assertNotIn("proxy", c)
        e = self.close_event(srv)
        self.assertEqual((e["how"], e["reason"], e["bytes_in"],
                          e["bytes_out"], e["messages"]),
                         ("fin", "proxy protocol: " + reason, sent, 0, 0))
        self.assertEqual(e["text"], "fin (proxy protocol: %s)" % reason)
        self.assertEqual([x["dir"] for x in srv.events()],
                         ["connect", "close"])
        log = srv.wait_log("without a banner: " + reason)
        self.assertIn("proxy protocol: closing the connection from "
                      "127.0.0.1:%d without a banner: %s"
                      % (s.getsockname()[1], reason), log)
        self.check_schema(srv)

    def test_v1_then_smtp(self):
        srv = self.start_proxy()
        s = self.raw(srv)
        s.sendall(v1())
        self.smtp_quit(s)
        c = self.connect_event(srv)
        self.assertEqual(c["client"], {"addr": "203.0.113.7",
                                       "port": 40001})
        self.assertEqual(c["server"], {"addr": "198.51.100.25", "port": 25})
        self.assertEqual(c["proxy"], {"addr": "127.0.0.1",
                                      "port": s.getsockname()[1],
                                      "version": 1})
        self.assertEqual(c["text"], "203.0.113.7:40001 -> "
                         "198.51.100.25:25 profile=standard "
                         "proxy=127.0.0.1:%d v1" % s.getsockname()[1])
        self.assertEqual(srv.session_events(1, ("C",)),
                         [("C", "EHLO client.test"), ("C", "QUIT")])
        # The header is not SMTP: bytes_in counts the socket's bytes from
        # the session on (EHLO and QUIT).
        self.assertEqual(self.close_event(srv)["bytes_in"],
                         len(b"EHLO client.test\r\nQUIT\r\n"))
        self.check_schema(srv)

    def test_v2_ipv4_with_tlv(self):
        srv = self.start_proxy("v2")
        s = self.raw(srv)
        # A PP2_TYPE_AUTHORITY TLV is skipped.
        s.sendall(v2(tlvs=b"\x02\x00\x07mx.test"))
        self.smtp_quit(s)
        c = self.connect_event(srv)
        self.assertEqual(c["client"], {"addr": "203.0.113.7",
                                       "port": 40001})
        self.assertEqual(c["proxy"]["version"], 2)
        self.check_schema(srv)

    def test_v2_ipv6(self):
        srv = self.start_proxy()
        s = self.raw(srv)
        s.sendall(v2("2001:db8::7", "2001:db8::25", 50000, 587))
        self.smtp_quit(s)
        c = self.connect_event(srv)
        self.assertEqual(c["client"], {"addr": "2001:db8::7",
                                       "port": 50000})
        self.assertEqual(c["server"], {"addr": "2001:db8::25",
                                       "port": 587})
        self.assertEqual(c["proxy"], {"addr": "127.0.0.1",
                                      "port": s.getsockname()[1],
                                      "version": 2})
        self.assertTrue(c["text"].startswith(
            "[2001:db8::7]:50000 -> [2001:db8::25]:587 "), c["text"])
        self.check_schema(srv)

    def test_v2_local_keeps_socket_addresses(self):
        srv = self.start_proxy()
        s = self.raw(srv)
        s.sendall(v2_local())
        self.smtp_quit(s)
        c = self.connect_event(srv)
        self.assertEqual(c["client"], {"addr": "127.0.0.1",
                                       "port": s.getsockname()[1]})
        self.assertEqual(c["server"], {"addr": "127.0.0.1",
                                       "port": srv.port})
        self.assertEqual(c["proxy"]["version"], 2)

    def test_header_split_over_two_writes(self):
        srv = self.start_proxy()
        for n, hdr in enumerate((v1(), v2()), 1):
            s = self.raw(srv)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.sendall(hdr[:9])
            time.sleep(0.2)
            # Nothing yet: the server still waits for the rest.
            s.settimeout(0.3)
            with self.assertRaises(socket.timeout):
                s.recv(1)
            s.sendall(hdr[9:])
            self.smtp_quit(s)
            c = self.connect_event(srv, n)
            self.assertEqual(c["client"]["addr"], "203.0.113.7")
            self.assertEqual(c["proxy"]["version"], n)
        self.check_schema(srv)

    def test_v2_and_pipelined_ehlo_in_one_write(self):
        # The bytes after the header stay for the session: EHLO answered.
        srv = self.start_proxy()
        s = self.raw(srv)
        s.sendall(v2() + b"EHLO client.test\r\n")
        self.assertEqual(read_until(s, b"250 STARTTLS\r\n"), BANNER + EHLO)
        s.sendall(b"QUIT\r\n")
        self.assertEqual(ending(s), ("fin", QUIT))
        # v1 too, with EHLO and QUIT in the same write.
        s = self.raw(srv)
        s.sendall(v1() + b"EHLO client.test\r\nQUIT\r\n")
        self.assertEqual(ending(s), ("fin", BANNER + EHLO + QUIT))
        self.assertEqual(srv.session_events(2, ("C",)),
                         [("C", "EHLO client.test"), ("C", "QUIT")])

    def test_garbage_instead_of_header(self):
        srv = self.start_proxy()
        s = self.raw(srv)
        s.sendall(b"EHLO client.test\r\n")
        self.assert_refused(s, srv, "no PROXY protocol header",
                            len(b"EHLO client.test\r\n"))

    def test_no_header_and_silent_client_times_out(self):
        srv = self.start_proxy(profile="std-short")  # idle_timeout 1s
        s = self.raw(srv)
        t0 = time.monotonic()
        self.assertEqual(ending(s, timeout=5), ("fin", b""))
        took = time.monotonic() - t0
        self.assertGreater(took, 0.8)
        self.assertLess(took, 3)
        e = self.close_event(srv)
        self.assertEqual(e["reason"],
                         "proxy protocol: no header before the idle timeout")
        self.check_schema(srv)

    def test_eof_before_header(self):
        srv = self.start_proxy()
        s = self.raw(srv)
        s.sendall(b"PROXY TCP4 203.0.113.7 ")
        s.shutdown(socket.SHUT_WR)
        self.assert_refused(s, srv, "connection closed before the header",
                            len(b"PROXY TCP4 203.0.113.7 "))

    def test_v1_only_refuses_v2(self):
        srv = self.start_proxy("v1")
        s = self.raw(srv)
        hdr = v2()
        s.sendall(hdr + b"EHLO client.test\r\n")
        self.assertEqual(ending(s), ("fin", b""))
        e = self.close_event(srv)
        self.assertTrue(e["reason"].startswith("proxy protocol: "), e)
        self.assertNotIn("S", [x["dir"] for x in srv.events()])
        # v1 is still served.
        s = self.raw(srv)
        s.sendall(v1())
        self.smtp_quit(s)

    def test_v2_only_refuses_v1(self):
        srv = self.start_proxy("v2")
        s = self.raw(srv)
        s.sendall(v1())
        self.assertEqual(ending(s), ("fin", b""))
        self.assertNotIn("S", [x["dir"] for x in srv.events()])

    def test_v2_longer_than_cap(self):
        srv = self.start_proxy()
        s = self.raw(srv)
        # Declares 2000 bytes of addresses and TLVs; sends 100 of them.
        s.sendall(V2_SIG + b"\x21\x11" + struct.pack("!H", 2000)
                  + b"\x00" * 100)
        self.assert_refused(s, srv, "header longer than 1024 bytes", 116)

    def test_per_client_limit_counts_the_real_client(self):
        # proxy-limit allows 2 sessions per client address: 3 from one
        # address behind the balancer (all from 127.0.0.1), then one from
        # another.
        srv = self.start_proxy(profile="proxy-limit")
        for i in range(2):
            s = self.raw(srv)
            s.sendall(v1(sport=40000 + i))
            self.assertEqual(read_until(s, b"\r\n"), BANNER)
        s = self.raw(srv)
        s.sendall(v1(sport=40010))
        got = read_until(s, b"\r\n")
        self.assertTrue(got.startswith(b"421 "), got)
        s = self.raw(srv)
        s.sendall(v1(src="203.0.113.8"))
        self.assertEqual(read_until(s, b"\r\n"), BANNER)

    def test_waiting_connections_count_toward_max_sessions(self):
        # One session and one connection still without its header fill
        # --max-sessions 2: the next connection gets the profile's 421 at
        # once (to the balancer's address: no header was read) and a FIN;
        # the waiting one, its header in, is still served. One worker, so
        # the three are accepted in the order they connected.
        srv = self.start("standard", ["--proxy-protocol", "--max-sessions",
                                      "2", "--workers", "1"])
        a = self.raw(srv)
        a.sendall(v1())
        self.assertEqual(read_until(a, b"\r\n"), BANNER)
        b = self.raw(srv)
        c = self.raw(srv)
        self.assertEqual(ending(c), (
            "fin", b"421 4.3.2 mx.lab.test Error: too many connections\r\n"))
        e = srv.wait_event(lambda e: e["dir"] == "connect"
                           and e["client"]["port"] == c.getsockname()[1])
        self.assertEqual(e["client"]["addr"], "127.0.0.1")
        self.assertNotIn("proxy", e)
        b.sendall(v1(sport=40002))
        self.smtp_quit(b)

    def test_implicit_tls_listener(self):
        srv = self.start_proxy(listen=["127.0.0.1:{port}/tls"])
        s = self.raw(srv)
        s.sendall(v2())
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        t = ctx.wrap_socket(s, server_hostname="mx.lab.test")
        self.assertEqual(read_until(t, b"\r\n"), BANNER)
        t.sendall(b"QUIT\r\n")
        self.assertEqual(read_until(t, b"\r\n"), QUIT)
        t.close()
        c = self.connect_event(srv)
        self.assertEqual(c["client"]["addr"], "203.0.113.7")
        self.assertTrue(c["tls_listener"])
        self.assertEqual(c["proxy"]["version"], 2)
        self.check_schema(srv)

    def test_without_flag_a_header_is_a_bad_command(self):
        srv = self.start("standard")
        s = self.raw(srv)
        self.assertEqual(read_until(s, b"\r\n"), BANNER)
        s.sendall(v1())
        self.assertEqual(read_until(s, b"\r\n"),
                         b"500 5.5.2 Error: command not recognized\r\n")
        self.assertNotIn("proxy", self.connect_event(srv))

    def test_bad_flag_value(self):
        cp = run_cli(["--proxy-protocol=v3"])
        self.assertEqual(cp.returncode, 2)
        self.assertEqual(cp.stderr, "smtp-mimic: --proxy-protocol=v3: not "
                         "v1, v2 or any\nTry 'smtp-mimic --help'.\n")
        # getopt's optional argument must follow "=": say so.
        cp = run_cli(["--proxy-protocol", "v2"])
        self.assertEqual(cp.returncode, 2)
        self.assertEqual(cp.stderr, "smtp-mimic: unexpected argument 'v2': "
                         "--proxy-protocol takes its value after '=' "
                         "(--proxy-protocol=v2)\nTry 'smtp-mimic --help'.\n")
        cp = run_cli(["--help"])
        self.assertIn("--proxy-protocol[=v1|v2|any]", cp.stdout)


if __name__ == "__main__":
    unittest.main()
