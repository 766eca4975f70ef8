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

/* What one block hands to the next, and the totals so far. */
typedef struct run_state {
    size_t used, out, first_lf; /* first_lf: offset of the first bare LF, or SIZE_MAX */
    uint64_t ws_prev;           /* the last owned byte is white space */
    uint64_t cr_prev;           /* the last owned byte is a CR */
    uint64_t open_cr;           /* ... a hard-break CR, whose LF starts the next block */
    uint64_t carry;             /* the next block's first bytes that end a token of this one */
} run_state;

/* The vectors every block needs. */
typedef struct run_consts {
    __m512i eq, cr, lf, ws_lut, f0, t_lo, t_hi, i1, i2;
} run_consts;

/* The per-block masks both loops start from. */
typedef struct block_masks {
    uint64_t eq, cr_all, lf_all, ws, ok, cr, lf;
} block_masks;

/* Keep a mask in a general register: the compiler would otherwise do much
 * of the mask arithmetic with k-register instructions, which have fewer
 * ports than the integer ALUs. */
#define IN_GPR(x) __asm__("" : "+r"(x))

static inline __attribute__((always_inline)) void classify(const run_consts *k, __m512i v,
                                                           __m512i h, uint64_t carry,
                                                           uint64_t own, block_masks *m)
{
    uint64_t mine = own & ~carry;
    uint64_t hexbad = _mm512_movepi8_mask(_mm512_or_si512(v, h));
    uint64_t cr = _mm512_cmpeq_epi8_mask(v, k->cr);
    uint64_t lf = _mm512_cmpeq_epi8_mask(v, k->lf);
    uint64_t eq = _mm512_cmpeq_epi8_mask(v, k->eq);
    /* white space with one compare: the byte's low nibble picks ' ' or
     * '\t' (0 elsewhere, which no byte with that nibble equals; bytes
     * >= 0x80 shuffle to 0) */
    uint64_t ws = _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(k->ws_lut, v), v);
    IN_GPR(hexbad);
    IN_GPR(cr);
    IN_GPR(lf);
    IN_GPR(eq);
    IN_GPR(ws);
    m->ok = ~hexbad;
    m->cr_all = cr;
    m->lf_all = lf;
    m->eq = eq & own; /* carried bytes are never '=' */
    m->ws = ws;
    m->cr = cr & mine;
    m->lf = lf & mine;
}

/* Decode the escapes of v (marked by esc, hex values h), drop the bytes
 * not in keep, store at o: 64 bytes when full (the caller has the room),
 * else only the bytes kept. @return bytes written. */
static inline __attribute__((always_inline)) size_t emit(const run_consts *k, __m512i v,
                                                         __m512i h, uint64_t esc, uint64_t keep,
                                                         unsigned char *o, int full)
{
    const __m512i hi = _mm512_slli_epi16(_mm512_permutexvar_epi8(k->i1, h), 4);
    const __m512i lo = _mm512_permutexvar_epi8(k->i2, h);
    /* (hi & 0xf0) | lo: the 16-bit shift lets garbage lanes spill 4 bits */
    const __m512i byte = _mm512_ternarylogic_epi64(hi, k->f0, lo, 0xea);
    const __m512i res = _mm512_mask_mov_epi8(v, esc, byte);
    size_t made = (size_t)__builtin_popcountll(keep);
    const __m512i packed = _mm512_maskz_compress_epi8(keep, res);
    if (full)
        _mm512_storeu_si512((void *)o, packed);
    else /* made < 64 here */
        _mm512_mask_storeu_epi8((void *)o, ((uint64_t)1 << made) - 1, packed);
    return made;
}

/* One block of a CRLF-only run (the usual case: every '=' is an escape or
 * an "=" CRLF soft break, and both drop the two bytes after it). v holds
 * the block (zeros past the data), own the bytes it owns (step of them).
 * @return 1 when done, 0 when the block needs the narrower paths (*lf_stop
 *         set when that is for a bare LF). */
