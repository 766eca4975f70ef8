/*
 * mailwire — SMTP dot-stuffing and unstuffing (RFC 5321 §4.5.2).
 *
 * A line starts at the beginning of the data and after CRLF, and nowhere
 * else: a bare LF or a bare CR does not end a line here, just as it does not
 * end one for a server that follows RFC 5321 §2.3.8. The unstuffer therefore
 * ends the data only at exactly CRLF "." CRLF (DESIGN.md rule 2; the SMTP
 * smuggling class, CVE-2023-51764).
 *
 * Both steppers copy whole runs between line-start dots with one memcpy /
 * memmove and find line ends with memchr.
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec_internal.h"

#include <string.h>

enum {
    DOT_DATA,   /* copying data */
    DOT_DOT,    /* "." seen at a line start and dropped (stuffing or terminator?) */
    DOT_DOT_CR, /* "." CR seen at a line start */
    DOT_DONE    /* terminator consumed */
};

static int dot_stepper_ok(const mw_codec *c)
{
    return c && (c->next_in || !c->avail_in) && (c->next_out || !c->avail_out);
}

static void dot_consume(mw_codec *c, size_t n)
{
    if (!n) return; /* next_in may be NULL: no arithmetic on it */
    c->next_in += n;
    c->avail_in -= n;
    c->total_in += n;
}

static void dot_produced(mw_codec *c, size_t n)
{
    if (!n) return;
    c->next_out += n;
    c->avail_out -= n;
    c->total_out += n;
}

/*
 * First offset i in [1, n) where p[i] is '.' at a line start (the two bytes
 * before it are CRLF; for i == 1 the byte before p[0] is CR when prev_cr),
 * or n when there is none. Offset 0 is the caller's business.
 */
static size_t dot_find_line_dot(const unsigned char *p, size_t n, int prev_cr)
{
    size_t i = 0;
    while (i + 1 < n) {
        const unsigned char *lf = memchr(p + i, '\n', n - 1 - i);
        if (!lf) break;
        size_t j = (size_t)(lf - p);
        if (p[j + 1] == '.' && (j ? p[j - 1] == '\r' : prev_cr)) return j + 1;
        i = j + 1;
    }
    return n;
}

/* Line-start and CR tracking after passing p[0, n). Must run before the
 * bytes are moved (the unstuffer may work in place). */
static void dot_track(mw__dot_state *st, const unsigned char *p, size_t n)
{
    if (!n) return;
    unsigned last = p[n - 1];
    int before_cr = n >= 2 ? p[n - 2] == '\r' : st->prev_cr;
    st->line_start = (uint8_t)(last == '\n' && before_cr);
    st->prev_cr = (uint8_t)(last == '\r');
}

/* ------------------------------------------------------------------ */
/* stuffing                                                             */
/* ------------------------------------------------------------------ */

int mw_dotstuff_init(mw_codec *c, unsigned flags)
{
    if (!c) return MW_ERR_INVALID;
    memset(c, 0, sizeof *c);
    if (flags) return MW_ERR_INVALID;
    MW_CODEC_STATE(c, mw__dot_state)->line_start = 1; /* the data starts a line */
    return MW_OK;
}

/* Write the terminator once all input is consumed. */
static int dot_terminate(mw_codec *c, mw__dot_state *st)
{
    static const char after_crlf[] = ".\r\n", mid_line[] = "\r\n.\r\n";
    if (!st->term_kind) st->term_kind = st->line_start ? 1 : 2;
    const char *t = st->term_kind == 1 ? after_crlf : mid_line;
    size_t len = st->term_kind == 1 ? 3 : 5;
    size_t k = len - st->term_pos;
    if (k > c->avail_out) k = c->avail_out;
    if (k) memcpy(c->next_out, t + st->term_pos, k); /* next_out may be NULL when there is no room */
    dot_produced(c, k);
    st->term_pos = (uint8_t)(st->term_pos + k);
    return st->term_pos == len ? MW_CODEC_DONE : MW_CODEC_MORE;
}

