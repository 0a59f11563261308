"""Start-up as a new user meets it (issue 9, item 6): where profiles are
found, --list-profiles that finds none, --profile-path naming no directory,
and --listen values (junk refused, localhost resolved, port 0 accepted and
the bound port logged and shown by --check).

Each error is asserted whole: its one line on stderr and its exit status.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import (BINARY, Client, ServerTest, free_port,  # noqa: E402
                     profile_args, run_cli, sanitizer_report)

BANNER = ["220 mx.lab.test ESMTP smtp-mimic"]
QUIT = ["221 2.0.0 Bye"]
SEARCH_HEADER = "Profiles are looked up in each --profile-path DIR, then in:"


def run_binary(binary, args, cwd):
    """run_cli for another copy of the binary, from cwd."""
    cp = subprocess.run([binary] + list(args), cwd=cwd,
                        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, timeout=30)
    cp.stdout = cp.stdout.decode("utf-8", "replace")
    cp.stderr = cp.stderr.decode("utf-8", "replace")
    if sanitizer_report(cp.stderr):
        raise AssertionError("sanitizer report:\n" + cp.stderr)
    return cp


def builtin_dirs(binary=BINARY):
    """The built-in profile directories, as --help lists them."""
    out = run_binary(binary, ["--help"], cwd="/").stdout.splitlines()
    start = out.index(SEARCH_HEADER)
    return [ln.strip() for ln in out[start + 1:] if ln.startswith("  ")]


class Outside(unittest.TestCase):
    """A binary somewhere else than its build tree, run from a directory
    with no profiles/ in it."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mimic-elsewhere-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.binary = os.path.join(self.dir, "smtp-mimic")
        shutil.copy2(BINARY, self.binary)

    def run_here(self, *args):
        return run_binary(self.binary, args, cwd=self.dir)

    def test_copied_binary_finds_standard(self):
        cp = self.run_here("--check")
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertEqual(cp.stdout.splitlines()[-1], "profile standard: OK")
        file_line = [ln for ln in cp.stdout.splitlines()
                     if ln.startswith("  file:")][0]
        self.assertTrue(file_line.endswith("/profiles/standard.yaml"),
                        file_line)

    def test_copied_binary_lists_the_shipped_profiles(self):
        cp = self.run_here("--list-profiles")
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertRegex(cp.stdout, r"(?m)^  standard +well-behaved RFC 5321")

    def test_help_names_the_builtin_dirs(self):
        dirs = builtin_dirs(self.binary)
        # The configured install dir, then the source tree's profiles/.
        self.assertGreaterEqual(len(dirs), 2, dirs)
        self.assertTrue(dirs[-2].endswith("/share/smtp-mimic/profiles"),
                        dirs)
        self.assertTrue(os.path.isfile(os.path.join(dirs[-1],
                                                     "standard.yaml")), dirs)

    def test_profile_path_comes_first(self):
        mine = os.path.join(self.dir, "mine")
        os.mkdir(mine)
        with open(os.path.join(mine, "esa.yaml"), "w") as f:
            f.write("name: esa\ndescription: \"not the shipped esa\"\n"
                    "extends: standard\n")
        cp = self.run_here("--check", "--profile", "esa",
                           "--profile-path", mine)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertIn("  description:   not the shipped esa\n", cp.stdout)
        self.assertIn("  file:          %s/esa.yaml\n" % mine, cp.stdout)


