/*
 * Quoted-printable (RFC 2045 §6.7): encoder rules with exact output, decoder
 * leniency and defect reports, the 76-column limit, round trips,
 * split-invariance down to one byte of input or output space, in-place
 * decoding.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "codec/codec_internal.h"

#include <stdlib.h>

typedef int (*init_fn)(mw_codec *c, unsigned flags);
typedef int (*step_fn)(mw_codec *c, int finish);

/* Result of driving a stepper over a whole input. */
typedef struct run_result {
    int rc;             /* last step result */
    size_t out_len;     /* bytes produced */
    size_t in_used;     /* bytes consumed */
    unsigned warnings;
    uint64_t error_offset;
} run_result;

/* Feed in[0, len) with at most in_chunk input bytes and out_chunk bytes of
 * output space per call (0 = everything; SIZE_MAX = random 1..9 from rng). */
static run_result drive(init_fn init, step_fn step, unsigned flags, const void *in, size_t len,
                        unsigned char *out, size_t cap, size_t in_chunk, size_t out_chunk,
                        uint64_t *rng)
{
    run_result r = {0, 0, 0, 0, 0};
    mw_codec c;
    r.rc = init(&c, flags);
    if (r.rc != MW_OK) return r;
    const unsigned char *src = in;
    int idle = 0;
    for (;;) {
        size_t ia = len - r.in_used, oa = cap - r.out_len;
        size_t ic = in_chunk == SIZE_MAX ? 1 + (size_t)(mw_test_rand(rng) % 9) : in_chunk;
        size_t oc = out_chunk == SIZE_MAX ? 1 + (size_t)(mw_test_rand(rng) % 9) : out_chunk;
        if (ic && ic < ia) ia = ic;
        if (oc && oc < oa) oa = oc;
        c.next_in = src + r.in_used;
        c.avail_in = ia;
        c.next_out = out + r.out_len;
        c.avail_out = oa;
        int finish = r.in_used + ia == len;
        r.rc = step(&c, finish);
        size_t used = ia - c.avail_in, made = oa - c.avail_out;
        r.in_used += used;
        r.out_len += made;
        if (r.rc < 0 || r.rc == MW_CODEC_DONE) break;
        idle = (used || made) ? 0 : idle + 1;
        if (idle > 3) { /* no progress with both sides offered: stuck or out of space */
            r.rc = MW_ERR_BUFFER;
            break;
        }
    }
    r.warnings = c.warnings;
    r.error_offset = c.error_offset;
    return r;
}

static void check_split(init_fn init, step_fn step, unsigned flags, const unsigned char *in,
                        size_t len, uint64_t *rng);

static size_t enc(const void *in, size_t len, unsigned flags, unsigned char *out, size_t cap)
{
    run_result r = drive(mw_qp_encode_init, mw_qp_encode_step, flags, in, len, out, cap, 0, 0, NULL);
    CHECK_INT(r.rc, MW_CODEC_DONE);
    CHECK_INT(r.in_used, len);
    return r.out_len;
}

#define ENC_EQ(in, flags, expected)                                                      \
    do {                                                                                 \
        unsigned char out_[2048];                                                        \
        size_t n_ = enc((in), sizeof(in) - 1, (flags), out_, sizeof out_);               \
        CHECK_STR(out_, n_, (expected));                                                 \
    } while (0)

static void rep(char *dst, char ch, size_t n)
{
    memset(dst, ch, n);
    dst[n] = 0;
}

static void test_enc_basic(void)
{
    ENC_EQ("", 0, "");
    ENC_EQ("Hello, world!", 0, "Hello, world!");
    ENC_EQ("a=b", 0, "a=3Db"); /* '=' is always encoded */
    ENC_EQ("caf\xc3\xa9", 0, "caf=C3=A9");
    ENC_EQ("\x7f\x01\x00~!", 0, "=7F=01=00~!");
    ENC_EQ("a b\tc", 0, "a b\tc");
}

static void test_enc_trailing_ws(void)
{
    /* rule 3: white space before a line end or at the end is encoded */
    ENC_EQ("ab \r\ncd\t", 0, "ab=20\r\ncd=09");
    ENC_EQ("  \r\n", 0, " =20\r\n");
    ENC_EQ("a \rb", 0, "a =0Db"); /* bare CR is data, not a line end */
    ENC_EQ("a \nb", 0, "a =0Ab");
    ENC_EQ("a \nb", MW_QP_LF_EOL, "a=20\r\nb");
    ENC_EQ("a \r\n", MW_QP_BINARY, "a =0D=0A");
    ENC_EQ("a ", MW_QP_BINARY, "a=20");
}

static void test_enc_line_ends(void)
{
    ENC_EQ("a\r\nb\r\n", 0, "a\r\nb\r\n");
    ENC_EQ("a\rb\nc\r", 0, "a=0Db=0Ac=0D");
    ENC_EQ("a\rb\nc\r\n\n", MW_QP_LF_EOL, "a=0Db\r\nc\r\n\r\n");
    ENC_EQ("a\r\nb", MW_QP_BINARY, "a=0D=0Ab");
    ENC_EQ("\r\n\r\n", 0, "\r\n\r\n");
}

