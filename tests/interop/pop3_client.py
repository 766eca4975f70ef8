"""POP3 interop driver for tests/interop/pop3d.sh and fetch.sh.

  pop3_client.py make MAILDIR N SEED        write N test messages into MAILDIR/new
  pop3_client.py poplib PORT MAILDIR APOP   Python poplib against mw-pop3d (user alice)
  pop3_client.py strict PORT TLSPORT CAFILE MAILDIR   no plaintext before STLS; STLS; POP3_SSL
  pop3_client.py same A B                   exit 0 when files A and B hold equal bytes
  pop3_client.py samelf A B                 as same, after removing every CR (mda output)

Prints one "ok: ..." or "FAIL: ..." line per check.
"""
import os
import poplib
import random
import socket
import ssl
import sys
import time

USER, PASSWORD = "alice", "secret"


def make(maildir, n, seed):
    r = random.Random(int(seed))
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(maildir, sub), exist_ok=True)
    base = int(time.time())
    for i in range(1, int(n) + 1):
        lines = [b"From: sender%d@remote.test" % i, b"To: %s@example.org" % USER.encode(),
                 b"Subject: message %d" % i, b"Message-ID: <m%d.%d@remote.test>" % (i, seed_int(seed)), b""]
        nbody = 0 if i == 2 else (6000 if i == 3 else r.randrange(3, 40))
        for _ in range(nbody):
            k = r.randrange(0, 70)
            line = bytes(r.choice(b"abcdefgh .\xe9") for _ in range(k))
            if r.random() < 0.2:
                line = b"." + line
            if r.random() < 0.05:
                line = b"."
            if r.random() < 0.03:  # mbox From_ quoting (mboxrd) in mw-fetch
                line = r.choice([b"From the start", b">From quoted", b">>From twice", b"From"])
            lines.append(line)
        data = b"\r\n".join(lines) + b"\r\n"
        name = "%d.M%dP1Q%d.mwtest,S=%d" % (base, i, i, len(data))
        with open(os.path.join(maildir, "new", name), "wb") as f:
            f.write(data)


def seed_int(seed):
    return int(seed)


def files(maildir):
    out = []
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        for name in os.listdir(d) if os.path.isdir(d) else []:
            if not name.startswith("."):
                out.append((name.split(":")[0], os.path.join(d, name)))
    out.sort()
    return out


def contents(d):
    """Multiset (sorted list) of the message files under a Maildir or folder."""
    out = []
    for root, _, names in os.walk(d):
        if os.path.basename(root) == "tmp":
            continue
        for n in names:
            if not n.startswith("."):
                out.append(open(os.path.join(root, n), "rb").read())
    return sorted(out)


class Checks:
    def __init__(self):
        self.fails = 0

    def check(self, name, cond):
        print(("ok: " if cond else "FAIL: ") + name, flush=True)
        if not cond:
            self.fails += 1

    def raises(self, name, fn, want):
        try:
            fn()
        except poplib.error_proto as e:
            msg = e.args[0] if e.args else b""
            self.check(name + " (" + msg.decode("latin-1") + ")", want in msg)
            return
        self.check(name + " (no error)", False)


def joined(lines):
    return b"".join(l + b"\r\n" for l in lines)


def login(port):
    p = poplib.POP3("127.0.0.1", int(port), timeout=20)
    p.user(USER)
    p.pass_(PASSWORD)
    return p


