/*
 * mw-smtpd: one SMTP session. The engine parses and answers the protocol;
 * this file answers its decisions (recipients, AUTH, end of data) and
 * streams the body into the spool.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtpd.h"
#include "mwx_daemon.h"
#include "mwx_log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct session {
    mw_smtp_server *smtp;
    mw_sasl_server *sasl; /* an AUTH exchange in progress */
    char helo[256];
    int ehlo;           /* EHLO (not HELO): the Received field says ESMTP */
    char user[256];     /* authenticated user, "" if none */
    unsigned long ntxn; /* transactions in this session (log only) */
    smtpd_txn txn;
} session;

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* "a@b,c@d" for the log line (truncated with "..." past the buffer). */
static void join_rcpts(const mwx_strlist *l, char *out, size_t cap)
{
    size_t i, o = 0;
    out[0] = '\0';
    for (i = 0; i < l->n; i++) {
        int n = snprintf(out + o, cap - o, "%s<%s>", i ? "," : "", l->v[i]);
        if (n < 0 || (size_t)n >= cap - o) {
            snprintf(out + (cap > 4 ? cap - 4 : 0), 4, "...");
            return;
        }
        o += (size_t)n;
    }
}

static void log_txn(mwx_conn *c, session *ss, const smtpd_config *cfg, uint64_t size, int code,
                    const char *what)
{
    char rcpts[1024];
    if (cfg->quiet) return;
    join_rcpts(&ss->txn.rcpts, rcpts, sizeof rcpts);
    mwx_log("%s: from=<%s> to=%s size=%llu result=%d %s", c->peer, ss->txn.from, rcpts,
            (unsigned long long)size, code, what);
}

/* RFC 5321 §4.4 Received line; the protocol word follows RFC 3848. */
/* "192.0.2.7:51234" -> "[192.0.2.7]", "[2001:db8::7]:51234" ->
 * "[IPv6:2001:db8::7]": the address-literal of RFC 5321 §4.1.3, which is
 * what TCP-info in a Received field holds (§4.4). */
static void address_literal(const char *peer, char *out, size_t cap)
{
    const char *colon = strrchr(peer, ':');
    int len = colon ? (int)(colon - peer) : (int)strlen(peer);
    if (peer[0] == '[')
        snprintf(out, cap, "[IPv6:%.*s]", len > 2 ? len - 2 : 0, peer + 1);
    else
        snprintf(out, cap, "[%.*s]", len, peer);
}

