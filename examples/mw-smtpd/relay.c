/*
 * mw-smtpd relay: send the queue through one smarthost with the mailwire
 * SMTP client engine. Blocking sockets (a flush runs in a child process of
 * the daemon, or alone with --flush-queue), one message per connection;
 * the engine does every line of the protocol, this file the transport
 * (plain or STARTTLS), the retry schedule and the bounces.
 *
 * Per recipient: a 2xx for the message means delivered (removed from the
 * entry); a 5xx is a permanent failure (a DSN to the sender); a 4xx or a
 * broken connection keeps the recipient queued and schedules the next
 * attempt with backoff, until the entry is older than the maximum age
 * (then a DSN too). The schedule lives in the envelope file:
 *   ARRIVAL <unix seconds>, ATTEMPTS <n>, NEXT <unix seconds>.
 *
 * The blocking driver is kept here rather than in examples/common/mwx_smtpc
 * (branch send): a DSN needs, per recipient, the whole reply (code,
 * enhanced status, text) including a refused MAIL's, which that driver's
 * results (codes only) do not carry yet.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtpd.h"
#include "mwx_log.h"
#include "compose.h"

#include <mailwire/mime.h>
#ifdef MW_EXAMPLES_HAVE_TLS
#include <mailwire/openssl.h>
#endif

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IO_TIMEOUT_SEC 60
#define DIAG_MAX 400
#define MAX_BACKOFF_SEC (4 * 3600)

struct link {
    int fd;
    mw_smtp_client *c;
    void *tls; /* mw_tls_session * under STARTTLS */
    int broken;
};

struct rcpt_state {
    int code;             /* final SMTP code, 0 = nothing final learnt */
    char status[16];      /* RFC 3463 status of that reply, "" if none */
    char diag[DIAG_MAX];  /* the reply, for the DSN's Diagnostic-Code */
};

struct entry {
    char id[256];
    char from[320];
    mwx_strlist rcpts;
    struct rcpt_state *st;
    long long arrival, next;
    long attempts;
    char fail[DIAG_MAX]; /* why the whole attempt failed (connection, greeting) */
};

/* ------------------------------------------------------------------ */
/* Blocking transport, plain or TLS                                    */
/* ------------------------------------------------------------------ */

static int connect_to(const char *hostport)
{
    char buf[300], *host = buf, *port;
    struct addrinfo hints, *ai = NULL, *p;
    struct timeval tv = {IO_TIMEOUT_SEC, 0};
    int fd = -1;
    if (strlen(hostport) >= sizeof buf) return -1;
    strcpy(buf, hostport);
    if (buf[0] == '[') { /* [v6]:port */
        host = buf + 1;
        port = strchr(host, ']');
        if (!port || port[1] != ':') return -1;
        *port = '\0';
        port += 2;
    } else {
        port = strrchr(buf, ':');
        if (!port) return -1;
        *port++ = '\0';
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(host, port, &hints, &ai) != 0) return -1;
    for (p = ai; p && fd < 0; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype, 0);
        if (fd >= 0 && connect(fd, p->ai_addr, p->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd >= 0) { /* a silent server must not hang the flush */
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    }
    return fd;
}

static int send_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

#ifdef MW_EXAMPLES_HAVE_TLS
static int tls_push(struct link *l)
{
    const unsigned char *p;
    size_t len;
    while ((p = mw_tls_out_buf(l->tls, &len)) != NULL) {
        if (send_all(l->fd, p, len) != 0) return -1;
        mw_tls_out_ack(l->tls, len);
    }
    return 0;
}

/* Read ciphertext once into the session. @return 0, -1 (closed or broken). */
static int tls_pull(struct link *l)
{
    size_t room;
    unsigned char *p = mw_tls_recv_buf(l->tls, &room);
    ssize_t n;
    if (!p) return -1;
    n = recv(l->fd, p, room, 0);
    if (n <= 0) {
        mw_tls_eof(l->tls);
        return -1;
    }
    return mw_tls_recv_ack(l->tls, (size_t)n) == MW_OK ? 0 : -1;
}
#endif

/* Send plaintext to the peer. */
static int link_write(struct link *l, const unsigned char *p, size_t len)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    while (l->tls && len > 0) {
        mw_ssize took = mw_tls_write_plain(l->tls, p, len);
        if (took < 0 || tls_push(l) != 0) return -1;
        if (took == 0 && !(mw_tls_state(l->tls) & MW_TLS_READY) && tls_pull(l) != 0) return -1;
        p += took;
        len -= (size_t)took;
    }
    if (l->tls) return 0;
#endif
    return send_all(l->fd, p, len);
}

