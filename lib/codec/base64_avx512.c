/*
 * mailwire — base64 bulk kernels for AVX-512 VBMI (64 characters per step).
 *
 * With VBMI a byte permute reaches across the whole 64-byte register:
 * encoding spreads 48 bytes over 16 lanes with one VPERMB, cuts the four
 * sextets of each lane out with one VPMULTISHIFTQB, and maps sextets to
 * characters with one more VPERMB over the 64-character alphabet. Decoding
 * maps characters to sextets with one VPERMI2B over a 128-entry table (0x80
 * marks bytes outside the alphabet; bytes >= 0x80 are caught by their own
 * top bit), packs them with two multiply-adds, and closes up the 48 bytes
 * with a VPERMB. Buffer ends use masked loads and stores, so nothing
 * outside the given ranges is touched.
 *
 * The build gives no -m flag to this file: the functions carry a target
 * attribute, and base64.c calls them only after a CPU check.
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

#if defined(MW_HAVE_X86_SIMD) && (defined(__GNUC__) || defined(__clang__))

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vbmi"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vbmi")
#endif

#include <immintrin.h>

#define LOADU(p) _mm512_loadu_si512((const void *)(p))
#define LOW_BITS(n) ((__mmask64)(((uint64_t)1 << (n)) - 1)) /* n < 64 */
#define ALL48 LOW_BITS(48)
/* Outputs this large are left to the AVX2 kernel's streaming stores. */
#define STREAM_MIN ((size_t)4 << 20)

static const unsigned char alphabets[2][64] = {
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
};

/* Byte k of the encoder's lanes: group k / 4 as [b1 b0 b2 b1]. */
static const unsigned char spread_idx[64] = {
    1,  0,  2,  1,  4,  3,  5,  4,  7,  6,  8,  7,  10, 9,  11, 10, 13, 12, 14, 13, 16, 15,
    17, 16, 19, 18, 20, 19, 22, 21, 23, 22, 25, 24, 26, 25, 28, 27, 29, 28, 31, 30, 32, 31,
    34, 33, 35, 34, 37, 36, 38, 37, 40, 39, 41, 40, 43, 42, 44, 43, 46, 45, 47, 46,
};

/* Decoded lanes hold a group as bytes 2, 1, 0: gather them in order. */
static const unsigned char pack_idx[64] = {
    2,  1,  0,  6,  5,  4,  10, 9,  8,  14, 13, 12, 18, 17, 16, 22, 21, 20, 26, 25, 24, 30,
    29, 28, 34, 33, 32, 38, 37, 36, 42, 41, 40, 46, 45, 44, 50, 49, 48, 54, 53, 52, 58, 57,
    56, 62, 61, 60,
};

/* Sextet value of each ASCII byte, 0x80 outside the alphabet (RFC 4648
 * Tables 1 and 2). */
#define X 0x80
static const unsigned char values[2][128] = {
    {
        X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* 0x00 */
        X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* 0x10 */
        X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,  X,  63, /* 0x20: + / */
        52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,  /* 0x30: 0-9 */
        X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, /* 0x40: A-O */
        15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  X,  /* 0x50: P-Z */
        X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* 0x60: a-o */
        41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,  /* 0x70: p-z */
    },
    {
        X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* 0x00 */
        X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  /* 0x10 */
        X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  62, X,  X,  /* 0x20: - */
        52, 53, 54, 55, 56, 57, 58, 59, 60, 61, X,  X,  X,  X,  X,  X,  /* 0x30: 0-9 */
        X,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, /* 0x40: A-O */
        15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, X,  X,  X,  X,  63, /* 0x50: P-Z _ */
        X,  26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, /* 0x60: a-o */
        41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, X,  X,  X,  X,  X,  /* 0x70: p-z */
    },
};
#undef X

/* ---- encoding ---- */

typedef struct enc_tables {
    __m512i spread, shifts, alphabet;
} enc_tables;

static void enc_tables_init(enc_tables *t, int url)
{
    t->spread = LOADU(spread_idx);
    /* A lane [b1 b0 b2 b1] read as a 32-bit word has sextet a at bit 10, b
     * at 4, c at 22 and d at 16 (32 more for the odd lane of the qword). */
    t->shifts = _mm512_set1_epi64(0x3036242a1016040aLL);
    t->alphabet = LOADU(alphabets[url != 0]);
}

static inline __m512i enc_block(__m512i x, const enc_tables *t)
{
    x = _mm512_permutexvar_epi8(t->spread, x);
    x = _mm512_multishift_epi64_epi8(t->shifts, x);
    return _mm512_permutexvar_epi8(x, t->alphabet); /* uses the low 6 bits */
}

