#!/usr/bin/python3
"""Python's smtplib against a running mw-smtpd (driven by smtplib.sh).

  smtplib_client.py PLAIN_PORT TMPDIR [TLS_PORT]

TMPDIR holds mail/ (ROOT/<user>/Maildir), queue/ and, with TLS, cert.pem.
The daemon runs with the users/aliases files made by lib.sh, local domain
example.org, --queue, --plaintext-auth off or on as described below, and
--max-size 200000. Prints "ok: ..." / "FAIL: ..." lines; exit status is
the number of failures.
"""
import email.policy
import os
import random
import smtplib
import socket
import ssl
import subprocess
import sys
import time
from email.message import EmailMessage

PORT = int(sys.argv[1])
TMP = sys.argv[2]
TLS_PORT = int(sys.argv[3]) if len(sys.argv) > 3 and sys.argv[3] else 0
MDCHECK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mdcheck.py")
failures = 0
counter = [0]


def report(ok, name, detail=""):
    global failures
    if ok:
        print("ok: %s" % name)
    else:
        failures += 1
        print("FAIL: %s %s" % (name, detail))


def maildir(user):
    return os.path.join(TMP, "mail", user, "Maildir")


def clear(user):
    for sub in ("new", "cur"):
        d = os.path.join(maildir(user), sub)
        if os.path.isdir(d):
            for n in os.listdir(d):
                os.unlink(os.path.join(d, n))


def exact(user, data, count=1, sender=None):
    """The user's Maildir holds exactly `count` byte-exact copies of data."""
    counter[0] += 1
    path = os.path.join(TMP, "expected-%d" % counter[0])
    with open(path, "wb") as f:
        f.write(data)
    args = [sys.executable, MDCHECK, "exact", maildir(user), path, str(count)]
    if sender is not None:
        args.append(sender)
    r = subprocess.run(args, capture_output=True, text=True)
    return r.returncode == 0, r.stdout.strip()


def connect(port=PORT, host="127.0.0.1"):
    s = smtplib.SMTP(host, port, timeout=20)
    s.ehlo("client.test")
    return s


def wire(msg):
    """What smtplib puts between DATA and the final dot, unstuffed."""
    return msg.as_bytes(policy=email.policy.SMTP)


def simple(subject, body="Hello.\r\n"):
    return ("From: a@remote.test\r\nTo: x@example.org\r\nSubject: %s\r\n\r\n%s" % (subject, body)).encode()


def test_ehlo():
    s = connect()
    exts = s.esmtp_features
    want = ["pipelining", "size", "8bitmime", "enhancedstatuscodes", "chunking", "auth"]
    report(all(k in exts for k in want), "EHLO advertises %s" % ", ".join(want), repr(exts))
    report(exts.get("size") == "200000", "SIZE carries the --max-size value", repr(exts.get("size")))
    mechs = exts.get("auth", "").split()
    report("PLAIN" in mechs and "LOGIN" in mechs and "CRAM-MD5" in mechs,
           "AUTH offers PLAIN LOGIN CRAM-MD5 (--plaintext-auth)", repr(mechs))
    s.quit()


def test_auth():
    for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
        s = connect()
        s.user, s.password = "alice", "secret"
        try:
            code, _ = s.auth(mech, getattr(s, "auth_" + mech.lower().replace("-", "_")))
            report(code == 235, "AUTH %s succeeds" % mech, str(code))
        except smtplib.SMTPException as e:
            report(False, "AUTH %s succeeds" % mech, repr(e))
        s.quit()
    s = connect()
    s.user, s.password = "carol", "pass word"
    code, _ = s.auth("PLAIN", s.auth_plain)
    report(code == 235, "AUTH PLAIN with a space in the password")
    s.quit()
    s = connect()
    try:
        s.login("alice", "wrong")
        report(False, "a wrong password is refused")
    except smtplib.SMTPAuthenticationError as e:
        report(e.smtp_code == 535, "a wrong password is refused with 535", str(e.smtp_code))
    s.quit()


