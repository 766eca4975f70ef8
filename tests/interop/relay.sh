#!/bin/sh
# Relay mode end to end: mw-smtpd queues mail for a remote domain, then
# `mw-smtpd --flush-queue` sends the queue through a smarthost with the
# mailwire SMTP client engine: first a second mw-smtpd (the delivered
# copies are checked byte for byte, one recipient refused permanently),
# then a smarthost that is down (deferral, retried later), then Postfix's
# smtp-sink (whose EHLO reply ends with an empty "250 " line).
# Usage: sh relay.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
need "$PY" || finish
export PATH="$PATH:/usr/sbin"
make_config
printf 'x:1\ny:2\n' > "$TMP/remote-users"

send() { # send PORT RCPT...: TMP/msg from a@example.org; fails if a recipient is refused
    "$PY" -c 'import smtplib,sys
s=smtplib.SMTP("127.0.0.1",int(sys.argv[2]),timeout=20)
r=s.sendmail("a@example.org",sys.argv[3:],open(sys.argv[1],"rb").read()); s.quit()
sys.exit(1 if r else 0)' "$TMP/msg" "$@"
}
flush() { # flush SMARTHOST_PORT: one queue run; prints the exit status
    "$SMTPD" --queue "$TMP/queue" --flush-queue --relay-host "127.0.0.1:$1" --hostname relay.test \
        >> "$TMP/flush.log" 2>&1
    echo $?
}
printf 'Subject: relayed\r\n\r\n.one dot\r\nbody\r\n' > "$TMP/msg"

# The smarthost: a second mw-smtpd for remote.test with users x and y.
start_smtpd --maildir-root "$TMP/remote" --domains remote.test --users "$TMP/remote-users" \
    --listen 127.0.0.1:0 || finish
B_PID=$SMTPD_PID B_PORT=$PORT
# The relay: mw-smtpd with a queue (open relay for the test).
SMTPD_PID=
cp "$TMP/smtpd.log" "$TMP/remote.log"
start_smtpd --maildir-root "$TMP/mail" --domains example.org --queue "$TMP/queue" --relay-open \
    --listen 127.0.0.1:0 || finish

check "message for 3 remote recipients queued" send "$PORT" x@remote.test y@remote.test nobody@remote.test
qfile=$(ls "$TMP/queue/new" | head -n 1)
# What the smarthost must store after its own trace fields: the queued
# file without its Return-Path line (that belongs to final delivery).
tail -n +2 "$TMP/queue/new/$qfile" > "$TMP/expected"
check "flush through mw-smtpd exits 0 (queue empty)" test "$(flush "$B_PORT")" = 0
check "x got the relayed message byte-exact" \
    "$PY" "$HERE/mdcheck.py" exact "$TMP/remote/x/Maildir" "$TMP/expected" 1 a@example.org
check "y got the relayed message byte-exact" \
    "$PY" "$HERE/mdcheck.py" exact "$TMP/remote/y/Maildir" "$TMP/expected" 1 a@example.org
check "nobody@remote.test logged as a permanent failure (550)" \
    grep -q 'to=<nobody@remote.test> attempt=1 result=550 failed permanently' "$TMP/flush.log"
check "queue entry removed" test -z "$(ls -A "$TMP/queue/env")$(ls -A "$TMP/queue/new")"

# The smarthost is down: the entry is deferred, then sent on the next run.
kill "$B_PID"
wait "$B_PID"
check "second message queued" send "$PORT" x@remote.test
check "flush with the smarthost down exits 3 (deferred)" test "$(flush "$B_PORT")" = 3
check "the entry is still queued" test "$(ls "$TMP/queue/env" | wc -l)" -eq 1

# Postfix's smtp-sink as the smarthost.
if need smtp-sink; then
    sport=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    smtp-sink -u nobody "127.0.0.1:$sport" 10 < /dev/null > "$TMP/sink.log" 2>&1 &
    sink=$!
    i=0
    while ! "$PY" -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),1)' "$sport" 2> /dev/null; do
        i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.05
    done
    check "a message for two more recipients queued" send "$PORT" p@remote.test q@other.test
    check "flush through smtp-sink exits 0" test "$(flush "$sport")" = 0
    check "5 recipients sent in all (x, y, the deferred x, p, q)" test "$(grep -c 'result=250 sent' "$TMP/flush.log")" -eq 5
    check "queue empty after smtp-sink" test -z "$(ls -A "$TMP/queue/env")"
    kill "$sink"
    wait "$sink" 2> /dev/null
fi
check "mw-smtpd stops cleanly" stop_smtpd

# The daemon flushes by itself with --relay-host: right after queueing.
start_smtpd --maildir-root "$TMP/remote2" --domains remote.test --listen 127.0.0.1:0 || finish
B_PID=$SMTPD_PID B_PORT=$PORT
SMTPD_PID=
start_smtpd --maildir-root "$TMP/mail" --domains example.org --queue "$TMP/queue" --relay-open \
    --relay-host "127.0.0.1:$B_PORT" --flush-interval 60 --listen 127.0.0.1:0 || finish
check "daemon with --relay-host: message queued" send "$PORT" auto@remote.test
i=0
while [ ! -d "$TMP/remote2/auto/Maildir/new" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.2
check "it reached the smarthost within 5 s" "$PY" "$HERE/mdcheck.py" count "$TMP/remote2/auto/Maildir" 1
check "and left the queue" test -z "$(ls -A "$TMP/queue/env")"
check "the relaying daemon stops cleanly" stop_smtpd
SMTPD_PID=$B_PID
check "the smarthost stops cleanly" stop_smtpd
finish
