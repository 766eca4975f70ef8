/*
 * Structured MIME header values: Content-Type (RFC 2045 §5.1),
 * Content-Disposition (RFC 2183 §2) and their parameters, with RFC 2231
 * continuations, charsets and languages. Parsing is lenient the way mature
 * readers are (comments anywhere, unquoted values with spaces, missing
 * segments) and reports what it forgave as defect bits; it never fails on
 * input, only on the arena.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mime/mime_internal.h"

#include "codec/codec_internal.h"

/* ---- arena --------------------------------------------------------- */

char *mw__arena_reserve(mw__arena *a, size_t n)
{
    if (n > a->max || a->len > a->max - n) return NULL;
    if (a->len + n > a->cap) {
        size_t cap = a->cap ? a->cap : 256;
        while (cap < a->len + n)
            cap *= 2;
        if (cap > a->max) cap = a->max;
        char *nb = mw__realloc(a->mem, a->buf, cap);
        if (!nb) return NULL;
        a->buf = nb;
        a->cap = cap;
    }
    return a->buf + a->len;
}

char *mw__arena_push(mw__arena *a, const void *data, size_t len)
{
    /* Pushes never grow the buffer: the caller reserved the worst case
     * before the parse, so earlier slices cannot move. */
    if (a->cap - a->len < len) return NULL;
    char *p = a->buf + a->len;
    if (len) memcpy(p, data, len);
    a->len += len;
    return p;
}

/* ---- character classes --------------------------------------------- */

static int is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 2045 §5.1 token: any CHAR except SPACE, CTLs and tspecials. */
static int is_token(unsigned char c)
{
    if (c <= 32 || c >= 127) return c >= 128; /* 8-bit bytes kept (RFC 6532 leniency) */
    return strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

int mw__mime_ieq(const char *s, size_t len, const char *low)
{
    size_t n = strlen(low);
    if (n != len) return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != (unsigned char)low[i]) return 0;
    return 1;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* Skip whitespace, folding and RFC 5322 comments (nested, with quoted
 * pairs). An unterminated comment runs to the end. Iterative: comment
 * depth is only a counter. */
static size_t skip_cfws(const char *s, size_t i, size_t len)
{
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (is_wsp(c)) {
            i++;
        } else if (c == '(') {
            size_t depth = 0;
            for (; i < len; i++) {
                c = (unsigned char)s[i];
                if (c == '\\')
                    i++;
                else if (c == '(')
                    depth++;
                else if (c == ')' && --depth == 0) {
                    i++;
                    break;
                }
            }
        } else {
            break;
        }
    }
    return i;
}

static size_t scan_token(const char *s, size_t i, size_t len)
{
    while (i < len && is_token((unsigned char)s[i]))
        i++;
    return i;
}

static mw_slice push_lower(mw__arena *a, const char *s, size_t len)
{
    mw_slice out = {NULL, 0};
    char *p = mw__arena_push(a, s, len);
    if (!p) return out;
    for (size_t i = 0; i < len; i++)
        p[i] = (char)lower((unsigned char)p[i]);
    out.base = p;
    out.len = len;
    return out;
}

/* ---- charset conversion -------------------------------------------- */

int mw__mime_to_utf8(mw__arena *a, const char *charset, size_t cslen, const char *in, size_t len,
                     mw_slice *out)
{
    mw__charset cs;
    memset(&cs, 0, sizeof cs);
    out->base = NULL;
    out->len = 0;
    int rc = mw__charset_open(&cs, charset, cslen);
    if (rc == MW_ERR_NOMEM) return rc;
    if (rc != MW_OK) {
        char *p = mw__arena_push(a, in, len);
        if (!p) return MW_ERR_LIMIT;
        out->base = p;
        out->len = len;
        return 0;
    }
    /* The caller reserved room; the converter writes what fits and the
     * output is valid UTF-8 (malformed input becomes U+FFFD). */
    const unsigned char *src = (const unsigned char *)in;
    size_t srclen = len, room = a->cap - a->len, left = room;
    unsigned char *dst = (unsigned char *)a->buf + a->len;
    out->base = a->buf + a->len;
    rc = mw__charset_convert(&cs, &src, &srclen, &dst, &left, 1);
    mw__charset_close(&cs);
    out->len = room - left;
    a->len += out->len;
    return rc == MW_OK ? 1 : 0; /* truncated: reported as a charset defect */
}

