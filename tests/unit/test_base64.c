/*
 * base64: RFC 4648 §10 vectors, strict errors with exact offsets, MIME
 * leniency (RFC 2045 §6.8), wrapping, one-shot vs stepper, split-invariance
 * of input and output space, random round trips, and scalar-vs-SIMD
 * differential checks on every kernel level this CPU runs.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "codec/codec_internal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t g_seed = 0x5eed0b64u;

static size_t rnd(size_t n) { return n ? (size_t)(mw_test_rand(&g_seed) % n) : 0; }


/* Result of running a coder: rc is the last step result (DONE or < 0). */
typedef struct outcome {
    int rc;
    size_t len;
    uint64_t err;
    unsigned warnings;
} outcome;

static size_t chunk_of(int chunk, size_t left)
{
    size_t n = chunk == 0 ? left : chunk > 0 ? (size_t)chunk : 1 + rnd((size_t)-chunk);
    return n < left ? n : left;
}

/* Run a stepper over in, giving it at most ichunk input bytes and ochunk
 * bytes of output space per call (0 = everything, negative = random 1..-n). */
static outcome run_steps(int encode, unsigned flags, int level, const unsigned char *in, size_t len,
                         unsigned char *out, size_t cap, int ichunk, int ochunk)
{
    mw_codec c;
    outcome r = {0, 0, 0, 0};
    int rc = encode ? mw_b64_encode_init(&c, flags) : mw_b64_decode_init(&c, flags);
    if (rc == MW_OK) rc = mw__b64_codec_set_level(&c, level);
    if (rc != MW_OK) {
        r.rc = rc;
        return r;
    }
    size_t pos = 0, made = 0;
    for (int guard = 0; guard < 10000000; guard++) {
        size_t ni = chunk_of(ichunk, len - pos), no = chunk_of(ochunk, cap - made);
        c.next_in = in + pos;
        c.avail_in = ni;
        c.next_out = out + made;
        c.avail_out = no;
        int finish = pos + ni == len;
        rc = encode ? mw_b64_encode_step(&c, finish) : mw_b64_decode_step(&c, finish);
        size_t used = ni - c.avail_in, wrote = no - c.avail_out;
        if ((size_t)(c.next_in - in) != pos + used || c.total_in != pos + used) rc = -99;
        if ((size_t)(c.next_out - out) != made + wrote || c.total_out != made + wrote) rc = -98;
        pos += used;
        made += wrote;
        if (rc < 0 || rc == MW_CODEC_DONE) break;
        if (!used && !wrote && made == cap) {
            rc = MW_ERR_BUFFER;
            break;
        }
    }
    r.rc = rc;
    r.len = made;
    r.err = c.error_offset;
    r.warnings = c.warnings;
    return r;
}

