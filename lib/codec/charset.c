/*
 * Charset conversion to UTF-8 for RFC 2047 words (and later MIME text):
 * UTF-8 validation with U+FFFD substitution, and an iconv wrapper that
 * carries incomplete multibyte tails across calls.
 *
 * SPDX-License-Identifier: MIT
 */
#include "codec/codec_internal.h"

#include <errno.h>
#include <iconv.h>

enum { MW__CS_KIND_NONE = 0, MW__CS_KIND_UTF8, MW__CS_KIND_ASCII, MW__CS_KIND_ICONV, MW__CS_KIND_UTF7 };

static const unsigned char replacement[3] = {0xEF, 0xBF, 0xBD}; /* U+FFFD */

/* ---- UTF-8 ---------------------------------------------------------- */

int mw__utf8_next(const unsigned char *p, size_t n, uint32_t *cp)
{
    unsigned b0 = p[0];
    if (b0 < 0x80) {
        *cp = b0;
        return 1;
    }
    size_t need;
    unsigned lo = 0x80, hi = 0xBF;
    uint32_t v;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        need = 1, v = b0 & 0x1Fu;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        need = 2, v = b0 & 0x0Fu;
        if (b0 == 0xE0)
            lo = 0xA0; /* overlong */
        else if (b0 == 0xED)
            hi = 0x9F; /* surrogates */
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        need = 3, v = b0 & 0x07u;
        if (b0 == 0xF0)
            lo = 0x90; /* overlong */
        else if (b0 == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return -1;
    }
    for (size_t i = 1; i <= need; i++) {
        if (i >= n) return 0;
        unsigned b = p[i];
        if (b < lo || b > hi) return -(int)i;
        lo = 0x80, hi = 0xBF;
        v = (v << 6) | (b & 0x3Fu);
    }
    *cp = v;
    return (int)need + 1;
}

size_t mw__utf8_valid_len(const unsigned char *p, size_t n)
{
    size_t i = 0;
    uint32_t cp;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        int r = mw__utf8_next(p + i, n - i, &cp);
        if (r <= 0) break;
        i += (size_t)r;
    }
    return i;
}

mw_ssize mw__utf8_replace_controls(unsigned char *buf, size_t len, size_t cap, size_t *count)
{
    size_t found = 0;
    for (size_t i = 0; i < len; i++)
        if (buf[i] == 0 || buf[i] == '\r' || buf[i] == '\n') found++;
    *count = found;
    if (!found) return (mw_ssize)len;
    size_t newlen = len + 2 * found;
    if (newlen > cap || newlen < len) return MW_ERR_BUFFER;
    /* Expand from the end so nothing is overwritten before it is moved. */
    size_t w = newlen;
    for (size_t i = len; i-- > 0;) {
        unsigned char c = buf[i];
        if (c == 0 || c == '\r' || c == '\n') {
            w -= 3;
            memcpy(buf + w, replacement, 3);
        } else {
            buf[--w] = c;
        }
    }
    return (mw_ssize)newlen;
}

/* ---- converter ------------------------------------------------------ */

static int name_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    if (alen != blen) return 0;
    for (size_t i = 0; i < alen; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'a' && x <= 'z') x = (unsigned char)(x - 32);
        if (y >= 'a' && y <= 'z') y = (unsigned char)(y - 32);
        if (x != y) return 0;
    }
    return 1;
}

/* 1: UTF-7, 2: its IMAP variant, 0: neither. */
static int is_utf7_name(const char *name, size_t len)
{
    static const char *const aliases[] = {"UTF7", "UNICODE11UTF7", "CSUNICODE11UTF7", "UTF7IMAP"};
    char norm[MW__CS_NAME_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (c >= 'a' && c <= 'z') c = (char)(c - 32);
        if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) norm[n++] = c;
    }
    norm[n] = '\0';
    for (size_t i = 0; i < sizeof aliases / sizeof *aliases; i++)
        if (strcmp(norm, aliases[i]) == 0) return i == 3 ? 2 : 1;
    return 0;
}