def test_recipients():
    for u in ("alice", "bob", "carol"):
        clear(u)
    data = simple("several recipients")
    s = connect()
    refused = s.sendmail("a@remote.test", ["alice@example.org", "team@example.org", "Carol@Example.org",
                                           "all@example.org", "loop1@example.org"], data)
    report(refused == {}, "five recipients (aliases, a loop, case) accepted", repr(refused))
    s.quit()
    for u in ("alice", "bob", "carol"):
        good, why = exact(u, data, 1, "a@remote.test")
        report(good, "%s got exactly one byte-exact copy" % u, why)
    s = connect()
    try:
        s.sendmail("a@remote.test", ["nobody@example.org"], data)
        report(False, "an unknown local user is refused")
    except smtplib.SMTPRecipientsRefused as e:
        code = e.recipients["nobody@example.org"][0]
        report(code == 550, "an unknown local user is refused with 550", str(code))
    s.quit()


def test_mime():
    clear("bob")
    msg = EmailMessage()
    msg["From"] = "Alice <alice@example.org>"
    msg["To"] = "Bob <bob@example.org>"
    msg["Subject"] = "Report with an attachment \u00e9t\u00e9"
    msg.set_content("Text part.\n.A line that starts with a dot.\n")
    rnd = random.Random(5321)
    blob = bytes(rnd.getrandbits(8) for _ in range(70000))
    msg.add_attachment(blob, maintype="application", subtype="octet-stream", filename="data.bin")
    msg.add_attachment("caf\u00e9\n", subtype="plain", charset="utf-8", filename="notes.txt")
    s = connect()
    s.login("alice", "secret")
    data = wire(msg)  # serialised once: the MIME boundary is made up at serialisation
    s.sendmail("alice@example.org", ["bob@example.org"], data)
    s.quit()
    good, why = exact("bob", data, 1, "alice@example.org")
    report(good, "MIME message with a 70 KB attachment stored byte-exact", why)


def test_dots():
    clear("alice")
    body = (".\r\n..\r\n.leading dot\r\n. \r\n...\r\nx.\r\n.\r\n..\r\nlast line without CRLF")
    data = simple("dots", body)
    s = connect()
    s.sendmail("a@remote.test", ["alice@example.org"], data)
    s.quit()
    # smtplib adds the CRLF the last line lacks (RFC 5321 §4.1.1.4).
    good, why = exact("alice", data + b"\r\n", 1, "a@remote.test")
    report(good, "lines starting with '.' survive stuffing byte-exact", why)


def test_empty_sender_and_postmaster():
    clear("postmaster")
    data = simple("bounce")
    s = connect()
    s.mail("")
    code, _ = s.rcpt("<Postmaster>")
    report(code == 250, "RCPT TO:<Postmaster> accepted (RFC 5321 §4.5.1)", str(code))
    code, _ = s.data(data)
    report(code == 250, "null reverse-path accepted", str(code))
    s.quit()
    good, why = exact("postmaster", data, 1, "")
    report(good, "postmaster mailbox got it with Return-Path: <>", why)


def test_relay():
    data = simple("relay")
    s = connect()
    try:
        s.sendmail("alice@example.org", ["someone@remote.test"], data)
        report(False, "relaying without AUTH is refused")
    except smtplib.SMTPRecipientsRefused as e:
        code = e.recipients["someone@remote.test"][0]
        report(code == 550, "relaying without AUTH is refused with 550 5.7.1", str(code))
    s.quit()
    s = connect()
    s.login("bob", "hunter2")
    refused = s.sendmail("bob@example.org", ["someone@remote.test", "other@remote.test", "alice@example.org"],
                         data)
    report(refused == {}, "relaying after AUTH accepted", repr(refused))
    s.quit()
    envdir = os.path.join(TMP, "queue", "env")
    envs = sorted(os.listdir(envdir)) if os.path.isdir(envdir) else []
    report(len(envs) == 1, "one queue entry", repr(envs))
    if envs:
        with open(os.path.join(envdir, envs[0]), "rb") as f:
            env = f.read()
        want = b"MAIL FROM:<bob@example.org>\r\nRCPT TO:<someone@remote.test>\r\nRCPT TO:<other@remote.test>\r\n"
        report(env == want, "queue envelope lists sender and the two remote recipients", repr(env))
        qmsg = os.path.join(TMP, "queue", "new", envs[0])
        with open(qmsg, "rb") as f:
            import importlib.util
            spec = importlib.util.spec_from_file_location("mdcheck", MDCHECK)
            md = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(md)
            report(md.strip(f.read(), "bob@example.org") == data, "queued message byte-exact")


