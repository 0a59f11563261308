"""scripts/lib/mimic.py: the helpers the harness, bench and soak share.

Checks the process wrapper against small shell processes (one that exits
at start, one that is never ready, one that ignores SIGTERM, one that
writes to stderr), the ready checks against a socket this test listens
on, the sanitizer marks, and the /proc readers on this process. It does
not run smtp-mimic: every other black-box test does that through it.
"""
import os
import shutil
import signal
import socket
import sys
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(TOP, "scripts", "lib"))
import mimic  # noqa: E402


class ProcessTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mimic-lib-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()

    def start(self, script):
        p = mimic.Process(["sh", "-c", script],
                          os.path.join(self.dir, "stderr-%d" % len(self.procs)))
        self.procs.append(p)
        return p

    def test_exit_at_start_is_not_ready_with_its_status(self):
        p = self.start("echo bad flag >&2; exit 3")
        with self.assertRaises(mimic.NotReady) as cm:
            p.wait_ready(lambda: False, 10)
        self.assertEqual(cm.exception.returncode, 3)
        self.assertEqual(p.read_stderr(), "bad flag\n")

    def test_never_ready_times_out(self):
        p = self.start("exec sleep 30")
        with self.assertRaises(mimic.NotReady) as cm:
            p.wait_ready(lambda: False, 0.3)
        self.assertIsNone(cm.exception.returncode)
        p.kill()
        self.assertIsNotNone(p.proc.returncode)
        self.assertTrue(p.stderr.closed)

    def test_ready_on_a_stderr_line_then_sigterm(self):
        p = self.start("echo starting >&2; echo listening on x >&2; "
                       "exec sleep 30")
        p.wait_ready(lambda: "listening on" in p.read_stderr(), 10)
        self.assertEqual(p.read_stderr(tail=5), "on x\n")
        self.assertTrue(p.terminate(signal.SIGTERM, 10))
        self.assertEqual(p.proc.returncode, -signal.SIGTERM)
        self.assertTrue(p.stderr.closed)

    def test_sigterm_ignored_is_killed(self):
        p = self.start("trap '' TERM; echo up >&2; "
                       "while :; do sleep 0.05; done")
        p.wait_ready(lambda: "up" in p.read_stderr(), 10)
        self.assertFalse(p.terminate(signal.SIGTERM, 0.3))
        self.assertEqual(p.proc.returncode, -signal.SIGKILL)

    def test_sanitizer_report_in_stderr(self):
        p = self.start("echo '==1==ERROR: AddressSanitizer: x' >&2; "
                       "head -c 5000 /dev/zero >&2")
        p.proc.wait(10)
        self.assertEqual(p.sanitizer_report(), ["ERROR: AddressSanitizer"])
        self.assertNotIn("AddressSanitizer", p.read_stderr(tail=2000))


class HelpersTest(unittest.TestCase):
    def test_sanitizer_marks(self):
        cases = [("clean", "smtp-mimic: listening on 127.0.0.1:25\n", []),
                 ("asan", "==7==ERROR: AddressSanitizer: heap-use-after-free",
                  ["ERROR: AddressSanitizer"]),
                 ("lsan", "==7==ERROR: LeakSanitizer: detected memory leaks",
                  ["ERROR: LeakSanitizer"]),
                 ("ubsan", "io.c:12:3: runtime error: signed integer overflow",
                  ["runtime error:"])]
        for label, text, want in cases:
            self.assertEqual(mimic.sanitizer_report(text), want, label)

    def test_ready_checks_see_a_listener(self):
        port = mimic.free_port()
        self.assertEqual(mimic.listeners(port), 0)
        self.assertFalse(mimic.port_accepts("127.0.0.1", port))
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
            s.listen()
            self.assertEqual(mimic.listeners(port), 1)
            self.assertTrue(mimic.port_accepts("127.0.0.1", port))

    def test_proc_readers(self):
        st = mimic.proc_stats(os.getpid())
        self.assertEqual(sorted(st), ["fds", "hwm", "rss", "threads"])
        self.assertGreater(st["rss"], 0)
        self.assertGreaterEqual(st["hwm"], st["rss"])
        rss, hwm = mimic.rss_kib(os.getpid())
        self.assertGreater(rss, 0)
        self.assertGreater(hwm, 0)
        gone = mimic.Process(["true"], os.devnull)
        gone.proc.wait()
        gone.kill()
        self.assertIsNone(mimic.proc_stats(gone.pid))
        self.assertEqual(mimic.rss_kib(gone.pid), (None, None))

    def test_source_socket(self):
        s = mimic.source_socket("127.0.0.1")
        with s:
            self.assertFalse(s.getblocking())
            self.assertEqual(s.getsockname(), ("127.0.0.1", 0))


if __name__ == "__main__":
    unittest.main()
