/*
 * mailwire — base64 bulk kernels for AVX2 (32 characters per step).
 *
 * The same method as base64_ssse3.c on two 128-bit lanes at once: VPSHUFB
 * works inside each lane, so every table is the 16-byte table repeated, and
 * decoded lanes (12 bytes each) are closed up with one VPERMD. Built with
 * -mavx2 and only called after a CPU check (base64.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

#include <immintrin.h>

#define LOADU128(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define LOADU(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define STOREU(p, v) _mm256_storeu_si256((__m256i *)(void *)(p), (v))
#define BOTH_LANES(...) _mm256_broadcastsi128_si256(_mm_setr_epi8(__VA_ARGS__))

/* ---- encoding ---- */

static __m256i enc_offsets(int url)
{
    return url ? BOTH_LANES(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -17, 32, 65, 0, 0)
               : BOTH_LANES(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
}

static inline __m256i enc_chars(__m256i v, __m256i offsets)
{
    __m256i code = _mm256_subs_epu8(v, _mm256_set1_epi8(51));
    __m256i below26 = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), v);
    code = _mm256_or_si256(code, _mm256_and_si256(below26, _mm256_set1_epi8(13)));
    return _mm256_add_epi8(v, _mm256_shuffle_epi8(offsets, code));
}

/* Encode the 24 bytes at in (exactly those are read) into 32 characters:
 * the low lane takes bytes 0..11 from a load at in, the high lane bytes
 * 12..23 from a load at in + 8 (skipping its first 4). */
static inline __m256i enc_block(const unsigned char *in, __m256i offsets)
{
    __m256i x = _mm256_inserti128_si256(_mm256_castsi128_si256(LOADU128(in)), LOADU128(in + 8), 1);
    x = _mm256_shuffle_epi8(x, _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
                                                5, 4, 6, 5, 8, 7, 9, 8, 11, 10, 12, 11, 14, 13, 15, 14));
    __m256i ac = _mm256_mulhi_epu16(_mm256_and_si256(x, _mm256_set1_epi32(0x0FC0FC00)),
                                    _mm256_set1_epi32(0x04000040));
    __m256i bd = _mm256_mullo_epi16(_mm256_and_si256(x, _mm256_set1_epi32(0x003F03F0)),
                                    _mm256_set1_epi32(0x01000010));
    return enc_chars(_mm256_or_si256(ac, bd), offsets);
}

/* Outputs this large cannot stay in cache anyway: write them with
 * streaming stores, which skip reading the destination lines first (the
 * same choice memcpy makes for large copies). */
#define STREAM_MIN ((size_t)4 << 20)

size_t mw__b64_enc_avx2(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    size_t end = n / 3 * 3, i = 0;
    if (end < 24) return 0;
    __m256i offsets = enc_offsets(url);
    if (end >= STREAM_MIN && ((uintptr_t)out & 3) == 0) {
        /* Groups of 4 characters until out + i / 3 * 4 is 32-byte aligned. */
        i = (((32 - ((uintptr_t)out & 31)) & 31) / 4) * 3;
        mw__b64_enc_scalar(in, i, out, url);
        for (; i + 48 <= end; i += 48) {
            __m256i a = enc_block(in + i, offsets), b = enc_block(in + i + 24, offsets);
            _mm256_stream_si256((__m256i *)(void *)(out + i / 3 * 4), a);
            _mm256_stream_si256((__m256i *)(void *)(out + i / 3 * 4 + 32), b);
        }
        _mm_sfence();
    }
    for (; i + 48 <= end; i += 48) {
        STOREU(out + i / 3 * 4, enc_block(in + i, offsets));
        STOREU(out + i / 3 * 4 + 32, enc_block(in + i + 24, offsets));
    }
    for (; i + 24 <= end; i += 24) STOREU(out + i / 3 * 4, enc_block(in + i, offsets));
    if (i < end) STOREU(out + (end - 24) / 3 * 4, enc_block(in + end - 24, offsets)); /* overlap */
    return end;
}

