/*
 * SMTP/LMTP server engine: session life cycle, input and output plumbing,
 * the command interpreter (RFC 5321 §4.1, order per §4.1.4) and the reply
 * builder. Body reception (DATA/BDAT) is in smtp_body.c.
 *
 * Control flow: next() runs steps until one yields an event. A command the
 * engine answers alone (NOOP, errors) queues its reply and the loop goes
 * on; a command that needs the caller's decision sets `pending` and returns
 * a paused event. While pending, next() refuses to run (MW_ERR_STATE), so
 * pipelined commands stay in the input buffer in order and replies are
 * queued in order.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_internal.h"

#include <stdio.h>

#define AGAIN MW__SMTP_AGAIN

/* ---- replies ------------------------------------------------------- */

static int set_fatal(mw_smtp_server *s, int rc)
{
    if (mw_is_fatal(rc)) mw__io_fail(&s->io, rc);
    return rc;
}

int mw__smtp_put_reply(mw_smtp_server *s, int code, const char *enh, const char *const *lines,
                       size_t n)
{
    if (!(s->o.ext & MW_SMTP_EXT_ENHANCEDSTATUSCODES) || (code / 100 != 2 && code / 100 != 4 &&
                                                        code / 100 != 5))
        enh = NULL; /* RFC 2034 §3: classes 2, 4 and 5 only */
    size_t elen = enh ? strlen(enh) + 1 : 0;
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += 4 + elen + strlen(lines[i]) + 2;
    if (total > mw__outq_room(&s->io.out)) return MW_ERR_LIMIT;
    size_t got;
    unsigned char *w = mw__outq_reserve(&s->io.out, total, &got);
    if (!w) return MW_ERR_NOMEM;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        size_t tl = strlen(lines[i]);
        w[o++] = (unsigned char)('0' + code / 100);
        w[o++] = (unsigned char)('0' + code / 10 % 10);
        w[o++] = (unsigned char)('0' + code % 10);
        w[o++] = i + 1 < n ? '-' : ' ';
        if (enh) {
            memcpy(w + o, enh, elen - 1);
            o += elen - 1;
            w[o++] = ' ';
        }
        memcpy(w + o, lines[i], tl);
        o += tl;
        if (!enh && tl == 0) o--; /* "250" alone rather than "250 " */
        w[o++] = '\r';
        w[o++] = '\n';
    }
    mw__outq_commit(&s->io.out, o);
    return MW_OK;
}

int mw__smtp_reply1(mw_smtp_server *s, int code, const char *enh, const char *text)
{
    int rc = mw__smtp_put_reply(s, code, enh, &text, 1);
    return rc ? set_fatal(s, rc) : MW_OK;
}

/* A reply whose text starts with our host name (220, 221, 421, 554 greeting). */
static int reply_host(mw_smtp_server *s, int code, const char *enh, const char *text)
{
    char buf[MW__SMTP_HOST_MAX + MW__SMTP_REPLY_TEXT_MAX + 2];
    snprintf(buf, sizeof buf, "%s %s", s->o.hostname, text);
    return mw__smtp_reply1(s, code, enh, buf);
}

void mw__smtp_close(mw_smtp_server *s)
{
    s->phase = MW__SMTP_PH_CLOSED;
    s->pending = MW__SMTP_P_NONE;
}

/* An engine-answered bad command: counted; past the limit the session
 * ends with 421 instead (RFC 5321 §3.8 allows 421 at any time). */
int mw__smtp_bad(mw_smtp_server *s, int code, const char *enh, const char *text)
{
    if (++s->bad > s->o.max_bad) {
        int rc = reply_host(s, 421, "4.7.0", "Too many errors, closing connection");
        mw__smtp_close(s);
        return rc ? rc : AGAIN;
    }
    int rc = mw__smtp_reply1(s, code, enh, text);
    return rc ? rc : AGAIN;
}

static int reply_again(mw_smtp_server *s, int code, const char *enh, const char *text)
{
    int rc = mw__smtp_reply1(s, code, enh, text);
    return rc ? rc : AGAIN;
}

void mw__smtp_reset_txn(mw_smtp_server *s)
{
    s->txn = s->txn_failed = s->used_data = s->used_bdat = 0;
    s->smtputf8 = s->binarymime = 0;
    s->rcpts = 0;
    s->lmtp_left = 0;
    s->d_total = 0;
    s->d_over = s->d_long = s->d_bare = 0;
}

/* ---- life cycle ----------------------------------------------------- */

static int greet(mw_smtp_server *s)
{
    return reply_host(s, 220, NULL, (s->o.flags & MW_SMTP_SERVER_LMTP) ? "LMTP ready" : "ESMTP ready");
}

int mw_smtp_server_new(const mw_mem *mem, const mw_smtp_server_opts *opts, mw_smtp_server **out)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_smtp_server_opts defaults;
    if (!opts) {
        mw_smtp_server_opts *d = mw_smtp_server_opts_new(&m);
        if (!d) return MW_ERR_NOMEM;
        defaults = *d;
        mw_smtp_server_opts_free(d);
        opts = &defaults;
    }
    size_t need = opts->max_cmd;
    if ((opts->ext & MW_SMTP_EXT_AUTH) && opts->auth_mechs[0] && opts->max_auth > need) need = opts->max_auth;
    if (opts->inbuf_size < need) return MW_ERR_INVALID;

    mw_smtp_server *s = mw__calloc(&m, 1, sizeof *s);
    if (!s) return MW_ERR_NOMEM;
    s->mem = m;
    s->o = *opts;
    s->o.mem = m;
    s->scratch = mw__malloc(&s->mem, s->o.max_cmd);
    if (s->scratch && (s->o.ext & MW_SMTP_EXT_AUTH) && s->o.auth_mechs[0])
        s->auth_buf = mw__malloc(&s->mem, s->o.max_auth);
    if (!s->scratch || ((s->o.ext & MW_SMTP_EXT_AUTH) && s->o.auth_mechs[0] && !s->auth_buf)) {
        mw__free(&s->mem, s->scratch);
        mw__free(&s->mem, s);
        return MW_ERR_NOMEM;
    }
    /* LMTP may owe one engine-built refusal per recipient at once (a
     * message over the size limit): leave room for all of them. */
    size_t out_max = MW__SMTP_OUT_MAX;
    if (s->o.flags & MW_SMTP_SERVER_LMTP) out_max += s->o.max_rcpt * 80u;
    mw__io_init(&s->io, &s->mem, s->o.inbuf_size, out_max);
    unsigned io_flags = MW__IO_SERVER;
    if (s->o.flags & MW_SMTP_SERVER_TLS_INJECTION_CLOSE) io_flags |= MW__IO_INJECTION_CLOSES;
    mw__io_bind(&s->io, &s->phase, MW__SMTP_PH_HANDOFF, MW__SMTP_PH_CLOSED, io_flags);
    s->io.recv_room = 65536; /* a whole socket read per zero-copy recv */
    s->tls = (s->o.flags & MW_SMTP_SERVER_IMPLICIT_TLS) != 0;
    s->blocked = 1; /* the greeting goes out at once */
    s->phase = MW__SMTP_PH_CMD;
    if (s->o.flags & MW_SMTP_SERVER_MANUAL_GREETING) {
        s->connect_due = 1;
    } else if (greet(s) != MW_OK) {
        mw_smtp_server_free(s);
        return MW_ERR_NOMEM;
    }
    *out = s;
    return MW_OK;
}

