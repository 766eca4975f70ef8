/*
 * POP3 client engine: greeting (with the APOP timestamp), CAPA, STLS by
 * policy (RFC 2595), USER/PASS, APOP (RFC 1939 §7), AUTH through the SASL
 * client (RFC 5034), the transaction commands, and QUIT.
 *
 * Commands are queued by the caller and go out when the engine is READY
 * (greeting read, CAPA known, TLS negotiated as the policy says): all at
 * once when the server offers PIPELINING (RFC 2449 §6.6), otherwise one
 * at a time. AUTH is always alone on the wire: its exchange is
 * interactive. Responses come back as events in command order.
 *
 * Multi-line bodies (RETR/TOP) are unstuffed in place in the input buffer
 * and handed out as views; only a line starting with '.' costs a memmove.
 *
 * SPDX-License-Identifier: MIT
 */
#include "pop3/pop3_internal.h"

#include <mailwire/codec.h>

#include <stdio.h>

#define AGAIN (-1000)

static int fail(mw_pop3_client *c, int rc)
{
    mw__io_fail(&c->io, rc);
    return rc;
}

/* ---- queue ----------------------------------------------------------- */

static mw__pop3_cmd *q_at(const mw_pop3_client *c, size_t i)
{
    return &c->q[(c->qhead + i) % c->o.max_queue];
}

static void cmd_wipe(mw_pop3_client *c, mw__pop3_cmd *k)
{
    char **f[3] = {&k->authzid, &k->user, &k->secret};
    for (int i = 0; i < 3; i++) {
        if (*f[i]) {
            mw__wipe(*f[i], strlen(*f[i]));
            mw__free(&c->mem, *f[i]);
            *f[i] = NULL;
        }
    }
    mw__wipe(k->line, sizeof k->line);
    k->len = 0;
}

static void q_pop(mw_pop3_client *c)
{
    cmd_wipe(c, q_at(c, 0));
    c->qhead = (c->qhead + 1) % c->o.max_queue;
    c->qcount--;
    if (c->qsent) c->qsent--;
}

