/*
 * SMTP client: the envelope (MAIL/RCPT/DATA lines built once, checked for
 * injection, sent in one group or one at a time) and the body writer
 * (dot-stuffed DATA, or BDAT chunks).
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_client_internal.h"

#include <stdio.h>

/* ---- building --------------------------------------------------------- */

static int store_add(mw_smtp_client *c, const void *p, size_t n)
{
    if (c->store_len + n > c->store_cap) {
        size_t cap = c->store_cap ? c->store_cap : 1024;
        while (cap < c->store_len + n) cap *= 2;
        char *nb = mw__realloc(&c->mem, c->store, cap);
        if (!nb) return MW_ERR_NOMEM;
        c->store = nb;
        c->store_cap = cap;
    }
    memcpy(c->store + c->store_len, p, n);
    c->store_len += n;
    return MW_OK;
}

static int store_puts(mw_smtp_client *c, const char *s) { return store_add(c, s, strlen(s)); }

static int store_xtext(mw_smtp_client *c, const char *s)
{
    char tmp[3 * 512];
    size_t n = strlen(s);
    if (n > 512) return MW_ERR_INVALID;
    mw_ssize k = mw_smtp_xtext_encode(s, n, tmp, sizeof tmp);
    return k < 0 ? MW_ERR_INVALID : store_add(c, tmp, (size_t)k);
}

/* DESIGN.md rule 5: nothing that could end or break the command line, and
 * no angle brackets that would close the path early. RFC 5321 §4.5.3.1.3:
 * a path is at most 256 octets with its brackets. Non-ASCII only with
 * SMTPUTF8 (RFC 6531 §3.4). */
static int check_addr(const char *a, int allow_empty, int utf8)
{
    size_t n = strlen(a);
    if ((!n && !allow_empty) || n > 254) return MW_ERR_INVALID;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)a[i];
        if (ch < ' ' || ch == 127 || ch == '<' || ch == '>') return MW_ERR_INVALID;
        if (ch >= 128 && !utf8) return MW_ERR_INVALID;
    }
    return MW_OK;
}

/* ENVID, ORCPT and AUTH= values are xtext-encoded, so only controls are refused. */
static int check_text(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max) return MW_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < ' ' || s[i] == 127) return MW_ERR_INVALID;
    return MW_OK;
}

