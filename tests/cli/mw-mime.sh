#!/bin/sh
# Command-line test of examples/mw-mime: exact outputs of show, show --json,
# headers, cat and extract on the committed messages in
# tests/vectors/mime-cli/, neutralised path-traversal file names, stdin
# input (seekable and piped), exit codes, an exact build, build -> show
# round trips, and a multi-megabyte attachment built and extracted
# byte-exact. Usage: sh mw-mime.sh BUILD_DIR  (ends with "N passed, N failed")
set -u
bin=$1/examples/mw-mime
vec=$(cd "$(dirname "$0")/../vectors/mime-cli" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}

# run NAME WANT_RC WANT_FILE STDERR_PATTERN -- ARGS...   (stdin from $stdin)
stdin=/dev/null
run() {
    name=$1 want_rc=$2 want=$3 pattern=$4
    shift 5
    "$bin" "$@" < "$stdin" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        bad "$name: exit $rc, expected $want_rc"; cat "$tmp/err"; return
    fi
    if [ -n "$want" ] && ! cmp -s "$tmp/out" "$want"; then
        bad "$name: output differs from $want"
        diff "$want" "$tmp/out" | head -n 20
        return
    fi
    if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
        bad "$name: stderr lacks '$pattern'"; cat "$tmp/err"; return
    fi
    if [ -z "$pattern" ] && [ -s "$tmp/err" ]; then
        bad "$name: unexpected stderr"; cat "$tmp/err"; return
    fi
    ok
}

if [ ! -x "$bin" ]; then
    echo "no executable at $bin"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- exact outputs on committed messages ----
run show 0 "$vec/sample.show" '' -- show "$vec/sample.eml"
run show-json 0 "$vec/sample.json" '' -- show --json "$vec/sample.eml"
run show-broken 0 "$vec/broken.show" '' -- show "$vec/broken.eml"
run headers 0 "$vec/sample.headers" '' -- headers "$vec/sample.eml"
run cat 0 "$vec/sample.cat" '' -- cat "$vec/sample.eml"
run cat-html 0 "$vec/sample.html-cat" '' -- cat --html "$vec/sample.eml"
run cat-html-fallback 0 "$vec/html-only.cat" '' -- cat "$vec/html-only.eml"
printf 'Caf\303\251 at 10:00. \r\nSee the r\303\251sum\303\251 attached.' > "$tmp/crlf"
run cat-crlf 0 "$tmp/crlf" '' -- cat --crlf "$vec/sample.eml"
stdin=$vec/sample.eml
run show-stdin 0 "$vec/sample.show" '' -- show -
stdin=/dev/null
# cat reads twice: piped stdin is spooled to a temporary file
if cat "$vec/sample.eml" | "$bin" cat - > "$tmp/out" 2>&1 && cmp -s "$tmp/out" "$vec/sample.cat"; then ok
else bad "cat from a pipe"; fi
if cat "$vec/sample.eml" | "$bin" show - > "$tmp/out" 2>&1 && cmp -s "$tmp/out" "$vec/sample.show"; then ok
else bad "show from a pipe"; fi

# ---- extract: names, contents, path traversal, de-duplication ----
mkdir "$tmp/x" "$tmp/x/out"
run extract 0 "$vec/sample.extract" '' -- extract "$vec/sample.eml" "$tmp/x/out"
printf '%%PDF-1.4\n%%\303\244\303\274\303\266\303\237\n' > "$tmp/pdf"
if cmp -s "$tmp/pdf" "$tmp/x/out/r$(printf '\303\251')sum$(printf '\303\251').pdf"; then ok
else bad "extract: RFC 2231 file name or decoded PDF bytes"; fi
if [ "$(cat "$tmp/x/out/etcpasswd")" = "root:x:0:0:" ] && [ "$(cat "$tmp/x/out/passwd")" = "second" ] &&
   [ "$(cat "$tmp/x/out/evilname.txt")" = "evil" ]; then ok
