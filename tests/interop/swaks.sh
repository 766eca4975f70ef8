#!/bin/sh
# swaks against mw-smtpd: a message with dot lines, AUTH PLAIN / LOGIN /
# CRAM-MD5 and a wrong password, PIPELINING with several recipients,
# STARTTLS and implicit TLS (with the adapter). Messages are compared byte
# for byte with what swaks puts on the wire (recorded by smtp_capture.py).
# Usage: sh swaks.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
need swaks || finish
need "$PY" || finish
make_config
printf 'From: a@remote.test\nSubject: swaks\n\n.\n..dots\nline\n.\n' > "$TMP/msg.txt"

# swaks_to PORT ARGS...: send msg.txt with swaks.
swaks_to() {
    port=$1
    shift
    swaks --server "127.0.0.1:$port" --from a@remote.test --data "$TMP/msg.txt" \
        --timeout 20 "$@"
}
capture "$TMP/ref" swaks_to --to alice@example.org || finish

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

check "plain delivery exits 0" into "$TMP/out" swaks_to "$PORT" --to alice@example.org
check "alice has the message byte-exact" exact alice 1
for mech in PLAIN LOGIN CRAM-MD5; do
    check "AUTH $mech exits 0" into "$TMP/out" swaks_to "$PORT" --to bob@example.org -a "$mech" -au bob -ap hunter2
    check "AUTH $mech answered 235" grep -q '^<-  235 ' "$TMP/out"
done
check "bob has 3 byte-exact copies" exact bob 3
swaks_to "$PORT" --to bob@example.org -a PLAIN -au bob -ap wrong > "$TMP/out" 2>&1
check "a wrong password fails (swaks exit $?) with 535" grep -q '^<\*\* 535 ' "$TMP/out"
rm -rf "$TMP/mail/alice" "$TMP/mail/bob" "$TMP/mail/carol"
check "PIPELINING, 3 recipients incl. an alias exits 0" \
    into "$TMP/out" swaks_to "$PORT" --pipeline --to alice@example.org,team@example.org,carol@example.org
check "pipelining was used" grep -q 'PIPELINING' "$TMP/out"
check "alice: one copy" exact alice 1
check "bob (through team): one copy" exact bob 1
check "carol: one copy" exact carol 1
swaks_to "$PORT" --to someone@remote.test > "$TMP/out" 2>&1
check "relay refused with 550 when there is no queue" grep -q '^<\*\* 550 5.7.1' "$TMP/out"

if [ "$HAVE_TLS" = 1 ] && perl -MNet::SSLeay -e 1 2> /dev/null; then
    rm -rf "$TMP/mail/alice"
    check "STARTTLS + AUTH PLAIN exits 0" into "$TMP/out" swaks_to "$PORT" --to alice@example.org --tls \
        -a PLAIN -au alice -ap secret
    check "STARTTLS: TLS started" grep -q 'TLS started' "$TMP/out"
    check "implicit TLS (--tlsc) exits 0" into "$TMP/out" swaks_to "$TLSPORT" --to alice@example.org --tlsc
    check "alice has both TLS messages byte-exact" exact alice 2
elif [ "$HAVE_TLS" = 1 ]; then
    need_ssleay=$(perl -MNet::SSLeay -e 1 2>&1 | head -n 1)
    if [ -n "${CI:-}" ]; then bad "swaks TLS needs Net::SSLeay (libnet-ssleay-perl): $need_ssleay"
    else echo "SKIP: swaks TLS needs libnet-ssleay-perl"; fi
fi
check "mw-smtpd stops cleanly" stop_smtpd
finish