/* Receive plaintext. @return octets (> 0), 0 at end of file, -1 on error. */
static ssize_t link_read(struct link *l, unsigned char *buf, size_t cap)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    if (l->tls) {
        for (;;) {
            mw_ssize n = mw_tls_read_plain(l->tls, buf, cap);
            if (n > 0) return (ssize_t)n;
            if (n == MW_ERR_CLOSED) return 0;
            if (n < 0 || tls_push(l) != 0 || tls_pull(l) != 0) return -1;
        }
    }
#endif
    return recv(l->fd, buf, cap, 0);
}

static int flush_out(struct link *l)
{
    const unsigned char *p;
    size_t len;
    while ((p = mw_smtp_client_out_buf(l->c, &len)) != NULL) {
        if (link_write(l, p, len) != 0) return -1;
        mw_smtp_client_out_ack(l->c, len);
    }
    return 0;
}

/* The STARTTLS 220 came: handshake, then tell the engine (it says EHLO again). */
static int start_tls(const smtpd_config *cfg, struct link *l)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_tls_session *t = NULL;
    if (!cfg->relay_tls_cfg || mw_tls_new(NULL, cfg->relay_tls_cfg, &t) != MW_OK) return -1;
    l->tls = t;
    while (!(mw_tls_state(t) & MW_TLS_READY)) {
        if (mw_tls_state(t) & MW_TLS_FAILED) {
            mwx_log("relay: TLS: %s", mw_tls_last_error(t));
            return -1;
        }
        if (tls_push(l) != 0 || tls_pull(l) != 0) return -1;
    }
    if (tls_push(l) != 0) return -1;
    return mw_smtp_client_tls_started(l->c) == MW_OK ? 0 : -1;
#else
    (void)cfg;
    (void)l;
    return -1;
#endif
}

/* RFC 5321 §4.5.3.2: the engine knows which timeout applies to what it
 * awaits (5 minutes for most replies, 10 for the one after the data). */