static char *dup_str(mw_pop3_client *c, const char *s)
{
    size_t n = strlen(s);
    char *d = mw__malloc(&c->mem, n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

/* Printable, no CR/LF/NUL; space only where allowed. */
static int arg_ok(const char *s, int space)
{
    if (!s || !*s) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || (*p == ' ' && !space)) return 0;
    return 1;
}

static mw_ssize queue(mw_pop3_client *c, int cmd, int multi, uint32_t msg, const char *fmt, ...)
    MW_PRINTF(5, 6);

static mw_ssize queue(mw_pop3_client *c, int cmd, int multi, uint32_t msg, const char *fmt, ...)
{
    if (!c) return MW_ERR_INVALID;
    if (c->io.fatal) return c->io.fatal;
    if (c->phase == MW__POP3C_CLOSED || c->quit_done) return MW_ERR_STATE;
    if (c->qcount >= c->o.max_queue) return MW_ERR_LIMIT;
    mw__pop3_cmd *k = q_at(c, c->qcount);
    memset(k, 0, sizeof *k);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(k->line, sizeof k->line, fmt, ap);
    va_end(ap);
    /* RFC 2449 §4: a command is at most 255 octets with its CRLF. */
    if (n < 0 || (size_t)n + 2 > MW__POP3_CMDLINE_MAX) {
        mw__wipe(k->line, sizeof k->line);
        return MW_ERR_INVALID;
    }
    memcpy(k->line + n, "\r\n", 3);
    k->len = (size_t)n + 2;
    k->cmd = cmd;
    k->multi = multi;
    k->msg = msg;
    k->id = ++c->next_id;
    c->qcount++;
    if (cmd == MW_POP3_CMD_QUIT) c->quit_done = 1;
    return (mw_ssize)k->id;
}

mw_ssize mw_pop3_client_user_pass(mw_pop3_client *c, const char *user, const char *pass)
{
    if (!c || !arg_ok(user, 1) || !arg_ok(pass, 1)) return MW_ERR_INVALID;
    if (c->qcount + 2 > c->o.max_queue) return MW_ERR_LIMIT;
    mw_ssize rc = queue(c, MW_POP3_CMD_USER, 0, 0, "USER %s", user);
    if (rc < 0) return rc;
    rc = queue(c, MW_POP3_CMD_PASS, 0, 0, "PASS %s", pass);
    if (rc < 0) { /* take USER back: the pair goes in whole or not at all */
        c->qcount--;
        cmd_wipe(c, q_at(c, c->qcount));
    }
    return rc;
}

mw_ssize mw_pop3_client_apop(mw_pop3_client *c, const char *user, const char *secret)
{
    if (!c || !arg_ok(user, 0) || !secret) return MW_ERR_INVALID;
    if (c->greeted && !c->ts_len) return MW_ERR_UNSUPPORTED;
    if (strlen(user) + 40 > MW__POP3_CMDLINE_MAX) return MW_ERR_INVALID;
    char *u = dup_str(c, user), *s = dup_str(c, secret);
    if (!u || !s) {
        mw__free(&c->mem, u);
        if (s) mw__wipe(s, strlen(s));
        mw__free(&c->mem, s);
        return MW_ERR_NOMEM;
    }
    mw_ssize rc = queue(c, MW_POP3_CMD_APOP, 0, 0, "APOP");
    if (rc < 0) {
        mw__free(&c->mem, u);
        mw__wipe(s, strlen(s));
        mw__free(&c->mem, s);
        return rc;
    }
    mw__pop3_cmd *k = q_at(c, c->qcount - 1);
    k->user = u;
    k->secret = s;
    return rc;
}

mw_ssize mw_pop3_client_auth(mw_pop3_client *c, unsigned client_mask, const char *authzid,
                             const char *user, const char *secret)
{
    if (!c || !client_mask || (authzid && strchr(authzid, '\r'))) return MW_ERR_INVALID;
    mw_ssize rc = queue(c, MW_POP3_CMD_AUTH, 0, 0, "AUTH");
    if (rc < 0) return rc;
    mw__pop3_cmd *k = q_at(c, c->qcount - 1);
    k->mask = client_mask;
    if ((authzid && !(k->authzid = dup_str(c, authzid))) || (user && !(k->user = dup_str(c, user))) ||
        (secret && !(k->secret = dup_str(c, secret)))) {
        c->qcount--;
        c->next_id--;
        cmd_wipe(c, k);
        return MW_ERR_NOMEM;
    }
    return rc;
}

mw_ssize mw_pop3_client_stat(mw_pop3_client *c) { return queue(c, MW_POP3_CMD_STAT, 0, 0, "STAT"); }
mw_ssize mw_pop3_client_rset(mw_pop3_client *c) { return queue(c, MW_POP3_CMD_RSET, 0, 0, "RSET"); }
mw_ssize mw_pop3_client_noop(mw_pop3_client *c) { return queue(c, MW_POP3_CMD_NOOP, 0, 0, "NOOP"); }
mw_ssize mw_pop3_client_quit(mw_pop3_client *c) { return queue(c, MW_POP3_CMD_QUIT, 0, 0, "QUIT"); }
mw_ssize mw_pop3_client_utf8(mw_pop3_client *c) { return queue(c, MW_POP3_CMD_UTF8, 0, 0, "UTF8"); }

mw_ssize mw_pop3_client_lang(mw_pop3_client *c, const char *tag)
{
    if (!tag) return queue(c, MW_POP3_CMD_LANG, 1, 0, "LANG");
    if (!mw__pop3_lang_tag_ok(tag, strlen(tag), 1)) return MW_ERR_INVALID;
    return queue(c, MW_POP3_CMD_LANG, 0, 0, "LANG %s", tag); /* RFC 6856 §3 */
}

mw_ssize mw_pop3_client_list(mw_pop3_client *c, uint32_t msg)
{
    if (msg) return queue(c, MW_POP3_CMD_LIST, 0, msg, "LIST %lu", (unsigned long)msg);
    return queue(c, MW_POP3_CMD_LIST, 1, 0, "LIST");
}

mw_ssize mw_pop3_client_uidl(mw_pop3_client *c, uint32_t msg)
{
    if (msg) return queue(c, MW_POP3_CMD_UIDL, 0, msg, "UIDL %lu", (unsigned long)msg);
    return queue(c, MW_POP3_CMD_UIDL, 1, 0, "UIDL");
}

mw_ssize mw_pop3_client_retr(mw_pop3_client *c, uint32_t msg)
{
    if (!msg) return MW_ERR_INVALID;
    return queue(c, MW_POP3_CMD_RETR, 1, msg, "RETR %lu", (unsigned long)msg);
}

mw_ssize mw_pop3_client_top(mw_pop3_client *c, uint32_t msg, uint32_t lines)
{
    if (!msg) return MW_ERR_INVALID;
    return queue(c, MW_POP3_CMD_TOP, 1, msg, "TOP %lu %lu", (unsigned long)msg, (unsigned long)lines);
}

mw_ssize mw_pop3_client_dele(mw_pop3_client *c, uint32_t msg)
{
    if (!msg) return MW_ERR_INVALID;
    return queue(c, MW_POP3_CMD_DELE, 0, msg, "DELE %lu", (unsigned long)msg);
}

/* ---- life cycle ------------------------------------------------------- */

int mw_pop3_client_new(const mw_mem *mem, const mw_pop3_client_opts *opts,
                       const struct mw_sasl_options *sasl_opts, mw_pop3_client **out)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_pop3_client_opts defaults;
    if (!opts) {
        mw_pop3_client_opts *d = mw_pop3_client_opts_new(&m);
        if (!d) return MW_ERR_NOMEM;
        defaults = *d;
        mw_pop3_client_opts_free(d);
        opts = &defaults;
    }
    mw_pop3_client *c = mw__calloc(&m, 1, sizeof *c);
    if (!c) return MW_ERR_NOMEM;
    c->mem = m;
    c->o = *opts;
    c->o.mem = m;
    if (sasl_opts) {
        c->sasl_opts = *sasl_opts;
    } else {
        mw_sasl_options *d = mw_sasl_options_new(&m);
        if (!d) {
            mw__free(&m, c);
            return MW_ERR_NOMEM;
        }
        c->sasl_opts = *d;
        mw_sasl_options_free(d);
    }
    c->sasl_opts.mem = m;
    c->q = mw__calloc(&m, c->o.max_queue, sizeof *c->q);
    if (!c->q) {
        mw__free(&m, c);
        return MW_ERR_NOMEM;
    }
    mw__io_init(&c->io, &c->mem, c->o.inbuf, MW__POP3_OUT_MAX);
    mw__io_bind(&c->io, &c->phase, MW__POP3C_HANDOFF, MW__POP3C_CLOSED, MW__IO_FATAL_CLOSES);
    /* RETR/TOP bodies stream through here: offer a whole socket read per
     * zero-copy recv_buf, not the 1 KiB an empty buffer starts with. */
    c->io.recv_room = 65536;
    c->tls = (c->o.flags & MW_POP3_CLIENT_IMPLICIT_TLS) != 0;
    c->phase = MW__POP3C_GREETING;
    *out = c;
    return MW_OK;
}

