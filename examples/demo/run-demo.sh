#!/bin/sh
# mailwire end-to-end demo: one message with an attachment travels the four
# hops of the classic email architecture, every server on 127.0.0.1:
#
#   alice's user agent  --SMTP submission + AUTH-->  MTA A (mail.alice.test)
#   MTA A's relay queue --SMTP (client engine)---->  MTA B (mx.bob.test) -> bob's Maildir
#   bob's user agent    <--POP3---------------------  mw-pop3d on B's Maildirs
#   bob's user agent    shows it (MIME parser)
#
# It prints a few lines of each hop's dialog, then checks that what bob got
# is byte for byte what alice composed (see "What is compared" below). It
# exits 0 when every check passes, 1 on any failure, 2 on a usage error.
#
# Usage: sh run-demo.sh PROGRAM_DIR     (the directory holding mw-smtpd,
#        mw-pop3d, mw-send, mw-fetch and mw-mime; e.g. build/examples)
# KEEP=1 keeps the temporary directory (path printed at the end).
# MW_DEMO_TLS=1 runs every hop over STARTTLS with a throwaway self-signed
# certificate: it needs programs built with the OpenSSL adapter
# (MW_WITH_OPENSSL=ON, e.g. the ci preset) and the openssl command. The
# default is plaintext, which works on every build.
#
# Only POSIX shell tools are used (mktemp, sed, grep, awk, cmp, head, tail, tr, wc),
# no peer program and no network beyond 127.0.0.1. Servers listen on ports
# the kernel picks (port 0, written to a --port-file), and the EXIT trap
# stops exactly the processes this script started, by PID.
set -u

if [ $# -ne 1 ] || [ ! -d "$1" ]; then
    echo "usage: sh run-demo.sh PROGRAM_DIR   (the directory holding mw-smtpd, mw-send, ...)" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
for p in mw-smtpd mw-pop3d mw-send mw-fetch mw-mime; do
    if [ ! -x "$BIN/$p" ]; then
        echo "demo: $BIN/$p is not built (cmake --build BUILD_DIR --target demo builds it)" >&2
        exit 2
    fi
done
TLS=${MW_DEMO_TLS:-0}
case $TLS in
0 | 1) ;;
*) echo "demo: MW_DEMO_TLS must be 0 (plaintext, the default) or 1 (STARTTLS)" >&2; exit 2 ;;
esac

