/*
 * SMTP/LMTP client engine: the caller queues commands (the engine builds
 * every line and refuses CR/LF injection), the engine pairs each reply
 * with the command it answers (a FIFO, so pipelining needs no care from
 * the caller), parses multi-line replies, enhanced codes and the EHLO
 * capability list, and writes the body dot-stuffed with CRLF line ends.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_internal.h"

#include <stdio.h>

#define PENDING_MAX 1024u /* commands awaiting replies (LMTP: one per recipient) */
#define CLIENT_OUT_MAX (256u * 1024u)
#define CLIENT_IN_MAX (64u * 1024u) /* a whole reply must fit */

struct mw_smtp_client_opts {
    mw_mem mem;
    unsigned flags;
    size_t max_line, max_lines;
    char hostname[MW__SMTP_HOST_MAX + 1];
};

typedef struct pending {
    uint8_t cmd;
    uint32_t idx; /* RCPT index, LMTP recipient, BDAT: 1 when LAST */
} pending;

struct mw_smtp_client {
    mw_mem mem;
    mw_smtp_client_opts o;
    mw__inbuf in;
    mw__outq out;
    mw_smtp_reply r;
    int fatal, closed, eof, handoff;
    int recv_out;
    size_t recv_len;
    pending ring[PENDING_MAX];
    size_t head, count;
    size_t scan_pos, scan_lines; /* progress through a partly received reply */
    int scan_code;
    unsigned ext;
    int greeted, auth_open;
    /* transaction */
    uint32_t rcpt_sent, rcpt_ok;
    int data_wait; /* DATA sent, its reply not seen */
    int body;      /* 0 none, 1 DATA body, 2 BDAT chunk */
    int bol, cr;   /* DATA body: at a line start; a CR is pending */
    uint64_t bdat_left;
};

/* ---- options and life cycle ------------------------------------------ */

mw_smtp_client_opts *mw_smtp_client_opts_new(const mw_mem *mem)
{
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_smtp_client_opts *o = mw__calloc(&m, 1, sizeof *o);
    if (!o) return NULL;
    o->mem = m;
    o->max_line = 2048;
    o->max_lines = 200;
    memcpy(o->hostname, "localhost", sizeof "localhost");
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
    if (!o || !name) return MW_ERR_INVALID;
    size_t n = strlen(name);
    if (n == 0 || n > MW__SMTP_HOST_MAX) return MW_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] <= 32 || (unsigned char)name[i] >= 127) return MW_ERR_INVALID;
    memcpy(o->hostname, name, n + 1);
    return MW_OK;
}

int mw_smtp_client_opts_set_flags(mw_smtp_client_opts *o, unsigned flags, int on)
{
    if (!o || (flags & ~3u)) return MW_ERR_INVALID;
    if (on)
        o->flags |= flags;
    else
        o->flags &= ~flags;
    return MW_OK;
}

static int push(mw_smtp_client *c, int cmd, uint32_t idx)
{
    if (c->count >= PENDING_MAX) return MW_ERR_LIMIT;
    pending *p = &c->ring[(c->head + c->count) % PENDING_MAX];
    p->cmd = (uint8_t)cmd;
    p->idx = idx;
    c->count++;
    return MW_OK;
}

int mw_smtp_client_new(const mw_mem *mem, const mw_smtp_client_opts *opts, mw_smtp_client **out)
{
    if (!out) return MW_ERR_INVALID;
    *out = NULL;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_smtp_client *c = mw__calloc(&m, 1, sizeof *c);
    if (!c) return MW_ERR_NOMEM;
    c->mem = m;
    if (opts) {
        c->o = *opts;
    } else {
        c->o.max_line = 2048;
        c->o.max_lines = 200;
        memcpy(c->o.hostname, "localhost", sizeof "localhost");
    }
    c->o.mem = m;
    mw__inbuf_init(&c->in, &c->mem, CLIENT_IN_MAX);
    mw__outq_init(&c->out, &c->mem, CLIENT_OUT_MAX);
    push(c, MW_SMTP_CMD_GREETING, 0);
    *out = c;
    return MW_OK;
}