void mw_pop3_client_free(mw_pop3_client *c)
{
    if (!c) return;
    mw_mem m = c->mem;
    while (c->qcount) q_pop(c);
    mw__free(&m, c->q);
    mw_sasl_client_free(c->sasl);
    if (c->io.out.buf) mw__wipe(c->io.out.buf, c->io.out.cap); /* PASS lines */
    mw__io_free(&c->io);
    mw__free(&m, c);
}

/* ---- input and output ----------------------------------------------- */

/* mw_pop3_client_feed, _recv_buf, _recv_ack, _eof, _out_buf and _out_ack:
 * the transport glue every engine shares (lib/common/engine_io.c). A byte
 * that reaches the client while it is stopped at the TLS handoff fails it
 * with MW_ERR_TLS_INJECTION (DESIGN rule 1). */
MW__ENGINE_IO_API(mw_pop3_client, mw_pop3_client)

unsigned mw_pop3_client_state(const mw_pop3_client *c)
{
    if (!c) return 0;
    unsigned st = 0;
    if (mw__outq_len(&c->io.out)) st |= MW_WANT_WRITE;
    if (c->io.fatal || c->phase == MW__POP3C_CLOSED) return st | MW_CLOSED;
    if (c->phase == MW__POP3C_HANDOFF) return st | MW_TLS_HANDOFF;
    if (!c->io.eof) st |= MW_WANT_READ;
    return st;
}

unsigned mw_pop3_client_capabilities(const mw_pop3_client *c) { return c ? c->caps : 0; }

mw_slice mw_pop3_client_sasl_mechs(const mw_pop3_client *c)
{
    mw_slice s = {"", 0};
    if (c) {
        s.base = c->sasl_list;
        s.len = c->sasl_list_len;
    }
    return s;
}

static int send_line(mw_pop3_client *c, const char *p, size_t n)
{
    int rc = mw__outq_append(&c->io.out, p, n);
    return rc ? fail(c, rc) : MW_OK;
}

int mw_pop3_client_tls_started(mw_pop3_client *c)
{
    if (!c) return MW_ERR_INVALID;
    if (c->phase != MW__POP3C_HANDOFF) return MW_ERR_STATE;
    /* RFC 2595 §4: forget the capabilities learnt in clear, ask again. */
    c->tls = 1;
    c->caps = 0;
    c->sasl_list_len = 0;
    c->sasl_list[0] = 0;
    c->phase = MW__POP3C_SETUP;
    c->setup_cmd = MW_POP3_CMD_CAPA;
    return send_line(c, "CAPA\r\n", 6);
}

/* ---- sending ------------------------------------------------------------ */

static int plaintext_ok(const mw_pop3_client *c)
{
    return c->tls || (c->o.flags & MW_POP3_CLIENT_ALLOW_PLAINTEXT);
}

/* A command the engine refuses itself: reported as a local -ERR. */
static int local_refusal(mw_pop3_client *c, const char *why)
{
    mw__pop3_cmd *k = q_at(c, c->qsent);
    c->ev.type = MW_POP3_CLIENT_EV_REPLY;
    c->ev.cmd = k->cmd;
    c->ev.id = k->id;
    c->ev.ok = 0;
    c->ev.local = 1;
    c->ev.text.base = why;
    c->ev.text.len = strlen(why);
    /* the refused command is at qsent; move it to the front (nothing else
     * is in flight when a credential command is refused) */
    q_pop(c);
    return MW_POP3_CLIENT_EV_REPLY;
}