def run_poplib(port, maildir, apop):
    c = Checks()
    msgs = files(maildir)
    content = [open(path, "rb").read() for _, path in msgs]
    p = poplib.POP3("127.0.0.1", int(port), timeout=20)
    caps = p.capa()
    c.check("CAPA lists TOP UIDL USER SASL RESP-CODES PIPELINING",
            all(k in caps for k in ("TOP", "UIDL", "USER", "SASL", "RESP-CODES", "PIPELINING")))
    c.check("CAPA SASL lists SCRAM-SHA-256 CRAM-MD5 PLAIN LOGIN",
            sorted(caps.get("SASL", [])) == ["CRAM-MD5", "LOGIN", "PLAIN", "SCRAM-SHA-256"])
    p.user(USER)
    c.raises("wrong password refused with [AUTH]", lambda: p.pass_("wrong"), b"-ERR [AUTH]")
    p.quit()

    p = login(port)
    count, size = p.stat()
    c.check("STAT %d %d matches the Maildir" % (count, size),
            count == len(msgs) and size == sum(len(x) for x in content))
    _, lst, _ = p.list()
    c.check("LIST sizes match the files",
            lst == [b"%d %d" % (i + 1, len(x)) for i, x in enumerate(content)])
    _, uidl, _ = p.uidl()
    c.check("UIDL gives the Maildir names",
            uidl == [b"%d %s" % (i + 1, m[0].encode()) for i, m in enumerate(msgs)])
    exact = True
    for i, data in enumerate(content):
        _, lines, octets = p.retr(i + 1)
        if joined(lines) != data:
            exact = False
    c.check("RETR of %d messages byte-exact (dot lines, empty body, 300 KB)" % len(content), exact)
    dots = sum(1 for d in content for l in d.split(b"\r\n") if l.startswith(b"."))
    c.check("the messages have %d lines starting with '.'" % dots, dots > 5)
    _, lines, _ = p.top(1, 2)
    head, body = content[0].split(b"\r\n\r\n", 1)
    want = head + b"\r\n\r\n" + b"".join(l + b"\r\n" for l in body.split(b"\r\n")[:2])
    c.check("TOP 1 2 gives the header and 2 body lines", joined(lines) == want)
    _, lines, _ = p.top(2, 5)
    c.check("TOP of the empty-bodied message", joined(lines) == content[1])
    c.raises("LAST (obsolete) answered -ERR", lambda: p._shortcmd("LAST"), b"-ERR")
    c.check("NOOP", p.noop().startswith(b"+OK"))
    p.dele(1)
    c.raises("RETR of a deleted message refused", lambda: p.retr(1), b"-ERR")
    q = poplib.POP3("127.0.0.1", int(port), timeout=20)
    q.user(USER)
    c.raises("a second concurrent login gets [IN-USE]", lambda: q.pass_(PASSWORD), b"-ERR [IN-USE]")
    q.quit()
    c.check("RSET", p.rset().startswith(b"+OK"))
    p.quit()
    c.check("DELE + RSET + QUIT keeps every file", len(files(maildir)) == len(msgs))

    p = login(port)
    p.dele(1)
    p.close()  # no QUIT: RFC 1939 §6, no UPDATE state
    time.sleep(0.3)
    c.check("DELE then a dropped connection keeps the file", len(files(maildir)) == len(msgs))

    if apop == "1":
        p = poplib.POP3("127.0.0.1", int(port), timeout=20)
        c.check("greeting carries an APOP timestamp", b"<" in p.getwelcome())
        p.apop(USER, PASSWORD)
        p.dele(2)
        p.quit()
    else:
        p = login(port)
        p.dele(2)
        p.quit()
    left = files(maildir)
    c.check("DELE 2 + QUIT removed exactly that file",
            [m[0] for m in left] == [m[0] for i, m in enumerate(msgs) if i != 1])
    p = login(port)
    _, uidl, _ = p.uidl()
    c.check("UIDLs stable after the deletion",
            [u.split()[1] for u in uidl] == [m[0].encode() for m in left])
    p.quit()
    if apop == "1":
        p = poplib.POP3("127.0.0.1", int(port), timeout=20)
        c.raises("APOP with a wrong secret refused", lambda: p.apop(USER, "wrong"), b"-ERR")
        p.quit()
    return c.fails


def run_strict(port, tlsport, cafile, maildir):
    c = Checks()
    msgs = files(maildir)
    content = [open(path, "rb").read() for _, path in msgs]
    p = poplib.POP3("127.0.0.1", int(port), timeout=20)
    caps = p.capa()
    c.check("before TLS CAPA hides USER and PLAIN", "USER" not in caps and
            "PLAIN" not in caps.get("SASL", []))
    c.raises("USER/PASS refused before TLS", lambda: (p.user(USER), p.pass_(PASSWORD)), b"-ERR")
    if cafile == "-":
        p.quit()
        return c.fails
    c.check("CAPA offers STLS", "STLS" in caps)
    ctx = ssl.create_default_context(cafile=cafile)
    p.stls(ctx)
    caps = p.capa()
    c.check("under TLS CAPA has USER, no STLS", "USER" in caps and "STLS" not in caps)
    p.user(USER)
    p.pass_(PASSWORD)
    ok = all(joined(p.retr(i + 1)[1]) == d for i, d in enumerate(content))
    c.check("STLS (certificate verified) + USER/PASS + RETR byte-exact", ok)
    p.quit()
    p = poplib.POP3_SSL("127.0.0.1", int(tlsport), context=ctx, timeout=20)
    p.user(USER)
    p.pass_(PASSWORD)
    count, _ = p.stat()
    ok = all(joined(p.retr(i + 1)[1]) == d for i, d in enumerate(content))
    c.check("implicit TLS (POP3_SSL) login, STAT %d, RETR byte-exact" % count,
            count == len(content) and ok)
    p.quit()
    return c.fails


def main():
    cmd = sys.argv[1]
    if cmd == "make":
        make(*sys.argv[2:5])
        return 0
    if cmd == "same":
        return 0 if open(sys.argv[2], "rb").read() == open(sys.argv[3], "rb").read() else 1
    if cmd == "samelf":
        a = open(sys.argv[2], "rb").read().replace(b"\r", b"")
        b = open(sys.argv[3], "rb").read().replace(b"\r", b"")
        return 0 if a == b else 1
    if cmd == "sameset":
        return 0 if contents(sys.argv[2]) == contents(sys.argv[3]) else 1
    if cmd == "mboxcheck":
        import mailbox
        want = sorted(x.replace(b"\r", b"") for x in contents(sys.argv[3]))
        box = mailbox.mbox(sys.argv[2])
        got = []
        for key in box.keys():
            data = box.get_bytes(key, from_=False)
            # mboxrd: take one '>' off ">*From " lines
            lines = [l[1:] if l.lstrip(b">").startswith(b"From ") and l.startswith(b">") else l
                     for l in data.split(b"\n")]
            got.append(b"\n".join(lines))
        return 0 if sorted(got) == want else 1
    if cmd == "poplib":
        return 1 if run_poplib(*sys.argv[2:5]) else 0
    if cmd == "strict":
        return 1 if run_strict(*sys.argv[2:6]) else 0
    return 2


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (poplib.error_proto, OSError, ssl.SSLError) as e:
        print("FAIL: unexpected error: %r" % (e,))
        sys.exit(1)
