/*
 * mailwire — base64 bulk kernels for AVX-512 VBMI (64 characters per step).
 *
 * With VBMI a byte permute reaches across the whole 64-byte register:
 * encoding spreads 48 bytes over 16 lanes with one VPERMB, cuts the four
 * sextets of each lane out with one VPMULTISHIFTQB, and maps sextets to
 * characters with one more VPERMB over the 64-character alphabet. Decoding
 * maps characters to sextets with one VPERMI2B over a 128-entry table (0x80
 * marks bytes outside the alphabet; bytes >= 0x80 are first clamped to
 * 0x7f, which it marks), packs them with two multiply-adds, and closes up
 * the bytes with permutes: four blocks at a time become three full 64-byte
 * stores.
 * MIME lines go four at a time (see enc_group, dec_four_lines), and
 * outputs of 4 MiB and more use streaming stores. Buffer ends use masked
 * loads and stores, so nothing outside the given ranges is touched, and no
 * output byte is written before its block is known good.
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
#define STOREU128(p, v) _mm_storeu_si128((__m128i *)(void *)(p), v)
#define LOW_BITS(n) ((__mmask64)(((uint64_t)1 << (n)) - 1)) /* n < 64 */
#define ALL48 LOW_BITS(48)
/* Outputs this large cannot stay in cache: streaming stores. */
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

/* Index tables built by the preprocessor: M(k, j) for j = 0..63. */
#define R4(M, k, j) M(k, j), M(k, (j) + 1), M(k, (j) + 2), M(k, (j) + 3)
#define R16(M, k, j) R4(M, k, j), R4(M, k, (j) + 4), R4(M, k, (j) + 8), R4(M, k, (j) + 12)
#define R64(M, k) R16(M, k, 0), R16(M, k, 16), R16(M, k, 32), R16(M, k, 48)

/* The wrapped encoder works on groups of four MIME lines: 228 bytes in,
 * 312 out, written as five 64-byte chunks (the last one runs 8 bytes into
 * the next group, which is written after it). Chunk k of a group takes one
 * 64-byte load at group byte WBASE(64k); VPERMB gives each 8-byte lane the
 * input bytes its characters use, first byte most significant, so that
 * every character's 6 bits are contiguous; VPMULTISHIFTQB cuts them out at
 * the offsets WSHIFT, VPERMB over the alphabet maps them, and a blend puts
 * CR LF where WCRLF says. Three permutes per 64 output bytes; CR LF costs
 * nothing extra. In group coordinates: o is an output byte, CHR(o) the
 * character it holds when WCOL(o) < 76. */
#define GROUP_IN (4u * MW__B64_LINE_IN)
#define GROUP_OUT (4u * MW__B64_LINE_OUT)
#define WCOL(o) ((o) % 78)
#define CHR(o) ((o) / 78 * 76 + WCOL(o))
#define FIRST_CHR(o) (WCOL(o) < 76 ? CHR(o) : ((o) / 78 + 1) * 76) /* at or after o */
#define WLANE(c, j) (FIRST_CHR((c) + (j) / 8 * 8) * 6 / 8) /* lane's first input byte */
#define WBASE(c) WLANE(c, 0)
#define WSPREAD(c, j) (WLANE(c, j) + 7 - (j) % 8 - WBASE(c))
#define WSHIFT(c, j) (WCOL((c) + (j)) < 76 ? 58 - (6 * CHR((c) + (j)) - 8 * WLANE(c, j)) : 0)
#define WCRLF(c, j) ((uint64_t)(WCOL((c) + (j)) >= 76) << (j))
#define OR4(M, c, j) (M(c, j) | M(c, (j) + 1) | M(c, (j) + 2) | M(c, (j) + 3))
#define OR16(M, c, j) (OR4(M, c, j) | OR4(M, c, (j) + 4) | OR4(M, c, (j) + 8) | OR4(M, c, (j) + 12))
#define OR64(M, c) (OR16(M, c, 0) | OR16(M, c, 16) | OR16(M, c, 32) | OR16(M, c, 48))
/* The five chunks of a group start at output bytes 0, 64, ..., 256; the
 * last lines of the input (m = 1..4 of them) end with a chunk at 78m - 64
 * instead (rows 5..8), so nothing is written past them. */