static void received_header(mwx_conn *c, session *ss, const smtpd_config *cfg, unsigned flags,
                            char *out, size_t cap)
{
    char date[64], forpart[400] = "", addr[80];
    time_t now = time(NULL);
    struct tm tm;
    static const char *const esmtp[] = {"ESMTP", "ESMTPA", "ESMTPS", "ESMTPSA"};
    const char *proto =
        esmtp[((flags & MW_SMTP_F_TLS) ? 2 : 0) + ((flags & MW_SMTP_F_AUTHENTICATED) ? 1 : 0)];
    if (!ss->ehlo) proto = "SMTP"; /* AUTH and STARTTLS need EHLO anyway */
    localtime_r(&now, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S %z", &tm);
    address_literal(c->peer, addr, sizeof addr);
    if (ss->txn.rcpts.n == 1)
        snprintf(forpart, sizeof forpart, "\r\n\tfor <%s>", ss->txn.rcpts.v[0]);
    snprintf(out, cap, "Received: from %s (%s)\r\n\tby %s (mw-smtpd) with %s id %s%s;\r\n\t%s\r\n",
             ss->helo[0] ? ss->helo : "unknown", addr, cfg->hostname, proto, ss->txn.spool.name,
             forpart, date);
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

static int on_rcpt(session *ss, const smtpd_config *cfg, const mw_smtp_event *ev)
{
    char addr[320];
    const char *enh = NULL, *text = NULL;
    int code;
    if (ev->flags & MW_SMTP_F_POSTMASTER)
        strcpy(addr, "postmaster");
    else
        mwx_copy_slice(addr, sizeof addr, ev->path);
    code = smtpd_rcpt_check(cfg, addr, (ev->flags & MW_SMTP_F_AUTHENTICATED) != 0, &enh, &text);
    if (code) return mw_smtp_server_reply(ss->smtp, code, enh, text);
    if (mwx_strlist_push(&ss->txn.rcpts, addr, strlen(addr)) != 0) /* sink: for the log line */
        return mw_smtp_server_reply(ss->smtp, 452, "4.3.1", "Out of memory");
    return mw_smtp_server_accept(ss->smtp);
}

/* The body starts (DATA accepted, or the first BDAT chunk). */
static int begin_body(mwx_conn *c, session *ss, const smtpd_config *cfg, unsigned flags)
{
    char received[1024];
    if (cfg->sink || ss->txn.started) return 0;
    if (smtpd_body_begin(cfg, &ss->txn) != 0) return -1;
    /* The spool's name is the queue id named in the Received line. */
    received_header(c, ss, cfg, flags, received, sizeof received);
    return smtpd_body_trace(cfg, &ss->txn, received);
}

static int on_body_end(mwx_conn *c, session *ss, smtpd_config *cfg, const mw_smtp_event *ev)
{
    char text[300];
    int rc;
    ss->ntxn++;
    if (ev->reject_code) { /* the engine refused it (size, line length): already answered */
        log_txn(c, ss, cfg, ev->size, ev->reject_code, "rejected by the engine");
        smtpd_txn_reset(&ss->txn);
        return 0;
    }
    if (cfg->sink) {
        log_txn(c, ss, cfg, ev->size, 250, "discarded (sink)");
        return mw_smtp_server_accept(ss->smtp);
    }
    if (smtpd_deliver(cfg, &ss->txn) != 0) {
        log_txn(c, ss, cfg, ev->size, 451, "local error");
        smtpd_txn_reset(&ss->txn);
        return mw_smtp_server_reply(ss->smtp, 451, "4.3.0", "Local error in processing");
    }
    if (ss->txn.queued) cfg->flush_soon = 1; /* relay it within a second */
    snprintf(text, sizeof text, "Ok: queued as %s", ss->txn.spool.name);
    log_txn(c, ss, cfg, ev->size, 250, ss->txn.spool.name);
    rc = mw_smtp_server_reply(ss->smtp, 250, "2.0.0", text);
    smtpd_txn_reset(&ss->txn);
    return rc;
}

/* ------------------------------------------------------------------ */
/* AUTH through the SASL engine (docs/smtp.md, "AUTH")                 */
/* ------------------------------------------------------------------ */

static int on_auth(mwx_conn *c, session *ss, const smtpd_config *cfg, const mw_smtp_event *ev)
{
    mw_slice out;
    int start = ev->type == MW_SMTP_EV_AUTH;
    const char *ir = (ev->flags & MW_SMTP_F_INITIAL) ? ev->data.base : NULL;
    int rc =
        mwx_auth_step(&ss->sasl, cfg->sasl_opts, cfg->hostname, cfg->users, start ? &ev->arg : NULL,
                      start ? ir : ev->data.base, ev->data.len, &out, ss->user, sizeof ss->user);
    if (rc == MW_SASL_CONTINUE) return mw_smtp_server_auth_challenge(ss->smtp, out.base, out.len);
    if (rc == MW_SASL_DONE) {
        mwx_log("%s: authenticated as %s", c->peer, ss->user);
        return mw_smtp_server_reply(ss->smtp, 235, NULL, NULL);
    }
    mwx_log("%s: authentication failed (%s)", c->peer, mw_strerror(rc));
    return mw_smtp_server_reply(ss->smtp, 535, "5.7.8", "Authentication credentials invalid");
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static int on_event(mwx_conn *c, session *ss, smtpd_config *cfg, const mw_smtp_event *ev)
{
    switch (ev->type) {
    case MW_SMTP_EV_HELO:
        smtpd_txn_reset(&ss->txn); /* HELO/EHLO reset the transaction (§4.1.4) */
        mwx_copy_slice(ss->helo, sizeof ss->helo, ev->arg);
        ss->ehlo = ev->verb.len == 4 && (ev->verb.base[0] == 'E' || ev->verb.base[0] == 'e');
        return mw_smtp_server_accept(ss->smtp);
    case MW_SMTP_EV_MAIL:
        smtpd_txn_reset(&ss->txn);
        mwx_copy_slice(ss->txn.from, sizeof ss->txn.from, ev->path);
        return mw_smtp_server_accept(ss->smtp);
    case MW_SMTP_EV_RCPT:
        return on_rcpt(ss, cfg, ev);
    case MW_SMTP_EV_DATA:
        if (begin_body(c, ss, cfg, ev->flags) != 0)
            return mw_smtp_server_reply(ss->smtp, 451, "4.3.0", "Cannot store the message now");
        return mw_smtp_server_accept(ss->smtp);
    case MW_SMTP_EV_BDAT: /* no pause: a failure is answered at the end */
        (void)begin_body(c, ss, cfg, ev->flags);
        return MW_OK;
    case MW_SMTP_EV_BODY:
        if (ss->txn.spool.fd >= 0 &&
            mwx_spool_write(&ss->txn.spool, ev->data.base, ev->data.len) != 0)
            ss->txn.spool_failed = 1;
        return MW_OK;
    case MW_SMTP_EV_BODY_END:
        return on_body_end(c, ss, cfg, ev);
    case MW_SMTP_EV_RSET:
        smtpd_txn_reset(&ss->txn);
        return MW_OK;
    case MW_SMTP_EV_STARTTLS:
        if (ev->discarded)
            mwx_log("%s: STARTTLS: %zu plaintext octets after the command dropped", c->peer,
                    ev->discarded);
        smtpd_txn_reset(&ss->txn);
        ss->user[0] = '\0';
        return MW_OK;
    case MW_SMTP_EV_AUTH:
    case MW_SMTP_EV_AUTH_RESPONSE:
        return on_auth(c, ss, cfg, ev);
    case MW_SMTP_EV_AUTH_ABORT:
        mw_sasl_server_free(ss->sasl);
        ss->sasl = NULL;
        return MW_OK;
    default: /* QUIT and anything informational */
        return ev->paused ? mw_smtp_server_accept(ss->smtp) : MW_OK;
    }
}

static int sess_events(mwx_conn *c, void *user)
{
    session *ss = c->app;
    const mw_smtp_event *ev;
    int t, progress = 0;
    while ((t = mw_smtp_server_next(ss->smtp, &ev)) > 0) {
        progress = 1;
        /* An answer that cannot be queued would leave the engine paused
         * for good: end the session instead. */
        if (on_event(c, ss, user, ev) != MW_OK) return -1;
    }
    if (t < 0 && t != MW_ERR_CLOSED) {
        mwx_log("%s: engine: %s", c->peer, mw_strerror(t));
        return -1;
    }
    return progress;
}

/* ------------------------------------------------------------------ */
/* Lifecycle                                                           */
/* ------------------------------------------------------------------ */

static int sess_open(mwx_conn *c, void *user)
{
    smtpd_config *cfg = user;
    session *ss = calloc(1, sizeof *ss);
    if (!ss) return -1;
    ss->txn.spool.fd = -1;
    c->app = ss;
    c->ops = &mwx_smtp_server_ops;
    if (mw_smtp_server_new(NULL, c->implicit_tls ? cfg->opts_implicit : cfg->opts, &ss->smtp) !=
        MW_OK)
        return -1;
    c->engine = ss->smtp;
    return 0;
}

static void sess_stop(mwx_conn *c, void *user, int why)
{
    session *ss = c->app;
    (void)user;
    /* 421 is allowed at any time and makes the engine close after it. */
    mw_smtp_server_reply(ss->smtp, 421, "4.4.2",
                         why == MWX_STOP_IDLE ? "Idle timeout, closing" : "Shutting down");
}

static void sess_close(mwx_conn *c, void *user)
{
    session *ss = c->app;
    (void)user;
    if (!ss) return;
    smtpd_txn_reset(&ss->txn); /* an unfinished message leaves nothing behind */
    mw_sasl_server_free(ss->sasl);
    mw_smtp_server_free(ss->smtp);
    free(ss);
    c->app = NULL;
}

const mwx_handlers smtpd_handlers = {
    .open = sess_open,
    .events = sess_events,
    .stop = sess_stop,
    .close = sess_close,
    .user = NULL, /* main() sets the configuration */
};
