/*
 * SMTP syntax: paths (RFC 5321 §4.1.2), ESMTP parameters, xtext
 * (RFC 3461 §4), UTF-8 checks for SMTPUTF8 (RFC 6531). Pure functions over caller buffers.
 *
 * SPDX-License-Identifier: MIT
 */
#include "smtp/smtp_internal.h"

static int is_alpha(unsigned char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }
static int is_alnum(unsigned char c) { return is_alpha(c) || is_digit(c); }

/* atext of RFC 5322 §3.2.3, as used by RFC 5321's Atom; octets >= 0x80
 * are UTF-8 (RFC 6531 §3.3), checked afterwards. */
static int is_atext(unsigned char c)
{
    if (is_alnum(c) || c >= 0x80) return 1;
    return c != 0 && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

/* Dot-string or Quoted-string at p (RFC 5321 §4.1.2). @return length or 0. */
static size_t local_part(const unsigned char *p, size_t len)
{
    size_t i = 0;
    if (len && p[0] == '"') {
        for (i = 1; i < len; i++) {
            unsigned char c = p[i];
            if (c == '"') return i + 1;
            if (c == '\\') {
                /* quoted-pairSMTP = %d92 %d32-126 */
                if (i + 1 >= len || p[i + 1] < 32 || p[i + 1] > 126) return 0;
                i++;
            } else if (!(c == 32 || c == 33 || (c >= 35 && c <= 91) || (c >= 93 && c <= 126) ||
                         c >= 0x80)) {
                return 0;
            }
        }
        return 0;
    }
    for (;;) {
        size_t start = i;
        while (i < len && is_atext(p[i])) i++;
        if (i == start) return 0; /* empty atom: leading, double or trailing dot */
        if (i < len && p[i] == '.') {
            i++;
            continue;
        }
        return i;
    }
}

/* Domain = sub-domain *("." sub-domain), or an address literal "[...]". */
static size_t domain(const unsigned char *p, size_t len)
{
    size_t i = 0;
    if (len && p[0] == '[') {
        for (i = 1; i < len; i++) {
            unsigned char c = p[i];
            if (c == ']') return i > 1 ? i + 1 : 0;
            /* dcontent = %d33-90 / %d94-126 (RFC 5321 §4.1.3) */
            if (!((c >= 33 && c <= 90) || (c >= 94 && c <= 126))) return 0;
        }
        return 0;
    }
    for (;;) {
        size_t start = i;
        if (i >= len || !(is_alnum(p[i]) || p[i] >= 0x80)) return 0;
        while (i < len && (is_alnum(p[i]) || p[i] == '-' || p[i] >= 0x80)) i++;
        if (p[i - 1] == '-' || i - start > 63) return 0;
        if (i < len && p[i] == '.') {
            i++;
            continue;
        }
        return i;
    }
}

/* A-d-l = At-domain *("," At-domain) ":" — skipped (RFC 5321 §4.1.1.3 and
 * appendix C: source routes are accepted and ignored). */
static size_t source_route(const unsigned char *p, size_t len)
{
    size_t i = 0;
    for (;;) {
        if (i >= len || p[i] != '@') return 0;
        size_t d = domain(p + i + 1, len - i - 1);
        if (!d) return 0;
        i += 1 + d;
        if (i < len && p[i] == ',') {
            i++;
            continue;
        }
        if (i < len && p[i] == ':') return i + 1;
        return 0;
    }
}

int mw__smtp_parse_path(const char *s, size_t len, int allow_null, int allow_postmaster,
                        mw_slice *addr, size_t *used, unsigned *flags, int *eight_bit)
{
    const unsigned char *p = (const unsigned char *)s;
    *eight_bit = 0;
    addr->base = s;
    addr->len = 0;
    if (len < 2 || p[0] != '<') return MW__SMTP_PATH_SYNTAX;
    if (p[1] == '>') {
        if (!allow_null) return MW__SMTP_PATH_SYNTAX;
        addr->base = s + 1;
        *used = 2;
        return MW__SMTP_PATH_OK;
    }
    size_t i = 1;
    if (p[i] == '@') {
        size_t r = source_route(p + i, len - i);
        if (!r) return MW__SMTP_PATH_SYNTAX;
        i += r;
    }
    size_t mb = i;
    size_t lp = local_part(p + i, len - i);
    if (!lp) return MW__SMTP_PATH_SYNTAX;
    i += lp;
    if (allow_postmaster && i < len && p[i] == '>' && mw__ieq(s + mb, lp, "postmaster")) {
        *flags |= MW_SMTP_F_POSTMASTER;
    } else {
        if (i >= len || p[i] != '@') return MW__SMTP_PATH_SYNTAX;
        i++;
        size_t d = domain(p + i, len - i);
        if (!d) return MW__SMTP_PATH_SYNTAX;
        if (d > 255) return MW__SMTP_PATH_LONG;
        i += d;
        if (lp > 64) return MW__SMTP_PATH_LONG; /* §4.5.3.1.1 */
    }
    if (i >= len || p[i] != '>') return MW__SMTP_PATH_SYNTAX;
    if (i + 1 > 256) return MW__SMTP_PATH_LONG; /* §4.5.3.1.3, with the brackets */
    addr->base = s + mb;
    addr->len = i - mb;
    *used = i + 1;
    for (size_t k = mb; k < i; k++)
        if (p[k] >= 0x80) *eight_bit = 1;
    if (*eight_bit && !mw__smtp_utf8_valid(p + mb, i - mb)) return MW__SMTP_PATH_SYNTAX;
    return MW__SMTP_PATH_OK;
}

int mw__smtp_param_next(mw_slice *rest, mw_slice *key, mw_slice *value, int *has_value)
{
    const unsigned char *p = (const unsigned char *)rest->base;
    size_t len = rest->len, i = 0;
    while (i < len && p[i] == ' ') i++;
    if (i == len) return 0;
    size_t k = i;
    /* esmtp-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-") */
    if (!is_alnum(p[i])) return -1;
    while (i < len && (is_alnum(p[i]) || p[i] == '-')) i++;
    key->base = rest->base + k;
    key->len = i - k;
    value->base = rest->base + i;
    value->len = 0;
    *has_value = 0;
    if (i < len && p[i] == '=') {
        size_t v = ++i;
        /* esmtp-value = 1*(%d33-60 / %d62-126), UTF-8 allowed (RFC 6531 §3.3) */
        while (i < len && ((p[i] >= 33 && p[i] <= 126 && p[i] != '=') || p[i] >= 0x80)) i++;
        if (i == v) return -1;
        value->base = rest->base + v;
        value->len = i - v;
        *has_value = 1;
    }
    if (i < len && p[i] != ' ') return -1;
    rest->base += i;
    rest->len -= i;
    return 1;
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1; /* RFC 3461 §4: hexchar uses upper-case digits only */
}

mw_ssize mw__smtp_xtext_decode(const char *in, size_t len, unsigned char *out)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c == '+') {
            if (i + 2 >= len) return -1;
            int h = hex_val(p[i + 1]), l = hex_val(p[i + 2]);
            if (h < 0 || l < 0) return -1;
            out[o++] = (unsigned char)(h * 16 + l);
            i += 2;
        } else if (c >= 33 && c <= 126 && c != '=') {
            out[o++] = c;
        } else {
            return -1;
        }
    }
    return (mw_ssize)o;
}

