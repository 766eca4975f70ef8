/*
 * IMAP modified UTF-7 mailbox names (RFC 3501 §5.1.3): printable ASCII
 * stands for itself ("&" as "&-"), everything else is UTF-16BE in base64
 * with "," for "/", no padding, between "&" and "-".
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

static const char mb64_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

/* value + 1 of a modified-base64 character, 0 outside the alphabet */
static int mb64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A' + 1;
    if (c >= 'a' && c <= 'z') return c - 'a' + 27;
    if (c >= '0' && c <= '9') return c - '0' + 53;
    if (c == '+') return 63;
    if (c == ',') return 64;
    return 0;
}

static int is_direct(uint32_t cp)
{
    return cp >= 0x20 && cp <= 0x7e;
}

typedef struct sink {
    char *out;
    size_t cap; /* without the NUL */
    size_t o;
} sink;

static int put1(sink *s, char c)
{
    if (s->o >= s->cap) return MW_ERR_BUFFER;
    s->out[s->o++] = c;
    return MW_OK;
}

/* Base64 of the UTF-16 units of the non-direct characters p[0..n). */
static int put_shifted(sink *s, const unsigned char *p, size_t n)
{
    uint32_t acc = 0;
    unsigned bits = 0;
    size_t i = 0;
    if (put1(s, '&')) return MW_ERR_BUFFER;
    while (i < n) {
        uint32_t cp, units[2];
        int k = 1;
        i += (size_t)mw__utf8_next(p + i, n - i, &cp);
        if (cp >= 0x10000) {
            cp -= 0x10000;
            units[0] = 0xD800 | (cp >> 10), units[1] = 0xDC00 | (cp & 0x3FF), k = 2;
        } else {
            units[0] = cp;
        }
        for (int u = 0; u < k; u++) {
            acc = (acc << 16) | units[u];
            bits += 16;
            while (bits >= 6) {
                bits -= 6;
                if (put1(s, mb64_alpha[(acc >> bits) & 63])) return MW_ERR_BUFFER;
            }
            acc &= (1u << bits) - 1;
        }
    }
    if (bits && put1(s, mb64_alpha[(acc << (6 - bits)) & 63])) return MW_ERR_BUFFER;
    return put1(s, '-');
}

mw_ssize mw_mutf7_encode(const char *in, size_t len, char *out, size_t cap)
{
    if ((!in && len) || !out) return MW_ERR_INVALID;
    if (cap == 0) return MW_ERR_BUFFER;
    const unsigned char *p = (const unsigned char *)in;
    if (mw__utf8_valid_len(p, len) != len || memchr(p, 0, len)) return MW_ERR_SYNTAX;
    sink s = {out, cap - 1, 0};
    int rc = MW_OK;
    size_t i = 0;
    while (i < len && !rc) {
        if (is_direct(p[i])) {
            rc = put1(&s, (char)p[i]);
            if (!rc && p[i] == '&') rc = put1(&s, '-');
            i++;
            continue;
        }
        size_t j = i; /* one shift holds every non-direct character in a row */
        while (j < len && !is_direct(p[j]))
            j++;
        rc = put_shifted(&s, p + i, j - i);
        i = j;
    }
    if (rc) {
        out[0] = '\0';
        return rc;
    }
    out[s.o] = '\0';
    return (mw_ssize)s.o;
}

static void put_utf8(sink *s, uint32_t cp)
{
    unsigned char *o = (unsigned char *)s->out + s->o;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp, s->o += 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | cp >> 6), o[1] = (unsigned char)(0x80 | (cp & 63));
        s->o += 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | cp >> 12), o[1] = (unsigned char)(0x80 | ((cp >> 6) & 63));
        o[2] = (unsigned char)(0x80 | (cp & 63));
        s->o += 3;
    } else {
        o[0] = (unsigned char)(0xF0 | cp >> 18), o[1] = (unsigned char)(0x80 | ((cp >> 12) & 63));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)), o[3] = (unsigned char)(0x80 | (cp & 63));
        s->o += 4;
    }
}

