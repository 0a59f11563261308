"""2,000 mutated ClientHellos after STARTTLS (issue 11, item 4).

One real ClientHello is captured from Python's ssl (a client over memory
BIOs), then mutated with random.Random(1): bytes flipped, truncated,
extended, length fields corrupted, record type and version replaced, runs
of bytes zeroed, several at once. Each mutant is sent right after a real
EHLO / STARTTLS / 220 on its own connection, and what came back within 1 s
is classified:
  alert         - the server answered with a TLS alert record (type 21),
  server_hello  - the mutant still parsed: a handshake record (type 22),
  fin, rst      - the server closed (FIN) or reset (RST) with nothing
                  sent; a FIN is allowed only for a first record that is
                  not TLS (version major other than 3: OpenSSL's "wrong
                  version number" sends no alert),
  waiting       - nothing yet, allowed only for a mutant whose own
                  framing promises more bytes (a truncated hello, a length
                  that promises more, an SSLv2-style header); the test
                  closes the connection.
Anything else (plain SMTP text, a record of another type) fails.

Meanwhile a well-behaved client from 127.0.0.2 delivers a message over
STARTTLS with smtplib every ~200 ms: every delivery must succeed (its max
and p99 latency are printed, not asserted). At the end the server is still
running, its descriptors are back at the idle count, and (ServerTest's
teardown) it exits 0 with no sanitizer report. Peak RSS (VmRSS sampled
every 100 ms, and VmHWM) and the outcome counts are printed.

It does not check which alert a mutant gets (OpenSSL chooses), nor
anything about the handshakes that still succeed beyond the first record.
"""
import os
import queue
import random
import smtplib
import socket
import ssl
import sys
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402
from mimic import fd_count, proc_status  # noqa: E402
from tls_wire import client_ctx  # noqa: E402

MUTANTS = 2000
THREADS = 48        # concurrent abusive connections
READ_FOR = 1.0      # seconds to wait for the server's answer to a mutant
REC_ALERT, REC_HANDSHAKE = 21, 22


def client_hello():
    """One real ClientHello record as Python's ssl sends it."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ctx().wrap_bio(inc, out, server_side=False,
                                server_hostname="mx.lab.test")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    assert hello[0] == REC_HANDSHAKE and hello[5] == 1, hello[:6]
    return hello


def length_offsets(hello):
    """Offsets of the hello's length fields: (offset, width)."""
    sid = 43                         # 5 record + 4 handshake + 2 + 32
    cs = sid + 1 + hello[sid]
    comp = cs + 2 + int.from_bytes(hello[cs:cs + 2], "big")
    ext = comp + 1 + hello[comp]
    return [(3, 2), (6, 3), (sid, 1), (cs, 2), (comp, 1), (ext, 2)]


def mutate(rng, hello, lengths):
    """One mutant of hello (bytes, never empty)."""
    b = bytearray(hello)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        op = rng.randrange(8)
        if op == 0:      # flip a few bytes
            for _ in range(rng.randint(1, 8)):
                b[rng.randrange(len(b))] ^= rng.randint(1, 255)
        elif op == 1:    # truncate
            del b[rng.randint(1, len(b) - 1):]
        elif op == 2:    # extend with random bytes
            b += bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 2000)))
        elif op == 3:    # corrupt a length field
            off, w = rng.choice(lengths)
            if off + w <= len(b):
                v = rng.choice((0, 1, (1 << 8 * w) - 1, rng.getrandbits(8 * w)))
                b[off:off + w] = v.to_bytes(w, "big")
        elif op == 4:    # random record type
            b[0] = rng.getrandbits(8)
        elif op == 5:    # random record version
            b[1], b[2] = rng.getrandbits(8), rng.getrandbits(8)
        elif op == 6:    # a run of zeros or 0xff
            i = rng.randrange(len(b))
            n = rng.randint(1, 64)
            b[i:i + n] = bytes([rng.choice((0, 255))]) * len(b[i:i + n])
        else:            # the handshake type
            if len(b) > 5:
                b[5] = rng.getrandbits(8)
    return bytes(b) or hello[:1]


def incomplete(m):
    """True if m promises bytes it does not hold, by its own framing: an
    SSLv2-style header (top bit set: a 15-bit length), a TLS record
    header or body cut short, or a handshake message longer than its
    record. A server may rightly wait for more of such a hello; for any
    other mutant, silence would be a hang."""
    if m[0] & 0x80:
        return len(m) < 2 or len(m) - 2 < (((m[0] & 0x7F) << 8) | m[1])
    if len(m) < 5:
        return True
    n = int.from_bytes(m[3:5], "big")
    if len(m) - 5 < n:
        return True
    return m[0] == REC_HANDSHAKE and (
        n < 4 or int.from_bytes(m[6:9], "big") > n - 4)


def not_tls_record(m):
    """True if m's first record is not TLS as OpenSSL reads it: an
    SSLv2-style ClientHello is top bit set and message type 1 in byte 2;
    anything else is read as a TLS record header, whose version major
    (byte 1) must be 3."""
    if len(m) < 3:
        return True
    if m[0] & 0x80 and m[2] == 1:
        return False
    return m[1] != 3