static void set_read_timeout(int fd, unsigned sec)
{
    struct timeval tv;
    tv.tv_sec = (time_t)(sec ? sec : IO_TIMEOUT_SEC);
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

/* Next event: flush the output, read until the engine has one.
 * @return the event type (> 0) or -1 (connection or protocol broken). */
static int next_event(const smtpd_config *cfg, struct link *l, const mw_smtp_client_event **ev)
{
    unsigned char buf[16384];
    if (l->broken) return -1;
    for (;;) {
        int t;
        ssize_t n;
        if (flush_out(l) != 0) break;
        t = mw_smtp_client_next(l->c, ev);
        if (t > 0) return t;
        if (t < 0) {
            mwx_log("relay: session: %s", mw_strerror(t));
            break;
        }
        if (mw_smtp_client_state(l->c) & MW_TLS_HANDOFF) {
            if (start_tls(cfg, l) != 0) break;
            continue;
        }
        if (mw_smtp_client_state(l->c) & MW_WANT_WRITE) continue; /* e.g. a SASL step */
        if (mw_smtp_client_state(l->c) & MW_CLOSED) break;
        set_read_timeout(l->fd, mw_smtp_client_timeout(l->c));
        n = link_read(l, buf, sizeof buf);
        if (n < 0) break;
        if (n == 0) {
            mw_smtp_client_eof(l->c);
            continue;
        }
        if (mw_smtp_client_feed(l->c, buf, (size_t)n) != n) break;
    }
    l->broken = 1;
    return -1;
}

/* ------------------------------------------------------------------ */
/* One queue entry                                                     */
/* ------------------------------------------------------------------ */

/* "MAIL FROM:<a>", "RCPT TO:<b>" lines (queue_envelope writes them) and
 * the schedule lines ARRIVAL, ATTEMPTS, NEXT. */
static int read_envelope(const char *env_path, const char *msg_path, struct entry *e)
{
    char line[400];
    struct stat sb;
    FILE *f = fopen(env_path, "r");
    if (!f) return -1;
    while (fgets(line, sizeof line, f)) {
        char *lt = strchr(line, '<'), *gt = strrchr(line, '>');
        if (sscanf(line, "ARRIVAL %lld", &e->arrival) == 1 ||
            sscanf(line, "ATTEMPTS %ld", &e->attempts) == 1 || sscanf(line, "NEXT %lld", &e->next) == 1)
            continue;
        if (!lt || !gt || gt < lt) continue;
        *gt = '\0';
        if (strncmp(line, "MAIL FROM:", 10) == 0)
            snprintf(e->from, sizeof e->from, "%s", lt + 1);
        else if (strncmp(line, "RCPT TO:", 8) == 0 &&
                 mwx_strlist_push(&e->rcpts, lt + 1, strlen(lt + 1)) != 0)
            break;
    }
    fclose(f);
    if (e->arrival == 0) /* an entry from before the schedule lines */
        e->arrival = stat(msg_path, &sb) == 0 ? (long long)sb.st_mtime : (long long)time(NULL);
    e->st = calloc(e->rcpts.n ? e->rcpts.n : 1, sizeof *e->st);
    return e->st && e->rcpts.n ? 0 : -1;
}

/* Remember a reply as the result for recipient i. */
static void note(struct entry *e, size_t i, const mw_smtp_client_event *ev)
{
    struct rcpt_state *s = &e->st[i];
    size_t k, len = ev->text.len < DIAG_MAX - 8 ? ev->text.len : DIAG_MAX - 8;
    const char *txt = (const char *)ev->text.base;
    s->code = ev->code;
    snprintf(s->status, sizeof s->status, "%.*s", (int)ev->enhanced.len, (const char *)ev->enhanced.base);
    snprintf(s->diag, sizeof s->diag, "%d %.*s", ev->code, (int)len, txt ? txt : "");
    for (k = 0; s->diag[k]; k++) /* one line in the DSN field */
        if ((unsigned char)s->diag[k] < 0x20 || (unsigned char)s->diag[k] > 0x7e)
            s->diag[k] = (s->diag[k] == '\n' || s->diag[k] == '\r') ? ' ' : '?';
}

/* BDAT without PIPELINING: the engine takes no more body until the reply
 * to the last chunk is read. @return 0 when it was a 2xx. */
static int await_bdat(const smtpd_config *cfg, struct link *l)
{
    const mw_smtp_client_event *ev;
    size_t len;
    if (mw_smtp_client_out_buf(l->c, &len) != NULL) return flush_out(l);
    if (next_event(cfg, l, &ev) < 0) return -1;
    return ev->type == MW_SMTP_CLIENT_EV_BDAT && ev->code / 100 == 2 ? 0 : -1;
}

/* The queued file starts with our Return-Path line, which belongs to the
 * final delivery (RFC 5321 §4.4), not to the next hop: skip it. */
static int send_body(const smtpd_config *cfg, struct link *l, const char *path)
{
    static char buf[65536];
    ssize_t n;
    int first = 1, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        const char *p = buf;
        size_t len = (size_t)n;
        if (first && len > 13 && memcmp(p, "Return-Path: ", 13) == 0) {
            const char *nl = memchr(p, '\n', len);
            if (nl) {
                len -= (size_t)(nl + 1 - p);
                p = nl + 1;
            }
        }
        first = 0;
        while (len > 0) {
            mw_ssize took = mw_smtp_client_body_write(l->c, p, len);
            if (took < 0 || flush_out(l) != 0 || (took == 0 && await_bdat(cfg, l) != 0)) {
                close(fd);
                return -1;
            }
            p += took;
            len -= (size_t)took;
        }
    }
    close(fd);
    if (n < 0) return -1;
    for (;;) { /* MW_ERR_LIMIT: drain and try again */
        int rc = mw_smtp_client_body_end(l->c);
        if (rc == MW_OK) return 0;
        if (rc != MW_ERR_LIMIT || await_bdat(cfg, l) != 0) return -1;
    }
}