static void test_enc_dot_from(void)
{
    ENC_EQ(".a\r\n.b\r\na.c", MW_QP_DOT, "=2Ea\r\n=2Eb\r\na.c");
    ENC_EQ(".a", 0, ".a");
    ENC_EQ("From me\r\nFrom\r\nFromage\r\nFrom x", MW_QP_FROM,
           "=46rom me\r\nFrom\r\nFromage\r\n=46rom x");
    ENC_EQ("From ", MW_QP_FROM, "=46rom=20");
    ENC_EQ("From me", 0, "From me");
    ENC_EQ("a From me", MW_QP_FROM, "a From me");
    ENC_EQ(".From x", MW_QP_FROM | MW_QP_DOT, "=2EFrom x");
    ENC_EQ("x\r\nFrom", MW_QP_FROM, "x\r\nFrom"); /* "From" without the space at the end */
    ENC_EQ("x\r\nFrom ", MW_QP_FROM, "x\r\n=46rom=20");
    ENC_EQ("x\r\nFro", MW_QP_FROM, "x\r\nFro");
    /* the same, one byte at a time (the lookahead waits inside the stepper) */
    uint64_t rng = 1;
    static const char *cases[] = {"x\r\nFrom", "x\r\nFrom ", "x\r\nFro", "F", "From", ". ", "a \r"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_split(mw_qp_encode_init, mw_qp_encode_step, MW_QP_FROM | MW_QP_DOT,
                    (const unsigned char *)cases[i], strlen(cases[i]), &rng);
}

static void test_enc_long_lines(void)
{
    char in[400], exp[400];
    unsigned char out[800];
    size_t n;

    rep(in, 'a', 80); /* 75 characters, "=", the rest */
    n = enc(in, 80, 0, out, sizeof out);
    rep(exp, 'a', 75);
    strcat(exp, "=\r\naaaaa");
    CHECK_STR(out, n, exp);

    rep(in, 'a', 76); /* the 76th column may be used before a hard break */
    strcat(in, "\r\nb");
    n = enc(in, strlen(in), 0, out, sizeof out);
    CHECK_STR(out, n, in);

    rep(in, 'a', 76); /* ... and at the end of the data */
    n = enc(in, 76, 0, out, sizeof out);
    CHECK_STR(out, n, in);

    rep(in, 'a', 77);
    n = enc(in, 77, 0, out, sizeof out);
    rep(exp, 'a', 75);
    strcat(exp, "=\r\naa");
    CHECK_STR(out, n, exp);

    rep(in, 'a', 74); /* an escape never straddles a soft break */
    strcat(in, "\xff");
    n = enc(in, 75, 0, out, sizeof out);
    rep(exp, 'a', 74);
    strcat(exp, "=\r\n=FF");
    CHECK_STR(out, n, exp);

    rep(in, 'a', 73); /* "=FF" ending in column 76 at the end: allowed */
    strcat(in, "\xff");
    n = enc(in, 74, 0, out, sizeof out);
    rep(exp, 'a', 73);
    strcat(exp, "=FF");
    CHECK_STR(out, n, exp);

    rep(in, 'a', 73); /* ... but not when more follows on the line */
    strcat(in, "\xff" "b");
    n = enc(in, 75, 0, out, sizeof out);
    rep(exp, 'a', 73);
    strcat(exp, "=\r\n=FFb");
    CHECK_STR(out, n, exp);

    rep(in, 'a', 74); /* trailing space at column 75 needs 3 columns */
    strcat(in, " \r\n");
    n = enc(in, 77, 0, out, sizeof out);
    rep(exp, 'a', 74);
    strcat(exp, "=\r\n=20\r\n");
    CHECK_STR(out, n, exp);

    rep(in, 'a', 75); /* a dot after a soft break is at a line start */
    strcat(in, ".b");
    n = enc(in, 77, MW_QP_DOT, out, sizeof out);
    rep(exp, 'a', 75);
    strcat(exp, "=\r\n=2Eb");
    CHECK_STR(out, n, exp);
    n = enc(in, 77, 0, out, sizeof out);
    rep(exp, 'a', 75);
    strcat(exp, "=\r\n.b");
    CHECK_STR(out, n, exp);

    rep(in, '\xff', 30); /* 25 escapes per line */
    n = enc(in, 30, 0, out, sizeof out);
    exp[0] = 0;
    for (int i = 0; i < 25; i++) strcat(exp, "=FF");
    strcat(exp, "=\r\n=FF=FF=FF=FF=FF");
    CHECK_STR(out, n, exp);
}

static void test_enc_rfc_example(void)
{
    /* RFC 2045 §6.7 rule 5: a long line comes back whole after a round trip */
    const char *text = "Now's the time for all folk to come to the aid of their country. "
                       "Now's the time for all folk to come to the aid of their country.";
    unsigned char out[400], back[400];
    size_t n = enc(text, strlen(text), 0, out, sizeof out);
    CHECK(n > strlen(text));
    mw_ssize m = mw_qp_decode((const char *)out, n, back, sizeof back, MW_QP_STRICT);
    CHECK_STR(back, (size_t)m, text);
}

static void test_enc_oneshot(void)
{
    char out[64];
    CHECK_INT(mw_qp_encode("a=b", 3, out, sizeof out, 0), 5);
    CHECK_MEM(out, 5, "a=3Db", 5);
    CHECK_INT(mw_qp_encode("a=b", 3, out, 4, 0), MW_ERR_BUFFER);
    CHECK_INT(mw_qp_encode(NULL, 0, out, sizeof out, 0), 0);
    CHECK_INT(mw_qp_encode(NULL, 1, out, sizeof out, 0), MW_ERR_INVALID);
    CHECK_INT(mw_qp_encode("a", 1, out, sizeof out, MW_QP_STRICT), MW_ERR_INVALID);
    CHECK_INT(mw_qp_encode("a", 1, out, sizeof out, MW_QP_BINARY | MW_QP_LF_EOL), MW_ERR_INVALID);
    CHECK_INT(mw_qp_encoded_max(0, 0), 0);
    CHECK_INT(mw_qp_encoded_max(25, 0), 78);
    CHECK_INT(mw_qp_encoded_max(SIZE_MAX / 2, 0), 0);
    mw_codec c;
    CHECK_INT(mw_qp_encode_init(NULL, 0), MW_ERR_INVALID);
    CHECK_INT(mw_qp_encode_init(&c, 0x100), MW_ERR_INVALID);
    CHECK_INT(mw_qp_encode_step(NULL, 0), MW_ERR_INVALID);
    CHECK_INT(mw_qp_encode_init(&c, 0), MW_OK);
    c.next_in = NULL;
    c.avail_in = 3;
    CHECK_INT(mw_qp_encode_step(&c, 0), MW_ERR_INVALID);
}

/* ---- decoder ------------------------------------------------------ */

static run_result dec(const char *in, size_t len, unsigned flags, unsigned char *out, size_t cap)
{
    return drive(mw_qp_decode_init, mw_qp_decode_step, flags, in, len, out, cap, 0, 0, NULL);
}

#define DEC_EQ(in, flags, expected, warn, off)                                           \
    do {                                                                                 \
        unsigned char out_[512];                                                         \
        run_result r_ = dec((in), sizeof(in) - 1, (flags), out_, sizeof out_);           \
        CHECK_INT(r_.rc, MW_CODEC_DONE);                                                 \
        CHECK_STR(out_, r_.out_len, (expected));                                         \
        CHECK_INT(r_.warnings, (warn));                                                  \
        if (warn) CHECK_INT(r_.error_offset, (off));                                     \
    } while (0)

#define DEC_ERR(in, flags, off)                                                          \
    do {                                                                                 \
        unsigned char out_[512];                                                         \
        run_result r_ = dec((in), sizeof(in) - 1, (flags), out_, sizeof out_);           \
        CHECK_INT(r_.rc, MW_ERR_SYNTAX);                                                 \
        CHECK_INT(r_.error_offset, (off));                                               \
    } while (0)

static void test_dec_basic(void)
{
    DEC_EQ("", 0, "", 0, 0);
    DEC_EQ("Hello", 0, "Hello", 0, 0);
    DEC_EQ("=41=42c=3D", MW_QP_STRICT, "ABc=", 0, 0);
    DEC_EQ("caf=C3=A9\r\n", 0, "caf\xc3\xa9\r\n", 0, 0);
    DEC_EQ("Now's the time =\r\nfor all folk to come=\r\n to the aid of their country.",
           MW_QP_STRICT, "Now's the time for all folk to come to the aid of their country.", 0, 0);
    DEC_EQ("a\r\nb\r\n\r\n", MW_QP_STRICT, "a\r\nb\r\n\r\n", 0, 0);
    DEC_EQ("\xe9\x01", 0, "\xe9\x01", 0, 0); /* unencoded bytes pass */
}

static void test_dec_lenient(void)
{
    DEC_EQ("=3d=c3=A9", 0, "=\xc3\xa9", 0, 0); /* lowercase hex accepted */
    DEC_EQ("a=ZZb", 0, "a=ZZb", MW_CODEC_WARN_BAD_ESCAPE, 1);
    DEC_EQ("a=4Gb=", 0, "a=4Gb", MW_CODEC_WARN_BAD_ESCAPE, 1);
    DEC_EQ("ab=4", 0, "ab=4", MW_CODEC_WARN_BAD_ESCAPE, 2);
    DEC_EQ("a== b", 0, "a== b", MW_CODEC_WARN_BAD_ESCAPE, 1);
    DEC_EQ("a= x", 0, "a= x", MW_CODEC_WARN_BAD_ESCAPE, 1);
    DEC_EQ("x=1=\r\ny", 0, "x=1y", MW_CODEC_WARN_BAD_ESCAPE, 1);
}

static void test_dec_soft_breaks(void)
{
    DEC_EQ("a= \t\r\nb", MW_QP_STRICT, "ab", 0, 0); /* transport padding after '=' */
    DEC_EQ("a=\r\n", MW_QP_STRICT, "a", 0, 0);
    DEC_EQ("a=", MW_QP_STRICT, "a", 0, 0); /* '=' at the end of the data */
    DEC_EQ("a=  ", MW_QP_STRICT, "a", 0, 0);
    DEC_EQ("a=\nb", 0, "ab", MW_CODEC_WARN_BARE_EOL, 2);
    DEC_EQ("a=\rb", 0, "a=\rb", MW_CODEC_WARN_BAD_ESCAPE | MW_CODEC_WARN_BARE_EOL, 1);
    DEC_EQ("a= \rb", 0, "a= \rb", MW_CODEC_WARN_BAD_ESCAPE | MW_CODEC_WARN_BARE_EOL, 1);
    DEC_EQ("a=\r", 0, "a=\r", MW_CODEC_WARN_BAD_ESCAPE | MW_CODEC_WARN_BARE_EOL, 1);
}

static void test_dec_trailing_ws(void)
{
    DEC_EQ("ab  \r\ncd\t", MW_QP_STRICT, "ab\r\ncd", 0, 0); /* rule 3 */
    DEC_EQ("a \t b", 0, "a \t b", 0, 0);
    DEC_EQ("a \t =20\r\n", 0, "a \t  \r\n", 0, 0);
    DEC_EQ("a \nb", 0, "a\nb", MW_CODEC_WARN_BARE_EOL, 2);
    DEC_EQ("a \rb", 0, "a \rb", MW_CODEC_WARN_BARE_EOL, 2);
    DEC_EQ("a\nb\r", 0, "a\nb\r", MW_CODEC_WARN_BARE_EOL, 1);
    /* A run longer than the decoder holds: whole blocks of 128 are data. */
    char in[300], exp[300];
    unsigned char out[300];
    in[0] = exp[0] = 'x';
    memset(in + 1, ' ', 200);
    memcpy(in + 201, "\r\n", 2);
    memset(exp + 1, ' ', 128);
    memcpy(exp + 129, "\r\n", 2);
    run_result r = dec(in, 203, 0, out, sizeof out);
    CHECK_INT(r.rc, MW_CODEC_DONE);
    CHECK_MEM(out, r.out_len, exp, 131);
}

static void test_dec_strict(void)
{
    DEC_ERR("a=ZZb", MW_QP_STRICT, 1);
    DEC_ERR("ab=3d", MW_QP_STRICT, 2);
    DEC_ERR("ab=4", MW_QP_STRICT, 2);
    DEC_ERR("a= x", MW_QP_STRICT, 1);
    DEC_ERR("abc=\rx", MW_QP_STRICT, 3);
    /* sticky */
    mw_codec c;
    unsigned char out[16];
    mw_qp_decode_init(&c, MW_QP_STRICT);
    c.next_in = (const unsigned char *)"=XY";
    c.avail_in = 3;
    c.next_out = out;
    c.avail_out = sizeof out;
    CHECK_INT(mw_qp_decode_step(&c, 0), MW_ERR_SYNTAX);
    c.next_in = (const unsigned char *)"ok";
    c.avail_in = 2;
    CHECK_INT(mw_qp_decode_step(&c, 1), MW_ERR_SYNTAX);
    /* warnings before the error keep their flags; error_offset is the error's */
    run_result r = dec("a\rb=1x", 6, MW_QP_STRICT, out, sizeof out);
    CHECK_INT(r.rc, MW_ERR_SYNTAX);
    CHECK_INT(r.error_offset, 3);
    CHECK(r.warnings & MW_CODEC_WARN_BARE_EOL);
}

static void test_dec_oneshot(void)
{
    char out[16];
    CHECK_INT(mw_qp_decode("=41b", 4, out, sizeof out, 0), 2);
    CHECK_MEM(out, 2, "Ab", 2);
    CHECK_INT(mw_qp_decode("abcd", 4, out, 3, 0), MW_ERR_BUFFER);
    CHECK_INT(mw_qp_decode("a=zz", 4, out, sizeof out, MW_QP_STRICT), MW_ERR_SYNTAX);
    CHECK_INT(mw_qp_decode(NULL, 2, out, sizeof out, 0), MW_ERR_INVALID);
    CHECK_INT(mw_qp_decode("a", 1, out, sizeof out, MW_QP_BINARY), MW_ERR_INVALID);
}

/* ---- properties ---------------------------------------------------- */

/* Every output line is at most 76 characters, lines end only in CRLF, and
 * only printable ASCII, space and tab appear. */
static int check_encoded_form(const unsigned char *p, size_t n)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned b = p[i];
        if (b == '\r') {
            if (i + 1 >= n || p[i + 1] != '\n') return 0;
            if (i > 0 && (p[i - 1] == ' ' || p[i - 1] == '\t')) return 0; /* rule 3 */
            i++;
            col = 0;
            continue;
        }
        if (b == '\n') return 0;
        if (!(b == '\t' || (b >= 0x20 && b <= 0x7e))) return 0;
        if (++col > 76) return 0;
    }
    return !(n && (p[n - 1] == ' ' || p[n - 1] == '\t'));
}