int mw__charset_open(mw__charset *cs, const char *name, size_t len)
{
    memset(cs, 0, sizeof *cs);
    if (len == 0 || len > MW__CS_NAME_MAX) return MW_ERR_CHARSET;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x21 || c > 0x7e) return MW_ERR_CHARSET;
    }
    memcpy(cs->name, name, len);
    cs->name[len] = '\0';
    if (name_eq(name, len, "UTF-8") || name_eq(name, len, "UTF8")) {
        cs->kind = MW__CS_KIND_UTF8;
        return MW_OK;
    }
    if (name_eq(name, len, "US-ASCII") || name_eq(name, len, "ASCII")) {
        cs->kind = MW__CS_KIND_ASCII;
        return MW_OK;
    }
    /* In-house: glibc's UTF-7 decoder gives different results for the
     * same malformed input cut at different places, which would break the
     * parser's split-invariance (tests/unit/test_codec_charset.c). Every
     * name iconv would open as UTF-7 must come here: glibc drops
     * punctuation from names ("utf-7]" is UTF-7), so compare letters and
     * digits only, against UTF-7 and its aliases. */
    int u7 = is_utf7_name(name, len);
    if (u7) {
        cs->kind = MW__CS_KIND_UTF7;
        cs->u7_imap = u7 == 2;
        return MW_OK;
    }
    /* iconv names may carry "//" suffixes (//TRANSLIT, //IGNORE): a peer
     * must not choose those for us. */
    if (strstr(cs->name, "//") || strchr(cs->name, ',')) return MW_ERR_CHARSET;
    iconv_t cd = iconv_open("UTF-8", cs->name);
    if (cd == (iconv_t)-1) return errno == ENOMEM ? MW_ERR_NOMEM : MW_ERR_CHARSET;
    cs->cd = (void *)cd;
    cs->kind = MW__CS_KIND_ICONV;
    return MW_OK;
}

void mw__charset_close(mw__charset *cs)
{
    if (cs->kind == MW__CS_KIND_ICONV) iconv_close((iconv_t)cs->cd);
    cs->kind = MW__CS_KIND_NONE;
    cs->cd = NULL;
    cs->ncarry = 0;
    cs->bad_pending = 0;
}

void mw__charset_reset(mw__charset *cs)
{
    cs->ncarry = 0;
    cs->bad_pending = 0;
    cs->u7_mode = 0;
    cs->u7_bits = 0;
    cs->u7_acc = cs->u7_high = 0;
    if (cs->kind == MW__CS_KIND_ICONV) iconv((iconv_t)cs->cd, NULL, NULL, NULL, NULL);
}

int mw__charset_is(const mw__charset *cs, const char *name, size_t len)
{
    return cs->kind != MW__CS_KIND_NONE && name_eq(name, len, cs->name);
}

static int put_replacement(mw__charset *cs, unsigned char **out, size_t *outlen)
{
    if (*outlen < 3) return MW_ERR_BUFFER;
    memcpy(*out, replacement, 3);
    *out += 3;
    *outlen -= 3;
    cs->replaced++;
    return MW_OK;
}

/* Complete the carried UTF-8 prefix with new input. */
static int utf8_carry(mw__charset *cs, const unsigned char **in, size_t *inlen, unsigned char **out,
                      size_t *outlen, int finish)
{
    unsigned char tmp[8];
    size_t nc = cs->ncarry, take = *inlen < 4 ? *inlen : 4;
    memcpy(tmp, cs->carry, nc);
    if (take) memcpy(tmp + nc, *in, take);
    uint32_t cp;
    int r = mw__utf8_next(tmp, nc + take, &cp);
    if (r > 0) {
        if (*outlen < (size_t)r) return MW_ERR_BUFFER;
        memcpy(*out, tmp, (size_t)r);
        *out += r, *outlen -= (size_t)r;
        *in += (size_t)r - nc, *inlen -= (size_t)r - nc;
        cs->ncarry = 0;
        return MW_OK;
    }
    if (r == 0 && !finish) { /* still incomplete: all new input joins the carry */
        if (take) { /* *in may be NULL with nothing to take: no NULL + 0 */
            memcpy(cs->carry + nc, *in, take);
            *in += take, *inlen -= take;
        }
        cs->ncarry = nc + take;
        return MW_OK;
    }
    size_t bad = r == 0 ? nc + take : (size_t)-r;
    if (put_replacement(cs, out, outlen)) return MW_ERR_BUFFER;
    if (bad > nc) {
        *in += bad - nc, *inlen -= bad - nc;
        cs->ncarry = 0;
    } else if (bad == nc) {
        cs->ncarry = 0;
    } else {
        memmove(cs->carry, cs->carry + bad, nc - bad);
        cs->ncarry = nc - bad;
    }
    return MW_OK;
}

