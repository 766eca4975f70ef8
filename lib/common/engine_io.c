/*
 * Transport glue shared by the protocol engines (SMTP/LMTP and POP3,
 * client and server): feed / zero-copy recv, eof, out_buf / out_ack, the
 * sticky fatal error, and what happens to bytes that arrive once an engine
 * has stopped at the STARTTLS/STLS boundary.
 *
 * SPDX-License-Identifier: MIT
 */
#include "common/common_internal.h"

void mw__io_init(mw__engine_io *io, const mw_mem *mem, size_t in_max, size_t out_max)
{
    memset(io, 0, sizeof *io);
    mw__inbuf_init(&io->in, mem, in_max);
    mw__outq_init(&io->out, mem, out_max);
    io->ph_handoff = io->ph_closed = -1;
}

void mw__io_bind(mw__engine_io *io, int *phase, int ph_handoff, int ph_closed, unsigned flags)
{
    io->phase = phase;
    io->ph_handoff = ph_handoff;
    io->ph_closed = ph_closed;
    io->flags = flags;
}

void mw__io_free(mw__engine_io *io)
{
    mw__inbuf_free(&io->in);
    mw__outq_free(&io->out);
}

static int phase_is(const mw__engine_io *io, int ph)
{
    return io->phase && *io->phase == ph;
}

int mw__io_fail(mw__engine_io *io, int rc)
{
    if (!io->fatal) io->fatal = rc;
    if ((io->flags & MW__IO_FATAL_CLOSES) && io->phase) *io->phase = io->ph_closed;
    return io->fatal;
}

/* Bytes that reach an engine stopped at the TLS handoff. Plaintext after
 * STARTTLS/STLS is never interpreted (CVE-2011-0411, DESIGN rule 1): a
 * server counts and drops it (or ends the session, by option); a client
 * has been sent something its server must not say and fails. */
static int handoff_bytes(mw__engine_io *io, size_t n)
{
    if (!(io->flags & MW__IO_SERVER)) return n ? mw__io_fail(io, MW_ERR_TLS_INJECTION) : MW_OK;
    io->tls_discarded += n;
    if (n && (io->flags & MW__IO_INJECTION_CLOSES)) *io->phase = io->ph_closed;
    return MW_OK;
}

mw_ssize mw__io_feed(mw__engine_io *io, const void *data, size_t len)
{
    if (!data && len) return MW_ERR_INVALID;
    if (io->fatal) return io->fatal;
    if (io->eof || phase_is(io, io->ph_closed)) return MW_ERR_CLOSED;
    if (phase_is(io, io->ph_handoff)) {
        int rc = handoff_bytes(io, len);
        return rc ? rc : (mw_ssize)len;
    }
    io->recv_out = 0;
    mw_ssize n = mw__inbuf_feed(&io->in, data, len);
    if (n < 0) return mw__io_fail(io, (int)n);
    return n;
}

/* The shared reserve only grows a full buffer; an engine that keeps up
 * would then read 1 KiB at a time. recv_room gives zero-copy readers room
 * for a whole socket read (never past the configured ceiling). */
static int presize(mw__engine_io *io)
{
    mw__inbuf *b = &io->in;
    size_t want = b->max < io->recv_room ? b->max : io->recv_room;
    if (b->cap >= want || mw__inbuf_len(b) != 0) return MW_OK;
    unsigned char *nb = mw__realloc(b->mem, b->buf, want);
    if (!nb) return MW_ERR_NOMEM;
    b->buf = nb;
    b->cap = want;
    b->start = b->end = 0;
    return MW_OK;
}

unsigned char *mw__io_recv_buf(mw__engine_io *io, size_t *len)
{
    if (len) *len = 0;
    if (!io || !len || io->fatal || io->eof || phase_is(io, io->ph_closed)) return NULL;
    unsigned char *p = NULL;
    int rc = presize(io);
    if (!rc) rc = mw__inbuf_reserve(&io->in, &p, len);
    if (rc) {
        mw__io_fail(io, rc);
        return NULL;
    }
    io->recv_out = p != NULL;
    io->recv_len = *len;
    return p;
}

int mw__io_recv_ack(mw__engine_io *io, size_t n)
{
    if (!io->recv_out) return MW_ERR_STATE;
    if (n > io->recv_len) return MW_ERR_INVALID;
    io->recv_out = 0;
    if (phase_is(io, io->ph_handoff)) return handoff_bytes(io, n);
    mw__inbuf_recv_ack(&io->in, n);
    return MW_OK;
}

int mw__io_eof(mw__engine_io *io)
{
    io->eof = 1;
    return MW_OK;
}

const unsigned char *mw__io_out_buf(mw__engine_io *io, size_t *len)
{
    size_t dummy;
    if (!len) len = &dummy;
    if (!io) {
        *len = 0;
        return NULL;
    }
    return mw__outq_buf(&io->out, len);
}

void mw__io_out_ack(mw__engine_io *io, size_t n)
{
    if (io) mw__outq_ack(&io->out, n);
}

size_t mw__io_drop_input(mw__engine_io *io)
{
    size_t n = mw__inbuf_len(&io->in);
    mw__inbuf_consume(&io->in, n);
    io->in.scanned = 0;
    io->in.discarding = 0;
    return n;
}

size_t mw__io_handoff_discard(mw__engine_io *io)
{
    size_t n = mw__io_drop_input(io);
    io->tls_discarded += n;
    return n;
}
