/*
 * mw-fetch: download new mail with the mailwire POP3 client engine.
 *
 *   mw-fetch pop3 --server HOST[:PORT] --user U --password-file F
 *            [--stls|--tls] [--ca-file PEM] [--keep] [--state FILE]
 *            [--maildir DIR | --mbox FILE] [-v]
 *
 * Each message is stored (Maildir: tmp/, fsync, new/; mbox: appended
 * under flock) before its DELE is queued, so an interrupted run loses
 * nothing; deletions only happen at QUIT (RFC 1939 §6). In keep mode the
 * UIDLs of fetched messages are appended to a state file and skipped on
 * the next run. Blocking I/O: one connection, one message at a time in
 * constant memory (bodies arrive as BODY events and go straight to disk).
 * See docs/mw-fetch.md.
 *
 * Exit status: 0 success, 1 failure, 2 usage error.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mwx_maildir.h"

#include <mailwire/pop3.h>
#include <mailwire/sasl.h>
#ifdef MW_EXAMPLES_HAVE_TLS
#include <mailwire/openssl.h>
#endif

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage_text[] =
    "usage: mw-fetch pop3 --server HOST[:PORT] --user USER --password-file FILE\n"
    "                [--stls | --tls] [--ca-file PEM] [--keep] [--state FILE]\n"
    "                [--maildir DIR | --mbox FILE] [-v]\n"
    "  --stls          require STLS (RFC 2595) before the credentials\n"
    "  --tls           implicit TLS (port 995 by default)\n"
    "  --ca-file PEM   trust these certificates instead of the system store\n"
    "  --keep          leave the messages on the server; remember their UIDLs\n"
    "  --state FILE    where keep mode remembers UIDLs (default DIR/.mw-fetch-uidls\n"
    "                  or FILE.mw-fetch-uidls)\n"
    "  -v              print the dialog on stderr (credentials redacted)\n";

struct opts {
    const char *server, *user, *password_file, *ca_file, *maildir, *mbox, *state;
    int stls, tls, keep, verbose;
    char host[256], port[16];
};

/* ------------------------------------------------------------------ */
/* Transport: a blocking socket, optionally wrapped in TLS             */
/* ------------------------------------------------------------------ */

typedef struct conn {
    int fd;
    mw_pop3_client *pop;
    int verbose;
    int in_auth; /* redact our lines until AUTH's reply */
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_tls_config *tls_cfg;
    mw_tls_session *tls;
#endif
} conn;

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* -v: our command lines, with credentials hidden. */
static void show_sent(conn *c, const unsigned char *p, size_t len)
{
    while (len) {
        const unsigned char *nl = memchr(p, '\n', len);
        size_t n = nl ? (size_t)(nl - p) + 1 : len;
        int shown = (int)(n >= 2 && p[n - 2] == '\r' ? n - 2 : n - (nl ? 1 : 0));
        if (c->in_auth)
            fprintf(stderr, "C: <credentials>\n");
        else if (n >= 5 && (!strncmp((const char *)p, "PASS ", 5) || !strncmp((const char *)p, "APOP ", 5)))
            fprintf(stderr, "C: %.4s <redacted>\n", (const char *)p);
        else if (n >= 5 && !strncmp((const char *)p, "AUTH ", 5)) {
            const unsigned char *sp = memchr(p + 5, ' ', (size_t)shown - 5);
            fprintf(stderr, "C: %.*s%s\n", sp ? (int)(sp - p) : shown, (const char *)p,
                    sp ? " <redacted>" : "");
            c->in_auth = 1;
        } else
            fprintf(stderr, "C: %.*s\n", shown, (const char *)p);
        p += n;
        len -= n;
    }
}

#ifdef MW_EXAMPLES_HAVE_TLS
static int tls_flush(conn *c)
{
    const unsigned char *p;
    size_t len;
    while ((p = mw_tls_out_buf(c->tls, &len)) != NULL && len) {
        if (write_all(c->fd, p, len) != 0) return -1;
        mw_tls_out_ack(c->tls, len);
    }
    return (mw_tls_state(c->tls) & MW_TLS_FAILED) ? -1 : 0;
}
#endif

