/*
 * mailwire — base64 bulk kernels for SSSE3 (16 characters per step).
 *
 * Encoding spreads each 3-byte group over a 32-bit lane, cuts the four
 * sextets out with two multiplies, and turns sextets into characters by
 * adding a per-range offset chosen with PSHUFB. Decoding classifies every
 * character by its two nibbles (two PSHUFB lookups whose AND is non-zero
 * exactly for bytes outside the alphabet), adds a per-range offset to get
 * sextets, and packs four sextets into three bytes with two multiply-adds.
 * Built with -mssse3 and only called after a CPU check (base64.c).
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

#include <tmmintrin.h>

#define LOADU(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define STOREU(p, v) _mm_storeu_si128((__m128i *)(void *)(p), (v))

/* ---- encoding ---- */

/* Offsets that turn a sextet into its character, indexed by the range
 * code of enc_chars: 0 = 26..51, 1..10 = 52..61, 11 = 62, 12 = 63, 13 = 0..25. */
static __m128i enc_offsets(int url)
{
    return url ? _mm_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -17, 32, 65, 0, 0)
               : _mm_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
}

static inline __m128i enc_chars(__m128i v, __m128i offsets)
{
    __m128i code = _mm_subs_epu8(v, _mm_set1_epi8(51));
    __m128i below26 = _mm_cmpgt_epi8(_mm_set1_epi8(26), v);
    code = _mm_or_si128(code, _mm_and_si128(below26, _mm_set1_epi8(13)));
    return _mm_add_epi8(v, _mm_shuffle_epi8(offsets, code));
}

/* x holds 4 groups laid out by `spread`; returns their 16 characters. */
static inline __m128i enc_block(__m128i x, __m128i spread, __m128i offsets)
{
    /* Each lane becomes bytes [b1 b0 b2 b1]: as 16-bit words, b0:b1 and b1:b2. */
    x = _mm_shuffle_epi8(x, spread);
    __m128i ac = _mm_mulhi_epu16(_mm_and_si128(x, _mm_set1_epi32(0x0FC0FC00)),
                                 _mm_set1_epi32(0x04000040));
    __m128i bd = _mm_mullo_epi16(_mm_and_si128(x, _mm_set1_epi32(0x003F03F0)),
                                 _mm_set1_epi32(0x01000010));
    return enc_chars(_mm_or_si128(ac, bd), offsets);
}

static __m128i spread_at(int skip)
{
    return skip ? _mm_setr_epi8(5, 4, 6, 5, 8, 7, 9, 8, 11, 10, 12, 11, 14, 13, 15, 14)
                : _mm_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
}

size_t mw__b64_enc_ssse3(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    size_t end = n / 3 * 3, i = 0;
    if (n < 16) return 0;
    __m128i offsets = enc_offsets(url), plain = spread_at(0), skip4 = spread_at(1);
    for (; i + 16 <= n; i += 12) STOREU(out + i / 3 * 4, enc_block(LOADU(in + i), plain, offsets));
    /* The last groups: load the 16 bytes ending at the block's end and skip
     * the first 4, so nothing past in[end) is read; blocks may overlap
     * groups already written (same characters again). */
    while (i < end) {
        size_t p = end - i < 12 ? end - 12 : i;
        STOREU(out + p / 3 * 4, enc_block(LOADU(in + p - 4), skip4, offsets));
        i = p + 12;
    }
    return end;
}

void mw__b64_enc_lines_ssse3(const unsigned char *in, size_t nlines, unsigned char *out, int url)
{
    __m128i offsets = enc_offsets(url), plain = spread_at(0), skip4 = spread_at(1);
    for (size_t l = 0; l < nlines; l++, in += MW__B64_LINE_IN, out += MW__B64_LINE_OUT) {
        /* 57 bytes: blocks at 0, 12, 24, 36 and an overlapping one at 45. */
        STOREU(out + 0, enc_block(LOADU(in + 0), plain, offsets));
        STOREU(out + 16, enc_block(LOADU(in + 12), plain, offsets));
        STOREU(out + 32, enc_block(LOADU(in + 24), plain, offsets));
        STOREU(out + 48, enc_block(LOADU(in + 36), plain, offsets));
        STOREU(out + 60, enc_block(LOADU(in + 41), skip4, offsets));
        out[76] = '\r';
        out[77] = '\n';
    }
}

/* ---- decoding ---- */

typedef struct dec_tables {
    __m128i lo, hi, offsets, special, bump;
} dec_tables;

/* Class bits per nibble: a byte is outside the alphabet exactly when
 * lo[low nibble] & hi[high nibble] != 0. Offsets are indexed by the high
 * nibble, bumped for the one character that shares its nibble with a range
 * of another offset ('/' in the standard alphabet, '_' in the URL one). */
