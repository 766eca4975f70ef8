/*
 * The poll() loop of the example programs: listeners, connections, the
 * byte pumps between socket, optional TLS session and engine, idle
 * timeouts and shutdown. The pumps follow docs/tls.md ("The loop").
 *
 * SPDX-License-Identifier: MIT
 */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* accept4() */
#endif
#include "mwx_net.h"
#include "mwx_log.h"

#include <mailwire/common.h>
#ifdef MW_EXAMPLES_HAVE_TLS
#include <mailwire/openssl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_LISTENERS 8
#define PUMP_ROUNDS 32   /* rounds per connection before others get a turn */
#define FAREWELL_MS 5000 /* time a connection gets to send its 421 */

struct listener {
    int fd;
    int implicit_tls;
};

struct mwx_server {
    mwx_handlers h;
    struct listener lis[MAX_LISTENERS];
    size_t nlis;
    mwx_conn **conns;
    size_t nconns, max_conns;
    int idle_ms;
    void *tls_cfg; /* mw_tls_config * */
    struct pollfd *pfd;
};

static volatile sig_atomic_t g_stop_signal;

static void on_stop_signal(int sig)
{
    g_stop_signal = sig;
}

static int again(void)
{
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

/* Non-blocking and not inherited by children. */
static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0) return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

int mwx_server_new(mwx_server **out, const mwx_handlers *h)
{
    mwx_server *srv = calloc(1, sizeof *srv);
    *out = srv;
    if (!srv) return -1;
    srv->h = *h;
    srv->max_conns = 256;
    srv->idle_ms = 300 * 1000;
    return 0;
}

void mwx_server_set_limits(mwx_server *srv, size_t max_conns, int idle_ms)
{
    if (max_conns > 0) srv->max_conns = max_conns;
    if (idle_ms > 0) srv->idle_ms = idle_ms;
}

int mwx_tls_available(void)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    return 1;
#else
    return 0;
#endif
}

int mwx_server_set_tls(mwx_server *srv, const char *cert, const char *key, char *err, size_t cap)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_tls_config *cfg = NULL;
    if (mw_tls_config_new(NULL, MW_TLS_SERVER, &cfg) != MW_OK) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    if (mw_tls_config_set_cert_file(cfg, cert, key) != MW_OK) {
        snprintf(err, cap, "%s", mw_tls_config_last_error(cfg));
        mw_tls_config_free(cfg);
        return -1;
    }
    mw_tls_config_free(srv->tls_cfg);
    srv->tls_cfg = cfg;
    return 0;
#else
    (void)srv, (void)cert, (void)key;
    snprintf(err, cap, "built without the OpenSSL adapter (MW_WITH_OPENSSL=OFF)");
    return -1;
#endif
}

int mwx_server_has_tls(const mwx_server *srv)
{
    return srv->tls_cfg != NULL;
}

/* Split "host:port", "[v6]:port" or ":port" into its parts (in place). */
static int split_addr(char *buf, char **host, char **port)
{
    char *colon;
    if (buf[0] == '[') {
        char *end = strchr(buf, ']');
        if (!end || end[1] != ':') return -1;
        *end = '\0';
        *host = buf + 1;
        *port = end + 2;
        return 0;
    }
    colon = strrchr(buf, ':');
    if (!colon) return -1;
    *colon = '\0';
    *host = buf[0] ? buf : NULL; /* ":25" = every IPv4 address */
    *port = colon + 1;
    return 0;
}