static size_t enc_str(const char *in, unsigned flags, char *out, size_t cap)
{
    mw_ssize n = mw_b64_encode(in, strlen(in), out, cap, flags);
    CHECK(n >= 0);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- vectors ---- */

static void test_rfc4648_vectors(void)
{
    static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const padded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
    static const char *const bare[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    char buf[64];
    for (int i = 0; i < 7; i++) {
        for (unsigned url = 0; url <= MW_B64_URL; url += MW_B64_URL) {
            size_t n = enc_str(plain[i], url, buf, sizeof buf);
            CHECK_STR(buf, n, padded[i]);
            CHECK_INT(n, mw_b64_encoded_len(strlen(plain[i]), url));
            n = enc_str(plain[i], url | MW_B64_NOPAD, buf, sizeof buf);
            CHECK_STR(buf, n, bare[i]);
            CHECK_INT(n, mw_b64_encoded_len(strlen(plain[i]), url | MW_B64_NOPAD));
            size_t off = 99;
            mw_ssize d = mw_b64_decode(padded[i], strlen(padded[i]), buf, sizeof buf, url, &off);
            CHECK_INT(d, (mw_ssize)strlen(plain[i]));
            CHECK_INT(off, strlen(padded[i]));
            if (d >= 0) CHECK_STR(buf, (size_t)d, plain[i]);
            /* NOPAD decoding takes both forms. */
            d = mw_b64_decode(bare[i], strlen(bare[i]), buf, sizeof buf, url | MW_B64_NOPAD, NULL);
            CHECK_INT(d, (mw_ssize)strlen(plain[i]));
            if (d >= 0) CHECK_STR(buf, (size_t)d, plain[i]);
            d = mw_b64_decode(padded[i], strlen(padded[i]), buf, sizeof buf, url | MW_B64_NOPAD, NULL);
            CHECK_INT(d, (mw_ssize)strlen(plain[i]));
        }
    }
}

static void test_alphabets(void)
{
    static const unsigned char a[] = {0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff, 0x00, 0x10, 0x83};
    char buf[32];
    unsigned char back[32];
    mw_ssize n = mw_b64_encode(a, sizeof a, buf, sizeof buf, 0);
    CHECK_STR(buf, (size_t)n, "++++////ABCD");
    n = mw_b64_encode(a, sizeof a, buf, sizeof buf, MW_B64_URL);
    CHECK_STR(buf, (size_t)n, "----____ABCD");
    n = mw_b64_decode("----____ABCD", 12, back, sizeof back, MW_B64_URL, NULL);
    CHECK_MEM(back, (size_t)n, a, sizeof a);
    n = mw_b64_encode(a, 2, buf, sizeof buf, 0);
    CHECK_STR(buf, (size_t)n, "++8=");
    n = mw_b64_encode(a, 2, buf, sizeof buf, MW_B64_URL);
    CHECK_STR(buf, (size_t)n, "--8=");
    /* Each alphabet rejects the other's two special characters. */
    size_t off;
    CHECK_INT(mw_b64_decode("ab-_", 4, back, sizeof back, 0, &off), MW_ERR_SYNTAX);
    CHECK_INT(off, 2);
    CHECK_INT(mw_b64_decode("ab+/", 4, back, sizeof back, MW_B64_URL, &off), MW_ERR_SYNTAX);
    CHECK_INT(off, 2);
}

static void test_sizes(void)
{
    CHECK_INT(mw_b64_encoded_len(0, 0), 0);
    CHECK_INT(mw_b64_encoded_len(1, 0), 4);
    CHECK_INT(mw_b64_encoded_len(1, MW_B64_NOPAD), 2);
    CHECK_INT(mw_b64_encoded_len(2, MW_B64_NOPAD), 3);
    CHECK_INT(mw_b64_encoded_len(0, MW_B64_WRAP), 0);
    CHECK_INT(mw_b64_encoded_len(1, MW_B64_WRAP), 6);
    CHECK_INT(mw_b64_encoded_len(57, MW_B64_WRAP), 78);
    CHECK_INT(mw_b64_encoded_len(58, MW_B64_WRAP), 84);
    CHECK_INT(mw_b64_encoded_len(114, MW_B64_WRAP), 156);
    CHECK_INT(mw_b64_encoded_len(SIZE_MAX, 0), 0);
    CHECK_INT(mw_b64_encoded_len(SIZE_MAX / 4 * 3, MW_B64_WRAP), 0);
    CHECK_INT(mw_b64_decoded_max(0), 0);
    CHECK_INT(mw_b64_decoded_max(4), 3);
    CHECK_INT(mw_b64_decoded_max(6), 4);
    CHECK_INT(mw_b64_decoded_max(7), 5);
    CHECK_INT(mw_b64_decoded_max(78), 58);
}

static void test_bad_arguments(void)
{
    mw_codec c;
    char buf[8];
    CHECK_INT(mw_b64_encode_init(NULL, 0), MW_ERR_INVALID);
    CHECK_INT(mw_b64_encode_init(&c, MW_B64_MIME), MW_ERR_INVALID);
    CHECK_INT(mw_b64_decode_init(&c, MW_B64_WRAP), MW_ERR_INVALID);
    CHECK_INT(mw_b64_decode_init(&c, MW_B64_SKIP_GARBAGE), MW_ERR_INVALID);
    CHECK_INT(mw_b64_encode_step(NULL, 1), MW_ERR_INVALID);
    CHECK_INT(mw_b64_decode_step(NULL, 1), MW_ERR_INVALID);
    CHECK_INT(mw_b64_encode(NULL, 3, buf, sizeof buf, 0), MW_ERR_INVALID);
    CHECK_INT(mw_b64_decode(NULL, 3, buf, sizeof buf, 0, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_b64_encode("abc", 3, NULL, 4, 0), MW_ERR_INVALID);
    CHECK_INT(mw_b64_encode("abc", 3, buf, 3, 0), MW_ERR_BUFFER);
    /* The one-shot calls check flags and level themselves (no codec init). */
    CHECK_INT(mw_b64_encode("abc", 3, buf, sizeof buf, MW_B64_MIME), MW_ERR_INVALID);
    CHECK_INT(mw_b64_decode("QUJD", 4, buf, sizeof buf, MW_B64_WRAP, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_b64_decode("QUJD", 4, buf, sizeof buf, MW_B64_SKIP_GARBAGE, NULL), MW_ERR_INVALID);
    CHECK_INT(mw__b64_encode_level(7, "abc", 3, buf, sizeof buf, 0), MW_ERR_INVALID);
    CHECK_INT(mw__b64_decode_level(-1, "QUJD", 4, buf, sizeof buf, 0, NULL), MW_ERR_INVALID);
    CHECK_INT(mw__b64_decode_level(MW__B64_LEVELS, "QUJD", 4, buf, sizeof buf, 0, NULL), MW_ERR_INVALID);
    CHECK_INT(mw_b64_decode("QUJD", 4, buf, sizeof buf, MW_B64_URL | MW_B64_NOPAD, NULL), 3);
    CHECK_INT(mw_b64_encode(NULL, 0, NULL, 0, MW_B64_WRAP), 0);
    CHECK_INT(mw_b64_decode(NULL, 0, NULL, 0, 0, NULL), 0);
    /* A stepper with NULL buffers and nothing to do finishes cleanly. */
    CHECK_INT(mw_b64_decode_init(&c, 0), MW_OK);
    CHECK_INT(mw_b64_decode_step(&c, 0), MW_CODEC_MORE);
    CHECK_INT(mw_b64_decode_step(&c, 1), MW_CODEC_DONE);
    CHECK_INT(mw_b64_decode_step(&c, 1), MW_CODEC_DONE);
    c.next_in = (const unsigned char *)"QQ==";
    c.avail_in = 4;
    CHECK_INT(mw_b64_decode_step(&c, 1), MW_ERR_INVALID); /* input after the end */
    CHECK_INT(mw_b64_encode_init(&c, MW_B64_WRAP), MW_OK);
    CHECK_INT(mw_b64_encode_step(&c, 1), MW_CODEC_DONE);
    CHECK_INT(c.total_out, 0);
    CHECK_INT(mw__b64_codec_set_level(&c, 7), MW_ERR_INVALID);
}

/* ---- wrapping ---- */

static void check_wrapped(const char *s, size_t n)
{
    size_t col = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r') {
            CHECK(i + 1 < n && s[i + 1] == '\n');
            CHECK(col > 0 && col <= 76);
            col = 0;
            i++;
        } else {
            CHECK(s[i] != '\n');
            col++;
        }
    }
    CHECK_INT(col, 0); /* non-empty output ends with CRLF */
}

static void test_wrap(void)
{
    unsigned char data[400];
    char enc[700];
    unsigned char back[400];
    static const size_t sizes[] = {1, 2, 3, 56, 57, 58, 113, 114, 115, 171, 399};
    mw_test_fill(data, sizeof data, &g_seed);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t len = sizes[i];
        for (unsigned f = 0; f < 4; f++) {
            unsigned flags = MW_B64_WRAP | f;
            mw_ssize n = mw_b64_encode(data, len, enc, sizeof enc, flags);
            CHECK_INT(n, (mw_ssize)mw_b64_encoded_len(len, flags));
            if (n < 0) continue;
            check_wrapped(enc, (size_t)n);
            size_t off;
            unsigned dflags = MW_B64_MIME | (f & MW_B64_URL) | (f & MW_B64_NOPAD);
            mw_ssize d = mw_b64_decode(enc, (size_t)n, back, sizeof back, dflags, &off);
            CHECK_MEM(back, d < 0 ? 0 : (size_t)d, data, len);
            CHECK_INT(off, (size_t)n);
        }
    }
    mw_ssize n = mw_b64_encode(data, 57, enc, sizeof enc, MW_B64_WRAP);
    CHECK_INT(n, 78);
    CHECK(enc[76] == '\r' && enc[77] == '\n');
    n = mw_b64_encode(data, 58, enc, sizeof enc, MW_B64_WRAP);
    CHECK_INT(n, 84);
    CHECK(enc[80] == '=' && enc[81] == '=' && enc[82] == '\r');
    n = mw_b64_encode(data, 114, enc, sizeof enc, MW_B64_WRAP);
    CHECK_INT(n, 156);
    CHECK(enc[154] == '\r' && enc[155] == '\n' && enc[76] == '\r');
    n = mw_b64_encode("foo", 3, enc, sizeof enc, MW_B64_WRAP);
    CHECK_STR(enc, (size_t)n, "Zm9v\r\n");
}

/* ---- strict decoding ---- */

typedef struct err_case {
    const char *in;
    unsigned flags;
    int rc;
    size_t off;
} err_case;

static void test_strict_errors(void)
{
    static const err_case cases[] = {
        {"Zm9v!", 0, MW_ERR_SYNTAX, 4},
        {"Zg=v", 0, MW_ERR_SYNTAX, 3},         /* data after a single '=' */
        {"Z===", 0, MW_ERR_SYNTAX, 1},         /* '=' after one character */
        {"=Zm9", 0, MW_ERR_SYNTAX, 0},         /* '=' at the start of a quad */
        {"Zm9vYg==Zg==", 0, MW_ERR_SYNTAX, 8}, /* data after padding */
        {"Zm9vYg===", 0, MW_ERR_SYNTAX, 8},    /* too many '=' */
        {"Zm9vYmE==", 0, MW_ERR_SYNTAX, 8},
        {"Zm9vYh==", 0, MW_ERR_SYNTAX, 5},     /* non-zero trailing bits (§3.5) */
        {"Zm9=", 0, MW_ERR_SYNTAX, 2},
        {"Zm9vYh", MW_B64_NOPAD, MW_ERR_SYNTAX, 5},
        {"Zm9vYmF", MW_B64_NOPAD, MW_ERR_SYNTAX, 6},
        {"Zm9vYg=", 0, MW_ERR_TRUNCATED, 7},
        {"Zm9vY", 0, MW_ERR_TRUNCATED, 5},
        {"Zm9vY", MW_B64_NOPAD, MW_ERR_TRUNCATED, 5},
        {"Zm9vYg", 0, MW_ERR_TRUNCATED, 6},
        {"Zm 9v", 0, MW_ERR_SYNTAX, 2},
        {"Zm9v\r\n", 0, MW_ERR_SYNTAX, 4},
        {"Zm9vYg==\r\n", 0, MW_ERR_SYNTAX, 8},
        {"Zm9v\x80YmFy", 0, MW_ERR_SYNTAX, 4},
        {"Zm9v\0", 0, MW_ERR_SYNTAX, 4},
    };
    unsigned char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const err_case *t = &cases[i];
        size_t len = strlen(t->in);
        if (i == sizeof cases / sizeof cases[0] - 1) len = 5; /* the NUL case */
        for (int level = 0; level < MW__B64_LEVELS; level++) {
            if (!mw__b64_level_supported(level)) continue;
            size_t off = 1234;
            mw_ssize n = mw__b64_decode_level(level, t->in, len, out, sizeof out, t->flags, &off);
            if (n != t->rc || off != t->off)
                mw_test_fail(__FILE__, __LINE__, "case %zu (%s) level %d: rc %td off %zu", i, t->in,
                             level, n, off);
            /* The stepper reports the same, byte by byte, and stays failed. */
            outcome r = run_steps(0, t->flags, level, (const unsigned char *)t->in, len, out,
                                  sizeof out, 1, 1);
            CHECK_INT(r.rc, t->rc);
            CHECK_INT(r.err, t->off);
        }
    }
    /* Errors stay put. */
    mw_codec c;
    mw_b64_decode_init(&c, 0);
    c.next_in = (const unsigned char *)"ab!d";
    c.avail_in = 4;
    c.next_out = out;
    c.avail_out = sizeof out;
    CHECK_INT(mw_b64_decode_step(&c, 0), MW_ERR_SYNTAX);
    CHECK_INT(mw_b64_decode_step(&c, 1), MW_ERR_SYNTAX);
    CHECK_INT(c.error_offset, 2);
}

