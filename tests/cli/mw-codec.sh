#!/bin/sh
# Command-line test of examples/mw-codec: every mode with exact expected
# output, the exit codes of bad data / bad usage / I/O failure, and round
# trips of a multi-megabyte random file through the streaming modes.
# Usage: sh mw-codec.sh BUILD_DIR   (ends with "N passed, N failed")
# Inputs and expected outputs are written with octal escapes so that any
# POSIX printf (dash's included) reads them the same way.
set -u
bin=$1/examples/mw-codec
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0

bad() {
    fail=$((fail + 1))
    echo "FAIL: $*"
}

# t NAME EXIT EXPECTED_OUT INPUT [STDERR_PATTERN] -- ARGS...
t() {
    name=$1 want_rc=$2 want=$3 input=$4 pattern=$5
    shift 6
    printf -- "$input" > "$tmp/in"
    printf -- "$want" > "$tmp/want"
    "$bin" "$@" < "$tmp/in" > "$tmp/out" 2> "$tmp/err"
    rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        bad "$name: exit $rc, expected $want_rc"; cat "$tmp/err"; return
    fi
    if ! cmp -s "$tmp/out" "$tmp/want"; then
        bad "$name: output differs"
        echo "  got:"; od -c "$tmp/out" | head -n 8
        echo "  expected:"; od -c "$tmp/want" | head -n 8
        return
    fi
    if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$tmp/err"; then
        bad "$name: stderr lacks '$pattern'"; cat "$tmp/err"; return
    fi
    if [ -z "$pattern" ] && [ -s "$tmp/err" ]; then
        bad "$name: unexpected stderr"; cat "$tmp/err"; return
    fi
    pass=$((pass + 1))
}

if [ ! -x "$bin" ]; then
    echo "no executable at $bin"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- base64 ----