void mw__b64_enc_lines_avx2(const unsigned char *in, size_t nlines, unsigned char *out, int url)
{
    __m256i offsets = enc_offsets(url);
    for (size_t l = 0; l < nlines; l++, in += MW__B64_LINE_IN, out += MW__B64_LINE_OUT) {
        /* 57 bytes: blocks at 0 and 24 and an overlapping one at 33. */
        __m256i a = enc_block(in, offsets), b = enc_block(in + 24, offsets);
        __m256i c = enc_block(in + 33, offsets);
        STOREU(out, a);
        STOREU(out + 32, b);
        STOREU(out + 44, c);
        out[76] = '\r';
        out[77] = '\n';
    }
}

/* ---- decoding ---- */

typedef struct dec_tables {
    __m256i lo, hi, offsets, special, bump;
} dec_tables;

/* See base64_ssse3.c for how the class bits and offsets are laid out. */
static void dec_tables_init(dec_tables *t, int url)
{
    if (url) {
        t->lo = BOTH_LANES(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x3B,
                           0x3B, 0x3A, 0x3B, 0x33);
        t->hi = BOTH_LANES(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x20, 0x10, 0x10, 0x10, 0x10,
                           0x10, 0x10, 0x10, 0x10);
        t->offsets = BOTH_LANES(0, 0, 17, 4, -65, -65, -71, -71, -32, 0, 0, 0, 0, 0, 0, 0);
        t->special = _mm256_set1_epi8('_');
        t->bump = _mm256_set1_epi8(3);
    } else {
        t->lo = BOTH_LANES(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A,
                           0x1B, 0x1B, 0x1B, 0x1A);
        t->hi = BOTH_LANES(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10,
                           0x10, 0x10, 0x10, 0x10);
        t->offsets = BOTH_LANES(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
        t->special = _mm256_set1_epi8('/');
        t->bump = _mm256_set1_epi8(-1);
    }
}

/* Decode 32 characters into 24 bytes at the start of the result; *bad gets
 * non-zero bytes where a character is outside the alphabet. */
static inline __m256i dec_block(__m256i x, const dec_tables *t, __m256i *bad)
{
    __m256i nib = _mm256_set1_epi8(0x0f);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi32(x, 4), nib);
    __m256i lo = _mm256_and_si256(x, nib);
    *bad = _mm256_and_si256(_mm256_shuffle_epi8(t->lo, lo), _mm256_shuffle_epi8(t->hi, hi));
    __m256i code = _mm256_add_epi8(hi, _mm256_and_si256(_mm256_cmpeq_epi8(x, t->special), t->bump));
    __m256i v = _mm256_add_epi8(x, _mm256_shuffle_epi8(t->offsets, code));
    v = _mm256_maddubs_epi16(v, _mm256_set1_epi32(0x01400140));
    v = _mm256_madd_epi16(v, _mm256_set1_epi32(0x00011000));
    v = _mm256_shuffle_epi8(v, BOTH_LANES(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
    return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7));
}

static inline void store24(unsigned char *out, __m256i v)
{
    _mm_storeu_si128((__m128i *)(void *)out, _mm256_castsi256_si128(v));
    _mm_storel_epi64((__m128i *)(void *)(out + 16), _mm256_extracti128_si256(v, 1));
}

/* Streaming decode of 64-character rounds into 16-byte aligned output
 * (48 bytes = three aligned stores). Returns the characters consumed. */
static size_t dec_stream(const unsigned char *in, size_t n4, unsigned char *out, const dec_tables *t)
{
    size_t i = 0;
    __m256i bad0, bad1;
    for (; i + 64 <= n4; i += 64) {
        __m256i v0 = dec_block(LOADU(in + i), t, &bad0);
        __m256i v1 = dec_block(LOADU(in + i + 32), t, &bad1);
        if (!_mm256_testz_si256(_mm256_or_si256(bad0, bad1), _mm256_or_si256(bad0, bad1))) break;
        __m128i lo1 = _mm256_castsi256_si128(v1);
        __m128i *o = (__m128i *)(void *)(out + i / 4 * 3);
        _mm_stream_si128(o, _mm256_castsi256_si128(v0));
        _mm_stream_si128(o + 1, _mm_unpacklo_epi64(_mm256_extracti128_si256(v0, 1), lo1));
        _mm_stream_si128(o + 2, _mm_alignr_epi8(_mm256_extracti128_si256(v1, 1), lo1, 8));
    }
    _mm_sfence();
    return i;
}

