#!/usr/bin/env python3
"""bench.py - measure smtp-mimic against Postfix's smtp-sink and openssl
s_server, A/B alternating, and write a Markdown table and a PNG plot.

Run it through scripts/bench.sh (which installs the packages, builds a
Release binary and raises the fd limit). Everything runs on 127.0.0.1 (and
127.0.0.2.. as extra client source addresses), every load is bounded in
count and in time, and every process this starts is stopped at the end.

Each figure is measured `runs` times per contender, in the order
A B A B ... (A = smtp-mimic, B = the reference; with --workers in the
binary, a third contender "smtp-mimic --workers 1" joins the rotation for
the throughput and TLS figures), every measurement on a freshly started
server. The table gives the medians and their ratio mimic/reference.
In the transcript rows both contenders are smtp-mimic: A writes a JSON
Lines transcript to a file (--transcript FILE), B does not, so the ratio
is the throughput kept with the transcript on.

The limit columns: in the plain throughput rows a fourth contender,
scripts/bench/canned.c (an epoll server answering canned replies with no
parsing beyond line ends; bench.sh builds it, --canned), joins the rotation;
in the TLS handshake row openssl s_server (the reference there) is the
limit too. "--only workers" (bench.sh --workers-sweep) measures smtp-mimic
--workers 1..nproc+1 against --workers 1 (and the limit), both plain 1 KB
rows, with the server and the client on the same CPUs and pinned apart
(taskset).
"""
import argparse
import json
import os
import re
import resource
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
LOAD = os.path.join(HERE, "load.py")
sys.path.insert(0, HERE)
import bench_http  # noqa: E402

sys.path.insert(0, os.path.join(TOP, "scripts", "lib"))
from mimic import (HOST, NotReady, Process, free_port,  # noqa: E402
                   port_accepts, rss_kib, sanitizer_report)

# Counts: full mode aims at 2-5 s per measurement on a 2-core machine;
# smoke mode only proves every path still runs.
FULL = {
    "runs": 3,
    "sessions": 20,  # smtp-source -s: parallel sessions
    "plain": {(1024, False): 20000, (1024, True): 60000,
              (102400, False): 8000, (102400, True): 10000},
    # smtp-mimic with --transcript FILE vs the same without (1 KB).
    "transcript": {(1024, False): 20000, (1024, True): 60000},
    # with --http and an SSE reader vs without (bench_http.py)
    "http": {(1024, False): 20000, (1024, True): 60000},
    "spool": {(1024, False): 1500, (1024, True): 2500,
              (102400, False): 1200, (102400, True): 1500},
    "tls_seconds": 5,
    "starttls_seconds": 5, "starttls_threads": 4,
    "idle_levels": [1000, 10000, 30000],
    "idle_tput_msgs": 60000, "idle_tput_limit": 30, "noop_wait": 30,
    "latency_count": 2000, "latency_seconds": 15, "latency_bg_sessions": 8,
    "timeout": 300,
}
SMOKE = {
    "runs": 1,
    "sessions": 4,
    "plain": {(1024, False): 40, (1024, True): 80,
              (102400, False): 20, (102400, True): 20},
    "transcript": {(1024, False): 40, (1024, True): 80},
    "http": {(1024, False): 40, (1024, True): 80},
    "spool": {(1024, False): 20, (1024, True): 20,
              (102400, False): 10, (102400, True): 10},
    "tls_seconds": 1,
    "starttls_seconds": 1, "starttls_threads": 1,
    "idle_levels": [20, 50],
    "idle_tput_msgs": 80, "idle_tput_limit": 30, "noop_wait": 10,
    "latency_count": 20, "latency_seconds": 3, "latency_bg_sessions": 2,
    "timeout": 60,
}


class BenchError(Exception):
    pass


def log(msg):
    sys.stderr.write("bench: %s\n" % msg)
    sys.stderr.flush()


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """CPU time of a process so far: (utime+stime in clock ticks from
    /proc/PID/stat, every thread included, exited ones too; {tid: ns on
    CPU} from /proc/PID/task/*/schedstat, or None if unreadable)."""
    with open("/proc/%d/stat" % pid) as f:
        data = f.read()
    # Fields after "(comm)": state is field 3, utime 14, stime 15.
    fields = data[data.rindex(")") + 2:].split()
    ticks = int(fields[11]) + int(fields[12])
    per = {}
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                per[tid] = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        per = None
    return ticks, per


def cpu_seconds(before, after):
    """Server CPU seconds between two proc_cpu() readings. utime+stime
    count in clock ticks (10 ms at 100 Hz): when less than a second went
    by (smoke runs), the per-thread nanosecond counters are summed
    instead, provided the same threads lived at both readings."""
    ticks = after[0] - before[0]
    b, a = before[1], after[1]
    if ticks >= CLK_TCK or not b or not a or set(b) != set(a):
        return ticks / float(CLK_TCK)
    return sum(a[t] - b[t] for t in a) / 1e9


class Server(Process):
    """A server process (smtp-mimic, smtp-sink or s_server) on a free port,
    ready once the port accepts a connection (one session more: none of
    them has a start-up line that the three share)."""

    def __init__(self, name, cmd, port, workdir, timeout=15):
        self.name, self.port = name, port
        self.err_path = os.path.join(workdir, "%s-%d.stderr" % (name, port))
        super().__init__(cmd, self.err_path, new_session=True)
        try:
            self.wait_ready(lambda: port_accepts(HOST, port), timeout)
        except NotReady as e:
            self.kill()  # not in Bench.servers yet: nobody else stops it
            if e.returncode is None:
                raise BenchError("port %d not listening after %ss" % (
                    port, timeout))
            raise BenchError("server exited %s at start: %s" % (
                e.returncode, self.read_err()))

    def read_err(self, tail=2000):
        try:
            return self.read_stderr(tail)
        except OSError:
            return ""

    def check_alive(self):
        if self.proc.poll() is not None:
            raise BenchError("%s died (%s): %s" % (
                self.name, describe_rc(self.proc.returncode),
                self.read_err().strip()[-300:]))

    def stop(self):
        crashed = self.proc.poll()
        self.terminate(signal.SIGTERM, 5)
        # The whole stderr: a sanitizer report's first line (the mark) may
        # be more than the 2000 bytes of read_err() from the end.
        if sanitizer_report(self.read_err(tail=None)):
            raise BenchError("%s: sanitizer report: %s" % (
                self.name, self.read_err().strip()[-300:]))
        if crashed is not None:
            raise BenchError("%s died (%s): %s" % (
                self.name, describe_rc(crashed),
                self.read_err().strip()[-300:]))