void mw_smtp_client_free(mw_smtp_client *c)
{
    if (!c) return;
    mw_mem m = c->mem;
    mw__inbuf_free(&c->in);
    mw__outq_free(&c->out);
    mw__free(&m, c);
}

/* ---- transport ----------------------------------------------------- */

static int fail(mw_smtp_client *c, int rc)
{
    if (mw_is_fatal(rc) && !c->fatal) c->fatal = rc;
    return rc;
}

mw_ssize mw_smtp_client_feed(mw_smtp_client *c, const void *data, size_t len)
{
    if (!c || (!data && len)) return MW_ERR_INVALID;
    if (c->fatal) return c->fatal;
    if (c->closed || c->eof) return MW_ERR_CLOSED;
    if (c->handoff) return fail(c, MW_ERR_TLS_INJECTION); /* DESIGN rule 1: a client fails hard */
    c->recv_out = 0;
    mw_ssize n = mw__inbuf_feed(&c->in, data, len);
    return n < 0 ? fail(c, (int)n) : n;
}

unsigned char *mw_smtp_client_recv_buf(mw_smtp_client *c, size_t *len)
{
    if (len) *len = 0;
    if (!c || !len || c->fatal || c->closed || c->eof || c->handoff) return NULL;
    unsigned char *p;
    int rc = mw__inbuf_reserve(&c->in, &p, len);
    if (rc) {
        fail(c, rc);
        return NULL;
    }
    c->recv_out = p != NULL;
    c->recv_len = *len;
    return p;
}

int mw_smtp_client_recv_ack(mw_smtp_client *c, size_t n)
{
    if (!c) return MW_ERR_INVALID;
    if (!c->recv_out) return MW_ERR_STATE;
    if (n > c->recv_len) return MW_ERR_INVALID;
    c->recv_out = 0;
    mw__inbuf_recv_ack(&c->in, n);
    return MW_OK;
}

int mw_smtp_client_eof(mw_smtp_client *c)
{
    if (!c) return MW_ERR_INVALID;
    c->eof = 1;
    return MW_OK;
}

const unsigned char *mw_smtp_client_out_buf(mw_smtp_client *c, size_t *len)
{
    size_t dummy;
    if (!len) len = &dummy;
    if (!c) {
        *len = 0;
        return NULL;
    }
    return mw__outq_buf(&c->out, len);
}

void mw_smtp_client_out_ack(mw_smtp_client *c, size_t n)
{
    if (c) mw__outq_ack(&c->out, n);
}

unsigned mw_smtp_client_state(const mw_smtp_client *c)
{
    if (!c) return 0;
    unsigned st = mw__outq_len(&c->out) ? MW_WANT_WRITE : 0u;
    if (c->fatal || c->closed) return st | MW_CLOSED;
    if (c->handoff) return st | MW_TLS_HANDOFF;
    if (c->count && !c->eof) st |= MW_WANT_READ;
    return st;
}

int mw_smtp_client_tls_started(mw_smtp_client *c)
{
    if (!c) return MW_ERR_INVALID;
    if (!c->handoff) return MW_ERR_STATE;
    c->handoff = 0;
    c->ext = 0; /* RFC 3207 §4.2: forget what was learnt in clear */
    c->auth_open = 0;
    return MW_OK;
}

/* ---- replies ---------------------------------------------------------- */

static int is_digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

/* "c.sss.ddd " at the start of text, class matching the code (RFC 3463 §2). */
static size_t enhanced_len(const char *t, size_t n, int code)
{
    size_t i = 0;
    if (n < 5 || t[0] != (char)('0' + code / 100) || t[1] != '.') return 0;
    i = 2;
    for (int part = 0; part < 2; part++) {
        size_t d = 0;
        while (i < n && is_digit((unsigned char)t[i]) && d < 4) i++, d++;
        if (d < 1 || d > 3) return 0;
        if (part == 0) {
            if (i >= n || t[i] != '.') return 0;
            i++;
        }
    }
    return i == n || t[i] == ' ' ? i : 0;
}

static int kw_is(const char *p, size_t n, const char *kw)
{
    size_t k = strlen(kw);
    return n >= k && mw__smtp_ieq(p, k, kw) && (n == k || p[k] == ' ' || p[k] == '=');
}

