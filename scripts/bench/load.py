#!/usr/bin/env python3
"""load.py - the load clients scripts/bench.sh needs beyond smtp-source and
openssl s_time. Loopback only; every mode is bounded in count and in time.

  idle      open N sessions (banner + EHLO each) from several 127.0.0.x
            source addresses, report, then on "noop" from stdin send NOOP on
            every session at once and time the replies, then on "quit" close
            everything. Talks JSON lines on stdout.
  starttls  full STARTTLS sessions (banner, EHLO, STARTTLS, handshake, EHLO,
            QUIT) from a few threads for a fixed time; --bare does only
            connect + TLS handshake + close (for openssl s_server).
  latency   sequential full transactions (banner, EHLO, MAIL, RCPT, DATA,
            body, QUIT), each timed; prints p50/p99 in milliseconds.

Every mode prints one JSON object (idle: several, one per phase).
"""
import argparse
import asyncio
import json
import socket
import ssl
import sys
import os
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mimic import source_socket  # noqa: E402


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def percentile(values, p):
    """Nearest-rank percentile of a non-empty list."""
    v = sorted(values)
    k = max(0, min(len(v) - 1, int(round(p / 100.0 * len(v) + 0.5)) - 1))
    return v[k]


# ---------------------------------------------------------------- idle ----

class IdleSession(asyncio.Protocol):
    """One session: reads the banner, sends EHLO, waits for its last line;
    later sends NOOP and waits for its reply. Replies are recognised by their
    last line ("ddd " after a CRLF)."""

    def __init__(self, owner):
        self.owner = owner
        self.buf = b""
        self.state = "banner"
        self.transport = None
        self.ready = owner.loop.create_future()
        self.t_noop = 0.0

    def connection_made(self, transport):
        self.transport = transport

    def _complete_reply(self):
        # A reply is complete when its last line is "ddd " + text + CRLF.
        if not self.buf.endswith(b"\r\n"):
            return None
        lines = self.buf.split(b"\r\n")[:-1]
        last = lines[-1] if lines else b""
        if len(last) >= 4 and last[3:4] == b" ":
            reply = self.buf
            self.buf = b""
            return reply
        return None

    def data_received(self, data):
        self.buf += data
        reply = self._complete_reply()
        if reply is None:
            return
        code = reply[:3]
        if self.state == "banner":
            if code != b"220":
                self._fail("banner " + reply[:60].decode("latin-1"))
                return
            self.state = "ehlo"
            self.transport.write(b"EHLO load.bench.test\r\n")
        elif self.state == "ehlo":
            if code != b"250":
                self._fail("ehlo " + reply[:60].decode("latin-1"))
                return
            self.state = "idle"
            self.ready.set_result(True)
        elif self.state == "noop":
            self.state = "idle"
            if code == b"250":
                self.owner.answered(time.monotonic() - self.t_noop)
            else:
                self.owner.error("noop " + reply[:60].decode("latin-1"))

    def _fail(self, why):
        if not self.ready.done():
            self.ready.set_exception(RuntimeError(why))
        if self.state == "noop":
            self.owner.error(why)
        self.state = "dead"
        self.transport.close()

    def connection_lost(self, exc):
        if self.state != "closing":
            self._fail("connection lost (%s)" % exc)

    def noop(self):
        self.state = "noop"
        self.t_noop = time.monotonic()
        self.transport.write(b"NOOP\r\n")


class IdleOwner:
    """Counts NOOP replies without a future per session (cheap enough
    that the client is not what is measured at 30k sessions)."""

    def __init__(self, loop):
        self.loop = loop
        self.lat, self.errors = [], []
        self.target = 0
        self.done = asyncio.Event()

    def answered(self, seconds):
        self.lat.append(seconds)
        self._check()

    def error(self, why):
        self.errors.append(why)
        self._check()

    def _check(self):
        if len(self.lat) + len(self.errors) >= self.target:
            self.done.set()


async def open_one(owner, host, port, src, sem):
    async with sem:
        s = source_socket(src)
        await owner.loop.sock_connect(s, (host, port))
        _, proto = await owner.loop.create_connection(
            lambda: IdleSession(owner), sock=s)
        await proto.ready
        return proto


