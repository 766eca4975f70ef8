#!/bin/sh
# mw-send (and through it the SMTP client engine) against real servers:
#  (a) Postfix's smtp-sink with PIPELINING and DSN parameters: every dump
#      compared with the message sent;
#  (b) Python's aiosmtpd with a handler that stores envelope and bytes:
#      byte-exact content, several recipients, a refused one (550), AUTH
#      PLAIN and LOGIN, a wrong password, a composed message with an
#      attachment, and with TLS=1 STARTTLS with a throwaway certificate;
#  (c) mw-smtpd end to end into a Maildir, byte-exact.
# Usage: sh mw-send.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
SEND=$BUILD/examples/mw-send
CHK="$HERE/mw-send-check.py"
PATH=$PATH:/usr/sbin:/usr/lib/postfix/sbin
export PATH
PYPID= SINKPID=
# mws ARGS...: mw-send with a short timeout, so a hang fails fast.
mws() { "$SEND" --timeout 30 "$@"; }

[ -x "$SEND" ] || { bad "mw-send is not built"; finish; }
need "$PY" || finish

# Messages: a small one with CRLF line ends and dot lines, and a large one
# (~350 KB, over the engine's 256 KiB output queue) full of dot lines.
printf 'From: a@remote.test\r\nTo: b@example.org\r\nSubject: mw-send\r\n\r\n.\r\n..dots\r\nline\r\n.\r\n. x\r\n' > "$TMP/m1.eml"
"$PY" - "$TMP/m2.eml" <<'EOF'
import random, sys
r = random.Random(7)
out = [b"From: a@remote.test", b"To: b@example.org", b"Subject: big", b""]
for i in range(9000):
    n = r.randrange(0, 76)
    line = bytes(r.choice(b"abcdefghij .") for _ in range(n))
    if i % 7 == 0:
        line = b"." + line
    out.append(line)
open(sys.argv[1], "wb").write(b"\r\n".join(out) + b"\r\n")
EOF
head -c 30000 /dev/urandom > "$TMP/blob.bin"
printf 'Hello,\nthis is the text part.\n.\nbye\n' > "$TMP/text.txt"

