#!/bin/sh
# mw-smtpd against Postfix's smtp-sink under the same load, in the same run.
#
#   sh bench/smtpd-vs-sink.sh BUILD_DIR
#
# BUILD_DIR holds examples/mw-smtpd and, for the pipelined rows,
# bench/bench_smtp_load (cmake --preset release-bench builds both; see
# docs/performance.md, "SMTP server throughput").
#
# Every run starts a fresh server on a free 127.0.0.1 port (so TIME_WAIT
# sockets of the previous run never collide with the next), times one load
# generator run with `date +%s.%N`, reads the server's CPU time from
# /proc/PID/stat, and stops the server by its PID. Servers:
#   sink        Postfix smtp-sink (advertises PIPELINING)
#   mw-sink     mw-smtpd --sink --quiet: engine and socket loop, bodies discarded
#   mw-maildir  mw-smtpd --quiet delivering to a Maildir (fsync of the file,
#               then of new/, before the 250); every message is counted
# Load generators (every one sends MSGS messages of SIZE octets):
#   source      smtp-source -s N: one connection per message, lock-step
#               (smtp-source has no pipelining at all: man smtp-source, BUGS)
#   source-d    smtp-source -d: the connection is kept for the next message
#   pipe        bench_smtp_load -P: one connection per message, EHLO, then
#               MAIL RCPT DATA in one write and the body with QUIT in one write
#   pipe-d      bench_smtp_load -P -d: connection kept; the body, its "." and
#               the next MAIL RCPT DATA in one write (RFC 2920 §3.1)
# The servers take turns for each configuration; each configuration runs
# REPS times and the table shows the median (msg/s, server CPU per message)
# and the ratio of the medians to smtp-sink's.
#
# Environment (defaults in brackets):
#   MSGS [20000] SIZE [4096] REPS [3] SESSIONS ["1 10"]
#   DRIVERS ["source source-d pipe pipe-d"] SERVERS ["sink mw-sink mw-maildir"]
#   MAILDIR_DRIVERS ["source pipe-d"]  the Maildir server only runs under these
#                   (with fsync it takes ~150 msg/s here: 20,000 take minutes)
#   MAILDIR_REPS [1]
#   SMTP_SOURCE [/usr/sbin/smtp-source] SMTP_SINK [/usr/sbin/smtp-sink]
#   TMPDIR: where the Maildir goes (its file system decides the fsync cost)
# Exit status: 0, or 1 when a run failed or a Maildir lost messages.
set -u

BUILD=${1:-}
if [ -z "$BUILD" ] || [ ! -x "$BUILD/examples/mw-smtpd" ]; then
    echo "usage: sh bench/smtpd-vs-sink.sh BUILD_DIR   (BUILD_DIR/examples/mw-smtpd must exist)" >&2
    exit 2
fi
MSGS=${MSGS:-20000}
SIZE=${SIZE:-4096}
REPS=${REPS:-3}
SESSIONS=${SESSIONS:-"1 10"}
DRIVERS=${DRIVERS:-"source source-d pipe pipe-d"}
SERVERS=${SERVERS:-"sink mw-sink mw-maildir"}
MAILDIR_DRIVERS=${MAILDIR_DRIVERS:-"source pipe-d"}
MAILDIR_REPS=${MAILDIR_REPS:-1}
SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
SMTPD=$BUILD/examples/mw-smtpd
LOAD=$BUILD/bench/bench_smtp_load
FROM=load@source.test
TO=load@example.org

for p in "$SOURCE" "$SINK"; do
    [ -x "$p" ] || { echo "$p is missing (apt-get install postfix)" >&2; exit 2; }
done
case " $DRIVERS " in *" pipe"*)
    [ -x "$LOAD" ] || { echo "$LOAD is missing (cmake --preset release-bench)" >&2; exit 2; } ;;
