#!/bin/sh
# curl's smtp:// and smtps:// against mw-smtpd: several recipients, AUTH
# (curl's own choice, then PLAIN and LOGIN forced), a 1 MB message with
# dot lines and 8-bit text, STARTTLS (--ssl-reqd) and implicit TLS with
# certificate verification. Messages are compared byte for byte with what
# curl puts on the wire (recorded by smtp_capture.py).
# Usage: sh curl.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
need curl || finish
need "$PY" || finish
make_config
# A 1 MB message: CRLF lines, some starting with dots, 8-bit UTF-8 text.
"$PY" - "$TMP/msg.eml" << 'PYEOF'
import random, sys
r = random.Random(3207)
lines = [b"From: a@remote.test", b"To: alice@example.org", b"Subject: curl",
         b"Content-Type: text/plain; charset=utf-8", b"Content-Transfer-Encoding: 8bit", b""]
size = 0
while size < 1000000:
    n = r.randrange(0, 200)
    line = bytes(r.choice(b"abcdefgh .\xc3\xa9") for _ in range(n))
    line = line.replace(b"\xc3", b"").replace(b"\xa9", b"\xc3\xa9")
    if r.random() < 0.05:
        line = b"." + line
    lines.append(line)
    size += len(line) + 2
open(sys.argv[1], "wb").write(b"\r\n".join(lines) + b"\r\n")
PYEOF

# curl_to PORT ARGS...: upload msg.eml.
curl_to() {
    port=$1
    shift
    curl -sS --max-time 30 --url "smtp://127.0.0.1:$port" --mail-from a@remote.test \
        --upload-file "$TMP/msg.eml" "$@"
}
capture "$TMP/ref" curl_to --mail-rcpt alice@example.org || finish

tls_args=
if [ "$HAVE_TLS" = 1 ]; then
    need openssl || finish
    make_cert || { bad "openssl could not make a certificate"; finish; }
    tls_args="--cert $TMP/cert.pem --key $TMP/key.pem --listen-tls 127.0.0.1:0"
fi
# shellcheck disable=SC2086
start_smtpd --maildir-root "$TMP/mail" --users "$TMP/users" --aliases "$TMP/aliases" \
    --domains example.org --plaintext-auth --listen 127.0.0.1:0 $tls_args || finish
exact() { "$PY" "$HERE/mdcheck.py" exact "$TMP/mail/$1/Maildir" "$TMP/ref" "$2" a@remote.test; }

check "1 MB message to 3 recipients exits 0" into "$TMP/out" curl_to "$PORT" \
    --mail-rcpt alice@example.org --mail-rcpt bob@example.org --mail-rcpt team@example.org
check "alice: one byte-exact copy" exact alice 1
check "bob: one byte-exact copy (direct and through the alias)" exact bob 1
check "AUTH with curl's own choice of mechanism" into "$TMP/out" curl_to "$PORT" \
    --mail-rcpt carol@example.org --user carol:"pass word"
check "AUTH PLAIN forced" into "$TMP/out" curl_to "$PORT" --mail-rcpt carol@example.org \
    --user alice:secret --login-options AUTH=PLAIN
check "AUTH LOGIN forced" into "$TMP/out" curl_to "$PORT" --mail-rcpt carol@example.org \
    --user bob:hunter2 --login-options AUTH=LOGIN
curl_to "$PORT" --mail-rcpt carol@example.org --user bob:wrong > "$TMP/out" 2>&1
rc=$?
check "a wrong password fails (curl exit $rc = 67, login denied)" test "$rc" -eq 67
check "carol: three byte-exact copies" exact carol 3
curl_to "$PORT" --mail-rcpt nobody@example.org > "$TMP/out" 2>&1
rc=$?
check "an unknown recipient fails (curl exit $rc = 55)" test "$rc" -eq 55

if [ "$HAVE_TLS" = 1 ]; then
    rm -rf "$TMP/mail/alice"
    check "STARTTLS (--ssl-reqd) with verification + AUTH PLAIN" into "$TMP/out" curl_to "$PORT" \
        --ssl-reqd --cacert "$TMP/cert.pem" --mail-rcpt alice@example.org \
        --user alice:secret --login-options AUTH=PLAIN
    check "implicit TLS (smtps://) with verification" into "$TMP/out" \
        curl -sS --max-time 30 --url "smtps://127.0.0.1:$TLSPORT" --cacert "$TMP/cert.pem" \
        --mail-from a@remote.test --upload-file "$TMP/msg.eml" --mail-rcpt alice@example.org
    check "alice has both TLS messages byte-exact" exact alice 2
fi
check "mw-smtpd stops cleanly" stop_smtpd
finish