def describe_rc(rc):
    if rc is not None and rc < 0:
        try:
            return "signal %s" % signal.Signals(-rc).name
        except ValueError:
            return "signal %d" % -rc
    return "exit %s" % rc


class Bench:
    def __init__(self, args):
        self.args = args
        self.cfg = dict(SMOKE if args.smoke else FULL)
        if args.runs:
            self.cfg["runs"] = args.runs
        if args.idle:
            self.cfg["idle_levels"] = [int(x) for x in args.idle.split(",")]
        self.out = os.path.abspath(args.out)
        os.makedirs(self.out, exist_ok=True)
        self.work = tempfile.mkdtemp(prefix="work-", dir=self.out)
        os.chmod(self.work, 0o1777)  # smtp-sink -D writes as nobody
        # ... so nobody must be able to reach it: make --out traversable
        # (o+x, not readable); if a directory above it is closed, the dumps
        # go to /var/tmp instead (said in the notes).
        st = os.stat(self.out)
        os.chmod(self.out, st.st_mode | 0o001)
        self.dump_root = self.work
        d = os.path.dirname(self.out)
        while d != os.path.dirname(d):
            if not os.stat(d).st_mode & 0o001:
                self.dump_root = tempfile.mkdtemp(prefix="smtp-mimic-bench-",
                                                  dir="/var/tmp")
                os.chmod(self.dump_root, 0o1777)
                break
            d = os.path.dirname(d)
        self.rows = []      # (group, figure, unit, better, {contender: [v]})
        self.errors = []
        self.servers = []
        self.cert = os.path.join(self.work, "cert")
        self.fd_limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        self.has_workers = "--workers" in subprocess.run(
            [args.binary, "--help"], capture_output=True,
            text=True).stdout
        self.notes = []
        if self.dump_root != self.work:
            self.notes.append("smtp-sink (user nobody) cannot reach %s: its "
                              "dump files went to %s" % (self.out,
                                                         self.dump_root))
        self.extra = {}     # hidden per-run values, e.g. baseline RSS
        self.sweep = None   # "workers" rows: (N, server cpus, client cpus)

    # ------------------------------------------------------------ servers
    def mimic_cmd(self, port, spool=None, tls=False, workers=None,
                  transcript=None, ready=None):
        cmd = [self.args.binary, "-P", self.args.profiles,
               "--profile", "standard", "-q",
               "--listen", "%s:%d%s" % (HOST, port, "/tls" if tls else ""),
               "--spool", spool or "none", "--max-sessions", "100000",
               "--cert", os.path.join(self.cert, "cert.pem"),
               "--key", os.path.join(self.cert, "key.pem")]
        if workers:
            cmd += ["--workers", str(workers)]
        if transcript:
            cmd += ["--transcript", transcript]
        if ready:
            cmd += ["--http", "127.0.0.1:0", "--ready-file", ready]
        return cmd

    def start(self, contender, kind="plain", spool_dir=None,
              transcript=None, ready=None):
        """Start one contender's server; returns the Server. kind
        "transcript": both contenders are smtp-mimic, "mimic" with
        --transcript TRANSCRIPT, "ref" without."""
        port = free_port()
        workers = 1 if contender == "mimic-w1" else None
        pin = []
        if kind == "workers":  # mimic: --workers N; ref: --workers 1
            n, scpu, _ = self.sweep
            pin = ["taskset", "-c", scpu] if scpu else []
            kind = "plain"
            if contender == "ref":
                contender, workers = "mimic-w1", 1
            elif contender == "mimic":
                workers = n
        if contender == "limit" and kind == "plain":
            cmd = [self.args.canned, str(port)]
        elif kind == "transcript":
            cmd = self.mimic_cmd(port, transcript=(
                transcript if contender == "mimic" else None))
        elif kind == "http":  # "mimic" with --http (ready), "ref" without
            cmd = self.mimic_cmd(port, ready=ready)
        elif contender.startswith("mimic"):
            tls = kind == "tls"
            cmd = self.mimic_cmd(port, spool=spool_dir, tls=tls,
                                 workers=workers)
        elif kind in ("tls", "starttls"):
            cmd = ["openssl", "s_server", "-www", "-quiet",
                   "-accept", "%s:%d" % (HOST, port),
                   "-cert", os.path.join(self.cert, "cert.pem"),
                   "-key", os.path.join(self.cert, "key.pem")]
        else:
            # -m: smtp-sink serves 256 sessions at once unless told more
            # (as smtp-mimic's --max-sessions above).
            # -t 300: the standard profile's 5-minute idle timeout (the
            # default 100 s would drop idle sessions mid-measurement).
            cmd = ["smtp-sink", "-u", "nobody", "-m", "100000", "-t", "300"]
            if spool_dir:
                cmd += ["-D", os.path.join(spool_dir, "dump")]
            cmd += ["%s:%d" % (HOST, port), "4096"]
        srv = Server(contender, pin + cmd, port, self.work)
        self.servers.append(srv)
        return srv

    def stop(self, srv):
        self.servers.remove(srv)
        srv.stop()

    def stop_all(self):
        for srv in list(self.servers):
            try:
                self.stop(srv)
            except BenchError:
                pass

    # ------------------------------------------------------------- driver
    def contenders(self, with_w1):
        c = ["mimic", "ref"]
        if with_w1 and self.has_workers:
            c.append("mimic-w1")
        if with_w1 == "limit" and self.args.canned:
            c.append("limit")
        return c

    def measure(self, group, figures, contenders, fn):
        """Run fn(contender, run) for each run, contenders in rotation
        (A B A B ...). fn returns {figure: value}; figures is a list of
        (figure, unit, better) in table order."""
        samples = {f[0]: {c: [] for c in contenders} for f in figures}
        errors = {}
        for run in range(self.cfg["runs"]):
            for c in contenders:
                try:
                    vals = fn(c, run)
                except (BenchError, subprocess.SubprocessError,
                        OSError, ValueError) as e:
                    self.stop_all()
                    msg = "%s: %s" % (c, e)
                    log("FAILED %s run %d: %s" % (group, run + 1, msg))
                    for f in figures:
                        errors.setdefault(f[0], msg)
                    continue
                for f in figures:
                    if f[0] in vals and vals[f[0]] is not None:
                        samples[f[0]][c].append(vals[f[0]])
                for k, v in vals.items():
                    if k.startswith("_"):
                        self.extra.setdefault((k, c), []).append(v)
                log("%s run %d %s: %s" % (group, run + 1, c, ", ".join(
                    "%s=%.4g" % (k, v) for k, v in vals.items()
                    if v is not None)))
        for name, unit, better in figures:
            self.rows.append({"group": group, "figure": name, "unit": unit,
                              "better": better, "samples": samples[name],
                              "error": errors.get(name)})

    # ------------------------------------------------------------ figures
    def smtp_source(self, port, size, reuse, msgs, sessions=None,
                    limit=None):
        """msgs/s of one smtp-source run (see smtp_source_count)."""
        done, wall = self.smtp_source_count(port, size, reuse, msgs,
                                            sessions, limit)
        return done / wall

    def smtp_source_count(self, port, size, reuse, msgs, sessions=None,
                          limit=None):
        """(messages sent, wall seconds) of one smtp-source run. With limit
        (seconds), a run still going then is stopped and measured by its
        own counter (-c)."""
        pin = (["taskset", "-c", self.sweep[2]]
               if self.sweep and self.sweep[2] else [])
        cmd = pin + ["smtp-source", "-s",
                     str(sessions or self.cfg["sessions"]),
               "-m", str(msgs), "-l", str(size)]
        if reuse:
            cmd.append("-d")
        if limit:
            cmd.append("-c")
        cmd.append("%s:%d" % (HOST, port))
        with tempfile.TemporaryFile() as out:
            t0 = time.monotonic()
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                 stderr=subprocess.STDOUT)
            try:
                rc = p.wait(limit or self.cfg["timeout"])
                done = msgs
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
                rc = None
            wall = time.monotonic() - t0
            out.seek(0)
            text = out.read().decode("utf-8", "replace")
        if rc is None:
            if not limit:
                raise BenchError("smtp-source: no end after %ss" %
                                 self.cfg["timeout"])
            counts = re.findall(r"\d+", text.replace("\r", " "))
            done = int(counts[-1]) if counts else 0
            if not done:
                raise BenchError("smtp-source: nothing sent in %ss" % limit)
            note = ("the smtp-source runs beside idle sessions stop after "
                    "%ss (time bound) and are measured by their own "
                    "counter (-c)" % limit)
            if note not in self.notes:
                self.notes.append(note)
        elif rc != 0 or "fatal" in text:
            raise BenchError("smtp-source %s: %s" % (
                describe_rc(rc), text.replace("\r", " ").strip()[-300:]))
        return done, wall

    def fig_throughput(self, spool):
        counts = self.cfg["spool" if spool else "plain"]
        for (size, reuse), msgs in counts.items():
            label = "%s %s, %s" % (
                "spool" if spool else "plain",
                "1 KB" if size == 1024 else "100 KB",
                "reused conn (-d)" if reuse else "1 conn/msg")
            fig = "msgs/s " + label
            # When the load client, not the server, sets the pace (on 2
            # CPUs smtp-source is the bottleneck: smtp-sink, the canned
            # limit and smtp-mimic then come out within noise of one
            # another), msgs/s cannot tell the servers apart; the CPU
            # the server itself spent per message still can.
            cpufig = "server CPU per message, " + label

            def one(c, run, size=size, reuse=reuse, msgs=msgs):
                sdir = None
                if spool:
                    sdir = tempfile.mkdtemp(prefix="spool-", dir=(
                        self.work if c.startswith("mimic")
                        else self.dump_root))
                    os.chmod(sdir, 0o1777)
                srv = self.start(c, "plain", spool_dir=sdir)
                try:
                    cpu0 = proc_cpu(srv.pid)
                    v = self.smtp_source(srv.port, size, reuse, msgs)
                    cpu1 = proc_cpu(srv.pid)
                    srv.check_alive()
                    if spool and c.startswith("mimic"):
                        n = len(os.listdir(os.path.join(sdir, "new")))
                        if n != msgs:
                            raise BenchError("spool holds %d of %d" % (
                                n, msgs))
                finally:
                    self.stop(srv)
                    if sdir:
                        shutil.rmtree(sdir, ignore_errors=True)
                return {fig: v,
                        cpufig: cpu_seconds(cpu0, cpu1) * 1e6 / msgs}
            self.measure("throughput", [(fig, "msgs/s", "higher"),
                                        (cpufig, "µs/msg", "lower")],
                         self.contenders(True if spool else "limit"), one)

    def fig_workers(self):
        """smtp-mimic --workers N (1..nproc+1) vs --workers 1 and the
        limit, plain 1 KB (1 conn/msg and -d), the client on the same CPUs
        and (taskset) on separate ones."""
        ncpu = os.cpu_count() or 1
        half = max(1, ncpu // 2)
        pins = [("same CPUs", None, None)]
        if ncpu >= 2 and shutil.which("taskset"):
            pins.append(("server CPUs 0-%d, client %d-%d" % (
                half - 1, half, ncpu - 1), "0-%d" % (half - 1),
                "%d-%d" % (half, ncpu - 1)))
        else:
            self.notes.append("workers rows: one CPU (or no taskset), so "
                              "no pinned rows")
        for pin_name, scpu, ccpu in pins:
            for n in range(1, ncpu + 2):
                for (size, reuse), msgs in self.cfg["plain"].items():
                    if size != 1024:
                        continue
                    fig = "msgs/s plain 1 KB, %s [--workers %d, %s]" % (
                        "reused conn (-d)" if reuse else "1 conn/msg",
                        n, pin_name)

                    def one(c, run, reuse=reuse, msgs=msgs, fig=fig):
                        srv = self.start(c, "workers")
                        try:
                            v = self.smtp_source(srv.port, 1024, reuse, msgs)
                            srv.check_alive()
                        finally:
                            self.stop(srv)
                        return {fig: v}
                    self.sweep = (n, scpu, ccpu)
                    try:
                        c = ["mimic", "ref"]
                        if self.args.canned:
                            c.append("limit")
                        self.measure("workers",
                                     [(fig, "msgs/s", "higher")], c, one)
                    finally:
                        self.sweep = None

    def fig_transcript(self):
        """smtp-mimic with a JSON Lines transcript to a file vs the same
        without: plain 1 KB, one connection per message and reused."""
        for (size, reuse), msgs in self.cfg["transcript"].items():
            fig = "msgs/s JSON transcript on, plain 1 KB, %s" % (
                "reused conn (-d)" if reuse else "1 conn/msg")

            def one(c, run, size=size, reuse=reuse, msgs=msgs):
                path = None
                if c == "mimic":
                    fd, path = tempfile.mkstemp(prefix="transcript-",
                                                suffix=".jsonl",
                                                dir=self.work)
                    os.close(fd)
                try:
                    srv = self.start(c, "transcript", transcript=path)
                    try:
                        v = self.smtp_source(srv.port, size, reuse, msgs)
                        srv.check_alive()
                    finally:
                        self.stop(srv)
                    extra = {}
                    if path:
                        lines, _ = check_transcript(path, msgs)
                        extra["_transcript_lines"] = lines
                finally:
                    if path:
                        try:
                            os.unlink(path)
                        except OSError:
                            pass
                return dict(extra, **{fig: v})
            self.measure("transcript", [(fig, "msgs/s", "higher")],
                         ["mimic", "ref"], one)

    def fig_http(self):
        """smtp-mimic with --http and one SSE subscriber vs without."""
        bench_http.fig_http(self, BenchError)

    def fig_tls(self):
        fig = "TLS handshakes/s, implicit TLS (s_time -new)"
        secs = self.cfg["tls_seconds"]

        def one(c, run):
            srv = self.start(c, "tls")
            try:
                cmd = ["openssl", "s_time", "-connect",
                       "%s:%d" % (HOST, srv.port), "-new",
                       "-time", str(secs),
                       "-ciphersuites", "TLS_AES_128_GCM_SHA256"]
                t0 = time.monotonic()
                cp = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                                    capture_output=True, text=True,
                                    timeout=secs + 60)
                wall = time.monotonic() - t0
                m = re.search(r"(\d+) connections in [\d.]+s", cp.stdout)
                if cp.returncode != 0 or not m:
                    raise BenchError("s_time: %s %s" % (
                        describe_rc(cp.returncode),
                        (cp.stdout + cp.stderr)[-300:]))
                srv.check_alive()
            finally:
                self.stop(srv)
            return {fig: int(m.group(1)) / wall}
        self.measure("tls", [(fig, "handshakes/s", "higher")],
                     self.contenders(True), one)
        # openssl s_server is the limit for handshakes as well.
        self.rows[-1]["samples"]["limit"] = self.rows[-1]["samples"]["ref"]

    def fig_starttls(self):
        fig = "STARTTLS sessions/s (ref: bare TLS handshake on s_server)"

        def one(c, run):
            srv = self.start(c, "starttls")
            try:
                cmd = [sys.executable, LOAD, "starttls", "--port",
                       str(srv.port),
                       "--seconds", str(self.cfg["starttls_seconds"]),
                       "--threads", str(self.cfg["starttls_threads"])]
                if c == "ref":
                    cmd.append("--bare")
                res = run_json(cmd, self.cfg["starttls_seconds"] + 60)
                srv.check_alive()
                if res["errors"]:
                    raise BenchError("%d errors, first: %s" % (
                        res["errors"], res["first_error"]))
            finally:
                self.stop(srv)
            return {fig: res["per_s"]}
        self.measure("tls", [(fig, "sessions/s", "higher")],
                     ["mimic", "ref"], one)

    def fig_latency(self):
        f50 = "latency p50 full transaction under load (ms)"
        f99 = "latency p99 full transaction under load (ms)"
        cfg = self.cfg

        def one(c, run):
            srv = self.start(c, "plain")
            bg = None
            try:
                # Background load: smtp-source, 1 KB, one connection per
                # message, bounded by count; restarted while the probe runs
                # and stopped when it ends.
                bg_cmd = ["smtp-source", "-s", str(cfg["latency_bg_sessions"]),
                          "-m", "200000", "-l", "1024",
                          "%s:%d" % (HOST, srv.port)]
                bg = subprocess.Popen(bg_cmd, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
                time.sleep(0.3)
                probe = subprocess.Popen(
                    [sys.executable, LOAD, "latency", "--port",
                     str(srv.port), "--count", str(cfg["latency_count"]),
                     "--seconds", str(cfg["latency_seconds"])],
                    stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                    text=True)
                deadline = time.monotonic() + cfg["latency_seconds"] + 60
                while probe.poll() is None:
                    if time.monotonic() > deadline:
                        probe.kill()
                        raise BenchError("latency probe timed out")
                    if bg.poll() is not None:  # bounded: start another
                        bg = subprocess.Popen(
                            bg_cmd, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
                    time.sleep(0.05)
                res = json.loads(probe.stdout.read().strip().splitlines()[-1])
                srv.check_alive()
                if res["errors"] or not res["transactions"]:
                    raise BenchError("probe: %d errors, first: %s" % (
                        res["errors"], res["first_error"]))
            finally:
                if bg is not None and bg.poll() is None:
                    bg.terminate()
                    bg.wait()
                self.stop(srv)
            return {f50: res["p50_ms"], f99: res["p99_ms"]}
        self.measure("latency", [(f50, "ms", "lower"), (f99, "ms", "lower")],
                     ["mimic", "ref"], one)

    def fig_idle(self):
        margin = 200
        self.idle_levels = []
        for want in self.cfg["idle_levels"]:
            n = want
            if n > self.fd_limit - margin:
                n = self.fd_limit - margin
                note = ("N=%d capped to %d: open-files limit is %d here "
                        "(ulimit -n could not be raised; no "
                        "CAP_SYS_RESOURCE)" % (want, n, self.fd_limit))
                if note not in self.notes:
                    self.notes.append(note)
                    log(note)
            if n in [x[1] for x in self.idle_levels] or n <= 0:
                continue
            self.idle_levels.append((want, n))
        for want, n in self.idle_levels:
            tag = "N=%d" % n
            figs = [("idle %s: NOOPs answered within 1 s (%%)" % tag, "%",
                     "higher"),
                    ("idle %s: last NOOP answered after (s)" % tag, "s",
                     "lower"),
                    ("idle %s: server peak RSS (MiB)" % tag, "MiB", "lower"),
                    ("idle %s: bytes/session" % tag, "B", "lower"),
                    ("idle %s: msgs/s (1 KB, -d) beside them" % tag,
                     "msgs/s", "higher"),
                    ("idle %s: server CPU per message beside them (µs)" %
                     tag, "µs/msg", "lower")]

            def one(c, run, n=n, figs=figs):
                return self.idle_run(c, n, figs)
            self.measure("idle", figs, ["mimic", "ref"], one)

    def idle_run(self, c, n, figs):
        srv = self.start(c, "plain")
        clients = []
        # Bounds: opening N sessions, waiting for the NOOP replies, and the
        # smtp-source run beside them (stopped and measured by its counter).
        open_limit = 60 + n / 100.0
        noop_limit = self.cfg["noop_wait"]
        try:
            time.sleep(0.2)
            base, _ = rss_kib(srv.pid)
            chunk = max(1, min(n, self.fd_limit - 100))
            k = 0
            left = n
            while left > 0:
                m = min(chunk, left)
                cmd = [sys.executable, LOAD, "idle", "--port", str(srv.port),
                       "--sessions", str(m), "--src-base", str(2 + 10 * k),
                       "--timeout", str(open_limit),
                       "--noop-timeout", str(noop_limit)]
                clients.append(subprocess.Popen(
                    cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    text=True, bufsize=1))
                left -= m
                k += 1
            opened = 0
            for cl in clients:
                r = read_json_line(cl, open_limit + 30)
                if r.get("failed"):
                    raise BenchError("opened %d of %d sessions: %s" % (
                        r["sessions"], r["sessions"] + r["failed"],
                        r["first_error"]))
                opened += r["sessions"]
            srv.check_alive()
            time.sleep(0.5)
            rss, _ = rss_kib(srv.pid)
            for cl in clients:
                cl.stdin.write("noop\n")
                cl.stdin.flush()
            last, answered, within, capped = 0.0, 0, 0, False
            for cl in clients:
                r = read_json_line(cl, noop_limit + 30)
                answered += r["answered"]
                within += r["within_1s"]
                if r["all_answered_s"] is None:
                    capped = True
                    last = max(last, r["waited_s"])
                else:
                    last = max(last, r["all_answered_s"])
            if capped:
                note = ("%s, N=%d: in at least one run not every NOOP "
                        "was answered within the %.0f s wait; that run "
                        "counts the wait as 'last NOOP answered after'" % (
                            "smtp-sink" if c == "ref" else c, n,
                            noop_limit))
                if note not in self.notes:
                    self.notes.append(note)
            srv.check_alive()
            # Server CPU (all threads) over the smtp-source run, per
            # message: the idle sessions say nothing meanwhile, so what
            # they cost shows up as CPU per message rising with N.
            cpu0 = proc_cpu(srv.pid)
            done, wall = self.smtp_source_count(
                srv.port, 1024, True, self.cfg["idle_tput_msgs"],
                limit=self.cfg["idle_tput_limit"])
            cpu1 = proc_cpu(srv.pid)
            srv.check_alive()
            tput = done / wall
            cpu_us = cpu_seconds(cpu0, cpu1) * 1e6 / done
            _, hwm = rss_kib(srv.pid)
            for cl in clients:
                cl.stdin.write("quit\n")
                cl.stdin.flush()
            for cl in clients:
                read_json_line(cl, 60)
        finally:
            for cl in clients:
                if cl.poll() is None:
                    try:
                        cl.wait(30)
                    except subprocess.TimeoutExpired:
                        cl.kill()
                        cl.wait()
            self.stop(srv)
        return {figs[0][0]: 100.0 * within / opened, figs[1][0]: last,
                figs[2][0]: hwm / 1024.0,
                figs[3][0]: (rss - base) * 1024.0 / n,
                figs[4][0]: tput, figs[5][0]: cpu_us,
                "_base_mib": base / 1024.0}

    # ------------------------------------------------------------- output
    def write(self):
        lines = ["| figure | smtp-mimic (median) | reference (median) | "
                 "ratio mimic/ref | limit (median) | ratio mimic/limit "
                 "| runs |", "|---|---|---|---|---|---|---|"]
        refname = {"throughput": "smtp-sink", "tls": "openssl s_server",
                   "idle": "smtp-sink", "latency": "smtp-sink",
                   "transcript": "smtp-mimic, no transcript",
                   "http": "smtp-mimic, no --http",
                   "workers": "smtp-mimic --workers 1"}
        results = []
        for row in self.rows:
            s = row["samples"]
            variants = [("mimic", "")]
            if "mimic-w1" in s:
                variants.append(("mimic-w1", " [--workers 1]"))
            ref = s.get("ref", [])
            ref_med = statistics.median(ref) if ref else None
            lim = s.get("limit", [])
            lim_med = (statistics.median(lim)
                       if len(lim) == self.cfg["runs"] else None)
            for key, suffix in variants:
                vals = s.get(key, [])
                med = statistics.median(vals) if vals else None
                ok = (med is not None and ref_med is not None and
                      len(vals) == self.cfg["runs"] and
                      len(ref) == self.cfg["runs"])
                ratio = med / ref_med if ok and ref_med else None
                better = "higher" if row["better"] == "higher" else "lower"
                fig = "%s%s (%s, %s is better; ref %s)" % (
                    row["figure"], suffix, row["unit"], better,
                    refname[row["group"]])
                if ok and ratio is not None:
                    cells = [fmt(med), fmt(ref_med), "%.2f" % ratio]
                else:
                    why = (row["error"] or "missing samples").replace(
                        "|", "/").replace("\n", " ")[:160]
                    cells = [fmt(med) if med is not None else "—",
                             fmt(ref_med) if ref_med is not None else "—",
                             "FAILED: " + why]
                runs = "%d+%d A/B" % (len(vals), len(ref))
                if "limit" in s and lim is not ref:
                    runs = "%d+%d+%d A/B/L" % (len(vals), len(ref), len(lim))
                lratio = (med / lim_med if med is not None and ok and lim_med
                          else None)
                if "limit" not in s:
                    lcells = ["—", "—"]
                elif lratio is None:
                    lcells = [fmt(lim_med) if lim_med is not None else "—",
                              "FAILED: " + (row["error"] or "missing samples"
                                            ).replace("|", "/")[:160]]
                else:
                    lcells = [fmt(lim_med), "%.2f" % lratio]
                lines.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                    fig, cells[0], cells[1], cells[2], lcells[0], lcells[1],
                    runs))
                results.append({"figure": row["figure"] + suffix,
                                "group": row["group"],
                                "reference": refname[row["group"]],
                                "unit": row["unit"], "better": better,
                                "mimic": vals, "ref": ref,
                                "mimic_median": med, "ref_median": ref_med,
                                "ratio": ratio, "limit": lim,
                                "limit_median": lim_med,
                                "limit_ratio": lratio,
                                "error": row["error"]})
        head = ["# smtp-mimic benchmark%s" % (" (smoke run: counts too "
                                              "small to mean anything)"
                                              if self.args.smoke else ""),
                "",
                "binary: `%s`; %s; %d run(s) per contender, alternating; "
                "%d CPUs; open-files limit %d; reference: Postfix smtp-sink "
                "(-u nobody) for SMTP, openssl s_server for TLS, and in the "
                "transcript rows the same smtp-mimic without a transcript." % (
                    self.args.binary,
                    "smtp-mimic with its default --workers (half the CPUs) "
                    "and, in the [--workers 1] rows, one worker"
                    if self.has_workers else
                    "no --workers flag in this binary (single event loop)",
                    self.cfg["runs"], os.cpu_count(), self.fd_limit), ""]
        if any(r["group"] == "throughput" and "spool" in r["figure"]
               for r in self.rows):
            self.notes.append(
                "spool rows: smtp-mimic writes each message to a maildir "
                "and fsyncs it, its envelope and the directories before its "
                "250; smtp-sink -D only appends to one dump file, without "
                "fsync. Not the same durability: the ratio is the price "
                "of it.")
        if any(r["group"] == "tls" and "STARTTLS" in r["figure"]
               for r in self.rows):
            self.notes.append(
                "STARTTLS row: smtp-sink has no TLS, so the reference is the "
                "same Python load client doing only connect + TLS handshake "
                "+ close against openssl s_server (same certificate, TLS "
                "1.3): the ratio is how close a whole STARTTLS session "
                "(banner, EHLO, STARTTLS, handshake, EHLO, QUIT) gets to "
                "a bare handshake.")
        if any(r["group"] == "transcript" for r in self.rows):
            self.notes.append(
                "transcript rows: smtp-mimic (standard profile, --spool "
                "none, -q) with --transcript FILE (JSON Lines, a fresh file "
                "per run, checked after it to hold one 'accepted as' event "
                "per message, then deleted) vs the same without; the ratio "
                "is with/without, the issue's target is >= 0.85.")
        if any(r["group"] == "http" for r in self.rows):
            self.notes.append(
                "http rows: smtp-mimic (standard profile, --spool none, -q) "
                "with --http 127.0.0.1:0 and one SSE subscriber reading "
                "/api/v1/events throughout (curl -N into grep -c, checked "
                "to have read at least one line per message) vs the same "
                "without --http; the ratio is with/without, the issue's "
                "target is >= 0.9.")
        if any(r["group"] == "idle" and "CPU per message" in r["figure"]
               for r in self.rows):
            self.notes.append(
                "CPU per message rows: server utime+stime (all threads, "
                "/proc/PID/stat; per-thread schedstat nanoseconds when under "
                "a second) over the smtp-source run beside the idle "
                "sessions, divided by the messages it sent.")
        flat, flat_json = self.cost_summary()
        notes = [""] + ["- " + n for n in self.notes] if self.notes else []
        table = "\n".join(head + lines + flat + notes) + "\n"
        with open(os.path.join(self.out, "bench.md"), "w",
                  encoding="utf-8") as f:
            f.write(table)
        with open(os.path.join(self.out, "bench.json"), "w",
                  encoding="utf-8") as f:
            json.dump({"smoke": self.args.smoke, "runs": self.cfg["runs"],
                       "notes": self.notes, "results": results,
                       "cost_per_message": flat_json}, f, indent=1)
        self.plot(results)
        return table

    def cost_summary(self):
        """Markdown lines (and a JSON object) saying how server CPU per
        message beside N idle sessions changes with N, for each contender:
        its median at each N over its median at the lowest N."""
        levels = [n for _, n in getattr(self, "idle_levels", [])]
        meds = {}
        for row in self.rows:
            m = re.match(r"idle N=(\d+): server CPU per message",
                         row["figure"])
            if row["group"] == "idle" and m:
                for c, vals in row["samples"].items():
                    if len(vals) == self.cfg["runs"]:
                        meds.setdefault(c, {})[int(m.group(1))] = \
                            statistics.median(vals)
        if not levels or not meds:
            return [], None
        lo = min(levels)
        out = {"levels": levels, "us_per_msg": {}, "relative_to_lowest": {}}
        lines = ["", "Server CPU per message beside N idle sessions, "
                 "relative to N=%d (median µs/msg at N over that at N=%d; "
                 "flat means about 1.0):" % (lo, lo), ""]
        for c, name in (("mimic", "smtp-mimic"), ("ref", "smtp-sink")):
            got = meds.get(c, {})
            out["us_per_msg"][c] = {str(n): got.get(n) for n in levels}
            base = got.get(lo)
            rel = {}
            parts = []
            for n in levels:
                v = got.get(n)
                r = v / base if v is not None and base else None
                rel[str(n)] = r
                if n == lo:
                    parts.append("N=%d: %s µs" % (n, fmt(v)))
                else:
                    parts.append("N=%d / N=%d = %s" % (
                        n, lo, "%.2f" % r if r is not None else "—"))
            out["relative_to_lowest"][c] = rel
            if len(levels) == 1:
                parts.append("only one N measured")
            lines.append("- %s: %s" % (name, "; ".join(parts)))
        return lines, out

    def plot(self, results):
        by = {r["figure"]: r for r in results}

        def med(fig, key):
            r = by.get(fig)
            return r[key + "_median"] if r else None
        rows = []
        plain = "msgs/s plain 1 KB, reused conn (-d)"
        base = [self.extra.get(("_base_mib", c)) for c in ("mimic", "ref")]
        base = [statistics.median(b) if b else None for b in base]
        rows.append(("0", med(plain, "mimic"), med(plain, "ref"),
                     base[0], base[1]))
        for want, n in getattr(self, "idle_levels", []):
            tag = "idle N=%d: " % n
            rows.append((str(n),
                         med(tag + "msgs/s (1 KB, -d) beside them", "mimic"),
                         med(tag + "msgs/s (1 KB, -d) beside them", "ref"),
                         med(tag + "server peak RSS (MiB)", "mimic"),
                         med(tag + "server peak RSS (MiB)", "ref")))
        data = os.path.join(self.out, "load.dat")
        with open(data, "w") as f:
            f.write("# idle_sessions mimic_msgs_s sink_msgs_s "
                    "mimic_rss_mib sink_rss_mib\n")
            for r in rows:
                f.write(" ".join("NaN" if v is None else
                                 (v if isinstance(v, str) else "%.3f" % v)
                                 for v in r) + "\n")
        sizes = os.path.join(self.out, "size.dat")
        with open(sizes, "w") as f:
            f.write("# size mimic_conn sink_conn mimic_reuse sink_reuse\n")
            for label in ("1 KB", "100 KB"):
                v = [med("msgs/s plain %s, %s" % (label, m), k)
                     for m in ("1 conn/msg", "reused conn (-d)")
                     for k in ("mimic", "ref")]
                f.write('"%s" %s\n' % (label, " ".join(
                    "NaN" if x is None else "%.3f" % x for x in v)))
        png = os.path.join(self.out, "bench.png")
        gp = os.path.join(self.out, "bench.gp")

        def has(table, cols):
            return any(r[c] is not None for r in table for c in cols)
        size_rows = []
        with open(sizes) as f:
            for line in f.read().splitlines()[1:]:
                vals = line.rsplit('"', 1)[1].split()
                size_rows.append([None if v == "NaN" else v for v in vals])
        panels = [
            (has(rows, (1, 2)), PANEL_TPUT),
            (has(rows, (3, 4)), PANEL_RSS),
            (any(v for r in size_rows for v in r), PANEL_SIZE),
        ]
        script = [GNUPLOT_HEAD]
        for ok, panel in panels:
            script.append(panel if ok else
                          panel.split("\nplot ")[0] + "\n" + EMPTY_PANEL)
        script.append("unset multiplot\n")
        with open(gp, "w") as f:
            f.write("".join(script).format(
                png=png, data=data, sizes=sizes,
                smoke=" (smoke run)" if self.args.smoke else ""))
        cp = subprocess.run(["gnuplot", gp], capture_output=True, text=True,
                            timeout=60)
        if cp.returncode != 0 or not os.path.exists(png):
            raise BenchError("gnuplot failed: " + cp.stderr[-500:])


