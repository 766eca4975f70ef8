/*
 * mailwire OpenSSL adapter — internal declarations shared by config.c,
 * session.c and info.c. Nothing here is exported (the version script
 * cmake/mailwire_openssl.map lets only mw_tls_* out).
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MW_TLS_INTERNAL_H
#define MW_TLS_INTERNAL_H

#include <mailwire/openssl.h>

#include "common/common_internal.h"

#include <openssl/ssl.h>

#include <stddef.h>

/* Room for one error text; longer OpenSSL reasons are cut. */
#define MW__TLS_ERR_MAX 256
/* TLS records carry at most 2^14 octets of plaintext (RFC 8446 §5.1). */
#define MW__TLS_RECORD_MAX 16384u

/** A byte buffer holding [head, tail) of data; grows up to a ceiling. */
typedef struct mw__tls_buf {
    unsigned char *data;
    size_t head, tail, cap;
} mw__tls_buf;

struct mw_tls_config {
    mw_mem mem;
    SSL_CTX *ctx;
    int role;
    char *host_name;           /* expected server name (client), owned */
    unsigned char *alpn;       /* ALPN list in wire form (RFC 7301 §3.1), owned */
    size_t alpn_len;
    size_t in_max, out_max;
    char err[MW__TLS_ERR_MAX];
};

struct mw_tls_session {
    mw_mem mem;
    SSL *ssl;
    BIO_METHOD *bio_method;    /* our memory transport, one per session */
    int role;
    mw__tls_buf in, out;       /* ciphertext from / to the peer */
    size_t in_max, out_soft, out_hard;
    unsigned char *alpn;       /* server: our ALPN preference list, owned */
    size_t alpn_len;
    int started;               /* the handshake has been kicked off */
    int ready;                 /* the handshake finished */
    int eof;                   /* the transport closed */
    int peer_closed;           /* close_notify received */
    int close_sent;            /* close_notify queued */
    int fatal;                 /* sticky error code, 0 while healthy */
    int nomem, over_limit;     /* why the transport refused a write */
    char err[MW__TLS_ERR_MAX];
};

/** Format "what: <OpenSSL's first queued reason>" into dst and clear the
 *  OpenSSL error queue. fallback is used when the queue is empty. */
void mw__tls_error_text(char *dst, size_t cap, const char *what, const char *fallback,
                        const SSL *ssl);

/** Apply an expected host name (or IP literal, or NULL to clear) to ssl.
 *  @return MW_OK, MW_ERR_INVALID (bad name), MW_ERR_TLS. */
int mw__tls_apply_host_name(SSL *ssl, const char *name);
/** Validate a host name for SNI/checking: 1..253 octets, printable ASCII, no space. */
int mw__tls_host_name_ok(const char *name);

/** Server-side ALPN selection callback (installed on the SSL_CTX). */
int mw__tls_alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                        const unsigned char *in, unsigned int inlen, void *arg);

#endif /* MW_TLS_INTERNAL_H */