void mw_smtp_server_free(mw_smtp_server *s)
{
    if (!s) return;
    mw_mem m = s->mem;
    mw__io_free(&s->io);
    mw__free(&m, s->scratch);
    mw__free(&m, s->auth_buf);
    mw__free(&m, s);
}

/* ---- input and output ----------------------------------------------- */

/* mw_smtp_server_feed, _recv_buf, _recv_ack, _eof, _out_buf and _out_ack:
 * the transport glue every engine shares (lib/common/engine_io.c).
 * Plaintext pipelined after the TLS handoff is counted and dropped, or ends
 * the session under TLS_INJECTION_CLOSE (DESIGN rule 1, CVE-2011-0411). */
MW__ENGINE_IO_API(mw_smtp_server, mw_smtp_server)

unsigned mw_smtp_server_state(const mw_smtp_server *s)
{
    if (!s) return 0;
    unsigned st = 0;
    int out = mw__outq_len(&s->io.out) > 0;
    if (s->io.fatal || s->phase == MW__SMTP_PH_CLOSED)
        return MW_CLOSED | (out ? MW_WANT_WRITE : 0u);
    if (s->phase == MW__SMTP_PH_HANDOFF) return MW_TLS_HANDOFF | (out ? MW_WANT_WRITE : 0u);
    /* RFC 2920 §3.2: replies to a pipelined group are held until the
     * engine has run out of buffered commands (blocked), then flushed. */
    if (out && s->blocked) st |= MW_WANT_WRITE;
    if (!s->io.eof && mw__inbuf_len(&s->io.in) < s->io.in.max) st |= MW_WANT_READ;
    return st;
}

uint64_t mw_smtp_server_tls_discarded(const mw_smtp_server *s)
{
    return s ? s->io.tls_discarded : 0;
}

int mw_smtp_server_tls_started(mw_smtp_server *s)
{
    if (!s) return MW_ERR_INVALID;
    if (s->phase != MW__SMTP_PH_HANDOFF) return MW_ERR_STATE;
    /* RFC 3207 §4.2: forget everything learnt before TLS. */
    mw__io_drop_input(&s->io);
    mw__smtp_reset_txn(s);
    s->helo_kind = 0;
    s->authed = 0;
    s->tls = 1;
    s->phase = MW__SMTP_PH_CMD;
    s->blocked = 1;
    return MW_OK;
}

/* ---- commands ---------------------------------------------------------- */

static int is_lmtp(const mw_smtp_server *s) { return (s->o.flags & MW_SMTP_SERVER_LMTP) != 0; }
static int has_ext(const mw_smtp_server *s, unsigned e) { return (s->o.ext & e) != 0; }

static int paused(mw_smtp_server *s, int pending, int type)
{
    s->pending = pending;
    s->ev.paused = 1;
    return type;
}

static int is_plaintext_mech(const char *p, size_t n)
{
    return mw__ieq(p, n, "PLAIN") || mw__ieq(p, n, "LOGIN");
}

static int plaintext_ok(const mw_smtp_server *s)
{
    return s->tls || (s->o.flags & MW_SMTP_SERVER_PLAINTEXT_AUTH);
}

static int cmd_helo(mw_smtp_server *s, int kind, char *arg, size_t alen)
{
    if (alen == 0 || memchr(arg, ' ', alen))
        return mw__smtp_bad(s, 501, NULL, kind == 1 ? "Syntax: HELO hostname" : "Syntax: EHLO hostname");
    /* RFC 5321 §4.1.4: EHLO/HELO later in a session resets it like RSET. */
    mw__smtp_reset_txn(s);
    s->pending_helo_kind = kind;
    s->ev.arg.base = arg;
    s->ev.arg.len = alen;
    return paused(s, MW__SMTP_P_HELO, MW_SMTP_EV_HELO);
}

/* SIZE= and BDAT sizes: at most 20 digits, leading zeros included. */
static int parse_u64(const char *p, size_t n, uint64_t *out)
{
    return n > 20 ? -1 : mw__parse_u64(p, n, out);
}

/* Decode an xtext value into the scratch area; *off advances. */
static int scratch_xtext(mw_smtp_server *s, mw_slice v, size_t *off, size_t max, mw_slice *out)
{
    if (v.len > s->o.max_cmd - *off) return -1;
    mw_ssize n = mw__smtp_xtext_decode(v.base, v.len, s->scratch + *off);
    if (n < 0 || (size_t)n > max) return -1;
    out->base = (const char *)s->scratch + *off;
    out->len = (size_t)n;
    *off += (size_t)n;
    return 0;
}

#define SEEN(bit)                                                                            \
    do {                                                                                     \
        if (seen & (bit)) return mw__smtp_bad(s, 501, "5.5.4", "Duplicate parameter");       \
        seen |= (bit);                                                                       \
    } while (0)