/* Send everything the engine has queued. @return 0, -1. */
static int flush_out(conn *c)
{
    const unsigned char *p;
    size_t len;
    while ((p = mw_pop3_client_out_buf(c->pop, &len)) != NULL && len) {
        if (c->verbose) show_sent(c, p, len);
#ifdef MW_EXAMPLES_HAVE_TLS
        if (c->tls) {
            mw_ssize k = mw_tls_write_plain(c->tls, p, len);
            if (k < 0 || tls_flush(c) != 0) return -1;
            mw_pop3_client_out_ack(c->pop, (size_t)k);
            continue;
        }
#endif
        if (write_all(c->fd, p, len) != 0) return -1;
        mw_pop3_client_out_ack(c->pop, len);
    }
    return 0;
}

/* Block until some input reached the engine (or EOF was reported).
 * @return 0, -1 on a transport error. */
static int read_in(conn *c)
{
    size_t room;
    unsigned char *q = mw_pop3_client_recv_buf(c->pop, &room);
    if (!q || !room) return -1;
#ifdef MW_EXAMPLES_HAVE_TLS
    while (c->tls) {
        mw_ssize got = mw_tls_read_plain(c->tls, q, room);
        size_t cr;
        unsigned char *cq;
        ssize_t n;
        if (got > 0) return mw_pop3_client_recv_ack(c->pop, (size_t)got) == MW_OK ? 0 : -1;
        if (got < 0 && got != MW_ERR_CLOSED) return -1;
        if (got == MW_ERR_CLOSED || (mw_tls_state(c->tls) & MW_TLS_PEER_CLOSED))
            return mw_pop3_client_recv_ack(c->pop, 0), mw_pop3_client_eof(c->pop), 0;
        if (tls_flush(c) != 0) return -1;
        cq = mw_tls_recv_buf(c->tls, &cr);
        if (!cq) return -1;
        do
            n = recv(c->fd, cq, cr, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0) return -1;
        if (n == 0) {
            mw_tls_recv_ack(c->tls, 0);
            mw_tls_eof(c->tls);
            mw_pop3_client_recv_ack(c->pop, 0);
            return mw_pop3_client_eof(c->pop), 0;
        }
        if (mw_tls_recv_ack(c->tls, (size_t)n) != MW_OK) return -1;
    }
#endif
    for (;;) {
        ssize_t n = recv(c->fd, q, room, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (mw_pop3_client_recv_ack(c->pop, (size_t)n) != MW_OK) return -1;
        if (n == 0) mw_pop3_client_eof(c->pop);
        return 0;
    }
}

static int start_tls(conn *c, const struct opts *o)
{
#ifdef MW_EXAMPLES_HAVE_TLS
    if (!c->tls_cfg) {
        if (mw_tls_config_new(NULL, MW_TLS_CLIENT, &c->tls_cfg) != MW_OK) return -1;
        if ((o->ca_file ? mw_tls_config_set_ca_file(c->tls_cfg, o->ca_file, NULL)
                        : mw_tls_config_set_ca_system(c->tls_cfg)) != MW_OK ||
            mw_tls_config_set_host_name(c->tls_cfg, o->host) != MW_OK) {
            fprintf(stderr, "mw-fetch: TLS: %s\n", mw_tls_config_last_error(c->tls_cfg));
            return -1;
        }
    }
    if (mw_tls_new(NULL, c->tls_cfg, &c->tls) != MW_OK) return -1;
    /* Handshake: exchange records until READY. */
    while (!(mw_tls_state(c->tls) & MW_TLS_READY)) {
        size_t cr;
        unsigned char *cq;
        ssize_t n;
        if (tls_flush(c) != 0) break;
        cq = mw_tls_recv_buf(c->tls, &cr);
        if (!cq) break;
        n = recv(c->fd, cq, cr, 0);
        if (n <= 0 || mw_tls_recv_ack(c->tls, (size_t)n) != MW_OK) break;
        mw_tls_read_plain(c->tls, NULL, 0);
    }
    if (!(mw_tls_state(c->tls) & MW_TLS_READY)) {
        fprintf(stderr, "mw-fetch: TLS handshake failed: %s\n", mw_tls_last_error(c->tls));
        return -1;
    }
    /* Same form as mw-send's trace; the cipher name may be NULL. */
    if (c->verbose)
        fprintf(stderr, "-- TLS %s, %s\n",
                mw_tls_protocol_version(c->tls) == MW_TLS_VERSION_1_3 ? "1.3" : "1.2",
                mw_tls_cipher_name(c->tls) ? mw_tls_cipher_name(c->tls) : "?");
    return 0;
#else
    (void)c;
    (void)o;
    fprintf(stderr, "mw-fetch: built without TLS\n");
    return -1;
#endif
}

static int connect_to(const char *host, const char *port)
{
    struct addrinfo hints, *res, *ai;
    int fd = -1, rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "mw-fetch: %s: %s\n", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) fprintf(stderr, "mw-fetch: connect %s:%s: %s\n", host, port, strerror(errno));
    return fd;
}

