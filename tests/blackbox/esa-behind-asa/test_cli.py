"""esa-behind-asa: --check, --via errors, --list-profiles, and the demo.

--check explains the profile with its via chain and exits 0; naming a
middlebox as the server, a server as a middlebox, or a box that does not
exist fails with one line on stderr and exit 1. The shipped demo script
scripts/demo-pix-starttls.sh must pass against the binary under test.
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import (BINARY, PROFILES, TOP, free_port, have,  # noqa: E402
                     run_cli, sanitizer_report)

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]


class Check(unittest.TestCase):

    def fails_in_one_line(self, args, *names):
        cp = run_cli(args + ARGS)
        self.assertEqual(cp.returncode, 1, cp.stdout + cp.stderr)
        self.assertEqual(cp.stdout, "")
        lines = cp.stderr.splitlines()
        self.assertEqual(len(lines), 1, cp.stderr)
        for n in names:
            self.assertIn(n, lines[0])
        return lines[0]

    def test_check_esa_behind_asa(self):
        cp = run_cli(["--check", "--profile", "esa-behind-asa"] + ARGS)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        out = cp.stdout
        self.assertIn("  via:           client -> asa-esmtp-inspect -> server\n",
                      out)
        self.assertIn("via 1 of 1: Middlebox asa-esmtp-inspect\n", out)
        # The box is explained: the masks with sequence letters (STARTTLS
        # is XXXXXXXA as the first masked keyword) and the six limits.
        self.assertIn("  others:   mask-sequence (X's of the same length, "
                      "the last one a letter: A for the reply's first "
                      "masked keyword, B for the second, ...)\n", out)
        self.assertIn("  allow_tls: no", out)
        for limit in ("cmd_line_length      > 512",
                      "rcpt_count           > 100",
                      "body_line_length     > 998",
                      "header_line_length   > 998",
                      "sender_length        > 320",
                      "mime_filename_length > 255"):
            self.assertIn(limit, out)
        # The ESA's own EHLO, before the box masks it.
        self.assertIn("  250-SIZE 14680064\n  250 STARTTLS\n", out)
        self.assertEqual(out.rstrip("\n").splitlines()[-1],
                         "profile esa-behind-asa: OK")

    def test_check_via_option_shows_both_boxes_client_side_first(self):
        cp = run_cli(["--check", "--profile", "esa-behind-asa",
                      "--via", "pix-fixup"] + ARGS)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        out = cp.stdout
        self.assertIn("Middlebox pix-fixup\n", out)
        self.assertIn("Middlebox asa-esmtp-inspect\n", out)
        self.assertLess(out.index("Middlebox pix-fixup\n"),
                        out.index("Middlebox asa-esmtp-inspect\n"))

    def test_check_via_none_drops_the_asa(self):
        """--via none: the session has no box (test_seed001 shows it on the
        wire), so --check must not explain the ASA as being in the path."""
        cp = run_cli(["--check", "--profile", "esa-behind-asa",
                      "--via", "none"] + ARGS)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        claims = [ln for ln in cp.stdout.splitlines()
                  if "asa-esmtp-inspect" in ln]
        self.assertEqual(claims, [], "--check --via none still shows the "
                         "profile's own middlebox in the path")

    def test_middlebox_as_profile_fails(self):
        self.fails_in_one_line(["--check", "--profile", "asa-esmtp-inspect"],
                               "asa-esmtp-inspect")
        # Without --check too (the server does not start).
        self.fails_in_one_line(["--profile", "asa-esmtp-inspect",
                                "--listen", "127.0.0.1:%d" % free_port(),
                                "--spool", "none"], "asa-esmtp-inspect")
        # Given as a file, the error says what it is.
        path = os.path.join(PROFILES, "middleboxes", "asa-esmtp-inspect.yaml")
        line = self.fails_in_one_line(["--check", "--profile", path],
                                      "asa-esmtp-inspect")
        self.assertIn("middlebox", line)

    def test_server_as_via_fails(self):
        line = self.fails_in_one_line(["--check", "--profile", "standard",
                                       "--via", "esa"], "--via esa")
        self.assertIn("not a middlebox", line)
        self.fails_in_one_line(["--profile", "standard", "--via", "esa",
                                "--listen", "127.0.0.1:%d" % free_port(),
                                "--spool", "none"], "--via esa")

    def test_unknown_via_fails_naming_it(self):
        line = self.fails_in_one_line(["--check", "--profile",
                                       "esa-behind-asa", "--via",
                                       "nosuchbox"], "nosuchbox")
        self.assertIn("not found", line)

    def test_list_profiles_shows_middleboxes(self):
        cp = run_cli(["--list-profiles"] + ARGS)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        out = cp.stdout
        self.assertRegex(out, r"(?m)^  esa-behind-asa +Cisco ESA with TLS "
                              r"behind an ASA")
        boxes = out[out.index("middleboxes:"):]
        for name in ("asa-esmtp-inspect", "pix-fixup", "pix-fixup-pre723",
                     "pix-fixup-noop", "asa-reset", "asa-allow-tls"):
            self.assertRegex(boxes, r"(?m)^  %s +" % name)


class Demo(unittest.TestCase):

    @unittest.skipUnless(have("swaks") and have("openssl"),
                         "the demo needs swaks and openssl")
    def test_demo_pix_starttls(self):
        # --keep, so the servers' logs can be checked for sanitizer
        # reports (the script does not look at how its servers exit).
        cp = subprocess.run(
            [os.path.join(TOP, "scripts", "demo-pix-starttls.sh"),
             "--binary", BINARY, "--port", str(free_port()), "--keep"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=240)
        out = cp.stdout.decode("utf-8", "replace")
        kept = re.search(r"(?m)^kept: (/\S+)$", out)
        try:
            self.assertEqual(cp.returncode, 0, out)
            self.assertNotIn("FAIL", out)
            self.assertIn("verdict: as seed 001 says", out)
            self.assertIsNotNone(kept, out)
            logs = ""
            for name in ("asa.log", "fixed.log"):
                with open(os.path.join(kept.group(1), name),
                          encoding="utf-8", errors="replace") as f:
                    logs += f.read()
            self.assertIn("stopped;", logs)
            self.assertEqual(sanitizer_report(logs), [], logs)
        finally:
            if kept and kept.group(1).startswith("/tmp/pix-starttls."):
                shutil.rmtree(kept.group(1), ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
