/*
 * OpenSSL adapter: sessions. OpenSSL talks to a custom BIO whose read and
 * write callbacks work on two buffers owned by the session, so no socket is
 * ever touched: the caller moves ciphertext in and out.
 *
 * SPDX-License-Identifier: MIT
 */
#include "tls/tls_internal.h"

#include <openssl/err.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* A private BIO type number (values from 128 up are left to applications). */
#define MW__TLS_BIO_TYPE (0xE5 | BIO_TYPE_SOURCE_SINK)
#define MW__TLS_BUF_MIN 4096u

/* ---- buffers ------------------------------------------------------------- */

static size_t buf_len(const mw__tls_buf *b)
{
    return b->tail - b->head;
}

/**
 * Make at least `want` contiguous bytes free after tail, growing up to
 * `limit` total bytes. @return MW_OK, MW_ERR_LIMIT, MW_ERR_NOMEM.
 */
static int buf_room(const mw_mem *m, mw__tls_buf *b, size_t want, size_t limit)
{
    size_t used = buf_len(b);
    if (want > limit - used) return MW_ERR_LIMIT;
    if (b->cap - b->tail >= want) return MW_OK;
    if (b->head) { /* slide the data to the front before growing */
        memmove(b->data, b->data + b->head, used);
        b->head = 0;
        b->tail = used;
        if (b->cap - b->tail >= want) return MW_OK;
    }
    size_t cap = b->cap ? b->cap : MW__TLS_BUF_MIN;
    while (cap - used < want) cap = cap > limit / 2 ? limit : cap * 2;
    if (cap > limit) cap = limit;
    unsigned char *p = m->realloc(b->data, cap, m->user_data);
    if (!p) return MW_ERR_NOMEM;
    b->data = p;
    b->cap = cap;
    return MW_OK;
}

/* Consume n bytes. The data is not moved here (buf_room slides it when
 * space is needed), so a pointer from mw_tls_recv_buf stays where it was
 * even if the handshake consumed input before the matching recv_ack. */
static void buf_drop(mw__tls_buf *b, size_t n)
{
    if (n > buf_len(b)) n = buf_len(b);
    b->head += n;
}

/* ---- the memory BIO --------------------------------------------------------- */

static int bio_read(BIO *bio, char *out, int outl)
{
    mw_tls_session *s = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    size_t avail = buf_len(&s->in);
    if (avail == 0) {
        if (s->eof) return 0; /* OpenSSL reports an unexpected EOF */
        BIO_set_retry_read(bio);
        return -1;
    }
    size_t n = outl > 0 && (size_t)outl < avail ? (size_t)outl : avail;
    memcpy(out, s->in.data + s->in.head, n);
    buf_drop(&s->in, n);
    return (int)n;
}

static int bio_write(BIO *bio, const char *data, int len)
{
    mw_tls_session *s = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (len <= 0) return 0;
    int rc = buf_room(&s->mem, &s->out, (size_t)len, s->out_hard);
    if (rc != MW_OK) {
        /* No retry flag: OpenSSL fails the call, and the flags say why. */
        if (rc == MW_ERR_NOMEM) s->nomem = 1;
        else s->over_limit = 1;
        return -1;
    }
    memcpy(s->out.data + s->out.tail, data, (size_t)len);
    s->out.tail += (size_t)len;
    return len;
}

static long bio_ctrl(BIO *bio, int cmd, long num, void *ptr)
{
    (void)num;
    (void)ptr;
    mw_tls_session *s = BIO_get_data(bio);
    switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;
    case BIO_CTRL_PENDING: return s ? (long)buf_len(&s->in) : 0;
    case BIO_CTRL_EOF: return s && s->eof && buf_len(&s->in) == 0;
    default: return 0;
    }
}

static int bio_create(BIO *bio)
{
    BIO_set_init(bio, 1);
    return 1;
}

static BIO_METHOD *bio_method_new(void)
{
    BIO_METHOD *m = BIO_meth_new(MW__TLS_BIO_TYPE, "mailwire memory transport");
    if (!m) return NULL;
    if (!BIO_meth_set_read(m, bio_read) || !BIO_meth_set_write(m, bio_write) ||
        !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
        BIO_meth_free(m);
        return NULL;
    }
    return m;
}

/* ---- errors --------------------------------------------------------------- */

static int set_error(mw_tls_session *s, int code, const char *text)
{
    snprintf(s->err, sizeof s->err, "%s", text);
    return code;
}

/* Record a fatal failure of an SSL_* call: it becomes sticky. */
static int fail_ssl(mw_tls_session *s, int ssl_error, const char *what)
{
    int code = MW_ERR_TLS;
    if (s->nomem) {
        code = MW_ERR_NOMEM;
        snprintf(s->err, sizeof s->err, "%s: out of memory", what);
        ERR_clear_error();
    } else if (s->over_limit) {
        code = MW_ERR_LIMIT;
        snprintf(s->err, sizeof s->err, "%s: ciphertext output limit exceeded", what);
        ERR_clear_error();
    } else {
        const char *fallback = ssl_error == SSL_ERROR_SYSCALL ? "unexpected EOF" : "failure";
        mw__tls_error_text(s->err, sizeof s->err, what, fallback, s->ssl);
    }
    s->fatal = code;
    return code;
}

