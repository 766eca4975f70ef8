/*
 * mailwire — quoted-printable encoder and decoder (RFC 2045 §6.7).
 *
 * Both steppers have a fast path that works on long runs of ordinary bytes
 * (found 16 at a time with SSE2 where available, copied with memcpy /
 * memmove; 64 at a time in the AVX-512 kernels of qp_avx512.c and
 * qp_enc_avx512.c, chosen at run time) and a byte-level slow path that
 * holds the exact rules. The fast paths only take decisions the slow path
 * would take with the same bytes, so the output does not depend on the
 * CPU or on how input and output space are cut.
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec_internal.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#define MW_QP_HAVE_SSE2 1
#else
#define MW_QP_HAVE_SSE2 0
#endif

/* Longest encoded line without its CRLF (RFC 2045 §6.7 rule 5). A line that
 * ends in a soft break holds at most MW_QP_LINE - 1 characters before '='. */
#define MW_QP_LINE 76u

static const char qp_hex_digits[16] = {'0', '1', '2', '3', '4', '5', '6', '7',
                                       '8', '9', 'A', 'B', 'C', 'D', 'E', 'F'};

/* Hex digit values: 0..15 for 0-9 and A-F, 0x10 | value for a-f (legal only
 * in lenient mode, RFC 2045 §6.7 rule 1 "robust implementation"), 0xff for
 * anything else. */
static const unsigned char qp_hex_value[256] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

/* Encoder tables. qp_enc_word: what a byte becomes when encoded alone
 * (itself, or "=XX"); qp_width_text / qp_width_bin: its width in text and
 * binary mode, QP_W_LOOK for the bytes text mode must look at more closely
 * (space, tab, CR, LF). In binary mode only the end of the data makes white space
 * trailing, and the fast path never sees the end. */
static const unsigned char qp_enc_word[256][4] = {
    {'=', '0', '0', 0}, {'=', '0', '1', 0}, {'=', '0', '2', 0}, {'=', '0', '3', 0},
    {'=', '0', '4', 0}, {'=', '0', '5', 0}, {'=', '0', '6', 0}, {'=', '0', '7', 0},
    {'=', '0', '8', 0}, {'\t', 0, 0, 0}, {'=', '0', 'A', 0}, {'=', '0', 'B', 0},
    {'=', '0', 'C', 0}, {'=', '0', 'D', 0}, {'=', '0', 'E', 0}, {'=', '0', 'F', 0},
    {'=', '1', '0', 0}, {'=', '1', '1', 0}, {'=', '1', '2', 0}, {'=', '1', '3', 0},
    {'=', '1', '4', 0}, {'=', '1', '5', 0}, {'=', '1', '6', 0}, {'=', '1', '7', 0},
    {'=', '1', '8', 0}, {'=', '1', '9', 0}, {'=', '1', 'A', 0}, {'=', '1', 'B', 0},
    {'=', '1', 'C', 0}, {'=', '1', 'D', 0}, {'=', '1', 'E', 0}, {'=', '1', 'F', 0},
    {' ', 0, 0, 0}, {'!', 0, 0, 0}, {'"', 0, 0, 0}, {'#', 0, 0, 0},
    {'$', 0, 0, 0}, {'%', 0, 0, 0}, {'&', 0, 0, 0}, {'\'', 0, 0, 0},
    {'(', 0, 0, 0}, {')', 0, 0, 0}, {'*', 0, 0, 0}, {'+', 0, 0, 0},
    {',', 0, 0, 0}, {'-', 0, 0, 0}, {'.', 0, 0, 0}, {'/', 0, 0, 0},
    {'0', 0, 0, 0}, {'1', 0, 0, 0}, {'2', 0, 0, 0}, {'3', 0, 0, 0},
    {'4', 0, 0, 0}, {'5', 0, 0, 0}, {'6', 0, 0, 0}, {'7', 0, 0, 0},
    {'8', 0, 0, 0}, {'9', 0, 0, 0}, {':', 0, 0, 0}, {';', 0, 0, 0},
    {'<', 0, 0, 0}, {'=', '3', 'D', 0}, {'>', 0, 0, 0}, {'?', 0, 0, 0},
    {'@', 0, 0, 0}, {'A', 0, 0, 0}, {'B', 0, 0, 0}, {'C', 0, 0, 0},
    {'D', 0, 0, 0}, {'E', 0, 0, 0}, {'F', 0, 0, 0}, {'G', 0, 0, 0},
    {'H', 0, 0, 0}, {'I', 0, 0, 0}, {'J', 0, 0, 0}, {'K', 0, 0, 0},
    {'L', 0, 0, 0}, {'M', 0, 0, 0}, {'N', 0, 0, 0}, {'O', 0, 0, 0},
    {'P', 0, 0, 0}, {'Q', 0, 0, 0}, {'R', 0, 0, 0}, {'S', 0, 0, 0},
    {'T', 0, 0, 0}, {'U', 0, 0, 0}, {'V', 0, 0, 0}, {'W', 0, 0, 0},
    {'X', 0, 0, 0}, {'Y', 0, 0, 0}, {'Z', 0, 0, 0}, {'[', 0, 0, 0},
    {'\\', 0, 0, 0}, {']', 0, 0, 0}, {'^', 0, 0, 0}, {'_', 0, 0, 0},
    {'`', 0, 0, 0}, {'a', 0, 0, 0}, {'b', 0, 0, 0}, {'c', 0, 0, 0},
    {'d', 0, 0, 0}, {'e', 0, 0, 0}, {'f', 0, 0, 0}, {'g', 0, 0, 0},
    {'h', 0, 0, 0}, {'i', 0, 0, 0}, {'j', 0, 0, 0}, {'k', 0, 0, 0},
    {'l', 0, 0, 0}, {'m', 0, 0, 0}, {'n', 0, 0, 0}, {'o', 0, 0, 0},
    {'p', 0, 0, 0}, {'q', 0, 0, 0}, {'r', 0, 0, 0}, {'s', 0, 0, 0},
    {'t', 0, 0, 0}, {'u', 0, 0, 0}, {'v', 0, 0, 0}, {'w', 0, 0, 0},
    {'x', 0, 0, 0}, {'y', 0, 0, 0}, {'z', 0, 0, 0}, {'{', 0, 0, 0},
    {'|', 0, 0, 0}, {'}', 0, 0, 0}, {'~', 0, 0, 0}, {'=', '7', 'F', 0},
    {'=', '8', '0', 0}, {'=', '8', '1', 0}, {'=', '8', '2', 0}, {'=', '8', '3', 0},
    {'=', '8', '4', 0}, {'=', '8', '5', 0}, {'=', '8', '6', 0}, {'=', '8', '7', 0},
    {'=', '8', '8', 0}, {'=', '8', '9', 0}, {'=', '8', 'A', 0}, {'=', '8', 'B', 0},
    {'=', '8', 'C', 0}, {'=', '8', 'D', 0}, {'=', '8', 'E', 0}, {'=', '8', 'F', 0},
    {'=', '9', '0', 0}, {'=', '9', '1', 0}, {'=', '9', '2', 0}, {'=', '9', '3', 0},
    {'=', '9', '4', 0}, {'=', '9', '5', 0}, {'=', '9', '6', 0}, {'=', '9', '7', 0},
    {'=', '9', '8', 0}, {'=', '9', '9', 0}, {'=', '9', 'A', 0}, {'=', '9', 'B', 0},
    {'=', '9', 'C', 0}, {'=', '9', 'D', 0}, {'=', '9', 'E', 0}, {'=', '9', 'F', 0},
    {'=', 'A', '0', 0}, {'=', 'A', '1', 0}, {'=', 'A', '2', 0}, {'=', 'A', '3', 0},
    {'=', 'A', '4', 0}, {'=', 'A', '5', 0}, {'=', 'A', '6', 0}, {'=', 'A', '7', 0},
    {'=', 'A', '8', 0}, {'=', 'A', '9', 0}, {'=', 'A', 'A', 0}, {'=', 'A', 'B', 0},
    {'=', 'A', 'C', 0}, {'=', 'A', 'D', 0}, {'=', 'A', 'E', 0}, {'=', 'A', 'F', 0},
    {'=', 'B', '0', 0}, {'=', 'B', '1', 0}, {'=', 'B', '2', 0}, {'=', 'B', '3', 0},
    {'=', 'B', '4', 0}, {'=', 'B', '5', 0}, {'=', 'B', '6', 0}, {'=', 'B', '7', 0},
    {'=', 'B', '8', 0}, {'=', 'B', '9', 0}, {'=', 'B', 'A', 0}, {'=', 'B', 'B', 0},
    {'=', 'B', 'C', 0}, {'=', 'B', 'D', 0}, {'=', 'B', 'E', 0}, {'=', 'B', 'F', 0},
    {'=', 'C', '0', 0}, {'=', 'C', '1', 0}, {'=', 'C', '2', 0}, {'=', 'C', '3', 0},
    {'=', 'C', '4', 0}, {'=', 'C', '5', 0}, {'=', 'C', '6', 0}, {'=', 'C', '7', 0},
    {'=', 'C', '8', 0}, {'=', 'C', '9', 0}, {'=', 'C', 'A', 0}, {'=', 'C', 'B', 0},
    {'=', 'C', 'C', 0}, {'=', 'C', 'D', 0}, {'=', 'C', 'E', 0}, {'=', 'C', 'F', 0},
    {'=', 'D', '0', 0}, {'=', 'D', '1', 0}, {'=', 'D', '2', 0}, {'=', 'D', '3', 0},
    {'=', 'D', '4', 0}, {'=', 'D', '5', 0}, {'=', 'D', '6', 0}, {'=', 'D', '7', 0},
    {'=', 'D', '8', 0}, {'=', 'D', '9', 0}, {'=', 'D', 'A', 0}, {'=', 'D', 'B', 0},
    {'=', 'D', 'C', 0}, {'=', 'D', 'D', 0}, {'=', 'D', 'E', 0}, {'=', 'D', 'F', 0},
    {'=', 'E', '0', 0}, {'=', 'E', '1', 0}, {'=', 'E', '2', 0}, {'=', 'E', '3', 0},
    {'=', 'E', '4', 0}, {'=', 'E', '5', 0}, {'=', 'E', '6', 0}, {'=', 'E', '7', 0},
    {'=', 'E', '8', 0}, {'=', 'E', '9', 0}, {'=', 'E', 'A', 0}, {'=', 'E', 'B', 0},
    {'=', 'E', 'C', 0}, {'=', 'E', 'D', 0}, {'=', 'E', 'E', 0}, {'=', 'E', 'F', 0},
    {'=', 'F', '0', 0}, {'=', 'F', '1', 0}, {'=', 'F', '2', 0}, {'=', 'F', '3', 0},
    {'=', 'F', '4', 0}, {'=', 'F', '5', 0}, {'=', 'F', '6', 0}, {'=', 'F', '7', 0},
    {'=', 'F', '8', 0}, {'=', 'F', '9', 0}, {'=', 'F', 'A', 0}, {'=', 'F', 'B', 0},
    {'=', 'F', 'C', 0}, {'=', 'F', 'D', 0}, {'=', 'F', 'E', 0}, {'=', 'F', 'F', 0},
};