static void format_addr(const struct sockaddr *sa, socklen_t len, char *out, size_t cap)
{
    char host[NI_MAXHOST], serv[NI_MAXSERV];
    if (getnameinfo(sa, len, host, sizeof host, serv, sizeof serv,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, cap, "?");
        return;
    }
    snprintf(out, cap, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

static int open_listener(const struct addrinfo *ai)
{
    int one = 1;
    int fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd < 0) return -1;
    if (set_nonblock(fd) != 0) {
        close(fd);
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ai->ai_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

int mwx_server_listen(mwx_server *srv, const char *addr, int implicit_tls, char *bound, size_t cap)
{
    char buf[256], *host, *port;
    struct addrinfo hints, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd;

    if (srv->nlis == MAX_LISTENERS || strlen(addr) >= sizeof buf) return errno = EINVAL, -1;
    strcpy(buf, addr);
    if (split_addr(buf, &host, &port) != 0) return errno = EINVAL, -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
    if (!host) hints.ai_family = AF_INET;
    if (getaddrinfo(host, port, &hints, &ai) != 0) return errno = EINVAL, -1;
    fd = open_listener(ai);
    freeaddrinfo(ai);
    if (fd < 0) return -1;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    format_addr((struct sockaddr *)&ss, sl, bound, cap);
    srv->lis[srv->nlis].fd = fd;
    srv->lis[srv->nlis].implicit_tls = implicit_tls;
    srv->nlis++;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Connections                                                         */
/* ------------------------------------------------------------------ */

static void conn_free(mwx_server *srv, mwx_conn *c)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    if (c->tls) { /* best effort: a fatal alert or close_notify may be queued */
        size_t len;
        const unsigned char *p = mw_tls_out_buf(c->tls, &len);
        if (p) (void)send(c->fd, p, len, MSG_NOSIGNAL);
        mw_tls_free(c->tls);
    }
#endif
    srv->h.close(c, srv->h.user);
    close(c->fd);
    free(c);
}

#ifdef MW_EXAMPLES_HAVE_TLS
/* Give the connection a TLS session (implicit TLS, or after STARTTLS). */
static int start_tls(mwx_server *srv, mwx_conn *c)
{
    mw_tls_session *t = NULL;
    if (mw_tls_new(NULL, srv->tls_cfg, &t) != MW_OK) return -1;
    c->tls = t;
    return 0;
}
#endif

static void accept_one(mwx_server *srv, const struct listener *l)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int one = 1;
    mwx_conn *c;
#if defined(__linux__) && defined(SOCK_NONBLOCK)
    /* Non-blocking and close-on-exec in the same call: three fcntl()s
     * less per connection, which counts when every message has its own. */
    int fd = accept4(l->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
#else
    int fd = accept(l->fd, (struct sockaddr *)&ss, &sl);

    if (fd < 0) return;
    if (set_nonblock(fd) != 0) {
        close(fd);
        return;
    }
#endif
    /* Replies are small and pipelined groups are flushed at once by the
     * engine; Nagle would only add a round trip of delay. */
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c = calloc(1, sizeof *c);
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->implicit_tls = l->implicit_tls;
    /* The server speaks first (greeting, or the client's TLS hello is
     * awaited): nothing to read yet, and a recv() now would only return
     * EAGAIN. poll() reports whatever arrives, even if it already has. */
    c->readable = 0;
    c->deadline = mwx_now_ms() + srv->idle_ms;
    format_addr((struct sockaddr *)&ss, sl, c->peer, sizeof c->peer);
#ifdef MW_EXAMPLES_HAVE_TLS
    if (l->implicit_tls && start_tls(srv, c) != 0) {
        close(fd);
        free(c);
        return;
    }
#endif
    if (srv->h.open(c, srv->h.user) != 0) {
        c->engine = NULL;
        conn_free(srv, c);
        return;
    }
    srv->conns[srv->nconns++] = c;
}

/* Socket -> engine, plaintext. @return 1 progress, 0 none, -1 close now. */
static int pull_plain(mwx_conn *c)
{
    size_t room;
    unsigned char *p;
    ssize_t n;

    /* At the STARTTLS boundary read nothing more as plaintext: the next
     * bytes on the wire are the ClientHello. */
    if (c->ops->state(c->engine) & MW_TLS_HANDOFF) return 0;
    p = c->ops->recv_buf(c->engine, &room);
    if (!p) return 0; /* engine full: its events come first */
    n = recv(c->fd, p, room, 0);
    if (n > 0) {
        if ((size_t)n < room) c->readable = 0;
        return c->ops->recv_ack(c->engine, (size_t)n) == MW_OK ? 1 : -1;
    }
    c->readable = 0;
    if (n == 0) {
        c->peer_eof = 1;
        c->ops->eof(c->engine);
        return 1;
    }
    return again() ? 0 : -1;
}

#ifdef MW_EXAMPLES_HAVE_TLS
/* Socket -> TLS -> engine. @return 1 progress, 0 none, -1 close now. */
static int pull_tls(mwx_conn *c)
{
    mw_tls_session *t = c->tls;
    size_t room;
    int progress = 0;
    unsigned char *p = mw_tls_recv_buf(t, &room);

    if (p && c->readable) {
        ssize_t n = recv(c->fd, p, room, 0);
        if (n > 0) {
            if ((size_t)n < room) c->readable = 0;
            if (mw_tls_recv_ack(t, (size_t)n) != MW_OK) return -1;
            progress = 1;
        } else if (n == 0) {
            c->readable = 0;
            mw_tls_eof(t);
            progress = 1;
        } else if (!again()) {
            return -1;
        } else {
            c->readable = 0;
        }
    }
    /* Decrypt straight into the engine's input buffer. */
    for (;;) {
        unsigned char *q = c->ops->recv_buf(c->engine, &room);
        mw_ssize got;
        if (!q) return progress;
        got = mw_tls_read_plain(t, q, room);
        if (got > 0) {
            if (c->ops->recv_ack(c->engine, (size_t)got) != MW_OK) return -1;
            progress = 1;
            continue;
        }
        if (got == 0) return progress;
        if (got == MW_ERR_CLOSED) { /* clean close_notify */
            c->peer_eof = 1;
            c->ops->eof(c->engine);
            return 1;
        }
        mwx_log("%s: TLS: %s", c->peer, mw_tls_last_error(t));
        return -1;
    }
}

/* Engine -> TLS -> socket. @return 1 progress, 0 none, -1 close now. */
static int push_tls(mwx_conn *c)
{
    mw_tls_session *t = c->tls;
    const unsigned char *p;
    size_t len;
    int progress = 0;

    while ((p = c->ops->out_buf(c->engine, &len)) != NULL) {
        mw_ssize took = mw_tls_write_plain(t, p, len);
        if (took < 0) return -1;
        if (took == 0) break; /* handshake running, or enough ciphertext waits */
        c->ops->out_ack(c->engine, (size_t)took);
        progress = 1;
    }
    /* The engine is done and its last reply is encrypted: close_notify. */
    if ((c->ops->state(c->engine) & MW_CLOSED) && !c->ops->out_buf(c->engine, &len) &&
        (mw_tls_state(t) & MW_TLS_READY) && !(mw_tls_state(t) & MW_TLS_CLOSE_SENT))
        if (mw_tls_shutdown(t) != MW_OK) return -1;
    while ((p = mw_tls_out_buf(t, &len)) != NULL) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) return again() ? progress : -1;
        mw_tls_out_ack(t, (size_t)n);
        progress = 1;
    }
    return progress;
}
#endif

/* Engine -> socket, plaintext, then the STARTTLS handoff once the 220 is out. */
static int push_plain(mwx_server *srv, mwx_conn *c)
{
    const unsigned char *p;
    size_t len;
    int progress = 0;

    while ((p = c->ops->out_buf(c->engine, &len)) != NULL) {
        ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL);
        if (n < 0) return again() ? progress : -1;
        c->ops->out_ack(c->engine, (size_t)n);
        progress = 1;
    }
    if (!(c->ops->state(c->engine) & MW_TLS_HANDOFF)) return progress;
#ifdef MW_EXAMPLES_HAVE_TLS
    /* The 220 is on the wire and nothing after STARTTLS was read as
     * plaintext (the engine dropped what was pipelined): wrap now. */
    if (!srv->tls_cfg || start_tls(srv, c) != 0) return -1;
    if (c->ops->tls_started(c->engine) != MW_OK) return -1;
    c->readable = 1; /* the ClientHello may already be waiting */
    return 1;
#else
    (void)srv;
    return -1; /* STARTTLS is never offered without the adapter */
#endif
}