static int sasl_prop(mw_sasl_client *s, int prop, const char *v)
{
    return v ? mw_sasl_client_set(s, prop, v, strlen(v)) : MW_OK;
}

/* Put "AUTH MECH [ir]" on the wire (RFC 5034 §4). @return AGAIN, an event, or an error. */
static int start_auth(mw_pop3_client *c, mw__pop3_cmd *k)
{
    unsigned flags = (c->tls ? MW_SASL_TLS_ACTIVE : 0u) |
                     ((c->o.flags & MW_POP3_CLIENT_ALLOW_PLAINTEXT) ? MW_SASL_ALLOW_PLAINTEXT : 0u);
    int mech = (c->caps & MW_POP3_HAS_SASL) ? mw_sasl_choose(c->sasl_list, c->sasl_list_len, k->mask, flags)
                                            : MW_ERR_UNSUPPORTED;
    if (mech < 0) return local_refusal(c, "no usable SASL mechanism");
    const char *name = mw_sasl_mech_name(mech);
    int rc = mw_sasl_client_new(&c->sasl, &c->mem, name, &c->sasl_opts);
    if (rc) return rc == MW_ERR_NOMEM ? fail(c, rc) : local_refusal(c, "SASL mechanism unavailable");
    int token = (MW_SASL_BIT(mech) & MW_SASL_TOKEN_MECHS) != 0;
    rc = sasl_prop(c->sasl, MW_SASL_PROP_AUTHZID, k->authzid);
    if (!rc) rc = sasl_prop(c->sasl, MW_SASL_PROP_AUTHCID, k->user);
    if (!rc) rc = sasl_prop(c->sasl, token ? MW_SASL_PROP_TOKEN : MW_SASL_PROP_PASSWORD, k->secret);
    mw_slice ir = {NULL, 0};
    if (!rc) rc = mw_sasl_client_start(c->sasl, &ir);
    if (rc < 0) {
        mw_sasl_client_free(c->sasl);
        c->sasl = NULL;
        return rc == MW_ERR_NOMEM ? fail(c, rc) : local_refusal(c, "SASL client could not start");
    }
    size_t enc = ir.base ? mw_b64_encoded_len(ir.len, 0) : 0;
    size_t nlen = strlen(name);
    c->auth_ir_pending = 0;
    c->auth_cancelled = 0;
    rc = mw__outq_printf(&c->io.out, "AUTH %s", name);
    if (!rc && ir.base) {
        if (6 + nlen + 1 + (enc ? enc : 1) + 2 <= MW__POP3_CMDLINE_MAX) {
            rc = mw__outq_puts(&c->io.out, " ");
            if (!rc && ir.len == 0)
                rc = mw__outq_puts(&c->io.out, "="); /* RFC 5034 §4: empty response */
            size_t got;
            unsigned char *w = !rc && enc ? mw__outq_reserve(&c->io.out, enc, &got) : NULL;
            if (!rc && enc && !w) rc = MW_ERR_NOMEM;
            if (w)
                mw__outq_commit(&c->io.out,
                                (size_t)mw_b64_encode(ir.base, ir.len, (char *)w, enc, 0));
        } else {
            c->auth_ir_pending = 1; /* too long for the command: after the empty "+ " */
        }
    }
    if (!rc) rc = mw__outq_puts(&c->io.out, "\r\n");
    if (rc) return fail(c, rc);
    c->qsent++;
    return AGAIN;
}

/* Send the base64 of data as one line (a SASL response). */
static int send_b64_line(mw_pop3_client *c, const void *data, size_t len)
{
    size_t enc = mw_b64_encoded_len(len, 0), got;
    unsigned char *w = mw__outq_reserve(&c->io.out, enc + 2, &got);
    if (!w) return fail(c, MW_ERR_NOMEM);
    size_t n = len ? (size_t)mw_b64_encode(data, len, (char *)w, enc, 0) : 0;
    w[n] = '\r';
    w[n + 1] = '\n';
    mw__outq_commit(&c->io.out, n + 2);
    return MW_OK;
}

/* Move queued commands to the output: all of them with PIPELINING, else
 * one when nothing is in flight. AUTH goes alone. @return AGAIN when
 * something happened, 0 when not, an event (local refusal) or error. */
