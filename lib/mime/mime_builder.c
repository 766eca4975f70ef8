/*
 * Streaming MIME builder: writes a message in document order into a
 * bounded output queue. Entities live on an explicit stack (no recursion);
 * bodies go through the codec steppers and are taken only while the queue
 * has room, so memory does not depend on the size of a body.
 *
 * SPDX-License-Identifier: MIT
 */
#include "mime/mime_internal.h"

#include "codec/codec_internal.h"

#include <mailwire/rfc5322.h>

#include <stdio.h>

#define BUILD_MAX_DEPTH 100
#define HARD_EXTRA (64u * 1024u) /* structure calls may exceed out_max by this */
#define FOLD_AT 78               /* RFC 5322 §2.1.1 SHOULD */
#define LINE_MAX_LEN 998         /* RFC 5322 §2.1.1 MUST */

enum { E_OPEN, E_LEAF, E_MULTIPART, E_MESSAGE };

typedef struct bframe {
    unsigned char kind;     /* E_OPEN: a message whose body has not started */
    unsigned char msg_root; /* the frame is a message (root or inside message/rfc822) */
    unsigned char hdr_open; /* header block not yet ended by the blank line */
    unsigned char cte;
    unsigned char text;
    uint32_t children;
    size_t boff, blen; /* boundary in bnd */
} bframe;

struct mw_mime_builder {
    mw_mem mem;
    unsigned flags;
    mw__outq q;
    size_t soft;
    bframe st[BUILD_MAX_DEPTH + 2];
    size_t depth; /* frames in use */
    char *bnd;
    size_t bnd_len, bnd_cap;
    mw_codec codec;
    int prev_cr; /* identity text: last byte was CR */
    int done;
};

/* ---- small helpers ---------------------------------------------------- */

static int has_crlfnul(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') return 1;
    return 0;
}

static int all_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80 || (unsigned char)s[i] < 0x20) {
            if (s[i] != '\t') return 0;
        }
    return 1;
}

static int valid_name(const char *s)
{
    if (!s || !*s) return 0;
    for (; *s; s++)
        if ((unsigned char)*s < 33 || (unsigned char)*s > 126 || *s == ':') return 0;
    return 1;
}

static int valid_utf8(const char *s, size_t n)
{
    return mw__utf8_valid_len((const unsigned char *)s, n) == n;
}

static bframe *btop(mw_mime_builder *b)
{
    return b->depth ? &b->st[b->depth - 1] : NULL;
}

/* Room check for a structure call: everything or nothing. Output that
 * could never fit, even in an empty queue, is a limit, not "drain first". */
static int need(mw_mime_builder *b, size_t n)
{
    size_t cap = b->soft + HARD_EXTRA;
    if (n > cap) return MW_ERR_LIMIT;
    if (mw__outq_len(&b->q) + n > cap) return MW_ERR_BUFFER;
    return MW_OK;
}

static int put(mw_mime_builder *b, const void *s, size_t n)
{
    int rc = mw__outq_append(&b->q, s, n);
    return rc == MW_ERR_LIMIT ? MW_ERR_BUFFER : rc;
}

static int puts_(mw_mime_builder *b, const char *s)
{
    return put(b, s, strlen(s));
}

/* ---- header folding ------------------------------------------------- */

#define WF_PRE_FOLDED 0x1u /* keep the CRLF SP folds of RFC 2047 encoder output */
#define WF_FOLD_FIRST 0x2u /* a first word too long for the name's line may go to the next */

/* Write "name: value" CRLF folded at whitespace so that lines stay within
 * 78 columns where a fold point exists and never exceed 998. The value has
 * no CR/LF (checked by the caller) unless WF_PRE_FOLDED. With WF_FOLD_FIRST
 * (structured fields, where FWS may follow the colon, RFC 5322 §3.2.2) a
 * first word that would pass column 78 starts on a continuation line. */