static int convert_utf8(mw__charset *cs, const unsigned char **in, size_t *inlen,
                        unsigned char **out, size_t *outlen, int finish)
{
    while (cs->ncarry && (*inlen || finish)) {
        int rc = utf8_carry(cs, in, inlen, out, outlen, finish);
        if (rc) return rc;
    }
    const unsigned char *p = *in;
    size_t n = *inlen;
    while (n) {
        /* Copy the longest valid run in one go. */
        size_t run = mw__utf8_valid_len(p, n);
        if (run > *outlen) run = mw__utf8_valid_len(p, *outlen);
        memcpy(*out, p, run);
        *out += run, *outlen -= run, p += run, n -= run;
        if (!n) break;
        uint32_t cp;
        int r = mw__utf8_next(p, n, &cp);
        if (r > 0) break; /* valid but no room */
        if (r == 0) {
            if (finish) {
                if (put_replacement(cs, out, outlen)) break;
            } else {
                memcpy(cs->carry, p, n);
                cs->ncarry = n;
            }
            p += n, n = 0;
            break;
        }
        if (put_replacement(cs, out, outlen)) break;
        p += (size_t)-r, n -= (size_t)-r;
    }
    *in = p, *inlen = n;
    return n ? MW_ERR_BUFFER : MW_OK;
}

static int convert_ascii(mw__charset *cs, const unsigned char **in, size_t *inlen,
                         unsigned char **out, size_t *outlen)
{
    while (*inlen) {
        if (**in >= 0x80) {
            if (put_replacement(cs, out, outlen)) return MW_ERR_BUFFER;
        } else {
            if (!*outlen) return MW_ERR_BUFFER;
            *(*out)++ = **in, (*outlen)--;
        }
        (*in)++, (*inlen)--;
    }
    return MW_OK;
}

/* ---- UTF-7 (RFC 2152) ------------------------------------------------ */

enum { U7_DIRECT = 0, U7_PLUS, U7_B64 }; /* U7_PLUS: just after '+', no base64 yet */

/* RFC 2152 base64, or with "," for "/" in the IMAP variant (RFC 3501 §5.1.3). */
static int b64_val(unsigned char c, int imap)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == (imap ? ',' : '/')) return 63;
    return -1;
}

