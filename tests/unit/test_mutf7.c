/* SPDX-License-Identifier: MIT */
#include "mw_test.h"

static void enc_is(const char *file, int line, const char *in, const char *want)
{
    char out[512];
    mw_ssize n = mw_mutf7_encode(in, strlen(in), out, sizeof out);
    if (n < 0 || (size_t)n != strlen(want) || memcmp(out, want, (size_t)n) || out[n]) {
        mw_test_fail(file, line, "encode of \"%s\": %d", in, (int)n);
        if (n >= 0) mw_test_dump("  got", out, (size_t)n);
    }
}

static void dec_is(const char *file, int line, const char *in, const char *want)
{
    char out[512];
    size_t off = 1234;
    mw_ssize n = mw_mutf7_decode(in, strlen(in), out, sizeof out, &off);
    if (n < 0 || (size_t)n != strlen(want) || memcmp(out, want, (size_t)n) || out[n] ||
        off != strlen(in)) {
        mw_test_fail(file, line, "decode of \"%s\": %d (offset %zu)", in, (int)n, off);
        if (n >= 0) mw_test_dump("  got", out, (size_t)n);
    }
}

static void bad_is(const char *file, int line, const char *in, size_t len, size_t want_off)
{
    char out[512];
    size_t off = 1234;
    mw_ssize n = mw_mutf7_decode(in, len, out, sizeof out, &off);
    if (n != MW_ERR_SYNTAX || off != want_off)
        mw_test_fail(file, line, "decode of \"%s\": %d at %zu, expected MW_ERR_SYNTAX at %zu", in,
                     (int)n, off, want_off);
}

#define ENC(in, want) enc_is(__FILE__, __LINE__, in, want)
#define DEC(in, want) dec_is(__FILE__, __LINE__, in, want)
#define BOTH(utf8, m7) (ENC(utf8, m7), DEC(m7, utf8))
#define BAD(in, off) bad_is(__FILE__, __LINE__, in, strlen(in), off)

static void test_vectors(void)
{
    /* RFC 3501 §5.1.3 */
    BOTH("~peter/mail/\xE5\x8F\xB0\xE5\x8C\x97/\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E",
         "~peter/mail/&U,BTFw-/&ZeVnLIqe-");
    BOTH("&", "&-");
    BOTH("a&b&&", "a&-b&-&-");
    BOTH("", "");
    BOTH("INBOX", "INBOX");
    BOTH(" -~", " -~");
    BOTH("\xF0\x9F\x98\x80", "&2D3eAA-"); /* U+1F600, a surrogate pair */
    BOTH("\xC3\xA9\xF0\x9F\x98\x80", "&AOnYPd4A-");
    BOTH("\xC3\xA9&\xC3\xA9", "&AOk-&-&AOk-");
    BOTH("\xC3\xA9-", "&AOk--");
    BOTH("\x01", "&AAE-");
    BOTH("\xEF\xBF\xBD", "&,,0-");
    BOTH("\xC3\xA9\xC3\xA9", "&AOkA6Q-");
}

static void test_encode_errors(void)
{
    char out[16];
    CHECK_INT(mw_mutf7_encode("a\xC3", 2, out, sizeof out), MW_ERR_SYNTAX);
    CHECK_INT(mw_mutf7_encode("\xED\xA0\x80", 3, out, sizeof out), MW_ERR_SYNTAX);
    CHECK_INT(mw_mutf7_encode("a\0b", 3, out, sizeof out), MW_ERR_SYNTAX);
    CHECK_INT(mw_mutf7_encode(NULL, 1, out, sizeof out), MW_ERR_INVALID);
    CHECK_INT(mw_mutf7_encode("a", 1, NULL, 4), MW_ERR_INVALID);
    CHECK_INT(mw_mutf7_encode("\xC3\xA9", 2, out, 6), 5);
    CHECK_STR(out, 5, "&AOk-");
    CHECK_INT(mw_mutf7_encode("\xC3\xA9", 2, out, 5), MW_ERR_BUFFER);
    CHECK_INT(mw_mutf7_encode("&", 1, out, 2), MW_ERR_BUFFER);
    CHECK_INT(mw_mutf7_encode("", 0, out, 0), MW_ERR_BUFFER);
}

static void test_decode_rejects(void)
{
    BAD("a\x7f"
        "b",
        1);
    BAD("a\tb", 1);
    BAD("\xC3\xA9", 0);
    BAD("&", 1);          /* "&" at the end */
    BAD("ab&*", 3);       /* "&" followed by neither "-" nor base64 */
    BAD("&AOk", 4);       /* unterminated shift */
    BAD("&AOk.", 4);      /* shift ended by something else than "-" */
    BAD("&AGE-", 1);      /* "a" must be written as itself */
    BAD("&ACY-", 1);      /* so must "&" */
    BAD("&AOkAYQ-", 3);   /* ... even after a non-ASCII unit */
    BAD("&AOk-&AOk-", 5); /* two shifts in a row */
    BAD("x&AOk-&AOk-", 6);
    BAD("&AOl-", 3);    /* padding bits not zero */
    BAD("&AO-", 3);     /* a unit cut short */
    BAD("&AOkA-", 5);   /* leftover 8 bits */
    BAD("&2D0-", 4);    /* high surrogate with no low one */
    BAD("&2D0A6Q-", 3); /* high surrogate followed by a BMP unit */
    BAD("&3AA-", 1);    /* lone low surrogate */
    BAD("&AOncAA-", 3); /* é, then a lone low surrogate */
    BAD("&AAA-", 1);    /* NUL */
    BAD("&-&", 3);
    char out[8];
    size_t off;
    CHECK_INT(mw_mutf7_decode("a\0b", 3, out, sizeof out, &off), MW_ERR_SYNTAX);
    CHECK_INT(off, 1);
    CHECK_INT(mw_mutf7_decode("abc", 3, out, 3, &off), MW_ERR_BUFFER);
    CHECK_INT(off, 3);
    CHECK_INT(mw_mutf7_decode("abc", 3, out, 4, NULL), 3);
    CHECK_INT(mw_mutf7_decode("&AOk-", 5, out, 2, &off), MW_ERR_BUFFER);
    CHECK_INT(mw_mutf7_decode("&AOk-", 5, out, 3, &off), 2);
    CHECK_INT(mw_mutf7_decode(NULL, 1, out, 4, &off), MW_ERR_INVALID);
}