static void dec_tables_init(dec_tables *t, int url)
{
    if (url) {
        t->lo = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13,
                              0x3B, 0x3B, 0x3A, 0x3B, 0x33);
        t->hi = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x20, 0x10, 0x10, 0x10,
                              0x10, 0x10, 0x10, 0x10, 0x10);
        t->offsets = _mm_setr_epi8(0, 0, 17, 4, -65, -65, -71, -71, -32, 0, 0, 0, 0, 0, 0, 0);
        t->special = _mm_set1_epi8('_');
        t->bump = _mm_set1_epi8(3);
    } else {
        t->lo = _mm_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13,
                              0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
        t->hi = _mm_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10,
                              0x10, 0x10, 0x10, 0x10, 0x10);
        t->offsets = _mm_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
        t->special = _mm_set1_epi8('/');
        t->bump = _mm_set1_epi8(-1);
    }
}

/* Decode 16 characters; *bad receives non-zero bytes where a character is
 * outside the alphabet. The 12 bytes are in the low part of the result. */
static inline __m128i dec_block(__m128i x, const dec_tables *t, __m128i *bad)
{
    __m128i nib = _mm_set1_epi8(0x0f);
    __m128i hi = _mm_and_si128(_mm_srli_epi32(x, 4), nib);
    __m128i lo = _mm_and_si128(x, nib);
    *bad = _mm_and_si128(_mm_shuffle_epi8(t->lo, lo), _mm_shuffle_epi8(t->hi, hi));
    __m128i code = _mm_add_epi8(hi, _mm_and_si128(_mm_cmpeq_epi8(x, t->special), t->bump));
    __m128i v = _mm_add_epi8(x, _mm_shuffle_epi8(t->offsets, code));
    /* sextets a b c d -> 24-bit a<<18|b<<12|c<<6|d per lane, then bytes 2,1,0. */
    v = _mm_maddubs_epi16(v, _mm_set1_epi32(0x01400140));
    v = _mm_madd_epi16(v, _mm_set1_epi32(0x00011000));
    return _mm_shuffle_epi8(v, _mm_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
}

static inline int all_zero(__m128i v) { return _mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_setzero_si128())) == 0xFFFF; }

static inline void store12(unsigned char *out, __m128i v)
{
    _mm_storel_epi64((__m128i *)(void *)out, v);
    uint32_t last = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(v, 8));
    memcpy(out + 8, &last, 4);
}

size_t mw__b64_dec_ssse3(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    size_t n4 = n & ~(size_t)3, i = 0;
    if (n4 < 16) return 0;
    dec_tables t;
    dec_tables_init(&t, url);
    __m128i bad, v, next;
    v = dec_block(LOADU(in), &t, &bad);
    if (!all_zero(bad)) return 0;
    /* Block i is stored with a full 16-byte store (4 junk bytes) only once
     * block i + 16 is known good: its store covers the junk. */
    for (; i + 32 <= n4; i += 16) {
        next = dec_block(LOADU(in + i + 16), &t, &bad);
        if (!all_zero(bad)) {
            store12(out + i / 4 * 3, v);
            return i + 16;
        }
        STOREU(out + i / 4 * 3, v);
        v = next;
    }
    store12(out + i / 4 * 3, v);
    i += 16;
    if (i < n4) {
        size_t p = n4 - 16; /* overlap the end */
        v = dec_block(LOADU(in + p), &t, &bad);
        if (!all_zero(bad)) return i;
        store12(out + p / 4 * 3, v);
    }
    return n4;
}

size_t mw__b64_dec_lines_ssse3(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                               size_t len, int url)
{
    size_t used = 0, line_out = len / 4 * 3;
    dec_tables t;
    dec_tables_init(&t, url);
    unsigned char tmp[96 / 4 * 3 + 16];
    if (len < 16 || len > 96 || len % 4) return 0;
    while (n - used >= len + 2 && room >= line_out && in[used + len] == '\r' &&
           in[used + len + 1] == '\n') {
        const unsigned char *p = in + used;
        __m128i bad, any = _mm_setzero_si128();
        /* Decode into tmp, so a line with a bad byte writes nothing. */
        for (size_t b = 0; b < len; b += 16) {
            size_t s = len - b < 16 ? len - 16 : b;
            STOREU(tmp + s / 4 * 3, dec_block(LOADU(p + s), &t, &bad));
            any = _mm_or_si128(any, bad);
        }
        if (!all_zero(any)) break;
        memcpy(out, tmp, line_out);
        out += line_out;
        room -= line_out;
        used += len + 2;
    }
    return used;
}
