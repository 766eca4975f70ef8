/*
 * Shared glue for the mailwire example programs: a poll() loop that serves
 * many connections at once with any mailwire server engine, plain or TLS.
 *
 * The loop owns sockets, the optional TLS session of each connection, the
 * idle timeouts (the engines have no clock) and clean shutdown on SIGTERM
 * or SIGINT. The program owns the engine: it creates it in the open
 * callback, answers its events in the events callback and frees it in the
 * close callback. Every engine has the same shape (recv_buf/recv_ack, eof,
 * out_buf/out_ack, state, tls_started), so one small table of functions
 * (mwx_engine_ops) adapts SMTP, POP3 or IMAP to the loop.
 *
 * SPDX-License-Identifier: MIT
 */
#ifndef MWX_NET_H
#define MWX_NET_H

#include <stddef.h>
#include <stdint.h>

/** How the loop moves bytes in and out of one engine (see the engines' headers). */
typedef struct mwx_engine_ops {
    unsigned char *(*recv_buf)(void *engine, size_t *len);
    int (*recv_ack)(void *engine, size_t n);
    int (*eof)(void *engine);
    const unsigned char *(*out_buf)(void *engine, size_t *len);
    void (*out_ack)(void *engine, size_t n);
    unsigned (*state)(void *engine);
    int (*tls_started)(void *engine);
} mwx_engine_ops;

/** One client connection. Fields up to app are for the program. */
typedef struct mwx_conn {
    int fd;
    int implicit_tls;          /**< accepted on an implicit-TLS listener */
    char peer[64];             /**< numeric "address:port" of the client */
    void *engine;              /**< set by the open callback */
    const mwx_engine_ops *ops; /**< set by the open callback */
    void *app;                 /**< the program's per-connection state */
    /* Private to the loop. */
    void *tls;        /* mw_tls_session *, NULL while plaintext */
    int readable;     /* poll said the socket has input (or EOF) */
    int peer_eof;     /* the engine has been told the peer closed */
    int stopping;     /* the program was asked to say goodbye (421) */
    int64_t deadline; /* CLOCK_MONOTONIC ms: idle timeout */
} mwx_conn;

/** Why the loop asks a connection to end (mwx_handlers.stop). */
#define MWX_STOP_IDLE 1     /**< idle timeout (RFC 5321 §4.5.3.2) */
#define MWX_STOP_SHUTDOWN 2 /**< SIGTERM / SIGINT */

/** The program's side of the loop. */
typedef struct mwx_handlers {
    /** A connection was accepted: create the engine, set c->engine, c->ops,
     *  c->app. @return 0, or -1 to drop the connection. */
    int (*open)(mwx_conn *c, void *user);
    /** Pull and answer engine events. @return 1 if something happened,
     *  0 if nothing did, -1 to close the connection now. */
    int (*events)(mwx_conn *c, void *user);
    /** Queue a farewell (an SMTP 421) so the engine closes after it. */
    void (*stop)(mwx_conn *c, void *user, int why);
    /** The connection is going away: free the engine and c->app (either
     *  may be NULL when open failed). */
    void (*close)(mwx_conn *c, void *user);
    /** Optional (may be NULL): called once per loop turn, at least once a
     *  second, for the program's own timers. Must not block. */
    void (*tick)(void *user);
    void *user;
} mwx_handlers;

typedef struct mwx_server mwx_server;

/** Create a loop. @return 0, -1 (out of memory). */
int mwx_server_new(mwx_server **out, const mwx_handlers *h);

/** Free the loop, its listeners and any connection left (close is called). */
void mwx_server_free(mwx_server *srv);

/** Limits: most connections at once (default 256) and the idle timeout
 *  in milliseconds (default 300000, RFC 5321 §4.5.3.2). */
void mwx_server_set_limits(mwx_server *srv, size_t max_conns, int idle_ms);

/** 1 when the programs were built with the OpenSSL adapter. */
int mwx_tls_available(void);

/**
 * Load a certificate chain and key (PEM files) for STARTTLS and implicit TLS.
 * @return 0, or -1 with a reason in err (also when TLS is not built in).
 */
int mwx_server_set_tls(mwx_server *srv, const char *cert, const char *key, char *err, size_t cap);

/** 1 when mwx_server_set_tls succeeded. */
int mwx_server_has_tls(const mwx_server *srv);

/**
 * Listen on "ADDR:PORT", "[IPV6]:PORT" or ":PORT" (all IPv4 addresses).
 * Port 0 picks a free port; the address actually bound is written to bound.
 * @param implicit_tls connections start with a TLS handshake (465).
 * @return 0, or -1 with errno set (EINVAL for a malformed address).
 */
int mwx_server_listen(mwx_server *srv, const char *addr, int implicit_tls, char *bound, size_t cap);

/**
 * Serve until SIGTERM or SIGINT, then stop accepting, ask every connection
 * to end (stop callback), and wait up to 5 s for them.
 * @return 0 after a clean shutdown, -1 when poll() failed.
 */
int mwx_server_run(mwx_server *srv);

#endif
