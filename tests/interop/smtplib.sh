#!/bin/sh
# Python's smtplib (Debian's /usr/bin/python3) against mw-smtpd: EHLO,
# AUTH PLAIN/LOGIN/CRAM-MD5, several recipients with aliases, a MIME
# message with attachments (email.policy.SMTP), dot lines, the null
# sender, relaying and its queue, size limits, a pipelined burst, STARTTLS
# and implicit TLS with a throwaway certificate; then IPv6, the idle
# timeout and shutdown with a session open.
# Usage: sh smtplib.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
need "$PY" || finish
make_config
tls_args=
if [ "$HAVE_TLS" = 1 ]; then
    need openssl || finish
    make_cert || { bad "openssl could not make a certificate"; finish; }
    tls_args="--cert $TMP/cert.pem --key $TMP/key.pem --listen-tls 127.0.0.1:0"
fi

# shellcheck disable=SC2086
start_smtpd --maildir-root "$TMP/mail" --users "$TMP/users" --aliases "$TMP/aliases" \
    --domains example.org --queue "$TMP/queue" --plaintext-auth --max-size 200000 \
    --listen 127.0.0.1:0 $tls_args || finish
"$PY" "$HERE/smtplib_client.py" "$PORT" "$TMP" "$TLSPORT" > "$TMP/py.out" 2>&1
cat "$TMP/py.out"
pass=$((pass + $(grep -c '^ok:' "$TMP/py.out")))
fail=$((fail + $(grep -c '^FAIL:' "$TMP/py.out")))
grep -q '^ok:' "$TMP/py.out" || bad "smtplib_client.py ran no test"
check "mw-smtpd stops cleanly" stop_smtpd

# smtp_dialog PORT HOST SCRIPT: run a tiny smtplib/socket script; prints its result.
dialog() {
    "$PY" -c "$3" "$1" "$2" 2>&1
}

# IPv6 loopback listener.
if "$PY" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2> /dev/null; then
    start_smtpd --maildir-root "$TMP/mail" --domains example.org --listen '[::1]:0' || finish
    out=$(dialog "$PORT" ::1 'import smtplib,sys
s=smtplib.SMTP(sys.argv[2],int(sys.argv[1]),timeout=10)
print(s.sendmail("a@b.test",["v6@example.org"],b"Subject: v6\r\n\r\nover IPv6\r\n")); s.quit()')
    check "IPv6 [::1] listener takes a message ($out)" test "$out" = "{}"
    check "IPv6 message stored" "$PY" "$HERE/mdcheck.py" count "$TMP/mail/v6/Maildir" 1
    check "Received names the client as [IPv6:::1] (RFC 5321 §4.4)" \
        grep -q '^Received: from [^ ]* (\[IPv6:::1\])' "$TMP"/mail/v6/Maildir/new/*
    check "mw-smtpd stops cleanly (IPv6)" stop_smtpd
else
    echo "SKIP: no IPv6 loopback on this machine"
fi

# Without --plaintext-auth, PLAIN/LOGIN are not offered before TLS.
start_smtpd --maildir-root "$TMP/mail" --users "$TMP/users" --domains example.org \
    --listen 127.0.0.1:0 --idle-timeout 1 || finish
out=$(dialog "$PORT" 127.0.0.1 'import smtplib,sys
s=smtplib.SMTP(sys.argv[2],int(sys.argv[1]),timeout=10); s.ehlo("c.test")
print(s.esmtp_features.get("auth","").strip()); s.quit()')
check "without TLS only SCRAM-SHA-256 and CRAM-MD5 are offered ($out)" test "$out" = "SCRAM-SHA-256 CRAM-MD5"

# Idle timeout: a silent client gets 421 after --idle-timeout.
out=$(dialog "$PORT" 127.0.0.1 'import socket,sys,time
c=socket.create_connection((sys.argv[2],int(sys.argv[1])),timeout=10); f=c.makefile("rb")
f.readline(); t=time.time(); line=f.readline(); print(line[:3].decode(), int(time.time()-t+0.5))')
check "idle session closed with 421 after 1 s ($out)" test "$out" = "421 1"

# Shutdown: SIGTERM with a session open in the middle of a transaction.
"$PY" -c 'import socket,sys,time
c=socket.create_connection(("127.0.0.1",int(sys.argv[1])),timeout=10); f=c.makefile("rb"); f.readline()
c.sendall(b"EHLO c.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\npartial")
open(sys.argv[2]+"/ready","w").close()
while True:
    l=f.readline()
    if not l or l.startswith(b"421"): break
print(l[:3].decode())' "$PORT" "$TMP" > "$TMP/shut.out" 2>&1 &
client=$!
i=0
while [ ! -e "$TMP/ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
check "SIGTERM: mw-smtpd exits 0" stop_smtpd
wait $client
check "SIGTERM: the open session got 421 ($(cat "$TMP/shut.out"))" test "$(cat "$TMP/shut.out")" = "421"
check "SIGTERM: the half-received message left no file" \
    test -z "$(ls -A "$TMP/mail/.spool/tmp" 2> /dev/null)"
finish