async def idle_main(args):
    loop = asyncio.get_running_loop()
    owner = IdleOwner(loop)
    sem = asyncio.Semaphore(args.inflight)
    per_src = args.per_source
    nsrc = (args.sessions + per_src - 1) // per_src
    srcs = ["127.0.0.%d" % (args.src_base + i) for i in range(nsrc)]
    t0 = time.monotonic()
    deadline = args.timeout
    tasks = [asyncio.ensure_future(open_one(owner, args.host, args.port,
                                            srcs[i // per_src], sem))
             for i in range(args.sessions)]
    done, pending = await asyncio.wait(tasks, timeout=deadline)
    for t in pending:
        t.cancel()
    sessions, errors = [], []
    for t in done:
        if t.exception() is not None:
            errors.append(str(t.exception()))
        else:
            sessions.append(t.result())
    emit({"phase": "open", "sessions": len(sessions),
          "failed": len(errors) + len(pending),
          "first_error": errors[0] if errors else
          ("timeout" if pending else None),
          "seconds": time.monotonic() - t0, "sources": srcs})
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        try:
            line = await asyncio.wait_for(reader.readline(), args.timeout)
        except asyncio.TimeoutError:
            line = b"quit"
        cmd = line.strip().decode()
        if cmd == "noop":
            alive = [s for s in sessions if s.state == "idle"]
            owner.lat, owner.errors = [], []
            owner.target = len(alive)
            owner.done.clear()
            t1 = time.monotonic()
            for s in alive:
                s.noop()
            sent = time.monotonic() - t1
            try:
                await asyncio.wait_for(owner.done.wait(), args.noop_timeout)
            except asyncio.TimeoutError:
                pass
            last = time.monotonic() - t1
            lat = list(owner.lat)
            emit({"phase": "noop", "sessions": len(alive),
                  "answered": len(lat), "errors": len(owner.errors),
                  "first_error": owner.errors[0] if owner.errors else None,
                  "within_1s": sum(1 for x in lat if x <= 1.0),
                  "all_answered_s": last if len(lat) == len(alive) else None,
                  "waited_s": last, "send_loop_s": sent,
                  "p99_s": percentile(lat, 99) if lat else None,
                  "max_s": max(lat) if lat else None})
        else:  # "quit", EOF or timeout
            for s in sessions:
                s.state = "closing"
                if s.transport is not None:
                    s.transport.abort()
            emit({"phase": "quit"})
            return


# ------------------------------------------------------------ starttls ----

def recv_reply(f):
    """Read one (possibly multi-line) SMTP reply from a file object."""
    lines = []
    while True:
        line = f.readline()
        if not line:
            raise ConnectionError("connection closed")
        lines.append(line)
        if len(line) < 4 or line[3:4] != b"-":
            return b"".join(lines)


def expect(reply, code):
    if not reply.startswith(code):
        raise RuntimeError("expected %s, got %r" % (code, reply[:80]))


def tls_context(args):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def starttls_session(args, ctx):
    with socket.create_connection((args.host, args.port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if args.bare:
            with ctx.wrap_socket(s, do_handshake_on_connect=True) as t:
                t.version()
            return
        f = s.makefile("rb")
        expect(recv_reply(f), b"220")
        s.sendall(b"EHLO load.bench.test\r\n")
        ehlo = recv_reply(f)
        expect(ehlo, b"250")
        if b"STARTTLS" not in ehlo:
            raise RuntimeError("no STARTTLS in EHLO reply")
        s.sendall(b"STARTTLS\r\n")
        expect(recv_reply(f), b"220")
        f.close()
        with ctx.wrap_socket(s) as t:
            tf = t.makefile("rb")
            t.sendall(b"EHLO load.bench.test\r\n")
            expect(recv_reply(tf), b"250")
            t.sendall(b"QUIT\r\n")
            expect(recv_reply(tf), b"221")
            tf.close()


def starttls_main(args):
    ctx = tls_context(args)
    stop = time.monotonic() + args.seconds
    counts, errors = [0] * args.threads, []
    lock = threading.Lock()

    def worker(i):
        while time.monotonic() < stop and counts[i] < args.count:
            try:
                starttls_session(args, ctx)
                counts[i] += 1
            except Exception as e:  # noqa: BLE001 - count and go on
                with lock:
                    errors.append(repr(e))
                    if len(errors) > 20:
                        return

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,))
               for i in range(args.threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - t0
    n = sum(counts)
    emit({"sessions": n, "seconds": wall, "per_s": n / wall,
          "errors": len(errors), "first_error": errors[0] if errors else None})


# ------------------------------------------------------------- latency ----

def transaction(args, body):
    with socket.create_connection((args.host, args.port), timeout=10) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        f = s.makefile("rb")
        expect(recv_reply(f), b"220")
        s.sendall(b"EHLO probe.bench.test\r\n")
        expect(recv_reply(f), b"250")
        s.sendall(b"MAIL FROM:<probe@bench.test>\r\n")
        expect(recv_reply(f), b"250")
        s.sendall(b"RCPT TO:<sink@bench.test>\r\n")
        expect(recv_reply(f), b"250")
        s.sendall(b"DATA\r\n")
        expect(recv_reply(f), b"354")
        s.sendall(body)
        expect(recv_reply(f), b"250")
        s.sendall(b"QUIT\r\n")
        expect(recv_reply(f), b"221")
        f.close()


def latency_main(args):
    line = b"X" * 76 + b"\r\n"
    body = (b"From: probe@bench.test\r\nTo: sink@bench.test\r\n"
            b"Subject: latency probe\r\n\r\n" +
            line * max(1, args.size // len(line)) + b".\r\n")
    stop = time.monotonic() + args.seconds
    lat, errors = [], []
    while len(lat) < args.count and time.monotonic() < stop:
        t = time.monotonic()
        try:
            transaction(args, body)
            lat.append(time.monotonic() - t)
        except Exception as e:  # noqa: BLE001
            errors.append(repr(e))
            if len(errors) > 20:
                break
        if args.gap:
            time.sleep(args.gap)
    emit({"transactions": len(lat), "errors": len(errors),
          "first_error": errors[0] if errors else None,
          "p50_ms": percentile(lat, 50) * 1000 if lat else None,
          "p99_ms": percentile(lat, 99) * 1000 if lat else None,
          "max_ms": max(lat) * 1000 if lat else None})


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="mode", required=True)
    for name in ("idle", "starttls", "latency"):
        p = sub.add_parser(name)
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, required=True)
        if name == "idle":
            p.add_argument("--sessions", type=int, required=True)
            p.add_argument("--per-source", type=int, default=10000,
                           help="sessions per 127.0.0.x source address")
            p.add_argument("--src-base", type=int, default=2,
                           help="first source address is 127.0.0.SRC_BASE")
            p.add_argument("--inflight", type=int, default=200,
                           help="connects in progress at once")
            p.add_argument("--timeout", type=float, default=120,
                           help="for opening all sessions, and for each "
                                "command on stdin")
            p.add_argument("--noop-timeout", type=float, default=30,
                           help="how long to wait for the NOOP replies")
        if name == "starttls":
            p.add_argument("--seconds", type=float, default=5)
            p.add_argument("--count", type=int, default=10**6,
                           help="per thread")
            p.add_argument("--threads", type=int, default=4)
            p.add_argument("--bare", action="store_true")
        if name == "latency":
            p.add_argument("--seconds", type=float, default=10)
            p.add_argument("--count", type=int, default=1000)
            p.add_argument("--size", type=int, default=1024)
            p.add_argument("--gap", type=float, default=0.0)
    args = ap.parse_args()
    if args.host.split(".")[0] != "127":
        ap.error("loopback only")
    if args.mode == "idle":
        asyncio.run(idle_main(args))
    elif args.mode == "starttls":
        starttls_main(args)
    else:
        latency_main(args)


if __name__ == "__main__":
    main()