/* EHLO 250: capability keywords, one per line after the first (RFC 5321 §4.1.1.1). */
static void parse_ehlo(mw_smtp_client *c, const char *lines, size_t len)
{
    static const struct { const char *kw; unsigned bit; } t[] = {
        {"PIPELINING", MW_SMTP_EXT_PIPELINING}, {"SIZE", MW_SMTP_EXT_SIZE},
        {"8BITMIME", MW_SMTP_EXT_8BITMIME}, {"SMTPUTF8", MW_SMTP_EXT_SMTPUTF8},
        {"CHUNKING", MW_SMTP_EXT_CHUNKING}, {"BINARYMIME", MW_SMTP_EXT_BINARYMIME},
        {"ENHANCEDSTATUSCODES", MW_SMTP_EXT_ENHANCEDSTATUSCODES}, {"DSN", MW_SMTP_EXT_DSN},
        {"STARTTLS", MW_SMTP_EXT_STARTTLS}, {"AUTH", MW_SMTP_EXT_AUTH},
        {"REQUIRETLS", MW_SMTP_EXT_REQUIRETLS}, {"MT-PRIORITY", MW_SMTP_EXT_MT_PRIORITY},
    };
    unsigned ext = 0;
    size_t pos = 0, line = 0;
    while (pos < len) {
        const char *eol = memchr(lines + pos, '\n', len - pos);
        size_t end = eol ? (size_t)(eol - lines) : len;
        const char *p = lines + pos + 4;
        size_t n = end - pos >= 5 ? end - pos - 5 : 0; /* without "250-" and CR */
        if (line++ > 0) {
            for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
                if (!kw_is(p, n, t[i].kw)) continue;
                ext |= t[i].bit;
                size_t k = strlen(t[i].kw);
                if (t[i].bit == MW_SMTP_EXT_SIZE && n > k + 1) {
                    uint64_t v = 0;
                    size_t j = k + 1;
                    while (j < n && is_digit((unsigned char)p[j]) && v < UINT64_MAX / 10) v = v * 10 + (uint64_t)(p[j++] - '0');
                    c->r.size = v;
                } else if (t[i].bit == MW_SMTP_EXT_AUTH && n > k + 1) {
                    c->r.auth.base = p + k + 1;
                    c->r.auth.len = n - k - 1;
                }
            }
        }
        pos = end + 1;
    }
    c->ext = ext;
    c->r.ext = ext;
}

/* State changes a reply causes. @return 0 or a fatal error. */
static int apply_reply(mw_smtp_client *c, const pending *p, size_t consumed)
{
    int code = c->r.code, ok = code / 100 == 2;
    switch (p->cmd) {
    case MW_SMTP_CMD_GREETING: c->greeted = 1; break;
    case MW_SMTP_CMD_EHLO:
        if (ok) parse_ehlo(c, c->r.lines.base, c->r.lines.len);
        break;
    case MW_SMTP_CMD_STARTTLS:
        if (code == 220) {
            /* DESIGN rule 1: anything after the 220 came before TLS. */
            if (mw__inbuf_len(&c->in) > consumed) return MW_ERR_TLS_INJECTION;
            c->handoff = 1;
        }
        break;
    case MW_SMTP_CMD_AUTH: c->auth_open = code == 334; break;
    case MW_SMTP_CMD_RCPT:
        if (ok) c->rcpt_ok++;
        break;
    case MW_SMTP_CMD_DATA:
        c->data_wait = 0;
        if (code == 354) {
            c->body = 1;
            c->bol = 1;
            c->cr = 0;
        }
        break;
    case MW_SMTP_CMD_BDAT:
        if (p->idx || !ok) c->rcpt_ok = c->rcpt_sent = 0;
        break;
    case MW_SMTP_CMD_DATA_END:
    case MW_SMTP_CMD_RSET: c->rcpt_ok = c->rcpt_sent = 0; break;
    case MW_SMTP_CMD_QUIT: c->closed = 1; break;
    default: break;
    }
    if (code == 421) c->closed = 1; /* RFC 5321 §3.8 */
    return 0;
}

/* Find the end of the reply at the start of the buffer. @return its length,
 * 0 if incomplete, or an error. Progress is kept across calls. */