static int send_queued(mw_pop3_client *c)
{
    int progress = 0;
    while (c->qsent < c->qcount) {
        if (c->sasl) break;
        if (c->qsent && !(c->caps & MW_POP3_HAS_PIPELINING)) break;
        mw__pop3_cmd *k = q_at(c, c->qsent);
        if (k->cmd == MW_POP3_CMD_AUTH) {
            if (c->qsent) break; /* wait until nothing is in flight */
            return start_auth(c, k);
        }
        if ((k->cmd == MW_POP3_CMD_USER || k->cmd == MW_POP3_CMD_PASS) && !plaintext_ok(c)) {
            if (c->qsent) break;
            return local_refusal(c, "plaintext password without TLS");
        }
        if (k->cmd == MW_POP3_CMD_APOP) {
            if (!c->ts_len) {
                if (c->qsent) break;
                return local_refusal(c, "no APOP timestamp in the greeting");
            }
            char hex[33];
            mw_pop3_apop_digest(c->timestamp, c->ts_len, k->secret, strlen(k->secret), hex);
            int n = snprintf(k->line, sizeof k->line, "APOP %s %s\r\n", k->user, hex);
            mw__wipe(hex, sizeof hex);
            k->len = (size_t)n;
        }
        int rc = send_line(c, k->line, k->len);
        if (rc) return rc;
        mw__wipe(k->line, k->len);
        c->qsent++;
        progress = 1;
    }
    return progress ? AGAIN : 0;
}

/* ---- reading responses ---------------------------------------------------- */

/* Parse "+OK"/"-ERR" [SP ["[" code "]" SP] text]. @return 1 ok, 0 err, -1 neither. */
static int parse_status(mw_pop3_client *c, const char *p, size_t n)
{
    int ok;
    size_t i;
    if (n >= 3 && !memcmp(p, "+OK", 3)) {
        ok = 1;
        i = 3;
    } else if (n >= 4 && !memcmp(p, "-ERR", 4)) {
        ok = 0;
        i = 4;
    } else {
        return -1;
    }
    if (i < n && p[i] != ' ') return -1;
    if (i < n) i++;
    c->ev.ok = ok;
    /* RFC 2449 §8: an extended response code leads the text */
    if (i < n && p[i] == '[') {
        const char *e = memchr(p + i, ']', n - i);
        if (e) {
            c->ev.code.base = p + i + 1;
            c->ev.code.len = (size_t)(e - p) - i - 1;
            i = (size_t)(e - p) + 1;
            if (i < n && p[i] == ' ') i++;
        }
    }
    c->ev.text.base = p + i;
    c->ev.text.len = n - i;
    return ok;
}

static int read_line(mw_pop3_client *c, mw_slice *line)
{
    size_t lim = c->sasl ? MW__POP3_AUTH_LINE : c->o.max_line;
    if (lim > c->io.in.max) lim = c->io.in.max;
    if (mw__inbuf_len(&c->io.in) == 0)
        return 0; /* nothing buffered (the buffer may not exist yet) */
    int rc = mw__inbuf_line(&c->io.in, lim, 0, line);
    if (rc == MW_ERR_LINE_TOO_LONG) return fail(c, MW_ERR_PROTOCOL);
    return rc;
}

static int on_greeting(mw_pop3_client *c)
{
    mw_slice l;
    int rc = read_line(c, &l);
    if (rc <= 0) return rc;
    int ok = parse_status(c, l.base, l.len);
    if (ok < 0) return fail(c, MW_ERR_PROTOCOL);
    c->ev.type = MW_POP3_CLIENT_EV_GREETING;
    c->greeted = 1;
    /* RFC 1939 §7: the APOP banner is a msg-id in the greeting */
    const char *lt = memchr(l.base, '<', l.len);
    const char *gt = lt ? memchr(lt, '>', l.len - (size_t)(lt - l.base)) : NULL;
    if (ok && lt && gt && (size_t)(gt - lt) + 1 <= MW__POP3_TS_MAX && memchr(lt, '@', (size_t)(gt - lt))) {
        c->ts_len = (size_t)(gt - lt) + 1;
        memcpy(c->timestamp, lt, c->ts_len);
        c->timestamp[c->ts_len] = 0;
        c->ev.arg.base = c->timestamp;
        c->ev.arg.len = c->ts_len;
    }
    if (!ok) {
        c->phase = MW__POP3C_CLOSED;
        return MW_POP3_CLIENT_EV_GREETING;
    }
    c->phase = MW__POP3C_SETUP;
    c->setup_cmd = MW_POP3_CMD_CAPA;
    rc = send_line(c, "CAPA\r\n", 6);
    return rc ? rc : MW_POP3_CLIENT_EV_GREETING;
}

