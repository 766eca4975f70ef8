/*
 * Message identifiers (RFC 5322 §3.6.4, obsolete forms §4.5.4): a
 * zero-copy iterator over msg-id lists and a generator that takes its time
 * and randomness from the caller.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rfc5322/rfc5322_internal.h"

/* Skip WSP, line ends and comments. @return 1 if anything was skipped,
 * or a negative error from a bad comment. */
static int skip_cfws(const char **pp, const char *end)
{
    const char *p = *pp, *start = p;
    while (p < end) {
        if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') {
            p++;
        } else if (*p == '(') {
            int rc = mw__skip_comment(&p, end, MW__DEFAULT_COMMENT_DEPTH);
            if (rc != MW_OK) {
                *pp = p;
                return rc;
            }
        } else {
            break;
        }
    }
    *pp = p;
    return p != start;
}

/* Consume an atom (atext and, per RFC 6532, UTF-8). @return bytes taken,
 * or 0 when p does not start one; sets UTF8 flag; 8-bit junk stops it. */
static size_t take_atom(const char *p, const char *end, unsigned *flags)
{
    const char *s = p;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (mw__is(c, MW__C_ATEXT)) {
            p++;
        } else if (c >= 0x80) {
            size_t u = mw__utf8_len((const unsigned char *)p, (size_t)(end - p));
            if (!u) break;
            *flags |= MW_MSGID_F_UTF8;
            p += u;
        } else {
            break;
        }
    }
    return (size_t)(p - s);
}

/* Skip a quoted string starting at '"'. @return 0 on success. */
static int take_quoted(const char **pp, const char *end)
{
    const char *p = *pp + 1;
    while (p < end) {
        char c = *p++;
        if (c == '\\') {
            if (p == end) return -1;
            p++;
        } else if (c == '"') {
            *pp = p;
            return 0;
        }
    }
    return -1;
}

/* word *("." word) with optional CFWS (obs-id-left = local-part), or
 * atom *("." atom) (obs-id-right = domain) when quoted is 0. */
static int check_dot_words(const char *p, const char *end, int quoted, unsigned *flags)
{
    int want_word = 1, words = 0;
    for (;;) {
        int ws = skip_cfws(&p, end);
        if (ws < 0) return MW_ERR_SYNTAX;
        if (ws) *flags |= MW_MSGID_F_OBS_CFWS;
        if (p == end) break;
        if (want_word) {
            size_t n = take_atom(p, end, flags);
            if (n) {
                p += n;
            } else if (quoted && *p == '"') {
                if (take_quoted(&p, end)) return MW_ERR_SYNTAX;
                *flags |= MW_MSGID_F_OBS_LEFT;
            } else {
                return MW_ERR_SYNTAX;
            }
            want_word = 0;
            words++;
        } else {
            if (*p != '.') return MW_ERR_SYNTAX;
            p++;
            want_word = 1;
        }
    }
    return (words && !want_word) ? MW_OK : MW_ERR_SYNTAX;
}

/* id-right: dot-atom-text, no-fold-literal, or obs domain. */
static int check_right(const char *p, const char *end, unsigned *flags)
{
    const char *q = p;
    if (skip_cfws(&q, end) < 0) return MW_ERR_SYNTAX;
    if (q < end && *q == '[') {
        if (q != p) *flags |= MW_MSGID_F_OBS_CFWS;
        *flags |= MW_MSGID_F_LITERAL;
        for (q++; q < end && *q != ']'; q++) {
            unsigned char c = (unsigned char)*q;
            if (mw__is(c, MW__C_DTEXT)) continue;
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\\') {
                /* FWS or quoted-pair: obsolete domain-literal (§4.4). */
                *flags |= MW_MSGID_F_OBS_CFWS;
                if (c == '\\' && ++q == end) return MW_ERR_SYNTAX;
                continue;
            }
            return MW_ERR_SYNTAX;
        }
        if (q == end) return MW_ERR_SYNTAX;
        q++;
        int ws = skip_cfws(&q, end);
        if (ws < 0 || q != end) return MW_ERR_SYNTAX;
        if (ws) *flags |= MW_MSGID_F_OBS_CFWS;
        return MW_OK;
    }
    return check_dot_words(p, end, 0, flags);
}

int mw_msgid_iter_init(mw_msgid_iter *it, const char *in, size_t len)
{
    if (!it || (!in && len)) return MW_ERR_INVALID;
    if (!in) in = ""; /* no arithmetic on a null pointer */
    it->p_ = in;
    it->end_ = in + len;
    return MW_OK;
}

/* Find the '>' closing the id that starts after '<' at p, skipping quoted
 * strings, comments and literals; note the first '@' outside them. */
