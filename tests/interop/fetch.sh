#!/bin/sh
# mw-fetch (the POP3 client engine) against mw-pop3d and Dovecot's POP3
# server: keep mode (a second run fetches only new mail), delete mode,
# Maildir and mbox targets, STLS and implicit TLS, a wrong password,
# the -v dialog with the password redacted. Messages are compared byte for
# byte with the files the servers hold.
# Usage: sh fetch.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
. "$HERE/pop3_helpers"
FETCH=$BUILD/examples/mw-fetch
DOVECOT_PID=
stop_dovecot() {
    [ -n "$DOVECOT_PID" ] || return 0
    kill "$DOVECOT_PID" 2> /dev/null
    wait "$DOVECOT_PID" 2> /dev/null
    DOVECOT_PID=
}
trap 'stop_pop3d > /dev/null 2>&1; stop_dovecot; rm -rf "$TMP"' INT TERM
need "$PY" || finish
make_config
MD=$TMP/mail
printf 'secret\n' > "$TMP/pw.alice"
printf 'hunter2\n' > "$TMP/pw.bob"
printf 'wrong\n' > "$TMP/pw.wrong"
sameset() { "$PY" "$HERE/pop3_client.py" sameset "$1" "$2"; }
nfiles() { find "$1" -path '*/tmp' -prune -o -type f ! -name '.*' -print | wc -l; }

make_msgs "$MD/alice/Maildir" 5 41
cp -r "$MD/alice/Maildir" "$TMP/ref1"
tls_args=
if [ "$HAVE_TLS" = 1 ]; then
    need openssl || finish
    make_cert_dns || { bad "openssl could not make a certificate"; finish; }
    tls_args="--cert $TMP/cert.pem --key $TMP/key.pem --listen-tls 127.0.0.1:0"
fi
# shellcheck disable=SC2086
start_pop3d pop3d --maildir-root "$MD" --users "$TMP/users" --plaintext-auth \
    --listen 127.0.0.1:0 $tls_args || finish
F() { "$FETCH" pop3 --server "127.0.0.1:$P3PORT" "$@"; }

# --- mw-pop3d: keep mode, Maildir ---------------------------------------
check "keep mode: first run" into "$TMP/f.out" F --user alice --password-file "$TMP/pw.alice" \
    --keep --maildir "$TMP/k"
check "keep mode: 5 messages, byte-exact" sameset "$TMP/k" "$TMP/ref1"
check "keep mode: the server still has 5" test "$(nfiles "$MD/alice/Maildir")" -eq 5
check "keep mode: second run" into "$TMP/f.out" F --user alice --password-file "$TMP/pw.alice" \
    --keep --maildir "$TMP/k"
check "keep mode: nothing fetched twice" test "$(nfiles "$TMP/k")" -eq 5
sleep 1 # new names sort after the old ones
make_msgs "$MD/alice/Maildir" 2 42
cp -r "$MD/alice/Maildir" "$TMP/ref2"
check "keep mode: third run after 2 new messages" into "$TMP/f.out" F --user alice \
    --password-file "$TMP/pw.alice" --keep --maildir "$TMP/k" -v
check "keep mode: now 7 messages, byte-exact" sameset "$TMP/k" "$TMP/ref2"
check "-v shows the dialog" grep -q '^C: RETR' "$TMP/f.out"
check "-v: AUTH SCRAM-SHA-256 was chosen against mw-pop3d" grep -q '^C: AUTH SCRAM-SHA-256' "$TMP/f.out"
check "-v hides the password" sh -c "! grep -q secret '$TMP/f.out' && grep -q redacted '$TMP/f.out'"

# --- mw-pop3d: wrong password, then delete mode into mbox ------------------
F --user alice --password-file "$TMP/pw.wrong" --maildir "$TMP/w" > "$TMP/f.out" 2>&1
rc=$?
check "a wrong password fails (exit $rc)" test "$rc" -eq 1
check "... and deletes nothing" test "$(nfiles "$MD/alice/Maildir")" -eq 7
check "delete mode into an mbox" into "$TMP/f.out" F --user alice \
    --password-file "$TMP/pw.alice" --mbox "$TMP/box"
check "delete mode: the server's Maildir is empty" test "$(nfiles "$MD/alice/Maildir")" -eq 0
check "mbox: From_ lines in the bodies were quoted" grep -q '^>From the start' "$TMP/box"
check "mbox: 7 messages, identical after CRLF->LF (Python mailbox)" \
    "$PY" "$HERE/pop3_client.py" mboxcheck "$TMP/box" "$TMP/ref2"

