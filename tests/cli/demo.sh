#!/bin/sh
# The end-to-end demo (examples/demo/run-demo.sh) as a test: it must pass
# on the built programs, and its checks must be able to fail. Broken
# variants run it on a directory of the real programs where one is replaced
# by a wrapper: a mw-fetch that changes one base64 character of the
# attachment after download (the parts check and the whole-message check
# fail), one that appends a byte after the closing boundary (only the
# whole-message check can see that), a mw-pop3d that cannot start, and one
# that exits 3 on SIGTERM (as a server with a leak does under ASan). After
# every run no process the demo started is left (none has the run's private
# TMPDIR on its command line) and its temporary directory is gone.
# Usage: sh demo.sh BUILD_DIR   (ends with "N passed, N failed");
# KEEPT=1 keeps this test's directory (not KEEP, which the demo would see).
set -u
BIN=$(cd "$1/examples" && pwd) || exit 1
DEMO=$(cd "$(dirname "$0")/../../examples/demo" && pwd)/run-demo.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mw-demo-test.XXXXXX")
trap '[ -n "${KEEPT:-}" ] || rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok: $*"; }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# run NAME PROGRAM_DIR [VAR=VALUE]: run the demo with a private TMPDIR (and
# VAR in its environment); sets rc, out.
run() {
    mkdir -p "$tmp/$1/t"
    out=$tmp/$1/out
    env ${3:+"$3"} TMPDIR="$tmp/$1/t" sh "$DEMO" "$2" > "$out" 2>&1
    rc=$?
}
# clean NAME: the run left no temporary files and no process behind.
clean() {
    if [ -n "$(ls -A "$tmp/$1/t")" ]; then
        bad "$1: temporary files left: $(ls -A "$tmp/$1/t")"
        return
    fi
    if [ -d /proc/self ]; then
        # /proc/PID/cmdline separates arguments with NUL: grep -a reads it as text.
        for c in /proc/[0-9]*/cmdline; do
            if grep -qa "$tmp/$1/t/" "$c" 2> /dev/null; then
                bad "$1: a process is still running: $(tr '\0' ' ' < "$c")"
                return
            fi
        done
    fi
    ok "$1: no temporary file, no process left"
}
has() { # has NAME TEXT: the demo's output contains TEXT
    if grep -qF -- "$2" "$out"; then ok "$1: output has '$2'"; else bad "$1: output lacks '$2'"; fi
}
# fakebin NAME: a program directory with links to the real programs.
fakebin() {
    d=$tmp/$1/bin
    mkdir -p "$d"
    for p in mw-smtpd mw-pop3d mw-send mw-fetch mw-mime; do ln -s "$BIN/$p" "$d/$p"; done
    echo "$d"
}
# wrap_fetch DIR AWK_PROGRAM: DIR/mw-fetch runs the real one, then rewrites
# every downloaded file with the awk program.
wrap_fetch() {
    rm "$1/mw-fetch"
    cat > "$1/mw-fetch" << EOF
#!/bin/sh
"$BIN/mw-fetch" "\$@" || exit \$?
while [ \$# -gt 0 ]; do [ "\$1" = --maildir ] && dir=\$2; shift; done
for f in "\$dir"/new/*; do
    awk '$2' "\$f" > "\$f.tmp" && mv "\$f.tmp" "\$f"
done
EOF
    chmod +x "$1/mw-fetch"
}

# 1. The demo passes.
run good "$BIN"
if [ "$rc" -eq 0 ]; then ok "the demo exits 0"; else bad "the demo exits $rc"; cat "$out"; fi
for h in "== Hop 1:" "== Hop 2:" "== Hop 3:" "== Hop 4:" "C: AUTH SCRAM-SHA-256 <redacted>" \
    "result=250 sent" "C: RETR 1" "2	leaf	image/jpeg	-	base64	attachment	photo.jpg	6000	-" \
    "Grüße aus Berlin!" "demo: all 7 checks passed"; do
    has good "$h"
done
if grep -q 'FAIL' "$out"; then bad "good: a FAIL line"; else ok "good: no FAIL line"; fi
clean good

# 1b. With the OpenSSL adapter built (and the openssl command): every hop
#     over STARTTLS (MW_DEMO_TLS=1), the certificates verified by the clients.
if grep -q '^MW_WITH_OPENSSL:BOOL=ON' "$1/CMakeCache.txt" 2> /dev/null &&
    command -v openssl > /dev/null 2>&1; then
    run tls "$BIN" MW_DEMO_TLS=1
    if [ "$rc" -eq 0 ]; then ok "MW_DEMO_TLS=1: the demo exits 0"; else bad "MW_DEMO_TLS=1: exit $rc"; cat "$out"; fi
    for h in "STARTTLS on every hop" "C: STARTTLS" "C: STLS" "session ready (TLS)" \
        "with ESMTPS id" "with ESMTPSA id" "tls=yes" "demo: all 7 checks passed"; do
        has tls "$h"
    done
    # mw-send's and mw-fetch's traces both name the version and the cipher.
    if [ "$(grep -c '^    -- TLS 1\.[23], ' "$out")" -eq 2 ]; then
        ok "tls: both clients print '-- TLS 1.x, CIPHER'"
    else
        bad "tls: expected two '-- TLS 1.x, CIPHER' lines"; grep -e '-- TLS' "$out"
    fi
    clean tls
else
    echo "SKIP: MW_DEMO_TLS=1 (no OpenSSL adapter in this build, or no openssl command)"
fi
run badtls "$BIN" MW_DEMO_TLS=yes
if [ "$rc" -eq 2 ]; then ok "MW_DEMO_TLS=yes: exit 2"; else bad "MW_DEMO_TLS=yes: exit $rc"; fi
has badtls "MW_DEMO_TLS must be 0"

# 2. One base64 character of the attachment changed on the way.
d=$(fakebin attach)
wrap_fetch "$d" '!done && length($0) == 77 && /^[A-Za-z0-9+\/]+\r$/ { c = substr($0, 1, 1); $0 = (c == "A" ? "B" : "A") substr($0, 2); done = 1 } { print }'
run attach "$d"
if [ "$rc" -eq 1 ]; then ok "changed attachment: exit 1"; else bad "changed attachment: exit $rc"; cat "$out"; fi
has attach "FAIL  attachment (mw-mime extract)"
has attach "FAIL  whole message"
has attach "ok    text part"
has attach "demo: FAILED: 2 of 7 checks failed"
clean attach

# 3. One byte appended after the closing boundary: every part still decodes
#    the same, only the whole-message comparison sees it.
d=$(fakebin epilogue)
wrap_fetch "$d" '{ print } END { printf "x" }'
run epilogue "$d"
if [ "$rc" -eq 1 ]; then ok "appended byte: exit 1"; else bad "appended byte: exit $rc"; cat "$out"; fi
has epilogue "ok    attachment"
has epilogue "FAIL  whole message"
has epilogue "FAIL  its size is what mw-send announced"
clean epilogue

# 4. A server that does not start: a clear message, A and B stopped.
d=$(fakebin nopop)
rm "$d/mw-pop3d"
printf '#!/bin/sh\necho "mw-pop3d: cannot bind" >&2\nexit 1\n' > "$d/mw-pop3d"
chmod +x "$d/mw-pop3d"
run nopop "$d"
if [ "$rc" -eq 1 ]; then ok "server failure: exit 1"; else bad "server failure: exit $rc"; cat "$out"; fi
has nopop "demo: FAILED: mw-pop3d (pop3d) did not start"
has nopop "mw-pop3d: cannot bind"
clean nopop

# 5. A server that does not exit 0 on SIGTERM (as a leak under ASan would):
#    the last check fails and names it.
d=$(fakebin badexit)
rm "$d/mw-pop3d"
cat > "$d/mw-pop3d" << EOF
#!/bin/sh
"$BIN/mw-pop3d" "\$@" &
child=\$!
trap 'kill \$child; wait \$child; exit 3' TERM
wait \$child
EOF
chmod +x "$d/mw-pop3d"
run badexit "$d"
if [ "$rc" -eq 1 ]; then ok "bad exit status: exit 1"; else bad "bad exit status: exit $rc"; cat "$out"; fi
has badexit "ok    whole message"
has badexit "FAIL  the three servers stop cleanly"
has badexit "pop3d exited with 3"
clean badexit

# 6. Usage errors.
run usage "$tmp/nonexistent"
if [ "$rc" -eq 2 ]; then ok "missing directory: exit 2"; else bad "missing directory: exit $rc"; fi
has usage "usage: sh run-demo.sh PROGRAM_DIR"
mkdir -p "$tmp/empty"
run empty "$tmp/empty"
if [ "$rc" -eq 2 ]; then ok "no programs: exit 2"; else bad "no programs: exit $rc"; fi
has empty "mw-smtpd is not built"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
