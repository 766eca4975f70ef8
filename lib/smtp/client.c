/*
 * SMTP/LMTP client engine: options, session life cycle, input and output
 * plumbing, and the reply dispatcher.
 *
 * Every command the engine queues pushes one entry on the `wait` ring
 * (LMTP's final replies push one per accepted recipient); each reply read
 * pops the head and is interpreted by its kind (RFC 2920 §3.1: replies
 * are matched by counting, never by their codes). Events without a reply
 * (READY, SEND_BODY, DONE) go through the small `due` queue so that one
 * call of next() reports exactly one event. The envelope and body code is
 * in client_body.c, the reply reader in reply.c.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_client_internal.h"

#include <stdio.h>

/* ---- options ----------------------------------------------------------- */

mw_smtp_client_opts *mw_smtp_client_opts_new(const mw_mem *mem)
{
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_smtp_client_opts *o = mw__calloc(&m, 1, sizeof *o);
    if (!o) return NULL;
    o->mem = m;
    memcpy(o->hostname, "localhost", sizeof "localhost");
    o->tls_policy = MW_SMTP_TLS_OPPORTUNISTIC;
    o->max_line = 512;
    o->max_reply = 64u * 1024u;
    o->max_rcpts = 1000;
    o->out_max = 256u * 1024u;
    o->chunk = 64u * 1024u;
    return o;
}

void mw_smtp_client_opts_free(mw_smtp_client_opts *o)
{
    if (!o) return;
    mw_mem m = o->mem;
    mw__free(&m, o);
}

int mw_smtp_client_opts_set_hostname(mw_smtp_client_opts *o, const char *name)
{
    return o ? mw__smtp_copy_hostname(o->hostname, name) : MW_ERR_INVALID;
}

#define CLIENT_FLAGS_ALL 0x3fu

int mw_smtp_client_opts_set_flags(mw_smtp_client_opts *o, unsigned flags, int on)
{
    if (!o || (flags & ~CLIENT_FLAGS_ALL)) return MW_ERR_INVALID;
    if (on) o->flags |= flags;
    else o->flags &= ~flags;
    return MW_OK;
}

int mw_smtp_client_opts_set_starttls(mw_smtp_client_opts *o, int policy)
{
    if (!o || policy < MW_SMTP_TLS_NONE || policy > MW_SMTP_TLS_REQUIRED) return MW_ERR_INVALID;
    o->tls_policy = policy;
    return MW_OK;
}

int mw_smtp_client_opts_set_reply_limits(mw_smtp_client_opts *o, size_t line, size_t reply)
{
    if (!o || line < 512 || line > 65536 || reply < line || reply > 1024u * 1024u) return MW_ERR_INVALID;
    o->max_line = line;
    o->max_reply = reply;
    return MW_OK;
}

int mw_smtp_client_opts_set_limits(mw_smtp_client_opts *o, size_t max_rcpts, size_t out_max,
                                   size_t chunk)
{
    if (!o || max_rcpts < 1 || max_rcpts > 100000 || out_max < 4096 ||
        out_max > 64u * 1024u * 1024u || chunk < 512 || chunk > out_max / 2)
        return MW_ERR_INVALID;
    o->max_rcpts = max_rcpts;
    o->out_max = out_max;
    o->chunk = chunk;
    return MW_OK;
}

/* ---- life cycle ----------------------------------------------------------- */

int mw__smtpc_set_fatal(mw_smtp_client *c, int rc)
{
    return mw__io_fail(&c->io, rc);
}

int mw__smtpc_expect(mw_smtp_client *c, int kind, int flag, size_t index, uint64_t size)
{
    if (c->wcount == c->wcap) return MW_ERR_LIMIT;
    mw__smtpc_wait *w = &c->wait[(c->whead + c->wcount) % c->wcap];
    w->kind = (uint8_t)kind;
    w->flag = (uint8_t)flag;
    w->index = (uint32_t)index;
    w->size = size;
    c->wcount++;
    return MW_OK;
}

/* Queue an engine-built command line and its expected reply. */
static int command(mw_smtp_client *c, const char *line, int kind, int flag)
{
    size_t n = strlen(line);
    if (c->wcount == c->wcap || n > mw__outq_room(&c->io.out)) return MW_ERR_LIMIT;
    int rc = mw__outq_append(&c->io.out, line, n);
    if (rc) return rc;
    return mw__smtpc_expect(c, kind, flag, 0, 0);
}