static void put_cp(unsigned char **out, size_t *outlen, uint32_t cp)
{
    unsigned char *o = *out;
    size_t n;
    if (cp < 0x80) {
        o[0] = (unsigned char)cp, n = 1;
    } else if (cp < 0x800) {
        o[0] = (unsigned char)(0xC0 | (cp >> 6)), o[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        o[0] = (unsigned char)(0xE0 | (cp >> 12)), o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (unsigned char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        o[0] = (unsigned char)(0xF0 | (cp >> 18)), o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)), o[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    *out += n, *outlen -= n;
}

/* One UTF-16 unit from the base64 run; surrogates are paired, a lone one
 * becomes U+FFFD. */
static void u7_unit(mw__charset *cs, uint32_t u, unsigned char **out, size_t *outlen)
{
    if (u >= 0xDC00 && u <= 0xDFFF && cs->u7_high) {
        put_cp(out, outlen, 0x10000 + ((cs->u7_high - 0xD800) << 10) + (u - 0xDC00));
        cs->u7_high = 0;
        return;
    }
    if (cs->u7_high) {
        put_replacement(cs, out, outlen);
        cs->u7_high = 0;
    }
    if (u >= 0xD800 && u <= 0xDBFF)
        cs->u7_high = u;
    else if (u >= 0xDC00 && u <= 0xDFFF)
        put_replacement(cs, out, outlen);
    else
        put_cp(out, outlen, u);
}

/* The base64 run ends: leftover bits must be fewer than 6 and zero, no
 * high surrogate may wait, and "+" alone is not a run (§"Rule 2"); one
 * U+FFFD for whatever was wrong. */
static void u7_end_run(mw__charset *cs, unsigned char **out, size_t *outlen)
{
    uint32_t mask = cs->u7_bits ? (1u << cs->u7_bits) - 1 : 0;
    if (cs->u7_mode == U7_PLUS || cs->u7_high || cs->u7_bits >= 6 || (cs->u7_acc & mask))
        put_replacement(cs, out, outlen);
    cs->u7_mode = U7_DIRECT;
    cs->u7_bits = 0;
    cs->u7_acc = cs->u7_high = 0;
}

/* One input byte (c < 0: the end of the input) into at most 7 bytes. */
static void u7_byte(mw__charset *cs, int c, unsigned char **out, size_t *outlen)
{
    const int shift = cs->u7_imap ? '&' : '+';
    if (cs->u7_mode != U7_DIRECT) {
        int v = c >= 0 ? b64_val((unsigned char)c, cs->u7_imap) : -1;
        if (v >= 0) {
            cs->u7_mode = U7_B64;
            cs->u7_acc = ((cs->u7_acc << 6) | (uint32_t)v) & 0x3FFFFFu;
            cs->u7_bits += 6;
            if (cs->u7_bits >= 16) {
                cs->u7_bits -= 16;
                u7_unit(cs, (cs->u7_acc >> cs->u7_bits) & 0xFFFFu, out, outlen);
            }
            return;
        }
        if (c == '-' && cs->u7_mode == U7_PLUS) { /* "+-" is "+" ("&-" is "&") */
            *(*out)++ = (unsigned char)shift, (*outlen)--;
            cs->u7_mode = U7_DIRECT;
            return;
        }
        u7_end_run(cs, out, outlen);
        if (c == '-' || c < 0) return; /* '-' ends the run and is absorbed */
    }
    if (c == shift)
        cs->u7_mode = U7_PLUS;
    else if (c >= 0x80)
        put_replacement(cs, out, outlen);
    else if (c >= 0)
        *(*out)++ = (unsigned char)c, (*outlen)--;
}

/* A byte-at-a-time state machine: no lookahead, so any cut of the input
 * gives the same output. Each byte is run into a scratch buffer first and
 * committed only when its output fits, so the output can be sized exactly. */
static int convert_utf7(mw__charset *cs, const unsigned char **in, size_t *inlen,
                        unsigned char **out, size_t *outlen, int finish)
{
    for (;;) {
        int c;
        if (*inlen)
            c = **in;
        else if (finish && cs->u7_mode != U7_DIRECT)
            c = -1;
        else
            return MW_OK;
        mw__charset save = *cs;
        unsigned char tmp[8], *t = tmp;
        size_t tl = sizeof tmp;
        u7_byte(cs, c, &t, &tl);
        size_t n = (size_t)(t - tmp);
        if (n > *outlen) {
            *cs = save;
            return MW_ERR_BUFFER;
        }
        memcpy(*out, tmp, n);
        *out += n, *outlen -= n;
        if (c >= 0) (*in)++, (*inlen)--;
    }
}

/* One iconv call on [*ip, *ip + *il); returns 0 or errno. */
static int iconv_step(mw__charset *cs, const unsigned char **ip, size_t *il, unsigned char **out,
                      size_t *outlen)
{
    char *i = (char *)(uintptr_t)*ip, *o = (char *)*out;
    size_t r = iconv((iconv_t)cs->cd, &i, il, &o, outlen);
    int err = r == (size_t)-1 ? errno : 0;
    *ip = (const unsigned char *)i;
    *out = (unsigned char *)o;
    return err;
}

/* Finish the carried tail with a few new bytes.
 *
 * Split-invariance: whatever way the input is cut, iconv must be asked
 * the same questions as on uncut input. Two rules make that hold: an
 * EINVAL (incomplete tail) is never final before the end of the input, so
 * the tail is carried and asked again with more bytes; an EILSEQ is always
 * final, so the byte is marked bad (bad_pending) and replaced, and iconv
 * is never asked again at that byte with other lookahead (glibc can then
 * answer differently: ISO-2022-CN-EXT after an SS2 escape). */
static int iconv_carry(mw__charset *cs, const unsigned char **in, size_t *inlen,
                       unsigned char **out, size_t *outlen, int finish)
{
    unsigned char tmp[2 * MW__CS_CARRY_MAX];
    size_t nc = cs->ncarry, take = *inlen < MW__CS_CARRY_MAX ? *inlen : MW__CS_CARRY_MAX;
    memcpy(tmp, cs->carry, nc);
    if (take) memcpy(tmp + nc, *in, take);
    const unsigned char *tp = tmp;
    size_t tl = nc + take;
    int err = iconv_step(cs, &tp, &tl, out, outlen);
    size_t used = (size_t)(tp - tmp);
    if (used >= nc) { /* the carry is gone; go on with the real input */
        *in += used - nc, *inlen -= used - nc;
        cs->ncarry = 0;
        if (err == EILSEQ) cs->bad_pending = 1; /* at *in */
        return MW_OK;
    }
    if (used) { /* e.g. a shift sequence: drop it from the carry */
        memmove(cs->carry, cs->carry + used, nc - used);
        cs->ncarry = nc - used;
        if (err == EILSEQ) cs->bad_pending = 1; /* at carry[0] */
        return MW_OK;
    }
    if (err == E2BIG) return MW_ERR_BUFFER;
    if (err == EINVAL && !finish && take == *inlen && nc + take <= MW__CS_CARRY_MAX) {
        if (take) { /* *in may be NULL with nothing to take: no NULL + 0 */
            memcpy(cs->carry + nc, *in, take);
            *in += take, *inlen -= take;
        }
        cs->ncarry = nc + take;
        return MW_OK;
    }
    if (err == EINVAL && finish && take == *inlen) { /* truncated at the very end */
        if (put_replacement(cs, out, outlen)) return MW_ERR_BUFFER;
        *in += take, *inlen = 0;
        cs->ncarry = 0;
        return MW_OK;
    }
    /* EILSEQ, or a tail that cannot complete within the carry: one U+FFFD
     * per bad byte. */
    cs->bad_pending = 1;
    return MW_OK;
}

/* Replace the byte marked bad: the first carried byte, else the next input byte. */
static int iconv_bad_byte(mw__charset *cs, const unsigned char **in, size_t *inlen,
                          unsigned char **out, size_t *outlen)
{
    if (!cs->ncarry && !*inlen) return MW_OK; /* comes with the next input */
    if (put_replacement(cs, out, outlen)) return MW_ERR_BUFFER;
    if (cs->ncarry) {
        memmove(cs->carry, cs->carry + 1, cs->ncarry - 1);
        cs->ncarry--;
    } else {
        (*in)++, (*inlen)--;
    }
    cs->bad_pending = 0;
    return MW_OK;
}

static int convert_iconv(mw__charset *cs, const unsigned char **in, size_t *inlen,
                         unsigned char **out, size_t *outlen, int finish)
{
    for (;;) {
        if (cs->bad_pending) {
            int rc = iconv_bad_byte(cs, in, inlen, out, outlen);
            if (rc) return rc;
            if (cs->bad_pending) return MW_OK; /* needs input */
            continue;
        }
        if (cs->ncarry) {
            if (!*inlen && !finish) return MW_OK;
            int rc = iconv_carry(cs, in, inlen, out, outlen, finish);
            if (rc) return rc;
            continue;
        }
        if (!*inlen) break;
        int err = iconv_step(cs, in, inlen, out, outlen);
        if (!err) continue;
        if (err == E2BIG) return MW_ERR_BUFFER;
        if (err == EINVAL && *inlen <= MW__CS_CARRY_MAX) { /* incomplete tail */
            memcpy(cs->carry, *in, *inlen);
            cs->ncarry = *inlen;
            *in += *inlen, *inlen = 0;
            continue;
        }
        cs->bad_pending = 1; /* EILSEQ is final (see iconv_carry) */
    }
    if (finish) {
        /* Emit whatever returns the state to the initial one (nothing for
         * UTF-8 output, but iconv wants to be told). */
        char *o = (char *)*out;
        if (iconv((iconv_t)cs->cd, NULL, NULL, &o, outlen) == (size_t)-1 && errno == E2BIG)
            return MW_ERR_BUFFER;
        *out = (unsigned char *)o;
    }
    return MW_OK;
}

int mw__charset_convert(mw__charset *cs, const unsigned char **in, size_t *inlen,
                        unsigned char **out, size_t *outlen, int finish)
{
    switch (cs->kind) {
    case MW__CS_KIND_UTF8:
        return convert_utf8(cs, in, inlen, out, outlen, finish);
    case MW__CS_KIND_ASCII:
        return convert_ascii(cs, in, inlen, out, outlen);
    case MW__CS_KIND_ICONV:
        return convert_iconv(cs, in, inlen, out, outlen, finish);
    case MW__CS_KIND_UTF7:
        return convert_utf7(cs, in, inlen, out, outlen, finish);
    default:
        return MW_ERR_INVALID;
    }
}
