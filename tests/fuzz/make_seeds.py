#!/usr/bin/env python3
"""make_seeds.py - write the seed corpora tests/fuzz/corpus/<target>/.

Each seed is a real input: command lines and messages as the black-box
tests send them, NTLM messages as nmap and Windows send them, the shipped
profiles and their reply templates, conversations through the shipped
boxes, ClientHellos from Python's ssl (OpenSSL) with several settings.
Run it again after changing it (usage: make_seeds.py [TARGET...], default
all; the ClientHellos carry random bytes, so they change on every run);
the files are committed. The fuzzers add
what they find to a scratch copy (scripts/fuzz.sh), never to these.
"""
import base64
import glob
import hashlib
import os
import re
import ssl
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.normpath(os.path.join(HERE, "..", ".."))


def write(target, items):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for old in glob.glob(os.path.join(d, "*")):
        os.remove(old)
    for b in items:
        name = hashlib.sha1(b).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(b)


def smtp_parse():
    lines = [
        "EHLO client.example.org", "HELO [192.0.2.1]", "EHLO [IPv6:2001:db8::1]",
        "MAIL FROM:<alice@example.org>", "MAIL FROM:<>",
        "MAIL FROM:<alice@example.org> SIZE=1024 BODY=8BITMIME",
        "MAIL FROM:<a@b.example> BODY=BINARYMIME SMTPUTF8 RET=HDRS ENVID=QQ314159",
        "MAIL FROM:<a@b.example> AUTH=<> SIZE=0",
        "mail from: bob@example.org",
        "RCPT TO:<bob@example.net>", "RCPT TO:<postmaster>",
        "RCPT TO:<bob@example.net> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob+40example.net",
        "RCPT TO:<bob@example.net> NOTIFY=NEVER",
        "RCPT TO:<@relay.example:bob@example.net>",
        "DATA", "BDAT 1000", "BDAT 0 LAST", "RSET", "NOOP", "QUIT", "VRFY bob",
        "STARTTLS", "HELP", "AUTH LOGIN", "AUTH LOGIN dGVzdGVy",
        "AUTH PLAIN " + base64.b64encode(b"\0tester\0secret").decode(),
        "AUTH PLAIN " + base64.b64encode(b"admin\0tester\0secret").decode(),
        "AUTH PLAIN =", "AUTH NTLM",
        "AUTH NTLM TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==",
        "MAIL FROM:<a\0b@example.org>",
    ]
    return [l.encode() for l in lines]


def ntlm():
    neg = base64.b64decode("TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAGAbEdAAAADw==")

    def auth(flags, dom, user, uni=True):
        enc = (lambda s: s.encode("utf-16-le")) if uni else (lambda s: s.encode())
        d, u, w = enc(dom), enc(user), enc("WS")
        off = 72
        m = bytearray(b"NTLMSSP\0" + struct.pack("<I", 3))
        fields = [b"", b"", d, u, w, b""]  # lm, nt, domain, user, ws, key
        payload = b""
        for f in fields:
            m += struct.pack("<HHI", len(f), len(f), off + len(payload))
            payload += f
        m += struct.pack("<I", flags)
        m += b"\x06\x01\xb1\x1d\0\0\0\x0f"
        return bytes(m) + payload

    msgs = [neg, auth(1, "LAB", "tester"), auth(2, "", "oem", uni=False),
            auth(1, "CONTOSO", "Administrator"), b"NTLMSSP\0\2\0\0\0"]
    # first byte: the output buffer size selector
    # the last: exchange2013's names for ntlm_challenge (cut at '\n')
    return [bytes([i % 5]) + m for i, m in enumerate(msgs)] + [
        b"\x046.3.9600", b"\x04LAB\nEX2013\nlab.test\nex2013.lab.test"]


def template():
    out = set()
    for f in glob.glob(os.path.join(TOP, "profiles", "*.yaml")):
        for m in re.finditer(r'"([0-9]{3}[ -][^"\n]*)"', open(f).read()):
            out.add(m.group(1).encode())
    out |= {b"{{literal} {hostname}", b"{unclosed", b"{nosuch}", b""}
    # the input is also a date_format (template_date): vendors' formats
    dates = {b"%a, %-d %b %Y %H:%M:%S %z (%Z)", b"%a, %d %b %Y %H:%M:%S %z",
             b"%a, %-d %b %Y %H:%M:%S GMT", b"%a %b %e %H:%M:%S %Y",
             b"%^A %_5d %c %n %Q 100%", b"250 ok {unix_time} qp {pid}",
             b"250 2.1.0 OK {session_id} - gsmtp", b"; {ctime}"}
    return sorted(out)[:40] + sorted(dates)


