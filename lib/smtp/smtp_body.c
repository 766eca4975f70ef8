/*
 * Message bodies: DATA (dot-unstuffed in place, ended only by CRLF.CRLF)
 * and BDAT chunks (exact octet counts). The body is never copied out of
 * the input buffer: BODY events are views into it. Scanning is memchr for
 * LF, so there is no per-octet function call on the hot path.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_internal.h"

#include <stdio.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#define AGAIN MW__SMTP_AGAIN

void mw__smtp_body_begin(mw_smtp_server *s, int bdat)
{
    if (bdat)
        s->used_bdat = 1;
    else
        s->used_data = 1;
    s->d_total = 0;
    s->d_over = s->d_long = s->d_bare = 0;
    s->d_bol = 1; /* the CRLF of the DATA line starts the first line */
    s->d_cr = 0;
    s->d_line = 0;
    if (!bdat) s->phase = MW__SMTP_PH_DATA;
    s->io.in.scanned = 0;
    s->io.in.discarding = 0;
}

/* Count n body octets; return how many of them may be shown to the caller.
 * Past max_size the rest is dropped (RFC 1870 §6.2: 552 at the end), and
 * exactly the first max_size octets are shown however the input was cut. */
static size_t size_cut(mw_smtp_server *s, size_t n)
{
    size_t keep = n;
    if (s->d_over) {
        keep = 0;
    } else if (s->o.max_size && s->d_total + n > s->o.max_size) {
        keep = (size_t)(s->o.max_size - s->d_total);
        s->d_over = 1;
    }
    s->d_total += n;
    return keep;
}

static int body_event(mw_smtp_server *s, const unsigned char *p, size_t n)
{
    s->ev.data.base = (const char *)p;
    s->ev.data.len = n;
    return MW_SMTP_EV_BODY;
}

static int has_cr(const unsigned char *p, size_t n)
{
    return n > 0 && memchr(p, '\r', n) != NULL;
}

/*
 * Scan the buffered input of a DATA body, looking at every line (used when
 * bare CR/LF must be detected: REJECT_BARE_EOL). State carried between calls
 * describes only the consumed prefix (at a line start, after a CR, current
 * line length), so the result does not depend on how the input was cut.
 * RFC 5321 §4.5.2: at a line start, "." CRLF ends the data and a leading
 * "." is otherwise removed. DESIGN rule 2: a bare LF never ends a line
 * (unless the BARE_LF quirk is on), a bare CR never does.
 */
static int data_step_checked(mw_smtp_server *s)
{
    unsigned char *d = s->io.in.buf + s->io.in.start;
    size_t n = mw__inbuf_len(&s->io.in);
    if (n == 0) return 0;
    const int lenient = (s->o.quirks & MW_SMTP_QUIRK_BARE_LF) != 0;
    const int watch_bare = 1;
    int bol = s->d_bol, cr = s->d_cr;
    size_t line = s->d_line, r = 0, w = 0, consumed = 0;
    int ended = 0;
    while (r < n) {
        if (bol) {
            if (d[r] == '.') {
                if (r + 1 >= n) break; /* "." at the end: wait for more */
                if (d[r + 1] == '\r') {
                    if (r + 2 >= n) break; /* ".\r": wait */
                    if (d[r + 2] == '\n') {
                        ended = 1;
                        consumed = r + 3;
                        break;
                    }
                } else if (d[r + 1] == '\n' && lenient) {
                    ended = 1;
                    consumed = r + 2;
                    break;
                }
                r++; /* transparency: drop the stuffed dot */
                line++;
            }
            bol = 0;
        }
        const unsigned char *lf = memchr(d + r, '\n', n - r);
        size_t stop = lf ? (size_t)(lf - d) + 1 : n;
        size_t seg = stop - r;
        /* Look at the bytes before moving them: the move may overlap. */
        if (lf) {
            int crlf = stop - 1 > r ? d[stop - 2] == '\r' : cr;
            /* bare CR: a CR left over from the previous call not followed
             * by this LF, or one inside the line other than the CRLF's */
            size_t body = seg - 1 - (crlf && stop - 1 > r ? 1u : 0u);
            if (watch_bare && ((cr && d[r] != '\n') || has_cr(d + r, body))) s->d_bare = 1;
            if (!crlf) s->d_bare = 1;
            if (crlf || lenient) bol = 1;
            cr = 0;
        } else {
            size_t body = seg - (d[n - 1] == '\r' ? 1u : 0u); /* a last CR may pair later */
            if (watch_bare && ((cr && d[r] != '\n') || has_cr(d + r, body))) s->d_bare = 1;
            cr = d[n - 1] == '\r';
        }
        if (w != r) memmove(d + w, d + r, seg);
        w += seg;
        line += seg;
        if (line > s->o.max_text) s->d_long = 1; /* RFC 5321 §4.5.3.1.6 */
        if (bol) line = 0;
        r = stop;
    }
    if (!ended) consumed = r;
    s->d_bol = bol;
    s->d_cr = cr;
    s->d_line = line;
    mw__inbuf_consume(&s->io.in, consumed);
    size_t keep = size_cut(s, w);
    if (ended) s->phase = MW__SMTP_PH_DATA_END;
    if (keep) return body_event(s, d, keep);
    return consumed ? AGAIN : 0;
}