static int write_field(mw_mime_builder *b, const char *name, const char *v, size_t n,
                       unsigned wf)
{
    int pre_folded = (wf & WF_PRE_FOLDED) != 0;
    size_t nl = strlen(name);
    if (nl + 2 > LINE_MAX_LEN) return MW_ERR_LINE_TOO_LONG;
    int rc = need(b, nl + 2 + n + n / 2 * 2 + 4);
    if (rc) return rc;
    size_t first = 0;
    while (first < n && v[first] != ' ' && v[first] != '\t' && v[first] != '\r')
        first++;
    int fold_first = (wf & WF_FOLD_FIRST) && first && nl + 2 + first > FOLD_AT;
    /* Dry run first so nothing is written on LINE_TOO_LONG. */
    for (int pass = 0; pass < 2; pass++) {
        size_t col = fold_first ? 0 : nl + 2;
        if (pass && ((rc = puts_(b, name)) || (rc = puts_(b, fold_first ? ":\r\n" : ": "))))
            return rc;
        if (fold_first) {
            if (pass && (rc = put(b, " ", 1))) return rc;
            col = 1;
        }
        size_t i = 0;
        while (i < n) {
            if (pre_folded && v[i] == '\r') { /* keep CRLF SP from the encoder */
                if (pass && (rc = put(b, "\r\n", 2))) return rc;
                i += 2;
                col = 0;
                continue;
            }
            /* next unit: whitespace run + word */
            size_t ws = i;
            while (ws < n && (v[ws] == ' ' || v[ws] == '\t'))
                ws++;
            size_t we = ws;
            while (we < n && v[we] != ' ' && v[we] != '\t' && v[we] != '\r')
                we++;
            size_t unit = we - i;
            if (ws > i && col + unit > FOLD_AT && col > 1) {
                /* fold before the whitespace (RFC 5322 §2.2.3) */
                if (pass && (rc = put(b, "\r\n", 2))) return rc;
                col = 0;
            }
            if (col + unit > LINE_MAX_LEN) return MW_ERR_LINE_TOO_LONG;
            if (pass && (rc = put(b, v + i, unit))) return rc;
            col += unit;
            i = we;
        }
    }
    return put(b, "\r\n", 2);
}

static int headers_allowed(mw_mime_builder *b)
{
    bframe *f = btop(b);
    return f && f->hdr_open && !b->done;
}

MW_API int mw_mime_builder_header(mw_mime_builder *b, const char *name, const char *value,
                                  size_t len)
{
    if (!b || !valid_name(name) || (!value && len)) return MW_ERR_INVALID;
    if (has_crlfnul(value, len)) return MW_ERR_INVALID;
    if (!headers_allowed(b)) return MW_ERR_STATE;
    if (!all_ascii(value, len)) {
        if (!(b->flags & MW_MIME_BUILD_SMTPUTF8) || !valid_utf8(value, len)) return MW_ERR_SYNTAX;
    }
    return write_field(b, name, value, len, 0u);
}

MW_API int mw_mime_builder_header_text(mw_mime_builder *b, const char *name, const char *text,
                                       size_t len)
{
    if (!b || !valid_name(name) || (!text && len)) return MW_ERR_INVALID;
    if (has_crlfnul(text, len)) return MW_ERR_INVALID;
    if (!headers_allowed(b)) return MW_ERR_STATE;
    int plain = all_ascii(text, len);
    /* ASCII that looks like an encoded word must be encoded too, or a
     * reader would decode it. */
    for (size_t i = 0; plain && i + 1 < len; i++)
        if (text[i] == '=' && text[i + 1] == '?') plain = 0;
    if (plain) return write_field(b, name, text, len, 0u);
    if (!valid_utf8(text, len)) return MW_ERR_SYNTAX;
    if (b->flags & MW_MIME_BUILD_SMTPUTF8) return write_field(b, name, text, len, 0u);
    size_t cap = mw_2047_encoded_max(len);
    char *tmp = mw__malloc(&b->mem, cap);
    if (!tmp) return MW_ERR_NOMEM;
    mw_ssize n = mw_2047_encode(text, len, strlen(name) + 2, tmp, cap, 0);
    int rc = n < 0 ? (int)n : write_field(b, name, tmp, (size_t)n, WF_PRE_FOLDED);
    mw__free(&b->mem, tmp);
    return rc;
}

/* Format the mailboxes with mw_addr_format (quoting, RFC 2047 display
 * names) into one value; the encoder's CRLF SP folds become plain spaces
 * so that write_field folds the whole list at whitespace (RFC 2047 §6.2
 * drops the space between two encoded words, so nothing changes). */
