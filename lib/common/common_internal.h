/*
 * mailwire — internal core shared by every module: allocator plumbing, the
 * bounded output queue, the bounded input buffer and the CRLF line reader,
 * and the transport glue every protocol engine is built on.
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

/* ---- small text helpers (text.c) ------------------------------------ */

/** ASCII case-insensitive equality of a slice and a C string. */
int mw__ieq(const char *p, size_t len, const char *s);
/** Is word (len octets) one of the space-separated words in list (case-insensitive)? */
int mw__in_list(const char *list, const char *word, size_t len);
/** Parse n decimal digits (no sign, no space). @return 0, or -1 (not a number, over 2^64-1). */
int mw__parse_u64(const char *p, size_t n, uint64_t *out);

/** mw__word_list_copy: '_' is a word character too (SASL names, RFC 4422 §3.1). */
#define MW__WORDS_UNDERSCORE 0x1u
/** mw__word_list_copy: one space between words, none at either end. */
#define MW__WORDS_TIDY 0x2u
/**
 * Check a space-separated list of words (A-Z a-z 0-9 '-', each 1..max_word
 * characters) and copy it upper-cased into dst. A NULL list is empty.
 * @param cap size of dst including the NUL.
 * @return MW_OK, or MW_ERR_INVALID (bad character, long word, or the copy
 *         would not fit) with dst untouched.
 */
int mw__word_list_copy(char *dst, size_t cap, const char *list, size_t max_word, unsigned flags);
/** Option setter: turn bits on or off. @return MW_OK, MW_ERR_INVALID (a bit outside all). */
int mw__set_bits(unsigned *field, unsigned bits, unsigned all, int on);
/** Option setter: *field = v when lo <= v <= hi. @return MW_OK, MW_ERR_INVALID (*field kept). */
int mw__set_size(size_t *field, size_t v, size_t lo, size_t hi);
/** The input buffer sizes the server engines take (..._opts_set_input_buffer). */
#define MW__INBUF_MIN 1024u
#define MW__INBUF_MAX (64u * 1024u * 1024u)

/* ---- engine transport glue ---------------------------------------- */

/* What an engine does with bytes that arrive once it has stopped at the
 * STARTTLS/STLS boundary (DESIGN rule 1): a server counts and drops them,
 * a client fails hard with MW_ERR_TLS_INJECTION. */
#define MW__IO_SERVER 0x1u
/** Server: dropping any plaintext at the handoff also ends the session. */
#define MW__IO_INJECTION_CLOSES 0x2u
/** Client: a sticky error also moves the engine to its closed phase. */
#define MW__IO_FATAL_CLOSES 0x4u

/**
 * The transport side every protocol engine shares: the input buffer and
 * its zero-copy handout, the output queue, end of input, the sticky fatal
 * error and the plaintext dropped at a TLS handoff. The engine keeps its
 * own phase variable; the glue reads it (and may set it to the closed
 * phase) through the pointer given to mw__io_bind, so the engine object
 * must not move while bound.
 */
typedef struct mw__engine_io {
    mw__inbuf in;
    mw__outq out;
    int fatal;    /* sticky fatal error, 0 if none */
    int eof;      /* the peer closed (mw_X_eof) */
    int recv_out; /* recv_buf handed out: its length is recv_len */
    size_t recv_len;
    size_t recv_room;       /* least room recv_buf offers when empty (0: grow on demand) */
    uint64_t tls_discarded; /* plaintext dropped at TLS handoffs */
    int *phase;             /* the engine's phase */
    int ph_handoff, ph_closed;
    unsigned flags; /* MW__IO_* */
} mw__engine_io;

void mw__io_init(mw__engine_io *io, const mw_mem *mem, size_t in_max, size_t out_max);
/** Tell the glue where the engine's phase is and which values mean "TLS handoff" and "closed". */
void mw__io_bind(mw__engine_io *io, int *phase, int ph_handoff, int ph_closed, unsigned flags);
void mw__io_free(mw__engine_io *io);
/** Record rc as the sticky error (the first one stays). @return the sticky error. */
int mw__io_fail(mw__engine_io *io, int rc);
/** mw_X_feed: MW_ERR_INVALID, the sticky error, MW_ERR_CLOSED, or bytes taken. */
mw_ssize mw__io_feed(mw__engine_io *io, const void *data, size_t len);
/** mw_X_recv_buf: room to read into, or NULL (*len = 0); io may be NULL. */
unsigned char *mw__io_recv_buf(mw__engine_io *io, size_t *len);
/** mw_X_recv_ack: MW_OK, MW_ERR_STATE (no buffer out), MW_ERR_INVALID, MW_ERR_TLS_INJECTION. */
int mw__io_recv_ack(mw__engine_io *io, size_t n);
/** mw_X_out_buf; io may be NULL. */
const unsigned char *mw__io_out_buf(mw__engine_io *io, size_t *len);
/** mw_X_out_ack; io may be NULL. */
void mw__io_out_ack(mw__engine_io *io, size_t n);
/** mw_X_eof: the peer closed. @return MW_OK. */
int mw__io_eof(mw__engine_io *io);
/** Drop every buffered input byte and any half-read line. @return bytes dropped. */
size_t mw__io_drop_input(mw__engine_io *io);
/** Server at STARTTLS/STLS: drop the pipelined plaintext and count it. @return bytes dropped. */
size_t mw__io_handoff_discard(mw__engine_io *io);

/**
 * Define an engine's six public transport calls on its mw__engine_io
 * member `io`: PFX_feed, PFX_recv_buf, PFX_recv_ack, PFX_eof, PFX_out_buf,
 * PFX_out_ack (declared, with MW_API and their doc comments, in the
 * public header). A NULL engine gives MW_ERR_INVALID, or NULL with
 * *len = 0, or nothing.
 */
#define MW__ENGINE_IO_API(PFX, T)                                                                  \
    mw_ssize PFX##_feed(T *e, const void *data, size_t len)                                        \
    {                                                                                              \
        return e ? mw__io_feed(&e->io, data, len) : MW_ERR_INVALID;                                \
    }                                                                                              \
    unsigned char *PFX##_recv_buf(T *e, size_t *len)                                               \
    {                                                                                              \
        return mw__io_recv_buf(e ? &e->io : NULL, len);                                            \
    }                                                                                              \
    int PFX##_recv_ack(T *e, size_t n)                                                             \
    {                                                                                              \
        return e ? mw__io_recv_ack(&e->io, n) : MW_ERR_INVALID;                                    \
    }                                                                                              \
    int PFX##_eof(T *e)                                                                            \
    {                                                                                              \
        return e ? mw__io_eof(&e->io) : MW_ERR_INVALID;                                            \
    }                                                                                              \
    const unsigned char *PFX##_out_buf(T *e, size_t *len)                                          \
    {                                                                                              \
        return mw__io_out_buf(e ? &e->io : NULL, len);                                             \
    }                                                                                              \
    void PFX##_out_ack(T *e, size_t n)                                                             \
    {                                                                                              \
        mw__io_out_ack(e ? &e->io : NULL, n);                                                      \
    }

#endif /* MW_COMMON_INTERNAL_H */