GNUPLOT_HEAD = r"""# written by scripts/bench/bench.py
set terminal pngcairo size 1500,480 font "sans,10" noenhanced
set output "{png}"
set multiplot layout 1,3 title "smtp-mimic vs smtp-sink{smoke}"
set grid
set key top right
set datafile missing "NaN"
"""
PANEL_TPUT = r"""set title "throughput (1 KB, -d) with N idle sessions held"
set xlabel "idle sessions held open (after EHLO)"
set ylabel "msgs/s"
set yrange [0:*]
plot "{data}" using 0:2:xtic(1) with linespoints lw 2 pt 7 title "smtp-mimic", \
     "" using 0:3:xtic(1) with linespoints lw 2 pt 5 title "smtp-sink"
"""
PANEL_RSS = r"""set title "server peak RSS vs idle sessions"
set ylabel "MiB"
set logscale y
set yrange [*:*]
plot "{data}" using 0:4:xtic(1) with linespoints lw 2 pt 7 title "smtp-mimic", \
     "" using 0:5:xtic(1) with linespoints lw 2 pt 5 title "smtp-sink"
"""
PANEL_SIZE = r"""set title "throughput vs message size (no spool)"
set xlabel "message size"
set ylabel "msgs/s"
set logscale y
set yrange [*:*]
plot "{sizes}" using 0:2:xtic(1) with linespoints lw 2 pt 7 title "smtp-mimic, 1 conn/msg", \
     "" using 0:3:xtic(1) with linespoints lw 2 pt 5 title "smtp-sink, 1 conn/msg", \
     "" using 0:4:xtic(1) with linespoints lw 2 pt 7 dt 2 title "smtp-mimic, -d", \
     "" using 0:5:xtic(1) with linespoints lw 2 pt 5 dt 2 title "smtp-sink, -d"
"""
EMPTY_PANEL = r"""unset logscale y
set xrange [0:1]
set yrange [0:1]
set label 1 "not measured in this run" at graph 0.5,0.5 center
plot 2 notitle
unset label 1
set xrange [*:*]
set yrange [*:*]
"""