static int pull_input(mwx_conn *c)
{
    if (c->peer_eof) return 0;
#ifdef MW_EXAMPLES_HAVE_TLS
    if (c->tls) return pull_tls(c);
#endif
    return c->readable ? pull_plain(c) : 0;
}

static int push_output(mwx_server *srv, mwx_conn *c)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    if (c->tls) return push_tls(c);
#endif
    return push_plain(srv, c);
}

/* Ciphertext or plaintext still waiting for the socket. */
static int output_pending(mwx_conn *c)
{
    size_t len;
#ifdef MW_EXAMPLES_HAVE_TLS
    if (c->tls) return (mw_tls_state(c->tls) & MW_WANT_WRITE) != 0;
#endif
    return c->ops->out_buf(c->engine, &len) != NULL;
}

/* The connection has nothing more to do: close it. */
static int conn_done(mwx_conn *c, int moved)
{
    unsigned eng = c->ops->state(c->engine);
    if (output_pending(c)) return 0;
#ifdef MW_EXAMPLES_HAVE_TLS
    if (c->tls) {
        unsigned t = mw_tls_state(c->tls);
        if (t & MW_TLS_FAILED) return 1;
        if (eng & MW_CLOSED) return (t & (MW_CLOSED | MW_TLS_CLOSE_SENT)) != 0;
        return c->peer_eof && !moved;
    }
#endif
    return (eng & MW_CLOSED) || (c->peer_eof && !moved);
}

