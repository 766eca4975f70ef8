#!/bin/sh
# Command-line checks of examples/mw-smtpd: usage errors exit 2 with a
# reason, configuration errors exit 1 with a reason, --help exits 0.
# (The protocol itself is tested against real clients in tests/interop.)
# Usage: sh mw-smtpd.sh BUILD_DIR   (ends with "N passed, N failed")
set -u
bin=$1/examples/mw-smtpd
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0

# t NAME EXIT STDERR_PATTERN ARGS...
t() {
    name=$1 want=$2 pattern=$3
    shift 3
    "$bin" "$@" < /dev/null > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ "$rc" -ne "$want" ]; then
        fail=$((fail + 1)); echo "FAIL: $name: exit $rc, expected $want"; cat "$tmp/err"; return
    fi
    if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err" "$tmp/out"; then
        fail=$((fail + 1)); echo "FAIL: $name: output lacks '$pattern'"; cat "$tmp/err"; return
    fi
    pass=$((pass + 1)); echo "ok: $name"
}

printf 'no colon here\n' > "$tmp/badusers"
t "--help" 0 "usage: mw-smtpd" --help
t "unknown option" 2 "bad option or value: --bogus" --bogus
t "option without its value" 2 "bad option or value: --listen" --sink --listen
t "bad number" 2 "bad option or value: --max-size" --sink --max-size 12x
t "no maildir root" 2 "--maildir-root is required"
t "cert without key" 2 "--cert and --key go together" --sink --cert "$tmp/c.pem"
t "users file with a bad line" 1 "badusers:1: expected 'name: value'" --sink --users "$tmp/badusers"
t "missing users file" 1 "nonexistent: No such file" --sink --users "$tmp/nonexistent"
t "implicit TLS without a certificate" 1 "--listen-tls needs --cert/--key" --sink --listen-tls 127.0.0.1:0
t "unreadable certificate" 1 "TLS: " --sink --cert "$tmp/none.pem" --key "$tmp/none.pem"
t "malformed listen address" 1 "listen 127.0.0.1: Invalid argument" --sink --listen 127.0.0.1
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
