"""exchange2013: the authentication surface and the replies FACTS.md 1
sources for EHLO inside TLS, HELP and HELO.

- EHLO in plaintext is FACTS.md 1's list (AUTH NTLM only); after STARTTLS
  the re-EHLO is the same list without STARTTLS and X-ANONYMOUSTLS, with
  "AUTH NTLM LOGIN" in place of "AUTH NTLM" (ehlo.keywords_tls), byte for
  byte, read with Python ssl and with openssl s_client -starttls smtp.
- AUTH LOGIN is offered only inside TLS: in plaintext it gets the
  profile's auth_mechanism (a 504, RFC 4954 4; model choice: no Exchange
  text is sourced) and smtplib finds no mechanism it can use; inside TLS
  swaks and smtplib log in with auth.credentials and are refused with a
  wrong password (their own outcome lines asserted).
- AUTH NTLM follows MS-SMTPNTLM 2.2.1 / 4.2: "AUTH NTLM" alone gets "334
  ntlm supported", a NEGOTIATE message "334 <CHALLENGE_MESSAGE>", which is
  decoded here field by field (MS-NLMP 2.2.1.2) and must carry the
  profile's auth.ntlm names; the challenge follows --seed; the client's
  AUTHENTICATE gets auth_failed, "*" auth_cancelled.
- nmap's smtp-ntlm-info reads the names (it sends a bare "AUTH NTLM",
  ignores the 334, then its NEGOTIATE: the MS-SMTPNTLM flow). It tries
  STARTTLS first: against profiles/exchange2013-notls (tls disabled)
  STARTTLS gets 454 and nmap asks in plaintext, where FACTS.md 1 lists AUTH
  NTLM; against exchange2013 itself it asks inside TLS (its ClientHello offers
  DHE-RSA-AES256-SHA, which the exchange2013-cscwh48138 scenario would cut;
  the healthy peer takes it).
- The general capability: auth-tls-only (a fixture) has no AUTH and no
  8BITMIME in plaintext and both inside TLS.

The TLS clients offer only TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384 (Schannel's
first suite, FACTS.md 2), which no rule of the profile reacts to. Reply
texts FACTS.md does not give (auth_ok, auth_failed, auth_mechanism,
auth_cancelled) are read from `--check`'s Replies section, so the test
asserts what the profile says, whatever file it inherits them from.
"""
import base64
import os
import re
import smtplib
import socket
import ssl
import struct
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from harness import PROFILES, ServerTest, have, run_cli  # noqa: E402
import clients  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ARGS = ["--profile-path", os.path.join(HERE, "profiles"),
        "--profile-path", PROFILES]

from exchange2013 import EHLO_REPLY, EHLO_REPLY_TLS, STARTTLS_READY  # noqa: E402
HELP = ["214-This server supports the following commands:",   # FACTS.md 1
        "214 HELO EHLO STARTTLS RCPT DATA RSET MAIL QUIT HELP AUTH BDAT"]
HELO = "250 ex2013.lab.test Hello [127.0.0.1]"   # FACTS.md 1 (model choice)
MAIL_OK = "250 2.1.0 Sender OK"                  # FACTS.md 1
QUIT = "221 2.0.0 Service closing transmission channel"  # FACTS.md 1
NTLM_SUPPORTED = "334 ntlm supported"            # MS-SMTPNTLM 4.2

# The profile's model choices (exchange2013.yaml, auth:)
USER, PASSWORD = "tester@lab.test", "Exch2013!"
NAMES = {"netbios_domain": "LAB", "netbios_computer": "EX2013",
         "dns_domain": "lab.test", "dns_computer": "ex2013.lab.test"}
SUITE = "ECDHE-RSA-AES256-SHA384"  # TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384

# nmap's NEGOTIATE_MESSAGE (scripts/smtp-ntlm-info.nse)
NEGOTIATE = "TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw=="


