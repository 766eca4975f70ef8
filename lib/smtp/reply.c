/*
 * SMTP client: the reply reader (RFC 5321 §4.2), enhanced status codes
 * (RFC 3463, RFC 2034) and the EHLO capability parser.
 *
 * A reply is read line by line from the input buffer and its texts are
 * copied into one engine buffer (joined by LF), because a multi-line reply
 * may be larger than what the input buffer keeps at once. Nothing is
 * guessed: a bad code, a code that changes between lines, a bare CR or LF
 * or NUL, a line or reply over its limit is MW_ERR_PROTOCOL.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_client_internal.h"

static int digit(unsigned char ch) { return ch >= '0' && ch <= '9'; }

static int rbuf_add(mw_smtp_client *c, const void *p, size_t n)
{
    if (c->rlen + n > c->o.max_reply) return MW_ERR_PROTOCOL;
    if (c->rlen + n > c->rcap) {
        size_t cap = c->rcap ? c->rcap : 512;
        while (cap < c->rlen + n) cap *= 2;
        if (cap > c->o.max_reply) cap = c->o.max_reply;
        unsigned char *nb = mw__realloc(&c->mem, c->rbuf, cap);
        if (!nb) return MW_ERR_NOMEM;
        c->rbuf = nb;
        c->rcap = cap;
    }
    if (n) memcpy(c->rbuf + c->rlen, p, n);
    c->rlen += n;
    return MW_OK;
}

/* "ddd", "ddd text", "ddd-text": RFC 5321 §4.2 (first digit 2..5 in SMTP,
 * second 0..5). @return 1 last line, 0 continuation, -1 malformed. */
static int parse_line(const unsigned char *p, size_t n, int *code)
{
    if (n < 3 || p[0] < '2' || p[0] > '5' || p[1] < '0' || p[1] > '5' || !digit(p[2])) return -1;
    *code = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
    if (memchr(p, '\r', n) || memchr(p, '\n', n) || memchr(p, 0, n)) return -1;
    if (n == 3 || p[3] == ' ') return 1;
    return p[3] == '-' ? 0 : -1;
}

int mw__smtpc_read_reply(mw_smtp_client *c)
{
    for (;;) {
        mw_slice line;
        if (mw__inbuf_len(&c->io.in) == 0) return 0; /* also: no buffer yet */
        int rc = mw__inbuf_line(&c->io.in, c->o.max_line, 0, &line);
        if (rc == 0) return 0;
        if (rc < 0) return MW_ERR_PROTOCOL; /* line over the limit */
        const unsigned char *p = (const unsigned char *)line.base;
        int code = 0;
        int last = parse_line(p, line.len, &code);
        if (last < 0 || (c->rlines && code != c->rcode)) return MW_ERR_PROTOCOL;
        if (c->rlines == 0) {
            c->rlen = 0;
            c->rcode = code;
        } else if ((rc = rbuf_add(c, "\n", 1)) != MW_OK) {
            return rc;
        }
        c->rlines++;
        if (line.len > 4 && (rc = rbuf_add(c, p + 4, line.len - 4)) != MW_OK) return rc;
        if (last) return 1;
    }
}

/* RFC 3463 §2: class "." subject "." detail, 1..3 digits each, class 2, 4
 * or 5 and equal to the reply's first digit (RFC 2034 §4). */
mw_slice mw__smtpc_enhanced(int code, const char *text, size_t len)
{
    mw_slice none = {NULL, 0};
    const unsigned char *p = (const unsigned char *)text;
    if (len < 5 || p[0] != (unsigned char)('0' + code / 100) || p[1] != '.') return none;
    if (p[0] != '2' && p[0] != '4' && p[0] != '5') return none;
    size_t i = 2;
    for (int part = 0; part < 2; part++) {
        size_t start = i;
        while (i < len && digit(p[i]) && i - start < 4) i++;
        if (i == start || i - start > 3) return none;
        if (part == 0) {
            if (i >= len || p[i] != '.') return none;
            i++;
        }
    }
    if (i < len && p[i] != ' ') return none;
    mw_slice s = {text, i};
    return s;
}

static void add_auth(mw_smtp_client *c, const char *p, size_t n)
{
    /* Keep whole names only; a list longer than the buffer is cut at a name. */
    while (n) {
        while (n && (*p == ' ' || *p == '=')) p++, n--;
        size_t w = 0;
        while (w < n && p[w] != ' ') w++;
        if (w && !mw__in_list(c->auth_list, p, w) &&
            c->auth_len + w + 1 <= MW__SMTPC_AUTH_LIST_MAX) {
            if (c->auth_len) c->auth_list[c->auth_len++] = ' ';
            memcpy(c->auth_list + c->auth_len, p, w);
            c->auth_len += w;
            c->auth_list[c->auth_len] = 0;
        }
        p += w;
        n -= w;
    }
}

static uint64_t parse_size(const char *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n && digit((unsigned char)p[i]); i++) {
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return UINT64_MAX;
        v = v * 10 + d;
    }
    return v;
}

static void ehlo_keyword(mw_smtp_client *c, const char *p, size_t n)
{
    static const struct { const char *name; unsigned bit; } known[] = {
        {"PIPELINING", MW_SMTP_EXT_PIPELINING}, {"SIZE", MW_SMTP_EXT_SIZE},
        {"8BITMIME", MW_SMTP_EXT_8BITMIME}, {"SMTPUTF8", MW_SMTP_EXT_SMTPUTF8},
        {"CHUNKING", MW_SMTP_EXT_CHUNKING}, {"BINARYMIME", MW_SMTP_EXT_BINARYMIME},
        {"ENHANCEDSTATUSCODES", MW_SMTP_EXT_ENHANCEDSTATUSCODES}, {"DSN", MW_SMTP_EXT_DSN},
        {"STARTTLS", MW_SMTP_EXT_STARTTLS}, {"AUTH", MW_SMTP_EXT_AUTH},
        {"REQUIRETLS", MW_SMTP_EXT_REQUIRETLS}, {"MT-PRIORITY", MW_SMTP_EXT_MT_PRIORITY},
    };
    size_t k = 0;
    while (k < n && p[k] != ' ' && p[k] != '=') k++;
    const char *arg = p + k;
    size_t alen = n - k;
    while (alen && (*arg == ' ' || *arg == '=')) arg++, alen--;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (!mw__ieq(p, k, known[i].name)) continue;
        c->ext |= known[i].bit;
        if (known[i].bit == MW_SMTP_EXT_SIZE) c->size_limit = parse_size(arg, alen);
        /* "AUTH=LOGIN PLAIN" is the pre-standard form some servers still send. */
        if (known[i].bit == MW_SMTP_EXT_AUTH) add_auth(c, arg, alen);
        return;
    }
}

void mw__smtpc_parse_ehlo(mw_smtp_client *c, const char *text, size_t len)
{
    c->ext = 0;
    c->size_limit = 0;
    c->auth_len = 0;
    c->auth_list[0] = 0;
    if (!len) return; /* "250" alone: no text, maybe no buffer */
    const char *nl = memchr(text, '\n', len); /* the first line is the greeting */
    while (nl) {
        const char *p = nl + 1;
        size_t rest = len - (size_t)(p - text);
        nl = memchr(p, '\n', rest);
        ehlo_keyword(c, p, nl ? (size_t)(nl - p) : rest);
    }
}