#define QP_W_LOOK 64u

static const unsigned char qp_width_text[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 64, 64, 3, 3, 64, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    64, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

static const unsigned char qp_width_bin[256] = {
    3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

/* Index of the lowest set bit of a non-zero mask. */
static unsigned qp_ctz(unsigned m)
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctz(m);
#else
    unsigned i = 0;
    while (!(m & 1u)) {
        m >>= 1;
        i++;
    }
    return i;
#endif
}

/* Index of the highest set bit of a non-zero mask. */
static unsigned qp_high_bit(unsigned m)
{
#if defined(__GNUC__) || defined(__clang__)
    return 31u - (unsigned)__builtin_clz(m);
#else
    unsigned i = 0;
    while (m >>= 1) i++;
    return i;
#endif
}

static int qp_is_ws(unsigned b) { return b == ' ' || b == '\t'; }

/* Printable ASCII that may stand for itself (rule 2): '!'..'~' except '='. */
static int qp_is_literal(unsigned b) { return b - 33u < 94u && b != '='; }

static int qp_stepper_ok(const mw_codec *c)
{
    return c && (c->next_in || !c->avail_in) && (c->next_out || !c->avail_out);
}

static void qp_consume(mw_codec *c, size_t n)
{
    if (!n) return; /* next_in may be NULL: no arithmetic on it */
    c->next_in += n;
    c->avail_in -= n;
    c->total_in += n;
}

static void qp_produced(mw_codec *c, size_t n)
{
    if (!n) return;
    c->next_out += n;
    c->avail_out -= n;
    c->total_out += n;
}

/* Write n bytes (n <= 4); what does not fit waits in pend (which is empty
 * whenever this is called). */
static void qp_put(mw_codec *c, unsigned char *pend, uint8_t *pend_pos, uint8_t *pend_len,
                   const void *s, size_t n)
{
    size_t k = n < c->avail_out ? n : c->avail_out;
    if (k) memcpy(c->next_out, s, k); /* next_out may be NULL when there is no room */
    qp_produced(c, k);
    if (k < n) {
        memcpy(pend, (const unsigned char *)s + k, n - k);
        *pend_pos = 0;
        *pend_len = (uint8_t)(n - k);
    }
}

/* Write out pending bytes. @return 1 when nothing is left pending. */
static int qp_drain(mw_codec *c, const unsigned char *pend, uint8_t *pend_pos, uint8_t *pend_len)
{
    size_t left = (size_t)(*pend_len - *pend_pos);
    size_t k = left < c->avail_out ? left : c->avail_out;
    if (k) memcpy(c->next_out, pend + *pend_pos, k);
    qp_produced(c, k);
    *pend_pos = (uint8_t)(*pend_pos + k);
    if (*pend_pos < *pend_len) return 0;
    *pend_pos = *pend_len = 0;
    return 1;
}

/* ------------------------------------------------------------------ */
/* encoder                                                              */
/* ------------------------------------------------------------------ */

#define QP_ENC_FLAGS (MW_QP_BINARY | MW_QP_DOT | MW_QP_FROM | MW_QP_LF_EOL)

/* Why the encoder core stopped. */
enum { QP_ENC_END, QP_ENC_OUT, QP_ENC_NEED };

/* Copy 16 bytes from p to o (the caller has room for them) and return a
 * bit mask of those that cannot stand for themselves: all but '!'..'~'
 * without '=', space and tab (the caller handles trailing white space). */
static unsigned qp_enc_mask(const unsigned char *p, unsigned char *o)
{
#if MW_QP_HAVE_SSE2
    const __m128i low = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
    const __m128i eq = _mm_set1_epi8('='), tab = _mm_set1_epi8('\t');
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    _mm_storeu_si128((__m128i *)(void *)o, v);
    /* signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too */
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, low),
                               _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmpeq_epi8(v, eq)));
    bad = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), bad);
    return (unsigned)_mm_movemask_epi8(bad);
