#!/bin/sh
# msmtp (a sendmail-style client, GNU SASL inside) against mw-smtpd:
# delivery to several recipients, AUTH with SCRAM-SHA-256, CRAM-MD5,
# PLAIN and LOGIN, a wrong password, STARTTLS and implicit TLS with a
# trust file. Messages are compared byte for byte with what msmtp puts on
# the wire (recorded by smtp_capture.py); the message has its own Date: and
# Message-ID:, so msmtp adds neither.
# Usage: sh msmtp.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
need msmtp || finish
need "$PY" || finish
make_config
printf 'From: a@remote.test\nTo: alice@example.org\nDate: Fri, 27 Nov 2026 00:00:00 +0000\nMessage-ID: <msmtp-test@example.org>\nSubject: msmtp\n\n.\n..two\nbody\n' > "$TMP/msg.txt"

# rc FILE PORT LINES...: write an msmtp configuration (it must be mode 0600).
rc() {
    f=$1
    port=$2
    shift 2
    { printf 'account default\nhost 127.0.0.1\nport %s\nfrom a@remote.test\ntimeout 20\n' "$port"
      for l in "$@"; do printf '%s\n' "$l"; done; } > "$f"
    chmod 600 "$f"
}
# send_with PORT CONFIG-LINES... -- RECIPIENTS...
msmtp_to() {
    port=$1
    shift
    rc "$TMP/msmtprc" "$port" 'auth off' 'tls off'
    msmtp -C "$TMP/msmtprc" "$@" < "$TMP/msg.txt"
}
capture "$TMP/ref" msmtp_to alice@example.org || finish

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
# auth_send MECH USER PASSWORD RCPT: one message with AUTH.
auth_send() {
    rc "$TMP/rc-auth" "$PORT" "auth $1" "user $2" "password $3" 'tls off'
    msmtp -C "$TMP/rc-auth" "$4" < "$TMP/msg.txt"
}

check "delivery to 2 recipients and an alias exits 0" into "$TMP/out" \
    msmtp_to "$PORT" alice@example.org carol@example.org team@example.org
check "alice: one byte-exact copy" exact alice 1
check "bob (through team): one byte-exact copy" exact bob 1
check "carol: one byte-exact copy" exact carol 1
for mech in scram-sha-256 cram-md5 plain login; do
    check "AUTH $mech" into "$TMP/out" auth_send "$mech" carol "pass word" bob@example.org
done
check "bob: four more byte-exact copies" exact bob 5
auth_send scram-sha-256 carol wrong bob@example.org > "$TMP/out" 2>&1
check "SCRAM-SHA-256 with a wrong password fails (exit $?)" grep -q '535' "$TMP/out"
check "the server logged four AUTH successes" \
    test "$(grep -c 'authenticated as carol' "$TMP/smtpd.log")" -eq 4

if [ "$HAVE_TLS" = 1 ]; then
    rm -rf "$TMP/mail/alice"
    rc "$TMP/rc-tls" "$PORT" 'auth plain' 'user alice' 'password secret' 'tls on' \
        'tls_starttls on' "tls_trust_file $TMP/cert.pem" 'tls_host_override localhost'
    check "STARTTLS with verification + AUTH PLAIN" into "$TMP/out" \
        sh -c 'msmtp -C "$1" alice@example.org < "$2"' sh "$TMP/rc-tls" "$TMP/msg.txt"
    rc "$TMP/rc-tlsc" "$TLSPORT" 'auth scram-sha-256' 'user alice' 'password secret' 'tls on' \
        'tls_starttls off' "tls_trust_file $TMP/cert.pem" 'tls_host_override localhost'
    check "implicit TLS with verification + SCRAM-SHA-256" into "$TMP/out" \
        sh -c 'msmtp -C "$1" alice@example.org < "$2"' sh "$TMP/rc-tlsc" "$TMP/msg.txt"
    check "alice has both TLS messages byte-exact" exact alice 2
fi
check "mw-smtpd stops cleanly" stop_smtpd
finish