static void learn_capa(mw_pop3_client *c, mw_slice tag, mw_slice args)
{
    static const struct { const char *name; unsigned bit; } t[] = {
        {"TOP", MW_POP3_HAS_TOP}, {"UIDL", MW_POP3_HAS_UIDL}, {"USER", MW_POP3_HAS_USER},
        {"SASL", MW_POP3_HAS_SASL}, {"RESP-CODES", MW_POP3_HAS_RESP_CODES},
        {"AUTH-RESP-CODE", MW_POP3_HAS_AUTH_RESP_CODE}, {"PIPELINING", MW_POP3_HAS_PIPELINING},
        {"EXPIRE", MW_POP3_HAS_EXPIRE}, {"LOGIN-DELAY", MW_POP3_HAS_LOGIN_DELAY},
        {"IMPLEMENTATION", MW_POP3_HAS_IMPLEMENTATION}, {"UTF8", MW_POP3_HAS_UTF8},
        {"LANG", MW_POP3_HAS_LANG},
        {"STLS", MW_POP3_HAS_STLS},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        if (!mw__ieq(tag.base, tag.len, t[i].name)) continue;
        c->caps |= t[i].bit;
        if (t[i].bit == MW_POP3_HAS_SASL) {
            size_t n = args.len < MW__POP3_LIST_MAX ? args.len : MW__POP3_LIST_MAX;
            memcpy(c->sasl_list, args.base, n);
            c->sasl_list[n] = 0;
            c->sasl_list_len = n;
        }
    }
}

/* What to do when setup (CAPA / STLS) is over. */
static int setup_next(mw_pop3_client *c)
{
    int want_tls = c->o.tls != MW_POP3_TLS_NONE && !c->tls;
    if (want_tls && (c->caps & MW_POP3_HAS_STLS) && c->setup_cmd == MW_POP3_CMD_CAPA) {
        c->setup_cmd = MW_POP3_CMD_STLS;
        return send_line(c, "STLS\r\n", 6);
    }
    if (c->o.tls == MW_POP3_TLS_REQUIRED && !c->tls) return fail(c, MW_ERR_UNSUPPORTED);
    c->setup_cmd = 0;
    c->phase = MW__POP3C_RUN;
    c->ready_due = 1;
    return MW_OK;
}

/* One line of a multi-line LIST/UIDL/CAPA response. */
static int multi_line(mw_pop3_client *c, int cmd)
{
    mw_slice l;
    int rc = read_line(c, &l);
    if (rc <= 0) return rc;
    c->ev.cmd = cmd;
    if (l.len == 1 && l.base[0] == '.') {
        c->in_multi = 0;
        c->ev.type = MW_POP3_CLIENT_EV_END;
        return MW_POP3_CLIENT_EV_END;
    }
    if (l.len && l.base[0] == '.') l.base++, l.len--; /* RFC 1939 §3 */
    const char *sp = memchr(l.base, ' ', l.len);
    size_t first = sp ? (size_t)(sp - l.base) : l.len;
    mw_slice rest = {sp ? sp + 1 : l.base + l.len, sp ? l.len - first - 1 : 0};
    if (cmd == MW_POP3_CMD_CAPA) {
        mw_slice tag = {l.base, first};
        learn_capa(c, tag, rest);
        c->ev.type = MW_POP3_CLIENT_EV_CAPA;
        c->ev.text = tag;
        c->ev.arg = rest;
        return MW_POP3_CLIENT_EV_CAPA;
    }
    if (cmd == MW_POP3_CMD_LANG) {
        /* RFC 6856 §3: "tag SP description" */
        if (first == 0) return fail(c, MW_ERR_PROTOCOL);
        c->ev.type = MW_POP3_CLIENT_EV_LANG;
        c->ev.text.base = l.base;
        c->ev.text.len = first;
        c->ev.arg = rest;
        return MW_POP3_CLIENT_EV_LANG;
    }
    if (mw__pop3_parse_u32(l.base, first, &c->ev.msg) || !sp) return fail(c, MW_ERR_PROTOCOL);
    if (cmd == MW_POP3_CMD_LIST) {
        const char *sp2 = memchr(rest.base, ' ', rest.len); /* RFC 1939 §5: more info may follow */
        size_t n = sp2 ? (size_t)(sp2 - rest.base) : rest.len;
        if (mw__parse_u64(rest.base, n, &c->ev.size)) return fail(c, MW_ERR_PROTOCOL);
        c->ev.type = MW_POP3_CLIENT_EV_LIST;
    } else {
        c->ev.arg = rest;
        c->ev.type = MW_POP3_CLIENT_EV_UIDL;
    }
    return c->ev.type;
}

/* Unstuff the buffered body in place (RFC 1939 §3). Only CRLF "." CRLF
 * ends it (DESIGN rule 2). The consumed prefix is described by b_bol and
 * b_cr, so the result does not depend on how the input was cut. */