static int format_mailboxes(mw_mime_builder *b, const mw_mime_mailbox *list, size_t n,
                            char **out, size_t *out_len)
{
    size_t cap = 1;
    for (size_t i = 0; i < n; i++) {
        const char *d = list[i].display, *a = list[i].addr;
        if (!a) return MW_ERR_INVALID;
        size_t dl = d ? strlen(d) : 0, al = strlen(a);
        if (has_crlfnul(a, al) || (d && has_crlfnul(d, dl))) return MW_ERR_INVALID;
        size_t one = mw_2047_encoded_max(dl) + 2 * dl + 2 * al + 16;
        if (one > ((size_t)-1 - cap) / 2) return MW_ERR_LIMIT;
        cap += one;
    }
    char *tmp = mw__malloc(&b->mem, cap);
    if (!tmp) return MW_ERR_NOMEM;
    unsigned fl = (b->flags & MW_MIME_BUILD_SMTPUTF8) ? MW_ADDR_FMT_UTF8 : 0u;
    size_t len = 0;
    int rc = MW_OK;
    for (size_t i = 0; i < n && rc == MW_OK; i++) {
        const char *d = list[i].display, *a = list[i].addr, *at = strrchr(a, '@');
        if (!at) {
            rc = MW_ERR_SYNTAX;
            break;
        }
        if (i) {
            tmp[len++] = ',';
            tmp[len++] = ' ';
        }
        size_t dl = d ? strlen(d) : 0;
        mw_ssize got = mw_addr_format(d, dl, a, (size_t)(at - a), at + 1, strlen(at + 1), fl,
                                      tmp + len, cap - len);
        if (got < 0)
            rc = got == MW_ERR_BUFFER ? MW_ERR_LIMIT : (int)got; /* cannot happen: cap is a bound */
        else
            len += (size_t)got;
    }
    if (rc) {
        mw__free(&b->mem, tmp);
        return rc;
    }
    size_t o = 0;
    for (size_t i = 0; i < len; i++)
        if (tmp[i] != '\r' && tmp[i] != '\n') tmp[o++] = tmp[i];
    *out = tmp;
    *out_len = o;
    return MW_OK;
}

MW_API int mw_mime_builder_header_addrs(mw_mime_builder *b, const char *name,
                                        const mw_mime_mailbox *list, size_t n)
{
    if (!b || !valid_name(name) || !list || n == 0) return MW_ERR_INVALID;
    if (!headers_allowed(b)) return MW_ERR_STATE;
    char *v;
    size_t len;
    int rc = format_mailboxes(b, list, n, &v, &len);
    if (rc) return rc;
    rc = write_field(b, name, v, len, WF_FOLD_FIRST);
    mw__free(&b->mem, v);
    return rc;
}

/* ---- parameters ----------------------------------------------------- */

/* RFC 2231 §7 attribute-char. */
static int attr_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return 1;
    return c && strchr("!#$&+-.^_`|~", c) != NULL;
}

static int needs_quote_escape(unsigned char c)
{
    return c == '"' || c == '\\';
}

/* ";" CRLF SP name="value" */
static int put_param_quoted(mw_mime_builder *b, const char *name, const char *v, size_t n)
{
    int rc;
    if ((rc = puts_(b, ";\r\n ")) || (rc = puts_(b, name)) || (rc = put(b, "=\"", 2))) return rc;
    for (size_t i = 0; i < n; i++) {
        if (needs_quote_escape((unsigned char)v[i]) && (rc = put(b, "\\", 1))) return rc;
        if ((rc = put(b, v + i, 1))) return rc;
    }
    return put(b, "\"", 1);
}

/* filename*=UTF-8''%XX... in segments of at most about 50 characters, so that
 * every parameter line stays under 78 columns. */