/* An error far into a long input is found at the same offset by every kernel. */
static void test_strict_error_offsets_long(void)
{
    unsigned char data[3000], *out = mw_test_xmalloc(3000);
    char enc[4100];
    mw_test_fill(data, sizeof data, &g_seed);
    mw_ssize n = mw_b64_encode(data, sizeof data, enc, sizeof enc, 0);
    CHECK_INT(n, 4000);
    for (int trial = 0; trial < 300; trial++) {
        size_t pos = rnd(4000);
        char saved = enc[pos];
        enc[pos] = "!*\n -_\x80"[rnd(7)];
        for (int level = 0; level < MW__B64_LEVELS; level++) {
            if (!mw__b64_level_supported(level)) continue;
            size_t off = 0;
            mw_ssize r = mw__b64_decode_level(level, enc, 4000, out, 3000, 0, &off);
            if (r != MW_ERR_SYNTAX || off != pos)
                mw_test_fail(__FILE__, __LINE__, "pos %zu char %02x level %d: rc %td off %zu", pos,
                             (unsigned char)enc[pos], level, r, off);
        }
        enc[pos] = saved;
    }
    free(out);
}

/* ---- MIME decoding ---- */

typedef struct mime_case {
    const char *in;
    unsigned flags;
    mw_ssize rc;
    const char *out;
    unsigned warnings;
    size_t off;
} mime_case;