/* Text made of pieces that hit every rule. */
static size_t random_text(uint64_t *rng, unsigned char *buf, size_t cap)
{
    static const char *pieces[] = {"a",  "word ", " ",     "\t", "\r\n",  "\r",  "\n", "=",
                                   ".",  "From ", "F",     "\xc3\xa9", "\xff", "\x00", "xyzzy",
                                   "  \r\n", "=\r\n", "=4", "=41", "The quick brown fox "};
    size_t n = 0, want = (size_t)(mw_test_rand(rng) % cap);
    while (n < want) {
        const char *s = pieces[mw_test_rand(rng) % (sizeof pieces / sizeof pieces[0])];
        size_t l = s[0] ? strlen(s) : 1;
        if (n + l > cap) break;
        memcpy(buf + n, s, l);
        n += l;
    }
    /* sometimes a long line with no breaks */
    if (mw_test_rand(rng) % 4 == 0)
        for (size_t k = mw_test_rand(rng) % 200; k-- && n < cap;) buf[n++] = 'L';
    return n;
}

static void test_roundtrip_binary(void)
{
    uint64_t rng = 42;
    static unsigned char in[3000], out[10000], back[3000];
    for (int iter = 0; iter < 300; iter++) {
        size_t len = (size_t)(mw_test_rand(&rng) % sizeof in);
        for (size_t i = 0; i < len; i++) in[i] = (unsigned char)mw_test_rand(&rng);
        unsigned flags = MW_QP_BINARY | (iter & 1 ? MW_QP_DOT | MW_QP_FROM : 0);
        mw_ssize n = mw_qp_encode(in, len, (char *)out, sizeof out, flags);
        CHECK(n >= 0 && (size_t)n <= mw_qp_encoded_max(len, flags));
        CHECK(check_encoded_form(out, (size_t)n));
        run_result r = dec((const char *)out, (size_t)n, MW_QP_STRICT, back, sizeof back);
        CHECK_INT(r.rc, MW_CODEC_DONE);
        CHECK_INT(r.warnings, 0);
        CHECK_MEM(back, r.out_len, in, len);
    }
}