/* Line scanner state for the fast path. */
typedef struct scan {
    const unsigned char *d;
    size_t n;
    size_t lstart; /* where the current line starts in d */
    size_t carry;  /* octets of the current line before lstart (earlier calls) */
    size_t max;    /* text line limit */
    int lenient, bol, cr, long_line;
} scan;

/* Handle the LF at x. @return 1 to stop the run: the line after it starts
 * with a dot (or the buffer ends there), so the caller must look. */
static inline int on_lf(scan *sc, size_t run_start, size_t x, size_t *stop)
{
    int crlf = x > run_start ? sc->d[x - 1] == '\r' : sc->cr;
    if (!crlf && !sc->lenient) return 0; /* bare LF: content (DESIGN rule 2) */
    if (sc->carry + x + 1 - sc->lstart > sc->max) sc->long_line = 1;
    sc->lstart = x + 1;
    sc->carry = 0;
    if (x + 1 < sc->n && sc->d[x + 1] != '.') return 0;
    sc->bol = 1;
    *stop = x + 1;
    return 1;
}

/* From r, pass over every line that needs nothing done: CRLF-terminated
 * lines whose successor does not start with a dot. @return where the run
 * ends (a line start holding a dot, or n). No per-octet work: LF positions
 * come from 16-octet SSE2 compares, or memchr elsewhere. */
static size_t run_end(scan *sc, size_t r)
{
    const unsigned char *d = sc->d;
    const size_t n = sc->n;
    size_t p = r, stop;
    sc->bol = 0;
#if defined(__SSE2__)
    const __m128i nl = _mm_set1_epi8('\n');
    for (; p + 16 <= n; p += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(d + p)), nl));
        while (m) {
            size_t x = p + (size_t)__builtin_ctz(m);
            m &= m - 1;
            if (on_lf(sc, r, x, &stop)) return stop;
        }
    }
#endif
    while (p < n) {
        const unsigned char *lf = memchr(d + p, '\n', n - p);
        if (!lf) break;
        size_t x = (size_t)(lf - d);
        if (on_lf(sc, r, x, &stop)) return stop;
        p = x + 1;
    }
    if (sc->carry + n - sc->lstart > sc->max) sc->long_line = 1;
    sc->cr = d[n - 1] == '\r';
    return n;
}

/*
 * Scan the buffered input of a DATA body. The consumed prefix is
 * described by s->d_bol / d_cr / d_line, so the result does not depend on
 * how the input was cut. RFC 5321 §4.5.2: at a line start "." CRLF ends
 * the data and a leading "." is otherwise removed; removed dots are closed
 * up by moving the following run left inside the buffer (one memmove per
 * dot line, never a copy out). DESIGN rule 2: a bare LF never ends a line
 * (unless the BARE_LF quirk is on), a bare CR never does.
 */
int mw__smtp_data_step(mw_smtp_server *s)
{
    if (s->o.flags & MW_SMTP_SERVER_REJECT_BARE_EOL) return data_step_checked(s);
    unsigned char *d = s->io.in.buf + s->io.in.start;
    size_t n = mw__inbuf_len(&s->io.in);
    if (n == 0) return 0;
    scan sc = {d, n, 0, s->d_line, s->o.max_text, (s->o.quirks & MW_SMTP_QUIRK_BARE_LF) != 0,
               s->d_bol, s->d_cr, 0};
    size_t r = 0, w = 0, consumed = 0;
    int ended = 0;
    while (r < n) {
        if (sc.bol) {
            sc.lstart = r;
            sc.carry = 0;
            if (d[r] == '.') {
                if (r + 1 >= n) break; /* "." at the end: wait for more */
                if (d[r + 1] == '\r') {
                    if (r + 2 >= n) break; /* ".\r": wait */
                    if (d[r + 2] == '\n') {
                        ended = 1;
                        consumed = r + 3;
                        break;
                    }
                } else if (d[r + 1] == '\n' && sc.lenient) {
                    ended = 1;
                    consumed = r + 2;
                    break;
                }
                r++; /* transparency: drop the stuffed dot (still counted in the line) */
                sc.cr = 0;
            }
        }
        size_t stop = run_end(&sc, r);
        if (w != r) memmove(d + w, d + r, stop - r);
        w += stop - r;
        r = stop;
    }
    if (!ended) consumed = r;
    if (sc.long_line) s->d_long = 1;
    s->d_bol = sc.bol;
    s->d_cr = sc.bol ? 0 : sc.cr;
    s->d_line = sc.bol ? 0 : sc.carry + r - sc.lstart;
    mw__inbuf_consume(&s->io.in, consumed);
    size_t keep = size_cut(s, w);
    if (ended) s->phase = MW__SMTP_PH_DATA_END;
    if (keep) return body_event(s, d, keep);
    return consumed ? AGAIN : 0;
}

