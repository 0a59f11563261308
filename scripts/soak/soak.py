#!/usr/bin/env python3
"""soak.py - run one soak of smtp-mimic (scripts/soak.sh is the entry point).

  1. start one smtp-mimic per profile (soak-standard, soak-exchange2013,
     soak-esa, soak-esa-behind-asa from scripts/soak/profiles), each on its
     own loopback port with its own spool, -q, --max-sessions 20000;
  2. record each server's idle RSS and open descriptors;
  3. start monitor.py (a probe session per server every --probe-interval
     seconds, RSS/fd samples) and load.py (--sessions sessions in a mix for
     --minutes; a hard stop at the deadline, the client killed if it overruns);
  4. let the servers settle (--settle seconds, probes still running), stop the
     monitor, record RSS and descriptors again;
  5. SIGTERM every server (each must exit 0);
  6. run check.py on the results: summary table on stdout, OUT/summary.md,
     OUT/summary.json; exit 1 if a check failed.

Everything this starts is stopped on the way out, by process id.
"""
import argparse
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(HERE, "profiles")
SHIPPED = os.path.join(TOP, "profiles")
PROFILES = ("standard", "exchange2013", "esa", "esa-behind-asa")
# What a run leaves in OUT (removed at the start of the next run there).
OUR_FILES = ("spool", "clients", "profiles", "logs", "transcripts",
             "run.json", "monitor.jsonl", "summary.md", "summary.json")

sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(TOP, "scripts", "lib"))
import check  # noqa: E402
from mimic import (NotReady, Process, free_port, listeners,  # noqa: E402
                   proc_stats)


T0 = time.monotonic()


def say(msg):
    sys.stderr.write("soak: %5.1fs %s\n" % (time.monotonic() - T0, msg))
    sys.stderr.flush()