static void test_roundtrip_text(void)
{
    uint64_t rng = 7;
    static unsigned char in[3000], out[10000], back[6000], expect[6000];
    for (int iter = 0; iter < 400; iter++) {
        size_t len = random_text(&rng, in, sizeof in);
        unsigned flags = (unsigned)(iter % 8) & (MW_QP_DOT | MW_QP_FROM | MW_QP_LF_EOL);
        mw_ssize n = mw_qp_encode(in, len, (char *)out, sizeof out, flags);
        CHECK(n >= 0 && (size_t)n <= mw_qp_encoded_max(len, flags));
        CHECK(check_encoded_form(out, (size_t)n));
        /* With LF_EOL a bare LF comes back as CRLF; otherwise exactly. */
        size_t el = 0;
        for (size_t i = 0; i < len; i++) {
            if ((flags & MW_QP_LF_EOL) && in[i] == '\n' && !(i && in[i - 1] == '\r'))
                expect[el++] = '\r';
            expect[el++] = in[i];
        }
        run_result r = dec((const char *)out, (size_t)n, MW_QP_STRICT, back, sizeof back);
        CHECK_INT(r.rc, MW_CODEC_DONE);
        CHECK_INT(r.warnings, 0);
        CHECK_MEM(back, r.out_len, expect, el);
    }
}

