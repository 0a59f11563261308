"""tests/blackbox/lib/clients.py: the rule that keeps CI honest, and the
verdict parsers on outputs the real clients printed (quoted from runs
against exchange2013 and exchange2013-cscwh48138).

need(): a missing tool skips the test with its reason, except under CI,
where it fails it. The parsers: each client's outcome line is found in
its own output, and DELIVERED / CLEARTEXT / REFUSED follows from it. The
real runs are in ../exchange2013*/test_clients.py.
"""
import os
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import clients  # noqa: E402

MISSING = "no-such-client-for-smtp-mimic"

EXIM_TLS = """\
2026-12-03 11:46:36 1xZ5Gm-0003Fh-0a <= gw@esa.lab.test U=root P=local S=309
2026-12-03 11:46:36 1xZ5Gm-0003Fh-0a => user@ex2013.lab.test R=to_mimic \
T=remote_smtp H=127.0.0.1 [127.0.0.1] X=TLS1.2:ECDHE_SECP256R1__RSA_PSS_RSAE_\
SHA256__AES_256_CBC__SHA1:256 CV=no K C="250 2.6.0 <x@ex2013.lab.test> \
[InternalId=1, Hostname=ex2013.lab.test] Queued mail for delivery"
2026-12-03 11:46:36 1xZ5Gm-0003Fh-0a Completed
"""
EXIM_FALLBACK = """\
2026-12-03 11:46:43 1xZ5Gt-0003GS-1V <= gw@esa.lab.test U=root P=local S=309
2026-12-03 11:46:43 1xZ5Gt-0003GS-1V H=127.0.0.1 [127.0.0.1] TLS error on \
connection (recv): The TLS connection was non-properly terminated.
2026-12-03 11:46:43 1xZ5Gt-0003GS-1V TLS session: error on first read: \
delivering unencrypted to H=127.0.0.1 [127.0.0.1] (not in hosts_require_tls)
2026-12-03 11:46:43 1xZ5Gt-0003GS-1V => user@ex2013.lab.test R=to_mimic \
T=remote_smtp H=127.0.0.1 [127.0.0.1] K C="250 2.6.0 <y@ex2013.lab.test> \
[InternalId=2, Hostname=ex2013.lab.test] Queued mail for delivery"
2026-12-03 11:46:43 1xZ5Gt-0003GS-1V Completed
"""
EXIM_DEFER = """\
2026-12-03 11:46:24 1xZ5Ga-0003Bx-2b <= gw@esa.lab.test U=root P=local S=309
2026-12-03 11:46:24 1xZ5Ga-0003Bx-2b == user@ex2013.lab.test R=to_mimic \
T=remote_smtp defer (111): Connection refused
"""


class Need(unittest.TestCase):
    def test_missing_tool_skips_without_ci(self):
        with mock.patch.dict(os.environ):
            os.environ.pop("CI", None)
            os.environ.pop("SMTP_MIMIC_REQUIRE_TOOLS", None)
            with self.assertRaises(unittest.SkipTest) as cm:
                clients.need(self, MISSING)
        self.assertIn(MISSING + " not installed", str(cm.exception))

    def test_missing_tool_fails_under_ci(self):
        with mock.patch.dict(os.environ, {"CI": "true"}):
            with self.assertRaises(self.failureException) as cm:
                clients.need(self, MISSING)
        self.assertIn("requires the clients, and " + MISSING +
                      " not installed", str(cm.exception))

    def test_missing_tool_fails_under_test_sh(self):
        with mock.patch.dict(os.environ, {"SMTP_MIMIC_REQUIRE_TOOLS": "1"}):
            os.environ.pop("CI", None)
            with self.assertRaises(self.failureException):
                clients.need(self, MISSING)

    def test_present_tool_passes(self):
        with mock.patch.dict(os.environ, {"CI": "true"}):
            clients.need(self, "python3")


class EximVerdict(unittest.TestCase):
    """clients.exim reads its main log; the parsing, on logs Exim wrote."""

    def verdict(self, log):
        with mock.patch.object(clients, "_run", return_value=(0, "")), \
                mock.patch("builtins.open", mock.mock_open(read_data=log)):
            return clients.exim(2525, self.dir)

    def setUp(self):
        import tempfile
        import shutil
        self.dir = tempfile.mkdtemp(prefix="mimic-clients-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def test_delivered_inside_tls(self):
        o = self.verdict(EXIM_TLS)
        self.assertEqual(o.result, clients.DELIVERED)
        self.assertTrue(o.line.startswith("=> user@ex2013.lab.test "))
        self.assertIn(" X=TLS1.2:", o.line)

    def test_fell_back_to_clear_text(self):
        o = self.verdict(EXIM_FALLBACK)
        self.assertEqual(o.result, clients.CLEARTEXT)
        self.assertEqual(o.line, "TLS session: error on first read: "
                         "delivering unencrypted to H=127.0.0.1 "
                         "[127.0.0.1] (not in hosts_require_tls)")

    def test_deferred_is_refused(self):
        o = self.verdict(EXIM_DEFER)
        self.assertEqual(o.result, clients.REFUSED)
        self.assertTrue(o.line.startswith("== user@ex2013.lab.test "))


if __name__ == "__main__":
    unittest.main()