/* AUTH to the smarthost with the configured credentials. @return 0, -1. */
static int authenticate(const smtpd_config *cfg, struct link *l, struct entry *e)
{
    const mw_smtp_client_event *ev;
    mw_sasl_client *sc = NULL;
    int mech = mw_smtp_client_auth_choose(l->c, MW_SASL_PASSWORD_MECHS), rc = -1;
    if (mech < 0) {
        snprintf(e->fail, sizeof e->fail, "no usable AUTH mechanism offered");
        return -1;
    }
    if (mw_sasl_client_new(&sc, NULL, mw_sasl_mech_name(mech), cfg->sasl_opts) == MW_OK &&
        mw_sasl_client_set(sc, MW_SASL_PROP_AUTHCID, cfg->relay_user, strlen(cfg->relay_user)) == MW_OK &&
        mw_sasl_client_set(sc, MW_SASL_PROP_PASSWORD, cfg->relay_pass, strlen(cfg->relay_pass)) == MW_OK &&
        mw_smtp_client_auth(l->c, sc, mech) == MW_OK) {
        while (next_event(cfg, l, &ev) > 0)
            if (ev->type == MW_SMTP_CLIENT_EV_AUTH) {
                rc = ev->error == MW_OK ? 0 : -1;
                if (rc != 0)
                    snprintf(e->fail, sizeof e->fail, "AUTH %s refused: %d %.*s",
                             mw_sasl_mech_name(mech), ev->code, (int)ev->text.len,
                             (const char *)ev->text.base);
                break;
            }
    }
    mw_sasl_client_free(sc);
    return rc;
}

/* Greeting, EHLO, STARTTLS by policy, AUTH by option. @return 0 when READY. */
static int open_session(const smtpd_config *cfg, struct link *l, struct entry *e)
{
    const mw_smtp_client_event *ev;
    int t;
    while ((t = next_event(cfg, l, &ev)) > 0) {
        if (t == MW_SMTP_CLIENT_EV_READY) break;
        if ((t == MW_SMTP_CLIENT_EV_GREETING && ev->code != 220) ||
            (t == MW_SMTP_CLIENT_EV_STARTTLS && ev->code != 220))
            snprintf(e->fail, sizeof e->fail, "%s: %d %.*s",
                     t == MW_SMTP_CLIENT_EV_GREETING ? "greeting" : "STARTTLS", ev->code,
                     (int)ev->text.len, (const char *)ev->text.base);
    }
    if (t < 0) {
        if (!e->fail[0])
            snprintf(e->fail, sizeof e->fail, "session failed before READY%s",
                     cfg->relay_tls == MW_SMTP_TLS_REQUIRED ? " (STARTTLS required)" : "");
        return -1;
    }
    mwx_log("relay id=%s: session ready%s", e->id, (ev->flags & MW_SMTP_CLIENT_F_TLS) ? " (TLS)" : "");
    return cfg->relay_user ? authenticate(cfg, l, e) : 0;
}

/* One SMTP transaction; fills e->st. Codes stay 0 where nothing final was learnt. */
static void transact(const smtpd_config *cfg, struct link *l, const char *msg_path, struct entry *e)
{
    const mw_smtp_client_event *ev;
    mw_smtp_client_rcpt *rc;
    mw_smtp_client_envelope env;
    size_t i;
    int t, done = 0, mail_failed = 0;
    if (open_session(cfg, l, e) != 0) return;
    rc = calloc(e->rcpts.n, sizeof *rc);
    if (!rc) return;
    for (i = 0; i < e->rcpts.n; i++)
        rc[i].address = e->rcpts.v[i];
    memset(&env, 0, sizeof env);
    env.from = e->from;
    env.rcpts = rc;
    env.nrcpts = e->rcpts.n;
    if ((t = mw_smtp_client_send(l->c, &env)) != MW_OK) {
        snprintf(e->fail, sizeof e->fail, "envelope refused by the engine: %s", mw_strerror(t));
        free(rc);
        return;
    }
    while (!done && (t = next_event(cfg, l, &ev)) > 0) {
        switch (t) {
        case MW_SMTP_CLIENT_EV_MAIL: /* a refused MAIL decides for every recipient */
            mail_failed = ev->code / 100 != 2;
            for (i = 0; mail_failed && i < e->rcpts.n; i++)
                note(e, i, ev);
            break;
        case MW_SMTP_CLIENT_EV_RCPT: /* after a refused MAIL, pipelined RCPTs get 503: not theirs */
            if (!mail_failed && ev->code / 100 != 2 && ev->rcpt_index < e->rcpts.n)
                note(e, ev->rcpt_index, ev);
            break;
        case MW_SMTP_CLIENT_EV_SEND_BODY:
            if (send_body(cfg, l, msg_path) != 0) done = 1;
            break;
        case MW_SMTP_CLIENT_EV_MESSAGE:
            if (ev->flags & MW_SMTP_CLIENT_F_EMPTY_BODY) break;
            for (i = 0; i < e->rcpts.n; i++) /* the rest: those RCPT accepted */
                if (e->st[i].code == 0) note(e, i, ev);
            break;
        case MW_SMTP_CLIENT_EV_DATA:
            if (ev->code != 354 && ev->accepted > 0)
                for (i = 0; i < e->rcpts.n; i++)
                    if (e->st[i].code == 0) note(e, i, ev);
            break;
        case MW_SMTP_CLIENT_EV_DONE:
            done = 1;
            break;
        default:
            break;
        }
    }
    free(rc);
    if (t > 0 && mw_smtp_client_quit(l->c) == MW_OK)
        while (next_event(cfg, l, &ev) > 0 && ev->type != MW_SMTP_CLIENT_EV_QUIT) {
        }
}

