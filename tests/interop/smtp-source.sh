#!/bin/sh
# Postfix's smtp-source as a load generator against mw-smtpd: parallel
# sessions, many messages, several recipients, dot-stuffed lines; every
# delivered message is compared byte for byte with what smtp-source puts
# on the wire (recorded once by smtp_capture.py, a receiver independent of
# mailwire). Then the same load in sink mode.
# Usage: sh smtp-source.sh BUILD_DIR TLS
. "$(dirname "$0")/lib.sh"
SRC=/usr/sbin/smtp-source
export PATH="$PATH:/usr/sbin"
need smtp-source || finish
need "$PY" || finish

# source PORT ARGS...: one smtp-source message (for capture).
source1() {
    port=$1
    shift
    "$SRC" -m 1 "$@" "127.0.0.1:$port"
}

# 1. Generated 4 KiB payloads: 5 sessions, 200 messages.
start_smtpd --maildir-root "$TMP/mail" --domains example.org --listen 127.0.0.1:0 || finish
capture "$TMP/ref" source1 -l 4096 -f sender@remote.test -t load@example.org || finish
check "smtp-source -s 5 -m 200 -l 4096 exits 0" \
    "$SRC" -s 5 -m 200 -l 4096 -f sender@remote.test -t load@example.org "127.0.0.1:$PORT"
check "200 messages arrived byte-exact (Date/Message-Id aside), distinct Message-Ids" \
    "$PY" "$HERE/mdcheck.py" source "$TMP/mail/load/Maildir" "$TMP/ref" 200
check "200 transactions logged with result=250" \
    test "$(grep -c 'to=<load@example.org> size=[0-9]* result=250' "$TMP/smtpd.log")" -eq 200

# 2. A fixed message full of dot lines (-F), 2 recipients each, 5 sessions,
#    reusing connections (-d): 100 transactions, 200 deliveries (smtp-source
#    names the recipients rcpt@ and 2rcpt@).
printf 'Subject: dots\n\n.\n..\n...leading dots\n. \n.x\nend\n' > "$TMP/dots.txt"
capture "$TMP/ref" source1 -F "$TMP/dots.txt" -f s@remote.test -t rcpt@example.org || finish
check "smtp-source -F with dot lines -r 2 -d exits 0" \
    "$SRC" -s 5 -m 100 -r 2 -d -F "$TMP/dots.txt" -f s@remote.test -t rcpt@example.org "127.0.0.1:$PORT"
check "recipient rcpt got 100 exact copies" \
    "$PY" "$HERE/mdcheck.py" exact "$TMP/mail/rcpt/Maildir" "$TMP/ref" 100 s@remote.test
check "recipient 2rcpt got 100 exact copies" \
    "$PY" "$HERE/mdcheck.py" exact "$TMP/mail/2rcpt/Maildir" "$TMP/ref" 100 s@remote.test
check "multi-recipient copies are hard links of one file" \
    test "$(find "$TMP/mail/rcpt/Maildir/new" -type f -links 2 | wc -l)" -eq 100
check "no file left in the spool" test -z "$(ls -A "$TMP/mail/.spool/tmp")"
check "mw-smtpd stops cleanly" stop_smtpd

# 3. Sink mode: 1000 messages of 16 KiB over 10 sessions, nothing stored.
start_smtpd --sink --listen 127.0.0.1:0 || finish
check "sink: smtp-source -s 10 -m 1000 -l 16384 exits 0" \
    "$SRC" -s 10 -m 1000 -l 16384 -f a@remote.test -t b@anywhere.test "127.0.0.1:$PORT"
check "sink: 1000 transactions logged" \
    test "$(grep -c 'result=250 discarded (sink)' "$TMP/smtpd.log")" -eq 1000
check "sink: mw-smtpd stops cleanly" stop_smtpd

# 4. --quiet (what bench/smtpd-vs-sink.sh runs): the same service, no line per transaction.
start_smtpd --sink --quiet --listen 127.0.0.1:0 || finish
check "sink --quiet: smtp-source -s 5 -m 200 exits 0" \
    "$SRC" -s 5 -m 200 -l 4096 -f a@remote.test -t b@anywhere.test "127.0.0.1:$PORT"
check "sink --quiet: no transaction logged" test "$(grep -c 'result=' "$TMP/smtpd.log")" -eq 0
check "sink --quiet: mw-smtpd stops cleanly" stop_smtpd
finish