static int is_lmtp(const mw_smtp_client *c) { return (c->o.flags & MW_SMTP_CLIENT_LMTP) != 0; }

static int send_hello(mw_smtp_client *c, int helo)
{
    char line[MW__SMTP_HOST_MAX + 16];
    const char *verb = helo ? "HELO" : is_lmtp(c) ? "LHLO" : "EHLO";
    snprintf(line, sizeof line, "%s %s\r\n", verb, c->o.hostname);
    return command(c, line, helo ? MW__SMTPC_K_HELO : MW__SMTPC_K_EHLO, 0);
}

int mw_smtp_client_new(const mw_mem *mem, const mw_smtp_client_opts *opts, mw_smtp_client **out)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_smtp_client_opts defaults;
    if (!opts) {
        mw_smtp_client_opts *d = mw_smtp_client_opts_new(&m);
        if (!d) return MW_ERR_NOMEM;
        defaults = *d;
        mw_smtp_client_opts_free(d);
        opts = &defaults;
    }
    mw_smtp_client *c = mw__calloc(&m, 1, sizeof *c);
    if (!c) return MW_ERR_NOMEM;
    c->mem = m;
    c->o = *opts;
    c->o.mem = m;
    c->wcap = c->o.max_rcpts + 64;
    c->wait = mw__calloc(&c->mem, c->wcap, sizeof *c->wait);
    c->scratch = mw__malloc(&c->mem, c->o.max_line);
    /* The input buffer holds at least two reply lines; a reply is copied out
     * line by line, so it needs no more. */
    mw__io_init(&c->io, &c->mem, c->o.max_line * 2 > 4096 ? c->o.max_line * 2 : 4096, c->o.out_max);
    mw__io_bind(&c->io, &c->phase, MW__SMTPC_PH_HANDOFF, MW__SMTPC_PH_CLOSED, MW__IO_FATAL_CLOSES);
    if (!c->wait || !c->scratch) {
        mw_smtp_client_free(c);
        return MW_ERR_NOMEM;
    }
    c->tls = (c->o.flags & MW_SMTP_CLIENT_IMPLICIT_TLS) != 0;
    c->phase = MW__SMTPC_PH_RUN;
    mw__smtpc_expect(c, MW__SMTPC_K_GREETING, 0, 0, 0);
    *out = c;
    return MW_OK;
}

void mw_smtp_client_free(mw_smtp_client *c)
{
    if (!c) return;
    mw_mem m = c->mem;
    mw__io_free(&c->io);
    mw__free(&m, c->wait);
    mw__free(&m, c->scratch);
    mw__free(&m, c->rbuf);
    mw__free(&m, c->store);
    mw__free(&m, c->lines);
    mw__free(&m, c->chunk);
    mw__free(&m, c);
}

/* ---- input and output ----------------------------------------------- */

/* mw_smtp_client_feed, _recv_buf, _recv_ack, _eof, _out_buf and _out_ack:
 * the transport glue every engine shares (lib/common/engine_io.c). A byte
 * that reaches the client while it is stopped at the TLS handoff fails it
 * with MW_ERR_TLS_INJECTION (DESIGN rule 1). */
MW__ENGINE_IO_API(mw_smtp_client, mw_smtp_client)

unsigned mw_smtp_client_state(const mw_smtp_client *c)
{
    if (!c) return 0;
    unsigned out = mw__outq_len(&c->io.out) ? MW_WANT_WRITE : 0u;
    if (c->io.fatal || c->phase == MW__SMTPC_PH_CLOSED) return MW_CLOSED | out;
    if (c->phase == MW__SMTPC_PH_HANDOFF) return MW_TLS_HANDOFF | out;
    /* Input is always welcome: a 421 may come at any time (RFC 5321 §3.8). */
    if (!c->io.eof && mw__inbuf_len(&c->io.in) < c->io.in.max) out |= MW_WANT_READ;
    return out;
}

unsigned mw_smtp_client_extensions(const mw_smtp_client *c, uint64_t *size, mw_slice *auth)
{
    if (size) *size = c ? c->size_limit : 0;
    if (auth) {
        auth->base = c ? c->auth_list : NULL;
        auth->len = c ? c->auth_len : 0;
    }
    return c ? c->ext : 0;
}