static void test_mime(void)
{
    const unsigned M = MW_B64_MIME, G = MW_B64_MIME | MW_B64_SKIP_GARBAGE;
    const mime_case cases[] = {
        {"Zm9v\r\nYmFy\r\n", M, 6, "foobar", 0, 12},
        {"Zm9vYg==\r\n", M, 4, "foob", 0, 10},
        {"Zm9v YmFy", M, 6, "foobar", MW_CODEC_WARN_BAD_CHAR, 4},
        {"Zm9v\tYmFy", M, 6, "foobar", MW_CODEC_WARN_BAD_CHAR, 4},
        {"Zm9v*YmFy", M, MW_ERR_SYNTAX, "", 0, 4},
        {"Zm9v*YmFy", G, 6, "foobar", MW_CODEC_WARN_BAD_CHAR, 4},
        {"Zm\x80\xff" "9v", G, 3, "foo", MW_CODEC_WARN_BAD_CHAR, 2},
        {"Zg==Zm9v", M, 1, "f", MW_CODEC_WARN_TRAILING, 4},     /* padding ends the data */
        {"Zg==\r\n\r\n", M, 1, "f", 0, 8},
        {"Zg=\r\n=", M, 1, "f", 0, 6},                          /* padding split by a line break */
        {"Zg=Zm9v", M, 1, "f", MW_CODEC_WARN_BAD_PADDING | MW_CODEC_WARN_TRAILING, 3},
        {"Zg", M, 1, "f", MW_CODEC_WARN_BAD_PADDING, 2},
        {"Zg", M | MW_B64_NOPAD, 1, "f", 0, 2},
        {"Zg=", M, 1, "f", MW_CODEC_WARN_BAD_PADDING, 3},
        {"Zh==", M, 1, "f", MW_CODEC_WARN_TRAILING, 1},         /* leftover bits dropped */
        {"Zm9vY", M, 3, "foo", MW_CODEC_WARN_TRAILING, 4},
        {"Zm9vY=", M, 3, "foo", MW_CODEC_WARN_BAD_PADDING | MW_CODEC_WARN_TRAILING, 4},
        {"=", M, 0, "", MW_CODEC_WARN_BAD_PADDING, 0},
        {"Zm9v=", M, 3, "foo", MW_CODEC_WARN_BAD_PADDING, 4},
        {"Zg===", M, 1, "f", MW_CODEC_WARN_BAD_PADDING, 4},
        {"Zm9v\nYmFy", M, 6, "foobar", MW_CODEC_WARN_BARE_EOL, 4},
        {"Zm9v\rYmFy", M, 6, "foobar", MW_CODEC_WARN_BARE_EOL, 4},
        {"Zm9v\r", M, 3, "foo", MW_CODEC_WARN_BARE_EOL, 4},
        {"Zm9v\r\r\nYmFy", M, 6, "foobar", MW_CODEC_WARN_BARE_EOL, 4},
        {"", M, 0, "", 0, 0},
        {"\r\n", M, 0, "", 0, 2},
    };
    unsigned char out[64];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const mime_case *t = &cases[i];
        size_t len = strlen(t->in);
        for (int level = 0; level < MW__B64_LEVELS; level++) {
            if (!mw__b64_level_supported(level)) continue;
            size_t off = 999;
            mw_ssize n = mw__b64_decode_level(level, t->in, len, out, sizeof out, t->flags, &off);
            if (n != t->rc || off != t->off)
                mw_test_fail(__FILE__, __LINE__, "case %zu level %d: rc %td off %zu", i, level, n, off);
            if (n >= 0) CHECK_STR(out, (size_t)n, t->out);
            for (int chunk = 1; chunk <= 3; chunk++) {
                outcome r = run_steps(0, t->flags, level, (const unsigned char *)t->in, len, out,
                                      sizeof out, chunk, chunk);
                if (t->rc >= 0) {
                    CHECK_INT(r.rc, MW_CODEC_DONE);
                    CHECK_STR(out, r.len, t->out);
                    CHECK_INT(r.warnings, t->warnings);
                    if (t->warnings) CHECK_INT(r.err, t->off);
                } else {
                    CHECK_INT(r.rc, t->rc);
                    CHECK_INT(r.err, t->off);
                }
            }
        }
    }
}

