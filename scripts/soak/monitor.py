#!/usr/bin/env python3
"""monitor.py - watch the soak's servers while the load runs.

Two things, written as JSON lines to --out until SIGTERM (or --seconds):
  probe   every --interval seconds, one probe session per server, each in
          its own thread from 127.0.0.1: connect, time until the whole
          banner has arrived (must be within --timeout), QUIT, close.
          {"t", "probe": name, "ok", "secs", "banner" or "error"}
  sample  every --sample seconds: /proc/PID/status VmRSS and VmHWM (KiB),
          Threads, and the number of entries in /proc/PID/fd.
          {"t", "sample": name, "rss", "hwm", "threads", "fds"}

Probes are plain blocking sockets in threads, not the load client's event
loop: a busy load client must not make the server look slow.
"""
import argparse
import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "lib"))
from mimic import proc_stats  # noqa: E402


def probe(host, port, timeout):
    """Seconds until the whole banner arrived; raises on failure."""
    t0 = time.monotonic()
    s = socket.create_connection((host, port), timeout=timeout)
    try:
        buf = b""
        while True:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                raise TimeoutError("no banner in %ss (got %r)" % (timeout, buf))
            s.settimeout(left)
            chunk = s.recv(4096)
            if not chunk:
                raise EOFError("closed before the banner (got %r)" % buf)
            buf += chunk
            lines = buf.split(b"\r\n")
            if len(lines) > 1 and any(len(x) >= 4 and x[3:4] == b" "
                                      for x in lines[:-1]):
                break
        secs = time.monotonic() - t0
        banner = buf.split(b"\r\n")[0].decode("utf-8", "replace")
        try:
            s.settimeout(timeout)
            s.sendall(b"QUIT\r\n")
            while s.recv(4096):
                pass
        except OSError:
            pass  # the banner is what is measured
        return secs, banner
    finally:
        s.close()


class Writer:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()
        self.t0 = time.time()

    def write(self, obj):
        obj = dict(obj, t=round(time.time(), 3))
        with self.lock:
            self.f.write(json.dumps(obj) + "\n")


def prober(w, name, host, port, interval, timeout, stop):
    nxt = time.monotonic()
    while not stop.is_set():
        try:
            secs, banner = probe(host, port, timeout)
            w.write({"probe": name, "ok": secs <= timeout,
                     "secs": round(secs, 4), "banner": banner})
        except Exception as e:  # noqa: BLE001 - every failure is a result
            w.write({"probe": name, "ok": False, "error": repr(e)[:300]})
        nxt += interval
        stop.wait(max(0.0, nxt - time.monotonic()))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--server", action="append", required=True,
                    help="NAME=PID@HOST:PORT (repeatable)")
    ap.add_argument("--interval", type=float, default=10)
    ap.add_argument("--timeout", type=float, default=5)
    ap.add_argument("--sample", type=float, default=2)
    ap.add_argument("--seconds", type=float, default=3600)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    w = Writer(a.out)
    servers = []
    for spec in a.server:
        name, rest = spec.split("=", 1)
        pid, hp = rest.split("@", 1)
        host, port = hp.rsplit(":", 1)
        servers.append((name, int(pid), host, int(port)))
    threads = [threading.Thread(target=prober, daemon=True,
                                args=(w, n, h, p, a.interval, a.timeout, stop))
               for n, _, h, p in servers]
    for t in threads:
        t.start()
    end = time.monotonic() + a.seconds
    while not stop.is_set() and time.monotonic() < end:
        for name, pid, _, _ in servers:
            st = proc_stats(pid)
            if st is not None:
                w.write(dict(st, sample=name))
        stop.wait(a.sample)
    stop.set()
    for t in threads:
        t.join(a.timeout + 5)


if __name__ == "__main__":
    main()