# start_py PORTFILE ARGS...: start the aiosmtpd receiver; sets PYPORT, PYPID.
start_py() {
    pf=$1
    shift
    rm -f "$pf"
    "$PY" "$HERE/mw-send-aiosmtpd.py" "$pf" "$@" < /dev/null > "$TMP/py.log" 2>&1 &
    PYPID=$!
    i=0
    while [ ! -s "$pf" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$PYPID" 2> /dev/null; then
            echo "aiosmtpd did not start:"; cat "$TMP/py.log"; PYPID=; return 1
        fi
        sleep 0.05
    done
    PYPORT=$(cat "$pf")
}
stop_pids() {
    for p in $PYPID $SINKPID; do kill "$p" 2> /dev/null; wait "$p" 2> /dev/null; done
    PYPID= SINKPID=
}
trap 'stop_pids; stop_smtpd > /dev/null 2>&1; rm -rf "$TMP"' INT TERM

# rc_is WANT COMMAND...: the command exits with WANT (its output in $TMP/out).
rc_is() {
    want=$1
    shift
    "$@" > "$TMP/out" 2>&1
    got=$?
    [ "$got" -eq "$want" ] || { echo "exit $got, want $want:"; tail -n 15 "$TMP/out"; return 1; }
}
count() { n=$(find "$1" -type f -name "${2:-*}" | wc -l); [ "$n" -eq "$3" ] || { echo "$n files in $1, want $3"; return 1; }; }

# ---- usage and connection errors ------------------------------------
check "no recipient: exit 2" rc_is 2 mws --server 127.0.0.1 --from a@x.test --subject s
check "bad --server: exit 2" rc_is 2 mws --server '[::1' --from a@x.test --to b@x.test --subject s
check "a recipient with a line break: exit 2" rc_is 2 mws --server 127.0.0.1 --from a@x.test \
    --to "$(printf 'b@x.test\r\nRCPT TO:<evil@x.test>')" --message "$TMP/m1.eml"
DEAD=$("$PY" "$CHK" freeport)
check "nothing listening: exit 3" rc_is 3 mws --server "127.0.0.1:$DEAD" --from a@x.test \
    --to b@x.test --message "$TMP/m1.eml"
check "connection error names the reason" grep -q 'Connection refused' "$TMP/out"

# ---- (a) smtp-sink ---------------------------------------------------
if need smtp-sink; then
    mkdir -p "$TMP/sink"
    chmod 777 "$TMP/sink"
    SINKPORT=$("$PY" "$CHK" freeport)
    u=
    [ "$(id -u)" -eq 0 ] && u="-u nobody"
    # shellcheck disable=SC2086
    smtp-sink $u -d "$TMP/sink/%M" -c "127.0.0.1:$SINKPORT" 20 < /dev/null > "$TMP/sink.log" 2>&1 &
    SINKPID=$!
    i=0
    while ! "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1]))).close()" \
        "$SINKPORT" 2> /dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
    done
    check "smtp-sink: 2 recipients with DSN options, exit 0" rc_is 0 mws -v --no-tls \
        --server "127.0.0.1:$SINKPORT" --from a@remote.test --to b@example.org --cc c@example.org \
        --notify success,failure --ret hdrs --envid 'id+1=x' --message "$TMP/m1.eml"
    check "smtp-sink: MAIL, RCPT, RCPT and DATA pipelined before the first reply" "$PY" -c '
import sys
t = [l for l in open(sys.argv[1]).read().splitlines() if l[:2] in ("C:", "S:")]
i = t.index("C: DATA")
sys.exit(0 if t[i - 3].startswith("C: MAIL FROM:") and t[i + 1].startswith("S: 250") else 1)' "$TMP/out"
    f=$(ls "$TMP/sink" | head -n 1)
    check "smtp-sink: dump 1 holds the message byte-exact" "$PY" "$CHK" sink "$TMP/sink/$f" "$TMP/m1.eml"
    check "smtp-sink: ENVID xtext and RET on MAIL" grep -q '^X-Mail-Args: <a@remote.test> RET=HDRS ENVID=id+2B1+3Dx$' "$TMP/sink/$f"
    check "smtp-sink: NOTIFY on both RCPTs" sh -c "[ \$(grep -c '^X-Rcpt-Args: <[bc]@example.org> NOTIFY=SUCCESS,FAILURE\$' '$TMP/sink/$f') -eq 2 ]"
    rm -f "$TMP/sink/$f"
    check "smtp-sink: large message with dot lines, exit 0" rc_is 0 mws --no-tls \
        --server "127.0.0.1:$SINKPORT" --from a@remote.test --to b@example.org --message "$TMP/m2.eml"
    f=$(ls "$TMP/sink" | head -n 1)
    check "smtp-sink: the large message byte-exact" "$PY" "$CHK" sink "$TMP/sink/$f" "$TMP/m2.eml"
    check "smtp-sink: 1 dump left" count "$TMP/sink" '*' 1
    stop_pids
fi

# ---- (b) aiosmtpd ----------------------------------------------------
if ! "$PY" -c 'import aiosmtpd' 2> /dev/null; then
    if [ -n "${CI:-}" ]; then bad "python3-aiosmtpd is not installed (see .ci/deps)"
    else echo "SKIP: python3-aiosmtpd is not installed"; fi
else
    mkdir -p "$TMP/ai"
    if start_py "$TMP/aiport" "$TMP/ai" --auth alice:secret --refuse nobody@example.org; then
        P=$PYPORT
        S() { mws --server "127.0.0.1:$P" --no-tls --from a@remote.test "$@"; }
        check "aiosmtpd: 3 recipients, one refused: exit 1" rc_is 1 S --to b@example.org \
            --to nobody@example.org --cc 'Carol <c@example.org>' --message "$TMP/m1.eml" \
            --user alice --password secret -v
        check "aiosmtpd: the refusal is reported with the server's text" \
            grep -q 'nobody@example.org> refused: 550 5.1.1 <nobody@example.org>: no such user here' "$TMP/out"
        check "aiosmtpd: AUTH PLAIN used, password not shown" sh -c \
            "grep -q '^C: AUTH PLAIN <redacted>' '$TMP/out' && ! grep -q 'AGFsaWNl' '$TMP/out'"
        check "aiosmtpd: message 1 byte-exact" cmp "$TMP/ai/1.eml" "$TMP/m1.eml"
        check "aiosmtpd: envelope of message 1" sh -c "printf 'from a@remote.test\nto b@example.org\nto c@example.org\ntls 0\nauth yes\n' | cmp - '$TMP/ai/1.env'"
        check "aiosmtpd: large message, exit 0" rc_is 0 S --to b@example.org --message "$TMP/m2.eml"
        check "aiosmtpd: large message byte-exact" cmp "$TMP/ai/2.eml" "$TMP/m2.eml"
        check "aiosmtpd: only refused recipients: exit 4" rc_is 4 S --to nobody@example.org \
            --message "$TMP/m1.eml"
        check "aiosmtpd: wrong password: exit 3" rc_is 3 S --to b@example.org --message "$TMP/m1.eml" \
            --user alice --password wrong
        check "aiosmtpd: wrong password reported with 535" grep -q 'authentication failed: 535' "$TMP/out"
        printf 'secret\n' > "$TMP/pw"
        check "aiosmtpd: composed message (text + attachment, Bcc), exit 0" rc_is 0 S \
            --to 'Bob <b@example.org>' --bcc d@example.org --subject 'Grüße, mw-send' \
            --text "$TMP/text.txt" --attach "$TMP/blob.bin:application/x-test" \
            --user alice --password-file "$TMP/pw"
        check "aiosmtpd: composed message parses back exactly" "$PY" "$CHK" composed "$TMP/ai/3.eml" \
            'Grüße, mw-send' "$TMP/text.txt" "$TMP/blob.bin"
        check "aiosmtpd: Bcc recipient in the envelope only" grep -q '^to d@example.org$' "$TMP/ai/3.env"
        check "aiosmtpd: STARTTLS required but not offered: exit 3" rc_is 3 mws \
            --server "127.0.0.1:$P" --starttls --from a@remote.test --to b@example.org --message "$TMP/m1.eml"
        check "aiosmtpd: 3 messages stored" count "$TMP/ai" '*.eml' 3
        stop_pids
    fi
    mkdir -p "$TMP/ai2"
    if start_py "$TMP/aiport2" "$TMP/ai2" --auth bob:hunter2 --exclude PLAIN; then
        check "aiosmtpd: AUTH LOGIN (PLAIN not offered), exit 0" rc_is 0 mws -v --no-tls \
            --server "127.0.0.1:$PYPORT" --from a@remote.test --to b@example.org \
            --message "$TMP/m1.eml" --user bob --password hunter2
        check "aiosmtpd: LOGIN used, both answers redacted" sh -c \
            "grep -q '^C: AUTH LOGIN' '$TMP/out' && [ \$(grep -c '^C: <redacted>' '$TMP/out') -ge 2 ] && ! grep -q 'aHVudGVyMg' '$TMP/out'"
        check "aiosmtpd: AUTH LOGIN message byte-exact" cmp "$TMP/ai2/1.eml" "$TMP/m1.eml"
        stop_pids
    fi
    mkdir -p "$TMP/ai4"
    if start_py "$TMP/aiport4" "$TMP/ai4" --lmtp --refuse nobody@example.org --fail full@example.org; then
        check "aiosmtpd LMTP: 4 recipients, one refused at RCPT, one failed after DATA: exit 1" \
            rc_is 1 mws --lmtp -v --no-tls --server "127.0.0.1:$PYPORT" --from a@remote.test \
            --to b@example.org --to nobody@example.org --to full@example.org --to c@example.org \
            --message "$TMP/m2.eml"
        check "aiosmtpd LMTP: LHLO, and the failed delivery reported with its text" sh -c \
            "grep -q '^C: LHLO ' '$TMP/out' && grep -q 'delivery to <full@example.org> failed: 452 4.2.2 <full@example.org>: mailbox full' '$TMP/out'"
        check "aiosmtpd LMTP: one final reply per accepted recipient" sh -c \
            "[ \$(grep -c '^S: 250 2.0.0 <[bc]@example.org> delivered' '$TMP/out') -eq 2 ]"
        check "aiosmtpd LMTP: message byte-exact, envelope b and c" sh -c \
            "cmp '$TMP/ai4/1.eml' '$TMP/m2.eml' && grep -q '^to b@example.org\$' '$TMP/ai4/1.env' && grep -q '^to c@example.org\$' '$TMP/ai4/1.env'"
        check "aiosmtpd LMTP: every delivery failed: exit 4" rc_is 4 mws --lmtp --no-tls \
            --server "127.0.0.1:$PYPORT" --from a@remote.test --to full@example.org --message "$TMP/m1.eml"
        stop_pids
    fi
    if [ "$HAVE_TLS" = 1 ] && need openssl; then
        make_cert || bad "openssl could not make a certificate"
        mkdir -p "$TMP/ai3"
        if start_py "$TMP/aiport3" "$TMP/ai3" --tls "$TMP/cert.pem" "$TMP/key.pem" --auth alice:secret; then
            T() { mws --server "localhost:$PYPORT" --from a@remote.test --to b@example.org "$@"; }
            check "aiosmtpd: STARTTLS (verified, --cafile) + AUTH, exit 0" rc_is 0 T --starttls \
                --cafile "$TMP/cert.pem" --user alice --password secret --message "$TMP/m2.eml" -v
            check "aiosmtpd: EHLO again after TLS, AUTH only then" "$PY" -c '
import sys
t = open(sys.argv[1]).read()
sys.exit(0 if t.count("C: EHLO ") == 2 and t.index("-- TLS") < t.index("C: AUTH PLAIN") else 1)' "$TMP/out"
            check "aiosmtpd: STARTTLS message byte-exact" cmp "$TMP/ai3/1.eml" "$TMP/m2.eml"
            check "aiosmtpd: stored under TLS with AUTH" grep -q '^tls 1$' "$TMP/ai3/1.env"
            check "aiosmtpd: an untrusted certificate: exit 3" rc_is 3 T --starttls \
                --cafile /etc/ssl/certs/ca-certificates.crt --message "$TMP/m1.eml"
            check "aiosmtpd: the verification error is shown" grep -q 'certificate verify failed' "$TMP/out"
            check "aiosmtpd: opportunistic STARTTLS with --insecure, exit 0" rc_is 0 T --insecure \
                --message "$TMP/m1.eml"
            check "aiosmtpd: opportunistic message byte-exact under TLS" sh -c \
                "cmp '$TMP/ai3/2.eml' '$TMP/m1.eml' && grep -q '^tls 1\$' '$TMP/ai3/2.env'"
            stop_pids
        fi
    fi
fi

# ---- (c) mw-smtpd ------------------------------------------------------
if [ -x "$SMTPD" ]; then
    make_config
    tls_args=
    if [ "$HAVE_TLS" = 1 ] && [ -s "$TMP/cert.pem" ]; then
        tls_args="--cert $TMP/cert.pem --key $TMP/key.pem --listen-tls 127.0.0.1:0"
    fi
    # shellcheck disable=SC2086
    if start_smtpd --maildir-root "$TMP/mail" --users "$TMP/users" --aliases "$TMP/aliases" \
        --domains example.org --plaintext-auth --listen 127.0.0.1:0 $tls_args; then
        exact() { "$PY" "$HERE/mdcheck.py" exact "$TMP/mail/$1/Maildir" "$2" "$3" a@remote.test; }
        check "mw-smtpd: 2 recipients + alias, exit 0" rc_is 0 mws --no-tls \
            --server "127.0.0.1:$PORT" --from a@remote.test --to alice@example.org --to team@example.org \
            --message "$TMP/m1.eml" --user carol --password 'pass word'
        check "mw-smtpd: alice byte-exact" exact alice "$TMP/m1.eml" 1
        check "mw-smtpd: bob (via team) byte-exact" exact bob "$TMP/m1.eml" 1
        check "mw-smtpd: relay refused: exit 4" rc_is 4 mws --no-tls \
            --server "127.0.0.1:$PORT" --from a@remote.test --to x@remote.test --message "$TMP/m1.eml"
        if [ -n "$tls_args" ]; then
            check "mw-smtpd: STARTTLS large message, exit 0" rc_is 0 mws --starttls \
                --cafile "$TMP/cert.pem" --server "localhost:$PORT" --from a@remote.test \
                --to carol@example.org --message "$TMP/m2.eml"
            check "mw-smtpd: implicit TLS, exit 0" rc_is 0 mws --tls --cafile "$TMP/cert.pem" \
                --server "localhost:$TLSPORT" --from a@remote.test --to carol@example.org \
                --message "$TMP/m2.eml"
            check "mw-smtpd: carol has both TLS messages byte-exact" exact carol "$TMP/m2.eml" 2
        fi
        check "mw-smtpd stops cleanly" stop_smtpd
    fi
else
    echo "SKIP: mw-smtpd is not built"
fi
stop_pids
finish
