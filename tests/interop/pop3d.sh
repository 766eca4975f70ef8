#!/bin/sh
# Real POP3 clients against mw-pop3d: Python's poplib (USER/PASS, APOP,
# STAT, LIST, UIDL, TOP, RETR byte-exact with dot lines, DELE/RSET/QUIT,
# [IN-USE] for a second login, STLS and implicit TLS), curl pop3:// (LIST,
# RETR byte-exact, AUTH mechanisms, DELE), fetchmail into an mda (delete
# mode). Messages are written into new/ directly and delivered by mw-smtpd.
# Usage: sh pop3d.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
. "$HERE/pop3_helpers"
trap 'stop_pop3d > /dev/null 2>&1; stop_smtpd > /dev/null 2>&1; rm -rf "$TMP"' INT TERM
need "$PY" || finish
make_config
MD=$TMP/mail
make_msgs "$MD/alice/Maildir" 6 11

tls_args=
if [ "$HAVE_TLS" = 1 ]; then
    need openssl || finish
    make_cert_dns || { bad "openssl could not make a certificate"; finish; }
    tls_args="--cert $TMP/cert.pem --key $TMP/key.pem --listen-tls 127.0.0.1:0"
fi

# --- Python poplib, plaintext auth allowed, APOP on --------------------
start_pop3d pop3d --maildir-root "$MD" --users "$TMP/users" --plaintext-auth --apop \
    --listen 127.0.0.1:0 || finish
"$PY" "$HERE/pop3_client.py" poplib "$P3PORT" "$MD/alice/Maildir" 1 > "$TMP/py.out" 2>&1
cat "$TMP/py.out"
pass=$((pass + $(grep -c '^ok: ' "$TMP/py.out")))
fail=$((fail + $(grep -c '^FAIL: ' "$TMP/py.out")))
check "poplib run produced its checks" test "$(grep -c '^ok: ' "$TMP/py.out")" -ge 18
check "one log line per session" grep -q 'session user=alice tls=no retrieved=8 deleted=0 result=quit' "$TMP/pop3d.log"

# --- curl pop3:// (bob) -----------------------------------------------
if need curl; then
    make_msgs "$MD/bob/Maildir" 3 22
    pc() { curl -sS --max-time 30 "$@"; }
    bobfile() { ls "$MD/bob/Maildir/new" | sort | sed -n "${1}p"; }
    f1=$MD/bob/Maildir/new/$(bobfile 1)
    f3=$MD/bob/Maildir/new/$(bobfile 3)
    pc -u bob:hunter2 "pop3://127.0.0.1:$P3PORT/" > "$TMP/curl.list" 2> "$TMP/curl.err"
    for f in $(ls "$MD/bob/Maildir/new" | sort); do
        wc -c < "$MD/bob/Maildir/new/$f"
    done | awk '{printf "%d %d\r\n", NR, $1}' > "$TMP/curl.want"
    check "curl LIST matches the Maildir" cmp -s "$TMP/curl.list" "$TMP/curl.want"
    check "curl RETR 1 (curl's own AUTH choice)" into "$TMP/curl.err" \
        pc -u bob:hunter2 "pop3://127.0.0.1:$P3PORT/1" -o "$TMP/c1"
    check "curl RETR 1 byte-exact" cmp -s "$TMP/c1" "$f1"
    for mech in PLAIN LOGIN CRAM-MD5; do
        check "curl AUTH=$mech RETR 3" into "$TMP/curl.err" pc -u bob:hunter2 \
            --login-options "AUTH=$mech" "pop3://127.0.0.1:$P3PORT/3" -o "$TMP/c3"
        check "curl AUTH=$mech RETR 3 byte-exact (300 KB, dot lines)" cmp -s "$TMP/c3" "$f3"
    done
    check "curl APOP (AUTH=+APOP) RETR 1" into "$TMP/curl.err" pc -u bob:hunter2 \
        --login-options "AUTH=+APOP" "pop3://127.0.0.1:$P3PORT/1" -o "$TMP/c1b"
    check "curl APOP RETR 1 byte-exact" cmp -s "$TMP/c1b" "$f1"
    pc -u bob:wrong "pop3://127.0.0.1:$P3PORT/" > "$TMP/curl.err" 2>&1
    rc=$?
    check "curl with a wrong password fails (exit $rc = 67)" test "$rc" -eq 67
    check "curl DELE 1 (commits at QUIT)" into "$TMP/curl.err" pc -u bob:hunter2 -X DELE -I \
        "pop3://127.0.0.1:$P3PORT/1"
    check "curl DELE removed the file" test ! -e "$f1"
    check "two files are left for bob" test "$(ls "$MD/bob/Maildir/new" | wc -l)" -eq 2
fi