static mw_ssize scan_reply(mw_smtp_client *c)
{
    const unsigned char *d = mw__inbuf_data(&c->in);
    size_t n = mw__inbuf_len(&c->in);
    for (;;) {
        size_t pos = c->scan_pos;
        const unsigned char *lf = pos < n ? memchr(d + pos, '\n', n - pos) : NULL;
        if (!lf) {
            if (n - pos > c->o.max_line) return MW_ERR_PROTOCOL;
            if (n >= c->in.max) return MW_ERR_LIMIT; /* the reply does not fit */
            return 0;
        }
        size_t end = (size_t)(lf - d);
        size_t len = end - pos; /* with the CR */
        /* Reply-line = Reply-code [ SP / "-" text ] CRLF (RFC 5321 §4.2) */
        if (len < 4 || d[end - 1] != '\r' || len + 1 > c->o.max_line) return MW_ERR_PROTOCOL;
        if (d[pos] < '2' || d[pos] > '5' || !is_digit(d[pos + 1]) || !is_digit(d[pos + 2]))
            return MW_ERR_PROTOCOL;
        int code = (d[pos] - '0') * 100 + (d[pos + 1] - '0') * 10 + (d[pos + 2] - '0');
        int last = len == 4 || d[pos + 3] == ' ';
        if (!last && d[pos + 3] != '-') return MW_ERR_PROTOCOL;
        if (c->scan_lines && code != c->scan_code) return MW_ERR_PROTOCOL;
        for (size_t i = pos; i < end - 1; i++)
            if (d[i] == '\r' || d[i] == 0) return MW_ERR_PROTOCOL; /* bare CR or NUL inside */
        c->scan_code = code;
        c->scan_lines++;
        c->scan_pos = end + 1;
        if (c->scan_lines > c->o.max_lines) return MW_ERR_LIMIT;
        if (last) return (mw_ssize)(end + 1);
    }
}

int mw_smtp_client_next(mw_smtp_client *c, const mw_smtp_reply **r)
{
    if (r) *r = NULL;
    if (!c || !r) return MW_ERR_INVALID;
    if (c->fatal) return c->fatal;
    if (c->closed || c->handoff) return c->closed ? MW_ERR_CLOSED : 0;
    mw_ssize total = scan_reply(c);
    if (total < 0) return fail(c, (int)total);
    if (total == 0) {
        if (c->eof) {
            c->closed = 1;
            return MW_ERR_CLOSED;
        }
        return 0;
    }
    const char *d = (const char *)mw__inbuf_data(&c->in);
    memset(&c->r, 0, sizeof c->r);
    c->r.code = c->scan_code;
    c->r.nlines = c->scan_lines;
    c->r.lines.base = d;
    c->r.lines.len = (size_t)total;
    const char *eol = memchr(d, '\n', (size_t)total);
    size_t first = (size_t)(eol - d) - 1; /* without CRLF */
    const char *t = d + (first > 3 ? 4 : 3);
    size_t tl = first > 3 ? first - 4 : 0;
    size_t el = enhanced_len(t, tl, c->r.code);
    if (el) {
        c->r.enhanced.base = t;
        c->r.enhanced.len = el;
        t += el + (el < tl ? 1 : 0);
        tl -= el + (el < tl ? 1 : 0);
    }
    c->r.text.base = t;
    c->r.text.len = tl;
    c->scan_pos = c->scan_lines = 0;
    pending p = {0, 0};
    if (c->count) {
        p = c->ring[c->head];
        c->head = (c->head + 1) % PENDING_MAX;
        c->count--;
    } else if (c->r.code != 421) {
        return fail(c, MW_ERR_PROTOCOL); /* a reply nobody asked for */
    }
    c->r.cmd = p.cmd;
    c->r.rcpt_index = p.idx;
    int rc = apply_reply(c, &p, (size_t)total);
    mw__inbuf_consume(&c->in, (size_t)total);
    if (rc) return fail(c, rc);
    *r = &c->r;
    return MW_SMTP_CEV_REPLY;
}

/* ---- commands -------------------------------------------------------- */

/* RFC 2920 §3.1: only these may be followed by another command before
 * their reply; EHLO, DATA, QUIT, NOOP, AUTH, STARTTLS end a group. */