/* ------------------------------------------------------------------ */
/* Bounces (RFC 3464)                                                  */
/* ------------------------------------------------------------------ */

struct dsn_out {
    mwx_spool *sp;
    mw_mime_builder *b;
};

static int drain(struct dsn_out *o)
{
    const unsigned char *p;
    size_t len;
    while ((p = mw_mime_builder_out_buf(o->b, &len)) != NULL) {
        if (mwx_spool_write(o->sp, p, len) != 0) return -1;
        mw_mime_builder_out_ack(o->b, len);
    }
    return 0;
}

static int put(struct dsn_out *o, const char *s, size_t len)
{
    while (len > 0) {
        mw_ssize n = mw_mime_builder_write(o->b, s, len);
        if (n < 0 || drain(o) != 0) return -1;
        s += n;
        len -= (size_t)n;
    }
    return 0;
}

static int hdr(struct dsn_out *o, const char *name, const char *value)
{
    int rc = mw_mime_builder_header(o->b, name, value, strlen(value));
    return rc == MW_OK && drain(o) == 0 ? 0 : -1;
}

static void rfc5322_date(long long when, char *out, size_t cap)
{
    time_t t = (time_t)when;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S %z", &tm);
}

/* The original message's header block (without our Return-Path). */
static int put_original_headers(struct dsn_out *o, const char *msg_path)
{
    char line[1000];
    FILE *f = fopen(msg_path, "r");
    int first = 1, rc = 0;
    if (!f) return -1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        if (line[0] == '\r' || line[0] == '\n') break;
        if (first && strncmp(line, "Return-Path: ", 13) == 0) {
            first = 0;
            continue;
        }
        first = 0;
        rc = put(o, line, strlen(line));
    }
    fclose(f);
    return rc;
}