def profile_replies(profile="exchange2013"):
    """{reply key: text} from --check's Replies section (one-line ones)."""
    cp = run_cli(["-P", os.path.join(HERE, "profiles"), "-P", PROFILES,
                  "--check", "-p", profile])
    if cp.returncode != 0:
        raise AssertionError(cp.stderr)
    part = re.split(r"\nReplies[^\n]*\n", cp.stdout, 1)[1].split("\n\n", 1)[0]
    out = {}
    for line in part.splitlines():
        m = re.match(r"  (\w+) +(\d{3}[ -].*)\Z", line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


REPLIES = profile_replies()


def tls_context():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(SUITE)
    return ctx


def u16(b, at):
    return struct.unpack_from("<H", b, at)[0]


def u32(b, at):
    return struct.unpack_from("<I", b, at)[0]


def decode_challenge(b64):
    """A CHALLENGE_MESSAGE (MS-NLMP 2.2.1.2), field by field."""
    m = base64.b64decode(b64, validate=True)
    out = {"signature": m[0:8], "type": u32(m, 8), "flags": u32(m, 20),
           "challenge": m[24:32], "reserved": m[32:40],
           "version": (m[48], m[49], u16(m, 50), m[52:55], m[55])}
    tlen, tmax, toff = u16(m, 12), u16(m, 14), u32(m, 16)
    out["target_name"] = m[toff:toff + tlen].decode("utf-16-le")
    out["target_fields"] = (tlen, tmax, toff)
    ilen, imax, ioff = u16(m, 40), u16(m, 42), u32(m, 44)
    out["info_fields"] = (ilen, imax, ioff)
    out["length"] = len(m)
    avs, at = [], ioff
    while at < ioff + ilen:
        av_id, av_len = u16(m, at), u16(m, at + 2)
        avs.append((av_id, m[at + 4:at + 4 + av_len]))
        at += 4 + av_len
        if av_id == 0:
            break
    out["avs"] = avs
    out["info_end"] = at
    return out


class Exchange2013Auth(ServerTest):

    def start_ex(self, profile="exchange2013", seed=1):
        return self.start(profile, ARGS, seed=seed)

    def hello(self, srv):
        c = srv.connect()
        c.banner()
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY)
        return c

    def starttls(self, c):
        self.assertEqual(c.cmd("STARTTLS"), [STARTTLS_READY])
        c.sock = tls_context().wrap_socket(c.sock)

    # --- EHLO before and after TLS, HELP, HELO --------------------------

    def test_ehlo_inside_tls_byte_for_byte(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.starttls(c)
        c.send("EHLO client.lab.test\r\n")
        want = "".join(line + "\r\n" for line in EHLO_REPLY_TLS).encode()
        got = b""
        c.sock.settimeout(5)
        while not got.endswith(b"250 XRDST\r\n"):
            chunk = c.sock.recv(4096)
            self.assertTrue(chunk, "closed after %r" % got)
            got += chunk
        self.assertEqual(got, want)
        # and again, as a client that asks twice gets it
        self.assertEqual(c.cmd("EHLO again.lab.test"),
                         [EHLO_REPLY_TLS[0]] + EHLO_REPLY_TLS[1:])
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        self.assertEqual(c.ending(), ("fin", b""))

    def test_plain_ehlo_unchanged_by_tls_list(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.assertEqual(c.cmd("EHLO again.lab.test"), EHLO_REPLY)
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def test_help_and_helo(self):
        srv = self.start_ex()
        c = srv.connect()
        c.banner()
        c.send("HELP\r\n")
        self.assertEqual(c.reply(), HELP)
        self.assertEqual(c.cmd("HELO client.lab.test"), [HELO])
        # after HELO, no ESMTP: AUTH is not there (RFC 4954 4)
        self.assertEqual(c.cmd("HELP"), HELP)
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    @unittest.skipUnless(have("openssl"), "openssl not installed")
    def test_s_client_sees_the_tls_list(self):
        srv = self.start_ex()
        cp = subprocess.run(
            ["openssl", "s_client", "-starttls", "smtp", "-crlf",
             "-connect", "127.0.0.1:%d" % srv.port, "-cipher", SUITE,
             "-no_tls1_3", "-quiet", "-ign_eof"],
            input=b"EHLO client.lab.test\nQUIT\n", stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, timeout=20)
        out = cp.stdout.decode()
        # -quiet prints what follows the handshake: the re-EHLO, QUIT
        self.assertEqual(out.split("\r\n"), EHLO_REPLY_TLS + [QUIT, ""],
                         cp.stderr.decode())

    # --- AUTH LOGIN: only inside TLS ------------------------------------

    def test_login_refused_in_plaintext(self):
        srv = self.start_ex()
        c = self.hello(srv)
        want = REPLIES["auth_mechanism"]
        self.assertRegex(want, r"^504 ")  # RFC 4954 4
        self.assertEqual(c.cmd("AUTH LOGIN"), [want])
        self.assertEqual(c.cmd("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q="), [want])
        # not a bad command of the client's: the session goes on
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def test_smtplib_finds_no_login_in_plaintext(self):
        srv = self.start_ex()
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as smtp:
            smtp.ehlo("client.lab.test")
            self.assertEqual(smtp.esmtp_features["auth"].strip(), "NTLM")
            with self.assertRaises(smtplib.SMTPException) as cm:
                smtp.login(USER, PASSWORD)
            self.assertEqual(str(cm.exception),
                             "No suitable authentication method found.")

    def test_login_inside_tls(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.starttls(c)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY_TLS)
        self.assertEqual(c.cmd("AUTH LOGIN"), ["334 VXNlcm5hbWU6"])
        self.assertEqual(c.cmd(base64.b64encode(USER.encode()).decode()),
                         ["334 UGFzc3dvcmQ6"])
        self.assertEqual(c.cmd(base64.b64encode(PASSWORD.encode()).decode()),
                         [REPLIES["auth_ok"]])
        self.assertRegex(REPLIES["auth_ok"], r"^235 ")
        self.assertEqual(c.cmd("QUIT"), [QUIT])
        srv.wait_event(lambda e: e["dir"] == "info" and e["text"] ==
                       'authentication succeeded for user "%s" (LOGIN)'
                       % USER)

    def test_login_inside_tls_wrong_password(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.starttls(c)
        c.cmd("EHLO client.lab.test")
        user = base64.b64encode(USER.encode()).decode()
        self.assertEqual(c.cmd("AUTH LOGIN " + user), ["334 UGFzc3dvcmQ6"])
        self.assertEqual(c.cmd(base64.b64encode(b"wrong").decode()),
                         [REPLIES["auth_failed"]])
        self.assertRegex(REPLIES["auth_failed"], r"^535 ")
        # RFC 4954 4: "*" cancels
        self.assertEqual(c.cmd("AUTH LOGIN"), ["334 VXNlcm5hbWU6"])
        self.assertEqual(c.cmd("*"), [REPLIES["auth_cancelled"]])
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def test_smtplib_login_inside_tls(self):
        srv = self.start_ex()
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as smtp:
            smtp.ehlo("client.lab.test")
            smtp.starttls(context=tls_context())
            smtp.ehlo("client.lab.test")
            self.assertEqual(smtp.esmtp_features["auth"].strip(),
                             "NTLM LOGIN")
            self.assertNotIn("starttls", smtp.esmtp_features)
            self.assertNotIn("x-anonymoustls", smtp.esmtp_features)
            code, text = smtp.login(USER, PASSWORD)
            self.assertEqual("%d %s" % (code, text.decode()),
                             REPLIES["auth_ok"])
        with smtplib.SMTP("127.0.0.1", srv.port, timeout=10) as smtp:
            smtp.starttls(context=tls_context())
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                smtp.login(USER, "wrong")
            self.assertEqual("%d %s" % (cm.exception.smtp_code,
                                        cm.exception.smtp_error.decode()),
                             REPLIES["auth_failed"])

    def swaks(self, srv, password):
        cp = subprocess.run(
            ["swaks", "--server", "127.0.0.1:%d" % srv.port,
             "--tls", "--tls-cipher", SUITE, "--auth", "LOGIN",
             "--auth-user", USER, "--auth-password", password,
             "--helo", "client.lab.test", "--from", "a@lab.test",
             "--to", "b@ex2013.lab.test", "--timeout", "15"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=30)
        return cp.returncode, cp.stdout.decode("utf-8", "replace")

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_login_inside_tls(self):
        srv = self.start_ex()
        rc, out = self.swaks(srv, PASSWORD)
        self.assertEqual(rc, 0, out)
        lines = out.splitlines()
        self.assertIn("<~  250-AUTH NTLM LOGIN", lines)
        self.assertIn(" ~> AUTH LOGIN", lines)
        self.assertIn("<~  334 VXNlcm5hbWU6", lines)
        self.assertIn("<~  334 UGFzc3dvcmQ6", lines)
        self.assertIn("<~  " + REPLIES["auth_ok"], lines)
        self.assertIn("<~  " + QUIT, lines)
        self.assertEqual(len(srv.messages()), 1)

    @unittest.skipUnless(have("swaks"), "swaks not installed")
    def test_swaks_wrong_password_inside_tls(self):
        srv = self.start_ex()
        rc, out = self.swaks(srv, "wrong")
        self.assertEqual(rc, 28, out)  # swaks: error in AUTH
        self.assertIn("<~* " + REPLIES["auth_failed"], out.splitlines())
        self.assertEqual(srv.messages(), [])

    # --- ehlo.keywords_tls as a generic capability ----------------------

    def test_generic_tls_only_list(self):
        # auth-tls-only: no AUTH keyword in plaintext, so AUTH is an
        # unknown command there (RFC 4954 3: AUTH exists only as EHLO
        # offers it), as is BODY=8BITMIME; inside TLS both work.
        replies = profile_replies("auth-tls-only")
        srv = self.start("auth-tls-only", ARGS)
        c = srv.connect()
        c.banner()
        self.assertEqual(c.cmd("EHLO client.test"),
                         ["250-mx.lab.test", "250-PIPELINING",
                          "250 STARTTLS"])
        self.assertEqual(c.cmd("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q="),
                         [replies["unknown_command"]])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> BODY=8BITMIME"),
                         [replies["param_unknown"].replace("{param}",
                                                           "BODY")])
        self.assertEqual(c.cmd("STARTTLS"), [replies["starttls_ready"]])
        c.sock = tls_context().wrap_socket(c.sock)
        self.assertEqual(c.cmd("EHLO client.test"),
                         ["250-mx.lab.test", "250-PIPELINING",
                          "250-8BITMIME", "250 AUTH PLAIN LOGIN"])
        self.assertEqual(c.cmd("AUTH PLAIN dGVzdAB0ZXN0AHRlc3Q="),
                         [replies["auth_ok"]])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test> BODY=8BITMIME"),
                         [replies["mail_ok"]])
        self.assertEqual(c.cmd("QUIT"), [replies["quit"]])

    # --- AUTH NTLM (MS-SMTPNTLM, MS-NLMP) -------------------------------

    def ntlm_challenge(self, c):
        """AUTH NTLM, then nmap's NEGOTIATE: the decoded CHALLENGE."""
        self.assertEqual(c.cmd("AUTH NTLM"), [NTLM_SUPPORTED])
        got = c.cmd(NEGOTIATE)
        self.assertEqual(len(got), 1)
        self.assertTrue(got[0].startswith("334 "), got)
        return decode_challenge(got[0][4:])

    def check_challenge(self, ch):
        self.assertEqual(ch["signature"], b"NTLMSSP\0")
        self.assertEqual(ch["type"], 2)
        # MS-SMTPNTLM 4.2's flags with TARGET_TYPE_DOMAIN (0x10000) for
        # TARGET_TYPE_SERVER (0x20000): UNICODE, REQUEST_TARGET, SIGN,
        # SEAL, NTLM, ALWAYS_SIGN, DOMAIN, ESS, TARGET_INFO, VERSION, 128,
        # KEY_EXCH, 56
        self.assertEqual(ch["flags"], 0xe2898235)
        self.assertEqual(ch["reserved"], b"\0" * 8)
        self.assertEqual(ch["target_name"], "LAB")
        self.assertEqual(ch["target_fields"], (6, 6, 56))
        ilen, imax, ioff = ch["info_fields"]
        self.assertEqual((imax, ioff), (ilen, 62))
        self.assertEqual(ch["info_end"], ch["length"])
        ids = [i for i, _ in ch["avs"]]
        self.assertEqual(ids, [2, 1, 4, 3, 7, 0])  # MS-NLMP 2.2.2.1
        avs = dict(ch["avs"])
        self.assertEqual(avs[2].decode("utf-16-le"), NAMES["netbios_domain"])
        self.assertEqual(avs[1].decode("utf-16-le"),
                         NAMES["netbios_computer"])
        self.assertEqual(avs[4].decode("utf-16-le"), NAMES["dns_domain"])
        self.assertEqual(avs[3].decode("utf-16-le"), NAMES["dns_computer"])
        self.assertEqual(avs[0], b"")
        # MsvAvTimestamp: a FILETIME of now (100 ns since 1601)
        ft = struct.unpack("<Q", avs[7])[0]
        self.assertLess(abs(ft / 1e7 - 11644473600 - time.time()), 60)
        # VERSION: Windows Server 2012 R2, 6.3 build 9600, revision 15
        self.assertEqual(ch["version"], (6, 3, 9600, b"\0\0\0", 15))

    def test_ntlm_challenge_in_plaintext(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.check_challenge(self.ntlm_challenge(c))
        # the AUTHENTICATE (type 3) is refused: no NT hashes here
        auth = (b"NTLMSSP\0" + struct.pack("<I", 3) + b"\0" * 16 +
                struct.pack("<HHI", 6, 6, 64) +       # DomainName
                struct.pack("<HHI", 12, 12, 70) +     # UserName
                b"\0" * 16 + struct.pack("<I", 1) +   # flags: UNICODE
                "LAB".encode("utf-16-le") + "tester".encode("utf-16-le"))
        self.assertEqual(c.cmd(base64.b64encode(auth).decode()),
                         [REPLIES["auth_failed"]])
        srv.wait_event(lambda e: e["dir"] == "info" and e["text"] ==
                       'authentication failed for user "LAB\\tester" '
                       '(NTLM)')
        self.assertEqual(c.cmd("MAIL FROM:<a@lab.test>"), [MAIL_OK])
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def test_ntlm_initial_response_inside_tls(self):
        srv = self.start_ex()
        c = self.hello(srv)
        self.starttls(c)
        self.assertEqual(c.cmd("EHLO client.lab.test"), EHLO_REPLY_TLS)
        got = c.cmd("AUTH NTLM " + NEGOTIATE)
        self.check_challenge(decode_challenge(got[0][4:]))
        self.assertEqual(c.cmd("*"), [REPLIES["auth_cancelled"]])
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def test_ntlm_bad_messages(self):
        srv = self.start_ex()
        c = self.hello(srv)
        syntax = REPLIES["syntax_error"]
        self.assertEqual(c.cmd("AUTH NTLM"), [NTLM_SUPPORTED])
        self.assertEqual(c.cmd("not base64!"), [syntax])
        self.assertEqual(c.cmd("AUTH NTLM"), [NTLM_SUPPORTED])
        self.assertEqual(c.cmd(base64.b64encode(b"hello").decode()),
                         [syntax])
        self.assertEqual(c.cmd("AUTH NTLM"), [NTLM_SUPPORTED])
        self.assertEqual(c.cmd("*"), [REPLIES["auth_cancelled"]])
        self.assertEqual(c.cmd("QUIT"), [QUIT])

    def challenge_bytes(self, seed):
        srv = self.start_ex(seed=seed)
        c = self.hello(srv)
        got = c.cmd("AUTH NTLM " + NEGOTIATE)[0]
        c.cmd("*")
        c.cmd("QUIT")
        return decode_challenge(got[4:])["challenge"]

    def test_ntlm_challenge_follows_seed(self):
        a, b, other = (self.challenge_bytes(5), self.challenge_bytes(5),
                       self.challenge_bytes(6))
        self.assertEqual(a, b)
        self.assertNotEqual(a, other)
        self.assertNotEqual(a, b"\0" * 8)

    def nmap_ntlm_info(self, srv):
        """nmap's smtp-ntlm-info against srv: the lines it prints."""
        # "+" runs the script on a port nmap does not take for SMTP
        cp = subprocess.run(
            ["nmap", "-Pn", "-n", "-p", str(srv.port),
             "--script", "+smtp-ntlm-info", "127.0.0.1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, timeout=30)
        out = cp.stdout.decode()
        self.assertEqual(cp.returncode, 0, out)
        lines = [line for line in out.splitlines() if line.startswith("|")]
        self.assertEqual(lines[:6], [
            "| smtp-ntlm-info: ",
            "|   Target_Name: LAB",
            "|   NetBIOS_Domain_Name: LAB",
            "|   NetBIOS_Computer_Name: EX2013",
            "|   DNS_Domain_Name: lab.test",
            "|   DNS_Computer_Name: ex2013.lab.test",
        ], out)
        self.assertIn("|_  Product_Version: 6.3.9600", lines)

    def test_nmap_smtp_ntlm_info_plaintext(self):
        clients.need(self, "nmap")
        srv = self.start_ex("exchange2013-notls")
        self.nmap_ntlm_info(srv)
        # in plaintext: STARTTLS got 454, then a fresh session asked
        ev = srv.events()
        texts = [(e["dir"], e["text"]) for e in ev if e["dir"] in ("C", "S")]
        self.assertIn(("S", REPLIES["tls_unavailable"]), texts)
        self.assertIn(("C", "AUTH NTLM"), texts)
        self.assertIn(("S", NTLM_SUPPORTED), texts)
        self.assertFalse([e for e in ev if e["dir"] == "tls"])

    def test_nmap_smtp_ntlm_info_after_starttls(self):
        clients.need(self, "nmap")
        srv = self.start_ex()
        self.nmap_ntlm_info(srv)
        # nmap's session: STARTTLS, the handshake, then NTLM inside TLS
        ev = srv.events()
        sid = next(e["session"] for e in ev
                   if e["dir"] == "C" and e["text"] == "AUTH NTLM")
        seq = [(e["dir"], e["text"]) for e in ev if e["session"] == sid and
               (e["dir"] in ("C", "S") or e["text"].startswith(
                   "handshake done"))]
        i = seq.index(("C", "STARTTLS"))
        self.assertTrue(seq[i + 2][1].startswith("handshake done"), seq)
        self.assertEqual(seq[i + 4:i + 4 + len(EHLO_REPLY_TLS)],
                         [("S", line)
                          for line in EHLO_REPLY_TLS])
        self.assertIn(("S", NTLM_SUPPORTED), seq)


if __name__ == "__main__":
    unittest.main()