static int groupable(int cmd)
{
    return cmd == MW_SMTP_CMD_MAIL || cmd == MW_SMTP_CMD_RCPT || cmd == MW_SMTP_CMD_RSET ||
           cmd == MW_SMTP_CMD_BDAT;
}

static int may_send(const mw_smtp_client *c, int cmd)
{
    if (c->fatal) return c->fatal;
    if (c->closed || c->handoff || c->body || c->data_wait || !c->greeted) return MW_ERR_STATE;
    if (c->auth_open && cmd != MW_SMTP_CMD_AUTH) return MW_ERR_STATE;
    if (c->count == 0) return MW_OK;
    int last = c->ring[(c->head + c->count - 1) % PENDING_MAX].cmd;
    int pipelining = (c->ext & MW_SMTP_EXT_PIPELINING) && !(c->o.flags & MW_SMTP_CLIENT_NO_PIPELINING);
    if (!pipelining || !groupable(last)) return MW_ERR_STATE;
    return cmd == MW_SMTP_CMD_EHLO || cmd == MW_SMTP_CMD_HELO || cmd == MW_SMTP_CMD_STARTTLS ||
                   cmd == MW_SMTP_CMD_AUTH
               ? MW_ERR_STATE
               : MW_OK;
}

/* Queue one command line atomically. */
static int send_line(mw_smtp_client *c, int cmd, uint32_t idx, const char *line, size_t n)
{
    if (c->count >= PENDING_MAX) return MW_ERR_LIMIT;
    int rc = mw__outq_append(&c->out, line, n);
    if (rc) return rc == MW_ERR_NOMEM ? fail(c, rc) : rc;
    return push(c, cmd, idx);
}

/* Text that goes into a command line: no CR, LF, NUL (DESIGN rule 5). */
static int line_safe(const char *s, int allow_space, int is_path)
{
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch < 32 || ch == 127) return 0;
        if (ch == ' ' && !allow_space) return 0;
        if (is_path && (ch == '<' || ch == '>')) return 0;
    }
    return 1;
}

static int simple(mw_smtp_client *c, int cmd, const char *line)
{
    int rc = may_send(c, cmd);
    return rc ? rc : send_line(c, cmd, 0, line, strlen(line));
}

static int hello(mw_smtp_client *c, int cmd, const char *verb)
{
    if (!c) return MW_ERR_INVALID;
    char line[MW__SMTP_HOST_MAX + 16];
    snprintf(line, sizeof line, "%s %s\r\n", verb, c->o.hostname);
    return simple(c, cmd, line);
}

int mw_smtp_client_ehlo(mw_smtp_client *c)
{
    return hello(c, MW_SMTP_CMD_EHLO, c && (c->o.flags & MW_SMTP_CLIENT_LMTP) ? "LHLO" : "EHLO");
}

int mw_smtp_client_helo(mw_smtp_client *c) { return hello(c, MW_SMTP_CMD_HELO, "HELO"); }

int mw_smtp_client_starttls(mw_smtp_client *c)
{
    return c ? simple(c, MW_SMTP_CMD_STARTTLS, "STARTTLS\r\n") : MW_ERR_INVALID;
}

int mw_smtp_client_rset(mw_smtp_client *c) { return c ? simple(c, MW_SMTP_CMD_RSET, "RSET\r\n") : MW_ERR_INVALID; }
int mw_smtp_client_noop(mw_smtp_client *c) { return c ? simple(c, MW_SMTP_CMD_NOOP, "NOOP\r\n") : MW_ERR_INVALID; }
int mw_smtp_client_quit(mw_smtp_client *c) { return c ? simple(c, MW_SMTP_CMD_QUIT, "QUIT\r\n") : MW_ERR_INVALID; }