/* Same output, result and defects for every way of cutting input and output. */
static void check_split(init_fn init, step_fn step, unsigned flags, const unsigned char *in,
                        size_t len, uint64_t *rng)
{
    static unsigned char ref[20000], got[20000];
    run_result a = drive(init, step, flags, in, len, ref, sizeof ref, 0, 0, NULL);
    CHECK(a.rc == MW_CODEC_DONE || a.rc == MW_ERR_SYNTAX);
    for (size_t mode = 0; mode < 4; mode++) {
        for (size_t k = 1; k <= 8; k++) {
            size_t ic = mode == 0 || mode == 2 ? k : 0, oc = mode == 1 || mode == 2 ? k : 0;
            if (mode == 3) ic = oc = SIZE_MAX;
            run_result b = drive(init, step, flags, in, len, got, sizeof got, ic, oc, rng);
            if (b.rc != a.rc || b.out_len != a.out_len || memcmp(ref, got, a.out_len) != 0 ||
                b.warnings != a.warnings || b.error_offset != a.error_offset) {
                mw_test_fail(__FILE__, __LINE__, "split %zu/%zu flags %#x differs (rc %d/%d)",
                             ic, oc, flags, a.rc, b.rc);
                mw_test_dump("  input", in, len);
                mw_test_dump("  whole", ref, a.out_len);
                mw_test_dump("  split", got, b.out_len);
                return;
            }
        }
    }
}

static void test_split_encode(void)
{
    uint64_t rng = 99;
    static unsigned char in[1200];
    for (int iter = 0; iter < 150; iter++) {
        size_t len = random_text(&rng, in, sizeof in);
        unsigned flags = (unsigned)iter % 16;
        if ((flags & MW_QP_BINARY) && (flags & MW_QP_LF_EOL)) flags &= ~MW_QP_LF_EOL;
        check_split(mw_qp_encode_init, mw_qp_encode_step, flags, in, len, &rng);
    }
}

