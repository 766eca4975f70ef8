/*
 * mailwire — quoted-printable decoding, 64 bytes per step with AVX-512
 * (BW for the byte compares, VBMI for the cross-lane byte permutes, VBMI2
 * for VPCOMPRESSB).
 *
 * Every block is handled the same way, whatever it holds, so text where
 * one block in two or three has an escape costs no unpredictable branch:
 * '=', CR, LF and white space become bit masks; the block is accepted when
 * every CR starts a CRLF, every LF ends one, no hard break has white space
 * right before it, and every '=' is a soft break ("=" CRLF) or is followed
 * by two hex digits. The two digits after each '=' are read with byte
 * permutes, the decoded byte replaces the '=', and VPCOMPRESSB drops the
 * digits and the soft breaks. A block that does not pass goes back to the
 * caller, whose 16-byte and byte-level paths hold the exact rules; this
 * kernel only takes decisions the byte-level machine would take.
 *
 * The build gives no -m flag to this file: the functions carry a target
 * attribute, and qp.c calls them only after a CPU check.
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

#if MW__QP_AVX512

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,popcnt")
#endif

#include <immintrin.h>

/* Hex digit value of each ASCII byte, 0x80 for anything else: strict
 * (0-9, A-F), lenient (also a-f, RFC 2045 §6.7 rule 1). Bytes >= 0x80 are
 * caught by their own top bit. */
#define X 0x80
static const unsigned char hex_table[2][128] = {
    {
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, X, X, X, X, X, X,
        X, 10, 11, 12, 13, 14, 15, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    },
    {
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, X, X, X, X, X, X,
        X, 10, 11, 12, 13, 14, 15, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
        X, 10, 11, 12, 13, 14, 15, X, X, X, X, X, X, X, X, X,
        X, X, X, X, X, X, X, X, X, X, X, X, X, X, X, X,
    },
};
#undef X

/* Byte i of the permute index vectors: i + 1 and i + 2 (the lanes that
 * would reach past the register are never used). */
static const unsigned char next1[64] = {
    1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
    23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 0,
};
static const unsigned char next2[64] = {
    2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23,
    24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45,
    46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 0,  1,
};

/* A block owns its first 62 bytes; the last two are lookahead for tokens
 * that start in the owned part ("=XX", "=" CRLF, CRLF). Blocks advance by
 * a constant, so the next load never waits for this block's masks. */
#define STEP 62u
#define OWN (((uint64_t)1 << STEP) - 1)

size_t mw__qp_dec_run_avx512(const unsigned char *p, size_t n, unsigned char *o, int strict,
                             int prev_ws, size_t *made, size_t *run_off, size_t *bare_lf)
{
    const __m512i c_eq = _mm512_set1_epi8('='), c_cr = _mm512_set1_epi8('\r');
    const __m512i c_lf = _mm512_set1_epi8('\n'), c_sp = _mm512_set1_epi8(' ');
    const __m512i c_tab = _mm512_set1_epi8('\t'), c_f0 = _mm512_set1_epi8((char)0xf0);
    const unsigned char *table = hex_table[strict ? 0 : 1];
    const __m512i t_lo = _mm512_loadu_si512((const void *)table);
    const __m512i t_hi = _mm512_loadu_si512((const void *)(table + 64));
    const __m512i i1 = _mm512_loadu_si512((const void *)next1);
    const __m512i i2 = _mm512_loadu_si512((const void *)next2);
    size_t used = 0, out = 0, last = 0, first_lf = SIZE_MAX;
    /* Carried from one block to the next: white space / CR as its last
     * owned byte, a hard CR there (its LF is the next block's first byte),
     * and which of the next block's first two bytes belong to an escape or
     * soft break that started in this one. */
    uint64_t ws_prev = prev_ws ? 1u : 0u, cr_prev = 0, open_cr = 0, carry = 0;

    while (n - used >= 64) {
        const unsigned char *s = p + used;
        const __m512i v = _mm512_loadu_si512((const void *)s);
        const __m512i h = _mm512_permutex2var_epi8(t_lo, v, t_hi); /* hex values */
        uint64_t ok = ~(uint64_t)_mm512_movepi8_mask(_mm512_or_si512(v, h));
        uint64_t cr_all = _mm512_cmpeq_epi8_mask(v, c_cr);
        uint64_t lf_all = _mm512_cmpeq_epi8_mask(v, c_lf);
        uint64_t mine = OWN & ~carry;
        uint64_t eq = _mm512_cmpeq_epi8_mask(v, c_eq) & mine;
        uint64_t ws = _mm512_cmpeq_epi8_mask(v, c_sp) | _mm512_cmpeq_epi8_mask(v, c_tab);
        uint64_t cr = cr_all & mine, lf = lf_all & mine;

        uint64_t crlf = cr & (lf_all >> 1);
        uint64_t lf_bare = lf & ~(cr_all << 1 | cr_prev);
        uint64_t soft_crlf = eq & (cr_all >> 1) & (lf_all >> 2); /* "=" CRLF */
        uint64_t soft_lf = eq & (lf_all >> 1);                    /* "=" LF (bare) */
        uint64_t soft = soft_crlf | soft_lf;
        uint64_t esc = eq & ~soft;
        uint64_t hard = (crlf & ~(soft_crlf << 1)) | (lf_bare & ~(soft_lf << 1));

        uint64_t bad = cr & ~crlf;                 /* bare CR */
        bad |= hard & (ws << 1 | ws_prev);         /* trailing white space */
        bad |= esc & ~(ok >> 1 & ok >> 2);         /* malformed, or padded soft break */
        if (bad) break;

        const __m512i hi = _mm512_slli_epi16(_mm512_permutexvar_epi8(i1, h), 4);
        const __m512i lo = _mm512_permutexvar_epi8(i2, h);
        /* (hi & 0xf0) | lo: the shift lets garbage lanes spill 4 bits */
        const __m512i byte = _mm512_ternarylogic_epi64(hi, c_f0, lo, 0xea);
        const __m512i res = _mm512_mask_mov_epi8(v, esc, byte);
        uint64_t drop1 = esc | soft, drop2 = esc | soft_crlf;
        uint64_t gone = drop1 << 1 | drop2 << 2;
        uint64_t keep = ~(soft | gone | carry) & OWN;
        _mm512_storeu_si512((void *)(o + out), _mm512_maskz_compress_epi8(keep, res));
        out += (size_t)__builtin_popcountll(keep);

        uint64_t warn = lf_bare | (soft_lf >> (STEP - 1)) << STEP;
        if (warn && first_lf == SIZE_MAX) first_lf = used + (size_t)__builtin_ctzll(warn);
        if (gone) last = used + 64u - (size_t)__builtin_clzll(gone); /* after the last token */
        carry = gone >> STEP;
        open_cr = (crlf & ~(soft_crlf << 1)) >> (STEP - 1);
        cr_prev = (cr_all >> (STEP - 1)) & 1u;
        ws_prev = (ws >> (STEP - 1)) & 1u;
        used += STEP;
    }
    /* finish what the last block started */
    used += (size_t)__builtin_popcountll(carry);
    if (open_cr) {
        o[out++] = '\n';
        used++;
    }
    *made = out;
    *run_off = last;
    *bare_lf = first_lf;
    return used;
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else
typedef int mw__qp_avx512_unused; /* keeps the translation unit non-empty */
#endif