static int check_envelope(const mw_smtp_client *c, const mw_smtp_client_envelope *e)
{
    int utf8 = (e->flags & MW_SMTP_F_SMTPUTF8) != 0;
    unsigned ext = c->ext;
    if (!e->from || !e->rcpts || e->nrcpts == 0 || e->nrcpts > c->o.max_rcpts) return MW_ERR_INVALID;
    if (e->flags & ~(unsigned)(MW_SMTP_F_SIZE | MW_SMTP_F_SMTPUTF8 | MW_SMTP_F_REQUIRETLS | MW_SMTP_F_MT_PRIORITY))
        return MW_ERR_INVALID;
    if (e->body < MW_SMTP_BODY_NONE || e->body > MW_SMTP_BODY_BINARYMIME || e->ret < MW_SMTP_RET_NONE ||
        e->ret > MW_SMTP_RET_HDRS)
        return MW_ERR_INVALID;
    if ((e->flags & MW_SMTP_F_MT_PRIORITY) && (e->mt_priority < -9 || e->mt_priority > 9)) return MW_ERR_INVALID;
    if (check_addr(e->from, 1, utf8)) return MW_ERR_INVALID;
    if (e->envid && check_text(e->envid, 100)) return MW_ERR_INVALID; /* RFC 3461 §4.4 */
    if (e->auth && check_text(e->auth, 500)) return MW_ERR_INVALID;
    int dsn = e->ret != MW_SMTP_RET_NONE || e->envid;
    for (size_t i = 0; i < e->nrcpts; i++) {
        const mw_smtp_client_rcpt *r = &e->rcpts[i];
        if (!r->address || check_addr(r->address, 0, utf8)) return MW_ERR_INVALID;
        if (r->notify & ~0xfu) return MW_ERR_INVALID;
        /* RFC 3461 §4.1: NEVER stands alone. */
        if ((r->notify & MW_SMTP_NOTIFY_NEVER) && (r->notify & ~MW_SMTP_NOTIFY_NEVER)) return MW_ERR_INVALID;
        if (r->orcpt && check_text(r->orcpt, 500)) return MW_ERR_INVALID;
        if (r->orcpt_type) {
            size_t n = strlen(r->orcpt_type);
            if (n == 0 || n > 32) return MW_ERR_INVALID;
            for (size_t k = 0; k < n; k++) {
                char ch = r->orcpt_type[k];
                if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-'))
                    return MW_ERR_INVALID;
            }
        }
        dsn |= r->notify || r->orcpt;
    }
    /* Parameters of extensions the server did not announce must not be sent. */
    if (utf8 && !(ext & MW_SMTP_EXT_SMTPUTF8)) return MW_ERR_UNSUPPORTED;
    if (e->body == MW_SMTP_BODY_8BITMIME && !(ext & MW_SMTP_EXT_8BITMIME)) return MW_ERR_UNSUPPORTED;
    if (e->body == MW_SMTP_BODY_BINARYMIME &&
        (ext & (MW_SMTP_EXT_BINARYMIME | MW_SMTP_EXT_CHUNKING)) != (MW_SMTP_EXT_BINARYMIME | MW_SMTP_EXT_CHUNKING))
        return MW_ERR_UNSUPPORTED;
    if (dsn && !(ext & MW_SMTP_EXT_DSN)) return MW_ERR_UNSUPPORTED;
    if (e->auth && !(ext & MW_SMTP_EXT_AUTH)) return MW_ERR_UNSUPPORTED;
    if ((e->flags & MW_SMTP_F_REQUIRETLS) && (!(ext & MW_SMTP_EXT_REQUIRETLS) || !c->tls)) return MW_ERR_UNSUPPORTED;
    if ((e->flags & MW_SMTP_F_MT_PRIORITY) && !(ext & MW_SMTP_EXT_MT_PRIORITY)) return MW_ERR_UNSUPPORTED;
    /* RFC 1870 §6: a message known to be too big is not offered at all. */
    if ((e->flags & MW_SMTP_F_SIZE) && (ext & MW_SMTP_EXT_SIZE) && c->size_limit && e->size > c->size_limit)
        return MW_ERR_LIMIT;
    return MW_OK;
}

static int new_line(mw_smtp_client *c, size_t start)
{
    if (c->nlines == c->lines_cap) {
        size_t cap = c->lines_cap ? c->lines_cap * 2 : 16;
        mw__smtpc_line *nl = mw__realloc(&c->mem, c->lines, cap * sizeof *nl);
        if (!nl) return MW_ERR_NOMEM;
        c->lines = nl;
        c->lines_cap = cap;
    }
    mw__smtpc_line *l = &c->lines[c->nlines++];
    memset(l, 0, sizeof *l);
    l->off = start;
    return MW_OK;
}

static int end_line(mw_smtp_client *c)
{
    int rc = store_add(c, "\r\n", 2);
    if (rc) return rc;
    mw__smtpc_line *l = &c->lines[c->nlines - 1];
    l->len = c->store_len - l->off;
    return l->len > MW__SMTPC_PARAM_LINE ? MW_ERR_INVALID : MW_OK;
}