def test_size_limit():
    s = connect()
    big = simple("big", ("y" * 98 + "\r\n") * 2100)  # 210 KB > 200000
    try:
        s.sendmail("a@remote.test", ["alice@example.org"], big)
        report(False, "a message over --max-size is refused")
    except smtplib.SMTPSenderRefused as e:  # smtplib sends SIZE=, refused at MAIL
        report(e.smtp_code == 552, "SIZE= over --max-size refused at MAIL with 552", str(e.smtp_code))
    except smtplib.SMTPDataError as e:
        report(e.smtp_code == 552, "over --max-size refused with 552", str(e.smtp_code))
    s.quit()
    # Without SIZE= the engine counts the body and refuses at the end.
    s = smtplib.SMTP("127.0.0.1", PORT, timeout=20)
    s.helo("client.test")  # HELO: no SIZE parameter is sent
    try:
        s.sendmail("a@remote.test", ["alice@example.org"], big)
        report(False, "a body over --max-size is refused after DATA")
    except smtplib.SMTPDataError as e:
        report(e.smtp_code == 552, "a body over --max-size is refused after DATA with 552", str(e.smtp_code))
    s.quit()


def test_pipelined_burst():
    """Ten messages on one connection, MAIL/RCPT/DATA pipelined by hand."""
    clear("carol")
    sock = socket.create_connection(("127.0.0.1", PORT), timeout=20)
    f = sock.makefile("rb")
    f.readline()
    msgs = [simple("burst %d" % i) for i in range(10)]
    out = b"EHLO burst.test\r\n"
    for m in msgs:
        out += b"MAIL FROM:<p@remote.test>\r\nRCPT TO:<carol@example.org>\r\nDATA\r\n"
        out += m + b".\r\n"
    out += b"QUIT\r\n"
    sock.sendall(out)
    codes = []
    for line in f:
        if line[3:4] == b" ":
            codes.append(int(line[:3]))
    sock.close()
    want = [250] + [250, 250, 354, 250] * 10 + [221]
    report(codes == want, "pipelined burst of 10 messages answered in order", repr(codes))
    names = os.listdir(os.path.join(maildir("carol"), "new"))
    report(len(names) == 10, "all 10 pipelined messages stored", str(len(names)))


def raw_session(port=PORT):
    sock = socket.create_connection(("127.0.0.1", port), timeout=20)
    return sock, sock.makefile("rb")


def replies(f, n):
    """Read n complete replies; return their codes."""
    codes = []
    while len(codes) < n:
        line = f.readline()
        if not line:
            break
        if line[3:4] == b" ":
            codes.append(int(line[:3]))
    return codes


def test_bdat():
    """CHUNKING (RFC 3030): a message in three BDAT chunks, dots and bare CR/LF kept."""
    clear("alice")
    chunks = [b"Subject: bdat\r\n\r\n.no stuffing here\r\n", b"\r\n.\r\n", b"bare\nLF and bare\rCR\r\nend\r\n"]
    sock, f = raw_session()
    f.readline()
    out = b"EHLO bdat.test\r\nMAIL FROM:<b@remote.test>\r\nRCPT TO:<alice@example.org>\r\n"
    for i, c in enumerate(chunks):
        out += b"BDAT %d%s\r\n" % (len(c), b" LAST" if i == len(chunks) - 1 else b"") + c
    sock.sendall(out + b"QUIT\r\n")
    codes = replies(f, 7)
    sock.close()
    report(codes == [250, 250, 250, 250, 250, 250, 221], "BDAT in three chunks answered", repr(codes))
    good, why = exact("alice", b"".join(chunks), 1, "b@remote.test")
    report(good, "BDAT message stored byte-exact (no unstuffing, bare CR/LF kept)", why)