def starttls_from(port, src):
    """Connect from src, read the greeting, EHLO x, STARTTLS, read the 220:
    the plain socket. Raises if a reply is not 2xx."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10,
                                    source_address=(src, 0))
    buf = b""
    for cmd in (None, b"EHLO x\r\n", b"STARTTLS\r\n"):
        if cmd is not None:
            sock.sendall(cmd)
        while not any(len(ln) >= 4 and ln[3:4] == b" "
                      for ln in buf.split(b"\r\n")[:-1]):
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError("closed after %r: %r" % (cmd, buf))
            buf += chunk
        if not buf.startswith(b"2"):
            sock.close()
            raise AssertionError("%r answered %r" % (cmd, buf))
        buf = b""
    return sock


def abuse(port, mutant, src):
    """Send one mutant after STARTTLS from src: its outcome (see the module
    doc) and what the server sent."""
    sock = starttls_from(port, src)
    try:
        try:
            sock.sendall(mutant)
        except (BrokenPipeError, ConnectionResetError):
            return "rst", b""
        sock.settimeout(READ_FOR)
        data, end = b"", "fin"
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            end = "rst"
        except socket.timeout:
            if not data:
                return "waiting", data
        if not data:
            return end, data
        if data[0] == REC_ALERT:
            return "alert", data
        if data[0] == REC_HANDSHAKE:
            return "server_hello", data
        return "other", data
    finally:
        sock.close()


class GoodClient(threading.Thread):
    """Delivers over STARTTLS from 127.0.0.2 every ~200 ms until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.stop = port, threading.Event()
        self.took, self.errors = [], []

    def run(self):
        i = 0
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                with smtplib.SMTP("127.0.0.1", self.port, timeout=10,
                                  source_address=("127.0.0.2", 0)) as smtp:
                    smtp.starttls(context=client_ctx())
                    refused = smtp.sendmail(
                        "good@client.test", ["rcpt@lab.test"],
                        "Subject: good %d\r\n\r\nstill served\r\n" % i)
                    if refused:
                        self.errors.append(refused)
                self.took.append(time.monotonic() - t0)
            except Exception as e:  # noqa: BLE001 - every failure counts
                self.errors.append(repr(e))
            i += 1
            self.stop.wait(0.2)


class RssPeak(threading.Thread):
    """Samples the server's VmRSS every 100 ms; peak in KiB."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.stop, self.peak = pid, threading.Event(), 0

    def run(self):
        while not self.stop.is_set():
            try:
                self.peak = max(self.peak, proc_status(self.pid)["rss"])
            except OSError:
                return
            self.stop.wait(0.1)


def wait_for(pred, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


class MutatedClientHellos(ServerTest):
    def run_abuse(self, profile):
        srv = self.start(profile)
        rng = random.Random(1)
        hello = client_hello()
        lengths = length_offsets(hello)
        mutants = [mutate(rng, hello, lengths) for _ in range(MUTANTS)]
        idle_fds = fd_count(srv.pid)
        idle_rss = proc_status(srv.pid)["rss"]
        good, rss = GoodClient(srv.port), RssPeak(srv.pid)
        good.start()
        rss.start()
        t0 = time.monotonic()
        try:
            # Each mutant borrows a source address 127.0.1.N from a pool
            # of THREADS: one abusive session per address at a time, so a
            # profile's per-client limit (exchange2013: 20) is not what
            # answers them.
            sources = queue.Queue()
            for k in range(THREADS):
                sources.put("127.0.1.%d" % (k + 1))

            def one(m):
                src = sources.get()
                try:
                    return abuse(srv.port, m, src)
                finally:
                    sources.put(src)

            with ThreadPoolExecutor(THREADS) as pool:
                results = list(pool.map(one, mutants))
        finally:
            elapsed = time.monotonic() - t0
            good.stop.set()
            good.join(15)
            rss.stop.set()
            rss.join(5)
        self.assertIsNone(srv.proc.poll(), srv.log())
        counts = {}
        for (how, data), m in zip(results, mutants):
            self.assertNotEqual(how, "other",
                                "mutant %r got %r" % (m[:16], data[:64]))
            if how == "waiting":
                self.assertTrue(incomplete(m), "no answer to a whole "
                                "hello: %s" % m.hex())
            if how == "fin":
                # OpenSSL closes without an alert only when the first
                # record is not TLS at all (its version major is not 3:
                # "wrong version number", SSL_AD_NO_ALERT, since the peer
                # may not speak TLS); any other bad hello gets an alert.
                self.assertTrue(not_tls_record(m), "FIN without an "
                                "alert for a TLS record: %s" % m.hex())
            counts[how] = counts.get(how, 0) + 1
        self.assertEqual(sum(counts.values()), MUTANTS)
        self.assertGreater(counts.get("alert", 0), 0, counts)
        self.assertEqual(good.errors, [], good.errors)
        self.assertGreater(len(good.took), 0)
        # Only the good client's messages were queued.
        self.assertTrue(wait_for(lambda: len(srv.messages()) == len(good.took),
                                 5), (len(srv.messages()), len(good.took)))
        back = wait_for(lambda: fd_count(srv.pid) <= idle_fds, 10)
        after_fds = fd_count(srv.pid)
        self.assertTrue(back, "descriptors: %d, %d when idle"
                        % (after_fds, idle_fds))
        took = sorted(good.took)
        p99 = took[min(len(took) - 1, int(len(took) * 0.99))]
        hwm = proc_status(srv.pid).get("hwm")
        print("\n%s: %d mutated ClientHellos in %.1f s: %s; RSS idle %d KiB,"
              " peak %d KiB (VmHWM %s KiB); fds idle %d, after %d; good client"
              " %d deliveries, 0 errors, p99 %.3f s, max %.3f s"
              % (profile, MUTANTS, elapsed,
                 ", ".join("%s %d" % kv for kv in sorted(counts.items())),
                 idle_rss, rss.peak, hwm, idle_fds, after_fds, len(took),
                 p99, took[-1]), file=sys.stderr)

    def test_standard(self):
        self.run_abuse("standard")

    def test_exchange2013(self):
        # Schannel 2012 R2's versions and suites (FACTS.md 2): a different
        # OpenSSL configuration meeting the same mutants.
        self.run_abuse("exchange2013")


if __name__ == "__main__":
    unittest.main()
