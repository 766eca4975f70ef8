/* SPDX-License-Identifier: MIT */
#include "mw_test.h"

#include "codec/codec_internal.h"

#include <mailwire/rfc5322.h>

#include <iconv.h>
#include <stdlib.h>

/* Decode s and compare with the expected text and defect bits. */
static void dec_is(const char *file, int line, const char *in, unsigned flags, const char *want,
                   unsigned want_defects)
{
    char out[4096];
    unsigned defects = 99;
    mw_ssize n = mw_2047_decode(in, strlen(in), out, sizeof out, flags, &defects);
    if (n < 0) {
        mw_test_fail(file, line, "decode of \"%s\" failed: %d", in, (int)n);
        return;
    }
    if ((size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0 || out[n] != '\0') {
        mw_test_fail(file, line, "decode of \"%s\"", in);
        mw_test_dump("  got     ", out, (size_t)n);
        mw_test_dump("  expected", want, strlen(want));
    }
    if (defects != want_defects)
        mw_test_fail(file, line, "defects of \"%s\": %u, expected %u", in, defects, want_defects);
}
#define DEC(in, flags, want, defects) dec_is(__FILE__, __LINE__, in, flags, want, defects)

static int have_charset(const char *name)
{
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) return 0;
    iconv_close(cd);
    return 1;
}

/* RFC 2047 §8: the table of encoded-word sequences and how they display. */
static void test_rfc_section8_table(void)
{
    for (unsigned f = 0; f <= MW_2047_STRICT; f += MW_2047_STRICT) {
        DEC("(=?ISO-8859-1?Q?a?=)", f, "(a)", 0);
        DEC("(=?ISO-8859-1?Q?a?= b)", f, "(a b)", 0);
        DEC("(=?ISO-8859-1?Q?a?= =?ISO-8859-1?Q?b?=)", f, "(ab)", 0);
        DEC("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", f, "(ab)", 0);
        DEC("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", f, "(ab)", 0);
        DEC("(=?ISO-8859-1?Q?a_b?=)", f, "(a b)", 0);
        DEC("(=?ISO-8859-1?Q?a?= =?ISO-8859-2?Q?_b?=)", f, "(a b)", 0);
    }
}

/* RFC 2047 §8: the header examples. */
static void test_rfc_section8_headers(void)
{
    DEC("=?US-ASCII?Q?Keith_Moore?= <moore@cs.utk.edu>", 0, "Keith Moore <moore@cs.utk.edu>", 0);
    DEC("=?ISO-8859-1?Q?Keld_J=F8rn_Simonsen?= <keld@dkuug.dk>", 0,
        "Keld J\xC3\xB8rn Simonsen <keld@dkuug.dk>", 0);
    DEC("=?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>", 0,
        "Andr\xC3\xA9 Pirard <PIRARD@vm1.ulg.ac.be>", 0);
    DEC("=?ISO-8859-1?B?SWYgeW91IGNhbiByZWFkIHRoaXMgeW8=?=\r\n"
        "    =?ISO-8859-2?B?dSB1bmRlcnN0YW5kIHRoZSBleGFtcGxlLg==?=",
        0, "If you can read this you understand the example.", 0);
    DEC("Nathaniel Borenstein <nsb@thumper.bellcore.com>\r\n"
        "    (=?iso-8859-8?b?7eXs+SDv4SDp7Oj08A==?=)",
        0,
        "Nathaniel Borenstein <nsb@thumper.bellcore.com>    ("
        "\xD7\x9D\xD7\x95\xD7\x9C\xD7\xA9 \xD7\x9F\xD7\x91 "
        "\xD7\x99\xD7\x9C\xD7\x98\xD7\xA4\xD7\xA0)",
        0);
    /* RFC 2231 §5: a language suffix on the charset is accepted and ignored. */
    DEC("=?US-ASCII*EN?Q?Keith_Moore?=", 0, "Keith Moore", 0);
}