unsigned mw_smtp_client_timeout(const mw_smtp_client *c)
{
    if (!c || c->phase != MW__SMTPC_PH_RUN) return 0;
    if (!c->wcount) return c->body_open ? MW_SMTP_TIMEOUT_DATA_BLOCK : 0;
    switch (c->wait[c->whead].kind) {
    case MW__SMTPC_K_GREETING: return MW_SMTP_TIMEOUT_GREETING;
    case MW__SMTPC_K_RCPT: return MW_SMTP_TIMEOUT_RCPT;
    case MW__SMTPC_K_DATA: return MW_SMTP_TIMEOUT_DATA_INIT;
    case MW__SMTPC_K_BDAT: return MW_SMTP_TIMEOUT_DATA_BLOCK;
    case MW__SMTPC_K_FINAL: return MW_SMTP_TIMEOUT_DATA_TERM;
    default: return MW_SMTP_TIMEOUT_MAIL;
    }
}

int mw_smtp_client_tls_started(mw_smtp_client *c)
{
    if (!c) return MW_ERR_INVALID;
    if (c->io.fatal) return c->io.fatal;
    if (c->phase != MW__SMTPC_PH_HANDOFF) return MW_ERR_STATE;
    /* RFC 3207 §4.2: forget what the server said before TLS, ask again. */
    c->ext = 0;
    c->size_limit = 0;
    c->auth_len = 0;
    c->auth_list[0] = 0;
    c->tls = 1;
    c->ready = 0;
    c->phase = MW__SMTPC_PH_RUN;
    int rc = send_hello(c, 0);
    return rc ? mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc) : MW_OK;
}

/* ---- events ---------------------------------------------------------------- */

static void due(mw_smtp_client *c, int type)
{
    if (c->ndue < sizeof c->due / sizeof c->due[0]) c->due[c->ndue++] = type;
}

static int event(mw_smtp_client *c, int type)
{
    c->ev.type = type;
    c->ev.flags |= (c->tls ? MW_SMTP_CLIENT_F_TLS : 0u) | (c->authed ? MW_SMTP_CLIENT_F_AUTHED : 0u);
    return type;
}

static void clear_event(mw_smtp_client *c)
{
    memset(&c->ev, 0, sizeof c->ev);
}

static int reply_event(mw_smtp_client *c, int type)
{
    c->ev.code = c->rcode;
    c->ev.text.base = (const char *)c->rbuf;
    c->ev.text.len = c->rlen;
    c->ev.lines = c->last_lines;
    c->ev.enhanced = mw__smtpc_enhanced(c->rcode, (const char *)c->rbuf, c->rlen);
    return event(c, type);
}

static int synthetic(mw_smtp_client *c, int type)
{
    switch (type) {
    case MW_SMTP_CLIENT_EV_READY:
        c->ready = 1;
        c->ev.extensions = c->ext;
        c->ev.size = c->size_limit;
        break;
    case MW_SMTP_CLIENT_EV_SEND_BODY:
        c->ev.accepted = c->accepted;
        if (c->bdat) c->ev.flags |= MW_SMTP_CLIENT_F_BDAT;
        break;
    case MW_SMTP_CLIENT_EV_DONE:
        c->ev.accepted = c->accepted;
        c->ev.delivered = c->delivered;
        if (c->bdat) c->ev.flags |= MW_SMTP_CLIENT_F_BDAT;
        c->txn = 0;
        c->body_open = 0;
        break;
    default: break;
    }
    return event(c, type);
}

/* Polite end after a failure the caller cannot fix in this session. */
static int give_up(mw_smtp_client *c, int err)
{
    command(c, "QUIT\r\n", MW__SMTPC_K_QUIT, 0);
    c->io.fatal = err;
    c->phase = MW__SMTPC_PH_CLOSED;
    return err;
}

static int closed_by_421(mw_smtp_client *c, int type)
{
    c->ev.flags |= MW_SMTP_CLIENT_F_CLOSED;
    c->phase = MW__SMTPC_PH_CLOSED;
    return reply_event(c, type);
}

static int after_hello(mw_smtp_client *c)
{
    int pol = c->o.tls_policy;
    if (!c->tls && pol != MW_SMTP_TLS_NONE && (c->ext & MW_SMTP_EXT_STARTTLS))
        return command(c, "STARTTLS\r\n", MW__SMTPC_K_STARTTLS, 0);
    if (!c->tls && pol == MW_SMTP_TLS_REQUIRED) return MW_ERR_UNSUPPORTED;
    due(c, MW_SMTP_CLIENT_EV_READY);
    return MW_OK;
}