#define WROWS(M) {R64(M, 0)}, {R64(M, 64)}, {R64(M, 128)}, {R64(M, 192)}, {R64(M, 256)}, \
    {R64(M, 14)}, {R64(M, 92)}, {R64(M, 170)}, {R64(M, 248)}
static const unsigned char wrap_spread[9][64] = {WROWS(WSPREAD)};
static const unsigned char wrap_shift[9][64] = {WROWS(WSHIFT)};
static const uint64_t wrap_crlf[9] = {OR64(WCRLF, 0),  OR64(WCRLF, 64), OR64(WCRLF, 128),
                                      OR64(WCRLF, 192), OR64(WCRLF, 256), OR64(WCRLF, 14),
                                      OR64(WCRLF, 92), OR64(WCRLF, 170), OR64(WCRLF, 248)};
static const unsigned short wrap_base[9] = {WBASE(0),  WBASE(64), WBASE(128),
                                            WBASE(192), WBASE(256), WBASE(14),
                                            WBASE(92), WBASE(170), WBASE(248)};
/* A group reads WBASE(256) + 64 input bytes: within five lines. */
typedef char mw__b64_group_read_fits[WBASE(256) + 64 <= 5 * MW__B64_LINE_IN ? 1 : -1];

/* Decoded lanes hold a group as bytes 2, 1, 0 (and a zero). Byte j of
 * the 48 decoded bytes of a block sits at lane byte PK(j). Four blocks
 * make 192 bytes, stored as three full registers: register k takes output
 * bytes 64k..64k+63 from blocks k and k + 1 (a two-table VPERMT2B, block
 * k + 1 at indexes 64 and up). */
#define PK(j) (4 * ((j) / 3) + 2 - (j) % 3)
#define JOIN(k, j) ((((64 * (k) + (j)) / 48 - (k)) * 64 + PK((64 * (k) + (j)) % 48)) & 127)
static const unsigned char join_idx[3][64] = {{R64(JOIN, 0)}, {R64(JOIN, 1)}, {R64(JOIN, 2)}};

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

/* n bytes (a multiple of 3) in blocks of 48 and one masked last block:
 * nothing read or written outside the ranges. */
static inline void enc_rest(const unsigned char *in, size_t n, unsigned char *out,
                            const enc_tables *t)
{
    size_t i = 0;
    for (; i + 48 <= n; i += 48)
        _mm512_storeu_si512((void *)(out + i / 3 * 4),
                            enc_block(_mm512_maskz_loadu_epi8(ALL48, in + i), t));
    if (i < n) {
        size_t rest = n - i;
        __m512i x = _mm512_maskz_loadu_epi8(LOW_BITS(rest), in + i);
        _mm512_mask_storeu_epi8(out + i / 3 * 4, LOW_BITS(rest / 3 * 4), enc_block(x, t));
    }
}

size_t mw__b64_enc_avx512(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    size_t end = n / 3 * 3, i = 0;
    enc_tables t;
    enc_tables_init(&t, url);
    if (end >= STREAM_MIN && ((uintptr_t)out & 3) == 0) {
        /* Too large for the cache: streaming stores, which skip reading the
         * destination lines first, at 64-byte aligned places. Groups of 4
         * characters until the output is aligned. */
        i = (((64 - ((uintptr_t)out & 63)) & 63) / 4) * 3;
        mw__b64_enc_scalar(in, i, out, url);
        for (; i + 64 <= n && i + 48 <= end; i += 48)
            _mm512_stream_si512((void *)(out + i / 3 * 4), enc_block(LOADU(in + i), &t));
        _mm_sfence();
    }
    /* Full 64-byte loads (16 bytes unused) while they stay inside in[0..n). */
    for (; i + 208 <= n && i + 192 <= end; i += 192) {
        unsigned char *o = out + i / 3 * 4;
        __m512i c0 = enc_block(LOADU(in + i), &t), c1 = enc_block(LOADU(in + i + 48), &t);
        __m512i c2 = enc_block(LOADU(in + i + 96), &t), c3 = enc_block(LOADU(in + i + 144), &t);
        _mm512_storeu_si512((void *)o, c0);
        _mm512_storeu_si512((void *)(o + 64), c1);
        _mm512_storeu_si512((void *)(o + 128), c2);
        _mm512_storeu_si512((void *)(o + 192), c3);
    }
    enc_rest(in + i, end - i, out + i / 3 * 4, &t);
    return end;
}