def fmt(v):
    if v is None:
        return "—"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 1:
        return "%.2f" % v
    return "%.4f" % v


def check_transcript(path, msgs):
    """Prove the transcript was on: the file holds JSON Lines with one
    "accepted as ..." event per message sent (and more lines besides)."""
    lines = accepted = 0
    with open(path, "rb") as f:
        for line in f:
            lines += 1
            if b'"accepted as ' in line:
                try:
                    ev = json.loads(line)
                except ValueError:
                    raise BenchError("transcript line %d is not JSON: %r" % (
                        lines, line[:120]))
                if not (isinstance(ev, dict) and
                        str(ev.get("text", "")).startswith("accepted as ")):
                    raise BenchError("transcript line %d: unexpected event "
                                     "%r" % (lines, line[:120]))
                accepted += 1
    if lines < msgs or accepted < msgs:
        raise BenchError("transcript %s holds %d lines, %d 'accepted' "
                         "events for %d messages sent" % (
                             os.path.basename(path), lines, accepted, msgs))
    return lines, accepted


def run_json(cmd, timeout):
    cp = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                        text=True, timeout=timeout)
    if cp.returncode != 0:
        raise BenchError("%s: %s %s" % (os.path.basename(cmd[1]),
                                        describe_rc(cp.returncode),
                                        cp.stderr.strip()[-300:]))
    return json.loads(cp.stdout.strip().splitlines()[-1])