/* The event of this reply goes out now; a failure of what follows becomes
 * the sticky error of the next call. */
static int then(mw_smtp_client *c, int type, int rc)
{
    if (rc == MW_ERR_UNSUPPORTED) give_up(c, rc);
    else if (rc) mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc);
    return reply_event(c, type);
}

static int on_greeting(mw_smtp_client *c)
{
    int code = c->rcode;
    if (code == 421) return closed_by_421(c, MW_SMTP_CLIENT_EV_GREETING);
    if (code / 100 != 2) return then(c, MW_SMTP_CLIENT_EV_GREETING, command(c, "QUIT\r\n", MW__SMTPC_K_QUIT, 0));
    return then(c, MW_SMTP_CLIENT_EV_GREETING, send_hello(c, 0));
}

static int on_hello(mw_smtp_client *c, int helo)
{
    int code = c->rcode;
    if (helo) c->ev.flags |= MW_SMTP_CLIENT_F_HELO;
    if (code == 421) return closed_by_421(c, MW_SMTP_CLIENT_EV_EHLO);
    if (code / 100 == 2) {
        if (helo) {
            mw__smtpc_parse_ehlo(c, "", 0);
        } else {
            mw__smtpc_parse_ehlo(c, (const char *)c->rbuf, c->rlen);
        }
        c->ev.extensions = c->ext;
        c->ev.size = c->size_limit;
        return then(c, MW_SMTP_CLIENT_EV_EHLO, after_hello(c));
    }
    /* RFC 5321 §4.1.4 / §3.2: an old server refuses EHLO; HELO still works,
     * but not with STARTTLS required, and never in LMTP (RFC 2033 §4.1). */
    if (!helo && !is_lmtp(c) && (code == 500 || code == 502) &&
        (c->tls || c->o.tls_policy != MW_SMTP_TLS_REQUIRED))
        return then(c, MW_SMTP_CLIENT_EV_EHLO, send_hello(c, 1));
    return then(c, MW_SMTP_CLIENT_EV_EHLO, MW_ERR_UNSUPPORTED);
}

static int on_starttls(mw_smtp_client *c)
{
    int code = c->rcode;
    if (code == 421) return closed_by_421(c, MW_SMTP_CLIENT_EV_STARTTLS);
    if (code / 100 == 2) {
        /* DESIGN.md rule 1: bytes after the 220 are an attacker's plaintext
         * (CVE-2011-0411 class). The event is reported in every case so the
         * log is the same however the input was cut; the error follows. */
        if (mw__inbuf_len(&c->io.in)) {
            reply_event(c, MW_SMTP_CLIENT_EV_STARTTLS);
            mw__smtpc_set_fatal(c, MW_ERR_TLS_INJECTION);
            return MW_SMTP_CLIENT_EV_STARTTLS;
        }
        c->phase = MW__SMTPC_PH_HANDOFF;
        return reply_event(c, MW_SMTP_CLIENT_EV_STARTTLS);
    }
    if (c->o.tls_policy == MW_SMTP_TLS_REQUIRED) return then(c, MW_SMTP_CLIENT_EV_STARTTLS, MW_ERR_UNSUPPORTED);
    due(c, MW_SMTP_CLIENT_EV_READY);
    return reply_event(c, MW_SMTP_CLIENT_EV_STARTTLS);
}

/* ---- AUTH (RFC 4954) --------------------------------------------------------- */

static int auth_line(mw_smtp_client *c, const char *prefix, mw_slice data, int empty_as_eq)
{
    size_t plen = strlen(prefix);
    size_t b64 = 4 * ((data.len + 2) / 3);
    size_t need = plen + (b64 ? b64 : 1) + 2, got;
    unsigned char *w = mw__outq_reserve(&c->io.out, need, &got);
    if (!w) return MW_ERR_NOMEM;
    memcpy(w, prefix, plen);
    mw_ssize e = mw_b64_encode(data.base, data.len, (char *)w + plen, b64, 0);
    if (e < 0) return MW_ERR_NOMEM; /* cannot happen: b64 octets were reserved */
    size_t o = plen + (size_t)e;
    if (!data.len && empty_as_eq) w[o++] = '='; /* RFC 4954 §4: empty initial response */
    w[o++] = '\r';
    w[o++] = '\n';
    mw__outq_commit(&c->io.out, o);
    return MW_OK;
}

