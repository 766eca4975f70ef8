#!/bin/sh
# Relay mode end to end. mw-smtpd A (users, AUTH required to relay) queues
# mail for remote domains; the SMTP client engine forwards it:
#  (a) to a second mw-smtpd B (STARTTLS offered when TLS is built in, AUTH
#      to it with --relay-auth): two copies byte-exact behind exactly the
#      two trace fields per hop, one recipient refused 550 -> a DSN in the
#      local sender's Maildir, parsed back with Python's email package;
#  (b) to Postfix's smtp-sink with -d dumps, content checked;
#  (c) to smtp-sink rejecting every RCPT (-f RCPT -B "550 5.1.1 ..."):
#      a DSN for the sender, none for a null-sender message;
#  (d) a next hop that is down: deferred with ATTEMPTS counted, delivered
#      by the daemon (retry schedule) once the hop comes up; an entry past
#      --max-queue-age bounces with Status 5.4.7.
# Usage: sh relay.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
need "$PY" || finish
export PATH="$PATH:/usr/sbin:/usr/bin"
make_config
printf 'x:1\ny:2\nz:3\nrelayuser:relay pw\n' > "$TMP/remote-users"
printf 'relayuser:relay pw\n' > "$TMP/relay-auth"
B_TLS= REQ=
if [ "$HAVE_TLS" = 1 ]; then
    make_cert && B_TLS="--cert $TMP/cert.pem --key $TMP/key.pem" && REQ="--relay-tls required"
fi