/* ---- parameters ---------------------------------------------------- */

#define DEFECT_BIT(d) (1u << (d))

/* Split "name*3*" into name, section 3 and the extended flag (RFC 2231 §3, §4). */
static void split_param_name(mw__raw_param *r)
{
    const char *s = r->name.base;
    size_t n = r->name.len;
    r->section = -1;
    r->extended = 0;
    if (n > 1 && s[n - 1] == '*') {
        r->extended = 1;
        n--;
    }
    size_t d = n;
    while (d > 0 && s[d - 1] >= '0' && s[d - 1] <= '9')
        d--;
    if (d < n && d > 1 && s[d - 1] == '*' && n - d <= 6) {
        long v = 0;
        for (size_t i = d; i < n; i++)
            v = v * 10 + (s[i] - '0');
        r->section = v;
        n = d - 1;
    }
    r->name.len = n;
}

/* Read one "; name = value" starting after the ';'. Returns the new index. */
static size_t read_param(const char *s, size_t i, size_t len, mw__raw_param *r, unsigned *defects)
{
    memset(r, 0, sizeof *r);
    i = skip_cfws(s, i, len);
    size_t ns = i;
    i = scan_token(s, i, len);
    r->name.base = s + ns;
    r->name.len = i - ns;
    i = skip_cfws(s, i, len);
    if (r->name.len == 0 || i >= len || s[i] != '=') {
        if (r->name.len || (i < len && s[i] != ';'))
            *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_PARAM);
        r->name.len = 0;
        return i;
    }
    i = skip_cfws(s, i + 1, len);
    if (i < len && s[i] == '"') {
        size_t vs = ++i;
        while (i < len && s[i] != '"')
            i += s[i] == '\\' ? 2 : 1;
        if (i > len) i = len;
        r->value.base = s + vs;
        r->value.len = i - vs;
        r->quoted = 1;
        if (i < len)
            i++;
        else
            *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_PARAM);
        return i;
    }
    size_t vs = i;
    i = scan_token(s, i, len);
    size_t ve = i;
    size_t j = skip_cfws(s, i, len);
    if (j < len && s[j] != ';') {
        /* Unquoted value with spaces or specials ("name=my file.pdf"):
         * take everything up to the next ';', as mature readers do. */
        while (j < len && s[j] != ';')
            j++;
        ve = j;
        while (ve > vs && is_wsp((unsigned char)s[ve - 1]))
            ve--;
        i = j;
        if (ve == vs) *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_PARAM);
    }
    r->value.base = s + vs;
    r->value.len = ve - vs;
    return i;
}

/* Append a segment's bytes: quoted-string unescaped, or %XX decoded when
 * extended (RFC 2231 §4). The arena has room (reserved by the caller). */
static void append_segment(mw__arena *a, const mw__raw_param *r, const char *v, size_t n,
                           int percent, unsigned *defects)
{
    if (a->cap - a->len < n) return; /* cannot happen: the caller reserved 11x */
    char *out = a->buf + a->len;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        if (r->quoted && c == '\\' && i + 1 < n) {
            c = (unsigned char)v[++i];
        } else if (percent && c == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)v[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)v[i + 2]) : -1;
            if (hi >= 0 && lo >= 0) {
                c = (unsigned char)(hi * 16 + lo);
                i += 2;
            } else {
                *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_PARAM);
            }
        }
        out[o++] = (char)c;
    }
    a->len += o;
}

static const mw__raw_param *find_section(const mw__raw_param *raw, size_t n, size_t from,
                                         mw_slice name, long section)
{
    for (size_t i = from; i < n; i++)
        if (raw[i].section == section && raw[i].name.len == name.len &&
            mw__mime_ieq_slices(raw[i].name, name))
            return &raw[i];
    return NULL;
}