if [ "$HAVE_TLS" = 1 ]; then
    make_msgs "$MD/bob/Maildir" 3 43
    cp -r "$MD/bob/Maildir" "$TMP/ref3"
    check "--stls (certificate verified), delete mode" into "$TMP/f.out" F --user bob \
        --password-file "$TMP/pw.bob" --stls --ca-file "$TMP/cert.pem" --maildir "$TMP/s"
    check "--stls: 3 messages byte-exact, server empty" sh -c \
        "'$PY' '$HERE/pop3_client.py' sameset '$TMP/s' '$TMP/ref3' && test \$(ls '$MD/bob/Maildir/new' | wc -l) -eq 0"
    make_msgs "$MD/bob/Maildir" 3 44
    cp -r "$MD/bob/Maildir" "$TMP/ref4"
    check "--tls (implicit), keep mode" into "$TMP/f.out" "$FETCH" pop3 \
        --server "127.0.0.1:$P3TLSPORT" --tls --user bob --password-file "$TMP/pw.bob" \
        --ca-file "$TMP/cert.pem" --keep --maildir "$TMP/t"
    check "--tls: 3 messages byte-exact" sameset "$TMP/t" "$TMP/ref4"
    check "--stls against an untrusted certificate fails" sh -c "! '$FETCH' pop3 --server \
        127.0.0.1:$P3PORT --stls --user bob --password-file '$TMP/pw.bob' --maildir '$TMP/u' \
        > '$TMP/f.out' 2>&1"
fi
check "mw-pop3d stops cleanly" stop_pop3d

# --- Dovecot's POP3 server ------------------------------------------------
if need dovecot; then
    D=$TMP/dovecot
    mkdir -p "$D/run" "$D/state" "$D/index" "$D/dmail"
    DPORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    printf 'carol:{PLAIN}pass word:8:8::%s/dmail/carol::\n' "$D" > "$D/passwd"
    cat > "$D/dovecot.conf" << EOF2
base_dir = $D/run
state_dir = $D/state
log_path = $D/log
instance_name = mwfetch$$
protocols = pop3
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_uid = mail
mail_gid = mail
first_valid_uid = 8
mail_location = maildir:$D/dmail/%u/Maildir:INDEX=$D/index/%u:CONTROL=$D/index/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN $D/passwd
}
userdb {
  driver = passwd-file
  args = $D/passwd
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $DPORT
  }
  inet_listener pop3s {
    port = 0
  }
}
EOF2
    make_msgs "$D/dmail/carol/Maildir" 4 45
    cp -r "$D/dmail/carol/Maildir" "$TMP/ref5"
    chown -R mail:mail "$D/dmail" "$D/index" 2> /dev/null
    chmod -R a+rX "$D"
    printf 'pass word\n' > "$TMP/pw.carol"
    dovecot -F -c "$D/dovecot.conf" < /dev/null > "$D/stdout" 2>&1 &
    DOVECOT_PID=$!
    i=0
    until "$PY" -c "import socket,sys; socket.create_connection(('127.0.0.1',$DPORT),1)" 2> /dev/null; do
        i=$((i + 1))
        [ $i -gt 100 ] && break
        sleep 0.1
    done
    G() { "$FETCH" pop3 --server "127.0.0.1:$DPORT" --user carol --password-file "$TMP/pw.carol" "$@"; }
    check "Dovecot: keep mode" into "$TMP/f.out" G --keep --maildir "$TMP/dk"
    check "Dovecot: keep mode, 4 messages byte-exact" sameset "$TMP/dk" "$TMP/ref5"
    check "Dovecot: keep mode, second run" into "$TMP/f.out" G --keep --maildir "$TMP/dk"
    check "Dovecot: nothing fetched twice" test "$(nfiles "$TMP/dk")" -eq 4
    check "Dovecot: delete mode (-v)" into "$TMP/f.out" G --maildir "$TMP/dd" -v
    check "Dovecot: delete mode, 4 messages byte-exact" sameset "$TMP/dd" "$TMP/ref5"
    check "Dovecot: its Maildir is empty" test "$(nfiles "$D/dmail/carol/Maildir")" -eq 0
    check "Dovecot: -v shows AUTH PLAIN (its best mechanism)" grep -q '^C: AUTH PLAIN <redacted>' "$TMP/f.out"
    check "Dovecot: -v hides the password" sh -c "! grep -q 'pass word' '$TMP/f.out'"
    [ "$fail" -eq 0 ] || { cat "$TMP/f.out"; tail -n 20 "$D/log" "$D/stdout"; }
    stop_dovecot
fi
finish
