"""tls12_dhe.py - a minimal TLS 1.2 client for one DHE suite whose own DH
public value the test chooses, for the DHE leading-zero tests (FACTS.md
14): OpenSSL 1.1.1+ pads the value to the prime's length, so no stock
client sends a short one.

Speaks exactly TLS_DHE_RSA_WITH_AES_128_CBC_SHA (0x0033, RFC 5246 with the
TLS 1.2 PRF): ClientHello without extensions, reads ServerHello ..
ServerHelloDone, picks a private exponent until the public value Yc has
the wanted length (short: a leading zero byte, so one byte fewer than the
prime; full: as long as the prime), sends ClientKeyExchange with Yc
encoded minimally, ChangeCipherSpec and an encrypted Finished. It does not
check the server's certificate or signature (a lab server) and never
decrypts what the server sends; it can send application data afterwards
(encrypted) and returns the raw records it gets. AES-CBC comes from
`openssl enc` (Python's standard library has no AES).

Nothing here knows a profile: the tests say what they expect.
"""
import hashlib
import hmac
import random
import subprocess

SUITE = 0x0033          # TLS_DHE_RSA_WITH_AES_128_CBC_SHA
HANDSHAKE, CCS, ALERT, APPLICATION_DATA = 22, 20, 21, 23
TLS12 = b"\x03\x03"


def prf(secret, label, seed, n):
    """RFC 5246 5: P_SHA256."""
    out, a = b"", label + seed
    while len(out) < n:
        a = hmac.new(secret, a, hashlib.sha256).digest()
        out += hmac.new(secret, a + label + seed, hashlib.sha256).digest()
    return out[:n]


def aes128_cbc(key, iv, data):
    cp = subprocess.run(["openssl", "enc", "-aes-128-cbc", "-K", key.hex(),
                         "-iv", iv.hex(), "-nopad"], input=data,
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                        check=True)
    return cp.stdout


def record(ty, body, version=TLS12):
    return bytes([ty]) + version + len(body).to_bytes(2, "big") + body


def handshake_msg(ty, body):
    return bytes([ty]) + len(body).to_bytes(3, "big") + body


def split_records(buf):
    """([(type, payload)], rest)"""
    out = []
    while len(buf) >= 5:
        n = int.from_bytes(buf[3:5], "big")
        if len(buf) < 5 + n:
            break
        out.append((buf[0], buf[5:5 + n]))
        buf = buf[5 + n:]
    return out, buf


class Handshake:
    """One DHE handshake on a connected socket (after STARTTLS's 220)."""

    def __init__(self, sock, seed=1):
        self.sock = sock
        self.rnd = random.Random(seed)
        self.transcript = b""
        self.raw = b""
        self.hs = b""           # handshake bytes not yet parsed
        self.seq = 0

    def _recv_records(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("server closed the connection")
        self.raw += chunk
        recs, self.raw = split_records(self.raw)
        return recs

    def _server_flight(self):
        """The server's messages up to ServerHelloDone: {type: body}."""
        msgs = {}
        while 14 not in msgs:
            for ty, payload in self._recv_records():
                if ty == ALERT:
                    raise AssertionError("alert %r" % payload)
                if ty != HANDSHAKE:
                    raise AssertionError("record type %d" % ty)
                self.hs += payload
            while len(self.hs) >= 4:
                n = int.from_bytes(self.hs[1:4], "big")
                if len(self.hs) < 4 + n:
                    break
                msg, self.hs = self.hs[:4 + n], self.hs[4 + n:]
                self.transcript += msg
                msgs[msg[0]] = msg[4:]
        return msgs

    def run(self, short):
        """Handshake with a short (True) or full-length (False) Yc.
        Returns (prime length, Yc length) in bytes."""
        cr = bytes(self.rnd.getrandbits(8) for _ in range(32))
        hello = handshake_msg(1, TLS12 + cr + b"\x00" +
                              b"\x00\x02" + SUITE.to_bytes(2, "big") +
                              b"\x01\x00")
        self.transcript += hello
        self.sock.sendall(record(HANDSHAKE, hello, b"\x03\x01"))
        msgs = self._server_flight()
        sh = msgs[2]
        sr = sh[2:34]
        sid_len = sh[34]
        suite = int.from_bytes(sh[35 + sid_len:37 + sid_len], "big")
        if suite != SUITE:
            raise AssertionError("server chose 0x%04x" % suite)
        ske = msgs[12]
        vals, i = [], 0
        for _ in range(3):          # dh_p, dh_g, dh_Ys
            n = int.from_bytes(ske[i:i + 2], "big")
            vals.append(ske[i + 2:i + 2 + n])
            i += 2 + n
        p_bytes, g, ys = vals
        p = int.from_bytes(p_bytes, "big")
        plen = len(p_bytes)
        limit = 1 << (8 * (plen - 1))
        while True:
            x = self.rnd.getrandbits(p.bit_length() - 1) | 1
            yc = pow(int.from_bytes(g, "big"), x, p)
            if (yc < limit) == short and yc > 1:
                break
        yc_bytes = yc.to_bytes((yc.bit_length() + 7) // 8, "big")
        z = pow(int.from_bytes(ys, "big"), x, p)
        pms = z.to_bytes((z.bit_length() + 7) // 8, "big")  # RFC 5246 8.1.2
        master = prf(pms, b"master secret", cr + sr, 48)
        kb = prf(master, b"key expansion", sr + cr, 72)
        self.mac_key, self.key = kb[0:20], kb[40:56]
        cke = handshake_msg(16, len(yc_bytes).to_bytes(2, "big") + yc_bytes)
        self.transcript += cke
        verify = prf(master, b"client finished",
                     hashlib.sha256(self.transcript).digest(), 12)
        fin = handshake_msg(20, verify)
        self.sock.sendall(record(HANDSHAKE, cke) + record(CCS, b"\x01") +
                          self.encrypt(HANDSHAKE, fin))
        return plen, len(yc_bytes)

    def encrypt(self, ty, data):
        """One AES-128-CBC / HMAC-SHA1 record (RFC 5246 6.2.3.2)."""
        hdr = (self.seq.to_bytes(8, "big") + bytes([ty]) + TLS12 +
               len(data).to_bytes(2, "big"))
        self.seq += 1
        plain = data + hmac.new(self.mac_key, hdr + data,
                                hashlib.sha1).digest()
        pad = 15 - len(plain) % 16
        plain += bytes([pad]) * (pad + 1)
        iv = bytes(self.rnd.getrandbits(8) for _ in range(16))
        return record(ty, iv + aes128_cbc(self.key, iv, plain))

    def send_data(self, text):
        self.sock.sendall(self.encrypt(APPLICATION_DATA, text.encode()))

    def records_until(self, ty):
        """Read records until one of type ty arrives: their types."""
        types = []
        while ty not in types:
            types += [t for t, _ in self._recv_records()]
        return types