static int put_param_2231(mw_mime_builder *b, const char *name, const char *v, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += attr_char((unsigned char)v[i]) ? 1 : 3;
    int multi = total > 50;
    size_t i = 0;
    int rc;
    char num[24];
    for (unsigned seg = 0; i < n || seg == 0; seg++) {
        if ((rc = puts_(b, ";\r\n ")) || (rc = puts_(b, name))) return rc;
        if (multi) {
            snprintf(num, sizeof num, "*%u", seg);
            if ((rc = puts_(b, num))) return rc;
        }
        if ((rc = puts_(b, seg == 0 ? "*=UTF-8''" : "*="))) return rc;
        size_t used = 0;
        while (i < n && used < 50) {
            unsigned char c = (unsigned char)v[i++];
            if (attr_char(c)) {
                rc = put(b, &c, 1);
                used++;
            } else {
                char e[3] = {'%', hex[c >> 4], hex[c & 15]};
                rc = put(b, e, 3);
                used += 3;
            }
            if (rc) return rc;
        }
    }
    return MW_OK;
}

static int put_filename(mw_mime_builder *b, const char *pname, const char *fn)
{
    size_t n = strlen(fn);
    int simple = n <= 60 && all_ascii(fn, n);
    /* A plain value holding "=?" would be read as RFC 2047 words. */
    for (size_t i = 0; simple && i < n; i++)
        if (fn[i] == '\t' || (fn[i] == '=' && i + 1 < n && fn[i + 1] == '?')) simple = 0;
    return simple ? put_param_quoted(b, pname, fn, n) : put_param_2231(b, pname, fn, n);
}

/* ---- CTE choice ------------------------------------------------------- */

MW_API int mw_mime_choose_cte(const void *data, size_t len, int is_text, int allow_8bit)
{
    const unsigned char *d = data;
    size_t high = 0, ctl = 0, col = 0, maxcol = 0;
    int nul = 0, bare = 0;
    if (!d) len = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = d[i];
        if ((c == '\n' && (i == 0 || d[i - 1] != '\r')) ||
            (c == '\r' && (i + 1 == len || d[i + 1] != '\n')))
            bare = 1;
        if (c == '\n') {
            if (col > maxcol) maxcol = col;
            col = 0;
            continue;
        }
        col++;
        if (c >= 0x80)
            high++;
        else if (c == 0)
            nul = 1;
        else if (c < 0x20 && c != '\t' && c != '\r')
            ctl++;
    }
    if (col > maxcol) maxcol = col;
    /* Non-text data must come back byte for byte: 7bit/8bit would turn a
     * bare CR or LF into CRLF. */
    if (nul || (!is_text && (high || ctl || bare))) return MW_MIME_CTE_BASE64;
    if (!high && !ctl && maxcol <= LINE_MAX_LEN) return MW_MIME_CTE_7BIT;
    if (allow_8bit && !ctl && maxcol <= LINE_MAX_LEN) return MW_MIME_CTE_8BIT;
    /* Quoted-printable costs 3 bytes per escaped byte, base64 4/3 for all:
     * QP wins while under about a sixth of the bytes need escaping. */
    if ((high + ctl) * 6 < len) return MW_MIME_CTE_QP;
    return MW_MIME_CTE_BASE64;
}

/* ---- structure -------------------------------------------------------- */

MW_API mw_mime_builder *mw_mime_builder_new(const mw_mem *mem, unsigned flags, size_t out_max)
{
    const unsigned known = MW_MIME_BUILD_SMTPUTF8 | MW_MIME_BUILD_8BIT | MW_MIME_BUILD_2047_NAME;
    if (flags & ~known) return NULL;
    mw_mem m;
    mw__mem_resolve(&m, mem);
    mw_mime_builder *b = mw__malloc(&m, sizeof *b);
    if (!b) return NULL;
    memset(b, 0, sizeof *b);
    b->mem = m;
    b->flags = flags;
    b->soft = out_max ? out_max : 64u * 1024u;
    mw__outq_init(&b->q, &b->mem, b->soft + HARD_EXTRA);
    b->st[0].kind = E_OPEN;
    b->st[0].msg_root = 1;
    b->st[0].hdr_open = 1;
    b->depth = 1;
    return b;
}

MW_API void mw_mime_builder_free(mw_mime_builder *b)
{
    if (!b) return;
    mw_mem m = b->mem;
    mw__outq_free(&b->q);
    mw__free(&m, b->bnd);
    mw__free(&m, b);
}