static int build_mail(mw_smtp_client *c, const mw_smtp_client_envelope *e)
{
    char num[64];
    int rc = new_line(c, c->store_len);
    if (!rc) rc = store_puts(c, "MAIL FROM:<");
    if (!rc) rc = store_puts(c, e->from);
    if (!rc) rc = store_puts(c, ">");
    if (!rc && (e->flags & MW_SMTP_F_SIZE) && (c->ext & MW_SMTP_EXT_SIZE)) {
        snprintf(num, sizeof num, " SIZE=%llu", (unsigned long long)e->size);
        rc = store_puts(c, num);
    }
    if (!rc && e->body == MW_SMTP_BODY_7BIT && (c->ext & MW_SMTP_EXT_8BITMIME)) rc = store_puts(c, " BODY=7BIT");
    if (!rc && e->body == MW_SMTP_BODY_8BITMIME) rc = store_puts(c, " BODY=8BITMIME");
    if (!rc && e->body == MW_SMTP_BODY_BINARYMIME) rc = store_puts(c, " BODY=BINARYMIME");
    if (!rc && (e->flags & MW_SMTP_F_SMTPUTF8)) rc = store_puts(c, " SMTPUTF8");
    if (!rc && e->ret) rc = store_puts(c, e->ret == MW_SMTP_RET_FULL ? " RET=FULL" : " RET=HDRS");
    if (!rc && e->envid) rc = store_puts(c, " ENVID=");
    if (!rc && e->envid) rc = store_xtext(c, e->envid);
    if (!rc && e->auth) rc = store_puts(c, " AUTH=");
    if (!rc && e->auth) rc = store_xtext(c, e->auth);
    if (!rc && (e->flags & MW_SMTP_F_REQUIRETLS)) rc = store_puts(c, " REQUIRETLS");
    if (!rc && (e->flags & MW_SMTP_F_MT_PRIORITY)) {
        snprintf(num, sizeof num, " MT-PRIORITY=%d", e->mt_priority);
        rc = store_puts(c, num);
    }
    return rc ? rc : end_line(c);
}

static int build_rcpt(mw_smtp_client *c, const mw_smtp_client_rcpt *r)
{
    static const char *const names[] = {"SUCCESS", "FAILURE", "DELAY"};
    static const unsigned bits[] = {MW_SMTP_NOTIFY_SUCCESS, MW_SMTP_NOTIFY_FAILURE, MW_SMTP_NOTIFY_DELAY};
    int rc = new_line(c, c->store_len);
    if (!rc) rc = store_puts(c, "RCPT TO:<");
    c->lines[c->nlines - 1].addr_off = c->store_len;
    c->lines[c->nlines - 1].addr_len = strlen(r->address);
    if (!rc) rc = store_puts(c, r->address);
    if (!rc) rc = store_puts(c, ">");
    if (!rc && r->notify) {
        rc = store_puts(c, (r->notify & MW_SMTP_NOTIFY_NEVER) ? " NOTIFY=NEVER" : " NOTIFY=");
        const char *sep = "";
        for (int i = 0; !rc && i < 3; i++) {
            if (!(r->notify & bits[i])) continue;
            rc = store_puts(c, sep);
            if (!rc) rc = store_puts(c, names[i]);
            sep = ",";
        }
    }
    if (!rc && r->orcpt) {
        rc = store_puts(c, " ORCPT=");
        if (!rc) rc = store_puts(c, r->orcpt_type ? r->orcpt_type : "rfc822");
        if (!rc) rc = store_puts(c, ";");
        if (!rc) rc = store_xtext(c, r->orcpt);
    }
    return rc ? rc : end_line(c);
}

int mw__smtpc_build(mw_smtp_client *c, const mw_smtp_client_envelope *env)
{
    c->store_len = 0;
    c->nlines = 0;
    int rc = build_mail(c, env);
    for (size_t i = 0; !rc && i < env->nrcpts; i++) rc = build_rcpt(c, &env->rcpts[i]);
    if (!rc && !c->bdat) {
        rc = new_line(c, c->store_len);
        if (!rc) rc = store_puts(c, "DATA");
        if (!rc) rc = end_line(c);
    }
    return rc;
}

/* ---- sending the envelope --------------------------------------------- */

