/*
 * mailwire — quoted-printable encoding, one output line segment per step
 * with AVX-512 (BW for the byte compares, VBMI for the cross-lane byte
 * permutes, VBMI2 for VPCOMPRESSB; BMI2 PDEP for the column search).
 *
 * Each step loads a window of 63 input bytes (plus two of lookahead) at
 * the current position and turns it into bit masks: the bytes that need
 * "=XX" (outside '!'..'~', '=' itself, white space right before a hard line
 * break, a protected '.' or "From " at a line start) and the hard breaks
 * (CRLF; also a lone LF with MW_QP_LF_EOL). The step then writes the
 * longest prefix of the window that fits on the current output line, the
 * way the byte-level machine would cut it: up to the first hard break,
 * up to a soft break ("=" CRLF) when the line would pass column 75 (column
 * 76 only for a token right before a hard break, RFC 2045 §6.7 rule 5), or
 * the whole window. A prefix without escapes is one 64-byte store. With
 * escapes, every byte is first widened to three slots ('=' or the byte,
 * then its two hex digits), 21 bytes per register, and VPCOMPRESSB keeps
 * one slot for a literal and three for an escape. The step ends after the
 * line break it wrote, so each line's start is looked at afresh. One
 * shortcut: CRLF text without line-start protections, when the window has
 * no escapes and its first line fits, is stored whole (several lines).
 *
 * The build gives no -m flag to this file: the functions carry a target
 * attribute, and qp.c calls them only after a CPU check.
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

#if MW__QP_AVX512

#include <string.h>

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi2,popcnt"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vbmi,avx512vbmi2,bmi2,popcnt")
#endif

#include <immintrin.h>

#define WIN 63u         /* input bytes a step owns: three groups of 21 */
#define GROUP 21u       /* bytes widened into one register (63 slots) */
#define LOOKAHEAD 2u    /* white space then CR LF: two bytes past the window */
#define MIN_IN 8u       /* a shorter rest is left to the caller */
#define OUT_MARGIN 144u /* last group store: up to 75 + 64 bytes past o */
#define LINE_MAX 75u    /* characters before a soft break's '=' */

#define LEADS 0x1249249249249249ull /* slots 0, 3, ..., 60 */
#define DIGIT2 0x4924924924924924ull /* slots 2, 5, ..., 62 */

/* Hex digits, once per 128-bit lane for VPSHUFB. */
static const char hex_lanes[64] = "0123456789ABCDEF0123456789ABCDEF"
                                  "0123456789ABCDEF0123456789ABCDEF";

/* Widening index for group g: slot q takes byte 21g + q/3, from the
 * first table (the byte or '=') when q % 3 == 0, else from the second
 * (the high digit; the low digit is put in by a second, masked permute
 * that ignores bit 6 of the index). Slot 63 is never kept. */
static const unsigned char widen_idx[3][64] = {
    {
          0,  64,  64,   1,  65,  65,   2,  66,  66,   3,  67,  67,   4,  68,  68,   5,
         69,  69,   6,  70,  70,   7,  71,  71,   8,  72,  72,   9,  73,  73,  10,  74,
         74,  11,  75,  75,  12,  76,  76,  13,  77,  77,  14,  78,  78,  15,  79,  79,
         16,  80,  80,  17,  81,  81,  18,  82,  82,  19,  83,  83,  20,  84,  84,   0,
    },
    {
         21,  85,  85,  22,  86,  86,  23,  87,  87,  24,  88,  88,  25,  89,  89,  26,
         90,  90,  27,  91,  91,  28,  92,  92,  29,  93,  93,  30,  94,  94,  31,  95,
         95,  32,  96,  96,  33,  97,  97,  34,  98,  98,  35,  99,  99,  36, 100, 100,
         37, 101, 101,  38, 102, 102,  39, 103, 103,  40, 104, 104,  41, 105, 105,   0,
    },
    {
         42, 106, 106,  43, 107, 107,  44, 108, 108,  45, 109, 109,  46, 110, 110,  47,
        111, 111,  48, 112, 112,  49, 113, 113,  50, 114, 114,  51, 115, 115,  52, 116,
        116,  53, 117, 117,  54, 118, 118,  55, 119, 119,  56, 120, 120,  57, 121, 121,
         58, 122, 122,  59, 123, 123,  60, 124, 124,  61, 125, 125,  62, 126, 126,   0,
    },
};

static uint64_t low_bits(unsigned n) { return n >= 64 ? ~0ull : (1ull << n) - 1; }

/* Kept slots of a group whose escape bits are esc (21 bits). */
static uint64_t group_keep(uint64_t esc)
{
    uint64_t s = _pdep_u64(esc, LEADS);
    return LEADS | s << 1 | s << 2;
}

