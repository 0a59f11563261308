"""Rules from fixture profiles that extend standard: each action at each
hook, what goes on the wire, how the connection ends, and the transcript's
"rule" event naming the rule and its why."""
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from harness import ServerTest  # noqa: E402

BANNER = ["220 mx.lab.test ESMTP smtp-mimic"]
MAIL_OK = ["250 2.1.0 Ok"]
RCPT_OK = ["250 2.1.5 Ok"]
DATA_START = ["354 End data with <CR><LF>.<CR><LF>"]
NOOP_OK = ["250 2.0.0 Ok"]
QUIT = ["221 2.0.0 Bye"]
UNKNOWN = ["500 5.5.2 Error: command not recognized"]
HELP = ["214 2.0.0 See RFC 5321"]
VRFY = ["252 2.0.0 Cannot VRFY user, but will accept message and attempt "
        "delivery"]
QUEUED = r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$"


class Rules(ServerTest):
    def session(self, srv):
        c = srv.connect()
        self.assertEqual(c.reply(), BANNER)
        self.assertEqual(c.cmd("HELO client.test"), ["250 mx.lab.test"])
        return c

    def quit(self, c):
        self.assertEqual(c.cmd("QUIT"), QUIT)
        self.assertEqual(c.ending(), ("fin", b""))

    def rule_events(self, srv, name=None):
        return [e for e in srv.events() if e["dir"] == "rule"
                and (name is None or e["rule"] == name)]

    def assert_fired(self, srv, name, why, session=None, times=1):
        srv.wait_event(lambda e: e["dir"] == "rule" and e["rule"] == name)
        evs = self.rule_events(srv, name)
        self.assertEqual(len(evs), times, evs)
        for ev in evs:
            self.assertEqual(ev["why"], why)
            if session is not None:
                self.assertEqual(ev["session"], session)
        return evs

    def closed_how(self, srv, session=1):
        return srv.wait_event(lambda e: e["session"] == session
                              and e["dir"] == "close")["text"]

    # --- command rules --------------------------------------------------

    def test_reply_rule(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        self.assertEqual(c.cmd("NOOP rule"), ["250 2.0.0 Ok (rule)"])
        self.assertEqual(c.cmd("noop RULE"), ["250 2.0.0 Ok (rule)"])
        self.assertEqual(c.cmd("NOOP other"), NOOP_OK)
        self.quit(c)
        evs = self.assert_fired(srv, "noop-reply",
                                "fixture: a rule's reply replaces the "
                                "engine's", session=1, times=2)
        self.assertEqual(evs[0]["text"], "command NOOP ~ /^rule$/")
        # The reply line itself names the rule that caused it.
        sent = [e for e in srv.events()
                if e["dir"] == "S" and e["text"] == "250 2.0.0 Ok (rule)"]
        self.assertEqual([e.get("rule") for e in sent], ["noop-reply"] * 2)

    def test_nth_use(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        self.assertEqual(c.cmd("HELP"), HELP)
        self.assertEqual(c.cmd("HELP"), ["214-2.0.0 second help",
                                         "214 2.0.0 from a rule"])
        self.assertEqual(c.cmd("HELP"), HELP)
        self.quit(c)
        # nth counts per session.
        c = self.session(srv)
        self.assertEqual(c.cmd("HELP"), HELP)
        self.assertEqual(c.cmd("HELP"), ["214-2.0.0 second help",
                                         "214 2.0.0 from a rule"])
        self.quit(c)
        self.assert_fired(srv, "second-help",
                          "fixture: only the second HELP of a session",
                          times=2)

    def test_arg_regex(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<unknown1@d.test>"),
                         ["550 5.1.1 User unknown"])
        self.assertEqual(c.cmd("RCPT TO:<known@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("RCPT TO: <Unknown2@d.test>"),
                         ["550 5.1.1 User unknown"])
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send("Subject: r\r\n\r\nx\r\n")
        self.assertRegex(c.cmd(".")[0], QUEUED)
        self.quit(c)
        (body, env), = srv.messages()
        # The rule's reply took the command's place: not a recipient.
        self.assertEqual(env["rcpt_to"], ["known@d.test"])
        self.assert_fired(srv, "tarpit-unknown",
                          "fixture: reject recipients whose local part "
                          "starts with unknown", times=2)

    def test_delay_then_normal_reply(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        # Pipelined behind the delayed command: answered after it, in order.
        c.send("VRFY slowly\r\nNOOP\r\n")
        self.assertEqual(c.reply(), VRFY)
        self.assertEqual(c.reply(), NOOP_OK)
        self.quit(c)
        self.assert_fired(srv, "slow-vrfy", "fixture: a delay and nothing "
                          "else: the normal reply follows")

    def test_close_fin_with_reply(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        c.send("XFIN\r\nNOOP\r\n")
        self.assertEqual(c.ending(), ("fin",
                                      b"421 4.7.0 closing (rule)\r\n"))
        self.assertEqual(self.closed_how(srv), "fin (fin-after-reply)")
        self.assert_fired(srv, "fin-after-reply", "fixture: reply, then FIN")

    def test_close_fin_with_normal_reply(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        self.assertEqual(c.cmd("NOOP fin"), NOOP_OK)
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(self.closed_how(srv), "fin (fin-normal-reply)")

    def test_close_silent(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        c.send("XSILENT\r\n")
        self.assertEqual(c.ending(), ("fin", b""))
        self.assert_fired(srv, "silent-close",
                          "fixture: nothing at all, then FIN")
        self.assertEqual(self.closed_how(srv), "fin (silent-close)")

    def test_close_rst(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        c.send("XRST\r\n")
        how, data = c.ending()
        self.assertEqual(how, "rst")
        # The reply may be lost with the reset; if it arrived, it is whole.
        self.assertIn(data, (b"", b"554 5.7.1 go away (rule)\r\n"))
        self.assertEqual(self.closed_how(srv), "rst (reset)")
        sent = [e["text"] for e in srv.events() if e["dir"] == "S"]
        self.assertEqual(sent[-1], "554 5.7.1 go away (rule)")
        self.assert_fired(srv, "reset", "fixture: reply, then RST")

    def test_hang(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        c.send("XHANG\r\nNOOP\r\n")
        # Nothing at all, then the FIN after hang_timeout (1s).
        self.assertEqual(c.ending(), ("fin", b""))
        self.assertEqual(self.closed_how(srv), "fin (hang timeout)")
        self.assert_fired(srv, "hang-up", "fixture: stop answering; FIN "
                          "after hang_timeout")
        # Other sessions were served meanwhile and after.
        c2 = self.session(srv)
        self.quit(c2)

    def test_times_cap_is_per_process(self):
        srv = self.start("std-rules")
        c = self.session(srv)
        self.assertEqual(c.cmd("XTWICE"), ["250 2.0.0 counted (rule)"])
        self.quit(c)
        c = self.session(srv)
        self.assertEqual(c.cmd("XTWICE"), ["250 2.0.0 counted (rule)"])
        self.assertEqual(c.cmd("XTWICE"), UNKNOWN)
        self.quit(c)
        c = self.session(srv)
        self.assertEqual(c.cmd("XTWICE"), UNKNOWN)
        self.quit(c)
        self.assert_fired(srv, "twice-only", "fixture: fires on the first "
                          "two uses in the process only", times=2)

    def coin_flips(self, seed, sessions=20):
        srv = self.start("std-rules", seed=seed)
        out = []
        for _ in range(sessions):
            c = self.session(srv)
            r = c.cmd("XCOIN")
            self.assertIn(r, (["250 2.0.0 heads (rule)"], UNKNOWN))
            out.append(r == ["250 2.0.0 heads (rule)"])
            self.quit(c)
        fired = self.rule_events(srv, "coin")
        self.assertEqual(len(fired), sum(out))
        for ev in fired:
            self.assertEqual(ev["why"], "fixture: fires half the time")
            self.assertEqual(ev["text"], "command XCOIN (p=0.5)")
        srv.stop()
        return out

    def test_probability_is_seeded(self):
        a = self.coin_flips(7)
        self.assertEqual(self.coin_flips(7), a)
        b = self.coin_flips(8)
        self.assertNotEqual(a, b)
        # A fair-ish coin: both outcomes occur.
        self.assertTrue(0 < sum(a) < 20, a)
        self.assertTrue(0 < sum(b) < 20, b)

    # --- connect, header and data rules ---------------------------------

    def test_connect_rule_replaces_greeting(self):
        srv = self.start("std-connect")
        c = srv.connect()
        self.assertEqual(c.reply(), ["220-rule.lab.test first line",
                                     "220 rule.lab.test ESMTP (rule)"])
        # The session then goes on as usual.
        self.assertEqual(c.cmd("HELO client.test"), ["250 mx.lab.test"])
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.quit(c)
        evs = self.assert_fired(srv, "loopback-banner",
                                "fixture: loopback clients get another "
                                "banner", session=1)
        self.assertEqual(evs[0]["text"], "connect from ~^127\\.")

    def test_header_rule_rst_keeps_nothing(self):
        srv = self.start("std-content")
        c = self.session(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send("Subject: signed\r\ndkim-signature: v=1; a=rsa-sha256\r\n"
               "\r\nbody\r\n.\r\n")
        how, data = c.ending()
        self.assertEqual((how, data), ("rst", b""))
        self.assertEqual(self.closed_how(srv), "rst (no-dkim)")
        self.assert_fired(srv, "no-dkim", "fixture: a message with a "
                          "DKIM-Signature is cut with a RST")
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])
        # Without the header, a message is accepted.
        c = self.session(srv)
        r = c.transaction(body="Subject: plain\r\nX-DKIM: no\r\n\r\nbody\r\n")
        self.assertRegex(r[3][0], QUEUED)
        self.quit(c)
        self.assertEqual(len(srv.messages()), 1)

    def test_header_rule_reply_waits_for_end_of_data(self):
        srv = self.start("std-content")
        c = self.session(srv)
        r = c.transaction(body="Subject: a\r\nX-Spam: yes\r\n\r\nbody\r\n")
        self.assertEqual(r, [MAIL_OK, RCPT_OK, DATA_START,
                             ["550 5.7.1 spam refused (rule)"]])
        self.assert_fired(srv, "spam-header", "fixture: a reply at the "
                          "header hook waits for the end of the data")
        self.assertEqual(srv.new_files(), [])
        self.assertEqual(srv.tmp_files(), [])
        self.assertEqual(c.cmd("NOOP"), NOOP_OK)
        self.quit(c)

    def test_data_size_rule(self):
        srv = self.start("std-content")
        c = self.session(srv)
        self.assertEqual(c.cmd("MAIL FROM:<a@b.test>"), MAIL_OK)
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"), RCPT_OK)
        self.assertEqual(c.cmd("DATA"), DATA_START)
        c.send("Subject: big\r\n\r\n" + ("x" * 98 + "\r\n") * 30)
        # The reply waits for the end of the data.
        self.assertEqual(c.cmd("."), ["552 5.3.4 too big for the rule"])
        self.assert_fired(srv, "big-data", "fixture: over 2000 bytes of "
                          "data gets a rule's 552 at the end")
        # The transaction is over and the session goes on.
        self.assertEqual(c.cmd("RCPT TO:<c@d.test>"),
                         ["503 5.5.1 Error: need MAIL command"])
        # 1900 bytes in lines under RFC 5321's 1000-octet text line limit.
        r = c.transaction(body="Subject: small\r\n\r\n" +
                          ("y" * 948 + "\r\n") * 2)
        self.assertRegex(r[3][0], QUEUED)
        self.quit(c)
        (body, env), = srv.messages()
        self.assertIn(b"Subject: small", body)
        self.assertEqual(srv.tmp_files(), [])


if __name__ == "__main__":
    unittest.main()