MW_API const unsigned char *mw_mime_builder_out_buf(mw_mime_builder *b, size_t *len)
{
    if (!b || !len) {
        if (len) *len = 0;
        return NULL;
    }
    return mw__outq_buf(&b->q, len);
}

MW_API void mw_mime_builder_out_ack(mw_mime_builder *b, size_t n)
{
    if (b) mw__outq_ack(&b->q, n);
}

/* End the header block of the top entity (the blank line). */
static int close_headers(mw_mime_builder *b)
{
    bframe *f = btop(b);
    if (!f->hdr_open) return MW_OK;
    int rc = put(b, "\r\n", 2);
    if (!rc) f->hdr_open = 0;
    return rc;
}

/* Find where a new entity goes: the open message on top (returned as is),
 * or a new child frame of the multipart on top (delimiter written). */
static int place_entity(mw_mime_builder *b, bframe **out)
{
    bframe *f = btop(b);
    if (!f || b->done) return MW_ERR_STATE;
    if (f->kind == E_OPEN) {
        *out = f;
        return MW_OK;
    }
    if (f->kind != E_MULTIPART) return MW_ERR_STATE;
    if (b->depth >= BUILD_MAX_DEPTH + 1) return MW_ERR_LIMIT;
    int rc = close_headers(b);
    if (rc) return rc;
    /* RFC 2046 §5.1.1: the CRLF before "--" belongs to the delimiter; the
     * first one follows the blank line that ends the headers. */
    if ((rc = puts_(b, f->children ? "\r\n--" : "--")) ||
        (rc = put(b, b->bnd + f->boff, f->blen)) || (rc = put(b, "\r\n", 2)))
        return rc;
    f->children++;
    bframe *c = &b->st[b->depth++];
    memset(c, 0, sizeof *c);
    c->hdr_open = 1;
    *out = c;
    return MW_OK;
}

static int valid_type(const char *t)
{
    const char *slash = t ? strchr(t, '/') : NULL;
    if (!slash || slash == t || !slash[1]) return 0;
    for (const char *s = t; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 32 || c >= 127 || (c != '/' && strchr("()<>@,;:\\\"[]?=", c))) return 0;
        if (c == '/' && s != slash) return 0;
    }
    return 1;
}

static int valid_token(const char *t)
{
    if (!t || !*t) return 0;
    for (; *t; t++) {
        unsigned char c = (unsigned char)*t;
        if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"/[]?=", c)) return 0;
    }
    return 1;
}

static const char *cte_name(int cte)
{
    switch (cte) {
    case MW_MIME_CTE_8BIT:
        return "8bit";
    case MW_MIME_CTE_BINARY:
        return "binary";
    case MW_MIME_CTE_QP:
        return "quoted-printable";
    case MW_MIME_CTE_BASE64:
        return "base64";
    default:
        return "7bit";
    }
}