int mw_smtp_client_auth(mw_smtp_client *c, mw_sasl_client *sasl, int mech)
{
    if (!c || !sasl) return MW_ERR_INVALID;
    if (c->io.fatal) return c->io.fatal;
    const char *name = mw_sasl_mech_name(mech);
    if (!name || mech == MW_SASL_MECH_NONE) return MW_ERR_INVALID;
    if (!c->ready || c->txn || c->wcount || c->ndue || c->authed || c->phase != MW__SMTPC_PH_RUN)
        return MW_ERR_STATE;
    if (!(c->ext & MW_SMTP_EXT_AUTH) || !mw__in_list(c->auth_list, name, strlen(name)))
        return MW_ERR_UNSUPPORTED;
    int plaintext = mech == MW_SASL_MECH_PLAIN || mech == MW_SASL_MECH_LOGIN ||
                    mech == MW_SASL_MECH_XOAUTH2 || mech == MW_SASL_MECH_OAUTHBEARER;
    if (plaintext && !c->tls && !(c->o.flags & MW_SMTP_CLIENT_PLAINTEXT_AUTH)) return MW_ERR_UNSUPPORTED;
    mw_slice ir;
    int rc = mw_sasl_client_start(sasl, &ir);
    if (rc < 0) return rc;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "AUTH %s ", name);
    size_t line = strlen(prefix) + 4 * ((ir.len + 2) / 3) + (ir.len ? 0 : 1) + 2;
    if (!ir.base || line > MW__SMTPC_CMD_LINE) {
        /* No initial response, or one that would overrun the command line
         * (RFC 4954 §4): send it after the server's empty 334. */
        snprintf(prefix, sizeof prefix, "AUTH %s\r\n", name);
        rc = mw__outq_puts(&c->io.out, prefix);
    } else {
        rc = auth_line(c, prefix, ir, 1);
    }
    if (rc == MW_OK) rc = mw__smtpc_expect(c, MW__SMTPC_K_AUTH, 0, 0, 0);
    if (rc) return mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc);
    c->sasl = sasl;
    c->sasl_error = MW_OK;
    return MW_OK;
}

int mw_smtp_client_auth_choose(const mw_smtp_client *c, unsigned client_mask)
{
    if (!c) return MW_ERR_INVALID;
    if (!(c->ext & MW_SMTP_EXT_AUTH) || !c->auth_len) return MW_ERR_UNSUPPORTED;
    unsigned flags = (c->tls ? MW_SASL_TLS_ACTIVE : 0u) |
                     ((c->o.flags & MW_SMTP_CLIENT_PLAINTEXT_AUTH) ? MW_SASL_ALLOW_PLAINTEXT : 0u);
    return mw_sasl_choose(c->auth_list, c->auth_len, client_mask, flags);
}

static int on_auth(mw_smtp_client *c)
{
    int rc;
    if (c->rcode == 334 && c->last_lines == 1 && c->sasl && c->sasl_error == MW_OK) {
        /* A challenge: answer it, or cancel with "*" (RFC 4954 §4) when the
         * mechanism refuses it; no event either way. */
        size_t n = c->rlen < c->o.max_line ? c->rlen : c->o.max_line;
        /* RFC 4954 §4: strict base64, no line breaks or foreign octets. */
        mw_ssize dl = n ? mw_b64_decode((const char *)c->rbuf, n, c->scratch, c->o.max_line, 0, NULL) : 0;
        mw_slice out = {NULL, 0};
        rc = dl < 0 ? MW_ERR_SYNTAX : mw_sasl_client_step(c->sasl, c->scratch, (size_t)dl, &out);
        if (rc < 0) {
            c->sasl_error = rc;
            rc = mw__outq_puts(&c->io.out, "*\r\n");
        } else {
            rc = auth_line(c, "", out, 0);
        }
        if (rc == MW_OK) rc = mw__smtpc_expect(c, MW__SMTPC_K_AUTH, 0, 0, 0);
        return rc ? mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc) : 0;
    }
    if (c->rcode == 334) {
        /* A challenge after we cancelled, or a multi-line one: the server
         * is out of step. Cancel (again). */
        if (c->sasl_error == MW_OK) c->sasl_error = MW_ERR_PROTOCOL;
        rc = mw__outq_puts(&c->io.out, "*\r\n");
        if (rc == MW_OK) rc = mw__smtpc_expect(c, MW__SMTPC_K_AUTH, 0, 0, 0);
        return rc ? mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc) : 0;
    }
    if (c->rcode == 235 && c->sasl_error == MW_OK) {
        /* The mechanism must agree: SCRAM's server proof was checked. */
        rc = mw_sasl_client_finish(c->sasl, NULL, 0);
        c->ev.error = rc;
        c->authed = rc == MW_OK;
    } else {
        c->ev.error = c->sasl_error ? c->sasl_error : MW_ERR_AUTH;
    }
    c->sasl = NULL;
    if (c->rcode == 421) return closed_by_421(c, MW_SMTP_CLIENT_EV_AUTH);
    return reply_event(c, MW_SMTP_CLIENT_EV_AUTH);
}