/* ------------------------------------------------------------------ */
/* Storage: Maildir or mbox, and the keep-mode state file              */
/* ------------------------------------------------------------------ */

typedef struct store {
    const struct opts *o;
    mwx_spool spool; /* Maildir */
    int mbox_fd;     /* mbox, flock()ed for the whole run */
    off_t mbox_start;
    int failed;
    /* mbox conversion state across BODY events */
    int cr;                 /* a CR is pending */
    int ls;                 /* at the start of a line */
    unsigned char last;     /* the last byte written */
    unsigned char hold[64]; /* the start of a line that may be ">*From " */
    size_t nh;
    unsigned char out[16384];
    size_t nout;
} store;

static void mbox_flush(store *st)
{
    if (st->nout && write(st->mbox_fd, st->out, st->nout) != (ssize_t)st->nout) st->failed = 1;
    st->nout = 0;
}

static void mbox_out(store *st, const unsigned char *p, size_t n)
{
    if (n) st->last = p[n - 1];
    while (n) {
        size_t k = sizeof st->out - st->nout < n ? sizeof st->out - st->nout : n;
        memcpy(st->out + st->nout, p, k);
        st->nout += k;
        p += k;
        n -= k;
        if (st->nout == sizeof st->out) mbox_flush(st);
    }
}

/* mboxrd: a line matching ">*From " gets one more '>' so a reader can
 * take it off again. c is a byte of the message with CRLF already LF. */
static void mbox_byte(store *st, unsigned char c)
{
    size_t k = 0;
    if (!st->ls) {
        mbox_out(st, &c, 1);
        st->ls = c == '\n';
        return;
    }
    st->hold[st->nh++] = c;
    while (k < st->nh && st->hold[k] == '>') k++;
    if (k == st->nh && st->nh < sizeof st->hold) return; /* still '>'s */
    if (st->nh - k < 5 && !memcmp(st->hold + k, "From ", st->nh - k)) return;
    if (st->nh - k == 5 && !memcmp(st->hold + k, "From ", 5)) mbox_out(st, (const unsigned char *)">", 1);
    mbox_out(st, st->hold, st->nh);
    st->nh = 0;
    st->ls = c == '\n';
}

static void mbox_body(store *st, const unsigned char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (st->cr) {
            st->cr = 0;
            if (p[i] != '\n') mbox_byte(st, '\r');
        }
        if (p[i] == '\r')
            st->cr = 1;
        else
            mbox_byte(st, p[i]);
    }
}

static int store_begin(store *st)
{
    char line[128];
    time_t now = time(NULL);
    struct tm tm;
    st->failed = 0;
    if (st->o->maildir) return mwx_spool_open(&st->spool, st->o->maildir);
    gmtime_r(&now, &tm);
    strftime(line, sizeof line, "From MAILER-DAEMON %a %b %e %H:%M:%S %Y\n", &tm);
    st->mbox_start = lseek(st->mbox_fd, 0, SEEK_END);
    st->cr = 0;
    st->ls = 1;
    st->nh = 0;
    st->nout = 0;
    mbox_out(st, (const unsigned char *)line, strlen(line));
    return 0;
}