/* QP-looking garbage for the decoder. */
static size_t random_qp(uint64_t *rng, unsigned char *buf, size_t cap)
{
    static const char alphabet[] = "==  \t\t\r\r\n\nAaFf09Zz=\r\n";
    size_t len = (size_t)(mw_test_rand(rng) % cap);
    for (size_t i = 0; i < len; i++) {
        uint64_t r = mw_test_rand(rng);
        buf[i] = r % 5 == 0 ? (unsigned char)(r >> 8)
                 : r % 5 == 1 ? 'x'
                              : (unsigned char)alphabet[(r >> 8) % (sizeof alphabet - 1)];
    }
    return len;
}

static void test_split_decode(void)
{
    uint64_t rng = 5;
    static unsigned char in[1200];
    for (int iter = 0; iter < 200; iter++) {
        size_t len = iter & 1 ? random_qp(&rng, in, sizeof in) : random_text(&rng, in, sizeof in);
        check_split(mw_qp_decode_init, mw_qp_decode_step, iter & 2 ? MW_QP_STRICT : 0, in, len,
                    &rng);
    }
    /* long white-space runs around the 128-byte hold limit */
    for (size_t k = 120; k < 140; k += 3) {
        memset(in, ' ', k);
        memcpy(in + k, "\r\nx \t=\r\n", 8);
        memset(in + k + 8, '\t', k);
        check_split(mw_qp_decode_init, mw_qp_decode_step, 0, in, 2 * k + 8, &rng);
    }
}

static void test_decode_in_place(void)
{
    uint64_t rng = 11;
    static unsigned char in[3000], buf[3000], ref[3000];
    for (int iter = 0; iter < 200; iter++) {
        size_t len = iter & 1 ? random_qp(&rng, in, sizeof in) : random_text(&rng, in, sizeof in);
        run_result a = dec((const char *)in, len, 0, ref, sizeof ref);
        CHECK_INT(a.rc, MW_CODEC_DONE);
        CHECK(a.out_len <= len);
        memcpy(buf, in, len);
        mw_codec c;
        mw_qp_decode_init(&c, 0);
        c.next_in = buf;
        c.avail_in = len;
        c.next_out = buf;
        c.avail_out = len;
        CHECK_INT(mw_qp_decode_step(&c, 1), MW_CODEC_DONE);
        CHECK_MEM(buf, c.total_out, ref, a.out_len);
    }
}

/* Exactly sized heap buffers: under ASan any read or write past them by a
 * fast path is caught. The output space given is exactly what is needed. */
static void test_exact_buffers(void)
{
    uint64_t rng = 2024;
    static unsigned char scratch[12000];
    for (int iter = 0; iter < 120; iter++) {
        size_t len = 1 + (size_t)(mw_test_rand(&rng) % 3000);
        unsigned char *in = malloc(len);
        for (size_t i = 0; i < len; i++)
            in[i] = iter & 1 ? (unsigned char)mw_test_rand(&rng) : (unsigned char)"ab =\r\n.\xe9"[mw_test_rand(&rng) % 8];
        unsigned flags = iter & 1 ? MW_QP_BINARY : 0;
        mw_ssize n = mw_qp_encode(in, len, (char *)scratch, sizeof scratch, flags);
        CHECK(n > 0);
        unsigned char *enc = malloc((size_t)n);
        CHECK_INT(mw_qp_encode(in, len, (char *)enc, (size_t)n, flags), n);
        CHECK_INT(mw_qp_encode(in, len, (char *)enc, (size_t)n - 1, flags), MW_ERR_BUFFER);
        unsigned char *dec = malloc(len);
        CHECK_INT(mw_qp_decode((const char *)enc, (size_t)n, dec, len, MW_QP_STRICT), (mw_ssize)len);
        CHECK_MEM(dec, len, in, len);
        free(dec);
        free(enc);
        free(in);
    }
}

/* Lines around the 76-column limit, with and without trailing white space
 * and escapes near the end, many in a row so the fast paths see them whole;
 * each result must match the byte-at-a-time path and decode back. */
static void test_split_structured(void)
{
    uint64_t rng = 31;
    static unsigned char in[4000], out[12000], back[4000];
    static const char *tails[] = {"", " ", "\t", "  ", "\xe9", "=", " \xe9", "\xe9 "};
    for (size_t len = 60; len <= 82; len++) {
        for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
            size_t n = 0;
            for (int line = 0; line < 6; line++) {
                memset(in + n, line & 1 ? 'y' : 'x', len);
                n += len;
                memcpy(in + n, tails[t], strlen(tails[t]));
                n += strlen(tails[t]);
                memcpy(in + n, "\r\n", 2);
                n += 2;
            }
            static const unsigned modes[] = {0, MW_QP_LF_EOL, MW_QP_DOT, MW_QP_BINARY};
            for (size_t f = 0; f < 4; f++) {
                check_split(mw_qp_encode_init, mw_qp_encode_step, modes[f], in, n, &rng);
                mw_ssize k = mw_qp_encode(in, n, (char *)out, sizeof out, modes[f]);
                CHECK(k > 0 && check_encoded_form(out, (size_t)k));
                CHECK_INT(mw_qp_decode((const char *)out, (size_t)k, back, sizeof back, MW_QP_STRICT),
                          (mw_ssize)n);
                CHECK_MEM(back, n, in, n);
                check_split(mw_qp_decode_init, mw_qp_decode_step, 0, out, (size_t)k, &rng);
            }
        }
    }
}