#else
    unsigned m = 0;
    memcpy(o, p, 16);
    for (unsigned i = 0; i < 16; i++)
        m |= (unsigned)!(qp_is_literal(p[i]) || qp_is_ws(p[i])) << i;
    return m;
#endif
}

/* Like qp_enc_mask for text mode, but clean CRLFs inside the block are not
 * marked; their CRs are returned in *crs. */
static unsigned qp_enc_mask_text(const unsigned char *p, unsigned char *o, unsigned *crs)
{
#if MW_QP_HAVE_SSE2
    const __m128i low = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
    const __m128i eq = _mm_set1_epi8('='), tab = _mm_set1_epi8('\t'), sp = _mm_set1_epi8(' ');
    const __m128i cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    _mm_storeu_si128((__m128i *)(void *)o, v);
    __m128i is_tab = _mm_cmpeq_epi8(v, tab);
    __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, low),
                               _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmpeq_epi8(v, eq)));
    bad = _mm_andnot_si128(is_tab, bad);
    unsigned ws = (unsigned)_mm_movemask_epi8(_mm_or_si128(is_tab, _mm_cmpeq_epi8(v, sp)));
    unsigned crm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr));
    unsigned lfm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf));
    unsigned clean = mw__qp_clean_crs(crm, lfm, ws);
    *crs = clean;
    return (unsigned)_mm_movemask_epi8(bad) & ~(clean | clean << 1);
#else
    *crs = 0;
    return qp_enc_mask(p, o);
#endif
}

static void qp_enc_put(mw_codec *c, mw__qp_enc_state *st, const void *s, size_t n)
{
    qp_put(c, st->pend, &st->pend_pos, &st->pend_len, s, n);
}

/* Does a hard line break (or the end of the data) start at p?
 * @return 1 yes, 0 no, -1 cannot tell without more input. */
static int qp_enc_break_at(const unsigned char *p, const unsigned char *e, int final, unsigned flags)
{
    if (p == e) return final ? 1 : -1;
    if (flags & MW_QP_BINARY) return 0;
    if (*p == '\n') return (flags & MW_QP_LF_EOL) ? 1 : 0;
    if (*p != '\r') return 0;
    if (p + 1 == e) return final ? 0 : -1;
    return p[1] == '\n';
}

/* Does "From " start at p? @return 1, 0, or -1 (need more input). */
static int qp_enc_from_at(const unsigned char *p, const unsigned char *e, int final)
{
    static const char from[5] = {'F', 'r', 'o', 'm', ' '};
    size_t have = (size_t)(e - p) < 5 ? (size_t)(e - p) : 5;
    if (memcmp(p, from, have) != 0) return 0;
    if (have == 5) return 1;
    return final ? 0 : -1;
}

static void qp_enc_escape(unsigned char *o, unsigned b)
{
    o[0] = '=';
    o[1] = (unsigned char)qp_hex_digits[b >> 4];
    o[2] = (unsigned char)qp_hex_digits[b & 15];
}

/*
 * The reference rules, one token at p (slow path).
 * @return input bytes consumed (0 when only a soft break was written), or
 *         -1 when the decision needs bytes beyond e and final is 0.
 */
static int qp_enc_token(mw_codec *c, mw__qp_enc_state *st, const unsigned char *p,
                        const unsigned char *e, int final)
{
    unsigned flags = c->flags, b = *p;
    int esc, hb;
    if (!(flags & MW_QP_BINARY)) {
        if (b == '\r') {
            if (p + 1 == e && !final) return -1;
            if (p + 1 < e && p[1] == '\n') {
                qp_enc_put(c, st, "\r\n", 2);
                st->col = 0;
                return 2;
            }
        } else if (b == '\n' && (flags & MW_QP_LF_EOL)) {
            qp_enc_put(c, st, "\r\n", 2);
            st->col = 0;
            return 1;
        }
    }
    if (qp_is_ws(b)) { /* rule 3: white space before a line end is encoded */
        hb = qp_enc_break_at(p + 1, e, final, flags);
        if (hb < 0) return -1;
        esc = hb;
    } else if (st->col == 0 && b == '.' && (flags & MW_QP_DOT)) {
        esc = 1;
    } else if (st->col == 0 && b == 'F' && (flags & MW_QP_FROM)) {
        hb = qp_enc_from_at(p, e, final);
        if (hb < 0) return -1;
        esc = hb;
    } else {
        esc = !qp_is_literal(b);
    }
    unsigned width = esc ? 3u : 1u;
    if (st->col + width > MW_QP_LINE - 1) {
        /* The 76th column may be used only when no '=' has to follow it. */
        int fits = 0;
        if (st->col + width == MW_QP_LINE) {
            hb = qp_enc_break_at(p + 1, e, final, flags);
            if (hb < 0) return -1;
            fits = hb;
        }
        if (!fits) {
            qp_enc_put(c, st, "=\r\n", 3);
            st->col = 0;
            return 0;
        }
    }
    unsigned char tok[3];
    if (esc) qp_enc_escape(tok, b);
    else tok[0] = (unsigned char)b;
    qp_enc_put(c, st, tok, width);
    st->col += width;
    return 1;
}

/* Four tokens a step from the tables while four escapes still fit on the
 * line; stops before a text-mode special (space, CR, LF) and before four
 * plain bytes (a run for the block loop: *run is set). Kept apart so that its few
 * variables stay in registers. */