int mw__smtp_body_end(mw_smtp_server *s)
{
    int code = 0;
    const char *enh = NULL, *text = NULL;
    if (s->d_over) {
        code = 552, enh = "5.3.4", text = "Message size exceeds fixed maximum message size";
    } else if (s->d_long && !s->used_bdat) {
        code = 552, enh = "5.3.4", text = "Message line too long"; /* RFC 5321 §4.5.3.1.6 */
    } else if (s->d_bare && !s->used_bdat && (s->o.flags & MW_SMTP_SERVER_REJECT_BARE_EOL)) {
        code = 554, enh = "5.6.0", text = "Bare CR or LF in message";
    }
    s->phase = MW__SMTP_PH_CMD;
    s->io.in.scanned = 0;
    s->ev.size = s->d_total;
    s->ev.rcpt_count = s->rcpts;
    if (s->used_bdat) s->ev.flags |= MW_SMTP_F_BDAT;
    size_t replies = (s->o.flags & MW_SMTP_SERVER_LMTP) ? s->rcpts : 1;
    if (code) {
        for (size_t i = 0; i < replies; i++) {
            int rc = mw__smtp_reply1(s, code, enh, text);
            if (rc) return rc;
        }
        s->ev.reject_code = code;
        mw__smtp_reset_txn(s);
        return MW_SMTP_EV_BODY_END;
    }
    s->lmtp_left = replies;
    s->pending = MW__SMTP_P_BODY_END;
    s->ev.paused = 1;
    return MW_SMTP_EV_BODY_END;
}

static int chunk_done(mw_smtp_server *s)
{
    s->phase = MW__SMTP_PH_CMD;
    s->io.in.scanned = 0;
    switch (s->bdat_error) {
    case 502: return mw__smtp_bad(s, 502, "5.5.1", "Command not implemented");
    case 503: return mw__smtp_bad(s, 503, "5.5.1", "Bad sequence of commands");
    case 554: {
        int rc = mw__smtp_reply1(s, 554, "5.5.1", "No valid recipients");
        return rc ? rc : AGAIN;
    }
    default: break;
    }
    if (s->bdat_last) return mw__smtp_body_end(s);
    if (s->d_over) {
        /* RFC 3030 §2: after a failed BDAT only RSET clears the transaction. */
        int rc = mw__smtp_reply1(s, 552, "5.3.4", "Message size exceeds fixed maximum message size");
        if (rc) return rc;
        s->txn_failed = 1;
        s->ev.size = s->d_total;
        s->ev.rcpt_count = s->rcpts;
        s->ev.reject_code = 552;
        s->ev.flags |= MW_SMTP_F_BDAT;
        return MW_SMTP_EV_BODY_END;
    }
    char text[64];
    snprintf(text, sizeof text, "%llu octets received", (unsigned long long)s->bdat_size);
    int rc = mw__smtp_reply1(s, 250, "2.0.0", text);
    return rc ? rc : AGAIN;
}

int mw__smtp_bdat_step(mw_smtp_server *s)
{
    if (s->bdat_left == 0) return chunk_done(s);
    size_t n = mw__inbuf_len(&s->io.in);
    if (n == 0) return 0;
    size_t take = (uint64_t)n < s->bdat_left ? n : (size_t)s->bdat_left;
    unsigned char *d = s->io.in.buf + s->io.in.start;
    mw__inbuf_consume(&s->io.in, take);
    s->bdat_left -= take;
    if (s->bdat_error) return AGAIN; /* refused chunk: octets dropped */
    size_t keep = size_cut(s, take);
    if (keep) return body_event(s, d, keep);
    return AGAIN;
}