/* ---- lifetime --------------------------------------------------------------- */

static int session_setup(mw_tls_session *s, const mw_tls_config *cfg)
{
    s->ssl = SSL_new(cfg->ctx);
    s->bio_method = bio_method_new();
    if (!s->ssl || !s->bio_method) return MW_ERR_TLS;
    BIO *bio = BIO_new(s->bio_method);
    if (!bio) return MW_ERR_TLS;
    BIO_set_data(bio, s);
    SSL_set_bio(s->ssl, bio, bio); /* one reference, owned by ssl */
    SSL_set_app_data(s->ssl, s);
    if (cfg->role == MW_TLS_CLIENT) {
        SSL_set_connect_state(s->ssl);
        return mw__tls_apply_host_name(s->ssl, cfg->host_name);
    }
    SSL_set_accept_state(s->ssl);
    if (cfg->alpn_len) {
        s->alpn = s->mem.malloc(cfg->alpn_len, s->mem.user_data);
        if (!s->alpn) return MW_ERR_NOMEM;
        memcpy(s->alpn, cfg->alpn, cfg->alpn_len);
        s->alpn_len = cfg->alpn_len;
    }
    return MW_OK;
}

int mw_tls_new(const mw_mem *mem, const mw_tls_config *cfg, mw_tls_session **out)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    if (!cfg) return MW_ERR_INVALID;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_tls_session *s = m.calloc(1, sizeof *s, m.user_data);
    if (!s) return MW_ERR_NOMEM;
    s->mem = m;
    s->role = cfg->role;
    s->in_max = cfg->in_max;
    s->out_soft = cfg->out_max;
    s->out_hard = 4 * cfg->out_max + 256u * 1024u;
    ERR_clear_error();
    int rc = session_setup(s, cfg);
    if (rc != MW_OK) {
        ERR_clear_error();
        mw_tls_free(s);
        return rc;
    }
    *out = s;
    return MW_OK;
}

void mw_tls_free(mw_tls_session *s)
{
    if (!s) return;
    SSL_free(s->ssl); /* frees the BIO too */
    BIO_meth_free(s->bio_method);
    s->mem.free(s->in.data, s->mem.user_data);
    s->mem.free(s->out.data, s->mem.user_data);
    s->mem.free(s->alpn, s->mem.user_data);
    s->mem.free(s, s->mem.user_data);
}

int mw_tls_set_host_name(mw_tls_session *s, const char *name)
{
    if (!s) return MW_ERR_INVALID;
    if (s->role != MW_TLS_CLIENT || s->started) return MW_ERR_STATE;
    return mw__tls_apply_host_name(s->ssl, name);
}

/* ---- the handshake -------------------------------------------------------- */

static int advance_handshake(mw_tls_session *s)
{
    if (s->fatal) return s->fatal;
    s->started = 1;
    if (s->ready) return MW_OK;
    ERR_clear_error();
    int rc = SSL_do_handshake(s->ssl);
    if (rc == 1) {
        s->ready = 1;
        return MW_OK;
    }
    int e = SSL_get_error(s->ssl, rc);
    if (e == SSL_ERROR_WANT_READ) return MW_OK;
    return fail_ssl(s, e, "handshake");
}

static void start_if_needed(mw_tls_session *s)
{
    if (!s->started && !s->fatal) (void)advance_handshake(s);
}

/* ---- ciphertext in -------------------------------------------------------- */

static int input_status(const mw_tls_session *s)
{
    if (s->fatal) return s->fatal;
    if (s->eof || s->peer_closed) return MW_ERR_CLOSED;
    return MW_OK;
}

mw_ssize mw_tls_feed_cipher(mw_tls_session *s, const void *data, size_t len)
{
    if (!s || (!data && len)) return MW_ERR_INVALID;
    int rc = input_status(s);
    if (rc != MW_OK) return rc;
    size_t room = s->in_max - buf_len(&s->in);
    size_t n = len < room ? len : room;
    if (n) {
        rc = buf_room(&s->mem, &s->in, n, s->in_max);
        if (rc != MW_OK) {
            s->fatal = rc;
            return set_error(s, rc, "input buffer: out of memory");
        }
        memcpy(s->in.data + s->in.tail, data, n);
        s->in.tail += n;
    }
    rc = advance_handshake(s);
    return rc != MW_OK ? rc : (mw_ssize)n;
}

unsigned char *mw_tls_recv_buf(mw_tls_session *s, size_t *len)
{
    if (len) *len = 0;
    if (!s || !len || input_status(s) != MW_OK) return NULL;
    size_t used = buf_len(&s->in);
    if (used >= s->in_max) return NULL;
    /* Offer a socket-read-sized piece: at least a whole buffer step. */
    size_t want = s->in_max - used < MW__TLS_BUF_MIN ? s->in_max - used : MW__TLS_BUF_MIN;
    if (buf_room(&s->mem, &s->in, want, s->in_max) != MW_OK) {
        s->fatal = set_error(s, MW_ERR_NOMEM, "input buffer: out of memory");
        return NULL;
    }
    size_t space = s->in.cap - s->in.tail;
    if (space > s->in_max - used) space = s->in_max - used;
    *len = space;
    return s->in.data + s->in.tail;
}