T=$(mktemp -d "${TMPDIR:-/tmp}/mw-demo.XXXXXX") || { echo "demo: mktemp failed" >&2; exit 1; }
SERVERS=       # NAME:PID of every server this script started, stopped by the EXIT trap
cleanup() {
    for s in $SERVERS; do
        kill "${s#*:}" 2> /dev/null
        wait "${s#*:}" 2> /dev/null
    done
    SERVERS=
    if [ -n "${KEEP:-}" ]; then echo "demo: kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# die MESSAGE [LOG...]: say what failed (with the end of the logs), exit 1.
die() {
    echo "demo: FAILED: $1 (KEEP=1 keeps the files)" >&2
    shift
    for f in "$@"; do
        [ -s "$f" ] && { echo "--- ${f#"$T"/} (last lines):" >&2; tail -n 15 "$f" >&2; }
    done
    exit 1
}

# start NAME PROGRAM ARGS...: start a server on a free loopback port and wait
# until it logs "ready"; sets PORT. Its log is $T/NAME.log.
start() {
    name=$1 prog=$2
    shift 2
    "$BIN/$prog" --port-file "$T/$name.port" "$@" < /dev/null > "$T/$name.log" 2>&1 &
    pid=$!
    SERVERS="$SERVERS $name:$pid"
    i=0
    until grep -q ': ready:' "$T/$name.log" 2> /dev/null; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$pid" 2> /dev/null; then
            die "$prog ($name) did not start" "$T/$name.log"
        fi
        sleep 0.05
    done
    PORT=$(sed -n '1s/.*://p' "$T/$name.port")
    [ -n "$PORT" ] || die "$prog ($name) wrote no port" "$T/$name.log"
}

# wait_log FILE PATTERN SECONDS: wait until a line of FILE matches PATTERN.
wait_log() {
    i=0
    until grep -q -- "$2" "$1"; do
        i=$((i + 1))
        [ $i -gt $(($3 * 10)) ] && return 1
        sleep 0.1
    done
}

# show FILE SEDSCRIPT: print FILE through sed, indented (the trimmed dialogs).
show() {
    sed "$2" "$1" | sed 's/^/    /'
}
# showlog FILE PATTERN...: the log lines matching a pattern, without their
# "2026-11-27T02:26:13Z mw-smtpd[123]: " prefix, indented.
showlog() {
    f=$1
    shift
    for pat in "$@"; do set -- "$@" -e "$pat"; shift; done
    sed 's/^[^ ]* mw-[a-z0-9]*\[[0-9]*\]: //' "$f" | grep "$@" | sed 's/^/    /'
}

# ---- the people, their passwords, the mail -------------------------------
# One users file per MTA: it lists the mailboxes and the AUTH accounts.
printf 'alice:alice-pw\n' > "$T/users-A"
printf 'bob:bob-pw\n' > "$T/users-B"
printf 'alice-pw\n' > "$T/alice.pw"
printf 'bob-pw\n' > "$T/bob.pw"

# What alice writes: a UTF-8 text (sent quoted-printable) with a line that is
# a lone dot (dot-stuffed on both SMTP hops, byte-stuffed by POP3), and a
# binary attachment of random bytes (sent base64).
mkdir "$T/alice"
NOTE=$T/alice/note.txt
PHOTO=$T/alice/photo.jpg
printf 'Hi Bob,\n\nthe photo from the trip is attached. Grüße aus Berlin!\n.\n(the line above is a lone dot)\n\nAlice\n' > "$NOTE"
head -c 6000 /dev/urandom > "$PHOTO"
FROM='Alice <alice@alice.test>'
TO='Bob <bob@bob.test>'
SUBJECT='Holiday photo ☀'

# Plaintext: AUTH without TLS is refused by both sides unless allowed
# (fine on loopback only): --plaintext-auth on the servers, mw-send
# --no-tls. TLS: one throwaway certificate for the three servers, for
# 127.0.0.1 (the address the clients verify it against); A must use STARTTLS
# towards B (--relay-tls required; A does not verify B's certificate:
# opportunistic encryption between MTAs, RFC 7435).
CA=
if [ "$TLS" = 1 ]; then
    command -v openssl > /dev/null 2>&1 || die "MW_DEMO_TLS=1 needs the openssl command"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
        -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
        -keyout "$T/key.pem" -out "$T/cert.pem" > "$T/openssl.log" 2>&1 ||
        die "openssl could not make a certificate" "$T/openssl.log"
    CA=$T/cert.pem
    set -- --cert "$T/cert.pem" --key "$T/key.pem" # every server's TLS options
    RELAY_TLS="--relay-tls required" PLAIN_AUTH='' SEND_TLS=--starttls FETCH_TLS=--stls
    MODE="STARTTLS on every hop"
else
    set --
    RELAY_TLS='' PLAIN_AUTH=--plaintext-auth SEND_TLS=--no-tls FETCH_TLS=''
    MODE=plaintext
fi

echo "mailwire end-to-end demo: $FROM sends a photo to $TO"
echo "(servers on 127.0.0.1 only, $MODE; files in $T)"

# ---- the servers ----------------------------------------------------------
# B: bob's MTA. Mail for bob.test goes into MAIL-B/bob/Maildir; it needs no
# AUTH for its own domain (like any MX), and relays nothing.
start mta-B mw-smtpd --hostname mx.bob.test --domains bob.test --users "$T/users-B" \
    --maildir-root "$T/mail-B" --listen 127.0.0.1:0 "$@"
B_PORT=$PORT
# A: alice's MTA. Authenticated users may relay: mail for other domains goes
# into the queue, and the daemon's queue runner (the SMTP client engine,
# examples/mw-smtpd/relay.c) sends it on. There is no DNS here, so B stands
# in for the MX of bob.test as A's --relay-host.
# shellcheck disable=SC2086 # RELAY_TLS and PLAIN_AUTH: words without spaces, or nothing
start mta-A mw-smtpd --hostname mail.alice.test --domains alice.test --users "$T/users-A" \
    --maildir-root "$T/mail-A" --queue "$T/queue-A" --relay-host "127.0.0.1:$B_PORT" \
    $RELAY_TLS $PLAIN_AUTH --listen 127.0.0.1:0 "$@"
A_PORT=$PORT
# bob's POP3 server reads the Maildirs B delivers to, with the same users.
# shellcheck disable=SC2086
start pop3d mw-pop3d --hostname mx.bob.test --maildir-root "$T/mail-B" --users "$T/users-B" \
    $PLAIN_AUTH --listen 127.0.0.1:0 "$@"
P_PORT=$PORT
echo "  MTA A   mail.alice.test  mw-smtpd  127.0.0.1:$A_PORT  submission with AUTH, relay queue"
echo "  MTA B   mx.bob.test      mw-smtpd  127.0.0.1:$B_PORT  delivers to bob's Maildir"
echo "  POP3    mx.bob.test      mw-pop3d  127.0.0.1:$P_PORT  serves B's Maildirs"

# ---- hop 1: submission ----------------------------------------------------
echo
echo "== Hop 1: alice's user agent (mw-send) submits to MTA A: SMTP + AUTH (RFC 6409, 5321, 4954)"
if [ "$TLS" = 1 ]; then
    echo "   mw-send --starttls: TLS required (RFC 3207), the certificate verified for 127.0.0.1;"
    echo "   AUTH only after the handshake, with the strongest shared mechanism."
else
    echo "   mw-send --no-tls: AUTH in plaintext, allowed explicitly because this is loopback;"
    echo "   the strongest shared mechanism is chosen (SCRAM-SHA-256: no password on the wire)."
fi
# shellcheck disable=SC2086
"$BIN/mw-send" --server "127.0.0.1:$A_PORT" $SEND_TLS ${CA:+--cafile "$CA"} --timeout 30 \
    --helo pc.alice.test \
    --user alice --password-file "$T/alice.pw" --from "$FROM" --to "$TO" \
    --subject "$SUBJECT" --text "$NOTE" --attach "$PHOTO:image/jpeg" -v \
    < /dev/null > "$T/send.log" 2>&1 || die "mw-send failed (exit $?)" "$T/send.log" "$T/mta-A.log"
# The EHLO reply's extension lines are joined into one line (marked as
# such); the SCRAM round trips are left out.
awk '
    /^S: 250-/ { if (host == "") host = $0; else ext = ext ", " substr($0, 8); next }
    host != "" { print host; print "S: 250-" substr(ext, 3) "   (one per line)"; host = ext = "" }
    /^S: 334 / || /^C: <redacted>/ { next }
    { print }' "$T/send.log" | sed 's/^/    /'
echo "  A's log:"
showlog "$T/mta-A.log" 'authenticated as' 'from=<'

# ---- hop 2: relay -----------------------------------------------------------
echo
echo "== Hop 2: MTA A's queue runner relays to MTA B: SMTP client engine (RFC 5321)"
wait_log "$T/mta-A.log" 'relay id=.* to=<bob@bob.test> attempt=1 result=' 30 ||
    die "MTA A did not relay the message within 30 s" "$T/mta-A.log" "$T/mta-B.log"
echo "  A's log:"
showlog "$T/mta-A.log" '^relay '
echo "  B's log:"
showlog "$T/mta-B.log" 'from=<'
grep -q 'to=<bob@bob.test> attempt=1 result=250 sent' "$T/mta-A.log" ||
    die "MTA B did not accept the message" "$T/mta-A.log" "$T/mta-B.log"
echo "  delivered: $(cd "$T" && ls mail-B/bob/Maildir/new/*)"
echo "  its first lines: one Received per MTA (A's relay dropped A's Return-Path, RFC 5321 §4.4):"
sed -n '/^From: /q; s/\r$//; p' "$T"/mail-B/bob/Maildir/new/* | sed 's/^/    /'

# ---- hop 3: POP3 ------------------------------------------------------------
echo
echo "== Hop 3: bob's user agent (mw-fetch) downloads it: POP3 (RFC 1939, 2449, 5034)"
if [ "$TLS" = 1 ]; then
    echo "   delete mode; mw-fetch --stls: TLS required (RFC 2595), the certificate verified."
else
    echo "   delete mode; plaintext (no --stls/--tls) is mw-fetch's explicit choice here, and"
    echo "   mw-pop3d allows AUTH without TLS only with --plaintext-auth."
fi
# shellcheck disable=SC2086
"$BIN/mw-fetch" pop3 --server "127.0.0.1:$P_PORT" $FETCH_TLS ${CA:+--ca-file "$CA"} \
    --user bob --password-file "$T/bob.pw" \
    --maildir "$T/bob-inbox" -v < /dev/null > "$T/fetch.log" 2>&1 ||
    die "mw-fetch failed (exit $?)" "$T/fetch.log" "$T/pop3d.log"
# The CAPA list is joined into one line (marked as such); the SCRAM round
# trips and the "." ending each multi-line response are left out.
awk '
    capa && /^S: \.$/ { print "S: " substr(list, 3) "   (one per line)"; capa = 0; next }
    capa { list = list ", " substr($0, 4); next }
    /^S: \+OK Capability/ { capa = 1; list = "" }
    /^S: \.$/ || /^C: <credentials>/ { next }
    { print }' "$T/fetch.log" | sed 's/^/    /'
echo "  mw-pop3d's log:"
# mw-pop3d writes its session line when the connection closes, which can
# be a moment after mw-fetch has exited.
wait_log "$T/pop3d.log" 'session user=' 5 || die "mw-pop3d did not log the session" "$T/pop3d.log"
showlog "$T/pop3d.log" 'authenticated as' 'session user='
set -- "$T"/bob-inbox/new/*
if [ $# -ne 1 ] || [ ! -f "$1" ]; then die "expected one message in bob's inbox, found: $*"; fi
GOT=$1

# ---- hop 4: reading it ------------------------------------------------------
echo
echo "== Hop 4: bob reads it with mw-mime (MIME: RFC 2045-2047, 2183, 2231)"
echo "  \$ mw-mime headers (From, To, Subject)"
"$BIN/mw-mime" headers "$GOT" > "$T/headers.out" 2>&1 || die "mw-mime headers failed" "$T/headers.out"
grep -e '^From: ' -e '^To: ' -e '^Subject: ' "$T/headers.out" | sed 's/^/    /'
echo "  \$ mw-mime show    (path, kind, type, charset, encoding, disposition, name, size)"
"$BIN/mw-mime" show "$GOT" > "$T/show.out" 2>&1 || die "mw-mime show failed" "$T/show.out"
show "$T/show.out" ''
echo "  \$ mw-mime cat"
"$BIN/mw-mime" cat "$GOT" > "$T/text.out" 2> "$T/cat.err" || die "mw-mime cat failed" "$T/cat.err"
show "$T/text.out" ''
mkdir "$T/extracted"
"$BIN/mw-mime" extract "$GOT" "$T/extracted" > "$T/extract.out" 2>&1 ||
    die "mw-mime extract failed" "$T/extract.out"

# ---- the checks -------------------------------------------------------------
# What is compared, and why:
# 1. The parts, against alice's own files: the text part decoded by
#    `mw-mime cat` (quoted-printable, CRLF -> LF) must equal note.txt, and
#    the attachment decoded by `mw-mime extract` (base64) must equal
#    photo.jpg, byte for byte (cmp). This is the end-to-end promise: what the
#    sender attached is what the recipient saves.
# 2. The whole message. An MTA may only prepend trace fields (RFC 5321
#    §4.4): the fetched file must start with exactly B's Return-Path, B's
#    Received and A's Received (checked one by one), and everything after
#    them must be the message mw-send submitted, byte for byte (headers,
#    boundaries, encoded bodies, line ends). mw-send composes into a
#    temporary file nobody else sees, so the reference is made again:
#    mw-send and `mw-mime build` share one composer
#    (examples/common/compose.c), whose only varying inputs are the Date,
#    the Message-ID and the boundary prefix; `mw-mime build` is run with the
#    same inputs and those three values read from the fetched message. Its
#    length must also be the size mw-send announced (`C: <message, N octets>`).
# 3. Nothing is left behind: POP3 delete mode emptied bob's maildrop on B
#    (DELE takes effect at QUIT, RFC 1939 §6), A's queue is empty, and every
#    server stops cleanly (exit 0) on SIGTERM.
echo
echo "== Checks"
npass=0 nfail=0
check() { # check TITLE COMMAND...
    title=$1
    shift
    if "$@" > "$T/check.out" 2>&1; then
        npass=$((npass + 1)); echo "  ok    $title"
    else
        nfail=$((nfail + 1)); echo "  FAIL  $title"; sed 's/^/        /' "$T/check.out"
    fi
}

# trace_end FILE: check the three trace fields at the top of FILE and print
# the number of the first line after them.
trace_end() {
    # The protocol word (RFC 3848): ESMTP at B, ESMTPA at A (authenticated);
    # with an S after ESMTP when the hop used TLS.
    tls=
    [ "$TLS" = 1 ] && tls=S
    awk -v tls="$tls" '
    function field_done() {
        if (n == 1 && f != "Return-Path: <alice@alice.test>\r") bad = "field 1 is not B'\''s Return-Path: " f
        if (n == 2 && index(f, "Received: from mail.alice.test ([127.0.0.1])") != 1) bad = "field 2 is not B'\''s Received: " f
        if (n == 2 && index(f, "by mx.bob.test (mw-smtpd) with ESMTP" tls " id ") == 0) bad = "field 2 is not B'\''s Received: " f
        if (n == 3 && index(f, "Received: from pc.alice.test ([127.0.0.1])") != 1) bad = "field 3 is not A'\''s Received: " f
        if (n == 3 && index(f, "by mail.alice.test (mw-smtpd) with ESMTP" tls "A id ") == 0) bad = "field 3 is not A'\''s Received: " f
    }
    bad != "" { exit }
    n > 0 && /^\t/ { f = f $0; next }             # a continuation line
    n < 3 { if (n > 0) field_done(); n++; f = $0; next }
    { field_done(); if (bad == "") print NR; exit }
    END { if (bad != "") { print bad; exit 1 } if (n < 3) { print "fewer than 3 header fields"; exit 1 } }
    ' "$1"
}
# same_as_composed FILE: FILE minus its trace fields is what mw-send composed.
hdr() { # hdr NAME: the value of the first NAME field of the submitted message
    sed -n "s/^$1: \\(.*\\)$(printf '\r')\$/\\1/p" "$T/submitted.eml" | head -n 1
}
same_as_composed() {
    first=$(trace_end "$1") || { echo "$first"; return 1; }
    tail -n "+$first" "$1" > "$T/submitted.eml"
    date=$(hdr Date) msgid=$(hdr Message-ID)
    bnd=$(sed -n 's/.*boundary="\([^"]*\)\.[0-9][0-9]*".*/\1/p' "$T/submitted.eml" | head -n 1)
    "$BIN/mw-mime" build --from "$FROM" --to "$TO" --subject "$SUBJECT" --text "$NOTE" \
        --attach "$PHOTO:image/jpeg" --date "$date" --message-id "$msgid" --boundary "$bnd" \
        > "$T/composed.eml" || return 1
    cmp "$T/composed.eml" "$T/submitted.eml"
}
announced_size() { # the message size mw-send printed equals the submitted file's
    want=$(sed -n 's/^C: <message, \([0-9]*\) octets>$/\1/p' "$T/send.log")
    got=$(wc -c < "$T/submitted.eml" | tr -d ' ')
    echo "mw-send sent $want octets, $got arrived"
    [ -n "$want" ] && [ "$want" -eq "$got" ]
}
empty_dir() { [ -z "$(ls -A "$1")" ] || { ls -A "$1"; return 1; }; }
stop_all() { # SIGTERM each server; each must exit 0
    rc=0
    for s in $SERVERS; do
        kill "${s#*:}"
        wait "${s#*:}"
        st=$?
        if [ "$st" -ne 0 ]; then
            echo "${s%%:*} exited with $st:"; tail -n 10 "$T/${s%%:*}.log"; rc=1
        fi
    done
    SERVERS=
    return "$rc"
}

check "text part (mw-mime cat) = alice's note.txt" cmp "$T/text.out" "$NOTE"
check "attachment (mw-mime extract) = alice's photo.jpg, $(wc -c < "$PHOTO" | tr -d ' ') random bytes" \
    cmp "$T/extracted/photo.jpg" "$PHOTO"
check "whole message = mw-send's, behind exactly 3 trace fields (B: Return-Path, Received; A: Received)" \
    same_as_composed "$GOT"
check "its size is what mw-send announced" announced_size
check "POP3 delete mode: bob's maildrop on B is empty" empty_dir "$T/mail-B/bob/Maildir/new"
check "A's relay queue is empty" empty_dir "$T/queue-A/new"
check "the three servers stop cleanly (SIGTERM, exit 0)" stop_all

echo
if [ $nfail -eq 0 ]; then
    echo "demo: all $npass checks passed: the message arrived byte-exact"
    exit 0
fi
echo "demo: FAILED: $nfail of $((npass + nfail)) checks failed (KEEP=1 keeps the files)" >&2
exit 1