/* The group tables in registers (ten of the 32). Named fields, not
 * arrays: the compiler keeps a struct of scalars in registers. */
typedef struct wrap_regs {
    __m512i spread0, spread1, spread2, spread3, spread4, shift0, shift1, shift2, shift3, shift4;
} wrap_regs;

static inline void wrap_regs_init(wrap_regs *w)
{
    w->spread0 = LOADU(wrap_spread[0]);
    w->spread1 = LOADU(wrap_spread[1]);
    w->spread2 = LOADU(wrap_spread[2]);
    w->spread3 = LOADU(wrap_spread[3]);
    w->spread4 = LOADU(wrap_spread[4]);
    w->shift0 = LOADU(wrap_shift[0]);
    w->shift1 = LOADU(wrap_shift[1]);
    w->shift2 = LOADU(wrap_shift[2]);
    w->shift3 = LOADU(wrap_shift[3]);
    w->shift4 = LOADU(wrap_shift[4]);
}

/* One 64-byte output chunk of MIME lines from the 64 input bytes x at the
 * chunk's base, with its table rows: spread, shift and CR LF places. */
static inline __m512i enc_chunk(__m512i x, __m512i spread, __m512i shift, __mmask64 crlf,
                                const enc_tables *t)
{
    x = _mm512_permutexvar_epi8(spread, x);
    x = _mm512_multishift_epi64_epi8(shift, x);
    x = _mm512_permutexvar_epi8(x, t->alphabet);
    return _mm512_mask_blend_epi8(crlf, x, _mm512_set1_epi16(0x0A0D)); /* CR: even bytes */
}

/* Four lines: reads in[0..WBASE(256) + 64), writes out[0..320); the caller
 * makes sure both are inside the buffers and writes out[312..320) again. */