/* Decode the shift whose first base64 character is at in[start]. Sets
 * *end to the offset of the closing "-" on success and *err otherwise. */
static int decode_shift(const unsigned char *in, size_t len, size_t start, sink *s, size_t *end,
                        size_t *err)
{
    uint32_t acc = 0, high = 0;
    unsigned bits = 0;
    size_t j = start, unit = 0; /* unit: index of the next UTF-16 unit in this shift */
    for (; j < len; j++) {
        int v = mb64_value(in[j]);
        if (!v) break;
        acc = ((acc << 6) | (uint32_t)(v - 1)) & 0x3FFFFFu;
        bits += 6;
        if (bits < 16) continue;
        bits -= 16;
        uint32_t u = (acc >> bits) & 0xFFFF;
        size_t at = start + unit * 16 / 6; /* the character holding the unit's first bit */
        unit++;
        uint32_t cp;
        if (high) {
            if (u < 0xDC00 || u > 0xDFFF) return *err = at, MW_ERR_SYNTAX;
            cp = 0x10000 + ((high - 0xD800) << 10) + (u - 0xDC00);
            high = 0;
        } else if (u >= 0xD800 && u <= 0xDBFF) {
            high = u;
            continue;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            return *err = at, MW_ERR_SYNTAX; /* low surrogate alone */
        } else if (u == 0 || is_direct(u)) {
            return *err = at, MW_ERR_SYNTAX; /* NUL, or ASCII that must be direct */
        } else {
            cp = u;
        }
        size_t need = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
        if (s->cap - s->o < need) return MW_ERR_BUFFER;
        put_utf8(s, cp);
    }
    if (j >= len) return *err = len, MW_ERR_SYNTAX; /* no closing "-" */
    if (in[j] != '-') return *err = j, MW_ERR_SYNTAX;
    if (high || bits >= 6) return *err = j, MW_ERR_SYNTAX;            /* unit or pair cut short */
    if (acc & ((1u << bits) - 1)) return *err = j - 1, MW_ERR_SYNTAX; /* padding bits set */
    *end = j;
    return MW_OK;
}

mw_ssize mw_mutf7_decode(const char *in, size_t len, char *out, size_t cap, size_t *error_offset)
{
    if (error_offset) *error_offset = len;
    if ((!in && len) || !out) return MW_ERR_INVALID;
    if (cap == 0) return MW_ERR_BUFFER;
    const unsigned char *p = (const unsigned char *)in;
    sink s = {out, cap - 1, 0};
    size_t i = 0, err = len, after_shift = (size_t)-1;
    int rc = MW_OK;
    while (i < len) {
        unsigned char c = p[i];
        if (c < 0x20 || c > 0x7e) {
            err = i, rc = MW_ERR_SYNTAX;
            break;
        }
        if (c != '&' || (i + 1 < len && p[i + 1] == '-')) {
            if ((rc = put1(&s, (char)c)) != MW_OK) break;
            i += c == '&' ? 2 : 1;
            continue;
        }
        if (i + 1 >= len || !mb64_value(p[i + 1])) {
            err = i + 1, rc = MW_ERR_SYNTAX; /* "&" neither "&-" nor a shift */
            break;
        }
        if (i == after_shift) {
            err = i, rc = MW_ERR_SYNTAX; /* a shift right after a shift: one was enough */
            break;
        }
        size_t end;
        if ((rc = decode_shift(p, len, i + 1, &s, &end, &err)) != MW_OK) break;
        i = after_shift = end + 1;
    }
    if (rc) {
        if (error_offset && rc == MW_ERR_SYNTAX) *error_offset = err;
        out[0] = '\0';
        return rc;
    }
    out[s.o] = '\0';
    return (mw_ssize)s.o;
}