esac
command -v ss > /dev/null || { echo "ss (iproute2) is needed to find free ports" >&2; exit 2; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/mw-smtpbench.XXXXXX")
RESULTS=$TMP/results
: > "$RESULTS"
PID=
PORT=
NEXT_PORT=$((20000 + $$ % 9000))
TICK=$(getconf CLK_TCK)
SINK_USER=
[ "$(id -u)" -eq 0 ] && SINK_USER="-u nobody" # smtp-sink refuses to run as root without it
failed=0

cleanup() {
    [ -n "$PID" ] && kill "$PID" 2> /dev/null && wait "$PID" 2> /dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A port below the ephemeral range with no socket at all on it (TIME_WAIT included).
free_port() {
    while :; do
        NEXT_PORT=$((NEXT_PORT + 1))
        [ $NEXT_PORT -ge 32000 ] && NEXT_PORT=20001
        if [ -z "$(ss -Htan "( sport = :$NEXT_PORT or dport = :$NEXT_PORT )")" ]; then
            PORT=$NEXT_PORT
            return 0
        fi
    done
}

wait_listen() {
    i=0
    while [ -z "$(ss -Hltn "( sport = :$PORT )")" ]; do
        i=$((i + 1))
        if [ $i -gt 200 ] || ! kill -0 "$PID" 2> /dev/null; then
            echo "server on port $PORT did not start" >&2
            return 1
        fi
        sleep 0.02
    done
}

# start_server NAME: sets PID and PORT.
start_server() {
    free_port
    case $1 in
    sink)
        # shellcheck disable=SC2086
        "$SINK" $SINK_USER "127.0.0.1:$PORT" 1000 < /dev/null > "$TMP/server.log" 2>&1 &
        ;;
    mw-sink)
        "$SMTPD" --sink --quiet --listen "127.0.0.1:$PORT" < /dev/null > "$TMP/server.log" 2>&1 &
        ;;
    mw-maildir)
        rm -rf "$TMP/mail"
        "$SMTPD" --quiet --maildir-root "$TMP/mail" --domains example.org \
            --listen "127.0.0.1:$PORT" < /dev/null > "$TMP/server.log" 2>&1 &
        ;;
    esac
    PID=$!
    wait_listen
}

stop_server() {
    kill "$PID" 2> /dev/null
    wait "$PID" 2> /dev/null
    PID=
}

# Server CPU time (user + system) in clock ticks.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$PID/stat"
}

# run_driver NAME SESSIONS
run_driver() {
    case $1 in
    source) "$SOURCE" -s "$2" -m "$MSGS" -l "$SIZE" -f $FROM -t $TO "127.0.0.1:$PORT" ;;
    source-d) "$SOURCE" -d -s "$2" -m "$MSGS" -l "$SIZE" -f $FROM -t $TO "127.0.0.1:$PORT" ;;
    pipe) "$LOAD" -P -s "$2" -m "$MSGS" -l "$SIZE" -f $FROM -t $TO "127.0.0.1:$PORT" ;;
    pipe-d) "$LOAD" -P -d -s "$2" -m "$MSGS" -l "$SIZE" -f $FROM -t $TO "127.0.0.1:$PORT" ;;
    esac
}

# one DRIVER SESSIONS SERVER REP: one timed run, one line in RESULTS.
one() {
    start_server "$3" || { failed=1; return; }
    c0=$(cpu_ticks)
    t0=$(date +%s.%N)
    if run_driver "$1" "$2" > "$TMP/driver.log" 2>&1; then ok=ok; else ok=FAIL; fi
    t1=$(date +%s.%N)
    c1=$(cpu_ticks)
    if [ "$3" = mw-maildir ] && [ "$ok" = ok ]; then
        stored=$(find "$TMP/mail/load/Maildir/new" -type f 2> /dev/null | wc -l)
        [ "$stored" -eq "$MSGS" ] || ok="LOST:$stored/$MSGS"
    fi
    stop_server
    [ "$ok" = ok ] || { failed=1; sed 's/^/  driver: /' "$TMP/driver.log" | head -n 5 >&2; }
    awk -v d="$1" -v s="$2" -v sv="$3" -v r="$4" -v t0="$t0" -v t1="$t1" -v c0="$c0" \
        -v c1="$c1" -v m="$MSGS" -v tick="$TICK" -v ok="$ok" 'BEGIN {
        printf "%s %s %s %s %.0f %.1f %s\n", d, s, sv, r, m / (t1 - t0),
               (c1 - c0) / tick * 1e6 / m, ok }' | tee -a "$RESULTS" >&2
}

