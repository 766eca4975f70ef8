/*
 * Quoted-printable encoder: every fast-path level (the 16-byte loop, the
 * AVX-512 kernel where the CPU has it) against the byte-level machine
 * (MW__QP_LEVEL_BYTE), byte for byte, on random text and binary data, at
 * every length 0..300 and four input alignments, under every option
 * combination, whole and in pieces, with small output space, and with a
 * canary right after the output space of every call.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mw_test.h"

#include "codec/codec_internal.h"

#include <stdlib.h>

#define CANARY 0xA5u
#define CANARY_SPAN 256u

static const unsigned flag_sets[] = {
    0,
    MW_QP_DOT,
    MW_QP_FROM,
    MW_QP_DOT | MW_QP_FROM,
    MW_QP_LF_EOL,
    MW_QP_LF_EOL | MW_QP_DOT | MW_QP_FROM,
    MW_QP_BINARY,
    MW_QP_BINARY | MW_QP_DOT | MW_QP_FROM,
};
#define N_FLAG_SETS (sizeof flag_sets / sizeof flag_sets[0])

/* Text built from the pieces the encoder decides on: white space before
 * CRLF / LF / CR / the end, '=', 8-bit bytes, line starts with '.' and
 * "From ", lines of lengths around the 76-column limit, long plain runs. */
static size_t gen_text(uint64_t *rng, unsigned char *buf, size_t len)
{
    static const char *pieces[] = {
        "The quick brown fox jumps over the lazy dog",
        "plain", " ", "\t", "\r\n", "\n", "\r", " \r\n", "\t\n", "=", ".", "From ", "From",
        "\r\n.", "\r\nFrom ", "\nFrom x", "\n.", "\xc3\xa9", "\x00", "\x7f", "~!", "  \r\n",
        "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl", "F",
    };
    unsigned bias = (unsigned)(mw_test_rand(rng) % 4);
    size_t n = 0;
    while (n < len) {
        size_t k = (size_t)(mw_test_rand(rng) % (sizeof pieces / sizeof pieces[0]));
        if (bias == 0 && mw_test_rand(rng) % 3) k = 0;   /* mostly prose */
        if (bias == 1 && mw_test_rand(rng) % 3) k = 22;  /* long lines */
        const char *s = pieces[k];
        size_t l = s[0] ? strlen(s) : 1;
        if (bias == 2 && mw_test_rand(rng) % 4 == 0) { /* a line of a chosen length */
            size_t w = 70 + (size_t)(mw_test_rand(rng) % 10);
            for (size_t i = 0; i < w && n < len; i++) buf[n++] = (unsigned char)('a' + i % 26);
            s = "\r\n";
            l = 2;
        }
        for (size_t i = 0; i < l && n < len; i++) buf[n++] = (unsigned char)s[i];
    }
    return n;
}

static void gen_binary(uint64_t *rng, unsigned char *buf, size_t len)
{
    unsigned kind = (unsigned)(mw_test_rand(rng) % 3);
    for (size_t i = 0; i < len; i++) {
        unsigned r = (unsigned)mw_test_rand(rng);
        if (kind == 1 && r % 4) r = 'a' + r % 26u;         /* mostly plain */
        else if (kind == 2 && r % 3 == 0) r = (unsigned char)" \t\r\n="[r % 5u]; /* specials */
        buf[i] = (unsigned char)r;
    }
}

typedef struct enc_run {
    int rc;
    size_t len;
    int canary_ok;
} enc_run;

/* Encode in[0..len) at level, in pieces of in_chunk bytes (0: whole;
 * SIZE_MAX: random 1..8) with out_chunk bytes of output space per call
 * (0: all of cap; SIZE_MAX: random 1..9; else that many, or random
 * 100..300 when out_chunk is 1000). out holds cap + CANARY_SPAN bytes. */