# --- mw-smtpd delivers, poplib-free check through curl ------------------
if need curl; then
    printf 'From: a@remote.test\r\nTo: carol@example.org\r\nSubject: via smtpd\r\n\r\n.dot line\r\nbody\r\n' > "$TMP/s.eml"
    if start_smtpd --maildir-root "$MD" --users "$TMP/users" --domains example.org \
        --no-trace --listen 127.0.0.1:0; then
        check "mw-smtpd took a message for carol" into "$TMP/curl.err" curl -sS --max-time 30 \
            --url "smtp://127.0.0.1:$PORT" --mail-from a@remote.test \
            --mail-rcpt carol@example.org --upload-file "$TMP/s.eml"
        stop_smtpd
        check "curl retrieves the message mw-smtpd delivered, byte-exact" into "$TMP/curl.err" \
            curl -sS --max-time 30 -u "carol:pass word" "pop3://127.0.0.1:$P3PORT/1" -o "$TMP/cs"
        check "... identical to what curl sent" cmp -s "$TMP/cs" "$TMP/s.eml"
    fi
fi
check "mw-pop3d (plaintext instance) stops cleanly" stop_pop3d

# --- strict instance: no plaintext auth before TLS; STLS; implicit TLS ---
# shellcheck disable=SC2086
start_pop3d strict --maildir-root "$MD" --users "$TMP/users" --listen 127.0.0.1:0 $tls_args || finish
cafile=-
[ "$HAVE_TLS" = 1 ] && cafile=$TMP/cert.pem
"$PY" "$HERE/pop3_client.py" strict "$P3PORT" "${P3TLSPORT:-0}" "$cafile" "$MD/alice/Maildir" \
    > "$TMP/py.out" 2>&1
cat "$TMP/py.out"
pass=$((pass + $(grep -c '^ok: ' "$TMP/py.out")))
fail=$((fail + $(grep -c '^FAIL: ' "$TMP/py.out")))
if [ "$HAVE_TLS" = 1 ] && need curl; then
    check "curl STLS (--ssl-reqd, verified) RETR byte-exact" into "$TMP/curl.err" \
        curl -sS --max-time 30 --ssl-reqd --cacert "$TMP/cert.pem" -u bob:hunter2 \
        "pop3://127.0.0.1:$P3PORT/2" -o "$TMP/ct"
    check "... byte-exact" cmp -s "$TMP/ct" "$f3"
    check "curl pop3s:// (implicit TLS) RETR" into "$TMP/curl.err" \
        curl -sS --max-time 30 --cacert "$TMP/cert.pem" -u bob:hunter2 \
        "pop3s://127.0.0.1:$P3TLSPORT/2" -o "$TMP/ct2"
    check "... byte-exact" cmp -s "$TMP/ct2" "$f3"
fi

# --- fetchmail (delete mode) into an mda ---------------------------------
if need fetchmail; then
    make_msgs "$MD/carol/Maildir" 4 33
    mkdir -p "$TMP/fm/orig" "$TMP/fm/out"
    cp "$MD"/carol/Maildir/new/*mwtest* "$TMP/fm/orig/"
    printf '#!/bin/sh\ncat > "%s/fm/out/$$.$(date +%%s%%N)"\n' "$TMP" > "$TMP/fm/mda.sh"
    chmod 755 "$TMP/fm/mda.sh"
    sslopt="sslproto ''" # without TLS: do not try STLS (fetchmail 6.4.37 tries it unasked)
    [ "$HAVE_TLS" = 1 ] && sslopt="sslcertfile \"$TMP/cert.pem\" sslcertck"
    cat > "$TMP/fm/rc" << EOF2
set no bouncemail
poll 127.0.0.1 protocol pop3 port $P3PORT
  user "carol" password "pass word" is "root" here
  mda "$TMP/fm/mda.sh" no rewrite $sslopt
EOF2
    chmod 600 "$TMP/fm/rc"
    if [ "$HAVE_TLS" = 1 ]; then
        name="fetchmail (STLS by itself, certificate checked) fetches 5 messages"
    else
        # The strict instance refuses plaintext without TLS: use a second one.
        stop_pop3d
        start_pop3d fm --maildir-root "$MD" --users "$TMP/users" --plaintext-auth \
            --listen 127.0.0.1:0 || finish
        sed -i "s/port [0-9]*/port $P3PORT/" "$TMP/fm/rc"
        name="fetchmail fetches 5 messages"
    fi
    HOME=$TMP/fm FETCHMAILHOME=$TMP/fm fetchmail -f "$TMP/fm/rc" --nosyslog --invisible -v \
        < /dev/null > "$TMP/fm/log" 2>&1
    rc=$?
    check "$name (exit $rc)" test "$rc" -eq 0 -a "$(ls "$TMP/fm/out" | wc -l)" -eq 5
    [ "$HAVE_TLS" = 1 ] && check "fetchmail's session ran under TLS (server log)" \
        grep -q 'session user=carol tls=yes retrieved=5 deleted=5' "$TMP/strict.log"
    check "fetchmail deleted them (carol's Maildir is empty)" \
        test "$(ls "$MD/carol/Maildir/new" "$MD/carol/Maildir/cur" | grep -c mwtest)" -eq 0
    matched=0
    for o in "$TMP"/fm/orig/*; do
        for d in "$TMP"/fm/out/*; do
            if "$PY" "$HERE/pop3_client.py" samelf "$o" "$d"; then matched=$((matched + 1)); break; fi
        done
    done
    check "fetchmail: all 4 test messages arrived intact (CR stripped by fetchmail)" test "$matched" -eq 4
    [ "$fail" -eq 0 ] || tail -n 40 "$TMP/fm/log"
fi
check "mw-pop3d stops cleanly" stop_pop3d
finish