static void store_data(store *st, const unsigned char *p, size_t n)
{
    if (st->o->maildir) {
        if (mwx_spool_write(&st->spool, p, n) != 0) st->failed = 1;
    } else {
        mbox_body(st, p, n);
    }
}

/* @return 0 stored durably, -1 (nothing is left behind). */
static int store_end(store *st, int ok)
{
    if (st->o->maildir) {
        if (ok && !st->failed && mwx_spool_finish(&st->spool) == 0 &&
            mwx_spool_deliver(&st->spool, st->o->maildir) == 0) {
            mwx_spool_discard(&st->spool); /* the tmp/ link */
            return 0;
        }
        mwx_spool_discard(&st->spool);
        return -1;
    }
    if (st->cr) mbox_byte(st, '\r');
    if (st->nh) mbox_out(st, st->hold, st->nh);
    st->cr = 0;
    st->nh = 0;
    if (st->last != '\n') mbox_out(st, (const unsigned char *)"\n", 1);
    mbox_out(st, (const unsigned char *)"\n", 1); /* the separating empty line */
    mbox_flush(st);
    if (ok && !st->failed && fsync(st->mbox_fd) == 0) return 0;
    if (ftruncate(st->mbox_fd, st->mbox_start) != 0) { /* nothing more we can do */
    }
    return -1;
}

typedef struct uidset {
    char **v;
    size_t n, cap;
} uidset;

static int uidset_add(uidset *s, const char *u, size_t len)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 64;
        char **v = realloc(s->v, nc * sizeof *v);
        if (!v) return -1;
        s->v = v;
        s->cap = nc;
    }
    s->v[s->n] = malloc(len + 1);
    if (!s->v[s->n]) return -1;
    memcpy(s->v[s->n], u, len);
    s->v[s->n++][len] = '\0';
    return 0;
}

static int uidset_has(const uidset *s, const char *u, size_t len)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        if (strlen(s->v[i]) == len && !memcmp(s->v[i], u, len)) return 1;
    return 0;
}

