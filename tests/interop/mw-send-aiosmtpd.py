"""aiosmtpd receiver for tests/interop/mw-send.sh (run with /usr/bin/python3).

usage: mw-send-aiosmtpd.py PORTFILE OUTDIR [--tls CERT KEY] [--auth USER:PASS]
                           [--exclude MECH]... [--refuse ADDRESS]...
                           [--lmtp [--fail ADDRESS]...]

Listens on 127.0.0.1 with a port the kernel picks (written to PORTFILE),
stores each message as OUTDIR/N.eml (the DATA content, unstuffed, as
received) and OUTDIR/N.env (MAIL FROM and RCPT TO lines, one per line),
answers 550 to RCPT for every --refuse address. With --lmtp it speaks
LMTP and gives one final reply per accepted recipient (RFC 2033 §4.2):
452 for every --fail address (the message is stored only when at least one
recipient got 250). Runs until SIGTERM.
"""
import asyncio
import os
import signal
import ssl
import sys

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Store:
    def __init__(self, outdir, refuse, lmtp=False, fail=()):
        self.lmtp = lmtp
        self.fail = set(a.lower() for a in fail)
        self.outdir = outdir
        self.refuse = set(a.lower() for a in refuse)
        self.n = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return "550 5.1.1 <%s>: no such user here" % address
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.lmtp:
            replies = ["452 4.2.2 <%s>: mailbox full" % r if r.lower() in self.fail
                       else "250 2.0.0 <%s> delivered" % r for r in envelope.rcpt_tos]
            envelope.rcpt_tos = [r for r in envelope.rcpt_tos if r.lower() not in self.fail]
            if envelope.rcpt_tos:
                self.store(session, envelope)
            # aiosmtpd sends one status line: the LMTP replies go as one
            # string with CRLF between them.
            return "\r\n".join(replies)
        return "250 2.0.0 stored as %d" % self.store(session, envelope)

    def store(self, session, envelope):
        self.n += 1
        base = os.path.join(self.outdir, str(self.n))
        with open(base + ".tmp", "wb") as f:
            f.write(envelope.original_content)
        with open(base + ".env", "w") as f:
            f.write("from %s\n" % envelope.mail_from)
            for r in envelope.rcpt_tos:
                f.write("to %s\n" % r)
            f.write("tls %d\n" % (1 if session.ssl else 0))
            f.write("auth %s\n" % (session.authenticated and "yes" or "no"))
        os.rename(base + ".tmp", base + ".eml")
        return self.n


def main():
    portfile, outdir = sys.argv[1], sys.argv[2]
    rest = sys.argv[3:]
    refuse, exclude, fail, cert, key, cred, lmtp = [], [], [], None, None, None, False
    while rest:
        opt = rest.pop(0)
        if opt == "--tls":
            cert, key = rest.pop(0), rest.pop(0)
        elif opt == "--auth":
            cred = rest.pop(0)
        elif opt == "--lmtp":
            lmtp = True
        elif opt == "--fail":
            fail.append(rest.pop(0))
        elif opt == "--exclude":
            exclude.append(rest.pop(0))
        elif opt == "--refuse":
            refuse.append(rest.pop(0))
        else:
            raise SystemExit("unknown option " + opt)
    handler = Store(outdir, refuse, lmtp, fail)
    proto = LMTP if lmtp else SMTP
    kw = {}
    if cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(cert, key)
        kw["tls_context"] = ctx
    if cred:
        user, password = cred.split(":", 1)

        def authenticator(server, session, envelope, mechanism, data):
            ok = (isinstance(data, LoginPassword) and data.login == user.encode()
                  and data.password == password.encode())
            return AuthResult(success=ok, handled=False)

        kw["authenticator"] = authenticator
        kw["auth_require_tls"] = bool(cert)
        if exclude:
            kw["auth_exclude_mechanism"] = exclude
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    srv = loop.run_until_complete(loop.create_server(
        lambda: proto(handler, hostname="aiosmtpd.test", loop=loop, **kw),
        "127.0.0.1", 0))
    port = srv.sockets[0].getsockname()[1]
    with open(portfile + ".tmp", "w") as f:
        f.write("%d\n" % port)
    os.rename(portfile + ".tmp", portfile)
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    loop.run_forever()
    srv.close()
    loop.run_until_complete(srv.wait_closed())


if __name__ == "__main__":
    main()