int mw_tls_recv_ack(mw_tls_session *s, size_t n)
{
    if (!s) return MW_ERR_INVALID;
    int rc = input_status(s);
    if (rc != MW_OK) return rc;
    if (n > s->in.cap - s->in.tail || n > s->in_max - buf_len(&s->in)) return MW_ERR_INVALID;
    s->in.tail += n;
    return advance_handshake(s);
}

int mw_tls_eof(mw_tls_session *s)
{
    if (!s) return MW_ERR_INVALID;
    s->eof = 1;
    if (s->started && !s->ready && !s->fatal) (void)advance_handshake(s);
    return MW_OK;
}

/* ---- ciphertext out ------------------------------------------------------- */

const unsigned char *mw_tls_out_buf(mw_tls_session *s, size_t *len)
{
    if (len) *len = 0;
    if (!s || !len) return NULL;
    start_if_needed(s);
    *len = buf_len(&s->out);
    return *len ? s->out.data + s->out.head : NULL;
}

void mw_tls_out_ack(mw_tls_session *s, size_t n)
{
    if (s) buf_drop(&s->out, n);
}

/* ---- plaintext ------------------------------------------------------------ */

mw_ssize mw_tls_read_plain(mw_tls_session *s, void *buf, size_t cap)
{
    if (!s || !buf || !cap) return MW_ERR_INVALID;
    if (s->fatal) return s->fatal;
    if (!s->ready) {
        int rc = advance_handshake(s);
        if (rc != MW_OK) return rc;
        /* The gate: nothing read before the handshake finished is data. */
        if (!s->ready) return 0;
    }
    if (s->peer_closed) return MW_ERR_CLOSED;
    ERR_clear_error();
    size_t n = 0;
    if (SSL_read_ex(s->ssl, buf, cap, &n)) return (mw_ssize)n;
    int e = SSL_get_error(s->ssl, 0);
    if (e == SSL_ERROR_WANT_READ) return 0;
    if (e == SSL_ERROR_ZERO_RETURN) {
        s->peer_closed = 1;
        return MW_ERR_CLOSED;
    }
    return fail_ssl(s, e, "read");
}

mw_ssize mw_tls_write_plain(mw_tls_session *s, const void *data, size_t len)
{
    if (!s || (!data && len)) return MW_ERR_INVALID;
    if (s->fatal) return s->fatal;
    if (s->close_sent) return MW_ERR_CLOSED;
    if (!s->ready) {
        int rc = advance_handshake(s);
        if (rc != MW_OK) return rc;
        if (!s->ready) return 0;
    }
    const unsigned char *p = data;
    size_t done = 0;
    /* One record per SSL_write call, and only while the queue is under its
     * soft limit: the transport never refuses, so OpenSSL never needs the
     * same buffer offered again. */
    while (done < len && buf_len(&s->out) < s->out_soft) {
        size_t chunk = len - done < MW__TLS_RECORD_MAX ? len - done : MW__TLS_RECORD_MAX;
        size_t w = 0;
        ERR_clear_error();
        if (!SSL_write_ex(s->ssl, p + done, chunk, &w))
            return fail_ssl(s, SSL_get_error(s->ssl, 0), "write");
        done += w;
    }
    return (mw_ssize)done;
}

/* ---- state and close ------------------------------------------------------ */

unsigned mw_tls_state(mw_tls_session *s)
{
    if (!s) return MW_CLOSED;
    start_if_needed(s);
    unsigned st = 0;
    if (buf_len(&s->out)) st |= MW_WANT_WRITE;
    if (s->ready) st |= MW_TLS_READY;
    if (s->peer_closed) st |= MW_TLS_PEER_CLOSED;
    if (s->close_sent) st |= MW_TLS_CLOSE_SENT;
    if (s->fatal)
        st |= MW_TLS_FAILED | MW_CLOSED;
    else if (s->peer_closed && s->close_sent)
        st |= MW_CLOSED;
    else if (!s->eof && !s->peer_closed && buf_len(&s->in) < s->in_max)
        st |= MW_WANT_READ;
    return st;
}

int mw_tls_shutdown(mw_tls_session *s)
{
    if (!s) return MW_ERR_INVALID;
    if (s->fatal) return s->fatal;
    if (!s->ready) return set_error(s, MW_ERR_STATE, "shutdown: handshake not finished");
    if (s->close_sent) return MW_OK;
    ERR_clear_error();
    int rc = SSL_shutdown(s->ssl);
    if (rc < 0) return fail_ssl(s, SSL_get_error(s->ssl, rc), "shutdown");
    s->close_sent = 1;
    return MW_OK;
}

const char *mw_tls_last_error(const mw_tls_session *s)
{
    return s ? s->err : "";
}