/* The human-readable part and the machine-readable status (RFC 3464 §2). */
static int build_dsn(const smtpd_config *cfg, const struct entry *e, const int *failed,
                     const char *msg_path, struct dsn_out *o)
{
    char buf[1200], date[64], boundary[80];
    size_t i;
    rfc5322_date((long long)time(NULL), date, sizeof date);
    snprintf(boundary, sizeof boundary, "=_mw-dsn-%.60s", e->id);
    for (i = 0; boundary[i]; i++) /* RFC 2046 bchars only */
        if (boundary[i] == ',' ) boundary[i] = '.';
    snprintf(buf, sizeof buf, "Mail Delivery System <MAILER-DAEMON@%s>", cfg->hostname);
    if (hdr(o, "From", buf) || hdr(o, "To", e->from) || hdr(o, "Date", date)) return -1;
    if (mw_mime_builder_header_text(o->b, "Subject", "Undelivered Mail Returned to Sender", 35) != MW_OK)
        return -1;
    snprintf(buf, sizeof buf, "<%lld.%s@%s>", (long long)time(NULL), e->id, cfg->hostname);
    for (i = 0; buf[i]; i++)
        if (buf[i] == ',' || buf[i] == '=') buf[i] = '.';
    if (hdr(o, "Message-ID", buf) || hdr(o, "Auto-Submitted", "auto-replied") ||
        mw_mime_builder_multipart_begin(o->b, "report", boundary, "report-type=delivery-status") != MW_OK)
        return -1;
    /* 1: for people */
    if (mw_mime_builder_part_begin(o->b, "text/plain", "us-ascii", MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0) != MW_OK)
        return -1;
    snprintf(buf, sizeof buf, "This is the mail system at %s.\r\n\r\nYour message could not be "
             "delivered to the following recipient(s):\r\n\r\n", cfg->hostname);
    if (put(o, buf, strlen(buf))) return -1;
    for (i = 0; i < e->rcpts.n; i++) {
        if (!failed[i]) continue;
        snprintf(buf, sizeof buf, "<%s>: %s\r\n", e->rcpts.v[i],
                 e->st[i].diag[0] ? e->st[i].diag : e->fail[0] ? e->fail : "delivery time expired");
        if (put(o, buf, strlen(buf))) return -1;
    }
    if (mw_mime_builder_part_end(o->b) != MW_OK) return -1;
    /* 2: for programs */
    if (mw_mime_builder_part_begin(o->b, "message/delivery-status", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0) != MW_OK)
        return -1;
    rfc5322_date(e->arrival, date, sizeof date);
    snprintf(buf, sizeof buf, "Reporting-MTA: dns; %s\r\nArrival-Date: %s\r\n", cfg->hostname, date);
    if (put(o, buf, strlen(buf))) return -1;
    for (i = 0; i < e->rcpts.n; i++) {
        const struct rcpt_state *s = &e->st[i];
        char status[16];
        if (!failed[i]) continue;
        /* a 5xx without an enhanced code: 5.0.0; expiry: 5.4.7 (RFC 3463 §3.5) */
        snprintf(status, sizeof status, "%s",
                 s->code >= 500 ? (s->status[0] == '5' ? s->status : "5.0.0") : "5.4.7");
        snprintf(buf, sizeof buf, "\r\nFinal-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\n",
                 e->rcpts.v[i], status);
        if (put(o, buf, strlen(buf))) return -1;
        if (s->diag[0]) {
            snprintf(buf, sizeof buf, "Remote-MTA: dns; %s\r\nDiagnostic-Code: smtp; %s\r\n",
                     cfg->relay_host ? cfg->relay_host : "smarthost", s->diag);
            if (put(o, buf, strlen(buf))) return -1;
        }
    }
    if (mw_mime_builder_part_end(o->b) != MW_OK) return -1;
    /* 3: the original header (RFC 6522 text/rfc822-headers) */
    if (mw_mime_builder_part_begin(o->b, "text/rfc822-headers", NULL, MW_MIME_CTE_7BIT, NULL, NULL, NULL, 0) != MW_OK ||
        put_original_headers(o, msg_path) != 0 || mw_mime_builder_part_end(o->b) != MW_OK ||
        mw_mime_builder_multipart_end(o->b) != MW_OK || mw_mime_builder_finish(o->b) != MW_OK)
        return -1;
    return drain(o);
}

/* Build the DSN and hand it to normal delivery: the sender's Maildir when
 * local, the queue (from <>) when remote. */