static inline __attribute__((always_inline)) int crlf_block(const run_consts *k, __m512i v,
                                                            uint64_t own, unsigned step, int full,
                                                            unsigned char *o, run_state *r,
                                                            int *lf_stop)
{
    const __m512i h = _mm512_permutex2var_epi8(k->t_lo, v, k->t_hi); /* hex values */
    block_masks m;
    classify(k, v, h, r->carry, own, &m);

    /* Every CR is followed by LF and every LF follows a CR exactly when
     * "CR one byte back" and "LF" agree on bits 0..step + 1 (the last two
     * are lookahead: checking them too is stricter than needed, and lets
     * an "=" CR in the last owned byte count as a soft break). */
    uint64_t cr_back = m.cr_all << 1 | r->cr_prev;
    uint64_t bad = (cr_back ^ m.lf_all) & (own << 2 | 3); /* bare CR or LF */
    uint64_t soft = m.eq & (m.cr_all >> 1);               /* "=" CRLF (LF checked above) */
    uint64_t esc = m.eq & ~soft;
    uint64_t hard = m.cr & ~(soft << 1);
    bad |= hard & (m.ws << 1 | r->ws_prev);               /* trailing white space */
    bad |= esc & ~(m.ok >> 1 & m.ok >> 2);                /* malformed, or padded soft break */
    if (bad) {
        *lf_stop = (m.lf & ~cr_back) != 0;
        return 0;
    }
    uint64_t gone = m.eq << 1 | m.eq << 2;
    r->out += emit(k, v, h, esc, ~(soft | gone | r->carry) & own, o + r->out, full);
    r->carry = (gone | r->carry) >> step; /* a tail block may own less than the carry */
    r->open_cr = (hard >> (step - 1)) & 1u;
    r->cr_prev = (m.cr_all >> (step - 1)) & 1u;
    r->ws_prev = (m.ws >> (step - 1)) & 1u;
    r->used += step;
    return 1;
}

/* One block that may also hold bare LFs (line ends as in the byte-level
 * machine, which warns about them) and "=" LF soft breaks. Same contract
 * as crlf_block. */
static inline __attribute__((always_inline)) int any_block(const run_consts *k, __m512i v,
                                                           uint64_t own, unsigned step, int full,
                                                           unsigned char *o, run_state *r)
{
    const __m512i h = _mm512_permutex2var_epi8(k->t_lo, v, k->t_hi);
    block_masks m;
    classify(k, v, h, r->carry, own, &m);

    uint64_t crlf = m.cr & (m.lf_all >> 1);
    uint64_t lf_bare = m.lf & ~(m.cr_all << 1 | r->cr_prev);
    uint64_t soft_crlf = m.eq & (m.cr_all >> 1) & (m.lf_all >> 2); /* "=" CRLF */
    uint64_t soft_lf = m.eq & (m.lf_all >> 1);                      /* "=" LF */
    uint64_t soft = soft_crlf | soft_lf;
    uint64_t esc = m.eq & ~soft;
    uint64_t hard = (crlf & ~(soft_crlf << 1)) | (lf_bare & ~(soft_lf << 1));

    uint64_t bad = m.cr & ~crlf;                      /* bare CR */
    bad |= hard & (m.ws << 1 | r->ws_prev);           /* trailing white space */
    bad |= esc & ~(m.ok >> 1 & m.ok >> 2);            /* malformed, or padded soft break */
    if (bad) return 0;

    uint64_t drop1 = esc | soft, drop2 = esc | soft_crlf;
    uint64_t gone = drop1 << 1 | drop2 << 2;
    r->out += emit(k, v, h, esc, ~(soft | gone | r->carry) & own, o + r->out, full);
    /* the LF of an "=" LF right at the end belongs to the next block */
    uint64_t warn = lf_bare | (soft_lf >> (step - 1)) << step;
    if (warn && r->first_lf == SIZE_MAX) r->first_lf = r->used + (size_t)__builtin_ctzll(warn);
    r->carry = (gone | r->carry) >> step; /* a tail block may own less than the carry */
    r->open_cr = ((crlf & ~(soft_crlf << 1)) >> (step - 1)) & 1u;
    r->cr_prev = (m.cr_all >> (step - 1)) & 1u;
    r->ws_prev = (m.ws >> (step - 1)) & 1u;
    r->used += step;
    return 1;
}