int mw__smtpc_pump(mw_smtp_client *c)
{
    while (c->txn && c->next_line < c->send_limit && c->next_line < c->nlines) {
        const mw__smtpc_line *l = &c->lines[c->next_line];
        if (l->len > mw__outq_room(&c->io.out) || c->wcount == c->wcap)
            return MW_OK; /* after a drain */
        int kind = c->next_line == 0                               ? MW__SMTPC_K_MAIL
                   : (!c->bdat && c->next_line == c->nlines - 1) ? MW__SMTPC_K_DATA
                                                                  : MW__SMTPC_K_RCPT;
        int rc = mw__outq_append(&c->io.out, c->store + l->off, l->len);
        if (rc) return rc;
        mw__smtpc_expect(c, kind, 0, c->next_line, 0);
        c->next_line++;
    }
    return MW_OK;
}

int mw_smtp_client_send(mw_smtp_client *c, const mw_smtp_client_envelope *env)
{
    if (!c || !env) return MW_ERR_INVALID;
    if (c->io.fatal) return c->io.fatal;
    if (!c->ready || c->txn || c->wcount || c->ndue || c->phase != MW__SMTPC_PH_RUN) return MW_ERR_STATE;
    int rc = check_envelope(c, env);
    if (rc) return rc;
    /* RFC 3030: BINARYMIME needs BDAT; otherwise BDAT when offered. */
    c->bdat = env->body == MW_SMTP_BODY_BINARYMIME ||
              ((c->ext & MW_SMTP_EXT_CHUNKING) && !(c->o.flags & MW_SMTP_CLIENT_NO_CHUNKING));
    rc = mw__smtpc_build(c, env);
    if (rc) return rc;
    c->pipelining = (c->ext & MW_SMTP_EXT_PIPELINING) && !(c->o.flags & MW_SMTP_CLIENT_NO_PIPELINING);
    c->txn = 1;
    c->nrcpts = env->nrcpts;
    c->mail_ok = c->body_open = 0;
    c->rcpt_replies = c->accepted = c->delivered = c->finals_due = 0;
    c->chunk_len = 0;
    c->next_line = 0;
    /* RFC 2920 §3.1: MAIL, RCPT... and DATA (last) go as one group. */
    c->send_limit = c->pipelining ? c->nlines : 1;
    rc = mw__smtpc_pump(c);
    return rc ? mw__smtpc_set_fatal(c, rc) : MW_OK;
}

/* ---- body ---------------------------------------------------------------- */

#define TERM_RESERVE 7u /* a held CR's CRLF, then CRLF "." CRLF */

/*
 * Length of the prefix of p[0, n) that needs no line-end repair: every CR
 * is followed by LF and every LF follows a CR inside the prefix. It stops
 * at a bare CR, at a CR that ends the input (its LF may come with the next
 * write) and at an LF not preceded by CR (offset 0 included: the caller
 * knows what came before). memchr finds the line ends; CRs are looked for
 * only inside each line.
 */
static size_t clean_prefix(const unsigned char *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        const unsigned char *lf = memchr(p + i, '\n', n - i);
        size_t end = lf ? (size_t)(lf - p) : n;
        size_t scan_end = lf && end > i ? end - 1 : end; /* the CR of CRLF is fine */
        const unsigned char *cr = scan_end > i ? memchr(p + i, '\r', scan_end - i) : NULL;
        if (cr) return (size_t)(cr - p);
        if (!lf) return n;
        if (end == 0 || p[end - 1] != '\r') return end;
        i = end + 1;
    }
    return n;
}

/* Run the dot-stuffer over in[0, n) into out[0, cap). @return consumed. */
static size_t stuff(mw_smtp_client *c, const unsigned char *in, size_t n, unsigned char *out, size_t cap,
                    size_t *produced)
{
    c->dot.next_in = in;
    c->dot.avail_in = n;
    c->dot.next_out = out;
    c->dot.avail_out = cap;
    mw_dotstuff_step(&c->dot, 0); /* cannot fail: the stepper is valid */
    *produced = (size_t)(c->dot.next_out - out);
    return n - c->dot.avail_in;
}

