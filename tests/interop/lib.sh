# Shared helpers of the interop tests (sourced; POSIX sh). A test script is
# run as `sh NAME.sh BUILD_DIR TLS` (TLS is 1 when the programs were built
# with the OpenSSL adapter) and ends with "N passed, N failed".
#
# Every daemon runs on 127.0.0.1 (or ::1) with a port the kernel picked
# (the daemon writes it to a port file), in a temporary directory, and is
# stopped by its own PID. A missing peer program fails the test when the
# CI environment variable is set, and is skipped otherwise.
set -u
BUILD=$1
HAVE_TLS=${2:-0}
SMTPD=$BUILD/examples/mw-smtpd
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mw-interop.XXXXXX")
chmod 755 "$TMP"
pass=0 fail=0
SMTPD_PID=
PORT= TLSPORT=

ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# check NAME COMMAND...: one test that passes when the command succeeds.
check() {
    name=$1
    shift
    if "$@"; then ok "$name"; else bad "$name"; fi
}

# into FILE COMMAND...: run the command with its output in FILE.
into() {
    f=$1
    shift
    "$@" > "$f" 2>&1
}

# need PROGRAM: 0 when it can be run; otherwise FAIL under CI, skip outside.
need() {
    if command -v "$1" >/dev/null 2>&1; then return 0; fi
    if [ -n "${CI:-}" ]; then
        bad "$1 is not installed (CI is set: install it, see .ci/deps)"
    else
        echo "SKIP: $1 is not installed (would FAIL with CI set)"
    fi
    return 1
}

# start_smtpd ARGS...: start mw-smtpd, wait until it listens; sets PORT
# (first plain listener) and TLSPORT (first implicit-TLS listener).
start_smtpd() {
    rm -f "$TMP/port"
    : > "$TMP/smtpd.log"
    "$SMTPD" --port-file "$TMP/port" "$@" < /dev/null >> "$TMP/smtpd.log" 2>&1 &
    SMTPD_PID=$!
    i=0
    while ! grep -q ': ready:' "$TMP/smtpd.log" 2> /dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$SMTPD_PID" 2> /dev/null; then
            echo "mw-smtpd did not start:"; cat "$TMP/smtpd.log"
            SMTPD_PID=
            return 1
        fi
        sleep 0.05
    done
    PORT=$(grep -v '^tls ' "$TMP/port" | head -n 1 | sed 's/.*://')
    TLSPORT=$(grep '^tls ' "$TMP/port" | head -n 1 | sed 's/.*://')
    return 0
}

# stop_smtpd: SIGTERM our daemon; succeeds when it exits 0 (under ASan a
# leak or an error report makes the exit status non-zero).
stop_smtpd() {
    [ -n "$SMTPD_PID" ] || return 0
    kill "$SMTPD_PID" 2> /dev/null
    wait "$SMTPD_PID"
    rc=$?
    SMTPD_PID=
    [ $rc -eq 0 ] || { echo "mw-smtpd exited with $rc:"; tail -n 30 "$TMP/smtpd.log"; }
    return $rc
}

# make_cert: a throwaway self-signed certificate for localhost/127.0.0.1.
make_cert() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$TMP/key.pem" -out "$TMP/cert.pem" > /dev/null 2>&1
}

# A users file, an aliases file (a list and a loop), and the mail root.
make_config() {
    printf '# test accounts\nalice:secret\nbob:hunter2\ncarol:pass word\n' > "$TMP/users"
    printf 'team: alice, bob\nall: team, carol, alice\nloop1: loop2\nloop2: loop1, carol\n' > "$TMP/aliases"
    mkdir -p "$TMP/mail" "$TMP/queue"
}

# capture REF FUNC ARGS...: run "FUNC PORT ARGS..." against smtp_capture.py
# (a receiver independent of mailwire) and save in REF the DATA content the
# client put on the wire, unstuffed: the reference for byte-exact checks.
capture() {
    ref=$1
    shift
    rm -f "$TMP/cport" "$ref"
    "$PY" "$HERE/smtp_capture.py" "$TMP/cport" "$ref" < /dev/null > /dev/null 2>&1 &
    cpid=$!
    i=0
    while [ ! -s "$TMP/cport" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
    fn=$1
    shift
    "$fn" "$(cat "$TMP/cport")" "$@" > "$TMP/capture.out" 2>&1
    wait $cpid
    [ -s "$ref" ] || { echo "capture failed:"; cat "$TMP/capture.out"; return 1; }
}

finish() {
    [ -n "${KEEP:-}" ] && { echo "kept $TMP"; trap - INT TERM; echo "$pass passed, $fail failed"; exit 1; }
    stop_smtpd > /dev/null 2>&1
    rm -rf "$TMP"
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}
trap 'stop_smtpd > /dev/null 2>&1; rm -rf "$TMP"' INT TERM