static const char *find_close(const char *p, const char *end, const char **at)
{
    *at = NULL;
    while (p < end) {
        char c = *p;
        if (c == '>') return p;
        if (c == '"') {
            if (take_quoted(&p, end)) return NULL;
        } else if (c == '(') {
            if (mw__skip_comment(&p, end, MW__DEFAULT_COMMENT_DEPTH) != MW_OK) return NULL;
        } else if (c == '[') {
            const char *rb = memchr(p, ']', (size_t)(end - p));
            if (!rb) return NULL;
            p = rb + 1;
        } else {
            if (c == '@' && !*at) *at = p;
            p++;
        }
    }
    return NULL;
}

int mw_msgid_iter_next(mw_msgid_iter *it, mw_msgid *id)
{
    if (!it || !id) return MW_ERR_INVALID;
    memset(id, 0, sizeof *id);
    const char *p = it->p_, *end = it->end_;
    unsigned phrase = 0;
    for (;;) {
        int ws = skip_cfws(&p, end);
        if (ws < 0) {
            it->p_ = end;
            return ws;
        }
        if (p == end) {
            it->p_ = p;
            return 0;
        }
        if (*p == '<') break;
        /* obs-in-reply-to / obs-references allow phrases between ids. */
        unsigned f = 0;
        size_t n = take_atom(p, end, &f);
        if (n) {
            p += n;
        } else if (*p == '"') {
            if (take_quoted(&p, end)) {
                it->p_ = end;
                return MW_ERR_SYNTAX;
            }
        } else if (*p == '.') {
            p++;
        } else {
            it->p_ = p + 1; /* skip the stray byte */
            return MW_ERR_SYNTAX;
        }
        phrase = MW_MSGID_F_OBS_PHRASE;
    }
    const char *at, *close = find_close(p + 1, end, &at);
    if (!close) {
        it->p_ = end;
        return MW_ERR_SYNTAX;
    }
    it->p_ = close + 1;
    if (!at) return MW_ERR_SYNTAX;
    unsigned flags = phrase;
    if (check_dot_words(p + 1, at, 1, &flags) != MW_OK) return MW_ERR_SYNTAX;
    if (check_right(at + 1, close, &flags) != MW_OK) return MW_ERR_SYNTAX;
    id->id.base = p + 1;
    id->id.len = (size_t)(close - (p + 1));
    id->left.base = p + 1;
    id->left.len = (size_t)(at - (p + 1));
    id->right.base = at + 1;
    id->right.len = (size_t)(close - (at + 1));
    id->flags = flags;
    return 1;
}

/* A domain we are willing to write into a Message-ID: an ASCII dot-atom
 * or a literal of dtext. */
static int domain_ok(const char *d, size_t n)
{
    if (n == 0) return 0;
    if (d[0] == '[') {
        if (n < 2 || d[n - 1] != ']') return 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (!mw__is((unsigned char)d[i], MW__C_DTEXT)) return 0;
        return 1;
    }
    int dot_ok = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (!dot_ok) return 0;
            dot_ok = 0;
        } else if (mw__is(c, MW__C_ATEXT)) {
            dot_ok = 1;
        } else {
            return 0;
        }
    }
    return dot_ok;
}

mw_ssize mw_msgid_generate(const void *random, size_t random_len, int64_t epoch, const char *domain,
                           size_t domain_len, char *out, size_t cap)
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    static const char b36[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    if (!random || random_len < 8 || random_len > 64 || epoch < 0 || (!domain && domain_len) ||
        (!out && cap))
        return MW_ERR_INVALID;
    if (!domain_ok(domain, domain_len)) return MW_ERR_SYNTAX;
    char tbuf[16];
    size_t tn = 0;
    uint64_t t = (uint64_t)epoch;
    do {
        tbuf[tn++] = b36[t % 36];
        t /= 36;
    } while (t);
    size_t rn = (random_len * 8 + 4) / 5;
    size_t need = 1 + tn + 1 + rn + 1 + domain_len + 1;
    if (cap < need + 1) return MW_ERR_BUFFER;
    char *o = out;
    *o++ = '<';
    while (tn)
        *o++ = tbuf[--tn];
    *o++ = '.';
    const unsigned char *r = random;
    uint32_t acc = 0;
    unsigned bits = 0;
    for (size_t i = 0; i < random_len; i++) {
        acc = (acc << 8) | r[i];
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            *o++ = b32[(acc >> bits) & 31];
        }
    }
    if (bits) *o++ = b32[(acc << (5 - bits)) & 31];
    *o++ = '@';
    memcpy(o, domain, domain_len);
    o += domain_len;
    *o++ = '>';
    *o = 0;
    return (mw_ssize)(o - out);
}
