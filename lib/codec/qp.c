/*
 * mailwire — quoted-printable encoder and decoder (RFC 2045 §6.7).
 *
 * Both steppers have a fast path that works on long runs of ordinary bytes
 * (found 16 at a time with SSE2 where available, copied with memcpy /
 * memmove) and a byte-level slow path that holds the exact rules. The fast
 * path only takes decisions the slow path would take with the same bytes,
 * so the output does not depend on how input and output space are cut.
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

static int qp_is_ws(unsigned b) { return b == ' ' || b == '\t'; }

/* Printable ASCII that may stand for itself (rule 2): '!'..'~' except '='. */
static int qp_is_literal(unsigned b) { return b - 33u < 94u && b != '='; }

static int qp_stepper_ok(const mw_codec *c)
{
    return c && (c->next_in || !c->avail_in) && (c->next_out || !c->avail_out);
}

static void qp_consume(mw_codec *c, size_t n)
{
    c->next_in += n;
    c->avail_in -= n;
    c->total_in += n;
}

static void qp_produced(mw_codec *c, size_t n)
{
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
    memcpy(c->next_out, s, k);
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
    memcpy(c->next_out, pend + *pend_pos, k);
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

/* Leading bytes of p[0, n) that can be copied as they are: '!'..'~' except
 * '=', plus space and tab (the caller handles trailing white space). */
static size_t qp_enc_scan(const unsigned char *p, size_t n)
{
    size_t i = 0;
#if MW_QP_HAVE_SSE2
    if (n >= 16) {
        const __m128i low = _mm_set1_epi8(0x20), del = _mm_set1_epi8(0x7f);
        const __m128i eq = _mm_set1_epi8('='), tab = _mm_set1_epi8('\t');
        for (;;) {
            size_t at = i + 16 <= n ? i : n - 16; /* the last block overlaps */
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + at));
            /* signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them too */
            __m128i bad = _mm_or_si128(_mm_cmplt_epi8(v, low),
                                       _mm_or_si128(_mm_cmpeq_epi8(v, del), _mm_cmpeq_epi8(v, eq)));
            bad = _mm_andnot_si128(_mm_cmpeq_epi8(v, tab), bad);
            unsigned m = (unsigned)_mm_movemask_epi8(bad) >> (i - at);
            if (m) return i + (unsigned)__builtin_ctz(m);
            i = at + 16;
            if (i >= n) return n;
        }
    }
#endif
    while (i < n && (qp_is_literal(p[i]) || qp_is_ws(p[i]))) i++;
    return i;
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

/* Fast path: whole runs and common tokens while at least 8 input bytes (for
 * lookahead) and 82 output bytes (one run plus one token) are available.
 * Stops at anything it does not decide exactly as qp_enc_token would. */
static const unsigned char *qp_enc_fast(mw_codec *c, mw__qp_enc_state *st, const unsigned char *p,
                                        const unsigned char *e)
{
    unsigned flags = c->flags;
    int text = !(flags & MW_QP_BINARY);
    int lf_eol = text && (flags & MW_QP_LF_EOL);
    int protect = (flags & (MW_QP_DOT | MW_QP_FROM)) != 0;
    unsigned col = st->col;
    unsigned char *o = c->next_out, *oe = o + c->avail_out;
    while (e - p >= 8 && oe - o >= 82) {
        if (col == 0 && protect && (*p == '.' || *p == 'F')) break;
        size_t room = col < MW_QP_LINE - 1 ? MW_QP_LINE - 1 - col : 0;
        size_t lim = (size_t)(e - p) - 2 < room ? (size_t)(e - p) - 2 : room;
        size_t run = qp_enc_scan(p, lim);
        if (run) {
            unsigned next = p[run];
            if (qp_is_ws(p[run - 1]) && text && (next == '\r' || (lf_eol && next == '\n'))) run--;
            memcpy(o, p, run);
            o += run;
            p += run;
            col += (unsigned)run;
            if (run) continue;
        }
        unsigned b = *p;
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
        if (qp_is_ws(b)) break;
        unsigned width = qp_is_literal(b) ? 1u : 3u;
        if (col + width > MW_QP_LINE) {
            memcpy(o, "=\r\n", 3);
            o += 3;
            col = 0;
            continue;
        }
        if (col + width == MW_QP_LINE) {
            const unsigned char *q = p + 1;
            int hard = text && ((q[0] == '\r' && q[1] == '\n') || (lf_eol && q[0] == '\n'));
            if (!hard) {
                memcpy(o, "=\r\n", 3);
                o += 3;
                col = 0;
                continue;
            }
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
                       int final, size_t *used)
{
    const unsigned char *p = in, *e = in + len;
    int why = QP_ENC_END;
    while (p < e) {
        if (c->avail_out == 0) {
            why = QP_ENC_OUT;
            break;
        }
        if (e - p >= 8 && c->avail_out >= 82) {
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

int mw_qp_encode_step(mw_codec *c, int finish)
{
    if (!qp_stepper_ok(c) || (c->flags & ~QP_ENC_FLAGS)) return MW_ERR_INVALID;
    mw__qp_enc_state *st = MW_CODEC_STATE(c, mw__qp_enc_state);
    for (;;) {
        if (!qp_drain(c, st->pend, &st->pend_pos, &st->pend_len)) return MW_CODEC_MORE;
        size_t used;
        if (st->hold_len) {
            /* Bytes kept for lookahead: top them up and retry. */
            size_t take = sizeof st->hold - st->hold_len;
            if (take > c->avail_in) take = c->avail_in;
            memcpy(st->hold + st->hold_len, c->next_in, take);
            st->hold_len = (uint8_t)(st->hold_len + take);
            qp_consume(c, take);
            int why = qp_enc_core(c, st, st->hold, st->hold_len, finish && !c->avail_in, &used);
            memmove(st->hold, st->hold + used, st->hold_len - used);
            st->hold_len = (uint8_t)(st->hold_len - used);
            /* Still held: either the output is full or the lookahead
             * waits for input the caller has not given yet. */
            if (st->hold_len && (why == QP_ENC_OUT || !c->avail_in)) return MW_CODEC_MORE;
            continue;
        }
        if (!c->avail_in) return finish ? MW_CODEC_DONE : MW_CODEC_MORE;
        int why = qp_enc_core(c, st, c->next_in, c->avail_in, finish, &used);
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
            if (m) return i + (unsigned)__builtin_ctz(m);
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
    for (;;) {
        if (!qp_dec_drain(c, st)) return MW_CODEC_MORE;
        if (st->mode == QP_D_DONE) return MW_CODEC_DONE;
        if (st->mode == QP_D_NORMAL && !st->ws_len && c->avail_in >= 16 && c->avail_out >= 16)
            qp_dec_fast(c, (c->flags & MW_QP_STRICT) != 0);
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