static void test_mime_long_line(void)
{
    char in[200];
    unsigned char out[200];
    memset(in, 'A', 80);
    memcpy(in + 80, "\r\nAAAA\r\n", 8);
    mw_codec c;
    mw_b64_decode_init(&c, MW_B64_MIME);
    c.next_in = (const unsigned char *)in;
    c.avail_in = 88;
    c.next_out = out;
    c.avail_out = sizeof out;
    CHECK_INT(mw_b64_decode_step(&c, 1), MW_CODEC_DONE);
    CHECK_INT(c.total_out, 63);
    CHECK_INT(c.warnings, MW_CODEC_WARN_LONG_LINE);
    CHECK_INT(c.error_offset, 76);
    /* Lines of exactly 76 are fine, over several lines (line kernel). */
    for (int l = 0; l < 2; l++) {
        memset(in + l * 78, 'B', 76);
        memcpy(in + l * 78 + 76, "\r\n", 2);
    }
    size_t off;
    CHECK_INT(mw_b64_decode(in, 156, out, sizeof out, MW_B64_MIME, &off), 114);
    CHECK_INT(off, 156);
    /* 80-character lines, learned and taken by the line kernel, still warn. */
    for (int l = 0; l < 2; l++) {
        memset(in + l * 82, 'C', 80);
        memcpy(in + l * 82 + 80, "\r\n", 2);
    }
    CHECK_INT(mw_b64_decode(in, 164, out, sizeof out, MW_B64_MIME, &off), 120);
    CHECK_INT(off, 76);
}

/* ---- properties ---- */

static const unsigned enc_flag_sets[] = {0,
                                         MW_B64_URL,
                                         MW_B64_NOPAD,
                                         MW_B64_WRAP,
                                         MW_B64_WRAP | MW_B64_NOPAD,
                                         MW_B64_URL | MW_B64_WRAP,
                                         MW_B64_URL | MW_B64_NOPAD};
#define N_ENC_FLAGS (sizeof enc_flag_sets / sizeof enc_flag_sets[0])

static unsigned dec_flags_for(unsigned ef)
{
    return (ef & (MW_B64_URL | MW_B64_NOPAD)) | ((ef & MW_B64_WRAP) ? MW_B64_MIME : 0);
}

static void test_round_trip_all_lengths(void)
{
    unsigned char *data = mw_test_xmalloc(300), *back = mw_test_xmalloc(300);
    char *enc = mw_test_xmalloc(500);
    for (size_t len = 0; len <= 300; len++) {
        mw_test_fill(data, len, &g_seed);
        for (size_t f = 0; f < N_ENC_FLAGS; f++) {
            unsigned ef = enc_flag_sets[f];
            mw_ssize n = mw_b64_encode(data, len, enc, 500, ef);
            CHECK_INT(n, (mw_ssize)mw_b64_encoded_len(len, ef));
            if (n < 0) continue;
            size_t off;
            mw_ssize d = mw_b64_decode(enc, (size_t)n, back, 300, dec_flags_for(ef), &off);
            CHECK_MEM(back, d < 0 ? 0 : (size_t)d, data, len);
            CHECK_INT(off, (size_t)n);
            CHECK((size_t)d <= mw_b64_decoded_max((size_t)n));
            /* Exactly enough room for the real output is enough. */
            d = mw_b64_decode(enc, (size_t)n, back, len, dec_flags_for(ef), NULL);
            CHECK_INT(d, (mw_ssize)len);
            if (len) CHECK_INT(mw_b64_decode(enc, (size_t)n, back, len - 1, dec_flags_for(ef), NULL), MW_ERR_BUFFER);
        }
    }
    free(data);
    free(back);
    free(enc);
}

static void test_round_trip_large(void)
{
    static const size_t sizes[] = {4096, 65536 + 7, 1000003};
    for (size_t s = 0; s < 3; s++) {
        size_t len = sizes[s];
        unsigned char *data = mw_test_xmalloc(len), *back = mw_test_xmalloc(len);
        size_t cap = mw_b64_encoded_len(len, MW_B64_WRAP);
        char *enc = mw_test_xmalloc(cap);
        mw_test_fill(data, len, &g_seed);
        for (size_t f = 0; f < N_ENC_FLAGS; f++) {
            unsigned ef = enc_flag_sets[f];
            mw_ssize n = mw_b64_encode(data, len, enc, cap, ef);
            CHECK_INT(n, (mw_ssize)mw_b64_encoded_len(len, ef));
            mw_ssize d = mw_b64_decode(enc, (size_t)n, back, len, dec_flags_for(ef), NULL);
            CHECK_MEM(back, d < 0 ? 0 : (size_t)d, data, len);
        }
        free(data);
        free(back);
        free(enc);
    }
}

