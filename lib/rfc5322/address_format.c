/*
 * Mailbox formatter (the builder side of RFC 5322 §3.4): quoting, RFC 2047
 * encoding of display names, and refusal of anything that would inject a
 * line end into a header.
 *
 * SPDX-License-Identifier: MIT
 */
#include "rfc5322/rfc5322_internal.h"

#include <mailwire/codec.h>

typedef struct wbuf {
    char *p;
    size_t len, cap;
    int full;
} wbuf;

static void wput(wbuf *w, const char *s, size_t n)
{
    if (n > w->cap - w->len) {
        w->full = 1;
        return;
    }
    memcpy(w->p + w->len, s, n);
    w->len += n;
}

static void wputc(wbuf *w, char c)
{
    wput(w, &c, 1);
}

/* Reject CR, LF and NUL (header injection) and invalid UTF-8; report
 * whether there is non-ASCII and whether there are other controls. */
static int scan_text(const char *s, size_t n, int *non_ascii, int *ctl)
{
    *non_ascii = *ctl = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' || c == '\n' || c == 0) return MW_ERR_SYNTAX;
        if (c >= 0x80) {
            size_t u = mw__utf8_len((const unsigned char *)s + i, n - i);
            if (!u) return MW_ERR_SYNTAX;
            *non_ascii = 1;
            i += u - 1;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *ctl = 1;
        }
    }
    return MW_OK;
}

static int is_atext_or_utf8(unsigned char c, int utf8)
{
    return mw__is(c, MW__C_ATEXT) || (utf8 && c >= 0x80);
}

/* Runs of atext separated by single sep characters, none empty; UTF-8
 * counts as atext when allowed (RFC 6532 §3.2). */
static int atext_runs(const char *s, size_t n, int utf8, char sep)
{
    int after = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)sep) {
            if (!after) return 0;
            after = 0;
        } else if (is_atext_or_utf8(c, utf8)) {
            after = 1;
        } else {
            return 0;
        }
    }
    return after;
}

/* dot-atom-text (RFC 5322 §3.2.3). */
static int dot_atom(const char *s, size_t n, int utf8)
{
    return atext_runs(s, n, utf8, '.');
}

/* Atoms separated by single spaces: safe to write unquoted as a phrase. */
static int plain_phrase(const char *s, size_t n, int utf8)
{
    return atext_runs(s, n, utf8, ' ');
}

static void put_quoted(wbuf *w, const char *s, size_t n)
{
    wputc(w, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\') wputc(w, '\\');
        wputc(w, s[i]);
    }
    wputc(w, '"');
}

static int has_encoded_word_start(const char *s, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++)
        if (s[i] == '=' && s[i + 1] == '?') return 1;
    return 0;
}

static int domain_ok(const char *d, size_t n, int utf8)
{
    if (n >= 2 && d[0] == '[' && d[n - 1] == ']') {
        for (size_t i = 1; i + 1 < n; i++)
            if (!mw__is((unsigned char)d[i], MW__C_DTEXT)) return 0;
        return 1;
    }
    return dot_atom(d, n, utf8);
}

static int put_display(wbuf *w, const char *d, size_t n, int utf8)
{
    int non_ascii, ctl;
    int rc = scan_text(d, n, &non_ascii, &ctl);
    if (rc) return rc;
    /* Text that a reader would take for an encoded word is encoded itself,
     * so it comes back exactly as given. */
    if ((non_ascii && !utf8) || ctl || has_encoded_word_start(d, n)) {
        mw_ssize got = mw_2047_encode(d, n, 0, w->p + w->len, w->cap - w->len, MW_2047_PHRASE);
        if (got == MW_ERR_BUFFER) {
            w->full = 1;
            return MW_OK;
        }
        if (got < 0) return (int)got;
        w->len += (size_t)got;
    } else if (plain_phrase(d, n, utf8)) {
        wput(w, d, n);
    } else {
        put_quoted(w, d, n);
    }
    return MW_OK;
}

mw_ssize mw_addr_format(const char *display, size_t display_len, const char *local,
                        size_t local_len, const char *domain, size_t domain_len, unsigned flags,
                        char *out, size_t cap)
{
    if ((!display && display_len) || (!local && local_len) || (!domain && domain_len) ||
        (!out && cap) || (flags & ~MW_ADDR_FMT_UTF8))
        return MW_ERR_INVALID;
    int utf8 = (flags & MW_ADDR_FMT_UTF8) != 0, non_ascii, ctl;
    int rc = scan_text(local, local_len, &non_ascii, &ctl);
    if (rc) return rc;
    if (local_len == 0 || ctl || (non_ascii && !utf8)) return MW_ERR_SYNTAX;
    rc = scan_text(domain, domain_len, &non_ascii, &ctl);
    if (rc) return rc;
    if (!domain_ok(domain, domain_len, utf8)) return MW_ERR_SYNTAX;
    wbuf w = {out, 0, cap ? cap - 1 : 0, cap == 0}; /* keep room for the NUL */
    if (display_len) {
        rc = put_display(&w, display, display_len, utf8);
        if (rc) return rc;
        wput(&w, " <", 2);
    }
    if (dot_atom(local, local_len, utf8))
        wput(&w, local, local_len);
    else
        put_quoted(&w, local, local_len);
    wputc(&w, '@');
    wput(&w, domain, domain_len);
    if (display_len) wputc(&w, '>');
    if (w.full) return MW_ERR_BUFFER;
    out[w.len] = 0;
    return (mw_ssize)w.len;
}