def is_sanitized(binary):
    try:
        out = subprocess.run(["ldd", binary], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        out = b""
    return b"libasan" in out or b"libtsan" in out


class Server(Process):
    """One smtp-mimic of the soak; log is its stderr file, exit its exit
    status (or why it has none) once stopped."""

    def __init__(self, a, name, profile, profile_dirs):
        self.name = name
        self.profile = profile
        self.port = free_port()
        self.workers = a.workers
        self.spool = os.path.join(a.out, "spool", name)
        self.log = os.path.join(a.out, "logs", "server-%s.log" % name)
        self.transcript = (os.path.join(a.out, "transcripts", name + ".jsonl")
                           if a.transcript else None)
        cmd = [a.binary, "-q"]
        for d in profile_dirs:
            cmd += ["--profile-path", d]
        cmd += ["--profile", profile, "--listen", "127.0.0.1:%d" % self.port,
                "--spool", self.spool, "--max-sessions", "20000",
                "--workers", str(a.workers), "--seed", str(a.seed)]
        if self.transcript:
            cmd += ["--transcript", self.transcript]
        super().__init__(cmd, self.log)
        self.idle = self.settled = None
        self.exit = None

    def wait_listening(self, timeout):
        # -q keeps the start-up line off stderr: wait for the listening
        # sockets (one per worker) instead of probing, so no session is
        # made before the idle figures are taken.
        try:
            self.wait_ready(lambda: listeners(self.port) >= self.workers,
                               timeout, interval=0.05)
        except NotReady as e:
            if e.returncode is None:
                raise RuntimeError("%s did not start:\n%s" % (
                    self.name, self.read_stderr()))
            raise RuntimeError("%s exited %d at start:\n%s" % (
                self.name, e.returncode, self.read_stderr()))

    def stop(self, timeout=30):
        if not self.terminate(signal.SIGTERM, timeout):
            self.exit = "no exit in %ds (killed)" % timeout
        if self.exit is None:
            self.exit = self.proc.returncode


TCP_STATES = {"01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV",
              "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
              "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK",
              "0A": "LISTEN", "0B": "CLOSING"}


def _addr(hexaddr):
    ip, port = hexaddr.split(":")
    return "%s:%d" % (socket.inet_ntoa(bytes.fromhex(ip)[::-1]), int(port, 16))


def socket_table():
    """{inode: "tcp LOCAL -> REMOTE STATE"} of this network namespace's
    TCP sockets (TIME_WAIT entries have no inode and are skipped)."""
    socks = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                next(f)
                for line in f:
                    p = line.split()
                    if len(p) < 10 or p[9] == "0":
                        continue
                    try:
                        socks[p[9]] = "tcp %s -> %s %s" % (
                            _addr(p[1]), _addr(p[2]),
                            TCP_STATES.get(p[3], p[3]))
                    except (ValueError, OSError):
                        socks[p[9]] = "tcp6 " + TCP_STATES.get(p[3], p[3])
        except OSError:
            pass
    return socks


def describe_fds(pid, socks):
    """{fd: what it is}; TCP sockets as "tcp LOCAL -> REMOTE STATE"."""
    fds = {}
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                fds[int(fd)] = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                pass
    except OSError:
        return {}
    for fd, target in fds.items():
        if target.startswith("socket:["):
            fds[fd] = socks.get(target[8:-1], target)
    return fds


def sample(servers, label):
    """Three samples half a second apart; the last one is kept (the first
    ones show whether the figures still move)."""
    seen = {s.name: [] for s in servers}
    for i in range(3):
        for s in servers:
            st = proc_stats(s.proc.pid)
            if st:
                seen[s.name].append(st)
        if i < 2:
            time.sleep(0.5)
    socks = socket_table()
    for s in servers:
        v = seen[s.name]
        st = dict(v[-1]) if v else None
        if st:
            st["samples"] = [(x["rss"], x["fds"]) for x in v]
            st["fd_list"] = describe_fds(s.proc.pid, socks)
        setattr(s, label, st)
        say("%-15s %s RSS %s, %s fds" % (
            s.name, label, check.fmt_kib(st and st["rss"]), st and st["fds"]))


def tcp_ext():
    """TcpExt ListenOverflows / ListenDrops (namespace-wide counters: SYNs
    dropped because an accept queue was full)."""
    try:
        with open("/proc/net/netstat") as f:
            lines = f.read().splitlines()
    except OSError:
        return {}
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            d = dict(zip(names.split()[1:], values.split()[1:]))
            return {k: int(d[k]) for k in ("ListenOverflows", "ListenDrops")
                    if k in d}
    return {}


def settle(servers, a):
    """Wait --settle seconds; then, up to --settle-max in all, until every
    server's descriptor count is back at its idle figure (sessions held by a
    rule's delay, or by a close that waits for output to drain, end a few
    seconds after their clients are gone). Returns the seconds waited."""
    t0 = time.monotonic()
    time.sleep(a.settle)
    while time.monotonic() - t0 < a.settle_max:
        busy = [s.name for s in servers
                if (proc_stats(s.proc.pid) or {}).get("fds") != s.idle["fds"]]
        if not busy:
            break
        time.sleep(0.5)
    took = time.monotonic() - t0
    say("settled after %.1fs" % took)
    return round(took, 1)


def late_check(servers, a):
    """Diagnosis only (the checks use the settled figures): if a server's
    descriptors differ from idle, say which, and look again for up to
    --late seconds to tell a slow close from a leak."""
    odd = [s for s in servers if s.idle and s.settled
           and s.settled["fds"] != s.idle["fds"]]
    for s in odd:
        idle = {int(k): v for k, v in s.idle["fd_list"].items()}
        extra = {k: v for k, v in s.settled["fd_list"].items()
                 if idle.get(int(k)) != v}
        s.settled["fd_extra"] = extra
        say("%-15s %d fds more than idle: %s" % (
            s.name, s.settled["fds"] - s.idle["fds"],
            "; ".join("%s=%s" % kv for kv in sorted(extra.items())[:8])))
    t0 = time.monotonic()
    while odd and time.monotonic() - t0 < a.late:
        time.sleep(1)
        for s in list(odd):
            st = proc_stats(s.proc.pid)
            if st is None:
                odd.remove(s)
                continue
            s.settled["late"] = [round(time.monotonic() - t0), st["fds"],
                                 st["rss"]]
            if st["fds"] == s.idle["fds"]:
                say("%-15s back to %d fds %.0fs later" % (
                    s.name, st["fds"], time.monotonic() - t0))
                odd.remove(s)
    socks = socket_table() if odd else {}
    for s in odd:
        s.settled["late_fd_list"] = describe_fds(s.proc.pid, socks)
        say("%-15s still %d fds (idle %d) %.0fs later" % (
            s.name, s.settled["late"][1], s.idle["fds"], a.late))


def overlay_profiles(a):
    """For --idle-timeout: soak-smoke-NAME extends soak-NAME, in OUT."""
    d = os.path.join(a.out, "profiles")
    os.makedirs(d, exist_ok=True)
    for p in PROFILES:
        with open(os.path.join(d, "soak-x-%s.yaml" % p), "w") as f:
            f.write("# written by scripts/soak/soak.py for a short run\n"
                    "name: soak-x-%s\n"
                    "description: \"soak-%s with idle_timeout %s\"\n"
                    "extends: soak-%s\n"
                    "limits:\n  idle_timeout: %s\n"
                    % (p, p, a.idle_timeout, p, a.idle_timeout))
    return d


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--binary", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--scale", type=float, default=None,
                    help="multiply the session count (default 1; 0.5 for a "
                         "sanitizer build)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--procs", type=int, default=None,
                    help="load client processes (default: 1 per 5000 "
                         "sessions, at most the CPU count)")
    ap.add_argument("--think-ms", type=float, default=None)
    ap.add_argument("--settle", type=float, default=None)
    ap.add_argument("--settle-max", type=float, default=None,
                    help="wait up to this long in all for the descriptors to "
                         "come back to idle (default 30; smoke 15)")
    ap.add_argument("--probe-interval", type=float, default=None)
    ap.add_argument("--probe-timeout", type=float, default=5)
    ap.add_argument("--transcript", action="store_true", default=None,
                    help="keep JSON Lines transcripts and cross-check them "
                         "with the spool (default: on for --smoke)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep-spool", action="store_true",
                    help="keep the spools (by default they are removed "
                         "unless a spool check failed; --smoke keeps them)")
    ap.add_argument("--late", type=float, default=None,
                    help="if descriptors differ after settling, watch them "
                         "this many more seconds (diagnosis only; default "
                         "30, smoke 8)")
    a = ap.parse_args()
    if a.settle_max is None:
        a.settle_max = 15 if a.smoke else 30
    a.settle_max = max(a.settle_max, a.settle or 0)
    if a.late is None:
        a.late = 8 if a.smoke else 30
    sanitized = is_sanitized(a.binary) or "asan" in a.binary
    if a.scale is None:
        a.scale = 0.5 if sanitized else 1.0
    a.sanitized = sanitized
    if a.smoke:
        a.seconds = 10.0
        if a.sessions == 10000:
            a.sessions = 200
        a.settle = 4 if a.settle is None else a.settle
        a.probe_interval = a.probe_interval or 2
        a.think_ms = 150 if a.think_ms is None else a.think_ms
        a.ramp = 2
        a.idle_timeout = "3s"
        a.mute_range = "1,8"
        a.idle_window = "2.95,8"
        a.transcript = True if a.transcript is None else a.transcript
    else:
        a.seconds = a.minutes * 60
        a.settle = 10 if a.settle is None else a.settle
        a.probe_interval = a.probe_interval or 10
        a.think_ms = 1500 if a.think_ms is None else a.think_ms
        a.ramp = min(60.0, a.seconds / 6)
        a.idle_timeout = None           # the fixtures' 30 s
        a.mute_range = "5,45"
        a.idle_window = "29.95,45"
        a.transcript = bool(a.transcript)
    a.sessions = max(10, int(a.sessions * a.scale))
    if a.procs is None:
        a.procs = max(1, min(os.cpu_count() or 1, math.ceil(a.sessions / 5000)))
    a.binary = os.path.abspath(a.binary)
    a.out = os.path.abspath(a.out)
    return a