def message():
    msgs = [
        b"Subject: hi\r\nFrom: a@b.example\r\n\r\nbody\r\n.\r\n",
        b"From: a@b.example\r\nFrom: c@d.example\r\nDKIM-Signature: v=1\r\n\r\n..dot\r\n.\r\nQUIT\r\n",
        b"Received: x\r\n\tfolded\r\nReceived: y\r\n\r\nline\nbare lf\r\n.\r\n",
        b"Subject: smuggle\r\n\r\ntext\n.\nMAIL FROM:<x@y>\r\n.\r\n",
        b"no headers at all\r\n.\r\n",
        b"\r\n.\r\n",
        b"Subject: x\n\nlenient\n.\n",
        b"Subject: nul\r\n\r\na\0b\r\n.\r\n",
    ]
    out = []
    for i, m in enumerate(msgs):
        cut = len(m) // 2
        out.append(bytes([i & 1, cut & 0xff, cut >> 8]) + m)
    return out


def middlebox():
    def conv(box, chunks):
        b = bytes([box])
        for to_client, data in chunks:
            b += bytes([to_client]) + struct.pack("<H", len(data)) + data
        return b

    S, C = 1, 0
    banner = b"220 mx.example.org ESMTP Postfix\r\n"
    ehlo = (b"250-mx.example.org\r\n250-PIPELINING\r\n250-SIZE 10240000\r\n"
            b"250-STARTTLS\r\n250-AUTH GSSAPI NTLM LOGIN\r\n250-X-EXPS GSSAPI NTLM LOGIN\r\n"
            b"250-8BITMIME\r\n250 CHUNKING\r\n")
    mail = [(S, banner), (C, b"EHLO c.example\r\n"), (S, ehlo),
            (C, b"MAIL FROM:<a@b.example>\r\n"), (S, b"250 2.1.0 Ok\r\n"),
            (C, b"RCPT TO:<c@d.example>\r\n"), (S, b"250 2.1.5 Ok\r\n"),
            (C, b"DATA\r\n"), (S, b"354 End data with <CR><LF>.<CR><LF>\r\n"),
            (C, b"Subject: x\r\nSubject: y\r\nDKIM-Signature: v=1\r\n\r\nbody\r\n"),
            (C, b"\r\n.\r\n"), (S, b"250 2.0.0 Ok: queued\r\n"),
            (C, b"QUIT\r\n"), (S, b"221 2.0.0 Bye\r\n")]
    tls = [(S, banner), (C, b"EHLO c.example\r\n"), (S, ehlo),
           (C, b"STARTTLS\r\n"), (S, b"220 2.0.0 Ready to start TLS\r\n"),
           (C, b"\x16\x03\x01\x00\x05hello")]
    split = [(S, banner), (C, b"HE"), (C, b"LO c\r\nMAIL FROM:<a@b> SIZE=10\r\n"),
             (S, b"250 ok\r\n250 ok\r\n"), (C, b"VRFY x\r\nRCPT TO:<" + b"r" * 600 + b">\r\n")]
    out = []
    for box in range(3):
        out += [conv(box, mail), conv(box, tls), conv(box, split)]
    out.append(conv(0x80, mail))
    return out


def profile():
    out = []
    for f in sorted(glob.glob(os.path.join(TOP, "profiles", "**", "*.yaml"),
                              recursive=True)):
        out.append(open(f, "rb").read())
    out.append(b"extends: standard\nname: x\n")
    out.append(b"kind: middlebox\nname: y\nextends: pix-fixup\nbanner: mask-all\n")
    return out


def tls_hello():
    out = []
    variants = [
        dict(), dict(max=ssl.TLSVersion.TLSv1_2),
        dict(max=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-RSA-AES256-SHA384"),
        dict(min=ssl.TLSVersion.TLSv1_3), dict(sni=None),
        dict(max=ssl.TLSVersion.TLSv1_2, ciphers="ALL:@SECLEVEL=0"),
    ]
    for v in variants:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        if "min" in v:
            ctx.minimum_version = v["min"]
        if "max" in v:
            ctx.maximum_version = v["max"]
        if "ciphers" in v:
            try:
                ctx.set_ciphers(v["ciphers"])
            except ssl.SSLError:
                continue
        i, o = ssl.MemoryBIO(), ssl.MemoryBIO()
        obj = ctx.wrap_bio(i, o, server_side=False,
                           server_hostname=v.get("sni", "mx.example.org"))
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        out.append(o.read())
    return out


only = sys.argv[1:]
for name, fn in [("smtp_parse", smtp_parse), ("ntlm", ntlm),
                 ("template", template), ("message", message),
                 ("middlebox", middlebox), ("profile", profile),
                 ("tls_hello", tls_hello)]:
    if not only or name in only:
        write(name, fn())