size_t mw__b64_enc_avx512(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    size_t end = n / 3 * 3, i = 0;
    if (end >= STREAM_MIN) return mw__b64_enc_avx2(in, n, out, url);
    enc_tables t;
    enc_tables_init(&t, url);
    for (; i + 48 <= end; i += 48)
        _mm512_storeu_si512((void *)(out + i / 3 * 4),
                            enc_block(_mm512_maskz_loadu_epi8(ALL48, in + i), &t));
    if (i < end) {
        size_t rest = end - i;
        __m512i x = _mm512_maskz_loadu_epi8(LOW_BITS(rest), in + i);
        _mm512_mask_storeu_epi8(out + i / 3 * 4, LOW_BITS(rest / 3 * 4), enc_block(x, &t));
    }
    return end;
}

void mw__b64_enc_lines_avx512(const unsigned char *in, size_t nlines, unsigned char *out, int url)
{
    enc_tables t;
    enc_tables_init(&t, url);
    for (size_t l = 0; l < nlines; l++, in += MW__B64_LINE_IN, out += MW__B64_LINE_OUT) {
        /* 57 bytes: 48 into 64 characters, then 9 into 12. */
        _mm512_storeu_si512((void *)out, enc_block(_mm512_maskz_loadu_epi8(ALL48, in), &t));
        __m512i x = _mm512_maskz_loadu_epi8(LOW_BITS(9), in + 48);
        _mm512_mask_storeu_epi8(out + 64, LOW_BITS(12), enc_block(x, &t));
        out[76] = '\r';
        out[77] = '\n';
    }
}

/* ---- decoding ---- */

typedef struct dec_tables {
    __m512i lo, hi, pack, fill;
} dec_tables;

static void dec_tables_init(dec_tables *t, int url)
{
    t->lo = LOADU(values[url != 0]);
    t->hi = LOADU(values[url != 0] + 64);
    t->pack = LOADU(pack_idx);
    t->fill = _mm512_set1_epi8('A'); /* a valid character for unused lanes */
}

/* Decode 64 characters into 48 bytes at the start of the result; *bad gets
 * a bit for every character outside the alphabet. */
static inline __m512i dec_block(__m512i x, const dec_tables *t, __mmask64 *bad)
{
    __m512i v = _mm512_permutex2var_epi8(t->lo, x, t->hi);
    *bad = _mm512_movepi8_mask(_mm512_or_si512(v, x));
    v = _mm512_maddubs_epi16(v, _mm512_set1_epi32(0x01400140));
    v = _mm512_madd_epi16(v, _mm512_set1_epi32(0x00011000));
    return _mm512_permutexvar_epi8(t->pack, v);
}

size_t mw__b64_dec_avx512(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    size_t n4 = n & ~(size_t)3, i = 0;
    if (n4 >= STREAM_MIN) return mw__b64_dec_avx2(in, n, out, url);
    dec_tables t;
    dec_tables_init(&t, url);
    __mmask64 bad;
    for (; i + 64 <= n4; i += 64) {
        __m512i v = dec_block(LOADU(in + i), &t, &bad);
        if (bad) return i;
        _mm512_mask_storeu_epi8(out + i / 4 * 3, ALL48, v);
    }
    if (i < n4) {
        size_t rest = n4 - i;
        __m512i v = dec_block(_mm512_mask_loadu_epi8(t.fill, LOW_BITS(rest), in + i), &t, &bad);
        if (bad) return i;
        _mm512_mask_storeu_epi8(out + i / 4 * 3, LOW_BITS(rest / 4 * 3), v);
    }
    return n4;
}

size_t mw__b64_dec_lines_avx512(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                                size_t len, int url)
{
    size_t used = 0, line_out = len / 4 * 3;
    if (len < 16 || len > 96 || len % 4) return 0;
    dec_tables t;
    dec_tables_init(&t, url);
    /* A line is one block of up to 64 characters and maybe a second one;
     * both are checked before any byte of the line is stored. */
    size_t first = len < 64 ? len : 64, second = len - first;
    __mmask64 m1 = first == 64 ? ~(__mmask64)0 : LOW_BITS(first), m2 = LOW_BITS(second);
    __mmask64 o1 = LOW_BITS(first / 4 * 3), o2 = LOW_BITS(second / 4 * 3);
    while (n - used >= len + 2 && room >= line_out && in[used + len] == '\r' &&
           in[used + len + 1] == '\n') {
        const unsigned char *p = in + used;
        __mmask64 bad1, bad2 = 0;
        __m512i v1 = dec_block(_mm512_mask_loadu_epi8(t.fill, m1, p), &t, &bad1), v2 = v1;
        if (second) v2 = dec_block(_mm512_mask_loadu_epi8(t.fill, m2, p + 64), &t, &bad2);
        if (bad1 | bad2) break;
        _mm512_mask_storeu_epi8(out, o1, v1);
        if (second) _mm512_mask_storeu_epi8(out + 48, o2, v2);
        out += line_out;
        room -= line_out;
        used += len + 2;
    }
    return used;
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else
typedef int mw__b64_avx512_unused; /* keeps the translation unit non-empty */
#endif
