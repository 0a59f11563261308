"""Logging to the systemd journal: when stderr is the stream JOURNAL_STREAM
names (device:inode, as systemd sets it for a unit), the program's lines
carry their syslog priority ("<6>smtp-mimic: ...") and the readable
transcript leaves out its time of day (the journal stamps each line);
with a JOURNAL_STREAM that names another file, nothing changes."""
import json
import os
import re
import smtplib
import subprocess
import tempfile
import time
import unittest

BINARY = os.environ.get("SMTP_MIMIC", "smtp-mimic")


def serve_once(tmp, journal_of):
    """Run the server with stderr in a file, JOURNAL_STREAM naming the
    file journal_of(stderr file) returns; one EHLO/QUIT; its stderr."""
    err_path = os.path.join(tmp, "stderr")
    ready = os.path.join(tmp, "ready.json")
    with open(err_path, "wb") as err:
        env = dict(os.environ, JOURNAL_STREAM=journal_of(err))
        proc = subprocess.Popen(
            [BINARY, "--listen", "127.0.0.1:0", "--ready-file", ready,
             "--spool", "none"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=tmp)
        try:
            for _ in range(600):
                if os.path.exists(ready) or proc.poll() is not None:
                    break
                time.sleep(0.05)
            host, _, port = json.load(open(ready))["smtp"][0].rpartition(":")
            client = smtplib.SMTP(host, int(port), timeout=30)
            client.ehlo("journal.test")
            client.quit()
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    with open(err_path, encoding="utf-8") as f:
        return f.read().splitlines()


def dev_ino(f):
    st = os.fstat(f.fileno())
    return f"{st.st_dev}:{st.st_ino}"


class Journal(unittest.TestCase):
    def test_stderr_is_the_journal(self):
        with tempfile.TemporaryDirectory() as tmp:
            lines = serve_once(tmp, dev_ino)
        self.assertRegex(lines[1], r"^<6>smtp-mimic: listening on "
                         r"127\.0\.0\.1:\d+ \(--listen 127\.0\.0\.1:0, ")
        self.assertIn("[s1] S: 220 mx.lab.test ESMTP smtp-mimic", lines)
        self.assertIn("[s1] C: ehlo journal.test", lines)
        self.assertEqual(lines[-1],
                         "<6>smtp-mimic: stopped; 0 message(s) accepted")
        for ln in lines:
            self.assertRegex(ln, r"^(<6>smtp-mimic: |\[s1\] )")

    def test_journal_stream_of_another_file(self):
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "other"), "wb") as other:
                lines = serve_once(tmp, lambda err: dev_ino(other))
        self.assertRegex(lines[1], r"^smtp-mimic: listening on ")
        stamped = [ln for ln in lines if "S: 220 " in ln]
        self.assertEqual(len(stamped), 1)
        self.assertRegex(stamped[0], r"^\d\d:\d\d:\d\d\.\d{3} \[s1\] S: 220 "
                         r"mx\.lab\.test ESMTP smtp-mimic$")
        self.assertFalse(any(re.match(r"^<\d>", ln) for ln in lines))


if __name__ == "__main__":
    unittest.main()
