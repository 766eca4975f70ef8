/*
 * mwx_smtpc: blocking SMTP/LMTP client driver (see mwx_smtpc.h).
 *
 * SPDX-License-Identifier: MIT
 */
#include "mwx_smtpc.h"
#include "compose.h"

#include <mailwire/sasl.h>
#include <mailwire/smtp_client.h>
#ifdef MW_EXAMPLES_HAVE_TLS
#include <mailwire/openssl.h>
#endif

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

/* One session: socket, optional TLS, engine, and the transaction's state. */
typedef struct sess {
    const mwx_smtpc_conf *conf;
    FILE *err;
    mwx_smtpc_outcome *outcome;
    int fd;
    void *tls; /* mw_tls_session * */
    void *tls_cfg; /* mw_tls_config * */
    mw_smtp_client *c;
    mw_sasl_client *sasl;
    int auth_busy;     /* AUTH exchange running: redact what we send */
    int writing;       /* the engine wants the body */
    int body_done;     /* body_end accepted */
    int body_fd;
    unsigned char body[65536];
    size_t body_off, body_len;
    int body_eof;
    char sline[1024]; /* the server's partial line (trace) */
    size_t slen;
} sess;

/* One line about a problem: to the error stream, and kept as the
 * outcome's last failure. */
static void problem(sess *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(sess *s, const char *fmt, ...)
{
    char line[MWX_SMTPC_TEXT_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(s->err, "%s: %s\n", s->conf->name ? s->conf->name : "mw-send", line);
    if (s->outcome) memcpy(s->outcome->fail, line, sizeof line);
}

static void trace_out(sess *s, const unsigned char *p, size_t n)
{
    FILE *t = s->conf->trace;
    if (!t || s->writing) return; /* the body is not traced */
    while (n > 0) {
        const unsigned char *e = memchr(p, '\n', n);
        size_t len = e ? (size_t)(e - p) + 1 : n;
        size_t show = len;
        while (show > 0 && (p[show - 1] == '\n' || p[show - 1] == '\r')) show--;
        if (s->auth_busy) {
            /* Never print credentials: the mechanism name only. */
            if (show >= 5 && strncmp((const char *)p, "AUTH ", 5) == 0) {
                const unsigned char *sp = memchr(p + 5, ' ', show - 5);
                size_t keep = sp ? (size_t)(sp - p) : show;
                fprintf(t, "C: %.*s%s\n", (int)keep, (const char *)p, sp ? " <redacted>" : "");
            } else {
                fprintf(t, "C: <redacted>\n");
            }
        } else {
            fprintf(t, "C: %.*s\n", (int)show, (const char *)p);
        }
        p += len;
        n -= len;
    }
}

static void trace_in(sess *s, const unsigned char *p, size_t n)
{
    FILE *t = s->conf->trace;
    size_t i;
    if (!t) return;
    for (i = 0; i < n; i++) {
        if (p[i] == '\n' || s->slen == sizeof s->sline - 1) {
            size_t l = s->slen;
            if (l > 0 && s->sline[l - 1] == '\r') l--;
            fprintf(t, "S: %.*s\n", (int)l, s->sline);
            s->slen = 0;
            if (p[i] == '\n') continue;
        }
        s->sline[s->slen++] = (char)p[i];
    }
}

/* ---- transport ------------------------------------------------------- */

static int sock_connect(sess *s)
{
    struct addrinfo hints, *res = NULL, *ai;
    int rc, fd = -1;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(s->conf->host, s->conf->port, &hints, &res);
    if (rc != 0) {
        problem(s, "%s: %s", s->conf->host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        rc = errno;
        close(fd);
        fd = -1;
        errno = rc;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        problem(s, "connect to %s port %s: %s", s->conf->host, s->conf->port, strerror(errno));
        return -1;
    }
    s->fd = fd;
    { /* a server that stops reading must not hang a write */
        int ms = s->conf->timeout_ms > 0 ? s->conf->timeout_ms : 300000;
        struct timeval tv;
        tv.tv_sec = ms / 1000;
        tv.tv_usec = (ms % 1000) * 1000;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return 0;
}

static int sock_write_all(sess *s, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(s->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            problem(s, "write: %s", strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Wait until the socket is readable. @return 0, -1 (timeout or error). */
static int sock_wait(sess *s)
{
    struct pollfd pfd;
    int ms = s->conf->timeout_ms;
    unsigned eng = s->c ? mw_smtp_client_timeout(s->c) : 0;
    if (ms <= 0) ms = eng ? (int)eng * 1000 : 300000;
    pfd.fd = s->fd;
    pfd.events = POLLIN;
    for (;;) {
        int r = poll(&pfd, 1, ms);
        if (r > 0) return 0;
        if (r == 0) {
            problem(s, "timeout: no answer from the server in %d s", ms / 1000);
            return -1;
        }
        if (errno != EINTR) {
            problem(s, "poll: %s", strerror(errno));
            return -1;
        }
    }
}

static mw_ssize sock_read(sess *s, unsigned char *buf, size_t cap)
{
    for (;;) {
        ssize_t r;
        if (sock_wait(s) != 0) return -1;
        r = recv(s->fd, buf, cap, 0);
        if (r >= 0) return (mw_ssize)r;
        if (errno != EINTR) {
            problem(s, "read: %s", strerror(errno));
            return -1;
        }
    }
}

#ifdef MW_EXAMPLES_HAVE_TLS
static int tls_flush(sess *s)
{
    for (;;) {
        size_t n;
        const unsigned char *p = mw_tls_out_buf(s->tls, &n);
        if (n == 0) return 0;
        if (sock_write_all(s, p, n) != 0) return -1;
        mw_tls_out_ack(s->tls, n);
    }
}

/* Read ciphertext once into the session. @return 1, 0 (EOF), -1. */
static int tls_pull(sess *s)
{
    size_t room;
    unsigned char *p = mw_tls_recv_buf(s->tls, &room);
    mw_ssize r;
    if (!p || room == 0) return 1; /* full: plaintext waits to be read */
    r = sock_read(s, p, room);
    if (r < 0) return -1;
    if (r == 0) {
        mw_tls_eof(s->tls);
        return 0;
    }
    if (mw_tls_recv_ack(s->tls, (size_t)r) != MW_OK) return -1;
    return 1;
}

static int tls_fail(sess *s, const char *what)
{
    problem(s, "TLS (%s): %s", what, mw_tls_last_error(s->tls));
    return -1;
}

/* The caller's TLS configuration, or one built from cafile/insecure
 * (kept in s->tls_cfg to be freed). @return NULL on failure (said). */
static mw_tls_config *tls_config(sess *s)
{
    mw_tls_config *cfg = NULL;
    const mwx_smtpc_conf *k = s->conf;
    if (k->tls_config) return k->tls_config;
    if (mw_tls_config_new(NULL, MW_TLS_CLIENT, &cfg) != MW_OK) {
        problem(s, "TLS: cannot create a configuration");
        return NULL;
    }
    s->tls_cfg = cfg;
    if (k->insecure) {
        mw_tls_config_set_verify_peer(cfg, 0);
    } else {
        int rc = k->cafile ? mw_tls_config_set_ca_file(cfg, k->cafile, NULL)
                           : mw_tls_config_set_ca_system(cfg);
        if (rc != MW_OK) {
            problem(s, "TLS trust anchors: %s", mw_tls_config_last_error(cfg));
            return NULL;
        }
        if (mw_tls_config_set_host_name(cfg, k->host) != MW_OK) {
            problem(s, "TLS: unusable host name %s", k->host);
            return NULL;
        }
    }
    return cfg;
}

static int tls_begin(sess *s)
{
    mw_tls_session *t = NULL;
    const mwx_smtpc_conf *k = s->conf;
    mw_tls_config *cfg = tls_config(s);
    if (!cfg) return -1;
    if (mw_tls_new(NULL, cfg, &t) != MW_OK) {
        problem(s, "TLS: cannot create a session");
        return -1;
    }
    s->tls = t;
    for (;;) { /* the handshake, before a plaintext byte moves */
        unsigned st = mw_tls_state(t);
        int r;
        if (tls_flush(s) != 0) return -1;
        if (st & MW_TLS_READY) break;
        if (st & (MW_TLS_FAILED | MW_CLOSED)) return tls_fail(s, "handshake");
        r = tls_pull(s);
        if (r < 0) return tls_fail(s, "handshake");
        if (r == 0) {
            mw_tls_state(t);
            if (mw_tls_state(t) & MW_TLS_READY) break;
            problem(s, "TLS handshake: the server closed the connection%s%s",
                    *mw_tls_last_error(t) ? ": " : "", mw_tls_last_error(t));
            return -1;
        }
    }
    if (k->trace)
        fprintf(k->trace, "-- TLS %s, %s\n",
                mw_tls_protocol_version(t) == MW_TLS_VERSION_1_3 ? "1.3" : "1.2",
                mw_tls_cipher_name(t) ? mw_tls_cipher_name(t) : "?");
    return 0;
}
#endif

/* Plaintext to the server. */
static int conn_write(sess *s, const unsigned char *p, size_t n)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    if (s->tls) {
        while (n > 0) {
            mw_ssize w = mw_tls_write_plain(s->tls, p, n);
            if (w < 0) return tls_fail(s, "write");
            p += w;
            n -= (size_t)w;
            if (tls_flush(s) != 0) return -1;
        }
        return 0;
    }
#endif
    return sock_write_all(s, p, n);
}

/* Plaintext from the server. @return octets, 0 at EOF, -1. */
static mw_ssize conn_read(sess *s, unsigned char *buf, size_t cap)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    if (s->tls) {
        for (;;) {
            mw_ssize r = mw_tls_read_plain(s->tls, buf, cap);
            int p;
            if (r > 0) return r;
            if (r == MW_ERR_CLOSED) return 0;
            if (r < 0) {
                tls_fail(s, "read");
                return -1;
            }
            if (tls_flush(s) != 0) return -1; /* e.g. key updates */
            p = tls_pull(s);
            if (p < 0) return -1;
        }
    }
#endif
    return sock_read(s, buf, cap);
}

/* ---- session --------------------------------------------------------- */

static int random_cb(void *buf, size_t len, void *user)
{
    (void)user;
    return mwc_random(buf, len) == 0 ? MW_OK : MW_ERR_IO;
}

static int start_auth(sess *s)
{
    const mwx_smtpc_conf *k = s->conf;
    mw_sasl_options *o;
    int mech = mw_smtp_client_auth_choose(s->c, MW_SASL_PASSWORD_MECHS);
    int rc;
    if (mech < 0) {
        mw_slice list;
        mw_smtp_client_extensions(s->c, NULL, &list);
        if (list.len == 0)
            problem(s, "the server offers no AUTH");
        else
            problem(s, "no usable AUTH mechanism among \"%.*s\"%s", (int)list.len, list.base,
                    k->plaintext_auth ? "" : " (PLAIN/LOGIN need TLS unless --no-tls)");
        return -1;
    }
    o = mw_sasl_options_new(NULL);
    if (!o) return -1;
    mw_sasl_options_set_random(o, random_cb, NULL);
    rc = mw_sasl_client_new(&s->sasl, NULL, mw_sasl_mech_name(mech), o);
    mw_sasl_options_free(o);
    if (rc != MW_OK) return -1;
    if (mw_sasl_client_set(s->sasl, MW_SASL_PROP_AUTHCID, k->user, strlen(k->user)) != MW_OK ||
        mw_sasl_client_set(s->sasl, MW_SASL_PROP_PASSWORD, k->password,
                           strlen(k->password)) != MW_OK) {
        problem(s, "the user name or password cannot be used");
        return -1;
    }
    s->auth_busy = 1;
    rc = mw_smtp_client_auth(s->c, s->sasl, mech);
    if (rc != MW_OK) {
        problem(s, "AUTH %s: %s", mw_sasl_mech_name(mech), mw_strerror(rc));
        return -1;
    }
    return 0;
}

static void print_reply(sess *s, const char *what, const mw_smtp_client_event *ev)
{
    problem(s, "%s: %d %.*s", what, ev->code, (int)ev->text.len, ev->text.base);
}

static int send_envelope(sess *s, const mw_smtp_client_envelope *env, int *result)
{
    int rc = mw_smtp_client_send(s->c, env);
    if (rc == MW_OK) return 0;
    problem(s, "cannot send the envelope: %s%s", mw_strerror(rc),
            rc == MW_ERR_LIMIT         ? " (the message is over the server's SIZE)"
            : rc == MW_ERR_UNSUPPORTED ? " (the server lacks an extension it needs, e.g. DSN)"
            : rc == MW_ERR_INVALID     ? " (an address is unusable)"
                                       : "");
    *result = rc == MW_ERR_LIMIT ? MWX_SMTPC_REFUSED : MWX_SMTPC_FAILED;
    return -1;
}

/* Feed the body from the file as far as the engine takes it.
 * @return 1 when something moved, 0 when the engine waits (for a drain or,
 * with BDAT and no PIPELINING, for the reply to the last chunk), -1. */
static int pump_body(sess *s)
{
    int moved = 0;
    while (s->writing && !s->body_done) {
        if (s->body_off == s->body_len && !s->body_eof) {
            ssize_t r = read(s->body_fd, s->body, sizeof s->body);
            if (r < 0) {
                if (errno == EINTR) continue;
                problem(s, "reading the message: %s", strerror(errno));
                return -1;
            }
            s->body_off = 0;
            s->body_len = (size_t)r;
            if (r == 0) s->body_eof = 1;
        }
        if (s->body_off < s->body_len) {
            mw_ssize w = mw_smtp_client_body_write(s->c, s->body + s->body_off,
                                                   s->body_len - s->body_off);
            if (w < 0) {
                problem(s, "body: %s", mw_strerror((int)w));
                return -1;
            }
            if (w == 0) return moved;
            s->body_off += (size_t)w;
        } else {
            int rc = mw_smtp_client_body_end(s->c);
            if (rc == MW_ERR_LIMIT) return moved;
            if (rc != MW_OK) {
                problem(s, "body end: %s", mw_strerror(rc));
                return -1;
            }
            s->body_done = 1;
        }
        moved = 1;
    }
    return moved;
}

/* The engine, on the caller's options or on ones built from conf. */
static int make_engine(sess *s)
{
    const mwx_smtpc_conf *conf = s->conf;
    mw_smtp_client_opts *o;
    unsigned flags = 0;
    int rc;
    if (conf->opts) return mw_smtp_client_new(NULL, conf->opts, &s->c) == MW_OK ? 0 : -1;
    o = mw_smtp_client_opts_new(NULL);
    if (!o) return -1;
    if (conf->helo && mw_smtp_client_opts_set_hostname(o, conf->helo) != MW_OK) {
        problem(s, "unusable EHLO name %s", conf->helo);
        mw_smtp_client_opts_free(o);
        return -1;
    }
    if (conf->lmtp) flags |= MW_SMTP_CLIENT_LMTP;
    if (conf->tls == MWX_SMTPC_TLS_IMPLICIT) flags |= MW_SMTP_CLIENT_IMPLICIT_TLS;
    if (conf->plaintext_auth) flags |= MW_SMTP_CLIENT_PLAINTEXT_AUTH;
    if (flags) mw_smtp_client_opts_set_flags(o, flags, 1);
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_smtp_client_opts_set_starttls(o, conf->tls == MWX_SMTPC_TLS_STARTTLS ? MW_SMTP_TLS_REQUIRED
                                        : conf->tls == MWX_SMTPC_TLS_OPPORTUNISTIC
                                            ? MW_SMTP_TLS_OPPORTUNISTIC
                                            : MW_SMTP_TLS_NONE);
#else
    mw_smtp_client_opts_set_starttls(o, MW_SMTP_TLS_NONE);
#endif
    rc = mw_smtp_client_new(NULL, o, &s->c);
    mw_smtp_client_opts_free(o);
    return rc == MW_OK ? 0 : -1;
}

/* The transaction as the events report it. */
typedef struct txn {
    mwx_smtpc_rcpt_result *results; /* may be NULL */
    size_t nrcpts, refused, delivered;
    uint64_t size; /* of the message, 0 when unknown (trace only) */
    int msg_refused, done, quit_sent;
} txn;

/* Let ev settle recipient i unless an earlier reply did. */
static void settle(txn *x, size_t i, const mw_smtp_client_event *ev)
{
    mwx_smtpc_rcpt_result *r;
    size_t n;
    if (!x->results || i >= x->nrcpts || x->results[i].code != 0) return;
    r = &x->results[i];
    r->code = ev->code;
    snprintf(r->status, sizeof r->status, "%.*s", (int)ev->enhanced.len, ev->enhanced.base);
    n = ev->text.len < sizeof r->text ? ev->text.len : sizeof r->text - 1;
    if (n) memcpy(r->text, ev->text.base, n);
    r->text[n] = '\0';
}

static void settle_rest(txn *x, const mw_smtp_client_event *ev)
{
    size_t i;
    for (i = 0; i < x->nrcpts; i++)
        settle(x, i, ev);
}

/* Act on one event. @return 0, or -1 to end the session. */
static int on_event(sess *s, txn *x, int t, const mw_smtp_client_event *ev,
                    const mw_smtp_client_envelope *env, int *result)
{
    const mwx_smtpc_conf *conf = s->conf;
    size_t i;
    int rc = 0;
    switch (t) {
    case MW_SMTP_CLIENT_EV_GREETING:
        if (ev->code != 220) {
            print_reply(s, "the server refused the session", ev);
            return -1;
        }
        break;
    case MW_SMTP_CLIENT_EV_STARTTLS:
        if (ev->code != 220) print_reply(s, "STARTTLS refused", ev);
        break;
    case MW_SMTP_CLIENT_EV_READY:
        if (s->outcome) s->outcome->tls = (ev->flags & MW_SMTP_CLIENT_F_TLS) != 0;
        if (conf->user) {
            rc = start_auth(s);
            break;
        }
        if (s->outcome) s->outcome->ready = 1;
        rc = send_envelope(s, env, result);
        break;
    case MW_SMTP_CLIENT_EV_AUTH:
        s->auth_busy = 0;
        if (ev->error != MW_OK) {
            print_reply(s, "authentication failed", ev);
            return -1;
        }
        if (s->outcome) s->outcome->ready = 1;
        rc = send_envelope(s, env, result);
        break;
    case MW_SMTP_CLIENT_EV_MAIL:
        if (ev->code / 100 != 2) { /* decides for every recipient */
            print_reply(s, "sender refused", ev);
            x->msg_refused = 1;
            settle_rest(x, ev);
        }
        break;
    case MW_SMTP_CLIENT_EV_RCPT:
        if (x->results) x->results[ev->rcpt_index].rcpt_code = ev->code;
        if (ev->code / 100 != 2) {
            problem(s, "recipient <%.*s> refused: %d %.*s", (int)ev->rcpt.len, ev->rcpt.base,
                    ev->code, (int)ev->text.len, ev->text.base);
            x->refused++;
            settle(x, ev->rcpt_index, ev); /* after a refused MAIL: its reply stays */
        }
        break;
    case MW_SMTP_CLIENT_EV_DATA:
        if (ev->code != 354 && ev->accepted > 0) {
            print_reply(s, "DATA refused", ev);
            x->msg_refused = 1;
            settle_rest(x, ev);
        }
        break;
    case MW_SMTP_CLIENT_EV_SEND_BODY:
        s->writing = 1;
        if (conf->trace)
            fprintf(conf->trace, "C: <message, %llu octets>\n", (unsigned long long)x->size);
        break;
    case MW_SMTP_CLIENT_EV_BDAT:
        if (ev->code / 100 != 2) print_reply(s, "BDAT refused", ev);
        break;
    case MW_SMTP_CLIENT_EV_MESSAGE:
        if (ev->flags & MW_SMTP_CLIENT_F_EMPTY_BODY) break;
        s->writing = 0;
        if (conf->lmtp) {
            if (x->results) x->results[ev->rcpt_index].final_code = ev->code;
            settle(x, ev->rcpt_index, ev);
            if (ev->code / 100 != 2) {
                problem(s, "delivery to <%.*s> failed: %d %.*s", (int)ev->rcpt.len, ev->rcpt.base,
                        ev->code, (int)ev->text.len, ev->text.base);
                x->refused++;
            }
        } else {
            if (x->results)
                for (i = 0; i < x->nrcpts; i++)
                    if (x->results[i].rcpt_code / 100 == 2) x->results[i].final_code = ev->code;
            settle_rest(x, ev); /* those RCPT accepted */
            if (ev->code / 100 != 2) {
                print_reply(s, "message refused", ev);
                x->msg_refused = 1;
            }
        }
        break;
    case MW_SMTP_CLIENT_EV_DONE:
        s->writing = 0;
        x->delivered = ev->delivered;
        x->done = 1;
        if (mw_smtp_client_quit(s->c) == MW_OK) x->quit_sent = 1;
        break;
    case MW_SMTP_CLIENT_EV_UNSOLICITED:
        print_reply(s, "the server closed the session", ev);
        break;
    default:
        break;
    }
    if (rc != 0) return -1;
    if ((ev->flags & MW_SMTP_CLIENT_F_CLOSED) && t != MW_SMTP_CLIENT_EV_QUIT && !x->done) {
        print_reply(s, "the server closed the session", ev);
        return -1;
    }
    return 0;
}

/* All output to the wire, the body pumped as room appears.
 * @return 1 when body moved, 0, -1. */
static int flush_out(sess *s)
{
    int moved = pump_body(s);
    while (moved >= 0) {
        size_t n;
        const unsigned char *p = mw_smtp_client_out_buf(s->c, &n);
        int more;
        if (n == 0) break;
        trace_out(s, p, n);
        if (conn_write(s, p, n) != 0) return -1;
        mw_smtp_client_out_ack(s->c, n);
        more = pump_body(s);
        moved = more < 0 ? -1 : moved | more;
    }
    return moved;
}

/* Read once from the server into the engine. @return 0, -1. */
static int read_in(sess *s)
{
    size_t room;
    unsigned char *p = mw_smtp_client_recv_buf(s->c, &room);
    mw_ssize r;
    if (!p) return 0; /* buffer full: next() first */
    r = conn_read(s, p, room);
    if (r < 0) return -1;
    if (r == 0) {
        mw_smtp_client_recv_ack(s->c, 0);
        mw_smtp_client_eof(s->c);
        if (s->conf->trace) fprintf(s->conf->trace, "-- connection closed by the server\n");
        return 0;
    }
    trace_in(s, p, (size_t)r);
    return mw_smtp_client_recv_ack(s->c, (size_t)r) == MW_OK ? 0 : -1;
}

/* Run the session to its end. @return 0 when it ended with QUIT or a
 * close after the transaction, -1 on a failure (said). */
static int run_session(sess *s, txn *x, const mw_smtp_client_envelope *env, int *result)
{
    const mwx_smtpc_conf *conf = s->conf;
    for (;;) {
        const mw_smtp_client_event *ev;
        int t, moved;
        unsigned st;
        while ((t = mw_smtp_client_next(s->c, &ev)) > 0)
            if (on_event(s, x, t, ev, env, result) != 0) return -1;
        if (t < 0) {
            if (t == MW_ERR_CLOSED && x->quit_sent) return 0;
            if (t == MW_ERR_UNSUPPORTED)
                problem(s, "%s",
                        conf->tls == MWX_SMTPC_TLS_STARTTLS
                            ? "STARTTLS is required (--starttls) but the server did not offer or "
                              "refused it"
                            : "the server refused EHLO");
            else
                problem(s, "session failed: %s", mw_strerror(t));
            return -1;
        }
        moved = flush_out(s);
        if (moved < 0) return -1;
        st = mw_smtp_client_state(s->c);
        if (st & MW_CLOSED) return 0;
        if (st & MW_TLS_HANDOFF) {
#ifdef MW_EXAMPLES_HAVE_TLS
            if (tls_begin(s) != 0) return -1;
            if (mw_smtp_client_tls_started(s->c) != MW_OK) return -1;
            continue;
#else
            return -1;
#endif
        }
        if (moved) continue; /* more body to push */
        if (read_in(s) != 0) return -1;
    }
}

int mwx_smtpc_send(const mwx_smtpc_conf *conf, const char *from, const char *const *rcpts,
                   size_t nrcpts, int fd, uint64_t size, mwx_smtpc_rcpt_result *results,
                   mwx_smtpc_outcome *outcome, FILE *err_out)
{
    sess *s = calloc(1, sizeof *s);
    mw_smtp_client_rcpt *rv = NULL;
    mw_smtp_client_envelope env;
    txn x;
    size_t i;
    int result = MWX_SMTPC_FAILED;

    if (!s) return MWX_SMTPC_FAILED;
    s->conf = conf;
    s->err = err_out ? err_out : stderr;
    s->outcome = outcome;
    s->fd = -1;
    s->body_fd = fd;
    memset(&x, 0, sizeof x);
    x.results = results;
    x.nrcpts = nrcpts;
    x.size = size;
    if (results) memset(results, 0, nrcpts * sizeof *results);
    if (outcome) memset(outcome, 0, sizeof *outcome);
#ifndef MW_EXAMPLES_HAVE_TLS
    if (conf->tls == MWX_SMTPC_TLS_STARTTLS || conf->tls == MWX_SMTPC_TLS_IMPLICIT) {
        problem(s, "built without TLS (MW_WITH_OPENSSL=OFF)");
        goto out;
    }
#endif
    rv = calloc(nrcpts ? nrcpts : 1, sizeof *rv);
    if (!rv || make_engine(s) != 0) goto out;

    memset(&env, 0, sizeof env);
    env.from = from;
    for (i = 0; i < nrcpts; i++) {
        rv[i].address = rcpts[i];
        rv[i].notify = conf->notify;
    }
    env.rcpts = rv;
    env.nrcpts = nrcpts;
    env.ret = conf->ret;
    env.envid = conf->envid;
    if (size) {
        env.flags |= MW_SMTP_F_SIZE;
        env.size = size;
    }

    if (sock_connect(s) != 0) goto out;
#ifdef MW_EXAMPLES_HAVE_TLS
    if (conf->tls == MWX_SMTPC_TLS_IMPLICIT && tls_begin(s) != 0) goto out;
#endif
    if (run_session(s, &x, &env, &result) != 0 || !x.done) goto out;
    if (x.msg_refused || x.delivered == 0 || x.refused >= nrcpts)
        result = MWX_SMTPC_REFUSED;
    else if (x.refused > 0)
        result = MWX_SMTPC_PARTIAL;
    else
        result = MWX_SMTPC_OK;
out:
#ifdef MW_EXAMPLES_HAVE_TLS
    if (s->tls) {
        mw_tls_shutdown(s->tls);
        {
            size_t n;
            const unsigned char *p = mw_tls_out_buf(s->tls, &n);
            if (n && s->fd >= 0) (void)send(s->fd, p, n, MSG_NOSIGNAL);
        }
        mw_tls_free(s->tls);
    }
    mw_tls_config_free(s->tls_cfg);
#endif
    if (s->fd >= 0) close(s->fd);
    mw_sasl_client_free(s->sasl);
    mw_smtp_client_free(s->c);
    free(rv);
    free(s);
    return result;
}