/* Same bytes out, whatever the chunking of input and output. */
static void test_split_invariance(void)
{
    static const size_t lens[] = {0, 1, 2, 3, 4, 5, 56, 57, 58, 100, 171, 250, 777};
    unsigned char data[777], back[777], *got = mw_test_xmalloc(1200);
    char enc[1200], enc_copy[1200];
    mw_test_fill(data, sizeof data, &g_seed);
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        size_t len = lens[li];
        for (size_t f = 0; f < N_ENC_FLAGS; f++) {
            unsigned ef = enc_flag_sets[f], df = dec_flags_for(ef);
            mw_ssize n = mw_b64_encode(data, len, enc, sizeof enc, ef);
            CHECK(n >= 0);
            for (int level = 0; level < MW__B64_LEVELS; level++) {
                if (!mw__b64_level_supported(level)) continue;
                for (int ic = 1; ic <= 9; ic++) {
                    for (int oc = 1; oc <= 9; oc++) {
                        int ich = ic == 9 ? 0 : ic, och = oc == 9 ? 0 : oc;
                        outcome r = run_steps(1, ef, level, data, len, got, 1200, ich, och);
                        CHECK_INT(r.rc, MW_CODEC_DONE);
                        CHECK_MEM(got, r.len, enc, (size_t)n);
                        r = run_steps(0, df, level, (const unsigned char *)enc, (size_t)n, got, 1200,
                                      ich, och);
                        CHECK_INT(r.rc, MW_CODEC_DONE);
                        CHECK_MEM(got, r.len, data, len);
                        CHECK_INT(r.warnings, 0);
                    }
                }
            }
        }
    }
    /* Random cuts of both sides, also on defective MIME input. */
    for (int trial = 0; trial < 300; trial++) {
        size_t len = rnd(sizeof data);
        unsigned ef = enc_flag_sets[rnd(N_ENC_FLAGS)], df = dec_flags_for(ef);
        mw_ssize n = mw_b64_encode(data, len, enc, sizeof enc, ef);
        if (n < 0) continue;
        memcpy(enc_copy, enc, (size_t)n);
        if (df & MW_B64_MIME) {
            df |= MW_B64_SKIP_GARBAGE;
            for (int k = 0; k < 3 && n > 0; k++) enc[rnd((size_t)n)] = " \n\r*=A"[rnd(6)];
        }
        outcome whole = run_steps(0, df, MW__B64_SCALAR, (const unsigned char *)enc, (size_t)n, back,
                                  sizeof back, 0, 0);
        int level = mw__b64_level_best() - (int)rnd(2);
        for (int k = 0; k < 4; k++) {
            outcome r = run_steps(0, df, level < 0 ? 0 : level, (const unsigned char *)enc,
                                  (size_t)n, got, 1200, -(int)(1 + rnd(100)), -(int)(1 + rnd(10)));
            CHECK_INT(r.rc, whole.rc);
            CHECK_INT(r.warnings, whole.warnings);
            CHECK_INT(r.err, whole.err);
            CHECK_MEM(got, r.len, back, whole.len);
            r = run_steps(1, ef, level < 0 ? 0 : level, data, len, got, 1200, -(int)(1 + rnd(200)),
                          -(int)(1 + rnd(90)));
            CHECK_INT(r.rc, MW_CODEC_DONE);
            CHECK_MEM(got, r.len, enc_copy, (size_t)n);
        }
    }
    free(got);
}

/* Wrapped text that a mailer may have reshaped: LF line ends, other line
 * lengths, blank lines, trailing spaces. MIME decoding gives the data back. */
static void test_mime_layouts(void)
{
    unsigned char data[2000], *back = mw_test_xmalloc(2000);
    char *enc = mw_test_xmalloc(3000), *text = mw_test_xmalloc(20000);
    static const size_t line_lens[] = {76, 72, 64, 60, 16, 4, 100, 77, 1};
    mw_test_fill(data, sizeof data, &g_seed);
    for (size_t li = 0; li < sizeof line_lens / sizeof line_lens[0]; li++) {
        for (int style = 0; style < 4; style++) {
            size_t len = 1000 + rnd(1000);
            mw_ssize n = mw_b64_encode(data, len, enc, 3000, 0);
            size_t t = 0, col = 0;
            for (size_t i = 0; i < (size_t)n; i++) {
                text[t++] = enc[i];
                if (++col == line_lens[li] || i + 1 == (size_t)n) {
                    if (style == 2) text[t++] = ' ';
                    if (style != 1) text[t++] = '\r';
                    text[t++] = '\n';
                    if (style == 3 && rnd(4) == 0) {
                        text[t++] = '\r';
                        text[t++] = '\n';
                    }
                    col = 0;
                }
            }
            for (int level = 0; level < MW__B64_LEVELS; level++) {
                if (!mw__b64_level_supported(level)) continue;
                size_t off;
                mw_ssize d = mw__b64_decode_level(level, text, t, back, 2000, MW_B64_MIME, &off);
                CHECK_MEM(back, d < 0 ? 0 : (size_t)d, data, len);
                outcome r = run_steps(0, MW_B64_MIME, level, (const unsigned char *)text, t, back,
                                      2000, -80, -70);
                CHECK_INT(r.rc, MW_CODEC_DONE);
                CHECK_MEM(back, r.len, data, len);
                unsigned expect = (style == 1 ? MW_CODEC_WARN_BARE_EOL : 0) |
                                  (style == 2 ? MW_CODEC_WARN_BAD_CHAR : 0) |
                                  (line_lens[li] > 76 ? MW_CODEC_WARN_LONG_LINE : 0);
                if (style == 2 && line_lens[li] >= 76) expect |= MW_CODEC_WARN_LONG_LINE;
                CHECK_INT(r.warnings, expect);
            }
        }
    }
    free(back);
    free(enc);
    free(text);
}