static int mail_params(mw_smtp_server *s, mw_slice rest)
{
    mw_smtp_event *ev = &s->ev;
    mw_slice key, v;
    int has, r;
    unsigned seen = 0;
    size_t off = 0;
    while ((r = mw__smtp_param_next(&rest, &key, &v, &has)) == 1) {
        if (mw__ieq(key.base, key.len, "SIZE") && has_ext(s, MW_SMTP_EXT_SIZE)) {
            SEEN(1u);
            if (!has || parse_u64(v.base, v.len, &ev->size))
                return mw__smtp_bad(s, 501, "5.5.4", "Bad SIZE value");
            ev->flags |= MW_SMTP_F_SIZE;
        } else if (mw__ieq(key.base, key.len, "BODY") &&
                   has_ext(s, MW_SMTP_EXT_8BITMIME | MW_SMTP_EXT_BINARYMIME)) {
            SEEN(2u);
            if (has && mw__ieq(v.base, v.len, "7BIT"))
                ev->body = MW_SMTP_BODY_7BIT;
            else if (has && mw__ieq(v.base, v.len, "8BITMIME") && has_ext(s, MW_SMTP_EXT_8BITMIME))
                ev->body = MW_SMTP_BODY_8BITMIME;
            else if (has && mw__ieq(v.base, v.len, "BINARYMIME") &&
                     has_ext(s, MW_SMTP_EXT_BINARYMIME) && has_ext(s, MW_SMTP_EXT_CHUNKING))
                ev->body = MW_SMTP_BODY_BINARYMIME;
            else
                return mw__smtp_bad(s, 501, "5.5.4", "Bad BODY value");
        } else if (mw__ieq(key.base, key.len, "SMTPUTF8") && has_ext(s, MW_SMTP_EXT_SMTPUTF8)) {
            SEEN(4u);
            if (has) return mw__smtp_bad(s, 501, "5.5.4", "SMTPUTF8 takes no value");
            ev->flags |= MW_SMTP_F_SMTPUTF8;
        } else if (mw__ieq(key.base, key.len, "RET") && has_ext(s, MW_SMTP_EXT_DSN)) {
            SEEN(8u);
            if (has && mw__ieq(v.base, v.len, "FULL"))
                ev->ret = MW_SMTP_RET_FULL;
            else if (has && mw__ieq(v.base, v.len, "HDRS"))
                ev->ret = MW_SMTP_RET_HDRS;
            else
                return mw__smtp_bad(s, 501, "5.5.4", "Bad RET value");
        } else if (mw__ieq(key.base, key.len, "ENVID") && has_ext(s, MW_SMTP_EXT_DSN)) {
            SEEN(16u);
            /* RFC 3461 §4.4: at most 100 characters, printable ASCII once decoded */
            if (!has || v.len > 100 || scratch_xtext(s, v, &off, 100, &ev->envid))
                return mw__smtp_bad(s, 501, "5.5.4", "Bad ENVID value");
            ev->flags |= MW_SMTP_F_ENVID;
        } else if (mw__ieq(key.base, key.len, "AUTH") && has_ext(s, MW_SMTP_EXT_AUTH) &&
                   s->o.auth_mechs[0]) {
            SEEN(32u);
            if (has && mw__ieq(v.base, v.len, "<>"))
                ev->auth = v;
            else if (!has || scratch_xtext(s, v, &off, 500, &ev->auth))
                return mw__smtp_bad(s, 501, "5.5.4", "Bad AUTH value");
            ev->flags |= MW_SMTP_F_AUTH;
        } else if (mw__ieq(key.base, key.len, "REQUIRETLS") && has_ext(s, MW_SMTP_EXT_REQUIRETLS) &&
                   s->tls) {
            SEEN(64u);
            if (has) return mw__smtp_bad(s, 501, "5.5.4", "REQUIRETLS takes no value");
            ev->flags |= MW_SMTP_F_REQUIRETLS;
        } else if (mw__ieq(key.base, key.len, "MT-PRIORITY") &&
                   has_ext(s, MW_SMTP_EXT_MT_PRIORITY)) {
            SEEN(128u);
            /* RFC 6710 §3: ["-" / "+"] DIGIT, range -9..9 */
            const char *p = v.base;
            size_t n = v.len;
            int neg = 0;
            if (has && n == 2 && (p[0] == '-' || p[0] == '+')) {
                neg = p[0] == '-';
                p++;
                n--;
            }
            if (!has || n != 1 || p[0] < '0' || p[0] > '9')
                return mw__smtp_bad(s, 501, "5.5.4", "Bad MT-PRIORITY value");
            ev->mt_priority = neg ? -(p[0] - '0') : p[0] - '0';
            ev->flags |= MW_SMTP_F_MT_PRIORITY;
        } else if (!mw__in_list(s->o.mail_params, key.base, key.len)) {
            return mw__smtp_bad(s, 555, "5.5.4", "Unsupported parameter");
        }
    }
    if (r < 0) return mw__smtp_bad(s, 501, "5.5.4", "Syntax error in parameters");
    return 0;
}

static int rcpt_params(mw_smtp_server *s, mw_slice rest)
{
    mw_smtp_event *ev = &s->ev;
    mw_slice key, v;
    int has, r;
    unsigned seen = 0;
    size_t off = 0;
    while ((r = mw__smtp_param_next(&rest, &key, &v, &has)) == 1) {
        if (mw__ieq(key.base, key.len, "NOTIFY") && has_ext(s, MW_SMTP_EXT_DSN)) {
            SEEN(1u);
            /* RFC 3461 §4.1: "NEVER" / 1#("SUCCESS" / "FAILURE" / "DELAY") */
            size_t i = 0;
            if (!has) return mw__smtp_bad(s, 501, "5.5.4", "Bad NOTIFY value");
            while (i <= v.len) {
                size_t e = i;
                while (e < v.len && v.base[e] != ',') e++;
                unsigned bit = mw__ieq(v.base + i, e - i, "NEVER")     ? MW_SMTP_NOTIFY_NEVER
                               : mw__ieq(v.base + i, e - i, "SUCCESS") ? MW_SMTP_NOTIFY_SUCCESS
                               : mw__ieq(v.base + i, e - i, "FAILURE") ? MW_SMTP_NOTIFY_FAILURE
                               : mw__ieq(v.base + i, e - i, "DELAY")   ? MW_SMTP_NOTIFY_DELAY
                                                                       : 0;
                if (!bit || (ev->notify & bit)) return mw__smtp_bad(s, 501, "5.5.4", "Bad NOTIFY value");
                ev->notify |= bit;
                i = e + 1;
            }
            if ((ev->notify & MW_SMTP_NOTIFY_NEVER) && ev->notify != MW_SMTP_NOTIFY_NEVER)
                return mw__smtp_bad(s, 501, "5.5.4", "Bad NOTIFY value");
        } else if (mw__ieq(key.base, key.len, "ORCPT") && has_ext(s, MW_SMTP_EXT_DSN)) {
            SEEN(2u);
            /* RFC 3461 §4.2: addr-type ";" xtext, at most 500 characters */
            const char *semi = has ? memchr(v.base, ';', v.len) : NULL;
            if (!semi || semi == v.base || v.len > 500)
                return mw__smtp_bad(s, 501, "5.5.4", "Bad ORCPT value");
            ev->orcpt_type.base = v.base;
            ev->orcpt_type.len = (size_t)(semi - v.base);
            mw_slice x = {semi + 1, v.len - ev->orcpt_type.len - 1};
            if (scratch_xtext(s, x, &off, 500, &ev->orcpt))
                return mw__smtp_bad(s, 501, "5.5.4", "Bad ORCPT value");
            ev->flags |= MW_SMTP_F_ORCPT;
        } else if (!mw__in_list(s->o.rcpt_params, key.base, key.len)) {
            return mw__smtp_bad(s, 555, "5.5.4", "Unsupported parameter");
        }
    }
    if (r < 0) return mw__smtp_bad(s, 501, "5.5.4", "Syntax error in parameters");
    return 0;
}

