#!/usr/bin/python3
"""Abuse a running mw-smtpd the way the network does (driven by stress.sh).

  stress_client.py PORT TMPDIR

The daemon runs with --max-conns 5, local domain example.org and no users
file. Prints "ok: ..." / "FAIL: ..." lines; exit status is the number of
failures.
"""
import os
import random
import socket
import subprocess
import sys
import threading
import time

PORT = int(sys.argv[1])
TMP = sys.argv[2]
MDCHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mdcheck.py")
failures = 0


def report(ok, name, detail=""):
    global failures
    print(("ok: %s" if ok else "FAIL: %s " + detail) % name)
    failures += 0 if ok else 1


def connect():
    return socket.create_connection(("127.0.0.1", PORT), timeout=30)


def transaction(rcpt, body):
    return (b"EHLO stress.test\r\nMAIL FROM:<s@remote.test>\r\nRCPT TO:<%s>\r\nDATA\r\n" % rcpt.encode()
            + body + b".\r\nQUIT\r\n")


def read_all(sock):
    out = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out


def message(i):
    r = random.Random(i)
    lines = [b"Subject: stress %d" % i, b""]
    for _ in range(r.randrange(1, 60)):
        lines.append(bytes(r.choice(b"abc .\t") for _ in range(r.randrange(0, 120))))
    body = b"\r\n".join(lines) + b"\r\n"
    stuffed = b"\r\n".join(b"." + l if l.startswith(b".") else l for l in body.split(b"\r\n"))
    return body, stuffed


def garbage(seed):
    """Random bytes, a half-sent DATA, or an endless line; then a hard close."""
    r = random.Random(seed)
    try:
        s = connect()
        kind = seed % 3
        if kind == 0:
            s.sendall(bytes(r.getrandbits(8) for _ in range(r.randrange(1, 5000))))
        elif kind == 1:
            s.sendall(b"EHLO g.test\r\nMAIL FROM:<g@remote.test>\r\nRCPT TO:<trash@example.org>\r\nDATA\r\n"
                      + b"partial body\r\n" * r.randrange(1, 500))
        else:
            s.sendall(b"EHLO " + b"x" * r.randrange(1000, 100000))
        time.sleep(r.random() * 0.2)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        s.close()  # RST on most platforms
    except OSError:
        pass


def test_garbage():
    threads = [threading.Thread(target=garbage, args=(i,)) for i in range(60)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)
    spool = os.path.join(TMP, "mail", ".spool", "tmp")
    left = os.listdir(spool) if os.path.isdir(spool) else []
    report(left == [], "60 abusive connections (random bytes, half DATA, endless lines, RST) leave no spool files",
           repr(left))
    trash = os.path.join(TMP, "mail", "trash", "Maildir", "new")
    report(not os.path.isdir(trash) or os.listdir(trash) == [], "no half-sent message was delivered")


def one_message(i, results, slow):
    body, stuffed = message(i)
    data = transaction("user%d@example.org" % (i % 7), stuffed)
    try:
        s = connect()
        if slow:  # one byte per segment: the engine sees every possible cut
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for k in range(len(data)):
                s.sendall(data[k:k + 1])
        else:
            s.sendall(data)
        reply = read_all(s)
        s.close()
        results[i] = (reply.count(b"\r\n250 ") >= 1 and b"\r\n221 " in reply, body)
    except OSError as e:
        results[i] = (False, repr(e))


def test_many_at_once():
    """40 full transactions at once against --max-conns 5: the backlog holds the rest."""
    results = {}
    threads = [threading.Thread(target=one_message, args=(i, results, i % 10 == 0)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    good = sum(1 for ok, _ in results.values() if ok)
    report(good == 40, "40 concurrent transactions (4 sent one byte at a time) all answered 250", str(good))
    expected = {}
    for i, (ok, body) in results.items():
        expected.setdefault(i % 7, []).append(body)
    exact = 0
    for box, bodies in expected.items():
        new = os.path.join(TMP, "mail", "user%d" % box, "Maildir", "new")
        stored = []
        for name in os.listdir(new) if os.path.isdir(new) else []:
            with open(os.path.join(new, name), "rb") as f:
                data = f.read()
            stored.append(strip(data))
        exact += sum(1 for b in bodies if b in stored)
    report(exact == 40, "all 40 messages stored byte-exact", str(exact))


def strip(data):
    import importlib.util
    spec = importlib.util.spec_from_file_location("mdcheck", MDCHECK)
    md = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(md)
    return md.strip(data)


def test_still_alive():
    s = connect()
    f = s.makefile("rb")
    greeting = f.readline()
    s.sendall(b"QUIT\r\n")
    bye = f.readline()
    s.close()
    report(greeting.startswith(b"220 ") and bye.startswith(b"221 "), "the daemon still serves afterwards")


def main():
    for t in (test_garbage, test_many_at_once, test_garbage, test_still_alive):
        try:
            t()
        except Exception as e:
            report(False, t.__name__, "raised %r" % e)
    return min(failures, 100)


if __name__ == "__main__":
    sys.exit(main())