/* ---- simple commands ----------------------------------------------------------- */

static int idle(const mw_smtp_client *c)
{
    return c->ready && !c->txn && !c->wcount && !c->ndue && c->phase == MW__SMTPC_PH_RUN;
}

static int simple(mw_smtp_client *c, const char *line, int kind)
{
    if (!c) return MW_ERR_INVALID;
    if (c->io.fatal) return c->io.fatal;
    if (!idle(c)) return MW_ERR_STATE;
    int rc = command(c, line, kind, 0);
    return rc ? mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc) : MW_OK;
}

int mw_smtp_client_rset(mw_smtp_client *c) { return simple(c, "RSET\r\n", MW__SMTPC_K_RSET); }
int mw_smtp_client_noop(mw_smtp_client *c) { return simple(c, "NOOP\r\n", MW__SMTPC_K_NOOP); }

int mw_smtp_client_vrfy(mw_smtp_client *c, const char *arg)
{
    if (!c || !arg) return MW_ERR_INVALID;
    size_t n = strlen(arg);
    if (n == 0 || n > 500) return MW_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)arg[i] < ' ' || arg[i] == 127) return MW_ERR_INVALID;
    char line[520];
    snprintf(line, sizeof line, "VRFY %s\r\n", arg);
    return simple(c, line, MW__SMTPC_K_VRFY);
}

int mw_smtp_client_quit(mw_smtp_client *c)
{
    if (!c) return MW_ERR_INVALID;
    if (c->io.fatal) return c->io.fatal;
    if (c->wcount || c->txn || c->phase != MW__SMTPC_PH_RUN) return MW_ERR_STATE;
    c->ndue = 0;
    int rc = command(c, "QUIT\r\n", MW__SMTPC_K_QUIT, 0);
    return rc ? mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc) : MW_OK;
}

/* ---- the transaction's replies ----------------------------------------------------- */

static int txn_rset(mw_smtp_client *c)
{
    int rc = command(c, "RSET\r\n", MW__SMTPC_K_RSET, 1);
    return rc ? mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc) : MW_OK;
}

/* All RCPT replies are in: go on with DATA (already sent when pipelined),
 * the body (BDAT), or end the transaction when nobody was accepted. */
static void envelope_done(mw_smtp_client *c)
{
    if (c->bdat) {
        if (c->accepted) {
            c->body_open = 1;
            due(c, MW_SMTP_CLIENT_EV_SEND_BODY);
        } else {
            txn_rset(c);
        }
    } else if (!c->pipelining) {
        if (c->accepted) c->send_limit = c->nlines; /* release DATA */
        else txn_rset(c);
    }
}

static int on_mail(mw_smtp_client *c)
{
    c->mail_ok = c->rcode / 100 == 2;
    if (!c->pipelining) {
        if (c->mail_ok) c->send_limit++;
        else due(c, MW_SMTP_CLIENT_EV_DONE);
    }
    return reply_event(c, MW_SMTP_CLIENT_EV_MAIL);
}