/* "FROM:" / "TO:" then a path and parameters; fills ev->path and ev->params. */
static int parse_envelope_arg(mw_smtp_server *s, const char *arg, size_t alen, const char *prefix,
                              int is_mail, int *eight_bit)
{
    size_t pl = strlen(prefix);
    const char *enh = is_mail ? "5.1.7" : "5.1.3";
    if (alen < pl || !mw__ieq(arg, pl, prefix))
        return mw__smtp_bad(s, 501, "5.5.4", is_mail ? "Syntax: MAIL FROM:<address>" : "Syntax: RCPT TO:<address>");
    const char *p = arg + pl;
    size_t n = alen - pl;
    if (s->o.quirks & MW_SMTP_QUIRK_SPACE_AFTER_COLON)
        while (n && *p == ' ') p++, n--;
    size_t used;
    int rc = mw__smtp_parse_path(p, n, is_mail, !is_mail, &s->ev.path, &used, &s->ev.flags, eight_bit);
    if (rc == MW__SMTP_PATH_LONG) return mw__smtp_bad(s, 501, enh, "Path too long");
    if (rc) return mw__smtp_bad(s, 501, enh, "Bad address syntax");
    p += used;
    n -= used;
    if (n && *p != ' ') return mw__smtp_bad(s, 501, enh, "Bad address syntax");
    while (n && *p == ' ') p++, n--;
    s->ev.params.base = p;
    s->ev.params.len = n;
    if (n && s->helo_kind != 2) return mw__smtp_bad(s, 555, "5.5.4", "Parameters need EHLO");
    return 0;
}