static unsigned char *qp_enc_quads(const unsigned char **pp, const unsigned char *stop,
                                   unsigned char *o, unsigned *colp, const unsigned char *widths,
                                   int *run)
{
    const unsigned char *p = *pp;
    if (*colp + 12 > MW_QP_LINE - 1) return o;
    unsigned char *o0 = o, *olim = o + (MW_QP_LINE - 13 - *colp); /* the column, kept in o */
    while (p + 4 <= stop && o <= olim) {
        unsigned b0 = p[0], b1 = p[1], b2 = p[2], b3 = p[3];
        unsigned w0 = widths[b0], w1 = widths[b1], w2 = widths[b2], w3 = widths[b3];
        unsigned all = w0 | w1 | w2 | w3; /* widths are 1, 3 or QP_W_LOOK */
        if (all == 1) {
            *run = 1;
            break;
        }
        if (all & QP_W_LOOK) break;
        memcpy(o, qp_enc_word[b0], 4);
        o += w0;
        memcpy(o, qp_enc_word[b1], 4);
        o += w1;
        memcpy(o, qp_enc_word[b2], 4);
        o += w2;
        memcpy(o, qp_enc_word[b3], 4);
        o += w3;
        p += 4;
    }
    *pp = p;
    *colp += (unsigned)(o - o0);
    return o;
}

/* Fast path: runs of plain bytes 16 at a time and every common token,
 * while at least 24 input bytes (a block plus lookahead) and 100 bytes of
 * output space (a line) are left. The output must not overlap the input (blocks are
 * stored before they are classified). Stops at anything it does not decide
 * exactly as qp_enc_token would: a protected line start, the buffer ends. */
static const unsigned char *qp_enc_fast(mw_codec *c, mw__qp_enc_state *st, const unsigned char *p,
                                        const unsigned char *e)
{
    unsigned flags = c->flags;
    int text = !(flags & MW_QP_BINARY);
    int lf_eol = text && (flags & MW_QP_LF_EOL);
    int protect = (flags & (MW_QP_DOT | MW_QP_FROM)) != 0;
    unsigned col = st->col;
    unsigned char *o = c->next_out, *oe = o + c->avail_out;
    const unsigned char *widths = text ? qp_width_text : qp_width_bin;
    int crlf_in_blocks = text && !protect;
    while (e - p >= 24 && oe - o >= 100) {
        unsigned b = *p;
        if (col == 0 && protect && (b == '.' || b == 'F')) break;
        int plain = qp_width_bin[b] == 1; /* stands for itself (white space: maybe) */
        if (plain && col < MW_QP_LINE - 1 && (qp_width_bin[p[1]] == 1 || col > MW_QP_LINE - 4)) {
            /* a run: 16 bytes at a time; whole blocks advance by a constant
             * so the next load does not wait for this one's result. In
             * text mode a block may hold clean CRLFs (not with DOT/FROM:
             * those look at every line start). */
            const unsigned char *start = p;
            size_t k;
            for (;;) {
                unsigned crs = 0;
                unsigned m = crlf_in_blocks ? qp_enc_mask_text(p, o, &crs) : qp_enc_mask(p, o);
                if (!m && e - p >= 40) {
                    if (!crs && col + 16 <= MW_QP_LINE - 1) {
                        p += 16;
                        o += 16;
                        col += 16;
                        continue;
                    }
                    /* the line before the first CR may reach column 76;
                     * crossing lines here is not bounded by the column, so
                     * keep the loop's 100-byte output margin for the next
                     * block's store */
                    if (crs && col + qp_ctz(crs) <= MW_QP_LINE && oe - o >= 116) {
                        p += 16;
                        o += 16;
                        col = 14u - qp_high_bit(crs);
                        continue;
                    }
                }
                k = qp_ctz(m | crs | 0x10000u);
                size_t room = col < MW_QP_LINE - 1 ? MW_QP_LINE - 1 - col : 0;
                if (k > room) k = room;
                break;
            }
            p += k;
            o += k;
            col += (unsigned)k;
            /* the last white space before a line end is not plain (rule 3) */
            if (text && p > start && qp_is_ws(p[-1]) && (*p == '\r' || (lf_eol && *p == '\n'))) {
                p--;
                o--;
                col--;
            }
            if (p != start) continue;
            b = *p; /* white space before a line end */
        } else {
            /* mixed or binary data: tokens from a table, without branches
             * on the byte's class, soft breaks included */
            const unsigned char *stop = e - 24;
            int to_token = 0;
            for (;;) {
                int run = 0;
                o = qp_enc_quads(&p, stop, o, &col, widths, &run);
                if (run) break; /* the block loop takes it from the top */
                if (p > stop || oe - o < 100) break; /* the outer loop ends too */
                b = *p;
                unsigned w = widths[b];
                if (w & QP_W_LOOK) { /* space, CR or LF in text mode */
                    to_token = 1;
                    break;
                }
                if (col + w > MW_QP_LINE - 1) {
                    if (text && col + w == MW_QP_LINE) { /* the 76th column, maybe */
                        to_token = 1;
                        break;
                    }
                    memcpy(o, "=\r\n", 3);
                    o += 3;
                    col = 0;
                    if (protect) break; /* line starts are checked at the top */
                    continue;
                }
                memcpy(o, qp_enc_word[b], 4);
                o += w;
                col += w;
                p++;
            }
            if (!to_token) continue;
        }
        if (text && b == '\r' && p[1] == '\n') {
            o[0] = '\r';
            o[1] = '\n';
            o += 2;
            p += 2;
            col = 0;
            continue;
        }
        if (lf_eol && b == '\n') {
            o[0] = '\r';
            o[1] = '\n';
            o += 2;
            p += 1;
            col = 0;
            continue;
        }
        /* the same test serves rule 3 and the 76th column */
        int hard_next = text && ((p[1] == '\r' && p[2] == '\n') || (lf_eol && p[1] == '\n'));
        unsigned width = qp_is_ws(b) ? (hard_next ? 3u : 1u) : qp_is_literal(b) ? 1u : 3u;
        if (col + width > MW_QP_LINE - 1 && (col + width > MW_QP_LINE || !hard_next)) {
            memcpy(o, "=\r\n", 3);
            o += 3;
            col = 0;
            continue;
        }
        if (width == 3) qp_enc_escape(o, b);
        else o[0] = (unsigned char)b;
        o += width;
        col += width;
        p++;
    }
    st->col = col;
    qp_produced(c, (size_t)(o - c->next_out));
    return p;
}

/* Encode from in[0, len) into c's output. *used receives the bytes taken. */
static int qp_enc_core(mw_codec *c, mw__qp_enc_state *st, const unsigned char *in, size_t len,
                       int final, size_t *used, int level)
{
    const unsigned char *p = in, *e = in + len;
    int why = QP_ENC_END;
#if MW__QP_AVX512
    if (level >= MW__QP_LEVEL_AVX512 && e - p >= 8 && c->avail_out >= 144) {
        size_t made;
        unsigned col = st->col;
        p += mw__qp_enc_run_avx512(p, (size_t)(e - p), c->next_out, c->avail_out, &col, c->flags,
                                   &made);
        st->col = col;
        qp_produced(c, made);
    }
#endif
    while (p < e) {
        if (c->avail_out == 0) {
            why = QP_ENC_OUT;
            break;
        }
        if (level != MW__QP_LEVEL_BYTE && e - p >= 24 && c->avail_out >= 100) {
            p = qp_enc_fast(c, st, p, e);
            if (p == e) break;
            if (c->avail_out == 0) continue;
        }
        int k = qp_enc_token(c, st, p, e, final);
        if (k < 0) {
            why = QP_ENC_NEED;
            break;
        }
        p += k;
    }
    *used = (size_t)(p - in);
    return why;
}