size_t mw__qp_enc_run_avx512(const unsigned char *p, size_t n, unsigned char *o, size_t room,
                             unsigned *colp, unsigned flags, size_t *made)
{
    const int text = !(flags & MW_QP_BINARY), lf_eol = text && (flags & MW_QP_LF_EOL);
    /* CRLF line ends are copied as they are, and no line start is looked at */
    const int crlf_only = text && !lf_eol && !(flags & (MW_QP_DOT | MW_QP_FROM));
    const __m512i c33 = _mm512_set1_epi8(33), c94 = _mm512_set1_epi8(94);
    const __m512i eq = _mm512_set1_epi8('='), sp = _mm512_set1_epi8(' ');
    const __m512i tab = _mm512_set1_epi8('\t'), cr = _mm512_set1_epi8('\r');
    const __m512i lf = _mm512_set1_epi8('\n'), nib = _mm512_set1_epi8(0x0f);
    const __m512i hex = _mm512_loadu_si512((const void *)hex_lanes);
    const unsigned char *p0 = p;
    unsigned char *o0 = o;
    unsigned col = *colp;
    while (n - (size_t)(p - p0) >= MIN_IN && (size_t)(o - o0) + OUT_MARGIN <= room) {
        /* near the end the window shrinks to what is there, less the
         * lookahead; bytes past the end load as zero and match nothing */
        size_t avail = n - (size_t)(p - p0);
        unsigned win = avail - LOOKAHEAD < WIN ? (unsigned)(avail - LOOKAHEAD) : WIN;
        __m512i v = _mm512_maskz_loadu_epi8(low_bits(win + LOOKAHEAD), (const void *)p);
        uint64_t lit = _mm512_cmplt_epu8_mask(_mm512_sub_epi8(v, c33), c94) &
                       ~_mm512_cmpeq_epi8_mask(v, eq);
        uint64_t ws = _mm512_cmpeq_epi8_mask(v, sp) | _mm512_cmpeq_epi8_mask(v, tab);
        uint64_t hard = 0;
        if (text) {
            __m512i v1 = _mm512_maskz_loadu_epi8(low_bits(win + LOOKAHEAD - 1), (const void *)(p + 1));
            hard = _mm512_cmpeq_epi8_mask(v, cr) & _mm512_cmpeq_epi8_mask(v1, lf);
            if (lf_eol) hard |= _mm512_cmpeq_epi8_mask(v, lf);
        }
        /* rule 3: white space is literal unless a hard break follows */
        uint64_t esc = (~lit & ~ws) | (ws & hard >> 1);
        if (col == 0) { /* line-start protections, as qp_enc_token has them */
            if ((flags & MW_QP_DOT) && p[0] == '.') esc |= 1;
            if ((flags & MW_QP_FROM) && memcmp(p, "From ", 5) == 0) esc |= 1;
        }
        unsigned h = hard ? (unsigned)__builtin_ctzll(hard) : 64u;
        if (crlf_only && h < win) {
            /* Whole lines at once: a window with CRLFs and no escapes is
             * stored as it is when its first line fits (the later ones are
             * shorter than the window); a CRLF cut by the window's end
             * waits for the next step. */
            unsigned own = win - (unsigned)((hard >> (win - 1)) & 1);
            uint64_t in_breaks = (hard | hard << 1) & low_bits(own);
            if (h < own && !(esc & ~in_breaks & low_bits(own)) && col + h <= LINE_MAX + 1) {
                unsigned last_lf = 63u - (unsigned)__builtin_clzll(in_breaks);
                _mm512_storeu_si512((void *)o, v);
                o += own;
                p += own;
                col = own - 1 - last_lf;
                continue;
            }
        }
        if (col > LINE_MAX && h != 0) break; /* not reached: column 76 is followed by a break */
        unsigned lim = h < win ? h : win;
        esc &= low_bits(lim);
        unsigned need = col < LINE_MAX ? LINE_MAX - col : 0; /* characters left on the line */
        /* m: the first byte that does not fit in need characters (lim if all do);
         * last: whether its last character would be the (need+1)-th */
        unsigned m, last;
        uint64_t keep[3] = {0, 0, 0};
        if (!esc) {
            m = need < lim ? need : lim;
            last = 1;
        } else {
            m = lim;
            last = 0;
            unsigned left = need;
            for (unsigned g = 0; g < 3; g++) {
                keep[g] = group_keep((esc >> (GROUP * g)) & low_bits(GROUP));
                unsigned have = (unsigned)__builtin_popcountll(keep[g]);
                if (left < have) {
                    unsigned s = (unsigned)__builtin_ctzll(_pdep_u64(1ull << left, keep[g]));
                    m = GROUP * g + s / 3;
                    last = s % 3 == 2 || !((esc >> m) & 1);
                    break;
                }
                left -= have;
            }
            if (m > lim) m = lim;
        }
        unsigned k = m; /* bytes written on this line */
        int soft = 0;
        if (m < lim) {
            if (last && h == m + 1) k = h; /* column 76, right before a hard break */
            else soft = 1;
        }
        uint64_t esc_k = esc & low_bits(k);
        unsigned out_k = k + 2u * (unsigned)__builtin_popcountll(esc_k);
        if (!esc_k) {
            _mm512_storeu_si512((void *)o, v);
        } else {
            __m512i first = _mm512_mask_blend_epi8(esc_k, v, eq);
            __m512i hi = _mm512_shuffle_epi8(hex, _mm512_and_si512(_mm512_srli_epi16(v, 4), nib));
            __m512i lo = _mm512_shuffle_epi8(hex, _mm512_and_si512(v, nib));
            unsigned char *w = o;
            for (unsigned g = 0; GROUP * g < k; g++) {
                __m512i idx = _mm512_loadu_si512((const void *)widen_idx[g]);
                __m512i t = _mm512_permutex2var_epi8(first, idx, hi);
                t = _mm512_mask_permutexvar_epi8(t, DIGIT2, idx, lo);
                uint64_t kg = keep[g];
                if (k - GROUP * g < GROUP) kg &= low_bits(3u * (k - GROUP * g));
                _mm512_storeu_si512((void *)w, _mm512_maskz_compress_epi8(kg, t));
                w += __builtin_popcountll(kg);
            }
        }
        o += out_k;
        p += k;
        if (soft) {
            memcpy(o, "=\r\n", 3);
            o += 3;
            col = 0;
        } else if (k == h) {
            o[0] = '\r';
            o[1] = '\n';
            o += 2;
            p += *p == '\r' ? 2 : 1;
            col = 0;
        } else {
            col += out_k;
        }
    }
    *colp = col;
    *made = (size_t)(o - o0);
    return (size_t)(p - p0);
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else
typedef int mw__qp_enc_avx512_unused; /* keeps the translation unit non-empty */
#endif