static int cmd_mail(mw_smtp_server *s, char *arg, size_t alen)
{
    if (!s->helo_kind) return mw__smtp_bad(s, 503, "5.5.1", is_lmtp(s) ? "Send LHLO first" : "Send HELO/EHLO first");
    if (s->txn) return mw__smtp_bad(s, 503, "5.5.1", "Nested MAIL command");
    int eight, rc = parse_envelope_arg(s, arg, alen, "FROM:", 1, &eight);
    if (rc) return rc;
    rc = mail_params(s, s->ev.params);
    if (rc) return rc;
    if (eight && !(s->ev.flags & MW_SMTP_F_SMTPUTF8))
        return reply_again(s, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8"); /* RFC 6531 §3.7.4 */
    if ((s->ev.flags & MW_SMTP_F_SIZE) && s->o.max_size && s->ev.size > s->o.max_size)
        return reply_again(s, 552, "5.3.4", "Message size exceeds fixed maximum message size"); /* RFC 1870 §6.1 */
    return paused(s, MW__SMTP_P_MAIL, MW_SMTP_EV_MAIL);
}

static int cmd_rcpt(mw_smtp_server *s, char *arg, size_t alen)
{
    if (!s->txn) return mw__smtp_bad(s, 503, "5.5.1", "Need MAIL before RCPT");
    if (s->used_bdat || s->txn_failed) return mw__smtp_bad(s, 503, "5.5.1", "Bad sequence of commands");
    int eight, rc = parse_envelope_arg(s, arg, alen, "TO:", 0, &eight);
    if (rc) return rc;
    rc = rcpt_params(s, s->ev.params);
    if (rc) return rc;
    if (eight && !s->smtputf8) return reply_again(s, 553, "5.6.7", "Non-ASCII address needs SMTPUTF8");
    if (s->rcpts >= s->o.max_rcpt) return reply_again(s, 452, "4.5.3", "Too many recipients"); /* §4.5.3.1.10 */
    s->ev.rcpt_count = s->rcpts;
    return paused(s, MW__SMTP_P_RCPT, MW_SMTP_EV_RCPT);
}

static int cmd_data(mw_smtp_server *s, size_t alen)
{
    if (alen) return mw__smtp_bad(s, 501, "5.5.4", "Syntax: DATA");
    if (!s->txn || s->used_bdat || s->txn_failed)
        return mw__smtp_bad(s, 503, "5.5.1", s->txn ? "Bad sequence of commands" : "Need MAIL command");
    if (!s->rcpts) return reply_again(s, 554, "5.5.1", "No valid recipients"); /* RFC 2920 §3.1 */
    if (s->binarymime) return mw__smtp_bad(s, 503, "5.5.1", "BODY=BINARYMIME needs BDAT"); /* RFC 3030 §3 */
    s->ev.rcpt_count = s->rcpts;
    return paused(s, MW__SMTP_P_DATA, MW_SMTP_EV_DATA);
}

static int cmd_bdat(mw_smtp_server *s, const char *arg, size_t alen)
{
    /* RFC 3030 §2: "BDAT" SP chunk-size [SP "LAST"]. The chunk octets
     * follow whatever we answer, so a size we cannot read leaves no way to
     * find the next command: answer and close. */
    const char *sp = memchr(arg, ' ', alen);
    size_t nlen = sp ? (size_t)(sp - arg) : alen;
    uint64_t size;
    int last = 0;
    if (sp && mw__ieq(sp + 1, alen - nlen - 1, "LAST"))
        last = 1;
    else if (sp)
        nlen = 0; /* garbage after the size */
    if (parse_u64(arg, nlen, &size)) {
        int rc = mw__smtp_reply1(s, 501, "5.5.4", "Bad BDAT chunk size; closing connection");
        mw__smtp_close(s);
        return rc ? rc : AGAIN;
    }
    s->bdat_left = size;
    s->bdat_size = size;
    s->bdat_last = last;
    s->bdat_error = 0;
    s->phase = MW__SMTP_PH_BDAT;
    if (!has_ext(s, MW_SMTP_EXT_CHUNKING))
        s->bdat_error = 502;
    else if (!s->txn || s->used_data || s->txn_failed)
        s->bdat_error = 503;
    else if (!s->rcpts)
        s->bdat_error = 554;
    if (s->bdat_error) return AGAIN; /* the octets are read and dropped */
    if (!s->used_bdat) mw__smtp_body_begin(s, 1);
    s->ev.size = size;
    s->ev.flags |= last ? MW_SMTP_F_LAST : 0u;
    s->ev.rcpt_count = s->rcpts;
    return MW_SMTP_EV_BDAT;
}

static int cmd_vrfy(mw_smtp_server *s, int expn, char *arg, size_t alen)
{
    if (!alen) return mw__smtp_bad(s, 501, "5.5.4", expn ? "Syntax: EXPN list" : "Syntax: VRFY address");
    if (!(s->o.flags & MW_SMTP_SERVER_PAUSE_VRFY))
        return reply_again(s, 252, "2.1.5", "Cannot VRFY user, but will accept message and attempt delivery");
    s->ev.arg.base = arg;
    s->ev.arg.len = alen;
    return paused(s, MW__SMTP_P_VRFY, expn ? MW_SMTP_EV_EXPN : MW_SMTP_EV_VRFY);
}

static int cmd_starttls(mw_smtp_server *s, size_t alen)
{
    if (!has_ext(s, MW_SMTP_EXT_STARTTLS)) return mw__smtp_bad(s, 502, "5.5.1", "Command not implemented");
    if (alen) return mw__smtp_bad(s, 501, "5.5.4", "Syntax: STARTTLS");
    if (s->tls) return mw__smtp_bad(s, 503, "5.5.1", "TLS already active");
    if (s->txn) return mw__smtp_bad(s, 503, "5.5.1", "MAIL transaction in progress");
    /* DESIGN rule 1 (CVE-2011-0411): bytes pipelined after STARTTLS are
     * attacker plaintext; they must never be read as post-TLS commands. */
    size_t extra = mw__io_handoff_discard(&s->io);
    s->ev.discarded = extra;
    if (extra && (s->o.flags & MW_SMTP_SERVER_TLS_INJECTION_CLOSE)) {
        int rc = mw__smtp_reply1(s, 554, "5.5.0", "Commands pipelined after STARTTLS; closing connection");
        mw__smtp_close(s);
        return rc ? rc : MW_SMTP_EV_STARTTLS;
    }
    int rc = mw__smtp_reply1(s, 220, "2.0.0", "Ready to start TLS");
    if (rc) return rc;
    s->phase = MW__SMTP_PH_HANDOFF;
    return MW_SMTP_EV_STARTTLS;
}

/* Strict base64 of a SASL payload (RFC 4954 §4: no foreign characters,
 * padding only at the end) into auth_buf; ev.data shows it.
 * @return 0, or -1 when it does not decode. */
static int auth_decode(mw_smtp_server *s, const char *p, size_t n)
{
    mw_ssize r = n ? mw_b64_decode(p, n, s->auth_buf, s->o.max_auth, 0, NULL) : 0;
    if (r < 0) return -1;
    s->ev.data.base = (const char *)s->auth_buf;
    s->ev.data.len = (size_t)r;
    return 0;
}

static int cmd_auth(mw_smtp_server *s, char *arg, size_t alen)
{
    if (!has_ext(s, MW_SMTP_EXT_AUTH) || !s->o.auth_mechs[0])
        return mw__smtp_bad(s, 502, "5.5.1", "Command not implemented");
    if (s->helo_kind != 2) return mw__smtp_bad(s, 503, "5.5.1", "Send EHLO first");
    if (s->authed) return mw__smtp_bad(s, 503, "5.5.1", "Already authenticated"); /* RFC 4954 §4 */
    if (s->txn) return mw__smtp_bad(s, 503, "5.5.1", "MAIL transaction in progress");
    char *sp = memchr(arg, ' ', alen);
    size_t mlen = sp ? (size_t)(sp - arg) : alen;
    if (mlen == 0) return mw__smtp_bad(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
    for (size_t i = 0; i < mlen; i++)
        if (arg[i] >= 'a' && arg[i] <= 'z') arg[i] = (char)(arg[i] - 32);
    if (!mw__in_list(s->o.auth_mechs, arg, mlen))
        return mw__smtp_bad(s, 504, "5.5.4", "Unrecognized authentication type");
    if (is_plaintext_mech(arg, mlen) && !plaintext_ok(s))
        return reply_again(s, 538, "5.7.11", "Encryption required for requested authentication mechanism");
    s->ev.arg.base = arg;
    s->ev.arg.len = mlen;
    if (sp) {
        const char *ir = sp + 1;
        size_t ilen = alen - mlen - 1;
        if (memchr(ir, ' ', ilen)) return mw__smtp_bad(s, 501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
        /* "=" is an empty initial response (RFC 4954 §4) */
        int bad = ilen == 1 && ir[0] == '=' ? auth_decode(s, ir, 0) : (ilen ? auth_decode(s, ir, ilen) : -1);
        if (bad) return mw__smtp_bad(s, 501, "5.5.2", "Cannot decode response");
        s->ev.flags |= MW_SMTP_F_INITIAL;
    }
    return paused(s, MW__SMTP_P_AUTH, MW_SMTP_EV_AUTH);
}

static int auth_response(mw_smtp_server *s, char *line, size_t len)
{
    s->phase = MW__SMTP_PH_CMD;
    if (len == 1 && line[0] == '*') {
        s->ev.reject_code = 501;
        int rc = mw__smtp_reply1(s, 501, "5.7.0", "Authentication cancelled"); /* RFC 4954 §4 */
        return rc ? rc : MW_SMTP_EV_AUTH_ABORT;
    }
    if (auth_decode(s, line, len)) {
        s->ev.reject_code = 501;
        int rc = mw__smtp_reply1(s, 501, "5.5.2", "Cannot decode response");
        return rc ? rc : MW_SMTP_EV_AUTH_ABORT;
    }
    s->phase = MW__SMTP_PH_AUTH; /* still inside the exchange until answered */
    return paused(s, MW__SMTP_P_AUTH, MW_SMTP_EV_AUTH_RESPONSE);
}

/* Controls, NUL or a stray CR/LF in a command line are never valid. */
static int has_control(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c < 32 && c != '\t') return 1;
        if (c == 127) return 1;
    }
    return 0;
}

static int command(mw_smtp_server *s, char *line, size_t len)
{
    while (len && (line[len - 1] == ' ' || line[len - 1] == '\t')) len--;
    if (has_control(line, len)) return mw__smtp_bad(s, 500, "5.5.2", "Invalid character in command");
    size_t v = 0;
    while (v < len && v < 16 && ((line[v] | 0x20) >= 'a' && (line[v] | 0x20) <= 'z')) v++;
    if (v == 0 || (v < len && line[v] != ' ')) return mw__smtp_bad(s, 500, "5.5.1", "Command unrecognized");
    s->ev.verb.base = line;
    s->ev.verb.len = v;
    char *arg = line + v + (v < len ? 1 : 0);
    size_t alen = len - (size_t)(arg - line);
    int is_auth = mw__ieq(line, v, "AUTH");
    if (!is_auth && len + 2 > s->o.max_cmd) return mw__smtp_bad(s, 500, "5.5.2", "Line too long");
#define VERB(name) mw__ieq(line, v, name)
    if (VERB("QUIT")) {
        if (alen) return mw__smtp_bad(s, 501, "5.5.4", "Syntax: QUIT");
        int rc = reply_host(s, 221, "2.0.0", "Service closing transmission channel");
        mw__smtp_close(s);
        return rc ? rc : MW_SMTP_EV_QUIT;
    }
    if (s->refused) return mw__smtp_bad(s, 503, "5.5.1", "Bad sequence of commands"); /* §3.1 */
    if (VERB("EHLO") && !is_lmtp(s)) return cmd_helo(s, 2, arg, alen);
    if (VERB("HELO") && !is_lmtp(s)) return cmd_helo(s, 1, arg, alen);
    if (VERB("LHLO") && is_lmtp(s)) return cmd_helo(s, 2, arg, alen); /* RFC 2033 §4.1 */
    if (VERB("MAIL")) return cmd_mail(s, arg, alen);
    if (VERB("RCPT")) return cmd_rcpt(s, arg, alen);
    if (VERB("DATA")) return cmd_data(s, alen);
    if (VERB("BDAT")) return cmd_bdat(s, arg, alen);
    if (VERB("RSET")) {
        if (alen) return mw__smtp_bad(s, 501, "5.5.4", "Syntax: RSET");
        mw__smtp_reset_txn(s);
        int rc = mw__smtp_reply1(s, 250, "2.0.0", "OK");
        return rc ? rc : MW_SMTP_EV_RSET;
    }
    if (VERB("NOOP")) return reply_again(s, 250, "2.0.0", "OK"); /* §4.1.1.9: argument ignored */
    if (VERB("HELP")) return reply_again(s, 214, "2.0.0", "See RFC 5321");
    if (VERB("VRFY")) return cmd_vrfy(s, 0, arg, alen);
    if (VERB("EXPN")) return cmd_vrfy(s, 1, arg, alen);
    if (VERB("STARTTLS")) return cmd_starttls(s, alen);
    if (is_auth) return cmd_auth(s, arg, alen);
    /* RFC 821 leftovers (RFC 5321 appendix F): known, not implemented. */
    if (VERB("TURN") || VERB("SEND") || VERB("SOML") || VERB("SAML"))
        return mw__smtp_bad(s, 502, "5.5.1", "Command not implemented");
#undef VERB
    return mw__smtp_bad(s, 500, "5.5.1", "Command unrecognized");
}

static int line_step(mw_smtp_server *s)
{
    int in_auth = s->phase == MW__SMTP_PH_AUTH;
    int auth_on = (s->o.ext & MW_SMTP_EXT_AUTH) && s->o.auth_mechs[0];
    size_t lim = s->o.max_cmd;
    /* AUTH lines may be longer than commands (RFC 4954 §4); other verbs
     * are held to max_cmd after the verb is known. */
    if (in_auth || (auth_on && s->o.max_auth > lim)) lim = s->o.max_auth;
    unsigned lf = (s->o.quirks & MW_SMTP_QUIRK_BARE_LF) ? MW__LINE_LENIENT_LF : 0u;
    mw_slice line;
    int rc = mw__inbuf_line(&s->io.in, lim, lf, &line);
    if (rc == 0) return 0;
    if (rc == MW_ERR_LINE_TOO_LONG) {
        if (in_auth) {
            s->phase = MW__SMTP_PH_CMD;
            s->ev.reject_code = 500;
            rc = mw__smtp_reply1(s, 500, "5.5.6", "Authentication Exchange line is too long");
            return rc ? rc : MW_SMTP_EV_AUTH_ABORT;
        }
        return mw__smtp_bad(s, 500, "5.5.2", "Line too long");
    }
    if (rc < 0) return rc;
    char *p = (char *)(uintptr_t)line.base; /* our own buffer: decoded in place */
    if (in_auth) return auth_response(s, p, line.len);
    return command(s, p, line.len);
}

/* ---- next -------------------------------------------------------------- */

int mw_smtp_server_next(mw_smtp_server *s, const mw_smtp_event **evp)
{
    if (evp) *evp = NULL;
    if (!s || !evp) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (s->pending) return MW_ERR_STATE;
    for (;;) {
        if (s->phase == MW__SMTP_PH_CLOSED) return MW_ERR_CLOSED;
        memset(&s->ev, 0, sizeof s->ev);
        if (s->connect_due) {
            s->connect_due = 0;
            s->ev.type = MW_SMTP_EV_CONNECT;
            *evp = &s->ev;
            return paused(s, MW__SMTP_P_CONNECT, MW_SMTP_EV_CONNECT);
        }
        if (s->phase == MW__SMTP_PH_HANDOFF || mw__outq_len(&s->io.out) > MW__SMTP_OUT_HIGH) {
            s->blocked = 1;
            return 0;
        }
        int rc;
        switch (s->phase) {
        case MW__SMTP_PH_DATA: rc = mw__smtp_data_step(s); break;
        case MW__SMTP_PH_DATA_END: rc = mw__smtp_body_end(s); break;
        case MW__SMTP_PH_BDAT: rc = mw__smtp_bdat_step(s); break;
        default: rc = line_step(s); break;
        }
        if (rc == AGAIN) continue;
        if (rc > 0) {
            s->blocked = 0;
            s->ev.type = rc;
            if (s->tls) s->ev.flags |= MW_SMTP_F_TLS;
            if (s->authed) s->ev.flags |= MW_SMTP_F_AUTHENTICATED;
            *evp = &s->ev;
            return rc;
        }
        if (rc < 0) return set_fatal(s, rc);
        if (s->io.eof) {
            mw__smtp_close(s);
            return MW_ERR_CLOSED;
        }
        s->blocked = 1;
        return 0;
    }
}

/* ---- decisions --------------------------------------------------------- */

static const char *default_text(int code)
{
    switch (code) {
    case 235: return "Authentication successful";
    case 251: return "User not local; will forward";
    case 252: return "Cannot VRFY user, but will accept message and attempt delivery";
    case 354: return "End data with <CR><LF>.<CR><LF>";
    case 421: return "Service not available, closing transmission channel";
    case 450: return "Mailbox unavailable";
    case 451: return "Local error in processing";
    case 452: return "Insufficient system storage";
    case 454: return "Temporary authentication failure";
    case 535: return "Authentication credentials invalid";
    case 550: return "Mailbox unavailable";
    case 551: return "User not local";
    case 552: return "Exceeded storage allocation";
    case 553: return "Mailbox name not allowed";
    case 554: return "Transaction failed";
    default: return code < 400 ? "OK" : "Requested action not taken";
    }
}

/* Is code a valid answer to the paused event? */
static int code_fits(const mw_smtp_server *s, int code)
{
    int cls = code / 100;
    if (code < 200 || code > 599 || cls == 3) return code == 354 && s->pending == MW__SMTP_P_DATA;
    if (cls == 4 || cls == 5) return 1;
    switch (s->pending) {
    case MW__SMTP_P_CONNECT: return code == 220;
    case MW__SMTP_P_HELO: return code == 250;
    case MW__SMTP_P_DATA: return 0;
    case MW__SMTP_P_AUTH: return code == 235;
    default: return 1;
    }
}

static int check_enhanced(const char *e, int code)
{
    /* RFC 3463 §2: class "." subject "." detail, 1-3 digits each */
    if (!e) return 1;
    if (e[0] != (char)('0' + code / 100) || e[1] != '.') return 0;
    const char *p = e + 2;
    for (int part = 0; part < 2; part++) {
        int digits = 0;
        while (*p >= '0' && *p <= '9') p++, digits++;
        if (digits < 1 || digits > 3) return 0;
        if (part == 0 && *p++ != '.') return 0;
    }
    return *p == 0;
}

static int check_text(const char *t)
{
    size_t n = strlen(t);
    if (n > MW__SMTP_REPLY_TEXT_MAX) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if ((c < 32 && c != '\t') || c == 127) return 0; /* DESIGN rule 5 */
    }
    return 1;
}

