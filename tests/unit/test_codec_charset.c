/*
 * The charset converter shared by RFC 2047 decoding and the MIME parser
 * (codec/charset.c): RFC 2152 UTF-7 examples, and split-invariance on
 * malformed input in stateful charsets: the output must not depend on how
 * the input is cut across calls (the MIME parser's promise).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "codec/codec_internal.h"

#include <iconv.h>
#include <stdlib.h>

static int have_iconv(const char *name)
{
    iconv_t cd = iconv_open("UTF-8", name);
    if (cd == (iconv_t)-1) return 0;
    iconv_close(cd);
    return 1;
}

/* Convert in pieces of chunk bytes (0: whole) into out with room cap,
 * giving the converter at most step bytes of output room per call (0: all
 * of it), so MW_ERR_BUFFER and resuming are exercised too. */
static size_t conv(const char *cs, const unsigned char *in, size_t n, size_t chunk, size_t step,
                   unsigned char *out, size_t cap)
{
    mw__charset c;
    if (mw__charset_open(&c, cs, strlen(cs)) != MW_OK) return (size_t)-1;
    unsigned char *o = out;
    size_t off = 0;
    for (int last = 0; !last;) {
        size_t k = chunk && n - off > chunk ? chunk : n - off;
        last = off + k == n;
        const unsigned char *ip = in + off;
        size_t il = k;
        size_t want = step;
        for (;;) {
            size_t room = (size_t)(out + cap - o), give = want && room > want ? want : room;
            size_t left = give;
            const unsigned char *o0 = o;
            int rc = mw__charset_convert(&c, &ip, &il, &o, &left, last);
            if (rc == MW_OK) break;
            if (rc != MW_ERR_BUFFER || give == room) {
                mw__charset_close(&c);
                return (size_t)-2;
            }
            if (o == o0) want *= 2; /* too little room for the next character */
        }
        off += k;
    }
    mw__charset_close(&c);
    return (size_t)(o - out);
}

static void check_conv(int line, const char *cs, const char *in, const char *want)
{
    unsigned char out[512];
    size_t n = conv(cs, (const unsigned char *)in, strlen(in), 0, 0, out, sizeof out);
    if (n != strlen(want) || memcmp(out, want, n) != 0) {
        mw_test_fail(__FILE__, line, "%s \"%s\"", cs, in);
        if (n < sizeof out) mw_test_dump("  got", out, n);
    }
    for (size_t chunk = 1; chunk <= 4; chunk++) {
        unsigned char o2[512];
        size_t m = conv(cs, (const unsigned char *)in, strlen(in), chunk, chunk, o2, sizeof o2);
        if (m != n || memcmp(o2, out, n) != 0)
            mw_test_fail(__FILE__, line, "%s \"%s\": chunk %zu differs", cs, in, chunk);
    }
}
#define CONV(cs, in, want) check_conv(__LINE__, cs, in, want)