def test_starttls_injection():
    """Commands pipelined after STARTTLS in plaintext are dropped (CVE-2011-0411)."""
    if not TLS_PORT:
        return
    sock, f = raw_session()
    f.readline()
    sock.sendall(b"EHLO inject.test\r\n")
    replies(f, 1)
    sock.sendall(b"STARTTLS\r\nMAIL FROM:<evil@remote.test>\r\n")
    codes = replies(f, 1)
    report(codes == [220], "STARTTLS answered 220", repr(codes))
    ctx = ssl.create_default_context(cafile=os.path.join(TMP, "cert.pem"))
    tls = ctx.wrap_socket(sock, server_hostname="localhost")
    tf = tls.makefile("rb")
    tls.sendall(b"EHLO inject.test\r\nRCPT TO:<alice@example.org>\r\n")
    codes = replies(tf, 2)
    report(codes == [250, 503], "the injected MAIL did not count: RCPT after TLS is 503", repr(codes))
    time.sleep(0.1)
    with open(os.path.join(TMP, "smtpd.log")) as log:
        n = len(b"MAIL FROM:<evil@remote.test>\r\n")
        report(("STARTTLS: %d plaintext octets after the command dropped" % n) in log.read(),
               "the daemon logged the %d dropped octets" % n)
    tls.sendall(b"QUIT\r\n")
    replies(tf, 1)
    tls.close()


def test_ipv6():
    try:
        socket.create_connection(("::1", PORT), timeout=5).close()
        report(False, "the IPv4 listener does not answer on ::1")
    except OSError:
        report(True, "the IPv4 listener does not answer on ::1")


def test_starttls():
    if not TLS_PORT:
        return
    ctx = ssl.create_default_context(cafile=os.path.join(TMP, "cert.pem"))
    clear("alice")
    data = simple("over STARTTLS")
    s = smtplib.SMTP("localhost", PORT, timeout=20)
    s.ehlo("client.test")
    report(s.has_extn("starttls"), "STARTTLS advertised")
    code, _ = s.starttls(context=ctx)
    report(code == 220, "STARTTLS handshake with certificate verification", str(code))
    s.ehlo("client.test")
    report(not s.has_extn("starttls"), "STARTTLS not advertised again under TLS")
    s.login("alice", "secret")
    s.sendmail("alice@example.org", ["alice@example.org"], data)
    s.quit()
    good, why = exact("alice", data, 1, "alice@example.org")
    report(good, "message over STARTTLS stored byte-exact", why)
    clear("bob")
    s = smtplib.SMTP_SSL("localhost", TLS_PORT, context=ctx, timeout=20)
    s.ehlo("client.test")
    s.login("bob", "hunter2")
    s.sendmail("bob@example.org", ["bob@example.org"], data)
    s.quit()
    good, why = exact("bob", data, 1, "bob@example.org")
    report(good, "message over implicit TLS stored byte-exact", why)
    with open(os.path.join(maildir("bob"), "new", os.listdir(os.path.join(maildir("bob"), "new"))[0]), "rb") as f:
        report(b"with ESMTPSA id" in f.read(300), "Received says ESMTPSA (RFC 3848)")


def main():
    tests = [test_ehlo, test_auth, test_recipients, test_mime, test_dots, test_empty_sender_and_postmaster,
             test_relay, test_size_limit, test_pipelined_burst, test_bdat, test_ipv6, test_starttls,
             test_starttls_injection]
    for t in tests:
        try:
            t()
        except Exception as e:  # a crash of one test is a failure, not the end
            report(False, t.__name__, "raised %r" % e)
    return min(failures, 100)


if __name__ == "__main__":
    sys.exit(main())