static int on_rcpt(mw_smtp_client *c, const mw__smtpc_wait *w)
{
    mw__smtpc_line *l = &c->lines[w->index];
    if (c->rcode / 100 == 2 && c->mail_ok) {
        l->accepted = 1;
        c->accepted++;
    }
    c->ev.rcpt_index = w->index - 1;
    c->ev.rcpt.base = c->store + l->addr_off;
    c->ev.rcpt.len = l->addr_len;
    c->rcpt_replies++;
    if (c->rcpt_replies == c->nrcpts) envelope_done(c);
    else if (!c->pipelining) c->send_limit++;
    return reply_event(c, MW_SMTP_CLIENT_EV_RCPT);
}

static int on_data(mw_smtp_client *c)
{
    c->ev.accepted = c->accepted;
    if (c->rcode == 354) {
        if (c->accepted) {
            c->body_open = 1;
            mw_dotstuff_init(&c->dot, 0);
            c->held_cr = c->prev_cr = 0;
            due(c, MW_SMTP_CLIENT_EV_SEND_BODY);
        } else {
            /* RFC 2920 §3.1: a 354 with no valid recipient gets a lone
             * "." whose reply is to be ignored. */
            c->finals_due = 1;
            int rc = command(c, ".\r\n", MW__SMTPC_K_FINAL, 1);
            if (rc) mw__smtpc_set_fatal(c, rc == MW_ERR_LIMIT ? MW_ERR_NOMEM : rc);
        }
    } else if (c->mail_ok) {
        txn_rset(c); /* RFC 2920 §3.1: DATA refused, the client issues RSET */
    } else {
        due(c, MW_SMTP_CLIENT_EV_DONE);
    }
    return reply_event(c, MW_SMTP_CLIENT_EV_DATA);
}

static int on_final(mw_smtp_client *c, const mw__smtpc_wait *w)
{
    if (w->flag) {
        c->ev.flags |= MW_SMTP_CLIENT_F_EMPTY_BODY;
    } else {
        if (c->rcode / 100 == 2) c->delivered++;
        if (is_lmtp(c) && w->index) {
            const mw__smtpc_line *l = &c->lines[w->index];
            c->ev.rcpt_index = w->index - 1;
            c->ev.rcpt.base = c->store + l->addr_off;
            c->ev.rcpt.len = l->addr_len;
        }
    }
    if (c->bdat) c->ev.flags |= MW_SMTP_CLIENT_F_BDAT;
    if (--c->finals_due == 0) {
        c->ev.flags |= MW_SMTP_CLIENT_F_LAST;
        due(c, MW_SMTP_CLIENT_EV_DONE);
    }
    return reply_event(c, MW_SMTP_CLIENT_EV_MESSAGE);
}

/* ---- next ------------------------------------------------------------------------- */

static int dispatch(mw_smtp_client *c, mw__smtpc_wait w)
{
    switch (w.kind) {
    case MW__SMTPC_K_GREETING: return on_greeting(c);
    case MW__SMTPC_K_EHLO: return on_hello(c, 0);
    case MW__SMTPC_K_HELO: return on_hello(c, 1);
    case MW__SMTPC_K_STARTTLS: return on_starttls(c);
    case MW__SMTPC_K_AUTH: return on_auth(c);
    case MW__SMTPC_K_MAIL: return on_mail(c);
    case MW__SMTPC_K_RCPT: return on_rcpt(c, &w);
    case MW__SMTPC_K_DATA: return on_data(c);
    case MW__SMTPC_K_BDAT:
        c->ev.size = w.size;
        c->ev.flags |= MW_SMTP_CLIENT_F_BDAT;
        return reply_event(c, MW_SMTP_CLIENT_EV_BDAT);
    case MW__SMTPC_K_FINAL: return on_final(c, &w);
    case MW__SMTPC_K_RSET:
        if (w.flag) due(c, MW_SMTP_CLIENT_EV_DONE);
        return reply_event(c, MW_SMTP_CLIENT_EV_RSET);
    case MW__SMTPC_K_NOOP: return reply_event(c, MW_SMTP_CLIENT_EV_NOOP);
    case MW__SMTPC_K_VRFY: return reply_event(c, MW_SMTP_CLIENT_EV_VRFY);
    case MW__SMTPC_K_QUIT:
        c->ev.flags |= MW_SMTP_CLIENT_F_CLOSED;
        c->phase = MW__SMTPC_PH_CLOSED;
        return reply_event(c, MW_SMTP_CLIENT_EV_QUIT);
    default: return mw__smtpc_set_fatal(c, MW_ERR_PROTOCOL);
    }
}