int mw__mime_ieq_slices(mw_slice a, mw_slice b)
{
    if (a.len != b.len) return 0;
    for (size_t i = 0; i < a.len; i++)
        if (lower((unsigned char)a.base[i]) != lower((unsigned char)b.base[i])) return 0;
    return 1;
}

/* RFC 2047 §5 forbids encoded words in parameter values, yet Outlook and
 * many webmail senders write name="=?UTF-8?B?...?=" and every mature reader
 * decodes them. The rule here: in a plain (not RFC 2231) name or filename
 * value, encoded words are decoded to UTF-8 and MIME_DEFECT_2047_PARAM is
 * reported; every other parameter (boundary, charset, ...) keeps its bytes,
 * since those are tokens compared byte for byte. The decoded text goes
 * after the value in the arena's reserved room; when it does not fit, or
 * the value holds no decodable word, the value stays as written. */
static int decode_2047_value(mw__arena *a, mw_slice *value, unsigned *defects)
{
    int word = 0;
    for (size_t i = 0; i + 1 < value->len && !word; i++)
        word = value->base[i] == '=' && value->base[i + 1] == '?';
    if (!word) return MW_OK;
    char *out = a->buf + a->len;
    unsigned bad = 0;
    mw_ssize n = mw_2047_decode(value->base, value->len, out, a->cap - a->len, 0, &bad);
    if (n == MW_ERR_NOMEM) return MW_ERR_NOMEM;
    if (n < 0) return MW_OK; /* no room: kept as written */
    if (bad & MW_2047_DEFECT_CHARSET) *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_CHARSET);
    if (bad & MW_2047_DEFECT_ENCODING) *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_PARAM);
    if ((size_t)n == value->len && memcmp(out, value->base, value->len) == 0) return MW_OK;
    *defects |= DEFECT_BIT(MW_MIME_DEFECT_2047_PARAM);
    a->len += (size_t)n;
    value->base = out;
    value->len = (size_t)n;
    return MW_OK;
}

/* Join the raw parameters named like raw[first] into one output parameter. */
/* The charset'language' prefix of an extended value (RFC 2231 §4) goes to
 * out; *v and *n move past it. Without both quotes the value is kept whole
 * and is a BAD_PARAM defect. */
static void split_charset_language(const char **v, size_t *n, mw_mime_param *out,
                                   unsigned *defects)
{
    const char *q1 = memchr(*v, '\'', *n);
    const char *q2 = q1 ? memchr(q1 + 1, '\'', *n - (size_t)(q1 + 1 - *v)) : NULL;
    if (!q1 || !q2) {
        *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_PARAM);
        return;
    }
    out->charset = (mw_slice){*v, (size_t)(q1 - *v)};
    out->language = (mw_slice){q1 + 1, (size_t)(q2 - q1 - 1)};
    *n -= (size_t)(q2 + 1 - *v);
    *v = q2 + 1;
}