else bad "extract: attachment contents"; fi
# nothing outside DIR, exactly the listed files inside it
if [ "$(ls -A "$tmp/x")" = "out" ] && [ ! -e "$tmp/etc" ] && [ "$(ls -A "$tmp/x/out" | wc -l)" -eq 4 ]; then ok
else bad "extract: files outside DIR or unexpected files"; ls -laR "$tmp/x"; fi
# a second run never overwrites: new names get -1
run extract-again 0 '' '' -- extract "$vec/sample.eml" "$tmp/x/out"
if grep -q "	etcpasswd-1	11\$" "$tmp/out" && grep -q "	passwd-1	6\$" "$tmp/out"; then ok
else bad "extract: de-duplicated names"; cat "$tmp/out"; fi
# a planted symlink is not followed
mkdir "$tmp/y"
ln -s "$tmp/victim" "$tmp/y/passwd"
run extract-symlink 0 '' '' -- extract "$vec/sample.eml" "$tmp/y"
if [ ! -e "$tmp/victim" ] && [ "$(cat "$tmp/y/passwd-1")" = "second" ]; then ok
else bad "extract: followed a symlink"; fi
# names made only of dots or slashes, hidden names, padding, a 304-byte UTF-8
# name (cut to 200 bytes on a character boundary), a Windows path
mkdir "$tmp/names"
run extract-names 0 "$vec/names.extract" '' -- extract "$vec/names.eml" "$tmp/names"
if [ "$(ls -A "$tmp/names" | wc -l)" -eq 6 ] && [ "$(ls "$tmp/names" | LC_ALL=C awk '{ if (length($0) > m) m = length($0) } END { print m }')" -eq 200 ]; then ok
else bad "extract: names"; ls -A "$tmp/names"; fi
mkdir "$tmp/all"
run extract-all 0 "$vec/sample.extract-all" '' -- extract --all "$vec/sample.eml" "$tmp/all"
printf '\223quoted\224 \200 5' > "$tmp/w1252"
if cmp -s "$tmp/w1252" "$tmp/all/part-6.1.txt"; then ok
else bad "extract --all: forwarded 8bit body not byte-exact"; fi