in_list() {
    case " $2 " in *" $1 "*) return 0 ;; esac
    return 1
}

echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(uname -srm), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
echo "# raw: driver sessions server rep msg/s server-cpu-us/msg status" >&2
rep=1
while [ $rep -le "$REPS" ]; do
    for d in $DRIVERS; do
        for s in $SESSIONS; do
            for sv in $SERVERS; do
                if [ "$sv" = mw-maildir ]; then
                    in_list "$d" "$MAILDIR_DRIVERS" || continue
                    [ $rep -le "$MAILDIR_REPS" ] || continue
                fi
                one "$d" "$s" "$sv" "$rep"
            done
        done
    done
    rep=$((rep + 1))
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# The table: medians per (driver, sessions, server).
awk -v msgs="$MSGS" -v size="$SIZE" -v servers="$SERVERS" -v loadend="$LOAD_END" '
function median(list,    n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    if (n == 0) return -1
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
    k = $1 SUBSEP $2 SUBSEP $3
    if (!(($1 SUBSEP $2) in seen)) { seen[$1 SUBSEP $2] = 1; order[++n] = $1 SUBSEP $2 }
    if ($7 != "ok") { bad[k] = $7; next }
    rate[k] = rate[k] " " $5; cpu[k] = cpu[k] " " $6; runs[k]++
    if ($3 == "mw-maildir") maildir_runs++
}
END {
    ns = split(servers, sv, " ")
    title["sink"] = "smtp-sink"; title["mw-sink"] = "mw-smtpd --sink"; title["mw-maildir"] = "mw-smtpd Maildir+fsync"
    printf "SMTP server throughput: %d messages of %d octets each run; medians over the runs\n", msgs, size
    printf "(msg/s: messages per second of the load generator; x sink: ratio to smtp-sink; cpu: server CPU time per message)\n"
    printf "%-9s %4s", "driver", "sess"
    for (i = 1; i <= ns; i++) printf "  %-24s", (sv[i] in title) ? title[sv[i]] : sv[i]
    printf "\n%-9s %4s", "", ""
    for (i = 1; i <= ns; i++) printf "  %-24s", sv[i] == "sink" ? " msg/s          cpu" : " msg/s x sink     cpu"
    printf "\n"
    for (o = 1; o <= n; o++) {
        split(order[o], ds, SUBSEP)
        printf "%-9s %4s", ds[1], ds[2]
        base = median(rate[order[o] SUBSEP "sink"])
        for (i = 1; i <= ns; i++) {
            k = order[o] SUBSEP sv[i]
            if (k in bad) { printf "  %-24s", bad[k]; continue }
            if (!(k in runs)) { printf "  %-24s", "-"; continue }
            r = median(rate[k]); c = median(cpu[k])
            if (sv[i] == "sink" || base <= 0) cell = sprintf("%6d        %5.0fus", r, c)
            else cell = sprintf("%6d %5.2fx  %5.0fus", r, r / base, c)
            printf "  %-24s", cell
        }
        printf "\n"
    }
    if (maildir_runs) printf "Maildir: %d runs, each stored all %d messages (files counted in new/)\n", maildir_runs, msgs
    printf "(load average at the end: %s)\n", loadend
}' "$RESULTS"
exit $failed