MW_API int mw_mime_builder_part_begin(mw_mime_builder *b, const char *type, const char *charset,
                                      int cte, const char *disposition, const char *filename,
                                      const void *sample, size_t sample_len)
{
    if (!b || !valid_type(type) || (charset && !valid_token(charset)) ||
        (disposition && !valid_token(disposition)) || (!sample && sample_len) ||
        cte < MW_MIME_CTE_AUTO || cte > MW_MIME_CTE_BASE64)
        return MW_ERR_INVALID;
    if (filename) {
        size_t n = strlen(filename);
        if (has_crlfnul(filename, n)) return MW_ERR_INVALID;
        if (!valid_utf8(filename, n)) return MW_ERR_SYNTAX;
    }
    int is_text = strncmp(type, "text/", 5) == 0;
    if (cte == MW_MIME_CTE_AUTO)
        cte = mw_mime_choose_cte(sample, sample_len, is_text, (b->flags & MW_MIME_BUILD_8BIT) != 0);
    size_t est = 256 + strlen(type) + (charset ? strlen(charset) : 0) +
                 (disposition ? strlen(disposition) : 0) +
                 (filename ? 9 * strlen(filename) + 64 : 0);
    int rc = need(b, est);
    if (rc) return rc;
    bframe *f;
    if ((rc = place_entity(b, &f))) return rc;
    if (f->msg_root && (rc = puts_(b, "MIME-Version: 1.0\r\n"))) return rc;
    if ((rc = puts_(b, "Content-Type: ")) || (rc = puts_(b, type))) return rc;
    if (charset && ((rc = puts_(b, "; charset=")) || (rc = puts_(b, charset)))) return rc;
    if (filename && !all_ascii(filename, strlen(filename)) &&
        (b->flags & MW_MIME_BUILD_2047_NAME)) {
        /* Old Outlook reads only name=, in RFC 2047 form (RFC 2047 §5 forbids
         * it; RFC 2231 readers ignore it in favour of filename*). */
        size_t n = strlen(filename), cap = mw_2047_encoded_max(n);
        char *tmp = mw__malloc(&b->mem, cap);
        if (!tmp) return MW_ERR_NOMEM;
        /* Words keep the encoder's CRLF SP folds: inside the quoted string
         * they unfold to spaces, which RFC 2047 §6.2 drops between words. */
        mw_ssize w = mw_2047_encode(filename, n, 7, tmp, cap, MW_2047_FORCE_B);
        if (w < 0)
            rc = (int)w;
        else if (!(rc = puts_(b, ";\r\n name=\"")) && !(rc = put(b, tmp, (size_t)w)))
            rc = put(b, "\"", 1);
        mw__free(&b->mem, tmp);
        if (rc) return rc;
    } else if (filename && (rc = put_filename(b, "name", filename))) {
        return rc;
    }
    if ((rc = puts_(b, "\r\nContent-Transfer-Encoding: ")) || (rc = puts_(b, cte_name(cte))) ||
        (rc = put(b, "\r\n", 2)))
        return rc;
    if (disposition || filename) {
        if ((rc = puts_(b, "Content-Disposition: ")) ||
            (rc = puts_(b, disposition ? disposition : "attachment")))
            return rc;
        if (filename && (rc = put_filename(b, "filename", filename))) return rc;
        if ((rc = put(b, "\r\n", 2))) return rc;
    }
    f->kind = E_LEAF;
    f->cte = (unsigned char)cte;
    f->text = (unsigned char)is_text;
    b->prev_cr = 0;
    if (cte == MW_MIME_CTE_BASE64)
        rc = mw_b64_encode_init(&b->codec, MW_B64_WRAP);
    else if (cte == MW_MIME_CTE_QP)
        rc = mw_qp_encode_init(&b->codec, is_text ? MW_QP_LF_EOL : MW_QP_BINARY);
    return rc;
}

MW_API int mw_mime_builder_multipart_begin(mw_mime_builder *b, const char *subtype,
                                           const char *boundary, const char *params)
{
    if (!b || !valid_token(subtype) || !boundary) return MW_ERR_INVALID;
    size_t bl = strlen(boundary);
    if (bl < 1 || bl > 70 || boundary[bl - 1] == ' ') return MW_ERR_INVALID;
    for (size_t i = 0; i < bl; i++) /* RFC 2046 §5.1.1 bchars */
        if (!attr_char((unsigned char)boundary[i]) && !strchr("'()+_,-./:=? ", boundary[i]))
            return MW_ERR_INVALID;
    if (params && has_crlfnul(params, strlen(params))) return MW_ERR_INVALID;
    if (params && !all_ascii(params, strlen(params))) return MW_ERR_SYNTAX;
    int rc = need(b, 200 + strlen(subtype) + bl + (params ? strlen(params) : 0));
    if (rc) return rc;
    if (b->bnd_len + bl > b->bnd_cap) {
        size_t cap = b->bnd_cap ? b->bnd_cap * 2 : 256;
        while (cap < b->bnd_len + bl)
            cap *= 2;
        char *nb = mw__realloc(&b->mem, b->bnd, cap);
        if (!nb) return MW_ERR_NOMEM;
        b->bnd = nb;
        b->bnd_cap = cap;
    }
    bframe *f;
    if ((rc = place_entity(b, &f))) return rc;
    if (f->msg_root && (rc = puts_(b, "MIME-Version: 1.0\r\n"))) return rc;
    if ((rc = puts_(b, "Content-Type: multipart/")) || (rc = puts_(b, subtype))) return rc;
    if (params && ((rc = puts_(b, ";\r\n ")) || (rc = puts_(b, params)))) return rc;
    if ((rc = puts_(b, ";\r\n boundary=\"")) || (rc = put(b, boundary, bl)) ||
        (rc = puts_(b, "\"\r\n")))
        return rc;
    memcpy(b->bnd + b->bnd_len, boundary, bl);
    f->boff = b->bnd_len;
    f->blen = bl;
    b->bnd_len += bl;
    f->kind = E_MULTIPART;
    return MW_OK;
}

