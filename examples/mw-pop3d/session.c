/*
 * mw-pop3d: one POP3 session. The engine parses and answers the protocol;
 * this file answers its decisions (credentials, the maildrop listing, a
 * message to send, the deletions at QUIT) and streams message files to
 * the engine in fixed-size chunks.
 *
 * SPDX-License-Identifier: MIT
 */
#include "pop3d.h"
#include "mwx_daemon.h"
#include "mwx_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 16384

typedef struct session {
    mw_pop3_server *pop;
    mw_sasl_server *sasl; /* an AUTH exchange in progress */
    char user[256];       /* the user whose credentials were accepted */
    char dir[4096];       /* the locked maildrop, "" while none */
    int lock_fd;          /* flock()ed lock file, -1 while none */
    mwx_maildir_list list;
    /* The message being sent (RETR/TOP). */
    int body_fd;
    size_t off, len;
    int body_eof;
    unsigned char buf[CHUNK];
    /* For the session's log line. */
    unsigned flags;
    unsigned long nretr, ndele; /* RETR+TOP answered, files removed */
    const char *result;
    int stopping;
} session;

/* ------------------------------------------------------------------ */
/* The maildrop                                                        */
/* ------------------------------------------------------------------ */

/* A user name that is safe as one path component. */
static int user_is_safe(const char *u)
{
    return u[0] && u[0] != '.' && !strchr(u, '/') && strlen(u) < 200;
}

/* RFC 1939 §7: a unique-id is 1..70 octets 0x21..0x7E. Our Maildir names
 * fit; a foreign name that does not is replaced by a hash of it (still
 * stable, since the name is). */
static const char *uid_for(const char *name, char fallback[20])
{
    const unsigned char *p;
    uint64_t h = 14695981039346656037ull;
    size_t n = strlen(name);
    int ok = n >= 1 && n <= 70;
    for (p = (const unsigned char *)name; *p; p++) {
        if (*p < 0x21 || *p > 0x7e) ok = 0;
        h = (h ^ *p) * 1099511628211ull; /* FNV-1a */
    }
    if (ok) return name;
    snprintf(fallback, 20, "H%016llx", (unsigned long long)h);
    return fallback;
}

static void unlock_maildrop(session *ss)
{
    mwx_maildir_list_free(&ss->list);
    if (ss->lock_fd >= 0) close(ss->lock_fd); /* releases the flock */
    ss->lock_fd = -1;
    ss->dir[0] = '\0';
}

/* Lock ROOT/<user>/Maildir with flock() on a dot file (the scan skips dot
 * files): held by one session of any process, released by the kernel if
 * we die. @return 0, 1 in use, -1 other error. */