int mw_qp_encode_init(mw_codec *c, unsigned flags)
{
    if (!c) return MW_ERR_INVALID;
    memset(c, 0, sizeof *c);
    if ((flags & ~QP_ENC_FLAGS) || ((flags & MW_QP_BINARY) && (flags & MW_QP_LF_EOL)))
        return MW_ERR_INVALID;
    c->flags = flags;
    return MW_OK;
}

#if MW__QP_AVX512
/* The AVX-512 parts both QP kernels need (the encoder BMI2 as well). */
static int cpu_qp_avx512(void)
{
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi") &&
           __builtin_cpu_supports("avx512vbmi2") && __builtin_cpu_supports("popcnt");
}
#endif

/* The highest level `supported` accepts; the block level always is. */
static int best_level(int (*supported)(int))
{
    for (int level = MW__QP_LEVELS - 1; level > MW__QP_LEVEL_BLOCK; level--)
        if (supported(level)) return level;
    return MW__QP_LEVEL_BLOCK;
}

int mw__qp_enc_level_supported(int level)
{
    switch (level) {
    case MW__QP_LEVEL_BYTE:
    case MW__QP_LEVEL_BLOCK:
        return 1;
#if MW__QP_AVX512
    case MW__QP_LEVEL_AVX512:
        return cpu_qp_avx512() && __builtin_cpu_supports("bmi2") ? 1 : 0;
#endif
    default:
        return 0;
    }
}

int mw__qp_enc_level_best(void) { return best_level(mw__qp_enc_level_supported); }

int mw__qp_enc_set_level(mw_codec *c, int level)
{
    if (!c || level < 0 || level >= MW__QP_LEVELS) return MW_ERR_INVALID;
    if (!mw__qp_enc_level_supported(level)) return MW_ERR_UNSUPPORTED;
    MW_CODEC_STATE(c, mw__qp_enc_state)->level_force = (uint8_t)(level + 1);
    return MW_OK;
}

int mw_qp_encode_step(mw_codec *c, int finish)
{
    if (!qp_stepper_ok(c) || (c->flags & ~QP_ENC_FLAGS)) return MW_ERR_INVALID;
    mw__qp_enc_state *st = MW_CODEC_STATE(c, mw__qp_enc_state);
    int level = st->level_force ? st->level_force - 1 : mw__qp_enc_level_best();
    for (;;) {
        if (!qp_drain(c, st->pend, &st->pend_pos, &st->pend_len)) return MW_CODEC_MORE;
        size_t used;
        if (st->hold_len) {
            /* Bytes kept for lookahead: top them up and retry. */
            size_t take = sizeof st->hold - st->hold_len;
            if (take > c->avail_in) take = c->avail_in;
            if (take) memcpy(st->hold + st->hold_len, c->next_in, take); /* next_in may be NULL */
            st->hold_len = (uint8_t)(st->hold_len + take);
            qp_consume(c, take);
            int why = qp_enc_core(c, st, st->hold, st->hold_len, finish && !c->avail_in, &used, level);
            memmove(st->hold, st->hold + used, st->hold_len - used);
            st->hold_len = (uint8_t)(st->hold_len - used);
            /* Still held: either the output is full or the lookahead
             * waits for input the caller has not given yet. */
            if (st->hold_len && (why == QP_ENC_OUT || !c->avail_in)) return MW_CODEC_MORE;
            continue;
        }
        if (!c->avail_in) return finish ? MW_CODEC_DONE : MW_CODEC_MORE;
        int why = qp_enc_core(c, st, c->next_in, c->avail_in, finish, &used, level);
        qp_consume(c, used);
        if (why == QP_ENC_OUT) return MW_CODEC_MORE;
        if (why == QP_ENC_NEED) { /* fewer than 6 bytes left: keep them */
            if (c->avail_in > sizeof st->hold) return MW_ERR_INVALID; /* cannot happen */
            memcpy(st->hold, c->next_in, c->avail_in);
            st->hold_len = (uint8_t)c->avail_in;
            qp_consume(c, c->avail_in);
        }
    }
}

size_t mw_qp_encoded_max(size_t len, unsigned flags)
{
    (void)flags;
    /* Every byte costs at most 3 characters; a soft break ("=" CRLF) follows
     * at least 25 input bytes, since a line is only broken at column 73 or
     * later and one byte fills at most 3 columns. */
    if (len > SIZE_MAX / 4) return 0;
    return 3 * len + 3 * (len / 25);
}

mw_ssize mw_qp_encode(const void *in, size_t len, char *out, size_t cap, unsigned flags)
{
    mw_codec c;
    if ((!in && len) || (!out && cap) || cap > (size_t)PTRDIFF_MAX) return MW_ERR_INVALID;
    int rc = mw_qp_encode_init(&c, flags);
    if (rc != MW_OK) return rc;
    c.next_in = in;
    c.avail_in = len;
    c.next_out = (unsigned char *)out;
    c.avail_out = cap;
    rc = mw_qp_encode_step(&c, 1);
    if (rc < 0) return rc;
    if (rc != MW_CODEC_DONE) return MW_ERR_BUFFER;
    return (mw_ssize)c.total_out;
}

/* ------------------------------------------------------------------ */
/* decoder                                                              */
/* ------------------------------------------------------------------ */

enum {
    QP_D_NORMAL, /* between tokens (white space may be held) */
    QP_D_CR,     /* CR seen: CRLF or a bare CR? */
    QP_D_EQ,     /* '=' seen */
    QP_D_HEX1,   /* '=' and one hex digit seen */
    QP_D_EQ_WS,  /* '=' and white space seen (soft break with transport padding?) */
    QP_D_EQ_CR,  /* '=' [white space] CR seen */
    QP_D_DONE,
    QP_D_ERROR
};

static void qp_defect(mw_codec *c, uint64_t offset, unsigned bit)
{
    if (!c->warnings) c->error_offset = offset;
    c->warnings |= bit;
}

static void qp_dec_put(mw_codec *c, mw__qp_dec_state *st, const void *s, size_t n)
{
    qp_put(c, st->pend, &st->pend_pos, &st->pend_len, s, n);
}

static void qp_ws_push(mw__qp_dec_state *st, unsigned b)
{
    unsigned i = st->ws_len, bit = 1u << (i & 7);
    if (b == '\t') st->ws_bits[i >> 3] = (unsigned char)(st->ws_bits[i >> 3] | bit);
    else st->ws_bits[i >> 3] = (unsigned char)(st->ws_bits[i >> 3] & ~bit);
    st->ws_len = (uint8_t)(i + 1);
}