static const char *default_enhanced(const mw_smtp_server *s, int code)
{
    if (code / 100 == 4) return "4.0.0";
    if (code / 100 == 5) return "5.0.0";
    switch (s->pending) {
    case MW__SMTP_P_MAIL: return "2.1.0";
    case MW__SMTP_P_RCPT: return "2.1.5";
    case MW__SMTP_P_AUTH: return "2.7.0";
    default: return "2.0.0";
    }
}

static int ehlo_reply(mw_smtp_server *s, const char *first)
{
    char buf[20][MW__SMTP_LIST_MAX + 40];
    const char *lines[20];
    size_t n = 0;
    const unsigned e = s->o.ext;
    if (s->pending_helo_kind == 1) {
        snprintf(buf[0], sizeof buf[0], "%s%s%s", s->o.hostname, first ? " " : "", first ? first : "");
        lines[0] = buf[0];
        return mw__smtp_put_reply(s, 250, NULL, lines, 1);
    }
    snprintf(buf[n++], sizeof buf[0], "%s%s%s", s->o.hostname, first ? " " : "", first ? first : "");
    if (e & MW_SMTP_EXT_PIPELINING) snprintf(buf[n++], sizeof buf[0], "PIPELINING");
    if ((e & MW_SMTP_EXT_SIZE) && s->o.max_size)
        snprintf(buf[n++], sizeof buf[0], "SIZE %llu", (unsigned long long)s->o.max_size);
    else if (e & MW_SMTP_EXT_SIZE)
        snprintf(buf[n++], sizeof buf[0], "SIZE");
    if (e & MW_SMTP_EXT_8BITMIME) snprintf(buf[n++], sizeof buf[0], "8BITMIME");
    if ((e & MW_SMTP_EXT_SMTPUTF8)) snprintf(buf[n++], sizeof buf[0], "SMTPUTF8");
    if (e & MW_SMTP_EXT_CHUNKING) snprintf(buf[n++], sizeof buf[0], "CHUNKING");
    if ((e & MW_SMTP_EXT_BINARYMIME) && (e & MW_SMTP_EXT_CHUNKING))
        snprintf(buf[n++], sizeof buf[0], "BINARYMIME");
    if (e & MW_SMTP_EXT_ENHANCEDSTATUSCODES) snprintf(buf[n++], sizeof buf[0], "ENHANCEDSTATUSCODES");
    if (e & MW_SMTP_EXT_DSN) snprintf(buf[n++], sizeof buf[0], "DSN");
    if ((e & MW_SMTP_EXT_STARTTLS) && !s->tls) snprintf(buf[n++], sizeof buf[0], "STARTTLS");
    if ((e & MW_SMTP_EXT_AUTH) && s->o.auth_mechs[0] && !s->authed) {
        /* RFC 4954 §6 (538 note): hide mechanisms not allowed in clear. */
        size_t o = (size_t)snprintf(buf[n], sizeof buf[0], "AUTH");
        const char *p = s->o.auth_mechs;
        int any = 0;
        while (*p) {
            while (*p == ' ') p++;
            const char *q = p;
            while (*q && *q != ' ') q++;
            if (q > p && (plaintext_ok(s) || !is_plaintext_mech(p, (size_t)(q - p)))) {
                buf[n][o++] = ' ';
                memcpy(buf[n] + o, p, (size_t)(q - p));
                o += (size_t)(q - p);
                any = 1;
            }
            p = q;
        }
        buf[n][o] = 0;
        if (any) n++;
    }
    if ((e & MW_SMTP_EXT_REQUIRETLS) && s->tls) snprintf(buf[n++], sizeof buf[0], "REQUIRETLS");
    if (e & MW_SMTP_EXT_MT_PRIORITY) snprintf(buf[n++], sizeof buf[0], "MT-PRIORITY");
    if (s->o.ehlo_extra[0]) snprintf(buf[n++], sizeof buf[0], "%s", s->o.ehlo_extra);
    for (size_t i = 0; i < n; i++) lines[i] = buf[i];
    return mw__smtp_put_reply(s, 250, NULL, lines, n);
}