static int lock_maildrop(session *ss, const pop3d_config *cfg)
{
    char path[4200];
    snprintf(ss->dir, sizeof ss->dir, "%s/%s/Maildir", cfg->maildir_root, ss->user);
    if (mwx_maildir_create(ss->dir) != 0) return -1;
    snprintf(path, sizeof path, "%s/.mw-pop3d.lock", ss->dir);
    ss->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (ss->lock_fd < 0) return -1;
    if (flock(ss->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        int busy = errno == EWOULDBLOCK;
        unlock_maildrop(ss);
        return busy ? 1 : -1;
    }
    return 0;
}

static int on_maildrop(mwx_conn *c, session *ss, const pop3d_config *cfg)
{
    size_t i;
    int rc;
    if (!user_is_safe(ss->user)) return mw_pop3_server_reply(ss->pop, 0, "SYS/PERM", NULL);
    rc = lock_maildrop(ss, cfg);
    if (rc == 1) {
        mwx_log("%s: %s: maildrop in use", c->peer, ss->user);
        return mw_pop3_server_reply(ss->pop, 0, "IN-USE", "Maildrop already locked");
    }
    if (rc != 0 || mwx_maildir_scan(ss->dir, &ss->list) != 0) {
        mwx_log("%s: %s: maildrop: %s", c->peer, ss->user, strerror(errno));
        unlock_maildrop(ss);
        return mw_pop3_server_reply(ss->pop, 0, "SYS/TEMP", "Cannot open the maildrop");
    }
    for (i = 0; i < ss->list.n; i++) {
        char fb[20];
        const char *uid = uid_for(ss->list.v[i].uid, fb);
        rc = mw_pop3_server_maildrop_add(ss->pop, ss->list.v[i].size, uid, strlen(uid));
        if (rc != MW_OK) {
            unlock_maildrop(ss);
            return mw_pop3_server_reply(ss->pop, 0, "SYS/TEMP", "Maildrop too large");
        }
    }
    return mw_pop3_server_accept(ss->pop);
}

/* QUIT in TRANSACTION: RFC 1939 §6, remove what was marked. */
static int on_commit(mwx_conn *c, session *ss)
{
    uint32_t m = 0;
    unsigned long failed = 0;
    while ((m = mw_pop3_server_next_deleted(ss->pop, m)) != 0) {
        if (m > ss->list.n) continue;
        if (mwx_maildir_delete(ss->dir, &ss->list.v[m - 1]) != 0 && errno != ENOENT) {
            mwx_log("%s: %s: delete %s: %s", c->peer, ss->user, ss->list.v[m - 1].file,
                    strerror(errno));
            failed++;
        } else {
            ss->ndele++;
        }
    }
    ss->result = failed ? "quit, some deletions failed" : "quit";
    if (failed) return mw_pop3_server_reply(ss->pop, 0, "SYS/TEMP", "Some deleted messages not removed");
    return mw_pop3_server_accept(ss->pop);
}

static int on_retr(session *ss, const mw_pop3_event *ev)
{
    if (ev->msg == 0 || ev->msg > ss->list.n) return mw_pop3_server_reply(ss->pop, 0, NULL, NULL);
    ss->body_fd = mwx_maildir_open(ss->dir, &ss->list.v[ev->msg - 1]);
    if (ss->body_fd < 0)
        return mw_pop3_server_reply(ss->pop, 0, "SYS/PERM", "Message no longer available");
    ss->off = ss->len = 0;
    ss->body_eof = 0;
    ss->nretr++; /* TOP too: fetchmail retrieves with TOP n 99999999 */
    return mw_pop3_server_accept(ss->pop);
}

/* Feed the open message to the engine until its output is full.
 * @return 1 progress, 0 none, -1 fatal (the message cannot be finished). */
static int pump_body(session *ss)
{
    int progress = 0;
    while (ss->body_fd >= 0) {
        if (mw_pop3_server_body_wanted(ss->pop) && !(ss->body_eof && ss->off == ss->len)) {
            mw_ssize k;
            if (ss->off == ss->len) {
                ssize_t r = read(ss->body_fd, ss->buf, sizeof ss->buf);
                if (r < 0 && errno == EINTR) continue;
                if (r < 0) return -1; /* the +OK is out: only closing is honest */
                ss->off = 0;
                ss->len = (size_t)r;
                ss->body_eof = r == 0;
                continue;
            }
            k = mw_pop3_server_body_write(ss->pop, ss->buf + ss->off, ss->len - ss->off);
            if (k < 0) return -1;
            if (k == 0) return progress; /* output full: the loop drains it first */
            ss->off += (size_t)k;
            progress = 1;
            continue;
        }
        {
            int rc = mw_pop3_server_body_end(ss->pop);
            if (rc == MW_ERR_LIMIT) return progress;
            if (rc != MW_OK) return -1;
        }
        close(ss->body_fd);
        ss->body_fd = -1;
        progress = 1;
    }
    return progress;
}

/* ------------------------------------------------------------------ */
/* Credentials                                                         */
/* ------------------------------------------------------------------ */

static int on_password(mwx_conn *c, session *ss, const pop3d_config *cfg, const mw_pop3_event *ev)
{
    const char *pw = mwx_users_password(cfg->users, (const char *)ev->user.base, ev->user.len);
    mwx_copy_slice(ss->user, sizeof ss->user, ev->user);
    if (pw && mw_pop3_server_check_secret(ss->pop, pw, strlen(pw)) == 1) {
        mwx_log("%s: authenticated as %s (%s)", c->peer, ss->user,
                ev->type == MW_POP3_EV_APOP ? "APOP" : "USER/PASS");
        return mw_pop3_server_accept(ss->pop);
    }
    mwx_log("%s: login failed for %s", c->peer, ss->user);
    ss->user[0] = '\0';
    return mw_pop3_server_reply(ss->pop, 0, "AUTH", "Invalid credentials");
}

static int on_auth(mwx_conn *c, session *ss, const pop3d_config *cfg, const mw_pop3_event *ev)
{
    mw_slice out;
    int start = ev->type == MW_POP3_EV_AUTH;
    const char *ir = (ev->flags & MW_POP3_F_INITIAL) ? ev->data.base : NULL;
    int rc =
        mwx_auth_step(&ss->sasl, cfg->sasl_opts, cfg->hostname, cfg->users, start ? &ev->arg : NULL,
                      start ? ir : ev->data.base, ev->data.len, &out, ss->user, sizeof ss->user);
    if (rc == MW_SASL_CONTINUE) return mw_pop3_server_auth_challenge(ss->pop, out.base, out.len);
    if (rc == MW_SASL_DONE) {
        mwx_log("%s: authenticated as %s (AUTH)", c->peer, ss->user);
        return mw_pop3_server_accept(ss->pop);
    }
    mwx_log("%s: authentication failed (%s)", c->peer, mw_strerror(rc));
    return mw_pop3_server_reply(ss->pop, 0, "AUTH", "Authentication failed");
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static int on_event(mwx_conn *c, session *ss, const pop3d_config *cfg, const mw_pop3_event *ev)
{
    ss->flags = ev->flags;
    switch (ev->type) {
    case MW_POP3_EV_PASS:
    case MW_POP3_EV_APOP:
        return on_password(c, ss, cfg, ev);
    case MW_POP3_EV_AUTH:
    case MW_POP3_EV_AUTH_RESPONSE:
        return on_auth(c, ss, cfg, ev);
    case MW_POP3_EV_AUTH_ABORT:
        mw_sasl_server_free(ss->sasl);
        ss->sasl = NULL;
        return MW_OK;
    case MW_POP3_EV_MAILDROP:
        return on_maildrop(c, ss, cfg);
    case MW_POP3_EV_RETR:
    case MW_POP3_EV_TOP:
        return on_retr(ss, ev);
    case MW_POP3_EV_COMMIT:
        return on_commit(c, ss);
    case MW_POP3_EV_QUIT:
        if (!ss->result) ss->result = "quit";
        return MW_OK;
    case MW_POP3_EV_STLS:
        if (ev->discarded)
            mwx_log("%s: STLS: %zu plaintext octets after the command dropped", c->peer,
                    ev->discarded);
        return MW_OK;
    default:
        return ev->paused ? mw_pop3_server_reply(ss->pop, 0, NULL, NULL) : MW_OK;
    }
}

static int sess_events(mwx_conn *c, void *user)
{
    session *ss = c->app;
    const mw_pop3_event *ev;
    int t = 0, progress = 0;
    if (ss->stopping) return -1; /* RFC 1939 §3: close without UPDATE */
    for (;;) {
        int p = pump_body(ss);
        if (p < 0) {
            ss->result = "message read error";
            return -1;
        }
        progress |= p;
        if (ss->body_fd >= 0) break; /* still sending: next() would say MW_ERR_STATE */
        t = mw_pop3_server_next(ss->pop, &ev);
        if (t <= 0) break;
        progress = 1;
        /* An answer that cannot be queued would leave the engine paused
         * for good: end the session instead. */
        if (on_event(c, ss, user, ev) != MW_OK) {
            ss->result = "local error";
            return -1;
        }
    }
    if (t < 0 && t != MW_ERR_CLOSED) {
        mwx_log("%s: engine: %s", c->peer, mw_strerror(t));
        ss->result = "engine error";
        return -1;
    }
    return progress;
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */
/* ------------------------------------------------------------------ */

/* RFC 1939 §7: a timestamp unique to this connection. */
static void set_apop_timestamp(pop3d_config *cfg, mw_pop3_server_opts *opts)
{
    char ts[256];
    snprintf(ts, sizeof ts, "<%ld.%lu.%lld@%s>", (long)getpid(), ++cfg->nsessions,
             (long long)time(NULL), cfg->hostname);
    if (mw_pop3_server_opts_set_apop_timestamp(opts, ts) != MW_OK) {
        snprintf(ts, sizeof ts, "<%ld.%lu.%lld@localhost>", (long)getpid(), cfg->nsessions,
                 (long long)time(NULL));
        mw_pop3_server_opts_set_apop_timestamp(opts, ts);
    }
}

static int sess_open(mwx_conn *c, void *user)
{
    pop3d_config *cfg = user;
    mw_pop3_server_opts *opts = c->implicit_tls ? cfg->opts_implicit : cfg->opts;
    session *ss = calloc(1, sizeof *ss);
    if (!ss) return -1;
    ss->lock_fd = ss->body_fd = -1;
    c->app = ss;
    c->ops = &mwx_pop3_server_ops;
    if (cfg->apop) set_apop_timestamp(cfg, opts);
    if (mw_pop3_server_new(NULL, opts, &ss->pop) != MW_OK) return -1;
    c->engine = ss->pop;
    return 0;
}

static void sess_stop(mwx_conn *c, void *user, int why)
{
    session *ss = c->app;
    (void)user;
    /* POP3 has no farewell reply outside a command: the next pump closes
     * the connection, and nothing marked deleted is removed. */
    ss->stopping = 1;
    ss->result = why == MWX_STOP_IDLE ? "idle timeout" : "shutdown";
}

static void sess_close(mwx_conn *c, void *user)
{
    session *ss = c->app;
    (void)user;
    if (!ss) return;
    mwx_log("%s: session user=%s tls=%s retrieved=%lu deleted=%lu result=%s", c->peer,
            ss->user[0] ? ss->user : "-", (ss->flags & MW_POP3_F_TLS) ? "yes" : "no", ss->nretr,
            ss->ndele, ss->result ? ss->result : "closed by client");
    if (ss->body_fd >= 0) close(ss->body_fd);
    unlock_maildrop(ss);
    mw_sasl_server_free(ss->sasl);
    mw_pop3_server_free(ss->pop);
    free(ss);
    c->app = NULL;
}

const mwx_handlers pop3d_handlers = {
    .open = sess_open,
    .events = sess_events,
    .stop = sess_stop,
    .close = sess_close,
    .user = NULL, /* main() sets the configuration */
};