static void qp_ws_drop(mw__qp_dec_state *st) { st->ws_len = st->ws_pos = st->ws_release = 0; }

/* Write out pending bytes, then a released white-space run.
 * @return 1 when everything is out. */
static int qp_dec_drain(mw_codec *c, mw__qp_dec_state *st)
{
    if (!qp_drain(c, st->pend, &st->pend_pos, &st->pend_len)) return 0;
    if (!st->ws_release) return 1;
    while (st->ws_pos < st->ws_len) {
        if (!c->avail_out) return 0;
        unsigned i = st->ws_pos;
        *c->next_out = (unsigned char)((st->ws_bits[i >> 3] >> (i & 7)) & 1 ? '\t' : ' ');
        qp_produced(c, 1);
        st->ws_pos++;
    }
    qp_ws_drop(st);
    return 1;
}

/* A malformed escape: an error in strict mode, else the '=' (and a first
 * hex digit) pass through as data. */
static int qp_dec_bad_escape(mw_codec *c, mw__qp_dec_state *st, int with_digit)
{
    if (c->flags & MW_QP_STRICT) {
        c->error_offset = st->mark;
        c->warnings |= MW_CODEC_WARN_BAD_ESCAPE;
        st->mode = QP_D_ERROR;
        return MW_ERR_SYNTAX;
    }
    qp_defect(c, st->mark, MW_CODEC_WARN_BAD_ESCAPE);
    unsigned char s[2] = {'=', st->hex1};
    qp_dec_put(c, st, s, with_digit ? 2 : 1);
    st->mode = QP_D_NORMAL;
    return 0;
}

static int qp_hex_ok(const mw_codec *c, unsigned v)
{
    return v < 16 || (v < 0x20 && !(c->flags & MW_QP_STRICT));
}

/* NORMAL state, one byte. @return 1 consumed, 0 not consumed. */
static int qp_dec_normal(mw_codec *c, mw__qp_dec_state *st, unsigned b)
{
    if (qp_is_ws(b)) {
        if (st->ws_len == MW__QP_WS_CAP) { /* too long to hold: it is data */
            st->ws_release = 1;
            return 0;
        }
        qp_ws_push(st, b);
        return 1;
    }
    if (b == '\r') {
        st->mark = c->total_in;
        st->mode = QP_D_CR;
        return 1;
    }
    if (b == '\n') { /* bare LF: a line end, kept as LF */
        qp_defect(c, c->total_in, MW_CODEC_WARN_BARE_EOL);
        qp_ws_drop(st);
        qp_dec_put(c, st, "\n", 1);
        return 1;
    }
    if (st->ws_len) { /* held white space is followed by data: keep it */
        st->ws_release = 1;
        return 0;
    }
    if (b == '=') {
        st->mark = c->total_in;
        st->mode = QP_D_EQ;
        return 1;
    }
    unsigned char ch = (unsigned char)b;
    qp_dec_put(c, st, &ch, 1);
    return 1;
}

/* One input byte through the state machine.
 * @return 1 consumed, 0 not consumed (state changed), or MW_ERR_SYNTAX. */
static int qp_dec_byte(mw_codec *c, mw__qp_dec_state *st, unsigned b)
{
    switch (st->mode) {
    case QP_D_NORMAL:
        return qp_dec_normal(c, st, b);
    case QP_D_CR:
        if (b == '\n') { /* hard break: trailing white space goes (rule 3) */
            qp_ws_drop(st);
            qp_dec_put(c, st, "\r\n", 2);
            st->mode = QP_D_NORMAL;
            return 1;
        }
        qp_defect(c, st->mark, MW_CODEC_WARN_BARE_EOL);
        if (st->ws_len) {
            st->ws_release = 1;
            return 0;
        }
        qp_dec_put(c, st, "\r", 1);
        st->mode = QP_D_NORMAL;
        return 0;
    case QP_D_EQ:
        if (qp_hex_ok(c, qp_hex_value[b])) {
            st->hex1 = (uint8_t)b;
            st->mode = QP_D_HEX1;
            return 1;
        }
        if (qp_is_ws(b)) {
            qp_ws_push(st, b);
            st->mode = QP_D_EQ_WS;
            return 1;
        }
        if (b == '\r') {
            st->mode = QP_D_EQ_CR;
            return 1;
        }
        if (b == '\n') { /* soft break ended by a bare LF */
            qp_defect(c, c->total_in, MW_CODEC_WARN_BARE_EOL);
            st->mode = QP_D_NORMAL;
            return 1;
        }
        return qp_dec_bad_escape(c, st, 0);
    case QP_D_HEX1:
        if (qp_hex_ok(c, qp_hex_value[b])) {
            unsigned char v = (unsigned char)(((qp_hex_value[st->hex1] & 15u) << 4) |
                                              (qp_hex_value[b] & 15u));
            qp_dec_put(c, st, &v, 1);
            st->mode = QP_D_NORMAL;
            return 1;
        }
        return qp_dec_bad_escape(c, st, 1);
    case QP_D_EQ_WS:
        if (qp_is_ws(b) && st->ws_len < MW__QP_WS_CAP) {
            qp_ws_push(st, b);
            return 1;
        }
        if (b == '\r') {
            st->mode = QP_D_EQ_CR;
            return 1;
        }
        if (b == '\n') {
            qp_defect(c, c->total_in, MW_CODEC_WARN_BARE_EOL);
            qp_ws_drop(st);
            st->mode = QP_D_NORMAL;
            return 1;
        }
        return qp_dec_bad_escape(c, st, 0); /* the held white space follows as NORMAL */
    case QP_D_EQ_CR:
        if (b == '\n') { /* soft break, padding and all */
            qp_ws_drop(st);
            st->mode = QP_D_NORMAL;
            return 1;
        }
        {
            int rc = qp_dec_bad_escape(c, st, 0);
            if (rc < 0) return rc;
            st->mark = c->total_in - 1; /* the CR is now a bare CR */
            st->mode = QP_D_CR;
            return 0;
        }
    default:
        return MW_ERR_INVALID;
    }
}

/* End of input in the current state. @return 1 when finished, 0 when a
 * transition was made (call again), or MW_ERR_SYNTAX. */
static int qp_dec_eof(mw_codec *c, mw__qp_dec_state *st)
{
    switch (st->mode) {
    case QP_D_NORMAL:
        qp_ws_drop(st); /* white space at the very end is trailing */
        return 1;
    case QP_D_CR:
        qp_defect(c, st->mark, MW_CODEC_WARN_BARE_EOL);
        if (st->ws_len) {
            st->ws_release = 1;
            return 0;
        }
        qp_dec_put(c, st, "\r", 1);
        st->mode = QP_D_NORMAL;
        return 0;
    case QP_D_EQ:
    case QP_D_EQ_WS: /* "=" at the end of the data: a soft break */
        qp_ws_drop(st);
        st->mode = QP_D_NORMAL;
        return 0;
    case QP_D_HEX1: {
        int rc = qp_dec_bad_escape(c, st, 1);
        return rc < 0 ? rc : 0;
    }
    case QP_D_EQ_CR: {
        int rc = qp_dec_bad_escape(c, st, 0);
        if (rc < 0) return rc;
        st->mark = c->total_in - 1;
        st->mode = QP_D_CR;
        return 0;
    }
    default:
        return MW_ERR_INVALID;
    }
}