static int body_step(mw_pop3_client *c)
{
    if (c->end_due) {
        c->end_due = 0;
        c->in_body = 0;
        q_pop(c);
        c->ev.type = MW_POP3_CLIENT_EV_END;
        return MW_POP3_CLIENT_EV_END;
    }
    unsigned char *d = c->io.in.buf + c->io.in.start;
    size_t n = mw__inbuf_len(&c->io.in), r = 0, w = 0, consumed;
    int ended = 0, bol = c->b_bol, cr = c->b_cr;
    while (r < n) {
        if (bol) {
            if (d[r] == '.') {
                if (r + 1 >= n) break;
                if (d[r + 1] == '\r') {
                    if (r + 2 >= n) break;
                    if (d[r + 2] == '\n') {
                        ended = 1;
                        break;
                    }
                }
                r++; /* the stuffed dot */
                cr = 0;
            }
            bol = 0;
        }
        /* A run of lines that need nothing: up to a line starting with '.' */
        size_t start = r;
        for (;;) {
            const unsigned char *lf = memchr(d + r, '\n', n - r);
            if (!lf) {
                cr = d[n - 1] == '\r';
                r = n;
                break;
            }
            size_t x = (size_t)(lf - d);
            int crlf = x > start ? d[x - 1] == '\r' : cr;
            r = x + 1;
            cr = 0;
            if (crlf && (r >= n || d[r] == '.')) {
                bol = 1;
                break;
            }
        }
        if (w != start) memmove(d + w, d + start, r - start);
        w += r - start;
    }
    consumed = ended ? r + 3 : r;
    c->b_bol = bol;
    c->b_cr = cr;
    mw__inbuf_consume(&c->io.in, consumed);
    c->io.in.scanned = 0;
    if (ended) {
        if (!w) {
            q_pop(c);
            c->in_body = 0;
            c->ev.type = MW_POP3_CLIENT_EV_END;
            return MW_POP3_CLIENT_EV_END;
        }
        c->end_due = 1;
    }
    if (w) {
        c->ev.type = MW_POP3_CLIENT_EV_BODY;
        c->ev.data.base = (const char *)d;
        c->ev.data.len = w;
        return MW_POP3_CLIENT_EV_BODY;
    }
    return 0;
}

/* A "+ " line during AUTH (RFC 5034 §4). */
static int auth_challenge(mw_pop3_client *c, mw_slice l)
{
    unsigned char *p = (unsigned char *)(uintptr_t)l.base + 2;
    size_t n = l.len - 2;
    mw_ssize dn = n ? mw__pop3_b64_decode_inplace(p, n) : 0;
    int rc;
    if (dn < 0 || c->auth_cancelled) {
        c->auth_cancelled = 1;
        return send_line(c, "*\r\n", 3) ? c->io.fatal : AGAIN; /* must cancel */
    }
    /* An empty first challenge after a withheld initial response makes
     * the SASL client hand the initial response out again. */
    c->auth_ir_pending = 0;
    mw_slice out;
    rc = mw_sasl_client_step(c->sasl, p, (size_t)dn, &out);
    if (rc == MW_ERR_NOMEM) return fail(c, rc);
    if (rc < 0) {
        c->auth_cancelled = 1;
        return send_line(c, "*\r\n", 3) ? c->io.fatal : AGAIN;
    }
    rc = send_b64_line(c, out.base, out.len);
    return rc ? rc : AGAIN;
}

static void parse_single(mw_pop3_client *c, const mw__pop3_cmd *k)
{
    mw_slice t = c->ev.text;
    const char *sp = memchr(t.base, ' ', t.len);
    size_t first = sp ? (size_t)(sp - t.base) : t.len;
    mw_slice rest = {sp ? sp + 1 : t.base + t.len, sp ? t.len - first - 1 : 0};
    const char *sp2 = memchr(rest.base, ' ', rest.len);
    size_t second = sp2 ? (size_t)(sp2 - rest.base) : rest.len;
    if (k->cmd == MW_POP3_CMD_STAT) {
        /* RFC 1939 §5: "+OK nn mm" */
        uint32_t cnt;
        if (!mw__pop3_parse_u32(t.base, first, &cnt)) c->ev.count = cnt;
        mw__parse_u64(rest.base, second, &c->ev.size);
    } else if (k->cmd == MW_POP3_CMD_LIST) {
        mw__parse_u64(rest.base, second, &c->ev.size);
    } else if (k->cmd == MW_POP3_CMD_UIDL) {
        c->ev.arg.base = rest.base;
        c->ev.arg.len = second;
    }
}