/* RFC 2152 §"Examples", and the malformed cases the decoder must settle. */
static void test_utf7(void)
{
    CONV("UTF-7", "A+ImIDkQ.", "A\xe2\x89\xa2\xce\x91.");
    CONV("UTF-7", "Hi Mom -+Jjo--!", "Hi Mom -\xe2\x98\xba-!");
    CONV("UTF-7", "+ZeVnLIqe-", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e");
    CONV("utf7", "Item 3 is +AKM-1.",
         "Item 3 is \xc2\xa3"
         "1.");
    CONV("UTF-7", "1 +- 1", "1 + 1");
    /* every name glibc would open as its own UTF-7 decoder is decoded in-house */
    CONV("utf-7]", "+-x+AGEA-", "+xa\xef\xbf\xbd");
    CONV("UNICODE-1-1-UTF-7", "+-x+AGEA-", "+xa\xef\xbf\xbd");
    CONV("csUnicode11UTF7", "+-x+AGEA-", "+xa\xef\xbf\xbd");
    /* the IMAP variant (RFC 3501 §5.1.3), which glibc also has */
    CONV("UTF-7-IMAP", "&-x&AGEA-+/&Jjo-", "&xa\xef\xbf\xbd+/\xe2\x98\xba");
    CONV("UTF-7", "+2D3cAQ-", "\xf0\x9f\x90\x81"); /* U+1F401 as a surrogate pair */
    CONV("UTF-7", "+AGE", "a");                    /* the run may end the input */
    /* malformed: one U+FFFD per bad run end, lone surrogates, 8-bit bytes */
    CONV("UTF-7", "+!", "\xef\xbf\xbd!");     /* '+' alone is no run */
    CONV("UTF-7", "+AGEA-", "a\xef\xbf\xbd"); /* 8 leftover bits */
    CONV("UTF-7", "+AGF-", "a\xef\xbf\xbd");  /* leftover bits not zero */
    CONV("UTF-7", "+2D3-x", "\xef\xbf\xbdx"); /* high surrogate without its pair */
    CONV("UTF-7", "+3AE-", "\xef\xbf\xbd");   /* low surrogate alone */
    CONV("UTF-7", "a\xc3\xa9", "a\xef\xbf\xbd\xef\xbf\xbd");
    CONV("UTF-7", "+AGE\xff", "a\xef\xbf\xbd");
    CONV("UTF-7", "+", "\xef\xbf\xbd");
}

/* Exact output sizing: with room for exactly the result it succeeds;
 * with less it says MW_ERR_BUFFER and resumes without losing anything. */
static void test_exact_room(void)
{
    const char *in = "+2D3cAQ-+!x+AGEA-";
    unsigned char full[64], part[64];
    size_t n = conv("UTF-7", (const unsigned char *)in, strlen(in), 0, 0, full, sizeof full);
    CHECK(n < sizeof full);
    CHECK_INT(conv("UTF-7", (const unsigned char *)in, strlen(in), 0, 0, part, n), n);
    CHECK_INT(conv("UTF-7", (const unsigned char *)in, strlen(in), 0, 0, part, n - 1), (size_t)-2);
    for (size_t step = 1; step <= 5; step++) {
        size_t m = conv("UTF-7", (const unsigned char *)in, strlen(in), 3, step, part, sizeof part);
        CHECK_MEM(part, m, full, n);
    }
}

/* Random malformed input from tokens that matter in each charset (shift
 * sequences, SS2, base64 runs, stray bytes): whole, and cut in pieces of
 * 1..8 bytes, must give the same output. */
static void test_split_invariance(void)
{
    static const char *charsets[] = {
        "UTF-7",         "UTF-7-IMAP",  "UTF-8",       "US-ASCII",        "ISO-2022-JP",
        "ISO-2022-JP-2", "ISO-2022-KR", "ISO-2022-CN", "ISO-2022-CN-EXT", "SHIFT_JIS",
        "EUC-JP",        "GB18030",     "UTF-16",      "BIG5-HKSCS",      "TSCII"};
    static const char *tok[] = {"&",      "&-",       "&AGE-",   ",",          "\x1b$B", "\x1b(B",
                                "\x1b(J", "\x1b$@",   "\x1b$A",  "\x1b$(D",    "\x1b",   "$",
                                "(",      "B",        "!",       "\"",         "0!",     "F|",
                                "+",      "-",        "+AGE-",   "+ZeVnLIqe-", "AB",     "\x0e",
                                "\x0f",   "\x1b$)C",  "\x1b$)A", "\x1bN",      "!!",     "\x82\xa0",
                                "\xe9",   "\xc3\xa9", "\xd8\x3d"};
    const size_t ntok = sizeof tok / sizeof *tok;
    uint64_t rs = 2152;
    for (size_t c = 0; c < sizeof charsets / sizeof *charsets; c++) {
        const char *cs = charsets[c];
        if (strncmp(cs, "UTF-7", 5) && strcmp(cs, "UTF-8") && strcmp(cs, "US-ASCII") &&
            !have_iconv(cs))
            continue;
        int bad = 0;
        for (int iter = 0; iter < 600 && !bad; iter++) {
            unsigned char in[40];
            size_t n = 0;
            while (n < 24) {
                uint64_t r = mw_test_rand(&rs);
                if (r % 5 == 0) {
                    in[n++] = (unsigned char)(r >> 8);
                    continue;
                }
                const char *t = tok[(r >> 8) % ntok];
                size_t tl = strlen(t);
                memcpy(in + n, t, tl);
                n += tl;
            }
            unsigned char whole[1024], cut[1024];
            size_t wl = conv(cs, in, n, 0, 0, whole, sizeof whole);
            CHECK(wl < sizeof whole);
            for (size_t chunk = 1; chunk <= 8 && !bad; chunk++) {
                /* tight output room only where the contract allows it (in-house
                 * converters; iconv needs 16 bytes of room per input byte) */
                int inhouse =
                    !strcmp(cs, "UTF-7") || !strcmp(cs, "UTF-8") || !strcmp(cs, "US-ASCII");
                size_t cl =
                    conv(cs, in, n, chunk, inhouse && chunk % 3 == 0 ? 7 : 0, cut, sizeof cut);
                if (cl != wl || memcmp(cut, whole, wl) != 0) {
                    bad = 1;
                    mw_test_fail(__FILE__, __LINE__, "%s: chunk %zu differs from whole", cs, chunk);
                    mw_test_dump("  input", in, n);
                }
            }
        }
    }
}

int main(void)
{
    MW_RUN(test_utf7);
    MW_RUN(test_exact_room);
    MW_RUN(test_split_invariance);
    return mw_test_finish();
}