/* ---- kernels against each other ---- */

static void test_levels_differential(void)
{
    size_t cap = 70000;
    unsigned char *data = mw_test_xmalloc(cap), *a = mw_test_xmalloc(cap * 2), *b = mw_test_xmalloc(cap * 2);
    unsigned char *d = mw_test_xmalloc(cap);
    int best = mw__b64_level_best();
    printf("# base64 kernel level here: %d\n", best);
    for (int trial = 0; trial < 60; trial++) {
        size_t len = trial < 40 ? rnd(300) : rnd(cap);
        mw_test_fill(data, len, &g_seed);
        for (size_t f = 0; f < N_ENC_FLAGS; f++) {
            unsigned ef = enc_flag_sets[f];
            mw_ssize ref = mw__b64_encode_level(0, data, len, (char *)a, cap * 2, ef);
            for (int level = 1; level <= best; level++) {
                mw_ssize got = mw__b64_encode_level(level, data, len, (char *)b, cap * 2, ef);
                CHECK_MEM(b, got < 0 ? 0 : (size_t)got, a, ref < 0 ? 0 : (size_t)ref);
                size_t o1, o2;
                mw_ssize d1 = mw__b64_decode_level(0, (char *)a, (size_t)ref, data, cap, dec_flags_for(ef), &o1);
                mw_ssize d2 = mw__b64_decode_level(level, (char *)b, (size_t)got, d, cap, dec_flags_for(ef), &o2);
                CHECK_INT(d1, (mw_ssize)len);
                CHECK_MEM(d, d2 < 0 ? 0 : (size_t)d2, data, d1 < 0 ? 0 : (size_t)d1);
                CHECK_INT(o1, o2);
            }
        }
    }
    /* Every byte value at every place of a block, strict, MIME and URL. */
    static const unsigned modes[] = {0, MW_B64_URL, MW_B64_MIME, MW_B64_MIME | MW_B64_SKIP_GARBAGE};
    char text[100];
    for (size_t m = 0; m < 4; m++) {
        for (size_t pos = 0; pos < 100; pos += (pos < 70 ? 1 : 7)) {
            for (int byte = 0; byte < 256; byte++) {
                for (size_t i = 0; i < 100; i++) text[i] = "QUJD"[(i * 7) % 4];
                text[pos] = (char)byte;
                size_t o1 = 0, o2 = 0;
                mw_ssize d1 = mw__b64_decode_level(0, text, 100, a, 100, modes[m], &o1);
                for (int level = 1; level <= best; level++) {
                    mw_ssize d2 = mw__b64_decode_level(level, text, 100, b, 100, modes[m], &o2);
                    if (d1 != d2 || o1 != o2 || (d1 > 0 && memcmp(a, b, (size_t)d1)))
                        mw_test_fail(__FILE__, __LINE__, "mode %zu pos %zu byte %02x level %d", m, pos,
                                     byte, level);
                }
            }
        }
    }
    free(data);
    free(a);
    free(b);
    free(d);
}

/* Outputs of several MiB take the streaming-store path of the AVX2 kernel:
 * at every output alignment it must agree with the scalar path, and an error
 * deep inside must still be found at its exact offset. */
static void test_huge_buffers(void)
{
    size_t len = (size_t)5 << 20, elen = mw_b64_encoded_len(len, 0);
    unsigned char *data = mw_test_xmalloc(len), *back = mw_test_xmalloc(len + 16);
    char *enc = mw_test_xmalloc(elen + 16), *ref = mw_test_xmalloc(elen);
    mw_test_fill(data, len, &g_seed);
    CHECK_INT(mw__b64_encode_level(MW__B64_SCALAR, data, len, ref, elen, 0), (mw_ssize)elen);
    for (size_t shift = 0; shift < 5; shift++) {
        CHECK_INT(mw_b64_encode(data, len, enc + shift, elen, 0), (mw_ssize)elen);
        CHECK(memcmp(enc + shift, ref, elen) == 0);
        CHECK_INT(mw_b64_decode(ref, elen, back + shift, len, 0, NULL), (mw_ssize)len);
        CHECK(memcmp(back + shift, data, len) == 0);
    }
    size_t pos = elen - 1000 - rnd(1000000);
    ref[pos] = '#';
    size_t off = 0;
    CHECK_INT(mw_b64_decode(ref, elen, back, len, 0, &off), MW_ERR_SYNTAX);
    CHECK_INT(off, pos);
    free(data);
    free(back);
    free(enc);
    free(ref);
}

/* Guard pages right before and right after the buffers: any kernel reading
 * or writing one byte outside the given ranges crashes the test. */
typedef struct guarded {
    unsigned char *map, *lo, *hi; /* lo: first usable byte, hi: one past the last */
    size_t maplen;
} guarded;

static int guarded_open(guarded *g, size_t usable_pages)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    int fd = open("/dev/zero", O_RDWR);
    if (fd < 0) return 0;
    g->maplen = (usable_pages + 2) * page;
    void *m = mmap(NULL, g->maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return 0;
    g->map = m;
    g->lo = g->map + page;
    g->hi = g->lo + usable_pages * page;
    return mprotect(g->map, page, PROT_NONE) == 0 && mprotect(g->hi, page, PROT_NONE) == 0;
}