static void pop(mw_mime_builder *b)
{
    bframe *f = btop(b);
    if (f->kind == E_MULTIPART) b->bnd_len = f->boff;
    b->depth--;
    if (b->depth == 0) b->done = 1;
}

MW_API int mw_mime_builder_multipart_end(mw_mime_builder *b)
{
    bframe *f = b ? btop(b) : NULL;
    if (!f || f->kind != E_MULTIPART || b->done) return MW_ERR_STATE;
    int rc = need(b, f->blen + 16);
    if (rc) return rc;
    if ((rc = close_headers(b))) return rc;
    if ((rc = puts_(b, f->children ? "\r\n--" : "--")) ||
        (rc = put(b, b->bnd + f->boff, f->blen)) || (rc = puts_(b, "--\r\n")))
        return rc;
    pop(b);
    return MW_OK;
}

MW_API int mw_mime_builder_message_begin(mw_mime_builder *b, int global)
{
    if (!b) return MW_ERR_INVALID;
    int rc = need(b, 128);
    if (rc) return rc;
    if (b->depth >= BUILD_MAX_DEPTH) return MW_ERR_LIMIT;
    bframe *f;
    if ((rc = place_entity(b, &f))) return rc;
    if (f->msg_root && (rc = puts_(b, "MIME-Version: 1.0\r\n"))) return rc;
    if ((rc = puts_(b, global ? "Content-Type: message/global\r\n"
                              : "Content-Type: message/rfc822\r\n")))
        return rc;
    f->kind = E_MESSAGE;
    if ((rc = close_headers(b))) return rc;
    bframe *c = &b->st[b->depth++];
    memset(c, 0, sizeof *c);
    c->kind = E_OPEN;
    c->msg_root = 1;
    c->hdr_open = 1;
    return MW_OK;
}

MW_API int mw_mime_builder_message_end(mw_mime_builder *b)
{
    bframe *f = b ? btop(b) : NULL;
    if (!f || f->kind != E_MESSAGE || b->done) return MW_ERR_STATE;
    pop(b);
    return MW_OK;
}

MW_API int mw_mime_builder_finish(mw_mime_builder *b)
{
    if (!b) return MW_ERR_INVALID;
    return b->done ? MW_OK : MW_ERR_STATE;
}

MW_API int mw_mime_builder_delivery_status(mw_mime_builder *b, const mw_mime_dsn *dsn)
{
    if (!b) return MW_ERR_INVALID;
    mw_ssize n = mw_mime_dsn_format(dsn, NULL, 0);
    if (n < 0) return (int)n;
    bframe *f = btop(b);
    if (!f || b->done || (f->kind != E_OPEN && f->kind != E_MULTIPART)) return MW_ERR_STATE;
    /* the part's delimiter and header, its body, and part_end's reserve */
    int rc = need(b, (size_t)n + 512);
    if (rc) return rc;
    char *tmp = mw__malloc(&b->mem, (size_t)n ? (size_t)n : 1);
    if (!tmp) return MW_ERR_NOMEM;
    mw_ssize w = mw_mime_dsn_format(dsn, tmp, (size_t)n);
    rc = w < 0 ? (int)w : MW_OK;
    if (!rc)
        rc = mw_mime_builder_part_begin(b, "message/delivery-status", NULL, MW_MIME_CTE_7BIT,
                                        NULL, NULL, NULL, 0);
    if (!rc && !(rc = close_headers(b))) rc = put(b, tmp, (size_t)w);
    mw__free(&b->mem, tmp);
    return rc ? rc : mw_mime_builder_part_end(b);
}

/* ---- bodies ----------------------------------------------------------- */