/* Move bytes and events until nothing moves.
 * @return 0 idle, 1 still busy (yielded to others), -1 close it. */
static int conn_pump(mwx_server *srv, mwx_conn *c)
{
    int round;
    for (round = 0; round < PUMP_ROUNDS; round++) {
        int a = pull_input(c);
        int b = srv->h.events(c, srv->h.user);
        int d = push_output(srv, c);
        if (a < 0 || b < 0 || d < 0) return -1;
        if (conn_done(c, a || b || d)) return -1;
        if (!(a || b || d)) return 0;
        if (!c->stopping) c->deadline = mwx_now_ms() + srv->idle_ms;
    }
    return 1;
}

static short conn_poll_events(mwx_conn *c)
{
    short ev = 0;
    unsigned eng = c->ops->state(c->engine);
    if (output_pending(c)) ev |= POLLOUT;
    if (c->peer_eof) return ev;
#ifdef MW_EXAMPLES_HAVE_TLS
    if (c->tls) return (short)(ev | ((mw_tls_state(c->tls) & MW_WANT_READ) ? POLLIN : 0));
#endif
    if ((eng & MW_WANT_READ) && !(eng & MW_TLS_HANDOFF)) ev |= POLLIN;
    return ev;
}

static void conn_ask_stop(mwx_server *srv, mwx_conn *c, int why, int64_t now)
{
    c->stopping = 1;
    c->deadline = now + FAREWELL_MS;
    srv->h.stop(c, srv->h.user, why);
}

static void remove_conn(mwx_server *srv, size_t i)
{
    conn_free(srv, srv->conns[i]);
    srv->conns[i] = srv->conns[--srv->nconns];
}

/* ------------------------------------------------------------------ */
/* The loop                                                            */
/* ------------------------------------------------------------------ */

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal; /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* Pump every connection that can move; close finished ones.
 * @return 1 if some connection is still busy (poll must not sleep). */
static int pump_all(mwx_server *srv)
{
    int busy = 0;
    size_t i = 0;
    while (i < srv->nconns) {
        int r = conn_pump(srv, srv->conns[i]);
        if (r < 0) {
            remove_conn(srv, i);
            continue;
        }
        busy |= r;
        i++;
    }
    return busy;
}