/* Offset of the first '=', CR or LF in p[0, n), or n. */
static size_t qp_dec_scan(const unsigned char *p, size_t n)
{
    size_t i = 0;
#if MW_QP_HAVE_SSE2
    if (n >= 16) {
        const __m128i eq = _mm_set1_epi8('='), cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
        for (;;) {
            size_t at = i + 16 <= n ? i : n - 16;
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + at));
            __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, eq),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
            unsigned m = (unsigned)_mm_movemask_epi8(hit) >> (i - at);
            if (m) return i + qp_ctz(m);
            i = at + 16;
            if (i >= n) return n;
        }
    }
#endif
    while (i < n && p[i] != '=' && p[i] != '\r' && p[i] != '\n') i++;
    return i;
}

/* Fast path, entered in NORMAL state with nothing held or pending. Works in
 * a window of min(avail_in, avail_out) bytes: the output never outgrows the
 * input, so the window always fits; output may overlap input that is
 * already consumed (in-place decoding). Stops wherever the byte-level
 * machine is needed: a malformed or cut escape, a bare CR or LF, white
 * space that may be trailing, the window's end. */
static void qp_dec_fast(mw_codec *c, int strict)
{
    const unsigned char *p = c->next_in;
    size_t n = c->avail_in < c->avail_out ? c->avail_in : c->avail_out;
    const unsigned char *e = p + n;
    unsigned char *o = c->next_out;
    unsigned valid_max = strict ? 16u : 0x20u;
    while (p < e) {
        size_t run = qp_dec_scan(p, (size_t)(e - p));
        const unsigned char *s = p + run;
        if (s == e || *s != '=') {
            /* white space right before a line end or the window's end may
             * be trailing: leave it to the byte-level machine */
            size_t keep = run;
            while (keep && qp_is_ws(p[keep - 1])) keep--;
            memmove(o, p, keep);
            o += keep;
            if (keep < run || s == e) {
                p += keep;
                break;
            }
            p = s;
            if (*s == '\r' && e - s >= 2 && s[1] == '\n') {
                o[0] = '\r';
                o[1] = '\n';
                o += 2;
                p += 2;
                continue;
            }
            break; /* bare CR or LF */
        }
        memmove(o, p, run);
        o += run;
        p = s;
        if (e - s < 3) break;
        unsigned hi = qp_hex_value[s[1]], lo = qp_hex_value[s[2]];
        if (hi < valid_max && lo < valid_max) {
            *o++ = (unsigned char)(((hi & 15u) << 4) | (lo & 15u));
            p = s + 3;
            continue;
        }
        if (s[1] == '\r' && s[2] == '\n') { /* soft line break */
            p = s + 3;
            continue;
        }
        break;
    }
    size_t used = (size_t)(p - c->next_in), made = (size_t)(o - c->next_out);
    qp_consume(c, used);
    qp_produced(c, made);
}

/* Copy 16 bytes from p to o and return a bit mask of the '=', CR and LF
 * among them, leaving out clean CRLFs inside the block (a hard break with
 * no white space before it decodes to itself). */
static unsigned qp_dec_mask(const unsigned char *p, unsigned char *o)
{
#if MW_QP_HAVE_SSE2
    const __m128i eq = _mm_set1_epi8('='), cr = _mm_set1_epi8('\r'), lf = _mm_set1_epi8('\n');
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    _mm_storeu_si128((__m128i *)(void *)o, v);
    const __m128i sp = _mm_set1_epi8(' '), tab = _mm_set1_epi8('\t');
    unsigned eqm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, eq));
    unsigned crm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, cr));
    unsigned lfm = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, lf));
    unsigned ws = (unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, tab)));
    unsigned clean = mw__qp_clean_crs(crm, lfm, ws); /* copied as they are */
    return (eqm | crm | lfm) & ~(clean | clean << 1);
#else
    unsigned m = 0;
    memcpy(o, p, 16);
    for (unsigned i = 0; i < 16; i++)
        m |= (unsigned)(p[i] == '=' || p[i] == '\r' || p[i] == '\n') << i;
    return m;
#endif
}

/* Escape-dense data (binary, or runs of UTF-8): one token per step without
 * branching on whether it is an escape or a literal. Returns at anything
 * else (CR, LF, a soft break, a malformed escape), after four literals in a
 * row (back to the block loop), or 16 bytes before e. valid_max is a power
 * of two, so (hi | lo) < valid_max tests both digits. */
static const unsigned char *qp_dec_mixed(const unsigned char *p, const unsigned char *e,
                                         unsigned char **out, const unsigned char **run,
                                         unsigned valid_max)
{
    if (e - p < 16) return p;
    unsigned char *o = *out;
    const unsigned char *base = p;
    size_t i = 0, n = (size_t)(e - p) - 16, r = (size_t)(*run - p), streak = 0;
    while (i <= n && streak < 4) {
        unsigned b = p[i], hi = qp_hex_value[p[i + 1]], lo = qp_hex_value[p[i + 2]];
        unsigned is_eq = b == '=';
        if ((is_eq & ((hi | lo) >= valid_max)) | (b == '\r') | (b == '\n')) break;
        /* selects by mask, so the compiler does not branch on random data */
        unsigned m = 0u - is_eq;
        size_t mz = (size_t)0 - is_eq;
        *o++ = (unsigned char)((((hi & 15u) << 4 | (lo & 15u)) & m) | (b & ~m));
        i += 1 + 2 * (size_t)is_eq;
        r = (i & mz) | (r & ~mz);
        streak = (streak + 1) & ~mz;
    }
    *out = o;
    *run = base + r;
    return base + i;
}

/* The fast path when output and input do not overlap: blocks of 16 are
 * stored first and classified after, so a run costs no call. Same stops
 * as qp_dec_fast. */
