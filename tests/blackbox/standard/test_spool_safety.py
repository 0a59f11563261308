"""test_spool_safety.py - the spool under --user and after a crash.

Privilege (as root; skipped with the reason otherwise, CI runs as root):
--user nobody gets the spool directories the server created and nothing
else -- a pre-existing root-owned directory, the parent of a new spool, a
symlink naming the spool and the target of a symlink inside it keep their
owner; a pre-existing spool nobody can neither own nor write is refused
with one line and a non-zero exit; root is gone before the first client
connects. Crash: SIGKILL during 100 concurrent smtplib transfers; after a
restart on the same spool every message that got its 250 is in new/ byte
for byte with its envelope, new/ holds only complete messages, tmp/ is
empty and the start-up line counts what was removed.

Not here: the sweep's rules file by file (tests/unit/test_spool.c).
"""
import os
import pwd
import shutil
import signal
import smtplib
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from harness import ServerTest, profile_args, run_cli  # noqa: E402


def nobody():
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


def owner(path):
    return os.lstat(path).st_uid


def proc_uids(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    return []


@unittest.skipUnless(os.geteuid() == 0 and nobody() is not None,
                     "needs root and a user nobody (CI runs as root)")
class UserSpool(ServerTest):
    def setUp(self):
        super().setUp()
        self.nobody = nobody()
        self.top = tempfile.mkdtemp(prefix="mimic-user-")
        os.chmod(self.top, 0o755)  # nobody may traverse it, not write

    def tearDown(self):
        super().tearDown()
        shutil.rmtree(self.top, ignore_errors=True)

    def serve(self, spool):
        return self.start(args=["--spool", spool, "--user", "nobody"])

    def refused(self, spool):
        return run_cli(["--profile", "standard"] + profile_args() +
                       ["--listen", "127.0.0.1:0", "--spool", spool,
                        "--user", "nobody"], timeout=20)

    def send_one(self, srv):
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as s:
            s.ehlo("py.test")
            self.assertEqual(s.sendmail("a@b.test", ["c@d.test"],
                                        b"Subject: x\r\n\r\nhi\r\n"), {})

    def test_made_spool_goes_to_user_parent_stays(self):
        spool = os.path.join(self.top, "made", "spool")
        srv = self.serve(spool)
        # root is gone before any client has connected
        self.assertEqual(proc_uids(srv.pid), [self.nobody.pw_uid] * 4)
        for sub in ("", "tmp", "new", "cur", "envelope"):
            self.assertEqual(owner(os.path.join(spool, sub)),
                             self.nobody.pw_uid, sub)
        self.assertEqual(owner(os.path.join(self.top, "made")), 0)
        self.assertEqual(owner(self.top), 0)
        self.send_one(srv)
        (name,) = os.listdir(os.path.join(spool, "new"))
        self.assertEqual(owner(os.path.join(spool, "new", name)),
                         self.nobody.pw_uid)

    def test_root_dir_is_refused_with_one_line(self):
        spool = os.path.join(self.top, "rootdir")
        os.mkdir(spool, 0o755)
        cp = self.refused(spool)
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertEqual(cp.stderr,
                         "smtp-mimic: fatal: --spool %s: owned by root, not "
                         "writable by nobody; chown it or pick another "
                         "directory\n" % spool)
        self.assertEqual(os.listdir(spool), [])  # nothing made in it
        self.assertEqual(owner(spool), 0)

    def test_shared_dir_and_symlink_to_it_keep_their_owner(self):
        shared = os.path.join(self.top, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o1777)  # root's, world-writable: others use it
        link = os.path.join(self.top, "link")
        os.symlink(shared, link)
        srv = self.serve(link)
        self.assertEqual(owner(shared), 0)
        self.assertEqual(owner(link), 0)
        self.assertEqual(os.stat(shared).st_mode & 0o7777, 0o1777)
        # what it made inside is nobody's, and it works
        self.assertEqual(owner(os.path.join(shared, "new")),
                         self.nobody.pw_uid)
        self.send_one(srv)
        self.assertEqual(len(os.listdir(os.path.join(shared, "new"))), 1)

    def test_transcript_symlink_is_not_followed_as_root(self):
        # --transcript is opened as root, before --user drops it: a link
        # planted in a shared directory must not make root append to
        # what it names.
        shared = os.path.join(self.top, "shared")
        os.mkdir(shared)
        os.chmod(shared, 0o1777)
        victim = os.path.join(self.top, "victim")
        with open(victim, "w") as f:
            f.write("root's\n")
        link = os.path.join(shared, "t.jsonl")
        os.symlink(victim, link)
        spool = os.path.join(self.top, "spool")
        cp = run_cli(["--profile", "standard"] + profile_args() +
                     ["--listen", "127.0.0.1:0", "--spool", spool,
                      "--user", "nobody", "--transcript", link], timeout=20)
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertEqual(cp.stderr,
                         "smtp-mimic: fatal: --transcript %s: it is a "
                         "symbolic link, which smtp-mimic does not follow "
                         "as root; name the file itself\n" % link)
        with open(victim) as f:
            self.assertEqual(f.read(), "root's\n")
        self.assertEqual(owner(victim), 0)

    def test_symlink_inside_is_refused_and_target_kept(self):
        spool = os.path.join(self.top, "spool")
        os.mkdir(spool)
        os.chmod(spool, 0o1777)
        secret = os.path.join(self.top, "secret")  # root's, 0700
        os.mkdir(secret, 0o700)
        os.symlink(secret, os.path.join(spool, "new"))
        cp = self.refused(spool)
        self.assertEqual(cp.returncode, 1, cp.stderr)
        self.assertEqual(cp.stderr,
                         "smtp-mimic: fatal: --spool %s: spool: cannot open "
                         "%s/new: it is a symbolic link\n" % (spool, spool))
        self.assertEqual(owner(secret), 0)
        self.assertEqual(os.stat(secret).st_mode & 0o777, 0o700)
        self.assertEqual(owner(os.path.join(spool, "new")), 0)


CLIENTS = 100
CHUNKS = 10
CHUNK = 10 * 1024


def message(i):
    """About 100 KB, CRLF lines, none starting with a dot; unique per i."""
    head = ("From: c%d@load.test\r\nTo: r@load.test\r\nSubject: load %d\r\n"
            "X-Client: %d\r\n\r\n" % (i, i, i)).encode()
    line = ("%03d " % i).encode() + b"x" * 72 + b"\r\n"
    return head + line * ((CHUNKS * CHUNK) // len(line))


class SigkillDuringData(ServerTest):
    def client(self, i, acked, killed):
        """One real smtplib client; the body goes out in CHUNKS pieces
        with pauses, so SIGKILL finds transfers half done."""
        time.sleep(i * 0.03)  # staggered: some done, some mid-DATA
        if killed.is_set():
            return
        msg = message(i)
        try:
            with smtplib.SMTP("127.0.0.1", self.port, timeout=10) as s:
                s.ehlo("load%d.test" % i)
                s.mail("c%d@load.test" % i)
                s.rcpt("r@load.test")
                code, _ = s.docmd("DATA")
                if code != 354:
                    return
                step = len(msg) // CHUNKS + 1
                for k in range(0, len(msg), step):
                    s.send(msg[k:k + step])
                    time.sleep(0.08)
                s.send(b".\r\n")
                code, _ = s.getreply()
                if code == 250:
                    acked[i] = True
        except (OSError, smtplib.SMTPException):
            pass

    def test_nothing_acked_is_lost_nothing_partial_is_kept(self):
        srv = self.start(args=["--workers", "2"])
        self.port = srv.port
        acked, killed = {}, threading.Event()
        threads = [threading.Thread(target=self.client,
                                    args=(i, acked, killed), daemon=True)
                   for i in range(CLIENTS)]
        for t in threads:
            t.start()
        # mid-way: a third of the messages in new/
        deadline = time.monotonic() + 20
        while len(srv.new_files()) < CLIENTS // 3:
            self.assertLess(time.monotonic(), deadline, srv.log())
            time.sleep(0.01)
        srv.send_signal(signal.SIGKILL)
        killed.set()
        self.assertEqual(srv.wait_exit(10), -signal.SIGKILL)
        for t in threads:
            t.join(15)
            self.assertFalse(t.is_alive())
        partial = srv.tmp_files()
        self.assertGreater(len(partial), 0, "no transfer was mid-DATA")

        again = self.start(args=["--spool", srv.spool])
        again.spool = srv.spool  # for tmp_files, new_files, messages
        log = again.wait_log("listening on")
        self.assertIn("smtp-mimic: spool: removed %d partial message(s) from "
                      "%s/tmp left by an earlier run\n"
                      % (len(partial), srv.spool), log)
        self.assertEqual(again.tmp_files(), [])
        new = again.new_files()
        self.assertEqual(again.envelope_files(), [n + ".json" for n in new])
        got = {}
        for body, env in again.messages():
            i = int(env["mail_from"][1:].split("@")[0])
            self.assertEqual(body, message(i))  # complete, byte for byte
            self.assertEqual(env["size"], len(body))
            self.assertEqual(env["rcpt_to"], ["r@load.test"])
            self.assertEqual(env["helo"], "load%d.test" % i)
            self.assertNotIn(i, got)
            got[i] = env
        # every 250 is there; a message may also be there whose 250 the
        # kill kept from the client (committed, reply not yet read)
        self.assertLessEqual(set(acked), set(got))
        print("acked %d, in new/ %d, partial removed %d"
              % (len(acked), len(got), len(partial)))


if __name__ == "__main__":
    unittest.main()
