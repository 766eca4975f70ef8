#!/usr/bin/python3
"""A minimal SMTP receiver that records what a client sends, for reference.

  smtp_capture.py PORTFILE OUTFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE), takes one
connection, answers every command positively, and writes the DATA content
of the first message to OUTFILE: the octets between the 354 and CRLF.CRLF,
with the leading dot of dot-stuffed lines removed (RFC 5321 §4.5.2).
It is deliberately independent of mailwire, so the tests compare
mw-smtpd against what the client really put on the wire.
"""
import socket
import sys


def main(portfile, outfile):
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(30)
    with open(portfile, "w") as f:
        f.write("%d\n" % ls.getsockname()[1])
    conn, _ = ls.accept()
    conn.settimeout(30)
    conn.sendall(b"220 capture ESMTP\r\n")
    buf = b""
    saved = False
    while True:
        while b"\r\n" not in buf:
            chunk = conn.recv(65536)
            if not chunk:
                return 0 if saved else 1
            buf += chunk
        line, _, buf = buf.partition(b"\r\n")
        verb = line[:4].upper()
        if verb in (b"EHLO", b"HELO"):
            conn.sendall(b"250 capture\r\n")
        elif verb == b"DATA":
            conn.sendall(b"354 go\r\n")
            while b"\r\n.\r\n" not in b"\r\n" + buf:
                chunk = conn.recv(65536)
                if not chunk:
                    return 1
                buf += chunk
            raw, _, buf = (b"\r\n" + buf).partition(b"\r\n.\r\n")
            data = raw[2:] + b"\r\n" if raw != b"" else b""
            lines = data.split(b"\r\n")
            data = b"\r\n".join(l[1:] if l.startswith(b".") else l for l in lines)
            if not saved:
                with open(outfile, "wb") as f:
                    f.write(data)
                saved = True
            conn.sendall(b"250 ok\r\n")
        elif verb == b"QUIT":
            conn.sendall(b"221 bye\r\n")
            conn.close()
            return 0
        else:
            conn.sendall(b"250 ok\r\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
