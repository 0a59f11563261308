"""mimic.py - what the black-box harness, the benchmark and the soak share.

A server process started from a command line with its stderr in a file
(Process: start, wait until ready, stop or kill, read stderr), a free
loopback port, the ready checks the three use (a port that accepts, the
listening sockets in /proc/net/tcp), how a sanitizer report is noticed in
stderr, a process's RSS, threads and descriptors from /proc, and the
source-bound socket the two load clients connect from.

What it does not do: build command lines, decide what "ready" means for a
given server, or judge an exit status -- each user does that (the harness
fails a test, bench.py a measurement, soak.py a check), with its own error
type and messages. Python 3.11 standard library only; Linux (/proc).

Users put this directory on sys.path relative to their own file:
    sys.path.insert(0, os.path.join(TOP, "scripts", "lib"))
"""
import os
import signal
import socket
import subprocess
import time

HOST = "127.0.0.1"

# A report from AddressSanitizer, LeakSanitizer or UBSan in stderr.
SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:")


def free_port(host=HOST):
    """A TCP port on host (127.0.0.1) that nobody listens on right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def sanitizer_report(text):
    """The sanitizer marks found in text (empty if none)."""
    return [m for m in SANITIZER_MARKS if m in text]


def port_accepts(host, port, timeout=1):
    """True if a TCP connection to host:port is accepted now (it is closed
    at once: the server sees one session)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def listeners(port):
    """How many IPv4 sockets listen on 127.0.0.1:port (/proc/net/tcp);
    a check that makes no session."""
    want = "0100007F:%04X" % port
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            parts = line.split()
            if parts[1] == want and parts[3] == "0A":
                n += 1
    return n


# Linux's IP_BIND_ADDRESS_NO_PORT (24), which Python 3.11 may not name.
IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)


def source_socket(src):
    """A non-blocking TCP socket bound to the address src (127.0.0.x), for
    a load client's connect(). The port is left to connect(), which picks
    it by the 4-tuple (IP_BIND_ADDRESS_NO_PORT): every source address has
    its own ~28k ephemeral ports."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        s.bind((src, 0))
    except BaseException:
        s.close()
        raise
    return s


class NotReady(Exception):
    """Process.wait_ready gave up: the process exited (returncode is its
    status) or the time ran out (returncode is None)."""

    def __init__(self, returncode):
        super().__init__("exited %s" % returncode if returncode is not None
                         else "not ready in time")
        self.returncode = returncode


class Process:
    """A server process: cmd started with stdin and stdout on /dev/null and
    stderr in the file stderr_path. proc is the Popen, stderr the open file.
    new_session puts it in a session (and process group) of its own."""

    def __init__(self, cmd, stderr_path, new_session=False):
        self.cmd = list(cmd)
        self.stderr_path = stderr_path
        self.stderr = open(stderr_path, "wb")
        try:
            self.proc = subprocess.Popen(self.cmd, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL,
                                         stderr=self.stderr,
                                         start_new_session=new_session)
        except BaseException:
            self.stderr.close()
            raise

    @property
    def pid(self):
        return self.proc.pid

    def read_stderr(self, tail=None):
        """What the process wrote to stderr so far (the last tail bytes
        only, if given), decoded as UTF-8 with replacement."""
        with open(self.stderr_path, "rb") as f:
            data = f.read()
        if tail:
            data = data[-tail:]
        return data.decode("utf-8", "replace")

    def sanitizer_report(self):
        """The sanitizer marks in the whole stderr so far (empty if none)."""
        return sanitizer_report(self.read_stderr())

    def wait_ready(self, ready, timeout, interval=0.02):
        """Poll until ready() is true, checking first each time that the
        process still runs. Raises NotReady(status) if it exited,
        NotReady(None) if timeout seconds went by."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise NotReady(self.proc.returncode)
            if ready():
                return
            time.sleep(interval)
        raise NotReady(None)

    def terminate(self, sig=signal.SIGTERM, timeout=20):
        """Send sig if it still runs and wait up to timeout seconds for its
        exit; kill it if it is still there then. Closes the stderr file.
        True if it exited without the kill (or had exited before)."""
        exited = True
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                exited = False
        self.stderr.close()
        return exited

    def kill(self):
        """SIGKILL it if it still runs (and reap it); close the stderr file."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if not self.stderr.closed:
            self.stderr.close()


def proc_status(pid):
    """{'rss', 'hwm', 'threads'} from /proc/PID/status (VmRSS and VmHWM in
    KiB, Threads); a key is missing if its line is. Raises OSError if the
    process is gone."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            if k == "VmRSS":
                out["rss"] = int(v.split()[0])
            elif k == "VmHWM":
                out["hwm"] = int(v.split()[0])
            elif k == "Threads":
                out["threads"] = int(v.split()[0])
    return out


def smaps_rss(pid):
    """Resident set size in KiB from /proc/PID/smaps_rollup: summed over
    the mappings, exact (VmRSS in status is the kernel's cached counter,
    which may lag a little); None if the file has no Rss line."""
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            if line.startswith("Rss:"):
                return int(line.split()[1])
    return None


def fd_count(pid):
    """How many descriptors the process has open (/proc/PID/fd)."""
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    """(Rss from smaps_rollup, VmHWM from status) in KiB; None for what
    could not be read (the process is gone)."""
    rss = hwm = None
    try:
        rss = smaps_rss(pid)
        hwm = proc_status(pid).get("hwm")
    except OSError:
        pass
    return rss, hwm


def proc_stats(pid):
    """{'rss', 'hwm', 'threads', 'fds'} of a live process (KiB for the
    first two; VmRSS, not smaps_rollup: cheap enough to sample every
    second), or None if it is gone."""
    try:
        out = proc_status(pid)
        out["fds"] = fd_count(pid)
    except (OSError, ValueError):
        return None
    return out