static int envelope(mw_smtp_client *c, int cmd, const char *prefix, const char *addr, const char *params)
{
    if (!c || !addr) return MW_ERR_INVALID;
    if (strlen(addr) > 254 || !line_safe(addr, 1, 1) || (params && !line_safe(params, 1, 0)))
        return MW_ERR_INVALID;
    if (cmd == MW_SMTP_CMD_RCPT && !addr[0]) return MW_ERR_INVALID;
    int rc = may_send(c, cmd);
    if (rc) return rc;
    char line[600];
    int n = snprintf(line, sizeof line, "%s<%s>%s%s\r\n", prefix, addr, params && params[0] ? " " : "",
                     params ? params : "");
    if (n < 0 || (size_t)n > 512) return MW_ERR_INVALID; /* RFC 5321 §4.5.3.1.4 */
    uint32_t idx = cmd == MW_SMTP_CMD_RCPT ? c->rcpt_sent : 0;
    rc = send_line(c, cmd, idx, line, (size_t)n);
    if (!rc && cmd == MW_SMTP_CMD_RCPT) c->rcpt_sent++;
    if (!rc && cmd == MW_SMTP_CMD_MAIL) c->rcpt_sent = c->rcpt_ok = 0;
    return rc;
}

int mw_smtp_client_mail(mw_smtp_client *c, const char *from, const char *params)
{
    return envelope(c, MW_SMTP_CMD_MAIL, "MAIL FROM:", from, params);
}

int mw_smtp_client_rcpt(mw_smtp_client *c, const char *to, const char *params)
{
    return envelope(c, MW_SMTP_CMD_RCPT, "RCPT TO:", to, params);
}

int mw_smtp_client_data(mw_smtp_client *c)
{
    if (!c) return MW_ERR_INVALID;
    int rc = simple(c, MW_SMTP_CMD_DATA, "DATA\r\n");
    if (!rc) c->data_wait = 1;
    return rc;
}

int mw_smtp_client_bdat(mw_smtp_client *c, uint64_t size, int last)
{
    if (!c) return MW_ERR_INVALID;
    /* RFC 3030 §2: the octets would be read as commands by a server that
     * did not offer CHUNKING. */
    if (!(c->ext & MW_SMTP_EXT_CHUNKING)) return c->fatal ? c->fatal : MW_ERR_UNSUPPORTED;
    int rc = may_send(c, MW_SMTP_CMD_BDAT);
    if (rc) return rc;
    char line[64];
    int n = snprintf(line, sizeof line, "BDAT %llu%s\r\n", (unsigned long long)size, last ? " LAST" : "");
    rc = send_line(c, MW_SMTP_CMD_BDAT, last ? 1u : 0u, line, (size_t)n);
    if (rc) return rc;
    if (size) {
        c->body = 2;
        c->bdat_left = size;
    }
    return MW_OK;
}

/* base64 of data after prefix, then CRLF, as one atomic append. */
static int send_b64(mw_smtp_client *c, const char *prefix, const void *data, size_t len)
{
    size_t pl = strlen(prefix), enc = mw_b64_encoded_len(len, 0);
    if (enc == 0 && len) return MW_ERR_INVALID;
    if (pl + enc + 2 > 12288) return MW_ERR_INVALID; /* RFC 4954 §4 line limit */
    if (pl + enc + 2 > mw__outq_room(&c->out)) return MW_ERR_LIMIT;
    if (c->count >= PENDING_MAX) return MW_ERR_LIMIT;
    size_t got;
    unsigned char *w = mw__outq_reserve(&c->out, pl + enc + 2, &got);
    if (!w) return fail(c, MW_ERR_NOMEM);
    memcpy(w, prefix, pl);
    mw_ssize e = mw_b64_encode(data, len, (char *)w + pl, enc, 0);
    if (e < 0) return (int)e;
    size_t o = pl + (size_t)e;
    w[o++] = '\r';
    w[o++] = '\n';
    mw__outq_commit(&c->out, o);
    return push(c, MW_SMTP_CMD_AUTH, 0);
}

int mw_smtp_client_auth(mw_smtp_client *c, const char *mech, const void *ir, size_t len)
{
    if (!c || !mech || !mech[0] || strlen(mech) > 20 || !line_safe(mech, 0, 1)) return MW_ERR_INVALID;
    int rc = may_send(c, MW_SMTP_CMD_AUTH);
    if (rc) return rc;
    if (c->auth_open) return MW_ERR_STATE;
    char prefix[40];
    if (!ir) {
        snprintf(prefix, sizeof prefix, "AUTH %s\r\n", mech);
        return send_line(c, MW_SMTP_CMD_AUTH, 0, prefix, strlen(prefix));
    }
    if (len == 0) { /* RFC 4954 §4: "=" is an empty initial response */
        snprintf(prefix, sizeof prefix, "AUTH %s =\r\n", mech);
        return send_line(c, MW_SMTP_CMD_AUTH, 0, prefix, strlen(prefix));
    }
    snprintf(prefix, sizeof prefix, "AUTH %s ", mech);
    return send_b64(c, prefix, ir, len);
}

