"""scripts/soak.sh --smoke: the soak still runs end to end.

A "does not rot" test, not a load test: it runs the soak's smoke mode (about
20 s, ~200 sessions of every client kind against one server per soak
profile, a 3 s idle timeout) against the binary under test ($SMTP_MIMIC),
and checks that it exits 0 and writes a summary in which every check ran
and passed. No timing is asserted. Under a sanitizer build the soak scales
itself down (and does not judge RSS).
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import BINARY, TOP  # noqa: E402

SOAK = os.path.join(TOP, "scripts", "soak.sh")
CHECKS = ("a. accepted messages in spool exactly once", "b. spool/tmp empty",
          "c. RSS back near idle", "d. no fd leaked",
          "e. server always answered", "f. clean exits")


class SoakSmoke(unittest.TestCase):
    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="soak-smoke-")
        self.addCleanup(shutil.rmtree, self.out, True)

    def test_smoke_run_passes_every_check(self):
        cp = subprocess.run(
            [SOAK, "--smoke", "--binary", BINARY, "--out", self.out],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=240)
        log = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, log[-6000:])

        md = os.path.join(self.out, "summary.md")
        self.assertTrue(os.path.exists(md), log[-2000:])
        self.assertTrue(os.path.exists(os.path.join(self.out, "summary.json")))
        with open(md) as f:
            table = f.read()
        for check in CHECKS:
            rows = [r for r in table.splitlines()
                    if r.startswith("| " + check)]
            self.assertEqual(len(rows), 1, "no row for %r in:\n%s"
                             % (check, table))
            self.assertIn("| PASS |", rows[0])
        # The load really ran: messages were accepted and found.
        self.assertRegex(table, r"\| a\. [^|]*\| PASS \| [1-9]\d* accepted")


if __name__ == "__main__":
    unittest.main()
