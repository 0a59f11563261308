"""--check output of every shipped profile, byte for byte, against the
goldens in tests/blackbox/golden/check/ (NAME.txt is `--check -p NAME`,
NAME--via-BOX.txt is `--check -p NAME --via BOX`, BOX may be "none"),
with the shipped profiles' directory shown as "profiles/".

The explanation is part of the interface: a refactor of the loader or the
explainer must not change it. When a profile or the explainer changes on
purpose, regenerate the file and review the diff:
    smtp-mimic -P profiles --check -p NAME [--via BOX] 2>/dev/null \\
      | sed -E 's/^(  OpenSSL: +)OpenSSL 3\\..*$/\\1{linked OpenSSL}/' > FILE
"""
import difflib
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import HERE, PROFILES, run_cli  # noqa: E402

GOLDEN = os.path.join(HERE, "golden", "check")
OPENSSL_LINE = re.compile(r"^(  OpenSSL: +)OpenSSL 3\..*$", re.M)


def golden_cases():
    for f in sorted(os.listdir(GOLDEN)):
        if f.endswith(".txt"):
            name, _, via = f[:-4].partition("--via-")
            yield f, name, via


class CheckGolden(unittest.TestCase):
    def test_every_shipped_profile_has_a_golden(self):
        shipped = {f[:-5] for f in os.listdir(PROFILES) if f.endswith(".yaml")}
        covered = {name for _, name, _ in golden_cases()}
        self.assertEqual(shipped - covered, set())

    def test_check_output_is_unchanged(self):
        for f, name, via in golden_cases():
            with self.subTest(golden=f):
                args = ["-P", PROFILES, "--check", "-p", name]
                if via:
                    args += ["--via", via]
                cp = run_cli(args)
                self.assertEqual(cp.returncode, 0, cp.stderr)
                got = OPENSSL_LINE.sub(r"\1{linked OpenSSL}", cp.stdout)
                # file paths as seen from the source tree's top
                got = got.replace(os.path.join(PROFILES, ""), "profiles/")
                with open(os.path.join(GOLDEN, f)) as fh:
                    want = fh.read()
                if got != want:
                    diff = "".join(difflib.unified_diff(
                        want.splitlines(True), got.splitlines(True),
                        "golden/check/" + f, "got"))
                    self.fail("--check output differs:\n" + diff)


if __name__ == "__main__":
    unittest.main()