int mw_smtp_client_auth_response(mw_smtp_client *c, const void *data, size_t len)
{
    if (!c || (!data && len)) return MW_ERR_INVALID;
    if (c->fatal) return c->fatal;
    if (!c->auth_open || c->count) return MW_ERR_STATE;
    c->auth_open = 0;
    int rc = data ? send_b64(c, "", data, len) : send_line(c, MW_SMTP_CMD_AUTH, 0, "*\r\n", 3);
    if (rc) c->auth_open = 1;
    return rc;
}

static int put(mw_smtp_client *c, const void *p, size_t n)
{
    int rc = mw__outq_append(&c->out, p, n);
    return rc == MW_ERR_NOMEM ? fail(c, rc) : rc;
}

/* DATA body: dot-stuffing (RFC 5321 §4.5.2) and CRLF line ends. Stops
 * when the output queue has no room for the next piece plus 3 octets. */
static mw_ssize body_data(mw_smtp_client *c, const unsigned char *d, size_t len)
{
    size_t i = 0;
    while (i < len) {
        size_t room = mw__outq_room(&c->out);
        if (room < 4) break;
        if (c->cr) { /* a CR ends a line whatever follows (bare CR becomes CRLF) */
            if (put(c, "\r\n", 2)) break;
            c->cr = 0;
            c->bol = 1;
            if (d[i] == '\n') i++;
            continue;
        }
        if (c->bol && d[i] == '.') {
            if (put(c, "..", 2)) break;
            c->bol = 0;
            i++;
            continue;
        }
        size_t lim = len - i < room - 3 ? len - i : room - 3;
        const unsigned char *lf = memchr(d + i, '\n', lim);
        size_t stop = lf ? (size_t)(lf - d) : i + lim;
        const unsigned char *cr = memchr(d + i, '\r', stop - i);
        if (cr) stop = (size_t)(cr - d);
        if (stop > i) {
            if (put(c, d + i, stop - i)) break;
            c->bol = 0;
            i = stop;
            continue;
        }
        if (d[i] == '\r') {
            c->cr = 1;
        } else if (d[i] == '\n') { /* bare LF: CRLF on the wire (DESIGN rule 2) */
            if (put(c, "\r\n", 2)) break;
            c->bol = 1;
        }
        i++;
    }
    return (mw_ssize)i;
}

mw_ssize mw_smtp_client_body_write(mw_smtp_client *c, const void *data, size_t len)
{
    if (!c || (!data && len)) return MW_ERR_INVALID;
    if (c->fatal) return c->fatal;
    if (c->body == 1) return body_data(c, data, len);
    if (c->body != 2 || len > c->bdat_left) return MW_ERR_STATE;
    size_t room = mw__outq_room(&c->out);
    size_t n = len < room ? len : room;
    int rc = put(c, data, n);
    if (rc) return rc == MW_ERR_LIMIT ? 0 : rc;
    c->bdat_left -= n;
    if (c->bdat_left == 0) c->body = 0;
    return (mw_ssize)n;
}

int mw_smtp_client_body_end(mw_smtp_client *c)
{
    if (!c) return MW_ERR_INVALID;
    if (c->fatal) return c->fatal;
    if (c->body != 1) return MW_ERR_STATE;
    uint32_t replies = (c->o.flags & MW_SMTP_CLIENT_LMTP) ? c->rcpt_ok : 1;
    if (replies == 0) replies = 1;
    if (c->count + replies > PENDING_MAX) return MW_ERR_LIMIT;
    const char *tail = c->cr || !c->bol ? "\r\n.\r\n" : ".\r\n";
    int rc = put(c, tail, strlen(tail));
    if (rc) return rc;
    c->body = 0;
    c->cr = 0;
    for (uint32_t i = 0; i < replies; i++) push(c, MW_SMTP_CMD_DATA_END, i);
    return MW_OK;
}