/* Defect offsets found by the fast paths (a long clean prefix first). */
static run_result dec_after_prefix(const char *tail, unsigned flags, unsigned char *out, size_t cap)
{
    char in[200];
    size_t n = strlen(tail);
    memset(in, 'a', 100);
    memcpy(in + 100, tail, n);
    return dec(in, 100 + n, flags, out, cap);
}

static void test_dec_offsets_long(void)
{
    unsigned char out[200];
    const char *more = " and more text to keep the fast path going";
    char tail[100];
    snprintf(tail, sizeof tail, "=4a%s", more);
    run_result r = dec_after_prefix(tail, MW_QP_STRICT, out, sizeof out);
    CHECK_INT(r.rc, MW_ERR_SYNTAX);
    CHECK_INT(r.error_offset, 100);
    r = dec_after_prefix(tail, 0, out, sizeof out);
    CHECK_INT(r.rc, MW_CODEC_DONE);
    CHECK_INT(r.warnings, 0);
    CHECK_INT(r.out_len, 101 + strlen(more));
    CHECK(out[100] == 'J');
    snprintf(tail, sizeof tail, "=ZZ%s", more);
    r = dec_after_prefix(tail, 0, out, sizeof out);
    CHECK_INT(r.warnings, MW_CODEC_WARN_BAD_ESCAPE);
    CHECK_INT(r.error_offset, 100);
    CHECK_MEM(out + 100, 3, "=ZZ", 3);
    snprintf(tail, sizeof tail, "x\nand=\nso%s", more);
    r = dec_after_prefix(tail, 0, out, sizeof out);
    CHECK_INT(r.warnings, MW_CODEC_WARN_BARE_EOL);
    CHECK_INT(r.error_offset, 101);
    CHECK_MEM(out + 100, 7, "x\nandso", 7);
}

/* NULL buffers with zero sizes are valid (e.g. a last call with only
 * finish); under UBSan this also checks no arithmetic is done on them. */
static void test_null_empty(void)
{
    mw_codec c;
    unsigned char out[8];
    CHECK_INT(mw_qp_encode_init(&c, 0), MW_OK);
    c.next_in = (const unsigned char *)"a ";
    c.avail_in = 2;
    c.next_out = out;
    c.avail_out = sizeof out;
    CHECK_INT(mw_qp_encode_step(&c, 0), MW_CODEC_MORE); /* the space waits */
    c.next_in = NULL;
    c.avail_in = 0;
    CHECK_INT(mw_qp_encode_step(&c, 0), MW_CODEC_MORE);
    CHECK_INT(mw_qp_encode_step(&c, 1), MW_CODEC_DONE);
    CHECK_MEM(out, c.total_out, "a=20", 4);
    c.next_out = NULL;
    c.avail_out = 0;
    CHECK_INT(mw_qp_encode_step(&c, 1), MW_CODEC_DONE);

    CHECK_INT(mw_qp_decode_init(&c, 0), MW_OK);
    c.next_in = NULL;
    c.avail_in = 0;
    c.next_out = NULL;
    c.avail_out = 0;
    CHECK_INT(mw_qp_decode_step(&c, 0), MW_CODEC_MORE);
    CHECK_INT(mw_qp_decode_step(&c, 1), MW_CODEC_DONE);
    CHECK_INT(c.total_out, 0);
}

/* ---- fast paths against the byte-level machine ---- */

typedef struct level_run {
    int rc;
    size_t len;
    unsigned warnings;
    uint64_t error_offset, total_in;
} level_run;

/* Decode in[0..len) at a forced level, input given in pieces of chunk
 * bytes (0: all at once), output space unlimited. */
static level_run decode_at_level(int level, const unsigned char *in, size_t len, unsigned flags,
                                 size_t chunk, unsigned char *out, size_t cap)
{
    level_run r = {0, 0, 0, 0, 0};
    mw_codec c;
    CHECK_INT(mw_qp_decode_init(&c, flags), MW_OK);
    CHECK_INT(mw__qp_dec_set_level(&c, level), MW_OK);
    c.next_out = out;
    c.avail_out = cap;
    size_t off = 0;
    for (;;) {
        size_t n = chunk && len - off > chunk ? chunk : len - off;
        c.next_in = in + off;
        c.avail_in = n;
        int fin = off + n == len;
        r.rc = mw_qp_decode_step(&c, fin);
        off += n - c.avail_in;
        if (r.rc < 0 || (fin && r.rc == MW_CODEC_DONE)) break;
        if (!n && !fin) break;
    }
    r.len = (size_t)c.total_out;
    r.warnings = c.warnings;
    r.error_offset = c.error_offset;
    r.total_in = c.total_in;
    return r;
}

/* QP-like text dense in everything the fast paths decide on: escapes in
 * both cases, soft breaks with CRLF and LF, clean and dirty line ends,
 * malformed escapes, long plain runs that fill whole 64-byte blocks. */