/*
 * DATA: dot-stuff into the output queue. Unless MW_SMTP_CLIENT_RAW_BODY, a
 * bare CR or LF becomes CRLF on the way (RFC 5321 §2.3.8, DESIGN.md rule
 * 2): a relay must not pass on "\n.\n", which a lenient server downstream
 * would take as the end of data (SMTP smuggling, CVE-2023-51764).
 */
static mw_ssize data_write(mw_smtp_client *c, const unsigned char *p, size_t len)
{
    size_t room = mw__outq_room(&c->io.out);
    if (room <= TERM_RESERVE) return 0;
    room -= TERM_RESERVE;
    size_t want = len + len / 4 + 64;
    if (want > room || want < len) want = room;
    size_t got;
    unsigned char *w = mw__outq_reserve(&c->io.out, want, &got);
    if (!w) return mw__smtpc_set_fatal(c, MW_ERR_NOMEM);
    static const unsigned char crlf[2] = {'\r', '\n'};
    int raw = (c->o.flags & MW_SMTP_CLIENT_RAW_BODY) != 0;
    size_t in = 0, out = 0, made;
    if (raw) {
        in = stuff(c, p, len, w, want, &out);
        len = 0;
    }
    while (in < len && out < want) {
        if (c->held_cr) { /* a CR ended the last write: CRLF either way */
            if (want - out < 2) break;
            stuff(c, crlf, 2, w + out, 2, &made);
            out += made;
            c->held_cr = 0;
            c->prev_cr = 0;
            if (p[in] == '\n') in++;
            continue;
        }
        /* Scan no further than the output can take: a long input is not
         * rescanned on every call. */
        size_t window = len - in < want - out ? len - in : want - out;
        size_t k = clean_prefix(p + in, window);
        if (k == 0) {
            const unsigned char *src = crlf;
            size_t take = 1; /* input octets this step stands for */
            if (p[in] == '\r' && in + 1 == len) { /* its LF may come next time */
                c->held_cr = 1;
                in++;
                continue;
            }
            if (p[in] == '\r' && p[in + 1] == '\n') { /* a CRLF cut by the window */
                src = p + in;
                take = 2;
            } else if (p[in] == '\n' && c->prev_cr) { /* the LF of a CRLF cut by the output */
                src = p + in;
            }
            size_t n = src == p + in ? take : 2;
            if (want - out < n) break;
            stuff(c, src, n, w + out, n, &made);
            out += made;
            in += take;
            c->prev_cr = 0;
            continue;
        }
        size_t took = stuff(c, p + in, k, w + out, want - out, &made);
        if (took) c->prev_cr = p[in + took - 1] == '\r';
        in += took;
        out += made;
        if (took < k) break; /* output full */
    }
    mw__outq_commit(&c->io.out, out);
    return (mw_ssize)in;
}

/* Send the staged chunk. @return MW_OK, MW_ERR_LIMIT (not now), MW_ERR_NOMEM. */
static int flush_chunk(mw_smtp_client *c, int last)
{
    size_t finals = last ? (c->o.flags & MW_SMTP_CLIENT_LMTP ? c->accepted : 1) : 1;
    /* Without PIPELINING every BDAT waits for the previous reply (RFC 3030 §4.2). */
    if (!c->pipelining && c->wcount) return MW_ERR_LIMIT;
    if (c->wcap - c->wcount < finals) return MW_ERR_LIMIT;
    char head[48];
    int hl = snprintf(head, sizeof head, "BDAT %zu%s\r\n", c->chunk_len, last ? " LAST" : "");
    if ((size_t)hl + c->chunk_len > mw__outq_room(&c->io.out)) return MW_ERR_LIMIT;
    int rc = mw__outq_append(&c->io.out, head, (size_t)hl);
    if (!rc) rc = mw__outq_append(&c->io.out, c->chunk, c->chunk_len);
    if (rc) return mw__smtpc_set_fatal(c, rc);
    if (!last) mw__smtpc_expect(c, MW__SMTPC_K_BDAT, 0, 0, c->chunk_len);
    c->chunk_len = 0;
    return MW_OK;
}

