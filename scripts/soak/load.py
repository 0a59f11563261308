#!/usr/bin/env python3
"""load.py - the soak's load client (scripts/soak.sh runs it).

Keeps about --sessions client sessions open at once against the smtp-mimic
servers named in --targets, in a mix of behaviours, until --seconds have
passed; then every session is cancelled (a hard stop) and each process
writes what it saw to OUT/client-K.json for check.py:

  good     (~70%) EHLO, MAIL, RCPT, DATA (or BDAT, or pipelined), QUIT,
           reconnect; some send several messages per connection; exchange
           sessions sometimes name an "unknown" recipient (the 5 s tarpit).
  vanish   (~10%) stop half way through the message data (DATA or BDAT),
           then close with a FIN or an RST; sometimes after a first message
           that was accepted. Their messages must never reach the spool.
  mute     (~10%) connect, read the banner or not, maybe say EHLO, then say
           nothing until the server's idle timeout closes the session or
           the client gives up.
  garbage  (~5%)  binary bytes with NUL/CR/LF, overlong command lines, bare
           LF, NUL in commands, a message with bare LF / NUL / overlong
           lines, a line never finished.
  esa      (~5%)  esa-behind-asa (masked banner, STARTTLS masked and refused,
           then mail) and esa (HELP, mail, or the bad-command limit).

Every message carries a unique Message-ID and X-Soak-Id header. For each id
the client records what it knows: "accepted" (the final 250 after the end of
data was read, with the SHA-1 of what the spool file must hold), "rejected"
(another final reply), "unconfirmed" (the end of data was sent, no final
reply was read: the run stopped, a timeout, the connection dropped), and
"vanished" (the data was never finished).

Loopback only; sessions come from --sources (127.0.0.x addresses); every
await has a timeout and the run stops at the deadline. Several processes
(--procs) share the sessions, each with its own asyncio loop.
"""
import argparse
import asyncio
import bisect
import collections
import hashlib
import json
import multiprocessing
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mimic import source_socket  # noqa: E402

KINDS = ("good", "vanish", "mute", "garbage", "esa")
DEFAULT_MIX = "good=70,vanish=10,mute=10,garbage=5,esa=5"

# Seconds.
CONNECT_TIMEOUT = 15
REPLY_TIMEOUT = 60          # an ordinary reply (the server may be busy)
EOD_TIMEOUT = 120           # the reply to the end of data (fsync before it)
SEND_TIMEOUT = 60           # a write draining into the socket


class Unexpected(Exception):
    """A reply the session did not expect; the session is abandoned."""


class Stats:
    def __init__(self):
        self.c = collections.Counter()
        self.samples = collections.defaultdict(list)  # kind -> few texts
        self.lat = collections.defaultdict(list)      # name -> seconds
        self.open = 0
        self.peak_open = 0
        self.ids = {}     # id -> [state, profile, sha1 or None, reply]

    def inc(self, key, n=1):
        self.c[key] += n

    def sample(self, key, text):
        s = self.samples[key]
        if len(s) < 5:
            s.append(text[:300])

    def latency(self, name, seconds):
        v = self.lat[name]
        if len(v) < 200000:
            v.append(seconds)