static int status_line(mw_pop3_client *c)
{
    mw_slice l;
    int rc = read_line(c, &l);
    if (rc <= 0) return rc;
    if (c->setup_cmd) {
        int ok = parse_status(c, l.base, l.len);
        if (ok < 0) return fail(c, MW_ERR_PROTOCOL);
        c->ev.cmd = c->setup_cmd;
        c->ev.type = MW_POP3_CLIENT_EV_REPLY;
        if (c->setup_cmd == MW_POP3_CMD_CAPA) {
            if (ok) {
                c->caps = MW_POP3_HAS_CAPA;
                c->in_multi = 1;
                return MW_POP3_CLIENT_EV_REPLY;
            }
            setup_next(c); /* a failure is sticky: reported after this event */
            return MW_POP3_CLIENT_EV_REPLY;
        }
        /* STLS */
        if (ok) {
            /* DESIGN rule 1: nothing may follow the +OK before TLS. */
            if (mw__inbuf_len(&c->io.in)) return fail(c, MW_ERR_TLS_INJECTION);
            c->phase = MW__POP3C_HANDOFF;
            return MW_POP3_CLIENT_EV_REPLY;
        }
        c->setup_cmd = MW_POP3_CMD_NONE;
        if (c->o.tls == MW_POP3_TLS_REQUIRED) {
            fail(c, MW_ERR_UNSUPPORTED); /* never go on in clear; reported next */
            return MW_POP3_CLIENT_EV_REPLY;
        }
        c->phase = MW__POP3C_RUN;
        c->ready_due = 1;
        return MW_POP3_CLIENT_EV_REPLY;
    }
    if (c->sasl && l.len >= 1 && l.base[0] == '+' && (l.len == 1 || l.base[1] == ' ') &&
        !(l.len >= 3 && !memcmp(l.base, "+OK", 3))) {
        if (l.len == 1) l.len = 2; /* "+" alone: treat as an empty challenge */
        return auth_challenge(c, l);
    }
    int ok = parse_status(c, l.base, l.len);
    if (ok < 0) return fail(c, MW_ERR_PROTOCOL);
    if (c->qsent == 0) {
        /* Unsolicited: tolerated for -ERR (e.g. an idle timeout before close). */
        if (ok) return fail(c, MW_ERR_PROTOCOL);
        c->ev.type = MW_POP3_CLIENT_EV_REPLY;
        return MW_POP3_CLIENT_EV_REPLY;
    }
    mw__pop3_cmd *k = q_at(c, 0);
    c->ev.type = MW_POP3_CLIENT_EV_REPLY;
    c->ev.cmd = k->cmd;
    c->ev.id = k->id;
    c->ev.msg = k->msg;
    if (k->cmd == MW_POP3_CMD_AUTH) {
        int verified = ok ? mw_sasl_client_finish(c->sasl, NULL, 0) : MW_OK;
        mw_sasl_client_free(c->sasl);
        c->sasl = NULL;
        if (verified != MW_OK) return fail(c, MW_ERR_AUTH); /* success without proof */
    }
    if (ok && k->multi) {
        if (k->cmd == MW_POP3_CMD_RETR || k->cmd == MW_POP3_CMD_TOP) {
            c->in_body = 1;
            c->b_bol = 1;
            c->b_cr = 0;
        } else {
            c->in_multi = 1;
        }
        return MW_POP3_CLIENT_EV_REPLY; /* popped at the end of the body */
    }
    if (ok) parse_single(c, k);
    if (k->cmd == MW_POP3_CMD_QUIT) c->phase = MW__POP3C_CLOSED;
    q_pop(c);
    return MW_POP3_CLIENT_EV_REPLY;
}

int mw_pop3_client_next(mw_pop3_client *c, const mw_pop3_client_event **evp)
{
    if (evp) *evp = NULL;
    if (!c || !evp) return MW_ERR_INVALID;
    for (;;) {
        if (c->io.fatal) return c->io.fatal;
        if (c->phase == MW__POP3C_CLOSED || c->phase == MW__POP3C_HANDOFF)
            return c->phase == MW__POP3C_CLOSED ? MW_ERR_CLOSED : 0;
        memset(&c->ev, 0, sizeof c->ev);
        int rc;
        if (c->ready_due) {
            c->ready_due = 0;
            c->ev.type = MW_POP3_CLIENT_EV_READY;
            rc = MW_POP3_CLIENT_EV_READY;
        } else if (c->phase == MW__POP3C_GREETING) {
            rc = on_greeting(c);
        } else if (c->in_body) {
            mw__pop3_cmd *k = q_at(c, 0);
            c->ev.cmd = k->cmd;
            c->ev.id = k->id;
            c->ev.msg = k->msg;
            rc = body_step(c);
        } else if (c->in_multi) {
            int cmd = c->setup_cmd ? c->setup_cmd : q_at(c, 0)->cmd;
            if (!c->setup_cmd) {
                c->ev.id = q_at(c, 0)->id;
            }
            rc = multi_line(c, cmd);
            if (rc == MW_POP3_CLIENT_EV_END) {
                if (c->setup_cmd) {
                    setup_next(c); /* a failure is sticky: reported after this event */
                } else {
                    q_pop(c);
                }
            }
        } else {
            rc = c->phase == MW__POP3C_RUN ? send_queued(c) : 0;
            if (rc == 0) rc = status_line(c);
        }
        if (rc == AGAIN) continue;
        if (rc > 0) {
            *evp = &c->ev;
            return rc;
        }
        if (rc < 0) return fail(c, rc);
        if (c->io.eof) {
            /* Closed mid-response, or with commands unanswered. */
            int mid = c->in_body || c->in_multi || c->qsent || c->setup_cmd ||
                      c->phase == MW__POP3C_GREETING || mw__inbuf_len(&c->io.in);
            return fail(c, mid ? MW_ERR_TRUNCATED : MW_ERR_CLOSED);
        }
        return 0;
    }
}