static int join_param(mw__mime_pctx *ctx, size_t nraw, size_t first, mw_mime_param *out,
                      unsigned *defects)
{
    mw__raw_param *raw = ctx->raw;
    mw_slice name = raw[first].name;
    const mw__raw_param *plain = NULL, *ext = NULL;
    int sectioned = 0;
    for (size_t i = first; i < nraw; i++) {
        if (!mw__mime_ieq_slices(raw[i].name, name)) continue;
        raw[i].used = 1;
        if (raw[i].section >= 0)
            sectioned = 1;
        else if (raw[i].extended && !ext)
            ext = &raw[i];
        else if (!raw[i].extended && !plain)
            plain = &raw[i];
    }
    memset(out, 0, sizeof *out);
    out->name = push_lower(ctx->arena, name.base, name.len);
    mw__arena *a = ctx->arena;
    size_t vstart = a->len;
    if (sectioned) {
        long k = 0;
        for (;; k++) {
            const mw__raw_param *seg = find_section(raw, nraw, first, name, k);
            if (!seg) break;
            if ((size_t)k >= ctx->max_segments) {
                *defects |= DEFECT_BIT(MW_MIME_DEFECT_TOO_MANY_PARAMS);
                break;
            }
            const char *v = seg->value.base;
            size_t n = seg->value.len;
            if (k == 0 && seg->extended) split_charset_language(&v, &n, out, defects);
            append_segment(a, seg, v, n, seg->extended, defects);
        }
        /* A later section after a gap means a segment went missing. */
        for (size_t i = first; i < nraw; i++)
            if (raw[i].section >= k && mw__mime_ieq_slices(raw[i].name, name)) {
                *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_PARAM);
                break;
            }
    } else {
        const mw__raw_param *src = ext ? ext : plain;
        const char *v = src->value.base;
        size_t n = src->value.len;
        if (ext) split_charset_language(&v, &n, out, defects);
        append_segment(a, src, v, n, src->extended, defects);
    }
    out->rfc2231 = sectioned || ext != NULL;
    out->value.base = a->buf + vstart;
    out->value.len = a->len - vstart;
    if (out->charset.len) {
        mw_slice conv;
        int rc = mw__mime_to_utf8(a, out->charset.base, out->charset.len, out->value.base,
                                  out->value.len, &conv);
        if (rc < 0) return rc;
        if (rc == 0) *defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_CHARSET);
        out->value = conv;
    } else if (!out->rfc2231 && (mw__mime_ieq(out->name.base, out->name.len, "name") ||
                                 mw__mime_ieq(out->name.base, out->name.len, "filename"))) {
        return decode_2047_value(a, &out->value, defects);
    }
    return MW_OK;
}

int mw__mime_parse_ctype(mw__mime_pctx *ctx, const char *s, size_t len, int has_subtype,
                         mw__mime_ctype *out)
{
    unsigned defects = 0;
    mw__arena *a = ctx->arena;
    memset(out, 0, sizeof *out);
    size_t i = skip_cfws(s, 0, len);
    size_t ts = i;
    i = scan_token(s, i, len);
    size_t te = i;
    if (has_subtype) {
        i = skip_cfws(s, i, len);
        size_t ss = i, se = i;
        if (i < len && s[i] == '/') {
            ss = skip_cfws(s, i + 1, len);
            se = scan_token(s, ss, len);
            i = se;
        }
        if (te == ts || se == ss) {
            defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_CONTENT_TYPE);
        } else {
            out->type = push_lower(a, s + ts, te - ts);
            out->subtype = push_lower(a, s + ss, se - ss);
        }
    } else if (te > ts) {
        out->type = push_lower(a, s + ts, te - ts);
    }
    /* Parameters. */
    size_t nraw = 0;
    while (i < len) {
        i = skip_cfws(s, i, len);
        if (i >= len) break;
        if (s[i] != ';') {
            /* Junk before the next ';' (or a missing ';'): skip it. */
            defects |= DEFECT_BIT(MW_MIME_DEFECT_BAD_PARAM);
            while (i < len && s[i] != ';')
                i++;
            continue;
        }
        mw__raw_param r;
        i = read_param(s, i + 1, len, &r, &defects);
        if (r.name.len == 0) continue;
        if (nraw == ctx->max_raw) {
            defects |= DEFECT_BIT(MW_MIME_DEFECT_TOO_MANY_PARAMS);
            break;
        }
        split_param_name(&r);
        ctx->raw[nraw++] = r;
    }
    size_t np = 0;
    for (size_t k = 0; k < nraw; k++) {
        if (ctx->raw[k].used) continue;
        if (np == ctx->max_params) {
            defects |= DEFECT_BIT(MW_MIME_DEFECT_TOO_MANY_PARAMS);
            break;
        }
        int rc = join_param(ctx, nraw, k, &ctx->params[np], &defects);
        if (rc < 0) return rc;
        np++;
    }
    out->params = ctx->params;
    out->nparams = np;
    out->defects = defects;
    return MW_OK;
}
