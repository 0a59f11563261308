"""test_repro.py - scripts/repro-cscwh48138.sh keeps telling FACTS.md 3's story.

The script is what a QA lab runs first: against the scenario profile
exchange2013-cscwh48138 it must print FAILS for the two AsyncOS 15.0
cipher strings and DELIVERS for the workaround, with the transcript lines
that prove it, and exit 0.
"""
import os
import re
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from harness import BINARY, TOP, free_port  # noqa: E402
from clients import need  # noqa: E402


class Repro(unittest.TestCase):
    def test_script_verdicts(self):
        need(self, "swaks")
        script = os.path.join(TOP, "scripts", "repro-cscwh48138.sh")
        cp = subprocess.run([script, "--binary", BINARY, "--port",
                             str(free_port())],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, timeout=60)
        out = cp.stdout.decode("utf-8", "replace")
        self.assertEqual(cp.returncode, 0, out)
        self.assertIn(" as exchange2013-cscwh48138 on 127.0.0.1:", out)
        verdicts = re.findall(r"^\d\. .*?\s(FAILS|DELIVERS)\b", out, re.M)
        self.assertEqual(verdicts, ["FAILS", "FAILS", "DELIVERS"], out)
        self.assertEqual(out.count("close fin (CSCwh48138)"), 2, out)
        self.assertEqual(out.count("Remote host closed connection "
                                   "unexpectedly"), 2, out)
        self.assertIn("250 2.6.0 <", out)
        self.assertIn("verdict: as FACTS.md 3 says", out)


if __name__ == "__main__":
    unittest.main()
