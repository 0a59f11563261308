"""packets.py - send bytes to a server behind a middlebox as exactly one
packet (smtp-mimic(1), "Middleboxes": a packet is the bytes of one server
read, and every packet is in the transcript as an info event "packet N: M
bytes from the client").

send_packet() sends one piece and waits until the server has read it, and
nothing more, as one packet: the next piece then starts a new one. No
sleeps, no timing: the transcript says where each packet ended.
"""
import re

PACKET = re.compile(r"^packet (\d+): (\d+) bytes from the client$")


def packets(srv, session):
    """[(n, bytes)] of the session's packets so far."""
    out = []
    for e in srv.events():
        if e["session"] == session and e["dir"] == "info":
            m = PACKET.match(e["text"])
            if m:
                out.append((int(m.group(1)), int(m.group(2))))
    return out


def send_packet(test, srv, c, data, session=1, timeout=10):
    """Send data (str or bytes) and wait until the server has read it as
    one packet of exactly its length."""
    if isinstance(data, str):
        data = data.encode()
    before = len(packets(srv, session))
    c.send(data)
    srv.wait_event(lambda e: e["session"] == session and
                   e["dir"] == "info" and
                   PACKET.match(e["text"]) is not None and
                   int(PACKET.match(e["text"]).group(1)) == before + 1,
                   timeout)
    test.assertEqual(packets(srv, session)[before][1], len(data),
                     "the piece %r was not read as one packet" % data)