static void test_charsets(void)
{
    DEC("=?ISO-8859-15?Q?=A4uro?=", 0, "\xE2\x82\xACuro", 0);
    DEC("=?windows-1252?Q?=80_5?=", 0, "\xE2\x82\xAC 5", 0);
    DEC("=?utf-8?q?caf=C3=A9?=", 0, "caf\xC3\xA9", 0);
    DEC("=?UTF-8?B?ePCfmIB5?=", 0, "x\xF0\x9F\x98\x80y", 0);
    if (have_charset("SHIFT_JIS")) {
        DEC("=?Shift_JIS?B?k/qWe4zq?=", 0, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", 0);
        /* 本 (0x96 0x7B) cut between two words by a naive encoder */
        DEC("=?Shift_JIS?B?k/qW?= =?shift_jis?B?e4zq?=", 0, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
            0);
    }
    if (have_charset("ISO-2022-JP"))
        DEC("=?ISO-2022-JP?B?GyRCRnxLXDhsJUYlOSVIGyhC?=", 0,
            "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xB9\xE3\x83\x88", 0);
    /* US-ASCII with 8-bit bytes: replaced */
    DEC("=?US-ASCII?Q?a=E9?=", 0, "a\xEF\xBF\xBD", MW_2047_DEFECT_INVALID);
}

static void test_split_multibyte(void)
{
    /* 日 = E6 97 A5 cut after 2 bytes, and after 1 byte across three words */
    DEC("=?UTF-8?Q?=E6=97?= =?UTF-8?Q?=A5?=", 0, "\xE6\x97\xA5", 0);
    DEC("=?UTF-8?Q?=E6?=\r\n =?UTF-8?B?lw==?= =?UTF-8?Q?=A5x?=", 0, "\xE6\x97\xA5x", 0);
    /* the run is cut by ordinary text: each half is malformed on its own */
    DEC("=?UTF-8?Q?=E6=97?= - =?UTF-8?Q?=A5?=", 0, "\xEF\xBF\xBD - \xEF\xBF\xBD",
        MW_2047_DEFECT_INVALID);
    /* a charset change ends the run too */
    DEC("=?UTF-8?Q?=E6=97?= =?ISO-8859-1?Q?=E9?=", 0, "\xEF\xBF\xBD\xC3\xA9",
        MW_2047_DEFECT_INVALID);
    /* UTF-16 code units cut between words */
    if (have_charset("UTF-16BE")) DEC("=?UTF-16BE?B?AGEA?= =?UTF-16BE?B?Yg==?=", 0, "ab", 0);
    /* going back to an earlier charset reuses its converter, state reset */
    DEC("=?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3=A9?= =?ISO-8859-1?Q?=E9?=", 0,
        "\xC3\xA9\xC3\xA9\xC3\xA9", 0);
    /* more distinct charsets than converter slots */
    DEC("=?ISO-8859-1?Q?=E9?= =?ISO-8859-15?Q?=A4?= =?windows-1252?Q?=80?= "
        "=?ISO-8859-2?Q?=E9?= =?ISO-8859-7?Q?=E1?= =?ISO-8859-1?Q?=E9?= =?UTF-8?Q?=C3?=",
        0, "\xC3\xA9\xE2\x82\xAC\xE2\x82\xAC\xC3\xA9\xCE\xB1\xC3\xA9\xEF\xBF\xBD",
        MW_2047_DEFECT_INVALID);
}

static void test_whitespace(void)
{
    DEC("a =?UTF-8?Q?b?= c", 0, "a b c", 0);
    DEC("=?UTF-8?Q?a?=\r\n\t=?UTF-8?Q?b?=\r\n c", 0, "ab c", 0);
    DEC("=?UTF-8?Q?a?=\t\r\n c", 0, "a\t c", 0);
    DEC("Re:\r\n =?UTF-8?Q?x?=", 0, "Re: x", 0);
    DEC("=?UTF-8?Q?a?=   ", 0, "a   ", 0);
    DEC("  =?UTF-8?Q?a?=", 0, "  a", 0);
    /* white space before a word that is kept as-is stays */
    DEC("=?UTF-8?Q?a?= =?UTF-8?Q?=ZZ?=", 0, "a =?UTF-8?Q?=ZZ?=", MW_2047_DEFECT_ENCODING);
    /* an encoded space inside the word survives */
    DEC("=?UTF-8?Q?a_?= =?UTF-8?Q?b?=", 0, "a b", 0);
    /* no encoded word at all: copied, folds unfolded */
    DEC("plain\r\n text =? ?= =?x", 0, "plain text =? ?= =?x", 0);
    DEC("", 0, "", 0);
}

static void test_lenient_and_strict(void)
{
    /* glued to other text */
    DEC("foo=?UTF-8?Q?bar?=baz", 0, "foobarbaz", 0);
    DEC("foo=?UTF-8?Q?bar?=baz", MW_2047_STRICT, "foo=?UTF-8?Q?bar?=baz", 0);
    DEC("=?UTF-8?Q?a?==?UTF-8?Q?b?=", 0, "ab", 0);
    DEC("\"=?UTF-8?Q?a?=\"", 0, "\"a\"", 0);
    DEC("\"=?UTF-8?Q?a?=\"", MW_2047_STRICT, "\"=?UTF-8?Q?a?=\"", 0);
    /* base64 without padding, and with non-zero trailing bits */
    DEC("=?UTF-8?B?YWI?=", 0, "ab", 0);
    DEC("=?UTF-8?B?YWI?=", MW_2047_STRICT, "=?UTF-8?B?YWI?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?B?YWJ?=", 0, "ab", 0);
    DEC("=?UTF-8?B?YWJ=?=", MW_2047_STRICT, "=?UTF-8?B?YWJ=?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?B?YWI=?=", MW_2047_STRICT, "ab", 0);
    /* longer than 75 characters */
    const char *longw =
        "=?UTF-8?Q?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?=";
    CHECK_INT(strlen(longw), 76);
    DEC(longw, 0, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
    DEC(longw + 1, 0, longw + 1, 0);
    DEC("=?UTF-8?Q?aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa?=",
        MW_2047_STRICT, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0);
    DEC(longw, MW_2047_STRICT, longw, 0);
    /* empty payloads are words too */
    DEC("a =?UTF-8?Q?\?= b", MW_2047_STRICT, "a  b", 0);
    DEC("=?UTF-8?B?\?==?UTF-8?Q?x?=", 0, "x", 0);
    /* strict: only white space, "(" or ")" may touch a word */
    DEC("(=?UTF-8?Q?a?=) <=?UTF-8?Q?b?=>", MW_2047_STRICT, "(a) <=?UTF-8?Q?b?=>", 0);
    DEC("x\r\n =?UTF-8?Q?a?=\r\n", MW_2047_STRICT, "x a\r\n", 0);
    /* lowercase hex */
    DEC("=?UTF-8?Q?=c3=a9?=", 0, "\xC3\xA9", 0);
}

/* Context rule (docs/codec.md "Where words are decoded"): unstructured text
 * treats '"' as an ordinary character; MW_2047_PHRASE (structured fields)
 * keeps quoted strings literal (RFC 2047 §5 (3)) and decodes whole atoms
 * and words in comments only. */
static void test_phrase_context(void)
{
    const unsigned P = MW_2047_PHRASE;
    /* unstructured: quotes are text, the word between them is decoded */
    DEC("Re: \"=?UTF-8?Q?caf=C3=A9?=\" menu", 0, "Re: \"caf\xC3\xA9\" menu", 0);
    /* structured: a quoted string is literal, also with escapes and folds */
    DEC("\"=?UTF-8?Q?a?=\" <x@y>", P, "\"=?UTF-8?Q?a?=\" <x@y>", 0);
    DEC("\"a\\\" =?UTF-8?Q?b?=\" =?UTF-8?Q?c?= <x@y>", P, "\"a\\\" =?UTF-8?Q?b?=\" c <x@y>", 0);
    DEC("\"a\r\n =?UTF-8?Q?b?=\" <x@y>", P, "\"a =?UTF-8?Q?b?=\" <x@y>", 0);
    DEC("\"=?UTF-8?Q?a?= <x@y>", P, "\"=?UTF-8?Q?a?= <x@y>", 0); /* unterminated */
    /* whole atoms are decoded, specials may touch them, atext may not */
    DEC("=?UTF-8?Q?Ann?= <x@y>", P, "Ann <x@y>", 0);
    DEC("=?UTF-8?Q?Ann?=<x@y>", P, "Ann<x@y>", 0);
    DEC("=?UTF-8?Q?a?= =?UTF-8?Q?b?= <x@y>, c@d", P, "ab <x@y>, c@d", 0);
    DEC("foo=?UTF-8?Q?bar?= <x@y>", P, "foo=?UTF-8?Q?bar?= <x@y>", 0);
    DEC("=?UTF-8?Q?a?==?UTF-8?Q?b?=", P, "=?UTF-8?Q?a?==?UTF-8?Q?b?=", 0);
    DEC("\"q\"=?UTF-8?Q?a?= <x@y>", P, "\"q\"a <x@y>", 0);
    /* comments: words decoded (§5 (2)); a '"' inside a comment is ctext */
    DEC("x@y (=?UTF-8?Q?caf=C3=A9?=)", P, "x@y (caf\xC3\xA9)", 0);
    DEC("x@y (a \" =?UTF-8?Q?b?=) \"=?UTF-8?Q?c?=\"", P, "x@y (a \" b) \"=?UTF-8?Q?c?=\"", 0);
    DEC("x@y (a \\) =?UTF-8?Q?b?=)", P, "x@y (a \\) b)", 0);
    /* the RFC 2047 §8 table holds in phrase mode, strict or not */
    for (unsigned f = P; f <= (P | MW_2047_STRICT); f += MW_2047_STRICT) {
        DEC("(=?ISO-8859-1?Q?a?= b)", f, "(a b)", 0);
        DEC("(=?ISO-8859-1?Q?a?=  =?ISO-8859-1?Q?b?=)", f, "(ab)", 0);
        DEC("(=?ISO-8859-1?Q?a?=\r\n    =?ISO-8859-1?Q?b?=)", f, "(ab)", 0);
    }
    DEC("\"=?UTF-8?Q?a?=\"", P | MW_2047_STRICT, "\"=?UTF-8?Q?a?=\"", 0);
}

/* Consistency with the address parser: in a phrase, an encoded word is
 * decoded by mw_2047_decode(MW_2047_PHRASE) exactly when mw_addr_list_parse
 * decodes it into the display name. Random phrases of words, quoted
 * strings, atoms, glued words and comments. */
static void test_phrase_matches_address_parser(void)
{
    static const char *pieces[] = {
        "=?UTF-8?Q?caf=C3=A9?=", "\"=?UTF-8?Q?x?=\"", "\"q =?UTF-8?B?eQ==?= q\"", "Ann",
        "(=?UTF-8?Q?c?=)",       "foo=?UTF-8?Q?g?=", "\"a\\\"b\"",               "=?ISO-8859-1?Q?J=F6rg?=",
        "=?UTF-8?B?w6k=?=",      "(\" =?UTF-8?Q?d?=)"};
    const size_t np = sizeof pieces / sizeof *pieces;
    uint64_t rs = 2047;
    for (int iter = 0; iter < 400; iter++) {
        char field[512] = "";
        size_t n = 1 + (size_t)(mw_test_rand(&rs) % 4), words = 0;
        for (size_t k = 0; k < n; k++) {
            const char *pc = pieces[mw_test_rand(&rs) % np];
            if (k) strcat(field, mw_test_rand(&rs) % 2 ? " " : "\r\n ");
            strcat(field, pc);
            words += pc[0] != '(';
        }
        if (words == 0) strcat(field, " Ann"); /* a phrase needs a word */
        strcat(field, " <x@example.org>");
        char out[2048];
        mw_ssize got = mw_2047_decode(field, strlen(field), out, sizeof out, MW_2047_PHRASE, NULL);
        CHECK(got >= 0);
        mw_addr_list l;
        CHECK_INT(mw_addr_list_parse(field, strlen(field), NULL, NULL, &l), MW_OK);
        if (got < 0 || l.count != 1) {
            mw_addr_list_free(&l);
            continue;
        }
        /* count the encoded words left as text on each side (comments
         * excluded: the address parser does not render them) */
        size_t left_dec = 0, left_addr = 0, depth = 0;
        int inq = 0;
        for (size_t i = 0; i + 1 < (size_t)got; i++) {
            char c = out[i];
            if (c == '\\') {
                i++;
                continue;
            }
            if (c == '"' && !depth) inq = !inq;
            if (!inq && c == '(') depth++;
            if (!inq && c == ')' && depth) depth--;
            if (!depth && c == '=' && out[i + 1] == '?') left_dec++;
        }
        mw_slice d = l.items[0].display;
        for (size_t i = 0; i + 1 < d.len; i++)
            if (d.base[i] == '=' && d.base[i + 1] == '?') left_addr++;
        if (left_dec != left_addr)
            mw_test_fail(__FILE__, __LINE__, "phrase \"%s\": %zu words kept by mw_2047_decode, "
                         "%zu by the address parser", field, left_dec, left_addr);
        mw_addr_list_free(&l);
    }
}

static void test_defects(void)
{
    DEC("=?X-UNKNOWN-42?Q?abc?= d", 0, "=?X-UNKNOWN-42?Q?abc?= d", MW_2047_DEFECT_CHARSET);
    DEC("=?UTF-8//TRANSLIT?Q?a?=", 0, "=?UTF-8//TRANSLIT?Q?a?=", 0); /* not a token: text */
    DEC("=?UTF-8?X?abc?=", 0, "=?UTF-8?X?abc?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?Q?a=?=", 0, "=?UTF-8?Q?a=?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?Q?a=4?=", 0, "=?UTF-8?Q?a=4?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?B?Y?=", 0, "=?UTF-8?B?Y?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?B?Y!==?=", 0, "=?UTF-8?B?Y!==?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?B?YW=I?=", 0, "=?UTF-8?B?YW=I?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?B?YQ===?=", 0, "=?UTF-8?B?YQ===?=", MW_2047_DEFECT_ENCODING);
    DEC("=?UTF-8?Q?a?= =?BOGUS?Q?b?= =?UTF-8?Q?=ZZ?=", 0,
        "a =?BOGUS?Q?b?= =?UTF-8?Q?=ZZ?=", MW_2047_DEFECT_CHARSET | MW_2047_DEFECT_ENCODING);
    /* malformed UTF-8 inside a word */
    DEC("=?UTF-8?Q?a=FFb=C0=AF?=", 0,
        "a\xEF\xBF\xBD"
        "b\xEF\xBF\xBD\xEF\xBF\xBD",
        MW_2047_DEFECT_INVALID);
    DEC("=?UTF-8?Q?=E6=97x?=", 0, "\xEF\xBF\xBDx", MW_2047_DEFECT_INVALID);
    /* control characters a decoded word must not smuggle into a header */
    DEC("=?UTF-8?Q?a=0D=0AX-Evil:_1?=", 0, "a\xEF\xBF\xBD\xEF\xBF\xBDX-Evil: 1",
        MW_2047_DEFECT_INVALID);
    DEC("=?ISO-8859-1?B?YQBi?=", 0,
        "a\xEF\xBF\xBD"
        "b",
        MW_2047_DEFECT_INVALID);
    if (have_charset("UTF-16BE"))
        DEC("=?UTF-16BE?B?AGEACgBi?=", 0,
            "a\xEF\xBF\xBD"
            "b",
            MW_2047_DEFECT_INVALID);
    /* a charset that turns one byte into several characters (TSCII 0x8C is
     * 12 bytes of UTF-8) could break the 3 * len + 1 bound: the run is kept
     * as written instead */
    if (have_charset("TSCII")) {
        DEC("=?TSCII?Q?=8C?=", 0, "\xE0\xAE\x95\xE0\xAF\x8D\xE0\xAE\xB7\xE0\xAF\x8D", 0);
        DEC("x =?TSCII?B?jIyMjIyMjIyMjIyM?= =?TSCII?B?jA==?= y", 0,
            "x =?TSCII?B?jIyMjIyMjIyMjIyM?= \xE0\xAE\x95\xE0\xAF\x8D\xE0\xAE\xB7\xE0\xAF\x8D y",
            MW_2047_DEFECT_CHARSET);
        const char *in = "=?TSCII?B?jIyMjIyMjIyMjIyM?=";
        char out[3 * 28 + 1];
        CHECK_INT(mw_2047_decode(in, strlen(in), out, sizeof out, 0, NULL), (mw_ssize)strlen(in));
    }
    /* tabs survive */
    DEC("=?UTF-8?Q?a=09b?=", 0, "a\tb", 0);
}

static void test_decode_errors(void)
{
    char out[64];
    unsigned d;
    const char *in = "=?ISO-8859-1?Q?=E9=E9=E9?=";
    CHECK_INT(mw_2047_decode(in, strlen(in), out, 7, 0, &d), 6);
    CHECK_STR(out, 6, "\xC3\xA9\xC3\xA9\xC3\xA9");
    CHECK_INT(mw_2047_decode(in, strlen(in), out, 6, 0, &d), MW_ERR_BUFFER);
    CHECK_INT(mw_2047_decode("abc", 3, out, 3, 0, &d), MW_ERR_BUFFER);
    CHECK_INT(mw_2047_decode("abc", 3, out, 4, 0, NULL), 3);
    CHECK_INT(mw_2047_decode("abc", 3, out, 0, 0, &d), MW_ERR_BUFFER);
    CHECK_INT(mw_2047_decode(NULL, 1, out, 4, 0, &d), MW_ERR_INVALID);
    CHECK_INT(mw_2047_decode("a", 1, NULL, 4, 0, &d), MW_ERR_INVALID);
    CHECK_INT(mw_2047_decode("a", 1, out, 4, 0x80, &d), MW_ERR_INVALID);
    CHECK_INT(mw_2047_decode(NULL, 0, out, 1, 0, &d), 0);
    /* a control replacement that no longer fits */
    in = "=?UTF-8?Q?=0A?=";
    CHECK_INT(mw_2047_decode(in, strlen(in), out, 3, 0, &d), MW_ERR_BUFFER);
    CHECK_INT(mw_2047_decode(in, strlen(in), out, 4, 0, &d), 3);
}

/* Random header values made of words (several charsets and encodings,
 * some broken), text, white space and folds: 3 * len + 1 always suffices,
 * one byte less than the result needs is MW_ERR_BUFFER, and no NUL, CR or
 * LF appears that the input did not have outside words. */
static void test_decode_random_values(void)
{
    static const char *pieces[] = {"=?UTF-8?Q?=E6=97?=",
                                   "=?UTF-8?Q?=A5?=",
                                   "=?utf-8?b?5pel?=",
                                   "=?ISO-8859-1?Q?=E9_?=",
                                   "=?Shift_JIS?B?k/qW?=",
                                   "=?SHIFT_JIS?B?e4zq?=",
                                   "=?UTF-16BE?B?AGEA?=",
                                   "=?UTF-16BE?B?Yg==?=",
                                   "=?X-NONE?Q?a?=",
                                   "=?UTF-8?Q?=ZZ?=",
                                   "=?UTF-8?Q?=0D=0A=00?=",
                                   "=?TSCII?B?jIyM?=",
                                   "=?ISO-2022-JP?B?GyRCRnxLXDhsJUYlOSVIGyhC?=",
                                   "=?US-ASCII*en?Q?x?=",
                                   " ",
                                   "\t",
                                   "\r\n ",
                                   "\r\n",
                                   "text",
                                   "(",
                                   ")",
                                   "=?",
                                   "?=",
                                   "\xFF",
                                   "=?UTF-8?B?YWI?=",
                                   "=?UTF-7?Q?+AGE-?="};
    const size_t npieces = sizeof pieces / sizeof pieces[0];
    static char in[1024], out[3 * 1024 + 1];
    uint64_t seed = 822;
    int bad = 0;
    for (int iter = 0; iter < 3000 && bad < 5; iter++) {
        size_t len = 0, k = 1 + (size_t)(mw_test_rand(&seed) % 24);
        for (size_t j = 0; j < k; j++) {
            const char *p = pieces[mw_test_rand(&seed) % npieces];
            memcpy(in + len, p, strlen(p));
            len += strlen(p);
        }
        unsigned flags = (unsigned)(iter & 1), d;
        mw_ssize n = mw_2047_decode(in, len, out, 3 * len + 1, flags, &d);
        if (n < 0 || (size_t)n > 3 * len || out[n] != '\0') {
            mw_test_fail(__FILE__, __LINE__, "iter %d: %d", iter, (int)n);
            mw_test_dump("  in", in, len);
            bad++;
            continue;
        }
        size_t cin = 0, cout = 0;
        for (size_t i = 0; i < len; i++)
            cin += in[i] == '\r' || in[i] == '\n' || in[i] == 0;
        for (mw_ssize i = 0; i < n; i++)
            cout += out[i] == '\r' || out[i] == '\n' || out[i] == 0;
        if (cout > cin) bad++;
        char again[3 * 1024 + 1];
        unsigned d2;
        if (mw_2047_decode(in, len, again, (size_t)n, flags, &d2) != MW_ERR_BUFFER) bad++;
        if (mw_2047_decode(in, len, again, (size_t)n + 1, flags, &d2) != n || d2 != d ||
            memcmp(again, out, (size_t)n))
            bad++;
    }
    CHECK_INT(bad, 0);
}

/* ---- encoding ---- */

static void enc_is(const char *file, int line, const char *in, size_t column, unsigned flags,
                   const char *want)
{
    char out[2048];
    mw_ssize n = mw_2047_encode(in, strlen(in), column, out, sizeof out, flags);
    if (n < 0) {
        mw_test_fail(file, line, "encode of \"%s\" failed: %d", in, (int)n);
        return;
    }
    if ((size_t)n != strlen(want) || memcmp(out, want, (size_t)n) != 0) {
        mw_test_fail(file, line, "encode of \"%s\"", in);
        mw_test_dump("  got     ", out, (size_t)n);
        mw_test_dump("  expected", want, strlen(want));
    }
}
#define ENC(in, col, flags, want) enc_is(__FILE__, __LINE__, in, col, flags, want)

static void test_encode_vectors(void)
{
    ENC("Keld J\xC3\xB8rn Simonsen", 4, 0, "=?UTF-8?Q?Keld_J=C3=B8rn_Simonsen?=");
    ENC("Keld J\xC3\xB8rn Simonsen", 4, MW_2047_FORCE_B,
        "=?UTF-8?B?S2VsZCBKw7hybiBTaW1vbnNlbg==?=");
    ENC("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", 9, 0, "=?UTF-8?B?5pel5pys6Kqe?=");
    ENC("\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", 9, MW_2047_FORCE_Q,
        "=?UTF-8?Q?=E6=97=A5=E6=9C=AC=E8=AA=9E?=");
    ENC("a=b?c_d(e)", 0, MW_2047_FORCE_Q, "=?UTF-8?Q?a=3Db=3Fc=5Fd=28e=29?=");
    ENC("a.b,c!*+-/", 0, MW_2047_PHRASE, "=?UTF-8?Q?a=2Eb=2Cc!*+-/?=");
    ENC("a.b,c!", 0, 0, "=?UTF-8?Q?a.b,c!?=");
    ENC("\t\r\n", 0, MW_2047_FORCE_Q, "=?UTF-8?Q?=09=0D=0A?=");
    ENC("", 0, 0, "");
    /* a long text: words of at most 75, lines of at most 76 */
    ENC("\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9"
        "\xC3\xA9\xC3\xA9",
        70, MW_2047_FORCE_Q,
        "\r\n =?UTF-8?Q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?=\r\n"
        " =?UTF-8?Q?=C3=A9=C3=A9?=");
    ENC("\xC3\xA9\xC3\xA9\xC3\xA9", 58, MW_2047_FORCE_Q,
        "=?UTF-8?Q?=C3=A9?=\r\n =?UTF-8?Q?=C3=A9=C3=A9?=");
}

static void test_encode_errors(void)
{
    char out[256];
    CHECK_INT(mw_2047_encode("a\xC3", 2, 0, out, sizeof out, 0), MW_ERR_SYNTAX);
    CHECK_INT(mw_2047_encode("\xED\xA0\x80", 3, 0, out, sizeof out, 0), MW_ERR_SYNTAX);
    CHECK_INT(mw_2047_encode("\xC0\x80", 2, 0, out, sizeof out, 0), MW_ERR_SYNTAX);
    CHECK_INT(mw_2047_encode("a", 1, 0, out, sizeof out, MW_2047_FORCE_B | MW_2047_FORCE_Q),
              MW_ERR_INVALID);
    CHECK_INT(mw_2047_encode("a", 1, 0, out, sizeof out, MW_2047_STRICT), MW_ERR_INVALID);
    CHECK_INT(mw_2047_encode(NULL, 1, 0, out, sizeof out, 0), MW_ERR_INVALID);
    CHECK_INT(mw_2047_encode("a", 1, 0, out, 13, 0), 13);
    CHECK_INT(mw_2047_encode("a", 1, 0, out, 12, 0), MW_ERR_BUFFER);
    CHECK_INT(mw_2047_encode("a", 1, 0, NULL, 0, 0), MW_ERR_BUFFER);
    CHECK(mw_2047_encoded_max(SIZE_MAX) == 0);
    CHECK(mw_2047_encoded_max(1) >= 13);
}

/* Random UTF-8 text without NUL, CR or LF (those decode as U+FFFD). */
static size_t random_utf8(uint64_t *seed, char *buf, size_t max_chars)
{
    size_t n = (size_t)(mw_test_rand(seed) % (max_chars + 1)), o = 0;
    for (size_t k = 0; k < n; k++) {
        uint32_t cp;
        switch (mw_test_rand(seed) % 5) {
        case 0:
            cp = 0x20 + (uint32_t)(mw_test_rand(seed) % 0x5F);
            break;
        case 1:
            cp = 0x20 + (uint32_t)(mw_test_rand(seed) % 0x5F);
            break;
        case 2:
            cp = 0x80 + (uint32_t)(mw_test_rand(seed) % 0x780);
            break;
        case 3:
            cp = 0x800 + (uint32_t)(mw_test_rand(seed) % 0xF800);
            break;
        default:
            cp = 0x10000 + (uint32_t)(mw_test_rand(seed) % 0x100000);
            break;
        }
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xE000;
        unsigned char *p = (unsigned char *)buf + o;
        if (cp < 0x80)
            p[0] = (unsigned char)cp, o += 1;
        else if (cp < 0x800)
            p[0] = (unsigned char)(0xC0 | cp >> 6), p[1] = (unsigned char)(0x80 | (cp & 63)),
            o += 2;
        else if (cp < 0x10000)
            p[0] = (unsigned char)(0xE0 | cp >> 12),
            p[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
            p[2] = (unsigned char)(0x80 | (cp & 63)), o += 3;
        else
            p[0] = (unsigned char)(0xF0 | cp >> 18),
            p[1] = (unsigned char)(0x80 | ((cp >> 12) & 63)),
            p[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)),
            p[3] = (unsigned char)(0x80 | (cp & 63)), o += 4;
    }
    return o;
}

/* Lines within 76 columns (the first one counted from column), words
 * within 75, only "=?UTF-8?B|Q?...?=" words joined by CRLF SP. */
static int layout_ok(const char *s, size_t n, size_t column)
{
    size_t col = column, i = 0;
    if (n >= 3 && memcmp(s, "\r\n ", 3) == 0) i = 3, col = 1;
    while (i < n) {
        if (i + 10 > n || (memcmp(s + i, "=?UTF-8?Q?", 10) && memcmp(s + i, "=?UTF-8?B?", 10)))
            return 0;
        size_t j = i + 10;
        while (j < n && s[j] != '?') {
            if (s[j] <= 0x20 || s[j] >= 0x7f) return 0;
            j++;
        }
        if (j + 2 > n || s[j + 1] != '=') return 0;
        j += 2;
        if (j - i > 75 || col + (j - i) > 76) return 0;
        if (j == n) break;
        if (j + 3 > n || memcmp(s + j, "\r\n ", 3)) return 0;
        i = j + 3, col = 1;
    }
    return 1;
}

static void test_encode_round_trip(void)
{
    static char text[4 * 300], enc[8000], back[8000];
    static const unsigned modes[] = {0, MW_2047_FORCE_B, MW_2047_FORCE_Q, MW_2047_PHRASE,
                                     MW_2047_PHRASE | MW_2047_FORCE_Q};
    uint64_t seed = 2047;
    int bad = 0;
    for (int iter = 0; iter < 3000 && bad < 5; iter++) {
        size_t len = random_utf8(&seed, text, iter < 100 ? 4 : 300);
        size_t column = (size_t)(mw_test_rand(&seed) % 90);
        unsigned flags = modes[iter % 5];
        size_t max = mw_2047_encoded_max(len);
        CHECK(max <= sizeof enc);
        mw_ssize n = mw_2047_encode(text, len, column, enc, max, flags);
        if (n < 0 || !layout_ok(enc, (size_t)n, column)) {
            mw_test_fail(__FILE__, __LINE__, "encode iter %d: %d", iter, (int)n);
            if (n > 0) mw_test_dump("  got", enc, (size_t)n);
            bad++;
            continue;
        }
        /* the bound is within reach but not absurdly loose */
        CHECK((size_t)n <= max);
        unsigned d = 1;
        mw_ssize m = mw_2047_decode(enc, (size_t)n, back, sizeof back, MW_2047_STRICT, &d);
        /* a leading fold unfolds to one space, as in any folded header */
        size_t lead = (n >= 3 && memcmp(enc, "\r\n ", 3) == 0) ? 1 : 0;
        if (lead && back[0] != ' ') bad++;
        if (m != (mw_ssize)(len + lead) || memcmp(back + lead, text, len) != 0 || d != 0) {
            mw_test_fail(__FILE__, __LINE__, "round trip iter %d", iter);
            mw_test_dump("  text", text, len);
            mw_test_dump("  enc ", enc, n > 0 ? (size_t)n : 0);
            bad++;
        }
        /* the automatic choice is never longer than either forced one */
        if (flags == 0) {
            mw_ssize b = mw_2047_encode(text, len, column, back, sizeof back, MW_2047_FORCE_B);
            mw_ssize q = mw_2047_encode(text, len, column, back, sizeof back, MW_2047_FORCE_Q);
            CHECK(n <= b && n <= q);
        }
    }
}

/* Every output size below the result is MW_ERR_BUFFER, the exact size works. */
static void test_encode_every_cap(void)
{
    const char *in = "Gr\xC3\xBC\xC3\x9F"
                     "e aus K\xC3\xB6ln, \xE6\x97\xA5\xE6\x9C\xAC "
                     "\xF0\x9F\x98\x80 and a rather long tail of plain words to fold";
    char out[512], ref[512];
    for (unsigned flags = 0; flags <= MW_2047_FORCE_Q; flags += 2) {
        if ((flags & MW_2047_FORCE_B) && (flags & MW_2047_FORCE_Q)) continue;
        mw_ssize n = mw_2047_encode(in, strlen(in), 30, ref, sizeof ref, flags);
        CHECK(n > 76);
        for (size_t cap = 0; n > 0 && cap < (size_t)n; cap++)
            if (mw_2047_encode(in, strlen(in), 30, out, cap, flags) != MW_ERR_BUFFER) {
                mw_test_fail(__FILE__, __LINE__, "cap %zu flags %u", cap, flags);
                break;
            }
        CHECK_INT(mw_2047_encode(in, strlen(in), 30, out, (size_t)n, flags), n);
        CHECK_MEM(out, (size_t)n, ref, (size_t)n);
    }
}

/* Worst cases for the bound: every byte escaped, one-byte words at the
 * largest column. */
static void test_encoded_max_worst(void)
{
    static char text[4000], enc[20000];
    static const char *units[] = {"\x01",  "\xC3\xA9", "\xE6\x97\xA5", "\xF0\x9F\x98\x80",
                                  "=\x01", "a"};
    for (size_t u = 0; u < 6; u++) {
        for (size_t reps = 1; reps < 900; reps += 37) {
            size_t len = 0, ul = strlen(units[u]);
            for (size_t r = 0; r < reps && len + ul <= sizeof text; r++)
                memcpy(text + len, units[u], ul), len += ul;
            for (size_t col = 60; col < 80; col += 3) {
                size_t max = mw_2047_encoded_max(len);
                CHECK(mw_2047_encode(text, len, col, enc, max, MW_2047_FORCE_Q) > 0);
                CHECK(mw_2047_encode(text, len, col, enc, max, MW_2047_FORCE_B) > 0);
                CHECK(mw_2047_encode(text, len, col, enc, max, MW_2047_PHRASE) > 0);
            }
        }
    }
}

/* The converter on its own: a split anywhere gives the same output. */
static void test_charset_split(void)
{
    static const struct {
        const char *cs;
        const char *in;
        const char *want;
    } cases[] = {
        {"UTF-8",
         "a\xE6\x97\xA5\xF0\x9F\x98\x80\xFF"
         "b\xE6\x97",
         "a\xE6\x97\xA5\xF0\x9F\x98\x80\xEF\xBF\xBD"
         "b\xEF\xBF\xBD"},
        {"SHIFT_JIS",
         "\x93\xFA\x96\x7B\x8C\xEA"
         "a\x96",
         "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E"
         "a\xEF\xBF\xBD"},
        {"ISO-2022-JP", "\x1b$BF|K\\8l\x1b(Bx", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9Ex"},
        {"ISO-8859-1", "\xE9t\xE9", "\xC3\xA9t\xC3\xA9"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mw__charset cs;
        if (mw__charset_open(&cs, cases[c].cs, strlen(cases[c].cs)) != MW_OK) continue;
        size_t len = strlen(cases[c].in);
        for (size_t chunk = 1; chunk <= len; chunk++) {
            unsigned char out[128], *op = out;
            size_t room = sizeof out;
            mw__charset_reset(&cs);
            for (size_t at = 0; at < len; at += chunk) {
                const unsigned char *ip = (const unsigned char *)cases[c].in + at;
                size_t il = len - at < chunk ? len - at : chunk;
                CHECK_INT(mw__charset_convert(&cs, &ip, &il, &op, &room, 0), MW_OK);
                CHECK_INT(il, 0);
            }
            const unsigned char *ip = NULL;
            size_t il = 0;
            CHECK_INT(mw__charset_convert(&cs, &ip, &il, &op, &room, 1), MW_OK);
            CHECK_STR(out, (size_t)(op - out), cases[c].want);
        }
        mw__charset_close(&cs);
    }
    mw__charset cs;
    CHECK_INT(mw__charset_open(&cs, "NO-SUCH-CHARSET", 15), MW_ERR_CHARSET);
    CHECK_INT(mw__charset_open(&cs, "UTF-8//IGNORE", 13), MW_ERR_CHARSET);
    CHECK_INT(mw__charset_open(&cs, "", 0), MW_ERR_CHARSET);
}

/* Output space given a few bytes at a time: nothing lost or doubled. */
static void test_charset_small_output(void)
{
    const char *names[] = {"UTF-8", "ISO-8859-1", "US-ASCII"};
    const char *in = "\xC3\xA9\xE6\x97\xA5z\xFF";
    const char *want[] = {
        "\xC3\xA9\xE6\x97\xA5z\xEF\xBF\xBD", "\xC3\x83\xC2\xA9\xC3\xA6\xC2\x97\xC2\xA5z\xC3\xBF",
        "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz\xEF\xBF\xBD"};
    for (size_t k = 0; k < 3; k++) {
        for (size_t step = 4; step <= 9; step++) {
            mw__charset cs;
            CHECK_INT(mw__charset_open(&cs, names[k], strlen(names[k])), MW_OK);
            unsigned char out[64];
            size_t o = 0;
            const unsigned char *ip = (const unsigned char *)in;
            size_t il = strlen(in);
            int rc, guard = 0;
            do {
                unsigned char *op = out + o;
                size_t room = step;
                rc = mw__charset_convert(&cs, &ip, &il, &op, &room, 1);
                o = (size_t)(op - out);
            } while (rc == MW_ERR_BUFFER && ++guard < 100);
            CHECK_INT(rc, MW_OK);
            CHECK_STR(out, o, want[k]);
            mw__charset_close(&cs);
        }
    }
}

int main(void)
{
    MW_RUN(test_rfc_section8_table);
    MW_RUN(test_rfc_section8_headers);
    MW_RUN(test_charsets);
    MW_RUN(test_split_multibyte);
    MW_RUN(test_whitespace);
    MW_RUN(test_lenient_and_strict);
    MW_RUN(test_defects);
    MW_RUN(test_phrase_context);
    MW_RUN(test_phrase_matches_address_parser);
    MW_RUN(test_decode_errors);
    MW_RUN(test_decode_random_values);
    MW_RUN(test_encode_vectors);
    MW_RUN(test_encode_errors);
    MW_RUN(test_encode_round_trip);
    MW_RUN(test_encoded_max_worst);
    MW_RUN(test_encode_every_cap);
    MW_RUN(test_charset_split);
    MW_RUN(test_charset_small_output);
    return mw_test_finish();
}