submit() { # submit PORT FROM RCPT...: TMP/msg as alice (AUTH); fails if a recipient is refused
    "$PY" -c 'import smtplib,sys
s=smtplib.SMTP("127.0.0.1",int(sys.argv[2]),timeout=20)
s.login("alice","secret")
r=s.sendmail(sys.argv[3],sys.argv[4:],open(sys.argv[1],"rb").read()); s.quit()
sys.exit(1 if r else 0)' "$TMP/msg" "$@"
}
flush() { # flush SMARTHOST_PORT [OPTIONS]: one queue run; prints the exit status
    p=$1
    shift
    "$SMTPD" --queue "$TMP/queue" --flush-queue --relay-host "127.0.0.1:$p" --hostname relay.test \
        --maildir-root "$TMP/mail" --domains example.org "$@" >> "$TMP/flush.log" 2>&1
    echo $?
}
freeport() {
    "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
waitport() {
    i=0
    while ! "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$1" 2> /dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.05
    done
}
# hops MAILDIR COUNT: COUNT messages, each exactly: Return-Path <alice@example.org>
# (B, final delivery), B's Received (from relay.test, AUTH as relayuser, TLS when built
# with it), A's Received (from smtplib, AUTH as alice, no TLS), then TMP/msg byte for byte.
B_PROTO=ESMTPA
[ "$HAVE_TLS" = 1 ] && B_PROTO=ESMTPSA
hops() {
    "$PY" - "$1" "$2" "$TMP/msg" "$B_PROTO" << 'PYEOF'
import os, sys
d, n, ref, bproto = sys.argv[1], int(sys.argv[2]), open(sys.argv[3], "rb").read(), sys.argv[4].encode()
names = sorted(os.listdir(os.path.join(d, "new")))
if len(names) != n: sys.exit("%d messages, expected %d" % (len(names), n))
def field(data, name):
    line, _, rest = data.partition(b"\r\n")
    if not line.startswith(name): raise SystemExit("expected %r: %r" % (name, data[:80]))
    while rest.startswith(b"\t") or rest.startswith(b" "):
        more, _, rest = rest.partition(b"\r\n"); line += more
    return line, rest
for nm in names:
    data = open(os.path.join(d, "new", nm), "rb").read()
    rp, data = field(data, b"Return-Path: ")
    if rp != b"Return-Path: <alice@example.org>": sys.exit("bad %r" % rp)
    r1, data = field(data, b"Received: ")
    r2, data = field(data, b"Received: ")
    if not r1.startswith(b"Received: from relay.test ([127.0.0.1])") or b" with " + bproto + b" id " not in r1:
        sys.exit("B's Received: %r" % r1)
    if not r2.startswith(b"Received: from ") or b"by localhost (mw-smtpd) with ESMTPA id " not in r2:
        sys.exit("A's Received: %r" % r2)
    if data != ref: sys.exit("body differs")
PYEOF
}
# dsn MAILDIR RCPT STATUS_PREFIX: exactly one message there is a DSN for RCPT; check it
dsn() {
    "$PY" - "$@" << 'PYEOF'
import os, sys, email, email.policy
d, rcpt, st = sys.argv[1], sys.argv[2], sys.argv[3]
raw = [open(os.path.join(d, "new", n), "rb").read() for n in os.listdir(os.path.join(d, "new"))]
raw = [r for r in raw if b"Final-Recipient: rfc822; " + rcpt.encode() + b"\r\n" in r]
assert len(raw) == 1, len(raw)
m = email.message_from_bytes(raw[0], policy=email.policy.default)
assert m["Return-Path"] == "<>", m["Return-Path"]
assert m.get_content_type() == "multipart/report", m.get_content_type()
assert m.get_param("report-type") == "delivery-status", m.get_param("report-type")
parts = m.get_payload()
assert [p.get_content_type() for p in parts] == ["text/plain", "message/delivery-status", "text/rfc822-headers"], parts
assert rcpt in parts[0].get_content()
blocks = parts[1].get_payload()
assert "Reporting-MTA" in blocks[0] and "Arrival-Date" in blocks[0], blocks[0].items()
found = [b for b in blocks[1:] if b["Final-Recipient"] == "rfc822; " + rcpt]
assert len(found) == 1, [b.items() for b in blocks]
b = found[0]
assert b["Action"] == "failed" and b["Status"].startswith(st), b.items()
if st != "5.4.7": assert b["Diagnostic-Code"].startswith("smtp; 5"), b.items()
assert "Subject: relayed" in parts[2].get_payload(), parts[2].get_payload()
PYEOF
}
printf 'Subject: relayed\r\nFrom: alice@example.org\r\n\r\n.one dot\r\nbody\r\n' > "$TMP/msg"

# (a) B: a second mw-smtpd for remote.test with users x, y and the relay's account.
start_smtpd --maildir-root "$TMP/remote" --domains remote.test --users "$TMP/remote-users" \
    $B_TLS --listen 127.0.0.1:0 || finish
B_PID=$SMTPD_PID B_PORT=$PORT
SMTPD_PID=
# A: relaying only for authenticated clients.
start_smtpd --maildir-root "$TMP/mail" --domains example.org --users "$TMP/users" --plaintext-auth \
    --queue "$TMP/queue" --listen 127.0.0.1:0 || finish

check "(a) smtplib with AUTH: message for 3 remote recipients queued" \
    submit "$PORT" alice@example.org x@remote.test y@remote.test nobody@remote.test
check "(a) a new entry has no schedule lines yet (due at once)" test -z "$(grep -l '^ATTEMPTS' "$TMP"/queue/env/*)"
check "(a) flush through mw-smtpd with AUTH exits 0 (queue empty)" \
    test "$(flush "$B_PORT" --relay-auth "$TMP/relay-auth" --relay-plaintext-auth $REQ)" = 0
check "(a) the smarthost saw AUTH as relayuser" grep -q 'authenticated as relayuser' "$TMP/smtpd.log"
if [ "$HAVE_TLS" = 1 ]; then
    check "(a) STARTTLS was used (--relay-tls required)" grep -q 'session ready (TLS)' "$TMP/flush.log"
fi
check "(a) x: byte-exact behind 2 trace fields per hop" hops "$TMP/remote/x/Maildir" 1
check "(a) y: byte-exact behind 2 trace fields per hop" hops "$TMP/remote/y/Maildir" 1
check "(a) nobody@remote.test logged as a permanent failure (550)" \
    grep -q 'to=<nobody@remote.test> attempt=1 result=550 failed permanently' "$TMP/flush.log"
check "(a) queue entry removed" test -z "$(ls -A "$TMP/queue/env")$(ls -A "$TMP/queue/new")"
check "(a) DSN for nobody@remote.test in alice's Maildir" dsn "$TMP/mail/alice/Maildir" nobody@remote.test 5.
cp "$TMP/msg" "$TMP/msg.small"
"$PY" -c 'import sys
lines = [b"Subject: big\r\n", b"\r\n"] + [(b"." if i % 7 == 0 else b"") + (b"%06d " % i) * 11 + b"\r\n" for i in range(4000)]
sys.stdout.buffer.write(b"".join(lines))' > "$TMP/msg"
check "(a) a 300 KB message with dot lines queued" submit "$PORT" alice@example.org z@remote.test
check "(a) flush: exit 0" test "$(flush "$B_PORT" --relay-auth "$TMP/relay-auth" --relay-plaintext-auth)" = 0
check "(a) z: the big message byte-exact behind the trace fields" hops "$TMP/remote/z/Maildir" 1
mv "$TMP/msg.small" "$TMP/msg"
check "(a) a flush of the empty queue exits 0" \
    test "$(flush 9)" = 0

# (d) the next hop is down: deferred with the attempt count kept, then sent.
kill "$B_PID"
wait "$B_PID"
check "(d) second message queued" submit "$PORT" alice@example.org x@remote.test
if need flock; then
    flock "$TMP/queue/flush.lock" sleep 2 < /dev/null > /dev/null 2>&1 &
    lk=$!
    sleep 0.3
    check "(d) a flush while another holds the queue lock: skipped (exit 3)" test "$(flush "$B_PORT")" = 3
    check "(d) ... and logged, the entry untouched" sh -c "grep -q 'another flush of .* is running' '$TMP/flush.log' && ! grep -q '^ATTEMPTS' $TMP/queue/env/*"
    wait "$lk"
fi
check "(d) flush with the smarthost down exits 3 (deferred)" test "$(flush "$B_PORT")" = 3
check "(d) the entry is still queued with ATTEMPTS 1" grep -q '^ATTEMPTS 1' "$TMP"/queue/env/*
check "(d) second flush: ATTEMPTS 2 and a later NEXT" sh -c "test \"\$(sh -c 'exit 0')\" = '' && \
    [ \"$(flush "$B_PORT")\" = 3 ] && grep -q '^ATTEMPTS 2' $TMP/queue/env/*"
check "(d) each attempt logged" test "$(grep -c 'to=<x@remote.test> attempt=[12] result=0 deferred' "$TMP/flush.log")" -eq 2

# (b) Postfix's smtp-sink as the next hop, with -d dumps.
if need smtp-sink; then
    sport=$(freeport)
    mkdir -p "$TMP/dump"
    smtp-sink -u nobody -d "$TMP/dump/%M." "127.0.0.1:$sport" 10 < /dev/null > "$TMP/sink.log" 2>&1 &
    sink=$!
    waitport "$sport"
    chmod 777 "$TMP/dump"
    check "(b) a message for two more recipients queued" submit "$PORT" alice@example.org p@remote.test q@other.test
    if [ "$HAVE_TLS" = 1 ]; then
        check "(b) --relay-tls required, smtp-sink offers no STARTTLS: deferred (exit 3)" \
            test "$(flush "$sport" --relay-tls required)" = 3
        check "(b) nothing was sent in plaintext" test -z "$(ls -A "$TMP/dump")"
    fi
    check "(b) flush through smtp-sink exits 0 (the deferred x and p, q)" test "$(flush "$sport")" = 0
    check "(b) queue empty after smtp-sink" test -z "$(ls -A "$TMP/queue/env")"
    check "(b) 2 dumps with envelope and content" "$PY" - "$TMP/dump" "$TMP/msg" << 'PYEOF'
import os, sys
d, ref = sys.argv[1], open(sys.argv[2], "rb").read().replace(b"\r\n", b"\n")
names = os.listdir(d)
assert len(names) == 2, names
rcpts = []
for n in names:
    data = open(os.path.join(d, n), "rb").read()
    assert b"\nX-Mail-Args: <alice@example.org>" in data, data[:300]
    rcpts += [l.split(b"<")[1].split(b">")[0] for l in data.split(b"\n") if l.startswith(b"X-Rcpt-Args: ")]
    # smtp-sink's own Received, then A's (by localhost), then the message as submitted
    head, sep, rest = data.partition(b"\nReceived: from relay.test ")
    assert sep, data[:400]
    rest = rest.split(b"\n", 1)[1]
    while rest.startswith(b"\t"): rest = rest.split(b"\n", 1)[1]
    assert rest.startswith(b"Received: "), rest[:200]
    rest = rest.split(b"\n", 1)[1]
    while rest.startswith(b"\t"): rest = rest.split(b"\n", 1)[1]
    assert rest == ref + b"\n", (rest, ref)
assert sorted(rcpts) == [b"p@remote.test", b"q@other.test", b"x@remote.test"], rcpts
PYEOF
    kill "$sink"
    wait "$sink" 2> /dev/null

    # (c) smtp-sink refusing every RCPT permanently.
    smtp-sink -u nobody -f RCPT -B "550 5.1.1 No such user here" "127.0.0.1:$sport" 10 \
        < /dev/null > "$TMP/sink.log" 2>&1 &
    sink=$!
    waitport "$sport"
    check "(c) message for r@remote.test queued" submit "$PORT" alice@example.org r@remote.test
    check "(c) flush: exit 0, the refusal is final" test "$(flush "$sport")" = 0
    check "(c) DSN for r@remote.test (Status 5.1.1) in alice's Maildir" \
        dsn "$TMP/mail/alice/Maildir" r@remote.test 5.1.1
    check "(c) null-sender message queued" submit "$PORT" "" r@remote.test
    check "(c) flush of the null-sender message exits 0" test "$(flush "$sport")" = 0
    check "(c) no DSN for a bounce (still 2 messages)" "$PY" "$HERE/mdcheck.py" count "$TMP/mail/alice/Maildir" 2
    check "(c) logged: null sender, no DSN" grep -q 'null sender, no DSN' "$TMP/flush.log"
    check "(c) message from a remote sender queued" submit "$PORT" bob@far.test r@remote.test
    check "(c) flush: exit 3 (the DSN for the remote sender is now queued)" test "$(flush "$sport")" = 3
    check "(c) the queued DSN: MAIL FROM:<> to bob@far.test, a multipart/report" \
        "$PY" - "$TMP/queue" << 'PYEOF'
import os, sys
q = sys.argv[1]
names = os.listdir(os.path.join(q, "env"))
assert len(names) == 1, names
env = open(os.path.join(q, "env", names[0]), "rb").read()
assert env == b"MAIL FROM:<>\r\nRCPT TO:<bob@far.test>\r\n", env
msg = open(os.path.join(q, "new", names[0]), "rb").read()
assert msg.startswith(b"Return-Path: <>\r\n") and b"report-type=delivery-status" in msg, msg[:300]
assert b"Final-Recipient: rfc822; r@remote.test" in msg
PYEOF
    check "(c) the DSN refused in turn: no DSN for it, queue empty" \
        test "$(flush "$sport")" = 0 -a -z "$(ls -A "$TMP/queue/env")"
    kill "$sink"
    wait "$sink" 2> /dev/null

    # (c) smtp-sink refusing MAIL temporarily (450): deferred, the reply logged.
    smtp-sink -u nobody -r MAIL "127.0.0.1:$sport" 10 < /dev/null > "$TMP/sink.log" 2>&1 &
    sink=$!
    waitport "$sport"
    check "(c) message for s@remote.test queued" submit "$PORT" alice@example.org s@remote.test
    check "(c) MAIL refused with 450: exit 3" test "$(flush "$sport")" = 3
    check "(c) logged as deferred with the reply" \
        grep -q 'to=<s@remote.test> attempt=1 result=450 deferred: 450 4.3.0' "$TMP/flush.log"
    kill "$sink"
    wait "$sink" 2> /dev/null
fi

# (d) max age: an entry older than --max-queue-age bounces (5.4.7).
check "(d) message for a dead host queued" submit "$PORT" alice@example.org old@remote.test
sleep 2
check "(d) flush with --max-queue-age 1 exits 0" test "$(flush 9 --max-queue-age 1)" = 0
check "(d) the entry deferred by MAIL 450 expired too" dsn "$TMP/mail/alice/Maildir" s@remote.test 5.4.7
check "(d) expiry DSN (Status 5.4.7) in alice's Maildir" dsn "$TMP/mail/alice/Maildir" old@remote.test 5.4.7
check "mw-smtpd stops cleanly" stop_smtpd

# (d) the daemon retries by itself: the hop is down first, then comes up.
bport=$(freeport)
start_smtpd --maildir-root "$TMP/mail" --domains example.org --users "$TMP/users" --plaintext-auth \
    --queue "$TMP/queue" --relay-host "127.0.0.1:$bport" --flush-interval 1 --retry-interval 1 \
    --hostname relay.test --listen 127.0.0.1:0 || finish
A_PID=$SMTPD_PID
check "(d) daemon: message queued while the hop is down" submit "$PORT" alice@example.org auto@remote.test
i=0
while ! grep -q '^ATTEMPTS [1-9]' "$TMP"/queue/env/* 2> /dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
check "(d) daemon: attempt counted, entry kept" grep -q '^ATTEMPTS [1-9]' "$TMP"/queue/env/*
SMTPD_PID=
cp "$TMP/smtpd.log" "$TMP/a.log"
start_smtpd --maildir-root "$TMP/remote2" --domains remote.test --listen "127.0.0.1:$bport" || finish
B_PID=$SMTPD_PID
i=0
while [ -n "$(ls -A "$TMP/queue/env")" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.2
check "(d) daemon: delivered once the hop came up (within 10 s)" "$PY" "$HERE/mdcheck.py" count "$TMP/remote2/auto/Maildir" 1
check "(d) and left the queue" test -z "$(ls -A "$TMP/queue/env")"
check "the smarthost stops cleanly" stop_smtpd
SMTPD_PID=$A_PID
check "the relaying daemon stops cleanly" stop_smtpd
finish