static size_t put_cp(char *buf, uint32_t cp)
{
    unsigned char *p = (unsigned char *)buf;
    if (cp < 0x80) return p[0] = (unsigned char)cp, 1;
    if (cp < 0x800) {
        p[0] = (unsigned char)(0xC0 | cp >> 6), p[1] = (unsigned char)(0x80 | (cp & 63));
        return 2;
    }
    if (cp < 0x10000) {
        p[0] = (unsigned char)(0xE0 | cp >> 12), p[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        p[2] = (unsigned char)(0x80 | (cp & 63));
        return 3;
    }
    p[0] = (unsigned char)(0xF0 | cp >> 18), p[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
    p[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)), p[3] = (unsigned char)(0x80 | (cp & 63));
    return 4;
}

static void test_random_round_trip(void)
{
    static char text[4 * 64], enc[5 * 4 * 64 + 1], back[4 * 64 + 1];
    uint64_t seed = 3501;
    int bad = 0;
    for (int iter = 0; iter < 20000 && bad < 5; iter++) {
        size_t n = (size_t)(mw_test_rand(&seed) % 64), len = 0;
        for (size_t k = 0; k < n; k++) {
            uint32_t cp;
            switch (mw_test_rand(&seed) % 6) {
            case 0:
                cp = 1 + (uint32_t)(mw_test_rand(&seed) % 0x7f);
                break;
            case 1:
                cp = (unsigned char)"&-A,+"[mw_test_rand(&seed) % 5];
                break;
            case 2:
                cp = 0x80 + (uint32_t)(mw_test_rand(&seed) % 0x780);
                break;
            case 3:
                cp = 0x800 + (uint32_t)(mw_test_rand(&seed) % 0xF800);
                break;
            default:
                cp = 0x10000 + (uint32_t)(mw_test_rand(&seed) % 0x100000);
                break;
            }
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
            len += put_cp(text + len, cp);
        }
        /* the documented bound: 5 output bytes per input byte, plus the NUL */
        mw_ssize e = mw_mutf7_encode(text, len, enc, 5 * len + 1);
        size_t off = 99;
        mw_ssize d = e < 0 ? e : mw_mutf7_decode(enc, (size_t)e, back, len + 1, &off);
        if (e < 0 || d != (mw_ssize)len || memcmp(back, text, len) || off != (size_t)e) {
            mw_test_fail(__FILE__, __LINE__, "iter %d: encode %d decode %d", iter, (int)e, (int)d);
            mw_test_dump("  text", text, len);
            bad++;
        }
        for (mw_ssize i = 0; i < e; i++)
            if (enc[i] < 0x20 || enc[i] > 0x7e) bad++;
    }
    CHECK_INT(bad, 0);
}

/* Whatever random ASCII the decoder accepts is canonical: encoding the
 * result gives back the very same bytes. */
static void test_random_decode_is_canonical(void)
{
    static const char alphabet[] = "&-AOk2D3eAa,+9 x/";
    char in[24], out[64], again[128];
    uint64_t seed = 7;
    long accepted = 0;
    int bad = 0;
    for (int iter = 0; iter < 200000 && bad < 5; iter++) {
        size_t len = (size_t)(mw_test_rand(&seed) % sizeof in);
        for (size_t i = 0; i < len; i++)
            in[i] = alphabet[mw_test_rand(&seed) % (sizeof alphabet - 1)];
        size_t off;
        mw_ssize d = mw_mutf7_decode(in, len, out, sizeof out, &off);
        if (d < 0) {
            if (d != MW_ERR_SYNTAX || off > len) bad++;
            continue;
        }
        accepted++;
        mw_ssize e = mw_mutf7_encode(out, (size_t)d, again, sizeof again);
        if (e != (mw_ssize)len || memcmp(again, in, len)) {
            mw_test_fail(__FILE__, __LINE__, "not canonical");
            mw_test_dump("  in   ", in, len);
            if (e >= 0) mw_test_dump("  again", again, (size_t)e);
            bad++;
        }
    }
    CHECK_INT(bad, 0);
    CHECK(accepted > 1000);
}

int main(void)
{
    MW_RUN(test_vectors);
    MW_RUN(test_encode_errors);
    MW_RUN(test_decode_rejects);
    MW_RUN(test_random_round_trip);
    MW_RUN(test_random_decode_is_canonical);
    return mw_test_finish();
}
