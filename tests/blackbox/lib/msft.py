"""msft.py - the checks every Microsoft profile's tests share (exchange2010,
exchange2016, exchange2019, exchange-online and its scenarios): the banner
shape, one plain SMTP conversation against an expected script, the suite
order found by elimination, which TLS versions handshake, and a smtplib
delivery over STARTTLS. The tests pass every expected string themselves
(written out from ../shared/FACTS.md); nothing here knows a profile's
strings but the Exchange date format of FACTS.md 1.
"""
import re
import smtplib
import socket
import ssl
import warnings

import tls_wire

# FACTS.md 1: the date in "... MAIL Service ready at <date>" (RFC 5322,
# day of month without a leading zero).
DATE = (r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (?:[1-9]|[12][0-9]|3[01]) "
        r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [0-9]{4} "
        r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9] [+-][0-9]{4}")


def banner_re(host, tail=""):
    """FACTS.md 1 / 11: 220 <host> Microsoft ESMTP MAIL Service ready at
    <date><tail>"""
    return re.compile(r"220 %s Microsoft ESMTP MAIL Service ready at %s%s\Z"
                      % (re.escape(host), DATE, re.escape(tail)))


def ehlo_lines(greeting, keywords):
    """The reply lines: 250-<greeting>, 250-<kw>..., 250 <last>."""
    items = [greeting] + list(keywords)
    return ["250-" + k for k in items[:-1]] + ["250 " + items[-1]]


def tls_ctx(ciphers=None, version=None, groups=None):
    """A client context that trusts the self-signed certificate; version
    pins both ends of the range."""
    ctx = tls_wire.client_ctx(ciphers, version, version)
    if groups is not None and hasattr(ctx, "set_ecdh_curve"):
        ctx.set_ecdh_curve(groups)
    return ctx


def handshake(port, ctx):
    """STARTTLS and a handshake: the SSLSocket (the caller closes it)."""
    sock = tls_wire.starttls(port)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            return ctx.wrap_socket(sock)
        except Exception:
            sock.close()
            raise


def order_by_elimination(port, suites, version):
    """Offer every suite (in reverse, so a server following the client's
    order would be caught), note the one chosen, take it away, again:
    the server's order of these suites."""
    left, chosen = list(suites), []
    while left:
        ctx = tls_ctx(":".join(reversed(left)) + ":@SECLEVEL=0", version)
        tls = handshake(port, ctx)
        name = tls.cipher()[0]
        tls.close()
        if name not in left:
            raise AssertionError("server chose %s, not offered" % name)
        chosen.append(name)
        left.remove(name)
    return chosen


def version_works(port, version):
    """Does a client pinned to this version complete the handshake?
    (True, version string) or (False, how it failed)."""
    ctx = tls_ctx("DEFAULT:@SECLEVEL=0", version)
    try:
        tls = handshake(port, ctx)
    except (ssl.SSLError, ConnectionError, OSError) as e:
        return False, type(e).__name__ + ": " + str(e)
    got = tls.version()
    tls.close()
    return True, got


def deliver_starttls(port, sender="a@lab.test", rcpt="b@lab.test",
                     ciphers="DEFAULT:@SECLEVEL=0", version=None):
    """smtplib: EHLO, STARTTLS, EHLO, one message. Returns (the EHLO
    reply inside TLS as smtplib saw it, the end-of-data reply)."""
    s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.lab.test",
                     timeout=15)
    try:
        s.ehlo()
        s.starttls(context=tls_ctx(ciphers, version))
        code, text = s.ehlo()
        ehlo = (code, text.decode())
        s.mail(sender)
        s.rcpt(rcpt)
        dcode, dtext = s.data(b"Subject: t\r\n\r\nhello\r\n")
        s.quit()
    finally:
        s.close()
    return ehlo, (dcode, dtext.decode())


def smtplib_ehlo_text(lines):
    """What smtplib returns for a multi-line 250 reply: the texts without
    the "250-" / "250 " prefix, joined by newlines."""
    return "\n".join(line[4:] for line in lines)


def raw_close_how(sock, timeout=10):
    """fin / rst / open after the peer stops, ignoring what it sent."""
    sock.settimeout(timeout)
    try:
        while sock.recv(65536):
            pass
        return "fin"
    except ConnectionResetError:
        return "rst"
    except socket.timeout:
        return "open"