#define LOADU(p) _mm512_loadu_si512((const void *)(p))

/* The last, partial block: the bytes past the data read as zeros (which
 * are nothing special), and the last two are lookahead only. */
static inline uint64_t tail_own(size_t rem) { return ((uint64_t)1 << (rem - 2)) - 1; }
static inline __m512i tail_load(const unsigned char *s, size_t rem)
{
    return _mm512_maskz_loadu_epi8(((uint64_t)1 << rem) - 1, (const void *)s);
}

/* @return 1 when it stopped at a block with a bare LF (the caller goes on
 *         with any_blocks), 0 otherwise. */
static int crlf_blocks(const run_consts *k, const unsigned char *p, size_t n, unsigned char *o,
                       run_state *st)
{
    run_state r = *st;
    int lf_stop = 0;
    while (n - r.used >= STEP + 64) { /* two blocks a round: fewer loop tests */
        if (!crlf_block(k, LOADU(p + r.used), OWN, STEP, 1, o, &r, &lf_stop)) goto out;
        if (!crlf_block(k, LOADU(p + r.used), OWN, STEP, 1, o, &r, &lf_stop)) goto out;
    }
    while (n - r.used >= 64)
        if (!crlf_block(k, LOADU(p + r.used), OWN, STEP, 1, o, &r, &lf_stop)) goto out;
    if (n - r.used >= 3) {
        size_t rem = n - r.used;
        crlf_block(k, tail_load(p + r.used, rem), tail_own(rem), (unsigned)rem - 2u, 0, o, &r,
                   &lf_stop);
    }
out:
    *st = r;
    return lf_stop;
}

static void any_blocks(const run_consts *k, const unsigned char *p, size_t n, unsigned char *o,
                       run_state *st)
{
    run_state r = *st;
    while (n - r.used >= STEP + 64) {
        if (!any_block(k, LOADU(p + r.used), OWN, STEP, 1, o, &r)) goto out;
        if (!any_block(k, LOADU(p + r.used), OWN, STEP, 1, o, &r)) goto out;
    }
    while (n - r.used >= 64)
        if (!any_block(k, LOADU(p + r.used), OWN, STEP, 1, o, &r)) goto out;
    if (n - r.used >= 3) {
        size_t rem = n - r.used;
        any_block(k, tail_load(p + r.used, rem), tail_own(rem), (unsigned)rem - 2u, 0, o, &r);
    }
out:
    *st = r;
}

size_t mw__qp_dec_run_avx512(const unsigned char *p, size_t n, unsigned char *o, int strict,
                             int prev_ws, size_t *made, size_t *bare_lf)
{
    const unsigned char *table = hex_table[strict ? 0 : 1];
    run_consts k;
    k.eq = _mm512_set1_epi8('=');
    k.cr = _mm512_set1_epi8('\r');
    k.lf = _mm512_set1_epi8('\n');
    k.ws_lut = _mm512_broadcast_i32x4(_mm_setr_epi8(' ', 0, 0, 0, 0, 0, 0, 0, 0, '\t', 0, 0, 0, 0, 0, 0));
    k.f0 = _mm512_set1_epi8((char)0xf0);
    k.t_lo = _mm512_loadu_si512((const void *)table);
    k.t_hi = _mm512_loadu_si512((const void *)(table + 64));
    k.i1 = _mm512_loadu_si512((const void *)next1);
    k.i2 = _mm512_loadu_si512((const void *)next2);
    run_state st = {0, 0, SIZE_MAX, prev_ws ? 1u : 0u, 0, 0, 0};
    if (crlf_blocks(&k, p, n, o, &st)) any_blocks(&k, p, n, o, &st);
    /* finish what the last block started */
    st.used += (size_t)__builtin_popcountll(st.carry);
    if (st.open_cr) {
        o[st.out++] = '\n';
        st.used++;
    }
    *made = st.out;
    *bare_lf = st.first_lf;
    return st.used;
}

#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#else
typedef int mw__qp_avx512_unused; /* keeps the translation unit non-empty */
#endif