/* Apply the state change of an answer, after its reply was queued. */
static void after_answer(mw_smtp_server *s, int code)
{
    int ok = code / 100 == 2 || code == 354;
    switch (s->pending) {
    case MW__SMTP_P_CONNECT:
        if (code == 554) s->refused = 1; /* RFC 5321 §3.1: wait for QUIT, 503 to the rest */
        break;
    case MW__SMTP_P_HELO:
        if (ok) s->helo_kind = s->pending_helo_kind;
        break;
    case MW__SMTP_P_MAIL:
        if (ok) {
            s->txn = 1;
            s->smtputf8 = (s->ev.flags & MW_SMTP_F_SMTPUTF8) != 0;
            s->binarymime = s->ev.body == MW_SMTP_BODY_BINARYMIME;
        }
        break;
    case MW__SMTP_P_RCPT:
        if (ok) s->rcpts++;
        break;
    case MW__SMTP_P_DATA:
        if (ok) mw__smtp_body_begin(s, 0);
        break;
    case MW__SMTP_P_BODY_END:
        if (s->lmtp_left > 1) {
            s->lmtp_left--;
            return; /* RFC 2033 §4.2: one reply per accepted recipient */
        }
        mw__smtp_reset_txn(s);
        break;
    case MW__SMTP_P_AUTH:
        s->phase = MW__SMTP_PH_CMD;
        if (code == 235) s->authed = 1;
        break;
    default: break;
    }
    s->pending = MW__SMTP_P_NONE;
}