mw_ssize mw_smtp_client_body_write(mw_smtp_client *c, const void *data, size_t len)
{
    if (!c || (!data && len)) return MW_ERR_INVALID;
    if (c->io.fatal) return c->io.fatal;
    if (!c->body_open || c->ndue) return MW_ERR_STATE;
    const unsigned char *p = data;
    if (!c->bdat) return data_write(c, p, len);
    if (!c->chunk) {
        c->chunk = mw__malloc(&c->mem, c->o.chunk);
        if (!c->chunk) return mw__smtpc_set_fatal(c, MW_ERR_NOMEM);
    }
    size_t done = 0;
    while (done < len) {
        if (c->chunk_len == c->o.chunk) {
            int rc = flush_chunk(c, 0);
            if (rc == MW_ERR_LIMIT) break;
            if (rc) return rc;
        }
        size_t n = c->o.chunk - c->chunk_len;
        if (n > len - done) n = len - done;
        memcpy(c->chunk + c->chunk_len, p + done, n);
        c->chunk_len += n;
        done += n;
    }
    return (mw_ssize)done;
}

/* One FINAL entry per reply due: LMTP answers for each accepted recipient
 * (RFC 2033 §4.2), in RCPT order. */
static void expect_finals(mw_smtp_client *c)
{
    if (c->o.flags & MW_SMTP_CLIENT_LMTP) {
        for (size_t i = 1; i < c->nlines; i++)
            if (c->lines[i].accepted) mw__smtpc_expect(c, MW__SMTPC_K_FINAL, 0, i, 0);
        c->finals_due = c->accepted;
    } else {
        mw__smtpc_expect(c, MW__SMTPC_K_FINAL, 0, 0, 0);
        c->finals_due = 1;
    }
}

int mw_smtp_client_body_end(mw_smtp_client *c)
{
    if (!c) return MW_ERR_INVALID;
    if (c->io.fatal) return c->io.fatal;
    if (!c->body_open || c->ndue) return MW_ERR_STATE;
    if (c->bdat) {
        int rc = flush_chunk(c, 1); /* "BDAT 0 LAST" for an empty rest */
        if (rc) return rc;
    } else {
        size_t finals = (c->o.flags & MW_SMTP_CLIENT_LMTP) ? c->accepted : 1;
        if (mw__outq_room(&c->io.out) < TERM_RESERVE || c->wcap - c->wcount < finals)
            return MW_ERR_LIMIT;
        size_t got;
        unsigned char *w = mw__outq_reserve(&c->io.out, TERM_RESERVE, &got);
        if (!w) return mw__smtpc_set_fatal(c, MW_ERR_NOMEM);
        size_t made = 0;
        if (c->held_cr) stuff(c, (const unsigned char *)"\r\n", 2, w, 2, &made);
        c->held_cr = c->prev_cr = 0;
        c->dot.next_in = NULL;
        c->dot.avail_in = 0;
        c->dot.next_out = w + made;
        c->dot.avail_out = TERM_RESERVE - made;
        int rc = mw_dotstuff_step(&c->dot, 1);
        if (rc != MW_CODEC_DONE) return mw__smtpc_set_fatal(c, rc < 0 ? rc : MW_ERR_STATE);
        mw__outq_commit(&c->io.out, (size_t)(c->dot.next_out - w));
    }
    expect_finals(c);
    c->body_open = 0;
    return MW_OK;
}