/* A 421 may come instead of any reply (RFC 5321 §3.8): the session ends.
 * The transaction's pending events are dropped with it. */
static int maybe_421(mw_smtp_client *c, const mw__smtpc_wait *w)
{
    if (c->rcode != 421 || w->kind == MW__SMTPC_K_QUIT) return 0;
    static const int type_of[] = {
        0, MW_SMTP_CLIENT_EV_GREETING, MW_SMTP_CLIENT_EV_EHLO, MW_SMTP_CLIENT_EV_EHLO,
        MW_SMTP_CLIENT_EV_STARTTLS, MW_SMTP_CLIENT_EV_AUTH, MW_SMTP_CLIENT_EV_MAIL,
        MW_SMTP_CLIENT_EV_RCPT, MW_SMTP_CLIENT_EV_DATA, MW_SMTP_CLIENT_EV_BDAT,
        MW_SMTP_CLIENT_EV_MESSAGE, MW_SMTP_CLIENT_EV_RSET, MW_SMTP_CLIENT_EV_NOOP,
        MW_SMTP_CLIENT_EV_VRFY, MW_SMTP_CLIENT_EV_QUIT};
    if (w->kind == MW__SMTPC_K_AUTH) c->ev.error = MW_ERR_AUTH;
    if (w->kind == MW__SMTPC_K_RCPT) {
        c->ev.rcpt_index = w->index - 1;
        c->ev.rcpt.base = c->store + c->lines[w->index].addr_off;
        c->ev.rcpt.len = c->lines[w->index].addr_len;
    }
    c->ndue = 0;
    c->wcount = 0;
    c->txn = c->body_open = 0;
    c->sasl = NULL;
    return closed_by_421(c, type_of[w->kind]);
}

/* Read and interpret one reply. @return an event type, 0 (need input, or
 * an AUTH challenge was answered without an event), or an error. */
static int next_reply(mw_smtp_client *c, int *answered)
{
    int rc = mw__smtpc_pump(c);
    if (rc) return mw__smtpc_set_fatal(c, rc);
    rc = mw__smtpc_read_reply(c);
    if (rc < 0) return mw__smtpc_set_fatal(c, rc);
    if (rc == 0) {
        if (c->io.eof && (c->wcount || mw__inbuf_len(&c->io.in)))
            return mw__smtpc_set_fatal(c, MW_ERR_CLOSED);
        if (c->io.eof) { /* the server went away while idle: nothing more can happen */
            c->phase = MW__SMTPC_PH_CLOSED;
            return MW_ERR_CLOSED;
        }
        return 0;
    }
    c->last_lines = c->rlines;
    c->rlines = 0; /* the next reply starts fresh; rbuf stays for the event */
    if (!c->wcount) {
        if (c->rcode != 421) return mw__smtpc_set_fatal(c, MW_ERR_PROTOCOL);
        c->ndue = 0;
        return closed_by_421(c, MW_SMTP_CLIENT_EV_UNSOLICITED);
    }
    mw__smtpc_wait w = c->wait[c->whead];
    c->whead = (c->whead + 1) % c->wcap;
    c->wcount--;
    int type = maybe_421(c, &w);
    if (!type) type = dispatch(c, w);
    if (type == 0) *answered = 1;
    if (type <= 0) return type;
    rc = mw__smtpc_pump(c);
    if (rc) mw__smtpc_set_fatal(c, rc);
    return type;
}

int mw_smtp_client_next(mw_smtp_client *c, const mw_smtp_client_event **ev)
{
    if (ev) *ev = NULL;
    if (!c || !ev) return MW_ERR_INVALID;
    for (;;) {
        if (c->io.fatal) return c->io.fatal;
        clear_event(c);
        if (c->ndue) {
            int type = c->due[0];
            memmove(c->due, c->due + 1, (c->ndue - 1) * sizeof c->due[0]);
            c->ndue--;
            *ev = &c->ev;
            return synthetic(c, type);
        }
        if (c->phase != MW__SMTPC_PH_RUN) return c->phase == MW__SMTPC_PH_CLOSED ? MW_ERR_CLOSED : 0;
        int answered = 0;
        int type = next_reply(c, &answered);
        if (type > 0) {
            *ev = &c->ev;
            return type;
        }
        if (type < 0 || !answered) return type;
        /* an AUTH challenge was answered: look for the next reply */
    }
}