static enc_run encode_at(int level, unsigned flags, const unsigned char *in, size_t len,
                         unsigned char *out, size_t cap, size_t in_chunk, size_t out_chunk,
                         uint64_t *rng)
{
    enc_run r = {0, 0, 1};
    mw_codec c;
    memset(out, CANARY, cap + CANARY_SPAN);
    CHECK_INT(mw_qp_encode_init(&c, flags), MW_OK);
    CHECK_INT(mw__qp_enc_set_level(&c, level), MW_OK);
    size_t off = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        size_t n = len - off;
        if (in_chunk == SIZE_MAX) n = n < 8 ? n : 1 + (size_t)(mw_test_rand(rng) % 8);
        else if (in_chunk && n > in_chunk) n = in_chunk;
        size_t room = cap - (size_t)c.total_out;
        size_t give = room;
        if (out_chunk == SIZE_MAX) give = 1 + (size_t)(mw_test_rand(rng) % 9);
        else if (out_chunk == 1000) give = 100 + (size_t)(mw_test_rand(rng) % 201);
        else if (out_chunk) give = out_chunk;
        if (give > room) give = room;
        c.next_in = n ? in + off : NULL;
        c.avail_in = n;
        c.next_out = out + c.total_out;
        c.avail_out = give;
        unsigned char *end = c.next_out + give;
        int fin = off + n == len;
        r.rc = mw_qp_encode_step(&c, fin);
        off += n - c.avail_in;
        for (size_t i = 0; i < CANARY_SPAN && end + i < out + cap + CANARY_SPAN; i++)
            if (end[i] != CANARY) r.canary_ok = 0;
        /* the call may use its own space as scratch: restore the canary */
        memset(out + c.total_out, CANARY, (size_t)(end - (out + c.total_out)));
        if (r.rc < 0 || (fin && r.rc == MW_CODEC_DONE)) break;
        if (!give && c.total_out == cap) break;
    }
    r.len = (size_t)c.total_out;
    return r;
}

static int levels_checked;

/* Compare every level with BYTE on one input, several ways of feeding it. */
static void compare_levels(const unsigned char *in, size_t len, unsigned flags, uint64_t *rng,
                           int quick)
{
    size_t cap = mw_qp_encoded_max(len, flags) + 8;
    unsigned char *ref = malloc(cap + CANARY_SPAN), *got = malloc(cap + CANARY_SPAN);
    CHECK(ref && got);
    if (!ref || !got) goto done;
    enc_run want = encode_at(MW__QP_LEVEL_BYTE, flags, in, len, ref, cap, 0, 0, rng);
    CHECK_INT(want.rc, MW_CODEC_DONE);
    static const size_t in_ways[] = {0, 0, SIZE_MAX, 0, 97, 65, 0};
    static const size_t out_ways[] = {0, 1000, SIZE_MAX, 144, 0, 1000, 145};
    size_t ways = quick ? 2 : sizeof in_ways / sizeof in_ways[0];
    for (int level = MW__QP_LEVEL_BLOCK; level < MW__QP_LEVELS; level++) {
        if (!mw__qp_enc_level_supported(level)) continue;
        for (size_t w = 0; w < ways; w++) {
            enc_run r = encode_at(level, flags, in, len, got, cap, in_ways[w], out_ways[w], rng);
            levels_checked++;
            int ok = r.rc == MW_CODEC_DONE && r.len == want.len && r.canary_ok &&
                     memcmp(got, ref, want.len) == 0;
            CHECK(ok);
            if (!ok) {
                printf("  level %d way %zu len %zu flags %u: rc %d out %zu want %zu canary %d\n",
                       level, w, len, flags, r.rc, r.len, want.len, r.canary_ok);
                goto done;
            }
        }
    }
done:
    free(ref);
    free(got);
}