/* Idle timeouts: first a 421 (stop callback), then a hard close. */
static int poll_timeout(mwx_server *srv, int busy)
{
    int64_t now = mwx_now_ms(), next = now + 1000;
    size_t i = 0;
    while (i < srv->nconns) {
        mwx_conn *c = srv->conns[i];
        if (now >= c->deadline) {
            if (c->stopping) {
                mwx_log("%s: closed (no farewell within %d ms)", c->peer, FAREWELL_MS);
                remove_conn(srv, i);
                continue;
            }
            mwx_log("%s: idle timeout", c->peer);
            conn_ask_stop(srv, c, MWX_STOP_IDLE, now);
            busy = 1;
        }
        if (c->deadline < next) next = c->deadline;
        i++;
    }
    return busy ? 0 : (int)(next - now);
}

static void close_listeners(mwx_server *srv)
{
    size_t i;
    for (i = 0; i < srv->nlis; i++)
        close(srv->lis[i].fd);
    srv->nlis = 0;
}

static void begin_shutdown(mwx_server *srv)
{
    int64_t now = mwx_now_ms();
    size_t i;
    mwx_log("signal %d: shutting down (%zu connections)", (int)g_stop_signal, srv->nconns);
    close_listeners(srv);
    for (i = 0; i < srv->nconns; i++)
        if (!srv->conns[i]->stopping) conn_ask_stop(srv, srv->conns[i], MWX_STOP_SHUTDOWN, now);
}

static void dispatch(mwx_server *srv, size_t nlis_polled, size_t nconns_polled)
{
    size_t i;
    /* Connections first: pfd[nlis_polled + k] belongs to conns[k] for the
     * ones polled; accepted ones are appended after them. */
    for (i = 0; i < nconns_polled; i++)
        if (srv->pfd[nlis_polled + i].revents & (POLLIN | POLLHUP | POLLERR))
            srv->conns[i]->readable = 1;
    for (i = 0; i < nlis_polled; i++)
        if (srv->pfd[i].revents & POLLIN)
            while (srv->nconns < srv->max_conns) {
                size_t before = srv->nconns;
                accept_one(srv, &srv->lis[i]);
                if (srv->nconns == before) break; /* EAGAIN or a failed open */
            }
}

int mwx_server_run(mwx_server *srv)
{
    int stopping = 0;
    int64_t give_up = 0;

    srv->conns = calloc(srv->max_conns, sizeof *srv->conns);
    srv->pfd = calloc(srv->max_conns + MAX_LISTENERS, sizeof *srv->pfd);
    if (!srv->conns || !srv->pfd) return -1;
    install_signals();
    for (;;) {
        size_t i, n = 0, nl, nc;
        int busy, timeout;
        if (g_stop_signal && !stopping) {
            stopping = 1;
            give_up = mwx_now_ms() + FAREWELL_MS;
            begin_shutdown(srv);
        }
        busy = pump_all(srv);
        if (srv->h.tick) srv->h.tick(srv->h.user);
        if (stopping && (srv->nconns == 0 || mwx_now_ms() >= give_up)) break;
        timeout = poll_timeout(srv, busy);
        nl = srv->nconns < srv->max_conns ? srv->nlis : 0; /* full: leave them in the backlog */
        for (i = 0; i < nl; i++)
            srv->pfd[n++] = (struct pollfd){srv->lis[i].fd, POLLIN, 0};
        for (i = 0; i < srv->nconns; i++)
            srv->pfd[n++] = (struct pollfd){srv->conns[i]->fd, conn_poll_events(srv->conns[i]), 0};
        nc = srv->nconns;
        if (poll(srv->pfd, (nfds_t)n, timeout) < 0) {
            if (errno == EINTR) continue;
            mwx_log("poll: %s", strerror(errno));
            return -1;
        }
        dispatch(srv, nl, nc);
    }
    while (srv->nconns)
        remove_conn(srv, srv->nconns - 1);
    return 0;
}

void mwx_server_free(mwx_server *srv)
{
    if (!srv) return;
    while (srv->conns && srv->nconns)
        remove_conn(srv, srv->nconns - 1);
    close_listeners(srv);
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_tls_config_free(srv->tls_cfg);
#endif
    free(srv->conns);
    free(srv->pfd);
    free(srv);
}
