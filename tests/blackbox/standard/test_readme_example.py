"""test_readme_example.py - the README's pytest example, run as a user would.

The README's "Drive it from a test suite" section holds a pytest file
(after the marker <!-- readme-example: test_mail.py -->). This test cuts
that block out of README.md, writes it to a temporary directory and runs it
with pytest against the built binary, so the example a new user copies is
the one that works: port 0, the ready file, smtplib, /api/v1/wait, the
message read back through the API, and an injected `close: rst` rule that
the client meets as a reset.
"""
import os
import re
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import harness  # noqa: E402

HAVE_PYTEST = harness.with_modules("pytest")
MARK = "<!-- readme-example: test_mail.py -->"


def readme_example():
    with open(os.path.join(harness.TOP, "README.md"), encoding="utf-8") as f:
        text = f.read()
    at = text.index(MARK)
    m = re.compile(r"```python\n(.*?)```", re.S).search(text, at)
    return m.group(1)


class ReadmeExample(unittest.TestCase):
    def test_block_is_found(self):
        code = readme_example()
        self.assertIn("def test_mail_then_a_reset", code)
        self.assertIn("--ready-file", code)

    @unittest.skipUnless(HAVE_PYTEST, "pytest is not installed")
    def test_example_passes(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "test_mail.py")
            with open(path, "w", encoding="utf-8") as f:
                f.write(readme_example())
            env = dict(os.environ, SMTP_MIMIC=harness.BINARY)
            cp = subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p",
                 "no:cacheprovider", path],
                cwd=tmp, env=env, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, text=True, timeout=120)
            self.assertEqual(cp.returncode, 0, cp.stdout)
            self.assertRegex(cp.stdout, r"\b1 passed\b")


if __name__ == "__main__":
    unittest.main()
