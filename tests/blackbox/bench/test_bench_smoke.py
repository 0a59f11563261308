"""scripts/bench.sh --smoke: the benchmark still runs end to end.

A "does not rot" test, not a speed test: it runs every measurement path of
the benchmark with tiny counts against the binary under test ($SMTP_MIMIC),
and checks that the Markdown table and the PNG plot are written and that
every row has a numeric ratio (a failed measurement, such as a server that
crashed under load, shows up as a FAILED cell instead). No timing is
asserted: the numbers from a smoke run mean nothing. The limit columns
(the canned-reply server, scripts/bench/canned.c, in the plain throughput
rows; openssl s_server in the TLS handshake row) carry a number where they
apply and a dash elsewhere.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import BINARY, TOP  # noqa: E402

BENCH = os.path.join(TOP, "scripts", "bench.sh")
TOOLS = ("smtp-sink", "smtp-source", "openssl", "gnuplot", "cc")


def have(tool):
    return (shutil.which(tool) or
            any(os.access(os.path.join(d, tool), os.X_OK)
                for d in ("/usr/sbin", "/sbin")))


class BenchSmoke(unittest.TestCase):
    def setUp(self):
        missing = [t for t in TOOLS if not have(t)]
        if missing:
            # scripts/test.sh installs them (scripts/deps.sh --test).
            self.fail("missing %s: run scripts/deps.sh --test" % missing)
        self.out = tempfile.mkdtemp(prefix="bench-smoke-")
        self.addCleanup(shutil.rmtree, self.out, True)

    def test_smoke_run_writes_table_and_plot(self):
        cp = subprocess.run(
            [BENCH, "--smoke", "--binary", BINARY, "--out", self.out],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=280)
        log = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, log[-4000:])

        md = os.path.join(self.out, "bench.md")
        png = os.path.join(self.out, "bench.png")
        self.assertTrue(os.path.exists(md), log[-2000:])
        with open(png, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(png), 1000)

        with open(md, encoding="utf-8") as f:
            table = f.read()
        rows = [line for line in table.splitlines()
                if line.startswith("| ") and not line.startswith("| figure")]
        self.assertIn("| figure | smtp-mimic (median) | reference (median) "
                      "| ratio mimic/ref | limit (median) "
                      "| ratio mimic/limit | runs |", table)
        # Every measurement path has its row.
        for fig in ("msgs/s plain 1 KB, 1 conn/msg",
                    "msgs/s plain 1 KB, reused conn (-d)",
                    "msgs/s plain 100 KB, 1 conn/msg",
                    "msgs/s plain 100 KB, reused conn (-d)",
                    "server CPU per message, plain 1 KB, 1 conn/msg",
                    "server CPU per message, plain 100 KB, reused conn (-d)",
                    "server CPU per message, spool 1 KB, 1 conn/msg",
                    "msgs/s spool 1 KB, 1 conn/msg",
                    "msgs/s spool 100 KB, reused conn (-d)",
                    "TLS handshakes/s", "STARTTLS sessions/s",
                    "NOOPs answered within 1 s", "last NOOP answered after",
                    "server peak RSS",
                    "bytes/session", "msgs/s (1 KB, -d) beside them",
                    "server CPU per message beside them",
                    "msgs/s JSON transcript on, plain 1 KB, 1 conn/msg",
                    "msgs/s JSON transcript on, plain 1 KB, reused conn",
                    "latency p50", "latency p99"):
            self.assertTrue(any(fig in r for r in rows),
                            "no row for %r in:\n%s" % (fig, table))
        for r in rows:
            cells = [c.strip() for c in r.strip("|").split("|")]
            self.assertEqual(len(cells), 7, r)
            self.assertRegex(cells[3], r"^\d+(\.\d+)?$",
                             "ratio is not a number in: %s" % r)
            self.assertTrue(re.match(r"^\d+\+\d+(\+\d+ A/B/L| A/B)$",
                                     cells[6]), r)
            limited = (r.startswith("| msgs/s plain ") or
                       r.startswith("| server CPU per message, plain ") or
                       r.startswith("| TLS handshakes/s"))
            if limited:
                self.assertRegex(cells[4], r"^\d+(\.\d+)?$", r)
                self.assertRegex(cells[5], r"^\d+(\.\d+)?$",
                                 "limit ratio is not a number in: %s" % r)
            else:
                self.assertEqual(cells[4:6], ["—", "—"], r)
        # The canned server joined the plain rows' rotation.
        self.assertRegex(table, r"\| msgs/s plain 1 KB, 1 conn/msg .*"
                                r"\| \d+\+\d+\+\d+ A/B/L \|")
        # The transcript rows name their reference; the idle levels get
        # a cost-per-message summary (one line per contender).
        self.assertIn("ref smtp-mimic, no transcript", table)
        self.assertRegex(table, r"- smtp-mimic: N=\d+: [\d.]+ µs; "
                                r"N=\d+ / N=\d+ = \d+\.\d\d")


if __name__ == "__main__":
    unittest.main()