static void test_guard_pages(void)
{
    guarded gi, go;
    if (!guarded_open(&gi, 2) || !guarded_open(&go, 2)) {
        printf("# guard pages unavailable, skipped\n");
        return;
    }
    unsigned char data[1200];
    char text[1700];
    mw_test_fill(data, sizeof data, &g_seed);
    for (int level = 0; level < MW__B64_LEVELS; level++) {
        if (!mw__b64_level_supported(level)) continue;
        for (size_t len = 0; len <= 1200; len += len < 200 ? 1 : 97) {
            for (int wrap = 0; wrap <= 1; wrap++) {
                unsigned ef = wrap ? MW_B64_WRAP : 0, df = wrap ? MW_B64_MIME : 0;
                size_t elen = mw_b64_encoded_len(len, ef);
                for (int at_end = 0; at_end <= 1; at_end++) {
                    unsigned char *in = at_end ? gi.hi - len : gi.lo;
                    char *out = (char *)(at_end ? go.hi - elen : go.lo);
                    memcpy(in, data, len);
                    CHECK_INT(mw__b64_encode_level(level, in, len, out, elen, ef), (mw_ssize)elen);
                    memcpy(text, out, elen);
                    char *tin = (char *)(at_end ? gi.hi - elen : gi.lo);
                    unsigned char *bout = at_end ? go.hi - len : go.lo;
                    memcpy(tin, text, elen);
                    CHECK_INT(mw__b64_decode_level(level, tin, elen, bout, len, df, NULL), (mw_ssize)len);
                    CHECK(memcmp(bout, data, len) == 0);
                }
            }
        }
    }
    munmap(gi.map, gi.maplen);
    munmap(go.map, go.maplen);
}

/* Output space past what a call produced is never written, even when the
 * input goes bad in the middle of a block or a line. */
static void test_no_stray_writes(void)
{
    unsigned char data[600], out[1000];
    char enc[900];
    mw_test_fill(data, sizeof data, &g_seed);
    static const unsigned flag_sets[] = {0, MW_B64_MIME, MW_B64_MIME | MW_B64_SKIP_GARBAGE};
    for (int wrap = 0; wrap <= 1; wrap++) {
        mw_ssize n = mw_b64_encode(data, sizeof data, enc, sizeof enc, wrap ? MW_B64_WRAP : 0);
        for (int trial = 0; trial < 200; trial++) {
            size_t pos = rnd((size_t)n);
            char saved = enc[pos];
            enc[pos] = "*=\x80 "[rnd(4)];
            for (size_t f = wrap ? 1u : 0u; f < 3; f++) {
                for (int level = 0; level < MW__B64_LEVELS; level++) {
                    if (!mw__b64_level_supported(level)) continue;
                    memset(out, 0xA5, sizeof out);
                    outcome r = run_steps(0, flag_sets[f], level, (const unsigned char *)enc, (size_t)n,
                                          out, sizeof out, 0, 0);
                    size_t k = r.len;
                    while (k < sizeof out && out[k] == 0xA5) k++;
                    if (k != sizeof out)
                        mw_test_fail(__FILE__, __LINE__, "level %d flags %u: byte %zu written past %zu",
                                     level, flag_sets[f], k, r.len);
                }
            }
            enc[pos] = saved;
        }
    }
}

/* The alphabet itself, checked against RFC 4648 Table 1 and Table 2. */
static void test_alphabet_tables(void)
{
    static const char std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    static const char url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    unsigned char data[48];
    char enc[64];
    /* 48 bytes whose sextets are 0, 1, ..., 63. */
    for (int i = 0; i < 16; i++) {
        uint32_t g = (uint32_t)(4 * i) << 18 | (uint32_t)(4 * i + 1) << 12 | (uint32_t)(4 * i + 2) << 6 |
                     (uint32_t)(4 * i + 3);
        data[3 * i] = (unsigned char)(g >> 16);
        data[3 * i + 1] = (unsigned char)(g >> 8);
        data[3 * i + 2] = (unsigned char)g;
    }
    for (int level = 0; level < MW__B64_LEVELS; level++) {
        if (!mw__b64_level_supported(level)) continue;
        CHECK_INT(mw__b64_encode_level(level, data, 48, enc, 64, 0), 64);
        CHECK_MEM(enc, 64, std, 64);
        CHECK_INT(mw__b64_encode_level(level, data, 48, enc, 64, MW_B64_URL), 64);
        CHECK_MEM(enc, 64, url, 64);
        unsigned char back[48];
        CHECK_INT(mw__b64_decode_level(level, std, 64, back, 48, 0, NULL), 48);
        CHECK_MEM(back, 48, data, 48);
        CHECK_INT(mw__b64_decode_level(level, url, 64, back, 48, MW_B64_URL, NULL), 48);
        CHECK_MEM(back, 48, data, 48);
    }
}

int main(void)
{
    MW_RUN(test_rfc4648_vectors);
    MW_RUN(test_alphabets);
    MW_RUN(test_alphabet_tables);
    MW_RUN(test_sizes);
    MW_RUN(test_bad_arguments);
    MW_RUN(test_wrap);
    MW_RUN(test_strict_errors);
    MW_RUN(test_strict_error_offsets_long);
    MW_RUN(test_mime);
    MW_RUN(test_mime_long_line);
    MW_RUN(test_round_trip_all_lengths);
    MW_RUN(test_round_trip_large);
    MW_RUN(test_split_invariance);
    MW_RUN(test_mime_layouts);
    MW_RUN(test_levels_differential);
    MW_RUN(test_huge_buffers);
    MW_RUN(test_guard_pages);
    MW_RUN(test_no_stray_writes);
    return mw_test_finish();
}