static void test_every_length(void)
{
    static unsigned char buf[300 + 8];
    uint64_t rng = 0x51e7a11ull;
    for (size_t f = 0; f < N_FLAG_SETS; f++) {
        unsigned flags = flag_sets[f];
        for (size_t len = 0; len <= 300; len++) {
            size_t align = len % 4;
            unsigned char *in = buf + align;
            if (flags & MW_QP_BINARY) gen_binary(&rng, in, len);
            else gen_text(&rng, in, len);
            compare_levels(in, len, flags, &rng, len % 5 != 0);
        }
    }
}

static void test_long_inputs(void)
{
    enum { MAXLEN = 6000 };
    unsigned char *buf = malloc(MAXLEN + 8);
    CHECK(buf != NULL);
    if (!buf) return;
    uint64_t rng = 0xfeedbeefull;
    for (int iter = 0; iter < 96; iter++) {
        unsigned flags = flag_sets[(size_t)iter % N_FLAG_SETS];
        size_t len = 300 + (size_t)(mw_test_rand(&rng) % (MAXLEN - 300));
        unsigned char *in = buf + iter % 4;
        if (flags & MW_QP_BINARY) gen_binary(&rng, in, len);
        else gen_text(&rng, in, len);
        compare_levels(in, len, flags, &rng, 0);
    }
    free(buf);
}

/* Hand-picked cases for the column logic: lines that end at columns 74..77
 * with and without escapes, white space at the limit, hard breaks right
 * after the 76th column. */
static void test_column_edges(void)
{
    static unsigned char in[400];
    uint64_t rng = 7;
    static const char *tails[] = {"\r\n", "\n", " \r\n", "=\r\n", "\xe9\r\n", "\xe9", " ", "x",
                                  "=", "\t\n", ".", "\r\nFrom x", "\r\n.x"};
    for (size_t f = 0; f < N_FLAG_SETS; f++)
        for (size_t pre = 60; pre < 80; pre++)
            for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
                size_t n = 0;
                for (size_t i = 0; i < pre; i++) in[n++] = (unsigned char)(i % 7 == 3 ? '=' : 'a' + i % 26);
                memcpy(in + n, tails[t], strlen(tails[t]));
                n += strlen(tails[t]);
                for (; n < 260; n++) in[n] = (unsigned char)('A' + n % 26);
                compare_levels(in, n, flag_sets[f], &rng, 1);
                /* the same line without escapes */
                for (size_t i = 0; i < pre; i++) in[i] = (unsigned char)('a' + i % 26);
                compare_levels(in, n, flag_sets[f], &rng, 1);
            }
}

static void test_level_api(void)
{
    mw_codec c;
    CHECK_INT(mw_qp_encode_init(&c, 0), MW_OK);
    CHECK_INT(mw__qp_enc_set_level(NULL, MW__QP_LEVEL_BYTE), MW_ERR_INVALID);
    CHECK_INT(mw__qp_enc_set_level(&c, -1), MW_ERR_INVALID);
    CHECK_INT(mw__qp_enc_set_level(&c, MW__QP_LEVELS), MW_ERR_INVALID);
    CHECK_INT(mw__qp_enc_level_supported(MW__QP_LEVEL_BYTE), 1);
    CHECK_INT(mw__qp_enc_level_supported(MW__QP_LEVEL_BLOCK), 1);
    CHECK_INT(mw__qp_enc_level_supported(MW__QP_LEVEL_SSSE3), 0); /* no such encoder */
    CHECK_INT(mw__qp_enc_set_level(&c, MW__QP_LEVEL_SSSE3), MW_ERR_UNSUPPORTED);
    int best = mw__qp_enc_level_best();
    CHECK(best >= MW__QP_LEVEL_BLOCK);
    CHECK_INT(mw__qp_enc_level_supported(best), 1);
    CHECK_INT(mw__qp_enc_set_level(&c, best), MW_OK);
    printf("  best encoder level here: %d\n", best);
}

int main(void)
{
    MW_RUN(test_level_api);
    MW_RUN(test_column_edges);
    MW_RUN(test_every_length);
    MW_RUN(test_long_inputs);
    printf("  %d level runs compared\n", levels_checked);
    return mw_test_finish();
}