def main():
    a = parse_args()
    os.makedirs(a.out, exist_ok=True)
    for name in OUR_FILES:
        p = os.path.join(a.out, name)
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)
    for d in ("logs", "clients") + (("transcripts",) if a.transcript else ()):
        os.makedirs(os.path.join(a.out, d))
    import resource
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    per_proc = math.ceil(a.sessions / a.procs) + 200
    if nofile != resource.RLIM_INFINITY and per_proc > nofile:
        say("open-files limit %d is below the %d a client process needs"
            % (nofile, per_proc))
        return 2
    say("%d sessions for %gs, %d client process(es), %d workers per server, "
        "open-files limit %s, binary %s%s" % (
            a.sessions, a.seconds, a.procs, a.workers, nofile, a.binary,
            " (sanitizer build)" if a.sanitized else ""))

    dirs = [FIXTURES, SHIPPED]
    prefix = "soak-"
    if a.idle_timeout:
        dirs.insert(0, overlay_profiles(a))
        prefix = "soak-x-"
    servers, monitor, load = [], None, None
    run = {"params": {
        "sessions": a.sessions, "seconds": a.seconds, "settle": a.settle,
        "procs": a.procs, "think_ms": a.think_ms, "workers": a.workers,
        "settle_max": a.settle_max, "probe_interval": a.probe_interval, "probe_timeout": a.probe_timeout,
        "smoke": a.smoke, "scale": a.scale, "sanitized": a.sanitized,
        "idle_timeout": a.idle_timeout or "30s (fixtures)",
        "transcript": a.transcript, "binary": a.binary, "seed": a.seed},
        "servers": {}}
    t_start = time.time()
    try:
        for p in PROFILES:
            servers.append(Server(a, p, prefix + p, dirs))
        for s in servers:
            s.wait_listening(60 if a.sanitized else 30)
        say("servers up: " + ", ".join("%s :%d (pid %d)" % (
            s.name, s.port, s.proc.pid) for s in servers))
        time.sleep(1.0)
        sample(servers, "idle")

        monitor = subprocess.Popen(
            [sys.executable, "-B", os.path.join(HERE, "monitor.py"),
             "--out", os.path.join(a.out, "monitor.jsonl"),
             "--interval", str(a.probe_interval),
             "--timeout", str(a.probe_timeout),
             "--sample", "1" if a.smoke else "2",
             "--seconds", str(a.seconds + a.settle + 300)] +
            ["--server=%s=%d@127.0.0.1:%d" % (s.name, s.proc.pid, s.port)
             for s in servers], stdin=subprocess.DEVNULL)
        t_mon = time.monotonic()
        nsrc = max(2, min(250, math.ceil(a.sessions / 1500)))
        targets = {s.name: "127.0.0.1:%d" % s.port for s in servers}
        load_cmd = [
            sys.executable, "-B", os.path.join(HERE, "load.py"),
            "--targets", json.dumps(targets), "--sessions", str(a.sessions),
            "--seconds", str(a.seconds), "--procs", str(a.procs),
            "--out", os.path.join(a.out, "clients"),
            "--sources", "127.0.0.2-127.0.0.%d" % (1 + nsrc),
            "--seed", str(a.seed), "--run-id", "r%x" % int(t_start),
            "--think-ms", str(a.think_ms), "--ramp", str(a.ramp),
            "--mute-range", a.mute_range, "--idle-window", a.idle_window]
        say("load: %d sessions from 127.0.0.2-127.0.0.%d for %gs"
            % (a.sessions, 1 + nsrc, a.seconds))
        ext0 = tcp_ext()
        load = subprocess.Popen(load_cmd, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        try:
            run["load_exit"] = load.wait(a.seconds + 90)
        except subprocess.TimeoutExpired:
            say("load client overran its deadline: killed")
            os.killpg(load.pid, signal.SIGKILL)
            load.wait()
            run["load_exit"] = "killed after overrunning"
        ext1 = tcp_ext()
        run["tcp_ext"] = {k: ext1[k] - ext0.get(k, 0) for k in ext1}
        say("load done (exit %s); settling %gs (up to %gs while descriptors "
            "are still closing)" % (run["load_exit"], a.settle, a.settle_max))
        run["settle_seconds"] = settle(servers, a)
        monitor.send_signal(signal.SIGTERM)
        try:
            monitor.wait(a.probe_timeout + 15)
        except subprocess.TimeoutExpired:
            monitor.kill()
            monitor.wait()
        run["monitor_seconds"] = time.monotonic() - t_mon
        time.sleep(1.0)   # the last probe session is closed on both sides
        sample(servers, "settled")
        late_check(servers, a)
        for s in servers:
            s.stop()
            say("%-15s SIGTERM: exit %s" % (s.name, s.exit))
    except BaseException as e:
        say("aborted: %r" % e)
        run["aborted"] = repr(e)
        raise
    finally:
        if load is not None and load.poll() is None:
            os.killpg(load.pid, signal.SIGKILL)
            load.wait()
        if monitor is not None and monitor.poll() is None:
            monitor.kill()
            monitor.wait()
        for s in servers:
            s.kill()
            run["servers"][s.name] = {
                "profile": s.profile, "port": s.port, "pid": s.proc.pid,
                "cmd": s.cmd, "spool": s.spool, "log": s.log,
                "transcript": s.transcript, "listeners": a.workers,
                "idle": s.idle, "settled": s.settled, "exit": s.exit}
        run["elapsed"] = time.time() - t_start
        with open(os.path.join(a.out, "run.json"), "w") as f:
            json.dump(run, f, indent=1)

    say("checking the spools (%d files)" % sum(
        len(os.listdir(os.path.join(s.spool, "new")))
        for s in servers if os.path.isdir(os.path.join(s.spool, "new"))))
    sys.stdout.flush()
    status = check.report(a.out)
    summary = check.load_json(os.path.join(a.out, "summary.json"), {})
    spool_failed = any(not c["ok"] and c["check"][:2] in ("a.", "b.")
                       for c in summary.get("checks", []))
    if not (a.keep_spool or a.smoke or spool_failed):
        # A long soak leaves gigabytes of mail; it is only evidence when a
        # spool check failed.
        shutil.rmtree(os.path.join(a.out, "spool"), ignore_errors=True)
        say("spools removed: the spool checks passed (--keep-spool keeps them)")
    say("run took %.0fs" % (time.time() - t_start))
    return status


if __name__ == "__main__":
    sys.exit(main())