t b64enc 0 'aGVsbG8=' 'hello' '' -- b64enc
t b64enc-empty 0 '' '' '' -- b64enc
t b64enc-nopad 0 'aGVsbG8' 'hello' '' -- b64enc --nopad
t b64enc-url 0 '-_8=' '\373\377' '' -- b64enc --url
t b64enc-std 0 '+/8=' '\373\377' '' -- b64enc
line=$(printf 'YWFh%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19)
aaa=$(printf 'aaa%.0s' 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19)
t b64enc-wrap 0 "$line\r\nYQ==\r\n" "${aaa}a" '' -- b64enc --wrap
t b64dec 0 'hello' 'aGVsbG8=' '' -- b64dec
t b64dec-url 0 '\373\377' '-_8=' '' -- b64dec --url
t b64dec-bad 1 'hel' 'aGVs*bG8=' 'byte 4' -- b64dec
t b64dec-mime 0 'hello' 'aGVs\r\nbG8=\r\n' '' -- b64dec --mime
t b64dec-garbage 0 'hello' 'aGVs*bG8=' 'warning' -- b64dec --garbage
t b64dec-badopt 2 '' '' 'unknown option' -- b64dec --wrap

# ---- quoted-printable ----
t qpenc 0 'Caf=C3=A9 =3D 1\r\n=2Edot\r\n' 'Caf\303\251 = 1\r\n.dot\r\n' '' -- qpenc --dot
t qpenc-binary 0 'a=0D=0Ab' 'a\r\nb' '' -- qpenc --binary
t qpenc-lf 0 'x=C3=A9\r\ny\r\n' 'x\303\251\ny\n' '' -- qpenc --lf
t qpdec 0 'Caf\303\251x\r\n' 'Caf=C3=A9=\r\nx\r\n' '' -- qpdec
t qpdec-lenient 0 'a=ZZb' 'a=ZZb' 'malformed escapes' -- qpdec
t qpdec-strict 1 'a' 'a=ZZb' 'byte 1' -- qpdec --strict

# ---- RFC 2047 ----
t 2047enc-q 0 '=?UTF-8?Q?Keld_J=C3=B8rn_Simonsen?=\n' 'Keld J\303\270rn Simonsen\n' '' -- 2047enc
t 2047enc-b 0 '=?UTF-8?B?S2VsZCBKw7hybiBTaW1vbnNlbg==?=\n' 'Keld J\303\270rn Simonsen' '' -- 2047enc --b
t 2047enc-auto-b 0 '=?UTF-8?B?5pel5pys6Kqe?=\n' '\346\227\245\346\234\254\350\252\236\n' '' -- 2047enc
t 2047enc-phrase 0 '=?UTF-8?Q?J=2E_Doe_=C3=A9?=\n' 'J. Doe \303\251\n' '' -- 2047enc --phrase --q
t 2047enc-fold 0 '=?UTF-8?Q?=C3=A9?=\r\n =?UTF-8?Q?=C3=A9=C3=A9?=\n' '\303\251\303\251\303\251\n' '' -- 2047enc --q --column 58
t 2047enc-badutf8 1 '' 'ab\377c\n' 'byte 2' -- 2047enc
t 2047enc-bq 2 '' 'x' 'cannot be combined' -- 2047enc --b --q
t 2047enc-column 2 '' 'x' 'column' -- 2047enc --column x
t 2047dec 0 'If you can read this you understand the example.\n' \
  '=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=\n' '' -- 2047dec
t 2047dec-table 0 '(a b)\n' '(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)' '' -- 2047dec
t 2047dec-phrase 0 '"=?UTF-8?Q?a?=" b <x@y>\n' '"=?UTF-8?Q?a?=" =?UTF-8?Q?b?= <x@y>' '' -- 2047dec --phrase
t 2047dec-unstructured 0 '"a" b <x@y>\n' '"=?UTF-8?Q?a?=" =?UTF-8?Q?b?= <x@y>' '' -- 2047dec
t 2047dec-latin1 0 'Andr\303\251 Pirard\n' '=?ISO-8859-1?Q?Andr=E9?= Pirard' '' -- 2047dec
t 2047dec-unknown 0 '=?X-NONE?Q?a?= b\n' '=?X-NONE?Q?a?= b' 'unknown charset' -- 2047dec
t 2047dec-ctl 0 'a\357\277\275b\n' '=?UTF-8?Q?a=0Ab?=' 'U+FFFD' -- 2047dec
t 2047dec-strict 0 'x=?UTF-8?Q?a?=\n' 'x=?UTF-8?Q?a?=' '' -- 2047dec --strict
t 2047dec-lenient 0 'xa\n' 'x=?UTF-8?Q?a?=' '' -- 2047dec

# ---- modified UTF-7 ----
t mutf7enc 0 '~peter/mail/&U,BTFw-/&ZeVnLIqe-\n' \
  '~peter/mail/\345\217\260\345\214\227/\346\227\245\346\234\254\350\252\236\n' '' -- mutf7enc
t mutf7enc-amp 0 '&-\n' '&' '' -- mutf7enc
t mutf7dec 0 '~peter/mail/\345\217\260\345\214\227/\346\227\245\346\234\254\350\252\236\n' \
  '~peter/mail/&U,BTFw-/&ZeVnLIqe-\n' '' -- mutf7dec
t mutf7dec-emoji 0 '\360\237\230\200\n' '&2D3eAA-' '' -- mutf7dec
t mutf7dec-noncanon 1 '' 'ab&AGE-' 'byte 3' -- mutf7dec
t mutf7dec-adjacent 1 '' '&AOk-&AOk-' 'byte 5' -- mutf7dec
t mutf7enc-bad 1 '' 'a\377' 'byte 1' -- mutf7enc
t mutf7-opt 2 '' '' 'unknown option' -- mutf7dec --x

# ---- usage ----
t no-mode 2 '' '' 'no MODE' --
t bad-mode 2 '' '' 'unknown MODE' -- frobnicate
"$bin" --help > "$tmp/out" 2>&1 && grep -q '^usage: mw-codec MODE' "$tmp/out" && pass=$((pass + 1)) || bad "--help"
"$bin" demo > "$tmp/out" 2>&1 && grep -q 'modified UTF-7' "$tmp/out" && ! grep -q 'FAILED' "$tmp/out" \
    && pass=$((pass + 1)) || { bad "demo"; cat "$tmp/out"; }

# ---- size cap of the header-value modes ----
head -c 1100000 /dev/zero | tr '\0' 'a' > "$tmp/big"
"$bin" 2047dec < "$tmp/big" > /dev/null 2> "$tmp/err"
[ $? -eq 1 ] && grep -q 'larger than' "$tmp/err" && pass=$((pass + 1)) || bad "value cap"

# ---- streaming round trips of a multi-megabyte random file ----
head -c 3000000 /dev/urandom > "$tmp/rand"
rt() {
    name=$1 enc=$2 dec=$3
    # shellcheck disable=SC2086
    if "$bin" $enc < "$tmp/rand" > "$tmp/enc" && "$bin" $dec < "$tmp/enc" > "$tmp/dec" \
        && cmp -s "$tmp/rand" "$tmp/dec"; then
        pass=$((pass + 1))
    else
        bad "round trip $name"
    fi
}
rt b64 "b64enc" "b64dec"
rt b64-wrap "b64enc --wrap" "b64dec --mime"
rt b64-url "b64enc --url --nopad" "b64dec --url --nopad"
rt qp-binary "qpenc --binary" "qpdec --strict"
# text-mode QP keeps CRLF lines: make a text file of random lines
od -An -tx1 -v "$tmp/rand" | head -n 60000 | sed 's/$/\r/' > "$tmp/text"
if "$bin" qpenc --dot < "$tmp/text" > "$tmp/enc" && "$bin" qpdec < "$tmp/enc" > "$tmp/dec" \
    && cmp -s "$tmp/text" "$tmp/dec" && awk 'length($0) > 77 { exit 1 }' "$tmp/enc"; then
    pass=$((pass + 1))
else
    bad "round trip qp text"
fi
# encoded base64 lines are at most 76 characters
"$bin" b64enc --wrap < "$tmp/rand" | awk 'length($0) > 77 { bad = 1 } END { exit bad }' \
    && pass=$((pass + 1)) || bad "b64 --wrap line length"

# ---- I/O errors ----
if [ -w /dev/full ]; then
    "$bin" qpenc --binary < "$tmp/rand" > /dev/full 2> "$tmp/err"
    [ $? -eq 3 ] && grep -q 'write' "$tmp/err" && pass=$((pass + 1)) || bad "write error exit 3"
fi
"$bin" qpdec <&- > /dev/null 2> "$tmp/err"
[ $? -eq 3 ] && pass=$((pass + 1)) || bad "read error exit 3"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