static inline void enc_group(const unsigned char *in, unsigned char *out, const wrap_regs *w,
                             const enc_tables *t)
{
#define GROUP_CHUNK(k)                                                                             \
    _mm512_storeu_si512((void *)(out + 64 * (k)),                                                  \
                        enc_chunk(LOADU(in + wrap_base[k]), w->spread##k, w->shift##k, wrap_crlf[k], t))
    GROUP_CHUNK(0);
    GROUP_CHUNK(1);
    GROUP_CHUNK(2);
    GROUP_CHUNK(3);
    GROUP_CHUNK(4);
#undef GROUP_CHUNK
}

/* Chunk `row` of lines whose input is in[0..in_len), stored at dst. */
static inline void enc_chunk_masked(const unsigned char *in, size_t in_len, unsigned row,
                                    unsigned char *dst, const enc_tables *t)
{
    size_t avail = in_len - wrap_base[row];
    __mmask64 mask = avail >= 64 ? ~(__mmask64)0 : LOW_BITS(avail);
    _mm512_storeu_si512((void *)dst, enc_chunk(_mm512_maskz_loadu_epi8(mask, in + wrap_base[row]),
                                               LOADU(wrap_spread[row]), LOADU(wrap_shift[row]),
                                               wrap_crlf[row], t));
}

/* The last m lines (1..4): the whole chunks inside them, then one chunk
 * ending at the last LF. Loads are masked at the end of the input; stores
 * never pass the lines. The tables come from memory: indexing the
 * registers by a variable would put them all on the stack. */
static inline void enc_last_lines(const unsigned char *in, unsigned m, unsigned char *out,
                                  const enc_tables *t)
{
    size_t in_len = m * MW__B64_LINE_IN, out_len = m * MW__B64_LINE_OUT;
    for (unsigned k = 0; 64 * (k + 1) <= out_len; k++) enc_chunk_masked(in, in_len, k, out + 64 * k, t);
    enc_chunk_masked(in, in_len, 4 + m, out + out_len - 64, t); /* row 4 + m ends at 78m */
}

/* Lines [l, nlines) from in/out (which point at line l): groups while a
 * group's reads and its 8-byte overrun stay inside the lines (a fifth line
 * follows it), then the last one to four lines. */
static inline void enc_lines_run(const unsigned char *in, size_t l, size_t nlines, unsigned char *out,
                          const wrap_regs *w, const enc_tables *t)
{
    for (; l + 5 <= nlines; l += 4, in += GROUP_IN, out += GROUP_OUT) enc_group(in, out, w, t);
    if (l < nlines) enc_last_lines(in, (unsigned)(nlines - l), out, t);
}

/* Outputs too large for the cache go out with streaming stores, which
 * skip reading the destination lines first but must write whole aligned
 * 64-byte units. 32 lines make 2496 = 39 * 64 output bytes, so with the
 * first line at an aligned place every period of 32 lines is 39 aligned
 * chunks, each with table rows of its own (from memory: speed here is the
 * memory's, not the loads'). Chunk 38 reads 17 bytes into the next
 * period's input. */
#define PERIOD_LINES 32u
#define PERIOD_IN (PERIOD_LINES * MW__B64_LINE_IN)
#define PSPREAD(k) {R64(WSPREAD, 64 * (k))},
#define PSHIFT(k) {R64(WSHIFT, 64 * (k))},
#define PCRLF(k) OR64(WCRLF, 64 * (k)),
#define PBASE(k) WBASE(64 * (k)),
#define P8(F, k) F(k) F((k) + 1) F((k) + 2) F((k) + 3) F((k) + 4) F((k) + 5) F((k) + 6) F((k) + 7)
#define P39(F) P8(F, 0) P8(F, 8) P8(F, 16) P8(F, 24) F(32) F(33) F(34) F(35) F(36) F(37) F(38)
static const unsigned char period_spread[39][64] = {P39(PSPREAD)};
static const unsigned char period_shift[39][64] = {P39(PSHIFT)};
static const uint64_t period_crlf[39] = {P39(PCRLF)};
static const unsigned short period_base[39] = {P39(PBASE)};
typedef char mw__b64_period_read_fits[WBASE(64 * 38) + 64 <= PERIOD_IN + MW__B64_LINE_IN ? 1 : -1];

/* Lines from the first whose output starts 64-byte aligned, 32 at a time
 * while a line follows (for chunk 38's read); out must be even, for a line
 * (78 bytes, 14 mod 64) can only start at even places. Returns the lines
 * done, all before the first coded here by enc_lines_run. */
__attribute__((noinline)) static size_t enc_lines_stream(const unsigned char *in, size_t nlines,
                                                         unsigned char *out, int url)
{
    enc_tables t;
    wrap_regs w;
    enc_tables_init(&t, url);
    wrap_regs_init(&w);
    /* 78m = -out (mod 64) <=> 7m = -out / 2 (mod 32); 7 * 23 = 1 (mod 32). */
    size_t first = ((64 - ((uintptr_t)out & 63)) & 63) / 2 * 23 % 32, l = first;
    enc_lines_run(in, 0, first, out, &w, &t);
    for (; l + PERIOD_LINES < nlines; l += PERIOD_LINES) {
        const unsigned char *p = in + l * MW__B64_LINE_IN;
        unsigned char *o = out + l * MW__B64_LINE_OUT;
        for (unsigned k = 0; k < 39; k++)
            _mm512_stream_si512((void *)(o + 64 * k),
                                enc_chunk(LOADU(p + period_base[k]), LOADU(period_spread[k]),
                                          LOADU(period_shift[k]), period_crlf[k], &t));
    }
    _mm_sfence();
    return l;
}

static inline void enc_lines_all(const unsigned char *in, size_t nlines, unsigned char *out,
                                 int url, const enc_tables *t)
{
    wrap_regs w;
    wrap_regs_init(&w);
    size_t l = 0;
    if (nlines >= STREAM_MIN / MW__B64_LINE_OUT && ((uintptr_t)out & 1) == 0) {
        l = enc_lines_stream(in, nlines, out, url);
        in += l * MW__B64_LINE_IN;
        out += l * MW__B64_LINE_OUT;
    }
    enc_lines_run(in, l, nlines, out, &w, t);
}

void mw__b64_enc_lines_avx512(const unsigned char *in, size_t nlines, unsigned char *out, int url)
{
    enc_tables t;
    enc_tables_init(&t, url);
    enc_lines_all(in, nlines, out, url, &t);
}

size_t mw__b64_enc_wrapped_avx512(const unsigned char *in, size_t len, unsigned char *out, int url)
{
    size_t nlines = len / MW__B64_LINE_IN, rest = len % MW__B64_LINE_IN / 3 * 3;
    enc_tables t;
    enc_tables_init(&t, url);
    enc_lines_all(in, nlines, out, url, &t);
    /* The short last line's whole groups. */
    enc_rest(in + nlines * MW__B64_LINE_IN, rest, out + nlines * MW__B64_LINE_OUT, &t);
    return nlines * MW__B64_LINE_IN + rest;
}

/* ---- decoding ---- */

typedef struct dec_tables {
    __m512i lo, hi, fill, join0, join1, join2;
} dec_tables;

static void dec_tables_init(dec_tables *t, int url)
{
    t->lo = LOADU(values[url != 0]);
    t->hi = LOADU(values[url != 0] + 64);
    t->fill = _mm512_set1_epi8('A'); /* a valid character for unused lanes */
    t->join0 = LOADU(join_idx[0]);
    t->join1 = LOADU(join_idx[1]);
    t->join2 = LOADU(join_idx[2]);
}

/* Map 64 characters to sextets and merge each quad into one 32-bit lane
 * (bytes 2, 1, 0 of the group, then zero). Bits 7 of *bad collect the
 * characters outside the alphabet: the table marks them with 0x80. The
 * permute reads only 7 bits of an index, so bytes >= 0x80 are clamped to
 * 0x7f (DEL, marked) first: one VPMINUB with the load folded in, which
 * costs less than reading the characters again to OR in their top bits
 * (1-4 % on 4 KiB in L1). */
static inline __m512i dec_lanes(__m512i x, const dec_tables *t, __m512i *bad)
{
    __m512i v = _mm512_permutex2var_epi8(t->lo, _mm512_min_epu8(x, _mm512_set1_epi8(0x7f)), t->hi);
    *bad = _mm512_or_si512(*bad, v);
    v = _mm512_maddubs_epi16(v, _mm512_set1_epi32(0x01400140));
    return _mm512_madd_epi16(v, _mm512_set1_epi32(0x00011000));
}

static inline int any_bad(__m512i bad) { return _mm512_movepi8_mask(bad) != 0; }

/* The 48 bytes of one block, without masked stores (slow on some CPUs). */
static inline void store48(unsigned char *out, __m512i lanes, const dec_tables *t)
{
    __m512i v = _mm512_permutexvar_epi8(t->join0, lanes);
    _mm256_storeu_si256((__m256i *)(void *)out, _mm512_castsi512_si256(v));
    _mm_storeu_si128((__m128i *)(void *)(out + 32), _mm512_extracti32x4_epi32(v, 2));
}

/* Decode 256 characters at in into 192 bytes: three full registers. Returns
 * 0 (nothing written) when a character is outside the alphabet. */
static inline int dec_four(const unsigned char *in, unsigned char *out, const dec_tables *t,
                           int stream)
{
    __m512i bad = _mm512_setzero_si512();
    __m512i m0 = dec_lanes(LOADU(in), t, &bad), m1 = dec_lanes(LOADU(in + 64), t, &bad);
    __m512i m2 = dec_lanes(LOADU(in + 128), t, &bad), m3 = dec_lanes(LOADU(in + 192), t, &bad);
    if (any_bad(bad)) return 0;
    __m512i w0 = _mm512_permutex2var_epi8(m0, t->join0, m1);
    __m512i w1 = _mm512_permutex2var_epi8(m1, t->join1, m2);
    __m512i w2 = _mm512_permutex2var_epi8(m2, t->join2, m3);
    if (stream) {
        _mm512_stream_si512((void *)out, w0);
        _mm512_stream_si512((void *)(out + 64), w1);
        _mm512_stream_si512((void *)(out + 128), w2);
    } else {
        _mm512_storeu_si512((void *)out, w0);
        _mm512_storeu_si512((void *)(out + 64), w1);
        _mm512_storeu_si512((void *)(out + 128), w2);
    }
    return 1;
}

/* Two groups of four blocks (512 characters) checked together. */
static inline int dec_eight(const unsigned char *in, unsigned char *out, const dec_tables *t)
{
    __m512i bad = _mm512_setzero_si512(), bad2 = _mm512_setzero_si512();
    __m512i m0 = dec_lanes(LOADU(in), t, &bad), n0 = dec_lanes(LOADU(in + 256), t, &bad2);
    __m512i m1 = dec_lanes(LOADU(in + 64), t, &bad), n1 = dec_lanes(LOADU(in + 320), t, &bad2);
    __m512i m2 = dec_lanes(LOADU(in + 128), t, &bad), n2 = dec_lanes(LOADU(in + 384), t, &bad2);
    __m512i m3 = dec_lanes(LOADU(in + 192), t, &bad), n3 = dec_lanes(LOADU(in + 448), t, &bad2);
    if (any_bad(_mm512_or_si512(bad, bad2))) return 0;
    _mm512_storeu_si512((void *)out, _mm512_permutex2var_epi8(m0, t->join0, m1));
    _mm512_storeu_si512((void *)(out + 64), _mm512_permutex2var_epi8(m1, t->join1, m2));
    _mm512_storeu_si512((void *)(out + 128), _mm512_permutex2var_epi8(m2, t->join2, m3));
    _mm512_storeu_si512((void *)(out + 192), _mm512_permutex2var_epi8(n0, t->join0, n1));
    _mm512_storeu_si512((void *)(out + 256), _mm512_permutex2var_epi8(n1, t->join1, n2));
    _mm512_storeu_si512((void *)(out + 320), _mm512_permutex2var_epi8(n2, t->join2, n3));
    return 1;
}

size_t mw__b64_dec_avx512(const unsigned char *in, size_t n, unsigned char *out, int url)
{
    size_t n4 = n & ~(size_t)3, i = 0;
    dec_tables t;
    dec_tables_init(&t, url);
    if (n4 >= STREAM_MIN) {
        /* Outputs this large cannot stay in cache: streaming stores skip
         * reading the destination lines first. They need 64-byte aligned
         * addresses: quads until out + 3q is aligned (3 * 43 = 1 mod 64). */
        size_t quads = ((64 - ((uintptr_t)out & 63)) & 63) * 43 % 64;
        i = mw__b64_dec_scalar(in, quads * 4, out, url);
        if (i < quads * 4) return i;
        for (; i + 256 <= n4 && dec_four(in + i, out + i / 4 * 3, &t, 1); i += 256) {
        }
        _mm_sfence();
    }
    for (; i + 512 <= n4 && dec_eight(in + i, out + i / 4 * 3, &t); i += 512) {
    }
    for (; i + 256 <= n4 && dec_four(in + i, out + i / 4 * 3, &t, 0); i += 256) {
    }
    for (; i + 64 <= n4; i += 64) {
        __m512i bad = _mm512_setzero_si512(), v = dec_lanes(LOADU(in + i), &t, &bad);
        if (any_bad(bad)) return i;
        store48(out + i / 4 * 3, v, &t);
    }
    if (i < n4) {
        size_t rest = n4 - i;
        __m512i bad = _mm512_setzero_si512();
        __m512i v = dec_lanes(_mm512_mask_loadu_epi8(t.fill, LOW_BITS(rest), in + i), &t, &bad);
        if (any_bad(bad)) return i;
        v = _mm512_permutexvar_epi8(t.join0, v);
        _mm512_mask_storeu_epi8(out + i / 4 * 3, LOW_BITS(rest / 4 * 3), v);
    }
    return n4;
}

/* Four 76-character lines + CRLF (312 bytes, 228 decoded), the MIME
 * layout: the 304 characters are gathered into five blocks without the
 * CRLFs (a block crosses at most one line end: two loads 2 bytes apart and
 * a blend), then decoded like one run: 192 bytes as three full registers
 * and 36 more. Everything is checked before anything is stored, and
 * nothing outside the four lines is read or written. The main loop takes
 * eight lines per check (4 KiB of lines: 90 to 81 ns in L1), then four.
 * dec_four_lines and dec_eight_lines return 0 when the lines need the
 * careful path. */
typedef struct four_lines {
    __m512i m0, m1, m2, m3, m4;
} four_lines;

static inline int four_lines_crlf(const unsigned char *p)
{
    static const unsigned char crlf[2] = {'\r', '\n'};
    return !(memcmp(p + 76, crlf, 2) | memcmp(p + 154, crlf, 2) | memcmp(p + 232, crlf, 2) |
             memcmp(p + 310, crlf, 2));
}

static inline void four_lines_lanes(const unsigned char *p, four_lines *f, const dec_tables *t,
                                    __m512i *bad)
{
    const __mmask64 all = ~(__mmask64)0;
    __m512i x1 = _mm512_mask_blend_epi8(all << 12, LOADU(p + 64), LOADU(p + 66));
    __m512i x2 = _mm512_mask_blend_epi8(all << 24, LOADU(p + 130), LOADU(p + 132));
    __m512i x3 = _mm512_mask_blend_epi8(all << 36, LOADU(p + 196), LOADU(p + 198));
    __m512i x4 = _mm512_mask_loadu_epi8(t->fill, ALL48, p + 262);
    f->m0 = dec_lanes(LOADU(p), t, bad);
    f->m1 = dec_lanes(x1, t, bad);
    f->m2 = dec_lanes(x2, t, bad);
    f->m3 = dec_lanes(x3, t, bad);
    f->m4 = dec_lanes(x4, t, bad);
}

static inline void four_lines_store(unsigned char *out, const four_lines *f, const dec_tables *t)
{
    _mm512_storeu_si512((void *)out, _mm512_permutex2var_epi8(f->m0, t->join0, f->m1));
    _mm512_storeu_si512((void *)(out + 64), _mm512_permutex2var_epi8(f->m1, t->join1, f->m2));
    _mm512_storeu_si512((void *)(out + 128), _mm512_permutex2var_epi8(f->m2, t->join2, f->m3));
    __m512i v = _mm512_permutexvar_epi8(t->join0, f->m4);
    uint32_t w = (uint32_t)_mm_cvtsi128_si32(_mm512_extracti32x4_epi32(v, 2));
    _mm256_storeu_si256((__m256i *)(void *)(out + 192), _mm512_castsi512_si256(v));
    memcpy(out + 224, &w, 4);
}

static inline int dec_four_lines(const unsigned char *p, unsigned char *out, const dec_tables *t)
{
    four_lines f;
    __m512i bad = _mm512_setzero_si512();
    if (!four_lines_crlf(p)) return 0;
    four_lines_lanes(p, &f, t, &bad);
    if (any_bad(bad)) return 0;
    four_lines_store(out, &f, t);
    return 1;
}

static inline int dec_eight_lines(const unsigned char *p, unsigned char *out, const dec_tables *t)
{
    four_lines f, g;
    __m512i bad = _mm512_setzero_si512(), bad2 = _mm512_setzero_si512();
    if (!(four_lines_crlf(p) & four_lines_crlf(p + 312))) return 0;
    four_lines_lanes(p, &f, t, &bad);
    four_lines_lanes(p + 312, &g, t, &bad2);
    if (any_bad(_mm512_or_si512(bad, bad2))) return 0;
    four_lines_store(out, &f, t);
    four_lines_store(out + 228, &g, t);
    return 1;
}

size_t mw__b64_dec_lines_avx512(const unsigned char *in, size_t n, unsigned char *out, size_t room,
                                size_t len, int url)
{
    size_t used = 0, line_out = len / 4 * 3;
    if (len < 16 || len > 96 || len % 4) return 0;
    dec_tables t;
    dec_tables_init(&t, url);
    if (len == 76) {
        while (n - used >= 8 * 78 && room >= 8 * 57 && dec_eight_lines(in + used, out, &t)) {
            out += 8 * 57;
            room -= 8 * 57;
            used += 8 * 78;
        }
        while (n - used >= 4 * 78 && room >= 4 * 57 && dec_four_lines(in + used, out, &t)) {
            out += 4 * 57;
            room -= 4 * 57;
            used += 4 * 78;
        }
    }
    /* Other lengths, and the last lines: a line is one block of up to 64
     * characters and maybe a second one; both are checked before any byte
     * of the line is stored. */
    size_t first = len < 64 ? len : 64, second = len - first;
    __mmask64 m1 = first == 64 ? ~(__mmask64)0 : LOW_BITS(first), m2 = LOW_BITS(second);
    __mmask64 o1 = LOW_BITS(first / 4 * 3), o2 = LOW_BITS(second / 4 * 3);
    while (n - used >= len + 2 && room >= line_out && in[used + len] == '\r' &&
           in[used + len + 1] == '\n') {
        const unsigned char *p = in + used;
        __m512i bad = _mm512_setzero_si512();
        __m512i v1 = dec_lanes(_mm512_mask_loadu_epi8(t.fill, m1, p), &t, &bad), v2 = v1;
        if (second) v2 = dec_lanes(_mm512_mask_loadu_epi8(t.fill, m2, p + 64), &t, &bad);
        if (any_bad(bad)) break;
        _mm512_mask_storeu_epi8(out, o1, _mm512_permutexvar_epi8(t.join0, v1));
        if (second) _mm512_mask_storeu_epi8(out + 48, o2, _mm512_permutexvar_epi8(t.join0, v2));
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