static int bounce(const smtpd_config *cfg, const struct entry *e, const int *failed, const char *msg_path)
{
    smtpd_txn t;
    struct dsn_out o;
    int rc = -1;
    if (e->from[0] == '\0') { /* RFC 3464 §2 / RFC 5321 §4.5.5: never bounce a bounce */
        mwx_log("relay id=%s: null sender, no DSN", e->id);
        return 0;
    }
    if (!cfg->maildir_root) {
        mwx_log("relay id=%s: no --maildir-root: DSN to <%s> not generated", e->id, e->from);
        return -1;
    }
    memset(&t, 0, sizeof t);
    t.spool.fd = -1;
    o.sp = &t.spool;
    o.b = mw_mime_builder_new(NULL, 0, 0);
    if (o.b && mwx_strlist_push(&t.rcpts, e->from, strlen(e->from)) == 0 &&
        smtpd_body_begin(cfg, &t) == 0 && smtpd_body_trace(cfg, &t, "") == 0 &&
        build_dsn(cfg, e, failed, msg_path, &o) == 0 && t.spool.err == 0)
        rc = smtpd_deliver(cfg, &t);
    mw_mime_builder_free(o.b);
    mwx_log("relay id=%s: DSN to <%s> %s%s", e->id, e->from, rc == 0 ? "sent as " : "failed",
            rc == 0 ? t.spool.name : "");
    smtpd_txn_reset(&t);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Settling an attempt                                                 */
/* ------------------------------------------------------------------ */

static long long backoff(const smtpd_config *cfg, long attempts)
{
    long long d = cfg->retry_sec > 0 ? cfg->retry_sec : 300;
    while (--attempts > 0 && d < MAX_BACKOFF_SEC)
        d *= 2;
    return d < MAX_BACKOFF_SEC ? d : MAX_BACKOFF_SEC;
}

/* Log each result, bounce the failed recipients, rewrite the envelope with
 * the ones still to try or remove the entry. @return 0 done, 1 kept, -1. */
static int settle(const smtpd_config *cfg, struct entry *e, const char *env_path, const char *msg_path)
{
    char tmp[4200];
    size_t i, left = 0, nfailed = 0;
    long long now = (long long)time(NULL);
    int expired = cfg->max_age_sec > 0 && now - e->arrival >= cfg->max_age_sec;
    int *failed = calloc(e->rcpts.n, sizeof *failed);
    FILE *f;
    if (!failed) return -1;
    e->attempts++;
    for (i = 0; i < e->rcpts.n; i++) {
        const struct rcpt_state *s = &e->st[i];
        if (s->code / 100 == 2) {
            mwx_log("relay id=%s to=<%s> attempt=%ld result=%d sent", e->id, e->rcpts.v[i], e->attempts, s->code);
        } else if (s->code >= 500 || expired) {
            failed[i] = 1;
            nfailed++;
            mwx_log("relay id=%s to=<%s> attempt=%ld result=%d failed permanently: %s", e->id,
                    e->rcpts.v[i], e->attempts, s->code, s->diag[0] ? s->diag : expired ? "too old" : e->fail);
        } else {
            left++;
            mwx_log("relay id=%s to=<%s> attempt=%ld result=%d deferred: %s", e->id, e->rcpts.v[i],
                    e->attempts, s->code, s->diag[0] ? s->diag : e->fail[0] ? e->fail : "connection failed");
        }
    }
    if (nfailed > 0) bounce(cfg, e, failed, msg_path);
    free(failed);
    if (left == 0) {
        unlink(env_path); /* the envelope first: an entry without one is never sent */
        unlink(msg_path);
        return 0;
    }
    e->next = now + backoff(cfg, e->attempts);
    snprintf(tmp, sizeof tmp, "%s/tmp/%s.env", cfg->queue_dir, e->id);
    f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "MAIL FROM:<%s>\r\n", e->from);
    for (i = 0; i < e->rcpts.n; i++)
        if (e->st[i].code / 100 != 2 && e->st[i].code < 500)
            fprintf(f, "RCPT TO:<%s>\r\n", e->rcpts.v[i]);
    fprintf(f, "ARRIVAL %lld\r\nATTEMPTS %ld\r\nNEXT %lld\r\n", e->arrival, e->attempts, e->next);
    if (fclose(f) != 0 || rename(tmp, env_path) != 0) return -1;
    mwx_log("relay id=%s: %zu recipient(s) deferred, attempt %ld, next in %llds", e->id, left,
            e->attempts, e->next - now);
    return 1;
}

static int flush_entry(const smtpd_config *cfg, const char *relay_host, const char *id, int force)
{
    char env_path[4200], msg_path[4200];
    struct entry e;
    struct link l = {-1, NULL, NULL, 0};
    int rc = -1;
    memset(&e, 0, sizeof e);
    snprintf(e.id, sizeof e.id, "%s", id);
    snprintf(env_path, sizeof env_path, "%s/env/%s", cfg->queue_dir, id);
    snprintf(msg_path, sizeof msg_path, "%s/new/%s", cfg->queue_dir, id);
    if (read_envelope(env_path, msg_path, &e) != 0) {
        mwx_log("relay id=%s: unreadable envelope, left in place", id);
        goto out;
    }
    if (!force && e.next > (long long)time(NULL)) {
        rc = 1; /* not due yet */
        goto out;
    }
    l.fd = connect_to(relay_host);
    if (l.fd < 0) {
        snprintf(e.fail, sizeof e.fail, "cannot connect to %s: %s", relay_host, strerror(errno));
        mwx_log("relay id=%s: %s", id, e.fail);
    } else if (mw_smtp_client_new(NULL, cfg->client_opts, &l.c) == MW_OK) {
        transact(cfg, &l, msg_path, &e);
    }
    rc = settle(cfg, &e, env_path, msg_path);
out:
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_tls_free(l.tls);
#endif
    if (l.fd >= 0) close(l.fd);
    mw_smtp_client_free(l.c);
    mwx_strlist_clear(&e.rcpts);
    free(e.st);
    return rc;
}