static void qp_dec_fast_apart(mw_codec *c, unsigned valid_max, int level)
{
    const unsigned char *p = c->next_in;
    size_t n = c->avail_in < c->avail_out ? c->avail_in : c->avail_out;
    const unsigned char *e = p + n, *run = p; /* run: where the current literal run began */
    unsigned char *o = c->next_out;
    int at_end = 1;
#if MW__QP_SSSE3
    int ssse3 = level >= MW__QP_LEVEL_SSSE3;
#endif
#if MW__QP_AVX512
    /* the 64-byte kernel is tried again once the narrow paths have taken
     * p past wide_from (the block it refused holds something irregular) */
    const unsigned char *wide_from = level >= MW__QP_LEVEL_AVX512 ? p : e;
#else
    (void)level;
#endif
    while (e - p >= 16) { /* the output is never ahead of the input, so o has room too */
#if MW__QP_AVX512
        if (p >= wide_from) {
            size_t made, bare_lf;
            int prev_ws = p > c->next_in && qp_is_ws(p[-1]);
            size_t used = mw__qp_dec_run_avx512(p, (size_t)(e - p), o, valid_max == 16u, prev_ws,
                                                &made, &bare_lf);
            if (bare_lf != SIZE_MAX)
                qp_defect(c, c->total_in + (uint64_t)(p - c->next_in) + bare_lf,
                          MW_CODEC_WARN_BARE_EOL);
            /* run may stay behind: every token the kernel decodes ends in a
             * hex digit or LF, so stepping back over white space stops at
             * its end anyway */
            p += used;
            o += made;
            wide_from = p + 64;
            if (e - p < 16) break;
        }
#endif
        unsigned m = qp_dec_mask(p, o);
        if (!m) { /* a constant step: the next load need not wait for this one */
            p += 16;
            o += 16;
            continue;
        }
#if MW__QP_SSSE3
        if (ssse3) { /* escapes without a branch each */
            size_t made, run_off, used = mw__qp_dec_block_ssse3(p, o, valid_max == 16u, &made, &run_off);
            if (used) {
                if (run_off) run = p + run_off;
                p += used;
                o += made;
                continue;
            }
        }
#endif
        size_t k = (size_t)qp_ctz(m);
        p += k;
        o += k;
        if (*p == '=') {
            if (e - p < 3) break;
            unsigned hi = qp_hex_value[p[1]], lo = qp_hex_value[p[2]];
            if (hi < valid_max && lo < valid_max) {
                *o++ = (unsigned char)(((hi & 15u) << 4) | (lo & 15u));
                p += 3;
                run = p;
                p = qp_dec_mixed(p, e, &o, &run, valid_max);
                continue;
            }
            if (p[1] == '\r' && p[2] == '\n') { /* soft line break */
                p += 3;
                run = p;
                continue;
            }
            if (p[1] == '\n') { /* soft line break ended by a bare LF */
                qp_defect(c, c->total_in + (uint64_t)(p + 1 - c->next_in), MW_CODEC_WARN_BARE_EOL);
                p += 2;
                run = p;
                continue;
            }
            at_end = 0;
            break;
        }
        /* CR or LF: white space before it is for the byte-level machine */
        if (p > run && qp_is_ws(p[-1])) break;
        if (*p == '\n') { /* bare LF: a line end, kept as LF (Unix-style files) */
            qp_defect(c, c->total_in + (uint64_t)(p - c->next_in), MW_CODEC_WARN_BARE_EOL);
            *o++ = '\n';
            p++;
            run = p;
            continue;
        }
        at_end = 0;
        if (e - p < 2 || p[1] != '\n') break; /* bare CR */
        o[0] = '\r';
        o[1] = '\n';
        o += 2;
        p += 2;
        run = p;
        at_end = 1;
    }
    if (at_end) /* what follows is unknown: white space may be trailing */
        while (p > run && qp_is_ws(p[-1])) {
            p--;
            o--;
        }
    qp_consume(c, (size_t)(p - c->next_in));
    qp_produced(c, (size_t)(o - c->next_out));
}

int mw__qp_dec_level_supported(int level)
{
    switch (level) {
    case MW__QP_LEVEL_BYTE:
    case MW__QP_LEVEL_BLOCK:
        return 1;
#if MW__QP_SSSE3
    /* __builtin_cpu_supports reads flags libgcc filled in at load time
     * (including the OS's consent to the AVX-512 register state) */
    case MW__QP_LEVEL_SSSE3:
        return __builtin_cpu_supports("ssse3") ? 1 : 0;
#endif
#if MW__QP_AVX512
    case MW__QP_LEVEL_AVX512:
        return cpu_qp_avx512();
#endif
    default:
        return 0;
    }
}

int mw__qp_dec_level_best(void) { return best_level(mw__qp_dec_level_supported); }

int mw__qp_dec_set_level(mw_codec *c, int level)
{
    if (!c || level < 0 || level >= MW__QP_LEVELS) return MW_ERR_INVALID;
    if (!mw__qp_dec_level_supported(level)) return MW_ERR_UNSUPPORTED;
    MW_CODEC_STATE(c, mw__qp_dec_state)->level_force = (uint8_t)(level + 1);
    return MW_OK;
}

int mw_qp_decode_init(mw_codec *c, unsigned flags)
{
    if (!c) return MW_ERR_INVALID;
    memset(c, 0, sizeof *c);
    if (flags & ~MW_QP_STRICT) return MW_ERR_INVALID;
    c->flags = flags;
    return MW_OK;
}

int mw_qp_decode_step(mw_codec *c, int finish)
{
    if (!qp_stepper_ok(c) || (c->flags & ~MW_QP_STRICT)) return MW_ERR_INVALID;
    mw__qp_dec_state *st = MW_CODEC_STATE(c, mw__qp_dec_state);
    if (st->mode == QP_D_ERROR) return MW_ERR_SYNTAX;
    int level = st->level_force ? st->level_force - 1 : mw__qp_dec_level_best();
    for (;;) {
        if (!qp_dec_drain(c, st)) return MW_CODEC_MORE;
        if (st->mode == QP_D_DONE) return MW_CODEC_DONE;
        if (level != MW__QP_LEVEL_BYTE && st->mode == QP_D_NORMAL && !st->ws_len &&
            c->avail_in >= 16 && c->avail_out >= 16) {
            int strict = (c->flags & MW_QP_STRICT) != 0;
            uintptr_t o = (uintptr_t)c->next_out, i = (uintptr_t)c->next_in;
            if (o + c->avail_out <= i || o >= i + c->avail_in)
                qp_dec_fast_apart(c, strict ? 16u : 0x20u, level);
            else
                qp_dec_fast(c, strict);
        }
        int rc;
        if (!c->avail_in) {
            if (!finish) return MW_CODEC_MORE;
            rc = qp_dec_eof(c, st);
            if (rc < 0) return rc;
            if (rc == 1) st->mode = QP_D_DONE;
            continue;
        }
        if (!c->avail_out && st->mode == QP_D_NORMAL && !st->ws_len) return MW_CODEC_MORE;
        rc = qp_dec_byte(c, st, *c->next_in);
        if (rc < 0) return rc;
        if (rc) qp_consume(c, 1);
    }
}

mw_ssize mw_qp_decode(const char *in, size_t len, void *out, size_t cap, unsigned flags)
{
    mw_codec c;
    if ((!in && len) || (!out && cap) || cap > (size_t)PTRDIFF_MAX) return MW_ERR_INVALID;
    int rc = mw_qp_decode_init(&c, flags);
    if (rc != MW_OK) return rc;
    c.next_in = (const unsigned char *)in;
    c.avail_in = len;
    c.next_out = out;
    c.avail_out = cap;
    rc = mw_qp_decode_step(&c, 1);
    if (rc < 0) return rc;
    if (rc != MW_CODEC_DONE) return MW_ERR_BUFFER;
    return (mw_ssize)c.total_out;
}
