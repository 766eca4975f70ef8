/*
 * Sending a message for RETR/TOP: the caller streams the stored bytes in
 * (zlib style: only what fits the output queue is taken), the engine
 * byte-stuffs lines that start with '.', truncates for TOP, and ends with
 * CRLF "." CRLF (RFC 1939 §3).
 *
 * Line ends: any LF ends a line for stuffing and TOP counting, so neither
 * a strict reader (CRLF only) nor a lenient one (bare LF too) can see the
 * terminator early. With MW_POP3_SERVER_LF_TO_CRLF a bare LF goes out as
 * CRLF; without it the byte is sent as stored.
 *
 * Lines are found with memchr and copied as runs: no per-byte call.
 *
 * SPDX-License-Identifier: MIT
 */
#include "pop3/pop3_internal.h"

/* Output held back from the queue while streaming: leave room so the
 * caller's writes keep the queue below the ceiling. */
#define BODY_HIGH (2u * MW__POP3_OUT_HIGH)

static size_t body_room(const mw_pop3_server *s)
{
    size_t used = mw__outq_len(&s->io.out);
    return used >= BODY_HIGH ? 0 : BODY_HIGH - used;
}

static int put(mw_pop3_server *s, const void *p, size_t n)
{
    int rc = mw__outq_append(&s->io.out, p, n);
    if (rc == MW_ERR_NOMEM) mw__io_fail(&s->io, rc);
    return rc;
}

/* A line ended (an LF was taken): TOP bookkeeping. */
static void line_end(mw_pop3_server *s, int empty)
{
    s->b_bol = 1;
    s->b_linelen = 0;
    s->b_cr = 0;
    if (!s->body_top) return;
    if (s->body_in_header) {
        if (empty) s->body_in_header = 0; /* RFC 1939 §7 TOP: headers, blank line, n lines */
    } else if (s->body_lines) {
        s->body_lines--;
    }
    if (!s->body_in_header && s->body_lines == 0) s->body_done = 1;
}

mw_ssize mw_pop3_server_body_write(mw_pop3_server *s, const void *data, size_t len)
{
    if (!s || (!data && len)) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (s->phase != MW__POP3_PH_BODY) return MW_ERR_STATE;
    if (s->body_done) return (mw_ssize)len; /* TOP has what it needs: drop the rest */
    const unsigned char *d = data;
    const int convert = (s->o.flags & MW_POP3_SERVER_LF_TO_CRLF) != 0;
    size_t r = 0;
    while (r < len) {
        size_t room = body_room(s);
        if (room < 3) break; /* a stuffed dot or an added CR needs space */
        if (s->b_bol && d[r] == '.') {
            if (put(s, ".", 1)) return s->io.fatal ? s->io.fatal : (mw_ssize)r; /* RFC 1939 §3 */
            room--;
        }
        s->b_bol = 0;
        const unsigned char *lf = memchr(d + r, '\n', len - r);
        size_t stop = lf ? (size_t)(lf - d) + 1 : len;
        if (stop - r > room - 1) { /* keep one octet for a CR before a bare LF */
            stop = r + room - 1;
            lf = NULL;
        }
        size_t seg = stop - r;
        if (lf) {
            size_t content = seg - 1;
            int crlf = content ? d[stop - 2] == '\r' : s->b_cr;
            uint64_t linelen = s->b_linelen + content;
            int empty = linelen == 0 || (linelen == 1 && crlf);
            int rc;
            if (!crlf && convert) {
                rc = put(s, d + r, content);
                if (!rc) rc = put(s, "\r\n", 2);
                crlf = 1;
            } else {
                rc = put(s, d + r, seg);
            }
            if (rc) return s->io.fatal ? s->io.fatal : (mw_ssize)r;
            s->b_crlf = crlf;
            r = stop;
            line_end(s, empty);
            if (s->body_done) return (mw_ssize)len;
        } else {
            if (put(s, d + r, seg)) return s->io.fatal ? s->io.fatal : (mw_ssize)r;
            s->b_linelen += seg;
            s->b_cr = d[stop - 1] == '\r';
            r = stop;
        }
    }
    return (mw_ssize)r;
}

int mw_pop3_server_body_wanted(const mw_pop3_server *s)
{
    return s && s->phase == MW__POP3_PH_BODY && !s->body_done;
}

int mw_pop3_server_body_end(mw_pop3_server *s)
{
    if (!s) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (s->phase != MW__POP3_PH_BODY) return MW_ERR_STATE;
    /* The terminator must follow a CRLF; complete the last line otherwise
     * (a bare LF alone would not end the line for a strict reader). */
    int complete = s->b_bol && s->b_crlf;
    const char *t = complete ? ".\r\n" : "\r\n.\r\n";
    int rc = mw__outq_append(&s->io.out, t, complete ? 3u : 5u);
    if (rc == MW_ERR_NOMEM) mw__io_fail(&s->io, rc);
    if (rc) return rc;
    s->phase = MW__POP3_PH_CMD;
    return MW_OK;
}
