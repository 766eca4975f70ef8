#!/bin/sh
# The network misbehaving at mw-smtpd, with Python sockets: random bytes,
# half-sent messages, endless lines and hard resets from 60 clients at
# once; 40 full transactions at once against --max-conns 5 (some sent one
# byte at a time), each stored byte-exact; then a clean SIGTERM exit
# (under ASan, also no leak). Usage: sh stress.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
need "$PY" || finish
mkdir -p "$TMP/mail"
start_smtpd --maildir-root "$TMP/mail" --domains example.org --max-conns 5 \
    --listen 127.0.0.1:0 || finish
"$PY" "$HERE/stress_client.py" "$PORT" "$TMP" > "$TMP/py.out" 2>&1
cat "$TMP/py.out"
pass=$((pass + $(grep -c '^ok:' "$TMP/py.out")))
fail=$((fail + $(grep -c '^FAIL:' "$TMP/py.out")))
grep -q '^ok:' "$TMP/py.out" || bad "stress_client.py ran no test"
check "mw-smtpd stops cleanly" stop_smtpd
finish
