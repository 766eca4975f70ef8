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

/* Hex digit values of the 64 bytes of x (garbage where *ok has a 0 bit). */
static __m512i hex_values(__m512i x, __m512i c_case, __m512i c_a, uint64_t *ok)
{
    const __m512i d = _mm512_sub_epi8(x, _mm512_set1_epi8('0'));
    const __m512i u = _mm512_sub_epi8(_mm512_or_si512(x, c_case), c_a);
    uint64_t digit = _mm512_cmple_epu8_mask(d, _mm512_set1_epi8(9));
    *ok = digit | _mm512_cmple_epu8_mask(u, _mm512_set1_epi8(5));
    return _mm512_mask_mov_epi8(_mm512_add_epi8(u, _mm512_set1_epi8(10)), digit, d);
}

size_t mw__qp_dec_run_avx512(const unsigned char *p, size_t n, unsigned char *o, int strict,
                             int prev_ws, size_t *made, size_t *run_off, size_t *bare_lf)
{
    const __m512i c_eq = _mm512_set1_epi8('='), c_cr = _mm512_set1_epi8('\r');
    const __m512i c_lf = _mm512_set1_epi8('\n'), c_sp = _mm512_set1_epi8(' ');
    const __m512i c_tab = _mm512_set1_epi8('\t'), c_f0 = _mm512_set1_epi8((char)0xf0);
    /* lenient mode folds A-F onto a-f by setting bit 5 */
    const __m512i c_case = _mm512_set1_epi8(strict ? 0 : 0x20);
    const __m512i c_a = _mm512_set1_epi8((char)(strict ? 'A' : 'a'));
    size_t used = 0, out = 0, last = 0, first_lf = SIZE_MAX;
    /* State carried from one block to the next: white space / CR in its
     * last byte, a hard CR in its last byte (its LF is the next block's
     * first byte), and which of the next block's first two bytes belong
     * to an escape or soft break that started in this one. */
    uint64_t ws_prev = prev_ws ? 1u : 0u, cr_prev = 0, open_cr = 0, carry = 0;

    /* Blocks advance by a constant 64, so the next load never waits for
     * this block's masks; the two bytes past the block are looked at. */
    while (n - used >= 66) {
        const unsigned char *s = p + used;
        const __m512i v = _mm512_loadu_si512((const void *)s);
        uint64_t hi_ok, lo_ok;
        const __m512i hi = hex_values(_mm512_loadu_si512((const void *)(s + 1)), c_case, c_a, &hi_ok);
        const __m512i lo = hex_values(_mm512_loadu_si512((const void *)(s + 2)), c_case, c_a, &lo_ok);
        uint64_t eq = _mm512_cmpeq_epi8_mask(v, c_eq);
        uint64_t cr_raw = _mm512_cmpeq_epi8_mask(v, c_cr);
        uint64_t lf_raw = _mm512_cmpeq_epi8_mask(v, c_lf);
        uint64_t ws = _mm512_cmpeq_epi8_mask(v, c_sp) | _mm512_cmpeq_epi8_mask(v, c_tab);
        uint64_t lf64 = s[64] == '\n', lf65 = s[65] == '\n', cr64 = s[64] == '\r';

        uint64_t cr_next = cr_raw >> 1 | cr64 << 63;             /* CR at i + 1 */
        uint64_t lf_next = lf_raw >> 1 | lf64 << 63;             /* LF at i + 1 */
        uint64_t lf_next2 = lf_raw >> 2 | lf64 << 62 | lf65 << 63; /* LF at i + 2 */
        uint64_t cr = cr_raw & ~carry, lf = lf_raw & ~carry;
        eq &= ~carry;

        uint64_t crlf = cr & lf_next;
        uint64_t lf_bare = lf & ~(cr_raw << 1 | cr_prev);
        uint64_t soft_crlf = eq & cr_next & lf_next2; /* "=" CRLF */
        uint64_t soft_lf = eq & lf_next;              /* "=" LF (a bare LF) */
        uint64_t esc = eq & ~(soft_crlf | soft_lf);
        uint64_t hard = (crlf & ~(soft_crlf << 1)) | (lf_bare & ~(soft_lf << 1));

        uint64_t bad = cr & ~crlf;                    /* bare CR */
        bad |= hard & (ws << 1 | ws_prev);            /* trailing white space */
        bad |= esc & ~(hi_ok & lo_ok);                /* malformed, or padded soft break */
        if (bad) break;

        const __m512i byte = _mm512_or_si512(_mm512_and_si512(_mm512_slli_epi16(hi, 4), c_f0), lo);
        const __m512i res = _mm512_mask_mov_epi8(v, esc, byte);
        uint64_t drop1 = esc | soft_crlf | soft_lf, drop2 = esc | soft_crlf;
        uint64_t keep = ~(soft_crlf | soft_lf | drop1 << 1 | drop2 << 2 | carry);
        _mm512_storeu_si512((void *)(o + out), _mm512_maskz_compress_epi8(keep, res));
        out += (size_t)__builtin_popcountll(keep);

        if (first_lf == SIZE_MAX && (lf_bare | soft_lf >> 63))
            first_lf = used + (lf_bare ? (size_t)__builtin_ctzll(lf_bare) : 64u);
        if (eq) last = used + 66u - (size_t)__builtin_clzll(eq);
        carry = drop1 >> 63 | drop2 >> 62;
        open_cr = (cr & ~(soft_crlf << 1)) >> 63;
        cr_prev = cr_raw >> 63;
        ws_prev = ws >> 63;
        used += 64;
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
