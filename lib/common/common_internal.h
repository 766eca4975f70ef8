/*
 * mailwire — internal core shared by every module: allocator plumbing, the
 * bounded output queue, the bounded input buffer and the CRLF line reader.
 * Nothing here is exported (names start with mw__).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_COMMON_INTERNAL_H
#define MW_COMMON_INTERNAL_H

#include <mailwire/common.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define MW_LIKELY(x) __builtin_expect(!!(x), 1)
#define MW_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define MW_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define MW_LIKELY(x) (x)
#define MW_UNLIKELY(x) (x)
#define MW_PRINTF(f, a)
#endif

/* ---- allocator ---------------------------------------------------- */

/** Copy user hooks into *out, filling NULL members (or a NULL in) with libc. */
void mw__mem_resolve(mw_mem *out, const mw_mem *in);
void *mw__malloc(const mw_mem *m, size_t n);
void *mw__calloc(const mw_mem *m, size_t count, size_t size);
void *mw__realloc(const mw_mem *m, void *p, size_t n);
void mw__free(const mw_mem *m, void *p);

/** Compare n bytes in time independent of their contents: 0 when equal. */
int mw__ct_memcmp(const void *a, const void *b, size_t n);

/* ---- output queue ------------------------------------------------- */

/**
 * Bytes an engine has queued for the peer. Grows on demand up to max; the
 * caller drains it with buf/ack (partial writes need no copy). Data lives in
 * [head, tail) of buf.
 */
typedef struct mw__outq {
    const mw_mem *mem;
    unsigned char *buf;
    size_t head, tail, cap, max;
} mw__outq;

void mw__outq_init(mw__outq *q, const mw_mem *mem, size_t max);
void mw__outq_free(mw__outq *q);
/** Pending byte count. */
static inline size_t mw__outq_len(const mw__outq *q) { return q->tail - q->head; }
/** Free space that can be added before hitting max. */
size_t mw__outq_room(const mw__outq *q);
/** Append len bytes. @return MW_OK, MW_ERR_NOMEM, MW_ERR_LIMIT (nothing appended). */
int mw__outq_append(mw__outq *q, const void *data, size_t len);
/** Append a NUL-terminated string. Same results as mw__outq_append. */
int mw__outq_puts(mw__outq *q, const char *s);
/** Append printf-formatted text. Same results, plus MW_ERR_INVALID on a format error. */
int mw__outq_printf(mw__outq *q, const char *fmt, ...) MW_PRINTF(2, 3);
int mw__outq_vprintf(mw__outq *q, const char *fmt, va_list ap) MW_PRINTF(2, 0);
/**
 * Make room for at least want contiguous bytes and return where to write
 * them; *got receives the space available (>= want). Commit with
 * mw__outq_commit. @return NULL on MW_ERR_NOMEM or MW_ERR_LIMIT (*got = 0).
 */
unsigned char *mw__outq_reserve(mw__outq *q, size_t want, size_t *got);
void mw__outq_commit(mw__outq *q, size_t n);
/** Pending bytes for the socket (NULL and *len = 0 when empty). */
const unsigned char *mw__outq_buf(const mw__outq *q, size_t *len);
/** Drop n sent bytes (n larger than pending is clamped). */
void mw__outq_ack(mw__outq *q, size_t n);

/* ---- input buffer and line reader ---------------------------------- */

/** Line reader option: accept a bare LF as a line end (quirks mode only). */
#define MW__LINE_LENIENT_LF 0x1u

/**
 * Bytes received from the peer that the engine has not consumed yet, in
 * [start, end) of buf. Grows from a small size up to max; never beyond.
 */
typedef struct mw__inbuf {
    const mw_mem *mem;
    unsigned char *buf;
    size_t start, end, cap, max;
    size_t scanned;   /* bytes past start already searched for LF */
    int discarding;   /* dropping the rest of an overlong line */
} mw__inbuf;

void mw__inbuf_init(mw__inbuf *b, const mw_mem *mem, size_t max);
void mw__inbuf_free(mw__inbuf *b);
/** Unconsumed byte count. */
static inline size_t mw__inbuf_len(const mw__inbuf *b) { return b->end - b->start; }
/* NULL (not NULL + 0, which is undefined) before the first allocation. */
static inline const unsigned char *mw__inbuf_data(const mw__inbuf *b)
{
    return b->buf ? b->buf + b->start : b->buf;
}
/**
 * Copy as much of data as fits under max.
 * @return bytes taken (0 when full: consume first), or MW_ERR_NOMEM.
 */
mw_ssize mw__inbuf_feed(mw__inbuf *b, const void *data, size_t len);
/**
 * Writable space at the end, for reading straight from a socket (zero-copy
 * path). Compacts or grows the buffer (up to max) first.
 * @param p,len receive the space (len 0 when the buffer is full: consume first).
 * @return MW_OK or MW_ERR_NOMEM.
 */
int mw__inbuf_reserve(mw__inbuf *b, unsigned char **p, size_t *len);
/** Commit n bytes written at the pointer mw__inbuf_reserve gave. */
void mw__inbuf_recv_ack(mw__inbuf *b, size_t n);
/** Mark n unconsumed bytes as consumed. */
void mw__inbuf_consume(mw__inbuf *b, size_t n);
/**
 * Take the next CRLF-terminated line.
 * @param max_line maximum line length including CRLF (RFC 5321 §4.5.3.1: 512
 *        for commands). A line with no CRLF within max_line bytes gives
 *        MW_ERR_LINE_TOO_LONG once; the reader then silently drops bytes up
 *        to and including the next CRLF, so the engine can answer and resync.
 * @param flags MW__LINE_LENIENT_LF or 0. A bare CR is always line content.
 * @param line receives the line without its CRLF; valid until the next call
 *        that changes the buffer. The line is consumed.
 * @return 1 (line), 0 (need more input), MW_ERR_LINE_TOO_LONG.
 */
int mw__inbuf_line(mw__inbuf *b, size_t max_line, unsigned flags, mw_slice *line);

#endif /* MW_COMMON_INTERNAL_H */