static size_t dense_text(uint64_t *rng, unsigned char *buf, size_t cap)
{
    static const char *pieces[] = {
        "=41", "=e9", "=C3=A9", "=3D", "=20", "=\r\n", "=\n", "\r\n", "\n", "\r", " \r\n",
        "\t\r\n", " \n", "= \r\n", "=\t\n", "=G1", "=4", "==", "=\r", "=A\r\n", " ", "\t",
        "abc", "The quick brown fox jumps over the lazy dog. ", "0123456789ABCDEF",
        "=0D=0A", "\xc3\xa9", "\x00", "x=", "=3d=3D=3e",
    };
    size_t n = 0, want = (size_t)(mw_test_rand(rng) % cap);
    unsigned bias = (unsigned)(mw_test_rand(rng) % 4); /* mostly plain, or mostly tokens */
    while (n < want) {
        size_t k = (size_t)(mw_test_rand(rng) % (sizeof pieces / sizeof pieces[0]));
        if (bias == 0 && mw_test_rand(rng) % 4) k = 23; /* long plain text */
        const char *s = pieces[k];
        size_t l = s[0] ? strlen(s) : 1;
        if (n + l > cap) break;
        memcpy(buf + n, s, l);
        n += l;
    }
    return n;
}

static void test_levels_agree(void)
{
    static unsigned char in[4096], ref[4200], got[4200];
    static const size_t chunks[] = {0, 1, 7, 64, 65, 130, 1000};
    uint64_t rng = 0x51ab1e5eedULL;
    int levels = 0;
    for (int level = 0; level < MW__QP_LEVELS; level++) levels += mw__qp_dec_level_supported(level);
    CHECK(levels >= 2); /* BYTE and BLOCK run everywhere */
    CHECK_INT(mw__qp_dec_level_supported(MW__QP_LEVEL_BYTE), 1);
    CHECK_INT(mw__qp_dec_level_supported(MW__QP_LEVELS), 0);
    for (int iter = 0; iter < 1500; iter++) {
        size_t len;
        if (iter % 3 == 2) { /* random bytes from a small alphabet */
            len = (size_t)(mw_test_rand(&rng) % sizeof in);
            for (size_t i = 0; i < len; i++) in[i] = (unsigned char)"=\r\n \tA3fgz"[mw_test_rand(&rng) % 11];
        } else {
            len = dense_text(&rng, in, sizeof in);
        }
        unsigned flags = iter & 1 ? MW_QP_STRICT : 0;
        size_t chunk = chunks[(size_t)iter % (sizeof chunks / sizeof chunks[0])];
        level_run want = decode_at_level(MW__QP_LEVEL_BYTE, in, len, flags, chunk, ref, sizeof ref);
        for (int level = MW__QP_LEVEL_BLOCK; level < MW__QP_LEVELS; level++) {
            if (!mw__qp_dec_level_supported(level)) continue;
            level_run r = decode_at_level(level, in, len, flags, chunk, got, sizeof got);
            CHECK_INT(r.rc, want.rc);
            CHECK_INT(r.warnings, want.warnings);
            CHECK_INT(r.error_offset, want.error_offset);
            CHECK_INT(r.total_in, want.total_in);
            CHECK_MEM(got, r.len, ref, want.len);
            if (r.rc != want.rc || r.len != want.len || memcmp(got, ref, r.len) ||
                r.warnings != want.warnings || r.error_offset != want.error_offset) {
                printf("  level %d iter %d len %zu chunk %zu flags %u\n", level, iter, len, chunk, flags);
                return;
            }
        }
    }
}

static void test_level_set_errors(void)
{
    mw_codec c;
    CHECK_INT(mw_qp_decode_init(&c, 0), MW_OK);
    CHECK_INT(mw__qp_dec_set_level(NULL, MW__QP_LEVEL_BYTE), MW_ERR_INVALID);
    CHECK_INT(mw__qp_dec_set_level(&c, -1), MW_ERR_INVALID);
    CHECK_INT(mw__qp_dec_set_level(&c, MW__QP_LEVELS), MW_ERR_INVALID);
    int best = mw__qp_dec_level_best();
    CHECK(best >= MW__QP_LEVEL_BLOCK && best < MW__QP_LEVELS);
    CHECK_INT(mw__qp_dec_level_supported(best), 1);
    CHECK_INT(mw__qp_dec_set_level(&c, best), MW_OK);
}

int main(void)
{
    MW_RUN(test_enc_basic);
    MW_RUN(test_enc_trailing_ws);
    MW_RUN(test_enc_line_ends);
    MW_RUN(test_enc_dot_from);
    MW_RUN(test_enc_long_lines);
    MW_RUN(test_enc_rfc_example);
    MW_RUN(test_enc_oneshot);
    MW_RUN(test_dec_basic);
    MW_RUN(test_dec_lenient);
    MW_RUN(test_dec_soft_breaks);
    MW_RUN(test_dec_trailing_ws);
    MW_RUN(test_dec_strict);
    MW_RUN(test_dec_oneshot);
    MW_RUN(test_null_empty);
    MW_RUN(test_dec_offsets_long);
    MW_RUN(test_roundtrip_binary);
    MW_RUN(test_roundtrip_text);
    MW_RUN(test_split_encode);
    MW_RUN(test_split_decode);
    MW_RUN(test_split_structured);
    MW_RUN(test_decode_in_place);
    MW_RUN(test_exact_buffers);
    MW_RUN(test_levels_agree);
    MW_RUN(test_level_set_errors);
    return mw_test_finish();
}
