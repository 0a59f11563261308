"""test_repro.py - scripts/repro-cscwh48138.sh keeps telling FACTS.md 3's story.

The script is what a QA lab runs first: it must print FAILS for the two
AsyncOS 15.0 cipher strings and DELIVERS for the workaround, with the
transcript lines that prove it, and exit 0.
"""
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from harness import BINARY, TOP, free_port, have  # noqa: E402


class Repro(unittest.TestCase):
    @unittest.skipUnless(have("swaks"), "swaks missing")
    def test_script_verdicts(self):
        script = os.path.join(TOP, "scripts", "repro-cscwh48138.sh")
        cp = subprocess.run([script, "--binary", BINARY, "--port",
                             str(free_port())],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=180)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, out)
        verdicts = re.findall(r"^\d\. .*?\s(FAILS|DELIVERS)\b", out, re.M)
        self.assertEqual(verdicts, ["FAILS", "FAILS", "DELIVERS"], out)
        self.assertEqual(out.count("close fin (CSCwh48138)"), 2, out)
        self.assertEqual(out.count("Remote host closed connection "
                                   "unexpectedly"), 2, out)
        self.assertIn("250 2.6.0 <", out)
        self.assertIn("verdict: as FACTS.md 3 says", out)


if __name__ == "__main__":
    unittest.main()