/* 7bit/8bit: copy, turning bare CR and bare LF into CRLF so the output
 * never holds a lone line-end byte (RFC 2045 §2.7, DESIGN.md rule 2). */
static size_t copy_text(mw_mime_builder *b, const unsigned char *in, size_t n, unsigned char *out,
                        size_t cap, size_t *produced)
{
    size_t i = 0, o = 0;
    while (i < n && o + 2 <= cap) {
        unsigned char c = in[i];
        if (b->prev_cr) {
            b->prev_cr = 0;
            if (c == '\n') {
                out[o++] = '\n';
                i++;
                continue;
            }
            out[o++] = '\n'; /* bare CR: complete it */
            continue;
        }
        if (c == '\r') {
            out[o++] = '\r';
            b->prev_cr = 1;
        } else if (c == '\n') {
            out[o++] = '\r';
            out[o++] = '\n';
        } else {
            out[o++] = c;
        }
        i++;
    }
    *produced = o;
    return i;
}

/* Encode as much of in as fits below the soft limit; finish flushes. */
static mw_ssize encode(mw_mime_builder *b, const unsigned char *in, size_t n, int finish)
{
    static const unsigned char empty[1];
    if (!in) in = empty; /* no arithmetic on NULL */
    bframe *f = btop(b);
    size_t taken = 0;
    for (;;) {
        size_t pending = mw__outq_len(&b->q);
        size_t room = pending < b->soft ? b->soft - pending : 0;
        if (finish && room < 128) room = 128; /* final bytes are few; HARD_EXTRA covers them */
        if (room < 8) break;
        size_t got;
        unsigned char *o = mw__outq_reserve(&b->q, room, &got);
        if (!o) return taken ? (mw_ssize)taken : MW_ERR_NOMEM;
        if (got > room) got = room;
        size_t produced = 0, used = 0;
        int done = 0;
        if (f->cte == MW_MIME_CTE_BASE64 || f->cte == MW_MIME_CTE_QP) {
            b->codec.next_in = in + taken;
            b->codec.avail_in = n - taken;
            size_t given = b->codec.avail_in;
            b->codec.next_out = o;
            b->codec.avail_out = got;
            int rc = f->cte == MW_MIME_CTE_BASE64 ? mw_b64_encode_step(&b->codec, finish)
                                                  : mw_qp_encode_step(&b->codec, finish);
            if (rc < 0) return rc;
            used = given - b->codec.avail_in;
            produced = got - b->codec.avail_out;
            done = rc == MW_CODEC_DONE;
        } else if (f->cte == MW_MIME_CTE_BINARY) {
            used = n - taken < got ? n - taken : got;
            if (used) memcpy(o, in + taken, used);
            produced = used;
            done = finish;
        } else {
            used = copy_text(b, in + taken, n - taken, o, got, &produced);
            if (finish && b->prev_cr && produced + 1 <= got) {
                o[produced++] = '\n';
                b->prev_cr = 0;
            }
            done = finish && !b->prev_cr;
        }
        mw__outq_commit(&b->q, produced);
        taken += used;
        if (finish ? done : taken == n) break;
        if (!used && !produced) break;
    }
    return (mw_ssize)taken;
}

MW_API mw_ssize mw_mime_builder_write(mw_mime_builder *b, const void *data, size_t len)
{
    if (!b || (!data && len)) return MW_ERR_INVALID;
    bframe *f = btop(b);
    if (!f || f->kind != E_LEAF || b->done) return MW_ERR_STATE;
    if (f->hdr_open) {
        if (need(b, 2)) return 0;
        int rc = close_headers(b);
        if (rc) return rc;
    }
    if (len == 0) return 0;
    return encode(b, data, len, 0);
}

MW_API int mw_mime_builder_part_end(mw_mime_builder *b)
{
    bframe *f = b ? btop(b) : NULL;
    if (!f || f->kind != E_LEAF || b->done) return MW_ERR_STATE;
    int rc = need(b, 256);
    if (rc) return rc;
    if ((rc = close_headers(b))) return rc;
    mw_ssize r = encode(b, NULL, 0, 1);
    if (r < 0) return (int)r;
    pop(b);
    return MW_OK;
}