size_t mw__b64_dec_avx2(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    size_t n4 = n & ~(size_t)3, i = 0;
    if (n4 < 32) return 0;
    dec_tables t;
    dec_tables_init(&t, url);
    if (n4 >= STREAM_MIN) {
        /* Quads until the output is 16-byte aligned (11 * 3 = 1 mod 16). */
        size_t quads = ((16 - ((uintptr_t)out & 15)) & 15) * 11 % 16;
        i = mw__b64_dec_scalar(in, quads * 4, out, url);
        if (i < quads * 4) return i;
        i += dec_stream(in + i, n4 - i, out + i / 4 * 3, &t);
    }
    if (i + 32 > n4) return i;
    __m256i bad, v, next;
    v = dec_block(LOADU(in + i), &t, &bad);
    if (!_mm256_testz_si256(bad, bad)) return i;
    /* Block i is stored with a full 32-byte store (8 junk bytes) only once
     * block i + 32 is known good: its store covers the junk. */
    for (; i + 64 <= n4; i += 32) {
        next = dec_block(LOADU(in + i + 32), &t, &bad);
        if (!_mm256_testz_si256(bad, bad)) {
            store24(out + i / 4 * 3, v);
            return i + 32;
        }
        STOREU(out + i / 4 * 3, v);
        v = next;
    }
    store24(out + i / 4 * 3, v);
    i += 32;
    if (i < n4) {
        size_t p = n4 - 32; /* overlap the end */
        v = dec_block(LOADU(in + p), &t, &bad);
        if (!_mm256_testz_si256(bad, bad)) return i;
        store24(out + p / 4 * 3, v);
    }
    return n4;
}

/* Store a decoded block at out: all 32 bytes when the 8 junk bytes land
 * where a later block of the same line writes (junk_ok), else exactly 24. */
static inline void store_block(unsigned char *out, __m256i v, int junk_ok)
{
    if (junk_ok)
        STOREU(out, v);
    else
        store24(out, v);
}

size_t mw__b64_dec_lines_avx2(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                              size_t len, int url)
{
    size_t used = 0, line_out = len / 4 * 3;
    if (len < 32) return mw__b64_dec_lines_ssse3(in, n, out, room, len, url);
    if (len > 96 || len % 4) return 0;
    dec_tables t;
    dec_tables_init(&t, url);
    /* Up to three blocks per line, the last one ending at the line's end;
     * all are checked before any byte of the line is stored. */
    size_t last = len - 32, mid = len > 64 ? 32 : last;
    int blocks = len == 32 ? 1 : len <= 64 ? 2 : 3;
    int full0 = line_out >= 32, full1 = line_out >= 56;
    while (n - used >= len + 2 && room >= line_out && in[used + len] == '\r' &&
           in[used + len + 1] == '\n') {
        const unsigned char *p = in + used;
        __m256i b0, b1, b2, v0, v1, v2;
        v0 = dec_block(LOADU(p), &t, &b0);
        if (blocks == 1) {
            if (!_mm256_testz_si256(b0, b0)) break;
            store24(out, v0);
        } else if (blocks == 2) {
            v1 = dec_block(LOADU(p + last), &t, &b1);
            b0 = _mm256_or_si256(b0, b1);
            if (!_mm256_testz_si256(b0, b0)) break;
            store_block(out, v0, full0);
            store24(out + last / 4 * 3, v1);
        } else {
            v1 = dec_block(LOADU(p + mid), &t, &b1);
            v2 = dec_block(LOADU(p + last), &t, &b2);
            b0 = _mm256_or_si256(b0, _mm256_or_si256(b1, b2));
            if (!_mm256_testz_si256(b0, b0)) break;
            store_block(out, v0, full0);
            store_block(out + mid / 4 * 3, v1, full1);
            store24(out + last / 4 * 3, v2);
        }
        out += line_out;
        room -= line_out;
        used += len + 2;
    }
    return used;
}
