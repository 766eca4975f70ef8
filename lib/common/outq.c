/*
 * Bounded output queue: engines append replies and commands, the caller
 * drains with buf/ack in whatever pieces the socket takes.
 *
 * SPDX-License-Identifier: MIT
 */
#include "common/common_internal.h"

#include <stdio.h>

#define OUTQ_MIN_CAP 256u

void mw__outq_init(mw__outq *q, const mw_mem *mem, size_t max)
{
    memset(q, 0, sizeof *q);
    q->mem = mem;
    q->max = max;
}

void mw__outq_free(mw__outq *q)
{
    mw__free(q->mem, q->buf);
    q->buf = NULL;
    q->head = q->tail = q->cap = 0;
}

size_t mw__outq_room(const mw__outq *q)
{
    size_t used = mw__outq_len(q);
    return used >= q->max ? 0 : q->max - used;
}

/* Ensure want contiguous free bytes after tail: slide data to the front
 * first (cheap, since drained queues are usually empty), then grow by
 * doubling, never past max. */
static int outq_make_room(mw__outq *q, size_t want)
{
    size_t used = mw__outq_len(q);
    if (want > q->max - (used < q->max ? used : q->max) || used > q->max) return MW_ERR_LIMIT;
    if (q->cap - q->tail >= want) return MW_OK;
    if (q->head > 0) {
        if (used) memmove(q->buf, q->buf + q->head, used);
        q->head = 0;
        q->tail = used;
        if (q->cap - q->tail >= want) return MW_OK;
    }
    size_t need = used + want;
    size_t cap = q->cap ? q->cap : OUTQ_MIN_CAP;
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > q->max) cap = q->max;
    unsigned char *nb = mw__realloc(q->mem, q->buf, cap);
    if (!nb) return MW_ERR_NOMEM;
    q->buf = nb;
    q->cap = cap;
    return MW_OK;
}

int mw__outq_append(mw__outq *q, const void *data, size_t len)
{
    if (len == 0) return MW_OK;
    int rc = outq_make_room(q, len);
    if (rc) return rc;
    memcpy(q->buf + q->tail, data, len);
    q->tail += len;
    return MW_OK;
}

int mw__outq_puts(mw__outq *q, const char *s)
{
    return mw__outq_append(q, s, strlen(s));
}

int mw__outq_vprintf(mw__outq *q, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap2);
    va_end(ap2);
    if (n < 0) return MW_ERR_INVALID;
    if ((size_t)n < sizeof small) return mw__outq_append(q, small, (size_t)n);
    /* Long text: format straight into the queue (needs n + 1 for the NUL). */
    int rc = outq_make_room(q, (size_t)n + 1);
    if (rc) return rc;
    vsnprintf((char *)q->buf + q->tail, (size_t)n + 1, fmt, ap);
    q->tail += (size_t)n;
    return MW_OK;
}

int mw__outq_printf(mw__outq *q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = mw__outq_vprintf(q, fmt, ap);
    va_end(ap);
    return rc;
}

unsigned char *mw__outq_reserve(mw__outq *q, size_t want, size_t *got)
{
    if (outq_make_room(q, want ? want : 1) != MW_OK) {
        *got = 0;
        return NULL;
    }
    size_t room = q->cap - q->tail;
    size_t limit = mw__outq_room(q);
    *got = room < limit ? room : limit;
    return q->buf + q->tail;
}

void mw__outq_commit(mw__outq *q, size_t n)
{
    q->tail += n;
}

const unsigned char *mw__outq_buf(const mw__outq *q, size_t *len)
{
    *len = mw__outq_len(q);
    return *len ? q->buf + q->head : NULL;
}

void mw__outq_ack(mw__outq *q, size_t n)
{
    size_t used = mw__outq_len(q);
    if (n >= used) {
        q->head = q->tail = 0;
        return;
    }
    q->head += n;
}