class ProfilePath(unittest.TestCase):
    def test_missing_directory(self):
        missing = os.path.join(tempfile.gettempdir(), "mimic-no-such-dir-%d"
                               % os.getpid())
        want = "smtp-mimic: --profile-path %s: no such directory\n" % missing
        for args in (["--check"], ["--list-profiles"],
                     ["--listen", "127.0.0.1:%d" % free_port(),
                      "--spool", "none"]):
            with self.subTest(args=args):
                cp = run_cli(args + ["--profile-path", missing]
                             + profile_args())
                self.assertEqual((cp.returncode, cp.stdout, cp.stderr),
                                 (1, "", want))

    def test_not_a_directory(self):
        with tempfile.NamedTemporaryFile(prefix="mimic-") as f:
            cp = run_cli(["--check", "--profile-path", f.name])
            self.assertEqual((cp.returncode, cp.stdout, cp.stderr),
                             (1, "", "smtp-mimic: --profile-path %s: not a "
                              "directory\n" % f.name))


class ListNothing(unittest.TestCase):
    """--list-profiles with no profile anywhere. The binary always has the
    source tree's profiles/ to fall back on, so the test runs a copy whose
    built-in directory names are changed (same length) to ones that do not
    exist: the source tree moved away, nothing installed."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mimic-nothing-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.binary = os.path.join(self.dir, "smtp-mimic")
        with open(BINARY, "rb") as f:
            image = f.read()
        source = builtin_dirs()[-1]
        self.assertIn(source.encode() + b"\0", image,
                      "the source tree's profiles/ is not in the binary")
        for d in builtin_dirs():
            old_b = d.encode() + b"\0"
            if old_b not in image:  # found next to the binary at run time
                continue
            # Only the first path component changes, so no other string
            # sharing the tail of this one is touched.
            first = d.split("/")[1]
            for ch in "ZYXW":
                new = "/" + ch * len(first) + d[1 + len(first):]
                if not os.path.exists(new):
                    break
            image = image.replace(old_b, new.encode() + b"\0")
        with open(self.binary, "wb") as f:
            f.write(image)
        os.chmod(self.binary, 0o755)
        self.gone = builtin_dirs(self.binary)
        for d in self.gone:
            if os.path.exists(d):
                self.skipTest("%s exists on this host" % d)
        self.empty = os.path.join(self.dir, "empty")
        os.mkdir(self.empty)

    def test_nothing_found_says_where_it_looked(self):
        self.assertGreaterEqual(len(self.gone), 2, self.gone)
        cp = run_binary(self.binary, ["--list-profiles",
                                      "--profile-path", self.empty],
                        cwd=self.dir)
        looked = ", ".join([self.empty] + ["%s (no such directory)" % d
                                           for d in self.gone])
        self.assertEqual((cp.returncode, cp.stdout, cp.stderr),
                         (1, "", "smtp-mimic: --list-profiles: no profile "
                          "found in %s; add one with --profile-path DIR\n"
                          % looked))

    def test_a_profile_in_the_flag_dir_is_enough(self):
        shutil.copy(os.path.join(builtin_dirs()[-1], "standard.yaml"),
                    self.empty)
        cp = run_binary(self.binary, ["--list-profiles",
                                      "--profile-path", self.empty],
                        cwd=self.dir)
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertRegex(cp.stdout, r"^smtp-mimic:\n  standard +well-behaved RFC 5321")


NOT_AN_ADDRESS = ("not an address (use PORT, ADDR:PORT or [IPV6]:PORT, e.g. "
                  "127.0.0.1:2525, with /tls for implicit TLS)")
BAD_LISTEN = [
    ("127.0.0.1:2525junk", 'bad port "2525junk" (a number from 0 to 65535; '
                           '0 lets the kernel pick one)'),
    ("2525junk", 'bad port "2525junk" (a number from 0 to 65535; 0 lets '
                 'the kernel pick one)'),
    ("127.0.0.1:65536", 'bad port "65536" (a number from 0 to 65535; 0 '
                        'lets the kernel pick one)'),
    ("127.0.0.1:", 'bad port "" (a number from 0 to 65535; 0 lets the '
                   'kernel pick one)'),
    ("mx.example:25", 'not an address: "mx.example" is not an IPv4 '
                      'address, an [IPv6] address or localhost (other host '
                      'names are not looked up)'),
    ("1.2.3:25", 'not an address: "1.2.3" is not an IPv4 address, an '
                 '[IPv6] address or localhost (other host names are not '
                 'looked up)'),
    ("[::g]:25", 'not an address: "::g" is not an IPv6 address'),
    ("::1:25", NOT_AN_ADDRESS),
    ("127.0.0.1", NOT_AN_ADDRESS),
]


class Listen(ServerTest):
    def test_bad_values_refused(self):
        for spec, why in BAD_LISTEN:
            with self.subTest(spec=spec):
                line = "--listen %s: %s\n" % (spec, why)
                cp = run_cli(["--listen", spec, "--spool", "none"]
                             + profile_args())
                self.assertEqual((cp.returncode, cp.stderr),
                                 (1, "smtp-mimic: fatal: " + line))
                cp = run_cli(["--check", "--listen", spec] + profile_args())
                self.assertEqual((cp.returncode, cp.stdout, cp.stderr),
                                 (1, "", "smtp-mimic: " + line))

    def test_bad_value_creates_no_spool(self):
        d = tempfile.mkdtemp(prefix="mimic-")
        self.addCleanup(shutil.rmtree, d, True)
        spool = os.path.join(d, "spool")
        cp = run_cli(["--listen", "127.0.0.1:25x", "--spool", spool]
                     + profile_args())
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertFalse(os.path.exists(spool))

    def test_localhost(self):
        srv = self.start("standard", listen=["localhost:{port}"])
        self.assertIn("listening on 127.0.0.1:%d (--listen localhost:%d, 1 "
                      "worker)" % (srv.port, srv.port), srv.log())
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("QUIT"), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))

    def test_port_zero_on_several_workers(self):
        srv = self.start("standard", listen=["127.0.0.1:0"],
                         args=["--workers", "3"])
        m = re.search(r"listening on 127\.0\.0\.1:(\d+) \(--listen "
                      r"127\.0\.0\.1:0, 3 workers\)", srv.log())
        self.assertIsNotNone(m, srv.log())
        port = int(m.group(1))
        self.assertNotEqual(port, 0)
        # Every worker listens on the one port the kernel picked.
        clients = []
        for _ in range(6):
            c = Client(port)
            srv.clients.append(c)
            self.assertEqual(c.reply(), BANNER)
            clients.append(c)
        for c in clients:
            self.assertEqual(c.cmd("QUIT"), QUIT)
            self.assertEqual(c.ending(), ("fin", b""))

    def test_bare_port_zero_with_tls(self):
        srv = self.start("standard", listen=["127.0.0.1:{port}", "0/tls"])
        self.assertRegex(srv.log(), r"listening on 127\.0\.0\.1:[1-9]\d*/tls"
                                    r" \(--listen 0/tls, 1 worker\)")

    def test_log_names_the_bound_address(self):
        srv = self.start("standard", listen=["{port}"])
        self.assertIn("listening on 127.0.0.1:%d (--listen %d, 1 worker)"
                      % (srv.port, srv.port), srv.log())

    def test_check_shows_the_addresses(self):
        cp = run_cli(["--check", "--listen", "127.0.0.1:2525",
                      "--listen", "0/tls", "--listen", "[::1]:0",
                      "--listen", "localhost:0"] + profile_args())
        self.assertEqual(cp.returncode, 0, cp.stderr)
        lines = cp.stdout.splitlines()
        start = lines.index("Listening (--listen)")
        self.assertEqual(lines[start + 1:start + 4], [
            "  127.0.0.1:2525           127.0.0.1:2525",
            "  0/tls                    127.0.0.1, port chosen at start, "
            "implicit TLS",
            "  [::1]:0                  [::1], port chosen at start"])
        # localhost: 127.0.0.1, and [::1] too where the hosts file says so.
        self.assertRegex(lines[start + 4],
                         r"^  localhost:0              (\[::1\] and )?"
                         r"127\.0\.0\.1( and \[::1\])? \(localhost's "
                         r"loopback address(es)?\), (one )?port chosen at "
                         r"start( for all)?$")
        self.assertEqual(lines[start + 5:], ["", "profile standard: OK"])

    def test_check_without_listen_shows_none(self):
        cp = run_cli(["--check"] + profile_args())
        self.assertEqual(cp.returncode, 0, cp.stderr)
        self.assertNotIn("Listening", cp.stdout)

    def test_check_tls_listener_needs_a_tls_profile(self):
        cp = run_cli(["--check", "--profile", "esa", "--listen", "465/tls"]
                     + profile_args())
        self.assertEqual((cp.returncode, cp.stdout, cp.stderr),
                         (1, "", "smtp-mimic: --listen 465/tls: profile esa "
                          "has no tls: section, so it cannot serve implicit "
                          "TLS\n"))


class CertFlags(unittest.TestCase):
    """--cert/--key (issue 11, item 5): given to a profile that has no
    tls: section they are an error naming the flags, not silently ignored;
    a file that does not load is named by its flag, never by an internal
    variable (cert_file, key_file). Serving and --check say the same."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="mimic-certflags-")
        cls.cert = os.path.join(cls.dir, "cert.pem")
        cls.key = os.path.join(cls.dir, "key.pem")
        cls.other = os.path.join(cls.dir, "other-key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                        "-nodes", "-subj", "/CN=flags.test", "-days", "2",
                        "-keyout", cls.key, "-out", cls.cert],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       check=True, timeout=60)
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA",
                        "-pkeyopt", "rsa_keygen_bits:2048", "-out",
                        cls.other], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, True)

    def both_modes(self, profile, cert, key):
        """(serve, --check) runs with these flags."""
        flags = ["--profile", profile, "--cert", cert, "--key", key]
        serve = run_cli(flags + ["--listen", "127.0.0.1:%d" % free_port(),
                                 "--spool", "none"] + profile_args(),
                        timeout=10)
        check = run_cli(flags + ["--check"] + profile_args(), timeout=10)
        return serve, check

    def assert_one_line(self, profile, cert, key, line):
        for mode, cp in zip(("serve", "--check"),
                            self.both_modes(profile, cert, key)):
            with self.subTest(mode=mode):
                self.assertEqual((cp.returncode, cp.stdout, cp.stderr),
                                 (1, "", "smtp-mimic: " + line + "\n"))

    def test_profile_without_tls_refuses_the_flags(self):
        self.assert_one_line(
            "esa", self.cert, self.key,
            "--cert/--key given, but profile esa has no tls: section "
            "(TLS disabled); add one or drop the flags")

    def test_missing_cert_names_the_flag(self):
        missing = os.path.join(self.dir, "missing-cert.pem")
        self.assert_one_line("standard", missing, self.key,
                             "--cert %s: No such file or directory"
                             % missing)

    def test_missing_key_names_the_flag(self):
        missing = os.path.join(self.dir, "missing-key.pem")
        self.assert_one_line("standard", self.cert, missing,
                             "--key %s: No such file or directory" % missing)

    def test_cert_that_is_no_pem_names_the_flag(self):
        junk = os.path.join(self.dir, "junk.pem")
        with open(junk, "w") as f:
            f.write("not a certificate\n")
        self.assert_one_line("standard", junk, self.key,
                             "--cert %s: no start line" % junk)

    def test_key_of_another_cert_names_the_flag(self):
        for mode, cp in zip(("serve", "--check"),
                            self.both_modes("standard", self.cert,
                                            self.other)):
            with self.subTest(mode=mode):
                self.assertEqual((cp.returncode, cp.stdout), (1, ""))
                self.assertRegex(cp.stderr, r"^smtp-mimic: --key %s: "
                                 r"[^\n]+\n$" % re.escape(self.other))
                self.assertNotIn("_file", cp.stderr)


if __name__ == "__main__":
    unittest.main()