int mw_dotstuff_step(mw_codec *c, int finish)
{
    if (!dot_stepper_ok(c) || c->flags) return MW_ERR_INVALID;
    mw__dot_state *st = MW_CODEC_STATE(c, mw__dot_state);
    if (st->term_kind) return dot_terminate(c, st); /* input after finish is ignored */
    while (c->avail_in) {
        if (!c->avail_out) return MW_CODEC_MORE;
        const unsigned char *p = c->next_in;
        if (st->line_start && *p == '.' && !st->stuffed) {
            *c->next_out = '.'; /* the extra dot; the original follows as data */
            dot_produced(c, 1);
            st->stuffed = 1;
            continue;
        }
        size_t n = c->avail_in < c->avail_out ? c->avail_in : c->avail_out;
        size_t run = dot_find_line_dot(p, n, st->prev_cr);
        memcpy(c->next_out, p, run);
        dot_track(st, p, run);
        st->stuffed = 0;
        dot_consume(c, run);
        dot_produced(c, run);
    }
    return finish ? dot_terminate(c, st) : MW_CODEC_MORE;
}

/* ------------------------------------------------------------------ */
/* unstuffing                                                           */
/* ------------------------------------------------------------------ */

int mw_dotunstuff_init(mw_codec *c, unsigned flags)
{
    if (!c) return MW_ERR_INVALID;
    memset(c, 0, sizeof *c);
    if (flags) return MW_ERR_INVALID;
    MW_CODEC_STATE(c, mw__dot_state)->line_start = 1; /* "." CRLF first: empty message */
    return MW_OK;
}

/* Copy data up to the next line-start dot (or as far as input and output
 * allow). Output never runs ahead of input, so in-place use is safe. */
static void dot_unstuff_run(mw_codec *c, mw__dot_state *st)
{
    const unsigned char *p = c->next_in;
    size_t n = c->avail_in < c->avail_out ? c->avail_in : c->avail_out;
    size_t run = dot_find_line_dot(p, n, st->prev_cr);
    dot_track(st, p, run);
    memmove(c->next_out, p, run);
    dot_consume(c, run);
    dot_produced(c, run);
}

int mw_dotunstuff_step(mw_codec *c, int finish)
{
    if (!dot_stepper_ok(c) || c->flags) return MW_ERR_INVALID;
    mw__dot_state *st = MW_CODEC_STATE(c, mw__dot_state);
    for (;;) {
        if (st->mode == DOT_DONE) return MW_CODEC_DONE;
        if (!c->avail_in) return finish ? MW_ERR_TRUNCATED : MW_CODEC_MORE;
        unsigned b = *c->next_in;
        switch (st->mode) {
        case DOT_DOT:
            if (b == '\r') {
                st->mode = DOT_DOT_CR;
                dot_consume(c, 1);
                continue;
            }
            /* "." and more on the line: the dot was stuffing (§4.5.2). */
            st->mode = DOT_DATA;
            st->line_start = st->prev_cr = 0;
            continue;
        case DOT_DOT_CR:
            if (b == '\n') {
                dot_consume(c, 1);
                st->mode = DOT_DONE;
                continue;
            }
            /* ".\r" then not LF: the CR is data, the dot was stuffing. */
            if (!c->avail_out) return MW_CODEC_MORE;
            *c->next_out = '\r';
            dot_produced(c, 1);
            st->mode = DOT_DATA;
            st->line_start = 0;
            st->prev_cr = 1;
            continue;
        default:
            if (st->line_start && b == '.') {
                st->mode = DOT_DOT;
                dot_consume(c, 1);
                continue;
            }
            if (!c->avail_out) return MW_CODEC_MORE;
            dot_unstuff_run(c, st);
            continue;
        }
    }
}