class Run:
    """One process's share of the load."""

    def __init__(self, args, index):
        self.args = args
        self.index = index
        self.targets = args.targets_map
        self.sources = args.source_list
        self.stats = Stats()
        self.deadline = 0.0
        self.think = args.think_ms / 1000.0
        self._text_pool()
        self.seq = 0
        self.run_id = args.run_id
        self.live = {}           # slot -> set of its open Conns

    # -------------------------------------------------------- helpers ----

    def _text_pool(self):
        """Message bodies are cut from one pool of text lines, some of them
        starting with a dot."""
        rng = random.Random(self.args.seed * 1000 + self.index)
        words = ("soak", "load", "mail", "relay", "queue", "spool", "peer",
                 "legacy", "mimic", "exchange", "gateway", "tarpit", "fin",
                 "banner", "ehlo", "the", "a", "of", "and", "to", "in")
        lines = []
        for i in range(12000):
            n = rng.randint(1, 75)
            line = " ".join(rng.choice(words) for _ in range(14))[:n]
            if i % 97 == 0:
                line = "." + line          # must be dot-stuffed on the wire
            if i % 331 == 0:
                line = "."                  # a lone dot, stuffed to ".."
            lines.append(line)
        # The pool as one block of bytes as the spool holds it and one as
        # the wire carries it (dot-stuffed), with each line's offsets, so a
        # message body is two slices.
        spool, wire, so, wo = [], [], [0], [0]
        for line in lines:
            b = line.encode() + b"\r\n"
            w = (b"." + b) if line.startswith(".") else b
            spool.append(b)
            wire.append(w)
            so.append(so[-1] + len(b))
            wo.append(wo[-1] + len(w))
        self.pool_spool, self.pool_wire = b"".join(spool), b"".join(wire)
        self.pool_so, self.pool_wo = so, wo

    def new_id(self, slot):
        self.seq += 1
        return "%s-%d-%d-%d" % (self.run_id, self.index, slot, self.seq)

    def left(self):
        return self.deadline - time.monotonic()

    async def pause(self, rng, mean=None):
        """Think time between commands: exponential around --think-ms."""
        m = self.think if mean is None else mean
        if m <= 0:
            return
        await asyncio.sleep(min(rng.expovariate(1.0 / m), 8 * m))

    def message(self, rng, mid, sender, rcpts, size):
        """(wire bytes without the final ".", spool bytes) for one message.

        The spool holds the data after dot-unstuffing, with its final CRLF."""
        head = ("From: <%s>\r\nTo: %s\r\nSubject: soak %s\r\n"
                "Date: Mon, 23 Nov 2026 12:00:00 +0000\r\n"
                "Message-ID: <%s@soak.test>\r\nX-Soak-Id: %s\r\n"
                "MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n"
                % (sender, ", ".join("<%s>" % r for r in rcpts), mid, mid,
                   mid)).encode()
        so, wo = self.pool_so, self.pool_wo
        want = max(0, size - len(head))
        # Whole lines from a random line i up to line j, about want bytes.
        i = rng.randrange(len(so) - 1)
        while so[-1] - so[i] < want:
            i = rng.randrange(len(so) - 1)
        j = bisect.bisect_left(so, so[i] + want, i)
        return (head + self.pool_wire[wo[i]:wo[j]],
                head + self.pool_spool[so[i]:so[j]])

    def size(self, rng):
        r = rng.random()
        if r < 0.80:
            return rng.randint(300, 4000)
        if r < 0.97:
            return rng.randint(4000, 40000)
        return rng.randint(64 * 1024, 300 * 1024)

    def pick(self, rng, weights):
        """A target name from {name: weight}, among the targets we have."""
        names = [n for n in weights if n in self.targets]
        if not names:
            names = list(self.targets)
            return rng.choice(names)
        return rng.choices(names, [weights[n] for n in names])[0]

    def record(self, mid, state, profile, digest=None, reply=""):
        self.stats.ids[mid] = [state, profile, digest, reply]

    # ----------------------------------------------------- connection ----

    async def connect(self, rng, name, slot):
        host, port = self.targets[name]
        src = rng.choice(self.sources)
        s = source_socket(src)
        try:
            t0 = time.monotonic()
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await asyncio.get_running_loop().sock_connect(s, (host, port))
                reader, writer = await asyncio.open_connection(
                    sock=s, limit=1 << 20)
        except BaseException:
            s.close()
            raise
        self.stats.latency("connect", time.monotonic() - t0)
        conn = Conn(self, name, slot, reader, writer)
        conn.t0 = t0             # before connect(): the server accepts later
        return conn

    # -------------------------------------------------------- sessions ----

    async def slot(self, slot, kind, start_delay):
        rng = random.Random((self.args.seed << 20) ^ (self.index << 16) ^ slot)
        await asyncio.sleep(start_delay)
        fn = getattr(self, "s_" + kind)
        while self.left() > 0:
            try:
                await fn(rng, slot)
                self.stats.inc("sessions %s ok" % kind)
            except asyncio.CancelledError:
                raise
            except (TimeoutError, asyncio.TimeoutError) as e:
                self.stats.inc("sessions %s timeout" % kind)
                self.stats.sample("timeout " + kind, repr(e) + " " +
                                  getattr(e, "where", ""))
            except Unexpected as e:
                self.stats.inc("sessions %s unexpected" % kind)
                self.stats.sample("unexpected " + kind, str(e))
            except (ConnectionError, EOFError, OSError) as e:
                self.stats.inc("sessions %s %s" % (kind, type(e).__name__))
                self.stats.sample("error " + kind, repr(e))
            finally:
                # Whatever the session left open (an error, a cancel at
                # the deadline) is closed now, with a FIN or an RST.
                for c in list(self.live.get(slot, ())):
                    c.close(rst=rng.random() < 0.5)
            # Between sessions: reconnect after a short pause.
            await self.pause(rng, self.think * 0.5)

    async def transaction(self, c, rng, mid, sender, rcpts, size, mode):
        """One message on an open, greeted connection. Returns the final
        reply. Records the id's state on the way."""
        wire, spool = self.message(rng, mid, sender, rcpts, size)
        digest = hashlib.sha1(spool).hexdigest()
        good_rcpts = [r for r in rcpts if not r.startswith("unknown")]
        if mode == "pipelined":
            cmds = ["MAIL FROM:<%s>" % sender]
            cmds += ["RCPT TO:<%s>" % r for r in rcpts]
            cmds.append("DATA")
            await c.send(("\r\n".join(cmds) + "\r\n").encode())
            code, text = await c.reply(("250",), "MAIL")
            for r in rcpts:
                code, text = await c.reply(
                    ("550",) if r.startswith("unknown") else ("250",),
                    "RCPT", timeout=REPLY_TIMEOUT + 10)
            await c.reply(("354",), "DATA")
        else:
            await c.cmd("MAIL FROM:<%s>" % sender, ("250",))
            for r in rcpts:
                await self.pause(rng)
                t0 = time.monotonic()
                await c.cmd("RCPT TO:<%s>" % r,
                            ("550",) if r.startswith("unknown") else ("250",),
                            timeout=REPLY_TIMEOUT + 10)
                if r.startswith("unknown"):
                    self.stats.latency("tarpit", time.monotonic() - t0)
            await self.pause(rng)
            if mode == "bdat":
                # Recorded before the bytes leave: once the last chunk is
                # in the socket, the server may accept it.
                self.record(mid, "unconfirmed", c.name, digest)
                await c.send(b"BDAT %d LAST\r\n" % len(spool) + spool)
                code, text = await c.reply(None, "BDAT LAST", EOD_TIMEOUT)
                return self._final(c, mid, digest, code, text)
            await c.cmd("DATA", ("354",))
        assert good_rcpts
        # The data, in one or a few writes. The id is "partial" while the
        # data is unfinished, "unconfirmed" from just before the end of
        # data leaves until the final reply is read.
        self.record(mid, "partial", c.name, digest)
        if len(wire) > 8192 and rng.random() < 0.5:
            half = len(wire) // 2
            await c.send(wire[:half])
            await self.pause(rng, self.think * 0.3)
            self.record(mid, "unconfirmed", c.name, digest)
            await c.send(wire[half:] + b".\r\n")
        else:
            self.record(mid, "unconfirmed", c.name, digest)
            await c.send(wire + b".\r\n")
        t0 = time.monotonic()
        code, text = await c.reply(None, "end of data", EOD_TIMEOUT)
        self.stats.latency("end of data", time.monotonic() - t0)
        return self._final(c, mid, digest, code, text)

    def _final(self, c, mid, digest, code, text):
        if code == "250":
            self.record(mid, "accepted", c.name, digest, text)
            self.stats.inc("accepted %s" % c.name)
        else:
            self.record(mid, "rejected", c.name, None, text)
            self.stats.inc("rejected %s" % c.name)
            raise Unexpected("%s: end of data got %r" % (c.name, text))
        return text

    async def s_good(self, rng, slot):
        name = self.pick(rng, {"standard": 55, "exchange2013": 45})
        c = await self.connect(rng, name, slot)
        t0 = time.monotonic()
        await c.reply(("220",), "banner")
        self.stats.latency("banner", time.monotonic() - t0)
        await self.pause(rng)
        await c.cmd("EHLO client%d.soak.test" % slot, ("250",))
        n = 1 if rng.random() < 0.6 else rng.randint(2, 5)
        for k in range(n):
            if self.left() <= 0:
                break
            await self.pause(rng)
            mid = self.new_id(slot)
            rcpts = ["user%d@rcpt%d.test" % (rng.randint(1, 999), j)
                     for j in range(rng.choice((1, 1, 1, 2, 3)))]
            if name == "exchange2013" and rng.random() < 0.08:
                rcpts.insert(0, "unknown%d@rcpt.test" % rng.randint(1, 99))
            r = rng.random()
            mode = ("pipelined" if r < 0.25 else
                    "bdat" if r < 0.35 and name == "standard" else "data")
            await self.transaction(c, rng, mid, "s%d@soak.test" % slot,
                                   rcpts, self.size(rng), mode)
            self.stats.inc("messages %s %s" % (name, mode))
        if rng.random() < 0.9:
            await self.pause(rng)
            await c.cmd("QUIT", ("221",))
            await c.eof()
        return c

    async def s_vanish(self, rng, slot):
        name = self.pick(rng, {"standard": 45, "exchange2013": 40,
                               "esa-behind-asa": 15})
        c = await self.connect(rng, name, slot)
        await c.reply(("220",), "banner")
        await self.pause(rng)
        await c.cmd("EHLO vanish%d.soak.test" % slot, ("250",))
        if rng.random() < 0.3:       # first a message that is accepted
            await self.pause(rng)
            await self.transaction(c, rng, self.new_id(slot),
                                   "v%d@soak.test" % slot, ["a@rcpt.test"],
                                   self.size(rng), "data")
        await self.pause(rng)
        mid = self.new_id(slot)
        size = rng.randint(2000, 60000)
        wire, spool = self.message(rng, mid, "v%d@soak.test" % slot,
                                   ["b@rcpt.test"], size)
        half = wire[:len(wire) // 2]
        await c.cmd("MAIL FROM:<v%d@soak.test>" % slot, ("250",))
        await c.cmd("RCPT TO:<b@rcpt.test>", ("250",))
        if name == "standard" and rng.random() < 0.3:
            self.record(mid, "vanished", name)
            await c.send(b"BDAT %d LAST\r\n" % len(spool) +
                         spool[:len(spool) // 2])
            how = "bdat"
        else:
            await c.cmd("DATA", ("354",))
            self.record(mid, "vanished", name)
            q = len(half) // 2
            await c.send(half[:q])
            await self.pause(rng, self.think * 0.3)
            await c.send(half[q:])
            how = "data"
        await self.pause(rng, self.think * 0.3)
        rst = rng.random() < 0.5
        c.close(rst=rst)
        self.stats.inc("vanished %s %s %s" % (name, how,
                                              "rst" if rst else "fin"))
        return None

    async def s_mute(self, rng, slot):
        name = self.pick(rng, {"standard": 40, "exchange2013": 30, "esa": 15,
                               "esa-behind-asa": 15})
        c = await self.connect(rng, name, slot)
        give_up = rng.uniform(*self.args.mute_range)
        # The server's idle timer starts when it accepts (after t0) or when
        # our EHLO arrives (after t0 is moved below): its 421 can come no
        # sooner than idle_timeout after t0, and (a busy client loop aside)
        # not much later.
        t0 = c.t0
        v = rng.random()
        try:
            if v < 0.4:          # never reads anything, not even the banner
                c.writer.transport.pause_reading()
                await asyncio.sleep(min(give_up, max(0.0, self.left())))
                self.stats.inc("mute %s deaf" % name)
                return c
            await c.reply(("220",), "banner")
            if v < 0.6:
                t0 = time.monotonic()
                await c.send(b"EHLO mute%d.soak.test\r\n" % slot)
            # Silence until the server gives up on us, or we on it.
            try:
                got = await c.until_eof(give_up - (time.monotonic() - t0))
            except (TimeoutError, asyncio.TimeoutError):
                self.stats.inc("mute %s client gave up" % name)
                return c
            took = time.monotonic() - t0
            if b"421 " in got:
                self.stats.inc("mute %s idle timeout" % name)
                self.stats.latency("idle timeout", took)
                lo, hi = self.args.idle_window
                if not lo <= took <= hi:
                    self.stats.inc("mute idle timeout outside window")
                    self.stats.sample("idle window", "%s after %.1fs" %
                                      (name, took))
            else:
                self.stats.inc("mute %s closed without 421" % name)
                self.stats.sample("mute closed", repr(got[-200:]))
            return c
        finally:
            c.close(rst=rng.random() < 0.3)

    async def s_garbage(self, rng, slot):
        name = self.pick(rng, {"standard": 40, "exchange2013": 30, "esa": 30})
        c = await self.connect(rng, name, slot)
        await c.reply(("220",), "banner")
        kind = rng.choice(("binary", "overlong", "bare-lf", "nul",
                           "odd-data", "overlong-data", "long-header",
                           "unfinished"))
        self.stats.inc("garbage %s %s" % (name, kind))
        if kind == "binary":
            blob = rng.randbytes(rng.randint(50, 3000))
            blob = blob.replace(b"\n", b"\r\n", rng.randint(0, 3))
            await c.send(blob + b"\r\nQUIT\r\n")
            got = await c.until_eof(REPLY_TIMEOUT)
            self._ends(name, kind, got)
        elif kind == "overlong":
            n = rng.choice((600, 1500, 20000, 200000))
            await c.send(b"EHLO " + b"a" * n + b"\r\n")
            await c.reply(None, "overlong EHLO")
            await c.cmd("NOOP", None)
            await c.send(b"QUIT\r\n")
            self._ends(name, kind, await c.until_eof(REPLY_TIMEOUT))
        elif kind == "bare-lf":
            await c.send(b"EHLO barelf.soak.test\nNOOP\nMAIL FROM:<a@b.test>\n")
            await asyncio.sleep(0.2)
            await c.send(b"QUIT\r\n")
            self._ends(name, kind, await c.until_eof(REPLY_TIMEOUT))
        elif kind == "nul":
            await c.send(b"EHLO nul\x00.soak.test\r\n")
            await c.reply(None, "EHLO with NUL")
            await c.cmd("HELO nul.soak.test", None)
            await c.cmd("MAIL FROM:<a\x00b@soak.test>", None)
            await c.send(b"\x00\x00\x00\r\nQUIT\r\n")
            self._ends(name, kind, await c.until_eof(REPLY_TIMEOUT))
        elif kind in ("odd-data", "overlong-data", "long-header"):
            await c.cmd("EHLO bad.soak.test", ("250",))
            await c.cmd("MAIL FROM:<g%d@soak.test>" % slot, ("250",))
            await c.cmd("RCPT TO:<g@rcpt.test>", ("250",))
            await c.cmd("DATA", ("354",))
            mid = self.new_id(slot)
            head = ("Message-ID: <%s@soak.test>\r\nX-Soak-Id: %s\r\n"
                    % (mid, mid)).encode()
            digest = None
            if kind == "odd-data":
                # Legal enough to be accepted (lines under 1000 bytes):
                # the spool must hold exactly these bytes.
                junk = (b"Subject: odd\r\n\r\nbare\nlf\nlines\n"
                        b"nul \x00 bytes \x00\r\n" + b"x" * 990 + b"\r\n"
                        b"lone\rcr\r\n\xff\xfe not utf-8\r\n"
                        b"..dot-stuffed\r\n")
                digest = hashlib.sha1(
                    head + junk.replace(b"\r\n..", b"\r\n.")).hexdigest()
            elif kind == "overlong-data":    # a 5000-byte text line
                junk = (b"Subject: long\r\n\r\n" + b"x" * 5000 + b"\r\n")
            else:
                junk = (b"Subject: " + b"h" * 3000 + b"\r\n"
                        b"X-Folded: a\r\n" + b" b\r\n" * 500 + b"\r\nbody\r\n")
            self.record(mid, "unconfirmed", name, digest)
            await c.send(head + junk + b".\r\n")
            code, text = await c.reply(None, "end of bad data", EOD_TIMEOUT)
            if code == "250":
                self.record(mid, "accepted", name, digest, text)
                self.stats.inc("accepted %s" % name)
            else:
                self.record(mid, "rejected", name, None, text)
                self.stats.inc("rejected %s (garbage)" % name)
            self.stats.inc("garbage %s %s -> %s" % (name, kind, code))
            await c.send(b"QUIT\r\n")
            self._ends(name, kind, await c.until_eof(REPLY_TIMEOUT))
        else:                      # unfinished: a line without its end
            await c.send(b"EHLO unfinished.soak.test\r\nMAIL FROM:<a@b")
            await c.reply(("250",), "EHLO")
            await self.pause(rng)
            c.close(rst=rng.random() < 0.5)
        return c

    def _ends(self, name, kind, got):
        if not got.endswith(b"\r\n"):
            self.stats.inc("garbage ended mid-line")
            self.stats.sample("garbage mid-line", "%s %s %r" % (name, kind,
                                                                got[-120:]))

    async def s_esa(self, rng, slot):
        name = self.pick(rng, {"esa-behind-asa": 50, "esa": 50})
        c = await self.connect(rng, name, slot)
        code, text = await c.reply(("220",), "banner")
        if name == "esa-behind-asa":
            if "*" not in text:
                raise Unexpected("banner not masked: %r" % text)
            await self.pause(rng)
            code, text = await c.cmd("EHLO asa%d.soak.test" % slot, ("250",))
            if "XXXXXXXA" not in text:
                raise Unexpected("STARTTLS not masked: %r" % text)
            await c.cmd("STARTTLS", ("500",))
            for _ in range(rng.randint(1, 3)):
                await self.pause(rng)
                await self.transaction(c, rng, self.new_id(slot),
                                       "asa%d@soak.test" % slot,
                                       ["x@rcpt.test"], self.size(rng),
                                       "data")
            await c.cmd("QUIT", ("221",))
            await c.eof()
            self.stats.inc("esa asa ok")
        elif rng.random() < 0.5:
            await c.cmd("EHLO esa%d.soak.test" % slot, ("250",))
            code, text = await c.cmd("HELP", ("214",))
            await self.transaction(c, rng, self.new_id(slot),
                                   "esa%d@soak.test" % slot, ["y@rcpt.test"],
                                   self.size(rng), "data")
            await c.cmd("QUIT", ("221",))
            await c.eof()
            self.stats.inc("esa mail ok")
        else:
            await c.cmd("EHLO esa%d.soak.test" % slot, ("250",))
            await c.send(b"".join(b"BOGUS%d\r\n" % i for i in range(7)))
            got = await c.until_eof(REPLY_TIMEOUT)
            if b"421 Exceeded bad SMTP command limit" in got:
                self.stats.inc("esa bad-command limit ok")
            else:
                self.stats.inc("esa bad-command limit NOT seen")
                self.stats.sample("esa limit", repr(got[-300:]))
        return c

    # ------------------------------------------------------------ main ----

    async def main(self):
        loop = asyncio.get_running_loop()
        n = self.args.my_sessions
        start = time.monotonic()
        self.deadline = start + self.args.seconds
        ramp = min(self.args.ramp, self.args.seconds / 3)
        # "Steady" from the end of the ramp plus a few think times.
        self.steady = start + ramp + 5 * self.think
        rng = random.Random(self.args.seed * 7 + self.index)
        mix = self.args.mix_weights
        kinds = []
        for kind, w in mix.items():
            kinds += [kind] * round(n * w / sum(mix.values()))
        while len(kinds) < n:
            kinds.append("good")
        kinds = kinds[:n]
        rng.shuffle(kinds)
        self.stats.c.update("slots " + k for k in kinds)
        tasks = [loop.create_task(self.slot(i, k, ramp * i / max(1, n)))
                 for i, k in enumerate(kinds)]
        gauge = loop.create_task(self.gauge())
        await asyncio.wait(tasks, timeout=max(0.0, self.left()))
        # Hard stop: whatever is still running is cancelled now.
        still = [t for t in tasks if not t.done()]
        self.stats.inc("cancelled at deadline", len(still))
        for t in still:
            t.cancel()
        if still:
            await asyncio.wait(still, timeout=10)
        gauge.cancel()
        for t in tasks:
            if t.done() and not t.cancelled() and t.exception():
                self.stats.inc("slot crashed")
                self.stats.sample("slot crashed", repr(t.exception()))
        # Every connection is closed by now (the slots' finally); anything
        # left is closed here. Then the transports get a turn to really
        # close their sockets.
        for c in [c for conns in self.live.values() for c in conns]:
            self.stats.inc("closed after the slots")
            c.close(rst=True)
        await asyncio.sleep(0.5)
        self.stats.inc("leftover open connections", self.stats.open)

    async def gauge(self):
        """Open connections once a second, and how late this loop wakes up
        (a busy client inflates every latency it measures)."""
        samples = []
        while True:
            t = time.monotonic()
            await asyncio.sleep(1)
            self.stats.latency("client loop lag", time.monotonic() - t - 1)
            samples.append(self.stats.open)
            self.stats.c["gauge samples"] = len(samples)
            self.stats.c["gauge sum"] = sum(samples)
            if time.monotonic() > self.steady:   # after the ramp
                self.stats.c["steady samples"] += 1
                self.stats.c["steady sum"] += self.stats.open


class Conn:
    """One client connection: reads whole replies, sends with timeouts."""

    def __init__(self, run, name, slot, reader, writer):
        self.run = run
        self.name = name
        self.slot = slot
        self.reader = reader
        self.writer = writer
        self.closed = False
        run.live.setdefault(slot, set()).add(self)
        run.stats.open += 1
        run.stats.peak_open = max(run.stats.peak_open, run.stats.open)

    async def send(self, data):
        self.writer.write(data)
        async with asyncio.timeout(SEND_TIMEOUT):
            await self.writer.drain()

    async def reply(self, want, what, timeout=REPLY_TIMEOUT):
        """Read one whole reply; (code, text) with lines joined by "|".
        want: codes accepted (None: any)."""
        lines = []
        try:
            async with asyncio.timeout(timeout):
                while True:
                    line = await self.reader.readline()
                    if not line:
                        raise EOFError("%s: EOF waiting for %s reply (%r)" %
                                       (self.name, what, b"|".join(lines)))
                    lines.append(line.rstrip(b"\r\n"))
                    if len(line) < 4 or line[3:4] != b"-":
                        break
        except TimeoutError as e:
            e.where = "%s: no %s reply in %ss" % (self.name, what, timeout)
            raise
        text = b"|".join(lines).decode("utf-8", "replace")
        code = text[:3]
        if want is not None and code not in want:
            raise Unexpected("%s: %s got %r" % (self.name, what, text))
        return code, text

    async def cmd(self, line, want, timeout=REPLY_TIMEOUT):
        await self.send(line.encode() + b"\r\n")
        return await self.reply(want, line.split(" ")[0], timeout)

    async def until_eof(self, timeout):
        """Everything until the server closes; TimeoutError if it does not
        within timeout seconds."""
        got = b""
        try:
            async with asyncio.timeout(max(0.01, timeout)):
                while True:
                    chunk = await self.reader.read(65536)
                    if not chunk:
                        return got
                    got += chunk
        except ConnectionResetError:
            return got + b"<RST>"

    async def eof(self):
        """After QUIT/221 the server closes: see its FIN."""
        await self.until_eof(REPLY_TIMEOUT)

    def close(self, rst=False):
        if self.closed:
            return
        self.closed = True
        mine = self.run.live.get(self.slot)
        if mine is not None:
            mine.discard(self)
            if not mine:
                del self.run.live[self.slot]
        self.run.stats.open -= 1
        tr = self.writer.transport
        if rst:
            sock = tr.get_extra_info("socket")
            try:
                if sock is not None:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
            except OSError:
                pass
            tr.abort()
        else:
            tr.close()


def child(args, index, out_path):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    except (ValueError, OSError):
        pass
    run = Run(args, index)
    t0 = time.monotonic()
    try:
        asyncio.run(run.main())
    except KeyboardInterrupt:
        pass
    st = run.stats
    lat = {}
    for k, v in st.lat.items():
        v = sorted(v)
        lat[k] = {"n": len(v), "p50": v[len(v) // 2],
                  "p99": v[min(len(v) - 1, int(len(v) * 0.99))],
                  "max": v[-1]}
    out = {"index": index, "elapsed": time.monotonic() - t0,
           "counters": dict(st.c), "samples": dict(st.samples),
           "latency": lat, "peak_open": st.peak_open, "ids": st.ids}
    tmp = out_path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.rename(tmp, out_path)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--targets", required=True,
                    help="JSON {profile: \"host:port\"}")
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--procs", type=int, default=1)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sources", default="127.0.0.2-127.0.0.9",
                    help="client source addresses, A.B.C.D-A.B.C.E")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--run-id", default="soak")
    ap.add_argument("--think-ms", type=float, default=1500,
                    help="mean think time between commands")
    ap.add_argument("--ramp", type=float, default=30,
                    help="seconds over which the sessions start")
    ap.add_argument("--mix", default=DEFAULT_MIX)
    ap.add_argument("--mute-range", default="5,45",
                    help="a mute client gives up after U(a,b) seconds")
    ap.add_argument("--idle-window", default="29.95,45",
                    help="seconds in which the server's idle 421 must come")
    a = ap.parse_args(argv)
    a.targets_map = {}
    for name, hp in json.loads(a.targets).items():
        host, port = hp.rsplit(":", 1)
        a.targets_map[name] = (host, int(port))
    lo, hi = a.sources.split("-") if "-" in a.sources else (a.sources,) * 2
    base = lo.rsplit(".", 1)[0]
    a.source_list = ["%s.%d" % (base, i) for i in
                     range(int(lo.rsplit(".", 1)[1]),
                           int(hi.rsplit(".", 1)[1]) + 1)]
    a.mix_weights = {}
    for part in a.mix.split(","):
        k, w = part.split("=")
        if k not in KINDS:
            ap.error("unknown kind %r in --mix" % k)
        a.mix_weights[k] = float(w)
    a.mute_range = tuple(float(x) for x in a.mute_range.split(","))
    a.idle_window = tuple(float(x) for x in a.idle_window.split(","))
    return a


def main():
    args = parse_args()
    os.makedirs(args.out, exist_ok=True)
    procs = []
    per = [args.sessions // args.procs + (1 if i < args.sessions % args.procs
                                          else 0) for i in range(args.procs)]
    for i in range(args.procs):
        args.my_sessions = per[i]
        p = multiprocessing.Process(
            target=child, args=(args, i,
                                os.path.join(args.out, "client-%d.json" % i)))
        p.start()
        procs.append(p)
    status = 0
    for p in procs:
        p.join(args.seconds + 60)
        if p.is_alive():
            p.kill()
            p.join()
            status = 1
        elif p.exitcode != 0:
            status = 1
    sys.exit(status)


if __name__ == "__main__":
    main()
