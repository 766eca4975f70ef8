/*
 * Bounded input buffer and CRLF line reader. The buffer never grows past
 * its configured maximum; a line longer than the caller's limit is reported
 * once and then skipped up to its CRLF so an engine can answer and resync.
 *
 * SPDX-License-Identifier: MIT
 */
#include "common/common_internal.h"

#define INBUF_MIN_CAP 1024u

void mw__inbuf_init(mw__inbuf *b, const mw_mem *mem, size_t max)
{
    memset(b, 0, sizeof *b);
    b->mem = mem;
    b->max = max < 2 ? 2 : max;
}

void mw__inbuf_free(mw__inbuf *b)
{
    mw__free(b->mem, b->buf);
    b->buf = NULL;
    b->start = b->end = b->cap = b->scanned = 0;
}

int mw__inbuf_reserve(mw__inbuf *b, unsigned char **p, size_t *len)
{
    size_t used = mw__inbuf_len(b);
    *p = NULL;
    *len = 0;
    if (b->start > 0 && (b->end == b->cap || used == 0)) {
        if (used) memmove(b->buf, b->buf + b->start, used);
        b->start = 0;
        b->end = used;
    }
    if (b->end == b->cap && b->cap < b->max) {
        size_t cap = b->cap ? b->cap * 2 : INBUF_MIN_CAP;
        if (cap > b->max || cap < b->cap) cap = b->max;
        unsigned char *nb = mw__realloc(b->mem, b->buf, cap);
        if (!nb) return MW_ERR_NOMEM;
        b->buf = nb;
        b->cap = cap;
    }
    if (b->end < b->cap) {
        *p = b->buf + b->end;
        *len = b->cap - b->end;
    }
    return MW_OK;
}

void mw__inbuf_recv_ack(mw__inbuf *b, size_t n)
{
    size_t room = b->cap - b->end;
    b->end += n < room ? n : room;
}

mw_ssize mw__inbuf_feed(mw__inbuf *b, const void *data, size_t len)
{
    size_t taken = 0;
    while (taken < len) {
        unsigned char *p;
        size_t room;
        int rc = mw__inbuf_reserve(b, &p, &room);
        if (rc) return taken ? (mw_ssize)taken : rc;
        if (room == 0) break;
        size_t n = len - taken < room ? len - taken : room;
        memcpy(p, (const unsigned char *)data + taken, n);
        b->end += n;
        taken += n;
    }
    return (mw_ssize)taken;
}

void mw__inbuf_consume(mw__inbuf *b, size_t n)
{
    size_t used = mw__inbuf_len(b);
    if (n > used) n = used;
    b->start += n;
    b->scanned = b->scanned > n ? b->scanned - n : 0;
    if (b->start == b->end) b->start = b->end = 0;
}

/* Find the end of the next line at or after b->scanned: returns the offset
 * (from start) of the LF of a CRLF (or of any LF when lenient), or -1. The
 * search uses memchr, which libc vectorises. */
static mw_ssize find_eol(mw__inbuf *b, unsigned flags)
{
    const unsigned char *d = mw__inbuf_data(b);
    size_t len = mw__inbuf_len(b);
    size_t pos = b->scanned;
    while (pos < len) {
        const unsigned char *lf = memchr(d + pos, '\n', len - pos);
        if (!lf) break;
        size_t at = (size_t)(lf - d);
        if ((flags & MW__LINE_LENIENT_LF) || (at > 0 && d[at - 1] == '\r')) {
            b->scanned = at + 1;
            return (mw_ssize)at;
        }
        pos = at + 1; /* bare LF: content, keep looking (DESIGN.md rule 2) */
    }
    b->scanned = len;
    return -1;
}

int mw__inbuf_line(mw__inbuf *b, size_t max_line, unsigned flags, mw_slice *line)
{
    for (;;) {
        mw_ssize at = find_eol(b, flags);
        if (b->discarding) {
            if (at < 0) {
                /* Keep a trailing CR: it may pair with the next LF. */
                size_t len = mw__inbuf_len(b);
                size_t keep = len && mw__inbuf_data(b)[len - 1] == '\r' ? 1 : 0;
                mw__inbuf_consume(b, len - keep);
                b->scanned = keep;
                return 0;
            }
            mw__inbuf_consume(b, (size_t)at + 1);
            b->discarding = 0;
            continue;
        }
        if (at < 0) {
            /* A full buffer with no line end is too long as well: waiting
             * would deadlock. */
            if (mw__inbuf_len(b) >= max_line || mw__inbuf_len(b) >= b->max) {
                b->discarding = 1;
                return MW_ERR_LINE_TOO_LONG;
            }
            return 0;
        }
        size_t total = (size_t)at + 1;
        if (total > max_line) {
            mw__inbuf_consume(b, total);
            return MW_ERR_LINE_TOO_LONG;
        }
        const unsigned char *d = mw__inbuf_data(b);
        size_t content = (size_t)at;
        if (content > 0 && d[content - 1] == '\r') content--;
        line->base = (const char *)d;
        line->len = content;
        mw__inbuf_consume(b, total);
        return 1;
    }
}
