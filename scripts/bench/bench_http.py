"""bench_http.py - the HTTP API row of bench.py: the same SMTP load against
smtp-mimic with --http 127.0.0.1:0 and one Server-Sent Events subscriber
reading /api/v1/events the whole time (contender "mimic") and against the
same smtp-mimic without --http ("ref"), alternating A B A B in one run. The
ratio is the throughput kept with the API on; the issue's target is >= 0.9.
The subscriber counts the transcript lines it got, checked after each run
(one or more per message: it really read)."""
import json
import os
import subprocess
import time

HOST = "127.0.0.1"


class SseReader:
    """One SSE subscriber as a client nobody here wrote: curl -N reading
    /api/v1/events into grep -c, which counts its "data:" lines. Both are
    C programs, so on a 2-CPU machine the row measures the server's cost
    of the stream, not a Python chunked-transfer decoder's."""

    def __init__(self, port):
        url = "http://%s:%d/api/v1/events" % (HOST, port)
        self.curl = subprocess.Popen(
            ["curl", "-sSN", "--fail", url], stdout=subprocess.PIPE)
        self.grep = subprocess.Popen(
            ["grep", "-c", "^data: "], stdin=self.curl.stdout,
            stdout=subprocess.PIPE)
        self.curl.stdout.close()  # grep holds the pipe now
        self.lines = 0

    def start(self):
        pass  # running since __init__

    def is_alive(self):
        return self.curl.poll() is None

    def stop(self):
        if self.curl.poll() is None:
            self.curl.terminate()
        self.curl.wait(10)
        out, _ = self.grep.communicate(timeout=10)
        self.lines = int(out.strip() or b"0")


def http_addr(ready, timeout=15):
    """The "http" address of a --ready-file, once written."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(ready) as f:
                return json.load(f)["http"]
        except (OSError, ValueError, KeyError):
            time.sleep(0.02)
    raise OSError("no ready file %s" % ready)


def fig_http(b, error):
    """Bench b's "http" rows; error(msg) is the bench's exception type."""
    for (size, reuse), msgs in b.cfg["http"].items():
        fig = "msgs/s --http on + 1 SSE reader, plain 1 KB, %s" % (
            "reused conn (-d)" if reuse else "1 conn/msg")

        def one(c, run, reuse=reuse, msgs=msgs, size=size):
            extra = {}
            ready = os.path.join(b.work, "ready-%d-%d.json" % (run, reuse))
            srv = b.start(c, "http", ready=ready if c == "mimic" else None)
            reader = None
            try:
                if c == "mimic":
                    port = int(http_addr(ready).rsplit(":", 1)[1])
                    reader = SseReader(port)
                    reader.start()
                v = b.smtp_source(srv.port, size, reuse, msgs)
                srv.check_alive()
                if reader is not None:
                    time.sleep(0.2)  # the last lines on their way
                    reader.stop()
                    if reader.lines < msgs:
                        raise error("SSE reader got %d lines for %d "
                                    "messages" % (reader.lines, msgs))
                    extra["_sse_lines"] = reader.lines
            finally:
                if reader is not None and reader.is_alive():
                    reader.stop()
                b.stop(srv)
            return dict(extra, **{fig: v})
        b.measure("http", [(fig, "msgs/s", "higher")], ["mimic", "ref"], one)