int mw__smtp_utf8_valid(const unsigned char *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1fu;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0fu;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07u;
        } else {
            return 0;
        }
        if (i + n >= len) return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80) return 0;
            cp = (cp << 6) | (p[i + k] & 0x3fu);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += n + 1;
    }
    return 1;
}

int mw_smtp_params_get(mw_slice params, const char *name, mw_slice *value)
{
    if (!name || !value) return MW_ERR_INVALID;
    mw_slice rest = params, key, val;
    int has;
    while (mw__smtp_param_next(&rest, &key, &val, &has) == 1) {
        if (mw__ieq(key.base, key.len, name)) {
            *value = val;
            return 1;
        }
    }
    value->base = NULL;
    value->len = 0;
    return 0;
}

mw_ssize mw_smtp_xtext_encode(const void *in, size_t len, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    if ((!in && len) || (!out && cap)) return MW_ERR_INVALID;
    const unsigned char *p = in;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (c >= 33 && c <= 126 && c != '+' && c != '=') {
            if (o + 1 > cap) return MW_ERR_BUFFER;
            out[o++] = (char)c;
        } else {
            if (o + 3 > cap) return MW_ERR_BUFFER;
            out[o++] = '+';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    return (mw_ssize)o;
}

/* Syntax check; @return the decoded length, or -1. */
static mw_ssize xtext_len(const char *in, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++, n++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '+') {
            if (i + 2 >= len || hex_val((unsigned char)in[i + 1]) < 0 || hex_val((unsigned char)in[i + 2]) < 0)
                return -1;
            i += 2;
        } else if (c < 33 || c > 126 || c == '=') {
            return -1;
        }
    }
    return (mw_ssize)n;
}

mw_ssize mw_smtp_xtext_decode(const char *in, size_t len, void *out, size_t cap)
{
    if ((!in && len) || (!out && cap)) return MW_ERR_INVALID;
    mw_ssize need = xtext_len(in, len);
    if (need < 0) return MW_ERR_SYNTAX;
    if ((size_t)need > cap) return MW_ERR_BUFFER;
    return len ? mw__smtp_xtext_decode(in, len, out) : 0;
}