static void uidset_free(uidset *s)
{
    size_t i;
    for (i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

/* State file lines: "USER@HOST:PORT UID". Only this account's are loaded. */
static int state_load(const char *path, const char *key, uidset *seen)
{
    char line[512];
    size_t kl = strlen(key);
    FILE *f = fopen(path, "r");
    if (!f) return errno == ENOENT ? 0 : -1;
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        if (n > kl + 1 && !strncmp(line, key, kl) && line[kl] == ' ')
            if (uidset_add(seen, line + kl + 1, n - kl - 1) != 0) {
                fclose(f);
                return -1;
            }
    }
    fclose(f);
    return 0;
}

static int state_append(const char *path, const char *key, const char *uid, size_t len)
{
    FILE *f = fopen(path, "a");
    int rc;
    if (!f) return -1;
    fprintf(f, "%s %.*s\n", key, (int)len, uid);
    rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

/* ------------------------------------------------------------------ */
/* The session                                                         */
/* ------------------------------------------------------------------ */

typedef struct msginfo {
    uint32_t msg;
    char *uid;
} msginfo;

typedef struct fetch {
    const struct opts *o;
    conn c;
    store st;
    char password[512];
    char key[600];
    char state_path[4200];
    uidset seen;    /* keep mode: already fetched */
    uidset uids;    /* UIDL of this session, by message number - 1 */
    uint32_t nmsgs; /* from LIST */
    uint32_t outstanding;
    int listed, quit_sent, failed, authed;
    uint32_t cur;          /* message being received */
    unsigned long fetched, deleted;
} fetch;

static void show_reply(const fetch *f, const mw_pop3_client_event *ev)
{
    if (!f->o->verbose) return;
    if (ev->type == MW_POP3_CLIENT_EV_CAPA)
        fprintf(stderr, "S: %.*s%s%.*s\n", (int)ev->text.len, (const char *)ev->text.base,
                ev->arg.len ? " " : "", (int)ev->arg.len, (const char *)ev->arg.base);
    else if (ev->type == MW_POP3_CLIENT_EV_END)
        fprintf(stderr, "S: .\n");
    else if (ev->type == MW_POP3_CLIENT_EV_REPLY || ev->type == MW_POP3_CLIENT_EV_GREETING)
        fprintf(stderr, "S: %s%s%s%.*s%s %.*s\n", ev->local ? "(local) " : "",
                ev->ok ? "+OK" : "-ERR", ev->code.len ? " [" : "", (int)ev->code.len,
                (const char *)ev->code.base, ev->code.len ? "]" : "", (int)ev->text.len,
                (const char *)ev->text.base);
    else if (ev->type == MW_POP3_CLIENT_EV_LIST)
        fprintf(stderr, "S: %u %llu\n", (unsigned)ev->msg, (unsigned long long)ev->size);
    else if (ev->type == MW_POP3_CLIENT_EV_UIDL)
        fprintf(stderr, "S: %u %.*s\n", (unsigned)ev->msg, (int)ev->arg.len,
                (const char *)ev->arg.base);
}

static int queue_login(fetch *f)
{
    mw_ssize rc;
    unsigned mask = MW_SASL_BIT(MW_SASL_MECH_SCRAM_SHA_256) | MW_SASL_BIT(MW_SASL_MECH_CRAM_MD5) |
                    MW_SASL_BIT(MW_SASL_MECH_PLAIN) | MW_SASL_BIT(MW_SASL_MECH_LOGIN);
    if (mw_pop3_client_capabilities(f->c.pop) & MW_POP3_HAS_SASL)
        rc = mw_pop3_client_auth(f->c.pop, mask, NULL, f->o->user, f->password);
    else
        rc = mw_pop3_client_user_pass(f->c.pop, f->o->user, f->password);
    if (rc < 0) return -1;
    if (mw_pop3_client_uidl(f->c.pop, 0) < 0 || mw_pop3_client_list(f->c.pop, 0) < 0) return -1;
    return 0;
}

/* After LIST: RETR what is new (one at a time keeps the queue small). */
static int queue_next(fetch *f)
{
    while (f->cur < f->nmsgs && f->outstanding == 0) {
        uint32_t m = ++f->cur;
        const char *u = m <= f->uids.n ? f->uids.v[m - 1] : NULL;
        if (f->o->keep && (!u || uidset_has(&f->seen, u, strlen(u)))) continue;
        if (mw_pop3_client_retr(f->c.pop, m) < 0) return -1;
        f->outstanding = 1;
        if (store_begin(&f->st) != 0) return -1;
    }
    if (f->cur >= f->nmsgs && f->outstanding == 0 && !f->quit_sent) {
        f->quit_sent = 1;
        if (mw_pop3_client_quit(f->c.pop) < 0) return -1;
    }
    return 0;
}

static int on_retr_end(fetch *f)
{
    const char *u = f->cur <= f->uids.n ? f->uids.v[f->cur - 1] : NULL;
    f->outstanding = 0;
    if (store_end(&f->st, 1) != 0) {
        fprintf(stderr, "mw-fetch: cannot store message %u: %s\n", (unsigned)f->cur, strerror(errno));
        return -1; /* no DELE: it stays on the server */
    }
    f->fetched++;
    if (f->o->keep) {
        if (u && state_append(f->state_path, f->key, u, strlen(u)) != 0) return -1;
    } else {
        if (mw_pop3_client_dele(f->c.pop, f->cur) < 0) return -1;
        f->deleted++;
    }
    return queue_next(f);
}

static int on_event(fetch *f, const mw_pop3_client_event *ev)
{
    show_reply(f, ev);
    switch (ev->type) {
    case MW_POP3_CLIENT_EV_READY:
        return queue_login(f);
    case MW_POP3_CLIENT_EV_REPLY:
        if (ev->cmd == MW_POP3_CMD_AUTH || ev->cmd == MW_POP3_CMD_PASS) f->c.in_auth = 0;
        if (ev->ok) return 0;
        if (ev->cmd == MW_POP3_CMD_UIDL && !f->o->keep) return 0; /* LIST suffices */
        fprintf(stderr, "mw-fetch: server: -ERR %.*s\n", (int)ev->text.len, (const char *)ev->text.base);
        if (ev->cmd == MW_POP3_CMD_RETR) store_end(&f->st, 0);
        return -1;
    case MW_POP3_CLIENT_EV_UIDL:
        /* Entries come in order; a gap would misalign: fill it. */
        while (f->uids.n + 1 < ev->msg)
            if (uidset_add(&f->uids, "", 0) != 0) return -1;
        return uidset_add(&f->uids, (const char *)ev->arg.base, ev->arg.len);
    case MW_POP3_CLIENT_EV_LIST:
        if (ev->msg > f->nmsgs) f->nmsgs = ev->msg;
        return 0;
    case MW_POP3_CLIENT_EV_BODY:
        store_data(&f->st, (const unsigned char *)ev->data.base, ev->data.len);
        return 0;
    case MW_POP3_CLIENT_EV_END:
        if (ev->cmd == MW_POP3_CMD_LIST) return queue_next(f);
        if (ev->cmd == MW_POP3_CMD_RETR) return on_retr_end(f);
        return 0;
    default:
        return 0;
    }
}

static int run(fetch *f)
{
    int t = 0;
    for (;;) {
        const mw_pop3_client_event *ev;
        unsigned st;
        while ((t = mw_pop3_client_next(f->c.pop, &ev)) > 0)
            if (on_event(f, ev) != 0) return -1;
        if (t == MW_ERR_CLOSED) return f->quit_sent ? 0 : -1;
        if (t < 0) {
            fprintf(stderr, "mw-fetch: %s\n", mw_strerror(t));
            return -1;
        }
        if (flush_out(&f->c) != 0) return -1;
        st = mw_pop3_client_state(f->c.pop);
        if (st & MW_TLS_HANDOFF) {
            if (start_tls(&f->c, f->o) != 0 || mw_pop3_client_tls_started(f->c.pop) != MW_OK)
                return -1;
            continue;
        }
        if (st & MW_CLOSED) return f->quit_sent ? 0 : -1;
        if (read_in(&f->c) != 0) {
            fprintf(stderr, "mw-fetch: connection lost\n");
            return -1;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Setup                                                               */
/* ------------------------------------------------------------------ */

static int random_bytes(void *buf, size_t len, void *user)
{
    (void)user;
    return getrandom(buf, len, 0) == (ssize_t)len ? 0 : -1;
}

static int parse_args(struct opts *o, int argc, char **argv)
{
    int i;
    const char *colon;
    if (argc < 2 || strcmp(argv[1], "pop3") != 0) return -1;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--stls")) o->stls = 1;
        else if (!strcmp(a, "--tls")) o->tls = 1;
        else if (!strcmp(a, "--keep")) o->keep = 1;
        else if (!strcmp(a, "-v")) o->verbose = 1;
        else if (!v) return -1;
        else if (!strcmp(a, "--server")) o->server = v, i++;
        else if (!strcmp(a, "--user")) o->user = v, i++;
        else if (!strcmp(a, "--password-file")) o->password_file = v, i++;
        else if (!strcmp(a, "--ca-file")) o->ca_file = v, i++;
        else if (!strcmp(a, "--maildir")) o->maildir = v, i++;
        else if (!strcmp(a, "--mbox")) o->mbox = v, i++;
        else if (!strcmp(a, "--state")) o->state = v, i++;
        else return -1;
    }
    if (!o->server || !o->user || !o->password_file || !o->maildir == !o->mbox ||
        (o->stls && o->tls))
        return -1;
    colon = strrchr(o->server, ':');
    snprintf(o->host, sizeof o->host, "%.*s", colon ? (int)(colon - o->server) : (int)strlen(o->server),
             o->server);
    snprintf(o->port, sizeof o->port, "%s", colon ? colon + 1 : o->tls ? "995" : "110");
    return 0;
}

static int read_password(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    size_t n;
    if (!f || !fgets(out, (int)cap, f)) {
        if (f) fclose(f);
        return -1;
    }
    fclose(f);
    n = strcspn(out, "\r\n");
    out[n] = '\0';
    return 0;
}

static int open_target(fetch *f)
{
    const struct opts *o = f->o;
    if (o->maildir) {
        if (mwx_maildir_create(o->maildir) != 0) return -1;
        snprintf(f->state_path, sizeof f->state_path, "%s/.mw-fetch-uidls", o->maildir);
    } else {
        f->st.mbox_fd = open(o->mbox, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (f->st.mbox_fd < 0 || flock(f->st.mbox_fd, LOCK_EX | LOCK_NB) != 0) return -1;
        snprintf(f->state_path, sizeof f->state_path, "%s.mw-fetch-uidls", o->mbox);
    }
    if (o->state) snprintf(f->state_path, sizeof f->state_path, "%s", o->state);
    snprintf(f->key, sizeof f->key, "%s@%s:%s", o->user, o->host, o->port);
    return o->keep ? state_load(f->state_path, f->key, &f->seen) : 0;
}

static int new_client(fetch *f)
{
    mw_pop3_client_opts *co = mw_pop3_client_opts_new(NULL);
    mw_sasl_options *so = mw_sasl_options_new(NULL);
    int rc = co && so ? MW_OK : MW_ERR_NOMEM;
    if (rc == MW_OK) rc = mw_sasl_options_set_random(so, random_bytes, NULL);
    if (rc == MW_OK)
        rc = mw_pop3_client_opts_set_tls(co, f->o->stls ? MW_POP3_TLS_REQUIRED : MW_POP3_TLS_NONE);
    if (rc == MW_OK && f->o->tls) rc = mw_pop3_client_opts_set_flags(co, MW_POP3_CLIENT_IMPLICIT_TLS, 1);
    /* Without --stls/--tls the user chose a plaintext connection. */
    if (rc == MW_OK && !f->o->stls && !f->o->tls)
        rc = mw_pop3_client_opts_set_flags(co, MW_POP3_CLIENT_ALLOW_PLAINTEXT, 1);
    if (rc == MW_OK) rc = mw_pop3_client_new(NULL, co, so, &f->c.pop);
    mw_pop3_client_opts_free(co);
    mw_sasl_options_free(so);
    return rc == MW_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    static fetch f;
    static struct opts o;
    int rc = 1;
    if (argc > 1 && !strcmp(argv[1], "--help")) return fputs(usage_text, stdout), 0;
    if (parse_args(&o, argc, argv) != 0) return fputs(usage_text, stderr), 2;
    f.o = &o;
    f.st.o = &o;
    f.st.mbox_fd = -1;
    f.st.spool.fd = -1;
    f.c.fd = -1;
    f.c.verbose = o.verbose;
    if (read_password(o.password_file, f.password, sizeof f.password) != 0) {
        fprintf(stderr, "mw-fetch: %s: cannot read the password\n", o.password_file);
        return 1;
    }
    if (open_target(&f) != 0) {
        fprintf(stderr, "mw-fetch: %s: %s\n", o.maildir ? o.maildir : o.mbox, strerror(errno));
        goto out;
    }
    if (new_client(&f) != 0) goto out;
    f.c.fd = connect_to(o.host, o.port);
    if (f.c.fd < 0) goto out;
    if (o.tls && start_tls(&f.c, &o) != 0) goto out;
    if (run(&f) == 0) rc = 0;
    if (o.verbose || rc)
        fprintf(stderr, "mw-fetch: %lu fetched, %lu deleted%s\n", f.fetched, f.deleted,
                rc ? " (failed)" : "");
out:
    if (f.outstanding) store_end(&f.st, 0);
    memset(f.password, 0, sizeof f.password);
    if (f.c.fd >= 0) close(f.c.fd);
    if (f.st.mbox_fd >= 0) close(f.st.mbox_fd);
    mw_pop3_client_free(f.c.pop);
#ifdef MW_EXAMPLES_HAVE_TLS
    mw_tls_free(f.c.tls);
    mw_tls_config_free(f.c.tls_cfg);
#endif
    uidset_free(&f.seen);
    uidset_free(&f.uids);
    return rc;
}