# ---- odd input: the fuzz seeds of the MIME parser through every reader ----
# (exit 0, or 1 for "no text part"; never a crash, never a file outside DIR)
corpus=$(cd "$(dirname "$0")/../fuzz/corpus/mime" 2>/dev/null && pwd)
if [ -n "$corpus" ]; then
    n=0 odd=0
    rm -rf "$tmp/fz" && mkdir "$tmp/fz"
    before=$(ls -A "$tmp" | wc -l)
    for f in "$corpus"/* "$vec"/*.eml; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        rm -rf "$tmp/fz" && mkdir "$tmp/fz"
        for cmd in show "show --json" headers cat "extract --all"; do
            dir=
            case $cmd in extract*) dir=$tmp/fz ;; esac
            # shellcheck disable=SC2086
            "$bin" $cmd "$f" $dir > /dev/null 2> "$tmp/err"
            rc=$?
            if [ "$rc" -ne 0 ] && { [ "$rc" -ne 1 ] || [ "$cmd" != cat ]; }; then
                odd=$((odd + 1)); echo "  $cmd $f: exit $rc"; cat "$tmp/err"
            fi
        done
        if [ "$(ls -A "$tmp" | wc -l)" -ne "$before" ]; then
            odd=$((odd + 1)); echo "  extract $f: wrote outside DIR"; ls -A "$tmp"
        fi
    done
    if [ "$odd" -eq 0 ] && [ "$n" -gt 10 ]; then ok; else bad "odd input: $odd failures over $n files"; fi
fi

# ---- exit codes ----
run no-file 3 '' 'No such file' -- show "$tmp/missing.eml"
run no-dir 3 '' 'cannot open directory' -- extract "$vec/sample.eml" "$tmp/missing"
run no-command 2 '' 'command is needed' --
run bad-command 2 '' 'unknown command' -- frobnicate
run show-noarg 2 '' 'FILE missing' -- show
run show-badopt 2 '' 'unknown option' -- show --bogus "$vec/sample.eml"
run extract-noarg 2 '' 'FILE and DIR' -- extract "$vec/sample.eml"
run cat-notext 1 '' 'no text/html part' -- cat --html "$vec/broken.eml"
run build-noarg 2 '' 'required' -- build --from a@example.org
run build-badaddr 1 '' 'not an address' -- build --from 'not an address' --to b@example.org --subject s
run build-baddate 1 '' 'not an RFC 5322 date' -- build --from a@example.org --to b@example.org --subject s --date yesterday
run build-nofile 3 '' 'No such file' -- build --from a@example.org --to b@example.org --subject s --text "$tmp/missing"
if [ -w /dev/full ]; then
    "$bin" show "$vec/sample.eml" > /dev/full 2> "$tmp/err"
    if [ $? -eq 3 ]; then ok; else bad "show to /dev/full: exit code"; fi
fi
if "$bin" --help | grep -q '^usage: mw-mime'; then ok; else bad "--help"; fi

# ---- build: exact output, then round trips through show/cat/extract ----
printf 'Hello Bob,\nthe numbers are attached.\n' > "$tmp/text.txt"
printf '<p>Hello <b>Bob</b></p>\n' > "$tmp/body.html"
printf 'a,b\n1,2\n' > "$tmp/data.csv"
run build 0 "$vec/build.expect" '' -- build --from 'Ann Example <ann@example.org>' \
    --to bob@example.net --cc 'Carol <carol@example.com>' --subject 'Quarterly numbers' \
    --text "$tmp/text.txt" --html "$tmp/body.html" --attach "$tmp/data.csv" \
    --date 'Thu, 26 Nov 2026 10:00:00 +0000' --message-id '<q3.1@example.org>' --boundary '=_test'

cp "$tmp/out" "$tmp/built.eml"
cat > "$tmp/want" <<'END'
0	multipart	multipart/mixed	-	7bit	-	-	-	-
1	multipart	multipart/alternative	-	7bit	-	-	-	-
1.1	leaf	text/plain	utf-8	7bit	-	-	39	-
1.2	leaf	text/html	utf-8	7bit	-	-	25	-
2	leaf	text/csv	us-ascii	base64	attachment	data.csv	8	-
END
run build-show 0 "$tmp/want" '' -- show "$tmp/built.eml"

# non-ASCII subject, names and file name; text from stdin; generated Date and Message-ID
printf 'Gr\303\274\303\237e!\n' > "$tmp/gruss.txt"
fname=$(printf 'r\303\251sum\303\251 f\303\274r alle.csv')
cp "$tmp/data.csv" "$tmp/$fname"
stdin=$tmp/gruss.txt
run build-utf8 0 '' '' -- build --from "$(printf '\303\234bel <u@example.org>')" --to x@example.net \
    --subject "$(printf 'Gr\303\274\303\237e \342\202\254 f\303\274r alle')" --text - \
    --attach "$tmp/$fname:text/csv"
stdin=/dev/null
cp "$tmp/out" "$tmp/utf8.eml"
if [ "$(LC_ALL=C tr -d '\r\n\t -~' < "$tmp/utf8.eml" | wc -c)" -eq 0 ]; then ok
else bad "build: a byte outside printable ASCII in the output"; fi
if grep -q '^Date: [A-Z][a-z][a-z], [0-9]* [A-Z][a-z][a-z] 20[0-9][0-9] ' "$tmp/utf8.eml" &&
   grep -q '^Message-ID: <[0-9a-z.]*@example.org>' "$tmp/utf8.eml"; then ok
else bad "build: generated Date / Message-ID"; grep -E '^(Date|Message-ID)' "$tmp/utf8.eml"; fi
"$bin" headers "$tmp/utf8.eml" > "$tmp/out"
if grep -q "^Subject: $(printf 'Gr\303\274\303\237e \342\202\254 f\303\274r alle')\$" "$tmp/out" &&
   grep -q "^  mailbox u@example.org \"$(printf '\303\234bel')\"\$" "$tmp/out"; then ok
else bad "build -> headers: RFC 2047 subject / display name"; cat "$tmp/out"; fi
"$bin" show "$tmp/utf8.eml" > "$tmp/out"
if grep -q "^2	leaf	text/csv	us-ascii	base64	attachment	$fname	8	-\$" "$tmp/out"; then ok
else bad "build -> show: RFC 2231 file name"; cat "$tmp/out"; fi
"$bin" cat "$tmp/utf8.eml" > "$tmp/out"
if cmp -s "$tmp/out" "$tmp/gruss.txt"; then ok; else bad "build -> cat: text from stdin"; fi

# ---- text bodies: encoding chosen over the whole file, text back exactly ----
awk 'BEGIN { s = "start "; for (i = 0; i < 2000; i++) s = s "x"; print s " end"; print "second" }' > "$tmp/t-long.txt"
printf 'a\000b\nline\n' > "$tmp/t-nul.txt"
# 6 MB, a non-ASCII character on every line: several 64 KiB blocks
awk 'BEGIN { for (i = 0; i < 200000; i++) printf "line %d caf\303\251 with some text\n", i }' > "$tmp/t-big.txt"
for t in long:quoted-printable nul:base64 big:quoted-printable; do
    name=${t%%:*} want_cte=${t#*:}
    "$bin" build --from a@example.org --to b@example.org --subject s --text "$tmp/t-$name.txt" > "$tmp/t.eml"
    if grep -q "^Content-Transfer-Encoding: $want_cte" "$tmp/t.eml" &&
       awk 'length($0) > 999 { bad = 1 } END { exit bad }' "$tmp/t.eml" &&
       "$bin" cat "$tmp/t.eml" | cmp -s - "$tmp/t-$name.txt"; then ok
    else bad "build/cat text $name: encoding or round trip"; grep '^Content-Transfer' "$tmp/t.eml"; fi
done

# ---- a multi-megabyte attachment, streamed both ways, byte-exact ----
head -c 6000000 /dev/urandom > "$tmp/big.bin"
if "$bin" build --from a@example.org --to b@example.org --subject big --text "$tmp/text.txt" \
    --attach "$tmp/big.bin" > "$tmp/big.eml" 2> "$tmp/err"; then ok
else bad "build big"; cat "$tmp/err"; fi
mkdir "$tmp/bigout"
if "$bin" extract "$tmp/big.eml" "$tmp/bigout" > "$tmp/out" 2> "$tmp/err" &&
   [ "$(cat "$tmp/out")" = "2	big.bin	6000000" ] && cmp -s "$tmp/big.bin" "$tmp/bigout/big.bin"; then ok
else bad "extract big: not byte-exact"; cat "$tmp/out" "$tmp/err"; fi
if awk 'length($0) > 78 { bad = 1 } END { exit bad }' "$tmp/big.eml"; then ok
else bad "big: a line longer than 78"; fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