int mw_smtp_server_reply_lines(mw_smtp_server *s, int code, const char *enhanced,
                               const char *const *lines, size_t n)
{
    if (!s || !lines || n < 1 || n > MW__SMTP_REPLY_LINES_MAX) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (!s->pending && code != 421) return MW_ERR_STATE;
    if (code != 421 && !code_fits(s, code)) return MW_ERR_INVALID;
    if (!check_enhanced(enhanced, code)) return MW_ERR_INVALID;
    const char *texts[MW__SMTP_REPLY_LINES_MAX];
    for (size_t i = 0; i < n; i++) {
        texts[i] = lines[i] ? lines[i] : default_text(code);
        if (!check_text(texts[i])) return MW_ERR_INVALID;
    }
    int no_enh = s->pending == MW__SMTP_P_HELO || s->pending == MW__SMTP_P_CONNECT;
    const char *enh = no_enh ? NULL : (enhanced ? enhanced : default_enhanced(s, code));
    int rc;
    if (s->pending == MW__SMTP_P_HELO && code == 250) {
        rc = ehlo_reply(s, lines[0]);
    } else if (code == 421 || code == 220 || (code == 554 && s->pending == MW__SMTP_P_CONNECT)) {
        char first[MW__SMTP_HOST_MAX + MW__SMTP_REPLY_TEXT_MAX + 2];
        snprintf(first, sizeof first, "%s %s", s->o.hostname, texts[0]);
        texts[0] = first;
        rc = mw__smtp_put_reply(s, code, enh, texts, n);
    } else {
        rc = mw__smtp_put_reply(s, code, enh, texts, n);
    }
    if (rc) return rc == MW_ERR_NOMEM ? set_fatal(s, rc) : rc;
    if (code == 421) {
        mw__smtp_close(s); /* RFC 5321 §3.8 */
        return MW_OK;
    }
    after_answer(s, code);
    return MW_OK;
}

int mw_smtp_server_reply(mw_smtp_server *s, int code, const char *enhanced, const char *text)
{
    return mw_smtp_server_reply_lines(s, code, enhanced, &text, 1);
}

int mw_smtp_server_accept(mw_smtp_server *s)
{
    if (!s) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    switch (s->pending) {
    case MW__SMTP_P_NONE: return MW_ERR_STATE;
    case MW__SMTP_P_CONNECT: {
        int rc = greet(s);
        if (rc) return rc;
        s->pending = MW__SMTP_P_NONE;
        return MW_OK;
    }
    case MW__SMTP_P_HELO: {
        int rc = ehlo_reply(s, NULL);
        if (rc) return rc == MW_ERR_NOMEM ? set_fatal(s, rc) : rc;
        after_answer(s, 250);
        return MW_OK;
    }
    case MW__SMTP_P_DATA: return mw_smtp_server_reply(s, 354, NULL, NULL);
    case MW__SMTP_P_VRFY: return mw_smtp_server_reply(s, 252, "2.1.5", NULL);
    case MW__SMTP_P_AUTH: return mw_smtp_server_reply(s, 235, NULL, NULL);
    case MW__SMTP_P_BODY_END:
        while (s->pending == MW__SMTP_P_BODY_END) {
            int rc = mw_smtp_server_reply(s, 250, NULL, NULL);
            if (rc) return rc;
        }
        return MW_OK;
    default: return mw_smtp_server_reply(s, 250, NULL, NULL);
    }
}

int mw_smtp_server_auth_challenge(mw_smtp_server *s, const void *data, size_t len)
{
    if (!s || (!data && len)) return MW_ERR_INVALID;
    if (s->io.fatal) return s->io.fatal;
    if (s->pending != MW__SMTP_P_AUTH) return MW_ERR_STATE;
    size_t enc = 4 * ((len + 2) / 3);
    if (enc + 6 > s->o.max_auth) return MW_ERR_INVALID;
    if (enc + 6 > mw__outq_room(&s->io.out)) return MW_ERR_LIMIT;
    size_t got;
    unsigned char *w = mw__outq_reserve(&s->io.out, enc + 6, &got);
    if (!w) return set_fatal(s, MW_ERR_NOMEM);
    memcpy(w, "334 ", 4);
    mw_ssize e = mw_b64_encode(data, len, (char *)w + 4, enc, 0);
    if (e < 0) return e == MW_ERR_NOMEM ? set_fatal(s, (int)e) : (int)e;
    size_t o = 4 + (size_t)e;
    w[o++] = '\r';
    w[o++] = '\n';
    mw__outq_commit(&s->io.out, o);
    s->pending = MW__SMTP_P_NONE;
    s->phase = MW__SMTP_PH_AUTH;
    return MW_OK;
}