/* One flush at a time per queue (the daemon's child and a manual
 * --flush-queue must not send an entry twice): QUEUE/flush.lock.
 * @return the locked descriptor, -1 when another flush holds it. */
static int lock_queue(const smtpd_config *cfg)
{
    char path[4200];
    int fd;
    snprintf(path, sizeof path, "%s/flush.lock", cfg->queue_dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno == ENOENT ? -2 : -1; /* no queue yet: nothing to do */
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
    close(fd);
    mwx_log("relay: another flush of %s is running; skipped", cfg->queue_dir);
    return -1;
}

static int flush_locked(const smtpd_config *cfg, const char *relay_host, int force)
{
    char dir[4200];
    mwx_strlist ids = {0};
    struct dirent *de;
    size_t i;
    DIR *d;
    int pending = 0;
    snprintf(dir, sizeof dir, "%s/env", cfg->queue_dir);
    d = opendir(dir);
    if (!d) return errno == ENOENT ? 0 : -1;
    /* Names first: settle() renames envelopes into this directory (and a
     * bounce may add one), and an entry must not come round twice. */
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.' && mwx_strlist_push(&ids, de->d_name, strlen(de->d_name)) != 0)
            pending = -1;
    closedir(d);
    for (i = 0; pending >= 0 && i < ids.n; i++)
        if (flush_entry(cfg, relay_host, ids.v[i], force) != 0) pending = 1;
    mwx_strlist_clear(&ids);
    if (pending == 0 && (d = opendir(dir)) != NULL) { /* a bounce for a remote sender was queued */
        while ((de = readdir(d)) != NULL)
            if (de->d_name[0] != '.') pending = 1;
        closedir(d);
    }
    return pending;
}

int smtpd_flush_queue(const smtpd_config *cfg, const char *relay_host, int force)
{
    int rc, fd = lock_queue(cfg);
    if (fd == -2) return 0;
    if (fd < 0) return 1;
    rc = flush_locked(cfg, relay_host, force);
    close(fd); /* releases the lock */
    return rc;
}

/* ------------------------------------------------------------------ */
/* Flushing from the daemon                                            */
/* ------------------------------------------------------------------ */

/* The flush uses blocking sockets, so it runs in a child process and the
 * poll loop never waits for a smarthost. */
static void flush_child(smtpd_config *cfg)
{
    int fd;
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    /* Client connections and listeners stay the parent's: a copy held
     * here would keep a finished session's TCP connection open. */
    for (fd = 3; fd < 1024; fd++)
        close(fd);
    _exit(smtpd_flush_queue(cfg, cfg->relay_host, 0) < 0 ? 1 : 0);
}

void smtpd_relay_tick(void *user)
{
    smtpd_config *cfg = user;
    int64_t now;
    pid_t pid;
    if (!cfg->relay_host) return;
    if (cfg->flush_pid > 0) {
        int status;
        if (waitpid((pid_t)cfg->flush_pid, &status, WNOHANG) == 0) return; /* still running */
        cfg->flush_pid = 0;
    }
    now = mwx_now_ms();
    if (!cfg->flush_soon && now < cfg->next_flush) return;
    cfg->flush_soon = 0;
    cfg->next_flush = now + cfg->flush_interval_ms;
    pid = fork();
    if (pid == 0) flush_child(cfg);
    if (pid < 0) mwx_log("relay: fork: %s", strerror(errno));
    cfg->flush_pid = pid > 0 ? (long)pid : 0;
}

void smtpd_relay_wait(smtpd_config *cfg)
{
    int status;
    if (cfg->flush_pid > 0) waitpid((pid_t)cfg->flush_pid, &status, 0);
    cfg->flush_pid = 0;
}