def read_json_line(proc, timeout):
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise BenchError("load client timed out")
        r, _, _ = select.select([proc.stdout], [], [], left)
        if r:
            line = proc.stdout.readline()
            if not line:
                raise BenchError("load client exited (%s)" % describe_rc(
                    proc.wait()))
            return json.loads(line)


def on_term(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    signal.signal(signal.SIGTERM, on_term)
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--binary", required=True)
    ap.add_argument("--profiles", default=os.path.join(TOP, "profiles"))
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench"))
    ap.add_argument("--smoke", action="store_true")
    ap.add_argument("--canned", default="",
                    help="the canned-reply limit server (canned.c, built)")
    ap.add_argument("--runs", type=int, default=0)
    ap.add_argument("--idle", default="",
                    help="idle-session levels, e.g. 1000,10000,30000")
    ap.add_argument("--only", default="",
                    help="comma list of: plain,transcript,http,spool,tls,"
                         "starttls,idle,latency,workers (default all "
                         "but workers)")
    args = ap.parse_args()
    args.binary = os.path.abspath(args.binary)
    b = Bench(args)
    only = set(filter(None, args.only.split(",")))
    groups = ("plain", "transcript", "http", "spool", "tls", "starttls",
              "idle", "latency", "workers")
    if only - set(groups):
        ap.error("--only: unknown group(s) %s; known: %s" % (
            ",".join(sorted(only - set(groups))), ",".join(groups)))
    t0 = time.monotonic()
    try:
        os.makedirs(b.cert)
        # The certificate smtp-mimic generates at start, written out so
        # that s_server and every later smtp-mimic use the same one.
        port = free_port()
        Server("certgen", [args.binary, "-P", args.profiles, "-q",
                           "--spool", "none", "--listen",
                           "%s:%d" % (HOST, port), "--write-cert", b.cert],
               port, b.work).stop()
        steps = [("plain", lambda: b.fig_throughput(False)),
                 ("transcript", b.fig_transcript),
                 ("http", b.fig_http),
                 ("spool", lambda: b.fig_throughput(True)),
                 ("tls", b.fig_tls), ("starttls", b.fig_starttls),
                 ("idle", b.fig_idle), ("latency", b.fig_latency),
                 ("workers", b.fig_workers)]
        for name, fn in steps:
            if (not only and name != "workers") or name in only:
                log("== %s" % name)
                fn()
        table = b.write()
    finally:
        b.stop_all()
        shutil.rmtree(b.work, ignore_errors=True)
        if b.dump_root != b.work:
            shutil.rmtree(b.dump_root, ignore_errors=True)
    sys.stdout.flush()
    sys.stdout.buffer.write(table.encode("utf-8"))
    sys.stdout.flush()
    log("done in %.0f s; table %s, plot %s" % (
        time.monotonic() - t0, os.path.join(b.out, "bench.md"),
        os.path.join(b.out, "bench.png")))
    failed = [r for r in b.rows if r["error"]]
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt as e:
        log("stopped (%s); servers stopped" % (e or "interrupt"))
        sys.exit(130)
